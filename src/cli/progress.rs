//! Progress and control for long work: a progress bar on stderr and a Ctrl-C stop flag.
//!
//! **Owns**: the one process-wide stop flag raised by SIGINT/SIGTERM ([`stop_flag`]), the hold
//! on the quit-now exit while outputs are written ([`hold_exit`]) and the progress bar
//! ([`Progress`]: runs done, ballots per second, ETA). The bar is drawn only when stderr is a
//! terminal; otherwise (pipes, files, CI, batch schedulers) nothing is printed.
//! **Never**: writes outputs. The engine checks the stop flag before each run and then returns
//! no result; commands write their files only after every run has finished, all or none
//! (`tamga::files`), under [`hold_exit`], so an interrupted command leaves no output behind, whole
//! or partial.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::{Duration, Instant};

static STOP: AtomicBool = AtomicBool::new(false);
static HANDLER: OnceLock<bool> = OnceLock::new();
/// Held while outputs are written; the quit-now exit waits for it.
static WRITING: Mutex<()> = Mutex::new(());

/// The stop flag, with a Ctrl-C (SIGINT, and SIGTERM) handler that raises it installed on first
/// use. A second Ctrl-C while work is stopping ends the process at once (exit 130) — unless
/// outputs are being written ([`hold_exit`]): then it ends the process as soon as the whole set
/// is in place, so even a second Ctrl-C leaves all of a command's new files or none of them.
pub fn stop_flag() -> &'static AtomicBool {
    HANDLER.get_or_init(|| {
        ctrlc::set_handler(|| {
            if STOP.swap(true, Ordering::SeqCst) {
                let _writing = WRITING.lock().unwrap_or_else(PoisonError::into_inner);
                std::process::exit(130);
            }
            if std::io::stderr().is_terminal() {
                eprintln!(
                    "\ntamga: stopping after the runs in progress (Ctrl-C again to quit now)"
                );
            }
        })
        .is_ok()
    });
    &STOP
}

/// Holds off the quit-now exit of a second Ctrl-C (and SIGTERM's, which would otherwise kill the
/// process outright: the handler is installed if it was not yet) until the guard is dropped.
/// Commands hold it while they write a set of output files. A first Ctrl-C meanwhile only raises
/// the stop flag, which nobody reads any more: the writing finishes.
pub fn hold_exit() -> MutexGuard<'static, ()> {
    stop_flag();
    WRITING.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A progress bar over a known number of runs, counting ballots to show a rate.
pub struct Progress {
    bar: ProgressBar,
    ballots: AtomicU64,
    /// When the runs began (set by [`Progress::begin`]), for the ballot rate.
    start: OnceLock<Instant>,
}

impl Progress {
    /// A bar for `total` runs on stderr if it is a terminal, hidden otherwise. The steady tick
    /// keeps it moving while the electorates are built.
    pub fn new(total: u64) -> Progress {
        let terminal = std::io::stderr().is_terminal();
        let target = if terminal {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        let bar = ProgressBar::with_draw_target(Some(total), target);
        // the message last and `wide`: indicatif cuts it to the terminal's width, so the line
        // never wraps
        let style =
            ProgressStyle::with_template("[{bar:20}] {pos}/{len} runs · ETA {eta} · {wide_msg}")
                .map(|s| s.progress_chars("=> "))
                .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        bar.set_message("preparing electorates");
        if terminal {
            // keeps the elapsed time moving while the electorates are built
            bar.enable_steady_tick(Duration::from_millis(250));
        }
        Progress {
            bar,
            ballots: AtomicU64::new(0),
            start: OnceLock::new(),
        }
    }

    /// The electorates are built; the runs start now.
    pub fn begin(&self) {
        let _ = self.start.set(Instant::now());
        self.bar.set_message("simulating");
    }

    /// Records one finished run of variant `variant` with `ballots` ballots (callable from
    /// worker threads): the message names the variant and the ballot rate so far.
    pub fn run_done(&self, variant: &str, ballots: u64) {
        let total = self.ballots.fetch_add(ballots, Ordering::Relaxed) + ballots;
        let secs = self
            .start
            .get_or_init(Instant::now)
            .elapsed()
            .as_secs_f64()
            .max(1e-6);
        self.bar.set_message(format!(
            "simulating `{variant}` · {} ballots/s",
            si(total as f64 / secs)
        ));
        self.bar.inc(1);
    }

    /// The runs are done; `what` is being done now (the bar stays, with its elapsed time
    /// moving, so the screen is never blank).
    pub fn stage(&self, what: &str) {
        let style = ProgressStyle::with_template("{spinner} {elapsed} · {wide_msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner());
        self.bar.set_style(style);
        self.bar.set_message(what.to_string());
    }

    /// Removes the bar from the terminal.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// A number with three significant digits and a k/M/G suffix after a space (none below 1000).
pub fn si(x: f64) -> String {
    let (v, unit) = if x >= 1e9 {
        (x / 1e9, "G")
    } else if x >= 1e6 {
        (x / 1e6, "M")
    } else if x >= 1e3 {
        (x / 1e3, "k")
    } else {
        (x, "")
    };
    let s = if v >= 100.0 {
        format!("{v:.0} {unit}")
    } else if v >= 10.0 {
        format!("{v:.1} {unit}")
    } else {
        format!("{v:.2} {unit}")
    };
    s.trim_end().to_string()
}

#[cfg(test)]
mod tests {
    use super::si;

    #[test]
    fn si_suffixes() {
        assert_eq!(si(15_400_000.0), "15.4 M");
        assert_eq!(si(950.0), "950");
        assert_eq!(si(1_234.0), "1.23 k");
        assert_eq!(si(2.5e9), "2.50 G");
    }
}
