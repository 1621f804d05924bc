//! `report.html`: the run report as one self-contained HTML page — inline CSS and inline SVG, no
//! scripts, fonts, images or links to anything outside the file, so it opens offline in any
//! browser and can be archived with the results.
//!
//! Owns: the page layout and the run charts — the seat strips (per tier and party, runs per seat
//! count beside the real result), histograms over runs of turnout and list shares with the real
//! value marked, and the fingerprint heat map of the representative run (drawn by the shared
//! [`crate::svg::heatmap`]). Never does: I/O, statistics or simulation; [`render`] is a pure
//! function of the [`RunReport`], and nothing in the page depends on the clock or the machine,
//! so the same seed gives the same bytes.
//!
//! Every chart's `<svg>` has an `id` (`seats-<variant>`, `hist-<variant>-turnout`,
//! `hist-<variant>-share-<party>`, `fingerprint-<variant>`) and a `class` (`plot seats`,
//! `plot histogram`, `plot heatmap`), which the tests and any later tooling can rely on.
//!
//! Every plot's numbers are a table under it, collapsed in a `<details class="numbers">`: the
//! seat strips' (`seats-<variant>-numbers`: runs per seat count, band, mean, real), the
//! histograms' (`hists-<variant>-numbers`, a row per plot: first edge, bin width, runs per
//! bin), and a fingerprint's cells for maps of at most [`INLINE_CELLS`] cells
//! (`fingerprint-<variant>-numbers`); every map's cells are in `fingerprints.csv` beside the
//! page ([`super::model::RunReport::fingerprints_csv`]), which each map's numbers link.

use std::fmt::Write;

use super::model::{
    MapCell, RunFingerprint, RunHistogram, RunReport, SeatRow, Table, VariantReport,
};
use crate::svg::{
    Axes, BLUE, Frame, LIGHT_GREY, SKY_BLUE, VERMILLION, coord, escape, heatmap, heatmap_cell,
    heatmap_size, nice_step, step_decimals, ticks_in, truncate,
};

