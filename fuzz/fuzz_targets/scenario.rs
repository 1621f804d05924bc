//! Fuzz target: arbitrary text as a scenario file. `scenario::parse` must return a scenario or
//! problems — never panic — and every problem must render, within a bounded length per input
//! byte (echoes are cut, see `crate::text`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(e) = tamga::scenario::parse(text, "fuzz.toml") {
        let shown = e.to_string();
        assert!(!shown.is_empty());
    }
});
