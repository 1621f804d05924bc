//! The audit detectors: risk-limiting audits of each run's paper record ([`crate::rla`],
//! `docs/rla.md`), and voters' complaints about their printed records (VVPAT).
//!
//! Audited contests: the list tier (threshold crossings and the seat order, as
//! [`crate::rla::list_tier`] asserts them) and every district's round-1 decision (a plurality
//! winner, or under the absolute-majority rule the winner's majority or the runoff pair), each
//! as published. Every contest is audited on its own at risk limit `rla_risk_limit`, in rounds
//! ([`Schedule::doubling`] from a first round sized to the reported margins) escalating to a full
//! hand count.
//!
//! - `rla_bravo`: ballot polling (BRAVO) of the paper. Ballots the published record counts but
//!   the boxes do not hold (votes on machines that print nothing, ballots protocols add) are
//!   phantoms that score 0 for every assertion.
//! - `rla_macro`: batch comparison (MACRO) with station protocols as batches and their papers
//!   counted by hand.
//! - `rla_comparison`: ballot-level comparison (Kaplan–Markov, super-simple γ) of the machines'
//!   cast-vote records with their printed records; applies only where every ballot has both.
//!
//! Draws are with replacement; a round's draws are a multinomial draw of categories (ballot
//! choices, CVR/paper pairs), which is the same distribution as drawing ballots one by one, and
//! each test's statistic is a sum over draws, so the P-value at a round's end is exact. P-values
//! are looked at only at rounds' ends (valid at any stopping time).
//!
//! A reading's value: 1 when some contest's reported outcome is wrong on the paper (an
//! assertion fails on the full count of the papers) and its audit escalated to the full hand
//! count that finds it (the detector fires: the fraud is caught and the outcome corrected), else
//! 0; plus [`WRONG`] when some contest's outcome is wrong on the paper, [`CONFIRMED_WRONG`] when
//! such a contest was confirmed (the event whose rate must stay below the risk limit) and
//! [`ESCALATED`] when some contest went to a full hand count (with dozens of contests some close
//! one nearly always does, so escalation alone would fire on honest runs). Its cost: ballots
//! examined by hand, the full hand counts included.

use super::{Detector, Evidence, Reading, Readings};
use crate::distr::multinomial;
use crate::electorate::Electorate;
use crate::model::{DetectorSettings, ElectoralSystem};
use crate::rla::batch::{Batch, ContestAssertion, MacroPlan, MacroTest};
use crate::rla::bravo::FixedBet;
use crate::rla::comparison::SUPER_SIMPLE_GAMMA;
use crate::rla::{Assertion, Base, Decision, Schedule, escalate, list_tier, seat_rule};
use crate::rng::{Purpose, StreamRng, stream};
use crate::seats::{DistrictOutcome, DistrictRule, TieBreak, allocate};
use crate::sim::StationCounts;
use crate::sim::counts::district_stations;

/// What a reading's value adds when the reported outcome is wrong on the paper.
pub const WRONG: f64 = 0.25;
/// What it adds when a contest whose outcome is wrong was confirmed.
pub const CONFIRMED_WRONG: f64 = 0.125;
/// What it adds when some contest went to a full hand count.
pub const ESCALATED: f64 = 0.0625;

/// What an audit detector's reading says (see the module doc).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AuditReading {
    /// Some contest's outcome is wrong on the paper and its full hand count found it.
    pub found: bool,
    /// Some contest's reported outcome is wrong on the paper.
    pub wrong: bool,
    /// Some contest whose outcome is wrong on the paper was confirmed.
    pub confirmed_wrong: bool,
    /// Some contest went to a full hand count.
    pub escalated: bool,
}

impl AuditReading {
    /// Decodes a reading's value (exact: the parts are powers of two).
    pub fn of(value: f64) -> AuditReading {
        let f = value - value.floor();
        let bit = |b: f64| (f / b).floor() as u32 % 2 == 1;
        AuditReading {
            found: value >= 1.0,
            wrong: bit(WRONG),
            confirmed_wrong: bit(CONFIRMED_WRONG),
            escalated: bit(ESCALATED),
        }
    }

