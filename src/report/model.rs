//! The data model of `tamga run`'s report: everything the HTML page shows, as plain serialisable
//! data, built from the [`Summary`], the run outcomes and one re-simulated run per variant.
//!
//! Owns: which numbers the report shows — seat distributions per tier and party beside the real
//! result, histograms over runs of turnout and list shares, the fingerprint of one
//! representative run, extra tables, and provenance. Never does: I/O, or formatting for a
//! medium (the renderings live in [`super::html`]); it chooses which run to re-simulate, and
//! [`crate::montecarlo::Simulator::run_stations`] does the simulating. Every value is computed in run order from its inputs, so the same seed gives
//! the same model.

use crate::detect::Rate;
use crate::electorate::PollingStation;
use crate::forensics::stats::fingerprint::{fine_bin, fingerprint};
use crate::forensics::stats::stations::{StationFigures, filter_stations, leader_of};
use crate::model::Region;
use crate::montecarlo::RunOutcome;
use crate::montecarlo::{RunStations, Simulator};
use crate::summary::{ExactMatch, Metric, PartyInfo, Provenance, Summary, VariantSummary};
use rayon::prelude::*;
use serde::Serialize;
use std::fmt::Write;

/// Version of the report model's layout.
pub const REPORT_FORMAT_VERSION: u32 = 1;

/// Histogram bins over runs: about √runs, at least [`MIN_BINS`], at most [`MAX_BINS`].
pub const MIN_BINS: usize = 5;
pub const MAX_BINS: usize = 40;

/// Everything the report shows.
#[derive(Clone, Debug, Serialize)]
pub struct RunReport {
    pub format: &'static str,
    pub format_version: u32,
    pub provenance: Provenance,
    /// The scenario file's text, shown verbatim (escaped) in the page.
    pub scenario_text: String,
    pub parties: Vec<PartyInfo>,
    /// Every variant at a glance: the page's first section.
    pub overview: super::overview::Overview,
    pub variants: Vec<VariantReport>,
    /// Tables about the scenario as a whole (the fraud × detector matrix), after the variants.
    pub tables: Vec<Table>,
    /// Every variant's representative run region by region (when the runs were mapped to
    /// regions and there are at least two).
    pub regions: Option<super::regions::RegionalView>,
    /// The party the fingerprints and the regional view follow, and why (for captions); empty
    /// when they follow each run's leader.
    pub follows: String,
    /// The real station results' fingerprint, when the scenario references them.
    pub real: Option<super::real::RealFingerprint>,
}

/// One variant's part of the report.
#[derive(Clone, Debug, Serialize)]
pub struct VariantReport {
    pub name: String,
    pub description: String,
    pub runs: usize,
    /// True when the variant has no fraud model.
    pub honest: bool,
    /// For a fraud variant, the honest variant it is compared with.
    pub baseline: Option<String>,
    /// Whether the real result lies within the central 95 % of the runs (turnout and every
    /// list share); `None` without a real result.
    pub consistent_with_reported: Option<bool>,
    /// Seat tiers in the order list, district, total (those the system has).
    pub seats: Vec<SeatTier>,
    pub exact_match: ExactMatch,
    /// Turnout first, then each party's list share.
    pub distributions: Vec<RunHistogram>,
    /// The fingerprint of one representative run, if it could be re-simulated.
    pub fingerprint: Option<RunFingerprint>,
    /// Further tables about this variant (what its fraud did), each shown only when present.
    pub tables: Vec<Table>,
}

/// One tier's seats: a row per party (and independents in district and total tiers).
#[derive(Clone, Debug, Serialize)]
pub struct SeatTier {
    /// `list_seats`, `district_seats`, `round1_seats` or `total_seats` (the metric prefix in
    /// the summary).
    pub tier: String,
    /// For people: "List seats".
    pub title: String,
    pub rows: Vec<SeatRow>,
}

/// One party's seats in a tier over runs.
#[derive(Clone, Debug, Serialize)]
pub struct SeatRow {
    /// Party id, or `independent`.
    pub id: String,
    pub name: String,
    pub mean: f64,
    pub p05: f64,
    pub p50: f64,
    pub p95: f64,
    pub min: f64,
    pub max: f64,
    pub reported: Option<f64>,
    pub at_or_beyond: Option<f64>,
    /// (seats, runs with that many seats), ascending by seats, only values that occurred.
    pub frequencies: Vec<(u32, u32)>,
}

