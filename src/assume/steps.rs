//! The shape of a run, derived once from the plan: which hops need a code, by which route,
//! and what session each code buys. [`codes_needed`] (asking up front, for `each`) and
//! [`super::run`] (doing it) both read it from here, so they cannot disagree.

use super::Options;
use super::own::own_session_key;
use crate::cache::sessions::{REUSE_MARGIN, Store};
use crate::cache::{id, id::Key};
use crate::config::{Base, Hop, Mfa, Plan};
use crate::context::Context;
use crate::duration::CHAINED_MAX;
use crate::mfa;
use crate::secret::OneTimeCode;
use std::time::Duration;

/// What an MFA code buys: the session it makes. Profiles that share a source and a device share
/// one MFA session, and profiles that share a hop share its session, so one code serves them
/// all. Where no cache key can be known, a hop of one profile.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CodeFor {
    Session(Key),
    Hop { profile: String, index: usize },
}

impl CodeFor {
    pub(super) fn of(
        plan: &Plan,
        index: usize,
        route: Route,
        chain: Option<&[Key]>,
        ctx: &Context,
    ) -> Self {
        let session = match (route, &plan.hops[index].mfa) {
            (Route::MfaSession, Some(m)) => mfa_session_key(plan, m, ctx),
            _ => chain.map(|keys| keys[index].clone()),
        };
        session.map_or_else(
            || CodeFor::Hop {
                profile: plan.profile.clone(),
                index,
            },
            CodeFor::Session,
        )
    }
}

/// A code a cold run of a plan would ask for now.
#[derive(Debug, Clone)]
pub struct CodeNeed {
    pub for_: CodeFor,
    pub hop: Hop,
    pub mfa: Mfa,
}

/// Codes collected up front, each with where it came from. `Debug` shows no code.
#[derive(Clone, Default)]
pub struct Prepared(std::sync::Arc<std::collections::HashMap<CodeFor, (OneTimeCode, String)>>);

impl Prepared {
    pub fn new(codes: std::collections::HashMap<CodeFor, (OneTimeCode, String)>) -> Self {
        Self(std::sync::Arc::new(codes))
    }

    pub(super) fn get(&self, for_: &CodeFor) -> Option<mfa::Code> {
        self.0.get(for_).map(|(value, origin)| mfa::Code {
            value: value.clone(),
            origin: origin.clone(),
        })
    }
}

impl std::fmt::Debug for Prepared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Prepared({} codes)", self.0.len())
    }
}

/// The codes a run of `plan` would ask for if it started now, as [`obtain`] decides them: none
/// when its session is cached; otherwise one for each hop with `mfa_serial` from the first that
/// is not cached, except where a cached MFA session serves. Reads the cache, takes no lock and
/// sends nothing: several runs can be planned, their codes asked for once, and the runs then
/// made in parallel.
pub fn codes_needed(
    plan: &Plan,
    store: Option<&Store>,
    opts: &Options,
    ctx: &Context,
) -> Vec<CodeNeed> {
    let Some(last) = plan.hops.len().checked_sub(1) else {
        return Vec::new();
    };
    let chain = id::chain(plan, ctx);
    let cached = |key: Option<&Key>, needed: Duration| {
        !opts.no_cache
            && store
                .zip(key)
                .is_some_and(|(store, key)| store.get(key, needed).is_some())
    };
    let hop_key = |i: usize| chain.as_ref().map(|keys| &keys[i]);
    if cached(hop_key(last), opts.min_valid) {
        return Vec::new();
    }
    let first = (0..last)
        .rev()
        .find(|&i| cached(hop_key(i), REUSE_MARGIN))
        .map_or(0, |i| i + 1);
    hop_needs(plan, first..=last, chain.as_deref(), ctx)
        .into_iter()
        .filter_map(|need| {
            let code = need.code?;
            // A cached MFA session serves the hop: no code.
            (!cached(code.session_key.as_ref(), REUSE_MARGIN)).then(|| CodeNeed {
                for_: code.for_,
                hop: need.hop.clone(),
                mfa: code.mfa.clone(),
            })
        })
        .collect()
}

