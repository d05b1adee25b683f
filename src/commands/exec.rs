//! `assume-role exec`: run a command inside a session.

use super::session_for;
use crate::cli::CredentialOptions;
use crate::context::Context;
use crate::env_vars;
use crate::error::Error;
use std::ffi::OsString;
use std::process::{Command, ExitCode};

pub fn run(
    profile: &str,
    options: &CredentialOptions,
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
    let session = session_for(profile, options, ctx)?;
    let changes = session.env_changes(ctx.var_names.iter().map(String::as_str));

    let mut child = Command::new(&program);
    child.args(words);
    for name in &changes.unset {
        child.env_remove(name);
    }
    for assignment in &changes.set {
        child.env(assignment.name, assignment.value());
    }
    tracing::info!(program = %program.to_string_lossy(), "exec");
    let launch = Launch {
        program: program.to_string_lossy().into_owned(),
        shell: shell.map(|var| (var, profile)),
    };
    hand_over(child, &launch)
}

/// The user's shell, and the variable it came from: `$SHELL` on Unix; on Windows `%COMSPEC%`,
/// else `cmd.exe`. Unix has no fallback: guessing `/bin/sh` would drop the user into a shell
/// they did not choose, without their rc files, and without saying so.
fn default_shell(profile: &str, ctx: &Context) -> Result<(&'static str, OsString), Error> {
    if cfg!(windows) {
        let shell = ctx
            .shell
            .clone()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "cmd.exe".into());
        return Ok((env_vars::COMSPEC, shell));
    }
    match &ctx.shell {
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
    let status = running.wait().map_err(|e| Error::CommandNotExecutable {
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
        Error::CommandNotFound {
            program: program.to_owned(),
        }
    } else {
        Error::CommandNotExecutable {
            program: program.to_owned(),
            source: err,
        }
    }
}