    /// Encodes it.
    pub fn value(self) -> f64 {
        let part = |b: bool, x: f64| if b { x } else { 0.0 };
        part(self.found, 1.0)
            + part(self.wrong, WRONG)
            + part(self.confirmed_wrong, CONFIRMED_WRONG)
            + part(self.escalated, ESCALATED)
    }
}

/// One audited contest: its categories are its choices, then no valid vote, then phantoms.
struct Contest {
    /// Published counts per category (0 phantoms).
    reported: Vec<u64>,
    /// The published outcome's assertions (each with a phantom category scoring 0).
    assertions: Vec<Assertion>,
    /// Stations whose papers hold the contest, and where each station's row is.
    rows: Rows,
}

#[derive(Clone, Copy)]
enum Rows {
    List,
    District(usize),
}

impl Rows {
    /// Station `i`'s counts of this contest in `c` (choices, then no valid vote), into `out`.
    fn read(self, e: &Electorate, c: &StationCounts, i: usize, out: &mut Vec<u64>) {
        out.clear();
        match self {
            Rows::List => out.extend(c.list_of(i).iter().map(|&x| u64::from(x))),
            Rows::District(d) => {
                let off = e.candidate_offset[i] as usize;
                let n = e.districts[d].candidates.len();
                out.extend(c.district[off..off + n].iter().map(|&x| u64::from(x)));
                out.push(u64::from(c.district_invalid[i]));
            }
        }
    }

    fn stations(self, e: &Electorate) -> std::ops::Range<usize> {
        match self {
            Rows::List => 0..e.stations.len(),
            Rows::District(d) => district_stations(e, d),
        }
    }
}

/// Adds a phantom category scoring 0 to `a`.
fn with_phantom(mut a: Assertion) -> Assertion {
    a.values.push(0.0);
    a
}

/// The contests of a run's published result and their assertions.
fn contests(system: &ElectoralSystem, e: &Electorate, ev: &Evidence<'_>) -> Vec<Contest> {
    let published = &ev.published;
    let mut out = Vec::new();
    let mut row = Vec::new();
    if let Some(tier) = &system.list {
        let k = e.n_parties;
        let mut reported: Vec<u64> = ev.national[..k].to_vec();
        let invalid: u64 = (0..e.stations.len())
            .map(|i| u64::from(published.protocols.list_of(i)[k]))
            .sum();
        reported.push(invalid);
        let ballots: u64 = reported.iter().sum();
        let threshold = crate::tabulation::list_threshold(tier, ballots);
        let lot = TieBreak::Lot { seed: 0 };
        if let Ok(a) = allocate(
            &tier.method,
            tier.seats,
            &reported[..k],
            threshold.as_ref(),
            lot,
        ) {
            let base = if tier.threshold_on_ballots {
                Base::AllBallots
            } else {
                Base::Valid
            };
            let share = tier.threshold.as_ref().map(|t| (t.share, base));
            let rule = seat_rule(&tier.method);
            let assertions = list_tier(&reported, &a.qualified, &a.seats, share, rule);
            reported.push(0);
            out.push(Contest {
                reported,
                assertions: assertions.into_iter().map(with_phantom).collect(),
                rows: Rows::List,
            });
        }
    }
    if let Some(tier) = &system.districts {
        for (d, result) in published.districts.iter().enumerate() {
            let rows = Rows::District(d);
            let mut reported = result.round1.clone();
            let mut invalid = 0;
            for i in rows.stations(e) {
                rows.read(e, published.protocols, i, &mut row);
                invalid += row.last().copied().unwrap_or(0);
            }
            reported.push(invalid);
            let winner = result.winner as usize;
            let assertions = match (tier.rule, &result.runoff) {
                (DistrictRule::Plurality, _) => crate::rla::plurality(&reported, winner),
                (DistrictRule::AbsoluteMajority, None) => {
                    crate::rla::majority_rule(&reported, DistrictOutcome::Elected(winner))
                }
                (DistrictRule::AbsoluteMajority, Some(r)) => {
                    let [a, b] = r.finalists;
                    let o = DistrictOutcome::Runoff(a as usize, b as usize);
                    crate::rla::majority_rule(&reported, o)
                }
            };
            reported.push(0);
            out.push(Contest {
                reported,
                assertions: assertions.into_iter().map(with_phantom).collect(),
                rows,
            });
        }
    }
    out
}

