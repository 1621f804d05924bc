//! `tamga simulate` and `tamga audit` on the real binary: a clean package audits clean, and each
//! kind of tampering (ledger byte, truncation, dropped entry, heads, protocol, aggregate, forged
//! receipt, missing ledger) is found and located; unusable input exits 2.

use crate::common::{tamga, tutorial};
use std::fs;
use std::path::{Path, PathBuf};

/// Simulates the tutorial into `dir/name` and returns the package path.
fn simulate(dir: &Path, name: &str, seed: u64) -> PathBuf {
    let out = dir.join(name);
    tamga()
        .arg("simulate")
        .arg(tutorial())
        .args(["--seed", &seed.to_string(), "--out"])
        .arg(&out)
        .assert()
        .success();
    out
}

struct Audit {
    code: i32,
    stdout: String,
    json: serde_json::Value,
}

/// Runs `tamga audit` twice (text and `--json`); both must agree on the exit code.
fn audit(pkg: &Path) -> Audit {
    let text = tamga().arg("audit").arg(pkg).output().unwrap();
    let json = tamga()
        .arg("audit")
        .arg("--json")
        .arg(pkg)
        .output()
        .unwrap();
    let code = text.status.code().unwrap();
    assert_eq!(code, json.status.code().unwrap());
    let json = if code == 2 {
        serde_json::Value::Null
    } else {
        serde_json::from_slice(&json.stdout).unwrap()
    };
    Audit {
        code,
        stdout: String::from_utf8(text.stdout).unwrap(),
        json,
    }
}

impl Audit {
    fn codes(&self) -> Vec<String> {
        self.json["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["code"].as_str().unwrap().to_string())
            .collect()
    }
    fn has(&self, code: &str) -> bool {
        self.codes().iter().any(|c| c == code)
    }
    fn findings_with(&self, code: &str) -> Vec<serde_json::Value> {
        self.json["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["code"] == code)
            .cloned()
            .collect()
    }
}

/// (station, n_ballots) of the first published head with at least `min` ballots.
fn machine_with_ballots(pkg: &Path, min: u64) -> (u32, u64) {
    let heads = fs::read_to_string(pkg.join("heads.txt")).unwrap();
    heads
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            (f[0].parse().unwrap(), f[2].parse().unwrap())
        })
        .find(|&(_, n)| n >= min)
        .expect("a machine with enough ballots")
}

fn ledger(pkg: &Path, station: u32) -> PathBuf {
    pkg.join("ledgers")
        .join(format!("station-{station:05}-m0.tgl"))
}

/// Byte offset of ballot entry `j` (1-based) in a ledger file.
fn ballot_offset(j: u64) -> usize {
    10 + 102 + 44 * (j as usize - 1)
}

