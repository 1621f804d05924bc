//! The integer-percentage test of Kobak, Shpilkin & Pshenichnikov, "Integer percentages as
//! electoral falsification fingerprints", *Annals of Applied Statistics* 10(1), 2016.
//!
//! Owns: the definition of an "integer" station and the exact binomial null. Never does: I/O or
//! sampling — the null is computed exactly from the binomial pmf, so the result has no Monte
//! Carlo error and needs no random stream.
//!
//! Definition (data README): a station is integer in turnout if 100·issued/registered lies
//! within 0.05 of a whole number, integer in share if 100·leader/(valid+invalid) does. The
//! comparison is exact in integers: with r = 100·a mod b, the distance to the nearest whole
//! percentage is min(r, b−r)/b, and the station is integer iff 20·min(r, b−r) ≤ b. The bound is
//! inclusive because rounding the percentage to one decimal with round-half-to-even maps
//! both k − 0.05 and k + 0.05 to k.0.
//!
//! Filters: registered ≥ 100 (the base filter), turnout ≤ 99 % and share ≤ 99 % (above that
//! 100 % itself is a whole number that a fair station reaches easily).
//!
//! Null: independently per station, issued ~ Binomial(registered, observed turnout) and
//! leader ~ Binomial(valid+invalid, observed share). For station i, p_T = P(turnout integer),
//! p_S = P(share integer), p_E = 1 − (1−p_T)(1−p_S); expected count = Σ p, and the count of a sum
//! of independent Bernoulli indicators has standard deviation sqrt(Σ p(1−p)). Excess =
//! observed − expected, z = excess / sd. Kobak et al. obtained the expectation by simulation;
//! the exact sum is its limit.

use super::results::StationCounts;
use crate::stats::binomial_pmf_window;

/// Percentages strictly above this (in %) are excluded from the integer test.
pub const MAX_PERCENT: u64 = 99;

/// Tail width of the binomial window in standard deviations; the neglected mass is < 1e-22.
const TAIL_SD: f64 = 10.0;

/// Is 100·a/b within 0.05 of a whole number? (`b` > 0; exact integer arithmetic.)
pub fn is_integer_percent(a: u64, b: u64) -> bool {
    let r = (100 * a as u128) % b as u128;
    let d = r.min(b as u128 - r);
    20 * d <= b as u128
}

/// P(100·X/n is integer) for X ~ Binomial(n, p).
pub fn integer_probability(n: u64, p: f64) -> f64 {
    let (lo, pmf) = binomial_pmf_window(n, p, TAIL_SD);
    pmf.iter()
        .enumerate()
        .filter(|(i, _)| is_integer_percent(lo + *i as u64, n))
        .map(|(_, v)| v)
        .sum::<f64>()
        .min(1.0)
}

/// Observed versus expected integer stations for one quantity.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct IntegerCount {
    pub observed: u64,
    pub expected: f64,
    /// Standard deviation of the count under the null, sqrt(Σ p(1−p)).
    pub sd: f64,
    /// observed − expected.
    pub excess: f64,
    /// excess / sd.
    pub z: f64,
}

impl IntegerCount {
    fn new(observed: u64, expected: f64, var: f64) -> Self {
        let sd = var.sqrt();
        let excess = observed as f64 - expected;
        IntegerCount {
            observed,
            expected,
            sd,
            excess,
            z: if sd > 0.0 { excess / sd } else { f64::NAN },
        }
    }
}

/// The integer-percentage test.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct IntegerTest {
    /// Stations tested (after the base filter and the 99 % rule).
    pub stations: usize,
    /// Stations removed by the 99 % rule: turnout above it, then (of the rest) share above it.
    pub removed_turnout_above_99: usize,
    pub removed_share_above_99: usize,
    pub turnout: IntegerCount,
    pub share: IntegerCount,
    /// Integer in turnout or share (the headline number of Kobak et al.).
    pub either: IntegerCount,
}

