//! Helper processes (`mfa_process`, `credential_process`): run through the platform shell,
//! stdout captured and capped, stderr and stdin passed through, and bounded in time. A helper
//! that does not finish in time is killed, with what it started where that can be reached,
//! and reported as a typed timeout instead of hanging the run.

mod error;
pub use error::ProcessError;

use std::io::Read;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

/// How long a helper may take unless `ASSUME_ROLE_PROCESS_TIMEOUT` says otherwise: long enough
/// for a person to unlock a password manager or touch a hardware key.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_mins(1);

/// The most of a helper's stdout that is kept. Credential JSON is a few hundred bytes; more
/// than this is a broken helper, and keeping it all would let it exhaust our memory.
pub const MAX_OUTPUT: usize = 1 << 20;

/// After the helper exits, how long to wait for its stdout to close. Everything the helper
/// wrote is in the pipe by then; only a background process it left behind (an agent, say) can
/// keep the pipe open, and the answer must not wait for that.
const DRAIN_GRACE: Duration = Duration::from_millis(500);

/// Which setting a helper comes from, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HelperKind {
    MfaProcess,
    CredentialProcess,
}

impl std::fmt::Display for HelperKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            HelperKind::MfaProcess => "`mfa_process`",
            HelperKind::CredentialProcess => "`credential_process`",
        })
    }
}

/// A helper command line and the profile it belongs to.
pub struct Helper<'a> {
    pub kind: HelperKind,
    pub profile: &'a str,
    pub command: &'a str,
}

impl Helper<'_> {
    /// The error for a helper that ran but failed; `reason` names the program only, never its
    /// arguments, which may hold a TOTP seed or a password.
    fn failed(&self, reason: String) -> ProcessError {
        ProcessError::HelperFailed {
            kind: self.kind,
            profile: self.profile.to_owned(),
            reason,
        }
    }
}

/// The value of `ASSUME_ROLE_PROCESS_TIMEOUT` (`None` when unset): seconds or a duration such
/// as `90s`, `2m` or `1m30s`; unset or empty means [`DEFAULT_TIMEOUT`].
pub fn process_timeout(value: Option<&str>) -> Result<Duration, ProcessError> {
    let Some(text) = value.filter(|v| !v.trim().is_empty()) else {
        return Ok(DEFAULT_TIMEOUT);
    };
    match crate::duration::parse(text) {
        Ok(timeout) if timeout >= Duration::from_secs(1) => Ok(timeout),
        Ok(_) => Err(invalid_timeout(text, "at least one second")),
        Err(_) => Err(invalid_timeout(text, "not a duration")),
    }
}

fn invalid_timeout(value: &str, reason: &'static str) -> ProcessError {
    crate::env_vars::InvalidEnvVar {
        name: crate::env_vars::ASSUME_ROLE_PROCESS_TIMEOUT,
        value: value.escape_debug().to_string(),
        reason,
        expected: "seconds (`90`) or a duration with units (`30s`, `2m`, `1m30s`)",
    }
    .into()
}

/// Runs `helper` with the extra environment `env`, and returns its stdout if it exits
/// successfully within `timeout`.
pub fn run(
    helper: &Helper,
    env: &[(&str, &str)],
    timeout: Duration,
) -> Result<Vec<u8>, ProcessError> {
    let program = program_name(helper.command);
    let mut cmd = platform_shell(helper.command);
    cmd.envs(env.iter().copied())
        // A password manager may ask for its unlock on stdin or the terminal.
        .stdin(Stdio::inherit())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let own_group = isolate(&mut cmd);
    let mut child = cmd
        .spawn()
        .map_err(|e| helper.failed(format!("cannot start `{program}`: {e}")))?;
    let chunks = pump(&mut child);
    let deadline = Instant::now() + timeout;
    let mut stdout = Vec::new();
    let mut open = true;
    let mut nap = Duration::from_millis(2);
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) => {}
            Err(e) => {
                stop(&mut child, own_group);
                return Err(helper.failed(format!("cannot wait for `{program}`: {e}")));
            }
        }
        let now = Instant::now();
        if now >= deadline {
            stop(&mut child, own_group);
            tracing::debug!(program, own_group, "helper timed out and was killed");
            return Err(ProcessError::HelperTimeout {
                kind: helper.kind,
                profile: helper.profile.to_owned(),
                program: program.to_owned(),
                waited: timeout,
            });
        }
        // std has no wait with a timeout; a short, growing nap keeps a quick helper quick and
        // a slow one cheap. Output that arrives meanwhile ends the nap early.
        let wait = nap.min(deadline - now);
        if open {
            open = receive(&chunks, wait, &mut stdout);
        } else {
            std::thread::sleep(wait);
        }
        nap = (nap * 2).min(Duration::from_millis(50));
    };
    let grace = Instant::now() + DRAIN_GRACE;
    while open {
        let left = grace.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        open = receive(&chunks, left, &mut stdout);
    }
    if !status.success() {
        return Err(helper.failed(format!("`{program}` exited with {status}")));
    }
    if stdout.len() > MAX_OUTPUT {
        return Err(helper.failed(format!(
            "`{program}` printed more than {} MiB",
            MAX_OUTPUT >> 20
        )));
    }
    Ok(stdout)
}