#[test]
fn honest_package_audits_clean() {
    let dir = tempfile::tempdir().unwrap();
    let pkg = simulate(dir.path(), "pkg", 7);
    for f in [
        "manifest.json",
        "heads.txt",
        "protocols.csv",
        "aggregates.csv",
        "receipts.csv",
        "truth/protocols.csv",
        "truth/receipts.csv",
        "truth/machines.csv",
        "truth/fraud.csv",
    ] {
        assert!(pkg.join(f).is_file(), "{f} missing");
    }
    let a = audit(&pkg);
    assert_eq!(a.code, 0, "{}", a.stdout);
    assert!(a.stdout.contains("clean"), "{}", a.stdout);
    assert_eq!(a.json["clean"], true);
    assert_eq!(a.json["findings"].as_array().unwrap().len(), 0);
    let manifest: serde_json::Value =
        serde_json::from_slice(&fs::read(pkg.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["format"], "tamga-package");
    assert_eq!(manifest["seed"], 7);
    assert_eq!(manifest["variant"], "honest");
    let checked = &a.json["checked"];
    assert_eq!(checked["ledgers"], manifest["counts"]["machines"]);
    assert_eq!(checked["ballots"], manifest["counts"]["electronic"]);
    assert_eq!(checked["protocols"], manifest["counts"]["stations"]);
    assert!(checked["ledgers"].as_u64().unwrap() > 0);
    assert!(checked["receipts"].as_u64().unwrap() > 0);
    // no temporary directory is left beside the package
    let siblings: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(siblings.len(), 1);
}

#[test]
fn flipped_ledger_byte_is_found_at_its_station_and_entry() {
    let dir = tempfile::tempdir().unwrap();
    let pkg = simulate(dir.path(), "pkg", 7);
    let (station, _) = machine_with_ballots(&pkg, 10);
    let path = ledger(&pkg, station);
    let mut bytes = fs::read(&path).unwrap();
    // the district-candidate byte of ballot 5: a changed vote
    bytes[ballot_offset(5) + 11] ^= 0x01;
    fs::write(&path, bytes).unwrap();
    let a = audit(&pkg);
    assert_eq!(a.code, 1, "{}", a.stdout);
    assert!(
        a.stdout.contains(&format!("station {station} machine 0")),
        "{}",
        a.stdout
    );
    let broken = a.findings_with("ledger.broken-link");
    assert_eq!(broken.len(), 1, "{}", a.stdout);
    assert_eq!(broken[0]["station"], station);
    assert_eq!(broken[0]["entry"], 5);
    assert_eq!(broken[0]["offset"], ballot_offset(5) as u64);
    assert!(a.has("ledger.head-mismatch"), "{}", a.stdout);
}

#[test]
fn truncated_ledger_is_found() {
    let dir = tempfile::tempdir().unwrap();
    let pkg = simulate(dir.path(), "pkg", 7);
    let (station, _) = machine_with_ballots(&pkg, 10);
    let path = ledger(&pkg, station);
    let bytes = fs::read(&path).unwrap();
    fs::write(&path, &bytes[..bytes.len() - 100]).unwrap();
    let a = audit(&pkg);
    assert_eq!(a.code, 1, "{}", a.stdout);
    assert!(a.has("ledger.truncated"), "{:?}", a.codes());
    assert!(a.has("ledger.head-mismatch"), "{:?}", a.codes());
    assert!(a.stdout.contains(&format!("station {station}")));
}

#[test]
fn dropped_entry_is_found() {
    let dir = tempfile::tempdir().unwrap();
    let pkg = simulate(dir.path(), "pkg", 7);
    let (station, n) = machine_with_ballots(&pkg, 10);
    let path = ledger(&pkg, station);
    let mut bytes = fs::read(&path).unwrap();
    let at = ballot_offset(3);
    bytes.drain(at..at + 44);
    fs::write(&path, bytes).unwrap();
    let a = audit(&pkg);
    assert_eq!(a.code, 1, "{}", a.stdout);
    for code in [
        "ledger.sequence",
        "ledger.broken-link",
        "ledger.close-count",
        "ledger.published-count",
        "ledger.head-mismatch",
        "ledger.protocol-count",
    ] {
        assert!(a.has(code), "{code} missing: {:?}", a.codes());
    }
    // every later entry carries a shifted sequence number: one finding with the range
    let seq = a.findings_with("ledger.sequence");
    assert_eq!(seq.len(), 1, "{}", a.stdout);
    assert_eq!(seq[0]["entry"], 3);
    assert_eq!(seq[0]["last_entry"], n); // the close record, now at position n
    let count = a.findings_with("ledger.protocol-count");
    assert!(
        count[0]["what"]
            .as_str()
            .unwrap()
            .contains(&format!("{}", n - 1))
    );
}

#[test]
fn deleted_or_changed_head_is_found() {
    let dir = tempfile::tempdir().unwrap();
    let pkg = simulate(dir.path(), "pkg", 7);
    let heads = fs::read_to_string(pkg.join("heads.txt")).unwrap();
    let lines: Vec<&str> = heads.lines().collect();
    let station: u32 = lines[1].split(' ').next().unwrap().parse().unwrap();

    // delete the first machine's line
    let mut without: String = lines
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != 1)
        .map(|(_, l)| format!("{l}\n"))
        .collect();
    fs::write(pkg.join("heads.txt"), &without).unwrap();
    let a = audit(&pkg);
    assert_eq!(a.code, 1, "{}", a.stdout);
    let f = a.findings_with("ledger.no-published-head");
    assert_eq!(f.len(), 1, "{}", a.stdout);
    assert_eq!(f[0]["station"], station);

    // change a head's last hex digit instead
    let mut changed: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    let last = changed[1].pop().unwrap();
    changed[1].push(if last == '0' { '1' } else { '0' });
    without = changed.iter().map(|l| format!("{l}\n")).collect();
    fs::write(pkg.join("heads.txt"), &without).unwrap();
    let a = audit(&pkg);
    assert_eq!(a.code, 1, "{}", a.stdout);
    let f = a.findings_with("ledger.head-mismatch");
    assert_eq!(f.len(), 1, "{}", a.stdout);
    assert_eq!(f[0]["station"], station);
}

