//! A block of the config file that a command owns, between two marker comments
//! (`# BEGIN assume-role …` and `# END assume-role …`): `sso sync` rewrites what is inside and
//! nothing else, byte for byte, so that a sync can never take out a profile written by hand
//! (granted#587).

use super::ConfigError;
use super::edit::{lock_edits, staged};
use std::path::Path;

fn begin(marker: &str) -> String {
    format!("# BEGIN assume-role {marker}")
}

fn end(marker: &str) -> String {
    format!("# END assume-role {marker}")
}

/// A block's inside, and the whole block with its markers, as byte ranges.
type Extent = (std::ops::Range<usize>, std::ops::Range<usize>);

/// A block whose markers do not pair up: its extent cannot be known, so nothing is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Damaged {
    /// 1-based.
    pub line: usize,
    pub what: &'static str,
}

/// The byte range of the block's inside (after the begin line, up to the end line), and of the
/// whole block with its markers and the end line's line ending; `None` when there is no block.
/// Markers that do not pair up (a BEGIN without its END, two of either, an END first) are an
/// error: guessing would take in lines that are not the block's (a hand edit that lost the END,
/// then a write, would otherwise remove everything up to the next END).
fn find(bytes: &[u8], marker: &str) -> Result<Option<Extent>, Damaged> {
    let (begin, end) = (begin(marker), end(marker));
    let lines = super::ini::lines_of(bytes);
    let text = |r: &std::ops::Range<usize>| {
        String::from_utf8_lossy(&bytes[r.clone()])
            .trim_end()
            .to_owned()
    };
    let at = |wanted: &str| -> Vec<usize> {
        lines
            .iter()
            .enumerate()
            .filter(|(_, l)| text(l) == wanted)
            .map(|(i, _)| i)
            .collect()
    };
    let (begins, ends) = (at(&begin), at(&end));
    match (begins.as_slice(), ends.as_slice()) {
        ([], []) => Ok(None),
        ([start], [stop]) if start < stop => Ok(Some((
            lines[*start].end..lines[*stop].start,
            lines[*start].start..lines[*stop].end,
        ))),
        ([start], []) => Err(Damaged {
            line: start + 1,
            what: "starts a block whose END line is missing",
        }),
        ([], [stop]) => Err(Damaged {
            line: stop + 1,
            what: "ends a block whose BEGIN line is missing",
        }),
        ([start], [stop]) => Err(Damaged {
            line: stop.min(start) + 1,
            what: "ends the block before it begins",
        }),
        (begins, ends) => Err(Damaged {
            line: begins.get(1).or(ends.get(1)).map_or(1, |i| i + 1),
            what: "marks the same block a second time",
        }),
    }
}

/// The section headers inside each block of `text` whose marker starts with `kind` (as
/// `registry ` does), with the marker's next word: the registry a profile came from.
pub fn owners(text: &str, kind: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut owner: Option<String> = None;
    for line in text.lines() {
        let line = line.trim_end();
        if let Some(marker) = line.strip_prefix("# BEGIN assume-role ") {
            owner = marker
                .strip_prefix(kind)
                .and_then(|rest| rest.split_whitespace().next())
                .map(str::to_owned);
        } else if line.starts_with("# END assume-role ") {
            owner = None;
        } else if let (Some(owner), Some(header)) = (&owner, super::ini::header(line)) {
            found.push((header.to_owned(), owner.clone()));
        }
    }
    found
}

/// The text inside the block named `marker` in `bytes`, if there is one.
pub fn read(bytes: &[u8], marker: &str) -> Result<Option<String>, Damaged> {
    Ok(
        find(bytes, marker)?
            .map(|(inside, _)| String::from_utf8_lossy(&bytes[inside]).into_owned()),
    )
}

/// `bytes` with the block named `marker` holding `body` (added at the end if there is none, and
/// removed when `body` is empty). Every byte outside the block stays as it is.
pub fn replaced(bytes: &[u8], marker: &str, body: &str) -> Result<Vec<u8>, Damaged> {
    let eol = if bytes.windows(2).any(|w| w == b"\r\n") {
        "\r\n"
    } else {
        "\n"
    };
    let body = body.replace("\r\n", "\n").replace('\n', eol);
    let block = if body.is_empty() {
        String::new()
    } else {
        let mut block = format!("{}{eol}{body}", begin(marker));
        if !block.ends_with(eol) {
            block.push_str(eol);
        }
        block.push_str(&end(marker));
        block.push_str(eol);
        block
    };
    let mut out = Vec::with_capacity(bytes.len() + block.len() + 2);
    if let Some((_, whole)) = find(bytes, marker)? {
        // Removing the block takes the blank line adding it put before it, so that the file is
        // again what it was without it.
        let mut start = whole.start;
        if block.is_empty() {
            for separator in [b"\r\n".as_slice(), b"\n".as_slice()] {
                let before = &bytes[..start];
                if before.ends_with(separator)
                    && (before.len() == separator.len()
                        || before[..before.len() - separator.len()].ends_with(b"\n"))
                {
                    start -= separator.len();
                    break;
                }
            }
        }
        out.extend_from_slice(&bytes[..start]);
        out.extend_from_slice(block.as_bytes());
        out.extend_from_slice(&bytes[whole.end..]);
    } else {
        out.extend_from_slice(bytes);
        if !block.is_empty() {
            if !out.is_empty() {
                if !out.ends_with(b"\n") {
                    out.extend_from_slice(eol.as_bytes());
                }
                out.extend_from_slice(eol.as_bytes());
            }
            out.extend_from_slice(block.as_bytes());
        }
    }
    Ok(out)
}

