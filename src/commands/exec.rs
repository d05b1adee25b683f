//! `assume-role exec`: run a command inside a session.

use super::session_for;
use crate::audit;
use crate::cli::CredentialOptions;
use crate::context::Context;
use crate::credentials::{EnvChanges, Session};
use crate::env_vars;
use crate::error::Error;
use crate::server;
use std::ffi::OsString;
use std::process::{Child, Command, ExitCode};

pub fn run(
    profile: &str,
    options: &CredentialOptions,
    server: bool,
    command: Vec<OsString>,
    ctx: &Context,
) -> Result<ExitCode, Error> {
    let mut words = command.into_iter();
    // Known before any STS call, so that a missing shell costs no MFA code.
    let (program, shell) = if let Some(program) = words.next() {
        (program, None)
    } else {
        let (var, program) = default_shell(profile, ctx)?;
        (program, Some(var))
    };
    // Every code the first credentials need is asked for here, before the child starts.
    let name = audit::program_name(&program);
    let via = if server {
        audit::Via::ExecServer { program: &name }
    } else {
        audit::Via::Exec { program: &name }
    };
    let session = session_for(profile, options, ctx, via)?;
    let launch = Launch {
        program: program.to_string_lossy().into_owned(),
        shell: shell.map(|var| (var, profile)),
    };
    let mut child = crate::process::child(&program);
    child.args(words);
    if server {
        return serve(profile, options, &session, child, &launch, &name, ctx);
    }
    give_session(&mut child, &session, ctx);
    tracing::info!(program = %program.to_string_lossy(), "exec");
    hand_over(child, &launch)
}

/// Gives `child` the session's credentials as `exec` hands them over: the session's variables
/// set, and inherited ones that would contradict them (another profile, another wrapper's)
/// removed. `each` gives every command its environment this way too.
pub(super) fn give_session(child: &mut Command, session: &Session, ctx: &Context) {
    apply(
        child,
        &session.env_changes(ctx.env.var_names.iter().map(String::as_str)),
    );
}

fn apply(child: &mut Command, changes: &EnvChanges) {
    for name in &changes.unset {
        child.env_remove(name);
    }
    for assignment in &changes.set {
        child.env(assignment.name, assignment.value());
    }
}

/// `--server`: the child gets a credential endpoint that renews its credentials, so this
/// process stays as its parent (on every platform) and passes its exit through.
fn serve(
    profile: &str,
    options: &CredentialOptions,
    session: &Session,
    mut child: Command,
    launch: &Launch,
    program: &str,
    ctx: &Context,
) -> Result<ExitCode, Error> {
    let refresh = {
        let (profile, options, ctx) = (profile.to_owned(), options.clone(), ctx.clone());
        let program = program.to_owned();
        Box::new(move |min_valid| {
            // The flag's code is spent, and `--no-cache` was for the first credentials: later
            // ones come from the cache where another run refreshed it, else from STS, and
            // `min_valid` (more than the current ones have left) keeps the current session
            // itself from being served back from the cache.
            let later = CredentialOptions {
                mfa_token: None,
                no_cache: false,
                min_valid: Some(min_valid),
                ..options.clone()
            };
            let via = audit::Via::ServerRefresh { program: &program };
            session_for(&profile, &later, &ctx, via)
                .map(|s| s.credentials)
                .map_err(|e| Box::new(e) as Box<dyn crate::exit::Diagnose + Send>)
        })
    };
    let endpoint = server::start(&session.profile, session.credentials.clone(), refresh)?;
    let changes = server::env_changes(
        session,
        &endpoint,
        ctx.env.var_names.iter().map(String::as_str),
    );
    apply(&mut child, &changes);
    tracing::info!(program = %launch.program, "exec with a credential endpoint");
    // Hooked before the child exists: a SIGTERM in between would otherwise kill this process
    // and its endpoint, and leave the child running without credentials.
    // `()` on Windows, where there are no signals to hook.
    #[cfg_attr(not(unix), allow(clippy::let_unit_value))]
    let signals = catch_signals().map_err(crate::server::ServerError::ServerStart)?;
    let mut running = child.spawn().map_err(|e| spawn_error(e, launch))?;
    let status = wait_forwarding_signals(&mut running, signals)
        .map_err(crate::server::ServerError::ServerStart)?;
    pass_through(status)
}

/// Waits for the child, forwarding SIGINT, SIGTERM and SIGHUP that other processes send us.
/// Those the terminal sends (Ctrl-C, a hang-up) already reach the child, which shares our
/// process group: sending them again would deliver them twice, and a second Ctrl-C means
/// "stop now, skip the clean-up" to terraform and many others.
#[cfg(unix)]
type Signals = signal_hook::iterator::SignalsInfo<signal_hook::iterator::exfiltrator::WithOrigin>;
#[cfg(not(unix))]
type Signals = ();

#[cfg(unix)]
fn catch_signals() -> std::io::Result<Signals> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    Signals::new([SIGINT, SIGTERM, SIGHUP])
}

#[cfg(not(unix))]
#[allow(clippy::unnecessary_wraps)]
fn catch_signals() -> std::io::Result<Signals> {
    Ok(())
}

