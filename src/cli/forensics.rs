//! `tamga forensics RESULTS.csv[.gz]`: fraud fingerprints and tests on real polling-station
//! results. A thin layer over [`tamga::forensics`]: reads the file, runs [`analyse`], prints the
//! text report (or, with `--json`, the JSON document) on stdout, and with `--out DIR` writes
//! `DIR/report.json` and `DIR/report.html` atomically. Owns the clock: with `--timings` it
//! prints how long each stage took on stderr (the library never reads a clock). Owns the words
//! that name flags: the library's errors are mapped here to messages that say which flag to
//! change ([`explain`]).

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use tamga::forensics::read::{self, LeaderError};
use tamga::forensics::stats::klimek::FitEffort;
use tamga::forensics::{AnalysisOptions, ForensicsError, Stage, analyse, html};
use tamga::text::{echo, echo_max};

#[derive(clap::Args)]
pub struct Args {
    /// Station-results CSV, plain or gzip: region,commission,station,registered,issued,valid,invalid,<options…>
    pub input: PathBuf,
    /// The leader: any unique part of an option's name (default: the option with the largest total).
    #[arg(long)]
    pub leader: Option<String>,
    /// Seed of every simulation in the report; the same seed gives the same report.
    #[arg(long, default_value_t = tamga::forensics::DEFAULT_SEED, allow_negative_numbers = true, value_parser = super::args::whole::<u64>)]
    pub seed: u64,
    /// Print the report as one JSON document on stdout instead of text.
    #[arg(long)]
    pub json: bool,
    /// Also write DIR/report.json and DIR/report.html (the directory is created if needed).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Bootstrap replicates of the Klimek fit (behind its 90 % intervals).
    #[arg(long, default_value_t = FitEffort::FULL.replicates as u64, value_parser = clap::value_parser!(u64).range(1..=1000))]
    pub replicates: u64,
    /// Clean simulations behind the digit tests' calibrated null.
    #[arg(long, default_value_t = tamga::forensics::DEFAULT_DIGIT_NULL_SIMULATIONS as u64, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub digit_sims: u64,
    /// Worker threads (default: all cores); the report does not depend on it.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub threads: Option<u64>,
    /// Print the time of each stage on stderr.
    #[arg(long)]
    pub timings: bool,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.threads {
        Some(t) => rayon::ThreadPoolBuilder::new()
            .num_threads(t as usize)
            .build()
            .context("cannot start the worker threads")?
            .install(|| run_inner(&args)),
        None => run_inner(&args),
    }
}

fn run_inner(args: &Args) -> anyhow::Result<ExitCode> {
    let show = args.input.display().to_string();
    let source = args
        .input
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| show.clone());
    let progress = std::io::stderr().is_terminal();
    let mut times: Vec<(&str, f64)> = Vec::new();

    let t = Instant::now();
    let file = match super::audit::open_regular(&args.input) {
        Ok(Some(f)) => f,
        Ok(None) => anyhow::bail!("cannot open {show}: no such file; check the path"),
        Err(e) => anyhow::bail!(
            "cannot open {show}: {e}; give a station-results file (plain CSV or gzip)"
        ),
    };
    let data = read::read_results(file).map_err(|e| anyhow::anyhow!("{show}: {e}"))?;
    times.push(("read", t.elapsed().as_secs_f64()));
    if progress {
        eprintln!("read {} stations from {show}", data.stations.len());
    }

    let options = AnalysisOptions {
        leader: args.leader.clone(),
        seed: args.seed,
        fit: FitEffort {
            replicates: args.replicates as usize,
            ..FitEffort::FULL
        },
        digit_null_simulations: args.digit_sims as usize,
    };
    let mut last = Instant::now();
    let report = analyse(&data, &options, |stage| {
        let name = match stage {
            Stage::Fingerprint => "fingerprint",
            Stage::IntegerTest => "integer test",
            Stage::KlimekFit => "Klimek fit",
            Stage::DigitNull => "digit tests + null",
        };
        times.push((name, last.elapsed().as_secs_f64()));
        last = Instant::now();
        if progress {
            eprintln!("done: {name}");
        }
    })
    .map_err(|e| anyhow::anyhow!("{show}: {}", explain(&e)))?;

    let t = Instant::now();
    let json = report.to_json();
    let text = (!args.json).then(|| report.to_text(&source));
    let page = args.out.as_ref().map(|_| html::render(&report, &source));
    times.push(("render", t.elapsed().as_secs_f64()));

    if let (Some(dir), Some(page)) = (&args.out, &page) {
        let t = Instant::now();
        write_outputs(dir, &json, page)?;
        times.push(("write", t.elapsed().as_secs_f64()));
    }
    if let Some(text) = text {
        print!("{text}");
    } else {
        print!("{json}");
    }
    if let Some(dir) = &args.out {
        eprintln!(
            "wrote {} and {}",
            dir.join("report.json").display(),
            dir.join("report.html").display()
        );
    }
    if args.timings {
        let total: f64 = times.iter().map(|t| t.1).sum();
        for (name, s) in &times {
            eprintln!("time {name:<20} {s:>8.3} s");
        }
        eprintln!("time {:<20} {total:>8.3} s", "total");
    }
    Ok(ExitCode::SUCCESS)
}

/// The message for an analysis error, naming the flag that chose what went wrong.
fn explain(e: &ForensicsError) -> String {
    match e {
        ForensicsError::Leader(LeaderError::NoMatch { query, options }) => format!(
            "--leader `{}` matches no option; the options are: {}",
            echo(query),
            echo_max(&options.join(" | "), 1024)
        ),
        ForensicsError::Leader(LeaderError::Ambiguous { query, matches }) => format!(
            "--leader `{}` is ambiguous, it matches: {}; give a longer part of one name",
            echo(query),
            echo_max(&matches.join(" | "), 1024)
        ),
        other => other.to_string(),
    }
}

fn write_outputs(dir: &Path, json: &str, page: &str) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| {
        anyhow::anyhow!(
            "cannot create the output directory {}: {e}; choose a writable --out",
            dir.display()
        )
    })?;
    for (name, bytes) in [("report.json", json), ("report.html", page)] {
        let path = dir.join(name);
        tamga::files::write_atomic(&path, bytes.as_bytes())
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}; check --out", path.display()))?;
    }
    Ok(())
}
