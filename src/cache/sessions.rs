//! Cached sessions: role sessions and MFA sessions, one file each, named by their key. Only
//! temporary credentials are ever stored; long-term keys never leave the AWS files.

use super::id::Key;
use crate::credentials::Credentials;
use crate::secret::Secret;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Sessions are reused until this long before they expire, so that SDKs reading
/// `credential_process` (which refresh 10–15 minutes ahead) never see one about to lapse.
pub const REUSE_MARGIN: Duration = Duration::from_mins(15);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    RoleSession,
    MfaSession,
    /// A `GetSessionToken` session without MFA: what a stored-key profile without a role and
    /// without `mfa_serial` hands over.
    KeySession,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::RoleSession => "role session",
            Kind::MfaSession => "MFA session",
            Kind::KeySession => "key session",
        }
    }
}

/// One cached session. `Debug` redacts the secret and the token through [`Secret`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Entry {
    pub version: u32,
    pub kind: Kind,
    /// The profile whose run created it.
    pub profile: String,
    pub role_arn: Option<String>,
    pub mfa_serial: Option<String>,
    pub access_key_id: String,
    #[serde(with = "secret_text")]
    pub secret_access_key: Secret,
    #[serde(with = "secret_text")]
    pub session_token: Secret,
    /// Seconds since the Unix epoch.
    pub expiration: u64,
    /// When it was stored, seconds since the Unix epoch.
    pub issued: u64,
    pub account_id: Option<String>,
}

impl Entry {
    pub fn new(
        kind: Kind,
        profile: &str,
        role_arn: Option<&str>,
        mfa_serial: Option<&str>,
        creds: &Credentials,
    ) -> Option<Self> {
        Some(Self {
            version: super::FORMAT_VERSION,
            kind,
            profile: profile.to_owned(),
            role_arn: role_arn.map(str::to_owned),
            mfa_serial: mfa_serial.map(str::to_owned),
            access_key_id: creds.access_key_id.clone(),
            secret_access_key: creds.secret_access_key.clone(),
            session_token: creds.session_token.clone()?,
            expiration: creds.expiration?.duration_since(UNIX_EPOCH).ok()?.as_secs(),
            issued: SystemTime::now().duration_since(UNIX_EPOCH).ok()?.as_secs(),
            account_id: creds.account_id.clone(),
        })
    }

    pub fn expires(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(self.expiration)
    }

    /// How close to expiry it may still be served: 15 minutes, or a quarter of its life for a
    /// session shorter than an hour (a 15-minute session would otherwise never be reused).
    pub fn margin(&self) -> Duration {
        let life = Duration::from_secs(self.expiration.saturating_sub(self.issued));
        REUSE_MARGIN.min(life / 4)
    }

    /// Time left, or zero once expired.
    pub fn remaining(&self, now: SystemTime) -> Duration {
        self.expires().duration_since(now).unwrap_or_default()
    }

    pub fn credentials(&self) -> Credentials {
        Credentials {
            access_key_id: self.access_key_id.clone(),
            secret_access_key: self.secret_access_key.clone(),
            session_token: Some(self.session_token.clone()),
            expiration: Some(self.expires()),
            account_id: self.account_id.clone(),
        }
    }
}

mod secret_text {
    use crate::secret::Secret;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(secret: &Secret, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(secret.expose())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Secret, D::Error> {
        String::deserialize(deserializer).map(Secret::new)
    }
}

/// The session store under the cache directory.
#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
}

impl Store {
    /// `None` when there is no cache directory at all (no home, no override): then every run is
    /// cold, which is slower but still correct.
    /// The store at the context's cache directory: `ASSUME_ROLE_CACHE_DIR`, else `assume-role`
    /// under the platform's (`$XDG_CACHE_HOME`, `~/.cache`, `~/Library/Caches`,
    /// `%LOCALAPPDATA%`).
    pub fn open(ctx: &crate::context::Context) -> Option<Self> {
        let root = ctx.paths.cache_dir.clone()?;
        super::trusted(&root).then_some(Self { root })
    }

