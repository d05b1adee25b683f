//! Runs prepared commands side by side, at most so many at a time, each line of their output
//! prefixed with their name, and waits for every one of them (no zombies).
//!
//! One thread, this one, owns every child: it starts them, reaps them and forwards signals to
//! them, so that a signal can never reach a process ID that was reaped and reused. It sleeps
//! on a channel that the output readers (a pipe closed: the child has most likely exited) and
//! the signal watcher wake; a short poll catches a child that exits while something it
//! started keeps its pipes open.

use super::terminal::{Console, Stream};
use crate::process::ProcessError;
use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

/// A line longer than this is written in pieces of this size, each as a line of its own: a
/// command that prints without newlines must not hold all it prints in our memory.
pub const MAX_LINE: usize = 1 << 20;

/// After a command exits, how long its output may take to drain. Everything it wrote is in the
/// pipe by then; only a process it left running in the background can keep the pipe open, and
/// the summary must not wait for that.
const DRAIN_GRACE: Duration = Duration::from_millis(500);

/// One command to run, and the name its lines are prefixed with.
pub struct Job {
    pub name: String,
    pub command: Command,
}

/// How one command ended.
#[derive(Debug)]
pub enum Outcome {
    Exited {
        code: i32,
        took: Duration,
    },
    Signalled {
        signal: i32,
        took: Duration,
    },
    /// It could not be started.
    Failed(ProcessError),
    /// It was never started: the run stopped first.
    NotStarted,
}

/// Why the run stopped starting commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// `--fail-fast`, after a command failed.
    Failure,
    /// Signal N reached us (Ctrl-C: SIGINT).
    Signal(i32),
}

enum Event {
    /// One of a child's pipes closed.
    Closed(usize),
    /// A signal reached us; `from_terminal` when the terminal sent it (Ctrl-C, a hang-up).
    Signal { signal: i32, from_terminal: bool },
}

struct Running {
    index: usize,
    child: Child,
    started: Instant,
    open_pipes: u8,
    exited: Option<(ExitStatus, Instant)>,
}

/// Runs every job, at most `parallel` at a time, and returns how each ended (in the jobs'
/// order) and why the run stopped early, if it did. With `fail_fast`, the first failure stops
/// new commands from starting; those running finish.
///
/// Signals: SIGINT, SIGTERM and SIGHUP stop new commands from starting. One from the terminal
/// (Ctrl-C) has already reached the commands, which share our process group; one sent to us
/// alone (`kill`, a CI runner's timeout) is forwarded to every command still running.
// Without signals to watch (Windows), the watcher is `()`.
#[cfg_attr(not(unix), allow(clippy::let_unit_value))]
pub fn run_all(
    jobs: Vec<Job>,
    parallel: usize,
    fail_fast: bool,
    console: &Arc<Console>,
) -> (Vec<Outcome>, Option<Stop>) {
    let (events, inbox) = mpsc::channel();
    let interrupt = Arc::new(AtomicUsize::new(0));
    let watcher = watch_signals(events.clone(), &interrupt);
    let mut run = Run::new(jobs, parallel, fail_fast, interrupt);
    loop {
        run.start_pending(&events, console);
        console.progress(run.counts.line());
        if run.running.is_empty() && (run.stop.is_some() || run.pending.is_empty()) {
            break;
        }
        for event in wait_for_events(&inbox, &run.running) {
            run.handle(&event);
        }
        let now = Instant::now();
        run.reap(now);
        run.retire_drained(now);
    }
    stop_watching(watcher);
    run.finish()
}

/// One `run_all` in progress: what waits, what runs, how each command ended and why the run
/// stopped. Kept together so that each step of the loop is a method that sees all of it.
struct Run {
    parallel: usize,
    fail_fast: bool,
    outcomes: Vec<Option<Outcome>>,
    pending: VecDeque<(usize, Job)>,
    running: Vec<Running>,
    stop: Option<Stop>,
    counts: Counts,
    /// The signal that arrived, set by the signal handler itself (0 until one does): read
    /// before every start, because the event for it can reach the loop after a command's exit
    /// has freed a slot, and a slot must never be refilled after Ctrl-C.
    interrupt: Arc<AtomicUsize>,
}

