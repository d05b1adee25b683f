//! Carrying out a plan: cached sessions where they are still good, otherwise base credentials
//! and one STS call per hop, each stored for the next run. This is the only place that builds
//! an async runtime, and only when the cache cannot answer.
//!
//! MFA: when a chain starts from long-term keys, the first hop's code buys an MFA session
//! (`GetSessionToken`, cached per key and device), from which every role with that device is
//! then assumed without a new code. AWS caps a role session made from one at an hour, so a hop
//! that asks for longer sends its code to `AssumeRole` directly.
//!
//! Cached credentials used as a *source* (an MFA session, an earlier hop of a chain) can go bad
//! before they expire: the key behind them is deactivated, the session revoked. When STS refuses
//! one, it is evicted and the chain starts once more from the source, so that a bad entry never
//! wedges later runs.

use crate::cache::sessions::{Entry, Kind, REUSE_MARGIN, Store};
use crate::cache::{codes, key, key::Key};
use crate::config::{Base, Hop, Mfa, OwnSession, Plan};
use crate::context::Context;
use crate::credentials::Credentials;
use crate::duration::CHAINED_MAX;
use crate::error::{Error, MinValidCap, StsFailure};
use crate::secret::OneTimeCode;
use crate::{mfa, source, sts};
use std::time::{Duration, SystemTime};

/// How the cache may be used, and the one-time inputs of this run.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Use no cached credentials anywhere in the chain (MFA sessions included); what this run
    /// obtains is still cached.
    pub no_cache: bool,
    /// The least lifetime the handed-over credentials must have left.
    pub min_valid: Duration,
    /// `--mfa-token`: goes to the first hop that needs a code.
    pub mfa_token: Option<OneTimeCode>,
    /// Codes collected before this run (`each`): a hop that needs a code takes it from here,
    /// and never asks for one of its own.
    pub prepared: Option<Prepared>,
}

/// What an MFA code buys: the session it makes. Profiles that share a source and a device share
/// one MFA session, and profiles that share a hop share its session, so one code serves them
/// all. Where no cache key can be known, a hop of one profile.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CodeFor {
    Session(Key),
    Hop { profile: String, index: usize },
}

impl CodeFor {
    fn of(plan: &Plan, index: usize, route: Route, chain: Option<&[Key]>, ctx: &Context) -> Self {
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

    fn get(&self, for_: &CodeFor) -> Option<mfa::Code> {
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
    let chain = key::chain(plan, ctx);
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
    let mut needs = Vec::new();
    for index in first..=last {
        let hop = &plan.hops[index];
        let Some(m) = &hop.mfa else { continue };
        let route = route(plan, index, ctx);
        let for_ = CodeFor::of(plan, index, route, chain.as_deref(), ctx);
        if route == Route::MfaSession
            && let CodeFor::Session(session) = &for_
            && cached(Some(session), REUSE_MARGIN)
        {
            continue;
        }
        needs.push(CodeNeed {
            for_,
            hop: hop.clone(),
            mfa: m.clone(),
        });
    }
    needs
}

/// Where handed-over credentials came from, for the audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Served {
    /// A cached session, made by an earlier run.
    Cache,
    /// A session STS issued for this run.
    Sts,
    /// A profile without a role: its own credentials, as they are.
    Source,
}

impl Served {
    pub fn as_str(self) -> &'static str {
        match self {
            Served::Cache => "cache",
            Served::Sts => "sts",
            Served::Source => "source",
        }
    }
}

/// The credentials the plan leads to, from the cache or from STS.
pub fn credentials_for(
    plan: &Plan,
    store: Option<&Store>,
    opts: &Options,
    ctx: &Context,
) -> Result<Credentials, Error> {
    served_credentials(plan, store, opts, ctx).map(|(credentials, _)| credentials)
}

