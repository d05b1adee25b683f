//! Every environment variable the tool reads or writes, declared once.

/// Our own variables.
pub const ASSUME_ROLE_PROFILE: &str = "ASSUME_ROLE_PROFILE";
/// Where the cache lives, instead of the platform cache directory.
pub const ASSUME_ROLE_CACHE_DIR: &str = "ASSUME_ROLE_CACHE_DIR";
/// How long `mfa_process` and `credential_process` may run (default 60 s): seconds, or
/// `30s`, `2m`, `1m30s`.
pub const ASSUME_ROLE_PROCESS_TIMEOUT: &str = "ASSUME_ROLE_PROCESS_TIMEOUT";
/// The profiles whose `credential_process` is running in the processes above us, so that
/// `credential_process = assume-role credential-process <itself>` is a loop, not a fork bomb.
pub const ASSUME_ROLE_PROCESS_STACK: &str = "ASSUME_ROLE_PROCESS_STACK";
/// Where stored keys are kept when `--backend` does not say: `os` or `file`.
pub const ASSUME_ROLE_KEYS_BACKEND: &str = "ASSUME_ROLE_KEYS_BACKEND";
/// The tool's settings file, instead of `config.toml` in the platform's config directory.
pub const ASSUME_ROLE_CONFIG: &str = "ASSUME_ROLE_CONFIG";
/// The passphrase of the encrypted keys file, for automation (else it is asked on the terminal).
pub const ASSUME_ROLE_FILE_PASSPHRASE: &str = "ASSUME_ROLE_FILE_PASSPHRASE";
/// Where the audit log lives, instead of the platform state directory.
pub const ASSUME_ROLE_STATE_DIR: &str = "ASSUME_ROLE_STATE_DIR";
/// `0`, `false`, `no` or `off` switch the audit log off.
pub const ASSUME_ROLE_AUDIT: &str = "ASSUME_ROLE_AUDIT";

/// The profile the AWS CLI would use; `onboard publish` defaults to it.
pub const AWS_PROFILE: &str = "AWS_PROFILE";
/// Endpoint overrides; they are part of every cache key (credentials from an emulator must
/// never be served for the real thing).
pub const AWS_ENDPOINT_URL: &str = "AWS_ENDPOINT_URL";
pub const AWS_ENDPOINT_URL_STS: &str = "AWS_ENDPOINT_URL_STS";
pub const AWS_ENDPOINT_URL_S3: &str = "AWS_ENDPOINT_URL_S3";
/// IAM, for `keys rotate`.
pub const AWS_ENDPOINT_URL_IAM: &str = "AWS_ENDPOINT_URL_IAM";

/// Standard AWS variables we read.
pub const AWS_CONFIG_FILE: &str = "AWS_CONFIG_FILE";
pub const AWS_SHARED_CREDENTIALS_FILE: &str = "AWS_SHARED_CREDENTIALS_FILE";
pub const AWS_REGION: &str = "AWS_REGION";
pub const AWS_DEFAULT_REGION: &str = "AWS_DEFAULT_REGION";

/// Credential variables: read only for `credential_source = Environment`, written for a session.
pub const AWS_ACCESS_KEY_ID: &str = "AWS_ACCESS_KEY_ID";
pub const AWS_SECRET_ACCESS_KEY: &str = "AWS_SECRET_ACCESS_KEY";
pub const AWS_SESSION_TOKEN: &str = "AWS_SESSION_TOKEN";
/// The legacy name of `AWS_SESSION_TOKEN`; read only when that is absent.
pub const AWS_SECURITY_TOKEN: &str = "AWS_SECURITY_TOKEN";
/// RFC 3339 UTC; botocore and the AWS CLI read it to know when to stop trusting the keys.
pub const AWS_CREDENTIAL_EXPIRATION: &str = "AWS_CREDENTIAL_EXPIRATION";
/// botocore reads it; it saves the child a `GetCallerIdentity` call.
pub const AWS_ACCOUNT_ID: &str = "AWS_ACCOUNT_ID";

