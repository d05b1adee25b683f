//! The check every run through the harness passes: no secret the harness knows of reaches
//! stderr, access key IDs reach it only masked, and nothing panicked. A test need not remember
//! to look; a leak fails the test that caused it, whatever that test was about.
//!
//! What counts as known: the started moto fixtures' keys, the keys and tokens in the config and
//! credentials files the run was pointed at (and the MFA codes its `mfa_process` lines print),
//! the secret variables in its environment (credentials, the keys file passphrase, a container
//! token), the MFA codes its arguments pass (`--mfa-token`), the credentials, container token
//! and console sign-in token its own stdout (or an earlier run's, for the same `TestEnv`)
//! handed over, and whatever the test registered (`TestEnv::register_secret`,
//! `TestEnv::register_mfa_code`): a code typed at a prompt, a stub's sign-in token.

use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Shorter values are words, not secrets: tests put `stale` or `x1` where a key goes, and a
/// message may rightly contain such a word.
const MIN_LEN: usize = 8;

/// How much of a secret, anywhere in a line, counts as showing it (what a truncated dump or a
/// message that cuts a value short would show).
const WINDOW: usize = 20;

/// What the tool prints, as an example, in the hint of a run that has no MFA code (`src/error.rs`,
/// `MfaUnavailable`). It is the same six digits the standard config's `mfa_process` prints, but
/// it is the hint's text, not the code the run was given: only this exact form is let through.
const EXAMPLE_CODE_HINT: &str = "`--mfa-token 123456`";

/// How a value may, and may not, show.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// Any 20-character window of it counts as a leak.
    Secret,
    /// May show masked; only the whole value counts.
    AccessKey,
    /// A one-time MFA code: six digits (a malformed one may have a few more), too short for a
    /// window. It counts as a number of its own, not as digits inside a longer number (an
    /// account ID such as `123456789012`, a timestamp).
    Code,
}

/// A value that must not show on stderr. Deliberately not `Debug`: a test's `{:?}` must not
/// print one by accident.
#[derive(Clone)]
pub struct Known {
    /// Where it came from, for the report: "secret access key in `credentials`".
    pub kind: String,
    pub value: String,
    pub form: Form,
}

impl Known {
    /// `None` for what is no secret: a word shorter than [`MIN_LEN`], or for [`Form::Code`],
    /// anything but 6 to 8 digits once spaces are taken out (`123 456` is a code the tool takes).
    pub fn new(kind: impl Into<String>, value: &str, form: Form) -> Option<Self> {
        let value: String = if form == Form::Code {
            value.chars().filter(|c| !c.is_whitespace()).collect()
        } else {
            value.trim().to_owned()
        };
        let ok = if form == Form::Code {
            (6..=8).contains(&value.len()) && value.bytes().all(|b| b.is_ascii_digit())
        } else {
            value.chars().count() >= MIN_LEN
        };
        ok.then(|| Self {
            kind: kind.into(),
            value,
            form,
        })
    }