/// [`credentials_for`], and where they came from (for the audit log).
pub fn served_credentials(
    plan: &Plan,
    store: Option<&Store>,
    opts: &Options,
    ctx: &Context,
) -> Result<(Credentials, Served), Error> {
    if plan.hops.is_empty() {
        return match &plan.session {
            Some(own) => {
                if !opts.no_cache
                    && let Some(credentials) = warm(plan, store, opts, ctx)
                {
                    return Ok((credentials, Served::Cache));
                }
                runtime()?.block_on(own_session(plan, own, store, opts, ctx))
            }
            None => own_credentials(plan, ctx).map(|c| (c, Served::Source)),
        };
    }
    if !opts.no_cache
        && let Some(credentials) = warm(plan, store, opts, ctx)
    {
        return Ok((credentials, Served::Cache));
    }
    runtime()?.block_on(obtain(plan, store, opts, ctx))
}

/// The async runtime for the network calls: one thread, built only on the cold path (a warm run
/// never gets here; `-vvv` shows when it does).
pub fn runtime() -> Result<tokio::runtime::Runtime, Error> {
    tracing::trace!("starting the async runtime");
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(Error::Runtime)
}

/// The final hop's cached session, if it has enough time left. Reads one file: no runtime, no
/// TLS, no SDK client.
pub fn warm(
    plan: &Plan,
    store: Option<&Store>,
    opts: &Options,
    ctx: &Context,
) -> Option<Credentials> {
    let store = store?;
    let key = match &plan.session {
        Some(own) if plan.hops.is_empty() => own_session_key(plan, own, ctx)?,
        _ => key::chain(plan, ctx)?.last()?.clone(),
    };
    let entry = store.get(&key, opts.min_valid)?;
    tracing::info!(profile = %plan.profile, expires = %crate::credentials::rfc3339(entry.expires()), "served from the cache");
    Some(entry.credentials())
}

/// A profile without a role hands over what it has (stored keys only with `--no-session`).
fn own_credentials(plan: &Plan, ctx: &Context) -> Result<Credentials, Error> {
    match plan.base {
        Base::StaticKeys {
            session_token: None,
            ..
        } => tracing::warn!(
            "profile `{}` assumes no role: handing over its long-term keys as they are",
            plan.profile
        ),
        Base::StoredKeys { .. } => tracing::warn!(
            "`--no-session`: handing over the long-term key stored for profile `{}` itself; anything that reads it can use it until it is rotated",
            plan.profile
        ),
        _ => {}
    }
    if let Base::StaticKeys { .. } = plan.base {
        // Keys in the file need no runtime, no TLS and no SDK.
        return pollster::block_on(source::base_credentials(&plan.base, &plan.region, ctx));
    }
    runtime()?.block_on(source::base_credentials(&plan.base, &plan.region, ctx))
}

/// The session a stored-key profile without a role hands over: `GetSessionToken` with the
/// stored key (and a code when the profile names an MFA device), cached like an MFA session.
/// With a device it is the very MFA session the profile's roles are assumed from, so one code a
/// day serves both.
async fn own_session(
    plan: &Plan,
    own: &OwnSession,
    store: Option<&Store>,
    opts: &Options,
    ctx: &Context,
) -> Result<(Credentials, Served), Error> {
    let key = store.and(own_session_key(plan, own, ctx));
    let _lock = match (store, &key) {
        (Some(store), Some(k)) => {
            lenient(store.lock(k, &format!("the session of profile `{}`", plan.profile)))?
        }
        _ => None,
    };
    // Another run may have made it while this one waited for the lock.
    if !opts.no_cache
        && let (Some(store), Some(k)) = (store, &key)
        && let Some(entry) = store.get(k, opts.min_valid)
    {
        return Ok((entry.credentials(), Served::Cache));
    }
    // `GetSessionToken` has no role; errors name the profile through this description of it.
    let call = Hop {
        profile: plan.profile.clone(),
        role_arn: String::new(),
        session_name: String::new(),
        external_id: None,
        mfa: own.mfa.clone(),
        duration: Some(own.duration),
        source_identity: None,
        chained: false,
    };
    let code = match &own.mfa {
        Some(m) => {
            let spent = |code: &OneTimeCode| {
                store.is_some_and(|s| codes::recently_used(s.root(), &m.serial, code.expose()))
            };
            let code = match &opts.mfa_token {
                Some(value) => mfa::Code {
                    value: value.clone(),
                    origin: "`--mfa-token`".into(),
                },
                None => mfa::code_for(&plan.profile, m, ctx.process_timeout()?, &spent)?,
            };
            if spent(&code.value) {
                return Err(Error::MfaCodeReused {
                    origin: code.origin,
                    serial: m.serial.clone(),
                });
            }
            Some(code)
        }
        None => None,
    };
    let sts = sts::Sts::new(plan, ctx).await?;
    let base = source::base_credentials(&plan.base, &plan.region, ctx).await?;
    let serial = own.mfa.as_ref().map(|m| m.serial.as_str());
    let session = sts
        .get_session_token(
            &base,
            plan.base.profile(),
            &call,
            serial.zip(code.as_ref().map(|c| &c.value)),
            own.duration,
        )
        .await?;
    if let Some(store) = store {
        if let (Some(serial), Some(code)) = (serial, &code) {
            codes::record(store.root(), serial, code.value.expose());
        }
        let kind = if serial.is_some() {
            Kind::MfaSession
        } else {
            Kind::KeySession
        };
        if let (Some(k), Some(entry)) = (
            &key,
            Entry::new(kind, plan.base.profile(), None, serial, &session),
        ) {
            store.put(k, &entry);
        }
    }
    check_min_valid(plan, &session, opts.min_valid)?;
    Ok((session, Served::Sts))
}

