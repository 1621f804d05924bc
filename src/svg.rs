//! Inline-SVG plotting primitives shared by every HTML page tamga writes (`tamga run`'s
//! report.html and `tamga forensics`' report.html): the colour palettes, HTML escaping, a plotting
//! frame with labelled axes, "nice" tick values, and the turnout × share heat map.
//!
//! Owns: how a number becomes a pixel, a tick label or a colour. A leaf: it imports nothing from
//! the crate, so both pages can use it without either importing the other. Never does: I/O,
//! statistics, or page layout — every function returns SVG or text as a `String` and depends
//! only on its arguments, so the same data always gives the same bytes.
//!
//! Colours are colour-blind safe: lines, bars and markers use the Okabe–Ito palette (Okabe & Ito,
//! "Color Universal Design", 2008); the heat map uses viridis (van der Walt & Smith, designed to
//! be perceptually uniform and readable with deuteranopia and protanopia). Where two things must
//! be told apart they also differ in shape (bar vs. dashed line, dot vs. diamond), not in colour
//! alone.

use std::fmt::Write;

/// Okabe–Ito blue: the simulated distribution.
pub const BLUE: &str = "#0072B2";
/// Okabe–Ito vermillion: the real (reported) value.
pub const VERMILLION: &str = "#D55E00";
/// Okabe–Ito orange: a second series.
pub const ORANGE: &str = "#E69F00";
/// Okabe–Ito sky blue: ranges behind the distribution.
pub const SKY_BLUE: &str = "#56B4E9";
/// Axes, ticks and frames.
pub const GREY: &str = "#555555";
/// Grid lines.
pub const LIGHT_GREY: &str = "#dddddd";

/// Viridis at 9 evenly spaced stops (matplotlib's `viridis`).
const VIRIDIS: [(u8, u8, u8); 9] = [
    (68, 1, 84),
    (71, 44, 122),
    (59, 81, 139),
    (44, 113, 142),
    (33, 144, 141),
    (39, 173, 129),
    (92, 200, 99),
    (170, 220, 50),
    (253, 231, 37),
];

/// Viridis colour at t in [0, 1], linearly interpolated between stops.
pub fn viridis(t: f64) -> String {
    let t = if t.is_nan() { 0.0 } else { t.clamp(0.0, 1.0) } * (VIRIDIS.len() - 1) as f64;
    let i = (t.floor() as usize).min(VIRIDIS.len() - 2);
    let f = t - i as f64;
    let (a, b) = (VIRIDIS[i], VIRIDIS[i + 1]);
    let mix = |x: u8, y: u8| (x as f64 + f * (y as f64 - x as f64)).round() as u8;
    format!(
        "#{:02x}{:02x}{:02x}",
        mix(a.0, b.0),
        mix(a.1, b.1),
        mix(a.2, b.2)
    )
}

/// Escapes text for HTML content and attribute values.
pub fn escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

/// Text cut to at most `max` characters, with an ellipsis when cut.
pub fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        s.chars().take(max.saturating_sub(1)).collect::<String>() + "…"
    }
}

/// A plotting frame: data ranges mapped onto a pixel rectangle, with labelled axes.
#[derive(Clone, Debug)]
pub struct Frame {
    pub left: f64,
    pub top: f64,
    pub width: f64,
    pub height: f64,
    pub x: (f64, f64),
    pub y: (f64, f64),
    /// Distance from the frame's left edge to the centre of the rotated y-axis label.
    pub y_label_gap: f64,
}

/// What [`Frame::axes`] draws: tick positions, their formatting, and the axis titles (with
/// units, e.g. "Turnout (%)").
pub struct Axes<'a> {
    pub x_ticks: &'a [f64],
    pub y_ticks: &'a [f64],
    pub x_label: &'a str,
    pub y_label: &'a str,
    pub fmt_x: &'a dyn Fn(f64) -> String,
    pub fmt_y: &'a dyn Fn(f64) -> String,
}

impl Frame {
    /// Pixel x of data value `x`.
    pub fn px(&self, x: f64) -> f64 {
        self.left + (x - self.x.0) / (self.x.1 - self.x.0) * self.width
    }
    /// Pixel y of data value `y`.
    pub fn py(&self, y: f64) -> f64 {
        self.top + self.height - (y - self.y.0) / (self.y.1 - self.y.0) * self.height
    }

