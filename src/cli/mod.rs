//! Subcommands of the `tamga` binary, one module each. Every module exposes `Args` (clap) and
//! `run(Args) -> anyhow::Result<ExitCode>`; errors are printed by `main` as one line, exit 2.

pub mod args;
pub mod audit;
pub mod bench;
pub mod check;
pub mod forensics;
pub mod infer;
pub mod merge;
pub mod progress;
pub mod real_stations;
pub mod rla;
pub mod run;
pub mod seats;
pub mod simulate;

/// One line: the error and its causes, joined with ": ".
pub fn render_error(e: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in e.chain() {
        let s = cause.to_string();
        if !parts.iter().any(|p| p.contains(&s)) {
            parts.push(s);
        }
    }
    parts.join(": ")
}