/// The distribution over runs of one fraction (turnout or a list share), binned.
#[derive(Clone, Debug, Serialize)]
pub struct RunHistogram {
    /// The summary metric's name: `turnout` or `share.<party>`.
    pub metric: String,
    /// For people: "Turnout" or the party's name.
    pub title: String,
    /// The x-axis title with its unit.
    pub axis: String,
    /// Left edge of the first bin and the bin width, as fractions (0.5 = 50 %).
    pub lo: f64,
    pub bin_width: f64,
    /// Runs per bin.
    pub counts: Vec<u32>,
    pub mean: f64,
    pub p05: f64,
    pub p50: f64,
    pub p95: f64,
    pub reported: Option<f64>,
    pub at_or_beyond: Option<f64>,
}

/// A fingerprint cell holding stations, as [`RunFingerprint::cells`] lists them: `(cell width
/// in percent, turnout cell, share cell, stations, of them touched by fraud)`.
pub type MapCell = (&'static str, u16, u16, u32, u32);

/// The turnout × leader-share fingerprint of one run.
#[derive(Clone, Debug, Serialize)]
pub struct RunFingerprint {
    pub run: u32,
    pub leader: String,
    /// Stations in the map (those with at least one ballot found).
    pub stations: usize,
    pub national_turnout: f64,
    /// Leader's share of list ballots found (valid + invalid).
    pub national_share: f64,
    /// Stations at ≥ 95 % turnout and ≥ 95 % leader share.
    pub count_95_95: usize,
    /// `heatmap[t][s]`: stations in turnout bin t and share bin s (1 % bins, 101 × 101).
    pub heatmap: Vec<Vec<u32>>,
    /// Stations whose protocol fraud changed (the simulation knows), and the cells they are in:
    /// `(t, s, stations)`, in cell order.
    pub stations_touched: usize,
    pub touched: Vec<(u16, u16, u32)>,
    /// The same map in 0.1 % cells (1001 × 1001, see
    /// [`crate::forensics::stats::fingerprint::fine_bin`]) as `(t, s, stations)` in cell order,
    /// and its cells holding touched stations; empty unless asked for
    /// ([`ReportOptions::fine_fingerprint`]).
    pub fine: Vec<(u16, u16, u32)>,
    pub fine_touched: Vec<(u16, u16, u32)>,
    /// Per region of the scenario, in its order: what this run gave there (empty when the run
    /// was not mapped to regions).
    pub regions: Vec<RegionFigures>,
}

/// One region's figures in a run: results, what fraud touched and what a reader of the station
/// results would flag.
#[derive(Clone, Debug, Default, Serialize)]
pub struct RegionFigures {
    pub name: String,
    /// Stations in the region (all of them) and their registered voters, ballots issued, list
    /// ballots found and the run leader's list votes.
    pub stations: usize,
    pub registered: u64,
    pub issued: u64,
    pub ballots: u64,
    pub leader: u64,
    /// Stations whose protocol fraud changed (the simulation knows them).
    pub touched: usize,
    /// Stations at ≥ 95 % turnout and ≥ 95 % leader share (of those the fingerprint maps): the
    /// corner a reader of published station results looks at (Klimek et al. 2012).
    pub corner_95: usize,
}

impl RegionFigures {
    /// Turnout: ballots issued over registered voters.
    pub fn turnout(&self) -> f64 {
        self.issued as f64 / self.registered.max(1) as f64
    }
    /// The run leader's share of list ballots found.
    pub fn share(&self) -> f64 {
        self.leader as f64 / self.ballots.max(1) as f64
    }
    /// Share of the region's stations fraud touched.
    pub fn touched_share(&self) -> f64 {
        self.touched as f64 / self.stations.max(1) as f64
    }
}

/// What the report shows beyond its defaults.
#[derive(Clone, Debug, Default)]
pub struct ReportOptions {
    /// Draw the fingerprints in 0.1 % cells (stripes at whole percentages show); the page grows
    /// by about 12 bytes per station and variant, and 15 more per station fraud touched.
    pub fine_fingerprint: bool,
    /// The party (index) the fingerprints and the regional view follow: `None` follows each
    /// run's leader. [`crate::output::RunOutputs`] sets it to the party the overview follows
    /// ([`Summary::leader`]), so that every view of the page is about the same party.
    pub follow: Option<usize>,
    /// The real station results the scenario references (`[reported] stations`), read by the
    /// command; drawn on the fingerprints' axes.
    pub real: Option<std::sync::Arc<super::real::RealStations>>,
}

/// A table of text cells, for sections that are tables rather than plots.
#[derive(Clone, Debug, Serialize)]
pub struct Table {
    /// HTML id of the table (unique within a variant).
    pub id: String,
    pub title: String,
    /// One paragraph saying how to read it.
    pub note: String,
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
    /// Per cell, optional: a tooltip with more detail (e.g. an interval). Missing or empty
    /// entries mean none.
    pub details: Vec<Vec<String>>,
    /// Per cell, optional: a value in [0, 1] shown as the cell's shading (a heat table).
    pub shade: Vec<Vec<Option<f64>>>,
}

impl RunReport {
    /// Builds the report. `outcomes` are the runs behind `summary` (per variant, in run order);
    /// `fingerprints` has one entry per variant (see [`RunFingerprint::from_run`]).
    ///
    /// Tables are derived here from the summary — per variant, what fraud did (fraud variants
    /// only); for the scenario, the fraud × detector matrix (when there are fraud variants). A
    /// section the summary lacks is simply absent; a new one is a [`Table`] pushed here, which
    /// the HTML shows with no other change.
    pub fn build(
        summary: &Summary,
        outcomes: &[Vec<RunOutcome>],
        fingerprints: Vec<Option<RunFingerprint>>,
        scenario_text: &str,
    ) -> RunReport {
        let mut fingerprints = fingerprints.into_iter();
        let variants = summary
            .variants
            .iter()
            .zip(outcomes)
            .map(|(v, runs)| {
                let metric = |name: &str| v.metrics.iter().find(|m| m.name == name);
                // total seats only beside district seats (else they equal list seats), seats won
                // in round 1 only where there are runoffs (else they equal district seats)
                let has_districts = v
                    .metrics
                    .iter()
                    .any(|m| m.name.starts_with("district_seats."));
                let has_runoffs = metric("runoffs")
                    .is_some_and(|m| m.max > 0.0 || m.reported.is_some_and(|r| r > 0.0));
                let mut seats = Vec::new();
                for (tier, title) in [
                    ("list_seats", "List seats"),
                    ("district_seats", "District seats"),
                    ("round1_seats", "District seats won in round 1"),
                    ("total_seats", "Total seats"),
                ] {
                    if (tier == "total_seats" && !has_districts)
                        || (tier == "round1_seats" && !has_runoffs)
                    {
                        continue;
                    }
                    let rows: Vec<SeatRow> = summary
                        .parties
                        .iter()
                        .map(|p| (p.id.as_str(), p.name.as_str()))
                        .chain([("independent", "Independents")])
                        .enumerate()
                        .filter_map(|(i, (id, name))| {
                            let m = metric(&format!("{tier}.{id}"))?;
                            // independents only where the runs or the real result elect any
                            if id == "independent"
                                && m.max <= 0.0
                                && m.reported.is_none_or(|r| r <= 0.0)
                            {
                                return None;
                            }
                            let get = |o: &RunOutcome| -> u32 {
                                let col = match tier {
                                    "list_seats" => &o.reported.list_seats,
                                    "district_seats" => &o.reported.district_seats,
                                    "round1_seats" => &o.reported.round1_seats,
                                    _ => &o.reported.total_seats,
                                };
                                col.get(i).copied().unwrap_or(0)
                            };
                            Some(SeatRow::new(id, name, m, runs.iter().map(get)))
                        })
                        .collect();
                    if !rows.is_empty() {
                        seats.push(SeatTier {
                            tier: tier.into(),
                            title: title.into(),
                            rows,
                        });
                    }
                }
                let mut distributions = Vec::new();
                if let Some(m) = metric("turnout") {
                    let values: Vec<f64> = runs.iter().map(|o| o.turnout()).collect();
                    distributions.push(RunHistogram::new(
                        m,
                        "Turnout",
                        "Turnout (% of registered voters)",
                        &values,
                    ));
                }
                for (i, p) in summary.parties.iter().enumerate() {
                    if let Some(m) = metric(&format!("share.{}", p.id)) {
                        let values: Vec<f64> = runs
                            .iter()
                            .map(|o| {
                                o.reported.list_votes.get(i).copied().unwrap_or(0) as f64
                                    / o.valid_list_votes().max(1) as f64
                            })
                            .collect();
                        distributions.push(RunHistogram::new(
                            m,
                            &p.name,
                            "List share (% of valid list votes)",
                            &values,
                        ));
                    }
                }
                VariantReport {
                    name: v.name.clone(),
                    description: v.description.clone(),
                    runs: v.runs,
                    honest: v.honest,
                    baseline: v.baseline.clone(),
                    consistent_with_reported: v.consistent_with_reported,
                    seats,
                    exact_match: v.exact_match.clone(),
                    distributions,
                    fingerprint: fingerprints.next().flatten(),
                    tables: fraud_table(summary, v).into_iter().collect(),
                }
            })
            .collect::<Vec<VariantReport>>();
        RunReport {
            regions: super::regions::RegionalView::build(&variants),
            format: "tamga-report",
            format_version: REPORT_FORMAT_VERSION,
            provenance: summary.provenance.clone(),
            scenario_text: scenario_text.to_string(),
            parties: summary.parties.clone(),
            overview: super::overview::Overview::build(summary),
            variants,
            tables: detection_table(summary)
                .into_iter()
                .chain(super::rla::audit_table(summary))
                .collect(),
            follows: String::new(),
            real: None,
        }
    }

    /// Says that the fingerprints follow party `follow` (the summary's leader, see
    /// [`ReportOptions::follow`]) and adds the real station results on their axes (and per
    /// region, when the file's regions are the regional view's).
    pub fn with_options(mut self, summary: &Summary, options: &ReportOptions) -> RunReport {
        let Some(follow) = options.follow else {
            return self;
        };
        let name = summary
            .parties
            .get(follow)
            .map_or(String::new(), |p| p.name.clone());
        if summary.leader.as_ref().is_some_and(|l| l.name == name) {
            self.follows = format!("{name}, {}", summary.followed_because());
        } else {
            self.follows = name.clone();
        }
        if let Some(real) = &options.real {
            self.real = Some(real.fingerprint(follow, &name, options.fine_fingerprint));
            if let Some(rv) = &mut self.regions {
                rv.real = real.regions(follow, &rv.regions);
            }
        }
        self
    }

    /// `fingerprints.csv`: every cell of every fingerprint map in the report, the numbers behind
    /// the heat maps (the page links it from each map: listing thousands of cells in the page
    /// would outweigh it). One row per cell holding stations, with a header:
    /// `map,variant,run,cell,turnout,share,stations,touched` — `map` is `simulated` (the
    /// variant's representative `run`) or `real` (the scenario's station results; `variant`
    /// and `run` empty); `cell` is the cell width in percent (`1`, and also `0.1` for maps
    /// drawn in 0.1 % cells); `turnout` and `share` the cell's centre in percent; `stations`
    /// the stations in it and `touched` those of them whose protocol fraud changed. Variants
    /// in the report's order, cells by turnout then share. Only the header when no map was made.
    pub fn fingerprints_csv(&self) -> Vec<u8> {
        let mut o = String::from("map,variant,run,cell,turnout,share,stations,touched\n");
        let maps = self
            .variants
            .iter()
            .filter_map(|v| Some(("simulated", csv_field(&v.name), v.fingerprint.as_ref()?)))
            .chain(self.real.iter().map(|x| ("real", String::new(), &x.map)));
        for (map, variant, fp) in maps {
            let run = if map == "real" {
                String::new()
            } else {
                fp.run.to_string()
            };
            for (cell, t, s, n, hit) in fp.cells() {
                let d = if cell == "1" { 0 } else { 1 };
                let _ = writeln!(
                    o,
                    "{map},{variant},{run},{cell},{:.d$},{:.d$},{n},{hit}",
                    t as f64 * if d == 0 { 1.0 } else { 0.1 },
                    s as f64 * if d == 0 { 1.0 } else { 0.1 },
                );
            }
        }
        o.into_bytes()
    }
}

/// A CSV field: as is, or quoted (with inner quotes doubled) when it holds a comma, a quote or
/// a line break.
fn csv_field(x: &str) -> String {
    if x.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", x.replace('"', "\"\""))
    } else {
        x.to_string()
    }
}

