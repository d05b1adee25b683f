//! Pseudo-terminals, for what only a terminal shows: the MFA prompt, and what `env` says when
//! its output would only reach the screen.

use super::TestEnv;
use std::os::fd::{FromRawFd, IntoRawFd};
use std::time::Duration;

/// A new pseudo-terminal: its master side (what a person sees and types) and its slave side
/// (what a program reads and writes).
pub fn open() -> (std::fs::File, std::fs::File) {
    let (mut master, mut slave) = (0, 0);
    // SAFETY: openpty fills two fds that nothing else owns; they are wrapped at once.
    let rc = unsafe {
        libc::openpty(
            &raw mut master,
            &raw mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    assert_eq!(rc, 0, "openpty");
    // SAFETY: both are open fds owned by nothing else.
    unsafe {
        (
            std::fs::File::from_raw_fd(master),
            std::fs::File::from_raw_fd(slave),
        )
    }
}

/// The binary on a new pseudo-terminal as its controlling terminal (so `/dev/tty` is the pty
/// while stdout and stderr stay pipes), and the terminal's master side.
pub fn controlling_terminal(env: &TestEnv, args: &[&str]) -> (std::process::Child, std::fs::File) {
    use std::os::unix::process::CommandExt;
    let (master, slave) = open();
    let slave = slave.into_raw_fd();
    let mut cmd = std::process::Command::new(super::BIN);
    cmd.args(args)
        .env_clear()
        .envs(&env.vars)
        .stdin(std::process::Stdio::null());
    // SAFETY: setsid and TIOCSCTTY are async-signal-safe; they make the pty our controlling
    // terminal, with the binary in its foreground process group.
    unsafe {
        cmd.pre_exec(move || {
            libc::setsid();
            libc::ioctl(slave, libc::TIOCSCTTY, 0);
            Ok(())
        });
    }
    let child = cmd
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // SAFETY: the child has its own copy; the parent closes its slave end, which it owns.
    drop(unsafe { std::fs::File::from_raw_fd(slave) });
    (child, master)
}

/// What a terminal's master side has shown, read on a thread.
pub struct Screen {
    chunks: std::sync::mpsc::Receiver<Vec<u8>>,
    seen: Vec<u8>,
    /// Where the next [`Screen::expect`] starts looking.
    at: usize,
}

impl Screen {
    pub fn new(terminal: &std::fs::File) -> Self {
        use std::io::Read;
        let (tx, chunks) = std::sync::mpsc::channel();
        let mut reader = terminal.try_clone().unwrap();
        std::thread::spawn(move || {
            let mut buf = [0u8; 256];
            while let Ok(n @ 1..) = reader.read(&mut buf) {
                if tx.send(buf[..n].to_vec()).is_err() {
                    break;
                }
            }
        });
        Self {
            chunks,
            seen: Vec::new(),
            at: 0,
        }
    }

    /// Waits until `text` is shown, for at most 20 s, so that a stopped helper fails the test
    /// instead of stalling it.
    #[track_caller]
    pub fn expect(&mut self, text: &str) {
        loop {
            let shown = String::from_utf8_lossy(&self.seen[self.at..]).into_owned();
            if let Some(i) = shown.find(text) {
                self.at += shown[..i + text.len()].len();
                return;
            }
            let chunk = self
                .chunks
                .recv_timeout(Duration::from_secs(20))
                .unwrap_or_else(|e| {
                    panic!(
                        "`{text}` not shown ({e}); the terminal shows:\n{}",
                        String::from_utf8_lossy(&self.seen)
                    )
                });
            self.seen.extend_from_slice(&chunk);
        }
    }
}

/// Waits until the program on the terminal whose master side is `terminal` has put it in raw
/// mode, as far as a typed Enter goes: `\r` then arrives as itself, no longer turned into a
/// line feed (`ICRNL` off). At most `limit`; past that, fails naming `what`. On Linux the master
/// side reports the slave side's settings.
#[track_caller]
pub fn wait_for_raw_input(terminal: &std::fs::File, limit: Duration, what: &str) {
    use std::os::fd::AsRawFd;
    let deadline = std::time::Instant::now() + limit;
    loop {
        // SAFETY: tcgetattr fills the zeroed struct it is given, from an fd we own.
        let mut termios: libc::termios = unsafe { std::mem::zeroed() };
        let rc = unsafe { libc::tcgetattr(terminal.as_raw_fd(), &raw mut termios) };
        assert_eq!(rc, 0, "tcgetattr: {}", std::io::Error::last_os_error());
        if termios.c_iflag & libc::ICRNL == 0 {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{what} did not put the terminal in raw mode within {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}
