//! Hostile files: hundreds of mutated config and credentials files, each run through `env`,
//! `list` and `credential-process`. Whatever the files hold, a run ends in bounded time, never
//! panics, never fails without saying why, and never shows a secret it read.
//!
//! The cases come from a fixed seed, so a failure reproduces: the report names each failing
//! case's seed. `ASSUME_ROLE_FUZZ_CASES` (default 500) and `ASSUME_ROLE_FUZZ_SEED` change the
//! run for a longer soak; `ASSUME_ROLE_FUZZ_CASE=SEED` runs one case again (the hex seed of the
//! report); `ASSUME_ROLE_FUZZ_REPRO=DIR` saves one failing case of each kind there.

use super::support::{self, Fixture, Keys, TestEnv};
use std::fmt::Write as _;
use std::path::Path;
use std::process::Output;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Secrets written into the files; none of them may reach stderr in any form.
const SECRETS: [&str; 4] = [
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYFUZZKEYAAA",
    "9drTJvcXLB89EXAMPLELB8923FB892xMFI/FUZZB",
    "Zq7u0Hh3+LmNoPqRsTuVwXyZ/aBcDeFgHiJkFUZZC",
    "IQoJb3JpZ2luX2VjEFUZZTOKENc2Vzc2lvbnRva2VuRlVaWg==",
];
const RUN_LIMIT: Duration = Duration::from_secs(10);
const WORKERS: usize = 3;

/// splitmix64: tiny, fast and good enough to pick mutations; no crate needed.
pub(super) struct Rng(pub(super) u64);

impl Rng {
    pub(super) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    pub(super) fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n as u64).unwrap()
    }

    pub(super) fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Fixture-shaped values for `standard_config`, without starting moto: nothing here may
/// reach a real STS.
fn fake_fixture() -> Fixture {
    let keys = |id: &str, secret: &str| Keys {
        access_key_id: id.into(),
        secret_access_key: secret.into(),
        arn: "arn:aws:iam::111111111111:user/fuzz".into(),
    };
    Fixture {
        endpoint: String::new(),
        proxy: String::new(),
        region: "eu-west-1".into(),
        contractor: keys("AKIAFUZZCONTRACTOR01", SECRETS[0]),
        outsider: keys("AKIAFUZZOUTSIDER0001", SECRETS[1]),
        client_role_arn: "arn:aws:iam::222222222222:role/client".into(),
        client_external_id: "fuzz-external-id".into(),
        second_role_arn: "arn:aws:iam::333333333333:role/second".into(),
        same_account_role_arn: "arn:aws:iam::111111111111:role/same".into(),
        same_account_external_id: "fuzz-same".into(),
        mfa_serial: "arn:aws:iam::111111111111:mfa/fuzz".into(),
        bucket: String::new(),
        contractor_bucket: String::new(),
    }
}

fn base_files() -> (Vec<u8>, Vec<u8>) {
    let fx = fake_fixture();
    let mut config = support::standard_config(&fx);
    let _ = write!(
        config,
        "\n[profile keys-in-config]\naws_access_key_id = AKIAFUZZINCONFIG0001\naws_secret_access_key = {}\nregion = us-east-1\n\n[profile chained-from-config]\nrole_arn = {}\nsource_profile = keys-in-config\nexternal_id = x\n",
        SECRETS[2], fx.client_role_arn
    );
    let credentials = format!(
        "[contractor]\naws_access_key_id = {}\naws_secret_access_key = {}\n\n[outsider]\naws_access_key_id = {}\naws_secret_access_key = {}\naws_session_token = {}\n",
        fx.contractor.access_key_id, SECRETS[0], fx.outsider.access_key_id, SECRETS[1], SECRETS[3]
    );
    (config.into_bytes(), credentials.into_bytes())
}

const PROFILES: &[&str] = &[
    "client-nomfa",
    "client",
    "second",
    "contractor",
    "outsider",
    "outsider-client",
    "keys-in-config",
    "chained-from-config",
    "same",
    "default",
    "no-such-profile",
];

