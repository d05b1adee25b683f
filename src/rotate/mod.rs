//! `keys rotate`: replace a stored long-term key with a new one, in one command.
//!
//! The order is chosen so that every failure leaves a working key stored, and says what IAM
//! holds: authenticate with the old key (through an MFA session when the profile has
//! `mfa_serial`); find the user (`GetUser`); refuse if it already has two keys (IAM's limit);
//! `CreateAccessKey` and store the new key at once (its secret exists nowhere else); wait until
//! STS accepts it (IAM is eventually consistent), else put the old key back and delete the new
//! one; evict the cached sessions made from the old key; and only then `DeleteAccessKey` it.
//!
//! A key in plain text (`~/.aws/credentials`) is rotated there: the file is rewritten in place
//! and atomically, with no backup, and the message recommends `keys import`.
//!
//! Every IAM call is signed by the old key (or its MFA session), never by the new one: the new
//! key has no MFA session yet, and signing with it would cost a second MFA code.

use crate::assume;
use crate::assume::AssumeError;
use crate::aws::RemoteFailure;
use crate::aws::iam::{Iam, IamFailure};
use crate::aws::sts::Sts;
use crate::cache::sessions::{Removed, Store};
use crate::config::edit::{self, FileKind};
use crate::config::{Base, ConfigFiles, DEFAULT_REGION, Mfa, Plan, Profiles};
use crate::context::Context;
use crate::credentials::Credentials;
use crate::exit::Diagnose;
use crate::exit::Exit;
use crate::keystore::{self, Backend, KeyError, RotationFailure, RotationState, StoredKey};
use crate::obtain::plan_of;
use crate::secret::{OneTimeCode, mask_access_key};
use std::time::{Duration, Instant};

mod sessions;
mod stray;
use sessions::OldSessions;

/// How long a new key may take to work. IAM usually takes a few seconds; users of other tools
/// report `InvalidClientTokenId` just after rotating (aws-vault #132, #536).
pub const WORKS_WITHIN: Duration = Duration::from_secs(30);
/// The pause between two tries of the new key.
const RETRY_EVERY: Duration = Duration::from_secs(2);

/// What a rotation did.
#[derive(Debug)]
pub struct Rotated {
    pub user: String,
    pub old_key: String,
    pub new_key: String,
    /// Where the new key is kept.
    pub home: Home,
    /// The cached sessions made from the old key that were removed.
    pub evicted: Removed,
    /// How long the new key took to work.
    pub waited: Duration,
    pub elapsed: Duration,
}

/// Where a profile's long-term key lives, and so where its new one goes.
#[derive(Debug, Clone)]
pub enum Home {
    Stored(Backend),
    /// In plain text in the AWS files (the credentials file, else the config file).
    Plain(ConfigFiles),
}

impl std::fmt::Display for Home {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Home::Stored(backend) => write!(f, "{backend} backend"),
            Home::Plain(files) => write!(f, "plain text, in `{}`", files.credentials.display()),
        }
    }
}

impl Home {
    /// Puts `key` here for `profile`.
    fn put(&self, profile: &str, key: &StoredKey, ctx: &Context) -> Result<(), AssumeError> {
        match self {
            Home::Stored(backend) => {
                keystore::store(profile, key, *backend, ctx).map_err(AssumeError::Keys)
            }
            Home::Plain(files) => {
                let secret = key.secret_access_key.expose();
                for (path, kind) in [
                    (&files.credentials, FileKind::Credentials),
                    (&files.config, FileKind::Config),
                ] {
                    if edit::replace_keys(path, kind, profile, &key.access_key_id, secret)? {
                        return Ok(());
                    }
                }
                Err(AssumeError::Keys(KeyError::NothingToImport {
                    profile: profile.to_owned(),
                    path: files.credentials.clone(),
                }))
            }
        }
    }
}

