//! Helper processes and credential sources: nothing hangs, what is killed is killed with what it
//! started, and every failure says what failed in one sentence.

use super::*;
use std::path::Path;
use std::time::Duration;

/// An MFA profile whose code comes from `mfa_process`.
fn mfa_profile(env: &TestEnv, name: &str, mfa_process: &str) {
    let fx = moto();
    env.append_config(&format!(
        "\n[profile {name}]\nrole_arn = {}\nsource_profile = contractor\nexternal_id = {}\nmfa_serial = {}\nmfa_process = {mfa_process}\nduration_seconds = 7200\nrole_session_name = {name}\n",
        fx.client_role_arn, fx.client_external_id, fx.mfa_serial
    ));
}

/// Writes a shell script into the test's work directory and returns its path.
fn script(env: &TestEnv, name: &str, text: &str) -> String {
    let path = env.work_dir().join(name);
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

/// The lines of our own message (the error and its hints), without log events.
fn message_lines(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| l.starts_with("assume-role:") || l.starts_with("  hint:"))
        .collect()
}

#[track_caller]
fn assert_no_dump(text: &str) {
    for dump in ["{", "Error {", "ProviderError", "Some(", "Os {"] {
        assert!(!text.contains(dump), "`{dump}` in: {text}");
    }
}

