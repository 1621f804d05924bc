//! A risk-limiting audit of an election package's paper record (`tamga rla`; `docs/rla.md`):
//! the declared outcome is derived from the published aggregates by the package's rules
//! (`rules.json`), turned into assertions ([`crate::rla::assertion`]), and checked against the
//! papers ([`super::paper`]) drawn with Rivest's sampler from the public seed.
//!
//! - Ballot polling (`bravo`, `alpha-polling`): each contest (the national list, each district)
//!   is audited on its own papers, with the seed text `"{seed}/list"` or `"{seed}/district-D"`
//!   (D the district number), drawing with replacement over the contest's papers in station
//!   order, each container's piles stacked as listed. A station whose protocol counts more
//!   ballots than its container holds gets the difference as phantom papers that score 0 for
//!   every assertion (the worst case).
//! - Ballot-level comparison (`kaplan-markov`, `alpha-comparison`, `one-audit`;
//!   [`comparison`]): each contest on its own, the machines' ledger entries as cast-vote
//!   records linked to their printed records, hand-marked papers with their station's reported
//!   mean (ONEAudit).
//! - Batch comparison (`macro`): one audit of all contests, stations as batches, protocols the
//!   reported counts; batches drawn with the seed text `"{seed}/macro"`.
//!
//! A contest the sample does not confirm escalates to a full hand count; since the package holds
//! every paper, the report gives the hand count's outcome too. **Never** opens files.

use serde::Serialize;

pub mod comparison;
pub use comparison::{MachineCvrs, Misprint, read_misprints};

use super::StationProtocol;
use super::paper::{ManifestRow, Pile, Rules};
use crate::rla::assertion::{
    Assertion, Base, SeatRule, list_tier, majority_rule, plurality, seat_rule,
};
use crate::rla::audit::{Decision, PollingTest, Schedule, escalate, round_end};
use crate::rla::batch::{Batch, ContestAssertion, MacroPlan, MacroTest};
use crate::rla::{Method, RiskLimit, Sampler};
use crate::seats::{DistrictOutcome, DistrictRule, Method as SeatMethod, TieBreak};

/// Largest number of sampled ballots listed one by one in a report.
pub const MAX_LISTED_DRAWS: usize = 10_000;

/// What `tamga rla` was given, parsed.
pub struct RlaInput<'a> {
    pub parties: &'a [String],
    pub protocols: &'a [StationProtocol],
    /// Published totals: `(level, unit, item, choice, votes)` as in `aggregates.csv`.
    pub aggregates: &'a [(super::AggregateKey, u64)],
    pub rules: &'a Rules,
    pub manifest: &'a [ManifestRow],
    pub piles: &'a [Pile],
    pub seed: &'a str,
    pub risk_limit: RiskLimit,
    pub method: Method,
    /// The machines' ledgers as cast-vote records (comparison methods only; else empty).
    pub machines: &'a [MachineCvrs],
    /// Printed records that do not read as their ledger entry (`paper/vvpat.csv`).
    pub misprints: &'a [Misprint],
}

/// Why the package cannot be audited at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RlaError {
    #[error("{0}")]
    Unusable(String),
}

/// Something found before or during the audit, with its place.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RlaFinding {
    /// Where: a station, a contest.
    pub place: String,
    pub what: String,
}

/// One assertion's result.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AssertionResult {
    pub claim: String,
    /// The assorter margin in the reported counts.
    pub margin: f64,
    pub p_value: f64,
}

/// A discrepancy between a batch's protocol and its papers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Discrepancy {
    pub station: u32,
    pub contest: String,
    pub choice: String,
    pub protocol: u64,
    pub paper: u64,
}

/// A sampled paper.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Draw {
    pub station: u32,
    /// Paper number in its container, from 1 (beyond the container's papers: a phantom).
    pub paper: u64,
}

