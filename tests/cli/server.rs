//! `exec --server`: the container-credential endpoint, read by boto3 and the AWS CLI v1 in the
//! child; its contract (token, JSON keys); exit codes, signals; MFA up front; and a refresh
//! soak against a loopback STS whose sessions live 30 seconds.

use super::*;
use std::collections::HashMap;
use std::io::Write;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

/// How a child tells the harness the endpoint's token: on its stdout, as `NAME=value`, which
/// the harness reads (`support::leaks::in_stdout`) and then checks the run's stderr for. Only
/// the child can know it: `exec --server` makes a new one for each run.
const REPORT_TOKEN: &str =
    "echo \"AWS_CONTAINER_AUTHORIZATION_TOKEN=$AWS_CONTAINER_AUTHORIZATION_TOKEN\"";

/// A Python child, from the test venv.
fn python_child(env: &TestEnv, profile: &str, script: &str, args: &[&str]) -> Command {
    let python = support::python();
    let mut words = vec![
        "exec",
        profile,
        "--server",
        "--",
        python.to_str().unwrap(),
        "-c",
        script,
    ];
    words.extend_from_slice(args);
    env.bin(&words)
}

#[test]
fn boto3_and_the_aws_cli_reach_sts_through_the_endpoint() {
    let mut env = TestEnv::with_moto();
    // Stale keys and another endpoint in the parent's environment: the child must see neither.
    env.set("AWS_ACCESS_KEY_ID", "AKIASTALEOUTERKEY000")
        .set("AWS_SECRET_ACCESS_KEY", "stale-secret")
        .set(
            "AWS_CONTAINER_CREDENTIALS_FULL_URI",
            "http://127.0.0.1:9/stale",
        )
        .set("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "/nonexistent");
    let script = r#"
import boto3, json, os
names = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_CREDENTIAL_EXPIRATION",
         "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_AUTHORIZATION_TOKEN",
         "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "AWS_REGION", "AWS_DEFAULT_REGION", "ASSUME_ROLE_PROFILE"]
session = boto3.Session()
print(json.dumps({
    "present": [n for n in names if n in os.environ],
    "method": session.get_credentials().method,
    "arn": session.client("sts").get_caller_identity()["Arn"],
    "uri": os.environ["AWS_CONTAINER_CREDENTIALS_FULL_URI"],
    "token_len": len(os.environ["AWS_CONTAINER_AUTHORIZATION_TOKEN"]),
    # For the harness, which checks the run's stderr for it.
    "AWS_CONTAINER_AUTHORIZATION_TOKEN": os.environ["AWS_CONTAINER_AUTHORIZATION_TOKEN"],
}))
"#;
    let out = env.run_command(python_child(&env, "client-nomfa", script, &[]));
    let seen: serde_json::Value = serde_json::from_str(&out.ok()).unwrap();
    assert_eq!(
        seen["present"],
        serde_json::json!([
            "AWS_CONTAINER_CREDENTIALS_FULL_URI",
            "AWS_CONTAINER_AUTHORIZATION_TOKEN",
            "AWS_REGION",
            "AWS_DEFAULT_REGION",
            "ASSUME_ROLE_PROFILE"
        ])
    );
    assert_eq!(seen["method"], "container-role");
    assert!(
        seen["arn"]
            .as_str()
            .unwrap()
            .starts_with("arn:aws:sts::222222222222:assumed-role/"),
        "{seen}"
    );
    assert!(
        seen["uri"]
            .as_str()
            .unwrap()
            .starts_with("http://127.0.0.1:"),
        "{seen}"
    );
    assert_eq!(seen["token_len"], 64);

    let aws = support::venv_bin("aws");
    let out = env.run(&[
        "exec",
        "client-nomfa",
        "--server",
        "--",
        aws.to_str().unwrap(),
        "sts",
        "get-caller-identity",
        "--output",
        "json",
    ]);
    let identity: serde_json::Value = serde_json::from_str(&out.ok()).unwrap();
    assert!(
        identity["Arn"]
            .as_str()
            .unwrap()
            .starts_with("arn:aws:sts::222222222222:assumed-role/"),
        "{identity}"
    );
}

#[test]
fn only_the_exact_token_gets_credentials_as_json() {
    let env = TestEnv::with_moto();
    let script = r#"
import json, os, urllib.request, urllib.error
uri = os.environ["AWS_CONTAINER_CREDENTIALS_FULL_URI"]
token = os.environ["AWS_CONTAINER_AUTHORIZATION_TOKEN"]
def get(headers, method="GET"):
    try:
        with urllib.request.urlopen(urllib.request.Request(uri, headers=headers, method=method)) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())
out = {}
for name, headers in [("none", {}), ("wrong", {"Authorization": token[:-1] + "x"}),
                      ("bearer", {"Authorization": "Bearer " + token}), ("right", {"Authorization": token})]:
    status, body = get(headers)
    out[name] = [status, sorted(body), body.get("Code")]
status, body = get({"Authorization": token}, "POST")
out["post"] = [status, sorted(body), body.get("Code")]
out["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = token  # for the harness's check of stderr
print(json.dumps(out))
"#;
    let out = env.run_command(python_child(&env, "client-nomfa", script, &[]));
    let seen: serde_json::Value = serde_json::from_str(&out.ok()).unwrap();
    for name in ["none", "wrong", "bearer"] {
        assert_eq!(
            seen[name],
            serde_json::json!([403, ["Code", "Message"], "AccessDenied"]),
            "{name}"
        );
    }
    assert_eq!(
        seen["right"],
        serde_json::json!([
            200,
            [
                "AccessKeyId",
                "AccountId",
                "Expiration",
                "SecretAccessKey",
                "Token"
            ],
            null
        ])
    );
    assert_eq!(seen["post"][0], 405);
}

#[cfg(unix)]
#[test]
fn exit_codes_and_signals_pass_through_and_signals_are_forwarded() {
    use std::os::unix::process::ExitStatusExt;
    let env = TestEnv::with_moto();
    let run = |script: &str| {
        let script = format!("{REPORT_TOKEN}; {script}");
        env.run(&[
            "exec",
            "client-nomfa",
            "--server",
            "--",
            "sh",
            "-c",
            &script,
        ])
    };
    assert_eq!(run("exit 0").code(), Some(0));
    assert_eq!(run("exit 7").code(), Some(7));
    let killed = run("kill -TERM $$");
    assert_eq!(killed.output.status.signal(), Some(15));
    let mut bash = env.command("bash");
    bash.arg("-c").arg(format!(
        "{} exec client-nomfa --server -- sh -c 'kill -INT $$'; echo \"status=$?\"",
        support::BIN
    ));
    assert_eq!(env.run_command(bash).stdout().trim(), "status=130");
    let missing = env.run(&[
        "exec",
        "client-nomfa",
        "--server",
        "--",
        "no-such-command-xyz",
    ]);
    assert_eq!(missing.code(), Some(127), "{}", missing.stderr());

    // A SIGTERM sent to assume-role reaches the child, whose exit is then ours; the endpoint
    // goes with it.
    let ready = env.work_dir().join("ready");
    let mut cmd = env.bin(&[
        "exec",
        "client-nomfa",
        "--server",
        "--",
        "sh",
        "-c",
        &format!("{REPORT_TOKEN}; trap 'exit 42' TERM; echo \"$AWS_CONTAINER_CREDENTIALS_FULL_URI\" > ready.tmp; mv ready.tmp ready; while :; do sleep 0.05; done"),
    ]);
    let mut parent = cmd
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while !ready.exists() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the child never started"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let uri = std::fs::read_to_string(&ready).unwrap();
    let port: u16 = uri
        .trim()
        .trim_start_matches("http://127.0.0.1:")
        .trim_end_matches('/')
        .parse()
        .unwrap();
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_ok());
    // SAFETY: a plain syscall on a process this test started.
    unsafe {
        libc::kill(i32::try_from(parent.id()).unwrap(), libc::SIGTERM);
    }
    let status = support::wait_at_most(
        &mut parent,
        Duration::from_secs(10),
        "assume-role, after SIGTERM,",
    );
    assert_eq!(status.code(), Some(42));
    let output = parent.wait_with_output().unwrap();
    env.check_stderr(
        &String::from_utf8_lossy(&output.stdout),
        &String::from_utf8_lossy(&output.stderr),
    );
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "the endpoint outlived the child"
    );
}

