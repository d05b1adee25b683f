//! IAM Identity Center in the config: `[sso-session NAME]` sections, and the profiles that use
//! one (`sso_session`) or name a start URL themselves (the legacy form). Read as the AWS CLI reads
//! them, so that a token either tool writes is found by the other.

use super::{ConfigError, Profiles, keys};

/// Where an SSO token comes from: an `sso-session` section, or a legacy profile's start URL.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SsoSession {
    /// The `sso-session` name; `None` for a legacy profile.
    pub name: Option<String>,
    pub start_url: String,
    /// `sso_region`: where the portal and the OIDC service are.
    pub region: String,
    /// `sso_registration_scopes`, split on commas (the AWS CLI's reading).
    pub scopes: Vec<String>,
}

impl SsoSession {
    /// What names the token's cache file: the session name, else the start URL.
    pub fn cache_name(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.start_url)
    }

    /// The session for people: "SSO session `x`" or "start URL `u`".
    pub fn label(&self) -> String {
        match &self.name {
            Some(name) => format!("SSO session `{name}`"),
            None => format!("SSO start URL `{}`", self.start_url),
        }
    }

    /// The login command for this session, for hints.
    pub fn login_command(&self, profile: Option<&str>) -> String {
        match (profile, &self.name) {
            (Some(profile), _) => format!("assume-role sso login --profile {profile}"),
            (None, Some(name)) => format!("assume-role sso login --sso-session {name}"),
            (None, None) => "assume-role sso login".to_owned(),
        }
    }

    /// Whether the token can be refreshed: only an `sso-session` token can (as in the AWS CLI).
    pub fn refreshable(&self) -> bool {
        self.name.is_some()
    }
}

/// One account and role reached through an SSO session: a profile's `sso_account_id` and
/// `sso_role_name`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SsoRole {
    pub profile: String,
    pub session: SsoSession,
    pub account_id: String,
    pub role_name: String,
}

/// The reader of the keys a section cannot do without: a missing one is an error that names the
/// key and the section.
fn required<'a>(
    section: &'a str,
    get: impl Fn(&str) -> Option<&'a str>,
) -> impl Fn(&'static str) -> Result<String, ConfigError> {
    move |key| {
        get(key)
            .map(str::to_owned)
            .ok_or_else(|| ConfigError::SsoIncomplete {
                section: section.to_owned(),
                missing: key,
            })
    }
}

/// `sso_region`, checked: it becomes part of the host the token is sent to
/// (`portal.sso.<region>.amazonaws.com`), so anything but a region name could send the token
/// elsewhere.
fn region(section: &str, value: String) -> Result<String, ConfigError> {
    if crate::rules::is_host_label(&value) {
        Ok(value)
    } else {
        Err(ConfigError::SsoInvalid {
            section: section.to_owned(),
            key: keys::SSO_REGION,
            reason: "a region looks like `eu-west-1`",
        })
    }
}

/// `sso_start_url`, checked: the portal's address, over HTTPS.
fn start_url(section: &str, value: String) -> Result<String, ConfigError> {
    let host = value
        .strip_prefix("https://")
        .and_then(|rest| rest.split(['/', '?', '#']).next())
        .unwrap_or_default();
    if !host.is_empty() && !value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        Ok(value)
    } else {
        Err(ConfigError::SsoInvalid {
            section: section.to_owned(),
            key: keys::SSO_START_URL,
            reason: "it is the portal's `https://` address, e.g. `https://my-company.awsapps.com/start`",
        })
    }
}

