//! Known answers from real elections (`../shared/data/elections`): the published numbers the
//! forensics must reproduce (REFERENCES.md §1). These tests FAIL, loudly, when the shared data is
//! missing: a reproduction that silently skips proves nothing.

use crate::common::{election, on_threads};
use tamga::forensics::read::{
    ElectionResults, base_stations, read_results, select_leader, station_sets,
};
use tamga::forensics::stats::fingerprint::fingerprint;
use tamga::forensics::stats::integer::integer_test;
use tamga::forensics::stats::klimek::{
    EXTREME_SD, FitEffort, KlimekParams, estimate_fair_part, fit, fit_distance,
    share_of_stations_at_least, simulate_stations,
};
use tamga::forensics::stats::stations::StationFigures;
use tamga::forensics::{AnalysisOptions, analyse};
use tamga::rng::{AnalysisPurpose, analysis_stream};

/// Reduced effort for tests (the CLI uses `FitEffort::FULL`, 8 replicates × 2 draw sets): 2
/// replicates × 2 draw sets keep each fit to a few seconds while the replicate spread stays
/// well inside the tolerances below (measured full-effort sd: f_i 0.02–0.03, f_e ≤ 0.008).
const TEST_EFFORT: FitEffort = FitEffort {
    replicates: 2,
    draw_sets: 2,
    max_evaluations: 100,
};

fn stations(name: &str, leader: &str) -> Vec<StationFigures> {
    let r = load(name);
    let l = select_leader(&r, Some(leader)).unwrap();
    base_stations(&r, l).0
}

