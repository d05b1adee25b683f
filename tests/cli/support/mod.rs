//! The hermetic harness: every test runs the real binary with a cleared environment, a
//! temporary `HOME` and XDG directories, and its own AWS config, against one shared moto
//! (`moto_fixture.py`) on loopback with signature and policy checks on.

#![allow(dead_code)]

pub mod leaks;
#[cfg(unix)]
pub mod pty;

use serde::Deserialize;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Output, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_assume-role");

#[derive(Debug, Deserialize, Clone)]
pub struct Keys {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub arn: String,
}

/// What the fixture prints once moto is seeded and checks are on.
#[derive(Debug, Deserialize, Clone)]
pub struct Fixture {
    pub endpoint: String,
    pub proxy: String,
    pub region: String,
    pub contractor: Keys,
    pub outsider: Keys,
    pub client_role_arn: String,
    pub client_external_id: String,
    pub second_role_arn: String,
    pub same_account_role_arn: String,
    pub same_account_external_id: String,
    pub mfa_serial: String,
    pub bucket: String,
    pub contractor_bucket: String,
}

struct Moto {
    fixture: Fixture,
    // Held open for the life of the test binary: the fixture exits when it closes.
    _stdin: ChildStdin,
    _child: Child,
}

/// The venv interpreter that has moto, boto3 and the AWS CLI v1 (`scripts/venv.sh`).
pub fn python() -> PathBuf {
    if let Some(python) = std::env::var_os("ASSUME_ROLE_TEST_PYTHON") {
        return python.into();
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let unix = root.join(".venv/bin/python");
    let windows = root.join(".venv/Scripts/python.exe");
    let found = [unix, windows].into_iter().find(|p| p.exists());
    found.unwrap_or_else(|| {
        panic!("no test venv: run `bash scripts/test.sh` (or `bash scripts/venv.sh`), or set ASSUME_ROLE_TEST_PYTHON")
    })
}

/// A program from the test venv, such as `aws`.
pub fn venv_bin(name: &str) -> PathBuf {
    python()
        .parent()
        .expect("python lives in a bin dir")
        .join(name)
}

static MOTO: OnceLock<Moto> = OnceLock::new();
static MOTO_CHECKS_OFF: OnceLock<Moto> = OnceLock::new();

/// The shared moto with signature and policy checks on, started on first use.
pub fn moto() -> &'static Fixture {
    &MOTO.get_or_init(|| start_fixture(&[])).fixture
}

/// A second moto with checks off, for MFA sessions: moto's `GetSessionToken` returns fixed
/// keys that its own checks reject.
pub fn moto_checks_off() -> &'static Fixture {
    &MOTO_CHECKS_OFF
        .get_or_init(|| start_fixture(&["--checks-off"]))
        .fixture
}

/// The fixtures started so far. Never starts one: a test that did not need moto must not pay
/// for it just to have its stderr checked.
fn started_fixtures() -> Vec<&'static Fixture> {
    [MOTO.get(), MOTO_CHECKS_OFF.get()]
        .into_iter()
        .flatten()
        .map(|m| &m.fixture)
        .collect()
}

fn start_fixture(args: &[&str]) -> Moto {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cli/support/moto_fixture.py");
    let mut child = Command::new(python())
        .arg(script)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start moto_fixture.py");
    let stdin = child.stdin.take().unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .expect("read the fixture's line");
    let fixture: Fixture =
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("fixture printed {line:?}: {e}"));
    Moto {
        fixture,
        _stdin: stdin,
        _child: child,
    }
}

/// One recorded request, as the proxy saw it.
#[derive(Debug, Deserialize, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub params: BTreeMap<String, String>,
}

/// Every request the proxy forwarded so far, from all tests.
pub fn recorded_all() -> Vec<Recorded> {
    recorded_at(moto())
}

