//! Fuzz target: arbitrary bytes as a package's `aggregates.csv`: never a panic, problems capped.
#![no_main]

mod checks;
#[allow(unused)]
mod pack;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| checks::aggregates_csv(data));
