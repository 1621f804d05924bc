//! The station-level fast path: an honest run's station counts drawn directly from their
//! distributions instead of ballot by ballot.
//!
//! For a station with `n` registered voters, turnout probability `t` and list preferences `p`
//! (the ballot path's `t` and `p`: [`Electorate::station_turnout`] and
//! [`Electorate::station_preferences`] on the same streams, up to the last bits of `exp`), the
//! ballot path's voters are independent and identically distributed, so the counts it produces
//! have closed-form distributions, which this module samples exactly ([`binomial`]: Bernoulli
//! trials, inversion or Hörmann's BTRS by size; for the two fixed probabilities, the invalid
//! rate and loyalty, a [`BinomialTable`]'s inversion from the mode; multinomials as sequential
//! binomials with a categorical tail; [`thin`] for spoiled ballots):
//!
//! - ballots issued ~ Binomial(n, t); electronic ~ Binomial(issued, uptake) at e-enabled
//!   stations (0 elsewhere); paper = issued − electronic;
//! - voters by list party: electronic ~ Multinomial(electronic, p), paper ~ Multinomial(paper, p);
//! - for each party's paper voters, spoiled list ballots ~ Binomial(paper voters, invalid rate)
//!   and, independently, spoiled district ballots ~ Binomial(paper voters, invalid rate):
//!   electronic ballots are never invalid (a touch screen offers only valid choices);
//!   truth and count differ from the ballot path in one unread detail only: the ballot path
//!   leaves `truth.electronic` (and, without a district tier, `truth.district_invalid`) at zero;
//! - each party's valid district ballots: Binomial(·, loyalty) go to the party's nominee if it
//!   has one, the rest join the pool that is split Multinomial(pool, appeal) over the district's
//!   candidates (the mixture `station_round1` in `election.rs` draws voter by voter);
//! - at a station without a district tier, the machine's ballots carry "no candidate" and the
//!   commission counts them as invalid district ballots, as on the ballot path.
//!
//! Runoffs are drawn as district counts ([`second_round`]): returning voters, transfers to a
//! same-party finalist, the split by appeal and spoiled ballots are binomials of round-1 totals,
//! the same distribution as `election::second_round` draws voter by voter.
//!
//! Truth, count and reported protocols coincide (no fraud). Variants with fraud models are not
//! handled here: [`applies`] says no and [`crate::montecarlo`] runs them ballot by ballot. The
//! fast path never builds a ballot, a machine or a hash chain, so it cannot feed a ledger audit;
//! on an honest run the ledger audit, receipt and control-code detectors read what they would on
//! the ballot path (nothing found; checks costed from the electronic count). Voter-level draws
//! come from the station's `VoterChoice` stream (turnout included) and the district's `Runoff`
//! stream (index stations + district), so results do not depend on station order or thread
//! count, but they are not the ballot path's draw for draw. Station noise comes from the ballot
//! path's `StationTurnout` and `StationPreference` streams, through this module's [`exp`]
//! instead of `f64::exp`: the same normals, equal to the ballot path's `t` and `p` up to an ulp
//! or so. No I/O, no panics.

use crate::election::{Context, FraudTrace, Runoff, StationCounts, Workspace, finish_districts};
use crate::electorate::Electorate;
use crate::rng::{Purpose, RunStreams, StreamRng, stream, threshold};
use crate::scenario::{Model, Scenario, SimPath};
use rand::Rng;
use std::cmp::Reverse;

/// Per-thread buffers of the fast path (inside [`Workspace`]).
#[derive(Clone, Debug, Default)]
pub struct Scratch {
    /// Electronic and paper voters per list party at the current station.
    by_party_e: Vec<u32>,
    by_party_p: Vec<u32>,
    /// Normalised appeals of the current station's district candidates.
    appeal: Vec<f64>,
    /// Free (non-loyal) district ballots split by appeal.
    free: Vec<u32>,
    /// Spoiled list and district ballots per party, and a working copy of counts.
    spoiled_list: Vec<u32>,
    spoiled_district: Vec<u32>,
    left: Vec<u32>,
    /// Binomials of the invalid rate and of loyalty, the station path's fixed probabilities.
    invalid: BinomialTable,
    loyalty: BinomialTable,
}

/// Whether a variant's runs take the station-level path under `path`: only honest variants do.
pub fn applies(path: SimPath, model: &Model) -> bool {
    path == SimPath::Station && model.fraud.is_empty()
}

