//! The package audit as a library, on packages held in memory: what each well-crafted forgery
//! leaves behind (a ledger rewritten with every hash recomputed; rewritten together with its
//! published head; a protocol falsified consistently), and that hostile files yield findings,
//! never a panic.

use crate::common::{TUTORIAL, tutorial_with_district_commissions};
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::io::{self, Cursor, Read};
use tamga::ledger::{BallotChoice, LedgerReader, LedgerWriter, PublishedHeads, Record};
use tamga::package::{
    AuditInput, AuditReport, Manifest, Spec, audit, ledger_file_name, parse_aggregates,
    parse_protocols, parse_receipts, simulate, write_aggregates, write_protocols, write_receipts,
};

type Files = BTreeMap<String, Vec<u8>>;

/// The tutorial without its district tier (list PR only).
fn list_only() -> String {
    TUTORIAL
        .replace("[system.districts]\nrule = \"plurality\"\n", "")
        .replace("district_seats = { blue = 3, red = 1 }\n", "")
        .replace("total_seats = { blue = 12, green = 5, red = 7 }\n", "")
        .replace("\ndistricts = 2\n", "\ndistricts = 0\n")
}

/// A whole package of the tutorial in memory: relative name → bytes.
fn package(seed: u64) -> Files {
    package_of(TUTORIAL, seed)
}

/// A whole package of a scenario in memory.
fn package_of(text: &str, seed: u64) -> Files {
    package_of_variant(text, None, seed)
}

/// A whole package of one variant of a scenario in memory.
fn package_of_variant(text: &str, variant: Option<&str>, seed: u64) -> Files {
    let sc = tamga::scenario::parse(text, "scenario.toml").unwrap();
    let mut ledgers: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut current: Vec<(String, std::rc::Rc<std::cell::RefCell<Vec<u8>>>)> = Vec::new();
    struct Sink(std::rc::Rc<std::cell::RefCell<Vec<u8>>>);
    impl io::Write for Sink {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            self.0.borrow_mut().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    let pkg = simulate(
        Spec {
            scenario: &sc,
            variant,
            seed,
            receipt_rate: 0.2,
        },
        &mut |s, m| {
            let buf = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
            current.push((format!("ledgers/{}", ledger_file_name(s, m)), buf.clone()));
            Ok(Sink(buf))
        },
    )
    .unwrap();
    for (name, buf) in current {
        ledgers.insert(name, buf.borrow().clone());
    }
    let mut files = ledgers;
    let parties = &pkg.manifest.parties;
    files.insert("manifest.json".into(), pkg.manifest.to_json().into_bytes());
    files.insert("heads.txt".into(), pkg.heads.to_text().into_bytes());
    let mut b = Vec::new();
    write_protocols(&mut b, parties, &pkg.protocols).unwrap();
    files.insert("protocols.csv".into(), b);
    let mut b = Vec::new();
    write_aggregates(&mut b, &pkg.aggregates).unwrap();
    files.insert("aggregates.csv".into(), b);
    let mut b = Vec::new();
    write_receipts(&mut b, &pkg.receipts).unwrap();
    files.insert("receipts.csv".into(), b);
    files
}

fn run_audit(files: &Files) -> AuditReport {
    let manifest = Manifest::parse(std::str::from_utf8(&files["manifest.json"]).unwrap()).unwrap();
    let names: Vec<String> = files
        .keys()
        .filter_map(|k| k.strip_prefix("ledgers/").map(str::to_string))
        .collect();
    let mut open = |rel: &str| -> io::Result<Option<Box<dyn Read>>> {
        Ok(files
            .get(rel)
            .map(|b| Box::new(Cursor::new(b.clone())) as Box<dyn Read>))
    };
    audit(AuditInput {
        manifest: &manifest,
        ledger_names: tamga::package::LedgerNames::Listed(names),
        open: &mut open,
    })
}

fn codes(r: &AuditReport) -> Vec<&'static str> {
    let mut c: Vec<&'static str> = r.findings.iter().map(|f| f.code).collect();
    c.sort();
    c.dedup();
    c
}

