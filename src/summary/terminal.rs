//! The summary as text for a terminal of [`WIDTH`] columns.
//!
//! **Owns**: what `tamga run` and `tamga merge` print. First the overview, one screen for every
//! variant ([`Summary::overview_text`]): turnout, the followed party's list share and seats
//! against the real result (the party the fraud variants favour, else the one with most real
//! votes: [`Summary::leader`]), whether the real result fits, the seats fraud gave its
//! beneficiary, the seat outcomes that matter (majority, two-thirds, thresholds) and which
//! detectors catch each fraud variant (every row of the detection matrix, whatever its kind),
//! every share of runs with its 95 % interval; then warnings where runs are too few. With
//! `--detail` ([`Summary::detail_text`]): per variant the share and seat tables, and the whole
//! detection matrix with a false-alarm column per honest variant. **Never**: wraps a line past
//! [`WIDTH`]; shows a row that cannot differ from another (total seats in a list-only system,
//! independents nobody elects, runoffs where there are none).
//!
//! Detectors are taken generically from [`crate::detect::Detection`]: a new detector is a new
//! row with no change here.

use super::{Metric, Summary, VariantSummary};
use crate::detect::{DetectorKind, DetectorSummary, Rate};
use std::fmt::Write;

/// The widest line printed.
pub const WIDTH: usize = 80;

/// Fewer runs than this per variant get a warning that shares of runs are rough.
pub const FEW_RUNS: usize = 30;

/// A calibrated detector at false-alarm rate α needs about `CALIBRATION_TAIL / α` honest runs:
/// then each half of the two-fold cross-validation has about `CALIBRATION_TAIL / 2` runs above
/// its threshold.
pub const CALIBRATION_TAIL: f64 = 10.0;

/// The honest runs a calibrated detector needs at false-alarm rate `alpha` (see
/// [`CALIBRATION_TAIL`]).
pub fn calibration_runs_needed(alpha: f64) -> usize {
    if alpha > 0.0 {
        (CALIBRATION_TAIL / alpha).ceil() as usize
    } else {
        usize::MAX
    }
}

/// A share (0–1) in percent, short: whole numbers, one decimal below 1 % and above 99 %.
pub fn short_pct(x: f64) -> String {
    let p = 100.0 * x;
    if !p.is_finite() {
        "—".into()
    } else if p == 0.0 || p == 100.0 {
        format!("{p:.0}")
    } else if !(1.0..=99.0).contains(&p) {
        format!("{p:.1}")
    } else {
        format!("{p:.0}")
    }
}

/// A rate in percent with its 95 % interval: `59 [52–66]`; `—` when it does not apply.
pub fn rate_text(r: &Rate) -> String {
    if r.runs == 0 || !r.rate.is_finite() {
        "—".into()
    } else {
        format!(
            "{} [{}–{}]",
            short_pct(r.rate),
            short_pct(r.low),
            short_pct(r.high)
        )
    }
}

/// A rate as `59 % [52–66]`, `—` when it does not apply.
pub fn rate_pct(r: &Rate) -> String {
    match rate_text(r).split_once(' ') {
        Some((rate, interval)) => format!("{rate} % {interval}"),
        None => "—".into(),
    }
}

/// The share of runs at or beyond the real value: `< 0.5 %` (for 200 runs) rather than `0 %`,
/// since none of n runs says only that it is below about 1/n.
pub fn beyond_text(x: Option<f64>, runs: usize) -> String {
    match x {
        None => "—".into(),
        Some(b) if b == 0.0 && runs > 0 => format!("< {} %", short_pct(1.0 / runs as f64)),
        Some(b) => format!("{} %", short_pct(b)),
    }
}

/// A column of the seat-outcome table: its head and its rate per variant.
type Column = (String, Box<dyn Fn(&VariantSummary) -> Option<Rate>>);

/// `mean [p05–p95]` of a fraction in percent with one decimal.
pub fn share_cell(m: &Metric) -> String {
    format!(
        "{:.1} [{:.1}–{:.1}]",
        100.0 * m.mean,
        100.0 * m.p05,
        100.0 * m.p95
    )
}

