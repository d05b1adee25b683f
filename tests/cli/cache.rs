//! The credential cache: one STS call for many runs, private files, locks, keys and healing.

use super::*;
use std::time::Duration;

#[test]
fn one_assume_role_serves_env_env_and_exec_and_no_cache_makes_another() {
    let env = TestEnv::with_moto();
    cache_profile(&env, "cache-three", "");
    let first = env_json(&env, "cache-three", &[]);
    let second = env_json(&env, "cache-three", &[]);
    let run = env.run(&["exec", "cache-three", "--", "env", "-0"]);
    let third = parse_env0(&run.output.stdout);
    assert_eq!(count_assume_roles("cache-three"), 1);
    for vars in [&second, &third] {
        for name in [
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN",
            "AWS_CREDENTIAL_EXPIRATION",
            "AWS_ACCOUNT_ID",
        ] {
            assert_eq!(vars[name], first[name], "{name}");
        }
    }
    let fresh = env_json(&env, "cache-three", &["--no-cache"]);
    assert_eq!(count_assume_roles("cache-three"), 2);
    assert_ne!(fresh["AWS_ACCESS_KEY_ID"], first["AWS_ACCESS_KEY_ID"]);
    // The fresh session replaced the old one in the cache.
    assert_eq!(
        env_json(&env, "cache-three", &[])["AWS_ACCESS_KEY_ID"],
        fresh["AWS_ACCESS_KEY_ID"]
    );
    assert_eq!(count_assume_roles("cache-three"), 2);
}

#[test]
fn sixteen_parallel_cold_runs_make_one_call_and_agree() {
    let env = std::sync::Arc::new(TestEnv::with_moto());
    cache_profile(&env, "cache-sixteen", "");
    let runs: Vec<_> = (0..16)
        .map(|_| {
            let env = env.clone();
            std::thread::spawn(move || env.run(&["credential-process", "cache-sixteen"]).ok())
        })
        .collect();
    let outputs: Vec<String> = runs.into_iter().map(|r| r.join().unwrap()).collect();
    assert_eq!(count_assume_roles("cache-sixteen"), 1);
    assert!(outputs.iter().all(|o| o == &outputs[0]), "{outputs:#?}");
}

#[test]
fn cache_files_are_private_and_hold_no_long_term_secret() {
    let env = TestEnv::with_moto();
    cache_profile(&env, "cache-private", "");
    env_json(&env, "cache-private", &[]);
    env.run(&["list"]).ok();
    let root = env.cache_dir();
    let mut files = 0;
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o700, "{}", dir.display());
        }
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            files += 1;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
                assert_eq!(mode, 0o600, "{}", path.display());
            }
            let text = std::fs::read_to_string(&path).unwrap();
            assert!(
                !text.contains(&moto().contractor.secret_access_key),
                "{} holds the long-term secret",
                path.display()
            );
            assert!(
                !path
                    .file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with(".tmp"),
                "temporary file left: {}",
                path.display()
            );
        }
    }
    assert!(
        files >= 3,
        "expected a session, a plan, a lock and the list index"
    );
}

#[test]
fn a_corrupt_entry_is_ignored_and_replaced() {
    let env = TestEnv::with_moto();
    cache_profile(&env, "cache-corrupt", "");
    env_json(&env, "cache-corrupt", &[]);
    let sessions = env.cache_dir().join("sessions");
    for entry in std::fs::read_dir(&sessions).unwrap() {
        std::fs::write(entry.unwrap().path(), "{\"version\": 1, \"kind\": tru").unwrap();
    }
    let run = env.run(&["env", "cache-corrupt", "--format", "json"]);
    assert!(run.output.status.success(), "{}", run.stderr());
    assert_eq!(count_assume_roles("cache-corrupt"), 2);
    for entry in std::fs::read_dir(&sessions).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        serde_json::from_str::<serde_json::Value>(&text).expect("the entry was rewritten");
    }
}

