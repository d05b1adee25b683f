//! `assume-role keys …`: its arguments.

use clap::Subcommand;

#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum KeysCommand {
    /// Store an access key for PROFILE; a profile with no keys in ~/.aws/credentials uses it.
    #[command(
        after_help = "Examples:\n  assume-role keys add contractor\n  AWS_ACCESS_KEY_ID=… AWS_SECRET_ACCESS_KEY=… assume-role keys add contractor --from-env --backend file"
    )]
    Add {
        profile: String,
        /// Take the pair from `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` instead of asking.
        #[arg(long)]
        from_env: bool,
        /// Store without checking the pair with `GetCallerIdentity`.
        #[arg(long)]
        no_check: bool,
        /// Where to keep it (default: `ASSUME_ROLE_KEYS_BACKEND`, else `keys_backend` in the
        /// settings file, else the OS store if it answers, else the file).
        #[arg(long, value_enum)]
        backend: Option<crate::keystore::Backend>,
    },
    /// List stored keys: profile, masked access key ID, backend, age.
    #[command(
        after_help = "Examples:\n  assume-role keys list\n  assume-role doctor contractor     # a stored key older than 90 days is flagged"
    )]
    List,
    /// Remove the stored key of PROFILE. On a terminal it asks first, naming the key and
    /// whether a copy exists anywhere else; without one it needs --yes.
    #[command(
        after_help = "Examples:\n  assume-role keys remove contractor\n  assume-role keys remove contractor --yes    # in a script"
    )]
    Remove {
        profile: String,
        /// Remove without asking (for scripts: there is no terminal to ask on).
        #[arg(long)]
        yes: bool,
    },
    /// Move keys from ~/.aws/credentials (or ~/.aws/config) into the store.
    ///
    /// With --remove-plaintext the files are then rewritten atomically without those keys
    /// (a section left empty goes too), every other byte kept. No backup is made: it would be
    /// a plain-text copy of the secret.
    #[command(
        after_help = "Examples:\n  assume-role keys import contractor --remove-plaintext\n  assume-role keys import --all --backend file"
    )]
    Import {
        /// The profiles whose keys to move.
        #[arg(required_unless_present = "all")]
        profiles: Vec<String>,
        /// Every profile with a long-term key in the files.
        #[arg(long, conflicts_with = "profiles")]
        all: bool,
        /// Then delete the keys from the plain-text files.
        #[arg(long)]
        remove_plaintext: bool,
        /// Store without checking each key with `GetCallerIdentity`.
        #[arg(long)]
        no_check: bool,
        /// Where to keep them (as for `keys add`).
        #[arg(long, value_enum)]
        backend: Option<crate::keystore::Backend>,
    },
    /// Replace the stored key of PROFILE with a new one: create it in IAM, store it, check that
    /// it works, then delete the old one and the sessions cached from it.
    #[command(
        after_help = "The IAM user needs iam:GetUser, iam:ListAccessKeys, iam:CreateAccessKey and iam:DeleteAccessKey on itself.\nWith `mfa_serial` in the profile, the calls are signed by an MFA session.\n\nExamples:\n  assume-role keys rotate contractor\n  assume-role keys rotate contractor --mfa-token 123456"
    )]
    Rotate {
        profile: String,
        /// The 6-digit MFA code, for a profile with `mfa_serial` (otherwise `mfa_process`,
        /// otherwise a prompt on the terminal).
        #[arg(long, value_name = "CODE")]
        mfa_token: Option<crate::mfa::MfaToken>,
        /// Delete, without asking, a second key that an interrupted `keys rotate` left in IAM
        /// (one whose secret is stored nowhere, or the old key it replaced).
        #[arg(long)]
        yes: bool,
    },
}
