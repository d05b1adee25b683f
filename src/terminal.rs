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

// Windows has no foreground group to check: always `Ok` there.
#[cfg_attr(not(unix), allow(clippy::unnecessary_wraps))]
fn foreground() -> std::io::Result<()> {
    #[cfg(unix)]
    open_foreground()?;
    Ok(())
}

/// The controlling terminal, opened for reading and writing, when this process is in its
/// foreground group. A background job can open its terminal, but reading it stops the job
/// (SIGTTIN) until someone brings it to the foreground: that is a hang, so it counts as no
/// terminal. The one check of it: prompts, `mfa_process` helpers and MFA codes all ask here.
#[cfg(unix)]
pub fn open_foreground() -> std::io::Result<std::fs::File> {
    let tty = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")?;
    let group = rustix::termios::tcgetpgrp(&tty).map_err(std::io::Error::from)?;
    if group == rustix::process::getpgrp() {
        Ok(tty)
    } else {
        Err(std::io::Error::other("running in the background"))
    }
}

/// Whether we have a controlling terminal and are in its foreground process group.
#[cfg(unix)]
pub fn in_foreground() -> bool {
    open_foreground().is_ok()
}

/// Whether we have a console to ask on (Windows has no foreground group to check).
#[cfg(not(unix))]
pub fn in_foreground() -> bool {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(tty_path())
        .is_ok()
}
