//! What can go wrong with a program we start: a helper (`mfa_process`, `credential_process`)
//! that fails or never answers, or a command that does not exist or cannot run.

use crate::env_vars::InvalidEnvVar;
use crate::exit::{Diagnose, Exit};
use crate::process::HelperKind;

#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    /// A helper that ran but failed; `reason` names the program only, never its arguments,
    /// which may hold a TOTP seed or a password. Worded as the setting's own failure.
    #[error("{}", failed_text(*.kind, .profile, .reason))]
    HelperFailed {
        kind: HelperKind,
        profile: String,
        reason: String,
    },

    #[error("{kind} of profile `{profile}` (`{program}`) did not finish within {}; it was stopped", crate::duration::display(*.waited))]
    HelperTimeout {
        kind: crate::process::HelperKind,
        profile: String,
        /// The program only: its arguments may hold a TOTP seed or a password.
        program: String,
        waited: std::time::Duration,
    },

    #[error("command `{program}` not found")]
    CommandNotFound { program: String },

    #[error("cannot run `{program}`: {source}")]
    CommandNotExecutable {
        program: String,
        source: std::io::Error,
    },

    #[error(transparent)]
    InvalidEnv(#[from] InvalidEnvVar),
}

fn failed_text(kind: HelperKind, profile: &str, reason: &str) -> String {
    match kind {
        HelperKind::MfaProcess => format!("`mfa_process` of profile `{profile}` failed: {reason}"),
        HelperKind::CredentialProcess => format!(
            "cannot get the source credentials of profile `{profile}` (credential_process): {reason}"
        ),
    }
}

impl Diagnose for ProcessError {
    fn exit(&self) -> Exit {
        match self {
            ProcessError::HelperFailed {
                kind: HelperKind::MfaProcess,
                ..
            }
            | ProcessError::HelperTimeout {
                kind: HelperKind::MfaProcess,
                ..
            } => Exit::Mfa,
            ProcessError::HelperFailed {
                kind: HelperKind::CredentialProcess,
                ..
            } => Exit::Denied,
            // A helper that never answered is like a source that cannot be reached: waiting
            // longer or trying again may work, which exit 5 (refused) would say it cannot.
            ProcessError::HelperTimeout {
                kind: HelperKind::CredentialProcess,
                ..
            } => Exit::Network,
            ProcessError::CommandNotFound { .. } => Exit::NotFound,
            ProcessError::CommandNotExecutable { .. } => Exit::NotExecutable,
            ProcessError::InvalidEnv(e) => e.exit(),
        }
    }

    fn hints(&self) -> Vec<String> {
        match self {
            ProcessError::HelperFailed {
                kind: HelperKind::MfaProcess,
                profile,
                ..
            } => vec![format!(
                "run the `mfa_process` command of profile `{profile}` by hand to see what it prints; it must print the 6-digit code"
            )],
            ProcessError::HelperFailed { profile, .. } => vec![format!(
                "run the `credential_process` command of profile `{profile}` by hand; it must print credential JSON"
            )],
            ProcessError::HelperTimeout { kind, profile, .. } => vec![
                format!(
                    "run the {kind} command of profile `{profile}` by hand to see what it waits for"
                ),
                format!(
                    "if it needs longer (to unlock a password manager or touch a hardware key), raise `{}`, e.g. `{}=2m`",
                    crate::env_vars::ASSUME_ROLE_PROCESS_TIMEOUT,
                    crate::env_vars::ASSUME_ROLE_PROCESS_TIMEOUT
                ),
            ],
            ProcessError::CommandNotFound { .. } => {
                vec!["check the spelling, or give the full path".into()]
            }
            ProcessError::CommandNotExecutable { .. } => vec![],
            ProcessError::InvalidEnv(e) => e.hints(),
        }
    }
}
