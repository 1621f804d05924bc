//! The summary over runs, and its renderings: JSON, CSV (one row per run) and the terminal's
//! text ([`terminal`]: the overview of every variant first, the per-variant tables with
//! `--detail`).
//!
//! [`Summary::build`] turns run outcomes into distributions (mean, sd, 5/50/95 % quantiles by
//! [`crate::stats::quantile_sorted`], range) per metric and variant, each beside the real
//! reported figure from the scenario with the share of runs at or beyond it. Renderings are pure
//! functions from the data to bytes or text; writing files is the caller's business
//! (`crate::output`). Floating-point sums run in run order, so the output is byte-identical for
//! the same seed whatever the thread count. Besides the distributions it keeps what the
//! overview needs: the leader it follows ([`Summary::leader`]) and per variant the seat outcomes
//! that decide what an election means ([`SeatOdds`]: majority, two-thirds, list seats won).

pub mod audits;
pub mod terminal;

pub use terminal::{
    WIDTH, beyond_text, calibration_runs_needed, rate_pct, rate_text, seat_cell, share_cell,
    short_pct,
};

use crate::detect::Rate;
use crate::model::Scenario;
use crate::montecarlo::RunOutcome;
use crate::stats::quantile_sorted;
use serde::Serialize;

/// Version of the summary.json layout.
pub const SUMMARY_FORMAT_VERSION: u32 = 1;

#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    pub format: &'static str,
    pub format_version: u32,
    pub provenance: Provenance,
    pub parties: Vec<PartyInfo>,
    pub variants: Vec<VariantSummary>,
    /// Detectors' false-alarm rates on honest variants and power against fraud variants.
    pub detection: crate::detect::Detection,
    /// The party the overview follows: the beneficiary of the fraud variants (the one most of
    /// them favour, the first on a tie), else — without fraud variants — the one with most real
    /// list votes, else the one with the highest mean list share in the first variant.
    pub leader: Option<PartyInfo>,
    /// Why [`Summary::leader`] is followed: `fraud beneficiary`, `most real list votes` or
    /// `highest list share in the first variant`.
    pub leader_reason: &'static str,
}

#[derive(Clone, Debug, Serialize)]
pub struct Provenance {
    pub tamga_version: &'static str,
    pub scenario: String,
    pub scenario_digest: String,
    pub seed: u64,
    /// Run indices covered: `first..first+runs`.
    pub first_run: u32,
    pub runs: u32,
    /// Which simulation path produced the runs.
    pub path: &'static str,
}

