//! What can go wrong with stored keys, each with what happened, where, and how to fix it.

use crate::exit::{Diagnose, Exit};
use crate::secret::mask_access_key;
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

    #[error(
        "the keys file backend already keeps keys under another passphrase (it does not open `{}`); nothing was stored",
        .path.display()
    )]
    OtherPassphrase { path: PathBuf },

    #[error("the two passphrases typed differ; nothing was stored")]
    PassphrasesDiffer,

    #[error("`{}` is not a readable keys file: {detail}", .path.display())]
    Corrupt { path: PathBuf, detail: String },

    #[error("the index of stored keys `{}` cannot be read: {detail}; nothing was changed", .path.display())]
    CorruptIndex { path: PathBuf, detail: String },

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
        "not removing the stored key `{}` of profile `{profile}`{}: there is no terminal to confirm on",
        mask_access_key(access_key_id),
        if *only_copy { ", the only copy of it here" } else { "" }
    )]
    RemoveUnconfirmed {
        profile: String,
        access_key_id: String,
        only_copy: bool,
    },

    #[error("kept the stored key of profile `{profile}`: removing it was not confirmed")]
    RemoveDeclined { profile: String },

    #[error(
        "profile `{profile}` has a session token beside its keys: they are temporary credentials, not a long-term key to store"
    )]
    TemporaryKeys { profile: String },

    #[error("the keys of profile `{profile}` are still in `{}` after the rewrite", .path.display())]
    StillInPlainText { profile: String, path: PathBuf },

    #[error(
        "profile `{profile}` holds no long-term key of its own (its credentials come from {source_kind} of profile `{base}`), so there is nothing to rotate"
    )]
    RotateNotOwnKey {
        profile: String,
        source_kind: &'static str,
        base: String,
        /// The base is a key `keys rotate` could rotate.
        base_rotatable: bool,
    },

    #[error(
        "IAM user `{user}` already has two access keys ({}), the most IAM allows, so profile `{profile}` cannot get a new one; nothing changed",
        shown_keys(.keys)
    )]
    RotateTwoKeys {
        profile: String,
        user: String,
        /// Each key's full ID and status (`Active`, `Inactive`); shown masked.
        keys: Vec<(String, String)>,
        stored: String,
    },

    #[error(
        "IAM user `{user}` has a second access key, `{}`, {}, and IAM allows two keys",
        mask_access_key(.key),
        if *.never_stored {
            format!("made by a `keys rotate` of profile `{profile}` that was interrupted before it stored the key: its secret is stored nowhere")
        } else {
            format!("which a `keys rotate` of profile `{profile}` replaced (the new key is stored) but was interrupted before it deleted it")
        }
    )]
    RotateStrayKey {
        profile: String,
        user: String,
        /// In full: the hint's command needs it.
        key: String,
        /// The new key of the interrupted rotation, rather than the old key it replaced.
        never_stored: bool,
    },

    #[error("not rotating the key of profile `{profile}`: the stray key stays")]
    StrayKeptDeclined { profile: String },

    #[error("rotating the key of profile `{}` stopped: {}; {}", .0.profile, .0.detail, .0.state.describe(&.0.old_key))]
    Rotation(Box<RotationFailure>),

    #[error(
        "the key of profile `{profile}` was rotated, but the cached sessions made from the old key could not be removed from `{}`: {source}",
        .path.display()
    )]
    RotateEvict {
        profile: String,
        path: PathBuf,
        source: std::io::Error,
    },
}

/// A rotation that stopped part-way (boxed: it is the largest error).
#[derive(Debug)]
pub struct RotationFailure {
    pub profile: String,
    /// The IAM user, once known.
    pub user: Option<String>,
    /// The key being replaced, in full (shown masked, except in a command to run).
    pub old_key: String,
    /// What failed, already worded ("IAM at `…` refused CreateAccessKey: …").
    pub detail: String,
    pub state: RotationState,
    pub exit: Exit,
    /// IAM or STS said `AccessDenied`: a permission is missing.
    pub access_denied: bool,
    /// The profile has `mfa_serial`, so the IAM calls were signed by an MFA session.
    pub with_mfa: bool,
}

