//! Why there is no usable MFA code: no terminal to ask on, a malformed or reused code, a
//! `mfa_process` that failed. All exit 4, so a script can tell "ask the person" apart.

use crate::exit::{Diagnose, Exit};
use crate::process::ProcessError;

#[derive(Debug, thiserror::Error)]
pub enum MfaError {
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

    #[error("the MFA code from {origin} was already used for `{serial}` in the last 30 seconds")]
    MfaCodeReused { origin: String, serial: String },

    #[error(
        "profile `{profile}` needs an MFA code for `{serial}` (at `{hop}`) that was not asked for up front: a cached session it was to use has gone since"
    )]
    MfaNotCollected {
        profile: String,
        hop: String,
        serial: String,
    },

    #[error(transparent)]
    Process(#[from] ProcessError),
}

impl Diagnose for MfaError {
    fn exit(&self) -> Exit {
        match self {
            MfaError::Process(e) => e.exit(),
            _ => Exit::Mfa,
        }
    }

    fn hints(&self) -> Vec<String> {
        match self {
            MfaError::MfaUnavailable { .. } => vec![
                "pass the code with `--mfa-token 123456`".into(),
                "or set `mfa_process` in the profile to a command that prints the code".into(),
                "or run it from a terminal, where it asks for the code".into(),
            ],
            MfaError::MfaSecondCode { hop, .. } => vec![
                "run it from a terminal: it asks for each code in turn (a second code from the same device means waiting for its next one, up to 30 seconds)".into(),
                format!("or set `mfa_process` in profile `{hop}`: it is asked again until it shows the next code"),
            ],
            MfaError::MfaMalformed { .. } => vec!["an MFA code is the 6 digits your authenticator shows now".into()],
            MfaError::MfaProcess { profile, .. } => vec![format!("run the `mfa_process` command of profile `{profile}` by hand to see what it prints; it must print the 6-digit code")],
            MfaError::Prompt(_) => vec!["pass the code with `--mfa-token`, or set `mfa_process`".into()],
            MfaError::MfaCodeReused { .. } => vec!["AWS refuses a code used twice: wait for your authenticator to show the next code".into()],
            MfaError::MfaNotCollected { profile, .. } => vec![format!(
                "run it again (it asks for every code it needs before it starts), or alone: `assume-role exec {profile} -- …`"
            )],
            MfaError::Process(e) => e.hints(),
        }
    }
}
