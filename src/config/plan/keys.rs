//! Profile keys, as the AWS CLI spells them.

pub const ROLE_ARN: &str = "role_arn";
pub const SOURCE_PROFILE: &str = "source_profile";
pub const CREDENTIAL_SOURCE: &str = "credential_source";
pub const EXTERNAL_ID: &str = "external_id";
pub const MFA_SERIAL: &str = "mfa_serial";
/// Our extension: a command that prints the MFA code.
pub const MFA_PROCESS: &str = "mfa_process";
/// Our extension: how long the MFA session (`GetSessionToken`) lasts.
pub const MFA_SESSION_DURATION: &str = "mfa_session_duration";
pub const DURATION_SECONDS: &str = "duration_seconds";
pub const ROLE_SESSION_NAME: &str = "role_session_name";
pub const SOURCE_IDENTITY: &str = "source_identity";
pub const REGION: &str = "region";
pub const CREDENTIAL_PROCESS: &str = "credential_process";
pub const SSO_SESSION: &str = "sso_session";
pub const SSO_START_URL: &str = "sso_start_url";
pub const SSO_ACCOUNT_ID: &str = "sso_account_id";
pub const SSO_ROLE_NAME: &str = "sso_role_name";
pub const SSO_REGION: &str = "sso_region";
pub const SSO_REGISTRATION_SCOPES: &str = "sso_registration_scopes";
pub const WEB_IDENTITY_TOKEN_FILE: &str = "web_identity_token_file";
pub const AWS_ACCESS_KEY_ID: &str = "aws_access_key_id";
pub const AWS_SECRET_ACCESS_KEY: &str = "aws_secret_access_key";
pub const AWS_SESSION_TOKEN: &str = "aws_session_token";
/// The legacy name, which older tools still write; read when `aws_session_token` is absent.
pub const AWS_SECURITY_TOKEN: &str = "aws_security_token";
/// Keys the SDK's config loader reads from a profile to configure an STS client.
pub const SDK_CLIENT: &[&str] = &[
    "endpoint_url",
    "services",
    "ignore_configured_endpoint_urls",
    "use_fips_endpoint",
    "use_dualstack_endpoint",
    "retry_mode",
    "max_attempts",
    "sdk_ua_app_id",
    "disable_request_compression",
    "request_min_compression_size_bytes",
    "account_id_endpoint_mode",
    "auth_scheme_preference",
    "sigv4a_signing_region_set",
    "request_checksum_calculation",
    "response_checksum_validation",
];
