//! One OS file lock per cache key, so that parallel runs that need the same session make one
//! STS call and show one MFA prompt. The OS releases the lock when its holder exits, however it
//! exits, so a killed run never blocks later ones; the lock file itself carries nothing.

use crate::cache::CacheError;
use std::fs::File;
use std::path::Path;
use std::time::{Duration, Instant};

/// Long enough for a person to find their phone; a run that waits longer fails instead of hanging.
const GIVE_UP_AFTER: Duration = Duration::from_mins(5);
const TELL_AFTER: Duration = Duration::from_secs(1);

#[derive(Debug)]
pub struct Lock {
    _file: File,
}

impl Lock {
    /// Blocks until the lock at `path` is ours. `what` names the session in the message shown if
    /// the wait is long.
    pub fn acquire(path: &Path, what: &str) -> Result<Self, CacheError> {
        let io = |e: std::io::Error| CacheError::Cache {
            path: path.to_path_buf(),
            source: e,
        };
        let file = open(path).map_err(io)?;
        let start = Instant::now();
        let mut told = false;
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(Self { _file: file }),
                Err(std::fs::TryLockError::WouldBlock) => {}
                Err(std::fs::TryLockError::Error(e)) => return Err(io(e)),
            }
            let waited = start.elapsed();
            if waited > GIVE_UP_AFTER {
                return Err(CacheError::LockTimeout {
                    what: what.to_owned(),
                    waited,
                });
            }
            if !told && waited > TELL_AFTER {
                told = true;
                eprintln!(
                    "assume-role: waiting for another run that is getting {what} (it may be asking for an MFA code)"
                );
            }
            std::thread::sleep(POLL);
        }
    }

    /// The lock at `path` if it is ours within `limit`, else `None`, silently: for short work
    /// that a caller may skip when another run is doing it (rotating the audit log).
    pub fn try_acquire_within(path: &Path, limit: Duration) -> std::io::Result<Option<Self>> {
        let file = open(path)?;
        let start = Instant::now();
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(Some(Self { _file: file })),
                Err(std::fs::TryLockError::WouldBlock) => {}
                Err(std::fs::TryLockError::Error(e)) => return Err(e),
            }
            if start.elapsed() > limit {
                return Ok(None);
            }
            std::thread::sleep(POLL);
        }
    }
}

const POLL: Duration = Duration::from_millis(20);

/// The lock file at `path` (0600, in a private directory), created if missing.
fn open(path: &Path) -> std::io::Result<File> {
    if let Some(dir) = path.parent() {
        super::ensure_private_dir(dir)?;
    }
    crate::fsx::private_create_options()
        .truncate(false)
        .write(true)
        .open(path)
}
