//! Digit tests on polling-station counts, with a null calibrated by simulating clean elections.
//!
//! Sources:
//! - Second-digit Benford (2BL): Mebane, "Election forensics: vote counts and Benford's law"
//!   (2006) and "Election Forensics" (2008–): P(second digit = d) = Σ_{k=1..9} log10(1 + 1/(10k+d)),
//!   mean 4.1874; Pearson X² with 9 degrees of freedom.
//! - Last digit: Beber & Scacco, "What the numbers say: a digit-based test for election fraud",
//!   *Political Analysis* 20(2), 2012: last digits uniform (mean 4.5); X² with 9 d.f.
//! - Share of counts ending in 0 or 5 (expected 0.2): Mebane's "C05s" family of digit statistics
//!   (Kalinin & Mebane, Election Forensics Toolkit), here on the counts as REFERENCES.md §1 states.
//!
//! Owns: the digit statistics of a series of counts and their calibrated null. Never does: I/O;
//! the null's random streams are derived from the caller's seed.
//!
//! Why a calibrated null: the textbook distributions assume counts spread over many orders of
//! magnitude; polling-station counts of ~10²–10³ votes do not follow 2BL exactly, and with ~10⁵
//! stations the X² test rejects clean elections (Poland 2020 runoff: X² ≈ 188). So each
//! statistic is also compared with its distribution over `n_sims` clean elections simulated by
//! the Klimek model's fair part (f_i = f_e = 0) on the same station sizes: the report gives the
//! null's mean, standard deviation, 2.5 % and 97.5 % quantiles and an empirical p-value, next to
//! the textbook value and χ² p-value. Counts below [`MIN_COUNT`] have no second digit and are
//! skipped (in the data and in the simulations alike).

use rayon::prelude::*;

use super::klimek::{KlimekError, KlimekParams, simulate_stations};
use crate::rng::{AnalysisPurpose, analysis_stream};
use crate::stats::{chi_square_sf, mean_sd, normal_sf, pearson_chi_square, quantile_sorted};

/// Counts below this are skipped by every digit test (a second digit needs two digits).
pub const MIN_COUNT: u64 = 10;

/// Benford's second-digit probabilities, d = 0..9.
pub fn benford_second_digit() -> [f64; 10] {
    let mut p = [0.0; 10];
    for (d, pd) in p.iter_mut().enumerate() {
        *pd = (1..=9)
            .map(|k| (1.0 + 1.0 / (10 * k + d) as f64).log10())
            .sum();
    }
    p
}

/// The second significant digit of `n` ≥ 10.
pub fn second_digit(mut n: u64) -> u64 {
    while n >= 100 {
        n /= 10;
    }
    n % 10
}

/// Digit statistics of one series of counts.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct DigitStats {
    /// Counts used (≥ [`MIN_COUNT`]).
    pub n: usize,
    /// Pearson X² of second digits against Benford (9 d.f.).
    pub second_digit_chi2: f64,
    pub second_digit_mean: f64,
    /// Pearson X² of last digits against uniform (9 d.f.).
    pub last_digit_chi2: f64,
    pub last_digit_mean: f64,
    /// Share of counts ending in 0 or 5.
    pub share_0_or_5: f64,
}

/// Computes [`DigitStats`] of `counts` (counts below [`MIN_COUNT`] skipped).
pub fn digit_stats(counts: impl Iterator<Item = u64>) -> DigitStats {
    let mut second = [0u64; 10];
    let mut last = [0u64; 10];
    for c in counts.filter(|c| *c >= MIN_COUNT) {
        second[second_digit(c) as usize] += 1;
        last[(c % 10) as usize] += 1;
    }
    let n: u64 = last.iter().sum();
    let mean = |h: &[u64; 10]| {
        h.iter()
            .enumerate()
            .map(|(d, k)| d as f64 * *k as f64)
            .sum::<f64>()
            / n as f64
    };
    DigitStats {
        n: n as usize,
        second_digit_chi2: pearson_chi_square(&second, &benford_second_digit()),
        second_digit_mean: mean(&second),
        last_digit_chi2: pearson_chi_square(&last, &[0.1; 10]),
        last_digit_mean: mean(&last),
        share_0_or_5: (last[0] + last[5]) as f64 / n as f64,
    }
}

