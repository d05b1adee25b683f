//! The calls IAM Identity Center takes: the OIDC service (`RegisterClient`,
//! `StartDeviceAuthorization`, `CreateToken`) and the portal (`GetRoleCredentials`,
//! `ListAccounts`, `ListAccountRoles`, `Logout`), through the AWS SDK's own clients.
//!
//! Endpoints follow the same overrides as every other call: `AWS_ENDPOINT_URL_SSO_OIDC`,
//! `AWS_ENDPOINT_URL_SSO`, then `AWS_ENDPOINT_URL`. The browser's authorize page is not an API
//! operation; as the AWS CLI does, it is derived from the OIDC endpoint, so that one override
//! moves both.

use crate::aws::sdk_error;
use crate::aws::{AwsError, RemoteFailure};
use crate::context::Context;
use crate::credentials::Credentials;
use crate::secret::Secret;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_runtime::env_config::file::{EnvConfigFileKind, EnvConfigFiles};
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use aws_smithy_types::retry::RetryConfig;
use aws_smithy_types::timeout::TimeoutConfig;
use aws_types::region::Region;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The two services' clients for one region.
pub struct Sso {
    oidc: aws_sdk_ssooidc::Client,
    portal: aws_sdk_sso::Client,
    oidc_endpoint: String,
    portal_endpoint: String,
}

/// A client registration: what `CreateToken` authenticates with.
#[derive(Clone)]
pub struct Registration {
    pub client_id: String,
    pub client_secret: Secret,
    /// Seconds since the Unix epoch.
    pub expires_at: i64,
}

impl std::fmt::Debug for Registration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registration")
            .field("client_id", &self.client_id)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// A device authorization under way.
pub struct DeviceAuthorization {
    pub device_code: Secret,
    pub user_code: String,
    pub verification_uri: String,
    pub verification_uri_complete: Option<String>,
    pub expires_in: Duration,
    pub interval: Duration,
}

/// The grant `CreateToken` is asked for.
pub enum Grant<'a> {
    DeviceCode(&'a Secret),
    AuthorizationCode {
        code: &'a Secret,
        verifier: &'a Secret,
        redirect_uri: &'a str,
    },
    RefreshToken(&'a Secret),
}

impl Grant<'_> {
    fn name(&self) -> &'static str {
        match self {
            Grant::DeviceCode(_) => "urn:ietf:params:oauth:grant-type:device_code",
            Grant::AuthorizationCode { .. } => "authorization_code",
            Grant::RefreshToken(_) => "refresh_token",
        }
    }
}

/// What `CreateToken` gave.
pub struct NewToken {
    pub access_token: Secret,
    pub expires_in: Duration,
    pub refresh_token: Option<Secret>,
}

/// An account the token may reach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: String,
    pub name: String,
}

