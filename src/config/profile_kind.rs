//! One line of `assume-role list`: what kind of profile this is and what it points at, read
//! without resolving the chain, so that one broken profile never hides the others.

use super::Profiles;
use super::plan::keys;
use aws_config::profile::Profile;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProfileKind {
    Role,
    WebIdentity,
    Sso,
    Process,
    StaticKeys,
    CredentialSource,
    /// Settings only (a region, say), or an incomplete profile.
    None,
}

impl ProfileKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ProfileKind::Role => "role",
            ProfileKind::WebIdentity => "web-identity",
            ProfileKind::Sso => "sso",
            ProfileKind::Process => "process",
            ProfileKind::StaticKeys => "static-keys",
            ProfileKind::CredentialSource => "credential-source",
            ProfileKind::None => "none",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProfileSummary {
    pub name: String,
    pub kind: ProfileKind,
    pub role_arn: Option<String>,
    /// `source_profile`, or `credential_source` as written.
    pub source: Option<String>,
    pub mfa: bool,
    pub region: Option<String>,
}

impl ProfileSummary {
    fn of(profile: &Profile) -> Self {
        let get = |key: &str| {
            profile
                .get(key)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        let has = |key: &str| profile.get(key).is_some();
        let kind = if has(keys::WEB_IDENTITY_TOKEN_FILE) {
            ProfileKind::WebIdentity
        } else if has(keys::ROLE_ARN) {
            ProfileKind::Role
        } else if has(keys::CREDENTIAL_SOURCE) {
            ProfileKind::CredentialSource
        } else if has(keys::SSO_SESSION) || has(keys::SSO_START_URL) {
            ProfileKind::Sso
        } else if has(keys::CREDENTIAL_PROCESS) {
            ProfileKind::Process
        } else if has(keys::AWS_ACCESS_KEY_ID) {
            ProfileKind::StaticKeys
        } else {
            ProfileKind::None
        };
        Self {
            name: profile.name().to_owned(),
            kind,
            role_arn: get(keys::ROLE_ARN),
            source: get(keys::SOURCE_PROFILE).or_else(|| get(keys::CREDENTIAL_SOURCE)),
            mfa: has(keys::MFA_SERIAL),
            region: get(keys::REGION),
        }
    }
}

impl Profiles {
    /// One summary per profile, sorted by name.
    pub fn summaries(&self) -> Vec<ProfileSummary> {
        self.names()
            .into_iter()
            .filter_map(|name| self.get(name))
            .map(ProfileSummary::of)
            .collect()
    }
}
