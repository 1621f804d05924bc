//! The forensics report: its data model (serialised as the JSON document of `--json` and
//! `report.json`) and its plain-text rendering.
//!
//! Owns: what the user sees and in which words. Never does: I/O or computation of statistics —
//! every number comes from the analyses; renderings are pure functions returning strings.

use std::fmt::Write;

use super::stats::digits::{DigitTest, DigitTests};
use super::stats::fingerprint::Fingerprint;
use super::stats::integer::{IntegerCount, IntegerTest};
use super::stats::klimek::{FitEffort, KlimekFit};
use super::stats::stations::Filtered;

/// Below this fitted f_i + f_e the fraud intensity α acts on too few stations to be estimated
/// (1 % of stations); the renderings say so instead of presenting α as a finding.
pub const ALPHA_UNIDENTIFIED_BELOW: f64 = 0.01;

/// Everything `tamga forensics` reports about one election.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Report {
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
    pub klimek: KlimekFit,
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

        let k = &self.klimek;
        let f = &k.fair.fair;
        let _ = writeln!(
            o,
            "\nKlimek fraud model fit (Klimek, Yegorov, Hanel & Thurner 2012), {} stations",
            thousands(k.stations as u64)
        );
        let _ = writeln!(
            o,
            "  fair part: turnout {} ± {}, leader share {} ± {}; incremental width θ = {:.3}",
            pct(f.turnout_mean),
            pct(f.turnout_sd),
            pct(f.share_mean),
            pct(f.share_sd),
            k.fair.incremental_sd
        );
        let _ = writeln!(
            o,
            "  f_i = {:.3} ± {:.3}   f_e = {:.4} ± {:.4}   α = {:.2} ± {:.2}   (mean ± sd of {} replicate fits)",
            k.f_incremental.mean,
            k.f_incremental.sd,
            k.f_extreme.mean,
            k.f_extreme.sd,
            k.alpha.mean,
            k.alpha.sd,
            k.replicates.len()
        );
        if k.f_incremental.mean + k.f_extreme.mean < ALPHA_UNIDENTIFIED_BELOW {
            let _ = writeln!(
                o,
                "  (almost no station is frauded in the fit, so α is not identified and means nothing here)"
            );
        }
        let _ = writeln!(
            o,
            "  the fitted model implies turnout {} (observed {}), leader {} (observed {})",
            pct(k.implied_turnout),
            pct(k.observed_turnout),
            pct(k.implied_share),
            pct(k.observed_share)
        );
        let _ = writeln!(
            o,
            "  stations at turnout ≥ 95 % and share ≥ 95 %: model {}, observed {}",
            pct(k.implied_share_95_95),
            pct(k.observed_share_95_95)
        );

        write_digits(&mut o, &self.digits);

        let _ = writeln!(o, "\nOther fingerprints");
        let _ = writeln!(
            o,
            "  turnout–share slope (Myagkov et al. 2009; > 1 signals stuffing): {:.3} ± {:.3}; all {} stations, as published: {:.3}",
            fp.slope.slope,
            fp.slope.slope_se,
            thousands(fp.all_stations as u64),
            fp.slope_all_stations.slope
        );
        let _ = writeln!(
            o,
            "  log vote rate ν = ln((N−W)/W): skewness {:.2}, kurtosis {:.2} (fair elections ≈ 0 and 3)",
            fp.log_vote_rate.skewness, fp.log_vote_rate.kurtosis
        );
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
        "\nDigit tests (null: {} clean simulations of the fitted fair part on the same station sizes)",
        d.null_simulations
    );
    for s in &d.series {
        let _ = writeln!(
            o,
            "  {} (n = {}, counts ≥ 10)",
            s.series,
            thousands(s.n as u64)
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
        p_value(t.calibrated_p)
    )
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
