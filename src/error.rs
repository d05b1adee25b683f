//! Typed errors. Each one says what happened and where (file, profile, role, endpoint); its
//! [`Error::hints`] say how to fix it; and its [`Error::exit_code`] lets scripts tell a broken
//! config from a denied role from an unreachable network.

use std::path::PathBuf;
use std::process::ExitCode;

/// Exit codes, documented in the README. `exec` passes the child's own code through instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Exit {
    Success = 0,
    /// Anything not covered below, such as an unwritable stdout.
    Failure = 1,
    /// Bad command-line usage (clap uses 2 as well).
    Usage = 2,
    /// The AWS config or a profile in it is wrong.
    Config = 3,
    /// No usable MFA code.
    Mfa = 4,
    /// STS or the source credentials said no.
    Denied = 5,
    /// STS or a credential source could not be reached.
    Network = 6,
    /// `exec`: the command exists but could not be run.
    NotExecutable = 126,
    /// `exec`: the command does not exist.
    NotFound = 127,
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> Self {
        ExitCode::from(exit as u8)
    }
}

/// The files a profile was looked up in, for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilesRead(pub Vec<(PathBuf, bool)>);

impl std::fmt::Display for FilesRead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|(path, exists)| {
                let missing = if *exists { "" } else { " (not found)" };
                format!("`{}`{missing}", path.display())
            })
            .collect();
        f.write_str(&parts.join(" and "))
    }
}

/// Which STS call failed: the same `AccessDenied` means different things for each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StsCall {
    AssumeRole,
    GetSessionToken,
}

impl StsCall {
    pub fn name(self) -> &'static str {
        match self {
            StsCall::AssumeRole => "AssumeRole",
            StsCall::GetSessionToken => "GetSessionToken",
        }
    }
}

/// Why `--min-valid` cannot be met: what caps the session's lifetime.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MinValidCap {
    /// Assumed from another role's credentials: AWS allows at most an hour.
    Chained,
    /// Assumed from an MFA session: AWS counts that as chaining too.
    MfaSession,
    /// What the profile or `--duration` asks for; `defaulted` when neither says, and STS gives
    /// its default of an hour.
    Requested { defaulted: bool },
    /// What STS actually issued.
    Issued,
}

/// What went wrong with an STS call, by its error code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StsFailure {
    AccessDenied,
    BadSourceKeys,
    ExpiredToken,
    DurationTooLong,
    /// The 1-hour cap on a role assumed from another role's credentials.
    ChainingLimit,
    RegionDisabled,
    /// `Throttling` after every retry.
    Throttled,
    /// A 5xx after every retry.
    Unavailable,
    Other,
}

/// How a service other than STS's credential calls failed (`console`'s federation endpoint,
/// `whoami`'s `GetCallerIdentity`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemoteFailure {
    /// It answered, and said no to the credentials.
    Refused,
    /// No connection, or no answer in time.
    Unreachable,
    /// It answered with a server error, or with something that cannot be read.
    BadAnswer,
}

