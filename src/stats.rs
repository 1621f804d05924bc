//! Shared statistics: special functions, distributions, histograms, moments, regression and
//! quantiles, used by the forensics and (later) by the fraud detectors and Monte Carlo summaries.
//!
//! Owns: numerically careful implementations of the few formulas tamga needs, each with its
//! source. Never does: I/O, clocks, global randomness. Functions that sample take a uniform
//! variate or `&mut impl rand::Rng` from the caller, so every stream is the caller's choice.
//!
//! Sources:
//! - `ln_gamma`: Lanczos approximation, g = 7, n = 9 coefficients (Press et al., *Numerical
//!   Recipes*, 3rd ed., §6.1; coefficients as published by Godfrey), relative error ≈ 1e-15.
//! - `erf`/`erfc`: Maclaurin series for |x| < 2.5, Lentz continued fraction (Abramowitz & Stegun
//!   7.1.14) above; the normal quantile is Acklam's rational approximation refined with one
//!   Halley step (relative error ≈ 1e-15).
//! - `chi_square_sf`: the regularised upper incomplete gamma Q(k/2, x/2) by series or continued
//!   fraction (Numerical Recipes §6.2).
//! - Binomial pmf: exact log-space value at the mode, then the ratio recurrence
//!   p(k+1)/p(k) = (n−k)/(k+1) · p/(1−p) outwards, truncated at ±`tail_sd` standard deviations.
//! - Moments: sample skewness g1 = m3/m2^{3/2} and kurtosis b2 = m4/m2² (normal = 3).
//! - Quantiles: type 7 of Hyndman & Fan (1996), linear interpolation (R's default).
//! - Ordinary least squares with the classical slope standard error.

use rand::Rng;
use rand::RngExt;

/// `x.round() as u64` (half away from zero; NaN and negatives give 0, beyond `u64::MAX`
/// saturates), without the library call `f64::round` is on baseline x86-64 (no SSE4.1): for
/// 0 ≤ x < 2⁶³ the truncation, plus one when the fraction it dropped is at least ½ (exact below
/// 2⁵³; above, x is whole), in signed conversions (single instructions, unlike unsigned ones).
#[inline]
pub fn round_u64(x: f64) -> u64 {
    if (0.0..9_223_372_036_854_775_808.0).contains(&x) {
        let t = x as i64;
        return if x - t as f64 >= 0.5 { t + 1 } else { t } as u64;
    }
    x.round() as u64
}