#[cfg(unix)]
fn wait_forwarding_signals(
    child: &mut Child,
    mut signals: Signals,
) -> std::io::Result<std::process::ExitStatus> {
    use rustix::process::{Pid, Signal, kill_process};
    use signal_hook::consts::{SIGINT, SIGTERM};
    use signal_hook::low_level::siginfo::Cause;

    let handle = signals.handle();
    let pid = Pid::from_child(child);
    let forwarder = std::thread::spawn(move || {
        for origin in signals.forever() {
            if origin.cause == Cause::Kernel {
                continue;
            }
            let signal = match origin.signal {
                SIGINT => Signal::INT,
                SIGTERM => Signal::TERM,
                _ => Signal::HUP,
            };
            tracing::debug!(?signal, "forwarding a signal to the child");
            // The child is not reaped before `handle.close()`, so the PID is still its own.
            let _ = kill_process(pid, signal);
        }
    });
    let status = child.wait();
    handle.close();
    let _ = forwarder.join();
    status
}

/// Windows has no signals to forward: Ctrl-C reaches every process on the console.
#[cfg(not(unix))]
fn wait_forwarding_signals(
    child: &mut Child,
    (): Signals,
) -> std::io::Result<std::process::ExitStatus> {
    child.wait()
}

/// Ends this process as the child ended: with its code, or killed by its signal, so that the
/// shell sees what plain `exec` would show (`$?` = 128 + N).
fn pass_through(status: std::process::ExitStatus) -> ! {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            // Puts the default action back (ours forwards), then raises it on ourselves.
            let _ = signal_hook::low_level::emulate_default_handler(signal);
            std::process::exit(128 + signal);
        }
    }
    std::process::exit(status.code().unwrap_or(1))
}

/// The user's shell, and the variable it came from: `$SHELL` on Unix; on Windows `%COMSPEC%`,
/// else `cmd.exe`. Unix has no fallback: guessing `/bin/sh` would drop the user into a shell
/// they did not choose, without their rc files, and without saying so.
fn default_shell(profile: &str, ctx: &Context) -> Result<(&'static str, OsString), Error> {
    if cfg!(windows) {
        let shell = ctx
            .env
            .shell
            .clone()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "cmd.exe".into());
        return Ok((env_vars::COMSPEC, shell));
    }
    match &ctx.env.shell {
        Some(shell) if !shell.is_empty() => Ok((env_vars::SHELL, shell.clone())),
        value => Err(Error::ShellUnusable {
            var: env_vars::SHELL,
            value: value.as_ref().map(|v| v.to_string_lossy().into_owned()),
            profile: profile.to_owned(),
            source: None,
        }),
    }
}

/// What is started, for the message if it cannot be.
struct Launch<'a> {
    program: String,
    /// The variable it came from and the profile, when the user typed no command.
    shell: Option<(&'static str, &'a str)>,
}

/// Replaces this process with the command, so that its exit code and signals are the child's
/// own and no parent lingers holding credentials.
#[cfg(unix)]
fn hand_over(mut child: Command, launch: &Launch) -> Result<ExitCode, Error> {
    use std::os::unix::process::CommandExt;
    let err = child.exec();
    Err(spawn_error(err, launch))
}

/// Without `exec`, wait and pass the code through whole: `ExitCode` holds only a byte, and
/// 256 must not become 0.
///
/// Ctrl-C and Ctrl-Break go to every process on the console, the child included, and the
/// child decides what they mean (an interactive shell ignores them, a long job stops). Left to
/// the default, they would also end this process at once: the caller's shell would get its
/// prompt back while the child still runs, orphaned, with its exit code lost. So while the
/// child runs they do nothing here. A handler that returns "handled" is used rather than
/// `SetConsoleCtrlHandler(NULL, TRUE)`, because that one is inherited by children started later
/// and the child must keep Ctrl-C; it also needs no `unsafe` of ours.
#[cfg(not(unix))]
fn hand_over(mut child: Command, launch: &Launch) -> Result<ExitCode, Error> {
    let mut running = child.spawn().map_err(|e| spawn_error(e, launch))?;
    #[cfg(windows)]
    if let Err(err) = ctrlc::set_handler(|| {}) {
        // Not fatal: the child runs either way; only an interrupted wait would lose its code.
        tracing::warn!(%err, "cannot ignore Ctrl-C while the command runs");
    }
    let status =
        running
            .wait()
            .map_err(|e| crate::process::ProcessError::CommandNotExecutable {
                program: launch.program.clone(),
                source: e,
            })?;
    std::process::exit(status.code().unwrap_or(1))
}

fn spawn_error(err: std::io::Error, launch: &Launch) -> Error {
    let program = &launch.program;
    // The user typed no command: the message is about the variable that chose one.
    if let Some((var, profile)) = launch.shell {
        return Error::ShellUnusable {
            var,
            value: Some(program.clone()),
            profile: profile.to_owned(),
            source: Some(err),
        };
    }
    if err.kind() == std::io::ErrorKind::NotFound {
        crate::process::ProcessError::CommandNotFound {
            program: program.to_owned(),
        }
        .into()
    } else {
        crate::process::ProcessError::CommandNotExecutable {
            program: program.to_owned(),
            source: err,
        }
        .into()
    }
}
