//! Fuzz target: arbitrary bytes as a `tamga run --shard` part file given to `tamga merge`. A
//! part that reads is merged (alone, and beside itself, which must be refused as a double
//! cover) and, if the merge accepts it, summarised as `merge` does (summary.json, the terminal
//! table, runs.csv): never a panic. The seeds are real parts, so mutations reach the outcome
//! checks rather than stopping at the JSON syntax.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tamga::shard::{Part, merge};
use tamga::summary::{Summary, runs_csv};

fuzz_target!(|data: &[u8]| {
    let Ok(part) = Part::from_json(data) else {
        return;
    };
    let twice = vec![
        ("a".to_string(), part.clone()),
        ("b".to_string(), part.clone()),
    ];
    let merged_twice = merge(twice, &part.tamga_version);
    let Ok(merged) = merge(vec![("a".to_string(), part.clone())], &part.tamga_version) else {
        return;
    };
    // a part covering runs cannot cover them twice
    if merged.outcomes.iter().any(|v| !v.is_empty()) {
        assert!(merged_twice.is_err(), "the same runs merged twice");
    }
    let summary = Summary::build(&merged.scenario, merged.seed, 0, &merged.outcomes);
    let _ = summary.to_json();
    let _ = summary.to_terminal();
    let _ = runs_csv(&merged.scenario, &merged.outcomes);
});
