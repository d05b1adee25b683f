//! Shipping: `scripts/install.sh` run by dash and bash against a release directory release_dir from
//! loopback (Python's `http.server` from the test venv), the Homebrew formula and Scoop manifest
//! `scripts/package-manifests.py` makes from a release's `sha256.sum`, and the pins of the
//! GitHub workflows. The release archives here are made by the test (a fake binary that prints a
//! version), so no release build is needed; `scripts/release.sh` itself is run by `.ci/run`.

use crate::support::{python, require_tool};
use sha2::{Digest, Sha256};
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

const TARGET: &str = "x86_64-unknown-linux-musl";
const FAKE_VERSION: &str = "assume-role 9.9.9-test";

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `python -m http.server` on a loopback port, serving `dir`; stopped on drop.
struct Server {
    child: Child,
    url: String,
}

impl Server {
    fn start(dir: &Path) -> Self {
        let mut child = Command::new(python())
            .args([
                "-u",
                "-m",
                "http.server",
                "0",
                "--bind",
                "127.0.0.1",
                "--directory",
            ])
            .arg(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start python -m http.server");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        // "Serving HTTP on 127.0.0.1 port 41234 (http://127.0.0.1:41234/) ..."
        let port = line
            .split_whitespace()
            .skip_while(|w| *w != "port")
            .nth(1)
            .unwrap_or_else(|| panic!("http.server did not say its port: {line:?}"));
        let url = format!("http://127.0.0.1:{port}");
        Self { child, url }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .fold(String::new(), |mut hex, b| {
            use std::fmt::Write;
            let _ = write!(hex, "{b:02x}");
            hex
        })
}

/// A release directory as `scripts/release.sh` lays it out, for one target, whose binary is a
/// script printing `FAKE_VERSION`; `sha256.sum` names it among other files.
fn fake_release(root: &Path) -> PathBuf {
    let name = format!("assume-role-{TARGET}");
    let stage = root.join("stage").join(&name);
    std::fs::create_dir_all(&stage).unwrap();
    // The front and the whole program it hands over to, as the real archive has them.
    for program in ["assume-role", "assume-role-full"] {
        write_executable(
            &stage.join(program),
            &format!("#!/bin/sh\necho '{FAKE_VERSION}'\n"),
        );
    }
    std::fs::write(stage.join("README.md"), "fake\n").unwrap();
    let release_dir = root.join("release_dir");
    std::fs::create_dir_all(&release_dir).unwrap();
    let archive = release_dir.join(format!("{name}.tar.gz"));
    let status = Command::new("tar")
        .arg("-C")
        .arg(root.join("stage"))
        .arg("-czf")
        .arg(&archive)
        .arg(&name)
        .status()
        .expect("run tar");
    assert!(status.success());
    let hash = sha256_hex(&std::fs::read(&archive).unwrap());
    std::fs::write(
        release_dir.join("sha256.sum"),
        format!(
            "{}  assume-role-aarch64-unknown-linux-musl.tar.gz\n{hash}  {name}.tar.gz\n{}  install.sh\n",
            "1".repeat(64),
            "2".repeat(64)
        ),
    )
    .unwrap();
    release_dir
}

fn write_executable(path: &Path, text: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// Where install.sh runs: a home, a temporary directory to check it cleans, and a directory of
/// tools whose `uname` says what platform this is.
struct Sandbox {
    root: tempfile::TempDir,
}

impl Sandbox {
    fn new(os: &str, arch: &str) -> Self {
        let root = tempfile::tempdir().unwrap();
        for dir in ["home", "tmp", "shim"] {
            std::fs::create_dir_all(root.path().join(dir)).unwrap();
        }
        write_executable(
            &root.path().join("shim/uname"),
            &format!(
                "#!/bin/sh\ncase \"$1\" in -s) echo '{os}' ;; -m) echo '{arch}' ;; *) echo '{os}' ;; esac\n"
            ),
        );
        Self { root }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.root.path().join(rel)
    }

    /// Puts only these tools (from the real PATH) beside the `uname` shim, and returns the
    /// directory, for runs that must lack the others.
    fn only_tools(&self, tools: &[&str]) -> PathBuf {
        let shim = self.path("shim");
        for tool in tools {
            let found = which(tool).unwrap_or_else(|| panic!("`{tool}` is not on PATH"));
            std::os::unix::fs::symlink(found, shim.join(tool)).unwrap();
        }
        shim
    }

    /// Runs `shell scripts/install.sh ARGS` with `PATH` (the real one after the shim when
    /// `None`) and `ASSUME_ROLE_DOWNLOAD_URL`.
    fn install(&self, shell: &Path, path: Option<&Path>, url: &str, args: &[&str]) -> Output {
        let path = path.map_or_else(
            || {
                let real = std::env::var_os("PATH").unwrap_or_default();
                let mut dirs = vec![self.path("shim")];
                dirs.extend(std::env::split_paths(&real));
                std::env::join_paths(dirs).unwrap()
            },
            |p| p.as_os_str().to_owned(),
        );
        Command::new(shell)
            .arg(repo().join("scripts/install.sh"))
            .args(args)
            .env_clear()
            .env("PATH", path)
            .env("HOME", self.path("home"))
            .env("TMPDIR", self.path("tmp"))
            .env("ASSUME_ROLE_DOWNLOAD_URL", url)
            .stdin(Stdio::null())
            .output()
            .expect("run install.sh")
    }

    /// Nothing was left in TMPDIR, and `dir` holds no binary (nor the half of one).
    fn assert_nothing_installed(&self, dir: &Path, what: &str) {
        let left: Vec<_> = std::fs::read_dir(self.path("tmp")).unwrap().collect();
        assert!(left.is_empty(), "{what}: left in TMPDIR: {left:?}");
        if dir.exists() {
            let names: Vec<_> = std::fs::read_dir(dir)
                .unwrap()
                .map(|e| e.unwrap().file_name())
                .collect();
            assert!(
                names.iter().all(|n| n == "assume-role"),
                "{what}: {names:?}"
            );
            if names.is_empty() {
                return;
            }
            // Only the old binary, untouched.
            assert_eq!(
                std::fs::read_to_string(dir.join("assume-role")).unwrap(),
                "old\n",
                "{what}"
            );
        }
    }
}

fn which(tool: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(tool))
        .find(|p| p.is_file())
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// dash (the `sh` of Debian and Ubuntu) and bash, each found or, under CI, required.
fn shells() -> Vec<PathBuf> {
    ["dash", "bash"]
        .iter()
        .filter_map(|s| require_tool(s))
        .collect()
}

/// The SHA-256 tool this machine has (macOS has shasum only), required under CI.
fn hasher() -> &'static str {
    if which("sha256sum").is_some() {
        "sha256sum"
    } else {
        require_tool("shasum");
        "shasum"
    }
}

/// What install.sh needs besides a downloader, a hasher and the shell.
const BASE_TOOLS: [&str; 8] = ["tar", "gzip", "mktemp", "mkdir", "rm", "chmod", "cp", "mv"];

#[test]
fn install_puts_the_checked_binary_in_place_under_dash_and_bash() {
    require_tool("curl");
    require_tool("tar");
    let work = tempfile::tempdir().unwrap();
    let server = Server::start(&fake_release(work.path()));
    for shell in shells() {
        let sandbox = Sandbox::new("Linux", "x86_64");
        // The default destination, ~/.local/bin, made when missing.
        let out = sandbox.install(&shell, None, &server.url, &[]);
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        assert!(out.status.success(), "{shell:?}: {stdout}{stderr}");
        assert!(stderr.contains("sha256 checked"), "{stderr}");
        let installed = sandbox.path("home/.local/bin/assume-role");
        let version = Command::new(&installed).arg("--version").output().unwrap();
        assert_eq!(text(&version.stdout).trim(), FAKE_VERSION);
        assert!(
            stderr.contains(&format!(
                "installed {FAKE_VERSION} to {}",
                installed.display()
            )),
            "{stderr}"
        );
        assert!(stderr.contains("is not on your PATH"), "{stderr}");
        let names: Vec<_> = std::fs::read_dir(sandbox.path("home/.local/bin"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        let mut names = names;
        names.sort();
        assert_eq!(
            names,
            ["assume-role", "assume-role-full"],
            "{shell:?}: both programs, and nothing else is left"
        );
        assert_eq!(std::fs::read_dir(sandbox.path("tmp")).unwrap().count(), 0);

        // --to replaces an older binary in place.
        let to = sandbox.path("opt bin");
        std::fs::create_dir_all(&to).unwrap();
        std::fs::write(to.join("assume-role"), "old\n").unwrap();
        let to_arg = to.to_str().unwrap();
        let out = sandbox.install(&shell, None, &server.url, &["--to", to_arg]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let version = Command::new(to.join("assume-role"))
            .arg("--version")
            .output()
            .unwrap();
        assert_eq!(text(&version.stdout).trim(), FAKE_VERSION);
    }
}

#[test]
fn install_with_wget_when_there_is_no_curl() {
    if require_tool("wget").is_none() {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let server = Server::start(&fake_release(work.path()));
    for shell in shells() {
        let sandbox = Sandbox::new("Linux", "amd64");
        let mut tools = BASE_TOOLS.to_vec();
        tools.extend(["wget", hasher()]);
        let path = sandbox.only_tools(&tools);
        let to = sandbox.path("bin");
        let out = sandbox.install(
            &shell,
            Some(&path),
            &server.url,
            &["--to", to.to_str().unwrap()],
        );
        assert!(out.status.success(), "{shell:?}: {}", text(&out.stderr));
        let version = Command::new(to.join("assume-role"))
            .arg("--version")
            .output()
            .unwrap();
        assert_eq!(text(&version.stdout).trim(), FAKE_VERSION);
    }
}

#[test]
fn install_refuses_an_archive_whose_checksum_does_not_match() {
    require_tool("curl");
    let work = tempfile::tempdir().unwrap();
    let release_dir = fake_release(work.path());
    // The archive swapped after sha256.sum was written: a binary that is not the one released.
    let archive = release_dir.join(format!("assume-role-{TARGET}.tar.gz"));
    let stage = work.path().join("evil");
    std::fs::create_dir_all(stage.join(format!("assume-role-{TARGET}"))).unwrap();
    write_executable(
        &stage.join(format!("assume-role-{TARGET}/assume-role")),
        "#!/bin/sh\necho evil\n",
    );
    let status = Command::new("tar")
        .arg("-C")
        .arg(&stage)
        .arg("-czf")
        .arg(&archive)
        .arg(format!("assume-role-{TARGET}"))
        .status()
        .unwrap();
    assert!(status.success());
    let server = Server::start(&release_dir);
    for shell in shells() {
        let sandbox = Sandbox::new("Linux", "x86_64");
        let to = sandbox.path("bin");
        std::fs::create_dir_all(&to).unwrap();
        std::fs::write(to.join("assume-role"), "old\n").unwrap();
        let out = sandbox.install(&shell, None, &server.url, &["--to", to.to_str().unwrap()]);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{shell:?}: {stderr}");
        assert!(
            stderr.contains(&format!(
                "error: checksum mismatch for assume-role-{TARGET}.tar.gz"
            )),
            "{stderr}"
        );
        assert!(stderr.contains("nothing was installed"), "{stderr}");
        sandbox.assert_nothing_installed(&to, "checksum mismatch");
        // The default destination was not even made.
        assert!(!sandbox.path("home/.local").exists());
    }
}

#[test]
fn install_stops_on_a_platform_without_a_release() {
    let work = tempfile::tempdir().unwrap();
    let server = Server::start(&fake_release(work.path()));
    for shell in shells() {
        for (os, arch) in [("Plan9", "x86_64"), ("Linux", "riscv64"), ("Darwin", "ppc")] {
            let sandbox = Sandbox::new(os, arch);
            let out = sandbox.install(&shell, None, &server.url, &[]);
            let stderr = text(&out.stderr);
            assert_eq!(out.status.code(), Some(1), "{shell:?}: {stderr}");
            assert!(
                stderr.contains(&format!(
                    "error: there is no release build for this platform ({os} {arch})"
                )),
                "{stderr}"
            );
            assert!(
                stderr.contains("cargo install --locked assume-role"),
                "{stderr}"
            );
            assert!(stderr.contains("nothing was installed"), "{stderr}");
            assert!(!stderr.contains("downloading"), "{stderr}");
            sandbox.assert_nothing_installed(&sandbox.path("home/.local/bin"), os);
        }
    }
}

#[test]
fn install_stops_when_a_tool_is_missing() {
    require_tool("curl");
    let work = tempfile::tempdir().unwrap();
    let server = Server::start(&fake_release(work.path()));
    let cases: [(&[&str], &str); 3] = [
        (&["curl"], "neither sha256sum nor shasum is installed"),
        (&[hasher()], "neither curl nor wget is installed"),
        (&["curl", hasher()], ""),
    ];
    for shell in shells() {
        for (extra, message) in cases {
            let sandbox = Sandbox::new("Linux", "x86_64");
            let mut tools = BASE_TOOLS.to_vec();
            tools.extend_from_slice(extra);
            if message.is_empty() {
                // Everything but gzip: tar could not unpack.
                tools.retain(|t| *t != "gzip");
            }
            let path = sandbox.only_tools(&tools);
            let out = sandbox.install(&shell, Some(&path), &server.url, &[]);
            let stderr = text(&out.stderr);
            assert_eq!(out.status.code(), Some(1), "{shell:?} {extra:?}: {stderr}");
            let message = if message.is_empty() {
                "gzip is not installed"
            } else {
                message
            };
            assert!(stderr.contains(&format!("error: {message}")), "{stderr}");
            assert!(stderr.contains("nothing was installed"), "{stderr}");
            assert!(!stderr.contains("downloading"), "checked before: {stderr}");
            sandbox.assert_nothing_installed(&sandbox.path("home/.local/bin"), message);
        }
    }
}

#[test]
fn install_says_what_went_wrong_with_the_download() {
    require_tool("curl");
    let work = tempfile::tempdir().unwrap();
    let release_dir = fake_release(work.path());
    std::fs::write(release_dir.join("sha256.sum"), "0000  some-other.tar.gz\n").unwrap();
    let server = Server::start(&release_dir);
    let missing = tempfile::tempdir().unwrap();
    let empty = Server::start(missing.path());
    for shell in shells() {
        let sandbox = Sandbox::new("Linux", "x86_64");
        let out = sandbox.install(&shell, None, &server.url, &[]);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(
            stderr.contains(&format!(
                "sha256.sum has no line for assume-role-{TARGET}.tar.gz"
            )),
            "{stderr}"
        );
        sandbox.assert_nothing_installed(&sandbox.path("home/.local/bin"), "no line");

        let out = sandbox.install(&shell, None, &empty.url, &["--version", "1.2.3"]);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(
            stderr.contains(&format!(
                "could not download {}/assume-role-{TARGET}.tar.gz",
                empty.url
            )),
            "{stderr}"
        );
        sandbox.assert_nothing_installed(&sandbox.path("home/.local/bin"), "404");
    }
}

#[test]
fn install_script_passes_shellcheck() {
    let shellcheck = crate::support::venv_bin("shellcheck");
    let out = Command::new(&shellcheck)
        .args(["--shell=sh", "--severity=style"])
        .arg(repo().join("scripts/install.sh"))
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "{}: {e} (scripts/venv.sh installs it)",
                shellcheck.display()
            )
        });
    assert!(out.status.success(), "{}", text(&out.stdout));
    let out = Command::new(&shellcheck)
        .args(["--shell=bash"])
        .args(["scripts/release.sh", "scripts/bench.sh"].map(|s| repo().join(s)))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stdout));
}

/// The five archives of a release, with made-up hashes.
const ARCHIVES: [&str; 5] = [
    "assume-role-x86_64-unknown-linux-musl.tar.gz",
    "assume-role-aarch64-unknown-linux-musl.tar.gz",
    "assume-role-x86_64-apple-darwin.tar.gz",
    "assume-role-aarch64-apple-darwin.tar.gz",
    "assume-role-x86_64-pc-windows-gnu.zip",
];

/// A made-up SHA-256 in hex: `aaa…` for 0, `bbb…` for 1, and so on.
fn hash_of(i: usize) -> String {
    char::from(b'a' + u8::try_from(i).unwrap())
        .to_string()
        .repeat(64)
}

/// sha256.sum's text for these (hash, name) pairs.
fn sums_of<'a>(lines: impl Iterator<Item = (String, &'a str)>) -> String {
    use std::fmt::Write;
    let mut text = String::new();
    for (hash, name) in lines {
        let _ = writeln!(text, "{hash}  {name}");
    }
    text
}

