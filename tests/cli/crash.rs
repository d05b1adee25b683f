//! Runs killed at any moment, a cache full of garbage, and an STS that is down or silent: none
//! of them may block, poison or stall a later run.

use super::fuzz::{Rng, closed_port};
use super::*;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use support::run_bounded;

/// A moto env whose cache is in a directory of its own, named explicitly.
fn env_with_own_cache() -> (TestEnv, PathBuf) {
    let mut env = TestEnv::with_moto();
    let cache = env.dir.path().join("cache");
    env.set("ASSUME_ROLE_CACHE_DIR", cache.to_str().unwrap());
    (env, cache)
}

/// Every regular file under `dir`.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.map(Result::unwrap) {
            let path = entry.path();
            if entry.file_type().unwrap().is_dir() {
                stack.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// Asserts that `credential-process` output is a usable session.
#[track_caller]
fn assert_session_json(stdout: &str) {
    let json: serde_json::Value = serde_json::from_str(stdout).unwrap();
    assert_eq!(json["Version"], 1, "{json}");
    let id = json["AccessKeyId"].as_str().unwrap();
    assert!(id.starts_with("ASIA"), "{id}");
    assert!(
        json["SecretAccessKey"]
            .as_str()
            .is_some_and(|s| s.len() >= 20)
    );
    assert!(json["SessionToken"].as_str().is_some_and(|s| !s.is_empty()));
    assert!(
        json["Expiration"]
            .as_str()
            .is_some_and(|s| s.ends_with('Z'))
    );
}

/// The credentials work: the AWS CLI, run inside the session, is told who it is by moto.
#[track_caller]
fn assert_sts_accepts_the_session(env: &TestEnv) {
    let aws = venv_bin("aws");
    let run = env.run(&[
        "exec",
        "client-nomfa",
        "--",
        aws.to_str().unwrap(),
        "sts",
        "get-caller-identity",
        "--output",
        "json",
    ]);
    let identity: serde_json::Value = serde_json::from_str(&run.ok()).unwrap();
    assert!(
        identity["Arn"]
            .as_str()
            .is_some_and(|arn| arn.contains(":assumed-role/")),
        "{identity}"
    );
}

#[cfg(unix)]
#[test]
fn runs_killed_at_random_moments_leave_nothing_that_blocks_or_poisons_later_runs() {
    let (env, cache) = env_with_own_cache();
    let env = std::sync::Arc::new(env);
    let mut rng = Rng(0x00c7_a54e);
    // Forty runs, six at a time, each SIGKILLed 0–300 ms after it starts: in the middle of
    // parsing, waiting for a lock, holding one during the STS call, or writing the cache.
    // `--no-cache` on some makes them call STS and rewrite the session under the lock.
    let plans: Vec<(Vec<&'static str>, Duration)> = (0..40)
        .map(|_| {
            let mut args = match rng.below(3) {
                0 => vec!["env", "client-nomfa", "--format", "json"],
                1 => vec!["credential-process", "client-nomfa"],
                _ => vec!["exec", "client-nomfa", "--", "true"],
            };
            if rng.chance(80) {
                args.push("--no-cache");
            }
            // 0–300 ms, most of them early: a cold run takes well under 100 ms.
            let skewed = rng.below(301) * rng.below(301) / 300;
            let delay = Duration::from_millis(u64::try_from(skewed).unwrap());
            (args, delay)
        })
        .collect();
    let start = Instant::now();
    let mut killed = 0;
    for batch in plans.chunks(6) {
        let handles: Vec<_> = batch
            .iter()
            .map(|(args, delay)| {
                let env = env.clone();
                let (args, delay) = (args.clone(), *delay);
                std::thread::spawn(move || run_and_kill(&env, &args, delay))
            })
            .collect();
        killed += handles
            .into_iter()
            .map(|h| usize::from(h.join().unwrap()))
            .sum::<usize>();
    }
    eprintln!(
        "crash: {killed} of {} runs killed mid-way in {:.1} s",
        plans.len(),
        start.elapsed().as_secs_f64()
    );
    // Warm runs end in a few milliseconds, so not every one is caught; on a slow machine more are.
    assert!(killed >= 5, "too few runs were caught mid-way: {killed}");

    // A warm run and a cold one both go through promptly, with credentials STS accepts.
    for args in [
        ["credential-process", "client-nomfa", ""],
        ["credential-process", "client-nomfa", "--no-cache"],
    ] {
        let args: Vec<&str> = args.into_iter().filter(|a| !a.is_empty()).collect();
        let run = env.run(&args);
        eprintln!(
            "crash: `{}` after the kills took {:?}",
            args.join(" "),
            run.elapsed
        );
        assert_session_json(&run.ok());
        assert!(
            run.elapsed < Duration::from_secs(5),
            "{:?}\n{}",
            run.elapsed,
            run.stderr()
        );
        assert!(
            !run.stderr().contains("waiting for another run"),
            "{}",
            run.stderr()
        );
    }
    assert_sts_accepts_the_session(&env);
    // Whatever the kills left, every entry a reader would take is whole JSON; a stray
    // temporary file is allowed, since no reader looks at it.
    let strays = files_under(&cache)
        .iter()
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(".tmp-")
        })
        .count();
    eprintln!("crash: {strays} temporary files left by runs killed while writing");
    for path in files_under(&cache) {
        let name = path.file_name().unwrap().to_string_lossy();
        if path.extension().is_some_and(|x| x == "json") && !name.starts_with(".tmp-") {
            let bytes = std::fs::read(&path).unwrap();
            serde_json::from_slice::<serde_json::Value>(&bytes)
                .unwrap_or_else(|e| panic!("{} is torn: {e}", path.display()));
        }
    }
}

