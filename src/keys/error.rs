//! What can go wrong with stored keys, each with what happened, where, and how to fix it.

use crate::error::Exit;
use std::path::PathBuf;

/// The flag and variable that choose a backend, for hints.
const CHOOSE: &str = "choose a backend with `--backend os|file` or `ASSUME_ROLE_KEYS_BACKEND`";

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("the OS secret store ({store}) is not available: {detail}")]
    OsStoreUnavailable { store: &'static str, detail: String },

    #[error("the OS secret store ({store}) is locked: {detail}")]
    OsStoreLocked { store: &'static str, detail: String },

    #[error("the OS secret store ({store}) did not answer within {seconds} s")]
    OsStoreTimeout { store: &'static str, seconds: u64 },

    #[error("the OS secret store ({store}) failed for profile `{profile}`: {detail}")]
    OsStore {
        store: &'static str,
        profile: String,
        detail: String,
    },

    #[error("the encrypted keys file needs a passphrase, and {reason}")]
    NoPassphrase { reason: String },

    #[error("the passphrase does not open `{}`", .path.display())]
    WrongPassphrase { path: PathBuf },

    #[error("`{}` is not a readable keys file: {detail}", .path.display())]
    Corrupt { path: PathBuf, detail: String },

    #[error("cannot {what} `{}`: {source}", .path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("there is no data directory to keep keys in (`HOME` is not set)")]
    NoDataDir,

    #[error("no key is stored for profile `{profile}`")]
    NotStored { profile: String },

    #[error(
        "the key of profile `{profile}` is listed as stored in the {backend} backend, but that backend does not have it"
    )]
    MissingInBackend { profile: String, backend: String },

    #[error("{origin} is `{value}`, which is not a keys backend (`os` or `file`)")]
    BadBackend { origin: &'static str, value: String },

    #[error(
        "profile `{profile}` has keys in `{}` and a stored key ({backend} backend): it is not clear which to use",
        .credentials_file.display()
    )]
    KeysInBothPlaces {
        profile: String,
        credentials_file: PathBuf,
        backend: String,
    },

    #[error("{what} is empty")]
    EmptyInput { what: &'static str },

    #[error("cannot read {what} from the terminal: {source}")]
    Prompt {
        what: &'static str,
        source: std::io::Error,
    },

    #[error("`--from-env` was given, but {missing} is not set")]
    EnvMissing { missing: &'static str },

    #[error("the key `{access_key}` for profile `{profile}` did not work: {detail}")]
    CheckFailed {
        profile: String,
        access_key: String,
        detail: String,
        unreachable: bool,
    },

    #[error("profile `{profile}` has no keys in `{}` to import", .path.display())]
    NothingToImport { profile: String, path: PathBuf },

    #[error("nothing to import: give profile names, or `--all`")]
    NoProfilesNamed,

    #[error(
        "profile `{profile}` has a session token beside its keys: they are temporary credentials, not a long-term key to store"
    )]
    TemporaryKeys { profile: String },

    #[error("the keys of profile `{profile}` are still in `{}` after the rewrite", .path.display())]
    StillInPlainText { profile: String, path: PathBuf },
}

impl KeyError {
    pub fn exit(&self) -> Exit {
        match self {
            KeyError::BadBackend { .. } | KeyError::NoProfilesNamed => Exit::Usage,
            KeyError::WrongPassphrase { .. } => Exit::Denied,
            KeyError::CheckFailed { unreachable, .. } => {
                if *unreachable {
                    Exit::Network
                } else {
                    Exit::Denied
                }
            }
            KeyError::OsStoreTimeout { .. } => Exit::Network,
            KeyError::Io { .. } | KeyError::OsStore { .. } | KeyError::Prompt { .. } => {
                Exit::Failure
            }
            KeyError::OsStoreUnavailable { .. }
            | KeyError::OsStoreLocked { .. }
            | KeyError::NoPassphrase { .. }
            | KeyError::Corrupt { .. }
            | KeyError::NoDataDir
            | KeyError::NotStored { .. }
            | KeyError::MissingInBackend { .. }
            | KeyError::KeysInBothPlaces { .. }
            | KeyError::EmptyInput { .. }
            | KeyError::EnvMissing { .. }
            | KeyError::NothingToImport { .. }
            | KeyError::TemporaryKeys { .. }
            | KeyError::StillInPlainText { .. } => Exit::Config,
        }
    }

