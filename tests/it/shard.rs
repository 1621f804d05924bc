//! The sharding library in process: blocks computed apart and merged equal one unsharded run,
//! and a part refuses to be written when JSON cannot carry an outcome exactly.

use crate::common::{TUTORIAL, run_prepared, tutorial as tutorial_path};
use tamga::montecarlo::Simulator;
use tamga::shard::{MergeError, Part, Shard, merge};

fn tutorial() -> (String, tamga::model::Scenario) {
    let path = tutorial_path();
    let s = tamga::scenario::parse(TUTORIAL, path.to_str().unwrap()).unwrap();
    (TUTORIAL.to_string(), s)
}

#[test]
fn parts_round_trip_and_merge_to_the_unsharded_outcomes() {
    let (text, s) = tutorial();
    let seed = 5;
    let prepared = Simulator::new(&s, seed);
    let total = 5;
    let whole = run_prepared(&prepared, 0..total);
    let mut parts = Vec::new();
    for k in 1..=2 {
        let shard = Shard::new(k, 2).unwrap();
        let part = Part::new(
            &s,
            &text,
            seed,
            total,
            shard,
            run_prepared(&prepared, shard.block(total)),
        );
        let json = part.to_json_checked().expect("outcomes survive JSON");
        let back = Part::from_json(json.as_bytes()).unwrap();
        assert_eq!(back, part);
        parts.push((format!("part {k}"), back));
    }
    parts.reverse();
    let merged = merge(parts.clone(), tamga::VERSION).unwrap();
    assert_eq!(merged.outcomes, whole);
    assert_eq!(merged.seed, seed);
    assert_eq!(merged.scenario.digest, s.digest);
    // the summaries agree byte for byte
    assert_eq!(
        tamga::summary::Summary::build(&merged.scenario, seed, 0, &merged.outcomes).to_json(),
        tamga::summary::Summary::build(&s, seed, 0, &whole).to_json()
    );
    // and another version does not merge
    assert!(matches!(
        merge(parts, "9.9.9"),
        Err(MergeError::Version { .. })
    ));
    assert!(matches!(
        merge(Vec::new(), tamga::VERSION),
        Err(MergeError::NoParts)
    ));
}

#[test]
fn a_non_finite_number_is_refused_rather_than_changed() {
    let (text, s) = tutorial();
    let prepared = Simulator::new(&s, 1);
    let mut out = run_prepared(&prepared, 0..1);
    let o = &mut out[0][0];
    o.detectors[tamga::detect::Detector::LedgerAudit].cost = f64::NAN;
    let part = Part::new(&s, &text, 1, 1, Shard::new(1, 1).unwrap(), out);
    let err = part.to_json_checked().unwrap_err().to_string();
    assert!(err.contains("run 0 of variant `honest`"), "{err}");
}