/// Why `onboard publish` could not put the template in the bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublishFailure {
    NoSuchBucket,
    AccessDenied,
    /// No connection, or no answer in time.
    Unreachable,
    Other,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    ConfigParse(String),

    #[error("line {line} of `{}` {what}", .path.display())]
    ConfigSyntax {
        path: PathBuf,
        line: usize,
        what: String,
        fix: String,
    },

    #[error("`{}` is not UTF-8 text: byte {offset} (line {line}, column {column}) is not valid UTF-8", .path.display())]
    ConfigNotUtf8 {
        path: PathBuf,
        line: usize,
        column: usize,
        offset: usize,
    },

    #[error("cannot read `{path}`: {source}")]
    ConfigRead {
        path: PathBuf,
        source: std::io::Error,
    },

    /// The tool's settings file (`config.toml`) could not be read.
    #[error("cannot read the settings file `{}`: {source}", .path.display())]
    SettingsRead {
        path: PathBuf,
        /// Named by `ASSUME_ROLE_CONFIG` (a missing file is an error only then).
        explicit: bool,
        source: std::io::Error,
    },

    /// The tool's settings file is not TOML, has a key it does not know, or a value it cannot
    /// take. Never shows the value of `mfa_process` (it may carry a TOTP seed).
    #[error("`{}` line {line}, column {column}: {problem}", .path.display())]
    SettingsInvalid {
        path: PathBuf,
        line: usize,
        column: usize,
        key: Option<String>,
        problem: String,
        expected: crate::settings::Expected,
    },

    #[error("{} `{name}` is not in {files}", if .referenced_by.is_some() { "source profile" } else { "profile" })]
    UnknownProfile {
        name: String,
        files: FilesRead,
        suggestion: Option<String>,
        referenced_by: Option<String>,
    },

    #[error("profiles form a loop: {}", .path.join(" → "))]
    ProfileLoop { path: Vec<String> },

    #[error("profile `{profile}` has no credentials and no source of credentials")]
    NoCredentialSource { profile: String },

    #[error("profile `{profile}` names itself as its `source_profile`, but has no keys of its own")]
    SelfSource { profile: String },

    #[error("profile `{profile}` sets `{present}` but not `{missing}`")]
    IncompleteProfile {
        profile: String,
        present: &'static str,
        missing: &'static str,
    },

    #[error("profile `{profile}` sets both `source_profile` and `credential_source`")]
    ConflictingSource { profile: String },

    #[error("profile `{profile}` has `credential_source = {value}`, which is not a known source")]
    UnknownCredentialSource { profile: String, value: String },

    #[error("{}: `{value}` is not a valid {what}: {reason}", where_(.profile.as_deref(), .key))]
    InvalidValue {
        profile: Option<String>,
        key: String,
        what: &'static str,
        value: String,
        reason: String,
    },

    #[error("{origin}: `{region}` is not a valid region name")]
    InvalidRegion { region: String, origin: String },

    #[error("{}: a session of {} is {}", where_(.profile.as_deref(), "duration_seconds"), crate::duration::display(*.requested), duration_problem(*.chained))]
    DurationOutOfRange {
        profile: Option<String>,
        requested: std::time::Duration,
        chained: bool,
    },

    #[error(
        "profile `{profile}` takes its source credentials from the environment (`credential_source = Environment`), but `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` are not both set"
    )]
    EnvironmentCredentialsMissing { profile: String },

    #[error(
        "profile `{profile}` takes its source credentials from the environment, but they belong to the assume-role session of profile `{outer}`"
    )]
    OuterSessionAsSource { profile: String, outer: String },

    #[error(
        "profile `{profile}` needs an MFA code for `{serial}`, and there is no terminal to ask on"
    )]
    MfaUnavailable { profile: String, serial: String },

    #[error(
        "the chain of profile `{profile}` needs a second MFA code, for `{hop}` (`{serial}`), and `--mfa-token` gave one, used for `{first}`"
    )]
    MfaSecondCode {
        profile: String,
        first: String,
        hop: String,
        serial: String,
    },

    #[error("the MFA code from {origin} is not 6 digits")]
    MfaMalformed { origin: String },

    #[error("`mfa_process` of profile `{profile}` failed: {reason}")]
    MfaProcess { profile: String, reason: String },

    #[error("cannot ask for the MFA code on the terminal: {0}")]
    Prompt(std::io::Error),

    #[error("{kind} of profile `{profile}` (`{program}`) did not finish within {}; it was stopped", crate::duration::display(*.waited))]
    HelperTimeout {
        kind: crate::process::HelperKind,
        profile: String,
        /// The program only: its arguments may hold a TOTP seed or a password.
        program: String,
        waited: std::time::Duration,
    },

    #[error("`{name}` is `{value}`, which is {reason}")]
    InvalidEnvVar {
        name: &'static str,
        value: String,
        reason: &'static str,
        expected: &'static str,
    },

    #[error("through `credential_process`, profiles form a loop: {}", .path.join(" → "))]
    CredentialProcessLoop { path: Vec<String> },

    #[error("{} for profile `{profile}`: {code}{}", sts_what(*.call, .failure, .role_arn), message_suffix(.message))]
    Sts {
        call: StsCall,
        failure: StsFailure,
        code: String,
        message: String,
        role_arn: String,
        profile: String,
        /// What the hop sent, for targeted hints.
        sent_external_id: bool,
        sent_mfa: bool,
        source_profile: Option<String>,
    },

    #[error(
        "cannot reach STS at `{endpoint}` to assume `{role_arn}` for profile `{profile}`: {detail}"
    )]
    Unreachable {
        endpoint: String,
        role_arn: String,
        profile: String,
        detail: String,
    },

    #[error("cannot get the source credentials of profile `{profile}` ({kind}): {detail}")]
    SourceCredentials {
        profile: String,
        kind: &'static str,
        detail: String,
        /// The source could not be reached at all, as opposed to refusing.
        unreachable: bool,
    },

    #[error("unexpected answer from STS at {endpoint} for profile `{profile}`: {detail}")]
    BadResponse {
        endpoint: String,
        profile: String,
        detail: String,
    },

    #[error("the {format} format cannot safely carry the value of `{name}` (it contains {reason})")]
    Unrepresentable {
        format: &'static str,
        name: String,
        reason: &'static str,
    },

    #[error("command `{program}` not found")]
    CommandNotFound { program: String },

    #[error("cannot run `{program}`: {source}")]
    CommandNotExecutable {
        program: String,
        source: std::io::Error,
    },

    #[error("no command was given, and {}", shell_problem(.var, .value.as_deref(), .source.as_ref()))]
    ShellUnusable {
        /// `SHELL`, or `COMSPEC` on Windows.
        var: &'static str,
        /// `None` when the variable is unset.
        value: Option<String>,
        profile: String,
        /// Why the shell could not be started; `None` when there is nothing to start.
        source: Option<std::io::Error>,
    },

    #[error("the MFA code from {origin} was already used for `{serial}` in the last 30 seconds")]
    MfaCodeReused { origin: String, serial: String },

    #[error("`--min-valid {}` cannot be met: {}", crate::duration::display(*.wanted), min_valid_reason(.profile, *.available, *.cap))]
    MinValid {
        profile: String,
        available: std::time::Duration,
        wanted: std::time::Duration,
        cap: MinValidCap,
    },

    #[error("timed out after {} waiting for another assume-role run that is getting {what}", crate::duration::display(*.waited))]
    LockTimeout {
        what: String,
        waited: std::time::Duration,
    },

    #[error("cache `{}`: {source}", .path.display())]
    Cache {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("profile `{name}` already exists (in `{}` or the credentials file)", .path.display())]
    ProfileExists { name: String, path: PathBuf },

    #[error("cannot write `{}`: {source}", .path.display())]
    ConfigWrite {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("cannot get random bytes from the operating system: {0}")]
    Random(String),

    #[error("cannot start the credential endpoint of `exec --server` on `127.0.0.1`: {0}")]
    ServerStart(std::io::Error),

    #[error(
        "profile `{profile}` hands over credentials that never expire, so `exec --server` has nothing to refresh"
    )]
    ServerWithoutSession { profile: String },

    #[error("cannot publish the template to bucket `{bucket}`: {detail}")]
    Publish {
        bucket: String,
        detail: String,
        failure: PublishFailure,
        profile: String,
    },

    #[error(
        "the role would have no permissions: no `--managed-policy` was given, so the contractor could assume it but do nothing"
    )]
    NoPermissions,

    #[error("the sign-in endpoint `{endpoint}` {} for profile `{profile}`: {detail}", remote_verb(*.failure))]
    Federation {
        profile: String,
        /// Without the query: the request carries the credentials.
        endpoint: String,
        detail: String,
        failure: RemoteFailure,
        /// Whether `SessionDuration` was sent, for the hint.
        sent_duration: bool,
    },

    #[error(
        "profile `{profile}` is in partition `{partition}` (region `{region}`), which has no console sign-in endpoint"
    )]
    ConsoleUnavailable {
        profile: String,
        partition: &'static str,
        region: String,
    },

    #[error(
        "profile `{profile}` hands over long-term keys, and the console signs in only with a role's temporary credentials"
    )]
    ConsoleNeedsRole { profile: String },

    #[error("cannot open the console in {setting}: {reason}")]
    Browser {
        /// Where the browser was chosen: `--browser chrome`, `ASSUME_ROLE_BROWSER=firefox`…
        setting: String,
        reason: String,
    },

    #[error(
        "`whoami` was given no profile, and this shell is not inside a session (neither `ASSUME_ROLE_PROFILE` nor `AWS_ACCESS_KEY_ID` is set)"
    )]
    NoSession,

    #[error("this shell has no session of assume-role (`ASSUME_ROLE_PROFILE` is not set)")]
    NotInSession,

    #[error("STS at `{endpoint}` {} the credentials of {who}: {detail}", remote_verb(*.failure))]
    Identity {
        /// `profile `x`` or `this session`.
        who: String,
        endpoint: String,
        detail: String,
        failure: RemoteFailure,
    },

    #[error("cannot write to standard output: {0}")]
    Output(std::io::Error),

    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),

    #[error(transparent)]
    Keys(crate::keys::KeyError),

    #[error("cannot read the audit log `{}`: {source}", .path.display())]
    AuditLog {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("pattern `{pattern}` matches no profile in {files}")]
    NoProfileMatches {
        pattern: String,
        files: FilesRead,
        /// Close names, best first.
        suggestions: Vec<String>,
    },

    #[error(
        "profile `{profile}` needs an MFA code for `{serial}` (at `{hop}`) that was not asked for up front: a cached session it was to use has gone since"
    )]
    MfaNotCollected {
        profile: String,
        hop: String,
        serial: String,
    },
}