/// The audit of one contest (or, for MACRO, of all of them together).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ContestAudit {
    pub contest: String,
    pub reported_outcome: String,
    pub assertions: Vec<AssertionResult>,
    pub decision: Decision,
    pub rounds: u32,
    /// Escalated to the full hand count because the last round's sample favoured the reported
    /// outcome being wrong ([`crate::rla::REFUTE_BELOW`]).
    pub refuted: bool,
    /// Ballots (polling) or batches (MACRO) examined in the sample.
    pub examined: u64,
    /// Papers (polling) or batches (MACRO) in the population.
    pub population: u64,
    /// After a full hand count: the outcome on paper and whether it is the reported one.
    pub hand_count: Option<HandCount>,
    pub discrepancies: Vec<Discrepancy>,
    /// The sample in order (the first [`MAX_LISTED_DRAWS`]).
    pub sample: Vec<Draw>,
}

/// The result of a full hand count.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HandCount {
    pub outcome: String,
    pub same_as_reported: bool,
}

/// The whole report.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RlaReport {
    pub method: Method,
    pub risk_limit: f64,
    pub seed: String,
    pub findings: Vec<RlaFinding>,
    pub contests: Vec<ContestAudit>,
    /// Every contest confirmed and nothing found.
    pub confirmed: bool,
}

/// A contest: its name, reported counts, paper per station and assertions.
struct Contest {
    name: String,
    reported: Vec<u64>,
    /// (station index in protocols, protocol counts, papers) for the stations on its ballots.
    stations: Vec<(usize, Vec<u64>, Vec<u64>)>,
    /// Piles per station in file order, as (category, papers).
    piles: Vec<Vec<(usize, u64)>>,
    assertions: Vec<Assertion>,
    outcome: String,
    /// The outcome the same rules give on the paper totals.
    paper_outcome: String,
    names: Vec<String>,
}

fn with_invalid(v: &[u64], invalid: u64) -> Vec<u64> {
    let mut out = v.to_vec();
    out.push(invalid);
    out
}

/// The declared list outcome and its assertions for `votes` (parties, then invalid).
fn list_outcome(
    rules: &Rules,
    votes: &[u64],
    names: &[String],
) -> Result<(String, Vec<Assertion>), String> {
    let Some(list) = &rules.list else {
        return Err("no list tier".into());
    };
    let method: SeatMethod = list
        .method
        .parse()
        .map_err(|e| format!("rules.json: {e}"))?;
    let k = votes.len() - 1;
    let on_ballots = list.threshold_base == "ballots";
    let ballots: u64 = votes.iter().sum();
    let threshold = rules.threshold().map(|share| crate::seats::Threshold {
        share,
        base: if on_ballots {
            crate::seats::ThresholdBase::Ballots(ballots)
        } else {
            crate::seats::ThresholdBase::ListedVotes
        },
        or_district_seats: None,
    });
    let a = crate::seats::allocate(
        &method,
        list.seats,
        &votes[..k],
        threshold.as_ref(),
        TieBreak::Lot { seed: 0 },
    )
    .map_err(|e| e.to_string())?;
    let base = if on_ballots {
        Base::AllBallots
    } else {
        Base::Valid
    };
    if matches!(seat_rule(&method), SeatRule::None) {
        return Err(format!(
            "the list seats by `{}` cannot be written as assertions (only Hare and divisor \
             methods can); this package's list tier cannot be audited",
            method.name()
        ));
    }
    let assertions = list_tier(
        votes,
        &a.qualified,
        &a.seats,
        rules.threshold().map(|t| (t, base)),
        seat_rule(&method),
    );
    let outcome = (0..k)
        .filter(|&p| a.seats[p] > 0)
        .map(|p| format!("{} {}", names[p], a.seats[p]))
        .collect::<Vec<_>>()
        .join(", ");
    Ok((outcome, assertions))
}

fn district_outcome(rule: DistrictRule, votes: &[u64]) -> Result<(String, Vec<Assertion>), String> {
    let k = votes.len() - 1;
    let o = crate::seats::single_member(rule, &votes[..k], TieBreak::Lot { seed: 0 })
        .map_err(|e| e.to_string())?;
    Ok(match o {
        DistrictOutcome::Elected(w) => (
            format!("candidate {w} elected"),
            match rule {
                DistrictRule::Plurality => plurality(votes, w),
                DistrictRule::AbsoluteMajority => majority_rule(votes, o),
            },
        ),
        DistrictOutcome::Runoff(a, b) => (
            format!("runoff between candidates {a} and {b}"),
            majority_rule(votes, o),
        ),
    })
}

