//! `assume-role doctor`: the plan explained hop by hop without the network, every problem it can
//! see named with its fix and a non-zero exit, and `--live` against moto.

use super::transcripts::assert_transcript;
use super::*;
use std::time::Duration;

const CHAIN_CONFIG: &str = "[profile contractor]
region = eu-west-1

[profile client]
role_arn = arn:aws:iam::222222222222:role/client-admin
source_profile = contractor
external_id = Acme-Ext-7f3a9c21
mfa_serial = arn:aws:iam::111111111111:mfa/contractor
mfa_process = echo 123456

[profile deep]
role_arn = arn:aws:iam::333333333333:role/deep
source_profile = client
role_session_name = alice
duration_seconds = 3600
";

const KEYS: &str = "[contractor]
aws_access_key_id = AKIAIOSFODNN7EXAMPLE
aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
";

/// Makes the AWS files private, as `aws configure` leaves them: `doctor` names readable ones.
fn private(env: &TestEnv) {
    #[cfg(unix)]
    for var in ["AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"] {
        use std::os::unix::fs::PermissionsExt;
        let path = &env.vars[var];
        if std::path::Path::new(path).exists() {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
    }
}

/// An offline env with `config` and the contractor's keys, both files private.
fn offline_env(config: &str) -> TestEnv {
    let env = TestEnv::new();
    env.write_config(config);
    env.write_credentials(KEYS);
    private(&env);
    env
}

#[test]
fn a_chain_with_mfa_is_explained_hop_by_hop() {
    let env = offline_env(CHAIN_CONFIG);
    assert_transcript(
        &env,
        &env.run(&["doctor", "deep"]),
        0,
        "profile `deep`, offline: nothing is sent and no MFA code is asked (`--live` tries it)

source        keys of profile `contractor`: `aws_access_key_id` at $ROOT/home/.aws/credentials:2
              access key AKIA************MPLE (long-term; its account shows with `--live`)

hop 1         profile `client` at $ROOT/home/.aws/config:4
role          arn:aws:iam::222222222222:role/client-admin, in account 222222222222: `role_arn` at $ROOT/home/.aws/config:5
external ID   set (Ac…21, 17 chars): `external_id` at $ROOT/home/.aws/config:7
MFA           arn:aws:iam::111111111111:mfa/contractor: `mfa_serial` at $ROOT/home/.aws/config:8
MFA code      from `mfa_process` at $ROOT/home/.aws/config:9 (program `echo`)
              it buys an MFA session (GetSessionToken) of 12h (the default); roles with this device are then assumed from it without a code
MFA session   nothing
duration      1h: STS's default (no `duration_seconds`); at most 1h: it is assumed from an MFA session, which AWS counts as role chaining (ask for more and the code goes to AssumeRole itself)
session name  tester: your user name (`USER`), the default
cache         nothing

hop 2         profile `deep` at $ROOT/home/.aws/config:11
role          arn:aws:iam::333333333333:role/deep, in account 333333333333: `role_arn` at $ROOT/home/.aws/config:12
external ID   none
MFA           none
duration      1h: `duration_seconds` at $ROOT/home/.aws/config:15; at most 1h: role chaining, as it is assumed from the session of hop 1
session name  alice: `role_session_name` at $ROOT/home/.aws/config:14
cache         nothing

region        us-east-1: the default, as nothing sets one (`--region`, `region` in the profile, `AWS_REGION`)

no problems found
",
        "",
    );
}

#[test]
fn flags_are_named_as_the_origin_of_what_they_set() {
    let env = offline_env(CHAIN_CONFIG);
    let out = env
        .run(&[
            "doctor",
            "client",
            "--duration",
            "2h",
            "--region",
            "eu-west-2",
            "--session-name",
            "bob",
            "--external-id",
            "other-external-id",
            "--mfa-token",
            "123456",
        ])
        .ok();
    for expected in [
        "duration      2h: `--duration`; at most 12h",
        "region        eu-west-2: `--region`",
        "session name  bob: `--session-name`",
        "external ID   set (ot…id, 17 chars): `--external-id`",
        "MFA code      from `--mfa-token`",
        "it goes to AssumeRole itself: over 1h is asked for",
    ] {
        assert!(out.contains(expected), "{expected}\n{out}");
    }
    assert!(!out.contains("other-external-id"), "{out}");
}

/// Nothing is sent: STS is a stub that counts requests, and it counts none.
#[test]
fn offline_doctor_makes_no_network_call_and_asks_for_no_code() {
    let stub = support::Stub::start(500, "");
    let mut env = offline_env(&format!(
        "{CHAIN_CONFIG}\n[profile prompt]\nrole_arn = arn:aws:iam::222222222222:role/x\nsource_profile = contractor\nmfa_serial = arn:aws:iam::111111111111:mfa/contractor\n"
    ));
    env.set("AWS_ENDPOINT_URL", &stub.url);
    env.set("AWS_ENDPOINT_URL_STS", &stub.url);
    for args in [&["doctor", "deep"][..], &["doctor", "prompt"], &["doctor"]] {
        let run = env.run(args);
        run.ok();
        assert!(run.elapsed < Duration::from_secs(5), "{:?}", run.elapsed);
    }
    assert!(
        env.run(&["doctor", "prompt"])
            .ok()
            .contains("MFA code      from a prompt on the terminal")
    );
    assert_eq!(stub.count(), 0);
}

/// One small config per problem class: its message, its fix, and the exit code a real run
/// would fail with (1 for what a run would not fail on).
#[test]
fn each_problem_class_is_named_with_its_fix_and_a_non_zero_exit() {
    let role = "role_arn = arn:aws:iam::222222222222:role/r";
    let cases: Vec<(&str, String, i32, &[&str])> = vec![
        (
            "missing source",
            format!("[profile p]\n{role}\nsource_profile = nosuch\n"),
            3,
            &[
                "problem: source profile `nosuch` is not in",
                "fix: fix `source_profile` in profile `p`",
            ],
        ),
        (
            "loop",
            format!(
                "[profile p]\n{role}\nsource_profile = q\n\n[profile q]\n{role}\nsource_profile = p\n"
            ),
            3,
            &[
                "problem: profiles form a loop: p → q → p",
                "fix: change `source_profile`",
            ],
        ),
        (
            "invalid value",
            "[profile p]\nrole_arn = arn:aws:iam::22:role/r\nsource_profile = contractor\n".into(),
            3,
            &[
                "problem: `role_arn` in profile `p`: `arn:aws:iam::22:role/r` is not a valid role ARN",
            ],
        ),
        (
            "unreachable duration",
            format!(
                "[profile contractor]\n\n[profile q]\n{role}\nsource_profile = contractor\n\n[profile p]\n{role}\nsource_profile = q\nduration_seconds = 8h\n"
            ),
            3,
            &[
                "problem: `duration_seconds` in profile `p`: a session of 8h is longer than the 1h AWS allows for a role assumed from another role's credentials",
                "fix: ask for 1h or less",
            ],
        ),
        (
            "mfa_process not found",
            format!(
                "[profile p]\n{role}\nsource_profile = contractor\nmfa_serial = arn:aws:iam::111111111111:mfa/me\nmfa_process = no-such-totp-tool --seed JBSWY3DPEHPK3PXP\n"
            ),
            4,
            &[
                "problem: `mfa_process` of profile `p` at $ROOT/home/.aws/config:5: the program `no-such-totp-tool` is not on `PATH`",
                "fix: install `no-such-totp-tool`, or write its full path in `mfa_process`",
            ],
        ),
    ];
    for (class, config, code, expected) in cases {
        let env = offline_env(&config);
        let run = env.run(&["doctor", "p"]);
        let out = run
            .stdout()
            .replace(&env.dir.path().to_string_lossy().into_owned(), "$ROOT");
        assert_eq!(run.code(), Some(code), "{class}\n{out}\n{}", run.stderr());
        for text in expected {
            assert!(out.contains(text), "{class}: {text}\n{out}");
        }
        assert!(!out.contains("JBSWY3DPEHPK3PXP"), "{out}");
    }
}

#[cfg(unix)]
#[test]
fn an_mfa_process_that_is_not_executable_and_loose_files_are_named() {
    use std::os::unix::fs::PermissionsExt;
    let env = TestEnv::new();
    let program = env.home().join("totp");
    std::fs::write(&program, "#!/bin/sh\necho 123456\n").unwrap();
    std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o644)).unwrap();
    env.write_config(&format!(
        "[profile p]\nrole_arn = arn:aws:iam::222222222222:role/r\nsource_profile = contractor\nmfa_serial = arn:aws:iam::111111111111:mfa/me\nmfa_process = {}\n",
        program.display()
    ));
    env.write_credentials(KEYS);
    private(&env);
    let run = env.run(&["doctor", "p"]);
    assert_eq!(run.code(), Some(4), "{}", run.stdout());
    let shown = program.display().to_string();
    assert!(
        run.stdout()
            .contains(&format!("the program `{shown}` is not executable")),
        "{}",
        run.stdout()
    );
    assert!(
        run.stdout()
            .contains(&format!("fix: make it executable: `chmod +x {shown}`"))
    );

    // Executable now; the credentials file readable by others is the one problem left, which a
    // run would not fail on: exit 1.
    std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).unwrap();
    let credentials = &env.vars["AWS_SHARED_CREDENTIALS_FILE"];
    std::fs::set_permissions(credentials, std::fs::Permissions::from_mode(0o644)).unwrap();
    let run = env.run(&["doctor", "p"]);
    assert_eq!(run.code(), Some(1), "{}", run.stdout());
    assert!(
        run.stdout().contains(&format!(
            "problem: `{credentials}` can be read by other users (mode 644)\n  fix: make it private: `chmod 600 {credentials}`"
        )),
        "{}",
        run.stdout()
    );
}

