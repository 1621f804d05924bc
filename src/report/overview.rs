//! The report's overview: every variant at a glance, the first thing on the page.
//!
//! **Owns**: the overview's data ([`Overview::build`], from the [`Summary`]) and its HTML
//! ([`Overview::html`]): a table of variants (turnout, the followed party's list share and seats
//! per tier against the real result — the party the fraud variants favour, else the one with
//! most real votes, [`Summary::leader`] — whether the real result fits, the party each fraud
//! favours with the seats it gained, the detectors that catch the fraud — RLA rows included once
//! they are in the matrix), dot-and-interval plots of the same quantities on common
//! axes with the real value marked (each with its numbers as a table), the seat outcomes that
//! matter (majority, two-thirds, threshold crossings) and warnings where runs are too few.
//! **Never**: computes a statistic of its own — every number is the summary's, and the
//! choices (the leader, the parties near a threshold, the detectors that catch a fraud, the
//! warnings) are the same functions the terminal's overview uses
//! ([`crate::summary::terminal`]). Detectors come from the summary's detection matrix, so new
//! detectors appear with no change here.

use std::fmt::Write;

use super::model::Table;
use crate::summary::{Summary, rate_pct, seat_cell, share_cell, short_pct};
use crate::svg::{
    Axes, BLUE, Frame, LIGHT_GREY, VERMILLION, escape, nice_step, step_decimals, ticks_in,
};
use serde::Serialize;

/// One row of a dot-and-interval plot: a variant's mean and the middle 90 % of its runs.
#[derive(Clone, Debug, Serialize)]
pub struct Dot {
    pub variant: String,
    pub honest: bool,
    pub mean: f64,
    pub p05: f64,
    pub p95: f64,
}

/// One quantity across variants on a common axis, with the real value.
#[derive(Clone, Debug, Serialize)]
pub struct DotPlot {
    /// HTML id of the plot (`overview-<quantity>`).
    pub id: String,
    pub title: String,
    /// Axis title with its unit.
    pub axis: String,
    /// Values are fractions shown in percent (else counts, such as seats).
    pub percent: bool,
    pub real: Option<f64>,
    pub dots: Vec<Dot>,
}

/// The overview of every variant.
#[derive(Clone, Debug, Serialize)]
pub struct Overview {
    /// The party followed (the summary's leader), by name.
    pub leader: Option<String>,
    /// Per variant: turnout, leader's share and seats, fits, fraud, caught by.
    pub variants: Table,
    pub plots: Vec<DotPlot>,
    /// Majority, two-thirds and threshold crossings per variant, with intervals.
    pub outcomes: Option<Table>,
    /// Numbers that rest on too few runs.
    pub warnings: Vec<String>,
}

fn tier_title(t: &str) -> &'static str {
    match t {
        "list" => "list",
        "district" => "district",
        _ => "total",
    }
}