/// Every request a fixture's proxy forwarded so far.
pub fn recorded_at(fixture: &Fixture) -> Vec<Recorded> {
    let url = format!("{}/__recorded", fixture.proxy);
    let out = Command::new(python())
        .args(["-c", "import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1]).read().decode())", &url])
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Requests the proxy forwarded, filtered to one test by its unique session name.
pub fn recorded_assume_roles(session_name: &str) -> Vec<Recorded> {
    recorded_all()
        .into_iter()
        .filter(|r| r.params.get("Action").map(String::as_str) == Some("AssumeRole"))
        .filter(|r| r.params.get("RoleSessionName").map(String::as_str) == Some(session_name))
        .collect()
}

/// A temporary home with its own AWS config, and the environment a test runs the binary in.
pub struct TestEnv {
    pub dir: tempfile::TempDir,
    pub vars: BTreeMap<String, String>,
    /// Values a test has the binary print to stderr on purpose (see [`TestEnv::allow_on_stderr`]).
    allowed: Vec<String>,
    /// Credentials earlier runs handed over: a later run of the same env must not show them on
    /// stderr either (a cached session is the usual way one comes back).
    seen: Mutex<Vec<leaks::Known>>,
    /// Secrets the test told the harness about, which it could not find itself: a code typed
    /// at a prompt, a stub's token (see [`TestEnv::register_secret`]).
    registered: Mutex<Vec<leaks::Known>>,
}

impl TestEnv {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let home = root.join("home");
        // No `cache` here: the binary creates its cache directory itself, private.
        for sub in [
            "home/.aws",
            "xdg/cache",
            "xdg/config",
            "xdg/data",
            "xdg/state",
            "work",
        ] {
            std::fs::create_dir_all(root.join(sub)).unwrap();
        }
        let mut vars = BTreeMap::new();
        let path = |p: PathBuf| p.to_string_lossy().into_owned();
        vars.insert("HOME".into(), path(home.clone()));
        vars.insert("USER".into(), "tester".into());
        vars.insert("PATH".into(), std::env::var("PATH").unwrap_or_default());
        vars.insert("XDG_CACHE_HOME".into(), path(root.join("xdg/cache")));
        vars.insert("XDG_CONFIG_HOME".into(), path(root.join("xdg/config")));
        vars.insert("XDG_DATA_HOME".into(), path(root.join("xdg/data")));
        vars.insert("XDG_STATE_HOME".into(), path(root.join("xdg/state")));
        // Named explicitly: `dirs::cache_dir` ignores `XDG_CACHE_HOME` on macOS and Windows,
        // where the cache would otherwise land in the developer's own.
        vars.insert("ASSUME_ROLE_CACHE_DIR".into(), path(root.join("cache")));
        vars.insert("AWS_CONFIG_FILE".into(), path(home.join(".aws/config")));
        vars.insert(
            "AWS_SHARED_CREDENTIALS_FILE".into(),
            path(home.join(".aws/credentials")),
        );
        // Belt and braces: nothing in a test may reach instance metadata.
        vars.insert("AWS_EC2_METADATA_DISABLED".into(), "true".into());
        Self {
            dir,
            vars,
            allowed: Vec::new(),
            seen: Mutex::default(),
            registered: Mutex::default(),
        }
    }

    /// A test env whose STS is moto (through the recording proxy), with the contractor's keys
    /// in the credentials file and the standard profiles in the config.
    pub fn with_moto() -> Self {
        Self::with_fixture(moto())
    }

    /// The same, against `fixture`.
    pub fn with_fixture(fx: &Fixture) -> Self {
        let mut env = Self::new();
        env.set("AWS_ENDPOINT_URL", &fx.proxy);
        env.write_credentials(&format!(
            "[contractor]\naws_access_key_id = {}\naws_secret_access_key = {}\n\n[outsider]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            fx.contractor.access_key_id, fx.contractor.secret_access_key, fx.outsider.access_key_id, fx.outsider.secret_access_key
        ));
        env.write_config(&standard_config(fx));
        env
    }

    pub fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    pub fn work_dir(&self) -> PathBuf {
        self.dir.path().join("work")
    }

    /// The binary's cache directory (`ASSUME_ROLE_CACHE_DIR`), wherever the test set it.
    pub fn cache_dir(&self) -> PathBuf {
        PathBuf::from(&self.vars["ASSUME_ROLE_CACHE_DIR"])
    }

    /// Lets `value` appear on the stderr of this env's runs, for a test that has the binary
    /// print it on purpose (say why at the call site). Everything else is still checked.
    pub fn allow_on_stderr(&mut self, value: &str) -> &mut Self {
        self.allowed.push(value.to_owned());
        self
    }

    /// Tells the harness of a secret it cannot find itself (a stub's sign-in token, say): every
    /// later run of this env is checked for it as for the keys it knows. Fails at once on a
    /// value too short to check (under 8 characters), so that a test never believes a check
    /// that does not happen.
    #[track_caller]
    pub fn register_secret(&self, kind: &str, value: &str) -> &Self {
        self.register(kind, value, leaks::Form::Secret)
    }

    /// Tells the harness of an MFA code it cannot find itself: one typed at a prompt, printed
    /// by a script, or the one a stub takes. Codes passed with `--mfa-token` and those a
    /// constant `mfa_process` in the config prints are known without this.
    #[track_caller]
    pub fn register_mfa_code(&self, kind: &str, code: &str) -> &Self {
        self.register(kind, code, leaks::Form::Code)
    }

    #[track_caller]
    fn register(&self, kind: &str, value: &str, form: leaks::Form) -> &Self {
        let known = leaks::Known::new(kind, value, form)
            .unwrap_or_else(|| panic!("{kind}: too short or malformed to check for"));
        self.registered
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(known);
        self
    }

    /// Everything this env's runs must not show, on top of what a run's own environment,
    /// files, arguments and stdout tell (see [`leaks::known`]).
    fn remembered(&self) -> Vec<leaks::Known> {
        let lock = |m: &Mutex<Vec<leaks::Known>>| {
            m.lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .clone()
        };
        let mut known = lock(&self.seen);
        known.extend(lock(&self.registered));
        known
    }

    pub fn set(&mut self, key: &str, value: &str) -> &mut Self {
        self.vars.insert(key.into(), value.into());
        self
    }

    pub fn remove(&mut self, key: &str) -> &mut Self {
        self.vars.remove(key);
        self
    }

    pub fn config_path(&self) -> PathBuf {
        PathBuf::from(&self.vars["AWS_CONFIG_FILE"])
    }

    pub fn write_config(&self, text: &str) {
        std::fs::write(self.config_path(), text).unwrap();
    }

    pub fn append_config(&self, text: &str) {
        let mut config = std::fs::read_to_string(self.config_path()).unwrap_or_default();
        config.push_str(text);
        self.write_config(&config);
    }

    pub fn write_credentials(&self, text: &str) {
        std::fs::write(&self.vars["AWS_SHARED_CREDENTIALS_FILE"], text).unwrap();
    }

    /// A command with exactly this environment, detached from any terminal so that a prompt
    /// can never wait on the developer's keyboard.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = Command::new(program);
        cmd.env_clear()
            .envs(&self.vars)
            .current_dir(self.work_dir())
            .stdin(Stdio::null());
        detach(&mut cmd);
        cmd
    }

    pub fn bin(&self, args: &[&str]) -> Command {
        let mut cmd = self.command(BIN);
        cmd.args(args);
        cmd
    }

    /// Runs the binary; a run may take at most 30 s, so a hang fails instead of stalling CI.
    /// Its stderr is checked for secrets (see [`leaks`]).
    #[track_caller]
    pub fn run(&self, args: &[&str]) -> Run {
        self.run_command(self.bin(args))
    }

    /// Runs any command in this env (a shell that runs the binary, say) as [`TestEnv::run`]
    /// does, with this env's allowances and the credentials its earlier runs handed over.
    #[track_caller]
    pub fn run_command(&self, cmd: Command) -> Run {
        let (run, vars, args) = spawn_with_timeout(cmd);
        self.check(&vars, &args, &run.stdout(), &run.stderr(), &run.what);
        run
    }

    /// Waits for a child the test spawned itself (on a pseudo-terminal, say) and checks its
    /// stderr as [`TestEnv::run`] would.
    #[track_caller]
    pub fn wait_checked(&self, child: std::process::Child) -> Output {
        let output = child.wait_with_output().expect("wait");
        self.check_output(&output, "a run on a terminal");
        output
    }

    /// Checks a run the harness did not spawn (on a pseudo-terminal, say) as
    /// [`TestEnv::run`] checks its own.
    #[track_caller]
    pub fn check_stderr(&self, stdout: &str, stderr: &str) {
        self.check(&self.vars, &[], stdout, stderr, "a run on a terminal");
    }

    /// Checks the output of a run the test spawned itself (`what` names it in a report) as
    /// [`TestEnv::run`] checks its own.
    #[track_caller]
    pub fn check_output(&self, output: &Output, what: &str) {
        self.check(
            &self.vars,
            &[],
            &String::from_utf8_lossy(&output.stdout),
            &String::from_utf8_lossy(&output.stderr),
            what,
        );
    }

    /// The check of every run: what it was known to hold, with what the env's earlier runs
    /// handed over and what the test registered, must not show on its stderr or in the audit
    /// log, and its stderr must show no panic.
    #[track_caller]
    fn check(
        &self,
        vars: &BTreeMap<String, String>,
        args: &[String],
        stdout: &str,
        stderr: &str,
        what: &str,
    ) {
        let mut known = leaks::known(&started_fixtures(), vars, args, stdout);
        known.extend(self.remembered());
        self.seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .extend(leaks::in_stdout(stdout));
        leaks::assert_none_on_stderr(&known, &self.allowed, stderr, what);
        check_audit_logs(&known, &self.allowed, vars, what);
    }
}

