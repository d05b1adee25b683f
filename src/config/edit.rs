//! The only places we change a user's AWS files, and only when asked: `profile add` and `keys
//! import --remove-plaintext`. Every other byte (comments, order, spacing, line endings) is
//! kept, and every write is atomic. `profile add` keeps the previous file as `<file>.bak`; key
//! removal keeps none, since that copy would hold the secret. Reading is still the SDK's job:
//! here we only find section header lines and the key lines under them.

use super::ini;
use super::plan::keys;
use crate::config::ConfigError;
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
/// section in place when `force` is set. `exists` says whether the profile is already defined
/// anywhere (the config or the credentials file), as the SDK's parser sees it; `check` runs
/// under the edit lock, before anything is read, to say whether that still holds.
pub fn add(
    path: &Path,
    profile: &NewProfile,
    exists: bool,
    force: bool,
    check: impl FnOnce() -> Result<(), ConfigError>,
) -> Result<Added, ConfigError> {
    if exists && !force {
        return Err(ConfigError::ProfileExists {
            name: profile.name.clone(),
            path: path.to_path_buf(),
        });
    }
    // A config kept in a dotfiles repository is often a symlink: write the file it points to.
    let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let io = |source: std::io::Error| ConfigError::ConfigWrite {
        path: path.clone(),
        source,
    };
    // Read, change and replace under one lock: two imports at once would otherwise each write
    // back the other's keys, and a secret said to be removed would be in plain text again.
    let _lock = lock_edits(&path).map_err(io)?;
    check()?;
    let old = match std::fs::read(&path) {
        Ok(bytes) => Some(bytes),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(io(e)),
    };
    let old_bytes = old.as_deref().unwrap_or_default();
    let eol: &[u8] = if old_bytes.windows(2).any(|w| w == b"\r\n") {
        b"\r\n"
    } else {
        b"\n"
    };
    let section = profile
        .section()
        .replace('\n', std::str::from_utf8(eol).expect("ASCII"));

    let ranges = if force {
        section_ranges(old_bytes, &profile.name)
    } else {
        Vec::new()
    };
    let mut bytes = Vec::with_capacity(old_bytes.len() + section.len() + 2);
    if let Some(first) = ranges.first() {
        // In place: the file's order stays, and the comments around the section stay.
        let mut at = 0;
        for (i, range) in ranges.iter().enumerate() {
            bytes.extend_from_slice(&old_bytes[at..range.start]);
            if i == 0 {
                bytes.extend_from_slice(section.as_bytes());
            }
            at = range.end;
        }
        bytes.extend_from_slice(&old_bytes[at..]);
        debug_assert!(first.start <= first.end);
    } else {
        bytes.extend_from_slice(old_bytes);
        if !bytes.is_empty() {
            if !bytes.ends_with(b"\n") {
                bytes.extend_from_slice(eol);
            }
            bytes.extend_from_slice(eol);
        }
        bytes.extend_from_slice(section.as_bytes());
    }

    let temp = staged(&path, &bytes).map_err(io)?;
    let backup = match &old {
        Some(old) => {
            let backup = backup_path(&path);
            write_backup(&backup, old, &path).map_err(io)?;
            Some(backup)
        }
        None => None,
    };
    temp.persist(&path).map_err(|e| io(e.error))?;
    Ok(Added {
        backup,
        replaced: !ranges.is_empty(),
        path,
    })
}

/// `bytes` in a synced temporary file beside `path`, with `path`'s permissions (a config may
/// hold keys), ready to be renamed over it: the file is replaced whole or not at all.
pub(super) fn staged(path: &Path, bytes: &[u8]) -> std::io::Result<tempfile::NamedTempFile> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut temp = tempfile::Builder::new()
        .prefix(".config-")
        .tempfile_in(dir)?;
    temp.write_all(bytes)?;
    if let Ok(meta) = std::fs::metadata(path) {
        temp.as_file().set_permissions(meta.permissions())?;
    }
    temp.as_file().sync_all()?;
    Ok(temp)
}

/// The key lines `remove_keys` takes out: a long-term key's two halves.
const KEY_LINES: [&str; 2] = [keys::AWS_ACCESS_KEY_ID, keys::AWS_SECRET_ACCESS_KEY];

/// Which file's section headers to read: the config file names profiles `[profile x]`, the
/// credentials file `[x]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Config,
    Credentials,
}

