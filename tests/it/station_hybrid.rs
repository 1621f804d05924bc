//! The hybrid path (the default: station counts for paper ballots, ballot by ballot on the
//! hash-chained machines) against the ballot path, statistically, one fraud model at a time —
//! every count-level model and every model inside machines (flipped and dropped votes, ledgers
//! rewritten or truncated) — with the metrics of `station_fraud` (turnout, list shares,
//! invalid and electronic shares, runoffs, district seats, what fraud did, the truth, seats
//! moved, and every detector's reading and cost), paired by seed. Controls plant a bias of
//! one percentage point in one model on the hybrid path and require the comparison to see it.
//! Determinism: the same seed gives the same bytes on one and two threads with machine fraud.

use crate::station_fraud::{agree_on, kazakhstan_paths_agree, planted_bias_is_seen_on};
use tamga::model::SimPath;

fn agree(name: &str, fraud: &str) {
    agree_on(SimPath::Hybrid, name, fraud);
}

fn planted_bias_is_seen(fraud: &str, planted: &str, metric: &str) {
    planted_bias_is_seen_on(SimPath::Hybrid, fraud, planted, metric);
}

const RED: &str = "[[variant.fraud]]\nbeneficiary = \"red\"\n";

/// One fraud table for the red list with `body` (its kind and parameters).
fn one(body: &str) -> String {
    format!("{RED}{body}\n")
}

#[test]
fn hybrid_pressure_agrees() {
    agree(
        "pressure",
        &one("kind = \"pressure\"\nshare = 0.3\nstations = 0.5"),
    );
}

#[test]
fn hybrid_paper_stuffing_agrees() {
    agree(
        "stuffing",
        &one("kind = \"stuffing\"\nrate = 0.3\narea = \"rural\""),
    );
}

#[test]
fn hybrid_machine_stuffing_agrees() {
    agree(
        "machine-stuffing",
        &one(
            "kind = \"stuffing\"\nrate = 0.3\nchannel = \"machine\"\nstation_kind = \"electronic\"",
        ),
    );
}

#[test]
fn hybrid_carousel_agrees() {
    agree("carousel", &one("kind = \"carousel\"\nrate = 0.05"));
}

#[test]
fn hybrid_protocol_falsification_agrees() {
    agree(
        "protocol",
        &one("kind = \"protocol\"\nshare = 0.3\nstations = 0.4"),
    );
}

#[test]
fn hybrid_rounding_agrees() {
    let f =
        one("kind = \"rounding\"") + &one("kind = \"rounding\"\nof = \"turnout\"\nstations = 0.5");
    agree("rounding", &f);
}

#[test]
fn hybrid_klimek_fraud_agrees() {
    agree(
        "klimek",
        &one("kind = \"klimek\"\nincremental = 0.5\nextreme = 0.05\nalpha = 2.0\ntheta = 0.2"),
    );
}

#[test]
fn hybrid_aggregate_fraud_agrees() {
    let f = one("kind = \"aggregate\"\nshare = 0.2\nregions = [\"Countryside\"]")
        + &one("kind = \"aggregate\"\nlevel = \"district\"\nshare = 0.1");
    agree("aggregates", &f);
}

#[test]
fn hybrid_machine_flipping_agrees() {
    agree("flip", &one("kind = \"flip\"\nshare = 0.3\nstations = 0.6"));
}

#[test]
fn hybrid_dropped_votes_agree() {
    agree("drop", &one("kind = \"drop\"\nshare = 0.2"));
}

#[test]
fn hybrid_ledger_rewriting_agrees() {
    agree(
        "rewrite",
        &one("kind = \"ledger_rewrite\"\nentries = 20\nrecompute = true\nstations = 0.5"),
    );
    agree(
        "rewrite-in-place",
        &one("kind = \"ledger_rewrite\"\nentries = 20\nrecompute = false"),
    );
    agree(
        "rewrite-forged",
        &one("kind = \"ledger_rewrite\"\nentries = 20\nforge_head = true"),
    );
}

