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
//! statistic is compared with its distribution over `n_sims` clean elections matched to the
//! election itself — a parametric bootstrap of the observed stations: station i's ballots issued
//! ~ Binomial(registered_i, issued_i/registered_i) and the leader's votes ~ Binomial(ballots_i,
//! leader_i/ballots_i), independently. That keeps every station's size and vote share (so the
//! digits' dependence on magnitudes is in the null) and removes only what a forger adds on top
//! (heaped, rounded or invented figures). The report gives the null's mean, standard deviation,
//! 2.5 % and 97.5 % quantiles and a two-sided calibrated p-value (too regular is evidence as
//! much as too irregular), next to the textbook value and p. When the observation is beyond
//! every simulation the empirical p-value is only bounded (≤ 2/(n_sims + 1)); the tail is then
//! taken from a moment-matched normal (means, 0/5 share) or scaled χ² (X²) fitted to the null.
//! A test reports no power when fewer than [`MIN_COUNTS_FOR_POWER`] counts are usable. Counts
//! below [`MIN_COUNT`] have no second digit and are skipped (in the data and in the simulations
//! alike).

use rayon::prelude::*;

use rand_distr::{Binomial, Distribution};

use super::stations::StationFigures;
use crate::rng::{AnalysisPurpose, analysis_stream};
use crate::stats::{chi_square_sf, mean_sd, normal_sf, pearson_chi_square, quantile_sorted};

/// Below this many usable counts a digit test has no power worth reporting.
pub const MIN_COUNTS_FOR_POWER: usize = 200;

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
    /// Two-sided calibrated p-value, 2·min(1 + #{sims ≥ observed}, 1 + #{sims ≤ observed}) /
    /// (1 + sims), at most 1; when the observation is beyond every simulation, the tail of a
    /// distribution moment-matched to the null (capped at that floor).
    pub calibrated_p: f64,
    /// True when `calibrated_p` is the smallest value the simulations can resolve: read it as
    /// "≤ calibrated_p" (or the moment-matched tail below it).
    pub at_floor: bool,
    /// Which side the observation lies on: "high" (above the null mean) or "low".
    pub side: &'static str,
}

/// The digit tests of one count series.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct DigitSeries {
    /// Which counts: "leader votes" or "ballots issued".
    pub series: String,
    pub n: usize,
    /// False when too few counts are usable for the tests to detect anything
    /// (n < [`MIN_COUNTS_FOR_POWER`]).
    pub has_power: bool,
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
    chi_square: bool,
) -> DigitTest {
    let (null_mean, null_sd) = mean_sd(sims);
    let mut sorted = sims.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sims.len() as f64;
    let above = sims.iter().filter(|s| **s >= observed).count() as f64;
    let below = sims.iter().filter(|s| **s <= observed).count() as f64;
    let floor = (2.0 / (n + 1.0)).min(1.0);
    let empirical = (2.0 * (1.0 + above.min(below)) / (n + 1.0)).min(1.0);
    let at_floor = above.min(below) == 0.0;
    let calibrated_p = if at_floor && null_sd > 0.0 {
        let tail = if chi_square && null_mean > 0.0 {
            // a·χ²(k) with the null's mean and variance: k = 2 mean²/var, a = var/(2 mean)
            let var = null_sd * null_sd;
            let k = 2.0 * null_mean * null_mean / var;
            let a = var / (2.0 * null_mean);
            let x = observed / a;
            let upper = chi_square_sf(x, k);
            if observed >= null_mean {
                upper
            } else {
                1.0 - upper
            }
        } else {
            normal_sf(((observed - null_mean) / null_sd).abs())
        };
        (2.0 * tail).min(floor)
    } else {
        empirical
    };
    DigitTest {
        observed,
        textbook_expected,
        textbook_p,
        null_mean,
        null_sd,
        null_q025: quantile_sorted(&sorted, 0.025),
        null_q975: quantile_sorted(&sorted, 0.975),
        calibrated_p,
        at_floor,
        side: if observed >= null_mean { "high" } else { "low" },
    }
}

/// Two-sided normal p-value of a mean of n i.i.d. digits with mean `mu` and variance `var`.
fn mean_p(observed: f64, mu: f64, var: f64, n: usize) -> f64 {
    let z = (observed - mu) / (var / n as f64).sqrt();
    (2.0 * normal_sf(z.abs())).min(1.0)
}