impl Profiles {
    /// The names of the `[sso-session …]` sections, sorted.
    pub fn sso_session_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.set.sso_sessions().collect();
        names.sort_unstable();
        names
    }

    /// The `[sso-session name]` section.
    pub fn sso_session(&self, name: &str) -> Result<SsoSession, ConfigError> {
        let section = self
            .set
            .sso_session(name)
            .ok_or_else(|| ConfigError::SsoSessionMissing {
                name: name.to_owned(),
                profile: None,
                files: self.files.clone(),
            })?;
        let section_name = format!("sso-session {name}");
        let needs = required(&section_name, |key| section.get(key));
        Ok(SsoSession {
            name: Some(name.to_owned()),
            start_url: start_url(&section_name, needs(keys::SSO_START_URL)?)?,
            region: region(&section_name, needs(keys::SSO_REGION)?)?,
            scopes: section
                .get(keys::SSO_REGISTRATION_SCOPES)
                .map(|s| {
                    s.split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default(),
        })
    }

    /// The SSO session profile `name` logs in with: its `sso_session`, or its own start URL.
    pub fn sso_session_of(&self, name: &str) -> Result<SsoSession, ConfigError> {
        let profile = self.get(name).ok_or_else(|| self.unknown(name, None))?;
        if let Some(session) = profile.get(keys::SSO_SESSION) {
            return self.sso_session(session).map_err(|err| match err {
                ConfigError::SsoSessionMissing {
                    name: session,
                    files,
                    ..
                } => ConfigError::SsoSessionMissing {
                    name: session,
                    profile: Some(name.to_owned()),
                    files,
                },
                other => other,
            });
        }
        if profile.get(keys::SSO_START_URL).is_none() {
            return Err(ConfigError::NotSso {
                profile: name.to_owned(),
            });
        }
        let section_name = format!("profile {name}");
        let needs = required(&section_name, |key| profile.get(key));
        Ok(SsoSession {
            name: None,
            start_url: start_url(&section_name, needs(keys::SSO_START_URL)?)?,
            region: region(&section_name, needs(keys::SSO_REGION)?)?,
            scopes: Vec::new(),
        })
    }

    /// The account and role profile `name` reaches through SSO.
    pub fn sso_role_of(&self, name: &str) -> Result<SsoRole, ConfigError> {
        let session = self.sso_session_of(name)?;
        let profile = self.get(name).ok_or_else(|| self.unknown(name, None))?;
        let section_name = format!("profile {name}");
        let needs = required(&section_name, |key| profile.get(key));
        Ok(SsoRole {
            profile: name.to_owned(),
            account_id: needs(keys::SSO_ACCOUNT_ID)?,
            role_name: needs(keys::SSO_ROLE_NAME)?,
            session,
        })
    }

    /// Every profile that uses an SSO session or start URL, sorted.
    pub fn sso_profiles(&self) -> Vec<&str> {
        self.names()
            .into_iter()
            .filter(|name| {
                self.get(name).is_some_and(|p| {
                    p.get(keys::SSO_SESSION).is_some() || p.get(keys::SSO_START_URL).is_some()
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = "[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = eu-west-1\nsso_registration_scopes = sso:account:access, other\n\n\
        [profile dev]\nsso_session = corp\nsso_account_id = 111111111111\nsso_role_name = Dev\n\n\
        [profile old]\nsso_start_url = https://old.awsapps.com/start\nsso_region = us-east-1\nsso_account_id = 222222222222\nsso_role_name = Admin\n\n\
        [profile lost]\nsso_session = nowhere\n\n[profile keys]\naws_access_key_id = AKIAEXAMPLE000000001\naws_secret_access_key = x\n";

    #[test]
    fn sessions_and_legacy_profiles_read_as_the_aws_cli_reads_them() {
        let profiles = Profiles::from_texts(CONFIG, "").unwrap();
        let dev = profiles.sso_role_of("dev").unwrap();
        assert_eq!(dev.session.cache_name(), "corp");
        assert_eq!(dev.session.scopes, ["sso:account:access", "other"]);
        assert_eq!(
            (dev.account_id.as_str(), dev.role_name.as_str()),
            ("111111111111", "Dev")
        );
        assert!(dev.session.refreshable());
        let old = profiles.sso_role_of("old").unwrap();
        assert_eq!(old.session.cache_name(), "https://old.awsapps.com/start");
        assert!(!old.session.refreshable());
        assert_eq!(
            old.session.login_command(Some("old")),
            "assume-role sso login --profile old"
        );
        assert!(matches!(
            profiles.sso_session_of("lost"),
            Err(ConfigError::SsoSessionMissing { .. })
        ));
        assert!(matches!(
            profiles.sso_session_of("keys"),
            Err(ConfigError::NotSso { .. })
        ));
        assert_eq!(profiles.sso_profiles(), ["dev", "lost", "old"]);
        assert_eq!(profiles.sso_session_names(), ["corp"]);
    }
}
