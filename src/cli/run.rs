//! `tamga run SCENARIO`: Monte Carlo over every variant; writes summary.json, runs.csv and
//! report.html (each atomically) and prints the summary table (or the summary as JSON with
//! `--json`).

use anyhow::{Context, bail};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use tamga::montecarlo::Prepared;
use tamga::report::{RunReport, representative_fingerprints};
use tamga::summary::{Summary, runs_csv};

#[derive(clap::Args)]
pub struct Args {
    /// The scenario file (TOML).
    pub scenario: PathBuf,
    /// Runs per variant (default: the scenario's montecarlo.runs).
    #[arg(long)]
    pub runs: Option<u32>,
    /// Master seed (default: the scenario's montecarlo.seed).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Worker threads (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Output directory (default: results/<scenario file stem>).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Only these variants (comma-separated names).
    #[arg(long, value_delimiter = ',')]
    pub variant: Vec<String>,
    /// Print the summary as one JSON document on stdout instead of the table.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    // Read once: the report shows exactly the text whose digest the provenance records.
    let scenario_text = std::fs::read_to_string(&args.scenario)
        .with_context(|| format!("cannot read scenario {}", args.scenario.display()))?;
    let mut scenario =
        tamga::scenario::parse(&scenario_text, &args.scenario.display().to_string())?;
    if !args.variant.is_empty() {
        for name in &args.variant {
            if scenario.variant(name).is_none() {
                bail!(
                    "there is no variant `{name}` in {}; it has: {}",
                    args.scenario.display(),
                    scenario
                        .variants
                        .iter()
                        .map(|v| v.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
        }
        scenario.variants.retain(|v| args.variant.contains(&v.name));
    }
    let runs = args.runs.unwrap_or(scenario.montecarlo.runs);
    if runs == 0 {
        bail!("--runs must be at least 1");
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
    let mut pool = rayon::ThreadPoolBuilder::new();
    if let Some(t) = args.threads {
        if t == 0 {
            bail!("--threads must be at least 1");
        }
        pool = pool.num_threads(t);
    }
    let pool = pool.build().context("cannot start worker threads")?;
    let stop = AtomicBool::new(false);
    let prepared = pool.install(|| Prepared::new(&scenario, seed));
    let outcomes = pool.install(|| prepared.run_all(0..runs, &stop, &|| {}));
    let Some(outcomes) = outcomes else {
        bail!("interrupted before all runs finished; nothing was written");
    };
    let summary = Summary::build(&scenario, seed, 0, &outcomes);
    let fingerprints = pool.install(|| representative_fingerprints(&prepared, &outcomes));
    let report = RunReport::build(&summary, &outcomes, fingerprints, &scenario_text);
    std::fs::create_dir_all(&out)
        .with_context(|| format!("cannot create output directory {}", out.display()))?;
    let summary_path = out.join("summary.json");
    let runs_path = out.join("runs.csv");
    tamga::io::write_atomic(&summary_path, summary.to_json().as_bytes())
        .with_context(|| format!("cannot write {}", summary_path.display()))?;
    tamga::io::write_atomic(&runs_path, &runs_csv(&scenario, &outcomes))
        .with_context(|| format!("cannot write {}", runs_path.display()))?;
    let report_path = out.join("report.html");
    tamga::io::write_atomic(&report_path, tamga::report::render(&report).as_bytes())
        .with_context(|| format!("cannot write {}", report_path.display()))?;
    if args.json {
        print!("{}", summary.to_json());
    } else {
        print!("{}", summary.to_terminal());
        println!(
            "\nwrote {}, {} and {}",
            summary_path.display(),
            runs_path.display(),
            report_path.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}