impl RotationFailure {
    /// How to finish by hand, or to undo, given where it stopped; and what to check.
    fn hints(&self) -> Vec<String> {
        let RotationFailure {
            profile,
            user,
            old_key,
            state,
            access_denied,
            with_mfa,
            exit,
            ..
        } = self;
        let user = user.as_deref();
        let mut hints = Vec::new();
        match state {
            RotationState::Unchanged => {}
            RotationState::MaybeCreated => hints.push(format!(
                "see what IAM holds with `aws iam list-access-keys --user-name {}`, and delete any key other than `{}` with `{}`",
                user.unwrap_or("USER"),
                mask_access_key(old_key),
                delete_command(user, "ID")
            )),
            RotationState::NewKeyNotStored { new_key, deleted: false }
            | RotationState::NewKeyNotWorking { new_key, restored: true, deleted: false } => {
                hints.push(format!("delete the unused new key: `{}`", delete_command(user, new_key)));
            }
            RotationState::NewKeyNotStored { deleted: true, .. }
            | RotationState::NewKeyNotWorking { restored: true, deleted: true, .. } => {
                hints.push(format!("IAM can take a while to accept a new key; run `assume-role keys rotate {profile}` again in a minute"));
            }
            RotationState::NewKeyNotWorking { new_key, restored: false, .. } => hints.push(format!(
                "check the new key with `assume-role whoami {profile}`; if it works, delete the old one (`{}`); if not, delete the new one (`{}`) and store the old one again with `assume-role keys add {profile}`",
                delete_command(user, old_key),
                delete_command(user, new_key)
            )),
            RotationState::OldKeyNotDeleted { .. } => hints.push(format!(
                "delete it: `{}`",
                delete_command(user, old_key)
            )),
        }
        if *access_denied {
            hints.push(ROTATE_PERMISSIONS.into());
            if !with_mfa {
                hints.push(format!("if a policy requires MFA for this, set `mfa_serial` (and `mfa_process`) in profile `{profile}`"));
            }
        } else if *exit == Exit::Network {
            hints.push("check the network, a proxy (`HTTPS_PROXY`), or an endpoint override (`AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_IAM`, `AWS_ENDPOINT_URL_STS`)".into());
        }
        hints
    }
}

/// Where a rotation stopped, and so what IAM and the store hold now. Key IDs are kept in full:
/// a fix command must name the exact key (see [`KeyError::Rotation`]'s hints).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RotationState {
    /// IAM has no new key and the stored key is the old one.
    Unchanged,
    /// `CreateAccessKey` got no usable answer: IAM may have made a key whose secret nobody has.
    MaybeCreated,
    /// The new key could not be stored; `deleted`: it was deleted from IAM again.
    NewKeyNotStored { new_key: String, deleted: bool },
    /// The new key did not work in time. `restored`: the old key is stored again; `deleted`:
    /// the new one was deleted from IAM.
    NewKeyNotWorking {
        new_key: String,
        restored: bool,
        deleted: bool,
    },
    /// The new key is stored and works; the old key is still in IAM.
    OldKeyNotDeleted { new_key: String },
}

impl RotationState {
    fn describe(&self, old_key: &str) -> String {
        let old = mask_access_key(old_key);
        match self {
            RotationState::Unchanged => format!(
                "nothing changed: IAM has no new key, and the stored key `{old}` is still the one in use"
            ),
            RotationState::MaybeCreated => format!(
                "IAM may have created a new key whose secret never arrived; the stored key `{old}` is unchanged and still active"
            ),
            RotationState::NewKeyNotStored {
                new_key,
                deleted: true,
            } => format!(
                "the new key `{}` was deleted again, so nothing changed: the stored key `{old}` is still the one in use",
                mask_access_key(new_key)
            ),
            RotationState::NewKeyNotStored {
                new_key,
                deleted: false,
            } => format!(
                "the new key `{}` exists in IAM but is stored nowhere, and could not be deleted again; the stored key `{old}` is unchanged and still active",
                mask_access_key(new_key)
            ),
            RotationState::NewKeyNotWorking {
                new_key,
                restored: true,
                deleted: true,
            } => format!(
                "the old key `{old}` was stored back and the new key `{}` deleted, so nothing changed",
                mask_access_key(new_key)
            ),
            RotationState::NewKeyNotWorking {
                new_key,
                restored: true,
                deleted: false,
            } => format!(
                "the old key `{old}` was stored back and is still active; the new key `{}` is still in IAM, unused, and could not be deleted",
                mask_access_key(new_key)
            ),
            RotationState::NewKeyNotWorking {
                new_key,
                restored: false,
                ..
            } => format!(
                "the new key `{}` is stored, and the old key `{old}` could not be stored back; both keys are still in IAM",
                mask_access_key(new_key)
            ),
            RotationState::OldKeyNotDeleted { new_key } => format!(
                "the new key `{}` is stored and works; the old key `{old}` could not be deleted and is still active in IAM",
                mask_access_key(new_key)
            ),
        }
    }
}