fn pct(x: f64) -> String {
    if x.is_finite() {
        format!("{:.0} %", 100.0 * x)
    } else {
        "—".into()
    }
}

/// What a fraud variant's fraud did, per party: reported − truth, mean per run. `None` for an
/// honest variant.
fn fraud_table(summary: &Summary, v: &VariantSummary) -> Option<Table> {
    if v.honest {
        return None;
    }
    let e = &v.seat_effect;
    let f = &v.fraud;
    let rows = summary
        .parties
        .iter()
        .map(|p| (p.id.as_str(), p.name.as_str()))
        .chain([("independent", "Independents")])
        .enumerate()
        .map(|(i, (_, name))| {
            let cell = |x: Option<&f64>, scale: f64, d: usize| {
                x.map(|x| {
                    let v = x * scale;
                    if (v * 10f64.powi(d as i32)).round() == 0.0 {
                        "0".to_string()
                    } else {
                        format!("{v:+.d$}")
                    }
                })
                .unwrap_or_default()
            };
            vec![
                name.to_string(),
                cell(e.list_share.get(i), 100.0, 2),
                cell(e.list_seats.get(i), 1.0, 1),
                cell(e.total_seats.get(i), 1.0, 1),
            ]
        })
        .collect();
    Some(Table {
        id: "fraud".into(),
        title: "What fraud did".into(),
        note: format!(
            "Reported result minus the truth (what voters chose), mean per run{}. Turnout {:+.2} \
             points; per run on average {:.0} stations hit, {:.0} ballots stuffed, {:.0} flipped, \
             {:.0} dropped, {:.0} ledger entries rewritten.",
            v.baseline
                .as_ref()
                .map(|b| format!("; compared with the honest variant “{b}”"))
                .unwrap_or_default(),
            100.0 * e.turnout,
            f.stations_hit,
            f.stuffed,
            f.flipped,
            f.dropped,
            f.rewritten
        ),
        header: vec![
            "party".into(),
            "list share (points)".into(),
            "list seats".into(),
            "total seats".into(),
        ],
        rows,
        details: Vec::new(),
        shade: Vec::new(),
    })
}

