//! The negative test vectors of `tests/data/tampering/` (its README): for each tampering of
//! `docs/tampering.md` a tiny package, the independent evidence that catches it where the package
//! alone cannot, and the exact findings `tamga audit` gives (and `tools/verify_ledger.py` for the
//! tampered ledger). The vectors are rebuilt here from `tiny.toml` and must equal the committed
//! files byte for byte (`TAMGA_BLESS=1 cargo test --test it tampering_vectors` rewrites them);
//! each vector's findings must contain the codes the table promises, and every vector audits as
//! not clean given its evidence — except `flip`, whose evidence (a voter's control code) is not
//! something the audit reads (`tests/it/fraud.rs` shows control codes catch it).

use crate::common::{BIN, data};
use crate::package_audit::{
    Files, busy_ledger, drop_district, edit_protocols, entry_hashes, package_with, replace_head,
    rerecord, resigned_checkpoints, rewrite, turnout_of, witness_notes,
};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use tamga::ledger::{BALLOT_RECORD_LEN, GENESIS_RECORD_LEN, HEADER_LEN};
use tamga::package::{ElectionManifest, checkpoints_file_name, ledger_file_name};

/// The simulation seed (and so every simulated key) of the vectors.
const SEED: u64 = 16;
/// The busy machine every ledger tampering is done to (station 1 has more than 128 entries).
const STATION: u32 = 1;

struct Vector {
    name: &'static str,
    /// The package as published (without `truth/` and `paper/`, which audit never reads).
    files: Files,
    /// Independent evidence: file name → text (given to `--heads`).
    witnesses: Vec<(String, String)>,
    /// Codes the table in docs/tampering.md promises (with the evidence); empty only for `flip`.
    must: &'static [&'static str],
    /// Run `tools/verify_ledger.py` on station [`STATION`]'s ledger; `true`: it must find
    /// something.
    python: Option<bool>,
}

fn scenario() -> String {
    std::fs::read_to_string(data("tampering/tiny.toml")).unwrap()
}

fn base(variant: &str) -> Files {
    let mut f = package_with(&scenario(), Some(variant), SEED, 0.05);
    f.retain(|k, _| !k.starts_with("truth/") && !k.starts_with("paper/"));
    f
}

fn ledger_name() -> String {
    format!("ledgers/{}", ledger_file_name(STATION, 0))
}

/// Byte range of ballot entry `i` (from 1) in a ledger file.
fn ballot(i: usize) -> std::ops::Range<usize> {
    let start = HEADER_LEN + GENESIS_RECORD_LEN + (i - 1) * BALLOT_RECORD_LEN;
    start..start + BALLOT_RECORD_LEN
}

