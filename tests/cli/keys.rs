//! `assume-role keys`: the contractor's own key kept out of plain text, end to end against moto.

use super::*;
use std::path::Path;
use std::time::Duration;

const PASSPHRASE: &str = "correct horse battery staple";

/// A moto env with no credentials file, and the contractor's key stored in the file backend.
fn stored_env() -> TestEnv {
    let fx = moto();
    let mut env = TestEnv::with_moto();
    std::fs::remove_file(&env.vars["AWS_SHARED_CREDENTIALS_FILE"]).unwrap();
    env.set("ASSUME_ROLE_FILE_PASSPHRASE", PASSPHRASE);
    let mut add = env.bin(&[
        "keys",
        "add",
        "contractor",
        "--from-env",
        "--backend",
        "file",
    ]);
    add.env("AWS_ACCESS_KEY_ID", &fx.contractor.access_key_id)
        .env("AWS_SECRET_ACCESS_KEY", &fx.contractor.secret_access_key);
    let run = env.run_command(add);
    run.ok();
    assert!(
        run.stderr().contains(&fx.contractor.arn),
        "{}",
        run.stderr()
    );
    assert!(run.stderr().contains("file backend"), "{}", run.stderr());
    env
}

/// Every file under `root` whose bytes contain `needle`.
fn files_holding(root: &Path, needle: &str) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![root.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if std::fs::read(&path)
                .unwrap()
                .windows(needle.len())
                .any(|w| w == needle.as_bytes())
            {
                found.push(path);
            }
        }
    }
    found
}

#[test]
fn a_stored_key_serves_env_and_exec_with_no_credentials_file_and_no_plain_copy() {
    let fx = moto();
    let env = stored_env();
    let vars = env_json(&env, "client-nomfa", &[]);
    assert!(vars["AWS_SESSION_TOKEN"].len() > 20);
    assert_ne!(vars["AWS_ACCESS_KEY_ID"], fx.contractor.access_key_id);
    // The second run is served from the cache, keyed by the stored key's ID.
    let run = env.run(&["exec", "client-nomfa", "--", "env", "-0"]);
    let exec_vars = parse_env0(&run.output.stdout);
    assert_eq!(exec_vars["AWS_ACCESS_KEY_ID"], vars["AWS_ACCESS_KEY_ID"]);
    assert!(!Path::new(&env.vars["AWS_SHARED_CREDENTIALS_FILE"]).exists());
    assert_eq!(
        files_holding(env.dir.path(), &fx.contractor.secret_access_key),
        Vec::<std::path::PathBuf>::new()
    );
    let key_file = env
        .dir
        .path()
        .join("xdg/data/assume-role/keys/contractor.age");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&key_file), 0o600);
        assert_eq!(mode(key_file.parent().unwrap()), 0o700);
    }
    let list = env.run(&["keys", "list"]).ok();
    assert!(list.contains("contractor"), "{list}");
    assert!(list.contains("file"), "{list}");
    assert!(!list.contains(&fx.contractor.access_key_id), "{list}");
    // `list` shows what the profile's keys are.
    let profiles = env.run(&["list"]).ok();
    assert!(profiles.contains("stored-keys"), "{profiles}");
}

#[test]
fn a_wrong_passphrase_is_refused_clearly() {
    let mut env = stored_env();
    // Long enough for the harness to check for it: a wrong passphrase is not echoed either.
    env.set("ASSUME_ROLE_FILE_PASSPHRASE", "wrong horse battery staple");
    let run = env.run(&["env", "client-nomfa", "--no-cache"]);
    // The same exit as no passphrase at all: the keys file cannot be opened; AWS refused nothing.
    assert_eq!(run.code(), Some(3), "{}", run.stderr());
    assert!(
        run.stderr().contains("the passphrase does not open"),
        "{}",
        run.stderr()
    );
    assert!(!run.stderr().contains("panicked"));
}