impl Run {
    fn new(jobs: Vec<Job>, parallel: usize, fail_fast: bool, interrupt: Arc<AtomicUsize>) -> Self {
        let total = jobs.len();
        Run {
            parallel,
            fail_fast,
            outcomes: (0..total).map(|_| None).collect(),
            pending: jobs.into_iter().enumerate().collect(),
            running: Vec::new(),
            stop: None,
            counts: Counts {
                total,
                ..Counts::default()
            },
            interrupt,
        }
    }

    /// Starts waiting commands until `parallel` run, unless the run has stopped.
    fn start_pending(&mut self, events: &Sender<Event>, console: &Arc<Console>) {
        loop {
            let signal = self.interrupt.load(Ordering::SeqCst);
            if signal != 0 && self.stop.is_none() {
                self.stop = Some(Stop::Signal(i32::try_from(signal).unwrap_or(i32::MAX)));
            }
            if self.stop.is_some() || self.counts.running >= self.parallel {
                break;
            }
            let Some((index, job)) = self.pending.pop_front() else {
                break;
            };
            match start(index, job, events, console) {
                Ok(child) => {
                    self.counts.running += 1;
                    self.running.push(child);
                }
                Err(err) => {
                    self.counts.done += 1;
                    self.counts.failed += 1;
                    self.outcomes[index] = Some(Outcome::Failed(err));
                    if self.fail_fast {
                        self.stop = Some(Stop::Failure);
                    }
                }
            }
        }
    }

    /// A pipe closed, or a signal that stops the run (and is passed on if only we got it).
    fn handle(&mut self, event: &Event) {
        match *event {
            Event::Closed(index) => {
                if let Some(r) = self.running.iter_mut().find(|r| r.index == index) {
                    r.open_pipes = r.open_pipes.saturating_sub(1);
                }
            }
            Event::Signal {
                signal,
                from_terminal,
            } => {
                tracing::debug!(signal, from_terminal, "signal: starting no more commands");
                // A signal says more than a failure does about why the run stopped.
                self.stop = Some(Stop::Signal(signal));
                if !from_terminal {
                    forward(signal, &self.running);
                }
            }
        }
    }

    /// Reaps every child that has exited, noting when (`now`) for the drain grace.
    fn reap(&mut self, now: Instant) {
        for r in self.running.iter_mut().filter(|r| r.exited.is_none()) {
            let status = match r.child.try_wait() {
                Ok(Some(status)) => status,
                Ok(None) => continue,
                // Cannot happen for a child we own and have not reaped; were it to, a blocking
                // wait on a killed child is short and still reaps it.
                Err(_) => {
                    let _ = r.child.kill();
                    match r.child.wait() {
                        Ok(status) => status,
                        Err(_) => continue,
                    }
                }
            };
            r.exited = Some((status, now));
            self.counts.running -= 1;
            self.counts.done += 1;
            if !status.success() {
                self.counts.failed += 1;
                if self.fail_fast && self.stop.is_none() {
                    self.stop = Some(Stop::Failure);
                }
            }
        }
    }

    /// Records the outcome of each exited child whose output has drained, or has had
    /// [`DRAIN_GRACE`] to, and lets it go.
    fn retire_drained(&mut self, now: Instant) {
        let outcomes = &mut self.outcomes;
        self.running.retain(|r| match r.exited {
            Some((status, at)) if r.open_pipes == 0 || now - at >= DRAIN_GRACE => {
                outcomes[r.index] = Some(outcome(status, at - r.started));
                false
            }
            _ => true,
        });
    }

    fn finish(self) -> (Vec<Outcome>, Option<Stop>) {
        let outcomes = self
            .outcomes
            .into_iter()
            .map(|o| o.unwrap_or(Outcome::NotStarted))
            .collect();
        (outcomes, self.stop)
    }
}

/// What the progress line counts.
#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    total: usize,
    done: usize,
    running: usize,
    failed: usize,
}

impl Counts {
    fn line(self) -> String {
        format!(
            "each: {}/{} done, {} running, {} failed",
            self.done, self.total, self.running, self.failed
        )
    }
}

