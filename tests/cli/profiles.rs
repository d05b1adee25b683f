//! Reading the AWS config: unknown profiles, malformed files, `list`, and sources of credentials.

use super::*;

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
fn a_malformed_section_names_file_and_line_and_the_others_still_work() {
    let env = TestEnv::with_moto();
    // Broken sections before and after the ones in use: a stray line, a header without its
    // `]`, and a line that is not `key = value`.
    let config = std::fs::read_to_string(env.config_path()).unwrap();
    env.write_config(&format!(
        "stray line\n[profile a]\nregion = eu-west-1\nthis line is broken\n\n{config}\n[profile r]\nregion = eu-west-2\n[profile half\nregion = x\n"
    ));
    let list = env.run(&["list"]);
    assert_eq!(list.code(), Some(0), "{}", list.stderr());
    let table = list.stdout();
    assert!(
        table.contains("client ") && !table.contains("\na "),
        "{table}"
    );
    let warned = format!("line 4 of `{}`", env.config_path().display());
    assert!(
        list.stderr().contains(&warned) && list.stderr().contains("`[profile a]` is skipped"),
        "{}",
        list.stderr()
    );
    assert!(
        list.stderr().contains("`[profile half]` is skipped"),
        "{}",
        list.stderr()
    );
    // The set-aside section's keys belong to no other section: `r` keeps its own region.
    assert!(!list.stderr().contains("twice"), "{}", list.stderr());
    env.run(&["env", "client", "--mfa-token", "123456"]).ok();
    let run = env.run(&["env", "a"]);
    assert_eq!(run.code(), Some(3));
    assert!(run.stderr().contains(&warned), "{}", run.stderr());
    assert!(!run.stderr().contains("is not in"), "{}", run.stderr());
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
fn list_keeps_a_private_index_that_follows_every_edit() {
    let env = TestEnv::with_moto();
    let first = env.run(&["list"]).ok();
    let index = env.cache_dir().join("profiles-list.json");
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
fn list_without_profiles_says_where_it_looked_and_how_to_add_one() {
    let env = TestEnv::new();
    for config in [None, Some("")] {
        if let Some(text) = config {
            env.write_config(text);
        }
        let table = env.run(&["list"]);
        assert_eq!(
            table.ok(),
            "PROFILE  KIND  ROLE  SOURCE  MFA  REGION\n",
            "the header alone"
        );
        let stderr = table.stderr();
        let found = if config.is_some() { "" } else { " (not found)" };
        assert!(
            stderr.starts_with(&format!(
                "assume-role: no profiles in `{}`{found} and `{}` (not found)\n",
                env.config_path().display(),
                env.vars["AWS_SHARED_CREDENTIALS_FILE"]
            )),
            "{stderr}"
        );
        assert!(stderr.contains("`aws configure`"), "{stderr}");
        assert!(stderr.contains("`assume-role profile add "), "{stderr}");
        let json = env.run(&["list", "--json"]);
        assert_eq!(json.ok(), "[]\n");
        assert!(
            json.stderr().contains("no profiles in"),
            "{}",
            json.stderr()
        );
    }
}

#[test]
fn list_survives_absurd_values_and_escapes_control_characters() {
    let env = TestEnv::new();
    env.write_config(&format!(
        "[profile huge]\nregion = {}\n\n[profile small]\nregion = eu-west-1\n",
        "x".repeat(100_000)
    ));
    let table = env.run(&["list"]).ok();
    // The long value overflows its own column; the other rows are not padded to it.
    let small = table.lines().find(|l| l.starts_with("small ")).unwrap();
    assert!(small.len() < 200, "{small}");
    assert!(table.contains(&"x".repeat(100_000)));
}

/// `key: value` and an indented first key are read as the AWS CLI reads them, with a warning
/// naming the file and line; a byte-order mark is skipped with a warning, since the AWS CLI
/// fails on it.
#[test]
fn the_forms_the_aws_cli_reads_are_read_the_same_way_with_a_warning() {
    let env = TestEnv::new();
    env.write_credentials(
        "[colon]\naws_access_key_id: AKIAEXAMPLE000000031\naws_secret_access_key: s\n\n[indented]\n  aws_access_key_id = AKIAEXAMPLE000000032\naws_secret_access_key = s\n",
    );
    for (profile, id, warning) in [
        (
            "colon",
            "AKIAEXAMPLE000000031",
            "line 2: `key: value` is read as `key = value`",
        ),
        (
            "indented",
            "AKIAEXAMPLE000000032",
            "line 6: the first key of a section is indented",
        ),
    ] {
        let run = env.run(&["env", profile, "--format", "json"]);
        assert!(run.output.status.success(), "{}", run.stderr());
        assert!(run.stdout().contains(id), "{}", run.stdout());
        assert!(run.stderr().contains(warning), "{}", run.stderr());
    }
    env.write_config("\u{feff}[default]\nregion = eu-west-1\n");
    let run = env.run(&["env", "colon", "--format", "json"]);
    assert!(run.output.status.success(), "{}", run.stderr());
    assert!(run.stderr().contains("byte-order mark"), "{}", run.stderr());
}
