//! Fuzz target: arbitrary text as a scenario file. `scenario::parse` must return a scenario or
//! problems — never panic — and every problem must render, within a bounded length per input
//! byte (echoes are cut, see `crate::text`).
#![no_main]

mod checks;
#[allow(unused)]
mod pack;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| checks::scenario(data));
