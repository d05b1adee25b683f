//! `each`: one command over many profiles. Prefixed whole lines, the summary and its exit code,
//! failures that leave the others running, `--fail-fast`, one MFA code per MFA session, `-j`
//! as STS sees it, and signals.

use super::*;
use std::fmt::Write as _;
use std::io::Write as _;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

const TEAMS: [&str; 3] = ["team-a", "team-b", "team-c"];

/// The standard moto profiles, and three roles of the client assumed from the contractor.
fn moto_teams() -> TestEnv {
    let env = TestEnv::with_moto();
    let fx = moto();
    for name in TEAMS {
        env.append_config(&format!(
            "\n[profile {name}]\nrole_arn = {}\nsource_profile = contractor\nexternal_id = {}\nrole_session_name = each-{name}\nregion = {}\n",
            fx.client_role_arn, fx.client_external_id, fx.region
        ));
    }
    env
}

fn lines_with<'a>(text: &'a str, prefix: &str) -> Vec<&'a str> {
    text.lines().filter(|l| l.starts_with(prefix)).collect()
}

#[test]
fn each_command_gets_its_own_credentials_and_its_lines_are_prefixed() {
    let env = moto_teams();
    let aws = venv_bin("aws");
    let script = format!(
        "echo \"err from $ASSUME_ROLE_PROFILE\" >&2; cat; exec '{}' sts get-caller-identity --query Arn --output text",
        aws.display()
    );
    let run = env.run(&["each", "team-*", "--", "sh", "-c", &script]);
    let stdout = run.ok();
    let stderr = run.stderr();
    for name in TEAMS {
        // The role's own session, named as the profile says: each child had its profile's keys.
        let lines = lines_with(&stdout, &format!("[{name}] "));
        assert_eq!(lines.len(), 1, "{stdout}");
        assert!(
            lines[0].starts_with(&format!("[{name}] arn:aws:sts::"))
                && lines[0].ends_with(&format!("/each-{name}")),
            "{stdout}"
        );
        assert!(
            stderr.contains(&format!("[{name}] err from {name}\n")),
            "{stderr}"
        );
        let row = lines_with(&stderr, &format!("{name} ")).join("\n");
        assert!(row.ends_with("exit 0"), "{stderr}");
    }
    assert_eq!(
        stdout.lines().count(),
        3,
        "nothing but the children's lines"
    );
    assert!(
        stderr.contains("PROFILE") && stderr.contains("3 profiles: 3 succeeded, 0 failed"),
        "{stderr}"
    );
    // No terminal: no progress line, and nothing that would draw one.
    assert!(
        !stderr.contains('\r') && !stderr.contains("running"),
        "{stderr}"
    );
}

#[test]
fn a_failure_leaves_the_others_running_and_sets_the_exit_code() {
    let env = moto_teams();
    let fails_on_b = "echo ran; [ \"$ASSUME_ROLE_PROFILE\" != team-b ] || exit 3";
    let run = env.run(&["each", "team-*", "--", "sh", "-c", fails_on_b]);
    assert_eq!(
        run.code(),
        Some(3),
        "the one failure's code\n{}",
        run.stderr()
    );
    for name in TEAMS {
        assert!(run.stdout().contains(&format!("[{name}] ran\n")));
    }
    assert!(
        lines_with(&run.stderr(), "team-b ")[0].ends_with("exit 3"),
        "{}",
        run.stderr()
    );

    // A profile without credentials is reported and left out; the others still run.
    let run = env.run(&[
        "each",
        "team-*",
        "same-wrong-ext",
        "--",
        "sh",
        "-c",
        fails_on_b,
    ]);
    assert_eq!(
        run.code(),
        Some(1),
        "failures of different kinds\n{}",
        run.stderr()
    );
    let (stdout, stderr) = (run.stdout(), run.stderr());
    assert_eq!(lines_with(&stdout, "[").len(), 3, "{stdout}");
    assert!(!stdout.contains("[same-wrong-ext]"), "{stdout}");
    assert!(
        stderr.contains("STS refused the request to assume")
            && stderr.contains("hint: the external ID is case-sensitive"),
        "reported with its hints: {stderr}"
    );
    let row = lines_with(&stderr, "same-wrong-ext ")[0];
    assert!(
        row.contains(" -  no credentials: STS refused the request"),
        "{row}"
    );
    assert!(
        stderr.contains("4 profiles: 2 succeeded, 2 failed"),
        "{stderr}"
    );

    // All failed the same way: that way's code (5, refused).
    let run = env.run(&["each", "same-wrong-ext", "--", "true"]);
    assert_eq!(run.code(), Some(5), "{}", run.stderr());
}

