//! The risk-limiting audits over runs (`rla_*` detectors, `docs/rla.md`) as the terminal shows
//! them, and the rows the report's audit table is built from ([`Summary::audit_rows`]).
//!
//! **Owns**: per variant and audit, the share of runs it fired on (false alarms on an honest
//! variant, power against a fraud variant), its risk (of the runs whose reported outcome is
//! wrong on the paper, the share it confirmed), the share of runs with a full hand count and
//! its workload in ballots examined by hand (mean and 95th percentile). The overview gets a
//! compact table (a row per variant, a column per audit, ballots to three figures, the risk
//! summed over variants; [`Summary::audit_text`]), `--detail` a row per variant and audit with
//! exact figures and intervals ([`Summary::audit_detail_text`]). Every figure is read from
//! [`crate::detect::Detection`] as summary.json has it; nothing is computed here but the
//! rendering. **Never**: prints anything when no audit ran (outputs of scenarios without
//! `rla_risk_limit` stay as they were); wraps a line past [`WIDTH`].

use super::terminal::{WIDTH, label_cut, rate_text, short_pct, wrap_indent};
use super::{Summary, VariantSummary};
use crate::detect::{AuditFigures, DetectorSummary, Rate};
use crate::forensics::report::thousands;
use std::fmt::Write;

/// One audit on one variant, as summary.json has it.
pub struct AuditRow<'a> {
    pub variant: &'a VariantSummary,
    pub detector: &'a DetectorSummary,
    /// The share of runs the audit fired on: false alarms on an honest variant, power against a
    /// fraud variant.
    pub fired: &'a Rate,
    pub figures: &'a AuditFigures,
}

/// A count of ballots (a mean or quantile over runs) as a whole number with thousands
/// separators: `4,958,488`.
pub fn ballots_text(x: f64) -> String {
    if x.is_finite() && x >= 0.0 {
        thousands(x.round() as u64)
    } else {
        "—".into()
    }
}

/// The measured risk: `0 of 152` (confirmed of the runs whose outcome is wrong on the paper),
/// `—` when no run's outcome was wrong.
pub fn risk_text(r: &Rate) -> String {
    if r.runs == 0 || !r.rate.is_finite() {
        "—".into()
    } else {
        format!("{} of {}", (r.rate * r.runs as f64).round() as u64, r.runs)
    }
}

/// A count of ballots to three significant figures: `812`, `54.2 k`, `415 k`, `4.96 M`.
pub fn ballots_short(x: f64) -> String {
    if !x.is_finite() || x < 0.0 {
        "—".into()
    } else if x.round() < 1e3 {
        format!("{x:.0}")
    } else if x < 99_950.0 {
        format!("{:.1} k", x / 1e3)
    } else if x < 999_500.0 {
        format!("{:.0} k", x / 1e3)
    } else {
        format!("{:.2} M", x / 1e6)
    }
}

/// An audit's label in the overview's columns and the audits' table: its name without `rla_`,
/// "comparison" cut to "comp" (five audits in 80 columns; "alpha_comp" in ten).
fn overview_label(name: &str) -> String {
    name.strip_prefix("rla_")
        .unwrap_or(name)
        .replace("comparison", "comp")
}

impl Summary {
    /// The audits in the overview (only when the scenario set a risk limit): a row per variant,
    /// a column per audit with the share of runs it found a wrong outcome in, the share with a
    /// full hand count and the mean ballots examined; then each audit's risk over all variants.
    /// Empty when no audit ran. At most [`WIDTH`] columns.
    pub fn audit_text(&self) -> String {
        let rows = self.audit_rows();
        let mut s = String::new();
        let Some(alpha) = self.detection.risk_limit else {
            return s;
        };
        if rows.is_empty() {
            return s;
        }
        let mut audits: Vec<&str> = Vec::new();
        for r in &rows {
            if !audits.contains(&r.detector.name) {
                audits.push(r.detector.name);
            }
        }
        let _ = writeln!(s);
        for l in wrap_indent(
            &format!(
                "audits of the paper at risk limit {}\u{a0}%: % of runs in which a full hand \
                 count found a wrong outcome / % with some full hand count, and ballots \
                 examined by hand per run (mean; --detail: 95th percentile, intervals); \
                 comp: comparison",
                short_pct(alpha)
            ),
            WIDTH,
            3,
        ) {
            let _ = writeln!(s, "{l}");
        }
        // a cell ("100/100 4.96M") takes 13 characters and a space; the variant's name what
        // is left of the width, at most 20
        let name_width = WIDTH.saturating_sub(14 * audits.len()).clamp(8, 20);
        let mut head = format!("{:<name_width$}", "");
        for a in &audits {
            let _ = write!(head, " {:<13}", overview_label(a));
        }
        let _ = writeln!(s, "{}", head.trim_end());
        for v in &self.variants {
            let mut line = format!("{:<name_width$}", label_cut(&v.name, name_width));
            let mut any = false;
            for a in &audits {
                let cell = rows
                    .iter()
                    .find(|r| r.variant.name == v.name && r.detector.name == *a)
                    .map(|r| {
                        any = true;
                        format!(
                            "{}/{} {}",
                            short_pct(r.fired.rate),
                            short_pct(r.figures.full_hand_count.rate),
                            ballots_short(r.figures.mean_ballots).replace(' ', "")
                        )
                    })
                    .unwrap_or_else(|| "—".into());
                let _ = write!(line, " {cell:<13}");
            }
            if any {
                let _ = writeln!(s, "{}", line.trim_end());
            }
        }
        let risks: Vec<String> = audits
            .iter()
            .map(|a| {
                let (mut k, mut n) = (0, 0);
                for r in rows.iter().filter(|r| r.detector.name == *a) {
                    let risk = &r.figures.risk;
                    if risk.runs > 0 && risk.rate.is_finite() {
                        k += (risk.rate * risk.runs as f64).round() as u64;
                        n += risk.runs as u64;
                    }
                }
                format!(
                    "{}\u{a0}{k}\u{a0}of\u{a0}{n}",
                    a.strip_prefix("rla_").unwrap_or(a)
                )
            })
            .collect();
        for l in wrap_indent(
            &format!(
                "risk: runs whose outcome is wrong on the paper that the audit confirmed: {}",
                risks.join(", ")
            ),
            WIDTH,
            3,
        ) {
            let _ = writeln!(s, "{l}");
        }
        s
    }