fn remote_verb(failure: RemoteFailure) -> &'static str {
    match failure {
        RemoteFailure::Refused => "refused",
        RemoteFailure::Unreachable => "could not be reached",
        RemoteFailure::BadAnswer => "failed",
    }
}

fn min_valid_reason(profile: &str, available: std::time::Duration, cap: MinValidCap) -> String {
    let available = crate::duration::display(available);
    match cap {
        MinValidCap::Chained => format!(
            "profile `{profile}` is assumed from another role's credentials, and AWS caps such a session at {available}"
        ),
        MinValidCap::MfaSession => format!(
            "profile `{profile}` is assumed from an MFA session, and AWS caps such a session at {available}"
        ),
        MinValidCap::Requested { defaulted: false } => {
            format!("profile `{profile}` asks STS for a {available} session")
        }
        MinValidCap::Requested { defaulted: true } => format!(
            "profile `{profile}` sets no `duration_seconds`, so STS gives its default {available} session"
        ),
        MinValidCap::Issued => {
            format!("STS issued profile `{profile}` a session with {available} left")
        }
    }
}

fn sts_what(call: StsCall, failure: &StsFailure, role_arn: &str) -> String {
    let verb = match failure {
        StsFailure::Throttled => "STS throttled",
        StsFailure::Unavailable => "STS failed",
        _ => "STS refused",
    };
    match call {
        StsCall::AssumeRole => format!("{verb} the request to assume `{role_arn}`"),
        StsCall::GetSessionToken => format!("{verb} the MFA session (GetSessionToken)"),
    }
}

