//! Fraud models and detectors against closed forms and invariants: the truth is untouched by
//! fraud (paired runs), every model moves votes the way it says, deterministic detectors fire
//! exactly where they should, receipt checks catch k altered ballots with probability
//! 1 − (1 − p)^k, a quick count's interval covers the truth at its nominal rate, and calibrated
//! detectors keep their stated false-alarm rate on honest runs.

use crate::common::{TUTORIAL, run, tutorial_with_district_commissions};
use tamga::detect::Detector;
use tamga::model::Scenario;
use tamga::scenario::parse;

fn det(name: &str) -> Detector {
    Detector::from_name(name).unwrap()
}

fn with_frauds() -> Scenario {
    let mut text = TUTORIAL.to_string();
    text.push_str(
        r#"
[detectors]
receipt_check_rate = 0.05
control_code_rate = 0.2
pvt_stations = 20

[[variant]]
name = "pressure"
extends = "honest"
[[variant.fraud]]
kind = "pressure"
beneficiary = "red"
share = 0.3

[[variant]]
name = "stuffing"
extends = "honest"
[[variant.fraud]]
kind = "stuffing"
beneficiary = "red"
rate = 0.5
area = "rural"

[[variant]]
name = "protocol"
extends = "honest"
[[variant.fraud]]
kind = "protocol"
beneficiary = "red"
share = 0.3

[[variant]]
name = "flip"
extends = "honest"
[[variant.fraud]]
kind = "flip"
beneficiary = "red"
share = 0.3

[[variant]]
name = "ledger"
extends = "honest"
[[variant.fraud]]
kind = "ledger_rewrite"
beneficiary = "red"
entries = 30

[[variant]]
name = "forged-head"
extends = "honest"
[[variant.fraud]]
kind = "ledger_rewrite"
beneficiary = "red"
entries = 30
forge_head = true

[[variant]]
name = "truncate"
extends = "honest"
[[variant.fraud]]
kind = "ledger_truncate"
beneficiary = "red"
entries = 40

[[variant]]
name = "truncate-unsealed"
extends = "honest"
[[variant.fraud]]
kind = "ledger_truncate"
beneficiary = "red"
entries = 40
reseal = false

[[variant]]
name = "aggregate"
extends = "honest"
[[variant.fraud]]
kind = "aggregate"
beneficiary = "red"
share = 0.2
regions = ["Countryside"]

[[variant]]
name = "klimek"
extends = "honest"
[[variant.fraud]]
kind = "klimek"
beneficiary = "red"
incremental = 0.5
extreme = 0.05
alpha = 2.0
theta = 0.2

[[variant]]
name = "klimek-turnout"
extends = "honest"
[[variant.fraud]]
kind = "klimek"
beneficiary = "red"
incremental = 0.3
extreme = 0.05
turnout_bias = 2.0

[[variant]]
name = "rounding"
extends = "honest"
[[variant.fraud]]
kind = "rounding"
beneficiary = "red"

[[variant]]
name = "drop"
extends = "honest"
[[variant.fraud]]
kind = "drop"
beneficiary = "red"
share = 0.3

[[variant]]
name = "machine-stuffing"
extends = "honest"
[[variant.fraud]]
kind = "stuffing"
beneficiary = "red"
rate = 0.3
channel = "machine"
station_kind = "electronic"

[[variant]]
name = "turnout-rounding"
extends = "honest"
[[variant.fraud]]
kind = "rounding"
beneficiary = "red"
of = "turnout"
stations = 0.5

[[variant]]
name = "carousel"
extends = "honest"
[[variant.fraud]]
kind = "carousel"
beneficiary = "red"
rate = 0.05
"#,
    );
    parse(&text, "tutorial+fraud").expect("valid")
}

/// What `tamga merge` requires of every outcome in a part holds for every run of every fraud
/// model (and of the district-commission scenario), so merge refuses only broken parts.
#[test]
fn every_fraud_model_keeps_the_invariants_merge_checks() {
    for s in [
        with_frauds(),
        parse(&tutorial_with_district_commissions(), "districts").expect("valid"),
    ] {
        let out = run(&s, 23, 0..4);
        for (v, runs) in s.variants.iter().zip(&out) {
            for o in runs {
                if let Err((field, problem)) = tamga::shard::check_outcome(&s, v, o) {
                    panic!("{} run {}: {field} {problem}", v.name, o.run);
                }
            }
        }
    }
}