/// `mean [p05–p95]` of a seat count.
pub fn seat_cell(m: &Metric) -> String {
    format!("{:.1} [{}–{}]", m.mean, m.p05.round(), m.p95.round())
}

impl Summary {
    /// What the terminal shows: the overview, and with `detail` the per-variant tables and the
    /// detection matrix after it. No line is wider than [`WIDTH`].
    pub fn to_terminal(&self, detail: bool) -> String {
        let mut s = self.overview_text();
        if detail {
            s.push_str(&self.detail_text());
        }
        s
    }

    /// The seat tiers the system has, as metric prefixes: total only when it can differ from
    /// list (there are districts).
    pub fn seat_tiers(&self, vi: usize) -> Vec<&'static str> {
        let has = |t: &str| {
            self.variants[vi]
                .metrics
                .iter()
                .any(|m| m.name.starts_with(&format!("{t}_seats.")))
        };
        let district = has("district");
        ["list", "district", "total"]
            .into_iter()
            .filter(|t| has(t) && (*t != "total" || district))
            .collect()
    }

    /// Parties whose chance of winning list seats is neither (nearly) certain nor (nearly) nil
    /// in some variant, or differs between variants: the threshold crossings that matter.
    pub fn threshold_parties(&self) -> Vec<usize> {
        (0..self.parties.len())
            .filter(|&p| {
                let rates: Vec<f64> = self
                    .variants
                    .iter()
                    .filter_map(|v| v.seat_odds.wins_list_seats.get(p))
                    .filter(|r| r.runs > 0)
                    .map(|r| r.rate)
                    .collect();
                let lo = rates.iter().copied().fold(f64::INFINITY, f64::min);
                let hi = rates.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                !rates.is_empty() && (rates.iter().any(|&r| r > 0.02 && r < 0.98) || hi - lo > 0.5)
            })
            .collect()
    }

    /// Per fraud variant, the detectors that fire on it clearly more often than on its honest
    /// baseline (the lower end of the power's 95 % interval above the false-alarm rate), most
    /// often first: (detector, power, false-alarm rate on the baseline).
    pub fn catches<'a>(
        &'a self,
        v: &VariantSummary,
    ) -> Vec<(&'a DetectorSummary, &'a Rate, Option<&'a Rate>)> {
        let mut found: Vec<(&DetectorSummary, &Rate, Option<&Rate>)> = self
            .detection
            .detectors
            .iter()
            .filter_map(|d| {
                let p = d.power.iter().find(|p| p.variant == v.name)?;
                let far = d
                    .false_alarm
                    .iter()
                    .find(|f| f.variant == p.baseline)
                    .map(|f| &f.false_alarm_rate);
                let base = far.map_or(0.0, |f| f.rate);
                // clearly more often: the lower end of its interval above the false alarms
                (p.power.runs > 0 && p.power.rate > 0.0 && p.power.low > base)
                    .then_some((d, &p.power, far))
            })
            .collect();
        found.sort_by(|a, b| b.1.rate.total_cmp(&a.1.rate));
        found
    }

    /// Warnings about numbers that rest on too few runs, one sentence each.
    pub fn warnings(&self) -> Vec<String> {
        let mut w = Vec::new();
        let runs = self.variants.iter().map(|v| v.runs).min().unwrap_or(0);
        if runs > 0 && runs < FEW_RUNS {
            let half = Rate::wilson(runs / 2, runs);
            w.push(format!(
                "{runs} runs per variant: every share of runs here is rough (at 50 % its 95 % \
                 interval is {}–{} %); use --runs 200 or more for conclusions",
                short_pct(half.low),
                short_pct(half.high)
            ));
        }
        let alpha = self.detection.target_false_alarm_rate;
        let need = calibration_runs_needed(alpha);
        let calibrated_in_use = self.detection.detectors.iter().any(|d| {
            d.kind == DetectorKind::Calibrated && d.power.iter().any(|p| p.power.runs > 0)
        });
        if calibrated_in_use {
            let mut baselines: Vec<&str> = self
                .variants
                .iter()
                .filter_map(|v| v.baseline.as_deref())
                .collect();
            baselines.sort_unstable();
            baselines.dedup();
            for b in baselines {
                if let Some(bv) = self.variants.iter().find(|v| v.name == b)
                    && bv.runs < need
                {
                    w.push(format!(
                        "{} honest runs of `{b}` cannot calibrate a detector to {} % false \
                         alarms: about {need} are needed (each half of the cross-validation \
                         then has about {} runs above its threshold)",
                        bv.runs,
                        short_pct(alpha),
                        (CALIBRATION_TAIL / 2.0) as usize
                    ));
                }
            }
        }
        w
    }

    /// The overview: every variant on one screen of [`WIDTH`] columns.
    pub fn overview_text(&self) -> String {
        let mut s = String::new();
        let pv = &self.provenance;
        let line = |s: &mut String, text: &str, indent: usize| {
            for l in wrap_indent(text, WIDTH, indent) {
                let _ = writeln!(s, "{l}");
            }
        };
        line(
            &mut s,
            &format!(
                "{} — {} runs per variant, seed {}, tamga {}",
                pv.scenario, pv.runs, pv.seed, pv.tamga_version
            ),
            3,
        );
        line(
            &mut s,
            "mean over runs [the middle 90 % of runs] beside the real result; fits: the real \
             turnout and every list share lie within the variant's central 95 %",
            0,
        );
        let name_w = 20;
        let cut = |n: &str| label_cut(n, name_w);
        let leader = self.leader.as_ref();
        let lid = leader.map(|l| l.id.as_str()).unwrap_or("");
        // the leader's name in column heads: its name when short, else its id
        let lname = leader
            .map(|l| {
                if l.name.chars().count() <= 9 {
                    l.name.clone()
                } else {
                    label_cut(&l.id, 9)
                }
            })
            .unwrap_or_default();
        if let Some(l) = leader {
            line(
                &mut s,
                &format!(
                    "followed: {} ({}), {}",
                    l.name,
                    l.id,
                    self.followed_because()
                ),
                3,
            );
        }
        // 1. turnout, leader's share and seats, fits
        let main_tier = |vi: usize| {
            self.seat_tiers(vi)
                .last()
                .copied()
                .map(|t| format!("{t}_seats.{lid}"))
        };
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "{:<name_w$}  {:<16}  {:<16}  {:<15} fits",
            "",
            "turnout %",
            label_cut(&format!("{lname} list %"), 16),
            label_cut(&format!("{lname} seats"), 15),
        );
        let real = |name: &str| self.real(name);
        if let Some(t) = real("turnout") {
            let share = real(&format!("share.{lid}"))
                .map(|r| format!("{:.1}", 100.0 * r))
                .unwrap_or_default();
            let seats = main_tier(0)
                .and_then(|n| real(&n))
                .map(|r| format!("{r}"))
                .unwrap_or_default();
            let _ = writeln!(
                s,
                "{:<name_w$}  {:<16}  {share:<16}  {seats}",
                "real result",
                format!("{:.1}", 100.0 * t)
            );
        }
        for (vi, v) in self.variants.iter().enumerate() {
            let cell = |name: Option<String>, f: &dyn Fn(&Metric) -> String| {
                name.and_then(|n| self.metric(vi, &n))
                    .map(f)
                    .unwrap_or_default()
            };
            let fits = match v.consistent_with_reported {
                Some(true) => "yes",
                Some(false) => "no",
                None => "",
            };
            let row = format!(
                "{:<name_w$}  {:<16}  {:<16}  {:<15} {fits}",
                cut(&v.name),
                cell(Some("turnout".into()), &share_cell),
                cell(Some(format!("share.{lid}")), &share_cell),
                cell(main_tier(vi), &seat_cell),
            );
            let _ = writeln!(s, "{}", row.trim_end());
        }
        // 2. the leader's seats by tier, and what fraud gave it
        let tiers = self.seat_tiers(0);
        let any_fraud = self.variants.iter().any(|v| !v.honest);
        if leader.is_some() && (tiers.len() > 1 || any_fraud) {
            let _ = writeln!(s);
            let mut head = format!("{:<name_w$}", cut(&format!("{lname} seats by tier")));
            for t in &tiers {
                let _ = write!(head, "  {t:<14}");
            }
            if any_fraud {
                let _ = write!(head, "  fraud");
            }
            let _ = writeln!(s, "{}", head.trim_end());
            let lidx = self.parties.iter().position(|p| p.id == lid);
            for (vi, v) in self.variants.iter().enumerate() {
                let mut row = format!("{:<name_w$}", cut(&v.name));
                for t in &tiers {
                    let c = self
                        .metric(vi, &format!("{t}_seats.{lid}"))
                        .map(seat_cell)
                        .unwrap_or_default();
                    let _ = write!(row, "  {c:<14}");
                }
                // seats fraud gave its beneficiary, named when it is not the party followed
                let bidx = v
                    .beneficiary
                    .as_ref()
                    .and_then(|b| self.parties.iter().position(|p| &p.id == b))
                    .or(lidx);
                if !v.honest
                    && let Some(x) = bidx.and_then(|i| v.seat_effect.total_seats.get(i))
                {
                    let who = match bidx {
                        Some(b) if Some(b) != lidx => format!(" {}", self.parties[b].id),
                        _ => String::new(),
                    };
                    let room = WIDTH.saturating_sub(row.chars().count());
                    let mut cell = format!("  {x:+.1}{who}");
                    if cell.chars().count() > room {
                        cell = format!("  {x:+.1}");
                    }
                    row.push_str(&cell);
                }
                let _ = writeln!(s, "{}", row.trim_end());
            }
            let mut row = format!("{:<name_w$}", "real result");
            for t in &tiers {
                let c = real(&format!("{t}_seats.{lid}"))
                    .map(|r| format!("{r}"))
                    .unwrap_or_default();
                let _ = write!(row, "  {c:<14}");
            }
            let _ = writeln!(s, "{}", row.trim_end());
            if any_fraud {
                line(
                    &mut s,
                    &format!(
                        "fraud: total seats fraud gave its beneficiary ({} unless named; reported \
                         minus truth, mean per run)",
                        leader.map(|l| l.name.as_str()).unwrap_or("")
                    ),
                    3,
                );
            }
        }
        // 3. seat outcomes
        if let Some(li) = self.parties.iter().position(|p| p.id == lid) {
            let thresholds = self.threshold_parties();
            let mut cols: Vec<Column> = vec![
                (
                    "majority".to_string(),
                    Box::new(move |v: &VariantSummary| v.seat_odds.majority.get(li).copied()),
                ),
                (
                    "two-thirds".to_string(),
                    Box::new(move |v: &VariantSummary| v.seat_odds.two_thirds.get(li).copied()),
                ),
            ];
            for &p in thresholds.iter().take(2) {
                cols.push((
                    format!("{} list seat", label_cut(&self.parties[p].id, 8)),
                    Box::new(move |v: &VariantSummary| v.seat_odds.wins_list_seats.get(p).copied()),
                ));
            }
            let _ = writeln!(s);
            let mut head = format!("{:<name_w$}", "% of runs [95 %]");
            for (h, _) in &cols {
                let _ = write!(head, " {:<14}", label_cut(h, 14));
            }
            let _ = writeln!(s, "{}", head.trim_end());
            for v in &self.variants {
                let mut row = format!("{:<name_w$}", cut(&v.name));
                for (_, f) in &cols {
                    let _ = write!(
                        row,
                        " {:<14}",
                        f(v).map(|r| rate_text(&r)).unwrap_or_default()
                    );
                }
                let _ = writeln!(s, "{}", row.trim_end());
            }
            // the real outcome, from the reported total seats
            let total_real = self.real_total_seats();
            let leader_real = real(&format!("total_seats.{lid}"));
            if let (Some(total), Some(seats)) = (total_real, leader_real) {
                let yes = |b: bool| if b { "yes" } else { "no" };
                let mut row = format!(
                    "{:<name_w$} {:<14} {:<14}",
                    "real result",
                    yes(2.0 * seats > total),
                    yes(total > 0.0 && 3.0 * seats >= 2.0 * total)
                );
                for &p in thresholds.iter().take(2) {
                    let won = real(&format!("list_seats.{}", self.parties[p].id))
                        .map(|r| yes(r > 0.0))
                        .unwrap_or("");
                    let _ = write!(row, " {won:<14}");
                }
                let _ = writeln!(s, "{}", row.trim_end());
            }
            line(
                &mut s,
                &format!(
                    "majority: {} holds more than half of all seats; two-thirds: at least two \
                     thirds{}",
                    leader.map(|l| l.name.as_str()).unwrap_or(""),
                    if thresholds.is_empty() {
                        ""
                    } else {
                        "; list seat: the party wins any list seat (passes the threshold)"
                    }
                ),
                3,
            );
        }
        // 4. which detectors catch each fraud variant
        let frauds: Vec<&VariantSummary> = self.variants.iter().filter(|v| !v.honest).collect();
        if !frauds.is_empty() {
            let _ = writeln!(s);
            line(
                &mut s,
                &format!(
                    "caught by: % of runs in which a detector fired [95 %] (false alarms on the \
                     honest baseline; calibrated detectors are set to {} %)",
                    short_pct(self.detection.target_false_alarm_rate)
                ),
                3,
            );
            for v in frauds {
                let found = self.catches(v);
                let mut parts: Vec<String> = found
                    .iter()
                    .take(2)
                    .map(|(d, p, far)| {
                        // one unbreakable item: the wrap keeps a detector with its numbers
                        format!(
                            "{} {} ({})",
                            d.name,
                            rate_text(p),
                            far.map(|f| short_pct(f.rate)).unwrap_or("—".into())
                        )
                        .replace(' ', "\u{a0}")
                    })
                    .collect();
                if found.len() > 2 {
                    parts.push(format!("{}\u{a0}more\u{a0}(--detail)", found.len() - 2));
                }
                let text = if parts.is_empty() {
                    "no detector fires more often than on honest runs".to_string()
                } else {
                    parts.join(", ")
                };
                line(
                    &mut s,
                    &format!("{:<name_w$} {text}", cut(&v.name)),
                    name_w + 1,
                );
            }
        }
        s.push_str(&self.audit_text());
        let warnings = self.warnings();
        if !warnings.is_empty() {
            let _ = writeln!(s);
            for w in warnings {
                line(&mut s, &format!("! {w}"), 2);
            }
        }
        let _ = writeln!(s);
        line(
            &mut s,
            "--detail: per-variant tables and the whole detection matrix; report.html: plots",
            0,
        );
        s
    }

    /// The per-variant tables and the detection matrix.
    pub fn detail_text(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "\nper variant: mean [5–95 %: the middle 90 % of runs]; beyond: share of runs at\n\
             least as far from the median as the real value (small: this variant hardly ever\n\
             produces it); * marks a real seat count outside the middle 90 %"
        );
        for (vi, v) in self.variants.iter().enumerate() {
            let _ = writeln!(s);
            for line in wrap(&format!("variant {} — {}", v.name, v.description), WIDTH) {
                let _ = writeln!(s, "{line}");
            }
            self.terminal_shares(&mut s, vi);
            self.terminal_seats(&mut s, vi);
            let parts: Vec<String> = v
                .exact_match
                .tiers()
                .into_iter()
                .filter(|(label, _)| *label != "total" || self.seat_tiers(vi).contains(&"total"))
                .map(|(label, x)| format!("{label} {} %", short_pct(x)))
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
                for l in wrap(&line, WIDTH) {
                    let _ = writeln!(s, "{l}");
                }
            }
            if let Some(c) = v.consistent_with_reported {
                let _ = writeln!(
                    s,
                    "  real turnout and every share within the central 95 %: {}",
                    if c { "yes" } else { "no" }
                );
            }
            if let Some(m) = self
                .metric(vi, "runoffs")
                .filter(|m| m.max > 0.0 || m.reported.is_some_and(|r| r > 0.0))
            {
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
        s.push_str(&self.audit_detail_text());
        s
    }

    /// District seats won in round 1 as one wrapped line: parties that win any on average or
    /// won any in reality, `*` marking a real count outside the middle 90 %.
    fn terminal_round1(&self, s: &mut String, vi: usize) {
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
                Some(format!("{name} {}{real}{mark}", seat_cell(m)))
            })
            .collect();
        if cells.is_empty() {
            return;
        }
        for line in wrap(&format!("  won in round 1: {}", cells.join(", ")), WIDTH) {
            let _ = writeln!(s, "{line}");
        }
    }

    /// The detection matrix as text: one row per detector, the false-alarm rate on each honest
    /// variant, then the power against each fraud variant, each with its 95 % interval.
    fn detection_table(&self) -> String {
        let frauds: Vec<&VariantSummary> = self.variants.iter().filter(|v| !v.honest).collect();
        let mut s = String::new();
        if frauds.is_empty() {
            return s;
        }
        let honest: Vec<&VariantSummary> = self.variants.iter().filter(|v| v.honest).collect();
        let _ = writeln!(s);
        let title = format!(
            "detection: % of runs in which each detector fired [95 % interval]; H columns: false \
             alarms on an honest variant, F columns: power against a fraud variant (calibrated \
             detectors set to {} % on its baseline)",
            short_pct(self.detection.target_false_alarm_rate)
        );
        for l in wrap(&title, WIDTH) {
            let _ = writeln!(s, "{l}");
        }
        let mut cols: Vec<(String, &VariantSummary)> = Vec::new();
        for (i, v) in honest.iter().enumerate() {
            cols.push((format!("H{}", i + 1), v));
        }
        for (i, v) in frauds.iter().enumerate() {
            cols.push((format!("F{}", i + 1), v));
        }
        let legend: Vec<String> = cols
            .iter()
            .map(|(c, v)| match (&v.baseline, v.honest) {
                (Some(b), false) => format!("{c} {} (vs {b})", v.name),
                _ => format!("{c} {}", v.name),
            })
            .collect();
        for l in wrap(&format!("  columns: {}", legend.join(", ")), WIDTH) {
            let _ = writeln!(s, "{l}");
        }
        let name_w = 20;
        let width = 12usize;
        let per_line = ((WIDTH - 2 - name_w) / (width + 1)).max(1);
        for chunk in cols.chunks(per_line) {
            let mut header = format!("  {:<name_w$}", "detector");
            for (c, _) in chunk {
                let _ = write!(header, " {c:>width$}");
            }
            let _ = writeln!(s, "{header}");
            for d in &self.detection.detectors {
                let mut line = format!("  {:<name_w$}", label_cut(d.name, name_w));
                for (_, v) in chunk {
                    let r = if v.honest {
                        d.false_alarm
                            .iter()
                            .find(|f| f.variant == v.name)
                            .map(|f| &f.false_alarm_rate)
                    } else {
                        d.power
                            .iter()
                            .find(|p| p.variant == v.name)
                            .map(|p| &p.power)
                    };
                    let cell = r.map(rate_text).unwrap_or("—".into());
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
            for l in wrap(note, WIDTH) {
                let _ = writeln!(s, "{l}");
            }
        }
        for l in wrap(
            "  (thresholds and costs per detector are in summary.json under \"detection\")",
            WIDTH,
        ) {
            let _ = writeln!(s, "{l}");
        }
        s
    }

    /// Turnout and the list-share table of variant `vi`.
    fn terminal_shares(&self, s: &mut String, vi: usize) {
        let runs = self.variants[vi].runs;
        let row = |label: &str, m: &Metric| {
            format!(
                "  {:<30} {:>9} {:>15} {:>8} {:>8}",
                label_cut(label, 30),
                format!("{:.2} %", m.mean * 100.0),
                format!("[{:.2}–{:.2}]", m.p05 * 100.0, m.p95 * 100.0),
                m.reported
                    .map(|r| format!("{:.2} %", r * 100.0))
                    .unwrap_or("—".into()),
                beyond_text(m.at_or_beyond, runs)
            )
        };
        let _ = writeln!(
            s,
            "  {:<30} {:>9} {:>15} {:>8} {:>8}",
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

    /// The seat table of variant `vi`: one column per tier the system has; independents only
    /// when any are elected in the runs or in reality.
    fn terminal_seats(&self, s: &mut String, vi: usize) {
        let tiers = self.seat_tiers(vi);
        if tiers.is_empty() {
            return;
        }
        let label_w = 20;
        let mut head = format!("  {:<label_w$}", "seats: mean [5–95 %]");
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
            let elects = |m: &&Metric| m.max > 0.0 || m.reported.is_some_and(|r| r > 0.0);
            if id == "independent" && !cells.iter().flatten().any(elects) {
                continue;
            }
            let mut line = format!("  {:<label_w$}", label_cut(&format!("  {name}"), label_w));
            for m in cells {
                let (cell, mark) = m
                    .map(|m| {
                        let (real, outside) = match m.reported {
                            Some(r) => (format!("{r}"), r < m.p05.round() || r > m.p95.round()),
                            None => ("—".to_string(), false),
                        };
                        (
                            format!("{} {real}", seat_cell(m)),
                            if outside { '*' } else { ' ' },
                        )
                    })
                    .unwrap_or((String::new(), ' '));
                let _ = write!(line, " {cell:>17}{mark}");
            }
            let _ = writeln!(s, "{}", line.trim_end());
        }
        let _ = writeln!(s, "  {:<label_w$} (each cell: mean [5–95 %] real)", "");
    }
}

/// `text` cut to `width` characters with an ellipsis when cut.
pub fn label_cut(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        text.to_string()
    } else {
        text.chars().take(width - 1).collect::<String>() + "…"
    }
}

/// Wraps text at spaces into lines of at most `width` characters, continuations indented by
/// three more spaces than the first line.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let indent = text.len() - text.trim_start_matches(' ').len();
    wrap_indent(text, width, indent + 3)
}

