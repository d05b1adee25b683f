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

/// What the harness reports for `script` run by `sh` in `env`, or `None` if the run passed.
#[cfg(unix)]
fn report_for(env: &TestEnv, script: &str) -> Option<String> {
    let mut cmd = env.command("sh");
    cmd.args(["-c", script]);
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        env.run_command(cmd);
    }))
    .err()
    .map(|payload| {
        payload
            .downcast_ref::<String>()
            .cloned()
            .unwrap_or_default()
    })
}

/// Asserts that the harness fails `script`, naming `kind`; returns its report.
#[cfg(unix)]
#[track_caller]
fn caught(env: &TestEnv, script: &str, kind: &str) -> String {
    let report = report_for(env, script).unwrap_or_else(|| panic!("not caught: {script}"));
    assert!(report.contains(kind), "{script}:\n{report}");
    report
}

/// Asserts that the harness lets `script` pass.
#[cfg(unix)]
#[track_caller]
fn passes(env: &TestEnv, script: &str) {
    if let Some(report) = report_for(env, script) {
        panic!("a false alarm for {script}:\n{report}");
    }
}

/// MFA codes fail a run wherever the harness learned of them: passed with the flag (in a
/// script, as here, or as arguments), printed by a constant `mfa_process`, or registered by the
/// test. Only the code as a number of its own counts, and not in the example of the tool's hint.
#[cfg(unix)]
#[test]
fn the_harness_fails_a_run_that_shows_an_mfa_code() {
    let env = TestEnv::new();
    let report = caught(
        &env,
        "echo 'code 271828 refused' >&2 # --mfa-token 271828",
        "an MFA code passed with `--mfa-token`",
    );
    assert!(!report.contains("271828 refused"), "{report}");
    passes(&env, "echo 'account 2718281828' >&2 # --mfa-token 271828");
    env.write_config("[profile p]\nmfa_process = echo 123 457\n");
    caught(
        &env,
        "echo 'the code was 123457' >&2",
        "an MFA code an `mfa_process` in the config prints",
    );
    env.write_config("[profile p]\nmfa_process = echo 123456\n");
    passes(
        &env,
        "echo '  hint: pass the code with `--mfa-token 123456`' >&2",
    );
    caught(
        &env,
        "echo 'sent --mfa-token 123456' >&2",
        "an MFA code an `mfa_process` in the config prints",
    );
    env.write_config("");
    env.register_mfa_code("the MFA code typed at the prompt", "864 209");
    caught(
        &env,
        "echo 'typed: 864209' >&2",
        "the MFA code typed at the prompt",
    );
    caught(
        &env,
        "echo 'typed: [56, 54, 52, 50, 48, 57]' >&2",
        "the MFA code typed at the prompt",
    );
}

/// The same for the other secrets that are not AWS keys (the keys file passphrase, the
/// console's sign-in token, the container endpoint's token), for the audit log, and for a
/// panic: each fails the run.
#[cfg(unix)]
#[test]
fn the_harness_fails_a_run_that_shows_a_passphrase_a_token_or_a_panic() {
    let mut env = TestEnv::new();
    env.set(
        "ASSUME_ROLE_FILE_PASSPHRASE",
        "correct horse battery staple",
    );
    let report = caught(
        &env,
        "echo \"wrong: ${ASSUME_ROLE_FILE_PASSPHRASE#??}\" >&2",
        "`ASSUME_ROLE_FILE_PASSPHRASE` in the run's environment",
    );
    assert!(!report.contains("horse battery"), "{report}");

    // Tokens a stub or a child hands over: registered, or read from the run's stdout.
    let env = TestEnv::new();
    env.register_secret(
        "the console sign-in token from the federation stub",
        "stub-signin-token-0123456789abcdef",
    );
    caught(
        &env,
        "echo 'got stub-signin-token-0123456789' >&2",
        "the console sign-in token from the federation stub",
    );
    let env = TestEnv::new();
    caught(
        &env,
        "echo 'https://signin/federation?Action=login&SigninToken=a%2Bsignin%2Ftoken0123456789&Issuer=x'; echo 'token a+signin/token0123456789' >&2",
        "`SigninToken` from the run's stdout",
    );
    caught(
        &env,
        "echo 'AWS_CONTAINER_AUTHORIZATION_TOKEN=0123456789abcdef0123456789abcdef'; echo 'auth 0123456789abcdef0123456789abcdef' >&2",
        "`AWS_CONTAINER_AUTHORIZATION_TOKEN` from the run's stdout",
    );

    // The audit log is held to the same check after every run.
    let mut env = TestEnv::new();
    let state = env.dir.path().join("state");
    std::fs::create_dir_all(&state).unwrap();
    env.set("ASSUME_ROLE_STATE_DIR", state.to_str().unwrap())
        .set(
            "ASSUME_ROLE_FILE_PASSPHRASE",
            "correct horse battery staple",
        );
    caught(
        &env,
        "echo \"{\\\"error\\\":\\\"$ASSUME_ROLE_FILE_PASSPHRASE\\\"}\" >> \"$ASSUME_ROLE_STATE_DIR/audit.jsonl\"",
        "in the audit log",
    );

    // A panic, or the note that comes with one, fails the run whatever its exit code.
    let env = TestEnv::new();
    for line in [
        "thread main panicked at src/main.rs:1:1:",
        "note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace",
    ] {
        caught(&env, &format!("echo '{line}' >&2"), "saw a panic");
    }
}
