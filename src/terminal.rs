//! Asking on the terminal device, never on stdout or stderr (both may be captured). A run in
//! the background counts as having no terminal: reading one would stop it (SIGTTIN).

use crate::secret::Secret;

/// Asks without echo.
pub fn hidden(prompt: &str) -> std::io::Result<Secret> {
    foreground()?;
    rpassword::prompt_password(prompt).map(Secret::new)
}

/// Asks with echo (an access key ID is not secret).
pub fn visible(prompt: &str) -> std::io::Result<String> {
    use std::io::{BufRead, Write};
    foreground()?;
    let tty = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(tty_path())?;
    let mut out = tty.try_clone()?;
    out.write_all(prompt.as_bytes())?;
    out.flush()?;
    let mut line = String::new();
    if std::io::BufReader::new(tty).read_line(&mut line)? == 0 {
        return Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "the terminal closed",
        ));
    }
    Ok(line.trim().to_owned())
}

fn tty_path() -> &'static str {
    if cfg!(windows) { "CONIN$" } else { "/dev/tty" }
}

#[cfg(unix)]
fn foreground() -> std::io::Result<()> {
    let tty = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")?;
    let group = rustix::termios::tcgetpgrp(&tty).map_err(std::io::Error::from)?;
    if group == rustix::process::getpgrp() {
        Ok(())
    } else {
        Err(std::io::Error::other("running in the background"))
    }
}

#[cfg(not(unix))]
fn foreground() -> std::io::Result<()> {
    Ok(())
}