impl Damaged {
    /// The error naming the file and line.
    pub fn error(&self, path: &Path, marker: &str) -> ConfigError {
        ConfigError::BlockDamaged {
            path: path.to_owned(),
            line: self.line,
            what: self.what,
            marker: marker.to_owned(),
        }
    }
}

/// Rewrites the block named `marker` in the config file at `path` to hold `body`: under the
/// edit lock, atomically, keeping the file's permissions.
pub fn write(path: &Path, marker: &str, body: &str) -> Result<(), ConfigError> {
    write_checked(path, marker, body, || Ok(()))
}

/// [`write`], once `check` has passed under the edit lock: what the block's new profiles must
/// not clash with is then what the files hold, not what they held before a prompt.
pub fn write_checked<E: From<ConfigError>>(
    path: &Path,
    marker: &str,
    body: &str,
    check: impl FnOnce() -> Result<(), E>,
) -> Result<(), E> {
    let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let io = |source: std::io::Error| ConfigError::ConfigWrite {
        path: path.clone(),
        source,
    };
    let _lock = lock_edits(&path).map_err(io)?;
    check()?;
    let old = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(io(e).into()),
    };
    let new = replaced(&old, marker, body).map_err(|damaged| damaged.error(&path, marker))?;
    if new == old {
        return Ok(());
    }
    let temp = staged(&path, &new).map_err(io)?;
    temp.persist(&path).map_err(|e| io(e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_block_changes_byte_for_byte() {
        let before = "# mine\r\n[profile a]\r\nregion = x\r\n";
        let added = replaced(before.as_bytes(), "sso corp", "[profile b]\nk = v\n").unwrap();
        let added = String::from_utf8(added).unwrap();
        assert_eq!(
            added,
            "# mine\r\n[profile a]\r\nregion = x\r\n\r\n# BEGIN assume-role sso corp\r\n[profile b]\r\nk = v\r\n# END assume-role sso corp\r\n"
        );
        assert_eq!(
            read(added.as_bytes(), "sso corp").unwrap().unwrap(),
            "[profile b]\r\nk = v\r\n"
        );
        let after = format!("{added}[profile z]\r\n");
        let changed =
            String::from_utf8(replaced(after.as_bytes(), "sso corp", "[profile c]\n").unwrap())
                .unwrap();
        assert_eq!(
            changed,
            "# mine\r\n[profile a]\r\nregion = x\r\n\r\n# BEGIN assume-role sso corp\r\n[profile c]\r\n# END assume-role sso corp\r\n[profile z]\r\n"
        );
        let removed =
            String::from_utf8(replaced(changed.as_bytes(), "sso corp", "").unwrap()).unwrap();
        assert_eq!(
            removed,
            "# mine\r\n[profile a]\r\nregion = x\r\n[profile z]\r\n"
        );
        assert!(read(b"no block", "sso corp").unwrap().is_none());
        // Markers that do not pair up: an error, never a guess at the block's extent.
        let lost_end = b"[a]\n# BEGIN assume-role m\n[profile u]\nk = v\n";
        assert_eq!(
            replaced(lost_end, "m", "[profile b]\n").unwrap_err().line,
            2
        );
        let twice = [
            lost_end.as_slice(),
            b"# END assume-role m\n# BEGIN assume-role m\n# END assume-role m\n",
        ]
        .concat();
        assert!(replaced(&twice, "m", "").is_err());
        assert!(replaced(b"# END assume-role m\n# BEGIN assume-role m\n", "m", "").is_err());
        // Added, then removed: the file is what it was, byte for byte.
        for original in ["", "[a]\n", "[a]\n\n", "# x\r\n[a]\r\n"] {
            let added = replaced(original.as_bytes(), "m", "[profile b]\n").unwrap();
            assert_eq!(
                replaced(&added, "m", "").unwrap(),
                original.as_bytes(),
                "{original:?}"
            );
        }
    }

    #[test]
    fn a_failed_check_under_the_lock_leaves_the_file_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config");
        std::fs::write(&config, "[profile mine]\nregion = x\n").unwrap();
        let refused = write_checked(&config, "registry r", "[profile b]\n", || {
            // The check runs once the lock is held.
            assert!(dir.path().join(".assume-role-edit.lock").exists());
            Err(ConfigError::NotSso {
                profile: "b".into(),
            })
        });
        assert!(refused.is_err());
        assert_eq!(
            std::fs::read_to_string(&config).unwrap(),
            "[profile mine]\nregion = x\n"
        );
        write_checked::<ConfigError>(&config, "registry r", "[profile b]\n", || Ok(())).unwrap();
        assert!(
            std::fs::read_to_string(&config)
                .unwrap()
                .contains("[profile b]")
        );
    }
}
