//! The settings file: what it holds, and how each mistake in it is reported.

use super::*;
use crate::exit::Diagnose;

fn parse(text: &str) -> Result<Settings, SettingsError> {
    Settings::parse(text, Path::new("/home/me/.config/assume-role/config.toml"))
}

/// The error's message and hints, as the user sees them.
fn report(text: &str) -> (String, Vec<String>) {
    let err = parse(text).unwrap_err();
    assert_eq!(err.exit(), crate::exit::Exit::Config, "{err}");
    (err.to_string(), err.hints())
}

#[test]
fn every_key_is_read_and_typed() {
    let settings = parse(
        "# defaults for every profile\n\
         session_name = \"alice\"\n\
         duration = \"2h\"\n\
         region = \"eu-west-1\"\n\
         mfa_process = \"op item get AWS --otp\"\n\
         mfa_session_duration = 28800\n\
         browser = \"firefox\"\n\
         browser_path = \"/opt/firefox/firefox\"\n\
         keys_backend = \"file\"\n\
         audit = true\n\
         jobs = 4\n",
    )
    .unwrap();
    assert_eq!(settings.session_name.as_deref(), Some("alice"));
    assert_eq!(settings.duration, Some(Duration::from_hours(2)));
    assert_eq!(settings.region.as_deref(), Some("eu-west-1"));
    assert_eq!(
        settings.mfa_process.as_deref(),
        Some("op item get AWS --otp")
    );
    assert_eq!(settings.mfa_session_duration, Some(Duration::from_hours(8)));
    assert_eq!(settings.browser, Some(BrowserKind::Firefox));
    assert_eq!(
        settings.browser_path,
        Some(PathBuf::from("/opt/firefox/firefox"))
    );
    assert_eq!(settings.keys_backend, Some(Backend::File));
    assert_eq!(settings.audit, Some(true));
    assert_eq!(settings.jobs.map(std::num::NonZeroU16::get), Some(4));
    // `mfa_process` may carry a TOTP seed: Debug shows its program only.
    let debug = format!("{settings:?}");
    assert!(!debug.contains("--otp"), "{debug}");
}

#[test]
fn an_empty_file_is_no_settings() {
    let settings = parse("# nothing yet\n").unwrap();
    assert_eq!(
        settings,
        Settings {
            file: settings.file.clone(),
            ..Settings::default()
        }
    );
}

#[test]
fn an_unknown_key_names_the_file_line_and_key_and_lists_the_valid_ones() {
    let (message, hints) = report("session_name = \"alice\"\nregoin = \"eu-west-1\"\n");
    assert_eq!(
        message,
        "`/home/me/.config/assume-role/config.toml` line 2, column 1: unknown key `regoin`"
    );
    assert_eq!(hints[0], "did you mean `region`?");
    assert!(
        hints[1].starts_with("the valid keys are `session_name`, `duration`, `region`"),
        "{hints:?}"
    );
    // A section is a key too: the file is flat.
    let (message, _) = report("[defaults]\nregion = \"eu-west-1\"\n");
    assert!(
        message.ends_with("line 1, column 2: unknown key `defaults`"),
        "{message}"
    );
}

#[test]
fn a_bad_value_names_the_line_the_key_and_its_valid_forms() {
    let (message, hints) = report("region = \"eu-west-1\"\nduration = \"5 parsecs\"\n");
    assert_eq!(
        message,
        "`/home/me/.config/assume-role/config.toml` line 2, column 12: `duration` is `5 parsecs`, which is not a duration"
    );
    assert!(hints[0].contains("`\"1h30m\"`), 15m to 12h"), "{hints:?}");

    let cases = [
        (
            "duration = \"13h\"",
            "`duration` is 13h, outside 15m to 12h",
        ),
        ("duration = -5", "`duration` is -5, which is not a duration"),
        ("duration = true", "`duration` is a boolean, not a duration"),
        (
            "mfa_session_duration = \"48h\"",
            "`mfa_session_duration` is 48h, outside 15m to 36h",
        ),
        (
            "session_name = \"a b\"",
            "`session_name` is `a b`: ' ' is not allowed",
        ),
        (
            "session_name = 5",
            "`session_name` is an integer, not a string",
        ),
        (
            "region = \"eu west\"",
            "`region` is `eu west`: a region looks like",
        ),
        (
            "browser = \"netscape\"",
            "`browser` is `netscape`: not a browser",
        ),
        (
            "keys_backend = \"vault\"",
            "`keys_backend` is `vault`: not a backend",
        ),
        (
            "audit = \"yes\"",
            "`audit` is a string, not `true` or `false`",
        ),
        ("jobs = 0", "`jobs` is 0, outside 1 to 65535"),
        ("jobs = 1.5", "`jobs` is a float, not a whole number"),
    ];
    for (line, expected) in cases {
        let (message, hints) = report(line);
        assert!(
            message.contains(&format!(
                "line 1, column {}: {expected}",
                line.find('=').unwrap() + 3
            )),
            "{line}: {message}"
        );
        assert!(hints[0].starts_with("write it as "), "{line}: {hints:?}");
    }
}

#[test]
fn a_bad_mfa_process_is_never_shown() {
    let (message, _) = report("mfa_process = \"  \"\n");
    assert_eq!(
        message,
        "`/home/me/.config/assume-role/config.toml` line 1, column 15: `mfa_process` is not valid: it is empty"
    );
    // A syntax error on its line does not echo the line either.
    let (message, _) = report("mfa_process = \"totp --seed JBSWY3DPEHPK3PXP\n");
    assert!(!message.contains("JBSWY3DP"), "{message}");
    assert!(message.contains("line 1, column"), "{message}");
}

#[test]
fn malformed_toml_names_the_line_and_column() {
    let (message, hints) = report("region = \"eu-west-1\"\nduration = 2h\n");
    assert!(
        message.starts_with("`/home/me/.config/assume-role/config.toml` line 2, column 12: "),
        "{message}"
    );
    assert!(hints[0].starts_with("the valid keys are"), "{hints:?}");
    let (message, _) = report("region = \"a\"\nregion = \"b\"\n");
    assert!(message.contains("line 2, column 1: "), "{message}");
}

#[test]
fn a_missing_file_is_no_settings_unless_it_was_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    let implicit = Location::of(None, Some(dir.path().to_owned())).unwrap();
    assert_eq!(
        implicit.path,
        dir.path().join("assume-role").join(FILE_NAME)
    );
    assert_eq!(
        Settings::load(Some(&implicit)).unwrap(),
        Settings::default()
    );
    assert_eq!(Settings::load(None).unwrap(), Settings::default());

    let explicit = Location::of(Some(path.clone()), Some(dir.path().to_owned())).unwrap();
    let err = Settings::load(Some(&explicit)).unwrap_err();
    assert!(
        err.to_string().starts_with(&format!(
            "cannot read the settings file `{}`",
            path.display()
        )),
        "{err}"
    );
    assert!(
        err.hints()[0].contains("ASSUME_ROLE_CONFIG"),
        "{:?}",
        err.hints()
    );

    std::fs::write(&path, "jobs = 2\n").unwrap();
    let settings = Settings::load(Some(&explicit)).unwrap();
    assert_eq!(settings.jobs.map(std::num::NonZeroU16::get), Some(2));
    assert_eq!(settings.file.as_deref(), Some(path.as_path()));

    std::fs::write(&path, b"region = \"eu-west-1\"\n# caf\xe9\n").unwrap();
    let err = Settings::load(Some(&explicit)).unwrap_err();
    assert!(
        err.to_string()
            .contains("line 2, column 6: a byte that is not UTF-8"),
        "{err}"
    );
}
