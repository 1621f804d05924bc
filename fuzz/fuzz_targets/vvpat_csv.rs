//! Fuzz target: arbitrary bytes as a package's `paper/vvpat.csv` (`read_misprints`): never a
//! panic; rows that read name a party of the package and an entry from 1, and print back to text
//! that reads to the same rows.
#![no_main]

mod checks;
#[allow(unused)]
mod pack;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| checks::vvpat_csv(data));