    /// The forms in which `line` could show this value: as text, any 20 characters of a secret,
    /// or its first bytes printed as a list of numbers (what `{:?}` of a byte buffer gives).
    fn shown_in(&self, line: &str) -> Option<String> {
        if self.form == Form::Code {
            let line = line.replace(EXAMPLE_CODE_HINT, "");
            if code_at(&line, &self.value).is_some() {
                return Some(self.value.clone());
            }
        } else if line.contains(&self.value) {
            return Some(self.value.clone());
        }
        if self.form == Form::AccessKey {
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
        match self.form {
            Form::AccessKey => return assume_role::secret::mask_access_key(&self.value),
            // A code has too few characters to show any of them.
            Form::Code => return format!("{} digits", self.value.len()),
            Form::Secret => {}
        }
        let head: String = self.value.chars().take(3).collect();
        format!("`{head}…`, {} chars", self.value.chars().count())
    }
}

/// Where `code` stands in `text` as a number of its own: not preceded or followed by a digit.
fn code_at(text: &str, code: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    text.match_indices(code).map(|(at, _)| at).find(|&at| {
        let before = at.checked_sub(1).map(|i| bytes[i]);
        let after = bytes.get(at + code.len()).copied();
        !before.is_some_and(|b| b.is_ascii_digit()) && !after.is_some_and(|b| b.is_ascii_digit())
    })
}

/// `text` with `code` replaced by `with` wherever it stands as a number of its own.
fn replace_code(text: &str, code: &str, with: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = code_at(rest, code) {
        out.push_str(&rest[..at]);
        out.push_str(with);
        rest = &rest[at + code.len()..];
    }
    out.push_str(rest);
    out
}

/// The MFA codes a command line passes: `--mfa-token CODE` and `--mfa-token=CODE` as arguments
/// of their own, and the same inside an argument that is a script (`sh -c '… --mfa-token …'`).
pub fn codes_in_args(args: &[String]) -> Vec<Known> {
    const FLAG: &str = "--mfa-token";
    let kind = "an MFA code passed with `--mfa-token`";
    let mut found = Vec::new();
    for (i, arg) in args.iter().enumerate() {
        if arg == FLAG {
            found.extend(
                args.get(i + 1)
                    .and_then(|v| Known::new(kind, v, Form::Code)),
            );
            continue;
        }
        for (at, _) in arg.match_indices(FLAG) {
            let rest = arg[at + FLAG.len()..].trim_start_matches(|c: char| "= \t'\"".contains(c));
            let end = rest
                .find(|c: char| c.is_whitespace() || "'\";".contains(c))
                .unwrap_or(rest.len());
            found.extend(Known::new(kind, &rest[..end], Form::Code));
        }
    }
    found
}

/// The codes an `mfa_process` command prints when it is a constant (`echo 123456`,
/// `printf ' 864209\n'`, `echo 123 457`): each run of digits and blanks that makes 6 digits
/// and is not part of a word (a path's `tmp123456`). A command that computes its code (a TOTP
/// tool, the clock) yields none here; a test that knows its codes registers them.
fn codes_in_mfa_process(command: &str) -> Vec<Known> {
    let mut found = Vec::new();
    let mut digits = String::new();
    let mut in_word = false;
    let mut blank_after = false;
    for c in command.chars().chain(std::iter::once('\0')) {
        if c.is_ascii_digit() {
            digits.push(c);
            blank_after = false;
            continue;
        }
        if (c == ' ' || c == '\t') && !digits.is_empty() {
            blank_after = true;
            continue;
        }
        if digits.len() == 6 && !in_word && (blank_after || !c.is_alphanumeric()) {
            found.extend(Known::new(
                "an MFA code an `mfa_process` in the config prints",
                &digits,
                Form::Code,
            ));
        }
        digits.clear();
        blank_after = false;
        in_word = c.is_alphanumeric() || c == '_' || c == '.' || c == '/' || c == '-';
    }
    found
}

/// The secrets a run is known to hold: the started fixtures' keys, the files and variables of
/// its environment, the codes its arguments pass, and what its stdout handed over.
pub fn known(
    fixtures: &[&super::Fixture],
    vars: &BTreeMap<String, String>,
    args: &[String],
    stdout: &str,
) -> Vec<Known> {
    let mut known = Vec::new();
    for fx in fixtures {
        for (who, keys) in [("contractor", &fx.contractor), ("outsider", &fx.outsider)] {
            known.extend(Known::new(
                format!("the moto {who}'s secret access key"),
                &keys.secret_access_key,
                Form::Secret,
            ));
            known.extend(Known::new(
                format!("the moto {who}'s access key ID"),
                &keys.access_key_id,
                Form::AccessKey,
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
            let (what, form) = match key.as_str() {
                "aws_secret_access_key" => ("secret access key", Form::Secret),
                "aws_session_token" => ("session token", Form::Secret),
                "aws_access_key_id" => ("access key ID", Form::AccessKey),
                "mfa_process" => {
                    known.extend(codes_in_mfa_process(value));
                    continue;
                }
                _ => continue,
            };
            known.extend(Known::new(format!("{what} in `{name}`"), value, form));
        }
    }
    for (var, form) in [
        ("AWS_SECRET_ACCESS_KEY", Form::Secret),
        ("AWS_SESSION_TOKEN", Form::Secret),
        ("AWS_ACCESS_KEY_ID", Form::AccessKey),
        // What opens the keys file (`keys --backend file`).
        ("ASSUME_ROLE_FILE_PASSPHRASE", Form::Secret),
        // A container endpoint's token, as `exec --server` hands it to its child.
        ("AWS_CONTAINER_AUTHORIZATION_TOKEN", Form::Secret),
    ] {
        if let Some(value) = vars.get(var) {
            known.extend(Known::new(
                format!("`{var}` in the run's environment"),
                value,
                form,
            ));
        }
    }
    known.extend(codes_in_args(args));
    known.extend(in_stdout(stdout));
    known
}

/// Credentials a run handed over on stdout, in any of its formats: JSON
/// (`"SecretAccessKey": "…"`), `export NAME='…'`, `set -gx NAME '…'`, `$Env:NAME = '…'`,
/// `NAME=…` (`env -0`, dotenv); the container token an `exec --server` child printed; and the
/// sign-in token in a console URL (`…&SigninToken=…`, as `console --print` shows it).
pub fn in_stdout(stdout: &str) -> Vec<Known> {
    const NAMES: [(&str, Form); 8] = [
        ("SecretAccessKey", Form::Secret),
        ("SessionToken", Form::Secret),
        ("AccessKeyId", Form::AccessKey),
        ("AWS_SECRET_ACCESS_KEY", Form::Secret),
        ("AWS_SESSION_TOKEN", Form::Secret),
        ("AWS_ACCESS_KEY_ID", Form::AccessKey),
        ("AWS_CONTAINER_AUTHORIZATION_TOKEN", Form::Secret),
        ("SigninToken", Form::Secret),
    ];
    let mut found = Vec::new();
    for (name, form) in NAMES {
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
            // `&` ends a URL's parameter; no credential or token has one.
            let end = value
                .find(|c: char| c.is_whitespace() || "\"',;}&\0".contains(c))
                .unwrap_or(value.len());
            let value = &value[..end];
            let kind = format!("`{name}` from the run's stdout");
            // A URL carries it percent-encoded; a message would show it decoded.
            let decoded = percent_encoding::percent_decode_str(value).decode_utf8_lossy();
            if decoded != value {
                found.extend(Known::new(kind.clone(), &decoded, form));
            }
            found.extend(Known::new(kind, value, form));
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
            let with = format!("<{}>", k.kind);
            text = if k.form == Form::Code {
                replace_code(&text, &form, &with)
            } else {
                text.replace(&form, &with)
            };
        }
    }
    while let Some(key) = unmasked_key_in(&text) {
        let masked = assume_role::secret::mask_access_key(key);
        text = text.replace(key, &masked);
    }
    text
}

/// A known value, or an unmasked access key ID, that a text shows.
pub struct Leak {
    /// What it is, for the report.
    pub kind: String,
    /// Enough of it to tell which it was, not enough to use.
    pub masked: String,
    /// The line that shows it, with every known value in it redacted.
    pub line: String,
}

/// The first line of `text` that shows a known value (but those in `allowed`, which a test has
/// the binary print on purpose), or an access key ID unmasked.
pub fn find_leak(known: &[Known], allowed: &[String], text: &str) -> Option<Leak> {
    let relevant: Vec<&Known> = known
        .iter()
        .filter(|k| !allowed.iter().any(|a| a == &k.value))
        .collect();
    text.lines().find_map(|line| {
        relevant
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
            })
            .map(|(kind, masked)| Leak {
                kind,
                masked,
                line: redact(line, known),
            })
    })
}

