//! Profile name → plan → credentials: the front half of every credential command.
//!
//! The warm path reads a cached plan (so that a large config is not parsed) and the cached
//! session it names, and nothing else: no runtime, no TLS, no SDK client. Anything else goes the
//! long way: parse, resolve, and let [`crate::assume`] use or refill the cache.

use crate::assume::AssumeError;
use crate::assume::{self, Served};
use crate::audit;
use crate::cache::id::Key;
use crate::cache::sessions::{Kind, Store};
use crate::cache::{cached_plan, id, store_plan};
use crate::config::{ConfigFiles, Overrides, Plan, Profiles};
use crate::context::Context;
use crate::credentials::Session;
use serde::Serialize;

/// Everything a plan is resolved from, besides the files: its cache key is this, serialized.
#[derive(Serialize)]
struct PlanInputs<'a> {
    profile: &'a str,
    overrides: &'a Overrides,
    ctx: &'a Context,
}

/// The credentials for `profile`, from the cache or from STS. Every attempt, handed over or
/// refused, is written to the audit log here, once, for whichever command `via` names: this is
/// the one door credentials leave through.
pub fn obtain(
    profile: &str,
    overrides: &Overrides,
    opts: &assume::Options,
    ctx: &Context,
    via: audit::Via<'_>,
) -> Result<Session, AssumeError> {
    let mut role = None;
    let result = obtain_for(profile, overrides, opts, ctx, &mut role);
    audit::record(
        ctx,
        profile,
        via,
        role.as_ref(),
        overrides.external_id.as_deref(),
        result.as_ref().map(|(session, served)| (session, *served)),
    );
    result.map(|(session, _)| session)
}

/// The credentials for `profile` with no flags, if a warm cache holds them: the cached plan and
/// the cached session it names. Nothing is recorded or printed until [`Cached::hand_over`];
/// `None` means the long way is needed, and [`obtain`] then records the attempt. This is all
/// the small front program (`src/main.rs`) links of the engine: no config parser, no SDK, no
/// runtime.
pub fn cached(profile: &str, ctx: &Context) -> Option<Cached> {
    let lookup = Lookup::new(profile, &Overrides::default(), ctx);
    let (session, role) = lookup.cached(&assume::Options::default(), ctx)?;
    Some(Cached {
        profile: profile.to_owned(),
        session,
        role,
    })
}

/// A warm session found by [`cached`], not yet handed over.
pub struct Cached {
    profile: String,
    session: Session,
    role: Option<audit::Role>,
}

impl Cached {
    /// The session, written to the audit log as [`obtain`] writes a cache hit.
    pub fn hand_over(self, ctx: &Context, via: audit::Via<'_>) -> Session {
        let hit = Ok((&self.session, Served::Cache));
        audit::record(ctx, &self.profile, via, self.role.as_ref(), None, hit);
        self.session
    }
}

/// Where a profile's cached plan is, and what it must match: computed once, before the files
/// are read, so that an edit during the run invalidates what is stored.
struct Lookup {
    files: ConfigFiles,
    fingerprint: String,
    plan_key: Key,
    store: Option<Store>,
}

impl Lookup {
    fn new(profile: &str, overrides: &Overrides, ctx: &Context) -> Self {
        let files = ConfigFiles::locate(ctx);
        let fingerprint =
            serde_json::to_string(&files.fingerprint()).expect("fingerprints serialize");
        let plan_key = id::plan(&PlanInputs {
            profile,
            overrides,
            ctx,
        });
        Self {
            files,
            fingerprint,
            plan_key,
            store: Store::open(ctx),
        }
    }

    /// The warm path: the cached plan, if the files are unchanged, and its cached session, if it
    /// has enough time left; with the role the plan names, for the audit log.
    fn cached(
        &self,
        opts: &assume::Options,
        ctx: &Context,
    ) -> Option<(Session, Option<audit::Role>)> {
        if opts.no_cache {
            return None;
        }
        let store = self.store.as_ref()?;
        let plan = cached_plan(store.root(), &self.plan_key, &self.fingerprint)?;
        let credentials = assume::warm(&plan, Some(store), opts, ctx)?;
        let role = audit::Role::of(&plan);
        let session = Session {
            profile: plan.profile,
            region: plan.region,
            credentials,
        };
        Some((session, role))
    }
}

