//! Integration tests: the real binary, a hermetic environment, moto on loopback with checks on,
//! and real third-party consumers (bash, fish, AWS CLI v1, boto3) of what it prints.

// Setting up a pseudo-terminal and detaching from the developer's terminal need libc calls.
#![allow(unsafe_code)]

mod support;

use std::collections::BTreeMap;
use support::{TestEnv, moto, parse_env0, recorded_assume_roles, venv_bin};

const SESSION_VARS: [&str; 8] = [
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_CREDENTIAL_EXPIRATION",
    "AWS_ACCOUNT_ID",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "ASSUME_ROLE_PROFILE",
];

const REMOVED_VARS: [&str; 13] = [
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SECURITY_TOKEN",
    "AWS_SESSION_EXPIRATION",
    "AWS_CREDENTIAL_FILE",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_SESSION_NAME",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    "AWS_VAULT",
];

fn env_json(env: &TestEnv, profile: &str, extra: &[&str]) -> BTreeMap<String, String> {
    let mut args = vec!["env", profile, "--format", "json"];
    args.extend_from_slice(extra);
    serde_json::from_str(&env.run(&args).ok()).unwrap()
}

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
        let out = support::run_with_timeout(bash);
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
    let out = support::run_with_timeout(bash);
    let identity: serde_json::Value = serde_json::from_str(&out.ok()).unwrap();
    assert_eq!(
        identity["Arn"],
        "arn:aws:sts::222222222222:assumed-role/client-admin/tester"
    );
    assert_eq!(identity["Account"], "222222222222");
}

#[test]
fn env_output_sourced_in_fish_is_used_by_the_aws_cli() {
    if std::process::Command::new("fish")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("skipping: fish is not installed");
        return;
    }
    let env = TestEnv::with_moto();
    let mut fish = env.command("fish");
    fish.args(["--no-config", "-c"]).arg(format!(
        "{bin} env client --format fish | source; and {aws} sts get-caller-identity --query Arn --output text",
        bin = support::BIN,
        aws = venv_bin("aws").display()
    ));
    let out = support::run_with_timeout(fish);
    // fish resets $USER from the password database, so the session name is not ours to pin.
    assert!(
        out.ok()
            .starts_with("arn:aws:sts::222222222222:assumed-role/client-admin/"),
        "{}",
        out.stdout()
    );
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
    let out = support::run_with_timeout(aws);
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
    let out = support::run_with_timeout(boto);
    assert_eq!(
        out.ok(),
        format!(
            "arn:aws:sts::222222222222:assumed-role/client-admin/tester\n{}\n",
            moto().bucket
        )
    );
}

#[test]
fn a_wrong_external_id_is_access_denied_with_hints() {
    let env = TestEnv::with_moto();
    let run = env.run(&["env", "same-wrong-ext"]);
    assert_eq!(run.code(), Some(5), "{}", run.stderr());
    assert_eq!(run.stdout(), "");
    let stderr = run.stderr();
    assert!(stderr.contains("STS refused to assume `arn:aws:iam::111111111111:role/same-account-ext` for profile `same-wrong-ext`: AccessDenied"), "{stderr}");
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
    let out = support::run_with_timeout(cmd);
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
        "\n[profile params-process]\nrole_arn = {}\nsource_profile = contractor\nmfa_serial = {}\nmfa_process = printf ' 864209\\n'\nrole_session_name = params-process\n",
        fx.client_role_arn, fx.mfa_serial
    ));
    env_json(&env, "params-process", &[]);
    let p = &recorded_assume_roles("params-process")[0].params;
    assert_eq!(p["TokenCode"], "864209");
    assert!(
        !p.contains_key("ExternalId") && !p.contains_key("DurationSeconds"),
        "{p:?}"
    );
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
fn without_a_terminal_an_mfa_profile_fails_fast_and_says_how_to_give_the_code() {
    let env = TestEnv::with_moto();
    let fx = moto();
    env.append_config(&format!(
        "\n[profile prompt]\nrole_arn = {}\nsource_profile = contractor\nmfa_serial = {}\nrole_session_name = no-tty\n",
        fx.client_role_arn, fx.mfa_serial
    ));
    let run = env.run(&["credential-process", "prompt"]);
    assert_eq!(run.code(), Some(4));
    assert_eq!(run.stdout(), "");
    let stderr = run.stderr();
    assert!(stderr.contains("no terminal"), "{stderr}");
    assert!(
        stderr.contains(&fx.mfa_serial)
            && stderr.contains("--mfa-token")
            && stderr.contains("mfa_process"),
        "{stderr}"
    );
    assert!(
        run.elapsed < std::time::Duration::from_secs(5),
        "took {:?}",
        run.elapsed
    );
    assert!(
        recorded_assume_roles("no-tty").is_empty(),
        "no request may be sent"
    );
}

