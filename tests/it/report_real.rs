//! The real station results a scenario names (`[reported] stations`): the key is read and
//! checked (missing file, bad row, parties that do not match — each a clear error naming the
//! key and the file), the report draws their fingerprint on the simulated maps' axes with the
//! file's own cell counts (counted again here, independently), and every view of the page
//! follows the party the overview follows.

use crate::common::{load, on_threads, run_prepared, scenario, tamga};
use std::collections::BTreeMap;
use std::path::Path;
use tamga::montecarlo::Simulator;

const CSV: &str = "tutorial-fraud-stations.csv";

/// The tutorial-fraud scenario and its station file copied into `dir`, the file's text passed
/// through `edit`; returns the scenario's path.
fn copy_tutorial(dir: &Path, edit: impl Fn(&str) -> String) -> std::path::PathBuf {
    let toml = dir.join("tutorial-fraud.toml");
    std::fs::copy(scenario("tutorial-fraud.toml"), &toml).unwrap();
    let csv = std::fs::read_to_string(scenario(CSV)).unwrap();
    std::fs::write(dir.join(CSV), edit(&csv)).unwrap();
    toml
}

#[test]
fn the_key_is_read_as_written_and_must_be_a_path() {
    let s = load("tutorial-fraud.toml");
    assert_eq!(s.reported.as_ref().unwrap().stations.as_deref(), Some(CSV));
    let text = std::fs::read_to_string(scenario("tutorial-fraud.toml")).unwrap();
    for (bad, what) in [("\"\"", "an empty path"), ("3", "a string")] {
        let t = text.replace(
            &format!("stations = \"{CSV}\""),
            &format!("stations = {bad}"),
        );
        assert_ne!(t, text);
        match tamga::scenario::parse(&t, "t.toml") {
            Err(tamga::scenario::ScenarioError::Invalid { problems, .. }) => {
                assert!(
                    problems
                        .iter()
                        .any(|p| p.path == "reported.stations" && p.to_string().contains(what)),
                    "{problems:?}"
                );
            }
            other => panic!("stations = {bad} accepted: {other:?}"),
        }
    }
}

#[test]
fn check_and_run_name_the_key_the_file_and_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    // the file as bundled: valid
    let ok = copy_tutorial(dir.path(), str::to_string);
    tamga().arg("check").arg(&ok).assert().success();
    // (stderr, --json problem) of `tamga check` on a copy whose station file is edited
    let check = |sub: &str, edit: &dyn Fn(&str) -> String| -> (String, serde_json::Value) {
        let d = dir.path().join(sub);
        std::fs::create_dir(&d).unwrap();
        let toml = copy_tutorial(&d, edit);
        let out = tamga().arg("check").arg(&toml).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{sub}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(
            err.contains(&format!("reported.stations = \"{CSV}\"")),
            "{sub}: {err}"
        );
        let json = tamga()
            .args(["check", "--json"])
            .arg(&toml)
            .output()
            .unwrap();
        let doc: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
        assert_eq!(doc["valid"], false);
        (err, doc["problems"][0].clone())
    };
    // a party of the file that the scenario does not have
    let (err, problem) = check("renamed", &|c| c.replacen(",red\n", ",purple\n", 1));
    assert!(err.contains("option column `purple`"), "{err}");
    assert!(err.contains("blue (Blue Party)"), "{err}");
    assert_eq!(problem["path"], "reported.stations");
    // a party of the scenario without a column
    let (err, _) = check("dropped", &|c| {
        c.lines()
            .map(|l| &l[..l.rfind(',').unwrap()])
            .collect::<Vec<_>>()
            .join("\n")
    });
    assert!(
        err.contains("party `red` of the scenario has no column"),
        "{err}"
    );
    // a bad number: the row (line of the file) and the column
    let (err, _) = check("bad-row", &|c| {
        let mut lines: Vec<String> = c.lines().map(str::to_string).collect();
        lines[4] = lines[4].replacen(",1250,", ",many,", 1);
        lines.join("\n")
    });
    assert!(
        err.contains("row 5, column `registered`: `many` is not a whole number"),
        "{err}"
    );
    // no file at all
    let d = dir.path().join("missing");
    std::fs::create_dir(&d).unwrap();
    let toml = d.join("tutorial-fraud.toml");
    std::fs::copy(scenario("tutorial-fraud.toml"), &toml).unwrap();
    let out = tamga().arg("check").arg(&toml).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("reported.stations") && err.contains("no such file"),
        "{err}"
    );
    // `tamga run` stops before simulating, and writes nothing
    let out_dir = d.join("out");
    let out = tamga()
        .arg("run")
        .arg(&toml)
        .args(["--runs", "2", "--out"])
        .arg(&out_dir)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("reported.stations") && err.contains("no such file"),
        "{err}"
    );
    assert!(!out_dir.join("report.html").exists());
}