/// Replaces one number of `protocols.csv` or `aggregates.csv` (the first row starting with
/// `prefix`) by itself plus `delta`.
fn bump(files: &mut Files, file: &str, prefix: &str, delta: i64) {
    let text = String::from_utf8(files[file].clone()).unwrap();
    let mut done = false;
    let out: String = text
        .lines()
        .map(|l| {
            if !done && l.starts_with(prefix) {
                done = true;
                let (head, v) = l.rsplit_once(',').unwrap();
                format!("{head},{}\n", v.parse::<i64>().unwrap() + delta)
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    assert!(done, "{file}: no row {prefix}");
    files.insert(file.into(), out.into_bytes());
}

fn vectors() -> Vec<Vector> {
    let honest = base("honest");
    let name = ledger_name();
    let cp_name = checkpoints_file_name(STATION, 0);
    assert_eq!(busy_ledger(&honest, 129).1, STATION);
    let mut out = Vec::new();
    let mut v = |name: &'static str,
                 files: Files,
                 witnesses: Vec<(String, String)>,
                 must: &'static [&'static str],
                 python: Option<bool>| {
        out.push(Vector {
            name,
            files,
            witnesses,
            must,
            python,
        })
    };

    v("honest", honest.clone(), vec![], &[], Some(false));

    // §5.1: what the chain shows by itself
    let mut f = honest.clone();
    let l = f.get_mut(&name).unwrap();
    l[ballot(10).start + 9] ^= 1; // ballot 10's list byte, hash left as stored
    v(
        "modify-in-place",
        f,
        vec![],
        &["ledger.broken-link", "ledger.close-totals"],
        Some(true),
    );

    // the rule of ledger-format.md §5 step 5: a ballot with one field out of range is not
    // recounted at all, so the close's candidate totals disagree too
    let mut f = honest.clone();
    f.get_mut(&name).unwrap()[ballot(10).start + 9] = 200;
    v(
        "choice-out-of-range",
        f,
        vec![],
        &["ledger.choice-out-of-range", "ledger.close-totals"],
        Some(true),
    );

    let mut f = honest.clone();
    f.get_mut(&name).unwrap().drain(ballot(10));
    v(
        "delete-entry",
        f,
        vec![],
        &[
            "ledger.sequence",
            "ledger.broken-link",
            "ledger.close-count",
        ],
        Some(true),
    );

    let mut f = honest.clone();
    let l = f.get_mut(&name).unwrap();
    let rec = l[ballot(10)].to_vec();
    l.splice(ballot(10).end..ballot(10).end, rec);
    v(
        "insert-entry",
        f,
        vec![],
        &["ledger.sequence", "ledger.broken-link"],
        Some(true),
    );

    let mut f = honest.clone();
    let l = f.get_mut(&name).unwrap();
    let (a, b) = (l[ballot(10)].to_vec(), l[ballot(11)].to_vec());
    l[ballot(10)].copy_from_slice(&b);
    l[ballot(11)].copy_from_slice(&a);
    v(
        "reorder-entries",
        f,
        vec![],
        &["ledger.sequence", "ledger.broken-link"],
        Some(true),
    );

    let mut f = honest.clone();
    f.get_mut(&name).unwrap().truncate(ballot(150).end);
    v(
        "truncate-tail",
        f,
        vec![],
        &["ledger.missing-close", "checkpoint.beyond-ledger"],
        Some(true),
    );

    let mut f = honest.clone();
    let (l, _) = rerecord(
        &f[&name],
        |seq, c| if seq <= 130 { vec![c] } else { vec![] },
    );
    f.insert(name.clone(), l);
    v(
        "truncate-and-reseal",
        f,
        vec![],
        &[
            "ledger.head-mismatch",
            "ledger.published-count",
            "checkpoint.beyond-ledger",
        ],
        Some(true),
    );

    let mut f = honest.clone();
    let (l, _) = rewrite(&f[&name], 1);
    f.insert(name.clone(), l);
    v(
        "rewrite-and-recompute",
        f,
        vec![],
        &[
            "ledger.head-mismatch",
            "checkpoint.root-mismatch",
            "receipt.not-found",
        ],
        Some(true),
    );

    // the head replaced too, and the commission's note re-signed over the new heads
    let mut f = honest.clone();
    let (l, head) = rewrite(&f[&name], 1);
    f.insert(name.clone(), l);
    replace_head(&mut f, head, Some(SEED));
    v(
        "rewrite-and-forge-head",
        f,
        vec![],
        &[
            "checkpoint.root-mismatch",
            "checkpoint.published-head",
            "receipt.not-found",
        ],
        Some(true),
    );

    // ballots added after close and resealed
    let mut f = honest.clone();
    let (l, _) = rerecord(&f[&name], |seq, c| {
        if seq == 191 {
            vec![c, tamga::ledger::BallotChoice::new(2, 1)]
        } else {
            vec![c]
        }
    });
    f.insert(name.clone(), l);
    v(
        "append-after-close",
        f,
        vec![],
        &["ledger.head-mismatch", "checkpoint.unsigned-entries"],
        Some(true),
    );

    // a publisher holding every key: ledger, checkpoints, heads and the commission's note agree;
    // an observer's copy of the machine's checkpoints and a poll-tape photo catch it
    let mut f = honest.clone();
    let (l, head) = rewrite(&f[&name], 1);
    let notes = resigned_checkpoints(&l, SEED);
    f.insert(name.clone(), l);
    f.insert(cp_name.clone(), notes.into_bytes());
    replace_head(&mut f, head, Some(SEED));
    let witness = String::from_utf8(honest[&cp_name].clone()).unwrap();
    let tape = String::from_utf8(honest["heads.txt"].clone()).unwrap();
    v(
        "rewrite-with-every-key",
        f,
        vec![
            ("observer.notes".into(), witness),
            ("poll-tape.txt".into(), tape),
        ],
        &[
            "witness.root-mismatch",
            "witness.inconsistent",
            "witness.head-mismatch",
        ],
        Some(true),
    );

    // a compromised machine re-signs its log after rewriting ballots recorded since its last
    // checkpoint (140 on); the commission signs the head it announces. The witness's checkpoint
    // at 128 still agrees; the voters' receipts of rewritten ballots do not
    let mut f = honest.clone();
    let (l, head) = rewrite(&f[&name], 140);
    let notes = resigned_checkpoints(&l, SEED);
    f.insert(name.clone(), l);
    f.insert(cp_name.clone(), notes.into_bytes());
    replace_head(&mut f, head, Some(SEED));
    let entries = entry_hashes(&honest[&name]);
    let early = witness_notes(&honest, &entries, std::iter::once(128), STATION, SEED);
    v(
        "compromised-machine-key",
        f,
        vec![("observer.notes".into(), early)],
        &[
            "receipt.not-found",
            "proof.invalid",
            "ledger.protocol-totals",
        ],
        Some(true),
    );

    // a mid-day checkpoint removed from the package (the rewrite it would expose hidden from an
    // auditor without witnesses)
    let mut f = honest.clone();
    let notes = String::from_utf8(f[&cp_name].clone()).unwrap();
    let kept: String = tamga::ledger::note::split_notes(&notes, 100)
        .unwrap()
        .into_iter()
        .filter(|n| !n.contains("\n128\n"))
        .collect();
    assert_ne!(kept, notes);
    f.insert(cp_name.clone(), kept.into_bytes());
    v("drop-checkpoint", f, vec![], &["checkpoint.skipped"], None);

    // a split view: the commission showed an observer another signed log of heads
    let mut shown = honest.clone();
    let (_, head) = rewrite(&honest[&name], 1);
    replace_head(&mut shown, head, Some(SEED));
    let note = String::from_utf8(shown["heads.note"].clone()).unwrap();
    v(
        "split-view",
        honest.clone(),
        vec![("commission.note".into(), note)],
        &["witness.heads-mismatch"],
        None,
    );

    // before hashing: the machine itself
    let seen = turnout_of(&honest);
    v(
        "machine-stuffing",
        base("machine-stuffing"),
        vec![("turnout.txt".into(), seen.clone())],
        &["witness.turnout-mismatch"],
        Some(false),
    );
    v(
        "drop",
        base("drop"),
        vec![("turnout.txt".into(), seen)],
        &["witness.turnout-mismatch"],
        Some(false),
    );
    v("flip", base("flip"), vec![], &[], Some(false));

    // protocols and aggregates
    let mut f = honest.clone();
    bump(&mut f, "protocols.csv", "0,0,", 0);
    bump(&mut f, "protocols.csv", "0,0,0,list,blue,", 5);
    v(
        "alter-protocol",
        f,
        vec![],
        &["protocol.list-sum", "aggregate.mismatch"],
        None,
    );
    let mut f = honest.clone();
    bump(&mut f, "aggregates.csv", "national,,list,red,", 20);
    v("alter-aggregate", f, vec![], &["aggregate.mismatch"], None);

    // the election manifest
    let mut f = honest.clone();
    let m = String::from_utf8(f["manifest.json"].clone()).unwrap();
    let swapped = m
        .replace("\"blue\"", "\"@\"")
        .replace("\"red\"", "\"blue\"")
        .replace("\"@\"", "\"red\"");
    f.insert("manifest.json".into(), swapped.into_bytes());
    let p = String::from_utf8(f["protocols.csv"].clone()).unwrap();
    let p = p
        .replace(",blue,", ",@,")
        .replace(",red,", ",blue,")
        .replace(",@,", ",red,");
    f.insert("protocols.csv".into(), p.into_bytes());
    let ag = String::from_utf8(f["aggregates.csv"].clone()).unwrap();
    let ag = ag
        .replace(",blue,", ",@,")
        .replace(",red,", ",blue,")
        .replace(",@,", ",red,");
    f.insert("aggregates.csv".into(), ag.into_bytes());
    v(
        "relabel-parties",
        f.clone(),
        vec![],
        &["election.manifest-mismatch"],
        None,
    );
    let el = String::from_utf8(f["election.txt"].clone()).unwrap();
    let el = el
        .replace("party 0 blue\n", "party 0 red\n")
        .replace("party 2 red\n", "party 2 blue\n");
    f.insert("election.txt".into(), el.into_bytes());
    v(
        "relabel-parties-in-election-txt",
        f,
        vec![],
        &["election.id-mismatch"],
        None,
    );

    let mut f = honest.clone();
    edit_protocols(&mut f, |mut row| {
        if row[0] == "0" {
            row[2] = "1".into();
        }
        Some(row)
    });
    v(
        "move-station",
        f,
        vec![],
        &["election.station-mismatch"],
        None,
    );

    let mut f = honest.clone();
    drop_district(&mut f, STATION);
    v(
        "drop-district",
        f,
        vec![],
        &["ledger.protocol-district", "ledger.protocol-totals"],
        None,
    );
    out
}

/// One line per finding of `tamga audit --json`: check, code, file, line, station, machine,
/// entry, last entry, byte offset (`-` where absent), sorted.
fn audit_lines(dir: &Path, witnesses: &[String]) -> (String, i32) {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(dir).args(["audit", "package", "--json"]);
    if !witnesses.is_empty() {
        cmd.arg("--heads");
        for w in witnesses {
            cmd.arg(format!("evidence/{w}"));
        }
    }
    let out = cmd.output().unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{}: {e}: {}",
            dir.display(),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let field = |f: &serde_json::Value, k: &str| match &f[k] {
        serde_json::Value::Null => "-".to_string(),
        serde_json::Value::String(s) => s.clone(),
        x => x.to_string(),
    };
    let mut lines: Vec<String> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            [
                "check",
                "code",
                "file",
                "line",
                "station",
                "machine",
                "entry",
                "last_entry",
                "offset",
            ]
            .iter()
            .map(|k| field(f, k))
            .collect::<Vec<_>>()
            .join("\t")
        })
        .collect();
    assert_eq!(doc["findings_omitted"], 0, "{}", dir.display());
    lines.sort();
    let mut text =
        "check\tcode\tfile\tline\tstation\tmachine\tentry\tlast_entry\toffset\n".to_string();
    for l in lines {
        text.push_str(&l);
        text.push('\n');
    }
    (text, out.status.code().unwrap_or(-1))
}

