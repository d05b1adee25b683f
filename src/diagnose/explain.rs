//! The offline report on one profile: its plan explained hop by hop, each value with where it
//! came from (`file:line`, a flag, the environment, a default), the duration cap that applies
//! and why, and what the cache holds. Text only, in the order a run uses it; the problems
//! are found elsewhere (`offline`), so that this reads as a description, not a verdict.

use super::{at, key_of, line};
use crate::assume;
use crate::cache::id::{self, Key};
use crate::cache::sessions::{Entry, Store};
use crate::config::{Base, Overrides, Plan, Profiles, RegionOrigin};
use crate::context::Context;
use crate::credentials::rfc3339;
use crate::duration::{self, CHAINED_MAX};
use crate::keystore::Backend;
use crate::secret::mask_access_key;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::time::{Duration, SystemTime};

/// What the offline report is made from.
struct View<'a> {
    plan: &'a Plan,
    profiles: &'a Profiles,
    overrides: &'a Overrides,
    ctx: &'a Context,
    /// Whether there is a usable cache directory, and every session in it.
    store: bool,
    entries: HashMap<Key, Entry>,
    /// One key per hop; `None` when the source's identity is not known offline.
    keys: Option<Vec<Key>>,
    /// The MFA session the first hop is assumed from, if it takes that route.
    mfa_session: Option<Key>,
    now: SystemTime,
}

/// The report on profile `name` but its problems: its plan hop by hop, or that there is none
/// (`plan` is `None` when the profile cannot be resolved). `live` when `--live` tries it next,
/// so that the heading does not say "nothing is sent".
pub fn explain(
    name: &str,
    plan: Option<&Plan>,
    profiles: &Profiles,
    overrides: &Overrides,
    live: bool,
    ctx: &Context,
) -> String {
    let mut out = String::new();
    match plan {
        Some(plan) => plan_lines(&mut out, plan, profiles, overrides, live, ctx),
        None => {
            let _ = writeln!(
                out,
                "profile `{name}` cannot be resolved into a plan; nothing is sent"
            );
        }
    }
    out
}

/// The plan, hop by hop.
fn plan_lines(
    out: &mut String,
    plan: &Plan,
    profiles: &Profiles,
    overrides: &Overrides,
    live: bool,
    ctx: &Context,
) {
    let heading = if live {
        "the plan, then tried against STS below (MFA codes are asked as a run asks them)"
    } else {
        "offline: nothing is sent and no MFA code is asked (`--live` tries it)"
    };
    let _ = writeln!(out, "profile `{}`, {heading}\n", plan.profile);
    registry_line(out, &plan.profile, profiles, ctx);
    source_lines(out, plan, profiles, ctx);
    let store = Store::open(ctx);
    let view = View {
        plan,
        profiles,
        overrides,
        ctx,
        store: store.is_some(),
        entries: store
            .as_ref()
            .map(|s| s.entries().into_iter().collect())
            .unwrap_or_default(),
        keys: id::chain(plan, ctx),
        mfa_session: assume::first_hop_mfa_session_key(plan, ctx),
        now: SystemTime::now(),
    };
    for index in 0..plan.hops.len() {
        out.push('\n');
        view.hop_lines(out, index);
    }
    out.push('\n');
    let region_origin = match plan.region_origin {
        RegionOrigin::Flag => "`--region`".to_owned(),
        RegionOrigin::Profile => format!("`region`{}", at(profiles, &plan.profile, "region")),
        RegionOrigin::Environment => "`AWS_REGION` or `AWS_DEFAULT_REGION`".to_owned(),
        RegionOrigin::Settings => "`region` in the settings file (config.toml)".to_owned(),
        RegionOrigin::Default => {
            "the default, as nothing sets one (`--region`, `region` in the profile, `AWS_REGION`)"
                .to_owned()
        }
    };
    line(out, "region", &format!("{}: {region_origin}", plan.region));
}

