//! The audit detectors' risk, power and workload in every output of `tamga run`: the numbers
//! the terminal overview and report.html show are summary.json's (`src/summary/audits.rs`,
//! `src/report/rla.rs`).

use crate::common::{scenario, tamga};
use serde_json::Value;

/// The fraud tutorial with audits at 5 % and a protocol-fraud variant the audits catch.
fn scenario_text() -> String {
    let text = std::fs::read_to_string(scenario("tutorial-fraud.toml")).expect("bundled");
    let text = text.replace(
        "pvt_stations = 20",
        "pvt_stations = 20\nrla_risk_limit = 0.05",
    );
    format!(
        "{text}\n[[variant]]\nname = \"protocols\"\nextends = \"honest\"\nbaseline = \"honest\"\n\
         [[variant.fraud]]\nkind = \"protocol\"\nbeneficiary = \"red\"\nshare = 0.5\n\
         stations = 1.0\n"
    )
}

/// One audit on one variant as summary.json has it.
struct Expected {
    variant: String,
    audit: String,
    fired: f64,
    full: f64,
    confirmed: u64,
    wrong: u64,
    mean: f64,
    p95: f64,
}

fn expected(summary: &Value) -> Vec<Expected> {
    let mut out = Vec::new();
    for d in summary["detection"]["detectors"]
        .as_array()
        .expect("detectors")
    {
        let name = d["name"].as_str().expect("name");
        for (list, rate) in [("false_alarm", "false_alarm_rate"), ("power", "power")] {
            for e in d[list].as_array().expect("list") {
                let Some(a) = e.get("audit") else { continue };
                let risk = &a["risk"];
                let wrong = risk["runs"].as_u64().expect("runs");
                out.push(Expected {
                    variant: e["variant"].as_str().expect("variant").to_string(),
                    audit: name.to_string(),
                    fired: e[rate]["rate"].as_f64().expect("rate"),
                    full: a["full_hand_count"]["rate"].as_f64().expect("full"),
                    confirmed: risk["rate"]
                        .as_f64()
                        .map_or(0, |r| (r * wrong as f64).round() as u64),
                    wrong,
                    mean: a["mean_ballots"].as_f64().expect("mean"),
                    p95: a["p95_ballots"].as_f64().expect("p95"),
                });
            }
        }
    }
    out
}

/// `4,958,488` → 4958488.
fn number(cell: &str) -> f64 {
    cell.replace(',', "").parse().unwrap_or(f64::NAN)
}

fn check_pct(e: &Expected, cell: &str, want: f64) {
    assert!(
        (number(cell) - 100.0 * want).abs() <= 0.5,
        "{} on {}: {cell} vs {want}",
        e.audit,
        e.variant
    );
}

/// Checks a row's cells against the summary: percentages within rounding, ballots within
/// half a ballot, the risk as `k of n` (or `—` with no wrong run).
fn check_cells(e: &Expected, fired: &str, full: &str, risk: &str, mean: &str, p95: &str) {
    let pct = |cell: &str| number(cell.trim_end_matches(" %").split(' ').next().unwrap_or(""));
    let what = format!("{} on {}", e.audit, e.variant);
    assert!(
        (pct(fired) - 100.0 * e.fired).abs() <= 0.5,
        "{what}: fired {fired}"
    );
    assert!(
        (pct(full) - 100.0 * e.full).abs() <= 0.5,
        "{what}: full {full}"
    );
    let want_risk = if e.wrong == 0 {
        "—".to_string()
    } else {
        format!("{} of {}", e.confirmed, e.wrong)
    };
    assert_eq!(risk, want_risk, "{what}: risk");
    assert!((number(mean) - e.mean).abs() <= 0.5, "{what}: mean {mean}");
    assert!((number(p95) - e.p95).abs() <= 0.5, "{what}: p95 {p95}");
}

