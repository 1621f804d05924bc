//! `tamga infer`: the `[inference]` section's validation, the command's errors, determinism at
//! any thread count, and simulation-based calibration (Talts et al. 2018) of the whole procedure
//! on the tutorial: ranks uniform, nominal 90 % intervals covering 85–95 % — and the same check
//! failing for a deliberately over-confident posterior.

use crate::common::{TUTORIAL, on_threads, tamga};
use std::sync::atomic::AtomicBool;
use tamga::infer::abc::Settings;
use tamga::infer::calibration::sbc;
use tamga::infer::election::{ElectionModel, Observed, derived_names};
use tamga::infer::{Request, Status, infer, resolve};
use tamga::model::Scenario;

/// Candidate mechanisms for the tutorial: stuffing and pressure for `blue`.
pub const INFERENCE: &str = r#"
[inference]
hypothesis = "honest"
[[inference.mechanism]]
name = "stuffing"
kind = "stuffing"
beneficiary = "blue"
rate = [0.0, 0.4]
[[inference.mechanism]]
name = "pressure"
kind = "pressure"
beneficiary = "blue"
share = [0.0, 0.3]
"#;

pub fn tutorial_inference() -> Scenario {
    tamga::scenario::parse(&format!("{TUTORIAL}{INFERENCE}"), "tutorial+inference").expect("valid")
}

