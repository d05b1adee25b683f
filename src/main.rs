use clap::Parser;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = assume_role::cli::Cli::parse();
    assume_role::logging::init(cli.verbose);
    match assume_role::commands::run(cli) {
        Ok(code) => code,
        Err(err) => {
            assume_role::report(&err);
            err.exit().into()
        }
    }
}