/// Natural log of the gamma function for `x > 0` (Lanczos, g = 7).
pub fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection: Γ(x)Γ(1−x) = π / sin(πx).
        let s = (std::f64::consts::PI * x).sin().abs();
        return std::f64::consts::PI.ln() - s.ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = C[0];
    let t = x + G + 0.5;
    for (i, c) in C.iter().enumerate().skip(1) {
        a += c / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// ln C(n, k).
pub fn ln_choose(n: u64, k: u64) -> f64 {
    ln_gamma(n as f64 + 1.0) - ln_gamma(k as f64 + 1.0) - ln_gamma((n - k) as f64 + 1.0)
}

/// Binomial probability P(X = k), X ~ Binomial(n, p). Exact in log space; 0 outside 0..=n.
pub fn binomial_pmf(n: u64, p: f64, k: u64) -> f64 {
    if k > n {
        return 0.0;
    }
    if p <= 0.0 {
        return if k == 0 { 1.0 } else { 0.0 };
    }
    if p >= 1.0 {
        return if k == n { 1.0 } else { 0.0 };
    }
    (ln_choose(n, k) + k as f64 * p.ln() + (n - k) as f64 * (1.0 - p).ln()).exp()
}

/// The binomial pmf over the window mean ± `tail_sd` standard deviations (at least ±3 values,
/// clipped to 0..=n): returns `(first_k, probabilities)`. The mass outside the window is below
/// the normal tail at `tail_sd` (≈ 1e-33 at 12 sd) and is dropped.
pub fn binomial_pmf_window(n: u64, p: f64, tail_sd: f64) -> (u64, Vec<f64>) {
    if p <= 0.0 {
        return (0, vec![1.0]);
    }
    if p >= 1.0 {
        return (n, vec![1.0]);
    }
    let mean = n as f64 * p;
    let sd = (mean * (1.0 - p)).sqrt();
    let half = (tail_sd * sd).ceil() + 3.0;
    // casts truncate toward zero and saturate: for these the floor (negatives go to 0)
    let lo = (mean - half) as u64;
    let hi = ((mean + half).ceil() as u64).min(n);
    let mode = (((n + 1) as f64 * p) as u64).clamp(lo, hi);
    let mut out = vec![0.0; (hi - lo + 1) as usize];
    let pm = binomial_pmf(n, p, mode);
    out[(mode - lo) as usize] = pm;
    let odds = p / (1.0 - p);
    let mut v = pm;
    for k in mode..hi {
        v *= (n - k) as f64 / (k + 1) as f64 * odds;
        out[(k + 1 - lo) as usize] = v;
    }
    v = pm;
    for k in (lo + 1..=mode).rev() {
        v *= k as f64 / (n - k + 1) as f64 / odds;
        out[(k - 1 - lo) as usize] = v;
    }
    (lo, out)
}

/// The error function.
pub fn erf(x: f64) -> f64 {
    if x.abs() < 2.5 {
        erf_series(x)
    } else {
        x.signum() * (1.0 - erfc_cf(x.abs()))
    }
}

/// The complementary error function, accurate in the far tails.
pub fn erfc(x: f64) -> f64 {
    if x < 0.0 {
        2.0 - erfc(-x)
    } else if x < 2.5 {
        1.0 - erf_series(x)
    } else {
        erfc_cf(x)
    }
}

fn erf_series(x: f64) -> f64 {
    // erf x = 2/√π Σ (−1)^n x^(2n+1) / (n! (2n+1))
    let x2 = x * x;
    let mut term = x;
    let mut sum = x;
    for n in 1..200 {
        term *= -x2 / n as f64;
        let add = term / (2 * n + 1) as f64;
        sum += add;
        if add.abs() < 1e-17 * sum.abs() {
            break;
        }
    }
    sum * std::f64::consts::FRAC_2_SQRT_PI
}

fn erfc_cf(x: f64) -> f64 {
    // erfc x = exp(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + ...))))), modified Lentz.
    let tiny = 1e-300;
    let mut f = x;
    let mut c = x;
    let mut d = 0.0;
    for k in 1..500 {
        let a = k as f64 / 2.0;
        d = x + a * d;
        if d.abs() < tiny {
            d = tiny;
        }
        c = x + a / c;
        if c.abs() < tiny {
            c = tiny;
        }
        d = 1.0 / d;
        let delta = c * d;
        f *= delta;
        if (delta - 1.0).abs() < 1e-16 {
            break;
        }
    }
    (-x * x).exp() / std::f64::consts::PI.sqrt() / f
}

/// Standard normal cumulative distribution function Φ(x).
pub fn normal_cdf(x: f64) -> f64 {
    0.5 * erfc(-x / std::f64::consts::SQRT_2)
}

/// Standard normal upper tail 1 − Φ(x), accurate for large x.
pub fn normal_sf(x: f64) -> f64 {
    0.5 * erfc(x / std::f64::consts::SQRT_2)
}

/// Standard normal density φ(x).
pub fn normal_pdf(x: f64) -> f64 {
    (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt()
}

/// The radical inverse of `i` in base `b` (the Halton sequence).
pub fn halton(mut i: u64, b: u64) -> f64 {
    let (mut f, mut r) = (1.0, 0.0);
    while i > 0 {
        f /= b as f64;
        r += f * (i % b) as f64;
        i /= b;
    }
    r
}

/// Standard normal quantile Φ⁻¹(p) for p in (0, 1); ±∞ at 0 and 1, NaN outside.
/// Acklam's approximation refined by one Halley step (relative error ≈ 1e-15).
pub fn normal_quantile(p: f64) -> f64 {
    let x = normal_quantile_fast(p);
    if !x.is_finite() {
        return x;
    }
    let e = normal_cdf(x) - p;
    let u = e * (2.0 * std::f64::consts::PI).sqrt() * (x * x / 2.0).exp();
    x - u / (1.0 + x * u / 2.0)
}

/// Acklam's rational approximation of Φ⁻¹(p) alone (relative error < 1.15e-9): for sampling,
/// where that error is far below any statistical effect and speed matters.
pub fn normal_quantile_fast(p: f64) -> f64 {
    if !(0.0..=1.0).contains(&p) || p.is_nan() {
        return f64::NAN;
    }
    if p == 0.0 {
        return f64::NEG_INFINITY;
    }
    if p == 1.0 {
        return f64::INFINITY;
    }
    // Acklam's coefficients.
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    const P_LOW: f64 = 0.024_25;
    if p < P_LOW {
        let q = (-2.0 * p.ln()).sqrt();
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    } else if p <= 1.0 - P_LOW {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    } else {
        let q = (-2.0 * (1.0 - p).ln()).sqrt();
        -(((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    }
}

/// A draw from Normal(mean, sd) truncated to [lo, hi], by inversion of one uniform `u` in [0, 1)
/// (see [`TruncatedNormal`]):
/// exactly one uniform per draw (no rejection loop), so random streams stay aligned.
/// Degenerate inputs (sd ≤ 0, or a window with negligible mass) return the nearest bound-clamped mean.
pub fn truncated_normal_from_uniform(mean: f64, sd: f64, lo: f64, hi: f64, u: f64) -> f64 {
    TruncatedNormal::new(mean, sd, lo, hi).at(u)
}

/// Normal(mean, sd) truncated to [lo, hi], sampled by inversion with the bounds' CDF values
/// computed once and the fast quantile [`normal_quantile_fast`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TruncatedNormal {
    mean: f64,
    sd: f64,
    lo: f64,
    hi: f64,
    cdf_lo: f64,
    cdf_width: f64,
}

impl TruncatedNormal {
    /// The distribution; degenerate (sd ≤ 0 or a window of negligible mass) gives the clamped mean.
    pub fn new(mean: f64, sd: f64, lo: f64, hi: f64) -> Self {
        let (cdf_lo, cdf_width) = if sd > 0.0 && sd.is_finite() {
            let a = normal_cdf((lo - mean) / sd);
            (a, normal_cdf((hi - mean) / sd) - a)
        } else {
            (0.0, 0.0)
        };
        TruncatedNormal {
            mean,
            sd,
            lo,
            hi,
            cdf_lo,
            cdf_width,
        }
    }

    /// The value at uniform `u` in [0, 1).
    pub fn at(&self, u: f64) -> f64 {
        if self.cdf_width < 1e-300 {
            return self.mean.clamp(self.lo, self.hi);
        }
        let z = normal_quantile_fast(self.cdf_lo + u * self.cdf_width);
        (self.mean + self.sd * z).clamp(self.lo, self.hi)
    }
}

/// A draw from Normal(mean, sd) truncated to [lo, hi] (see [`truncated_normal_from_uniform`]).
pub fn truncated_normal(rng: &mut impl Rng, mean: f64, sd: f64, lo: f64, hi: f64) -> f64 {
    let u: f64 = rng.random();
    truncated_normal_from_uniform(mean, sd, lo, hi, u)
}

/// Regularised lower incomplete gamma P(a, x).
pub fn gamma_p(a: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x < a + 1.0 {
        gamma_series(a, x)
    } else {
        1.0 - gamma_cf(a, x)
    }
}

/// Regularised upper incomplete gamma Q(a, x) = 1 − P(a, x).
pub fn gamma_q(a: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 1.0;
    }
    if x < a + 1.0 {
        1.0 - gamma_series(a, x)
    } else {
        gamma_cf(a, x)
    }
}

fn gamma_series(a: f64, x: f64) -> f64 {
    let mut ap = a;
    let mut del = 1.0 / a;
    let mut sum = del;
    for _ in 0..10_000 {
        ap += 1.0;
        del *= x / ap;
        sum += del;
        if del.abs() < sum.abs() * 1e-16 {
            break;
        }
    }
    sum * (-x + a * x.ln() - ln_gamma(a)).exp()
}

fn gamma_cf(a: f64, x: f64) -> f64 {
    let tiny = 1e-300;
    let mut b = x + 1.0 - a;
    let mut c = 1.0 / tiny;
    let mut d = 1.0 / b;
    let mut h = d;
    for i in 1..10_000 {
        let an = -(i as f64) * (i as f64 - a);
        b += 2.0;
        d = an * d + b;
        if d.abs() < tiny {
            d = tiny;
        }
        c = b + an / c;
        if c.abs() < tiny {
            c = tiny;
        }
        d = 1.0 / d;
        let del = d * c;
        h *= del;
        if (del - 1.0).abs() < 1e-16 {
            break;
        }
    }
    (-x + a * x.ln() - ln_gamma(a)).exp() * h
}

/// Upper tail P(X² ≥ x) of the chi-square distribution with `df` degrees of freedom.
pub fn chi_square_sf(x: f64, df: f64) -> f64 {
    gamma_q(df / 2.0, x / 2.0)
}

/// Pearson's X² = Σ (observed − expected)² / expected over cells with expected > 0.
pub fn pearson_chi_square(observed: &[u64], expected_probs: &[f64]) -> f64 {
    let n: u64 = observed.iter().sum();
    observed
        .iter()
        .zip(expected_probs)
        .filter(|(_, p)| **p > 0.0)
        .map(|(o, p)| {
            let e = n as f64 * p;
            (*o as f64 - e).powi(2) / e
        })
        .sum()
}

/// Sample moments of a data set (population-style central moments, as in Klimek et al. 2012).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Moments {
    pub n: usize,
    pub mean: f64,
    pub sd: f64,
    /// g1 = m3 / m2^{3/2}; 0 for a symmetric distribution.
    pub skewness: f64,
    /// b2 = m4 / m2²; 3 for a normal distribution (not the excess kurtosis).
    pub kurtosis: f64,
}

/// Moments of `xs` (summed in the given order; NaN fields when fewer than 2 values).
pub fn moments(xs: &[f64]) -> Moments {
    let n = xs.len();
    if n < 2 {
        return Moments {
            n,
            mean: xs.first().copied().unwrap_or(f64::NAN),
            sd: f64::NAN,
            skewness: f64::NAN,
            kurtosis: f64::NAN,
        };
    }
    let mean = xs.iter().sum::<f64>() / n as f64;
    let (mut m2, mut m3, mut m4) = (0.0, 0.0, 0.0);
    for x in xs {
        let d = x - mean;
        let d2 = d * d;
        m2 += d2;
        m3 += d2 * d;
        m4 += d2 * d2;
    }
    m2 /= n as f64;
    m3 /= n as f64;
    m4 /= n as f64;
    Moments {
        n,
        mean,
        sd: m2.sqrt(),
        skewness: m3 / m2.powf(1.5),
        kurtosis: m4 / (m2 * m2),
    }
}

/// Mean and sample standard deviation (n − 1) of `xs`; sd is 0 for one value, NaN for none.
pub fn mean_sd(xs: &[f64]) -> (f64, f64) {
    let n = xs.len();
    if n == 0 {
        return (f64::NAN, f64::NAN);
    }
    let mean = xs.iter().sum::<f64>() / n as f64;
    if n == 1 {
        return (mean, 0.0);
    }
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    (mean, var.sqrt())
}

/// Quantile `q` in [0, 1] of already sorted data (Hyndman–Fan type 7). NaN for empty input.
pub fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let h = (sorted.len() - 1) as f64 * q.clamp(0.0, 1.0);
    let lo = h.floor() as usize;
    let hi = h.ceil() as usize;
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// Quantile `q` of unsorted data (sorts a copy; NaNs sort last).
pub fn quantile(xs: &[f64], q: f64) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    quantile_sorted(&v, q)
}

/// A histogram with equal-width bins over [lo, hi]; values equal to `hi` fall into the last bin,
/// values outside are counted in `below`/`above`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Histogram {
    pub lo: f64,
    pub hi: f64,
    pub counts: Vec<u64>,
    pub below: u64,
    pub above: u64,
}

