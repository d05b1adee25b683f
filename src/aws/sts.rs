//! The STS calls and what their failures mean. The client is built through the `aws_config`
//! loader so that `AWS_ENDPOINT_URL_STS`, `AWS_ENDPOINT_URL`, a profile's `endpoint_url` and
//! proxy settings apply exactly as for every other SDK; region and credentials are always given
//! explicitly, so the loader never probes instance metadata.

use crate::aws::AwsError;
use crate::aws::StsCall;
use crate::aws::StsFailure;
use crate::aws::sdk_error::{self, Answer, Failure};
use crate::config::{Hop, Plan};
use crate::context::Context;
use crate::credentials::{Credentials, account_from_arn};
use crate::secret::{OneTimeCode, Secret, mask_access_key};
use aws_config::{BehaviorVersion, SdkConfig};
use aws_runtime::env_config::file::{EnvConfigFileKind, EnvConfigFiles};
use aws_sdk_sts::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_types::retry::RetryConfig;
use aws_smithy_types::timeout::TimeoutConfig;
use aws_types::region::Region;
use std::time::{Duration, SystemTime};

/// How many times one call is tried when STS throttles it or fails with a 5xx; all within the
/// operation timeout. A call that carries a one-time code is tried once.
pub const MAX_ATTEMPTS: u32 = 3;

/// Shared settings for every STS call of one run.
pub struct Sts {
    config: SdkConfig,
    endpoint: String,
}

