//! The process environment, read once, here, and passed down as data: the only module that
//! calls `std::env::var*` or the `dirs` crate (clippy's `disallowed-methods` enforces it, see
//! `clippy.toml`). Everything below `commands` takes what it needs from an [`Env`] (or from the
//! [`crate::paths::Paths`] derived from it), so that plan resolution, cache keys and routing are
//! functions of their arguments, and a unit test controls everything a run reads, including
//! what the AWS SDK sees ([`Env::sdk_env`]).

use crate::credentials::Credentials;
use crate::env_vars;
use crate::secret::Secret;
use serde::Serialize;
use std::collections::HashMap;
use std::ffi::OsString;
use std::path::PathBuf;

/// What the tool reads from its environment. Serialized (for the plan cache's key) without the
/// fields marked `skip`: credentials, and what cannot change a plan.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Env {
    /// `AWS_REGION`, else `AWS_DEFAULT_REGION`; `None` inside one of our sessions, whose region
    /// variables were set for the outer profile and must not leak into the next one.
    pub env_region: Option<String>,
    /// The local user name (`USER`, `USERNAME`, else the login name from the password
    /// database), for the default session name.
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
    /// `ASSUME_ROLE_KEYS_BACKEND` as given; see [`crate::keystore::choose`].
    pub keys_backend: Option<String>,
    /// `ASSUME_ROLE_FILE_PASSPHRASE`: the encrypted keys file's passphrase, for automation.
    #[serde(skip)]
    pub file_passphrase: Option<Secret>,
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
    /// Whether `_ASSUME_ROLE_COMPLETE` is set: a completion script asking for candidates,
    /// which the front leaves to the whole program (see `commands::front`).
    #[serde(skip)]
    pub completion_request: bool,
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
    /// Why a browser started here would not be seen by the user, if it would not: a session
    /// over SSH (`SSH_CONNECTION`, `SSH_TTY`), no display on Linux (`DISPLAY`,
    /// `WAYLAND_DISPLAY`), or a container (`container`; `sso login` also looks for
    /// `/.dockerenv`, a file, which this snapshot of variables does not read). `sso login` then
    /// uses the device flow.
    #[serde(skip)]
    pub no_browser_here: Option<&'static str>,
    /// `AWS_REGION` (else `AWS_DEFAULT_REGION`) even inside a session, and
    /// `AWS_CREDENTIAL_EXPIRATION`: what `whoami` reports of the session it runs in.
    #[serde(skip)]
    pub session_region: Option<String>,
    #[serde(skip)]
    pub session_expiration: Option<String>,
    /// Whether `ASSUME_ROLE_AUDIT` leaves the audit log on ([`crate::audit`]); `Default` leaves
    /// it off, so that unit tests write nothing. The settings file can switch it off too: see
    /// [`crate::context::Context::audit_on`].
    #[serde(skip)]
    pub audit: bool,
    /// `AWS_ACCOUNT_ID`, for `prompt`'s `{account}`.
    #[serde(skip)]
    pub session_account: Option<String>,
    /// `PATH`, for `doctor` to find the programs of `mfa_process` and `credential_process`.
    #[serde(skip)]
    pub path: Option<OsString>,
    /// `AWS_CONFIG_FILE` and `AWS_SHARED_CREDENTIALS_FILE`, as given.
    #[serde(skip)]
    pub config_file: Option<PathBuf>,
    #[serde(skip)]
    pub credentials_file: Option<PathBuf>,
    /// `ASSUME_ROLE_CACHE_DIR`, `ASSUME_ROLE_STATE_DIR` and `ASSUME_ROLE_CONFIG`, as given.
    #[serde(skip)]
    pub cache_dir: Option<PathBuf>,
    #[serde(skip)]
    pub state_dir: Option<PathBuf>,
    #[serde(skip)]
    pub settings_file: Option<PathBuf>,
    /// The platform's directories, as the `dirs` crate finds them (from `HOME`, `XDG_*`, or the
    /// OS's own calls): read here, with the variables, so that nothing else asks the OS.
    #[serde(skip)]
    pub dirs: PlatformDirs,
    /// Every variable that is valid UTF-8, for the AWS SDK ([`Env::sdk_env`]).
    #[serde(skip)]
    pub(crate) vars: HashMap<String, String>,
}

/// The platform's standard directories (`None` where the platform has none).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlatformDirs {
    pub home: Option<PathBuf>,
    pub cache: Option<PathBuf>,
    pub config: Option<PathBuf>,
    pub data: Option<PathBuf>,
    /// `$XDG_STATE_HOME` on Linux; none on macOS and Windows.
    pub state: Option<PathBuf>,
    pub data_local: Option<PathBuf>,
}

impl PlatformDirs {
    // The one place the `dirs` crate is asked (see `clippy.toml`).
    #[allow(clippy::disallowed_methods)]
    fn of_process() -> Self {
        Self {
            home: dirs::home_dir(),
            cache: dirs::cache_dir(),
            config: dirs::config_dir(),
            data: dirs::data_dir(),
            state: dirs::state_dir(),
            data_local: dirs::data_local_dir(),
        }
    }
}

/// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and a session token, when both keys are set.
fn credentials_of(text: &impl Fn(&str) -> Option<String>) -> Option<Credentials> {
    match (
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
    }
}

impl Env {
    /// The process's environment. The only place below `main` that reads it.
    // The one place the process environment is read (see `clippy.toml`).
    #[allow(clippy::disallowed_methods)]
    pub fn from_process() -> Self {
        let mut env = Self::of(std::env::vars_os(), PlatformDirs::of_process());
        if env.user_name.is_none() {
            env.user_name = login_name();
        }
        env
    }