impl Histogram {
    /// An empty histogram with `bins` ≥ 1 bins.
    pub fn new(lo: f64, hi: f64, bins: usize) -> Self {
        Histogram {
            lo,
            hi,
            counts: vec![0; bins.max(1)],
            below: 0,
            above: 0,
        }
    }

    /// The bin of `x`, or `None` outside [lo, hi] (or NaN).
    pub fn bin(&self, x: f64) -> Option<usize> {
        if x.is_nan() || x < self.lo || x > self.hi {
            return None;
        }
        let k = self.counts.len();
        // the cast truncates, which is the floor here (non-negative), without `floor`'s call
        let b = ((x - self.lo) / (self.hi - self.lo) * k as f64) as usize;
        Some(b.min(k - 1))
    }

    /// Adds one value.
    pub fn add(&mut self, x: f64) {
        match self.bin(x) {
            Some(b) => self.counts[b] += 1,
            None if x < self.lo => self.below += 1,
            None => self.above += 1,
        }
    }

    /// Width of one bin.
    pub fn width(&self) -> f64 {
        (self.hi - self.lo) / self.counts.len() as f64
    }

    /// Centre of bin `b`.
    pub fn centre(&self, b: usize) -> f64 {
        self.lo + (b as f64 + 0.5) * self.width()
    }
}

