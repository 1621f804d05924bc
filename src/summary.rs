//! The summary over runs, and its renderings: JSON, CSV (one row per run) and a terminal table.
//!
//! [`Summary::build`] turns run outcomes into distributions (mean, sd, 5/50/95 % quantiles by
//! [`crate::stats::quantile_sorted`], range) per metric and variant, each beside the real
//! reported figure from the scenario with the share of runs at or beyond it. Renderings are pure
//! functions from the data to bytes or text; writing files is the caller's business
//! (`crate::output`). Floating-point sums run in run order, so the output is byte-identical for
//! the same seed whatever the thread count.

use crate::model::Scenario;
use crate::montecarlo::RunOutcome;
use crate::stats::quantile_sorted;
use serde::Serialize;

/// Version of the summary.json layout.
pub const SUMMARY_FORMAT_VERSION: u32 = 1;

#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    pub format: &'static str,
    pub format_version: u32,
    pub provenance: Provenance,
    pub parties: Vec<PartyInfo>,
    pub variants: Vec<VariantSummary>,
    /// Detectors' false-alarm rates on honest variants and power against fraud variants.
    pub detection: crate::detect::Detection,
}

#[derive(Clone, Debug, Serialize)]
pub struct Provenance {
    pub tamga_version: &'static str,
    pub scenario: String,
    pub scenario_digest: String,
    pub seed: u64,
    /// Run indices covered: `first..first+runs`.
    pub first_run: u32,
    pub runs: u32,
    /// Which simulation path produced the runs.
    pub path: &'static str,
}

