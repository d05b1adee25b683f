//! Getting a registry's file: from a git repository through the system `git` (any URL it can
//! fetch, `file://` included), one shallow fetch of one ref into a throwaway repository, or
//! from a plain local directory. Every `git` run is bounded and can never ask for a password.

use super::RegistryError;
use super::file::FILE_NAME;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// How long one `git` command may take.
pub const GIT_WAIT: Duration = Duration::from_mins(1);

/// A registry's file at one commit.
pub struct Fetched {
    pub text: String,
    /// The commit it was read at; for a plain directory, `dir:` and a hash of the file.
    pub commit: String,
}

/// The file of `source` at `git_ref` (the default branch when `None`).
pub fn fetch(source: &str, git_ref: Option<&str>) -> Result<Fetched, RegistryError> {
    let local = Path::new(source);
    if local.is_dir() && !local.join(".git").exists() && git_ref.is_none() {
        return from_directory(source, local);
    }
    let scratch =
        tempfile::tempdir().map_err(|e| failed(source, format!("no temporary directory: {e}")))?;
    let repo = scratch.path();
    git(source, repo, &["init", "--quiet", "--bare"])?;
    let wanted = git_ref.unwrap_or("HEAD");
    git(
        source,
        repo,
        &[
            "fetch",
            "--quiet",
            "--depth",
            "1",
            "--no-tags",
            "--",
            source,
            wanted,
        ],
    )?;
    let commit =
        String::from_utf8_lossy(&git(source, repo, &["rev-parse", "FETCH_HEAD^{commit}"])?)
            .trim()
            .to_owned();
    let text = git(source, repo, &["show", &format!("FETCH_HEAD:{FILE_NAME}")]).map_err(|_| {
        no_file(
            source,
            format!(
                "there is no `{FILE_NAME}` at the root of `{wanted}` (commit {})",
                short(&commit)
            ),
        )
    })?;
    let text = String::from_utf8(text)
        .map_err(|_| no_file(source, format!("`{FILE_NAME}` is not UTF-8 text")))?;
    Ok(Fetched { text, commit })
}

fn from_directory(source: &str, dir: &Path) -> Result<Fetched, RegistryError> {
    use sha2::Digest as _;
    let path = dir.join(FILE_NAME);
    let text = std::fs::read_to_string(&path)
        .map_err(|e| no_file(source, format!("cannot read `{}`: {e}", path.display())))?;
    let digest = sha2::Sha256::digest(text.as_bytes());
    let commit = format!("dir:{}", &format!("{digest:x}")[..12]);
    Ok(Fetched { text, commit })
}

/// Runs `git` in `repo`; its stdout, or the failure with the last line it printed.
fn git(source: &str, repo: &Path, args: &[&str]) -> Result<Vec<u8>, RegistryError> {
    let mut cmd: Command = crate::process::child("git");
    cmd.arg("-C")
        .arg(repo)
        .args(args)
        // Never a prompt: a private repository needs credentials set up beforehand.
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_ASKPASS", "true")
        .env("SSH_ASKPASS", "true")
        .env("GCM_INTERACTIVE", "never");
    let output = crate::process::run_captured(cmd, GIT_WAIT).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => RegistryError::GitMissing,
        _ => failed(source, format!("`git {}`: {e}", args[0])),
    })?;
    if output.status.success() {
        return Ok(output.stdout);
    }
    let said = String::from_utf8_lossy(&output.stderr);
    let last = said
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("no message");
    Err(failed(
        source,
        format!(
            "`git {}` failed: {}",
            args[0],
            crate::rules::printable(last.trim())
        ),
    ))
}

fn failed(source: &str, detail: String) -> RegistryError {
    RegistryError::Fetch {
        from: source.to_owned(),
        detail,
    }
}

fn no_file(source: &str, detail: String) -> RegistryError {
    RegistryError::NoFile {
        from: source.to_owned(),
        detail,
    }
}

/// A commit as people read it.
pub fn short(commit: &str) -> &str {
    commit.get(..12).unwrap_or(commit)
}