/// The cell of a fraction a/b in 1 % cells centred on whole percentages: floor(100 a/b + 1/2),
/// in integers.
fn cell(a: u64, b: u64) -> usize {
    ((200 * a + b) / (2 * b)).min(100) as usize
}

#[test]
fn the_report_draws_the_real_fingerprint_with_the_files_cell_counts() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    tamga()
        .arg("run")
        .arg(scenario("tutorial-fraud.toml"))
        .args(["--runs", "4", "--threads", "2", "--out"])
        .arg(&out)
        .assert()
        .success();
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    crate::report::check_well_formed(&html).unwrap();

    // the file counted independently: Red's share of ballots found (valid + invalid), every
    // station consistent (ballots found, issued ≤ registered)
    let text = std::fs::read_to_string(scenario(CSV)).unwrap();
    let mut want: BTreeMap<(usize, usize), u32> = BTreeMap::new();
    let (mut issued, mut registered, mut red, mut ballots) = (0u64, 0u64, 0u64, 0u64);
    let mut capital = (0u64, 0u64, 0u64, 0u64);
    let mut rows = 0;
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let n = |i: usize| f[i].parse::<u64>().unwrap();
        let (reg, iss, b, r) = (n(3), n(4), n(5) + n(6), n(9));
        *want.entry((cell(iss, reg), cell(r, b))).or_default() += 1;
        (registered, issued, ballots, red) = (registered + reg, issued + iss, ballots + b, red + r);
        if f[0] == "Capital" {
            capital = (
                capital.0 + reg,
                capital.1 + iss,
                capital.2 + b,
                capital.3 + r,
            );
        }
        rows += 1;
    }
    assert_eq!(rows, 60);

    // the page: the map, its caption and its numbers, cell by cell
    assert!(html.contains("<svg id=\"fingerprint-real\""));
    let section = &html[html.find("<section id=\"real-stations\">").unwrap()..];
    let section = &section[..section.find("</section>").unwrap()];
    let pct2 = |a: u64, b: u64| format!("{:.2} %", 100.0 * a as f64 / b as f64);
    assert!(
        section.contains(&format!(
            "60 of the file's 60 stations mapped, turnout {}, Red Party's share {} of list \
             ballots, 0 stations at ≥ 95 %",
            pct2(issued, registered),
            pct2(red, ballots)
        )),
        "{section}"
    );
    let table = &section[section
        .find("<table id=\"fingerprint-real-numbers\"")
        .unwrap()..];
    let table = &table[..table.find("</table>").unwrap()];
    let mut got: BTreeMap<(usize, usize), u32> = BTreeMap::new();
    for row in table.split("<tr>").skip(2) {
        let td: Vec<&str> = row
            .split("<td>")
            .skip(1)
            .map(|c| &c[..c.find("</td>").unwrap()])
            .collect();
        let t: usize = td[0].parse().unwrap();
        for c in td[1].split(' ') {
            let (s, n) = c.split_once(':').unwrap();
            got.insert((t, s.parse().unwrap()), n.parse().unwrap());
        }
    }
    assert_eq!(got, want);
    // and fingerprints.csv beside the page, whose real rows are those cells
    let csv = std::fs::read_to_string(out.join("fingerprints.csv")).unwrap();
    let real: BTreeMap<(usize, usize), u32> = csv
        .lines()
        .filter_map(|l| l.strip_prefix("real,,,1,"))
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            assert_eq!(f[3], "0", "nothing touched in real data");
            (
                (f[0].parse().unwrap(), f[1].parse().unwrap()),
                f[2].parse().unwrap(),
            )
        })
        .collect();
    assert_eq!(real, want);
    // the map draws exactly those cells: a stroke `M x y v h` at x = 72 + 4 t covers the cells
    // s = (420 − y) / 4 down to that minus h / 4 + 1
    let svg = &section[section.find("<svg id=\"fingerprint-real\"").unwrap()..];
    let svg = &svg[..svg.find("</svg>").unwrap()];
    let mut drawn = Vec::new();
    for path in svg.split("<path d=\"").skip(1) {
        let d = &path[..path.find('"').unwrap()];
        for stroke in d.split('M').skip(1) {
            let (xy, h) = stroke.split_once('v').unwrap();
            let (x, y) = xy.split_once(' ').unwrap();
            let (x, y, h): (f64, f64, f64) =
                (x.parse().unwrap(), y.parse().unwrap(), h.parse().unwrap());
            let (t, top) = (((x - 72.0) / 4.0) as usize, ((420.0 - y) / 4.0) as usize);
            for k in 0..(h / 4.0) as usize {
                drawn.push((t, top - k));
            }
        }
    }
    drawn.sort();
    assert_eq!(drawn, want.keys().copied().collect::<Vec<_>>());
    // beside every variant's map, by reference
    assert_eq!(html.matches("<use href=\"#fingerprint-real\"/>").count(), 2);

    // every view follows Red, the party the fraud favours (Blue has most votes): the
    // fingerprints, the regional view and its real column (the file's regions are the
    // scenario's)
    assert!(html.contains("red party&#39;s share of list ballots"));
    assert!(!html.contains("leader&#39;s share of list ballots"));
    let regions = &html[html.find("<table id=\"regions-table\"").unwrap()..];
    let regions = &regions[..regions.find("</table>").unwrap()];
    assert!(
        regions.contains("honest: turnout / Red Party %"),
        "{regions}"
    );
    assert!(
        regions.contains("real stations: turnout / Red Party %"),
        "{regions}"
    );
    let pct1 = |a: u64, b: u64| format!("{:.1}", 100.0 * a as f64 / b as f64);
    assert!(
        regions.contains(&format!(
            ">{} / {}<",
            pct1(capital.1, capital.0),
            pct1(capital.3, capital.2)
        )),
        "{regions}"
    );
}

