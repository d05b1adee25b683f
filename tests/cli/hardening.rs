//! Issue 7's classes, one test each: cached state that STS refuses is evicted, throttling and
//! server errors are retried then named, files that are not UTF-8 or carry a byte-order mark,
//! duplicate sections, a profile that is its own source, malformed endpoints and MFA codes.

use super::*;
use std::collections::BTreeMap as Map;
use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// A loopback STS that answers by action, for what moto cannot do: sessions that go bad before
/// they expire, throttling, server errors. It records each request's action and signing key.
struct Sts {
    url: String,
    calls: Arc<Mutex<Vec<(String, String)>>>,
    revoked: Arc<AtomicBool>,
}

type Answer = fn(action: &str, key: &str, serial: usize, revoked: bool) -> (u16, String);

impl Sts {
    fn start(answer: Answer) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let calls = Arc::new(Mutex::new(Vec::new()));
        let revoked = Arc::new(AtomicBool::new(false));
        let serial = Arc::new(AtomicUsize::new(0));
        let (log, gone) = (calls.clone(), revoked.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let request = support::read_request(&mut stream);
                let action = form_value(&request, "Action").unwrap_or_default();
                let key = request
                    .split("Credential=")
                    .nth(1)
                    .and_then(|rest| rest.split('/').next())
                    .unwrap_or_default()
                    .to_owned();
                log.lock().unwrap().push((action.clone(), key.clone()));
                let n = serial.fetch_add(1, Ordering::SeqCst) + 1;
                let (status, body) = answer(&action, &key, n, gone.load(Ordering::SeqCst));
                let response = format!(
                    "HTTP/1.1 {status} X\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(response.as_bytes());
            }
        });
        Self {
            url,
            calls,
            revoked,
        }
    }

    fn count(&self, action: &str) -> usize {
        self.calls
            .lock()
            .unwrap()
            .iter()
            .filter(|(a, _)| a == action)
            .count()
    }
}

fn form_value(request: &str, name: &str) -> Option<String> {
    let body = request.split("\r\n\r\n").nth(1)?;
    body.split('&')
        .find_map(|pair| pair.strip_prefix(&format!("{name}=")))
        .map(str::to_owned)
}

fn credentials_xml(action: &str, key: &str, assumed: bool) -> String {
    let expiration = {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
            + 3600;
        // Days since the epoch to a civil date (Howard Hinnant's algorithm), for a valid time.
        let (days, rem) = (secs / 86_400, secs % 86_400);
        let z = days + 719_468;
        let era = z / 146_097;
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = doy - (153 * mp + 2) / 5 + 1;
        let m = if mp < 10 { mp + 3 } else { mp - 9 };
        let y = yoe + era * 400 + u64::from(m <= 2);
        format!(
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
            rem / 3600,
            rem % 3600 / 60,
            rem % 60
        )
    };
    let user = if assumed {
        "<AssumedRoleUser><Arn>arn:aws:sts::222222222222:assumed-role/r/s</Arn><AssumedRoleId>AROAEXAMPLE:s</AssumedRoleId></AssumedRoleUser>"
    } else {
        ""
    };
    format!(
        "<{action}Response xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><{action}Result><Credentials><AccessKeyId>{key}</AccessKeyId><SecretAccessKey>stub-secret-{key}</SecretAccessKey><SessionToken>stub-token-{key}</SessionToken><Expiration>{expiration}</Expiration></Credentials>{user}</{action}Result><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></{action}Response>"
    )
}

fn error_xml(code: &str, message: &str) -> String {
    format!(
        "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>1</RequestId></ErrorResponse>"
    )
}

/// MFA sessions numbered by request; once `revoked`, the first one is refused.
fn revocable(action: &str, key: &str, n: usize, revoked: bool) -> (u16, String) {
    match action {
        "GetSessionToken" => (
            200,
            credentials_xml(action, &format!("ASIASESSION{n:09}"), false),
        ),
        "AssumeRole" if revoked && key == "ASIASESSION000000001" => (
            403,
            error_xml(
                "InvalidClientTokenId",
                "The security token included in the request is invalid.",
            ),
        ),
        "AssumeRole" => (
            200,
            credentials_xml(action, &format!("ASIAROLE{n:012}"), true),
        ),
        _ => (400, error_xml("InvalidAction", "no")),
    }
}

