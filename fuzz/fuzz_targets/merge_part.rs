//! Fuzz target: arbitrary bytes as a `tamga run --shard` part file given to `tamga merge`. A
//! part that reads is merged (alone, and beside itself, which must be refused as a double
//! cover) and, if the merge accepts it, summarised as `merge` does (summary.json, the terminal
//! table, runs.csv): never a panic. The seeds are real parts, so mutations reach the outcome
//! checks rather than stopping at the JSON syntax.
#![no_main]

mod checks;
#[allow(unused)]
mod pack;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| checks::merge_part(data));
