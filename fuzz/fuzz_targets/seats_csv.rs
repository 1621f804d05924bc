//! Fuzz target: arbitrary bytes as the `seats` command's votes CSV (first byte: whether the
//! `district_seats` column is required). A table that reads is then allocated by D'Hondt and
//! Hare with a seat count from the input, as `tamga seats` would: never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tamga::seats::{Method, TieBreak, csv::read_votes};

fuzz_target!(|data: &[u8]| {
    let Some((&flags, body)) = data.split_first() else {
        return;
    };
    let Ok(table) = read_votes(body, flags & 1 == 1) else {
        return;
    };
    let seats = u32::from(flags >> 1) + 1;
    for name in ["dhondt", "hare"] {
        let method: Method = name.parse().expect("a known method");
        let _ = tamga::seats::allocate(&method, seats, &table.votes, None, TieBreak::Report);
    }
});