/// [`obtain`], saying where the credentials came from, and leaving in `role` the role they are
/// for as soon as the plan names it (so that a refusal is logged with its role too).
fn obtain_for(
    profile: &str,
    overrides: &Overrides,
    opts: &assume::Options,
    ctx: &Context,
    role: &mut Option<audit::Role>,
) -> Result<(Session, Served), AssumeError> {
    let lookup = Lookup::new(profile, overrides, ctx);
    if let Some((session, cached_role)) = lookup.cached(opts, ctx) {
        *role = cached_role;
        return Ok((session, Served::Cache));
    }
    let Lookup {
        files,
        fingerprint,
        plan_key,
        store,
    } = lookup;
    let profiles = Profiles::load_from(&files)?;
    let plan = Plan::resolve(&profiles, profile, overrides, ctx)?;
    tracing::debug!(?plan, "resolved");
    profiles.warn_misspellings(&plan);
    *role = audit::Role::of(&plan);
    if let Some(store) = &store
        && (!plan.hops.is_empty() || plan.session.is_some())
    {
        store_plan(store.root(), &plan_key, &fingerprint, &plan);
    }
    served(plan, store.as_ref(), opts, ctx)
}

/// The credentials for a resolved plan, from the cache or from STS: what [`obtain`] does once
/// it has one, audited the same way. `each` resolves its plans itself, to ask for all their
/// codes first.
pub fn for_plan(
    plan: Plan,
    store: Option<&Store>,
    opts: &assume::Options,
    ctx: &Context,
    via: audit::Via<'_>,
) -> Result<Session, AssumeError> {
    let profile = plan.profile.clone();
    let role = audit::Role::of(&plan);
    let result = served(plan, store, opts, ctx);
    audit::record(
        ctx,
        &profile,
        via,
        role.as_ref(),
        None,
        result.as_ref().map(|(session, served)| (session, *served)),
    );
    result.map(|(session, _)| session)
}

fn served(
    plan: Plan,
    store: Option<&Store>,
    opts: &assume::Options,
    ctx: &Context,
) -> Result<(Session, Served), AssumeError> {
    let (credentials, served) = assume::served_credentials(&plan, store, opts, ctx)?;
    let session = Session {
        profile: plan.profile,
        region: plan.region,
        credentials,
    };
    Ok((session, served))
}

/// The cached sessions that serve one plan, as its profile is configured now: a role session
/// per hop, and the MFA session its first hop is assumed from. A session belongs to a chain, not
/// to a profile name, so two profiles with the same chain share these.
#[derive(Debug, Default)]
pub struct Serving {
    /// `None` when the keys cannot be known without credentials the environment lacks (a
    /// `credential_source = Environment` profile with no `AWS_ACCESS_KEY_ID`).
    pub role_sessions: Option<Vec<Key>>,
    pub mfa_session: Option<Key>,
}

impl Serving {
    pub fn of(plan: &Plan, ctx: &Context) -> Self {
        Self {
            role_sessions: id::chain(plan, ctx),
            mfa_session: assume::first_hop_mfa_session_key(plan, ctx),
        }
    }

    /// The kind of session `key` names, if it serves this plan.
    pub fn kind_of(&self, key: &Key) -> Option<Kind> {
        if self.mfa_session.as_ref() == Some(key) {
            Some(Kind::MfaSession)
        } else if self.role_sessions.iter().flatten().any(|k| k == key) {
            Some(Kind::RoleSession)
        } else {
            None
        }
    }
}

/// A profile's plan as `env` would resolve it without flags, obtaining no credentials.
pub fn plan_of(profiles: &Profiles, name: &str, ctx: &Context) -> Result<Plan, AssumeError> {
    Plan::resolve(profiles, name, &Overrides::default(), ctx).map_err(Into::into)
}