/// The fraud × detector matrix: per detector, its false-alarm rate on the honest variant(s)
/// and its power against each fraud variant, with 95 % Wilson intervals. `None` when the
/// scenario has no fraud variant.
fn detection_table(summary: &Summary) -> Option<Table> {
    let frauds: Vec<&VariantSummary> = summary.variants.iter().filter(|v| !v.honest).collect();
    if frauds.is_empty() {
        return None;
    }
    let d = &summary.detection;
    let honest: Vec<&VariantSummary> = summary.variants.iter().filter(|v| v.honest).collect();
    let text = |r: Option<&Rate>| match r {
        Some(r) => crate::summary::rate_pct(r),
        None => "—".to_string(),
    };
    let detail = |r: Option<&Rate>| match r {
        Some(r) if r.runs > 0 && r.rate.is_finite() => format!(
            "{} of {} runs; 95 % interval {}–{}",
            pct(r.rate),
            r.runs,
            pct(r.low),
            pct(r.high)
        ),
        _ => "does not apply".to_string(),
    };
    let shade = |r: Option<&Rate>| {
        r.filter(|r| r.runs > 0 && r.rate.is_finite())
            .map(|r| r.rate)
    };
    let mut header = vec!["detector".to_string()];
    header.extend(honest.iter().map(|v| format!("false alarms: {}", v.name)));
    header.extend(frauds.iter().map(|v| match &v.baseline {
        Some(b) => format!("{} (vs {b})", v.name),
        None => v.name.clone(),
    }));
    let (mut rows, mut details, mut shades) = (Vec::new(), Vec::new(), Vec::new());
    for det in &d.detectors {
        let rates: Vec<Option<&Rate>> = honest
            .iter()
            .map(|v| {
                det.false_alarm
                    .iter()
                    .find(|f| f.variant == v.name)
                    .map(|f| &f.false_alarm_rate)
            })
            .chain(frauds.iter().map(|v| {
                det.power
                    .iter()
                    .find(|p| p.variant == v.name)
                    .map(|p| &p.power)
            }))
            .collect();
        let mut row = vec![det.name.to_string()];
        row.extend(rates.iter().map(|r| text(*r)));
        let mut dt = vec![det.description.to_string()];
        dt.extend(rates.iter().map(|r| detail(*r)));
        let mut sh = vec![None];
        sh.extend(rates.iter().map(|r| shade(*r)));
        rows.push(row);
        details.push(dt);
        shades.push(sh);
    }
    Some(Table {
        id: "detection".into(),
        title: "Detection: which detector catches which fraud".into(),
        note: format!(
            "Share of runs in which each detector fired, with its 95 % Wilson interval \
             (darker: more often). On the honest variants these are false alarms, on each fraud \
             variant the detector's power. Calibrated detectors take their threshold from the \
             fraud variant's honest baseline (named in its column), set for {} false alarms. \
             Hover over a detector for what it checks; thresholds and costs are in summary.json \
             under \"detection\".",
            pct(d.target_false_alarm_rate)
        ),
        header,
        rows,
        details,
        shade: shades,
    })
}