/// The first ledger with at least `min` ballots: (name, station).
fn busy_ledger(files: &Files, min: u64) -> (String, u32) {
    let heads = PublishedHeads::parse(std::str::from_utf8(&files["heads.txt"]).unwrap()).unwrap();
    let h = heads
        .heads()
        .iter()
        .find(|h| h.n_ballots >= min)
        .expect("a busy machine");
    (
        format!("ledgers/{}", ledger_file_name(h.station, h.machine)),
        h.station,
    )
}

/// Rewrites a ledger from ballot `from` on, changing that ballot's list choice, with every later
/// hash and the close recomputed: a ledger that verifies clean by itself. Returns the new bytes
/// and the new published head line's fields.
fn rewrite(ledger: &[u8], from: u64) -> (Vec<u8>, tamga::ledger::PublishedHead) {
    let mut rd = LedgerReader::new(Cursor::new(ledger)).unwrap();
    let mut genesis = None;
    let mut ballots = Vec::new();
    while let Some(rec) = rd.next_record().unwrap() {
        match rec {
            Record::Genesis {
                genesis: g,
                n_lists,
                n_candidates,
                ..
            } => genesis = Some((g, n_lists, n_candidates)),
            Record::Ballot { choice, .. } => ballots.push(choice),
            Record::Close { .. } => {}
        }
    }
    let (g, n_lists, n_candidates) = genesis.unwrap();
    let victim = &mut ballots[from as usize - 1];
    *victim = BallotChoice::new((victim.list + 1) % n_lists, victim.district);
    let mut out = Vec::new();
    let mut w = LedgerWriter::create(&mut out, &g, n_lists, n_candidates).unwrap();
    for b in ballots {
        w.append(b).unwrap();
    }
    let (closed, _) = w.finish().unwrap();
    (out, closed.published_head())
}

#[test]
fn in_memory_package_audits_clean() {
    let files = package(3);
    let r = run_audit(&files);
    assert!(r.is_clean(), "{:#?}", r.findings);
    assert!(r.checked.ledgers > 0 && r.checked.receipts > 0);
}

#[test]
fn rewritten_ledger_is_caught_by_head_receipts_and_protocol_not_by_the_chain() {
    let mut files = package(3);
    let (name, station) = busy_ledger(&files, 20);
    let (forged, _) = rewrite(&files[&name], 1);
    files.insert(name.clone(), forged);
    let r = run_audit(&files);
    let c = codes(&r);
    // the chain itself is consistent: no link, sequence or close finding
    for quiet in [
        "ledger.broken-link",
        "ledger.sequence",
        "ledger.close-totals",
    ] {
        assert!(!c.contains(&quiet), "{c:?}");
    }
    assert!(c.contains(&"ledger.head-mismatch"), "{c:?}");
    assert!(c.contains(&"ledger.protocol-totals"), "{c:?}");
    // receipts of this machine (all entries ≥ 1) no longer match
    let receipts = String::from_utf8(files["receipts.csv"].clone()).unwrap();
    let held = receipts
        .lines()
        .filter(|l| l.starts_with(&format!("{station},")))
        .count();
    let not_found = r
        .findings
        .iter()
        .filter(|f| f.code == "receipt.not-found")
        .count();
    assert_eq!(not_found, held);
    assert!(r.findings.iter().all(|f| f.station == Some(station)));
}

