//! The contractor's own long-term keys, kept out of plain text: in the OS secret store
//! ([`os`]), or in a passphrase-encrypted file per key ([`file`]).
//!
//! Beside the secrets, a small index (`keys/index.json` in the data directory) records for each
//! stored key its access key ID, backend and creation time. It holds nothing secret, and it is
//! what the warm path reads: a cached session is keyed by the access key ID, so serving one
//! never touches the secret store. Only a run that needs the long-term key reads it.

mod error;
pub mod file;
pub mod os;

pub use error::{KeyError, RotationFailure, RotationState};

use crate::context::Context;
use crate::credentials::Credentials;
use crate::secret::Secret;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Keys older than this are flagged: the usual rotation period in security questionnaires.
pub const ROTATE_AFTER_DAYS: u64 = 90;

pub use crate::settings::choices::Backend;

/// One stored key, as the index knows it: nothing secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexEntry {
    pub access_key_id: String,
    pub backend: Backend,
    /// Seconds since the Unix epoch.
    pub created: u64,
    /// A replacement under way: the key being written, recorded before the backend is touched
    /// and cleared once the index names it. The index and a backend cannot change in one atomic
    /// step, so this record makes the pair one: a run killed in between leaves it, and the next
    /// read of the key settles on whichever of the two the backend holds ([`load`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending: Option<Pending>,
}

/// The key a replacement was writing: nothing secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pending {
    pub access_key_id: String,
    pub backend: Backend,
    pub created: u64,
}

impl IndexEntry {
    /// Whole days since the key was stored.
    pub fn age_days(&self, now: SystemTime) -> u64 {
        let now = now.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
        now.saturating_sub(self.created) / 86_400
    }
}

/// Every stored key, by profile.
pub type Index = BTreeMap<String, IndexEntry>;

#[derive(Serialize, Deserialize)]
struct IndexFile {
    version: u32,
    keys: Index,
}

/// A long-term key as a backend holds it.
pub struct StoredKey {
    pub access_key_id: String,
    pub secret_access_key: Secret,
    pub created: u64,
}

impl std::fmt::Debug for StoredKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredKey")
            .field(
                "access_key_id",
                &crate::secret::mask_access_key(&self.access_key_id),
            )
            .field("created", &self.created)
            .finish_non_exhaustive()
    }
}

impl StoredKey {
    /// What a backend keeps: one small JSON document.
    fn to_bytes(&self) -> Vec<u8> {
        serde_json::json!({
            "access_key_id": self.access_key_id,
            "secret_access_key": self.secret_access_key.expose(),
            "created": self.created,
        })
        .to_string()
        .into_bytes()
    }

    fn from_bytes(bytes: &[u8]) -> Option<Self> {
        let value: serde_json::Value = serde_json::from_slice(bytes).ok()?;
        Some(Self {
            access_key_id: value.get("access_key_id")?.as_str()?.to_owned(),
            secret_access_key: Secret::new(value.get("secret_access_key")?.as_str()?),
            created: value.get("created")?.as_u64()?,
        })
    }

    pub fn credentials(&self) -> Credentials {
        Credentials {
            access_key_id: self.access_key_id.clone(),
            secret_access_key: self.secret_access_key.clone(),
            session_token: None,
            expiration: None,
            account_id: None,
        }
    }
}

/// A place that keeps secrets, one per profile.
pub trait KeyStore {
    fn backend(&self) -> Backend;
    fn put(&self, profile: &str, key: &StoredKey) -> Result<(), KeyError>;
    /// `Ok(None)` when the store answers but has no key for `profile`.
    fn get(&self, profile: &str) -> Result<Option<StoredKey>, KeyError>;
    /// Removing a key that is not there is not an error.
    fn remove(&self, profile: &str) -> Result<(), KeyError>;
}

/// `<data dir>/keys`: the index and the encrypted files.
pub fn keys_dir(ctx: &Context) -> Result<PathBuf, KeyError> {
    let data = ctx.paths.data_dir.as_ref().ok_or(KeyError::NoDataDir)?;
    let keys = data.join("keys");
    // Whoever can write here can delete the keys or plant an index of their own.
    for dir in [data, &keys] {
        crate::fsx::check_trusted(dir).map_err(|source| KeyError::Io {
            what: "use",
            path: dir.clone(),
            source,
        })?;
    }
    Ok(keys)
}

fn index_path(dir: &Path) -> PathBuf {
    dir.join("index.json")
}