fn shown_keys(keys: &[(String, String)]) -> String {
    keys.iter()
        .map(|(id, status)| format!("`{}` {status}", mask_access_key(id)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The command that deletes one key. The key ID is given in full here, and only here: it is
/// an identifier, not a secret (IAM, CloudTrail and the console show it), the command must
/// run as printed, and a masked ID would leave the person to look it up and maybe delete the
/// wrong key (the new one, which would lock them out).
fn delete_command(user: Option<&str>, access_key_id: &str) -> String {
    format!(
        "aws iam delete-access-key --user-name {} --access-key-id {access_key_id}",
        user.unwrap_or("USER")
    )
}

/// What the IAM user needs to rotate its own key.
const ROTATE_PERMISSIONS: &str = "the IAM user needs `iam:GetUser`, `iam:ListAccessKeys`, `iam:CreateAccessKey` and `iam:DeleteAccessKey` on itself (`arn:aws:iam::ACCOUNT:user/${aws:username}`)";

impl Diagnose for KeyError {
    fn exit(&self) -> Exit {
        match self {
            KeyError::BadBackend { .. }
            | KeyError::NoProfilesNamed
            | KeyError::RemoveUnconfirmed { .. } => Exit::Usage,
            KeyError::CheckFailed { unreachable, .. } => {
                if *unreachable {
                    Exit::Network
                } else {
                    Exit::Denied
                }
            }
            KeyError::OsStoreTimeout { .. } => Exit::Network,
            KeyError::Rotation(failure) => failure.exit,
            KeyError::RotateTwoKeys { .. }
            | KeyError::RotateStrayKey { .. }
            | KeyError::StrayKeptDeclined { .. }
            | KeyError::RotateEvict { .. }
            | KeyError::RemoveDeclined { .. } => Exit::Failure,
            KeyError::Io { .. } | KeyError::OsStore { .. } | KeyError::Prompt { .. } => {
                Exit::Failure
            }
            KeyError::OsStoreUnavailable { .. }
            | KeyError::OsStoreLocked { .. }
            // A wrong passphrase and a missing one are the same problem, the keys file cannot
            // be opened, and neither is AWS refusing anything (exit 5).
            | KeyError::NoPassphrase { .. }
            | KeyError::WrongPassphrase { .. }
            | KeyError::OtherPassphrase { .. }
            | KeyError::PassphrasesDiffer
            | KeyError::Corrupt { .. }
            | KeyError::CorruptIndex { .. }
            | KeyError::NoDataDir
            | KeyError::NotStored { .. }
            | KeyError::MissingInBackend { .. }
            | KeyError::KeysInBothPlaces { .. }
            | KeyError::EmptyInput { .. }
            | KeyError::EnvMissing { .. }
            | KeyError::NothingToImport { .. }
            | KeyError::TemporaryKeys { .. }
            | KeyError::StillInPlainText { .. }
            | KeyError::RotateNotOwnKey { .. } => Exit::Config,
        }
    }

    fn hints(&self) -> Vec<String> {
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
            _ => self.change_hints(),
        }
    }
}

impl KeyError {
    /// The hints of the errors met while changing what is stored (passphrases, removal,
    /// rotation), kept apart from [`Diagnose::hints`] so that each table stays readable.
    fn change_hints(&self) -> Vec<String> {
        match self {
            KeyError::CorruptIndex { path, .. } => vec![
                format!("restore `{}` from a backup; the key files beside it are untouched", path.display()),
                format!("or move it aside (`mv {0} {0}.broken`) and store each key again with `assume-role keys add PROFILE`", path.display()),
            ],
            KeyError::OtherPassphrase { .. } => vec![
                "use the passphrase the stored keys were saved with: one passphrase opens every key in the file backend".into(),
                "a forgotten passphrase cannot be recovered: remove those keys (`assume-role keys remove PROFILE`) and store them again".into(),
            ],
            KeyError::PassphrasesDiffer => vec![
                "type the same passphrase twice: it is the only way to open the keys later, and cannot be recovered".into(),
            ],
            KeyError::RemoveUnconfirmed { profile, .. } => vec![
                format!("run it on a terminal to be asked, or pass `--yes`: `assume-role keys remove {profile} --yes`"),
                "an access key's secret cannot be shown again by AWS: keep a copy, or rotate the key instead (`assume-role keys rotate`)".into(),
            ],
            KeyError::RemoveDeclined { .. } | KeyError::StrayKeptDeclined { .. } => vec![],
            KeyError::NoProfilesNamed => vec!["`assume-role keys import contractor`, or `assume-role keys import --all`".into()],
            KeyError::RotateNotOwnKey { base, base_rotatable: true, .. } => vec![
                format!("rotate the key it uses: `assume-role keys rotate {base}`"),
            ],
            KeyError::RotateNotOwnKey { .. } => vec![
                "`keys rotate` rotates an IAM user's access key kept by `assume-role keys add`".into(),
            ],
            KeyError::RotateStrayKey { profile, user, key, .. } => vec![
                format!("delete it and rotate: `assume-role keys rotate {profile} --yes` (or answer `y` on a terminal)"),
                format!("or delete it yourself: `aws iam delete-access-key --user-name {user} --access-key-id {key}`"),
            ],
            KeyError::RotateTwoKeys { profile, user, stored, .. } => vec![
                format!("the stored key of `{profile}` is `{}`; if nothing uses the other one, delete it (`aws iam list-access-keys --user-name {user}` shows full IDs; `aws iam delete-access-key --user-name {user} --access-key-id ID`), then run `assume-role keys rotate {profile}` again", mask_access_key(stored)),
            ],
            KeyError::RotateEvict { profile, .. } => vec![
                format!("remove them with `assume-role cache clear {profile}` (or `assume-role cache clear`)"),
            ],
            KeyError::Rotation(failure) => failure.hints(),
            _ => Vec::new(),
        }
    }
}
