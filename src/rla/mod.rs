//! Risk-limiting audits (RLAs) of a paper record: the public-seed sampler, the audit methods,
//! the assertions that imply an outcome, and audits in rounds that escalate to a full hand count.
//! See `docs/rla.md`.
//!
//! - [`sampler`]: Rivest's SHA-256 sampler (ColoradoRLA, Arlo), so an observer can recompute a
//!   sample from the public seed with another tool.
//! - [`assertion`]: SHANGRLA assertions and assorters for plurality, absolute majority with a
//!   runoff, list thresholds and largest-remainder seats (the rules of [`crate::seats`]).
//! - [`bravo`]: BRAVO ballot polling (Lindeman, Stark & Yates 2012), its sample sizes and ASN.
//! - [`comparison`]: ballot-level comparison with the Kaplan–Markov P-value and the
//!   super-simple γ (Stark 2010), its sample sizes, ALPHA on the comparison assorter, and
//!   ONEAudit's growth-optimal fixed bet (Stark 2023).
//! - [`batch`]: batch comparison with MACRO (Stark 2008) and PPEBWR Kaplan–Markov.
//! - [`alpha`]: the ALPHA betting martingale (Stark 2023).
//! - [`audit`]: rounds and escalation, and audits simulated on counts.
//!
//! **Owns** the statistics of audits. **Never** reads files, clocks or global randomness:
//! randomness is the public seed or a caller's `Rng`. Uses only `rng`, `stats` and `seats`.

pub mod alpha;
pub mod assertion;
pub mod audit;
pub mod batch;
pub mod bravo;
pub mod comparison;
pub mod sampler;

#[cfg(test)]
mod tests;

pub use assertion::{
    Assertion, Base, Claim, SeatRule, list_tier, majority_rule, plurality, seat_rule,
};
pub use audit::{Decision, Outcome, REFUTE_BELOW, RoundEnd, Schedule, escalate};
pub use sampler::{SampleError, Sampler};

use std::fmt;
use std::str::FromStr;

/// An audit method.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// BRAVO ballot polling.
    Bravo,
    /// ALPHA ballot polling.
    AlphaPolling,
    /// Ballot-level comparison, Kaplan–Markov with the super-simple γ.
    KaplanMarkov,
    /// Ballot-level comparison, ALPHA.
    AlphaComparison,
    /// Ballot-level comparison, ONEAudit's fixed bet: the growth-optimal bet for the papers as
    /// planned, at most Kaplan–Markov's.
    OneAudit,
    /// Batch comparison (station protocols as batches), MACRO.
    Macro,
}

/// Every method, in the order reports list them.
pub const METHODS: [Method; 6] = [
    Method::Bravo,
    Method::AlphaPolling,
    Method::KaplanMarkov,
    Method::AlphaComparison,
    Method::OneAudit,
    Method::Macro,
];

impl Method {
    /// The name on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Method::Bravo => "bravo",
            Method::AlphaPolling => "alpha-polling",
            Method::KaplanMarkov => "kaplan-markov",
            Method::AlphaComparison => "alpha-comparison",
            Method::OneAudit => "one-audit",
            Method::Macro => "macro",
        }
    }

    /// Whether the method compares each drawn ballot with its cast-vote record.
    pub fn compares_ballots(self) -> bool {
        matches!(
            self,
            Method::KaplanMarkov | Method::AlphaComparison | Method::OneAudit
        )
    }

    /// Whether the method samples batches (else ballots).
    pub fn samples_batches(self) -> bool {
        self == Method::Macro
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Method {
    type Err = String;
    fn from_str(s: &str) -> Result<Method, String> {
        METHODS
            .iter()
            .copied()
            .find(|m| m.name() == s)
            .ok_or_else(|| {
                format!(
                    "unknown audit method `{}`; use one of: {}",
                    crate::text::echo(s),
                    METHODS.map(Method::name).join(", ")
                )
            })
    }
}

/// A risk limit, strictly between 0 and 1.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct RiskLimit(f64);

impl RiskLimit {
    /// `alpha` if `0 < alpha < 1`.
    pub fn new(alpha: f64) -> Result<RiskLimit, String> {
        if alpha > 0.0 && alpha < 1.0 {
            Ok(RiskLimit(alpha))
        } else {
            Err(format!(
                "the risk limit must lie strictly between 0 and 1 (0% and 100%), got {alpha}"
            ))
        }
    }

    /// Parses `5%` or `0.05`.
    pub fn parse(s: &str) -> Result<RiskLimit, String> {
        let t = s.trim();
        let (num, scale) = match t.strip_suffix('%') {
            Some(n) => (n.trim(), 0.01),
            None => (t, 1.0),
        };
        let x: f64 = num.parse().map_err(|_| {
            format!(
                "the risk limit `{}` is not a number; write it as 5% or 0.05",
                crate::text::echo(s)
            )
        })?;
        RiskLimit::new(x * scale)
    }

    /// The limit as a probability.
    pub fn get(self) -> f64 {
        self.0
    }
}
