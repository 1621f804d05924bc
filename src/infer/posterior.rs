//! From a weighted population to posterior summaries: weighted quantiles and intervals, and the
//! local-linear regression adjustment of Beaumont, Zhang & Balding (2002, *Genetics* 162:2025).
//!
//! The adjustment corrects each accepted value for how far its simulation's summaries were from
//! the observed ones: regress the value on `s − s_obs` with Epanechnikov weights
//! `w (1 − (d/ε)²)`, and replace `y_i` by `y_i − (s_i − s_obs)ᵀβ`. It removes the spread the
//! tolerance ε lets in, which is what makes the intervals calibrated at a finite tolerance (the
//! SBC test in `tests/it/infer.rs` checks it). A small ridge (10⁻³ of the mean diagonal) keeps
//! the normal equations solvable when summaries are collinear (list shares sum to one).

/// Quantile `q` of weighted values: the weighted empirical distribution with each value at the
/// middle of its weight, interpolated linearly (NaN when empty or without weight).
pub fn weighted_quantile(values: &[f64], weights: &[f64], q: f64) -> f64 {
    let mut idx: Vec<usize> = (0..values.len()).filter(|&i| weights[i] > 0.0).collect();
    if idx.is_empty() {
        return f64::NAN;
    }
    idx.sort_by(|&a, &b| values[a].total_cmp(&values[b]).then(a.cmp(&b)));
    let total: f64 = idx.iter().map(|&i| weights[i]).sum();
    let target = q.clamp(0.0, 1.0) * total;
    let mut acc = 0.0;
    let mut prev: Option<(f64, f64)> = None;
    for &i in &idx {
        let mid = acc + weights[i] / 2.0;
        acc += weights[i];
        if mid >= target {
            return match prev {
                None => values[i],
                Some((pm, pv)) => {
                    let f = if mid > pm {
                        (target - pm) / (mid - pm)
                    } else {
                        1.0
                    };
                    pv + f * (values[i] - pv)
                }
            };
        }
        prev = Some((mid, values[i]));
    }
    values[*idx.last().unwrap_or(&0)]
}

/// A posterior summary: median and central 50 % and 90 % intervals.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Interval {
    pub median: f64,
    pub lo50: f64,
    pub hi50: f64,
    pub lo90: f64,
    pub hi90: f64,
}

impl Interval {
    /// The median and central intervals of a weighted sample, read at the plotting positions
    /// `i / (n + 1)` of Weibull with `n` the weights' effective size (Kish) rather than at the
    /// sample's own quantiles: the interval between the sample's `j`-th and `k`-th values holds
    /// a fresh draw from the same distribution with probability `(k − j) / (n + 1)`, so the
    /// sample's 5 % and 95 % quantiles would cover only `0.9 n / (n + 1)` (86–88 % at the
    /// 25–40 effective particles of a small inference; the SBC test measures it).
    pub fn of(values: &[f64], weights: &[f64]) -> Interval {
        let n = weights.iter().sum::<f64>().powi(2) / weights.iter().map(|w| w * w).sum::<f64>();
        let q = |p: f64| {
            let at = if n.is_finite() && n > 0.0 {
                (p * (n + 1.0) - 0.5) / n
            } else {
                p
            };
            weighted_quantile(values, weights, at)
        };
        Interval {
            median: q(0.5),
            lo50: q(0.25),
            hi50: q(0.75),
            lo90: q(0.05),
            hi90: q(0.95),
        }
    }

    pub fn contains90(&self, x: f64) -> bool {
        self.lo90 <= x && x <= self.hi90
    }
}

/// Weighted fraction of values below `x` (ties count half): the SBC rank statistic, uniform on
/// [0, 1] when the posterior is calibrated.
pub fn rank(values: &[f64], weights: &[f64], x: f64) -> f64 {
    let total: f64 = weights.iter().sum();
    let below: f64 = values
        .iter()
        .zip(weights)
        .map(|(&v, &w)| {
            if v < x {
                w
            } else if v == x {
                w / 2.0
            } else {
                0.0
            }
        })
        .sum();
    below / total.max(1e-300)
}

