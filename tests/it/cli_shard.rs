//! Sharding, merging, interruption and `tamga bench` on the real binary.

use crate::common::{BIN, scenario, tamga};
use predicates::prelude::*;
use std::path::{Path, PathBuf};

const RUNS: &str = "7";

pub(crate) fn run_full(out: &Path, threads: &str) {
    tamga()
        .args(["run", "--runs", RUNS, "--threads", threads, "--out"])
        .arg(out)
        .arg(scenario("tutorial.toml"))
        .assert()
        .success()
        // stderr is not a terminal here: no progress bar, nothing at all
        .stderr(predicate::str::is_empty());
}

fn run_shard(out: &Path, threads: &str, shard: &str, extra: &[&str]) {
    tamga()
        .args([
            "run",
            "--runs",
            RUNS,
            "--threads",
            threads,
            "--shard",
            shard,
        ])
        .args(extra)
        .arg("--out")
        .arg(out)
        .arg(scenario("tutorial.toml"))
        .assert()
        .success()
        .stderr(predicate::str::is_empty())
        .stdout(predicate::str::contains(format!(
            "part-{}",
            shard.replace('/', "-of-")
        )));
}

/// The outputs a sharded run must reproduce byte for byte: summary.json, runs.csv and
/// fingerprints.csv (report.html too, but it is large; the Slurm test compares it).
pub(crate) fn files(dir: &Path) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    (
        std::fs::read(dir.join("summary.json")).unwrap(),
        std::fs::read(dir.join("runs.csv")).unwrap(),
        std::fs::read(dir.join("fingerprints.csv")).unwrap(),
    )
}

fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|r| {
            r.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

#[test]
fn merged_shards_are_byte_identical_to_an_unsharded_run() {
    let dir = tempfile::tempdir().unwrap();
    let reference = dir.path().join("full-1");
    run_full(&reference, "1");
    let want = files(&reference);
    for threads in ["1", "2"] {
        let full = dir.path().join(format!("full-{threads}-again"));
        run_full(&full, threads);
        assert_eq!(files(&full), want, "unsharded, {threads} thread(s)");
        for n in 1..=3u32 {
            let parts = dir.path().join(format!("parts-{threads}-{n}"));
            for k in 1..=n {
                run_shard(&parts, threads, &format!("{k}/{n}"), &[]);
            }
            assert_eq!(listing(&parts).len(), n as usize);
            let merged = dir.path().join(format!("merged-{threads}-{n}"));
            tamga()
                .arg("merge")
                .arg(&parts)
                .arg("--out")
                .arg(&merged)
                .arg("--detail")
                .assert()
                .success()
                .stdout(predicate::str::contains("variant honest"));
            assert_eq!(files(&merged), want, "{n} shard(s), {threads} thread(s)");
        }
    }
    // the uneven blocks of 7 runs in 3 shards: 2, 2, 3
    let p3: serde_json::Value = serde_json::from_slice(
        &std::fs::read(dir.path().join("parts-1-3/part-3-of-3.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(p3["runs"]["start"], 4);
    assert_eq!(p3["runs"]["end"], 7);
    assert_eq!(p3["runs_total"], 7);
    assert_eq!(p3["outcomes"][0].as_array().unwrap().len(), 3);
    assert_eq!(p3["variants"], serde_json::json!(["honest", "green-surge"]));
    assert_eq!(p3["seed"], 42);
    assert_eq!(p3["tamga_version"], env!("CARGO_PKG_VERSION"));
}

#[test]
fn variant_filter_and_explicit_part_files_merge_too() {
    let dir = tempfile::tempdir().unwrap();
    let full = dir.path().join("full");
    tamga()
        .args(["run", "--runs", "5", "--variant", "green-surge", "--out"])
        .arg(&full)
        .arg(scenario("tutorial.toml"))
        .assert()
        .success();
    let parts = dir.path().join("parts");
    for k in ["1/2", "2/2"] {
        tamga()
            .args([
                "run",
                "--runs",
                "5",
                "--variant",
                "green-surge",
                "--shard",
                k,
            ])
            .arg("--out")
            .arg(&parts)
            .arg(scenario("tutorial.toml"))
            .assert()
            .success();
    }
    let merged = dir.path().join("merged");
    // parts given in reverse order, as files
    tamga()
        .arg("merge")
        .arg(parts.join("part-2-of-2.json"))
        .arg(parts.join("part-1-of-2.json"))
        .args(["--json", "--out"])
        .arg(&merged)
        .assert()
        .success()
        .stdout(predicate::str::contains("\"tamga-summary\""));
    assert_eq!(files(&merged), files(&full));
}

#[test]
fn more_shards_than_runs_leave_empty_parts_that_merge() {
    let dir = tempfile::tempdir().unwrap();
    let full = dir.path().join("full");
    tamga()
        .args(["run", "--runs", "2", "--out"])
        .arg(&full)
        .arg(scenario("tutorial.toml"))
        .assert()
        .success();
    let parts = dir.path().join("parts");
    for k in 1..=3 {
        tamga()
            .args(["run", "--runs", "2", "--shard", &format!("{k}/3"), "--out"])
            .arg(&parts)
            .arg(scenario("tutorial.toml"))
            .assert()
            .success();
    }
    let p1: serde_json::Value =
        serde_json::from_slice(&std::fs::read(parts.join("part-1-of-3.json")).unwrap()).unwrap();
    assert_eq!(p1["runs"], serde_json::json!({"start": 0, "end": 0}));
    let merged = dir.path().join("merged");
    tamga()
        .arg("merge")
        .arg(&parts)
        .arg("--out")
        .arg(&merged)
        .assert()
        .success();
    assert_eq!(files(&merged), files(&full));
}

/// Writes parts 1..=k of n of the tutorial (7 runs) into `dir` with extra arguments.
pub(crate) fn parts(dir: &Path, n: u32, ks: &[u32], extra: &[&str]) {
    for &k in ks {
        run_shard(dir, "1", &format!("{k}/{n}"), extra);
    }
}

pub(crate) fn merge_fails(parts: &[PathBuf], out: &Path, needles: &[&str]) {
    let assert = tamga()
        .arg("merge")
        .args(parts)
        .arg("--out")
        .arg(out)
        .assert()
        .code(2);
    let stderr = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(stderr.starts_with("tamga: "), "{stderr}");
    for n in needles {
        assert!(stderr.contains(n), "`{n}` not in: {stderr}");
    }
    assert!(!out.join("summary.json").exists());
    assert!(!out.join("runs.csv").exists());
}

#[test]
fn missing_overlapping_and_mismatched_parts_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = d.join("out");
    let three = d.join("three");
    parts(&three, 3, &[1, 2, 3], &[]);
    let p = |k: u32| three.join(format!("part-{k}-of-3.json"));

    // a missing middle shard, named by its neighbour
    merge_fails(
        &[p(1), p(3)],
        &out,
        &["no part covers runs 2..4 of 0..7", "part-1-of-3.json"],
    );
    // a missing last shard
    merge_fails(&[p(1), p(2)], &out, &["no part covers runs 4..7 of 0..7"]);
    // a missing first shard
    merge_fails(&[p(2), p(3)], &out, &["no part covers runs 0..2 of 0..7"]);
    // the same part twice
    merge_fails(
        &[p(1), p(2), p(2), p(3)],
        &out,
        &["part-2-of-3.json", "both cover run 2"],
    );
    // overlapping blocks from different shard counts: 1/2 is runs 0..3, 2/3 is runs 2..4
    let two = d.join("two");
    parts(&two, 2, &[1, 2], &[]);
    merge_fails(
        &[two.join("part-1-of-2.json"), p(2), p(3)],
        &out,
        &["part-1-of-2.json", "part-2-of-3.json", "both cover run 2"],
    );
    // a different seed
    let seeded = d.join("seeded");
    parts(&seeded, 3, &[2], &["--seed", "7"]);
    merge_fails(
        &[p(1), seeded.join("part-2-of-3.json"), p(3)],
        &out,
        &["seeded/part-2-of-3.json has seed 7", "has 42"],
    );
    // a different run count
    let more = d.join("more");
    tamga()
        .args(["run", "--runs", "9", "--shard", "3/3", "--out"])
        .arg(&more)
        .arg(scenario("tutorial.toml"))
        .assert()
        .success();
    merge_fails(
        &[p(1), p(2), more.join("part-3-of-3.json")],
        &out,
        &["more/part-3-of-3.json has runs total 9"],
    );
    // different variants
    let only = d.join("only");
    parts(&only, 3, &[3], &["--variant", "honest"]);
    merge_fails(
        &[p(1), p(2), only.join("part-3-of-3.json")],
        &out,
        &["only/part-3-of-3.json has variants honest"],
    );
    // a different scenario file (one comment added changes the digest)
    let edited = d.join("edited.toml");
    let text = std::fs::read_to_string(scenario("tutorial.toml")).unwrap();
    std::fs::write(&edited, format!("# edited\n{text}")).unwrap();
    let other = d.join("other");
    tamga()
        .args(["run", "--runs", RUNS, "--shard", "2/3", "--out"])
        .arg(&other)
        .arg(&edited)
        .assert()
        .success();
    merge_fails(
        &[p(1), other.join("part-2-of-3.json"), p(3)],
        &out,
        &["other/part-2-of-3.json has scenario digest"],
    );
}

pub(crate) fn edit_part(from: &Path, to: &Path, edit: impl FnOnce(&mut serde_json::Value)) {
    let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(from).unwrap()).unwrap();
    edit(&mut v);
    std::fs::write(to, serde_json::to_vec(&v).unwrap()).unwrap();
}

#[test]
fn tampered_or_foreign_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = d.join("out");
    let two = d.join("two");
    parts(&two, 2, &[1, 2], &[]);
    let p1 = two.join("part-1-of-2.json");
    let p2 = two.join("part-2-of-2.json");

    let version = d.join("version.json");
    edit_part(&p2, &version, |v| v["tamga_version"] = "0.0.1".into());
    merge_fails(
        &[p1.clone(), version],
        &out,
        &["version.json was written by tamga 0.0.1"],
    );

    let renumbered = d.join("renumbered.json");
    edit_part(&p2, &renumbered, |v| v["outcomes"][1][0]["run"] = 0.into());
    merge_fails(
        &[p1.clone(), renumbered],
        &out,
        &["renumbered.json is inconsistent", "run 3 says it is run 0"],
    );

    let short = d.join("short.json");
    edit_part(&p2, &short, |v| {
        v["outcomes"][0].as_array_mut().unwrap().pop();
    });
    merge_fails(
        &[p1.clone(), short],
        &out,
        &["short.json is inconsistent", "has 3 outcomes for runs 3..7"],
    );

    let source = d.join("source.json");
    edit_part(&p1, &source, |v| {
        let s = v["scenario_source"].as_str().unwrap().to_string();
        v["scenario_source"] = format!("# changed\n{s}").into();
    });
    merge_fails(
        &[source, p2.clone()],
        &out,
        &["source.json is inconsistent", "scenario digest"],
    );

    // a summary is not a part
    let full = d.join("full");
    run_full(&full, "1");
    merge_fails(
        &[p1.clone(), full.join("summary.json")],
        &out,
        &["summary.json is not a tamga part file"],
    );
    let garbage = d.join("garbage.json");
    std::fs::write(&garbage, b"\x00\xffnot json").unwrap();
    merge_fails(&[garbage], &out, &["garbage.json is not JSON"]);
    merge_fails(
        &[d.join("absent.json")],
        &out,
        &["cannot read", "absent.json"],
    );
    let empty = d.join("empty");
    std::fs::create_dir(&empty).unwrap();
    merge_fails(&[empty], &out, &["holds no part-*.json files"]);
}

#[test]
fn bad_shard_arguments_exit_2_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    for (arg, needle) in [
        ("0/3", "K must be between 1 and N = 3"),
        ("4/3", "K must be between 1 and N = 3"),
        ("1/0", "K must be between 1 and N = 0"),
        ("two/3", "--shard wants K/N"),
        ("3", "--shard wants K/N"),
        (
            "auto/3",
            "neither SLURM_ARRAY_TASK_ID nor JOB_COMPLETION_INDEX",
        ),
    ] {
        tamga()
            .env_remove("SLURM_ARRAY_TASK_ID")
            .env_remove("JOB_COMPLETION_INDEX")
            .args(["run", "--runs", "3", "--shard", arg, "--out"])
            .arg(dir.path())
            .arg(scenario("tutorial.toml"))
            .assert()
            .code(2)
            .stderr(predicate::str::contains(needle));
    }
    assert!(listing(dir.path()).is_empty());
}

