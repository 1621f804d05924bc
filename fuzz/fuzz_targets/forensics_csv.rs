//! Fuzz target: arbitrary bytes as the `forensics` command's station-results CSV (plain or
//! gzip). A table that reads is then filtered to stations with the default leader, as the
//! command does before its statistics: never a panic, never unbounded memory.
#![no_main]

mod checks;
#[allow(unused)]
mod pack;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| checks::forensics_csv(data));
