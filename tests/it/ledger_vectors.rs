//! Known-answer tests for the ledger format: the 3-ballot test vector printed in
//! `docs/ledger-format.md` must be exactly what tamga computes and writes (every hashed input,
//! every hash, the head, the receipts, the file bytes and the heads file), and the independent
//! Python verifier `tools/verify_ledger.py`, written from that document alone, must agree.
//!
//! To regenerate after a deliberate format change: `TAMGA_BLESS=1 cargo test --test it
//! ledger_vectors::` rewrites `tests/data/ledger/`, and the failure message prints the block to
//! paste into the document.

use std::path::Path;
use std::process::Command;

use crate::common::{golden, root};

use sha2::{Digest, Sha256};
use tamga::ledger::{
    BallotChoice, CANDIDATE_NONE, EntryHash, Genesis, LIST_NONE, LedgerWriter, PublishedHeads,
    ReceiptCode, receipt_code,
};

const BEGIN: &str = "<!-- test-vectors:begin -->";
const END: &str = "<!-- test-vectors:end -->";

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The vector's inputs, as stated in the document.
fn vector_inputs() -> (Genesis, u8, u16, [BallotChoice; 3]) {
    let g = Genesis {
        election_id: core::array::from_fn(|i| i as u8),
        station: 1001,
        machine: 2,
        launch_code: *b"LAUNCH-CODE-0001",
    };
    let ballots = [
        BallotChoice::new(0, 1),
        BallotChoice::new(2, 0),
        BallotChoice::new(LIST_NONE, CANDIDATE_NONE),
    ];
    (g, 3, 2, ballots)
}

struct Vector {
    pairs: Vec<(String, String)>,
    file: Vec<u8>,
    heads: String,
    receipts: Vec<ReceiptCode>,
}

/// Computes every value of the vector. Hashed inputs are rebuilt from the file's records
/// (input = tag ‖ previous hash ‖ record without its tag and stored hash), as the document says,
/// and digested with the plain streaming SHA-256, independently of the ledger's one-block path.
fn compute() -> Vector {
    let (g, n_lists, n_candidates, ballots) = vector_inputs();
    let mut file = vec![];
    let mut w = LedgerWriter::create(&mut file, &g, n_lists, n_candidates).unwrap();
    let mut hashes = vec![w.chain().genesis_hash()];
    for c in ballots {
        hashes.push(w.append(c).unwrap());
    }
    let (closed, _) = w.finish().unwrap();
    hashes.push(closed.head);

    let mut p: Vec<(String, String)> = vec![
        ("election_id".into(), hex(&g.election_id)),
        ("station".into(), g.station.to_string()),
        ("machine".into(), g.machine.to_string()),
        ("launch_code".into(), hex(&g.launch_code)),
        ("n_lists".into(), n_lists.to_string()),
        ("n_candidates".into(), n_candidates.to_string()),
    ];
    for (i, c) in ballots.iter().enumerate() {
        p.push((
            format!("ballot{}", i + 1),
            format!("{} {}", c.list, c.district),
        ));
    }
    // Split the file into header and records.
    let sizes = [10, 102, 44, 44, 44, file.len() - 10 - 102 - 3 * 44];
    let names = [
        "header", "genesis", "ballot1", "ballot2", "ballot3", "close",
    ];
    let mut records = vec![];
    let mut at = 0;
    for s in sizes {
        records.push(&file[at..at + s]);
        at += s;
    }
    assert_eq!(at, file.len());
    let mut prev = [0u8; 32];
    for (k, rec) in records[1..].iter().enumerate() {
        let mut input = vec![rec[0]];
        input.extend_from_slice(&prev);
        input.extend_from_slice(&rec[1..rec.len() - 32]);
        let digest: [u8; 32] = Sha256::digest(&input).into();
        assert_eq!(EntryHash(digest), hashes[k], "entry {k}");
        assert_eq!(&rec[rec.len() - 32..], &digest, "stored hash of entry {k}");
        let name = names[k + 1];
        p.push((format!("input.{name}"), hex(&input)));
        p.push((format!("h{k}"), hex(&digest)));
        if (1..=3).contains(&k) {
            p.push((format!("receipt{k}"), receipt_code(&hashes[k]).to_string()));
        }
        prev = digest;
    }
    p.push(("head".into(), closed.head.to_hex()));
    for (name, rec) in names.iter().zip(&records) {
        p.push((format!("file.{name}"), hex(rec)));
    }
    let heads = PublishedHeads::new(g.election_id, [closed.published_head()])
        .unwrap()
        .to_text();
    for (i, line) in heads.lines().enumerate() {
        p.push((format!("heads.line{}", i + 1), line.to_string()));
    }
    let receipts = hashes[1..=3].iter().map(receipt_code).collect();
    Vector {
        pairs: p,
        file,
        heads,
        receipts,
    }
}