/// Rotates the key of `profile`, stored or in plain text. `mfa_token` is `--mfa-token`.
/// `yes` is `--yes`: a second key an interrupted rotation left is deleted without asking.
pub fn rotate(
    profile: &str,
    mfa_token: Option<OneTimeCode>,
    yes: bool,
    ctx: &Context,
) -> Result<Rotated, AssumeError> {
    let started = Instant::now();
    // Two rotations of one key at once would each create a key. The second waits, then
    // rotates the key the first stored: the index is read (with the files) under the lock.
    let _lock = lock(profile, ctx)?;
    let files = ConfigFiles::locate(ctx);
    let profiles = Profiles::load_from(&files)?;
    let (plan, mfa) = plan_for(profile, &profiles, ctx)?;
    // Computed now, from the index as it is: these keys are derived from the old key's ID.
    let old_sessions = OldSessions::of(profile, &plan, mfa.as_ref(), &profiles, ctx);
    let (home, old, ctx) = if let Base::StaticKeys {
        access_key_id,
        secret_access_key,
        ..
    } = &plan.base
    {
        tracing::warn!(
            "the key of profile `{profile}` is in plain text: the new one goes there too; `assume-role keys import {profile} --remove-plaintext` keeps it out of plain text"
        );
        let old = StoredKey {
            access_key_id: access_key_id.clone(),
            secret_access_key: secret_access_key.clone(),
            created: 0,
        };
        (Home::Plain(files.clone()), old, ctx.clone())
    } else {
        let entry = keystore::read_index(ctx)
            .get(profile)
            .cloned()
            .ok_or_else(|| {
                AssumeError::Keys(KeyError::NotStored {
                    profile: profile.to_owned(),
                })
            })?;
        let ctx = with_passphrase(ctx, entry.backend).map_err(AssumeError::Keys)?;
        let old = keystore::load(profile, &ctx).map_err(AssumeError::Keys)?;
        (Home::Stored(entry.backend), old, ctx)
    };
    let ctx = &ctx;
    let store = Store::open(ctx);
    let job = Job {
        profile,
        plan: &plan,
        mfa: mfa.as_ref(),
        home,
        old: &old,
        store: store.as_ref(),
        old_sessions: &old_sessions,
        profiles: &profiles,
        yes,
        ctx,
    };
    let mut rotated = assume::runtime()?.block_on(job.run(mfa_token))?;
    rotated.elapsed = started.elapsed();
    tracing::info!(
        elapsed_ms = rotated.elapsed.as_millis(),
        waited_ms = rotated.waited.as_millis(),
        "rotated"
    );
    Ok(rotated)
}

/// The lock of one profile's rotations, beside its key: `keys/<profile>.rotate.lock`.
fn lock(profile: &str, ctx: &Context) -> Result<crate::cache::lock::Lock, AssumeError> {
    let dir = keystore::keys_dir(ctx)?;
    let path = keystore::file::FileStore::new(dir, ctx)
        .path(profile)
        .with_extension("rotate.lock");
    crate::cache::lock::Lock::acquire(
        &path,
        &format!("a new key for profile `{profile}` (`keys rotate`)"),
    )
    .map_err(Into::into)
}