#[test]
fn no_passphrase_and_no_terminal_says_how_to_give_one() {
    let mut env = stored_env();
    env.remove("ASSUME_ROLE_FILE_PASSPHRASE");
    let run = env.run(&["env", "client-nomfa", "--no-cache"]);
    assert_eq!(run.code(), Some(3), "{}", run.stderr());
    assert!(
        run.stderr().contains("ASSUME_ROLE_FILE_PASSPHRASE"),
        "{}",
        run.stderr()
    );
}

#[test]
fn a_missing_os_store_fails_fast_naming_it_and_the_other_backend() {
    let fx = moto();
    let mut env = TestEnv::with_moto();
    // No D-Bus session: the Secret Service cannot be reached.
    env.set("AWS_ACCESS_KEY_ID", &fx.contractor.access_key_id)
        .set("AWS_SECRET_ACCESS_KEY", &fx.contractor.secret_access_key);
    let run = env.run(&[
        "keys",
        "add",
        "someone",
        "--from-env",
        "--no-check",
        "--backend",
        "os",
    ]);
    assert_eq!(run.code(), Some(3), "{}", run.stderr());
    assert!(run.elapsed < Duration::from_secs(10), "{:?}", run.elapsed);
    assert!(run.stderr().contains("OS secret store"), "{}", run.stderr());
    assert!(run.stderr().contains("--backend file"), "{}", run.stderr());
    // Nothing was stored, in plain text or otherwise.
    assert!(env.run(&["keys", "list"]).ok().is_empty());
}

#[test]
fn a_bad_backend_name_and_a_bad_key_are_refused() {
    let fx = moto();
    let mut env = TestEnv::with_moto();
    env.set("ASSUME_ROLE_KEYS_BACKEND", "plaintext")
        .set("AWS_ACCESS_KEY_ID", &fx.contractor.access_key_id)
        .set("AWS_SECRET_ACCESS_KEY", "wrong-secret-wrong-secret");
    let run = env.run(&["keys", "add", "someone", "--from-env"]);
    assert_eq!(run.code(), Some(2), "{}", run.stderr());
    assert!(
        run.stderr().contains("ASSUME_ROLE_KEYS_BACKEND"),
        "{}",
        run.stderr()
    );
    env.set("ASSUME_ROLE_KEYS_BACKEND", "file")
        .set("ASSUME_ROLE_FILE_PASSPHRASE", PASSPHRASE);
    let run = env.run(&["keys", "add", "someone", "--from-env"]);
    assert_eq!(run.code(), Some(5), "{}", run.stderr());
    assert!(run.stderr().contains("did not work"), "{}", run.stderr());
    assert!(env.run(&["keys", "list"]).ok().is_empty());
}

#[test]
fn keys_in_both_places_are_an_error_naming_both() {
    let fx = moto();
    let env = stored_env();
    // Another key in the file: which one is meant cannot be guessed. (The same key in both
    // places is what `keys import` without `--remove-plaintext` leaves, and works.)
    env.write_credentials(&format!(
        "[contractor]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
        fx.outsider.access_key_id, fx.outsider.secret_access_key
    ));
    let run = env.run(&["env", "client-nomfa"]);
    assert_eq!(run.code(), Some(3), "{}", run.stderr());
    assert!(run.stderr().contains("credentials"), "{}", run.stderr());
    assert!(
        run.stderr().contains("keys remove contractor"),
        "{}",
        run.stderr()
    );
    // Without a terminal to confirm on, nothing is removed unless `--yes` says so.
    let run = env.run(&["keys", "remove", "contractor"]);
    assert_eq!(run.code(), Some(2), "{}", run.stderr());
    assert!(run.stderr().contains("--yes"), "{}", run.stderr());
    assert!(env.run(&["keys", "list"]).ok().contains("contractor"));
    // Removing the stored key resolves it: the file's keys are the profile's again.
    env.run(&["keys", "remove", "contractor", "--yes"]).ok();
    let list = env.run(&["list"]).ok();
    assert!(list.contains("static-keys"), "{list}");
}