/// Lines and fragments that mean something to the parser or to the resolver.
const TOKENS: &[&str] = &[
    "[",
    "]\n",
    "[profile ",
    "[profile client-nomfa]\n",
    "[default]\n",
    "[sso-session x]\n",
    "[services s]\n",
    "= value\n",
    "  continued = yes\n",
    "\tindented\n",
    "# comment = x\n",
    "; comment\n",
    "role_arn =\n",
    "source_profile = \n",
    "region = \u{202e}evil\n",
    "external_id = $(touch pwned)\n",
    "duration_seconds = 99999999999999999999\n",
    "duration_seconds = -1\n",
    "credential_source = Environment\n",
    "credential_source = Ec2InstanceMetadata\n",
    "role_session_name = a b c\n",
    "mfa_serial = \n",
];

/// Offsets of line starts, for mutations that work on whole lines.
fn line_starts(text: &[u8]) -> Vec<usize> {
    std::iter::once(0)
        .chain(
            text.iter()
                .enumerate()
                .filter(|(_, b)| **b == b'\n')
                .map(|(i, _)| i + 1),
        )
        .filter(|i| *i <= text.len())
        .collect()
}

/// One random change to `text`; returns its name, for the report. `profile` may be redirected
/// to a profile the mutation adds.
// One arm per kind of mutation: a table, read top to bottom, is clearer split up than not.
#[allow(clippy::too_many_lines)]
fn mutate(rng: &mut Rng, text: &mut Vec<u8>, profile: &mut String) -> &'static str {
    let at = |rng: &mut Rng, text: &Vec<u8>| rng.below(text.len() + 1);
    match rng.below(16) {
        0 => {
            let pos = at(rng, text);
            let bytes: Vec<u8> = (0..=rng.below(16))
                .map(|_| u8::try_from(rng.below(256)).unwrap())
                .collect();
            text.splice(pos..pos, bytes);
            "random bytes inserted"
        }
        1 => {
            for _ in 0..=rng.below(8) {
                if !text.is_empty() {
                    let pos = rng.below(text.len());
                    text[pos] = u8::try_from(rng.below(256)).unwrap();
                }
            }
            "random bytes replaced"
        }
        2 => {
            let pos = at(rng, text);
            text.truncate(pos);
            "truncated"
        }
        3 => {
            // A 100 KB value, on a line of its own or glued to an existing one.
            let starts = line_starts(text);
            let pos = *rng.pick(&starts);
            let line = format!(
                "{} = {}\n",
                rng.pick(&[
                    "region",
                    "role_arn",
                    "external_id",
                    "aws_secret_access_key",
                    "x"
                ]),
                rng.pick(&["A", "é", "=", "[", " "]).repeat(100_000)
            );
            text.splice(pos..pos, line.into_bytes());
            "huge value"
        }
        4 => {
            if rng.chance(50) {
                text.retain(|b| *b != b'=');
                "every `=` removed"
            } else {
                let equals: Vec<usize> = text
                    .iter()
                    .enumerate()
                    .filter(|(_, b)| **b == b'=')
                    .map(|(i, _)| i)
                    .collect();
                if !equals.is_empty() {
                    text.remove(equals[rng.below(equals.len())]);
                }
                "one `=` removed"
            }
        }
        5 => {
            // A copy of one section, appended or inserted before another.
            let starts: Vec<usize> = line_starts(text)
                .into_iter()
                .filter(|i| text.get(*i) == Some(&b'['))
                .collect();
            if starts.is_empty() {
                return "no section to duplicate";
            }
            let i = rng.below(starts.len());
            let end = starts.get(i + 1).copied().unwrap_or(text.len());
            let mut section = text[starts[i]..end].to_vec();
            if section.last() != Some(&b'\n') {
                section.push(b'\n');
            }
            if rng.chance(30) {
                // With a conflicting value in the copy.
                section.extend_from_slice(
                    b"region = us-west-2\nrole_arn = arn:aws:iam::444444444444:role/dup\n",
                );
            }
            let pos = if rng.chance(50) {
                text.len()
            } else {
                *rng.pick(&starts)
            };
            if pos == text.len() && text.last().is_some_and(|b| *b != b'\n') {
                text.push(b'\n');
            }
            let pos = pos.min(text.len());
            text.splice(pos..pos, section);
            "section duplicated"
        }
        6 => {
            let pos = at(rng, text);
            let choices: [&[u8]; 5] = [
                &[0xff],
                &[0xc3],
                &[0xfe, 0xff],
                &[0x80],
                &[0xed, 0xa0, 0x80],
            ];
            let bytes = *rng.pick(&choices);
            text.splice(pos..pos, bytes.iter().copied());
            "non-UTF-8 byte"
        }
        7 => {
            text.splice(0..0, [0xef, 0xbb, 0xbf]);
            "UTF-8 BOM"
        }
        8 => {
            let mut out = Vec::with_capacity(text.len() + 64);
            for b in text.iter() {
                if *b == b'\n' {
                    out.push(b'\r');
                }
                out.push(*b);
            }
            *text = out;
            "CRLF line ends"
        }
        9 => {
            for _ in 0..=rng.below(4) {
                let pos = at(rng, text);
                text.insert(pos, 0);
            }
            "NUL bytes"
        }
        10 => {
            text.clear();
            "emptied"
        }
        11 => {
            // A chain of role profiles that ends in keys, in a loop, or in nothing.
            let depth = if rng.chance(15) {
                1000 + rng.below(4000)
            } else {
                2 + rng.below(60)
            };
            let end = match rng.below(4) {
                0 => "contractor".to_owned(),
                1 => format!("chain-{}", rng.below(depth)),
                2 => "chain-0".to_owned(),
                _ => "missing-end".to_owned(),
            };
            let mut chain = String::new();
            for i in 0..depth {
                let source = if i + 1 == depth {
                    end.clone()
                } else {
                    format!("chain-{}", i + 1)
                };
                let _ = write!(
                    chain,
                    "\n[profile chain-{i}]\nrole_arn = arn:aws:iam::222222222222:role/c{i}\nsource_profile = {source}\n"
                );
            }
            text.extend_from_slice(chain.as_bytes());
            *profile = "chain-0".into();
            "source_profile chain"
        }
        12 => {
            // A profile that is its own source.
            text.extend_from_slice(b"\n[profile self]\nrole_arn = arn:aws:iam::222222222222:role/self\nsource_profile = self\n");
            *profile = "self".into();
            "source_profile self-loop"
        }
        13 => {
            let starts = line_starts(text);
            let i = rng.below(starts.len());
            let end = starts.get(i + 1).copied().unwrap_or(text.len());
            text.drain(starts[i]..end);
            "line deleted"
        }
        14 => {
            let starts = line_starts(text);
            let pos = *rng.pick(&starts);
            let token = *rng.pick(TOKENS);
            text.splice(pos..pos, token.bytes());
            "structural token"
        }
        _ => {
            // Two lines swapped: keys move to other sections.
            let starts = line_starts(text);
            let mut lines: Vec<Vec<u8>> = starts
                .iter()
                .enumerate()
                .map(|(i, s)| text[*s..starts.get(i + 1).copied().unwrap_or(text.len())].to_vec())
                .collect();
            let (a, b) = (rng.below(lines.len()), rng.below(lines.len()));
            lines.swap(a, b);
            *text = lines.concat();
            "lines swapped"
        }
    }
}

