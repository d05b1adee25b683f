//! The Windows exe, run under Wine against the same moto on loopback: what a contractor on a
//! Windows laptop gets from `env`, `credential-process`, `exec`, `list` and the error paths.
//!
//! These run only in the Windows lane (`scripts/windows-lane.sh`, run by `.ci/run`), which
//! cross-builds the exe and names it and Wine in `ASSUME_ROLE_TEST_WINDOWS_EXE` and
//! `ASSUME_ROLE_TEST_WINE`. Without those a plain `cargo test` skips them with a note; the lane
//! checks that every one of them ran. Children of the exe are Windows programs (`cmd /C`):
//! Wine cannot reliably start a Linux program from a Windows one.

use super::*;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Set by the lane: the cross-built `assume-role.exe`, and the `wine` that runs it.
const EXE_VAR: &str = "ASSUME_ROLE_TEST_WINDOWS_EXE";
const WINE_VAR: &str = "ASSUME_ROLE_TEST_WINE";

struct Wine {
    wine: PathBuf,
    exe: PathBuf,
}

/// The lane's exe and Wine, or `None` (with a note) outside the lane. Half a setup is a
/// broken lane, never a skip.
fn lane() -> Option<Wine> {
    let exe = std::env::var_os(EXE_VAR);
    let wine = std::env::var_os(WINE_VAR);
    match (exe, wine) {
        (Some(exe), Some(wine)) => {
            let exe = PathBuf::from(exe);
            assert!(
                exe.is_file(),
                "{EXE_VAR} names {}, which is not a file",
                exe.display()
            );
            Some(Wine {
                wine: wine.into(),
                exe,
            })
        }
        (None, None) => {
            eprintln!(
                "note: the Windows lane is not running ({EXE_VAR} and {WINE_VAR} unset), so this Windows test is skipped; run scripts/windows-lane.sh"
            );
            None
        }
        _ => panic!("set both {EXE_VAR} and {WINE_VAR}, or neither"),
    }
}

/// `/tmp/x/y` as the Windows program sees it: Wine maps the Linux root to drive `Z:`.
fn win_path(path: &Path) -> String {
    format!("Z:{}", path.display()).replace('/', "\\")
}

/// Wine's own variables (its prefix, its quiet debug channel) come from the lane.
fn windows_env(env: &mut TestEnv) {
    // `dirs` asks Windows for the profile folder; this keeps the lookup inside the test home.
    let profile = win_path(&env.home());
    env.set("USERPROFILE", &profile);
    env.set("USERNAME", "tester");
    for name in ["WINEPREFIX", "WINEDEBUG", "WINESERVER", "WINELOADER"] {
        if let Ok(value) = std::env::var(name) {
            env.set(name, &value);
        }
    }
}

fn with_moto() -> Option<(Wine, TestEnv)> {
    let wine = lane()?;
    let mut env = TestEnv::with_moto();
    windows_env(&mut env);
    Some((wine, env))
}

impl Wine {
    /// `wine assume-role.exe args…` in `env`.
    fn exe(&self, env: &TestEnv, args: &[&str]) -> Command {
        let mut cmd = env.command(&self.wine);
        cmd.arg(&self.exe).args(args);
        // The files the exe reads, as Windows paths; the test keeps writing them at Linux ones.
        for name in [
            "AWS_CONFIG_FILE",
            "AWS_SHARED_CREDENTIALS_FILE",
            "ASSUME_ROLE_CACHE_DIR",
        ] {
            cmd.env(name, win_path(Path::new(&env.vars[name])));
        }
        cmd
    }

    /// `wine cmd /C line`: Windows' shell, fed one command line as typed.
    fn cmd(&self, env: &TestEnv, line: &str) -> Command {
        let mut cmd = env.command(&self.wine);
        cmd.args(["cmd", "/C", line]);
        cmd
    }
}