/// `tools/verify_ledger.py` on station [`STATION`]'s ledger with the heads, its checkpoints and
/// key, and the proofs: its output and exit status.
fn python_lines(dir: &Path, files: &Files) -> (String, i32) {
    let el = ElectionManifest::parse(std::str::from_utf8(&files["election.txt"]).unwrap());
    // with election.txt intact, the key from it; the vectors that alter it have no python run
    let key = el.unwrap().machine_key(STATION, 0).unwrap();
    let out = Command::new("python3")
        .current_dir(dir.join("package"))
        .args([
            crate::common::root()
                .join("tools/verify_ledger.py")
                .to_str()
                .unwrap(),
            &ledger_name(),
            "--heads",
            "heads.txt",
            "--checkpoints",
            &checkpoints_file_name(STATION, 0),
            "--key",
            &tamga::ledger::to_hex(&key),
            "--proofs",
            "proofs.csv",
        ])
        .output()
        .expect("python3 is required to run tools/verify_ledger.py");
    (
        String::from_utf8(out.stdout).unwrap(),
        out.status.code().unwrap_or(-1),
    )
}

/// Every file of a vector directory: relative name → bytes.
fn read_tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

#[test]
fn tampering_vectors_are_current_and_give_their_expected_findings() {
    let bless = std::env::var_os("TAMGA_BLESS").is_some();
    let root = data("tampering");
    let tmp = std::env::temp_dir().join(format!("tamga-tampering-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let vectors = vectors();
    let mut names = Vec::new();
    for vec in &vectors {
        names.push(vec.name);
        // the vector as built now, in a scratch directory
        let dir = tmp.join(vec.name);
        for (rel, bytes) in &vec.files {
            let p = dir.join("package").join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, bytes).unwrap();
        }
        let mut witness_names = Vec::new();
        for (n, text) in &vec.witnesses {
            let p = dir.join("evidence").join(n);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
            witness_names.push(n.clone());
        }
        let (expected, status) = audit_lines(&dir, &witness_names);
        let found: Vec<&str> = expected
            .lines()
            .skip(1)
            .map(|l| l.split('\t').nth(1).unwrap())
            .collect();
        for code in vec.must {
            assert!(
                found.contains(code),
                "{}: {code} not in\n{expected}",
                vec.name
            );
        }
        let clean = vec.must.is_empty();
        assert_eq!(
            status,
            if clean { 0 } else { 1 },
            "{}\n{expected}",
            vec.name
        );
        std::fs::write(dir.join("expected.tsv"), &expected).unwrap();
        if !witness_names.is_empty() {
            // the package alone: what the evidence adds
            let (alone, _) = audit_lines(&dir, &[]);
            std::fs::write(dir.join("expected-package-alone.tsv"), &alone).unwrap();
        }
        if let Some(must_fail) = vec.python {
            let (text, status) = python_lines(&dir, &vec.files);
            assert_eq!(
                status,
                if must_fail { 1 } else { 0 },
                "{}: verify_ledger.py\n{text}",
                vec.name
            );
            std::fs::write(dir.join("expected-verify-ledger.txt"), &text).unwrap();
        }
        let built = read_tree(&dir);
        let target = root.join(vec.name);
        if bless {
            let _ = std::fs::remove_dir_all(&target);
            for (rel, bytes) in &built {
                let p = target.join(rel);
                std::fs::create_dir_all(p.parent().unwrap()).unwrap();
                std::fs::write(p, bytes).unwrap();
            }
        } else {
            let committed = read_tree(&target);
            assert_eq!(
                committed.keys().collect::<Vec<_>>(),
                built.keys().collect::<Vec<_>>(),
                "{}: the committed vector's files differ from the built one's; run TAMGA_BLESS=1 cargo test --test it tampering_vectors and review the diff",
                vec.name
            );
            for (rel, bytes) in &built {
                assert!(
                    committed[rel] == *bytes,
                    "{}/{rel} differs from what the vectors' recipe builds now; run TAMGA_BLESS=1 cargo test --test it tampering_vectors and review the diff",
                    vec.name
                );
            }
        }
    }
    let _ = std::fs::remove_dir_all(&tmp);
    assert_eq!(names, vectors_names());
    // the README lists every vector, and every directory is a vector
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    for n in &names {
        assert!(readme.contains(&format!("`{n}`")), "README.md lacks {n}");
    }
    for e in std::fs::read_dir(&root).unwrap() {
        let e = e.unwrap();
        if e.path().is_dir() {
            let n = e.file_name().to_string_lossy().into_owned();
            assert!(names.contains(&n.as_str()), "{n} is no vector");
        }
    }
}

#[test]
fn every_tampering_row_has_a_vector() {
    let doc = std::fs::read_to_string(crate::common::root().join("docs/tampering.md")).unwrap();
    let readme = std::fs::read_to_string(data("tampering/README.md")).unwrap();
    let names: Vec<&str> = vectors_names();
    // every vector the doc's tables name exists, and each is in the README
    for n in doc
        .split("`tests/data/tampering/")
        .skip(1)
        .map(|s| s.split('`').next().unwrap().trim_end_matches('/'))
        .filter(|n| !n.is_empty())
    {
        assert!(names.contains(&n), "docs/tampering.md names {n}, no vector");
        assert!(readme.contains(&format!("`{n}`")));
    }
    // and every row of the first two tables names one
    for line in doc
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| tampering"))
    {
        if line.starts_with("|---") {
            continue;
        }
        assert!(
            line.contains("tests/data/tampering/"),
            "a row of docs/tampering.md names no vector: {line}"
        );
    }
}

/// The vectors' names without building them.
fn vectors_names() -> Vec<&'static str> {
    vec![
        "honest",
        "modify-in-place",
        "choice-out-of-range",
        "delete-entry",
        "insert-entry",
        "reorder-entries",
        "truncate-tail",
        "truncate-and-reseal",
        "rewrite-and-recompute",
        "rewrite-and-forge-head",
        "append-after-close",
        "rewrite-with-every-key",
        "compromised-machine-key",
        "drop-checkpoint",
        "split-view",
        "machine-stuffing",
        "drop",
        "flip",
        "alter-protocol",
        "alter-aggregate",
        "relabel-parties",
        "relabel-parties-in-election-txt",
        "move-station",
        "drop-district",
    ]
}