impl SeatRow {
    fn new(id: &str, name: &str, m: &Metric, values: impl Iterator<Item = u32>) -> SeatRow {
        let mut frequencies: Vec<(u32, u32)> = Vec::new();
        let mut sorted: Vec<u32> = values.collect();
        sorted.sort_unstable();
        for s in sorted {
            match frequencies.last_mut() {
                Some((seats, n)) if *seats == s => *n += 1,
                _ => frequencies.push((s, 1)),
            }
        }
        SeatRow {
            id: id.into(),
            name: name.into(),
            mean: m.mean,
            p05: m.p05,
            p50: m.p50,
            p95: m.p95,
            min: m.min,
            max: m.max,
            reported: m.reported,
            at_or_beyond: m.at_or_beyond,
            frequencies,
        }
    }
}

impl RunHistogram {
    /// Bins `values` (fractions) into about √n equal bins spanning their range; a constant
    /// series gets one narrow bin around its value.
    pub fn new(m: &Metric, title: &str, axis: &str, values: &[f64]) -> RunHistogram {
        let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
        let lo = finite.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = finite.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let (lo, bin_width, n_bins) = if finite.is_empty() {
            (0.0, 1.0, 0)
        } else if hi - lo <= f64::EPSILON * hi.abs().max(1.0) {
            let w = (lo.abs() * 1e-3).max(1e-4);
            (lo - w / 2.0, w, 1)
        } else {
            let n = ((finite.len() as f64).sqrt().ceil() as usize).clamp(MIN_BINS, MAX_BINS);
            (lo, (hi - lo) / n as f64, n)
        };
        let mut counts = vec![0u32; n_bins];
        for v in finite {
            let k = (((v - lo) / bin_width).floor().max(0.0) as usize).min(n_bins - 1);
            counts[k] += 1;
        }
        RunHistogram {
            metric: m.name.clone(),
            title: title.into(),
            axis: axis.into(),
            lo,
            bin_width,
            counts,
            mean: m.mean,
            p05: m.p05,
            p50: m.p50,
            p95: m.p95,
            reported: m.reported,
            at_or_beyond: m.at_or_beyond,
        }
    }

