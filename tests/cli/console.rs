//! `console`: the federation request (to a loopback stub: moto has no sign-in endpoint), the
//! `login` URL, `SessionDuration` only where AWS allows it, and a browser identity per profile.

use crate::env_json;
use crate::support::{self, TestEnv, read_request};
use percent_encoding::percent_decode_str;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

const TOKEN: &str = "stub-signin-token-0123456789abcdef";

/// A loopback sign-in endpoint: records each request's target and answers a sign-in token.
struct Federation {
    endpoint: String,
    targets: Arc<Mutex<Vec<String>>>,
}

impl Federation {
    fn start() -> Self {
        use std::io::Write;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let endpoint = format!("http://{}/federation", listener.local_addr().unwrap());
        let targets = Arc::new(Mutex::new(Vec::new()));
        let seen = targets.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let request = read_request(&mut stream);
                let target = request
                    .lines()
                    .next()
                    .and_then(|l| l.split(' ').nth(1))
                    .unwrap_or_default()
                    .to_owned();
                seen.lock().unwrap().push(target);
                let body = format!("{{\"SigninToken\":\"{TOKEN}\"}}");
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        Self { endpoint, targets }
    }

    /// The query parameters of every request so far, decoded.
    fn requests(&self) -> Vec<BTreeMap<String, String>> {
        self.targets
            .lock()
            .unwrap()
            .iter()
            .map(|target| query(target.split_once('?').map_or("", |(_, q)| q)))
            .collect()
    }
}

fn query(text: &str) -> BTreeMap<String, String> {
    text.split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| {
            (
                k.to_owned(),
                percent_decode_str(v).decode_utf8().unwrap().into_owned(),
            )
        })
        .collect()
}

fn console_env(fed: &Federation) -> TestEnv {
    let mut env = TestEnv::with_moto();
    env.set("ASSUME_ROLE_FEDERATION_ENDPOINT", &fed.endpoint);
    register_token(&env);
    env
}

/// The stub's sign-in token opens the console as the role: every run is checked for it, even
/// one that fails before printing a URL (from which the harness would learn it by itself).
fn register_token(env: &TestEnv) {
    env.register_secret("the console sign-in token from the federation stub", TOKEN);
}

/// The `Session` JSON a request sent.
fn session_of(request: &BTreeMap<String, String>) -> serde_json::Value {
    serde_json::from_str(&request["Session"]).unwrap()
}

#[test]
fn the_federation_request_carries_the_assumed_roles_session_and_the_login_url_lands_on_the_service()
{
    let fed = Federation::start();
    let env = console_env(&fed);
    // The same cached session `env` hands over is the one the console signs in with.
    let creds = env_json(&env, "client-nomfa", &[]);
    let run = env.run(&[
        "console",
        "client-nomfa",
        "--print",
        "--service",
        "s3",
        "--region",
        "eu-west-1",
    ]);
    let url = run.ok();
    let requests = fed.requests();
    assert_eq!(requests.len(), 1, "{requests:?}");
    let request = &requests[0];
    assert_eq!(request["Action"], "getSigninToken");
    assert_eq!(
        session_of(request),
        serde_json::json!({
            "sessionId": creds["AWS_ACCESS_KEY_ID"],
            "sessionKey": creds["AWS_SECRET_ACCESS_KEY"],
            "sessionToken": creds["AWS_SESSION_TOKEN"],
        })
    );
    // Not asked for: the console gets AWS's default, and stderr says how long that is.
    assert!(!request.contains_key("SessionDuration"), "{request:?}");
    assert!(
        run.stderr().contains("the console session lasts 1h"),
        "{}",
        run.stderr()
    );

    let url = url.trim_end();
    assert_eq!(url.lines().count(), 1, "{url}");
    let (base, query_text) = url.split_once('?').unwrap();
    assert_eq!(base, fed.endpoint);
    let login = query(query_text);
    assert_eq!(login["Action"], "login");
    assert_eq!(login["Issuer"], "assume-role");
    assert_eq!(
        login["Destination"],
        "https://eu-west-1.console.aws.amazon.com/s3/home?region=eu-west-1"
    );
    assert_eq!(login["SigninToken"], TOKEN);
}

