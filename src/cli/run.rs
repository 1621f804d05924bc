//! `tamga run SCENARIO`: Monte Carlo over every variant; writes summary.json, runs.csv,
//! report.html and fingerprints.csv and prints the summary table (or the summary as JSON with `--json`). With
//! `--shard K/N` it runs only the K-th block of run indices and writes `part-K-of-N.json`
//! instead, for `tamga merge`.
//!
//! The four outputs are built as bytes after every run has finished ([`RunOutputs::build`],
//! which also re-simulates one run per variant for the report) and only then written, all or
//! none. Ctrl-C stops the runs and the command exits 2 having written nothing; a second Ctrl-C
//! quits at once, but waits for a set of files being written to be complete.

use super::progress::{Progress, hold_exit, stop_flag};
use anyhow::{Context, bail};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use tamga::model::MAX_RUNS;
use tamga::montecarlo::Simulator;
use tamga::output::RunOutputs;
use tamga::report::ReportOptions;
use tamga::shard::{Part, ShardError, ShardSpec};

#[derive(clap::Args)]
pub struct Args {
    /// The scenario file (TOML).
    pub scenario: PathBuf,
    /// Runs per variant (default: the scenario's montecarlo.runs).
    #[arg(long, allow_negative_numbers = true, value_parser = super::args::whole::<u32>)]
    pub runs: Option<u32>,
    /// Master seed (default: the scenario's montecarlo.seed).
    #[arg(long, allow_negative_numbers = true, value_parser = super::args::whole::<u64>)]
    pub seed: Option<u64>,
    /// Worker threads (default: all cores).
    #[arg(long, allow_negative_numbers = true, value_parser = super::args::whole::<usize>)]
    pub threads: Option<usize>,
    /// Output directory for summary.json, runs.csv, report.html and fingerprints.csv, written
    /// all or none (default: results/<scenario file stem>).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Only these variants (comma-separated names).
    #[arg(long, value_delimiter = ',')]
    pub variant: Vec<String>,
    /// Print the summary as one JSON document on stdout instead of the table.
    #[arg(long)]
    pub json: bool,
    /// After the overview (every variant on one screen), print the per-variant tables and the
    /// whole detection matrix.
    #[arg(long)]
    pub detail: bool,
    /// Draw the report's fingerprints in 0.1 % cells instead of 1 % (stripes at whole
    /// percentages show; the page grows by about 12 bytes per station and variant).
    #[arg(long)]
    pub fine_fingerprint: bool,
    /// Simulation path: `hybrid` (station counts drawn directly, electronic ballots one by one
    /// on hash-chained machines; the default), `ballot` (every ballot: the reference) or
    /// `station` (no machines; variants with fraud inside voting machines run ballot by
    /// ballot); default: the scenario's montecarlo.path, else hybrid.
    #[arg(long, value_parser = ["hybrid", "ballot", "station"])]
    pub path: Option<String>,
    /// Run only shard K of N (numbered from 1) — a contiguous block of run indices — and write
    /// OUT/part-K-of-N.json for `tamga merge` instead of the four outputs. `auto/N` takes K from SLURM_ARRAY_TASK_ID (relative
    /// to SLURM_ARRAY_TASK_MIN) or JOB_COMPLETION_INDEX (+1).
    #[arg(long, value_name = "K/N")]
    pub shard: Option<String>,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let stop = stop_flag();
    let shard = match &args.shard {
        Some(s) => Some(
            ShardSpec::parse(s)
                .and_then(|spec| spec.resolve(|name| std::env::var(name).ok()))
                .map_err(shard_flag_error)?,
        ),
        None => None,
    };
    let source = tamga::scenario::read_source(&args.scenario)?;
    let mut scenario = tamga::scenario::parse(&source, &args.scenario.display().to_string())?;
    if !args.variant.is_empty() {
        for name in &args.variant {
            if scenario.variant(name).is_none() {
                bail!(
                    "there is no variant `{name}` in {}; it has: {}",
                    args.scenario.display(),
                    scenario.variant_names()
                );
            }
        }
        scenario.variants.retain(|v| args.variant.contains(&v.name));
    }
    if let Some(p) = args
        .path
        .as_deref()
        .and_then(tamga::model::SimPath::from_name)
    {
        scenario.montecarlo.path = p;
    }
    // the real station results the report draws, read before any simulating (a shard's part
    // holds no report, so a shard does not read them; `tamga merge` does)
    let real = match shard {
        None => super::real_stations::load(&scenario, args.scenario.parent())?,
        Some(_) => None,
    };
    let runs = args.runs.unwrap_or(scenario.montecarlo.runs);
    // before anything is sized by runs × variants
    if runs == 0 || runs > MAX_RUNS {
        bail!(
            "--runs must be between 1 and {MAX_RUNS} (the scenario format's limit), not {runs}; \
             for more runs, run shards of the same scenario with different --seed values"
        );
    }
    let seed = args.seed.unwrap_or(scenario.montecarlo.seed);
    let out = args.out.clone().unwrap_or_else(|| {
        let stem = args
            .scenario
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "scenario".into());
        PathBuf::from("results").join(stem)
    });
    let pool = thread_pool(args.threads)?;
    // a bad output path is found before the work, not after it
    ensure_writable_dir(&out)?;
    let block = shard.map_or(0..runs, |s| s.block(runs));
    // the outcomes this command holds, before anything is sized by them
    tamga::shard::check_outcomes_fit(
        block.len() as u32,
        scenario.variants.len(),
        scenario.parties.len(),
    )?;
    let progress = Progress::new(block.len() as u64 * scenario.variants.len() as u64);
    let outcomes = pool.install(|| {
        let prepared = Simulator::new(&scenario, seed);
        progress.begin();
        prepared.run_all_observed(block.clone(), stop, &|v, o| {
            progress.run_done(&scenario.variants[v].name, o.reported.ballots)
        })
    });
    let Some(outcomes) = outcomes else {
        progress.finish();
        bail!("interrupted before all runs finished; nothing was written");
    };
    std::fs::create_dir_all(&out)
        .with_context(|| format!("cannot create output directory {}", out.display()))?;
    if let Some(shard) = shard {
        let part = Part::new(&scenario, &source, seed, runs, shard, outcomes);
        let path = out.join(shard.file_name());
        progress.stage("writing the part file");
        let json = part
            .to_json_checked()
            .map_err(|e| anyhow::anyhow!("cannot write shard {}/{}: {e}", shard.k, shard.n))?;
        {
            let _hold = hold_exit();
            tamga::files::write_atomic(&path, json.as_bytes())
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        progress.finish();
        if args.json {
            let doc = serde_json::json!({
                "part": path.display().to_string(),
                "shard": shard,
                "runs": part.runs,
                "runs_total": runs,
                "variants": part.variants,
            });
            println!("{doc}");
        } else {
            println!(
                "shard {}/{}: runs {}..{} of {} for {} variant(s); wrote {}",
                shard.k,
                shard.n,
                block.start,
                block.end,
                runs,
                scenario.variants.len(),
                path.display()
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    // every output is built before any is written
    progress.stage("building outputs: summary, calibration, report re-runs");
    let outputs = pool.install(|| {
        RunOutputs::build_with(
            &scenario,
            &source,
            seed,
            &outcomes,
            ReportOptions {
                fine_fingerprint: args.fine_fingerprint,
                real,
                ..ReportOptions::default()
            },
        )
    });
    progress.stage("writing summary.json, runs.csv, fingerprints.csv and report.html");
    let written = write_results(&outputs, &out, args.json, args.detail);
    progress.finish();
    written
}

/// Writes `outputs` (summary.json, runs.csv, fingerprints.csv and report.html, already built) into `out`, all or
/// none, with the quit-now exit of a second Ctrl-C held off meanwhile, and prints the overview
/// (with `detail`, the per-variant tables after it; with `json`, the summary as JSON instead). Shared by `run` and `merge`, so that a merged result is byte-identical
/// to an unsharded one.
pub fn write_results(
    outputs: &RunOutputs,
    out: &Path,
    json: bool,
    detail: bool,
) -> anyhow::Result<ExitCode> {
    std::fs::create_dir_all(out)
        .with_context(|| format!("cannot create output directory {}", out.display()))?;
    let paths = {
        let _hold = hold_exit();
        outputs.write(out)?
    };
    if json {
        print!("{}", outputs.summary_json);
    } else {
        print!("{}", outputs.summary.to_terminal(detail));
        let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        println!("\nwrote {}", and_list(&names));
    }
    Ok(ExitCode::SUCCESS)
}

/// The most worker threads `--threads` accepts: far more than any machine this runs on has
/// cores (more threads than cores only add scheduling), and few enough that starting them is
/// quick and cannot exhaust the process's threads or memory.
pub const MAX_THREADS: usize = 1024;

/// The worker pool for `--threads` (default: all cores), checked against [`MAX_THREADS`]
/// before any thread starts.
pub fn thread_pool(threads: Option<usize>) -> anyhow::Result<rayon::ThreadPool> {
    let mut pool = rayon::ThreadPoolBuilder::new();
    if let Some(t) = threads {
        if t == 0 || t > MAX_THREADS {
            bail!(
                "--threads must be between 1 and {MAX_THREADS}, not {t}; this machine has {} \
                 cores (leave --threads out to use them all)",
                std::thread::available_parallelism().map_or(1, |n| n.get())
            );
        }
        pool = pool.num_threads(t);
    }
    pool.build().context("cannot start worker threads")
}

/// A shard problem in the words of the command line: the library's messages name no flag;
/// they begin with the shard (`shard K/N: …`), which becomes `--shard K/N: …`.
fn shard_flag_error(e: ShardError) -> anyhow::Error {
    match e {
        ShardError::Syntax(arg) => anyhow::anyhow!(
            "--shard wants K/N with 1 ≤ K ≤ N (shards are numbered from 1), or auto/N, not `{arg}`"
        ),
        e => anyhow::anyhow!("--{e}"),
    }
}

/// `a`, `a and b`, `a, b and c`.
fn and_list(items: &[String]) -> String {
    match items.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    }
}

/// Checks, before any work, that `dir` can take the outputs: it is a directory one can create a
/// file in, or it does not exist yet and its nearest existing ancestor is such a directory.
/// Nothing is left behind (a probe file is created and removed; no directory is created), so an
/// interrupted or failed command still writes nothing.
pub fn ensure_writable_dir(dir: &Path) -> anyhow::Result<()> {
    let hint = "give --out a directory you can write to";
    let mut existing = dir;
    while !existing.as_os_str().is_empty() && !existing.exists() {
        existing = existing.parent().unwrap_or(Path::new(""));
    }
    let existing = if existing.as_os_str().is_empty() {
        Path::new(".")
    } else {
        existing
    };
    if !existing.is_dir() {
        bail!(
            "cannot create output directory {}: {} is not a directory; {hint}",
            dir.display(),
            existing.display()
        );
    }
    let probe = existing.join(format!(".tamga-write-check-{}", std::process::id()));
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
        .with_context(|| {
            format!(
                "cannot create output directory {}: cannot write in {}; {hint}",
                dir.display(),
                existing.display()
            )
        })?;
    std::fs::remove_file(&probe).with_context(|| format!("cannot remove {}", probe.display()))?;
    Ok(())
}
