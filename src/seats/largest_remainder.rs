//! Largest-remainder (quota) methods: Hare (Hamilton, Hare–Niemeyer) and Droop.
//! Source: Gallagher & Mitchell, *The Politics of Electoral Systems* (2005), app. B;
//! Balinski & Young, *Fair Representation* (2001), ch. 2.
//!
//! Owns: each qualified party gets ⌊votes / quota⌋ seats, then the remaining seats go one each
//! to the largest remainders. The quota is taken over the qualified parties' votes only (as in
//! Kazakhstan 2004). Remainders are compared exactly (same denominator, so as integers). Never
//! floats; never picks among equal remainders by position (see [`TieState`]).

use super::SeatError;
use super::explain::{Frac, Reason, Recorder, Step};
use super::tie::{TieState, award_by_lot};

#[derive(Debug, Clone, Copy)]
pub(crate) enum Quota {
    /// V / S, exact.
    Hare,
    /// ⌊V / (S + 1)⌋ + 1.
    Droop,
}

pub(crate) fn allocate<R: Recorder>(
    quota: Quota,
    house: u32,
    votes: &[u64],
    qualified: &[bool],
    total: u64,
    ties: &mut TieState,
    rec: &mut R,
) -> Result<Vec<u32>, SeatError> {
    let n = votes.len();
    // The quota as qn/qd: votes/quota = v·qd/qn, remainder = (v·qd mod qn)/qn.
    let (qn, qd): (u128, u128) = match quota {
        Quota::Hare => (u128::from(total), u128::from(house)),
        Quota::Droop => (u128::from(total / (u64::from(house) + 1) + 1), 1),
    };
    rec.quota(Frac { num: qn, den: qd });
    let mut seats = vec![0u32; n];
    // Remainder numerators (over qn); None once a remainder seat was given or not qualified.
    let mut rem: Vec<Option<u128>> = vec![None; n];
    let mut given: u64 = 0;
    for i in 0..n {
        if !qualified[i] {
            continue;
        }
        let x = u128::from(votes[i]) * qd;
        // Hare: x/qn ≤ house; Droop: x/qn ≤ v/(⌊V/(S+1)⌋+1) < S+1; so it fits in u32.
        let whole = (x / qn) as u32;
        let r = x % qn;
        seats[i] = whole;
        rem[i] = Some(r);
        given += u64::from(whole);
        rec.step(|| Step::WholeQuotas {
            party: i,
            whole,
            remainder: Frac { num: r, den: qn },
        });
    }
    let mut given = given as u32; // ≤ house (Hare: Σ⌊x⌋ ≤ S; Droop: Σ < S+1)
    let parties = qualified.iter().filter(|&&q| q).count();
    let remaining = house - given;
    if remaining as usize > parties {
        return Err(SeatError::QuotaLeavesTooManySeats {
            method: match quota {
                Quota::Hare => "Hare",
                Quota::Droop => "Droop",
            },
            remaining,
            parties,
            house,
        });
    }
    // Remainder seats in order of remainder (largest first), equal remainders as one group in
    // party order: one sort instead of a scan of every party per seat.
    let mut by_rem: Vec<(u128, usize)> = (0..n).filter_map(|i| rem[i].map(|r| (r, i))).collect();
    by_rem.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut at = 0;
    while given < house {
        let remaining = house - given;
        let Some(&(best, first)) = by_rem.get(at) else {
            // Unreachable: remaining ≤ parties and each party takes at most one remainder seat.
            return Err(SeatError::NoQualifiedParty);
        };
        let value = Frac { num: best, den: qn };
        let end = at + by_rem[at..].partition_point(|&(r, _)| r == best);
        let group: Vec<usize> = by_rem[at..end].iter().map(|&(_, i)| i).collect();
        at = end;
        if group.len() == 1 {
            given += 1;
            rec.step(|| Step::Seat {
                seat: given,
                party: first,
                value,
                reason: Reason::LargestRemainder,
            });
            seats[first] += 1;
            continue;
        }
        if group.len() as u64 <= u64::from(remaining) {
            let mut order = group.clone();
            if R::ON {
                order.sort_by(|&x, &y| votes[y].cmp(&votes[x]).then(x.cmp(&y)));
            }
            for &i in &order {
                given += 1;
                rec.step(|| Step::Seat {
                    seat: given,
                    party: i,
                    value,
                    reason: Reason::TiedAllSeated {
                        with: group.iter().copied().filter(|&j| j != i).collect(),
                    },
                });
                seats[i] += 1;
            }
        } else {
            award_by_lot(
                ties,
                group,
                remaining,
                &mut seats,
                &mut given,
                |_, _| value,
                rec,
            )?;
        }
    }
    Ok(seats)
}

