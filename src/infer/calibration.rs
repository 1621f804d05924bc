//! Simulation-based calibration (Talts, Betancourt, Simpson, Vehtari & Gelman 2018,
//! arXiv:1804.06788) of the whole inference: draw true parameters from the prior, simulate an
//! election with them, infer, and record where the truth falls in its posterior (the weighted
//! share of posterior values below it). For a calibrated procedure these ranks are uniform on
//! [0, 1] and a nominal 90 % central interval covers the truth 90 % of the time; an
//! over-confident posterior piles ranks at the ends and covers less.
//!
//! [`sbc`] also records the same for the derived quantities (votes added, seats moved…: the
//! truth is what fraud did in the synthetic election), and can shrink every posterior towards
//! its median by a factor to show that the check catches over-confidence.

use super::abc::{self, AbcModel, Settings};
use super::election::ElectionModel;
use super::posterior::{Interval, rank, weighted_quantile};
use crate::rng::{AnalysisPurpose, analysis_stream, unit};
use crate::sim::Workspace;
use std::sync::atomic::AtomicBool;

/// Ranks and coverage of one quantity over the replicates.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Calibration {
    pub name: String,
    /// Rank of the truth in each replicate's posterior, in [0, 1].
    pub ranks: Vec<f64>,
    /// Whether each replicate's 90 % interval contained the truth.
    pub covered: Vec<bool>,
}

impl Calibration {
    /// Share of replicates whose 90 % interval covered the truth.
    pub fn coverage(&self) -> f64 {
        self.covered.iter().filter(|&&c| c).count() as f64 / self.covered.len().max(1) as f64
    }

    /// The ranks counted in `bins` equal bins of [0, 1], lowest first.
    pub fn rank_counts(&self, bins: usize) -> Vec<u64> {
        let mut counts = vec![0u64; bins.max(1)];
        for &r in &self.ranks {
            counts[((r * bins as f64) as usize).min(bins.max(1) - 1)] += 1;
        }
        counts
    }

    /// p-value of Pearson's χ² test that the ranks are uniform over `bins` equal bins.
    pub fn uniformity_p(&self, bins: usize) -> f64 {
        let counts = self.rank_counts(bins);
        let x2 = crate::stats::pearson_chi_square(&counts, &vec![1.0 / bins as f64; bins]);
        crate::stats::chi_square_sf(x2, (bins - 1) as f64)
    }
}

/// Runs `replicates` synthetic inferences of candidate `m` of `em` (its observed values are
/// replaced by each synthetic election's). For each factor in `shrinks`, every posterior value is
/// pulled towards its median by that factor (1: the posterior as inferred; below 1: an
/// over-confident one), from the same inferences. Returns, per factor, one [`Calibration`] per
/// parameter, then one per derived quantity in `derived` (indices into the derived vector).
pub fn sbc(
    em: &mut ElectionModel<'_>,
    m: usize,
    settings: &Settings,
    replicates: u64,
    derived: &[(usize, String)],
    shrinks: &[f64],
) -> Vec<Vec<Calibration>> {
    let stop = AtomicBool::new(false);
    let space = em.candidates[m].space.clone();
    let one: Vec<Calibration> = em.candidates[m]
        .parameters
        .iter()
        .map(|(_, _, l)| l.clone())
        .chain(derived.iter().map(|(_, n)| n.clone()))
        .map(|name| Calibration {
            name,
            ranks: Vec::new(),
            covered: Vec::new(),
        })
        .collect();
    let mut out = vec![one; shrinks.len()];
    let mut ws = Workspace::default();
    for r in 0..replicates {
        let mut rng = analysis_stream(settings.seed, AnalysisPurpose::InferTruth, r);
        let truth: Vec<f64> = loop {
            let t: Vec<f64> = space
                .iter()
                .map(|&(lo, hi)| lo + unit(&mut rng) * (hi - lo))
                .collect();
            if em.admissible(m, &t) {
                break t;
            }
        };
        let synthetic = em.simulate(m, &truth, abc::key(0xFFFE, r), &mut ws);
        em.observed.values = synthetic.summaries.clone();
        let s = Settings {
            seed: settings.seed ^ crate::rng::mix64(r + 1),
            ..*settings
        };
        let res = abc::run(&*em, &s, &stop, &mut |_, _| {});
        let a = super::adjusted(em, &res, m);
        let truths = truth
            .iter()
            .copied()
            .chain(derived.iter().map(|&(j, _)| synthetic.derived[j]));
        let samples = a
            .theta
            .iter()
            .chain(derived.iter().map(|&(j, _)| &a.derived[j]));
        for (q, (t, vals)) in truths.zip(samples).enumerate() {
            let med = weighted_quantile(vals, &a.weights, 0.5);
            for (cals, &shrink) in out.iter_mut().zip(shrinks) {
                let vals: Vec<f64> = vals.iter().map(|v| med + shrink * (v - med)).collect();
                cals[q].ranks.push(rank(&vals, &a.weights, t));
                cals[q]
                    .covered
                    .push(Interval::of(&vals, &a.weights).contains90(t));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_are_counted_per_tenth_and_tested_for_uniformity() {
        let c = |ranks: Vec<f64>| Calibration {
            name: "q".into(),
            covered: vec![true; ranks.len()],
            ranks,
        };
        // a rank of exactly 1 counts in the top bin; 0.1 opens the second
        let edges = c(vec![0.0, 0.05, 0.1, 0.95, 1.0]);
        assert_eq!(edges.rank_counts(10), [2, 1, 0, 0, 0, 0, 0, 0, 0, 2]);
        // 200 ranks spread evenly: uniform; the same piled in the middle (a posterior wider
        // than the truth's spread) or at both ends (an over-confident one): rejected
        let even = c((0..200).map(|i| (i as f64 + 0.5) / 200.0).collect());
        assert_eq!(even.rank_counts(10), [20; 10]);
        assert!(even.uniformity_p(10) > 0.99);
        let middle = c((0..200)
            .map(|i| 0.3 + 0.4 * (i as f64 + 0.5) / 200.0)
            .collect());
        assert_eq!(middle.rank_counts(10), [0, 0, 0, 50, 50, 50, 50, 0, 0, 0]);
        assert!(middle.uniformity_p(10) < 1e-6);
        let ends = c((0..200)
            .map(|i| if i % 2 == 0 { 0.01 } else { 0.99 })
            .collect());
        assert!(ends.uniformity_p(10) < 1e-6);
    }
}
