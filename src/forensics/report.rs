//! The forensics report: its data model (serialised as the JSON document of `--json` and
//! `report.json`) and its plain-text rendering.
//!
//! Owns: what the user sees and in which words. Never does: I/O or computation of statistics —
//! every number comes from the analyses; renderings are pure functions returning strings.

use std::fmt::Write;

use super::reading::Reading;
use super::stats::digits::{DigitTest, DigitTests};
use super::stats::fingerprint::Fingerprint;
use super::stats::integer::{IntegerCount, IntegerTest};
use super::stats::klimek::{FitEffort, KlimekFit};
use super::stats::klimek_fit::ParamEstimate;
use super::stats::shpilkin::CleanPeak;
use super::stats::stations::Filtered;

pub use super::stats::klimek_fit::ALPHA_UNIDENTIFIED_BELOW;

/// Everything `tamga forensics` reports about one election.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Report {
    /// The plain-words reading: first, so that `--json` leads with it.
    pub reading: Reading,
    pub tool: String,
    pub seed: u64,
    /// Option names in file order, with their totals.
    pub options: Vec<String>,
    pub option_totals: Vec<u64>,
    pub leader: String,
    /// The `--leader` text, if one was given (otherwise the largest total was taken).
    pub leader_query: Option<String>,
    pub stations_read: usize,
    /// Stations removed by each filter, in the order applied.
    pub filters: Vec<Filtered>,
    pub stations_analysed: usize,
    pub fit_effort: FitEffort,
    pub fingerprint: Fingerprint,
    pub integer: IntegerTest,
    /// The Klimek fit, or why it is undefined for these stations (`klimek_undefined`).
    pub klimek: Option<KlimekFit>,
    pub klimek_undefined: Option<String>,
    /// Shpilkin's clean-peak estimate (None when undefined: no votes for others at or below the
    /// turnout peak).
    pub clean_peak: Option<CleanPeak>,
    pub digits: DigitTests,
}

impl Report {
    /// The report as one pretty-printed JSON document (ends with a newline).
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("a report always serialises");
        s.push('\n');
        s
    }

    /// The report as text for a terminal; `source` names the input (e.g. the file name).
    pub fn to_text(&self, source: &str) -> String {
        let mut o = String::new();
        let fp = &self.fingerprint;
        let _ = writeln!(o, "tamga forensics — {source}");
        let _ = writeln!(o, "\nReading");
        for line in &self.reading.summary {
            let _ = writeln!(o, "  {line}");
        }
        let _ = writeln!(o, "  Caveats:");
        for line in &self.reading.caveats {
            let _ = writeln!(o, "  - {line}");
        }
        let _ = writeln!(o);
        let how = match &self.leader_query {
            Some(q) => format!("matched --leader \"{q}\""),
            None => "largest total".to_string(),
        };
        let _ = writeln!(o, "Leader: {} ({how})", self.leader);
        let _ = writeln!(
            o,
            "Stations: {} read, {} analysed",
            thousands(self.stations_read as u64),
            thousands(self.stations_analysed as u64)
        );
        for f in &self.filters {
            let _ = writeln!(
                o,
                "  removed {:>7}  {}",
                thousands(f.removed as u64),
                f.rule
            );
        }
        let _ = writeln!(
            o,
            "National (analysed stations): turnout {}, leader {}",
            pct(fp.national_turnout),
            pct(fp.national_share)
        );

        let it = &self.integer;
        let _ = writeln!(
            o,
            "\nInteger percentages (Kobak, Shpilkin & Pshenichnikov 2016; exact binomial null)"
        );
        let _ = writeln!(
            o,
            "  {} stations tested; removed turnout > 99 %: {}, share > 99 %: {}",
            thousands(it.stations as u64),
            thousands(it.removed_turnout_above_99 as u64),
            thousands(it.removed_share_above_99 as u64)
        );
        let _ = writeln!(
            o,
            "  {:<9} {:>9} {:>10} {:>7} {:>9} {:>7}",
            "", "observed", "expected", "sd", "excess", "z"
        );
        for (name, c) in [
            ("turnout", &it.turnout),
            ("share", &it.share),
            ("either", &it.either),
        ] {
            let _ = writeln!(o, "  {}", integer_row(name, c));
        }

        match &self.klimek {
            Some(k) => write_klimek(&mut o, k),
            None => {
                let _ = writeln!(
                    o,
                    "\nKlimek fraud model: undefined — {}",
                    self.klimek_undefined.as_deref().unwrap_or("no fit")
                );
            }
        }
        let _ = writeln!(
            o,
            "\nShpilkin's clean-peak estimate (model-based: the others' votes genuine, the leader's ratio to them flat in turnout above the turnout peak)"
        );
        match &self.clean_peak {
            Some(c) => {
                let _ = writeln!(
                    o,
                    "  turnout peak {}, baseline {:.3} leader votes per other vote; anomalous leader votes {:.0} ({} of the leader's), 90 % interval [{:.0}, {:.0}] over {} station-bootstrap replicates",
                    pct(c.peak_turnout),
                    c.baseline_ratio,
                    c.votes,
                    pct(c.share_of_leader_votes),
                    c.lo,
                    c.hi,
                    c.replicates
                );
            }
            None => {
                let _ = writeln!(
                    o,
                    "  undefined: no votes for anyone but the leader at or below the turnout peak"
                );
            }
        }

        write_digits(&mut o, &self.digits);

        let _ = writeln!(o, "\nOther fingerprints");
        let _ = writeln!(
            o,
            "  turnout–share slope — leader votes per registered voter regressed on turnout (Myagkov et al. 2009; > 1 signals stuffing): {} ± {}; all {} stations, as published: {}",
            num(fp.slope.slope, 3),
            num(fp.slope.slope_se, 3),
            thousands(fp.all_stations as u64),
            num(fp.slope_all_stations.slope, 3)
        );
        if fp.slope.slope.is_nan() {
            let _ = writeln!(
                o,
                "    (undefined: turnout does not vary between stations, or too few stations)"
            );
        }
        let _ = writeln!(
            o,
            "  log vote rate ν = ln((N−W)/W): skewness {}, kurtosis {} (fair elections ≈ 0 and 3)",
            num(fp.log_vote_rate.skewness, 2),
            num(fp.log_vote_rate.kurtosis, 2)
        );
        if fp.log_vote_rate.skewness.is_nan() {
            let _ = writeln!(
                o,
                "    (undefined: ν does not vary between stations, or too few stations)"
            );
        }
        let _ = writeln!(
            o,
            "  stations at turnout ≥ 95 % and share ≥ 95 %: {} ({}); over all {} stations: {}",
            thousands(fp.count_95_95 as u64),
            pct(fp.share_95_95),
            thousands(fp.all_stations as u64),
            pct(fp.share_95_95_all_stations)
        );
        let _ = writeln!(o, "\nseed {} — same seed, same report", self.seed);
        o
    }
}

