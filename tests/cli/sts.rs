//! STS calls against moto and the loopback stub: what is sent, and what each refusal or failure says.

use super::*;

#[test]
fn a_wrong_external_id_is_access_denied_with_hints() {
    let env = TestEnv::with_moto();
    let run = env.run(&["env", "same-wrong-ext"]);
    assert_eq!(run.code(), Some(5), "{}", run.stderr());
    assert_eq!(run.stdout(), "");
    let stderr = run.stderr();
    assert!(stderr.contains("STS refused the request to assume `arn:aws:iam::111111111111:role/same-account-ext` for profile `same-wrong-ext`: AccessDenied"), "{stderr}");
    assert!(stderr.contains("external ID is case-sensitive"), "{stderr}");
    assert!(stderr.contains("`sts:AssumeRole`"), "{stderr}");

    // The right one works, so it really was the external ID.
    let vars = env_json(&env, "same", &[]);
    assert_eq!(vars["AWS_ACCOUNT_ID"], "111111111111");
}

#[test]
fn an_identity_without_permission_is_denied_and_pointed_at_its_policy() {
    let env = TestEnv::with_moto();
    let run = env.run(&["credential-process", "outsider-client"]);
    assert_eq!(run.code(), Some(5));
    assert_eq!(run.stdout(), "");
    assert!(run.stderr().contains("AccessDenied"), "{}", run.stderr());
    assert!(
        run.stderr()
            .contains("profile `outsider` needs an IAM policy allowing `sts:AssumeRole`"),
        "{}",
        run.stderr()
    );
}

#[test]
fn wrong_source_keys_are_named_as_such() {
    let env = TestEnv::with_moto();
    let fx = moto();
    env.write_credentials(&format!(
        "[contractor]\naws_access_key_id = {}\naws_secret_access_key = wrong-secret\n",
        fx.contractor.access_key_id
    ));
    let run = env.run(&["env", "client-nomfa"]);
    assert_eq!(run.code(), Some(5));
    assert!(
        run.stderr().contains("SignatureDoesNotMatch"),
        "{}",
        run.stderr()
    );
    assert!(
        run.stderr()
            .contains("source access keys of profile `contractor` are wrong or deactivated"),
        "{}",
        run.stderr()
    );
    assert!(!run.stderr().contains("wrong-secret"));
}

#[test]
fn a_two_hop_chain_works() {
    let env = TestEnv::with_moto();
    let mut cmd = env.bin(&["exec", "second", "--"]);
    cmd.arg(venv_bin("aws")).args([
        "sts",
        "get-caller-identity",
        "--query",
        "Arn",
        "--output",
        "text",
    ]);
    let out = env.run_command(cmd);
    assert_eq!(
        out.ok().trim(),
        "arn:aws:sts::222222222222:assumed-role/client-second/tester"
    );
}

#[test]
fn the_parameters_sent_are_the_ones_configured() {
    let env = TestEnv::with_moto();
    let fx = moto();
    env.append_config(&format!(
        "\n[profile params]\nrole_arn = {}\nsource_profile = contractor\nexternal_id = {}\nmfa_serial = {}\nduration_seconds = 7200\nrole_session_name = params-from-config\nsource_identity = alice@contractor\n",
        fx.client_role_arn, fx.client_external_id, fx.mfa_serial
    ));
    env_json(&env, "params", &["--mfa-token", "246810"]);
    let sent = recorded_assume_roles("params-from-config");
    assert_eq!(sent.len(), 1, "{sent:?}");
    let p = &sent[0].params;
    assert_eq!(p["RoleArn"], fx.client_role_arn);
    assert_eq!(p["ExternalId"], fx.client_external_id);
    assert_eq!(p["SerialNumber"], fx.mfa_serial);
    assert_eq!(p["TokenCode"], "246810");
    assert_eq!(p["DurationSeconds"], "7200");
    assert_eq!(p["SourceIdentity"], "alice@contractor");

    // Flags win over the profile.
    env_json(
        &env,
        "params",
        &[
            "--mfa-token",
            "135790",
            "--duration",
            "1h30m",
            "--session-name",
            "params-from-flag",
            "--external-id",
            "flag-ext",
        ],
    );
    let sent = recorded_assume_roles("params-from-flag");
    assert_eq!(sent.len(), 1, "{sent:?}");
    let p = &sent[0].params;
    assert_eq!(p["TokenCode"], "135790");
    assert_eq!(p["DurationSeconds"], "5400");
    assert_eq!(p["ExternalId"], "flag-ext");

    // mfa_process supplies the code when no flag does; no MFA means no MFA parameters.
    env.append_config(&format!(
        "\n[profile params-process]\nrole_arn = {}\nsource_profile = contractor\nmfa_serial = {}\nmfa_process = printf ' 864209\\n'\nduration_seconds = 7200\nrole_session_name = params-process\n",
        fx.client_role_arn, fx.mfa_serial
    ));
    env_json(&env, "params-process", &[]);
    let p = &recorded_assume_roles("params-process")[0].params;
    assert_eq!(p["TokenCode"], "864209");
    assert!(!p.contains_key("ExternalId"), "{p:?}");
}

