//! The plain-words reading that leads the forensics report: which tests speak, how strongly,
//! what they can and cannot show.
//!
//! Owns: the decision of what "flags" means. Every test with a p-value (the integer-percentage
//! excess, one-sided; each digit statistic with power, two-sided against its matched null) joins
//! one family, and a test flags when its Holm-adjusted p-value is at most 5 %: with a dozen tests,
//! one raw p below 0.05 is expected by chance alone in a clean election. The model-based answers
//! (the Klimek fit, the votes in question, Shpilkin's estimate) are described, with their
//! intervals and the fit's warnings, never counted as tests. Never does: compute statistics.

use super::report::{Report, p_value, pct, thousands};
use crate::stats::normal_sf;

/// The family-wise level at which a test "flags".
pub const LEVEL: f64 = 0.05;

/// One test in the family.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Finding {
    pub test: String,
    /// The raw p-value and the Holm-adjusted one.
    pub p: f64,
    pub p_holm: f64,
    /// True when `p` is a bound ("≤ p"): the observation is beyond every simulation.
    pub p_is_bound: bool,
    pub flags: bool,
    /// What the result means, in words.
    pub says: String,
}

/// The reading.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Reading {
    /// A few sentences: the overall answer.
    pub summary: Vec<String>,
    pub tests: Vec<Finding>,
    /// What the tests and models cannot show, where it applies.
    pub caveats: Vec<String>,
}

/// Holm's step-down adjustment of `p` (same order out).
pub fn holm(p: &[f64]) -> Vec<f64> {
    let m = p.len();
    let mut idx: Vec<usize> = (0..m).collect();
    idx.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
    let mut out = vec![f64::NAN; m];
    let mut running: f64 = 0.0;
    for (rank, &i) in idx.iter().enumerate() {
        let adj = ((m - rank) as f64 * p[i]).min(1.0);
        running = running.max(adj);
        out[i] = running;
    }
    out
}

