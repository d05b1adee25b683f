//! Using `assume-role` as a library: assume a profile's role (external ID, MFA and all), then
//! list the client's S3 buckets with aws-sdk-s3, as a contractor would.
//!
//! ```sh
//! cargo run --example list_buckets -- client-prod
//! ```
//!
//! Endpoint overrides (`AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_S3`) apply, so it runs against a
//! local emulator too.

use anyhow::Context as _;
use assume_role::config::{ConfigFiles, Overrides, Plan, Profiles};
use assume_role::context::Context;
use aws_config::BehaviorVersion;
use aws_types::region::Region;

fn main() -> anyhow::Result<()> {
    let profile = std::env::args()
        .nth(1)
        .context("usage: list_buckets PROFILE")?;

    // The environment (and the tool's settings file) is read once, here; the library takes
    // what it needs from `ctx`.
    let ctx = Context::from_process()?;
    // Resolve the chain as data, then let the library run it (prompting for MFA if needed).
    let profiles = Profiles::load_from(&ConfigFiles::locate(&ctx))?;
    let plan = Plan::resolve(&profiles, &profile, &Overrides::default(), &ctx)?;
    // The CLI's own cache: a second run within the session's lifetime makes no STS call.
    let store = assume_role::cache::sessions::Store::open(&ctx);
    let options = assume_role::assume::Options::default();
    let credentials = assume_role::assume::credentials_for(&plan, store.as_ref(), &options, &ctx)?;
    println!(
        "assumed {} in account {}",
        plan.hops
            .last()
            .map_or("no role", |hop| hop.role_arn.as_str()),
        credentials.account_id.as_deref().unwrap_or("?"),
    );

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let config = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(plan.region.clone()))
            .credentials_provider(credentials.to_sdk())
            .load()
            .await;
        let s3 = aws_sdk_s3::Client::new(&config);
        let buckets = s3
            .list_buckets()
            .send()
            .await
            .context("ListBuckets failed")?;
        for bucket in buckets.buckets() {
            println!("{}", bucket.name().unwrap_or_default());
        }
        anyhow::Ok(())
    })
}
