//! The plan: which credentials to start from and which roles to assume, resolved from the
//! profiles as plain data before any network I/O. Resolution follows the AWS CLI and SDK
//! (`aws-config`'s `profile/credentials/repr.rs`): a profile with `role_arn` is a hop; a source
//! profile with static keys ends the chain even if it also has `role_arn`; a profile whose
//! `source_profile` names itself uses its own keys; `web_identity_token_file` makes `role_arn`
//! part of the base, not a hop.

use super::Profiles;
pub use crate::context::Context;
use crate::duration::{self, ASSUME_ROLE_MAX, ASSUME_ROLE_MIN, CHAINED_MAX};
use crate::error::Error;
use crate::rules::{EXTERNAL_ID, MFA_SERIAL, SESSION_NAME, SOURCE_IDENTITY};
use crate::secret::{OneTimeCode, Secret};
use aws_config::profile::Profile;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Profile keys, as the AWS CLI spells them.
pub(crate) mod keys {
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
    pub const WEB_IDENTITY_TOKEN_FILE: &str = "web_identity_token_file";
    pub const AWS_ACCESS_KEY_ID: &str = "aws_access_key_id";
    pub const AWS_SECRET_ACCESS_KEY: &str = "aws_secret_access_key";
    pub const AWS_SESSION_TOKEN: &str = "aws_session_token";
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
}

/// Values given on the command line; each wins over the profile's own. Serialized as part of
/// the plan cache's key.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Overrides {
    /// A one-time input, not part of the plan: it goes to whichever hop first needs a code.
    #[serde(skip)]
    pub mfa_token: Option<OneTimeCode>,
    pub duration: Option<Duration>,
    pub session_name: Option<String>,
    pub external_id: Option<String>,
    pub region: Option<String>,
}

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
                .field("program", &crate::mfa::program_name(command))
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
    fn is_role_session(&self) -> bool {
        matches!(
            self,
            Base::Sso { .. }
                | Base::WebIdentity { .. }
                | Base::Ec2InstanceMetadata { .. }
                | Base::EcsContainer { .. }
        )
    }
}

/// How to obtain an MFA code for one hop.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mfa {
    pub serial: String,
    /// `mfa_process` of the hop's profile.
    pub process: Option<String>,
    /// How long an MFA session made for this device lasts (`mfa_session_duration`, our
    /// extension; 12 hours by default: one code a working day).
    pub session_duration: Duration,
}

impl std::fmt::Debug for Mfa {
    /// `mfa_process` may carry a TOTP seed: only its program name prints.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mfa")
            .field("serial", &self.serial)
            .field(
                "process",
                &self.process.as_deref().map(crate::mfa::program_name),
            )
            .field("session_duration", &self.session_duration)
            .finish()
    }
}

/// One `AssumeRole` call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hop {
    pub profile: String,
    pub role_arn: String,
    pub session_name: String,
    pub external_id: Option<String>,
    pub mfa: Option<Mfa>,
    pub duration: Option<Duration>,
    pub source_identity: Option<String>,
    /// The hop's source credentials are a role's (an earlier hop, SSO, web identity).
    pub chained: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RegionOrigin {
    Flag,
    Profile,
    Environment,
    Default,
}

/// Everything needed to produce credentials for a profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub profile: String,
    pub region: String,
    pub region_origin: RegionOrigin,
    pub base: Base,
    /// In call order: the first is assumed from the base credentials.
    pub hops: Vec<Hop>,
    /// The target profile's settings for the SDK's STS client itself (an `endpoint_url`, a
    /// `services` section, retry settings), as `key=value` lines; `None` when it has none, and
    /// the client then need not read the config files at all.
    pub sdk_settings: Option<String>,
}

/// The region used when nothing names one; STS needs some region to sign for.
pub const DEFAULT_REGION: &str = "us-east-1";