#[test]
fn cache_list_and_clear() {
    let env = TestEnv::with_moto();
    cache_profile(&env, "cache-a", "");
    cache_profile(&env, "cache-b", "");
    let a = env_json(&env, "cache-a", &[]);
    env_json(&env, "cache-b", &[]);
    let table = env.run(&["cache", "list"]).ok();
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("cache-a ") && l.contains("role session")),
        "{table}"
    );
    assert!(
        !table.contains(&a["AWS_SECRET_ACCESS_KEY"]) && !table.contains(&a["AWS_SESSION_TOKEN"])
    );
    let rows: Vec<serde_json::Value> =
        serde_json::from_str(&env.run(&["cache", "list", "--json"]).ok()).unwrap();
    assert_eq!(rows.len(), 2);
    let remaining = rows[0]["remaining_seconds"].as_u64().unwrap();
    assert!((3000..=3600).contains(&remaining), "{remaining}");

    let run = env.run(&["cache", "clear", "cache-a"]);
    assert!(
        run.stderr().contains("removed 1 cached session"),
        "{}",
        run.stderr()
    );
    let rows: Vec<serde_json::Value> =
        serde_json::from_str(&env.run(&["cache", "list", "--json"]).ok()).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["profile"], "cache-b");
    env.run(&["cache", "clear"]).ok();
    assert_eq!(env.run(&["cache", "list", "--json"]).ok().trim(), "[]");
}

#[test]
fn a_warm_run_needs_no_network_at_all() {
    let env = TestEnv::with_moto();
    cache_profile(&env, "cache-warm", "");
    let cold = env_json(&env, "cache-warm", &[]);
    let run = env.run(&["-vvv", "env", "cache-warm", "--format", "json"]);
    let warm: BTreeMap<String, String> = serde_json::from_str(&run.ok()).unwrap();
    assert_eq!(warm["AWS_ACCESS_KEY_ID"], cold["AWS_ACCESS_KEY_ID"]);
    assert_eq!(count_assume_roles("cache-warm"), 1);
    let stderr = run.stderr();
    assert!(stderr.contains("served from the cache"), "{stderr}");
    // No SDK machinery started: its crates log at debug level as soon as they do anything,
    // and not even the config files were parsed (the plan came from the cache).
    for quiet in [
        "aws_smithy",
        "aws_config",
        "aws_runtime",
        "hyper",
        "rustls",
        "starting the async runtime",
        "building the STS client",
    ] {
        assert!(!stderr.contains(quiet), "{quiet} was active:\n{stderr}");
    }
    // The same markers do show on a cold run, so their absence above means something.
    let cold = env.run(&["-vvv", "env", "cache-warm", "--no-cache"]);
    assert!(
        cold.stderr().contains("starting the async runtime")
            && cold.stderr().contains("building the STS client"),
        "{}",
        cold.stderr()
    );
}

#[test]
fn min_valid_refreshes_or_explains() {
    let env = TestEnv::with_moto();
    cache_profile(&env, "cache-min", "");
    env_json(&env, "cache-min", &[]);
    // A one-hour session has enough for 30 minutes: served from the cache.
    env_json(&env, "cache-min", &["--min-valid", "30m"]);
    assert_eq!(count_assume_roles("cache-min"), 1);
    // Not for two hours, and a fresh one-hour session cannot give that either.
    let run = env.run(&["env", "cache-min", "--min-valid", "2h"]);
    assert_eq!(run.code(), Some(3), "{}", run.stderr());
    assert!(
        run.stderr().contains(
            "`--min-valid 2h` cannot be met: profile `cache-min` sets no `duration_seconds`, so STS gives its default 1h session"
        ) && run.stderr().contains("--duration"),
        "{}",
        run.stderr()
    );
    assert_eq!(run.stdout(), "");
    // Asking for a longer session satisfies it.
    let vars = env_json(
        &env,
        "cache-min",
        &["--min-valid", "2h", "--duration", "3h"],
    );
    assert!(!vars["AWS_ACCESS_KEY_ID"].is_empty());
}

