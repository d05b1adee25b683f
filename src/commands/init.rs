//! `assume-role init SHELL`: the `assume` and `unassume` functions, for the shell's rc file.

use super::print;
use crate::error::Error;
use crate::shell::{self, InitShell};
use std::process::ExitCode;

pub fn run(shell: InitShell) -> Result<ExitCode, Error> {
    print(&shell::init_script(shell, &this_binary()))
}

/// The absolute path of the running binary, so that the functions call the assume-role that
/// printed them whatever `PATH` says later; `assume-role` (looked up on `PATH`) when the path
/// is unknown, is not UTF-8 or no longer exists (Linux marks a replaced binary `(deleted)`).
pub(super) fn this_binary() -> String {
    std::env::current_exe()
        .ok()
        .filter(|path| path.is_absolute() && path.is_file())
        .and_then(|path| path.to_str().map(str::to_owned))
        .unwrap_or_else(|| "assume-role".to_owned())
}
