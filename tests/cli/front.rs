//! The two programs (src/commands/front.rs): `assume-role`, a small front that serves a warm
//! `env`, `credential-process` and `prompt` itself, and `assume-role-full`, to which it hands
//! every other command line. What a user sees must not depend on which one answered.

#![cfg(unix)]

use super::*;
use crate::support::{BIN, Run};
use std::path::{Path, PathBuf};

/// `assume-role-full`, as cargo built it beside `assume-role`.
fn full_program() -> PathBuf {
    Path::new(BIN).with_file_name("assume-role-full")
}

/// A moto env with its own audit log, and a cached session for `name` (one cold run).
fn warm_env(name: &str) -> TestEnv {
    let mut env = TestEnv::with_moto();
    let dir = env.dir.path().join("front-state");
    env.set("ASSUME_ROLE_STATE_DIR", &dir.to_string_lossy());
    cache_profile(&env, name, "");
    env.run(&["env", name]).ok();
    env
}

/// The audit log's records, each without its time.
fn records(env: &TestEnv) -> Vec<serde_json::Value> {
    let path = Path::new(&env.vars["ASSUME_ROLE_STATE_DIR"]).join("audit.jsonl");
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|line| {
            let mut record: serde_json::Value = serde_json::from_str(line).unwrap();
            record.as_object_mut().unwrap().remove("time");
            record
        })
        .collect()
}

fn run_with(env: &TestEnv, program: &Path, args: &[&str]) -> Run {
    let mut cmd = env.command(program);
    cmd.args(args);
    env.run_command(cmd)
}

#[test]
fn a_warm_call_prints_and_records_the_same_from_the_front_and_the_whole_program() {
    let env = warm_env("front-same");
    let calls: [&[&str]; 6] = [
        &["env", "front-same"],
        &["env", "front-same", "--format", "fish"],
        &["env", "--format=json", "front-same"],
        &["env", "-f", "powershell", "front-same"],
        &["credential-process", "front-same"],
        &["prompt"],
    ];
    for args in calls {
        let before = records(&env).len();
        let front = env.run(args);
        let front_records = records(&env)[before..].to_vec();
        let full = run_with(&env, &full_program(), args);
        let full_records = records(&env)[before + front_records.len()..].to_vec();
        assert_eq!(front.code(), full.code(), "{args:?}");
        assert_eq!(front.stdout(), full.stdout(), "{args:?}");
        assert_eq!(front.stderr(), full.stderr(), "{args:?}");
        assert_eq!(front_records, full_records, "{args:?}");
    }
    // `prompt` inside a session, and `--status` outside one (exit 1, with its hints).
    let mut inside = env.command(BIN);
    inside
        .args(["prompt", "--format", "{profile}"])
        .env("ASSUME_ROLE_PROFILE", "front-same");
    assert_eq!(env.run_command(inside).ok(), "front-same\n");
    let front = env.run(&["prompt", "--status"]);
    let full = run_with(&env, &full_program(), &["prompt", "--status"]);
    assert_eq!((front.code(), front.stderr()), (full.code(), full.stderr()));
    assert_eq!(front.code(), Some(1));
    assert!(front.stderr().contains("hint:"), "{}", front.stderr());
    // One STS call in all: the cold run above.
    assert_eq!(count_assume_roles("front-same"), 1);
}

#[test]
fn the_front_alone_serves_a_warm_session_and_says_how_to_fix_a_missing_whole_program() {
    let env = warm_env("front-alone");
    // The front copied where `assume-role-full` is not.
    let alone = env.dir.path().join("alone");
    std::fs::create_dir_all(&alone).unwrap();
    let front = alone.join("assume-role");
    std::fs::copy(BIN, &front).unwrap();

    let warm = run_with(&env, &front, &["env", "front-alone", "--format", "json"]);
    let vars: BTreeMap<String, String> = serde_json::from_str(&warm.ok()).unwrap();
    assert!(vars["AWS_ACCESS_KEY_ID"].starts_with("ASIA"), "{vars:?}");
    let process = run_with(&env, &front, &["credential-process", "front-alone"]);
    assert!(process.ok().contains("\"Version\":1"));

    // A cache miss, another flag, another command: all need the whole program.
    for args in [
        &["env", "front-alone", "--no-cache"][..],
        &["env", "front-cold"],
        &["list"],
        &["--version"],
    ] {
        let run = run_with(&env, &front, args);
        assert_eq!(run.code(), Some(1), "{args:?}");
        let stderr = run.stderr();
        assert!(
            stderr.contains(&format!(
                "assume-role: cannot run `{}`",
                alone.join("assume-role-full").display()
            )),
            "{args:?}: {stderr}"
        );
        assert!(
            stderr.contains("hint: ") && stderr.contains("reinstall"),
            "{stderr}"
        );
        assert!(run.stdout().is_empty(), "{args:?}");
    }
}

#[test]
fn a_link_to_the_front_finds_the_whole_program_beside_the_real_file() {
    // `ln -s …/assume-role ~/bin/assume-role`, or Homebrew's `bin/` links into its Cellar.
    let env = TestEnv::with_moto();
    let bin = env.dir.path().join("links");
    std::fs::create_dir_all(&bin).unwrap();
    let link = bin.join("assume-role");
    std::os::unix::fs::symlink(BIN, &link).unwrap();
    let run = run_with(&env, &link, &["--version"]);
    assert_eq!(
        run.ok().trim(),
        format!("assume-role {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn a_handed_over_line_is_parsed_and_named_as_assume_role() {
    let env = TestEnv::with_moto();
    // clap's usage line comes from the name the front was run by, not the whole program's.
    let run = env.run(&["env"]);
    assert_eq!(run.code(), Some(2));
    assert!(
        run.stderr().contains("Usage: assume-role env"),
        "{}",
        run.stderr()
    );
    assert!(
        !run.stderr().contains("assume-role-full"),
        "{}",
        run.stderr()
    );
    // A miss goes to the whole program, which reports it as always.
    let run = env.run(&["env", "no-such-profile"]);
    assert_eq!(run.code(), Some(3));
    // The shell functions call the front back, by its absolute path.
    let script = env.run(&["init", "bash"]).ok();
    assert!(script.contains(BIN), "{script}");
    assert!(!script.contains("assume-role-full"), "{script}");
}
