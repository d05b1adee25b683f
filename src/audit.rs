//! The audit log: one JSON line for every attempt to obtain credentials for a command (`exec`,
//! `env`, `credential-process`, `exec --server` and its refreshes, `console`, `whoami`), handed
//! over or refused, so that a client's security team can be told who used which role, when,
//! for how long, and whether STS was asked.
//!
//! It never holds a secret: no secret key, no session token, no access key ID, no MFA code, no
//! external ID (an error text that repeats the external ID has it replaced), and of `exec`'s
//! command only the program's name, never its arguments.
//!
//! Writing is cheap enough for the warm path (one `open`, one `fstat`, one `write`) and safe
//! with parallel runs: the file is opened `O_APPEND` and each line goes out in a single
//! `write`, so lines never interleave. Past [`ROTATE_AT`] bytes the file is rotated
//! (`audit.jsonl.1` …, [`KEEP`] of them) under the cache's kind of file lock, waited on for
//! at most [`LOCK_WAIT`]: a run that does not get it appends anyway and leaves the rotation to
//! the next one.

use crate::assume::AssumeError;
use crate::assume::Served;
use crate::cache::ensure_private_dir;
use crate::config::Plan;
use crate::context::Context;
use crate::credentials::{Session, account_from_arn, rfc3339};
use crate::exit::Diagnose;
use crate::exit::Exit;
use serde::{Deserialize, Serialize};
use std::ffi::OsStr;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// The current log, in [`Context::state_dir`].
pub const FILE: &str = "audit.jsonl";
/// The size past which the log is rotated.
pub const ROTATE_AT: u64 = 1 << 20;
/// Rotated files kept: `audit.jsonl.1` (newest) to `audit.jsonl.3`.
pub const KEEP: usize = 3;
/// How long a run waits for another one's rotation before appending without rotating.
pub const LOCK_WAIT: Duration = Duration::from_secs(2);
const LOCK_FILE: &str = "audit.lock";
/// How much of an error's text a line keeps: its first sentence is what says why.
const ERROR_MAX: usize = 300;

/// The command credentials are obtained for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via<'a> {
    /// `exec`; `program` is the command's name alone (see [`program_name`]).
    Exec {
        program: &'a str,
    },
    /// `exec --server`: the first credentials.
    ExecServer {
        program: &'a str,
    },
    /// `exec --server`: a refresh, made while the command runs.
    ServerRefresh {
        program: &'a str,
    },
    /// `each`: one line per profile, with the command's name.
    Each {
        program: &'a str,
    },
    Env,
    CredentialProcess,
    Console,
    Whoami,
    OnboardPublish,
}

impl Via<'_> {
    pub fn command(self) -> &'static str {
        match self {
            Via::Exec { .. } => "exec",
            Via::ExecServer { .. } => "exec --server",
            Via::ServerRefresh { .. } => "exec --server (refresh)",
            Via::Each { .. } => "each",
            Via::Env => "env",
            Via::CredentialProcess => "credential-process",
            Via::Console => "console",
            Via::Whoami => "whoami",
            Via::OnboardPublish => "onboard publish",
        }
    }
}

impl<'a> Via<'a> {
    /// The program `exec` runs, by name.
    pub fn program(self) -> Option<&'a str> {
        match self {
            Via::Exec { program }
            | Via::ExecServer { program }
            | Via::ServerRefresh { program }
            | Via::Each { program } => Some(program),
            _ => None,
        }
    }
}

/// The name of the program `exec` runs, without its directory: `/usr/bin/aws` is `aws`. Its
/// arguments are never logged (they may carry anything, a password included).
pub fn program_name(program: &OsStr) -> String {
    Path::new(program)
        .file_name()
        .unwrap_or(program)
        .to_string_lossy()
        .into_owned()
}

/// The role an attempt is for: the final hop of its plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    pub arn: String,
    pub session_name: String,
    pub source_identity: Option<String>,
    /// Not logged: kept only to take it out of error texts.
    external_id: Option<String>,
}

impl Role {
    /// `None` for a profile without a role, which hands over its own credentials.
    pub fn of(plan: &Plan) -> Option<Self> {
        plan.hops.last().map(|hop| Self {
            arn: hop.role_arn.clone(),
            session_name: hop.session_name.clone(),
            source_identity: hop.source_identity.clone(),
            external_id: hop.external_id.clone(),
        })
    }
}

/// How an attempt ended, by the exit code its error would give.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    Ok,
    /// STS or the source credentials said no.
    Denied,
    MfaFailed,
    ConfigError,
    Unreachable,
    Failed,
}

