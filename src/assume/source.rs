//! Base credentials: the start of a chain. Static keys are used as they are, and
//! `credential_process` is run here (so that a process that calls us back cannot recurse
//! forever); every other kind is delegated to the SDK's own provider, so that SSO caches and web
//! identity behave exactly as in the AWS CLI. Instance metadata is contacted only here, and only
//! when a profile says `credential_source = Ec2InstanceMetadata`.

use crate::assume::AssumeError;
use crate::config::Base;
use crate::context::Context;
use crate::credentials::Credentials;
use crate::env_vars;
use crate::process::{Helper, HelperKind};
use crate::secret::Secret;
use aws_config::provider_config::ProviderConfig;
use aws_credential_types::provider::ProvideCredentials;
use aws_credential_types::provider::error::CredentialsError;
use aws_types::region::Region;
use std::time::Duration;
use tokio::time::error::Elapsed;
use tokio::time::timeout;

/// What an SDK credentials provider answers.
type SdkProvided = aws_credential_types::provider::Result;

/// How long each kind of source may take. SSO and web identity make one or two HTTPS calls
/// to AWS; instance metadata and container credentials are on the local link, where an answer
/// takes milliseconds and no answer means there is no such service here.
const SSO_TIMEOUT: Duration = Duration::from_secs(10);
const WEB_IDENTITY_TIMEOUT: Duration = Duration::from_secs(10);
const LOCAL_TIMEOUT: Duration = Duration::from_secs(5);

/// The credentials `base` stands for.
pub async fn base_credentials(
    base: &Base,
    region: &str,
    ctx: &Context,
) -> Result<Credentials, AssumeError> {
    let provider_config =
        || ProviderConfig::without_region().with_region(Some(Region::new(region.to_owned())));
    let profile_provider = |profile: &str| {
        aws_config::profile::ProfileFileCredentialsProvider::builder()
            .configure(&provider_config())
            .profile_name(profile)
            .build()
    };
    let (limit, provided) = match base {
        Base::StaticKeys {
            access_key_id,
            secret_access_key,
            session_token,
            ..
        } => {
            return Ok(Credentials {
                access_key_id: access_key_id.clone(),
                secret_access_key: secret_access_key.clone(),
                session_token: session_token.clone(),
                expiration: None,
                account_id: None,
            });
        }
        Base::StoredKeys { profile, .. } => {
            return crate::keystore::load(profile, ctx)
                .map(|key| key.credentials())
                .map_err(AssumeError::Keys);
        }
        Base::Environment { profile } => return environment(profile, ctx),
        Base::CredentialProcess { profile, command } => {
            return run_credential_process(
                profile,
                command,
                &ctx.env.process_stack,
                ctx.env.process_timeout()?,
            );
        }
        Base::Ec2InstanceMetadata { .. } => {
            let provider = aws_config::imds::credentials::ImdsCredentialsProvider::builder()
                .configure(&provider_config())
                .build();
            within(LOCAL_TIMEOUT, provider).await
        }
        Base::EcsContainer { .. } => {
            let provider = aws_config::ecs::EcsCredentialsProvider::builder()
                .configure(&provider_config())
                .build();
            within(LOCAL_TIMEOUT, provider).await
        }
        // Ours, not the SDK's provider: the token is refreshed and written back as the AWS CLI
        // does, and an expired one names our login command.
        Base::Sso { role, .. } => {
            return timeout(SSO_TIMEOUT, crate::sso::role_credentials(role, ctx))
                .await
                .map_err(|_| AssumeError::SourceCredentials {
                    profile: base.profile().to_owned(),
                    kind: base.describe(),
                    detail: format!(
                        "no answer from the SSO portal in {}",
                        crate::duration::display(SSO_TIMEOUT)
                    ),
                    unreachable: true,
                })?
                .map_err(AssumeError::Sso);
        }
        Base::WebIdentity { profile, .. } => {
            within(WEB_IDENTITY_TIMEOUT, profile_provider(profile)).await
        }
    };
    sdk_outcome(base, limit, provided)
}

/// What an SDK provider answered within `limit`, with `limit` for the message if it did not.
async fn within(
    limit: Duration,
    provider: impl ProvideCredentials,
) -> (Duration, Result<SdkProvided, Elapsed>) {
    (limit, timeout(limit, provider.provide_credentials()).await)
}