fn start(
    index: usize,
    mut job: Job,
    events: &Sender<Event>,
    console: &Arc<Console>,
) -> Result<Running, ProcessError> {
    let program = job.command.get_program().to_string_lossy().into_owned();
    // The terminal is ours (a prompt may still need it) and cannot be shared line by line.
    job.command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let started = Instant::now();
    let mut child = job.command.spawn().map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            ProcessError::CommandNotFound { program }
        } else {
            ProcessError::CommandNotExecutable { program, source: e }
        }
    })?;
    tracing::debug!(profile = %job.name, pid = child.id(), "started");
    let prefix: Arc<str> = format!("[{}] ", job.name).into();
    let mut open_pipes = 0;
    if let Some(out) = child.stdout.take() {
        open_pipes += 1;
        pump(out, Stream::Stdout, index, &prefix, events, console);
    }
    if let Some(err) = child.stderr.take() {
        open_pipes += 1;
        pump(err, Stream::Stderr, index, &prefix, events, console);
    }
    Ok(Running {
        index,
        child,
        started,
        open_pipes,
        exited: None,
    })
}

/// Copies a child's pipe to our stream, line by line, on a thread of its own. Not joined: a
/// process the child left running may hold the pipe open past the summary.
fn pump(
    pipe: impl Read + Send + 'static,
    stream: Stream,
    index: usize,
    prefix: &Arc<str>,
    events: &Sender<Event>,
    console: &Arc<Console>,
) {
    let (prefix, events, console) = (prefix.clone(), events.clone(), console.clone());
    std::thread::spawn(move || {
        let mut reader = BufReader::with_capacity(64 * 1024, pipe);
        let mut line = Vec::new();
        loop {
            line.clear();
            match (&mut reader)
                .take(MAX_LINE as u64)
                .read_until(b'\n', &mut line)
            {
                Ok(0) => break,
                Ok(_) => console.line(stream, &prefix, &line),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
        let _ = events.send(Event::Closed(index));
    });
}

/// The events that arrived within a short wait: shorter while a child has closed its pipes
/// (it is exiting) or exited (its output is draining), so that neither waits on the poll.
fn wait_for_events(inbox: &Receiver<Event>, running: &[Running]) -> Vec<Event> {
    let wait = if running
        .iter()
        .any(|r| r.exited.is_none() && r.open_pipes == 0)
    {
        Duration::from_millis(1)
    } else if running.iter().any(|r| r.exited.is_some()) {
        Duration::from_millis(10)
    } else {
        Duration::from_millis(50)
    };
    let mut events = Vec::new();
    match inbox.recv_timeout(wait) {
        Ok(event) => events.push(event),
        // The sender lives as long as the loop: disconnected cannot happen.
        Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => return events,
    }
    events.extend(inbox.try_iter());
    events
}

fn outcome(status: ExitStatus, took: Duration) -> Outcome {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return Outcome::Signalled { signal, took };
        }
    }
    Outcome::Exited {
        code: status.code().unwrap_or(1),
        took,
    }
}

#[cfg(unix)]
type Watcher = (
    Option<(signal_hook::iterator::Handle, std::thread::JoinHandle<()>)>,
    Vec<signal_hook::SigId>,
);
#[cfg(not(unix))]
type Watcher = ();

/// Turns SIGINT, SIGTERM and SIGHUP into events while the commands run. Without it (it cannot
/// fail but for a lack of resources) a signal ends this process as it would any other.
#[cfg(unix)]
fn watch_signals(events: Sender<Event>, interrupt: &Arc<AtomicUsize>) -> Watcher {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    use signal_hook::iterator::SignalsInfo;
    use signal_hook::iterator::exfiltrator::WithOrigin;
    use signal_hook::low_level::siginfo::Cause;

    let mut signals = match SignalsInfo::<WithOrigin>::new([SIGINT, SIGTERM, SIGHUP]) {
        Ok(signals) => signals,
        Err(err) => {
            tracing::warn!(%err, "cannot watch for signals: Ctrl-C will end assume-role at once");
            return (None, Vec::new());
        }
    };
    // Set in the handler itself, so that the loop sees the signal before it can start another
    // command, whatever order the events arrive in.
    let flags = [SIGINT, SIGTERM, SIGHUP]
        .into_iter()
        .filter_map(|signal| {
            let value = usize::try_from(signal).unwrap_or(usize::MAX);
            signal_hook::flag::register_usize(signal, Arc::clone(interrupt), value).ok()
        })
        .collect();
    let handle = signals.handle();
    let thread = std::thread::spawn(move || {
        for origin in signals.forever() {
            let event = Event::Signal {
                signal: origin.signal,
                from_terminal: origin.cause == Cause::Kernel,
            };
            if events.send(event).is_err() {
                break;
            }
        }
    });
    (Some((handle, thread)), flags)
}