#[test]
fn every_mfa_code_is_asked_before_the_child_starts() {
    let env = TestEnv::with_moto();
    let fx = moto();
    env.append_config(&format!(
        "\n[profile needs-code]\nrole_arn = {}\nsource_profile = contractor\nexternal_id = {}\nmfa_serial = {}\n",
        fx.client_role_arn, fx.client_external_id, fx.mfa_serial
    ));
    let marker = env.work_dir().join("started");
    let run = env.run(&[
        "exec",
        "needs-code",
        "--server",
        "--",
        "touch",
        marker.to_str().unwrap(),
    ]);
    assert_eq!(run.code(), Some(4), "{}", run.stderr());
    assert!(
        run.stderr().contains("no terminal to ask on"),
        "{}",
        run.stderr()
    );
    assert!(
        !marker.exists(),
        "the child started without its credentials"
    );
}

/// A loopback STS whose sessions live `life`: `AssumeRole` issues them, `GetCallerIdentity`
/// refuses any that has expired (as STS does) or that it never issued.
struct ShortSts {
    url: String,
    issued: Arc<Mutex<HashMap<String, SystemTime>>>,
    calls: Arc<Mutex<Vec<String>>>,
}

impl ShortSts {
    fn start(life: Duration) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let issued: Arc<Mutex<HashMap<String, SystemTime>>> = Arc::default();
        let calls: Arc<Mutex<Vec<String>>> = Arc::default();
        let (keys, log) = (issued.clone(), calls.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let (keys, log) = (keys.clone(), log.clone());
                std::thread::spawn(move || {
                    let request = support::read_request(&mut stream);
                    let (status, body) = sts_answer(&request, life, &keys, &log);
                    let response = format!(
                        "HTTP/1.1 {status} X\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = stream.write_all(response.as_bytes());
                });
            }
        });
        Self { url, issued, calls }
    }

    fn count(&self, action: &str) -> usize {
        self.calls
            .lock()
            .unwrap()
            .iter()
            .filter(|a| *a == action)
            .count()
    }
}