fn where_(profile: Option<&str>, key: &str) -> String {
    match profile {
        Some(profile) => format!("`{key}` in profile `{profile}`"),
        // A flag as typed (`--role-arn`) or a positional argument (`NAME`) is shown as it is.
        // An environment variable (`AWS_ENDPOINT_URL`) too.
        None if key.starts_with("--")
            || key.bytes().all(|b| b.is_ascii_uppercase() || b == b'_') =>
        {
            format!("`{key}`")
        }
        None => format!("`--{}`", flag_for(key)),
    }
}

/// The command-line flag that sets what `key` sets in a profile.
fn flag_for(key: &str) -> String {
    match key {
        "duration_seconds" => "duration".into(),
        "role_session_name" => "session-name".into(),
        other => other.replace('_', "-"),
    }
}

fn shell_problem(var: &str, value: Option<&str>, source: Option<&std::io::Error>) -> String {
    match (value, source) {
        (None, _) => format!("`${var}` is not set, so there is no shell to start"),
        (Some(""), _) => format!("`${var}` is empty, so there is no shell to start"),
        (Some(value), Some(e)) if e.kind() == std::io::ErrorKind::NotFound => {
            format!("the shell in `${var}`, `{value}`, does not exist")
        }
        (Some(value), Some(e)) => format!("the shell in `${var}`, `{value}`, cannot be run: {e}"),
        (Some(value), None) => format!("the shell in `${var}`, `{value}`, cannot be run"),
    }
}

fn duration_problem(chained: bool) -> String {
    use crate::duration::{ASSUME_ROLE_MAX, ASSUME_ROLE_MIN, display};
    if chained {
        "longer than the 1h AWS allows for a role assumed from another role's credentials"
            .to_owned()
    } else {
        format!(
            "outside the range STS accepts ({}–{})",
            display(ASSUME_ROLE_MIN),
            display(ASSUME_ROLE_MAX)
        )
    }
}

fn source_hints(kind: &str, profile: &str) -> Vec<String> {
    match kind {
        "SSO" => vec![format!(
            "sign in again with `aws sso login --profile {profile}`"
        )],
        "credential_process" => vec![format!(
            "run the `credential_process` command of profile `{profile}` by hand; it must print credential JSON"
        )],
        "EC2 instance metadata" => vec![
            "`credential_source = Ec2InstanceMetadata` only works on an EC2 instance with a role"
                .into(),
        ],
        "ECS container credentials" => vec![
            "`credential_source = EcsContainer` only works inside an ECS task with a role".into(),
        ],
        "web identity" => vec![format!(
            "check that `web_identity_token_file` of profile `{profile}` exists and holds a current token"
        )],
        _ => vec![],
    }
}

fn message_suffix(message: &str) -> String {
    if message.is_empty() {
        String::new()
    } else {
        format!(" ({message})")
    }
}

impl Error {
    pub fn exit(&self) -> Exit {
        match self {
            Error::ConfigParse(_)
            | Error::ConfigSyntax { .. }
            | Error::ConfigRead { .. }
            | Error::SettingsRead { .. }
            | Error::SettingsInvalid { .. }
            | Error::ConfigNotUtf8 { .. }
            | Error::UnknownProfile { .. }
            | Error::ProfileLoop { .. }
            | Error::CredentialProcessLoop { .. }
            | Error::NoCredentialSource { .. }
            | Error::SelfSource { .. }
            | Error::IncompleteProfile { .. }
            | Error::ConflictingSource { .. }
            | Error::UnknownCredentialSource { .. }
            | Error::InvalidValue { .. }
            | Error::InvalidRegion { .. }
            | Error::MinValid { .. }
            | Error::ProfileExists { .. }
            | Error::DurationOutOfRange { .. }
            | Error::EnvironmentCredentialsMissing { .. }
            | Error::OuterSessionAsSource { .. }
            | Error::ConsoleUnavailable { .. }
            | Error::ConsoleNeedsRole { .. }
            | Error::Browser { .. }
            | Error::NoPermissions
            | Error::NoProfileMatches { .. } => Exit::Config,
            Error::Federation { failure, .. } | Error::Identity { failure, .. } => match failure {
                RemoteFailure::Refused => Exit::Denied,
                RemoteFailure::Unreachable | RemoteFailure::BadAnswer => Exit::Network,
            },
            Error::MfaUnavailable { .. }
            | Error::MfaSecondCode { .. }
            | Error::MfaMalformed { .. }
            | Error::MfaProcess { .. }
            | Error::MfaCodeReused { .. }
            | Error::MfaNotCollected { .. }
            | Error::Prompt(_)
            | Error::HelperTimeout {
                kind: crate::process::HelperKind::MfaProcess,
                ..
            } => Exit::Mfa,
            Error::Unreachable { .. }
            | Error::BadResponse { .. }
            | Error::SourceCredentials {
                unreachable: true, ..
            }
            | Error::Sts {
                failure: StsFailure::Throttled | StsFailure::Unavailable,
                ..
            }
            // A helper that never answered is like a source that cannot be reached: waiting
            // longer or trying again may work, which exit 5 (refused) would say it cannot.
            | Error::HelperTimeout {
                kind: crate::process::HelperKind::CredentialProcess,
                ..
            } => Exit::Network,
            Error::InvalidEnvVar { .. } | Error::NoSession | Error::ServerWithoutSession { .. } => {
                Exit::Usage
            }
            Error::Sts { .. }
            | Error::SourceCredentials {
                unreachable: false, ..
            } => Exit::Denied,
            Error::Publish { failure, .. } => match failure {
                PublishFailure::Unreachable => Exit::Network,
                PublishFailure::NoSuchBucket => Exit::Config,
                PublishFailure::AccessDenied | PublishFailure::Other => Exit::Denied,
            },
            // Nothing to run is "not found"; a shell that exists but will not start is not.
            Error::ShellUnusable {
                source: Some(e), ..
            } if e.kind() != std::io::ErrorKind::NotFound => Exit::NotExecutable,
            Error::CommandNotFound { .. } | Error::ShellUnusable { .. } => Exit::NotFound,
            Error::CommandNotExecutable { .. } => Exit::NotExecutable,
            // Nothing to show (`prompt --status`) is an answer, not a usage mistake.
            Error::NotInSession
            | Error::Unrepresentable { .. }
            | Error::Output(_)
            | Error::Runtime(_)
            | Error::LockTimeout { .. }
            | Error::Cache { .. }
            | Error::ConfigWrite { .. }
            | Error::Random(_)
            | Error::ServerStart(_)
            | Error::AuditLog { .. } => Exit::Failure,
            Error::Keys(e) => e.exit(),
        }
    }

