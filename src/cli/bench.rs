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
use tamga::bench::{
    BenchReport, BenchSettings, ChainsReport, ChainsSettings, Throughput, chained_election,
    run_bench,
};
use tamga::model::SimPath;
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
    /// Instead of the throughput table: one ballot-level election of the scenario (run 0 of the
    /// variant) with every voting machine's ledger written in memory — the chains of four
    /// machines advanced in lockstep — and verified, four ledgers at a time, against its
    /// published head, on `--threads` workers beside the election day (docs/BENCHMARKS.md,
    /// "India scale").
    #[arg(long)]
    pub chains: bool,
    /// With `--chains`: also build each ledger's Merkle tree and check its root at every
    /// checkpoint (every 128 entries and at close, as `tamga simulate` signs them).
    #[arg(long, requires = "chains")]
    pub tree: bool,
    /// With `--chains`: workers writing and verifying ledgers.
    #[arg(long, default_value_t = 2, requires = "chains", allow_negative_numbers = true, value_parser = super::args::whole::<usize>)]
    pub threads: usize,
    /// With `--chains`: sign and open the checkpoints of this many machines on one thread, to
    /// measure what Ed25519 checkpoints would add (0: none).
    #[arg(long, default_value_t = 0, requires = "chains", allow_negative_numbers = true, value_parser = super::args::whole::<usize>)]
    pub signature_sample: usize,
    /// With `--chains`: machines per block handed to a worker (their ledger files are in memory
    /// together; small blocks stay in the cores' caches).
    #[arg(long, default_value_t = 64, requires = "chains", allow_negative_numbers = true, value_parser = super::args::whole::<usize>)]
    pub block: usize,
    /// With `--chains`: how the election day runs — `hybrid` (the default path of `tamga run`:
    /// each station's electronic voters drawn, then cast one by one on its machine) or `ballot`
    /// (every registered voter decided one by one). A variant with fraud models runs on the
    /// ballot path either way; the output says which path ran.
    #[arg(long, default_value = "hybrid", requires = "chains")]
    pub path: String,
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
    if args.chains {
        return chains(&args, &scenario, variant, seed);
    }
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

/// `--chains`: the chained and verified election.
fn chains(
    args: &Args,
    scenario: &tamga::model::Scenario,
    variant: usize,
    seed: u64,
) -> anyhow::Result<ExitCode> {
    if args.threads == 0 || args.threads > 256 {
        bail!("--threads must be between 1 and 256");
    }
    if args.block == 0 || args.block > 1_000_000 {
        bail!("--block must be between 1 and 1000000 machines");
    }
    if args.signature_sample > 1_000_000 {
        bail!("--signature-sample must be at most 1000000 machines");
    }
    if std::io::stderr().is_terminal() && !args.json {
        eprintln!("preparing the electorate …");
    }
    let path = match args.path.as_str() {
        "hybrid" => SimPath::Hybrid,
        "ballot" => SimPath::Ballot,
        other => bail!("--path must be `hybrid` or `ballot` with --chains, not `{other}`"),
    };
    let prepared = Simulator::new(scenario, seed);
    let settings = ChainsSettings {
        path,
        threads: args.threads,
        block: args.block,
        tree: args.tree.then_some(tamga::package::CHECKPOINT_INTERVAL),
        signature_sample: args.signature_sample,
    };
    if std::io::stderr().is_terminal() && !args.json {
        eprintln!("election day, writing and verifying every machine's ledger …");
    }
    let r = chained_election(&prepared, variant, 0, settings);
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&r).context("cannot render the report")?
        );
    } else {
        print!("{}", chains_text(&r, args.threads));
    }
    if r.with_findings > 0 || r.roots_differing > 0 {
        eprintln!("error: some ledgers did not verify");
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

fn chains_text(r: &ChainsReport, threads: usize) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{} ledgers, {} ballots ({} bytes) written and verified against their published heads: \
         {} with findings",
        r.ledgers, r.ballots, r.bytes, r.with_findings
    );
    if r.checkpoints > 0 {
        let _ = writeln!(
            s,
            "{} checkpoint roots computed at ingest and checked by the verifier: {} differ",
            r.roots_checked, r.roots_differing
        );
    }
    let _ = writeln!(
        s,
        "{:.1} s wall; CPU: election day ({} path) {:.1} s, writing ledgers {:.1} s, verifying \
         {:.1} s ({threads} workers)",
        r.wall, r.path, r.cpu_simulate, r.cpu_ingest, r.cpu_verify
    );
    if let Some(g) = &r.signatures {
        let _ = writeln!(
            s,
            "Ed25519 checkpoints ({} signed and opened on one thread): {:.1} µs to sign, {:.1} µs \
             to open each; {} checkpoints would take {:.0} CPU-seconds",
            g.notes,
            g.sign_seconds * 1e6,
            g.open_seconds * 1e6,
            r.checkpoints,
            r.checkpoints as f64 * (g.sign_seconds + g.open_seconds)
        );
    }
    s
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