impl View<'_> {
    /// Whether a flag given for the target applies to hop `index`.
    fn flag_applies(&self, index: usize) -> bool {
        index + 1 == self.plan.hops.len()
    }

    fn hop_lines(&self, out: &mut String, index: usize) {
        let (hop, profiles, overrides) = (&self.plan.hops[index], self.profiles, self.overrides);
        let p = hop.profile.as_str();
        let section = profiles
            .location(p, None)
            .map(|l| format!(" at {l}"))
            .unwrap_or_default();
        line(
            out,
            &format!("hop {}", index + 1),
            &format!("profile `{p}`{section}"),
        );
        let account = crate::rules::role_arn(&hop.role_arn)
            .map(|a| format!(", in account {}", a.account))
            .unwrap_or_default();
        line(
            out,
            "role",
            &format!(
                "{}{account}: `role_arn`{}",
                hop.role_arn,
                at(profiles, p, "role_arn")
            ),
        );
        let external_id = match &hop.external_id {
            Some(value) if self.flag_applies(index) && overrides.external_id.is_some() => {
                format!(
                    "{}: `--external-id`",
                    crate::secret::mask_external_id(value)
                )
            }
            Some(value) => format!(
                "{}: `external_id`{}",
                crate::secret::mask_external_id(value),
                at(profiles, p, "external_id")
            ),
            None => "none".to_owned(),
        };
        line(out, "external ID", &external_id);
        self.mfa_lines(out, index);
        line(out, "duration", &self.duration_text(index));
        let session_name = if self.flag_applies(index) && overrides.session_name.is_some() {
            "`--session-name`".to_owned()
        } else if key_of(profiles, p, "role_session_name").is_some() {
            format!(
                "`role_session_name`{}",
                at(profiles, p, "role_session_name")
            )
        } else if crate::config::default_session_name(self.ctx.env.user_name.as_deref())
            == crate::config::default_session_name(None)
        {
            "the default, as `USER` gives no usable name".to_owned()
        } else {
            "your user name (`USER`), the default".to_owned()
        };
        line(
            out,
            "session name",
            &format!("{}: {session_name}", hop.session_name),
        );
        let cached = match (self.store, &self.keys) {
            (false, _) => "nothing: there is no cache directory".to_owned(),
            (true, None) => {
                "unknown: sessions are named after `AWS_ACCESS_KEY_ID`, which is not set".to_owned()
            }
            (true, Some(keys)) => cached(self.entries.get(&keys[index]), "role session", self.now),
        };
        line(out, "cache", &cached);
    }

    /// Whether hop `index` is assumed from an MFA session (only the first hop can be).
    fn assumed_from_mfa_session(&self, index: usize) -> bool {
        index == 0 && self.mfa_session.is_some()
    }
}

/// Where the base credentials come from.
fn source_lines(out: &mut String, plan: &Plan, profiles: &Profiles, ctx: &Context) {
    let p = plan.base.profile();
    let section = || {
        profiles
            .location(p, None)
            .map(|l| format!(" at {l}"))
            .unwrap_or_default()
    };
    match &plan.base {
        Base::StaticKeys {
            access_key_id,
            session_token,
            ..
        } => {
            line(
                out,
                "source",
                &format!(
                    "keys of profile `{p}`: `aws_access_key_id`{}",
                    at(profiles, p, "aws_access_key_id")
                ),
            );
            let kind = if session_token.is_some() {
                "temporary, with a session token"
            } else {
                "long-term"
            };
            line(
                out,
                "",
                &format!(
                    "access key {} ({kind}; its account shows with `--live`)",
                    mask_access_key(access_key_id)
                ),
            );
        }
        Base::StoredKeys { backend, .. } => stored_keys_lines(out, p, *backend, profiles),
        Base::Environment { .. } => environment_lines(out, p, profiles, ctx),
        Base::Ec2InstanceMetadata { .. } | Base::EcsContainer { .. } => line(
            out,
            "source",
            &format!(
                "{}: `credential_source`{}",
                plan.base.describe(),
                at(profiles, p, "credential_source")
            ),
        ),
        Base::CredentialProcess { command, .. } => line(
            out,
            "source",
            &format!(
                "`credential_process` of profile `{p}`{} (program `{}`)",
                at(profiles, p, "credential_process"),
                crate::process::program_name(command)
            ),
        ),
        Base::Sso { role, .. } => {
            line(out, "source", &format!("SSO, profile `{p}`{}", section()));
            sso_lines(out, role, ctx);
        }
        Base::WebIdentity { .. } => line(
            out,
            "source",
            &format!(
                "web identity: `web_identity_token_file`{}",
                at(profiles, p, "web_identity_token_file")
            ),
        ),
    }
}

