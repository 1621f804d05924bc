//! Multinomials (sequential binomials with a categorical tail), categorical draws and
//! thinning; and the ballot path's one-draw categorical over cumulative thresholds.

use super::binomial::binomial;
use crate::rng::{StreamRng, threshold};
use rand::Rng;
use std::cmp::Reverse;

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

/// [`thin`] with `draw(rng, n)` for Binomial(n, p) (a [`super::BinomialTable`]'s).
pub fn thin_with(
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

/// One categorical draw from a uniform 64-bit `r` against cumulative thresholds `cum` (last
/// entry `u64::MAX`, see [`cumulative`]): the ballot path's draw of a voter's choice.
#[inline]
pub fn pick(cum: &[u64], r: u64) -> usize {
    let mut i = 0;
    while i + 1 < cum.len() && r >= cum[i] {
        i += 1;
    }
    i
}

/// Fills `cum` with cumulative thresholds for weights `p` (need not be normalised), for [`pick`].
pub fn cumulative(p: impl Iterator<Item = f64> + Clone, cum: &mut Vec<u64>) {
    let total: f64 = p.clone().sum();
    cum.clear();
    let mut acc = 0.0;
    for x in p {
        acc += x;
        cum.push(threshold(acc / total));
    }
    if let Some(last) = cum.last_mut() {
        *last = u64::MAX;
    }
}