/// The `GetSessionToken` calls the proxy saw that asked for `seconds`: a duration no other
/// test asks for picks out this test's calls.
fn session_token_calls(seconds: u64) -> Vec<support::Recorded> {
    support::recorded_all()
        .into_iter()
        .filter(|r| r.params.get("Action").map(String::as_str) == Some("GetSessionToken"))
        .filter(|r| r.params.get("DurationSeconds") == Some(&seconds.to_string()))
        .collect()
}

#[test]
fn a_stored_key_without_a_role_hands_over_a_session_never_the_key() {
    let fx = moto();
    let env = stored_env();
    // `contractor` assumes no role: what it hands over is a GetSessionToken session.
    let vars = env_json(&env, "contractor", &["--duration", "61m"]);
    // (moto answers GetSessionToken with AWS's documentation example, an `AKIA…` ID.)
    assert_ne!(vars["AWS_ACCESS_KEY_ID"], fx.contractor.access_key_id);
    assert_ne!(
        vars["AWS_SECRET_ACCESS_KEY"],
        fx.contractor.secret_access_key
    );
    assert!(vars["AWS_SESSION_TOKEN"].len() > 20);
    let calls = session_token_calls(3660);
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert!(!calls[0].params.contains_key("SerialNumber"), "{calls:?}");
    // The next run is served from the cache: no second call.
    let again = env_json(&env, "contractor", &["--duration", "61m"]);
    assert_eq!(again["AWS_ACCESS_KEY_ID"], vars["AWS_ACCESS_KEY_ID"]);
    assert_eq!(session_token_calls(3660).len(), 1);
    // `--no-session` is the explicit opt-out, and it warns.
    let run = env.run(&["env", "contractor", "--format", "json", "--no-session"]);
    let plain: BTreeMap<String, String> = serde_json::from_str(&run.ok()).unwrap();
    assert_eq!(plain["AWS_ACCESS_KEY_ID"], fx.contractor.access_key_id);
    assert!(!plain.contains_key("AWS_SESSION_TOKEN"), "{plain:?}");
    assert!(run.stderr().contains("--no-session"), "{}", run.stderr());
    assert!(run.stderr().contains("long-term key"), "{}", run.stderr());
    // On a role profile it has no meaning, and says so.
    let run = env.run(&["env", "client-nomfa", "--no-session"]);
    assert_eq!(run.code(), Some(3), "{}", run.stderr());
    assert!(run.stderr().contains("assumes a role"), "{}", run.stderr());
}

#[test]
fn a_stored_key_with_mfa_serial_hands_over_an_mfa_session_made_once() {
    let fx = moto();
    let env = stored_env();
    env.append_config(&format!(
        "\n[profile contractor-mfa]\nsource_profile = contractor\nmfa_serial = {}\nmfa_session_duration = 62m\nregion = us-east-1\n",
        fx.mfa_serial
    ));
    // The profile has no keys of its own: store the same key under its name.
    let mut add = env.bin(&[
        "keys",
        "add",
        "contractor-mfa",
        "--from-env",
        "--no-check",
        "--backend",
        "file",
    ]);
    add.env("AWS_ACCESS_KEY_ID", &fx.contractor.access_key_id)
        .env("AWS_SECRET_ACCESS_KEY", &fx.contractor.secret_access_key);
    env.run_command(add).ok();
    let vars = env_json(&env, "contractor-mfa", &["--mfa-token", "481516"]);
    assert_ne!(vars["AWS_ACCESS_KEY_ID"], fx.contractor.access_key_id);
    assert!(vars["AWS_SESSION_TOKEN"].len() > 20);
    let calls = session_token_calls(3720);
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(calls[0].params["SerialNumber"], fx.mfa_serial);
    assert_eq!(calls[0].params["TokenCode"], "481516");
    // One code a day: the next run asks for none (no terminal here, so a prompt would fail).
    let again = env_json(&env, "contractor-mfa", &[]);
    assert_eq!(again["AWS_ACCESS_KEY_ID"], vars["AWS_ACCESS_KEY_ID"]);
    assert_eq!(session_token_calls(3720).len(), 1);
    // `cache list` finds it as the profile's MFA session.
    let list = env.run(&["cache", "list", "contractor-mfa"]).ok();
    assert!(list.contains("MFA session"), "{list}");
}

