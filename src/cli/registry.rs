//! `assume-role registry …`: its arguments.

use clap::Subcommand;

#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum RegistryCommand {
    /// Add a team registry (a git repository or a directory holding
    /// `assume-role-registry.toml`), pin it to a commit, and write its profiles.
    #[command(
        after_help = "Examples:\n  assume-role registry add acme git@github.com:consultancy/acme-registry.git\n  assume-role registry add acme https://github.com/consultancy/registry.git --ref v3 --prefix acme- --set source_profile=me\n  assume-role registry add local ~/src/registry --yes"
    )]
    Add {
        /// What to call it: letters, digits, `-` and `_`.
        name: String,
        /// Any URL the system `git` can fetch (`file://` included), or a local directory.
        source: String,
        /// A branch, tag or commit (default: the default branch).
        #[arg(long = "ref", value_name = "REF")]
        git_ref: Option<String>,
        /// Put this before each of its profile names (avoids clashes with your own).
        #[arg(long, value_name = "PREFIX")]
        prefix: Option<String>,
        /// Your value for one of the registry's `{name}`s; kept in the settings file.
        #[arg(long = "set", value_name = "NAME=VALUE", value_parser = name_value)]
        set: Vec<(String, String)>,
        /// Write without asking.
        #[arg(long)]
        yes: bool,
    },
    /// Fetch a registry (or every one), show what would change, and write it.
    #[command(
        after_help = "Examples:\n  assume-role registry sync\n  assume-role registry sync acme --dry-run\n  assume-role registry sync acme --yes"
    )]
    Sync {
        /// The registry (default: every one).
        name: Option<String>,
        /// Write without asking.
        #[arg(long)]
        yes: bool,
        /// Show the changes; write nothing.
        #[arg(long, conflicts_with = "yes")]
        dry_run: bool,
        /// Your value for one of the registry's `{name}`s; kept in the settings file.
        #[arg(long = "set", value_name = "NAME=VALUE", value_parser = name_value)]
        set: Vec<(String, String)>,
    },
    /// Each registry: its source, ref, pinned commit, last sync and profile count.
    #[command(
        after_help = "Examples:\n  assume-role registry list\n  assume-role registry list --json"
    )]
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Remove a registry's profiles from the config (the file is then what it would have been
    /// without it) and forget the registry.
    #[command(
        after_help = "Examples:\n  assume-role registry remove acme\n  assume-role registry remove acme --yes"
    )]
    Remove {
        name: String,
        /// Remove without asking.
        #[arg(long)]
        yes: bool,
    },
}

/// `NAME=VALUE`.
fn name_value(text: &str) -> Result<(String, String), String> {
    let (name, value) = text
        .split_once('=')
        .ok_or_else(|| "write it as NAME=VALUE".to_owned())?;
    if name.is_empty() {
        return Err("the name before `=` is empty".into());
    }
    Ok((name.to_owned(), value.to_owned()))
}
