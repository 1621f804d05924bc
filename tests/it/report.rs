//! The run report (report.html) and the terminal summary: the page is well-formed,
//! self-contained, has every plot for the tutorial with a fixed seed, is byte-identical for the
//! same seed, shows tables only when there are any, and stays small for 1,000 runs; the
//! representative run re-simulates exactly; the terminal summary of the tutorial is pinned by a
//! golden file.

use crate::common::{TUTORIAL, golden, load, on_threads, run_prepared, scenario};
use tamga::detect::{DetectorKind, DetectorSummary, FalseAlarm, Power, Rate, Reading, Readings};
use tamga::model::Scenario;
use tamga::montecarlo::RunOutcome;
use tamga::montecarlo::Simulator;
use tamga::report::model::Table;
use tamga::report::{
    ReportOptions, RunFingerprint, RunReport, representative_fingerprints,
    representative_fingerprints_with, representative_run,
};
use tamga::summary::{Summary, rate_text};
use tamga::tabulation::Tally;

fn run(
    s: &Scenario,
    threads: usize,
    runs: u32,
    seed: u64,
) -> (Vec<Vec<RunOutcome>>, Vec<Option<RunFingerprint>>) {
    on_threads(threads, || {
        let prepared = Simulator::new(s, seed);
        let outcomes = run_prepared(&prepared, 0..runs);
        let fps = representative_fingerprints(&prepared, &outcomes);
        (outcomes, fps)
    })
}

/// The tutorial's report for seed 42 and 20 runs, rendered.
fn tutorial_report(threads: usize) -> (RunReport, String) {
    let s = load("tutorial.toml");
    let (outcomes, fps) = run(&s, threads, 20, 42);
    let summary = Summary::build(&s, 42, 0, &outcomes);
    let report = RunReport::build(&summary, &outcomes, fps, TUTORIAL);
    let html = tamga::report::render(&report);
    (report, html)
}

const VOID: [&str; 6] = ["meta", "br", "hr", "img", "input", "link"];

/// A small HTML checker: every tag closes in order (void elements and `/>` excepted), attribute
/// values are double-quoted, every `&` starts a known entity, `<style>` is raw text, and ids are
/// unique. Returns the ids.
pub(crate) fn check_well_formed(html: &str) -> Result<Vec<String>, String> {
    let b = html.as_bytes();
    let mut stack: Vec<String> = Vec::new();
    let mut ids: Vec<String> = Vec::new();
    let mut i = 0;
    let entity_ok = |rest: &str| {
        ["&amp;", "&lt;", "&gt;", "&quot;", "&#39;"]
            .iter()
            .any(|e| rest.starts_with(e))
    };
    while i < b.len() {
        match b[i] {
            b'&' => {
                if !entity_ok(&html[i..]) {
                    return Err(format!(
                        "bare & at byte {i}: {}",
                        &html[i..(i + 20).min(b.len())]
                    ));
                }
                i += 1;
            }
            b'<' => {
                let rest = &html[i..];
                if rest.starts_with("<!--") {
                    i += rest.find("-->").ok_or("unclosed comment")? + 3;
                    continue;
                }
                if rest.starts_with("<!DOCTYPE") {
                    i += rest.find('>').ok_or("unclosed doctype")? + 1;
                    continue;
                }
                if let Some(close) = rest.strip_prefix("</") {
                    let end = close.find('>').ok_or("unclosed end tag")?;
                    let name = &close[..end];
                    match stack.pop() {
                        Some(open) if open == name => {}
                        other => {
                            return Err(format!("</{name}> closes {other:?} at byte {i}"));
                        }
                    }
                    i += 2 + end + 1;
                    continue;
                }
                // a start tag
                let mut j = i + 1;
                while j < b.len() && b[j].is_ascii_alphanumeric() {
                    j += 1;
                }
                let name = html[i + 1..j].to_string();
                if name.is_empty() {
                    return Err(format!("bare < at byte {i}"));
                }
                loop {
                    while j < b.len() && b[j] == b' ' {
                        j += 1;
                    }
                    if j >= b.len() {
                        return Err(format!("unclosed <{name}"));
                    }
                    if html[j..].starts_with("/>") {
                        j += 2;
                        break;
                    }
                    if b[j] == b'>' {
                        j += 1;
                        if !VOID.contains(&name.as_str()) {
                            stack.push(name.clone());
                        }
                        break;
                    }
                    let a = j;
                    while j < b.len() && (b[j].is_ascii_alphanumeric() || b"-:_".contains(&b[j])) {
                        j += 1;
                    }
                    let attr = &html[a..j];
                    if attr.is_empty() || !html[j..].starts_with("=\"") {
                        return Err(format!(
                            "attribute `{attr}` of <{name}> is not name=\"value\""
                        ));
                    }
                    j += 2;
                    let end = html[j..].find('"').ok_or("unclosed attribute value")?;
                    let value = &html[j..j + end];
                    if value.contains('<') {
                        return Err(format!("< in attribute {attr} of <{name}>"));
                    }
                    if attr == "id" {
                        if ids.iter().any(|x| x == value) {
                            return Err(format!("duplicate id {value}"));
                        }
                        ids.push(value.to_string());
                    }
                    j += end + 1;
                }
                i = j;
                if name == "style" {
                    let end = html[i..].find("</style>").ok_or("unclosed style")?;
                    i += end;
                }
            }
            _ => i += 1,
        }
    }
    if !stack.is_empty() {
        return Err(format!("unclosed elements: {stack:?}"));
    }
    Ok(ids)
}

