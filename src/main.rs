//! `assume-role`. On Unix, a small front: a warm `env` or `credential-process`, and `prompt`,
//! are answered here; any other command line goes, unchanged, to `assume-role-full` beside it
//! (`commands::front` says why). Windows has no `exec` to hand over with, and a process
//! start there costs far more than this saves, so there this is the whole program.

use std::process::ExitCode;

// On Unix the front keeps the system allocator: mimalloc's set-up touched twice the pages a
// warm `env` needs (80 page faults against 36).
#[cfg(not(unix))]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[cfg(unix)]
fn main() -> ExitCode {
    let mut args = std::env::args_os();
    let argv0 = args.next().unwrap_or_else(|| "assume-role".into());
    let args: Vec<_> = args.collect();
    assume_role::commands::front::serve(&args)
        .unwrap_or_else(|| assume_role::commands::front::hand_over(&argv0, &args))
}

#[cfg(not(unix))]
fn main() -> ExitCode {
    assume_role::commands::main()
}
