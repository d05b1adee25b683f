//! `-v` levels, and what may reach stderr through them.
//!
//! Two rules, enforced here for every event rather than at each call site:
//! - **Other crates' events show their message and nothing else.** Their fields are where
//!   request bodies, file contents and `Debug` dumps of errors live (the SDK's config loader, for
//!   one, logs a non-UTF-8 file as a byte array, secret key and all). The message is cut short,
//!   and other crates never go beyond debug level, where the SDK logs whole requests.
//! - **Every line passes through [`crate::secret::redact`]** on its way out: the secrets this
//!   run has seen are replaced, and access key IDs are masked, whoever wrote the line.

use std::fmt::Write as _;
use std::io::Write;
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::{Format, Writer};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// How much of another crate's message is shown: enough for a sentence, not for a file.
const FOREIGN_MESSAGE_MAX: usize = 300;

pub fn init(verbosity: u8) {
    let dispatch = if verbosity == 0 {
        tracing::Dispatch::new(Deferred::default())
    } else {
        subscriber(verbosity)
    };
    let _ = tracing::dispatcher::set_global_default(dispatch);
}

/// The subscriber for `verbosity`.
fn subscriber(verbosity: u8) -> tracing::Dispatch {
    let filter = match verbosity {
        0 => "warn",
        1 => "warn,assume_role=info",
        2 => "info,assume_role=debug",
        _ => "debug,assume_role=trace",
    };
    let ours = tracing_subscriber::fmt::format()
        .with_ansi(false)
        .with_target(verbosity >= 2)
        .without_time();
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::new(filter))
        .with_writer(|| RedactingStderr)
        .event_format(Events {
            ours,
            show_target: verbosity >= 2,
        })
        .finish()
        .into()
}

/// The default verbosity's subscriber, built at the first warning: most runs print none, and
/// building it (tracing-subscriber's span registry) was a twentieth of a warm run's page
/// faults. Below warning level nothing reaches it: `max_level_hint` turns those call sites off.
#[derive(Default)]
struct Deferred(std::sync::OnceLock<tracing::Dispatch>);

impl Deferred {
    fn get(&self) -> &tracing::Dispatch {
        self.0.get_or_init(|| subscriber(0))
    }
}

impl Subscriber for Deferred {
    fn register_callsite(
        &self,
        metadata: &'static tracing::Metadata<'static>,
    ) -> tracing::subscriber::Interest {
        if *metadata.level() <= tracing::Level::WARN {
            tracing::subscriber::Interest::sometimes()
        } else {
            tracing::subscriber::Interest::never()
        }
    }

    fn max_level_hint(&self) -> Option<tracing::level_filters::LevelFilter> {
        Some(tracing::level_filters::LevelFilter::WARN)
    }

    fn enabled(&self, metadata: &tracing::Metadata<'_>) -> bool {
        *metadata.level() <= tracing::Level::WARN && self.get().enabled(metadata)
    }

    fn new_span(&self, span: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        self.get().new_span(span)
    }

    fn record(&self, span: &tracing::span::Id, values: &tracing::span::Record<'_>) {
        self.get().record(span, values);
    }

    fn record_follows_from(&self, span: &tracing::span::Id, follows: &tracing::span::Id) {
        self.get().record_follows_from(span, follows);
    }

    fn event(&self, event: &Event<'_>) {
        self.get().event(event);
    }

    fn enter(&self, span: &tracing::span::Id) {
        self.get().enter(span);
    }

    fn exit(&self, span: &tracing::span::Id) {
        self.get().exit(span);
    }

    fn clone_span(&self, id: &tracing::span::Id) -> tracing::span::Id {
        self.get().clone_span(id)
    }

    fn try_close(&self, id: tracing::span::Id) -> bool {
        self.get().try_close(id)
    }
}

/// Formats our own events in full and other crates' by their message alone.
struct Events {
    ours: Format<tracing_subscriber::fmt::format::Full, ()>,
    show_target: bool,
}

