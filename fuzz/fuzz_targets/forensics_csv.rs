//! Fuzz target: arbitrary bytes as the `forensics` command's station-results CSV (plain or
//! gzip). A table that reads is then filtered to stations with the default leader, as the
//! command does before its statistics: never a panic, never unbounded memory.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tamga::forensics::read::{read_results, select_leader, station_sets};

fuzz_target!(|data: &[u8]| {
    let Ok(results) = read_results(data) else {
        return;
    };
    let _ = results.option_totals();
    if let Ok(leader) = select_leader(&results, None) {
        let _ = station_sets(&results, leader);
    }
});