#[test]
fn a_stored_key_older_than_90_days_is_named() {
    let env = TestEnv::new();
    env.write_config(
        "[profile contractor]\n\n[profile p]\nrole_arn = arn:aws:iam::222222222222:role/r\nsource_profile = contractor\n",
    );
    private(&env);
    let created = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        - 100 * 86_400;
    let keys = env.dir.path().join("xdg/data/assume-role/keys");
    std::fs::create_dir_all(&keys).unwrap();
    std::fs::write(
        keys.join("index.json"),
        format!(r#"{{"version":1,"keys":{{"contractor":{{"access_key_id":"AKIAIOSFODNN7EXAMPLE","backend":"file","created":{created}}}}}}}"#),
    )
    .unwrap();
    let run = env.run(&["doctor", "p"]);
    assert_eq!(run.code(), Some(1), "{}", run.stdout());
    let out = run.stdout();
    assert!(
        out.contains("source        the key stored for profile `contractor` by `assume-role keys` (file backend)"),
        "{out}"
    );
    assert!(
        out.contains("problem: the stored key AKIA************MPLE of profile `contractor` is 100 days old (over 90)"),
        "{out}"
    );
    assert!(out.contains("fix: rotate it"), "{out}");
}

#[test]
fn every_profile_gets_one_line() {
    let env = offline_env(
        "[profile contractor]\n\n[profile good]\nrole_arn = arn:aws:iam::222222222222:role/r\nsource_profile = contractor\nmfa_serial = arn:aws:iam::111111111111:mfa/me\n\n[profile loop]\nrole_arn = arn:aws:iam::222222222222:role/r\nsource_profile = loop\n",
    );
    assert_transcript(
        &env,
        &env.run(&["doctor"]),
        1,
        "contractor    ok       static keys of `contractor`, no role
good          ok       1 role from static keys of `contractor`, MFA
loop          problem  profile `loop` names itself as its `source_profile`, but has no keys of its own

3 profiles checked: 2 ok, 1 with problems; `assume-role doctor PROFILE` explains one
",
        "",
    );
}

#[test]
fn live_passes_a_good_profile_and_explains_a_wrong_external_id() {
    let fx = moto();
    let env = TestEnv::with_moto();
    private(&env);
    let run = env.run(&["doctor", "client", "--live"]);
    let out = run.ok();
    for expected in [
        &format!(
            "source        works: {}, account 111111111111",
            fx.contractor.arn
        ),
        &format!("hop 1         assumed {}", fx.client_role_arn),
        "result        arn:aws:sts::222222222222:assumed-role/client-admin/tester, until ",
        "no problems found",
        "profile `client`, the plan, then tried against STS below",
    ] {
        assert!(out.contains(expected), "{expected}\n{out}");
    }
    // A live run sends: its heading must not say that nothing is sent.
    assert!(!out.contains("offline"), "{out}");

    // What the live run made is cached, and the offline report says so.
    let out = env.run(&["doctor", "client"]).ok();
    assert!(out.contains("cache         a role session until "), "{out}");
    assert!(out.contains("left): a run uses it"), "{out}");

    let run = env.run(&["doctor", "same-wrong-ext", "--live"]);
    let out = run.stdout();
    assert_eq!(run.code(), Some(5), "{out}\n{}", run.stderr());
    for expected in [
        "hop 1         failed",
        "problem: STS refused the request to assume `arn:aws:iam::111111111111:role/same-account-ext` for profile `same-wrong-ext`: AccessDenied",
        "fix: the external ID sent, set (no…ne, 17 chars), must equal the `sts:ExternalId` of the role's trust policy exactly: it is case-sensitive",
        "fix: no MFA was used: if the trust policy requires `aws:MultiFactorAuthPresent`",
        &format!(
            "fix: the trust policy's `Principal` must name `{}`",
            fx.contractor.arn
        ),
        "needs a policy of its own allowing `sts:AssumeRole`",
    ] {
        assert!(out.contains(expected), "{expected}\n{out}");
    }
}

/// A misspelled key is ignored by every AWS tool without a word, so the profile quietly runs
/// without its external ID: `doctor` names it with its line and what it meant, and a run warns.
#[test]
fn a_misspelled_key_is_named_with_did_you_mean() {
    let fx = moto();
    let env = TestEnv::with_moto();
    env.append_config(&format!(
        "\n[profile typo]\nrole_arn = {}\nsource_profile = contractor\nexternalid = {}\n",
        fx.client_role_arn, fx.client_external_id
    ));
    let out = env.run(&["doctor", "typo"]).stdout();
    assert!(
        out.contains("`externalid` at ") && out.contains("did you mean `external_id`?"),
        "{out}"
    );
    assert!(out.contains(".aws/config:"), "{out}");
    let run = env.run(&["env", "typo"]);
    assert!(
        run.stderr().contains("did you mean `external_id`?"),
        "{}",
        run.stderr()
    );
}
