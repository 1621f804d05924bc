//! Fuzz target: whole election packages, mutated with their structure kept (see `pack.rs`),
//! read as `tamga rla` reads them and audited with every method (`checks::rla_package`): never a
//! panic or a hang; a report confirms exactly when nothing was found and every contest was.
#![no_main]

mod checks;
mod pack;

use libfuzzer_sys::{fuzz_mutator, fuzz_target, fuzzer_mutate};

fuzz_target!(|data: &[u8]| checks::rla_package(data));

fuzz_mutator!(|data: &mut [u8], size: usize, max_size: usize, seed: u32| {
    match pack::mutate(&data[..size], seed, |d, s, m| fuzzer_mutate(d, s, m)) {
        Some(out) if out.len() <= max_size => {
            data[..out.len()].copy_from_slice(&out);
            out.len()
        }
        _ => fuzzer_mutate(data, size, max_size),
    }
});
