//! `assume-role exec`: run a command inside a session.

use super::session_for;
use crate::cli::CredentialOptions;
use crate::context::Context;
use crate::error::Error;
use std::ffi::OsString;
use std::process::{Command, ExitCode};

pub fn run(
    profile: &str,
    options: &CredentialOptions,
    command: Vec<OsString>,
    ctx: &Context,
) -> Result<ExitCode, Error> {
    let session = session_for(profile, options, ctx)?;
    let changes = session.env_changes(ctx.var_names.iter().map(String::as_str));

    let mut words = command.into_iter();
    let program = words.next().unwrap_or_else(|| default_shell(ctx));
    let mut child = Command::new(&program);
    child.args(words);
    for name in &changes.unset {
        child.env_remove(name);
    }
    for assignment in &changes.set {
        child.env(assignment.name, assignment.value());
    }
    tracing::info!(program = %program.to_string_lossy(), "exec");
    hand_over(child, &program.to_string_lossy())
}

/// The user's shell: `$SHELL`, else `/bin/sh`; on Windows `%COMSPEC%`, else `cmd.exe`.
fn default_shell(ctx: &Context) -> OsString {
    let fallback = if cfg!(windows) { "cmd.exe" } else { "/bin/sh" };
    ctx.shell.clone().unwrap_or_else(|| fallback.into())
}

/// Replaces this process with the command, so that its exit code and signals are the child's
/// own and no parent lingers holding credentials.
#[cfg(unix)]
fn hand_over(mut child: Command, program: &str) -> Result<ExitCode, Error> {
    use std::os::unix::process::CommandExt;
    let err = child.exec();
    Err(spawn_error(err, program))
}

/// Without `exec`, wait and pass the code through whole: `ExitCode` holds only a byte, and
/// 256 must not become 0.
#[cfg(not(unix))]
fn hand_over(mut child: Command, program: &str) -> Result<ExitCode, Error> {
    let status = child.status().map_err(|e| spawn_error(e, program))?;
    std::process::exit(status.code().unwrap_or(1))
}

fn spawn_error(err: std::io::Error, program: &str) -> Error {
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
