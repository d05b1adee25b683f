//! The process environment, read once at the edge ([`Context::from_process`]) and passed down.
//! Everything below `commands/` takes what it needs from here as plain data, so that plan
//! resolution, cache keys and routing are functions of their arguments, testable without a
//! process around them.

use crate::credentials::Credentials;
use crate::env_vars;
use crate::secret::Secret;
use serde::Serialize;
use std::ffi::OsString;
use std::path::PathBuf;

/// What the tool reads from its environment. Serialized (for the plan cache's key) without the
/// fields marked `skip`: credentials, and what cannot change a plan.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Context {
    /// `AWS_REGION`, else `AWS_DEFAULT_REGION`; `None` inside one of our sessions, whose region
    /// variables were set for the outer profile and must not leak into the next one.
    pub env_region: Option<String>,
    /// The local user name (`USER`, `USERNAME`), for the default session name.
    pub user_name: Option<String>,
    /// `ASSUME_ROLE_PROFILE`: the profile of the session this run is inside, if any.
    pub outer_session: Option<String>,
    /// `AWS_PROFILE`.
    pub aws_profile: Option<String>,
    /// `AWS_ENDPOINT_URL_STS` and `AWS_ENDPOINT_URL`: part of every cache key, so that
    /// credentials from an emulator are never served for the real thing.
    pub endpoint_url_sts: Option<String>,
    pub endpoint_url: Option<String>,
    /// `AWS_ENDPOINT_URL_S3`.
    pub endpoint_url_s3: Option<String>,
    /// `AWS_ENDPOINT_URL_IAM`, for `keys rotate`; IAM plays no part in a plan.
    #[serde(skip)]
    pub endpoint_url_iam: Option<String>,
    /// `AWS_CONFIG_FILE` and `AWS_SHARED_CREDENTIALS_FILE`, as given.
    pub config_file: Option<PathBuf>,
    pub credentials_file: Option<PathBuf>,
    pub home: Option<PathBuf>,
    /// Where the cache lives: `ASSUME_ROLE_CACHE_DIR`, else the platform's cache directory.
    pub cache_dir: Option<PathBuf>,
    /// Where stored keys and their index, and per-profile browser identities, live: the
    /// platform's data directory (`$XDG_DATA_HOME/assume-role` on Linux).
    pub data_dir: Option<PathBuf>,
    /// `ASSUME_ROLE_KEYS_BACKEND` as given; see [`crate::keys::choose`].
    pub keys_backend: Option<String>,
    /// `ASSUME_ROLE_FILE_PASSPHRASE`: the encrypted keys file's passphrase, for automation.
    #[serde(skip)]
    pub file_passphrase: Option<Secret>,
    /// The index of stored keys, read on first use ([`crate::keys::index`]).
    #[serde(skip)]
    pub stored_keys: std::sync::OnceLock<crate::keys::Index>,
    /// `ASSUME_ROLE_PROCESS_TIMEOUT` as given; see [`crate::process`].
    pub process_timeout: Option<String>,
    /// The profiles whose `credential_process` runs in the processes above this one.
    pub process_stack: Vec<String>,
    /// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN` (or the legacy
    /// `AWS_SECURITY_TOKEN`): used only for
    /// `credential_source = Environment`. The cache keys use the access key ID, never this.
    #[serde(skip)]
    pub env_credentials: Option<Credentials>,
    /// `SHELL` (`COMSPEC` on Windows), for `exec` without a command, as given (even empty).
    #[serde(skip)]
    pub shell: Option<OsString>,
    /// Names of every variable in the environment, for prefix-based scrubbing.
    #[serde(skip)]
    pub var_names: Vec<String>,
    /// `ASSUME_ROLE_FEDERATION_ENDPOINT`, for `console`.
    #[serde(skip)]
    pub federation_endpoint: Option<String>,
    /// `ASSUME_ROLE_BROWSER` and `ASSUME_ROLE_BROWSER_PATH`, for `console`.
    #[serde(skip)]
    pub browser: Option<String>,
    #[serde(skip)]
    pub browser_path: Option<PathBuf>,
    /// `BROWSER`: the user's URL opener, for `console` with the default browser.
    #[serde(skip)]
    pub browser_command: Option<String>,
    /// `AWS_REGION` (else `AWS_DEFAULT_REGION`) even inside a session, and
    /// `AWS_CREDENTIAL_EXPIRATION`: what `whoami` reports of the session it runs in.
    #[serde(skip)]
    pub session_region: Option<String>,
    #[serde(skip)]
    pub session_expiration: Option<String>,
    /// Where the tool's settings file is looked for: `ASSUME_ROLE_CONFIG`, else `config.toml`
    /// in the platform's config directory.
    #[serde(skip)]
    pub settings_file: Option<crate::settings::Location>,
    /// The tool's settings ([`crate::settings`]), read by [`Context::from_process`]; the
    /// defaults when there is no file. Part of the plan cache's key, so that editing the file
    /// invalidates the plans it changes.
    pub settings: crate::settings::Settings,
    /// Where the audit log lives: `ASSUME_ROLE_STATE_DIR`, else the platform's state directory
    /// (`$XDG_STATE_HOME/assume-role`), else its local data directory (macOS, Windows).
    #[serde(skip)]
    pub state_dir: Option<PathBuf>,
    /// Whether credentials handed over are written to the audit log ([`crate::audit`]). On
    /// unless `ASSUME_ROLE_AUDIT` says off; `Default` leaves it off, so that unit tests write
    /// nothing. A settings file's `audit = false` is to switch it off too, by one assignment
    /// where the settings are read: `ctx.audit &= settings.audit` (either one can turn it off).
    #[serde(skip)]
    pub audit: bool,
    /// `AWS_ACCOUNT_ID`, for `prompt`'s `{account}`.
    #[serde(skip)]
    pub session_account: Option<String>,
    /// `PATH`, for `doctor` to find the programs of `mfa_process` and `credential_process`.
    #[serde(skip)]
    pub path: Option<OsString>,
}

