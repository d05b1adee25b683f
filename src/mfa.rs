//! Where one-time MFA codes come from: `--mfa-token`, the profile's `mfa_process`, or a prompt
//! on the terminal device. The prompt never touches stdout or stderr: `credential_process`
//! consumers capture both, and `eval "$(assume-role env …)"` captures stdout.

use crate::config::{Hop, Mfa, check_mfa_code};
use crate::error::Error;
use crate::secret::OneTimeCode;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

/// A one-time code, and where it came from (for messages).
pub struct Code {
    pub value: OneTimeCode,
    pub origin: String,
}

/// The code for `mfa`, checked to be 6 digits: `mfa_process`, else a prompt. (`--mfa-token`
/// is the caller's: it goes to the first hop that needs a code.)
pub fn code_for(hop: &Hop, mfa: &Mfa) -> Result<Code, Error> {
    if let Some(command) = &mfa.process {
        let origin = format!("`mfa_process` of profile `{}`", hop.profile);
        let text = run_mfa_process(&hop.profile, command)?;
        let value = check_mfa_code(&text, &origin)?;
        return Ok(Code { value, origin });
    }
    let mut terminal = Terminal::open().map_err(|_| Error::MfaUnavailable {
        profile: hop.profile.clone(),
        serial: mfa.serial.clone(),
    })?;
    let value = terminal
        .ask(&format!(
            "MFA code for {} (profile {}): ",
            mfa.serial, hop.profile
        ))
        .map_err(Error::Prompt)?;
    let origin = "the terminal".to_owned();
    let value = check_mfa_code(&value, &origin)?;
    Ok(Code { value, origin })
}

/// Runs `mfa_process` through the platform's shell (not a hard-coded `/bin/sh`, which breaks
/// Windows) and returns its trimmed stdout. Its stderr and stdin stay connected, so a password
/// manager can ask the user for its own unlock.
fn run_mfa_process(profile: &str, command: &str) -> Result<String, Error> {
    let fail = |reason: String| Error::MfaProcess {
        profile: profile.to_owned(),
        reason,
    };
    let output = platform_shell(command)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| fail(format!("cannot start `{}`: {e}", program_name(command))))?;
    if !output.status.success() {
        return Err(fail(format!(
            "`{}` exited with {}",
            program_name(command),
            output.status
        )));
    }
    String::from_utf8(output.stdout)
        .map(|s| s.trim().to_owned())
        .map_err(|_| {
            fail(format!(
                "`{}` printed something that is not text",
                program_name(command)
            ))
        })
}

/// `sh -c` on Unix, `cmd /C` on Windows: how the SDKs run `credential_process` too.
#[cfg(not(windows))]
pub fn platform_shell(command: &str) -> Command {
    let mut cmd = Command::new("sh");
    cmd.arg("-c").arg(command);
    cmd
}

/// `cmd.exe` does not understand the MSVC escaping `Command::arg` applies, so a quoted path
/// would break; like aws-config, hand it the command line raw.
#[cfg(windows)]
pub fn platform_shell(command: &str) -> Command {
    use std::os::windows::process::CommandExt;
    let mut cmd = Command::new("cmd.exe");
    cmd.arg("/C").raw_arg(format!("\"{command}\""));
    cmd
}

/// The first word of a command line, for messages: arguments may hold a TOTP seed or a
/// password, as the SDK's own `credential_process` logging assumes.
pub fn program_name(command: &str) -> &str {
    command.split_whitespace().next().unwrap_or_default()
}

/// The controlling terminal, opened directly.
struct Terminal {
    input: BufReader<std::fs::File>,
    output: std::fs::File,
}

impl Terminal {
    #[cfg(unix)]
    fn open() -> std::io::Result<Self> {
        let tty = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/tty")?;
        // A background job can open its terminal, but reading it stops the job (SIGTTIN)
        // until someone brings it to the foreground: that is a hang, so it counts as no terminal.
        let foreground = rustix::termios::tcgetpgrp(&tty).map_err(std::io::Error::from)?;
        if foreground != rustix::process::getpgrp() {
            return Err(std::io::Error::other("running in the background"));
        }
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