#[test]
fn the_checker_catches_broken_html() {
    assert!(check_well_formed("<p><b>x</b></p>").is_ok());
    assert!(check_well_formed("<p><b>x</p></b>").is_err());
    assert!(check_well_formed("<p>a & b</p>").is_err());
    assert!(check_well_formed("<p class=x>a</p>").is_err());
    assert!(check_well_formed("<p id=\"a\"></p><p id=\"a\"></p>").is_err());
    assert!(check_well_formed("<div>").is_err());
}

#[test]
fn tutorial_report_is_well_formed_self_contained_and_has_every_plot() {
    let (report, html) = tutorial_report(2);
    let ids = check_well_formed(&html).unwrap_or_else(|e| panic!("malformed report.html: {e}"));
    assert!(html.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"));

    // Self-contained: nothing is fetched; links only jump within the page.
    assert!(!html.contains("http://") && !html.contains("https://"));
    for bad in [
        "src=", "<script", "<link", "@import", "url(", "<img", "<iframe",
    ] {
        assert!(!html.contains(bad), "external reference `{bad}`");
    }
    for (k, _) in html.match_indices("href=\"") {
        let target = &html[k + 6..];
        let target = &target[..target.find('"').unwrap()];
        if ["summary.json", "runs.csv", "fingerprints.csv"].contains(&target) {
            continue; // the data beside the report, written with it
        }
        let id = target
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("link leaves the page: {target}"));
        assert!(ids.iter().any(|x| x == id), "link to missing #{id}");
    }

    // Every plot of every variant, by id.
    for v in ["honest", "green-surge"] {
        let mut want = vec![
            format!("variant-{v}"),
            format!("seats-{v}"),
            format!("hist-{v}-turnout"),
            format!("fingerprint-{v}"),
        ];
        for p in ["blue", "green", "red"] {
            want.push(format!("hist-{v}-share-{p}"));
        }
        for id in want {
            assert!(ids.contains(&id), "no element #{id}");
        }
    }
    assert_eq!(html.matches("class=\"plot seats\"").count(), 2);
    assert_eq!(html.matches("class=\"plot histogram\"").count(), 8);
    assert_eq!(html.matches("class=\"plot heatmap\"").count(), 2);

    // Axis titles carry units; real values are marked.
    for label in [
        "Turnout (% of registered voters)",
        "List share (% of valid list votes)",
        ">Seats<",
        ">Runs<",
        "Turnout (%)",
        "Blue Party&#39;s share of list ballots (%)",
        "List seats",
        "District seats",
        "Total seats",
        "real 60.00 %",
    ] {
        assert!(html.contains(label), "missing `{label}`");
    }
    // the real seat counts as diamonds: one per party and tier with a reported value
    let diamonds = html.matches(": real result ").count();
    let with_real: usize = report
        .variants
        .iter()
        .flat_map(|v| &v.seats)
        .flat_map(|t| &t.rows)
        .filter(|r| r.reported.is_some())
        .count();
    assert_eq!(diamonds, with_real);
    assert_eq!(
        with_real,
        2 * (3 + 3 + 3),
        "3 parties in 3 tiers, 2 variants"
    );
    // no row or panel that cannot differ from another: no independents (none stand a chance
    // in any run and none were elected), no round-1 panel under plurality
    assert!(
        report
            .variants
            .iter()
            .all(|v| v.seats.iter().all(|t| t.tier != "round1_seats"
                && t.rows.iter().all(|r| r.id != "independent"
                    || r.max > 0.0
                    || r.reported.is_some_and(|x| x > 0.0))))
    );

    // The overview comes first: before the contents and every variant, it names every variant
    // and draws turnout, the leader's share and its seats per tier on common axes.
    let overview = html.find("<section id=\"overview\">").expect("an overview");
    assert!(overview < html.find("<nav").unwrap());
    assert!(overview < html.find("<section id=\"variant-").unwrap());
    let table = &html[html.find("<table id=\"overview-variants\"").unwrap()..];
    let table = &table[..table.find("</table>").unwrap()];
    for v in ["honest", "green-surge"] {
        assert!(table.contains(&format!(">{v}</td>")), "{v} in the overview");
    }
    for id in [
        "overview-turnout",
        "overview-share",
        "overview-list-seats",
        "overview-district-seats",
        "overview-total-seats",
        "overview-outcomes",
    ] {
        assert!(ids.iter().any(|x| x == id), "no #{id}");
    }
    assert_eq!(html.matches("class=\"plot dots\"").count(), 5);
    // each dot plot's numbers as a table (the regional panels' are the regions table)
    assert_eq!(html.matches("<table class=\"numbers\">").count(), 5);
    // the regional view: a table and one panel per region, after the contents
    assert!(html.find("<section id=\"regions\">").unwrap() > html.find("<nav").unwrap());
    assert!(ids.iter().any(|x| x == "regions"));
    assert_eq!(html.matches("class=\"plot region\"").count(), 2);
    for region in ["Capital", "Countryside"] {
        assert!(html.contains(&format!("<tr><td>{region}</td>")), "{region}");
    }

    // Provenance: version, digest, seed, runs and the scenario file itself, escaped.
    let pv = &report.provenance;
    assert_eq!(pv.seed, 42);
    assert_eq!(pv.runs, 20);
    for s in [
        format!("<td>tamga version</td><td>{}</td>", tamga::VERSION),
        format!("<code>{}</code>", pv.scenario_digest),
        "<td>seed</td><td>42</td>".to_string(),
        "<td>runs per variant</td><td>20 (run indices 0–19)".to_string(),
        "<details><summary>Scenario file</summary><pre># A small election".to_string(),
        "name = &quot;Tutorial&quot;".to_string(),
    ] {
        assert!(html.contains(&s), "provenance lacks `{s}`");
    }
    // no fraud variant, so no fraud table and no detection matrix
    assert!(report.variants.iter().all(|v| v.tables.is_empty()));
    assert!(!html.contains("<table id=\"detection") && !html.contains("<table id=\"fraud"));
}

