//! MFA codes: where they come from, the terminal prompt, MFA sessions and one-time use.

use super::*;

#[test]
fn without_a_terminal_an_mfa_profile_fails_fast_and_says_how_to_give_the_code() {
    let env = TestEnv::with_moto();
    let fx = moto();
    env.append_config(&format!(
        "\n[profile prompt]\nrole_arn = {}\nsource_profile = contractor\nmfa_serial = {}\nduration_seconds = 7200\nrole_session_name = no-tty\n",
        fx.client_role_arn, fx.mfa_serial
    ));
    let run = env.run(&["credential-process", "prompt"]);
    assert_eq!(run.code(), Some(4));
    assert_eq!(run.stdout(), "");
    let stderr = run.stderr();
    assert!(stderr.contains("no terminal"), "{stderr}");
    // An SDK runs `credential-process`: it can pass no `--mfa-token`, so the hints name what
    // works from there.
    assert!(
        stderr.contains(&fx.mfa_serial)
            && !stderr.contains("--mfa-token")
            && stderr.contains("assume-role exec prompt -- true")
            && stderr.contains("mfa_process"),
        "{stderr}"
    );
    assert!(
        run.elapsed < std::time::Duration::from_secs(5),
        "took {:?}",
        run.elapsed
    );
    assert!(
        recorded_assume_roles("no-tty").is_empty(),
        "no request may be sent"
    );
}

#[cfg(unix)]
#[test]
fn the_mfa_prompt_goes_to_the_terminal_not_stdout() {
    use std::io::Write;

    let env = TestEnv::with_moto();
    let fx = moto();
    env.append_config(&format!(
        "\n[profile prompt]\nrole_arn = {}\nsource_profile = contractor\nmfa_serial = {}\nduration_seconds = 7200\nrole_session_name = prompted\n",
        fx.client_role_arn, fx.mfa_serial
    ));
    env.register_mfa_code("the MFA code typed at the prompt", "975310");
    let (child, mut terminal) = support::pty::controlling_terminal(&env, &["env", "prompt"]);
    let mut screen = support::pty::Screen::new(&terminal);
    screen.expect("MFA code");
    terminal.write_all(b"975310\n").unwrap();
    let output = env.wait_checked(child);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.starts_with("export AWS_ACCESS_KEY_ID='ASIA"),
        "{stdout}"
    );
    assert!(
        !stdout.contains("MFA") && !String::from_utf8_lossy(&output.stderr).contains("MFA code")
    );
    screen.expect(&fx.mfa_serial);
    assert_eq!(
        recorded_assume_roles("prompted")[0].params["TokenCode"],
        "975310"
    );
}

#[test]
fn mfa_codes_come_from_the_flag_then_mfa_process_and_are_checked_first() {
    let env = TestEnv::with_moto();
    let fx = moto();
    env.append_config(&format!(
        "\n[profile both]\nrole_arn = {role}\nsource_profile = contractor\nmfa_serial = {serial}\nmfa_process = echo 111111\nduration_seconds = 7200\nrole_session_name = mfa-both\n\n[profile garbage]\nrole_arn = {role}\nsource_profile = contractor\nmfa_serial = {serial}\nmfa_process = echo not-a-code\nduration_seconds = 7200\nrole_session_name = mfa-garbage\n\n[profile failing]\nrole_arn = {role}\nsource_profile = contractor\nmfa_serial = {serial}\nmfa_process = exit 3\nduration_seconds = 7200\nrole_session_name = mfa-failing\n",
        role = fx.client_role_arn,
        serial = fx.mfa_serial
    ));
    env_json(&env, "both", &["--mfa-token", "222222"]);
    assert_eq!(
        recorded_assume_roles("mfa-both")[0].params["TokenCode"],
        "222222"
    );

    let run = env.run(&["env", "garbage"]);
    assert_eq!(run.code(), Some(4));
    assert!(
        run.stderr()
            .contains("the MFA code from `mfa_process` of profile `garbage` is not 6 digits"),
        "{}",
        run.stderr()
    );
    let run = env.run(&["env", "failing"]);
    assert_eq!(run.code(), Some(4));
    assert!(
        run.stderr()
            .contains("`mfa_process` of profile `failing` failed"),
        "{}",
        run.stderr()
    );
    assert!(
        recorded_assume_roles("mfa-garbage").is_empty()
            && recorded_assume_roles("mfa-failing").is_empty()
    );
}