/// Where the index is, when there is a data directory. The config model reads it with the AWS
/// files ([`crate::config::Profiles`]), so that a cached plan is stale once it changes.
pub fn index_file(paths: &crate::paths::Paths) -> Option<PathBuf> {
    paths.data_dir.as_ref().map(|d| index_path(&d.join("keys")))
}

/// The index at `path` as it is on disk now. A missing or unreadable index means no stored
/// keys.
pub fn read_index_at(path: &Path) -> Index {
    if let Some(why) = path.parent().and_then(crate::fsx::untrusted) {
        tracing::warn!(
            "not reading the stored-key index in `{}`: the directory is {why}; make it yours and private (chmod 700)",
            path.parent().unwrap_or(path).display()
        );
        return Index::new();
    }
    crate::fsx::read::<IndexFile>(path)
        .map(|f| f.keys)
        .unwrap_or_default()
}

/// The index as it is on disk now. Changes start from this, not from the run's first read, so
/// that one run storing several keys (`keys import --all`) keeps each.
pub fn read_index(ctx: &Context) -> Index {
    index_file(&ctx.paths)
        .map(|path| read_index_at(&path))
        .unwrap_or_default()
}

fn write_index(dir: &Path, keys: &Index) -> Result<(), KeyError> {
    let path = index_path(dir);
    let bytes = serde_json::to_vec_pretty(&IndexFile {
        version: 1,
        keys: keys.clone(),
    })
    .expect("the index serializes");
    crate::fsx::write_private(&path, &bytes).map_err(|source| KeyError::Io {
        what: "write",
        path,
        source,
    })
}

/// The backend to use: `--backend`, else `ASSUME_ROLE_KEYS_BACKEND`, else the OS store if it
/// answers, else the file. Never plain text.
pub fn choose(flag: Option<Backend>, ctx: &Context) -> Result<Backend, KeyError> {
    if let Some(backend) = flag {
        return Ok(backend);
    }
    if let Some(value) = &ctx.env.keys_backend {
        return Backend::parse(value).ok_or_else(|| KeyError::BadBackend {
            origin: "`ASSUME_ROLE_KEYS_BACKEND`",
            value: value.clone(),
        });
    }
    // The settings file's, checked when it was read.
    if let Some(backend) = ctx.settings.keys_backend {
        return Ok(backend);
    }
    match os::probe() {
        Ok(()) => Ok(Backend::Os),
        Err(err) => {
            tracing::info!(
                "the OS secret store is not available ({err}); using the encrypted file"
            );
            Ok(Backend::File)
        }
    }
}

/// The store behind `backend`.
pub fn open(backend: Backend, ctx: &Context) -> Result<Box<dyn KeyStore>, KeyError> {
    Ok(match backend {
        Backend::Os => Box::new(os::OsStore),
        Backend::File => Box::new(file::FileStore::new(keys_dir(ctx)?, ctx)),
    })
}

/// How long a change to the stored keys waits for another run's change to finish.
const INDEX_LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// Holds the index's lock while a change reads, changes and writes it: sixteen `keys add` at
/// once must leave sixteen entries, not the last writer's view.
fn lock_index(dir: &Path) -> Result<crate::fsx::FileLock, KeyError> {
    let path = dir.join(".index.lock");
    let io = |source| KeyError::Io {
        what: "lock",
        path: path.clone(),
        source,
    };
    crate::fsx::lock_within(&path, INDEX_LOCK_WAIT)
        .map_err(io)?
        .ok_or_else(|| {
            io(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!(
                    "another assume-role run has been changing the stored keys for {}",
                    crate::duration::display(INDEX_LOCK_WAIT)
                ),
            ))
        })
}

/// The index as it is on disk, for a change: a missing one is empty, but one that cannot be
/// read is refused, since writing over it would orphan every key it names.
fn index_to_change(dir: &Path) -> Result<Index, KeyError> {
    let path = index_path(dir);
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Index::new()),
        Err(source) => {
            return Err(KeyError::Io {
                what: "read",
                path,
                source,
            });
        }
    };
    serde_json::from_slice::<IndexFile>(&bytes)
        .map(|f| f.keys)
        .map_err(|e| KeyError::CorruptIndex {
            path,
            detail: e.to_string(),
        })
}

