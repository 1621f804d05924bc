//! The station-level fast path against the ballot path, statistically: on the tutorial and on
//! Kazakhstan (its honest `official` variant), the means of turnout, every list share, the
//! invalid and electronic shares, runoffs and district seats agree within a few Monte Carlo
//! standard errors (paired: the same seed gives both paths the same station turnout and
//! preference draws, so the comparison isolates what each path does with them), and the
//! variances of turnout, shares and runoffs agree (F-ratio of independent samples, different
//! seeds). A control shows the same
//! comparison flags a small real difference, so the test can fail.

use crate::common::{TUTORIAL, load, run, tamga, tutorial};
use tamga::model::{Scenario, SimPath};
use tamga::montecarlo::RunOutcome;
use tamga::montecarlo::Simulator;
use tamga::scenario;

/// One variant of a bundled scenario, without forensic detectors.
fn load_variant(name: &str, variant: &str) -> Scenario {
    let mut s = load(name);
    s.variants.retain(|v| v.name == variant);
    assert_eq!(s.variants.len(), 1, "variant {variant} exists");
    // forensic detectors cost the same on both paths and are not compared here
    s.detectors.station_results_published = false;
    s
}

fn runs(s: &Scenario, path: SimPath, seed: u64, n: u32) -> Vec<RunOutcome> {
    let mut s = s.clone();
    s.montecarlo.path = path;
    let out = run(&s, seed, 0..n);
    out.into_iter().next().expect("one variant")
}

/// Named per-run metrics compared between the paths.
fn metrics(o: &RunOutcome) -> Vec<(String, f64)> {
    let mut m = vec![("turnout".to_string(), o.turnout())];
    for (p, s) in o.list_shares().iter().enumerate() {
        m.push((format!("share.{p}"), *s));
    }
    let ballots = o.reported.ballots.max(1) as f64;
    m.push(("invalid".into(), o.reported.list_invalid as f64 / ballots));
    m.push(("electronic".into(), o.electronic as f64 / ballots));
    m.push(("runoffs".into(), o.reported.runoffs as f64));
    for (p, s) in o.reported.district_seats.iter().enumerate() {
        m.push((format!("district_seats.{p}"), *s as f64));
    }
    m
}

fn mean_var(x: &[f64]) -> (f64, f64) {
    let n = x.len() as f64;
    let m = x.iter().sum::<f64>() / n;
    let v = x.iter().map(|y| (y - m).powi(2)).sum::<f64>() / (n - 1.0);
    (m, v)
}

fn column(outcomes: &[RunOutcome], j: usize) -> Vec<f64> {
    outcomes.iter().map(|o| metrics(o)[j].1).collect()
}

/// Paired comparison of means: |mean(a − b)| / se(a − b) for each metric, with its name.
fn paired_z(a: &[RunOutcome], b: &[RunOutcome]) -> Vec<(String, f64)> {
    let names: Vec<String> = metrics(&a[0]).into_iter().map(|(n, _)| n).collect();
    names
        .into_iter()
        .enumerate()
        .map(|(j, name)| {
            let (xa, xb) = (column(a, j), column(b, j));
            let d: Vec<f64> = xa.iter().zip(&xb).map(|(x, y)| x - y).collect();
            let (m, v) = mean_var(&d);
            let se = (v / d.len() as f64).sqrt();
            let z = if se > 0.0 {
                m.abs() / se
            } else if m == 0.0 {
                0.0
            } else {
                f64::INFINITY
            };
            (name, z)
        })
        .collect()
}

/// Ratio of variances (a over b) per metric; `None` where both are zero.
fn f_ratios(a: &[RunOutcome], b: &[RunOutcome]) -> Vec<(String, Option<f64>)> {
    let names: Vec<String> = metrics(&a[0]).into_iter().map(|(n, _)| n).collect();
    names
        .into_iter()
        .enumerate()
        .map(|(j, name)| {
            let (_, va) = mean_var(&column(a, j));
            let (_, vb) = mean_var(&column(b, j));
            let f = if va == 0.0 && vb == 0.0 {
                None
            } else {
                Some(va / vb)
            };
            (name, f)
        })
        .collect()
}

