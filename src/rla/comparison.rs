//! Ballot-level comparison audits: each sampled paper is compared with its cast-vote record
//! (CVR). For an assertion with assorter `a` (upper bound `u`) and reported assorter margin `v`
//! (`2·mean − 1` over the CVRs), a ballot's overstatement is `ω = a(CVR) − a(paper)`
//! (`ω ∈ [−u, u]`; for a plurality pair, `ω = ½` is a one-vote overstatement and `ω = 1` a
//! two-vote one).
//!
//! - **Kaplan–Markov** with the "super-simple" inflator γ (P. B. Stark 2010, "Super-simple
//!   simultaneous single-ballot risk-limiting audits", EVT/WOTE '10; the P-value of M. Lindeman
//!   and P. B. Stark 2012, "A gentle introduction to risk-limiting audits"): with diluted margin
//!   `m = v/u`, `P = Π_i (1 − m/(2γ)) / (1 − ω_i/(γ·u))`. For a pair this is the familiar
//!   `(1 − m/(2γ))ⁿ (1 − 1/(2γ))^{−o₁} (1 − 1/γ)^{−o₂} (1 + 1/(2γ))^{−u₁} (1 + 1/γ)^{−u₂}`.
//!   Each factor's reciprocal is linear in `ω` with mean ≤ 1 when the outcome is wrong
//!   (mean overstatement ≥ `v/2`), so `1/P` is a nonnegative supermartingale and `P` is valid
//!   at any stopping time.
//! - The initial sample size (rlacalc, N. McBurnett, after Stark 2010):
//!   `n = ⌈−2γ (ln α + o₁ ln(1 − 1/(2γ)) + o₂ ln(1 − 1/γ) + u₁ ln(1 + 1/(2γ)) + u₂ ln(1 + 1/γ)) / m⌉`.
//! - **ALPHA** on the comparison assorter `B = (1 − ω/u) / (2 − v/u)`, which lies in
//!   `[0, 2/(2 − v/u)]` and has mean > ½ exactly when the assertion holds (SHANGRLA §3.2).
//! - **A fixed bet** on the same assorter, `Π_i (1 + λ(B_i − ½))`: a nonnegative
//!   supermartingale when the assertion fails (mean of `B` ≤ ½) for any `λ ∈ [0, 2)` fixed
//!   before sampling (`B ≥ 0`, so every factor is positive). Kaplan–Markov is the bet
//!   `λ = 2(2 − v/u)/(2γ − v/u)` ([`kaplan_markov_bet`]); ONEAudit (P. B. Stark 2023) bets the
//!   `λ` with the largest expected log growth over the papers as planned ([`growth_optimal`]),
//!   which is what pays where papers without a CVR take their batch's mean and spread about it.

use super::alpha::Alpha;

/// The super-simple inflator γ (Stark 2010).
pub const SUPER_SIMPLE_GAMMA: f64 = 1.03905;

/// Counts of discrepancies allowed for in a comparison sample size, in votes of a pair.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Discrepancies {
    pub o1: f64,
    pub o2: f64,
    pub u1: f64,
    pub u2: f64,
}

/// rlacalc's Kaplan–Markov sample size for `diluted_margin` at risk limit `alpha`, allowing for
/// the discrepancies `e`. `None` unless `0 < diluted_margin` and `0 < alpha < 1`.
pub fn km_sample_size(
    alpha: f64,
    gamma: f64,
    diluted_margin: f64,
    e: Discrepancies,
) -> Option<u64> {
    if !(diluted_margin > 0.0 && 0.0 < alpha && alpha < 1.0 && gamma > 1.0) {
        return None;
    }
    let g = gamma;
    let s = alpha.ln()
        + e.o1 * (1.0 - 1.0 / (2.0 * g)).ln()
        + e.o2 * (1.0 - 1.0 / g).ln()
        + e.u1 * (1.0 + 1.0 / (2.0 * g)).ln()
        + e.u2 * (1.0 + 1.0 / g).ln();
    let n = -2.0 * g * s / diluted_margin;
    Some(n.ceil().max(0.0) as u64)
}

/// The Kaplan–Markov test of one assertion.
#[derive(Clone, Debug)]
pub struct KaplanMarkov {
    gamma_u: f64,
    log_base: f64,
    log_p: f64,
    min_log_p: f64,
}

impl KaplanMarkov {
    /// For an assorter bounded by `u` with reported margin `v > 0`.
    pub fn new(u: f64, v: f64, gamma: f64) -> KaplanMarkov {
        let m = v / u;
        let log_base = if m > 0.0 {
            (1.0 - m / (2.0 * gamma)).ln()
        } else {
            0.0
        };
        KaplanMarkov {
            gamma_u: gamma * u,
            log_base,
            log_p: 0.0,
            min_log_p: 0.0,
        }
    }

    /// Takes the overstatement of the next sampled ballot.
    pub fn observe(&mut self, omega: f64) {
        self.log_p += self.log_base - (1.0 - omega / self.gamma_u).ln();
        if self.log_p < self.min_log_p {
            self.min_log_p = self.log_p;
        }
    }

    /// The P-value (the smallest over the draws so far, valid by Ville's inequality).
    pub fn p_value(&self) -> f64 {
        self.min_log_p.exp().min(1.0)
    }