/// Audits the package's paper record.
pub fn audit_paper(input: &RlaInput<'_>) -> Result<RlaReport, RlaError> {
    let unusable = |s: String| RlaError::Unusable(s);
    let mut findings = Vec::new();
    let k = input.parties.len();
    // papers per station, from the piles; checked against the manifest
    let index: std::collections::BTreeMap<u32, usize> = input
        .protocols
        .iter()
        .enumerate()
        .map(|(i, p)| (p.station, i))
        .collect();
    let n = input.protocols.len();
    let mut list_piles: Vec<Vec<(usize, u64)>> = vec![Vec::new(); n];
    let mut cand_piles: Vec<Vec<(usize, u64)>> = vec![Vec::new(); n];
    for pile in input.piles {
        let Some(&i) = index.get(&pile.station) else {
            return Err(unusable(format!(
                "paper/ballots.csv holds papers of station {}, which has no protocol",
                pile.station
            )));
        };
        if pile.district {
            let nc = input.protocols[i].total.candidates.len();
            let c = pile.choice.unwrap_or(nc);
            if c > nc || input.protocols[i].district.is_none() {
                return Err(unusable(format!(
                    "paper/ballots.csv: station {} has no district candidate {c}",
                    pile.station
                )));
            }
            cand_piles[i].push((c, pile.papers));
        } else {
            list_piles[i].push((pile.choice.unwrap_or(k), pile.papers));
        }
    }
    let mut manifest_list = vec![None; n];
    let mut manifest_cand = vec![None; n];
    for row in input.manifest {
        let Some(&i) = index.get(&row.station) else {
            return Err(unusable(format!(
                "paper/manifest.csv lists station {}, which has no protocol",
                row.station
            )));
        };
        let slot = if row.district {
            &mut manifest_cand[i]
        } else {
            &mut manifest_list[i]
        };
        if slot.replace(row.papers).is_some() {
            return Err(unusable(format!(
                "paper/manifest.csv lists a container of station {} twice",
                row.station
            )));
        }
    }
    for i in 0..n {
        let st = input.protocols[i].station;
        for (what, piles, m) in [
            ("list", &list_piles[i], manifest_list[i]),
            ("district", &cand_piles[i], manifest_cand[i]),
        ] {
            let held: u64 = piles.iter().map(|p| p.1).sum();
            if held != m.unwrap_or(0) {
                return Err(unusable(format!(
                    "station {st}'s {what} container: paper/ballots.csv holds {held} papers, \
                     paper/manifest.csv says {}; the paper record is inconsistent",
                    m.unwrap_or(0)
                )));
            }
        }
    }
    let counts_of = |piles: &[(usize, u64)], len: usize| {
        let mut v = vec![0u64; len];
        for &(c, p) in piles {
            v[c] += p;
        }
        v
    };
    // contests
    let mut contests: Vec<Contest> = Vec::new();
    let agg = |level: &str, unit: &str, item: &str, choice: &str| {
        input
            .aggregates
            .iter()
            .find(|(key, _)| {
                key.level == level && key.unit == unit && key.item == item && key.choice == choice
            })
            .map(|x| x.1)
    };
    if input.rules.list.is_some() {
        let mut reported = Vec::with_capacity(k + 1);
        for p in input.parties.iter().map(String::as_str).chain(["invalid"]) {
            reported.push(agg("national", "", "list", p).ok_or_else(|| {
                unusable(format!(
                    "aggregates.csv has no national list total for `{}`",
                    crate::text::echo(p)
                ))
            })?);
        }
        let names: Vec<String> = input.parties.to_vec();
        let (outcome, assertions) =
            list_outcome(input.rules, &reported, &names).map_err(unusable)?;
        let stations: Vec<(usize, Vec<u64>, Vec<u64>)> = (0..n)
            .map(|i| {
                let t = &input.protocols[i].total;
                (
                    i,
                    with_invalid(&t.list, t.list_invalid),
                    counts_of(&list_piles[i], k + 1),
                )
            })
            .collect();
        let paper_total = sum_columns(stations.iter().map(|s| &s.2), k + 1);
        let paper_outcome = list_outcome(input.rules, &paper_total, &names)
            .map(|x| x.0)
            .unwrap_or_else(|e| format!("undecided ({e})"));
        contests.push(Contest {
            name: "list".into(),
            reported,
            piles: (0..n).map(|i| list_piles[i].clone()).collect(),
            stations,
            assertions,
            outcome,
            paper_outcome,
            names,
        });
    }
    if let Some(rule) = &input.rules.districts {
        let rule = match rule.as_str() {
            "plurality" => DistrictRule::Plurality,
            "absolute_majority" => DistrictRule::AbsoluteMajority,
            other => {
                return Err(unusable(format!(
                    "rules.json: unknown district rule `{}`",
                    crate::text::echo(other)
                )));
            }
        };
        let mut districts: std::collections::BTreeMap<u32, Vec<usize>> = Default::default();
        for (i, p) in input.protocols.iter().enumerate() {
            if let Some(d) = p.district {
                districts.entry(d).or_default().push(i);
            }
        }
        for (d, members) in districts {
            let nc = input.protocols[members[0]].total.candidates.len();
            // every station of a district lists its candidates: the same number at each
            if let Some(&j) = members
                .iter()
                .find(|&&j| input.protocols[j].total.candidates.len() != nc)
            {
                return Err(unusable(format!(
                    "protocols.csv: the stations of district {d} disagree on its candidates                      (station {} lists {nc}, station {} lists {}); every station of a district                      counts the same candidates",
                    input.protocols[members[0]].station,
                    input.protocols[j].station,
                    input.protocols[j].total.candidates.len()
                )));
            }
            let unit = d.to_string();
            let mut reported = Vec::with_capacity(nc + 1);
            for c in (0..nc)
                .map(|c| c.to_string())
                .chain(["invalid".to_string()])
            {
                reported.push(agg("district", &unit, "candidate", &c).ok_or_else(|| {
                    unusable(format!(
                        "aggregates.csv has no total of district {d} for candidate `{c}`"
                    ))
                })?);
            }
            let (outcome, assertions) = district_outcome(rule, &reported)
                .map_err(|e| unusable(format!("district {d}: {e}")))?;
            let stations: Vec<(usize, Vec<u64>, Vec<u64>)> = members
                .iter()
                .map(|&i| {
                    let t = &input.protocols[i].total;
                    (
                        i,
                        with_invalid(&t.candidates, t.district_invalid),
                        counts_of(&cand_piles[i], nc + 1),
                    )
                })
                .collect();
            let paper_total = sum_columns(stations.iter().map(|s| &s.2), nc + 1);
            let paper_outcome = district_outcome(rule, &paper_total)
                .map(|x| x.0)
                .unwrap_or_else(|e| format!("undecided ({e})"));
            contests.push(Contest {
                name: format!("district-{d}"),
                reported,
                piles: members.iter().map(|&i| cand_piles[i].clone()).collect(),
                stations,
                assertions,
                outcome,
                paper_outcome,
                names: (0..nc).map(|c| format!("candidate {c}")).collect(),
            });
        }
    }
    // checks: manifest against protocols, published totals against the protocols' sums
    for c in &contests {
        for (i, prot, paper) in &c.stations {
            let (a, b): (u64, u64) = (prot.iter().sum(), paper.iter().sum());
            if a != b {
                findings.push(RlaFinding {
                    place: format!("station {}, {}", input.protocols[*i].station, c.name),
                    what: format!(
                        "the protocol counts {a} ballots, the ballot manifest {b} papers"
                    ),
                });
            }
        }
        let sums = sum_columns(c.stations.iter().map(|s| &s.1), c.reported.len());
        if sums != c.reported {
            findings.push(RlaFinding {
                place: c.name.clone(),
                what: format!(
                    "the published totals {:?} are not the sums of the station protocols {:?}",
                    c.reported, sums
                ),
            });
        }
    }
    let alpha = input.risk_limit.get();
    let audits = match input.method {
        Method::Bravo | Method::AlphaPolling => contests
            .iter()
            .map(|c| poll(c, input.seed, alpha, input.method, input.protocols))
            .collect(),
        Method::Macro => vec![macro_audit(&contests, input, alpha)],
        Method::KaplanMarkov | Method::AlphaComparison | Method::OneAudit => {
            let mut machines = input.machines.to_vec();
            machines.sort_by_key(|m| (m.station, m.machine));
            let mut misprints = input.misprints.to_vec();
            misprints.sort_by_key(|m| (m.station, m.machine, m.entry));
            if let Some(w) = misprints.windows(2).find(|w| {
                (w[0].station, w[0].machine, w[0].entry) == (w[1].station, w[1].machine, w[1].entry)
            }) {
                return Err(unusable(format!(
                    "paper/vvpat.csv lists station {} machine {} entry {} twice",
                    w[0].station, w[0].machine, w[0].entry
                )));
            }
            let mut out = Vec::with_capacity(contests.len());
            for c in &contests {
                out.push(comparison::compare(
                    c,
                    c.name == "list",
                    &machines,
                    &misprints,
                    input,
                )?);
            }
            out
        }
    };
    let confirmed = findings.is_empty()
        && audits
            .iter()
            .all(|a: &ContestAudit| a.decision == Decision::Confirmed);
    Ok(RlaReport {
        method: input.method,
        risk_limit: alpha,
        seed: input.seed.to_string(),
        findings,
        contests: audits,
        confirmed,
    })
}