/// Runs a program we drive ourselves (`git`), with no terminal: its stdout and stderr (each up
/// to [`MAX_OUTPUT`]) and status, or `ErrorKind::TimedOut` once `timeout` has passed, the
/// program (and its group, when unattended) killed.
pub fn run_captured(mut cmd: Command, timeout: Duration) -> std::io::Result<std::process::Output> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let own_group = isolate(&mut cmd);
    let mut child = cmd.spawn()?;
    let chunks = pump(&mut child);
    let (errors_tx, errors) = mpsc::channel();
    if let Some(mut err) = child.stderr.take() {
        std::thread::spawn(move || {
            let mut text = Vec::new();
            let _ = (&mut err).take(MAX_OUTPUT as u64).read_to_end(&mut text);
            let _ = errors_tx.send(text);
        });
    }
    let deadline = Instant::now() + timeout;
    let mut stdout = Vec::new();
    let mut open = true;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        let now = Instant::now();
        if now >= deadline {
            stop(&mut child, own_group);
            return Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!("no answer within {}", crate::duration::display(timeout)),
            ));
        }
        let wait = Duration::from_millis(20).min(deadline - now);
        if open {
            open = receive(&chunks, wait, &mut stdout);
        } else {
            std::thread::sleep(wait);
        }
    };
    // A process the program left running may hold the pipes open: drain them briefly.
    let grace = Instant::now() + DRAIN_GRACE;
    while open {
        let left = grace.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        open = receive(&chunks, left, &mut stdout);
    }
    let stderr = errors
        .recv_timeout(grace.saturating_duration_since(Instant::now()))
        .unwrap_or_default();
    // Cut short, the output would read as something else (a registry missing profiles).
    if stdout.len() > MAX_OUTPUT {
        return Err(std::io::Error::other(format!(
            "it printed more than {} MiB",
            MAX_OUTPUT >> 20
        )));
    }
    Ok(std::process::Output {
        status,
        stdout,
        stderr,
    })
}

/// Adds what arrives on `chunks` within `wait` to `stdout`; false once the pipe has closed.
fn receive(chunks: &Receiver<Vec<u8>>, wait: Duration, stdout: &mut Vec<u8>) -> bool {
    match chunks.recv_timeout(wait) {
        Ok(chunk) => {
            stdout.extend_from_slice(&chunk);
            true
        }
        Err(RecvTimeoutError::Timeout) => true,
        Err(RecvTimeoutError::Disconnected) => false,
    }
}

/// Reads the child's stdout on its own thread, so that a chatty child never blocks on a full
/// pipe while we wait for it to exit. Past [`MAX_OUTPUT`] it keeps reading but stops sending.
/// The thread is not joined: a process the child left running may hold the pipe open.
fn pump(child: &mut Child) -> Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::channel();
    if let Some(mut out) = child.stdout.take() {
        std::thread::spawn(move || {
            let mut sent = 0;
            let mut buf = vec![0; 64 * 1024];
            loop {
                match out.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) if sent <= MAX_OUTPUT => {
                        sent += n;
                        if tx.send(buf[..n].to_vec()).is_err() {
                            break;
                        }
                    }
                    Ok(_) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(_) => break,
                }
            }
        });
    }
    rx
}

