//! Carrying out a plan: cached sessions where they are still good, otherwise base credentials
//! and one STS call per hop, each stored for the next run. This is the only place that builds
//! an async runtime, and only when the cache cannot answer.
//!
//! MFA: when a chain starts from long-term keys, the first hop's code buys an MFA session
//! (`GetSessionToken`, cached per key and device), from which every role with that device is
//! then assumed without a new code. AWS caps a role session made from one at an hour, so a hop
//! that asks for longer sends its code to `AssumeRole` directly.

use crate::cache::sessions::{Entry, Kind, REUSE_MARGIN, Store};
use crate::cache::{codes, key, key::Key};
use crate::config::{Base, Hop, Mfa, Plan};
use crate::credentials::Credentials;
use crate::duration::CHAINED_MAX;
use crate::error::Error;
use crate::{env_vars, mfa, source, sts};
use std::time::{Duration, SystemTime};

/// How the cache may be used.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Make a fresh call for the final hop even if a cached session is good.
    pub no_cache: bool,
    /// The least lifetime the handed-over credentials must have left.
    pub min_valid: Duration,
}

/// The credentials the plan leads to, from the cache or from STS.
pub fn credentials_for(
    plan: &Plan,
    store: Option<&Store>,
    opts: &Options,
) -> Result<Credentials, Error> {
    if plan.hops.is_empty() {
        return own_credentials(plan);
    }
    if !opts.no_cache
        && let Some(credentials) = warm(plan, store, opts)
    {
        return Ok(credentials);
    }
    runtime()?.block_on(obtain(plan, store, opts))
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
pub fn warm(plan: &Plan, store: Option<&Store>, opts: &Options) -> Option<Credentials> {
    let store = store?;
    let keys = key::chain(plan)?;
    let entry = store.get(keys.last()?, opts.min_valid)?;
    tracing::info!(profile = %plan.profile, expires = %crate::credentials::rfc3339(entry.expires()), "served from the cache");
    Some(entry.credentials())
}

/// A profile without a role hands over what it has.
fn own_credentials(plan: &Plan) -> Result<Credentials, Error> {
    if let Base::StaticKeys {
        session_token: None,
        ..
    } = plan.base
    {
        tracing::warn!(
            "profile `{}` assumes no role: handing over its long-term keys as they are",
            plan.profile
        );
    }
    if let Base::StaticKeys { .. } = plan.base {
        // Keys in the file need no runtime, no TLS and no SDK.
        return pollster::block_on(source::base_credentials(&plan.base, &plan.region));
    }
    runtime()?.block_on(source::base_credentials(&plan.base, &plan.region))
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

fn route(plan: &Plan, index: usize) -> Route {
    let hop = &plan.hops[index];
    if hop.mfa.is_none() {
        return Route::Plain;
    }
    let long_term = match &plan.base {
        Base::StaticKeys { session_token, .. } => session_token.is_none(),
        Base::Environment { .. } => std::env::var(env_vars::AWS_SESSION_TOKEN)
            .unwrap_or_default()
            .is_empty(),
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
) -> Result<Credentials, Error> {
    let cache = ChainCache {
        store,
        keys: key::chain(plan),
    };
    let Some(last) = plan.hops.len().checked_sub(1) else {
        return source::base_credentials(&plan.base, &plan.region).await;
    };
    // A session cannot outlast what it asks for: say so before spending a call or a code.
    let asked = plan.hops[last]
        .duration
        .unwrap_or(crate::duration::CHAINED_MAX);
    if asked < opts.min_valid {
        return Err(Error::MinValid {
            profile: plan.profile.clone(),
            available: asked,
            wanted: opts.min_valid,
        });
    }
    let _final_lock = cache.lock(last, &plan.profile)?;
    if !opts.no_cache
        && let Some(entry) = cache.get(last, opts.min_valid)
    {
        return Ok(entry.credentials());
    }

    let (mut locks, start, mut source) = lock_earlier_hops(&cache, plan, last)?;
    let routes: Vec<Route> = (0..=last).map(|i| route(plan, i)).collect();
    // Every code this run needs, asked for and checked before the first request, under the
    // locks: parallel runs ask once, and a chain never stops half-way for a prompt.
    let mut codes: Vec<Option<mfa::Code>> = (0..=last).map(|_| None).collect();
    let mut mfa_sessions: Vec<Option<Credentials>> = (0..=last).map(|_| None).collect();
    for i in start..=last {
        let (hop, route) = (&plan.hops[i], routes[i]);
        let Some(m) = &hop.mfa else { continue };
        if route == Route::MfaSession {
            if let (Some(s), Some(k)) = (store, mfa_session_key(plan, m)) {
                locks.push(lenient(
                    s.lock(&k, &format!("an MFA session for `{}`", m.serial)),
                )?);
            }
            if let Some(entry) = cached_mfa_session(plan, store, m) {
                tracing::info!(serial = %m.serial, "using the cached MFA session");
                mfa_sessions[i] = Some(entry.credentials());
                continue;
            }
        }
        codes[i] = Some(checked_code(store, hop, m)?);
    }

    let sts = sts::Sts::new(&plan.profile, &plan.region, plan.sdk_settings.is_some()).await;
    for (i, (hop, route)) in plan.hops.iter().zip(&routes).enumerate().skip(start) {
        let source_profile = if i == 0 {
            plan.base.profile()
        } else {
            plan.hops[i - 1].profile.as_str()
        };
        let from = match source.take() {
            Some(creds) => creds,
            None => source::base_credentials(&plan.base, &plan.region).await?,
        };
        let creds = match (route, &hop.mfa, codes[i].take()) {
            (Route::MfaSession, Some(m), code) => {
                let session = match (mfa_sessions[i].take(), code) {
                    (Some(session), _) => session,
                    (None, Some(code)) => {
                        new_mfa_session(&sts, plan, store, hop, m, &from, &code).await?
                    }
                    (None, None) => {
                        unreachable!("a code was collected for every uncached MFA session")
                    }
                };
                let without_code = Hop {
                    mfa: None,
                    ..hop.clone()
                };
                sts.assume_role(&session, source_profile, &without_code, None)
                    .await?
            }
            (Route::DirectCode, Some(m), Some(code)) => {
                let creds = sts
                    .assume_role(&from, source_profile, hop, Some(code.value.clone()))
                    .await?;
                if let Some(s) = store {
                    codes::record(s.root(), &m.serial, &code.value);
                }
                creds
            }
            _ => sts.assume_role(&from, source_profile, hop, None).await?,
        };
        if i == last {
            check_min_valid(plan, &creds, opts.min_valid)?;
        }
        cache.put(i, hop, &creds);
        source = Some(creds);
    }
    source.ok_or_else(|| unreachable!("the loop always makes the final hop"))
}

/// A lock, or none where the cache is unusable.
type HeldLock = Option<crate::cache::lock::Lock>;

/// Takes every lock this run needs before any request, always in the same order (the final
/// hop's is already held; then earlier hops backwards; the MFA session's last), so that runs of
/// profiles sharing hops or a device cannot deadlock. An intermediate hop found cached ends the
/// walk: the run starts after it, from its credentials.
fn lock_earlier_hops(
    cache: &ChainCache<'_>,
    plan: &Plan,
    last: usize,
) -> Result<(Vec<HeldLock>, usize, Option<Credentials>), Error> {
    let mut locks = Vec::new();
    for i in (0..last).rev() {
        if let Some(entry) = cache.get(i, REUSE_MARGIN) {
            return Ok((locks, i + 1, Some(entry.credentials())));
        }
        locks.push(cache.lock(i, &plan.hops[i].profile)?);
        if let Some(entry) = cache.get(i, REUSE_MARGIN) {
            return Ok((locks, i + 1, Some(entry.credentials())));
        }
    }
    Ok((locks, 0, None))
}

/// The cache as one chain sees it: one key per hop.
struct ChainCache<'a> {
    store: Option<&'a Store>,
    keys: Option<Vec<Key>>,
}

impl ChainCache<'_> {
    fn get(&self, hop: usize, needed: Duration) -> Option<Entry> {
        self.store?.get(&self.keys.as_ref()?[hop], needed)
    }

    fn lock(&self, hop: usize, profile: &str) -> Result<Option<crate::cache::lock::Lock>, Error> {
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
fn lenient(
    lock: Result<crate::cache::lock::Lock, Error>,
) -> Result<Option<crate::cache::lock::Lock>, Error> {
    match lock {
        Ok(lock) => Ok(Some(lock)),
        Err(err @ Error::Cache { .. }) => {
            tracing::warn!("{err}; going on without the cache");
            Ok(None)
        }
        Err(err) => Err(err),
    }
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
        });
    }
    Ok(())
}