    /// Hints for an STS error: the call, the code and what the hop sent decide them.
    fn sts_error_hints(&self) -> Vec<String> {
        let Error::Sts {
            call,
            failure,
            role_arn,
            sent_external_id,
            sent_mfa,
            profile,
            source_profile,
            message,
            ..
        } = self
        else {
            return Vec::new();
        };
        if message.contains("MultiFactorAuthentication")
            && (*sent_mfa || *call == StsCall::GetSessionToken)
        {
            return vec!["the MFA code was wrong, expired or already used; wait for the next code and try again".into()];
        }
        if *call == StsCall::GetSessionToken && *failure == StsFailure::AccessDenied {
            let who = source_profile.as_deref().map_or_else(
                || "your user".to_owned(),
                |p| format!("the user whose keys profile `{p}` holds"),
            );
            return vec![
                format!(
                    "check `mfa_serial` in profile `{profile}`: it must name an MFA device of {who} (`aws iam list-mfa-devices`)"
                ),
                format!("an IAM policy of {who} may deny `sts:GetSessionToken`"),
            ];
        }
        sts_hints(
            failure,
            role_arn,
            *sent_external_id,
            *sent_mfa,
            profile,
            source_profile.as_deref(),
        )
    }

    /// How to fix it: one line each, most likely first.
    // One arm per variant: a table reads best whole, however long it grows.
    #[allow(clippy::too_many_lines)]
    pub fn hints(&self) -> Vec<String> {
        match self {
            Error::Keys(e) => e.hints(),
            Error::ConfigParse(_) => vec!["fix the line named above; the file uses the AWS CLI's INI format".into()],
            Error::ConfigSyntax { fix, .. } => vec![fix.clone()],
            Error::ConfigNotUtf8 { path, line, .. } => vec![
                format!("the AWS CLI and SDKs read these files as UTF-8 only: retype the character on line {line}, or convert the file (`iconv -f latin1 -t utf-8 {0} > {0}.utf8`, check it, then move it into place)", path.display()),
            ],
            Error::SettingsRead { path, explicit: true, .. } => vec![
                format!("`{}` names `{}`: create it, or unset the variable to use the default place", crate::env_vars::ASSUME_ROLE_CONFIG, path.display()),
            ],
            Error::SettingsRead { .. } => vec![format!(
                "check the file's permissions, or point `{}` at another file",
                crate::env_vars::ASSUME_ROLE_CONFIG
            )],
            Error::SettingsInvalid { key, expected, .. } => {
                let mut hints = vec![expected.hint()];
                if let (Some(key), crate::settings::Expected::Keys) = (key, expected)
                    && let Some(near) = crate::settings::KEYS
                        .iter()
                        .find(|k| strsim::jaro_winkler(k, key) > 0.85)
                {
                    hints.insert(0, format!("did you mean `{near}`?"));
                }
                hints
            }
            Error::ConfigRead { .. } => vec!["check the file's permissions, or point `AWS_CONFIG_FILE` / `AWS_SHARED_CREDENTIALS_FILE` elsewhere".into()],
            Error::UnknownProfile { name, suggestion, referenced_by, .. } => {
                let mut hints = Vec::new();
                if let Some(bad) = name.chars().find(|c| !(c.is_ascii_alphanumeric() || "_-/.%@:+".contains(*c))) {
                    hints.push(format!("profile names may only use letters, digits and `_-/.%@:+`; the AWS config parser ignores a section whose name has {bad:?}"));
                }
                if let Some(s) = suggestion {
                    hints.push(format!("did you mean `{s}`?"));
                }
                match referenced_by {
                    Some(by) => hints.push(format!("fix `source_profile` in profile `{by}`, or add the missing profile")),
                    None => hints.push("`assume-role list` shows the profiles there are".into()),
                }
                hints
            }
            Error::ProfileLoop { path } => vec![format!(
                "change `source_profile` in one of {} so that the chain ends in a profile with credentials",
                path.iter().take(path.len().saturating_sub(1)).map(|p| format!("`{p}`")).collect::<Vec<_>>().join(", ")
            )],
            Error::CredentialProcessLoop { path } => vec![format!(
                "the `credential_process` of profile `{}` runs `assume-role` for a profile it is itself part of; give that profile credentials of its own (keys, SSO, or a `credential_process` that prints them), or chain roles with `source_profile` instead",
                path.iter().rev().nth(1).map_or("", String::as_str)
            )],
            Error::HelperTimeout { kind, profile, .. } => vec![
                format!("run the {kind} command of profile `{profile}` by hand to see what it waits for"),
                format!("if it needs longer (to unlock a password manager or touch a hardware key), raise `{}`, e.g. `{}=2m`", crate::env_vars::ASSUME_ROLE_PROCESS_TIMEOUT, crate::env_vars::ASSUME_ROLE_PROCESS_TIMEOUT),
            ],
            Error::InvalidEnvVar { name, expected, .. } => vec![format!("set `{name}` to {expected}, or unset it")],
            Error::NoCredentialSource { profile } => vec![format!(
                "add `role_arn` with `source_profile` (or `credential_source`) to [profile {profile}], or give it keys: `aws_access_key_id` and `aws_secret_access_key`, `credential_process`, or `sso_session`"
            )],
            Error::SelfSource { profile } => vec![
                format!("a profile that is its own source is assumed with its own keys: add `aws_access_key_id` and `aws_secret_access_key` to `[{profile}]` in the credentials file"),
                format!("or point `source_profile` of profile `{profile}` at the profile that holds your keys"),
            ],
            Error::IncompleteProfile { profile, missing, .. } => vec![format!("add `{missing}` to profile `{profile}`")],
            Error::ConflictingSource { profile } => vec![format!("keep one of them in profile `{profile}`: `source_profile` names another profile, `credential_source` names a built-in source")],
            Error::UnknownCredentialSource { .. } => vec!["use `Environment`, `Ec2InstanceMetadata` or `EcsContainer`".into()],
            Error::InvalidRegion { .. } => vec!["a region looks like `eu-west-1`; `aws ec2 describe-regions` lists them".into()],
            Error::DurationOutOfRange { chained: true, .. } => vec![
                "ask for 1h or less (`--duration 1h`), or assume this role directly from long-term keys".into(),
            ],
            Error::DurationOutOfRange { chained: false, .. } => vec!["ask for 15m to 12h, e.g. `--duration 1h`; the role's own MaxSessionDuration may be lower".into()],
            Error::EnvironmentCredentialsMissing { .. } => vec!["export `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY`, or use `source_profile` instead".into()],
            Error::OuterSessionAsSource { .. } => vec!["run it outside that session, or give the profile a `source_profile` with long-term keys".into()],
            Error::MfaSecondCode { hop, .. } => vec![
                "run it from a terminal: it asks for each code in turn (a second code from the same device means waiting for its next one, up to 30 seconds)".into(),
                format!("or set `mfa_process` in profile `{hop}`: it is asked again until it shows the next code"),
            ],
            Error::MfaUnavailable { .. } => vec![
                "pass the code with `--mfa-token 123456`".into(),
                "or set `mfa_process` in the profile to a command that prints the code".into(),
                "or run it from a terminal, where it asks for the code".into(),
            ],
            Error::MfaMalformed { .. } => vec!["an MFA code is the 6 digits your authenticator shows now".into()],
            Error::MfaProcess { profile, .. } => vec![format!("run the `mfa_process` command of profile `{profile}` by hand to see what it prints; it must print the 6-digit code")],
            Error::Prompt(_) => vec!["pass the code with `--mfa-token`, or set `mfa_process`".into()],
            Error::MfaCodeReused { .. } => vec!["AWS refuses a code used twice: wait for your authenticator to show the next code".into()],
            Error::MinValid { cap: MinValidCap::Chained | MinValidCap::MfaSession, .. } => vec![
                "ask for at most 45m with `--min-valid` (a cached session is refreshed 15 minutes before it expires)".into(),
                "or, for longer sessions, assume the role from long-term keys with `--duration` (an MFA code then goes to AssumeRole directly)".into(),
            ],
            Error::MinValid { wanted, .. } => vec![format!(
                "ask for a longer session, e.g. `--duration {}` (up to the role's MaxSessionDuration, at most 12h), or for less with `--min-valid`",
                crate::duration::display(*wanted + std::time::Duration::from_mins(30))
            )],
            Error::LockTimeout { .. } => vec!["finish or stop the other run (it may be waiting for an MFA code in another terminal)".into()],
            Error::AuditLog { .. } => vec![
                "check the permissions of the file and its directory, or point `ASSUME_ROLE_STATE_DIR` elsewhere".into(),
            ],
            Error::Cache { .. } => vec!["check the permissions of the cache directory, or point `ASSUME_ROLE_CACHE_DIR` elsewhere".into()],
            Error::ProfileExists { .. } => vec!["choose another name, or pass `--force` to replace it (the old file is kept as `.bak`)".into()],
            Error::ConfigWrite { .. } => vec!["check the file's and its directory's permissions; nothing was changed".into()],
            Error::Publish { failure: PublishFailure::NoSuchBucket, bucket, profile, .. } => vec![
                format!("create it (`aws s3 mb s3://{bucket} --profile {profile}`), or name a bucket of your own with `--bucket`"),
            ],
            Error::Publish { failure: PublishFailure::Unreachable, .. } => vec![
                "check the network, a proxy (`HTTPS_PROXY`), or an endpoint override (`AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_S3`, `endpoint_url`)".into(),
            ],
            Error::Publish { profile, .. } => vec![
                format!("the bucket must be in your own account, and profile `{profile}` must be allowed `s3:PutObject` and `s3:GetObject` on it"),
            ],
            Error::NoPermissions => vec![
                "attach a policy with `--managed-policy NAME|ARN` (e.g. `ReadOnlyAccess`; repeatable)".into(),
                "or pass `--no-permissions` if the client will attach policies to the role itself".into(),
            ],
            Error::Sts { .. } => self.sts_error_hints(),
            Error::BadResponse { .. } => vec![
                "check the endpoint override (`AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_STS`, `endpoint_url`) or the proxy (`HTTPS_PROXY`): something other than STS answered".into(),
            ],
            Error::SourceCredentials { profile, kind, .. } => source_hints(kind, profile),
            Error::Unreachable { .. } => vec![
                "check the network, a proxy (`HTTPS_PROXY`), or an endpoint override (`AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_STS`, `endpoint_url`)".into(),
            ],
            Error::Unrepresentable { .. } => vec!["use `--format sh`, `fish` or `json`, which can carry any value".into()],
            Error::CommandNotFound { .. } => vec!["check the spelling, or give the full path".into()],
            Error::ShellUnusable { var, profile, .. } => vec![
                format!("name the command to run: `assume-role exec {profile} -- bash`"),
                if *var == "SHELL" {
                    "or set `SHELL` to your shell's full path, e.g. `export SHELL=/bin/bash`".into()
                } else {
                    format!("or set `{var}` to your shell's full path")
                },
            ],
            Error::Federation { failure: RemoteFailure::Refused, profile, sent_duration, .. } => {
                let mut hints = Vec::new();
                if *sent_duration {
                    hints.push("AWS takes `SessionDuration` only for a role assumed from long-term keys: try without `--duration`".into());
                }
                hints.push(format!("the role's session may have been revoked: get a fresh one with `assume-role console {profile} --no-cache`"));
                hints
            }
            Error::Federation { failure: RemoteFailure::Unreachable, .. } => vec![
                "check the network: the sign-in endpoint is reached directly, not through `HTTPS_PROXY`".into(),
                format!("or point `{}` at a sign-in endpoint you can reach", crate::env_vars::ASSUME_ROLE_FEDERATION_ENDPOINT),
            ],
            Error::Federation { failure: RemoteFailure::BadAnswer, .. } => vec![
                format!("try again shortly; if `{}` is set, check that it names an AWS sign-in endpoint (`https://signin.aws.amazon.com/federation`)", crate::env_vars::ASSUME_ROLE_FEDERATION_ENDPOINT),
            ],
            Error::ConsoleUnavailable { profile, .. } => vec![
                format!("AWS offers console sign-in by federation in `aws`, `aws-cn` and `aws-us-gov` only; give a region there with `--region`, or sign in to this partition's console as its own documentation says (profile `{profile}`)"),
            ],
            Error::ConsoleNeedsRole { profile } => vec![
                format!("use a profile that assumes a role (`role_arn` with `source_profile`), e.g. one that has profile `{profile}` as its `source_profile`"),
                "an IAM user signs in to its own console with its password, not its keys".into(),
            ],
            Error::Browser { .. } => vec![
                format!("install the browser, or point `{}` at its executable", crate::env_vars::ASSUME_ROLE_BROWSER_PATH),
                "or choose another with `--browser` (`default` uses `$BROWSER`, else the system's opener)".into(),
                "or pass `--print` and open the URL yourself (it works for 15 minutes, and it is a credential: do not paste it anywhere else)".into(),
            ],
            Error::NotInSession => vec![
                "start one in this shell: `assume PROFILE` (set up with `eval \"$(assume-role init bash)\"`, or `zsh`, `fish`, `powershell`)".into(),
                "or start a shell inside one: `assume-role exec PROFILE`".into(),
            ],
            Error::NoSession => vec![
                "name a profile: `assume-role whoami PROFILE`".into(),
                "or ask inside a session: `assume-role exec PROFILE -- assume-role whoami`".into(),
            ],
            Error::Identity { failure: RemoteFailure::Refused, .. } => vec![
                "the credentials have expired or were revoked: get fresh ones, e.g. `assume-role whoami PROFILE --no-cache`, or start a new session".into(),
            ],
            Error::Identity { .. } => vec![
                "check the network, a proxy (`HTTPS_PROXY`), or an endpoint override (`AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_STS`)".into(),
            ],
            Error::ServerStart(_) => vec!["the loopback interface must be up, and the process allowed to open a listening socket (a sandbox may forbid it); plain `exec` needs neither".into()],
            Error::ServerWithoutSession { profile } => vec![
                format!("run it without `--server`: `assume-role exec {profile} -- …` hands the keys over as they are"),
                format!("or give profile `{profile}` a `role_arn`: a role's sessions expire, and `--server` renews them"),
            ],
            Error::NoProfileMatches { suggestions, .. } => {
                let mut hints = Vec::new();
                if !suggestions.is_empty() {
                    let names: Vec<String> = suggestions.iter().map(|s| format!("`{s}`")).collect();
                    hints.push(format!("did you mean {}?", names.join(", ")));
                }
                hints.push("`assume-role list` shows the profiles there are; quote a pattern so that the shell does not expand it".into());
                hints
            }
            Error::MfaNotCollected { profile, .. } => vec![format!(
                "run it again (it asks for every code it needs before it starts), or alone: `assume-role exec {profile} -- …`"
            )],
            Error::InvalidValue { .. }
            | Error::CommandNotExecutable { .. }
            | Error::Output(_)
            | Error::Random(_)
            | Error::Runtime(_) => vec![],
        }
    }
}

