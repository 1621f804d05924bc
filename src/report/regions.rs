//! The report's regional view: per region of the scenario, what each variant's representative
//! run gave there — turnout, the followed party's share (the party the overview follows), the
//! stations fraud touched and the stations a reader of published station results would flag
//! (≥ 95 % turnout and ≥ 95 % share) — beside the real station results when the scenario
//! references them and their regions are the scenario's.
//!
//! **Owns**: the view's data ([`RegionalView::build`], from the fingerprints' region figures)
//! and its HTML ([`RegionalView::html`]): a table (regions × variants, shaded by the share of
//! stations fraud touched, which also gives the plot's numbers) and small multiples (one panel
//! per region, every variant on the same 0–100 % axis). **Never**: draws a map (the scenario
//! has no region geometry, and none is invented) or computes over runs — the figures are those
//! of the one run per variant the fingerprints show; the calibrated detectors read national
//! figures, so their hits are not split by region.

use std::fmt::Write;

use super::model::{RegionFigures, Table, VariantReport};
use crate::svg::{GREY, LIGHT_GREY, VERMILLION, coord, escape, truncate};
use serde::Serialize;

/// One variant's figures in every region (matched by name; `None` where it has no such region).
#[derive(Clone, Debug, Serialize)]
pub struct RegionColumn {
    pub variant: String,
    pub honest: bool,
    pub run: u32,
    /// The party whose share the figures give: the party the overview follows (the run's
    /// leader when the report follows none).
    pub leader: String,
    pub regions: Vec<Option<RegionFigures>>,
}

/// Every variant's representative run, region by region.
#[derive(Clone, Debug, Serialize)]
pub struct RegionalView {
    /// Region names, in the first mapped variant's order.
    pub regions: Vec<String>,
    pub columns: Vec<RegionColumn>,
    /// The real station results per region (in `regions` order), when the scenario references
    /// them and every station's region is one of `regions`.
    pub real: Option<Vec<RegionFigures>>,
}

fn pct1(x: f64) -> String {
    format!("{:.1}", 100.0 * x)
}

impl RegionalView {
    /// The view of the variants' fingerprints; `None` when no fingerprint has region figures or
    /// the scenario has a single region.
    pub fn build(variants: &[VariantReport]) -> Option<RegionalView> {
        let first = variants
            .iter()
            .filter_map(|v| v.fingerprint.as_ref())
            .find(|f| !f.regions.is_empty())?;
        let regions: Vec<String> = first.regions.iter().map(|r| r.name.clone()).collect();
        if regions.len() < 2 {
            return None;
        }
        let columns = variants
            .iter()
            .filter_map(|v| {
                let fp = v.fingerprint.as_ref().filter(|f| !f.regions.is_empty())?;
                Some(RegionColumn {
                    variant: v.name.clone(),
                    honest: v.honest,
                    run: fp.run,
                    leader: fp.leader.clone(),
                    regions: regions
                        .iter()
                        .map(|name| fp.regions.iter().find(|r| &r.name == name).cloned())
                        .collect(),
                })
            })
            .collect();
        Some(RegionalView {
            regions,
            columns,
            real: None,
        })
    }

    /// The regions × variants table: the leader's share, the stations fraud touched and those
    /// in the 95/95 corner, shaded by the share of stations touched.
    pub fn table(&self) -> Table {
        let mut header = vec!["region".to_string(), "stations".to_string()];
        let party = self.columns.first().map_or("", |c| c.leader.as_str());
        if self.real.is_some() {
            header.push(format!("real stations: turnout / {party} %"));
        }
        header.extend(
            self.columns
                .iter()
                .map(|c| format!("{}: turnout / {} %", c.variant, c.leader)),
        );
        let (mut rows, mut shade) = (Vec::new(), Vec::new());
        for (ri, name) in self.regions.iter().enumerate() {
            let stations = self
                .columns
                .iter()
                .find_map(|c| c.regions[ri].as_ref())
                .map_or(0, |r| r.stations);
            let mut row = vec![name.clone(), stations.to_string()];
            let mut sh = vec![None, None];
            if let Some(real) = &self.real {
                let r = &real[ri];
                let mut cell = format!("{} / {}", pct1(r.turnout()), pct1(r.share()));
                if r.corner_95 > 0 {
                    let _ = write!(cell, " · {} ≥95/95", r.corner_95);
                }
                row.push(cell);
                sh.push(None);
            }
            for c in &self.columns {
                match &c.regions[ri] {
                    Some(r) => {
                        let mut cell = format!("{} / {}", pct1(r.turnout()), pct1(r.share()));
                        if r.touched > 0 {
                            let _ = write!(cell, " · {} hit", r.touched);
                        }
                        if r.corner_95 > 0 {
                            let _ = write!(cell, " · {} ≥95/95", r.corner_95);
                        }
                        row.push(cell);
                        sh.push((r.touched > 0).then(|| r.touched_share()));
                    }
                    None => {
                        row.push("—".into());
                        sh.push(None);
                    }
                }
            }
            rows.push(row);
            shade.push(sh);
        }
        Table {
            id: "regions-table".into(),
            title: "Regions".into(),
            note: "Per region, each variant's representative run (the one its fingerprint \
                   shows): turnout / the share of list ballots of the party the overview \
                   follows (named in the header), in %; the real station results, when the \
                   scenario gives them, in the column after the stations; the stations whose \
                   protocol fraud changed (“hit”; the simulation knows them, real data \
                   would not) and the stations at ≥ 95 % turnout and ≥ 95 % leader share \
                   (“≥95/95”, what a reader of published station results would flag). Darker: a \
                   larger share of the region's stations touched by fraud. One run per variant, \
                   so small differences between variants are run-to-run noise; the calibrated \
                   detectors read national figures and are not split by region."
                .into(),
            header,
            rows,
            details: Vec::new(),
            shade,
        }
    }