/// The remainder stage as it was before one sort replaced a scan of every party per seat; kept
/// as the reference the property test compares [`allocate`] with.
#[cfg(test)]
pub(crate) fn allocate_linear<R: Recorder>(
    quota: Quota,
    house: u32,
    votes: &[u64],
    qualified: &[bool],
    total: u64,
    ties: &mut TieState,
    rec: &mut R,
) -> Result<Vec<u32>, SeatError> {
    let n = votes.len();
    // The quota as qn/qd: votes/quota = v·qd/qn, remainder = (v·qd mod qn)/qn.
    let (qn, qd): (u128, u128) = match quota {
        Quota::Hare => (u128::from(total), u128::from(house)),
        Quota::Droop => (u128::from(total / (u64::from(house) + 1) + 1), 1),
    };
    rec.quota(Frac { num: qn, den: qd });
    let mut seats = vec![0u32; n];
    // Remainder numerators (over qn); None once a remainder seat was given or not qualified.
    let mut rem: Vec<Option<u128>> = vec![None; n];
    let mut given: u64 = 0;
    for i in 0..n {
        if !qualified[i] {
            continue;
        }
        let x = u128::from(votes[i]) * qd;
        // Hare: x/qn ≤ house; Droop: x/qn ≤ v/(⌊V/(S+1)⌋+1) < S+1; so it fits in u32.
        let whole = (x / qn) as u32;
        let r = x % qn;
        seats[i] = whole;
        rem[i] = Some(r);
        given += u64::from(whole);
        rec.step(|| Step::WholeQuotas {
            party: i,
            whole,
            remainder: Frac { num: r, den: qn },
        });
    }
    let mut given = given as u32; // ≤ house (Hare: Σ⌊x⌋ ≤ S; Droop: Σ < S+1)
    let parties = qualified.iter().filter(|&&q| q).count();
    let remaining = house - given;
    if remaining as usize > parties {
        return Err(SeatError::QuotaLeavesTooManySeats {
            method: match quota {
                Quota::Hare => "Hare",
                Quota::Droop => "Droop",
            },
            remaining,
            parties,
            house,
        });
    }
    while given < house {
        let remaining = house - given;
        let best = rem.iter().flatten().copied().max();
        let Some(best) = best else {
            // Unreachable: remaining ≤ parties and each party takes at most one remainder seat.
            return Err(SeatError::NoQualifiedParty);
        };
        let value = Frac { num: best, den: qn };
        let e = rem.iter().filter(|r| **r == Some(best)).count();
        if e == 1 {
            // The common case, without collecting a group.
            if let Some(i) = rem.iter().position(|r| *r == Some(best)) {
                given += 1;
                rec.step(|| Step::Seat {
                    seat: given,
                    party: i,
                    value,
                    reason: Reason::LargestRemainder,
                });
                seats[i] += 1;
                rem[i] = None;
            }
            continue;
        }
        let group: Vec<usize> = (0..n).filter(|&i| rem[i] == Some(best)).collect();
        if group.len() as u64 <= u64::from(remaining) {
            let mut order = group.clone();
            if R::ON {
                order.sort_by(|&x, &y| votes[y].cmp(&votes[x]).then(x.cmp(&y)));
            }
            for &i in &order {
                given += 1;
                rec.step(|| Step::Seat {
                    seat: given,
                    party: i,
                    value,
                    reason: Reason::TiedAllSeated {
                        with: group.iter().copied().filter(|&j| j != i).collect(),
                    },
                });
                seats[i] += 1;
                rem[i] = None;
            }
        } else {
            award_by_lot(
                ties,
                group,
                remaining,
                &mut seats,
                &mut given,
                |_, _| value,
                rec,
            )?;
        }
    }
    Ok(seats)
}
