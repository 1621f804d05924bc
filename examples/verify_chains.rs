//! One ballot-level election of a scenario variant in which every voting machine's ledger is
//! written (in memory) and verified the way an auditor would — every chain link, the close
//! record and the published head — right after its polls close. Prints the number of ledgers
//! and ballots verified, the findings, and the time of each phase on stderr. Never writes files.
//! One ledger at a time on one thread, each chain hashed as its ballots are cast: the baseline
//! of `tamga bench SCENARIO --chains`, which writes and verifies the same ledgers many at a time
//! in lockstep on worker threads (docs/BENCHMARKS.md).
//!
//! `cargo run --release --example verify_chains -- scenarios/india-scale.toml base [RUN]`

use anyhow::{Context as _, bail};
use std::time::Instant;
use tamga::ledger::{BallotChoice, verify, write_ledger};
use tamga::montecarlo::Simulator;
use tamga::sim::LedgerMode;
use tamga::sim::{Workspace, run_election};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (path, variant, run) = match args.as_slice() {
        [p, v] => (p, v, 0u64),
        [p, v, r] => (p, v, r.parse().context("RUN must be a whole number")?),
        _ => bail!("usage: verify_chains SCENARIO VARIANT [RUN]"),
    };
    let mut scenario = tamga::scenario::load(std::path::Path::new(path))?;
    scenario.variants.retain(|v| &v.name == variant);
    if scenario.variants.is_empty() {
        bail!("there is no variant `{variant}` in {path}");
    }
    let seed = scenario.montecarlo.seed;
    let t0 = Instant::now();
    let prepared = Simulator::new(&scenario, seed);
    let built = t0.elapsed();
    let ctx = prepared.context(0, LedgerMode::ChainAndLog);
    let mut ws = Workspace::default();
    let (mut ledgers, mut ballots, mut with_findings, mut errors) = (0u64, 0u64, 0u64, 0u64);
    let mut bytes = Vec::new();
    let mut verifying = std::time::Duration::ZERO;
    let t1 = Instant::now();
    run_election(ctx, run, &mut ws, &mut |_, m| {
        let t = Instant::now();
        let Some(closed) = &m.closed else {
            return;
        };
        bytes.clear();
        let n_lists = (m.list.len() - 1) as u8;
        let n_cand = (m.district.len() - 1) as u16;
        let choices = m.log.iter().map(|b| BallotChoice::new(b.list, b.district));
        match write_ledger(&mut bytes, &closed.genesis, n_lists, n_cand, choices) {
            Ok(_) => match verify(bytes.as_slice(), Some(&closed.published_head())) {
                Ok(report) => {
                    ledgers += 1;
                    ballots += m.log.len() as u64;
                    if !report.is_clean() {
                        with_findings += 1;
                    }
                }
                Err(_) => errors += 1,
            },
            Err(_) => errors += 1,
        }
        verifying += t.elapsed();
    });
    let total = t1.elapsed();
    eprintln!(
        "{ledgers} ledgers, {ballots} ballots written and verified against their published heads: \
         {with_findings} with findings, {errors} errors"
    );
    eprintln!(
        "electorate {:.1} s; election day with chains {:.1} s, of which writing + verifying \
         ledgers {:.1} s",
        built.as_secs_f64(),
        total.as_secs_f64(),
        verifying.as_secs_f64()
    );
    if with_findings > 0 || errors > 0 {
        bail!("some ledgers did not verify");
    }
    Ok(())
}