    /// The section: the table, the small multiples and their numbers.
    pub fn html(&self, table_html: &dyn Fn(&Table, u8, &str) -> String) -> String {
        let mut o = String::from("<section id=\"regions\">");
        let t = self.table();
        o.push_str(&table_html(&t, 2, &t.id));
        o.push_str(
            "<h3>Region by region</h3><p class=\"note\">One panel per region, every variant on \
             the same 0–100 % axis: the <span class=\"sim\">dot</span> is the share of the \
             party the overview follows (filled: honest variant, ring: fraud), the grey bar the \
             turnout, and the <span class=\"real\">vermillion bar</span> under it the share of \
             the region's stations fraud touched; the first row, when there is one, is the real \
             station results (a <span class=\"real\">diamond</span>). The panels' numbers are \
             in the table above.</p>\
             <div class=\"grid\">",
        );
        for (ri, name) in self.regions.iter().enumerate() {
            o.push_str(&self.panel(ri, name));
        }
        o.push_str("</div></section>\n");
        o
    }

    /// One region's panel: bars as one path per colour, dots with a class (styled by the page).
    fn panel(&self, ri: usize, name: &str) -> String {
        let (label_w, plot_w, row_h, top) = (80.0, 170.0, 13.0, 24.0);
        let w = label_w + plot_w + 14.0;
        let real = self.real.as_ref().map(|r| &r[ri]);
        let first = usize::from(real.is_some());
        let bottom = top + row_h * (self.columns.len() + first) as f64;
        let h = bottom + 20.0;
        let x = |v: f64| label_w + v.clamp(0.0, 1.0) * plot_w;
        let mut s = format!(
            r#"<svg id="region-{ri}" class="plot region" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" aria-label="{}: turnout, leader share and stations touched by fraud per variant"><text x="4" y="15" class="title">{}</text>"#,
            escape(name),
            escape(&truncate(name, 34))
        );
        for k in 0..=4 {
            let xv = x(k as f64 / 4.0);
            let _ = write!(
                s,
                r#"<line x1="{xv}" y1="{top}" x2="{xv}" y2="{bottom}" stroke="{LIGHT_GREY}"/><text x="{xv}" y="{ty}" text-anchor="middle">{}{}</text>"#,
                25 * k,
                if k == 4 { " %" } else { "" },
                ty = bottom + 14.0
            );
        }
        let (mut turnout, mut touched, mut dots) = (String::new(), String::new(), String::new());
        if let Some(r) = real {
            let y = top + 0.5 * row_h;
            let (cx, cy) = (x(r.share()), y);
            let _ = write!(
                s,
                r#"<text x="{}" y="{}" text-anchor="end">real</text>"#,
                label_w - 5.0,
                coord(y + 4.0)
            );
            let _ = write!(
                turnout,
                "M{label_w} {}h{}v4H{label_w}z",
                coord(y - 4.0),
                coord(x(r.turnout()) - label_w)
            );
            let _ = write!(
                dots,
                r#"<path d="M{} {}l4 4l-4 4l-4-4z" fill="{VERMILLION}"/>"#,
                coord(cx),
                coord(cy - 4.0)
            );
        }
        for (k, c) in self.columns.iter().enumerate() {
            let y = top + ((k + first) as f64 + 0.5) * row_h;
            let _ = write!(
                s,
                r#"<text x="{}" y="{}" text-anchor="end">{}</text>"#,
                label_w - 5.0,
                coord(y + 4.0),
                escape(&truncate(&c.variant, 12))
            );
            let Some(r) = &c.regions[ri] else { continue };
            let _ = write!(
                turnout,
                "M{label_w} {}h{}v4H{label_w}z",
                coord(y - 4.0),
                coord(x(r.turnout()) - label_w)
            );
            if r.touched > 0 {
                let _ = write!(
                    touched,
                    "M{label_w} {}h{}v3H{label_w}z",
                    coord(y + 1.0),
                    coord((x(r.touched_share()) - label_w).max(1.0))
                );
            }
            let _ = write!(
                dots,
                r#"<circle cx="{}" cy="{}" r="3.5" class="{}"/>"#,
                coord(x(r.share())),
                coord(y),
                if c.honest { "dh" } else { "df" }
            );
        }
        let _ = write!(
            s,
            r#"<path d="{turnout}" fill="{GREY}" opacity="0.45"/><path d="{touched}" fill="{VERMILLION}"/>{dots}</svg>"#
        );
        s
    }
}