#[test]
fn fail_fast_stops_at_the_first_failure() {
    let env = moto_teams();
    // A profile without credentials: no command starts at all.
    let run = env.run(&[
        "each",
        "same-wrong-ext",
        "team-*",
        "--fail-fast",
        "--",
        "echo",
        "ran",
    ]);
    assert_eq!(run.code(), Some(5), "{}", run.stderr());
    assert_eq!(run.stdout(), "");
    assert!(
        run.stderr().contains("not started (--fail-fast)"),
        "{}",
        run.stderr()
    );

    // A command that fails: no new one starts; with -j 1, that is all the others.
    let run = env.run(&[
        "each",
        "team-*",
        "-j",
        "1",
        "--fail-fast",
        "--",
        "sh",
        "-c",
        "echo ran; exit 3",
    ]);
    assert_eq!(run.code(), Some(3), "{}", run.stderr());
    assert_eq!(run.stdout(), "[team-a] ran\n");
    let stderr = run.stderr();
    assert!(
        lines_with(&stderr, "team-c ")[0].ends_with("not started"),
        "{stderr}"
    );
    assert!(
        stderr.contains("3 profiles: 0 succeeded, 1 failed, 2 not started (--fail-fast)"),
        "{stderr}"
    );
}

#[test]
fn a_pattern_that_matches_nothing_is_an_error_with_suggestions() {
    let env = moto_teams();
    let run = env.run(&["each", "team-*", "taem-?", "--", "true"]);
    assert_eq!(run.code(), Some(3));
    assert_eq!(run.stdout(), "");
    let stderr = run.stderr();
    assert!(
        stderr.contains("pattern `taem-?` matches no profile in `"),
        "{stderr}"
    );
    assert!(stderr.contains("did you mean `team-"), "{stderr}");
    assert!(
        !stderr.contains("PROFILE"),
        "nothing ran, so no summary: {stderr}"
    );
    let run = env.run(&["each", "team-[", "--", "true"]);
    assert_eq!(run.code(), Some(3));
    assert!(
        run.stderr()
            .contains("`team-[` is not a valid glob pattern"),
        "{}",
        run.stderr()
    );
}

#[test]
fn one_code_serves_every_profile_that_shares_the_mfa_session() {
    let fx = support::moto_checks_off();
    let env = TestEnv::with_fixture(fx);
    let serial = "arn:aws:iam::111111111111:mfa/each-test";
    let asked = env.work_dir().join("asked");
    let names = ["mfa-each-1", "mfa-each-2", "mfa-each-3"];
    for (name, role) in names.iter().zip([
        &fx.client_role_arn,
        &fx.second_role_arn,
        &fx.client_role_arn,
    ]) {
        env.append_config(&format!(
            // A new code each time it is asked, as an authenticator's next one.
            "\n[profile {name}]\nrole_arn = {role}\nsource_profile = contractor\nmfa_serial = {serial}\nmfa_process = echo x >> '{0}'; printf 1%05d $(($(wc -l < '{0}')))\nrole_session_name = {name}\n",
            asked.display()
        ));
    }
    // The codes the counting `mfa_process` prints, one per time it is asked.
    env.register_mfa_code("the first code the counting `mfa_process` prints", "100001")
        .register_mfa_code(
            "the second code the counting `mfa_process` prints",
            "100002",
        );
    let run = env.run(&["each", "mfa-each-*", "--", "true"]);
    assert!(run.output.status.success(), "{}", run.stderr());
    assert_eq!(
        std::fs::read_to_string(&asked).unwrap(),
        "x\n",
        "the code is asked for once"
    );
    let sent = |action: &str| {
        support::recorded_at(fx)
            .into_iter()
            .filter(|r| r.params.get("Action").map(String::as_str) == Some(action))
            .filter(|r| {
                r.params.get("SerialNumber").map(String::as_str) == Some(serial)
                    || names.contains(&r.params.get("RoleSessionName").map_or("", String::as_str))
            })
            .collect::<Vec<_>>()
    };
    let sessions = sent("GetSessionToken");
    assert_eq!(sessions.len(), 1, "{sessions:?}");
    assert_eq!(sessions[0].params["TokenCode"], "100001");
    assert_eq!(sent("AssumeRole").len(), 3);

    // `--no-cache`: fresh sessions, and still one code for the three.
    let run = env.run(&["each", "mfa-each-*", "--no-cache", "--", "true"]);
    assert!(run.output.status.success(), "{}", run.stderr());
    assert_eq!(std::fs::read_to_string(&asked).unwrap(), "x\nx\n");
    let sessions = sent("GetSessionToken");
    assert_eq!(sessions.len(), 2, "{sessions:?}");
    assert_eq!(sessions[1].params["TokenCode"], "100002");
    assert_eq!(sent("AssumeRole").len(), 6);

    // Without a code source or a terminal, every profile that needs the code is reported, and
    // nothing is sent.
    let env = TestEnv::with_fixture(fx);
    for name in ["no-code-1", "no-code-2"] {
        env.append_config(&format!(
            "\n[profile {name}]\nrole_arn = {}\nsource_profile = contractor\nmfa_serial = arn:aws:iam::111111111111:mfa/each-none\nrole_session_name = {name}\n",
            fx.client_role_arn
        ));
    }
    let run = env.run(&["each", "no-code-*", "--", "echo", "ran"]);
    assert_eq!(run.code(), Some(4), "{}", run.stderr());
    assert_eq!(run.stdout(), "");
    assert_eq!(
        run.stderr().matches("no terminal to ask on").count(),
        3,
        "one report, and a row for each profile: {}",
        run.stderr()
    );
}