impl Sts {
    /// The plan's profile selects which profile's `endpoint_url` and service settings apply.
    /// Without such settings the loader is given no files: it would only parse them again to
    /// find nothing, which costs as much as the first parse on a large config. Endpoint
    /// overrides are checked first, so that a malformed one is named rather than failing deep
    /// in the SDK.
    pub async fn new(plan: &Plan, ctx: &Context) -> Result<Self, AwsError> {
        check_endpoints(plan, ctx)?;
        let (profile, region) = (plan.profile.as_str(), plan.region.as_str());
        let sdk_settings = plan.sdk_settings.is_some();
        tracing::trace!("building the STS client");
        let mut loader = aws_config::defaults(BehaviorVersion::latest()).env(ctx.env.sdk_env());
        if !sdk_settings {
            loader = loader.profile_files(
                EnvConfigFiles::builder()
                    .with_contents(EnvConfigFileKind::Config, "")
                    .build(),
            );
        }
        let config = loader
            .profile_name(profile)
            .region(Region::new(region.to_owned()))
            .no_credentials()
            // A credential tool must answer, not hang: a dead endpoint fails within seconds.
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(3))
                    .operation_attempt_timeout(Duration::from_secs(5))
                    .operation_timeout(Duration::from_secs(12))
                    .build(),
            )
            // Throttling and 5xx answers are retried with backoff, a bounded number of times;
            // then the run fails and says so (see `classify`).
            .retry_config(
                RetryConfig::standard()
                    .with_max_attempts(MAX_ATTEMPTS)
                    .with_initial_backoff(Duration::from_millis(500)),
            )
            .load()
            .await;
        let endpoint =
            configured_endpoint(&config, "STS").unwrap_or_else(|| default_endpoint(region));
        Ok(Self { config, endpoint })
    }

    /// A client signing with `source`. A request that carries a one-time code is never retried:
    /// if STS accepted it and only the answer was lost, a retry would send a used code and be
    /// refused with a misleading `AccessDenied`.
    fn client(&self, source: &Credentials, one_time_code: bool) -> aws_sdk_sts::Client {
        let mut conf =
            aws_sdk_sts::config::Builder::from(&self.config).credentials_provider(source.to_sdk());
        if one_time_code {
            conf = conf.retry_config(RetryConfig::disabled());
        }
        aws_sdk_sts::Client::from_conf(conf.build())
    }

    /// One `AssumeRole` call for `hop`, signed with `source`.
    pub async fn assume_role(
        &self,
        source: &Credentials,
        source_profile: &str,
        hop: &Hop,
        token_code: Option<&OneTimeCode>,
    ) -> Result<Credentials, AwsError> {
        tracing::info!(
            role_arn = %hop.role_arn,
            profile = %hop.profile,
            source = %mask_access_key(&source.access_key_id),
            session_name = %hop.session_name,
            external_id = hop.external_id.is_some(),
            mfa = hop.mfa.is_some(),
            duration = ?hop.duration.map(|d| d.as_secs()),
            endpoint = %self.endpoint,
            "AssumeRole"
        );
        let request = self
            .client(source, token_code.is_some())
            .assume_role()
            .role_arn(&hop.role_arn)
            .role_session_name(&hop.session_name)
            .set_external_id(hop.external_id.clone())
            .set_serial_number(hop.mfa.as_ref().map(|m| m.serial.clone()))
            .set_token_code(token_code.map(|c| c.expose().to_owned()))
            .set_duration_seconds(
                hop.duration
                    .map(|d| i32::try_from(d.as_secs()).unwrap_or(i32::MAX)),
            )
            .set_source_identity(hop.source_identity.clone());
        let output = request
            .send()
            .await
            .map_err(|err| self.map_error(&err, StsCall::AssumeRole, hop, source_profile))?;
        let creds = output.credentials().ok_or_else(|| AwsError::Sts {
            call: StsCall::AssumeRole,
            failure: StsFailure::Other,
            code: "EmptyResponse".into(),
            message: "the response carried no credentials".into(),
            role_arn: hop.role_arn.clone(),
            profile: hop.profile.clone(),
            sent_external_id: hop.external_id.is_some(),
            sent_mfa: hop.mfa.is_some(),
            source_profile: Some(source_profile.to_owned()),
        })?;
        let assumed_arn = output
            .assumed_role_user()
            .map(aws_sdk_sts::types::AssumedRoleUser::arn);
        let result = Credentials {
            access_key_id: creds.access_key_id().to_owned(),
            secret_access_key: Secret::new(creds.secret_access_key()),
            session_token: Some(Secret::new(creds.session_token())),
            expiration: SystemTime::try_from(*creds.expiration()).ok(),
            account_id: assumed_arn
                .and_then(account_from_arn)
                .or_else(|| account_from_arn(&hop.role_arn)),
        };
        tracing::info!(
            access_key = %mask_access_key(&result.access_key_id),
            assumed = assumed_arn.unwrap_or_default(),
            expiration = ?result.expiration.map(crate::credentials::rfc3339),
            "assumed"
        );
        Ok(result)
    }

    /// `GetSessionToken`: with an MFA code, the MFA session that lets later role assumptions
    /// skip the code; without one, the session a stored-key profile hands over in place of
    /// its long-term key.
    pub async fn get_session_token(
        &self,
        source: &Credentials,
        source_profile: &str,
        hop: &Hop,
        mfa: Option<(&str, &OneTimeCode)>,
        duration: std::time::Duration,
    ) -> Result<Credentials, AwsError> {
        tracing::info!(
            serial = %mfa.map_or("none", |(serial, _)| serial),
            source = %mask_access_key(&source.access_key_id),
            duration = duration.as_secs(),
            endpoint = %self.endpoint,
            "GetSessionToken"
        );
        let output = self
            .client(source, mfa.is_some())
            .get_session_token()
            .set_serial_number(mfa.map(|(serial, _)| serial.to_owned()))
            .set_token_code(mfa.map(|(_, code)| code.expose().to_owned()))
            .duration_seconds(i32::try_from(duration.as_secs()).unwrap_or(i32::MAX))
            .send()
            .await
            .map_err(|err| self.map_error(&err, StsCall::GetSessionToken, hop, source_profile))?;
        let creds = output.credentials().ok_or_else(|| AwsError::BadResponse {
            endpoint: self.endpoint.clone(),
            profile: hop.profile.clone(),
            detail: "GetSessionToken returned no credentials".into(),
        })?;
        Ok(Credentials {
            access_key_id: creds.access_key_id().to_owned(),
            secret_access_key: Secret::new(creds.secret_access_key()),
            session_token: Some(Secret::new(creds.session_token())),
            expiration: SystemTime::try_from(*creds.expiration()).ok(),
            account_id: None,
        })
    }

    fn map_error<E: ProvideErrorMetadata + std::error::Error + 'static>(
        &self,
        err: &SdkError<E, aws_smithy_runtime_api::http::Response>,
        call: StsCall,
        hop: &Hop,
        source_profile: &str,
    ) -> AwsError {
        let answer = match sdk_error::classify(call.name(), err) {
            Failure::Service(answer) | Failure::Unreadable(answer) => answer,
            unreachable => {
                return AwsError::Unreachable {
                    endpoint: self.endpoint.clone(),
                    role_arn: hop.role_arn.clone(),
                    profile: hop.profile.clone(),
                    detail: unreachable.unreachable_detail().unwrap_or_default(),
                };
            }
        };
        let Answer {
            status,
            code,
            message,
        } = answer;
        // A server error is STS failing, not refusing, whatever its body says (or fails to).
        let code = match (code, status) {
            (None, Some(status @ 500..)) => Some(format!("HTTP {status}")),
            (code, _) => code,
        };
        let Some(code) = code else {
            // No error code: not STS refusing, but something answering in a way we cannot read
            // (a proxy's page, an emulator's quirk). Its body may hold credentials, so it is
            // described by status alone.
            let detail = match status {
                Some(status) => {
                    format!("the answer (HTTP {status}) could not be read as an STS response")
                }
                None => "the answer could not be read as an STS response".to_owned(),
            };
            return AwsError::BadResponse {
                endpoint: self.endpoint.clone(),
                profile: hop.profile.clone(),
                detail,
            };
        };
        let failure = match status {
            Some(500..) => StsFailure::Unavailable,
            _ => classify(&code, &message),
        };
        AwsError::Sts {
            call,
            failure,
            code,
            message,
            role_arn: hop.role_arn.clone(),
            profile: hop.profile.clone(),
            sent_external_id: hop.external_id.is_some(),
            sent_mfa: hop.mfa.is_some(),
            source_profile: Some(source_profile.to_owned()),
        }
    }
}

