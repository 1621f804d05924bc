//! The coverage of the Klimek fit's 90 % intervals, measured (issue 17): simulations of tamga's
//! own model on the real station sizes of Russia 2011 (`../shared/data`), fitted back with
//! bootstrap intervals; docs/forensics.md records the results.
//!
//!     cargo run --release --example klimek_coverage [recovery|small|large] [seeds per case] [cases]
//!     cargo run --release --example klimek_coverage quick STATIONS PSEUDO EVALUATIONS REPLICATES SEEDS CASES
//!     cat out* | cargo run --release --example klimek_coverage pool
//!
//! `cases` (grids only) is a comma-separated list of case numbers, all six by default, so that
//! the grid can be split over processes. `quick` is the scaled-down check of `tests/it/forensics_fit.rs`
//! with its settings as arguments; `pool` reads the `row` lines of earlier runs from stdin. Each check prints one line per interval (`row case
//! seed parameter truth raw estimate se lo hi`), then per parameter (and pooled) how many of its
//! intervals cover the truth with a 95 % Wilson interval for the coverage, and the mean of
//! (estimate − truth)/se with its standard error; it exits with status 1 when a parameter's
//! measured coverage is outside 85–95 % or its mean standardised error is beyond ± 1.

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

/// The grid cases to run: the third argument's comma-separated numbers, all by default.
fn cases() -> Vec<usize> {
    std::env::args().nth(3).map_or((0..6).collect(), |s| {
        s.split(',')
            .map(|c| {
                c.trim()
                    .parse()
                    .expect("cases: numbers 0–5, comma-separated")
            })
            .collect()
    })
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
        "pool" => pooled(),
        "small" => grid(20_000, seeds(6), &cases(), CI_EFFORT),
        "quick" => quick(),
        "large" => grid(
            usize::MAX,
            seeds(4),
            &cases(),
            FitEffort {
                replicates: 100,
                starts: 2,
                pseudo_stations: 20_000,
                max_evaluations: 600,
            },
        ),
        other => {
            eprintln!(
                "klimek_coverage: unknown check `{other}`; use recovery, small, large or pool"
            );
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

/// The `row` lines of earlier runs (e.g. the grid split over processes), read from stdin.
fn pooled() -> Vec<Row> {
    let names = [
        "f_i", "f_e", "tau", "tau_sd", "nu", "nu_sd", "theta", "alpha",
    ];
    std::io::stdin()
        .lines()
        .map_while(Result::ok)
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            if f.len() != 10 || f[0] != "row" {
                return None;
            }
            let num = |i: usize| f[i].parse::<f64>().expect("a number in a row line");
            Some(Row {
                case: f[1].parse().expect("a case number"),
                seed: f[2].parse().expect("a seed"),
                name: names
                    .into_iter()
                    .find(|n| *n == f[3])
                    .expect("a parameter name"),
                truth: num(4),
                est: ParamEstimate {
                    raw: num(5),
                    estimate: num(6),
                    se: num(7),
                    lo: num(8),
                    hi: num(9),
                    at_bound: None,
                },
            })
        })
        .collect()
}

/// The 95 % Wilson score interval of a proportion k/n.
fn wilson(k: usize, n: usize) -> (f64, f64) {
    let r = tamga::detect::Rate::wilson(k, n);
    (r.low, r.high)
}