impl Outcome {
    fn of(err: &AssumeError) -> Self {
        match err.exit() {
            Exit::Denied => Outcome::Denied,
            Exit::Mfa => Outcome::MfaFailed,
            Exit::Config => Outcome::ConfigError,
            Exit::Network => Outcome::Unreachable,
            _ => Outcome::Failed,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Denied => "denied",
            Outcome::MfaFailed => "mfa-failed",
            Outcome::ConfigError => "config-error",
            Outcome::Unreachable => "unreachable",
            Outcome::Failed => "failed",
        }
    }
}

/// One line of the log. Times are RFC 3339 in UTC.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub time: String,
    pub profile: String,
    pub role_arn: Option<String>,
    pub account: Option<String>,
    pub session_name: Option<String>,
    pub source_identity: Option<String>,
    pub expires: Option<String>,
    pub command: String,
    pub program: Option<String>,
    /// `None` when no credentials were obtained.
    pub served: Option<Served>,
    pub outcome: Outcome,
    /// Why it failed: the error's first line, without secrets.
    pub error: Option<String>,
}

impl Record {
    /// The record of one attempt. `external_id` is the one given on the command line, if any:
    /// like the profile's, it is taken out of the error text.
    pub fn new(
        now: SystemTime,
        profile: &str,
        via: Via<'_>,
        role: Option<&Role>,
        external_id: Option<&str>,
        result: Result<(&Session, Served), &AssumeError>,
    ) -> Self {
        let (credentials, served) = match result {
            Ok((session, served)) => (Some(&session.credentials), Some(served)),
            Err(_) => (None, None),
        };
        let account = role
            .and_then(|r| account_from_arn(&r.arn))
            .or_else(|| credentials.and_then(|c| c.account_id.clone()));
        let error = result.err().map(|err| {
            let hidden = [role.and_then(|r| r.external_id.as_deref()), external_id];
            error_text(err, hidden.into_iter().flatten())
        });
        Self {
            time: rfc3339(now),
            profile: profile.to_owned(),
            role_arn: role.map(|r| r.arn.clone()),
            account,
            session_name: role.map(|r| r.session_name.clone()),
            source_identity: role.and_then(|r| r.source_identity.clone()),
            expires: credentials.and_then(|c| c.expiration).map(rfc3339),
            command: via.command().to_owned(),
            program: via.program().map(str::to_owned),
            served,
            outcome: result.map_or_else(Outcome::of, |_| Outcome::Ok),
            error,
        }
    }

    /// When it was written, in seconds since the epoch; `None` for a mangled time.
    pub fn epoch_secs(&self) -> Option<i64> {
        epoch_secs(&self.time)
    }
}

/// Seconds since the epoch of an RFC 3339 time.
pub fn epoch_secs(time: &str) -> Option<i64> {
    crate::time::parse_epoch_secs(time)
}

/// An error as one short line: secrets this process has held redacted, access key IDs masked,
/// external IDs replaced.
fn error_text<'a>(err: &AssumeError, hidden: impl Iterator<Item = &'a str>) -> String {
    let mut text = crate::secret::redact(&err.to_string()).replace(['\n', '\r'], " ");
    for value in hidden.filter(|v| !v.is_empty()) {
        text = text.replace(value, "(external ID)");
    }
    if text.len() > ERROR_MAX {
        let mut cut = ERROR_MAX;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push('…');
    }
    text
}

/// Writes the record of one attempt, unless the log is off. A log that cannot be written is
/// said on stderr and does not fail the command: the credentials were already obtained.
pub fn record(
    ctx: &Context,
    profile: &str,
    via: Via<'_>,
    role: Option<&Role>,
    external_id: Option<&str>,
    result: Result<(&Session, Served), &AssumeError>,
) {
    if !ctx.audit_on() {
        return;
    }
    let Some(dir) = ctx.paths.state_dir.as_deref() else {
        return;
    };
    let record = Record::new(SystemTime::now(), profile, via, role, external_id, result);
    if let Err(e) = append(dir, &record, ROTATE_AT) {
        tracing::warn!(
            "cannot write the audit log `{}`: {e}; check the directory's permissions, point `ASSUME_ROLE_STATE_DIR` elsewhere, or set `ASSUME_ROLE_AUDIT=0` to switch the log off",
            dir.join(FILE).display()
        );
    }
}

/// Appends one record to the log in `dir`, rotating it first if it would grow past
/// `rotate_at` bytes.
pub fn append(dir: &Path, record: &Record, rotate_at: u64) -> std::io::Result<()> {
    let mut line = serde_json::to_vec(record).map_err(std::io::Error::other)?;
    line.push(b'\n');
    let path = dir.join(FILE);
    crate::fsx::check_trusted(dir)?;
    let mut file = match open_append(&path) {
        // The first write: the directory is made only now, private.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            ensure_private_dir(dir)?;
            open_append(&path)?
        }
        other => other?,
    };
    let len = file.metadata()?.len();
    if len > 0 && len + line.len() as u64 > rotate_at {
        drop(file);
        rotate(dir, rotate_at, line.len() as u64)?;
        file = open_append(&path)?;
    }
    // One `write`: with `O_APPEND` the kernel places it whole at the end, whatever other runs
    // write at the same time. A short write (a full disk) is reported, not continued, since a
    // second call could land after another run's line.
    let written = file.write(&line)?;
    if written != line.len() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::WriteZero,
            format!("only {written} of {} bytes were written", line.len()),
        ));
    }
    Ok(())
}