/// Builds the reading of a report (the `reading` field is ignored).
pub fn read(r: &Report) -> Reading {
    let mut tests: Vec<Finding> = Vec::new();
    let it = &r.integer.either;
    if it.z.is_finite() {
        tests.push(Finding {
            test: "integer percentages (Kobak et al.)".into(),
            p: normal_sf(it.z),
            p_holm: f64::NAN,
            p_is_bound: false,
            flags: false,
            says: format!(
                "{} stations at a whole-number turnout or share, {:+.0} against the {:.0} expected without rounding to whole percentages (z = {:.2})",
                thousands(it.observed),
                it.excess,
                it.expected,
                it.z
            ),
        });
    }
    let mut without_power = Vec::new();
    for s in &r.digits.series {
        if !s.has_power {
            without_power.push(s.series.clone());
            continue;
        }
        for (name, t) in [
            ("last digit X²", &s.last_digit_chi2),
            ("share ending in 0 or 5", &s.share_0_or_5),
            ("second digit X² (2BL)", &s.second_digit_chi2),
            ("last digit mean", &s.last_digit_mean),
            ("second digit mean", &s.second_digit_mean),
        ] {
            if !t.calibrated_p.is_finite() {
                continue;
            }
            let how = if t.side == "high" { "above" } else { "below" };
            tests.push(Finding {
                test: format!("{name}, {}", s.series),
                p: t.calibrated_p,
                p_holm: f64::NAN,
                p_is_bound: t.at_floor,
                flags: false,
                says: format!(
                    "{:.3} {how} the matched clean-election range {:.3}–{:.3}",
                    t.observed, t.null_q025, t.null_q975
                ),
            });
        }
    }
    let adj = holm(&tests.iter().map(|t| t.p).collect::<Vec<_>>());
    for (t, a) in tests.iter_mut().zip(adj) {
        t.p_holm = a;
        t.flags = a <= LEVEL;
    }

    let mut summary = Vec::new();
    let flagged: Vec<&Finding> = tests.iter().filter(|t| t.flags).collect();
    if flagged.is_empty() {
        summary.push(format!(
            "No test flags this election at the 5 % level (Holm's correction across the {} tests with a p-value).",
            tests.len()
        ));
    } else {
        let names: Vec<String> = flagged
            .iter()
            .map(|t| {
                format!(
                    "{} (p {}{})",
                    t.test,
                    if t.p_is_bound && t.p >= 1e-16 {
                        "≤ "
                    } else {
                        ""
                    },
                    p_value(t.p)
                )
            })
            .collect();
        summary.push(format!(
            "{} of {} tests flag this election at the 5 % level after Holm's correction: {}.",
            flagged.len(),
            tests.len(),
            names.join("; ")
        ));
    }
    let mut caveats = Vec::new();
    match &r.klimek {
        Some(k) => {
            let (fi, fe) = (&k.f_incremental, &k.f_extreme);
            let interval = |e: &crate::forensics::stats::klimek_fit::ParamEstimate| {
                if e.lo.is_finite() {
                    format!(" (90 % interval {}–{})", pct(e.lo), pct(e.hi))
                } else {
                    String::new()
                }
            };
            let misfits = !k.fit.warnings.is_empty();
            for w in &k.fit.warnings {
                summary.push(w.clone());
            }
            summary.push(format!(
                "{} puts {} of stations under incremental fraud{} and {} under extreme fraud{}.",
                if misfits {
                    "Since it misfits, read this as a summary only: the Klimek model's best fit to the turnout × share distribution"
                } else {
                    "The Klimek model, fitted to the turnout × share distribution,"
                },
                pct(fi.estimate),
                interval(fi),
                pct(fe.estimate),
                interval(fe)
            ));
            let v = &k.votes.total;
            if fi.estimate + fe.estimate >= 0.01 && !misfits {
                summary.push(format!(
                    "Taken at its word, the fitted model added or moved {} leader votes{} — a model-based figure that holds only if the model is right.",
                    thousands(v.estimate.max(0.0).round() as u64),
                    if v.lo.is_finite() {
                        format!(
                            " (90 % interval {}–{})",
                            thousands(v.lo.max(0.0).round() as u64),
                            thousands(v.hi.max(0.0).round() as u64)
                        )
                    } else {
                        String::new()
                    }
                ));
            }
            if k.solutions.len() > 1 {
                let close = k
                    .solutions
                    .iter()
                    .skip(1)
                    .filter(|s| s.deviance_gap < crate::forensics::stats::klimek_fit::COMPETING_GAP)
                    .count();
                if close > 0 {
                    summary.push(format!(
                        "The fit has {} competing solution(s) almost as good as the best one (listed in the Klimek section): the data does not decide between them.",
                        close
                    ));
                }
            }
            let at_bounds: Vec<String> = [
                ("α", &k.alpha),
                ("θ", &k.incremental_sd),
                ("σ_τ", &k.turnout_sd),
                ("σ_ν", &k.share_sd),
            ]
            .iter()
            .filter_map(|(n, e)| e.at_bound.map(|b| format!("{n} at its {b} search bound")))
            .collect();
            if !at_bounds.is_empty() && fi.estimate + fe.estimate >= 0.01 {
                caveats.push(format!(
                    "Klimek fit: {}; the optimum may lie beyond the bound and that parameter is not estimated.",
                    at_bounds.join(", ")
                ));
            }
            if !k.alpha_identified {
                caveats.push(
                    "Klimek fit: almost no station is frauded in the fit, so α (how votes are moved) is not identified.".into(),
                );
            }
        }
        None => {
            if let Some(why) = &r.klimek_undefined {
                summary.push(format!(
                    "The Klimek model is undefined for these stations: {why}."
                ));
            }
        }
    }
    if let Some(c) = r
        .clean_peak
        .as_ref()
        .filter(|c| c.hi.is_finite() && c.hi < 0.0)
    {
        summary.push(format!(
            "Shpilkin's clean-peak estimate finds no anomalous leader votes: above the turnout peak ({}) the leader does worse relative to the others than below it.",
            pct(c.peak_turnout)
        ));
    } else if let Some(c) = &r.clean_peak {
        summary.push(format!(
            "Shpilkin's clean-peak estimate: {} anomalous leader votes ({} of the leader's){}, assuming the others' votes are genuine and the leader's ratio to them would not rise with turnout above the turnout peak ({}).",
            signed_thousands(c.votes),
            pct(c.share_of_leader_votes),
            if c.lo.is_finite() {
                format!(
                    ", 90 % interval {} to {}",
                    signed_thousands(c.lo),
                    signed_thousands(c.hi)
                )
            } else {
                String::new()
            },
            pct(c.peak_turnout)
        ));
    }
    let fp = &r.fingerprint;
    if fp.slope.slope.is_finite() {
        let s = &fp.slope;
        summary.push(format!(
            "Leader votes per registered voter regressed on turnout (the turnout–share slope) is {:.2}{}.",
            s.slope,
            if s.slope - 2.0 * s.slope_se > 1.0 {
                ": above 1, the leader gains more votes than higher turnout brings voters, as ballot stuffing would make it"
            } else {
                ": not above 1"
            }
        ));
    } else {
        summary.push(
            "The turnout–share slope is undefined: turnout does not vary between stations.".into(),
        );
    }
    if !without_power.is_empty() {
        caveats.push(format!(
            "Digit tests on {} have no power here: fewer than {} counts of 10 or more.",
            without_power.join(" and "),
            super::stats::digits::MIN_COUNTS_FOR_POWER
        ));
    }
    caveats.push("No statistical test proves fraud: each finds a departure from a model of a clean election, and real elections depart from it for innocent reasons too (regions that differ, small stations, rules that round).".into());
    caveats.push("Digit tests compare the counts with a null matched to this election (each station's counts redrawn binomially around its own result); they detect invented or rounded figures, not stuffing done with real ballots.".into());
    caveats.push("The Klimek model assumes one fair turnout–share cluster for the whole country; regional differences widen it and can be read as incremental fraud.".into());
    Reading {
        summary,
        tests,
        caveats,
    }
}

fn signed_thousands(x: f64) -> String {
    let v = x.round();
    if v < 0.0 {
        format!("−{}", thousands((-v) as u64))
    } else {
        thousands(v as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holm_adjusts_step_down_and_keeps_order() {
        let a = holm(&[0.01, 0.04, 0.03, 0.5]);
        assert!((a[0] - 0.04).abs() < 1e-12);
        assert!((a[2] - 0.09).abs() < 1e-12);
        assert!((a[1] - 0.09).abs() < 1e-12);
        assert!((a[3] - 0.5).abs() < 1e-12);
    }
}