/// Lines that could start a program: a mutated file must never run anything, and a program
/// that waits would be a hang of the test, not of the tool.
fn without_processes(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    for line in text.split_inclusive(|b| *b == b'\n') {
        let lower = String::from_utf8_lossy(line).to_ascii_lowercase();
        if !lower.contains("process") {
            out.extend_from_slice(line);
        }
    }
    out
}

struct Case {
    seed: u64,
    config: Vec<u8>,
    credentials: Vec<u8>,
    profile: String,
    mutations: Vec<&'static str>,
}

fn make_case(seed: u64) -> Case {
    let mut rng = Rng(seed);
    let (mut config, mut credentials) = base_files();
    let mut profile = (*rng.pick(PROFILES)).to_owned();
    let mut mutations = Vec::new();
    for _ in 0..=rng.below(4) {
        let (name, text) = if rng.chance(50) {
            ("config", &mut config)
        } else {
            ("credentials", &mut credentials)
        };
        let what = mutate(&mut rng, text, &mut profile);
        mutations.push(if name == "config" {
            what
        } else {
            // Leaked into a 'static str once per kind, for the report.
            Box::leak(format!("credentials: {what}").into_boxed_str())
        });
    }
    Case {
        seed,
        config: without_processes(&config),
        credentials: without_processes(&credentials),
        profile,
        mutations,
    }
}

