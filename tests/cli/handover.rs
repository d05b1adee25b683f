//! Handing credentials over: `exec`, `env` and `credential-process`, read by real shells, the AWS CLI and boto3.

use super::*;

#[test]
fn exec_sets_and_removes_exactly_the_session_variables() {
    let mut env = TestEnv::with_moto();
    // A stale outer session and other wrappers' leftovers, all of which must go.
    for name in REMOVED_VARS {
        env.set(name, "stale");
    }
    env.set("AWS_ACCESS_KEY_ID", "AKIASTALEOUTERKEY000")
        .set("AWS_SECRET_ACCESS_KEY", "stale-secret")
        .set("AWS_SESSION_TOKEN", "stale-token")
        .set("ASSUME_ROLE_PROFILE", "outer")
        .set("AWSUME_PROFILE", "stale")
        .set("GRANTED_SSO", "stale")
        .set("KEEP_ME", "kept");
    let run = env.run(&["exec", "client", "--", "env", "-0"]);
    let child = parse_env0(&run.output.stdout);
    assert!(run.output.status.success(), "{}", run.stderr());

    for name in SESSION_VARS {
        assert!(child.contains_key(name), "{name} missing: {child:?}");
    }
    for name in REMOVED_VARS
        .iter()
        .chain(&["AWSUME_PROFILE", "GRANTED_SSO"])
    {
        assert!(!child.contains_key(*name), "{name} should be removed");
    }
    let fx = moto();
    assert!(child["AWS_ACCESS_KEY_ID"].starts_with("ASIA"), "{child:?}");
    assert_ne!(child["AWS_ACCESS_KEY_ID"], "AKIASTALEOUTERKEY000");
    assert_eq!(child["AWS_ACCOUNT_ID"], "222222222222");
    assert_eq!(child["AWS_REGION"], fx.region);
    assert_eq!(child["AWS_DEFAULT_REGION"], fx.region);
    assert_eq!(child["ASSUME_ROLE_PROFILE"], "client");
    assert_eq!(child["KEEP_ME"], "kept");
    let exp = &child["AWS_CREDENTIAL_EXPIRATION"];
    assert!(
        exp.ends_with('Z') && exp.len() == 20 && !exp.contains('.'),
        "{exp}"
    );

    // Nothing else was added: the child's environment is ours plus the session, minus scrubs.
    let added: Vec<&String> = child
        .keys()
        .filter(|k| !env.vars.contains_key(*k) && !SESSION_VARS.contains(&k.as_str()))
        .filter(|k| !["PWD", "SHLVL", "_", "OLDPWD"].contains(&k.as_str()))
        .collect();
    assert!(added.is_empty(), "unexpected variables: {added:?}");
}

#[test]
fn exec_passes_exit_codes_through() {
    let env = TestEnv::with_moto();
    let code = |cmd: &[&str]| {
        let mut args = vec!["exec", "client-nomfa", "--"];
        args.extend_from_slice(cmd);
        env.run(&args)
    };
    assert_eq!(code(&["sh", "-c", "exit 0"]).code(), Some(0));
    assert_eq!(code(&["sh", "-c", "exit 7"]).code(), Some(7));

    let missing = code(&["definitely-not-a-command-xyz"]);
    assert_eq!(missing.code(), Some(127));
    assert!(
        missing
            .stderr()
            .contains("`definitely-not-a-command-xyz` not found"),
        "{}",
        missing.stderr()
    );

    let script = env.work_dir().join("not-executable.sh");
    std::fs::write(&script, "#!/bin/sh\necho hi\n").unwrap();
    assert_eq!(code(&[script.to_str().unwrap()]).code(), Some(126));

    // Killed by SIGTERM: the shell that ran us sees 128 + 15.
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        let killed = code(&["sh", "-c", "kill -TERM $$"]);
        assert_eq!(killed.output.status.signal(), Some(15));
        let mut bash = env.command("bash");
        bash.arg("-c").arg(format!(
            "{} exec client-nomfa -- sh -c 'kill -TERM $$'; echo \"status=$?\"",
            support::BIN
        ));
        let out = env.run_command(bash);
        assert_eq!(out.stdout().trim(), "status=143");
    }
}