/// The dialect rules of package-format.md ("Text and CSV dialect"): the CSV files accept a UTF-8
/// byte-order mark, CRLF line ends and blank lines (their values are what is checked; nothing
/// hashes their bytes), while the files whose bytes are hashed or signed — `heads.txt`,
/// `election.txt` — are read strictly and any of these is a finding.
#[test]
fn csv_files_are_read_leniently_and_hashed_files_strictly() {
    let honest = data("tampering/honest/package");
    let tmp = std::env::temp_dir().join(format!("tamga-dialect-{}", std::process::id()));
    type Edit = fn(&[u8]) -> Vec<u8>;
    let edits: [(&str, Edit); 3] = [
        ("bom", |s| [b"\xef\xbb\xbf".as_slice(), s].concat()),
        ("crlf", |s| {
            String::from_utf8(s.to_vec())
                .unwrap()
                .replace('\n', "\r\n")
                .into_bytes()
        }),
        ("blank", |s| {
            String::from_utf8(s.to_vec())
                .unwrap()
                .replacen('\n', "\n\n", 2)
                .into_bytes()
        }),
    ];
    for (file, strict) in [
        ("protocols.csv", None),
        ("aggregates.csv", None),
        ("receipts.csv", None),
        ("proofs.csv", None),
        ("heads.txt", Some("heads.malformed")),
        ("election.txt", Some("election.malformed")),
    ] {
        for (name, edit) in &edits {
            let _ = std::fs::remove_dir_all(&tmp);
            for (rel, bytes) in read_tree(&honest) {
                let p = tmp.join(&rel);
                std::fs::create_dir_all(p.parent().unwrap()).unwrap();
                let bytes = if rel == file { edit(&bytes) } else { bytes };
                std::fs::write(p, bytes).unwrap();
            }
            let out = Command::new(BIN)
                .args(["audit", tmp.to_str().unwrap(), "--json"])
                .output()
                .unwrap();
            let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            let codes: Vec<&str> = doc["findings"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f["code"].as_str().unwrap())
                .collect();
            match strict {
                None => assert!(codes.is_empty(), "{file} {name}: {codes:?}"),
                Some(code) => assert!(codes.contains(&code), "{file} {name}: {codes:?}"),
            }
        }
    }
    let _ = std::fs::remove_dir_all(&tmp);
}