/// Adds `delta` to the last field of the first row of `path` that `pred` accepts; returns the row.
fn edit_row(path: &Path, pred: impl Fn(&[&str]) -> bool, delta: i64) -> String {
    let text = fs::read_to_string(path).unwrap();
    let mut done = None;
    let out: String = text
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            if done.is_none() && pred(&f) {
                let v: i64 = f.last().unwrap().parse().unwrap();
                let mut g: Vec<String> = f.iter().map(|s| s.to_string()).collect();
                *g.last_mut().unwrap() = (v + delta).to_string();
                done = Some(l.to_string());
                format!("{}\n", g.join(","))
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    fs::write(path, out).unwrap();
    done.expect("a row to edit")
}

#[test]
fn edited_protocol_number_is_found() {
    let dir = tempfile::tempdir().unwrap();
    let pkg = simulate(dir.path(), "pkg", 7);
    let (station, _) = machine_with_ballots(&pkg, 10);
    let st = station.to_string();
    // one vote less in the machine part: the protocol no longer reports what the ledger holds
    edit_row(
        &pkg.join("protocols.csv"),
        |f| f[0] == st && f[3] == "machine-list" && f[4] == "green" && f[5] != "0",
        -1,
    );
    // and a paper list vote at a station without machine
    edit_row(
        &pkg.join("protocols.csv"),
        |f| f[0] == "0" && f[3] == "list" && f[4] == "blue",
        5,
    );
    let a = audit(&pkg);
    assert_eq!(a.code, 1, "{}", a.stdout);
    for code in [
        "ledger.protocol-totals",
        "protocol.machine-list-sum",
        "protocol.list-sum",
        "aggregate.mismatch",
    ] {
        assert!(a.has(code), "{code} missing: {:?}", a.codes());
    }
    let t = a.findings_with("ledger.protocol-totals");
    assert_eq!(t[0]["station"], station);
    let s = a.findings_with("protocol.list-sum");
    assert_eq!(s[0]["station"], 0);
    assert!(s[0]["line"].as_u64().is_some());
}

#[test]
fn edited_aggregate_is_found_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let pkg = simulate(dir.path(), "pkg", 7);
    edit_row(
        &pkg.join("aggregates.csv"),
        |f| f[0] == "national" && f[2] == "list" && f[3] == "red",
        1000,
    );
    let a = audit(&pkg);
    assert_eq!(a.code, 1, "{}", a.stdout);
    assert_eq!(a.codes(), vec!["aggregate.mismatch"], "{}", a.stdout);
    let f = &a.findings_with("aggregate.mismatch")[0];
    assert_eq!(f["line"].as_u64(), Some(7));
    assert!(f["what"].as_str().unwrap().contains("national list red"));
}