    /// The frame's box, ticks, tick labels and axis titles.
    pub fn axes(&self, svg: &mut String, a: &Axes) {
        let (l, t, w, h) = (self.left, self.top, self.width, self.height);
        let _ = write!(
            svg,
            r#"<rect x="{l}" y="{t}" width="{w}" height="{h}" fill="none" stroke="{GREY}" stroke-width="1"/>"#
        );
        for &v in a.x_ticks {
            let x = self.px(v);
            let _ = write!(
                svg,
                r#"<line x1="{x:.1}" y1="{b}" x2="{x:.1}" y2="{b2}" stroke="{GREY}"/><text x="{x:.1}" y="{ty}" text-anchor="middle">{}</text>"#,
                escape(&(a.fmt_x)(v)),
                b = t + h,
                b2 = t + h + 5.0,
                ty = t + h + 18.0
            );
        }
        for &v in a.y_ticks {
            let y = self.py(v);
            let _ = write!(
                svg,
                r#"<line x1="{a}" y1="{y:.1}" x2="{l}" y2="{y:.1}" stroke="{GREY}"/><text x="{tx}" y="{yy:.1}" text-anchor="end">{}</text>"#,
                escape(&(a.fmt_y)(v)),
                a = l - 5.0,
                tx = l - 8.0,
                yy = y + 4.0
            );
        }
        let _ = write!(
            svg,
            r#"<text x="{cx}" y="{ly}" text-anchor="middle" class="label">{}</text><text transform="translate({lx},{cy}) rotate(-90)" text-anchor="middle" class="label">{}</text>"#,
            escape(a.x_label),
            escape(a.y_label),
            cx = l + w / 2.0,
            ly = t + h + 36.0,
            lx = l - self.y_label_gap,
            cy = t + h / 2.0
        );
    }
}

/// The step of about `target` "nice" intervals (1, 2, 2.5 or 5 × 10^k) covering `span`.
pub fn nice_step(span: f64, target: usize) -> f64 {
    if span <= 0.0 || !span.is_finite() {
        return 1.0;
    }
    let raw = span / target.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw * (1.0 - 1e-9))
        .unwrap_or(10.0 * mag)
}

/// Multiples of `step` within [lo, hi] (inclusive, with a little tolerance).
pub fn ticks_in(lo: f64, hi: f64, step: f64) -> Vec<f64> {
    if !(lo.is_finite() && hi.is_finite() && step > 0.0) || hi < lo {
        return Vec::new();
    }
    let first = (lo / step - 1e-9).ceil() as i64;
    let last = (hi / step + 1e-9).floor() as i64;
    (first..=last.min(first + 1000))
        .map(|k| {
            let v = k as f64 * step;
            // no -0.0 reaches a label
            if v == 0.0 { 0.0 } else { v }
        })
        .collect()
}

/// Decimals needed to print multiples of `step` exactly (0 for integral steps).
pub fn step_decimals(step: f64) -> usize {
    let mut d = 0;
    while d < 6
        && ((step * 10f64.powi(d as i32)).round() - step * 10f64.powi(d as i32)).abs() > 1e-9
    {
        d += 1;
    }
    d
}

/// "Nice" tick values from 0 to `max` (about 5 of them).
pub fn ticks_up_to(max: f64) -> Vec<f64> {
    if max <= 0.0 || !max.is_finite() {
        return vec![0.0];
    }
    ticks_in(0.0, max, nice_step(max, 5))
}

/// 0, 10, …, 100.
pub fn percent_ticks() -> Vec<f64> {
    (0..=10).map(|i| i as f64 * 10.0).collect()
}

/// A count for an axis: 12, 15k, 1.5M.
pub fn fmt_count(v: f64) -> String {
    if v >= 1e6 {
        format!("{}M", v / 1e6)
    } else if v >= 1e4 {
        format!("{}k", v / 1e3)
    } else {
        format!("{v}")
    }
}

/// Colour levels of the heat map. Cells of one level are drawn as one path of vertical
/// strokes, a run of vertically adjacent cells being one stroke, which keeps a full 101 × 101
/// map near 120 kB and a typical one (a few thousand cells) near 20 kB.
const HEAT_LEVELS: usize = 20;

/// The side of a heat-map cell: 4 pixels for a map of 1 % cells (101 × 101), 1 pixel for a
/// finer one (0.1 % cells, 1001 × 1001), so that stripes at whole percentages stay visible.
pub fn heatmap_cell_side(n: usize) -> f64 {
    if n > 101 { 1.0 } else { 4.0 }
}

