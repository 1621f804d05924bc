//! Fuzz target: arbitrary bytes as a package's `receipts.csv`: never a panic, problems capped,
//! at most `MAX_RECEIPTS` receipts kept.
#![no_main]

mod checks;
#[allow(unused)]
mod pack;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| checks::receipts_csv(data));
