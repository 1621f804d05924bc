//! Fuzz target: arbitrary bytes as a package's `aggregates.csv`: never a panic, problems capped.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tamga::package::{MAX_PROBLEMS_LISTED, parse_aggregates};

fuzz_target!(|data: &[u8]| {
    let (_, problems) = parse_aggregates(data);
    assert!(problems.len() <= MAX_PROBLEMS_LISTED);
});