/// A loopback STS that answers `AssumeRole` after `delay`, each connection on a thread of its
/// own, and records the most requests it had in flight at once.
struct SlowSts {
    url: String,
    requests: Arc<AtomicUsize>,
    most: Arc<AtomicUsize>,
}

impl SlowSts {
    fn start(delay: Duration) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let in_flight = Arc::new(AtomicUsize::new(0));
        let (count, peak) = (requests.clone(), most.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let (count, peak, in_flight) = (count.clone(), peak.clone(), in_flight.clone());
                std::thread::spawn(move || {
                    let request = support::read_request(&mut stream);
                    if request.is_empty() {
                        return;
                    }
                    let n = count.fetch_add(1, Ordering::SeqCst) + 1;
                    let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(delay);
                    let expires = assume_role::credentials::rfc3339(
                        SystemTime::now() + Duration::from_hours(1),
                    );
                    let body = format!(
                        "<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><AssumeRoleResult><Credentials><AccessKeyId>ASIASLOWSTS{n:09}</AccessKeyId><SecretAccessKey>slow-secret-{n}</SecretAccessKey><SessionToken>slow-token-{n}</SessionToken><Expiration>{expires}</Expiration></Credentials><AssumedRoleUser><Arn>arn:aws:sts::222222222222:assumed-role/r/s{n}</Arn><AssumedRoleId>AROAEXAMPLE:s{n}</AssumedRoleId></AssumedRoleUser></AssumeRoleResult><ResponseMetadata><RequestId>{n}</RequestId></ResponseMetadata></AssumeRoleResponse>"
                    );
                    in_flight.fetch_sub(1, Ordering::SeqCst);
                    let _ = stream.write_all(
                        format!(
                            "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                            body.len()
                        )
                        .as_bytes(),
                    );
                });
            }
        });
        Self {
            url,
            requests,
            most,
        }
    }

    /// A test env whose STS this is, with `count` role profiles `p-01`… from static keys.
    fn env(&self, count: usize) -> TestEnv {
        let mut env = TestEnv::new();
        env.set("AWS_ENDPOINT_URL", &self.url);
        env.write_credentials(
            "[contractor]\naws_access_key_id = AKIAEACHEXAMPLE00001\naws_secret_access_key = each-long-term-secret\n",
        );
        let mut config = String::new();
        for i in 1..=count {
            let _ = write!(
                config,
                "[profile p-{i:02}]\nrole_arn = arn:aws:iam::222222222222:role/r{i}\nsource_profile = contractor\nrole_session_name = p-{i:02}\nregion = eu-west-1\n\n"
            );
        }
        env.write_config(&config);
        env
    }
}

