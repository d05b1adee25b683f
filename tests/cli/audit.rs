//! The audit log: one line per attempt (handed over or refused) from every credential command,
//! never a secret, whole lines under parallel runs, a private file; and `log` to read it.

use super::*;
use serde_json::Value;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

/// A moto env whose audit log goes to a directory of its own (set explicitly: the platform's
/// state directory is not under `XDG_STATE_HOME` on macOS and Windows).
fn audit_env() -> TestEnv {
    let mut env = TestEnv::with_moto();
    let dir = env.dir.path().join("audit-state");
    env.set("ASSUME_ROLE_STATE_DIR", &dir.to_string_lossy());
    env
}

fn state_dir(env: &TestEnv) -> PathBuf {
    PathBuf::from(&env.vars["ASSUME_ROLE_STATE_DIR"])
}

fn log_path(env: &TestEnv) -> PathBuf {
    state_dir(env).join("audit.jsonl")
}

fn log_text(env: &TestEnv) -> String {
    std::fs::read_to_string(log_path(env)).unwrap_or_default()
}

fn log_records(env: &TestEnv) -> Vec<Value> {
    log_text(env)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l:?}: {e}")))
        .collect()
}

/// A role profile with a session name of its own, and the external ID the role requires.
fn audit_profile(env: &TestEnv, name: &str) {
    let fx = moto();
    env.append_config(&format!(
        "\n[profile {name}]\nrole_arn = {}\nsource_profile = contractor\nexternal_id = {}\nrole_session_name = {name}\nregion = {}\n",
        fx.client_role_arn, fx.client_external_id, fx.region
    ));
}

/// The fields a test can know (not the times), as one string per record.
fn summary(record: &Value) -> String {
    let field = |name: &str| record[name].as_str().unwrap_or("-").to_owned();
    format!(
        "{} {} {} {} {} {}",
        field("profile"),
        field("command"),
        field("program"),
        field("served"),
        field("outcome"),
        field("session_name"),
    )
}

#[test]
fn every_credential_command_logs_one_line_and_no_secret() {
    let fx = moto();
    let env = audit_env();
    audit_profile(&env, "audit-seq");
    let fed = support::Stub::start(
        200,
        "{\"SigninToken\":\"stub-signin-token-audit-0123456789\"}",
    );
    // The stub's token is the console's secret: checked on every run below (stderr and this
    // log), as the harness checks the keys it knows.
    env.register_secret(
        "the console sign-in token from the federation stub",
        "stub-signin-token-audit-0123456789",
    );
    let mut env = env;
    env.set(
        "ASSUME_ROLE_FEDERATION_ENDPOINT",
        &format!("{}/federation", fed.url),
    );

    let cold = env_json(&env, "audit-seq", &[]);
    let warm = env_json(&env, "audit-seq", &[]);
    assert_eq!(cold["AWS_SECRET_ACCESS_KEY"], warm["AWS_SECRET_ACCESS_KEY"]);
    env.run(&["credential-process", "audit-seq"]).ok();
    env.run(&[
        "exec",
        "audit-seq",
        "--",
        "sh",
        "-c",
        "true # an-argument-that-is-never-logged",
    ])
    .ok();
    let denied = env.run(&["env", "same-wrong-ext"]);
    assert_eq!(denied.code(), Some(5), "{}", denied.stderr());
    let unknown = env.run(&["env", "no-such-profile"]);
    assert_eq!(unknown.code(), Some(3), "{}", unknown.stderr());
    env.run(&["console", "audit-seq", "--print"]).ok();
    // Switched off: nothing is written.
    env.set("ASSUME_ROLE_AUDIT", "0");
    env_json(&env, "audit-seq", &[]);
    env.remove("ASSUME_ROLE_AUDIT");

    let records = log_records(&env);
    let summaries: Vec<String> = records.iter().map(summary).collect();
    assert_eq!(
        summaries,
        [
            "audit-seq env - sts ok audit-seq",
            "audit-seq env - cache ok audit-seq",
            "audit-seq credential-process - cache ok audit-seq",
            "audit-seq exec sh cache ok audit-seq",
            "same-wrong-ext env - - denied tester",
            "no-such-profile env - - config-error -",
            "audit-seq console - cache ok audit-seq",
        ]
    );
    let account = fx.client_role_arn.split(':').nth(4).unwrap();
    for record in records.iter().filter(|r| r["outcome"] == "ok") {
        assert_eq!(record["role_arn"], fx.client_role_arn.as_str());
        assert_eq!(record["account"], account);
        assert_eq!(
            record["expires"],
            cold["AWS_CREDENTIAL_EXPIRATION"].as_str()
        );
        assert!(record["error"].is_null());
        assert!(record["time"].as_str().unwrap().ends_with('Z'), "{record}");
    }
    // The refusal names its role and says why; the unknown profile has no role to name.
    assert_eq!(records[4]["role_arn"], fx.same_account_role_arn.as_str());
    assert!(records[4]["expires"].is_null());
    let why = records[4]["error"].as_str().unwrap();
    assert!(why.contains("AccessDenied"), "{why}");
    assert!(records[5]["role_arn"].is_null());
    assert!(
        records[5]["error"]
            .as_str()
            .unwrap()
            .contains("no-such-profile")
    );

    let text = log_text(&env);
    for secret in [
        cold["AWS_ACCESS_KEY_ID"].as_str(),
        cold["AWS_SECRET_ACCESS_KEY"].as_str(),
        cold["AWS_SESSION_TOKEN"].as_str(),
        fx.contractor.access_key_id.as_str(),
        fx.contractor.secret_access_key.as_str(),
        fx.client_external_id.as_str(),
        "not-the-right-one",
        "an-argument-that-is-never-logged",
        "stub-signin-token-audit",
    ] {
        assert!(
            !text.contains(secret),
            "{secret} is in the audit log:\n{text}"
        );
    }

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&log_path(&env)), 0o600);
        assert_eq!(mode(&state_dir(&env)), 0o700);
    }
}