#[test]
fn one_mfa_code_serves_two_roles_through_an_mfa_session() {
    let fx = support::moto_checks_off();
    let env = TestEnv::with_fixture(fx);
    let serial = "arn:aws:iam::111111111111:mfa/mfa-session-test";
    for (name, role) in [
        ("mfa-one", &fx.client_role_arn),
        ("mfa-two", &fx.second_role_arn),
    ] {
        env.append_config(&format!(
            "\n[profile {name}]\nrole_arn = {role}\nsource_profile = contractor\nmfa_serial = {serial}\nrole_session_name = {name}\n"
        ));
    }
    env_json(&env, "mfa-one", &["--mfa-token", "314159"]);
    // No code, no terminal: the MFA session must carry it.
    let second = env.run(&["env", "mfa-two", "--format", "json"]);
    assert!(second.output.status.success(), "{}", second.stderr());

    let sent = support::recorded_at(fx);
    let with_serial: Vec<_> = sent
        .iter()
        .filter(|r| r.params.get("SerialNumber").map(String::as_str) == Some(serial))
        .collect();
    assert_eq!(
        with_serial.len(),
        1,
        "exactly one request carries the device: {with_serial:?}"
    );
    assert_eq!(with_serial[0].params["Action"], "GetSessionToken");
    assert_eq!(with_serial[0].params["TokenCode"], "314159");
    assert_eq!(with_serial[0].params["DurationSeconds"], "43200");
    let assumed: Vec<_> = sent
        .iter()
        .filter(|r| {
            ["mfa-one", "mfa-two"]
                .contains(&r.params.get("RoleSessionName").map_or("", String::as_str))
        })
        .collect();
    assert_eq!(assumed.len(), 2);
    assert!(
        assumed.iter().all(|r| !r.params.contains_key("TokenCode")),
        "{assumed:?}"
    );
    let table = env.run(&["cache", "list"]).ok();
    assert!(
        table.contains("MFA session") && table.contains(serial),
        "{table}"
    );
}

#[test]
fn a_session_over_an_hour_sends_the_code_to_assume_role_directly() {
    let fx = support::moto_checks_off();
    let env = TestEnv::with_fixture(fx);
    let serial = "arn:aws:iam::111111111111:mfa/direct-test";
    env.append_config(&format!(
        "\n[profile mfa-long]\nrole_arn = {}\nsource_profile = contractor\nmfa_serial = {serial}\nduration_seconds = 14400\nrole_session_name = mfa-long\n",
        fx.client_role_arn
    ));
    let run = env.run(&["-v", "env", "mfa-long", "--mfa-token", "271828"]);
    assert!(run.output.status.success(), "{}", run.stderr());
    assert!(
        run.stderr()
            .contains("sending the code to AssumeRole directly"),
        "{}",
        run.stderr()
    );
    let sent: Vec<_> = support::recorded_at(fx)
        .into_iter()
        .filter(|r| r.params.get("SerialNumber").map(String::as_str) == Some(serial))
        .collect();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].params["Action"], "AssumeRole");
    assert_eq!(sent[0].params["TokenCode"], "271828");
    assert_eq!(sent[0].params["DurationSeconds"], "14400");
}

#[test]
fn a_code_used_moments_ago_is_refused_before_any_call() {
    let env = TestEnv::with_moto();
    let fx = moto();
    env.append_config(&format!(
        "\n[profile mfa-reuse]\nrole_arn = {}\nsource_profile = contractor\nexternal_id = {}\nmfa_serial = {}\nduration_seconds = 7200\nrole_session_name = mfa-reuse\n",
        fx.client_role_arn, fx.client_external_id, fx.mfa_serial
    ));
    env_json(&env, "mfa-reuse", &["--mfa-token", "161803"]);
    let run = env.run(&["env", "mfa-reuse", "--mfa-token", "161803", "--no-cache"]);
    assert_eq!(run.code(), Some(4), "{}", run.stderr());
    assert!(
        run.stderr().contains("was already used") && run.stderr().contains("wait for"),
        "{}",
        run.stderr()
    );
    assert_eq!(count_assume_roles("mfa-reuse"), 1);
    // The next code goes through.
    env_json(&env, "mfa-reuse", &["--mfa-token", "161804", "--no-cache"]);
    assert_eq!(count_assume_roles("mfa-reuse"), 2);
}