/// The first line of `stderr` that says a Rust program panicked: the panic message itself, or
/// the note the standard library adds to it. A run of the binary must never show either,
/// whatever it was given; a child it runs, in a test, has no reason to.
pub fn panic_in(stderr: &str) -> Option<&str> {
    stderr
        .lines()
        .find(|line| line.contains("panicked at") || line.contains("RUST_BACKTRACE"))
}

/// The test a check runs in, for a report.
fn current_test() -> String {
    std::thread::current()
        .name()
        .filter(|n| *n != "main")
        .map_or_else(
            || "a test (see the location below)".to_owned(),
            |n| format!("`{n}`"),
        )
}

/// Panics if `stderr` shows a known value or an access key ID unmasked, or says that something
/// panicked. `allowed` are values a test has the binary print on purpose; `what` names the run
/// in the report.
#[track_caller]
pub fn assert_none_on_stderr(known: &[Known], allowed: &[String], stderr: &str, what: &str) {
    assert_none_in(known, allowed, stderr, &format!("the stderr of {what}"));
    if let Some(line) = panic_in(stderr) {
        panic!(
            "{} saw a panic on the stderr of {what}\n  line: {}\n  stderr:\n{}",
            current_test(),
            redact(line, known),
            redact(stderr, known)
        );
    }
}

/// Panics if `text` (`place` names it in the report: "the stderr of …", "the audit log")
/// shows a known value or an access key ID unmasked.
#[track_caller]
pub fn assert_none_in(known: &[Known], allowed: &[String], text: &str, place: &str) {
    if let Some(Leak { kind, masked, line }) = find_leak(known, allowed, text) {
        let mut report = format!(
            "{} leaked {kind} ({masked}) in {place}\n  offending line: {line}\n",
            current_test()
        );
        let _ = write!(
            report,
            "  if the test has the binary print this value on purpose, say so with \
             `TestEnv::allow_on_stderr` (and a comment saying why)"
        );
        panic!("{report}");
    }
}