impl Overview {
    /// The overview of `summary`.
    pub fn build(summary: &Summary) -> Overview {
        let leader = summary.leader.as_ref();
        let lid = leader.map(|l| l.id.as_str()).unwrap_or("");
        let lname = leader.map(|l| l.name.as_str()).unwrap_or("leader");
        let tiers = if summary.variants.is_empty() {
            Vec::new()
        } else {
            summary.seat_tiers(0)
        };
        let any_fraud = summary.variants.iter().any(|v| !v.honest);
        let real = |name: &str| summary.real(name);
        // the table of variants
        let mut header = vec![
            "variant".to_string(),
            "turnout %".to_string(),
            format!("{lname}: list %"),
        ];
        for t in &tiers {
            header.push(format!("{lname}: {} seats", tier_title(t)));
        }
        header.push("real result fits".into());
        if any_fraud {
            header.push("fraud gave (total seats)".into());
            header.push("caught by (% of runs [95 %])".into());
        }
        let mut rows = Vec::new();
        let mut details = Vec::new();
        if real("turnout").is_some() {
            let mut row = vec![
                "real result".to_string(),
                real("turnout").map_or(String::new(), |t| format!("{:.1}", 100.0 * t)),
                real(&format!("share.{lid}"))
                    .map_or(String::new(), |t| format!("{:.1}", 100.0 * t)),
            ];
            for t in &tiers {
                row.push(
                    real(&format!("{t}_seats.{lid}")).map_or(String::new(), |r| format!("{r}")),
                );
            }
            row.push(String::new());
            if any_fraud {
                row.extend([String::new(), String::new()]);
            }
            details.push(vec![String::new(); row.len()]);
            rows.push(row);
        }
        let lidx = summary.parties.iter().position(|p| p.id == lid);
        for (vi, v) in summary.variants.iter().enumerate() {
            let m = |name: &str| summary.metric(vi, name);
            let mut row = vec![
                v.name.clone(),
                m("turnout").map(share_cell).unwrap_or_default(),
                m(&format!("share.{lid}"))
                    .map(share_cell)
                    .unwrap_or_default(),
            ];
            for t in &tiers {
                row.push(
                    m(&format!("{t}_seats.{lid}"))
                        .map(seat_cell)
                        .unwrap_or_default(),
                );
            }
            row.push(
                match v.consistent_with_reported {
                    Some(true) => "yes",
                    Some(false) => "no",
                    None => "",
                }
                .into(),
            );
            let mut detail = vec![String::new(); row.len()];
            detail[0] = format!("{} — {} runs", v.description, v.runs);
            if any_fraud {
                // who gained: the variant's beneficiary (the party followed if it names none)
                let bidx = v
                    .beneficiary
                    .as_ref()
                    .and_then(|b| summary.parties.iter().position(|p| &p.id == b))
                    .or(lidx);
                row.push(if v.honest {
                    String::new()
                } else {
                    bidx.and_then(|i| {
                        let x = v.seat_effect.total_seats.get(i)?;
                        Some(format!("{} {x:+.1}", summary.parties[i].name))
                    })
                    .unwrap_or_default()
                });
                let found = summary.catches(v);
                let text = if v.honest {
                    String::new()
                } else if found.is_empty() {
                    "none fires more often than on honest runs".into()
                } else {
                    found
                        .iter()
                        .take(3)
                        .map(|(d, p, _)| format!("{} {}", d.name, rate_pct(p)))
                        .collect::<Vec<_>>()
                        .join("; ")
                };
                row.push(text);
                detail.push(String::new());
                detail.push(
                    found
                        .iter()
                        .map(|(d, p, far)| {
                            format!(
                                "{}: {} % of {} runs [{}–{}], false alarms on the baseline {} %",
                                d.name,
                                short_pct(p.rate),
                                p.runs,
                                short_pct(p.low),
                                short_pct(p.high),
                                far.map(|f| short_pct(f.rate)).unwrap_or("—".into())
                            )
                        })
                        .collect::<Vec<_>>()
                        .join("; "),
                );
            }
            rows.push(row);
            details.push(detail);
        }
        let variants = Table {
            id: "overview-variants".into(),
            title: "Every variant at a glance".into(),
            note: format!(
                "Mean over runs [the middle 90 % of runs] beside the real result. “Fits”: the real \
                 turnout and every list share lie within the variant's central 95 %. Fraud gave: \
                 the party the fraud favours and the total seats it gained (reported minus truth, \
                 mean per run); the overview follows {lname}, {why}. Caught by: the detectors that \
                 fire on the fraud more often than on its honest baseline, with the share of runs \
                 and its 95 % interval (calibrated detectors are set to {} % false alarms; see \
                 the detection matrix below).",
                short_pct(summary.detection.target_false_alarm_rate),
                why = summary.followed_because()
            ),
            header,
            rows,
            details,
            shade: Vec::new(),
        };
        // the dot plots
        let dots = |name: &str| -> Vec<Dot> {
            summary
                .variants
                .iter()
                .enumerate()
                .filter_map(|(vi, v)| {
                    let m = summary.metric(vi, name)?;
                    Some(Dot {
                        variant: v.name.clone(),
                        honest: v.honest,
                        mean: m.mean,
                        p05: m.p05,
                        p95: m.p95,
                    })
                })
                .collect()
        };
        let mut plots = vec![
            DotPlot {
                id: "overview-turnout".into(),
                title: "Turnout".into(),
                axis: "Turnout (% of registered voters)".into(),
                percent: true,
                real: real("turnout"),
                dots: dots("turnout"),
            },
            DotPlot {
                id: "overview-share".into(),
                title: format!("{lname}: list share"),
                axis: "List share (% of valid list votes)".into(),
                percent: true,
                real: real(&format!("share.{lid}")),
                dots: dots(&format!("share.{lid}")),
            },
        ];
        for t in &tiers {
            plots.push(DotPlot {
                id: format!("overview-{t}-seats"),
                title: format!("{lname}: {} seats", tier_title(t)),
                axis: "Seats".into(),
                percent: false,
                real: real(&format!("{t}_seats.{lid}")),
                dots: dots(&format!("{t}_seats.{lid}")),
            });
        }
        plots.retain(|p| !p.dots.is_empty());
        Overview {
            leader: leader.map(|l| l.name.clone()),
            variants,
            plots,
            outcomes: outcome_table(summary),
            warnings: summary.warnings(),
        }
    }

