//! Binomial samplers: Bernoulli trials, inversion and Hörmann's BTRS by size ([`binomial`]),
//! a fixed-probability table with inversion from the mode ([`BinomialTable`]), and the
//! `rand_distr` sampler the ballot path's fraud draws use ([`binomial_rand_distr`]).

use crate::rng::{StreamRng, threshold};
use rand::Rng;
use rand_distr::Distribution;

/// Below this many trials a binomial is drawn as Bernoulli trials (one 64-bit draw each, as the
/// ballot path draws them): cheaper than a sampler's setup.
const BERNOULLI_BELOW: u32 = 24;

/// Binomial(n, p), exact: Bernoulli trials for small `n`; inversion ([`inversion`]) when
/// `n·min(p, 1−p)` < 20; otherwise Hörmann's transformed rejection with squeeze (BTRS).
/// `p` is clamped to [0, 1].
#[inline]
pub fn binomial(rng: &mut StreamRng, n: u32, p: f64) -> u32 {
    if n == 0 || p.is_nan() || p <= 0.0 {
        return 0;
    }
    if p >= 1.0 {
        return n;
    }
    if n < BERNOULLI_BELOW {
        let thr = threshold(p);
        return (0..n).map(|_| u32::from(rng.next_u64() < thr)).sum();
    }
    if p > 0.5 {
        return n - binomial(rng, n, 1.0 - p);
    }
    // inversion is cheaper than BTRS up to n·p ≈ 20 on this hardware; BTRS needs n·p ≥ 10
    if (n as f64) * p < 20.0 {
        return inversion(rng, n, p, pow_u32(1.0 - p, n));
    }
    btrs(rng, n, p)
}

/// Inversion by sequential search from 0 (Kachitvichyanukul & Schmeiser's BINV) for n·p < 20,
/// p ≤ ½: a uniform is walked down the pmf, which the recurrence
/// P(x + 1) = P(x) · ((n + 1)/(x + 1) − 1) · p/q gives without logarithms (1/(x + 1) from
/// [`RECIPROCALS`], P(0) = qⁿ by repeated squaring). Exact up to floating-point rounding of the
/// pmf; a walk that runs past 110 (more than 20 standard deviations for n·p < 20) starts again
/// (as `rand_distr` does). Never call it with larger n·p.
fn inversion(rng: &mut StreamRng, n: u32, p: f64, r0: f64) -> u32 {
    let q = 1.0 - p;
    let s = p / q;
    let a = (n as f64 + 1.0) * s;
    'outer: loop {
        let mut r = r0;
        let mut u = crate::rng::unit(rng);
        let mut x = 0u32;
        while u > r {
            u -= r;
            x += 1;
            if x > 110 || x > n {
                continue 'outer;
            }
            r *= a * RECIPROCALS[x as usize] - s;
        }
        return x;
    }
}

/// Trial counts below this have a row in a [`BinomialTable`].
const TABLE_N: usize = 4096;

/// Binomial(n, p) for one fixed `p` (the station path's invalid rate and loyalty) and any n, by
/// inversion from the mode for n < [`TABLE_N`] ([`binomial`] above that). A row per n holds
/// the mode m, the pmf f(m) and the cdf F(m), computed when first needed (Loader's saddle-point
/// formula for f(m), [`dbinom`], and F(m) summed downwards from it, both to within a few units
/// in the last place). A draw compares one uniform u with F(m), then walks down
/// (F(x − 1) = F(x) − f(x)) or up (F(x + 1) = F(x) + f(x + 1)) with the pmf's recurrence to the
/// x with F(x − 1) < u ≤ F(x): E|X − m| + 1 ≈ 0.8·√(npq) + 1 steps, against ≈ n·p for inversion
/// from 0 and no setup at all. Rows are for min(p, 1 − p); a draw for p > ½ is n less one for
/// 1 − p, as in [`binomial`].
#[derive(Clone, Debug, Default)]
pub struct BinomialTable {
    /// The probability served, as given.
    p: f64,
    /// Whether rows are for 1 − p.
    flip: bool,
    /// min(p, 1 − p) / max(p, 1 − p) and its inverse: the pmf's recurrence up and down.
    s: f64,
    inv_s: f64,
    /// Row n, or `cdf` < 0 until it is first needed; empty when p ∉ (0, 1).
    rows: Vec<Row>,
}

