//! Secrets never reach stderr, whatever the verbosity and whatever fails.

use super::*;

#[test]
fn no_secret_reaches_stderr_even_at_the_highest_verbosity() {
    let env = TestEnv::with_moto();
    let fx = moto();
    let run = env.run(&["-vvv", "env", "second", "--format", "json"]);
    let stdout = run.ok();
    let vars: BTreeMap<String, String> = serde_json::from_str(&stdout).unwrap();
    let stderr = run.stderr();
    assert!(
        stderr.contains("AssumeRole"),
        "verbose output expected: {stderr}"
    );
    for secret in [
        fx.contractor.secret_access_key.as_str(),
        vars["AWS_SECRET_ACCESS_KEY"].as_str(),
        vars["AWS_SESSION_TOKEN"].as_str(),
        &vars["AWS_SESSION_TOKEN"][..40],
    ] {
        assert!(!stderr.contains(secret), "secret on stderr:\n{stderr}");
    }
    for key in [
        fx.contractor.access_key_id.as_str(),
        vars["AWS_ACCESS_KEY_ID"].as_str(),
    ] {
        assert!(!stderr.contains(key), "unmasked access key {key} on stderr");
    }
    // -v also works after the subcommand.
    let run = env.run(&["env", "client-nomfa", "--no-cache", "-v"]);
    assert!(run.stderr().contains("AssumeRole"), "{}", run.stderr());
}

#[test]
fn no_secret_reaches_stderr_on_failures_either() {
    let env = TestEnv::with_moto();
    let fx = moto();
    env.append_config(&format!(
        "\n[profile seeded]\nrole_arn = {}\nsource_profile = contractor\nmfa_serial = {}\nmfa_process = oathtool --totp -b JBSWY3DPEHPK3PXP\nduration_seconds = 7200\nrole_session_name = seeded\n",
        fx.client_role_arn, fx.mfa_serial
    ));
    for args in [
        &["-vvv", "env", "same-wrong-ext"][..],
        &["-vvv", "env", "seeded"],
        &["-vvv", "env", "seeded", "--mfa-token", "123456"],
    ] {
        let run = env.run(args);
        let stderr = run.stderr();
        for secret in [
            fx.contractor.secret_access_key.as_str(),
            fx.contractor.access_key_id.as_str(),
            "JBSWY3DPEHPK3PXP",
            "123456",
        ] {
            assert!(
                !stderr.contains(secret),
                "{args:?} leaked {secret}:\n{stderr}"
            );
        }
    }
}

/// The harness's own check (every run's stderr, `support::leaks`) catches what it should, and
/// its report never quotes the secret it found.
#[cfg(unix)]
#[test]
fn the_harness_fails_a_run_that_leaks_and_masks_the_secret_in_its_report() {
    let secret = "hArNeSsSeCrEt0123456789abcdefghijklmnopq";
    let key = "AKIAHARNESSTEST00001";
    let report = |script: &str| {
        let mut env = TestEnv::new();
        env.set("AWS_SECRET_ACCESS_KEY", secret)
            .set("AWS_ACCESS_KEY_ID", key);
        let mut cmd = env.command("sh");
        cmd.args(["-c", script]);
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            env.run_command(cmd);
        }));
        let payload = caught.expect_err("the harness let a leak through");
        payload
            .downcast_ref::<String>()
            .cloned()
            .unwrap_or_default()
    };
    // The whole secret, a slice of it, and a key ID: each fails the run.
    for (script, kind) in [
        (
            "echo \"oops: $AWS_SECRET_ACCESS_KEY\" >&2",
            "`AWS_SECRET_ACCESS_KEY` in the run's environment",
        ),
        (
            "echo \"cut: ${AWS_SECRET_ACCESS_KEY#?????}\" >&2",
            "`AWS_SECRET_ACCESS_KEY` in the run's environment",
        ),
        (
            "echo \"key $AWS_ACCESS_KEY_ID\" >&2",
            "`AWS_ACCESS_KEY_ID` in the run's environment",
        ),
    ] {
        let report = report(script);
        assert!(report.contains(kind), "{report}");
        assert!(
            !report.contains(&secret[..20])
                && !report.contains(&secret[20..])
                && !report.contains(key),
            "{report}"
        );
    }
    // A key ID nobody told the harness about is caught by its shape; a masked one passes.
    let report = report("echo 'ASIAUNKNOWNTOHARNESS' >&2");
    assert!(report.contains("an access key ID, unmasked"), "{report}");
    let env = TestEnv::new();
    let mut cmd = env.command("sh");
    cmd.args(["-c", "echo 'AKIA************0001' >&2"]);
    env.run_command(cmd);
}
