//! Fuzz target: arbitrary bytes as a ledger file. The invariants (no panic, offsets within the
//! input, bounded findings, a clean ledger is canonical and matches only its own head) live in
//! `tamga::ledger::fuzz_check`, shared with the bounded stress test in
//! `tests/it/ledger_hostile.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    tamga::ledger::fuzz_check(data);
});
