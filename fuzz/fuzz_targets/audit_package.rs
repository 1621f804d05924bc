//! Fuzz target: whole election packages, mutated with their structure kept (see `pack.rs`): one
//! file edited, dropped, copied over another, truncated or renamed at a time, starting from real
//! packages `tamga simulate` wrote (`fuzz/seeds/audit_package/`). The package is audited from
//! memory as `tamga audit` audits a directory. The audit must never panic, must list at most
//! `MAX_LISTED_PER_CODE` findings of a code with their sentences cut to `MAX_WHAT_BYTES` (plus
//! the ellipsis note), and is clean only if nothing was found.
#![no_main]

mod checks;
mod pack;

use libfuzzer_sys::{fuzz_mutator, fuzz_target, fuzzer_mutate};

fuzz_target!(|data: &[u8]| checks::audit_package(data));

fuzz_mutator!(|data: &mut [u8], size: usize, max_size: usize, seed: u32| {
    match pack::mutate(&data[..size], seed, |d, s, m| fuzzer_mutate(d, s, m)) {
        Some(out) if out.len() <= max_size => {
            data[..out.len()].copy_from_slice(&out);
            out.len()
        }
        _ => fuzzer_mutate(data, size, max_size),
    }
});
