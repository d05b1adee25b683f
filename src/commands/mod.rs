//! One module per subcommand. Only these touch the process: its environment, stdout and exit
//! code. Everything below takes what it needs as arguments.

mod credential_process;
mod env;
mod exec;
mod list;

use crate::assume;
use crate::cli::{Cli, Command};
use crate::config::{Context, Overrides, Plan, Profiles};
use crate::credentials::Session;
use crate::error::Error;
use std::io::Write;
use std::process::ExitCode;

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Result<ExitCode, Error> {
    match cli.command {
        Command::Exec {
            profile,
            options,
            command,
        } => exec::run(&profile, &options.into(), command),
        Command::Env {
            profile,
            options,
            format,
        } => env::run(&profile, &options.into(), format),
        Command::CredentialProcess { profile, options } => {
            credential_process::run(&profile, &options.into())
        }
        Command::List { json } => list::run(json),
    }
}

/// Profile name → plan → credentials: the shared front half of every credential command.
fn session_for(profile: &str, overrides: &Overrides) -> Result<Session, Error> {
    let profiles = Profiles::load()?;
    let plan = Plan::resolve(&profiles, profile, overrides, &Context::from_env())?;
    tracing::debug!(?plan, "resolved");
    let credentials = assume::credentials_for(&plan)?;
    Ok(Session {
        profile: plan.profile,
        region: plan.region,
        credentials,
    })
}

/// Writes data to stdout. A closed pipe (`| head`) is the reader's choice, not an error.
fn print(text: &str) -> Result<ExitCode, Error> {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(ExitCode::SUCCESS),
        Err(e) => Err(Error::Output(e)),
    }
}

/// Names of the variables in our own environment, for prefix-based scrubbing.
fn inherited_names() -> Vec<String> {
    std::env::vars_os()
        .filter_map(|(name, _)| name.into_string().ok())
        .collect()
}