/// One statistic: observed, textbook reference, and the calibrated null.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct DigitTest {
    pub observed: f64,
    /// Textbook expectation (Benford mean 4.1874, uniform mean 4.5, 0/5 share 0.2, X² mean 9).
    pub textbook_expected: f64,
    /// Textbook p-value: χ²(9) upper tail for X², two-sided normal approximation for means and
    /// shares.
    pub textbook_p: f64,
    pub null_mean: f64,
    pub null_sd: f64,
    pub null_q025: f64,
    pub null_q975: f64,
    /// Calibrated p-value (1 + #{sims at least as extreme}) / (1 + sims): upper tail for X²,
    /// two-sided around the null mean for means and shares.
    pub calibrated_p: f64,
}

/// The digit tests of one count series.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct DigitSeries {
    /// Which counts: "leader votes" or "ballots issued".
    pub series: String,
    pub n: usize,
    pub second_digit_chi2: DigitTest,
    pub second_digit_mean: DigitTest,
    pub last_digit_chi2: DigitTest,
    pub last_digit_mean: DigitTest,
    pub share_0_or_5: DigitTest,
}

/// All digit tests with their calibration.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct DigitTests {
    /// Clean elections simulated for the null.
    pub null_simulations: usize,
    pub series: Vec<DigitSeries>,
}

/// Benford's second-digit mean, Σ d·P(d).
pub fn benford_second_digit_mean() -> f64 {
    benford_second_digit()
        .iter()
        .enumerate()
        .map(|(d, p)| d as f64 * p)
        .sum()
}

fn test(
    observed: f64,
    sims: &[f64],
    textbook_expected: f64,
    textbook_p: f64,
    upper_tail: bool,
) -> DigitTest {
    let (null_mean, null_sd) = mean_sd(sims);
    let mut sorted = sims.to_vec();
    sorted.sort_by(f64::total_cmp);
    let extreme = if upper_tail {
        sims.iter().filter(|s| **s >= observed).count()
    } else {
        let d = (observed - null_mean).abs();
        sims.iter().filter(|s| (*s - null_mean).abs() >= d).count()
    };
    DigitTest {
        observed,
        textbook_expected,
        textbook_p,
        null_mean,
        null_sd,
        null_q025: quantile_sorted(&sorted, 0.025),
        null_q975: quantile_sorted(&sorted, 0.975),
        calibrated_p: (1 + extreme) as f64 / (1 + sims.len()) as f64,
    }
}

/// Two-sided normal p-value of a mean of n i.i.d. digits with mean `mu` and variance `var`.
fn mean_p(observed: f64, mu: f64, var: f64, n: usize) -> f64 {
    let z = (observed - mu) / (var / n as f64).sqrt();
    (2.0 * normal_sf(z.abs())).min(1.0)
}