/// What `GetCallerIdentity` says of a set of credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerIdentity {
    pub account: String,
    pub arn: String,
    pub user_id: String,
}

impl Sts {
    /// Where the calls go, for messages.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The settings every call shares (region, endpoint overrides, timeouts, retries, no
    /// credentials): the IAM client of `keys rotate` is built from them too.
    pub fn sdk_config(&self) -> &SdkConfig {
        &self.config
    }

    /// `GetCallerIdentity`, for `whoami`. It needs no permission, so a refusal means the
    /// credentials themselves are bad (expired, revoked, wrong). `who` names them in messages.
    pub async fn get_caller_identity(
        &self,
        creds: &Credentials,
        who: &str,
    ) -> Result<CallerIdentity, AwsError> {
        tracing::info!(
            access_key = %mask_access_key(&creds.access_key_id),
            endpoint = %self.endpoint,
            "GetCallerIdentity"
        );
        let output = self
            .client(creds, false)
            .get_caller_identity()
            .send()
            .await
            .map_err(|err| {
                let (failure, _, detail) =
                    sdk_error::remote(sdk_error::classify("GetCallerIdentity", &err), "STS");
                AwsError::Identity {
                    who: who.to_owned(),
                    endpoint: self.endpoint.clone(),
                    detail,
                    failure,
                }
            })?;
        Ok(CallerIdentity {
            account: output.account().unwrap_or_default().to_owned(),
            arn: output.arn().unwrap_or_default().to_owned(),
            user_id: output.user_id().unwrap_or_default().to_owned(),
        })
    }
}

fn classify(code: &str, message: &str) -> StsFailure {
    match code {
        "AccessDenied" | "AccessDeniedException" => StsFailure::AccessDenied,
        "InvalidClientTokenId"
        | "SignatureDoesNotMatch"
        | "InvalidToken"
        | "UnrecognizedClientException" => StsFailure::BadSourceKeys,
        "ExpiredToken" | "ExpiredTokenException" => StsFailure::ExpiredToken,
        "RegionDisabledException" => StsFailure::RegionDisabled,
        "Throttling"
        | "ThrottlingException"
        | "RequestLimitExceeded"
        | "TooManyRequestsException" => StsFailure::Throttled,
        "InternalFailure" | "ServiceUnavailable" | "InternalError" => StsFailure::Unavailable,
        "ValidationError" if message.contains("role chaining") => StsFailure::ChainingLimit,
        "ValidationError"
            if message.contains("DurationSeconds") || message.contains("MaxSessionDuration") =>
        {
            StsFailure::DurationTooLong
        }
        _ => StsFailure::Other,
    }
}

