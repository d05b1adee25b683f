//! `-v` levels. Our own events go up to trace; other crates stop at debug, because the SDK's
//! trace events dump whole requests and responses, which carry tokens and credentials.

use tracing_subscriber::EnvFilter;

pub fn init(verbosity: u8) {
    let filter = match verbosity {
        0 => "warn",
        1 => "warn,assume_role=info",
        2 => "info,assume_role=debug",
        _ => "debug,assume_role=trace",
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .with_target(verbosity >= 2)
        .without_time()
        .try_init();
}
