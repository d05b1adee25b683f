//! Where one-time MFA codes come from: `--mfa-token`, the profile's `mfa_process`, or a prompt
//! on the terminal device. The prompt never touches stdout or stderr: `credential_process`
//! consumers capture both, and `eval "$(assume-role env …)"` captures stdout.

use crate::config::{Hop, Mfa, check_mfa_code};
use crate::error::Error;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

/// Fails at once, before any network call, when a hop would need a code that nothing can give.
pub fn ensure_obtainable(hop: &Hop) -> Result<(), Error> {
    match &hop.mfa {
        Some(mfa) if mfa.token.is_none() && mfa.process.is_none() => Terminal::open()
            .map(drop)
            .map_err(|_| Error::MfaUnavailable {
                profile: hop.profile.clone(),
                serial: mfa.serial.clone(),
            }),
        _ => Ok(()),
    }
}

/// The code for `mfa`, checked to be 6 digits.
pub fn code_for(hop: &Hop, mfa: &Mfa) -> Result<String, Error> {
    if let Some(token) = &mfa.token {
        return Ok(token.clone());
    }
    if let Some(command) = &mfa.process {
        let code = run_mfa_process(&hop.profile, command)?;
        check_mfa_code(
            &code,
            &format!("`mfa_process` of profile `{}`", hop.profile),
        )?;
        return Ok(code);
    }
    let mut terminal = Terminal::open().map_err(|_| Error::MfaUnavailable {
        profile: hop.profile.clone(),
        serial: mfa.serial.clone(),
    })?;
    let code = terminal
        .ask(&format!(
            "MFA code for {} (profile {}): ",
            mfa.serial, hop.profile
        ))
        .map_err(Error::Prompt)?;
    check_mfa_code(&code, "the terminal")?;
    Ok(code)
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
        .map_err(|e| fail(format!("cannot start `{command}`: {e}")))?;
    if !output.status.success() {
        return Err(fail(format!("`{command}` exited with {}", output.status)));
    }
    String::from_utf8(output.stdout)
        .map(|s| s.trim().to_owned())
        .map_err(|_| fail(format!("`{command}` printed something that is not text")))
}

/// `sh -c` on Unix, `cmd /C` on Windows: how `credential_process` is run too.
pub fn platform_shell(command: &str) -> Command {
    if cfg!(windows) {
        let mut cmd = Command::new("cmd.exe");
        cmd.arg("/C").arg(command);
        cmd
    } else {
        let mut cmd = Command::new("sh");
        cmd.arg("-c").arg(command);
        cmd
    }
}

/// The controlling terminal, opened directly.
struct Terminal {
    input: BufReader<std::fs::File>,
    output: std::fs::File,
}

impl Terminal {
    fn open() -> std::io::Result<Self> {
        let (input, output) = if cfg!(windows) {
            (
                std::fs::File::open("CONIN$")?,
                std::fs::OpenOptions::new().write(true).open("CONOUT$")?,
            )
        } else {
            let tty = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open("/dev/tty")?;
            (tty.try_clone()?, tty)
        };
        Ok(Self {
            input: BufReader::new(input),
            output,
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