/// Takes the long-term key lines (`aws_access_key_id`, `aws_secret_access_key`) of `profiles`
/// out of the AWS file at `path`, and a section left with no other setting goes whole. Every
/// other byte stays. The file is replaced atomically, keeping its permissions, and with no
/// backup: a `.bak` would be a plain-text copy of the very secret being moved out. Returns the
/// profiles whose keys were found here.
pub fn remove_keys(
    path: &Path,
    kind: FileKind,
    profiles: &[&str],
) -> Result<Vec<String>, ConfigError> {
    let mut found = Vec::new();
    rewrite(path, |old| {
        let (bytes, here) = without_keys(old, kind, profiles);
        found = here;
        (!found.is_empty()).then_some(bytes)
    })?;
    scrub_backup(path, kind, profiles)?;
    Ok(found)
}

/// The `.bak` that `profile add` keeps beside a file may hold the very key lines being moved
/// out or replaced: no plain copy of a secret may outlive the command that says it is gone. The
/// backup loses those lines (and a section they leave empty), and keeps everything else.
fn scrub_backup(path: &Path, kind: FileKind, profiles: &[&str]) -> Result<(), ConfigError> {
    rewrite(&backup_path(path), |old| {
        let (bytes, here) = without_keys(old, kind, profiles);
        (!here.is_empty()).then_some(bytes)
    })?;
    Ok(())
}

/// Puts a new long-term key in place of `profile`'s in the AWS file at `path`: the values of
/// its `aws_access_key_id` and `aws_secret_access_key` lines change, every other byte stays
/// (the spacing around `=` included). Atomic, keeping the file's permissions, and with no
/// backup (it would hold the old secret). Returns whether the profile's key lines were here.
pub fn replace_keys(
    path: &Path,
    kind: FileKind,
    profile: &str,
    access_key_id: &str,
    secret_access_key: &str,
) -> Result<bool, ConfigError> {
    let replaced = rewrite(path, |old| {
        with_keys(old, kind, profile, access_key_id, secret_access_key)
    })?;
    scrub_backup(path, kind, &[profile])?;
    Ok(replaced)
}

/// Replaces the file at `path` (through a symlink) with what `change` makes of its bytes,
/// atomically and with no backup; `change` returning `None`, or no file, leaves it as it is.
/// Returns whether the file was rewritten.
fn rewrite(
    path: &Path,
    change: impl FnOnce(&[u8]) -> Option<Vec<u8>>,
) -> Result<bool, ConfigError> {
    let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let io = |source: std::io::Error| ConfigError::ConfigWrite {
        path: path.clone(),
        source,
    };
    let old = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(io(e)),
    };
    let Some(bytes) = change(&old) else {
        return Ok(false);
    };
    staged(&path, &bytes)
        .map_err(io)?
        .persist(&path)
        .map_err(|e| io(e.error))?;
    Ok(true)
}

/// How long an edit waits for another run's edit of the same directory to finish.
const EDIT_LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// The lock on edits of the files in `path`'s directory (`.assume-role-edit.lock` there).
pub(super) fn lock_edits(path: &Path) -> std::io::Result<crate::fsx::FileLock> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    crate::fsx::lock_within(&dir.join(".assume-role-edit.lock"), EDIT_LOCK_WAIT)?.ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            "another assume-role run has been editing this file for 30s",
        )
    })
}

/// `bytes` with the key values of `profile` replaced, or `None` when its section has no key
/// lines here.
fn with_keys(
    bytes: &[u8],
    kind: FileKind,
    profile: &str,
    access_key_id: &str,
    secret_access_key: &str,
) -> Option<Vec<u8>> {
    let lines = ini::lines_of(bytes);
    let text = |r: &std::ops::Range<usize>| String::from_utf8_lossy(&bytes[r.clone()]).into_owned();
    let mut out = Vec::with_capacity(bytes.len() + 64);
    let mut ours = false;
    let mut found = false;
    for line in &lines {
        let raw = &bytes[line.clone()];
        let line_text = text(line);
        if let Some(section) = ini::header(&line_text) {
            ours = match kind {
                FileKind::Config => ini::is_profile(section, profile),
                FileKind::Credentials => section == profile,
            };
            out.extend_from_slice(raw);
            continue;
        }
        let value = line_text
            .split_once('=')
            .and_then(|(key, _)| match key.trim() {
                k if k == keys::AWS_ACCESS_KEY_ID => Some(access_key_id),
                k if k == keys::AWS_SECRET_ACCESS_KEY => Some(secret_access_key),
                _ => None,
            });
        match value.filter(|_| ours) {
            Some(value) => {
                found = true;
                // Up to `=` and the spaces after it, as written; then the value; then the
                // line's own ending.
                let eq = raw.iter().position(|b| *b == b'=').unwrap_or(0) + 1;
                let spaces = raw[eq..]
                    .iter()
                    .take_while(|b| **b == b' ' || **b == b'\t')
                    .count();
                let body_end = raw.len()
                    - raw
                        .iter()
                        .rev()
                        .take_while(|b| **b == b'\n' || **b == b'\r')
                        .count();
                out.extend_from_slice(&raw[..eq + spaces]);
                out.extend_from_slice(value.as_bytes());
                out.extend_from_slice(&raw[body_end..]);
            }
            None => out.extend_from_slice(raw),
        }
    }
    found.then_some(out)
}

