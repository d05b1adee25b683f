//! The cached sessions a rotation evicts: every one made from the old key.

use crate::assume;
use crate::cache::id::Key;
use crate::cache::sessions::Kind;
use crate::config::{Base, Mfa, Plan, Profiles};
use crate::context::Context;
use crate::obtain::{Serving, plan_of};
use std::collections::HashSet;

/// The cached sessions made from the old key: those every profile built on it uses as
/// configured now (their keys hash the old key's ID), the MFA session of its own device, and
/// any other session such profiles' runs created (with flags such as `--duration`).
pub(super) struct OldSessions {
    pub(super) keys: HashSet<Key>,
    /// The profiles whose runs made role sessions from the key.
    pub(super) hop_profiles: HashSet<String>,
    profile: String,
}

impl OldSessions {
    pub(super) fn of(
        profile: &str,
        plan: &Plan,
        mfa: Option<&Mfa>,
        profiles: &Profiles,
        ctx: &Context,
    ) -> Self {
        let mut keys = HashSet::new();
        let mut hop_profiles = HashSet::new();
        for name in profiles.names() {
            let Ok(other) = plan_of(profiles, name, ctx) else {
                continue;
            };
            if !matches!(&other.base, Base::StoredKeys { profile: base, .. } if base == profile) {
                continue;
            }
            let serving = Serving::of(&other, ctx);
            keys.extend(serving.role_sessions.into_iter().flatten());
            keys.extend(serving.mfa_session);
            hop_profiles.extend(other.hops.iter().map(|h| h.profile.clone()));
        }
        if let Some(mfa) = mfa {
            keys.extend(assume::mfa_session_key(plan, mfa, ctx));
        }
        Self {
            keys,
            hop_profiles,
            profile: profile.to_owned(),
        }
    }

    /// Which kind of session this is, if it came from the old key.
    pub(super) fn select(
        &self,
        key: &Key,
        entry: Option<&crate::cache::sessions::Entry>,
    ) -> Option<Kind> {
        if self.keys.contains(key) {
            return Some(entry.map_or(Kind::RoleSession, |e| e.kind));
        }
        let entry = entry?;
        let made_from_key = match entry.kind {
            // An MFA or key session is recorded under the profile that holds the key.
            Kind::MfaSession | Kind::KeySession => entry.profile == self.profile,
            Kind::RoleSession => self.hop_profiles.contains(&entry.profile),
        };
        made_from_key.then_some(entry.kind)
    }
}
