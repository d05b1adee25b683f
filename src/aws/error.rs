//! What the AWS calls' failures mean: refused (exit 5), unreachable or throttled (exit 6), or
//! answered by something that is not AWS. The hints depend on the call and on what was sent
//! (an external ID, an MFA code), so that "AccessDenied" points at the likely fix.

use crate::exit::{Diagnose, Exit};
use crate::rules::InvalidValue;

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

#[derive(Debug, thiserror::Error)]
pub enum AwsError {
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

    #[error("unexpected answer from STS at {endpoint} for profile `{profile}`: {detail}")]
    BadResponse {
        endpoint: String,
        profile: String,
        detail: String,
    },

    #[error("STS at `{endpoint}` {} the credentials of {who}: {detail}", remote_verb(*.failure))]
    Identity {
        /// `profile `x`` or `this session`.
        who: String,
        endpoint: String,
        detail: String,
        failure: RemoteFailure,
    },

    /// A call to IAM Identity Center (the OIDC service or the portal) that did not succeed.
    #[error("IAM Identity Center at `{endpoint}` {} {call}: {detail}", sso_verb(*.failure))]
    Sso {
        call: &'static str,
        failure: RemoteFailure,
        /// The service's error code (`UnauthorizedException`, `InvalidGrantException`, …).
        code: Option<String>,
        detail: String,
        endpoint: String,
    },

    #[error(transparent)]
    Invalid(#[from] InvalidValue),
}

fn sso_verb(failure: RemoteFailure) -> &'static str {
    match failure {
        RemoteFailure::Refused => "refused",
        RemoteFailure::Unreachable => "could not be reached for",
        RemoteFailure::BadAnswer => "failed",
    }
}

impl AwsError {
    /// The IAM Identity Center error code of a refused call, if this is one.
    pub fn sso_code(&self) -> Option<&str> {
        match self {
            AwsError::Sso {
                failure: RemoteFailure::Refused,
                code,
                ..
            } => code.as_deref(),
            _ => None,
        }
    }
}

fn remote_verb(failure: RemoteFailure) -> &'static str {
    match failure {
        RemoteFailure::Refused => "refused",
        RemoteFailure::Unreachable => "could not be reached",
        RemoteFailure::BadAnswer => "failed",
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

fn message_suffix(message: &str) -> String {
    if message.is_empty() {
        String::new()
    } else {
        format!(" ({message})")
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
            crate::aws::sts::MAX_ATTEMPTS
        )],
        StsFailure::Unavailable => vec![format!(
            "STS answered with a server error {} times; try again shortly, or another region with `--region`",
            crate::aws::sts::MAX_ATTEMPTS
        )],
        StsFailure::Other => vec![],
    }
}

impl AwsError {
    /// Hints for an STS error: the call, the code and what the hop sent decide them.
    fn sts_error_hints(&self) -> Vec<String> {
        let AwsError::Sts {
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
}

impl Diagnose for AwsError {
    fn exit(&self) -> Exit {
        match self {
            AwsError::Sts {
                failure: StsFailure::Throttled | StsFailure::Unavailable,
                ..
            }
            | AwsError::Unreachable { .. }
            | AwsError::BadResponse { .. } => Exit::Network,
            AwsError::Sts { .. } => Exit::Denied,
            AwsError::Identity { failure, .. } => match failure {
                RemoteFailure::Refused => Exit::Denied,
                RemoteFailure::Unreachable | RemoteFailure::BadAnswer => Exit::Network,
            },
            AwsError::Sso { failure, .. } => match failure {
                RemoteFailure::Refused => Exit::Denied,
                RemoteFailure::Unreachable | RemoteFailure::BadAnswer => Exit::Network,
            },
            AwsError::Invalid(e) => e.exit(),
        }
    }

    fn hints(&self) -> Vec<String> {
        match self {
            AwsError::Sts { .. } => self.sts_error_hints(),
            AwsError::Unreachable { .. } => vec![
                "check the network, a proxy (`HTTPS_PROXY`), or an endpoint override (`AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_STS`, `endpoint_url`)".into(),
            ],
            AwsError::BadResponse { .. } => vec![
                "check the endpoint override (`AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_STS`, `endpoint_url`) or the proxy (`HTTPS_PROXY`): something other than STS answered".into(),
            ],
            AwsError::Identity { failure: RemoteFailure::Refused, .. } => vec![
                "the credentials have expired or were revoked: get fresh ones, e.g. `assume-role whoami PROFILE --no-cache`, or start a new session".into(),
            ],
            AwsError::Identity { .. } => vec![
                "check the network, a proxy (`HTTPS_PROXY`), or an endpoint override (`AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_STS`)".into(),
            ],
            AwsError::Sso { failure: RemoteFailure::Refused, .. } => vec![],
            AwsError::Sso { .. } => vec![
                "check the network, a proxy (`HTTPS_PROXY`), or an endpoint override (`AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_SSO`, `AWS_ENDPOINT_URL_SSO_OIDC`)".into(),
            ],
            AwsError::Invalid(e) => e.hints(),
        }
    }
}