    /// The same from any list of variables, with no platform directories: tests build
    /// environments this way, and see nothing of the machine they run on.
    pub fn from_vars(vars: impl IntoIterator<Item = (OsString, OsString)>) -> Self {
        Self::of(vars, PlatformDirs::default())
    }

    /// The same, with the platform directories given.
    pub fn with_dirs(
        vars: impl IntoIterator<Item = (OsString, OsString)>,
        dirs: PlatformDirs,
    ) -> Self {
        Self::of(vars, dirs)
    }

    fn of(vars: impl IntoIterator<Item = (OsString, OsString)>, dirs: PlatformDirs) -> Self {
        let vars: std::collections::HashMap<OsString, OsString> = vars.into_iter().collect();
        let os = |name: &str| {
            vars.get(std::ffi::OsStr::new(name))
                .filter(|v| !v.is_empty())
        };
        let text = |name: &str| os(name).and_then(|v| v.to_str()).map(str::to_owned);
        let outer_session = text(env_vars::ASSUME_ROLE_PROFILE);
        let env_credentials = credentials_of(&text);
        let shell_var = if cfg!(windows) {
            env_vars::COMSPEC
        } else {
            env_vars::SHELL
        };
        let mut var_names: Vec<String> = vars
            .keys()
            .filter_map(|name| name.to_str().map(str::to_owned))
            .collect();
        var_names.sort();
        let utf8: HashMap<String, String> = vars
            .iter()
            .filter_map(|(k, v)| Some((k.to_str()?.to_owned(), v.to_str()?.to_owned())))
            .collect();
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
            keys_backend: text(env_vars::ASSUME_ROLE_KEYS_BACKEND),
            file_passphrase: text(env_vars::ASSUME_ROLE_FILE_PASSPHRASE).map(Secret::new),
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
            completion_request: vars
                .contains_key(std::ffi::OsStr::new(env_vars::ASSUME_ROLE_COMPLETE)),
            federation_endpoint: text(env_vars::ASSUME_ROLE_FEDERATION_ENDPOINT),
            browser: text(env_vars::ASSUME_ROLE_BROWSER),
            browser_path: os(env_vars::ASSUME_ROLE_BROWSER_PATH).map(PathBuf::from),
            browser_command: text(env_vars::BROWSER),
            no_browser_here: no_browser_here(&text),
            session_region: text(env_vars::AWS_REGION)
                .or_else(|| text(env_vars::AWS_DEFAULT_REGION)),
            session_expiration: text(env_vars::AWS_CREDENTIAL_EXPIRATION),
            audit: text(env_vars::ASSUME_ROLE_AUDIT).is_none_or(|v| switched_on(&v)),
            session_account: text(env_vars::AWS_ACCOUNT_ID),
            path: os(env_vars::PATH).cloned(),
            config_file: os(env_vars::AWS_CONFIG_FILE).map(PathBuf::from),
            credentials_file: os(env_vars::AWS_SHARED_CREDENTIALS_FILE).map(PathBuf::from),
            cache_dir: os(env_vars::ASSUME_ROLE_CACHE_DIR).map(PathBuf::from),
            state_dir: os(env_vars::ASSUME_ROLE_STATE_DIR).map(PathBuf::from),
            settings_file: os(env_vars::ASSUME_ROLE_CONFIG).map(PathBuf::from),
            dirs,
            vars: utf8,
        }
    }

    /// The same variables, for the AWS SDK's loaders: they read `AWS_*` (endpoints, retries,
    /// FIPS, the profile) through this rather than from the process, so that what the SDK sees
    /// is what we saw, and a test controls both.
    pub fn sdk_env(&self) -> aws_types::os_shim_internal::Env {
        aws_types::os_shim_internal::Env::from(self.vars.clone())
    }

    /// How long a helper process (`mfa_process`, `credential_process`) may run:
    /// `ASSUME_ROLE_PROCESS_TIMEOUT`, else the default.
    pub fn process_timeout(&self) -> Result<std::time::Duration, crate::process::ProcessError> {
        crate::process::process_timeout(self.process_timeout.as_deref())
    }
}

/// Why a browser started here would not be seen by the user, if it would not; see
/// [`Env::no_browser_here`].
fn no_browser_here(text: &impl Fn(&str) -> Option<String>) -> Option<&'static str> {
    if text(env_vars::SSH_CONNECTION).is_some() || text(env_vars::SSH_TTY).is_some() {
        Some("this is an SSH session")
    } else if text(env_vars::CONTAINER).is_some() {
        Some("this is a container")
    } else if cfg!(target_os = "linux")
        && text(env_vars::DISPLAY).is_none()
        && text(env_vars::WAYLAND_DISPLAY).is_none()
    {
        Some("there is no display (`DISPLAY`, `WAYLAND_DISPLAY`)")
    } else {
        None
    }
}

/// The login name of the process's user, from the password database: the session name's
/// fallback when `USER` and `USERNAME` are unset, so that the client's CloudTrail still names a
/// person rather than `assume-role`.
#[cfg(unix)]
fn login_name() -> Option<String> {
    uzers::get_current_username().and_then(|name| name.into_string().ok())
}

#[cfg(not(unix))]
fn login_name() -> Option<String> {
    None
}

/// Whether an `ASSUME_ROLE_AUDIT` (or settings) value leaves the audit log on: everything but
/// `0`, `false`, `no` and `off`.
pub fn switched_on(value: &str) -> bool {
    !["0", "false", "no", "off"]
        .iter()
        .any(|off| value.trim().eq_ignore_ascii_case(off))
}