#[test]
fn sixteen_parallel_runs_ask_for_one_mfa_code() {
    let env = std::sync::Arc::new(TestEnv::with_moto());
    let fx = moto();
    env.register_mfa_code("the MFA code `mfa.sh` prints", "424242");
    let counter = env.work_dir().join("mfa-asked");
    let script = env.work_dir().join("mfa.sh");
    // The script takes its time on purpose (not a wait for anything): the sixteen runs are
    // all started while the first one's code is still being asked for.
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho asked >> {}\nsleep 0.3\necho 424242\n",
            counter.display()
        ),
    )
    .unwrap();
    env.append_config(&format!(
        "\n[profile mfa-flight]\nrole_arn = {}\nsource_profile = contractor\nexternal_id = {}\nmfa_serial = {}\nmfa_process = sh {}\nduration_seconds = 7200\nrole_session_name = mfa-flight\n",
        fx.client_role_arn, fx.client_external_id, fx.mfa_serial, script.display()
    ));
    let runs: Vec<_> = (0..16)
        .map(|_| {
            let env = env.clone();
            std::thread::spawn(move || env.run(&["credential-process", "mfa-flight"]).ok())
        })
        .collect();
    let outputs: Vec<String> = runs.into_iter().map(|r| r.join().unwrap()).collect();
    assert!(outputs.iter().all(|o| o == &outputs[0]));
    assert_eq!(
        std::fs::read_to_string(&counter).unwrap().lines().count(),
        1,
        "the code was asked for more than once"
    );
    assert_eq!(count_assume_roles("mfa-flight"), 1);
}

#[test]
fn a_wrong_mfa_code_says_so() {
    let stub = support::Stub::start(
        403,
        "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>MultiFactorAuthentication failed with invalid MFA one time pass code. </Message></Error><RequestId>1</RequestId></ErrorResponse>",
    );
    let env = stub_env(&stub);
    let run = env.run(&["env", "client", "--mfa-token", "000000"]);
    assert_eq!(run.code(), Some(5), "{}", run.stderr());
    assert!(
        run.stderr().contains("MultiFactorAuthentication failed"),
        "{}",
        run.stderr()
    );
    assert!(
        run.stderr()
            .contains("hint: the MFA code was wrong, expired or already used"),
        "{}",
        run.stderr()
    );
    // A request carrying a one-time code is never retried.
    assert_eq!(stub.count(), 1);
}

/// Prints a fresh code on every run (nanoseconds), like an authenticator a moment later.
const TICKING_CODE: &str = "printf '%06d' $(( $(date +%s%N) % 1000000 ))";

#[test]
fn a_chain_with_two_mfa_hops_gets_a_code_for_each() {
    let env = TestEnv::with_moto();
    let fx = moto();
    env.append_config(&format!(
        "
[profile mfa-first]
role_arn = {client}
source_profile = contractor
external_id = {ext}
mfa_serial = {serial}
mfa_process = {TICKING_CODE}
duration_seconds = 7200
role_session_name = two-mfa-first

[profile mfa-second]
role_arn = {second}
source_profile = mfa-first
mfa_serial = {serial}
mfa_process = {TICKING_CODE}
role_session_name = two-mfa-second
",
        client = fx.client_role_arn,
        ext = fx.client_external_id,
        serial = fx.mfa_serial,
        second = fx.second_role_arn,
    ));
    env.run(&["env", "mfa-second"]).ok();
    let first = &recorded_assume_roles("two-mfa-first")[0].params;
    let second = &recorded_assume_roles("two-mfa-second")[0].params;
    assert_eq!(second["SerialNumber"], fx.mfa_serial);
    // Two codes from one device: the second is a new one, since AWS refuses a code twice.
    assert_ne!(first["TokenCode"], second["TokenCode"]);

    // With one `--mfa-token` and no other way to get the second code, it says so before any
    // call, naming both hops.
    env.append_config(&format!(
        "
[profile flag-first]
role_arn = {client}
source_profile = contractor
external_id = {ext}
mfa_serial = {serial}
duration_seconds = 7200
role_session_name = flag-first

[profile flag-second]
role_arn = {second}
source_profile = flag-first
mfa_serial = {serial}
",
        client = fx.client_role_arn,
        ext = fx.client_external_id,
        serial = fx.mfa_serial,
        second = fx.second_role_arn,
    ));
    let run = env.run(&["env", "flag-second", "--mfa-token", "123456"]);
    assert_eq!(run.code(), Some(4), "{}", run.stderr());
    assert!(
        run.stderr().starts_with(&format!(
            "assume-role: the chain of profile `flag-second` needs a second MFA code, for `flag-second` (`{}`), and `--mfa-token` gave one, used for `flag-first`",
            fx.mfa_serial
        )),
        "{}",
        run.stderr()
    );
    assert!(recorded_assume_roles("flag-first").is_empty());
}
