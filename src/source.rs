//! Base credentials: the start of a chain. Static keys are used as they are, and
//! `credential_process` is run here (so that a process that calls us back cannot recurse
//! forever); every other kind is delegated to the SDK's own provider, so that SSO caches and web
//! identity behave exactly as in the AWS CLI. Instance metadata is contacted only here, and only
//! when a profile says `credential_source = Ec2InstanceMetadata`.

use crate::config::Base;
use crate::context::Context;
use crate::credentials::Credentials;
use crate::env_vars;
use crate::error::Error;
use crate::secret::Secret;
use aws_config::provider_config::ProviderConfig;
use aws_credential_types::provider::ProvideCredentials;
use aws_types::region::Region;

/// The credentials `base` stands for.
pub async fn base_credentials(
    base: &Base,
    region: &str,
    ctx: &Context,
) -> Result<Credentials, Error> {
    let provider_config =
        || ProviderConfig::without_region().with_region(Some(Region::new(region.to_owned())));
    let provided = match base {
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
        Base::Environment { profile } => return environment(profile, ctx),
        Base::Ec2InstanceMetadata { .. } => {
            aws_config::imds::credentials::ImdsCredentialsProvider::builder()
                .configure(&provider_config())
                .build()
                .provide_credentials()
                .await
        }
        Base::EcsContainer { .. } => {
            aws_config::ecs::EcsCredentialsProvider::builder()
                .configure(&provider_config())
                .build()
                .provide_credentials()
                .await
        }
        Base::CredentialProcess { profile, command } => {
            return run_credential_process(profile, command, &ctx.process_stack);
        }
        Base::Sso { profile, .. } | Base::WebIdentity { profile, .. } => {
            aws_config::profile::ProfileFileCredentialsProvider::builder()
                .configure(&provider_config())
                .profile_name(profile)
                .build()
                .provide_credentials()
                .await
        }
    };
    provided
        .map(|creds| Credentials::from_sdk(&creds))
        .map_err(|err| {
            use aws_credential_types::provider::error::CredentialsError;
            let detail = crate::error::causes(&err);
            let unreachable = matches!(err, CredentialsError::ProviderTimedOut(_))
                || ["dispatch failure", "io error", "timed out", "timeout"]
                    .iter()
                    .any(|s| detail.contains(s));
            Error::SourceCredentials {
                profile: base.profile().to_owned(),
                kind: base.describe(),
                detail,
                unreachable,
            }
        })
}

/// Runs a `credential_process` the way the SDKs do (the platform shell, stdout captured, stderr
/// passed through) and reads the JSON it prints.
fn run_credential_process(
    profile: &str,
    command: &str,
    stack: &[String],
) -> Result<Credentials, Error> {
    if stack.iter().any(|p| p == profile) {
        let mut path = stack.to_vec();
        path.push(profile.to_owned());
        return Err(Error::ProfileLoop { path });
    }
    let fail = |detail: String| Error::SourceCredentials {
        profile: profile.to_owned(),
        kind: "credential_process",
        detail,
        unreachable: false,
    };
    let mut entries = stack.to_vec();
    entries.push(profile.to_owned());
    let output = crate::mfa::platform_shell(command)
        .env(env_vars::ASSUME_ROLE_PROCESS_STACK, entries.join(","))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(|e| {
            fail(format!(
                "cannot start `{}`: {e}",
                crate::mfa::program_name(command)
            ))
        })?;
    if !output.status.success() {
        return Err(fail(format!(
            "`{}` exited with {}",
            crate::mfa::program_name(command),
            output.status
        )));
    }
    parse_process_output(&output.stdout).map_err(fail)
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
            aws_smithy_types::DateTime::from_str(
                &value,
                aws_smithy_types::date_time::Format::DateTime,
            )
            .ok()
            .and_then(|t| std::time::SystemTime::try_from(t).ok())
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
fn environment(profile: &str, ctx: &Context) -> Result<Credentials, Error> {
    if let Some(outer) = &ctx.outer_session {
        return Err(Error::OuterSessionAsSource {
            profile: profile.to_owned(),
            outer: outer.clone(),
        });
    }
    ctx.env_credentials
        .clone()
        .ok_or_else(|| Error::EnvironmentCredentialsMissing {
            profile: profile.to_owned(),
        })
}

#[cfg(test)]
mod tests {
    use super::parse_process_output;

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