#[test]
fn session_duration_is_sent_only_for_a_role_assumed_from_long_term_keys() {
    let fed = Federation::start();
    let env = console_env(&fed);
    // From the contractor's long-term keys: allowed.
    env.run(&["console", "client-nomfa", "--print", "--duration", "2h"])
        .ok();
    // Chained (`second` is assumed from `client-nomfa`'s session): never, and stderr says so.
    let chained = env.run(&["console", "second", "--print", "--duration", "2h"]);
    chained.ok();
    let requests = fed.requests();
    assert_eq!(requests[0]["SessionDuration"], "7200");
    assert!(!requests[1].contains_key("SessionDuration"), "{requests:?}");
    let stderr = chained.stderr();
    assert!(
        stderr.contains("`--duration 2h` cannot be sent for profile `second`")
            && stderr.contains("the console session lasts 1h"),
        "{stderr}"
    );
    // Out of the console's range: refused before any call.
    let run = env.run(&["console", "client-nomfa", "--print", "--duration", "13h"]);
    assert_eq!(run.code(), Some(3), "{}", run.stderr());
    assert_eq!(fed.requests().len(), 2);
}

#[test]
fn a_role_assumed_from_an_mfa_session_counts_as_chained() {
    // moto's MFA sessions fail its own checks: this route runs with checks off.
    let fx = support::moto_checks_off();
    let fed = Federation::start();
    let mut env = TestEnv::with_fixture(fx);
    env.set("ASSUME_ROLE_FEDERATION_ENDPOINT", &fed.endpoint);
    register_token(&env);
    env.append_config(&format!(
        "\n[profile console-mfa]\nrole_arn = {}\nsource_profile = contractor\nmfa_serial = arn:aws:iam::111111111111:mfa/console-test\nrole_session_name = console-mfa\n",
        fx.client_role_arn
    ));
    let run = env.run(&[
        "console",
        "console-mfa",
        "--print",
        "--duration",
        "2h",
        "--mfa-token",
        "161803",
    ]);
    run.ok();
    let requests = fed.requests();
    assert_eq!(requests.len(), 1);
    assert!(!requests[0].contains_key("SessionDuration"), "{requests:?}");
    assert!(run.stderr().contains("MFA session"), "{}", run.stderr());
}

#[test]
fn print_never_logs_the_url_even_at_the_highest_verbosity() {
    let fed = Federation::start();
    let env = console_env(&fed);
    let run = env.run(&["-vvv", "console", "client-nomfa", "--print"]);
    let url = run.ok();
    let stderr = run.stderr();
    assert!(url.contains(TOKEN));
    for secret in [
        TOKEN,
        "SigninToken=",
        "Session=",
        "sessionKey",
        "Action=login",
    ] {
        assert!(!stderr.contains(secret), "`{secret}` on stderr:\n{stderr}");
    }
    // It did log the call, so the check above looked at a real log.
    assert!(stderr.contains("getSigninToken"), "{stderr}");
}

/// A browser that records its arguments, one per line, a blank line after each run. The page it
/// is handed (a `file:` URL) is read as a browser reads it: recorded as `page:MODE` and the link
/// the page opens.
fn recording_browser(env: &TestEnv) -> (std::path::PathBuf, std::path::PathBuf) {
    let dir = env.dir.path();
    let log = dir.join("browser.log");
    let script = dir.join("browser.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nfor a in \"$@\"; do case \"$a\" in file://*) f=\"${{a#file://}}\"; printf 'page:%s\\n' \"$(stat -c %a \"$f\")\" >> '{log}'; sed -n 's/^location.replace(\"\\(.*\\)\");$/\\1/p' \"$f\" >> '{log}';; *) printf '%s\\n' \"$a\" >> '{log}';; esac; done\necho >> '{log}'\n",
            log = log.display()
        ),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    (script, log)
}

/// Each run's arguments, with the page it was handed replaced by the link the page opens. The
/// link itself must never be an argument (any local user can read a command line), and the
/// page must have been private.
fn runs(log: &std::path::Path) -> Vec<Vec<String>> {
    std::fs::read_to_string(log)
        .unwrap()
        .split("\n\n")
        .filter(|run| !run.trim().is_empty())
        .map(|run| {
            let lines: Vec<&str> = run.lines().collect();
            let page = lines.iter().position(|l| l.starts_with("page:"));
            let page = page.unwrap_or_else(|| panic!("no page was handed over: {lines:?}"));
            assert_eq!(lines[page], "page:600", "{lines:?}");
            assert!(
                lines[..page].iter().all(|l| !l.contains("SigninToken")),
                "the link is on the command line: {lines:?}"
            );
            lines
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != page)
                .map(|(_, l)| (*l).to_owned())
                .collect()
        })
        .collect()
}

