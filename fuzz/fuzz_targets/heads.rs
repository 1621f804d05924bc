//! Fuzz target: arbitrary text as a package's `heads.txt`: parsing gives heads or problems,
//! never a panic; heads that parse print back to text that parses to the same heads.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tamga::ledger::PublishedHeads;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(heads) = PublishedHeads::parse(text) {
        let again = PublishedHeads::parse(&heads.to_text()).expect("printed heads parse");
        assert_eq!(again.heads(), heads.heads());
    }
});