/// What the summary's `provenance.path` says: `"ballot"`, `"station"`, or `"station+ballot"`
/// when the station path was asked for but some variants (those with fraud) ran ballot by ballot.
pub fn path_name(scenario: &Scenario) -> &'static str {
    let path = scenario.montecarlo.path;
    let n_station = scenario
        .variants
        .iter()
        .filter(|v| applies(path, &v.model))
        .count();
    if n_station == 0 {
        "ballot"
    } else if n_station == scenario.variants.len() {
        "station"
    } else {
        "station+ballot"
    }
}

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
pub(crate) struct BinomialTable {
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
struct Row {
    mode: u32,
    pmf: f64,
    cdf: f64,
}

const UNSET: Row = Row {
    mode: 0,
    pmf: 0.0,
    cdf: -1.0,
};

impl BinomialTable {
    /// Makes the table serve Binomial(·, `p`) (kept, rows and all, when it already does).
    pub(crate) fn prepare(&mut self, p: f64) {
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
    pub(crate) fn draw(&mut self, rng: &mut StreamRng, n: u32) -> u32 {
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
    fn new(n: u32, p: f64, inv_s: f64) -> Row {
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

/// eˣ for the station path's noise (preference weights, turnout sigmoid): the table-driven
/// method of Arm's optimized-routines / glibc (eˣ = 2^(k/128) · e^r, |r| ≤ ln 2 / 256, a
/// degree-5 Taylor polynomial whose truncation error is below 10⁻¹⁸), inlined and without the
/// library call. Within 1 ulp of `f64::exp` (tested); |x| ≥ 700, infinities and NaN go to
/// `f64::exp`. The ballot path keeps `f64::exp`, so station noise differs between the paths in
/// the last bits.
#[inline]
pub fn exp(x: f64) -> f64 {
    // |x| < 700: 2^(k/128) stays a normal number, and k·ln2/128 is exact in two parts
    if x.abs() >= 700.0 || x.is_nan() {
        return x.exp();
    }
    const INV_LN2_N: f64 = 184.6649652337873; // 128 / ln 2
    const LN2_HI_N: f64 = 0.005415212348111709; // ln 2 / 128, top 36 bits (k·hi exact)
    const LN2_LO_N: f64 = 1.2864023111638346e-14; // the rest of ln 2 / 128
    const SHIFT: f64 = 6755399441055744.0; // 1.5 · 2⁵²: adding it rounds to an integer
    let kd = x * INV_LN2_N + SHIFT;
    let ki = kd.to_bits(); // low bits: k in two's complement
    let kd = kd - SHIFT;
    let r = x - kd * LN2_HI_N - kd * LN2_LO_N;
    let (tail, bits) = EXP_TABLE[(ki % 128) as usize];
    // 2^(k/128) = 2^(k div 128) · 2^((k mod 128)/128): the exponent added to the table's bits
    let scale = f64::from_bits(bits.wrapping_add(ki << 45));
    let r2 = r * r;
    let poly = tail + r + r2 * (0.5 + r * (1.0 / 6.0)) + r2 * r2 * (1.0 / 24.0 + r * (1.0 / 120.0));
    scale + scale * poly
}

/// For i < 128: 2^(i/128) correctly rounded (its bits less i << 45, which [`exp`] adds back with
/// the exponent) and the relative rounding error of that double (2^(i/128) − T)/T, computed in
/// 60-digit decimal arithmetic (Python's `decimal`).
#[rustfmt::skip]
static EXP_TABLE: [(f64, u64); 128] = [
    (                       0.0, 0x3ff0000000000000),
    (     9.447885451727066e-17, 0x3feff63da9fb3335),
    (    -1.507066976926039e-17, 0x3fefec9a3e778061),
    (    -5.679155082825012e-17, 0x3fefe315e86e7f85),
    (    4.9997448722726326e-17, 0x3fefd9b0d3158574),
    (    -4.823683599994895e-17, 0x3fefd06b29ddf6de),
    (     7.357846871247418e-18, 0x3fefc74518759bc8),
    (     5.773230223741951e-17, 0x3fefbe3ecac6f383),
    (     8.189317638195515e-17, 0x3fefb5586cf9890f),
    (     5.326891139980878e-17, 0x3fefac922b7247f7),
    (    1.6665881442326747e-18, 0x3fefa3ec32d3d1a2),
    (    -1.128113245461828e-17, 0x3fef9b66affed31b),
    (    -7.402825309426177e-17, 0x3fef9301d0125b51),
    (    -3.578659767309563e-18, 0x3fef8abdc06c31cc),
    (    -6.170654745608695e-17, 0x3fef829aaea92de0),
    (     2.919139999949279e-17, 0x3fef7a98c8a58e51),
    (   -2.7939114859515733e-17, 0x3fef72b83c7d517b),
    (    -5.399285355184285e-17, 0x3fef6af9388c8dea),
    (     4.776959425256223e-17, 0x3fef635beb6fcb75),
    (    -7.927701432338473e-17, 0x3fef5be084045cd4),
    (     9.341710609905046e-17, 0x3fef54873168b9aa),
    (    -5.534520675707472e-17, 0x3fef4d5022fcd91d),
    (     4.585670326662351e-17, 0x3fef463b88628cd6),
    (    2.8582430411116143e-17, 0x3fef3f49917ddc96),
    (     7.826573258636076e-17, 0x3fef387a6e756238),
    (     4.053626906769216e-17, 0x3fef31ce4fb2a63f),
    (     2.823784425951061e-17, 0x3fef2b4565e27cdd),
    (    -7.882802262487991e-17, 0x3fef24dfe1f56381),
    (    3.2904726646008416e-17, 0x3fef1e9df51fdee1),
    (   -1.5792094703347882e-18, 0x3fef187fd0dad990),
    (     4.721368121170128e-17, 0x3fef1285a6e4030b),
    (    1.3045277096919659e-17, 0x3fef0cafa93e2f56),
    (    3.3484623336251524e-17, 0x3fef06fe0a31b715),
    (    3.8611199774925664e-17, 0x3fef0170fc4cd831),
    (     5.527550048505249e-17, 0x3feefc08b26416ff),
    (    -3.927184172445234e-17, 0x3feef6c55f929ff1),
    (    -6.346552106729483e-17, 0x3feef1a7373aa9cb),
    (    -8.684417614865944e-17, 0x3feeecae6d05d866),
    (   -1.5456342819397733e-17, 0x3feee7db34e59ff7),
    (     -8.70763476495455e-17, 0x3feee32dc313a8e5),
    (     3.750854201303127e-17, 0x3feedea64c123422),
    (    -6.616854503526488e-17, 0x3feeda4504ac801c),
    (    -5.346099009198751e-18, 0x3feed60a21f72e2a),
    (    -2.443726321015018e-17, 0x3feed1f5d950a897),
    (    2.1023049675215714e-18, 0x3feece086061892d),
    (     7.771067937501065e-17, 0x3feeca41ed1d0057),
    (    1.3357510088834541e-17, 0x3feec6a2b5c13cd0),
    (     6.938291696959204e-17, 0x3feec32af0d7d3de),
    (    1.9572585293112036e-17, 0x3feebfdad5362a27),
    (     6.632256961675804e-17, 0x3feebcb299fddd0d),
    (    -5.478069123926778e-17, 0x3feeb9b2769d2ca7),
    (    -4.140839310392624e-17, 0x3feeb6daa2cf6642),
    (   -2.1571477251208752e-17, 0x3feeb42b569d4f82),
    (   -3.8287766552120535e-17, 0x3feeb1a4ca5d920f),
    (     6.663804589232195e-17, 0x3feeaf4736b527da),
    (    2.3936187400285282e-17, 0x3feead12d497c7fd),
    (      5.68648095791174e-17, 0x3feeab07dd485429),
    (    1.1264523354521684e-18, 0x3feea9268a5946b7),
    (     7.007875046906994e-17, 0x3feea76f15ad2148),
    (   -5.0119214278381254e-17, 0x3feea5e1b976dc09),
    (   -4.8923067513522756e-17, 0x3feea47eb03a5585),
    (   -3.5260089953269434e-17, 0x3feea34634ccc320),
    (    -6.872303720902018e-17, 0x3feea23882552225),
    (     5.001446664133532e-18, 0x3feea155d44ca973),
    (    -6.835808657661922e-17, 0x3feea09e667f3bcd),
    (   -1.1307344092910212e-17, 0x3feea012750bdabf),
    (    -8.416011634717156e-18, 0x3fee9fb23c651a2f),
    (   -2.9247977035436566e-17, 0x3fee9f7df9519484),
    (    -2.092304381843353e-17, 0x3fee9f75e8ec5f74),
    (   -3.9778645875427124e-17, 0x3fee9f9a48a58174),
    (    -3.833464968654295e-17, 0x3fee9feb564267c9),
    (     5.763611164480894e-17, 0x3feea0694fde5d3f),
    (   -2.3591094770850053e-17, 0x3feea11473eb0187),
    (     7.260074661098575e-17, 0x3feea1ed0130c132),
    (      9.50689710108796e-18, 0x3feea2f336cf4e62),
    (    -4.272956133839906e-17, 0x3feea427543e1a12),
    (    -6.735219232374683e-17, 0x3feea589994cce13),
    (   -2.8396044410430936e-17, 0x3feea71a4623c7ad),
    (    -7.226635472101257e-17, 0x3feea8d99b4492ed),
    (     5.786121003395918e-17, 0x3feeaac7d98a6699),
    (    5.1548301170786783e-17, 0x3feeace5422aa0db),
    (    -9.416257568878152e-18, 0x3feeaf3216b5448c),
    (    2.4253985766689806e-17, 0x3feeb1ae99157736),
    (    -6.604314051707707e-17, 0x3feeb45b0b91ffc6),
    (    -6.432131775424189e-18, 0x3feeb737b0cdc5e5),
    (   -1.2204007601863921e-17, 0x3feeba44cbc8520f),
    (    -6.336161863401293e-17, 0x3feebd829fde4e50),
    (   -3.7800879246373815e-17, 0x3feec0f170ca07ba),
    (    1.5341410053603723e-17, 0x3feec49182a3f090),
    (    1.2932855580427452e-17, 0x3feec86319e32323),
    (    -4.123367330661149e-17, 0x3feecc667b5de565),
    (     4.703083974463456e-17, 0x3feed09bec4a2d33),
    (    -6.152602891550265e-17, 0x3feed503b23e255d),
    (     5.827849326195279e-17, 0x3feed99e1330b358),
    (     3.540948262646183e-17, 0x3feede6b5579fdbf),
    (   -3.2741571320938764e-17, 0x3feee36bbfd3f37a),
    (     4.875160526227062e-17, 0x3feee89f995ad3ad),
    (    -5.718569790077838e-17, 0x3feeee07298db666),
    (    -4.719539664590972e-18, 0x3feef3a2b84f15fb),
    (    -5.773451958805706e-17, 0x3feef9728de5593a),
    (   -1.0772487078934056e-17, 0x3feeff76f2fb5e47),
    (    -6.221808618533911e-17, 0x3fef05b030a1064a),
    (     1.821405440362259e-17, 0x3fef0c1e904bc1d2),
    (    -6.155536546227639e-17, 0x3fef12c25bd71e09),
    (     1.685487290628973e-17, 0x3fef199bdd85529c),
    (    5.3581249177694816e-17, 0x3fef20ab5fffd07a),
    (     3.621615935336894e-17, 0x3fef27f12e57d14b),
    (     8.588379527574144e-18, 0x3fef2f6d9406e7b5),
    (      1.01562190116415e-17, 0x3fef3720dcef9069),
    (    -2.869134889187244e-17, 0x3fef3f0b555dc3fa),
    (    -5.495118966122005e-17, 0x3fef472d4a07897c),
    (     -5.56965572431627e-17, 0x3fef4f87080d89f2),
    (     1.790126907604513e-17, 0x3fef5818dcfba487),
    (   -3.2211766346200164e-17, 0x3fef60e316c98398),
    (     5.265370768556274e-17, 0x3fef69e603db3285),
    (    3.5089866402403033e-17, 0x3fef7321f301b460),
    (    -3.266924100901318e-17, 0x3fef7c97337b9b5f),
    (   -4.3657593008079375e-17, 0x3fef864614f5a129),
    (    1.7963932659833022e-17, 0x3fef902ee78b3ff6),
    (    3.4300925275214166e-17, 0x3fef9a51fbc74c83),
    (    -5.545065618639427e-17, 0x3fefa4afa2a490da),
    (    -5.149009745457733e-17, 0x3fefaf482d8e67f1),
    (     5.336805878514151e-17, 0x3fefba1bee615a27),
    (     3.498978661192973e-17, 0x3fefc52b376bba97),
    (    4.5784915277060095e-17, 0x3fefd0765b6e4540),
    (    -5.241934575393899e-17, 0x3fefdbfdad9cbe14),
    (    2.0414278897578303e-17, 0x3fefe7c1819e90d8),
    (     4.124842848606488e-18, 0x3feff3c22b8f71f1),
];

/// Multinomial(n, p) into `out` (overwritten) by sequential binomials, and once fewer than
/// [`CATEGORICAL_BELOW`] trials are left with three or more categories to go, by one categorical
/// draw per trial left ([`categorical`]); `p` need not be normalised. Every trial lands in a
/// category of positive weight.
pub fn multinomial(rng: &mut StreamRng, n: u32, p: &[f64], out: &mut [u32]) {
    out.fill(0);
    let Some(last) = p.iter().rposition(|&w| w > 0.0) else {
        return;
    };
    let mut left = n;
    let mut mass: f64 = p[..=last].iter().filter(|w| **w > 0.0).sum();
    for j in 0..last {
        if left == 0 {
            return;
        }
        let w = p[j];
        if w <= 0.0 {
            continue;
        }
        if left < CATEGORICAL_BELOW && last - j >= 2 && last - j < TAIL_MAX {
            // the next binomials would be Bernoulli trials, one draw per trial left and
            // category: one categorical draw per trial instead
            categorical(rng, left, &p[j..=last], &mut out[j..=last]);
            return;
        }
        let x = binomial(rng, left, w / mass);
        out[j] = x;
        left -= x;
        mass -= w;
    }
    out[last] = left;
}

/// Below this many trials left, [`multinomial`] draws the rest trial by trial.
const CATEGORICAL_BELOW: u32 = 48;

/// At most this many categories for [`categorical`].
const TAIL_MAX: usize = 32;

/// Multinomial(n, p) added to `out` by `n` independent categorical draws: one 64-bit draw per
/// trial against the cumulative thresholds (the trial's category is the number of thresholds it
/// reaches). `p` has fewer than [`TAIL_MAX`] entries and a positive last one.
fn categorical(rng: &mut StreamRng, n: u32, p: &[f64], out: &mut [u32]) {
    let last = p.len() - 1;
    let mass: f64 = p.iter().filter(|w| **w > 0.0).sum();
    let inv = 1.0 / mass;
    let mut thr = [u64::MAX; TAIL_MAX];
    let mut cum = 0.0;
    for (t, &w) in thr.iter_mut().zip(&p[..last]) {
        cum += w.max(0.0);
        *t = threshold(cum * inv);
    }
    match last {
        0 => out[0] += n,
        1..=4 => reached::<4>(rng, n, &thr, out),
        5..=8 => reached::<8>(rng, n, &thr, out),
        9..=16 => reached::<16>(rng, n, &thr, out),
        _ => reached::<TAIL_MAX>(rng, n, &thr, out),
    }
}

/// [`categorical`]'s trials with `N` ≥ `out.len()` − 1 thresholds (the rest `u64::MAX`): for each
/// threshold, how many trials reach it, counted in registers (a count per category in memory
/// would chain trials through store-to-load forwarding); then category j holds those that
/// reach threshold j but not j + 1.
#[inline]
fn reached<const N: usize>(rng: &mut StreamRng, n: u32, thr: &[u64; TAIL_MAX], out: &mut [u32]) {
    let last = out.len() - 1;
    let mut t = [u64::MAX; N];
    t.copy_from_slice(&thr[..N]);
    let mut reached = [0u32; N];
    for _ in 0..n {
        let u = rng.next_u64();
        for (r, &t) in reached.iter_mut().zip(&t) {
            *r += u32::from(u >= t);
        }
    }
    out[0] += n - reached[0];
    for j in 1..last {
        out[j] += reached[j - 1] - reached[j];
    }
    out[last] += reached[last - 1];
}

/// Up to this many expected successes [`thin`] picks them one by one rather than per category.
const PICK_UP_TO: f64 = 48.0;

/// Each of the `sum(counts)` trials independently succeeds with probability `p`: the successes
/// per category into `out` (overwritten). Exact either way: with few expected successes, the
/// largest category's successes are Binomial(its count, p), the others' total is
/// Binomial(their sum, p) and, given that total, their successes are a uniform subset of their
/// trials, picked without replacement (multivariate hypergeometric); with many, independent
/// binomials per category. The branch depends only on `counts` and `p`, never on a
/// draw (choosing by the drawn total would bias the result).
pub fn thin(rng: &mut StreamRng, counts: &[u32], p: f64, out: &mut [u32], left: &mut Vec<u32>) {
    thin_with(rng, counts, p, |rng, n| binomial(rng, n, p), out, left)
}

/// [`thin`] with `draw(rng, n)` for Binomial(n, p) (a [`BinomialTable`]'s).
fn thin_with(
    rng: &mut StreamRng,
    counts: &[u32],
    p: f64,
    mut draw: impl FnMut(&mut StreamRng, u32) -> u32,
    out: &mut [u32],
    left: &mut Vec<u32>,
) {
    out.fill(0);
    let n: u32 = counts.iter().sum();
    if n as f64 * p > PICK_UP_TO {
        for (o, &c) in out.iter_mut().zip(counts) {
            *o = draw(rng, c);
        }
        return;
    }
    // the largest category by its own binomial (one draw instead of most of the picks), the
    // others by picks
    let Some((big, &c_big)) = counts
        .iter()
        .enumerate()
        .max_by_key(|&(j, &c)| (c, Reverse(j)))
    else {
        return;
    };
    out[big] = draw(rng, c_big);
    let rest = n - c_big;
    let total = draw(rng, rest);
    if total == 0 {
        return;
    }
    left.clear();
    left.extend_from_slice(counts);
    left[big] = 0;
    let mut remaining = rest as u64;
    for _ in 0..total {
        // a uniform trial among those not yet picked (multiply-shift: bias below 2^-32)
        let mut r = ((rng.next_u64() as u128 * remaining as u128) >> 64) as u64;
        let mut j = 0;
        while j + 1 < left.len() && r >= left[j] as u64 {
            r -= left[j] as u64;
            j += 1;
        }
        left[j] -= 1;
        out[j] += 1;
        remaining -= 1;
    }
}

/// The three per-station streams of a run, their `(seed, purpose, run)` part folded once: the
/// same generators as [`stream`]`(seed, purpose, run, station)`, which the ballot path uses.
struct StationStreams {
    turnout: RunStreams,
    preference: RunStreams,
    voter_choice: RunStreams,
}

impl StationStreams {
    fn new(seed: u64, run: u64) -> Self {
        StationStreams {
            turnout: RunStreams::new(seed, Purpose::StationTurnout, run),
            preference: RunStreams::new(seed, Purpose::StationPreference, run),
            voter_choice: RunStreams::new(seed, Purpose::VoterChoice, run),
        }
    }
}

/// Simulates an honest run at station level; results land in `ws` exactly where
/// [`crate::election::run_election`] puts them, so tabulation and detectors work unchanged.
pub fn run_election(ctx: Context<'_>, run: u64, ws: &mut Workspace) {
    let e = ctx.electorate;
    ws.counts.reset(e);
    ws.fast.invalid.prepare(ctx.model.ballots.invalid_rate);
    ws.fast.loyalty.prepare(ctx.model.candidates.loyalty);
    ws.trace = FraudTrace::default();
    crate::election::draw_appeals(ctx, run, ws);
    let (mut receipts, mut codes) = (0u64, 0u64);
    let streams = StationStreams::new(ctx.seed, run);
    for i in 0..e.stations.len() {
        station(ctx, &streams, i, ws);
        let electronic = ws.counts.electronic[i] as f64;
        receipts += crate::stats::round_u64(ctx.receipt_rate * electronic);
        codes += crate::stats::round_u64(ctx.control_code_rate * electronic);
    }
    ws.trace.receipts_checked = receipts;
    ws.trace.control_codes_checked = codes;
    ws.truth.clone_from(&ws.counts);
    ws.reported.clone_from(&ws.counts);
    finish_districts(ctx, run, ws, true, false);
}

/// Draws station `i`'s counts into `ws.counts`.
fn station(ctx: Context<'_>, streams: &StationStreams, i: usize, ws: &mut Workspace) {
    let e: &Electorate = ctx.electorate;
    let st = e.stations[i];
    let k = e.n_parties;
    let mut noise = streams.turnout.stream(i as u64);
    let t = e.station_turnout_with(i, &mut noise, exp);
    let mut noise = streams.preference.stream(i as u64);
    ws.pref.resize(k, 0.0);
    // weights, not shares: the multinomials normalise as they go
    e.station_weights_with(i, &mut noise, &mut ws.pref, exp);

    let b = &ctx.model.ballots;
    // one stream for every voter-level draw (the ballot path's `VoterTurnout` stream would
    // serve one draw here, and setting up a stream costs about as much as a small binomial)
    let mut rng = streams.voter_choice.stream(i as u64);
    let issued = binomial(&mut rng, st.n_registered, t);
    let uptake = if st.evoting { b.evoting_uptake } else { 0.0 };
    let electronic = binomial(&mut rng, issued, uptake);
    let paper = issued - electronic;
    let r = b.invalid_rate;

    let s = &mut ws.fast;
    s.by_party_e.resize(k, 0);
    s.by_party_p.resize(k, 0);
    multinomial(&mut rng, electronic, &ws.pref, &mut s.by_party_e);
    multinomial(&mut rng, paper, &ws.pref, &mut s.by_party_p);

    let w = k + 1;
    let list_row = &mut ws.counts.list[i * w..(i + 1) * w];
    let mut district_invalid = 0u32;
    // paper ballots only: each spoiled (list, and independently district) with rate r
    s.spoiled_list.resize(k, 0);
    s.spoiled_district.resize(k, 0);
    thin_with(
        &mut rng,
        &s.by_party_p,
        r,
        |rng, n| s.invalid.draw(rng, n),
        &mut s.spoiled_list,
        &mut s.left,
    );
    for p in 0..k {
        let spoiled = s.spoiled_list[p];
        list_row[p] = s.by_party_e[p] + s.by_party_p[p] - spoiled;
        list_row[k] += spoiled;
    }
    match st.district {
        None => {
            // the machine records "no candidate" on every ballot; the commission counts those
            // as invalid district ballots (as `station_round1` does)
            district_invalid = electronic;
        }
        Some(d) => {
            let district = &e.districts[d as usize];
            let n_cand = district.candidates.len();
            let off = ws.appeal_offset[d as usize];
            s.appeal.clear();
            s.appeal.extend_from_slice(&ws.appeal[off..off + n_cand]);
            s.free.resize(n_cand, 0);
            let c_off = e.candidate_offset[i] as usize;
            let dist_row = &mut ws.counts.district[c_off..c_off + n_cand];
            let mut pool = 0u32;
            thin_with(
                &mut rng,
                &s.by_party_p,
                r,
                |rng, n| s.invalid.draw(rng, n),
                &mut s.spoiled_district,
                &mut s.left,
            );
            for p in 0..k {
                let (ev, pv) = (s.by_party_e[p], s.by_party_p[p]);
                let spoiled_district = s.spoiled_district[p];
                district_invalid += spoiled_district;
                let valid = ev + pv - spoiled_district;
                match district.nominee[p] {
                    Some(c) => {
                        let loyal = s.loyalty.draw(&mut rng, valid);
                        dist_row[c as usize] += loyal;
                        pool += valid - loyal;
                    }
                    None => pool += valid,
                }
            }
            multinomial(&mut rng, pool, &s.appeal, &mut s.free);
            for (v, f) in dist_row.iter_mut().zip(&s.free) {
                *v += f;
            }
        }
    }
    ws.counts.issued[i] = issued;
    ws.counts.electronic[i] = electronic;
    ws.counts.district_invalid[i] = district_invalid;
}

/// A district's second round drawn as counts: the distribution `election::second_round` draws
/// voter by voter. `appeal` is the two finalists' appeal in this run.
pub(crate) fn second_round(
    ctx: Context<'_>,
    run: u64,
    d: usize,
    finalists: [u16; 2],
    counts: &StationCounts,
    appeal: [f64; 2],
) -> Runoff {
    let e = ctx.electorate;
    let district = &e.districts[d];
    let r = &ctx.model.runoff;
    let invalid_rate = ctx.model.ballots.invalid_rate;
    let to_a_by_appeal = appeal[0] / (appeal[0] + appeal[1]);
    let n_cand = district.candidates.len();
    // round-1 totals: district votes per candidate, then invalid district ballots
    let mut round1 = vec![0u32; n_cand + 1];
    let first = district.first_station as usize;
    for i in first..first + district.n_stations as usize {
        let off = e.candidate_offset[i] as usize;
        for (t, v) in round1.iter_mut().zip(&counts.district[off..off + n_cand]) {
            *t += v;
        }
        round1[n_cand] += counts.district_invalid[i];
    }
    let party_of = |c: usize| district.candidates[c].party;
    let mut rng = stream(
        ctx.seed,
        Purpose::Runoff,
        run,
        (e.stations.len() + d) as u64,
    );
    let (mut a, mut b, mut ballots) = (0u32, 0u32, 0u64);
    for (c, &n) in round1.iter().enumerate() {
        let back = binomial(&mut rng, n, r.turnout_ratio);
        ballots += back as u64;
        if c == finalists[0] as usize {
            a += back;
            continue;
        }
        if c == finalists[1] as usize {
            b += back;
            continue;
        }
        let party = if c < n_cand { party_of(c) } else { None };
        let same = |f: u16| party.is_some() && party_of(f as usize) == party;
        let mut rest = back;
        if same(finalists[0]) || same(finalists[1]) {
            let moved = binomial(&mut rng, back, r.party_transfer);
            if same(finalists[0]) {
                a += moved;
            } else {
                b += moved;
            }
            rest -= moved;
        }
        let to_a = binomial(&mut rng, rest, to_a_by_appeal);
        a += to_a;
        b += rest - to_a;
    }
    let spoiled_a = binomial(&mut rng, a, invalid_rate);
    let spoiled_b = binomial(&mut rng, b, invalid_rate);
    Runoff {
        finalists,
        votes: [(a - spoiled_a) as u64, (b - spoiled_b) as u64],
        invalid: (spoiled_a + spoiled_b) as u64,
        ballots,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multinomial_conserves_trials_and_skips_empty_categories() {
        let mut rng = stream(1, Purpose::VoterChoice, 0, 0);
        let mut out = [0u32; 5];
        for n in [0u32, 1, 7, 1000, 3_000_000] {
            multinomial(&mut rng, n, &[0.2, 0.0, 0.5, 0.3, 0.0], &mut out);
            assert_eq!(out.iter().sum::<u32>(), n);
            assert_eq!((out[1], out[4]), (0, 0));
        }
        multinomial(&mut rng, 9, &[0.0, 0.0], &mut out[..2]);
        assert_eq!(out[..2], [0, 0]);
    }

    #[test]
    fn multinomial_means_match_probabilities() {
        let mut rng = stream(2, Purpose::VoterChoice, 0, 0);
        let p = [0.6, 0.25, 0.1, 0.05];
        let mut out = [0u32; 4];
        let mut sums = [0f64; 4];
        let (n, reps) = (10_000u32, 400);
        for _ in 0..reps {
            multinomial(&mut rng, n, &p, &mut out);
            for (s, &x) in sums.iter_mut().zip(&out) {
                *s += x as f64;
            }
        }
        for (j, &pj) in p.iter().enumerate() {
            let mean = sums[j] / reps as f64;
            let se = (n as f64 * pj * (1.0 - pj) / reps as f64).sqrt();
            assert!(
                (mean - n as f64 * pj).abs() < 5.0 * se,
                "category {j}: mean {mean}, expected {}",
                n as f64 * pj
            );
        }
    }

    #[test]
    fn small_multinomials_match_means_and_variances() {
        // trial-by-trial tails (fewer than CATEGORICAL_BELOW trials), unnormalised weights with
        // an empty category, covariance of two categories
        let mut rng = stream(6, Purpose::VoterChoice, 0, 0);
        let w = [3.0, 0.0, 2.5, 2.0, 1.5, 0.6, 0.4];
        let total: f64 = w.iter().sum();
        let mut out = [0u32; 7];
        for n in [3u32, 20, 47, 60] {
            let reps = 200_000;
            let (mut s, mut s2, mut s02) = ([0f64; 7], [0f64; 7], 0f64);
            for _ in 0..reps {
                multinomial(&mut rng, n, &w, &mut out);
                assert_eq!(out.iter().sum::<u32>(), n);
                assert_eq!(out[1], 0);
                for j in 0..7 {
                    s[j] += out[j] as f64;
                    s2[j] += (out[j] as f64).powi(2);
                }
                s02 += out[0] as f64 * out[2] as f64;
            }
            let r = reps as f64;
            for j in [0, 2, 3, 4, 5, 6] {
                let pj = w[j] / total;
                let (m0, v0) = (n as f64 * pj, n as f64 * pj * (1.0 - pj));
                let mean = s[j] / r;
                let var = s2[j] / r - mean * mean;
                assert!(
                    (mean - m0).abs() < 5.0 * (v0 / r).sqrt(),
                    "n={n} j={j}: mean {mean} vs {m0}"
                );
                assert!(
                    (var / v0 - 1.0).abs() < 0.03,
                    "n={n} j={j}: variance {var} vs {v0}"
                );
            }
            let cov = s02 / r - (s[0] / r) * (s[2] / r);
            let cov0 = -(n as f64) * (w[0] / total) * (w[2] / total);
            assert!(
                (cov / cov0 - 1.0).abs() < 0.05,
                "n={n}: covariance {cov} vs {cov0}"
            );
        }
    }

    #[test]
    fn thin_matches_independent_binomials_in_mean_and_variance() {
        // both branches (picks, per category), and totals near where picking stops
        let mut rng = stream(4, Purpose::VoterChoice, 0, 0);
        let p = 0.03;
        let mut left = Vec::new();
        for counts in [
            vec![300u32, 0, 120, 45, 7],
            vec![1000, 300, 200, 60, 40],
            vec![1800, 400, 300, 200, 120],
        ] {
            let c = counts.len();
            let mut out = vec![0u32; c];
            let reps = 100_000;
            let (mut sum, mut sum2) = (vec![0f64; c], vec![0f64; c]);
            let (mut tot, mut tot2) = (0f64, 0f64);
            for _ in 0..reps {
                thin(&mut rng, &counts, p, &mut out, &mut left);
                let t: u32 = out.iter().sum();
                tot += t as f64;
                tot2 += (t as f64).powi(2);
                for j in 0..c {
                    assert!(out[j] <= counts[j]);
                    sum[j] += out[j] as f64;
                    sum2[j] += (out[j] as f64).powi(2);
                }
            }
            let check = |s: f64, s2: f64, n: f64, what: &str| {
                let mean = s / reps as f64;
                let var = s2 / reps as f64 - mean * mean;
                let (m0, v0) = (n * p, n * p * (1.0 - p));
                assert!(
                    (mean - m0).abs() <= 4.0 * (v0 / reps as f64).sqrt() + 1e-12,
                    "{what} of {counts:?}: mean {mean} vs {m0}"
                );
                if v0 > 0.0 {
                    assert!(
                        (var / v0 - 1.0).abs() < 0.05,
                        "{what}: variance {var} vs {v0}"
                    );
                }
            };
            let n: u32 = counts.iter().sum();
            check(tot, tot2, n as f64, "total");
            for j in 0..c {
                check(sum[j], sum2[j], counts[j] as f64, "category");
            }
        }
    }

    /// Binomial(n, p) probabilities by the recurrence from P(0) in log space.
    fn pmf(n: u32, p: f64) -> Vec<f64> {
        let mut lp = vec![n as f64 * (1.0 - p).ln()];
        for k in 0..n {
            let prev = lp[k as usize];
            lp.push(prev + ((n - k) as f64 / (k + 1) as f64 * p / (1.0 - p)).ln());
        }
        lp.into_iter().map(f64::exp).collect()
    }

    /// Chi-square of 200,000 draws of `draw(rng, n)` against the exact Binomial(n, p) pmf,
    /// cells with expectation ≥ 5 (the rest pooled); fails beyond 5 sd of the statistic.
    fn assert_binomial(
        rng: &mut StreamRng,
        n: u32,
        p: f64,
        mut draw: impl FnMut(&mut StreamRng) -> u32,
    ) {
        let reps = 200_000;
        let mut hist = vec![0f64; n as usize + 1];
        for _ in 0..reps {
            hist[draw(rng) as usize] += 1.0;
        }
        let probs = pmf(n, p);
        let (mut chi2, mut cells) = (0.0, 0usize);
        let (mut pooled_obs, mut pooled_exp) = (0.0, 0.0);
        for (o, q) in hist.iter().zip(&probs) {
            let e = q * reps as f64;
            if e >= 5.0 {
                chi2 += (o - e).powi(2) / e;
                cells += 1;
            } else {
                pooled_obs += o;
                pooled_exp += e;
            }
        }
        if pooled_exp > 0.0 {
            chi2 += (pooled_obs - pooled_exp).powi(2) / pooled_exp.max(1e-9);
            cells += 1;
        }
        // df = cells − 1; mean df, sd sqrt(2 df): allow 5 sd
        let df = (cells - 1) as f64;
        assert!(
            chi2 < df + 5.0 * (2.0 * df).sqrt(),
            "n={n} p={p}: chi2 {chi2:.1} on {df} df"
        );
    }

    #[test]
    fn binomial_matches_exact_probabilities() {
        // each sampler branch: Bernoulli, inversion, BTRS and flipped BTRS
        let mut rng = stream(7, Purpose::VoterChoice, 0, 0);
        for (n, p) in [
            (12u32, 0.3),
            (200, 0.02),
            (60, 0.4),
            (500, 0.3),
            (900, 0.62),
            (5000, 0.5),
        ] {
            assert_binomial(&mut rng, n, p, |rng| binomial(rng, n, p));
        }
    }

    #[test]
    fn binomial_table_matches_exact_probabilities() {
        // walks down and up from the mode, a flipped p, the mode at 0 and at n, and past the table
        let mut rng = stream(8, Purpose::VoterChoice, 0, 0);
        for (n, p) in [
            (1u32, 0.35),
            (7, 0.0284),
            (300, 0.0284),
            (57, 0.35),
            (1200, 0.35),
            (900, 0.62),
            (40, 0.999),
            (5000, 0.35),
        ] {
            let mut table = BinomialTable::default();
            table.prepare(p);
            assert_binomial(&mut rng, n, p, |rng| table.draw(rng, n));
        }
    }

    #[test]
    fn binomial_table_rows_are_accurate() {
        // (p, n, mode, f(mode), F(mode)), computed exactly (integer binomial coefficients,
        // 60-digit decimal powers of the f64 p) and rounded to f64
        let exact = [
            (0.0284, 5u32, 0u32, 0.8658397711798594, 0.8658397711798594),
            (0.0284, 300, 8, 0.13914635107799536, 0.5193295589748497),
            (0.0284, 4095, 116, 0.03753513695168536, 0.5134804519256265),
            (0.35, 24, 8, 0.16816035442636293, 0.5256758715058276),
            (0.35, 57, 20, 0.11016336330486122, 0.5659852352582584),
            (0.35, 1000, 350, 0.026442132330198383, 0.5145420224859513),
            (0.35, 4095, 1433, 0.013069690900541775, 0.5039210489231016),
            (0.5, 2500, 1250, 0.01595609552676405, 0.5079780477633821),
            (1e-6, 1000, 0, 0.9990004993338744, 0.9990004993338744),
            (0.35, 1, 0, 0.65, 0.65),
        ];
        for (p, n, mode, pmf, cdf) in exact {
            let row = Row::new(n, p, (1.0 - p) / p);
            assert_eq!(row.mode, mode, "n={n} p={p}");
            assert!(
                (row.pmf / pmf - 1.0).abs() < 1e-14,
                "n={n} p={p}: f(m) {} vs {pmf}",
                row.pmf
            );
            assert!(
                (row.cdf - cdf).abs() < 2e-15,
                "n={n} p={p}: F(m) {} vs {cdf}",
                row.cdf
            );
        }
    }

    #[test]
    fn binomial_table_edges() {
        let mut rng = stream(10, Purpose::VoterChoice, 0, 0);
        for p in [0.0, 1.0, f64::NAN] {
            let mut table = BinomialTable::default();
            table.prepare(p);
            assert_eq!(table.draw(&mut rng, 10), binomial(&mut rng.clone(), 10, p));
        }
        let mut table = BinomialTable::default();
        table.prepare(0.3);
        assert_eq!(table.draw(&mut rng, 0), 0);
        assert!((0..1000).all(|_| table.draw(&mut rng, 3) <= 3));
        // preparing another p resets every row
        table.prepare(0.9);
        let mean = (0..20_000)
            .map(|_| table.draw(&mut rng, 10) as f64)
            .sum::<f64>()
            / 20_000.0;
        assert!((mean - 9.0).abs() < 0.05, "mean {mean}");
    }

    #[test]
    fn exp_is_within_one_ulp_of_std() {
        // the largest difference from `f64::exp`, in units in the last place, over 2·10⁶ points
        // of [-745, 710] (dense in [-40, 40]) and some edges
        let ulps = |a: f64, b: f64| (a.to_bits() as i64 - b.to_bits() as i64).unsigned_abs();
        let mut rng = stream(9, Purpose::Lot, 0, 0);
        let mut worst = 0;
        for i in 0..2_000_000 {
            let u = crate::rng::unit(&mut rng);
            let x = if i % 2 == 0 {
                -745.0 + 1455.0 * u
            } else {
                -40.0 + 80.0 * u
            };
            worst = worst.max(ulps(exp(x), x.exp()));
        }
        for x in [
            0.0, -0.0, 1e-300, -1e-20, 1.0, -1.0, 699.99, -699.99, 700.0, -708.0, 709.7,
        ] {
            worst = worst.max(ulps(exp(x), x.exp()));
        }
        assert!(worst <= 1, "{worst} ulp");
        assert!(exp(f64::NAN).is_nan());
        assert_eq!(exp(f64::NEG_INFINITY), 0.0);
        assert_eq!(exp(f64::INFINITY), f64::INFINITY);
    }

    #[test]
    fn binomial_edges() {
        let mut rng = stream(3, Purpose::VoterTurnout, 0, 0);
        assert_eq!(binomial(&mut rng, 10, 0.0), 0);
        assert_eq!(binomial(&mut rng, 10, 1.0), 10);
        assert_eq!(binomial(&mut rng, 10, f64::NAN), 0);
        assert_eq!(binomial(&mut rng, 0, 0.5), 0);
        assert!(binomial(&mut rng, 10, 0.5) <= 10);
    }
}