/// Both tests on one scenario: paired means within `z_max` standard errors, independent
/// variances within F bounds at about four standard deviations of log F.
fn compare(s: &Scenario, n: u32, z_max: f64) {
    let ballot = runs(s, SimPath::Ballot, 11, n);
    let station = runs(s, SimPath::Station, 11, n);
    let station_other_seed = runs(s, SimPath::Station, 12, n);
    let mut failures = Vec::new();
    let zs = paired_z(&ballot, &station);
    if let Some((metric, worst)) = zs.iter().max_by(|a, b| a.1.total_cmp(&b.1)) {
        eprintln!(
            "{}: largest paired |z| over {} metrics: {worst:.2} ({metric})",
            s.meta.name,
            zs.len()
        );
    }
    for (name, z) in zs {
        if z > z_max {
            failures.push(format!("{name}: means differ by {z:.2} standard errors"));
        }
    }
    // log F has standard deviation ≈ sqrt(2/(n−1) + 2/(n−1)) for normal samples
    let bound = (4.0 * (4.0 / (n as f64 - 1.0)).sqrt()).exp();
    // district seats of small parties are rare 0/1 events for which the normal-theory F bounds
    // do not hold: their means are compared above, their variances are not
    for (name, f) in f_ratios(&ballot, &station_other_seed) {
        if name.starts_with("district_seats") {
            continue;
        }
        match f {
            Some(f) if !(1.0 / bound..=bound).contains(&f) => failures.push(format!(
                "{name}: variance ratio {f:.3} outside [{:.3}, {bound:.3}]",
                1.0 / bound
            )),
            _ => {}
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn tutorial_paths_agree_in_mean_and_variance() {
    compare(&load_variant("tutorial.toml", "honest"), 400, 4.0);
}

#[test]
fn kazakhstan_paths_agree_in_mean_and_variance() {
    compare(&load_variant("kazakhstan-2004.toml", "official"), 120, 4.0);
}

#[test]
fn comparison_detects_a_small_real_difference() {
    // the station path with the invalid rate raised from 2.84% to 3.00%: the paired comparison
    // must see it in the invalid share (and only a real difference should be seen)
    let base = load_variant("kazakhstan-2004.toml", "official");
    let mut changed = base.clone();
    changed.variants[0].model.ballots.invalid_rate = 0.030;
    let n = 40;
    let a = runs(&base, SimPath::Station, 11, n);
    let b = runs(&changed, SimPath::Station, 11, n);
    let z = paired_z(&a, &b);
    let invalid = z.iter().find(|(name, _)| name == "invalid").map(|x| x.1);
    assert!(
        invalid.is_some_and(|z| z > 4.0),
        "invalid share difference not detected: {invalid:?}"
    );
}

#[test]
fn station_path_is_deterministic_and_reported_in_provenance() {
    let mut s = load_variant("tutorial.toml", "honest");
    let a = runs(&s, SimPath::Station, 5, 8);
    let b = runs(&s, SimPath::Station, 5, 8);
    assert_eq!(a, b);
    s.montecarlo.path = SimPath::Station;
    assert_eq!(tamga::sim::station::path_name(&s), "station");
    s.montecarlo.path = SimPath::Ballot;
    assert_eq!(tamga::sim::station::path_name(&s), "ballot");
    s.montecarlo.path = SimPath::Hybrid;
    assert_eq!(tamga::sim::station::path_name(&s), "hybrid");
}

#[test]
fn fraud_variants_fall_back_to_ballots() {
    let mut s = load("kazakhstan-2004.toml");
    s.variants
        .retain(|v| v.name == "official" || v.name == "stuffing-and-machines");
    s.montecarlo.path = SimPath::Station;
    assert_eq!(tamga::sim::station::path_name(&s), "station+ballot");
    let out = run(&s, 3, 0..1);
    // the fraud variant still flips ballots on machines, which only the ballot path can do
    assert!(out[1][0].trace.flipped > 0);
    assert_eq!(out[0][0].trace.flipped, 0);
}

#[test]
fn splitting_a_run_across_threads_changes_nothing() {
    // the ballot path split into blocks of stations (used when there are fewer runs than
    // threads, e.g. one India-scale election) gives the same outcome, fraud trace included
    let mut s = load("kazakhstan-2004.toml");
    s.variants
        .retain(|v| v.name == "official" || v.name == "stuffing-and-ledgers");
    let prepared = Simulator::new(&s, 9);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .expect("pool");
    for v in 0..2 {
        let mut ws = tamga::sim::Workspace::default();
        let whole = prepared.run_one(v, 4, &mut ws);
        let split = pool.install(|| prepared.run_one_split(v, 4, &mut ws, 3));
        assert_eq!(whole, split, "variant {v}");
        if v == 1 {
            assert!(split.trace.stuffed > 0 && split.trace.ledgers_tampered > 0);
        }
    }
}

#[test]
fn montecarlo_path_key_is_read_and_checked() {
    let text = TUTORIAL;
    let with = |path: &str| text.replace("seed = 42", &format!("seed = 42\npath = \"{path}\""));
    let s = scenario::parse(&with("station"), "t.toml").expect("valid");
    assert_eq!(s.montecarlo.path, SimPath::Station);
    let s = scenario::parse(&with("ballot"), "t.toml").expect("valid");
    assert_eq!(s.montecarlo.path, SimPath::Ballot);
    let s = scenario::parse(text, "t.toml").expect("valid");
    assert_eq!(s.montecarlo.path, SimPath::Hybrid, "the default");
    let err = scenario::parse(&with("voxel"), "t.toml")
        .expect_err("unknown path rejected")
        .to_string();
    assert!(err.contains("montecarlo.path"), "{err}");
}

#[test]
fn cli_path_flag_overrides_the_scenario_and_reaches_provenance() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("out");
    let full = tutorial();
    let output = tamga()
        .args(["run", "--runs", "3", "--path", "station", "--json", "--out"])
        .arg(&out)
        .arg(&full)
        .output()
        .expect("runs");
    assert!(output.status.success());
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(summary["provenance"]["path"], "station");
    let bad = tamga()
        .args(["run", "--runs", "1", "--path", "votes"])
        .arg(&full)
        .output()
        .expect("runs");
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn sharded_station_runs_merge_into_the_unsharded_station_summary() {
    let dir = tempfile::tempdir().expect("temp dir");
    let full = tutorial();
    let whole = dir.path().join("whole");
    let parts = dir.path().join("parts");
    let merged = dir.path().join("merged");
    let ok = |o: std::process::Output| {
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    };
    ok(tamga()
        .args(["run", "--runs", "6", "--path", "station", "--out"])
        .arg(&whole)
        .arg(&full)
        .output()
        .expect("runs"));
    for k in ["1/2", "2/2"] {
        ok(tamga()
            .args([
                "run", "--runs", "6", "--path", "station", "--shard", k, "--out",
            ])
            .arg(&parts)
            .arg(&full)
            .output()
            .expect("runs"));
    }
    ok(tamga()
        .arg("merge")
        .arg(&parts)
        .arg("--out")
        .arg(&merged)
        .output()
        .expect("merges"));
    let read = |d: &std::path::Path| std::fs::read(d.join("summary.json")).expect("summary");
    assert_eq!(read(&whole), read(&merged));
    let s: serde_json::Value = serde_json::from_slice(&read(&merged)).expect("json");
    assert_eq!(s["provenance"]["path"], "station");
    // a ballot-path shard does not merge with station-path shards
    ok(tamga()
        .args([
            "run", "--runs", "6", "--path", "ballot", "--shard", "1/2", "--out",
        ])
        .arg(dir.path().join("ballot"))
        .arg(&full)
        .output()
        .expect("runs"));
    let mixed = tamga()
        .arg("merge")
        .arg(dir.path().join("ballot").join("part-1-of-2.json"))
        .arg(parts.join("part-2-of-2.json"))
        .arg("--out")
        .arg(dir.path().join("mixed"))
        .output()
        .expect("merges");
    assert_eq!(mixed.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&mixed.stderr).contains("path"));
}