/// The box `(x, y, side)` of cell `(t, s)` as [`heatmap`] draws an `n` × `n` map (cells of
/// [`heatmap_cell_side`], the frame at (70, 20), share rising upwards), for marking cells on
/// top of it.
pub fn heatmap_cell(n: usize, t: usize, s: usize) -> (f64, f64, f64) {
    let cell = heatmap_cell_side(n);
    (
        70.0 + t as f64 * cell,
        20.0 + n.saturating_sub(s + 1) as f64 * cell,
        cell,
    )
}

/// The `(width, height)` of the `<svg>` [`heatmap`] draws for an `n` × `n` map.
pub fn heatmap_size(n: usize) -> (f64, f64) {
    let side = heatmap_cell_side(n) * n as f64;
    (side + 216.0, side + 96.0)
}

/// A coordinate with at most one decimal, without a trailing `.0`.
pub fn coord(v: f64) -> String {
    let s = format!("{v:.1}");
    match s.strip_suffix(".0") {
        Some(i) => i.to_string(),
        None => s,
    }
}

/// The election fingerprint as a heat map: `heatmap[t][s]` stations with turnout in bin t and
/// the leader's share in bin s, coloured on a log scale with a colour bar. A map of 101 × 101
/// has 1 % bins centred on whole percentages; one of 1001 × 1001 has 0.1 % bins (drawn larger,
/// one pixel a cell). `id` becomes the `<svg>` element's id (empty: none).
pub fn heatmap(heatmap: &[Vec<u32>], id: &str, y_label: &str) -> String {
    let n = heatmap.len();
    let cell = heatmap_cell_side(n);
    // bins per percentage point
    let per = (n.saturating_sub(1) / 100).max(1) as f64;
    let f = Frame {
        left: 70.0,
        top: 20.0,
        width: cell * n as f64,
        height: cell * n as f64,
        x: (-0.5, n as f64 - 0.5),
        y: (-0.5, n as f64 - 0.5),
        y_label_gap: 52.0,
    };
    let max = heatmap.iter().flatten().copied().max().unwrap_or(0).max(1) as f64;
    let level = |c: u32| {
        (((1.0 + c as f64).ln() / (1.0 + max).ln() * (HEAT_LEVELS - 1) as f64).round() as usize)
            .min(HEAT_LEVELS - 1)
    };
    let id_attr = if id.is_empty() {
        String::new()
    } else {
        format!(r#" id="{}""#, escape(id))
    };
    let (w, h) = heatmap_size(n);
    let mut svg = format!(
        r#"<svg{id_attr} class="plot heatmap" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" aria-label="Election fingerprint: stations by turnout and {}">"#,
        escape(&y_label.to_lowercase())
    );
    let mut paths = vec![String::new(); HEAT_LEVELS];
    for (t, row) in heatmap.iter().enumerate() {
        let x = f.px(t as f64);
        // from the top (highest share) down, merging runs of one level into one stroke
        let mut k = row.len();
        while k > 0 {
            k -= 1;
            let c = row[k];
            if c == 0 {
                continue;
            }
            let l = level(c);
            let top = k;
            while k > 0 && row[k - 1] != 0 && level(row[k - 1]) == l {
                k -= 1;
            }
            let _ = write!(
                paths[l],
                "M{} {}v{}",
                coord(x),
                coord(f.py(top as f64 + 0.5)),
                coord(cell * (top - k + 1) as f64)
            );
        }
    }
    for (l, d) in paths.iter().enumerate() {
        if !d.is_empty() {
            let _ = write!(
                svg,
                r#"<path d="{d}" stroke="{}" stroke-width="{cell}" fill="none"/>"#,
                viridis(l as f64 / (HEAT_LEVELS - 1) as f64)
            );
        }
    }
    let ticks: Vec<f64> = percent_ticks().iter().map(|t| t * per).collect();
    f.axes(
        &mut svg,
        &Axes {
            x_ticks: &ticks,
            y_ticks: &ticks,
            x_label: "Turnout (%)",
            y_label,
            fmt_x: &|v| format!("{}", v / per),
            fmt_y: &|v| format!("{}", v / per),
        },
    );
    // Colour bar.
    let (bx, by, bh) = (f.left + f.width + 30.0, f.top, f.height);
    for i in 0..50 {
        let _ = write!(
            svg,
            r#"<rect x="{bx}" y="{:.1}" width="16" height="{:.1}" fill="{}"/>"#,
            by + bh - (i + 1) as f64 * bh / 50.0,
            bh / 50.0 + 0.5,
            viridis(i as f64 / 49.0)
        );
    }
    let mut v = 1.0;
    while v <= max {
        let y = by + bh - (1.0 + v).ln() / (1.0 + max).ln() * bh;
        let _ = write!(
            svg,
            r#"<text x="{:.0}" y="{:.1}">{}</text>"#,
            bx + 20.0,
            y + 4.0,
            fmt_count(v)
        );
        v *= 10.0;
    }
    let _ = write!(
        svg,
        r#"<text transform="translate({:.0},{:.0}) rotate(-90)" text-anchor="middle" class="label">Stations per {cell_pct} % × {cell_pct} % cell (log scale)</text></svg>"#,
        bx + 62.0,
        by + bh / 2.0,
        cell_pct = 1.0 / per
    );
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn viridis_ends_and_escape() {
        assert_eq!(viridis(0.0), "#440154");
        assert_eq!(viridis(1.0), "#fde725");
        assert_eq!(escape(r#"a<b & "c""#), "a&lt;b &amp; &quot;c&quot;");
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("abc", 4), "abc");
    }

    #[test]
    fn nice_ticks() {
        assert_eq!(ticks_up_to(100.0), vec![0.0, 20.0, 40.0, 60.0, 80.0, 100.0]);
        assert_eq!(nice_step(0.9, 4), 0.25);
        assert_eq!(ticks_in(0.1, 0.9, 0.25), vec![0.25, 0.5, 0.75]);
        let t = ticks_in(0.25, 0.95, 0.1);
        assert_eq!(t.len(), 7);
        assert_eq!(format!("{:.*}", step_decimals(0.1), t[0]), "0.3");
        assert_eq!(step_decimals(0.25), 2);
        assert_eq!(step_decimals(5.0), 0);
        assert_eq!(step_decimals(0.1), 1);
        assert!(ticks_in(1.0, 0.0, 1.0).is_empty());
    }

    #[test]
    fn heatmap_groups_cells_by_colour_and_merges_columns() {
        let mut hm = vec![vec![0u32; 101]; 101];
        hm[50][40] = 3;
        hm[60][45] = 3;
        hm[10][10] = 1;
        hm[10][11] = 1;
        let svg = heatmap(&hm, "fp", "Leader's share (%)");
        assert!(svg.starts_with(r#"<svg id="fp" class="plot heatmap""#));
        // two colour levels: the max (two cells in one path) and the count of 1
        assert_eq!(svg.matches("<path").count(), 2);
        // turnout bin 50 is the column centred at x = 70 + 4·50 + 2; share bin 40 has its top
        // at y = 20 + 4·(101 − 41)
        assert!(svg.contains("M272 260v4"), "{svg}");
        // the two stacked cells of count 1 are one stroke, 8 px long, from share bin 11 down
        assert!(svg.contains("M112 376v8"), "{svg}");
        assert!(svg.ends_with("</svg>"));
    }

    #[test]
    fn a_fine_heatmap_has_one_pixel_cells_and_labels_in_percent() {
        let mut hm = vec![vec![0u32; 1001]; 1001];
        hm[600][700] = 5; // turnout 60.0 %, share 70.0 %
        let svg = heatmap(&hm, "fp", "share");
        assert_eq!(heatmap_size(1001), (1217.0, 1097.0));
        assert!(svg.contains(r#"viewBox="0 0 1217 1097""#), "{svg}");
        // the column centred at x = 70 + 600.5, the cell's top at y = 20 + (1001 − 701)
        assert!(svg.contains("M670.5 320v1"), "{svg}");
        // ticks at every 10 % (bin 100, 200, …) labelled in percent
        assert!(svg.contains(">50</text>") && !svg.contains(">500</text>"));
        assert!(svg.contains("Stations per 0.1 % × 0.1 % cell"));
        assert_eq!(coord(2.0), "2");
        assert_eq!(coord(670.5), "670.5");
    }

    #[test]
    fn a_full_heatmap_stays_small() {
        let hm: Vec<Vec<u32>> = (0..101u32)
            .map(|t| (0..101u32).map(|s| 1 + (t * 31 + s * 17) % 2000).collect())
            .collect();
        let svg = heatmap(&hm, "fp", "share");
        assert!(svg.len() < 150_000, "{} bytes", svg.len());
    }
}