    /// Right edge of the last bin.
    pub fn hi(&self) -> f64 {
        self.lo + self.bin_width * self.counts.len() as f64
    }
}

/// The run whose national turnout and leader share are jointly closest to their medians over
/// `runs` (sum of absolute deviations, each in units of its standard deviation over runs; the
/// leader is the party with most list votes summed over runs; the lowest run index wins ties).
/// `None` for no runs.
pub fn representative_run(runs: &[RunOutcome]) -> Option<u32> {
    representative_run_following(runs, None)
}

/// [`representative_run`] with the share of party `follow` (a party index) in place of the
/// leader's; `None` (or an index out of range) follows the leader.
pub fn representative_run_following(runs: &[RunOutcome], follow: Option<usize>) -> Option<u32> {
    let first = runs.first()?;
    let mut totals = vec![0u64; first.reported.list_votes.len()];
    for o in runs {
        for (t, v) in totals.iter_mut().zip(&o.reported.list_votes) {
            *t += v;
        }
    }
    let leader = follow
        .filter(|&p| p < totals.len())
        .unwrap_or_else(|| leader_of(&totals));
    let turnout: Vec<f64> = runs.iter().map(|o| o.turnout()).collect();
    let share: Vec<f64> = runs
        .iter()
        .map(|o| {
            o.reported.list_votes.get(leader).copied().unwrap_or(0) as f64
                / o.valid_list_votes().max(1) as f64
        })
        .collect();
    let centre = |v: &[f64]| {
        let m = Metric::from_values(String::new(), v, None);
        (m.p50, if m.sd > 0.0 { m.sd } else { 1.0 })
    };
    let (mt, st) = centre(&turnout);
    let (ms, ss) = centre(&share);
    let mut best: Option<(f64, u32)> = None;
    for (k, o) in runs.iter().enumerate() {
        let d = (turnout[k] - mt).abs() / st + (share[k] - ms).abs() / ss;
        if best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, o.run));
        }
    }
    best.map(|(_, r)| r)
}

/// The fingerprint of each variant's [`representative_run`], re-simulated through
/// [`Simulator::run_stations`] (in parallel on the caller's rayon pool, results in variant
/// order). `outcomes` are the runs per variant, as returned by [`Simulator::run_all`].
pub fn representative_fingerprints(
    prepared: &Simulator,
    outcomes: &[Vec<RunOutcome>],
) -> Vec<Option<RunFingerprint>> {
    representative_fingerprints_with(prepared, outcomes, ReportOptions::default())
}

/// [`representative_fingerprints`] with options; each fingerprint also carries the run's
/// figures per region ([`RunFingerprint::with_regions`]).
pub fn representative_fingerprints_with(
    prepared: &Simulator,
    outcomes: &[Vec<RunOutcome>],
    options: ReportOptions,
) -> Vec<Option<RunFingerprint>> {
    let names: Vec<&str> = prepared
        .scenario
        .parties
        .iter()
        .map(|p| p.name.as_str())
        .collect();
    outcomes
        .par_iter()
        .enumerate()
        .map(|(vi, runs)| {
            let run = representative_run_following(runs, options.follow)?;
            let rs = prepared.run_stations_following(vi, run, options.follow)?;
            let fp = RunFingerprint::from_run(&rs, &names).with_regions(
                &rs,
                &prepared.electorates[vi].stations,
                &prepared.scenario.variants[vi].model.regions,
            );
            Some(if options.fine_fingerprint {
                fp.with_fine(&rs)
            } else {
                fp
            })
        })
        .collect()
}

