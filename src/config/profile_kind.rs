//! One line of `assume-role list`: what kind of profile this is and what it points at, read
//! without resolving the chain, so that one broken profile never hides the others.

use super::Profiles;
use super::plan::keys;
use aws_config::profile::Profile;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProfileKind {
    Role,
    WebIdentity,
    Sso,
    Process,
    StaticKeys,
    /// A key kept by `assume-role keys` (set by `list`, which knows the stored keys).
    StoredKeys,
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
            ProfileKind::StoredKeys => "stored-keys",
            ProfileKind::CredentialSource => "credential-source",
            ProfileKind::None => "none",
        }
    }
}

/// Borrowed from the parsed files or from the cached index: `list` over ten thousand profiles
/// should not copy them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileSummary<'a> {
    #[serde(borrow)]
    pub name: Cow<'a, str>,
    pub kind: ProfileKind,
    #[serde(borrow)]
    pub role_arn: Option<Cow<'a, str>>,
    /// `source_profile`, or `credential_source` as written.
    #[serde(borrow)]
    pub source: Option<Cow<'a, str>>,
    pub mfa: bool,
    #[serde(borrow)]
    pub region: Option<Cow<'a, str>>,
    /// The team registry it was written from (`assume-role registry`).
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub registry: Option<Cow<'a, str>>,
}

impl<'a> ProfileSummary<'a> {
    fn of(profile: &'a Profile) -> Self {
        let get = |key: &str| {
            profile
                .get(key)
                .filter(|v| !v.is_empty())
                .map(Cow::Borrowed)
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
            name: Cow::Borrowed(profile.name()),
            kind,
            role_arn: get(keys::ROLE_ARN),
            source: get(keys::SOURCE_PROFILE).or_else(|| get(keys::CREDENTIAL_SOURCE)),
            mfa: has(keys::MFA_SERIAL),
            region: get(keys::REGION),
            registry: None,
        }
    }
}

impl Profiles {
    /// One summary per profile, sorted by name.
    pub fn summaries(&self) -> Vec<ProfileSummary<'_>> {
        let names = self.names();
        let mut summaries = Vec::with_capacity(names.len());
        summaries.extend(
            names
                .into_iter()
                .filter_map(|name| self.get(name))
                .map(|profile| ProfileSummary {
                    registry: self.registry_of(profile.name()).map(Cow::Borrowed),
                    ..ProfileSummary::of(profile)
                }),
        );
        summaries
    }
}