/// Every station's differences between its protocol and its papers in contest `c` (what a full
/// hand count shows), appended to `out` up to [`MAX_LISTED_DRAWS`] entries.
fn station_discrepancies(c: &Contest, protocols: &[StationProtocol], out: &mut Vec<Discrepancy>) {
    for (i, prot, paper) in &c.stations {
        for (ch, (&a, &b)) in prot.iter().zip(paper).enumerate() {
            if a != b && out.len() < MAX_LISTED_DRAWS {
                out.push(Discrepancy {
                    station: protocols[*i].station,
                    contest: c.name.clone(),
                    choice: c.names.get(ch).cloned().unwrap_or_else(|| "invalid".into()),
                    protocol: a,
                    paper: b,
                });
            }
        }
    }
}

fn sum_columns<'a>(rows: impl Iterator<Item = &'a Vec<u64>>, len: usize) -> Vec<u64> {
    let mut out = vec![0u64; len];
    for r in rows {
        for (o, x) in out.iter_mut().zip(r) {
            *o += x;
        }
    }
    out
}

/// The planned first round of a polling audit: the largest over the assertions of
/// `ln(1/α) / E[log factor]` under the reported shares (Wald's approximation to the average
/// sample number; infinite when an assertion has no positive drift). The papers the protocols
/// count beyond the containers (known from the manifest before any paper is drawn) are planned
/// as the phantoms they are, the papers there as reading in the reported shares.
fn polling_first_round(c: &Contest, alpha: f64) -> f64 {
    let total: u64 = c.reported.iter().sum();
    let (mut units, mut phantoms) = (0u64, 0u64);
    for (_, prot, paper) in &c.stations {
        let (prot, paper) = (prot.iter().sum::<u64>(), paper.iter().sum::<u64>());
        units += prot.max(paper);
        phantoms += prot.saturating_sub(paper);
    }
    let mut worst_n: f64 = 1.0;
    for a in &c.assertions {
        let t = PollingTest::bravo(a, &c.reported);
        let PollingTest::Bravo { bet, .. } = &t else {
            continue;
        };
        let mut drift: f64 = c
            .reported
            .iter()
            .enumerate()
            .map(|(cat, &n)| n as f64 / total.max(1) as f64 * bet.log_factor(cat))
            .sum();
        if phantoms > 0 {
            let there = units.saturating_sub(phantoms) as f64 / units as f64;
            let phantom = phantoms as f64 / units as f64;
            drift = there * drift + phantom * bet.log_factor(phantom_category(a));
        }
        worst_n = worst_n.max(if drift > 0.0 {
            (1.0 / alpha).ln() / drift
        } else {
            f64::INFINITY
        });
    }
    worst_n
}