#[test]
fn a_fraud_report_follows_the_beneficiary_sets_maps_side_by_side_and_maps_regions() {
    // The tutorial with fraud: stuffing for Red, the third party by real votes.
    let s = load("tutorial-fraud.toml");
    let text = std::fs::read_to_string(scenario("tutorial-fraud.toml")).unwrap();
    let (outcomes, fps) = on_threads(2, || {
        let prepared = Simulator::new(&s, 42);
        let outcomes = run_prepared(&prepared, 0..20);
        let options = ReportOptions {
            fine_fingerprint: true,
            ..ReportOptions::default()
        };
        let fps = representative_fingerprints_with(&prepared, &outcomes, options);
        (outcomes, fps)
    });
    let summary = Summary::build(&s, 42, 0, &outcomes);
    // the overview follows the party the fraud favours, not the one with most real votes
    assert_eq!(summary.leader.as_ref().unwrap().id, "red");
    assert_eq!(summary.leader_reason, "fraud beneficiary");
    let text_overview = summary.to_terminal(false);
    assert!(
        text_overview.contains("followed: Red Party (red), the party the fraud variants favour"),
        "{text_overview}"
    );
    let stuffing = &summary.variants[1];
    assert_eq!(stuffing.beneficiary.as_deref(), Some("red"));
    let gained = stuffing.seat_effect.total_seats[2];
    let report = RunReport::build(&summary, &outcomes, fps, &text);
    let html = tamga::report::render(&report);
    let ids = check_well_formed(&html).unwrap_or_else(|e| panic!("malformed report.html: {e}"));
    // who gained and how many seats moved, in the overview's table
    let table = &html[html.find("<table id=\"overview-variants\"").unwrap()..];
    let table = &table[..table.find("</table>").unwrap()];
    assert!(
        table.contains(&format!(">Red Party {gained:+.1}</td>")),
        "{table}"
    );
    assert!(table.contains("Red Party: list %"), "{table}");
    // the fraud variant's fingerprint beside its baseline's (drawn by reference), both in
    // 0.1 % cells: 1001 one-pixel cells a side
    assert!(html.contains("<use href=\"#fingerprint-honest\"/>"));
    assert!(ids.iter().any(|x| x == "fingerprint-honest"));
    assert_eq!(html.matches("<div class=\"pair fine\">").count(), 1);
    assert_eq!(html.matches("viewBox=\"0 0 1217 1097\"").count(), 3);
    assert!(html.contains("Stations per 0.1 % × 0.1 % cell"));
    let fp = report.variants[1].fingerprint.as_ref().unwrap();
    assert_eq!(
        fp.fine.iter().map(|c| c.2 as usize).sum::<usize>(),
        fp.stations
    );
    assert_eq!(
        fp.fine_touched.iter().map(|c| c.2 as usize).sum::<usize>(),
        fp.stations_touched
    );
    assert!(fp.stations_touched > 0);
    // fingerprints.csv holds the map's 0.1 % cells as drawn, and its 1 % ones
    let csv = String::from_utf8(report.fingerprints_csv()).unwrap();
    let fine = drawn_cells(fp.fine.iter().copied(), &fp.fine_touched);
    assert_eq!(csv_cells(&csv, "simulated", "stuffing", "0.1"), fine);
    assert_eq!(
        csv_cells(&csv, "simulated", "stuffing", "1"),
        drawn_cells(heatmap_cells(fp), &fp.touched)
    );
    assert!(csv.contains(&format!("\nsimulated,stuffing,{},0.1,", fp.run)));
    // the regions: stuffing touched only the countryside, and every station is in a region
    let rv = report.regions.as_ref().expect("a regional view");
    assert_eq!(rv.regions, ["Capital", "Countryside"]);
    let col = &rv.columns[1];
    let (capital, country) = (
        col.regions[0].as_ref().unwrap(),
        col.regions[1].as_ref().unwrap(),
    );
    assert_eq!(capital.touched, 0);
    assert_eq!(country.touched, fp.stations_touched);
    assert_eq!(capital.stations + country.stations, 60);
    let honest_country = rv.columns[0].regions[1].as_ref().unwrap();
    assert!(country.turnout() > honest_country.turnout() + 0.05);
    assert!(html.contains(&format!(" · {} hit", country.touched)));

    // A detector added to the detection matrix (as the risk-limiting audits will be) is a row
    // like any other: the overview's caught-by, in the terminal and on the page, and the
    // matrix show it with no change to either.
    let mut with_rla = summary.clone();
    with_rla.detection.detectors.push(DetectorSummary {
        name: "rla_test_audit",
        kind: DetectorKind::Deterministic,
        cost_unit: "ballots audited",
        description: "a stand-in for a risk-limiting audit",
        false_alarm: vec![FalseAlarm {
            variant: "honest".into(),
            false_alarm_rate: Rate::wilson(0, 20),
            audit: None,
        }],
        power: vec![Power {
            variant: "stuffing".into(),
            baseline: "honest".into(),
            power: Rate::wilson(19, 20),
            threshold: None,
            mean_cost: 100.0,
            audit: None,
        }],
    });
    let text = with_rla.to_terminal(false);
    let caught = text
        .lines()
        .skip_while(|l| !l.starts_with("caught by:"))
        .find(|l| l.starts_with("stuffing"))
        .unwrap();
    let want = format!("rla_test_audit {} (0)", rate_text(&Rate::wilson(19, 20)));
    assert!(caught.replace('\u{a0}', " ").contains(&want), "{text}");
    let page = tamga::report::render(&RunReport::build(
        &with_rla,
        &outcomes,
        vec![None, None],
        "",
    ));
    let table = &page[page.find("<table id=\"overview-variants\"").unwrap()..];
    assert!(table[..table.find("</table>").unwrap()].contains("rla_test_audit 95 % ["));
    let matrix = &page[page.find("<table id=\"detection\"").unwrap()..];
    assert!(matrix.contains("\">rla_test_audit</td>"), "{matrix}");
}