impl<S, N> FormatEvent<S, N> for Events
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> std::fmt::Result {
        let meta = event.metadata();
        if is_ours(meta.target()) {
            // Formatted aside, then escaped: our warnings quote paths, profile names and keys
            // from files someone else may have written. (Without colours: an escape sequence of
            // ours would be escaped too.)
            let mut line = String::new();
            self.ours.format_event(ctx, Writer::new(&mut line), event)?;
            let body = line.strip_suffix('\n').unwrap_or(&line);
            return writeln!(writer, "{}", crate::rules::printable(body));
        }
        let mut message = MessageOnly(String::new());
        event.record(&mut message);
        // Escaped: another crate may quote a config value, and a control character in one must
        // not reach the terminal.
        let mut text = crate::rules::printable(&scrub_foreign(&message.0)).into_owned();
        if text.len() > FOREIGN_MESSAGE_MAX {
            let mut cut = FOREIGN_MESSAGE_MAX;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text.truncate(cut);
            text.push_str(" …");
        }
        write!(writer, "{:>5} ", meta.level())?;
        if self.show_target {
            write!(writer, "{}: ", meta.target())?;
        }
        writeln!(writer, "{text}")
    }
}

/// Another crate's message, without what may be secret in it. The SDK's config loader quotes
/// lines of the files it reads (`` `…` ignored because it is not a valid sub-property ``), and
/// a credentials file's lines are secrets: a quoted span stays only if it looks like a name (a
/// profile, a key, a region). Outside quotes, a long run of base64 with a digit in it (a secret
/// key, a token) goes too.
fn scrub_foreign(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    for (index, part) in message.split('`').enumerate() {
        if index > 0 {
            out.push('`');
        }
        let quoted = index % 2 == 1;
        if quoted && !looks_like_a_name(part) {
            out.push('…');
        } else {
            out.push_str(&mask_base64_runs(part));
        }
    }
    out
}

fn looks_like_a_name(text: &str) -> bool {
    text.len() <= 64
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-./@%:+[]*\" ".contains(c))
        && mask_base64_runs(text) == text
}

/// Replaces runs of 20 or more base64 characters that hold a digit or `/`/`+` (words rarely
/// do; keys and tokens nearly always do).
fn mask_base64_runs(text: &str) -> String {
    let is_b64 = |c: char| c.is_ascii_alphanumeric() || "+/=".contains(c);
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        let secret_like = run.len() >= 20
            && run
                .chars()
                .any(|c| c.is_ascii_digit() || c == '/' || c == '+');
        if secret_like {
            out.push_str("(redacted)");
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in text.chars() {
        if is_b64(c) {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

fn is_ours(target: &str) -> bool {
    target == "assume_role" || target.starts_with("assume_role::")
}

/// Keeps the `message` field of an event and drops every other field.
struct MessageOnly(String);

impl Visit for MessageOnly {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.0.push_str(value);
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        // A message given as format arguments arrives here, already formatted by its `Display`.
        if field.name() == "message" {
            let _ = write!(self.0, "{value:?}");
        }
    }
}

/// stderr, with every secret this run has seen redacted and access keys masked. The formatter
/// hands over one whole event per write.
struct RedactingStderr;

impl Write for RedactingStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        std::io::stderr().write_all(crate::secret::redact(&text).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn foreign_messages_lose_quoted_lines_and_key_like_runs() {
        assert_eq!(
            scrub_foreign(
                "`Zq7u0Hh3+LmNoPqRsTuVwXyZ/aBcDeFgHiJkFUZC` ignored because it is not a valid sub-property"
            ),
            "`…` ignored because it is not a valid sub-property"
        );
        assert_eq!(
            scrub_foreign("`aws_secret_access_key = abc` ignored"),
            "`…` ignored"
        );
        assert_eq!(
            scrub_foreign("profile `[default]` ignored because `[profile default]` was found"),
            "profile `[default]` ignored because `[profile default]` was found"
        );
        assert_eq!(
            scrub_foreign("token IQoJb3JpZ2luX2VjEFUZZTOKENc2Vzc2lvbnRva2VuRlVaWg== expired"),
            "token (redacted) expired"
        );
        assert_eq!(
            scrub_foreign("failed to load credentials from ProfileFileCredentialsProvider"),
            "failed to load credentials from ProfileFileCredentialsProvider"
        );
    }

    #[test]
    fn only_our_own_targets_are_formatted_in_full() {
        assert!(is_ours("assume_role"));
        assert!(is_ours("assume_role::aws::sts"));
        assert!(!is_ours("assume_roles"));
        assert!(!is_ours("aws_runtime::env_config::source"));
    }
}