#[test]
fn import_with_remove_plaintext_keeps_every_other_byte_and_no_plain_copy() {
    let fx = moto();
    let mut env = TestEnv::with_moto();
    env.set("ASSUME_ROLE_FILE_PASSPHRASE", PASSPHRASE);
    let before = format!(
        "# my keys ; do not share\n[outsider]\naws_access_key_id = {oid}\naws_secret_access_key = {osk}\n\n# the contractor's own user\n[contractor]\naws_access_key_id = {id}\n# rotated in March\naws_secret_access_key = {sk}\n\n[default]\nregion=eu-west-1\n",
        oid = fx.outsider.access_key_id,
        osk = fx.outsider.secret_access_key,
        id = fx.contractor.access_key_id,
        sk = fx.contractor.secret_access_key,
    );
    env.write_credentials(&before);
    let path = Path::new(&env.vars["AWS_SHARED_CREDENTIALS_FILE"]).to_owned();
    // Without `--remove-plaintext` the key is in both places, and the profile still works.
    let run = env.run(&["keys", "import", "contractor", "--backend", "file"]);
    run.ok();
    assert!(
        run.stderr().contains("--remove-plaintext"),
        "{}",
        run.stderr()
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), before);
    env_json(&env, "client-nomfa", &[]);
    // A `.bak` beside the file (as `profile add` keeps one) holds the same plain-text key: it
    // must not outlive the import either.
    let mut backup = path.clone().into_os_string();
    backup.push(".bak");
    std::fs::write(&backup, &before).unwrap();

    let run = env.run(&[
        "keys",
        "import",
        "contractor",
        "--backend",
        "file",
        "--remove-plaintext",
    ]);
    run.ok();
    assert!(run.stderr().contains("no backup"), "{}", run.stderr());
    let after = std::fs::read_to_string(&path).unwrap();
    assert_eq!(
        after,
        before.replace(
            &format!(
                "[contractor]\naws_access_key_id = {}\n# rotated in March\naws_secret_access_key = {}\n",
                fx.contractor.access_key_id, fx.contractor.secret_access_key
            ),
            ""
        )
    );
    assert_eq!(
        files_holding(env.dir.path(), &fx.contractor.secret_access_key),
        Vec::<std::path::PathBuf>::new()
    );
    // The profile now uses the stored key, and the run needs no plain text.
    let profiles = env.run(&["list"]).ok();
    assert!(profiles.contains("stored-keys"), "{profiles}");
    let vars = env_json(&env, "client-nomfa", &["--no-cache"]);
    assert!(vars["AWS_SESSION_TOKEN"].len() > 20);
    assert_eq!(
        files_holding(env.dir.path(), &fx.contractor.secret_access_key),
        Vec::<std::path::PathBuf>::new()
    );
}

#[test]
fn import_refuses_what_it_cannot_move() {
    let fx = moto();
    let mut env = TestEnv::with_moto();
    env.set("ASSUME_ROLE_FILE_PASSPHRASE", PASSPHRASE);
    let run = env.run(&["keys", "import", "client-nomfa", "--backend", "file"]);
    assert_eq!(run.code(), Some(3), "{}", run.stderr());
    assert!(run.stderr().contains("no keys"), "{}", run.stderr());
    let run = env.run(&["keys", "import", "nosuch", "--backend", "file"]);
    assert_eq!(run.code(), Some(3), "{}", run.stderr());
    env.write_credentials(&format!(
        "[contractor]\naws_access_key_id = {}\naws_secret_access_key = {}\naws_session_token = tok\n",
        fx.contractor.access_key_id, fx.contractor.secret_access_key
    ));
    let run = env.run(&["keys", "import", "--all", "--backend", "file"]);
    assert_eq!(run.code(), Some(3), "{}", run.stderr());
    assert!(run.stderr().contains("temporary"), "{}", run.stderr());
    assert!(env.run(&["keys", "list"]).ok().is_empty());
    // An indented line after a key continues its value: named, never a panic in the signer.
    env.write_credentials(&format!(
        "[contractor]\naws_access_key_id = {}\n  # rotated in March\naws_secret_access_key = {}\n",
        fx.contractor.access_key_id, fx.contractor.secret_access_key
    ));
    for args in [
        &["env", "client-nomfa", "--no-cache"][..],
        &["keys", "import", "contractor", "--backend", "file"],
    ] {
        let run = env.run(args);
        assert_eq!(run.code(), Some(3), "{}", run.stderr());
        assert!(run.stderr().contains("unindent"), "{}", run.stderr());
        assert!(!run.stderr().contains("panicked"), "{}", run.stderr());
    }
}