/// `exec --server`: where the child's SDKs fetch credentials, and the `Authorization` header
/// they send (the container-credentials contract every AWS SDK and the AWS CLI speak).
pub const AWS_CONTAINER_CREDENTIALS_FULL_URI: &str = "AWS_CONTAINER_CREDENTIALS_FULL_URI";
pub const AWS_CONTAINER_AUTHORIZATION_TOKEN: &str = "AWS_CONTAINER_AUTHORIZATION_TOKEN";

/// Variables that would override or confuse the credentials we hand over, so every session we
/// create removes them. `AWS_SECURITY_TOKEN` matters most: botocore reads it *before*
/// `AWS_SESSION_TOKEN`, so a stale legacy token would win.
pub const SCRUBBED: &[&str] = &[
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SECURITY_TOKEN",
    "AWS_SESSION_EXPIRATION",
    "AWS_CREDENTIAL_FILE",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_SESSION_NAME",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    "AWS_VAULT",
];

/// Variables of ours that hold a secret: no child we start gets them (a command under `exec` or
/// `each`, a browser, a helper). With the keys file, which the child could read as the same
/// user, the passphrase would give it the long-term key. A shell's `eval "$(assume-role env)"`
/// keeps them: that is the user's own shell, not a child.
pub const CHILD_SECRETS: &[&str] = &[ASSUME_ROLE_FILE_PASSPHRASE];

/// Other wrappers mark their sessions with variables under these prefixes; a session of ours
/// must not look like one of theirs.
pub const SCRUBBED_PREFIXES: &[&str] = &["AWSUME_", "GRANTED_"];

/// Where the per-user session name comes from.
pub const USER: &str = "USER";
pub const USERNAME: &str = "USERNAME";

/// Where `doctor` looks for the programs of `mfa_process` and `credential_process`.
pub const PATH: &str = "PATH";

/// The shell `exec` runs when no command is given.
pub const SHELL: &str = "SHELL";
pub const COMSPEC: &str = "COMSPEC";

/// `console`: where `getSigninToken` and `login` go instead of the partition's sign-in host
/// (`https://…/federation`), for tests and private partitions. Plain `http://` only to loopback.
pub const ASSUME_ROLE_FEDERATION_ENDPOINT: &str = "ASSUME_ROLE_FEDERATION_ENDPOINT";
/// `console`: which browser, when `--browser` is not given: `chrome`, `chromium`, `brave`,
/// `edge` (one user-data directory per profile), `firefox` (one container per profile) or
/// `default` (`$BROWSER`, else the platform's opener).
pub const ASSUME_ROLE_BROWSER: &str = "ASSUME_ROLE_BROWSER";
/// `console`: the browser's executable, when it is not found on `PATH` under its usual name.
pub const ASSUME_ROLE_BROWSER_PATH: &str = "ASSUME_ROLE_BROWSER_PATH";
/// `console` with the default browser: the command that opens a URL, as other tools read it.
pub const BROWSER: &str = "BROWSER";
/// Signs that a browser started here would not be seen: `sso login` then uses the device flow.
pub const SSH_CONNECTION: &str = "SSH_CONNECTION";
pub const SSH_TTY: &str = "SSH_TTY";
pub const DISPLAY: &str = "DISPLAY";
pub const WAYLAND_DISPLAY: &str = "WAYLAND_DISPLAY";
/// Set by systemd-nspawn, podman and others inside a container.
pub const CONTAINER: &str = "container";

/// Every variable a session sets (`env`, `exec`), in the order `env` prints them: what the
/// `unassume` of `assume-role init` removes, and nothing else. A session without a token or an
/// account ID removes those instead of setting them.
pub const SESSION_VARIABLES: &[&str] = &[
    AWS_ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY,
    AWS_SESSION_TOKEN,
    AWS_CREDENTIAL_EXPIRATION,
    AWS_ACCOUNT_ID,
    AWS_REGION,
    AWS_DEFAULT_REGION,
    ASSUME_ROLE_PROFILE,
];

/// Set by the completion scripts of `assume-role completions` when they ask the binary for
/// candidates. Our own name rather than clap's default `COMPLETE`, which is generic enough to
/// be set for something else and would turn every run into a completion request.
pub const ASSUME_ROLE_COMPLETE: &str = "_ASSUME_ROLE_COMPLETE";