/// Checks every endpoint override that applies to this plan: `AWS_ENDPOINT_URL_STS`,
/// `AWS_ENDPOINT_URL`, and the profile's `endpoint_url`.
fn check_endpoints(plan: &Plan, ctx: &Context) -> Result<(), AwsError> {
    let from_profile = plan.sdk_settings.as_deref().and_then(|settings| {
        settings
            .lines()
            .find_map(|line| line.strip_prefix("endpoint_url="))
            .filter(|v| !v.is_empty())
    });
    for (profile, key, value) in [
        (
            None,
            crate::env_vars::AWS_ENDPOINT_URL_STS,
            ctx.env.endpoint_url_sts.as_deref(),
        ),
        (
            None,
            crate::env_vars::AWS_ENDPOINT_URL,
            ctx.env.endpoint_url.as_deref(),
        ),
        (Some(plan.profile.as_str()), "endpoint_url", from_profile),
    ] {
        if let Some(value) = value
            && let Err(reason) = check_endpoint(value)
        {
            return Err(crate::rules::InvalidValue {
                profile: profile.map(str::to_owned),
                key: key.into(),
                what: "endpoint URL",
                value: value.to_owned(),
                reason: reason.into(),
            }
            .into());
        }
    }
    Ok(())
}

/// An endpoint is `http(s)://host[:port][/path]`: what every AWS SDK accepts.
pub(crate) fn check_endpoint(url: &str) -> Result<(), &'static str> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or("it must start with `https://` or `http://`, e.g. `https://sts.eu-west-1.amazonaws.com` or `http://127.0.0.1:5000`")?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if host.is_empty() || host.starts_with(':') {
        return Err("it names no host after the scheme");
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("it contains a space or a control character");
    }
    Ok(())
}

/// Where a service (`STS`, `IAM`) is, as the SDK will resolve it: a service-specific override
/// (`AWS_ENDPOINT_URL_STS`, `[services]`) wins over a global one (`AWS_ENDPOINT_URL`,
/// `endpoint_url`), as in `aws_sdk_sts::config::Builder::from`.
pub(crate) fn configured_endpoint(config: &SdkConfig, service_id: &str) -> Option<String> {
    let key = aws_types::service_config::ServiceConfigKey::builder()
        .service_id(service_id)
        .env("AWS_ENDPOINT_URL")
        .profile("endpoint_url")
        .build()
        .ok()?;
    config
        .service_config()
        .and_then(|c| c.load_config(key))
        .or_else(|| config.endpoint_url().map(str::to_owned))
}

/// The regional endpoint, for messages; China's partition has its own domain.
fn default_endpoint(region: &str) -> String {
    let domain = if region.starts_with("cn-") {
        "amazonaws.com.cn"
    } else {
        "amazonaws.com"
    };
    format!("https://sts.{region}.{domain}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_need_a_scheme_and_a_host() {
        for good in [
            "https://sts.amazonaws.com",
            "http://127.0.0.1:5000",
            "http://[::1]:80/x",
        ] {
            assert_eq!(check_endpoint(good), Ok(()), "{good}");
        }
        for bad in [
            "not a url",
            "127.0.0.1:5000",
            "http://",
            "https://:443",
            "ftp://x",
            "http://a b",
        ] {
            assert!(check_endpoint(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn classifies_the_common_mistakes() {
        assert_eq!(classify("AccessDenied", ""), StsFailure::AccessDenied);
        assert_eq!(
            classify("InvalidClientTokenId", ""),
            StsFailure::BadSourceKeys
        );
        assert_eq!(
            classify("SignatureDoesNotMatch", ""),
            StsFailure::BadSourceKeys
        );
        assert_eq!(classify("ExpiredToken", ""), StsFailure::ExpiredToken);
        assert_eq!(
            classify(
                "ValidationError",
                "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
            ),
            StsFailure::DurationTooLong
        );
        assert_eq!(classify("Throttling", ""), StsFailure::Throttled);
        assert_eq!(classify("Surprise", ""), StsFailure::Other);
    }

    /// The SDK's loader reads the environment we hand it, not the process's: a variable only
    /// in our snapshot reaches it, and one only in the process (this test process has no such
    /// variable) would not.
    #[test]
    fn the_loader_reads_our_environment_snapshot() {
        let env = crate::env::Env::from_vars([(
            std::ffi::OsString::from("AWS_ENDPOINT_URL_STS"),
            std::ffi::OsString::from("http://127.0.0.1:9/from-our-snapshot"),
        )]);
        let ctx = Context::of(env);
        let plan = Plan::for_stored_key("p", "AKIAEXAMPLE000000001", "eu-west-1".into());
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let sts = runtime.block_on(Sts::new(&plan, &ctx)).unwrap();
        assert_eq!(sts.endpoint(), "http://127.0.0.1:9/from-our-snapshot");
        let bare = runtime
            .block_on(Sts::new(&plan, &Context::default()))
            .unwrap();
        assert_eq!(bare.endpoint(), "https://sts.eu-west-1.amazonaws.com");
    }
}