    pub fn hints(&self) -> Vec<String> {
        match self {
            KeyError::OsStoreUnavailable { .. } | KeyError::OsStoreTimeout { .. } => vec![
                "use the passphrase-encrypted file instead: `--backend file`, or `ASSUME_ROLE_KEYS_BACKEND=file`".into(),
                "on Linux the OS store is the Secret Service: it needs a D-Bus session with gnome-keyring or KeePassXC running".into(),
            ],
            KeyError::OsStoreLocked { .. } => vec![
                "unlock your keyring (log in to the desktop session, or `gnome-keyring-daemon --unlock`), then run the command again".into(),
                "or use the passphrase-encrypted file instead: `--backend file`, or `ASSUME_ROLE_KEYS_BACKEND=file`".into(),
            ],
            KeyError::NoPassphrase { .. } => vec![
                "run it on a terminal, or set `ASSUME_ROLE_FILE_PASSPHRASE` (for automation)".into(),
                format!("or {CHOOSE}"),
            ],
            KeyError::WrongPassphrase { .. } => vec![
                "type the passphrase the key was stored with, or check `ASSUME_ROLE_FILE_PASSPHRASE`".into(),
                "a forgotten passphrase cannot be recovered: `assume-role keys remove PROFILE`, then `assume-role keys add PROFILE`".into(),
            ],
            KeyError::Corrupt { .. } | KeyError::MissingInBackend { .. } => vec![
                "store the key again: `assume-role keys remove PROFILE`, then `assume-role keys add PROFILE`".into(),
            ],
            KeyError::Io { .. } => vec!["check the permissions of the data directory (`$XDG_DATA_HOME/assume-role`)".into()],
            KeyError::NoDataDir => vec!["set `HOME` or `XDG_DATA_HOME`".into()],
            KeyError::NotStored { profile } => vec![
                format!("store one with `assume-role keys add {profile}`; `assume-role keys list` shows what is stored"),
            ],
            KeyError::OsStore { .. } | KeyError::BadBackend { .. } => vec![CHOOSE.into()],
            KeyError::KeysInBothPlaces { profile, credentials_file, .. } => vec![
                format!("to keep the stored key, delete the keys of `[{profile}]` from `{}` (`assume-role keys import {profile} --remove-plaintext` does it and stores the file's key instead)", credentials_file.display()),
                format!("to keep the file's keys, `assume-role keys remove {profile}`"),
            ],
            KeyError::EmptyInput { .. } | KeyError::Prompt { .. } => vec![
                "or put the pair in `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` and use `--from-env`".into(),
            ],
            KeyError::EnvMissing { .. } => vec!["set both `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY`, or leave out `--from-env` to type them".into()],
            KeyError::CheckFailed { unreachable: true, .. } => vec![
                "check the network, or store the key without checking: `--no-check`".into(),
            ],
            KeyError::CheckFailed { .. } => vec![
                "check that the access key ID and secret belong together and the key is active (IAM console, Security credentials)".into(),
                "`--no-check` stores the key without checking it".into(),
            ],
            KeyError::NothingToImport { .. } => vec![
                "`assume-role list` shows the profiles whose kind is `static-keys`".into(),
            ],
            KeyError::TemporaryKeys { .. } => vec![
                "import only long-term keys (`AKIA…`); temporary ones expire on their own".into(),
            ],
            KeyError::StillInPlainText { profile, path } => vec![format!(
                "the key is stored; delete the `aws_access_key_id` and `aws_secret_access_key` lines of `{profile}` from `{}` by hand (a section may be written in a way the rewrite does not recognise)",
                path.display()
            )],
            KeyError::NoProfilesNamed => vec!["`assume-role keys import contractor`, or `assume-role keys import --all`".into()],
        }
    }
}
