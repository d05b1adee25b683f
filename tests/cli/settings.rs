//! The tool's settings file (`config.toml`): what reaches STS, precedence against flags and
//! profile keys, the plan cache, and how a broken file is reported.

use super::*;
use std::path::PathBuf;

/// Where the binary looks for its settings in a test env (`$XDG_CONFIG_HOME/assume-role`).
fn settings_path(env: &TestEnv) -> PathBuf {
    PathBuf::from(&env.vars["XDG_CONFIG_HOME"]).join("assume-role/config.toml")
}

fn write_settings(env: &TestEnv, text: &str) -> PathBuf {
    let path = settings_path(env);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, text).unwrap();
    path
}

/// The one `AssumeRole` call made under `session_name`, and its `DurationSeconds`.
fn duration_sent(session_name: &str) -> Option<String> {
    let calls = recorded_assume_roles(session_name);
    assert_eq!(calls.len(), 1, "{session_name}: {calls:?}");
    calls[0].params.get("DurationSeconds").cloned()
}

#[test]
fn session_name_and_duration_from_the_settings_reach_sts() {
    let env = TestEnv::with_moto();
    write_settings(
        &env,
        "session_name = \"settings-sts-default\"\nduration = \"45m\"\n",
    );
    let vars = env_json(&env, "client-nomfa", &[]);
    assert_eq!(vars["AWS_ACCOUNT_ID"], "222222222222");
    assert_eq!(
        duration_sent("settings-sts-default").as_deref(),
        Some("2700")
    );

    // A flag beats the settings.
    env_json(
        &env,
        "client-nomfa",
        &["--session-name", "settings-sts-flag", "--duration", "30m"],
    );
    assert_eq!(duration_sent("settings-sts-flag").as_deref(), Some("1800"));

    // So does the profile's own key.
    env.append_config(&format!(
        "\n[profile keyed]\nrole_arn = {}\nsource_profile = contractor\nexternal_id = {}\nrole_session_name = settings-sts-profile\nduration_seconds = 1200\n",
        moto().client_role_arn,
        moto().client_external_id
    ));
    env_json(&env, "keyed", &[]);
    assert_eq!(
        duration_sent("settings-sts-profile").as_deref(),
        Some("1200")
    );
}

#[test]
fn editing_the_settings_invalidates_the_cached_plan() {
    let env = TestEnv::with_moto();
    write_settings(&env, "session_name = \"settings-cache-one\"\n");
    let first = env_json(&env, "client-nomfa", &[]);
    // Served from the cache: no second call.
    assert_eq!(
        env_json(&env, "client-nomfa", &[])["AWS_ACCESS_KEY_ID"],
        first["AWS_ACCESS_KEY_ID"]
    );
    assert_eq!(recorded_assume_roles("settings-cache-one").len(), 1);

    write_settings(&env, "session_name = \"settings-cache-two\"\n");
    let second = env_json(&env, "client-nomfa", &[]);
    assert_eq!(recorded_assume_roles("settings-cache-two").len(), 1);
    assert_ne!(second["AWS_ACCESS_KEY_ID"], first["AWS_ACCESS_KEY_ID"]);
}

#[test]
fn region_from_the_settings_is_below_the_environment_and_the_profile() {
    let mut env = TestEnv::with_moto();
    write_settings(&env, "region = \"sa-east-1\"\n");
    env.append_config(&format!(
        "\n[profile regionless]\nrole_arn = {}\nsource_profile = contractor\nexternal_id = {}\nrole_session_name = settings-region\n",
        moto().client_role_arn,
        moto().client_external_id
    ));
    assert_eq!(env_json(&env, "regionless", &[])["AWS_REGION"], "sa-east-1");
    assert_eq!(
        env_json(&env, "client-nomfa", &[])["AWS_REGION"],
        moto().region
    );
    // As in the AWS CLI, `AWS_REGION` beats the profile's `region`.
    env.set("AWS_REGION", "ap-south-1");
    assert_eq!(
        env_json(&env, "client-nomfa", &[])["AWS_REGION"],
        "ap-south-1"
    );
    assert_eq!(
        env_json(&env, "client-nomfa", &["--region", "eu-north-1"])["AWS_REGION"],
        "eu-north-1"
    );
}

#[test]
fn a_broken_settings_file_is_an_error_naming_file_line_and_key() {
    let env = TestEnv::with_moto();
    let path = write_settings(&env, "region = \"eu-west-1\"\nsesion_name = \"x\"\n");
    let run = env.run(&["env", "client-nomfa"]);
    assert_eq!(run.code(), Some(3));
    assert_eq!(run.stdout(), "");
    let stderr = run.stderr();
    assert!(
        stderr.contains(&format!(
            "`{}` line 2, column 1: unknown key `sesion_name`",
            path.display()
        )),
        "{stderr}"
    );
    assert!(stderr.contains("did you mean `session_name`?"), "{stderr}");
    assert!(
        stderr.contains("the valid keys are `session_name`"),
        "{stderr}"
    );

    write_settings(&env, "duration = \"5 parsecs\"\n");
    let run = env.run(&["list"]);
    assert_eq!(run.code(), Some(3));
    let stderr = run.stderr();
    assert!(
        stderr.contains("line 1, column 12: `duration` is `5 parsecs`, which is not a duration"),
        "{stderr}"
    );
    assert!(
        stderr.contains("hint: write it as seconds (`3600`)"),
        "{stderr}"
    );
}

#[test]
fn assume_role_config_names_another_file_which_must_exist() {
    let mut env = TestEnv::with_moto();
    write_settings(&env, "jobs = 0\n");
    let other = env.dir.path().join("other.toml");
    env.set("ASSUME_ROLE_CONFIG", other.to_str().unwrap());
    // The default file (broken) is not read; the named one is missing.
    let run = env.run(&["list"]);
    assert_eq!(run.code(), Some(3));
    assert!(
        run.stderr().contains(&format!(
            "cannot read the settings file `{}`",
            other.display()
        )),
        "{}",
        run.stderr()
    );
    std::fs::write(&other, "session_name = \"settings-named-file\"\n").unwrap();
    env_json(&env, "client-nomfa", &[]);
    assert_eq!(recorded_assume_roles("settings-named-file").len(), 1);
}