#[cfg(unix)]
#[test]
fn each_profile_opens_in_its_own_browser_identity() {
    let fed = Federation::start();
    let mut env = console_env(&fed);
    let (script, log) = recording_browser(&env);
    env.set("ASSUME_ROLE_BROWSER_PATH", script.to_str().unwrap());

    // Chromium family: a user-data directory per profile, under the data directory.
    for profile in ["client-nomfa", "same"] {
        let run = env.run(&["console", profile, "--browser", "chrome"]);
        run.ok();
        assert!(
            run.stderr().contains("opened the console of profile"),
            "{}",
            run.stderr()
        );
    }
    let data = format!("{}/assume-role/browser/", env.vars["XDG_DATA_HOME"]);
    let chrome = runs(&log);
    assert_eq!(chrome.len(), 2, "{chrome:?}");
    let dirs: Vec<&String> = chrome.iter().map(|args| &args[0]).collect();
    assert_eq!(dirs[0], &format!("--user-data-dir={data}client-nomfa"));
    assert_eq!(dirs[1], &format!("--user-data-dir={data}same"));
    for args in &chrome {
        assert!(args.contains(&"--no-first-run".to_owned()), "{args:?}");
        let url = args.last().unwrap();
        assert!(
            url.starts_with(&format!("{}?Action=login&", fed.endpoint)),
            "{url}"
        );
    }

    // Each page went once the browser had read it: no copy of a link is left behind.
    let pages = std::path::Path::new(&env.vars["ASSUME_ROLE_CACHE_DIR"]).join("console");
    let left: Vec<_> = std::fs::read_dir(&pages).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");

    // Firefox, chosen by the environment variable: a container per profile.
    std::fs::remove_file(&log).unwrap();
    env.set("ASSUME_ROLE_BROWSER", "firefox");
    for profile in ["client-nomfa", "same"] {
        env.run(&["console", profile]).ok();
    }
    let firefox = runs(&log);
    assert_eq!(firefox.len(), 2, "{firefox:?}");
    for (args, profile) in firefox.iter().zip(["client-nomfa", "same"]) {
        assert_eq!(args[0], "--new-tab");
        let link = args[1]
            .strip_prefix(&format!("ext+container:name={profile}&url="))
            .unwrap_or_else(|| panic!("{args:?}"));
        let url = percent_decode_str(link).decode_utf8().unwrap();
        assert!(url.contains(&format!("SigninToken={TOKEN}")), "{url}");
    }

    // The flag wins over the variable; `default` runs `$BROWSER` with the URL.
    std::fs::remove_file(&log).unwrap();
    env.remove("ASSUME_ROLE_BROWSER_PATH");
    env.set("BROWSER", script.to_str().unwrap());
    env.run(&["console", "same", "--browser", "default"]).ok();
    let default = runs(&log);
    assert_eq!(default.len(), 1);
    assert!(default[0][0].starts_with(&fed.endpoint), "{default:?}");
}

#[test]
fn a_browser_that_cannot_be_found_says_how_to_choose_another() {
    let fed = Federation::start();
    let mut env = console_env(&fed);
    env.set("ASSUME_ROLE_BROWSER_PATH", "/nonexistent/chrome");
    let run = env.run(&["console", "client-nomfa", "--browser", "chrome"]);
    assert_eq!(run.code(), Some(3), "{}", run.stderr());
    let stderr = run.stderr();
    assert!(stderr.contains("`--browser chrome`"), "{stderr}");
    assert!(stderr.contains("`/nonexistent/chrome`"), "{stderr}");
    assert!(stderr.contains("--print"), "{stderr}");
    assert!(!stderr.contains(TOKEN), "{stderr}");
    // Found out before any credentials were exchanged: no sign-in token was made for nothing.
    assert!(fed.requests().is_empty(), "{:?}", fed.requests());

    env.remove("ASSUME_ROLE_BROWSER_PATH");
    env.set("ASSUME_ROLE_BROWSER", "netscape");
    let run = env.run(&["console", "client-nomfa"]);
    assert_eq!(run.code(), Some(2), "{}", run.stderr());
    assert!(
        run.stderr().contains("`ASSUME_ROLE_BROWSER`"),
        "{}",
        run.stderr()
    );
}