/// Where a profile written by a team registry came from: the registry, its source and the
/// commit it is pinned at.
fn registry_line(out: &mut String, profile: &str, profiles: &Profiles, ctx: &Context) {
    let Some(name) = profiles.registry_of(profile) else {
        return;
    };
    let pinned = crate::registry::list(ctx)
        .ok()
        .and_then(|all| all.get(name).cloned());
    let text = match pinned {
        Some(entry) => format!(
            "team registry `{name}` (`{}`, pinned at {}); `assume-role registry sync {name}` updates it",
            crate::rules::printable(&entry.source),
            crate::registry::fetch::short(&entry.commit)
        ),
        None => format!(
            "team registry `{name}`, which is not added here any more: `assume-role registry list`"
        ),
    };
    line(out, "from", &text);
}

/// The SSO session, account and role, and the cached token's state: read from the cache, no
/// call made.
fn sso_lines(out: &mut String, role: &crate::config::SsoRole, ctx: &Context) {
    line(
        out,
        "",
        &format!(
            "{} ({}), account `{}`, role `{}`",
            role.session.label(),
            role.session.start_url,
            role.account_id,
            role.role_name
        ),
    );
    let now = std::time::SystemTime::now();
    let login = role.session.login_command(Some(&role.profile));
    let state = match crate::sso::read_token(&role.session, ctx) {
        Ok(Some(token)) if token.expires_at > now => format!(
            "token good until {} ({} left){}",
            crate::time::rfc3339(token.expires_at),
            crate::duration::display(token.remaining(now)),
            if role.session.refreshable() && token.can_refresh(now) {
                "; refreshed automatically"
            } else {
                "; cannot be refreshed: sign in again when it expires"
            }
        ),
        Ok(Some(token)) if role.session.refreshable() && token.can_refresh(now) => format!(
            "token expired at {}; the next run refreshes it",
            crate::time::rfc3339(token.expires_at)
        ),
        Ok(Some(token)) => format!(
            "token expired at {}: sign in with `{login}`",
            crate::time::rfc3339(token.expires_at)
        ),
        Ok(None) => format!("not signed in: `{login}`"),
        Err(err) => err.to_string(),
    };
    line(out, "", &state);
}

/// A key kept by `assume-role keys`: where, and how old it is.
fn stored_keys_lines(out: &mut String, p: &str, backend: Backend, profiles: &Profiles) {
    line(
        out,
        "source",
        &format!("the key stored for profile `{p}` by `assume-role keys` ({backend} backend)"),
    );
    if let Some(entry) = profiles.stored_keys().get(p) {
        line(
            out,
            "",
            &format!(
                "access key {}, stored {} days ago",
                mask_access_key(&entry.access_key_id),
                entry.age_days(SystemTime::now())
            ),
        );
    }
}

/// `credential_source = Environment`, and whether the variables are there.
fn environment_lines(out: &mut String, p: &str, profiles: &Profiles, ctx: &Context) {
    line(
        out,
        "source",
        &format!(
            "`AWS_*` variables: `credential_source = Environment`{}",
            at(profiles, p, "credential_source")
        ),
    );
    let keys = match &ctx.env.env_credentials {
        Some(c) => format!(
            "access key {} from `AWS_ACCESS_KEY_ID`",
            mask_access_key(&c.access_key_id)
        ),
        None => "`AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` are not set".to_owned(),
    };
    line(out, "", &keys);
}

