//! The steps of an allocation as data, for `--explain` and reports. Recording is opt-in through
//! the [`Recorder`] trait: the default path uses [`NoSteps`], whose calls compile to nothing, so
//! the Monte Carlo loop pays nothing for explanations. This module never computes seats.

use super::{Method, Ratio};
use serde::{Serialize, Serializer};
use std::fmt;

/// An exact non-negative fraction of `u128`s (a quotient, a remainder, a quota).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frac {
    pub num: u128,
    pub den: u128,
}

impl Frac {
    /// A decimal approximation for display only (never used to decide anything).
    pub fn approx(&self) -> f64 {
        if self.den == 0 {
            return f64::NAN;
        }
        self.num as f64 / self.den as f64
    }
}

impl fmt::Display for Frac {
    /// The exact value when whole, else at most 4 decimals (display only).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.den != 0 && self.num.is_multiple_of(self.den) {
            write!(f, "{}", self.num / self.den)
        } else {
            let s = format!("{:.4}", self.approx());
            f.write_str(s.trim_end_matches('0').trim_end_matches('.'))
        }
    }
}

impl Serialize for Frac {
    /// `{"exact": "num/den", "approx": 1.5}`.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Frac", 2)?;
        st.serialize_field("exact", &format!("{}/{}", self.num, self.den))?;
        st.serialize_field("approx", &self.approx())?;
        st.end()
    }
}

/// Why a seat went where it went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// The highest remaining quotient (divisor methods).
    HighestQuotient,
    /// One of the largest remainders (largest-remainder methods, second stage).
    LargestRemainder,
    /// Tied with `with` on the same value; every tied party got a seat, so the tie decided
    /// nothing. Listed in the documented order: more votes first, then the party listed first.
    TiedAllSeated { with: Vec<usize> },
    /// Won a lot among tied parties (see the preceding [`Step::Lot`]).
    Lot,
}

/// One step of an allocation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum Step {
    /// Largest remainder, first stage: `party` has `votes / quota = whole + remainder`.
    WholeQuotas {
        party: usize,
        whole: u32,
        remainder: Frac,
    },
    /// Seat number `seat` (1-based, in order of award) goes to `party` on `value` (a quotient
    /// for divisor methods, a remainder in quotas for largest remainder).
    Seat {
        seat: u32,
        party: usize,
        value: Frac,
        reason: Reason,
    },
    /// A lot among `among` for `seats` seats, won by `winners`.
    Lot {
        among: Vec<usize>,
        seats: u32,
        winners: Vec<usize>,
    },
}

/// How the threshold was applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ThresholdCheck {
    pub share: Ratio,
    /// The base the share was taken of (listed votes, or the given number of ballots).
    pub base: u64,
    /// `share × base`: a party qualifies with at least this many votes.
    pub required: Frac,
    pub or_district_seats: Option<u32>,
}

/// Everything needed to explain an allocation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Explanation {
    pub method: String,
    pub house: u32,
    /// Sum of all listed votes (0 if it overflowed).
    pub listed_votes: u64,
    pub threshold: Option<ThresholdCheck>,
    pub qualified: Vec<bool>,
    /// The quota (largest-remainder methods).
    pub quota: Option<Frac>,
    /// The divisors used, as exact fractions, for divisor methods: the first three.
    pub divisors: Vec<Frac>,
    pub steps: Vec<Step>,
}

impl Explanation {
    pub(crate) fn new(method: &Method, house: u32, votes: &[u64]) -> Explanation {
        let listed = votes
            .iter()
            .try_fold(0u64, |a, &v| a.checked_add(v))
            .unwrap_or(0);
        Explanation {
            method: method.to_string(),
            house,
            listed_votes: listed,
            threshold: None,
            qualified: Vec::new(),
            quota: None,
            divisors: Vec::new(),
            steps: Vec::new(),
        }
    }
}

/// Receives steps. `ON` lets callers skip work (and choose faster algorithms) when off.
pub(crate) trait Recorder {
    const ON: bool;
    fn step(&mut self, f: impl FnOnce() -> Step);
    fn quota(&mut self, _q: Frac) {}
    fn divisors(&mut self, _d: Vec<Frac>) {}
}

/// The default: records nothing.
pub(crate) struct NoSteps;

impl Recorder for NoSteps {
    const ON: bool = false;
    #[inline(always)]
    fn step(&mut self, _f: impl FnOnce() -> Step) {}
}

impl Recorder for Explanation {
    const ON: bool = true;
    fn step(&mut self, f: impl FnOnce() -> Step) {
        self.steps.push(f());
    }
    fn quota(&mut self, q: Frac) {
        self.quota = Some(q);
    }
    fn divisors(&mut self, d: Vec<Frac>) {
        self.divisors = d;
    }
}