#[test]
fn rewritten_ledger_and_head_is_caught_by_receipts_and_protocol_only() {
    let mut files = package(3);
    let (name, station) = busy_ledger(&files, 20);
    let (forged, head) = rewrite(&files[&name], 1);
    files.insert(name, forged);
    let heads_text = String::from_utf8(files["heads.txt"].clone()).unwrap();
    let heads = PublishedHeads::parse(&heads_text).unwrap();
    let replaced = PublishedHeads::new(
        heads.election_id,
        heads
            .heads()
            .iter()
            .map(|h| if h.station == station { head } else { *h }),
    )
    .unwrap();
    files.insert("heads.txt".into(), replaced.to_text().into_bytes());
    let r = run_audit(&files);
    let c = codes(&r);
    assert!(!c.contains(&"ledger.head-mismatch"), "{c:?}");
    assert!(c.contains(&"ledger.protocol-totals"), "{c:?}");
    assert!(c.contains(&"receipt.not-found"), "{c:?}");
}

#[test]
fn rewrite_of_the_last_ballot_escapes_earlier_receipts() {
    let mut files = package(3);
    let (name, station) = busy_ledger(&files, 20);
    let n = {
        let heads =
            PublishedHeads::parse(std::str::from_utf8(&files["heads.txt"]).unwrap()).unwrap();
        heads
            .heads()
            .iter()
            .find(|h| h.station == station)
            .unwrap()
            .n_ballots
    };
    let (forged, _) = rewrite(&files[&name], n);
    files.insert(name, forged);
    let r = run_audit(&files);
    // only receipts of the last entry can fail; the seed's receipts for earlier ones all match
    let not_found = r
        .findings
        .iter()
        .filter(|f| f.code == "receipt.not-found")
        .count();
    assert!(not_found <= 1);
    assert!(codes(&r).contains(&"ledger.head-mismatch"));
}