#[derive(Clone, Debug, Serialize)]
pub struct PartyInfo {
    pub id: String,
    pub name: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct VariantSummary {
    pub name: String,
    pub description: String,
    pub runs: usize,
    pub metrics: Vec<Metric>,
    /// Share of runs whose whole seat vector equals the reported one (list, district, total).
    pub exact_match: ExactMatch,
    /// True when the variant has no fraud model.
    pub honest: bool,
    /// For a fraud variant, the honest variant it is compared with.
    pub baseline: Option<String>,
    /// For a fraud variant, the id of the party its (first) fraud model favours.
    pub beneficiary: Option<String>,
    /// Mean seats fraud moved (reported − truth) per party then independents: list, total.
    pub seat_effect: SeatEffect,
    /// Mean per run of what fraud did.
    pub fraud: FraudMeans,
    /// Whether the real reported result lies within the central 95 % of this variant's
    /// simulated reported results (turnout and every list share).
    pub consistent_with_reported: Option<bool>,
    /// The seat outcomes that decide what an election means, as shares of runs with 95 %
    /// Wilson intervals.
    pub seat_odds: SeatOdds,
}

/// Per party (in scenario order, then independents for the totals): the share of runs in which
/// it holds a majority of all seats, at least two-thirds of them, and (list tier only) any list
/// seat — which, under a threshold, is crossing it.
#[derive(Clone, Debug, Default, Serialize)]
pub struct SeatOdds {
    pub majority: Vec<Rate>,
    pub two_thirds: Vec<Rate>,
    /// Empty without a list tier.
    pub wins_list_seats: Vec<Rate>,
}

impl SeatOdds {
    /// Counts, per party, the runs with more than half of all seats, with at least two-thirds
    /// of them, and with any list seat (`list`: the system has a list tier).
    pub fn from_runs(runs: &[RunOutcome], parties: usize, list: bool) -> SeatOdds {
        let n = runs.len();
        let count =
            |f: &dyn Fn(&RunOutcome) -> bool| Rate::wilson(runs.iter().filter(|o| f(o)).count(), n);
        let total = |o: &RunOutcome| {
            o.reported
                .total_seats
                .iter()
                .map(|&x| u64::from(x))
                .sum::<u64>()
        };
        let seats = |o: &RunOutcome, p: usize| {
            u64::from(o.reported.total_seats.get(p).copied().unwrap_or(0))
        };
        SeatOdds {
            majority: (0..=parties)
                .map(|p| count(&|o| 2 * seats(o, p) > total(o)))
                .collect(),
            two_thirds: (0..=parties)
                .map(|p| count(&|o| total(o) > 0 && 3 * seats(o, p) >= 2 * total(o)))
                .collect(),
            wins_list_seats: if list {
                (0..parties)
                    .map(|p| count(&|o| o.reported.list_seats.get(p).is_some_and(|&s| s > 0)))
                    .collect()
            } else {
                Vec::new()
            },
        }
    }
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct SeatEffect {
    pub list_seats: Vec<f64>,
    pub total_seats: Vec<f64>,
    /// Mean change of each party's list share (reported − truth), in shares of valid votes.
    pub list_share: Vec<f64>,
    pub turnout: f64,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct FraudMeans {
    pub stations_hit: f64,
    pub stuffed: f64,
    pub flipped: f64,
    pub dropped: f64,
    pub rewritten: f64,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct ExactMatch {
    pub list_seats: Option<f64>,
    pub district_seats: Option<f64>,
    pub total_seats: Option<f64>,
}

impl ExactMatch {
    /// `(tier, share of runs)` for the tiers with a real seat vector: list, district, total.
    pub fn tiers(&self) -> Vec<(&'static str, f64)> {
        [
            ("list", self.list_seats),
            ("district", self.district_seats),
            ("total", self.total_seats),
        ]
        .into_iter()
        .filter_map(|(t, x)| x.map(|x| (t, x)))
        .collect()
    }
}

/// The distribution of one quantity over runs, beside the reported value.
#[derive(Clone, Debug, Serialize)]
pub struct Metric {
    /// `turnout`, `share.<party>`, `list_seats.<party>`, `district_seats.<party|independent>`,
    /// `round1_seats.<party|independent>` (district seats won without a runoff),
    /// `total_seats.<party|independent>`, `runoffs`.
    pub name: String,
    pub mean: f64,
    pub sd: f64,
    pub p05: f64,
    pub p50: f64,
    pub p95: f64,
    pub min: f64,
    pub max: f64,
    pub reported: Option<f64>,
    /// Share of runs with a value ≥ the reported one.
    pub share_at_or_above: Option<f64>,
    /// Share of runs with a value ≤ the reported one.
    pub share_at_or_below: Option<f64>,
    /// Share of runs at or beyond the reported value on its side of the median.
    pub at_or_beyond: Option<f64>,
}

impl Metric {
    pub fn from_values(name: String, values: &[f64], reported: Option<f64>) -> Metric {
        let n = values.len().max(1) as f64;
        let mean = values.iter().sum::<f64>() / n;
        let var = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>()
            / (values.len().saturating_sub(1).max(1)) as f64;
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        let p50 = quantile_sorted(&sorted, 0.5);
        let above = reported.map(|r| values.iter().filter(|&&v| v >= r).count() as f64 / n);
        let below = reported.map(|r| values.iter().filter(|&&v| v <= r).count() as f64 / n);
        let beyond = reported.map(|r| if r >= p50 { above } else { below }.unwrap_or(0.0));
        Metric {
            name,
            mean,
            sd: var.sqrt(),
            p05: quantile_sorted(&sorted, 0.05),
            p50,
            p95: quantile_sorted(&sorted, 0.95),
            min: sorted.first().copied().unwrap_or(f64::NAN),
            max: sorted.last().copied().unwrap_or(f64::NAN),
            reported,
            share_at_or_above: above,
            share_at_or_below: below,
            at_or_beyond: beyond,
        }
    }
}

impl Summary {
    pub fn build(
        scenario: &Scenario,
        seed: u64,
        first_run: u32,
        outcomes: &[Vec<RunOutcome>],
    ) -> Summary {
        let parties = &scenario.parties;
        let rep = scenario.reported.as_ref();
        let rep_shares = rep.and_then(|r| r.list_shares());
        let mut variants = Vec::new();
        for (v, runs) in scenario.variants.iter().zip(outcomes) {
            let mut metrics = Vec::new();
            let col = |f: &dyn Fn(&RunOutcome) -> f64| runs.iter().map(f).collect::<Vec<f64>>();
            metrics.push(Metric::from_values(
                "turnout".into(),
                &col(&|o| o.turnout()),
                rep.and_then(|r| r.turnout),
            ));
            for (i, p) in parties.iter().enumerate() {
                metrics.push(Metric::from_values(
                    format!("share.{}", p.id),
                    &col(&|o| o.reported.list_votes[i] as f64 / o.valid_list_votes().max(1) as f64),
                    rep_shares.as_ref().map(|s| s[i]),
                ));
            }
            let ids: Vec<&str> = parties
                .iter()
                .map(|p| p.id.as_str())
                .chain(["independent"])
                .collect();
            let model = &v.model;
            if model.system.list.is_some() {
                for (i, id) in ids.iter().take(parties.len()).enumerate() {
                    metrics.push(Metric::from_values(
                        format!("list_seats.{id}"),
                        &col(&|o| o.reported.list_seats[i] as f64),
                        rep.and_then(|r| r.list_seats.as_ref()).map(|s| s[i] as f64),
                    ));
                }
            }
            if model.system.districts.is_some() {
                type Seats = fn(&RunOutcome) -> &[u32];
                let tiers: [(&str, Seats, Option<&Vec<u32>>); 2] = [
                    (
                        "district_seats",
                        |o| &o.reported.district_seats,
                        rep.and_then(|r| r.district_seats.as_ref()),
                    ),
                    (
                        "round1_seats",
                        |o| &o.reported.round1_seats,
                        rep.and_then(|r| r.round1_seats.as_ref()),
                    ),
                ];
                for (prefix, seats, real) in tiers {
                    for (i, id) in ids.iter().enumerate() {
                        metrics.push(Metric::from_values(
                            format!("{prefix}.{id}"),
                            &col(&|o| seats(o)[i] as f64),
                            real.map(|s| s[i] as f64),
                        ));
                    }
                }
            }
            for (i, id) in ids.iter().enumerate() {
                metrics.push(Metric::from_values(
                    format!("total_seats.{id}"),
                    &col(&|o| o.reported.total_seats[i] as f64),
                    rep.and_then(|r| r.total_seats.as_ref())
                        .map(|s| s[i] as f64),
                ));
            }
            if model.system.districts.is_some() {
                metrics.push(Metric::from_values(
                    "runoffs".into(),
                    &col(&|o| o.reported.runoffs as f64),
                    rep.and_then(|r| r.runoffs).map(f64::from),
                ));
            }
            let n = runs.len().max(1) as f64;
            let exact = |want: Option<&Vec<u32>>, get: &dyn Fn(&RunOutcome) -> &[u32]| {
                want.map(|w| runs.iter().filter(|o| get(o) == w.as_slice()).count() as f64 / n)
            };
            let exact_match = ExactMatch {
                list_seats: exact(rep.and_then(|r| r.list_seats.as_ref()), &|o| {
                    &o.reported.list_seats
                }),
                district_seats: exact(rep.and_then(|r| r.district_seats.as_ref()), &|o| {
                    &o.reported.district_seats
                }),
                total_seats: exact(rep.and_then(|r| r.total_seats.as_ref()), &|o| {
                    &o.reported.total_seats
                }),
            };
            let mean = |f: &dyn Fn(&RunOutcome) -> f64| runs.iter().map(f).sum::<f64>() / n;
            let k = parties.len();
            let seat_effect = SeatEffect {
                list_seats: (0..k)
                    .map(|p| {
                        mean(&|o| o.reported.list_seats[p] as f64 - o.truth.list_seats[p] as f64)
                    })
                    .collect(),
                total_seats: (0..=k)
                    .map(|p| {
                        mean(&|o| o.reported.total_seats[p] as f64 - o.truth.total_seats[p] as f64)
                    })
                    .collect(),
                list_share: (0..k)
                    .map(|p| {
                        mean(&|o| {
                            let r = o.reported.list_votes[p] as f64
                                / o.valid_list_votes().max(1) as f64;
                            let tv: u64 = o.truth.list_votes.iter().sum();
                            r - o.truth.list_votes[p] as f64 / tv.max(1) as f64
                        })
                    })
                    .collect(),
                turnout: mean(&|o| {
                    (o.reported.ballots as f64 - o.truth.ballots as f64)
                        / o.registered.max(1) as f64
                }),
            };
            let fraud = FraudMeans {
                stations_hit: mean(&|o| o.trace.stations_hit as f64),
                stuffed: mean(&|o| o.trace.stuffed as f64),
                flipped: mean(&|o| o.trace.flipped as f64),
                dropped: mean(&|o| o.trace.dropped as f64),
                rewritten: mean(&|o| o.trace.rewritten as f64),
            };
            let consistent_with_reported = rep.and_then(|r| r.turnout).map(|_| {
                metrics
                    .iter()
                    .filter(|m| m.name == "turnout" || m.name.starts_with("share."))
                    .all(|m| m.at_or_beyond.is_none_or(|b| b >= 0.025))
            });
            let vi = variants.len();
            variants.push(VariantSummary {
                name: v.name.clone(),
                description: v.description.clone(),
                runs: runs.len(),
                metrics,
                exact_match,
                honest: v.is_honest(),
                baseline: (!v.is_honest())
                    .then(|| {
                        scenario
                            .baseline_of(vi)
                            .map(|b| scenario.variants[b].name.clone())
                    })
                    .flatten(),
                beneficiary: v
                    .model
                    .fraud
                    .first()
                    .and_then(|f| parties.get(f.beneficiary as usize))
                    .map(|p| p.id.clone()),
                seat_effect,
                fraud,
                consistent_with_reported,
                seat_odds: SeatOdds::from_runs(runs, parties.len(), model.system.list.is_some()),
            });
        }
        let followed = leader(scenario, &variants);
        Summary {
            format: "tamga-summary",
            format_version: SUMMARY_FORMAT_VERSION,
            provenance: Provenance {
                tamga_version: crate::VERSION,
                scenario: scenario.meta.name.clone(),
                scenario_digest: scenario.digest.clone(),
                seed,
                first_run,
                runs: outcomes.first().map_or(0, |r| r.len()) as u32,
                path: crate::sim::station::path_name(scenario),
            },
            parties: parties
                .iter()
                .map(|p| PartyInfo {
                    id: p.id.clone(),
                    name: p.name.clone(),
                })
                .collect(),
            leader_reason: followed.as_ref().map_or("", |(_, why)| why),
            leader: followed.map(|(p, _)| p),
            variants,
            detection: crate::detect::detection(scenario, outcomes),
        }
    }

    /// The summary as pretty JSON with a trailing newline.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("summary serialises");
        s.push('\n');
        s
    }

    /// The metric `name` of variant `v`.
    pub fn metric(&self, v: usize, name: &str) -> Option<&Metric> {
        self.variants[v].metrics.iter().find(|m| m.name == name)
    }

    /// The real (reported) value of metric `name`, as the first variant carries it.
    pub fn real(&self, name: &str) -> Option<f64> {
        self.variants
            .first()
            .and_then(|v| v.metrics.iter().find(|m| m.name == name))
            .and_then(|m| m.reported)
    }

    /// Why the overview follows [`Summary::leader`], for people.
    pub fn followed_because(&self) -> &'static str {
        match self.leader_reason {
            "fraud beneficiary" => "the party the fraud variants favour",
            "most real list votes" => "the party with most real list votes",
            _ => "the party with most list votes in the first variant",
        }
    }

    /// The real total seats of all parties and independents, when the scenario gives them.
    pub fn real_total_seats(&self) -> Option<f64> {
        self.variants.first().and_then(|v| {
            v.metrics
                .iter()
                .filter(|m| m.name.starts_with("total_seats."))
                .map(|m| m.reported)
                .sum()
        })
    }
}

/// The party the overview follows, and why: the beneficiary most fraud variants favour (the
/// first in party order on a tie) — who gained is what a reader of a fraud hypothesis asks —
/// else the party with most real list votes (the first on a tie), else the one with the highest
/// mean list share in the first variant; `None` without parties or variants.
fn leader(scenario: &Scenario, variants: &[VariantSummary]) -> Option<(PartyInfo, &'static str)> {
    let parties = &scenario.parties;
    let mut favoured = vec![0usize; parties.len()];
    for v in variants {
        if let Some(i) = v
            .beneficiary
            .as_ref()
            .and_then(|b| parties.iter().position(|p| &p.id == b))
        {
            favoured[i] += 1;
        }
    }
    let real = scenario
        .reported
        .as_ref()
        .and_then(|r| r.list_votes.as_ref())
        .filter(|v| v.iter().any(|&x| x > 0));
    let (best, why) = if favoured.iter().any(|&n| n > 0) {
        (
            (0..parties.len()).max_by_key(|&i| (favoured[i], usize::MAX - i))?,
            "fraud beneficiary",
        )
    } else if let Some(votes) = real {
        (
            (0..parties.len()).max_by_key(|&i| (votes[i], usize::MAX - i))?,
            "most real list votes",
        )
    } else {
        let v = variants.first()?;
        let share = |i: usize| {
            v.metrics
                .iter()
                .find(|m| m.name == format!("share.{}", parties[i].id))
                .map_or(f64::NEG_INFINITY, |m| m.mean)
        };
        let best = (0..parties.len()).fold(None, |b: Option<usize>, i| match b {
            Some(j) if share(j) >= share(i) => Some(j),
            _ => Some(i),
        })?;
        (best, "highest list share in the first variant")
    };
    let p = &parties[best];
    Some((
        PartyInfo {
            id: p.id.clone(),
            name: p.name.clone(),
        },
        why,
    ))
}

/// One CSV row per variant × run, with a header.
pub fn runs_csv(scenario: &Scenario, outcomes: &[Vec<RunOutcome>]) -> Vec<u8> {
    let ids: Vec<&str> = scenario.parties.iter().map(|p| p.id.as_str()).collect();
    let mut header: Vec<String> = [
        "variant",
        "run",
        "registered",
        "ballots",
        "turnout",
        "electronic",
        "valid",
        "invalid",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    header.extend(ids.iter().map(|i| format!("votes.{i}")));
    header.extend(ids.iter().map(|i| format!("list_seats.{i}")));
    for prefix in ["district_seats", "total_seats", "round1_seats"] {
        header.extend(ids.iter().map(|i| format!("{prefix}.{i}")));
        header.push(format!("{prefix}.independent"));
    }
    header.push("runoffs".into());
    header.push("lots".into());
    header.push("unallocated_list_seats".into());
    header.extend(ids.iter().map(|i| format!("truth.votes.{i}")));
    header.push("truth.ballots".into());
    header.extend(ids.iter().map(|i| format!("truth.total_seats.{i}")));
    header.push("truth.total_seats.independent".into());
    for c in ["stations_hit", "stuffed", "flipped", "dropped", "rewritten"] {
        header.push(format!("fraud.{c}"));
    }
    header.extend(
        crate::detect::DETECTORS
            .iter()
            .map(|d| format!("detector.{}", d.name)),
    );
    // with audits: each audit's ballots examined by hand in the run (its workload)
    let audits: Vec<crate::detect::Detector> = crate::detect::Detector::ALL
        .into_iter()
        .filter(|d| d.is_audit() && scenario.detectors.rla_risk_limit.is_some())
        .collect();
    header.extend(
        audits
            .iter()
            .map(|d| format!("ballots_examined.{}", d.info().name)),
    );
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record(&header);
    for (v, runs) in scenario.variants.iter().zip(outcomes) {
        for o in runs {
            let mut row: Vec<String> = vec![
                v.name.clone(),
                o.run.to_string(),
                o.registered.to_string(),
                o.reported.ballots.to_string(),
                format!("{:.6}", o.turnout()),
                o.electronic.to_string(),
                o.valid_list_votes().to_string(),
                o.reported.list_invalid.to_string(),
            ];
            row.extend(o.reported.list_votes.iter().map(|x| x.to_string()));
            row.extend(o.reported.list_seats.iter().map(|x| x.to_string()));
            row.extend(o.reported.district_seats.iter().map(|x| x.to_string()));
            row.extend(o.reported.total_seats.iter().map(|x| x.to_string()));
            row.extend(o.reported.round1_seats.iter().map(|x| x.to_string()));
            row.push(o.reported.runoffs.to_string());
            row.push(o.reported.lots.to_string());
            row.push(o.reported.unallocated_list_seats.to_string());
            row.extend(o.truth.list_votes.iter().map(|x| x.to_string()));
            row.push(o.truth.ballots.to_string());
            row.extend(o.truth.total_seats.iter().map(|x| x.to_string()));
            let t = &o.trace;
            for x in [
                t.stations_hit as u64,
                t.stuffed,
                t.flipped,
                t.dropped,
                t.rewritten,
            ] {
                row.push(x.to_string());
            }
            row.extend(
                o.detectors
                    .iter()
                    .map(|(_, r)| r.value.map(|v| format!("{v:.6}")).unwrap_or_default()),
            );
            row.extend(audits.iter().map(|&d| {
                let r = &o.detectors[d];
                r.value
                    .map(|_| format!("{:.0}", r.cost))
                    .unwrap_or_default()
            }));
            let _ = w.write_record(&row);
        }
    }
    w.into_inner().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_type7() {
        let v = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert_eq!(quantile_sorted(&v, 0.5), 3.0);
        assert_eq!(quantile_sorted(&v, 0.25), 2.0);
        assert!((quantile_sorted(&v, 0.05) - 1.2).abs() < 1e-12);
    }

    #[test]
    fn beyond_picks_the_side_of_the_median() {
        let values: Vec<f64> = (0..100).map(|i| i as f64).collect();
        let m = Metric::from_values("x".into(), &values, Some(95.0));
        assert_eq!(m.at_or_beyond, Some(0.05));
        let m = Metric::from_values("x".into(), &values, Some(2.0));
        assert_eq!(m.at_or_beyond, Some(0.03));
    }
}
