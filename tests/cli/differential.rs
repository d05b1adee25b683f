//! The same config means the same thing (issue 8): generated configs, each role profile
//! resolved by botocore and by assume-role against one moto, and the STS calls compared hop
//! by hop (`support/differential.py` generates, runs both sides and compares).
//!
//! The test fails on any class of disagreement not in [`DOCUMENTED`]. The run is fixed by a
//! seed; `ASSUME_ROLE_DIFF_CASES` (default 300) and `ASSUME_ROLE_DIFF_SEED` (default 8) change
//! it, and `ASSUME_ROLE_DIFF_REPRO=DIR` saves one example of each class there.

use super::support;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

/// The features whose disagreements are decided and documented, each in the README's
/// "Differences from the AWS CLI" with its reason. A class (`<cause feature> => <what
/// differed>`) is documented when its cause feature starts with one of these. Anything else
/// fails the test: a new difference is a decision to make, never an accident.
const DOCUMENTED: &[(&str, &str)] = &[
    (
        "colon_delimiter",
        "`key: value` is an error that names the line and the fix",
    ),
    (
        "indented_first_key",
        "an indented first key is an error that names the line and the fix",
    ),
    (
        "section_quoted",
        "`[profile \"x\"]` is ignored by the SDK parser, with a warning",
    ),
    ("section_padding", "`[ profile  x ]` is read as `x`"),
    (
        "duplicate_section",
        "two sections of one name are merged, with a warning",
    ),
    (
        "duplicate_key",
        "a key set twice: the later wins, with a warning",
    ),
    (
        "inline_comment",
        "an inline comment is not part of the value",
    ),
    (
        "source:default_config_both",
        "`[profile default]` wins over `[default]`",
    ),
    (
        "source:keys_split",
        "keys split across the two files are merged",
    ),
    (
        "source:source_with_credential_source",
        "a source with only `credential_source` works",
    ),
    (
        "odd_duration",
        "`duration_seconds` forms, checked before STS",
    ),
    ("mfa_two_hops", "one `--mfa-token` cannot serve two hops"),
];

fn documented(class: &str) -> bool {
    DOCUMENTED
        .iter()
        .any(|(feature, _)| class.starts_with(feature))
}

#[derive(Debug, Deserialize)]
struct Report {
    seed: u64,
    configs: usize,
    hop_runs: usize,
    agreed: usize,
    agreement_rate: f64,
    both_error: usize,
    mfa_session_normalised_configs: usize,
    seconds: f64,
    classes: BTreeMap<String, Class>,
}

#[derive(Debug, Deserialize)]
struct Class {
    count: usize,
    example: Example,
}

#[derive(Debug, Deserialize)]
struct Example {
    case: usize,
    features: Vec<String>,
    profile: String,
    config: String,
    credentials: String,
    env: BTreeMap<String, String>,
    botocore: Side,
    ours: Side,
}

#[derive(Debug, Deserialize)]
struct Side {
    error: Option<String>,
    calls: Vec<BTreeMap<String, Option<String>>>,
}

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

fn calls(side: &Side) -> String {
    if let Some(error) = &side.error {
        return format!("error: {error}");
    }
    let hops: Vec<String> = side
        .calls
        .iter()
        .map(|call| {
            let fields: Vec<String> = call
                .iter()
                .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={v}")))
                .collect();
            fields.join(" ")
        })
        .collect();
    hops.join("\n      ")
}

fn describe(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "differential (seed {}): {} configs, {} hop-runs, {} agree ({:.1}%), {} where both refuse; \
         MFA session route normalised in {} configs; {:.0}s",
        report.seed,
        report.configs,
        report.hop_runs,
        report.agreed,
        100.0 * report.agreement_rate,
        report.both_error,
        report.mfa_session_normalised_configs,
        report.seconds,
    );
    let mut classes: Vec<(&String, &Class)> = report.classes.iter().collect();
    classes.sort_by(|a, b| b.1.count.cmp(&a.1.count).then(a.0.cmp(b.0)));
    for (name, class) in classes {
        let ex = &class.example;
        let documented = if documented(name) {
            " (documented)"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "\n{:4}  {name}{documented}\n  case {} ({}), profile `{}`",
            class.count,
            ex.case,
            ex.features.join(", "),
            ex.profile
        );
        for (file, text) in [("config", &ex.config), ("credentials", &ex.credentials)] {
            if !text.is_empty() {
                let _ = writeln!(
                    out,
                    "  --- {file}\n    {}",
                    text.trim_end().replace('\n', "\n    ")
                );
            }
        }
        if !ex.env.is_empty() {
            let names: Vec<&String> = ex.env.keys().collect();
            let _ = writeln!(out, "  --- environment: {names:?}");
        }
        let _ = writeln!(out, "  botocore: {}", calls(&ex.botocore));
        let _ = writeln!(out, "  ours:     {}", calls(&ex.ours));
    }
    out
}

#[test]
fn every_role_profile_sends_what_botocore_sends() {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cli/support/differential.py");
    let mut cmd = Command::new(support::python());
    cmd.arg(script)
        .args(["--bin", support::BIN])
        .args(["--cases", &env_or("ASSUME_ROLE_DIFF_CASES", "300")])
        .args(["--seed", &env_or("ASSUME_ROLE_DIFF_SEED", "8")])
        .stdin(Stdio::null())
        .stderr(Stdio::inherit());
    if let Ok(dir) = std::env::var("ASSUME_ROLE_DIFF_REPRO") {
        cmd.args(["--repro-dir", &dir]);
    }
    let output = cmd.output().expect("run differential.py");
    assert!(
        output.status.success(),
        "differential.py failed: {}",
        output.status
    );
    let report: Report = serde_json::from_slice(&output.stdout).expect("the driver's JSON report");
    let text = describe(&report);
    println!("{text}");

    let undecided: Vec<&String> = report
        .classes
        .keys()
        .filter(|name| !documented(name))
        .collect();
    assert!(
        undecided.is_empty(),
        "{} classes of disagreement with botocore are not documented: {undecided:#?}\n{text}",
        undecided.len()
    );
}
