//! The cold path: locks taken in one order, every code collected before the first request,
//! one STS call per hop, each result cached, and a cached source that STS refuses evicted and
//! the chain started once more from the source.

use super::source;
use super::steps::{CodeFor, Prepared, Route, hop_needs, mfa_session_key, route};
use super::{AssumeError, MinValidCap, Options, Served};
use crate::aws::StsFailure;
use crate::aws::sts;
use crate::cache::lock::{HolderFailure, Lock};
use crate::cache::sessions::{Entry, Kind, REUSE_MARGIN, Store};
use crate::cache::{codes, id, id::Key};
use crate::config::{Hop, Mfa, Plan};
use crate::context::Context;
use crate::credentials::Credentials;
use crate::duration::CHAINED_MAX;
use crate::exit::Diagnose;
use crate::mfa;
use crate::secret::OneTimeCode;
use std::time::{Duration, SystemTime};

/// The cold path, for callers that already run an async runtime. Parallel runs wait on the
/// final hop's lock, then find its session in the cache instead of calling STS again.
pub async fn obtain(
    plan: &Plan,
    store: Option<&Store>,
    opts: &Options,
    ctx: &Context,
) -> Result<(Credentials, Served), AssumeError> {
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
            keys: id::chain(plan, ctx),
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

pub(super) enum Attempt {
    Done(Credentials, Served),
    /// STS refused credentials that came from the cache; `key` names them.
    CachedSourceRefused {
        key: Key,
        error: AssumeError,
    },
}

/// One hop of this run, as it will be made.
pub(super) struct Step<'p> {
    pub(super) index: usize,
    pub(super) hop: &'p Hop,
    pub(super) route: Route,
    /// The code this step sends: to `GetSessionToken` (MFA session route) or `AssumeRole`.
    pub(super) code: Option<mfa::Code>,
    /// The cached MFA session this step is assumed from, and its key.
    pub(super) mfa_session: Option<(Key, Credentials)>,
}

/// Credentials that sign the next call, and the cache entry they came from, if any.
pub(super) struct Signer {
    pub(super) credentials: Credentials,
    pub(super) cached: Option<Key>,
}

pub(super) struct Run<'a> {
    pub(super) plan: &'a Plan,
    pub(super) ctx: &'a Context,
    pub(super) cache: ChainCache<'a>,
}