    /// The overview as an HTML section (`<section id="overview">`).
    pub fn html(&self, table_html: &dyn Fn(&Table, u8, &str) -> String) -> String {
        let mut o = String::from("<section id=\"overview\"><h2>Overview</h2>");
        if !self.warnings.is_empty() {
            o.push_str("<div class=\"warn\" role=\"note\"><strong>Read with care:</strong><ul>");
            for w in &self.warnings {
                let _ = write!(o, "<li>{}</li>", escape(w));
            }
            o.push_str("</ul></div>");
        }
        o.push_str(&table_html(&self.variants, 3, &self.variants.id));
        if !self.plots.is_empty() {
            o.push_str(
                "<h3>On common axes</h3><p class=\"note\">Per variant, the <span class=\"sim\">dot</span> \
                 is the mean over runs and the line spans the middle 90 % of runs; the \
                 <span class=\"real\">dashed line</span> is the real result. Honest variants are \
                 drawn as filled dots, fraud variants as rings. Each plot's numbers are in the \
                 table under it.</p><div class=\"grid\">",
            );
            for p in &self.plots {
                let _ = write!(
                    o,
                    "<figure class=\"wide\">{}<details><summary>numbers</summary>{}</details></figure>",
                    dot_svg(p),
                    dot_table(p)
                );
            }
            o.push_str("</div>");
        }
        if let Some(t) = &self.outcomes {
            o.push_str(&table_html(t, 3, &t.id));
        }
        o.push_str("</section>\n");
        o
    }
}

/// The seat outcomes per variant: the leader's majority and two-thirds, and the parties whose
/// list seats are in doubt, as shares of runs with intervals; the real outcome first.
fn outcome_table(summary: &Summary) -> Option<Table> {
    let leader = summary.leader.as_ref()?;
    let li = summary.parties.iter().position(|p| p.id == leader.id)?;
    let thresholds = summary.threshold_parties();
    let mut header = vec![
        "variant".to_string(),
        format!("{}: majority of all seats", leader.name),
        format!("{}: two-thirds", leader.name),
    ];
    for &p in &thresholds {
        header.push(format!("{}: wins list seats", summary.parties[p].name));
    }
    let mut rows = Vec::new();
    let real = |name: &str| summary.real(name);
    let total = summary.real_total_seats();
    if let (Some(total), Some(seats)) = (total, real(&format!("total_seats.{}", leader.id))) {
        let yes = |b: bool| if b { "yes" } else { "no" }.to_string();
        let mut row = vec![
            "real result".to_string(),
            yes(2.0 * seats > total),
            yes(total > 0.0 && 3.0 * seats >= 2.0 * total),
        ];
        for &p in &thresholds {
            row.push(
                real(&format!("list_seats.{}", summary.parties[p].id))
                    .map(|r| yes(r > 0.0))
                    .unwrap_or_default(),
            );
        }
        rows.push(row);
    }
    let mut shade = vec![Vec::new(); rows.len()];
    for v in &summary.variants {
        let mut rates = vec![
            v.seat_odds.majority.get(li).copied(),
            v.seat_odds.two_thirds.get(li).copied(),
        ];
        for &p in &thresholds {
            rates.push(v.seat_odds.wins_list_seats.get(p).copied());
        }
        let mut row = vec![v.name.clone()];
        row.extend(
            rates
                .iter()
                .map(|r| r.map(|r| rate_pct(&r)).unwrap_or_default()),
        );
        let mut sh = vec![None];
        sh.extend(
            rates
                .iter()
                .map(|r| r.filter(|r| r.runs > 0).map(|r| r.rate)),
        );
        rows.push(row);
        shade.push(sh);
    }
    Some(Table {
        id: "overview-outcomes".into(),
        title: "Seat outcomes".into(),
        note: format!(
            "Share of runs in which {} holds more than half of all seats, at least two-thirds of \
             them, and{} — with 95 % Wilson intervals (darker: more often).",
            leader.name,
            if thresholds.is_empty() {
                " (no party's list seats are in doubt in any variant)".to_string()
            } else {
                " in which each party whose list seats are in doubt wins any (passes the \
                 threshold)"
                    .to_string()
            }
        ),
        header,
        rows,
        details: Vec::new(),
        shade,
    })
}