#[test]
fn the_model_serialises() {
    let (report, _) = tutorial_report(2);
    let v = serde_json::to_value(&report).unwrap();
    assert_eq!(v["format"], "tamga-report");
    assert_eq!(v["variants"].as_array().unwrap().len(), 2);
    let honest = &v["variants"][0];
    assert_eq!(
        honest["seats"].as_array().unwrap().len(),
        3,
        "list, district, total (no runoffs under plurality: no round-1 panel)"
    );
    assert_eq!(
        honest["distributions"].as_array().unwrap().len(),
        4,
        "turnout + 3 shares"
    );
    let runs: u64 = honest["distributions"][0]["counts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_u64().unwrap())
        .sum();
    assert_eq!(runs, 20, "every run in one bin");
    assert_eq!(
        honest["fingerprint"]["heatmap"].as_array().unwrap().len(),
        101
    );
}

#[test]
fn same_seed_same_report_bytes_on_one_and_two_threads() {
    let (_, one) = tutorial_report(1);
    let (_, two) = tutorial_report(2);
    assert!(one == two, "report.html differs between 1 and 2 threads");
}

#[test]
fn a_table_in_the_model_becomes_a_section() {
    let (mut report, _) = tutorial_report(2);
    report.variants[1].tables.push(Table {
        id: "detection".into(),
        title: "Detection <matrix>".into(),
        note: "share of runs in which each detector fired".into(),
        header: vec!["fraud".into(), "receipt checks".into()],
        rows: vec![vec!["stuffing 5%".into(), "0.95".into()]],
        details: vec![vec![String::new(), "95 % of 20 runs".into()]],
        shade: vec![vec![None, Some(0.95)]],
    });
    let html = tamga::report::render(&report);
    check_well_formed(&html).unwrap();
    assert!(html.contains("<h3>Detection &lt;matrix&gt;</h3>"));
    assert!(html.contains("<table id=\"detection-green-surge\" class=\"heat\"><tr><th>fraud</th><th>receipt checks</th></tr><tr><td>stuffing 5%</td><td title=\"95 % of 20 runs\" style=\"background: rgba(0, 114, 178, 0.57)\">0.95</td></tr></table>"));
    assert_eq!(html.matches("<table id=\"detection").count(), 1);
}

#[test]
fn representative_run_re_simulates_exactly() {
    let s = load("tutorial.toml");
    let prepared = Simulator::new(&s, 42);
    let outcomes = run_prepared(&prepared, 0..12);
    for (vi, runs) in outcomes.iter().enumerate() {
        let r = representative_run(runs).unwrap();
        let rs = prepared.run_stations(vi, r).unwrap();
        assert_eq!(
            rs.outcome, runs[r as usize],
            "the same run, the same outcome"
        );
        let leader = rs
            .outcome
            .reported
            .list_votes
            .iter()
            .enumerate()
            .max_by_key(|(i, v)| (**v, usize::MAX - i))
            .unwrap()
            .0;
        assert_eq!(rs.leader, leader);
        assert_eq!(rs.stations.len(), 60);
        let sum = |f: &dyn Fn(&tamga::montecarlo::StationTally) -> u64| -> u64 {
            rs.stations.iter().map(f).sum()
        };
        assert_eq!(sum(&|t| t.registered), rs.outcome.registered);
        assert_eq!(sum(&|t| t.issued), rs.outcome.reported.ballots);
        assert_eq!(sum(&|t| t.leader), rs.outcome.reported.list_votes[leader]);
        assert_eq!(
            sum(&|t| t.ballots),
            rs.outcome.valid_list_votes() + rs.outcome.reported.list_invalid
        );
        let fp = RunFingerprint::from_run(&rs, &["Blue Party", "Green Party", "Red Party"]);
        assert_eq!(fp.run, r);
        assert_eq!(
            fp.heatmap.iter().flatten().sum::<u32>() as usize,
            fp.stations
        );
        assert!(fp.stations > 50, "nearly every station has ballots");
    }
    assert!(prepared.run_stations(9, 0).is_none());
}

#[test]
fn golden_tutorial_terminal_summary() {
    // A regression pin of the terminal summary: the tutorial for seed 42 and 20 runs, as
    // engine::golden_tutorial_summary pins its JSON. If a change alters it on purpose,
    // regenerate with TAMGA_BLESS=1 and say why in the commit.
    let s = load("tutorial.toml");
    let (outcomes, _) = run(&s, 2, 20, 42);
    let got = Summary::build(&s, 42, 0, &outcomes)
        .to_terminal(true)
        .replace(tamga::VERSION, "VERSION");
    golden("golden/tutorial-summary.txt", &got);
    for line in got.lines() {
        assert!(line.chars().count() <= 80, "too wide: {line}");
    }
}

#[test]
fn the_terminal_overview_comes_first_fits_80_columns_and_names_every_variant() {
    // Kazakhstan's ten variants (synthetic outcomes, 40 runs) and the tutorial with fraud
    let (s, _, outcomes) = synthetic_kazakhstan(40);
    let tf = load("tutorial-fraud.toml");
    let (tf_outcomes, _) = run(&tf, 2, 20, 42);
    for (s, outcomes) in [(&s, &outcomes), (&tf, &tf_outcomes)] {
        let summary = Summary::build(s, 2004, 0, outcomes);
        let overview = summary.to_terminal(false);
        let full = summary.to_terminal(true);
        assert!(full.starts_with(&overview), "the overview comes first");
        assert!(full.len() > overview.len(), "--detail adds the tables");
        for line in full.lines() {
            assert!(line.chars().count() <= 80, "wider than 80: `{line}`");
        }
        // one (tall) screen: ten variants in four tables, the detectors and the warnings
        assert!(overview.lines().count() <= 75, "{overview}");
        // every variant has a row of its own in the overview's first table
        let first_table: Vec<&str> = overview
            .split("\n\n")
            .nth(1)
            .expect("a table after the header")
            .lines()
            .collect();
        for v in &s.variants {
            let cut: String = v.name.chars().take(19).collect();
            assert!(
                first_table.iter().any(|l| l.starts_with(&cut)),
                "no row for `{}` in:\n{overview}",
                v.name
            );
        }
        // and the fraud variants are matched with detectors, each rate with its interval
        assert!(overview.contains("caught by:"), "{overview}");
        for v in s.variants.iter().filter(|v| !v.is_honest()) {
            let cut: String = v.name.chars().take(19).collect();
            let row = overview
                .lines()
                .skip_while(|l| !l.starts_with("caught by:"))
                .find(|l| l.starts_with(&cut))
                .unwrap_or_else(|| panic!("`{}` has no caught-by line:\n{overview}", v.name));
            assert!(row.contains('[') || row.contains("no detector"), "{row}");
        }
    }
}

/// SplitMix64: a fixed, dependency-free stream for synthetic outcomes.
struct Mix(u64);
impl Mix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// The Kazakhstan scenario (its text) with `runs` synthetic outcomes per variant: list seats
/// uniform within ±2 of the real count, district seats within ±10, list votes within ±10 % of
/// the real ones, turnout 45–65 %; every detector gets a reading.
fn synthetic_kazakhstan(runs: u32) -> (Scenario, String, Vec<Vec<RunOutcome>>) {
    let text = std::fs::read_to_string(scenario("kazakhstan-2004.toml"))
        .expect("bundled scenario is readable");
    let s = tamga::scenario::parse(&text, "kazakhstan-2004.toml").unwrap();
    let k = s.parties.len();
    let rep = s.reported.as_ref().unwrap();
    let (real_votes, real_list, real_district) = (
        rep.list_votes.clone().unwrap(),
        rep.list_seats.clone().unwrap(),
        rep.district_seats.clone().unwrap(),
    );
    let around =
        |mix: &mut Mix, x: u32, d: u32| (x + mix.below(2 * d as u64 + 1) as u32).saturating_sub(d);
    let mut mix = Mix(2004);
    let outcomes: Vec<Vec<RunOutcome>> = s
        .variants
        .iter()
        .map(|_| {
            (0..runs)
                .map(|run| {
                    let list_votes: Vec<u64> = real_votes
                        .iter()
                        .map(|&v| v * 9 / 10 + mix.below(v / 5 + 1))
                        .collect();
                    let list_seats: Vec<u32> =
                        real_list.iter().map(|&x| around(&mut mix, x, 2)).collect();
                    let district_seats: Vec<u32> = real_district
                        .iter()
                        .map(|&x| around(&mut mix, x, 10))
                        .collect();
                    let total_seats: Vec<u32> = (0..=k)
                        .map(|p| district_seats[p] + list_seats.get(p).copied().unwrap_or(0))
                        .collect();
                    let ballots = 3_897_000 + mix.below(1_732_000);
                    let list_invalid = mix.below(100_000);
                    let runoffs = mix.below(68) as u32;
                    let electronic = mix.below(200_000);
                    let tally = Tally {
                        ballots,
                        list_votes,
                        list_invalid,
                        list_seats,
                        round1_seats: district_seats.clone(),
                        district_seats,
                        total_seats,
                        runoffs,
                        lots: 0,
                        unallocated_list_seats: 0,
                    };
                    RunOutcome {
                        run,
                        registered: 8_660_000,
                        electronic,
                        reported: tally.clone(),
                        truth: tally,
                        trace: Default::default(),
                        detectors: Readings(std::array::from_fn(|_| Reading {
                            value: Some(mix.below(1000) as f64 / 1000.0),
                            cost: 1.0,
                        })),
                        pvt: None,
                    }
                })
                .collect()
        })
        .collect();
    (s, text, outcomes)
}

#[test]
fn a_thousand_run_kazakhstan_report_stays_under_2_mb() {
    // Built from 1,000 *synthetic* RunOutcomes per variant of the Kazakhstan scenario (its 10
    // parties, all its variants, every tier), not from 1,000 simulated runs (that takes many
    // minutes); the fingerprints are real: run 0 of each variant, re-simulated. The synthetic
    // runs are spread more widely than simulated ones (more distinct values mean more bars):
    // list seats uniform within ±2 of the real count, district seats within ±10, list votes
    // within ±10 % of the real ones, turnout 45–65 %; every detector gets a reading.
    let (s, text, outcomes) = synthetic_kazakhstan(1000);
    let summary = Summary::build(&s, 2004, 0, &outcomes);
    let prepared = Simulator::new(&s, 2004);
    let names: Vec<&str> = s.parties.iter().map(|p| p.name.as_str()).collect();
    let fingerprints: Vec<Option<RunFingerprint>> = (0..s.variants.len())
        .map(|vi| {
            prepared.run_stations(vi, 0).map(|rs| {
                RunFingerprint::from_run(&rs, &names).with_regions(
                    &rs,
                    &prepared.electorates[vi].stations,
                    &s.variants[vi].model.regions,
                )
            })
        })
        .collect();
    let report = RunReport::build(&summary, &outcomes, fingerprints, &text);
    let html = tamga::report::render(&report);
    check_well_formed(&html).unwrap();
    let size = html.len();
    eprintln!(
        "1,000 synthetic runs × {} variants with real fingerprints: report.html is {size} bytes",
        s.variants.len()
    );
    let part = |from: &str, to: &str| {
        let a = html.find(from).unwrap();
        html[a..].find(to).unwrap()
    };
    eprintln!(
        "overview {} B, regions {} B",
        part("<section id=\"overview\">", "</section>"),
        part("<section id=\"regions\">", "</section>")
    );
    assert!(size < 2_000_000, "report.html is {size} bytes");
    // the size bound covers full histograms (√1000 ≈ 32 bins) and every variant's heat map
    assert!(
        report.variants[0]
            .distributions
            .iter()
            .all(|h| h.counts.len() == 32)
    );
    assert_eq!(
        html.matches("class=\"plot heatmap\"").count(),
        s.variants.len()
    );
    // and the detection matrix, since the scenario has fraud variants
    assert!(html.contains("<table id=\"detection\" class=\"heat\">"));
    // and what fraud did, for fraud variants only
    assert!(html.contains("<table id=\"fraud-rural-stuffing\">"));
    // a fraud variant's fingerprint links to its baseline's, and the stations fraud touched are
    // marked (synthetic outcomes, real re-simulated fingerprints)
    assert!(html.contains("<a href=\"#fingerprint-exit-poll\">“exit-poll”</a>"));
    assert!(html.contains("id=\"fingerprint-exit-poll\""));
    assert!(html.contains("stations whose protocol fraud changed</title>"));
    // beside the baseline's map, and region by region
    assert!(html.contains("<use href=\"#fingerprint-exit-poll\"/>"));
    assert_eq!(html.matches("class=\"plot region\"").count(), 16);
    assert!(!html.contains("<table id=\"fraud-official\">"));
    // every plot's numbers: the seat strips and histograms in the page, the maps' cells (about
    // 2,000 a map) only in fingerprints.csv, linked from every map
    for v in &report.variants {
        let vs = tamga::report::html::slug(&v.name);
        assert!(html.contains(&format!("<table id=\"seats-{vs}-numbers\"")));
        assert!(html.contains(&format!("<table id=\"hists-{vs}-numbers\"")));
        let fp = v.fingerprint.as_ref().unwrap();
        assert!(fp.cells().len() > tamga::report::html::INLINE_CELLS);
        assert!(!html.contains(&format!("<table id=\"fingerprint-{vs}-numbers\"")));
    }
    assert_eq!(
        html.matches("<a href=\"fingerprints.csv\">").count(),
        1 + s.variants.len()
    );
}

/// The rows of the table with id `id` in `html`, after its header row: each row's heading (the
/// text of the last `<th colspan>` row above it, empty before any) and its cells' text.
fn table_rows(html: &str, id: &str) -> Vec<(String, Vec<String>)> {
    let t = &html[html
        .find(&format!("<table id=\"{id}\""))
        .unwrap_or_else(|| panic!("no table {id}"))..];
    let t = &t[..t.find("</table>").unwrap()];
    let mut heading = String::new();
    let mut rows = Vec::new();
    for row in t.split("<tr").skip(2) {
        if let Some(h) = row.split_once("<th colspan=\"6\">") {
            heading = h.1[..h.1.find("</th>").unwrap()].to_string();
            continue;
        }
        let cells = row
            .split("<td>")
            .skip(1)
            .map(|c| c[..c.find("</td>").unwrap()].to_string())
            .collect();
        rows.push((heading.clone(), cells));
    }
    rows
}

/// `fingerprints.csv`'s cells of one map: `(turnout, share)` as cell indices (whole percent for
/// 1 % cells, tenths for 0.1 % cells) → `(stations, touched)`.
fn csv_cells(
    csv: &str,
    map: &str,
    variant: &str,
    cell: &str,
) -> std::collections::BTreeMap<(u16, u16), (u32, u32)> {
    let scale = if cell == "1" { 1.0 } else { 10.0 };
    let index = |x: &str| (x.parse::<f64>().unwrap() * scale).round() as u16;
    csv.lines()
        .skip(1)
        .map(|l| l.split(',').collect::<Vec<_>>())
        .filter(|f| f[0] == map && f[1] == variant && f[3] == cell)
        .map(|f| {
            (
                (index(f[4]), index(f[5])),
                (f[6].parse().unwrap(), f[7].parse().unwrap()),
            )
        })
        .collect()
}

/// A map's cells as drawn: `heatmap` (or `fine`) with the touched ones of `touched`.
fn drawn_cells(
    cells: impl Iterator<Item = (u16, u16, u32)>,
    touched: &[(u16, u16, u32)],
) -> std::collections::BTreeMap<(u16, u16), (u32, u32)> {
    let mut m: std::collections::BTreeMap<(u16, u16), (u32, u32)> = cells
        .filter(|c| c.2 > 0)
        .map(|c| ((c.0, c.1), (c.2, 0)))
        .collect();
    for &(t, s, n) in touched {
        m.get_mut(&(t, s)).expect("a touched cell holds stations").1 = n;
    }
    m
}

fn heatmap_cells(fp: &RunFingerprint) -> impl Iterator<Item = (u16, u16, u32)> + '_ {
    fp.heatmap.iter().enumerate().flat_map(|(t, row)| {
        row.iter()
            .enumerate()
            .map(move |(s, &n)| (t as u16, s as u16, n))
    })
}

