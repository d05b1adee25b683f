//! The documentation as tests (`cargo test --test docs`):
//!
//! - every ```` ```console ```` block in the book (`docs/src`) and the README runs: each `$ `
//!   line is an `assume-role` command, run by the real binary in a hermetic environment against
//!   moto on loopback (the harness of `tests/cli`), and what it prints (stdout and stderr, as
//!   one stream) must match the lines under it. The format is trycmd's: `? N` after the
//!   command is its exit code (default 0), `[..]` in a line matches any text, and a line of
//!   `...` any lines. A block that cannot run here is ```` ```console,ignore ```` with a
//!   `<!-- not run: reason -->` line right above it;
//! - the environment variables on the settings page are the table in `src/env_vars.rs`, and
//!   its settings table has the keys `src/settings.rs` accepts, in order;
//! - every relative link in the book leads to a file, and to a heading in it;
//! - every command has a page, and its `--help` ends with examples;
//! - the manual page has its sections and every variable.
//!
//! `DOCS_REGENERATE=1 cargo test --test docs` rewrites the generated part of the settings page.

// The harness reads its own environment (where python is, `CI`): the rule that the
// environment is read in one module (clippy.toml) is the tool's, not its test driver's.
#![allow(clippy::disallowed_methods)]
// The shared harness sets up pseudo-terminals and detaches from the terminal with libc.
#![allow(unsafe_code)]

#[path = "cli/support/mod.rs"]
mod support;

use assume_role::env_vars::{Kind, VARS};
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Every page of the book, and the README.
fn documents() -> Vec<PathBuf> {
    let mut pages = Vec::new();
    let mut dirs = vec![root().join("docs/src")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "md") {
                pages.push(path);
            }
        }
    }
    pages.sort();
    pages.push(root().join("README.md"));
    pages
}

fn relative(path: &Path) -> String {
    path.strip_prefix(root())
        .unwrap_or(path)
        .display()
        .to_string()
}

// ---------------------------------------------------------------------------------------------
// Examples

/// One `$ ` command of a console block, with what it must print and exit with.
#[derive(Debug)]
struct Example {
    line: usize,
    vars: Vec<(String, String)>,
    args: Vec<String>,
    status: i32,
    expected: String,
    /// The expected output's lines in the page (0-based, end exclusive), for `DOCS_REGENERATE`.
    lines: (usize, usize),
}

/// The console blocks of a page, as examples; and the problems of its blocks' form.
fn examples(text: &str) -> (Vec<Example>, Vec<String>) {
    let lines: Vec<&str> = text.lines().collect();
    let mut examples = Vec::new();
    let mut problems = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let Some(info) = line.strip_prefix("```") else {
            i += 1;
            continue;
        };
        let info = info.trim();
        let mut end = i + 1;
        while end < lines.len() && !lines[end].starts_with("```") {
            end += 1;
        }
        let body = &lines[i + 1..end.min(lines.len())];
        let mut parts = info.split(',');
        if parts.next() == Some("console") {
            if parts.any(|p| p == "ignore") {
                let reason = i
                    .checked_sub(1)
                    .map(|prev| lines[prev].trim())
                    .filter(|prev| prev.starts_with("<!-- not run:") && prev.ends_with("-->"));
                if reason.is_none() {
                    problems.push(format!(
                        "line {}: a console,ignore block needs `<!-- not run: reason -->` on the line above",
                        i + 1
                    ));
                }
            } else {
                parse_block(body, i + 2, &mut examples, &mut problems);
            }
        }
        i = end + 1;
    }
    (examples, problems)
}