fn sts_answer(
    request: &str,
    life: Duration,
    issued: &Mutex<HashMap<String, SystemTime>>,
    calls: &Mutex<Vec<String>>,
) -> (u16, String) {
    let body = request.split("\r\n\r\n").nth(1).unwrap_or_default();
    let action = body
        .split('&')
        .find_map(|p| p.strip_prefix("Action="))
        .unwrap_or_default()
        .to_owned();
    let key = request
        .split("Credential=")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_default()
        .to_owned();
    calls.lock().unwrap().push(action.clone());
    let error = |status, code: &str| {
        (
            status,
            format!(
                "<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{code}</Message></Error><RequestId>1</RequestId></ErrorResponse>"
            ),
        )
    };
    match action.as_str() {
        "AssumeRole" => {
            let mut issued = issued.lock().unwrap();
            let new_key = format!("ASIASHORT{:011}", issued.len() + 1);
            let expires = SystemTime::now() + life;
            issued.insert(new_key.clone(), expires);
            (
                200,
                format!(
                    "<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><AssumeRoleResult><Credentials><AccessKeyId>{new_key}</AccessKeyId><SecretAccessKey>short-secret-{new_key}</SecretAccessKey><SessionToken>short-token-{new_key}</SessionToken><Expiration>{}</Expiration></Credentials><AssumedRoleUser><Arn>arn:aws:sts::222222222222:assumed-role/r/soak</Arn><AssumedRoleId>AROAEXAMPLE:soak</AssumedRoleId></AssumedRoleUser></AssumeRoleResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></AssumeRoleResponse>",
                    assume_role::credentials::rfc3339(expires)
                ),
            )
        }
        "GetCallerIdentity" => match issued.lock().unwrap().get(&key) {
            None => error(403, "InvalidClientTokenId"),
            Some(expires) if *expires <= SystemTime::now() => error(400, "ExpiredToken"),
            Some(_) => (
                200,
                "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><GetCallerIdentityResult><Arn>arn:aws:sts::222222222222:assumed-role/r/soak</Arn><UserId>AROAEXAMPLE:soak</UserId><Account>222222222222</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></GetCallerIdentityResponse>".to_owned(),
            ),
        },
        _ => error(400, "InvalidAction"),
    }
}

