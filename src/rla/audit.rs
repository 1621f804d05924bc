//! Audits in rounds, escalating to a full hand count, and audits simulated on counts (for the
//! risk and workload tests and the Monte Carlo detectors).
//!
//! A round examines units (ballots or batches) until the cumulative sample reaches the round's
//! size; the audit stops when every assertion's P-value is at most the risk limit. Round sizes
//! grow geometrically (`first`, `first·growth`, …); after `max_rounds` rounds, or as soon as a
//! round would examine more than `max_share` of the population, the audit escalates to a full
//! hand count, whose result replaces the reported one. The P-values are checked only at the end of rounds, which
//! can only lower the risk (each test is valid at any stopping time). With
//! [`Schedule::refuting`], a round at whose end the sample speaks against the reported outcome
//! — the statistic of an assertion not yet confirmed has fallen to [`REFUTE_BELOW`] or less —
//! also escalates at once: the audit could hardly confirm, and a full hand count is what the
//! rounds still to come would end in. Escalating early can only lower the risk.

use rand::Rng;
use serde::Serialize;

use super::alpha::Alpha;
use super::assertion::Assertion;
use super::batch::{MacroPlan, MacroTest};
use super::bravo::FixedBet;
use super::comparison::{AlphaComparison, KaplanMarkov, SUPER_SIMPLE_GAMMA};

/// How rounds grow.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Schedule {
    /// Size of the first round (units).
    pub first: u64,
    /// Each round's cumulative size is the previous one's times this (> 1).
    pub growth: f64,
    /// Rounds before a full hand count.
    pub max_rounds: u32,
    /// A round that would examine more than this share of the population is replaced by a full
    /// hand count (sampling that much costs about as much as counting everything).
    pub max_share: f64,
    /// A round at whose end some assertion not confirmed has its statistic (the test
    /// supermartingale, 1 before any draw) at or below this escalates at once. 0: only a
    /// statistic that has fallen to 0 (a factor of 0, or a log statistic below about −745,
    /// where a double underflows), which no test of a right outcome reaches but by an
    /// impossible run of draws; escalating is always safe for the risk.
    pub refute_below: f64,
}

/// [`Schedule::refuting`]'s `refute_below`: the sample favours the reported outcome being wrong
/// by 1,000 to 1 (Wald's lower boundary). For BRAVO, whose statistic is the likelihood ratio of
/// the reported shares to a tie, the inverse statistic is a martingale when the papers are as
/// reported, so by Ville's inequality an audit of a right outcome escalates this way with
/// probability at most 1/1,000. For comparison tests whose every paper has a CVR (Kaplan–Markov,
/// MACRO) the statistic falls only on overstatements, so a right outcome counted without error
/// is never refuted.
pub const REFUTE_BELOW: f64 = 1e-3;

impl Schedule {
    /// The default escalation: the first round as planned, then doubling, at most 4 rounds,
    /// and a full hand count instead of any round that would examine more than a quarter of
    /// the population.
    pub fn doubling(first: u64) -> Schedule {
        Schedule {
            first: first.max(1),
            growth: 2.0,
            max_rounds: 4,
            max_share: 0.25,
            refute_below: 0.0,
        }
    }

    /// This schedule, with (`yes`) or without a full hand count at once after a round whose
    /// sample favours the outcome being wrong ([`REFUTE_BELOW`]): for tests whose statistic
    /// falls only on evidence against the outcome (BRAVO's likelihood ratio; comparisons where
    /// every paper has a CVR).
    pub fn refuting(self, yes: bool) -> Schedule {
        Schedule {
            refute_below: if yes { REFUTE_BELOW } else { 0.0 },
            ..self
        }
    }
}

/// How an audit ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Every assertion's P-value reached the risk limit: the reported outcome stands.
    Confirmed,
    /// Escalated to a full hand count.
    FullHandCount,
}

/// The end of an audit.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Outcome {
    pub decision: Decision,
    /// Rounds sampled.
    pub rounds: u32,
    /// Units examined in the sample (ballots or batches; not counting a full hand count).
    pub examined: u64,
    /// The largest P-value over the assertions at the last round.
    pub p_value: f64,
    /// Escalated because the last round's sample favoured the outcome being wrong
    /// ([`Schedule::refute_below`]).
    pub refuted: bool,
}

/// What the end of a round says: the largest P-value over the assertions, and the smallest
/// statistic (test supermartingale, 1 before any draw) of the assertions looked at and not
/// confirmed (∞ when not known: no refutation).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RoundEnd {
    pub p_value: f64,
    pub least: f64,
}

impl From<f64> for RoundEnd {
    /// A P-value alone.
    fn from(p_value: f64) -> RoundEnd {
        RoundEnd {
            p_value,
            least: f64::INFINITY,
        }
    }
}

