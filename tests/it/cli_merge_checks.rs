//! `tamga merge` on hostile parts, on the real binary: every outcome must have the scenario's
//! shape and keep its invariants (a short array, a detector array of the wrong length, votes
//! near 2^64, more seats than the tier has — one line naming the part, variant, run and field,
//! exit 2, nothing written; never a panic), and `--verify N` re-simulates runs and refuses a
//! part edited so that it still looks consistent.

use crate::cli_shard::{edit_part, files, merge_fails, parts, run_full};
use crate::common::tamga;
use predicates::prelude::*;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// Two honest parts of the tutorial (7 runs: 0..3 and 3..7), in `d/two`.
fn two_parts(d: &Path) -> (PathBuf, PathBuf) {
    let two = d.join("two");
    parts(&two, 2, &[1, 2], &[]);
    (two.join("part-1-of-2.json"), two.join("part-2-of-2.json"))
}

/// `p2` with `edit` applied to variant 0's first outcome (run 3), saved as `d/name`.
fn edited(d: &Path, p2: &Path, name: &str, edit: impl FnOnce(&mut Value)) -> PathBuf {
    let to = d.join(name);
    edit_part(p2, &to, |v| edit(&mut v["outcomes"][0][0]));
    to
}

#[test]
fn parts_of_the_wrong_shape_or_impossible_values_are_refused_without_panicking() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = d.join("out");
    let (p1, p2) = two_parts(d);
    let at = "variant `honest`, run 3";

    // short arrays: these panicked in the summary before
    for (field, name) in [
        ("list_votes", "short-votes.json"),
        ("list_seats", "short-list-seats.json"),
        ("total_seats", "short-total-seats.json"),
    ] {
        let bad = edited(d, &p2, name, |o| {
            o[field].as_array_mut().unwrap().pop();
        });
        merge_fails(
            &[p1.clone(), bad],
            &out,
            &[name, at, field, "the scenario wants", "run its shard again"],
        );
    }
    let long = edited(d, &p2, "long-district.json", |o| {
        o["truth"]["district_seats"]
            .as_array_mut()
            .unwrap()
            .push(0.into());
    });
    merge_fails(
        &[p1.clone(), long],
        &out,
        &[
            "long-district.json",
            at,
            "truth.district_seats has 5 entries",
        ],
    );

    // detectors: a fixed-length array in the file format
    for (name, edit) in [
        ("no-detectors.json", 0usize),
        ("more-detectors.json", 1usize),
    ] {
        let bad = edited(d, &p2, name, |o| {
            let a = o["detectors"].as_array_mut().unwrap();
            if edit == 0 {
                a.clear();
            } else {
                let first = a[0].clone();
                a.push(first);
            }
        });
        merge_fails(
            &[p1.clone(), bad],
            &out,
            &[name, "is not a valid tamga part file", "expected"],
        );
    }

    // votes that overflow a sum
    let huge = edited(d, &p2, "huge.json", |o| {
        o["list_votes"][0] = u64::MAX.into();
        o["list_votes"][1] = u64::MAX.into();
    });
    merge_fails(
        &[p1.clone(), huge],
        &out,
        &["huge.json", at, "list_votes", "more than 2^64 − 1"],
    );
    // more votes than ballots, more ballots than registered voters
    let inflated = edited(d, &p2, "inflated.json", |o| {
        let x = o["list_votes"][0].as_u64().unwrap();
        o["list_votes"][0] = (x + 100_000).into();
    });
    merge_fails(
        &[p1.clone(), inflated],
        &out,
        &[
            "inflated.json",
            at,
            "list_votes with list_invalid add up to",
        ],
    );
    let turnout = edited(d, &p2, "turnout.json", |o| {
        let r = o["registered"].as_u64().unwrap();
        o["ballots"] = (r + 1).into();
        o["truth"]["ballots"] = (r + 1).into();
    });
    merge_fails(
        &[p1.clone(), turnout],
        &out,
        &["turnout.json", at, "ballots is", "registered"],
    );
    // 20 seats of 11 in one party's list seats: more than the tier's 20
    let seats = edited(d, &p2, "seats.json", |o| {
        o["list_seats"][0] = 20.into();
        o["total_seats"][0] = (20 + o["district_seats"][0].as_u64().unwrap()).into();
    });
    merge_fails(
        &[p1.clone(), seats],
        &out,
        &[
            "seats.json",
            at,
            "list_seats add up to",
            "list tier has 20 seats",
        ],
    );
    // total seats that are not district plus list seats
    let total = edited(d, &p2, "total.json", |o| {
        let t = o["total_seats"][3].as_u64().unwrap();
        o["total_seats"][3] = (t + 1).into();
    });
    merge_fails(
        &[p1.clone(), total],
        &out,
        &[
            "total.json",
            at,
            "total_seats[3]",
            "district plus list seats",
        ],
    );
    // a run count beyond the format's limit (merge would size its result by it)
    let runs = d.join("runs.json");
    edit_part(&p2, &runs, |v| v["runs_total"] = u32::MAX.into());
    merge_fails(
        &[runs],
        &out,
        &["runs.json is inconsistent", "4294967295", "1000000"],
    );
}