/// How `text` could show `secret`: as text, any 20 characters of it, or its bytes printed as
/// a list of numbers (what `{:?}` of a byte buffer gives).
fn shows_secret(text: &str, secret: &str) -> bool {
    let bytes = secret.as_bytes();
    bytes.windows(20.min(bytes.len())).any(|window| {
        let plain = std::str::from_utf8(window).unwrap();
        let numbers: Vec<String> = window.iter().map(u8::to_string).collect();
        text.contains(plain)
            || text.contains(&numbers.join(", "))
            || text.contains(&numbers.join(","))
    })
}

#[derive(Debug)]
struct Failure {
    seed: u64,
    command: String,
    class: &'static str,
    exit: String,
    first_line: String,
}

impl Failure {
    /// What tells failures apart: the class, the subcommand and the message's first words
    /// (the rest holds paths, offsets and values that differ from case to case).
    fn kind(&self) -> (&'static str, String, String) {
        let command = self.command.split(' ').next().unwrap_or_default();
        let words: Vec<&str> = self.first_line.split_whitespace().take(4).collect();
        (self.class, command.to_owned(), words.join(" "))
    }
}

fn check(case: &Case, args: &[&str], output: Option<Output>) -> Option<Failure> {
    let failure = |class, exit: String, stderr: &str| Failure {
        seed: case.seed,
        command: args.join(" "),
        class,
        exit,
        first_line: stderr
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or_default()
            .chars()
            .take(160)
            .collect(),
    };
    let Some(output) = output else {
        return Some(failure("hang", "killed".into(), ""));
    };
    let stderr = String::from_utf8_lossy(&output.stderr);
    let exit = output
        .status
        .code()
        .map_or_else(|| format!("{:?}", output.status), |c| c.to_string());
    if output.status.code() == Some(101) || stderr.contains("panicked") {
        return Some(failure("panic", exit, &stderr));
    }
    // The harness's panic check (`panicked at`, or the `RUST_BACKTRACE` note without it).
    if let Some(line) = support::leaks::panic_in(&stderr) {
        return Some(failure("panic", exit, line));
    }
    if output.status.code().is_none() {
        return Some(failure("killed by a signal", exit, &stderr));
    }
    if let Some(line) = stderr
        .lines()
        .find(|line| SECRETS.iter().any(|s| shows_secret(line, s)))
    {
        return Some(failure("secret on stderr", exit, line));
    }
    // The harness's own rule for what it knows and for key IDs of any shape; the report line
    // comes redacted.
    if let Some(leak) = support::leaks::find_leak(&known(), &[], &stderr) {
        return Some(failure("secret on stderr", exit, &leak.line));
    }
    // `env`, `list` and `credential-process` end with one of the tool's documented codes
    // (`src/error.rs`, `Exit`): 0, or 1 to 6; never another (`exec`'s 126 and 127 are not
    // theirs).
    if !output.status.code().is_some_and(|c| (0..=6).contains(&c)) {
        return Some(failure("unexpected exit code", exit, &stderr));
    }
    if !output.status.success() && stderr.trim().is_empty() {
        return Some(failure("silent failure", exit, &stderr));
    }
    None
}

/// What the fuzz files hold, for the harness's check (`support::leaks`): the secrets and the
/// access key IDs, which may show only masked. Not the harness's reading of the files, which
/// would take whatever mutated text stands where a key goes for a key.
fn known() -> Vec<support::leaks::Known> {
    use support::leaks::{Form, Known};
    let fx = fake_fixture();
    let secrets = SECRETS
        .iter()
        .map(|s| Known::new("a secret in the fuzz files", s, Form::Secret));
    let keys = [
        fx.contractor.access_key_id.as_str(),
        fx.outsider.access_key_id.as_str(),
        "AKIAFUZZINCONFIG0001",
    ]
    .into_iter()
    .map(|k| Known::new("an access key ID in the fuzz files", k, Form::AccessKey));
    secrets.chain(keys).flatten().collect()
}

fn save_repro(dir: &Path, failure: &Failure, case: &Case) {
    let name: String = failure
        .class
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let dir = dir.join(format!("{name}-{:016x}", case.seed));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("config"), &case.config).unwrap();
    std::fs::write(dir.join("credentials"), &case.credentials).unwrap();
    std::fs::write(
        dir.join("README"),
        format!(
            "command: assume-role {}\nexit: {}\nfirst stderr line: {}\nmutations: {}\nrun: AWS_CONFIG_FILE=config AWS_SHARED_CREDENTIALS_FILE=credentials AWS_ENDPOINT_URL=http://127.0.0.1:9 assume-role {}\n",
            failure.command,
            failure.exit,
            failure.first_line,
            case.mutations.join(", "),
            failure.command
        ),
    )
    .unwrap();
}

