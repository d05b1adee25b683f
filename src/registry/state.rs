//! Which registries are added, and what each is pinned to: `registries.json` in the data
//! directory, private, changed under a lock so that two syncs at once keep both pins.

use super::RegistryError;
use crate::context::Context;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// How long a change waits for another run's change to the state.
const LOCK_WAIT: Duration = Duration::from_secs(30);

/// One registry as added.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub source: String,
    /// `--ref`; the default branch when `None`.
    pub git_ref: Option<String>,
    pub prefix: Option<String>,
    /// The commit the block was last written from.
    pub commit: String,
    /// When the block was last written, in seconds since the Unix epoch.
    pub synced: u64,
    pub profiles: usize,
}

/// Every registry, by name.
pub type State = BTreeMap<String, Entry>;

fn path(ctx: &Context) -> Result<PathBuf, RegistryError> {
    let dir = ctx
        .paths
        .data_dir
        .as_ref()
        .ok_or_else(|| RegistryError::Io {
            what: "find",
            path: PathBuf::from("the data directory"),
            source: std::io::Error::other(
                "there is no data directory (set `XDG_DATA_HOME` or `HOME`)",
            ),
        })?;
    crate::fsx::check_trusted(dir).map_err(|source| RegistryError::Io {
        what: "use",
        path: dir.clone(),
        source,
    })?;
    Ok(dir.join("registries.json"))
}

/// The state as it is on disk: none yet is empty; a file that cannot be read is an error.
pub fn read(ctx: &Context) -> Result<State, RegistryError> {
    let path = path(ctx)?;
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| RegistryError::Io {
            what: "read",
            path,
            source: std::io::Error::other(format!(
                "it is not the registry list ({e}); move it away and add the registries again"
            )),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(State::new()),
        Err(source) => Err(RegistryError::Io {
            what: "read",
            path,
            source,
        }),
    }
}

/// Changes the state with `change`, under the lock.
pub fn update(ctx: &Context, change: impl FnOnce(&mut State)) -> Result<(), RegistryError> {
    let path = path(ctx)?;
    let io = |what, source| RegistryError::Io {
        what,
        path: path.clone(),
        source,
    };
    if let Some(dir) = path.parent() {
        crate::fsx::ensure_private_dir(dir).map_err(|e| io("create the directory of", e))?;
    }
    let _lock = crate::fsx::lock_within(&path.with_extension("lock"), LOCK_WAIT)
        .map_err(|e| io("lock", e))?
        .ok_or_else(|| {
            io(
                "lock",
                std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "another run has held it for 30s",
                ),
            )
        })?;
    let mut state = read(ctx)?;
    change(&mut state);
    let bytes = serde_json::to_vec_pretty(&state).expect("the state serializes");
    crate::fsx::write_private(&path, &bytes).map_err(|e| io("write", e))
}