/// The audit log files a run with `vars` writes (`src/audit.rs`): in `ASSUME_ROLE_STATE_DIR`,
/// else, where the harness can tell, the platform's state directory under `XDG_STATE_HOME`.
fn audit_logs(vars: &BTreeMap<String, String>) -> Vec<PathBuf> {
    let dir = match (
        vars.get("ASSUME_ROLE_STATE_DIR"),
        vars.get("XDG_STATE_HOME"),
    ) {
        (Some(dir), _) => PathBuf::from(dir),
        (None, Some(state)) if cfg!(target_os = "linux") => Path::new(state).join("assume-role"),
        _ => return Vec::new(),
    };
    [
        "audit.jsonl",
        "audit.jsonl.1",
        "audit.jsonl.2",
        "audit.jsonl.3",
    ]
    .iter()
    .map(|name| dir.join(name))
    .filter(|path| path.is_file())
    .collect()
}

/// The audit log promises never to hold a secret (`src/audit.rs`): after each run, it is held
/// to the same check as stderr. A line a test wrote into it itself is checked too; it has no
/// secret either.
#[track_caller]
fn check_audit_logs(
    known: &[leaks::Known],
    allowed: &[String],
    vars: &BTreeMap<String, String>,
    what: &str,
) {
    for path in audit_logs(vars) {
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        leaks::assert_none_in(
            known,
            allowed,
            &String::from_utf8_lossy(&bytes),
            &format!("the audit log `{}` after {what}", path.display()),
        );
    }
}