#[test]
fn fraud_never_changes_the_truth_and_always_helps_the_beneficiary() {
    let s = with_frauds();
    let out = run(&s, 17, 0..6);
    let honest = &out[0];
    let red = 2;
    for (vi, v) in s.variants.iter().enumerate().skip(2) {
        let cuts = v.name.starts_with("truncate");
        for (h, f) in honest.iter().zip(&out[vi]) {
            // paired: what voters chose is the same run by run
            assert_eq!(
                f.truth.list_votes, h.truth.list_votes,
                "{} run {}",
                v.name, f.run
            );
            assert_eq!(f.truth.ballots, h.truth.ballots, "{} run {}", v.name, f.run);
            // and the honest variant's truth is its reported result
            assert_eq!(h.truth.list_votes, h.reported.list_votes);
            // the beneficiary never loses votes to fraud (a truncation cuts everyone's)
            assert!(
                cuts || f.reported.list_votes[red] >= f.truth.list_votes[red],
                "{}: red {} < truth {}",
                v.name,
                f.reported.list_votes[red],
                f.truth.list_votes[red]
            );
        }
        // the beneficiary's share rises (a dropping machine removes the others' votes instead)
        let share = |votes: &[u64]| votes[red] as f64 / votes.iter().sum::<u64>() as f64;
        let gained: f64 = out[vi]
            .iter()
            .map(|o| share(&o.reported.list_votes) - share(&o.truth.list_votes))
            .sum();
        if cuts {
            let lost: u64 = out[vi]
                .iter()
                .map(|o| o.truth.valid_total() - o.reported.list_votes.iter().sum::<u64>())
                .sum();
            assert!(lost > 0, "{} removed no votes", v.name);
        } else {
            assert!(gained > 0.0, "{} moved no votes", v.name);
        }
    }
}

#[test]
fn deterministic_detectors_fire_exactly_where_they_should() {
    let s = with_frauds();
    let out = run(&s, 5, 0..6);
    let idx = |name: &str| s.variants.iter().position(|v| v.name == name).unwrap();
    let fired = |vi: usize, d: &str| {
        out[vi]
            .iter()
            .filter(|o| o.detectors[det(d)].value == Some(1.0))
            .count()
    };
    let n = 6;
    for honest in [0, 1] {
        for d in [
            "ledger_audit",
            "reconciliation",
            "pvt_protocols",
            "receipts",
            "control_codes",
        ] {
            assert_eq!(
                fired(honest, d),
                0,
                "false alarm of {d} on an honest variant"
            );
        }
    }
    assert_eq!(fired(idx("aggregate"), "reconciliation"), n);
    assert_eq!(
        fired(idx("ledger"), "ledger_audit"),
        n,
        "rewritten chains vs published heads"
    );
    assert_eq!(
        fired(idx("flip"), "ledger_audit"),
        0,
        "a flip inside the machine hashes cleanly"
    );
    assert!(
        fired(idx("flip"), "control_codes") > 0,
        "control codes catch flips"
    );
    assert_eq!(
        fired(idx("flip"), "receipts"),
        0,
        "receipts cannot see a flip inside the machine"
    );
    assert_eq!(fired(idx("stuffing"), "reconciliation"), 0);
    assert_eq!(
        fired(idx("protocol"), "pvt_protocols"),
        n,
        "observers see protocols differ"
    );
    assert_eq!(
        fired(idx("stuffing"), "pvt_protocols"),
        0,
        "stuffed ballots are in the count"
    );
}

/// One e-enabled station where everyone votes electronically; a rewrite of `k` entries edited in
/// place leaves exactly `k` voters with receipts that no longer match.
fn receipt_scenario(k: u32, p: f64) -> Scenario {
    let text = format!(
        r#"
format = 1
[election]
name = "one machine"
[[party]]
id = "a"
[[party]]
id = "b"
[system.list]
seats = 5
method = "dhondt"
[[region]]
name = "r"
registered = 3000
stations = 1
urban = 1.0
evoting = 1.0
[turnout]
urban = 0.6
rural = 0.6
[preferences]
urban = {{ a = 0.5, b = 0.5 }}
rural = {{ a = 0.5, b = 0.5 }}
[ballots]
evoting_uptake = 1.0
[detectors]
receipt_check_rate = {p}
station_results_published = false
[[variant]]
name = "honest"
[[variant]]
name = "rewrite"
extends = "honest"
[[variant.fraud]]
kind = "ledger_rewrite"
beneficiary = "a"
entries = {k}
recompute = false
"#
    );
    parse(&text, "receipts").unwrap()
}

#[test]
fn receipt_checks_catch_k_altered_ballots_with_probability_one_minus_q_to_the_k() {
    let (k, p, runs) = (20u32, 0.05, 800u32);
    let s = receipt_scenario(k, p);
    let out = run(&s, 99, 0..runs);
    let caught = out[1]
        .iter()
        .filter(|o| o.detectors[det("receipts")].value == Some(1.0))
        .count() as f64;
    assert!(out[1].iter().all(|o| o.trace.rewritten == k as u64));
    let expected = 1.0 - (1.0 - p).powi(k as i32);
    let observed = caught / runs as f64;
    let sd = (expected * (1.0 - expected) / runs as f64).sqrt();
    assert!(
        (observed - expected).abs() < 4.0 * sd,
        "receipts caught {observed:.4}, closed form {expected:.4} (sd {sd:.4})"
    );
    // edited in place, every altered chain is found from the ledger alone
    assert!(
        out[1]
            .iter()
            .all(|o| o.detectors[det("ledger_audit")].value == Some(1.0))
    );
    assert!(
        out[0]
            .iter()
            .all(|o| o.detectors[det("receipts")].value == Some(0.0))
    );
}