/// What a variable is to the tool: how the manual page's ENVIRONMENT section and the book's
/// "Settings and environment variables" page group it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Ours: read (or, for `ASSUME_ROLE_PROFILE`, set) by assume-role only.
    Own,
    /// The AWS SDKs' and the AWS CLI's, read as they read them.
    Aws,
    /// Set for the command or shell a session is handed to.
    Session,
    /// Removed from every session, so that nothing overrides or mislabels its credentials.
    Removed,
    /// The platform's: the user, the shell, directories, the display.
    Platform,
}

impl Kind {
    /// Every kind, in the order the documentation lists them, with its heading.
    pub const ALL: &[(Kind, &'static str)] = &[
        (Kind::Own, "assume-role's own"),
        (Kind::Aws, "read as the AWS CLI reads them"),
        (Kind::Session, "set for a session"),
        (Kind::Removed, "removed from a session"),
        (Kind::Platform, "the platform's"),
    ];
}

/// One variable: its name, what it is to the tool, and one line on what it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Var {
    pub name: &'static str,
    pub kind: Kind,
    pub doc: &'static str,
}

const fn var(name: &'static str, kind: Kind, doc: &'static str) -> Var {
    Var { name, kind, doc }
}

/// Every variable the tool reads, sets or removes, each once, with one line on what it does:
/// the manual page's ENVIRONMENT section and the book's reference page are made from this
/// table (`tests/docs.rs` fails when the book's copy differs, or when a constant of this module
/// is missing here). The constants above stay the names the code uses.
#[rustfmt::skip]
pub const VARS: &[Var] = &[
    var(ASSUME_ROLE_CONFIG, Kind::Own, "The settings file, instead of `config.toml` in the platform's config directory; it must exist."),
    var(ASSUME_ROLE_CACHE_DIR, Kind::Own, "The cache directory, instead of the platform's (`~/.cache/assume-role` on Linux)."),
    var(ASSUME_ROLE_STATE_DIR, Kind::Own, "Where the audit log is written, instead of the platform's state directory."),
    var(ASSUME_ROLE_AUDIT, Kind::Own, "`0`, `false`, `no` or `off` switch the audit log off."),
    var(ASSUME_ROLE_PROCESS_TIMEOUT, Kind::Own, "How long `mfa_process` and `credential_process` may run: `90`, `30s`, `2m` (default 60 s)."),
    var(ASSUME_ROLE_KEYS_BACKEND, Kind::Own, "Where `keys add` and `keys import` store a key when `--backend` is not given: `os` or `file`."),
    var(ASSUME_ROLE_FILE_PASSPHRASE, Kind::Own, "The passphrase of the encrypted keys file, for automation (else it is asked on the terminal); never passed to a child."),
    var(ASSUME_ROLE_BROWSER, Kind::Own, "`console`'s browser when `--browser` is not given: `chrome`, `chromium`, `brave`, `edge`, `firefox` or `default`."),
    var(ASSUME_ROLE_BROWSER_PATH, Kind::Own, "`console`'s browser executable, when it is not on `PATH` under its usual name."),
    var(ASSUME_ROLE_FEDERATION_ENDPOINT, Kind::Own, "`console`'s sign-in endpoint (`https://…/federation`) instead of the partition's; plain `http://` only to loopback."),
    var(ASSUME_ROLE_PROFILE, Kind::Own, "Set in every session to its profile; `whoami`, `prompt` and `unassume` read it, and a run inside a session ignores the session's region."),
    var(ASSUME_ROLE_PROCESS_STACK, Kind::Own, "Internal: the profiles whose `credential_process` runs above this process, so that a loop is named instead of forking forever."),
    var(ASSUME_ROLE_COMPLETE, Kind::Own, "Internal: set by the scripts of `assume-role completions` when they ask for candidates."),
    var(AWS_CONFIG_FILE, Kind::Aws, "The AWS config file (default `~/.aws/config`)."),
    var(AWS_SHARED_CREDENTIALS_FILE, Kind::Aws, "The AWS credentials file (default `~/.aws/credentials`)."),
    var(AWS_REGION, Kind::Aws, "The region, before the profile's `region` (ignored inside one of our sessions, where it is the outer profile's); also set for a session."),
    var(AWS_DEFAULT_REGION, Kind::Aws, "The region when `AWS_REGION` is not set; also set for a session."),
    var(AWS_PROFILE, Kind::Aws, "The profile `onboard publish` uploads with when `--profile` is not given; removed from a session."),
    var(AWS_ENDPOINT_URL, Kind::Aws, "Every AWS endpoint (an emulator, a proxy); part of every cache key."),
    var(AWS_ENDPOINT_URL_STS, Kind::Aws, "The STS endpoint; part of every cache key."),
    var(AWS_ENDPOINT_URL_S3, Kind::Aws, "The S3 endpoint, for `onboard publish`."),
    var(AWS_ENDPOINT_URL_IAM, Kind::Aws, "The IAM endpoint, for `keys rotate`."),
    var(AWS_ENDPOINT_URL_SSO, Kind::Aws, "The IAM Identity Center portal endpoint, for SSO profiles and `sso sync`."),
    var(AWS_ENDPOINT_URL_SSO_OIDC, Kind::Aws, "The IAM Identity Center OIDC endpoint, for `sso login`."),
    var(HTTPS_PROXY, Kind::Aws, "A proxy for AWS calls (not for `console`'s sign-in call), as in every AWS SDK."),
    var(NO_PROXY, Kind::Aws, "Hosts reached without `HTTPS_PROXY`."),
    var(AWS_ACCESS_KEY_ID, Kind::Session, "Read only for `credential_source = Environment` and by `keys add --from-env`; set for a session."),
    var(AWS_SECRET_ACCESS_KEY, Kind::Session, "As `AWS_ACCESS_KEY_ID`."),
    var(AWS_SESSION_TOKEN, Kind::Session, "As `AWS_ACCESS_KEY_ID`; removed from a session whose credentials have none."),
    var(AWS_CREDENTIAL_EXPIRATION, Kind::Session, "When the session's credentials expire (RFC 3339, UTC); `whoami` and `prompt` read it."),
    var(AWS_ACCOUNT_ID, Kind::Session, "The account of the session's credentials; `prompt` reads it."),
    var(AWS_CONTAINER_CREDENTIALS_FULL_URI, Kind::Session, "`exec --server`: the loopback endpoint the command's SDKs fetch credentials from; removed from other sessions."),
    var(AWS_CONTAINER_AUTHORIZATION_TOKEN, Kind::Session, "`exec --server`: the token that endpoint requires; removed from other sessions."),
    var(AWS_SECURITY_TOKEN, Kind::Removed, "The legacy name of `AWS_SESSION_TOKEN`, read only when that is absent; removed, since botocore would prefer a stale one."),
    var(AWS_DEFAULT_PROFILE, Kind::Removed, "Another tool's profile choice, which would make an SDK load other credentials."),
    var(AWS_SESSION_EXPIRATION, Kind::Removed, "Another tool's expiry variable."),
    var(AWS_CREDENTIAL_FILE, Kind::Removed, "A legacy credentials file variable."),
    var(AWS_ROLE_ARN, Kind::Removed, "Web identity: the role an SDK would assume instead."),
    var(AWS_WEB_IDENTITY_TOKEN_FILE, Kind::Removed, "Web identity: the token an SDK would use instead."),
    var(AWS_ROLE_SESSION_NAME, Kind::Removed, "Web identity: its session name."),
    var(AWS_CONTAINER_CREDENTIALS_RELATIVE_URI, Kind::Removed, "Container credentials an SDK would prefer."),
    var(AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE, Kind::Removed, "Container credentials' token file."),
    var(AWS_VAULT, Kind::Removed, "aws-vault's marker (`AWSUME_*` and `GRANTED_*` are removed too): a session of ours must not look like another tool's."),
    var(HOME, Kind::Platform, "Where `~/.aws` and, on Unix, the platform directories are."),
    var(XDG_CONFIG_HOME, Kind::Platform, "Linux: the settings file's directory (default `~/.config`)."),
    var(XDG_CACHE_HOME, Kind::Platform, "Linux: the cache's directory (default `~/.cache`)."),
    var(XDG_DATA_HOME, Kind::Platform, "Linux: stored keys and browser identities (default `~/.local/share`)."),
    var(XDG_STATE_HOME, Kind::Platform, "Linux: the audit log's directory (default `~/.local/state`)."),
    var(USER, Kind::Platform, "The default session name (else `USERNAME`, else the login name)."),
    var(USERNAME, Kind::Platform, "The default session name on Windows."),
    var(SHELL, Kind::Platform, "The shell `exec` starts when no command is given (Unix)."),
    var(COMSPEC, Kind::Platform, "The shell `exec` starts when no command is given (Windows; else `cmd.exe`)."),
    var(PATH, Kind::Platform, "Where `doctor` looks for the programs of `mfa_process` and `credential_process`, and `console` for a browser."),
    var(BROWSER, Kind::Platform, "`console` with the default browser, and `sso login`: the command that opens a URL (`%s` stands for it)."),
    var(SSH_CONNECTION, Kind::Platform, "With `SSH_TTY`, `DISPLAY`, `WAYLAND_DISPLAY` and `container`: whether a browser started here would be seen; if not, `sso login` uses the device flow."),
    var(SSH_TTY, Kind::Platform, "See `SSH_CONNECTION`."),
    var(DISPLAY, Kind::Platform, "See `SSH_CONNECTION` (Linux)."),
    var(WAYLAND_DISPLAY, Kind::Platform, "See `SSH_CONNECTION` (Linux)."),
    var(CONTAINER, Kind::Platform, "See `SSH_CONNECTION`; set by systemd-nspawn, podman and others inside a container."),
];

