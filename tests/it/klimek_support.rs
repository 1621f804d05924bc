//! Helpers shared by `tests/it/forensics_fit.rs` and `examples/klimek_coverage.rs`: the real
//! station sizes of Russia 2011, the model used to simulate from them, and the parameters checked.

use std::path::Path;
use tamga::forensics::read::{base_stations, read_results, select_leader};
use tamga::forensics::stats::klimek::{
    EXTREME_SD, FairPart, FitEffort, KlimekFit, KlimekParams, simulate_figures,
};
use tamga::forensics::stats::stations::StationFigures;
use tamga::rng::{AnalysisPurpose, analysis_stream};

/// The registered voters of every station of Russia 2011 (`path`: its shared results file).
pub fn russia_2011_sizes(path: &Path) -> Vec<u64> {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let r = read_results(file).unwrap();
    let l = select_leader(&r, Some("ЕДИНАЯ РОССИЯ")).unwrap();
    base_stations(&r, l)
        .0
        .iter()
        .map(|c| c.registered)
        .collect()
}

/// A fair part like Russia 2011's (turnout ≈ 50 % ± 10, share ≈ 34 % ± 8) and θ = 0.6.
pub fn model(fi: f64, fe: f64, alpha: f64) -> KlimekParams {
    KlimekParams {
        fair: FairPart {
            turnout_mean: 0.50,
            turnout_sd: 0.10,
            share_mean: 0.34,
            share_sd: 0.08,
        },
        incremental_sd: 0.6,
        extreme_sd: EXTREME_SD,
        f_incremental: fi,
        f_extreme: fe,
        alpha,
    }
}

pub fn simulate(sizes: &[u64], p: &KlimekParams, seed: u64) -> Vec<StationFigures> {
    let mut rng = analysis_stream(seed, AnalysisPurpose::KlimekImplied, 77);
    simulate_figures(sizes, p, &mut rng).unwrap()
}

pub const CI_EFFORT: FitEffort = FitEffort {
    replicates: 30,
    starts: 3,
    pseudo_stations: 10_000,
    max_evaluations: 400,
};

/// The truth and the fitted estimate of the parameters we check: f_i, f_e, α, ν, τ.
pub fn checked(p: &KlimekParams, f: &KlimekFit) -> Vec<(&'static str, f64, f64, f64, f64, f64)> {
    let row = |n, t, e: &tamga::forensics::stats::klimek_fit::ParamEstimate| {
        (n, t, e.estimate, e.se, e.lo, e.hi)
    };
    let mut v = vec![
        row("f_e", p.f_extreme, &f.f_extreme),
        row("f_i", p.f_incremental, &f.f_incremental),
        row("nu", p.fair.share_mean, &f.share_mean),
        row("tau", p.fair.turnout_mean, &f.turnout_mean),
    ];
    if p.f_incremental + p.f_extreme >= 0.05 {
        v.push(row("alpha", p.alpha, &f.alpha));
    }
    v
}
