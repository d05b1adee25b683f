//! Integration tests: the real binary, a hermetic environment, moto on loopback with checks on,
//! and real third-party consumers (bash, fish, AWS CLI v1, boto3) of what it prints.

// Setting up a pseudo-terminal and detaching from the developer's terminal need libc calls.
#![allow(unsafe_code)]
// The harness reads its own environment (where python is, `CI`, the venv): the rule that the
// environment is read in one module (clippy.toml) is the tool's, not its test driver's.
#![allow(clippy::disallowed_methods)]
// A scenario test (set up, run, check every output) reads best whole; the 80-line rule
// (clippy.toml) is for the tool's own functions.
#![allow(clippy::too_many_lines)]

mod support;

mod audit;
mod cache;
mod console;
mod crash;
mod differential;
mod doctor;
mod each;
mod front;
mod fuzz;
mod handover;
mod hardening;
mod keys;
mod mfa;
mod onboard;
mod processes;
mod profile_add;
mod profiles;
mod registry;
// install.sh under dash and bash, and the release's manifests and workflows: Unix only.
#[cfg(unix)]
mod release;
mod rotate;
mod secrets;
mod server;
mod settings;
mod shell;
mod sso;
mod sts;
mod transcripts;
mod whoami;
// The Windows exe under Wine, driven from Linux; only in the Windows lane.
#[cfg(unix)]
mod windows;

use std::collections::BTreeMap;
use support::{TestEnv, moto, parse_env0, recorded_assume_roles, venv_bin};

const SESSION_VARS: [&str; 8] = [
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_CREDENTIAL_EXPIRATION",
    "AWS_ACCOUNT_ID",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "ASSUME_ROLE_PROFILE",
];

const REMOVED_VARS: [&str; 13] = [
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SECURITY_TOKEN",
    "AWS_SESSION_EXPIRATION",
    "AWS_CREDENTIAL_FILE",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_SESSION_NAME",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    "AWS_VAULT",
];

fn env_json(env: &TestEnv, profile: &str, extra: &[&str]) -> BTreeMap<String, String> {
    let mut args = vec!["env", profile, "--format", "json"];
    args.extend_from_slice(extra);
    serde_json::from_str(&env.run(&args).ok()).unwrap()
}

fn stub_env(stub: &support::Stub) -> TestEnv {
    let mut env = TestEnv::with_moto();
    env.set("AWS_ENDPOINT_URL", &stub.url);
    env
}

fn count_assume_roles(session_name: &str) -> usize {
    recorded_assume_roles(session_name).len()
}

fn cache_profile(env: &TestEnv, name: &str, extra: &str) {
    env.append_config(&format!(
        "\n[profile {name}]\nrole_arn = {}\nsource_profile = contractor\nexternal_id = x1\nrole_session_name = {name}\n{extra}",
        moto().client_role_arn
    ));
}