fn poll(
    c: &Contest,
    seed: &str,
    alpha: f64,
    method: Method,
    protocols: &[StationProtocol],
) -> ContestAudit {
    let make = if method == Method::Bravo {
        PollingTest::bravo
    } else {
        PollingTest::alpha
    };
    let mut tests: Vec<PollingTest> = c.assertions.iter().map(|a| make(a, &c.reported)).collect();
    // containers: max(papers, protocol ballots) each; the excess is phantom
    let mut ends = Vec::with_capacity(c.stations.len());
    let mut total = 0u64;
    for (_, prot, paper) in &c.stations {
        total += prot.iter().sum::<u64>().max(paper.iter().sum());
        ends.push(total);
    }
    let first = polling_first_round(c, alpha);
    let first = if first.is_finite() {
        first.ceil() as u64
    } else {
        u64::MAX
    };
    let mut sampler = Sampler::new(&format!("{seed}/{}", c.name));
    let mut drawn = 0u64;
    let mut sample = Vec::new();
    // BRAVO's statistic is a likelihood ratio: a fall is evidence against the outcome
    let schedule = Schedule::doubling(first).refuting(method == Method::Bravo);
    let outcome = escalate(schedule, alpha, total, |n| {
        while drawn < n {
            // total ≥ 1 here: escalate never samples an empty population
            let x = sampler.next_in(1, total).unwrap_or(1);
            let s = ends.partition_point(|&e| e < x);
            let pos = x - if s == 0 { 0 } else { ends[s - 1] };
            let mut left = pos;
            let mut cat = None;
            for &(ch, p) in &c.piles[s] {
                if left <= p {
                    cat = Some(ch);
                    break;
                }
                left -= p;
            }
            for (t, a) in tests.iter_mut().zip(&c.assertions) {
                match cat {
                    Some(ch) => t.observe(ch, a.values[ch]),
                    // a phantom: the worst value, 0 (BRAVO: a ballot for the loser)
                    None => t.observe(phantom_category(a), 0.0),
                }
            }
            if sample.len() < MAX_LISTED_DRAWS {
                sample.push(Draw {
                    station: protocols[c.stations[s].0].station,
                    paper: pos,
                });
            }
            drawn += 1;
        }
        round_end(tests.iter().map(|t| (t.p_value(), t.statistic())), alpha)
    });
    let mut discrepancies = Vec::new();
    if outcome.decision == Decision::FullHandCount {
        station_discrepancies(c, protocols, &mut discrepancies);
    }
    finish(c, outcome, total, discrepancies, sample, &tests_p(&tests))
}