/// An SDK provider's answer: its credentials or its error, as one sentence for people.
fn sdk_outcome(
    base: &Base,
    limit: Duration,
    provided: Result<SdkProvided, Elapsed>,
) -> Result<Credentials, AssumeError> {
    let failed = |detail: String, unreachable: bool| AssumeError::SourceCredentials {
        profile: base.profile().to_owned(),
        kind: base.describe(),
        detail,
        unreachable,
    };
    match provided {
        Ok(Ok(creds)) => Ok(Credentials::from_sdk(&creds)),
        Ok(Err(err)) => {
            let (detail, unreachable) = explain(base, &err);
            Err(failed(detail, unreachable))
        }
        Err(_elapsed) => Err(failed(
            format!(
                "no answer from {} in {}",
                endpoint(base),
                crate::duration::display(limit)
            ),
            true,
        )),
    }
}

/// What a source talks to, for messages.
fn endpoint(base: &Base) -> &'static str {
    match base {
        Base::Ec2InstanceMetadata { .. } => "the instance metadata service",
        Base::EcsContainer { .. } => "the container credentials endpoint",
        Base::Sso { .. } => "the SSO portal",
        Base::WebIdentity { .. } => "STS",
        _ => "the source",
    }
}

/// One setting of `Base::Sso` or `Base::WebIdentity`, from their `key=value` lines.
fn setting<'a>(settings: &'a str, key: &str) -> Option<&'a str> {
    settings
        .lines()
        .filter_map(|line| line.split_once('='))
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

/// A provider's error as one clause, and whether the source could not be reached at all. The
/// SDK's errors display as a chain of generic wrappers ("an error occurred while loading
/// credentials", "service error") around a root cause, and some of those causes display as a
/// `Debug` dump; this keeps what says what failed and where.
fn explain(base: &Base, err: &CredentialsError) -> (String, bool) {
    let chain = Chain::of(err);
    if let CredentialsError::ProviderTimedOut(_) = err {
        return (format!("no answer from {}", endpoint(base)), true);
    }
    if chain.unreachable {
        return (
            format!("cannot reach {}: {}", endpoint(base), chain.text()),
            true,
        );
    }
    let detail = match base {
        Base::WebIdentity { settings, .. } => {
            let file = setting(settings, "web_identity_token_file").unwrap_or_default();
            if let Some(service) = &chain.service {
                format!(
                    "STS refused the web identity token from `{file}` for `{}`: {service}",
                    setting(settings, "role_arn").unwrap_or_default()
                )
            } else if chain.io {
                format!(
                    "web identity token file `{file}` cannot be read: {}",
                    chain.text()
                )
            } else {
                format!("web identity token file `{file}`: {}", chain.text())
            }
        }
        Base::EcsContainer { .. } if chain.parts.iter().any(|p| p.contains("not configured")) => {
            format!(
                "the container credentials endpoint is not configured (neither `{}` nor `{}` is set)",
                "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI"
            )
        }
        _ => format!("{}: {}", endpoint(base), chain.text()),
    };
    (detail, false)
}

/// An error's causes, cleaned for people.
#[derive(Debug, Default)]
struct Chain {
    /// The causes that say something, outermost first.
    parts: Vec<String>,
    /// An AWS service's error, as `Code: message`.
    service: Option<String>,
    /// A connection failed or timed out.
    unreachable: bool,
    /// A file or network read failed.
    io: bool,
    /// A file was not there.
    not_found: bool,
}

/// Wrapper texts that say nothing about what failed.
const GENERIC: &[&str] = &[
    "an error occurred while loading credentials",
    "an error occurred while loading an access token",
    "the credential provider was not enabled",
    "the credentials provider was not properly configured",
    "unexpected credentials error",
    "service error",
    "dispatch failure",
    "io error",
    "timeout",
    "other",
    "response error",
    "failed to construct request",
];

