//! Base credentials: the start of a chain. Static keys are used as they are; every other kind
//! is delegated to the SDK's own provider for it, so that SSO caches, `credential_process` and web
//! identity behave exactly as in the AWS CLI. Instance metadata is contacted only here, and only
//! when a profile says `credential_source = Ec2InstanceMetadata`.

use crate::config::Base;
use crate::credentials::Credentials;
use crate::env_vars;
use crate::error::Error;
use crate::secret::Secret;
use aws_config::provider_config::ProviderConfig;
use aws_credential_types::provider::ProvideCredentials;
use aws_types::region::Region;

/// The credentials `base` stands for.
pub async fn base_credentials(base: &Base, region: &str) -> Result<Credentials, Error> {
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
        Base::Environment { profile } => return environment(profile),
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
        Base::CredentialProcess { profile, .. }
        | Base::Sso { profile }
        | Base::WebIdentity { profile } => {
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
        .map_err(|err| Error::SourceCredentials {
            profile: base.profile().to_owned(),
            kind: base.describe(),
            detail: crate::error::causes(&err),
        })
}

/// `credential_source = Environment`, the one case where `AWS_*` credential variables count.
/// Those of an outer assume-role session are refused: chaining from them silently would make
/// the result depend on which shell the command happened to run in.
fn environment(profile: &str) -> Result<Credentials, Error> {
    let var = |name| std::env::var(name).ok().filter(|v: &String| !v.is_empty());
    if let Some(outer) = var(env_vars::ASSUME_ROLE_PROFILE) {
        return Err(Error::OuterSessionAsSource {
            profile: profile.to_owned(),
            outer,
        });
    }
    match (
        var(env_vars::AWS_ACCESS_KEY_ID),
        var(env_vars::AWS_SECRET_ACCESS_KEY),
    ) {
        (Some(access_key_id), Some(secret)) => Ok(Credentials {
            access_key_id,
            secret_access_key: Secret::new(secret),
            session_token: var(env_vars::AWS_SESSION_TOKEN).map(Secret::new),
            expiration: None,
            account_id: None,
        }),
        _ => Err(Error::EnvironmentCredentialsMissing {
            profile: profile.to_owned(),
        }),
    }
}
