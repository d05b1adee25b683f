//! `assume-role keys rotate`, end to end against moto's IAM with signature and policy checks on.
//! Each test rotates the key of an IAM user of its own, never the fixture's shared ones.

use super::*;
use assume_role::secret::mask_access_key;
use std::path::Path;
use std::process::Command;

const PASSPHRASE: &str = "rotate passphrase for tests";

/// Sets up IAM users and reads their keys, through boto3 from the test venv, as an admin: the
/// fixture's same-account role, which may do anything, assumed with the contractor's key.
/// moto does not evaluate a policy's `Resource` for IAM calls, so the user's policy allows its
/// key management on `*` (on AWS it would name the user itself).
const ADMIN: &str = r#"
import json, sys
import boto3
from botocore.config import Config

a = json.loads(sys.argv[1])
config = Config(region_name=a["region"], retries={"max_attempts": 1, "mode": "standard"})

def client(service, key, secret, token=None):
    return boto3.client(service, endpoint_url=a["endpoint"], region_name=a["region"], config=config,
                        aws_access_key_id=key, aws_secret_access_key=secret, aws_session_token=token)

admin = client("sts", a["key"], a["secret"]).assume_role(
    RoleArn=a["role"], RoleSessionName="rotate-test-admin", ExternalId=a["external_id"])["Credentials"]
iam = client("iam", admin["AccessKeyId"], admin["SecretAccessKey"], admin["SessionToken"])
user = a["user"]
if a["op"] == "create":
    arn = iam.create_user(UserName=user)["User"]["Arn"]
    actions = ["iam:GetUser", "iam:ListAccessKeys", "iam:CreateAccessKey"]
    if a["may_delete"]:
        actions.append("iam:DeleteAccessKey")
    iam.put_user_policy(UserName=user, PolicyName="own-keys", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": actions, "Resource": "*"},
            {"Effect": "Allow", "Action": ["sts:AssumeRole", "sts:GetCallerIdentity"], "Resource": "*"},
        ],
    }))
    keys = [iam.create_access_key(UserName=user)["AccessKey"] for _ in range(a["keys"])]
    print(json.dumps({"arn": arn, "keys": [
        {"access_key_id": k["AccessKeyId"], "secret_access_key": k["SecretAccessKey"]} for k in keys]}))
elif a["op"] == "add_key":
    print(json.dumps(iam.create_access_key(UserName=user)["AccessKey"]["AccessKeyId"]))
else:
    print(json.dumps(sorted(k["AccessKeyId"] for k in iam.list_access_keys(UserName=user)["AccessKeyMetadata"])))
"#;

#[derive(serde::Deserialize)]
struct NewUser {
    keys: Vec<NewKey>,
}

#[derive(serde::Deserialize)]
struct NewKey {
    access_key_id: String,
    secret_access_key: String,
}

fn admin(args: &serde_json::Value) -> String {
    admin_at(moto(), args)
}