/// A loopback port nothing listens on: STS calls fail at once, and no packet leaves the host.
pub(super) fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[test]
fn mutated_config_and_credentials_never_panic_hang_fail_silently_or_leak() {
    let cases: usize = std::env::var("ASSUME_ROLE_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500);
    let base_seed: u64 = std::env::var("ASSUME_ROLE_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x00a5_5e55_f022);
    let repro_dir = std::env::var_os("ASSUME_ROLE_FUZZ_REPRO").map(std::path::PathBuf::from);
    let endpoint = format!("http://127.0.0.1:{}", closed_port());
    let start = Instant::now();
    let next = AtomicUsize::new(0);
    let runs = AtomicUsize::new(0);
    let failures: Mutex<Vec<Failure>> = Mutex::new(Vec::new());
    let saved: Mutex<std::collections::BTreeSet<(&'static str, String, String)>> = Mutex::default();
    // One case alone, by the seed a report names.
    let only: Option<u64> = std::env::var("ASSUME_ROLE_FUZZ_CASE")
        .ok()
        .and_then(|v| u64::from_str_radix(v.trim_start_matches("0x"), 16).ok());
    let cases = if only.is_some() { 1 } else { cases };

    std::thread::scope(|scope| {
        for _ in 0..WORKERS {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    if i >= cases {
                        break;
                    }
                    let seed = only.unwrap_or_else(|| Rng(base_seed.wrapping_add(i as u64)).next());
                    let case = make_case(seed);
                    let mut env = TestEnv::new();
                    env.set("AWS_ENDPOINT_URL", &endpoint);
                    let cache = env.dir.path().join("cache");
                    env.set("ASSUME_ROLE_CACHE_DIR", cache.to_str().unwrap());
                    std::fs::write(env.config_path(), &case.config).unwrap();
                    std::fs::write(&env.vars["AWS_SHARED_CREDENTIALS_FILE"], &case.credentials)
                        .unwrap();
                    for args in [
                        vec!["env", case.profile.as_str()],
                        vec!["list"],
                        vec!["credential-process", case.profile.as_str()],
                    ] {
                        runs.fetch_add(1, Ordering::SeqCst);
                        // Not the harness's own check, which would read the mutated files for
                        // keys: `check` holds the run to its rules (panics, secrets, key IDs,
                        // exit codes) with what the fuzz test knows the files hold.
                        let output = support::run_bounded_unchecked(env.bin(&args), RUN_LIMIT);
                        if let Some(failure) = check(&case, &args, output) {
                            if let Some(dir) = &repro_dir
                                && saved.lock().unwrap().insert(failure.kind())
                            {
                                save_repro(dir, &failure, &case);
                            }
                            failures.lock().unwrap().push(failure);
                        }
                    }
                }
            });
        }
    });

    let failures = failures.into_inner().unwrap();
    let elapsed = start.elapsed();
    let mut by_class = std::collections::BTreeMap::<&str, usize>::new();
    for failure in &failures {
        *by_class.entry(failure.class).or_default() += 1;
    }
    eprintln!(
        "fuzz: {cases} cases, {} runs in {:.1} s ({WORKERS} workers, seed {base_seed:#x}): {} failures {by_class:?}",
        runs.load(Ordering::SeqCst),
        elapsed.as_secs_f64(),
        failures.len()
    );
    // Up to three examples of each class, command and kind of message (its first words), so
    // that a rare failure is not buried under a common one.
    let mut shown = std::collections::BTreeMap::<_, usize>::new();
    for f in &failures {
        let count = shown.entry(f.kind()).or_default();
        *count += 1;
        if *count <= 3 {
            eprintln!(
                "  seed {:#018x}  {:<40}  {:<18}  exit {:<4}  {}",
                f.seed, f.command, f.class, f.exit, f.first_line
            );
        }
    }
    assert!(
        failures.is_empty(),
        "{} fuzz failures (report above)",
        failures.len()
    );
}
