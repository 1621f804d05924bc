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

pub(crate) type Files = BTreeMap<String, Vec<u8>>;

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
    package_with(text, variant, seed, 0.2)
}

/// A whole package of one variant with receipts checked at `receipt_rate`.
pub(crate) fn package_with(
    text: &str,
    variant: Option<&str>,
    seed: u64,
    receipt_rate: f64,
) -> Files {
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
            receipt_rate,
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
    for (name, bytes) in pkg.log_files() {
        files.insert(name, bytes);
    }
    files
}

pub(crate) fn run_audit(files: &Files) -> AuditReport {
    run_audit_with(files, Vec::new())
}

/// None of `quiet` is among the codes `c`.
fn assert_lacks(c: &[&str], quiet: &[&str]) {
    for q in quiet {
        assert!(!c.contains(q), "{q}: {c:?}");
    }
}

pub(crate) fn codes(r: &AuditReport) -> Vec<&'static str> {
    let mut c: Vec<&'static str> = r.findings.iter().map(|f| f.code).collect();
    c.sort();
    c.dedup();
    c
}

/// The first ledger with at least `min` ballots: (name, station).
pub(crate) fn busy_ledger(files: &Files, min: u64) -> (String, u32) {
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
pub(crate) fn rewrite(ledger: &[u8], from: u64) -> (Vec<u8>, tamga::ledger::PublishedHead) {
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
    assert_lacks(
        &c,
        &[
            "ledger.broken-link",
            "ledger.sequence",
            "ledger.close-totals",
        ],
    );
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
pub(crate) fn edit_protocols(files: &mut Files, edit: impl Fn(Vec<String>) -> Option<Vec<String>>) {
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
    drop_district(&mut files, station);
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

/// Runs the audit with witness files (name, text).
pub(crate) fn run_audit_with(files: &Files, witnesses: Vec<(String, String)>) -> AuditReport {
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
        witnesses,
    })
}

/// Replaces one machine's head in `heads.txt` (and re-signs `heads.note` with the commission's
/// key when `resign`).
pub(crate) fn replace_head(
    files: &mut Files,
    head: tamga::ledger::PublishedHead,
    resign: Option<u64>,
) {
    let heads = PublishedHeads::parse(std::str::from_utf8(&files["heads.txt"]).unwrap()).unwrap();
    let replaced = PublishedHeads::new(
        heads.election_id,
        heads.heads().iter().map(|h| {
            if (h.station, h.machine) == (head.station, head.machine) {
                head
            } else {
                *h
            }
        }),
    )
    .unwrap();
    files.insert("heads.txt".into(), replaced.to_text().into_bytes());
    if let Some(seed) = resign {
        let note = tamga::package::sign_heads(&replaced, &tamga::package::commission_key(seed));
        files.insert("heads.note".into(), note.into_bytes());
    }
}

/// The machine's checkpoints of a ledger as a holder of its key would sign them.
pub(crate) fn resigned_checkpoints(ledger: &[u8], seed: u64) -> String {
    let mut rd = LedgerReader::new(Cursor::new(ledger)).unwrap();
    let mut log = None;
    while let Some(rec) = rd.next_record().unwrap() {
        match rec {
            Record::Genesis {
                genesis: g,
                n_lists,
                n_candidates,
                ..
            } => {
                log = Some(tamga::ledger::MachineLog::open(
                    &g,
                    n_lists,
                    n_candidates,
                    tamga::package::CHECKPOINT_INTERVAL,
                    tamga::package::machine_key(seed, g.station, g.machine),
                ))
            }
            Record::Ballot { choice, .. } => {
                log.as_mut().unwrap().append(choice).unwrap();
            }
            Record::Close { .. } => {}
        }
    }
    log.unwrap().close().1
}

#[test]
fn rewritten_ledger_with_forged_head_is_caught_by_the_machines_signed_checkpoints() {
    // what used to escape all but receipts and the protocol: ledger and head both replaced
    let mut files = package(3);
    let (name, station) = busy_ledger(&files, 20);
    let (forged, head) = rewrite(&files[&name], 1);
    files.insert(name, forged);
    replace_head(&mut files, head, Some(3));
    let r = run_audit(&files);
    let c = codes(&r);
    assert!(!c.contains(&"ledger.head-mismatch"), "{c:?}");
    assert!(!c.contains(&"heads.root-mismatch"), "{c:?}");
    for want in ["checkpoint.root-mismatch", "checkpoint.published-head"] {
        assert!(c.contains(&want), "{want}: {c:?}");
    }
    // the voters' proofs still lead to the roots the machine signed: their ballots are in the
    // signed log, which the published ledger no longer is
    assert!(!c.contains(&"proof.invalid"), "{c:?}");
    assert!(r.findings.iter().all(|f| f.station == Some(station)));
    // without re-signing heads.note, the commission's signature no longer covers heads.txt
    let mut unsigned = package(3);
    let (name, _) = busy_ledger(&unsigned, 20);
    let (forged, head) = rewrite(&unsigned[&name], 1);
    unsigned.insert(name, forged);
    replace_head(&mut unsigned, head, None);
    assert!(codes(&run_audit(&unsigned)).contains(&"heads.root-mismatch"));
}

#[test]
fn truncated_and_resealed_ledger_is_beyond_its_checkpoints() {
    let mut files = package(3);
    let (name, _) = busy_ledger(&files, 140);
    let bytes = files[&name].clone();
    // keep the first 130 ballots (past the checkpoint at 128 entries), reseal
    let (out, head) = rerecord(&bytes, |seq, c| if seq <= 130 { vec![c] } else { vec![] });
    files.insert(name, out);
    replace_head(&mut files, head, Some(3));
    let c = codes(&run_audit(&files));
    assert!(c.contains(&"checkpoint.beyond-ledger"), "{c:?}");
    assert!(c.contains(&"checkpoint.published-head"), "{c:?}");
    // the checkpoint at 128 entries still matches: the first 127 ballots are as signed
    assert!(!c.contains(&"checkpoint.root-mismatch"), "{c:?}");
}

#[test]
fn a_publisher_holding_every_key_is_caught_only_by_a_witness() {
    // the whole story rewritten by someone with the machine's and the commission's keys (here
    // derived from the seed): ledger, checkpoints, heads and the commission's note all agree
    let honest = package(3);
    let mut files = honest.clone();
    let (name, station) = busy_ledger(&files, 20);
    let (forged, head) = rewrite(&files[&name], 1);
    let notes = resigned_checkpoints(&forged, 3);
    files.insert(name.clone(), forged);
    let cp_name = tamga::package::checkpoints_file_name(station, 0);
    files.insert(cp_name.clone(), notes.into_bytes());
    replace_head(&mut files, head, Some(3));
    files.insert(
        "proofs.csv".into(),
        b"station,machine,receipt,entry,entry_hash,size,path\n".to_vec(),
    );
    let r = run_audit(&files);
    let c = codes(&r);
    assert_lacks(
        &c,
        &[
            "checkpoint.root-mismatch",
            "checkpoint.published-head",
            "heads.root-mismatch",
        ],
    );
    // the package's own data only betrays it through receipts and the protocol
    assert!(c.contains(&"receipt.not-found"), "{c:?}");
    assert!(
        r.basis
            .iter()
            .any(|b| b.contains("no independent evidence"))
    );
    // an observer who recorded the machine's checkpoints during the day catches the rewrite
    let witness = String::from_utf8(honest[&cp_name].clone()).unwrap();
    let r = run_audit_with(&files, vec![("observer.notes".into(), witness)]);
    let c = codes(&r);
    assert!(c.contains(&"witness.root-mismatch"), "{c:?}");
    assert!(r.basis.iter().any(|b| b.contains("independent: 1 witness")));
    // and so does one who photographed the heads on the poll tapes
    let tape = String::from_utf8(honest["heads.txt"].clone()).unwrap();
    let c = codes(&run_audit_with(&files, vec![("tape.txt".into(), tape)]));
    assert!(c.contains(&"witness.head-mismatch"), "{c:?}");
    // the honest package agrees with both witnesses
    let witness = String::from_utf8(honest[&cp_name].clone()).unwrap();
    let tape = String::from_utf8(honest["heads.txt"].clone()).unwrap();
    let r = run_audit_with(
        &honest,
        vec![
            ("observer.notes".into(), witness),
            ("tape.txt".into(), tape),
        ],
    );
    assert!(r.is_clean(), "{:#?}", r.findings);
}

#[test]
fn relabelled_parties_and_a_moved_station_are_caught_by_the_election_manifest() {
    // swap two parties' labels in manifest.json
    let mut files = package(3);
    let text = String::from_utf8(files["manifest.json"].clone()).unwrap();
    let m = Manifest::parse(&text).unwrap();
    let (p0, p1) = (m.parties[0].clone(), m.parties[1].clone());
    let swapped = text
        .replace(&format!("\"{p0}\""), "\"@tmp@\"")
        .replace(&format!("\"{p1}\""), &format!("\"{p0}\""))
        .replace("\"@tmp@\"", &format!("\"{p1}\""));
    files.insert("manifest.json".into(), swapped.into_bytes());
    assert!(codes(&run_audit(&files)).contains(&"election.manifest-mismatch"));
    // and in election.txt too: its hash is no longer the election id
    let el = String::from_utf8(files["election.txt"].clone()).unwrap();
    let el = el
        .replace(&format!("party 0 {p0}\n"), &format!("party 0 {p1}\n"))
        .replace(&format!("party 1 {p1}\n"), &format!("party 1 {p0}\n"));
    files.insert("election.txt".into(), el.into_bytes());
    assert!(codes(&run_audit(&files)).contains(&"election.id-mismatch"));

    // move a station to another district in protocols.csv (aggregates made consistent)
    let mut files = package(3);
    let (_, station) = busy_ledger(&files, 20);
    let s = station.to_string();
    edit_protocols(&mut files, |mut row| {
        if row[0] == s {
            let d: u32 = row[2].parse().unwrap();
            row[2] = (d ^ 1).to_string();
        }
        Some(row)
    });
    let r = run_audit(&files);
    let moved: Vec<_> = r
        .findings
        .iter()
        .filter(|f| f.code == "election.station-mismatch")
        .collect();
    assert_eq!(moved.len(), 1, "{:#?}", r.findings);
    assert_eq!(moved[0].station, Some(station));
}

#[test]
fn a_receipt_proof_checks_offline_in_well_under_a_millisecond() {
    let files = package(3);
    let text = String::from_utf8(files["proofs.csv"].clone()).unwrap();
    let (rows, problems) = tamga::package::read_proofs(Cursor::new(text.as_bytes()));
    assert!(problems.listed.is_empty() && !rows.is_empty());
    let p = &rows[0].proof;
    // the root the voter holds: the machine's signed closing checkpoint
    let notes = String::from_utf8(
        files[&tamga::package::checkpoints_file_name(p.station, p.machine)].clone(),
    )
    .unwrap();
    let election: tamga::package::ElectionManifest = tamga::package::ElectionManifest::parse(
        std::str::from_utf8(&files["election.txt"]).unwrap(),
    )
    .unwrap();
    let key = election.machine_key(p.station, p.machine).unwrap();
    let id = tamga::package::ElectionManifest::election_id(&files["election.txt"]);
    let origin = tamga::ledger::note::machine_origin(&id, p.station, p.machine);
    let close = tamga::ledger::note::split_notes(&notes, 1000)
        .unwrap()
        .into_iter()
        .map(|n| tamga::ledger::note::open_checkpoint(n, &origin, &key).unwrap())
        .max_by_key(|c| c.size)
        .unwrap();
    assert_eq!(close.size, p.size);
    let t = std::time::Instant::now();
    let n = 1000;
    for _ in 0..n {
        assert!(std::hint::black_box(p).check(&close.root));
    }
    let per = t.elapsed().as_secs_f64() / n as f64;
    assert!(per < 1e-3, "{per} s per proof check");
    // altered: another entry, another hash, another root
    let mut q = p.clone();
    q.entry += 1;
    assert!(!q.check(&close.root));
    let mut q = p.clone();
    if let Some(h) = q.path.first_mut() {
        h.0[0] ^= 1;
    }
    assert!(!q.check(&close.root));
}

#[test]
fn every_documented_finding_code_names_a_documented_numbered_check() {
    let doc =
        std::fs::read_to_string(crate::common::root().join("docs/package-format.md")).unwrap();
    for (id, statement) in tamga::package::CHECKS {
        assert!(
            doc.contains(&format!("**{id} — ")),
            "{id} is not in the docs"
        );
        assert!(!statement.is_empty());
    }
    let table = &doc[doc.find("### Findings").unwrap()..];
    let mut n = 0;
    for line in table.lines().filter(|l| l.starts_with("| `")) {
        let first = line.split('|').nth(1).unwrap();
        for code in first.split('`').skip(1).step_by(2) {
            if code.ends_with('*') {
                continue; // a family such as `witness.*`
            }
            let check = tamga::package::check_of(code);
            assert!(
                tamga::package::CHECKS.iter().any(|(id, _)| *id == check),
                "{code}"
            );
            n += 1;
        }
    }
    assert!(n > 40, "{n} codes found in the table");
    // and every finding of an audit carries its check
    let mut files = package(3);
    files.remove("heads.note");
    let r = run_audit(&files);
    assert!(!r.findings.is_empty());
    assert!(
        r.findings
            .iter()
            .all(|f| f.check == tamga::package::check_of(f.code))
    );
}

/// Every entry hash of a ledger (genesis, ballots, close), as stored.
pub(crate) fn entry_hashes(ledger: &[u8]) -> Vec<tamga::ledger::EntryHash> {
    let mut rd = LedgerReader::new(Cursor::new(ledger)).unwrap();
    let mut out = Vec::new();
    while let Some(rec) = rd.next_record().unwrap() {
        out.push(rec.hash());
    }
    out
}

/// The machine's signed checkpoints of the log of `entries` at each of `sizes`, as a witness
/// who recorded them would hold them (one file). `seed` gives the machine's key.
pub(crate) fn witness_notes(
    files: &Files,
    entries: &[tamga::ledger::EntryHash],
    sizes: impl Iterator<Item = u64>,
    station: u32,
    seed: u64,
) -> String {
    let id = tamga::package::ElectionManifest::election_id(&files["election.txt"]);
    let origin = tamga::ledger::note::machine_origin(&id, station, 0);
    let key = tamga::package::machine_key(seed, station, 0);
    let tree = tamga::ledger::merkle::Tree::from_entries(entries);
    let mut out = String::new();
    for size in sizes {
        let c = tamga::ledger::note::Checkpoint {
            origin: origin.clone(),
            size,
            root: tree.root_at(size).unwrap(),
            head: Some(entries[size as usize - 1]),
        };
        out.push_str(&tamga::ledger::note::sign_note(&c.body(), &origin, &key));
    }
    out
}

#[test]
fn witness_checkpoints_of_every_size_are_proved_consistent_with_the_close_and_a_fork_is_not() {
    let files = package(3);
    let (name, station) = busy_ledger(&files, 150);
    let entries = entry_hashes(&files[&name]);
    let n = entries.len() as u64;
    // a witness who recorded the machine's checkpoint at every size of its log, close included:
    // each is proved a prefix of the signed close by a consistency proof from the ledger
    let all = witness_notes(&files, &entries, 1..=n, station, 3);
    let r = run_audit_with(&files, vec![("every-size.notes".into(), all)]);
    assert!(r.is_clean(), "{:#?}", r.findings);
    // a fork: the machine's key signed, for the witness, a log whose entry 5 differs
    let mut forked = entries.clone();
    forked[5].0[0] ^= 1;
    for m in [6, 64, 100, n - 1] {
        let note = witness_notes(&files, &forked, std::iter::once(m), station, 3);
        let r = run_audit_with(&files, vec![("fork.notes".into(), note)]);
        assert_eq!(
            codes(&r),
            vec!["witness.inconsistent", "witness.root-mismatch"],
            "size {m}: {:#?}",
            r.findings
        );
    }
    // before the forked entry, the fork's checkpoints are the honest ones: nothing to find
    let note = witness_notes(&files, &forked, 1..=5, station, 3);
    assert!(run_audit_with(&files, vec![("early.notes".into(), note)]).is_clean());
}

/// The observers' turnout file of a package: each machine's ballot count in `heads.txt`.
pub(crate) fn turnout_of(files: &Files) -> String {
    let heads = PublishedHeads::parse(std::str::from_utf8(&files["heads.txt"]).unwrap()).unwrap();
    let mut out = format!(
        "{} {}\n",
        tamga::package::TURNOUT_FIRST_LINE,
        tamga::ledger::to_hex(&heads.election_id)
    );
    for h in heads.heads() {
        out.push_str(&format!("{} {} {}\n", h.station, h.machine, h.n_ballots));
    }
    out
}

#[test]
fn stuffing_and_dropping_by_the_machine_are_caught_only_by_observers_counting_its_voters() {
    // tiny.toml has the variants `machine-stuffing` and `drop` (tests/data/tampering/README.md)
    let text = std::fs::read_to_string(crate::common::data("tampering/tiny.toml")).unwrap();
    let honest = package_of_variant(&text, Some("honest"), 5);
    // observers at every machine counted the voters who used it: in a paired run (same seed),
    // the honest election's ballot counts
    let seen = turnout_of(&honest);
    assert!(
        run_audit_with(&honest, vec![("turnout.txt".into(), seen.clone())]).is_clean(),
        "an honest package agrees with its observers"
    );
    let stuffed = package_of_variant(&text, Some("machine-stuffing"), 5);
    // the package alone: stuffed ballots are hashed, sealed, signed and counted like any other
    assert!(
        run_audit(&stuffed).is_clean(),
        "{:#?}",
        run_audit(&stuffed).findings
    );
    let r = run_audit_with(&stuffed, vec![("turnout.txt".into(), seen.clone())]);
    assert_eq!(
        codes(&r),
        vec!["witness.turnout-mismatch"],
        "{:#?}",
        r.findings
    );
    assert!(
        r.findings
            .iter()
            .all(|f| f.what.contains("more ballots than voters"))
    );
    // every machine whose count grew, and only those
    let grown = PublishedHeads::parse(std::str::from_utf8(&stuffed["heads.txt"]).unwrap())
        .unwrap()
        .heads()
        .iter()
        .zip(
            PublishedHeads::parse(std::str::from_utf8(&honest["heads.txt"]).unwrap())
                .unwrap()
                .heads(),
        )
        .filter(|(s, h)| s.n_ballots > h.n_ballots)
        .count();
    assert!(grown > 0);
    assert_eq!(r.findings.len() + r.findings_omitted as usize, grown);
    // a machine that drops ballots: fewer ballots than voters seen
    let dropped = package_of_variant(&text, Some("drop"), 5);
    let r = run_audit_with(&dropped, vec![("turnout.txt".into(), seen)]);
    assert!(
        codes(&r).contains(&"witness.turnout-mismatch"),
        "{:#?}",
        r.findings
    );
    assert!(
        r.findings
            .iter()
            .filter(|f| f.code == "witness.turnout-mismatch")
            .all(|f| f.what.contains("ballots missing"))
    );
    // a malformed turnout file vouches for nothing, and says where
    let bad = format!("{}0 0 07\n", &turnout_of(&honest));
    let r = run_audit_with(&honest, vec![("bad.txt".into(), bad)]);
    assert_eq!(codes(&r), vec!["witness.malformed"]);
    assert!(r.findings[0].line.is_some());
}

/// The ledger's ballots, re-recorded by `keep` (ballot number, choice → choices to record) and
/// sealed: a consistent new history. Returns the bytes and the new head line.
pub(crate) fn rerecord(
    ledger: &[u8],
    keep: impl Fn(u64, BallotChoice) -> Vec<BallotChoice>,
) -> (Vec<u8>, tamga::ledger::PublishedHead) {
    let mut rd = LedgerReader::new(Cursor::new(ledger)).unwrap();
    let mut out = Vec::new();
    let mut w = None;
    while let Some(rec) = rd.next_record().unwrap() {
        match rec {
            Record::Genesis {
                genesis,
                n_lists,
                n_candidates,
                ..
            } => w = Some(LedgerWriter::create(&mut out, &genesis, n_lists, n_candidates).unwrap()),
            Record::Ballot { choice, seq, .. } => {
                for c in keep(seq.0, choice) {
                    w.as_mut().unwrap().append(c).unwrap();
                }
            }
            Record::Close { .. } => {}
        }
    }
    let (closed, _) = w.unwrap().finish().unwrap();
    (out, closed.published_head())
}

/// Empties a station's district in `protocols.csv`, deletes its candidate rows and reduces the
/// aggregates to match.
pub(crate) fn drop_district(files: &mut Files, station: u32) {
    let s = station.to_string();
    edit_protocols(files, |mut row| {
        if row[0] != s {
            return Some(row);
        }
        if row[3].contains("candidate") {
            return None;
        }
        row[2] = String::new();
        Some(row)
    });
}