#[derive(Clone, Copy, Debug)]
pub(super) struct Row {
    pub(super) mode: u32,
    pub(super) pmf: f64,
    pub(super) cdf: f64,
}

const UNSET: Row = Row {
    mode: 0,
    pmf: 0.0,
    cdf: -1.0,
};

impl BinomialTable {
    /// Makes the table serve Binomial(·, `p`) (kept, rows and all, when it already does).
    pub fn prepare(&mut self, p: f64) {
        if self.p.to_bits() == p.to_bits() && !self.rows.is_empty() {
            return;
        }
        self.p = p;
        self.rows.clear();
        if !(p > 0.0 && p < 1.0) {
            return;
        }
        self.flip = p > 0.5;
        let (p, q) = if self.flip {
            (1.0 - p, p)
        } else {
            (p, 1.0 - p)
        };
        self.s = p / q;
        self.inv_s = q / p;
        self.rows.resize(TABLE_N, UNSET);
    }

    /// Binomial(n, p) for the prepared p.
    #[inline]
    pub fn draw(&mut self, rng: &mut StreamRng, n: u32) -> u32 {
        let Some(row) = self.rows.get_mut(n as usize) else {
            return binomial(rng, n, self.p);
        };
        if row.cdf < 0.0 {
            let p = if self.flip { 1.0 - self.p } else { self.p };
            *row = Row::new(n, p, self.inv_s);
        }
        let row = *row;
        let x = self.search(rng, n, row);
        if self.flip { n - x } else { x }
    }

    /// The smallest x with u ≤ F(x), for a fresh uniform u (p ≤ ½ here).
    #[inline]
    fn search(&self, rng: &mut StreamRng, n: u32, row: Row) -> u32 {
        'draw: loop {
            let u = crate::rng::unit(rng);
            let (mut x, mut f, mut cdf) = (row.mode, row.pmf, row.cdf);
            if u <= cdf {
                loop {
                    let below = cdf - f;
                    if u > below || x == 0 {
                        return x;
                    }
                    // f(x − 1) = f(x) · x / (n − x + 1) · q/p
                    f *= x as f64 * RECIPROCALS[(n - x + 1) as usize] * self.inv_s;
                    x -= 1;
                    cdf = below;
                }
            }
            while x < n {
                x += 1;
                // f(x) = f(x − 1) · (n − x + 1) / x · p/q
                f *= (n - x + 1) as f64 * RECIPROCALS[x as usize] * self.s;
                cdf += f;
                if u <= cdf {
                    return x;
                }
            }
            // rounding left F(n) a hair below u (probability ≈ 10⁻¹⁵): draw again
            continue 'draw;
        }
    }
}

impl Row {
    /// Row n of Binomial(·, p), p ≤ ½, `inv_s` = q/p (out of line: once per n, not per draw).
    #[cold]
    #[inline(never)]
    pub(super) fn new(n: u32, p: f64, inv_s: f64) -> Row {
        let mode = (((n as f64 + 1.0) * p) as u32).min(n);
        let pmf = dbinom(mode, n, p);
        // F(m) = f(m) + f(m − 1) + …, compensated, down to terms that no longer count
        let (mut f, mut sum, mut carry) = (pmf, pmf, 0.0f64);
        let mut x = mode;
        while x > 0 && f > pmf * 1e-20 {
            f *= x as f64 / (n - x + 1) as f64 * inv_s;
            x -= 1;
            let y = f - carry;
            let t = sum + y;
            carry = (t - sum) - y;
            sum = t;
        }
        Row {
            mode,
            pmf,
            cdf: sum.min(1.0),
        }
    }
}