fn parse_block(body: &[&str], first: usize, out: &mut Vec<Example>, problems: &mut Vec<String>) {
    let mut j = 0;
    while j < body.len() {
        let Some(command) = body[j].strip_prefix("$ ") else {
            problems.push(format!(
                "line {}: expected a `$ ` command, found {:?}",
                first + j,
                body[j]
            ));
            return;
        };
        let line = first + j;
        let mut words: Vec<String> = shlex::split(command).unwrap_or_default();
        j += 1;
        while j < body.len() {
            if let Some(more) = body[j].strip_prefix("> ") {
                words.extend(shlex::split(more).unwrap_or_default());
                j += 1;
            } else {
                break;
            }
        }
        let mut status = 0;
        if let Some(code) = body.get(j).and_then(|l| l.strip_prefix("? ")) {
            status = code.trim().parse().unwrap_or_else(|_| {
                problems.push(format!(
                    "line {}: `? {code}` is not an exit code",
                    first + j
                ));
                0
            });
            j += 1;
        }
        let mut expected = Vec::new();
        let expected_from = first - 1 + j;
        while j < body.len() && !body[j].starts_with("$ ") {
            expected.push(body[j]);
            j += 1;
        }
        let mut vars = Vec::new();
        while words.first().is_some_and(|w| w.contains('=')) {
            let word = words.remove(0);
            let (k, v) = word.split_once('=').unwrap();
            vars.push((k.to_owned(), v.to_owned()));
        }
        if words.first().map(String::as_str) != Some("assume-role") {
            problems.push(format!(
                "line {line}: a console block runs `assume-role` only (write other shells' lines as ```sh)"
            ));
            continue;
        }
        words.remove(0);
        out.push(Example {
            line,
            vars,
            args: words,
            status,
            expected: expected.join("\n"),
            lines: (expected_from, first - 1 + j),
        });
    }
}

/// Whether `actual` matches `expected`, where `[..]` in a line matches any text and a line of
/// `...` any lines (trycmd's rules).
fn matches(expected: &str, actual: &str) -> bool {
    let expected: Vec<&str> = expected.lines().collect();
    let actual: Vec<&str> = actual.lines().collect();
    lines_match(&expected, &actual)
}

fn lines_match(expected: &[&str], actual: &[&str]) -> bool {
    match expected.split_first() {
        None => actual.is_empty(),
        Some((&"...", rest)) => (0..=actual.len()).any(|skip| lines_match(rest, &actual[skip..])),
        Some((line, rest)) => actual
            .split_first()
            .is_some_and(|(a, more)| line_matches(line, a) && lines_match(rest, more)),
    }
}