/// The cache key of the session a stored-key profile without a role hands over: with a
/// device, the MFA session of that key and device.
pub fn own_session_key(plan: &Plan, own: &OwnSession, ctx: &Context) -> Option<Key> {
    match &own.mfa {
        Some(m) => mfa_session_key(plan, m, ctx),
        None => Some(key::mfa_session(
            long_term_key_id(plan, ctx)?,
            "",
            plan,
            ctx,
        )),
    }
}

/// How one hop is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    Plain,
    /// The code goes to `AssumeRole` itself.
    DirectCode,
    /// Assumed from the MFA session of the base keys.
    MfaSession,
}

fn route(plan: &Plan, index: usize, ctx: &Context) -> Route {
    let hop = &plan.hops[index];
    if hop.mfa.is_none() {
        return Route::Plain;
    }
    let long_term = match &plan.base {
        Base::StaticKeys { session_token, .. } => session_token.is_none(),
        Base::StoredKeys { .. } => true,
        Base::Environment { .. } => ctx
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

/// The cold path, for callers that already run an async runtime. Parallel runs wait on the
/// final hop's lock, then find its session in the cache instead of calling STS again.
pub async fn obtain(
    plan: &Plan,
    store: Option<&Store>,
    opts: &Options,
    ctx: &Context,
) -> Result<(Credentials, Served), Error> {
    let Some(last) = plan.hops.len().checked_sub(1) else {
        return source::base_credentials(&plan.base, &plan.region, ctx)
            .await
            .map(|c| (c, Served::Source));
    };
    check_min_valid_possible(plan, last, opts.min_valid, ctx)?;
    let run = Run {
        plan,
        ctx,
        cache: ChainCache {
            store,
            keys: key::chain(plan, ctx),
        },
    };
    match run.attempt(last, opts, opts.no_cache).await? {
        Attempt::Done(credentials, served) => Ok((credentials, served)),
        Attempt::CachedSourceRefused { key, error } => {
            // Evict the refused session, then start again once without any cached source.
            if let Some(store) = store {
                store.remove(&key);
            }
            tracing::warn!(
                "STS refused cached credentials ({error}); removed them from the cache and starting again from the source"
            );
            match run.attempt(last, opts, true).await? {
                Attempt::Done(credentials, served) => Ok((credentials, served)),
                Attempt::CachedSourceRefused { error, .. } => Err(error),
            }
        }
    }
}

enum Attempt {
    Done(Credentials, Served),
    /// STS refused credentials that came from the cache; `key` names them.
    CachedSourceRefused {
        key: Key,
        error: Error,
    },
}

/// One hop of this run, as it will be made.
struct Step<'p> {
    index: usize,
    hop: &'p Hop,
    route: Route,
    /// The code this step sends: to `GetSessionToken` (MFA session route) or `AssumeRole`.
    code: Option<mfa::Code>,
    /// The cached MFA session this step is assumed from, and its key.
    mfa_session: Option<(Key, Credentials)>,
}

/// Credentials that sign the next call, and the cache entry they came from, if any.
struct Signer {
    credentials: Credentials,
    cached: Option<Key>,
}

struct Run<'a> {
    plan: &'a Plan,
    ctx: &'a Context,
    cache: ChainCache<'a>,
}