fn sts_hints(
    failure: &StsFailure,
    role_arn: &str,
    sent_external_id: bool,
    sent_mfa: bool,
    profile: &str,
    source_profile: Option<&str>,
) -> Vec<String> {
    match failure {
        StsFailure::AccessDenied => {
            let mut hints = Vec::new();
            if sent_external_id {
                hints.push(format!("the external ID is case-sensitive and must match the client's trust policy exactly; check `external_id` in profile `{profile}`"));
            } else {
                hints.push(format!("no external ID was sent; if the client gave you one, add `external_id = …` to profile `{profile}`"));
            }
            if !sent_mfa {
                hints.push(format!("the trust policy may require MFA; add `mfa_serial = arn:aws:iam::<your account>:mfa/<device>` to profile `{profile}`"));
            }
            let who = source_profile.map_or_else(|| "your identity".to_owned(), |p| format!("the identity of profile `{p}`"));
            hints.push(format!("{who} needs an IAM policy allowing `sts:AssumeRole` on `{role_arn}`"));
            hints.push("the trust policy's `Principal` may not include your account, user or role".into());
            hints
        }
        StsFailure::BadSourceKeys => vec![format!(
            "the source access keys{} are wrong or deactivated; check them with `aws sts get-caller-identity`, or rotate them",
            source_profile.map(|p| format!(" of profile `{p}`")).unwrap_or_default()
        )],
        StsFailure::ExpiredToken => vec![
            "the source credentials have expired; refresh them (for SSO, `aws sso login`) and try again".into(),
        ],
        StsFailure::DurationTooLong => vec![format!(
            "ask for less with `--duration` or `duration_seconds`, or have the client raise the role's MaxSessionDuration"
        )],
        StsFailure::ChainingLimit => vec![
            "AWS caps a role assumed from another role's credentials (a chain, SSO, an instance profile) at 1h: ask for `--duration 1h` or less".into(),
        ],
        StsFailure::RegionDisabled => vec!["activate STS in that region in the IAM console, or choose another with `--region`".into()],
        StsFailure::Throttled => vec![format!(
            "STS limits the request rate per account; it was tried {} times with backoff. Wait a minute, or run fewer at once (cached sessions need no call: drop `--no-cache`)",
            crate::sts::MAX_ATTEMPTS
        )],
        StsFailure::Unavailable => vec![format!(
            "STS answered with a server error {} times; try again shortly, or another region with `--region`",
            crate::sts::MAX_ATTEMPTS
        )],
        StsFailure::Other => vec![],
    }
}