/// The audits of a run's contests as they ended: ballots examined (full hand counts included)
/// and what [`AuditReading`] says.
#[derive(Default)]
struct Tally {
    examined: f64,
    read: Option<AuditReading>,
}

impl Tally {
    fn add(&mut self, decision: Decision, examined: u64, population: u64, wrong: bool) {
        let full = decision == Decision::FullHandCount;
        self.examined += examined as f64 + if full { population as f64 } else { 0.0 };
        let r = self.read.get_or_insert(AuditReading {
            found: false,
            wrong: false,
            confirmed_wrong: false,
            escalated: false,
        });
        r.found |= wrong && full;
        r.wrong |= wrong;
        r.confirmed_wrong |= wrong && !full;
        r.escalated |= full;
    }

    fn reading(&self) -> Reading {
        Reading {
            value: Some(self.read.map_or(0.0, AuditReading::value)),
            cost: self.examined,
        }
    }
}

/// A test whose log statistic is a sum over draws of a per-category increment (BRAVO's log
/// likelihood ratio; minus Kaplan–Markov's log P-value): audited in rounds over `weights` (the
/// population per category), each round's new draws one multinomial draw. The P-value is
/// `exp(−max)` over rounds' ends, the smallest over assertions' largest.
fn sum_audit(
    increments: &[Vec<f64>],
    weights: &[f64],
    alpha: f64,
    rng: &mut StreamRng,
    drawn: &mut Vec<u32>,
) -> (Decision, u64, u64) {
    let population = weights.iter().sum::<f64>() as u64;
    // first round: the draws at which each test's expected statistic (with the population's own
    // shares) reaches ln(1/α); none if some test does not grow
    let first = increments
        .iter()
        .map(|inc| {
            let drift: f64 =
                inc.iter().zip(weights).map(|(x, w)| x * w).sum::<f64>() / population.max(1) as f64;
            if drift > 0.0 {
                ((1.0 / alpha).ln() / drift).ceil()
            } else {
                f64::INFINITY
            }
        })
        .fold(1.0, f64::max);
    if increments.is_empty() {
        return (Decision::Confirmed, 0, population);
    }
    if !first.is_finite() || population == 0 {
        return (Decision::FullHandCount, 0, population);
    }
    let mut stat = vec![0.0; increments.len()];
    let mut best = vec![0.0f64; increments.len()];
    let mut so_far = 0u64;
    drawn.resize(weights.len(), 0);
    let schedule = Schedule::doubling(first.min(population as f64) as u64);
    let out = escalate(schedule, alpha, population, |n| {
        let new = n.saturating_sub(so_far).min(u64::from(u32::MAX)) as u32;
        multinomial(rng, new, weights, drawn);
        so_far = n;
        for ((s, b), inc) in stat.iter_mut().zip(best.iter_mut()).zip(increments) {
            *s += drawn
                .iter()
                .zip(inc)
                .map(|(&c, x)| f64::from(c) * x)
                .sum::<f64>();
            *b = b.max(*s);
        }
        best.iter().map(|b| (-b).exp().min(1.0)).fold(0.0, f64::max)
    });
    (out.decision, out.examined, population)
}

/// Per category of `c`: the papers in the boxes, phantoms last.
fn paper_pool(e: &Electorate, c: &Contest, paper: &StationCounts, row: &mut Vec<u64>) -> Vec<f64> {
    let mut pool = vec![0u64; c.reported.len()];
    for i in c.rows.stations(e) {
        c.rows.read(e, paper, i, row);
        for (t, v) in pool.iter_mut().zip(row.iter()) {
            *t += v;
        }
    }
    let papers: u64 = pool.iter().sum();
    let reported: u64 = c.reported.iter().sum();
    if let Some(ph) = pool.last_mut() {
        *ph = reported.saturating_sub(papers);
    }
    pool.into_iter().map(|x| x as f64).collect()
}

/// Whether some assertion fails on the papers of `pool` (phantoms, the last category, are not
/// papers: a full hand count counts what is there).
fn wrong_on(assertions: &[Assertion], pool: &[f64]) -> bool {
    let mut counts: Vec<u64> = pool.iter().map(|&x| x as u64).collect();
    if let Some(ph) = counts.last_mut() {
        *ph = 0;
    }
    assertions.iter().any(|a| !a.holds(&counts))
}

