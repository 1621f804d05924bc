//! Fuzz target: arbitrary bytes as a station-results file given to `tamga infer
//! --from-stations`'s honest fit (`checks::honest_fit`): never a panic; a fit's figures in range
//! and the scenario it writes valid.
#![no_main]

mod checks;
#[allow(unused)]
mod pack;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| checks::honest_fit(data));
