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