#[test]
fn exec_without_a_command_runs_the_users_shell() {
    let mut env = TestEnv::with_moto();
    let shell = env.work_dir().join("fake-shell");
    std::fs::write(
        &shell,
        "#!/bin/sh\necho \"shell for $ASSUME_ROLE_PROFILE\"\n",
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&shell, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    env.set("SHELL", shell.to_str().unwrap());
    assert_eq!(
        env.run(&["exec", "client-nomfa"]).ok(),
        "shell for client-nomfa\n"
    );
}

#[test]
fn env_output_evald_in_bash_is_used_by_the_aws_cli() {
    let env = TestEnv::with_moto();
    let mut bash = env.command("bash");
    bash.arg("-c").arg(format!(
        "set -e; eval \"$({bin} env client)\"; {aws} sts get-caller-identity --output json",
        bin = support::BIN,
        aws = venv_bin("aws").display()
    ));
    let out = env.run_command(bash);
    let identity: serde_json::Value = serde_json::from_str(&out.ok()).unwrap();
    assert_eq!(
        identity["Arn"],
        "arn:aws:sts::222222222222:assumed-role/client-admin/tester"
    );
    assert_eq!(identity["Account"], "222222222222");
}

#[test]
fn env_output_sourced_in_fish_is_used_by_the_aws_cli() {
    let Some(fish) = support::require_tool("fish") else {
        return;
    };
    let env = TestEnv::with_moto();
    let mut fish = env.command(fish);
    fish.args(["--no-config", "-c"]).arg(format!(
        "{bin} env client --format fish | source; and {aws} sts get-caller-identity --query Arn --output text",
        bin = support::BIN,
        aws = venv_bin("aws").display()
    ));
    let out = env.run_command(fish);
    // fish resets $USER from the password database, so the session name is not ours to pin.
    assert!(
        out.ok()
            .starts_with("arn:aws:sts::222222222222:assumed-role/client-admin/"),
        "{}",
        out.stdout()
    );
}

/// Nushell raw string: no escapes inside, and enough `#` that the content cannot close it.
fn nu_raw(value: &str) -> String {
    let mut fence = "#".to_owned();
    while value.contains(&format!("'{fence}")) {
        fence.push('#');
    }
    format!("r{fence}'{value}'{fence}")
}

#[test]
fn env_output_loaded_in_nushell_is_used_by_the_aws_cli() {
    let Some(nu) = support::require_tool("nu") else {
        return;
    };
    let env = TestEnv::with_moto();
    let aws = format!(
        "^{} sts get-caller-identity --query Arn --output text",
        nu_raw(&venv_bin("aws").to_string_lossy())
    );
    let expected = "arn:aws:sts::222222222222:assumed-role/client-admin/tester\n";
    // What the README tells nushell users to type: a record of variables, loaded.
    let mut load = env.command(&nu);
    load.args(["--no-config-file", "-c"]).arg(format!(
        "^{bin} env client --format json | from json | load-env; {aws}",
        bin = nu_raw(support::BIN),
    ));
    assert_eq!(env.run_command(load).ok(), expected);
    // `--format nu`, saved and sourced: nushell resolves `source` before it runs anything, so
    // it cannot read a pipe.
    let script = env.dir.path().join("session.nu");
    std::fs::write(&script, env.run(&["env", "client", "--format", "nu"]).ok()).unwrap();
    let mut source = env.command(&nu);
    source.args(["--no-config-file", "-c"]).arg(format!(
        "source {}; {aws}",
        nu_raw(&script.to_string_lossy())
    ));
    assert_eq!(env.run_command(source).ok(), expected);
}

#[test]
fn credential_process_works_for_the_aws_cli_and_boto3() {
    let env = TestEnv::with_moto();
    env.append_config(&format!(
        "\n[profile via-process]\ncredential_process = {} credential-process client\nregion = us-east-1\n",
        support::BIN
    ));
    // The raw contract first: one object, nothing else.
    let raw = env.run(&["credential-process", "client"]).ok();
    assert_eq!(raw.lines().count(), 1, "{raw}");
    let json: serde_json::Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(json["Version"], 1);
    assert_eq!(json["AccountId"], "222222222222");
    for key in [
        "AccessKeyId",
        "SecretAccessKey",
        "SessionToken",
        "Expiration",
    ] {
        assert!(json[key].is_string(), "{key}: {raw}");
    }

    let mut aws = env.command(venv_bin("aws"));
    aws.args([
        "sts",
        "get-caller-identity",
        "--profile",
        "via-process",
        "--query",
        "Arn",
        "--output",
        "text",
    ]);
    let out = env.run_command(aws);
    assert_eq!(
        out.ok().trim(),
        "arn:aws:sts::222222222222:assumed-role/client-admin/tester"
    );

    let mut boto = env.command(support::python());
    boto.args([
        "-c",
        "import boto3; s = boto3.Session(profile_name='via-process'); \
         print(s.client('sts').get_caller_identity()['Arn']); \
         print(s.client('s3').list_buckets()['Buckets'][0]['Name'])",
    ]);
    let out = env.run_command(boto);
    assert_eq!(
        out.ok(),
        format!(
            "arn:aws:sts::222222222222:assumed-role/client-admin/tester\n{}\n",
            moto().bucket
        )
    );
}

#[test]
fn hostile_config_values_cannot_run_code_through_eval() {
    let env = TestEnv::with_moto();
    let fx = moto();
    // Values that reach the output: a role-less profile hands over its keys as written.
    let key = "AKIA'$(touch pwned-key)'\"`touch pwned-tick`\"";
    let secret = "s'; touch pwned-secret; echo '\\$HOME %PATH% !x!";
    env.append_config(&format!(
        "\n[profile hostile-keys]\naws_access_key_id = {key}\naws_secret_access_key = {secret}\nregion = eu-west-1\n\n[profile x'$(touch pwned)']\nrole_arn = {}\nsource_profile = contractor\n\n[profile hostile-region]\nrole_arn = {}\nsource_profile = contractor\nregion = us-east-1'$(touch pwned-region)\n",
        fx.client_role_arn, fx.client_role_arn
    ));
    let print = "printf '%s|%s' \"$AWS_ACCESS_KEY_ID\" \"$AWS_SECRET_ACCESS_KEY\"";
    // Nushell twice: the JSON record it loads, and `--format nu` saved and sourced.
    let shells: [(&str, &str, &[&str]); 7] = [
        ("sh", "sh", &["-c"]),
        ("bash", "sh", &["-c"]),
        ("dash", "sh", &["-c"]),
        ("zsh", "sh", &["-c"]),
        ("fish", "fish", &["--no-config", "-c"]),
        ("nu", "json", &["--no-config-file", "-c"]),
        ("nu", "nu", &["--no-config-file", "-c"]),
    ];
    let nu_print = "print -n $\"($env.AWS_ACCESS_KEY_ID? | default '')|($env.AWS_SECRET_ACCESS_KEY? | default '')\"";
    for (shell, format, args) in shells {
        let Some(program) = support::require_tool(shell) else {
            // sh and bash run everything else in this suite: they are never optional.
            assert!(!["sh", "bash"].contains(&shell), "`{shell}` is missing");
            continue;
        };
        for profile in ["hostile-keys", "x'$(touch pwned)'", "hostile-region"] {
            let quoted = if format == "fish" {
                format!("'{}'", profile.replace('\\', "\\\\").replace('\'', "\\'"))
            } else if shell == "nu" {
                nu_raw(profile)
            } else {
                format!("'{}'", profile.replace('\'', "'\\''"))
            };
            // Outside the work dir, which must stay empty.
            let nu_script = env.dir.path().join("session.nu");
            // With `--format nu` the binary runs before nushell does: its stderr is this run's.
            let mut printed_stderr = None;
            if format == "nu" {
                let printed = env.run(&["env", profile, "--format", "nu"]);
                std::fs::write(&nu_script, printed.stdout()).unwrap();
                printed_stderr = Some(printed.stderr());
            }
            let script = if format == "json" {
                // `try`: a profile that is refused prints nothing, and the print still runs.
                format!(
                    "try {{ ^{} env {quoted} --format json | from json | load-env }}; {nu_print}",
                    nu_raw(support::BIN)
                )
            } else if format == "nu" {
                format!(
                    "source {}; {nu_print}",
                    nu_raw(&nu_script.to_string_lossy())
                )
            } else if format == "fish" {
                format!(
                    "{} env {quoted} --format fish | source; {print}",
                    support::BIN
                )
            } else {
                format!(
                    "eval \"$({} env {quoted} --format sh)\"; {print}",
                    support::BIN
                )
            };
            let mut cmd = env.command(&program);
            cmd.args(args).arg(script);
            let out = env.run_command(cmd);
            let created: Vec<_> = std::fs::read_dir(env.work_dir())
                .unwrap()
                .map(|e| e.unwrap().file_name())
                .collect();
            assert!(
                created.is_empty(),
                "{shell} ran code for {profile}: {created:?}\n{}",
                out.stderr()
            );
            if profile == "hostile-keys" {
                // Carried through byte for byte.
                assert_eq!(
                    out.stdout(),
                    format!("{key}|{secret}"),
                    "{shell}: {}",
                    out.stderr()
                );
            } else {
                // The parser drops the section; the region is refused before anything prints.
                assert_eq!(out.stdout(), "|", "{shell} {profile}: {}", out.stderr());
                let expected = if profile == "hostile-region" {
                    "is not a valid region name"
                } else {
                    "letters, digits and"
                };
                let stderr = printed_stderr.unwrap_or_else(|| out.stderr());
                assert!(
                    stderr.contains(expected),
                    "{shell} {format} {profile}: {stderr}"
                );
            }
        }
    }
}

#[test]
fn stale_credentials_in_the_callers_environment_are_never_used() {
    let mut env = TestEnv::with_moto();
    // If these were used to sign, moto would reject the call.
    env.set("AWS_ACCESS_KEY_ID", "AKIASTALEOUTERKEY000")
        .set("AWS_SECRET_ACCESS_KEY", "stale")
        .set("AWS_SESSION_TOKEN", "stale")
        .set("AWS_PROFILE", "outsider");
    let vars = env_json(&env, "client-nomfa", &[]);
    assert_eq!(vars["AWS_ACCOUNT_ID"], "222222222222");
}

#[test]
fn inside_a_session_the_outer_region_does_not_leak_into_the_next_profile() {
    let mut env = TestEnv::with_moto();
    env.set("ASSUME_ROLE_PROFILE", "outer")
        .set("AWS_REGION", "ap-south-1")
        .set("AWS_DEFAULT_REGION", "ap-south-1");
    env.append_config(&format!(
        "\n[profile regionless]\nrole_arn = {}\nsource_profile = contractor\nexternal_id = x1\n",
        moto().client_role_arn
    ));
    assert_eq!(env_json(&env, "regionless", &[])["AWS_REGION"], "us-east-1");
    // Outside a session the variables count.
    env.remove("ASSUME_ROLE_PROFILE");
    assert_eq!(
        env_json(&env, "regionless", &[])["AWS_REGION"],
        "ap-south-1"
    );
}

#[test]
fn help_and_version_work() {
    let env = TestEnv::new();
    assert!(env.run(&["--help"]).ok().contains("credential-process"));
    assert!(env.run(&["--version"]).ok().starts_with("assume-role "));
    let run = env.run(&["exec"]);
    assert_eq!(run.code(), Some(2));
}

#[test]
fn the_library_example_lists_the_clients_buckets() {
    // `cargo test` builds examples next to the test binaries' directory.
    let exe = std::env::current_exe().unwrap();
    let example = exe
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("examples")
        .join(format!("list_buckets{}", std::env::consts::EXE_SUFFIX));
    assert!(example.exists(), "{} was not built", example.display());
    let env = TestEnv::with_moto();
    let mut cmd = env.command(&example);
    cmd.arg("client");
    let out = env.run_command(cmd).ok();
    assert_eq!(
        out,
        format!(
            "assumed {} in account 222222222222\n{}\n",
            moto().client_role_arn,
            moto().bucket
        )
    );
}

/// Runs `args` with stdout on a fresh pseudo-terminal and stderr on a pipe; returns what the
/// terminal showed, stderr, and the exit code.
#[cfg(unix)]
fn run_on_a_terminal(env: &TestEnv, args: &[&str]) -> (String, String, Option<i32>) {
    use std::io::Read;

    let (mut terminal, slave) = support::pty::open();
    let mut cmd = env.bin(args);
    cmd.stdout(slave).stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    // The command holds the parent's copy of the slave end: without dropping it, the terminal
    // never reports the end of the child's output.
    drop(cmd);
    let mut stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut seen = Vec::new();
        let mut buf = [0u8; 4096];
        // Linux reports EIO once the last slave end is closed.
        while let Ok(n) = terminal.read(&mut buf) {
            if n == 0 {
                break;
            }
            seen.extend_from_slice(&buf[..n]);
        }
        let _ = tx.send(seen);
    });
    let seen = rx
        .recv_timeout(std::time::Duration::from_secs(30))
        .expect("the run on a terminal finished within 30 s");
    let status = child.wait().unwrap();
    let (shown, stderr) = (
        String::from_utf8_lossy(&seen).into_owned(),
        reader.join().unwrap(),
    );
    env.check_stderr(&shown, &stderr);
    (shown, stderr, status.code())
}