fn open_append(path: &Path) -> std::io::Result<File> {
    crate::fsx::private_create_options().append(true).open(path)
}

/// The `n`th rotated file: `audit.jsonl.1` is the newest.
fn rotated(dir: &Path, n: usize) -> PathBuf {
    dir.join(format!("{FILE}.{n}"))
}

/// Shifts `audit.jsonl` to `audit.jsonl.1` (and so on, dropping the oldest), under the lock.
/// A run still holding the old file open appends its line to `audit.jsonl.1`: whole, and kept.
fn rotate(dir: &Path, rotate_at: u64, incoming: u64) -> std::io::Result<()> {
    let Some(_lock) = crate::fsx::lock_within(&dir.join(LOCK_FILE), LOCK_WAIT)? else {
        tracing::debug!("another run is rotating the audit log; appending without rotating");
        return Ok(());
    };
    let path = dir.join(FILE);
    // Another run may have rotated it while this one waited.
    match std::fs::metadata(&path) {
        Ok(meta) if meta.len() > 0 && meta.len() + incoming > rotate_at => {}
        _ => return Ok(()),
    }
    for n in (1..KEEP).rev() {
        match std::fs::rename(rotated(dir, n), rotated(dir, n + 1)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
    }
    std::fs::rename(&path, rotated(dir, 1))
}

/// One record as read back, with the text it was read from (what `log --json` prints).
#[derive(Debug, Clone)]
pub struct Entry {
    pub record: Record,
    pub line: String,
}

/// A line that is not a record, for a warning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub path: PathBuf,
    pub line: usize,
    pub reason: String,
}

/// The log files in `dir` that exist, oldest first.
pub fn files(dir: &Path) -> Vec<PathBuf> {
    (1..=KEEP)
        .rev()
        .map(|n| rotated(dir, n))
        .chain(std::iter::once(dir.join(FILE)))
        .filter(|p| p.is_file())
        .collect()
}