/// An error and its causes as one line, `outer: inner: root`, skipping a cause whose text its
/// wrapper already repeats. The SDK's own `DisplayErrorContext` appends a `Debug` dump, which
/// is for developers, not for the person at the terminal.
pub fn causes(err: &dyn std::error::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut current = Some(err);
    while let Some(e) = current {
        let text = e.to_string();
        if !parts.last().is_some_and(|last| last.contains(&text)) {
            parts.push(text);
        }
        current = e.source();
    }
    parts.join(": ")
}

/// The innermost error's text: for a refused connection that is "Connection refused", not the
/// SDK's layers of wrapping (whose outer text may quote a whole request).
pub fn root_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut current = err;
    while let Some(next) = current.source() {
        current = next;
    }
    match current
        .downcast_ref::<std::io::Error>()
        .map(std::io::Error::kind)
    {
        Some(std::io::ErrorKind::ConnectionRefused) => "the connection was refused".to_owned(),
        Some(std::io::ErrorKind::ConnectionReset) => "the connection was reset".to_owned(),
        Some(std::io::ErrorKind::TimedOut) => "the connection timed out".to_owned(),
        // "(os error 111)" means nothing to a person; the words before it do.
        _ => {
            let text = current.to_string();
            match text.rfind(" (os error ") {
                Some(at) if text.ends_with(')') => text[..at].to_owned(),
                _ => text,
            }
        }
    }
}
