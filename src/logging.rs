//! `-v` levels. Our own events go up to trace; other crates stop at debug, because the SDK's
//! trace events dump whole requests and responses, which carry tokens and credentials. Every
//! line, whoever wrote it, passes through [`mask_access_keys_in`] on its way out.

use crate::secret::mask_access_keys_in;
use std::io::{IsTerminal, Write};
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
        .with_writer(|| MaskingStderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(verbosity >= 2)
        .without_time()
        .try_init();
}

/// stderr, with access keys masked. The formatter hands over one whole event per write.
struct MaskingStderr;

impl Write for MaskingStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        std::io::stderr().write_all(mask_access_keys_in(&text).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}