impl Run<'_> {
    /// Makes the chain up to `last`, reusing cached sources unless `fresh`.
    async fn attempt(&self, last: usize, opts: &Options, fresh: bool) -> Result<Attempt, Error> {
        let (plan, ctx) = (self.plan, self.ctx);
        let _final_lock = self.cache.lock(last, &plan.profile)?;
        if !fresh && let Some(entry) = self.cache.get(last, opts.min_valid) {
            // Another run made it while this one waited for the lock.
            return Ok(Attempt::Done(entry.credentials(), Served::Cache));
        }
        let (mut locks, first, mut signer) = self.lock_earlier_hops(last, fresh)?;

        // Every code this run needs, asked for and checked before the first request, under the
        // locks: parallel runs ask once, and a chain never stops half-way for a prompt.
        let mut codes = Codes {
            flag: opts.mfa_token.clone(),
            prepared: opts.prepared.as_ref(),
            flag_taken_by: None,
            taken: Vec::new(),
            timeout: ctx.process_timeout()?,
        };
        let mut steps = Vec::with_capacity(last + 1 - first);
        for index in first..=last {
            let hop = &plan.hops[index];
            let mut step = Step {
                index,
                hop,
                route: route(plan, index, ctx),
                code: None,
                mfa_session: None,
            };
            if let Some(m) = &hop.mfa {
                let session_key = (step.route == Route::MfaSession)
                    .then(|| mfa_session_key(plan, m, ctx))
                    .flatten();
                if let (Some(store), Some(k)) = (self.cache.store, &session_key) {
                    let what = format!("an MFA session for `{}`", m.serial);
                    locks.push(lenient(store.lock(k, &what))?);
                    if !fresh && let Some(entry) = store.get(k, REUSE_MARGIN) {
                        tracing::info!(serial = %m.serial, "using the cached MFA session");
                        step.mfa_session = Some((k.clone(), entry.credentials()));
                    }
                }
                if step.mfa_session.is_none() {
                    let for_ =
                        CodeFor::of(plan, index, step.route, self.cache.keys.as_deref(), ctx);
                    step.code = Some(codes.next(self, hop, m, &for_)?);
                }
            }
            steps.push(step);
        }

        let sts = sts::Sts::new(plan, ctx).await?;
        for step in steps {
            let source_profile = match step.index {
                0 => plan.base.profile(),
                i => plan.hops[i - 1].profile.as_str(),
            };
            let from = match signer.take() {
                Some(signer) => signer,
                None => Signer {
                    credentials: source::base_credentials(&plan.base, &plan.region, ctx).await?,
                    cached: None,
                },
            };
            let outcome = self.make(&sts, step, from, source_profile).await?;
            let creds = match outcome {
                Ok(creds) => creds,
                Err(refused) => return Ok(refused),
            };
            signer = Some(Signer {
                credentials: creds,
                cached: None,
            });
        }
        let creds = signer
            .map(|s| s.credentials)
            .ok_or_else(|| unreachable!("the loop always makes the final hop"))?;
        check_min_valid(plan, &creds, opts.min_valid)?;
        Ok(Attempt::Done(creds, Served::Sts))
    }

    /// One hop: its STS call (and the MFA session it needs), its result cached. The inner
    /// `Err` is a cached source that STS refused, for the caller to evict and start over.
    async fn make(
        &self,
        sts: &sts::Sts,
        step: Step<'_>,
        from: Signer,
        source_profile: &str,
    ) -> Result<Result<Credentials, Attempt>, Error> {
        let hop = step.hop;
        let (signer, hop_sent, code) = match (step.route, &hop.mfa) {
            (Route::MfaSession, Some(m)) => {
                let session = match (step.mfa_session, step.code) {
                    (Some((key, credentials)), _) => Signer {
                        credentials,
                        cached: Some(key),
                    },
                    // Only the first hop takes this route, so `from` is the base keys, never a
                    // cached session.
                    (None, Some(code)) => Signer {
                        credentials: self
                            .new_mfa_session(sts, hop, m, &from.credentials, &code)
                            .await?,
                        cached: None,
                    },
                    (None, None) => {
                        unreachable!("a code was collected for every uncached MFA session")
                    }
                };
                // The role is assumed from the session, which already carries the MFA.
                let without_mfa = Hop {
                    mfa: None,
                    ..hop.clone()
                };
                (session, std::borrow::Cow::Owned(without_mfa), None)
            }
            _ => (from, std::borrow::Cow::Borrowed(hop), step.code),
        };
        let result = sts
            .assume_role(
                &signer.credentials,
                source_profile,
                &hop_sent,
                code.as_ref().map(|c| &c.value),
            )
            .await;
        let creds = match result {
            Ok(creds) => creds,
            Err(error) => {
                let from_mfa_session = step.route == Route::MfaSession;
                return match signer.cached {
                    Some(key) if is_refusal_of_source(&error, from_mfa_session) => {
                        Ok(Err(Attempt::CachedSourceRefused { key, error }))
                    }
                    _ => Err(error),
                };
            }
        };
        if let (Some(code), Some(m), Some(store)) = (&code, &hop.mfa, self.cache.store) {
            codes::record(store.root(), &m.serial, code.value.expose());
        }
        self.cache.put(step.index, hop, &creds);
        Ok(Ok(creds))
    }

    /// Takes every lock this run needs before any request, always in the same order (the final
    /// hop's is already held; then earlier hops backwards; the MFA session's last), so that runs
    /// of profiles sharing hops or a device cannot deadlock. An intermediate hop found cached
    /// ends the walk (unless `fresh`): the run starts after it, from its credentials.
    fn lock_earlier_hops(
        &self,
        last: usize,
        fresh: bool,
    ) -> Result<(Vec<HeldLock>, usize, Option<Signer>), Error> {
        let mut locks = Vec::new();
        let cached = |i: usize| {
            (!fresh)
                .then(|| self.cache.get(i, REUSE_MARGIN))
                .flatten()
                .map(|entry| Signer {
                    credentials: entry.credentials(),
                    cached: self.cache.key(i),
                })
        };
        for i in (0..last).rev() {
            if let Some(signer) = cached(i) {
                return Ok((locks, i + 1, Some(signer)));
            }
            locks.push(self.cache.lock(i, &self.plan.hops[i].profile)?);
            if let Some(signer) = cached(i) {
                return Ok((locks, i + 1, Some(signer)));
            }
        }
        Ok((locks, 0, None))
    }

    /// Whether `code` was accepted for `mfa`'s device moments ago (by any run): AWS would
    /// refuse it, so it is refused before any network call.
    fn recently_used(&self, mfa: &Mfa, code: &OneTimeCode) -> bool {
        self.cache
            .store
            .is_some_and(|store| codes::recently_used(store.root(), &mfa.serial, code.expose()))
    }

    /// A new MFA session of the base keys for `mfa`'s device, made with `code` and cached.
    async fn new_mfa_session(
        &self,
        sts: &sts::Sts,
        hop: &Hop,
        mfa: &Mfa,
        base: &Credentials,
        code: &mfa::Code,
    ) -> Result<Credentials, Error> {
        let plan = self.plan;
        let session = sts
            .get_session_token(
                base,
                plan.base.profile(),
                hop,
                Some((mfa.serial.as_str(), &code.value)),
                mfa.session_duration,
            )
            .await?;
        if let Some(s) = self.cache.store {
            codes::record(s.root(), &mfa.serial, code.value.expose());
            if let (Some(k), Some(entry)) = (
                mfa_session_key(plan, mfa, self.ctx),
                Entry::new(
                    Kind::MfaSession,
                    plan.base.profile(),
                    None,
                    Some(&mfa.serial),
                    &session,
                ),
            ) {
                s.put(&k, &entry);
            }
        }
        Ok(session)
    }
}