/// Wraps text at spaces into lines of at most `width` characters (a word longer than a line
/// is cut), continuations indented by `cont`. A number and its unit stay together: no break
/// before `%`.
pub fn wrap_indent(text: &str, width: usize, cont: usize) -> Vec<String> {
    let indent = text.len() - text.trim_start_matches(' ').len();
    let body = &text[indent..];
    // glue "%" (and similar units) to the word before it
    let mut words: Vec<String> = Vec::new();
    for w in body.split(' ') {
        match words.last_mut() {
            Some(prev)
                if w == "%"
                    || w.starts_with("%)")
                    || w.starts_with("%,")
                    || w.starts_with("%;") =>
            {
                prev.push('\u{a0}');
                prev.push_str(w);
            }
            _ => words.push(w.to_string()),
        }
    }
    let mut lines = Vec::new();
    let mut line = " ".repeat(indent);
    let mut empty = true;
    for word in words {
        let word = label_cut(&word, width.saturating_sub(cont).max(1));
        if !empty && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
            line = " ".repeat(cont);
            empty = true;
        }
        if !empty {
            line.push(' ');
        }
        line.push_str(&word);
        empty = false;
    }
    lines.push(line);
    lines
        .into_iter()
        .map(|l| l.replace('\u{a0}', " "))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_sign_stays_with_its_number() {
        let text = format!("{} 0.55 % end", "x".repeat(74));
        let lines = wrap_indent(&text, 80, 3);
        assert_eq!(lines[1], "   0.55 % end", "{lines:?}");
        assert!(lines.iter().all(|l| l.chars().count() <= 80));
    }

    #[test]
    fn small_numbers_are_honest() {
        assert_eq!(beyond_text(Some(0.0), 200), "< 0.5 %");
        assert_eq!(beyond_text(Some(0.0), 20), "< 5 %");
        assert_eq!(beyond_text(Some(0.3), 20), "30 %");
        assert_eq!(rate_text(&Rate::wilson(0, 20)), "0 [0–16]");
        assert_eq!(rate_text(&Rate::wilson(20, 20)), "100 [84–100]");
        assert_eq!(short_pct(0.004), "0.4");
        assert_eq!(calibration_runs_needed(0.05), 200);
    }
}