/// Runs the test on base-filtered stations (see [`super::results::base_stations`]).
pub fn integer_test(stations: &[StationCounts]) -> IntegerTest {
    let mut removed_t = 0;
    let mut removed_s = 0;
    let mut n = 0;
    let (mut ot, mut os, mut oe) = (0u64, 0u64, 0u64);
    let (mut et, mut es, mut ee) = (0.0, 0.0, 0.0);
    let (mut vt, mut vs, mut ve) = (0.0, 0.0, 0.0);
    for s in stations {
        if 100 * s.issued > MAX_PERCENT * s.registered {
            removed_t += 1;
            continue;
        }
        if 100 * s.leader > MAX_PERCENT * s.ballots {
            removed_s += 1;
            continue;
        }
        n += 1;
        let it = is_integer_percent(s.issued, s.registered);
        let is = is_integer_percent(s.leader, s.ballots);
        ot += it as u64;
        os += is as u64;
        oe += (it || is) as u64;
        let pt = integer_probability(s.registered, s.turnout());
        let ps = integer_probability(s.ballots, s.share());
        let pe = 1.0 - (1.0 - pt) * (1.0 - ps);
        et += pt;
        es += ps;
        ee += pe;
        vt += pt * (1.0 - pt);
        vs += ps * (1.0 - ps);
        ve += pe * (1.0 - pe);
    }
    IntegerTest {
        stations: n,
        removed_turnout_above_99: removed_t,
        removed_share_above_99: removed_s,
        turnout: IntegerCount::new(ot, et, vt),
        share: IntegerCount::new(os, es, vs),
        either: IntegerCount::new(oe, ee, ve),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_definition_is_exact_and_inclusive() {
        assert!(is_integer_percent(500, 1000)); // 50.0
        assert!(is_integer_percent(1, 2000)); // 0.05 — the boundary counts
        assert!(!is_integer_percent(3, 2000)); // 0.15
        assert!(is_integer_percent(1999, 2000)); // 99.95
        assert!(!is_integer_percent(1, 1000)); // 0.1
        assert!(is_integer_percent(0, 7));
        // 1/3 = 33.33… is not; 2/3 = 66.67 is not.
        assert!(!is_integer_percent(1, 3) && !is_integer_percent(2, 3));
    }

    #[test]
    fn null_probability_matches_brute_force() {
        for &(n, p) in &[(150u64, 0.41), (1234, 0.62), (2500, 0.05)] {
            let brute: f64 = (0..=n)
                .filter(|k| is_integer_percent(*k, n))
                .map(|k| crate::stats::binomial_pmf(n, p, k))
                .sum();
            assert!((integer_probability(n, p) - brute).abs() < 1e-12, "n={n}");
        }
        // n = 2000: k = 20m and k = 20m ± 1 (exactly ±0.05 %) are integer, 3 counts in 20, and
        // the binomial spreads evenly over them, so the probability is 0.15.
        let p = integer_probability(2000, 0.5);
        assert!((p - 0.15).abs() < 1e-6, "{p}");
    }

    #[test]
    fn counts_filters_and_either() {
        let st = |registered, issued, ballots, leader| StationCounts {
            station_idx: 0,
            registered,
            issued,
            ballots,
            leader,
        };
        let t = integer_test(&[
            st(1000, 600, 600, 301), // turnout 60.0 integer, share 50.17 not
            st(1000, 995, 995, 500), // turnout 99.5 > 99: removed
            st(1000, 600, 600, 599), // share 99.83 > 99: removed
            st(1000, 614, 614, 307), // 61.4 and 50.0: share integer
        ]);
        assert_eq!(t.stations, 2);
        assert_eq!(
            (t.removed_turnout_above_99, t.removed_share_above_99),
            (1, 1)
        );
        assert_eq!(
            (t.turnout.observed, t.share.observed, t.either.observed),
            (1, 1, 2)
        );
        assert!(t.either.expected > 0.0 && t.either.expected < 1.0);
        assert!((t.either.excess - (2.0 - t.either.expected)).abs() < 1e-12);
    }
}
