//! The end of a run for many profiles: one row per profile (how it ended, how long it took),
//! and the one exit code that stands for them all.

use super::children::{Outcome, Stop};
use crate::exit::Diagnose;
use std::fmt::Write as _;
use std::time::Duration;

/// How one profile's run ended.
#[derive(Debug)]
pub enum Ending {
    /// Its credentials could not be had; `code` is the error's exit code.
    NoCredentials {
        reason: String,
        code: u8,
    },
    Ran(Outcome),
}

impl Ending {
    /// The code this ending stands for when it is a failure; `None` for success and for a
    /// command never started (the run stopped before it: that is not its failure).
    pub fn failure_code(&self) -> Option<u8> {
        match self {
            Ending::NoCredentials { code, .. } => Some(*code),
            Ending::Ran(Outcome::Exited { code: 0, .. } | Outcome::NotStarted) => None,
            // A code that does not fit in a byte (Windows) must still be a failure.
            Ending::Ran(Outcome::Exited { code, .. }) => {
                Some(u8::try_from(*code).ok().filter(|c| *c != 0).unwrap_or(1))
            }
            Ending::Ran(Outcome::Signalled { signal, .. }) => Some(signal_code(*signal)),
            Ending::Ran(Outcome::Failed(err)) => Some(err.exit() as u8),
        }
    }

    fn result(&self) -> String {
        match self {
            Ending::NoCredentials { reason, .. } => format!("no credentials: {reason}"),
            Ending::Ran(Outcome::Exited { code, .. }) => format!("exit {code}"),
            Ending::Ran(Outcome::Signalled { signal, .. }) => {
                format!("killed by signal {signal}{}", signal_name(*signal))
            }
            Ending::Ran(Outcome::Failed(err)) => format!("not run: {err}"),
            Ending::Ran(Outcome::NotStarted) => "not started".to_owned(),
        }
    }

    fn took(&self) -> Option<Duration> {
        match self {
            Ending::Ran(Outcome::Exited { took, .. } | Outcome::Signalled { took, .. }) => {
                Some(*took)
            }
            _ => None,
        }
    }
}

/// 128 + N, as a shell reports a command that signal N ended.
fn signal_code(signal: i32) -> u8 {
    u8::try_from(128 + signal.clamp(0, 127)).unwrap_or(1)
}

fn signal_name(signal: i32) -> &'static str {
    match signal {
        1 => " (SIGHUP)",
        2 => " (SIGINT)",
        9 => " (SIGKILL)",
        13 => " (SIGPIPE)",
        15 => " (SIGTERM)",
        _ => "",
    }
}

/// The exit code for the whole run: 0 when every profile succeeded; 128+N when signal N
/// stopped the run; otherwise the code every failed profile shares, else 1.
pub fn exit_code(endings: &[Ending], stop: Option<Stop>) -> u8 {
    if let Some(Stop::Signal(signal)) = stop {
        return signal_code(signal);
    }
    let mut codes = endings.iter().filter_map(Ending::failure_code);
    match codes.next() {
        None => 0,
        Some(first) if codes.all(|c| c == first) => first,
        Some(_) => 1,
    }
}

/// The table: profile, time, result; then a line that counts.
pub fn render(rows: &[(&str, &Ending)], stop: Option<Stop>) -> String {
    let width = rows
        .iter()
        .map(|(name, _)| name.chars().count())
        .chain(["PROFILE".len()])
        .max()
        .unwrap_or(0);
    let mut text = String::new();
    let _ = writeln!(text, "{:width$}  {:>7}  RESULT", "PROFILE", "TIME");
    for (name, ending) in rows {
        let took = ending.took().map_or_else(|| "-".to_owned(), display);
        let _ = writeln!(text, "{name:width$}  {took:>7}  {}", ending.result());
    }
    let failed = rows
        .iter()
        .filter(|(_, e)| e.failure_code().is_some())
        .count();
    let not_started = rows
        .iter()
        .filter(|(_, e)| matches!(e, Ending::Ran(Outcome::NotStarted)))
        .count();
    let _ = write!(
        text,
        "{} profiles: {} succeeded, {failed} failed",
        rows.len(),
        rows.len() - failed - not_started
    );
    if not_started > 0 {
        let why = match stop {
            Some(Stop::Signal(_)) => " (stopped by a signal)",
            Some(Stop::Failure) => " (--fail-fast)",
            None => "",
        };
        let _ = write!(text, ", {not_started} not started{why}");
    }
    text.push('\n');
    text
}

/// A duration for the table: to the hundredth of a second below ten seconds, then coarser.
fn display(took: Duration) -> String {
    let secs = took.as_secs_f64();
    if secs < 10.0 {
        format!("{secs:.2}s")
    } else if secs < 60.0 {
        format!("{secs:.1}s")
    } else {
        let whole = took.as_secs();
        format!("{}m{:02}s", whole / 60, whole % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exited(code: i32) -> Ending {
        Ending::Ran(Outcome::Exited {
            code,
            took: Duration::from_millis(1500),
        })
    }

    #[test]
    fn the_exit_code_is_zero_the_shared_code_or_one() {
        assert_eq!(exit_code(&[exited(0), exited(0)], None), 0);
        assert_eq!(exit_code(&[exited(0), exited(3)], None), 3);
        assert_eq!(exit_code(&[exited(3), exited(3), exited(0)], None), 3);
        assert_eq!(exit_code(&[exited(3), exited(4)], None), 1);
        let denied = Ending::NoCredentials {
            reason: "no".into(),
            code: 5,
        };
        assert_eq!(exit_code(&[exited(0), denied], None), 5);
        let killed = Ending::Ran(Outcome::Signalled {
            signal: 9,
            took: Duration::ZERO,
        });
        assert_eq!(exit_code(&[killed], None), 137);
        assert_eq!(exit_code(&[exited(256)], None), 1);
        // Not started is the run's stop, not a failure of its own.
        let endings = [exited(2), Ending::Ran(Outcome::NotStarted)];
        assert_eq!(exit_code(&endings, Some(Stop::Failure)), 2);
        assert_eq!(exit_code(&endings, Some(Stop::Signal(2))), 130);
    }

    #[test]
    fn the_table_has_a_row_per_profile_and_a_count() {
        let denied = Ending::NoCredentials {
            reason: "STS refused".into(),
            code: 5,
        };
        let (ok, not_started) = (exited(0), Ending::Ran(Outcome::NotStarted));
        let minute = Ending::Ran(Outcome::Exited {
            code: 1,
            took: Duration::from_secs(75),
        });
        let text = render(
            &[
                ("client-a", &ok),
                ("b", &denied),
                ("c", &minute),
                ("d", &not_started),
            ],
            Some(Stop::Failure),
        );
        assert_eq!(
            text,
            "PROFILE      TIME  RESULT\n\
             client-a    1.50s  exit 0\n\
             b               -  no credentials: STS refused\n\
             c           1m15s  exit 1\n\
             d               -  not started\n\
             4 profiles: 1 succeeded, 2 failed, 1 not started (--fail-fast)\n"
        );
    }
}