#[cfg(unix)]
#[test]
fn the_mfa_prompt_goes_to_the_terminal_not_stdout() {
    use std::io::{Read, Write};
    use std::os::fd::FromRawFd;
    use std::os::unix::process::CommandExt;

    let env = TestEnv::with_moto();
    let fx = moto();
    env.append_config(&format!(
        "\n[profile prompt]\nrole_arn = {}\nsource_profile = contractor\nmfa_serial = {}\nrole_session_name = prompted\n",
        fx.client_role_arn, fx.mfa_serial
    ));
    let (mut master, mut slave) = (0, 0);
    // SAFETY: openpty fills two fds we own from here on.
    let rc = unsafe {
        libc::openpty(
            &raw mut master,
            &raw mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    assert_eq!(rc, 0);
    let mut cmd = std::process::Command::new(support::BIN);
    cmd.args(["env", "prompt"])
        .env_clear()
        .envs(&env.vars)
        .stdin(std::process::Stdio::null());
    // SAFETY: setsid and TIOCSCTTY are async-signal-safe; they make the pty our controlling
    // terminal, so /dev/tty is the pty while stdout stays a pipe.
    unsafe {
        cmd.pre_exec(move || {
            libc::setsid();
            libc::ioctl(slave, libc::TIOCSCTTY, 0);
            Ok(())
        });
    }
    let child = cmd
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // SAFETY: the child has its own copy; the parent closes its slave end.
    unsafe { libc::close(slave) };
    // SAFETY: master is an open fd owned by nothing else.
    let mut terminal = unsafe { std::fs::File::from_raw_fd(master) };
    let mut seen = Vec::new();
    let mut buf = [0u8; 256];
    while !String::from_utf8_lossy(&seen).contains("MFA code") {
        let n = terminal.read(&mut buf).expect("read the terminal");
        assert!(n > 0, "terminal closed before the prompt");
        seen.extend_from_slice(&buf[..n]);
    }
    terminal.write_all(b"975310\n").unwrap();
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.starts_with("export AWS_ACCESS_KEY_ID='ASIA"),
        "{stdout}"
    );
    assert!(
        !stdout.contains("MFA") && !String::from_utf8_lossy(&output.stderr).contains("MFA code")
    );
    assert!(String::from_utf8_lossy(&seen).contains(&fx.mfa_serial));
    assert_eq!(
        recorded_assume_roles("prompted")[0].params["TokenCode"],
        "975310"
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
    let shells: [(&str, &str, &[&str]); 5] = [
        ("sh", "sh", &["-c"]),
        ("bash", "sh", &["-c"]),
        ("dash", "sh", &["-c"]),
        ("zsh", "sh", &["-c"]),
        ("fish", "fish", &["--no-config", "-c"]),
    ];
    let mut tried = 0;
    for (shell, format, args) in shells {
        if std::process::Command::new(shell)
            .arg("-c")
            .arg("true")
            .output()
            .is_err()
        {
            eprintln!("skipping {shell}: not installed");
            continue;
        }
        tried += 1;
        for profile in ["hostile-keys", "x'$(touch pwned)'", "hostile-region"] {
            let quoted = if format == "fish" {
                format!("'{}'", profile.replace('\\', "\\\\").replace('\'', "\\'"))
            } else {
                format!("'{}'", profile.replace('\'', "'\\''"))
            };
            let script = if format == "fish" {
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
            let mut cmd = env.command(shell);
            cmd.args(args).arg(script);
            let out = support::run_with_timeout(cmd);
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
                assert!(
                    out.stderr().contains(expected),
                    "{shell} {profile}: {}",
                    out.stderr()
                );
            }
        }
    }
    assert!(tried >= 2, "at least sh and bash must exist");
}

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
    let run = env.run(&["env", "client-nomfa", "-v"]);
    assert!(run.stderr().contains("AssumeRole"), "{}", run.stderr());
}

#[test]
fn an_unknown_profile_names_the_files_and_the_closest_name() {
    let env = TestEnv::with_moto();
    let run = env.run(&["exec", "clinet", "--", "true"]);
    assert_eq!(run.code(), Some(3));
    assert_eq!(run.stdout(), "");
    let stderr = run.stderr();
    assert!(
        stderr.contains(&format!(
            "profile `clinet` is not in `{}`",
            env.config_path().display()
        )),
        "{stderr}"
    );
    assert!(stderr.contains("did you mean `client`?"), "{stderr}");
}

#[test]
fn a_malformed_config_names_file_and_line() {
    let env = TestEnv::new();
    env.write_config("[profile a]\nregion = eu-west-1\nthis line is broken\n");
    let run = env.run(&["list"]);
    assert_eq!(run.code(), Some(3));
    assert!(
        run.stderr()
            .contains(&format!("{} on line 3", env.config_path().display())),
        "{}",
        run.stderr()
    );
}

#[test]
fn an_unreachable_endpoint_is_named() {
    let mut env = TestEnv::with_moto();
    env.set("AWS_ENDPOINT_URL", "http://127.0.0.1:9");
    let run = env.run(&["env", "client-nomfa"]);
    assert_eq!(run.code(), Some(6));
    assert!(
        run.stderr()
            .contains("cannot reach STS at http://127.0.0.1:9"),
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
fn list_shows_every_profile() {
    let env = TestEnv::with_moto();
    let table = env.run(&["list"]).ok();
    let header = table.lines().next().unwrap();
    assert!(
        header.starts_with("PROFILE") && header.contains("KIND") && header.contains("MFA"),
        "{table}"
    );
    let client = table.lines().find(|l| l.starts_with("client ")).unwrap();
    assert!(
        client.contains("role") && client.contains("contractor") && client.contains("yes"),
        "{client}"
    );
    let json: Vec<serde_json::Value> =
        serde_json::from_str(&env.run(&["list", "--json"]).ok()).unwrap();
    let names: Vec<&str> = json.iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert!(
        names.contains(&"contractor") && names.contains(&"second"),
        "{names:?}"
    );
    let contractor = json.iter().find(|p| p["name"] == "contractor").unwrap();
    assert_eq!(contractor["kind"], "static-keys");
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
fn help_and_version_work() {
    let env = TestEnv::new();
    assert!(env.run(&["--help"]).ok().contains("credential-process"));
    assert!(env.run(&["--version"]).ok().starts_with("assume-role "));
    let run = env.run(&["exec"]);
    assert_eq!(run.code(), Some(2));
}

#[test]
fn with_no_aws_files_at_all_commands_explain_instead_of_crashing() {
    let env = TestEnv::new();
    let table = env.run(&["list"]).ok();
    assert_eq!(table.lines().count(), 1, "{table}");
    let run = env.run(&["env", "client"]);
    assert_eq!(run.code(), Some(3));
    assert!(run.stderr().contains("(not found)"), "{}", run.stderr());
    assert!(!run.stderr().contains("panicked"), "{}", run.stderr());
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
    let out = support::run_with_timeout(cmd).ok();
    assert_eq!(
        out,
        format!(
            "assumed {} in account 222222222222\n{}\n",
            moto().client_role_arn,
            moto().bucket
        )
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
fn list_keeps_a_private_index_that_follows_every_edit() {
    let env = TestEnv::with_moto();
    let first = env.run(&["list"]).ok();
    let index = env
        .dir
        .path()
        .join("xdg/cache/assume-role/profiles-list.json");
    assert!(index.exists());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&index), 0o600);
        assert_eq!(mode(index.parent().unwrap()), 0o700);
    }
    let text = std::fs::read_to_string(&index).unwrap();
    assert!(!text.contains(&moto().contractor.secret_access_key));
    // Served from the index, identically.
    assert_eq!(env.run(&["list"]).ok(), first);
    // An edit of the same length is still seen (inode, size and times all count).
    env.append_config("\n[profile added-later]\nregion = eu-west-3\n");
    assert!(env.run(&["list"]).ok().contains("added-later"));
    // A corrupt index is ignored and replaced.
    std::fs::write(&index, "{ not json").unwrap();
    assert!(env.run(&["list"]).ok().contains("added-later"));
    assert!(
        std::fs::read_to_string(&index)
            .unwrap()
            .contains("added-later")
    );
}

#[test]
fn no_secret_reaches_stderr_on_failures_either() {
    let env = TestEnv::with_moto();
    let fx = moto();
    env.append_config(&format!(
        "\n[profile seeded]\nrole_arn = {}\nsource_profile = contractor\nmfa_serial = {}\nmfa_process = oathtool --totp -b JBSWY3DPEHPK3PXP\nrole_session_name = seeded\n",
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

#[test]
fn mfa_codes_come_from_the_flag_then_mfa_process_and_are_checked_first() {
    let env = TestEnv::with_moto();
    let fx = moto();
    env.append_config(&format!(
        "\n[profile both]\nrole_arn = {role}\nsource_profile = contractor\nmfa_serial = {serial}\nmfa_process = echo 111111\nrole_session_name = mfa-both\n\n[profile garbage]\nrole_arn = {role}\nsource_profile = contractor\nmfa_serial = {serial}\nmfa_process = echo not-a-code\nrole_session_name = mfa-garbage\n\n[profile failing]\nrole_arn = {role}\nsource_profile = contractor\nmfa_serial = {serial}\nmfa_process = exit 3\nrole_session_name = mfa-failing\n",
        role = fx.client_role_arn,
        serial = fx.mfa_serial
    ));
    env_json(&env, "both", &["--mfa-token", "222222"]);
    assert_eq!(
        recorded_assume_roles("mfa-both")[0].params["TokenCode"],
        "222222"
    );

    let run = env.run(&["env", "garbage"]);
    assert_eq!(run.code(), Some(4));
    assert!(
        run.stderr()
            .contains("the MFA code from `mfa_process` of profile `garbage` is not 6 digits"),
        "{}",
        run.stderr()
    );
    let run = env.run(&["env", "failing"]);
    assert_eq!(run.code(), Some(4));
    assert!(
        run.stderr()
            .contains("`mfa_process` of profile `failing` failed"),
        "{}",
        run.stderr()
    );
    assert!(
        recorded_assume_roles("mfa-garbage").is_empty()
            && recorded_assume_roles("mfa-failing").is_empty()
    );
}

#[test]
fn a_credential_process_that_calls_us_back_is_a_loop_not_a_fork_bomb() {
    let env = TestEnv::with_moto();
    env.append_config(&format!(
        "\n[profile selfish]\ncredential_process = {} credential-process selfish\n",
        support::BIN
    ));
    let run = env.run(&["credential-process", "selfish"]);
    assert_ne!(run.code(), Some(0));
    assert_eq!(run.stdout(), "");
    assert!(
        run.stderr()
            .contains("profiles form a loop: selfish → selfish"),
        "{}",
        run.stderr()
    );
}

#[test]
fn a_profile_with_credential_process_works_as_a_source() {
    let env = TestEnv::with_moto();
    let fx = moto();
    let script = env.work_dir().join("creds.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nprintf '{{\"Version\": 1, \"AccessKeyId\": \"{}\", \"SecretAccessKey\": \"{}\"}}'\n",
            fx.contractor.access_key_id, fx.contractor.secret_access_key
        ),
    )
    .unwrap();
    env.append_config(&format!(
        "\n[profile from-process]\ncredential_process = sh {}\n\n[profile via-process-source]\nrole_arn = {}\nsource_profile = from-process\nexternal_id = x1\n",
        script.display(),
        fx.client_role_arn
    ));
    assert_eq!(
        env_json(&env, "via-process-source", &[])["AWS_ACCOUNT_ID"],
        "222222222222"
    );
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
fn an_unreachable_service_specific_endpoint_is_the_one_named() {
    let mut env = TestEnv::with_moto();
    env.set("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:9");
    let run = env.run(&["env", "client-nomfa"]);
    assert_eq!(run.code(), Some(6));
    assert!(
        run.stderr()
            .contains("cannot reach STS at http://127.0.0.1:9"),
        "{}",
        run.stderr()
    );
}
