//! `assume-role init SHELL`: the `assume` and `unassume` functions, for the shell's rc file.

use super::print;
use crate::error::Error;
use crate::shell::{self, InitShell};
use std::process::ExitCode;

pub fn run(shell: InitShell) -> Result<ExitCode, Error> {
    print(&shell::init_script(shell, &this_binary()))
}

/// The absolute path of the `assume-role` this run came through, so that the functions call
/// the assume-role that printed them whatever `PATH` says later: on Unix the front beside this
/// program (scripts should go through it, for its speed), else this program; `assume-role`
/// (looked up on `PATH`) when the path is unknown, is not UTF-8 or no longer exists (Linux marks
/// a replaced binary `(deleted)`).
pub(super) fn this_binary() -> String {
    let exe = std::env::current_exe().ok();
    #[cfg(unix)]
    let exe = exe.map(|exe| {
        crate::process::sibling(&exe, crate::process::FRONT_PROGRAM)
            .ok()
            .filter(|front| front.is_file())
            .unwrap_or(exe)
    });
    exe.filter(|path| path.is_absolute() && path.is_file())
        .and_then(|path| path.to_str().map(str::to_owned))
        .unwrap_or_else(|| crate::process::FRONT_PROGRAM.to_owned())
}
