//! Plan resolution, table-driven: each case is a config, a profile and what must come out.

use super::*;
use crate::config::ConfigError;
use crate::exit::Diagnose;
use crate::secret::Secret;

const CONFIG: &str = r"
[profile contractor]
region = eu-west-1

[profile client]
role_arn = arn:aws:iam::222222222222:role/client-admin
source_profile = contractor
external_id = ext-123
mfa_serial = arn:aws:iam::111111111111:mfa/me
mfa_process = echo 123456
duration_seconds = 7200
role_session_name = alice-at-acme
source_identity = alice
region = us-west-2

[profile second]
role_arn = arn:aws:iam::333333333333:role/deep
source_profile = client

[profile loop-a]
role_arn = arn:aws:iam::222222222222:role/a
source_profile = loop-b

[profile loop-b]
role_arn = arn:aws:iam::222222222222:role/b
source_profile = loop-c

[profile loop-c]
role_arn = arn:aws:iam::222222222222:role/c
source_profile = loop-a

[profile dangling]
role_arn = arn:aws:iam::222222222222:role/a
source_profile = contracter

[profile no-source]
role_arn = arn:aws:iam::222222222222:role/a

[profile both-sources]
role_arn = arn:aws:iam::222222222222:role/a
source_profile = contractor
credential_source = Environment

[profile from-env]
role_arn = arn:aws:iam::222222222222:role/a
credential_source = Environment

[profile from-imds]
role_arn = arn:aws:iam::222222222222:role/a
credential_source = Ec2InstanceMetadata

[profile bad-source]
role_arn = arn:aws:iam::222222222222:role/a
credential_source = Laptop

[profile empty]
region = eu-central-1

[profile half-keys]
aws_access_key_id = AKIAEXAMPLE

[profile self-ref]
role_arn = arn:aws:iam::222222222222:role/a
source_profile = self-ref
aws_access_key_id = AKIASELF
aws_secret_access_key = self-secret

[profile keys-and-role]
aws_access_key_id = AKIAMIDDLE
aws_secret_access_key = middle-secret
role_arn = arn:aws:iam::999999999999:role/never

[profile via-keys-and-role]
role_arn = arn:aws:iam::222222222222:role/a
source_profile = keys-and-role

[profile sso-user]
sso_session = corp
sso_account_id = 111111111111
sso_role_name = Dev

[sso-session corp]
sso_region = us-east-1
sso_start_url = https://corp.awsapps.com/start

[profile from-sso]
role_arn = arn:aws:iam::222222222222:role/a
source_profile = sso-user
duration_seconds = 2h

[profile process-user]
credential_process = /usr/bin/get-creds --json

[profile web]
role_arn = arn:aws:iam::111111111111:role/web
web_identity_token_file = /var/run/token

[profile long-chain]
role_arn = arn:aws:iam::333333333333:role/deep
source_profile = client
duration_seconds = 2h

[profile bad-arn]
role_arn = arn:aws:iam::2222:role/a
source_profile = contractor

[profile bad-external]
role_arn = arn:aws:iam::222222222222:role/a
source_profile = contractor
external_id = has space

[profile bad-duration]
role_arn = arn:aws:iam::222222222222:role/a
source_profile = contractor
duration_seconds = forever

[profile short-duration]
role_arn = arn:aws:iam::222222222222:role/a
source_profile = contractor
duration_seconds = 60

[profile plain-role]
role_arn = arn:aws:iam::222222222222:role/plain
source_profile = contractor
";

const CREDENTIALS: &str = r"
[contractor]
aws_access_key_id = AKIACONTRACTOR
aws_secret_access_key = contractor-secret
";

fn profiles() -> Profiles {
    Profiles::from_texts(CONFIG, CREDENTIALS).expect("test config parses")
}

fn ctx() -> Context {
    Context {
        env: crate::env::Env {
            env_region: Some("ap-south-1".into()),
            user_name: Some("alice".into()),
            ..crate::env::Env::default()
        },
        ..Context::default()
    }
}

fn resolve(name: &str) -> Result<Plan, ConfigError> {
    Plan::resolve(&profiles(), name, &Overrides::default(), &ctx())
}

