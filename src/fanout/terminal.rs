//! Many commands' output on one stdout and one stderr. Each line is written whole, under one
//! lock, prefixed with the name of the profile it comes from, so that lines of different
//! commands never mix mid-line. On a terminal, a progress line sits at the bottom of stderr: it
//! is taken away before anything else is written there, and put back after.

use std::io::Write;
use std::sync::Mutex;

/// Which of our streams a line goes to: the one it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// Erases the current terminal line: back to its start, then clear to its end.
const ERASE: &[u8] = b"\r\x1b[K";

pub struct Console {
    state: Mutex<State>,
}

struct State {
    out: Box<dyn Write + Send>,
    err: Box<dyn Write + Send>,
    /// Whether stderr is a terminal: only then is there a progress line.
    live: bool,
    /// Whether stdout is a terminal too, most likely the same one, where its lines would land
    /// on the progress line.
    out_on_terminal: bool,
    /// The progress line as last set, and whether it is on the screen now.
    progress: String,
    shown: bool,
}

impl Console {
    /// Our own stdout and stderr; a progress line only when stderr is a terminal.
    pub fn for_process() -> Self {
        use std::io::IsTerminal;
        Self::new(
            Box::new(std::io::stdout()),
            Box::new(std::io::stderr()),
            std::io::stderr().is_terminal(),
            std::io::stdout().is_terminal(),
        )
    }

    pub fn new(
        out: Box<dyn Write + Send>,
        err: Box<dyn Write + Send>,
        live: bool,
        out_on_terminal: bool,
    ) -> Self {
        Self {
            state: Mutex::new(State {
                out,
                err,
                live,
                out_on_terminal,
                progress: String::new(),
                shown: false,
            }),
        }
    }

    /// Writes one line of a command's output, prefixed; a line without its newline (the last
    /// of an output, or one cut at the length limit) gets one.
    pub fn line(&self, stream: Stream, prefix: &str, line: &[u8]) {
        let mut text = Vec::with_capacity(prefix.len() + line.len() + 1);
        text.extend_from_slice(prefix.as_bytes());
        text.extend_from_slice(line);
        if !text.ends_with(b"\n") {
            text.push(b'\n');
        }
        self.write(stream, &text);
    }

    /// Writes text of our own to stderr (a report, the summary), whole.
    pub fn message(&self, text: &str) {
        self.write(Stream::Stderr, text.as_bytes());
    }

    /// Sets the progress line; shown only on a terminal.
    pub fn progress(&self, text: String) {
        let mut state = self.lock();
        if !state.live || (state.shown && state.progress == text) {
            return;
        }
        state.progress = text;
        state.draw();
    }

    /// Takes the progress line away for good.
    pub fn finish(&self) {
        let mut state = self.lock();
        state.erase();
        state.progress.clear();
        let _ = state.err.flush();
    }

    fn write(&self, stream: Stream, text: &[u8]) {
        let mut state = self.lock();
        let in_the_way = stream == Stream::Stderr || state.out_on_terminal;
        if in_the_way {
            state.erase();
        }
        // A closed stdout (`| head`) loses the lines, not the run: the commands go on, and the
        // summary still reaches stderr.
        let target = match stream {
            Stream::Stdout => &mut state.out,
            Stream::Stderr => &mut state.err,
        };
        let _ = target.write_all(text).and_then(|()| target.flush());
        if in_the_way && !state.progress.is_empty() {
            state.draw();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A writer that panicked left whole lines behind it: the state is still good.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl State {
    fn erase(&mut self) {
        if self.shown {
            let _ = self.err.write_all(ERASE);
            self.shown = false;
        }
    }

    fn draw(&mut self) {
        if !self.live {
            return;
        }
        let mut text = ERASE.to_vec();
        text.extend_from_slice(self.progress.as_bytes());
        let _ = self.err.write_all(&text).and_then(|()| self.err.flush());
        self.shown = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Shared {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
        }
    }

    #[test]
    fn lines_are_prefixed_and_ended_and_go_to_their_stream() {
        let (out, err) = (Shared::default(), Shared::default());
        let console = Console::new(Box::new(out.clone()), Box::new(err.clone()), false, false);
        console.line(Stream::Stdout, "[a] ", b"one\n");
        console.line(Stream::Stderr, "[b] ", b"two");
        console.progress("1 done".into());
        console.finish();
        assert_eq!(out.text(), "[a] one\n");
        assert_eq!(err.text(), "[b] two\n", "no progress line off a terminal");
    }

    #[test]
    fn on_a_terminal_the_progress_line_makes_way_for_stderr_lines() {
        let (out, err) = (Shared::default(), Shared::default());
        let console = Console::new(Box::new(out.clone()), Box::new(err.clone()), true, false);
        console.progress("1 running".into());
        console.line(Stream::Stderr, "[a] ", b"warning\n");
        console.line(Stream::Stdout, "[a] ", b"data\n");
        console.progress("1 done".into());
        console.finish();
        assert_eq!(
            err.text(),
            "\r\x1b[K1 running\r\x1b[K[a] warning\n\r\x1b[K1 running\r\x1b[K1 done\r\x1b[K"
        );
        // stdout is not the terminal: its lines neither erase nor redraw the progress line.
        assert_eq!(out.text(), "[a] data\n");
    }
}
