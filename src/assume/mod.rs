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

mod error;
mod own;
mod run;
pub mod source;
mod steps;

pub use error::{AssumeError, MinValidCap};
pub use own::{mfa_session, own_session_key};
use own::{own_credentials, own_session};
pub use run::obtain;
pub use steps::{
    CodeFor, CodeNeed, Prepared, codes_needed, first_hop_mfa_session_key, mfa_session_key,
};

use crate::cache::id;
use crate::cache::sessions::Store;
use crate::config::Plan;
use crate::context::Context;
use crate::credentials::Credentials;
use crate::secret::OneTimeCode;
use std::time::Duration;

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
) -> Result<Credentials, AssumeError> {
    served_credentials(plan, store, opts, ctx).map(|(credentials, _)| credentials)
}

/// [`credentials_for`], and where they came from (for the audit log).
pub fn served_credentials(
    plan: &Plan,
    store: Option<&Store>,
    opts: &Options,
    ctx: &Context,
) -> Result<(Credentials, Served), AssumeError> {
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
pub fn runtime() -> Result<tokio::runtime::Runtime, AssumeError> {
    start_runtime().map_err(AssumeError::Runtime)
}

/// [`runtime`] for the layers above with errors of their own (`sso login`).
pub fn start_runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tracing::trace!("starting the async runtime");
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
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
        _ => id::chain(plan, ctx)?.last()?.clone(),
    };
    let entry = store.get(&key, opts.min_valid)?;
    tracing::info!(profile = %plan.profile, expires = %crate::credentials::rfc3339(entry.expires()), "served from the cache");
    Some(entry.credentials())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::sessions::{Entry, Kind};
    use crate::config::{Overrides, Profiles};
    use crate::secret::Secret;
    use std::time::SystemTime;

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
            paths: crate::paths::Paths {
                cache_dir: Some(dir.path().join("cache")),
                ..crate::paths::Paths::default()
            },
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
