//! The sign-in link reaches the browser through a private file, not its command line: a
//! command line is readable by every local user (`ps`, `/proc/*/cmdline`) for as long as the
//! browser runs, and the link is a credential for the role's console. The browser is handed a
//! small page (0600, in the private cache directory) that sends it on to the link; the page is
//! removed once the browser has read it, or after [`READ_WAIT`] at the latest.

use super::{ConsoleError, Launch};
use crate::context::Context;
use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

/// How long the page waits to be read before it is removed anyway: a browser that starts cold
/// takes a few seconds; one that has not read it by then never will.
pub const READ_WAIT: Duration = Duration::from_secs(20);

/// The page on disk; removed when dropped, whatever happened.
pub struct LinkPage {
    path: PathBuf,
    written: SystemTime,
}

impl LinkPage {
    /// Writes the page that opens `target` (the link, or the container link that wraps it), and
    /// points every launch at the page instead. `setting` names the browser choice, for errors.
    pub fn write(
        launches: &mut [Launch],
        setting: &str,
        ctx: &Context,
    ) -> Result<Self, ConsoleError> {
        let fail = |reason: String| ConsoleError::Browser {
            setting: setting.to_owned(),
            reason,
        };
        let dir = ctx
            .paths
            .cache_dir
            .as_ref()
            .filter(|dir| crate::cache::trusted(dir))
            .map(|dir| dir.join("console"))
            .ok_or_else(|| {
                fail("there is no private directory to hand it the link through (set `ASSUME_ROLE_CACHE_DIR`)".into())
            })?;
        let Some(target) = launches.iter().find_map(Launch::target) else {
            return Err(fail("there is no command to start".into()));
        };
        let mut name = [0u8; 16];
        getrandom::fill(&mut name)
            .map_err(|e| fail(format!("no random name for the page: {e}")))?;
        let name = name.iter().fold(String::new(), |mut hex, b| {
            let _ = write!(hex, "{b:02x}");
            hex
        });
        let path = dir.join(format!("{name}.html"));
        crate::fsx::write_private(&path, html(&target).as_bytes())
            .map_err(|e| fail(format!("cannot write `{}`: {e}", path.display())))?;
        let written = std::fs::metadata(&path)
            .and_then(|m| m.modified())
            .unwrap_or_else(|_| SystemTime::now());
        let page = Self { path, written };
        let url = page.url();
        for launch in launches.iter_mut() {
            launch.set_target(&url);
        }
        Ok(page)
    }

    /// The page as a `file:` URL.
    fn url(&self) -> OsString {
        let path = self.path.to_string_lossy().replace('\\', "/");
        let path = path.trim_start_matches('/');
        let encoded = percent_encoding::utf8_percent_encode(path, PATH).to_string();
        format!("file:///{encoded}").into()
    }

    /// Waits (at most [`READ_WAIT`]) until the browser has read the page, then removes it. A
    /// read shows as a newer access time (Linux's default `relatime` records the first read
    /// after a write); where access times are not kept, the wait runs out.
    pub fn remove_once_read(self) {
        let started = Instant::now();
        while started.elapsed() < READ_WAIT {
            let read = std::fs::metadata(&self.path)
                .and_then(|m| m.accessed())
                .is_ok_and(|accessed| accessed > self.written);
            if read {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        // Dropped: removed.
    }
}

impl Drop for LinkPage {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// What a path may hold unencoded in a `file:` URL.
const PATH: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'/')
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b':');

/// The page: a refresh for browsers without scripts, a script for the rest, a link for a
/// person. No referrer leaves with the link.
fn html(target: &str) -> String {
    let attribute = target
        .replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    // A JSON string is a JavaScript string; `<` escaped so that nothing closes the script.
    let script = serde_json::to_string(target)
        .unwrap_or_default()
        .replace('<', "\\u003c");
    format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><meta name=\"referrer\" content=\"no-referrer\">\n<meta http-equiv=\"refresh\" content=\"0;url={attribute}\">\n<title>AWS console</title></head>\n<body>\n<script>\nlocation.replace({script});\n</script>\n<p><a href=\"{attribute}\">Open the AWS console</a></p>\n</body></html>\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_carries_the_link_escaped_for_each_place() {
        let page = html("https://s/federation?Action=login&Destination=x\"<y>");
        assert!(page.contains(
            "content=\"0;url=https://s/federation?Action=login&amp;Destination=x&quot;&lt;y&gt;\""
        ));
        assert!(page.contains(
            "location.replace(\"https://s/federation?Action=login&Destination=x\\\"\\u003cy>\");"
        ));
    }
}
