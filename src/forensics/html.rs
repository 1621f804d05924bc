//! The forensics report as one self-contained HTML page: inline CSS and inline SVG, no scripts,
//! no fonts or images fetched from anywhere, so the file can be archived and opened offline.
//!
//! Owns: the page layout and the charts — the fingerprint heat map (turnout × leader share,
//! 1 % × 1 % bins, colour on a log scale; drawn by the shared [`crate::svg::heatmap`],
//! which also holds the palette, escaping and axes used here), the turnout and share histograms at 0.1 % with the
//! bins on whole percentages marked (the integer-percentage peaks of Kobak et al. 2016), the
//! cumulative votes against turnout (Klimek et al. 2012, Fig. 6), and the observed versus fitted
//! share histogram of the Klimek model. Never does: I/O or statistics; [`render`] is a pure
//! function of the [`Report`].
//!
//! Colours are colour-blind safe: the heat map uses viridis (van der Walt & Smith, designed to be
//! perceptually uniform and readable with deuteranopia and protanopia); lines and bars use the
//! Okabe–Ito palette (Okabe & Ito, "Color Universal Design", 2008): blue #0072B2,
//! vermillion #D55E00, orange #E69F00. Marked bins also differ in shape
//! (drawn full height in a second colour with a legend), not in colour alone.

use std::fmt::Write;

use super::Report;
use super::report::{calibrated_p, num, p_value, pct, thousands, with_interval};
use super::stats::klimek::KlimekFit;
use crate::svg::{
    self, Axes, BLUE, Frame, ORANGE, VERMILLION, escape, fmt_count, percent_ticks, ticks_up_to,
};

fn heatmap_svg(r: &Report) -> String {
    svg::heatmap(
        &r.fingerprint.heatmap,
        "fingerprint",
        "Leader's share of ballots (%)",
    )
}

fn fine_histogram_svg(counts: &[u32], x_label: &str, what: &str) -> String {
    let n = counts.len();
    // The 0 % and 100 % bins can dwarf everything (Russia 2011: ~2,500 stations at exactly
    // 100 % turnout); the scale follows the interior bins and taller bars are clipped and labelled.
    let interior = counts[1..n.saturating_sub(1)]
        .iter()
        .copied()
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let f = Frame {
        left: 70.0,
        top: 30.0,
        width: 800.0,
        height: 260.0,
        x: (-0.05, (n as f64 - 0.5) / 10.0),
        y: (0.0, interior * 1.15),
        y_label_gap: 52.0,
    };
    let mut svg = format!(
        r#"<svg viewBox="0 0 900 350" width="900" height="350" role="img" aria-label="{} histogram at 0.1 % resolution">"#,
        escape(what)
    );
    let mut plain = String::new();
    let mut marked = String::new();
    let mut clipped = String::new();
    for (k, &c) in counts.iter().enumerate() {
        if c == 0 {
            continue;
        }
        let x = f.px(k as f64 / 10.0);
        let shown = (c as f64).min(f.y.1);
        let path = if k % 10 == 0 { &mut marked } else { &mut plain };
        let _ = write!(path, "M{x:.2} {:.1}V{:.1}", f.py(0.0), f.py(shown));
        if (c as f64) > f.y.1 {
            let _ = write!(
                clipped,
                r#"<text x="{:.1}" y="{:.1}" text-anchor="end">{} % : {} stations (bar clipped) ▸</text>"#,
                x - 4.0,
                f.py(f.y.1) + 12.0,
                k as f64 / 10.0,
                thousands(c as u64)
            );
        }
    }
    let _ = write!(
        svg,
        r#"<path d="{plain}" stroke="{BLUE}" stroke-width="0.8" fill="none"/><path d="{marked}" stroke="{VERMILLION}" stroke-width="1.6" fill="none"/>{clipped}"#
    );
    f.axes(
        &mut svg,
        &Axes {
            x_ticks: &percent_ticks(),
            y_ticks: &ticks_up_to(f.y.1),
            x_label,
            y_label: "Stations per 0.1 % bin",
            fmt_x: &|v| format!("{v}"),
            fmt_y: &fmt_count,
        },
    );
    let _ = write!(
        svg,
        r#"<rect x="90" y="8" width="12" height="12" fill="{BLUE}"/><text x="106" y="18">other bins</text><rect x="200" y="8" width="12" height="12" fill="{VERMILLION}"/><text x="216" y="18">bins on a whole percentage (integer peaks; expected height ≈ neighbours)</text></svg>"#
    );
    svg
}

