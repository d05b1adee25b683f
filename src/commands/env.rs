//! `assume-role env`: shell code that exports a session, for `eval`.

use super::{inherited_names, print, session_for};
use crate::config::Overrides;
use crate::error::Error;
use crate::output::{self, Format};
use std::process::ExitCode;

pub fn run(profile: &str, overrides: &Overrides, format: Format) -> Result<ExitCode, Error> {
    let session = session_for(profile, overrides)?;
    let names = inherited_names();
    let changes = session.env_changes(names.iter().map(String::as_str));
    print(&output::render(format, &changes)?)
}