fn admin_at(fx: &support::Fixture, args: &serde_json::Value) -> String {
    let mut all = serde_json::json!({
        "endpoint": fx.endpoint,
        "region": fx.region,
        "key": fx.contractor.access_key_id,
        "secret": fx.contractor.secret_access_key,
        "role": fx.same_account_role_arn,
        "external_id": fx.same_account_external_id,
    });
    all.as_object_mut()
        .unwrap()
        .extend(args.as_object().unwrap().clone());
    let output = Command::new(support::python())
        .arg("-c")
        .arg(ADMIN)
        .arg(all.to_string())
        .output()
        .expect("run python");
    assert!(
        output.status.success(),
        "the admin script failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// A new IAM user with `keys` access keys, allowed to manage them (and to delete them only if
/// `may_delete`), to assume roles and to ask who it is.
fn create_user(user: &str, keys: usize, may_delete: bool) -> Vec<(String, String)> {
    let text = admin(&serde_json::json!({
        "op": "create", "user": user, "keys": keys, "may_delete": may_delete,
    }));
    let created: NewUser = serde_json::from_str(&text).unwrap();
    created
        .keys
        .into_iter()
        .map(|k| (k.access_key_id, k.secret_access_key))
        .collect()
}

/// The user's access key IDs in IAM, sorted.
fn keys_in_iam(user: &str) -> Vec<String> {
    serde_json::from_str(&admin(&serde_json::json!({"op": "list", "user": user}))).unwrap()
}

/// A moto env with no credentials file; profile `rot` holds `key` (stored in the file
/// backend) and `rot-client` assumes the client's role from it.
fn rotate_env(key: &(String, String)) -> TestEnv {
    let fx = moto();
    let mut env = TestEnv::with_moto();
    std::fs::remove_file(&env.vars["AWS_SHARED_CREDENTIALS_FILE"]).unwrap();
    env.set("ASSUME_ROLE_FILE_PASSPHRASE", PASSPHRASE);
    env.write_config(&format!(
        "[profile rot]\nregion = {region}\n\n\
         [profile rot-client]\nrole_arn = {role}\nsource_profile = rot\nexternal_id = {ext}\nrole_session_name = rotate-test\nregion = {region}\n",
        region = fx.region,
        role = fx.client_role_arn,
        ext = fx.client_external_id,
    ));
    let mut add = env.bin(&["keys", "add", "rot", "--from-env", "--backend", "file"]);
    add.env("AWS_ACCESS_KEY_ID", &key.0)
        .env("AWS_SECRET_ACCESS_KEY", &key.1);
    env.run_command(add).ok();
    env
}

/// The cached session files.
fn cached_sessions(env: &TestEnv) -> usize {
    std::fs::read_dir(env.cache_dir().join("sessions")).map_or(0, |dir| dir.flatten().count())
}

#[test]
fn a_rotation_replaces_the_key_in_iam_and_the_store_and_evicts_its_sessions() {
    let user = "rotate-ok";
    let old = create_user(user, 1, true).remove(0);
    let env = rotate_env(&old);
    // A session made from the old key, cached.
    let before = env_json(&env, "rot-client", &[]);
    assert!(before["AWS_SESSION_TOKEN"].len() > 20);
    assert_eq!(cached_sessions(&env), 1);

    let run = env.run(&["keys", "rotate", "rot"]);
    run.ok();
    eprintln!("keys rotate against moto took {:?}", run.elapsed);
    let stderr = run.stderr();
    assert!(
        stderr.contains("rotated the key of profile `rot`"),
        "{stderr}"
    );
    assert!(stderr.contains(&mask_access_key(&old.0)), "{stderr}");
    assert!(
        stderr.contains("1 session cached from it removed"),
        "{stderr}"
    );

    // IAM holds exactly one key, a new one, and the store has it.
    let now = keys_in_iam(user);
    assert_eq!(now.len(), 1, "{now:?}");
    assert_ne!(now[0], old.0);
    let list = env.run(&["keys", "list"]).ok();
    assert!(list.contains(&mask_access_key(&now[0])), "{list}");
    assert!(!list.contains(&mask_access_key(&old.0)), "{list}");
    // The old key's session is gone from the cache.
    assert_eq!(cached_sessions(&env), 0);
    // The stored key assumes the role: a new session, not the old one.
    let after = env_json(&env, "rot-client", &[]);
    assert_ne!(after["AWS_ACCESS_KEY_ID"], before["AWS_ACCESS_KEY_ID"]);
    // The old key no longer works.
    let mut check = env.bin(&["keys", "add", "old-key", "--from-env", "--backend", "file"]);
    check
        .env("AWS_ACCESS_KEY_ID", &old.0)
        .env("AWS_SECRET_ACCESS_KEY", &old.1);
    assert_eq!(env.run_command(check).code(), Some(5));
}

#[test]
fn a_user_with_two_keys_is_refused_naming_both_and_nothing_changes() {
    let user = "rotate-two";
    let keys = create_user(user, 2, true);
    let env = rotate_env(&keys[0]);
    let run = env.run(&["keys", "rotate", "rot"]);
    assert_eq!(run.code(), Some(1), "{}", run.stderr());
    let stderr = run.stderr();
    assert!(stderr.contains("already has two access keys"), "{stderr}");
    assert!(stderr.contains("nothing changed"), "{stderr}");
    for (id, _) in &keys {
        assert!(stderr.contains(&mask_access_key(id)), "{stderr}");
    }
    let mut ids: Vec<String> = keys.iter().map(|k| k.0.clone()).collect();
    ids.sort();
    assert_eq!(keys_in_iam(user), ids);
    let list = env.run(&["keys", "list"]).ok();
    assert!(list.contains(&mask_access_key(&keys[0].0)), "{list}");
    // The stored key still works.
    env_json(&env, "rot-client", &[]);
}

#[test]
fn a_key_left_by_an_interrupted_rotation_is_named_and_deleted_on_yes() {
    let user = "rotate-stray";
    let old = create_user(user, 1, true).remove(0);
    let mut env = rotate_env(&old);
    // What a kill between `CreateAccessKey` and storing the key leaves: the rotation's record
    // (written before the call) and a second key in IAM whose secret nobody has.
    let started = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        - 5;
    let keys_dir = env.dir.path().join("xdg/data/assume-role/keys");
    std::fs::write(
        keys_dir.join("rot.rotating"),
        serde_json::json!({"old_key": old.0, "started": started}).to_string(),
    )
    .unwrap();
    let stray: String =
        serde_json::from_str(&admin(&serde_json::json!({"op": "add_key", "user": user}))).unwrap();
    // The hint's command names it in full, on purpose: it must run as printed.
    env.allow_on_stderr(&stray);

    // No terminal and no `--yes`: it says what the key is and how to finish, and changes nothing.
    let run = env.run(&["keys", "rotate", "rot"]);
    assert_eq!(run.code(), Some(1), "{}", run.stderr());
    let stderr = run.stderr();
    assert!(
        stderr.contains(&mask_access_key(&stray)) && stderr.contains("interrupted"),
        "{stderr}"
    );
    assert!(stderr.contains("its secret is stored nowhere"), "{stderr}");
    assert!(stderr.contains("keys rotate rot --yes"), "{stderr}");
    let mut both = vec![old.0.clone(), stray.clone()];
    both.sort();
    assert_eq!(keys_in_iam(user), both);

    let run = env.run(&["keys", "rotate", "rot", "--yes"]);
    assert_eq!(run.code(), Some(0), "{}", run.stderr());
    let now = keys_in_iam(user);
    assert_eq!(now.len(), 1, "{now:?}");
    assert!(!now.contains(&old.0) && !now.contains(&stray), "{now:?}");
    assert!(!keys_dir.join("rot.rotating").exists());
    env_json(&env, "rot-client", &[]);
}

#[test]
fn an_old_key_that_cannot_be_deleted_leaves_the_new_one_stored_and_says_how_to_finish() {
    let user = "rotate-nodelete";
    let old = create_user(user, 1, false).remove(0);
    let mut env = rotate_env(&old);
    // The fix command names the old key in full, on purpose: it must run as printed.
    env.allow_on_stderr(&old.0);
    let run = env.run(&["keys", "rotate", "rot"]);
    assert_eq!(run.code(), Some(5), "{}", run.stderr());
    let stderr = run.stderr();
    assert!(stderr.contains("is stored and works"), "{stderr}");
    assert!(stderr.contains("could not be deleted"), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "aws iam delete-access-key --user-name {user} --access-key-id {}",
            old.0
        )),
        "{stderr}"
    );
    assert!(stderr.contains("iam:DeleteAccessKey"), "{stderr}");
    // Both keys are in IAM; the stored one is the new one, and it works.
    let now = keys_in_iam(user);
    assert_eq!(now.len(), 2, "{now:?}");
    let new = now.iter().find(|k| **k != old.0).unwrap();
    let list = env.run(&["keys", "list"]).ok();
    assert!(list.contains(&mask_access_key(new)), "{list}");
    env_json(&env, "rot-client", &[]);
}

