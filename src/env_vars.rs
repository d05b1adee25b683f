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