#[test]
fn every_plot_has_its_numbers_as_a_table_and_they_are_the_plots() {
    use std::collections::BTreeMap;
    use tamga::report::html::{INLINE_CELLS, slug};
    for name in ["tutorial.toml", "tutorial-fraud.toml"] {
        let s = load(name);
        let (outcomes, fps) = run(&s, 1, 20, 42);
        let summary = Summary::build(&s, 42, 0, &outcomes);
        let report = RunReport::build(&summary, &outcomes, fps, TUTORIAL);
        let html = tamga::report::render(&report);
        let csv = String::from_utf8(report.fingerprints_csv()).unwrap();
        assert!(csv.starts_with("map,variant,run,cell,turnout,share,stations,touched\n"));
        check_well_formed(&html).unwrap();
        let mut fingerprints = 0;
        for v in &report.variants {
            let vs = slug(&v.name);
            // seat strips: runs per seat count, summing to the runs in every row; their mean
            // is the summary's
            let rows = table_rows(&html, &format!("seats-{vs}-numbers"));
            let mut got: BTreeMap<(String, String), Vec<(u32, u32)>> = BTreeMap::new();
            for (tier, r) in &rows {
                let f = r[1]
                    .split(' ')
                    .map(|c| {
                        let (s, n) = c.split_once(':').unwrap();
                        (s.parse().unwrap(), n.parse().unwrap())
                    })
                    .collect();
                got.insert((tier.clone(), r[0].clone()), f);
            }
            let mut want = BTreeMap::new();
            for t in &v.seats {
                for row in &t.rows {
                    want.insert((t.title.clone(), row.name.clone()), row.frequencies.clone());
                    let f = &got[&(t.title.clone(), row.name.clone())];
                    let runs: u32 = f.iter().map(|x| x.1).sum();
                    assert_eq!(runs as usize, v.runs, "{name} {vs} {}", row.name);
                    let mean = f.iter().map(|x| (x.0 * x.1) as f64).sum::<f64>() / runs as f64;
                    let metric = format!("{}.{}", t.tier, row.id);
                    let m = summary.variants.iter().find(|x| x.name == v.name).unwrap();
                    let m = m.metrics.iter().find(|x| x.name == metric).unwrap();
                    assert!(
                        (mean - m.mean).abs() < 1e-9,
                        "{metric}: {mean} vs {}",
                        m.mean
                    );
                }
            }
            assert_eq!(got, want, "{name} {vs}");
            // histograms: one table, a row per plot with the bars' own counts, edges at
            // lo + k · width
            let table = table_rows(&html, &format!("hists-{vs}-numbers"));
            assert_eq!(table.len(), v.distributions.len());
            for (h, (_, row)) in v.distributions.iter().zip(&table) {
                let hid = match h.metric.strip_prefix("share.") {
                    Some(p) => format!("hist-{vs}-share-{}", slug(p)),
                    None => format!("hist-{vs}-{}", slug(&h.metric)),
                };
                assert!(html.contains(&format!("<tr id=\"{hid}-numbers\"><td>")));
                assert_eq!(row[0], tamga::svg::escape(&h.title));
                let counts: Vec<u32> = row[3].split(' ').map(|n| n.parse().unwrap()).collect();
                assert_eq!(counts, h.counts, "{hid}");
                assert_eq!(counts.iter().sum::<u32>() as usize, v.runs, "{hid}");
                let (from, width): (f64, f64) = (row[1].parse().unwrap(), row[2].parse().unwrap());
                assert!(
                    (from - 100.0 * h.lo).abs() <= 100.0 * h.bin_width / 10.0,
                    "{hid}"
                );
                assert!((width - 100.0 * h.bin_width).abs() <= 100.0 * h.bin_width / 10.0);
            }
            // fingerprint: every cell holding stations, and the touched ones, as drawn — in
            // the page (a small map) and in fingerprints.csv
            if let Some(fp) = &v.fingerprint {
                fingerprints += 1;
                let want = drawn_cells(heatmap_cells(fp), &fp.touched);
                assert!(want.len() <= INLINE_CELLS);
                let mut got = BTreeMap::new();
                for (_, r) in table_rows(&html, &format!("fingerprint-{vs}-numbers")) {
                    let t: u16 = r[0].parse().unwrap();
                    for (col, touched) in [(1, false), (2, true)] {
                        for c in r.get(col).into_iter().flat_map(|x| x.split_whitespace()) {
                            let (s, n) = c.split_once(':').unwrap();
                            let e: &mut (u32, u32) =
                                got.entry((t, s.parse::<u16>().unwrap())).or_default();
                            if touched {
                                e.1 = n.parse().unwrap();
                            } else {
                                e.0 = n.parse().unwrap();
                            }
                        }
                    }
                }
                assert_eq!(got, want, "{name} {vs}");
                assert_eq!(got.values().map(|c| c.0).sum::<u32>() as usize, fp.stations);
                assert_eq!(
                    got.values().map(|c| c.1).sum::<u32>() as usize,
                    fp.stations_touched
                );
                assert_eq!(csv_cells(&csv, "simulated", &v.name, "1"), want);
                assert!(csv.contains(&format!("\nsimulated,{},{},1,", v.name, fp.run)));
            }
        }
        assert!(fingerprints > 0, "{name}");
        // one CSV row per cell holding stations, no other
        let cells: usize = report
            .variants
            .iter()
            .filter_map(|v| v.fingerprint.as_ref())
            .map(|fp| fp.cells().len())
            .sum();
        assert_eq!(csv.lines().count(), 1 + cells);
        // collapsed by default: every table of numbers sits in a closed <details>, and every
        // map's numbers link the CSV
        assert_eq!(
            html.matches("<details class=\"numbers\"><summary>numbers</summary>")
                .count(),
            html.matches("-numbers\" class=\"numbers").count()
        );
        assert!(!html.contains("<details class=\"numbers\" open"));
        assert_eq!(
            html.matches("<a href=\"fingerprints.csv\">").count(),
            1 + fingerprints
        );
    }
}