/// An ordinary-least-squares line y = intercept + slope·x.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct LinearFit {
    pub n: usize,
    pub slope: f64,
    pub intercept: f64,
    /// Classical standard error of the slope, sqrt(σ̂² / Sxx) with σ̂² = RSS / (n − 2).
    pub slope_se: f64,
    pub r_squared: f64,
}

/// OLS of `y` on `x` (equal lengths; NaN fields when fewer than 3 points or x constant).
pub fn ols(x: &[f64], y: &[f64]) -> LinearFit {
    let n = x.len().min(y.len());
    let nan = LinearFit {
        n,
        slope: f64::NAN,
        intercept: f64::NAN,
        slope_se: f64::NAN,
        r_squared: f64::NAN,
    };
    if n < 3 {
        return nan;
    }
    let mx = x[..n].iter().sum::<f64>() / n as f64;
    let my = y[..n].iter().sum::<f64>() / n as f64;
    let (mut sxx, mut sxy, mut syy) = (0.0, 0.0, 0.0);
    for i in 0..n {
        let dx = x[i] - mx;
        let dy = y[i] - my;
        sxx += dx * dx;
        sxy += dx * dy;
        syy += dy * dy;
    }
    if sxx <= 0.0 {
        return nan;
    }
    let slope = sxy / sxx;
    let intercept = my - slope * mx;
    let rss = (syy - slope * sxy).max(0.0);
    LinearFit {
        n,
        slope,
        intercept,
        slope_se: (rss / (n - 2) as f64 / sxx).sqrt(),
        r_squared: if syy > 0.0 { 1.0 - rss / syy } else { f64::NAN },
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn round_u64_is_round_then_cast() {
        let mut edges = vec![
            0.0,
            -0.0,
            0.5,
            1.5,
            2.5,
            0.49999999999999994,
            -0.5,
            -0.7,
            -3.0,
            1e-300,
            4503599627370495.5,
            4503599627370496.5,
            9007199254740993.0,
            1.8446744073709552e19,
            1e30,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            f64::MAX,
        ];
        let mut x = 0.123_f64;
        for i in 0..200_000 {
            x = (x * 3.7 + 0.61).fract();
            edges.push(x * 10f64.powi(i % 12));
            edges.push((i as f64) + 0.5);
        }
        for x in edges {
            assert_eq!(round_u64(x), x.round() as u64, "{x:e}");
        }
    }

    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol * b.abs().max(1e-300)
    }

    #[test]
    fn ln_gamma_matches_factorials() {
        let mut f = 1.0f64;
        for n in 1..30u32 {
            f *= n as f64;
            assert!(close(ln_gamma(n as f64 + 1.0), f.ln(), 1e-13), "n = {n}");
        }
        assert!(close(
            ln_gamma(0.5),
            std::f64::consts::PI.sqrt().ln(),
            1e-13
        ));
    }

    #[test]
    fn binomial_window_sums_to_one_and_matches_direct_pmf() {
        for &(n, p) in &[(10u64, 0.3), (1000, 0.62), (3000, 0.013), (50, 0.99)] {
            let (lo, w) = binomial_pmf_window(n, p, 12.0);
            let s: f64 = w.iter().sum();
            assert!((s - 1.0).abs() < 1e-10, "n={n} p={p} sum={s}");
            for (i, v) in w.iter().enumerate() {
                let d = binomial_pmf(n, p, lo + i as u64);
                // Relative agreement; lgamma-based logs of size ~10³ carry ~1e-12 absolute error.
                assert!(
                    (v - d).abs() <= 1e-9 * d,
                    "n={n} k={} window {v} direct {d}",
                    lo + i as u64
                );
            }
        }
        assert_eq!(binomial_pmf(5, 0.0, 0), 1.0);
        assert_eq!(binomial_pmf_window(5, 1.0, 12.0), (5, vec![1.0]));
    }

    #[test]
    fn normal_functions_agree_with_tables() {
        assert!(close(normal_cdf(1.959_963_984_540_054), 0.975, 1e-14));
        assert!(close(normal_sf(5.0), 2.866_515_718_791_939e-7, 1e-12));
        assert!(close(normal_sf(10.0), 7.619_853_024_160_527e-24, 1e-10));
        assert!(close(erf(0.5), 0.520_499_877_813_046_5, 1e-14));
        for &p in &[1e-10, 0.001, 0.1, 0.5, 0.8, 0.999_999] {
            let x = normal_quantile(p);
            assert!(close(normal_cdf(x), p, 1e-12), "p = {p}");
            assert!(close(normal_quantile_fast(p), x, 1.2e-9), "p = {p}");
        }
    }

    #[test]
    fn chi_square_tail_matches_tables() {
        // 16.919 is the 95 % point of chi-square with 9 d.f.; 21.666 the 99 % point.
        assert!((chi_square_sf(16.918_977_6, 9.0) - 0.05).abs() < 1e-8);
        assert!((chi_square_sf(21.665_994_3, 9.0) - 0.01).abs() < 1e-8);
        assert!((chi_square_sf(2.0, 2.0) - (-1.0f64).exp()).abs() < 1e-14);
    }

    #[test]
    fn truncated_normal_stays_inside_and_centres() {
        use rand::SeedableRng;
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(7);
        let xs: Vec<f64> = (0..20_000)
            .map(|_| truncated_normal(&mut rng, 0.9, 0.2, 0.0, 1.0))
            .collect();
        assert!(xs.iter().all(|x| (0.0..=1.0).contains(x)));
        // Mean of N(0.9, 0.2) truncated to [0, 1]: μ + σ(φ(α) − φ(β))/(Φ(β) − Φ(α)).
        let a = -4.5;
        let b = 0.5;
        let expect = 0.9 + 0.2 * (normal_pdf(a) - normal_pdf(b)) / (normal_cdf(b) - normal_cdf(a));
        let m = xs.iter().sum::<f64>() / xs.len() as f64;
        assert!((m - expect).abs() < 0.003, "mean {m} vs {expect}");
    }

    #[test]
    fn moments_of_symmetric_data() {
        let m = moments(&[1.0, 2.0, 3.0, 4.0, 5.0]);
        assert_eq!(m.mean, 3.0);
        assert!(m.skewness.abs() < 1e-15);
        assert!(close(m.kurtosis, 1.7, 1e-12));
    }

    #[test]
    fn ols_recovers_a_line_and_quantiles_interpolate() {
        let x: Vec<f64> = (0..10).map(f64::from).collect();
        let y: Vec<f64> = x.iter().map(|v| 2.0 + 0.5 * v).collect();
        let f = ols(&x, &y);
        assert!(close(f.slope, 0.5, 1e-12) && close(f.intercept, 2.0, 1e-12));
        assert!(f.slope_se < 1e-7);
        assert_eq!(quantile(&[4.0, 1.0, 3.0, 2.0], 0.5), 2.5);
        let mut h = Histogram::new(0.0, 1.0, 10);
        for v in [0.0, 0.05, 0.999, 1.0, 1.2, -0.1] {
            h.add(v);
        }
        assert_eq!(h.counts[0], 2);
        assert_eq!(h.counts[9], 2);
        assert_eq!((h.below, h.above), (1, 1));
    }
}