#[test]
fn verify_resimulates_runs_and_refuses_an_edited_part() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (p1, p2) = two_parts(d);
    // 1,000 votes moved from one list to another: consistent in every sum
    let moved = edited(d, &p2, "moved.json", |o| {
        let a = o["list_votes"][0].as_u64().unwrap();
        let b = o["list_votes"][1].as_u64().unwrap();
        o["list_votes"][0] = (a + 1000).into();
        o["list_votes"][1] = (b - 1000).into();
    });
    // the shape and invariant checks cannot see it …
    let plain = d.join("plain");
    tamga()
        .arg("merge")
        .args([&p1, &moved])
        .arg("--out")
        .arg(&plain)
        .assert()
        .success();
    // … re-simulating the first run of each part can
    merge_fails(
        &[p1.clone(), moved.clone(), "--verify".into(), "1".into()],
        &d.join("out"),
        &[
            "moved.json",
            "variant `honest`, run 3",
            "list_votes[0] is",
            "when the run is simulated again",
            "run its shard again",
        ],
    );
    // honest parts pass, and give the unsharded result byte for byte
    let verified = d.join("verified");
    tamga()
        .arg("merge")
        .args([&p1, &p2])
        .args(["--verify", "2", "--threads", "1", "--out"])
        .arg(&verified)
        .assert()
        .success();
    let full = d.join("full");
    run_full(&full, "1");
    assert_eq!(files(&verified), files(&full));
}

#[test]
fn verify_samples_evenly_spaced_runs() {
    use tamga::shard::verify_sample;
    assert_eq!(verify_sample(3..7, 10), vec![3, 4, 5, 6]);
    assert_eq!(verify_sample(0..100, 4), vec![0, 25, 50, 75]);
    assert_eq!(verify_sample(10..13, 2), vec![10, 11]);
    assert_eq!(verify_sample(5..5, 3), Vec::<u32>::new());
    assert_eq!(verify_sample(0..1_000_000, 1), vec![0]);
}

#[test]
fn run_limits_are_checked_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    // a hundred million runs would need ~90 GB of outcomes: refused at once, nothing created
    let out = dir.path().join("out");
    let started = std::time::Instant::now();
    tamga()
        .args(["run", "--runs", "100000000", "--out"])
        .arg(&out)
        .arg(crate::common::tutorial())
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "--runs must be between 1 and 1000000",
        ));
    tamga()
        .args(["run", "--threads", "100000", "--out"])
        .arg(&out)
        .arg(crate::common::tutorial())
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "--threads must be between 1 and 1024, not 100000",
        ));
    assert!(started.elapsed().as_secs() < 20, "{:?}", started.elapsed());
    assert!(!out.exists());
}
