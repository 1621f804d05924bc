//! `tamga run` and `tamga check` on the real binary.

use crate::common::{scenario, tamga, tutorial};
use predicates::prelude::*;

#[test]
fn run_writes_summary_and_runs_and_prints_a_table() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    tamga()
        .args(["run", "--runs", "6", "--detail", "--out"])
        .arg(&out)
        .arg(tutorial())
        .assert()
        .success()
        .stdout(predicate::str::contains("variant honest"))
        .stdout(predicate::str::contains("Blue Party"))
        .stdout(predicate::str::contains("summary.json"))
        .stdout(predicate::str::contains("report.html"));
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["format"], "tamga-summary");
    assert_eq!(summary["provenance"]["runs"], 6);
    assert_eq!(summary["provenance"]["seed"], 42);
    assert_eq!(
        summary["provenance"]["scenario_digest"]
            .as_str()
            .unwrap()
            .len(),
        64
    );
    let csv = std::fs::read_to_string(out.join("runs.csv")).unwrap();
    // header + 2 variants × 6 runs
    assert_eq!(csv.lines().count(), 13);
    assert!(csv.starts_with("variant,run,registered,ballots,turnout"));
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>") && html.ends_with("</html>\n"));
    for id in [
        "seats-honest",
        "hist-honest-turnout",
        "hist-green-surge-share-red",
        "fingerprint-green-surge",
    ] {
        assert!(html.contains(&format!("<svg id=\"{id}\"")), "no plot {id}");
    }
    assert!(!html.contains("http://") && !html.contains("https://"));
}

#[test]
fn report_names_a_variant_subset_only() {
    let dir = tempfile::tempdir().unwrap();
    tamga()
        .args(["run", "--runs", "3", "--variant", "green-surge", "--out"])
        .arg(dir.path())
        .arg(tutorial())
        .assert()
        .success();
    let html = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    assert!(html.contains("id=\"variant-green-surge\""));
    assert!(!html.contains("id=\"variant-honest\""));
    // the plots of the one variant, with its own ids
    assert_eq!(html.matches("class=\"plot seats\"").count(), 1);
    assert_eq!(html.matches("class=\"plot heatmap\"").count(), 1);
}

#[test]
fn table_fits_80_columns() {
    let dir = tempfile::tempdir().unwrap();
    let assert = tamga()
        .args(["run", "--runs", "3", "--detail", "--out"])
        .arg(dir.path())
        .arg(scenario("kazakhstan-2004.toml"))
        .assert()
        .success();
    let stdout = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
    for line in stdout.lines() {
        if line.starts_with("wrote ") {
            continue; // the file paths may be long
        }
        assert!(line.chars().count() <= 80, "too wide: {line}");
    }
}

#[test]
fn json_flag_prints_the_summary() {
    let dir = tempfile::tempdir().unwrap();
    let assert = tamga()
        .args(["run", "--runs", "2", "--json", "--out"])
        .arg(dir.path())
        .arg(tutorial())
        .assert()
        .success();
    let v: serde_json::Value = serde_json::from_slice(&assert.get_output().stdout).unwrap();
    assert_eq!(v["variants"].as_array().unwrap().len(), 2);
}

#[test]
fn same_seed_same_files_with_one_and_two_threads() {
    let dir = tempfile::tempdir().unwrap();
    let mut outputs = Vec::new();
    for threads in ["1", "2"] {
        let out = dir.path().join(threads);
        tamga()
            .args([
                "run",
                "--runs",
                "8",
                "--seed",
                "99",
                "--threads",
                threads,
                "--out",
            ])
            .arg(&out)
            .arg(tutorial())
            .assert()
            .success();
        outputs.push((
            std::fs::read(out.join("summary.json")).unwrap(),
            std::fs::read(out.join("runs.csv")).unwrap(),
            std::fs::read(out.join("report.html")).unwrap(),
        ));
    }
    assert!(outputs[0].2.len() > 10_000, "a report with plots");
    assert_eq!(
        outputs[0], outputs[1],
        "same seed, same summary, runs and report bytes"
    );
}

#[test]
fn check_accepts_bundled_scenarios() {
    for s in ["tutorial.toml", "kazakhstan-2004.toml"] {
        tamga()
            .arg("check")
            .arg(scenario(s))
            .assert()
            .success()
            .stdout(predicate::str::contains("valid"));
    }
}

#[test]
fn check_lists_every_problem_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    let text = std::fs::read_to_string(tutorial())
        .unwrap()
        .replace("seats = 20", "seats = 0")
        .replace("station_sd = 0.3", "staton_sd = 0.3");
    std::fs::write(&bad, text).unwrap();
    tamga()
        .arg("check")
        .arg(&bad)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("2 problem(s)"))
        .stderr(predicate::str::contains(
            "system.list.seats: 0 is out of range",
        ))
        .stderr(predicate::str::contains("turnout.staton_sd: unknown key"))
        .stderr(predicate::str::contains("panicked").not());
    let assert = tamga().args(["check", "--json"]).arg(&bad).assert().code(2);
    let v: serde_json::Value = serde_json::from_slice(&assert.get_output().stdout).unwrap();
    assert_eq!(v["valid"], false);
    assert_eq!(v["problems"].as_array().unwrap().len(), 2);
}

#[test]
fn missing_file_is_one_clear_line() {
    let assert = tamga()
        .args(["run", "no/such/scenario.toml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "cannot read scenario no/such/scenario.toml",
        ));
    let stderr = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
}

#[test]
fn unknown_variant_is_an_error() {
    tamga()
        .args(["run", "--variant", "nope"])
        .arg(tutorial())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no variant `nope`"))
        .stderr(predicate::str::contains("honest, green-surge"));
}

#[test]
fn invalid_scenario_does_not_run() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "format = 1\n").unwrap();
    let out = dir.path().join("out");
    tamga()
        .arg("run")
        .arg(&bad)
        .arg("--out")
        .arg(&out)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("problem(s)"));
    assert!(!out.exists(), "nothing is written for an invalid scenario");
}

#[test]
fn an_unusable_out_path_fails_before_any_run() {
    // a directory cannot be created under a regular file: the error comes at once, not after
    // the 200 Kazakhstan runs of ten variants (minutes of work) that the command asks for
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, "x").expect("file");
    let start = std::time::Instant::now();
    let output = tamga()
        .args(["run", "--out"])
        .arg(file.join("results"))
        .arg(crate::common::scenario("kazakhstan-2004.toml"))
        .output()
        .expect("runs");
    let secs = start.elapsed().as_secs_f64();
    assert_eq!(output.status.code(), Some(2));
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(err.contains("cannot create output directory"), "{err}");
    assert!(err.contains("--out"), "{err}");
    assert!(
        secs < 20.0,
        "failed only after {secs:.1} s: the runs went first"
    );
    assert_eq!(std::fs::read(&file).expect("file"), b"x");
}