#[derive(Clone, Debug, Serialize)]
pub struct PartyInfo {
    pub id: String,
    pub name: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct VariantSummary {
    pub name: String,
    pub description: String,
    pub runs: usize,
    pub metrics: Vec<Metric>,
    /// Share of runs whose whole seat vector equals the reported one (list, district, total).
    pub exact_match: ExactMatch,
    /// True when the variant has no fraud model.
    pub honest: bool,
    /// For a fraud variant, the honest variant it is compared with.
    pub baseline: Option<String>,
    /// Mean seats fraud moved (reported − truth) per party then independents: list, total.
    pub seat_effect: SeatEffect,
    /// Mean per run of what fraud did.
    pub fraud: FraudMeans,
    /// Whether the real reported result lies within the central 95 % of this variant's
    /// simulated reported results (turnout and every list share).
    pub consistent_with_reported: Option<bool>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct SeatEffect {
    pub list_seats: Vec<f64>,
    pub total_seats: Vec<f64>,
    /// Mean change of each party's list share (reported − truth), in shares of valid votes.
    pub list_share: Vec<f64>,
    pub turnout: f64,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct FraudMeans {
    pub stations_hit: f64,
    pub stuffed: f64,
    pub flipped: f64,
    pub dropped: f64,
    pub rewritten: f64,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct ExactMatch {
    pub list_seats: Option<f64>,
    pub district_seats: Option<f64>,
    pub total_seats: Option<f64>,
}

/// The distribution of one quantity over runs, beside the reported value.
#[derive(Clone, Debug, Serialize)]
pub struct Metric {
    /// `turnout`, `share.<party>`, `list_seats.<party>`, `district_seats.<party|independent>`,
    /// `round1_seats.<party|independent>` (district seats won without a runoff),
    /// `total_seats.<party|independent>`, `runoffs`.
    pub name: String,
    pub mean: f64,
    pub sd: f64,
    pub p05: f64,
    pub p50: f64,
    pub p95: f64,
    pub min: f64,
    pub max: f64,
    pub reported: Option<f64>,
    /// Share of runs with a value ≥ the reported one.
    pub share_at_or_above: Option<f64>,
    /// Share of runs with a value ≤ the reported one.
    pub share_at_or_below: Option<f64>,
    /// Share of runs at or beyond the reported value on its side of the median.
    pub at_or_beyond: Option<f64>,
}

impl Metric {
    pub fn from_values(name: String, values: &[f64], reported: Option<f64>) -> Metric {
        let n = values.len().max(1) as f64;
        let mean = values.iter().sum::<f64>() / n;
        let var = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>()
            / (values.len().saturating_sub(1).max(1)) as f64;
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        let p50 = quantile_sorted(&sorted, 0.5);
        let above = reported.map(|r| values.iter().filter(|&&v| v >= r).count() as f64 / n);
        let below = reported.map(|r| values.iter().filter(|&&v| v <= r).count() as f64 / n);
        let beyond = reported.map(|r| if r >= p50 { above } else { below }.unwrap_or(0.0));
        Metric {
            name,
            mean,
            sd: var.sqrt(),
            p05: quantile_sorted(&sorted, 0.05),
            p50,
            p95: quantile_sorted(&sorted, 0.95),
            min: sorted.first().copied().unwrap_or(f64::NAN),
            max: sorted.last().copied().unwrap_or(f64::NAN),
            reported,
            share_at_or_above: above,
            share_at_or_below: below,
            at_or_beyond: beyond,
        }
    }
}

impl Summary {
    pub fn build(
        scenario: &Scenario,
        seed: u64,
        first_run: u32,
        outcomes: &[Vec<RunOutcome>],
    ) -> Summary {
        let parties = &scenario.parties;
        let rep = scenario.reported.as_ref();
        let rep_shares = rep.and_then(|r| r.list_shares());
        let mut variants = Vec::new();
        for (v, runs) in scenario.variants.iter().zip(outcomes) {
            let mut metrics = Vec::new();
            let col = |f: &dyn Fn(&RunOutcome) -> f64| runs.iter().map(f).collect::<Vec<f64>>();
            metrics.push(Metric::from_values(
                "turnout".into(),
                &col(&|o| o.turnout()),
                rep.and_then(|r| r.turnout),
            ));
            for (i, p) in parties.iter().enumerate() {
                metrics.push(Metric::from_values(
                    format!("share.{}", p.id),
                    &col(&|o| o.reported.list_votes[i] as f64 / o.valid_list_votes().max(1) as f64),
                    rep_shares.as_ref().map(|s| s[i]),
                ));
            }
            let ids: Vec<&str> = parties
                .iter()
                .map(|p| p.id.as_str())
                .chain(["independent"])
                .collect();
            let model = &v.model;
            if model.system.list.is_some() {
                for (i, id) in ids.iter().take(parties.len()).enumerate() {
                    metrics.push(Metric::from_values(
                        format!("list_seats.{id}"),
                        &col(&|o| o.reported.list_seats[i] as f64),
                        rep.and_then(|r| r.list_seats.as_ref()).map(|s| s[i] as f64),
                    ));
                }
            }
            if model.system.districts.is_some() {
                type Seats = fn(&RunOutcome) -> &[u32];
                let tiers: [(&str, Seats, Option<&Vec<u32>>); 2] = [
                    (
                        "district_seats",
                        |o| &o.reported.district_seats,
                        rep.and_then(|r| r.district_seats.as_ref()),
                    ),
                    (
                        "round1_seats",
                        |o| &o.reported.round1_seats,
                        rep.and_then(|r| r.round1_seats.as_ref()),
                    ),
                ];
                for (prefix, seats, real) in tiers {
                    for (i, id) in ids.iter().enumerate() {
                        metrics.push(Metric::from_values(
                            format!("{prefix}.{id}"),
                            &col(&|o| seats(o)[i] as f64),
                            real.map(|s| s[i] as f64),
                        ));
                    }
                }
            }
            for (i, id) in ids.iter().enumerate() {
                metrics.push(Metric::from_values(
                    format!("total_seats.{id}"),
                    &col(&|o| o.reported.total_seats[i] as f64),
                    rep.and_then(|r| r.total_seats.as_ref())
                        .map(|s| s[i] as f64),
                ));
            }
            if model.system.districts.is_some() {
                metrics.push(Metric::from_values(
                    "runoffs".into(),
                    &col(&|o| o.reported.runoffs as f64),
                    rep.and_then(|r| r.runoffs).map(f64::from),
                ));
            }
            let n = runs.len().max(1) as f64;
            let exact = |want: Option<&Vec<u32>>, get: &dyn Fn(&RunOutcome) -> &[u32]| {
                want.map(|w| runs.iter().filter(|o| get(o) == w.as_slice()).count() as f64 / n)
            };
            let exact_match = ExactMatch {
                list_seats: exact(rep.and_then(|r| r.list_seats.as_ref()), &|o| {
                    &o.reported.list_seats
                }),
                district_seats: exact(rep.and_then(|r| r.district_seats.as_ref()), &|o| {
                    &o.reported.district_seats
                }),
                total_seats: exact(rep.and_then(|r| r.total_seats.as_ref()), &|o| {
                    &o.reported.total_seats
                }),
            };
            let mean = |f: &dyn Fn(&RunOutcome) -> f64| runs.iter().map(f).sum::<f64>() / n;
            let k = parties.len();
            let seat_effect = SeatEffect {
                list_seats: (0..k)
                    .map(|p| {
                        mean(&|o| o.reported.list_seats[p] as f64 - o.truth.list_seats[p] as f64)
                    })
                    .collect(),
                total_seats: (0..=k)
                    .map(|p| {
                        mean(&|o| o.reported.total_seats[p] as f64 - o.truth.total_seats[p] as f64)
                    })
                    .collect(),
                list_share: (0..k)
                    .map(|p| {
                        mean(&|o| {
                            let r = o.reported.list_votes[p] as f64
                                / o.valid_list_votes().max(1) as f64;
                            let tv: u64 = o.truth.list_votes.iter().sum();
                            r - o.truth.list_votes[p] as f64 / tv.max(1) as f64
                        })
                    })
                    .collect(),
                turnout: mean(&|o| {
                    (o.reported.ballots as f64 - o.truth.ballots as f64)
                        / o.registered.max(1) as f64
                }),
            };
            let fraud = FraudMeans {
                stations_hit: mean(&|o| o.trace.stations_hit as f64),
                stuffed: mean(&|o| o.trace.stuffed as f64),
                flipped: mean(&|o| o.trace.flipped as f64),
                dropped: mean(&|o| o.trace.dropped as f64),
                rewritten: mean(&|o| o.trace.rewritten as f64),
            };
            let consistent_with_reported = rep.and_then(|r| r.turnout).map(|_| {
                metrics
                    .iter()
                    .filter(|m| m.name == "turnout" || m.name.starts_with("share."))
                    .all(|m| m.at_or_beyond.is_none_or(|b| b >= 0.025))
            });
            let vi = variants.len();
            variants.push(VariantSummary {
                name: v.name.clone(),
                description: v.description.clone(),
                runs: runs.len(),
                metrics,
                exact_match,
                honest: v.is_honest(),
                baseline: (!v.is_honest())
                    .then(|| {
                        scenario
                            .baseline_of(vi)
                            .map(|b| scenario.variants[b].name.clone())
                    })
                    .flatten(),
                seat_effect,
                fraud,
                consistent_with_reported,
            });
        }
        Summary {
            format: "tamga-summary",
            format_version: SUMMARY_FORMAT_VERSION,
            provenance: Provenance {
                tamga_version: crate::VERSION,
                scenario: scenario.meta.name.clone(),
                scenario_digest: scenario.digest.clone(),
                seed,
                first_run,
                runs: outcomes.first().map_or(0, |r| r.len()) as u32,
                path: crate::sim::station::path_name(scenario),
            },
            parties: parties
                .iter()
                .map(|p| PartyInfo {
                    id: p.id.clone(),
                    name: p.name.clone(),
                })
                .collect(),
            variants,
            detection: crate::detect::detection(scenario, outcomes),
        }
    }

    /// The summary as pretty JSON with a trailing newline.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("summary serialises");
        s.push('\n');
        s
    }

    fn metric(&self, v: usize, name: &str) -> Option<&Metric> {
        self.variants[v].metrics.iter().find(|m| m.name == name)
    }

    /// A readable summary per variant, at most 100 columns wide: turnout, a list-share table
    /// and a seat table, each simulated beside real, after a three-line legend.
    pub fn to_terminal(&self) -> String {
        use std::fmt::Write;
        let mut s = String::new();
        let pv = &self.provenance;
        let _ = writeln!(
            s,
            "{} — {} runs per variant, seed {}, tamga {}",
            pv.scenario, pv.runs, pv.seed, pv.tamga_version
        );
        let _ = writeln!(
            s,
            "simulated: mean over runs [5–95 %: the middle 90 % of runs]; real: the reported result\n\
             beyond: share of runs at least as far from the median as the real value (near 0 %: this\n\
             variant hardly ever produces it); * marks a real seat count outside the middle 90 %"
        );
        for (vi, v) in self.variants.iter().enumerate() {
            let _ = writeln!(s);
            for line in wrap(&format!("variant {} — {}", v.name, v.description), 100) {
                let _ = writeln!(s, "{line}");
            }
            self.terminal_shares(&mut s, vi);
            self.terminal_seats(&mut s, vi);
            let e = &v.exact_match;
            let parts: Vec<String> = [
                ("list", e.list_seats),
                ("district", e.district_seats),
                ("total", e.total_seats),
            ]
            .iter()
            .filter_map(|(label, x)| x.map(|x| format!("{label} {}", pct(Some(x)))))
            .collect();
            if !parts.is_empty() {
                let _ = writeln!(
                    s,
                    "  runs with exactly the real seats: {}",
                    parts.join(", ")
                );
            }
            if !v.honest {
                let ids: Vec<&str> = self
                    .parties
                    .iter()
                    .map(|p| p.id.as_str())
                    .chain(["independent"])
                    .collect();
                let moved: Vec<String> = v
                    .seat_effect
                    .total_seats
                    .iter()
                    .zip(&ids)
                    .filter(|(x, _)| x.abs() >= 0.05)
                    .map(|(x, id)| format!("{id} {x:+.1}"))
                    .collect();
                let line = format!(
                    "  fraud (vs truth, mean per run): seats {}; turnout {:+.2} points; {} stations \
                     hit, {:.0} ballots stuffed, {:.0} flipped, {:.0} dropped, {:.0} entries rewritten",
                    if moved.is_empty() {
                        "none moved".to_string()
                    } else {
                        moved.join(", ")
                    },
                    v.seat_effect.turnout * 100.0,
                    v.fraud.stations_hit.round(),
                    v.fraud.stuffed,
                    v.fraud.flipped,
                    v.fraud.dropped,
                    v.fraud.rewritten
                );
                for l in wrap(&line, 100) {
                    let _ = writeln!(s, "{l}");
                }
            }
            if let Some(c) = v.consistent_with_reported {
                let _ = writeln!(
                    s,
                    "  real result within this variant's central 95% (turnout and every share): {}",
                    if c { "yes" } else { "no" }
                );
            }
            if let Some(m) = self.metric(vi, "runoffs") {
                let real = m.reported.map(|r| format!(" {r}")).unwrap_or_default();
                let _ = writeln!(
                    s,
                    "  district runoffs: {:.1} [{}–{}]{real}",
                    m.mean,
                    m.p05.round(),
                    m.p95.round()
                );
                self.terminal_round1(&mut s, vi);
            }
        }
        s.push_str(&self.detection_table());
        s
    }

    /// District seats won in round 1 as one wrapped line: parties that win any on average or
    /// won any in reality, `*` marking a real count outside the middle 90 %.
    fn terminal_round1(&self, s: &mut String, vi: usize) {
        use std::fmt::Write;
        let names = self
            .parties
            .iter()
            .map(|p| (p.id.as_str(), p.name.as_str()))
            .chain([("independent", "independents")]);
        let cells: Vec<String> = names
            .filter_map(|(id, name)| {
                let m = self.metric(vi, &format!("round1_seats.{id}"))?;
                if m.mean < 0.5 && m.reported.is_none_or(|r| r == 0.0) {
                    return None;
                }
                let (real, mark) = match m.reported {
                    Some(r) => (
                        format!(" {r}"),
                        if r < m.p05.round() || r > m.p95.round() {
                            "*"
                        } else {
                            ""
                        },
                    ),
                    None => (String::new(), ""),
                };
                Some(format!(
                    "{name} {:.1} [{}–{}]{real}{mark}",
                    m.mean,
                    m.p05.round(),
                    m.p95.round()
                ))
            })
            .collect();
        if cells.is_empty() {
            return;
        }
        for line in wrap(&format!("  won in round 1: {}", cells.join(", ")), 100) {
            let _ = writeln!(s, "{line}");
        }
    }

    /// The detection matrix as text: one row per detector, the false-alarm rate on the honest
    /// baseline(s), then the power against each fraud variant.
    fn detection_table(&self) -> String {
        use std::fmt::Write;
        let frauds: Vec<&VariantSummary> = self.variants.iter().filter(|v| !v.honest).collect();
        let mut s = String::new();
        if frauds.is_empty() {
            return s;
        }
        let _ = writeln!(s);
        let title = format!(
            "detection: share of runs in which each detector fired (false alarms on honest runs; \
             calibrated detectors set to {:.0}%)",
            self.detection.target_false_alarm_rate * 100.0
        );
        for l in wrap(&title, 100) {
            let _ = writeln!(s, "{l}");
        }
        let width = 6usize;
        let per_line = ((100 - 30) / (width + 1)).max(1);
        let legend: Vec<String> = frauds
            .iter()
            .enumerate()
            .map(|(i, v)| format!("F{} {}", i + 1, v.name))
            .collect();
        for l in wrap(&format!("  columns: {}", legend.join(", ")), 100) {
            let _ = writeln!(s, "{l}");
        }
        for (c, chunk) in frauds.chunks(per_line).enumerate() {
            let mut header = format!("  {:<20} {:>6}", "detector", "false");
            for j in 0..chunk.len() {
                let name = format!("F{}", c * per_line + j + 1);
                let _ = write!(header, " {name:>width$}");
            }
            let _ = writeln!(s, "{header}");
            for d in &self.detection.detectors {
                let far = d
                    .false_alarm
                    .first()
                    .map(|f| format!("{:.0}%", f.false_alarm_rate.rate * 100.0))
                    .unwrap_or("—".into());
                let mut line = format!("  {:<20} {:>6}", d.name, far);
                for v in chunk {
                    let cell = d
                        .power
                        .iter()
                        .find(|p| p.variant == v.name)
                        .map(|p| format!("{:.0}%", p.power.rate * 100.0))
                        .unwrap_or("—".into());
                    let _ = write!(line, " {cell:>width$}");
                }
                let _ = writeln!(s, "{line}");
            }
        }
        let codes_used = self.detection.detectors.iter().any(|d| {
            d.name == "control_codes" && !(d.power.is_empty() && d.false_alarm.is_empty())
        });
        if codes_used {
            let note = "  note: the Sailau control code that lets a voter catch a flipped vote also lets a \
                        vote buyer check that a bought vote was cast as paid for";
            for l in wrap(note, 100) {
                let _ = writeln!(s, "{l}");
            }
        }
        let _ = writeln!(
            s,
            "  (intervals, thresholds and costs per detector are in summary.json under \"detection\")"
        );
        s
    }

    /// Turnout and the list-share table of variant `vi`.
    fn terminal_shares(&self, s: &mut String, vi: usize) {
        use std::fmt::Write;
        let row = |label: &str, m: &Metric| {
            format!(
                "  {:<32} {:>9} {:>15} {:>8} {:>7}",
                label_cut(label, 32),
                format!("{:.2} %", m.mean * 100.0),
                format!("[{:.2}–{:.2}]", m.p05 * 100.0, m.p95 * 100.0),
                m.reported
                    .map(|r| format!("{:.2} %", r * 100.0))
                    .unwrap_or("—".into()),
                pct(m.at_or_beyond)
            )
        };
        let _ = writeln!(
            s,
            "  {:<32} {:>9} {:>15} {:>8} {:>7}",
            "", "simulated", "5–95 %", "real", "beyond"
        );
        if let Some(m) = self.metric(vi, "turnout") {
            let _ = writeln!(s, "{}", row("turnout (% of registered)", m));
        }
        let _ = writeln!(s, "  list share (% of valid list votes)");
        for p in &self.parties {
            if let Some(m) = self.metric(vi, &format!("share.{}", p.id)) {
                let _ = writeln!(s, "{}", row(&format!("  {}", p.name), m));
            }
        }
    }

    /// The seat table of variant `vi`: one column per tier the system has.
    fn terminal_seats(&self, s: &mut String, vi: usize) {
        use std::fmt::Write;
        let tiers: Vec<&str> = ["list", "district", "total"]
            .into_iter()
            .filter(|t| {
                self.variants[vi]
                    .metrics
                    .iter()
                    .any(|m| m.name.starts_with(&format!("{t}_seats.")))
            })
            .collect();
        if tiers.is_empty() {
            return;
        }
        let mut head = format!("  {:<32}", "seats: mean [5–95 %] real");
        for t in &tiers {
            let _ = write!(head, " {t:>17} ");
        }
        let _ = writeln!(s, "{}", head.trim_end());
        let ids = self
            .parties
            .iter()
            .map(|p| (p.id.as_str(), p.name.as_str()))
            .chain([("independent", "independents")]);
        for (id, name) in ids {
            let cells: Vec<Option<&Metric>> = tiers
                .iter()
                .map(|t| self.metric(vi, &format!("{t}_seats.{id}")))
                .collect();
            if cells.iter().all(Option::is_none) {
                continue;
            }
            let mut line = format!("  {:<32}", label_cut(&format!("  {name}"), 32));
            for m in cells {
                let (cell, mark) = m
                    .map(|m| {
                        let (real, outside) = match m.reported {
                            Some(r) => (format!("{r}"), r < m.p05.round() || r > m.p95.round()),
                            None => ("—".to_string(), false),
                        };
                        (
                            format!("{:.1} [{}–{}] {real}", m.mean, m.p05.round(), m.p95.round()),
                            if outside { '*' } else { ' ' },
                        )
                    })
                    .unwrap_or((String::new(), ' '));
                let _ = write!(line, " {cell:>17}{mark}");
            }
            let _ = writeln!(s, "{}", line.trim_end());
        }
    }
}

/// `text` cut to `width` characters with an ellipsis when cut.
fn label_cut(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        text.to_string()
    } else {
        text.chars().take(width - 1).collect::<String>() + "…"
    }
}

/// Wraps text at spaces into lines of at most `width` characters (continuations indented).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let indent = text.len() - text.trim_start_matches(' ').len();
    let text = &text[indent..];
    let mut lines = Vec::new();
    let mut line = " ".repeat(indent);
    for word in text.split(' ') {
        let len = line.chars().count();
        if len > indent && len + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
            line = " ".repeat(indent + 3);
        }
        if !line.trim().is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    lines.push(line);
    lines
}

fn pct(x: Option<f64>) -> String {
    x.map(|x| format!("{:.0} %", x * 100.0))
        .unwrap_or("—".into())
}

/// One CSV row per variant × run, with a header.
pub fn runs_csv(scenario: &Scenario, outcomes: &[Vec<RunOutcome>]) -> Vec<u8> {
    let ids: Vec<&str> = scenario.parties.iter().map(|p| p.id.as_str()).collect();
    let mut header: Vec<String> = [
        "variant",
        "run",
        "registered",
        "ballots",
        "turnout",
        "electronic",
        "valid",
        "invalid",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    header.extend(ids.iter().map(|i| format!("votes.{i}")));
    header.extend(ids.iter().map(|i| format!("list_seats.{i}")));
    for prefix in ["district_seats", "total_seats", "round1_seats"] {
        header.extend(ids.iter().map(|i| format!("{prefix}.{i}")));
        header.push(format!("{prefix}.independent"));
    }
    header.push("runoffs".into());
    header.push("lots".into());
    header.push("unallocated_list_seats".into());
    header.extend(ids.iter().map(|i| format!("truth.votes.{i}")));
    header.push("truth.ballots".into());
    header.extend(ids.iter().map(|i| format!("truth.total_seats.{i}")));
    header.push("truth.total_seats.independent".into());
    for c in ["stations_hit", "stuffed", "flipped", "dropped", "rewritten"] {
        header.push(format!("fraud.{c}"));
    }
    header.extend(
        crate::detect::DETECTORS
            .iter()
            .map(|d| format!("detector.{}", d.name)),
    );
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record(&header);
    for (v, runs) in scenario.variants.iter().zip(outcomes) {
        for o in runs {
            let mut row: Vec<String> = vec![
                v.name.clone(),
                o.run.to_string(),
                o.registered.to_string(),
                o.reported.ballots.to_string(),
                format!("{:.6}", o.turnout()),
                o.electronic.to_string(),
                o.valid_list_votes().to_string(),
                o.reported.list_invalid.to_string(),
            ];
            row.extend(o.reported.list_votes.iter().map(|x| x.to_string()));
            row.extend(o.reported.list_seats.iter().map(|x| x.to_string()));
            row.extend(o.reported.district_seats.iter().map(|x| x.to_string()));
            row.extend(o.reported.total_seats.iter().map(|x| x.to_string()));
            row.extend(o.reported.round1_seats.iter().map(|x| x.to_string()));
            row.push(o.reported.runoffs.to_string());
            row.push(o.reported.lots.to_string());
            row.push(o.reported.unallocated_list_seats.to_string());
            row.extend(o.truth.list_votes.iter().map(|x| x.to_string()));
            row.push(o.truth.ballots.to_string());
            row.extend(o.truth.total_seats.iter().map(|x| x.to_string()));
            let t = &o.trace;
            for x in [
                t.stations_hit as u64,
                t.stuffed,
                t.flipped,
                t.dropped,
                t.rewritten,
            ] {
                row.push(x.to_string());
            }
            row.extend(
                o.detectors
                    .iter()
                    .map(|(_, r)| r.value.map(|v| format!("{v:.6}")).unwrap_or_default()),
            );
            let _ = w.write_record(&row);
        }
    }
    w.into_inner().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_type7() {
        let v = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert_eq!(quantile_sorted(&v, 0.5), 3.0);
        assert_eq!(quantile_sorted(&v, 0.25), 2.0);
        assert!((quantile_sorted(&v, 0.05) - 1.2).abs() < 1e-12);
    }

    #[test]
    fn beyond_picks_the_side_of_the_median() {
        let values: Vec<f64> = (0..100).map(|i| i as f64).collect();
        let m = Metric::from_values("x".into(), &values, Some(95.0));
        assert_eq!(m.at_or_beyond, Some(0.05));
        let m = Metric::from_values("x".into(), &values, Some(2.0));
        assert_eq!(m.at_or_beyond, Some(0.03));
    }
}
