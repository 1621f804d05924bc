//! `tamga merge PARTS... --out DIR`: combines the part files of a sharded `tamga run` into
//! `DIR/summary.json`, `DIR/runs.csv`, `DIR/report.html` and `DIR/fingerprints.csv`, byte-identical to an unsharded run
//! with the same scenario, seed, runs and variants (both build them with
//! [`RunOutputs::build`] and write them all or none); prints the summary table (or the summary
//! with `--json`).
//!
//! Reads the part files (a directory argument stands for its `part-*.json` files) and hands
//! them to [`tamga::shard::merge_verified`], which checks them (shapes, invariants, coverage;
//! with `--verify N`, N re-simulated runs per variant and part); any problem is one line naming
//! the offending part, exit 2, and nothing is written.

use anyhow::{Context, bail};
use std::io;
use std::path::PathBuf;
use std::process::ExitCode;
use tamga::output::RunOutputs;
use tamga::shard::{Part, check_outcomes_fit, merge_verified};

#[derive(clap::Args)]
pub struct Args {
    /// Part files written by `tamga run --shard K/N`, or directories holding them.
    #[arg(required = true)]
    pub parts: Vec<PathBuf>,
    /// Output directory for summary.json, runs.csv, report.html and fingerprints.csv.
    #[arg(long)]
    pub out: PathBuf,
    /// Print the summary as one JSON document on stdout instead of the table.
    #[arg(long)]
    pub json: bool,
    /// After the overview, print the per-variant tables and the whole detection matrix.
    #[arg(long)]
    pub detail: bool,
    /// Draw the report's fingerprints in 0.1 % cells instead of 1 % (stripes at whole
    /// percentages show; the page grows by about 12 bytes per station and variant).
    #[arg(long)]
    pub fine_fingerprint: bool,
    /// Simulate N runs per variant of every part again (evenly spaced over its block; all of
    /// them if it has fewer) and refuse a part whose outcomes differ. 0: no re-simulation.
    #[arg(long, value_name = "N", default_value_t = 0, allow_negative_numbers = true, value_parser = super::args::whole::<u32>)]
    pub verify: u32,
    /// Worker threads for --verify and the report (default: all cores).
    #[arg(long, allow_negative_numbers = true, value_parser = super::args::whole::<usize>)]
    pub threads: Option<usize>,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mut files = Vec::new();
    for p in &args.parts {
        if p.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(p)
                .with_context(|| format!("cannot read directory {}", p.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| {
                    f.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                        n.starts_with("part-") && n.ends_with(".json") && !n.starts_with('.')
                    })
                })
                .collect();
            if found.is_empty() {
                bail!("{} holds no part-*.json files", p.display());
            }
            found.sort();
            files.extend(found);
        } else {
            files.push(p.clone());
        }
    }
    let mut parts: Vec<(String, Part)> = Vec::with_capacity(files.len());
    let mut held: u64 = 0;
    for f in &files {
        // a regular file, parsed as it is read (never held as bytes or a JSON tree)
        let open = || -> anyhow::Result<io::BufReader<std::fs::File>> {
            match super::audit::open_regular(f) {
                Ok(Some(file)) => Ok(io::BufReader::new(file)),
                Ok(None) => bail!("cannot read {}: it does not exist", f.display()),
                Err(e) => Err(e).with_context(|| format!("cannot read {}", f.display())),
            }
        };
        let part = Part::from_readers(open()?, open()?)
            .map_err(|e| anyhow::anyhow!("{} {e}", f.display()))?;
        // what the parts read so far hold, against the memory a merge may take
        held += part.outcomes.iter().map(|v| v.len() as u64).sum::<u64>();
        let per_part = part.variants.len().max(1);
        check_outcomes_fit(
            u32::try_from(held.div_ceil(per_part as u64)).unwrap_or(u32::MAX),
            per_part,
            part.parties(),
        )
        .map_err(|e| anyhow::anyhow!("the parts cannot be merged in memory: {e}"))?;
        parts.push((f.display().to_string(), part));
    }
    let pool = super::run::thread_pool(args.threads)?;
    // a bad output path is found before the (possibly verifying) merge, not after it
    super::run::ensure_writable_dir(&args.out)?;
    let merged = pool.install(|| {
        merge_verified(parts, tamga::VERSION, args.verify).map_err(anyhow::Error::from)
    })?;
    let real = super::real_stations::load(&merged.scenario, None)?;
    let outputs = pool.install(|| {
        RunOutputs::build_with(
            &merged.scenario,
            &merged.source,
            merged.seed,
            &merged.outcomes,
            tamga::report::ReportOptions {
                fine_fingerprint: args.fine_fingerprint,
                real,
                ..Default::default()
            },
        )
    });
    super::run::write_results(&outputs, &args.out, args.json, args.detail)
}