fn mfa_session_key(plan: &Plan, mfa: &Mfa) -> Option<Key> {
    let access_key_id = match &plan.base {
        Base::StaticKeys { access_key_id, .. } => access_key_id.clone(),
        Base::Environment { .. } => std::env::var(env_vars::AWS_ACCESS_KEY_ID).ok()?,
        _ => return None,
    };
    Some(key::mfa_session(&access_key_id, &mfa.serial, plan))
}

fn cached_mfa_session(plan: &Plan, store: Option<&Store>, mfa: &Mfa) -> Option<Entry> {
    store?.get(&mfa_session_key(plan, mfa)?, REUSE_MARGIN)
}

/// A new MFA session of the base keys for `mfa`'s device, made with `code` and cached.
async fn new_mfa_session(
    sts: &sts::Sts,
    plan: &Plan,
    store: Option<&Store>,
    hop: &Hop,
    mfa: &Mfa,
    base: &Credentials,
    code: &mfa::Code,
) -> Result<Credentials, Error> {
    let session = sts
        .get_session_token(
            base,
            plan.base.profile(),
            hop,
            &mfa.serial,
            code.value.clone(),
            mfa.session_duration,
        )
        .await?;
    if let Some(s) = store {
        codes::record(s.root(), &mfa.serial, &code.value);
        if let (Some(k), Some(entry)) = (
            mfa_session_key(plan, mfa),
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

/// A code, refused before any network call if it was just used for the same device.
fn checked_code(store: Option<&Store>, hop: &Hop, mfa: &Mfa) -> Result<mfa::Code, Error> {
    // TODO(lead): from Context (`process::process_timeout` of `ASSUME_ROLE_PROCESS_TIMEOUT`).
    let code = mfa::code_for(hop, mfa, crate::process::timeout_from_env()?)?;
    if let Some(s) = store
        && codes::recently_used(s.root(), &mfa.serial, &code.value)
    {
        return Err(Error::MfaCodeReused {
            origin: code.origin,
            serial: mfa.serial.clone(),
        });
    }
    Ok(code)
}