impl Sso {
    pub async fn new(region: &str, ctx: &Context) -> Result<Self, AwsError> {
        // The profile files are ours to read; the SDK sees only the environment's overrides.
        let config = aws_config::defaults(BehaviorVersion::latest())
            .env(ctx.env.sdk_env())
            .profile_files(
                EnvConfigFiles::builder()
                    .with_contents(EnvConfigFileKind::Config, "")
                    .build(),
            )
            .region(Region::new(region.to_owned()))
            .no_credentials()
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(3))
                    .operation_attempt_timeout(Duration::from_secs(10))
                    .operation_timeout(Duration::from_secs(20))
                    .build(),
            )
            .retry_config(
                RetryConfig::standard()
                    .with_max_attempts(3)
                    .with_initial_backoff(Duration::from_millis(500)),
            )
            .load()
            .await;
        let oidc_endpoint = endpoint(&config, "SSO OIDC")?
            .unwrap_or_else(|| format!("https://oidc.{region}.amazonaws.com"));
        let portal_endpoint = endpoint(&config, "SSO")?
            .unwrap_or_else(|| format!("https://portal.sso.{region}.amazonaws.com"));
        Ok(Self {
            oidc: aws_sdk_ssooidc::Client::new(&config),
            portal: aws_sdk_sso::Client::new(&config),
            oidc_endpoint,
            portal_endpoint,
        })
    }

    /// The browser's authorize page, on the OIDC endpoint's host, as the AWS CLI derives it.
    pub fn authorize_url(&self) -> String {
        format!("{}/authorize", self.oidc_endpoint.trim_end_matches('/'))
    }

    /// `RegisterClient`. `redirect_uri` and `issuer_url` are for the authorization-code flow.
    pub async fn register_client(
        &self,
        name: &str,
        scopes: &[String],
        code_flow: Option<(&str, &str)>,
    ) -> Result<Registration, AwsError> {
        tracing::info!(endpoint = %self.oidc_endpoint, "RegisterClient");
        let mut request = self
            .oidc
            .register_client()
            .client_name(name)
            .client_type("public")
            .set_scopes((!scopes.is_empty()).then(|| scopes.to_vec()));
        if let Some((redirect_uri, issuer_url)) = code_flow {
            request = request
                .grant_types("authorization_code")
                .grant_types("refresh_token")
                .redirect_uris(redirect_uri)
                .issuer_url(issuer_url);
        }
        let output = request
            .send()
            .await
            .map_err(|e| Self::failure("RegisterClient", &self.oidc_endpoint, &e))?;
        Ok(Registration {
            client_id: output.client_id().unwrap_or_default().to_owned(),
            client_secret: Secret::new(output.client_secret().unwrap_or_default()),
            expires_at: output.client_secret_expires_at(),
        })
    }

    /// `StartDeviceAuthorization`.
    pub async fn start_device_authorization(
        &self,
        client: &Registration,
        start_url: &str,
    ) -> Result<DeviceAuthorization, AwsError> {
        tracing::info!(endpoint = %self.oidc_endpoint, "StartDeviceAuthorization");
        let output = self
            .oidc
            .start_device_authorization()
            .client_id(&client.client_id)
            .client_secret(client.client_secret.expose())
            .start_url(start_url)
            .send()
            .await
            .map_err(|e| Self::failure("StartDeviceAuthorization", &self.oidc_endpoint, &e))?;
        let secs = |n: i32| Duration::from_secs(u64::try_from(n).unwrap_or(0));
        Ok(DeviceAuthorization {
            device_code: Secret::new(output.device_code().unwrap_or_default()),
            user_code: output.user_code().unwrap_or_default().to_owned(),
            verification_uri: output.verification_uri().unwrap_or_default().to_owned(),
            verification_uri_complete: output.verification_uri_complete().map(str::to_owned),
            expires_in: secs(output.expires_in()),
            interval: secs(output.interval()).max(Duration::from_secs(1)),
        })
    }

    /// `CreateToken`. A refusal keeps the service's error code (`AuthorizationPendingException`,
    /// `SlowDownException`, `InvalidGrantException`, …) for the caller to act on.
    pub async fn create_token(
        &self,
        client: &Registration,
        grant: &Grant<'_>,
    ) -> Result<NewToken, AwsError> {
        tracing::debug!(grant = grant.name(), endpoint = %self.oidc_endpoint, "CreateToken");
        let mut request = self
            .oidc
            .create_token()
            .client_id(&client.client_id)
            .client_secret(client.client_secret.expose())
            .grant_type(grant.name());
        request = match grant {
            Grant::DeviceCode(code) => request.device_code(code.expose()),
            Grant::AuthorizationCode {
                code,
                verifier,
                redirect_uri,
            } => request
                .code(code.expose())
                .code_verifier(verifier.expose())
                .redirect_uri(*redirect_uri),
            Grant::RefreshToken(token) => request.refresh_token(token.expose()),
        };
        let output = request
            .send()
            .await
            .map_err(|e| Self::failure("CreateToken", &self.oidc_endpoint, &e))?;
        let access_token = output
            .access_token()
            .filter(|t| !t.is_empty())
            .ok_or_else(|| AwsError::Sso {
                call: "CreateToken",
                failure: RemoteFailure::BadAnswer,
                code: None,
                detail: "the answer held no access token".into(),
                endpoint: self.oidc_endpoint.clone(),
            })?;
        Ok(NewToken {
            access_token: Secret::new(access_token),
            expires_in: Duration::from_secs(u64::try_from(output.expires_in()).unwrap_or(0)),
            refresh_token: output.refresh_token().map(Secret::new),
        })
    }

    /// `GetRoleCredentials`: the role's credentials for `account_id`.
    pub async fn get_role_credentials(
        &self,
        access_token: &Secret,
        account_id: &str,
        role_name: &str,
    ) -> Result<Credentials, AwsError> {
        tracing::info!(account_id, role_name, endpoint = %self.portal_endpoint, "GetRoleCredentials");
        let output = self
            .portal
            .get_role_credentials()
            .access_token(access_token.expose())
            .account_id(account_id)
            .role_name(role_name)
            .send()
            .await
            .map_err(|e| Self::failure("GetRoleCredentials", &self.portal_endpoint, &e))?;
        let creds = output
            .role_credentials()
            .filter(|c| c.access_key_id().is_some() && c.secret_access_key().is_some())
            .ok_or_else(|| AwsError::Sso {
                call: "GetRoleCredentials",
                failure: RemoteFailure::BadAnswer,
                code: None,
                detail: "the answer held no credentials".into(),
                endpoint: self.portal_endpoint.clone(),
            })?;
        let expiration = u64::try_from(creds.expiration())
            .ok()
            .filter(|ms| *ms > 0)
            .map(|ms| UNIX_EPOCH + Duration::from_millis(ms));
        Ok(Credentials {
            access_key_id: creds.access_key_id().unwrap_or_default().to_owned(),
            secret_access_key: Secret::new(creds.secret_access_key().unwrap_or_default()),
            session_token: creds.session_token().map(Secret::new),
            expiration: expiration.or_else(|| Some(SystemTime::now() + Duration::from_hours(1))),
            account_id: Some(account_id.to_owned()),
        })
    }

    /// `ListAccounts`, every page (bounded).
    pub async fn list_accounts(&self, access_token: &Secret) -> Result<Vec<Account>, AwsError> {
        tracing::info!(endpoint = %self.portal_endpoint, "ListAccounts");
        let mut accounts = Vec::new();
        let mut next: Option<String> = None;
        for _ in 0..1000 {
            let output = self
                .portal
                .list_accounts()
                .access_token(access_token.expose())
                .set_next_token(next.take())
                .send()
                .await
                .map_err(|e| Self::failure("ListAccounts", &self.portal_endpoint, &e))?;
            accounts.extend(output.account_list().iter().filter_map(|a| {
                Some(Account {
                    id: a.account_id()?.to_owned(),
                    name: a.account_name().unwrap_or_default().to_owned(),
                })
            }));
            match output.next_token() {
                Some(token) if !token.is_empty() => next = Some(token.to_owned()),
                _ => break,
            }
        }
        Ok(accounts)
    }

    /// `ListAccountRoles` of `account_id`, every page (bounded).
    pub async fn list_account_roles(
        &self,
        access_token: &Secret,
        account_id: &str,
    ) -> Result<Vec<String>, AwsError> {
        let mut roles = Vec::new();
        let mut next: Option<String> = None;
        for _ in 0..1000 {
            let output = self
                .portal
                .list_account_roles()
                .access_token(access_token.expose())
                .account_id(account_id)
                .set_next_token(next.take())
                .send()
                .await
                .map_err(|e| Self::failure("ListAccountRoles", &self.portal_endpoint, &e))?;
            roles.extend(
                output
                    .role_list()
                    .iter()
                    .filter_map(|r| r.role_name().map(str::to_owned)),
            );
            match output.next_token() {
                Some(token) if !token.is_empty() => next = Some(token.to_owned()),
                _ => break,
            }
        }
        Ok(roles)
    }

    /// `Logout`: the portal forgets the token.
    pub async fn logout(&self, access_token: &Secret) -> Result<(), AwsError> {
        tracing::info!(endpoint = %self.portal_endpoint, "Logout");
        self.portal
            .logout()
            .access_token(access_token.expose())
            .send()
            .await
            .map_err(|e| Self::failure("Logout", &self.portal_endpoint, &e))?;
        Ok(())
    }

    fn failure<E: ProvideErrorMetadata + std::error::Error + 'static>(
        call: &'static str,
        endpoint: &str,
        err: &SdkError<E, aws_smithy_runtime_api::http::Response>,
    ) -> AwsError {
        let (failure, code, detail) =
            sdk_error::remote(sdk_error::classify(call, err), "IAM Identity Center");
        AwsError::Sso {
            call,
            failure,
            code,
            detail,
            endpoint: endpoint.to_owned(),
        }
    }
}

/// A service's endpoint override, checked: a malformed one is named here rather than failing
/// deep in the SDK.
fn endpoint(config: &SdkConfig, service_id: &str) -> Result<Option<String>, AwsError> {
    let Some(url) = crate::aws::sts::configured_endpoint(config, service_id) else {
        return Ok(None);
    };
    crate::aws::sts::check_endpoint(&url).map_err(|reason| {
        let key = if service_id == "SSO" {
            "AWS_ENDPOINT_URL_SSO"
        } else {
            "AWS_ENDPOINT_URL_SSO_OIDC"
        };
        AwsError::Invalid(crate::rules::InvalidValue {
            profile: None,
            key: key.into(),
            what: "endpoint URL",
            value: url.clone(),
            reason: reason.into(),
        })
    })?;
    Ok(Some(url))
}
