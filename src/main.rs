//! The `tamga` command-line tool: a thin layer over the library. Parses arguments, calls the
//! library, prints and writes results. Exit codes: 0 ok, 1 findings (audit), 2 error.

#![deny(unsafe_code)]

mod cli;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "tamga", version, about = "Electronic-voting simulation engine", long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Monte Carlo over every variant of a scenario; writes summary.json, runs.csv,
    /// report.html and fingerprints.csv.
    Run(cli::run::Args),
    /// Simulate one election at ballot level and write it as an election package.
    Simulate(cli::simulate::Args),
    /// Verify an election package: chains, heads, receipts, protocols, aggregates.
    Audit(cli::audit::Args),
    /// Risk-limiting audit of an election package's paper record.
    Rla(cli::rla::Args),
    /// Combine the part files of a sharded run into summary.json, runs.csv, report.html and
    /// fingerprints.csv.
    Merge(cli::merge::Args),
    /// Ledger ingest, verification and whole-run throughput beside the SHA-256 rate.
    Bench(cli::bench::Args),
    /// Validate a scenario file and list every problem in it.
    Check(cli::check::Args),
    /// Allocate seats from a CSV of votes.
    Seats(cli::seats::Args),
    /// Fraud fingerprints and statistical tests on real polling-station results.
    Forensics(cli::forensics::Args),
    /// Which fraud, and how much, explains the reported result (ABC over the simulator).
    Infer(cli::infer::Args),
}

/// A closed stdout (`tamga audit pkg | head`) ends the process quietly, as it does other Unix
/// tools, instead of making `println!` panic: Rust starts programs with SIGPIPE ignored, so a
/// write to a closed pipe would fail with EPIPE and the print macros panic on it.
#[cfg(unix)]
#[allow(unsafe_code)] // one libc call, before any thread starts
fn default_sigpipe() {
    // SAFETY: restoring the default disposition of SIGPIPE has no memory-safety
    // preconditions; it runs first in `main`, before any other thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

fn main() -> ExitCode {
    #[cfg(unix)]
    default_sigpipe();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let result = match cli.command {
        Command::Run(a) => cli::run::run(a),
        Command::Simulate(a) => cli::simulate::run(a),
        Command::Audit(a) => cli::audit::run(a),
        Command::Rla(a) => cli::rla::run(a),
        Command::Merge(a) => cli::merge::run(a),
        Command::Bench(a) => cli::bench::run(a),
        Command::Check(a) => cli::check::run(a),
        Command::Seats(a) => cli::seats::run(a),
        Command::Forensics(a) => cli::forensics::run(a),
        Command::Infer(a) => cli::infer::run(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("tamga: {}", cli::render_error(&e));
            ExitCode::from(2)
        }
    }
}
