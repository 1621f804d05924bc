//! `tamga bench [SCENARIO]`: ledger ingest (one chain and several in lockstep), ledger
//! verification and a whole ballot-level run in ballots per second on this machine, each beside
//! the fastest single-stream SHA-256 one-block rate measured in the same process (see
//! [`tamga::bench`]). Prints a table, or one JSON document
//! with `--json`. Everything runs on one thread.

use super::progress::si;
use anyhow::{Context, bail};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use tamga::bench::{BenchReport, BenchSettings, Throughput, run_bench};
use tamga::montecarlo::Simulator;

/// The bundled scenario `bench` times by default: `scenarios/kazakhstan-2004.toml` under the
/// current directory if it is there, else in the source tree tamga was built from (so that
/// the command works outside the repository too); loading names the path if neither exists.
fn default_scenario() -> PathBuf {
    let rel = PathBuf::from("scenarios/kazakhstan-2004.toml");
    if rel.is_file() {
        rel
    } else {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(rel)
    }
}

#[derive(clap::Args)]
pub struct Args {
    /// The scenario whose run is timed (default: the bundled Kazakhstan 2004 scenario, from the
    /// current directory or else from the source tree tamga was built in).
    pub scenario: Option<PathBuf>,
    /// The variant to run (default: `official` if the scenario has it, else its first variant).
    #[arg(long)]
    pub variant: Option<String>,
    /// Ballots per repetition of the SHA-256, ingest and verify measurements.
    #[arg(long, default_value_t = 2_000_000, allow_negative_numbers = true, value_parser = super::args::whole::<u64>)]
    pub ballots: u64,
    /// Repetitions of each measurement; the median is reported.
    #[arg(long, default_value_t = 5, allow_negative_numbers = true, value_parser = super::args::whole::<u32>)]
    pub repeat: u32,
    /// Master seed of the timed run (default: the scenario's montecarlo.seed).
    #[arg(long, allow_negative_numbers = true, value_parser = super::args::whole::<u64>)]
    pub seed: Option<u64>,
    /// Print one JSON document on stdout instead of the table.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if args.ballots == 0 || args.ballots > 100_000_000 {
        bail!(
            "--ballots must be between 1 and 100000000 (the verify ledger is kept in memory, 44 bytes per ballot)"
        );
    }
    if args.repeat == 0 || args.repeat > 1000 {
        bail!("--repeat must be between 1 and 1000");
    }
    let path = args.scenario.clone().unwrap_or_else(default_scenario);
    let scenario = tamga::scenario::load(&path)?;
    let variant = match &args.variant {
        Some(name) => scenario.variants.iter().position(|v| &v.name == name),
        None => Some(
            scenario
                .variants
                .iter()
                .position(|v| v.name == "official")
                .unwrap_or(0),
        ),
    };
    let Some(variant) = variant else {
        bail!(
            "there is no variant `{}` in {}; it has: {}",
            args.variant.as_deref().unwrap_or(""),
            path.display(),
            scenario.variant_names()
        );
    };
    let seed = args.seed.unwrap_or(scenario.montecarlo.seed);
    let chatty = !args.json && std::io::stderr().is_terminal();
    if chatty {
        eprintln!("preparing {} …", path.display());
    }
    // one thread: the run's calibration too, so that nothing else competes with the timings
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .context("cannot start a worker thread")?;
    let report = pool.install(|| {
        let prepared = Simulator::new(&scenario, seed);
        let n_lists = scenario.parties.len().min(254) as u8;
        let n_candidates = prepared.electorates[variant]
            .districts
            .iter()
            .map(|d| d.candidates.len())
            .max()
            .unwrap_or(1)
            .clamp(1, 65534) as u16;
        let settings = BenchSettings {
            ballots: args.ballots,
            repeat: args.repeat,
            n_lists,
            n_candidates,
        };
        run_bench(&prepared, variant, settings, &mut |stage| {
            if chatty {
                eprintln!("measuring {stage} …");
            }
        })
    });
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).context("cannot render the report")?
        );
    } else {
        print!("{}", table(&report, &path.display().to_string()));
    }
    Ok(ExitCode::SUCCESS)
}

fn table(r: &BenchReport, scenario: &str) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "tamga bench — one thread, median of {} repetition(s), per {} second, tamga {}",
        r.repeat,
        if r.sha256.cpu_seconds.is_some() {
            "CPU"
        } else {
            "wall-clock"
        },
        r.tamga_version
    );
    let _ = writeln!(
        s,
        "  {:<52} {:>20} {:>10}",
        "measurement", "rate", "× SHA-256"
    );
    let row = |s: &mut String, label: &str, rate: &Throughput| {
        let _ = writeln!(
            s,
            "  {:<52} {:>20} {:>10.3}",
            label,
            format!("{} {}/s", si(rate.per_second), rate.unit),
            rate.ratio
        );
    };
    row(
        &mut s,
        &format!("(a) SHA-256, one block, dependent chain [{}]", r.reference),
        &r.sha256,
    );
    row(&mut s, "    sha2 compress256", &r.sha256_sha2);
    row(
        &mut s,
        &format!("    tamga kernel, 1 lane [{}]", r.backend),
        &r.sha256_one_lane,
    );
    row(
        &mut s,
        &format!("    {} chains in lockstep [{}]", r.lanes, r.backend),
        &r.sha256_lockstep,
    );
    row(
        &mut s,
        "(b) ledger ingest: sample + hash + count",
        &r.ingest,
    );
    row(
        &mut s,
        &format!("    {} machines' chains in lockstep", r.lanes),
        &r.ingest_lockstep,
    );
    row(
        &mut s,
        &format!(
            "(c) ledger verify, in-memory file, {} links at once",
            r.lanes
        ),
        &r.verify,
    );
    row(
        &mut s,
        &format!(
            "(d) whole run, {} `{}`",
            short_name(scenario),
            r.run_info.variant
        ),
        &r.run,
    );
    let i = &r.run_info;
    let _ = writeln!(
        s,
        "  (a)–(c): {} hashes or ballots per repetition\n  (d): {} registered, {} ballots \
         ({} electronic, hash-chained), {} stations",
        r.sha256.items, i.registered, i.ballots, i.electronic, i.stations
    );
    if let Some(cpu) = r.run.cpu_seconds {
        let _ = writeln!(
            s,
            "  one run of (d): {:.3} s CPU, {:.3} s wall (wall > CPU when other work shares the core)",
            cpu, r.run.wall_seconds
        );
    }
    s
}

/// The file name of a scenario path, at most 24 characters.
fn short_name(path: &str) -> String {
    let name = std::path::Path::new(path)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.to_string());
    name.chars().take(24).collect()
}