/// The plan of `profile`, which must hold its own stored key, and its MFA device. A stored key
/// whose profile is not in the config is rotated as `keys add` checks one: in the environment's
/// region, without MFA.
fn plan_for(
    profile: &str,
    profiles: &Profiles,
    ctx: &Context,
) -> Result<(Plan, Option<Mfa>), AssumeError> {
    let Some(section) = profiles.get(profile) else {
        if let Some(entry) = profiles.stored_keys().get(profile) {
            let region = ctx
                .env
                .env_region
                .clone()
                .unwrap_or_else(|| DEFAULT_REGION.to_owned());
            let plan = crate::config::Plan::for_stored_key(profile, &entry.access_key_id, region);
            return Ok((plan, None));
        }
        return Err(profiles.unknown(profile, None).into());
    };
    let plan = plan_of(profiles, profile, ctx)?;
    match &plan.base {
        Base::StoredKeys { profile: base, .. }
        | Base::StaticKeys {
            profile: base,
            session_token: None,
            ..
        } if base == profile && plan.hops.is_empty() => {}
        other => {
            return Err(KeyError::RotateNotOwnKey {
                profile: profile.to_owned(),
                source_kind: other.describe(),
                base: other.profile().to_owned(),
                base_rotatable: other.profile() != profile
                    && matches!(
                        other,
                        Base::StoredKeys { .. }
                            | Base::StaticKeys {
                                session_token: None,
                                ..
                            }
                    ),
            }
            .into());
        }
    }
    let mfa = crate::config::mfa_of(section, &crate::config::Defaults::of(ctx))?;
    Ok((plan, mfa))
}

/// With the file backend and no `ASSUME_ROLE_FILE_PASSPHRASE`, the passphrase is asked once
/// here: the rotation reads the file once and writes it once or twice.
fn with_passphrase(ctx: &Context, backend: Backend) -> Result<Context, KeyError> {
    let mut ctx = ctx.clone();
    if backend == Backend::File && ctx.env.file_passphrase.is_none() {
        ctx.env.file_passphrase = Some(keystore::file::ask_passphrase()?);
    }
    Ok(ctx)
}

/// One rotation, with everything it needs.
struct Job<'a> {
    profile: &'a str,
    plan: &'a Plan,
    mfa: Option<&'a Mfa>,
    home: Home,
    old: &'a StoredKey,
    store: Option<&'a Store>,
    old_sessions: &'a OldSessions,
    profiles: &'a Profiles,
    /// `--yes`.
    yes: bool,
    ctx: &'a Context,
}