impl View<'_> {
    /// The MFA device of hop `index`, where its code comes from, and where the code goes.
    fn mfa_lines(&self, out: &mut String, index: usize) {
        let (plan, profiles) = (self.plan, self.profiles);
        let hop = &plan.hops[index];
        let p = hop.profile.as_str();
        let Some(mfa) = &hop.mfa else {
            line(out, "MFA", "none");
            return;
        };
        line(
            out,
            "MFA",
            &format!(
                "{}: `mfa_serial`{}",
                mfa.serial,
                at(profiles, p, "mfa_serial")
            ),
        );
        let first_code = plan.hops.iter().position(|h| h.mfa.is_some());
        let code = if self.overrides.mfa_token.is_some() && first_code == Some(index) {
            "`--mfa-token`".to_owned()
        } else if let Some(command) = &mfa.process {
            format!(
                "`mfa_process`{} (program `{}`)",
                at(profiles, p, "mfa_process"),
                crate::process::program_name(command)
            )
        } else {
            "a prompt on the terminal (or `--mfa-token`)".to_owned()
        };
        line(out, "MFA code", &format!("from {code}"));
        if !self.assumed_from_mfa_session(index) {
            let why = if hop.chained {
                "its source is a role session, which cannot make an MFA session"
            } else if hop.duration.is_some_and(|d| d > CHAINED_MAX) {
                "over 1h is asked for, more than a role assumed from an MFA session may have"
            } else {
                "its source keys are not long-term keys, which an MFA session needs"
            };
            line(out, "", &format!("it goes to AssumeRole itself: {why}"));
            return;
        }
        let length = match key_of(profiles, p, "mfa_session_duration") {
            Some(_) => format!(
                "`mfa_session_duration`{}",
                at(profiles, p, "mfa_session_duration")
            ),
            None => "the default".to_owned(),
        };
        line(
            out,
            "",
            &format!(
                "it buys an MFA session (GetSessionToken) of {} ({length}); roles with this device are then assumed from it without a code",
                duration::display(mfa.session_duration)
            ),
        );
        let entry = self.mfa_session.as_ref().and_then(|k| self.entries.get(k));
        line(out, "MFA session", &cached(entry, "MFA session", self.now));
    }

    /// The session length hop `index` asks for, where that came from, and the cap that
    /// applies.
    fn duration_text(&self, index: usize) -> String {
        let plan = self.plan;
        let hop = &plan.hops[index];
        let asked = match hop.duration {
            Some(d) if self.flag_applies(index) && self.overrides.duration.is_some() => {
                format!("{}: `--duration`", duration::display(d))
            }
            Some(d) => format!(
                "{}: `duration_seconds`{}",
                duration::display(d),
                at(self.profiles, &hop.profile, "duration_seconds")
            ),
            None => "1h: STS's default (no `duration_seconds`)".to_owned(),
        };
        let cap = if hop.chained {
            let from = match index {
                0 => format!("{} credentials, which are a role's", plan.base.describe()),
                i => format!("the session of hop {i}"),
            };
            format!("at most 1h: role chaining, as it is assumed from {from}")
        } else if self.assumed_from_mfa_session(index) {
            "at most 1h: it is assumed from an MFA session, which AWS counts as role chaining (ask for more and the code goes to AssumeRole itself)".to_owned()
        } else {
            "at most 12h, and no more than the role's MaxSessionDuration (the client sets it; 1h unless raised)".to_owned()
        };
        format!("{asked}; {cap}")
    }
}

/// What the cache holds for one session, and whether a run would use it.
fn cached(entry: Option<&Entry>, what: &str, now: SystemTime) -> String {
    let Some(entry) = entry else {
        return "nothing".to_owned();
    };
    // "an MFA session": the article goes by the sound of the letters.
    let what = if what.starts_with("MFA") {
        format!("an {what}")
    } else {
        format!("a {what}")
    };
    let left = entry.remaining(now);
    if left.is_zero() {
        return format!("{what} that has expired; a run makes a new one");
    }
    let until = rfc3339(entry.expires());
    let left_text = duration::display(Duration::from_secs(left.as_secs() / 60 * 60));
    if left <= entry.margin() {
        format!(
            "{what} until {until} ({left_text} left): too close to expiry, a run makes a new one"
        )
    } else {
        format!("{what} until {until} ({left_text} left): a run uses it")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn external_ids_are_masked() {
        assert_eq!(
            crate::secret::mask_external_id("abcdefghijklmnopqrstuvwx"),
            "set (ab…wx, 24 chars)"
        );
        assert_eq!(crate::secret::mask_external_id("short"), "set (5 chars)");
    }
}
