//! The four IAM calls `keys rotate` makes, and what their failures mean. The client is built
//! from the STS client's settings ([`crate::aws::sts::Sts::sdk_config`]), so the same endpoint
//! overrides (`AWS_ENDPOINT_URL_IAM`, `AWS_ENDPOINT_URL`, a profile's `endpoint_url` or
//! `[services]`), bounded timeouts and bounded retries apply.

use crate::aws::AwsError;
use crate::aws::RemoteFailure;
use crate::aws::sdk_error;
use crate::aws::sts::Sts;
use crate::context::Context;
use crate::credentials::Credentials;
use crate::secret::{Secret, mask_access_key};
use aws_sdk_iam::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_types::retry::RetryConfig;

/// IAM is one global endpoint per partition; this is the one for messages when nothing
/// overrides it.
const DEFAULT_ENDPOINT: &str = "https://iam.amazonaws.com";

/// One IAM call that did not succeed: which, how, and what IAM said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IamFailure {
    pub call: &'static str,
    pub failure: RemoteFailure,
    /// IAM's error code (`AccessDenied`, `LimitExceeded`), when it answered with one.
    pub code: Option<String>,
    pub detail: String,
    pub endpoint: String,
}

impl std::fmt::Display for IamFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let verb = match self.failure {
            RemoteFailure::Refused => "refused",
            RemoteFailure::Unreachable => "could not be reached for",
            RemoteFailure::BadAnswer => "failed",
        };
        write!(
            f,
            "IAM at `{}` {verb} {}: {}",
            self.endpoint, self.call, self.detail
        )
    }
}

impl IamFailure {
    pub fn is_access_denied(&self) -> bool {
        self.code
            .as_deref()
            .is_some_and(|c| c.starts_with("AccessDenied"))
    }
}

/// The user a key belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub name: String,
    pub arn: String,
}

/// One access key of a user, as `ListAccessKeys` shows it: nothing secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyInfo {
    pub access_key_id: String,
    /// `Active` or `Inactive`.
    pub status: String,
    /// When IAM made it, in seconds since the Unix epoch.
    pub created: Option<i64>,
}

/// A key `CreateAccessKey` just made.
pub struct NewKey {
    pub access_key_id: String,
    pub secret_access_key: Secret,
}

impl std::fmt::Debug for NewKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewKey")
            .field("access_key_id", &mask_access_key(&self.access_key_id))
            .finish_non_exhaustive()
    }
}

pub struct Iam {
    config: aws_sdk_iam::Config,
    endpoint: String,
}

impl Iam {
    /// The IAM client for this run, from the STS client's settings. A malformed
    /// `AWS_ENDPOINT_URL_IAM` is named here rather than failing deep in the SDK.
    pub fn new(sts: &Sts, ctx: &Context) -> Result<Self, AwsError> {
        if let Some(value) = &ctx.env.endpoint_url_iam
            && let Err(reason) = crate::aws::sts::check_endpoint(value)
        {
            return Err(crate::rules::InvalidValue {
                profile: None,
                key: crate::env_vars::AWS_ENDPOINT_URL_IAM.into(),
                what: "endpoint URL",
                value: value.clone(),
                reason: reason.into(),
            }
            .into());
        }
        let sdk = sts.sdk_config();
        let endpoint = crate::aws::sts::configured_endpoint(sdk, "IAM")
            .unwrap_or_else(|| DEFAULT_ENDPOINT.to_owned());
        Ok(Self {
            config: aws_sdk_iam::config::Builder::from(sdk).build(),
            endpoint,
        })
    }

    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// A client signing with `creds`. `retry: false` for a call that must not be sent twice.
    fn client(&self, creds: &Credentials, retry: bool) -> aws_sdk_iam::Client {
        let mut conf = self
            .config
            .to_builder()
            .credentials_provider(creds.to_sdk());
        if !retry {
            conf = conf.retry_config(RetryConfig::disabled());
        }
        aws_sdk_iam::Client::from_conf(conf.build())
    }

    /// `GetUser` without a name: the user `creds` belong to.
    pub async fn get_user(&self, creds: &Credentials) -> Result<User, IamFailure> {
        tracing::info!(access_key = %mask_access_key(&creds.access_key_id), endpoint = %self.endpoint, "GetUser");
        let output = self
            .client(creds, true)
            .get_user()
            .send()
            .await
            .map_err(|e| self.failure("GetUser", &e))?;
        let user = output
            .user()
            .ok_or_else(|| self.empty("GetUser", "no user"))?;
        Ok(User {
            name: user.user_name().to_owned(),
            arn: user.arn().to_owned(),
        })
    }

