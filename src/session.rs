//! Profile name → plan → credentials: the front half of every credential command.
//!
//! The warm path reads a cached plan (so that a large config is not parsed) and the cached
//! session it names, and nothing else: no runtime, no TLS, no SDK client. Anything else goes the
//! long way: parse, resolve, and let [`crate::assume`] use or refill the cache.

use crate::assume;
use crate::cache::{cached_plan, key, sessions::Store, store_plan};
use crate::config::{ConfigFiles, Overrides, Plan, Profiles};
use crate::context::Context;
use crate::credentials::Session;
use crate::error::Error;
use serde::Serialize;

/// Everything a plan is resolved from, besides the files: its cache key is this, serialized.
#[derive(Serialize)]
struct PlanInputs<'a> {
    profile: &'a str,
    overrides: &'a Overrides,
    ctx: &'a Context,
}

/// The credentials for `profile`, from the cache or from STS.
pub fn obtain(
    profile: &str,
    overrides: &Overrides,
    opts: &assume::Options,
    ctx: &Context,
) -> Result<Session, Error> {
    let files = ConfigFiles::locate(ctx);
    // Taken before reading, so that an edit during the run invalidates what we store.
    let fingerprint = serde_json::to_string(&files.fingerprint()).expect("fingerprints serialize");
    let plan_key = key::plan(&PlanInputs {
        profile,
        overrides,
        ctx,
    });
    let store = Store::open(ctx);
    if !opts.no_cache
        && let Some(store) = &store
        && let Some(plan) = cached_plan(store.root(), &plan_key, &fingerprint)
        && let Some(credentials) = assume::warm(&plan, Some(store), opts, ctx)
    {
        return Ok(Session {
            profile: plan.profile,
            region: plan.region,
            credentials,
        });
    }
    let profiles = Profiles::load_from(&files)?;
    let plan = Plan::resolve(&profiles, profile, overrides, ctx)?;
    tracing::debug!(?plan, "resolved");
    if let Some(store) = &store
        && !plan.hops.is_empty()
    {
        store_plan(store.root(), &plan_key, &fingerprint, &plan);
    }
    let credentials = assume::credentials_for(&plan, store.as_ref(), opts, ctx)?;
    Ok(Session {
        profile: plan.profile,
        region: plan.region,
        credentials,
    })
}
