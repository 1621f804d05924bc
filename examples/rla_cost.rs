//! The RLA detectors' share of a Monte Carlo run, measured in pairs: the criterion bench
//! `rla_detectors` (benches/engine.rs) times the job without and with audits one after the
//! other, and on a shared VM the machine's speed drifts by more than the change being measured
//! between the two. This alternates the two jobs (runs 0–5 of each variant of
//! `scenarios/kazakhstan-2004-vvpat.toml`, one thread, without and with `rla_risk_limit`) and
//! prints the median of the pairs' ratios, so that a drift common to a pair cancels.
//!
//!     cargo run --release --example rla_cost -- [PAIRS] [VARIANT]
//!
//! (default 8 pairs of about 2.5 s each; with VARIANT, that variant's runs alone.)

use std::hint::black_box;
use tamga::montecarlo::Simulator;

fn main() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/kazakhstan-2004-vvpat.toml"
    );
    let mut audited = match tamga::scenario::load(std::path::Path::new(path)) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("rla_cost: {path}: {e}");
            std::process::exit(2);
        }
    };
    if let Some(name) = std::env::args().nth(2) {
        audited.variants.retain(|v| v.name == name);
        if audited.variants.is_empty() {
            eprintln!("rla_cost: {path} has no variant named {name}");
            std::process::exit(2);
        }
    }
    let mut plain = audited.clone();
    plain.detectors.rla_risk_limit = None;
    let pairs: usize = match std::env::args().nth(1).map(|s| s.parse()) {
        None => 8,
        Some(Ok(n)) if n > 0 => n,
        Some(_) => {
            eprintln!("rla_cost: PAIRS must be a positive whole number");
            std::process::exit(2);
        }
    };
    let pool = match rayon::ThreadPoolBuilder::new().num_threads(1).build() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("rla_cost: cannot start a one-thread pool: {e}");
            std::process::exit(2);
        }
    };
    let stop = std::sync::atomic::AtomicBool::new(false);
    let (without, with) = (Simulator::new(&plain, 2004), Simulator::new(&audited, 2004));
    let time = |sim: &Simulator| {
        let t = std::time::Instant::now();
        black_box(sim.run_all(0..6, &stop, &|| {}));
        t.elapsed().as_secs_f64()
    };
    let mut ratios = Vec::with_capacity(pairs);
    pool.install(|| {
        for i in 0..pairs {
            let (a, b) = (time(&without), time(&with));
            println!(
                "pair {}: without {a:.3} s, with {b:.3} s, ratio {:.4}",
                i + 1,
                b / a
            );
            ratios.push(b / a);
        }
    });
    ratios.sort_by(f64::total_cmp);
    let median = if pairs % 2 == 1 {
        ratios[pairs / 2]
    } else {
        (ratios[pairs / 2 - 1] + ratios[pairs / 2]) / 2.0
    };
    println!(
        "audits add {:+.1} % (median of {pairs} pairs; range {:+.1} to {:+.1} %)",
        (median - 1.0) * 100.0,
        (ratios[0] - 1.0) * 100.0,
        (ratios[pairs - 1] - 1.0) * 100.0
    );
}