/// A profile whose first hop goes through an MFA session, with a fresh code on every ask.
fn mfa_session_env(sts: &Sts) -> TestEnv {
    let mut env = TestEnv::with_moto();
    env.set("AWS_ENDPOINT_URL", &sts.url);
    env.append_config(
        "
[profile via-session]
role_arn = arn:aws:iam::222222222222:role/one
source_profile = contractor
mfa_serial = arn:aws:iam::111111111111:mfa/tester
mfa_process = printf '%06d' $(( $(date +%s%N) % 1000000 ))

[profile via-session-too]
role_arn = arn:aws:iam::222222222222:role/two
source_profile = contractor
mfa_serial = arn:aws:iam::111111111111:mfa/tester
mfa_process = printf '%06d' $(( $(date +%s%N) % 1000000 ))
",
    );
    env
}

#[test]
fn a_cached_mfa_session_that_sts_refuses_is_replaced_not_wedged() {
    let sts = Sts::start(revocable);
    let env = mfa_session_env(&sts);
    env.run(&["env", "via-session"]).ok();
    assert_eq!(sts.count("GetSessionToken"), 1);

    // The MFA session goes bad (its key was deactivated): the next role that would use it
    // gets a new one, with a new code, instead of failing every run from now on.
    sts.revoked.store(true, Ordering::SeqCst);
    let run = env.run(&["env", "via-session-too"]);
    run.ok();
    assert_eq!(sts.count("GetSessionToken"), 2, "{}", run.stderr());
    assert!(
        run.stderr()
            .contains("removed them from the cache and starting again from the source"),
        "{}",
        run.stderr()
    );
    // And the replacement is what later runs use.
    env.run(&["env", "via-session-too", "--no-cache"]).ok();
    assert_eq!(
        sts.count("GetSessionToken"),
        3,
        "--no-cache skips the MFA session too"
    );
}

#[test]
fn no_cache_bypasses_every_cached_credential_in_the_chain() {
    let sts = Sts::start(revocable);
    let env = mfa_session_env(&sts);
    env.run(&["env", "via-session"]).ok();
    env.run(&["env", "via-session-too"]).ok();
    // One code served both roles...
    assert_eq!(sts.count("GetSessionToken"), 1);
    // ...and `--no-cache` means none of it: a new MFA session, a new role session.
    env.run(&["env", "via-session", "--no-cache"]).ok();
    assert_eq!(sts.count("GetSessionToken"), 2);
    assert_eq!(sts.count("AssumeRole"), 3);
}

fn throttled(_: &str, _: &str, _: usize, _: bool) -> (u16, String) {
    (400, error_xml("Throttling", "Rate exceeded"))
}

fn unavailable(_: &str, _: &str, _: usize, _: bool) -> (u16, String) {
    (503, "<html>Service Unavailable</html>".into())
}

#[test]
fn throttling_and_server_errors_are_retried_then_named() {
    let sts = Sts::start(throttled);
    let mut env = TestEnv::with_moto();
    env.set("AWS_ENDPOINT_URL", &sts.url);
    let run = env.run(&["env", "client-nomfa"]);
    assert_eq!(run.code(), Some(6), "{}", run.stderr());
    assert!(
        run.stderr().contains("STS throttled the request to assume")
            && run.stderr().contains("it was tried 3 times with backoff"),
        "{}",
        run.stderr()
    );
    assert_eq!(sts.count("AssumeRole"), 3);

    // A call that carries a one-time code is tried once: the code is spent either way.
    let run = env.run(&["env", "client", "--mfa-token", "123456"]);
    assert_eq!(run.code(), Some(6), "{}", run.stderr());
    assert_eq!(sts.count("AssumeRole"), 4);

    let sts = Sts::start(unavailable);
    env.set("AWS_ENDPOINT_URL", &sts.url);
    let run = env.run(&["env", "client-nomfa"]);
    assert_eq!(run.code(), Some(6), "{}", run.stderr());
    assert!(
        run.stderr().contains("STS failed the request to assume")
            && run.stderr().contains("HTTP 503"),
        "{}",
        run.stderr()
    );
    assert!(!run.stderr().contains("<html>"), "{}", run.stderr());
    assert_eq!(sts.count("AssumeRole"), 3);
}

#[test]
fn a_credentials_file_that_is_not_utf8_is_named_and_never_shown() {
    let env = TestEnv::with_moto();
    let secret = &moto().contractor.secret_access_key;
    let mut bytes = std::fs::read(&env.vars["AWS_SHARED_CREDENTIALS_FILE"]).unwrap();
    // A Latin-1 `é` in a comment on line 2, after the first section header.
    let at = bytes.iter().position(|b| *b == b'\n').unwrap() + 1;
    bytes.splice(at..at, b"# caf\xe9\n".iter().copied());
    std::fs::write(&env.vars["AWS_SHARED_CREDENTIALS_FILE"], &bytes).unwrap();
    for args in [
        &["env", "client-nomfa", "-vvv"][..],
        &["list"],
        &["credential-process", "client-nomfa"],
    ] {
        let run = env.run(args);
        assert_eq!(run.code(), Some(3), "{args:?}: {}", run.stderr());
        assert!(
            run.stderr().contains("is not UTF-8 text: byte")
                && run.stderr().contains("(line 2, column 6)"),
            "{}",
            run.stderr()
        );
        assert!(!run.stderr().contains(secret.as_str()), "{}", run.stderr());
        assert!(
            !run.stderr().contains("115, "),
            "a byte dump: {}",
            run.stderr()
        );
    }
}