fn line_matches(pattern: &str, line: &str) -> bool {
    let mut parts = pattern.split("[..]");
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = line.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    for (n, part) in parts.iter().enumerate() {
        if n + 1 == parts.len() {
            return rest.ends_with(part);
        }
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.is_empty()
}

/// The profiles every example runs with: the getting-started page shows this file as it is
/// (the test checks), and the credentials file holds moto's keys for `contractor`.
const CONFIG: &str = "\
[profile contractor]
region = eu-west-1

[profile client-prod]
role_arn = arn:aws:iam::222222222222:role/client-admin
source_profile = contractor
external_id = 9f1c2e7a-client-prod
mfa_serial = arn:aws:iam::111111111111:mfa/contractor
region = eu-central-1

[profile client-prod-readonly]
role_arn = arn:aws:iam::222222222222:role/client-second
source_profile = client-prod
";

/// A hermetic environment for one page: moto (checks off, so that MFA sessions work), the
/// profiles above, the user `alice`.
fn page_env() -> support::TestEnv {
    let fx = support::moto_checks_off();
    let mut env = support::TestEnv::new();
    env.set("AWS_ENDPOINT_URL", &fx.proxy);
    env.set("USER", "alice");
    // The platform's own cache directory, so that messages show the path a user sees (on
    // Linux, where `XDG_CACHE_HOME` decides it; elsewhere the harness's stays).
    if cfg!(target_os = "linux") {
        env.remove("ASSUME_ROLE_CACHE_DIR");
    }
    env.write_config(CONFIG);
    env.write_credentials(&format!(
        "[contractor]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
        fx.contractor.access_key_id, fx.contractor.secret_access_key
    ));
    // Private, as `aws configure` leaves them (else `doctor` says so).
    #[cfg(unix)]
    for file in ["AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"] {
        use std::os::unix::fs::PermissionsExt;
        let private = std::fs::Permissions::from_mode(0o600);
        std::fs::set_permissions(&env.vars[file], private).unwrap();
    }
    env
}

/// Runs one example: stdout and stderr into one pipe, as a terminal shows them, with the home
/// directory shown as `~`.
fn run(env: &support::TestEnv, example: &Example) -> (i32, String) {
    let mut cmd = env.bin(&example.args.iter().map(String::as_str).collect::<Vec<_>>());
    for (k, v) in &example.vars {
        cmd.env(k, v);
    }
    let (mut reader, writer) = std::io::pipe().unwrap();
    cmd.stdout(writer.try_clone().unwrap()).stderr(writer);
    let mut child = cmd.spawn().unwrap();
    drop(cmd);
    let output = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = reader.read_to_end(&mut bytes);
        bytes
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("line {}: still running after 30 s", example.line);
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let text = String::from_utf8_lossy(&output.join().unwrap()).into_owned();
    let mut text = text;
    let root = env.dir.path();
    for (dir, shown) in [
        ("xdg/cache", "~/.cache"),
        ("xdg/config", "~/.config"),
        ("xdg/data", "~/.local/share"),
        ("xdg/state", "~/.local/state"),
        ("home", "~"),
    ] {
        text = text.replace(&root.join(dir).display().to_string(), shown);
    }
    (status.code().unwrap_or(-1), text)
}

#[test]
fn every_console_example_runs_and_prints_what_the_page_shows() {
    let mut failures = Vec::new();
    let mut ran = 0;
    for page in documents() {
        let text = std::fs::read_to_string(&page).unwrap();
        let (examples, problems) = examples(&text);
        for problem in problems {
            failures.push(format!("{}: {problem}", relative(&page)));
        }
        if examples.is_empty() {
            continue;
        }
        let env = page_env();
        let mut rewrites = Vec::new();
        for example in &examples {
            let (status, actual) = run(&env, example);
            ran += 1;
            let actual = actual.trim_end_matches('\n');
            if status == example.status
                && !matches(&example.expected, actual)
                && std::env::var_os("DOCS_REGENERATE").is_some()
            {
                // A starting point for a changed example: the actual output, to be edited where
                // it varies from run to run (times, keys) into `[..]`.
                rewrites.push((example.lines, actual.to_owned()));
                continue;
            }
            if status != example.status || !matches(&example.expected, actual) {
                failures.push(format!(
                    "{}:{}: `assume-role {}` exited {status} (the page says {}) and printed:\n{actual}\n--- the page shows:\n{}\n",
                    relative(&page),
                    example.line,
                    example.args.join(" "),
                    example.status,
                    example.expected
                ));
            }
        }
        if !rewrites.is_empty() {
            let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
            for ((from, to), actual) in rewrites.into_iter().rev() {
                let new: Vec<String> = if actual.is_empty() {
                    Vec::new()
                } else {
                    actual.lines().map(str::to_owned).collect()
                };
                lines.splice(from..to, new);
            }
            std::fs::write(&page, lines.join("\n") + "\n").unwrap();
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
    assert!(ran >= 20, "only {ran} examples ran");
}

#[test]
fn the_getting_started_page_shows_the_config_the_examples_run_with() {
    let page = std::fs::read_to_string(root().join("docs/src/getting-started.md")).unwrap();
    assert!(
        page.contains(&format!("```ini\n{CONFIG}```")),
        "docs/src/getting-started.md must show tests/docs.rs's CONFIG as an ```ini block"
    );
}

#[test]
fn the_matcher_follows_trycmds_rules() {
    assert!(matches("a [..] c", "a b c"));
    assert!(matches("a\n...\nd", "a\nb\nc\nd"));
    assert!(matches("a\n...", "a"));
    assert!(!matches("a b", "a c"));
    assert!(!matches("a", "a\nb"));
    assert!(matches("[..]=[..]", "k=v"));
    assert!(!matches("x[..]", "y"));
}

#[test]
fn a_changed_example_fails() {
    let env = page_env();
    let page = "```console\n$ assume-role list --json\n[]\n```\n";
    let (examples, problems) = examples(page);
    assert!(problems.is_empty());
    let (status, actual) = run(&env, &examples[0]);
    assert_eq!(status, 0);
    assert!(
        !matches(&examples[0].expected, actual.trim_end()),
        "{actual}"
    );
}

// ---------------------------------------------------------------------------------------------
// Generated reference

const BEGIN: &str = "<!-- generated from src/env_vars.rs by tests/docs.rs: DOCS_REGENERATE=1 cargo test --test docs -->";
const END: &str = "<!-- end of generated part -->";

/// The variables, as the settings page shows them.
fn env_table() -> String {
    let mut out = String::new();
    for (kind, heading) in Kind::ALL {
        let _ = write!(
            out,
            "\n### {}{}\n\n| variable | what it does |\n|---|---|\n",
            heading[..1].to_uppercase(),
            &heading[1..]
        );
        for var in VARS.iter().filter(|v| v.kind == *kind) {
            let _ = writeln!(out, "| `{}` | {} |", var.name, var.doc.replace('|', "\\|"));
        }
    }
    out.push('\n');
    out
}

#[test]
fn the_settings_page_lists_every_variable_from_the_declaration() {
    let path = root().join("docs/src/reference/settings.md");
    let page = std::fs::read_to_string(&path).unwrap();
    let start = page.find(BEGIN).expect("the page has the generated marker") + BEGIN.len();
    let end = page.find(END).expect("the page has the end marker");
    let wanted = env_table();
    if page[start..end] != wanted {
        if std::env::var_os("DOCS_REGENERATE").is_some() {
            let new = format!("{}{wanted}{}", &page[..start], &page[end..]);
            std::fs::write(&path, new).unwrap();
        } else {
            panic!(
                "docs/src/reference/settings.md's variables differ from src/env_vars.rs; run `DOCS_REGENERATE=1 cargo test --test docs`"
            );
        }
    }
}

#[test]
fn every_variable_constant_is_declared_in_the_table() {
    let source = std::fs::read_to_string(root().join("src/env_vars.rs")).unwrap();
    let declared: BTreeSet<&str> = VARS.iter().map(|v| v.name).collect();
    assert_eq!(declared.len(), VARS.len(), "a variable is declared twice");
    for line in source.lines() {
        let Some(rest) = line.strip_prefix("pub const ") else {
            continue;
        };
        let Some((_, value)) = rest.split_once(": &str = \"") else {
            continue;
        };
        let value = value.trim_end_matches("\";");
        assert!(
            declared.contains(value),
            "`{value}` is a constant of src/env_vars.rs but not in VARS"
        );
    }
    for name in assume_role::env_vars::SCRUBBED
        .iter()
        .chain(assume_role::env_vars::SESSION_VARIABLES)
    {
        assert!(declared.contains(name), "`{name}` is not in VARS");
    }
}

#[test]
fn the_settings_page_has_every_key_the_settings_file_takes() {
    let page = std::fs::read_to_string(root().join("docs/src/reference/settings.md")).unwrap();
    let settings = &page[..page
        .find("## Environment variables")
        .expect("the page's heading")];
    let keys: Vec<&str> = settings
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split_once('`').map(|(key, _)| key))
        .filter(|key| key.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
        .collect();
    assert_eq!(keys, assume_role::settings::KEYS);
}

// ---------------------------------------------------------------------------------------------
// Links, pages, help and the manual

/// mdBook's heading ids: lower case, spaces to `-`, only letters, digits, `-` and `_` kept.
fn heading_id(heading: &str) -> String {
    heading
        .trim()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c.to_ascii_lowercase()),
            _ => None,
        })
        .collect()
}