#[test]
fn a_run_killed_while_holding_a_lock_blocks_nothing() {
    let env = TestEnv::with_moto();
    cache_profile(&env, "cache-killed", "");
    env_json(&env, "cache-killed", &[]);
    let locks = env.cache_dir().join("locks");
    // Another process takes every lock (flock, as std's File::lock does) and holds them until
    // it dies by SIGKILL; a run started meanwhile waits for it, and then proceeds. The kill
    // comes once the run says it is waiting (a line on its stderr), not after a fixed time
    // that a slow machine could overrun.
    let holder = "import fcntl, glob, signal, sys\nfs = [open(p, 'w') for p in glob.glob(sys.argv[1] + '/*.lock')]\n[fcntl.flock(f, fcntl.LOCK_EX) for f in fs]\nprint(len(fs), flush=True)\nsignal.pause()\n";
    let mut python = std::process::Command::new(support::python())
        .args(["-c", holder, locks.to_str().unwrap()])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(python.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    assert!(
        line.trim().parse::<usize>().unwrap() >= 1,
        "no lock file to hold"
    );
    let started = std::time::Instant::now();
    let what = "`env cache-killed --no-cache` while another process holds the locks";
    let mut run = env
        .bin(&["env", "cache-killed", "--no-cache", "--format", "json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = support::Lines::new(run.stdout.take().unwrap());
    let mut stderr = support::Lines::new(run.stderr.take().unwrap());
    stderr.wait_for("waiting for another run", Duration::from_secs(20), what);
    python.kill().unwrap();
    python.wait().unwrap();
    let status = support::wait_at_most(&mut run, Duration::from_secs(10), what);
    let output = std::process::Output {
        status,
        stdout: stdout.all(Duration::from_secs(5), what).into_bytes(),
        stderr: stderr.all(Duration::from_secs(5), what).into_bytes(),
    };
    env.check_output(&output, what);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    serde_json::from_slice::<serde_json::Value>(&output.stdout)
        .unwrap_or_else(|e| panic!("{what} printed no session: {e}\n{stderr}"));
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(count_assume_roles("cache-killed"), 2);
}

#[test]
fn anything_that_changes_the_credentials_changes_the_cache_key() {
    let fx = support::moto_checks_off();
    let mut env = TestEnv::with_fixture(fx);
    let calls = |name: &str| {
        support::recorded_at(fx)
            .iter()
            .filter(|r| r.params.get("RoleSessionName").map(String::as_str) == Some(name))
            .count()
    };
    env.append_config(&format!(
        "\n[profile key-edit]\nrole_arn = {role}\nsource_profile = contractor\nexternal_id = first\nrole_session_name = key-edit\n\n[profile key-env]\nrole_arn = {role}\ncredential_source = Environment\nrole_session_name = key-env\n",
        role = fx.client_role_arn
    ));
    env_json(&env, "key-edit", &[]);
    env_json(&env, "key-edit", &[]);
    assert_eq!(calls("key-edit"), 1);
    // An edited profile.
    let config = std::fs::read_to_string(env.config_path())
        .unwrap()
        .replace("external_id = first", "external_id = second");
    env.write_config(&config);
    env_json(&env, "key-edit", &[]);
    assert_eq!(calls("key-edit"), 2);
    // Rotated source keys.
    env.write_credentials(
        "[contractor]\naws_access_key_id = AKIAROTATEDKEY000001\naws_secret_access_key = rotated\n",
    );
    env_json(&env, "key-edit", &[]);
    assert_eq!(calls("key-edit"), 3);
    // Another identity in the environment, for `credential_source = Environment`.
    env.set("AWS_ACCESS_KEY_ID", "AKIAENVIRONMENT00001")
        .set("AWS_SECRET_ACCESS_KEY", "one");
    env_json(&env, "key-env", &[]);
    env_json(&env, "key-env", &[]);
    env.set("AWS_ACCESS_KEY_ID", "AKIAENVIRONMENT00002")
        .set("AWS_SECRET_ACCESS_KEY", "two");
    env_json(&env, "key-env", &[]);
    assert_eq!(calls("key-env"), 2);
    // Another endpoint.
    env.set("AWS_ENDPOINT_URL_STS", &fx.proxy);
    env_json(&env, "key-env", &[]);
    assert_eq!(calls("key-env"), 3);
}

#[test]
fn a_fifteen_minute_session_is_reused_too() {
    let env = TestEnv::with_moto();
    cache_profile(&env, "cache-short", "duration_seconds = 900\n");
    env_json(&env, "cache-short", &[]);
    env_json(&env, "cache-short", &[]);
    assert_eq!(count_assume_roles("cache-short"), 1);
}

#[cfg(unix)]
#[test]
fn a_cache_others_can_write_to_is_not_used() {
    use std::os::unix::fs::PermissionsExt;
    let env = TestEnv::with_moto();
    cache_profile(&env, "cache-open", "");
    let root = env.cache_dir();
    std::fs::create_dir_all(&root).unwrap();
    std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o777)).unwrap();
    env_json(&env, "cache-open", &[]);
    let run = env.run(&["env", "cache-open"]);
    assert!(run.output.status.success());
    assert!(
        run.stderr().contains("not using the cache") && run.stderr().contains("writable by others"),
        "{}",
        run.stderr()
    );
    assert_eq!(count_assume_roles("cache-open"), 2);
    assert!(!root.join("sessions").exists());
}

/// Two names for one chain: the same role, external ID and session name from the same keys.
fn shared_chain(env: &TestEnv, names: &[&str], session_name: &str) {
    for name in names {
        env.append_config(&format!(
            "\n[profile {name}]\nrole_arn = {}\nsource_profile = contractor\nexternal_id = x1\nrole_session_name = {session_name}\n",
            moto().client_role_arn
        ));
    }
}

fn list_json(env: &TestEnv, extra: &[&str]) -> Vec<serde_json::Value> {
    let mut args = vec!["cache", "list", "--json"];
    args.extend_from_slice(extra);
    serde_json::from_str(&env.run(&args).ok()).unwrap()
}

#[test]
fn a_session_belongs_to_every_profile_with_its_chain() {
    let env = TestEnv::with_moto();
    shared_chain(&env, &["shared-first", "shared-other"], "cache-shared");
    cache_profile(&env, "cache-unrelated", "");
    let first = env_json(&env, "shared-first", &[]);
    env_json(&env, "cache-unrelated", &[]);
    let other = env_json(&env, "shared-other", &[]);
    assert_eq!(other["AWS_ACCESS_KEY_ID"], first["AWS_ACCESS_KEY_ID"]);
    assert_eq!(count_assume_roles("cache-shared"), 1);

    // Listed under the name that did not create it, with every profile it serves.
    let run = env.run(&["cache", "list", "shared-other"]);
    let table = run.ok();
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 2, "{table}");
    assert!(lines[0].starts_with("PROFILE "), "{table}");
    assert!(
        lines[1].starts_with("shared-first,shared-other ") && lines[1].contains("role session"),
        "{table}"
    );
    assert!(
        !table.contains(&first["AWS_SECRET_ACCESS_KEY"])
            && !table.contains(&first["AWS_SESSION_TOKEN"])
    );
    let rows = list_json(&env, &["shared-other"]);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["profile"], "shared-first");
    assert_eq!(
        rows[0]["serves"],
        serde_json::json!(["shared-first", "shared-other"])
    );
    let all = list_json(&env, &[]);
    assert_eq!(all.len(), 2);
    assert!(
        all.iter()
            .any(|r| r["serves"] == serde_json::json!(["cache-unrelated"]))
    );

    // Cleared through the other name; the unrelated session stays.
    let run = env.run(&["cache", "clear", "shared-other"]);
    assert!(run.output.status.success(), "{}", run.stderr());
    assert!(
        run.stderr()
            .contains("removed 1 cached session serving profile `shared-other`: 1 role session"),
        "{}",
        run.stderr()
    );
    assert_eq!(list_json(&env, &[]).len(), 1);
    env_json(&env, "shared-first", &[]);
    assert_eq!(count_assume_roles("cache-shared"), 2);
}

