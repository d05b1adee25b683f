//! A profile's own session: a stored key without a role hands over a `GetSessionToken`
//! session of its own (with MFA, the same MFA session its roles are assumed from), and `keys
//! rotate` gets the MFA session that IAM policies commonly require.

use super::run::{ChainCache, Codes, Run, check_min_valid, lenient};
use super::source;
use super::steps::{CodeFor, long_term_key_id, mfa_session_key};
use super::{AssumeError, Options, Served, runtime};
use crate::aws::sts;
use crate::cache::sessions::{Entry, Kind, REUSE_MARGIN, Store};
use crate::cache::{codes, id, id::Key};
use crate::config::{Base, Hop, Mfa, OwnSession, Plan};
use crate::context::Context;
use crate::credentials::Credentials;
use crate::mfa;
use crate::secret::OneTimeCode;

/// A profile without a role hands over what it has (stored keys only with `--no-session`).
pub(super) fn own_credentials(plan: &Plan, ctx: &Context) -> Result<Credentials, AssumeError> {
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
pub(super) async fn own_session(
    plan: &Plan,
    own: &OwnSession,
    store: Option<&Store>,
    opts: &Options,
    ctx: &Context,
) -> Result<(Credentials, Served), AssumeError> {
    let key = store.and(own_session_key(plan, own, ctx));
    let _lock = match (store, &key) {
        (Some(store), Some(k)) => lenient(
            store
                .lock(k, &format!("the session of profile `{}`", plan.profile))
                .map_err(Into::into),
        )?,
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
                None => mfa::code_for(&plan.profile, m, ctx.env.process_timeout()?, &spent)?,
            };
            if spent(&code.value) {
                return Err(crate::mfa::MfaError::MfaCodeReused {
                    origin: code.origin,
                    serial: m.serial.clone(),
                }
                .into());
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
        None => Some(id::mfa_session(long_term_key_id(plan, ctx)?, "", plan, ctx)),
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
) -> Result<Credentials, AssumeError> {
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
        (Some(store), Some(k)) => lenient(
            store
                .lock(k, &format!("an MFA session for `{}`", mfa.serial))
                .map_err(Into::into),
        )?,
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
        timeout: ctx.env.process_timeout()?,
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
