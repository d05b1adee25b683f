//! The floor a warm `assume-role env` is measured against (scripts/bench.py): the least a
//! program can do to print the same lines. It reads one cached session file (given as its
//! path), parses its JSON, and prints the `export` and `unset` lines `env` prints for it, with the same
//! quoting and time format; nothing else (no arguments parsed, no config, no plan, no
//! environment read, no audit log).
//!
//! ```sh
//! cargo run --release --example warm_floor -- ~/.cache/assume-role/sessions/KEY.json PROFILE REGION
//! ```

use assume_role::output::sh_quote;
use std::io::Write;
use std::time::{Duration, UNIX_EPOCH};

const UNSET: [&str; 13] = [
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

#[derive(serde::Deserialize)]
struct Entry {
    access_key_id: String,
    secret_access_key: String,
    session_token: String,
    expiration: u64,
    account_id: Option<String>,
}

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(path), Some(profile), Some(region)) = (args.next(), args.next(), args.next()) else {
        eprintln!("usage: warm_floor SESSION_FILE PROFILE REGION");
        std::process::exit(2);
    };
    let text = std::fs::read(&path).expect("read the session file");
    let entry: Entry = serde_json::from_slice(&text).expect("parse the session file");
    let expiration = assume_role::time::rfc3339(UNIX_EPOCH + Duration::from_secs(entry.expiration));
    let account = entry.account_id.unwrap_or_default();
    let vars = [
        ("AWS_ACCESS_KEY_ID", entry.access_key_id.as_str()),
        ("AWS_SECRET_ACCESS_KEY", &entry.secret_access_key),
        ("AWS_SESSION_TOKEN", &entry.session_token),
        ("AWS_CREDENTIAL_EXPIRATION", &expiration),
        ("AWS_ACCOUNT_ID", &account),
        ("AWS_REGION", &region),
        ("AWS_DEFAULT_REGION", &region),
        ("ASSUME_ROLE_PROFILE", &profile),
    ];
    let mut out = String::new();
    for (name, value) in vars {
        out.push_str("export ");
        out.push_str(name);
        out.push('=');
        out.push_str(&sh_quote(value));
        out.push('\n');
    }
    // What a session clears, as `env` prints it.
    for name in UNSET {
        out.push_str("unset ");
        out.push_str(name);
        out.push('\n');
    }
    std::io::stdout()
        .write_all(out.as_bytes())
        .expect("write stdout");
}