/// A number with `d` decimals, or "undefined" when it is not a number.
pub fn num(x: f64, d: usize) -> String {
    if x.is_finite() {
        format!("{x:.d$}")
    } else {
        "undefined".into()
    }
}

/// An estimate with its 90 % interval, each formatted by `f`.
pub fn with_interval(e: &ParamEstimate, f: &dyn Fn(f64) -> String) -> String {
    let mut s = f(e.estimate);
    if e.lo.is_finite() {
        s.push_str(&format!(" [{}, {}]", f(e.lo), f(e.hi)));
    }
    if let Some(b) = e.at_bound {
        s.push_str(&format!(" (at {b} bound)"));
    }
    s
}

fn write_klimek(o: &mut String, k: &KlimekFit) {
    let _ = writeln!(
        o,
        "\nKlimek fraud model (Klimek, Yegorov, Hanel & Thurner 2012), fitted by likelihood to the 2-D turnout × share distribution of {} stations; [90 % station-bootstrap intervals, {} replicates]",
        thousands(k.stations as u64),
        k.bootstrap
    );
    let p = |x: f64| pct(x);
    let f3 = |x: f64| format!("{x:.3}");
    let _ = writeln!(
        o,
        "  fair part: turnout {} ± {}, leader share {} ± {}; incremental width θ = {}",
        with_interval(&k.turnout_mean, &p),
        with_interval(&k.turnout_sd, &p),
        with_interval(&k.share_mean, &p),
        with_interval(&k.share_sd, &p),
        with_interval(&k.incremental_sd, &f3)
    );
    let _ = writeln!(
        o,
        "  f_i = {}   f_e = {}   α = {}",
        with_interval(&k.f_incremental, &f3),
        with_interval(&k.f_extreme, &|x| format!("{x:.4}")),
        with_interval(&k.alpha, &|x| format!("{x:.2}"))
    );
    if !k.alpha_identified {
        let _ = writeln!(
            o,
            "  (almost no station is frauded in the fit, so α is not identified and means nothing here)"
        );
    }
    if k.solutions.len() > 1 {
        let _ = writeln!(
            o,
            "  distinct optima (never averaged; deviance gap to the best, share of bootstrap refits landing there):"
        );
        for s in &k.solutions {
            let q = &s.params;
            let _ = writeln!(
                o,
                "    f_i {:.3}  f_e {:.4}  α {:.2}  ν {}  τ {}   gap {:.1}   {}",
                q.f_incremental,
                q.f_extreme,
                q.alpha,
                pct(q.fair.share_mean),
                pct(q.fair.turnout_mean),
                s.deviance_gap,
                pct(s.bootstrap_share)
            );
        }
    }
    let v = &k.votes;
    let votes = |x: f64| thousands(x.max(0.0).round() as u64);
    let _ = writeln!(
        o,
        "  votes in question (model-based, if the model is right): stuffed {}, moved {}, total {} = {} of the leader's votes",
        with_interval(&v.stuffed, &votes),
        with_interval(&v.moved, &votes),
        with_interval(&v.total, &votes),
        with_interval(&v.share_of_leader_votes, &p)
    );
    let g = &k.fit;
    let _ = writeln!(
        o,
        "  goodness of fit: stations at turnout ≥ 95 % and share ≥ 95 %: model {}, observed {}; misfit {} of stations off their model cell (sampling alone: {}, 99 % {}); unplaced {}",
        with_interval(&g.corner_model, &p),
        pct(g.corner_observed),
        pct(g.misfit),
        pct(g.misfit_null_mean),
        pct(g.misfit_null_q99),
        pct(k.unplaced.estimate)
    );
    for w in &g.warnings {
        let _ = writeln!(o, "  WARNING: {w}");
    }
    let _ = writeln!(
        o,
        "  the fitted model implies turnout {} (observed {}), leader {} (observed {})",
        pct(k.implied_turnout),
        pct(k.observed_turnout),
        pct(k.implied_share),
        pct(k.observed_share)
    );
}