#[test]
fn partitions_without_a_console_and_long_term_keys_are_refused_before_any_call() {
    let fed = Federation::start();
    let env = console_env(&fed);
    env.append_config(&format!(
        "\n[profile iso]\nrole_arn = {}\nsource_profile = contractor\nregion = us-iso-east-1\n",
        support::moto().client_role_arn
    ));
    let run = env.run(&["console", "iso", "--print"]);
    assert_eq!(run.code(), Some(3), "{}", run.stderr());
    assert!(
        run.stderr().contains("partition `aws-iso`")
            && run.stderr().contains("no console sign-in endpoint"),
        "{}",
        run.stderr()
    );
    let run = env.run(&["console", "contractor", "--print"]);
    assert_eq!(run.code(), Some(3), "{}", run.stderr());
    assert!(run.stderr().contains("long-term keys"), "{}", run.stderr());
    let run = env.run(&[
        "console",
        "client-nomfa",
        "--print",
        "--region",
        "cn-north-1",
    ]);
    assert_eq!(run.code(), Some(3), "{}", run.stderr());
    assert!(fed.requests().is_empty());
}

#[test]
fn console_print_warm_is_one_federation_round_trip() {
    let fed = Federation::start();
    let env = console_env(&fed);
    env.run(&["console", "client-nomfa", "--print"]).ok();
    let median = |args: &[&str]| {
        let mut times: Vec<u128> = (0..7)
            .map(|_| {
                let run = env.run(args);
                run.ok();
                run.elapsed.as_micros()
            })
            .collect();
        times.sort_unstable();
        times[3]
    };
    let console = median(&["console", "client-nomfa", "--print"]);
    let plain = median(&["env", "client-nomfa"]);
    eprintln!(
        "warm, debug build, loopback stub: `console --print` median {console} us, `env` median {plain} us"
    );
    // Warm: the cached session and one federation call, no STS call; generous for a debug
    // build on a busy machine.
    assert!(console < 2_000_000, "{console} us");
    assert_eq!(fed.requests().len(), 8);
}

#[test]
fn a_refusing_or_absent_sign_in_endpoint_is_named_with_its_exit_code() {
    // AWS answers 400 to credentials it will not take.
    let refusing = support::Stub::start(400, "<html>Bad Request</html>");
    let mut env = TestEnv::with_moto();
    env.set(
        "ASSUME_ROLE_FEDERATION_ENDPOINT",
        &format!("{}/federation", refusing.url),
    );
    let run = env.run(&["console", "client-nomfa", "--print", "--duration", "1h"]);
    assert_eq!(run.code(), Some(5), "{}", run.stderr());
    let stderr = run.stderr();
    assert!(
        stderr.contains("refused for profile `client-nomfa`: HTTP 400"),
        "{stderr}"
    );
    assert!(stderr.contains("try without `--duration`"), "{stderr}");
    assert!(!stderr.contains("Session="), "{stderr}");
    assert!(run.stdout().is_empty());

    // Nothing listening: unreachable, at once.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    env.set(
        "ASSUME_ROLE_FEDERATION_ENDPOINT",
        &format!("http://127.0.0.1:{port}/federation"),
    );
    let run = env.run(&["console", "client-nomfa", "--print"]);
    assert_eq!(run.code(), Some(6), "{}", run.stderr());
    assert!(
        run.stderr().contains("the connection was refused"),
        "{}",
        run.stderr()
    );

    // Plain http to another machine would carry the keys in the clear.
    env.set(
        "ASSUME_ROLE_FEDERATION_ENDPOINT",
        "http://example.com/federation",
    );
    let run = env.run(&["console", "client-nomfa", "--print"]);
    assert_eq!(run.code(), Some(2), "{}", run.stderr());
    assert!(run.stderr().contains("in the clear"), "{}", run.stderr());
}
