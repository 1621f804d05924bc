//! Exports one variant's electorate — stations, their mean turnout logits and list preference
//! log-weights, districts, candidates and the ballot parameters — as JSON on stdout, for the
//! NumPy baseline `benches/numpy_baseline.py` (the same stations and probabilities as the
//! station-level fast path). Never simulates anything.
//!
//! `cargo run --release --example export_stations -- scenarios/kazakhstan-2004.toml official 2004 > /tmp/kz.json`

use anyhow::{Context, bail};
use serde_json::json;
use tamga::electorate::Electorate;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [path, variant, seed] = args.as_slice() else {
        bail!("usage: export_stations SCENARIO VARIANT SEED");
    };
    let seed: u64 = seed.parse().context("SEED must be a whole number")?;
    let scenario = tamga::scenario::load(std::path::Path::new(path))?;
    let Some(v) = scenario.variants.iter().find(|v| &v.name == variant) else {
        bail!("there is no variant `{variant}` in {path}");
    };
    let m = &v.model;
    let k = scenario.parties.len();
    let e = Electorate::build(m, k, seed);
    let mut shares = vec![0.0; k];
    let mut log_pref = Vec::with_capacity(e.stations.len());
    let mut logit = Vec::with_capacity(e.stations.len());
    for i in 0..e.stations.len() {
        e.expected_shares(i, &mut shares);
        log_pref.push(shares.iter().map(|s| s.ln()).collect::<Vec<f64>>());
        logit.push(e.turnout_logit(i).0);
    }
    let turnout_sd = e.stations.first().map_or(0.0, |_| e.turnout_logit(0).1);
    let districts: Vec<_> = e
        .districts
        .iter()
        .map(|d| {
            json!({
                "first_station": d.first_station,
                "n_stations": d.n_stations,
                "party": d.candidates.iter().map(|c| c.party.map_or(-1, i64::from)).collect::<Vec<_>>(),
                "appeal_median": d.candidates.iter().map(|c| c.appeal.median).collect::<Vec<_>>(),
                "appeal_log_sd": d.candidates.iter().map(|c| c.appeal.log_sd).collect::<Vec<_>>(),
                "nominee": d.nominee.iter().map(|n| n.map_or(-1, i64::from)).collect::<Vec<_>>(),
            })
        })
        .collect();
    let out = json!({
        "scenario": scenario.meta.name,
        "variant": variant,
        "parties": k,
        "turnout_sd": turnout_sd,
        "pref_sd": e.preference_sd(),
        "evoting_uptake": m.ballots.evoting_uptake,
        "invalid_rate": m.ballots.invalid_rate,
        "loyalty": m.candidates.loyalty,
        "registered": e.stations.iter().map(|s| s.n_registered).collect::<Vec<_>>(),
        "evoting": e.stations.iter().map(|s| s.evoting).collect::<Vec<_>>(),
        "district": e.stations.iter().map(|s| s.district.map_or(-1, i64::from)).collect::<Vec<_>>(),
        "turnout_logit": logit,
        "log_pref": log_pref,
        "districts": districts,
    });
    println!("{out}");
    Ok(())
}
