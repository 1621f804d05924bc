//! `tamga seats` on the real binary: real elections from `tests/data/seats/`, `--json`,
//! `--explain`, ties and lots, mixed systems, and bad input (exit 2, one line on stderr, no
//! panic).

use crate::common::tamga;
use predicates::prelude::*;
use serde_json::Value;

/// A file of `tests/data/seats/`, as an argument.
fn data(name: &str) -> String {
    crate::common::data(&format!("seats/{name}"))
        .display()
        .to_string()
}

fn seats(args: &[&str]) -> assert_cmd::assert::Assert {
    tamga().arg("seats").args(args).assert()
}

fn json(args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.push("--json");
    let out = seats(&all).success().get_output().stdout.clone();
    serde_json::from_slice(&out).expect("stdout is one JSON document")
}

fn column(doc: &Value, key: &str) -> Vec<u64> {
    doc["parties"]
        .as_array()
        .expect("parties")
        .iter()
        .map(|p| p[key].as_u64().expect(key))
        .collect()
}

/// Writes `content` to a temporary CSV and runs `tamga seats` with `args` on it; expects exit
/// 2 and exactly one line on stderr starting with `tamga: `, and returns that line.
fn bad(content: &str, args: &[&str]) -> String {
    let (_dir, p) = write_tmp(content);
    let mut all = args.to_vec();
    all.push(&p);
    let out = seats(&all).code(2).get_output().clone();
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(out.stdout.is_empty(), "nothing on stdout: {:?}", out.stdout);
    assert_eq!(err.lines().count(), 1, "one line: {err:?}");
    assert!(err.starts_with("tamga: "), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    err
}

#[test]
fn kazakhstan_2004_list_tier_is_7_1_1_1_with_the_threshold_on_valid_votes() {
    let f = data("kz2004_list.csv");
    for t in ["7%", "0.07", "7/100"] {
        let doc = json(&["--method", "hare", "--seats", "10", "--threshold", t, &f]);
        assert_eq!(column(&doc, "seats"), [7, 1, 1, 1, 0, 0, 0, 0, 0, 0], "{t}");
        assert_eq!(doc["threshold"]["share"], "7/100");
    }
    // Measured on all 4,893,204 ballots, AIST (6.87 %) drops out: 7/2/1/0.
    let doc = json(&[
        "--method",
        "hare",
        "--seats",
        "10",
        "--threshold",
        "7%",
        "--threshold-base",
        "4893204",
        &f,
    ]);
    assert_eq!(column(&doc, "seats"), [7, 2, 1, 0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(doc["parties"][3]["qualified"], false);
    // D'Hondt would have given 8/1/1/0.
    let doc = json(&[
        "--method",
        "dhondt",
        "--seats",
        "10",
        "--threshold",
        "7%",
        &f,
    ]);
    assert_eq!(column(&doc, "seats")[..4], [8, 1, 1, 0]);
}

#[test]
fn the_table_shows_every_party_and_the_total() {
    seats(&[
        "--method",
        "dhondt",
        "--seats",
        "183",
        "--threshold",
        "4%",
        &data("austria_nr_2019.csv"),
    ])
    .success()
    .stdout(predicate::str::contains("dhondt, 183 seats"))
    .stdout(predicate::str::is_match(r"(?m)^ÖVP\s+1789417\s+37\.\d\d%\s+71$").unwrap())
    .stdout(predicate::str::is_match(r"(?m)^JETZT .* 0  below threshold$").unwrap())
    .stdout(predicate::str::is_match(r"(?m)^total\s+\d+\s+183$").unwrap());
}

#[test]
fn austria_2019_by_national_dhondt_in_json() {
    let doc = json(&[
        "--method",
        "dhondt",
        "--seats",
        "183",
        "--threshold",
        "4%",
        &data("austria_nr_2019.csv"),
    ]);
    assert_eq!(
        column(&doc, "seats"),
        [71, 40, 31, 15, 0, 26, 0, 0, 0, 0, 0, 0, 0]
    );
    assert_eq!(doc["method"], "dhondt");
    assert_eq!(doc["system"], "list");
    assert_eq!(doc["lots"], Value::Array(vec![]));
    assert!(doc.get("explanation").is_none(), "steps only when asked");
}

#[test]
fn explain_lists_quota_remainders_and_every_seat() {
    let f = data("kz2004_list.csv");
    seats(&[
        "--method",
        "hare",
        "--seats",
        "10",
        "--threshold",
        "7%",
        "--explain",
        &f,
    ])
    .success()
    .stdout(predicate::str::contains(
        "threshold 7% of 4757773 = 333044.11 votes",
    ))
    .stdout(predicate::str::contains("4 of 10 parties qualify"))
    .stdout(predicate::str::contains(
        "quota 433379.4 votes per seat (exactly 4333794/10",
    ))
    .stdout(predicate::str::is_match(r"AIST\s+remainder 0\.7757\s+\(largest remainder\)").unwrap())
    .stdout(predicate::str::is_match(r"seat\s+10\s+Otan\s+remainder 0\.654").unwrap());
    let out = seats(&[
        "--method",
        "dhondt",
        "--seats",
        "183",
        "--threshold",
        "4%",
        "--explain",
        &data("austria_nr_2019.csv"),
    ])
    .success()
    .get_output()
    .stdout
    .clone();
    let text = String::from_utf8(out).unwrap();
    assert_eq!(text.matches("(highest quotient)").count(), 183);
    assert!(text.contains("divisors 1, 2, 3, …"), "{text}");
    assert!(
        text.lines()
            .any(|l| l.contains("seat    1") && l.contains("ÖVP")),
        "{text}"
    );
}

#[test]
fn json_with_explain_carries_the_steps_as_data() {
    let doc = json(&[
        "--method",
        "sainte_lague",
        "--seats",
        "8",
        "--explain",
        &write_tmp("party,votes\nA,10000\nB,8000\nC,3000\nD,2000\n").1,
    ]);
    assert_eq!(column(&doc, "seats"), [3, 3, 1, 1]);
    let steps = doc["explanation"]["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 8);
    assert_eq!(steps[0]["step"], "seat");
    // Seat 6: A (10000/5) and D (2000/1) tie, both are seated: more votes first.
    assert_eq!(steps[5]["party"], 0);
    assert_eq!(steps[5]["value"]["exact"], "10000/5");
    assert_eq!(steps[6]["party"], 3);
    assert_eq!(steps[6]["value"]["exact"], "2000/1");
    assert!(steps[5]["reason"]["tied_all_seated"].is_object());
}

fn write_tmp(content: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("votes.csv");
    std::fs::write(&path, content).unwrap();
    let p = path.display().to_string();
    (dir, p)
}

#[test]
fn a_tie_for_a_seat_stops_with_the_tied_parties_named() {
    let err = bad(
        "party,votes\nA,1\nB,10\nC,10\n",
        &["--method", "sainte_lague", "--seats", "1"],
    );
    assert!(
        err.contains("tie: B and C have equal claims to the last 1 seat(s)"),
        "{err}"
    );
    assert!(err.contains("--lot SEED"), "{err}");
}

#[test]
fn a_seeded_lot_decides_the_tie_reproducibly_and_is_recorded() {
    let (_d, f) = write_tmp("party,votes\nA,2\nB,1\nC,1\nD,2\nE,2\n");
    let args = ["--method", "dhondt", "--seats", "2", "--lot", "2004", &f];
    let a = json(&args);
    let b = json(&args);
    assert_eq!(a, b);
    let lots = a["lots"].as_array().unwrap();
    assert_eq!(lots.len(), 1);
    assert_eq!(lots[0]["seed"], 2004);
    assert_eq!(lots[0]["among"], serde_json::json!(["A", "D", "E"]));
    assert_eq!(lots[0]["winners"].as_array().unwrap().len(), 2);
    assert_eq!(column(&a, "seats").iter().sum::<u64>(), 2);
    seats(&args).success().stdout(predicate::str::contains(
        "lot (seed 2004): A, D and E tied for 2 seat(s)",
    ));
}

#[test]
fn new_zealand_2014_mmp_keeps_the_united_future_overhang() {
    let f = data("nz2014_mmp.csv");
    let args = [
        "--method",
        "sainte_lague",
        "--seats",
        "120",
        "--threshold",
        "5%",
        "--or-district-seats",
        "1",
        "--mmp",
        &f,
    ];
    let doc = json(&args);
    assert_eq!(doc["system"], "mmp");
    assert_eq!(doc["house"], 121);
    assert_eq!(
        column(&doc, "seats"),
        [1, 0, 0, 0, 0, 0, 14, 0, 32, 2, 60, 11, 0, 0, 1]
    );
    let uf = &doc["parties"][14];
    assert_eq!(
        (uf["entitlement"].as_u64(), uf["overhang"].as_u64()),
        (Some(0), Some(1))
    );
    seats(&args)
        .success()
        .stdout(predicate::str::contains("house: 121 seats"));
    // Levelled instead: no overhang, a larger house.
    let mut lv = args.to_vec();
    lv.extend(["--overhang", "level"]);
    let doc = json(&lv);
    assert!(doc["house"].as_u64().unwrap() > 121);
    assert!(column(&doc, "overhang").iter().all(|&o| o == 0));
    // Without the district-seat alternative ACT, Maori and United Future fall below 5 %.
    let doc = json(&[
        "--method",
        "sainte_lague",
        "--seats",
        "120",
        "--threshold",
        "5%",
        "--mmp",
        &f,
    ]);
    assert_eq!(doc["parties"][0]["qualified"], false);
    assert_eq!(doc["parties"][0]["seats"], 1);
}

#[test]
fn parallel_adds_district_seats_to_the_list_tier() {
    let doc = json(&[
        "--method",
        "hare",
        "--seats",
        "10",
        "--threshold",
        "7%",
        "--parallel",
        "--other-district-seats",
        "18",
        &data("kz2004_parallel.csv"),
    ]);
    assert_eq!(doc["system"], "parallel");
    assert_eq!(column(&doc, "list_seats")[..4], [7, 1, 1, 1]);
    assert_eq!(column(&doc, "seats")[..5], [42, 1, 4, 11, 1]);
    assert_eq!(doc["house"], 77);
}

#[test]
fn votes_can_come_from_standard_input() {
    tamga()
        .args(["seats", "--method", "droop", "--seats", "10", "-"])
        .write_stdin("party,votes\nA,47000\nB,16000\nC,15800\nD,12000\nE,6100\nF,3100\n")
        .assert()
        .success()
        .stdout(predicate::str::is_match(r"(?m)^C\s+15800\s+\S+\s+2$").unwrap());
}

#[test]
fn bad_csv_content_names_the_line_and_column() {
    let m = ["--method", "hare", "--seats", "10"];
    let e = bad("party,votes\nA,10\nB,-5\n", &m);
    assert!(
        e.contains("line 3, column `votes`: \"-5\" is negative"),
        "{e}"
    );
    let e = bad("party,votes\nA,10\nB,lots\n", &m);
    assert!(
        e.contains("line 3, column `votes`: \"lots\" is not a number"),
        "{e}"
    );
    let e = bad("party,votes\nA,1.5\n", &m);
    assert!(
        e.contains("line 2, column `votes`: \"1.5\" is not a whole number"),
        "{e}"
    );
    let e = bad("name,count\nA,10\n", &m);
    assert!(e.contains("no `party` column (found: name, count)"), "{e}");
    let e = bad("party,votes\nA,10\nA,5\n", &m);
    assert!(
        e.contains("line 3, column `party`: \"A\" already appears on line 2"),
        "{e}"
    );
    let e = bad("party,votes\n", &m);
    assert!(e.contains("no party rows"), "{e}");
    let e = bad("party,votes\nA,10,3\n", &m);
    assert!(e.contains("line 2"), "{e}");
    let e = bad("party,votes\nA,0\nB,0\n", &m);
    assert!(e.contains("0 votes in total"), "{e}");
    let e = bad(
        "party,votes\nA,10\n",
        &["--method", "hare", "--seats", "10", "--mmp"],
    );
    assert!(e.contains("no `district_seats` column"), "{e}");
}

#[test]
fn bad_options_are_one_line_errors_naming_the_option() {
    let ok = "party,votes\nA,10\nB,20\n";
    let cases: &[(&[&str], &str)] = &[
        (
            &["--method", "hare", "--seats", "0"],
            "the number of seats is 0",
        ),
        (
            &["--method", "hare", "--seats", "ten"],
            "--seats: \"ten\" is not a whole number",
        ),
        (
            &["--method", "hare", "--seats", "-3"],
            "--seats: \"-3\" is not a whole number",
        ),
        (
            &["--method", "hare", "--seats", "5", "--lot", "-1"],
            "--lot: \"-1\"",
        ),
        (
            &["--method", "borda", "--seats", "5"],
            "--method: unknown method \"borda\"",
        ),
        (
            &["--method", "hare", "--seats", "5", "--threshold", "7"],
            "more than 100%",
        ),
        (
            &["--method", "hare", "--seats", "5", "--threshold", "-5%"],
            "--threshold: \"-5%\" is not a share",
        ),
        (
            &["--method", "hare", "--seats", "5", "--threshold", "120%"],
            "more than 100%",
        ),
        (
            &[
                "--method",
                "hare",
                "--seats",
                "5",
                "--threshold",
                "5%",
                "--threshold-base",
                "10",
            ],
            "smaller than the 30 listed votes",
        ),
        (
            &[
                "--method",
                "hare",
                "--seats",
                "5",
                "--threshold",
                "5%",
                "--threshold-base",
                "all",
            ],
            "--threshold-base: \"all\" is not a whole number",
        ),
        (
            &[
                "--method",
                "hare",
                "--seats",
                "5",
                "--threshold-base",
                "100",
            ],
            "add one",
        ),
        (
            &[
                "--method",
                "hare",
                "--seats",
                "5",
                "--threshold",
                "5%",
                "--or-district-seats",
                "1",
            ],
            "add --mmp or --parallel",
        ),
        (
            &["--method", "hare", "--seats", "5", "--overhang", "level"],
            "--overhang applies only with --mmp",
        ),
        (
            &[
                "--method",
                "dhondt",
                "--seats",
                "5",
                "--first-divisor",
                "1.2",
            ],
            "only to --method modified_sainte_lague",
        ),
        (
            &[
                "--method",
                "modified_sainte_lague",
                "--seats",
                "5",
                "--first-divisor",
                "3",
            ],
            "first divisor 3 is out of range",
        ),
        (&["--method", "hare", "--seats", "5", "--lot", "x"], "--lot"),
        (
            &["--method", "hare", "--seats", "5", "--threshold", "95%"],
            "no party passed the threshold",
        ),
        (
            &["--method", "droop", "--seats", "1000", "--"],
            "Droop quota leaves",
        ),
    ];
    for (args, expect) in cases {
        let e = bad(ok, args);
        assert!(e.contains(expect), "{args:?}: {e}");
    }
    let out = seats(&["--method", "hare", "--seats", "5", "/nonexistent/votes.csv"])
        .code(2)
        .get_output()
        .clone();
    let e = String::from_utf8(out.stderr).unwrap();
    assert!(e.contains("cannot read /nonexistent/votes.csv"), "{e}");
    assert_eq!(e.lines().count(), 1);
}

#[test]
fn modified_sainte_lague_with_a_custom_first_divisor() {
    let (_d, f) = write_tmp("party,votes\nA,6\nB,1\n");
    let doc = json(&["--method", "sainte_lague", "--seats", "4", &f]);
    assert_eq!(column(&doc, "seats"), [3, 1]);
    let doc = json(&["--method", "modified_sainte_lague", "--seats", "4", &f]);
    assert_eq!(column(&doc, "seats"), [4, 0]);
    // First divisor 1: plain Sainte-Laguë again.
    let doc = json(&[
        "--method",
        "modified_sainte_lague",
        "--first-divisor",
        "1",
        "--seats",
        "4",
        &f,
    ]);
    assert_eq!(column(&doc, "seats"), [3, 1]);
    assert_eq!(
        doc["method_detail"],
        "modified_sainte_lague (first divisor 1)"
    );
}