fn headings(text: &str) -> BTreeSet<String> {
    let mut in_code = false;
    let mut ids = BTreeSet::new();
    for line in text.lines() {
        if line.starts_with("```") {
            in_code = !in_code;
        } else if !in_code && line.starts_with('#') {
            ids.insert(heading_id(line.trim_start_matches('#')));
        }
    }
    ids
}

/// `](target)` links outside code blocks and spans.
fn links(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut in_code = false;
    for (n, line) in text.lines().enumerate() {
        if line.starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if in_code {
            continue;
        }
        // Code spans hold no links.
        let prose: String = line.split('`').step_by(2).collect::<Vec<_>>().join(" ");
        let mut rest = prose.as_str();
        while let Some(at) = rest.find("](") {
            rest = &rest[at + 2..];
            if let Some(close) = rest.find(')') {
                out.push((n + 1, rest[..close].to_owned()));
                rest = &rest[close..];
            }
        }
    }
    out
}

#[test]
fn every_relative_link_in_the_book_leads_to_a_page_and_a_heading() {
    let mut broken = Vec::new();
    for page in documents() {
        let text = std::fs::read_to_string(&page).unwrap();
        for (line, target) in links(&text) {
            if target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            let (file, anchor) = target.split_once('#').unwrap_or((&target, ""));
            let dest = if file.is_empty() {
                page.clone()
            } else {
                page.parent().unwrap().join(file)
            };
            if !dest.is_file() {
                broken.push(format!(
                    "{}:{line}: `{target}`: no such file",
                    relative(&page)
                ));
                continue;
            }
            if !anchor.is_empty()
                && dest.extension().is_some_and(|e| e == "md")
                && !headings(&std::fs::read_to_string(&dest).unwrap()).contains(anchor)
            {
                broken.push(format!(
                    "{}:{line}: `{target}`: no such heading",
                    relative(&page)
                ));
            }
        }
    }
    assert!(broken.is_empty(), "\n{}", broken.join("\n"));
}