/// BRAVO ballot polling of every contest.
fn polling(
    e: &Electorate,
    cs: &[Contest],
    paper: &StationCounts,
    alpha: f64,
    rng: &mut StreamRng,
) -> Reading {
    let mut t = Tally::default();
    let (mut row, mut drawn) = (Vec::new(), Vec::new());
    for c in cs {
        let pool = paper_pool(e, c, paper, &mut row);
        let increments: Vec<Vec<f64>> = c
            .assertions
            .iter()
            .map(|a| {
                let bet =
                    FixedBet::bravo(a, &c.reported).unwrap_or_else(|| FixedBet::with_eta(a, 0.5));
                (0..a.values.len()).map(|j| bet.log_factor(j)).collect()
            })
            .collect();
        let (d, n, pop) = sum_audit(&increments, &pool, alpha, rng, &mut drawn);
        t.add(d, n, pop, wrong_on(&c.assertions, &pool));
    }
    t.reading()
}

/// Ballot-level comparison of every contest, where every ballot has a cast-vote record (the
/// machine's) and a printed record; `None` elsewhere.
fn comparison(
    e: &Electorate,
    cs: &[Contest],
    cvrs: &StationCounts,
    paper: &StationCounts,
    alpha: f64,
    rng: &mut StreamRng,
) -> Option<Reading> {
    let all_printed = (0..e.stations.len()).all(|i| {
        cvrs.electronic[i] == cvrs.issued[i] && paper.electronic[i] > 0 || cvrs.issued[i] == 0
    });
    if !all_printed {
        return None;
    }
    let mut t = Tally::default();
    let (mut cvr, mut pap, mut drawn) = (Vec::new(), Vec::new(), Vec::new());
    for c in cs {
        let m = c.reported.len();
        let ph = m - 1;
        // pairs[cvr·m + paper]: within each station, records matched to papers of the same
        // choice, the rest paired in order (a CVR without a paper meets a phantom paper, a paper
        // without a CVR a record of no valid vote)
        let mut pairs = vec![0u64; m * m];
        let mut cvr_total = vec![0u64; m];
        for i in c.rows.stations(e) {
            c.rows.read(e, cvrs, i, &mut cvr);
            c.rows.read(e, paper, i, &mut pap);
            let (mut over, mut under) = (Vec::new(), Vec::new());
            for j in 0..cvr.len() {
                cvr_total[j] += cvr[j];
                let same = cvr[j].min(pap[j]);
                pairs[j * m + j] += same;
                if cvr[j] > same {
                    over.push((j, cvr[j] - same));
                }
                if pap[j] > same {
                    under.push((j, pap[j] - same));
                }
            }
            let (mut a, mut b) = (over.into_iter(), under.into_iter());
            let (mut x, mut y) = (a.next(), b.next());
            loop {
                match (&mut x, &mut y) {
                    (Some((r, nr)), Some((p, np))) => {
                        let k = (*nr).min(*np);
                        pairs[*r * m + *p] += k;
                        *nr -= k;
                        *np -= k;
                        if *nr == 0 {
                            x = a.next();
                        }
                        if *np == 0 {
                            y = b.next();
                        }
                    }
                    (Some((r, nr)), None) => {
                        pairs[*r * m + ph] += *nr;
                        x = a.next();
                    }
                    (None, Some((p, np))) => {
                        pairs[(ph - 1) * m + *p] += *np;
                        y = b.next();
                    }
                    (None, None) => break,
                }
            }
        }
        let increments: Vec<Vec<f64>> = c
            .assertions
            .iter()
            .map(|a| km_increments(a, &cvr_total))
            .collect();
        let weights: Vec<f64> = pairs.iter().map(|&x| x as f64).collect();
        let mut pool = vec![0.0; m];
        for (ij, &w) in weights.iter().enumerate() {
            pool[ij % m] += w;
        }
        let (d, n, pop) = sum_audit(&increments, &weights, alpha, rng, &mut drawn);
        t.add(d, n, pop, wrong_on(&c.assertions, &pool));
    }
    Some(t.reading())
}