fn manifests(sums: &str) -> (Output, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("sha256.sum"), sums).unwrap();
    let out = Command::new(python())
        .arg(repo().join("scripts/package-manifests.py"))
        .args([
            "--version",
            "v1.2.3",
            "--repo",
            "example/assume-role",
            "--dir",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    (out, dir)
}

#[test]
fn manifests_for_homebrew_and_scoop_come_from_sha256_sum() {
    let sums = sums_of(
        ARCHIVES
            .iter()
            .enumerate()
            .map(|(i, name)| (hash_of(i), *name)),
    );
    let (out, dir) = manifests(&sums);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let base = "https://github.com/example/assume-role/releases/download/v1.2.3";

    let formula = std::fs::read_to_string(dir.path().join("assume-role.rb")).unwrap();
    assert!(formula.contains("class AssumeRole < Formula"), "{formula}");
    assert!(formula.contains("  version \"1.2.3\"\n"), "{formula}");
    for (i, name) in ARCHIVES[..4].iter().enumerate() {
        let hash = hash_of(i);
        // Each URL with its own hash on the next line.
        assert!(
            formula.contains(&format!("url \"{base}/{name}\"\n      sha256 \"{hash}\"\n")),
            "{name}: {formula}"
        );
    }
    assert!(formula.contains("bin.install \"assume-role\""), "{formula}");
    assert!(
        formula.contains("man1.install \"doc/assume-role.1\""),
        "{formula}"
    );
    assert!(!formula.contains("windows"), "{formula}");

    let scoop: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("assume-role.json")).unwrap())
            .unwrap();
    assert_eq!(scoop["version"], "1.2.3");
    assert_eq!(scoop["bin"], "assume-role.exe");
    assert_eq!(scoop["license"], "MIT|Apache-2.0");
    let win = &scoop["architecture"]["64bit"];
    assert_eq!(win["url"], format!("{base}/{}", ARCHIVES[4]));
    assert_eq!(win["hash"], "e".repeat(64));
    assert_eq!(win["extract_dir"], "assume-role-x86_64-pc-windows-gnu");
}

