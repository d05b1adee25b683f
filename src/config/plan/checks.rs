//! Values held to what STS accepts before anything is sent, each error naming where the value
//! came from (a profile's key, a flag, the environment).

use super::{DEFAULT_REGION, Overrides, RegionOrigin, keys};
use crate::config::ConfigError;
use crate::duration;
use crate::rules::SESSION_NAME;

/// A profile that assumes no role has nothing for role options to change; saying so beats
/// silently ignoring `--external-id`.
/// Options that only a role (or, for `session`, the `GetSessionToken` session a stored-key
/// profile hands over: its code and duration) has a use for.
pub(super) fn refuse_role_overrides(
    name: &str,
    overrides: &Overrides,
    session: bool,
) -> Result<(), ConfigError> {
    let given = [
        (
            "mfa_token",
            overrides
                .mfa_token
                .as_ref()
                .filter(|_| !session)
                .map(|_| "(code)"),
        ),
        ("external_id", overrides.external_id.as_deref()),
        ("session_name", overrides.session_name.as_deref()),
    ]
    .into_iter()
    .find_map(|(key, value)| value.map(|v| (key, v.to_owned())))
    .or_else(|| {
        overrides
            .duration
            .filter(|_| !session)
            .map(|d| ("duration", duration::display(d)))
    });
    match given {
        Some((key, value)) => Err(crate::rules::InvalidValue {
            profile: None,
            key: key.into(),
            what: "option here",
            value,
            reason: format!(
                "profile `{name}` assumes no role (it has no `role_arn`), so there is nothing to apply it to"
            ),
        }.into()),
        None => Ok(()),
    }
}

pub(super) fn check_role_arn(arn: &str, profile: &str) -> Result<(), ConfigError> {
    crate::rules::role_arn(arn)
        .map(drop)
        .map_err(|broken| broken.at(Some(profile), keys::ROLE_ARN, arn))
        .map_err(Into::into)
}

/// Checking here names where a region that is not a host label came from.
pub(super) fn check_region(
    region: &str,
    origin: RegionOrigin,
    profile: &str,
) -> Result<(), ConfigError> {
    if crate::rules::is_host_label(region) {
        return Ok(());
    }
    let origin = match origin {
        RegionOrigin::Flag => "`--region`".to_owned(),
        RegionOrigin::Profile => format!("`region` in profile `{profile}`"),
        RegionOrigin::Environment => "`AWS_REGION` or `AWS_DEFAULT_REGION`".to_owned(),
        RegionOrigin::Settings => "`region` in the settings file".to_owned(),
        RegionOrigin::Default => DEFAULT_REGION.to_owned(),
    };
    Err(ConfigError::InvalidRegion {
        // Shortened: a 70,000-character value must not flood the terminal.
        region: crate::rules::shown(region),
        origin,
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