    /// `ListAccessKeys` of `user`. A user has at most two keys, so one page is all of them;
    /// a truncated answer is followed anyway, a bounded number of times.
    pub async fn list_access_keys(
        &self,
        creds: &Credentials,
        user: &str,
    ) -> Result<Vec<KeyInfo>, IamFailure> {
        tracing::info!(user, endpoint = %self.endpoint, "ListAccessKeys");
        let client = self.client(creds, true);
        let mut keys = Vec::new();
        let mut marker: Option<String> = None;
        for _ in 0..10 {
            let output = client
                .list_access_keys()
                .user_name(user)
                .set_marker(marker.take())
                .send()
                .await
                .map_err(|e| self.failure("ListAccessKeys", &e))?;
            keys.extend(output.access_key_metadata().iter().filter_map(|k| {
                Some(KeyInfo {
                    access_key_id: k.access_key_id()?.to_owned(),
                    status: k
                        .status()
                        .map(|s| s.as_str().to_owned())
                        .unwrap_or_default(),
                    created: k.create_date().map(aws_smithy_types::DateTime::secs),
                })
            }));
            match output.marker() {
                Some(next) if output.is_truncated() => marker = Some(next.to_owned()),
                _ => break,
            }
        }
        Ok(keys)
    }

    /// `CreateAccessKey` for `user`. Never retried: if IAM made the key and only the answer
    /// was lost, a retry would make a second one (or hit the two-key limit), and the first
    /// one's secret would be gone for good.
    pub async fn create_access_key(
        &self,
        creds: &Credentials,
        user: &str,
    ) -> Result<NewKey, IamFailure> {
        tracing::info!(user, endpoint = %self.endpoint, "CreateAccessKey");
        let output = self
            .client(creds, false)
            .create_access_key()
            .user_name(user)
            .send()
            .await
            .map_err(|e| self.failure("CreateAccessKey", &e))?;
        let key = output
            .access_key()
            .ok_or_else(|| self.empty("CreateAccessKey", "no key"))?;
        let new = NewKey {
            access_key_id: key.access_key_id().to_owned(),
            secret_access_key: Secret::new(key.secret_access_key()),
        };
        tracing::info!(access_key = %mask_access_key(&new.access_key_id), "created");
        Ok(new)
    }

    /// `DeleteAccessKey`: deleting one that is already gone is as good as done.
    pub async fn delete_access_key(
        &self,
        creds: &Credentials,
        user: &str,
        access_key_id: &str,
    ) -> Result<(), IamFailure> {
        tracing::info!(user, access_key = %mask_access_key(access_key_id), endpoint = %self.endpoint, "DeleteAccessKey");
        match self
            .client(creds, true)
            .delete_access_key()
            .user_name(user)
            .access_key_id(access_key_id)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => {
                let failure = self.failure("DeleteAccessKey", &e);
                if failure.code.as_deref() == Some("NoSuchEntity") {
                    return Ok(());
                }
                Err(failure)
            }
        }
    }

    fn empty(&self, call: &'static str, what: &str) -> IamFailure {
        IamFailure {
            call,
            failure: RemoteFailure::BadAnswer,
            code: None,
            detail: format!("the answer carried {what}"),
            endpoint: self.endpoint.clone(),
        }
    }

    /// What went wrong, without the SDK's Debug dump (which holds the raw request and body).
    fn failure<E: ProvideErrorMetadata + std::error::Error + 'static>(
        &self,
        call: &'static str,
        err: &SdkError<E, aws_smithy_runtime_api::http::Response>,
    ) -> IamFailure {
        let (failure, code, detail) = sdk_error::remote(sdk_error::classify(call, err), "IAM");
        // IAM's messages name users and ARNs, never secrets; access key IDs in them are masked
        // all the same.
        let detail = crate::secret::mask_access_keys_in(&detail);
        IamFailure {
            call,
            failure,
            code,
            detail,
            endpoint: self.endpoint.clone(),
        }
    }
}

/// The user name in an IAM user ARN (`arn:aws:iam::123456789012:user/path/name`), for when
/// `GetUser` is denied: `GetCallerIdentity` needs no permission and names the same user.
pub fn user_name_of(arn: &str) -> Option<&str> {
    let resource = arn.split(':').nth(5)?;
    let path = resource.strip_prefix("user/")?;
    path.rsplit('/').next().filter(|n| !n.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_names_come_from_user_arns_only() {
        assert_eq!(
            user_name_of("arn:aws:iam::111111111111:user/contractor"),
            Some("contractor")
        );
        assert_eq!(
            user_name_of("arn:aws:iam::111111111111:user/team/a/bob"),
            Some("bob")
        );
        assert_eq!(
            user_name_of("arn:aws:sts::111111111111:assumed-role/r/s"),
            None
        );
        assert_eq!(user_name_of("arn:aws:iam::111111111111:root"), None);
        assert_eq!(user_name_of("nonsense"), None);
    }
}