/// Ctrl-C reaches every process on the console, the commands included; here it only stops new
/// commands from starting.
#[cfg(windows)]
fn watch_signals(events: Sender<Event>, interrupt: &Arc<AtomicUsize>) -> Watcher {
    let events = std::sync::Mutex::new(events);
    let interrupt = Arc::clone(interrupt);
    if let Err(err) = ctrlc::set_handler(move || {
        interrupt.store(2, Ordering::SeqCst);
        if let Ok(events) = events.lock() {
            let _ = events.send(Event::Signal {
                signal: 2,
                from_terminal: true,
            });
        }
    }) {
        tracing::warn!(%err, "cannot watch for Ctrl-C");
    }
}

#[cfg(not(any(unix, windows)))]
fn watch_signals(_events: Sender<Event>, _interrupt: &Arc<AtomicUsize>) -> Watcher {}

#[cfg(unix)]
fn stop_watching((watcher, flags): Watcher) {
    for id in flags {
        signal_hook::low_level::unregister(id);
    }
    if let Some((handle, thread)) = watcher {
        handle.close();
        let _ = thread.join();
    }
}

#[cfg(not(unix))]
fn stop_watching((): Watcher) {}

#[cfg(unix)]
fn forward(signal: i32, running: &[Running]) {
    use rustix::process::{Pid, Signal, kill_process};
    let Some(signal) = Signal::from_named_raw(signal) else {
        return;
    };
    // Only children not yet reaped: their PIDs are still their own.
    for r in running.iter().filter(|r| r.exited.is_none()) {
        tracing::debug!(?signal, pid = r.child.id(), "forwarding a signal");
        let _ = kill_process(Pid::from_child(&r.child), signal);
    }
}

#[cfg(not(unix))]
fn forward(_signal: i32, _running: &[Running]) {}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn quiet() -> Arc<Console> {
        Arc::new(Console::new(
            Box::new(std::io::sink()),
            Box::new(std::io::sink()),
            false,
            false,
        ))
    }

    fn sh(name: &str, script: &str) -> Job {
        let mut command = Command::new("sh");
        command.arg("-c").arg(script);
        Job {
            name: name.into(),
            command,
        }
    }

    #[test]
    fn codes_signals_and_missing_programs() {
        let jobs = vec![
            sh("a", "exit 0"),
            sh("b", "exit 3"),
            sh("c", "kill -TERM $$"),
            Job {
                name: "d".into(),
                command: Command::new("/nonexistent/program"),
            },
        ];
        let (outcomes, stop) = run_all(jobs, 2, false, &quiet());
        assert_eq!(stop, None);
        assert!(matches!(outcomes[0], Outcome::Exited { code: 0, .. }));
        assert!(matches!(outcomes[1], Outcome::Exited { code: 3, .. }));
        assert!(matches!(outcomes[2], Outcome::Signalled { signal: 15, .. }));
        assert!(matches!(
            outcomes[3],
            Outcome::Failed(ProcessError::CommandNotFound { .. })
        ));
    }

    #[test]
    fn fail_fast_starts_nothing_after_a_failure() {
        let jobs = vec![sh("a", "exit 4"), sh("b", "exit 0"), sh("c", "exit 0")];
        let (outcomes, stop) = run_all(jobs, 1, true, &quiet());
        assert_eq!(stop, Some(Stop::Failure));
        assert!(matches!(outcomes[0], Outcome::Exited { code: 4, .. }));
        assert!(matches!(outcomes[1], Outcome::NotStarted));
        assert!(matches!(outcomes[2], Outcome::NotStarted));
    }

    #[test]
    fn a_background_process_holding_the_pipe_does_not_hold_the_run() {
        let start = Instant::now();
        let (outcomes, _) = run_all(vec![sh("a", "sleep 5 & echo hi")], 1, false, &quiet());
        assert!(matches!(outcomes[0], Outcome::Exited { code: 0, .. }));
        assert!(start.elapsed() < Duration::from_secs(3));
    }
}
