//! The check every run through the harness passes: no secret the harness knows of reaches
//! stderr, and access key IDs reach it only masked. A test need not remember to look; a leak
//! fails the test that caused it, whatever that test was about.
//!
//! What counts as known: the started moto fixtures' keys, the keys and tokens in the config and
//! credentials files the run was pointed at, the credential variables in its environment, and
//! the credentials its own stdout (or an earlier run's, for the same `TestEnv`) handed over.

use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Shorter values are words, not secrets: tests put `stale` or `x1` where a key goes, and a
/// message may rightly contain such a word.
const MIN_LEN: usize = 8;

/// How much of a secret, anywhere in a line, counts as showing it (what a truncated dump or a
/// message that cuts a value short would show).
const WINDOW: usize = 20;

/// A value that must not show on stderr. Deliberately not `Debug`: a test's `{:?}` must not
/// print one by accident.
#[derive(Clone)]
pub struct Known {
    /// Where it came from, for the report: "secret access key in `credentials`".
    pub kind: String,
    pub value: String,
    /// Access key IDs may show masked; any 20-character window of a secret counts as a leak.
    pub access_key: bool,
}

impl Known {
    fn new(kind: impl Into<String>, value: &str, access_key: bool) -> Option<Self> {
        let value = value.trim();
        (value.chars().count() >= MIN_LEN).then(|| Self {
            kind: kind.into(),
            value: value.to_owned(),
            access_key,
        })
    }

    /// The forms in which `line` could show this value: as text, any 20 characters of a secret,
    /// or its first bytes printed as a list of numbers (what `{:?}` of a byte buffer gives).
    fn shown_in(&self, line: &str) -> Option<String> {
        if line.contains(&self.value) {
            return Some(self.value.clone());
        }
        if self.access_key {
            return None;
        }
        let bytes = self.value.as_bytes();
        if bytes.len() > WINDOW {
            let text = line.as_bytes();
            for (k, window) in bytes.windows(WINDOW).enumerate() {
                let Some(at) = text.windows(WINDOW).position(|w| w == window) else {
                    continue;
                };
                // Widen to all of the secret the line shows, so that a report that replaces
                // the match leaves none of it behind.
                let (mut start, mut from) = (at, k);
                while start > 0 && from > 0 && text[start - 1] == bytes[from - 1] {
                    start -= 1;
                    from -= 1;
                }
                let mut end = at + WINDOW;
                let mut to = k + WINDOW;
                while end < text.len() && to < bytes.len() && text[end] == bytes[to] {
                    end += 1;
                    to += 1;
                }
                if let Ok(shown) = std::str::from_utf8(&text[start..end]) {
                    return Some(shown.to_owned());
                }
            }
        }
        let head: Vec<String> = bytes.iter().take(WINDOW).map(u8::to_string).collect();
        [head.join(", "), head.join(",")]
            .into_iter()
            .find(|numbers| line.contains(numbers))
    }

    /// A form fit for a panic message: enough to tell which value it was, not enough to use.
    fn masked(&self) -> String {
        if self.access_key {
            return assume_role::secret::mask_access_key(&self.value);
        }
        let head: String = self.value.chars().take(3).collect();
        format!("`{head}…`, {} chars", self.value.chars().count())
    }
}

/// The secrets a run is known to hold: the started fixtures' keys, the files and variables of
/// its environment, and what its stdout handed over.
pub fn known(
    fixtures: &[&super::Fixture],
    vars: &BTreeMap<String, String>,
    stdout: &str,
) -> Vec<Known> {
    let mut known = Vec::new();
    for fx in fixtures {
        for (who, keys) in [("contractor", &fx.contractor), ("outsider", &fx.outsider)] {
            known.extend(Known::new(
                format!("the moto {who}'s secret access key"),
                &keys.secret_access_key,
                false,
            ));
            known.extend(Known::new(
                format!("the moto {who}'s access key ID"),
                &keys.access_key_id,
                true,
            ));
        }
    }
    for file_var in ["AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"] {
        let Some(path) = vars.get(file_var) else {
            continue;
        };
        let Ok(bytes) = std::fs::read(path) else {
            continue;
        };
        let name = std::path::Path::new(path)
            .file_name()
            .map_or_else(|| path.clone(), |n| n.to_string_lossy().into_owned());
        // A line-wise look is enough here: the harness only wants the values it wrote, and a
        // file a test mangled on purpose yields fewer values, never a false alarm.
        for line in String::from_utf8_lossy(&bytes).lines() {
            let Some((key, value)) = line.split_once('=') else {
                continue;
            };
            let key = key.trim().to_ascii_lowercase();
            let (what, access_key) = match key.as_str() {
                "aws_secret_access_key" => ("secret access key", false),
                "aws_session_token" => ("session token", false),
                "aws_access_key_id" => ("access key ID", true),
                _ => continue,
            };
            known.extend(Known::new(format!("{what} in `{name}`"), value, access_key));
        }
    }
    for (var, access_key) in [
        ("AWS_SECRET_ACCESS_KEY", false),
        ("AWS_SESSION_TOKEN", false),
        ("AWS_ACCESS_KEY_ID", true),
    ] {
        if let Some(value) = vars.get(var) {
            known.extend(Known::new(
                format!("`{var}` in the run's environment"),
                value,
                access_key,
            ));
        }
    }
    known.extend(in_stdout(stdout));
    known
}

