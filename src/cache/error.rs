//! What can go wrong with the cache: a directory we cannot write, or another run that holds a
//! lock for too long. Neither is the user's config: both exit 1.

use crate::exit::{Diagnose, Exit};
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("cache `{}`: {source}", .path.display())]
    Cache {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("timed out after {} waiting for another assume-role run that is getting {what}", crate::duration::display(*.waited))]
    LockTimeout {
        what: String,
        waited: std::time::Duration,
    },
}

impl Diagnose for CacheError {
    fn exit(&self) -> Exit {
        Exit::Failure
    }

    fn hints(&self) -> Vec<String> {
        match self {
            CacheError::Cache { .. } => vec!["check the permissions of the cache directory, or point `ASSUME_ROLE_CACHE_DIR` elsewhere".into()],
            CacheError::LockTimeout { .. } => vec!["finish or stop the other run (it may be waiting for an MFA code in another terminal)".into()],
        }
    }
}
