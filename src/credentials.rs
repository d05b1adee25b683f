//! Temporary credentials and the session we hand over: which variables a child or a shell gets,
//! and which inherited ones it loses.

use crate::env_vars;
use crate::secret::{Secret, mask_access_key};
use std::fmt;
use std::time::SystemTime;

#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: Secret,
    pub session_token: Option<Secret>,
    pub expiration: Option<SystemTime>,
    pub account_id: Option<String>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &mask_access_key(&self.access_key_id))
            .field("secret_access_key", &self.secret_access_key)
            .field("session_token", &self.session_token)
            .field("expiration", &self.expiration.map(rfc3339))
            .field("account_id", &self.account_id)
            .finish()
    }
}

impl Credentials {
    /// For the SDK clients that sign our STS calls.
    pub fn to_sdk(&self) -> aws_credential_types::Credentials {
        aws_credential_types::Credentials::new(
            self.access_key_id.clone(),
            self.secret_access_key.expose().to_owned(),
            self.session_token.as_ref().map(|t| t.expose().to_owned()),
            self.expiration,
            "assume-role",
        )
    }

    pub fn from_sdk(creds: &aws_credential_types::Credentials) -> Self {
        Self {
            access_key_id: creds.access_key_id().to_owned(),
            secret_access_key: Secret::new(creds.secret_access_key()),
            session_token: creds.session_token().map(Secret::new),
            expiration: creds.expiry(),
            account_id: creds.account_id().map(|id| id.as_str().to_owned()),
        }
    }
}

/// The account of an ARN such as `arn:aws:sts::222222222222:assumed-role/role/session`.
pub fn account_from_arn(arn: &str) -> Option<String> {
    let account = arn.split(':').nth(4)?;
    (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit())).then(|| account.to_owned())
}

pub use crate::time::rfc3339;

/// How much of a value `Debug` may show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Exposure {
    Plain,
    AccessKey,
    Secret,
}

/// One variable a session sets. `Debug` masks access keys and redacts secrets.
#[derive(Clone, PartialEq, Eq)]
pub struct Assignment {
    pub name: &'static str,
    value: String,
    exposure: Exposure,
}

impl Assignment {
    pub fn value(&self) -> &str {
        &self.value
    }

    /// A variable whose value `Debug` may show.
    pub fn plain(name: &'static str, value: impl Into<String>) -> Self {
        Self {
            name,
            value: value.into(),
            exposure: Exposure::Plain,
        }
    }

    /// A variable whose value `Debug` redacts.
    pub fn secret(name: &'static str, value: &Secret) -> Self {
        Self {
            name,
            value: value.expose().to_owned(),
            exposure: Exposure::Secret,
        }
    }
}

impl fmt::Debug for Assignment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.exposure {
            Exposure::Plain => write!(f, "{}={:?}", self.name, self.value),
            Exposure::AccessKey => write!(f, "{}={:?}", self.name, mask_access_key(&self.value)),
            Exposure::Secret => write!(f, "{}={:?}", self.name, Secret::new("")),
        }
    }
}

/// What a session does to an environment: variables to set, then variables to remove.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvChanges {
    pub set: Vec<Assignment>,
    pub unset: Vec<String>,
}

/// Credentials ready to hand over, with the context the consumer needs.
#[derive(Debug, Clone)]
pub struct Session {
    pub profile: String,
    pub region: String,
    pub credentials: Credentials,
}

impl Session {
    /// The variables to set and to remove. `inherited` are the names in the environment being
    /// changed; those of other wrappers (`AWSUME_*`, `GRANTED_*`) are removed by prefix.
    pub fn env_changes<'a>(&self, inherited: impl IntoIterator<Item = &'a str>) -> EnvChanges {
        let creds = &self.credentials;
        let mut set = Vec::new();
        let mut unset: Vec<String> = Vec::new();
        let mut put = |name: &'static str, value: Option<&str>, exposure: Exposure| match value {
            Some(value) => set.push(Assignment {
                name,
                value: value.to_owned(),
                exposure,
            }),
            // Absent here must not mean "keep whatever the shell had".
            None => unset.push(name.to_owned()),
        };
        let expiration = creds.expiration.map(rfc3339);
        put(
            env_vars::AWS_ACCESS_KEY_ID,
            Some(&creds.access_key_id),
            Exposure::AccessKey,
        );
        put(
            env_vars::AWS_SECRET_ACCESS_KEY,
            Some(creds.secret_access_key.expose()),
            Exposure::Secret,
        );
        put(
            env_vars::AWS_SESSION_TOKEN,
            creds.session_token.as_ref().map(Secret::expose),
            Exposure::Secret,
        );
        put(
            env_vars::AWS_CREDENTIAL_EXPIRATION,
            expiration.as_deref(),
            Exposure::Plain,
        );
        put(
            env_vars::AWS_ACCOUNT_ID,
            creds.account_id.as_deref(),
            Exposure::Plain,
        );
        put(env_vars::AWS_REGION, Some(&self.region), Exposure::Plain);
        put(
            env_vars::AWS_DEFAULT_REGION,
            Some(&self.region),
            Exposure::Plain,
        );
        put(
            env_vars::ASSUME_ROLE_PROFILE,
            Some(&self.profile),
            Exposure::Plain,
        );

        unset.extend(env_vars::SCRUBBED.iter().map(|s| (*s).to_owned()));
        let mut wrappers: Vec<String> = inherited
            .into_iter()
            .filter(|name| {
                env_vars::SCRUBBED_PREFIXES
                    .iter()
                    .any(|p| name.starts_with(p))
            })
            // A name a shell cannot spell is left alone rather than spliced into `eval` text.
            .filter(|name| is_portable_name(name))
            .map(str::to_owned)
            .collect();
        wrappers.sort();
        unset.extend(wrappers);
        EnvChanges { set, unset }
    }
}

