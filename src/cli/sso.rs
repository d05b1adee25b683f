//! `assume-role sso …`: its arguments.

use clap::Subcommand;

#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum SsoCommand {
    /// Sign in: the browser with PKCE (or the device flow over SSH, without a display, for a
    /// legacy profile, or with `--device-code`). A token good for more than 15 minutes is reused.
    #[command(
        after_help = "Examples:\n  assume-role sso login --sso-session corp\n  assume-role sso login --profile my-sso --device-code\n  assume-role sso login --force"
    )]
    Login {
        /// The profile whose session to sign in to.
        #[arg(long, conflicts_with = "sso_session")]
        profile: Option<String>,
        /// The `[sso-session NAME]` to sign in to (the default when the config has only one).
        #[arg(long, value_name = "NAME")]
        sso_session: Option<String>,
        /// Use the device flow: confirm a code in any browser, on any machine.
        #[arg(long)]
        device_code: bool,
        /// Sign in again even if the cached token is still good.
        #[arg(long)]
        force: bool,
        /// Print the URL to open instead of starting a browser.
        #[arg(long)]
        no_browser: bool,
    },
    /// Sign out: the portal forgets the token, and the cached token is removed.
    #[command(
        after_help = "Examples:\n  assume-role sso logout --sso-session corp\n  assume-role sso logout --profile my-sso"
    )]
    Logout {
        #[arg(long, conflicts_with = "sso_session")]
        profile: Option<String>,
        #[arg(long, value_name = "NAME")]
        sso_session: Option<String>,
    },
    /// Every SSO session (and legacy start URL) in the config, with its token's expiry.
    #[command(
        after_help = "Examples:\n  assume-role sso sessions\n  assume-role sso sessions --json"
    )]
    Sessions {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Write one profile per account and role the session reaches, in a marked block of the
    /// config that nothing else touches. Shows the changes first.
    #[command(
        after_help = "Examples:\n  assume-role sso sync --sso-session corp\n  assume-role sso sync --sso-session corp --prune --yes\n  assume-role sso sync --sso-session corp --name-format '{account_id}/{role_name}'"
    )]
    Sync {
        #[arg(long, value_name = "NAME")]
        sso_session: String,
        /// Also remove the block's profiles whose role is gone.
        #[arg(long)]
        prune: bool,
        /// Write without asking.
        #[arg(long)]
        yes: bool,
        /// How to name each profile: `{account_name}`, `{account_id}` and `{role_name}`.
        #[arg(long, value_name = "FORMAT", default_value = crate::sso_login::sync::DEFAULT_FORMAT)]
        name_format: String,
    },
}