/// log(n!) − [(n + ½) log n − n + ½ log 2π], Stirling's series remainder (Loader's "stirlerr").
fn stirlerr(n: f64) -> f64 {
    // n ≤ 15: exact values (50-digit decimal arithmetic)
    const SMALL: [f64; 16] = [
        0.0,
        0.08106146679532726,
        0.0413406959554093,
        0.02767792568499834,
        0.020790672103765093,
        0.016644691189821193,
        0.013876128823070748,
        0.01189670994589177,
        0.010411265261972096,
        0.009255462182712733,
        0.00833056343336287,
        0.007573675487951841,
        0.00694284010720953,
        0.006408994188004207,
        0.0059513701127588475,
        0.005554733551962801,
    ];
    const S0: f64 = 1.0 / 12.0;
    const S1: f64 = 1.0 / 360.0;
    const S2: f64 = 1.0 / 1260.0;
    const S3: f64 = 1.0 / 1680.0;
    const S4: f64 = 1.0 / 1188.0;
    if n <= 15.0 {
        return SMALL[n as usize];
    }
    let nn = n * n;
    if n > 500.0 {
        return (S0 - S1 / nn) / n;
    }
    if n > 80.0 {
        return (S0 - (S1 - S2 / nn) / nn) / n;
    }
    if n > 35.0 {
        return (S0 - (S1 - (S2 - S3 / nn) / nn) / nn) / n;
    }
    (S0 - (S1 - (S2 - (S3 - S4 / nn) / nn) / nn) / nn) / n
}

/// x log(x / np) + np − x, by its series where the two terms nearly cancel (Loader's "bd0").
fn bd0(x: f64, np: f64) -> f64 {
    if (x - np).abs() < 0.1 * (x + np) {
        let v = (x - np) / (x + np);
        let v2 = v * v;
        let (mut sum, mut term) = ((x - np) * v, 2.0 * x * v);
        for j in 1..1000 {
            term *= v2;
            let next = sum + term / (2 * j + 1) as f64;
            if next == sum {
                break;
            }
            sum = next;
        }
        return sum;
    }
    x * (x / np).ln() + np - x
}

/// The Binomial(n, p) probability of x, to within a few units in the last place (C. Loader,
/// "Fast and accurate computation of binomial probabilities", 2000).
fn dbinom(x: u32, n: u32, p: f64) -> f64 {
    if x == 0 {
        return (n as f64 * (-p).ln_1p()).exp();
    }
    if x == n {
        return (n as f64 * p.ln()).exp();
    }
    let (x, n) = (x as f64, n as f64);
    let lc =
        stirlerr(n) - stirlerr(x) - stirlerr(n - x) - bd0(x, n * p) - bd0(n - x, n * (1.0 - p));
    let lf = (2.0 * std::f64::consts::PI).ln() + x.ln() + (-x / n).ln_1p();
    (lc - 0.5 * lf).exp()
}

/// xⁿ by square-and-multiply, without a branch per bit (`powi` is a library call here).
#[inline]
fn pow_u32(x: f64, n: u32) -> f64 {
    let (mut acc, mut sq) = (1.0, x);
    let mut bits = n;
    for _ in 0..u32::BITS - n.leading_zeros() {
        acc *= [1.0, sq][(bits & 1) as usize];
        sq *= sq;
        bits >>= 1;
    }
    acc
}

/// 1/i for i < 4096 (entry 0 unused): the samplers' recurrences multiply instead of dividing.
static RECIPROCALS: [f64; 4096] = {
    let mut t = [0.0; 4096];
    let mut i = 1;
    while i < t.len() {
        t[i] = 1.0 / i as f64;
        i += 1;
    }
    t
};

/// 1/i, from [`RECIPROCALS`] when it is there.
#[inline]
fn recip(i: f64) -> f64 {
    match RECIPROCALS.get(i as usize) {
        Some(&r) => r,
        None => 1.0 / i,
    }
}

/// log(k!) − [(k + ½) log(k + 1) − (k + 1) + ½ log 2π]: the Stirling series remainder, from a
/// table for small `k` (Hörmann 1993, table 1).
fn stirling_tail(k: f64) -> f64 {
    const TAIL: [f64; 10] = [
        0.0810614667953272,
        0.0413406959554092,
        0.0276779256849983,
        0.02079067210376509,
        0.0166446911898211,
        0.0138761288230707,
        0.0118967099458917,
        0.0104112652619720,
        0.00925546218271273,
        0.00833056343336287,
    ];
    if k <= 9.0 {
        return TAIL[k as usize];
    }
    let kp1sq = (k + 1.0) * (k + 1.0);
    (1.0 / 12.0 - (1.0 / 360.0 - 1.0 / 1260.0 / kp1sq) / kp1sq) / (k + 1.0)
}