/// Stores `key` for `profile` in `backend` and records it in the index. A key stored before
/// under another backend is removed from it.
///
/// Replacing a key is journalled: the index first records the new key as pending, then the
/// backend is written, then the index names the new key. A kill at any point leaves an index
/// that [`load`] can settle against what the backend holds, never one naming a key that is
/// not there without saying so.
pub fn store(
    profile: &str,
    key: &StoredKey,
    backend: Backend,
    ctx: &Context,
) -> Result<(), KeyError> {
    let dir = keys_dir(ctx)?;
    let _lock = lock_index(&dir)?;
    let mut keys = index_to_change(&dir)?;
    let previous = keys.get(profile).cloned();
    if let Some(entry) = keys.get_mut(profile) {
        entry.pending = Some(Pending {
            access_key_id: key.access_key_id.clone(),
            backend,
            created: key.created,
        });
        write_index(&dir, &keys)?;
    }
    if let Err(err) = open(backend, ctx)?.put(profile, key) {
        // A backend write is atomic: nothing changed, so neither does the index.
        if let Some(previous) = previous {
            keys.insert(profile.to_owned(), previous);
            write_index(&dir, &keys)?;
        }
        return Err(err);
    }
    if let Some(old) = &previous
        && old.backend != backend
    {
        open(old.backend, ctx)?.remove(profile)?;
    }
    keys.insert(
        profile.to_owned(),
        IndexEntry {
            access_key_id: key.access_key_id.clone(),
            backend,
            created: key.created,
            pending: None,
        },
    );
    match write_index(&dir, &keys) {
        // The backend holds the new key and the index already names it as pending: the next
        // read settles on it. Failing here would make a rotation delete the only key there is.
        Err(err) if previous.is_some() => {
            tracing::warn!(
                "the key of profile `{profile}` is stored, but the index could not be brought up to date ({err}); the next use settles it"
            );
            Ok(())
        }
        other => other,
    }
}

/// Settles an entry a killed replacement left pending, under the index's lock: the key its
/// backend holds is the stored one, the new key if the write got that far, else the old one.
/// Returns that key, read once.
fn settle(profile: &str, ctx: &Context) -> Result<StoredKey, KeyError> {
    let dir = keys_dir(ctx)?;
    let _lock = lock_index(&dir)?;
    let mut keys = index_to_change(&dir)?;
    let not_stored = || KeyError::NotStored {
        profile: profile.to_owned(),
    };
    let entry = keys.get(profile).cloned().ok_or_else(not_stored)?;
    let Some(pending) = entry.pending.clone() else {
        // Another run settled it first.
        return read_from(profile, &entry, ctx);
    };
    let new = open(pending.backend, ctx)?
        .get(profile)?
        .filter(|k| k.access_key_id == pending.access_key_id);
    let (key, settled) = if let Some(key) = new {
        if pending.backend != entry.backend {
            open(entry.backend, ctx)?.remove(profile)?;
        }
        let settled = IndexEntry {
            access_key_id: pending.access_key_id,
            backend: pending.backend,
            created: pending.created,
            pending: None,
        };
        (key, settled)
    } else {
        let key = read_from(profile, &entry, ctx)?;
        // The key itself says which it is, should the index name neither.
        let settled = IndexEntry {
            access_key_id: key.access_key_id.clone(),
            pending: None,
            ..entry.clone()
        };
        (key, settled)
    };
    tracing::warn!(
        "an earlier change to the stored key of profile `{profile}` was interrupted; the index now names the key the {} backend holds ({})",
        settled.backend,
        crate::secret::mask_access_key(&settled.access_key_id)
    );
    keys.insert(profile.to_owned(), settled);
    write_index(&dir, &keys)?;
    Ok(key)
}

/// The key `entry` names, read from its backend.
fn read_from(profile: &str, entry: &IndexEntry, ctx: &Context) -> Result<StoredKey, KeyError> {
    open(entry.backend, ctx)?
        .get(profile)?
        .ok_or_else(|| KeyError::MissingInBackend {
            profile: profile.to_owned(),
            backend: entry.backend.to_string(),
        })
}

/// Removes the stored key of `profile`.
pub fn remove(profile: &str, ctx: &Context) -> Result<IndexEntry, KeyError> {
    let dir = keys_dir(ctx)?;
    let _lock = lock_index(&dir)?;
    let mut keys = index_to_change(&dir)?;
    let entry = keys.remove(profile).ok_or_else(|| KeyError::NotStored {
        profile: profile.to_owned(),
    })?;
    open(entry.backend, ctx)?.remove(profile)?;
    // A replacement that was under way may have put a copy in another backend.
    if let Some(pending) = &entry.pending
        && pending.backend != entry.backend
    {
        open(pending.backend, ctx)?.remove(profile)?;
    }
    write_index(&dir, &keys)?;
    Ok(entry)
}

