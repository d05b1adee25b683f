//! The encrypted file backend: one age file per key (`keys/<profile>.age`, 0600 in a 0700
//! directory, written atomically), encrypted to a passphrase with age's scrypt recipient. The
//! passphrase comes from `ASSUME_ROLE_FILE_PASSPHRASE`, else from the terminal, without echo.

use super::{Backend, KeyError, KeyStore, StoredKey};
use crate::context::Context;
use crate::secret::Secret;
use age::secrecy::SecretString;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use std::path::{Path, PathBuf};

/// scrypt's work factor, `N = 2^16` (64 MiB, about 0.1–0.2 s here). age would calibrate to about
/// a second per read, which a tool run many times a day cannot afford on every cold start, and a
/// calibrated file made by a fast machine is refused by a slow one. The passphrase guards a
/// file that is already private to the user; 2^16 is still far above aws-vault's PBKDF2 at 8192.
pub const WORK_FACTOR: u8 = 16;
/// The most a read accepts: files from `rage` at its calibrated default still open, while a
/// planted file cannot make a read take minutes.
const MAX_WORK_FACTOR: u8 = 20;

/// Profile names may hold `/`, `:` or dots; a file name must not.
const FILE_NAME: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'@')
    .remove(b'+');

pub struct FileStore {
    dir: PathBuf,
    passphrase: Option<Secret>,
}

impl FileStore {
    pub fn new(dir: PathBuf, ctx: &Context) -> Self {
        Self {
            dir,
            passphrase: ctx.env.file_passphrase.clone(),
        }
    }

    pub fn path(&self, profile: &str) -> PathBuf {
        self.dir
            .join(format!("{}.age", utf8_percent_encode(profile, FILE_NAME)))
    }

    fn passphrase(&self) -> Result<SecretString, KeyError> {
        let typed = match &self.passphrase {
            Some(p) => p.clone(),
            None => ask_passphrase()?,
        };
        Ok(SecretString::from(typed.expose().to_owned()))
    }
}

impl FileStore {
    /// The passphrase a new file is written with: the one every file here already opens with,
    /// so that one passphrase opens them all. With no file yet, it is the first, and a typo in
    /// it would lose the key: typed on the terminal, it is asked twice. Checked before anything
    /// is written (and so before `keys import` removes any plain text).
    fn passphrase_to_write(&self) -> Result<SecretString, KeyError> {
        let existing = self.existing_file();
        let passphrase = match (&self.passphrase, &existing) {
            (Some(given), _) => given.clone(),
            (None, Some(_)) => ask_passphrase()?,
            (None, None) => {
                let first = ask_passphrase()?;
                let again = crate::terminal::hidden("Repeat the passphrase: ").map_err(|e| {
                    KeyError::NoPassphrase {
                        reason: format!("there is no terminal to ask for it on ({e})"),
                    }
                })?;
                if first.expose() != again.expose() {
                    return Err(KeyError::PassphrasesDiffer);
                }
                first
            }
        };
        let passphrase = SecretString::from(passphrase.expose().to_owned());
        if let Some(path) = existing {
            let bytes = std::fs::read(&path).map_err(io("read", &path))?;
            let mut identity = age::scrypt::Identity::new(passphrase.clone());
            identity.set_max_work_factor(MAX_WORK_FACTOR);
            if age::decrypt(&identity, &bytes).is_err() {
                return Err(KeyError::OtherPassphrase { path });
            }
        }
        Ok(passphrase)
    }

    /// A key file already here, if any: the one the next passphrase must open.
    fn existing_file(&self) -> Option<PathBuf> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&self.dir)
            .ok()?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|path| path.extension().is_some_and(|e| e == "age"))
            .collect();
        // The same file every time, for the same answer.
        files.sort();
        files.into_iter().next()
    }
}

/// The passphrase, typed on the terminal without echo. A command that reads and writes the file
/// more than once (`keys rotate`) asks once, and puts the answer in its context.
pub fn ask_passphrase() -> Result<Secret, KeyError> {
    let typed =
        crate::terminal::hidden("Passphrase for the assume-role keys file: ").map_err(|e| {
            KeyError::NoPassphrase {
                reason: format!("there is no terminal to ask for it on ({e})"),
            }
        })?;
    if typed.expose().is_empty() {
        return Err(KeyError::EmptyInput {
            what: "the passphrase",
        });
    }
    Ok(typed)
}