#[test]
fn forged_receipt_is_found() {
    let dir = tempfile::tempdir().unwrap();
    let pkg = simulate(dir.path(), "pkg", 7);
    let (station, _) = machine_with_ballots(&pkg, 1);
    let mut receipts = fs::read_to_string(pkg.join("receipts.csv")).unwrap();
    let n_lines = receipts.lines().count() as u64;
    receipts.push_str(&format!("{station},0,ZZZZ-ZZZZ\n"));
    fs::write(pkg.join("receipts.csv"), receipts).unwrap();
    let a = audit(&pkg);
    assert_eq!(a.code, 1, "{}", a.stdout);
    let f = a.findings_with("receipt.not-found");
    assert_eq!(f.len(), 1, "{}", a.stdout);
    assert_eq!(f[0]["station"], station);
    assert_eq!(f[0]["line"].as_u64(), Some(n_lines + 1));
    assert!(a.stdout.contains("ZZZZ-ZZZZ"));
}

#[test]
fn every_finding_is_listed_not_just_the_first() {
    let dir = tempfile::tempdir().unwrap();
    let pkg = simulate(dir.path(), "pkg", 7);
    let heads = fs::read_to_string(pkg.join("heads.txt")).unwrap();
    let stations: Vec<u32> = heads
        .lines()
        .skip(1)
        .map(|l| l.split(' ').next().unwrap().parse().unwrap())
        .collect();
    assert!(stations.len() >= 3);
    // three machines tampered three ways, plus a missing ledger
    let p0 = ledger(&pkg, stations[0]);
    let mut b = fs::read(&p0).unwrap();
    b[ballot_offset(1) + 9] ^= 0x01;
    fs::write(&p0, b).unwrap();
    let p1 = ledger(&pkg, stations[1]);
    let b = fs::read(&p1).unwrap();
    fs::write(&p1, &b[..b.len() - 1]).unwrap();
    let p2 = ledger(&pkg, stations[2]);
    let mut b = fs::read(&p2).unwrap();
    b.push(0);
    fs::write(&p2, b).unwrap();
    fs::remove_file(ledger(&pkg, stations[3])).unwrap();
    let a = audit(&pkg);
    assert_eq!(a.code, 1);
    let located = |code: &str, station: u32| {
        a.findings_with(code)
            .iter()
            .any(|f| f["station"] == station)
    };
    assert!(located("ledger.broken-link", stations[0]), "{}", a.stdout);
    assert!(located("ledger.truncated", stations[1]), "{}", a.stdout);
    assert!(located("ledger.trailing-data", stations[2]), "{}", a.stdout);
    assert!(located("ledger.missing", stations[3]), "{}", a.stdout);
    // every finding says what, where and what it means
    for f in a.json["findings"].as_array().unwrap() {
        assert!(!f["what"].as_str().unwrap().is_empty());
        assert!(!f["meaning"].as_str().unwrap().is_empty());
        assert!(!f["file"].as_str().unwrap().is_empty());
    }
    assert!(a.stdout.contains("means: "));
}

#[test]
fn missing_manifest_or_directory_is_unusable_input() {
    let dir = tempfile::tempdir().unwrap();
    let pkg = simulate(dir.path(), "pkg", 7);
    fs::remove_file(pkg.join("manifest.json")).unwrap();
    let out = tamga().arg("audit").arg(&pkg).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("manifest.json"), "{err}");
    assert!(!err.contains("panicked"));

    let out = tamga()
        .arg("audit")
        .arg(dir.path().join("nowhere"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));

    fs::write(pkg.join("manifest.json"), "{ not json").unwrap();
    let out = tamga().arg("audit").arg(&pkg).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn simulate_refuses_a_non_empty_directory() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("pkg");
    fs::create_dir(&out).unwrap();
    fs::write(out.join("keep.txt"), "mine").unwrap();
    let o = tamga()
        .arg("simulate")
        .arg(tutorial())
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8(o.stderr).unwrap().contains("not empty"));
    assert_eq!(fs::read_to_string(out.join("keep.txt")).unwrap(), "mine");
    assert_eq!(fs::read_dir(&out).unwrap().count(), 1);
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);

    // an existing empty directory is fine
    let empty = dir.path().join("empty");
    fs::create_dir(&empty).unwrap();
    tamga()
        .arg("simulate")
        .arg(tutorial())
        .arg("--out")
        .arg(&empty)
        .assert()
        .success();
    assert!(empty.join("manifest.json").is_file());
}

