use super::*;
use std::time::UNIX_EPOCH;

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

fn session(expiration: Option<SystemTime>) -> PromptSession<'static> {
    PromptSession {
        profile: "client-prod",
        expiration,
        region: Some("eu-west-1"),
        account: Some("222222222222"),
    }
}

#[test]
fn time_left_counts_whole_minutes_then_seconds() {
    let now = at(1_000_000);
    assert_eq!(time_left(at(1_000_000 + 42 * 60 + 59), now), "42m");
    assert_eq!(time_left(at(1_000_000 + 3900), now), "1h5m");
    assert_eq!(time_left(at(1_000_000 + 30), now), "30s");
    assert_eq!(time_left(at(1_000_000), now), "expired");
    assert_eq!(time_left(at(999_000), now), "expired");
}

#[test]
fn the_default_prompt_is_profile_and_time_left() {
    let now = at(1_000_000);
    assert_eq!(
        render_prompt(None, &session(Some(at(1_000_000 + 42 * 60))), now),
        "client-prod (42m)"
    );
    // `exec --server`: renewed credentials, no expiry to count down to.
    assert_eq!(render_prompt(None, &session(None), now), "client-prod");
    assert_eq!(
        render_prompt(
            Some("[{profile}@{account} {region} {left} {expiration}] {nope}"),
            &session(Some(at(1_795_000_000))),
            at(1_794_996_400)
        ),
        "[client-prod@222222222222 eu-west-1 1h 2026-11-18T11:06:40Z] {nope}"
    );
}

#[test]
fn prompt_values_cannot_drive_the_terminal_or_the_template() {
    let hostile = PromptSession {
        profile: "x\u{1b}]0;pwned\u{7}{left}",
        ..session(None)
    };
    let text = render_prompt(Some("{profile}|{left}"), &hostile, at(0));
    assert_eq!(text, "x?]0;pwned?{left}|");
    assert!(!status_line(&hostile, at(0)).chars().any(char::is_control));
}

#[test]
fn expirations_are_read_as_env_writes_them() {
    assert_eq!(
        parse_expiration("2026-11-18T11:06:40Z"),
        Some(at(1_795_000_000))
    );
    assert_eq!(parse_expiration("tomorrow"), None);
    assert_eq!(parse_expiration(""), None);
}

#[test]
fn status_says_profile_time_left_and_expiry() {
    let line = status_line(&session(Some(at(1_795_000_000))), at(1_794_997_480));
    assert_eq!(
        line,
        "client-prod: 42m left (until 2026-11-18T11:06:40Z), account 222222222222, region eu-west-1"
    );
    let expired = status_line(&session(Some(at(1_795_000_000))), at(1_795_000_001));
    assert!(
        expired.contains("expired at 2026-11-18T11:06:40Z"),
        "{expired}"
    );
}

#[test]
fn init_quotes_the_binary_path_for_each_shell() {
    let bin = "/opt/it's $(here)/assume-role";
    let sh = init_script(InitShell::Bash, bin);
    assert!(
        sh.contains(r"local __assume_role_bin='/opt/it'\''s $(here)/assume-role'"),
        "{sh}"
    );
    let fish = init_script(InitShell::Fish, bin);
    assert!(
        fish.contains(r"set -l bin '/opt/it\'s $(here)/assume-role'"),
        "{fish}"
    );
    let ps = init_script(InitShell::Powershell, bin);
    assert!(
        ps.contains("$bin = '/opt/it''s $(here)/assume-role'"),
        "{ps}"
    );
}

#[test]
fn unassume_removes_exactly_the_session_variables() {
    for shell in [
        InitShell::Bash,
        InitShell::Zsh,
        InitShell::Fish,
        InitShell::Powershell,
    ] {
        let script = init_script(shell, "assume-role");
        for name in env_vars::SESSION_VARIABLES {
            assert!(script.contains(name), "{shell:?}: {name}");
        }
        // Never the variables `env` only removes: they were the user's, and are gone already.
        assert!(!script.contains("AWS_PROFILE"), "{shell:?}");
    }
}