    /// Every audit detector's figures, by variant (in order) and then detector (in order).
    pub fn audit_rows(&self) -> Vec<AuditRow<'_>> {
        let mut rows = Vec::new();
        for v in &self.variants {
            for d in &self.detection.detectors {
                let found = if v.honest {
                    d.false_alarm
                        .iter()
                        .find(|f| f.variant == v.name)
                        .and_then(|f| Some((&f.false_alarm_rate, f.audit.as_ref()?)))
                } else {
                    d.power
                        .iter()
                        .find(|p| p.variant == v.name)
                        .and_then(|p| Some((&p.power, p.audit.as_ref()?)))
                };
                if let Some((fired, figures)) = found {
                    rows.push(AuditRow {
                        variant: v,
                        detector: d,
                        fired,
                        figures,
                    });
                }
            }
        }
        rows
    }

    /// The audits' table for `--detail`: a row per variant and audit, exact figures; empty
    /// when no audit ran. At most [`WIDTH`] columns.
    pub fn audit_table_text(&self) -> String {
        let rows = self.audit_rows();
        let mut s = String::new();
        if rows.is_empty() {
            return s;
        }
        let limit = self
            .detection
            .risk_limit
            .map(|a| format!(" (must stay ≤\u{a0}{}\u{a0}%)", short_pct(a)))
            .unwrap_or_default();
        let _ = writeln!(s);
        for l in wrap_indent(
            &format!(
                "risk-limiting audits of the paper: fired: % of runs in which a full hand count \
                 found a wrong outcome; full: % of runs with some full hand count; risk: runs \
                 whose outcome is wrong on the paper that the audit confirmed{limit}; ballots \
                 examined by hand per run, sample and full hand counts; comp: comparison"
            ),
            WIDTH,
            3,
        ) {
            let _ = writeln!(s, "{l}");
        }
        let _ = writeln!(
            s,
            "{:<20} {:<10} {:>7} {:>6} {:<9} {:>12} {:>10}",
            "", "audit", "fired %", "full %", "risk", "ballots mean", "p95"
        );
        for r in &rows {
            let audit = overview_label(r.detector.name);
            let f = r.figures;
            let _ = writeln!(
                s,
                "{:<20} {:<10} {:>7} {:>6} {:<9} {:>12} {:>10}",
                label_cut(&r.variant.name, 20),
                label_cut(&audit, 10),
                short_pct(r.fired.rate),
                short_pct(f.full_hand_count.rate),
                risk_text(&f.risk),
                ballots_text(f.mean_ballots),
                ballots_text(f.p95_ballots)
            );
        }
        s
    }

    /// The audits' table and their 95 % intervals, for `--detail`; empty when no audit ran.
    pub fn audit_detail_text(&self) -> String {
        let rows = self.audit_rows();
        let mut s = self.audit_table_text();
        if rows.is_empty() {
            return s;
        }
        let _ = writeln!(s);
        for l in wrap_indent(
            "audits: % of runs [95 % interval]; risk: confirmed of the runs whose outcome is \
             wrong on the paper [95 % interval of the rate]",
            WIDTH,
            3,
        ) {
            let _ = writeln!(s, "{l}");
        }
        for r in &rows {
            let f = r.figures;
            let line = format!(
                "  {} on {}: fired {}, full hand count {}, risk {}{}, ballots mean {} (p95 {})",
                r.detector.name,
                r.variant.name,
                rate_text(r.fired),
                rate_text(&f.full_hand_count),
                risk_text(&f.risk),
                if f.risk.runs > 0 {
                    format!(" [{}–{} %]", short_pct(f.risk.low), short_pct(f.risk.high))
                } else {
                    String::new()
                },
                ballots_text(f.mean_ballots),
                ballots_text(f.p95_ballots)
            );
            for l in wrap_indent(&line, WIDTH, 4) {
                let _ = writeln!(s, "{l}");
            }
        }
        s
    }
}