/// Credentials a run handed over on stdout, in any of its formats: JSON
/// (`"SecretAccessKey": "…"`), `export NAME='…'`, `set -gx NAME '…'`, `$Env:NAME = '…'`,
/// `NAME=…` (`env -0`, dotenv).
pub fn in_stdout(stdout: &str) -> Vec<Known> {
    const NAMES: [(&str, bool); 6] = [
        ("SecretAccessKey", false),
        ("SessionToken", false),
        ("AccessKeyId", true),
        ("AWS_SECRET_ACCESS_KEY", false),
        ("AWS_SESSION_TOKEN", false),
        ("AWS_ACCESS_KEY_ID", true),
    ];
    let mut found = Vec::new();
    for (name, access_key) in NAMES {
        for (at, _) in stdout.match_indices(name) {
            let before = stdout[..at].chars().next_back();
            if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
                continue;
            }
            let rest = &stdout[at + name.len()..];
            let value = rest.trim_start_matches(|c: char| "\"' \t=:".contains(c));
            if value.len() == rest.len() {
                // Not followed by a separator: a longer name, or prose.
                continue;
            }
            let end = value
                .find(|c: char| c.is_whitespace() || "\"',;}\0".contains(c))
                .unwrap_or(value.len());
            found.extend(Known::new(
                format!("`{name}` from the run's stdout"),
                &value[..end],
                access_key,
            ));
        }
    }
    found
}

/// Unmasked access key IDs anywhere in `line` (`AKIA…`/`ASIA…` and 16 capitals or digits, as
/// a word), whether the harness knew them or not.
fn unmasked_key_in(line: &str) -> Option<&str> {
    let bytes = line.as_bytes();
    (0..bytes.len().saturating_sub(19)).find_map(|i| {
        let rest = &bytes[i..];
        let is_key = (rest.starts_with(b"AKIA") || rest.starts_with(b"ASIA"))
            && rest[4..20]
                .iter()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
            && rest.get(20).is_none_or(|b| !b.is_ascii_alphanumeric())
            && (i == 0 || !bytes[i - 1].is_ascii_alphanumeric());
        is_key.then(|| &line[i..i + 20])
    })
}

/// `text` with every known value in it replaced by its kind, so that a report can quote it.
pub fn redact(text: &str, known: &[Known]) -> String {
    let mut text = text.to_owned();
    for k in known {
        // Bounded: a kind could, in theory, contain the value it replaces.
        for _ in 0..8 {
            let Some(form) = k.shown_in(&text) else { break };
            text = text.replace(&form, &format!("<{}>", k.kind));
        }
    }
    while let Some(key) = unmasked_key_in(&text) {
        let masked = assume_role::secret::mask_access_key(key);
        text = text.replace(key, &masked);
    }
    text
}

/// Panics if `stderr` shows a known value, or an access key ID unmasked. `allowed` are values a
/// test has the binary print on purpose; `what` names the run in the report.
#[track_caller]
pub fn assert_none_on_stderr(known: &[Known], allowed: &[String], stderr: &str, what: &str) {
    let relevant: Vec<&Known> = known
        .iter()
        .filter(|k| !allowed.iter().any(|a| a == &k.value))
        .collect();
    for line in stderr.lines() {
        let leak = relevant
            .iter()
            .find(|k| k.shown_in(line).is_some())
            .map(|k| (k.kind.clone(), k.masked()))
            .or_else(|| {
                unmasked_key_in(line)
                    .filter(|key| !allowed.iter().any(|a| a == key))
                    .map(|key| {
                        (
                            "an access key ID, unmasked".to_owned(),
                            assume_role::secret::mask_access_key(key),
                        )
                    })
            });
        if let Some((kind, masked)) = leak {
            let test = std::thread::current()
                .name()
                .filter(|n| *n != "main")
                .map_or_else(
                    || "a test (see the location below)".to_owned(),
                    |n| format!("`{n}`"),
                );
            let mut report = format!(
                "{test} leaked {kind} ({masked}) on the stderr of {what}\n  offending line: {}\n",
                redact(line, known)
            );
            let _ = write!(
                report,
                "  if the test has the binary print this value on purpose, say so with \
                 `TestEnv::allow_on_stderr` (and a comment saying why)"
            );
            panic!("{report}");
        }
    }
}
