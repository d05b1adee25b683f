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
    path: std::path::PathBuf,
    /// When this run began to wait for the lock, if another run held it.
    waited_since: Option<std::time::SystemTime>,
}

/// What a run that held a lock failed with, for the runs that waited on it.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct HolderFailure {
    pub message: String,
    pub exit: u8,
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
        let waiting_since = std::time::SystemTime::now();
        let mut told = false;
        loop {
            match file.try_lock() {
                Ok(()) => {
                    return Ok(Self {
                        _file: file,
                        path: path.to_path_buf(),
                        waited_since: (start.elapsed() > POLL).then_some(waiting_since),
                    });
                }
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
}

impl Lock {
    fn failure_path(&self) -> std::path::PathBuf {
        let mut name = self.path.clone().into_os_string();
        name.push(".failed");
        name.into()
    }

    /// How the run that held this lock while we waited failed, if it did: the waiter gets the
    /// same answer at once, instead of trying the same hanging helper or dead endpoint and
    /// waiting out its own bound (five runs at a 10 s bound took 50 s).
    pub fn holder_failure(&self) -> Option<HolderFailure> {
        let since = self.waited_since?;
        let path = self.failure_path();
        let written = std::fs::metadata(&path).and_then(|m| m.modified()).ok()?;
        (written >= since)
            .then(|| crate::fsx::read::<HolderFailure>(&path))
            .flatten()
    }

    /// Records that the run holding this lock failed, for the runs waiting on it; or, with
    /// `None`, that it succeeded (an old failure is no answer for later runs).
    pub fn record(&self, failure: Option<&HolderFailure>) {
        let path = self.failure_path();
        match failure {
            Some(failure) => crate::fsx::write(&path, failure),
            None => {
                let _ = std::fs::remove_file(&path);
            }
        }
    }
}

const POLL: Duration = Duration::from_millis(20);

/// The lock file at `path` (0600, in a private directory, no symlink followed), created if
/// missing: the same file [`crate::fsx::lock_within`] locks.
fn open(path: &Path) -> std::io::Result<File> {
    crate::fsx::open_lock_file(path)
}