/// Runs the digit tests on the leader's votes and the ballots issued of `stations`
/// (`(issued, leader)` per station), calibrated by `n_sims` clean simulations of the Klimek fair
/// part in `clean` (its f_i and f_e are ignored and set to 0) on `electorates` (the same
/// stations' sizes, in the same order). Simulation k uses
/// `analysis_stream(seed, AnalysisPurpose::DigitNull, k)`.
pub fn digit_tests(
    stations: &[(u64, u64)],
    electorates: &[u64],
    clean: &KlimekParams,
    n_sims: usize,
    seed: u64,
) -> Result<DigitTests, KlimekError> {
    let clean = KlimekParams {
        f_incremental: 0.0,
        f_extreme: 0.0,
        ..*clean
    };
    clean.validate()?;
    let sims: Vec<[DigitStats; 2]> = (0..n_sims)
        .into_par_iter()
        .map(|k| {
            let mut rng = analysis_stream(seed, AnalysisPurpose::DigitNull, k as u64);
            let sim = simulate_stations(electorates, &clean, &mut rng)
                .expect("parameters validated above");
            [
                digit_stats(sim.iter().map(|s| s.winner)),
                digit_stats(sim.iter().map(|s| s.issued)),
            ]
        })
        .collect();
    let observed = [
        digit_stats(stations.iter().map(|s| s.1)),
        digit_stats(stations.iter().map(|s| s.0)),
    ];
    let benford_mean = benford_second_digit_mean();
    let benford_var: f64 = benford_second_digit()
        .iter()
        .enumerate()
        .map(|(d, p)| p * (d as f64 - benford_mean).powi(2))
        .sum();
    let series = ["leader votes", "ballots issued"]
        .iter()
        .enumerate()
        .map(|(j, name)| {
            let o = observed[j];
            let col = |f: fn(&DigitStats) -> f64| sims.iter().map(|s| f(&s[j])).collect::<Vec<_>>();
            DigitSeries {
                series: name.to_string(),
                n: o.n,
                second_digit_chi2: test(
                    o.second_digit_chi2,
                    &col(|s| s.second_digit_chi2),
                    9.0,
                    chi_square_sf(o.second_digit_chi2, 9.0),
                    true,
                ),
                second_digit_mean: test(
                    o.second_digit_mean,
                    &col(|s| s.second_digit_mean),
                    benford_mean,
                    mean_p(o.second_digit_mean, benford_mean, benford_var, o.n),
                    false,
                ),
                last_digit_chi2: test(
                    o.last_digit_chi2,
                    &col(|s| s.last_digit_chi2),
                    9.0,
                    chi_square_sf(o.last_digit_chi2, 9.0),
                    true,
                ),
                last_digit_mean: test(
                    o.last_digit_mean,
                    &col(|s| s.last_digit_mean),
                    4.5,
                    mean_p(o.last_digit_mean, 4.5, 8.25, o.n),
                    false,
                ),
                share_0_or_5: test(
                    o.share_0_or_5,
                    &col(|s| s.share_0_or_5),
                    0.2,
                    mean_p(o.share_0_or_5, 0.2, 0.16, o.n),
                    false,
                ),
            }
        })
        .collect();
    Ok(DigitTests {
        null_simulations: n_sims,
        series,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn benford_second_digit_is_a_distribution_with_the_known_mean() {
        let p = benford_second_digit();
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert!((benford_second_digit_mean() - 4.1874).abs() < 1e-4);
        assert!((p[0] - 0.11968).abs() < 1e-5);
    }

    #[test]
    fn digits_of_counts() {
        assert_eq!(second_digit(10), 0);
        assert_eq!(second_digit(47), 7);
        assert_eq!(second_digit(123_456), 2);
        let s = digit_stats([5u64, 10, 15, 20, 25, 33].into_iter());
        assert_eq!(s.n, 5);
        assert!((s.share_0_or_5 - 0.8).abs() < 1e-12);
        assert!((s.last_digit_mean - 2.6).abs() < 1e-12);
    }

    #[test]
    fn heaped_counts_are_caught_by_the_calibrated_null() {
        use super::super::klimek::{EXTREME_SD, FairPart};
        let fair = KlimekParams {
            fair: FairPart {
                turnout_mean: 0.6,
                turnout_sd: 0.1,
                share_mean: 0.5,
                share_sd: 0.1,
            },
            incremental_sd: 0.3,
            extreme_sd: EXTREME_SD,
            f_incremental: 0.0,
            f_extreme: 0.0,
            alpha: 1.0,
        };
        let n: Vec<u64> = (0..3000).map(|i| 400 + (i * 131) % 1600).collect();
        let mut rng = analysis_stream(9, AnalysisPurpose::KlimekImplied, 0);
        let sim = simulate_stations(&n, &fair, &mut rng).unwrap();
        // Clean data against its own null: not extreme.
        let clean: Vec<(u64, u64)> = sim.iter().map(|s| (s.issued, s.winner)).collect();
        let t = digit_tests(&clean, &n, &fair, 99, 1).unwrap();
        assert!(
            t.series[0].share_0_or_5.calibrated_p > 0.01,
            "{:?}",
            t.series[0]
        );
        // Rounding every fifth leader count to a multiple of 10: the 0/5 share jumps.
        let heaped: Vec<(u64, u64)> = clean
            .iter()
            .enumerate()
            .map(|(i, &(a, w))| (a, if i % 5 == 0 { w / 10 * 10 } else { w }))
            .collect();
        let t = digit_tests(&heaped, &n, &fair, 99, 1).unwrap();
        assert!(
            t.series[0].share_0_or_5.calibrated_p <= 0.01,
            "{:?}",
            t.series[0]
        );
        assert!(t.series[0].last_digit_chi2.calibrated_p <= 0.01);
    }
}
