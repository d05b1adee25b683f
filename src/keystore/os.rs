//! The OS secret store, through the `keyring` crate: Keychain on macOS, Credential Manager on
//! Windows, the Secret Service (over D-Bus, through zbus) elsewhere. Every call runs on its own
//! thread with a deadline: a D-Bus peer that never answers must not hang a credential tool.

use super::{Backend, KeyError, KeyStore, StoredKey};
use std::sync::mpsc;
use std::time::Duration;

/// The service name entries are stored under; the profile is the user name.
const SERVICE: &str = "assume-role";

/// Connecting must be quick; a store that answers may still prompt to unlock, so reads and
/// writes get longer.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);
const CALL_TIMEOUT: Duration = Duration::from_mins(1);

/// What the OS store is called here, for messages.
pub const STORE: &str = if cfg!(target_os = "macos") {
    "macOS Keychain"
} else if cfg!(windows) {
    "Windows Credential Manager"
} else {
    "Secret Service"
};

pub struct OsStore;

/// Runs `f` on a thread, for at most `limit`. A call that overruns is left to finish on its own
/// thread; the process exits soon after anyway.
fn bounded<T: Send + 'static>(
    limit: Duration,
    f: impl FnOnce() -> Result<T, KeyError> + Send + 'static,
) -> Result<T, KeyError> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(limit)
        .unwrap_or(Err(KeyError::OsStoreTimeout {
            store: STORE,
            seconds: limit.as_secs(),
        }))
}

/// Whether the OS store answers at all.
pub fn probe() -> Result<(), KeyError> {
    bounded(PROBE_TIMEOUT, || {
        keyring::Entry::store_status()
            .as_ref()
            .map_err(|e| KeyError::OsStoreUnavailable {
                store: STORE,
                detail: describe(e),
            })
            .copied()
    })
}

/// An error in words, without the bytes some variants carry (they may be a secret).
fn describe(err: &keyring::Error) -> String {
    use keyring::Error as E;
    match err {
        E::PlatformFailure(e) | E::NoStorageAccess(e) => e.to_string(),
        E::NoEntry => "no such entry".into(),
        E::BadEncoding(_) | E::BadDataFormat(..) => {
            "the stored entry is not in the expected format".into()
        }
        E::NoDefaultStore => match keyring::Entry::store_status() {
            Err(E::NoDefaultStore) | Ok(()) => "no credential store could be opened".into(),
            Err(e) => describe(e),
        },
        E::TooLong(what, limit) => format!("{what} is longer than {limit}"),
        E::Invalid(what, why) => format!("{what}: {why}"),
        other => match other {
            E::BadStoreFormat(why) | E::NotSupportedByStore(why) => why.clone(),
            _ => "unexpected error".into(),
        },
    }
}

fn failed(profile: &str, err: &keyring::Error) -> KeyError {
    match err {
        keyring::Error::NoDefaultStore => KeyError::OsStoreUnavailable {
            store: STORE,
            detail: describe(err),
        },
        keyring::Error::NoStorageAccess(_) => KeyError::OsStoreLocked {
            store: STORE,
            detail: describe(err),
        },
        _ => KeyError::OsStore {
            store: STORE,
            profile: profile.to_owned(),
            detail: describe(err),
        },
    }
}

fn entry(profile: &str) -> Result<keyring::Entry, KeyError> {
    probe()?;
    keyring::Entry::new(SERVICE, profile).map_err(|e| failed(profile, &e))
}

impl KeyStore for OsStore {
    fn backend(&self) -> Backend {
        Backend::Os
    }

    fn put(&self, profile: &str, key: &StoredKey) -> Result<(), KeyError> {
        let entry = entry(profile)?;
        let bytes = key.to_bytes();
        let profile = profile.to_owned();
        bounded(CALL_TIMEOUT, move || {
            entry.set_secret(&bytes).map_err(|e| failed(&profile, &e))
        })
    }

    fn get(&self, profile: &str) -> Result<Option<StoredKey>, KeyError> {
        let entry = entry(profile)?;
        let owned = profile.to_owned();
        let bytes = bounded(CALL_TIMEOUT, move || match entry.get_secret() {
            Ok(bytes) => Ok(Some(bytes)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(failed(&owned, &e)),
        })?;
        bytes
            .map(|b| {
                StoredKey::from_bytes(&b).ok_or_else(|| KeyError::OsStore {
                    store: STORE,
                    profile: profile.to_owned(),
                    detail: "the stored entry is not in the expected format".into(),
                })
            })
            .transpose()
    }

    fn remove(&self, profile: &str) -> Result<(), KeyError> {
        let entry = entry(profile)?;
        let profile = profile.to_owned();
        bounded(CALL_TIMEOUT, move || match entry.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(failed(&profile, &e)),
        })
    }
}