/// One hop of a run, as the plan shapes it: how it is made, and for a hop with an MFA device,
/// what a code for it buys. Derived here once, for [`codes_needed`] (asking up front) and
/// [`super::run`] (doing it), so that the two cannot disagree about which codes a run needs.
pub(super) struct HopNeed<'p> {
    pub(super) index: usize,
    pub(super) hop: &'p Hop,
    pub(super) route: Route,
    pub(super) code: Option<CodeUse<'p>>,
}

/// What a hop with an MFA device does with a code.
pub(super) struct CodeUse<'p> {
    pub(super) mfa: &'p Mfa,
    /// On the MFA-session route, the cached session that would make a code unnecessary.
    pub(super) session_key: Option<Key>,
    pub(super) for_: CodeFor,
}

/// The hops `range` of `plan`, shaped; `chain` holds the cache keys of every hop, if known.
pub(super) fn hop_needs<'p>(
    plan: &'p Plan,
    range: std::ops::RangeInclusive<usize>,
    chain: Option<&[Key]>,
    ctx: &Context,
) -> Vec<HopNeed<'p>> {
    range
        .map(|index| {
            let hop = &plan.hops[index];
            let route = route(plan, index, ctx);
            let code = hop.mfa.as_ref().map(|mfa| CodeUse {
                mfa,
                session_key: (route == Route::MfaSession)
                    .then(|| mfa_session_key(plan, mfa, ctx))
                    .flatten(),
                for_: CodeFor::of(plan, index, route, chain, ctx),
            });
            HopNeed {
                index,
                hop,
                route,
                code,
            }
        })
        .collect()
}

/// How one hop is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Route {
    Plain,
    /// The code goes to `AssumeRole` itself.
    DirectCode,
    /// Assumed from the MFA session of the base keys.
    MfaSession,
}

pub(super) fn route(plan: &Plan, index: usize, ctx: &Context) -> Route {
    let hop = &plan.hops[index];
    if hop.mfa.is_none() {
        return Route::Plain;
    }
    let long_term = match &plan.base {
        Base::StaticKeys { session_token, .. } => session_token.is_none(),
        Base::StoredKeys { .. } => true,
        Base::Environment { .. } => ctx
            .env
            .env_credentials
            .as_ref()
            .is_some_and(|c| c.session_token.is_none()),
        _ => false,
    };
    if index == 0 && long_term {
        if hop.duration.is_none_or(|d| d <= CHAINED_MAX) {
            return Route::MfaSession;
        }
        tracing::info!(
            profile = %hop.profile,
            "a session over 1h cannot come from an MFA session: sending the code to AssumeRole directly"
        );
    }
    Route::DirectCode
}

/// The cache key of the MFA session the plan's first hop is assumed from, if it takes that
/// route (`cache list|clear` use it to find every session that serves a profile).
pub fn first_hop_mfa_session_key(plan: &Plan, ctx: &Context) -> Option<Key> {
    if let (Some(own), true) = (&plan.session, plan.hops.is_empty()) {
        return own_session_key(plan, own, ctx);
    }
    let hop = plan.hops.first()?;
    let mfa = hop.mfa.as_ref()?;
    // Checked before `route`, which logs its choice of the direct route for such a hop: asking
    // which sessions serve a profile chooses nothing.
    if hop.duration.is_some_and(|d| d > CHAINED_MAX) {
        return None;
    }
    (route(plan, 0, ctx) == Route::MfaSession)
        .then(|| mfa_session_key(plan, mfa, ctx))
        .flatten()
}

/// The cache key of the MFA session of the plan's long-term keys for `mfa`'s device.
pub fn mfa_session_key(plan: &Plan, mfa: &Mfa, ctx: &Context) -> Option<Key> {
    Some(id::mfa_session(
        long_term_key_id(plan, ctx)?,
        &mfa.serial,
        plan,
        ctx,
    ))
}

/// The access key ID of the plan's long-term keys, if it starts from some.
pub(super) fn long_term_key_id<'a>(plan: &'a Plan, ctx: &'a Context) -> Option<&'a str> {
    Some(match &plan.base {
        Base::StaticKeys { access_key_id, .. } | Base::StoredKeys { access_key_id, .. } => {
            access_key_id.as_str()
        }
        Base::Environment { .. } => ctx.env.env_credentials.as_ref()?.access_key_id.as_str(),
        _ => return None,
    })
}