/// `bytes` without the key lines of `profiles` (and without a section they leave empty), and
/// the profiles that had some.
fn without_keys(bytes: &[u8], kind: FileKind, profiles: &[&str]) -> (Vec<u8>, Vec<String>) {
    let lines = ini::lines_of(bytes);
    let texts = ini::texts(bytes, &lines);
    let is_key_line = |line: &str| ini::key_of(line).is_some_and(|key| KEY_LINES.contains(&key));
    let mut dropped = vec![false; lines.len()];
    let mut found: Vec<String> = Vec::new();
    for section in ini::sections(&texts) {
        let named = profiles.iter().find(|name| match kind {
            FileKind::Config => ini::is_profile(&section.header, name),
            FileKind::Credentials => section.header == **name,
        });
        let Some(name) = named else { continue };
        let mut others = false;
        let mut had_keys = false;
        for j in section.start + 1..section.end {
            let line = texts[j].trim();
            if ini::is_comment_or_blank(line) {
                continue;
            }
            if is_key_line(line) {
                dropped[j] = true;
                had_keys = true;
                if !found.iter().any(|f| f == name) {
                    found.push((*name).to_owned());
                }
            } else {
                others = true;
            }
        }
        if had_keys && !others {
            // Nothing else is set here: the header and what lies between it and the last key
            // line go too, as `profile add --force` replaces a section.
            for d in &mut dropped[section.start..=section.last_content] {
                *d = true;
            }
        }
    }
    let mut out = Vec::with_capacity(bytes.len());
    for (line, drop) in lines.iter().zip(&dropped) {
        if !drop {
            out.extend_from_slice(&bytes[line.clone()]);
        }
    }
    (out, found)
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

/// The byte ranges of the sections named `name`: from the header line to the last key line
/// before the next header, so that blank lines and comments that introduce the next section
/// stay with it.
fn section_ranges(bytes: &[u8], name: &str) -> Vec<std::ops::Range<usize>> {
    let lines = ini::lines_of(bytes);
    ini::sections(&ini::texts(bytes, &lines))
        .into_iter()
        .filter(|s| ini::is_profile(&s.header, name))
        .map(|s| lines[s.start].start..lines[s.last_content].end)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXISTING: &str =
        "# my clients\n[profile a]\nregion = eu-west-1 ; keep\n\n[default]\nregion=us-east-1";

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
        let added = add(&path, &profile("c"), false, false, || Ok(())).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&path), mode(added.backup.as_ref().unwrap()));
        }
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
    fn refuses_to_clobber_without_force_and_replaces_in_place_with_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        let existing = "# my clients\n[profile a]\nregion = eu-west-1 ; keep\n\n[profile b]\nrole_arn = x\n\n# the default one\n[default]\nregion=us-east-1";
        std::fs::write(&path, existing).unwrap();
        let err = add(&path, &profile("b"), true, false, || Ok(())).unwrap_err();
        assert!(
            err.to_string().contains("profile `b` already exists"),
            "{err}"
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap(), existing);
        let added = add(&path, &profile("b"), true, true, || Ok(())).unwrap();
        assert!(added.replaced);
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "# my clients\n[profile a]\nregion = eu-west-1 ; keep\n\n[profile b]\nrole_arn = arn:aws:iam::222222222222:role/r\nsource_profile = default\nexternal_id = ext\n\n# the default one\n[default]\nregion=us-east-1"
        );
    }

    #[test]
    fn keeps_crlf_and_bytes_that_are_not_utf8() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        let existing: &[u8] = b"# caf\xe9 (latin-1)\r\n[profile a]\r\nregion = eu-west-1\r\n";
        std::fs::write(&path, existing).unwrap();
        add(&path, &profile("c"), false, false, || Ok(())).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert!(bytes.starts_with(existing));
        assert_eq!(&bytes[existing.len()..], b"\r\n[profile c]\r\nrole_arn = arn:aws:iam::222222222222:role/r\r\nsource_profile = default\r\nexternal_id = ext\r\n");
    }

    #[cfg(unix)]
    #[test]
    fn writes_through_a_symlink() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("dotfiles-config");
        std::fs::write(&real, "[profile a]\nregion = x\n").unwrap();
        let link = dir.path().join("config");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        add(&link, &profile("c"), false, false, || Ok(())).unwrap();
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert!(
            std::fs::read_to_string(&real)
                .unwrap()
                .contains("[profile c]")
        );
    }

    #[test]
    fn creates_a_missing_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".aws/config");
        let added = add(&path, &profile("new"), false, false, || Ok(())).unwrap();
        assert!(added.backup.is_none());
        assert!(
            std::fs::read_to_string(&path)
                .unwrap()
                .starts_with("[profile new]\n")
        );
    }

    const CREDENTIALS: &str = "# mine\r\n[contractor]\r\naws_access_key_id = AKIAEXAMPLE\r\n# rotated 2026-01\r\naws_secret_access_key=s3cret\r\n\r\n[other]\r\naws_access_key_id = AKIAOTHER\r\naws_secret_access_key = o\r\nregion = eu-west-1\r\n";

    #[test]
    fn key_removal_keeps_every_other_byte_and_empty_sections_go() {
        let (out, found) = without_keys(
            CREDENTIALS.as_bytes(),
            FileKind::Credentials,
            &["contractor", "other", "absent"],
        );
        assert_eq!(found, ["contractor", "other"]);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "# mine\r\n\r\n[other]\r\nregion = eu-west-1\r\n"
        );
    }

    #[test]
    fn key_removal_touches_only_the_named_profiles_and_reads_config_headers() {
        let (out, found) = without_keys(CREDENTIALS.as_bytes(), FileKind::Credentials, &["x"]);
        assert!(found.is_empty());
        assert_eq!(out, CREDENTIALS.as_bytes());
        let config =
            "[profile a]\naws_access_key_id=A\naws_secret_access_key=B\n[profile b]\nregion=x\n";
        let (out, found) = without_keys(config.as_bytes(), FileKind::Config, &["a"]);
        assert_eq!(found, ["a"]);
        assert_eq!(String::from_utf8(out).unwrap(), "[profile b]\nregion=x\n");
    }

    #[test]
    fn key_removal_rewrites_in_place_with_no_backup() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("credentials");
        std::fs::write(&path, CREDENTIALS).unwrap();
        let found = remove_keys(&path, FileKind::Credentials, &["contractor"]).unwrap();
        assert_eq!(found, ["contractor"]);
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["credentials"]);
        assert!(!std::fs::read_to_string(&path).unwrap().contains("s3cret"));
    }

    #[test]
    fn key_replacement_changes_only_the_values() {
        let out = with_keys(
            CREDENTIALS.as_bytes(),
            FileKind::Credentials,
            "contractor",
            "AKIANEW",
            "n3w",
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            CREDENTIALS
                .replace(
                    "aws_access_key_id = AKIAEXAMPLE",
                    "aws_access_key_id = AKIANEW"
                )
                .replace("aws_secret_access_key=s3cret", "aws_secret_access_key=n3w")
        );
        assert!(
            with_keys(
                CREDENTIALS.as_bytes(),
                FileKind::Credentials,
                "absent",
                "A",
                "B"
            )
            .is_none()
        );
    }

    #[test]
    fn a_check_that_fails_under_the_lock_leaves_the_file_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        std::fs::write(&path, "[profile a]\nregion = x\n").unwrap();
        let refused = add(&path, &profile("b"), false, false, || {
            Err(ConfigError::ProfileExists {
                name: "b".into(),
                path: path.clone(),
            })
        });
        assert!(matches!(refused, Err(ConfigError::ProfileExists { .. })));
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "[profile a]\nregion = x\n"
        );
    }
}