fn resolve_with(name: &str, overrides: &Overrides) -> Result<Plan, ConfigError> {
    Plan::resolve(&profiles(), name, overrides, &ctx())
}

fn contractor_keys() -> Base {
    Base::StaticKeys {
        profile: "contractor".into(),
        access_key_id: "AKIACONTRACTOR".into(),
        secret_access_key: Secret::new("contractor-secret"),
        session_token: None,
    }
}

#[test]
fn a_role_profile_takes_every_value_from_its_profile() {
    let plan = resolve("client").unwrap();
    assert_eq!(plan.base, contractor_keys());
    assert_eq!(
        plan.hops,
        vec![Hop {
            profile: "client".into(),
            role_arn: "arn:aws:iam::222222222222:role/client-admin".into(),
            session_name: "alice-at-acme".into(),
            external_id: Some("ext-123".into()),
            mfa: Some(Mfa {
                serial: "arn:aws:iam::111111111111:mfa/me".into(),
                process: Some("echo 123456".into()),
                session_duration: Duration::from_hours(12),
            }),
            duration: Some(Duration::from_hours(2)),
            source_identity: Some("alice".into()),
            chained: false,
        }]
    );
    // The environment's region would win (as in the AWS CLI); without it, the profile's.
    assert_eq!(
        (plan.region.as_str(), plan.region_origin),
        ("ap-south-1", RegionOrigin::Environment)
    );
    let plan = Plan::resolve(
        &profiles(),
        "client",
        &Overrides::default(),
        &Context::default(),
    )
    .unwrap();
    assert_eq!(
        (plan.region.as_str(), plan.region_origin),
        ("us-west-2", RegionOrigin::Profile)
    );
}

#[test]
fn flags_win_over_the_profile_on_the_target_hop() {
    let overrides = Overrides {
        mfa_token: crate::secret::OneTimeCode::parse("654321"),
        duration: Some(Duration::from_hours(1)),
        session_name: Some("from-flag".into()),
        external_id: Some("flag-ext".into()),
        region: Some("eu-north-1".into()),
        no_session: false,
    };
    let plan = resolve_with("client", &overrides).unwrap();
    let hop = &plan.hops[0];
    assert_eq!(hop.session_name, "from-flag");
    assert_eq!(hop.external_id.as_deref(), Some("flag-ext"));
    assert_eq!(hop.duration, Some(Duration::from_hours(1)));
    assert_eq!(
        (plan.region.as_str(), plan.region_origin),
        ("eu-north-1", RegionOrigin::Flag)
    );
}

#[test]
fn region_falls_back_to_the_environment_then_us_east_1() {
    // plain-role has no region and its source (contractor) has eu-west-1, which must not leak.
    let plan = resolve("plain-role").unwrap();
    assert_eq!(
        (plan.region.as_str(), plan.region_origin),
        ("ap-south-1", RegionOrigin::Environment)
    );
    let plan = Plan::resolve(
        &profiles(),
        "plain-role",
        &Overrides::default(),
        &Context::default(),
    )
    .unwrap();
    assert_eq!(
        (plan.region.as_str(), plan.region_origin),
        ("us-east-1", RegionOrigin::Default)
    );
}

#[test]
fn default_session_name_is_the_sanitized_user() {
    let plan = resolve("plain-role").unwrap();
    assert_eq!(plan.hops[0].session_name, "alice");
    assert_eq!(
        default_session_name(Some("Ålice Smith (contractor)")),
        "-lice-Smith--contractor-"
    );
    assert_eq!(default_session_name(Some("x")), "assume-role");
    assert_eq!(default_session_name(None), "assume-role");
    assert_eq!(default_session_name(Some(&"a".repeat(100))).len(), 64);
    assert_eq!(
        default_session_name(Some("first.last@corp.com")),
        "first.last@corp.com"
    );
}