#[test]
fn a_chained_hop_over_an_hour_is_refused_before_any_call() {
    let env = TestEnv::with_moto();
    let run = env.run(&["env", "second", "--duration", "2h"]);
    assert_eq!(run.code(), Some(3));
    assert!(
        run.stderr().contains("longer than the 1h AWS allows"),
        "{}",
        run.stderr()
    );
    assert_eq!(run.stdout(), "");
}

#[test]
fn an_unreachable_endpoint_is_named() {
    let mut env = TestEnv::with_moto();
    env.set("AWS_ENDPOINT_URL", "http://127.0.0.1:9");
    let run = env.run(&["env", "client-nomfa"]);
    assert_eq!(run.code(), Some(6));
    assert!(
        run.stderr()
            .contains("cannot reach STS at `http://127.0.0.1:9`"),
        "{}",
        run.stderr()
    );
}

#[test]
fn sts_endpoint_overrides_apply_in_their_documented_order() {
    // AWS_ENDPOINT_URL_STS beats AWS_ENDPOINT_URL: a dead generic endpoint is never used.
    let mut env = TestEnv::with_moto();
    env.set("AWS_ENDPOINT_URL", "http://127.0.0.1:9");
    env.set("AWS_ENDPOINT_URL_STS", &moto().proxy);
    env_json(&env, "client-nomfa", &[]);
    // A profile's endpoint_url applies when no variable is set.
    let mut env = TestEnv::with_moto();
    env.remove("AWS_ENDPOINT_URL");
    env.append_config(&format!("\n[profile client-endpoint]\nrole_arn = {}\nsource_profile = contractor\nexternal_id = x1\nendpoint_url = {}\n", moto().client_role_arn, moto().proxy));
    env_json(&env, "client-endpoint", &[]);
}

#[test]
fn an_unreachable_service_specific_endpoint_is_the_one_named() {
    let mut env = TestEnv::with_moto();
    env.set("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:9");
    let run = env.run(&["env", "client-nomfa"]);
    assert_eq!(run.code(), Some(6));
    assert!(
        run.stderr()
            .contains("cannot reach STS at `http://127.0.0.1:9`"),
        "{}",
        run.stderr()
    );
}

#[test]
fn nothing_probes_instance_metadata_unless_a_profile_asks() {
    let mut env = TestEnv::with_moto();
    // Point IMDS at the recording proxy and allow it: any probe would be recorded.
    env.remove("AWS_EC2_METADATA_DISABLED");
    env.set("AWS_EC2_METADATA_SERVICE_ENDPOINT", &moto().proxy);
    env.remove("AWS_REGION");
    env.append_config(&format!(
        "\n[profile no-region]\nrole_arn = {}\nsource_profile = contractor\nexternal_id = x1\nrole_session_name = no-imds\n",
        moto().client_role_arn
    ));
    let vars = env_json(&env, "no-region", &[]);
    assert_eq!(vars["AWS_REGION"], "us-east-1");
    assert_eq!(recorded_assume_roles("no-imds").len(), 1);
    let probes: Vec<_> = support::recorded_all()
        .into_iter()
        .filter(|r| r.path.starts_with("/latest"))
        .collect();
    assert!(probes.is_empty(), "IMDS was probed: {probes:?}");
}

#[test]
fn a_duration_over_the_roles_maximum_says_so() {
    let stub = support::Stub::start(
        400,
        "<ErrorResponse><Error><Type>Sender</Type><Code>ValidationError</Code><Message>The requested DurationSeconds exceeds the MaxSessionDuration set for this role.</Message></Error></ErrorResponse>",
    );
    let env = stub_env(&stub);
    let run = env.run(&["env", "client-nomfa", "--duration", "12h"]);
    assert_eq!(run.code(), Some(5));
    assert!(
        run.stderr().contains("MaxSessionDuration"),
        "{}",
        run.stderr()
    );
}

#[test]
fn an_answer_that_is_not_sts_is_named_and_its_body_never_printed() {
    let stub = support::Stub::start(
        200,
        "<html>proxy login page; SecretAccessKey=leakedsecret123</html>",
    );
    let env = stub_env(&stub);
    let run = env.run(&["-vvv", "env", "client-nomfa"]);
    assert_eq!(run.code(), Some(6), "{}", run.stderr());
    assert!(
        run.stderr()
            .contains(&format!("unexpected answer from STS at {}", stub.url)),
        "{}",
        run.stderr()
    );
    assert!(
        !run.stderr().contains("leakedsecret123"),
        "{}",
        run.stderr()
    );
}

#[test]
fn a_silent_endpoint_fails_in_bounded_time() {
    let stub = support::Stub::start(0, "");
    let env = stub_env(&stub);
    let run = env.run(&["env", "client-nomfa"]);
    assert_eq!(run.code(), Some(6), "{}", run.stderr());
    assert!(
        run.stderr()
            .contains(&format!("cannot reach STS at `{}`", stub.url)),
        "{}",
        run.stderr()
    );
    assert!(
        run.elapsed < std::time::Duration::from_secs(20),
        "{:?}",
        run.elapsed
    );
}
