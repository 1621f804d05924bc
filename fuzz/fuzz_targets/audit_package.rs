//! Fuzz target: whole election packages, mutated with their structure kept (see `pack.rs`): one
//! file edited, dropped, copied over another, truncated or renamed at a time, starting from real
//! packages `tamga simulate` wrote (`fuzz/seeds/audit_package/`). The package is audited from
//! memory as `tamga audit` audits a directory. The audit must never panic, must list at most
//! `MAX_LISTED_PER_CODE` findings of a code with their sentences cut to `MAX_WHAT_BYTES` (plus
//! the ellipsis note), and is clean only if nothing was found.
#![no_main]

mod pack;

use libfuzzer_sys::{fuzz_mutator, fuzz_target, fuzzer_mutate};
use std::collections::BTreeMap;
use std::io::{self, Cursor, Read};
use tamga::package::{
    AuditInput, LedgerNames, MAX_LISTED_PER_CODE, MAX_WHAT_BYTES, Manifest, audit,
};

fuzz_target!(|data: &[u8]| {
    let Some(files) = pack::parse(data) else {
        return;
    };
    let mut by_name: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    for f in files {
        by_name.insert(String::from_utf8_lossy(&f.name).into_owned(), f.data);
    }
    let Some(manifest) = by_name
        .get("manifest.json")
        .and_then(|m| std::str::from_utf8(m).ok())
        .and_then(|m| Manifest::parse(m).ok())
    else {
        return;
    };
    let ledgers: Vec<String> = by_name
        .keys()
        .filter_map(|n| n.strip_prefix("ledgers/").map(str::to_string))
        .collect();
    let ledger_names = if by_name.contains_key("ledgers") {
        LedgerNames::Unusable("it is not a directory".into())
    } else if ledgers.is_empty() {
        LedgerNames::Missing
    } else {
        LedgerNames::Listed(ledgers)
    };
    let mut open = |rel: &str| -> io::Result<Option<Box<dyn Read>>> {
        Ok(by_name
            .get(rel)
            .map(|d| Box::new(Cursor::new(d.clone())) as Box<dyn Read>))
    };
    let report = audit(AuditInput {
        manifest: &manifest,
        ledger_names,
        open: &mut open,
    });
    let mut per_code: BTreeMap<&str, usize> = BTreeMap::new();
    for f in &report.findings {
        *per_code.entry(f.code).or_default() += 1;
        assert!(
            f.what.len() <= MAX_WHAT_BYTES + 64,
            "{} bytes",
            f.what.len()
        );
        let _ = f.location();
    }
    assert!(per_code.values().all(|&n| n <= MAX_LISTED_PER_CODE));
    assert_eq!(
        report.is_clean(),
        report.findings.is_empty() && report.findings_omitted == 0
    );
});

fuzz_mutator!(|data: &mut [u8], size: usize, max_size: usize, seed: u32| {
    match pack::mutate(&data[..size], seed, |d, s, m| fuzzer_mutate(d, s, m)) {
        Some(out) if out.len() <= max_size => {
            data[..out.len()].copy_from_slice(&out);
            out.len()
        }
        _ => fuzzer_mutate(data, size, max_size),
    }
});