impl Plan {
    pub fn resolve(
        profiles: &Profiles,
        name: &str,
        overrides: &Overrides,
        ctx: &Context,
    ) -> Result<Plan, Error> {
        let target = profiles
            .get(name)
            .ok_or_else(|| profiles.unknown(name, None))?;
        let (base, role_profiles) = walk_chain(profiles, name)?;
        if role_profiles.is_empty() {
            refuse_role_overrides(name, overrides)?;
        }
        let session_name = default_session_name(ctx.user_name.as_deref());
        let count = role_profiles.len();
        let hops = role_profiles
            .into_iter()
            .rev()
            .enumerate()
            .map(|(index, profile)| {
                let position = HopPosition {
                    is_target: index + 1 == count,
                    chained: index > 0 || base.is_role_session(),
                };
                hop_for(profile, position, overrides, &session_name)
            })
            .collect::<Result<Vec<_>, _>>()?;
        if overrides.mfa_token.is_some() && !hops.is_empty() && hops.iter().all(|h| h.mfa.is_none())
        {
            tracing::warn!(
                "`--mfa-token` was given, but no role in the chain of `{name}` has `mfa_serial`; ignoring it"
            );
        }

        let (region, region_origin) = match (
            &overrides.region,
            target.get(keys::REGION).filter(|r| !r.is_empty()),
            &ctx.env_region,
        ) {
            (Some(r), _, _) => (r.clone(), RegionOrigin::Flag),
            (None, Some(r), _) => (r.to_owned(), RegionOrigin::Profile),
            (None, None, Some(r)) => (r.clone(), RegionOrigin::Environment),
            (None, None, None) => (DEFAULT_REGION.to_owned(), RegionOrigin::Default),
        };
        check_region(&region, region_origin, name)?;

        Ok(Plan {
            profile: name.to_owned(),
            region,
            region_origin,
            base,
            hops,
            sdk_settings: keys::SDK_CLIENT
                .iter()
                .any(|k| target.get(k).is_some())
                .then(|| settings_of(target, keys::SDK_CLIENT)),
        })
    }
}

/// Where a hop sits in the chain: flags apply to the target only, and a hop whose source is a
/// role session is capped at one hour.
#[derive(Clone, Copy)]
struct HopPosition {
    is_target: bool,
    chained: bool,
}

/// The `AssumeRole` call for one role profile.
fn hop_for(
    profile: &Profile,
    position: HopPosition,
    overrides: &Overrides,
    default_session_name: &str,
) -> Result<Hop, Error> {
    let name = profile.name();
    let get = |key: &str| profile.get(key).filter(|v| !v.is_empty());
    // A flag's value (no profile to blame) or the profile's own (blame the profile).
    let pick = |flag: &Option<String>, key: &str| -> Option<(String, Option<&str>)> {
        match flag {
            Some(v) if position.is_target => Some((v.clone(), None)),
            _ => get(key).map(|v| (v.to_owned(), Some(name))),
        }
    };

    let role_arn = get(keys::ROLE_ARN).unwrap_or_default().to_owned();
    check_role_arn(&role_arn, name)?;

    let session_name = match pick(&overrides.session_name, keys::ROLE_SESSION_NAME) {
        Some((value, origin)) => {
            SESSION_NAME.check(&value, origin, keys::ROLE_SESSION_NAME)?;
            value
        }
        None => default_session_name.to_owned(),
    };

    let external_id = pick(&overrides.external_id, keys::EXTERNAL_ID)
        .map(|(value, origin)| {
            EXTERNAL_ID
                .check(&value, origin, keys::EXTERNAL_ID)
                .map(|()| value)
        })
        .transpose()?;

    let duration = match (
        overrides.duration.filter(|_| position.is_target),
        get(keys::DURATION_SECONDS),
    ) {
        (Some(d), _) => Some((d, None)),
        (None, Some(text)) => Some((
            duration::parse(text).map_err(|e| Error::InvalidValue {
                profile: Some(name.to_owned()),
                key: keys::DURATION_SECONDS.into(),
                what: "duration",
                value: text.to_owned(),
                reason: e.to_string(),
            })?,
            Some(name),
        )),
        (None, None) => None,
    };
    if let Some((requested, origin)) = duration {
        check_duration(requested, origin, position.chained)?;
    }

    let mfa = match get(keys::MFA_SERIAL) {
        Some(serial) => {
            MFA_SERIAL.check(serial, Some(name), keys::MFA_SERIAL)?;
            let session_duration = match get(keys::MFA_SESSION_DURATION) {
                Some(text) => duration::parse(text)
                    .ok()
                    .filter(|d| {
                        (duration::SESSION_TOKEN_MIN..=duration::SESSION_TOKEN_MAX).contains(d)
                    })
                    .ok_or_else(|| Error::InvalidValue {
                        profile: Some(name.to_owned()),
                        key: keys::MFA_SESSION_DURATION.into(),
                        what: "MFA session duration",
                        value: text.to_owned(),
                        reason: "GetSessionToken accepts 15m to 36h".into(),
                    })?,
                None => duration::MFA_SESSION_DEFAULT,
            };
            Some(Mfa {
                serial: serial.to_owned(),
                process: get(keys::MFA_PROCESS).map(str::to_owned),
                session_duration,
            })
        }
        None => None,
    };

    let source_identity = get(keys::SOURCE_IDENTITY)
        .map(|value| {
            SOURCE_IDENTITY
                .check(value, Some(name), keys::SOURCE_IDENTITY)
                .map(|()| value.to_owned())
        })
        .transpose()?;

    Ok(Hop {
        profile: name.to_owned(),
        role_arn,
        session_name,
        external_id,
        mfa,
        duration: duration.map(|(d, _)| d),
        source_identity,
        chained: position.chained,
    })
}

