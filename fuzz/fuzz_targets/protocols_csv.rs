//! Fuzz target: arbitrary bytes as a package's `protocols.csv` (for three parties): parsing
//! lists problems, never panics, and keeps at most the documented number of them.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tamga::package::{MAX_PROBLEMS_LISTED, aggregate, parse_protocols};

fuzz_target!(|data: &[u8]| {
    let parties = ["A".to_string(), "B".to_string(), "C".to_string()];
    let parsed = parse_protocols(data, &parties);
    assert!(parsed.problems.len() <= MAX_PROBLEMS_LISTED);
    assert_eq!(parsed.protocols.len(), parsed.lines.len());
    let _ = aggregate(&parties, &parsed.protocols);
});