#[test]
fn a_key_in_plain_text_is_rotated_in_place_with_every_other_byte_kept() {
    let user = "rotate-plain";
    let old = create_user(user, 1, true).remove(0);
    let fx = moto();
    let env = TestEnv::with_moto();
    let credentials = Path::new(&env.vars["AWS_SHARED_CREDENTIALS_FILE"]).to_owned();
    let before = format!(
        "# mine\n[rot]\naws_access_key_id = {}\naws_secret_access_key={}\nregion = {}\n\n[other]\nregion = eu-west-1\n",
        old.0, old.1, fx.region
    );
    env.write_credentials(&before);
    let run = env.run(&["keys", "rotate", "rot"]);
    run.ok();
    let stderr = run.stderr();
    assert!(
        stderr.contains("keys import rot --remove-plaintext"),
        "{stderr}"
    );
    assert!(stderr.contains("plain text"), "{stderr}");
    let now = keys_in_iam(user);
    assert_eq!(now.len(), 1, "{now:?}");
    assert_ne!(now[0], old.0);
    let after = std::fs::read_to_string(&credentials).unwrap();
    // Only the two values changed; no copy of the old secret is left anywhere.
    let new_secret = after
        .lines()
        .find_map(|l| l.strip_prefix("aws_secret_access_key="))
        .unwrap()
        .to_owned();
    assert_eq!(
        after,
        before
            .replace(&old.0, &now[0])
            .replace(&format!("={}", old.1), &format!("={new_secret}"))
    );
    let names: Vec<_> = std::fs::read_dir(credentials.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("credentials"))
        .collect();
    assert_eq!(names, ["credentials"]);
    // The file's new key works.
    let who = env.run(&["whoami", "rot"]).ok();
    assert!(who.contains(user), "{who}");
}

#[test]
fn a_role_profile_names_the_key_it_uses() {
    let env = TestEnv::with_moto();
    let run = env.run(&["keys", "rotate", "client-nomfa"]);
    assert_eq!(run.code(), Some(3), "{}", run.stderr());
    assert!(
        run.stderr().contains("keys rotate contractor"),
        "{}",
        run.stderr()
    );
}