#[test]
fn hybrid_ledger_truncation_agrees() {
    agree(
        "truncate",
        &one("kind = \"ledger_truncate\"\nentries = 15\nreseal = false\nstations = 0.5"),
    );
    agree(
        "truncate-resealed",
        &one("kind = \"ledger_truncate\"\nentries = 15"),
    );
}

#[test]
fn hybrid_pressure_flipping_and_stuffing_together_agree() {
    let f = one("kind = \"pressure\"\nshare = 0.2")
        + &one("kind = \"flip\"\nshare = 0.2")
        + &one("kind = \"stuffing\"\nrate = 0.2\nchannel = \"machine\"")
        + &one("kind = \"protocol\"\nshare = 0.1\nstations = 0.3");
    agree("combined", &f);
}

#[test]
fn a_one_point_bias_in_pressure_on_the_hybrid_path_is_seen() {
    let f = |share: &str| one(&format!("kind = \"pressure\"\nshare = {share}"));
    planted_bias_is_seen(&f("0.30"), &f("0.31"), "share.2");
}

#[test]
fn a_one_point_bias_in_machine_stuffing_on_the_hybrid_path_is_seen() {
    let f = |rate: &str| {
        one(&format!(
            "kind = \"stuffing\"\nrate = {rate}\nchannel = \"machine\"\nstation_kind = \"electronic\""
        ))
    };
    planted_bias_is_seen(&f("0.30"), &f("0.31"), "stuffed");
}

#[test]
fn a_one_point_bias_in_flipping_on_the_hybrid_path_is_seen() {
    let f = |share: &str| one(&format!("kind = \"flip\"\nshare = {share}"));
    planted_bias_is_seen(&f("0.30"), &f("0.31"), "flipped");
}

#[test]
fn a_one_point_bias_in_dropping_on_the_hybrid_path_is_seen() {
    let f = |share: &str| one(&format!("kind = \"drop\"\nshare = {share}"));
    planted_bias_is_seen(&f("0.20"), &f("0.21"), "dropped");
}

#[test]
fn a_one_point_bias_in_protocols_on_the_hybrid_path_is_seen() {
    let f = |share: &str| one(&format!("kind = \"protocol\"\nshare = {share}"));
    planted_bias_is_seen(&f("0.30"), &f("0.31"), "share.2");
}

#[test]
fn kazakhstan_machine_fraud_variants_agree() {
    // the Kazakhstan variants with fraud inside machines (and `official`), hybrid against
    // ballot, paired
    let mut s = crate::common::load("kazakhstan-2004.toml");
    s.detectors.station_results_published = false;
    s.variants.retain(|v| {
        v.name == "official"
            || v.model
                .fraud
                .iter()
                .any(|f| !tamga::sim::station::count_level(&f.kind))
    });
    let names: Vec<String> = s.variants.iter().map(|v| v.name.clone()).collect();
    assert_eq!(
        names,
        ["official", "stuffing-and-machines", "stuffing-and-ledgers"]
    );
    assert_eq!(s.montecarlo.path, SimPath::Hybrid, "the default path");
    let hybrid = kazakhstan_paths_agree(&s, SimPath::Hybrid);
    assert!(hybrid[1].iter().all(|o| o.trace.flipped > 0));
    assert!(hybrid[2].iter().all(|o| o.trace.ledgers_tampered > 0));
}

#[test]
fn hybrid_runs_are_the_same_bytes_on_one_and_two_threads() {
    use crate::common::{on_threads, run};
    let mut s = crate::common::load("kazakhstan-2004.toml");
    s.variants
        .retain(|v| v.name == "stuffing-and-machines" || v.name == "stuffing-and-ledgers");
    assert_eq!(tamga::sim::station::path_name(&s), "hybrid");
    let one = on_threads(1, || run(&s, 5, 0..3));
    let two = on_threads(2, || run(&s, 5, 0..3));
    assert_eq!(one, two);
    let j = |o| tamga::summary::Summary::build(&s, 5, 0, o).to_json();
    assert_eq!(j(&one), j(&two));
    assert!(one[0][0].trace.flipped > 0 && one[1][0].trace.ledgers_tampered > 0);
}
