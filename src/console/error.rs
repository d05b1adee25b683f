//! What can stop a console sign-in: the federation endpoint, a partition without one, a
//! profile without a role, or a browser that cannot be started.

use crate::aws::RemoteFailure;
use crate::exit::{Diagnose, Exit};

#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
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

    #[error(transparent)]
    Assume(#[from] crate::assume::AssumeError),

    #[error(transparent)]
    Invalid(#[from] crate::rules::InvalidValue),

    #[error(transparent)]
    InvalidEnv(#[from] crate::env_vars::InvalidEnvVar),
}

fn remote_verb(failure: RemoteFailure) -> &'static str {
    match failure {
        RemoteFailure::Refused => "refused",
        RemoteFailure::Unreachable => "could not be reached",
        RemoteFailure::BadAnswer => "failed",
    }
}

impl Diagnose for ConsoleError {
    fn exit(&self) -> Exit {
        match self {
            ConsoleError::Federation { failure, .. } => match failure {
                RemoteFailure::Refused => Exit::Denied,
                RemoteFailure::Unreachable | RemoteFailure::BadAnswer => Exit::Network,
            },
            ConsoleError::ConsoleUnavailable { .. }
            | ConsoleError::ConsoleNeedsRole { .. }
            | ConsoleError::Browser { .. } => Exit::Config,
            ConsoleError::Assume(e) => e.exit(),
            ConsoleError::Invalid(e) => e.exit(),
            ConsoleError::InvalidEnv(e) => e.exit(),
        }
    }

    fn hints(&self) -> Vec<String> {
        match self {
            ConsoleError::Federation { failure: RemoteFailure::Refused, profile, sent_duration, .. } => {
                let mut hints = Vec::new();
                if *sent_duration {
                    hints.push("AWS takes `SessionDuration` only for a role assumed from long-term keys: try without `--duration`".into());
                }
                hints.push(format!("the role's session may have been revoked: get a fresh one with `assume-role console {profile} --no-cache`"));
                hints
            }
            ConsoleError::Federation { failure: RemoteFailure::Unreachable, .. } => vec![
                "check the network: the sign-in endpoint is reached directly, not through `HTTPS_PROXY`".into(),
                format!("or point `{}` at a sign-in endpoint you can reach", crate::env_vars::ASSUME_ROLE_FEDERATION_ENDPOINT),
            ],
            ConsoleError::Federation { failure: RemoteFailure::BadAnswer, .. } => vec![
                format!("try again shortly; if `{}` is set, check that it names an AWS sign-in endpoint (`https://signin.aws.amazon.com/federation`)", crate::env_vars::ASSUME_ROLE_FEDERATION_ENDPOINT),
            ],
            ConsoleError::ConsoleUnavailable { profile, .. } => vec![
                format!("AWS offers console sign-in by federation in `aws`, `aws-cn` and `aws-us-gov` only; give a region there with `--region`, or sign in to this partition's console as its own documentation says (profile `{profile}`)"),
            ],
            ConsoleError::ConsoleNeedsRole { profile } => vec![
                format!("use a profile that assumes a role (`role_arn` with `source_profile`), e.g. one that has profile `{profile}` as its `source_profile`"),
                "an IAM user signs in to its own console with its password, not its keys".into(),
            ],
            ConsoleError::Browser { .. } => vec![
                format!("install the browser, or point `{}` at its executable", crate::env_vars::ASSUME_ROLE_BROWSER_PATH),
                "or choose another with `--browser` (`default` uses `$BROWSER`, else the system's opener)".into(),
                "or pass `--print` and open the URL yourself (it works for 15 minutes, and it is a credential: do not paste it anywhere else)".into(),
            ],
            ConsoleError::Assume(e) => e.hints(),
            ConsoleError::Invalid(e) => e.hints(),
            ConsoleError::InvalidEnv(e) => e.hints(),
        }
    }
}