/// Puts the child in a process group of its own when that is safe, so that a timeout can kill
/// everything it started (`sh -c` and whatever the helper forks); returns whether it did.
///
/// It is not safe when we run in the foreground of a terminal: a process group other than the
/// terminal's foreground group is stopped (SIGTTIN) as soon as it reads the terminal, so a
/// password manager asking for its unlock would hang until the timeout. Making the child's
/// group the foreground group, as a shell does, would need us to ignore SIGTTOU to take the
/// terminal back, which needs unsafe signal handling. So in that case the child stays in our
/// group, where it can use the terminal and Ctrl-C reaches it as it reaches us, and a timeout
/// kills the child alone. Unattended runs (no terminal, or in the background: an IDE, a
/// script, CI, an SDK's `credential_process`) are where a hang goes unnoticed, and there the
/// whole group is killed.
#[cfg(unix)]
fn isolate(cmd: &mut Command) -> bool {
    use std::os::unix::process::CommandExt;
    if crate::terminal::in_foreground() {
        return false;
    }
    cmd.process_group(0);
    true
}

/// Windows has no process groups to kill in one call (that takes a job object); the child is
/// killed alone.
#[cfg(not(unix))]
fn isolate(_cmd: &mut Command) -> bool {
    false
}

/// Kills the child (and its group, if it has its own) and reaps it.
fn stop(child: &mut Child, own_group: bool) {
    #[cfg(unix)]
    if own_group {
        // The group's ID is the child's PID, which cannot be reused before we reap the child
        // below; an error means no member is left.
        let _ = rustix::process::kill_process_group(
            rustix::process::Pid::from_child(child),
            rustix::process::Signal::KILL,
        );
    }
    #[cfg(not(unix))]
    let _ = own_group;
    let _ = child.kill();
    let _ = child.wait();
}

/// A command for a program we start on the user's behalf, without the variables of ours that
/// hold a secret ([`crate::env_vars::CHILD_SECRETS`]). Every child is made here.
pub fn child(program: impl AsRef<std::ffi::OsStr>) -> Command {
    let mut cmd = Command::new(program);
    for name in crate::env_vars::CHILD_SECRETS {
        cmd.env_remove(name);
    }
    cmd
}

/// `sh -c` on Unix, `cmd /C` on Windows: how the SDKs run `credential_process` too.
#[cfg(not(windows))]
pub fn platform_shell(command: &str) -> Command {
    let mut cmd = child("sh");
    cmd.arg("-c").arg(command);
    cmd
}

/// `cmd.exe` does not understand the MSVC escaping `Command::arg` applies, so a quoted path
/// would break; like aws-config, hand it the command line raw.
#[cfg(windows)]
pub fn platform_shell(command: &str) -> Command {
    use std::os::windows::process::CommandExt;
    let mut cmd = child("cmd.exe");
    cmd.arg("/C").raw_arg(format!("\"{command}\""));
    cmd
}

/// The first word of a command line, for messages: arguments may hold a TOTP seed or a
/// password, as the SDK's own `credential_process` logging assumes.
pub fn program_name(command: &str) -> &str {
    command.split_whitespace().next().unwrap_or_default()
}

/// The whole program's name. On Unix the `assume-role` on `PATH` is a small front that hands
/// most command lines to this program, installed beside it (`commands::front`).
pub const FULL_PROGRAM: &str = "assume-role-full";

/// The front's name (on Windows, the whole program's too).
pub const FRONT_PROGRAM: &str = "assume-role";

/// The program `name` in the directory of `exe` (the running program, or the path it was
/// started by): beside it as it was named when that holds it (Homebrew links both programs into
/// its `bin/`, a path that stays the same across upgrades), else beside the file it links to.
/// Never looked up on `PATH`, which another program could shadow.
pub fn sibling(exe: &std::path::Path, name: &str) -> std::io::Result<PathBuf> {
    let file = format!("{name}{}", std::env::consts::EXE_SUFFIX);
    let beside = |exe: &std::path::Path| {
        exe.parent()
            .map(|dir| dir.join(&file))
            .ok_or_else(|| std::io::Error::other(format!("`{}` has no directory", exe.display())))
    };
    let path = beside(exe)?;
    if path.is_file() {
        return Ok(path);
    }
    match std::fs::canonicalize(exe) {
        Ok(real) if real != exe => beside(&real),
        _ => Ok(path),
    }
}