fn integer_row(name: &str, c: &IntegerCount) -> String {
    format!(
        "{:<9} {:>9} {:>10} {:>7.1} {:>+9.1} {:>7.2}",
        name,
        thousands(c.observed),
        format!("{:.1}", c.expected),
        c.sd,
        c.excess,
        c.z
    )
}

fn write_digits(o: &mut String, d: &DigitTests) {
    let _ = writeln!(
        o,
        "\nDigit tests (null: {} simulations of this election's own stations, counts redrawn binomially around each station's result; p two-sided)",
        d.null_simulations
    );
    for s in &d.series {
        let _ = writeln!(
            o,
            "  {} (n = {}, counts ≥ 10){}",
            s.series,
            thousands(s.n as u64),
            if s.has_power {
                ""
            } else {
                " — no power: too few counts"
            }
        );
        let _ = writeln!(
            o,
            "    {:<16} {:>9} {:>9} {:>10}   {:>9} {:>21} {:>11}",
            "",
            "observed",
            "textbook",
            "textbook p",
            "null mean",
            "null 95 % range",
            "calibrated p"
        );
        for (name, t) in [
            ("2nd digit X²", &s.second_digit_chi2),
            ("2nd digit mean", &s.second_digit_mean),
            ("last digit X²", &s.last_digit_chi2),
            ("last digit mean", &s.last_digit_mean),
            ("0/5 share", &s.share_0_or_5),
        ] {
            let _ = writeln!(o, "    {}", digit_row(name, t));
        }
    }
}

fn digit_row(name: &str, t: &DigitTest) -> String {
    format!(
        "{:<16} {:>9.3} {:>9.3} {:>10}   {:>9.3} {:>21} {:>11}",
        name,
        t.observed,
        t.textbook_expected,
        p_value(t.textbook_p),
        t.null_mean,
        format!("[{:.3}, {:.3}]", t.null_q025, t.null_q975),
        calibrated_p(t)
    )
}

/// A calibrated p-value for people: "≤ p" when the observation is beyond every simulation.
pub fn calibrated_p(t: &DigitTest) -> String {
    if t.at_floor && t.calibrated_p >= 1e-16 {
        format!("≤ {}", p_value(t.calibrated_p))
    } else {
        p_value(t.calibrated_p)
    }
}

/// A p-value for people: 3 significant digits, "< 1e-16" below double precision.
pub fn p_value(p: f64) -> String {
    if p.is_nan() {
        "n/a".into()
    } else if p < 1e-16 {
        "< 1e-16".into()
    } else if p < 0.001 {
        format!("{p:.1e}")
    } else {
        format!("{p:.3}")
    }
}

/// A fraction as a percentage with two decimals.
pub fn pct(x: f64) -> String {
    if x.is_nan() {
        "n/a".into()
    } else {
        format!("{:.2} %", 100.0 * x)
    }
}

/// 1234567 → "1,234,567".
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_formats() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(95_225), "95,225");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(pct(0.5), "50.00 %");
        assert_eq!(p_value(0.0), "< 1e-16");
        assert_eq!(p_value(0.5), "0.500");
        assert_eq!(p_value(2.5e-5), "2.5e-5");
    }
}
