//! The detection matrix: each detector's false-alarm rate on honest variants and its power
//! against each fraud variant, with intervals and costs; and the seat effects of fraud.
//!
//! Calibration (REFERENCES: thresholds from honest runs, never textbook critical values): a
//! calibrated detector's threshold is the ⌈(1 − α)·n⌉-th smallest statistic among the `n` runs
//! of the fraud variant's honest baseline; it fires on a statistic strictly above. The
//! false-alarm rate reported for an honest variant is measured out of sample by two-fold cross
//! validation (threshold from the even runs applied to the odd ones, and the reverse), so it is
//! an honest estimate rather than ≤ α by construction. Intervals are Wilson score intervals at
//! 95 % (Wilson 1927). Pure functions over run outcomes.

use super::{Detector, DetectorKind, Readings};
use crate::model::Scenario;
use serde::Serialize;

/// A run's outcome as far as the matrix is concerned: its readings.
pub trait HasReadings {
    fn readings(&self) -> &Readings;
}

/// z for a two-sided 95 % interval.
const Z95: f64 = 1.959_963_984_540_054;

/// A proportion with its 95 % Wilson interval.
#[derive(Clone, Copy, Debug, Serialize, PartialEq)]
pub struct Rate {
    pub rate: f64,
    pub low: f64,
    pub high: f64,
    pub runs: usize,
}

