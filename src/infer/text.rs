//! The terminal rendering of a [`Report`]: a pure function from the report to text.

use super::{Report, Status};
use std::fmt::Write;

pub(super) fn num(x: f64) -> String {
    if x.abs() >= 1000.0 {
        format!("{x:.0}")
    } else if x.abs() >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.3}")
    }
}

impl Report {
    /// The report as text: the reading, the models and parameters, what fraud did, the
    /// predictive checks and the run's diagnostics.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let pv = &self.provenance;
        let _ = writeln!(
            s,
            "tamga infer · {} · hypothesis `{}` · observed: {} · seed {}",
            pv.scenario, pv.hypothesis, pv.observed, pv.seed
        );
        let _ = writeln!(s);
        for line in &self.reading {
            let _ = writeln!(s, "{line}");
        }
        let _ = writeln!(s);
        // without a posterior the column is the closest particles' share, and no verdict
        let posterior = self.status == Status::Posterior;
        let _ = writeln!(
            s,
            "{:<28} {:>11} {:>9} {:>9}  parameters: median [50 %] [90 %] (prior)",
            "model",
            if posterior { "probability" } else { "share" },
            "verdict",
            "particles"
        );
        for m in &self.models {
            let verdict = match m.verdict {
                _ if !posterior => "—",
                super::Verdict::Supported => "supported",
                super::Verdict::Weak => "weak",
                super::Verdict::Excluded => "excluded",
            };
            let _ = write!(
                s,
                "{:<28} {:>11.3} {:>9} {:>9} ",
                m.name, m.probability, verdict, m.particles
            );
            if !m.adjusted && m.particles > 0 {
                s.push_str(" (not regression-adjusted)");
            }
            for p in &m.parameters {
                match &p.posterior {
                    Some(i) => {
                        let _ = write!(
                            s,
                            " {} {} [{}, {}] [{}, {}] ({}–{})",
                            p.name,
                            num(i.median),
                            num(i.lo50),
                            num(i.hi50),
                            num(i.lo90),
                            num(i.hi90),
                            p.prior.0,
                            p.prior.1
                        );
                    }
                    None => {
                        let _ = write!(s, " {} — ({}–{})", p.name, p.prior.0, p.prior.1);
                    }
                }
            }
            let _ = writeln!(s);
        }
        if self.status == Status::Posterior {
            let _ = writeln!(s);
            let _ = writeln!(
                s,
                "{:<36} {:>12} {:>25} {:>25}",
                "what fraud did (model-averaged)", "median", "50 %", "90 %"
            );
            for q in self.derived.iter().filter(|q| q.shown()) {
                let i = &q.interval;
                let _ = writeln!(
                    s,
                    "{:<36} {:>12} {:>25} {:>25}",
                    q.name,
                    num(i.median),
                    format!("[{}, {}]", num(i.lo50), num(i.hi50)),
                    format!("[{}, {}]", num(i.lo90), num(i.hi90))
                );
            }
            if pv.honest_ballots_sd > 0.0 {
                let _ = writeln!(
                    s,
                    "The honest model was fitted to the file: the ballots added, turnout added and votes in question include its uncertainty ({} ballots, one standard deviation over bootstrap refits).",
                    num(pv.honest_ballots_sd)
                );
            }
            if pv.honest_moved_sd > 0.0 {
                let _ = writeln!(
                    s,
                    "The votes moved and votes in question include the uncertainty of the fitted honest preferences ({} of the leader's votes, one standard deviation over the same refits).",
                    num(pv.honest_moved_sd)
                );
            }
            let [fewer, more] = pv.honest_ballots_unidentified;
            if fewer > 0.0 || more > 0.0 {
                let _ = writeln!(
                    s,
                    "The file does not identify its honest level: from {} fewer honest ballots than the fit (the weakest clean-peak bound, when the mixture's components overlap or its moved part lies below its honest part) to {} more (the mixture with the shares of honest and moved stations swapped, when it put most in its moved part) are not ruled out, so the intervals of ballots added, turnout added and votes in question are widened over that whole range.",
                    num(fewer),
                    num(more)
                );
            }
            let [fewer, more] = pv.honest_moved_unidentified;
            if fewer > 0.0 || more > 0.0 {
                let _ = writeln!(
                    s,
                    "Nor does it identify the leader's honest share: from {} fewer of the leader's honest votes than the fit (the weakest clean-peak bound of the leader's share) to {} more (the mixture with the shares swapped) are not ruled out, so the intervals of votes moved and votes in question are widened over that range too.",
                    num(fewer),
                    num(more)
                );
            }
        }
        if !self.predictive.is_empty() {
            let _ = writeln!(s);
            let _ = writeln!(
                s,
                "{:<36} {:>12} {:>12} {:>25}",
                "posterior predictive check", "observed", "median", "90 %"
            );
            for p in &self.predictive {
                let _ = writeln!(
                    s,
                    "{:<36} {:>12} {:>12} {:>25}{}",
                    p.statistic,
                    num(p.observed),
                    num(p.simulated.median),
                    format!("[{}, {}]", num(p.simulated.lo90), num(p.simulated.hi90)),
                    if p.inside90 { "" } else { "  ← outside" }
                );
            }
        }
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "{} simulated elections in {} generations (stopped: {:?}); final tolerance {:.3}; last acceptance rate {:.3}; ESS {:.0}",
            self.simulations,
            self.generations.len(),
            self.stop,
            self.epsilon,
            self.acceptance,
            self.ess
        );
        s
    }

    /// The report as pretty JSON.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self)
            .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
        s.push('\n');
        s
    }
}
