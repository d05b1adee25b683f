//! `assume-role man`: the manual page, from the same definitions as `--help`.

use super::print;
use crate::cli::Cli;
use crate::error::Error;
use clap::CommandFactory;
use std::process::ExitCode;

/// One roff document: the main page, then a page for each subcommand (`assume-role-exec`…),
/// as `man -l` and `groff -man` read them in sequence.
pub fn run() -> Result<ExitCode, Error> {
    let mut cmd = Cli::command();
    // Built, every subcommand knows its full name (`assume-role exec`) for its own page.
    cmd.build();
    let mut roff = Vec::new();
    render(&cmd, &mut roff).map_err(crate::output::OutputError::Output)?;
    print(&String::from_utf8_lossy(&roff))
}

fn render(cmd: &clap::Command, out: &mut Vec<u8>) -> std::io::Result<()> {
    clap_mangen::Man::new(cmd.clone()).render(out)?;
    // clap's own `help` subcommand only repeats what each page says.
    for sub in cmd
        .get_subcommands()
        .filter(|sub| !sub.is_hide_set() && sub.get_name() != "help")
    {
        render(sub, out)?;
    }
    Ok(())
}