/// Every record in the log, oldest first, and the lines that are not records.
pub fn read(dir: &Path) -> Result<(Vec<Entry>, Vec<Skipped>), AssumeError> {
    // Lines someone else could write are no record of ours.
    crate::fsx::check_trusted(dir).map_err(|source| AssumeError::AuditLog {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut entries = Vec::new();
    let mut skipped = Vec::new();
    for path in files(dir) {
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            // Rotated away between listing and reading.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(source) => return Err(AssumeError::AuditLog { path, source }),
        };
        for (index, raw) in bytes.split(|b| *b == b'\n').enumerate() {
            if raw.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let line = String::from_utf8_lossy(raw).into_owned();
            let reason = match serde_json::from_str::<Record>(&line) {
                Ok(record) if record.epoch_secs().is_some() => {
                    entries.push(Entry { record, line });
                    continue;
                }
                Ok(record) => format!("its time `{}` is not RFC 3339", record.time),
                Err(e) => e.to_string(),
            };
            skipped.push(Skipped {
                path: path.clone(),
                line: index + 1,
                reason,
            });
        }
    }
    Ok((entries, skipped))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::Credentials;
    use crate::secret::Secret;
    use std::time::UNIX_EPOCH;

    fn role() -> Role {
        Role {
            arn: "arn:aws:iam::222222222222:role/contractor".into(),
            session_name: "alice".into(),
            source_identity: Some("alice@example.com".into()),
            external_id: Some("ext-0123456789".into()),
        }
    }

    fn session() -> Session {
        Session {
            profile: "client".into(),
            region: "eu-west-1".into(),
            credentials: Credentials {
                access_key_id: "ASIAEXAMPLEEXAMPLE12".into(),
                secret_access_key: Secret::new("s3cr3t/key+value"),
                session_token: Some(Secret::new("t0ken-t0ken")),
                expiration: Some(UNIX_EPOCH + Duration::from_secs(1_795_000_000)),
                account_id: Some("222222222222".into()),
            },
        }
    }

    fn record(n: usize) -> Record {
        Record::new(
            UNIX_EPOCH + Duration::from_secs(1_794_990_042),
            &format!("profile-{n}"),
            Via::Env,
            Some(&role()),
            None,
            Ok((&session(), Served::Sts)),
        )
    }

    #[test]
    fn a_record_says_who_which_role_when_and_how_long_and_nothing_secret() {
        let r = Record::new(
            UNIX_EPOCH + Duration::from_secs(1_794_990_042),
            "client",
            Via::Exec {
                program: &program_name(OsStr::new("/usr/bin/terraform")),
            },
            Some(&role()),
            None,
            Ok((&session(), Served::Cache)),
        );
        let line = serde_json::to_string(&r).unwrap();
        assert_eq!(
            line,
            r#"{"time":"2026-11-18T08:20:42Z","profile":"client","role_arn":"arn:aws:iam::222222222222:role/contractor","account":"222222222222","session_name":"alice","source_identity":"alice@example.com","expires":"2026-11-18T11:06:40Z","command":"exec","program":"terraform","served":"cache","outcome":"ok","error":null}"#
        );
        for secret in ["s3cr3t", "t0ken", "ASIA", "ext-0123456789"] {
            assert!(!line.contains(secret), "{secret} in {line}");
        }
    }

    #[test]
    fn a_refusal_is_logged_with_its_role_and_without_the_external_id() {
        let err = crate::rules::InvalidValue {
            profile: Some("client".into()),
            key: "external_id".into(),
            what: "external ID",
            value: "ext-0123456789".into(),
            reason: "test".into(),
        };
        let r = Record::new(
            SystemTime::now(),
            "client",
            Via::CredentialProcess,
            Some(&role()),
            Some("from-the-flag"),
            Err(&err.into()),
        );
        assert_eq!(r.outcome, Outcome::ConfigError);
        assert_eq!(r.served, None);
        assert_eq!(r.expires, None);
        let text = r.error.unwrap();
        assert!(!text.contains("ext-0123456789"), "{text}");
        assert!(text.contains("(external ID)"), "{text}");
    }

    #[test]
    fn switches() {
        for off in ["0", "false", "FALSE", "no", "off", " Off "] {
            assert!(!crate::env::switched_on(off), "{off}");
        }
        for on in ["1", "true", "yes", "on", "anything"] {
            assert!(crate::env::switched_on(on), "{on}");
        }
    }

    #[test]
    fn the_log_is_private_and_rotated_by_size() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("state/assume-role");
        // Three lines a file (those of profiles 0 to 9 are a byte shorter: still three).
        let size = serde_json::to_vec(&record(10)).unwrap().len() as u64 + 1;
        let limit = size * 3;
        for n in 0..20 {
            append(&dir, &record(n), limit).unwrap();
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&dir), 0o700);
            for path in files(&dir) {
                assert_eq!(mode(&path), 0o600, "{}", path.display());
            }
        }
        assert_eq!(files(&dir).len(), KEEP + 1);
        assert!(!rotated(&dir, KEEP + 1).exists());
        for path in files(&dir) {
            assert!(std::fs::metadata(&path).unwrap().len() <= limit);
        }
        let (entries, skipped) = read(&dir).unwrap();
        assert!(skipped.is_empty());
        // The newest lines survive, in order: 20 written, 3 a file, 4 files, the current one
        // holding 20 % 3 = 2.
        let profiles: Vec<_> = entries.iter().map(|e| e.record.profile.clone()).collect();
        let expected: Vec<_> = (9..20).map(|n| format!("profile-{n}")).collect();
        assert_eq!(profiles, expected);
    }

    #[test]
    fn malformed_lines_are_skipped_and_named() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path();
        append(dir, &record(1), ROTATE_AT).unwrap();
        let mut file = open_append(&dir.join(FILE)).unwrap();
        file.write_all(b"{not json\n\n{\"time\":\"yesterday\",\"profile\":\"p\",\"command\":\"env\",\"outcome\":\"ok\"}\n")
            .unwrap();
        drop(file);
        append(dir, &record(2), ROTATE_AT).unwrap();
        let (entries, skipped) = read(dir).unwrap();
        assert_eq!(entries.len(), 2);
        let lines: Vec<_> = skipped.iter().map(|s| s.line).collect();
        assert_eq!(lines, [2, 4]);
        assert!(skipped[1].reason.contains("not RFC 3339"), "{skipped:?}");
        assert_eq!(entries[1].record.profile, "profile-2");
    }

    #[test]
    fn sixteen_threads_append_sixteen_whole_lines() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().to_path_buf();
        let threads: Vec<_> = (0..16)
            .map(|n| {
                let dir = dir.clone();
                std::thread::spawn(move || append(&dir, &record(n), ROTATE_AT).unwrap())
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let (entries, skipped) = read(&dir).unwrap();
        assert!(skipped.is_empty(), "{skipped:?}");
        let mut profiles: Vec<_> = entries.iter().map(|e| e.record.profile.clone()).collect();
        profiles.sort();
        let mut expected: Vec<_> = (0..16).map(|n| format!("profile-{n}")).collect();
        expected.sort();
        assert_eq!(profiles, expected);
    }
}
