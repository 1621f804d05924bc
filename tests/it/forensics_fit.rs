//! The Klimek fit recovers its own model: simulations of tamga's own documented model
//! (`simulate_stations`) on the real station sizes of Russia 2011 (shared data; its absence
//! FAILS), fitted back. Also the degenerate inputs of issue 20: statistics the data cannot give
//! say "undefined" instead of printing numbers.
//!
//! The coverage of the fit's intervals is measured by
//! `cargo run --release --example klimek_coverage` (too long for CI; docs/forensics.md records
//! its results per parameter and case).

use crate::common::election;
use crate::klimek_support::{CI_EFFORT, checked, model, simulate};
use tamga::forensics::read::{ElectionResults, read_results};
use tamga::forensics::stats::klimek::{FitEffort, fit};
use tamga::forensics::{AnalysisOptions, analyse};

fn russia_2011_sizes() -> Vec<u64> {
    crate::klimek_support::russia_2011_sizes(&election("russia-2011-duma"))
}

/// Point recovery, the part of issue 17's recovery requirement this fit meets: Klimek et al.'s
/// published-like parameters (f_i 0.636, f_e 0.038, α 2.2) and a clean case, two seeds each, on
/// the 91,082 real station sizes, no bootstrap: every estimate lands near the truth (f_i ± 0.05,
/// f_e ± 0.01, ν and τ ± 0.01, α ± 0.3 when ≥ 5 % of stations are frauded). The fit this
/// replaced gave f_i 0.42 for f_i 0.636.
#[test]
fn fit_lands_near_its_own_model_on_real_station_sizes() {
    let sizes = russia_2011_sizes();
    for truth in [model(0.636, 0.038, 2.2), model(0.0, 0.0, 2.0)] {
        for seed in 1..=2u64 {
            let st = simulate(&sizes, &truth, seed);
            let effort = FitEffort {
                replicates: 0,
                ..CI_EFFORT
            };
            let f = fit(&st, effort, 100 + seed).unwrap();
            for (name, t, est, ..) in checked(&truth, &f) {
                let tol = match name {
                    "f_i" => 0.05,
                    "alpha" => 0.3,
                    _ => 0.01,
                };
                assert!(
                    (est - t).abs() <= tol,
                    "seed {seed}: {name} estimate {est}, truth {t}"
                );
            }
        }
    }
}

fn results(rows: &[(u64, u64, u64)]) -> ElectionResults {
    let mut csv = String::from("region,commission,station,registered,issued,valid,invalid,A,B\n");
    for (i, &(reg, iss, a)) in rows.iter().enumerate() {
        csv.push_str(&format!("r,c,{i},{reg},{iss},{iss},0,{a},{}\n", iss - a));
    }
    read_results(std::io::Cursor::new(csv.into_bytes())).unwrap()
}

fn quick() -> AnalysisOptions {
    AnalysisOptions {
        leader: Some("A".into()),
        fit: FitEffort {
            replicates: 2,
            starts: 1,
            pseudo_stations: 2000,
            max_evaluations: 100,
        },
        digit_null_simulations: 20,
        ..AnalysisOptions::default()
    }
}

/// Identical stations: no slope, no ν moments, no Klimek fit — each said in words.
#[test]
fn identical_stations_are_undefined_not_numbers() {
    let r = results(&vec![(1000, 600, 330); 400]);
    let rep = analyse(&r, &quick(), |_| {}).unwrap();
    assert!(rep.fingerprint.slope.slope.is_nan());
    assert!(rep.fingerprint.log_vote_rate.skewness.is_nan());
    assert!(rep.klimek.is_none());
    assert!(
        rep.klimek_undefined
            .as_deref()
            .unwrap()
            .contains("fewer than 4 cells")
    );
    let text = rep.to_text("x");
    assert!(text.contains("undefined"), "{text}");
    assert!(!text.contains("almost no station is frauded"), "{text}");
    assert!(!text.contains("0.500"), "{text}");
    let json = rep.to_json();
    assert!(json.contains("\"slope\": null"), "{json}");
}

/// All stations at 100 % turnout and 100 % share: nothing to fit, no Shpilkin baseline.
#[test]
fn all_at_100_percent_is_undefined() {
    let r = results(&vec![(500, 500, 500); 300]);
    let rep = analyse(&r, &quick(), |_| {}).unwrap();
    assert!(rep.klimek.is_none());
    assert!(rep.clean_peak.is_none());
    let text = rep.to_text("x");
    assert!(text.contains("Klimek fraud model: undefined"), "{text}");
    assert!(!text.contains("almost no station is frauded"), "{text}");
}

/// Nothing left after the filters: an error that says which filters removed what.
#[test]
fn nothing_left_after_filters_is_explained() {
    let r = results(&vec![(50, 30, 10); 10]);
    let e = analyse(&r, &quick(), |_| {}).unwrap_err().to_string();
    assert!(
        e.contains("no station is left") && e.contains("registered < 100: 10"),
        "{e}"
    );
}