impl Job<'_> {
    /// A failure at some step, and the state it leaves.
    fn stopped(
        &self,
        user: Option<&str>,
        detail: String,
        state: RotationState,
        exit: Exit,
        access_denied: bool,
    ) -> AssumeError {
        KeyError::Rotation(Box::new(RotationFailure {
            profile: self.profile.to_owned(),
            user: user.map(str::to_owned),
            old_key: self.old.access_key_id.clone(),
            detail,
            state,
            exit,
            access_denied,
            with_mfa: self.mfa.is_some(),
        }))
        .into()
    }

    /// The refusal when the user already has two keys, neither left by an interrupted rotation.
    fn two_keys(&self, user: &str, keys: Vec<crate::aws::iam::KeyInfo>) -> AssumeError {
        KeyError::RotateTwoKeys {
            profile: self.profile.to_owned(),
            user: user.to_owned(),
            keys: keys
                .into_iter()
                .map(|k| (k.access_key_id, k.status))
                .collect(),
            stored: self.old.access_key_id.clone(),
        }
        .into()
    }

    fn iam_stopped(
        &self,
        user: Option<&str>,
        failure: &IamFailure,
        state: RotationState,
    ) -> AssumeError {
        self.stopped(
            user,
            failure.to_string(),
            state,
            exit_of(failure.failure),
            failure.is_access_denied(),
        )
    }

    async fn run(&self, mfa_token: Option<OneTimeCode>) -> Result<Rotated, AssumeError> {
        let sts = Sts::new(self.plan, self.ctx).await?;
        let iam = Iam::new(&sts, self.ctx)?;
        let auth = self.authenticate(&sts, mfa_token).await?;
        let user = self.user(&sts, &iam, &auth).await?;
        let user = user.as_str();

        let keys = iam
            .list_access_keys(&auth, user)
            .await
            .map_err(|f| self.iam_stopped(Some(user), &f, RotationState::Unchanged))?;
        if keys.len() >= 2 {
            if let Some(stray) = stray::find(
                self.profile,
                &self.old.access_key_id,
                &keys,
                self.profiles,
                self.ctx,
            ) {
                stray::confirm(self.profile, user, stray, self.yes)?;
                iam.delete_access_key(&auth, user, &stray.0.access_key_id)
                    .await
                    .map_err(|f| self.iam_stopped(Some(user), &f, RotationState::Unchanged))?;
                tracing::warn!(
                    "deleted `{}`, the key an interrupted rotation left in IAM",
                    mask_access_key(&stray.0.access_key_id)
                );
            } else {
                return Err(self.two_keys(user, keys));
            }
        }
        // From here until the new key is stored, this run holds the only copy of its secret.
        let _journal = stray::Journal::begin(self.profile, &self.old.access_key_id, self.ctx)?;

        let new = iam.create_access_key(&auth, user).await.map_err(|f| {
            // A refusal made nothing; anything else may have made a key on the way.
            let state = if f.failure == RemoteFailure::Refused {
                RotationState::Unchanged
            } else {
                RotationState::MaybeCreated
            };
            self.iam_stopped(Some(user), &f, state)
        })?;
        let waited = self.store_and_check(&sts, &iam, &auth, user, &new).await?;

        // Before the delete: sessions from the old key are of no use once it is gone, and a
        // delete that fails must not leave them behind either.
        let evicted = self.evict();

        iam.delete_access_key(&auth, user, &self.old.access_key_id)
            .await
            .map_err(|f| {
                self.iam_stopped(
                    Some(user),
                    &f,
                    RotationState::OldKeyNotDeleted {
                        new_key: new.access_key_id.clone(),
                    },
                )
            })?;
        let evicted = evicted?;

        Ok(Rotated {
            user: user.to_owned(),
            old_key: self.old.access_key_id.clone(),
            new_key: new.access_key_id,
            home: self.home.clone(),
            evicted,
            waited,
            elapsed: Duration::ZERO,
        })
    }

    /// The credentials that sign the IAM calls: the old key, or its MFA session when the
    /// profile has `mfa_serial` (from the cache, or made with a code and cached).
    async fn authenticate(
        &self,
        sts: &Sts,
        mfa_token: Option<OneTimeCode>,
    ) -> Result<Credentials, AssumeError> {
        let old = self.old.credentials();
        match self.mfa {
            Some(mfa) => {
                assume::mfa_session(self.plan, mfa, &old, sts, self.store, mfa_token, self.ctx)
                    .await
            }
            None => Ok(old),
        }
    }

    /// Stores the new key at once (this run holds the only copy of its secret), then waits
    /// until it works. Either failing undoes what it can: the new key is deleted, and the old
    /// one stored back.
    async fn store_and_check(
        &self,
        sts: &Sts,
        iam: &Iam,
        auth: &Credentials,
        user: &str,
        new: &crate::aws::iam::NewKey,
    ) -> Result<Duration, AssumeError> {
        let new_key = StoredKey {
            access_key_id: new.access_key_id.clone(),
            secret_access_key: new.secret_access_key.clone(),
            created: keystore::now_secs(),
        };

        if let Err(err) = self.home.put(self.profile, &new_key, self.ctx) {
            let deleted = iam
                .delete_access_key(auth, user, &new.access_key_id)
                .await
                .is_ok();
            return Err(self.stopped(
                Some(user),
                format!("the new key could not be stored: {err}"),
                RotationState::NewKeyNotStored {
                    new_key: new.access_key_id.clone(),
                    deleted,
                },
                err.exit(),
                false,
            ));
        }

        match self.wait_until_works(sts, &new_key.credentials()).await {
            Ok(waited) => Ok(waited),
            Err(last) => {
                let restored = self.home.put(self.profile, self.old, self.ctx).is_ok();
                // Deleted only once the old key is back: otherwise the new one is all there is.
                let deleted = restored
                    && iam
                        .delete_access_key(auth, user, &new.access_key_id)
                        .await
                        .is_ok();
                Err(self.stopped(
                    Some(user),
                    format!(
                        "STS did not accept the new key within {} ({last})",
                        crate::duration::display(WORKS_WITHIN)
                    ),
                    RotationState::NewKeyNotWorking {
                        new_key: new.access_key_id.clone(),
                        restored,
                        deleted,
                    },
                    Exit::Denied,
                    false,
                ))
            }
        }
    }

    /// The user the key belongs to: `GetUser`, or, when that is denied, the ARN
    /// `GetCallerIdentity` gives (it needs no permission).
    async fn user(&self, sts: &Sts, iam: &Iam, auth: &Credentials) -> Result<String, AssumeError> {
        let denied = match iam.get_user(auth).await {
            Ok(user) => return Ok(user.name),
            Err(f) if f.is_access_denied() => f,
            Err(f) => return Err(self.iam_stopped(None, &f, RotationState::Unchanged)),
        };
        tracing::info!("GetUser was denied; asking STS who the key belongs to");
        let identity = sts
            .get_caller_identity(auth, self.profile)
            .await
            .map_err(|_| self.iam_stopped(None, &denied, RotationState::Unchanged))?;
        crate::aws::iam::user_name_of(&identity.arn)
            .map(str::to_owned)
            .ok_or_else(|| {
                self.stopped(
                    None,
                    format!(
                        "the key belongs to `{}`, which is not an IAM user",
                        identity.arn
                    ),
                    RotationState::Unchanged,
                    Exit::Config,
                    false,
                )
            })
    }

    /// Tries the new key with `GetCallerIdentity` until STS accepts it, for at most
    /// [`WORKS_WITHIN`] (each try bounded by what is left). `Err` holds the last failure.
    async fn wait_until_works(&self, sts: &Sts, creds: &Credentials) -> Result<Duration, String> {
        let started = Instant::now();
        let deadline = started + WORKS_WITHIN;
        let mut tries = 0u32;
        loop {
            tries += 1;
            let left = deadline
                .saturating_duration_since(Instant::now())
                .max(Duration::from_secs(1));
            let last = match tokio::time::timeout(
                left,
                sts.get_caller_identity(creds, self.profile),
            )
            .await
            {
                Ok(Ok(identity)) => {
                    tracing::info!(
                        tries,
                        waited_ms = started.elapsed().as_millis(),
                        arn = %identity.arn,
                        access_key = %mask_access_key(&creds.access_key_id),
                        "the new key works"
                    );
                    return Ok(started.elapsed());
                }
                Ok(Err(err)) => err.to_string(),
                Err(_) => "no answer in time".to_owned(),
            };
            tracing::debug!(tries, "the new key does not work yet: {last}");
            if Instant::now() + RETRY_EVERY >= deadline {
                return Err(last);
            }
            tokio::time::sleep(RETRY_EVERY).await;
        }
    }

    fn evict(&self) -> Result<Removed, AssumeError> {
        let Some(store) = self.store else {
            return Ok(Removed::default());
        };
        store
            .remove_where(|key, entry| self.old_sessions.select(key, entry))
            .map_err(|source| {
                KeyError::RotateEvict {
                    profile: self.profile.to_owned(),
                    path: store.root().to_path_buf(),
                    source,
                }
                .into()
            })
    }
}

