//! `whoami` against moto: a profile's identity, and the session a shell is in.

use crate::support::{TestEnv, moto, parse_env0};

#[test]
fn whoami_reports_the_profiles_role_session() {
    let env = TestEnv::with_moto();
    let text = env.run(&["whoami", "client-nomfa"]).ok();
    let role = moto()
        .client_role_arn
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    let account = moto().client_role_arn.split(':').nth(4).unwrap().to_owned();
    assert!(text.contains("profile  client-nomfa\n"), "{text}");
    assert!(text.contains(&format!("account  {account}\n")), "{text}");
    assert!(
        text.contains(&format!("assumed-role/{role}/tester\n")),
        "{text}"
    );
    assert!(text.contains("session  tester\n"), "{text}");
    assert!(text.contains(" left)\n"), "{text}");

    let json: serde_json::Value =
        serde_json::from_str(&env.run(&["whoami", "--json", "client-nomfa"]).ok()).unwrap();
    assert_eq!(json["profile"], "client-nomfa");
    assert_eq!(json["account"], account.as_str());
    assert_eq!(json["session_name"], "tester");
    let left = json["remaining_seconds"].as_u64().unwrap();
    assert!((3000..=3600).contains(&left), "{json}");
    // The key identifies a person: masked, as everywhere else.
    assert!(
        json["access_key_id"].as_str().unwrap().contains("****"),
        "{json}"
    );
}

#[test]
fn whoami_inside_a_session_reports_that_session() {
    let env = TestEnv::with_moto();
    let run = env.run(&[
        "exec",
        "client-nomfa",
        "--",
        support_bin(),
        "whoami",
        "--json",
    ]);
    let json: serde_json::Value = serde_json::from_str(&run.ok()).unwrap();
    assert_eq!(json["profile"], "client-nomfa");
    assert_eq!(json["session_name"], "tester");
    assert!(json["remaining_seconds"].as_u64().unwrap() > 3000, "{json}");

    // Plain `AWS_*` variables, from no session of ours: reported as the environment's.
    let vars = parse_env0(
        &env.run(&["exec", "client-nomfa", "--", "env", "-0"])
            .output
            .stdout,
    );
    let mut plain = TestEnv::with_moto();
    for name in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
    ] {
        plain.set(name, &vars[name]);
    }
    let text = plain.run(&["whoami"]).ok();
    assert!(text.contains("profile  (environment)\n"), "{text}");
    assert!(text.contains("session  tester\n"), "{text}");
    assert!(text.contains("expires  unknown\n"), "{text}");

    // Neither: say how to ask.
    let run = TestEnv::with_moto().run(&["whoami"]);
    assert_eq!(run.code(), Some(2), "{}", run.stderr());
    assert!(
        run.stderr().contains("assume-role whoami PROFILE"),
        "{}",
        run.stderr()
    );
}

#[test]
fn whoami_with_refused_credentials_says_so() {
    let mut env = TestEnv::with_moto();
    env.set("AWS_ACCESS_KEY_ID", "ASIAEXAMPLE000000042")
        .set(
            "AWS_SECRET_ACCESS_KEY",
            "not-a-real-secret-key-000000000000",
        )
        .set("AWS_SESSION_TOKEN", "not-a-real-token-0000000000000000");
    let run = env.run(&["whoami"]);
    assert_eq!(run.code(), Some(5), "{}", run.stderr());
    assert!(
        run.stderr().contains("refused the credentials of"),
        "{}",
        run.stderr()
    );
}

fn support_bin() -> &'static str {
    crate::support::BIN
}