/// Profiles every moto test can use.
pub fn standard_config(fx: &Fixture) -> String {
    format!(
        "[profile contractor]
region = {region}

[profile outsider]
region = {region}

[profile client]
role_arn = {client}
source_profile = contractor
external_id = {ext}
mfa_serial = {serial}
mfa_process = echo 123456
# Over an hour, so the code goes to AssumeRole itself: moto's MFA sessions (GetSessionToken)
# fail its own signature checks, so that route is tested with checks off.
duration_seconds = 7200
region = {region}

[profile client-nomfa]
role_arn = {client}
source_profile = contractor
external_id = {ext}
region = {region}

[profile second]
role_arn = {second}
source_profile = client-nomfa
region = {region}

[profile same]
role_arn = {same}
source_profile = contractor
external_id = {same_ext}
region = {region}

[profile same-wrong-ext]
role_arn = {same}
source_profile = contractor
external_id = not-the-right-one
region = {region}

[profile outsider-client]
role_arn = {client}
source_profile = outsider
external_id = {ext}
region = {region}
",
        region = fx.region,
        client = fx.client_role_arn,
        ext = fx.client_external_id,
        serial = fx.mfa_serial,
        second = fx.second_role_arn,
        same = fx.same_account_role_arn,
        same_ext = fx.same_account_external_id,
    )
}

#[cfg(unix)]
fn detach(cmd: &mut Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: setsid is async-signal-safe and touches no memory of the parent.
    unsafe {
        cmd.pre_exec(|| {
            libc::setsid();
            Ok(())
        });
    }
}

#[cfg(not(unix))]
fn detach(_cmd: &mut Command) {}

/// What a run produced.
#[derive(Debug)]
pub struct Run {
    pub output: Output,
    pub elapsed: Duration,
    /// The program and its arguments, secrets masked, for reports.
    pub what: String,
}

impl Run {
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).into_owned()
    }
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }
    pub fn code(&self) -> Option<i32> {
        self.output.status.code()
    }
    /// Asserts success and returns stdout.
    #[track_caller]
    pub fn ok(&self) -> String {
        assert!(
            self.output.status.success(),
            "expected success, got {:?}\nstdout:\n{}\nstderr:\n{}",
            self.output.status,
            self.stdout(),
            self.stderr()
        );
        self.stdout()
    }
}

