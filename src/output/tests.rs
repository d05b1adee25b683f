//! Quoting, checked by the shells themselves: each hostile value must come back byte for byte,
//! and nothing in it may run.

use super::*;
use crate::credentials::{Credentials, Session};
use crate::secret::Secret;
use std::process::Command;

/// Values that break naive quoting in at least one shell.
const HOSTILE: &[&str] = &[
    "x'$(touch pwned)'",
    "$(touch pwned)",
    "`touch pwned`",
    "a\"b; touch pwned",
    "it's; touch pwned #",
    "back\\slash\\'",
    "line\nbreak; touch pwned",
    "%PATH% !x! ^&|<>",
    "\u{2018}smart\u{2019}; touch pwned",
    "'#; touch pwned; r#'",
    "$HOME ~ * ?",
    "'",
    "",
];

fn session(region: &str) -> Session {
    Session {
        profile: "client-prod".into(),
        region: region.into(),
        credentials: Credentials {
            access_key_id: "ASIAEXAMPLE".into(),
            secret_access_key: Secret::new("se/cr+et="),
            session_token: Some(Secret::new("to+ken/==")),
            expiration: None,
            account_id: Some("222222222222".into()),
        },
    }
}

fn changes(region: &str) -> EnvChanges {
    session(region).env_changes(["AWSUME_PROFILE"])
}

/// Whether `shell` is on `PATH`. The same rule as `support::require_tool` in `tests/cli` (which a
/// unit test cannot import): a missing shell is a note on a developer's machine and a failure
/// under CI (`CI=true`), where a quiet skip would turn the test into a pass that proves nothing.
// The test reads its own process environment (`CI`, `PATH`), not the tool's (clippy.toml).
#[allow(clippy::disallowed_methods)]
fn require_tool(shell: &str) -> bool {
    let found = is_on_path(shell);
    if !found {
        assert!(
            !std::env::var("CI").is_ok_and(|v| v == "true"),
            "`{shell}` is not installed; CI must have it (see .ci/run)"
        );
        eprintln!(
            "note: `{shell}` is not installed, so the part of this test that needs it is skipped (under CI=true it fails)"
        );
    }
    found
}

/// An executable file named `name` in a directory of `PATH`, as `support::require_tool` looks.
#[allow(clippy::disallowed_methods)]
fn is_on_path(name: &str) -> bool {
    let file = format!("{name}{}", std::env::consts::EXE_SUFFIX);
    std::env::var_os("PATH").is_some_and(|paths| {
        std::env::split_paths(&paths).any(|dir| {
            let path = dir.join(&file);
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                std::fs::metadata(&path)
                    .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
            }
            #[cfg(not(unix))]
            path.is_file()
        })
    })
}

/// Runs `script` in `shell` inside an empty directory and returns what it printed, and whether
/// anything was created.
fn run(shell: &str, args: &[&str], script: &str) -> (String, bool) {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(shell)
        .args(args)
        .arg(script)
        .current_dir(dir.path())
        .env("AWSUME_PROFILE", "stale")
        .env("AWS_SECURITY_TOKEN", "stale")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{shell} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let touched = std::fs::read_dir(dir.path()).unwrap().next().is_some();
    (String::from_utf8(out.stdout).unwrap(), touched)
}

fn check_shell(shell: &str, args: &[&str], format: Format, print: &str) {
    if !require_tool(shell) {
        return;
    }
    // PowerShell refuses line breaks (see `no_control`); every other value must pass.
    for value in HOSTILE
        .iter()
        .filter(|v| format != Format::Powershell || !v.contains('\n'))
    {
        let text = render(format, &changes(value)).unwrap();
        let (printed, touched) = run(shell, args, &format!("{text}\n{print}"));
        assert!(!touched, "{shell} ran code from {value:?}:\n{text}");
        let expected = format!("{value}|client-prod|se/cr+et=|unset|unset");
        assert_eq!(printed, expected, "{shell} with {value:?}:\n{text}");
    }
}

// The Unix shells read what the Linux build prints. The Windows lane runs these tests inside
// Wine, whose `PATH` holds Windows programs: there are no Unix shells to require there.
#[cfg(unix)]
#[test]
fn posix_shells_read_back_every_value_and_run_none() {
    let print = r#"printf '%s|%s|%s|%s|%s' "$AWS_REGION" "$ASSUME_ROLE_PROFILE" "$AWS_SECRET_ACCESS_KEY" "${AWS_SECURITY_TOKEN-unset}" "${AWSUME_PROFILE-unset}""#;
    for shell in ["sh", "bash", "dash", "zsh"] {
        check_shell(shell, &["-c"], Format::Sh, print);
    }
}

#[cfg(unix)]
#[test]
fn fish_reads_back_every_value_and_runs_none() {
    let print = r#"set -q AWS_SECURITY_TOKEN; and set t $AWS_SECURITY_TOKEN; or set t unset
set -q AWSUME_PROFILE; and set w $AWSUME_PROFILE; or set w unset
printf '%s|%s|%s|%s|%s' "$AWS_REGION" "$ASSUME_ROLE_PROFILE" "$AWS_SECRET_ACCESS_KEY" $t $w"#;
    check_shell("fish", &["--no-config", "-c"], Format::Fish, print);
}