/// A shell script run inside a private D-Bus session with gnome-keyring's Secret Service, as a
/// desktop session has it; `unlock` decides whether the keyring is opened first. `None` when the
/// tools are missing (outside CI only: `require_tool` fails under `CI=true`).
#[cfg(target_os = "linux")]
fn in_secret_service_session(env: &TestEnv, unlock: bool, steps: &str) -> Option<support::Run> {
    let session = support::require_tool("dbus-run-session")?;
    support::require_tool("gnome-keyring-daemon")?;
    support::require_tool("gdbus")?;
    let start = if unlock {
        "printf pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null"
    } else {
        "gnome-keyring-daemon --start --components=secrets >/dev/null"
    };
    // Without the wait, a run can race the daemon's start and spawn a second one.
    let script = format!(
        "set -e\n{start}\ngdbus wait --session --timeout 10 org.freedesktop.secrets\n{steps}"
    );
    let mut cmd = env.command(session);
    cmd.args(["--", "sh", "-c", &script])
        .env("BIN", env!("CARGO_BIN_EXE_assume-role"));
    Some(env.run_command(cmd))
}

#[cfg(target_os = "linux")]
#[test]
fn the_secret_service_backend_end_to_end() {
    let fx = moto();
    let mut env = TestEnv::with_moto();
    std::fs::remove_file(&env.vars["AWS_SHARED_CREDENTIALS_FILE"]).unwrap();
    env.set("AWS_ACCESS_KEY_ID", &fx.contractor.access_key_id)
        .set("AWS_SECRET_ACCESS_KEY", &fx.contractor.secret_access_key);
    let out = env.dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let steps = format!(
        "\"$BIN\" keys add contractor --from-env --backend os\n\
         env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY \"$BIN\" -v env client-nomfa --format json > {out}/env.json\n\
         \"$BIN\" keys list > {out}/list.txt\n\
         \"$BIN\" keys remove contractor --yes\n",
        out = out.display()
    );
    let Some(run) = in_secret_service_session(&env, true, &steps) else {
        return;
    };
    run.ok();
    let stderr = run.stderr();
    assert!(stderr.contains("(os backend)"), "{stderr}");
    assert!(stderr.contains("read the stored key"), "{stderr}");
    let vars: BTreeMap<String, String> =
        serde_json::from_slice(&std::fs::read(out.join("env.json")).unwrap()).unwrap();
    assert!(vars["AWS_SESSION_TOKEN"].len() > 20);
    let list = std::fs::read_to_string(out.join("list.txt")).unwrap();
    assert!(list.contains("contractor") && list.contains("os"), "{list}");
    // Nothing holds the secret in plain text: the keyring file is gnome-keyring's own,
    // encrypted, and the key is gone from it after `keys remove` anyway.
    assert_eq!(
        files_holding(env.dir.path(), &fx.contractor.secret_access_key),
        Vec::<std::path::PathBuf>::new()
    );
}