#[test]
fn manifests_refuse_a_release_missing_an_archive() {
    let sums = sums_of(ARCHIVES[1..].iter().map(|name| (hash_of(0), *name)));
    let (out, dir) = manifests(&sums);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr)
            .contains("sha256.sum has no line for assume-role-x86_64-unknown-linux-musl.tar.gz"),
        "{}",
        text(&out.stderr)
    );
    assert!(!dir.path().join("assume-role.rb").exists());
}

/// Every `uses:` in the workflows names a full commit SHA, with the version in a comment: a tag
/// can be moved to other code, a commit cannot.
#[test]
fn workflow_actions_are_pinned_to_commits() {
    let mut checked = 0;
    let mut bad = Vec::new();
    for entry in std::fs::read_dir(repo().join(".github/workflows")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "yml" && e != "yaml") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for (n, line) in text.lines().enumerate() {
            let Some(uses) = line
                .trim_start()
                .trim_start_matches("- ")
                .strip_prefix("uses:")
            else {
                continue;
            };
            let uses = uses.trim();
            checked += 1;
            if uses.starts_with("./") || uses.starts_with("docker://") {
                continue;
            }
            let (action, rest) = uses.split_once('@').unwrap_or((uses, ""));
            let (sha, comment) = rest.split_once(" #").unwrap_or((rest, ""));
            let pinned = sha.len() == 40 && sha.bytes().all(|b| b.is_ascii_hexdigit());
            if !pinned || comment.trim().is_empty() {
                bad.push(format!(
                    "{}:{}: `{action}@{sha}` (want `{action}@<40-hex commit> # <version>`)",
                    path.display(),
                    n + 1
                ));
            }
        }
    }
    assert!(checked >= 5, "found only {checked} `uses:` lines");
    assert!(bad.is_empty(), "unpinned actions:\n{}", bad.join("\n"));
}