#[test]
fn sessions_made_with_flags_are_found_by_the_profile_that_made_them() {
    let env = TestEnv::with_moto();
    shared_chain(&env, &["flags-first", "flags-other"], "cache-flags");
    env_json(&env, "flags-first", &[]);
    env_json(&env, "flags-first", &["--duration", "2h"]);
    let run = env.run(&["cache", "list"]);
    let table = run.ok();
    assert!(
        table.lines().any(|l| l.starts_with("flags-first* ")),
        "{table}"
    );
    assert!(run.stderr().contains("`--duration`"), "{}", run.stderr());
    let rows = list_json(&env, &[]);
    let made_with_flags: Vec<_> = rows
        .iter()
        .filter(|r| r["serves"] == serde_json::json!([]))
        .collect();
    assert_eq!(made_with_flags.len(), 1, "{rows:#?}");
    assert_eq!(made_with_flags[0]["profile"], "flags-first");
    // The other name shares the chain, not the flags.
    assert_eq!(list_json(&env, &["flags-other"]).len(), 1);
    let run = env.run(&["cache", "clear", "flags-first"]);
    assert!(
        run.stderr()
            .contains("removed 2 cached sessions serving profile `flags-first`: 2 role sessions"),
        "{}",
        run.stderr()
    );
    assert_eq!(env.run(&["cache", "list", "--json"]).ok().trim(), "[]");
}

#[test]
fn cache_of_an_unknown_profile_is_an_error_with_a_suggestion() {
    let env = TestEnv::with_moto();
    cache_profile(&env, "cache-known", "");
    env_json(&env, "cache-known", &[]);
    for command in ["clear", "list"] {
        let run = env.run(&["cache", command, "cache-knwon"]);
        assert_eq!(run.code(), Some(3), "{}", run.stderr());
        assert_eq!(run.stdout(), "");
        assert!(
            run.stderr().contains("profile `cache-knwon` is not in")
                && run.stderr().contains("did you mean `cache-known`?"),
            "{}",
            run.stderr()
        );
    }
    assert_eq!(list_json(&env, &[]).len(), 1);
}