/// For every cached session a profile as configured now would use, the profiles it serves
/// (sorted). Profiles that do not resolve serve nothing. This resolves every profile, which is
/// fine off the hot path (a 10,000-profile config takes tens of milliseconds).
pub fn sessions_served(
    profiles: &Profiles,
    ctx: &Context,
) -> std::collections::HashMap<Key, Vec<String>> {
    let mut served: std::collections::HashMap<Key, Vec<String>> = std::collections::HashMap::new();
    for name in profiles.names() {
        let Ok(plan) = plan_of(profiles, name, ctx) else {
            continue;
        };
        let serving = Serving::of(&plan, ctx);
        for key in serving
            .role_sessions
            .into_iter()
            .flatten()
            .chain(serving.mfa_session)
        {
            // `names()` is sorted, so each list is too.
            served.entry(key).or_default().push(name.to_owned());
        }
    }
    served
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = "[profile contractor]\nregion = eu-west-1\n\n\
        [profile a]\nrole_arn = arn:aws:iam::222222222222:role/r\nsource_profile = contractor\nexternal_id = xx\nrole_session_name = ss\n\n\
        [profile b]\nrole_arn = arn:aws:iam::222222222222:role/r\nsource_profile = contractor\nexternal_id = xx\nrole_session_name = ss\n\n\
        [profile c]\nrole_arn = arn:aws:iam::222222222222:role/other\nsource_profile = b\nrole_session_name = ss\n\n\
        [profile m]\nrole_arn = arn:aws:iam::222222222222:role/r\nsource_profile = contractor\nmfa_serial = arn:aws:iam::111111111111:mfa/me\nrole_session_name = mm\n\n\
        [profile n]\nrole_arn = arn:aws:iam::222222222222:role/other\nsource_profile = contractor\nmfa_serial = arn:aws:iam::111111111111:mfa/me\nrole_session_name = nn\n\n\
        [profile long]\nrole_arn = arn:aws:iam::222222222222:role/r\nsource_profile = contractor\nmfa_serial = arn:aws:iam::111111111111:mfa/me\nduration_seconds = 7200\nrole_session_name = ll\n\n\
        [profile broken]\nrole_arn = arn:aws:iam::222222222222:role/r\nsource_profile = nowhere\n";
    const CREDENTIALS: &str =
        "[contractor]\naws_access_key_id = AKIAEXAMPLE000000001\naws_secret_access_key = secret\n";

    fn serving(profiles: &Profiles, name: &str) -> Serving {
        let ctx = Context::default();
        Serving::of(&plan_of(profiles, name, &ctx).unwrap(), &ctx)
    }

    #[test]
    fn profiles_with_one_chain_share_its_sessions() {
        let profiles = Profiles::from_texts(CONFIG, CREDENTIALS).unwrap();
        let served = sessions_served(&profiles, &Context::default());
        let a = serving(&profiles, "a").role_sessions.unwrap();
        let c = serving(&profiles, "c").role_sessions.unwrap();
        assert_eq!(a.len(), 1);
        // `c` goes through the same first hop as `a` and `b`.
        assert_eq!(c[0], a[0]);
        assert_eq!(served[&a[0]], ["a", "b", "c"]);
        assert_eq!(served[&c[1]], ["c"]);
        assert!(serving(&profiles, "a").mfa_session.is_none());
    }

    #[test]
    fn an_mfa_session_serves_the_profiles_whose_first_hop_uses_it() {
        let profiles = Profiles::from_texts(CONFIG, CREDENTIALS).unwrap();
        let served = sessions_served(&profiles, &Context::default());
        let m = serving(&profiles, "m");
        let key = m.mfa_session.clone().unwrap();
        assert_eq!(serving(&profiles, "n").mfa_session, Some(key.clone()));
        assert_eq!(m.kind_of(&key), Some(Kind::MfaSession));
        assert_eq!(
            m.kind_of(&m.role_sessions.clone().unwrap()[0]),
            Some(Kind::RoleSession)
        );
        // A session over an hour cannot come from an MFA session: the code goes to AssumeRole.
        assert!(serving(&profiles, "long").mfa_session.is_none());
        assert_eq!(served[&key], ["m", "n"]);
        // A profile that does not resolve serves nothing, and hides nothing from the others.
        assert!(plan_of(&profiles, "broken", &Context::default()).is_err());
    }
}
