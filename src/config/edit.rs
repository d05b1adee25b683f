//! `profile add`: the one place we change a user's file, and only when asked. The new section is
//! appended; every other byte (comments, order, spacing) is kept; the write is atomic; the
//! previous file is kept beside it as `<file>.bak`. Reading is still the SDK's job: here we only
//! find section header lines, to replace one under `--force`.

use super::plan::keys;
use crate::error::Error;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// A role profile to add, already validated by [`NewProfile::validate`].
#[derive(Debug, Clone, Default)]
pub struct NewProfile {
    pub name: String,
    pub role_arn: String,
    pub source_profile: String,
    pub external_id: Option<String>,
    pub mfa_serial: Option<String>,
    pub region: Option<String>,
    pub duration: Option<std::time::Duration>,
    pub session_name: Option<String>,
}

impl NewProfile {
    /// The values, checked as `Plan::resolve` will check them (through a trial parse), so a
    /// profile that is added also works.
    pub fn section(&self) -> String {
        let header = if self.name == "default" {
            "[default]".to_owned()
        } else {
            format!("[profile {}]", self.name)
        };
        let mut text = format!("{header}\n");
        let mut put = |key: &str, value: Option<&str>| {
            if let Some(v) = value {
                let _ = writeln!(text, "{key} = {v}");
            }
        };
        put(keys::ROLE_ARN, Some(&self.role_arn));
        put(keys::SOURCE_PROFILE, Some(&self.source_profile));
        put(keys::EXTERNAL_ID, self.external_id.as_deref());
        put(keys::MFA_SERIAL, self.mfa_serial.as_deref());
        put(keys::REGION, self.region.as_deref());
        let seconds = self.duration.map(|d| d.as_secs().to_string());
        put(keys::DURATION_SECONDS, seconds.as_deref());
        put(keys::ROLE_SESSION_NAME, self.session_name.as_deref());
        text
    }
}

/// What `add` did.
#[derive(Debug)]
pub struct Added {
    pub path: PathBuf,
    pub backup: Option<PathBuf>,
    pub replaced: bool,
}

/// Appends `profile` to the config file at `path` (creating it if need be), or replaces its
/// section when `force` is set. `exists` says whether the profile is already defined anywhere
/// (the config or the credentials file), as the SDK's parser sees it.
pub fn add(path: &Path, profile: &NewProfile, exists: bool, force: bool) -> Result<Added, Error> {
    let io = |source: std::io::Error| Error::ConfigWrite {
        path: path.to_path_buf(),
        source,
    };
    if exists && !force {
        return Err(Error::ProfileExists {
            name: profile.name.clone(),
            path: path.to_path_buf(),
        });
    }
    let old = match std::fs::read(path) {
        Ok(bytes) => Some(bytes),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(io(e)),
    };
    let old_text = old
        .as_deref()
        .map(String::from_utf8_lossy)
        .unwrap_or_default();
    let (mut text, replaced) = if force {
        without_section(&old_text, &profile.name)
    } else {
        (old_text.into_owned(), false)
    };
    if !text.is_empty() {
        if !text.ends_with('\n') {
            text.push('\n');
        }
        text.push('\n');
    }
    text.push_str(&profile.section());

    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(io)?;
    let mut temp = tempfile::Builder::new()
        .prefix(".config-")
        .tempfile_in(dir)
        .map_err(io)?;
    temp.write_all(text.as_bytes()).map_err(io)?;
    if let Ok(meta) = std::fs::metadata(path) {
        // The new file keeps the old one's permissions (a config may hold keys).
        temp.as_file()
            .set_permissions(meta.permissions())
            .map_err(io)?;
    }
    temp.as_file().sync_all().map_err(io)?;
    let backup = match &old {
        Some(bytes) => {
            let backup = backup_path(path);
            write_backup(&backup, bytes, path).map_err(io)?;
            Some(backup)
        }
        None => None,
    };
    temp.persist(path).map_err(|e| io(e.error))?;
    Ok(Added {
        path: path.to_path_buf(),
        backup,
        replaced,
    })
}

fn backup_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".bak");
    path.with_file_name(name)
}

fn write_backup(backup: &Path, bytes: &[u8], original: &Path) -> std::io::Result<()> {
    let dir = backup
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut temp = tempfile::Builder::new()
        .prefix(".config-bak-")
        .tempfile_in(dir)?;
    temp.write_all(bytes)?;
    temp.as_file()
        .set_permissions(std::fs::metadata(original)?.permissions())?;
    temp.as_file().sync_all()?;
    temp.persist(backup).map_err(|e| e.error)?;
    Ok(())
}

/// `text` without the sections named `name` (`[profile name]`, or `[default]` and
/// `[profile default]`), and whether there were any.
fn without_section(text: &str, name: &str) -> (String, bool) {
    let mut out = String::with_capacity(text.len());
    let mut skipping = false;
    let mut found = false;
    for line in text.split_inclusive('\n') {
        if let Some(section) = header(line) {
            skipping = is_named(section, name);
            found |= skipping;
        }
        if !skipping {
            out.push_str(line);
        }
    }
    (out, found)
}

/// The inside of a `[...]` header line, if `line` is one.
fn header(line: &str) -> Option<&str> {
    let line = line.trim();
    let inner = line.strip_prefix('[')?;
    let end = inner.find(']')?;
    Some(inner[..end].trim())
}

fn is_named(section: &str, name: &str) -> bool {
    let mut words = section.split_whitespace();
    match (words.next(), words.next(), words.next()) {
        (Some("profile"), Some(n), None) => n == name,
        (Some(n), None, None) => n == name && name == "default",
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXISTING: &str = "# my clients\n[profile a]\nregion = eu-west-1 ; keep\n\n[profile b]\nrole_arn = x\n[default]\nregion=us-east-1";

    fn profile(name: &str) -> NewProfile {
        NewProfile {
            name: name.into(),
            role_arn: "arn:aws:iam::222222222222:role/r".into(),
            source_profile: "default".into(),
            external_id: Some("ext".into()),
            ..NewProfile::default()
        }
    }

    #[test]
    fn appends_and_keeps_every_byte() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        std::fs::write(&path, EXISTING).unwrap();
        let added = add(&path, &profile("c"), false, false).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with(EXISTING), "{text}");
        assert_eq!(
            &text[EXISTING.len()..],
            "\n\n[profile c]\nrole_arn = arn:aws:iam::222222222222:role/r\nsource_profile = default\nexternal_id = ext\n"
        );
        assert_eq!(
            std::fs::read_to_string(added.backup.unwrap()).unwrap(),
            EXISTING
        );
        assert!(!added.replaced);
    }

    #[test]
    fn refuses_to_clobber_without_force_and_replaces_with_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        std::fs::write(&path, EXISTING).unwrap();
        let err = add(&path, &profile("b"), true, false).unwrap_err();
        assert!(
            err.to_string().contains("profile `b` already exists"),
            "{err}"
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap(), EXISTING);
        let added = add(&path, &profile("b"), true, true).unwrap();
        assert!(added.replaced);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains("role_arn = x"), "{text}");
        assert!(text.contains("[profile a]\nregion = eu-west-1 ; keep\n\n[default]\nregion=us-east-1\n\n[profile b]\n"), "{text}");
    }

    #[test]
    fn creates_a_missing_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".aws/config");
        let added = add(&path, &profile("new"), false, false).unwrap();
        assert!(added.backup.is_none());
        assert!(
            std::fs::read_to_string(&path)
                .unwrap()
                .starts_with("[profile new]\n")
        );
    }
}