fn check_duration(requested: Duration, origin: Option<&str>, chained: bool) -> Result<(), Error> {
    let within_sts = (ASSUME_ROLE_MIN..=ASSUME_ROLE_MAX).contains(&requested);
    if within_sts && (!chained || requested <= CHAINED_MAX) {
        return Ok(());
    }
    Err(Error::DurationOutOfRange {
        profile: origin.map(str::to_owned),
        requested,
        chained: within_sts,
    })
}

/// Follows `source_profile` from `name` to the base credentials. Returns the base and the role
/// profiles met on the way, target first.
fn walk_chain<'a>(
    profiles: &'a Profiles,
    name: &'a str,
) -> Result<(Base, Vec<&'a Profile>), Error> {
    let mut visited: Vec<&str> = Vec::new();
    let mut roles: Vec<&Profile> = Vec::new();
    let mut current = name;
    let base = loop {
        let profile = profiles
            .get(current)
            .ok_or_else(|| profiles.unknown(current, visited.last().copied()))?;
        if visited.contains(&current) {
            let mut path: Vec<String> = visited.iter().map(|s| (*s).to_owned()).collect();
            path.push(current.to_owned());
            return Err(Error::ProfileLoop { path });
        }
        visited.push(current);
        // Past the target, static keys end the chain even beside a `role_arn` (AWS CLI rule).
        if visited.len() > 1 && profile.get(keys::AWS_ACCESS_KEY_ID).is_some() {
            break static_keys(profile)?;
        }
        let is_hop = profile.get(keys::ROLE_ARN).is_some()
            && profile.get(keys::WEB_IDENTITY_TOKEN_FILE).is_none();
        if !is_hop {
            break base_of(profile)?;
        }
        roles.push(profile);
        match (
            profile.get(keys::SOURCE_PROFILE),
            profile.get(keys::CREDENTIAL_SOURCE),
        ) {
            (Some(_), Some(_)) => {
                return Err(Error::ConflictingSource {
                    profile: current.to_owned(),
                });
            }
            (None, None) => {
                return Err(Error::IncompleteProfile {
                    profile: current.to_owned(),
                    present: keys::ROLE_ARN,
                    missing: "source_profile` or `credential_source",
                });
            }
            // A role profile may hold the keys it is assumed with.
            (Some(source), None) if source == current => break static_keys(profile)?,
            (Some(source), None) => current = source,
            (None, Some(source)) => break named_source(profile, source)?,
        }
    };
    Ok((base, roles))
}

