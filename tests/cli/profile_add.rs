//! `profile add`: the one command that edits the user's config.

use super::*;

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

/// Each value is held to STS's and IAM's limits, and the message names the flag that was typed.
#[test]
fn profile_add_names_the_flag_of_each_refused_value() {
    let env = TestEnv::with_moto();
    let before = std::fs::read(env.config_path()).unwrap();
    let huge = format!("arn:aws:iam::222222222222:role/{}", "r".repeat(100_000));
    let long_name = format!("arn:aws:iam::222222222222:role/{}", "r".repeat(65));
    let long_path = format!("arn:aws:iam::222222222222:role/{}/r", "p".repeat(520));
    let ok_arn = "arn:aws:iam::222222222222:role/ok";
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["--role-arn", &huge], "`--role-arn`"),
        (vec!["--role-arn", &long_name], "at most 64 characters"),
        (vec!["--role-arn", &long_path], "at most 512 characters"),
        (
            vec!["--duration", "10m"],
            "`--duration`: `10m` is not a valid session duration",
        ),
        (vec!["--duration", "13h"], "`--duration`"),
        (
            vec!["--session-name", "x"],
            "`--session-name`: `x` is not a valid session name",
        ),
        (
            vec!["--external-id", "a"],
            "`--external-id`: `a` is not a valid external ID: it must be 2 to 1224",
        ),
        (
            vec!["--mfa-serial", "short"],
            "`--mfa-serial`: `short` is not a valid MFA serial",
        ),
        (
            vec!["--region", "eu-west"],
            "`--region`: `eu-west` is not a valid region",
        ),
        (vec!["--region", "EU-WEST-1"], "`--region`"),
    ];
    for (extra, needle) in cases {
        let mut args = vec!["profile", "add", "acme", "--source-profile", "contractor"];
        if extra[0] != "--role-arn" {
            args.extend(["--role-arn", ok_arn]);
        }
        args.extend(&extra);
        let run = env.run(&args);
        assert_eq!(run.code(), Some(3), "{extra:?}: {}", run.stderr());
        assert!(run.stderr().contains(needle), "{extra:?}: {}", run.stderr());
        for internal in ["duration_seconds", "`--name`", "role_session_name"] {
            assert!(
                !run.stderr().contains(internal),
                "{extra:?}: {}",
                run.stderr()
            );
        }
        assert!(
            run.stderr().len() < 1000,
            "a short message: {}",
            run.stderr()
        );
        assert_eq!(std::fs::read(env.config_path()).unwrap(), before);
    }

    let run = env.run(&[
        "profile",
        "add",
        "a b",
        "--role-arn",
        ok_arn,
        "--source-profile",
        "contractor",
    ]);
    assert_eq!(run.code(), Some(3), "{}", run.stderr());
    assert!(
        run.stderr()
            .contains("`NAME`: `a b` is not a valid profile name"),
        "{}",
        run.stderr()
    );
    let run = env.run(&[
        "profile",
        "add",
        "acme",
        "--role-arn",
        ok_arn,
        "--source-profile",
        "my keys",
    ]);
    assert_eq!(run.code(), Some(3), "{}", run.stderr());
    assert!(
        run.stderr().contains("`--source-profile`: `my keys`"),
        "{}",
        run.stderr()
    );

    // No silent `default`: the source must be named.
    let run = env.run(&["profile", "add", "acme", "--role-arn", ok_arn]);
    assert_eq!(run.code(), Some(2), "{}", run.stderr());
    assert!(
        run.stderr().contains("--source-profile"),
        "{}",
        run.stderr()
    );
    assert_eq!(std::fs::read(env.config_path()).unwrap(), before);
}

/// A duration the source cannot give (a role assumed from a role is capped at 1h) names
/// `--duration`, not the key it would be written as.
#[test]
fn profile_add_names_duration_for_a_chained_source() {
    let env = TestEnv::with_moto();
    let fx = moto();
    let run = env.run(&[
        "profile",
        "add",
        "deeper",
        "--role-arn",
        &fx.client_role_arn,
        "--source-profile",
        "client-nomfa",
        "--duration",
        "2h",
    ]);
    assert_eq!(run.code(), Some(3), "{}", run.stderr());
    assert!(
        run.stderr().contains("`--duration`: a session of 2h"),
        "{}",
        run.stderr()
    );
}
