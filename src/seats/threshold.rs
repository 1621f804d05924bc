//! Legal thresholds: which parties take part in a list allocation. A party qualifies when
//! `votes·den ≥ num·base` (exact), where `base` is the listed votes or a given number of
//! ballots, or — with the alternative — when it won at least N district seats (New Zealand:
//! one electorate; Germany until 2023: three direct mandates). Never allocates seats.

use super::explain::{Frac, ThresholdCheck};
use super::{SeatError, Threshold, ThresholdBase};

/// The sum of `votes`, or [`SeatError::VotesOverflow`].
pub(crate) fn total(votes: &[u64]) -> Result<u64, SeatError> {
    votes
        .iter()
        .try_fold(0u64, |a, &v| a.checked_add(v))
        .ok_or(SeatError::VotesOverflow)
}

/// Which parties pass `threshold` (all of them without one). `district_seats`, one entry per
/// party, is needed only for a threshold with an `or_district_seats` alternative.
pub fn qualify(
    votes: &[u64],
    district_seats: Option<&[u32]>,
    threshold: Option<&Threshold>,
) -> Result<Vec<bool>, SeatError> {
    let listed = total(votes)?;
    qualify_on(votes, listed, None, district_seats, threshold)
}

/// The base the share is taken of. `district_ballots` replaces `Ballots(_)` for per-district
/// thresholds.
pub(crate) fn base_of(
    listed: u64,
    threshold: &Threshold,
    district_ballots: Option<u64>,
) -> Result<u64, SeatError> {
    if threshold.share.den == 0 {
        return Err(SeatError::BadRatio {
            input: format!("{}/0", threshold.share.num),
            reason: "the denominator is 0",
        });
    }
    if !threshold.share.at_most_one() {
        return Err(SeatError::ThresholdOutOfRange {
            share: threshold.share,
        });
    }
    let base = match (threshold.base, district_ballots) {
        (ThresholdBase::ListedVotes, _) => listed,
        (ThresholdBase::Ballots(_), Some(b)) | (ThresholdBase::Ballots(b), None) => b,
    };
    if base < listed {
        return Err(SeatError::BallotsBelowListed {
            ballots: base,
            listed,
        });
    }
    Ok(base)
}

pub(crate) fn qualify_on(
    votes: &[u64],
    listed: u64,
    district_ballots: Option<u64>,
    district_seats: Option<&[u32]>,
    threshold: Option<&Threshold>,
) -> Result<Vec<bool>, SeatError> {
    if votes.is_empty() {
        return Err(SeatError::NoParties);
    }
    if let Some(ds) = district_seats
        && ds.len() != votes.len()
    {
        return Err(SeatError::LengthMismatch {
            what: "the district seats",
            expected: votes.len(),
            got: ds.len(),
        });
    }
    let Some(t) = threshold else {
        return Ok(vec![true; votes.len()]);
    };
    let base = base_of(listed, t, district_ballots)?;
    let alt = match (t.or_district_seats, district_seats) {
        (Some(_), None) => return Err(SeatError::DistrictSeatsRequired),
        (Some(n), Some(ds)) => Some((n, ds)),
        (None, _) => None,
    };
    let need = u128::from(t.share.num) * u128::from(base);
    let den = u128::from(t.share.den);
    Ok(votes
        .iter()
        .enumerate()
        .map(|(i, &v)| u128::from(v) * den >= need || alt.is_some_and(|(n, ds)| ds[i] >= n))
        .collect())
}

/// The threshold as applied, for an explanation.
pub(crate) fn check(
    votes: &[u64],
    threshold: Option<&Threshold>,
) -> Result<Option<ThresholdCheck>, SeatError> {
    let Some(t) = threshold else {
        return Ok(None);
    };
    let base = base_of(total(votes)?, t, None)?;
    Ok(Some(ThresholdCheck {
        share: t.share,
        base,
        required: Frac {
            num: u128::from(t.share.num) * u128::from(base),
            den: u128::from(t.share.den),
        },
        or_district_seats: t.or_district_seats,
    }))
}