impl RunFingerprint {
    /// Every cell holding stations, as `(cell width in percent, turnout cell, share cell,
    /// stations, of them touched by fraud)`: the 1 % cells by turnout then share, then, for a
    /// map in 0.1 % cells, those the same way (cell indices; a 1 % cell k is centred on k %, a
    /// 0.1 % cell k on k / 10 %).
    pub fn cells(&self) -> Vec<MapCell> {
        let mut o = Vec::new();
        for (t, row) in self.heatmap.iter().enumerate() {
            for (s, &n) in row.iter().enumerate() {
                if n > 0 {
                    o.push(("1", t as u16, s as u16, n, 0));
                }
            }
        }
        mark_touched(&mut o, &self.touched);
        let coarse = o.len();
        o.extend(self.fine.iter().map(|&(t, s, n)| ("0.1", t, s, n, 0)));
        mark_touched(&mut o[coarse..], &self.fine_touched);
        o
    }

    /// The fingerprint of a re-simulated run: the consistent stations of the one station filter
    /// (at least one list ballot found, issued ≤ registered, leader ≤ ballots; small stations
    /// kept) are mapped through the forensics fingerprint, the same computation `tamga
    /// forensics` applies to real results. `party_names` are in scenario order.
    pub fn from_run(rs: &RunStations, party_names: &[&str]) -> RunFingerprint {
        let leader = party_names
            .get(rs.leader)
            .map(|p| p.to_string())
            .unwrap_or_default();
        RunFingerprint::from_stations(rs.outcome.run, leader, mapped_stations(rs), &|i| {
            rs.stations.get(i).is_some_and(|t| t.touched)
        })
    }

    /// The fingerprint of `stations` (the consistent ones of the station filter) with the
    /// shares of party `leader`; `touched(station_idx)` says which stations fraud changed.
    pub fn from_stations(
        run: u32,
        leader: String,
        stations: Vec<StationFigures>,
        touched: &dyn Fn(usize) -> bool,
    ) -> RunFingerprint {
        let fp = fingerprint(&stations, &stations);
        let hit: Vec<_> = stations
            .iter()
            .filter(|c| touched(c.station_idx))
            .cloned()
            .collect();
        let touched_map = fingerprint(&hit, &hit).heatmap;
        let touched = touched_map
            .iter()
            .enumerate()
            .flat_map(|(t, row)| {
                row.iter()
                    .enumerate()
                    .filter(|(_, c)| **c > 0)
                    .map(move |(s, &c)| (t as u16, s as u16, c))
            })
            .collect();
        RunFingerprint {
            run,
            leader,
            stations: stations.len(),
            national_turnout: fp.national_turnout,
            national_share: fp.national_share,
            count_95_95: fp.count_95_95,
            heatmap: fp.heatmap,
            stations_touched: hit.len(),
            touched,
            fine: Vec::new(),
            fine_touched: Vec::new(),
            regions: Vec::new(),
        }
    }

    /// Cells along each side of the map as drawn: 1001 in 0.1 % cells, else 101.
    pub fn map_side(&self) -> usize {
        if self.fine.is_empty() {
            self.heatmap.len()
        } else {
            crate::forensics::stats::fingerprint::FINE_BINS
        }
    }

    /// Adds the map in 0.1 % cells, and its cells holding touched stations.
    pub fn with_fine(self, rs: &RunStations) -> RunFingerprint {
        self.with_fine_stations(mapped_stations(rs), &|i| rs.stations[i].touched)
    }

    /// [`RunFingerprint::with_fine`] for `stations` as given to
    /// [`RunFingerprint::from_stations`].
    pub fn with_fine_stations(
        mut self,
        stations: Vec<StationFigures>,
        touched: &dyn Fn(usize) -> bool,
    ) -> RunFingerprint {
        let mut all = std::collections::BTreeMap::new();
        let mut hit = std::collections::BTreeMap::new();
        for c in stations {
            let cell = (
                fine_bin(c.issued, c.registered) as u16,
                fine_bin(c.leader, c.ballots) as u16,
            );
            *all.entry(cell).or_insert(0u32) += 1;
            if touched(c.station_idx) {
                *hit.entry(cell).or_insert(0u32) += 1;
            }
        }
        self.fine = all.into_iter().map(|((t, s), n)| (t, s, n)).collect();
        self.fine_touched = hit.into_iter().map(|((t, s), n)| (t, s, n)).collect();
        self
    }