/// Per parameter and pooled: intervals covering the truth (with a Wilson interval), and the
/// mean standardised error; true when every parameter's coverage is within 85–95 % and its
/// mean (estimate − truth)/se within ± 1 (bias below the reported standard error).
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
        let z: Vec<f64> = r
            .iter()
            .filter(|x| x.est.se > 0.0)
            .map(|x| (x.est.estimate - x.truth) / x.est.se)
            .collect();
        let zm = z.iter().sum::<f64>() / z.len().max(1) as f64;
        let zrms = (z.iter().map(|v| v * v).sum::<f64>() / z.len().max(1) as f64).sqrt();
        let zse = (z.iter().map(|v| (v - zm).powi(2)).sum::<f64>()
            / (z.len().max(2) - 1) as f64
            / z.len().max(1) as f64)
            .sqrt();
        let pass = (0.85..=0.95).contains(&c) && zm.abs() < 1.0;
        ok &= pass;
        let (wl, wh) = wilson(covered(&r), r.len());
        println!(
            "{n:<10} {}/{} = {:.1} % [{:.1}, {:.1}]{}  bias/se {zm:+.2} ± {zse:.2} (rms {zrms:.2})  {}",
            covered(&r),
            r.len(),
            100.0 * c,
            100.0 * wl,
            100.0 * wh,
            if pass {
                ""
            } else {
                " (outside 85–95 % or |bias/se| ≥ 1)"
            },
            per_case.join(" ")
        );
        for x in r.iter().filter(|x| !x.est.covers(x.truth)) {
            eprintln!(
                "  missed: case {} seed {} {n} truth {} estimate {} [{}, {}]",
                x.case, x.seed, x.truth, x.est.estimate, x.est.lo, x.est.hi
            );
        }
    }
    let all = rows.iter().filter(|r| r.est.covers(r.truth)).count();
    let (wl, wh) = wilson(all, rows.len());
    println!(
        "pooled     {all}/{} = {:.1} % [{:.1}, {:.1}]",
        rows.len(),
        100.0 * all as f64 / rows.len().max(1) as f64,
        100.0 * wl,
        100.0 * wh
    );
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
fn grid(n: usize, seeds: u64, cases_run: &[usize], effort: FitEffort) -> Vec<Row> {
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
    // in the order asked for
    for &g in cases_run {
        let truth = &cases[g];
        for seed in 0..seeds {
            let st = simulate(&sub, truth, 1000 * g as u64 + seed);
            let t0 = std::time::Instant::now();
            let f = fit(&st, effort, 7 + seed).unwrap();
            eprintln!(
                "case {g} seed {seed}: fitted in {:.0} s",
                t0.elapsed().as_secs_f64()
            );
            out.extend(rows(g, seed, truth, &f));
        }
    }
    out
}

/// The configuration of `tests/it/forensics_fit.rs`'s `bootstrap_intervals_cover_the_truth`,
/// with its settings from the arguments: `quick STATIONS PSEUDO EVALUATIONS REPLICATES SEEDS
/// CASES` (cases: comma-separated, 0 heavy, 1 moderate, 2 light fraud).
fn quick() -> Vec<Row> {
    let arg = |i: usize| -> usize {
        std::env::args()
            .nth(i)
            .expect("quick STATIONS PSEUDO EVALUATIONS REPLICATES")
            .parse()
            .expect("a whole number")
    };
    let sizes = sizes();
    let n = arg(2);
    let sub: Vec<u64> = (0..n).map(|i| sizes[i * sizes.len() / n]).collect();
    let effort = FitEffort {
        replicates: arg(5),
        starts: 3,
        pseudo_stations: arg(3),
        max_evaluations: arg(4),
    };
    let seeds = arg(6) as u64;
    let run: Vec<usize> = std::env::args()
        .nth(7)
        .expect("cases")
        .split(',')
        .map(|c| c.parse().expect("a case number"))
        .collect();
    let mut out = Vec::new();
    for (case, truth) in [
        model(0.8, 0.03, 5.0),
        model(0.45, 0.06, 1.2),
        model(0.1, 0.0, 1.5),
    ]
    .iter()
    .enumerate()
    {
        if !run.contains(&case) {
            continue;
        }
        for seed in 0..seeds {
            let st = simulate(&sub, truth, 500 + 10 * case as u64 + seed);
            let f = fit(&st, effort, 40 + seed).unwrap();
            out.extend(rows(case, seed, truth, &f));
        }
    }
    out
}