/// Runs `cmd` for at most 30 s, so a hang fails instead of stalling CI, and checks its stderr
/// for secrets (see [`leaks`]). Prefer [`TestEnv::run_command`], which also knows what the
/// env's earlier runs handed over.
#[track_caller]
pub fn run_with_timeout(cmd: Command) -> Run {
    let (run, vars, args) = spawn_with_timeout(cmd);
    let known = leaks::known(&started_fixtures(), &vars, &args, &run.stdout());
    leaks::assert_none_on_stderr(&known, &[], &run.stderr(), &run.what);
    check_audit_logs(&known, &[], &vars, &run.what);
    run
}

/// Runs `cmd` with a time limit and checks its stderr for secrets; `None` if it had to be
/// killed.
#[track_caller]
pub fn run_bounded(cmd: Command, limit: Duration) -> Option<Output> {
    let vars = command_vars(&cmd);
    let args = command_args(&cmd);
    let what = describe(&cmd, &vars);
    let output = run_bounded_unchecked(cmd, limit)?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let known = leaks::known(&started_fixtures(), &vars, &args, &stdout);
    leaks::assert_none_on_stderr(&known, &[], &String::from_utf8_lossy(&output.stderr), &what);
    check_audit_logs(&known, &[], &vars, &what);
    Some(output)
}

/// [`run_bounded`] without the secret check, for the fuzz test only: its mutated files put
/// arbitrary text where keys go, so it holds its runs to the same rules (`leaks::find_leak`,
/// `leaks::panic_in`) with the values it knows, and to its own, stricter ones.
pub fn run_bounded_unchecked(mut cmd: Command, limit: Duration) -> Option<Output> {
    let child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let id = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    if let Ok(output) = rx.recv_timeout(limit) {
        return Some(output.expect("wait"));
    }
    #[cfg(unix)]
    // SAFETY: plain syscalls on a process (group) we started. `TestEnv::command` starts every
    // run in its own session, so its pid is its process group and helpers it started go too;
    // the plain pid is for commands started otherwise.
    unsafe {
        let pid = i32::try_from(id).unwrap();
        libc::kill(-pid, libc::SIGKILL);
        libc::kill(pid, libc::SIGKILL);
    }
    #[cfg(not(unix))]
    let _ = id;
    None
}

#[track_caller]
fn spawn_with_timeout(cmd: Command) -> (Run, BTreeMap<String, String>, Vec<String>) {
    let vars = command_vars(&cmd);
    let args = command_args(&cmd);
    let what = describe(&cmd, &vars);
    let start = Instant::now();
    let Some(output) = run_bounded_unchecked(cmd, Duration::from_secs(30)) else {
        panic!("{what} did not finish within 30 s");
    };
    let run = Run {
        output,
        elapsed: start.elapsed(),
        what,
    };
    (run, vars, args)
}

/// The environment a command was given (all of it, for commands from [`TestEnv::command`],
/// which clears the rest).
fn command_vars(cmd: &Command) -> BTreeMap<String, String> {
    cmd.get_envs()
        .filter_map(|(k, v)| Some((k.to_str()?.to_owned(), v?.to_str()?.to_owned())))
        .collect()
}

/// The arguments a command was given, for the codes they pass (see [`leaks::codes_in_args`]).
fn command_args(cmd: &Command) -> Vec<String> {
    cmd.get_args()
        .map(|a| a.to_string_lossy().into_owned())
        .collect()
}

/// `program args…` for a report, with the secrets the harness knows of masked: some tests pass
/// keys as arguments (to boto3, say).
fn describe(cmd: &Command, vars: &BTreeMap<String, String>) -> String {
    let known = leaks::known(&started_fixtures(), vars, &command_args(cmd), "");
    let program = Path::new(cmd.get_program())
        .file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned();
    let args: Vec<String> = cmd
        .get_args()
        .map(|a| {
            let a = a.to_string_lossy();
            let a = leaks::redact(&a, &known);
            if a.len() > 120 {
                format!("{}…", a.chars().take(120).collect::<String>())
            } else {
                a
            }
        })
        .collect();
    format!("`{program} {}`", args.join(" "))
}

