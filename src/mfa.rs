//! Where one-time MFA codes come from: `--mfa-token`, the profile's `mfa_process`, or a prompt
//! on the terminal device. The prompt never touches stdout or stderr: `credential_process`
//! consumers capture both, and `eval "$(assume-role env …)"` captures stdout.

mod error;
pub use error::MfaError;

use crate::config::Mfa;
use crate::process::{Helper, HelperKind};
use crate::secret::OneTimeCode;
use std::io::{BufRead, BufReader, Write};
use std::time::Duration;

/// A one-time code, and where it came from (for messages).
pub struct Code {
    pub value: OneTimeCode,
    pub origin: String,
}

/// How many times the terminal prompt asks before giving up on a malformed code.
const PROMPT_TRIES: usize = 3;

/// How long to wait for an authenticator's next code when the current one is spent: a TOTP
/// window is 30 seconds, plus a margin for clocks.
const NEXT_CODE_WITHIN: Duration = Duration::from_secs(40);

/// The code for `mfa`, checked to be 6 digits (spaces allowed): `mfa_process` (given at most
/// `timeout`), else a prompt. `--mfa-token` is the caller's: it goes to the first hop that
/// needs a code.
///
/// `spent` says whether a code was already used for this device: AWS refuses a code twice, so
/// when a chain needs a second code from one device, the prompt asks for the next one and
/// `mfa_process` is asked again until it shows the next one.
pub fn code_for(
    profile: &str,
    mfa: &Mfa,
    timeout: Duration,
    spent: &dyn Fn(&OneTimeCode) -> bool,
) -> Result<Code, MfaError> {
    if let Some(command) = &mfa.process {
        let origin = format!("`mfa_process` of profile `{profile}`");
        let started = std::time::Instant::now();
        let mut told = false;
        loop {
            let value = check_mfa_code(&run_mfa_process(profile, command, timeout)?, &origin)?;
            if !spent(&value) {
                return Ok(Code { value, origin });
            }
            if started.elapsed() > NEXT_CODE_WITHIN {
                return Err(MfaError::MfaCodeReused {
                    origin,
                    serial: mfa.serial.clone(),
                });
            }
            if !told {
                told = true;
                eprintln!(
                    "assume-role: `{}` needs another code from `{}`, and AWS refuses one used twice: waiting for the next code from `mfa_process` (up to {})",
                    profile,
                    mfa.serial,
                    crate::duration::display(NEXT_CODE_WITHIN)
                );
            }
            std::thread::sleep(Duration::from_secs(2));
        }
    }
    let mut terminal = Terminal::open().map_err(|_| MfaError::MfaUnavailable {
        profile: profile.to_owned(),
        serial: mfa.serial.clone(),
    })?;
    let origin = "the terminal".to_owned();
    let mut prompt = format!("MFA code for {} (profile {}): ", mfa.serial, profile);
    let mut tries_left = PROMPT_TRIES;
    loop {
        let typed = terminal.ask(&prompt).map_err(MfaError::Prompt)?;
        tries_left -= 1;
        let tries = if tries_left == 1 { "try" } else { "tries" };
        match check_mfa_code(&typed, &origin) {
            Ok(value) if !spent(&value) => return Ok(Code { value, origin }),
            // Waiting for the next code is not the person's mistake: it costs no try.
            Ok(_) => {
                tries_left += 1;
                "that code was just used, and AWS refuses it twice; wait for the next one: "
                    .clone_into(&mut prompt);
            }
            Err(err) if tries_left == 0 => return Err(err),
            Err(_) => {
                prompt =
                    format!("that is not a 6-digit code; try again ({tries_left} {tries} left): ");
            }
        }
    }
}

/// Runs `mfa_process` through the platform's shell (not a hard-coded `/bin/sh`, which breaks
/// Windows) and returns its stdout. Its stderr and stdin stay connected, so a password manager
/// can ask the user for its own unlock.
fn run_mfa_process(profile: &str, command: &str, timeout: Duration) -> Result<String, MfaError> {
    let helper = Helper {
        kind: HelperKind::MfaProcess,
        profile,
        command,
    };
    let stdout = crate::process::run(&helper, &[], timeout)?;
    String::from_utf8(stdout).map_err(|_| MfaError::MfaProcess {
        profile: profile.to_owned(),
        reason: format!(
            "`{}` printed something that is not text",
            crate::process::program_name(command)
        ),
    })
}

/// The controlling terminal, opened directly.
struct Terminal {
    input: BufReader<std::fs::File>,
    output: std::fs::File,
}

impl Terminal {
    #[cfg(unix)]
    fn open() -> std::io::Result<Self> {
        let tty = crate::terminal::open_foreground()?;
        Ok(Self {
            input: BufReader::new(tty.try_clone()?),
            output: tty,
        })
    }

    #[cfg(windows)]
    fn open() -> std::io::Result<Self> {
        Ok(Self {
            input: BufReader::new(std::fs::File::open("CONIN$")?),
            output: std::fs::OpenOptions::new().write(true).open("CONOUT$")?,
        })
    }

    fn ask(&mut self, prompt: &str) -> std::io::Result<String> {
        self.output.write_all(prompt.as_bytes())?;
        self.output.flush()?;
        let mut line = String::new();
        if self.input.read_line(&mut line)? == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "the terminal closed before a code was entered",
            ));
        }
        Ok(line.trim().to_owned())
    }
}

/// Checks a one-time code before it is sent anywhere: six digits, spaces allowed between them
/// (`123 456`, as authenticator apps show it).
pub fn check_mfa_code(code: &str, origin: &str) -> Result<OneTimeCode, MfaError> {
    OneTimeCode::parse(code).ok_or_else(|| MfaError::MfaMalformed {
        origin: origin.to_owned(),
    })
}

/// `--mfa-token CODE`, the one type every command declares it with. Kept as typed until the
/// command checks it ([`MfaToken::code`]), so that a malformed code is the MFA error (exit 4,
/// naming the flag) that it is everywhere else, not a usage error; `Debug` never shows it.
#[derive(Clone)]
pub struct MfaToken(crate::secret::Secret);

impl std::str::FromStr for MfaToken {
    type Err = std::convert::Infallible;

    fn from_str(typed: &str) -> Result<Self, Self::Err> {
        Ok(Self(crate::secret::Secret::new(typed)))
    }
}

impl std::fmt::Debug for MfaToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MfaToken(redacted)")
    }
}

impl MfaToken {
    /// The code, checked: six digits, spaces allowed between them.
    pub fn code(&self) -> Result<crate::secret::OneTimeCode, MfaError> {
        check_mfa_code(self.0.expose(), "`--mfa-token`")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_may_have_spaces_as_authenticator_apps_show_them() {
        for typed in ["123 456", " 123456\n", "12 34 56", "123\t456\r\n"] {
            assert_eq!(check_mfa_code(typed, "test").unwrap().expose(), "123456");
        }
        for bad in ["abc", "123 45", "1234567", "１２３４５６"] {
            assert!(check_mfa_code(bad, "test").is_err(), "{bad}");
        }
    }

    #[test]
    fn mfa_codes_must_be_six_digits() {
        for bad in ["12345", "1234567", "12345a", "12 34 5", ""] {
            let err = check_mfa_code(bad, "`--mfa-token`").unwrap_err();
            assert!(
                matches!(err, MfaError::MfaMalformed { .. }),
                "{bad:?}: {err:?}"
            );
        }
        assert_eq!(
            check_mfa_code(" 123 456 ", "`--mfa-token`")
                .unwrap()
                .expose(),
            "123456"
        );
    }
}