fn cumulative_svg(r: &Report) -> String {
    let fp = &r.fingerprint;
    let max = *fp
        .cumulative_leader
        .last()
        .unwrap_or(&0)
        .max(fp.cumulative_others.last().unwrap_or(&0)) as f64;
    let f = Frame {
        left: 80.0,
        top: 30.0,
        width: 700.0,
        height: 300.0,
        x: (0.0, 100.0),
        y: (0.0, (max / 1e6).max(1e-6) * 1.05),
        y_label_gap: 52.0,
    };
    let mut svg = String::from(
        r#"<svg viewBox="0 0 820 390" width="820" height="390" role="img" aria-label="Cumulative votes against turnout">"#,
    );
    for (series, colour, dash) in [
        (&fp.cumulative_leader, BLUE, ""),
        (&fp.cumulative_others, ORANGE, r#" stroke-dasharray="6 3""#),
    ] {
        let mut d = String::new();
        for (t, v) in series.iter().enumerate() {
            let _ = write!(
                d,
                "{}{:.1} {:.1}",
                if t == 0 { "M" } else { "L" },
                f.px(t as f64),
                f.py(*v as f64 / 1e6)
            );
        }
        let _ = write!(
            svg,
            r#"<path d="{d}" stroke="{colour}" stroke-width="2" fill="none"{dash}/>"#
        );
    }
    f.axes(
        &mut svg,
        &Axes {
            x_ticks: &percent_ticks(),
            y_ticks: &ticks_up_to(f.y.1),
            x_label: "Turnout (%) — stations with at most this turnout",
            y_label: "Cumulative votes (millions)",
            fmt_x: &|v| format!("{v}"),
            fmt_y: &|v| format!("{v}"),
        },
    );
    let _ = write!(
        svg,
        r#"<line x1="100" y1="14" x2="130" y2="14" stroke="{BLUE}" stroke-width="2"/><text x="136" y="18">leader</text><line x1="210" y1="14" x2="240" y2="14" stroke="{ORANGE}" stroke-width="2" stroke-dasharray="6 3"/><text x="246" y="18">all other options and invalid ballots</text></svg>"#
    );
    svg
}

fn klimek_svg(k: &KlimekFit) -> String {
    let max = k
        .observed_histogram
        .iter()
        .chain(&k.fitted_histogram)
        .copied()
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let f = Frame {
        left: 70.0,
        top: 30.0,
        width: 707.0,
        height: 260.0,
        x: (-0.5, 100.5),
        y: (0.0, max * 1.05),
        y_label_gap: 52.0,
    };
    let mut svg = String::from(
        r#"<svg viewBox="0 0 820 350" width="820" height="350" role="img" aria-label="Observed and fitted leader share histograms">"#,
    );
    for (s, &c) in k.observed_histogram.iter().enumerate() {
        let _ = write!(
            svg,
            r#"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{BLUE}" fill-opacity="0.45"/>"#,
            f.px(s as f64 - 0.5),
            f.py(c as f64),
            f.width / 101.0,
            f.py(0.0) - f.py(c as f64)
        );
    }
    let mut d = String::new();
    for (s, &c) in k.fitted_histogram.iter().enumerate() {
        let _ = write!(
            d,
            "{}{:.1} {:.1}",
            if s == 0 { "M" } else { "L" },
            f.px(s as f64),
            f.py(c as f64)
        );
    }
    let _ = write!(
        svg,
        r#"<path d="{d}" stroke="{VERMILLION}" stroke-width="2" fill="none"/>"#
    );
    f.axes(
        &mut svg,
        &Axes {
            x_ticks: &percent_ticks(),
            y_ticks: &ticks_up_to(f.y.1),
            x_label: "Leader's share of ballots (%)",
            y_label: "Stations per 1 % bin",
            fmt_x: &|v| format!("{v}"),
            fmt_y: &fmt_count,
        },
    );
    let _ = write!(
        svg,
        r#"<rect x="90" y="8" width="12" height="12" fill="{BLUE}" fill-opacity="0.45"/><text x="106" y="18">observed</text><line x1="190" y1="14" x2="220" y2="14" stroke="{VERMILLION}" stroke-width="2"/><text x="226" y="18">fitted Klimek model (one simulation)</text></svg>"#
    );
    svg
}

fn integer_table(r: &Report) -> String {
    let mut o = String::from(
        "<table><tr><th></th><th>observed</th><th>expected</th><th>sd</th><th>excess</th><th>z</th></tr>",
    );
    for (name, c) in [
        ("turnout", &r.integer.turnout),
        ("share", &r.integer.share),
        ("either", &r.integer.either),
    ] {
        let _ = write!(
            o,
            "<tr><td>{name}</td><td>{}</td><td>{:.1}</td><td>{:.1}</td><td>{:+.1}</td><td>{:.2}</td></tr>",
            thousands(c.observed),
            c.expected,
            c.sd,
            c.excess,
            c.z
        );
    }
    o.push_str("</table>");
    o
}

fn digit_tables(r: &Report) -> String {
    let mut o = String::new();
    for s in &r.digits.series {
        let _ = write!(
            o,
            "<h3>{} (n = {}, counts ≥ 10)</h3><table><tr><th></th><th>observed</th><th>textbook</th><th>textbook p</th><th>clean-null mean</th><th>null 95 % range</th><th>calibrated p</th></tr>",
            escape(&s.series),
            thousands(s.n as u64)
        );
        for (name, t) in [
            ("second digit X² (2BL)", &s.second_digit_chi2),
            ("second digit mean", &s.second_digit_mean),
            ("last digit X²", &s.last_digit_chi2),
            ("last digit mean", &s.last_digit_mean),
            ("share ending in 0 or 5", &s.share_0_or_5),
        ] {
            let _ = write!(
                o,
                "<tr><td>{name}</td><td>{:.3}</td><td>{:.3}</td><td>{}</td><td>{:.3}</td><td>[{:.3}, {:.3}]</td><td>{}</td></tr>",
                t.observed,
                t.textbook_expected,
                p_value(t.textbook_p),
                t.null_mean,
                t.null_q025,
                t.null_q975,
                calibrated_p(t)
            );
        }
        o.push_str("</table>");
    }
    o
}

/// The cells where the data and the fitted model disagree most, both ways.
fn residual_table(k: &KlimekFit) -> String {
    let g = &k.fit;
    let mut cells: Vec<(f64, usize, usize, u32, f64)> = Vec::new();
    for (t, row) in g.observed_cells.iter().enumerate() {
        for (s, &obs) in row.iter().enumerate() {
            let m = g.model_cells[t][s];
            let z = (f64::from(obs) - m) / m.max(1.0).sqrt();
            cells.push((z, t, s, obs, m));
        }
    }
    cells.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    let mut o = String::from(
        "<table><tr><th>turnout × share cell</th><th>observed</th><th>model</th><th>(obs − model)/√model</th></tr>",
    );
    let n = cells.len();
    for &(z, t, s, obs, m) in cells
        .iter()
        .take(4)
        .chain(cells[n.saturating_sub(4)..].iter().rev())
    {
        let _ = write!(
            o,
            "<tr><td>{}–{} % × {}–{} %</td><td>{}</td><td>{:.1}</td><td>{:+.1}</td></tr>",
            2 * t,
            2 * t + 2,
            2 * s,
            2 * s + 2,
            thousands(u64::from(obs)),
            m,
            z
        );
    }
    o.push_str("</table>");
    o
}

fn reading_section(r: &Report) -> String {
    let mut o = String::from("<h2>Reading</h2>");
    for line in &r.reading.summary {
        let _ = write!(o, "<p>{}</p>", escape(line));
    }
    o.push_str("<table><tr><th>test</th><th>result</th><th>p</th><th>Holm-adjusted p</th><th>flags at 5 %</th></tr>");
    for t in &r.reading.tests {
        let _ = write!(
            o,
            "<tr><td>{}</td><td>{}</td><td>{}{}</td><td>{}</td><td>{}</td></tr>",
            escape(&t.test),
            escape(&t.says),
            if t.p_is_bound && t.p >= 1e-16 {
                "≤ "
            } else {
                ""
            },
            p_value(t.p),
            p_value(t.p_holm),
            if t.flags {
                "<strong>yes</strong>"
            } else {
                "no"
            }
        );
    }
    o.push_str("</table><p class=\"note\">Caveats:</p><ul class=\"note\">");
    for c in &r.reading.caveats {
        let _ = write!(o, "<li>{}</li>", escape(c));
    }
    o.push_str("</ul>");
    o
}

fn klimek_section(k: &KlimekFit) -> String {
    let p = |x: f64| pct(x);
    let f3 = |x: f64| format!("{x:.3}");
    let mut o = format!(
        "<h2>Klimek fraud model</h2><p class=\"note\">Fitted by likelihood to the 2-D turnout × share distribution (2 % × 2 % cells), all eight parameters jointly; intervals are 90 % station-bootstrap percentiles over {} replicates.</p>\
         <table><tr><th>parameter</th><th>estimate [90 % interval]</th></tr>\
         <tr><td>f<sub>i</sub> (incremental fraud)</td><td><strong>{}</strong></td></tr>\
         <tr><td>f<sub>e</sub> (extreme fraud)</td><td><strong>{}</strong></td></tr>\
         <tr><td>α</td><td>{}{}</td></tr>\
         <tr><td>fair turnout τ ± σ<sub>τ</sub></td><td>{} ± {}</td></tr>\
         <tr><td>fair leader share ν ± σ<sub>ν</sub></td><td>{} ± {}</td></tr>\
         <tr><td>incremental width θ</td><td>{}</td></tr>\
         <tr><td>stations the model cannot place</td><td>{}</td></tr></table>",
        k.bootstrap,
        with_interval(&k.f_incremental, &f3),
        with_interval(&k.f_extreme, &|x| format!("{x:.4}")),
        with_interval(&k.alpha, &|x| format!("{x:.2}")),
        if k.alpha_identified {
            ""
        } else {
            " (not identified: almost no station is frauded in the fit)"
        },
        with_interval(&k.turnout_mean, &p),
        with_interval(&k.turnout_sd, &p),
        with_interval(&k.share_mean, &p),
        with_interval(&k.share_sd, &p),
        with_interval(&k.incremental_sd, &f3),
        with_interval(&k.unplaced, &p),
    );
    if k.solutions.len() > 1 {
        o.push_str("<p>Distinct optima (never averaged):</p><table><tr><th>f<sub>i</sub></th><th>f<sub>e</sub></th><th>α</th><th>ν</th><th>τ</th><th>deviance gap</th><th>bootstrap refits</th></tr>");
        for s in &k.solutions {
            let q = &s.params;
            let _ = write!(
                o,
                "<tr><td>{:.3}</td><td>{:.4}</td><td>{:.2}</td><td>{}</td><td>{}</td><td>{:.1}</td><td>{}</td></tr>",
                q.f_incremental,
                q.f_extreme,
                q.alpha,
                pct(q.fair.share_mean),
                pct(q.fair.turnout_mean),
                s.deviance_gap,
                pct(s.bootstrap_share)
            );
        }
        o.push_str("</table>");
    }
    let v = &k.votes;
    let votes = |x: f64| thousands(x.max(0.0).round() as u64);
    let _ = write!(
        o,
        "<h3>Votes in question (model-based)</h3><p>If the fitted model is right, it stuffed {} ballots for the leader and moved {} votes to it: {} in all, {} of the leader's votes. These are expectations of the model on these stations' electorates, not counts of anything observed.</p>",
        with_interval(&v.stuffed, &votes),
        with_interval(&v.moved, &votes),
        with_interval(&v.total, &votes),
        with_interval(&v.share_of_leader_votes, &p)
    );
    let g = &k.fit;
    let _ = write!(
        o,
        "<h3>Goodness of fit</h3><p>Stations at turnout ≥ 95 % and share ≥ 95 %: model {}, observed {}. Misfit: {} of stations are off their model cell, against {} (99 %: {}) for samples from the model itself. The model implies national turnout {} (observed {}) and leader share {} (observed {}).</p>",
        with_interval(&g.corner_model, &p),
        pct(g.corner_observed),
        pct(g.misfit),
        pct(g.misfit_null_mean),
        pct(g.misfit_null_q99),
        pct(k.implied_turnout),
        pct(k.observed_turnout),
        pct(k.implied_share),
        pct(k.observed_share)
    );
    for w in &g.warnings {
        let _ = write!(o, "<p><strong>Warning:</strong> {}</p>", escape(w));
    }
    o.push_str(&residual_table(k));
    o.push_str(&klimek_svg(k));
    o
}

/// Renders the report as a self-contained HTML page; `source` names the input.
pub fn render(r: &Report, source: &str) -> String {
    let fp = &r.fingerprint;
    let mut o = String::new();
    let _ = write!(
        o,
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>tamga forensics — {src}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 960px; margin: 2em auto; padding: 0 1em; color: #222; }}
table {{ border-collapse: collapse; margin: 0.5em 0 1em; }}
td, th {{ border-bottom: 1px solid #ccc; padding: 0.2em 0.7em; text-align: right; }}
td:first-child, th:first-child {{ text-align: left; }}
svg text {{ font-size: 12px; fill: #222; }} svg .label {{ font-size: 13px; }}
.note {{ color: #555; font-size: 0.9em; }}
svg {{ max-width: 100%; height: auto; }} table {{ display: block; max-width: 100%; overflow-x: auto; }}
@media print {{ body {{ max-width: none; }} table {{ overflow: visible; }} svg {{ break-inside: avoid; }} }}
</style></head><body>
<h1>Election forensics: {src}</h1>
<p>Leader: <strong>{leader}</strong> ({how}). {read} stations read, {an} analysed. National turnout {nt}, leader {ns} (analysed stations). Seed {seed}.</p>
<table><tr><th>filter</th><th>stations removed</th></tr>"#,
        src = escape(source),
        leader = escape(&r.leader),
        how = match &r.leader_query {
            Some(q) => format!("matched “{}”", escape(q)),
            None => "largest total".to_string(),
        },
        read = thousands(r.stations_read as u64),
        an = thousands(r.stations_analysed as u64),
        nt = pct(fp.national_turnout),
        ns = pct(fp.national_share),
        seed = r.seed
    );
    for f in &r.filters {
        let _ = write!(
            o,
            "<tr><td>{}</td><td>{}</td></tr>",
            escape(&f.rule),
            thousands(f.removed as u64)
        );
    }
    o.push_str("</table>");
    o.push_str(&reading_section(r));
    let _ = write!(
        o,
        "<h2>Fingerprint</h2><p class=\"note\">Stations by turnout and the leader's share (Klimek et al. 2012). A fair election forms one compact cluster; incremental fraud smears it towards (100 %, 100 %), extreme fraud adds a cluster there.</p>{}",
        heatmap_svg(r)
    );
    let _ = write!(
        o,
        "<h2>Integer percentages</h2><p class=\"note\">Kobak, Shpilkin &amp; Pshenichnikov (2016): forged protocols gravitate to whole percentages. {} stations tested (removed: turnout &gt; 99 %: {}, share &gt; 99 %: {}); expected counts are exact under a binomial null.</p>{}{}{}",
        thousands(r.integer.stations as u64),
        thousands(r.integer.removed_turnout_above_99 as u64),
        thousands(r.integer.removed_share_above_99 as u64),
        integer_table(r),
        fine_histogram_svg(&fp.turnout_fine, "Turnout (%)", "Turnout"),
        fine_histogram_svg(
            &fp.share_fine,
            "Leader's share of ballots (%)",
            "Leader's share"
        )
    );
    let _ = write!(
        o,
        "<h2>Cumulative votes against turnout</h2><p class=\"note\">Votes from stations up to each turnout (Klimek et al. 2012, Fig. 6). In fair elections the curves level off; a late rise near 100 % turnout is the extreme-fraud boost.</p>{}",
        cumulative_svg(r)
    );
    match &r.klimek {
        Some(k) => o.push_str(&klimek_section(k)),
        None => {
            let _ = write!(
                o,
                "<h2>Klimek fraud model</h2><p>Undefined: {}.</p>",
                escape(r.klimek_undefined.as_deref().unwrap_or("no fit"))
            );
        }
    }
    match &r.clean_peak {
        Some(c) => {
            let _ = write!(
                o,
                "<h2>Shpilkin's clean-peak estimate (model-based)</h2><p>Turnout peak {}; at or below it the leader has {:.3} votes per vote for anyone else. Above it, keeping the others' votes and that ratio, the leader has <strong>{:.0}</strong> votes more than expected ({} of the leader's votes; 90 % station-bootstrap interval {:.0} to {:.0}).</p><p class=\"note\">Assumes the others' votes are genuine, stations at or below the turnout peak are clean, and without fraud the leader's ratio to the others would not rise with turnout. Where the leader's voters simply turn out more, it reports votes without any fraud.</p>",
                pct(c.peak_turnout),
                c.baseline_ratio,
                c.votes,
                pct(c.share_of_leader_votes),
                c.lo,
                c.hi
            );
        }
        None => o.push_str("<h2>Shpilkin's clean-peak estimate</h2><p>Undefined: no votes for anyone but the leader at or below the turnout peak.</p>"),
    }
    let _ = write!(
        o,
        "<h2>Digit tests</h2><p class=\"note\">Textbook references (2BL, uniform last digit, 0/5 share 0.2) reject almost any large election; the calibrated p-value (two-sided) compares with {} simulations of this election's own stations, each count redrawn binomially around the station's result; “≤” marks an observation beyond every simulation.</p>{}",
        r.digits.null_simulations,
        digit_tables(r)
    );
    let _ = writeln!(
        o,
        "<h2>Other fingerprints</h2><table>\
         <tr><td>turnout–share slope: leader votes per registered voter regressed on turnout (Myagkov et al. 2009; &gt; 1 signals stuffing)</td><td>{} ± {}</td></tr>\
         <tr><td>the same over all {} stations (as published)</td><td>{}</td></tr>\
         <tr><td>log vote rate ν = ln((N−W)/W): skewness (fair ≈ 0)</td><td>{}</td></tr>\
         <tr><td>log vote rate: kurtosis (fair ≈ 3)</td><td>{}</td></tr>\
         <tr><td>stations at turnout ≥ 95 % and share ≥ 95 %</td><td>{} ({})</td></tr>\
         <tr><td>the same over all stations</td><td>{}</td></tr></table>\
         <p class=\"note\">{} — {} bootstrap replicates, {} pseudo-stations per fraud component, seed {}: the same seed gives the same report; “undefined” marks a statistic the data cannot give. Colours: viridis and Okabe–Ito (colour-blind safe).</p></body></html>",
        num(fp.slope.slope, 3),
        num(fp.slope.slope_se, 3),
        thousands(fp.all_stations as u64),
        num(fp.slope_all_stations.slope, 3),
        num(fp.log_vote_rate.skewness, 2),
        num(fp.log_vote_rate.kurtosis, 2),
        thousands(fp.count_95_95 as u64),
        pct(fp.share_95_95),
        pct(fp.share_95_95_all_stations),
        escape(&r.tool),
        r.fit_effort.replicates,
        r.fit_effort.pseudo_stations,
        r.seed
    );
    o
}