/// Runs the rounds of `schedule` at risk limit `alpha` over `population` units: `examine_to(n)`
/// brings the sample to `n` units and returns the largest P-value over the assertions (and,
/// for [`Schedule::refute_below`], the least statistic: a [`RoundEnd`]).
pub fn escalate<R: Into<RoundEnd>>(
    schedule: Schedule,
    alpha: f64,
    population: u64,
    mut examine_to: impl FnMut(u64) -> R,
) -> Outcome {
    let mut examined = 0;
    let mut p = 1.0;
    let mut target = schedule.first.max(1) as f64;
    for round in 1..=schedule.max_rounds {
        let n = target.ceil() as u64;
        if n >= population || n as f64 > schedule.max_share * population as f64 {
            return Outcome {
                decision: Decision::FullHandCount,
                rounds: round - 1,
                examined,
                p_value: p,
                refuted: false,
            };
        }
        let end = examine_to(n).into();
        p = end.p_value;
        examined = n;
        if p <= alpha {
            return Outcome {
                decision: Decision::Confirmed,
                rounds: round,
                examined,
                p_value: p,
                refuted: false,
            };
        }
        // (with `refute_below` 0, a statistic fallen to 0)
        if end.least <= schedule.refute_below {
            return Outcome {
                decision: Decision::FullHandCount,
                rounds: round,
                examined,
                p_value: p,
                refuted: true,
            };
        }
        target *= schedule.growth.max(1.0 + 1e-9);
    }
    Outcome {
        decision: Decision::FullHandCount,
        rounds: schedule.max_rounds,
        examined,
        p_value: p,
        refuted: false,
    }
}

/// A first round: the draws at which every test's expected log statistic (its `drifts` per
/// draw, were the published outcome right) reaches ln(1/α); `None` if some test does not grow.
pub fn first_round(drifts: impl Iterator<Item = f64>, alpha: f64) -> Option<u64> {
    let mut first = 1.0f64;
    for d in drifts {
        if d <= 0.0 {
            return None;
        }
        first = first.max(((1.0 / alpha).ln() / d).ceil());
    }
    Some(first.min(u64::MAX as f64) as u64)
}

/// A ballot-polling test of one assertion.
#[derive(Clone, Debug)]
pub enum PollingTest {
    Bravo { bet: FixedBet, log_t: f64, max: f64 },
    Alpha(Alpha),
}

impl PollingTest {
    /// BRAVO for `a` given the reported counts (a test that never confirms if they do not
    /// satisfy it).
    pub fn bravo(a: &Assertion, reported: &[u64]) -> PollingTest {
        let bet = FixedBet::bravo(a, reported).unwrap_or_else(|| FixedBet::with_eta(a, 0.5));
        PollingTest::Bravo {
            bet,
            log_t: 0.0,
            max: 0.0,
        }
    }

    /// ALPHA (with replacement) for `a`, its prior guess the reported mean.
    pub fn alpha(a: &Assertion, reported: &[u64]) -> PollingTest {
        PollingTest::Alpha(Alpha::new(a.upper, a.mean(reported), None))
    }

    /// Takes a paper in `category` whose assorter value is `x`.
    #[inline]
    pub fn observe(&mut self, category: usize, x: f64) {
        match self {
            PollingTest::Bravo { bet, log_t, max } => {
                *log_t += bet.log_factor(category);
                if *log_t > *max {
                    *max = *log_t;
                }
            }
            PollingTest::Alpha(t) => t.observe(x),
        }
    }

    /// The P-value.
    pub fn p_value(&self) -> f64 {
        match self {
            PollingTest::Bravo { max, .. } => (-*max).exp().min(1.0),
            PollingTest::Alpha(t) => t.p_value(),
        }
    }

    /// The statistic now (1 before any draw).
    pub fn statistic(&self) -> f64 {
        match self {
            PollingTest::Bravo { log_t, .. } => log_t.exp(),
            PollingTest::Alpha(t) => t.statistic(),
        }
    }
}

/// A ballot-level comparison test of one assertion.
#[derive(Clone, Debug)]
pub enum ComparisonTest {
    KaplanMarkov(KaplanMarkov),
    Alpha(AlphaComparison),
}

impl ComparisonTest {
    /// Kaplan–Markov (super-simple γ) for `a` with reported (CVR) counts.
    pub fn kaplan_markov(a: &Assertion, reported: &[u64]) -> ComparisonTest {
        ComparisonTest::KaplanMarkov(KaplanMarkov::new(
            a.upper,
            a.margin(reported),
            SUPER_SIMPLE_GAMMA,
        ))
    }

    /// ALPHA (with replacement) for `a` with reported (CVR) counts.
    pub fn alpha(a: &Assertion, reported: &[u64]) -> ComparisonTest {
        ComparisonTest::Alpha(AlphaComparison::new(a.upper, a.margin(reported), None))
    }

    /// Takes the overstatement of the next ballot.
    #[inline]
    pub fn observe(&mut self, omega: f64) {
        match self {
            ComparisonTest::KaplanMarkov(t) => t.observe(omega),
            ComparisonTest::Alpha(t) => t.observe(omega),
        }
    }

    /// The P-value.
    pub fn p_value(&self) -> f64 {
        match self {
            ComparisonTest::KaplanMarkov(t) => t.p_value(),
            ComparisonTest::Alpha(t) => t.p_value(),
        }
    }