fn load(name: &str) -> ElectionResults {
    let path = election(name);
    let file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    read_results(file).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Kobak et al. (2016): 17,803 integer stations against 16,800 expected, excess 1,003 (±10).
#[test]
fn integer_excess_russia_2011() {
    let r = load("russia-2011-duma");
    assert_eq!(r.stations.len(), 95_225);
    let leader = select_leader(&r, Some("ЕДИНАЯ РОССИЯ")).unwrap();
    let (stations, _) = base_stations(&r, leader);
    let t = integer_test(&stations);
    assert!((t.either.excess - 1003.0).abs() <= 10.0, "{:?}", t.either);
    assert!(
        (t.either.expected - 16_800.0).abs() <= 10.0,
        "{:?}",
        t.either
    );
    assert!(t.either.z > 5.0, "{:?}", t.either);
}

/// Kobak et al. (2016): ≈ 1,161 excess integer stations in 2012 (±10).
#[test]
fn integer_excess_russia_2012() {
    let r = load("russia-2012-president");
    let leader = select_leader(&r, Some("Путин")).unwrap();
    let (stations, _) = base_stations(&r, leader);
    let t = integer_test(&stations);
    assert!((t.either.excess - 1161.0).abs() <= 10.0, "{:?}", t.either);
}

/// Poland 2020 runoff, the control: excess ≈ 130 on ≈ 5,060 expected (data README), i.e. small
/// next to its own null (|z| < 3), unlike Russia (z ≈ 9–10).
#[test]
fn integer_excess_poland_2020_is_small() {
    let r = load("poland-2020-president-r2");
    let leader = select_leader(&r, Some("DUDA")).unwrap();
    let (stations, _) = base_stations(&r, leader);
    let t = integer_test(&stations);
    assert!((t.either.expected - 5060.0).abs() <= 30.0, "{:?}", t.either);
    assert!((t.either.excess - 130.0).abs() <= 30.0, "{:?}", t.either);
    assert!(t.either.z.abs() < 3.0, "{:?}", t.either);
}

/// Klimek et al. (2012) published f_i = 0.64, f_e = 0.033, α = 2.3 for the 2011 Duma. This
/// implementation lands at f_i ≈ 0.79–0.80 and f_e ≈ 0.041–0.045 (see docs/forensics.md: the
/// 2011 share histogram has a flat top from 29 % to 45 %, the fitter's own mode rule gives the
/// same answer, and the published point scores 2.3× worse on Klimek's criterion). The test pins
/// what we measure, with the published values as the lower edge: f_i in [0.64, 0.90], f_e in
/// [0.033, 0.060]; and it checks the evidence — the fitted point beats the published one on the
/// criterion, with the same simulated draws.
#[test]
fn klimek_fit_russia_2011() {
    let st = stations("russia-2011-duma", "ЕДИНАЯ РОССИЯ");
    let f = fit(&st, TEST_EFFORT, 1).unwrap();
    let (fi, fe) = (f.f_incremental.mean, f.f_extreme.mean);
    assert!((0.64..=0.90).contains(&fi), "f_i {fi}");
    assert!((0.033..=0.060).contains(&fe), "f_e {fe}");
    assert!((1.5..=4.5).contains(&f.alpha.mean), "alpha {:?}", f.alpha);
    // The model overshoots the national totals (REFERENCES: ≈ 66 % against 59.7 %).
    assert!(f.implied_turnout > f.observed_turnout + 0.03, "{f:?}");
    let est = estimate_fair_part(&st);
    let ours = fit_distance(&st, &est, [fi, fe, f.alpha.mean], 2, 3);
    let published = fit_distance(&st, &est, [0.64, 0.033, 2.3], 2, 3);
    assert!(ours < 0.8 * published, "ours {ours} published {published}");
}

/// Klimek et al. (2012): f_i = 0.39, f_e = 0.021 for the 2012 presidential election; the brief's
/// neighbourhood is ±0.15 and ±0.01.
#[test]
fn klimek_fit_russia_2012() {
    let st = stations("russia-2012-president", "Путин");
    let f = fit(&st, TEST_EFFORT, 1).unwrap();
    assert!(
        (f.f_incremental.mean - 0.39).abs() <= 0.15,
        "{:?}",
        f.f_incremental
    );
    assert!(
        (f.f_extreme.mean - 0.021).abs() <= 0.01,
        "{:?}",
        f.f_extreme
    );
}

/// Poland 2020 runoff, the control: no extreme-fraud cluster (f_e < 0.005), slope < 1, and the
/// published slope 0.29 (Myagkov-style OLS over all stations; ±0.01 covers the two-decimal
/// rounding of the published value, the slope's own standard error being 0.008).
#[test]
fn poland_2020_is_clean_by_klimek_and_slope() {
    let r = load("poland-2020-president-r2");
    let l = select_leader(&r, Some("DUDA")).unwrap();
    let sets = station_sets(&r, l);
    let f = fit(&sets.base, TEST_EFFORT, 1).unwrap();
    assert!(f.f_extreme.mean < 0.005, "{:?}", f.f_extreme);
    let fp = fingerprint(&sets.base, &sets.consistent);
    assert!(
        fp.slope.slope < 1.0 && fp.slope_all_stations.slope < 1.0,
        "{:?}",
        fp.slope
    );
    assert!(
        (fp.slope_all_stations.slope - 0.29).abs() <= 0.01,
        "{:?}",
        fp.slope_all_stations
    );
    // Fair elections: ν nearly symmetric and mesokurtic (Klimek et al.).
    assert!(fp.log_vote_rate.skewness.abs() < 0.5 && (fp.log_vote_rate.kurtosis - 3.0).abs() < 0.5);
}

/// Myagkov et al.: Russia 2011 slope 1.13 (over all stations, ±0.01 for the published rounding;
/// the slope's standard error is 0.002); with the registered ≥ 100 filter it stays above 1.
/// Klimek et al.: 3.27 % of all stations at ≥ 95 % turnout and share.
#[test]
fn russia_2011_slope_and_corner() {
    let r = load("russia-2011-duma");
    let l = select_leader(&r, Some("ЕДИНАЯ РОССИЯ")).unwrap();
    let sets = station_sets(&r, l);
    let fp = fingerprint(&sets.base, &sets.consistent);
    assert!(
        (fp.slope_all_stations.slope - 1.13).abs() <= 0.01,
        "{:?}",
        fp.slope_all_stations
    );
    assert!(fp.slope.slope > 1.0, "{:?}", fp.slope);
    assert!(
        (fp.share_95_95_all_stations - 0.0327).abs() < 0.0005,
        "{}",
        fp.share_95_95_all_stations
    );
    assert!(fp.log_vote_rate.kurtosis > 4.0, "{:?}", fp.log_vote_rate);
}

/// REFERENCES: simulating the Klimek model with the published 2011 parameters (f_i = 0.64,
/// f_e = 0.033, α = 2.3, with the fair-part estimates) on the real station sizes gives ≈ 3.4 %
/// of stations at T ≥ 95 % and S ≥ 95 %. Tolerance ±0.5 percentage points: the binomial
/// sampling error is 0.06 points, the rest covers fair-part estimates that differ between
/// implementations (the corner is fed mostly by extreme fraud, f_e · P(x ≥ 0.95 | extreme)).
#[test]
fn published_2011_parameters_fill_the_corner() {
    let st = stations("russia-2011-duma", "ЕДИНАЯ РОССИЯ");
    let est = estimate_fair_part(&st);
    let params = KlimekParams {
        fair: est.fair,
        incremental_sd: est.incremental_sd,
        extreme_sd: EXTREME_SD,
        f_incremental: 0.64,
        f_extreme: 0.033,
        alpha: 2.3,
    };
    let n: Vec<u64> = st.iter().map(|c| c.registered).collect();
    let sim = simulate_stations(
        &n,
        &params,
        &mut analysis_stream(42, AnalysisPurpose::KlimekImplied, 0),
    )
    .unwrap();
    let c: Vec<StationFigures> = sim
        .iter()
        .enumerate()
        .filter(|(_, s)| s.valid > 0)
        .map(|(i, s)| s.counts(i))
        .collect();
    let share = share_of_stations_at_least(&c, 0.95, 0.95);
    assert!((share - 0.034).abs() <= 0.005, "simulated {share}");
}

/// Same seed → byte-identical JSON whatever the thread count; another seed → another report.
#[test]
fn report_is_reproducible_across_thread_counts() {
    let r = load("poland-2020-president-r2");
    let opts = AnalysisOptions {
        fit: TEST_EFFORT,
        digit_null_simulations: 20,
        ..AnalysisOptions::default()
    };
    let run = |threads: usize, opts: &AnalysisOptions| {
        on_threads(threads, || analyse(&r, opts, |_| {}).unwrap().to_json())
    };
    let one = run(1, &opts);
    assert_eq!(one, run(2, &opts));
    assert_eq!(one, run(3, &opts));
    let other = AnalysisOptions {
        seed: 7,
        ..opts.clone()
    };
    assert_ne!(one, run(2, &other));
}