#[test]
fn powershell_reads_back_every_value_and_runs_none() {
    let print = r"$t = if (Test-Path Env:AWS_SECURITY_TOKEN) { $Env:AWS_SECURITY_TOKEN } else { 'unset' }
$w = if (Test-Path Env:AWSUME_PROFILE) { $Env:AWSUME_PROFILE } else { 'unset' }
[Console]::Out.Write($Env:AWS_REGION + '|' + $Env:ASSUME_ROLE_PROFILE + '|' + $Env:AWS_SECRET_ACCESS_KEY + '|' + $t + '|' + $w)";
    // PowerShell is optional, even under CI: `.ci/run` does not install it (it installs the
    // shells `check_shell` requires). Missing, it is a note, never a quiet pass.
    if is_on_path("pwsh") {
        check_shell(
            "pwsh",
            &["-NoProfile", "-NonInteractive", "-Command"],
            Format::Powershell,
            print,
        );
    } else {
        eprintln!("note: `pwsh` is not installed, so PowerShell's quoting is not checked");
    }
}

#[test]
fn quoting_is_exact() {
    assert_eq!(sh_quote("it's"), r"'it'\''s'");
    assert_eq!(fish_quote(r"a\b'c"), r"'a\\b\'c'");
    assert_eq!(
        powershell_quote("it's \u{2019}"),
        "'it''s \u{2019}\u{2019}'"
    );
    assert_eq!(nu_quote("plain"), "r#'plain'#");
    assert_eq!(nu_quote("x'#y"), "r##'x'#y'##");
}

#[test]
fn every_format_prints_sets_then_removals() {
    let text = render(Format::Sh, &changes("eu-west-1")).unwrap();
    assert!(
        text.starts_with("export AWS_ACCESS_KEY_ID='ASIAEXAMPLE'\n"),
        "{text}"
    );
    assert!(text.contains("\nunset AWS_SECURITY_TOKEN\n"), "{text}");
    assert!(text.ends_with("unset AWSUME_PROFILE\n"), "{text}");
    let fish = render(Format::Fish, &changes("eu-west-1")).unwrap();
    assert!(fish.contains("set -gx AWS_REGION 'eu-west-1'\n"), "{fish}");
    assert!(fish.contains("set -e AWS_PROFILE"), "{fish}");
    let ps = render(Format::Powershell, &changes("eu-west-1")).unwrap();
    assert!(ps.contains("$Env:AWS_REGION = 'eu-west-1'\n"), "{ps}");
    assert!(
        ps.contains("Remove-Item -Path Env:AWS_PROFILE -ErrorAction SilentlyContinue\n"),
        "{ps}"
    );
    let cmd = render(Format::Cmd, &changes("eu-west-1")).unwrap();
    assert!(
        cmd.contains("set \"AWS_REGION=eu-west-1\"\n") && cmd.contains("set AWS_PROFILE=\n"),
        "{cmd}"
    );
    let nu = render(Format::Nu, &changes("eu-west-1")).unwrap();
    assert!(
        nu.contains("$env.AWS_REGION = r#'eu-west-1'#\n")
            && nu.contains("hide-env -i AWS_PROFILE\n"),
        "{nu}"
    );
}

#[test]
fn dotenv_and_json_print_sets_only() {
    let dotenv = render(Format::Dotenv, &changes("eu-west-1")).unwrap();
    assert_eq!(dotenv.lines().count(), 7, "{dotenv}");
    assert!(dotenv.contains("AWS_REGION='eu-west-1'\n"));
    let json = render(Format::Json, &changes("it's \"x\"\n")).unwrap();
    let parsed: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&json).unwrap();
    assert_eq!(parsed.len(), 7);
    assert_eq!(parsed["AWS_REGION"], "it's \"x\"\n");
    assert_eq!(parsed["AWS_SESSION_TOKEN"], "to+ken/==");
}

#[test]
fn formats_without_safe_quoting_refuse_instead_of_guessing() {
    for (format, value) in [
        (Format::Cmd, "a\"&calc"),
        (Format::Cmd, "%PATH%"),
        (Format::Cmd, "!x!"),
        (Format::Cmd, "a\nb"),
        (Format::Powershell, "line\nbreak"),
        (Format::Dotenv, "it's"),
        (Format::Dotenv, "a\nb"),
    ] {
        let err = render(format, &changes(value)).unwrap_err();
        assert!(
            matches!(err, OutputError::Unrepresentable { .. }),
            "{format:?} {value:?}: {err:?}"
        );
        assert!(err.to_string().contains("AWS_REGION"), "{err}");
    }
}

#[test]
fn bash_and_zsh_name_the_posix_format() {
    use clap::ValueEnum;
    for name in ["sh", "bash", "zsh"] {
        assert_eq!(Format::from_str(name, false), Ok(Format::Sh), "{name}");
    }
}

#[test]
fn each_shell_format_says_how_to_use_it_and_data_formats_do_not() {
    assert_eq!(
        Format::Sh.eval_hint("client-prod").unwrap(),
        r#"eval "$(assume-role env client-prod)""#
    );
    assert_eq!(
        Format::Fish.eval_hint("client-prod").unwrap(),
        "assume-role env client-prod --format fish | source"
    );
    assert_eq!(
        Format::Powershell.eval_hint("client-prod").unwrap(),
        "assume-role env client-prod --format powershell | Invoke-Expression"
    );
    assert_eq!(
        Format::Nu.eval_hint("client-prod").unwrap(),
        "assume-role env client-prod --format json | from json | load-env"
    );
    assert!(
        Format::Cmd
            .eval_hint("client-prod")
            .unwrap()
            .contains("('assume-role env client-prod --format cmd') do %i")
    );
    assert_eq!(Format::Dotenv.eval_hint("client-prod"), None);
    assert_eq!(Format::Json.eval_hint("client-prod"), None);
    // A name that would break the command line is quoted for that shell.
    assert_eq!(
        Format::Sh.eval_hint("it's $(x)").unwrap(),
        r#"eval "$(assume-role env 'it'\''s $(x)')""#
    );
}