#[test]
fn no_more_than_j_credential_requests_are_in_flight() {
    for (jobs, profiles) in [(3, 8), (1, 3)] {
        let sts = SlowSts::start(Duration::from_millis(300));
        let env = sts.env(profiles);
        let run = env.run(&["each", "p-*", "-j", &jobs.to_string(), "--", "true"]);
        run.ok();
        assert_eq!(sts.requests.load(Ordering::SeqCst), profiles);
        let most = sts.most.load(Ordering::SeqCst);
        assert!(most <= jobs, "{most} at once with -j {jobs}");
        if jobs > 1 {
            assert!(most > 1, "never more than one at once with -j {jobs}");
        }
    }
}

#[test]
fn lines_never_interleave_mid_line() {
    let sts = SlowSts::start(Duration::ZERO);
    let env = sts.env(6);
    // Long lines, fast, from six commands at once, on both streams.
    let script = "pad=$(printf %0700d 0); yes \"$ASSUME_ROLE_PROFILE:$pad\" | head -n 2000; yes \"$ASSUME_ROLE_PROFILE-err:$pad\" | head -n 500 >&2";
    let run = env.run(&["each", "p-*", "-j", "6", "--", "sh", "-c", script]);
    let stdout = run.ok();
    let pad = "0".repeat(700);
    let mut counts = std::collections::BTreeMap::new();
    for line in stdout.lines() {
        let (prefix, rest) = line.split_once("] ").expect(line);
        let name = prefix.strip_prefix('[').expect(line);
        assert_eq!(rest, format!("{name}:{pad}"), "a mixed line");
        *counts.entry(name.to_owned()).or_insert(0) += 1;
    }
    assert_eq!(counts.len(), 6);
    assert!(counts.values().all(|n| *n == 2000), "{counts:?}");
    let stderr = run.stderr();
    let err_lines: Vec<&str> = stderr.lines().filter(|l| l.starts_with('[')).collect();
    assert_eq!(err_lines.len(), 6 * 500);
    for line in err_lines {
        let (prefix, rest) = line.split_once("] ").expect(line);
        assert_eq!(rest, format!("{}-err:{pad}", &prefix[1..]), "a mixed line");
    }
}

#[cfg(unix)]
#[test]
fn commands_get_no_input_and_a_sigterm_reaches_them() {
    let sts = SlowSts::start(Duration::ZERO);
    let env = sts.env(2);
    // `cat` ends at once on an empty stdin; then each waits to be told to stop.
    let script =
        "cat; trap 'echo stopping; exit 7' TERM; echo started; while :; do sleep 0.05; done";
    let mut cmd = env.bin(&["each", "p-*", "--", "sh", "-c", script]);
    // Our own stdin stays open: a child that inherited it would wait in `cat` for ever.
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Ready when both commands say so: a bounded wait, so that one that never starts fails
    // the test instead of stalling it.
    let mut stdout = support::Lines::new(child.stdout.take().unwrap());
    for _ in 0..2 {
        let line = stdout.wait_for("]", Duration::from_secs(20), "each, starting its commands");
        assert!(line.ends_with("started"), "{line}");
    }
    // SAFETY: a plain syscall on a process we started and have not reaped.
    unsafe {
        libc::kill(i32::try_from(child.id()).unwrap(), libc::SIGTERM);
    }
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "each did not stop"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let rest = stdout.all(Duration::from_secs(10), "each, after SIGTERM");
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    env.check_stderr(&rest, &stderr);
    assert_eq!(status.code(), Some(128 + 15), "{stderr}");
    assert!(
        rest.contains("[p-01] stopping") && rest.contains("[p-02] stopping"),
        "{rest}"
    );
    assert_eq!(lines_with(&stderr, "p-0").len(), 2, "{stderr}");
    assert!(
        lines_with(&stderr, "p-0")
            .iter()
            .all(|l| l.ends_with("exit 7")),
        "{stderr}"
    );
}

