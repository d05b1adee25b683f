#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::process::ExitCode;

fn main() -> ExitCode {
    // A completion script asking for candidates: answered, and the process ends here.
    assume_role::commands::complete_if_asked();
    let cli = assume_role::cli::Cli::from_command_line();
    assume_role::logging::init(cli.verbose);
    match assume_role::commands::run(cli) {
        Ok(code) => code,
        Err(err) => {
            assume_role::error::report(&err);
            err.exit().into()
        }
    }
}