    /// Removes one entry (a session STS refused). A failure only means the entry stays a miss
    /// candidate for the next run.
    pub fn remove(&self, key: &Key) {
        if let Err(e) = std::fs::remove_file(self.path(key))
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::debug!(error = %e, "could not remove a cache entry");
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn path(&self, key: &Key) -> PathBuf {
        self.root
            .join("sessions")
            .join(format!("{}.json", key.as_str()))
    }

    /// A session with at least `needed` left, and more than its [`Entry::margin`]. An expired,
    /// corrupt or foreign-version entry is a miss.
    pub fn get(&self, key: &Key, needed: Duration) -> Option<Entry> {
        let path = self.path(key);
        let entry: Entry = super::read(&path)?;
        if entry.version != super::FORMAT_VERSION {
            return None;
        }
        let left = entry.remaining(SystemTime::now());
        if left.is_zero() || left < needed.max(entry.margin()) {
            tracing::debug!(path = %path.display(), left_secs = left.as_secs(), "cached session too close to expiry");
            return None;
        }
        Some(entry)
    }

    pub fn put(&self, key: &Key, entry: &Entry) {
        super::write(&self.path(key), entry);
    }

    /// Holds the lock of `key` until dropped; see [`super::lock`].
    pub fn lock(&self, key: &Key, what: &str) -> Result<super::lock::Lock, super::CacheError> {
        super::lock::Lock::acquire(
            &self
                .root
                .join("locks")
                .join(format!("{}.lock", key.as_str())),
            what,
        )
    }

    /// Every readable entry, with its key, in the order the creator's name and expiry give.
    pub fn entries(&self) -> Vec<(Key, Entry)> {
        let mut entries: Vec<(Key, Entry)> = self
            .files()
            .into_iter()
            .filter_map(|(key, path)| super::read::<Entry>(&path).map(|e| (key, e)))
            .collect();
        entries.sort_by(|a, b| (&a.1.profile, a.1.expiration).cmp(&(&b.1.profile, b.1.expiration)));
        entries
    }

    /// The session files, with the keys they are named by; stray files are left out.
    fn files(&self) -> Vec<(Key, PathBuf)> {
        let Ok(dir) = std::fs::read_dir(self.root.join("sessions")) else {
            return Vec::new();
        };
        dir.filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .filter_map(|p| {
                let key = Key::from_file_stem(p.file_stem()?.to_str()?)?;
                Some((key, p))
            })
            .collect()
    }

    /// Removes the sessions for which `select` names a kind, given the key and the entry (`None`
    /// when the file is unreadable or corrupt, so that a broken entry can still be cleared by its
    /// key). The kind is the one counted: the caller knows why a key was chosen.
    pub fn remove_where(
        &self,
        mut select: impl FnMut(&Key, Option<&Entry>) -> Option<Kind>,
    ) -> std::io::Result<Removed> {
        let mut removed = Removed::default();
        for (key, path) in self.files() {
            let entry = super::read::<Entry>(&path);
            let Some(kind) = select(&key, entry.as_ref()) else {
                continue;
            };
            match std::fs::remove_file(&path) {
                // Another `cache clear` got there first: gone either way.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                other => other?,
            }
            match kind {
                // A key session is a profile's own hand-over, as a role session is.
                Kind::RoleSession | Kind::KeySession => removed.role_sessions += 1,
                Kind::MfaSession => removed.mfa_sessions += 1,
            }
        }
        Ok(removed)
    }

    /// Removes every session and the files derived from the config. Returns how many sessions
    /// went.
    pub fn clear_all(&self) -> std::io::Result<usize> {
        let mut removed = 0;
        if let Ok(dir) = std::fs::read_dir(self.root.join("sessions")) {
            for path in dir.filter_map(Result::ok).map(|e| e.path()) {
                std::fs::remove_file(&path)?;
                removed += 1;
            }
        }
        // Locks stay: another run may hold one right now.
        match std::fs::remove_dir_all(self.root.join("plans")) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        match std::fs::remove_file(self.root.join(super::LIST_INDEX)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        Ok(removed)
    }
}

/// What [`Store::remove_where`] removed, by kind.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Removed {
    pub role_sessions: usize,
    pub mfa_sessions: usize,
}

impl Removed {
    pub fn total(self) -> usize {
        self.role_sessions + self.mfa_sessions
    }
}
