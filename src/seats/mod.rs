//! Seat allocation: list proportional representation (divisor and largest-remainder methods),
//! thresholds, single-member districts, and mixed systems (parallel and compensatory/MMP).
//!
//! This module owns the arithmetic that turns vote counts into seats, and nothing else. It never
//! reads files, prints, consults a clock or a global random generator, or uses floating point:
//! every quotient, remainder and threshold is compared exactly by integer cross-multiplication in
//! `u128`. (The one reader here, [`csv`], takes any `io::Read`; paths live in the CLI.)
//!
//! Methods and their sources (see `docs/seats.md` for the full description):
//! - D'Hondt (Jefferson; Swiss "Hagenbach-Bischoff"): divisors 1, 2, 3, … — Balinski & Young,
//!   *Fair Representation* (2nd ed., 2001), ch. 3 and app. A.
//! - Sainte-Laguë (Webster): divisors 1, 3, 5, … — ibid.; A. Sainte-Laguë, *La représentation
//!   proportionnelle et la méthode des moindres carrés*, Ann. ENS 27 (1910).
//! - Modified Sainte-Laguë: first divisor 1.4 (Norway, Sweden until 2018), then 3, 5, 7, …
//! - Imperiali (divisor form, Belgian municipal elections): divisors 2, 3, 4, …
//! - Hare (Hamilton) and Droop largest remainder; Droop quota ⌊V/(S+1)⌋ + 1 —
//!   Gallagher & Mitchell, *The Politics of Electoral Systems* (2005), app. B.
//! - Kazakhstan 2004 list tier: Hare quota computed over the lists that passed 7 % of valid votes
//!   (Constitutional Law "On Elections", art. 97-1, 2004 wording).
//! - New Zealand MMP: Sainte-Laguë over parties with ≥ 5 % of party votes or ≥ 1 electorate
//!   seat; overhang kept (Electoral Act 1993, ss. 191–193).
//!
//! Ties: see [`TieBreak`]. A tie that decides a seat is never resolved silently — it is returned
//! as [`SeatError::Tie`] or, when the caller asks, decided by a seeded lot that is recorded in
//! the result. Ties that decide nothing (every tied party gets a seat) only affect the order in
//! which [`Explanation`] lists the seats: more votes first, then the party listed first.
//!
//! The default path ([`allocate`]) records no steps and allocates only the result vectors; the
//! explained path ([`allocate_explained`]) records every step for `--explain` and reports.

pub mod csv;
mod divisor;
mod explain;
mod largest_remainder;
mod mixed;
mod ratio;
mod single;
mod threshold;
mod tie;

pub use explain::{Explanation, Frac, Reason, Step, ThresholdCheck};
pub use mixed::{
    DistrictVotes, DistrictsAllocation, MixedAllocation, MixedInput, Overhang, ThresholdScope,
    allocate_districts, mmp, parallel,
};
pub use ratio::Ratio;
pub use single::{
    DistrictDecision, DistrictOutcome, DistrictRule, single_member, single_member_detailed,
};
pub use threshold::qualify;
pub use tie::{Lot, TieBreak};

use explain::{NoSteps, Recorder};
use serde::Serialize;
use std::fmt;
use std::str::FromStr;
use tie::TieState;

/// What the threshold share is measured against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ThresholdBase {
    /// The sum of the votes listed in the input (valid list votes). The default.
    ListedVotes,
    /// A given number: all ballots cast, or any other published base. Must be ≥ the listed votes.
    Ballots(u64),
}

/// A legal threshold: a party qualifies when `votes ≥ share × base` (exactly:
/// `votes·share.den ≥ share.num·base`), or, if `or_district_seats` is set, when it won at least
/// that many district seats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Threshold {
    pub share: Ratio,
    pub base: ThresholdBase,
    pub or_district_seats: Option<u32>,
}

impl Threshold {
    /// A threshold on the listed votes with no district-seat alternative.
    pub fn on_listed_votes(share: Ratio) -> Threshold {
        Threshold {
            share,
            base: ThresholdBase::ListedVotes,
            or_district_seats: None,
        }
    }
}