#[cfg(target_os = "linux")]
#[test]
fn a_locked_secret_service_is_named_fast_with_the_way_out() {
    let fx = moto();
    let mut env = TestEnv::with_moto();
    env.set("AWS_ACCESS_KEY_ID", &fx.contractor.access_key_id)
        .set("AWS_SECRET_ACCESS_KEY", &fx.contractor.secret_access_key);
    let steps =
        "set +e\n\"$BIN\" keys add someone --from-env --no-check --backend os\necho \"exit=$?\"\n";
    let Some(run) = in_secret_service_session(&env, false, steps) else {
        return;
    };
    let stderr = run.stderr();
    assert!(
        run.stdout().contains("exit=3"),
        "{}\n{stderr}",
        run.stdout()
    );
    assert!(stderr.contains("is locked"), "{stderr}");
    assert!(stderr.contains("--backend file"), "{stderr}");
    assert!(run.elapsed < Duration::from_secs(30), "{:?}", run.elapsed);
}

/// On a terminal, `keys remove` asks first, naming the key (masked) and saying that no copy is
/// left; anything but `y` keeps it.
#[cfg(unix)]
#[test]
fn keys_remove_asks_on_the_terminal_and_keeps_the_key_unless_told_yes() {
    use std::io::Write as _;
    let fx = moto();
    let env = stored_env();
    let masked = &fx.contractor.access_key_id[..4];
    for (answer, kept) in [("n\n", true), ("\n", true), ("y\n", false)] {
        let (child, mut terminal) =
            support::pty::controlling_terminal(&env, &["keys", "remove", "contractor"]);
        let mut screen = support::pty::Screen::new(&terminal);
        screen.expect(masked);
        screen.expect("the only copy here");
        terminal.write_all(answer.as_bytes()).unwrap();
        let output = env.wait_checked(child);
        assert_eq!(output.status.success(), !kept, "{answer:?}");
        let list = env.run(&["keys", "list"]).ok();
        assert_eq!(list.contains("contractor"), kept, "{answer:?}: {list}");
    }
}

/// A data directory others can write is no place for keys: they could delete them or plant an
/// index of their own. `keys add` refuses it and stores nothing.
#[cfg(unix)]
#[test]
fn keys_are_not_kept_in_a_directory_others_can_write() {
    use std::os::unix::fs::PermissionsExt;
    let fx = moto();
    let mut env = TestEnv::with_moto();
    env.set("ASSUME_ROLE_FILE_PASSPHRASE", PASSPHRASE);
    let data = env.dir.path().join("xdg/data/assume-role");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o777)).unwrap();
    let mut add = env.bin(&[
        "keys",
        "add",
        "other",
        "--from-env",
        "--backend",
        "file",
        "--no-check",
    ]);
    add.env("AWS_ACCESS_KEY_ID", &fx.contractor.access_key_id)
        .env("AWS_SECRET_ACCESS_KEY", &fx.contractor.secret_access_key);
    let run = env.run_command(add);
    assert_ne!(run.code(), Some(0), "{}", run.stderr());
    assert!(
        run.stderr().contains("writable by others"),
        "{}",
        run.stderr()
    );
    assert!(!data.join("keys").exists());
}

/// A hop assumed from a cached MFA session is signed by that session: the stored key behind it
/// is not read, so no passphrase is needed (an SDK running `credential-process` has no
/// terminal to type one on).
#[test]
fn a_cached_mfa_session_signs_the_next_role_without_the_key_store() {
    let fx = support::moto_checks_off();
    let mut env = TestEnv::with_fixture(fx);
    std::fs::remove_file(&env.vars["AWS_SHARED_CREDENTIALS_FILE"]).unwrap();
    env.set("ASSUME_ROLE_FILE_PASSPHRASE", PASSPHRASE);
    let mut add = env.bin(&[
        "keys",
        "add",
        "contractor",
        "--from-env",
        "--backend",
        "file",
        "--no-check",
    ]);
    add.env("AWS_ACCESS_KEY_ID", &fx.contractor.access_key_id)
        .env("AWS_SECRET_ACCESS_KEY", &fx.contractor.secret_access_key);
    env.run_command(add).ok();
    let serial = "arn:aws:iam::111111111111:mfa/stored-key-session";
    for (name, role) in [
        ("stored-one", &fx.client_role_arn),
        ("stored-two", &fx.second_role_arn),
    ] {
        env.append_config(&format!(
            "\n[profile {name}]\nrole_arn = {role}\nsource_profile = contractor\nmfa_serial = {serial}\nrole_session_name = {name}\n"
        ));
    }
    env.register_mfa_code("the code for the stored key's MFA session", "271828");
    env.run(&["env", "stored-one", "--mfa-token", "271828"])
        .ok();
    env.remove("ASSUME_ROLE_FILE_PASSPHRASE");
    let second = env.run(&["env", "stored-two"]);
    assert!(second.output.status.success(), "{}", second.stderr());
    assert!(
        !second.stderr().contains("passphrase"),
        "{}",
        second.stderr()
    );
}