/// Every command, with its path (`keys add`), leaves only.
fn commands() -> Vec<(String, clap::Command)> {
    use clap::CommandFactory;
    fn walk(prefix: &str, cmd: &clap::Command, out: &mut Vec<(String, clap::Command)>) {
        for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
            let name = format!("{prefix}{}", sub.get_name());
            if sub.has_subcommands() {
                walk(&format!("{name} "), sub, out);
            } else {
                out.push((name, sub.clone()));
            }
        }
    }
    // Built: the subcommands' arguments and nested commands are deferred until then.
    let mut cmd = assume_role::cli::Cli::command();
    cmd.build();
    let mut out = Vec::new();
    walk("", &cmd, &mut out);
    out
}

/// Commands whose examples their owner is adding: each is named here, and a test fails once it
/// has them, so that the entry goes.
const EXAMPLES_PENDING: &[&str] = &[];

#[test]
fn every_command_has_a_page_and_its_help_ends_with_examples() {
    let mut missing = Vec::new();
    for (name, cmd) in commands() {
        let group = name.split(' ').next().unwrap();
        let page = root().join(format!("docs/src/commands/{group}.md"));
        if !page.is_file() {
            missing.push(format!("`{name}`: no docs/src/commands/{group}.md"));
        }
        let help = cmd.get_after_help().map(ToString::to_string);
        let has = help.is_some_and(|h| h.contains("Example") || h.contains("Setup"));
        match (has, EXAMPLES_PENDING.contains(&name.as_str())) {
            (false, false) => missing.push(format!("`{name} --help` ends with no examples")),
            (true, true) => missing.push(format!(
                "`{name} --help` has examples now: take it out of EXAMPLES_PENDING"
            )),
            _ => {}
        }
    }
    assert!(missing.is_empty(), "\n{}", missing.join("\n"));
}

#[test]
fn the_manual_page_has_its_sections_every_variable_and_no_missing_page() {
    let out = std::process::Command::new(support::BIN)
        .arg("man")
        .output()
        .unwrap();
    assert!(out.status.success());
    let page = String::from_utf8(out.stdout).unwrap();
    for section in [
        ".SH NAME",
        ".SH SYNOPSIS",
        ".SH COMMANDS",
        ".SH \"EXIT STATUS\"",
        ".SH ENVIRONMENT",
        ".SH FILES",
        ".SH EXAMPLES",
        ".SH \"SEE ALSO\"",
    ] {
        assert!(page.contains(section), "no `{section}`");
    }
    for var in VARS {
        let roff = var.name.replace('-', "\\-");
        assert!(page.contains(&roff), "`{}` is not in the manual", var.name);
    }
    assert!(
        !page.contains("(1)"),
        "the manual names a page: only assume-role(1) exists"
    );
    for (name, _) in commands() {
        let heading = format!(".SS \"assume\\-role {}\"", name.replace('-', "\\-"));
        assert!(page.contains(&heading), "no subsection for `{name}`");
    }
}