/// W. Hörmann, "The generation of binomial random variates", J. Statist. Comput. Simul. 46
/// (1993): algorithm BTRD's transformed rejection with squeeze, exact for `n·p` ≥ 10, p ≤ ½
/// (the acceptance test by the pmf's recurrence within 15 of the mode, else by Stirling's series).
fn btrs(rng: &mut StreamRng, n: u32, p: f64) -> u32 {
    let nf = n as f64;
    let q = 1.0 - p;
    let spq = (nf * p * q).sqrt();
    let b = 1.15 + 2.53 * spq;
    let a = -0.0873 + 0.0248 * b + 0.01 * p;
    let c = nf * p + 0.5;
    loop {
        let u = crate::rng::unit(rng) - 0.5;
        let v = crate::rng::unit(rng);
        let us = 0.5 - u.abs();
        let x = (2.0 * a / us + b) * u + c;
        if !(0.0..nf + 1.0).contains(&x) {
            continue;
        }
        let k = x as u32 as f64; // = floor(x) for 0 ≤ x < n + 1

        // the squeeze v ≤ v_r = 0.92 − 4.2/b, multiplied out: no division before the first draw
        if us >= 0.07 && (0.92 - v) * b >= 4.2 {
            return k as u32;
        }
        // the rejection step's constants, needed by ≈ 2 draws in 5
        let r = p / q;
        let alpha = (2.83 + 5.1 / b) * spq;
        // floor by truncation (non-negative; `floor` is a library call without SSE4.1)
        let m = ((nf + 1.0) * p) as u32 as f64;
        let mut v = v * alpha / (a / (us * us) + b);
        // near the mode, compare with f(k)/f(m) by the pmf's recurrence (no logarithms)
        if (k - m).abs() <= 15.0 {
            let nr = (nf + 1.0) * r;
            let mut f = 1.0;
            if m < k {
                let mut i = m;
                while i < k {
                    i += 1.0;
                    f *= nr * recip(i) - r;
                }
            } else {
                let mut i = k;
                while i < m {
                    i += 1.0;
                    v *= nr * recip(i) - r;
                }
            }
            if v <= f {
                return k as u32;
            }
            continue;
        }
        if far_accept(v, nf, k, m, r) {
            return k as u32;
        }
    }
}

/// BTRS's test far from the mode: log v ≤ log f(k)/f(m), by Stirling's series. Kept out of
/// line and cold: inlined, the compiler hoisted its logarithm of loop-invariant terms into
/// every call's setup, where it cost a `ln` per draw for a test ≈ 1 draw in 10 reaches.
#[cold]
#[inline(never)]
fn far_accept(v: f64, nf: f64, k: f64, m: f64, r: f64) -> bool {
    let bound = (m + 0.5) * ((m + 1.0) / (r * (nf - m + 1.0))).ln()
        + (nf + 1.0) * ((nf - m + 1.0) / (nf - k + 1.0)).ln()
        + (k + 0.5) * (r * (nf - k + 1.0) / (k + 1.0)).ln()
        + stirling_tail(m)
        + stirling_tail(nf - m)
        - stirling_tail(k)
        - stirling_tail(nf - k);
    v.ln() <= bound
}

/// Binomial(n, p) with the exact sampler of `rand_distr` (n ≤ 2^32): the ballot path's draws of
/// stuffed and carousel ballots. A second sampler beside [`binomial`] only because switching
/// would change those variants' draws for a given seed; the station path for fraud variants will
/// retire it.
pub fn binomial_rand_distr(rng: &mut StreamRng, n: u32, p: f64) -> u32 {
    if n == 0 || p <= 0.0 {
        return 0;
    }
    rand_distr::Binomial::new(n as u64, p.min(1.0))
        .map(|b| b.sample(rng) as u32)
        .unwrap_or(0)
}