impl Run<'_> {
    /// Makes the chain up to `last`, reusing cached sources unless `fresh`.
    pub(super) async fn attempt(
        &self,
        last: usize,
        opts: &Options,
        fresh: bool,
    ) -> Result<Attempt, AssumeError> {
        let final_lock = self.cache.lock(last, &self.plan.profile)?;
        // The run we waited for failed: its answer is ours, at once.
        if let Some(failure) = final_lock.as_ref().and_then(Lock::holder_failure) {
            return Err(AssumeError::HolderFailed {
                profile: self.plan.profile.clone(),
                message: failure.message,
                exit: failure.exit,
            });
        }
        let result = self.attempt_locked(last, opts, fresh).await;
        if let Some(lock) = &final_lock {
            let failure = result.as_ref().err().map(|e| HolderFailure {
                message: e.to_string(),
                exit: e.exit() as u8,
            });
            lock.record(failure.as_ref());
        }
        result
    }

    /// [`Self::attempt`], under the final hop's lock.
    async fn attempt_locked(
        &self,
        last: usize,
        opts: &Options,
        fresh: bool,
    ) -> Result<Attempt, AssumeError> {
        let (plan, ctx) = (self.plan, self.ctx);
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
            timeout: ctx.env.process_timeout()?,
        };
        let mut steps = Vec::with_capacity(last + 1 - first);
        for need in hop_needs(plan, first..=last, self.cache.keys.as_deref(), ctx) {
            let mut step = Step {
                index: need.index,
                hop: need.hop,
                route: need.route,
                code: None,
                mfa_session: None,
            };
            if let Some(code) = need.code {
                let m = code.mfa;
                if let (Some(store), Some(k)) = (self.cache.store, &code.session_key) {
                    let what = format!("an MFA session for `{}`", m.serial);
                    locks.push(lenient(store.lock(k, &what).map_err(Into::into))?);
                    if !fresh && let Some(entry) = store.get(k, REUSE_MARGIN) {
                        tracing::info!(serial = %m.serial, "using the cached MFA session");
                        step.mfa_session = Some((k.clone(), entry.credentials()));
                    }
                }
                if step.mfa_session.is_none() {
                    step.code = Some(codes.next(self, need.hop, m, &code.for_)?);
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
            // The base credentials are read only when a hop is signed with them: a hop assumed
            // from a cached MFA session needs neither the keys nor the key store behind them
            // (no passphrase, no keyring prompt).
            let from = signer.take();
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
        let Some(creds) = signer.map(|s| s.credentials) else {
            unreachable!("the loop always makes the final hop")
        };
        check_min_valid(plan, &creds, opts.min_valid)?;
        Ok(Attempt::Done(creds, Served::Sts))
    }

    /// One hop: its STS call (and the MFA session it needs), its result cached. The inner
    /// `Err` is a cached source that STS refused, for the caller to evict and start over.
    pub(super) async fn make(
        &self,
        sts: &sts::Sts,
        step: Step<'_>,
        from: Option<Signer>,
        source_profile: &str,
    ) -> Result<Result<Credentials, Attempt>, AssumeError> {
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
                    (None, Some(code)) => {
                        let base = self.signer_or_base(from).await?;
                        Signer {
                            credentials: self
                                .new_mfa_session(sts, hop, m, &base.credentials, &code)
                                .await?,
                            cached: None,
                        }
                    }
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
            _ => (
                self.signer_or_base(from).await?,
                std::borrow::Cow::Borrowed(hop),
                step.code,
            ),
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
                        Ok(Err(Attempt::CachedSourceRefused {
                            key,
                            error: error.into(),
                        }))
                    }
                    _ => Err(error.into()),
                };
            }
        };
        if let (Some(code), Some(m), Some(store)) = (&code, &hop.mfa, self.cache.store) {
            codes::record(store.root(), &m.serial, code.value.expose());
        }
        self.cache.put(step.index, hop, &creds);
        Ok(Ok(creds))
    }

    /// `from`, else the plan's base credentials, read now.
    async fn signer_or_base(&self, from: Option<Signer>) -> Result<Signer, AssumeError> {
        match from {
            Some(signer) => Ok(signer),
            None => Ok(Signer {
                credentials: source::base_credentials(&self.plan.base, &self.plan.region, self.ctx)
                    .await?,
                cached: None,
            }),
        }
    }

    /// Takes every lock this run needs before any request, always in the same order (the final
    /// hop's is already held; then earlier hops backwards; the MFA session's last), so that runs
    /// of profiles sharing hops or a device cannot deadlock. An intermediate hop found cached
    /// ends the walk (unless `fresh`): the run starts after it, from its credentials.
    pub(super) fn lock_earlier_hops(
        &self,
        last: usize,
        fresh: bool,
    ) -> Result<(Vec<HeldLock>, usize, Option<Signer>), AssumeError> {
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
    pub(super) fn recently_used(&self, mfa: &Mfa, code: &OneTimeCode) -> bool {
        self.cache
            .store
            .is_some_and(|store| codes::recently_used(store.root(), &mfa.serial, code.expose()))
    }

    /// A new MFA session of the base keys for `mfa`'s device, made with `code` and cached.
    pub(super) async fn new_mfa_session(
        &self,
        sts: &sts::Sts,
        hop: &Hop,
        mfa: &Mfa,
        base: &Credentials,
        code: &mfa::Code,
    ) -> Result<Credentials, AssumeError> {
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

/// The codes one run sends: `--mfa-token` to the first hop that needs a code, then each other
/// hop's own source (`mfa_process`, the terminal). A second code from one device must be its
/// next one, since AWS refuses a code twice.
pub(super) struct Codes<'p> {
    pub(super) flag: Option<OneTimeCode>,
    pub(super) prepared: Option<&'p Prepared>,
    /// The hop that took `--mfa-token`, for the message when a second code cannot be had.
    pub(super) flag_taken_by: Option<&'p str>,
    pub(super) taken: Vec<(&'p str, OneTimeCode)>,
    pub(super) timeout: Duration,
}

impl<'p> Codes<'p> {
    pub(super) fn next(
        &mut self,
        run: &Run<'_>,
        hop: &'p Hop,
        mfa: &'p Mfa,
        for_: &CodeFor,
    ) -> Result<mfa::Code, AssumeError> {
        let code = if let Some(value) = self.flag.take() {
            self.flag_taken_by = Some(&hop.profile);
            mfa::Code {
                value,
                origin: "`--mfa-token`".into(),
            }
        } else if let Some(prepared) = self.prepared {
            // Runs made side by side must not prompt: the terminal is not theirs to share.
            prepared
                .get(for_)
                .ok_or_else(|| crate::mfa::MfaError::MfaNotCollected {
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
                    (crate::mfa::MfaError::MfaUnavailable { .. }, Some(first)) => {
                        crate::mfa::MfaError::MfaSecondCode {
                            profile: run.plan.profile.clone(),
                            first: first.to_owned(),
                            hop: hop.profile.clone(),
                            serial: mfa.serial.clone(),
                        }
                    }
                    (err, _) => err,
                }
            })?
        };
        if run.recently_used(mfa, &code.value) {
            return Err(crate::mfa::MfaError::MfaCodeReused {
                origin: code.origin,
                serial: mfa.serial.clone(),
            }
            .into());
        }
        self.taken.push((&mfa.serial, code.value.clone()));
        Ok(code)
    }
}

/// Whether STS refused the signing credentials themselves (rather than the role): the sign that
/// a cached source has gone bad. An MFA session that is denied may have lost its MFA standing
/// (a deactivated device), so for one that counts too.
pub(super) fn is_refusal_of_source(error: &crate::aws::AwsError, from_mfa_session: bool) -> bool {
    match error {
        crate::aws::AwsError::Sts { failure, .. } => {
            matches!(
                failure,
                StsFailure::BadSourceKeys | StsFailure::ExpiredToken
            ) || (from_mfa_session && *failure == StsFailure::AccessDenied)
        }
        _ => false,
    }
}

/// A lock, or none where the cache is unusable.
pub(super) type HeldLock = Option<crate::cache::lock::Lock>;

/// The cache as one chain sees it: one key per hop.
pub(super) struct ChainCache<'a> {
    pub(super) store: Option<&'a Store>,
    pub(super) keys: Option<Vec<Key>>,
}