const CSS: &str = "body { font-family: system-ui, sans-serif; max-width: 1280px; margin: 2em auto; padding: 0 1em; color: #222; line-height: 1.4; }
h2 { border-top: 2px solid #ccc; padding-top: 0.6em; margin-top: 2em; }
table { border-collapse: collapse; margin: 0.5em 0 1em; }
td, th { border-bottom: 1px solid #ccc; padding: 0.2em 0.6em; text-align: right; white-space: nowrap; }
td:first-child, th:first-child { text-align: left; }
svg text { font-size: 12px; fill: #222; } svg .label { font-size: 13px; } svg .title { font-size: 13px; font-weight: bold; }
.note { color: #555; font-size: 0.9em; }
.grid { display: flex; flex-wrap: wrap; gap: 12px; }
figure { margin: 0; width: 300px; max-width: 100%; } figcaption { font-size: 0.8em; color: #444; }
th { white-space: normal; vertical-align: bottom; }
.scroll { overflow-x: auto; }
svg { max-width: 100%; height: auto; }
table { display: block; max-width: 100%; overflow-x: auto; }
a:focus-visible, summary:focus-visible, [tabindex]:focus-visible { outline: 3px solid #E69F00; outline-offset: 2px; }
@media print { body { max-width: none; margin: 0; } .scroll, table { overflow: visible; } svg, figure, tr { break-inside: avoid; } nav { display: none; } }
table.heat td, table.heat th { padding: 0.25em 0.4em; font-size: 0.85em; }
pre { background: #f6f6f6; padding: 0.8em; overflow-x: auto; font-size: 0.85em; }
code { font-size: 0.95em; }
table.prov td { text-align: left; }
.real { color: #D55E00; font-weight: bold; } .sim { color: #0072B2; font-weight: bold; }
.warn { border-left: 4px solid #E69F00; background: #fdf6e8; padding: 0.3em 1em; margin: 1em 0; }
figure.wide { width: 460px; } details summary { cursor: pointer; font-size: 0.9em; color: #444; }
table.numbers td, table.numbers th { font-size: 0.85em; padding: 0.1em 0.5em; } table.cells td { white-space: normal; text-align: left; min-width: 4em; } table.cells { max-height: 24em; overflow-y: auto; } details.numbers { max-width: 100%; } details.numbers > p { margin: 0.3em 0; } @media print { table.cells { max-height: none; overflow: visible; } }
#overview-variants td:last-child { white-space: normal; min-width: 14em; text-align: left; }
.pair { display: flex; flex-wrap: wrap; gap: 12px; } .pair figure { width: auto; flex: 1 1 280px; max-width: 620px; } .pair.fine figure { flex-basis: 100%; max-width: none; }
svg.region { flex: 0 1 264px; } svg.region text { font-size: 10px; } svg.region .title { font-size: 12px; } .dh { fill: #0072B2; stroke: #0072B2; stroke-width: 1.5; } .band { fill: #56B4E9; fill-opacity: 0.5; } .dia { fill: white; fill-opacity: 0.6; stroke: #D55E00; stroke-width: 2; } .df { fill: white; stroke: #0072B2; stroke-width: 1.5; }";

/// An HTML id fragment from a name: ASCII letters, digits, `-` and `_` kept, anything else `-`.
pub fn slug(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    if s.is_empty() { "x".into() } else { s }
}

/// A fraction as a percentage with `d` decimals and a thin space before the sign.
fn pct(x: f64, d: usize) -> String {
    if x.is_finite() {
        format!("{:.*} %", d, 100.0 * x)
    } else {
        "n/a".into()
    }
}

fn opt_pct(x: Option<f64>, d: usize) -> String {
    x.map(|x| pct(x, d)).unwrap_or_else(|| "—".into())
}

/// Seats with one decimal unless whole.
fn seats_num(x: f64) -> String {
    if (x - x.round()).abs() < 1e-9 {
        format!("{}", x.round())
    } else {
        format!("{x:.1}")
    }
}

/// Integer tick step for a seat or run-count axis spanning `span`, about `target` ticks.
fn integer_step(span: f64, target: usize) -> f64 {
    let s = nice_step(span, target).max(1.0);
    if s.fract() == 0.0 { s } else { s.ceil() }
}

/// The seat strips of one variant: one panel per tier, one row per party; in each row a bar
/// per seat count, its height the share of runs with that count (relative to the row's most
/// common count), and the real result as a vermillion diamond.
fn seats_svg(v: &VariantReport, id: &str) -> String {
    let tiers = &v.seats;
    let mut rows: Vec<(&str, &str)> = Vec::new();
    for t in tiers {
        for r in &t.rows {
            if !rows.iter().any(|(id, _)| *id == r.id) {
                rows.push((&r.id, &r.name));
            }
        }
    }
    let row_h = 28.0;
    let label_w = 215.0;
    let gap = 28.0;
    let total_w = 920.0;
    let top = 56.0;
    let x_maxes: Vec<f64> = tiers
        .iter()
        .map(|t| {
            t.rows
                .iter()
                .flat_map(|r| [r.max, r.reported.unwrap_or(0.0)])
                .fold(1.0, f64::max)
        })
        .collect();
    let widths = panel_widths(
        &x_maxes,
        total_w - label_w - 12.0 - gap * (tiers.len().max(1) - 1) as f64,
    );
    let plot_h = row_h * rows.len() as f64;
    let height = top + plot_h + 52.0;
    let mut svg = format!(
        r#"<svg id="{id}" class="plot seats" viewBox="0 0 {total_w} {height}" width="{total_w}" height="{height}" role="img" aria-label="Seats per party in each tier: simulated runs against the real result">"#
    );
    // Legend.
    let _ = write!(
        svg,
        r#"<rect x="{label_w}" y="6" width="8" height="14" fill="{BLUE}"/><text x="{a}" y="18">runs with that many seats (bar height: share of runs, per row)</text><rect x="{b}" y="8" width="22" height="10" fill="{SKY_BLUE}" fill-opacity="0.5"/><text x="{c}" y="18">5–95 % of runs</text><path d="M{d} 7l6 6l-6 6l-6-6z" fill="white" stroke="{VERMILLION}" stroke-width="2"/><text x="{e}" y="18">real result</text>"#,
        a = label_w + 14.0,
        b = label_w + 420.0,
        c = label_w + 446.0,
        d = label_w + 560.0,
        e = label_w + 572.0,
    );
    // Row labels and stripes.
    for (k, (_, name)) in rows.iter().enumerate() {
        let y = top + k as f64 * row_h;
        if k % 2 == 0 {
            let _ = write!(
                svg,
                r##"<rect x="4" y="{y}" width="{w}" height="{row_h}" fill="#f3f3f3"/>"##,
                w = total_w - 8.0
            );
        }
        let _ = write!(
            svg,
            r#"<text x="{x}" y="{ty}" text-anchor="end">{}<title>{}</title></text>"#,
            escape(&truncate(name, 30)),
            escape(name),
            x = label_w - 10.0,
            ty = y + row_h / 2.0 + 4.0
        );
    }
    let mut left = label_w;
    for (pi, tier) in tiers.iter().enumerate() {
        let x_max = x_maxes[pi];
        let panel_w = widths[pi];
        let f = Frame {
            left,
            top,
            width: panel_w,
            height: plot_h,
            x: (-0.6, x_max + 0.6),
            y: (0.0, 1.0),
            y_label_gap: 0.0,
        };
        let _ = write!(
            svg,
            r#"<text x="{cx}" y="{ty}" text-anchor="middle" class="title">{}</text>"#,
            escape(&tier.title),
            cx = left + panel_w / 2.0,
            ty = top - 8.0
        );
        let step = integer_step(x_max, 5);
        let ticks = ticks_in(0.0, x_max, step);
        for &t in &ticks {
            let x = f.px(t);
            let _ = write!(
                svg,
                r#"<line x1="{x:.1}" y1="{top}" x2="{x:.1}" y2="{b}" stroke="{LIGHT_GREY}"/>"#,
                b = top + plot_h
            );
        }
        let unit = f.px(1.0) - f.px(0.0);
        let bar_w = (unit * 0.8).clamp(1.5, 14.0);
        for r in &tier.rows {
            let Some(k) = rows.iter().position(|(id, _)| *id == r.id) else {
                continue;
            };
            let y0 = top + k as f64 * row_h;
            let base = y0 + row_h - 4.0;
            // 5–95 % range behind the bars.
            let _ = write!(
                svg,
                r#"<rect class="band" x="{:.1}" y="{:.1}" width="{:.1}" height="6"><title>5–95 %: {}–{} seats, mean {:.1}</title></rect>"#,
                f.px(r.p05) - 1.0,
                base - 6.0,
                (f.px(r.p95) - f.px(r.p05)).max(0.0) + 2.0,
                seats_num(r.p05),
                seats_num(r.p95),
                r.mean
            );
            let most = r
                .frequencies
                .iter()
                .map(|(_, n)| *n)
                .max()
                .unwrap_or(1)
                .max(1);
            let _ = write!(svg, r#"<g fill="{BLUE}">"#);
            for &(s, n) in &r.frequencies {
                let h = (row_h - 8.0) * n as f64 / most as f64;
                let _ = write!(
                    svg,
                    r#"<rect x="{:.1}" y="{:.1}" width="{bar_w:.1}" height="{h:.1}"><title>{s} seats: {}</title></rect>"#,
                    f.px(s as f64) - bar_w / 2.0,
                    base - h,
                    runs_text(n)
                );
            }
            svg.push_str("</g>");
            if let Some(real) = r.reported {
                let x = f.px(real);
                let y = base - 8.0;
                let _ = write!(
                    svg,
                    r#"<path class="dia" d="M{x:.1} {:.1}l6 6l-6 6l-6-6z"><title>{}: real result {} seats; at or beyond: {}</title></path>"#,
                    y - 6.0,
                    escape(&r.name),
                    seats_num(real),
                    opt_pct(r.at_or_beyond, 0)
                );
            }
        }
        f.axes(
            &mut svg,
            &Axes {
                x_ticks: &ticks,
                y_ticks: &[],
                x_label: "Seats",
                y_label: "",
                fmt_x: &|v| format!("{v}"),
                fmt_y: &|v| format!("{v}"),
            },
        );
        left += panel_w + gap;
    }
    svg.push_str("</svg>");
    svg
}

/// "1 run", "2 runs": a bar's hover text (its share of runs is its height; the plot's
/// *numbers* table lists them all).
fn runs_text(n: u32) -> String {
    if n == 1 {
        "1 run".to_string()
    } else {
        format!("{n} runs")
    }
}

/// A plot's numbers, collapsed under "numbers" (no script needed): a note and the tables.
fn numbers(note: &str, tables: &str) -> String {
    format!(
        "<details class=\"numbers\"><summary>numbers</summary><p class=\"note\">{note}</p>{tables}</details>"
    )
}

/// The seat strips' numbers: per tier (a heading row) one row per party, its runs per seat
/// count as `seats:runs` (the bars), then its 5–95 % range, mean, real result and the runs at
/// or beyond it (the band and the diamond).
fn seats_numbers(v: &VariantReport, id: &str) -> String {
    let mut o = format!(
        "<table id=\"{id}-numbers\" class=\"numbers cells\"><tr><th>party</th><th>seats:runs</th><th>5–95 %</th><th>mean</th><th>real</th><th>at or beyond</th></tr>"
    );
    for t in &v.seats {
        let _ = write!(o, "<tr><th colspan=\"6\">{}</th></tr>", escape(&t.title));
        for r in &t.rows {
            let bars: Vec<String> = r
                .frequencies
                .iter()
                .map(|(s, n)| format!("{s}:{n}"))
                .collect();
            let _ = write!(
                o,
                "<tr><td>{}</td><td>{}</td><td>{}–{}</td><td>{:.2}</td><td>{}</td><td>{}</td></tr>",
                escape(&r.name),
                bars.join(" "),
                seats_num(r.p05),
                seats_num(r.p95),
                r.mean,
                r.reported.map(seats_num).unwrap_or_else(|| "—".into()),
                opt_pct(r.at_or_beyond, 0)
            );
        }
    }
    o.push_str("</table>");
    numbers(
        "Per tier, one row per party: how many runs gave it that many seats (seats:runs, the \
         bars), the range over the middle 90 % of runs (the band), the mean, the real result \
         (the diamond) and the share of runs at or beyond it.",
        &o,
    )
}

/// Decimals that tell a histogram's bin edges apart (in percent): one more than the bin width
/// needs.
fn edge_decimals(bin_width: f64) -> usize {
    let w = 100.0 * bin_width;
    if w.is_finite() && w > 0.0 {
        ((-w.log10()).ceil().max(0.0) as usize + 1).min(6)
    } else {
        2
    }
}

/// A variant's histograms' numbers in one table, a row per histogram (at most
/// [`super::model::MAX_BINS`] bins each, so its size does not grow with the runs): the first
/// bin's lower edge and the bin width (in percent), then the runs in every bin, left to right.
/// Each row's id is its histogram's with `-numbers`.
fn histograms_numbers(hs: &[(String, &RunHistogram)], id: &str) -> String {
    let mut o = format!(
        "<table id=\"{id}\" class=\"numbers cells\"><tr><th>figure</th><th>from (%)</th><th>bin width (%)</th><th>runs per bin</th></tr>"
    );
    for (hid, h) in hs {
        let d = edge_decimals(h.bin_width);
        let counts: Vec<String> = h.counts.iter().map(|n| n.to_string()).collect();
        let _ = write!(
            o,
            "<tr id=\"{hid}-numbers\"><td>{}</td><td>{:.d$}</td><td>{:.d$}</td><td>{}</td></tr>",
            escape(&h.title),
            100.0 * h.lo,
            100.0 * h.bin_width,
            counts.join(" ")
        );
    }
    o.push_str("</table>");
    numbers(
        "One row per histogram: the first bin's lower edge, the bin width and the runs in \
         every bin, left to right (each from its lower edge up to, not including, the next).",
        &o,
    )
}

/// Maps with at most this many cells holding stations list them in the page too; larger ones
/// only in `fingerprints.csv` (Kazakhstan's maps have about 2,000 cells each: ten such lists
/// would add some 200 KB to the page).
pub const INLINE_CELLS: usize = 400;

/// A fingerprint's numbers: where `fingerprints.csv` (beside the page) holds every cell of the
/// map (`variant` is the variant's name; empty for the real map), and, for a small map, the
/// cells in the page as well: one row per turnout cell with its cells as `share:stations`,
/// and the stations fraud touched the same way when the map outlines any.
fn fingerprint_numbers(fp: &RunFingerprint, id: &str, variant: Option<&str>) -> String {
    let cells = fp.cells();
    let coarse = cells.iter().filter(|c| c.0 == "1").count();
    let rows = match variant {
        Some(v) => format!(
            "rows with map <code>simulated</code> and variant “{}”",
            escape(v)
        ),
        None => "rows with map <code>real</code>".to_string(),
    };
    let note = format!(
        "Every cell holding stations ({coarse} in 1 % cells{}) is in \
         <a href=\"fingerprints.csv\">fingerprints.csv</a> beside this page, {rows}: turnout \
         and {}'s share (the cell's centre, %), the stations in the cell and those of them \
         whose protocol fraud changed.",
        if coarse < cells.len() {
            format!(", {} in 0.1 % cells", cells.len() - coarse)
        } else {
            String::new()
        },
        escape(&fp.leader),
    );
    if coarse > INLINE_CELLS {
        return numbers(&note, "");
    }
    let marked = fp.stations_touched > 0;
    let mut o = format!(
        "<table id=\"{id}-numbers\" class=\"numbers cells\"><tr><th>turnout (%)</th><th>share (%):stations</th>{}</tr>",
        if marked {
            "<th>touched by fraud, share (%):stations</th>"
        } else {
            ""
        }
    );
    let mut k = 0;
    while k < coarse {
        let t = cells[k].1;
        let end = k + cells[k..coarse].iter().take_while(|c| c.1 == t).count();
        let row = &cells[k..end];
        let list = |f: &dyn Fn(&MapCell) -> u32| {
            row.iter()
                .filter(|c| f(c) > 0)
                .map(|c| format!("{}:{}", c.2, f(c)))
                .collect::<Vec<_>>()
                .join(" ")
        };
        let _ = write!(o, "<tr><td>{t}</td><td>{}</td>", list(&|c| c.3));
        if marked {
            let _ = write!(o, "<td>{}</td>", list(&|c| c.4));
        }
        o.push_str("</tr>");
        k = end;
    }
    o.push_str("</table>");
    numbers(
        &format!("{note} In 1 % cells (centred on whole percentages), one row per turnout cell:"),
        &o,
    )
}

/// Panel widths proportional to each panel's seat range (so a seat is about as wide in every
/// panel), none narrower than [`MIN_PANEL`], summing to `avail`.
fn panel_widths(x_maxes: &[f64], avail: f64) -> Vec<f64> {
    const MIN_PANEL: f64 = 130.0;
    let spans: Vec<f64> = x_maxes.iter().map(|m| m + 1.2).collect();
    let mut fixed = vec![false; spans.len()];
    loop {
        let free: f64 = avail - MIN_PANEL * fixed.iter().filter(|f| **f).count() as f64;
        let sum: f64 = spans
            .iter()
            .zip(&fixed)
            .filter(|(_, f)| !**f)
            .map(|(s, _)| s)
            .sum();
        let k = if sum > 0.0 { free / sum } else { 0.0 };
        let mut changed = false;
        for (i, s) in spans.iter().enumerate() {
            if !fixed[i] && s * k < MIN_PANEL {
                fixed[i] = true;
                changed = true;
            }
        }
        if !changed || fixed.iter().all(|f| *f) {
            return spans
                .iter()
                .zip(&fixed)
                .map(|(s, f)| if *f { MIN_PANEL } else { s * k })
                .collect();
        }
    }
}

/// One histogram over runs of a fraction shown in percent, with the real value marked: inside
/// the axis when it is within 1.5 ranges of the simulated values, otherwise as an arrow at the
/// edge with its value.
fn histogram_svg(h: &RunHistogram, id: &str) -> String {
    let (w, ht) = (300.0, 200.0);
    let lo = h.lo;
    let hi = h.hi();
    let span = (hi - lo).max(1e-9);
    let (mut x0, mut x1) = (lo, hi);
    let mut outside: Option<(f64, bool)> = None;
    if let Some(r) = h.reported.filter(|r| r.is_finite()) {
        if r >= lo - 1.5 * span && r <= hi + 1.5 * span {
            x0 = x0.min(r);
            x1 = x1.max(r);
        } else {
            outside = Some((r, r > hi));
        }
    }
    let pad = (x1 - x0).max(1e-9) * 0.06;
    let (x0, x1) = (x0 - pad, x1 + pad);
    // headroom above the tallest bar for the label of the real value
    let y_max = h.counts.iter().copied().max().unwrap_or(1).max(1) as f64 * 1.3;
    let f = Frame {
        left: 50.0,
        top: 30.0,
        width: 236.0,
        height: 112.0,
        x: (100.0 * x0, 100.0 * x1),
        y: (0.0, y_max),
        y_label_gap: 38.0,
    };
    let mut svg = format!(
        r#"<svg id="{id}" class="plot histogram" viewBox="0 0 {w} {ht}" width="{w}" height="{ht}" role="img" aria-label="{}: distribution over runs">"#,
        escape(&format!("{} — {}", h.title, h.axis))
    );
    let _ = write!(
        svg,
        r#"<text x="8" y="16" class="title">{}<title>{}</title></text>"#,
        escape(&truncate(&h.title, 34)),
        escape(&h.title)
    );
    let _ = write!(
        svg,
        r#"<g fill="{BLUE}" stroke="white" stroke-width="0.5">"#
    );
    for (k, &c) in h.counts.iter().enumerate() {
        if c == 0 {
            continue;
        }
        let a = h.lo + k as f64 * h.bin_width;
        let b = a + h.bin_width;
        let (xa, xb) = (f.px(100.0 * a), f.px(100.0 * b));
        let _ = write!(
            svg,
            r#"<rect x="{xa:.1}" y="{:.1}" width="{:.1}" height="{:.1}"><title>{:.2}–{:.2} %: {}</title></rect>"#,
            f.py(c as f64),
            (xb - xa).max(0.8),
            f.py(0.0) - f.py(c as f64),
            100.0 * a,
            100.0 * b,
            runs_text(c)
        );
    }
    svg.push_str("</g>");
    let step = nice_step(f.x.1 - f.x.0, 4);
    let d = step_decimals(step);
    let x_ticks = ticks_in(f.x.0, f.x.1, step);
    let y_ticks = ticks_in(0.0, y_max, integer_step(y_max, 4));
    f.axes(
        &mut svg,
        &Axes {
            x_ticks: &x_ticks,
            y_ticks: &y_ticks,
            x_label: &h.axis,
            y_label: "Runs",
            fmt_x: &|v| format!("{v:.d$}"),
            fmt_y: &|v| format!("{v}"),
        },
    );
    match (h.reported, outside) {
        (Some(r), None) if r.is_finite() => {
            let x = f.px(100.0 * r);
            let right_half = x > f.left + f.width / 2.0;
            let _ = write!(
                svg,
                r#"<line x1="{x:.1}" y1="{t}" x2="{x:.1}" y2="{b}" stroke="{VERMILLION}" stroke-width="2" stroke-dasharray="5 3"/><text x="{tx:.1}" y="{ty}" text-anchor="{anchor}" fill="{VERMILLION}" style="fill:{VERMILLION}">real {}</text>"#,
                pct(r, 2),
                t = f.top,
                b = f.top + f.height,
                tx = if right_half { x - 4.0 } else { x + 4.0 },
                ty = f.top + 12.0,
                anchor = if right_half { "end" } else { "start" },
            );
        }
        (_, Some((r, right))) => {
            let (x, anchor, text) = if right {
                (
                    f.left + f.width - 4.0,
                    "end",
                    format!("real {} ▶", pct(r, 2)),
                )
            } else {
                (f.left + 4.0, "start", format!("◀ real {}", pct(r, 2)))
            };
            let _ = write!(
                svg,
                r#"<text x="{x:.1}" y="{ty}" text-anchor="{anchor}" style="fill:{VERMILLION}">{text}</text>"#,
                ty = f.top + 12.0,
            );
        }
        _ => {}
    }
    svg.push_str("</svg>");
    svg
}

fn histogram_caption(h: &RunHistogram) -> String {
    let mut c = format!(
        "mean {}, 5–95 % of runs: {:.2}–{:.2}",
        pct(h.mean, 2),
        100.0 * h.p05,
        100.0 * h.p95
    );
    if let Some(r) = h.reported {
        let _ = write!(
            c,
            " · real {} · beyond: {}",
            pct(r, 2),
            opt_pct(h.at_or_beyond, 0)
        );
    }
    c
}

/// The per-party numbers at a glance: shares and seats, simulated beside real.
fn glance_table(r: &RunReport, v: &VariantReport) -> String {
    let mut o = String::from(
        "<table class=\"glance\"><tr><th>party</th><th>list share [5–95 %]</th><th>real</th><th>beyond</th>",
    );
    for t in &v.seats {
        let _ = write!(o, "<th>{}</th>", escape(&t.title));
    }
    o.push_str("</tr>");
    let ids = r
        .parties
        .iter()
        .map(|p| (p.id.as_str(), p.name.as_str()))
        .chain([("independent", "Independents")]);
    for (id, name) in ids {
        let share = v
            .distributions
            .iter()
            .find(|h| h.metric == format!("share.{id}"));
        let seats: Vec<Option<&SeatRow>> = v
            .seats
            .iter()
            .map(|t| t.rows.iter().find(|row| row.id == id))
            .collect();
        if share.is_none() && seats.iter().all(Option::is_none) {
            continue;
        }
        let _ = write!(o, "<tr><td>{}</td>", escape(name));
        match share {
            Some(h) => {
                let _ = write!(
                    o,
                    "<td>{} [{:.2}–{:.2}]</td><td>{}</td><td>{}</td>",
                    pct(h.mean, 2),
                    100.0 * h.p05,
                    100.0 * h.p95,
                    opt_pct(h.reported, 2),
                    opt_pct(h.at_or_beyond, 0)
                );
            }
            None => o.push_str("<td></td><td></td><td></td>"),
        }
        for s in seats {
            match s {
                Some(row) => {
                    let _ = write!(
                        o,
                        "<td>{:.1} ({})</td>",
                        row.mean,
                        row.reported.map(seats_num).unwrap_or_else(|| "—".into())
                    );
                }
                None => o.push_str("<td></td>"),
            }
        }
        o.push_str("</tr>");
    }
    o.push_str("</table>");
    o
}

/// A table with its title (at heading level `h`) and note; its id is `id`.
fn table_html(t: &Table, h: u8, id: &str) -> String {
    let mut o = format!(
        "<h{h}>{}</h{h}><p class=\"note\">{}</p><div class=\"scroll\"><table id=\"{}\"{}><tr>",
        escape(&t.title),
        escape(&t.note),
        escape(id),
        if t.shade.is_empty() {
            ""
        } else {
            " class=\"heat\""
        },
    );
    for h in &t.header {
        let _ = write!(o, "<th>{}</th>", escape(h));
    }
    o.push_str("</tr>");
    for (i, row) in t.rows.iter().enumerate() {
        o.push_str("<tr>");
        for (j, c) in row.iter().enumerate() {
            o.push_str("<td");
            if let Some(d) = t
                .details
                .get(i)
                .and_then(|r| r.get(j))
                .filter(|d| !d.is_empty())
            {
                let _ = write!(o, " title=\"{}\"", escape(d));
            }
            if let Some(x) = t.shade.get(i).and_then(|r| r.get(j)).copied().flatten() {
                // Okabe–Ito blue at up to 60 % opacity: dark text stays readable
                let _ = write!(
                    o,
                    " style=\"background: rgba(0, 114, 178, {:.2})\"",
                    0.6 * x.clamp(0.0, 1.0)
                );
            }
            let _ = write!(o, ">{}</td>", escape(c));
        }
        o.push_str("</tr>");
    }
    o.push_str("</table></div>");
    o
}

/// One variant's section; `baseline_id` is the page id (slug) of its honest baseline's section,
/// if it has one with a fingerprint.
fn variant_section(
    r: &RunReport,
    v: &VariantReport,
    vs: &str,
    baseline_id: Option<&str>,
) -> String {
    let mut o = String::new();
    let _ = write!(
        o,
        "<section id=\"variant-{vs}\"><h2>Variant “{}”</h2><p>{}. {} runs{}.{}</p>",
        escape(&v.name),
        escape(&v.description),
        v.runs,
        match (&v.baseline, v.honest) {
            (_, true) => ", honest voting (no fraud model)".to_string(),
            (Some(b), false) => format!(", with fraud; its honest baseline is “{}”", escape(b)),
            (None, false) => ", with fraud".to_string(),
        },
        match v.consistent_with_reported {
            Some(true) =>
                " The real result lies within the central 95 % of its runs (turnout and every list share).",
            Some(false) =>
                " The real result lies outside the central 95 % of its runs (turnout or some list share).",
            None => "",
        }
    );
    o.push_str(
        "<p class=\"note\">At a glance: simulated list shares (mean over runs, with the range of \
         the middle 90 % of runs) beside the real result; “beyond”: the share of runs at least as \
         far from the median as the real value; seats as simulated mean (real).</p>",
    );
    o.push_str(&glance_table(r, v));
    for t in &v.tables {
        o.push_str(&table_html(t, 3, &format!("{}-{vs}", slug(&t.id))));
    }
    if !v.seats.is_empty() {
        let _ = write!(
            o,
            "<h3>Seats</h3><p class=\"note\">One row per party and one panel per tier. \
             <span class=\"sim\">Blue bars</span>: how many runs gave the party that many seats \
             (the tallest bar in a row is its most common count; hover for the number of runs); \
             the pale band spans 5–95 % of runs. <span class=\"real\">Diamond</span>: the real \
             result from the scenario. A diamond far from the bars is a result this variant \
             rarely or never produces.</p>{}{}",
            seats_svg(v, &format!("seats-{vs}")),
            seats_numbers(v, &format!("seats-{vs}"))
        );
        let parts: Vec<String> = v
            .exact_match
            .tiers()
            .into_iter()
            .filter(|(l, _)| *l != "total" || v.seats.iter().any(|t| t.tier == "district_seats"))
            .map(|(l, x)| format!("{l} seats {}", pct(x, 0)))
            .collect();
        if !parts.is_empty() {
            let _ = write!(
                o,
                "<p>Runs whose whole seat vector equals the real one: {}.</p>",
                parts.join(", ")
            );
        }
    }
    if !v.distributions.is_empty() {
        o.push_str(
            "<h3>Turnout and list shares</h3><p class=\"note\">Histograms over runs: each \
             <span class=\"sim\">bar</span> counts the runs whose national figure fell in its \
             range. The <span class=\"real\">dashed line</span> is the real reported value; when \
             it lies far outside the simulated range, an arrow at the edge gives it instead. \
             “Runs at or beyond” is the share of runs at least as extreme as the real value on \
             its side of the median: near 0 % means the variant hardly ever produces it. </p><div class=\"grid\">",
        );
        let mut hists = Vec::new();
        for h in &v.distributions {
            let hid = match h.metric.strip_prefix("share.") {
                Some(p) => format!("hist-{vs}-share-{}", slug(p)),
                None => format!("hist-{vs}-{}", slug(&h.metric)),
            };
            let _ = write!(
                o,
                "<figure>{}<figcaption>{}</figcaption></figure>",
                histogram_svg(h, &hid),
                escape(&histogram_caption(h))
            );
            hists.push((hid, h));
        }
        o.push_str("</div>");
        o.push_str(&histograms_numbers(&hists, &format!("hists-{vs}-numbers")));
    }
    if let Some(fp) = &v.fingerprint {
        let cells = if fp.fine.is_empty() { "1 %" } else { "0.1 %" };
        let real = r
            .real
            .as_ref()
            .filter(|x| x.map.map_side() == fp.map_side());
        let _ = write!(
            o,
            "<h3>Fingerprint of one run</h3><p class=\"note\">Run {} — the run closest to the \
             median turnout and {party}'s share — station by station: each cell ({cells} × \
             {cells}) counts the polling stations with that turnout and that share for {party}{} \
             (Klimek et al. 2012; the same map <code>tamga forensics</code> draws for real \
             results). {} stations, turnout {}, {party}'s share {} of list ballots, {} stations \
             at ≥ 95 % turnout and ≥ 95 % share. {}{}</p>",
            fp.run,
            follows_note(r, fp),
            fp.stations,
            pct(fp.national_turnout, 2),
            pct(fp.national_share, 2),
            fp.count_95_95,
            if v.honest {
                "Honest voting gives one compact cluster; ballot stuffing would smear it towards \
                 the upper right corner (100 %, 100 %)."
                    .to_string()
            } else {
                format!(
                    "{}Ballot stuffing and written-in results smear the cluster towards the upper \
                     right corner (100 %, 100 %); fraud that changes only aggregates leaves the \
                     stations' map unchanged. <span class=\"real\">Outlined cells</span> hold \
                     the {} stations whose protocol fraud changed in this run (the simulation \
                     knows them; real data would not).",
                    match (&v.baseline, baseline_id) {
                        (Some(b), Some(id)) => format!(
                            "Left: the honest baseline <a href=\"#fingerprint-{id}\">“{}”</a> \
                             (the same map as in its section); then this variant. ",
                            escape(b)
                        ),
                        (Some(b), None) => format!("Its honest baseline is “{}”. ", escape(b)),
                        _ => String::new(),
                    },
                    fp.stations_touched
                )
            },
            if real.is_some() {
                " Last: the <a href=\"#real-stations\">real station results</a> on the same \
                 axes and cells."
            } else {
                ""
            },
            party = escape(&fp.leader),
        );
        let own = fingerprint_svg(fp, &format!("fingerprint-{vs}"));
        let (w, h) = heatmap_size(fp.map_side());
        // other maps drawn again by reference (a few bytes, no copy)
        let by_ref = |target: &str, label: &str, caption: &str| {
            format!(
                "<figure><svg class=\"plot heatmap-ref\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" role=\"img\" aria-label=\"{label}\"><use href=\"#{target}\"/></svg><figcaption>{caption}</figcaption></figure>"
            )
        };
        let mut figures = Vec::new();
        match (&v.baseline, baseline_id) {
            (Some(b), Some(id)) if !v.honest => {
                let b = escape(b);
                figures.push(by_ref(
                    &format!("fingerprint-{id}"),
                    &format!("The fingerprint of the honest baseline {b}"),
                    &format!("honest baseline “{b}”"),
                ));
                figures.push(format!(
                    "<figure>{own}<figcaption>“{}”, with fraud</figcaption></figure>",
                    escape(&v.name)
                ));
            }
            _ if real.is_some() => figures.push(format!(
                "<figure>{own}<figcaption>“{}”</figcaption></figure>",
                escape(&v.name)
            )),
            _ => figures.push(own),
        }
        if let Some(x) = real {
            figures.push(by_ref(
                "fingerprint-real",
                "The fingerprint of the real station results",
                &format!(
                    "real stations ({})",
                    escape(x.file.rsplit(['/', '\\']).next().unwrap_or(&x.file))
                ),
            ));
        }
        if figures.len() == 1 {
            o.push_str(&figures[0]);
        } else {
            let _ = write!(
                o,
                "<div class=\"pair{}\">{}</div>",
                if fp.fine.is_empty() { "" } else { " fine" },
                figures.concat()
            );
        }
        o.push_str(&fingerprint_numbers(
            fp,
            &format!("fingerprint-{vs}"),
            Some(&v.name),
        ));
    }
    o.push_str("</section>\n");
    o
}

/// Why a fingerprint follows its party, for its caption: `", the party the fraud variants
/// favour (…)"`, or `" (the run's leader)"` when the report follows each run's leader.
fn follows_note(r: &RunReport, fp: &RunFingerprint) -> String {
    if r.follows.is_empty() {
        " (the run's leader)".to_string()
    } else if let Some(why) = r.follows.strip_prefix(&format!("{}, ", fp.leader)) {
        format!(
            ", {} (the overview and the regional view follow it too)",
            escape(why)
        )
    } else {
        String::new()
    }
}

/// The section of the real station results: their fingerprint, on the simulated maps' axes.
fn real_section(r: &RunReport, x: &super::real::RealFingerprint) -> String {
    let fp = &x.map;
    let cells = if fp.fine.is_empty() { "1 %" } else { "0.1 %" };
    format!(
        "<section id=\"real-stations\"><h2>Real station results</h2><p class=\"note\">The \
         station results the scenario names (<code>[reported] stations = \"{}\"</code>), on \
         the axes and cells ({cells} × {cells}) of every variant's fingerprint below and \
         through the same station filter: each cell counts the stations with that turnout and \
         that share of list ballots for {party}{}. {} of the file's {} stations mapped, turnout \
         {}, {party}'s share {} of list ballots, {} stations at ≥ 95 % turnout and ≥ 95 % \
         share. Set beside each variant's map: a hypothesis that fits should look like this \
         one, cluster and tails alike.</p>{}{}</section>\n",
        escape(&x.file),
        follows_note(r, fp),
        fp.stations,
        x.stations_in_file,
        pct(fp.national_turnout, 2),
        pct(fp.national_share, 2),
        fp.count_95_95,
        fingerprint_svg(fp, "fingerprint-real"),
        fingerprint_numbers(fp, "fingerprint-real", None),
        party = escape(&fp.leader),
    )
}

/// The fingerprint heat map of a run (in 0.1 % cells when it has them), with the cells holding
/// stations whose protocol fraud changed outlined in vermillion (the simulation knows which they
/// are).
fn fingerprint_svg(fp: &RunFingerprint, id: &str) -> String {
    let share_axis = if fp.leader.is_empty() {
        "Leader's share of list ballots (%)".to_string()
    } else {
        format!(
            "{}'s share of list ballots (%)",
            crate::svg::truncate(&fp.leader, 24)
        )
    };
    let (mut svg, n, touched) = if fp.fine.is_empty() {
        (
            heatmap(&fp.heatmap, id, &share_axis),
            fp.heatmap.len(),
            &fp.touched,
        )
    } else {
        let n = fp.map_side();
        let mut dense = vec![vec![0u32; n]; n];
        for &(t, s, c) in &fp.fine {
            dense[t as usize][s as usize] = c;
        }
        (heatmap(&dense, id, &share_axis), n, &fp.fine_touched)
    };
    if touched.is_empty() {
        return svg;
    }
    let mut d = String::new();
    for &(t, s, _) in touched {
        let (x, y, side) = heatmap_cell(n, t as usize, s as usize);
        let _ = write!(d, "M{} {}h{side}v{side}h-{side}z", coord(x), coord(y));
    }
    let marks = format!(
        r#"<path d="{d}" fill="none" stroke="{VERMILLION}" stroke-width="{}"><title>{} stations whose protocol fraud changed</title></path>"#,
        if n > 101 { "0.4" } else { "1" },
        fp.stations_touched
    );
    let end = svg.rfind("</svg>").unwrap_or(svg.len());
    svg.insert_str(end, &marks);
    svg
}

/// Renders the report as a self-contained HTML page (UTF-8, ends with a newline).
pub fn render(r: &RunReport) -> String {
    let pv = &r.provenance;
    let mut o = String::new();
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>tamga report — {name}</title>\n<style>\n{CSS}\n</style></head><body>\n<h1>{name}</h1>\n<p>{runs} simulated elections per variant, seed {seed}, tamga {ver}. \
         Throughout, <span class=\"sim\">blue</span> is the simulation and \
         <span class=\"real\">vermillion</span> the real reported result given in the scenario. \
         Hover over a bar or marker for its numbers. The numbers behind the page are beside it: \
         <a href=\"summary.json\">summary.json</a> (every distribution, the detection matrix), \
         <a href=\"runs.csv\">runs.csv</a> (one row per run) and \
         <a href=\"fingerprints.csv\">fingerprints.csv</a> (every cell of the fingerprint maps); \
         under each plot, <em>numbers</em> unfolds its data as a table.</p>\n",
        name = escape(&pv.scenario),
        runs = pv.runs,
        seed = pv.seed,
        ver = escape(pv.tamga_version),
    );
    o.push_str(&r.overview.html(&table_html));
    o.push_str("<nav aria-label=\"Contents\"><h2>Contents</h2><ul><li><a href=\"#overview\">Overview</a></li>");
    let mut ids: Vec<String> = Vec::new();
    for (vi, v) in r.variants.iter().enumerate() {
        let mut s = slug(&v.name);
        if ids.contains(&s) {
            s = format!("{s}-{vi}");
        }
        let _ = write!(
            o,
            "<li><a href=\"#variant-{s}\">{}</a> — {}</li>",
            escape(&v.name),
            escape(&v.description)
        );
        ids.push(s);
    }
    if r.regions.is_some() {
        o.push_str("<li><a href=\"#regions\">Regions</a></li>");
    }
    if r.real.is_some() {
        o.push_str("<li><a href=\"#real-stations\">Real station results</a></li>");
    }
    for t in &r.tables {
        let _ = write!(
            o,
            "<li><a href=\"#{}\">{}</a></li>",
            slug(&t.id),
            escape(&t.title)
        );
    }
    o.push_str("<li><a href=\"#provenance\">Provenance and scenario file</a></li></ul></nav>\n");
    if let Some(rv) = &r.regions {
        o.push_str(&rv.html(&table_html));
    }
    if let Some(x) = &r.real {
        o.push_str(&real_section(r, x));
    }
    for (v, s) in r.variants.iter().zip(&ids) {
        let baseline_id = v.baseline.as_ref().and_then(|b| {
            r.variants
                .iter()
                .zip(&ids)
                .find(|(x, _)| &x.name == b && x.fingerprint.is_some())
                .map(|(_, id)| id.as_str())
        });
        o.push_str(&variant_section(r, v, s, baseline_id));
    }
    for t in &r.tables {
        let _ = writeln!(
            o,
            "<section id=\"section-{}\">{}</section>",
            slug(&t.id),
            table_html(t, 2, &slug(&t.id))
        );
    }
    let _ = write!(
        o,
        "<section id=\"provenance\"><h2>Provenance</h2><table class=\"prov\">\
         <tr><td>tamga version</td><td>{}</td></tr>\
         <tr><td>scenario</td><td>{}</td></tr>\
         <tr><td>scenario digest (SHA-256)</td><td><code>{}</code></td></tr>\
         <tr><td>seed</td><td>{}</td></tr>\
         <tr><td>runs per variant</td><td>{} (run indices {}–{})</td></tr>\
         <tr><td>simulation path</td><td>{}</td></tr></table>\
         <p class=\"note\">The same scenario, seed and runs give this page byte for byte. \
         Colours: Okabe–Ito and viridis (colour-blind safe).</p>\
         <details><summary>Scenario file</summary><pre>{}</pre></details></section>\n</body></html>\n",
        escape(pv.tamga_version),
        escape(&pv.scenario),
        escape(&pv.scenario_digest),
        pv.seed,
        pv.runs,
        pv.first_run,
        (pv.first_run as u64 + pv.runs as u64).saturating_sub(1),
        escape(pv.path),
        escape(&r.scenario_text)
    );
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_safe_ids() {
        assert_eq!(slug("exit-poll"), "exit-poll");
        assert_eq!(slug("Green surge!"), "green-surge-");
        assert_eq!(slug(""), "x");
        assert_eq!(slug("a\"<b"), "a--b");
    }

    #[test]
    fn percent_and_seat_formats() {
        assert_eq!(pct(0.5649, 2), "56.49 %");
        assert_eq!(pct(f64::NAN, 2), "n/a");
        assert_eq!(seats_num(7.0), "7");
        assert_eq!(seats_num(6.5), "6.5");
        assert_eq!(integer_step(50.0, 5), 10.0);
        assert_eq!(integer_step(3.0, 5), 1.0);
        assert_eq!(integer_step(12.0, 5), 3.0);
    }

    fn hist(reported: f64) -> RunHistogram {
        RunHistogram {
            metric: "turnout".into(),
            title: "Turnout".into(),
            axis: "Turnout (% of registered voters)".into(),
            lo: 0.45,
            bin_width: 0.001,
            counts: vec![1, 4, 2],
            mean: 0.4515,
            p05: 0.4502,
            p50: 0.4515,
            p95: 0.4528,
            reported: Some(reported),
            at_or_beyond: Some(0.0),
        }
    }

    #[test]
    fn the_real_value_is_a_line_when_near_and_an_arrow_when_far() {
        let near = histogram_svg(&hist(0.4535), "h");
        assert!(near.contains("stroke-dasharray=\"5 3\""));
        assert!(near.contains(">real 45.35 %</text>"));
        let far = histogram_svg(&hist(0.5649), "h");
        assert!(!far.contains("stroke-dasharray"));
        assert!(far.contains(">real 56.49 % ▶</text>"));
        let below = histogram_svg(&hist(0.30), "h");
        assert!(below.contains(">◀ real 30.00 %</text>"));
        // three bars, ticks inside the frame
        assert_eq!(far.matches("<rect x=").count(), 1 + 3);
    }

    #[test]
    fn panels_share_the_width_by_seat_range() {
        let w = panel_widths(&[7.0, 43.0, 50.0], 650.0);
        assert!((w.iter().sum::<f64>() - 650.0).abs() < 1e-9);
        assert_eq!(w[0], 130.0);
        assert!(w[2] > w[1] && w[1] > 200.0, "{w:?}");
        let w = panel_widths(&[1.0, 1.0], 200.0);
        assert_eq!(w, vec![130.0, 130.0]);
    }
}