#[cfg(unix)]
#[test]
fn the_terminal_is_asked_once_for_a_shared_mfa_session() {
    let fx = support::moto_checks_off();
    let env = TestEnv::with_fixture(fx);
    let serial = "arn:aws:iam::111111111111:mfa/each-prompt";
    for (name, role) in [
        ("prompt-1", &fx.client_role_arn),
        ("prompt-2", &fx.second_role_arn),
    ] {
        env.append_config(&format!(
            "\n[profile {name}]\nrole_arn = {role}\nsource_profile = contractor\nmfa_serial = {serial}\nrole_session_name = {name}\n"
        ));
    }
    env.register_mfa_code("the MFA code typed at the prompt", "135790");
    let (mut child, mut terminal) =
        support::pty::controlling_terminal(&env, &["each", "prompt-*", "--", "true"]);
    let mut screen = support::pty::Screen::new(&terminal);
    screen.expect(&format!("MFA code for {serial}"));
    terminal.write_all(b"135790\n").unwrap();
    // A second prompt would wait for ever: the bound fails the test instead.
    let status = support::wait_at_most(&mut child, Duration::from_secs(20), "each");
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    let mut stdout = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take().unwrap(), &mut stdout).unwrap();
    // Not through the harness, which would wait without a bound: checked as its runs are.
    env.check_stderr(&stdout, &stderr);
    assert!(status.success(), "{stderr}");
    let sessions: Vec<_> = support::recorded_at(fx)
        .into_iter()
        .filter(|r| r.params.get("SerialNumber").map(String::as_str) == Some(serial))
        .collect();
    assert_eq!(sessions.len(), 1, "{sessions:?}");
    assert_eq!(sessions[0].params["TokenCode"], "135790");
}

#[cfg(unix)]
#[test]
fn on_a_terminal_a_progress_line_makes_way_for_every_line() {
    let sts = SlowSts::start(Duration::ZERO);
    let env = sts.env(3);
    let (master, slave) = support::pty::open();
    let mut screen = support::pty::Screen::new(&master);
    // The commands stay a moment after their line (on purpose, not a wait for anything), so
    // that the progress line is drawn again while they run.
    let mut cmd = env.bin(&["each", "p-*", "--", "sh", "-c", "echo warn >&2; sleep 0.3"]);
    let mut child = cmd.stdout(Stdio::piped()).stderr(slave).spawn().unwrap();
    drop(cmd);
    screen.expect("each: credentials 3/3");
    // Erased before each line of stderr, and drawn again after it.
    screen.expect("\r\x1b[K[p-0");
    screen.expect("running");
    screen.expect("\r\x1b[KPROFILE");
    screen.expect("3 profiles: 3 succeeded, 0 failed");
    assert!(support::wait_at_most(&mut child, Duration::from_secs(20), "each").success());
}

/// After Ctrl-C nothing new starts, ever: not even into a slot that a command dying of the same
/// Ctrl-C frees at once (before the signal's own event reaches the loop). The signal is sent to
/// the whole process group, as a terminal sends it; a race, so tried several times.
#[cfg(unix)]
#[test]
fn nothing_starts_after_ctrl_c_even_when_a_slot_frees() {
    use std::fmt::Write as _;
    use std::os::unix::process::CommandExt;
    let env = TestEnv::new();
    let credentials = (1..=12).fold(String::new(), |mut text, i| {
        let _ = write!(
            text,
            "[s{i:02}]\naws_access_key_id = AKIAEXAMPLE0000000{i:02}\naws_secret_access_key = s\n\n"
        );
        text
    });
    env.write_credentials(&credentials);
    for round in 0..5 {
        let log = env.dir.path().join(format!("started-{round}"));
        // Each command says it started, then waits to be interrupted: Ctrl-C ends it at once.
        let script = format!("echo started >> '{}'; exec sleep 30", log.display());
        let mut cmd = env.bin(&["each", "s*", "-j", "4", "--", "sh", "-c", &script]);
        cmd.process_group(0)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let child = cmd.spawn().unwrap();
        let started = std::time::Instant::now();
        while std::fs::read_to_string(&log).map_or(0, |t| t.lines().count()) < 4 {
            assert!(started.elapsed() < Duration::from_secs(20), "never started");
            std::thread::sleep(Duration::from_millis(5));
        }
        let group = i32::try_from(child.id()).unwrap();
        // SAFETY: a plain syscall on the process group of a child we started and have not reaped.
        unsafe {
            libc::kill(-group, libc::SIGINT);
        }
        let output = env.wait_checked(child);
        let log = std::fs::read_to_string(&log).unwrap();
        // The four that ran when Ctrl-C came, and no other.
        assert_eq!(
            log.lines().count(),
            4,
            "round {round}: started after Ctrl-C:\n{log}"
        );
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("not started"), "round {round}: {stderr}");
        assert_eq!(
            output.status.code(),
            Some(128 + 2),
            "round {round}: {stderr}"
        );
    }
}
