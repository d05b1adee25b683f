//! `assume-role sso`: login through a browser (PKCE) and the device flow, reuse, refresh,
//! expiry, logout, sync, and the AWS CLI's token cache both ways. moto has no IAM Identity
//! Center, so a loopback fake (`support/sso_fake.py`) plays it, checking what the real services
//! check; the role credentials it hands out are moto's, and sign the client's AssumeRole there.

use super::*;
use std::io::BufRead as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use support::Run;

/// A running fake; it stops when its stdin closes (when this is dropped).
struct Fake {
    endpoint: String,
    child: Child,
}

impl Fake {
    fn start(config: &serde_json::Value) -> Self {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cli/support/sso_fake.py");
        let mut config = config.clone();
        config["log"] = serde_json::Value::Bool(false);
        let mut child = Command::new(support::python())
            .arg(&script)
            .arg(config.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the SSO fake");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let ready: serde_json::Value = serde_json::from_str(&line).expect("the fake's address");
        Self {
            endpoint: ready["endpoint"].as_str().unwrap().to_owned(),
            child,
        }
    }

    fn state(&self) -> serde_json::Value {
        serde_json::from_str(&http(&format!("{}/_fake/state", self.endpoint), None)).unwrap()
    }

    fn count(&self, counter: &str) -> u64 {
        self.state()["counters"][counter].as_u64().unwrap_or(0)
    }

    fn post(&self, route: &str, body: &serde_json::Value) {
        http(
            &format!("{}/_fake/{route}", self.endpoint),
            Some(&body.to_string()),
        );
    }
}

impl Drop for Fake {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

/// A GET (or a POST of `body`) through python's urllib: the harness has no HTTP client.
fn http(url: &str, body: Option<&str>) -> String {
    let out = Command::new(support::python())
        .args([
            "-c",
            "import sys, urllib.request\nbody = sys.argv[2].encode() if len(sys.argv) > 2 else None\nsys.stdout.write(urllib.request.urlopen(urllib.request.Request(sys.argv[1], data=body, method='POST' if body is not None else 'GET')).read().decode())",
            url,
        ])
        .args(body)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// One account with role `Admin`, whose credentials are the contractor's moto keys.
fn accounts(roles: &[&str]) -> serde_json::Value {
    let fx = moto();
    let roles: Vec<serde_json::Value> = roles
        .iter()
        .map(|role| {
            serde_json::json!({"roleName": role, "credentials": {
                "accessKeyId": fx.contractor.access_key_id,
                "secretAccessKey": fx.contractor.secret_access_key}})
        })
        .collect();
    serde_json::json!([{"accountId": "111111111111", "accountName": "Dev Account",
        "emailAddress": "dev@example.com", "roles": roles}])
}

/// A moto env with an `sso-session`, a profile through it (`my-sso`), and a client role chained
/// from it (`client-sso`); the fake at both SSO endpoints; the test browser as `BROWSER`.
fn sso_env(fake: &Fake) -> TestEnv {
    let fx = moto();
    let mut env = TestEnv::with_moto();
    env.set("AWS_ENDPOINT_URL_SSO_OIDC", &fake.endpoint)
        .set("AWS_ENDPOINT_URL_SSO", &fake.endpoint)
        .set(
            "BROWSER",
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/cli/support/follow_browser.py")
                .to_str()
                .unwrap(),
        );
    let log = env.dir.path().join("browser.log");
    env.set("FOLLOW_BROWSER_LOG", log.to_str().unwrap());
    env.append_config(&format!(
        "\n[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = {region}\n\n\
         [profile my-sso]\nsso_session = corp\nsso_account_id = 111111111111\nsso_role_name = Admin\nregion = {region}\n\n\
         [profile client-sso]\nrole_arn = {client}\nsource_profile = my-sso\nexternal_id = {ext}\nrole_session_name = sso-chain-test\nregion = {region}\n",
        region = fx.region,
        client = fx.client_role_arn,
        ext = fx.client_external_id,
    ));
    env
}

/// The token file of session `corp`, as the AWS CLI names it: `sha1("corp")`.
fn token_path(env: &TestEnv) -> PathBuf {
    env.home()
        .join(".aws/sso/cache/ee0bfd2552fbd840c02cc48b6e823320543c450f.json")
}

fn read_token(env: &TestEnv) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(token_path(env)).expect("the token file")).unwrap()
}

fn write_token(env: &TestEnv, token: &serde_json::Value) {
    std::fs::write(token_path(env), token.to_string()).unwrap();
}

/// Logs in through the browser, and tells the harness the secrets that came back.
fn login(env: &TestEnv) -> Run {
    let run = env.run(&["sso", "login", "--profile", "my-sso"]);
    assert_eq!(run.code(), Some(0), "{}", run.stderr());
    register(env);
    run
}

fn register(env: &TestEnv) {
    let token = read_token(env);
    for (kind, field) in [
        ("SSO access token", "accessToken"),
        ("SSO refresh token", "refreshToken"),
        ("SSO client secret", "clientSecret"),
    ] {
        if let Some(value) = token[field].as_str() {
            env.register_secret(kind, value);
        }
    }
}

fn browser_opened(env: &TestEnv) -> usize {
    std::fs::read_to_string(env.dir.path().join("browser.log")).map_or(0, |t| t.lines().count())
}

fn rfc3339_in(secs: i64) -> String {
    let out = Command::new(support::python())
        .args([
            "-c",
            "import sys, datetime\nt = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=int(sys.argv[1]))\nprint(t.strftime('%Y-%m-%dT%H:%M:%SZ'))",
            &secs.to_string(),
        ])
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

#[test]
fn the_browser_login_serves_a_client_role_chained_from_sso_and_is_reused() {
    let fake = Fake::start(&serde_json::json!({"accounts": accounts(&["Admin"])}));
    let env = sso_env(&fake);
    let run = login(&env);
    assert!(
        run.stderr().contains("signed in to SSO session `corp`"),
        "{}",
        run.stderr()
    );

    // The AWS CLI's cache: named by sha1("corp"), 0600, with the fields it writes.
    let token = read_token(&env);
    for field in [
        "startUrl",
        "region",
        "accessToken",
        "expiresAt",
        "clientId",
        "clientSecret",
        "registrationExpiresAt",
        "refreshToken",
    ] {
        assert!(token[field].is_string(), "{field}: {token}");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(token_path(&env))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // PKCE on a loopback redirect, through the page (the URL never on the browser's command line).
    let state = fake.state();
    let redirect = state["last_create_token_redirect_uri"].as_str().unwrap();
    assert!(
        redirect.starts_with("http://127.0.0.1:") && redirect.ends_with("/oauth/callback"),
        "{redirect}"
    );
    assert_eq!(state["counters"]["create_token:authorization_code"], 1);
    let log = std::fs::read_to_string(env.dir.path().join("browser.log")).unwrap();
    assert!(
        log.contains("file:///") && !log.contains("/authorize?"),
        "{log}"
    );

    // The client's role, from the SSO role's credentials, at moto with checks on.
    let vars = env_json(&env, "client-sso", &[]);
    assert!(vars["AWS_SESSION_TOKEN"].len() > 20);
    let calls = recorded_assume_roles("sso-chain-test");
    assert_eq!(calls.len(), 1);

    // A token good for hours is reused; `--force` signs in again.
    let again = env.run(&["sso", "login", "--profile", "my-sso"]);
    assert!(
        again.stderr().contains("already signed in"),
        "{}",
        again.stderr()
    );
    assert_eq!(fake.count("authorize"), 1);
    let forced = env.run(&["sso", "login", "--sso-session", "corp", "--force"]);
    assert_eq!(forced.code(), Some(0), "{}", forced.stderr());
    register(&env);
    assert_eq!(fake.count("authorize"), 2);
    // One registration serves both logins (the AWS CLI caches it too).
    assert_eq!(fake.count("register_client"), 1);
}

#[test]
fn a_callback_with_another_state_is_turned_away_and_the_login_keeps_waiting() {
    let fake = Fake::start(&serde_json::json!({"accounts": accounts(&["Admin"])}));
    let mut env = sso_env(&fake);
    env.set("FOLLOW_BROWSER_MODE", "tamper_state");
    // A forged redirect must neither be accepted nor end the login (anyone on the machine can
    // send one): the login goes on waiting for the real browser.
    let mut child = env
        .bin(&["sso", "login", "--profile", "my-sso"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let log = env.dir.path().join("browser.log");
    let started = std::time::Instant::now();
    while !std::fs::read_to_string(&log).is_ok_and(|t| t.contains("\"status\": 400")) {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "the browser never came"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert!(
        child.try_wait().unwrap().is_none(),
        "the login ended on a forged redirect"
    );
    child.kill().unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("turned away a sign-in redirect"),
        "{stderr}"
    );
    assert!(!token_path(&env).exists());
    assert_eq!(fake.count("create_token:authorization_code"), 0);
}

#[test]
fn the_device_flow_shows_the_code_and_polls_until_it_is_confirmed() {
    let fake = Fake::start(
        &serde_json::json!({"accounts": accounts(&["Admin"]), "device_approve_after_polls": 1}),
    );
    let env = sso_env(&fake);
    let run = env.run(&[
        "sso",
        "login",
        "--profile",
        "my-sso",
        "--device-code",
        "--no-browser",
    ]);
    assert_eq!(run.code(), Some(0), "{}", run.stderr());
    register(&env);
    assert!(
        run.stderr().contains("and confirm the code"),
        "{}",
        run.stderr()
    );
    assert!(fake.count("create_token:device_code") >= 2);
    assert_eq!(browser_opened(&env), 0);
    env_json(&env, "my-sso", &[]);
}

#[test]
fn a_token_near_expiry_is_refreshed_and_written_back() {
    let fake = Fake::start(&serde_json::json!({"accounts": accounts(&["Admin"])}));
    let env = sso_env(&fake);
    login(&env);
    let mut token = read_token(&env);
    let old_access = token["accessToken"].as_str().unwrap().to_owned();
    token["expiresAt"] = rfc3339_in(300).into();
    write_token(&env, &token);
    env_json(&env, "my-sso", &["--no-cache"]);
    register(&env);
    assert_eq!(fake.count("create_token:refresh_token"), 1);
    let refreshed = read_token(&env);
    assert_ne!(refreshed["accessToken"].as_str().unwrap(), old_access);
    assert!(refreshed["expiresAt"].as_str().unwrap() > token["expiresAt"].as_str().unwrap());
    assert_eq!(browser_opened(&env), 1);
}

#[test]
fn an_expired_token_that_cannot_be_refreshed_exits_4_naming_the_login_and_opens_nothing() {
    let fake = Fake::start(&serde_json::json!({"accounts": accounts(&["Admin"])}));
    let env = sso_env(&fake);
    login(&env);
    let mut token = read_token(&env);
    token["expiresAt"] = rfc3339_in(-60).into();
    token.as_object_mut().unwrap().remove("refreshToken");
    write_token(&env, &token);
    for args in [
        &["credential-process", "client-sso"][..],
        &["env", "my-sso", "--no-cache"],
    ] {
        let run = env.run(args);
        assert_eq!(run.code(), Some(4), "{args:?}: {}", run.stderr());
        assert!(
            run.stderr()
                .contains("assume-role sso login --profile my-sso"),
            "{}",
            run.stderr()
        );
    }
    assert_eq!(browser_opened(&env), 1);
    assert_eq!(fake.count("authorize"), 1);
    let sessions = env.run(&["sso", "sessions"]).ok();
    assert!(sessions.contains("expired"), "{sessions}");
}

#[test]
fn logout_ends_the_session_at_the_portal_and_removes_the_token() {
    let fake = Fake::start(&serde_json::json!({"accounts": accounts(&["Admin"])}));
    let env = sso_env(&fake);
    login(&env);
    let run = env.run(&["sso", "logout", "--profile", "my-sso"]);
    assert_eq!(run.code(), Some(0), "{}", run.stderr());
    assert_eq!(fake.count("logout"), 1);
    assert!(!token_path(&env).exists());
    assert!(
        fake.state()["valid_access_tokens"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let sessions = env.run(&["sso", "sessions"]).ok();
    assert!(sessions.contains("not signed in"), "{sessions}");
    let run = env.run(&["env", "my-sso", "--no-cache"]);
    assert_eq!(run.code(), Some(4), "{}", run.stderr());
}

#[test]
fn sync_shows_its_changes_writes_only_its_block_and_prunes_only_when_asked() {
    let fake = Fake::start(&serde_json::json!({"accounts": accounts(&["Admin", "ReadOnly"])}));
    let env = sso_env(&fake);
    login(&env);
    let before = std::fs::read(env.config_path()).unwrap();

    // No terminal and no `--yes`: the changes are shown, nothing is written.
    let run = env.run(&["sso", "sync", "--sso-session", "corp"]);
    assert_eq!(run.code(), Some(1), "{}", run.stderr());
    assert!(
        run.stderr().contains("+ Dev-Account/Admin")
            && run.stderr().contains("+ Dev-Account/ReadOnly"),
        "{}",
        run.stderr()
    );
    assert_eq!(std::fs::read(env.config_path()).unwrap(), before);

    env.run(&["sso", "sync", "--sso-session", "corp", "--yes"])
        .ok();
    let after = std::fs::read_to_string(env.config_path()).unwrap();
    assert!(
        after.starts_with(std::str::from_utf8(&before).unwrap()),
        "{after}"
    );
    let list = env.run(&["list"]).ok();
    assert!(list.contains("Dev-Account/ReadOnly"), "{list}");
    env_json(&env, "Dev-Account/Admin", &[]);

    // A role that is gone stays without `--prune`, and goes with it; nothing else changes.
    fake.post("set_accounts", &accounts(&["Admin"]));
    let kept = env.run(&["sso", "sync", "--sso-session", "corp", "--yes"]);
    assert!(
        kept.stderr().contains("kept: `--prune` removes it"),
        "{}",
        kept.stderr()
    );
    assert!(
        std::fs::read_to_string(env.config_path())
            .unwrap()
            .contains("Dev-Account/ReadOnly")
    );
    env.run(&["sso", "sync", "--sso-session", "corp", "--prune", "--yes"])
        .ok();
    let pruned = std::fs::read_to_string(env.config_path()).unwrap();
    assert!(
        !pruned.contains("ReadOnly") && pruned.contains("Dev-Account/Admin"),
        "{pruned}"
    );
    assert!(
        pruned.starts_with(std::str::from_utf8(&before).unwrap()),
        "{pruned}"
    );
}

/// Temporary credentials for the same-account role, from moto: boto3's SSO provider insists on
/// a session token in the role credentials.
fn temporary_credentials() -> (String, String, String) {
    let fx = moto();
    let out = Command::new(support::python())
        .args([
            "-c",
            "import sys, json, boto3\nsts = boto3.client('sts', endpoint_url=sys.argv[1], region_name=sys.argv[2], aws_access_key_id=sys.argv[3], aws_secret_access_key=sys.argv[4])\nc = sts.assume_role(RoleArn=sys.argv[5], RoleSessionName='sso-boto3', ExternalId=sys.argv[6])['Credentials']\nprint(json.dumps([c['AccessKeyId'], c['SecretAccessKey'], c['SessionToken']]))",
            &fx.endpoint,
            &fx.region,
            &fx.contractor.access_key_id,
            &fx.contractor.secret_access_key,
            &fx.same_account_role_arn,
            &fx.same_account_external_id,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn boto3_reads_our_token_and_we_read_one_the_aws_cli_wrote() {
    let (key, secret, session) = temporary_credentials();
    let fake = Fake::start(
        &serde_json::json!({"accounts": [{"accountId": "111111111111",
        "accountName": "Dev", "emailAddress": "d@example.com", "roles": [{"roleName": "Admin",
        "credentials": {"accessKeyId": key, "secretAccessKey": secret, "sessionToken": session}}]}]}),
    );
    let env = sso_env(&fake);
    env.register_secret("role session token", &session);
    login(&env);

    // boto3's own SSO provider, on our cache: role credentials from the fake, which moto accepts.
    let mut boto = env.command(support::python());
    boto.args([
        "-c",
        "import boto3\ns = boto3.Session(profile_name='my-sso')\nprint(s.client('sts').get_caller_identity()['Arn'])",
    ]);
    let run = env.run_command(boto);
    assert_eq!(run.code(), Some(0), "{}", run.stderr());
    assert!(run.stdout().contains(":assumed-role/"), "{}", run.stdout());

    // A token the AWS CLI wrote (its own layout: compact JSON, its field order) is used as it is.
    let token = read_token(&env);
    let cli_written = format!(
        "{{\"startUrl\": \"{}\", \"region\": \"{}\", \"accessToken\": \"{}\", \"expiresAt\": \"{}\"}}",
        token["startUrl"].as_str().unwrap(),
        token["region"].as_str().unwrap(),
        token["accessToken"].as_str().unwrap(),
        token["expiresAt"].as_str().unwrap(),
    );
    std::fs::write(token_path(&env), cli_written).unwrap();
    env_json(&env, "my-sso", &["--no-cache"]);
    assert_eq!(fake.count("create_token:refresh_token"), 0);
}

#[test]
fn a_legacy_profile_signs_in_with_the_device_flow_into_the_start_urls_file() {
    let fake = Fake::start(
        &serde_json::json!({"accounts": accounts(&["Admin"]), "device_approve_after_polls": 0}),
    );
    let fx = moto();
    let env = sso_env(&fake);
    env.append_config(&format!(
        "\n[profile legacy]\nsso_start_url = https://legacy.awsapps.com/start\nsso_region = {region}\nsso_account_id = 111111111111\nsso_role_name = Admin\nregion = {region}\n",
        region = fx.region
    ));
    let run = env.run(&["sso", "login", "--profile", "legacy", "--no-browser"]);
    assert_eq!(run.code(), Some(0), "{}", run.stderr());
    assert!(run.stderr().contains("device flow"), "{}", run.stderr());
    // sha1("https://legacy.awsapps.com/start"), as botocore names it; no refresh for a legacy token.
    let path = env
        .home()
        .join(".aws/sso/cache/79e435d7a515078e81c9dffc35f38d5687ebd3a7.json");
    let token: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    env.register_secret("SSO access token", token["accessToken"].as_str().unwrap());
    assert!(token.get("refreshToken").is_none(), "{token}");
    env_json(&env, "legacy", &[]);
    let sessions = env.run(&["sso", "sessions"]).ok();
    assert!(sessions.contains("legacy (profile)"), "{sessions}");
}
