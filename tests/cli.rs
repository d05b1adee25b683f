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
fn without_a_terminal_an_mfa_profile_fails_fast_and_says_how_to_give_the_code() {
    let env = TestEnv::with_moto();
    let fx = moto();
    env.append_config(&format!(
        "\n[profile prompt]\nrole_arn = {}\nsource_profile = contractor\nmfa_serial = {}\nduration_seconds = 7200\nrole_session_name = no-tty\n",
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
        "\n[profile prompt]\nrole_arn = {}\nsource_profile = contractor\nmfa_serial = {}\nduration_seconds = 7200\nrole_session_name = prompted\n",
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
    let run = env.run(&["env", "client-nomfa", "--no-cache", "-v"]);
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

#[test]
fn mfa_codes_come_from_the_flag_then_mfa_process_and_are_checked_first() {
    let env = TestEnv::with_moto();
    let fx = moto();
    env.append_config(&format!(
        "\n[profile both]\nrole_arn = {role}\nsource_profile = contractor\nmfa_serial = {serial}\nmfa_process = echo 111111\nduration_seconds = 7200\nrole_session_name = mfa-both\n\n[profile garbage]\nrole_arn = {role}\nsource_profile = contractor\nmfa_serial = {serial}\nmfa_process = echo not-a-code\nduration_seconds = 7200\nrole_session_name = mfa-garbage\n\n[profile failing]\nrole_arn = {role}\nsource_profile = contractor\nmfa_serial = {serial}\nmfa_process = exit 3\nduration_seconds = 7200\nrole_session_name = mfa-failing\n",
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

// ---- The credential cache and MFA sessions -------------------------------------------------

fn count_assume_roles(session_name: &str) -> usize {
    recorded_assume_roles(session_name).len()
}

fn cache_profile(env: &TestEnv, name: &str, extra: &str) {
    env.append_config(&format!(
        "\n[profile {name}]\nrole_arn = {}\nsource_profile = contractor\nexternal_id = x1\nrole_session_name = {name}\n{extra}",
        moto().client_role_arn
    ));
}

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
    let root = env.dir.path().join("xdg/cache/assume-role");
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
    let sessions = env.dir.path().join("xdg/cache/assume-role/sessions");
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
        run.stderr().contains("can give at most") && run.stderr().contains("--duration"),
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
fn one_mfa_code_serves_two_roles_through_an_mfa_session() {
    let fx = support::moto_checks_off();
    let env = TestEnv::with_fixture(fx);
    let serial = "arn:aws:iam::111111111111:mfa/mfa-session-test";
    for (name, role) in [
        ("mfa-one", &fx.client_role_arn),
        ("mfa-two", &fx.second_role_arn),
    ] {
        env.append_config(&format!(
            "\n[profile {name}]\nrole_arn = {role}\nsource_profile = contractor\nmfa_serial = {serial}\nrole_session_name = {name}\n"
        ));
    }
    env_json(&env, "mfa-one", &["--mfa-token", "314159"]);
    // No code, no terminal: the MFA session must carry it.
    let second = env.run(&["env", "mfa-two", "--format", "json"]);
    assert!(second.output.status.success(), "{}", second.stderr());

    let sent = support::recorded_at(fx);
    let with_serial: Vec<_> = sent
        .iter()
        .filter(|r| r.params.get("SerialNumber").map(String::as_str) == Some(serial))
        .collect();
    assert_eq!(
        with_serial.len(),
        1,
        "exactly one request carries the device: {with_serial:?}"
    );
    assert_eq!(with_serial[0].params["Action"], "GetSessionToken");
    assert_eq!(with_serial[0].params["TokenCode"], "314159");
    assert_eq!(with_serial[0].params["DurationSeconds"], "43200");
    let assumed: Vec<_> = sent
        .iter()
        .filter(|r| {
            ["mfa-one", "mfa-two"]
                .contains(&r.params.get("RoleSessionName").map_or("", String::as_str))
        })
        .collect();
    assert_eq!(assumed.len(), 2);
    assert!(
        assumed.iter().all(|r| !r.params.contains_key("TokenCode")),
        "{assumed:?}"
    );
    let table = env.run(&["cache", "list"]).ok();
    assert!(
        table.contains("MFA session") && table.contains(serial),
        "{table}"
    );
}

#[test]
fn a_session_over_an_hour_sends_the_code_to_assume_role_directly() {
    let fx = support::moto_checks_off();
    let env = TestEnv::with_fixture(fx);
    let serial = "arn:aws:iam::111111111111:mfa/direct-test";
    env.append_config(&format!(
        "\n[profile mfa-long]\nrole_arn = {}\nsource_profile = contractor\nmfa_serial = {serial}\nduration_seconds = 14400\nrole_session_name = mfa-long\n",
        fx.client_role_arn
    ));
    let run = env.run(&["-v", "env", "mfa-long", "--mfa-token", "271828"]);
    assert!(run.output.status.success(), "{}", run.stderr());
    assert!(
        run.stderr()
            .contains("sending the code to AssumeRole directly"),
        "{}",
        run.stderr()
    );
    let sent: Vec<_> = support::recorded_at(fx)
        .into_iter()
        .filter(|r| r.params.get("SerialNumber").map(String::as_str) == Some(serial))
        .collect();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].params["Action"], "AssumeRole");
    assert_eq!(sent[0].params["TokenCode"], "271828");
    assert_eq!(sent[0].params["DurationSeconds"], "14400");
}

#[test]
fn a_code_used_moments_ago_is_refused_before_any_call() {
    let env = TestEnv::with_moto();
    let fx = moto();
    env.append_config(&format!(
        "\n[profile mfa-reuse]\nrole_arn = {}\nsource_profile = contractor\nexternal_id = {}\nmfa_serial = {}\nduration_seconds = 7200\nrole_session_name = mfa-reuse\n",
        fx.client_role_arn, fx.client_external_id, fx.mfa_serial
    ));
    env_json(&env, "mfa-reuse", &["--mfa-token", "161803"]);
    let run = env.run(&["env", "mfa-reuse", "--mfa-token", "161803", "--no-cache"]);
    assert_eq!(run.code(), Some(4), "{}", run.stderr());
    assert!(
        run.stderr().contains("was already used") && run.stderr().contains("wait for"),
        "{}",
        run.stderr()
    );
    assert_eq!(count_assume_roles("mfa-reuse"), 1);
    // The next code goes through.
    env_json(&env, "mfa-reuse", &["--mfa-token", "161804", "--no-cache"]);
    assert_eq!(count_assume_roles("mfa-reuse"), 2);
}

#[test]
fn a_run_killed_while_holding_a_lock_blocks_nothing() {
    let env = TestEnv::with_moto();
    cache_profile(&env, "cache-killed", "");
    env_json(&env, "cache-killed", &[]);
    let locks = env.dir.path().join("xdg/cache/assume-role/locks");
    // Another process takes every lock (flock, as std's File::lock does), then dies by SIGKILL
    // after a moment; a run in between waits for it, and then proceeds.
    let holder = "import fcntl, glob, os, sys, time\nfs = [open(p, 'w') for p in glob.glob(sys.argv[1] + '/*.lock')]\n[fcntl.flock(f, fcntl.LOCK_EX) for f in fs]\nprint(len(fs), flush=True)\ntime.sleep(1.5)\nos.kill(os.getpid(), 9)\n";
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
    let run = env.run(&["env", "cache-killed", "--no-cache", "--format", "json"]);
    assert!(run.output.status.success(), "{}", run.stderr());
    assert!(
        run.stderr().contains("waiting for another run"),
        "{}",
        run.stderr()
    );
    assert!(
        run.elapsed < std::time::Duration::from_secs(10),
        "{:?}",
        run.elapsed
    );
    let _ = python.wait();
    assert_eq!(count_assume_roles("cache-killed"), 2);
}

// ---- The client's side: onboarding ----------------------------------------------------------

#[test]
fn trust_policy_prints_the_document_and_a_generated_id_on_stderr() {
    let env = TestEnv::new();
    let run = env.run(&[
        "onboard",
        "trust-policy",
        "--contractor-account",
        "111111111111",
        "--require-mfa",
        "--source-ip",
        "203.0.113.0/24",
    ]);
    let policy: serde_json::Value = serde_json::from_str(&run.ok()).unwrap();
    let statement = &policy["Statement"][0];
    assert_eq!(policy["Version"], "2012-10-17");
    assert_eq!(statement["Effect"], "Allow");
    assert_eq!(statement["Action"], "sts:AssumeRole");
    assert_eq!(
        statement["Principal"]["AWS"],
        "arn:aws:iam::111111111111:root"
    );
    assert_eq!(
        statement["Condition"]["Bool"]["aws:MultiFactorAuthPresent"],
        "true"
    );
    assert_eq!(
        statement["Condition"]["IpAddress"]["aws:SourceIp"],
        "203.0.113.0/24"
    );
    let id = statement["Condition"]["StringEquals"]["sts:ExternalId"]
        .as_str()
        .unwrap();
    assert!(id.len() >= 32, "{id}");
    assert!(
        run.stderr().contains(id),
        "the generated ID must be shown: {}",
        run.stderr()
    );
    // A given ID is used as is, and nothing is said about generating one.
    let run = env.run(&[
        "onboard",
        "trust-policy",
        "--contractor-principal",
        "arn:aws:iam::111111111111:user/alice",
        "--external-id",
        "given-id-1",
    ]);
    let policy: serde_json::Value = serde_json::from_str(&run.ok()).unwrap();
    assert_eq!(
        policy["Statement"][0]["Condition"]["StringEquals"]["sts:ExternalId"],
        "given-id-1"
    );
    assert_eq!(run.stderr(), "");
}

#[test]
fn onboarding_refuses_bad_accounts_and_arns_by_name() {
    let env = TestEnv::new();
    for (args, needle) in [
        (
            &["onboard", "trust-policy", "--contractor-account", "12345"][..],
            "`--contractor-account`: `12345` is not a valid AWS account ID",
        ),
        (
            &[
                "onboard",
                "trust-policy",
                "--contractor-principal",
                "arn:aws:iam::111111111111:group/x",
            ],
            "`--contractor-principal`",
        ),
        (&["onboard", "trust-policy"], "--contractor-account ID"),
        (
            &[
                "onboard",
                "contractor-policy",
                "--role-arn",
                "arn:aws:iam::2222:role/x",
            ],
            "`--role-arn`: `arn:aws:iam::2222:role/x` is not a valid role ARN",
        ),
        (
            &[
                "onboard",
                "cloudformation",
                "--contractor-account",
                "111111111111",
                "--managed-policy",
                "arn:aws:s3:::x",
            ],
            "`--managed-policy`",
        ),
        (
            &[
                "profile",
                "add",
                "p",
                "--role-arn",
                "arn:aws:iam::222:role/x",
            ],
            "`--role-arn`",
        ),
    ] {
        let run = env.run(args);
        assert_eq!(run.code(), Some(3), "{args:?}: {}", run.stderr());
        assert_eq!(run.stdout(), "");
        assert!(run.stderr().contains(needle), "{args:?}: {}", run.stderr());
    }
}

#[test]
fn permissions_presets_and_the_contractor_policy() {
    let env = TestEnv::new();
    let ro: serde_json::Value = serde_json::from_str(
        &env.run(&["onboard", "permissions", "--preset", "read-only"])
            .ok(),
    )
    .unwrap();
    assert_eq!(
        ro["ManagedPolicyArn"],
        "arn:aws:iam::aws:policy/ReadOnlyAccess"
    );
    let put: serde_json::Value = serde_json::from_str(
        &env.run(&[
            "onboard",
            "permissions",
            "--preset",
            "s3-put",
            "--bucket",
            "uploads",
        ])
        .ok(),
    )
    .unwrap();
    assert_eq!(put["Statement"][0]["Action"], "s3:PutObject");
    assert_eq!(put["Statement"][0]["Resource"], "arn:aws:s3:::uploads/*");
    assert_eq!(
        env.run(&["onboard", "permissions", "--preset", "s3-put"])
            .code(),
        Some(2)
    );
    let own: serde_json::Value = serde_json::from_str(
        &env.run(&[
            "onboard",
            "contractor-policy",
            "--role-arn",
            "arn:aws:iam::222222222222:role/a",
            "--role-arn",
            "arn:aws:iam::333333333333:role/b",
        ])
        .ok(),
    )
    .unwrap();
    assert_eq!(
        own["Statement"][0]["Resource"],
        serde_json::json!([
            "arn:aws:iam::222222222222:role/a",
            "arn:aws:iam::333333333333:role/b"
        ])
    );
}

#[test]
fn cfn_lint_accepts_the_templates() {
    let env = TestEnv::new();
    let combos: [&[&str]; 4] = [
        &["--contractor-account", "111111111111"],
        &[
            "--contractor-account",
            "111111111111",
            "--require-mfa",
            "--managed-policy",
            "ReadOnlyAccess",
            "--max-session-duration",
            "4h",
        ],
        &[
            "--contractor-principal",
            "arn:aws:iam::111111111111:user/alice",
            "--contractor-account",
            "333333333333",
            "--source-ip",
            "203.0.113.0/24",
            "--source-ip",
            "2001:db8::/32",
            "--not-after",
            "2027-06-30T23:59:59Z",
            "--role-name",
            "contractor-access",
            "--external-id",
            "preset-id-42",
        ],
        &[
            "--contractor-account",
            "111111111111",
            "--managed-policy",
            "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess",
            "--managed-policy",
            "SecurityAudit",
        ],
    ];
    for (i, combo) in combos.iter().enumerate() {
        let mut args = vec!["onboard", "cloudformation"];
        args.extend_from_slice(combo);
        let yaml = env.run(&args).ok();
        let path = env.work_dir().join(format!("template-{i}.yaml"));
        std::fs::write(&path, &yaml).unwrap();
        let mut lint = env.command(venv_bin("cfn-lint"));
        lint.arg(&path);
        let out = support::run_with_timeout(lint);
        // cfn-lint's exit code is a bit set: 2 means errors, 4 warnings, 8 informational, and
        // anything else (1, 32: a crash or bad usage) is no verdict at all.
        let code = out.code().unwrap();
        assert!(
            [0, 4, 8, 12].contains(&code),
            "cfn-lint said {code} for {combo:?}:\n{}{}\n{yaml}",
            out.stdout(),
            out.stderr()
        );
        assert!(
            yaml.contains("Default:"),
            "the parameter has a default: {yaml}"
        );
        assert!(
            yaml.contains("ExternalId")
                && yaml.contains("RoleArn")
                && yaml.contains("AWS::IAM::Role"),
            "{yaml}"
        );
    }
}

#[test]
fn publish_uploads_the_template_and_prints_the_launch_link() {
    let env = TestEnv::with_moto();
    let fx = moto();
    let run = env.run(&[
        "onboard",
        "publish",
        "--bucket",
        &fx.contractor_bucket,
        "--stack-name",
        "acme-access",
        "--profile",
        "contractor",
        "--region",
        "eu-west-1",
        "--contractor-account",
        "111111111111",
        "--require-mfa",
        "--managed-policy",
        "ReadOnlyAccess",
    ]);
    let out = run.ok();
    let url = out
        .lines()
        .find(|l| l.starts_with("https://console.aws.amazon.com/cloudformation/home?"))
        .expect("a launch link");
    let (_, fragment) = url.split_once("#/stacks/quickcreate?").unwrap();
    let params: BTreeMap<String, String> = fragment
        .split('&')
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap();
            (k.to_owned(), percent_decode(v))
        })
        .collect();
    assert!(url.contains("region=eu%2Dwest%2D1"), "{url}");
    assert_eq!(params["stackName"], "acme-access");
    let external_id = &params["param_ExternalId"];
    assert!(external_id.len() >= 32);
    assert!(out.contains(&format!("assume-role profile add 'acme-access' --role-arn <RoleArn from the client> --source-profile 'contractor' --external-id '{external_id}' --region 'eu-west-1' --mfa-serial")), "{out}");
    // The template URL is presigned for the object (moto cannot serve presigned URLs while its
    // checks are on, so the object itself is read with the contractor's keys).
    let template_url = &params["templateURL"];
    assert!(
        template_url.contains("X-Amz-Signature=")
            && template_url.contains("contractor-templates/assume-role/acme-access.yaml"),
        "{template_url}"
    );
    assert!(
        out.contains("Template:    s3://contractor-templates/assume-role/acme-access.yaml"),
        "{out}"
    );
    let mut fetch = env.command(support::python());
    fetch.args([
        "-c",
        "import sys, boto3; s3 = boto3.client('s3', endpoint_url=sys.argv[1], region_name='us-east-1', aws_access_key_id=sys.argv[2], aws_secret_access_key=sys.argv[3]); sys.stdout.write(s3.get_object(Bucket=sys.argv[4], Key=sys.argv[5])['Body'].read().decode())",
        &fx.endpoint, &fx.contractor.access_key_id, &fx.contractor.secret_access_key, &fx.contractor_bucket, "assume-role/acme-access.yaml",
    ]);
    let template = support::run_with_timeout(fetch).ok();
    assert!(
        template.contains("AWS::IAM::Role") && template.contains("aws:MultiFactorAuthPresent"),
        "{template}"
    );
    assert!(
        !template.contains(external_id.as_str()),
        "the ID travels in the link, not the template"
    );
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            out.push(u8::from_str_radix(&text[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

#[test]
fn profile_add_keeps_the_file_refuses_to_clobber_and_works_at_once() {
    let env = TestEnv::with_moto();
    let fx = moto();
    let before = std::fs::read(env.config_path()).unwrap();
    let add = |force: bool| {
        let mut args = vec![
            "profile",
            "add",
            "acme",
            "--role-arn",
            &fx.client_role_arn,
            "--source-profile",
            "contractor",
            "--external-id",
            &fx.client_external_id,
            "--region",
            "eu-west-1",
            "--session-name",
            "added-profile",
        ];
        if force {
            args.push("--force");
        }
        env.run(&args)
    };
    let run = add(false);
    assert!(run.output.status.success(), "{}", run.stderr());
    let after = std::fs::read(env.config_path()).unwrap();
    assert_eq!(
        &after[..before.len()],
        &before[..],
        "existing bytes changed"
    );
    assert_eq!(
        std::fs::read(format!("{}.bak", env.config_path().display())).unwrap(),
        before
    );
    let added = String::from_utf8_lossy(&after[before.len()..]).into_owned();
    assert!(added.contains("[profile acme]\nrole_arn = "), "{added}");

    // It works at once.
    let vars = env_json(&env, "acme", &[]);
    assert_eq!(vars["AWS_ACCOUNT_ID"], "222222222222");
    assert_eq!(vars["AWS_REGION"], "eu-west-1");
    assert_eq!(count_assume_roles("added-profile"), 1);

    // A second add refuses and changes nothing; --force replaces the section.
    let run = add(false);
    assert_eq!(run.code(), Some(3));
    assert!(
        run.stderr().contains("profile `acme` already exists") && run.stderr().contains("--force"),
        "{}",
        run.stderr()
    );
    assert_eq!(std::fs::read(env.config_path()).unwrap(), after);
    assert!(add(true).output.status.success());
    let forced = std::fs::read_to_string(env.config_path()).unwrap();
    assert_eq!(forced.matches("[profile acme]").count(), 1, "{forced}");
    assert!(forced.starts_with(std::str::from_utf8(&before).unwrap()));

    // A source profile that does not exist is caught before the file changes.
    let run = env.run(&[
        "profile",
        "add",
        "orphan",
        "--role-arn",
        &fx.client_role_arn,
        "--source-profile",
        "nobody",
    ]);
    assert_eq!(run.code(), Some(3));
    assert!(
        run.stderr().contains("source profile `nobody`"),
        "{}",
        run.stderr()
    );
    assert_eq!(std::fs::read_to_string(env.config_path()).unwrap(), forced);
}

// ---- What moto does not do, from a loopback stub --------------------------------------------

fn stub_env(stub: &support::Stub) -> TestEnv {
    let mut env = TestEnv::with_moto();
    env.set("AWS_ENDPOINT_URL", &stub.url);
    env
}

#[test]
fn a_wrong_mfa_code_says_so() {
    let stub = support::Stub::start(
        403,
        "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>MultiFactorAuthentication failed with invalid MFA one time pass code. </Message></Error><RequestId>1</RequestId></ErrorResponse>",
    );
    let env = stub_env(&stub);
    let run = env.run(&["env", "client", "--mfa-token", "000000"]);
    assert_eq!(run.code(), Some(5), "{}", run.stderr());
    assert!(
        run.stderr().contains("MultiFactorAuthentication failed"),
        "{}",
        run.stderr()
    );
    assert!(
        run.stderr()
            .contains("hint: the MFA code was wrong, expired or already used"),
        "{}",
        run.stderr()
    );
    // A request carrying a one-time code is never retried.
    assert_eq!(stub.count(), 1);
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
            .contains(&format!("cannot reach STS at {}", stub.url)),
        "{}",
        run.stderr()
    );
    assert!(
        run.elapsed < std::time::Duration::from_secs(20),
        "{:?}",
        run.elapsed
    );
}

#[test]
fn profile_add_refuses_values_that_would_inject_config() {
    let env = TestEnv::with_moto();
    let before = std::fs::read(env.config_path()).unwrap();
    let evil = "x\nsource_profile = contractor\n[profile default]\ncredential_process = sh -c 'touch pwned'";
    for (flag, value) in [
        (
            "--role-arn",
            format!("arn:aws:iam::222222222222:role/{evil}"),
        ),
        ("--external-id", format!("id{evil}")),
        (
            "--mfa-serial",
            format!("arn:aws:iam::111111111111:mfa/{evil}"),
        ),
        ("--region", format!("eu-west-1{evil}")),
        ("--session-name", format!("me{evil}")),
    ] {
        let mut args = vec!["profile", "add", "evil", "--source-profile", "contractor"];
        if flag != "--role-arn" {
            args.extend(["--role-arn", "arn:aws:iam::222222222222:role/ok"]);
        }
        args.extend([flag, value.as_str()]);
        let run = env.run(&args);
        assert_eq!(run.code(), Some(3), "{flag}: {}", run.stderr());
        assert_eq!(
            std::fs::read(env.config_path()).unwrap(),
            before,
            "{flag} changed the file"
        );
    }
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
    let root = env.dir.path().join("xdg/cache/assume-role");
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

#[test]
fn sixteen_parallel_runs_ask_for_one_mfa_code() {
    let env = std::sync::Arc::new(TestEnv::with_moto());
    let fx = moto();
    let counter = env.work_dir().join("mfa-asked");
    let script = env.work_dir().join("mfa.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho asked >> {}\nsleep 0.3\necho 424242\n",
            counter.display()
        ),
    )
    .unwrap();
    env.append_config(&format!(
        "\n[profile mfa-flight]\nrole_arn = {}\nsource_profile = contractor\nexternal_id = {}\nmfa_serial = {}\nmfa_process = sh {}\nduration_seconds = 7200\nrole_session_name = mfa-flight\n",
        fx.client_role_arn, fx.client_external_id, fx.mfa_serial, script.display()
    ));
    let runs: Vec<_> = (0..16)
        .map(|_| {
            let env = env.clone();
            std::thread::spawn(move || env.run(&["credential-process", "mfa-flight"]).ok())
        })
        .collect();
    let outputs: Vec<String> = runs.into_iter().map(|r| r.join().unwrap()).collect();
    assert!(outputs.iter().all(|o| o == &outputs[0]));
    assert_eq!(
        std::fs::read_to_string(&counter).unwrap().lines().count(),
        1,
        "the code was asked for more than once"
    );
    assert_eq!(count_assume_roles("mfa-flight"), 1);
}
