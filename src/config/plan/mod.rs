//! The plan: which credentials to start from and which roles to assume, resolved from the
//! profiles as plain data before any network I/O. Resolution follows the AWS CLI and SDK
//! (`aws-config`'s `profile/credentials/repr.rs`): a profile with `role_arn` is a hop; a source
//! profile with static keys ends the chain even if it also has `role_arn`; a profile whose
//! `source_profile` names itself uses its own keys; `web_identity_token_file` makes `role_arn`
//! part of the base, not a hop.
//!
//! The pieces: [`keys`] (the profile keys read), `chain` (following `source_profile` to the
//! base credentials), `hop` (one `AssumeRole` call per role profile) and `checks` (values held
//! to what STS accepts, each error naming where the value came from).

mod chain;
mod checks;
mod hop;
pub(crate) mod keys;

pub use chain::Base;
pub(crate) use chain::check_key_text;
pub use checks::default_session_name;
pub use hop::{Defaults, Hop, Mfa, mfa_of};

use chain::{settings_of, walk_chain};
use checks::{check_region, refuse_role_overrides};
use hop::{HopPosition, hop_for};

use super::Profiles;
use crate::config::ConfigError;
pub use crate::context::Context;
use crate::secret::OneTimeCode;
use serde::{Deserialize, Serialize};
use std::time::Duration;

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
    /// `--no-session`: a stored-key profile without a role hands over the long-term key itself
    /// instead of a `GetSessionToken` session.
    pub no_session: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RegionOrigin {
    Flag,
    Profile,
    Environment,
    /// `region` in the tool's settings file.
    Settings,
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
    /// For a profile that assumes no role and starts from stored keys: the session it hands
    /// over instead of the key.
    pub session: Option<OwnSession>,
}

/// The `GetSessionToken` session a stored-key profile without a role hands over. The long-term
/// key it is made from never leaves the process, and with `mfa_serial` the session carries the
/// MFA that IAM policies ask for (and is the same cached MFA session its roles are assumed from).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwnSession {
    pub mfa: Option<Mfa>,
    pub duration: Duration,
}

/// The region used when nothing names one; STS needs some region to sign for.
pub const DEFAULT_REGION: &str = "us-east-1";

impl Plan {
    pub fn resolve(
        profiles: &Profiles,
        name: &str,
        overrides: &Overrides,
        ctx: &Context,
    ) -> Result<Plan, ConfigError> {
        let target = profiles
            .get(name)
            .ok_or_else(|| profiles.unknown(name, None))?;
        let (base, role_profiles) = walk_chain(profiles, name, profiles.stored_keys())?;
        let defaults = Defaults::of(ctx);
        let session = own_session(target, &base, &role_profiles, overrides, &defaults)?;
        if role_profiles.is_empty() {
            refuse_role_overrides(name, overrides, session.is_some())?;
        }
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
                hop_for(profile, position, overrides, &defaults)
            })
            .collect::<Result<Vec<_>, _>>()?;
        if overrides.mfa_token.is_some() && !hops.is_empty() && hops.iter().all(|h| h.mfa.is_none())
        {
            tracing::warn!(
                "`--mfa-token` was given, but no role in the chain of `{name}` has `mfa_serial`; ignoring it"
            );
        }

        // As in the AWS CLI, the environment's region beats the profile's: a shell that sets
        // `AWS_REGION` means it for every profile. (Inside one of our sessions the variables
        // are the outer profile's, and `env_region` is `None`.)
        let (region, region_origin) = [
            (overrides.region.as_deref(), RegionOrigin::Flag),
            (ctx.env.env_region.as_deref(), RegionOrigin::Environment),
            (
                target.get(keys::REGION).filter(|r| !r.is_empty()),
                RegionOrigin::Profile,
            ),
            (ctx.settings.region.as_deref(), RegionOrigin::Settings),
        ]
        .into_iter()
        .find_map(|(region, origin)| region.map(|r| (r.to_owned(), origin)))
        .unwrap_or_else(|| (DEFAULT_REGION.to_owned(), RegionOrigin::Default));
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
            session,
        })
    }
}

/// The session a stored-key profile without a role hands over, unless `--no-session`.
fn own_session(
    target: &aws_config::profile::Profile,
    base: &Base,
    role_profiles: &[&aws_config::profile::Profile],
    overrides: &Overrides,
    defaults: &Defaults<'_>,
) -> Result<Option<OwnSession>, ConfigError> {
    let name = target.name();
    if overrides.no_session && !role_profiles.is_empty() {
        return Err(crate::rules::InvalidValue {
            profile: None,
            key: "no_session".into(),
            what: "option here",
            value: "true".into(),
            reason: format!(
                "profile `{name}` assumes a role, and a role's session is always what is handed over"
            ),
        }.into());
    }
    if overrides.no_session || !role_profiles.is_empty() || !matches!(base, Base::StoredKeys { .. })
    {
        return Ok(None);
    }
    let mfa = mfa_of(target, defaults)?;
    let duration = match overrides.duration {
        Some(d)
            if !(crate::duration::SESSION_TOKEN_MIN..=crate::duration::SESSION_TOKEN_MAX)
                .contains(&d) =>
        {
            return Err(crate::rules::InvalidValue {
                profile: None,
                key: "duration".into(),
                what: "duration",
                value: crate::duration::display(d),
                reason: format!(
                    "profile `{name}` hands over a GetSessionToken session, which lasts 15m to 36h"
                ),
            }
            .into());
        }
        Some(d) => d,
        None => mfa
            .as_ref()
            .map_or(crate::duration::MFA_SESSION_DEFAULT, |m| m.session_duration),
    };
    Ok(Some(OwnSession { mfa, duration }))
}

impl Plan {
    /// The plan of a stored key that has no profile of its own in the AWS config (checked by
    /// `keys add`, or rotated): no role, in `region`. The backend it names is not read: the key
    /// is loaded by profile name, from the index's backend.
    pub fn for_stored_key(profile: &str, access_key_id: &str, region: String) -> Plan {
        Plan {
            profile: profile.to_owned(),
            region,
            region_origin: RegionOrigin::Default,
            base: Base::StoredKeys {
                profile: profile.to_owned(),
                backend: crate::keystore::Backend::File,
                access_key_id: access_key_id.to_owned(),
            },
            hops: Vec::new(),
            sdk_settings: None,
            session: None,
        }
    }
}

#[cfg(test)]
mod precedence;
#[cfg(test)]
mod tests;