/// The processes whose command line mentions `marker`.
#[cfg(unix)]
fn processes_with(marker: &Path) -> String {
    let Some(pgrep) = support::require_tool("pgrep") else {
        return String::new();
    };
    let out = std::process::Command::new(pgrep)
        .arg("-fl")
        .arg(marker)
        .output()
        .expect("pgrep");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn an_mfa_process_that_never_answers_is_stopped_at_the_timeout() {
    let mut env = TestEnv::with_moto();
    env.set("ASSUME_ROLE_PROCESS_TIMEOUT", "2");
    let hang = script(&env, "hang.sh", "while :; do sleep 1; done\n");
    // The argument stands for a TOTP seed: it must not appear in any message.
    mfa_profile(&env, "mfa-hang", &format!("sh {hang} JBSWY3DPEHPK3PXP"));
    let run = env.run(&["env", "mfa-hang"]);
    assert_eq!(run.code(), Some(4), "{}", run.stderr());
    assert!(
        run.elapsed >= Duration::from_secs(2) && run.elapsed < Duration::from_secs(6),
        "took {:?}",
        run.elapsed
    );
    let stderr = run.stderr();
    assert!(
        stderr.contains(
            "`mfa_process` of profile `mfa-hang` (`sh`) did not finish within 2s; it was stopped"
        ) && stderr.contains("`ASSUME_ROLE_PROCESS_TIMEOUT=2m`"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("JBSWY3DP") && !stderr.contains("hang.sh"),
        "{stderr}"
    );
    assert!(recorded_assume_roles("mfa-hang").is_empty());
}

#[test]
fn a_bad_process_timeout_names_the_variable() {
    let mut env = TestEnv::with_moto();
    env.set("ASSUME_ROLE_PROCESS_TIMEOUT", "soon");
    mfa_profile(&env, "mfa-bad-timeout", "echo 123456");
    let run = env.run(&["env", "mfa-bad-timeout"]);
    assert_eq!(run.code(), Some(2), "{}", run.stderr());
    assert!(
        run.stderr()
            .contains("`ASSUME_ROLE_PROCESS_TIMEOUT` is `soon`, which is not a duration")
            && run.stderr().contains("`2m`"),
        "{}",
        run.stderr()
    );
}

#[cfg(unix)]
#[test]
fn a_hanging_credential_process_is_killed_with_what_it_started() {
    let mut env = TestEnv::with_moto();
    env.set("ASSUME_ROLE_PROCESS_TIMEOUT", "2");
    // Every process of this test has the unique work directory in its command line.
    let marker = env.work_dir();
    let forever = script(&env, "forever.sh", "while :; do sleep 1; done\n");
    let helper = script(
        &env,
        "helper.sh",
        &format!("sh {forever} grandchild &\nsh {forever} child\n"),
    );
    env.append_config(&format!(
        "\n[profile cp-hang]\ncredential_process = sh {helper}\n"
    ));
    let run = env.run(&["env", "cp-hang"]);
    assert_eq!(run.code(), Some(6), "{}", run.stderr());
    assert!(
        run.elapsed < Duration::from_secs(6),
        "took {:?}",
        run.elapsed
    );
    assert!(
        run.stderr()
            .contains("`credential_process` of profile `cp-hang` (`sh`) did not finish within 2s"),
        "{}",
        run.stderr()
    );
    // SIGKILL is immediate, but the kernel may take a moment to tear the processes down.
    let deadline = std::time::Instant::now() + Duration::from_secs(3);
    loop {
        let left = processes_with(&marker);
        if left.is_empty() {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "left running:\n{left}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_credential_process_that_calls_its_own_profile_names_credential_process() {
    let env = TestEnv::with_moto();
    env.append_config(&format!(
        "\n[profile cp-loop]\ncredential_process = {} credential-process cp-loop\n",
        support::BIN
    ));
    let run = env.run(&["env", "cp-loop"]);
    assert_ne!(run.code(), Some(0));
    let stderr = run.stderr();
    assert!(
        stderr.contains("through `credential_process`, profiles form a loop: cp-loop → cp-loop")
            && stderr
                .contains("hint: the `credential_process` of profile `cp-loop` runs `assume-role`"),
        "{stderr}"
    );
    assert!(!stderr.contains("source_profile` in one of"), "{stderr}");
}

#[test]
fn an_mfa_process_may_print_the_code_with_a_space() {
    let env = TestEnv::with_moto();
    mfa_profile(&env, "mfa-spaced", "echo 123 457");
    env_json(&env, "mfa-spaced", &[]);
    assert_eq!(
        recorded_assume_roles("mfa-spaced")[0].params["TokenCode"],
        "123457"
    );
}

#[test]
fn sso_without_a_token_and_web_identity_without_a_file_say_so_in_one_sentence() {
    let env = TestEnv::with_moto();
    env.append_config(
        "\n[profile sso-cold]\nsso_session = corp\nsso_account_id = 111111111111\nsso_role_name = Dev\nregion = us-east-1\n\n[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = us-east-1\n\n[profile wi-missing]\nrole_arn = arn:aws:iam::111111111111:role/R\nweb_identity_token_file = /nonexistent/assume-role-test/token\nregion = us-east-1\n",
    );
    for (profile, expected, code) in [
        (
            "sso-cold",
            "assume-role: there is no SSO token for SSO session `corp`: not logged in",
            4,
        ),
        (
            "wi-missing",
            "assume-role: cannot get the source credentials of profile `wi-missing` (web identity): web identity token file `/nonexistent/assume-role-test/token` cannot be read: No such file or directory (os error 2)",
            5,
        ),
    ] {
        let run = env.run(&["env", profile]);
        assert_eq!(run.code(), Some(code), "{}", run.stderr());
        assert_eq!(run.stdout(), "");
        let stderr = run.stderr();
        let lines = message_lines(&stderr);
        assert_eq!(lines[0], expected, "{stderr}");
        assert_eq!(
            lines
                .iter()
                .filter(|l| l.starts_with("assume-role:"))
                .count(),
            1
        );
        assert!(lines.len() >= 2, "a hint is expected: {stderr}");
        // The log events of the SDK are filtered elsewhere; our own message must be clean.
        assert_no_dump(&lines.join("\n"));
    }
}

#[cfg(unix)]
#[test]
fn the_prompt_asks_again_on_a_malformed_code_and_takes_spaces() {
    use std::io::Write;
    let env = TestEnv::with_moto();
    let fx = moto();
    env.append_config(&format!(
        "\n[profile prompt-again]\nrole_arn = {}\nsource_profile = contractor\nmfa_serial = {}\nduration_seconds = 7200\nrole_session_name = prompt-again\n",
        fx.client_role_arn, fx.mfa_serial
    ));
    env.register_mfa_code("the MFA code typed at the prompt", "864 209");
    let (child, mut terminal) = support::pty::controlling_terminal(&env, &["env", "prompt-again"]);
    let mut screen = support::pty::Screen::new(&terminal);
    screen.expect("MFA code");
    terminal.write_all(b"abc\n").unwrap();
    screen.expect("that is not a 6-digit code; try again (2 tries left)");
    terminal.write_all(b"864 209\n").unwrap();
    let output = env.wait_checked(child);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        recorded_assume_roles("prompt-again")[0].params["TokenCode"],
        "864209"
    );
}

#[cfg(unix)]
#[test]
fn the_prompt_gives_up_after_three_malformed_codes() {
    use std::io::Write;
    let env = TestEnv::with_moto();
    let fx = moto();
    env.append_config(&format!(
        "\n[profile prompt-give-up]\nrole_arn = {}\nsource_profile = contractor\nmfa_serial = {}\nduration_seconds = 7200\nrole_session_name = prompt-give-up\n",
        fx.client_role_arn, fx.mfa_serial
    ));
    // A malformed code is still most of a code: never echoed either.
    env.register_mfa_code("a 7-digit code typed at the prompt", "1234567");
    let (child, mut terminal) =
        support::pty::controlling_terminal(&env, &["env", "prompt-give-up"]);
    let mut screen = support::pty::Screen::new(&terminal);
    screen.expect("MFA code");
    terminal.write_all(b"abc\n").unwrap();
    screen.expect("(2 tries left)");
    terminal.write_all(b"12345\n").unwrap();
    screen.expect("(1 try left)");
    terminal.write_all(b"1234567\n").unwrap();
    let output = env.wait_checked(child);
    assert_eq!(output.status.code(), Some(4));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("the MFA code from the terminal is not 6 digits"),
        "{stderr}"
    );
    assert!(recorded_assume_roles("prompt-give-up").is_empty());
}

/// In the foreground of a terminal, `mfa_process` stays in our process group so that it can
/// prompt there (a password manager's unlock); in a group of its own, reading the terminal
/// would stop it (SIGTTIN) until the timeout.
#[cfg(unix)]
#[test]
fn an_mfa_process_can_ask_on_the_terminal() {
    use std::io::Write;
    let mut env = TestEnv::with_moto();
    env.set("ASSUME_ROLE_PROCESS_TIMEOUT", "15");
    let ask = script(
        &env,
        "unlock.sh",
        "printf 'unlock: ' > /dev/tty\nread answer < /dev/tty\necho \"$answer\"\n",
    );
    mfa_profile(&env, "mfa-unlock", &format!("sh {ask}"));
    env.register_mfa_code("the MFA code typed at the helper's prompt", "246 802");
    let (child, mut terminal) = support::pty::controlling_terminal(&env, &["env", "mfa-unlock"]);
    let mut screen = support::pty::Screen::new(&terminal);
    screen.expect("unlock: ");
    terminal.write_all(b"246 802\n").unwrap();
    let output = env.wait_checked(child);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        recorded_assume_roles("mfa-unlock")[0].params["TokenCode"],
        "246802"
    );
}

/// Two runs of a profile whose `mfa_process` hangs: the first stops at its bound; the second,
/// which waited for the first's lock, gets the first's answer at once instead of running the
/// same hanging helper for its own full bound.
#[test]
fn a_run_that_waited_for_a_failed_one_gets_its_answer() {
    let env = {
        let mut env = TestEnv::with_moto();
        env.set("ASSUME_ROLE_PROCESS_TIMEOUT", "3s");
        env
    };
    let fx = moto();
    let ready = env.dir.path().join("helper-started");
    env.append_config(&format!(
        "\n[profile hangs]\nrole_arn = {}\nsource_profile = contractor\nmfa_serial = {}\nmfa_process = sh -c 'touch {}; sleep 30'\n",
        fx.client_role_arn,
        fx.mfa_serial,
        ready.display()
    ));
    let first = env
        .bin(&["env", "hangs"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while !ready.exists() {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "the helper never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    // The first run holds the lock now, waiting on its helper.
    let second = env.run(&["env", "hangs"]);
    let first = env.wait_checked(first);
    assert_eq!(
        first.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert_eq!(second.code(), Some(4), "{}", second.stderr());
    assert!(
        second
            .stderr()
            .contains("which this one waited for, failed")
            && second.stderr().contains("did not finish within 3s"),
        "{}",
        second.stderr()
    );
}