/// Runs `args`, SIGKILLs it (with its process group) `delay` after the start, and checks what it
/// said and how it ended; true if it had not finished by then.
#[cfg(unix)]
fn run_and_kill(env: &TestEnv, args: &[&str], delay: Duration) -> bool {
    use std::os::unix::process::ExitStatusExt;
    let mut cmd = env.bin(args);
    // Kept, not thrown away: what a run said before it was killed (or all it said, if it
    // finished first) is checked as every harness run is. A session is a few hundred bytes,
    // well within a pipe's buffer, so no run blocks on a pipe nobody reads yet.
    cmd.stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    // Deliberate: the kill lands at a random moment of the run, not once it is ready for
    // anything.
    std::thread::sleep(delay);
    let done = child.try_wait().unwrap().is_some();
    // The harness starts each run in its own session: kill the whole group.
    // SAFETY: plain syscall on a process group we started.
    unsafe {
        libc::kill(-i32::try_from(child.id()).unwrap(), libc::SIGKILL);
    }
    let output = child.wait_with_output().unwrap();
    let what = format!("`{}`, killed after {delay:?}", args.join(" "));
    env.check_output(&output, &what);
    // Either it finished, and then it succeeded, or the kill ended it; nothing else (a panic's
    // 101, a failure the kills caused) is allowed.
    assert!(
        output.status.success() || output.status.signal() == Some(libc::SIGKILL),
        "{what}: {:?}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    !done
}

/// Bytes that look like a cache entry, or almost, or nothing like one.
fn garbage(rng: &mut Rng, original: &[u8]) -> Vec<u8> {
    match rng.below(8) {
        0 => Vec::new(),
        1 => original[..original.len() / 2].to_vec(),
        2 => b"{}".to_vec(),
        3 => b"null".to_vec(),
        4 => br#"{"version": 1, "kind": 7, "expiration": "soon", "profile": []}"#.to_vec(),
        5 => vec![b'['; 100_000],
        6 => [0xef, 0xbb, 0xbf].iter().chain(original).copied().collect(),
        _ => (0..rng.below(4096))
            .map(|_| u8::try_from(rng.below(256)).unwrap())
            .collect(),
    }
}

#[cfg(unix)]
#[test]
fn a_cache_full_of_garbage_heals() {
    let (env, cache) = env_with_own_cache();
    cache_profile(&env, "garbage-heals", "");
    // Fill every kind of entry: sessions of a one-hop and a two-hop chain, plans, the list
    // index, locks.
    for args in [
        &["credential-process", "garbage-heals"][..],
        &["credential-process", "second"],
        &["credential-process", "client"],
        &["list"],
    ] {
        env.run(args).ok();
    }
    for dir in ["sessions", "plans", "locks", "mfa-codes"] {
        assert!(cache.join(dir).is_dir(), "no `{dir}` in the cache to spoil");
    }
    let mut rng = Rng(0x006a_7ba6);
    let mut spoiled = 0;
    for path in files_under(&cache) {
        let original = std::fs::read(&path).unwrap();
        std::fs::write(&path, garbage(&mut rng, &original)).unwrap();
        spoiled += 1;
    }
    // Entries nobody wrote, and a directory where a file should be.
    for (name, bytes) in [
        ("sessions/0000.json", &b"\xff\xfe garbage"[..]),
        (
            "plans/0000.json",
            b"{\"version\": 1, \"plan\": {\"hops\": 3}}",
        ),
        ("mfa-codes/0000.json", b"{\"code_sha256\": 5}"),
        ("locks/0000.lock", b"\x00\x01"),
    ] {
        let path = cache.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
    eprintln!("garbage: {spoiled} entries spoiled, 4 planted");

    for args in [
        &["credential-process", "garbage-heals"][..],
        &["credential-process", "second"],
        &["credential-process", "client"],
        &["list"],
    ] {
        let run = env.run(args);
        assert!(
            run.output.status.success() && run.elapsed < Duration::from_secs(10),
            "`{}` after the garbage: {:?}, {:?}\n{}",
            args.join(" "),
            run.output.status,
            run.elapsed,
            run.stderr()
        );
        if args[0] == "credential-process" {
            assert_session_json(&run.stdout());
        }
    }
    // Healed: the entries the runs need were rewritten whole, and a second round is served
    // from them without another STS call.
    let before = count_assume_roles("garbage-heals");
    env.run(&["credential-process", "garbage-heals"]).ok();
    assert_eq!(
        count_assume_roles("garbage-heals"),
        before,
        "the rewritten session was not used"
    );
    let index = std::fs::read(cache.join("profiles-list.json")).unwrap();
    serde_json::from_slice::<serde_json::Value>(&index).expect("the list index was rewritten");
    assert_sts_accepts_the_session(&env);
}

#[test]
fn sts_down_or_silent_fails_clearly_within_40_seconds() {
    let down = format!("http://127.0.0.1:{}", closed_port());
    let silent = support::Stub::start(0, "");
    let cases = [("down", down), ("silent", silent.url.clone())];
    let handles: Vec<_> = cases
        .into_iter()
        .flat_map(|(what, url)| {
            ["env", "credential-process"].map(move |command| {
                let url = url.clone();
                std::thread::spawn(move || {
                    let mut env = TestEnv::with_moto();
                    env.set("AWS_ENDPOINT_URL", &url);
                    let cache = env.dir.path().join("cache");
                    env.set("ASSUME_ROLE_CACHE_DIR", cache.to_str().unwrap());
                    let start = Instant::now();
                    let output =
                        run_bounded(env.bin(&[command, "client-nomfa"]), Duration::from_secs(40));
                    (what, command, url, output, start.elapsed())
                })
            })
        })
        .collect();
    for handle in handles {
        let (what, command, url, output, elapsed) = handle.join().unwrap();
        eprintln!(
            "sts {what}: `{command}` failed after {:.1} s",
            elapsed.as_secs_f64()
        );
        let output = output.unwrap_or_else(|| panic!("STS {what}: `{command}` ran past 40 s"));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(6), "STS {what}: {stderr}");
        assert!(
            stderr.contains(&format!("cannot reach STS at `{url}`")),
            "STS {what}: {stderr}"
        );
        assert!(output.stdout.is_empty());
    }
    // The silent one really was called, and kept waiting.
    assert!(silent.count() >= 1);
}

/// A directory where a cache file belongs (left by hand, or by another tool) must not make
/// every later run miss the cache, or fail.
#[cfg(unix)]
#[test]
fn a_directory_where_a_cache_file_should_be_is_replaced() {
    let (env, cache) = env_with_own_cache();
    cache_profile(&env, "dir-in-the-way", "");
    env.run(&["credential-process", "dir-in-the-way"]).ok();
    env.run(&["list"]).ok();
    let mut in_the_way = files_under(&cache);
    in_the_way.retain(|p| !p.to_string_lossy().contains("/mfa-codes/"));
    for path in &in_the_way {
        std::fs::remove_file(path).unwrap();
        std::fs::create_dir_all(path.join("in-the-way")).unwrap();
    }
    let names: Vec<String> = in_the_way
        .iter()
        .map(|p| p.strip_prefix(&cache).unwrap().display().to_string())
        .collect();
    eprintln!("directories in the way: {names:?}");
    let calls = count_assume_roles("dir-in-the-way");
    for args in [&["credential-process", "dir-in-the-way"][..], &["list"]] {
        let run = env.run(args);
        assert!(
            run.output.status.success(),
            "`{}` with directories in the way: {:?}\n{}",
            args.join(" "),
            run.output.status,
            run.stderr()
        );
    }
    assert_eq!(count_assume_roles("dir-in-the-way"), calls + 1);
    env.run(&["credential-process", "dir-in-the-way"]).ok();
    assert_eq!(
        count_assume_roles("dir-in-the-way"),
        calls + 1,
        "the session could not be cached again"
    );
    for path in &in_the_way {
        assert!(
            path.is_file() || path.extension().is_some_and(|x| x == "lock"),
            "`{}` is still in the way",
            path.display()
        );
    }
}