/// Every request a fixture's proxy forwarded, with the access key that signed it.
fn recorded_raw(fx: &support::Fixture) -> Vec<serde_json::Value> {
    let url = format!("{}/__recorded", fx.proxy);
    let out = Command::new(support::python())
        .args(["-c", "import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1]).read().decode())", &url])
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn with_mfa_serial_the_iam_calls_are_signed_by_the_cached_mfa_session() {
    // moto's GetSessionToken keys fail its own checks, so this runs with checks off, where
    // moto cannot tell whose session it is: it answers GetUser with a user of its default
    // account that has no keys, and the rotation stops at ListAccessKeys. What is checked is
    // the route and that a stop before CreateAccessKey changes nothing.
    let fx = support::moto_checks_off();
    let serial = "arn:aws:iam::111111111111:mfa/rotate-mfa";
    let created: NewUser = serde_json::from_str(&admin_at(
        fx,
        &serde_json::json!({"op": "create", "user": "rotate-mfa", "keys": 1, "may_delete": true}),
    ))
    .unwrap();
    let old = &created.keys[0];
    let mut env = TestEnv::with_fixture(fx);
    std::fs::remove_file(&env.vars["AWS_SHARED_CREDENTIALS_FILE"]).unwrap();
    env.set("ASSUME_ROLE_FILE_PASSPHRASE", PASSPHRASE);
    env.write_config(&format!(
        "[profile rot]\nregion = {}\nmfa_serial = {serial}\nmfa_process = echo 123456\n",
        fx.region
    ));
    let mut add = env.bin(&["keys", "add", "rot", "--from-env", "--backend", "file"]);
    add.env("AWS_ACCESS_KEY_ID", &old.access_key_id)
        .env("AWS_SECRET_ACCESS_KEY", &old.secret_access_key);
    env.run_command(add).ok();

    for _ in 0..2 {
        let run = env.run(&["keys", "rotate", "rot"]);
        assert_eq!(run.code(), Some(5), "{}", run.stderr());
        assert!(run.stderr().contains("ListAccessKeys"), "{}", run.stderr());
        assert!(run.stderr().contains("nothing changed"), "{}", run.stderr());
    }
    let records = recorded_raw(fx);
    let action = |r: &serde_json::Value| {
        r["params"]["Action"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    let tokens: Vec<&serde_json::Value> = records
        .iter()
        .filter(|r| action(r) == "GetSessionToken" && r["params"]["SerialNumber"] == serial)
        .collect();
    // One code, once: the second run used the cached MFA session.
    assert_eq!(tokens.len(), 1, "{tokens:?}");
    assert_eq!(tokens[0]["params"]["TokenCode"], "123456");
    assert_eq!(tokens[0]["access_key_id"], old.access_key_id.as_str());
    // No IAM call was signed by the long-term key itself.
    assert!(
        !records
            .iter()
            .any(|r| ["GetUser", "ListAccessKeys", "CreateAccessKey"]
                .contains(&action(r).as_str())
                && r["access_key_id"] == old.access_key_id.as_str()),
        "an IAM call was signed by the long-term key"
    );
    let list = env.run(&["keys", "list"]).ok();
    assert!(
        list.contains(&mask_access_key(&old.access_key_id)),
        "{list}"
    );
    assert_eq!(
        serde_json::from_str::<Vec<String>>(&admin_at(
            fx,
            &serde_json::json!({"op": "list", "user": "rotate-mfa"})
        ))
        .unwrap(),
        [old.access_key_id.as_str()]
    );
}

#[test]
fn a_new_key_that_never_works_is_undone_and_the_old_one_stays_stored() {
    // IAM is moto; STS, which the new key is tried on, refuses every key.
    let stub = support::Stub::start(
        403,
        "<ErrorResponse><Error><Type>Sender</Type><Code>InvalidClientTokenId</Code><Message>The security token included in the request is invalid.</Message></Error></ErrorResponse>",
    );
    let user = "rotate-never-works";
    let old = create_user(user, 1, true).remove(0);
    let mut env = rotate_env(&old);
    env.set("AWS_ENDPOINT_URL_STS", &stub.url);
    let output = support::run_bounded(
        env.bin(&["keys", "rotate", "rot"]),
        std::time::Duration::from_mins(1),
    )
    .expect("the wait is bounded");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(5), "{stderr}");
    assert!(
        stderr.contains("did not accept the new key within 30s"),
        "{stderr}"
    );
    assert!(stderr.contains("was stored back"), "{stderr}");
    assert!(stderr.contains("nothing changed"), "{stderr}");
    // Tried every 2 s or so, not once and not in a tight loop.
    assert!((5..=20).contains(&stub.count()), "{}", stub.count());
    assert_eq!(keys_in_iam(user), [old.0.as_str()]);
    env.remove("AWS_ENDPOINT_URL_STS");
    let list = env.run(&["keys", "list"]).ok();
    assert!(list.contains(&mask_access_key(&old.0)), "{list}");
    env_json(&env, "rot-client", &[]);
}
