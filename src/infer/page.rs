//! The inference result as one self-contained HTML page (`tamga infer --out FILE.json` writes it
//! beside the JSON as `FILE.html`): inline CSS and inline SVG, no scripts, fonts, images or
//! links outside the file; laid out for a desktop and a 390 px phone (tables scroll inside
//! their own box, charts scale down).
//!
//! Owns: the page — the reading first, the candidate models with their probabilities, each
//! parameter's prior range with its 50 % and 90 % posterior intervals and median drawn on it
//! (and the planted truth of a synthetic election), what the fraud did, the posterior
//! predictive checks (outside the 90 % range marked by a word and a symbol, not by colour
//! alone), the generations, and the provenance. Never does: I/O or statistics; [`render`] is a
//! pure function of the [`Report`], so the same seed gives the same bytes.
//!
//! Every chart's `<svg>` has an `id` (`posterior-<model>`) and the class `plot intervals`.

use super::text::num;
use super::{Report, Status, Verdict};
use crate::svg::{BLUE, GREY, LIGHT_GREY, VERMILLION, escape};
use std::fmt::Write;

const CSS: &str = "body { font-family: system-ui, sans-serif; max-width: 960px; margin: 2em auto; padding: 0 1em; color: #222; line-height: 1.4; }
h2 { border-top: 2px solid #ccc; padding-top: 0.6em; margin-top: 2em; }
table { border-collapse: collapse; margin: 0.5em 0 1em; display: block; max-width: 100%; overflow-x: auto; }
td, th { border-bottom: 1px solid #ccc; padding: 0.2em 0.6em; text-align: right; white-space: nowrap; }
td:first-child, th:first-child { text-align: left; }
th { white-space: normal; vertical-align: bottom; }
svg { max-width: 100%; height: auto; } svg text { font-size: 12px; fill: #222; }
.note { color: #555; font-size: 0.9em; }
.warn { border-left: 4px solid #E69F00; background: #fdf6e8; padding: 0.3em 1em; margin: 1em 0; }
.out { color: #D55E00; font-weight: bold; }
code { font-size: 0.95em; overflow-wrap: anywhere; }
@media print { body { max-width: none; margin: 0; } table { overflow: visible; } svg, tr { break-inside: avoid; } }";

/// An id fragment: ASCII letters and digits kept, anything else `-`.
fn slug(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

/// Text escaped, with each `…` span set as code.
fn with_code(line: &str) -> String {
    let mut o = String::new();
    for (k, part) in line.split('`').enumerate() {
        if k % 2 == 1 {
            let _ = write!(o, "<code>{}</code>", escape(part));
        } else {
            o.push_str(&escape(part));
        }
    }
    o
}

fn interval(lo: f64, hi: f64) -> String {
    format!("{} – {}", num(lo), num(hi))
}

/// One model's parameters on their prior ranges: grey the prior, a thin bar the 90 % interval,
/// a thick bar the 50 %, a tick the median, and a vermillion diamond the planted truth.
fn intervals_svg(r: &Report, m: &super::ModelResult) -> Option<String> {
    let rows: Vec<_> = m
        .parameters
        .iter()
        .filter_map(|p| p.posterior.map(|i| (p, i)))
        .collect();
    if rows.is_empty() {
        return None;
    }
    let (left, width, row_h) = (10.0, 340.0, 46.0);
    let height = row_h * rows.len() as f64 + 8.0;
    let mut o = String::new();
    let _ = write!(
        o,
        r#"<svg id="posterior-{id}" class="plot intervals" width="360" height="{height}" viewBox="0 0 360 {height}" role="img" aria-label="posterior intervals of {name}">"#,
        id = slug(&m.name),
        name = escape(&m.name)
    );
    for (k, (p, i)) in rows.iter().enumerate() {
        let y = 8.0 + row_h * k as f64;
        let (lo, hi) = p.prior;
        let span = (hi - lo).max(1e-12);
        let x = |v: f64| left + (v.clamp(lo, hi) - lo) / span * width;
        let mid = y + 22.0;
        let _ = write!(
            o,
            r#"<text x="{left}" y="{ty}">{name}: {med} (90 %: {i90})</text><rect x="{left}" y="{ry}" width="{width}" height="6" fill="{LIGHT_GREY}"/><line x1="{a:.1}" y1="{mid}" x2="{b:.1}" y2="{mid}" stroke="{BLUE}" stroke-width="2"/><line x1="{c:.1}" y1="{mid}" x2="{d:.1}" y2="{mid}" stroke="{BLUE}" stroke-width="7"/><line x1="{e:.1}" y1="{t0}" x2="{e:.1}" y2="{t1}" stroke="{GREY}" stroke-width="2"/>"#,
            ty = y + 10.0,
            name = escape(&p.name),
            med = num(i.median),
            i90 = interval(i.lo90, i.hi90),
            ry = mid - 3.0,
            a = x(i.lo90),
            b = x(i.hi90),
            c = x(i.lo50),
            d = x(i.hi50),
            e = x(i.median),
            t0 = mid - 7.0,
            t1 = mid + 7.0,
        );
        let truth = r
            .truth
            .as_ref()
            .filter(|t| t.model == m.name)
            .and_then(|t| {
                t.parameters
                    .iter()
                    .find(|v| v.name == p.name)
                    .map(|v| v.value)
            });
        if let Some(t) = truth {
            let tx = x(t);
            let _ = write!(
                o,
                r#"<path d="M{tx:.1} {a} l5 6 l-5 6 l-5 -6 z" fill="{VERMILLION}"><title>true value {v}</title></path>"#,
                a = mid - 6.0,
                v = num(t)
            );
        }
    }
    o.push_str("</svg>");
    Some(o)
}

fn verdict(v: Verdict) -> &'static str {
    match v {
        Verdict::Supported => "supported",
        Verdict::Weak => "weak",
        Verdict::Excluded => "excluded",
    }
}

/// Renders the report as a self-contained HTML page.
pub fn render(r: &Report) -> String {
    let pv = &r.provenance;
    let mut o = String::new();
    let _ = write!(
        o,
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>tamga infer — {sc}</title>
<style>
{CSS}
</style></head><body>
<h1>Which fraud explains the result: {sc}</h1>
<p>Hypothesis <code>{h}</code>; observed: <code>{obs}</code>; {sims} simulated elections; seed {seed}.</p>
"#,
        sc = escape(&pv.scenario),
        h = escape(&pv.hypothesis),
        obs = escape(&pv.observed),
        sims = r.simulations,
        seed = pv.seed
    );
    match r.status {
        Status::Posterior => {}
        Status::NotReproduced => o.push_str(
            r#"<p class="warn"><strong>Not reproduced:</strong> no candidate comes close enough to the observed result; no posterior is reported.</p>"#,
        ),
        Status::Interrupted => o.push_str(
            r#"<p class="warn"><strong>Interrupted:</strong> the inference stopped before its first generation was complete; there is no result.</p>"#,
        ),
    }
    o.push_str("<h2>Reading</h2>");
    for line in &r.reading {
        let _ = write!(o, "<p>{}</p>", with_code(line));
    }
    // models
    // without a posterior the column is the closest particles' share, and no verdict
    let posterior = r.status == Status::Posterior;
    let _ = write!(
        o,
        r#"<h2>Candidate models</h2><table id="models"><tr><th>model</th><th>{}</th><th>verdict</th><th>particles</th><th>ESS</th><th>regression-adjusted</th></tr>"#,
        if posterior {
            "posterior probability"
        } else {
            "share of the closest particles (not a posterior)"
        }
    );
    for m in &r.models {
        let _ = write!(
            o,
            "<tr><td><code>{}</code></td><td>{:.3}</td><td>{}</td><td>{}</td><td>{:.0}</td><td>{}</td></tr>",
            escape(&m.name),
            m.probability,
            if posterior { verdict(m.verdict) } else { "—" },
            m.particles,
            m.ess,
            if m.particles == 0 {
                "—"
            } else if m.adjusted {
                "yes"
            } else {
                "no (the accepted particles as they are)"
            }
        );
    }
    o.push_str("</table><p class=\"note\">Supported at a posterior probability of at least 0.1, excluded below 0.01. ABC model probabilities depend on the statistics compared: they say which mechanisms can produce these figures, not that one did.</p>");
    // parameters
    o.push_str(r#"<h2>How much of each</h2><table id="parameters"><tr><th>parameter</th><th>median</th><th>50 %</th><th>90 %</th><th>prior</th></tr>"#);
    for m in &r.models {
        for p in &m.parameters {
            let cells = match &p.posterior {
                Some(i) => format!(
                    "<td>{}</td><td>{}</td><td>{}</td>",
                    num(i.median),
                    interval(i.lo50, i.hi50),
                    interval(i.lo90, i.hi90)
                ),
                None => "<td>—</td><td>—</td><td>—</td>".into(),
            };
            let _ = write!(
                o,
                "<tr><td><code>{}</code> in <code>{}</code></td>{cells}<td>{}</td></tr>",
                escape(&p.name),
                escape(&m.name),
                interval(p.prior.0, p.prior.1)
            );
        }
    }
    o.push_str("</table>");
    for m in &r.models {
        if let Some(svg) = intervals_svg(r, m) {
            let _ = write!(
                o,
                "<figure>{svg}<figcaption class=\"note\"><code>{}</code>: each parameter's prior range (grey), its 90 % (thin) and 50 % (thick) posterior intervals and median (tick){}.</figcaption></figure>",
                escape(&m.name),
                if r.truth.as_ref().is_some_and(|t| t.model == m.name) {
                    ", and the planted true value (diamond)"
                } else {
                    ""
                }
            );
        }
    }
    // what fraud did
    if !r.derived.is_empty() {
        o.push_str(r#"<h2>What the fraud did</h2><table id="derived"><tr><th>quantity (model-averaged)</th><th>median</th><th>50 %</th><th>90 %</th></tr>"#);
        for q in r.derived.iter().filter(|q| q.shown()) {
            let i = &q.interval;
            let _ = write!(
                o,
                "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&q.name),
                num(i.median),
                interval(i.lo50, i.hi50),
                interval(i.lo90, i.hi90)
            );
        }
        o.push_str("</table><p class=\"note\">Reported minus true in each simulated election: ballots added, turnout added (a fraction of the registered), valid votes moved from other lists, seats gained by the parties that gained, and per party and tier the seats moved (rows that stay at zero are left out).</p>");
    }
    if let Some(t) = &r.truth {
        let _ = write!(
            o,
            r#"<h2>Synthetic election: the truth</h2><p>The observed values were those of one election simulated with <code>{}</code> at known values.</p><table id="truth"><tr><th>quantity</th><th>true value</th><th>inside the 90 % interval</th></tr>"#,
            escape(&t.model)
        );
        for v in t.parameters.iter().chain(&t.derived) {
            let inside = match v.covered90 {
                Some(true) => "yes".to_string(),
                Some(false) => "<span class=\"out\">✗ no</span>".to_string(),
                None => "—".to_string(),
            };
            let _ = write!(
                o,
                "<tr><td><code>{}</code></td><td>{}</td><td>{inside}</td></tr>",
                escape(&v.name),
                num(v.value)
            );
        }
        o.push_str("</table>");
    }
    if !r.predictive.is_empty() {
        let _ = write!(
            o,
            r#"<h2>Posterior predictive checks</h2><p class="note">{} fresh elections from the posterior; each statistic's 90 % range beside the observed value. A value outside is something no supported mechanism at these intensities reproduces.</p><table id="predictive"><tr><th>statistic</th><th>observed</th><th>median</th><th>90 %</th><th>observed inside?</th></tr>"#,
            super::PREDICTIVE_RUNS
        );
        for p in &r.predictive {
            let _ = write!(
                o,
                "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&p.statistic),
                num(p.observed),
                num(p.simulated.median),
                interval(p.simulated.lo90, p.simulated.hi90),
                if p.inside90 {
                    "yes"
                } else {
                    "<span class=\"out\">✗ outside</span>"
                }
            );
        }
        o.push_str("</table>");
    }
    // generations
    o.push_str(r#"<h2>The run</h2><table id="generations"><tr><th>generation</th><th>tolerance</th><th>proposals</th><th>acceptance</th><th>ESS</th><th>model probabilities</th></tr>"#);
    for (g, step) in r.generations.iter().enumerate() {
        let probs: Vec<String> = step
            .model_probabilities
            .iter()
            .map(|p| format!("{p:.2}"))
            .collect();
        let _ = write!(
            o,
            "<tr><td>{g}</td><td>{}</td><td>{}</td><td>{:.3}</td><td>{:.0}</td><td>{}</td></tr>",
            if step.epsilon.is_finite() {
                format!("{:.3}", step.epsilon)
            } else {
                "∞".into()
            },
            step.proposed,
            step.acceptance,
            step.ess,
            probs.join(" / ")
        );
    }
    let _ = write!(
        o,
        "</table><p class=\"note\">Stopped: {}. Final tolerance {:.3} (the observed result counts as reproduced at {:.0} or less; 1 is a typical honest run-to-run miss); last acceptance rate {:.3}; effective sample size {:.0}.</p>",
        match r.stop {
            super::abc::Stop::Budget => "the next generation would have exceeded the budget",
            super::abc::Stop::Acceptance => "acceptance fell below 3 %",
            super::abc::Stop::Tolerance => "the tolerance stopped falling",
            super::abc::Stop::Generations => "the most generations",
            super::abc::Stop::Interrupted => "interrupted",
        },
        r.epsilon,
        r.reproduce_limit,
        r.acceptance,
        r.ess
    );
    let _ = writeln!(
        o,
        r#"<h2>Provenance</h2><table id="provenance"><tr><td>tamga</td><td>{}</td></tr><tr><td>scenario</td><td>{}</td></tr><tr><td>scenario digest</td><td><code>{}</code></td></tr><tr><td>hypothesis</td><td><code>{}</code></td></tr><tr><td>observed</td><td><code>{}</code></td></tr><tr><td>seed</td><td>{}</td></tr><tr><td>particles · budget</td><td>{} · {}</td></tr><tr><td>simulation path</td><td>{}</td></tr></table><p class="note">Method and assumptions: docs/inference.md. The same seed gives the same page.</p></body></html>"#,
        escape(&pv.tamga),
        escape(&pv.scenario),
        escape(&pv.digest),
        escape(&pv.hypothesis),
        escape(&pv.observed),
        pv.seed,
        pv.particles,
        pv.budget,
        escape(&pv.path)
    );
    o
}
