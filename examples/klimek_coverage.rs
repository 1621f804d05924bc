//! The coverage of the Klimek fit's intervals, measured (issue 17; not yet met: the intervals
//! cover ≈ 53–60 % at a nominal 90 %, docs/forensics.md). Simulations of tamga's own model on the
//! real station sizes of Russia 2011 (`../shared/data`), fitted back with bootstrap intervals.
//!
//!     cargo run --release --example klimek_coverage [recovery|small|large]
//!
//! Each check prints what it measured and panics (exit 101) when the target is missed.

#[path = "../tests/it/klimek_support.rs"]
mod klimek_support;

use klimek_support::{CI_EFFORT, checked, model, russia_2011_sizes, simulate};
use tamga::forensics::stats::klimek::{FitEffort, fit};

fn sizes() -> Vec<u64> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data/elections/russia-2011-duma.csv.gz");
    russia_2011_sizes(&path)
}

fn main() {
    let which = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "small".to_string());
    match which.as_str() {
        "recovery" => fit_recovers_its_own_model_on_real_station_sizes(),
        "small" => coverage_small_grid(),
        "large" => coverage_large(),
        other => {
            eprintln!("klimek_coverage: unknown check `{other}`; use recovery, small or large");
            std::process::exit(2);
        }
    }
}

/// Klimek et al.'s published-like parameters (f_i 0.636, f_e 0.038, α 2.2) and a clean case,
/// three seeds each, on the 91,082 real station sizes: every checked parameter's 90 % interval
/// covers the truth in at least 80 % of (seed, parameter) pairs, and for each parameter the
/// bias (mean estimate − truth over seeds) is below the mean reported standard error.
///
/// KNOWN FAILURE (issue 17 not done): the intervals cover in 9 of 15 pairs (60 %); see
/// docs/forensics.md, "What is not done".
fn fit_recovers_its_own_model_on_real_station_sizes() {
    let sizes = sizes();
    for truth in [model(0.636, 0.038, 2.2), model(0.0, 0.0, 2.0)] {
        let mut rows = Vec::new();
        for seed in 1..=3u64 {
            let st = simulate(&sizes, &truth, seed);
            let f = fit(&st, CI_EFFORT, 100 + seed).unwrap();
            rows.extend(checked(&truth, &f));
        }
        let covered = rows.iter().filter(|r| r.4 <= r.1 && r.1 <= r.5).count();
        assert!(
            covered as f64 >= 0.8 * rows.len() as f64,
            "coverage {covered}/{}: {rows:#?}",
            rows.len()
        );
        for name in ["f_i", "f_e", "alpha", "nu", "tau"] {
            let r: Vec<_> = rows.iter().filter(|r| r.0 == name).collect();
            if r.is_empty() {
                continue;
            }
            let k = r.len() as f64;
            let bias = r.iter().map(|r| r.2 - r.1).sum::<f64>() / k;
            let se = r.iter().map(|r| r.3).sum::<f64>() / k;
            // an estimate pinned at a bound (f = 0 in the clean case) has se ≈ 0 and bias 0
            assert!(
                bias.abs() <= se.max(1e-4),
                "{name}: bias {bias} above se {se}: {r:#?}"
            );
        }
    }
}

/// Coverage over a small grid of (f_i, f_e, α), 20,000 stations drawn from the real sizes,
/// two seeds each: pooled 90 % intervals must cover 80–98 % of (case, parameter) truths — a
/// CI-sized check (≈ 40 intervals, binomial sd ≈ 5 points); `coverage_large` is the 85–95 % one.
///
/// KNOWN FAILURE (issue 17 not done): measured 16/30 = 53 %.
fn coverage_small_grid() {
    let sizes = sizes();
    let c = coverage(&sizes, 20_000, 2, CI_EFFORT);
    assert!((0.80..=0.98).contains(&c), "coverage {c}");
}

/// The larger run: 24 cases × 4–5 parameters, 100 replicates, all stations.
fn coverage_large() {
    let sizes = sizes();
    let effort = FitEffort {
        replicates: 100,
        starts: 2,
        pseudo_stations: 20_000,
        max_evaluations: 600,
    };
    let c = coverage(&sizes, sizes.len(), 4, effort);
    assert!((0.85..=0.95).contains(&c), "coverage {c}");
}

fn coverage(sizes: &[u64], n: usize, seeds: u64, effort: FitEffort) -> f64 {
    let grid = [
        model(0.3, 0.02, 2.0),
        model(0.6, 0.04, 3.0),
        model(0.1, 0.0, 1.5),
        model(0.0, 0.01, 2.0),
        model(0.45, 0.06, 1.2),
        model(0.8, 0.03, 5.0),
    ];
    let (mut covered, mut total) = (0usize, 0usize);
    for (g, truth) in grid.iter().enumerate() {
        for seed in 0..seeds {
            // n sizes taken evenly from the real ones
            let step = sizes.len() as f64 / n as f64;
            let sub: Vec<u64> = (0..n).map(|i| sizes[(i as f64 * step) as usize]).collect();
            let st = simulate(&sub, truth, 1000 * g as u64 + seed);
            let f = fit(&st, effort, 7 + seed).unwrap();
            for r in checked(truth, &f) {
                total += 1;
                let ok = r.4 <= r.1 && r.1 <= r.5;
                covered += usize::from(ok);
                if !ok {
                    eprintln!(
                        "case {g} seed {seed}: {} truth {} est {} [{}, {}]",
                        r.0, r.1, r.2, r.4, r.5
                    );
                }
            }
        }
        // a small grid in CI: the first three cases only
        if n < sizes.len() && g == 2 {
            break;
        }
    }
    let c = covered as f64 / total as f64;
    eprintln!("coverage {covered}/{total} = {c:.3}");
    c
}
