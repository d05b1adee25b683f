//! The on-disk cache: private files (0600) in a private directory (0700), every write atomic (a
//! temporary file in the same directory, then a rename), every read forgiving: an entry that is
//! missing, unreadable or corrupt is simply a miss, logged at debug level.

mod error;
pub use error::CacheError;

pub mod codes;
pub mod id;
pub mod lock;
pub mod sessions;

// The file primitives live in `fsx` (layer 1), so that the key store can use them without
// depending on the cache.
pub use crate::fsx::{ensure_private_dir, parse, read, read_bytes, write, write_private};

use crate::config::Plan;
use serde::Serialize;
use std::path::Path;

/// Bumped whenever the layout of any cache file changes; old files are then misses.
pub const FORMAT_VERSION: u32 = 1;

/// The rows of `assume-role list`.
pub const LIST_INDEX: &str = "profiles-list.json";

#[derive(serde::Deserialize)]
struct PlanEntry {
    version: u32,
    fingerprint: String,
    plan: Plan,
}

#[derive(Serialize)]
struct PlanEntryRef<'a> {
    version: u32,
    fingerprint: &'a str,
    plan: &'a Plan,
}

/// A plan resolved earlier for the same command line, valid while the files keep the
/// `fingerprint` it was made from, so that a warm run need not parse a large config. One file
/// per command line, replaced when the files change. Its secrets were never stored: a cached
/// plan names the credentials to look up, it cannot sign anything.
pub fn cached_plan(root: &Path, key: &id::Key, fingerprint: &str) -> Option<Plan> {
    let entry: PlanEntry = read(&root.join("plans").join(format!("{}.json", key.as_str())))?;
    (entry.version == FORMAT_VERSION && entry.fingerprint == fingerprint).then_some(entry.plan)
}

pub fn store_plan(root: &Path, key: &id::Key, fingerprint: &str, plan: &Plan) {
    write(
        &root.join("plans").join(format!("{}.json", key.as_str())),
        &PlanEntryRef {
            version: FORMAT_VERSION,
            fingerprint,
            plan,
        },
    );
}

/// Whether the cache at `root` can be trusted: anyone who can write there could plant
/// credentials for us to hand over. A root owned by someone else, or writable by group or
/// others, is not used (a missing one is created private).
pub fn trusted(root: &Path) -> bool {
    match crate::fsx::untrusted(root) {
        None => true,
        Some(why) => {
            tracing::warn!(
                "not using the cache at `{}`: it is {why}; make it yours and private (chmod 700) or set `ASSUME_ROLE_CACHE_DIR`",
                root.display()
            );
            false
        }
    }
}