#[test]
fn a_two_hop_chain_lists_hops_in_call_order_and_marks_chaining() {
    let plan = resolve("second").unwrap();
    assert_eq!(plan.base, contractor_keys());
    let profiles: Vec<&str> = plan.hops.iter().map(|h| h.profile.as_str()).collect();
    assert_eq!(profiles, ["client", "second"]);
    assert!(!plan.hops[0].chained);
    assert!(plan.hops[1].chained);
    // MFA sits on the intermediate hop only.
    assert!(plan.hops[0].mfa.is_some());
    assert!(plan.hops[1].mfa.is_none());
    // The target's own settings are empty; the intermediate keeps its own.
    assert_eq!(plan.hops[1].external_id, None);
    assert_eq!(plan.hops[0].external_id.as_deref(), Some("ext-123"));
}

#[test]
fn target_flags_do_not_reach_an_intermediate_hop() {
    let overrides = Overrides {
        mfa_token: crate::secret::OneTimeCode::parse("111222"),
        external_id: Some("target-only".into()),
        ..Overrides::default()
    };
    let plan = resolve_with("second", &overrides).unwrap();
    // The code is not part of the plan: it is a one-time input, handed to whichever hop first
    // needs one when the plan is carried out.
    assert!(!format!("{plan:?}").contains("111222"));
    // Target-hop flags do not reach the intermediate hop.
    assert_eq!(plan.hops[0].external_id.as_deref(), Some("ext-123"));
    assert_eq!(plan.hops[1].external_id.as_deref(), Some("target-only"));
}