    /// Adds the run's figures per region: `stations` are the electorate's (in the order of
    /// `rs.stations`), `regions` the variant's model regions they index.
    pub fn with_regions(
        mut self,
        rs: &RunStations,
        stations: &[PollingStation],
        regions: &[Region],
    ) -> RunFingerprint {
        let mut out: Vec<RegionFigures> = regions
            .iter()
            .map(|r| RegionFigures {
                name: r.name.clone(),
                ..RegionFigures::default()
            })
            .collect();
        for (st, t) in stations.iter().zip(&rs.stations) {
            if let Some(r) = out.get_mut(st.region as usize) {
                r.stations += 1;
                r.registered += t.registered;
                r.issued += t.issued;
                r.ballots += t.ballots;
                r.leader += t.leader;
                r.touched += usize::from(t.touched);
            }
        }
        for c in mapped_stations(rs) {
            if c.turnout() >= 0.95
                && c.share() >= 0.95
                && let Some(r) = stations
                    .get(c.station_idx)
                    .and_then(|st| out.get_mut(st.region as usize))
            {
                r.corner_95 += 1;
            }
        }
        self.regions = out;
        self
    }
}

/// The stations a fingerprint maps: the consistent ones of the one station filter.
/// Sets the touched stations of `cells` (sorted by turnout then share) from `touched`
/// (`(t, s, stations)`, the same order).
fn mark_touched(cells: &mut [MapCell], touched: &[(u16, u16, u32)]) {
    for &(t, s, n) in touched {
        if let Ok(k) = cells.binary_search_by_key(&(t, s), |c| (c.1, c.2)) {
            cells[k].4 = n;
        }
    }
}

fn mapped_stations(rs: &RunStations) -> Vec<StationFigures> {
    filter_stations(rs.stations.iter().enumerate().map(|(i, s)| StationFigures {
        station_idx: i,
        registered: s.registered,
        issued: s.issued,
        ballots: s.ballots,
        leader: s.leader,
    }))
    .consistent
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metric(values: &[f64]) -> Metric {
        Metric::from_values("turnout".into(), values, Some(0.5))
    }

    #[test]
    fn histogram_counts_every_value_once() {
        let values: Vec<f64> = (0..100).map(|i| 0.4 + i as f64 / 1000.0).collect();
        let h = RunHistogram::new(&metric(&values), "Turnout", "Turnout (%)", &values);
        assert_eq!(h.counts.len(), 10);
        assert_eq!(h.counts.iter().sum::<u32>(), 100);
        assert!(h.counts.iter().all(|&c| c == 10), "{:?}", h.counts);
        assert!((h.hi() - 0.499).abs() < 1e-12);
    }

    #[test]
    fn constant_and_empty_series() {
        let h = RunHistogram::new(&metric(&[0.3; 7]), "t", "a", &[0.3; 7]);
        assert_eq!(h.counts, vec![7]);
        assert!(h.lo < 0.3 && h.hi() > 0.3);
        let h = RunHistogram::new(&metric(&[]), "t", "a", &[]);
        assert!(h.counts.is_empty());
    }

    fn outcome(run: u32, ballots: u64, votes: [u64; 2]) -> RunOutcome {
        let tally = crate::tabulation::Tally {
            ballots,
            list_votes: votes.to_vec(),
            list_invalid: 0,
            list_seats: vec![0, 0],
            district_seats: vec![0, 0, 0],
            round1_seats: vec![0, 0, 0],
            total_seats: vec![0, 0, 0],
            runoffs: 0,
            lots: 0,
            unallocated_list_seats: 0,
        };
        RunOutcome {
            run,
            registered: 1000,
            electronic: 0,
            reported: tally.clone(),
            truth: tally,
            trace: Default::default(),
            detectors: crate::detect::Readings::NONE,
            pvt: None,
        }
    }

    #[test]
    fn representative_is_the_run_nearest_the_medians() {
        let runs = [
            outcome(0, 400, [300, 100]),
            outcome(1, 500, [350, 150]),
            outcome(2, 600, [500, 100]),
            outcome(3, 500, [380, 120]),
            outcome(4, 450, [300, 150]),
        ];
        // median turnout 0.5, median leader share 0.75: run 1 (0.5, 0.7) vs run 3 (0.5, 0.76)
        assert_eq!(representative_run(&runs), Some(3));
        assert_eq!(representative_run(&[]), None);
    }
}