fn exit_of(failure: RemoteFailure) -> Exit {
    match failure {
        RemoteFailure::Refused => Exit::Denied,
        RemoteFailure::Unreachable | RemoteFailure::BadAnswer => Exit::Network,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::sessions::Kind;
    use crate::obtain::Serving;

    const CONFIG: &str = "[profile contractor]\nregion = eu-west-1\n\n\
        [profile a]\nrole_arn = arn:aws:iam::222222222222:role/r\nsource_profile = contractor\nrole_session_name = ss\n\n\
        [profile m]\nrole_arn = arn:aws:iam::222222222222:role/r\nsource_profile = contractor\nmfa_serial = arn:aws:iam::111111111111:mfa/me\nrole_session_name = mm\n\n\
        [profile other]\nrole_arn = arn:aws:iam::222222222222:role/r\nsource_profile = elsewhere\nrole_session_name = oo\n\n\
        [profile plain]\nregion = eu-west-1\n";
    const CREDENTIALS: &str = "[elsewhere]\naws_access_key_id = AKIAEXAMPLE000000009\naws_secret_access_key = s\n\n\
        [plain]\naws_access_key_id = AKIAEXAMPLE000000008\naws_secret_access_key = s\n";

    /// The test config, with `contractor`'s key stored.
    fn profiles() -> Profiles {
        let mut index = keystore::Index::new();
        index.insert(
            "contractor".into(),
            keystore::IndexEntry {
                access_key_id: "AKIAEXAMPLE000000001".into(),
                backend: Backend::File,
                created: 0,
                pending: None,
            },
        );
        Profiles::from_texts(CONFIG, CREDENTIALS)
            .unwrap()
            .with_stored_keys(index)
    }

    fn ctx() -> Context {
        Context::default()
    }

    #[test]
    fn the_old_keys_sessions_are_those_of_every_profile_built_on_it() {
        let ctx = ctx();
        let profiles = profiles();
        let plan = plan_of(&profiles, "contractor", &ctx).unwrap();
        let old = OldSessions::of("contractor", &plan, None, &profiles, &ctx);
        let a = Serving::of(&plan_of(&profiles, "a", &ctx).unwrap(), &ctx);
        let m = Serving::of(&plan_of(&profiles, "m", &ctx).unwrap(), &ctx);
        let other = Serving::of(&plan_of(&profiles, "other", &ctx).unwrap(), &ctx);
        let a_key = &a.role_sessions.unwrap()[0];
        assert_eq!(old.select(a_key, None), Some(Kind::RoleSession));
        assert_eq!(
            old.select(m.mfa_session.as_ref().unwrap(), None),
            Some(Kind::RoleSession)
        );
        assert!(old.select(&other.role_sessions.unwrap()[0], None).is_none());
        assert!(old.hop_profiles.contains("m") && !old.hop_profiles.contains("other"));
    }

    #[test]
    fn only_a_profile_holding_its_own_long_term_key_can_be_rotated() {
        let ctx = ctx();
        let profiles = profiles();
        assert!(plan_for("contractor", &profiles, &ctx).is_ok());
        // A key in plain text is rotated where it is.
        assert!(plan_for("plain", &profiles, &ctx).is_ok());
        let err = plan_for("a", &profiles, &ctx).unwrap_err();
        assert!(
            err.hints()
                .iter()
                .any(|h| h.contains("keys rotate contractor")),
            "{:?}",
            err.hints()
        );
        assert!(plan_for("nowhere", &profiles, &ctx).is_err());
    }

    #[test]
    fn a_failure_says_what_iam_holds_and_the_fix_names_the_full_key_id() {
        let err = KeyError::Rotation(Box::new(RotationFailure {
            profile: "contractor".into(),
            user: Some("bob".into()),
            old_key: "AKIAEXAMPLE000000001".into(),
            detail: "IAM refused DeleteAccessKey: AccessDenied".into(),
            state: RotationState::OldKeyNotDeleted {
                new_key: "AKIAEXAMPLE000000002".into(),
            },
            exit: Exit::Denied,
            access_denied: true,
            with_mfa: false,
        }));
        let text = err.to_string();
        assert!(text.contains("AKIA************0002"), "{text}");
        assert!(text.contains("AKIA************0001"), "{text}");
        assert!(!text.contains("AKIAEXAMPLE000000001"), "{text}");
        let hints = err.hints().join("\n");
        assert!(
            hints.contains(
                "aws iam delete-access-key --user-name bob --access-key-id AKIAEXAMPLE000000001"
            ),
            "{hints}"
        );
        assert!(hints.contains("iam:DeleteAccessKey"), "{hints}");
    }
}
