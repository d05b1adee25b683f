//! One module per subcommand. Only these touch the process: its environment, stdout and exit
//! code. Everything below takes what it needs as arguments.

mod cache;
mod console;
mod credential_process;
mod doctor;
mod each;
mod env;
mod exec;
pub mod front;
mod keys;
mod list;
mod log;
mod onboard;
mod profile;
mod registry;
mod sso;
mod whoami;
// Shell integration.
mod completions;
mod init;
mod man;
mod prompt;

pub use completions::complete_if_asked;

use crate::assume;
use crate::cli::{Cli, Command, CredentialOptions};
use crate::config::Overrides;
use crate::context::Context;
use crate::credentials::Session;
use crate::error::Error;
use std::io::Write;
use std::process::ExitCode;

/// The whole program, as `assume-role-full` (and, on Windows, `assume-role`) runs it: parse the
/// command line, run it, report an error, exit with its code.
pub fn main() -> ExitCode {
    // A completion script asking for candidates: answered, and the process ends here.
    complete_if_asked();
    let cli = Cli::from_command_line();
    crate::logging::init(cli.verbose);
    finish(run(cli))
}

/// The exit code of a run's result, with the error reported on stderr.
pub fn finish(result: Result<ExitCode, Error>) -> ExitCode {
    result.unwrap_or_else(|err| {
        crate::error::report(&err);
        err.exit().into()
    })
}

/// Runs the parsed command line. The process environment is read here, once.
pub fn run(cli: Cli) -> Result<ExitCode, Error> {
    // These read no settings: a prompt runs before every command line and must not fail on a
    // broken settings file, and printing scripts or the manual needs nothing.
    match cli.command {
        Command::Init { shell } => return init::run(shell),
        Command::Completions { shell } => return completions::run(shell),
        Command::Man => return man::run(),
        Command::Prompt { format, status } => {
            let ctx = Context::of(crate::env::Env::from_process());
            return prompt::run(format.as_deref(), status, &ctx);
        }
        _ => {}
    }
    let ctx = Context::from_process()?;
    match cli.command {
        Command::Exec {
            profile,
            options,
            server,
            command,
        } => exec::run(&profile, &options, server, command, &ctx),
        Command::Env {
            profile,
            options,
            format,
        } => env::run(&profile, &options, format, &ctx),
        Command::CredentialProcess { profile, options } => {
            credential_process::run(&profile, &options, &ctx)
        }
        Command::List { json } => list::run(json, &ctx),
        Command::Cache(command) => cache::run(command, &ctx),
        Command::Onboard(command) => onboard::run(command, &ctx),
        Command::Profile(command) => profile::run(command, &ctx),
        Command::Console(args) => console::run(&args, &ctx),
        Command::Whoami {
            profile,
            json,
            mfa_token,
            no_cache,
        } => {
            let options = CredentialOptions {
                mfa_token,
                no_cache,
                ..CredentialOptions::default()
            };
            whoami::run(profile.as_deref(), json, &options, &ctx)
        }
        Command::Keys(command) => keys::run(command, &ctx),
        Command::Sso(command) => sso::run(command, &ctx),
        Command::Registry(command) => registry::run(command, &ctx),
        Command::Log(args) => log::run(&args, &ctx),
        Command::Each(args) => each::run(&args, &ctx),
        Command::Init { .. }
        | Command::Completions { .. }
        | Command::Man
        | Command::Prompt { .. } => {
            unreachable!("dispatched above, before the settings are read")
        }
        Command::Doctor(args) => doctor::run(&args, &ctx),
    }
}

/// The credentials for `profile`, with the command line's options checked first (a malformed
/// `--mfa-token` fails here on every path, warm or cold). The attempt goes to the audit log as
/// made for `via`.
fn session_for(
    profile: &str,
    options: &CredentialOptions,
    ctx: &Context,
    via: crate::audit::Via<'_>,
) -> Result<Session, Error> {
    let (overrides, opts) = credential_inputs(options)?;
    crate::obtain::obtain(profile, &overrides, &opts, ctx, via).map_err(Into::into)
}

/// `--mfa-token`, checked before anything else happens: a malformed code fails on every path.
fn mfa_token_flag(
    token: Option<&crate::mfa::MfaToken>,
) -> Result<Option<crate::secret::OneTimeCode>, Error> {
    Ok(token.map(crate::mfa::MfaToken::code).transpose()?)
}

/// What the command line's credential options make: the plan's overrides and how the cache is
/// used, with `--mfa-token` checked.
fn credential_inputs(options: &CredentialOptions) -> Result<(Overrides, assume::Options), Error> {
    let mfa_token = mfa_token_flag(options.mfa_token.as_ref())?;
    let overrides = Overrides {
        mfa_token: mfa_token.clone(),
        duration: options.duration,
        session_name: options.session_name.clone(),
        external_id: options.external_id.clone(),
        region: options.region.clone(),
        no_session: options.no_session,
    };
    let opts = assume::Options {
        no_cache: options.no_cache,
        min_valid: options.min_valid.unwrap_or_default(),
        mfa_token,
        prepared: None,
    };
    Ok((overrides, opts))
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
        Err(e) => Err(crate::output::OutputError::Output(e).into()),
    }
}
