//! One `AssumeRole` call per role profile: its values from the profile or, for the target,
//! from the command line, each checked before any network call.

use super::keys;
use super::{Overrides, checks::check_role_arn};
use crate::config::ConfigError;
use crate::duration::{self, ASSUME_ROLE_MAX, ASSUME_ROLE_MIN, CHAINED_MAX};
use crate::rules::{EXTERNAL_ID, MFA_SERIAL, SESSION_NAME, SOURCE_IDENTITY};
use aws_config::profile::Profile;
use serde::{Deserialize, Serialize};
use std::time::Duration;

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
                &self.process.as_deref().map(crate::process::program_name),
            )
            .field("session_duration", &self.session_duration)
            .finish()
    }
}

/// One `AssumeRole` call. `Debug` (the plan at `-vv`) shows the external ID masked.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
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

impl std::fmt::Debug for Hop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hop")
            .field("profile", &self.profile)
            .field("role_arn", &self.role_arn)
            .field("session_name", &self.session_name)
            .field(
                "external_id",
                &self
                    .external_id
                    .as_deref()
                    .map(crate::secret::mask_external_id),
            )
            .field("mfa", &self.mfa)
            .field("duration", &self.duration)
            .field("source_identity", &self.source_identity)
            .field("chained", &self.chained)
            .finish()
    }
}

/// What a hop takes when neither a flag nor its profile says: the tool's settings, else the
/// built-in defaults. Every hop of a chain gets the same.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Defaults<'a> {
    /// `session_name` of the settings, else the local user's name.
    pub session_name: String,
    /// `duration` of the settings (a hop assumed from a role gets at most an hour of it);
    /// `None` leaves it to STS (an hour).
    pub duration: Option<Duration>,
    /// `mfa_process` of the settings.
    pub mfa_process: Option<&'a str>,
    /// `mfa_session_duration` of the settings, else 12 hours.
    pub mfa_session_duration: Duration,
}

impl<'a> Defaults<'a> {
    pub fn of(ctx: &'a crate::context::Context) -> Self {
        let settings = &ctx.settings;
        Self {
            session_name: settings
                .session_name
                .clone()
                .unwrap_or_else(|| super::default_session_name(ctx.env.user_name.as_deref())),
            duration: settings.duration,
            mfa_process: settings.mfa_process.as_deref(),
            mfa_session_duration: settings
                .mfa_session_duration
                .unwrap_or(duration::MFA_SESSION_DEFAULT),
        }
    }
}

/// Where a hop sits in the chain: flags apply to the target only, and a hop whose source is a
/// role session is capped at one hour.
#[derive(Clone, Copy)]
pub(super) struct HopPosition {
    pub is_target: bool,
    pub chained: bool,
}

/// The `AssumeRole` call for one role profile.
pub(super) fn hop_for(
    profile: &Profile,
    position: HopPosition,
    overrides: &Overrides,
    defaults: &Defaults<'_>,
) -> Result<Hop, ConfigError> {
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
        None => defaults.session_name.clone(),
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
            duration::parse(text).map_err(|_| crate::rules::InvalidValue {
                profile: Some(name.to_owned()),
                key: keys::DURATION_SECONDS.into(),
                what: "duration",
                value: text.to_owned(),
                // The parser's own message repeats the value, which this one already names.
                reason: "write seconds (`3600`) or hours and minutes (`2h`, `90m`, `1h30m`)".into(),
            })?,
            Some(name),
        )),
        (None, None) => None,
    };
    if let Some((requested, origin)) = duration {
        check_duration(requested, origin, position.chained)?;
    }
    // A default, not a request: where AWS allows less (a role assumed from a role), the hop
    // gets what it allows rather than an error for a value no profile asked for.
    let duration = duration.map(|(d, _)| d).or_else(|| {
        defaults.duration.map(|d| {
            if position.chained {
                d.min(CHAINED_MAX)
            } else {
                d
            }
        })
    });

    let mfa = mfa_of(profile, defaults)?;

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
        duration,
        source_identity,
        chained: position.chained,
    })
}

/// The MFA device of a profile (`mfa_serial`, `mfa_process`, `mfa_session_duration`), checked.
/// A role profile's is its hop's; `keys rotate` reads that of the profile holding the key.
pub fn mfa_of(profile: &Profile, defaults: &Defaults<'_>) -> Result<Option<Mfa>, ConfigError> {
    let name = profile.name();
    let get = |key: &str| profile.get(key).filter(|v| !v.is_empty());
    Ok(match get(keys::MFA_SERIAL) {
        Some(serial) => {
            MFA_SERIAL.check(serial, Some(name), keys::MFA_SERIAL)?;
            let session_duration = match get(keys::MFA_SESSION_DURATION) {
                Some(text) => duration::parse(text)
                    .ok()
                    .filter(|d| {
                        (duration::SESSION_TOKEN_MIN..=duration::SESSION_TOKEN_MAX).contains(d)
                    })
                    .ok_or_else(|| crate::rules::InvalidValue {
                        profile: Some(name.to_owned()),
                        key: keys::MFA_SESSION_DURATION.into(),
                        what: "MFA session duration",
                        value: text.to_owned(),
                        reason: "GetSessionToken accepts 15m to 36h".into(),
                    })?,
                None => defaults.mfa_session_duration,
            };
            Some(Mfa {
                serial: serial.to_owned(),
                process: get(keys::MFA_PROCESS)
                    .or(defaults.mfa_process)
                    .map(str::to_owned),
                session_duration,
            })
        }
        None => None,
    })
}

fn check_duration(
    requested: Duration,
    origin: Option<&str>,
    chained: bool,
) -> Result<(), ConfigError> {
    let within_sts = (ASSUME_ROLE_MIN..=ASSUME_ROLE_MAX).contains(&requested);
    if within_sts && (!chained || requested <= CHAINED_MAX) {
        return Ok(());
    }
    Err(ConfigError::DurationOutOfRange {
        profile: origin.map(str::to_owned),
        requested,
        chained: within_sts,
    })
}