/// `[A-Za-z_][A-Za-z0-9_]*`: a variable name every shell accepts unquoted.
pub fn is_portable_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn session(token: bool) -> Session {
        Session {
            profile: "client-prod".into(),
            region: "eu-west-1".into(),
            credentials: Credentials {
                access_key_id: "ASIAEXAMPLEEXAMPLE12".into(),
                secret_access_key: Secret::new("s3cr3t/key+value"),
                session_token: token.then(|| Secret::new("t0ken")),
                expiration: Some(std::time::UNIX_EPOCH + Duration::from_secs(1_795_000_000)),
                account_id: Some("222222222222".into()),
            },
        }
    }

    #[test]
    fn sets_and_removes_the_documented_variables() {
        let changes =
            session(true).env_changes(["AWSUME_PROFILE", "GRANTED_SSO", "HOME", "AWSUME_$(x)"]);
        let set: Vec<(&str, &str)> = changes.set.iter().map(|a| (a.name, a.value())).collect();
        assert_eq!(
            set,
            [
                ("AWS_ACCESS_KEY_ID", "ASIAEXAMPLEEXAMPLE12"),
                ("AWS_SECRET_ACCESS_KEY", "s3cr3t/key+value"),
                ("AWS_SESSION_TOKEN", "t0ken"),
                ("AWS_CREDENTIAL_EXPIRATION", "2026-11-18T11:06:40Z"),
                ("AWS_ACCOUNT_ID", "222222222222"),
                ("AWS_REGION", "eu-west-1"),
                ("AWS_DEFAULT_REGION", "eu-west-1"),
                ("ASSUME_ROLE_PROFILE", "client-prod"),
            ]
        );
        assert!(changes.unset.contains(&"AWS_SECURITY_TOKEN".to_owned()));
        assert!(changes.unset.contains(&"AWSUME_PROFILE".to_owned()));
        assert!(changes.unset.contains(&"GRANTED_SSO".to_owned()));
        assert!(!changes.unset.iter().any(|n| n == "HOME" || n.contains('$')));
    }

    #[test]
    fn every_variable_a_session_sets_is_declared_for_unassume() {
        for token in [true, false] {
            let changes = session(token).env_changes([]);
            let set: Vec<&str> = changes.set.iter().map(|a| a.name).collect();
            for name in &set {
                assert!(env_vars::SESSION_VARIABLES.contains(name), "{name}");
            }
            for name in env_vars::SESSION_VARIABLES {
                assert!(
                    set.contains(name) || changes.unset.iter().any(|n| n == name),
                    "{name} is neither set nor removed"
                );
            }
        }
    }

    #[test]
    fn missing_values_are_removed_not_kept() {
        let changes = session(false).env_changes([]);
        assert!(changes.unset.contains(&"AWS_SESSION_TOKEN".to_owned()));
        assert!(!changes.set.iter().any(|a| a.name == "AWS_SESSION_TOKEN"));
    }

    #[test]
    fn debug_output_redacts_secrets() {
        let s = session(true);
        let debug = format!("{s:?} {:?}", s.env_changes([]));
        assert!(
            !debug.contains("s3cr3t") && !debug.contains("t0ken"),
            "{debug}"
        );
        assert!(!debug.contains("ASIAEXAMPLEEXAMPLE12"), "{debug}");
    }

    #[test]
    fn account_ids_come_from_arns() {
        assert_eq!(
            account_from_arn("arn:aws:sts::222222222222:assumed-role/admin/alice").as_deref(),
            Some("222222222222")
        );
        assert_eq!(account_from_arn("arn:aws:sts::22:assumed-role/x/y"), None);
        assert_eq!(account_from_arn("nonsense"), None);
    }
}
