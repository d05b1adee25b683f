//! One module per subcommand. Only these touch the process: its environment, stdout and exit
//! code. Everything below takes what it needs as arguments.

mod cache;
mod credential_process;
mod env;
mod exec;
mod list;
mod onboard;
mod profile;

use crate::assume;
use crate::cache::{cached_plan, key, sessions::Store, store_plan};
use crate::cli::{Cli, Command, CredentialOptions};
use crate::config::{ConfigFiles, Context, Overrides, Plan, Profiles};
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
        } => exec::run(&profile, &options, command),
        Command::Env {
            profile,
            options,
            format,
        } => env::run(&profile, &options, format),
        Command::CredentialProcess { profile, options } => {
            credential_process::run(&profile, &options)
        }
        Command::List { json } => list::run(json),
        Command::Cache(command) => cache::run(command),
        Command::Onboard(command) => onboard::run(command),
        Command::Profile(command) => profile::run(command),
    }
}

/// Profile name → plan → credentials: the shared front half of every credential command.
///
/// The warm path reads a cached plan (so that a large config is not parsed) and the cached
/// session it names, and nothing else. Anything else goes the long way: parse, resolve, and
/// let `assume` use or refill the cache.
fn session_for(profile: &str, options: &CredentialOptions) -> Result<Session, Error> {
    let overrides = Overrides::from(options);
    let opts = assume::Options::from(options);
    let ctx = Context::from_env();
    let files = ConfigFiles::locate();
    // Taken before reading, so that an edit during the run invalidates what we store.
    let fingerprint = serde_json::to_string(&files.fingerprint()).expect("fingerprints serialize");
    let duration = overrides
        .duration
        .map(|d| d.as_secs().to_string())
        .unwrap_or_default();
    let plan_key = key::plan(&[
        profile,
        &duration,
        overrides.session_name.as_deref().unwrap_or_default(),
        overrides.external_id.as_deref().unwrap_or_default(),
        overrides.region.as_deref().unwrap_or_default(),
        ctx.env_region.as_deref().unwrap_or_default(),
        ctx.user_name.as_deref().unwrap_or_default(),
    ]);
    let store = Store::open();
    if !opts.no_cache
        && let Some(store) = &store
        && let Some(plan) = cached_plan(store.root(), &plan_key, &fingerprint)
        && let Some(credentials) = assume::warm(&plan, Some(store), &opts)
    {
        return Ok(Session {
            profile: plan.profile,
            region: plan.region,
            credentials,
        });
    }
    let profiles = Profiles::load_from(&files)?;
    let plan = Plan::resolve(&profiles, profile, &overrides, &ctx)?;
    tracing::debug!(?plan, "resolved");
    if let Some(store) = &store
        && !plan.hops.is_empty()
    {
        store_plan(store.root(), &plan_key, &fingerprint, &plan);
    }
    let credentials = assume::credentials_for(&plan, store.as_ref(), &opts)?;
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