/// The MFA session of the plan's long-term keys for `mfa`'s device, got as the first hop of a
/// chain gets it: from the cache, else with a code (`mfa_token`, `mfa_process`, the terminal)
/// through `GetSessionToken`, then cached, under the same lock. For `keys rotate`, whose profile
/// assumes no role: IAM policies commonly require MFA to manage one's own keys.
pub async fn mfa_session(
    plan: &Plan,
    mfa: &Mfa,
    base: &Credentials,
    sts: &sts::Sts,
    store: Option<&Store>,
    mfa_token: Option<OneTimeCode>,
    ctx: &Context,
) -> Result<Credentials, Error> {
    // A hop with no role: only its profile and device are read, for prompts and messages.
    let hop = Hop {
        profile: plan.profile.clone(),
        role_arn: String::new(),
        session_name: String::new(),
        external_id: None,
        mfa: Some(mfa.clone()),
        duration: None,
        source_identity: None,
        chained: false,
    };
    let run = Run {
        plan,
        ctx,
        cache: ChainCache { store, keys: None },
    };
    let key = mfa_session_key(plan, mfa, ctx);
    let _lock = match (store, &key) {
        (Some(store), Some(k)) => {
            lenient(store.lock(k, &format!("an MFA session for `{}`", mfa.serial)))?
        }
        _ => None,
    };
    if let (Some(store), Some(k)) = (store, &key)
        && let Some(entry) = store.get(k, REUSE_MARGIN)
    {
        tracing::info!(serial = %mfa.serial, "using the cached MFA session");
        return Ok(entry.credentials());
    }
    let mut codes = Codes {
        flag: mfa_token,
        prepared: None,
        flag_taken_by: None,
        taken: Vec::new(),
        timeout: ctx.process_timeout()?,
    };
    // No codes were collected up front here: `for_` only names what the code is for.
    let for_ = match &key {
        Some(k) => CodeFor::Session(k.clone()),
        None => CodeFor::Hop {
            profile: plan.profile.clone(),
            index: 0,
        },
    };
    let code = codes.next(&run, &hop, mfa, &for_)?;
    run.new_mfa_session(sts, &hop, mfa, base, &code).await
}

