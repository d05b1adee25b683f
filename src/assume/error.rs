//! The engine's error: what can stop a plan from becoming credentials. Its own variants are
//! about the run (a session too short for `--min-valid`, source credentials that cannot be
//! had); the rest are the lower layers' errors, passed through unchanged.

use crate::exit::{Diagnose, Exit};
use std::path::PathBuf;

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

#[derive(Debug, thiserror::Error)]
pub enum AssumeError {
    /// The run that held the lock this one waited for failed; this is its answer.
    #[error(
        "another assume-role run for profile `{profile}`, which this one waited for, failed: {message}"
    )]
    HolderFailed {
        profile: String,
        message: String,
        exit: u8,
    },

    #[error("`--min-valid {}` cannot be met: {}", crate::duration::display(*.wanted), min_valid_reason(.profile, *.available, *.cap))]
    MinValid {
        profile: String,
        available: std::time::Duration,
        wanted: std::time::Duration,
        cap: MinValidCap,
    },

    #[error(
        "profile `{profile}` takes its source credentials from the environment (`credential_source = Environment`), but `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` are not both set"
    )]
    EnvironmentCredentialsMissing { profile: String },

    #[error(
        "profile `{profile}` takes its source credentials from the environment, but they belong to the assume-role session of profile `{outer}`"
    )]
    OuterSessionAsSource { profile: String, outer: String },

    #[error("cannot get the source credentials of profile `{profile}` ({kind}): {detail}")]
    SourceCredentials {
        profile: String,
        kind: &'static str,
        detail: String,
        /// The source could not be reached at all, as opposed to refusing.
        unreachable: bool,
    },

    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),

    #[error("cannot get random bytes from the operating system: {0}")]
    Random(String),

    #[error("cannot read the audit log `{}`: {source}", .path.display())]
    AuditLog {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),

    #[error(transparent)]
    Settings(#[from] crate::settings::SettingsError),

    #[error(transparent)]
    Aws(#[from] crate::aws::AwsError),

    #[error(transparent)]
    Cache(#[from] crate::cache::CacheError),

    #[error(transparent)]
    Mfa(#[from] crate::mfa::MfaError),

    #[error(transparent)]
    Process(#[from] crate::process::ProcessError),

    #[error(transparent)]
    Keys(#[from] crate::keystore::KeyError),

    #[error(transparent)]
    Sso(#[from] crate::sso::SsoError),

    #[error(transparent)]
    Invalid(#[from] crate::rules::InvalidValue),

    #[error(transparent)]
    InvalidEnv(#[from] crate::env_vars::InvalidEnvVar),
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

impl Diagnose for AssumeError {
    fn exit(&self) -> Exit {
        match self {
            AssumeError::MinValid { .. }
            | AssumeError::EnvironmentCredentialsMissing { .. }
            | AssumeError::OuterSessionAsSource { .. } => Exit::Config,
            AssumeError::SourceCredentials {
                unreachable: true, ..
            } => Exit::Network,
            AssumeError::SourceCredentials { .. } => Exit::Denied,
            AssumeError::Runtime(_) | AssumeError::Random(_) | AssumeError::AuditLog { .. } => {
                Exit::Failure
            }
            AssumeError::HolderFailed { exit, .. } => Exit::from_code(*exit),
            AssumeError::Config(e) => e.exit(),
            AssumeError::Settings(e) => e.exit(),
            AssumeError::Aws(e) => e.exit(),
            AssumeError::Cache(e) => e.exit(),
            AssumeError::Mfa(e) => e.exit(),
            AssumeError::Process(e) => e.exit(),
            AssumeError::Keys(e) => e.exit(),
            AssumeError::Sso(e) => e.exit(),
            AssumeError::Invalid(e) => e.exit(),
            AssumeError::InvalidEnv(e) => e.exit(),
        }
    }

    fn hints(&self) -> Vec<String> {
        match self {
            AssumeError::HolderFailed { .. } => vec![
                "it was the same request, so it failed the same way; fix what it says, then run again (`-v` shows more)".into(),
            ],
            AssumeError::MinValid { cap: MinValidCap::Chained | MinValidCap::MfaSession, .. } => vec![
                "ask for at most 45m with `--min-valid` (a cached session is refreshed 15 minutes before it expires)".into(),
                "or, for longer sessions, assume the role from long-term keys with `--duration` (an MFA code then goes to AssumeRole directly)".into(),
            ],
            AssumeError::MinValid { wanted, .. } => vec![format!(
                "ask for a longer session, e.g. `--duration {}` (up to the role's MaxSessionDuration, at most 12h), or for less with `--min-valid`",
                crate::duration::display(*wanted + std::time::Duration::from_mins(30))
            )],
            AssumeError::EnvironmentCredentialsMissing { .. } => vec!["export `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY`, or use `source_profile` instead".into()],
            AssumeError::OuterSessionAsSource { .. } => vec!["run it outside that session, or give the profile a `source_profile` with long-term keys".into()],
            AssumeError::SourceCredentials { profile, kind, .. } => source_hints(kind, profile),
            AssumeError::AuditLog { .. } => vec![
                "check the permissions of the file and its directory, or point `ASSUME_ROLE_STATE_DIR` elsewhere".into(),
            ],
            AssumeError::Runtime(_) | AssumeError::Random(_) => vec![],
            AssumeError::Config(e) => e.hints(),
            AssumeError::Settings(e) => e.hints(),
            AssumeError::Aws(e) => e.hints(),
            AssumeError::Cache(e) => e.hints(),
            AssumeError::Mfa(e) => e.hints(),
            AssumeError::Process(e) => e.hints(),
            AssumeError::Keys(e) => e.hints(),
            AssumeError::Sso(e) => e.hints(),
            AssumeError::Invalid(e) => e.hints(),
            AssumeError::InvalidEnv(e) => e.hints(),
        }
    }
}