impl Chain {
    fn of(err: &(dyn std::error::Error + 'static)) -> Self {
        let mut chain = Chain::default();
        let mut current = Some(err);
        while let Some(e) = current {
            current = e.source();
            if let Some(meta) = e.downcast_ref::<aws_smithy_types::error::ErrorMetadata>() {
                // Its `Display` is a `Debug`-like dump; say code and message instead.
                let text = match (meta.code(), meta.message()) {
                    (Some(code), Some(message)) => format!("{code}: {message}"),
                    (Some(text), None) | (None, Some(text)) => text.to_owned(),
                    (None, None) => continue,
                };
                chain.service.get_or_insert_with(|| text.clone());
                chain.push(text);
                continue;
            }
            if let Some(connector) =
                e.downcast_ref::<aws_smithy_runtime_api::client::result::ConnectorError>()
            {
                chain.unreachable |= connector.is_timeout() || connector.is_io();
            }
            if let Some(io) = e.downcast_ref::<std::io::Error>() {
                chain.io = true;
                chain.not_found |= io.kind() == std::io::ErrorKind::NotFound;
            }
            let text = e.to_string();
            if text.contains('{')
                || GENERIC.contains(&text.as_str())
                || text.starts_with("unhandled error")
            {
                continue;
            }
            // A modeled service error (`UnauthorizedException: …`) has no metadata in its chain.
            if chain.service.is_none() && looks_like_service_error(&text) {
                chain.service = Some(text.clone());
            }
            chain.push(text);
        }
        chain
    }

    fn push(&mut self, text: String) {
        if !self.parts.last().is_some_and(|last| last.contains(&text)) {
            self.parts.push(text);
        }
    }

    fn text(&self) -> String {
        if self.parts.is_empty() {
            "no details given".to_owned()
        } else {
            self.parts.join(": ")
        }
    }
}

/// `SomethingException` or `SomethingException: message`, as the SDK displays modeled errors.
fn looks_like_service_error(text: &str) -> bool {
    let name = text.split(':').next().unwrap_or_default();
    name.ends_with("Exception") && name.chars().all(|c| c.is_ascii_alphanumeric())
}

/// Runs a `credential_process` the way the SDKs do (the platform shell, stdout captured, stderr
/// passed through), for at most `timeout`, and reads the JSON it prints.
fn run_credential_process(
    profile: &str,
    command: &str,
    stack: &[String],
    timeout: Duration,
) -> Result<Credentials, AssumeError> {
    let mut path = stack.to_vec();
    path.push(profile.to_owned());
    if path[..path.len() - 1].iter().any(|p| p == profile) {
        return Err(crate::config::ConfigError::CredentialProcessLoop { path }.into());
    }
    let helper = Helper {
        kind: HelperKind::CredentialProcess,
        profile,
        command,
    };
    let stdout = crate::process::run(
        &helper,
        &[(env_vars::ASSUME_ROLE_PROCESS_STACK, &path.join(","))],
        timeout,
    )?;
    parse_process_output(&stdout).map_err(|detail| AssumeError::SourceCredentials {
        profile: profile.to_owned(),
        kind: "credential_process",
        detail,
        unreachable: false,
    })
}

/// The `credential_process` JSON contract: `Version` 1, keys matched case-insensitively.
fn parse_process_output(stdout: &[u8]) -> Result<Credentials, String> {
    let object: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(stdout)
        .map_err(|e| format!("its output is not a JSON object ({e})"))?;
    let field = |name: &str| {
        object
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    };
    let text = |name: &str| {
        field(name)
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned)
    };
    if field("Version").and_then(serde_json::Value::as_u64) != Some(1) {
        return Err("its output must have `\"Version\": 1`".into());
    }
    let (Some(access_key_id), Some(secret)) = (text("AccessKeyId"), text("SecretAccessKey")) else {
        return Err("its output lacks `AccessKeyId` or `SecretAccessKey`".into());
    };
    let expiration = match text("Expiration") {
        Some(value) => Some(
            crate::time::parse(&value)
                .ok_or_else(|| format!("its `Expiration` `{value}` is not an RFC 3339 time"))?,
        ),
        None => None,
    };
    Ok(Credentials {
        access_key_id,
        secret_access_key: Secret::new(secret),
        session_token: text("SessionToken").map(Secret::new),
        expiration,
        account_id: text("AccountId"),
    })
}

/// `credential_source = Environment`, the one case where `AWS_*` credential variables count.
/// Those of an outer assume-role session are refused: chaining from them silently would make
/// the result depend on which shell the command happened to run in.
pub(crate) fn environment(profile: &str, ctx: &Context) -> Result<Credentials, AssumeError> {
    if let Some(outer) = &ctx.env.outer_session {
        return Err(AssumeError::OuterSessionAsSource {
            profile: profile.to_owned(),
            outer: outer.clone(),
        });
    }
    ctx.env
        .env_credentials
        .clone()
        .ok_or_else(|| AssumeError::EnvironmentCredentialsMissing {
            profile: profile.to_owned(),
        })
}