/// The first key in the file backend sets its passphrase: typed on a terminal it is asked
/// twice, and two that differ store nothing (a typo there would lose the key).
#[cfg(unix)]
#[test]
fn a_new_passphrase_is_asked_twice_on_the_terminal() {
    use std::io::Write as _;
    let fx = moto();
    let mut env = TestEnv::with_moto();
    env.set("AWS_ACCESS_KEY_ID", &fx.contractor.access_key_id)
        .set("AWS_SECRET_ACCESS_KEY", &fx.contractor.secret_access_key);
    for (second, stored) in [("another thing\n", false), ("first passphrase\n", true)] {
        let (child, mut terminal) = support::pty::controlling_terminal(
            &env,
            &[
                "keys",
                "add",
                "typed",
                "--from-env",
                "--backend",
                "file",
                "--no-check",
            ],
        );
        let mut screen = support::pty::Screen::new(&terminal);
        screen.expect("Passphrase");
        terminal.write_all(b"first passphrase\n").unwrap();
        screen.expect("Repeat the passphrase");
        terminal.write_all(second.as_bytes()).unwrap();
        let output = env.wait_checked(child);
        assert_eq!(output.status.success(), stored, "{second:?}");
        let list = env.run(&["keys", "list"]).ok();
        assert_eq!(list.contains("typed"), stored, "{second:?}: {list}");
    }
}

/// Sixteen `keys add` at once leave sixteen entries (the index's read-change-write is locked),
/// and an index that cannot be read is refused, not written over: that would orphan every key
/// it names.
#[test]
fn concurrent_adds_keep_every_entry_and_a_corrupt_index_is_refused() {
    use std::process::Stdio;
    let fx = moto();
    let mut env = TestEnv::with_moto();
    env.set("ASSUME_ROLE_FILE_PASSPHRASE", PASSPHRASE)
        .set("AWS_ACCESS_KEY_ID", &fx.contractor.access_key_id)
        .set("AWS_SECRET_ACCESS_KEY", &fx.contractor.secret_access_key);
    // The first key sets the passphrase; the rest race.
    env.run(&[
        "keys",
        "add",
        "k00",
        "--from-env",
        "--backend",
        "file",
        "--no-check",
    ])
    .ok();
    let children: Vec<_> = (1..16)
        .map(|i| {
            let name = format!("k{i:02}");
            env.bin(&[
                "keys",
                "add",
                &name,
                "--from-env",
                "--backend",
                "file",
                "--no-check",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
        })
        .collect();
    for child in children {
        let output = env.wait_checked(child);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let list = env.run(&["keys", "list"]).ok();
    assert_eq!(
        list.lines().filter(|l| l.starts_with('k')).count(),
        16,
        "{list}"
    );

    let index = env.dir.path().join("xdg/data/assume-role/keys/index.json");
    let whole = std::fs::read(&index).unwrap();
    std::fs::write(&index, &whole[..whole.len() / 2]).unwrap();
    let run = env.run(&[
        "keys",
        "add",
        "k16",
        "--from-env",
        "--backend",
        "file",
        "--no-check",
    ]);
    assert_eq!(run.code(), Some(3), "{}", run.stderr());
    assert!(run.stderr().contains("cannot be read"), "{}", run.stderr());
    assert_eq!(std::fs::read(&index).unwrap(), &whole[..whole.len() / 2]);
}