/// `set`'s `NAME=value` lines (as printed by `cmd /C set`), by name.
fn parse_set(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|line| line.trim_end_matches('\r').split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

#[test]
fn windows_list_and_help() {
    let Some((wine, env)) = with_moto() else {
        return;
    };
    let help = env.run_command(wine.exe(&env, &["--help"])).ok();
    assert!(help.contains("credential-process"), "{help}");
    let list = env.run_command(wine.exe(&env, &["list"])).ok();
    for profile in ["client", "client-nomfa", "contractor"] {
        assert!(
            list.lines()
                .any(|l| l.split_whitespace().next() == Some(profile)),
            "{profile} missing from:\n{list}"
        );
    }
}

#[test]
fn windows_env_for_cmd_is_read_back_by_cmd() {
    let Some((wine, env)) = with_moto() else {
        return;
    };
    let json: BTreeMap<String, String> = serde_json::from_str(
        &env.run_command(wine.exe(&env, &["env", "client-nomfa", "--format", "json"]))
            .ok(),
    )
    .unwrap();
    assert!(json["AWS_ACCESS_KEY_ID"].starts_with("ASIA"), "{json:?}");

    // As a batch file: what `cmd` makes of every line, read back with `set`. The second run
    // comes from the cache, so it is the same session.
    let text = env
        .run_command(wine.exe(&env, &["env", "client-nomfa", "--format", "cmd"]))
        .ok();
    assert!(text.lines().all(|l| l.starts_with("set ")), "{text}");
    std::fs::write(
        env.work_dir().join("session.cmd"),
        text.replace('\n', "\r\n"),
    )
    .unwrap();
    let read = env
        .run_command(wine.cmd(&env, "call session.cmd & set"))
        .ok();
    let seen = parse_set(&read);
    for (name, value) in &json {
        assert_eq!(
            seen.get(name),
            Some(value),
            "{name} after `call session.cmd`"
        );
    }

    // The form the README gives, `for /f … do %i`, from a batch file (where `%i` is spelled
    // `%%i`): Wine's `cmd` runs each line only as `do call %i`; real `cmd.exe` runs it as
    // printed, which nothing here can check.
    let batch = format!(
        "@for /f \"delims=\" %%i in ('{} env client-nomfa --format cmd') do @call %%i\r\n@set AWS_\r\n",
        win_path(&wine.exe)
    );
    std::fs::write(env.work_dir().join("readme-form.cmd"), batch).unwrap();
    let read = env.run_command(wine.cmd(&env, "readme-form.cmd")).ok();
    let seen = parse_set(&read);
    for (name, value) in json.iter().filter(|(n, _)| n.starts_with("AWS_")) {
        assert_eq!(seen.get(name), Some(value), "{name} after the for /f line");
    }
}

#[test]
fn windows_env_for_cmd_carries_cmd_metacharacters_as_text() {
    let Some((wine, env)) = with_moto() else {
        return;
    };
    // Inside `set "K=v"` these are plain text; `%`, `!` and `"` are refused instead.
    let key = "AKIA&echo pwned>pwned-amp|x^y<z (a)";
    env.append_config(&format!(
        "\n[profile hostile-keys]\naws_access_key_id = {key}\naws_secret_access_key = s&type nul>pwned-secret\nregion = eu-west-1\n"
    ));
    let text = env
        .run_command(wine.exe(&env, &["env", "hostile-keys", "--format", "cmd"]))
        .ok();
    std::fs::write(
        env.work_dir().join("hostile.cmd"),
        text.replace('\n', "\r\n"),
    )
    .unwrap();
    let read = env
        .run_command(wine.cmd(&env, "call hostile.cmd & set AWS_"))
        .ok();
    let seen = parse_set(&read);
    assert_eq!(seen["AWS_ACCESS_KEY_ID"], key, "{read}");
    assert_eq!(seen["AWS_SECRET_ACCESS_KEY"], "s&type nul>pwned-secret");
    let created: Vec<_> = std::fs::read_dir(env.work_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("pwned"))
        .collect();
    assert!(created.is_empty(), "cmd ran code: {created:?}");

    // A value `cmd` cannot carry is refused, naming it, rather than printed broken.
    env.append_config(
        "\n[profile percent]\naws_access_key_id = AKIA%PATH%\naws_secret_access_key = s\nregion = eu-west-1\n",
    );
    let refused = env.run_command(wine.exe(&env, &["env", "percent", "--format", "cmd"]));
    assert_eq!(refused.code(), Some(1), "{}", refused.stderr());
    assert_eq!(refused.stdout(), "");
    assert!(
        refused.stderr().contains("`AWS_ACCESS_KEY_ID`"),
        "{}",
        refused.stderr()
    );
}

/// Reads `$Env:NAME = '…'` lines back. No PowerShell can be installed here, so this undoes the
/// single-quote escaping by hand: a quote inside is doubled, and nothing else is special.
fn parse_powershell(text: &str) -> BTreeMap<String, String> {
    let mut vars = BTreeMap::new();
    for line in text.lines() {
        if line.starts_with("Remove-Item -Path Env:") {
            continue;
        }
        let (name, quoted) = line
            .strip_prefix("$Env:")
            .and_then(|rest| rest.split_once(" = "))
            .unwrap_or_else(|| panic!("not a PowerShell assignment: {line}"));
        let inner = quoted
            .strip_prefix('\'')
            .and_then(|q| q.strip_suffix('\''))
            .unwrap_or_else(|| panic!("not single-quoted: {line}"));
        assert!(
            !inner.replace("''", "").contains('\''),
            "a lone quote ends the string early: {line}"
        );
        vars.insert(name.to_owned(), inner.replace("''", "'"));
    }
    vars
}

#[test]
fn windows_env_for_powershell_parses_back_to_the_session() {
    let Some((wine, mut env)) = with_moto() else {
        return;
    };
    env.set("AWS_PROFILE", "stale");
    let json: BTreeMap<String, String> = serde_json::from_str(
        &env.run_command(wine.exe(&env, &["env", "client-nomfa", "--format", "json"]))
            .ok(),
    )
    .unwrap();
    let text = env
        .run_command(wine.exe(&env, &["env", "client-nomfa", "--format", "powershell"]))
        .ok();
    assert_eq!(parse_powershell(&text), json, "{text}");
    assert!(
        text.lines()
            .any(|l| l == "Remove-Item -Path Env:AWS_PROFILE -ErrorAction SilentlyContinue"),
        "{text}"
    );

    env.append_config(
        "\n[profile quotes]\naws_access_key_id = AKIA'x'$(y)\naws_secret_access_key = s`$Env:HOME\nregion = eu-west-1\n",
    );
    let text = env
        .run_command(wine.exe(&env, &["env", "quotes", "--format", "powershell"]))
        .ok();
    let vars = parse_powershell(&text);
    assert_eq!(vars["AWS_ACCESS_KEY_ID"], "AKIA'x'$(y)");
    assert_eq!(vars["AWS_SECRET_ACCESS_KEY"], "s`$Env:HOME");
}

#[test]
fn windows_credential_process_prints_one_object() {
    let Some((wine, env)) = with_moto() else {
        return;
    };
    let raw = env
        .run_command(wine.exe(&env, &["credential-process", "client"]))
        .ok();
    assert_eq!(raw.trim_end().lines().count(), 1, "{raw}");
    let json: serde_json::Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(json["Version"], 1);
    assert_eq!(json["AccountId"], "222222222222");
    assert!(
        json["AccessKeyId"].as_str().unwrap().starts_with("ASIA"),
        "{raw}"
    );
    for key in ["SecretAccessKey", "SessionToken", "Expiration"] {
        assert!(json[key].is_string(), "{key}: {raw}");
    }
    // The profile's `mfa_process` ran through `cmd /C`, and the code went to STS.
    let sent = support::recorded_all()
        .into_iter()
        .filter(|r| r.params.get("Action").map(String::as_str) == Some("AssumeRole"))
        .any(|r| r.params.get("TokenCode").map(String::as_str) == Some("123456"));
    assert!(sent, "no AssumeRole carried the code from `mfa_process`");
}

#[test]
fn windows_exec_sets_and_removes_exactly_the_session_variables() {
    let Some((wine, mut env)) = with_moto() else {
        return;
    };
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
    let run = env.run_command(wine.exe(&env, &["exec", "client", "--", "cmd", "/C", "set"]));
    let child = parse_set(&run.ok());
    for name in SESSION_VARS {
        assert!(child.contains_key(name), "{name} missing: {child:?}");
    }
    for name in REMOVED_VARS
        .iter()
        .chain(&["AWSUME_PROFILE", "GRANTED_SSO"])
    {
        assert!(!child.contains_key(*name), "{name} should be removed");
    }
    assert!(child["AWS_ACCESS_KEY_ID"].starts_with("ASIA"), "{child:?}");
    assert_eq!(child["AWS_ACCOUNT_ID"], "222222222222");
    assert_eq!(child["AWS_REGION"], moto().region);
    assert_eq!(child["AWS_DEFAULT_REGION"], moto().region);
    assert_eq!(child["ASSUME_ROLE_PROFILE"], "client");
    assert_eq!(child["KEEP_ME"], "kept");
}

#[test]
fn windows_exec_passes_exit_codes_through() {
    let Some((wine, env)) = with_moto() else {
        return;
    };
    let exec = |cmd: &[&str]| {
        let mut args = vec!["exec", "client-nomfa", "--"];
        args.extend_from_slice(cmd);
        env.run_command(wine.exe(&env, &args))
    };
    assert_eq!(exec(&["cmd", "/C", "exit 0"]).code(), Some(0));
    let three = exec(&["cmd", "/C", "echo out & exit 3"]);
    assert_eq!(three.code(), Some(3), "{}", three.stderr());
    assert_eq!(three.stdout().trim_end(), "out");
    // The whole code reaches Wine; Wine hands Linux its low byte, as Linux itself would.
    assert_eq!(exec(&["cmd", "/C", "exit 300"]).code(), Some(300 % 256));

    let missing = exec(&["definitely-not-a-command-xyz"]);
    assert_eq!(missing.code(), Some(127), "{}", missing.stderr());
    assert!(
        missing
            .stderr()
            .contains("`definitely-not-a-command-xyz` not found"),
        "{}",
        missing.stderr()
    );
}

#[test]
fn windows_errors_name_the_profile_and_the_fix() {
    let Some((wine, env)) = with_moto() else {
        return;
    };
    let unknown = env.run_command(wine.exe(&env, &["env", "client-nomfaa"]));
    assert_eq!(unknown.code(), Some(3), "{}", unknown.stderr());
    assert_eq!(unknown.stdout(), "");
    assert!(
        unknown.stderr().contains("`client-nomfaa`") && unknown.stderr().contains("`client-nomfa`"),
        "{}",
        unknown.stderr()
    );

    // An MFA profile with no code source, run without a console (as an IDE or a scheduled
    // task runs it): it says where a code can come from, and does not wait.
    env.append_config(&format!(
        "\n[profile ask]\nrole_arn = {}\nsource_profile = contractor\nexternal_id = {}\nmfa_serial = {}\nregion = {}\n",
        moto().client_role_arn,
        moto().client_external_id,
        moto().mfa_serial,
        moto().region
    ));
    let ask = env.run_command(wine.exe(&env, &["env", "ask"]));
    assert_eq!(ask.code(), Some(4), "{}", ask.stderr());
    assert_eq!(ask.stdout(), "");
    assert!(
        ask.stderr().contains("--mfa-token") && ask.stderr().contains("mfa_process"),
        "{}",
        ask.stderr()
    );
}

/// A child the test spawned itself, killed if the test fails before it exits.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn windows_mfa_prompt_reads_the_console() {
    use std::io::Write;

    let Some((wine, env)) = with_moto() else {
        return;
    };
    let fx = moto();
    env.append_config(&format!(
        "\n[profile win-prompt]\nrole_arn = {}\nsource_profile = contractor\nmfa_serial = {}\nduration_seconds = 7200\nrole_session_name = win-prompted\n",
        fx.client_role_arn, fx.mfa_serial
    ));
    // Wine's console shows `CONOUT$` and reads `CONIN$` only when the exe's own stdin, stdout
    // and stderr are a terminal; with stdout captured it shows nothing (real Windows shows
    // the prompt in the console window either way, which is not checked here).
    env.register_mfa_code("the MFA code typed at the console", "975310");
    let (mut terminal, slave) = support::pty::open();
    let mut cmd = wine.exe(&env, &["env", "win-prompt", "--format", "json"]);
    cmd.stdin(slave.try_clone().unwrap())
        .stdout(slave.try_clone().unwrap())
        .stderr(slave);
    let mut child = KillOnDrop(cmd.spawn().unwrap());
    drop(cmd);
    let mut screen = support::pty::Screen::new(&terminal);
    screen.expect(&format!("MFA code for {}", fx.mfa_serial));
    // Wine's console puts the terminal in raw mode just after the prompt shows; typed earlier,
    // Enter arrives as a line feed, which it does not take for Enter. So the code is typed
    // once the terminal is raw, not after a fixed pause.
    support::pty::wait_for_raw_input(
        &terminal,
        std::time::Duration::from_secs(20),
        "the Windows exe, after its prompt,",
    );
    terminal.write_all(b"975310\r").unwrap();
    screen.expect("AWS_ACCESS_KEY_ID");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.0.try_wait().unwrap() {
            break status;
        }
        assert!(
            std::time::Instant::now() <= deadline,
            "the Windows exe did not exit within 30 s of the code"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    assert!(status.success(), "{status:?}");
    assert_eq!(
        recorded_assume_roles("win-prompted")[0].params["TokenCode"],
        "975310"
    );
}

/// The readiness signal the console test waits on (`pty::wait_for_raw_input`) is seen: a
/// program that puts the terminal in raw mode (`stty raw`, as Wine's console does) is noticed
/// from the master side. Runs without Wine.
#[test]
fn a_terminal_put_in_raw_mode_is_seen_from_the_master_side() {
    let (terminal, slave) = support::pty::open();
    let mut stty = std::process::Command::new("stty")
        .arg("raw")
        .stdin(slave)
        .spawn()
        .expect("stty");
    support::pty::wait_for_raw_input(&terminal, std::time::Duration::from_secs(10), "stty raw");
    assert!(stty.wait().unwrap().success());
}