impl ChainCache<'_> {
    pub(super) fn key(&self, hop: usize) -> Option<Key> {
        self.keys.as_ref().map(|keys| keys[hop].clone())
    }

    pub(super) fn get(&self, hop: usize, needed: Duration) -> Option<Entry> {
        self.store?.get(&self.keys.as_ref()?[hop], needed)
    }

    pub(super) fn lock(&self, hop: usize, profile: &str) -> Result<HeldLock, AssumeError> {
        match (self.store, &self.keys) {
            (Some(store), Some(keys)) => lenient(
                store
                    .lock(&keys[hop], &format!("credentials for profile `{profile}`"))
                    .map_err(Into::into),
            ),
            _ => Ok(None),
        }
    }

    pub(super) fn put(&self, index: usize, hop: &Hop, creds: &Credentials) {
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
pub(super) fn lenient(
    lock: Result<crate::cache::lock::Lock, AssumeError>,
) -> Result<HeldLock, AssumeError> {
    match lock {
        Ok(lock) => Ok(Some(lock)),
        Err(err @ AssumeError::Cache(crate::cache::CacheError::Cache { .. })) => {
            tracing::warn!("{err}; going on without the cache");
            Ok(None)
        }
        Err(err) => Err(err),
    }
}

/// Says before any call, or any code spent, when `--min-valid` asks for more than the final
/// hop can ever get: an hour when it is chained or made from an MFA session, else what it asks
/// for (`duration_seconds`, `--duration`, or STS's default of an hour).
pub(super) fn check_min_valid_possible(
    plan: &Plan,
    last: usize,
    wanted: Duration,
    ctx: &Context,
) -> Result<(), AssumeError> {
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
        return Err(AssumeError::MinValid {
            profile: plan.profile.clone(),
            available,
            wanted,
            cap,
        });
    }
    Ok(())
}

pub(super) fn check_min_valid(
    plan: &Plan,
    creds: &Credentials,
    wanted: Duration,
) -> Result<(), AssumeError> {
    let left = creds
        .expiration
        .and_then(|e| e.duration_since(SystemTime::now()).ok())
        .unwrap_or_default();
    if left < wanted {
        return Err(AssumeError::MinValid {
            profile: plan.profile.clone(),
            available: left,
            wanted,
            cap: MinValidCap::Issued,
        });
    }
    Ok(())
}
