//! Following `source_profile` from the target to the base credentials: static keys, the
//! environment, instance or task roles, `credential_process`, SSO or web identity.

use super::keys;
use crate::config::ConfigError;
use crate::config::Profiles;
use crate::keystore::{Index, KeyError};
use crate::secret::Secret;
use aws_config::profile::Profile;
use serde::{Deserialize, Serialize};

/// Where the base credentials come from. Serialized (for the plan cache) without its secrets.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Base {
    StaticKeys {
        profile: String,
        access_key_id: String,
        #[serde(skip)]
        secret_access_key: Secret,
        #[serde(skip)]
        session_token: Option<Secret>,
    },
    /// A key kept by `assume-role keys` for a profile with none in the credentials file. Its
    /// name and access key ID (not secret) are here, from the index; the secret stays in the
    /// backend until a cold run needs it.
    StoredKeys {
        profile: String,
        backend: crate::keystore::Backend,
        access_key_id: String,
    },
    /// `credential_source = Environment`: the only case in which `AWS_*` variables are read.
    Environment {
        profile: String,
    },
    Ec2InstanceMetadata {
        profile: String,
    },
    EcsContainer {
        profile: String,
    },
    CredentialProcess {
        profile: String,
        command: String,
    },
    /// `settings` holds the profile's SSO keys, so that a changed account or role is a
    /// different source.
    Sso {
        profile: String,
        settings: String,
        /// The session, account and role, resolved with the rest of the plan.
        role: crate::config::SsoRole,
    },
    WebIdentity {
        profile: String,
        settings: String,
    },
}

impl std::fmt::Debug for Base {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Base::StaticKeys {
                profile,
                access_key_id,
                session_token,
                ..
            } => f
                .debug_struct("StaticKeys")
                .field("profile", profile)
                .field(
                    "access_key_id",
                    &crate::secret::mask_access_key(access_key_id),
                )
                .field("session_token", &session_token.is_some())
                .finish_non_exhaustive(),
            Base::CredentialProcess { profile, command } => f
                .debug_struct("CredentialProcess")
                .field("profile", profile)
                .field("program", &crate::process::program_name(command))
                .finish_non_exhaustive(),
            other => f
                .debug_struct(other.describe())
                .field("profile", &other.profile())
                .finish(),
        }
    }
}

impl Base {
    pub fn profile(&self) -> &str {
        match self {
            Base::StaticKeys { profile, .. }
            | Base::StoredKeys { profile, .. }
            | Base::Environment { profile }
            | Base::Ec2InstanceMetadata { profile }
            | Base::EcsContainer { profile }
            | Base::CredentialProcess { profile, .. }
            | Base::Sso { profile, .. }
            | Base::WebIdentity { profile, .. } => profile,
        }
    }

    pub fn describe(&self) -> &'static str {
        match self {
            Base::StaticKeys { .. } => "static keys",
            Base::StoredKeys { .. } => "stored keys",
            Base::Environment { .. } => "environment variables",
            Base::Ec2InstanceMetadata { .. } => "EC2 instance metadata",
            Base::EcsContainer { .. } => "ECS container credentials",
            Base::CredentialProcess { .. } => "credential_process",
            Base::Sso { .. } => "SSO",
            Base::WebIdentity { .. } => "web identity",
        }
    }

    /// Whether these are already a role's credentials (SSO permission sets, web identity,
    /// instance profiles and task roles are all roles), so that AWS treats a role assumed from
    /// them as role chaining, capped at one hour.
    pub(super) fn is_role_session(&self) -> bool {
        matches!(
            self,
            Base::Sso { .. }
                | Base::WebIdentity { .. }
                | Base::Ec2InstanceMetadata { .. }
                | Base::EcsContainer { .. }
        )
    }
}

/// The most roles a chain may assume. Each hop is an STS call, and a role assumed from another
/// role's credentials lasts an hour at most: no working chain comes near this, and a longer one
/// is a generated config gone wrong, refused at once rather than walked (100,000 hops once
/// took 20 s and printed a line per hop).
pub const MAX_HOPS: usize = 32;

