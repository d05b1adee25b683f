//! What can stop the client's kit: a role with no permissions, or a template that cannot be
//! published to the contractor's bucket.

use crate::exit::{Diagnose, Exit};

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
pub enum OnboardError {
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

    #[error(transparent)]
    Assume(#[from] crate::assume::AssumeError),

    #[error(transparent)]
    Invalid(#[from] crate::rules::InvalidValue),
}

impl Diagnose for OnboardError {
    fn exit(&self) -> Exit {
        match self {
            OnboardError::Publish { failure, .. } => match failure {
                PublishFailure::Unreachable => Exit::Network,
                PublishFailure::NoSuchBucket => Exit::Config,
                PublishFailure::AccessDenied | PublishFailure::Other => Exit::Denied,
            },
            OnboardError::NoPermissions => Exit::Config,
            OnboardError::Assume(e) => e.exit(),
            OnboardError::Invalid(e) => e.exit(),
        }
    }

    fn hints(&self) -> Vec<String> {
        match self {
            OnboardError::Publish { failure: PublishFailure::NoSuchBucket, bucket, profile, .. } => vec![
                format!("create it (`aws s3 mb s3://{bucket} --profile {profile}`), or name a bucket of your own with `--bucket`"),
            ],
            OnboardError::Publish { failure: PublishFailure::Unreachable, .. } => vec![
                "check the network, a proxy (`HTTPS_PROXY`), or an endpoint override (`AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_S3`, `endpoint_url`)".into(),
            ],
            OnboardError::Publish { profile, .. } => vec![
                format!("the bucket must be in your own account, and profile `{profile}` must be allowed `s3:PutObject` and `s3:GetObject` on it"),
            ],
            OnboardError::NoPermissions => vec![
                "attach a policy with `--managed-policy NAME|ARN` (e.g. `ReadOnlyAccess`; repeatable)".into(),
                "or pass `--no-permissions` if the client will attach policies to the role itself".into(),
            ],
            OnboardError::Assume(e) => e.hints(),
            OnboardError::Invalid(e) => e.hints(),
        }
    }
}