#[test]
fn the_terminal_and_the_report_show_summary_json_s_audit_figures() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("audited.toml");
    std::fs::write(&file, scenario_text()).unwrap();
    // the real station results the scenario names, beside it
    let stations = "tutorial-fraud-stations.csv";
    std::fs::copy(scenario(stations), dir.path().join(stations)).unwrap();
    let out = dir.path().join("out");
    let assert = tamga()
        .args(["run", "--runs", "8", "--seed", "3", "--detail", "--out"])
        .arg(&out)
        .arg(&file)
        .assert()
        .success();
    let stdout = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
    let summary: Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    let rows = expected(&summary);
    // an audit row per variant and audit
    assert!(rows.len() >= 4, "{} audit rows", rows.len());
    assert!(
        rows.iter()
            .any(|e| e.variant == "protocols" && e.fired > 0.5),
        "falsified protocols are caught"
    );
    // the overview: a row per variant, a cell per audit (headed by its name without `rla_`,
    // "comparison" cut to "comp"): fired/full % and mean ballots to three significant figures
    let overview = stdout
        .split("audits of the paper at risk limit 5")
        .nth(1)
        .and_then(|t| t.split("\n\n").next())
        .expect("the overview has the audits");
    let head = overview.lines().nth(3).expect("head");
    for e in &rows {
        let audit = e.audit.trim_start_matches("rla_");
        let label = audit.replace("comparison", "comp");
        // the column whose head is the label, word for word
        let col = head
            .match_indices(label.as_str())
            .map(|(i, _)| i)
            .find(|&i| {
                head[..i].ends_with(' ')
                    && head[i + label.len()..]
                        .chars()
                        .next()
                        .is_none_or(|c| c == ' ')
            })
            .expect("a column per audit");
        let line = overview
            .lines()
            .find(|l| l.split_whitespace().next() == Some(e.variant.as_str()))
            .expect("a row per variant");
        let cell: Vec<&str> = line[col..].split_whitespace().collect();
        let (fired, full) = cell[0].split_once('/').expect("fired/full");
        check_pct(e, fired, e.fired);
        check_pct(e, full, e.full);
        let (digits, scale) = match cell[1].strip_suffix('k') {
            Some(d) => (d, 1e3),
            None => match cell[1].strip_suffix('M') {
                Some(d) => (d, 1e6),
                None => (cell[1], 1.0),
            },
        };
        let mean = number(digits) * scale;
        assert!(
            (mean - e.mean).abs() <= 0.005 * e.mean + 0.5,
            "{audit} on {}: {mean} vs {}",
            e.variant,
            e.mean
        );
    }
    // --detail: one row per variant and audit, exact figures
    let table = stdout
        .split("risk-limiting audits of the paper")
        .nth(1)
        .expect("the overview has the audits' table");
    for l in stdout.lines().filter(|l| !l.starts_with("wrote ")) {
        assert!(l.chars().count() <= 80, "too wide: {l}");
    }
    for e in &rows {
        let audit = e
            .audit
            .trim_start_matches("rla_")
            .replace("comparison", "comp");
        let line = table
            .lines()
            .find(|l| {
                l.get(..20).map(str::trim_end) == Some(e.variant.as_str())
                    && l.get(21..31).map(str::trim_end) == Some(audit.as_str())
            })
            .unwrap_or_else(|| panic!("no row for {audit} on {}:\n{table}", e.variant));
        let cell = |a: usize, b: usize| line.get(a..b.min(line.len())).unwrap_or("").trim();
        // columns: variant 20, audit 10, fired 7, full 6, risk 9, mean 12, p95 10
        check_cells(
            e,
            cell(32, 39),
            cell(40, 46),
            cell(47, 56),
            cell(57, 69),
            cell(70, 80),
        );
    }
    // runs.csv: each run's ballots examined, whose mean over a variant's runs is the summary's
    let csv = std::fs::read_to_string(out.join("runs.csv")).unwrap();
    let mut lines = csv.lines();
    let head: Vec<&str> = lines.next().expect("header").split(',').collect();
    let rows_csv: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    for e in &rows {
        let col = head
            .iter()
            .position(|h| *h == format!("ballots_examined.{}", e.audit))
            .unwrap_or_else(|| panic!("runs.csv has no column for {}", e.audit));
        let values: Vec<f64> = rows_csv
            .iter()
            .filter(|r| r[0] == e.variant)
            .map(|r| number(r[col]))
            .collect();
        assert_eq!(values.len(), 8);
        let mean = values.iter().sum::<f64>() / values.len() as f64;
        assert!(
            (mean - e.mean).abs() <= 0.5,
            "{} on {}: runs.csv mean {mean}, summary {}",
            e.audit,
            e.variant,
            e.mean
        );
    }
    // report.html: the audits' table, one row per variant and audit
    let section = html
        .split("<table id=\"audits\"")
        .nth(1)
        .and_then(|t| t.split("</table>").next())
        .expect("report.html has the audits' table");
    let cells = |row: &str| -> Vec<String> {
        row.split("<td")
            .skip(1)
            .map(|c| {
                let c = &c[c.find('>').map_or(0, |i| i + 1)..];
                c.split("</td>").next().unwrap_or("").to_string()
            })
            .collect()
    };
    let rows_html: Vec<Vec<String>> = section.split("<tr>").skip(2).map(cells).collect();
    assert_eq!(rows_html.len(), rows.len());
    for e in &rows {
        let r = rows_html
            .iter()
            .find(|r| r[0] == e.variant && r[1] == e.audit)
            .unwrap_or_else(|| panic!("no report row for {} on {}", e.audit, e.variant));
        check_cells(e, &r[2], &r[3], &r[4], &r[5], &r[6]);
    }
}

#[test]
fn without_audits_no_table_is_shown() {
    let dir = tempfile::tempdir().unwrap();
    let assert = tamga()
        .args(["run", "--runs", "2", "--detail", "--out"])
        .arg(dir.path())
        .arg(scenario("tutorial-fraud.toml"))
        .assert()
        .success();
    let stdout = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
    assert!(!stdout.contains("risk-limiting audits"));
    let html = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    assert!(!html.contains("id=\"audits\""));
    let csv = std::fs::read_to_string(dir.path().join("runs.csv")).unwrap();
    assert!(!csv.contains("ballots_examined."));
}