    /// The statistic now, `1/Pₙ` (1 before any draw).
    pub fn statistic(&self) -> f64 {
        (-self.log_p).exp()
    }
}

/// ALPHA on the comparison assorter of one assertion.
#[derive(Clone, Debug)]
pub struct AlphaComparison {
    u: f64,
    scale: f64,
    test: Alpha,
}

impl AlphaComparison {
    /// For an assorter bounded by `u` with reported margin `v`; the prior guess is the value of
    /// a ballot without discrepancy, shrunk by 1 % of the margin's room (a few errors expected).
    pub fn new(u: f64, v: f64, population: Option<u64>) -> AlphaComparison {
        let scale = 1.0 / (2.0 - v / u);
        let upper = 2.0 * scale;
        let eta0 = comparison_prior(scale);
        AlphaComparison {
            u,
            scale,
            test: Alpha::new(upper, eta0, population),
        }
    }

    /// Takes the overstatement of the next sampled ballot.
    pub fn observe(&mut self, omega: f64) {
        self.test.observe((1.0 - omega / self.u) * self.scale);
    }

    /// The P-value.
    pub fn p_value(&self) -> f64 {
        self.test.p_value()
    }

    /// The statistic now (1 before any draw).
    pub fn statistic(&self) -> f64 {
        self.test.statistic()
    }
}

/// ALPHA's prior guess of the comparison assorter's mean when the papers are expected to
/// average `planned`: `½ + 0.99·(planned − ½)`, 1 % of the room above ½ kept for a few errors
/// (for a count without discrepancies `planned` is the scale `1/(2 − v/u)`).
pub fn comparison_prior(planned: f64) -> f64 {
    0.5 + 0.99 * (planned - 0.5)
}

/// Kaplan–Markov's bet on the comparison assorter with margin `v`, bound `u` and inflator `γ`
/// (the bet whose fixed-bet statistic is the Kaplan–Markov `1/P`): the largest [`ComparisonBet`]
/// ONEAudit takes.
pub fn kaplan_markov_bet(u: f64, v: f64, gamma: f64) -> f64 {
    2.0 * (2.0 - v / u) / (2.0 * gamma - v / u)
}

/// The fixed-bet test `Π (1 + λ(Bᵢ − ½))` on the comparison assorter of one assertion.
#[derive(Clone, Debug)]
pub struct ComparisonBet {
    u: f64,
    scale: f64,
    lambda: f64,
    log: f64,
    max_log: f64,
}

impl ComparisonBet {
    /// For an assorter bounded by `u` with reported margin `v > 0`, betting `λ ∈ [0, 2)`.
    pub fn new(u: f64, v: f64, lambda: f64) -> ComparisonBet {
        ComparisonBet {
            u,
            scale: 1.0 / (2.0 - v / u),
            lambda,
            log: 0.0,
            max_log: 0.0,
        }
    }

    /// `B − ½` of a ballot with overstatement `ω`.
    pub fn centred(&self, omega: f64) -> f64 {
        (1.0 - omega / self.u) * self.scale - 0.5
    }

    /// Takes the overstatement of the next sampled ballot.
    pub fn observe(&mut self, omega: f64) {
        self.log += (self.lambda * self.centred(omega)).ln_1p();
        self.max_log = self.max_log.max(self.log);
    }

    /// The P-value: the reciprocal of the largest statistic so far (Ville's inequality).
    pub fn p_value(&self) -> f64 {
        (-self.max_log).exp().min(1.0)
    }

    /// The statistic now (1 before any draw).
    pub fn statistic(&self) -> f64 {
        self.log.exp()
    }
}

/// `Σ w·ln(1 + λd)` over `points` `(w, d)`: the expected log statistic of a fixed bet `λ`
/// over papers with `B − ½ = d` in proportions `w`.
pub fn growth(points: &[(f64, f64)], lambda: f64) -> f64 {
    points.iter().map(|&(w, d)| w * (lambda * d).ln_1p()).sum()
}

/// The bet `λ ∈ [0, cap]` with the largest [`growth`] over `points` (every `d ≥ −½` and
/// `cap < 2`, so every factor stays positive): the growth is concave in `λ`, so its slope
/// `Σ wd/(1 + λd)` falls; its root by Newton's method kept inside a shrinking bracket
/// (bisection when a step leaves it). 0 if the growth falls from the start, `cap` if it still
/// rises there.
pub fn growth_optimal(points: &[(f64, f64)], cap: f64) -> f64 {
    let slope = |l: f64| -> (f64, f64) {
        points.iter().fold((0.0, 0.0), |(s, c), &(w, d)| {
            let f = d / (1.0 + l * d);
            (s + w * f, c - w * f * f)
        })
    };
    if slope(0.0).0 <= 0.0 {
        return 0.0;
    }
    if slope(cap).0 >= 0.0 {
        return cap;
    }
    let (mut a, mut b) = (0.0, cap);
    let mut l = cap / 2.0;
    for _ in 0..100 {
        let (s, c) = slope(l);
        if s > 0.0 {
            a = l;
        } else {
            b = l;
        }
        let newton = l - s / c;
        let next = if newton > a && newton < b {
            newton
        } else {
            (a + b) / 2.0
        };
        if (next - l).abs() <= 1e-12 * cap {
            return next;
        }
        l = next;
    }
    l
}