/// An apportionment method for list seats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Divisors 1, 2, 3, … (Jefferson; Hagenbach-Bischoff in Switzerland).
    DHondt,
    /// Divisors 1, 3, 5, … (Webster).
    SainteLague,
    /// Divisors `first_divisor`, 3, 5, 7, …; `first_divisor` must lie strictly between 0 and 3
    /// and have a denominator ≤ 1,000,000 (1.4 in Norway and formerly Sweden; 1.2 in Sweden
    /// since 2018).
    ModifiedSainteLague { first_divisor: Ratio },
    /// Divisors 2, 3, 4, … (Belgian municipal elections; favours large parties).
    Imperiali,
    /// Largest remainder with the Hare quota V/S (Hamilton; Hare–Niemeyer).
    Hare,
    /// Largest remainder with the Droop quota ⌊V/(S+1)⌋ + 1.
    Droop,
}

impl Method {
    /// The canonical name, as accepted by [`FromStr`] and printed by the CLI.
    pub fn name(&self) -> &'static str {
        match self {
            Method::DHondt => "dhondt",
            Method::SainteLague => "sainte_lague",
            Method::ModifiedSainteLague { .. } => "modified_sainte_lague",
            Method::Imperiali => "imperiali",
            Method::Hare => "hare",
            Method::Droop => "droop",
        }
    }

    /// True for highest-averages methods (house-monotone); false for largest remainder.
    pub fn is_divisor(&self) -> bool {
        !matches!(self, Method::Hare | Method::Droop)
    }

    /// Modified Sainte-Laguë with the customary first divisor 1.4.
    pub fn modified_sainte_lague() -> Method {
        Method::ModifiedSainteLague {
            first_divisor: Ratio { num: 7, den: 5 },
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Method::ModifiedSainteLague { first_divisor } => {
                write!(f, "modified_sainte_lague (first divisor {first_divisor})")
            }
            m => f.write_str(m.name()),
        }
    }
}

/// Names accepted (case-insensitive, `-` or `_`, apostrophes ignored): `dhondt` (`d'hondt`,
/// `jefferson`, `hagenbach_bischoff`), `sainte_lague` (`webster`), `modified_sainte_lague`
/// (`modified_sainte_lague_1_4`; first divisor 1.4), `imperiali`, `hare` (`hamilton`,
/// `hare_niemeyer`), `droop`.
impl FromStr for Method {
    type Err = SeatError;
    fn from_str(s: &str) -> Result<Method, SeatError> {
        let key: String = s
            .trim()
            .chars()
            .filter(|c| *c != '\'' && *c != '’')
            .map(|c| {
                if c == '-' {
                    '_'
                } else {
                    c.to_ascii_lowercase()
                }
            })
            .collect();
        Ok(match key.as_str() {
            "dhondt" | "jefferson" | "hagenbach_bischoff" => Method::DHondt,
            "sainte_lague" | "saintelague" | "webster" => Method::SainteLague,
            "modified_sainte_lague" | "modified_sainte_lague_1_4" => {
                Method::modified_sainte_lague()
            }
            "imperiali" => Method::Imperiali,
            "hare" | "hamilton" | "hare_niemeyer" => Method::Hare,
            "droop" => Method::Droop,
            _ => {
                return Err(SeatError::UnknownMethod {
                    input: s.to_string(),
                });
            }
        })
    }
}

/// The result of one allocation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Allocation {
    /// Seats per party, in input order.
    pub seats: Vec<u32>,
    /// Whether each party passed the threshold (all `true` without one).
    pub qualified: Vec<bool>,
    /// Lots drawn to decide ties (empty unless [`TieBreak::Lot`] was given and needed).
    pub lots: Vec<Lot>,
}