/// A dot-and-interval plot: one row per variant on a common axis, the real value dashed.
fn dot_svg(p: &DotPlot) -> String {
    let row_h = 22.0;
    let label_w = 150.0;
    let (w, top) = (460.0, 30.0);
    let plot_h = row_h * p.dots.len() as f64;
    let height = top + plot_h + 46.0;
    let scale = if p.percent { 100.0 } else { 1.0 };
    let mut lo = p
        .dots
        .iter()
        .map(|d| d.p05)
        .chain(p.real)
        .fold(f64::INFINITY, f64::min)
        * scale;
    let mut hi = p
        .dots
        .iter()
        .map(|d| d.p95)
        .chain(p.real)
        .fold(f64::NEG_INFINITY, f64::max)
        * scale;
    if !(lo.is_finite() && hi.is_finite()) {
        (lo, hi) = (0.0, 1.0);
    }
    let pad = ((hi - lo) * 0.08).max(if p.percent { 0.2 } else { 0.5 });
    let (lo, hi) = (lo - pad, hi + pad);
    let f = Frame {
        left: label_w,
        top,
        width: w - label_w - 16.0,
        height: plot_h,
        x: (lo, hi),
        y: (0.0, 1.0),
        y_label_gap: 0.0,
    };
    let mut svg = format!(
        r#"<svg id="{}" class="plot dots" viewBox="0 0 {w} {height}" width="{w}" height="{height}" role="img" aria-label="{}: every variant's mean and middle 90 % of runs against the real result">"#,
        escape(&p.id),
        escape(&p.title)
    );
    let _ = write!(
        svg,
        r#"<text x="8" y="18" class="title">{}</text>"#,
        escape(&p.title)
    );
    let step = nice_step(hi - lo, 4);
    let d = if p.percent { step_decimals(step) } else { 0 };
    let step = if p.percent {
        step
    } else {
        step.max(1.0).ceil()
    };
    let ticks = ticks_in(lo, hi, step);
    for &t in &ticks {
        let x = f.px(t);
        let _ = write!(
            svg,
            r#"<line x1="{x:.1}" y1="{top}" x2="{x:.1}" y2="{b}" stroke="{LIGHT_GREY}"/>"#,
            b = top + plot_h
        );
    }
    for (k, dot) in p.dots.iter().enumerate() {
        let y = top + (k as f64 + 0.5) * row_h;
        let _ = write!(
            svg,
            r#"<text x="{x}" y="{ty:.1}" text-anchor="end">{}</text>"#,
            escape(&crate::svg::truncate(&dot.variant, 22)),
            x = label_w - 8.0,
            ty = y + 4.0
        );
        let fmt = |v: f64| {
            if p.percent {
                format!("{:.2} %", 100.0 * v)
            } else {
                format!("{v:.1}")
            }
        };
        let _ = write!(
            svg,
            r#"<g><title>{}: mean {}, 5–95 % of runs {}–{}</title><line x1="{:.1}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="{BLUE}" stroke-width="3"/><circle cx="{:.1}" cy="{y:.1}" r="5" fill="{}" stroke="{BLUE}" stroke-width="2"/></g>"#,
            escape(&dot.variant),
            fmt(dot.mean),
            fmt(dot.p05),
            fmt(dot.p95),
            f.px(scale * dot.p05),
            f.px(scale * dot.p95).max(f.px(scale * dot.p05) + 1.0),
            f.px(scale * dot.mean),
            if dot.honest { BLUE } else { "white" },
        );
    }
    if let Some(r) = p.real {
        let x = f.px(scale * r);
        let _ = write!(
            svg,
            r#"<line x1="{x:.1}" y1="{t}" x2="{x:.1}" y2="{b}" stroke="{VERMILLION}" stroke-width="2" stroke-dasharray="5 3"/><text x="{x:.1}" y="{ty}" text-anchor="middle" style="fill:{VERMILLION}">real {}</text>"#,
            if p.percent {
                format!("{:.1} %", scale * r)
            } else {
                format!("{r}")
            },
            t = top - 4.0,
            b = top + plot_h,
            ty = top - 8.0
        );
    }
    f.axes(
        &mut svg,
        &Axes {
            x_ticks: &ticks,
            y_ticks: &[],
            x_label: &p.axis,
            y_label: "",
            fmt_x: &|v| format!("{v:.d$}"),
            fmt_y: &|v| format!("{v}"),
        },
    );
    svg.push_str("</svg>");
    svg
}

/// A dot plot's numbers as a table.
fn dot_table(p: &DotPlot) -> String {
    let fmt = |v: f64| {
        if p.percent {
            format!("{:.2}", 100.0 * v)
        } else {
            format!("{v:.1}")
        }
    };
    let unit = if p.percent { " (%)" } else { "" };
    let mut o = format!(
        "<table class=\"numbers\"><tr><th>variant</th><th>mean{unit}</th><th>5 %</th><th>95 %</th></tr>"
    );
    if let Some(r) = p.real {
        let _ = write!(
            o,
            "<tr><td>real result</td><td>{}</td><td></td><td></td></tr>",
            fmt(r)
        );
    }
    for d in &p.dots {
        let _ = write!(
            o,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&d.variant),
            fmt(d.mean),
            fmt(d.p05),
            fmt(d.p95)
        );
    }
    o.push_str("</table>");
    o
}
