//! The command line, parsed, with one tip clap does not give.

use super::Cli;
use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{CommandFactory, Parser};

impl Cli {
    /// The command line, parsed; clap's own errors, `--help` and `--version` exit here. A
    /// mistyped command that clap finds nothing close to gets the nearest one as a tip: clap's
    /// measure misses two letters swapped in a short name (`evn` for `env`, `lgo` for `log`).
    pub fn from_command_line() -> Self {
        Self::try_parse().unwrap_or_else(|mut err| {
            if err.kind() == ErrorKind::InvalidSubcommand
                && err.get(ContextKind::SuggestedSubcommand).is_none()
                && let Some(ContextValue::String(typed)) =
                    err.get(ContextKind::InvalidSubcommand).cloned()
                && let Some(near) = nearest(&typed, std::env::args().skip(1))
            {
                err.insert(ContextKind::SuggestedSubcommand, ContextValue::String(near));
            }
            err.exit()
        })
    }
}

/// The command one edit away from `typed` (a letter added, dropped, changed, or two swapped),
/// among the commands at the level where `typed` was given: `args` are the words before it.
fn nearest(typed: &str, args: impl Iterator<Item = String>) -> Option<String> {
    let mut cmd = Cli::command();
    cmd.build();
    let mut level = &cmd;
    for arg in args.take_while(|arg| arg != typed) {
        if let Some(sub) = level.find_subcommand(&arg) {
            level = sub;
        }
    }
    level
        .get_subcommands()
        .map(clap::Command::get_name)
        .find(|name| strsim::damerau_levenshtein(typed, name) == 1)
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(words: &[&str]) -> impl Iterator<Item = String> {
        words
            .iter()
            .map(|w| (*w).to_owned())
            .collect::<Vec<_>>()
            .into_iter()
    }

    #[test]
    fn a_swap_in_a_short_name_finds_the_command_at_its_level() {
        assert_eq!(nearest("evn", args(&["evn", "x"])).as_deref(), Some("env"));
        assert_eq!(nearest("lgo", args(&["lgo"])).as_deref(), Some("log"));
        assert_eq!(
            nearest("lsit", args(&["-v", "keys", "lsit"])).as_deref(),
            Some("list")
        );
        assert_eq!(nearest("zzz", args(&["zzz"])), None);
    }
}