/// The archive `scripts/release.sh` really built, installed by the `install.sh` shipped beside
/// it from loopback, under dash: the lane of `scripts/release-lane.sh`, which sets
/// `ASSUME_ROLE_TEST_RELEASE_DIR` to the release directory and checks that this test ran.
#[test]
fn install_the_real_release() {
    let Some(dir) = std::env::var_os("ASSUME_ROLE_TEST_RELEASE_DIR") else {
        eprintln!(
            "note: ASSUME_ROLE_TEST_RELEASE_DIR is not set: the release lane is not running (bash scripts/release-lane.sh)"
        );
        return;
    };
    let dir = PathBuf::from(dir);
    let sums = std::fs::read_to_string(dir.join("sha256.sum")).unwrap();
    // Every line names a file of the release (`sha256sum -c` fails on one that is not there).
    for line in sums.lines() {
        let (_, name) = line.split_once("  ").unwrap_or_else(|| panic!("{line:?}"));
        assert!(
            dir.join(name).is_file(),
            "sha256.sum names {name}, which is not there:\n{sums}"
        );
    }
    let archive = format!("assume-role-{TARGET}.tar.gz");
    for name in [
        archive.as_str(),
        "install.sh",
        &format!("assume-role-{TARGET}.cdx.json"),
    ] {
        let bytes = std::fs::read(dir.join(name)).unwrap();
        assert!(
            sums.contains(&format!("{}  {name}\n", sha256_hex(&bytes))),
            "{name} is not in sha256.sum as it is:\n{sums}"
        );
    }

    // What the archive holds.
    let listing = Command::new("tar")
        .arg("-tzf")
        .arg(dir.join(&archive))
        .output()
        .unwrap();
    let mut listing: Vec<String> = text(&listing.stdout)
        .lines()
        .filter(|l| !l.ends_with('/'))
        .map(str::to_owned)
        .collect();
    listing.sort();
    let top = format!("assume-role-{TARGET}");
    let mut want: Vec<String> = [
        "LICENSE",
        "README.md",
        "assume-role",
        "assume-role-full",
        "complete/_assume-role",
        "complete/_assume-role.ps1",
        "complete/assume-role.bash",
        "complete/assume-role.elv",
        "complete/assume-role.fish",
        "complete/assume-role.nu",
        "doc/assume-role.1",
    ]
    .iter()
    .map(|f| format!("{top}/{f}"))
    .collect();
    want.sort();
    assert_eq!(listing, want);

    // The SBOM names the crates the binary is made of.
    let sbom: serde_json::Value = serde_json::from_slice(
        &std::fs::read(dir.join(format!("assume-role-{TARGET}.cdx.json"))).unwrap(),
    )
    .unwrap();
    assert_eq!(sbom["bomFormat"], "CycloneDX");
    let components = sbom["components"].to_string();
    for name in ["\"aws-lc-sys\"", "\"clap\"", "\"rustls\""] {
        assert!(components.contains(name), "the SBOM lacks {name}");
    }

    // install.sh, as shipped, from a loopback server, into a fresh home: the static binary runs.
    let Some(dash) = require_tool("dash") else {
        return;
    };
    let server = Server::start(&dir);
    let sandbox = Sandbox::new("Linux", "x86_64");
    let out = sandbox.install(&dash, None, &server.url, &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let installed = sandbox.path("home/.local/bin/assume-role");
    let version = Command::new(&installed).arg("--version").output().unwrap();
    assert_eq!(
        text(&version.stdout).trim(),
        format!("assume-role {}", env!("CARGO_PKG_VERSION"))
    );
    for program in [
        installed.clone(),
        installed.with_file_name("assume-role-full"),
    ] {
        if let Ok(file) = Command::new("file").arg("-b").arg(&program).output() {
            let file = text(&file.stdout);
            assert!(file.contains("statically linked"), "{program:?}: {file}");
        }
    }
    // The shipped completion scripts call `assume-role` on PATH, not the build's path.
    let unpacked = sandbox.path("unpacked");
    std::fs::create_dir_all(&unpacked).unwrap();
    let status = Command::new("tar")
        .arg("-C")
        .arg(&unpacked)
        .arg("-xzf")
        .arg(dir.join(&archive))
        .status()
        .unwrap();
    assert!(status.success());
    let bash =
        std::fs::read_to_string(unpacked.join(&top).join("complete/assume-role.bash")).unwrap();
    assert!(bash.contains("assume-role"), "{bash}");
    assert!(!bash.contains("/release/"), "{bash}");
    let man = std::fs::read_to_string(unpacked.join(&top).join("doc/assume-role.1")).unwrap();
    assert!(
        man.starts_with(".ie") || man.contains(".TH assume-role"),
        "{}",
        &man[..200.min(man.len())]
    );
}