/// A category whose assorter value is 0 (where a phantom counts), or the lowest-valued one.
fn phantom_category(a: &Assertion) -> usize {
    let mut best = 0;
    for (i, &v) in a.values.iter().enumerate() {
        if v < a.values[best] {
            best = i;
        }
    }
    best
}

fn tests_p(tests: &[PollingTest]) -> Vec<f64> {
    tests.iter().map(PollingTest::p_value).collect()
}

fn finish(
    c: &Contest,
    outcome: crate::rla::Outcome,
    population: u64,
    discrepancies: Vec<Discrepancy>,
    sample: Vec<Draw>,
    ps: &[f64],
) -> ContestAudit {
    let name = |i: usize| c.names.get(i).cloned().unwrap_or_else(|| "invalid".into());
    ContestAudit {
        contest: c.name.clone(),
        reported_outcome: c.outcome.clone(),
        assertions: c
            .assertions
            .iter()
            .zip(ps)
            .map(|(a, &p)| AssertionResult {
                claim: a.claim.describe(&name),
                margin: a.margin(&c.reported),
                p_value: p,
            })
            .collect(),
        decision: outcome.decision,
        rounds: outcome.rounds,
        refuted: outcome.refuted,
        examined: outcome.examined,
        population,
        hand_count: (outcome.decision == Decision::FullHandCount).then(|| HandCount {
            outcome: c.paper_outcome.clone(),
            same_as_reported: c.paper_outcome == c.outcome,
        }),
        discrepancies,
        sample,
    }
}

