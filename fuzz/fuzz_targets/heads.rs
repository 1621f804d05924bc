//! Fuzz target: arbitrary text as a package's `heads.txt`: parsing gives heads or problems,
//! never a panic; heads that parse print back to text that parses to the same heads.
#![no_main]

mod checks;
#[allow(unused)]
mod pack;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| checks::heads(data));