/// The codes one run sends: `--mfa-token` to the first hop that needs a code, then each other
/// hop's own source (`mfa_process`, the terminal). A second code from one device must be its
/// next one, since AWS refuses a code twice.
struct Codes<'p> {
    flag: Option<OneTimeCode>,
    prepared: Option<&'p Prepared>,
    /// The hop that took `--mfa-token`, for the message when a second code cannot be had.
    flag_taken_by: Option<&'p str>,
    taken: Vec<(&'p str, OneTimeCode)>,
    timeout: Duration,
}

impl<'p> Codes<'p> {
    fn next(
        &mut self,
        run: &Run<'_>,
        hop: &'p Hop,
        mfa: &'p Mfa,
        for_: &CodeFor,
    ) -> Result<mfa::Code, Error> {
        let code = if let Some(value) = self.flag.take() {
            self.flag_taken_by = Some(&hop.profile);
            mfa::Code {
                value,
                origin: "`--mfa-token`".into(),
            }
        } else if let Some(prepared) = self.prepared {
            // Runs made side by side must not prompt: the terminal is not theirs to share.
            prepared.get(for_).ok_or_else(|| Error::MfaNotCollected {
                profile: run.plan.profile.clone(),
                hop: hop.profile.clone(),
                serial: mfa.serial.clone(),
            })?
        } else {
            let taken = &self.taken;
            let spent = |code: &OneTimeCode| {
                taken.iter().any(|(s, c)| *s == mfa.serial && c == code)
                    || run.recently_used(mfa, code)
            };
            mfa::code_for(&hop.profile, mfa, self.timeout, &spent).map_err(|err| {
                match (err, self.flag_taken_by) {
                    (Error::MfaUnavailable { .. }, Some(first)) => Error::MfaSecondCode {
                        profile: run.plan.profile.clone(),
                        first: first.to_owned(),
                        hop: hop.profile.clone(),
                        serial: mfa.serial.clone(),
                    },
                    (err, _) => err,
                }
            })?
        };
        if run.recently_used(mfa, &code.value) {
            return Err(Error::MfaCodeReused {
                origin: code.origin,
                serial: mfa.serial.clone(),
            });
        }
        self.taken.push((&mfa.serial, code.value.clone()));
        Ok(code)
    }
}

