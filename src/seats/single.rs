//! Single-member districts: plurality (first past the post) and absolute majority with a
//! top-two runoff (two-round system; Kazakhstan's Mazhilis districts in 2004, France's
//! legislative elections with a different runoff rule). Source: Gallagher & Mitchell,
//! *The Politics of Electoral Systems* (2005), ch. 1.
//!
//! Owns the decision of one district from its first-round votes. Never simulates the runoff
//! itself (that is a second election: call [`single_member`] with `Plurality` on its votes).
//! A tie for the winner or for a runoff place is decided by [`TieBreak`]: reported, or drawn by
//! seeded lot. A tie that decides nothing (two candidates tied for first both go to the runoff)
//! is ordered by the documented rule: the candidate listed first comes first.

use super::tie::{Lot, TieBreak, TieState};
use super::{SeatError, threshold};
use serde::Serialize;

/// How a single-member district is decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DistrictRule {
    /// Most votes wins.
    Plurality,
    /// Elected in round 1 with MORE than 50 % of the votes cast for candidates; otherwise the
    /// top two by round-1 votes go to a runoff.
    AbsoluteMajority,
}

/// The decision of round 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DistrictOutcome {
    /// The candidate at this index is elected.
    Elected(usize),
    /// A runoff between (first, second) by round-1 votes.
    Runoff(usize, usize),
}

/// The outcome together with any lots drawn to reach it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DistrictDecision {
    pub outcome: DistrictOutcome,
    pub lots: Vec<Lot>,
}

/// Decides one district from `votes` (one entry per candidate).
pub fn single_member(
    rule: DistrictRule,
    votes: &[u64],
    ties: TieBreak,
) -> Result<DistrictOutcome, SeatError> {
    single_member_detailed(rule, votes, ties).map(|d| d.outcome)
}

/// Like [`single_member`], also returning the lots drawn (if any).
pub fn single_member_detailed(
    rule: DistrictRule,
    votes: &[u64],
    ties: TieBreak,
) -> Result<DistrictDecision, SeatError> {
    if votes.is_empty() {
        return Err(SeatError::NoParties);
    }
    let total = threshold::total(votes)?;
    if total == 0 {
        return Err(SeatError::NoVotes);
    }
    let mut state = TieState::new(ties);
    let zeros = vec![0u32; votes.len()];
    let max = votes.iter().copied().max().unwrap_or(0);
    let top: Vec<usize> = (0..votes.len()).filter(|&i| votes[i] == max).collect();
    let outcome = match rule {
        DistrictRule::Plurality => {
            if top.len() == 1 {
                DistrictOutcome::Elected(top[0])
            } else {
                let w = state.decide(top, 1, &zeros)?;
                DistrictOutcome::Elected(w[0])
            }
        }
        DistrictRule::AbsoluteMajority => {
            if u128::from(max) * 2 > u128::from(total) {
                DistrictOutcome::Elected(top[0])
            } else if top.len() == 2 {
                DistrictOutcome::Runoff(top[0], top[1])
            } else if top.len() > 2 {
                let w = state.decide(top, 2, &zeros)?;
                DistrictOutcome::Runoff(w[0], w[1])
            } else {
                let first = top[0];
                let second_max = (0..votes.len())
                    .filter(|&i| i != first)
                    .map(|i| votes[i])
                    .max()
                    .unwrap_or(0);
                let second: Vec<usize> = (0..votes.len())
                    .filter(|&i| i != first && votes[i] == second_max)
                    .collect();
                if second.len() == 1 {
                    DistrictOutcome::Runoff(first, second[0])
                } else {
                    let w = state.decide(second, 1, &zeros)?;
                    DistrictOutcome::Runoff(first, w[0])
                }
            }
        }
    };
    Ok(DistrictDecision {
        outcome,
        lots: state.into_lots(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use DistrictOutcome::*;
    use DistrictRule::*;
    const R: TieBreak = TieBreak::Report;

    #[test]
    fn plurality_and_majority_decide_clear_cases() {
        assert_eq!(single_member(Plurality, &[3, 9, 5], R), Ok(Elected(1)));
        assert_eq!(
            single_member(AbsoluteMajority, &[3, 9, 5], R),
            Ok(Elected(1))
        );
        assert_eq!(
            single_member(AbsoluteMajority, &[3, 8, 5], R),
            Ok(Runoff(1, 2))
        );
        // Exactly 50 % is not a majority.
        assert_eq!(
            single_member(AbsoluteMajority, &[5, 5], R),
            Ok(Runoff(0, 1))
        );
        assert_eq!(
            single_member(AbsoluteMajority, &[6, 4, 2], R),
            Ok(Runoff(0, 1))
        );
        assert_eq!(
            single_member(AbsoluteMajority, &[7, 4, 2], R),
            Ok(Elected(0))
        );
    }

    #[test]
    fn ties_that_decide_are_reported_and_lots_recorded() {
        assert!(matches!(
            single_member(Plurality, &[4, 7, 7], R),
            Err(SeatError::Tie { ref parties, seats: 1, .. }) if parties == &[1, 2]
        ));
        assert!(matches!(
            single_member(AbsoluteMajority, &[9, 4, 4, 3], R),
            Err(SeatError::Tie { ref parties, seats: 1, .. }) if parties == &[1, 2]
        ));
        assert!(matches!(
            single_member(AbsoluteMajority, &[4, 4, 4], R),
            Err(SeatError::Tie { ref parties, seats: 2, .. }) if parties == &[0, 1, 2]
        ));
        // Tied for first, both go to the runoff: nothing to decide.
        assert_eq!(
            single_member(AbsoluteMajority, &[2, 6, 6], R),
            Ok(Runoff(1, 2))
        );
        let d = single_member_detailed(Plurality, &[4, 7, 7], TieBreak::Lot { seed: 1 }).unwrap();
        assert_eq!(d.lots.len(), 1);
        assert_eq!(d.outcome, Elected(d.lots[0].winners[0]));
        assert!(matches!(d.outcome, Elected(1) | Elected(2)));
    }

    #[test]
    fn empty_or_voteless_districts_are_errors() {
        assert_eq!(single_member(Plurality, &[], R), Err(SeatError::NoParties));
        assert_eq!(
            single_member(Plurality, &[0, 0], R),
            Err(SeatError::NoVotes)
        );
    }
}