/// Replaces this process with `path`, named `argv0`, given `args`, in the same environment.
/// Returns only if that fails.
#[cfg(unix)]
pub fn exec_as(
    path: &std::path::Path,
    argv0: &std::ffi::OsStr,
    args: &[std::ffi::OsString],
) -> std::io::Error {
    use std::os::unix::process::CommandExt;
    Command::new(path).arg0(argv0).args(args).exec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn the_whole_program_is_found_beside_a_link_that_has_it_else_beside_the_real_file() {
        use std::os::unix::fs::symlink;
        let root = tempfile::tempdir().unwrap();
        let dir = |name: &str| {
            let dir = root.path().join(name);
            std::fs::create_dir(&dir).unwrap();
            dir
        };
        let (real, linked, lone) = (dir("real"), dir("linked"), dir("lone"));
        for name in ["assume-role", FULL_PROGRAM] {
            std::fs::write(real.join(name), "").unwrap();
            // Homebrew's `bin/`: both programs linked, a path that survives upgrades.
            symlink(real.join(name), linked.join(name)).unwrap();
        }
        // `ln -s …/assume-role ~/bin/`: the front alone.
        symlink(real.join("assume-role"), lone.join("assume-role")).unwrap();
        let found = |exe: &std::path::Path| sibling(exe, FULL_PROGRAM).unwrap();
        assert_eq!(found(&real.join("assume-role")), real.join(FULL_PROGRAM));
        assert_eq!(
            found(&linked.join("assume-role")),
            linked.join(FULL_PROGRAM)
        );
        assert_eq!(
            found(&lone.join("assume-role")),
            real.canonicalize().unwrap().join(FULL_PROGRAM)
        );
        // Nowhere: the path beside it, for the message.
        let empty = dir("empty");
        assert_eq!(found(&empty.join("assume-role")), empty.join(FULL_PROGRAM));
    }

    #[cfg(unix)]
    fn helper(command: &str) -> Helper<'_> {
        Helper {
            kind: HelperKind::CredentialProcess,
            profile: "p",
            command,
        }
    }

    #[test]
    fn the_timeout_variable_takes_seconds_or_units() {
        assert_eq!(process_timeout(None).unwrap(), DEFAULT_TIMEOUT);
        assert_eq!(process_timeout(Some("")).unwrap(), DEFAULT_TIMEOUT);
        assert_eq!(
            process_timeout(Some("90")).unwrap(),
            Duration::from_secs(90)
        );
        assert_eq!(
            process_timeout(Some("30s")).unwrap(),
            Duration::from_secs(30)
        );
        assert_eq!(process_timeout(Some("2m")).unwrap(), Duration::from_mins(2));
        for bad in ["0", "soon", "-1", "1.5"] {
            let err = process_timeout(Some(bad)).unwrap_err().to_string();
            assert!(
                err.contains("`ASSUME_ROLE_PROCESS_TIMEOUT`") && err.contains(bad),
                "{err}"
            );
        }
    }

    #[cfg(unix)]
    #[test]
    fn output_exit_status_and_timeout() {
        let out = run(&helper("printf 'a b'; echo c >&2"), &[], DEFAULT_TIMEOUT).unwrap();
        assert_eq!(out, b"a b");
        let err = run(&helper("exit 3"), &[], DEFAULT_TIMEOUT).unwrap_err();
        assert!(err.to_string().contains("`exit` exited with"), "{err}");
        let err = run(&helper("echo $X"), &[("X", "y")], DEFAULT_TIMEOUT).unwrap();
        assert_eq!(err, b"y\n");

        let start = Instant::now();
        let err = run(
            &helper("sleep 30 # secret-seed"),
            &[],
            Duration::from_millis(300),
        )
        .unwrap_err();
        assert!(start.elapsed() < Duration::from_secs(5));
        let text = err.to_string();
        assert!(
            matches!(err, ProcessError::HelperTimeout { .. }) && !text.contains("secret"),
            "{text}"
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_chatty_helper_is_capped_and_a_lingering_one_does_not_hold_the_answer() {
        let err = run(&helper("yes"), &[], Duration::from_secs(1)).unwrap_err();
        // `yes` never ends: it is stopped at the timeout, not by a full pipe.
        assert!(matches!(err, ProcessError::HelperTimeout { .. }), "{err}");
        let err = run(&helper("head -c 2000000 /dev/zero"), &[], DEFAULT_TIMEOUT).unwrap_err();
        assert!(err.to_string().contains("more than 1 MiB"), "{err}");
        // A background process keeps stdout open; the answer comes when the helper exits.
        let start = Instant::now();
        let out = run(&helper("sleep 5 & echo done"), &[], DEFAULT_TIMEOUT).unwrap();
        assert_eq!(out, b"done\n");
        assert!(start.elapsed() < Duration::from_secs(3));
    }
}
