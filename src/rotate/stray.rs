//! A key an interrupted rotation left in IAM. Between `CreateAccessKey` and storing the new
//! key, this run holds the only copy of its secret; a kill there leaves IAM with a second key
//! that nothing can use, and IAM allows two, so every later rotation would be refused.
//!
//! A rotation records that it began (`keys/<profile>.rotating`: the old key's ID and the time,
//! nothing secret) before it asks IAM for a key, and removes the record when it ends, however
//! it ends, but for a kill. The next rotation that finds a second key, made after such a record
//! and stored nowhere this tool knows of, says so and offers to delete it.

use crate::aws::iam::KeyInfo;
use crate::config::Profiles;
use crate::context::Context;
use crate::keystore::{self, KeyError};
use crate::secret::mask_access_key;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::path::PathBuf;

/// How much earlier than the record IAM's clock may date the key it made.
const CLOCK_SKEW_SECS: i64 = 300;

/// The record of a rotation under way.
#[derive(Debug, Serialize, Deserialize)]
struct Record {
    old_key: String,
    /// Seconds since the Unix epoch.
    started: u64,
}

/// A rotation's record on disk: written by [`Journal::begin`], removed when dropped.
pub struct Journal {
    path: PathBuf,
}

impl Journal {
    fn path(profile: &str, ctx: &Context) -> Result<PathBuf, KeyError> {
        let dir = keystore::keys_dir(ctx)?;
        Ok(keystore::file::FileStore::new(dir, ctx)
            .path(profile)
            .with_extension("rotating"))
    }

    /// Records that the rotation of `old_key` begins now.
    pub fn begin(profile: &str, old_key: &str, ctx: &Context) -> Result<Self, KeyError> {
        let path = Self::path(profile, ctx)?;
        let record = Record {
            old_key: old_key.to_owned(),
            started: keystore::now_secs(),
        };
        let bytes = serde_json::to_vec(&record).expect("the record serializes");
        crate::fsx::write_private(&path, &bytes).map_err(|source| KeyError::Io {
            what: "write",
            path: path.clone(),
            source,
        })?;
        Ok(Self { path })
    }
}

impl Drop for Journal {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_file(&self.path)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(
                "could not remove `{}`: {e}; the next `keys rotate` may ask about a key it no longer needs to",
                self.path.display()
            );
        }
    }
}

/// What a second key left by an interrupted rotation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stray {
    /// The new key, made before the rotation could store it: its secret is stored nowhere.
    NeverStored,
    /// The old key, which the rotation replaced (the new one is stored) but did not delete.
    Replaced,
}

/// The one key of `keys` that an interrupted rotation of `profile` left, if that is what the
/// second key is: a record of a rotation that never ended; either its old key, now replaced
/// by `stored_key`, or a key made no earlier than the record while `stored_key` was still the
/// old one; and in both cases stored nowhere this tool knows of (the key store, under any
/// profile, or the AWS files in plain text). Anything less certain is left to the user.
pub fn find<'k>(
    profile: &str,
    stored_key: &str,
    keys: &'k [KeyInfo],
    profiles: &Profiles,
    ctx: &Context,
) -> Option<(&'k KeyInfo, Stray)> {
    let path = Journal::path(profile, ctx).ok()?;
    let record: Record = crate::fsx::read(&path)?;
    let mut others = keys.iter().filter(|k| k.access_key_id != stored_key);
    let other = others.next()?;
    if others.next().is_some() {
        return None;
    }
    let started = i64::try_from(record.started).ok()?;
    let kind = if record.old_key == stored_key {
        let made_by_it = other
            .created
            .is_some_and(|created| created >= started - CLOCK_SKEW_SECS);
        made_by_it.then_some(Stray::NeverStored)?
    } else {
        (other.access_key_id == record.old_key).then_some(Stray::Replaced)?
    };
    let mut known: HashSet<String> = HashSet::new();
    for entry in keystore::read_index(ctx).into_values() {
        known.extend(entry.pending.map(|p| p.access_key_id));
        known.insert(entry.access_key_id);
    }
    for name in profiles.names() {
        if let Some(id) = profiles.get(name).and_then(|p| p.get("aws_access_key_id")) {
            known.insert(id.to_owned());
        }
    }
    (!known.contains(&other.access_key_id)).then_some((other, kind))
}

/// Whether to delete `stray`: `--yes`, else a `y` on the terminal. Without either, the refusal
/// says what the key is and how to finish.
pub fn confirm(
    profile: &str,
    user: &str,
    (stray, kind): (&KeyInfo, Stray),
    yes: bool,
) -> Result<(), KeyError> {
    if yes {
        return Ok(());
    }
    let refused = || KeyError::RotateStrayKey {
        profile: profile.to_owned(),
        user: user.to_owned(),
        key: stray.access_key_id.clone(),
        never_stored: kind == Stray::NeverStored,
    };
    if !crate::terminal::in_foreground() {
        return Err(refused());
    }
    eprintln!("assume-role: {}", refused());
    let question = format!(
        "Delete `{}` from IAM, then rotate? [y/N] ",
        mask_access_key(&stray.access_key_id)
    );
    match crate::terminal::visible(&question) {
        Ok(answer) if matches!(answer.to_ascii_lowercase().as_str(), "y" | "yes") => Ok(()),
        Ok(_) => Err(KeyError::StrayKeptDeclined {
            profile: profile.to_owned(),
        }),
        Err(_) => Err(refused()),
    }
}
