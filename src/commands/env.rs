//! `assume-role env`: shell code that exports a session, for `eval`.

use super::{print, session_for};
use crate::cli::CredentialOptions;
use crate::context::Context;
use crate::error::Error;
use crate::output::{self, Format};
use std::process::ExitCode;

pub fn run(
    profile: &str,
    options: &CredentialOptions,
    format: Format,
    ctx: &Context,
) -> Result<ExitCode, Error> {
    let session = session_for(profile, options, ctx)?;
    let changes = session.env_changes(ctx.var_names.iter().map(String::as_str));
    print(&output::render(format, &changes)?)
}