/// Kaplan–Markov with the super-simple γ (`rla::comparison`) as a sum: per draw of a (CVR,
/// paper) pair `ij = cvr·m + paper`, `−ln(1 − v/(2γu)) + ln(1 − ω/(γu))` with `v` the CVRs'
/// assorter margin and `ω` the pair's overstatement; no growth when `v ≤ 0`.
fn km_increments(a: &Assertion, cvr_total: &[u64]) -> Vec<f64> {
    let m = a.values.len();
    let u = a.upper;
    let margin = a.margin(cvr_total) / u;
    if margin <= 0.0 {
        return vec![0.0; m * m];
    }
    let base = (1.0 - margin / (2.0 * SUPER_SIMPLE_GAMMA)).ln();
    (0..m * m)
        .map(|ij| {
            let omega = a.values[ij / m] - a.values[ij % m];
            (1.0 - omega / (SUPER_SIMPLE_GAMMA * u)).ln() - base
        })
        .collect()
}

/// MACRO batch comparison of all contests at once: station protocols are the batches' reported
/// counts, their papers the hand counts.
fn batch_comparison(
    e: &Electorate,
    cs: &[Contest],
    protocols: &StationCounts,
    paper: &StationCounts,
    alpha: f64,
    rng: &mut StreamRng,
) -> Reading {
    let assertions: Vec<ContestAssertion<'_>> =
        ContestAssertion::all(cs.iter().map(|c| c.assertions.as_slice()));
    // the contests on each station's papers
    let mut on_station: Vec<Vec<usize>> = vec![Vec::new(); e.stations.len()];
    for (ci, c) in cs.iter().enumerate() {
        for i in c.rows.stations(e) {
            on_station[i].push(ci);
        }
    }
    let mut row = Vec::new();
    let mut batches = Vec::with_capacity(e.stations.len());
    let mut hands = Vec::with_capacity(e.stations.len());
    let mut papers_total = 0u64;
    let mut pools: Vec<Vec<u64>> = cs.iter().map(|c| vec![0; c.reported.len()]).collect();
    for (i, contests) in on_station.iter().enumerate() {
        let mut reported = Vec::with_capacity(contests.len());
        let mut hand = Vec::with_capacity(contests.len());
        let mut papers = 0u64;
        for &ci in contests {
            let c = &cs[ci];
            c.rows.read(e, protocols, i, &mut row);
            row.push(0);
            let r = row.clone();
            c.rows.read(e, paper, i, &mut row);
            row.push(0);
            let (nr, np) = (r.iter().sum::<u64>(), row.iter().sum::<u64>());
            // ballots the protocol counts and the box does not hold are phantoms
            if let Some(ph) = row.last_mut() {
                *ph = nr.saturating_sub(np);
            }
            for (t, v) in pools[ci].iter_mut().zip(&row) {
                *t += v;
            }
            papers = papers.max(nr.max(np));
            reported.push((ci, r));
            hand.push(row.clone());
        }
        papers_total += papers;
        batches.push(Batch { papers, reported });
        hands.push(hand);
    }
    let plan = MacroPlan::new(&assertions, &batches);
    let wrong = cs.iter().zip(&pools).any(|(c, pool)| {
        let pool: Vec<f64> = pool.iter().map(|&x| x as f64).collect();
        wrong_on(&c.assertions, &pool)
    });
    let population = batches.len() as u64;
    let mut t = Tally::default();
    let Some(first) = plan.sample_size(alpha) else {
        t.add(Decision::FullHandCount, 0, papers_total, wrong);
        return t.reading();
    };
    let mut test = MacroTest::new(plan.total_bound());
    let mut seen = vec![false; batches.len()];
    let (mut so_far, mut examined) = (0u64, 0u64);
    let out = escalate(Schedule::doubling(first.max(1)), alpha, population, |n| {
        while so_far < n {
            let p = plan.pick(crate::rng::unit(rng));
            test.observe(plan.taint(&assertions, p, &batches[p], &hands[p]));
            if !seen[p] {
                seen[p] = true;
                examined += batches[p].papers;
            }
            so_far += 1;
        }
        test.p_value()
    });
    // the cost in ballots: the sampled batches' papers, or every paper after a full hand count
    let examined = if out.decision == Decision::FullHandCount {
        papers_total
    } else {
        examined
    };
    t.add(out.decision, examined, 0, wrong);
    t.reading()
}