fn doc_pairs() -> Vec<(String, String)> {
    let doc = std::fs::read_to_string(root().join("docs/ledger-format.md")).unwrap();
    let start = doc
        .find(BEGIN)
        .expect("docs/ledger-format.md lacks the vector block")
        + BEGIN.len();
    let end = doc[start..].find(END).expect("vector block not closed") + start;
    doc[start..end]
        .lines()
        .filter(|l| l.contains(" = "))
        .map(|l| {
            let (k, v) = l.split_once(" = ").unwrap();
            (k.trim().to_string(), v.trim().to_string())
        })
        .collect()
}

fn render(pairs: &[(String, String)]) -> String {
    pairs.iter().map(|(k, v)| format!("{k} = {v}\n")).collect()
}

#[test]
fn document_vectors_match_byte_for_byte() {
    let v = compute();
    let doc = doc_pairs();
    assert!(
        doc == v.pairs,
        "docs/ledger-format.md's test vectors differ from what tamga computes; the computed block is:\n{}",
        render(&v.pairs)
    );
}

#[test]
fn vector_files_match_byte_for_byte() {
    let v = compute();
    golden("ledger/vector3.ldg", &v.file);
    golden("ledger/vector3.heads", &v.heads);
    let heads = PublishedHeads::parse(&v.heads).unwrap();
    let (g, ..) = vector_inputs();
    let rep = tamga::ledger::verify_with_receipts(
        &v.file[..],
        heads.get(g.station, g.machine),
        &v.receipts,
    )
    .unwrap();
    assert!(rep.is_clean(), "{:?}", rep.findings);
    assert_eq!(rep.receipts_found, 3);
}

/// Runs the Python verifier; returns (exit code, stdout).
fn python(args: &[&Path], extra: &[&str]) -> (i32, String) {
    let out = Command::new("python3")
        .arg(root().join("tools/verify_ledger.py"))
        .args(args)
        .args(extra)
        .output()
        .expect("python3 must be installed: the independent verifier tools/verify_ledger.py is part of the test suite");
    (
        out.status.code().expect("python3 exited by signal"),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn independent_python_verifier_agrees_on_the_vector() {
    let v = compute();
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("m.ldg");
    let heads = dir.path().join("heads.txt");
    std::fs::write(&ledger, &v.file).unwrap();
    std::fs::write(&heads, &v.heads).unwrap();
    let receipts: Vec<String> = v.receipts.iter().map(|r| r.to_string()).collect();
    let mut extra = vec!["--heads", heads.to_str().unwrap()];
    for r in &receipts {
        extra.extend(["--receipt", r]);
    }
    let (code, out) = python(&[&ledger], &extra);
    let head = v.pairs.iter().find(|(k, _)| k == "head").unwrap().1.clone();
    assert_eq!(code, 0, "{out}");
    assert_eq!(out.trim(), format!("clean: 3 ballots, head {head}"));

    // Tampered: one byte of ballot 2's choice.
    let mut bad = v.file.clone();
    bad[10 + 102 + 44 + 9] ^= 1;
    std::fs::write(&ledger, &bad).unwrap();
    let (code, out) = python(&[&ledger], &extra);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("BrokenLink at entry 2"), "{out}");
    assert!(out.contains("HeadMismatch"), "{out}");

    // An unknown receipt.
    std::fs::write(&ledger, &v.file).unwrap();
    let (code, out) = python(&[&ledger], &["--receipt", "ZZZZ-ZZZZ"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("ReceiptNotFound ZZZZ-ZZZZ"), "{out}");
}

#[test]
fn independent_python_verifier_agrees_on_a_large_random_ledger() {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(2004);
    let g = Genesis {
        election_id: [0x42; 32],
        station: 77,
        machine: 3,
        launch_code: Genesis::draw_launch_code(&mut rng),
    };
    let mut file = vec![];
    let mut w = LedgerWriter::create(&mut file, &g, 10, 12).unwrap();
    for _ in 0..5000 {
        let x = rng.next_u64();
        let list = if x % 50 == 0 {
            LIST_NONE
        } else {
            (x % 10) as u8
        };
        let cand = if x % 70 == 1 {
            CANDIDATE_NONE
        } else {
            ((x >> 8) % 12) as u16
        };
        w.append(BallotChoice::new(list, cand)).unwrap();
    }
    let (closed, _) = w.finish().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("m.ldg");
    std::fs::write(&ledger, &file).unwrap();
    let (code, out) = python(&[&ledger], &[]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(
        out.trim(),
        format!("clean: 5000 ballots, head {}", closed.head)
    );
    // Truncated by one record: both verifiers report it.
    std::fs::write(&ledger, &file[..file.len() - 100]).unwrap();
    let (code, out) = python(&[&ledger], &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("Truncated"), "{out}");
}