/// Follows `source_profile` from `name` to the base credentials. Returns the base and the role
/// profiles met on the way, target first.
pub(super) fn walk_chain<'a>(
    profiles: &'a Profiles,
    name: &'a str,
    stored: &Index,
) -> Result<(Base, Vec<&'a Profile>), ConfigError> {
    let mut visited: Vec<&str> = Vec::new();
    // The same names as a set: a linear `contains` made a long chain quadratic.
    let mut seen: std::collections::HashSet<&str> = std::collections::HashSet::new();
    let mut roles: Vec<&Profile> = Vec::new();
    let mut current = name;
    let base = loop {
        let Some(profile) = profiles.get(current) else {
            // A source whose keys were moved into the store by `keys import
            // --remove-plaintext`, which left its section empty and so removed it: the stored
            // key is its credentials, and the roles built on it keep working.
            if !visited.is_empty()
                && let Some(entry) = stored.get(current)
            {
                break Base::StoredKeys {
                    profile: current.to_owned(),
                    backend: entry.backend,
                    access_key_id: entry.access_key_id.clone(),
                };
            }
            return Err(profiles.unknown(current, visited.last().copied()));
        };
        if roles.len() > MAX_HOPS {
            return Err(ConfigError::ChainTooLong {
                profile: name.to_owned(),
                max: MAX_HOPS,
            });
        }
        if !seen.insert(current) {
            let mut path: Vec<String> = visited.iter().map(|s| (*s).to_owned()).collect();
            path.push(current.to_owned());
            return Err(ConfigError::ProfileLoop { path });
        }
        visited.push(current);
        // Past the target, static keys end the chain even beside a `role_arn` (AWS CLI rule).
        if visited.len() > 1 && profile.get(keys::AWS_ACCESS_KEY_ID).is_some() {
            break own_keys(profiles, profile, stored)?;
        }
        let is_hop = profile.get(keys::ROLE_ARN).is_some()
            && profile.get(keys::WEB_IDENTITY_TOKEN_FILE).is_none();
        if !is_hop {
            break base_of(profiles, profile, stored)?;
        }
        roles.push(profile);
        match (
            profile.get(keys::SOURCE_PROFILE),
            profile.get(keys::CREDENTIAL_SOURCE),
        ) {
            (Some(_), Some(_)) => {
                return Err(ConfigError::ConflictingSource {
                    profile: current.to_owned(),
                });
            }
            (None, None) => {
                return Err(ConfigError::IncompleteProfile {
                    profile: current.to_owned(),
                    present: keys::ROLE_ARN,
                    missing: "source_profile` or `credential_source",
                });
            }
            // A role profile may hold the keys it is assumed with.
            (Some(source), None) if source == current => {
                break own_keys(profiles, profile, stored).map_err(|err| match err {
                    ConfigError::NoCredentialSource { profile } => {
                        ConfigError::SelfSource { profile }
                    }
                    other => other,
                })?;
            }
            (Some(source), None) => current = source,
            (None, Some(source)) => break named_source(profile, source)?,
        }
    };
    Ok((base, roles))
}

/// The base credentials of a profile that assumes no role itself.
fn base_of(profiles: &Profiles, profile: &Profile, stored: &Index) -> Result<Base, ConfigError> {
    let name = profile.name().to_owned();
    if let Some(source) = profile.get(keys::CREDENTIAL_SOURCE) {
        return named_source(profile, source);
    }
    if profile.get(keys::WEB_IDENTITY_TOKEN_FILE).is_some() {
        if profile.get(keys::ROLE_ARN).is_none() {
            return Err(ConfigError::IncompleteProfile {
                profile: name,
                present: keys::WEB_IDENTITY_TOKEN_FILE,
                missing: keys::ROLE_ARN,
            });
        }
        return Ok(Base::WebIdentity {
            settings: settings_of(
                profile,
                &[
                    keys::ROLE_ARN,
                    keys::WEB_IDENTITY_TOKEN_FILE,
                    keys::ROLE_SESSION_NAME,
                ],
            ),
            profile: name,
        });
    }
    if [
        keys::SSO_SESSION,
        keys::SSO_START_URL,
        keys::SSO_ACCOUNT_ID,
        keys::SSO_ROLE_NAME,
    ]
    .iter()
    .any(|k| profile.get(k).is_some())
    {
        return Ok(Base::Sso {
            role: profiles.sso_role_of(&name)?,
            settings: settings_of(
                profile,
                &[
                    keys::SSO_SESSION,
                    keys::SSO_START_URL,
                    keys::SSO_ACCOUNT_ID,
                    keys::SSO_ROLE_NAME,
                    "sso_region",
                ],
            ),
            profile: name,
        });
    }
    if let Some(command) = profile.get(keys::CREDENTIAL_PROCESS) {
        return Ok(Base::CredentialProcess {
            profile: name,
            command: command.to_owned(),
        });
    }
    own_keys(profiles, profile, stored)
}

