//! `assume-role env`: shell code that exports a session, for `eval`.

use super::{inherited_names, print, session_for};
use crate::cli::CredentialOptions;
use crate::error::Error;
use crate::output::{self, Format};
use std::process::ExitCode;

pub fn run(profile: &str, options: &CredentialOptions, format: Format) -> Result<ExitCode, Error> {
    let session = session_for(profile, options)?;
    let names = inherited_names();
    let changes = session.env_changes(names.iter().map(String::as_str));
    print(&output::render(format, &changes)?)
}