/// Runs the digit tests on the leader's votes and the ballots issued of `stations`, calibrated
/// by `n_sims` parametric-bootstrap simulations of the same stations (see the module docs).
/// Simulation k uses `analysis_stream(seed, AnalysisPurpose::DigitNull, k)`.
pub fn digit_tests(stations: &[StationFigures], n_sims: usize, seed: u64) -> DigitTests {
    let sims: Vec<[DigitStats; 2]> = (0..n_sims)
        .into_par_iter()
        .map(|k| {
            let mut rng = analysis_stream(seed, AnalysisPurpose::DigitNull, k as u64);
            let mut leader = Vec::with_capacity(stations.len());
            let mut issued = Vec::with_capacity(stations.len());
            for c in stations {
                issued.push(binomial(c.registered, c.issued, &mut rng));
                leader.push(binomial(c.ballots, c.leader, &mut rng));
            }
            [
                digit_stats(leader.into_iter()),
                digit_stats(issued.into_iter()),
            ]
        })
        .collect();
    let pairs: Vec<(u64, u64)> = stations.iter().map(|c| (c.issued, c.leader)).collect();
    let stations = &pairs;
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
                has_power: o.n >= MIN_COUNTS_FOR_POWER,
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
    DigitTests {
        null_simulations: n_sims,
        series,
    }
}

/// A draw from Binomial(n, k/n): a count like `k` out of `n` under pure sampling noise.
fn binomial(n: u64, k: u64, rng: &mut crate::rng::StreamRng) -> u64 {
    if n == 0 || k == 0 {
        return 0;
    }
    if k >= n {
        return n;
    }
    Binomial::new(n, k as f64 / n as f64)
        .map(|b| b.sample(rng))
        .unwrap_or(k)
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
        use super::super::klimek::{EXTREME_SD, FairPart, KlimekParams, simulate_stations};
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
        let clean: Vec<StationFigures> = sim.iter().enumerate().map(|(i, s)| s.counts(i)).collect();
        // Clean data against its own null: not extreme.
        let t = digit_tests(&clean, 99, 1);
        assert!(t.series[0].has_power);
        for s in &t.series {
            for x in [&s.share_0_or_5, &s.last_digit_chi2, &s.last_digit_mean] {
                assert!(x.calibrated_p > 0.01, "{s:?}");
            }
        }
        // Rounding every fifth leader count to a multiple of 10: the 0/5 share jumps.
        let heaped: Vec<StationFigures> = clean
            .iter()
            .enumerate()
            .map(|(i, c)| StationFigures {
                leader: if i % 5 == 0 {
                    c.leader / 10 * 10
                } else {
                    c.leader
                },
                ..*c
            })
            .collect();
        let t = digit_tests(&heaped, 99, 1);
        let s = &t.series[0];
        assert!(
            s.share_0_or_5.calibrated_p <= 0.02 && s.share_0_or_5.at_floor,
            "{s:?}"
        );
        assert_eq!(s.share_0_or_5.side, "high");
        assert!(s.last_digit_chi2.calibrated_p <= 0.02);
        // too regular is evidence too: perfectly uniform last digits are far below the null X²
        let regular: Vec<StationFigures> = clean
            .iter()
            .enumerate()
            .map(|(i, c)| StationFigures {
                leader: c.leader / 10 * 10 + (i % 10) as u64,
                ..*c
            })
            .filter(|c| c.leader <= c.ballots)
            .collect();
        let t = digit_tests(&regular, 99, 1);
        let x = &t.series[0].last_digit_chi2;
        assert_eq!(x.side, "low", "{x:?}");
        assert!(x.calibrated_p <= 0.02, "{x:?}");
    }

    #[test]
    fn few_counts_have_no_power() {
        let st: Vec<StationFigures> = (0..50)
            .map(|i| StationFigures {
                station_idx: i,
                registered: 500,
                issued: 300,
                ballots: 300,
                leader: 150 + i as u64,
            })
            .collect();
        let t = digit_tests(&st, 19, 1);
        assert!(!t.series[0].has_power);
    }
}