fn pvt_scenario() -> Scenario {
    let text = r#"
format = 1
[election]
name = "quick count"
[[party]]
id = "a"
[[party]]
id = "b"
[[party]]
id = "c"
[system.list]
seats = 50
method = "sainte_lague"
[[region]]
name = "north"
registered = 150000
stations = 200
urban = 0.3
[[region]]
name = "south"
registered = 150000
stations = 200
urban = 0.6
preference_shift = { b = 0.4 }
[turnout]
urban = 0.5
rural = 0.6
station_sd = 0.4
[preferences]
urban = { a = 0.4, b = 0.35, c = 0.25 }
rural = { a = 0.5, b = 0.25, c = 0.25 }
station_sd = 0.3
[ballots]
invalid_rate = 0.02
[detectors]
pvt_stations = 40
"#;
    parse(text, "pvt").unwrap()
}

#[test]
fn quick_count_interval_covers_the_truth_at_its_nominal_rate() {
    let s = pvt_scenario();
    let runs = 400;
    let out = run(&s, 2024, 0..runs);
    let mut covered = 0;
    for o in &out[0] {
        let est = o.pvt.expect("a quick count");
        let truth = o.truth.list_votes[est.leader as usize] as f64
            / o.truth.list_votes.iter().sum::<u64>() as f64;
        if (truth - est.estimate).abs() <= 1.959_964 * est.se {
            covered += 1;
        }
    }
    let rate = covered as f64 / runs as f64;
    let sd = (0.95f64 * 0.05 / runs as f64).sqrt();
    assert!(
        (rate - 0.95).abs() < 3.5 * sd,
        "95% intervals covered the truth in {rate:.3} of runs"
    );
}

#[test]
fn calibrated_detectors_keep_their_false_alarm_rate_on_honest_runs() {
    let s = pvt_scenario();
    let runs = 400;
    let out = run(&s, 7, 0..runs);
    let summary = tamga::summary::Summary::build(&s, 7, 0, &out);
    let alpha = s.detectors.false_alarm_rate;
    let sd = (alpha * (1.0 - alpha) / runs as f64).sqrt();
    let mut checked = 0;
    for d in &summary.detection.detectors {
        for fa in &d.false_alarm {
            let r = fa.false_alarm_rate.rate;
            match d.kind {
                tamga::detect::DetectorKind::Deterministic => {
                    assert_eq!(r, 0.0, "{}: false alarms on {}", d.name, fa.variant)
                }
                tamga::detect::DetectorKind::Calibrated => {
                    checked += 1;
                    // never above the stated rate (beyond Monte Carlo error) ...
                    assert!(r <= alpha + 3.5 * sd, "{}: false-alarm rate {r:.3}", d.name);
                    // ... and, for continuous statistics, not far below it either; the
                    // extreme corner is discrete (usually 0 in honest runs), so a threshold at
                    // 0 fires less often than the stated rate
                    if d.name != "extreme_corner" {
                        assert!(r >= alpha - 3.5 * sd, "{}: false-alarm rate {r:.3}", d.name);
                    }
                }
            }
        }
    }
    assert!(checked >= 4, "calibrated detectors checked: {checked}");
}

#[test]
fn district_commissions_altering_their_totals_move_district_seats_and_fail_reconciliation() {
    let text = tutorial_with_district_commissions();
    let s = parse(&text, "tutorial+district").expect("valid");
    let runs = 8;
    let out = run(&s, 11, 0..runs);
    let vi = s
        .variants
        .iter()
        .position(|v| v.name == "district-commissions")
        .unwrap();
    let red = 2;
    let mut moved = 0;
    for (h, f) in out[0].iter().zip(&out[vi]) {
        // the list result and every station protocol are untouched: only district totals move
        assert_eq!(f.reported.list_votes, f.truth.list_votes, "run {}", f.run);
        assert_eq!(
            f.truth.list_votes, h.truth.list_votes,
            "paired, run {}",
            f.run
        );
        assert_eq!(
            f.truth.district_seats, h.reported.district_seats,
            "paired, run {}",
            f.run
        );
        assert!(f.reported.district_seats[red] >= f.truth.district_seats[red]);
        moved += f.reported.district_seats[red] - f.truth.district_seats[red];
        assert_eq!(f.detectors[det("reconciliation")].value, Some(1.0));
        assert_eq!(
            f.detectors[det("pvt_protocols")].value,
            h.detectors[det("pvt_protocols")].value
        );
        assert_eq!(h.detectors[det("reconciliation")].value, Some(0.0));
    }
    assert!(
        moved > 0,
        "40% of the others' district votes won red no district seat in {runs} runs"
    );
}

#[test]
fn an_unknown_tabulation_level_is_named_with_a_hint() {
    let mut text = TUTORIAL.to_string();
    text.push_str(
        r#"
[[variant]]
name = "bad"
extends = "honest"
[[variant.fraud]]
kind = "aggregate"
level = "okrug"
beneficiary = "red"
share = 0.4
"#,
    );
    let err = parse(&text, "bad").unwrap_err().to_string();
    assert!(
        err.contains("level") && err.contains("`okrug` is not a tabulation level"),
        "{err}"
    );
    assert!(err.contains("\"district\""), "{err}");
}