/// Errors from seat allocation. Bad-input variants carry the offending values; every message
/// says what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SeatError {
    #[error(
        "tie: parties {} (0-based) have equal claims to the last {seats} seat(s), {} seat(s) \
         having been decided before; the method cannot decide this — ask for a seeded lot \
         (TieBreak::Lot) or change the input",
        list(parties),
        decided.iter().map(|&s| u64::from(s)).sum::<u64>()
    )]
    Tie {
        /// The tied parties, ascending.
        parties: Vec<usize>,
        /// How many seats they tie for (fewer than `parties.len()`).
        seats: u32,
        /// Seats per party decided before the tie.
        decided: Vec<u32>,
    },
    #[error(
        "{house} seats are too many to explain step by step (at most {MAX_EXPLAINED_SEATS}, one \
         step each); allocate them without an explanation, which has no such limit"
    )]
    TooManyToExplain { house: u32 },
    #[error("no parties given; list at least one party with its votes")]
    NoParties,
    #[error("the number of seats is 0; give at least 1 seat")]
    ZeroSeats,
    #[error("{what} has {got} entries but there are {expected} parties; give one entry per party")]
    LengthMismatch {
        what: &'static str,
        expected: usize,
        got: usize,
    },
    #[error("the votes add up to more than 2^64 − 1; check the input for a corrupted count")]
    VotesOverflow,
    #[error("no party passed the threshold; lower the threshold or check the votes")]
    NoQualifiedParty,
    #[error(
        "the parties that take part have 0 votes in total, so there is nothing to apportion; \
         check the votes"
    )]
    NoVotes,
    #[error("\"{input}\" is not a share: {reason}; write it as 7%, 0.07 or 7/100")]
    BadRatio { input: String, reason: &'static str },
    #[error("threshold {share} is above 100%; give a share between 0 and 1 (e.g. 5% or 0.05)")]
    ThresholdOutOfRange { share: Ratio },
    #[error(
        "threshold base of {ballots} ballots is smaller than the {listed} listed votes; give the \
         number of all ballots cast (at least the listed votes) or use the listed votes"
    )]
    BallotsBelowListed { ballots: u64, listed: u64 },
    #[error(
        "the threshold has an \"or won at least N district seats\" alternative but no district \
         seats were given; pass them (qualify/mmp/parallel) or drop the alternative"
    )]
    DistrictSeatsRequired,
    #[error(
        "a per-district threshold measured on ballots needs each district's number of ballots; \
         set DistrictVotes::ballots for district {district}"
    )]
    DistrictBallotsMissing { district: usize },
    #[error(
        "first divisor {first_divisor} is out of range; modified Sainte-Laguë needs 0 < first \
         divisor < 3 with a denominator of at most 1,000,000 (1.4 is usual)"
    )]
    BadFirstDivisor { first_divisor: Ratio },
    #[error(
        "unknown method \"{input}\"; use one of dhondt, sainte_lague, modified_sainte_lague, \
         imperiali, hare, droop"
    )]
    UnknownMethod { input: String },
    #[error(
        "the {method} quota leaves {remaining} seats after whole quotas but only {parties} \
         parties take part, so largest remainders cannot fill the house (too few votes for \
         {house} seats); use a divisor method or check the votes"
    )]
    QuotaLeavesTooManySeats {
        method: &'static str,
        remaining: u32,
        parties: usize,
        house: u32,
    },
    #[error(
        "{taken} district seats were won by candidates outside the list allocation but the house \
         has only {house} seats; check the district seats"
    )]
    DistrictSeatsExceedHouse { taken: u64, house: u32 },
    #[error(
        "levelling overhang needs more than {limit} seats; levelling requires a divisor method \
         and parties with district seats must have party votes — use Overhang::Keep or check \
         the input"
    )]
    LevellingImpossible { limit: u32 },
    #[error("district {district}: {source}")]
    InDistrict {
        district: usize,
        #[source]
        source: Box<SeatError>,
    },
}

fn list(parties: &[usize]) -> String {
    let v: Vec<String> = parties.iter().map(|p| p.to_string()).collect();
    v.join(", ")
}

/// Allocates `house` seats among the parties with `votes`, after applying `threshold`.
///
/// This is the cheap default path: no steps are recorded. A threshold with an
/// `or_district_seats` alternative needs district seats and is refused here with
/// [`SeatError::DistrictSeatsRequired`]; use [`qualify`] and [`allocate_among`], or the mixed
/// systems.
pub fn allocate(
    method: &Method,
    house: u32,
    votes: &[u64],
    threshold: Option<&Threshold>,
    ties: TieBreak,
) -> Result<Allocation, SeatError> {
    let qualified = qualify(votes, None, threshold)?;
    allocate_among(method, house, votes, qualified, ties)
}

/// Allocates `house` seats among the parties marked in `qualified` (one flag per party).
pub fn allocate_among(
    method: &Method,
    house: u32,
    votes: &[u64],
    qualified: Vec<bool>,
    ties: TieBreak,
) -> Result<Allocation, SeatError> {
    let mut state = TieState::new(ties);
    let seats = allocate_core(method, house, votes, &qualified, &mut state, &mut NoSteps)?;
    Ok(Allocation {
        seats,
        qualified,
        lots: state.into_lots(),
    })
}

/// The most seats an explained allocation ([`allocate_explained`],
/// [`allocate_among_explained`]) records, one step per seat; more is refused with
/// [`SeatError::TooManyToExplain`] before anything is allocated. Allocations without an
/// explanation take time and memory by the number of parties, not of seats.
pub const MAX_EXPLAINED_SEATS: u32 = 100_000;

