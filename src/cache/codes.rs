//! The last MFA code accepted for each device. AWS refuses a code used twice, so a repeat is
//! refused here first, before any network call, with advice to wait. Only a hash of the code is
//! kept, and only for a short while in any case: the file says when it was accepted.

use super::id;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// TOTP codes last one 30-second step.
pub const WINDOW: Duration = Duration::from_secs(30);

#[derive(Serialize, Deserialize)]
struct Accepted {
    code_sha256: String,
    /// Seconds since the Unix epoch.
    at: u64,
}

fn path(root: &std::path::Path, serial: &str) -> PathBuf {
    root.join("mfa-codes")
        .join(format!("{}.json", id::mfa_device(serial).as_str()))
}

fn digest(serial: &str, code: &str) -> String {
    id::hex(&Sha256::digest(format!("{serial}\n{code}").as_bytes()))
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Whether `code` is the one last accepted for `serial` within the window.
pub fn recently_used(root: &std::path::Path, serial: &str, code: &str) -> bool {
    super::read::<Accepted>(&path(root, serial)).is_some_and(|a| {
        a.code_sha256 == digest(serial, code) && now_secs().saturating_sub(a.at) < WINDOW.as_secs()
    })
}

pub fn record(root: &std::path::Path, serial: &str, code: &str) {
    super::write(
        &path(root, serial),
        &Accepted {
            code_sha256: digest(serial, code),
            at: now_secs(),
        },
    );
}
