//! Command-line definitions, and nothing else: turning them into work is `commands`' job.

use crate::duration;
use crate::output::Format;
use clap::{Args, Parser, Subcommand};
use std::ffi::OsString;
use std::time::Duration;

/// Assume a client's AWS role (external ID, MFA) and hand the temporary credentials to a
/// command, your shell, or any AWS SDK. Profiles come from ~/.aws/config, as for the AWS CLI.
#[derive(Debug, Parser)]
#[command(
    name = "assume-role",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    /// More detail on stderr: -v what is done, -vv why, -vvv everything (secrets never).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a command with the role's credentials in its environment.
    ///
    /// With no command, starts $SHELL. The command replaces assume-role, so its exit code and
    /// signals are its own.
    #[command(
        after_help = "Examples:\n  assume-role exec client-prod -- terraform plan\n  assume-role exec client-prod --duration 2h -- aws s3 ls\n  assume-role exec client-prod"
    )]
    Exec {
        /// The profile to assume, from ~/.aws/config.
        profile: String,
        #[command(flatten)]
        options: CredentialOptions,
        /// The command and its arguments (default: $SHELL).
        #[arg(
            trailing_var_arg = true,
            allow_hyphen_values = true,
            value_name = "COMMAND"
        )]
        command: Vec<OsString>,
    },

    /// Print shell code that exports the role's credentials, for `eval`.
    #[command(
        after_help = "Examples:\n  eval \"$(assume-role env client-prod)\"                      # bash, zsh\n  assume-role env client-prod --format fish | source          # fish\n  assume-role env client-prod --format powershell | Invoke-Expression"
    )]
    Env {
        /// The profile to assume, from ~/.aws/config.
        profile: String,
        #[command(flatten)]
        options: CredentialOptions,
        /// The syntax to print.
        #[arg(long, short, value_enum, default_value = "sh")]
        format: Format,
    },

    /// Print the credentials as `credential_process` JSON, for ~/.aws/config.
    #[command(
        after_help = "Example, in ~/.aws/config:\n  [profile client-prod-sdk]\n  credential_process = assume-role credential-process client-prod"
    )]
    CredentialProcess {
        /// The profile to assume, from ~/.aws/config.
        profile: String,
        #[command(flatten)]
        options: CredentialOptions,
    },

    /// List the profiles in the AWS config and credentials files.
    List {
        /// Print a JSON array instead of a table.
        #[arg(long)]
        json: bool,
    },

    /// Show or remove cached sessions.
    #[command(subcommand)]
    Cache(CacheCommand),
}

#[derive(Debug, Subcommand)]
pub enum CacheCommand {
    /// Show cached sessions: profile, role, kind, expiry and time left (never a secret).
    List {
        /// Print a JSON array instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Remove every cached session, or those of one profile.
    Clear {
        /// Only the sessions this profile created.
        profile: Option<String>,
    },
}

/// Options that change how the role is assumed; each wins over the profile's own setting.
#[derive(Debug, Args, Default, Clone)]
pub struct CredentialOptions {
    /// The 6-digit MFA code (otherwise `mfa_process`, otherwise a prompt on the terminal).
    #[arg(long, value_name = "CODE")]
    pub mfa_token: Option<String>,

    /// Session length: 3600, 90m, 2h, 1h30m (overrides `duration_seconds`).
    #[arg(long, value_name = "DURATION", value_parser = duration::parse)]
    pub duration: Option<Duration>,

    /// The name the client sees in `CloudTrail` (overrides `role_session_name`; default: your
    /// user name).
    #[arg(long, value_name = "NAME")]
    pub session_name: Option<String>,

    /// The external ID the client's trust policy requires (overrides `external_id`).
    #[arg(long, value_name = "ID")]
    pub external_id: Option<String>,

    /// The region for STS and for the credentials handed over (overrides the profile's
    /// `region`, `AWS_REGION` and `AWS_DEFAULT_REGION`).
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,

    /// Ask STS for a fresh session even if a cached one is still good (the new one is cached).
    #[arg(long)]
    pub no_cache: bool,

    /// Hand over credentials with at least this much time left, refreshing if needed
    /// (e.g. `--min-valid 2h` before a long terraform apply).
    #[arg(long, value_name = "DURATION", value_parser = duration::parse)]
    pub min_valid: Option<Duration>,
}

impl From<&CredentialOptions> for crate::config::Overrides {
    fn from(options: &CredentialOptions) -> Self {
        Self {
            mfa_token: options.mfa_token.clone(),
            duration: options.duration,
            session_name: options.session_name.clone(),
            external_id: options.external_id.clone(),
            region: options.region.clone(),
        }
    }
}

impl From<&CredentialOptions> for crate::assume::Options {
    fn from(options: &CredentialOptions) -> Self {
        Self {
            no_cache: options.no_cache,
            min_valid: options.min_valid.unwrap_or_default(),
        }
    }
}