/// The long-term key of `profile`, read from its backend: the one read of a secret store, on
/// the cold path only. An entry an interrupted change left pending is settled first.
pub fn load(profile: &str, ctx: &Context) -> Result<StoredKey, KeyError> {
    let entry = read_index(ctx)
        .get(profile)
        .cloned()
        .ok_or_else(|| KeyError::NotStored {
            profile: profile.to_owned(),
        })?;
    let started = std::time::Instant::now();
    let key = if entry.pending.is_some() {
        settle(profile, ctx)?
    } else {
        read_from(profile, &entry, ctx)?
    };
    tracing::info!(
        profile,
        backend = %entry.backend,
        access_key = %crate::secret::mask_access_key(&key.access_key_id),
        elapsed_ms = started.elapsed().as_millis(),
        "read the stored key"
    );
    Ok(key)
}

/// Now, in seconds since the Unix epoch.
pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::Settings;

    fn key(id: &str) -> StoredKey {
        StoredKey {
            access_key_id: id.into(),
            secret_access_key: Secret::new(format!("secret of {id}")),
            created: 1,
        }
    }

    /// A context whose data directory is `dir`, with the file backend's passphrase set.
    fn ctx_in(dir: &Path) -> Context {
        Context {
            env: crate::env::Env {
                file_passphrase: Some(Secret::new("journal test")),
                ..crate::env::Env::default()
            },
            paths: crate::paths::Paths {
                data_dir: Some(dir.to_owned()),
                ..crate::paths::Paths::default()
            },
            ..Context::default()
        }
    }

    #[test]
    fn a_replacement_killed_half_way_settles_on_the_key_the_backend_holds() {
        let dir = tempfile::tempdir().unwrap();
        let ctx = ctx_in(dir.path());
        store("p", &key("AKIAOLD0000000000001"), Backend::File, &ctx).unwrap();
        let keys = keys_dir(&ctx).unwrap();
        let pending = |id: &str| Pending {
            access_key_id: id.into(),
            backend: Backend::File,
            created: 2,
        };

        // Killed after the intent, before the backend write: the old key stays.
        let mut index = index_to_change(&keys).unwrap();
        index.get_mut("p").unwrap().pending = Some(pending("AKIANEW0000000000002"));
        write_index(&keys, &index).unwrap();
        assert_eq!(
            load("p", &ctx).unwrap().access_key_id,
            "AKIAOLD0000000000001"
        );
        let entry = &read_index(&ctx)["p"];
        assert_eq!(
            (entry.access_key_id.as_str(), &entry.pending),
            ("AKIAOLD0000000000001", &None)
        );

        // Killed after the backend write, before the index named it: the new key wins.
        index.get_mut("p").unwrap().pending = Some(pending("AKIANEW0000000000002"));
        write_index(&keys, &index).unwrap();
        open(Backend::File, &ctx)
            .unwrap()
            .put("p", &key("AKIANEW0000000000002"))
            .unwrap();
        assert_eq!(
            load("p", &ctx).unwrap().access_key_id,
            "AKIANEW0000000000002"
        );
        let entry = &read_index(&ctx)["p"];
        assert_eq!(
            (entry.access_key_id.as_str(), entry.created),
            ("AKIANEW0000000000002", 2)
        );
        assert!(entry.pending.is_none());
    }

    #[test]
    fn keys_backend_is_flag_then_environment_then_settings() {
        let ctx = |env: Option<&str>, settings: Option<Backend>| Context {
            env: crate::env::Env {
                keys_backend: env.map(str::to_owned),
                ..crate::env::Env::default()
            },
            settings: Settings {
                keys_backend: settings,
                ..Settings::default()
            },
            ..Context::default()
        };
        // The built-in default probes the OS store: not a unit test's business.
        let cases = [
            (
                Some(Backend::Os),
                Some("file"),
                Some(Backend::File),
                Backend::Os,
            ),
            (Some(Backend::Os), None, Some(Backend::File), Backend::Os),
            (None, Some("os"), Some(Backend::File), Backend::Os),
            (None, Some("file"), None, Backend::File),
            (None, None, Some(Backend::File), Backend::File),
            (None, None, Some(Backend::Os), Backend::Os),
        ];
        for (flag, env, settings, expected) in cases {
            assert_eq!(
                choose(flag, &ctx(env, settings)).unwrap(),
                expected,
                "{flag:?} {env:?} {settings:?}"
            );
        }
    }
}
