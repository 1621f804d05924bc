//! Fuzz target: arbitrary bytes as the `seats` command's votes CSV (first byte: whether the
//! `district_seats` column is required). A table that reads is then allocated by D'Hondt and
//! Hare with a seat count from the input, as `tamga seats` would: never a panic.
#![no_main]

mod checks;
#[allow(unused)]
mod pack;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| checks::seats_csv(data));
