//! Samplers: exact draws from the distributions the simulator needs, one of each — binomial
//! ([`binomial`], and [`BinomialTable`] for a fixed probability), multinomial ([`multinomial`]),
//! categorical counts and single categorical draws ([`pick`] over [`cumulative`] thresholds),
//! thinning ([`thin`]) — and the table-driven [`exp`] the station path's noise uses.
//!
//! Pure functions of a [`crate::rng::StreamRng`]; no I/O, no allocation per draw (a
//! [`BinomialTable`] builds a row the first time a trial count is seen). Above `rng` and
//! `stats` only.

mod binomial;
mod exp;
mod multinomial;

pub use binomial::{BinomialTable, binomial, binomial_rand_distr};
pub use exp::exp;
pub use multinomial::{cumulative, multinomial, pick, thin, thin_with};

#[cfg(test)]
mod tests {
    use super::binomial::*;
    use super::exp::*;
    use super::multinomial::*;
    use crate::rng::{Purpose, StreamRng, stream};

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

    #[test]
    fn pick_covers_all_mass() {
        let mut cum = Vec::new();
        cumulative([0.5, 0.0, 0.5].into_iter(), &mut cum);
        assert_eq!(pick(&cum, 0), 0);
        assert_eq!(pick(&cum, u64::MAX), 2);
        assert_eq!(pick(&cum, 1u64 << 63), 2);
    }
}
