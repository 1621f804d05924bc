//! Fuzz target: arbitrary bytes as a package's `protocols.csv` (for three parties): parsing
//! lists problems, never panics, and keeps at most the documented number of them.
#![no_main]

mod checks;
#[allow(unused)]
mod pack;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| checks::protocols_csv(data));