/// A tool a test needs from the machine (a shell, say), if it is there. A missing one is a
/// note on a developer's machine and a failure under CI (`CI=true`), where a quiet skip would
/// turn a whole test into a pass that proves nothing.
pub fn require_tool(name: &str) -> Option<PathBuf> {
    let file = format!("{name}{}", std::env::consts::EXE_SUFFIX);
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(&file))
            .find(|p| is_executable(p))
    });
    if found.is_none() {
        assert!(
            !std::env::var("CI").is_ok_and(|v| v == "true"),
            "`{name}` is not installed; CI must have it (see .ci/run)"
        );
        eprintln!(
            "note: `{name}` is not installed, so the part of this test that needs it is skipped (under CI=true it fails)"
        );
    }
    found
}

fn is_executable(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    path.is_file()
}

/// Parses `env -0` output into a map.
pub fn parse_env0(text: &[u8]) -> BTreeMap<String, String> {
    text.split(|b| *b == 0)
        .filter(|s| !s.is_empty())
        .filter_map(|entry| {
            let entry = String::from_utf8_lossy(entry);
            entry
                .split_once('=')
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
        })
        .collect()
}

/// A loopback HTTP stub for what moto does not do: MFA failures, odd answers, silence. It
/// answers every request with `status` and `body` (or never answers, with `status` 0), counts
/// the requests, and stops with the test binary.
pub struct Stub {
    pub url: String,
    pub requests: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl Stub {
    pub fn start(status: u16, body: &'static str) -> Self {
        use std::io::Write;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let requests = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = requests.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                read_request(&mut stream);
                if status == 0 {
                    // Silence: hold the connection open without answering.
                    std::thread::spawn(move || {
                        std::thread::sleep(Duration::from_mins(1));
                        drop(stream);
                    });
                    continue;
                }
                let reason = if status == 200 { "OK" } else { "Error" };
                let response = format!(
                    "HTTP/1.1 {status} {reason}\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(response.as_bytes());
            }
        });
        Self { url, requests }
    }

    pub fn count(&self) -> usize {
        self.requests.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// Reads one HTTP request from `stream`: the head, then the body its `Content-Length`
/// announces. For the loopback stubs, which answer once the request is in.
pub fn read_request(stream: &mut std::net::TcpStream) -> String {
    use std::io::Read;
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    while let Ok(n) = stream.read(&mut buf) {
        if n == 0 {
            break;
        }
        data.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&data);
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text[..end]
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                })
                .unwrap_or(0);
            if data.len() >= end + 4 + length {
                break;
            }
        }
    }
    String::from_utf8_lossy(&data).into_owned()
}

/// Waits for `child` at most `limit`; past that, kills and reaps it and fails, naming `what`.
#[track_caller]
pub fn wait_at_most(
    child: &mut std::process::Child,
    limit: Duration,
    what: &str,
) -> std::process::ExitStatus {
    let started = std::time::Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what} did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The lines of a child's stdout or stderr, read on a thread as they come, for a test that
/// waits for one (a readiness signal) instead of sleeping.
pub struct Lines {
    lines: std::sync::mpsc::Receiver<String>,
    seen: String,
}

impl Lines {
    pub fn new(stream: impl std::io::Read + Send + 'static) -> Self {
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Self {
            lines,
            seen: String::new(),
        }
    }

    /// Waits until a line containing `text` comes, for at most `limit`; fails otherwise,
    /// naming `what` and showing the lines so far. Returns the line.
    #[track_caller]
    pub fn wait_for(&mut self, text: &str, limit: Duration, what: &str) -> String {
        let deadline = Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push_str(&line);
                    self.seen.push('\n');
                    if line.contains(text) {
                        return line;
                    }
                }
                Err(e) => panic!(
                    "{what}: no line with `{text}` within {limit:?} ({e}); the lines so far:\n{}",
                    self.seen
                ),
            }
        }
    }

    /// All the lines, once the stream has ended (its writer exited); fails if it has not
    /// within `limit`, naming `what`.
    #[track_caller]
    pub fn all(mut self, limit: Duration, what: &str) -> String {
        let deadline = Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push_str(&line);
                    self.seen.push('\n');
                }
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return self.seen,
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => panic!(
                    "{what}: the stream did not end within {limit:?}; the lines so far:\n{}",
                    self.seen
                ),
            }
        }
    }
}