#[test]
fn list_only_package_audits_clean_and_catches_a_machine_part_edit() {
    let mut files = package_of(&list_only(), 3);
    let protocols = String::from_utf8(files["protocols.csv"].clone()).unwrap();
    assert!(!protocols.contains("candidate"));
    let r = run_audit(&files);
    assert!(r.is_clean(), "{:#?}", r.findings);
    let (_, station) = busy_ledger(&files, 5);
    let prefix = format!("{station},");
    let edited: String = protocols
        .lines()
        .map(|l| {
            if l.starts_with(&prefix) && l.contains(",machine-list,blue,") {
                let (head, v) = l.rsplit_once(',').unwrap();
                format!("{head},{}\n", v.parse::<u64>().unwrap() + 1)
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    files.insert("protocols.csv".into(), edited.into_bytes());
    let r = run_audit(&files);
    let c = codes(&r);
    assert_eq!(
        c,
        vec!["ledger.protocol-totals", "protocol.machine-list-sum"],
        "{:#?}",
        r.findings
    );
}

#[test]
fn missing_files_are_findings_not_errors() {
    let full = package(3);
    for drop in [
        "heads.txt",
        "protocols.csv",
        "aggregates.csv",
        "receipts.csv",
    ] {
        let mut files = full.clone();
        files.remove(drop);
        let r = run_audit(&files);
        // one finding that names the file, not a cascade of findings derived from its absence
        assert_eq!(r.findings.len(), 1, "{drop}: {:#?}", r.findings);
        assert_eq!(r.findings[0].code, "package.missing-file");
        assert_eq!(r.findings[0].file, drop);
    }
}

#[test]
fn renamed_ledger_is_a_station_mismatch() {
    let mut files = package(3);
    let heads = PublishedHeads::parse(std::str::from_utf8(&files["heads.txt"]).unwrap()).unwrap();
    let a = heads.heads()[0];
    let b = heads.heads()[1];
    let na = format!("ledgers/{}", ledger_file_name(a.station, 0));
    let nb = format!("ledgers/{}", ledger_file_name(b.station, 0));
    let la = files.remove(&na).unwrap();
    let lb = files.remove(&nb).unwrap();
    files.insert(na, lb);
    files.insert(nb, la);
    let r = run_audit(&files);
    let c = codes(&r);
    assert!(c.contains(&"genesis.station-mismatch"), "{c:?}");
    assert!(c.contains(&"ledger.machine-mismatch"), "{c:?}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn parsers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let parties = vec!["blue".to_string(), "green".to_string()];
        let _ = parse_protocols(Cursor::new(&bytes), &parties);
        let _ = parse_aggregates(Cursor::new(&bytes));
        let _ = parse_receipts(Cursor::new(&bytes));
        if let Ok(s) = std::str::from_utf8(&bytes) {
            let _ = Manifest::parse(s);
        }
    }

    #[test]
    fn mangled_protocols_give_findings_never_a_panic(
        cut in 0usize..20_000,
        junk in "[0-9a-z,\n-]{0,40}",
    ) {
        let mut files = package(3);
        let p = files.get_mut("protocols.csv").unwrap();
        let at = cut.min(p.len());
        p.splice(at..at, junk.bytes());
        let r = run_audit(&files);
        // inserting nothing changes nothing; otherwise whatever changed is a finding or harmless
        if junk.is_empty() {
            prop_assert!(r.is_clean());
        }
    }
}

#[test]
fn district_commission_fraud_is_an_aggregate_mismatch_on_district_candidate_totals() {
    let text = tutorial_with_district_commissions();
    let files = package_of_variant(&text, Some("district-commissions"), 4);
    let r = run_audit(&files);
    assert_eq!(codes(&r), vec!["aggregate.mismatch"], "{:#?}", r.findings);
    // only district candidate totals were altered: list totals and protocols are as counted
    for f in &r.findings {
        assert!(
            f.what.starts_with("district ") && f.what.contains(" candidate "),
            "{}",
            f.what
        );
    }
    // and the same package of the honest variant audits clean
    let honest = package_of_variant(&text, Some("honest"), 4);
    assert!(run_audit(&honest).is_clean());
}

/// Rewrites `protocols.csv` through `edit` (station, region, district, item, choice, votes →
/// the row to keep, or none) and republishes `aggregates.csv` as the sums of the edited
/// protocols: a commission that keeps its tabulation consistent with what it altered.
fn edit_protocols(files: &mut Files, edit: impl Fn(Vec<String>) -> Option<Vec<String>>) {
    let text = String::from_utf8(files["protocols.csv"].clone()).unwrap();
    let mut out = String::new();
    for (i, line) in text.lines().enumerate() {
        if i == 0 {
            out.push_str(line);
            out.push('\n');
            continue;
        }
        let row: Vec<String> = line.split(',').map(str::to_string).collect();
        if let Some(row) = edit(row) {
            out.push_str(&row.join(","));
            out.push('\n');
        }
    }
    let manifest = Manifest::parse(std::str::from_utf8(&files["manifest.json"]).unwrap()).unwrap();
    let parsed = parse_protocols(Cursor::new(out.as_bytes()), &manifest.parties);
    assert!(parsed.problems.is_empty(), "{:?}", parsed.problems);
    let mut b = Vec::new();
    write_aggregates(
        &mut b,
        &tamga::package::aggregate(&manifest.parties, &parsed.protocols),
    )
    .unwrap();
    files.insert("aggregates.csv".into(), b);
    files.insert("protocols.csv".into(), out.into_bytes());
}

/// No finding's sentence carries Rust debug text (`Some(…)`, `Seq(…)`, `{ … }`).
fn assert_human(r: &AuditReport) {
    for f in &r.findings {
        for debug in [
            "Some(",
            "None",
            "Seq(",
            " { ",
            "BallotChoice",
            "ListNone",
            "List(",
        ] {
            assert!(!f.what.contains(debug), "{}: {}", f.code, f.what);
        }
    }
}

#[test]
fn station_whose_district_is_dropped_from_its_protocol_is_caught_by_its_ledger() {
    let mut files = package(3);
    let (_, station) = busy_ledger(&files, 20);
    let s = station.to_string();
    // the station's district emptied, its candidate rows deleted, the aggregates reduced to match
    edit_protocols(&mut files, |mut row| {
        if row[0] != s {
            return Some(row);
        }
        if row[3].contains("candidate") {
            return None;
        }
        row[2] = String::new();
        Some(row)
    });
    let r = run_audit(&files);
    assert_human(&r);
    let c = codes(&r);
    assert!(c.contains(&"ledger.protocol-district"), "{:#?}", r.findings);
    assert!(c.contains(&"ledger.protocol-totals"), "{:#?}", r.findings);
    // everything found is about that station's ledger (the aggregates were made consistent)
    assert!(
        r.findings.iter().all(|f| f.station == Some(station)),
        "{:#?}",
        r.findings
    );
    let candidate_votes = r
        .findings
        .iter()
        .filter(|f| f.code == "ledger.protocol-totals" && f.what.starts_with("candidate "))
        .count();
    assert!(candidate_votes > 0, "{:#?}", r.findings);
}

#[test]
fn manifest_district_count_is_checked() {
    let mut files = package(3);
    let text = String::from_utf8(files["manifest.json"].clone()).unwrap();
    let m = Manifest::parse(&text).unwrap();
    let d = m.counts.districts;
    let edited = text.replace(
        &format!("\"districts\": {d}"),
        &format!("\"districts\": {}", d + 1),
    );
    assert_ne!(edited, text);
    files.insert("manifest.json".into(), edited.into_bytes());
    let r = run_audit(&files);
    assert_eq!(codes(&r), vec!["manifest.count-mismatch"]);
    assert!(
        r.findings[0].what.contains("districts"),
        "{}",
        r.findings[0].what
    );
}

#[test]
fn a_station_missing_many_rows_is_one_problem_and_extra_stations_are_bounded_by_the_manifest() {
    let mut files = package(3);
    let (_, station) = busy_ledger(&files, 20);
    let s = station.to_string();
    let text = String::from_utf8(files["protocols.csv"].clone()).unwrap();
    let kept: String = text
        .lines()
        .filter(|l| !(l.starts_with(&format!("{s},")) && l.contains(",list,")))
        .map(|l| format!("{l}\n"))
        .collect();
    // a station the manifest does not declare, with one row
    let kept = format!("{kept}999999,0,0,registered,,5\n");
    files.insert("protocols.csv".into(), kept.into_bytes());
    let r = run_audit(&files);
    assert_human(&r);
    let malformed: Vec<_> = r
        .findings
        .iter()
        .filter(|f| f.code == "protocol.malformed")
        .collect();
    let about_station = malformed
        .iter()
        .filter(|f| f.station == Some(station))
        .count();
    assert_eq!(about_station, 1, "{malformed:#?}");
    assert!(
        malformed
            .iter()
            .any(|f| f.station == Some(999_999) && f.what.contains("manifest")),
        "{malformed:#?}"
    );
    assert!(
        r.findings
            .iter()
            .any(|f| f.code == "manifest.count-mismatch" && f.what.contains("holds more")),
        "{:#?}",
        r.findings
    );
}

#[test]
fn ledger_findings_read_as_sentences() {
    let mut files = package(3);
    let (name, _) = busy_ledger(&files, 20);
    let mut bytes = files[&name].clone();
    // ballot entry 2's list byte set out of range (no rehash), then the file cut mid-record
    let off = tamga::ledger::HEADER_LEN
        + tamga::ledger::GENESIS_RECORD_LEN
        + tamga::ledger::BALLOT_RECORD_LEN
        + 9;
    bytes[off] = 200;
    bytes.truncate(off + 200);
    files.insert(name, bytes);
    let r = run_audit(&files);
    assert_human(&r);
    let what: Vec<&str> = r.findings.iter().map(|f| f.what.as_str()).collect();
    assert!(
        what.iter().any(|w| w.contains("list 200, candidate")),
        "{what:#?}"
    );
    assert!(
        what.iter().any(|w| w.contains("last complete entry: #")),
        "{what:#?}"
    );
}