/// The AWS SDK reads it through the environment snapshot: the IAM Identity Center endpoints.
pub const AWS_ENDPOINT_URL_SSO: &str = "AWS_ENDPOINT_URL_SSO";
pub const AWS_ENDPOINT_URL_SSO_OIDC: &str = "AWS_ENDPOINT_URL_SSO_OIDC";
/// The AWS SDK's proxy settings.
pub const HTTPS_PROXY: &str = "HTTPS_PROXY";
pub const NO_PROXY: &str = "NO_PROXY";
/// The removed variables, by name (the list the code uses is [`SCRUBBED`]).
pub const AWS_DEFAULT_PROFILE: &str = "AWS_DEFAULT_PROFILE";
pub const AWS_SESSION_EXPIRATION: &str = "AWS_SESSION_EXPIRATION";
pub const AWS_CREDENTIAL_FILE: &str = "AWS_CREDENTIAL_FILE";
pub const AWS_ROLE_ARN: &str = "AWS_ROLE_ARN";
pub const AWS_WEB_IDENTITY_TOKEN_FILE: &str = "AWS_WEB_IDENTITY_TOKEN_FILE";
pub const AWS_ROLE_SESSION_NAME: &str = "AWS_ROLE_SESSION_NAME";
pub const AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: &str = "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI";
pub const AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: &str = "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE";
pub const AWS_VAULT: &str = "AWS_VAULT";
/// The platform directories, which the `dirs` crate reads (`crate::env::PlatformDirs`).
pub const HOME: &str = "HOME";
pub const XDG_CONFIG_HOME: &str = "XDG_CONFIG_HOME";
pub const XDG_CACHE_HOME: &str = "XDG_CACHE_HOME";
pub const XDG_DATA_HOME: &str = "XDG_DATA_HOME";
pub const XDG_STATE_HOME: &str = "XDG_STATE_HOME";

/// A variable of ours set to a value it cannot take: exit 2, as for a bad flag.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{name}` is `{value}`, which is {reason}")]
pub struct InvalidEnvVar {
    pub name: &'static str,
    pub value: String,
    pub reason: &'static str,
    pub expected: &'static str,
}

impl crate::exit::Diagnose for InvalidEnvVar {
    fn exit(&self) -> crate::exit::Exit {
        crate::exit::Exit::Usage
    }

    fn hints(&self) -> Vec<String> {
        vec![format!(
            "set `{}` to {}, or unset it",
            self.name, self.expected
        )]
    }
}