#[test]
fn auto_shard_reads_the_scheduler_index() {
    let dir = tempfile::tempdir().unwrap();
    // Kubernetes: index 2 (from 0) is shard 3
    tamga()
        .env_remove("SLURM_ARRAY_TASK_ID")
        .env("JOB_COMPLETION_INDEX", "2")
        .args([
            "run", "--runs", RUNS, "--shard", "auto/3", "--json", "--out",
        ])
        .arg(dir.path())
        .arg(scenario("tutorial.toml"))
        .assert()
        .success()
        .stdout(predicate::str::contains(r#""shard":{"k":3,"n":3}"#));
    // Slurm: --array=0-2, task 0 is shard 1
    tamga()
        .env_remove("JOB_COMPLETION_INDEX")
        .env("SLURM_ARRAY_TASK_ID", "0")
        .env("SLURM_ARRAY_TASK_MIN", "0")
        .env("SLURM_ARRAY_TASK_COUNT", "3")
        .args(["run", "--runs", RUNS, "--shard", "auto/3", "--out"])
        .arg(dir.path())
        .arg(scenario("tutorial.toml"))
        .assert()
        .success();
    assert_eq!(
        listing(dir.path()),
        vec!["part-1-of-3.json", "part-3-of-3.json"]
    );
    // an array of 4 tasks for 3 shards is a mistake
    tamga()
        .env_remove("JOB_COMPLETION_INDEX")
        .env("SLURM_ARRAY_TASK_ID", "1")
        .env("SLURM_ARRAY_TASK_COUNT", "4")
        .args(["run", "--runs", RUNS, "--shard", "auto/3", "--out"])
        .arg(dir.path())
        .arg(scenario("tutorial.toml"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("has 4 tasks but N = 3"));
}

/// SIGINT (Ctrl-C) or SIGTERM (what schedulers send) to a long run: it stops promptly, exits 2,
/// and writes nothing (neither the summary nor a part file, nor a temporary file).
#[cfg(unix)]
#[test]
fn interrupted_run_writes_nothing() {
    use std::process::Stdio;
    use std::time::{Duration, Instant};
    for (shard, signal) in [(None, "-INT"), (Some("1/2"), "-TERM")] {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let mut cmd = std::process::Command::new(BIN);
        // ≈ 0.2 s per run: far longer than the test waits
        cmd.args([
            "run",
            "--runs",
            "5000",
            "--variant",
            "official",
            "--threads",
            "1",
        ])
        .arg("--out")
        .arg(&out)
        .arg(scenario("kazakhstan-2004.toml"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
        if let Some(s) = shard {
            cmd.args(["--shard", s]);
        }
        let mut child = cmd.spawn().unwrap();
        // let it get past start-up (the handler is installed first thing) and into the runs
        std::thread::sleep(Duration::from_millis(1500));
        assert!(child.try_wait().unwrap().is_none(), "finished too early");
        let sent = std::process::Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        let t = Instant::now();
        let status = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break s;
            }
            if t.elapsed() > Duration::from_secs(60) {
                let _ = child.kill();
                panic!("did not stop within 60 s of {signal}");
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let mut stderr = String::new();
        std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
        assert_eq!(status.code(), Some(2), "{stderr}");
        assert!(stderr.contains("interrupted"), "{stderr}");
        assert!(stderr.contains("nothing was written"), "{stderr}");
        assert!(listing(&out).is_empty(), "{:?}", listing(&out));
    }
}

#[test]
fn bench_prints_rates_and_ratios_as_json() {
    let assert = tamga()
        .arg("bench")
        .arg(scenario("tutorial.toml"))
        .args(["--ballots", "20000", "--repeat", "1", "--json"])
        .assert()
        .success();
    let v: serde_json::Value = serde_json::from_slice(&assert.get_output().stdout).unwrap();
    let sha = v["sha256"]["per_second"].as_f64().unwrap();
    assert!(sha > 0.0);
    assert_eq!(v["sha256"]["ratio"].as_f64().unwrap(), 1.0);
    for key in ["ingest", "ingest_lockstep", "verify", "run"] {
        let rate = v[key]["per_second"].as_f64().unwrap();
        let ratio = v[key]["ratio"].as_f64().unwrap();
        assert!(rate > 0.0, "{key}");
        assert!((ratio - rate / sha).abs() <= 1e-9 * ratio.max(1.0), "{key}");
        assert_eq!(v[key]["unit"], "ballots");
    }
    assert_eq!(v["ingest"]["items"], 20000);
    assert_eq!(v["ingest_lockstep"]["items"], 20000);
    assert_eq!(v["verify"]["items"], 20000);
    // (a) is the faster single-stream kernel; the others are reported beside it
    let sha2 = v["sha256_sha2"]["per_second"].as_f64().unwrap();
    let one_lane = v["sha256_one_lane"]["per_second"].as_f64().unwrap();
    assert_eq!(sha, sha2.max(one_lane));
    let which = if one_lane > sha2 { "tamga" } else { "sha2" };
    assert_eq!(v["reference"], which);
    for key in ["sha256_sha2", "sha256_one_lane", "sha256_lockstep"] {
        assert_eq!(v[key]["unit"], "hashes", "{key}");
        assert!(v[key]["ratio"].as_f64().unwrap() > 0.0, "{key}");
    }
    let lanes = v["lanes"].as_u64().unwrap();
    assert!(lanes >= 2);
    assert_eq!(v["sha256_lockstep"]["items"], 20000 / lanes * lanes);
    assert!(["sha-ni", "portable"].contains(&v["backend"].as_str().unwrap()));
    // the tutorial has no `official` variant: its first one is timed
    assert_eq!(v["run_info"]["variant"], "honest");
    assert!(v["run_info"]["ballots"].as_u64().unwrap() > 0);
}

#[test]
fn bench_table_and_bad_arguments() {
    tamga()
        .arg("bench")
        .arg(scenario("tutorial.toml"))
        .args([
            "--ballots",
            "5000",
            "--repeat",
            "1",
            "--variant",
            "green-surge",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("(b) ledger ingest"))
        .stdout(predicate::str::contains("chains in lockstep"))
        .stdout(predicate::str::contains("machines' chains in lockstep"))
        .stdout(predicate::str::contains("× SHA-256"))
        .stdout(predicate::str::contains("`green-surge`"));
    tamga()
        .arg("bench")
        .arg(scenario("tutorial.toml"))
        .args(["--variant", "nope"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("there is no variant `nope`"));
    tamga()
        .arg("bench")
        .arg(scenario("tutorial.toml"))
        .args(["--ballots", "0"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--ballots must be"));
}

#[test]
fn bench_chains_writes_and_verifies_every_machine() {
    let assert = tamga()
        .arg("bench")
        .arg(scenario("tutorial.toml"))
        .args(["--chains", "--tree", "--json", "--signature-sample", "3"])
        .args(["--threads", "3", "--block", "2"])
        .assert()
        .success();
    let v: serde_json::Value = serde_json::from_slice(&assert.get_output().stdout).unwrap();
    let ledgers = v["ledgers"].as_u64().unwrap();
    assert!(ledgers > 0 && v["ballots"].as_u64().unwrap() > 10 * ledgers);
    assert_eq!(v["with_findings"], 0);
    assert_eq!(v["roots_differing"], 0);
    let checkpoints = v["checkpoints"].as_u64().unwrap();
    assert_eq!(v["roots_checked"].as_u64().unwrap(), checkpoints);
    assert!(checkpoints >= ledgers);
    assert!(v["signatures"]["notes"].as_u64().unwrap() >= 3);
    assert!(v["signatures"]["sign_seconds"].as_f64().unwrap() > 0.0);
    // the same ledgers without trees, as a table
    tamga()
        .arg("bench")
        .arg(scenario("tutorial.toml"))
        .arg("--chains")
        .assert()
        .success()
        .stdout(predicate::str::contains(format!(
            "{ledgers} ledgers, {} ballots",
            v["ballots"]
        )))
        .stdout(predicate::str::contains("0 with findings"));
    tamga()
        .arg("bench")
        .arg(scenario("tutorial.toml"))
        .arg("--tree")
        .assert()
        .code(2);
    tamga()
        .arg("bench")
        .arg(scenario("tutorial.toml"))
        .args(["--chains", "--threads", "0"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--threads must be"));
}