#[test]
fn bad_simulate_arguments_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    for extra in [vec!["--variant", "nope"], vec!["--receipt-rate", "1.5"]] {
        let o = tamga()
            .arg("simulate")
            .arg(tutorial())
            .args(&extra)
            .arg("--out")
            .arg(dir.path().join("pkg"))
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{extra:?}");
        assert!(!dir.path().join("pkg").exists());
    }
    // nothing half-written is left behind
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
}

/// Every file under `dir`, relative path → bytes.
fn tree(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push((
                    p.strip_prefix(dir).unwrap().to_path_buf(),
                    fs::read(&p).unwrap(),
                ));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn same_seed_gives_byte_identical_packages() {
    let dir = tempfile::tempdir().unwrap();
    let a = tree(&simulate(dir.path(), "a", 7));
    let b = tree(&simulate(dir.path(), "b", 7));
    assert!(a.len() > 8);
    assert_eq!(a.len(), b.len());
    for ((pa, ba), (pb, bb)) in a.iter().zip(&b) {
        assert_eq!(pa, pb);
        assert!(ba == bb, "{} differs", pa.display());
    }
    // and another seed gives another election
    let c = tree(&simulate(dir.path(), "c", 8));
    let protocols = |t: &[(PathBuf, Vec<u8>)]| {
        t.iter()
            .find(|(p, _)| p == Path::new("protocols.csv"))
            .unwrap()
            .1
            .clone()
    };
    assert_ne!(protocols(&a), protocols(&c));
}

/// The tutorial with a third variant whose machines' ledgers are rewritten after close and whose
/// regional totals are shifted at tabulation.
const RIGGED: &str = r#"
[[variant]]
name = "rigged"
description = "ledgers rewritten after close, regional totals shifted at tabulation"
[[variant.fraud]]
kind = "ledger_rewrite"
beneficiary = "blue"
entries = 5
station_kind = "electronic"
[[variant.fraud]]
kind = "aggregate"
beneficiary = "blue"
share = 0.05
"#;

#[test]
fn simulated_fraud_is_published_and_the_audit_finds_it() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("rigged.toml");
    let mut text = fs::read_to_string(tutorial()).unwrap();
    text.push_str(RIGGED);
    fs::write(&scenario, text).unwrap();
    let pkg = dir.path().join("pkg");
    tamga()
        .arg("simulate")
        .arg(&scenario)
        .args(["--variant", "rigged", "--seed", "7", "--out"])
        .arg(&pkg)
        .assert()
        .success();
    let a = audit(&pkg);
    assert_eq!(a.code, 1, "{}", a.stdout);
    let machines = a.json["checked"]["ledgers"].as_u64().unwrap() as usize;
    assert!(machines > 0);
    // every rewritten ledger differs from its head published at close
    assert_eq!(a.findings_with("ledger.head-mismatch").len(), machines);
    assert!(a.has("receipt.not-found"));
    // the shifted totals no longer add up, nationally too
    assert!(a.findings_with("aggregate.mismatch").iter().any(|f| {
        f["what"]
            .as_str()
            .unwrap()
            .starts_with("national list blue")
    }));
    // the commission made its protocols match the rewritten machines: nothing to see there
    assert!(!a.codes().iter().any(|c| c.starts_with("protocol.")));
    assert!(!a.has("ledger.protocol-totals"));
    // and the ground truth says what was done
    let trace = fs::read_to_string(pkg.join("truth/fraud.csv")).unwrap();
    assert!(
        trace.contains(&format!("ledgers_tampered,{machines}\n")),
        "{trace}"
    );
    let truth = fs::read_to_string(pkg.join("truth/machines.csv")).unwrap();
    assert_eq!(
        truth.lines().filter(|l| l.ends_with(",true")).count(),
        machines
    );
}
