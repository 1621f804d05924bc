//! BRAVO ballot polling (Lindeman, Stark & Yates 2012, "BRAVO: Ballot-polling risk-limiting
//! audits to verify outcomes", EVT/WOTE '12): Wald's sequential probability ratio test of "the
//! reported winner's share among ballots for the pair is ½" against "it is as reported",
//! sampling ballots with replacement. For a pair with reported shares `p_w`, `p_l` of all
//! ballots and `s = p_w / (p_w + p_l)`, each ballot for the winner multiplies the statistic by
//! `2s`, each for the loser by `2(1 − s)`, others by 1; the audit may stop when it reaches
//! `1/α`.
//!
//! For any assertion this is the betting martingale with a fixed bet (ALPHA with a constant
//! `η`, Stark 2023 §2): the factor for an assorter value `x ∈ [0, u]` is
//! `(x·η/μ + (u − x)(u − η)/(u − μ)) / u` with `μ = ½`; taking `η` the reported mean of the
//! assorter over the ballots whose value is not ½ gives exactly BRAVO's `2s` and `2(1 − s)` for
//! a pair (`u = 1`, `η = s`) and its super-majority test for a share above `f`.
//!
//! Planning: the average sample number (BRAVO paper, eq. for ASN) and the first-round size that
//! stops with a given probability (M. Lindeman's analytic method as Arlo uses it: a normal
//! approximation for a starting size, then the smallest size at which the binomial quantile of
//! winner ballots meets the stopping rule).

use super::assertion::Assertion;
use crate::stats::{binomial_pmf, normal_quantile};

/// The bet of BRAVO for one assertion: the log of the factor per ballot category.
#[derive(Clone, Debug)]
pub struct FixedBet {
    log_factor: Vec<f64>,
}

impl FixedBet {
    /// BRAVO's bet for `assertion` given the reported per-category counts. `None` when the
    /// reported counts do not satisfy the assertion (there is nothing to bet on).
    pub fn bravo(assertion: &Assertion, reported: &[u64]) -> Option<FixedBet> {
        let (mut n, mut s) = (0.0, 0.0);
        for (&c, &x) in reported.iter().zip(&assertion.values) {
            if x != 0.5 {
                n += c as f64;
                s += c as f64 * x;
            }
        }
        if n == 0.0 {
            return None;
        }
        let eta = s / n;
        Some(FixedBet::with_eta(assertion, eta)).filter(|_| eta > 0.5)
    }

    /// The fixed bet `η` (the alternative mean) for `assertion`.
    pub fn with_eta(assertion: &Assertion, eta: f64) -> FixedBet {
        let u = assertion.upper;
        let mu = 0.5;
        let log_factor = assertion
            .values
            .iter()
            .map(|&x| ((x * eta / mu + (u - x) * (u - eta) / (u - mu)) / u).ln())
            .collect();
        FixedBet { log_factor }
    }

    /// The log factor of a ballot in `category`.
    #[inline]
    pub fn log_factor(&self, category: usize) -> f64 {
        self.log_factor[category]
    }
}

/// BRAVO's average sample number for a pair with reported shares `p_w > p_l` of all ballots,
/// at risk limit `alpha`: `⌈(ln(1/α) + z_w/2) / (p_w·z_w + p_l·z_l)⌉` with `z_w = ln(2s)`,
/// `z_l = ln(2 − 2s)`, `s = p_w/(p_w + p_l)`. `None` for a tie or no votes.
pub fn bravo_asn(alpha: f64, p_w: f64, p_l: f64) -> Option<u64> {
    let ordered = p_w > p_l && p_w + p_l > 0.0;
    if !ordered {
        return None;
    }
    let s = p_w / (p_w + p_l);
    let z_w = (2.0 * s).ln();
    let z_l = (2.0 - 2.0 * s).ln();
    let asn = ((1.0 / alpha).ln() + z_w / 2.0) / (p_w * z_w + p_l * z_l);
    Some(asn.ceil() as u64)
}

/// The smallest `k` with `P(Binomial(n, p) ≤ k) ≥ q`.
fn binomial_quantile(q: f64, n: u64, p: f64) -> u64 {
    let mut cdf = 0.0;
    for k in 0..=n {
        cdf += binomial_pmf(n, p, k);
        if cdf >= q {
            return k;
        }
    }
    n
}

/// The first-round sample size of a BRAVO audit of a pair with reported shares `p_w > p_l` of
/// all ballots that stops in that round with probability `stop` if the shares are right
/// (Lindeman's method, as Arlo computes it). `None` for a tie or a bad probability.
pub fn bravo_sample_size(alpha: f64, p_w: f64, p_l: f64, stop: f64) -> Option<u64> {
    let valid = p_w > p_l && 0.0 < stop && stop < 1.0 && 0.0 < alpha && alpha < 1.0;
    if !valid {
        return None;
    }
    let p_wl = p_w + p_l;
    let s = p_w / p_wl;
    let plus = (2.0 * s).ln();
    let minus = (2.0 * (1.0 - s)).ln();
    let need = (1.0 / alpha).ln();
    // Normal approximation: the (1 − stop)-quantile of winner ballots among n, n·s + z·√(n·s(1−s)),
    // equals the number the stopping rule needs, (need − n·minus)/(plus − minus): a quadratic
    // in n whose larger root (smaller for stop < ½) starts the search.
    let z = -normal_quantile(stop);
    let d = s * (1.0 - s);
    let f = need / (plus - minus);
    let g = minus / (plus - minus) + s;
    let (qa, qb, qc) = (g * g, -(z * z * d + 2.0 * f * g), f * f);
    let root = (qb * qb - 4.0 * qa * qc).max(0.0).sqrt();
    let start = if stop > 0.5 {
        (-qb + root) / (2.0 * qa)
    } else {
        (-qb - root) / (2.0 * qa)
    };
    let mut n = start.floor().max(0.0) as u64;
    loop {
        let x = binomial_quantile(1.0 - stop, n, s) as f64;
        if x * plus + (n as f64 - x) * minus > need {
            break;
        }
        n += 1;
    }
    // Ballots for neither of the pair: scale up by their share.
    Some((n as f64 / p_wl).ceil() as u64)
}
