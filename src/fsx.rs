//! Files we own: private (0600) in private directories (0700), every write atomic (a temporary
//! file in the same directory, then a rename), every JSON read forgiving (missing, unreadable
//! or corrupt is `None`, logged at debug level). The cache, the key store and the settings'
//! neighbours all write through here, so there is one way to get it right.

use serde::Serialize;
use serde::de::DeserializeOwned;
use std::io::Write;
use std::path::Path;

/// The bytes of a cache file, or `None` if it is missing or unreadable.
pub fn read_bytes(path: &Path) -> Option<Vec<u8>> {
    match std::fs::read(path) {
        Ok(bytes) => Some(bytes),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => {
            tracing::debug!(path = %path.display(), error = %e, "cache entry unreadable; ignoring it");
            None
        }
    }
}

/// Reads a JSON cache file. Anything short of a well-formed entry is a miss.
pub fn read<T: DeserializeOwned>(path: &Path) -> Option<T> {
    parse(path, &read_bytes(path)?)
}

/// Parses cache bytes (possibly borrowing from them); a corrupt entry is a miss.
pub fn parse<'a, T: serde::Deserialize<'a>>(path: &Path, bytes: &'a [u8]) -> Option<T> {
    match serde_json::from_slice(bytes) {
        Ok(value) => Some(value),
        Err(e) => {
            tracing::debug!(path = %path.display(), error = %e, "cache entry corrupt; ignoring it");
            None
        }
    }
}

/// Writes a JSON cache file privately and atomically. Failing to cache never fails a command,
/// so the error is only logged.
pub fn write<T: Serialize>(path: &Path, value: &T) {
    let result = serde_json::to_vec(value)
        .map_err(std::io::Error::other)
        .and_then(|bytes| write_private(path, &bytes));
    if let Err(e) = result {
        tracing::debug!(path = %path.display(), error = %e, "could not write cache entry");
    }
}

/// Creates `dir` and any missing parents with mode 0700. A directory that already exists is
/// left as it is: `ASSUME_ROLE_CACHE_DIR` may name a directory that is not ours to chmod, and
/// the files inside are 0600 whatever the directory allows.
pub fn ensure_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Writes `bytes` to `path` through a 0600 temporary file in the same directory, so that a
/// reader sees the old file or the new one, never half of one, and a crash leaves at worst a
/// stray temporary file.
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| std::io::Error::other("path has no parent"))?;
    ensure_private_dir(dir)?;
    let mut builder = tempfile::Builder::new();
    builder.prefix(".tmp-");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o600));
    }
    // On Windows the per-user cache directory's ACL is what keeps the file private.
    let mut file = builder.tempfile_in(dir)?;
    file.write_all(bytes)?;
    file.as_file().sync_all()?;
    // A directory where an entry belongs (left by hand, or by a broken tool) would make every
    // later write fail, and the entry would never be cached again: it goes.
    if std::fs::symlink_metadata(path).is_ok_and(|m| m.is_dir()) {
        std::fs::remove_dir_all(path)?;
    }
    file.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Why a directory we would write to, or read trusted data from, is not ours to trust: owned
/// by another user, or writable by group or others. Anyone who can write there can plant what
/// we read (forged audit lines, profile names that completion inserts, a symlink that turns our
/// append into a write to the user's `~/.bashrc`) or delete what we keep. `None` for a
/// directory that is ours and private, or that does not exist yet (we create it private).
pub fn untrusted(dir: &Path) -> Option<&'static str> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let meta = std::fs::metadata(dir).ok()?;
        if meta.uid() != rustix::process::geteuid().as_raw() {
            return Some("owned by another user");
        }
        if meta.mode() & 0o022 != 0 {
            return Some("writable by others");
        }
    }
    #[cfg(not(unix))]
    let _ = dir;
    None
}

/// [`untrusted`] as an error, naming the directory and what makes it unsafe.
pub fn check_trusted(dir: &Path) -> std::io::Result<()> {
    match untrusted(dir) {
        None => Ok(()),
        Some(why) => Err(std::io::Error::new(
            std::io::ErrorKind::PermissionDenied,
            format!(
                "`{}` is {why}; make it yours and private (`chmod 700`), or choose another",
                dir.display()
            ),
        )),
    }
}

/// Options that create a private file (0600) and never follow a symlink at its name: a link
/// planted there would make us write wherever it points.
pub fn private_create_options() -> std::fs::OpenOptions {
    let mut options = std::fs::OpenOptions::new();
    options.create(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
        // `as i32`: the flag's bits, as `custom_flags` takes them.
        #[allow(clippy::cast_possible_wrap)]
        options.custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32);
    }
    options
}

/// An OS file lock, held until dropped. The OS releases it when its holder exits, however it
/// exits, so a killed run never blocks later ones; the file itself carries nothing.
#[derive(Debug)]
pub struct FileLock {
    _file: std::fs::File,
}

/// A lock file at `path`: created private in a private directory, never through a symlink.
pub fn open_lock_file(path: &Path) -> std::io::Result<std::fs::File> {
    if let Some(dir) = path.parent() {
        ensure_private_dir(dir)?;
    }
    private_create_options()
        .truncate(false)
        .write(true)
        .open(path)
}

/// The lock at `path` if it is ours within `limit`, else `None` (the caller says what it waited
/// for). Its file is created private, without following a planted symlink.
pub fn lock_within(path: &Path, limit: std::time::Duration) -> std::io::Result<Option<FileLock>> {
    let file = open_lock_file(path)?;
    let start = std::time::Instant::now();
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(Some(FileLock { _file: file })),
            Err(std::fs::TryLockError::WouldBlock) => {}
            Err(std::fs::TryLockError::Error(e)) => return Err(e),
        }
        if start.elapsed() > limit {
            return Ok(None);
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_are_private_and_reads_forgive() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/entry.json");
        write(&path, &vec!["a", "b"]);
        assert_eq!(
            read::<Vec<String>>(&path),
            Some(vec!["a".into(), "b".into()])
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&path), 0o600);
            assert_eq!(mode(path.parent().unwrap()), 0o700);
        }
        std::fs::write(&path, b"{not json").unwrap();
        assert_eq!(read::<Vec<String>>(&path), None);
        assert_eq!(read::<Vec<String>>(&dir.path().join("missing.json")), None);
        // No temporary files are left behind.
        let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["entry.json"]);
    }
}