/// Whether STS refused the signing credentials themselves (rather than the role): the sign that
/// a cached source has gone bad. An MFA session that is denied may have lost its MFA standing
/// (a deactivated device), so for one that counts too.
fn is_refusal_of_source(error: &Error, from_mfa_session: bool) -> bool {
    match error {
        Error::Sts { failure, .. } => {
            matches!(
                failure,
                StsFailure::BadSourceKeys | StsFailure::ExpiredToken
            ) || (from_mfa_session && *failure == StsFailure::AccessDenied)
        }
        _ => false,
    }
}

/// A lock, or none where the cache is unusable.
type HeldLock = Option<crate::cache::lock::Lock>;

/// The cache as one chain sees it: one key per hop.
struct ChainCache<'a> {
    store: Option<&'a Store>,
    keys: Option<Vec<Key>>,
}

impl ChainCache<'_> {
    fn key(&self, hop: usize) -> Option<Key> {
        self.keys.as_ref().map(|keys| keys[hop].clone())
    }

    fn get(&self, hop: usize, needed: Duration) -> Option<Entry> {
        self.store?.get(&self.keys.as_ref()?[hop], needed)
    }

    fn lock(&self, hop: usize, profile: &str) -> Result<HeldLock, Error> {
        match (self.store, &self.keys) {
            (Some(store), Some(keys)) => {
                lenient(store.lock(&keys[hop], &format!("credentials for profile `{profile}`")))
            }
            _ => Ok(None),
        }
    }

    fn put(&self, index: usize, hop: &Hop, creds: &Credentials) {
        let serial = hop.mfa.as_ref().map(|m| m.serial.as_str());
        if let (Some(store), Some(keys)) = (self.store, &self.keys)
            && let Some(entry) = Entry::new(
                Kind::RoleSession,
                &hop.profile,
                Some(&hop.role_arn),
                serial,
                creds,
            )
        {
            store.put(&keys[index], &entry);
        }
    }
}

/// A cache that cannot be written must not stop the run: it goes on unlocked and uncached.
fn lenient(lock: Result<crate::cache::lock::Lock, Error>) -> Result<HeldLock, Error> {
    match lock {
        Ok(lock) => Ok(Some(lock)),
        Err(err @ Error::Cache { .. }) => {
            tracing::warn!("{err}; going on without the cache");
            Ok(None)
        }
        Err(err) => Err(err),
    }
}

/// Says before any call, or any code spent, when `--min-valid` asks for more than the final
/// hop can ever get: an hour when it is chained or made from an MFA session, else what it asks
/// for (`duration_seconds`, `--duration`, or STS's default of an hour).
fn check_min_valid_possible(
    plan: &Plan,
    last: usize,
    wanted: Duration,
    ctx: &Context,
) -> Result<(), Error> {
    let hop = &plan.hops[last];
    let (available, cap) = if hop.chained {
        (CHAINED_MAX, MinValidCap::Chained)
    } else if route(plan, last, ctx) == Route::MfaSession {
        (CHAINED_MAX, MinValidCap::MfaSession)
    } else {
        let asked = hop.duration.unwrap_or(CHAINED_MAX);
        (
            asked,
            MinValidCap::Requested {
                defaulted: hop.duration.is_none(),
            },
        )
    };
    if available < wanted {
        return Err(Error::MinValid {
            profile: plan.profile.clone(),
            available,
            wanted,
            cap,
        });
    }
    Ok(())
}