impl Context {
    /// Reads the process environment, and the settings file it points at. The only place
    /// below `main` that does.
    pub fn from_process() -> Result<Self, crate::error::Error> {
        Self::from_vars(std::env::vars_os()).with_settings()
    }

    /// Reads the settings file of [`Self::settings_file`] into [`Self::settings`]. Kept apart
    /// from [`Self::from_vars`], which does no I/O.
    pub fn with_settings(mut self) -> Result<Self, crate::error::Error> {
        self.settings = crate::settings::Settings::load(self.settings_file.as_ref())?;
        // Either the settings file or `ASSUME_ROLE_AUDIT` can switch the audit log off.
        self.audit &= self.settings.audit.unwrap_or(true);
        Ok(self)
    }

    /// The same from any list of variables: tests build contexts this way.
    pub fn from_vars(vars: impl IntoIterator<Item = (OsString, OsString)>) -> Self {
        let vars: std::collections::HashMap<OsString, OsString> = vars.into_iter().collect();
        let os = |name: &str| {
            vars.get(std::ffi::OsStr::new(name))
                .filter(|v| !v.is_empty())
        };
        let text = |name: &str| os(name).and_then(|v| v.to_str()).map(str::to_owned);
        let outer_session = text(env_vars::ASSUME_ROLE_PROFILE);
        let env_credentials = match (
            text(env_vars::AWS_ACCESS_KEY_ID),
            text(env_vars::AWS_SECRET_ACCESS_KEY),
        ) {
            (Some(access_key_id), Some(secret)) => Some(Credentials {
                access_key_id,
                secret_access_key: Secret::new(secret),
                // The legacy name counts when the current one is absent; botocore reads it
                // first, which lets a stale one win (README, "Differences from the AWS CLI").
                session_token: text(env_vars::AWS_SESSION_TOKEN)
                    .or_else(|| text(env_vars::AWS_SECURITY_TOKEN))
                    .map(Secret::new),
                expiration: None,
                account_id: None,
            }),
            _ => None,
        };
        let shell_var = if cfg!(windows) {
            env_vars::COMSPEC
        } else {
            env_vars::SHELL
        };
        let home = dirs::home_dir();
        let cache_dir = os(env_vars::ASSUME_ROLE_CACHE_DIR)
            .map(PathBuf::from)
            .or_else(|| dirs::cache_dir().map(|d| d.join("assume-role")));
        let mut var_names: Vec<String> = vars
            .keys()
            .filter_map(|name| name.to_str().map(str::to_owned))
            .collect();
        var_names.sort();
        Self {
            env_region: if outer_session.is_some() {
                None
            } else {
                text(env_vars::AWS_REGION).or_else(|| text(env_vars::AWS_DEFAULT_REGION))
            },
            user_name: text(env_vars::USER).or_else(|| text(env_vars::USERNAME)),
            outer_session,
            aws_profile: text(env_vars::AWS_PROFILE),
            endpoint_url_sts: text(env_vars::AWS_ENDPOINT_URL_STS),
            endpoint_url: text(env_vars::AWS_ENDPOINT_URL),
            endpoint_url_s3: text(env_vars::AWS_ENDPOINT_URL_S3),
            endpoint_url_iam: text(env_vars::AWS_ENDPOINT_URL_IAM),
            config_file: os(env_vars::AWS_CONFIG_FILE).map(PathBuf::from),
            credentials_file: os(env_vars::AWS_SHARED_CREDENTIALS_FILE).map(PathBuf::from),
            home,
            cache_dir,
            data_dir: dirs::data_dir().map(|d| d.join("assume-role")),
            keys_backend: text(env_vars::ASSUME_ROLE_KEYS_BACKEND),
            file_passphrase: text(env_vars::ASSUME_ROLE_FILE_PASSPHRASE).map(Secret::new),
            stored_keys: std::sync::OnceLock::new(),
            process_timeout: text(env_vars::ASSUME_ROLE_PROCESS_TIMEOUT),
            process_stack: text(env_vars::ASSUME_ROLE_PROCESS_STACK)
                .unwrap_or_default()
                .split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            env_credentials,
            // Kept even when empty: `exec` says so, rather than "not set".
            shell: vars.get(std::ffi::OsStr::new(shell_var)).cloned(),
            var_names,
            federation_endpoint: text(env_vars::ASSUME_ROLE_FEDERATION_ENDPOINT),
            browser: text(env_vars::ASSUME_ROLE_BROWSER),
            browser_path: os(env_vars::ASSUME_ROLE_BROWSER_PATH).map(PathBuf::from),
            browser_command: text(env_vars::BROWSER),
            session_region: text(env_vars::AWS_REGION)
                .or_else(|| text(env_vars::AWS_DEFAULT_REGION)),
            session_expiration: text(env_vars::AWS_CREDENTIAL_EXPIRATION),
            settings_file: crate::settings::Location::of(
                os(env_vars::ASSUME_ROLE_CONFIG).map(PathBuf::from),
                dirs::config_dir(),
            ),
            settings: crate::settings::Settings::default(),
            state_dir: os(env_vars::ASSUME_ROLE_STATE_DIR)
                .map(PathBuf::from)
                .or_else(|| {
                    dirs::state_dir()
                        .or_else(dirs::data_local_dir)
                        .map(|d| d.join("assume-role"))
                }),
            audit: text(env_vars::ASSUME_ROLE_AUDIT).is_none_or(|v| crate::audit::switched_on(&v)),
            session_account: text(env_vars::AWS_ACCOUNT_ID),
            path: os(env_vars::PATH).cloned(),
        }
    }

    /// How long a helper process (`mfa_process`, `credential_process`) may run:
    /// `ASSUME_ROLE_PROCESS_TIMEOUT`, else the default.
    pub fn process_timeout(&self) -> Result<std::time::Duration, crate::error::Error> {
        crate::process::process_timeout(self.process_timeout.as_deref())
    }
}
