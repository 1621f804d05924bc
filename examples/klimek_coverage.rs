//! The coverage of the Klimek fit's 90 % intervals, measured (issue 17): simulations of tamga's
//! own model on the real station sizes of Russia 2011 (`../shared/data`), fitted back with
//! bootstrap intervals; docs/forensics.md records the results.
//!
//!     cargo run --release --example klimek_coverage [recovery|small|large] [seeds per case]
//!
//! Each check prints one line per interval (`row case seed parameter truth raw estimate se lo
//! hi`), then per parameter how many of its intervals cover the truth, and exits with status 1
//! when a parameter's coverage is outside 85–95 %.

#[path = "../tests/it/klimek_support.rs"]
#[allow(dead_code)]
mod klimek_support;

use klimek_support::{CI_EFFORT, model, russia_2011_sizes, simulate};
use tamga::forensics::stats::klimek::{FitEffort, KlimekFit, KlimekParams, fit};
use tamga::forensics::stats::klimek_fit::ParamEstimate;

fn sizes() -> Vec<u64> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data/elections/russia-2011-duma.csv.gz");
    russia_2011_sizes(&path)
}

fn main() {
    let which = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "small".to_string());
    // seeds per case of the grids (default 6 for `small`, 4 for `large`)
    let seeds = |default: u64| {
        std::env::args()
            .nth(2)
            .map_or(default, |s| s.parse().expect("seeds: a whole number"))
    };
    let rows = match which.as_str() {
        "recovery" => recovery(),
        "small" => grid(20_000, seeds(6), CI_EFFORT),
        "large" => grid(
            usize::MAX,
            seeds(4),
            FitEffort {
                replicates: 100,
                starts: 2,
                pseudo_stations: 20_000,
                max_evaluations: 600,
            },
        ),
        other => {
            eprintln!("klimek_coverage: unknown check `{other}`; use recovery, small or large");
            std::process::exit(2);
        }
    };
    if !report(&rows) {
        std::process::exit(1);
    }
}

/// One interval: case, seed, parameter, truth and the fit's estimate.
struct Row {
    case: usize,
    seed: u64,
    name: &'static str,
    truth: f64,
    est: ParamEstimate,
}

/// Every parameter the fit reports with an interval whose truth the simulation knows: the fair
/// part, f_i and f_e always; θ when ≥ 5 % of stations are incrementally frauded and α when ≥ 5 %
/// are frauded at all (below that they act on too few stations to be estimated, and the report
/// says so).
fn rows(case: usize, seed: u64, p: &KlimekParams, f: &KlimekFit) -> Vec<Row> {
    let mut v = vec![
        ("f_i", p.f_incremental, f.f_incremental),
        ("f_e", p.f_extreme, f.f_extreme),
        ("tau", p.fair.turnout_mean, f.turnout_mean),
        ("tau_sd", p.fair.turnout_sd, f.turnout_sd),
        ("nu", p.fair.share_mean, f.share_mean),
        ("nu_sd", p.fair.share_sd, f.share_sd),
    ];
    if p.f_incremental >= 0.05 {
        v.push(("theta", p.incremental_sd, f.incremental_sd));
    }
    if p.f_incremental + p.f_extreme >= 0.05 {
        v.push(("alpha", p.alpha, f.alpha));
    }
    v.into_iter()
        .map(|(name, truth, est)| {
            let r = Row {
                case,
                seed,
                name,
                truth,
                est,
            };
            println!(
                "row {case} {seed} {name} {truth} {} {} {} {} {}",
                est.raw, est.estimate, est.se, est.lo, est.hi
            );
            r
        })
        .collect()
}

/// Per parameter: intervals covering the truth; true when every parameter is within 85–95 %.
fn report(rows: &[Row]) -> bool {
    let mut names: Vec<&str> = rows.iter().map(|r| r.name).collect();
    names.dedup();
    names.sort_unstable();
    names.dedup();
    let mut ok = true;
    let cases = rows.iter().map(|r| r.case).max().unwrap_or(0) + 1;
    println!("parameter  covered  per case");
    for n in names {
        let r: Vec<&Row> = rows.iter().filter(|r| r.name == n).collect();
        let covered = |r: &[&Row]| r.iter().filter(|r| r.est.covers(r.truth)).count();
        let c = covered(&r) as f64 / r.len() as f64;
        let per_case: Vec<String> = (0..cases)
            .filter_map(|k| {
                let rk: Vec<&Row> = r.iter().filter(|x| x.case == k).copied().collect();
                (!rk.is_empty()).then(|| format!("{}/{}", covered(&rk), rk.len()))
            })
            .collect();
        let pass = (0.85..=0.95).contains(&c);
        ok &= pass;
        println!(
            "{n:<10} {}/{} = {:.1} %{}  {}",
            covered(&r),
            r.len(),
            100.0 * c,
            if pass { "" } else { " (outside 85–95 %)" },
            per_case.join(" ")
        );
        for x in r.iter().filter(|x| !x.est.covers(x.truth)) {
            eprintln!(
                "  missed: case {} seed {} {n} truth {} estimate {} [{}, {}]",
                x.case, x.seed, x.truth, x.est.estimate, x.est.lo, x.est.hi
            );
        }
    }
    ok
}

/// Klimek et al.'s published-like parameters (f_i 0.636, f_e 0.038, α 2.2) and a clean case,
/// three seeds each, on all 91,082 real station sizes.
fn recovery() -> Vec<Row> {
    let sizes = sizes();
    let mut out = Vec::new();
    for (case, truth) in [model(0.636, 0.038, 2.2), model(0.0, 0.0, 2.0)]
        .iter()
        .enumerate()
    {
        for seed in 1..=3u64 {
            let st = simulate(&sizes, truth, seed);
            let f = fit(&st, CI_EFFORT, 100 + seed).unwrap();
            out.extend(rows(case, seed, truth, &f));
        }
    }
    out
}

/// A grid of six (f_i, f_e, α) cases × `seeds` seeds on `n` station sizes taken evenly from
/// the real ones (all of them when `n` exceeds their number).
fn grid(n: usize, seeds: u64, effort: FitEffort) -> Vec<Row> {
    let sizes = sizes();
    let n = n.min(sizes.len());
    let step = sizes.len() as f64 / n as f64;
    let sub: Vec<u64> = (0..n).map(|i| sizes[(i as f64 * step) as usize]).collect();
    let cases = [
        model(0.3, 0.02, 2.0),
        model(0.6, 0.04, 3.0),
        model(0.1, 0.0, 1.5),
        model(0.0, 0.01, 2.0),
        model(0.45, 0.06, 1.2),
        model(0.8, 0.03, 5.0),
    ];
    let mut out = Vec::new();
    for (g, truth) in cases.iter().enumerate() {
        for seed in 0..seeds {
            let st = simulate(&sub, truth, 1000 * g as u64 + seed);
            let f = fit(&st, effort, 7 + seed).unwrap();
            out.extend(rows(g, seed, truth, &f));
        }
    }
    out
}