fn macro_audit(contests: &[Contest], input: &RlaInput<'_>, alpha: f64) -> ContestAudit {
    let n = input.protocols.len();
    // batches: each station with its contests' protocol counts
    let mut batches: Vec<Batch> = (0..n)
        .map(|_| Batch {
            papers: 0,
            reported: Vec::new(),
        })
        .collect();
    let mut hand: Vec<Vec<Vec<u64>>> = vec![Vec::new(); n];
    for (ci, c) in contests.iter().enumerate() {
        for (i, prot, paper) in &c.stations {
            let b = &mut batches[*i];
            b.papers = b.papers.max(paper.iter().sum());
            b.reported.push((ci, prot.clone()));
            hand[*i].push(paper.clone());
        }
    }
    let ca: Vec<ContestAssertion<'_>> =
        ContestAssertion::all(contests.iter().map(|c| c.assertions.as_slice()));
    let plan = MacroPlan::new(&ca, &batches);
    let mut test = MacroTest::new(plan.total_bound());
    let first = plan.sample_size(alpha).unwrap_or(u64::MAX);
    let mut sampler = Sampler::new(&format!("{}/macro", input.seed));
    let mut drawn = 0u64;
    let mut sample = Vec::new();
    let mut discrepancies = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    // the statistic falls only on taints, i.e. on protocols that overstate the margin
    let schedule = Schedule::doubling(first).refuting(true);
    let outcome = escalate(schedule, alpha, n as u64, |k| {
        while drawn < k {
            let p = plan.pick(sampler.next_unit());
            test.observe(plan.taint(&ca, p, &batches[p], &hand[p]));
            let station = input.protocols[p].station;
            if sample.len() < MAX_LISTED_DRAWS {
                sample.push(Draw { station, paper: 0 });
            }
            if seen.insert(p) {
                for ((ci, prot), paper) in batches[p].reported.iter().zip(&hand[p]) {
                    let c = &contests[*ci];
                    for (ch, (&a, &b)) in prot.iter().zip(paper).enumerate() {
                        if a != b {
                            if discrepancies.len() >= MAX_LISTED_DRAWS {
                                continue;
                            }
                            discrepancies.push(Discrepancy {
                                station,
                                contest: c.name.clone(),
                                choice: c.names.get(ch).cloned().unwrap_or("invalid".into()),
                                protocol: a,
                                paper: b,
                            });
                        }
                    }
                }
            }
            drawn += 1;
        }
        round_end(std::iter::once((test.p_value(), test.statistic())), alpha)
    });
    let all = Contest {
        name: "all contests (MACRO)".into(),
        reported: Vec::new(),
        stations: Vec::new(),
        piles: Vec::new(),
        assertions: Vec::new(),
        outcome: format!("the reported outcomes of {} contests", contests.len()),
        paper_outcome: contests
            .iter()
            .map(|c| format!("{}: {}", c.name, c.paper_outcome))
            .collect::<Vec<_>>()
            .join("; "),
        names: Vec::new(),
    };
    if outcome.decision == Decision::FullHandCount {
        discrepancies.clear();
        for c in contests {
            station_discrepancies(c, input.protocols, &mut discrepancies);
        }
    }
    let mut audit = finish(&all, outcome, n as u64, discrepancies, sample, &[]);
    if let Some(h) = &mut audit.hand_count {
        h.same_as_reported = contests.iter().all(|c| c.paper_outcome == c.outcome);
    }
    // every assertion shares MACRO's one P-value
    audit.assertions = contests
        .iter()
        .flat_map(|c| {
            let name = |i: usize| c.names.get(i).cloned().unwrap_or_else(|| "invalid".into());
            c.assertions
                .iter()
                .map(|a| AssertionResult {
                    claim: format!("{}: {}", c.name, a.claim.describe(&name)),
                    margin: a.margin(&c.reported),
                    p_value: test.p_value(),
                })
                .collect::<Vec<_>>()
        })
        .collect();
    audit
}
