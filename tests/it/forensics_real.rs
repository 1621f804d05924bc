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
    EXTREME_SD, FitEffort, KlimekParams, fit, share_of_stations_at_least, simulate_stations,
};
use tamga::forensics::stats::stations::StationFigures;
use tamga::forensics::{AnalysisOptions, analyse};
use tamga::rng::{AnalysisPurpose, analysis_stream};

/// Reduced effort for tests (the CLI uses `FitEffort::FULL`: 40 bootstrap replicates, 7
/// starts, 20,000 pseudo-stations): 20 replicates and 3 starts keep a fit to seconds; the
/// intervals are then rougher percentiles but still from a station bootstrap.
const TEST_EFFORT: FitEffort = FitEffort {
    replicates: 20,
    starts: 3,
    pseudo_stations: 10_000,
    max_evaluations: 400,
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

/// Klimek et al. (2012) published f_i = 0.64, f_e = 0.033, α = 2.3 for the 2011 Duma. The
/// 2-D likelihood fit (docs/forensics.md) lands at f_i ≈ 0.59, f_e ≈ 0.047, α ≈ 4 with 90 %
/// intervals of about ±0.02, ±0.005 and ±0.3 — it does not contain the published values, and it
/// warns that the model misfits (a fifth of the stations lie off the model's cells, four times
/// sampling noise): the pins are the neighbourhood we measure and the warning.
#[test]
fn klimek_fit_russia_2011() {
    let st = stations("russia-2011-duma", "ЕДИНАЯ РОССИЯ");
    let f = fit(&st, TEST_EFFORT, 1).unwrap();
    let (fi, fe) = (&f.f_incremental, &f.f_extreme);
    // the neighbourhood pins hold the maximum-likelihood values: the bias-corrected estimates
    // move with the reduced bootstrap's noise (f_e 0.0617 at this effort, 0.0565 at the CLI's)
    assert!((0.50..=0.70).contains(&fi.raw), "f_i {fi:?}");
    assert!((0.033..=0.060).contains(&fe.raw), "f_e {fe:?}");
    assert!(fi.lo <= fi.estimate && fi.estimate <= fi.hi, "{fi:?}");
    assert!(fe.lo > 0.02, "the extreme cluster is there: {fe:?}");
    assert!(!f.fit.warnings.is_empty(), "misfit must be reported");
    // The corner is reproduced within a fifth (REFERENCES: 3.27 % over all stations).
    assert!(
        (f.fit.corner_model.estimate / f.fit.corner_observed - 1.0).abs() < 0.2,
        "{:?}",
        f.fit
    );
    // The model overshoots the national totals (REFERENCES: ≈ 66 % against 59.7 %).
    assert!(f.implied_turnout > f.observed_turnout + 0.02, "{f:?}");
}

/// Klimek et al. (2012): f_i = 0.39, f_e = 0.021, α = 1.5 for the 2012 presidential election.
#[test]
fn klimek_fit_russia_2012() {
    let st = stations("russia-2012-president", "Путин");
    let f = fit(&st, TEST_EFFORT, 1).unwrap();
    eprintln!(
        "2012: f_i {:?} f_e {:?} alpha {:?}",
        f.f_incremental, f.f_extreme, f.alpha
    );
    assert!(
        (f.f_incremental.estimate - 0.39).abs() <= 0.2,
        "{:?}",
        f.f_incremental
    );
    assert!(
        (0.01..=0.05).contains(&f.f_extreme.estimate),
        "{:?}",
        f.f_extreme
    );
}

/// Poland 2020 runoff, the control: no extreme-fraud cluster (the f_e interval contains 0 and
/// excludes 0.5 %), no test of the reading flags it at 5 %, slope < 1, and the
/// published slope 0.29 (Myagkov-style OLS over all stations; ±0.01 covers the two-decimal
/// rounding of the published value, the slope's own standard error being 0.008).
#[test]
fn poland_2020_is_clean_by_klimek_and_slope() {
    let r = load("poland-2020-president-r2");
    let l = select_leader(&r, Some("DUDA")).unwrap();
    let sets = station_sets(&r, l);
    let f = fit(&sets.base, TEST_EFFORT, 1).unwrap();
    assert!(
        f.f_extreme.lo <= 0.0 && f.f_extreme.hi < 0.005,
        "{:?}",
        f.f_extreme
    );
    let report = analyse(
        &r,
        &AnalysisOptions {
            leader: Some("DUDA".into()),
            fit: FitEffort {
                replicates: 4,
                ..TEST_EFFORT
            },
            digit_null_simulations: 100,
            ..AnalysisOptions::default()
        },
        |_| {},
    )
    .unwrap();
    assert!(!report.reading.tests.is_empty());
    let flagged: Vec<_> = report.reading.tests.iter().filter(|t| t.flags).collect();
    assert!(flagged.is_empty(), "{flagged:?}");
    assert!(
        report.reading.summary[0].starts_with("No test flags"),
        "{:?}",
        report.reading.summary
    );
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
/// f_e = 0.033, α = 2.3, with the fair part and θ of our fit) on the real station sizes gives ≈ 3.4 %
/// of stations at T ≥ 95 % and S ≥ 95 %. Tolerance ±0.5 percentage points: the binomial
/// sampling error is 0.06 points, the rest covers fair-part estimates that differ between
/// implementations (the corner is fed mostly by extreme fraud, f_e · P(x ≥ 0.95 | extreme)).
#[test]
fn published_2011_parameters_fill_the_corner() {
    let st = stations("russia-2011-duma", "ЕДИНАЯ РОССИЯ");
    let est = fit(
        &st,
        FitEffort {
            replicates: 0,
            starts: 2,
            ..TEST_EFFORT
        },
        1,
    )
    .unwrap()
    .params;
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
        fit: FitEffort {
            replicates: 3,
            starts: 1,
            ..TEST_EFFORT
        },
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