/// Regression-adjusted values: `α + c (y_i − α − x_iᵀβ)`, where α and β are the weighted (`k`)
/// least-squares intercept and slope of `y` on the rows `x` (summaries minus the observed ones,
/// scaled), so α is the fitted value at the observed summaries, and `c = √(n/(n − p − 1))` with
/// `n` the weights' effective size corrects the residuals' spread for the p + 1 coefficients
/// fitted (without it a regression on many summaries shrinks the posterior and its intervals
/// cover too little). Returns `y` unchanged when there are too few weighted points.
pub fn adjust(y: &[f64], x: &[Vec<f64>], k: &[f64]) -> Vec<f64> {
    let x = &reduce(x, k);
    let n = y.len();
    let p = x.first().map_or(0, Vec::len);
    let used = k.iter().filter(|&&w| w > 0.0).count();
    if p == 0 || used < p + 3 {
        return y.to_vec();
    }
    let ksum: f64 = k.iter().sum();
    let xm: Vec<f64> = (0..p)
        .map(|j| (0..n).map(|i| k[i] * x[i][j]).sum::<f64>() / ksum)
        .collect();
    let ym = (0..n).map(|i| k[i] * y[i]).sum::<f64>() / ksum;
    let mut a = vec![vec![0.0; p]; p];
    let mut b = vec![0.0; p];
    for i in 0..n {
        if k[i] <= 0.0 {
            continue;
        }
        for r in 0..p {
            let xr = x[i][r] - xm[r];
            b[r] += k[i] * xr * (y[i] - ym);
            for c in 0..=r {
                a[r][c] += k[i] * xr * (x[i][c] - xm[c]);
            }
        }
    }
    let trace: f64 = (0..p).map(|r| a[r][r]).sum();
    let ridge = 1e-3 * trace / p as f64 + 1e-12;
    for r in 0..p {
        a[r][r] += ridge;
        for c in 0..r {
            a[c][r] = a[r][c];
        }
    }
    let Some(beta) = solve_spd(a, b) else {
        return y.to_vec();
    };
    // the value at the observed summaries, and each point's residual, inflated so that its
    // weighted variance is unbiased for the p + 1 coefficients fitted (Kish's effective size)
    let n_eff = ksum * ksum / k.iter().map(|w| w * w).sum::<f64>();
    if n_eff <= (p + 2) as f64 {
        return y.to_vec();
    }
    let inflate = (n_eff / (n_eff - (p + 1) as f64)).sqrt();
    let at_obs = ym - (0..p).map(|j| xm[j] * beta[j]).sum::<f64>();
    (0..n)
        .map(|i| {
            let fitted = at_obs + (0..p).map(|j| x[i][j] * beta[j]).sum::<f64>();
            at_obs + inflate * (y[i] - fitted)
        })
        .collect()
}

/// The summaries projected on their leading principal components (weighted by `k`), as many
/// as a third of the weights' effective size minus one allows (at least one): a regression
/// on more summaries than the accepted points support would fit noise. Projections keep the
/// observed point at the origin.
pub fn reduce(x: &[Vec<f64>], k: &[f64]) -> Vec<Vec<f64>> {
    let p = x.first().map_or(0, Vec::len);
    let ksum: f64 = k.iter().sum();
    let k2: f64 = k.iter().map(|w| w * w).sum();
    if p == 0 || ksum <= 0.0 {
        return x.to_vec();
    }
    let n_eff = ksum * ksum / k2;
    let q_max = ((n_eff / 3.0).floor() as usize).saturating_sub(1).max(1);
    let n = x.len();
    let xm: Vec<f64> = (0..p)
        .map(|j| (0..n).map(|i| k[i] * x[i][j]).sum::<f64>() / ksum)
        .collect();
    let mut c = vec![vec![0.0; p]; p];
    for i in 0..n {
        for r in 0..p {
            for col in 0..=r {
                c[r][col] += k[i] * (x[i][r] - xm[r]) * (x[i][col] - xm[col]) / ksum;
            }
        }
    }
    for r in 0..p {
        for col in 0..r {
            c[col][r] = c[r][col];
        }
    }
    let (values, vectors) = jacobi_eigen(c);
    let mut order: Vec<usize> = (0..p).collect();
    order.sort_by(|&a, &b| values[b].total_cmp(&values[a]).then(a.cmp(&b)));
    let top = values[order[0]].max(0.0);
    let keep: Vec<usize> = order
        .into_iter()
        .filter(|&j| values[j] > 1e-9 * top && top > 0.0)
        .take(q_max)
        .collect();
    if keep.len() == p && p <= q_max {
        return x.to_vec();
    }
    x.iter()
        .map(|row| {
            keep.iter()
                .map(|&j| (0..p).map(|r| row[r] * vectors[r][j]).sum())
                .collect()
        })
        .collect()
}