fn io(what: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> KeyError {
    let path = path.to_owned();
    move |source| KeyError::Io { what, path, source }
}

impl KeyStore for FileStore {
    fn backend(&self) -> Backend {
        Backend::File
    }

    fn put(&self, profile: &str, key: &StoredKey) -> Result<(), KeyError> {
        let path = self.path(profile);
        let passphrase = self.passphrase_to_write()?;
        let mut recipient = age::scrypt::Recipient::new(passphrase);
        recipient.set_work_factor(WORK_FACTOR);
        let encrypted = age::encrypt(&recipient, &key.to_bytes()).map_err(|e| KeyError::Io {
            what: "encrypt a key for",
            path: path.clone(),
            source: std::io::Error::other(e.to_string()),
        })?;
        crate::fsx::write_private(&path, &encrypted).map_err(io("write", &path))
    }

    fn get(&self, profile: &str) -> Result<Option<StoredKey>, KeyError> {
        let path = self.path(profile);
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io("read", &path)(e)),
        };
        let mut identity = age::scrypt::Identity::new(self.passphrase()?);
        identity.set_max_work_factor(MAX_WORK_FACTOR);
        let plain = age::decrypt(&identity, &bytes).map_err(|e| {
            use age::DecryptError as D;
            match e {
                D::DecryptionFailed | D::KeyDecryptionFailed | D::NoMatchingKeys => {
                    KeyError::WrongPassphrase { path: path.clone() }
                }
                D::ExcessiveWork { required, .. } => KeyError::Corrupt {
                    path: path.clone(),
                    detail: format!(
                        "its scrypt work factor 2^{required} is above the 2^{MAX_WORK_FACTOR} this tool accepts"
                    ),
                },
                other => KeyError::Corrupt {
                    path: path.clone(),
                    detail: other.to_string(),
                },
            }
        })?;
        StoredKey::from_bytes(&plain)
            .map(Some)
            .ok_or_else(|| KeyError::Corrupt {
                path,
                detail: "it does not hold a key".into(),
            })
    }

    fn remove(&self, profile: &str) -> Result<(), KeyError> {
        let path = self.path(profile);
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io("remove", &path)(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(dir: &Path, passphrase: &str) -> FileStore {
        FileStore {
            dir: dir.to_owned(),
            passphrase: Some(Secret::new(passphrase)),
        }
    }

    #[test]
    fn a_key_round_trips_and_a_wrong_passphrase_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let key = StoredKey {
            access_key_id: "AKIAEXAMPLE000000001".into(),
            secret_access_key: Secret::new("very-secret"),
            created: 7,
        };
        store(dir.path(), "right").put("a/b:c", &key).unwrap();
        let path = store(dir.path(), "right").path("a/b:c");
        assert_eq!(path.parent().unwrap(), dir.path());
        let bytes = std::fs::read(&path).unwrap();
        assert!(!String::from_utf8_lossy(&bytes).contains("very-secret"));
        let back = store(dir.path(), "right").get("a/b:c").unwrap().unwrap();
        assert_eq!(back.secret_access_key.expose(), "very-secret");
        assert_eq!(back.created, 7);
        assert!(matches!(
            store(dir.path(), "wrong").get("a/b:c"),
            Err(KeyError::WrongPassphrase { .. })
        ));
        assert!(store(dir.path(), "right").get("other").unwrap().is_none());
        store(dir.path(), "right").remove("a/b:c").unwrap();
        assert!(!path.exists());
    }

    #[test]
    fn one_passphrase_opens_every_key_and_another_is_refused_before_writing() {
        let dir = tempfile::tempdir().unwrap();
        let key = StoredKey {
            access_key_id: "AKIAEXAMPLE000000001".into(),
            secret_access_key: Secret::new("very-secret"),
            created: 7,
        };
        store(dir.path(), "right").put("first", &key).unwrap();
        let refused = store(dir.path(), "wrong").put("second", &key);
        assert!(
            matches!(refused, Err(KeyError::OtherPassphrase { .. })),
            "{refused:?}"
        );
        assert!(!store(dir.path(), "wrong").path("second").exists());
        store(dir.path(), "right").put("second", &key).unwrap();
        assert!(store(dir.path(), "right").get("second").unwrap().is_some());
    }
}