#[test]
fn a_chained_hop_longer_than_an_hour_is_refused_before_any_call() {
    let err = resolve("long-chain").unwrap_err();
    assert!(
        matches!(err, ConfigError::DurationOutOfRange { chained: true, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("1h"), "{err}");
    let err = resolve("from-sso").unwrap_err();
    assert!(
        matches!(err, ConfigError::DurationOutOfRange { chained: true, .. }),
        "{err:?}"
    );
}

#[test]
fn durations_outside_sts_range_are_refused() {
    let err = resolve("short-duration").unwrap_err();
    assert!(
        matches!(err, ConfigError::DurationOutOfRange { chained: false, .. }),
        "{err:?}"
    );
    let overrides = Overrides {
        duration: Some(Duration::from_secs(50_000)),
        ..Overrides::default()
    };
    let err = resolve_with("plain-role", &overrides).unwrap_err();
    assert!(err.to_string().starts_with("`--duration`"), "{err}");
    let err = resolve("bad-duration").unwrap_err();
    assert!(
        err.to_string()
            .contains("`duration_seconds` in profile `bad-duration`"),
        "{err}"
    );
}

#[test]
fn loops_show_the_whole_path() {
    let err = resolve("loop-a").unwrap_err();
    assert_eq!(
        err.to_string(),
        "profiles form a loop: loop-a → loop-b → loop-c → loop-a"
    );
}

#[test]
fn unknown_profiles_name_the_files_and_suggest() {
    let err = resolve("clinet").unwrap_err();
    assert!(
        err.to_string()
            .starts_with("profile `clinet` is not in `<config>`"),
        "{err}"
    );
    assert_eq!(err.hints()[0], "did you mean `client`?");
    let err = resolve("dangling").unwrap_err();
    assert!(
        err.to_string().starts_with("source profile `contracter`"),
        "{err}"
    );
    assert!(
        err.hints()
            .iter()
            .any(|h| h.contains("did you mean `contractor`"))
    );
    assert!(err.hints().iter().any(|h| h.contains("profile `dangling`")));
}

#[test]
fn incomplete_profiles_say_which_key_to_add() {
    let err = resolve("no-source").unwrap_err();
    assert!(
        err.to_string()
            .contains("`role_arn` but not `source_profile` or `credential_source`"),
        "{err}"
    );
    let err = resolve("empty").unwrap_err();
    assert!(matches!(err, ConfigError::NoCredentialSource { .. }));
    assert!(err.hints()[0].contains("source_profile"));
    let err = resolve("half-keys").unwrap_err();
    assert!(
        err.hints()[0].contains("add `aws_secret_access_key`"),
        "{:?}",
        err.hints()
    );
    assert!(matches!(
        resolve("both-sources").unwrap_err(),
        ConfigError::ConflictingSource { .. }
    ));
    assert!(matches!(
        resolve("bad-source").unwrap_err(),
        ConfigError::UnknownCredentialSource { .. }
    ));
}

#[test]
fn static_keys_at_the_root_need_no_hop() {
    let plan = Plan::resolve(
        &profiles(),
        "contractor",
        &Overrides::default(),
        &Context::default(),
    )
    .unwrap();
    assert_eq!(plan.base, contractor_keys());
    assert!(plan.hops.is_empty());
    assert_eq!(plan.region, "eu-west-1");
}

#[test]
fn role_options_on_a_profile_without_a_role_are_refused() {
    let overrides = Overrides {
        external_id: Some("abc".into()),
        ..Overrides::default()
    };
    let err = resolve_with("contractor", &overrides).unwrap_err();
    assert!(err.to_string().contains("assumes no role"), "{err}");
}

#[test]
fn source_kinds() {
    assert_eq!(
        resolve("from-env").unwrap().base,
        Base::Environment {
            profile: "from-env".into()
        }
    );
    assert_eq!(
        resolve("from-imds").unwrap().base,
        Base::Ec2InstanceMetadata {
            profile: "from-imds".into()
        }
    );
    assert!(matches!(
        resolve("sso-user").unwrap().base,
        Base::Sso { profile, settings, .. } if profile == "sso-user" && settings.contains("sso_account_id=111111111111")
    ));
    assert_eq!(
        resolve("process-user").unwrap().base,
        Base::CredentialProcess {
            profile: "process-user".into(),
            command: "/usr/bin/get-creds --json".into()
        }
    );
    let web = resolve("web").unwrap();
    assert!(matches!(&web.base, Base::WebIdentity { profile, .. } if profile == "web"));
    assert!(web.hops.is_empty());
}

#[test]
fn self_reference_uses_the_profiles_own_keys() {
    let plan = resolve("self-ref").unwrap();
    assert!(
        matches!(&plan.base, Base::StaticKeys { access_key_id, .. } if access_key_id == "AKIASELF")
    );
    assert_eq!(plan.hops.len(), 1);
}

#[test]
fn a_source_with_keys_ends_the_chain_even_beside_a_role_arn() {
    let plan = resolve("via-keys-and-role").unwrap();
    assert!(
        matches!(&plan.base, Base::StaticKeys { access_key_id, .. } if access_key_id == "AKIAMIDDLE")
    );
    assert_eq!(plan.hops.len(), 1);
    // As the target, the role wins over its own keys, and then it lacks a source (as in the SDK).
    let err = resolve("keys-and-role").unwrap_err();
    assert!(
        matches!(err, ConfigError::IncompleteProfile { .. }),
        "{err:?}"
    );
}

#[test]
fn malformed_values_are_named_with_their_profile() {
    let err = resolve("bad-arn").unwrap_err();
    assert!(
        err.to_string().contains("`role_arn` in profile `bad-arn`"),
        "{err}"
    );
    let err = resolve("bad-external").unwrap_err();
    assert!(
        err.to_string()
            .contains("`external_id` in profile `bad-external`"),
        "{err}"
    );
    assert!(err.to_string().contains("' ' is not allowed"), "{err}");
    let overrides = Overrides {
        session_name: Some("x".into()),
        ..Overrides::default()
    };
    let err = resolve_with("plain-role", &overrides).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("`--session-name`: `x` is not a valid session name"),
        "{err}"
    );
}

#[test]
fn secrets_in_a_plan_never_print() {
    let debug = format!("{:?}", resolve("second").unwrap());
    assert!(!debug.contains("contractor-secret"), "{debug}");
}

#[test]
fn a_malformed_config_names_the_line() {
    let err =
        Profiles::from_texts("[profile ok]\nregion = x\nthis is not a property\n", "").unwrap_err();
    assert!(err.to_string().contains("line 3"), "{err}");
}

#[test]
fn regions_must_be_host_labels_and_the_message_says_where_from() {
    let overrides = Overrides {
        region: Some("us-east-1'$(touch x)".into()),
        ..Overrides::default()
    };
    let err = resolve_with("plain-role", &overrides).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("`--region`: `us-east-1'$(touch x)` is not a valid region"),
        "{err}"
    );
    let ctx = Context {
        env: crate::env::Env {
            env_region: Some("eu west".into()),
            ..crate::env::Env::default()
        },
        ..Context::default()
    };
    let err = Plan::resolve(&profiles(), "plain-role", &Overrides::default(), &ctx).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("`AWS_REGION` or `AWS_DEFAULT_REGION`"),
        "{err}"
    );
}