#[test]
fn a_broken_chain_still_clears_what_its_profile_made() {
    let env = TestEnv::with_moto();
    cache_profile(&env, "cache-broken", "");
    env_json(&env, "cache-broken", &[]);
    let config = std::fs::read_to_string(env.config_path()).unwrap().replace(
        "source_profile = contractor\nexternal_id = x1\nrole_session_name = cache-broken",
        "source_profile = contracter\nexternal_id = x1\nrole_session_name = cache-broken",
    );
    env.write_config(&config);
    let run = env.run(&["cache", "clear", "cache-broken"]);
    assert!(run.output.status.success(), "{}", run.stderr());
    let stderr = run.stderr();
    assert!(
        stderr.contains("warning: cannot follow the chain of profile `cache-broken`, so only the sessions created by runs of `cache-broken` are cleared")
            && stderr.contains("`contracter`")
            && stderr.contains("removed 1 cached session serving profile `cache-broken`"),
        "{stderr}"
    );
    assert_eq!(env.run(&["cache", "list", "--json"]).ok().trim(), "[]");
}

#[test]
fn clearing_a_profile_removes_the_mfa_session_it_uses() {
    let fx = support::moto_checks_off();
    let env = TestEnv::with_fixture(fx);
    let serial = "arn:aws:iam::111111111111:mfa/cache-clear-test";
    for (name, role) in [
        ("mfa-clear-one", &fx.client_role_arn),
        ("mfa-clear-two", &fx.second_role_arn),
    ] {
        env.append_config(&format!(
            "\n[profile {name}]\nrole_arn = {role}\nsource_profile = contractor\nmfa_serial = {serial}\nrole_session_name = {name}\n"
        ));
    }
    env_json(&env, "mfa-clear-one", &["--mfa-token", "314159"]);
    let rows = list_json(&env, &[]);
    let mfa: Vec<_> = rows.iter().filter(|r| r["kind"] == "MFA session").collect();
    assert_eq!(mfa.len(), 1, "{rows:#?}");
    assert_eq!(mfa[0]["mfa_serial"], serial);
    assert_eq!(
        mfa[0]["serves"],
        serde_json::json!(["mfa-clear-one", "mfa-clear-two"])
    );
    // `mfa-clear-two` never ran, yet the MFA session made for `mfa-clear-one` is one of its.
    assert_eq!(list_json(&env, &["mfa-clear-two"]).len(), 1);
    // Shared with `mfa-clear-one`, it is kept unless `--mfa-session` says otherwise: clearing
    // it would cost the other profile a new code.
    let run = env.run(&["cache", "clear", "mfa-clear-two"]);
    assert!(
        run.stderr().contains(
            "kept the MFA session profile `mfa-clear-two` shares with `mfa-clear-one`; `--mfa-session` clears it too"
        ),
        "{}",
        run.stderr()
    );
    assert_eq!(list_json(&env, &["mfa-clear-two"]).len(), 1);
    let run = env.run(&["cache", "clear", "mfa-clear-two", "--mfa-session"]);
    assert!(
        run.stderr()
            .contains("removed 1 cached session serving profile `mfa-clear-two`: 1 MFA session"),
        "{}",
        run.stderr()
    );
    let rows = list_json(&env, &[]);
    assert_eq!(rows.len(), 1, "{rows:#?}");
    assert_eq!(rows[0]["kind"], "role session");
    assert_eq!(rows[0]["serves"], serde_json::json!(["mfa-clear-one"]));
    // Without the MFA session, a new role needs a code again.
    let run = env.run(&["env", "mfa-clear-two", "--format", "json"]);
    assert_eq!(run.code(), Some(4), "{}", run.stderr());
}

/// A profile that has left the config still has the sessions its runs made: `cache clear`
/// clears them by name rather than calling the profile unknown.
#[test]
fn a_profile_gone_from_the_config_can_still_be_cleared() {
    let env = TestEnv::with_moto();
    env_json(&env, "client-nomfa", &[]);
    let config = std::fs::read_to_string(&env.vars["AWS_CONFIG_FILE"]).unwrap();
    env.write_config(&config.replace("[profile client-nomfa]", "[profile renamed]"));
    let run = env.run(&["cache", "clear", "client-nomfa"]);
    assert!(run.output.status.success(), "{}", run.stderr());
    assert!(
        run.stderr().contains("no longer in the AWS config")
            && run.stderr().contains("removed 1 cached session"),
        "{}",
        run.stderr()
    );
    let run = env.run(&["cache", "clear", "never-was"]);
    assert_eq!(run.code(), Some(3), "{}", run.stderr());
}