#[cfg(test)]
mod tests {
    use super::{Base, CredentialsError, explain, parse_process_output};
    use aws_smithy_types::error::ErrorMetadata;

    /// An error that displays as `text`, with an optional cause, as the SDK's own are.
    #[derive(Debug)]
    struct Wrapped(
        &'static str,
        Option<Box<dyn std::error::Error + Send + Sync>>,
    );

    impl std::fmt::Display for Wrapped {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.0)
        }
    }

    impl std::error::Error for Wrapped {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.1.as_deref().map(|e| e as _)
        }
    }

    fn web_identity() -> Base {
        Base::WebIdentity {
            profile: "p".into(),
            settings: "role_arn=arn:aws:iam::111111111111:role/R\nweb_identity_token_file=/t/token\nrole_session_name=".into(),
        }
    }

    fn service(code: &'static str, message: &'static str) -> CredentialsError {
        let meta = ErrorMetadata::builder().code(code).message(message).build();
        CredentialsError::provider_error(Wrapped(
            "service error",
            Some(Box::new(Wrapped("unhandled error", Some(Box::new(meta))))),
        ))
    }

    fn not_found() -> std::io::Error {
        std::io::Error::new(std::io::ErrorKind::NotFound, "No such file or directory")
    }

    /// One failure, the sentence it should read as, and whether it counts as unreachable.
    type Case = (Base, CredentialsError, &'static str, bool);

    /// Web identity, the container endpoint and instance metadata.
    fn other_cases() -> Vec<Case> {
        vec![
            (
                web_identity(),
                CredentialsError::provider_error(not_found()),
                "web identity token file `/t/token` cannot be read: No such file or directory",
                false,
            ),
            (
                web_identity(),
                service("InvalidIdentityToken", "Couldn't retrieve verification key"),
                "STS refused the web identity token from `/t/token` for `arn:aws:iam::111111111111:role/R`: InvalidIdentityToken: Couldn't retrieve verification key",
                false,
            ),
            (
                web_identity(),
                CredentialsError::provider_error(Wrapped(
                    "dispatch failure",
                    Some(Box::new(
                        aws_smithy_runtime_api::client::result::ConnectorError::timeout(Box::new(
                            Wrapped("connect timed out", None),
                        )),
                    )),
                )),
                "cannot reach STS: connect timed out",
                true,
            ),
            (
                Base::EcsContainer {
                    profile: "p".into(),
                },
                CredentialsError::not_loaded("ECS provider not configured"),
                "the container credentials endpoint is not configured (neither `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` nor `AWS_CONTAINER_CREDENTIALS_FULL_URI` is set)",
                false,
            ),
            (
                Base::Ec2InstanceMetadata {
                    profile: "p".into(),
                },
                CredentialsError::provider_timed_out(std::time::Duration::from_secs(5)),
                "no answer from the instance metadata service",
                true,
            ),
            (
                Base::Ec2InstanceMetadata {
                    profile: "p".into(),
                },
                CredentialsError::not_loaded("received 404 from IMDS"),
                "the instance metadata service: received 404 from IMDS",
                false,
            ),
        ]
    }

    #[test]
    fn source_failures_read_as_one_sentence_without_dumps() {
        for (base, err, want, unreachable) in other_cases() {
            let (detail, got_unreachable) = explain(&base, &err);
            assert_eq!((detail.as_str(), got_unreachable), (want, unreachable));
            assert!(
                !detail.contains('{') && !detail.contains("AssumeError("),
                "{detail}"
            );
        }
    }

    #[test]
    fn reads_the_credential_process_contract() {
        let creds = parse_process_output(
            br#"{"version":1,"AccessKeyId":"ASIAX","secretaccesskey":"s","SessionToken":"t","Expiration":"2026-11-23T07:21:34.248449Z"}"#,
        )
        .unwrap();
        assert_eq!(creds.access_key_id, "ASIAX");
        assert!(creds.expiration.is_some());
        for bad in [
            &br#"{"Version":2,"AccessKeyId":"a","SecretAccessKey":"s"}"#[..],
            br#"{"Version":1}"#,
            b"not json",
            br#"{"Version":1,"AccessKeyId":"a","SecretAccessKey":"s","Expiration":"soon"}"#,
        ] {
            let err = parse_process_output(bad).unwrap_err();
            assert!(!err.contains("\"s\""), "{err}");
        }
    }
}
