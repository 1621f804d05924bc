//! `tamga forensics` on the real binary: the Russia 2011 report, `--json`, `--out` (JSON + a
//! self-contained HTML page), reproducibility, and the one-line errors with exit code 2 for
//! malformed input and an ambiguous leader. Fixtures: `tests/data/forensics/`. The Russian data
//! comes from `../shared/data`; its absence FAILS the test (never a silent pass).

use crate::common::{data, election, tamga};
use predicates::prelude::*;

/// A real election's file, as an argument.
fn shared(name: &str) -> String {
    election(name).display().to_string()
}

/// A file of `tests/data/forensics/`, as an argument.
fn fixture(name: &str) -> String {
    data(&format!("forensics/{name}")).display().to_string()
}

/// Reduced effort so the suite stays quick; the numbers checked do not depend on it.
const QUICK: [&str; 4] = ["--replicates", "2", "--digit-sims", "20"];

#[test]
fn russia_2011_text_report() {
    let out = tamga()
        .args(["forensics", &shared("russia-2011-duma")])
        .args(["--leader", "ЕДИНАЯ РОССИЯ"])
        .args(QUICK)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    // The leader, the station counts and Kobak et al.'s observed integer stations (17,803).
    for needle in [
        "ЕДИНАЯ РОССИЯ",
        "95,225 read, 91,082 analysed",
        "4,142  registered < 100",
        "either       17,803",
        "Klimek fraud model (",
        "f_i = ",
        "Reading",
        "votes in question",
        "Shpilkin's clean-peak estimate",
        "Digit tests",
        "turnout–share slope",
    ] {
        assert!(text.contains(needle), "missing `{needle}` in:\n{text}");
    }
    // The excess is printed with one decimal: 1002.6 (published 1,003).
    assert!(text.contains("+1002.6"), "{text}");
}

#[test]
fn json_and_out_write_the_same_report_and_a_self_contained_page() {
    let dir = tempfile::tempdir().unwrap();
    let outdir = dir.path().join("pl2020");
    let out = tamga()
        .args([
            "forensics",
            &shared("poland-2020-president-r2"),
            "--json",
            "--out",
        ])
        .arg(&outdir)
        .args(QUICK)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).expect("stdout is one JSON document");
    assert_eq!(v["leader"], "Andrzej Sebastian DUDA");
    assert_eq!(v["stations_read"], 27_227);
    assert!(v["integer"]["either"]["expected"].as_f64().unwrap() > 5000.0);
    assert!(v["klimek"]["f_extreme"]["estimate"].as_f64().unwrap() < 0.005);
    // the JSON document leads with the plain-words reading
    let first_key = String::from_utf8_lossy(&out)
        .lines()
        .nth(1)
        .unwrap_or_default()
        .to_string();
    assert!(first_key.contains("\"reading\""), "{first_key}");
    let written = std::fs::read(outdir.join("report.json")).unwrap();
    assert_eq!(written, out, "report.json equals the --json output");
    let html = std::fs::read_to_string(outdir.join("report.html")).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(
        html.matches("<svg").count() >= 5,
        "heat map, two histograms, cumulative, fit"
    );
    for axis in [
        "Turnout (%)",
        "Leader&#39;s share of ballots (%)",
        "Cumulative votes (millions)",
    ] {
        assert!(html.contains(axis), "axis label `{axis}`");
    }
    // Self-contained: nothing is fetched.
    assert!(!html.contains("http://") && !html.contains("https://"));
    for attr in ["src=", "href=", "<script", "<link", "@import", "url("] {
        assert!(!html.contains(attr), "external reference `{attr}`");
    }
}

#[test]
fn same_seed_same_bytes_whatever_the_threads() {
    let run = |threads: &str, seed: &str| {
        tamga()
            .args(["forensics", &fixture("small.csv"), "--json"])
            .args(["--threads", threads, "--seed", seed])
            .args(QUICK)
            .assert()
            .success()
            .get_output()
            .stdout
            .clone()
    };
    let a = run("1", "5");
    assert_eq!(a, run("2", "5"));
    assert_ne!(a, run("2", "6"));
}

fn fails_with_one_line(args: &[&str], needles: &[&str]) {
    let assert = tamga().args(args).assert().code(2).stdout("");
    let err = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    for n in needles {
        assert!(err.contains(n), "`{n}` missing from: {err}");
    }
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn malformed_number_names_row_and_column() {
    fails_with_one_line(
        &["forensics", &fixture("bad_number.csv")],
        &[
            "bad_number.csv",
            "row 4",
            "column `issued`",
            "`12a`",
            "correct the value",
        ],
    );
}

#[test]
fn short_row_names_row_and_field_count() {
    fails_with_one_line(
        &["forensics", &fixture("short_row.csv")],
        &["row 3", "9 fields but the header has 10"],
    );
}

#[test]
fn bad_header_names_the_column() {
    fails_with_one_line(
        &["forensics", &fixture("bad_header.csv")],
        &[
            "row 1 (header), column 4",
            "expected `registered`",
            "`voters`",
        ],
    );
}

#[test]
fn ambiguous_or_unknown_leader_is_an_error() {
    fails_with_one_line(
        &["forensics", &fixture("small.csv"), "--leader", "party"],
        &["ambiguous", "Party A", "Party B"],
    );
    fails_with_one_line(
        &["forensics", &fixture("small.csv"), "--leader", "Nobody"],
        &["matches no option", "Party A | Party B | Other"],
    );
}

#[test]
fn missing_file_is_an_error() {
    fails_with_one_line(
        &["forensics", &fixture("no-such-file.csv")],
        &["cannot open", "no-such-file.csv", "check the path"],
    );
}

#[test]
fn leader_defaults_to_the_largest_total() {
    tamga()
        .args(["forensics", &fixture("small.csv")])
        .args(QUICK)
        .assert()
        .success()
        .stdout(predicate::str::contains("Leader: Party A (largest total)"));
}