#[cfg(unix)]
#[test]
fn env_printed_to_a_terminal_says_how_to_eval_it_and_only_then() {
    let env = TestEnv::with_moto();
    let (shown, stderr, code) = run_on_a_terminal(&env, &["env", "client-nomfa"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(shown.contains("export AWS_ACCESS_KEY_ID='ASIA"), "{shown}");
    assert_eq!(
        stderr,
        "assume-role: to use these in this shell, run: eval \"$(assume-role env client-nomfa)\"\n"
    );
    let (_, stderr, _) = run_on_a_terminal(&env, &["env", "client-nomfa", "--format", "fish"]);
    assert!(
        stderr.contains("run: assume-role env client-nomfa --format fish | source"),
        "{stderr}"
    );
    let (_, stderr, _) = run_on_a_terminal(&env, &["env", "client-nomfa", "--format", "json"]);
    assert_eq!(stderr, "", "JSON is data, not for a shell");

    // Captured, as by `eval "$(…)"`: nothing extra.
    let run = env.run(&["env", "client-nomfa"]);
    assert!(run.ok().starts_with("export "));
    assert_eq!(run.stderr(), "");
}

#[test]
fn bash_and_zsh_are_names_for_the_sh_format() {
    let env = TestEnv::with_moto();
    let sh = env.run(&["env", "client-nomfa", "--format", "sh"]).ok();
    for name in ["bash", "zsh"] {
        assert_eq!(
            env.run(&["env", "client-nomfa", "--format", name]).ok(),
            sh,
            "{name}"
        );
    }
}

#[cfg(unix)]
#[test]
fn exec_without_a_command_and_an_unusable_shell_names_shell_and_the_fix() {
    let mut env = TestEnv::with_moto();
    cache_profile(&env, "no-shell", "");
    env.remove("SHELL");
    let unset = env.run(&["exec", "no-shell"]);
    assert_eq!(unset.code(), Some(127), "{}", unset.stderr());
    assert_eq!(unset.stdout(), "");
    assert_eq!(
        unset.stderr(),
        "assume-role: no command was given, and `$SHELL` is not set, so there is no shell to start\n  hint: name the command to run: `assume-role exec no-shell -- bash`\n  hint: or set `SHELL` to your shell's full path, e.g. `export SHELL=/bin/bash`\n"
    );
    // Nothing to run, so no session was asked for.
    assert_eq!(count_assume_roles("no-shell"), 0);

    env.set("SHELL", "");
    let empty = env.run(&["exec", "no-shell"]);
    assert_eq!(empty.code(), Some(127));
    assert!(
        empty.stderr().contains("`$SHELL` is empty"),
        "{}",
        empty.stderr()
    );

    env.set("SHELL", "/nonexistent/bin/zsh");
    let missing = env.run(&["exec", "no-shell"]);
    assert_eq!(missing.code(), Some(127));
    assert!(
        missing
            .stderr()
            .contains("the shell in `$SHELL`, `/nonexistent/bin/zsh`, does not exist"),
        "{}",
        missing.stderr()
    );
    assert!(
        missing
            .stderr()
            .contains("`assume-role exec no-shell -- bash`"),
        "{}",
        missing.stderr()
    );

    let not_executable = env.work_dir().join("not-a-shell");
    std::fs::write(&not_executable, "plain text\n").unwrap();
    env.set("SHELL", not_executable.to_str().unwrap());
    let refused = env.run(&["exec", "no-shell"]);
    assert_eq!(refused.code(), Some(126));
    assert!(
        refused.stderr().contains(&format!(
            "the shell in `$SHELL`, `{}`, cannot be run",
            not_executable.display()
        )),
        "{}",
        refused.stderr()
    );

    // A command given explicitly does not care about `$SHELL`.
    assert_eq!(env.run(&["exec", "no-shell", "--", "true"]).code(), Some(0));
}

/// `ASSUME_ROLE_FILE_PASSPHRASE` unlocks the keys file, which a child of the same user can read:
/// no child gets it, whichever way it is started. (The harness also fails any run whose output
/// holds the passphrase.)
#[test]
fn no_child_gets_the_keys_file_passphrase() {
    let mut env = TestEnv::with_moto();
    env.set(
        "ASSUME_ROLE_FILE_PASSPHRASE",
        "correct horse battery staple",
    );
    let report = "echo \"passphrase: ${ASSUME_ROLE_FILE_PASSPHRASE-unset}\"";
    for args in [
        &["exec", "client-nomfa", "--", "sh", "-c", report][..],
        &["exec", "client-nomfa", "--server", "--", "sh", "-c", report][..],
        &["each", "client-nomfa", "--", "sh", "-c", report][..],
    ] {
        let out = env.run(args).ok();
        assert!(out.contains("passphrase: unset"), "{args:?}: {out}");
    }
}

/// With `USER` unset (cron, containers, systemd units), the session is still named after the
/// person: the login name from the password database, as `id -un` prints it.
#[cfg(unix)]
#[test]
fn without_user_the_session_is_named_after_the_login_name() {
    let mut env = TestEnv::with_moto();
    env.vars.remove("USER");
    env.vars.remove("USERNAME");
    let login = std::process::Command::new("id")
        .arg("-un")
        .output()
        .unwrap();
    let login = String::from_utf8(login.stdout).unwrap().trim().to_owned();
    let out = env
        .run(&[
            "exec",
            "client-nomfa",
            "--",
            venv_bin("aws").to_str().unwrap(),
            "sts",
            "get-caller-identity",
            "--query",
            "Arn",
            "--output",
            "text",
        ])
        .ok();
    assert!(
        out.trim().ends_with(&format!("/{login}")),
        "the session should be named `{login}`: {out}"
    );
}