#[test]
fn a_byte_order_mark_is_accepted_and_duplicate_sections_are_named() {
    let env = TestEnv::with_moto();
    let config = std::fs::read_to_string(env.config_path()).unwrap();
    std::fs::write(
        env.config_path(),
        format!("\u{feff}{config}\n[profile client-nomfa]\nregion = eu-west-3\n"),
    )
    .unwrap();
    let run = env.run(&["env", "client-nomfa", "--format", "json"]);
    run.ok();
    let first = config
        .lines()
        .position(|l| l == "[profile client-nomfa]")
        .unwrap()
        + 1;
    let second = config.lines().count() + 2;
    assert!(
        run.stderr().contains(&format!(
            "has two `[profile client-nomfa]` sections, on lines {first} and {second}"
        )),
        "{}",
        run.stderr()
    );
}

#[test]
fn a_profile_that_is_its_own_source_without_keys_says_so() {
    let env = TestEnv::with_moto();
    env.append_config(
        "\n[profile selfie]\nrole_arn = arn:aws:iam::222222222222:role/x\nsource_profile = selfie\n",
    );
    let run = env.run(&["env", "selfie"]);
    assert_eq!(run.code(), Some(3));
    assert_eq!(
        run.stderr(),
        "assume-role: profile `selfie` names itself as its `source_profile`, but has no keys of its own\n  hint: a profile that is its own source is assumed with its own keys: add `aws_access_key_id` and `aws_secret_access_key` to `[selfie]` in the credentials file\n  hint: or point `source_profile` of profile `selfie` at the profile that holds your keys\n"
    );
}

#[test]
fn a_malformed_endpoint_is_named_without_an_sdk_dump() {
    let mut env = TestEnv::with_moto();
    for (value, reason) in [
        ("not a url", "it must start with `https://` or `http://`"),
        (
            "127.0.0.1:5000",
            "it must start with `https://` or `http://`",
        ),
        ("http://", "it names no host after the scheme"),
    ] {
        env.set("AWS_ENDPOINT_URL", value);
        let run = env.run(&["env", "client-nomfa"]);
        assert_eq!(run.code(), Some(3), "{}", run.stderr());
        assert!(
            run.stderr().starts_with(&format!(
                "assume-role: `AWS_ENDPOINT_URL`: `{value}` is not a valid endpoint URL: {reason}"
            )),
            "{}",
            run.stderr()
        );
        assert!(!run.stderr().contains("SdkBody"), "{}", run.stderr());
    }
}

#[test]
fn a_malformed_mfa_code_fails_on_the_warm_path_too() {
    let env = TestEnv::with_moto();
    env.run(&["env", "client-nomfa"]).ok();
    // Served from the cache, it used to pass: the flag is now checked before anything else.
    let run = env.run(&["env", "client-nomfa", "--mfa-token", "abc"]);
    assert_eq!(run.code(), Some(4), "{}", run.stderr());
    // Spaces as authenticator apps show them are fine.
    let vars: Map<String, String> = serde_json::from_str(
        &env.run(&[
            "env",
            "client-nomfa",
            "--mfa-token",
            "123 456",
            "--format",
            "json",
        ])
        .ok(),
    )
    .unwrap();
    assert!(vars.contains_key("AWS_SESSION_TOKEN"));
}

/// A control character in a config value (an escape sequence that would clear the screen or
/// retitle the terminal) reaches stderr escaped, from our errors and our warnings alike.
#[test]
fn control_characters_in_config_values_reach_stderr_escaped() {
    let env = TestEnv::new();
    env.write_config("[profile esc]\nregion = eu\u{1b}[2Jwest-1\nrole_arn = arn:aws:iam::222222222222:role/r\nsource_profile = esc-src\n\n[profile esc-src]\nregion: eu-west-1\n");
    env.write_credentials(
        "[esc-src]\naws_access_key_id = AKIAEXAMPLE000000041\naws_secret_access_key = s\n",
    );
    let run = env.run(&["env", "esc"]);
    assert_ne!(run.code(), Some(0), "{}", run.stderr());
    let stderr = run.stderr();
    assert!(!stderr.contains('\u{1b}'), "{stderr:?}");
    assert!(stderr.contains("\\u{1b}[2J"), "{stderr}");
}