fn check_min_valid(plan: &Plan, creds: &Credentials, wanted: Duration) -> Result<(), Error> {
    let left = creds
        .expiration
        .and_then(|e| e.duration_since(SystemTime::now()).ok())
        .unwrap_or_default();
    if left < wanted {
        return Err(Error::MinValid {
            profile: plan.profile.clone(),
            available: left,
            wanted,
            cap: MinValidCap::Issued,
        });
    }
    Ok(())
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
    Some(key::mfa_session(
        long_term_key_id(plan, ctx)?,
        &mfa.serial,
        plan,
        ctx,
    ))
}

/// The access key ID of the plan's long-term keys, if it starts from some.
fn long_term_key_id<'a>(plan: &'a Plan, ctx: &'a Context) -> Option<&'a str> {
    Some(match &plan.base {
        Base::StaticKeys { access_key_id, .. } => access_key_id.as_str(),
        Base::StoredKeys { profile, .. } => {
            crate::keys::index(ctx).get(profile)?.access_key_id.as_str()
        }
        Base::Environment { .. } => ctx.env_credentials.as_ref()?.access_key_id.as_str(),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Overrides, Profiles};
    use crate::secret::Secret;

    const SERIAL: &str = "arn:aws:iam::111111111111:mfa/me";
    const CONFIG: &str = "[profile m]\nrole_arn = arn:aws:iam::222222222222:role/r\nsource_profile = contractor\nmfa_serial = arn:aws:iam::111111111111:mfa/me\nrole_session_name = mm\n\n\
        [profile n]\nrole_arn = arn:aws:iam::222222222222:role/other\nsource_profile = contractor\nmfa_serial = arn:aws:iam::111111111111:mfa/me\nrole_session_name = nn\n\n\
        [profile long]\nrole_arn = arn:aws:iam::222222222222:role/r\nsource_profile = contractor\nmfa_serial = arn:aws:iam::111111111111:mfa/me\nduration_seconds = 7200\nrole_session_name = ll\n\n\
        [profile plain]\nrole_arn = arn:aws:iam::222222222222:role/r\nsource_profile = contractor\nrole_session_name = pp\n";
    const CREDENTIALS: &str =
        "[contractor]\naws_access_key_id = AKIAEXAMPLE000000001\naws_secret_access_key = secret\n";

    #[test]
    fn profiles_sharing_an_mfa_session_need_one_code_until_it_is_cached() {
        let dir = tempfile::tempdir().unwrap();
        let ctx = Context {
            cache_dir: Some(dir.path().join("cache")),
            ..Context::default()
        };
        let profiles = Profiles::from_texts(CONFIG, CREDENTIALS).unwrap();
        let store = Store::open(&ctx).unwrap();
        let needs = |name: &str, opts: &Options| {
            let plan = Plan::resolve(&profiles, name, &Overrides::default(), &ctx).unwrap();
            codes_needed(&plan, Some(&store), opts, &ctx)
        };
        let cached = Options::default();
        let (m, n) = (needs("m", &cached), needs("n", &cached));
        assert_eq!((m.len(), n.len()), (1, 1));
        assert_eq!(m[0].for_, n[0].for_, "one MFA session, one code");
        let CodeFor::Session(session) = &m[0].for_ else {
            panic!("{:?}", m[0].for_)
        };
        assert!(needs("plain", &cached).is_empty());
        // Over an hour, the code goes to AssumeRole: it buys that role's session, not the MFA one.
        let long = needs("long", &cached);
        assert_eq!(long.len(), 1);
        assert_ne!(long[0].for_, m[0].for_);

        let creds = Credentials {
            access_key_id: "ASIAEXAMPLE000000002".into(),
            secret_access_key: Secret::new("s"),
            session_token: Some(Secret::new("t")),
            expiration: Some(SystemTime::now() + Duration::from_hours(8)),
            account_id: None,
        };
        let entry = Entry::new(Kind::MfaSession, "contractor", None, Some(SERIAL), &creds);
        store.put(session, &entry.unwrap());
        assert!(needs("m", &cached).is_empty() && needs("n", &cached).is_empty());
        let fresh = Options {
            no_cache: true,
            ..Options::default()
        };
        assert_eq!(
            needs("m", &fresh).len(),
            1,
            "--no-cache uses no cached session"
        );
    }
}