/// Like [`allocate`], but records every step (at most [`MAX_EXPLAINED_SEATS`]). Returns the explanation even when the allocation
/// fails (with the steps up to a tie, for instance), so a report can show how far it got.
pub fn allocate_explained(
    method: &Method,
    house: u32,
    votes: &[u64],
    threshold: Option<&Threshold>,
    ties: TieBreak,
) -> (Result<Allocation, SeatError>, Explanation) {
    let mut ex = Explanation::new(method, house, votes);
    if house > MAX_EXPLAINED_SEATS {
        return (Err(SeatError::TooManyToExplain { house }), ex);
    }
    let checked = qualify(votes, None, threshold)
        .and_then(|q| threshold::check(votes, threshold).map(|c| (q, c)));
    match checked {
        Ok((qualified, check)) => {
            ex.threshold = check;
            let r = explain_among(method, house, votes, qualified, ties, &mut ex);
            (r, ex)
        }
        Err(e) => (Err(e), ex),
    }
}

/// Like [`allocate_among`], but records every step (see [`allocate_explained`]). Used to
/// explain the list tier of a mixed system, whose qualification depends on district seats.
pub fn allocate_among_explained(
    method: &Method,
    house: u32,
    votes: &[u64],
    qualified: Vec<bool>,
    ties: TieBreak,
) -> (Result<Allocation, SeatError>, Explanation) {
    let mut ex = Explanation::new(method, house, votes);
    if house > MAX_EXPLAINED_SEATS {
        return (Err(SeatError::TooManyToExplain { house }), ex);
    }
    let r = explain_among(method, house, votes, qualified, ties, &mut ex);
    (r, ex)
}

fn explain_among(
    method: &Method,
    house: u32,
    votes: &[u64],
    qualified: Vec<bool>,
    ties: TieBreak,
    ex: &mut Explanation,
) -> Result<Allocation, SeatError> {
    ex.qualified = qualified.clone();
    let mut state = TieState::new(ties);
    let seats = allocate_core(method, house, votes, &qualified, &mut state, ex)?;
    Ok(Allocation {
        seats,
        qualified,
        lots: state.into_lots(),
    })
}

/// Validates the inputs common to every list method and returns the qualified parties' total.
fn validate(
    method: &Method,
    house: u32,
    votes: &[u64],
    qualified: &[bool],
) -> Result<u64, SeatError> {
    if votes.is_empty() {
        return Err(SeatError::NoParties);
    }
    if house == 0 {
        return Err(SeatError::ZeroSeats);
    }
    if qualified.len() != votes.len() {
        return Err(SeatError::LengthMismatch {
            what: "the qualified flags",
            expected: votes.len(),
            got: qualified.len(),
        });
    }
    if let Method::ModifiedSainteLague { first_divisor } = method {
        let f = first_divisor;
        // 0 < f < 3 keeps the divisors strictly increasing; the denominator bound keeps every
        // scaled divisor within u64 for any house that fits in u32.
        if f.den == 0 || f.den > 1_000_000 || f.num == 0 || f.num >= 3 * f.den {
            return Err(SeatError::BadFirstDivisor { first_divisor: *f });
        }
    }
    threshold::total(votes)?;
    if !qualified.iter().any(|&q| q) {
        return Err(SeatError::NoQualifiedParty);
    }
    let mut total = 0u64;
    for (v, q) in votes.iter().zip(qualified) {
        if *q {
            total += v; // cannot overflow: the sum of all votes fits (checked above)
        }
    }
    if total == 0 {
        return Err(SeatError::NoVotes);
    }
    Ok(total)
}

pub(crate) fn allocate_core<R: Recorder>(
    method: &Method,
    house: u32,
    votes: &[u64],
    qualified: &[bool],
    ties: &mut TieState,
    rec: &mut R,
) -> Result<Vec<u32>, SeatError> {
    let total = validate(method, house, votes, qualified)?;
    if let Some(div) = divisor::Divisors::of(method) {
        return divisor::allocate(div, house, votes, qualified, total, ties, rec);
    }
    let quota = match method {
        Method::Droop => largest_remainder::Quota::Droop,
        _ => largest_remainder::Quota::Hare,
    };
    largest_remainder::allocate(quota, house, votes, qualified, total, ties, rec)
}

#[cfg(test)]
mod tests;