    /// The statistic now (1 before any draw).
    pub fn statistic(&self) -> f64 {
        match self {
            ComparisonTest::KaplanMarkov(t) => t.statistic(),
            ComparisonTest::Alpha(t) => t.statistic(),
        }
    }
}

/// Draws one index from running sums `cum` (last = total, > 0) with one 64-bit draw.
#[inline]
fn pick_cumulative(rng: &mut impl Rng, cum: &[u64]) -> usize {
    let total = *cum.last().unwrap_or(&0);
    let r = ((u128::from(rng.next_u64()) * u128::from(total)) >> 64) as u64;
    cum.partition_point(|&c| c <= r)
}

fn running_sums(counts: impl Iterator<Item = u64>) -> Vec<u64> {
    let mut s = 0;
    counts
        .map(|c| {
            s += c;
            s
        })
        .collect()
}

/// A simulated ballot-polling audit of one contest: ballots are drawn with replacement from the
/// paper (`paper`: per-category counts), each assertion tested by `make(assertion, reported)`.
pub fn simulate_polling(
    assertions: &[Assertion],
    reported: &[u64],
    paper: &[u64],
    make: fn(&Assertion, &[u64]) -> PollingTest,
    alpha: f64,
    schedule: Schedule,
    rng: &mut impl Rng,
) -> Outcome {
    let mut tests: Vec<PollingTest> = assertions.iter().map(|a| make(a, reported)).collect();
    let cum = running_sums(paper.iter().copied());
    let population: u64 = paper.iter().sum();
    if population == 0 || assertions.is_empty() {
        return trivially(assertions.is_empty());
    }
    let mut drawn = 0;
    escalate(schedule, alpha, population, |n| {
        while drawn < n {
            let c = pick_cumulative(rng, &cum);
            for (t, a) in tests.iter_mut().zip(assertions) {
                t.observe(c, a.values[c]);
            }
            drawn += 1;
        }
        round_end(tests.iter().map(|t| (t.p_value(), t.statistic())), alpha)
    })
}

/// A simulated ballot-level comparison audit of one contest: `pairs[i]` is the number of
/// ballots whose CVR is in category `i / k` and whose paper is in category `i % k` (`k` the
/// number of categories); ballots are drawn with replacement.
pub fn simulate_comparison(
    assertions: &[Assertion],
    pairs: &[u64],
    make: fn(&Assertion, &[u64]) -> ComparisonTest,
    alpha: f64,
    schedule: Schedule,
    rng: &mut impl Rng,
) -> Outcome {
    let k = assertions.first().map_or(1, |a| a.values.len());
    let mut reported = vec![0u64; k];
    for (i, &c) in pairs.iter().enumerate() {
        reported[i / k] += c;
    }
    let mut tests: Vec<ComparisonTest> = assertions.iter().map(|a| make(a, &reported)).collect();
    let cum = running_sums(pairs.iter().copied());
    let population: u64 = pairs.iter().sum();
    if population == 0 || assertions.is_empty() {
        return trivially(assertions.is_empty());
    }
    let mut drawn = 0;
    escalate(schedule, alpha, population, |n| {
        while drawn < n {
            let i = pick_cumulative(rng, &cum);
            let (cvr, paper) = (i / k, i % k);
            for (t, a) in tests.iter_mut().zip(assertions) {
                t.observe(a.values[cvr] - a.values[paper]);
            }
            drawn += 1;
        }
        round_end(tests.iter().map(|t| (t.p_value(), t.statistic())), alpha)
    })
}

/// A simulated MACRO audit: batches drawn as `plan` weighs them (with replacement), each
/// contributing its precomputed `taints` entry (`plan.taint` of its hand count).
pub fn simulate_macro(
    plan: &MacroPlan,
    taints: &[f64],
    alpha: f64,
    schedule: Schedule,
    rng: &mut impl Rng,
) -> Outcome {
    let mut test = MacroTest::new(plan.total_bound());
    let population = taints.len() as u64;
    if population == 0 {
        return trivially(false);
    }
    let mut drawn = 0;
    escalate(schedule, alpha, population, |n| {
        while drawn < n {
            test.observe(taints[plan.pick(crate::rng::unit(rng))]);
            drawn += 1;
        }
        round_end(std::iter::once((test.p_value(), test.statistic())), alpha)
    })
}

fn trivially(confirmed: bool) -> Outcome {
    Outcome {
        decision: if confirmed {
            Decision::Confirmed
        } else {
            Decision::FullHandCount
        },
        rounds: 0,
        examined: 0,
        p_value: if confirmed { 0.0 } else { 1.0 },
        refuted: false,
    }
}

/// A round's end from each assertion's (P-value, statistic now): the largest P-value, and the
/// least statistic of the assertions not confirmed (P-value above `alpha`).
pub fn round_end(tests: impl Iterator<Item = (f64, f64)>, alpha: f64) -> RoundEnd {
    let mut end = RoundEnd::from(0.0);
    for (p, t) in tests {
        end.p_value = end.p_value.max(p);
        if p > alpha {
            end.least = end.least.min(t);
        }
    }
    end
}