#[test]
fn debug_masks_access_keys() {
    let debug = format!("{:?}", resolve("client").unwrap());
    assert!(!debug.contains("AKIACONTRACTOR"), "{debug}");
}

#[test]
fn the_legacy_aws_security_token_counts_when_aws_session_token_is_absent() {
    let config = "[profile r]\nrole_arn = arn:aws:iam::222222222222:role/x\nsource_profile = legacy\n[profile both]\nrole_arn = arn:aws:iam::222222222222:role/x\nsource_profile = both-keys\n";
    let credentials = "[legacy]\naws_access_key_id = AKIALEGACY\naws_secret_access_key = s\naws_security_token = old-name\n[both-keys]\naws_access_key_id = AKIABOTH\naws_secret_access_key = s\naws_security_token = old-name\naws_session_token = new-name\n";
    let profiles = Profiles::from_texts(config, credentials).unwrap();
    let token = |name: &str| match Plan::resolve(&profiles, name, &Overrides::default(), &ctx())
        .unwrap()
        .base
    {
        Base::StaticKeys { session_token, .. } => session_token.map(|t| t.expose().to_owned()),
        other => panic!("{other:?}"),
    };
    assert_eq!(token("r").as_deref(), Some("old-name"));
    assert_eq!(token("both").as_deref(), Some("new-name"));
}

#[test]
fn a_chain_longer_than_any_that_works_is_refused_at_once() {
    use std::fmt::Write as _;
    let mut config = String::new();
    let hops = 10_000;
    for i in 0..hops {
        let _ = write!(
            config,
            "[profile p{i}]\nrole_arn = arn:aws:iam::222222222222:role/r{i}\nsource_profile = p{}\n\n",
            i + 1
        );
    }
    let _ = write!(config, "[profile p{hops}]\nregion = eu-west-1\n");
    let credentials =
        format!("[p{hops}]\naws_access_key_id = AKIAEXAMPLE000000001\naws_secret_access_key = s\n");
    let profiles = Profiles::from_texts(&config, &credentials).unwrap();
    let err = Plan::resolve(&profiles, "p0", &Overrides::default(), &ctx()).unwrap_err();
    assert!(
        matches!(err, ConfigError::ChainTooLong { max: 32, .. }),
        "{err}"
    );
    // A chain of 32 roles is still walked.
    let ok = Plan::resolve(
        &profiles,
        &format!("p{}", hops - 32),
        &Overrides::default(),
        &ctx(),
    );
    assert!(ok.is_ok(), "{:?}", ok.err());
}

#[test]
fn a_source_whose_section_went_with_its_keys_into_the_store_still_resolves() {
    let mut index = crate::keystore::Index::new();
    index.insert(
        "imported".into(),
        crate::keystore::IndexEntry {
            access_key_id: "AKIAEXAMPLE000000007".into(),
            backend: crate::keystore::Backend::File,
            created: 0,
            pending: None,
        },
    );
    let profiles = Profiles::from_texts(
        "[profile role]\nrole_arn = arn:aws:iam::222222222222:role/r\nsource_profile = imported\n",
        "",
    )
    .unwrap()
    .with_stored_keys(index);
    let plan = Plan::resolve(&profiles, "role", &Overrides::default(), &ctx()).unwrap();
    assert!(
        matches!(&plan.base, Base::StoredKeys { profile, access_key_id, .. }
            if profile == "imported" && access_key_id == "AKIAEXAMPLE000000007"),
        "{plan:?}"
    );
    // Without a stored key it is the unknown source it always was.
    let bare = Profiles::from_texts(
        "[profile role]\nrole_arn = arn:aws:iam::222222222222:role/r\nsource_profile = imported\n",
        "",
    )
    .unwrap();
    let err = Plan::resolve(&bare, "role", &Overrides::default(), &ctx()).unwrap_err();
    assert!(matches!(err, ConfigError::UnknownProfile { .. }), "{err}");
}