/// The base credentials of a profile that assumes no role itself.
fn base_of(profile: &Profile) -> Result<Base, Error> {
    let name = profile.name().to_owned();
    if let Some(source) = profile.get(keys::CREDENTIAL_SOURCE) {
        return named_source(profile, source);
    }
    if profile.get(keys::WEB_IDENTITY_TOKEN_FILE).is_some() {
        if profile.get(keys::ROLE_ARN).is_none() {
            return Err(Error::IncompleteProfile {
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
    if profile.get(keys::AWS_ACCESS_KEY_ID).is_some()
        || profile.get(keys::AWS_SECRET_ACCESS_KEY).is_some()
    {
        return static_keys(profile);
    }
    Err(Error::NoCredentialSource { profile: name })
}

/// The values of `keys` in `profile`, as one string, for cache keys.
fn settings_of(profile: &Profile, keys: &[&str]) -> String {
    keys.iter()
        .map(|k| format!("{k}={}", profile.get(k).unwrap_or_default()))
        .collect::<Vec<_>>()
        .join("\n")
}

fn static_keys(profile: &Profile) -> Result<Base, Error> {
    let incomplete = |present, missing| Error::IncompleteProfile {
        profile: profile.name().to_owned(),
        present,
        missing,
    };
    match (
        profile.get(keys::AWS_ACCESS_KEY_ID),
        profile.get(keys::AWS_SECRET_ACCESS_KEY),
    ) {
        (Some(id), Some(secret)) => Ok(Base::StaticKeys {
            profile: profile.name().to_owned(),
            access_key_id: id.to_owned(),
            secret_access_key: Secret::new(secret),
            session_token: profile.get(keys::AWS_SESSION_TOKEN).map(Secret::new),
        }),
        (Some(_), None) => Err(incomplete(
            keys::AWS_ACCESS_KEY_ID,
            keys::AWS_SECRET_ACCESS_KEY,
        )),
        (None, Some(_)) => Err(incomplete(
            keys::AWS_SECRET_ACCESS_KEY,
            keys::AWS_ACCESS_KEY_ID,
        )),
        (None, None) => Err(Error::NoCredentialSource {
            profile: profile.name().to_owned(),
        }),
    }
}

fn named_source(profile: &Profile, source: &str) -> Result<Base, Error> {
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
        other => Err(Error::UnknownCredentialSource {
            profile: profile_name,
            value: other.to_owned(),
        }),
    }
}

/// A profile that assumes no role has nothing for role options to change; saying so beats
/// silently ignoring `--external-id`.
fn refuse_role_overrides(name: &str, overrides: &Overrides) -> Result<(), Error> {
    let given = [
        ("mfa_token", overrides.mfa_token.as_ref().map(|_| "(code)")),
        ("external_id", overrides.external_id.as_deref()),
        ("session_name", overrides.session_name.as_deref()),
    ]
    .into_iter()
    .find_map(|(key, value)| value.map(|v| (key, v.to_owned())))
    .or_else(|| {
        overrides
            .duration
            .map(|d| ("duration", duration::display(d)))
    });
    match given {
        Some((key, value)) => Err(Error::InvalidValue {
            profile: None,
            key: key.into(),
            what: "option here",
            value,
            reason: format!(
                "profile `{name}` assumes no role (it has no `role_arn`), so there is nothing to apply it to"
            ),
        }),
        None => Ok(()),
    }
}

fn check_role_arn(arn: &str, profile: &str) -> Result<(), Error> {
    crate::rules::role_arn(arn)
        .map(drop)
        .map_err(|broken| broken.at(Some(profile), keys::ROLE_ARN, arn))
}

/// Checking here names where a region that is not a host label came from.
fn check_region(region: &str, origin: RegionOrigin, profile: &str) -> Result<(), Error> {
    if crate::rules::is_host_label(region) {
        return Ok(());
    }
    let origin = match origin {
        RegionOrigin::Flag => "`--region`".to_owned(),
        RegionOrigin::Profile => format!("`region` in profile `{profile}`"),
        RegionOrigin::Environment => "`AWS_REGION` or `AWS_DEFAULT_REGION`".to_owned(),
        RegionOrigin::Default => DEFAULT_REGION.to_owned(),
    };
    Err(Error::InvalidRegion {
        region: region.to_owned(),
        origin,
    })
}

/// Checks a one-time code before it is sent anywhere: six digits, spaces allowed between them
/// (`123 456`, as authenticator apps show it).
pub fn check_mfa_code(code: &str, origin: &str) -> Result<OneTimeCode, Error> {
    OneTimeCode::parse(code).ok_or_else(|| Error::MfaMalformed {
        origin: origin.to_owned(),
    })
}

/// The session name the client sees in `CloudTrail`: the local user, so that actions are
/// traceable to a person, reduced to STS's alphabet and length.
pub fn default_session_name(user: Option<&str>) -> String {
    let cleaned: String = user
        .unwrap_or_default()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || SESSION_NAME.extra.contains(c) || c == '_' {
                c
            } else {
                '-'
            }
        })
        .take(64)
        .collect();
    if cleaned.trim_matches('-').len() < 2 {
        "assume-role".to_owned()
    } else {
        cleaned
    }
}

#[cfg(test)]
mod tests;