/// Eigenvalues and eigenvectors (as columns) of a symmetric matrix by cyclic Jacobi rotations.
fn jacobi_eigen(mut a: Vec<Vec<f64>>) -> (Vec<f64>, Vec<Vec<f64>>) {
    let p = a.len();
    let mut v = vec![vec![0.0; p]; p];
    for (i, row) in v.iter_mut().enumerate() {
        row[i] = 1.0;
    }
    for _sweep in 0..60 {
        let off: f64 = (0..p)
            .flat_map(|r| (0..p).filter(move |&c| c != r).map(move |c| (r, c)))
            .map(|(r, c)| a[r][c] * a[r][c])
            .sum();
        let diag: f64 = (0..p).map(|r| a[r][r] * a[r][r]).sum();
        if off <= 1e-22 * diag.max(1e-300) {
            break;
        }
        for r in 0..p {
            for c in r + 1..p {
                if a[r][c].abs() < 1e-300 {
                    continue;
                }
                let theta = (a[c][c] - a[r][r]) / (2.0 * a[r][c]);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let cos = 1.0 / (t * t + 1.0).sqrt();
                let sin = t * cos;
                for k in 0..p {
                    let (akr, akc) = (a[k][r], a[k][c]);
                    a[k][r] = cos * akr - sin * akc;
                    a[k][c] = sin * akr + cos * akc;
                }
                for k in 0..p {
                    let (ark, ack) = (a[r][k], a[c][k]);
                    a[r][k] = cos * ark - sin * ack;
                    a[c][k] = sin * ark + cos * ack;
                }
                for row in v.iter_mut() {
                    let (vr, vc) = (row[r], row[c]);
                    row[r] = cos * vr - sin * vc;
                    row[c] = sin * vr + cos * vc;
                }
            }
        }
    }
    ((0..p).map(|i| a[i][i]).collect(), v)
}

/// Solves `a x = b` for symmetric positive definite `a` (Cholesky); `None` if not positive
/// definite.
fn solve_spd(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Option<Vec<f64>> {
    let p = b.len();
    for j in 0..p {
        let mut d = a[j][j];
        for k in 0..j {
            d -= a[j][k] * a[j][k];
        }
        if d <= 0.0 || !d.is_finite() {
            return None;
        }
        let d = d.sqrt();
        a[j][j] = d;
        for i in j + 1..p {
            let mut s = a[i][j];
            for k in 0..j {
                s -= a[i][k] * a[j][k];
            }
            a[i][j] = s / d;
        }
    }
    for i in 0..p {
        let mut s = b[i];
        for k in 0..i {
            s -= a[i][k] * b[k];
        }
        b[i] = s / a[i][i];
    }
    for i in (0..p).rev() {
        let mut s = b[i];
        for k in i + 1..p {
            s -= a[k][i] * b[k];
        }
        b[i] = s / a[i][i];
    }
    Some(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weighted_quantiles_of_equal_weights_match_the_median() {
        let v = [3.0, 1.0, 2.0];
        let w = [1.0, 1.0, 1.0];
        assert_eq!(weighted_quantile(&v, &w, 0.5), 2.0);
        assert_eq!(weighted_quantile(&v, &w, 0.0), 1.0);
        assert_eq!(weighted_quantile(&v, &w, 1.0), 3.0);
        // a value with no weight does not count
        assert_eq!(weighted_quantile(&[1.0, 100.0], &[1.0, 0.0], 0.9), 1.0);
    }

    #[test]
    fn adjustment_removes_a_linear_dependence() {
        // y = 2 + 3 x exactly: adjusted to the value at x = 0
        let x: Vec<Vec<f64>> = (0..20).map(|i| vec![i as f64 / 10.0 - 1.0]).collect();
        let y: Vec<f64> = x.iter().map(|r| 2.0 + 3.0 * r[0]).collect();
        let adj = adjust(&y, &x, &[1.0; 20]);
        for a in adj {
            assert!((a - 2.0).abs() < 0.01, "{a}");
        }
    }

    #[test]
    fn jacobi_finds_the_eigenvalues_of_a_known_matrix() {
        // [[2, 1], [1, 2]]: eigenvalues 1 and 3, eigenvectors (1, -1) and (1, 1) / √2
        let (mut vals, vecs) = jacobi_eigen(vec![vec![2.0, 1.0], vec![1.0, 2.0]]);
        let col_of_3 = if vals[0] > vals[1] { 0 } else { 1 };
        assert!((vecs[0][col_of_3] - vecs[1][col_of_3]).abs() < 1e-12);
        vals.sort_by(f64::total_cmp);
        assert!((vals[0] - 1.0).abs() < 1e-12 && (vals[1] - 3.0).abs() < 1e-12);
    }

    #[test]
    fn rank_counts_weight_below() {
        assert_eq!(rank(&[1.0, 2.0, 3.0, 4.0], &[1.0; 4], 2.5), 0.5);
        assert_eq!(rank(&[1.0, 2.0], &[3.0, 1.0], 2.0), 0.875);
    }
}