fn problems_of(extra: &str) -> String {
    match tamga::scenario::parse(&format!("{TUTORIAL}{extra}"), "t") {
        Ok(_) => panic!("accepted: {extra}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn inference_section_is_read_with_priors_and_their_lower_ends() {
    let s = tutorial_inference();
    let inf = s.inference.as_ref().expect("section");
    assert_eq!(inf.hypothesis.as_deref(), Some("honest"));
    assert_eq!(inf.names(), "stuffing, pressure");
    let m = &inf.mechanisms[0];
    assert_eq!(m.priors.len(), 1);
    assert_eq!((m.priors[0].lo, m.priors[0].hi), (0.0, 0.4));
    assert_eq!(
        m.fraud.kind,
        tamga::fraud::FraudKind::Stuffing {
            rate: 0.0,
            via_machine: false
        }
    );
}

/// The problems of the tutorial with one mechanism `name` of `kind` for `party` and the line
/// `extra`.
fn problems_of_mechanism(name: &str, kind: &str, party: &str, extra: &str) -> String {
    problems_of(&format!(
        "[inference]\n[[inference.mechanism]]\nname = \"{name}\"\nkind = \"{kind}\"\nbeneficiary = \"{party}\"\n{extra}\n"
    ))
}

#[test]
fn bad_inference_sections_name_the_place() {
    // (name, kind, party, extra line, what the message must say)
    let cases = [
        (
            "s",
            "stuffing",
            "blue",
            "rate = [0.3, 0.1]",
            "inference.mechanism[0].rate: prior [0.3, 0.1] has no mass",
        ),
        (
            "s",
            "pressure",
            "blue",
            "share = [0.1, 1.5]",
            "reaches outside",
        ),
        (
            "f",
            "flip",
            "blue",
            "share = [0.0, 0.2]",
            "inference.mechanism[0].kind: `flip` acts inside voting machines",
        ),
        (
            "p",
            "pressure",
            "purple",
            "share = [0.0, 0.2]",
            "`purple` is not a party id",
        ),
        (
            "none",
            "pressure",
            "blue",
            "share = [0.0, 0.2]",
            "names the honest model",
        ),
        (
            "k",
            "klimek",
            "blue",
            "incremental = [0.6, 0.9]\nextreme = [0.5, 0.6]",
            "no mass",
        ),
    ];
    for (name, kind, party, extra, want) in cases {
        let got = problems_of_mechanism(name, kind, party, extra);
        assert!(got.contains(want), "{extra}: {got}");
    }
    let hypothesis =
        problems_of(&INFERENCE.replace("hypothesis = \"honest\"", "hypothesis = \"honst\""));
    assert!(
        hypothesis.contains("inference.hypothesis: there is no variant `honst`"),
        "{hypothesis}"
    );
    let unknown = problems_of(&INFERENCE.replace("rate = [0.0, 0.4]", "rat = [0.0, 0.4]"));
    assert!(unknown.contains("rat: unknown key"), "{unknown}");
}

pub fn request(models: &[&str], seed: u64) -> Request {
    Request {
        hypothesis: "honest".into(),
        models: models.iter().map(|s| s.to_string()).collect(),
        particles: 60,
        budget: 600,
        seed,
        honest_ballots_sd: 0.0,
        honest_moved_sd: 0.0,
        honest_ballots_unidentified: [0.0; 2],
        honest_moved_unidentified: [0.0; 2],
        kernel: tamga::infer::abc::Kernel::Axes,
    }
}

#[test]
fn unknown_variants_and_mechanisms_are_refused() {
    let s = tutorial_inference();
    let mut r = request(&["stuffing"], 1);
    r.hypothesis = "green-surge-x".into();
    let e = resolve(&s, &r).unwrap_err().to_string();
    assert!(
        e.contains("no variant `green-surge-x`") && e.contains("honest, green-surge"),
        "{e}"
    );
    let e = resolve(&s, &request(&["stuffing+bribes"], 1))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("no mechanism `bribes`") && e.contains("stuffing, pressure"),
        "{e}"
    );
    assert!(resolve(&s, &request(&["none", "pressure", "stuffing+pressure"], 1)).is_ok());
}

pub fn observed(s: &Scenario) -> Observed {
    let groups = &s.inference.as_ref().expect("inference").statistics;
    Observed::reported(s, s.reported.as_ref().expect("reported"), groups).expect("statistics")
}

/// The JSON report of an inference of `s` over `models` with `seed`.
fn infer_json(s: &Scenario, models: &[&str], seed: u64) -> String {
    let stop = AtomicBool::new(false);
    infer(
        s,
        &request(models, seed),
        observed(s),
        "reported",
        None,
        &stop,
        &mut |_, _| {},
    )
    .expect("runs")
    .to_json()
}

#[test]
fn same_seed_same_result_at_any_thread_count() {
    let s = tutorial_inference();
    let models = ["none", "stuffing", "pressure"];
    let one = on_threads(1, || infer_json(&s, &models, 7));
    assert_eq!(one, on_threads(3, || infer_json(&s, &models, 7)));
    assert!(one.contains("\"format\": \"tamga-infer\""));
    // a different seed gives a different result (the seed reaches the draws)
    assert_ne!(one, infer_json(&s, &models, 8));
}

#[test]
fn a_result_no_mechanism_reaches_is_not_turned_into_a_posterior() {
    // blue at 90 % of the list vote: pressure of at most 5 % cannot get there
    let text = format!(
        "{TUTORIAL}{}",
        INFERENCE.replace("share = [0.0, 0.3]", "share = [0.0, 0.05]")
    )
    .replace(
        "list_votes = { blue = 15000, green = 9000, red = 11300 }",
        "list_votes = { blue = 32000, green = 2000, red = 1300 }",
    );
    let s = tamga::scenario::parse(&text, "t").expect("valid");
    let stop = AtomicBool::new(false);
    let r = infer(
        &s,
        &request(&["pressure"], 3),
        observed(&s),
        "reported",
        None,
        &stop,
        &mut |_, _| {},
    )
    .expect("runs");
    assert_eq!(r.status, Status::NotReproduced);
    assert!(r.derived.is_empty());
    assert!(r.models[0].parameters[0].posterior.is_none());
    assert!(
        r.reading[0].starts_with("No candidate reproduces"),
        "{:?}",
        r.reading
    );
    // no verdict and no "posterior probability" after saying there is no posterior
    let text = r.reading.join("\n");
    for word in ["supported", "excluded", "posterior probability "] {
        assert!(!text.contains(word), "{word}: {text}");
    }
    let shown = r.to_text();
    assert!(
        !shown.contains("supported") && !shown.contains("excluded"),
        "{shown}"
    );
}

/// Simulation-based calibration on the tutorial with stuffing and pressure acting together
/// (two parameters, and what they did: votes added and moved). 300 synthetic elections of
/// 60 particles and up to 900 simulations each (≈ 270,000 elections of 60 stations): with 100
/// the binomial spread of a coverage (± 3 points) put a calibrated procedure below 85 % on
/// some quantity at about one seed in five; with 300 (± 1.7) five seeds pass (docs/inference.md).
#[test]
fn calibration_ranks_uniform_and_90_percent_intervals_cover_85_to_95_percent() {
    let s = tutorial_inference();
    let r = request(&["stuffing+pressure"], 2026);
    let (h, models) = resolve(&s, &r).expect("resolves");
    let mut em = ElectionModel::new(&s, h, &models, observed(&s), r.seed);
    let names = derived_names(&s);
    let derived: Vec<(usize, String)> = ["votes_added", "votes_moved"]
        .iter()
        .map(|n| (names.iter().position(|x| x == n).unwrap(), n.to_string()))
        .collect();
    let settings = Settings::new(60, 900, r.seed);
    let replicates = 300;
    // the posterior as inferred, and shrunk to half its width around its median
    let mut both = sbc(&mut em, 0, &settings, replicates, &derived, &[1.0, 0.5]);
    let over = both.pop().expect("shrunk");
    let cal = both.pop().expect("as inferred");
    let mut report = String::new();
    for c in &cal {
        report.push_str(&format!(
            "{}: coverage {:.2}, rank χ² p {:.3}\n",
            c.name,
            c.coverage(),
            c.uniformity_p(10)
        ));
    }
    for c in &cal {
        assert!(
            (0.85..=0.95).contains(&c.coverage()),
            "coverage out of 85–95 %:\n{report}"
        );
        assert!(c.uniformity_p(10) > 0.01, "ranks not uniform:\n{report}");
    }
    // the same check fails for the over-confident posterior
    for c in over.iter().take(2) {
        assert!(
            c.coverage() < 0.85 || c.uniformity_p(10) <= 0.01,
            "an over-confident posterior passed: {} coverage {:.2} p {:.3}",
            c.name,
            c.coverage(),
            c.uniformity_p(10)
        );
    }
}

#[test]
fn cli_errors_are_clear() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.toml");
    std::fs::write(&path, format!("{TUTORIAL}{INFERENCE}")).unwrap();
    let out = tamga()
        .arg("infer")
        .arg(&path)
        .args(["--hypothesis", "nope", "--fraud", "stuffing"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("there is no variant `nope`"), "{err}");
    let out = tamga()
        .arg("infer")
        .arg(&path)
        .args(["--fraud", "stuffing,ghost"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no mechanism `ghost`"), "{err}");
    // no [inference] at all
    let out = tamga()
        .arg("infer")
        .arg(crate::common::tutorial())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no [inference] section"));
    // a run that works writes its JSON atomically and prints the reading
    let json = dir.path().join("infer.json");
    let out = tamga()
        .arg("infer")
        .arg(&path)
        .args([
            "--fraud",
            "none,stuffing",
            "--budget",
            "400",
            "--particles",
            "40",
        ])
        .arg("--out")
        .arg(&json)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("posterior predictive check"), "{text}");
    let doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&json).unwrap()).expect("JSON");
    assert_eq!(doc["version"], 1);
    assert_eq!(doc["provenance"]["hypothesis"], "honest");
    // and the page beside it: self-contained, the reading first, every section
    let page = std::fs::read_to_string(dir.path().join("infer.html")).expect("page written");
    assert!(page.starts_with("<!DOCTYPE html>"));
    for lower in ["<script", "src=", "href=", "@import", "url("] {
        assert!(!page.to_lowercase().contains(lower), "{lower} in the page");
    }
    let reading = doc["reading"][0].as_str().unwrap();
    let at = |needle: &str| {
        page.find(needle)
            .unwrap_or_else(|| panic!("{needle} missing"))
    };
    assert!(
        reading.starts_with("Under the hypothesis `honest`"),
        "{reading}"
    );
    assert!(at("<p>Under the hypothesis <code>honest</code>") < at("id=\"models\""));
    for id in [
        "parameters",
        "derived",
        "predictive",
        "generations",
        "provenance",
    ] {
        at(&format!("id=\"{id}\""));
    }
    at("id=\"posterior-stuffing\"");
    // --out naming the page itself is refused before anything runs
    let out = tamga()
        .arg("infer")
        .arg(&path)
        .args(["--fraud", "stuffing", "--out"])
        .arg(dir.path().join("x.html"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("the page is written beside the JSON"));
}

#[test]
fn a_synthetic_election_with_known_fraud_is_recovered() {
    let s = tutorial_inference();
    let syn = tamga::infer::Synthetic::parse(&s, "stuffing.rate=0.15, pressure.share=0.1")
        .expect("parses");
    let stop = AtomicBool::new(false);
    let mut req = request(&["none", "stuffing", "stuffing+pressure"], 11);
    req.particles = 100;
    req.budget = 2000;
    let r = infer(
        &s,
        &req,
        observed(&s),
        "synthetic",
        Some(&syn),
        &stop,
        &mut |_, _| {},
    )
    .expect("runs");
    assert_eq!(r.status, Status::Posterior);
    let truth = r.truth.as_ref().expect("truth reported");
    assert_eq!(truth.model, "stuffing+pressure");
    // fraud that adds thousands of ballots is not mistaken for none
    let none = r.models.iter().find(|m| m.name == "none").unwrap();
    assert!(none.probability < 0.01, "{:?}", r.models);
    let added = truth
        .derived
        .iter()
        .find(|v| v.name == "votes_added")
        .unwrap();
    assert!(added.value > 1000.0, "{added:?}");
    for name in ["votes_added", "votes_moved", "seats_moved"] {
        let v = truth.derived.iter().find(|v| v.name == name).unwrap();
        assert_eq!(v.covered90, Some(true), "{name}: {:?}\n{}", v, r.to_text());
    }
    // spec errors name what is wrong
    for (spec, want) in [
        (
            "stuffing.rate=0.1,pressure.shar=0.1",
            "has no prior on `shar`",
        ),
        ("stuffing.rate=2", "outside 0–1"),
        ("ghost.rate=0.1", "no mechanism `ghost`"),
        ("stuffing.rate", "is not mechanism.parameter=value"),
    ] {
        let e = tamga::infer::Synthetic::parse(&s, spec)
            .unwrap_err()
            .to_string();
        assert!(e.contains(want), "{spec}: {e}");
    }
}

/// The tutorial's published protocols under the honest hypothesis with stuffing for `blue` at
/// `rate`, simulated with `seed`, as a station-results CSV; and the ballots the stuffing added.
fn stuffed_stations_csv(s: &Scenario, rate: f64, seed: u64) -> (String, f64) {
    let (h, models) = resolve(s, &request(&["stuffing"], seed)).expect("resolves");
    let em = ElectionModel::new(s, h, &models, observed(s), seed);
    let mut ws = tamga::sim::Workspace::default();
    let (reported, truth) = em.election(&em.candidates[0], &[rate], 5, &mut ws);
    let csv = tamga::infer::stations::protocols_csv(s, h, &em.electorate, ws.published().protocols);
    (csv, reported.ballots as f64 - truth.ballots as f64)
}

fn observed_stations(s: &Scenario, csv: &str) -> Result<Observed, String> {
    let data = tamga::forensics::read::read_results(csv.as_bytes()).map_err(|e| e.to_string())?;
    let groups = &s.inference.as_ref().expect("inference").statistics;
    Observed::stations(s, 0, &data, groups).map_err(|e| e.to_string())
}

/// Station results from a known fraud (stuffing at 20 % of non-voters, on an electorate drawn
/// with another seed than the inference's): the station summaries are compared, no-fraud and
/// pressure are excluded, and the 90 % interval of the ballots added contains the truth.
#[test]
fn station_results_from_a_known_fraud_are_recovered() {
    let s = tutorial_inference();
    let (csv, added) = stuffed_stations_csv(&s, 0.2, 99);
    assert!(added > 1000.0, "{added}");
    let obs = observed_stations(&s, &csv).expect("matches the scenario");
    let names: Vec<String> = obs.statistics.iter().map(|x| x.name(&s)).collect();
    for want in [
        "turnout",
        "share.blue",
        "stations.turnout_q4.share_q4",
        "stations.integer_excess",
        "stations.corner_80_80",
    ] {
        assert!(names.iter().any(|n| n == want), "{want} not in {names:?}");
    }
    // the cells of the histogram hold every base station
    let cells: f64 = obs
        .statistics
        .iter()
        .zip(&obs.values)
        .filter(|(x, _)| matches!(x, tamga::infer::election::Statistic::Cell(_)))
        .map(|(_, v)| v)
        .sum();
    assert!((cells - 1.0).abs() < 1e-9, "{cells}");
    let stop = AtomicBool::new(false);
    // TAMGA_RECOVERY_SEED=S for another seed of the inference (docs/inference.md)
    let seed = std::env::var("TAMGA_RECOVERY_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(12);
    let mut req = request(&["none", "stuffing", "pressure"], seed);
    req.particles = 80;
    req.budget = 1600;
    let r = infer(&s, &req, obs, "stations.csv", None, &stop, &mut |_, _| {}).expect("runs");
    assert_eq!(r.status, Status::Posterior, "{}", r.to_text());
    let p = |name: &str| {
        r.models
            .iter()
            .find(|m| m.name == name)
            .unwrap()
            .probability
    };
    assert!(p("none") < 0.01 && p("pressure") < 0.1, "{}", r.to_text());
    let a = &r
        .derived
        .iter()
        .find(|q| q.name == "votes_added")
        .unwrap()
        .interval;
    assert!(a.contains90(added), "true {added}: {}", r.to_text());
    assert!(r.provenance.observed == "stations.csv");
    let spec = r
        .station_summaries
        .as_ref()
        .expect("station summaries described");
    assert_eq!(spec.leader_id, "blue");
    assert_eq!(spec.turnout_edges.len(), 3);
    assert!(spec.turnout_edges.windows(2).all(|w| w[0] <= w[1]));
}

#[test]
fn station_results_that_do_not_match_the_scenario_are_refused_by_name() {
    let s = tutorial_inference();
    let (csv, _) = stuffed_stations_csv(&s, 0.0, 3);
    let (header, rows) = csv.split_once('\n').unwrap();
    let cases = [
        (
            format!("{}\n{rows}", header.replace(",red", ",purple")),
            "option column `purple` (column 10) is no party of the scenario",
        ),
        (
            format!("{}\n{rows}", header.replace(",red", ",BLUE")),
            "both name party `blue`",
        ),
        (
            format!(
                "{}\n{rows}",
                header
                    .replace(",red", ",Green Party")
                    .replace(",green,", ",red,")
            ),
            "",
        ),
        (
            csv.replacen("Capital,", "Kapital,", 1),
            "region `Kapital` (in 1 rows of the file) is not a region of variant `honest` (its regions: Capital, Countryside)",
        ),
        (
            csv.lines().take(60).collect::<Vec<_>>().join("\n"),
            "region `Countryside`: the file has 39 stations, variant `honest` has 40",
        ),
    ];
    for (text, want) in cases {
        match observed_stations(&s, &text) {
            Ok(_) if want.is_empty() => {}
            Ok(_) => panic!("accepted, wanted {want}"),
            Err(e) => assert!(!want.is_empty() && e.contains(want), "{e}"),
        }
    }
    // a missing party column, through the binary: exit 2 and the message with the flag
    let dir = tempfile::tempdir().unwrap();
    let toml = dir.path().join("t.toml");
    std::fs::write(&toml, format!("{TUTORIAL}{INFERENCE}")).unwrap();
    let file = dir.path().join("stations.csv");
    let dropped: String = csv
        .lines()
        .map(|l| l.rsplit_once(',').unwrap().0.to_string() + "\n")
        .collect();
    std::fs::write(&file, dropped).unwrap();
    let out = tamga()
        .arg("infer")
        .arg(&toml)
        .arg("--observed")
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--observed") && err.contains("party `red` of the scenario has no column"),
        "{err}"
    );
}

/// A made-up election of 3 regions with different turnout and preferences (450 stations): the
/// world synthetic station files are drawn from ([`regions_world`]).
const REGIONS: &str = r#"
format = 1
[election]
name = "three regions"
[[party]]
id = "blue"
[[party]]
id = "green"
[[party]]
id = "red"
[system.list]
seats = 50
method = "dhondt"
[[region]]
name = "North"
registered = 120000
stations = 150
urban = 1.0
turnout_shift = -0.4
preference_shift = { green = 0.4 }
[[region]]
name = "South"
registered = 150000
stations = 200
urban = 1.0
turnout_shift = 0.5
preference_shift = { blue = 0.3, red = -0.2 }
[[region]]
name = "East"
registered = 60000
stations = 100
urban = 1.0
[stations]
log_sd = 0.4
[turnout]
urban = 0.5
rural = 0.5
station_sd = 0.3
[preferences]
urban = { blue = 0.40, green = 0.30, red = 0.30 }
rural = { blue = 0.40, green = 0.30, red = 0.30 }
station_sd = 0.2
[[variant]]
name = "honest"
"#;

/// [`REGIONS`] with the tutorial's candidates, stuffing widened to 0.9 of non-voters at a share
/// of stations.
fn regions_world() -> Scenario {
    let inference = INFERENCE.replace(
        "rate = [0.0, 0.4]",
        "rate = [0.0, 0.9]\nstations = [0.01, 1.0]",
    );
    assert_ne!(inference, INFERENCE);
    // `TAMGA_PIPELINE_SCALE=k`: k times the stations and voters in each region (the pipeline
    // calibration on larger regions)
    let k: u64 = std::env::var("TAMGA_PIPELINE_SCALE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let mut regions = REGIONS.to_string();
    if k != 1 {
        for (key, n) in [
            ("stations", 150u64),
            ("stations", 200),
            ("stations", 100),
            ("registered", 120_000),
            ("registered", 150_000),
            ("registered", 60_000),
        ] {
            regions = regions.replace(&format!("{key} = {n}\n"), &format!("{key} = {}\n", n * k));
        }
    }
    tamga::scenario::parse(&format!("{regions}{inference}"), "regions").expect("valid")
}

/// The published protocols of one election of `s` (its first mechanism at `theta`) as a
/// station CSV, and the ballots the fraud added.
fn fraud_csv(s: &Scenario, theta: &[f64], seed: u64) -> (String, f64) {
    let (h, models) = resolve(s, &request(&["stuffing"], seed)).expect("resolves");
    let em = ElectionModel::new(s, h, &models, observed_of_turnout(), seed);
    let mut ws = tamga::sim::Workspace::default();
    let (reported, truth) = em.election(&em.candidates[0], theta, 7, &mut ws);
    let csv = tamga::infer::stations::protocols_csv(s, h, &em.electorate, ws.published().protocols);
    (csv, reported.ballots as f64 - truth.ballots as f64)
}

/// The published protocols of one election of `s` with mechanism `name` at `theta` as a station
/// CSV, and its derived quantities (truth), in `derived_names` order.
fn mechanism_csv(s: &Scenario, name: &str, theta: &[f64], seed: u64) -> (String, Vec<f64>) {
    let (h, models) = resolve(s, &request(&[name], seed)).expect("resolves");
    let em = ElectionModel::new(s, h, &models, observed_of_turnout(), seed);
    let mut ws = tamga::sim::Workspace::default();
    let draw = em.simulate_candidate(&em.candidates[0], theta, 7, &mut ws);
    let csv = tamga::infer::stations::protocols_csv(s, h, &em.electorate, ws.published().protocols);
    (csv, draw.derived)
}

/// A stand-in observation (turnout only) for building an election model that only simulates.
fn observed_of_turnout() -> Observed {
    Observed {
        statistics: vec![tamga::infer::election::Statistic::Turnout],
        values: vec![0.5],
        stations: None,
    }
}

/// What [`infer_from_stations`] returns.
struct Pipeline {
    /// The fit's honest-ballots spread added to the ballots added (0 with the true model).
    sd: f64,
    /// The fit's diagnostics: its moved share and separation.
    moved_share: f64,
    separation: f64,
    correlation: f64,
    report: tamga::infer::Report,
    /// The same inference with the fitted honest model taken as exact (neither the bootstrap
    /// spread nor what the file does not identify added): an over-confident posterior.
    known: Option<tamga::infer::Report>,
}

/// The whole `--from-stations` pipeline on a station file: the honest model fitted to the
/// file's clean part (or `truth`, the true honest model, instead), then stuffing inferred from
/// the file's turnout, shares and station summaries.
fn infer_from_stations(
    csv: &str,
    seed: u64,
    truth: Option<&Scenario>,
    mechanism: &str,
) -> Pipeline {
    let data = tamga::forensics::read::read_results(csv.as_bytes()).expect("reads");
    // as `--from-stations` fits it: regions split by station size where their halves differ in
    // opposite directions (`TAMGA_PIPELINE_SPLIT=none`: every region whole, as
    // `--no-size-split`)
    let data = if std::env::var("TAMGA_PIPELINE_SPLIT").is_ok_and(|v| v == "none") {
        data
    } else {
        tamga::infer::honest::split_by_size(&data).results
    };
    let fit = tamga::infer::honest::fit(&data, "synthetic.csv", seed).expect("fits");
    let fs = match truth {
        Some(t) => t.clone(),
        None => tamga::scenario::parse(&fit.scenario, "fitted").expect("valid"),
    };
    let groups = fs.inference.as_ref().expect("inference").statistics.clone();
    let obs = Observed::stations(&fs, 0, &data, &groups)
        .expect("the file matches its fit")
        .with_binomial_scales();
    let mut req = request(&[mechanism], seed);
    let env = |k: &str, d: u64| {
        std::env::var(k)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(d)
    };
    req.particles = env("TAMGA_PIPELINE_PARTICLES", 60) as usize;
    req.budget = env("TAMGA_PIPELINE_BUDGET", 900);
    // as `--from-stations` does (`TAMGA_PIPELINE_KERNEL=axes` for the earlier kernel)
    req.kernel = if std::env::var("TAMGA_PIPELINE_KERNEL").is_ok_and(|v| v == "axes") {
        tamga::infer::abc::Kernel::Axes
    } else {
        tamga::infer::abc::Kernel::Covariance
    };
    let stop = AtomicBool::new(false);
    let run = |req: &Request| {
        infer(
            &fs,
            req,
            obs.clone(),
            "synthetic.csv",
            None,
            &stop,
            &mut |_, _| {},
        )
        .expect("runs")
    };
    let known = truth.is_none().then(|| run(&req));
    if truth.is_none() {
        req.honest_ballots_sd = fit.honest_ballots_sd;
        req.honest_moved_sd = fit.honest_leader_votes_sd;
        req.honest_ballots_unidentified = fit.honest_ballots_range;
        if std::env::var("TAMGA_PIPELINE_LEADER").is_err() {
            req.honest_moved_unidentified = fit.honest_leader_votes_range;
        }
    }
    Pipeline {
        sd: req.honest_ballots_sd,
        moved_share: fit.moved_share,
        separation: fit.separation,
        correlation: fit.honest_correlation,
        report: run(&req),
        known,
    }
}

/// The honest model fitted to a file's clean part finds each region's turnout peak and shares:
/// on an honest file of the three-region world, the fitted regions' honest turnout is close to
/// the world's (North below South), the leader is blue, and a fit of a file with stuffing
/// finds about the same honest turnout (the stuffed stations are above the peak).
#[test]
fn honest_model_fitted_to_the_clean_part_finds_each_regions_turnout() {
    let world = regions_world();
    let fitted = |theta: &[f64]| {
        let (csv, _) = fraud_csv(&world, theta, 31);
        let data = tamga::forensics::read::read_results(csv.as_bytes()).expect("reads");
        tamga::infer::honest::fit(&data, "w.csv", 1).expect("fits")
    };
    let honest = fitted(&[0.0, 1.0]);
    let stuffed = fitted(&[0.5, 0.3]);
    assert_eq!(honest.leader, 0);
    let sigmoid = |x: f64| 1.0 / (1.0 + (-x).exp());
    let truth = [sigmoid(-0.4), sigmoid(0.5), 0.5];
    for (f, name) in [(&honest, "honest"), (&stuffed, "stuffed")] {
        assert_eq!(f.regions.len(), 3, "{name}");
        for (r, t) in f.regions.iter().zip(truth) {
            assert!(!r.national_turnout && !r.national_shares, "{name} {r:?}");
            assert!((r.turnout - t).abs() < 0.05, "{name}: {r:?} against {t}");
        }
        assert!(
            (f.turnout_sd - 0.3).abs() < 0.12 && (f.preference_sd - 0.2).abs() < 0.1,
            "{name}: {f:?}"
        );
    }
    // stuffing raises the file's turnout, not the fitted honest turnout
    assert!(
        stuffed.regions[1].leader_share < 0.6,
        "{:?}",
        stuffed.regions[1]
    );
    // the fitted scenario names the file's parties and regions, with their registered voters
    let fs = tamga::scenario::parse(&honest.scenario, "fitted").expect("valid");
    assert_eq!(fs.parties.len(), 3);
    assert_eq!(fs.parties[0].name, "blue");
    let regions = &fs.variants[0].model.regions;
    assert_eq!(regions[1].name, "South");
    assert_eq!(regions[1].stations, 200);
    assert_eq!(regions[1].registered, 150000);
}

/// The whole `--from-stations` pipeline on synthetic station files drawn from a fitted honest
/// model plus known stuffing: the honest model is fitted to each synthetic file's own clean part
/// again (as on a real file: peak, mixture, bootstrap), and stuffing inferred. The truths spread
/// over stuffing of 10–60 % of non-voters at 5–50 % of the stations (a Halton sequence). A file
/// whose fit is not reproduced must report no intervals and counts as a miss; covered means the
/// 90 % intervals of both `votes_added` and `votes_in_question` contain the true ballots added.
///
/// A calibration check: a calibrated method covers at least [`PIPELINE_MIN_COVERED`] of
/// [`PIPELINE_FILES`] files but with probability 0.012 (binomial, 90 %), and two over-confident
/// posteriors must cover fewer: the same inference with the fitted honest model taken as exact
/// (no bootstrap spread, nothing widened for what the file does not identify), and those
/// intervals halved around their median. A flagged fit must say so in its text. Measured on
/// 2026-12-03 (eleventh session): 32 of 32 covered, 22 and 14 by the over-confident ones
/// (`docs/inference.md`, "Calibration of the whole pipeline"). `TAMGA_PIPELINE_FILES=N` for
/// another sample, `TAMGA_PIPELINE_REGIME=many` for
/// stuffing at 50–100 % of stations, `TAMGA_PIPELINE_HONEST=true` to infer with the true honest
/// model instead of the fitted one, `TAMGA_PIPELINE_BUDGET` and `TAMGA_PIPELINE_PARTICLES`,
/// `TAMGA_PIPELINE_MECHANISM=protocols` for files with protocol fraud (the votes moved
/// checked instead of the ballots added): nothing is asserted then. `TAMGA_PIPELINE_SPLIT=none`
/// fits every region whole (`--no-size-split`; by default regions whose smaller and larger
/// stations differ in opposite directions are split, as `--from-stations` does);
/// `TAMGA_PIPELINE_SCALE=k` draws the files from a world with k times the stations;
/// `TAMGA_PIPELINE_WORLD=places` from [`places_base`].
#[test]
fn fitted_honest_model_intervals_contain_known_stuffing() {
    pipeline_check(PIPELINE_FILES, false, false);
}

/// The pipeline check of [`fitted_honest_model_intervals_contain_known_stuffing`] with stuffing
/// at 50–100 % of the stations, on [`PIPELINE_MANY_FILES`] files. Of the reproduced files, a
/// calibrated method covers fewer than the binomial 1 % quantile at 90 % with probability below
/// 0.01, and the fitted model taken as exact, and halved, must cover fewer. Before the eleventh
/// session about half of these files were not reproduced at this budget and only that was
/// checked; now (multivariate kernel, last generation cut at the limit, a shift per region) it
/// also requires as many covered counting the files not reproduced as misses (the binomial 1 %
/// quantile of all files). Measured on 2026-12-03
/// (eleventh session) over 80 files: 68 covered, 74 reproduced; taken as exact 27.
#[test]
fn fitted_honest_model_intervals_contain_known_stuffing_at_most_stations() {
    pipeline_check(PIPELINE_MANY_FILES, true, false);
}

/// The pipeline check of [`fitted_honest_model_intervals_contain_known_stuffing`] (stuffing at
/// 5–50 % of the stations) in a world where each region's villages and towns differ in opposite
/// directions and the file names only the region ([`places_base`]): the fit splits each region
/// by station size, as on Poland. Measured on 2026-12-04 (sixteenth session): 32 of 32
/// covered, 9 and 3 by the over-confident posteriors; with every region fitted whole
/// (`TAMGA_PIPELINE_SPLIT=none`) 9 of 32 covered, 21 reproduced: the check fails.
#[test]
fn fitted_honest_model_intervals_contain_known_stuffing_where_villages_and_towns_differ() {
    pipeline_check(PIPELINE_FILES, false, true);
}

/// [`fitted_honest_model_intervals_contain_known_stuffing_where_villages_and_towns_differ`] with
/// stuffing at 50–100 % of the stations (the check of
/// [`fitted_honest_model_intervals_contain_known_stuffing_at_most_stations`]). Measured on
/// 2026-12-04: 21 of 24 covered, 22 reproduced; whole regions 9 of 24, 9 reproduced (fails).
#[test]
fn fitted_honest_model_intervals_contain_known_stuffing_at_most_stations_where_villages_and_towns_differ()
 {
    pipeline_check(PIPELINE_MANY_FILES, true, true);
}

/// The least k with P(X < k) > 0.01 for X ~ Binomial(n, 0.9), less one: a calibrated 90 %
/// interval covers fewer than the value returned in at most 1 % of samples of n.
fn binomial_floor(n: usize) -> usize {
    binomial_floor_at(n, 0.9)
}

/// [`binomial_floor`] for a success probability `p`: a bound that holds with probability `p`
/// holds fewer than the value returned in at most 1 % of samples of n.
fn binomial_floor_at(n: usize, p: f64) -> usize {
    let (mut cdf, mut k) = (0.0, 0);
    while k <= n {
        let choose = (0..k).fold(1.0, |c, i| c * (n - i) as f64 / (i + 1) as f64);
        let pk = choose * p.powi(k as i32) * (1.0 - p).powi((n - k) as i32);
        if cdf + pk > 0.01 {
            break;
        }
        cdf += pk;
        k += 1;
    }
    k
}

/// The pipeline check on `default_files` files (`TAMGA_PIPELINE_FILES` overrides), stuffing at
/// 50–100 % of the stations when `many` (or `TAMGA_PIPELINE_REGIME=many`), else at 5–50 %; in
/// the world of kinds of place ([`places_base`]) when `places` (or
/// `TAMGA_PIPELINE_WORLD=places`).
fn pipeline_check(default_files: usize, many: bool, places: bool) {
    // `TAMGA_PIPELINE_WORLD=places`: each region two kinds of place told apart by size
    let places = places || std::env::var("TAMGA_PIPELINE_WORLD").is_ok_and(|v| v == "places");
    let base = if places {
        places_base()
    } else {
        pipeline_base()
    };
    let n: usize = std::env::var("TAMGA_PIPELINE_FILES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default_files);
    let many = many || std::env::var("TAMGA_PIPELINE_REGIME").is_ok_and(|v| v == "many");
    let mechanism = std::env::var("TAMGA_PIPELINE_MECHANISM").ok();
    let true_honest = std::env::var("TAMGA_PIPELINE_HONEST").is_ok_and(|v| v == "true");
    let default_ask = ["TAMGA_PIPELINE_BUDGET", "TAMGA_PIPELINE_PARTICLES"]
        .iter()
        .all(|k| std::env::var(k).is_err());
    let (share_lo, share_hi) = if many { (0.5, 1.0) } else { (0.05, 0.5) };
    let halton = |mut i: usize, b: usize| {
        let (mut f, mut r) = (1.0, 0.0);
        while i > 0 {
            f /= b as f64;
            r += f * (i % b) as f64;
            i /= b;
        }
        r
    };
    let (mut covered, mut exact, mut halved, mut reproduced) = (0, 0, 0, 0);
    // in the world of kinds of place: the regions split by station size, of all the files' regions
    let (mut split, mut regions) = (0, 0);
    let mut lines = Vec::new();
    for i in 0..n {
        let rate = 0.1 + 0.5 * halton(i + 1, 2);
        let share = share_lo + (share_hi - share_lo) * halton(i + 1, 3);
        // `TAMGA_PIPELINE_MECHANISM=protocols`: votes moved instead of ballots added (the
        // protocols' share of the others' votes at the same Halton points), nothing asserted
        let (csv, added) = if let Some(m) = mechanism.as_deref() {
            let (csv, truth) = mechanism_csv(&base, m, &[rate, share], 100 + i as u64);
            (csv, (truth[2], truth[4]))
        } else {
            let (mut csv, added) = fraud_csv(&base, &[rate, share], 100 + i as u64);
            if places {
                let (merged, s, of) = merge_places(&csv);
                (csv, split, regions) = (merged, split + s, regions + of);
            }
            (csv, (added, added))
        };
        // the first quantity checked and its truth: the ballots added, or the votes moved
        let (first, (added, in_question)) = (
            if mechanism.is_some() {
                "votes_moved"
            } else {
                "votes_added"
            },
            added,
        );
        let p = infer_from_stations(
            &csv,
            200 + i as u64,
            true_honest.then_some(&base),
            mechanism.as_deref().unwrap_or("stuffing"),
        );
        let (sd, r) = (p.sd, &p.report);
        if r.status != Status::Posterior {
            assert!(r.derived.is_empty(), "no posterior, no intervals");
            lines.push(format!(
                "rate {rate:.3} at {share:.3}: added {added}, not reproduced ({:.2}, {:?} after {} generations)",
                r.epsilon,
                r.stop,
                r.generations.len()
            ));
            continue;
        }
        reproduced += 1;
        // no Klimek-type candidate, no warning that the intervals sit low
        assert!(!r.to_text().contains(tamga::infer::KLIMEK_LOW));
        if sd > 0.0 {
            // the fit's uncertainty is stated in the text and the JSON
            assert!(
                r.to_text()
                    .contains("The honest model was fitted to the file")
            );
            assert!(r.to_json().contains("\"honest_ballots_sd\""));
            // and that of the fitted honest preferences, added to the votes moved
            assert!(r.provenance.honest_moved_sd > 0.0);
            assert!(
                r.to_text()
                    .contains("uncertainty of the fitted honest preferences")
            );
        }
        let [fewer, more] = r.provenance.honest_ballots_unidentified;
        // what the file does not identify is said, not only folded into the intervals
        assert_eq!(
            fewer > 0.0 || more > 0.0,
            r.to_text().contains("does not identify its honest level"),
            "{}",
            r.to_text()
        );
        let q = |r: &tamga::infer::Report, name: &str| {
            r.derived
                .iter()
                .find(|q| q.name == name)
                .expect(name)
                .interval
        };
        let (a, v) = (q(r, first), q(r, "votes_in_question"));
        assert!(a.lo50 <= a.hi50 && a.lo90 <= a.lo50 && a.hi50 <= a.hi90);
        assert!(
            a.lo90 >= 0.0 && v.lo90 >= 0.0,
            "fraud adds no negative votes"
        );
        let ok = a.contains90(added) && v.contains90(in_question);
        covered += usize::from(ok);
        // the over-confident posteriors: the fitted honest model taken as exact, and its
        // intervals halved around their median
        if let Some(k) = &p.known {
            let (ka, kv) = (q(k, first), q(k, "votes_in_question"));
            let half = |i: tamga::infer::posterior::Interval, t: f64| {
                let m = i.median;
                m - (m - i.lo90) / 2.0 <= t && t <= m + (i.hi90 - m) / 2.0
            };
            exact += usize::from(ka.contains90(added) && kv.contains90(in_question));
            halved += usize::from(half(ka, added) && half(kv, in_question));
        }
        lines.push(format!(
            "rate {rate:.3} at {share:.3}: added {added}, 90 % {:.0}–{:.0}, median {:.0}, honest sd {sd:.0}, moved {:.2}, separation {:.1}, correlation {:.2}, unidentified −{more:.0} +{fewer:.0} ({:.2}{}){}",
            a.lo90,
            a.hi90,
            a.median,
            p.moved_share,
            p.separation,
            p.correlation,
            r.epsilon,
            match r.cut {
                Some(c) => format!(", cut from {:.2}: {} of {}", c.from, c.kept, c.of),
                None => String::new(),
            },
            if ok { "" } else { "  missed" }
        ));
    }
    eprintln!(
        "{covered} of {n} covered ({reproduced} reproduced); with the fit taken as exact {exact}, and its intervals halved {halved}: {lines:#?}"
    );
    if places {
        // the kinds of place show in the files' station sizes and votes: most regions are split
        // (stuffing at most stations can hide them in a small region)
        eprintln!("{split} of {regions} regions split by station size");
        assert!(2 * split >= regions, "{split} of {regions} regions split");
    }
    if n == PIPELINE_FILES && !many && !true_honest && default_ask && mechanism.is_none() {
        assert!(
            covered >= PIPELINE_MIN_COVERED,
            "{covered} of {n} covered: {lines:#?}"
        );
        assert!(
            exact < PIPELINE_MIN_COVERED && halved < PIPELINE_MIN_COVERED,
            "over-confident intervals cover {exact} and {halved} of {n}: the check cannot tell an over-confident posterior"
        );
    }
    if n == PIPELINE_MANY_FILES && many && !true_honest && default_ask && mechanism.is_none() {
        let floor = binomial_floor(reproduced);
        assert!(
            reproduced >= 8 && covered >= floor,
            "{covered} of {reproduced} reproduced covered (at least {floor}): {lines:#?}"
        );
        // and counting the files not reproduced as misses (since the eleventh session)
        let all = binomial_floor(n);
        assert!(
            covered >= all,
            "{covered} of {n} covered, not reproduced counted as missed (at least {all}): {lines:#?}"
        );
        assert!(
            exact < floor && halved < floor,
            "over-confident intervals cover {exact} and {halved} of {reproduced}: the check cannot tell an over-confident posterior"
        );
    }
}

/// The honest model fitted to one file of the three-region world (with some stuffing): the
/// honest part of the pipeline checks' synthetic truths, to which they add known fraud.
fn pipeline_base() -> Scenario {
    let world = regions_world();
    let (csv, _) = fraud_csv(&world, &[0.3, 0.3], 5);
    let data = tamga::forensics::read::read_results(csv.as_bytes()).expect("reads");
    let base = tamga::infer::honest::fit(&data, "w.csv", 2).expect("fits");
    tamga::scenario::parse(&base.scenario, "base").expect("valid")
}

/// The kinds of place of [`places_base`], as they are named in its regions.
const PLACES: [&str; 2] = [" · villages", " · towns"];

/// A world of kinds of place (`TAMGA_PIPELINE_WORLD=places`): each region of [`pipeline_base`]
/// made two of half its stations each — villages, whose stations hold 0.6 times the region's
/// mean register and vote 0.35 less on the logit scale of turnout and 0.35 more for the leader
/// (the first party: the base's largest), and towns, with 1.4 times the mean register, 0.35
/// more turnout and 0.35 less for the leader, as Poland's villages and towns differ. Its files
/// ([`merge_places`]) name only the region, as a published file does, so that the kinds show
/// only in the stations' sizes and votes.
fn places_base() -> Scenario {
    let mut s = pipeline_base();
    let parties = s.parties.len();
    for v in &mut s.variants {
        let regions = std::mem::take(&mut v.model.regions);
        for r in regions {
            for (kind, size, shift) in [(PLACES[0], 0.6, -0.35), (PLACES[1], 1.4, 0.35)] {
                let mut p = r.clone();
                p.name = format!("{}{kind}", r.name);
                p.stations = r.stations / 2;
                p.registered = (r.registered as f64 / 2.0 * size).round() as u64;
                p.turnout_shift += shift;
                p.preference_shift.resize(parties, 0.0);
                p.preference_shift[0] -= shift;
                v.model.regions.push(p);
            }
        }
    }
    s
}

/// A station file of [`places_base`] with each station's region named without its kind of
/// place; and how many of its regions [`tamga::infer::honest::split_by_size`] splits, of all.
fn merge_places(csv: &str) -> (String, usize, usize) {
    let merged = PLACES.iter().fold(csv.to_string(), |c, k| c.replace(k, ""));
    assert_ne!(merged, csv, "the file names the kinds of place");
    let data = tamga::forensics::read::read_results(merged.as_bytes()).expect("reads");
    assert_eq!(
        tamga::forensics::stats::stations::leader_of(&data.option_totals()),
        0,
        "the first party leads"
    );
    let split = tamga::infer::honest::split_by_size(&data);
    (merged, split.split(), split.regions.len())
}

/// Where a file does not identify the leader's honest share, the votes moved are bounds: files
/// with protocol fraud (10–60 % of the other lists' votes rewritten for the leader at 5–50 % of
/// the stations, the first 16 points of the pipeline check's Halton sequence) whose fit is
/// flagged (components that overlap, or most stations in the moved part) must have the true
/// votes moved in their 90 % interval, and in at least one of them only because of the
/// widening by the leader's honest votes the file does not rule out (without it, the interval
/// would end below the truth). Measured on 2026-12-03 (eleventh session): over 40 files, 38
/// covered with the widening, 32 without (`docs/inference.md`).
#[test]
fn votes_moved_are_bounded_where_the_file_does_not_identify_the_leaders_share() {
    let base = pipeline_base();
    let halton = tamga::stats::halton;
    let (mut flagged, mut only_widened) = (0, 0);
    for i in 0..16u64 {
        let (rate, share) = (0.1 + 0.5 * halton(i + 1, 2), 0.05 + 0.45 * halton(i + 1, 3));
        let (csv, truth) = mechanism_csv(&base, "protocols", &[rate, share], 100 + i);
        let moved = truth[2];
        let p = infer_from_stations(&csv, 200 + i, None, "protocols");
        let r = &p.report;
        let [fewer, more] = r.provenance.honest_moved_unidentified;
        if r.status != Status::Posterior || (fewer == 0.0 && more == 0.0) {
            continue;
        }
        flagged += 1;
        let q = r
            .derived
            .iter()
            .find(|q| q.name == "votes_moved")
            .expect("votes_moved")
            .interval;
        assert!(
            q.contains90(moved),
            "file {i}: rate {rate:.3} at {share:.3}, {moved} votes moved, 90 % {:.0}–{:.0}, leader's honest votes not identified −{more:.0} +{fewer:.0}",
            q.lo90,
            q.hi90
        );
        only_widened += usize::from(q.hi90 - fewer < moved);
    }
    assert!(
        flagged >= 2 && only_widened >= 1,
        "{flagged} flagged files, {only_widened} covered only by the widening"
    );
}

/// The `--from-stations` pipeline on files with Klimek's fraud following turnout
/// (`klimek_turnout`, the candidate that reproduces Russia 2011): the honest model fitted to
/// each file's clean part, then `klimek_turnout` inferred. The truths spread over a Halton
/// sequence: incremental share 0.1–0.5, extreme 0–0.05, α 0.5–3, θ 0.05–0.3, `turnout_bias`
/// 0.5–2.5. Klimek-type fraud is **not** estimated with calibrated two-sided intervals: the
/// fitted honest model takes part of the incremental fraud (stations moved a little) for honest
/// spread, so the intervals tend to end below the truth (measured on 2026-12-04, seventeenth
/// session: the 90 % intervals of `votes_added` and `votes_in_question` both contain the truth
/// in 18 of 24 files; `TAMGA_PIPELINE_KLIMEK=plain`, Klimek's model without the bias, 16 of 24;
/// `docs/inference.md`, "A candidate whose fraud follows turnout"). What is asserted is what
/// the docs claim, that the interval's **lower end** is a bound: the truth at or above both 5 %
/// quantiles in at least [`binomial_floor_at`]`(n, 0.95)` files (files not reproduced count as
/// misses), which a calibrated lower end fails with probability below 0.01; and that the 95 %
/// quantiles taken as the lower ends fail it (the check can tell a bound set too high; moving
/// the lower ends half way to the median does not fail it, 20 of 24: the intervals sit low).
/// `TAMGA_PIPELINE_FILES=N` for another sample (then nothing is asserted).
#[test]
fn fitted_honest_model_intervals_contain_known_fraud_following_turnout() {
    let base = pipeline_base();
    let halton = tamga::stats::halton;
    let n: usize = std::env::var("TAMGA_PIPELINE_FILES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(KLIMEK_TURNOUT_FILES);
    let (mut covered, mut reproduced, mut bounded, mut halved, mut upper) = (0, 0, 0, 0, 0);
    let mut lines = Vec::new();
    for i in 0..n as u64 {
        let theta = [
            0.1 + 0.4 * halton(i + 1, 2),
            0.05 * halton(i + 1, 3),
            0.5 + 2.5 * halton(i + 1, 5),
            0.05 + 0.25 * halton(i + 1, 7),
            0.5 + 2.0 * halton(i + 1, 11),
        ];
        // `TAMGA_PIPELINE_KLIMEK=plain`: Klimek's model without the turnout bias, for comparison
        let plain = std::env::var("TAMGA_PIPELINE_KLIMEK").is_ok_and(|v| v == "plain");
        let (name, drawn) = if plain {
            ("klimek", &theta[..4])
        } else {
            ("klimek_turnout", &theta[..])
        };
        let (csv, truth) = mechanism_csv(&base, name, drawn, 100 + i);
        let (added, in_question) = (truth[0], truth[4]);
        let p = infer_from_stations(&csv, 200 + i, None, name);
        let r = &p.report;
        let point = format!(
            "f_i {:.2} f_e {:.3} α {:.2} θ {:.2} κ {:.2}",
            theta[0], theta[1], theta[2], theta[3], theta[4]
        );
        if r.status != Status::Posterior {
            assert!(r.derived.is_empty(), "no posterior, no intervals");
            lines.push(format!(
                "{point}: added {added}, in question {in_question}, not reproduced ({:.2})",
                r.epsilon
            ));
            continue;
        }
        reproduced += 1;
        // the reading says the interval's lower end is the bound
        assert!(
            r.to_text().contains(tamga::infer::KLIMEK_LOW),
            "{}",
            r.to_text()
        );
        let q = |name: &str| {
            r.derived
                .iter()
                .find(|q| q.name == name)
                .expect(name)
                .interval
        };
        let (a, v) = (q("votes_added"), q("votes_in_question"));
        let ok = a.contains90(added) && v.contains90(in_question);
        covered += usize::from(ok);
        bounded += usize::from(a.lo90 <= added && v.lo90 <= in_question);
        let half = |i: tamga::infer::posterior::Interval| i.median - (i.median - i.lo90) / 2.0;
        halved += usize::from(half(a) <= added && half(v) <= in_question);
        upper += usize::from(a.hi90 <= added && v.hi90 <= in_question);
        lines.push(format!(
            "{point}: added {added} (90 % {:.0}–{:.0}), in question {in_question} (90 % {:.0}–{:.0}; {:.2}){}",
            a.lo90,
            a.hi90,
            v.lo90,
            v.hi90,
            r.epsilon,
            if ok { "" } else { "  missed" }
        ));
    }
    eprintln!(
        "{covered} of {n} covered ({reproduced} reproduced); lower ends hold in {bounded}, moved half way to the median {halved}, the 95 % quantiles as lower ends {upper}: {lines:#?}"
    );
    if n == KLIMEK_TURNOUT_FILES {
        let floor = binomial_floor_at(n, 0.95);
        assert!(
            bounded >= floor,
            "lower ends hold in {bounded} of {n} (at least {floor}): {lines:#?}"
        );
        assert!(
            upper < floor,
            "the 95 % quantiles as lower ends hold in {upper} of {n}: the check cannot tell a bound set too high"
        );
    }
}

/// Synthetic files of [`fitted_honest_model_intervals_contain_known_fraud_following_turnout`].
const KLIMEK_TURNOUT_FILES: usize = 24;

/// Synthetic files of the pipeline check.
const PIPELINE_FILES: usize = 32;
/// Synthetic files of the pipeline check with stuffing at most stations.
const PIPELINE_MANY_FILES: usize = 24;
/// Files whose intervals must cover: a calibrated method (90 %) covers fewer of
/// [`PIPELINE_FILES`] with probability 0.012.
const PIPELINE_MIN_COVERED: usize = 25;

/// A station file of two regions with 120 stations each: in "Towns and villages" the smaller
/// stations (300–540 registered) vote less and more for `blue` than the larger (900–1,380), as
/// Poland's villages and towns do; in "Even" the sizes differ the same way and the votes do
/// not. Whole numbers from a fixed pattern (no generator), so the file is the same everywhere.
fn towns_and_villages_csv() -> String {
    let mut csv =
        String::from("region,commission,station,registered,issued,valid,invalid,blue,green\n");
    for (region, differs) in [("Towns and villages", true), ("Even", false)] {
        for i in 0..120u64 {
            let small = i % 2 == 0;
            let registered = if small { 300 + 2 * i } else { 900 + 4 * i };
            // a wobble of ±3 points in turnout and share from the station's number
            let wobble = (i * 37 % 13) as f64 / 2.0 - 3.0;
            let (turnout, share) = match (differs, small) {
                (true, true) => (50.0 + wobble, 62.0 - wobble),
                (true, false) => (64.0 - wobble, 48.0 + wobble),
                (false, _) => (57.0 + wobble, 55.0 - wobble),
            };
            let issued = (registered as f64 * turnout / 100.0).round() as u64;
            let invalid = issued / 50;
            let valid = issued - invalid;
            let blue = (valid as f64 * share / 100.0).round() as u64;
            csv.push_str(&format!(
                "{region},c,{i},{registered},{issued},{valid},{invalid},{blue},{}\n",
                valid - blue
            ));
        }
    }
    csv
}

/// `--from-stations` sets `tamga forensics`' two estimates of the votes in question beside its
/// result: the same numbers `tamga forensics FILE --json` reports for the file (its default
/// seed), in the JSON's `beside` and in the reading, at one thread and at two.
#[test]
fn forensics_estimates_on_the_same_file_are_set_beside_the_result() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("towns.csv");
    std::fs::write(&csv, towns_and_villages_csv()).unwrap();
    let out = tamga()
        .args(["forensics", "--json"])
        .arg(&csv)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let f: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let total = &f["klimek"]["votes"]["total"];
    let peak = &f["clean_peak"];
    assert!(total["estimate"].is_f64() && peak["votes"].is_f64(), "{f}");
    for threads in ["1", "2"] {
        let out = tamga()
            .args(["infer", "--from-stations"])
            .arg(&csv)
            .args([
                "--fraud",
                "none",
                "--particles",
                "20",
                "--budget",
                "40",
                "--json",
            ])
            .args(["--threads", threads])
            .output()
            .unwrap();
        assert_ne!(
            out.status.code(),
            Some(2),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let b = &r["beside"];
        assert_eq!(b["seed"], f["seed"], "{b}");
        for (name, theirs, keys) in [
            ("klimek", total, ["estimate", "lo", "hi"]),
            ("clean_peak", peak, ["votes", "lo", "hi"]),
        ] {
            for (ours, key) in ["value", "lo90", "hi90"].into_iter().zip(keys) {
                assert_eq!(b[name][ours], theirs[key], "{name}.{ours}: {b}");
            }
        }
        let reading = r["reading"].as_array().unwrap();
        assert!(
            reading.iter().any(|l| l
                .as_str()
                .unwrap()
                .starts_with("Beside it, `tamga forensics` on the same file (seed 20120304): the Klimek fit's votes in question")),
            "{reading:?}"
        );
    }
}

/// `--from-stations` fits the smaller and larger stations of a region whose two halves differ
/// in opposite directions (turnout down, the leader's share up) as regions of their own (the
/// written scenario names them and says how many regions were split) and leaves a region whose
/// halves do not differ whole; `--no-size-split` fits every region whole, and needs
/// `--from-stations`.
#[test]
fn regions_split_by_size_are_named_in_the_written_scenario() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("towns.csv");
    std::fs::write(&csv, towns_and_villages_csv()).unwrap();
    let write = |extra: &[&str], written: &std::path::Path| {
        let out = tamga()
            .args(["infer", "--from-stations"])
            .arg(&csv)
            .args(extra)
            .arg("--write-scenario")
            .arg(written)
            .args(["--particles", "20", "--budget", "40", "--threads", "1"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_ne!(out.status.code(), Some(2), "{stderr}");
        (stderr, std::fs::read_to_string(written).unwrap())
    };
    let (stderr, text) = write(&[], &dir.path().join("split.toml"));
    assert!(
        stderr.contains("regions split by station size: 1 of 2"),
        "{stderr}"
    );
    for name in [
        "Towns and villages · smaller stations",
        "Towns and villages · larger stations",
        "Even",
    ] {
        assert!(
            text.contains(&format!("name = \"{name}\"")),
            "{name}:\n{text}"
        );
    }
    assert!(!text.contains("name = \"Towns and villages\""), "{text}");
    assert!(!text.contains("Even · "), "{text}");
    assert!(
        text.contains("towns.csv, 1 of 2 regions split by station size (fitted honest model)"),
        "the scenario's name says the regions were split:\n{text}"
    );
    // the header names the region split and its two statistics (turnout lower, share higher
    // in the smaller stations), before the scenario's first key
    let note = text
        .find("# Regions split by station size (1 of 2;")
        .unwrap_or_else(|| panic!("{text}"));
    assert!(note < text.find("\nformat = ").unwrap(), "{text}");
    let line = text[note..]
        .lines()
        .find(|l| l.starts_with("# Towns and villages ("))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(line.contains(", +") && line.contains("(-"), "{line}");
    let (stderr, text) = write(&["--no-size-split"], &dir.path().join("whole.toml"));
    assert!(!stderr.contains("regions split"), "{stderr}");
    for name in ["Towns and villages", "Even"] {
        assert!(
            text.contains(&format!("name = \"{name}\"")),
            "{name}:\n{text}"
        );
    }
    assert!(!text.contains(" · "), "{text}");
    let out = tamga()
        .args(["infer", "--no-size-split", "--fraud", "none"])
        .arg(crate::common::root().join("scenarios/tutorial.toml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--from-stations"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
