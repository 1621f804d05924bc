//! The report's table of risk-limiting audits (the `rla_*` detectors, `docs/rla.md`): per
//! variant and audit, the share of runs it fired on, its measured risk, the share of runs with a
//! full hand count and its workload in ballots examined by hand. Every figure is summary.json's
//! (read through [`Summary::audit_rows`], as the terminal reads them); `None` when no audit ran,
//! so reports of scenarios without `rla_risk_limit` are unchanged.

use super::model::Table;
use crate::detect::Rate;
use crate::summary::audits::{ballots_text, risk_text};
use crate::summary::{Summary, rate_pct};

/// A rate's tooltip: how many runs and its 95 % interval.
fn interval(r: &Rate) -> String {
    if r.runs == 0 || !r.rate.is_finite() {
        "does not apply".into()
    } else {
        format!(
            "{} runs; 95 % interval {}–{} %",
            r.runs,
            crate::summary::short_pct(r.low),
            crate::summary::short_pct(r.high)
        )
    }
}

/// The audits' table, or `None` when no audit ran.
pub fn audit_table(summary: &Summary) -> Option<Table> {
    let rows = summary.audit_rows();
    if rows.is_empty() {
        return None;
    }
    let limit = summary
        .detection
        .risk_limit
        .map(|a| format!("{} %", crate::summary::short_pct(a)))
        .unwrap_or_else(|| "the risk limit".into());
    let header = [
        "variant",
        "audit",
        "fired",
        "full hand count",
        "risk (confirmed of wrong runs)",
        "ballots examined, mean",
        "ballots examined, 95th percentile",
    ]
    .map(String::from)
    .to_vec();
    let (mut cells, mut details, mut shade) = (Vec::new(), Vec::new(), Vec::new());
    for r in &rows {
        let f = r.figures;
        cells.push(vec![
            r.variant.name.clone(),
            r.detector.name.to_string(),
            rate_pct(r.fired),
            rate_pct(&f.full_hand_count),
            risk_text(&f.risk),
            ballots_text(f.mean_ballots),
            ballots_text(f.p95_ballots),
        ]);
        details.push(vec![
            r.variant.description.clone(),
            r.detector.description.to_string(),
            format!(
                "{} of {}",
                if r.variant.honest {
                    "false alarms"
                } else {
                    "power"
                },
                interval(r.fired)
            ),
            interval(&f.full_hand_count),
            if f.risk.runs > 0 {
                format!(
                    "{} % of {}",
                    crate::summary::short_pct(f.risk.rate),
                    interval(&f.risk)
                )
            } else {
                "no run's outcome was wrong on the paper".into()
            },
            String::new(),
            String::new(),
        ]);
        let fired = r.fired.rate.is_finite().then_some(r.fired.rate);
        shade.push(vec![None, None, fired, None, None, None, None]);
    }
    Some(Table {
        id: "audits".into(),
        title: "Risk-limiting audits of the paper: risk, power and workload".into(),
        note: format!(
            "Per variant and audit of the paper record (risk limit {limit}). Fired: share of \
             runs in which a full hand count found that the published outcome is wrong on the \
             paper (the audit's power against a fraud variant, false alarms on an honest one), \
             with its 95 % interval. Full hand count: share of runs in which some contest was \
             counted in full. Risk: of the runs whose published outcome is wrong on the paper, \
             how many the audit confirmed anyway (must stay at or below the risk limit). \
             Ballots examined by hand per run, the sample and full hand counts together. The \
             same figures are in summary.json under \"detection\" (each audit's \"audit\")."
        ),
        header,
        rows: cells,
        details,
        shade,
    })
}