#[test]
fn sixteen_parallel_runs_write_sixteen_whole_lines() {
    let env = audit_env();
    audit_profile(&env, "audit-par");
    // Cold once, so that the sixteen are quick and truly overlap.
    env.run(&["credential-process", "audit-par"]).ok();
    // All sixteen are started before any is waited for, so that they overlap; their output
    // is kept (a session of a few hundred bytes each, well within a pipe's buffer) and checked
    // as every harness run is.
    let mut children: Vec<_> = (0..16)
        .map(|_| {
            env.bin(&["credential-process", "audit-par"])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for (i, mut child) in children.drain(..).enumerate() {
        let what = format!("parallel run {i} of `credential-process audit-par`");
        support::wait_at_most(&mut child, Duration::from_secs(30), &what);
        let output = child.wait_with_output().unwrap();
        env.check_output(&output, &what);
        assert!(
            output.status.success(),
            "{what}: {:?}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        let session: Value = serde_json::from_slice(&output.stdout)
            .unwrap_or_else(|e| panic!("{what} printed no session: {e}"));
        assert_eq!(session["Version"], 1, "{what}: {session}");
    }
    let text = log_text(&env);
    assert!(text.ends_with('\n'));
    let records = log_records(&env);
    assert_eq!(records.len(), 17, "{text}");
    assert!(
        records[1..]
            .iter()
            .all(|r| summary(r) == "audit-par credential-process - cache ok audit-par"),
        "{text}"
    );
}

#[test]
fn log_shows_a_table_or_the_lines_filtered_by_profile_and_age() {
    let fx = moto();
    let env = audit_env();
    audit_profile(&env, "audit-read");
    env_json(&env, "audit-read", &[]);
    // An old record of another profile, and a line that is not a record.
    let old = SystemTime::now() - Duration::from_hours(240);
    let old_line = format!(
        "{{\"time\":\"{}\",\"profile\":\"audit-old\",\"role_arn\":null,\"account\":null,\"session_name\":null,\"source_identity\":null,\"expires\":null,\"command\":\"env\",\"program\":null,\"served\":null,\"outcome\":\"config-error\",\"error\":\"profile `audit-old` is gone\"}}\n",
        assume_role::credentials::rfc3339(old)
    );
    let mut text = log_text(&env);
    text.push_str(&old_line);
    text.push_str("this is not json\n");
    std::fs::write(log_path(&env), &text).unwrap();

    let run = env.run(&["log", "--json"]);
    let lines: Vec<String> = run.ok().lines().map(str::to_owned).collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(lines[1], old_line.trim_end());
    let skipped = format!("skipping `{}:3`", log_path(&env).display());
    assert!(run.stderr().contains(&skipped), "{}", run.stderr());

    let recent = env.run(&["log", "--json", "--since", "7d"]).ok();
    assert_eq!(recent.lines().count(), 1, "{recent}");
    assert!(recent.contains("\"profile\":\"audit-read\""), "{recent}");
    assert_eq!(env.run(&["log", "--json", "--since", "30m"]).ok(), recent);
    let older = env.run(&["log", "--json", "--since", "11d", "--profile", "audit-old"]);
    assert_eq!(older.ok(), old_line);
    let none = env.run(&["log", "--json", "--profile", "audit-nobody"]);
    assert_eq!(none.ok(), "");
    assert!(
        none.stderr()
            .contains("no audit records for profile `audit-nobody`"),
        "{}",
        none.stderr()
    );
    let bad = env.run(&["log", "--since", "yesterday"]);
    assert_eq!(bad.code(), Some(2));
    assert!(bad.stderr().contains("is not an age"), "{}", bad.stderr());

    let table = env.run(&["log"]).ok();
    let rows: Vec<&str> = table.lines().collect();
    assert_eq!(rows.len(), 3, "{table}");
    for column in [
        "TIME (UTC)",
        "WHO",
        "ROLE",
        "ACCOUNT",
        "VALID UNTIL (UTC)",
        "FROM",
        "OUTCOME",
    ] {
        assert!(rows[0].contains(column), "{table}");
    }
    let account = fx.client_role_arn.split(':').nth(4).unwrap();
    for cell in [
        "audit-read",
        fx.client_role_arn.as_str(),
        account,
        "(1h)",
        " env ",
        " sts ",
        " ok",
    ] {
        assert!(rows[1].contains(cell), "{cell} missing from:\n{table}");
    }
    assert!(rows[2].contains("config-error"), "{table}");
    assert!(rows[2].contains("profile `audit-old` is gone"), "{table}");
    let only = env.run(&["log", "--profile", "audit-read"]).ok();
    assert_eq!(only.lines().count(), 2, "{only}");
}

/// A symlink planted where the log goes must not turn our append into a write elsewhere (the
/// user's `~/.bashrc`, say), and a log directory others can write is not ours to trust: its
/// lines could be forged. Both are refused, with a warning, and the command still works.
#[cfg(unix)]
#[test]
fn a_planted_symlink_or_an_open_log_directory_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let env = audit_env();
    let dir = state_dir(&env);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    let bashrc = env.dir.path().join("bashrc");
    std::fs::write(&bashrc, "# mine\n").unwrap();
    std::os::unix::fs::symlink(&bashrc, log_path(&env)).unwrap();
    let run = env.run(&["env", "client-nomfa"]);
    assert!(run.output.status.success(), "{}", run.stderr());
    assert!(
        run.stderr().contains("cannot write the audit log"),
        "{}",
        run.stderr()
    );
    assert_eq!(std::fs::read_to_string(&bashrc).unwrap(), "# mine\n");

    std::fs::remove_file(log_path(&env)).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    let run = env.run(&["env", "client-nomfa"]);
    assert!(run.output.status.success(), "{}", run.stderr());
    assert!(
        run.stderr().contains("writable by others"),
        "{}",
        run.stderr()
    );
    assert!(!log_path(&env).exists());
    let run = env.run(&["log"]);
    assert_ne!(run.code(), Some(0), "{}", run.stderr());
    assert!(
        run.stderr().contains("writable by others"),
        "{}",
        run.stderr()
    );
}