#[test]
fn a_soak_of_two_lifetimes_sees_no_failure_and_one_sts_call_per_refresh() {
    const LIFE: Duration = Duration::from_secs(30);
    let sts = ShortSts::start(LIFE);
    let mut env = TestEnv::new();
    env.set("AWS_ENDPOINT_URL", &sts.url);
    let audit_dir = env.dir.path().join("audit-state");
    env.set("ASSUME_ROLE_STATE_DIR", &audit_dir.to_string_lossy());
    env.write_credentials(
        "[contractor]\naws_access_key_id = AKIASOAKEXAMPLE00001\naws_secret_access_key = soak-long-term-secret\n",
    );
    env.write_config(
        "[profile soak]\nrole_arn = arn:aws:iam::222222222222:role/r\nsource_profile = contractor\nrole_session_name = soak\nregion = eu-west-1\n",
    );
    let script = r#"
import boto3, json, os, sys, time
sts = boto3.client("sts")
end = time.monotonic() + float(sys.argv[1])
ok, failed, errors = 0, 0, []
while time.monotonic() < end:
    try:
        sts.get_caller_identity()
        ok += 1
    except Exception as e:
        failed += 1
        errors.append(str(e)[:300])
    # Pacing, not waiting for anything: some 400 calls spread over two lifetimes.
    time.sleep(0.15)
token = os.environ["AWS_CONTAINER_AUTHORIZATION_TOKEN"]  # for the harness's check of stderr
print(json.dumps({"ok": ok, "failed": failed, "errors": errors[:5], "AWS_CONTAINER_AUTHORIZATION_TOKEN": token}))
"#;
    let seconds = (LIFE * 2 + Duration::from_secs(3)).as_secs().to_string();
    let cmd = python_child(&env, "soak", script, &[&seconds]);
    let output = support::run_bounded(cmd, LIFE * 4).expect("the soak did not finish in time");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    let seen: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(seen["failed"], 0, "{seen}\n{stderr}");
    let calls = seen["ok"].as_u64().unwrap();
    assert!(calls >= 300, "{seen}");
    // A refresh a quarter of a life before expiry: every 22.5 s, so 2 (or 3, as the child
    // exits) in 63 s, whatever the hundreds of requests.
    let refreshes = sts.count("AssumeRole") - 1;
    assert!(
        (2..=3).contains(&refreshes),
        "{refreshes} refreshes for {calls} calls"
    );
    assert_eq!(sts.issued.lock().unwrap().len(), refreshes + 1);
    assert!(!stderr.contains("cannot refresh"), "{stderr}");
    // The audit log has the first credentials and each refresh, by the program's name alone.
    let log = std::fs::read_to_string(audit_dir.join("audit.jsonl")).unwrap();
    let commands: Vec<String> = log
        .lines()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap())
        .inspect(|r| {
            assert_eq!(r["outcome"], "ok", "{r}");
            assert_eq!(r["served"], "sts", "{r}");
            let program = r["program"].as_str().unwrap();
            assert!(
                program.starts_with("python") && !program.contains('/'),
                "{r}"
            );
        })
        .map(|r| r["command"].as_str().unwrap().to_owned())
        .collect();
    let mut expected = vec!["exec --server".to_owned()];
    expected.extend(std::iter::repeat_n(
        "exec --server (refresh)".to_owned(),
        refreshes,
    ));
    assert_eq!(commands, expected, "{log}");
    assert!(!log.contains("get_caller_identity"), "{log}");
}

/// A flood of idle connections (as another local user could open) under a small descriptor
/// limit must not take the endpoint down: past the cap new ones are closed at once, idle ones
/// after 10 s, a full descriptor table is waited out, and the child is served again.
#[cfg(unix)]
#[test]
fn a_flood_of_idle_connections_does_not_take_the_endpoint_down() {
    let env = TestEnv::with_moto();
    let script = r#"
import os, resource, socket, time, urllib.request
# The endpoint runs with a soft limit of 256 descriptors; this flood, from the child, may use more.
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
url = os.environ["AWS_CONTAINER_CREDENTIALS_FULL_URI"]
host, port = url.split("//")[1].split("/")[0].split(":")
idle = []
for _ in range(300):
    try:
        idle.append(socket.create_connection((host, int(port)), timeout=2))
    except OSError:
        break
def fetch():
    request = urllib.request.Request(url, headers={"Authorization": os.environ["AWS_CONTAINER_AUTHORIZATION_TOKEN"]})
    return urllib.request.urlopen(request, timeout=2).status
status = None
deadline = time.time() + 25
while time.time() < deadline:
    try:
        status = fetch()
        break
    except Exception:
        time.sleep(0.5)
print("opened", len(idle), "status", status)
print("AWS_CONTAINER_AUTHORIZATION_TOKEN=" + os.environ["AWS_CONTAINER_AUTHORIZATION_TOKEN"])
"#;
    let python = support::python();
    let mut cmd = env.command("sh");
    cmd.arg("-c")
        .arg("ulimit -Sn 256; exec \"$@\"")
        .arg("sh")
        .arg(support::BIN)
        .args([
            "exec",
            "client-nomfa",
            "--server",
            "--",
            python.to_str().unwrap(),
            "-c",
            script,
        ]);
    let out = env.run_command(cmd).ok();
    assert!(out.contains("opened 300 status 200"), "{out}");
}
