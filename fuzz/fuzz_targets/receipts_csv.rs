//! Fuzz target: arbitrary bytes as a package's `receipts.csv`: never a panic, problems capped,
//! at most `MAX_RECEIPTS` receipts kept.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tamga::package::{MAX_PROBLEMS_LISTED, MAX_RECEIPTS, read_receipts};

fuzz_target!(|data: &[u8]| {
    let (receipts, problems) = read_receipts(data);
    assert!(problems.listed.len() <= MAX_PROBLEMS_LISTED);
    assert!(receipts.len() <= MAX_RECEIPTS);
});