/// A profile's own long-term keys: in the credentials file, or stored by `assume-role keys`.
/// Both at once is an error: which one is meant cannot be guessed.
fn own_keys(profiles: &Profiles, profile: &Profile, stored: &Index) -> Result<Base, ConfigError> {
    let in_file = profile.get(keys::AWS_ACCESS_KEY_ID).is_some()
        || profile.get(keys::AWS_SECRET_ACCESS_KEY).is_some();
    let file_key_id = profile.get(keys::AWS_ACCESS_KEY_ID);
    match (in_file, stored.get(profile.name())) {
        // The same key in both places (`keys import` without `--remove-plaintext`): nothing is
        // ambiguous, and the file's copy serves until it is removed.
        (true, Some(entry)) if file_key_id == Some(entry.access_key_id.as_str()) => {
            tracing::warn!(
                "the key of profile `{}` is stored ({} backend) and still in plain text; `assume-role keys import {} --remove-plaintext` removes the plain-text copy",
                profile.name(),
                entry.backend,
                profile.name()
            );
            static_keys(profile)
        }
        (true, Some(entry)) => Err(ConfigError::Keys(KeyError::KeysInBothPlaces {
            profile: profile.name().to_owned(),
            credentials_file: profiles
                .files()
                .0
                .last()
                .map(|(path, _)| path.clone())
                .unwrap_or_default(),
            backend: entry.backend.to_string(),
        })),
        (false, Some(entry)) => Ok(Base::StoredKeys {
            profile: profile.name().to_owned(),
            backend: entry.backend,
            access_key_id: entry.access_key_id.clone(),
        }),
        (_, None) => static_keys(profile),
    }
}

/// The values of `keys` in `profile`, as one string, for cache keys.
pub(super) fn settings_of(profile: &Profile, keys: &[&str]) -> String {
    keys.iter()
        .map(|k| format!("{k}={}", profile.get(k).unwrap_or_default()))
        .collect::<Vec<_>>()
        .join("\n")
}

fn static_keys(profile: &Profile) -> Result<Base, ConfigError> {
    let incomplete = |present, missing| ConfigError::IncompleteProfile {
        profile: profile.name().to_owned(),
        present,
        missing,
    };
    match (
        profile.get(keys::AWS_ACCESS_KEY_ID),
        profile.get(keys::AWS_SECRET_ACCESS_KEY),
    ) {
        (Some(id), Some(secret)) => {
            check_key_text(profile.name(), keys::AWS_ACCESS_KEY_ID, id)?;
            check_key_text(profile.name(), keys::AWS_SECRET_ACCESS_KEY, secret)?;
            let token = profile
                .get(keys::AWS_SESSION_TOKEN)
                .map(|t| (keys::AWS_SESSION_TOKEN, t))
                .or_else(|| {
                    profile
                        .get(keys::AWS_SECURITY_TOKEN)
                        .map(|t| (keys::AWS_SECURITY_TOKEN, t))
                });
            if let Some((key, token)) = token {
                check_key_text(profile.name(), key, token)?;
            }
            Ok(Base::StaticKeys {
                profile: profile.name().to_owned(),
                access_key_id: id.to_owned(),
                secret_access_key: Secret::new(secret),
                // botocore takes the legacy `aws_security_token` first for a profile's own keys; here
                // the current name wins when both are set (README, "Differences from the AWS CLI").
                session_token: profile
                    .get(keys::AWS_SESSION_TOKEN)
                    .or_else(|| profile.get(keys::AWS_SECURITY_TOKEN))
                    .map(Secret::new),
            })
        }
        (Some(_), None) => Err(incomplete(
            keys::AWS_ACCESS_KEY_ID,
            keys::AWS_SECRET_ACCESS_KEY,
        )),
        (None, Some(_)) => Err(incomplete(
            keys::AWS_SECRET_ACCESS_KEY,
            keys::AWS_ACCESS_KEY_ID,
        )),
        (None, None) => Err(ConfigError::NoCredentialSource {
            profile: profile.name().to_owned(),
        }),
    }
}

fn named_source(profile: &Profile, source: &str) -> Result<Base, ConfigError> {
    let profile_name = profile.name().to_owned();
    match source {
        "Environment" => Ok(Base::Environment {
            profile: profile_name,
        }),
        "Ec2InstanceMetadata" => Ok(Base::Ec2InstanceMetadata {
            profile: profile_name,
        }),
        "EcsContainer" => Ok(Base::EcsContainer {
            profile: profile_name,
        }),
        other => Err(ConfigError::UnknownCredentialSource {
            profile: profile_name,
            value: other.to_owned(),
        }),
    }
}

/// Keys travel in HTTP headers, where a line break or control character makes the SDK's signer
/// panic. The usual cause is an indented line after the key (a comment, say), which the AWS file
/// format reads as a continuation of its value. Secrets are never shown; an ID only masked.
pub(crate) fn check_key_text(profile: &str, key: &str, value: &str) -> Result<(), ConfigError> {
    if !value.chars().any(char::is_control) {
        return Ok(());
    }
    let shown = if key == keys::AWS_ACCESS_KEY_ID {
        crate::secret::mask_access_key(value.split(char::is_control).next().unwrap_or_default())
    } else {
        "(a secret, not shown)".to_owned()
    };
    Err(crate::rules::InvalidValue {
        profile: Some(profile.to_owned()),
        key: key.to_owned(),
        what: "key value",
        value: shown,
        reason: "it holds a line break or another control character; an indented line after a key continues its value in the AWS file format, so unindent that line (or remove it)".into(),
    }.into())
}