/// The audit detectors' readings into `out`: voters' complaints about printed records, and
/// (with `rla_risk_limit` and a paper record) the three audits.
pub(super) fn audit_readings(
    settings: &DetectorSettings,
    system: &ElectoralSystem,
    e: &Electorate,
    ev: &Evidence<'_>,
    seed: u64,
    run: u64,
    out: &mut Readings,
) {
    let checks = ev.published.checks;
    if checks.vvpat_looked > 0 {
        out[Detector::VvpatComplaints] = Reading {
            value: Some(if checks.vvpat_complaint { 1.0 } else { 0.0 }),
            cost: checks.vvpat_looked as f64,
        };
    }
    let (Some(alpha), Some(paper)) = (settings.rla_risk_limit, ev.published.paper) else {
        return;
    };
    let cs = contests(system, e, ev);
    let mut rng = stream(seed, Purpose::Audit, run, 0);
    out[Detector::RlaBravo] = polling(e, &cs, paper, alpha, &mut rng);
    let mut rng = stream(seed, Purpose::Audit, run, 1);
    let protocols = ev.published.protocols;
    out[Detector::RlaMacro] = batch_comparison(e, &cs, protocols, paper, alpha, &mut rng);
    let mut rng = stream(seed, Purpose::Audit, run, 2);
    let cvrs = ev.published.observed;
    if let Some(r) = comparison(e, &cs, cvrs, paper, alpha, &mut rng) {
        out[Detector::RlaComparison] = r;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rla::assertion::Assertion;

    /// Audits `trials` times and returns how many confirmed.
    fn confirmations(increments: &[Vec<f64>], weights: &[f64], trials: u64) -> usize {
        let mut drawn = Vec::new();
        (0..trials)
            .filter(|&t| {
                let mut rng = stream(1, Purpose::Audit, t, 9);
                let (d, _, _) = sum_audit(increments, weights, 0.05, &mut rng, &mut drawn);
                d == Decision::Confirmed
            })
            .count()
    }

    fn beats() -> Assertion {
        with_phantom(Assertion::beats(0, 1, 2))
    }

    #[test]
    fn polling_rounds_keep_the_risk_below_the_limit_and_confirm_a_true_outcome() {
        let a = beats();
        // reported: A 55 %, B 45 %; on paper B won by 0.2 points (A 49.9 %)
        let bet = FixedBet::bravo(&a, &[55_000, 45_000, 0, 0]).unwrap();
        let inc = vec![(0..4).map(|j| bet.log_factor(j)).collect::<Vec<_>>()];
        let wrong = [49_900.0, 50_100.0, 0.0, 0.0];
        let n = 10_000;
        let k = confirmations(&inc, &wrong, n);
        let rate = crate::detect::Rate::wilson(k, n as usize);
        assert!(rate.low <= 0.05, "risk {k} of {n}");
        assert!(k as f64 / (n as f64) < 0.05, "risk {k} of {n}");
        // and when the paper agrees with the report, audits confirm nearly always
        let right = [55_000.0, 45_000.0, 0.0, 0.0];
        assert!(confirmations(&inc, &right, 500) > 450);
    }

    #[test]
    fn comparison_rounds_keep_the_risk_below_the_limit() {
        let a = beats();
        let m = 4;
        // CVRs: A 55 %, B 45 %; 6 % of ballots are A on the CVR and B on paper: paper margin −2 %
        let mut pairs = vec![0.0; m * m];
        pairs[0] = 49_000.0; // A, A
        pairs[1] = 6_000.0; // CVR A, paper B
        pairs[m + 1] = 45_000.0; // B, B
        let inc = vec![km_increments(&a, &[55_000, 45_000, 0, 0])];
        let n = 10_000;
        let k = confirmations(&inc, &pairs, n);
        assert!((k as f64) / (n as f64) <= 0.05, "risk {k} of {n}");
    }

    #[test]
    fn reading_values_say_what_happened() {
        for bits in 0..16u32 {
            let r = AuditReading {
                found: bits & 1 == 1,
                wrong: bits & 2 == 2,
                confirmed_wrong: bits & 4 == 4,
                escalated: bits & 8 == 8,
            };
            let v = r.value();
            assert_eq!(AuditReading::of(v), r);
            assert_eq!(v > 0.5, r.found);
        }
    }
}