#[test]
fn fingerprints_follow_the_party_asked_for() {
    // tutorial-fraud: Blue leads, the overview follows Red (the fraud's beneficiary)
    let s = load("tutorial-fraud.toml");
    let red = s.parties.iter().position(|p| p.id == "red").unwrap();
    on_threads(2, || {
        let prepared = Simulator::new(&s, 42);
        let outcomes = run_prepared(&prepared, 0..4);
        for (vi, runs) in outcomes.iter().enumerate() {
            let rs = prepared.run_stations_following(vi, 1, Some(red)).unwrap();
            assert_eq!(rs.leader, red);
            assert_eq!(rs.outcome, runs[1]);
            // the stations' followed votes add up to Red's national list votes (no fraud above
            // the stations here)
            let sum: u64 = rs.stations.iter().map(|t| t.leader).sum();
            assert_eq!(sum, rs.outcome.reported.list_votes[red]);
            // by default, the run's leader
            let lead = prepared.run_stations(vi, 1).unwrap();
            let votes = &lead.outcome.reported.list_votes;
            assert_eq!(votes[lead.leader], *votes.iter().max().unwrap());
            if vi == 0 {
                assert_ne!(lead.leader, red, "Blue leads the honest runs");
            }
        }
    });
    // the outputs set it to the overview's party, so the model's maps and regions say Red
    let outcomes = on_threads(2, || run_prepared(&Simulator::new(&s, 42), 0..4));
    let text = std::fs::read_to_string(scenario("tutorial-fraud.toml")).unwrap();
    let outputs = on_threads(2, || {
        tamga::output::RunOutputs::build(&s, &text, 42, &outcomes)
    });
    assert!(
        outputs
            .report_html
            .contains("Red Party, the party the fraud variants favour")
    );
    assert!(!outputs.report_html.contains("id=\"real-stations\""));
}

#[test]
fn a_merge_reads_the_station_file_too_and_matches_the_unsharded_report() {
    let dir = tempfile::tempdir().unwrap();
    let scen = scenario("tutorial-fraud.toml");
    let full = dir.path().join("full");
    tamga()
        .arg("run")
        .arg(&scen)
        .args(["--runs", "4", "--threads", "2", "--out"])
        .arg(&full)
        .assert()
        .success();
    let parts = dir.path().join("parts");
    for k in ["1/2", "2/2"] {
        tamga()
            .arg("run")
            .arg(&scen)
            .args(["--runs", "4", "--threads", "2", "--shard", k, "--out"])
            .arg(&parts)
            .assert()
            .success();
    }
    // the parts do not record where the scenario was: a relative path is the current
    // directory's, and a merge elsewhere says so instead of leaving the real map out
    let out = tamga()
        .current_dir(dir.path())
        .arg("merge")
        .arg(&parts)
        .arg("--out")
        .arg(dir.path().join("elsewhere"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("reported.stations") && err.contains("run it from the scenario's directory"),
        "{err}"
    );
    let merged = dir.path().join("merged");
    tamga()
        .current_dir(scen.parent().unwrap())
        .arg("merge")
        .arg(&parts)
        .arg("--out")
        .arg(&merged)
        .assert()
        .success();
    let html = std::fs::read(merged.join("report.html")).unwrap();
    assert!(String::from_utf8_lossy(&html).contains("id=\"fingerprint-real\""));
    assert_eq!(html, std::fs::read(full.join("report.html")).unwrap());
}
