//! `assume-role env`: shell code that exports a session, for `eval`.

use super::{print, session_for};
use crate::cli::CredentialOptions;
use crate::context::Context;
use crate::credentials::Session;
use crate::error::Error;
use crate::output::{self, Format};
use std::io::IsTerminal;
use std::process::ExitCode;

pub fn run(
    profile: &str,
    options: &CredentialOptions,
    format: Format,
    ctx: &Context,
) -> Result<ExitCode, Error> {
    let session = session_for(profile, options, ctx, crate::audit::Via::Env)?;
    print_session(&session, profile, format, ctx)
}

/// The exports of `session` in `format`, on stdout: what `env` prints, from the front too.
pub(super) fn print_session(
    session: &Session,
    profile: &str,
    format: Format,
    ctx: &Context,
) -> Result<ExitCode, Error> {
    let changes = session.env_changes(ctx.env.var_names.iter().map(String::as_str));
    let code = print(&output::render(format, &changes)?)?;
    // Printed to a terminal, the exports only reach the screen: say how to apply them. Captured
    // by `$(…)` or a pipe, stdout is not a terminal and nothing is added.
    if std::io::stdout().is_terminal()
        && let Some(hint) = format.eval_hint(profile)
    {
        eprintln!("assume-role: to use these in this shell, run: {hint}");
    }
    Ok(code)
}