impl Rate {
    /// Wilson score interval for `k` successes in `n` trials.
    pub fn wilson(k: usize, n: usize) -> Rate {
        if n == 0 {
            return Rate {
                rate: f64::NAN,
                low: 0.0,
                high: 1.0,
                runs: 0,
            };
        }
        let nf = n as f64;
        let p = k as f64 / nf;
        let z2 = Z95 * Z95;
        let denom = 1.0 + z2 / nf;
        let centre = (p + z2 / (2.0 * nf)) / denom;
        let half = Z95 * (p * (1.0 - p) / nf + z2 / (4.0 * nf * nf)).sqrt() / denom;
        // exact at the ends: no rounding residue like 1.7e-18 for none of n
        Rate {
            rate: p,
            low: if k == 0 {
                0.0
            } else {
                (centre - half).max(0.0)
            },
            high: if k >= n {
                1.0
            } else {
                (centre + half).min(1.0)
            },
            runs: n,
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct FalseAlarm {
    pub variant: String,
    pub false_alarm_rate: Rate,
    /// A risk-limiting audit's risk and workload on this variant.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audit: Option<AuditFigures>,
}

/// A risk-limiting audit's figures over a variant's runs: its measured risk (of the runs whose
/// reported outcome is wrong on the paper, the share it confirmed; `runs` is how many were
/// wrong), the share of runs with some contest counted in full by hand, and its workload in
/// ballots examined by hand, full hand counts included.
#[derive(Clone, Debug, Serialize)]
pub struct AuditFigures {
    pub risk: Rate,
    pub full_hand_count: Rate,
    pub mean_ballots: f64,
    pub p95_ballots: f64,
}

fn audit_figures<O: HasReadings>(runs: &[O], d: Detector) -> Option<AuditFigures> {
    if !d.is_audit() {
        return None;
    }
    let (mut wrong, mut confirmed, mut full, mut costs) = (0, 0, 0, Vec::new());
    for o in runs {
        let r = &o.readings()[d];
        let Some(v) = r.value else { continue };
        let a = super::AuditReading::of(v);
        wrong += usize::from(a.wrong);
        confirmed += usize::from(a.confirmed_wrong);
        full += usize::from(a.escalated);
        costs.push(r.cost);
    }
    if costs.is_empty() {
        return None;
    }
    let mean_ballots = costs.iter().sum::<f64>() / costs.len() as f64;
    costs.sort_by(f64::total_cmp);
    Some(AuditFigures {
        risk: Rate::wilson(confirmed, wrong),
        full_hand_count: Rate::wilson(full, costs.len()),
        mean_ballots,
        p95_ballots: crate::stats::quantile_sorted(&costs, 0.95),
    })
}

#[derive(Clone, Debug, Serialize)]
pub struct Power {
    pub variant: String,
    pub baseline: String,
    pub power: Rate,
    /// The calibrated threshold (calibrated detectors only).
    pub threshold: Option<f64>,
    /// Mean cost per run (in the detector's cost unit).
    pub mean_cost: f64,
    /// A risk-limiting audit's risk and workload on this variant.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audit: Option<AuditFigures>,
}

#[derive(Clone, Debug, Serialize)]
pub struct DetectorSummary {
    pub name: &'static str,
    pub kind: DetectorKind,
    pub cost_unit: &'static str,
    pub description: &'static str,
    /// On each honest variant (where the detector applies).
    pub false_alarm: Vec<FalseAlarm>,
    /// Against each fraud variant (where the detector applies).
    pub power: Vec<Power>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Detection {
    /// The false-alarm rate calibrated detectors are set to.
    pub target_false_alarm_rate: f64,
    /// The risk limit of the audit detectors (`rla_risk_limit`), when they run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub risk_limit: Option<f64>,
    pub detectors: Vec<DetectorSummary>,
}

/// Threshold: the ⌈(1 − α)·n⌉-th smallest of `stats` (fires strictly above).
pub fn threshold(stats: &[f64], alpha: f64) -> Option<f64> {
    let mut s: Vec<f64> = stats.iter().copied().filter(|x| x.is_finite()).collect();
    if s.is_empty() {
        return None;
    }
    s.sort_by(f64::total_cmp);
    let rank = ((1.0 - alpha) * s.len() as f64).ceil() as usize;
    Some(s[rank.clamp(1, s.len()) - 1])
}

fn values<O: HasReadings>(runs: &[O], d: Detector) -> Vec<Option<f64>> {
    runs.iter().map(|o| o.readings()[d].value).collect()
}

fn fired_count(vals: &[Option<f64>], kind: DetectorKind, thr: Option<f64>) -> (usize, usize) {
    let mut k = 0;
    let mut n = 0;
    for v in vals.iter().flatten() {
        n += 1;
        let fired = match kind {
            DetectorKind::Deterministic => *v > 0.5,
            DetectorKind::Calibrated => thr.is_some_and(|t| *v > t),
        };
        k += usize::from(fired);
    }
    (k, n)
}

/// Builds the detection matrix from per-variant outcomes (same order as scenario variants).
pub fn detection<O: HasReadings>(scenario: &Scenario, outcomes: &[Vec<O>]) -> Detection {
    let alpha = scenario.detectors.false_alarm_rate;
    let mut detectors = Vec::new();
    for d in Detector::ALL {
        let info = d.info();
        let mut false_alarm = Vec::new();
        let mut power = Vec::new();
        for (vi, v) in scenario.variants.iter().enumerate() {
            let vals = values(&outcomes[vi], d);
            if vals.iter().all(Option::is_none) {
                continue;
            }
            if v.is_honest() {
                let rate = match info.kind {
                    DetectorKind::Deterministic => {
                        let (k, n) = fired_count(&vals, info.kind, None);
                        Rate::wilson(k, n)
                    }
                    DetectorKind::Calibrated => {
                        // two-fold cross-validation over even and odd runs
                        let even: Vec<Option<f64>> = vals.iter().step_by(2).copied().collect();
                        let odd: Vec<Option<f64>> =
                            vals.iter().skip(1).step_by(2).copied().collect();
                        let t_even =
                            threshold(&even.iter().flatten().copied().collect::<Vec<_>>(), alpha);
                        let t_odd =
                            threshold(&odd.iter().flatten().copied().collect::<Vec<_>>(), alpha);
                        let (k1, n1) = fired_count(&odd, info.kind, t_even);
                        let (k2, n2) = fired_count(&even, info.kind, t_odd);
                        Rate::wilson(k1 + k2, n1 + n2)
                    }
                };
                false_alarm.push(FalseAlarm {
                    variant: v.name.clone(),
                    false_alarm_rate: rate,
                    audit: audit_figures(&outcomes[vi], d),
                });
            } else if let Some(b) = scenario.baseline_of(vi) {
                let base_vals: Vec<f64> = values(&outcomes[b], d).into_iter().flatten().collect();
                let thr = match info.kind {
                    DetectorKind::Deterministic => None,
                    DetectorKind::Calibrated => threshold(&base_vals, alpha),
                };
                let (k, n) = fired_count(&vals, info.kind, thr);
                let runs = &outcomes[vi];
                let mean_cost = runs.iter().map(|o| o.readings()[d].cost).sum::<f64>()
                    / runs.len().max(1) as f64;
                power.push(Power {
                    variant: v.name.clone(),
                    baseline: scenario.variants[b].name.clone(),
                    power: Rate::wilson(k, n),
                    threshold: thr,
                    mean_cost,
                    audit: audit_figures(runs, d),
                });
            }
        }
        detectors.push(DetectorSummary {
            name: info.name,
            kind: info.kind,
            cost_unit: info.cost_unit,
            description: info.description,
            false_alarm,
            power,
        });
    }
    Detection {
        target_false_alarm_rate: alpha,
        risk_limit: scenario.detectors.rla_risk_limit,
        detectors,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wilson_matches_a_textbook_value() {
        // 81 of 263 (Wilson 1927 style example): 0.3080, interval ≈ [0.2553, 0.3662]
        let r = Rate::wilson(81, 263);
        assert!((r.low - 0.2553).abs() < 5e-4, "{r:?}");
        assert!((r.high - 0.3662).abs() < 5e-4, "{r:?}");
        let z = Rate::wilson(0, 100);
        assert!(z.low.abs() < 1e-12, "{z:?}");
        assert!((z.high - 0.037).abs() < 1e-3, "{z:?}");
    }

    #[test]
    fn threshold_leaves_at_most_alpha_above() {
        let stats: Vec<f64> = (1..=100).map(|x| x as f64).collect();
        let t = threshold(&stats, 0.05).unwrap();
        assert_eq!(t, 95.0);
        assert_eq!(stats.iter().filter(|&&x| x > t).count(), 5);
    }
}
