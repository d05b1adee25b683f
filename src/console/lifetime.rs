//! How long a console session lasts: whether `SessionDuration` may be sent, which AWS allows
//! only for a role assumed from long-term keys, and the sentence that tells the person so.

use super::ConsoleError;
use crate::config::{Base, Plan};
use crate::context::Context;
use std::time::Duration;

/// `SessionDuration`'s bounds, and the console's lifetime when it is not sent.
pub const SESSION_DURATION_MIN: Duration = Duration::from_mins(15);
pub const SESSION_DURATION_MAX: Duration = Duration::from_hours(12);
pub const DEFAULT_LIFETIME: Duration = Duration::from_hours(1);

/// Where the final session's credentials come from, as AWS judges it for `SessionDuration`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// A role assumed from long-term keys: `SessionDuration` is allowed.
    LongTermKeys,
    /// AWS counts the session as chained, and answers 400 to `SessionDuration`; why.
    Chained(&'static str),
    /// The profile assumes no role: its own credentials are handed over.
    NoRole,
}

/// Where the plan's final session comes from. When in doubt (a `credential_process` that may
/// print temporary keys), it counts as chained: leaving `SessionDuration` out costs a shorter
/// console; sending it wrongly costs the sign-in.
pub fn origin(plan: &Plan, ctx: &Context) -> Origin {
    let Some(last) = plan.hops.last() else {
        return Origin::NoRole;
    };
    if plan.hops.len() > 1 || last.chained {
        return Origin::Chained("it is assumed from another role's credentials");
    }
    if crate::assume::first_hop_mfa_session_key(plan, ctx).is_some() {
        return Origin::Chained(
            "it is assumed from an MFA session (GetSessionToken), which AWS counts as role chaining",
        );
    }
    let long_term = match &plan.base {
        Base::StaticKeys { session_token, .. } => session_token.is_none(),
        Base::Environment { .. } => ctx
            .env
            .env_credentials
            .as_ref()
            .is_some_and(|c| c.session_token.is_none()),
        _ => false,
    };
    if long_term {
        Origin::LongTermKeys
    } else {
        Origin::Chained(
            "its source credentials are not long-term keys, and AWS counts a role assumed from temporary ones as chained",
        )
    }
}

/// What is sent as `SessionDuration` (if anything), and a sentence for the person saying how
/// long the console will last.
pub fn session_duration(
    profile: &str,
    origin: Origin,
    asked: Option<Duration>,
) -> Result<(Option<Duration>, String), ConsoleError> {
    use crate::duration::display;
    if let Some(d) = asked
        && !(SESSION_DURATION_MIN..=SESSION_DURATION_MAX).contains(&d)
    {
        return Err(crate::rules::InvalidValue {
            profile: None,
            key: "--duration".into(),
            what: "console session length",
            value: display(d),
            reason: format!(
                "the console takes {} to {}",
                display(SESSION_DURATION_MIN),
                display(SESSION_DURATION_MAX)
            ),
        }
        .into());
    }
    let default = display(DEFAULT_LIFETIME);
    Ok(match (origin, asked) {
        (Origin::LongTermKeys, Some(d)) => {
            (Some(d), format!("the console session lasts {}", display(d)))
        }
        (Origin::LongTermKeys, None) => (
            None,
            format!(
                "the console session lasts {default} (up to {} with `--duration`)",
                display(SESSION_DURATION_MAX)
            ),
        ),
        (Origin::Chained(why), Some(d)) => (
            None,
            format!(
                "`--duration {}` cannot be sent for profile `{profile}`: {why}, and AWS then refuses `SessionDuration`; the console session lasts {default}",
                display(d)
            ),
        ),
        (Origin::Chained(why), None) => (
            None,
            format!(
                "the console session lasts {default}: for profile `{profile}` AWS allows no other, because {why}"
            ),
        ),
        (Origin::NoRole, _) => (
            None,
            format!(
                "the console session lasts {default}: profile `{profile}` assumes no role, so AWS allows no other"
            ),
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_duration_only_for_roles_assumed_from_long_term_keys() {
        let hour = Some(Duration::from_hours(1));
        let (sent, _) = session_duration("p", Origin::LongTermKeys, hour).unwrap();
        assert_eq!(sent, hour);
        let (sent, note) = session_duration("p", Origin::Chained("why"), hour).unwrap();
        assert_eq!(sent, None);
        assert!(note.contains("lasts 1h"), "{note}");
        assert!(
            session_duration("p", Origin::LongTermKeys, Some(Duration::from_hours(13))).is_err()
        );
    }
}
