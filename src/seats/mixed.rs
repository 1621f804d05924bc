//! Systems built from several allocations: multi-member districts (with a national or
//! per-district threshold), parallel mixed systems (list tier and district tier added up:
//! Kazakhstan 2004, 10 list seats by Hare over lists with ≥ 7 % of valid votes + 67
//! single-member districts) and compensatory mixed systems (MMP: New Zealand, Electoral Act
//! 1993 ss. 191–193 — Sainte-Laguë over parties with ≥ 5 % or ≥ 1 electorate seat, overhang
//! kept; or levelled by enlarging the house, the Bundestag principle of 2013–2020 applied to a
//! single national tier).
//!
//! Owns how tiers combine. District winners come from the caller (see
//! [`super::single_member`]); this module never decides a district and never simulates votes.

use super::explain::NoSteps;
use super::tie::{Lot, TieBreak, TieState};
use super::{Allocation, Method, SeatError, Threshold, ThresholdBase, allocate_core, threshold};
use serde::Serialize;

/// The inputs of a mixed system. `seats` is the list tier's size for [`parallel`] and the base
/// house size (district seats included) for [`mmp`].
#[derive(Debug, Clone)]
pub struct MixedInput<'a> {
    pub method: Method,
    pub seats: u32,
    /// Party (list) votes, one per party.
    pub party_votes: &'a [u64],
    /// District seats won by each party's candidates.
    pub district_seats: &'a [u32],
    /// District seats won by independents or parties not in `party_votes`.
    pub other_district_seats: u32,
    pub threshold: Option<Threshold>,
}

/// What an MMP system does when a party wins more districts than its proportional entitlement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Overhang {
    /// The party keeps the extra seats and the house grows by them (New Zealand).
    Keep,
    /// The house is enlarged until every party's entitlement covers its district seats
    /// (no overhang remains). Needs a divisor method.
    Level,
}

/// The result of a mixed system.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MixedAllocation {
    /// Proportional entitlement per party (parallel: the list allocation).
    pub entitlement: Vec<u32>,
    /// Seats from the district tier.
    pub district: Vec<u32>,
    /// Seats filled from the lists.
    pub list: Vec<u32>,
    /// Seats per party.
    pub total: Vec<u32>,
    /// Seats beyond the entitlement (district seats that exceed it), per party.
    pub overhang: Vec<u32>,
    /// Size of the house, including `other_district_seats`.
    pub house: u32,
    pub qualified: Vec<bool>,
    pub lots: Vec<Lot>,
}

fn sum_u64(xs: impl IntoIterator<Item = u32>) -> u64 {
    xs.into_iter().map(u64::from).sum()
}

fn to_house(total: u64) -> Result<u32, SeatError> {
    u32::try_from(total).map_err(|_| SeatError::DistrictSeatsExceedHouse {
        taken: total,
        house: u32::MAX,
    })
}

fn check_lengths(input: &MixedInput) -> Result<(), SeatError> {
    if input.party_votes.is_empty() {
        return Err(SeatError::NoParties);
    }
    if input.district_seats.len() != input.party_votes.len() {
        return Err(SeatError::LengthMismatch {
            what: "the district seats",
            expected: input.party_votes.len(),
            got: input.district_seats.len(),
        });
    }
    Ok(())
}

/// Parallel (segmented) mixed system: the list tier of `input.seats` seats is allocated
/// independently of the districts, and each party's total is list + district seats.
pub fn parallel(input: &MixedInput, ties: TieBreak) -> Result<MixedAllocation, SeatError> {
    check_lengths(input)?;
    let qualified = threshold::qualify(
        input.party_votes,
        Some(input.district_seats),
        input.threshold.as_ref(),
    )?;
    let mut state = TieState::new(ties);
    let list = allocate_core(
        &input.method,
        input.seats,
        input.party_votes,
        &qualified,
        &mut state,
        &mut NoSteps,
    )?;
    let total: Vec<u32> = list
        .iter()
        .zip(input.district_seats)
        .map(|(l, d)| l + d)
        .collect();
    let house = to_house(sum_u64(total.iter().copied()) + u64::from(input.other_district_seats))?;
    Ok(MixedAllocation {
        entitlement: list.clone(),
        district: input.district_seats.to_vec(),
        overhang: vec![0; list.len()],
        list,
        total,
        house,
        qualified,
        lots: state.into_lots(),
    })
}

/// Compensatory mixed system (MMP). The proportional entitlement is computed by
/// `input.method` over the qualified parties for `input.seats` minus the district seats won by
/// independents and by parties that did not qualify; each qualified party then fills its
/// entitlement with its district seats first and list seats after. With [`Overhang::Keep`], a
/// party whose district seats exceed its entitlement keeps them and the house grows; with
/// [`Overhang::Level`], the house is the smallest size ≥ the base at which no qualified party
/// has overhang, whichever way a tie at that size is decided.
pub fn mmp(
    input: &MixedInput,
    overhang: Overhang,
    ties: TieBreak,
) -> Result<MixedAllocation, SeatError> {
    check_lengths(input)?;
    let votes = input.party_votes;
    let ds = input.district_seats;
    let qualified = threshold::qualify(votes, Some(ds), input.threshold.as_ref())?;
    let outside = u64::from(input.other_district_seats)
        + sum_u64((0..votes.len()).filter(|&i| !qualified[i]).map(|i| ds[i]));
    if outside >= u64::from(input.seats) {
        return Err(SeatError::DistrictSeatsExceedHouse {
            taken: outside,
            house: input.seats,
        });
    }
    let base_pool = input.seats - outside as u32;
    let pool = match overhang {
        Overhang::Keep => base_pool,
        Overhang::Level => level(&input.method, base_pool, votes, ds, &qualified)?,
    };
    let mut state = TieState::new(ties);
    let entitlement = allocate_core(
        &input.method,
        pool,
        votes,
        &qualified,
        &mut state,
        &mut NoSteps,
    )?;
    let n = votes.len();
    let mut total = vec![0u32; n];
    let mut over = vec![0u32; n];
    let mut list = vec![0u32; n];
    for i in 0..n {
        if qualified[i] {
            total[i] = entitlement[i].max(ds[i]);
            over[i] = ds[i].saturating_sub(entitlement[i]);
            list[i] = total[i] - ds[i];
        } else {
            total[i] = ds[i];
        }
    }
    let house = to_house(sum_u64(total.iter().copied()) + u64::from(input.other_district_seats))?;
    Ok(MixedAllocation {
        entitlement,
        district: ds.to_vec(),
        list,
        total,
        overhang: over,
        house,
        qualified,
        lots: state.into_lots(),
    })
}

/// The smallest pool ≥ `base` at which every qualified party's entitlement covers its district
/// seats under every resolution of a tie at that size.
fn level(
    method: &Method,
    base: u32,
    votes: &[u64],
    ds: &[u32],
    qualified: &[bool],
) -> Result<u32, SeatError> {
    let limit = base.saturating_mul(20).max(base.saturating_add(1000));
    if !method.is_divisor() {
        return Err(SeatError::LevellingImpossible { limit: base });
    }
    let covers = |seats: &[u32]| (0..votes.len()).all(|i| !qualified[i] || seats[i] >= ds[i]);
    for pool in base..=limit {
        let mut state = TieState::new(TieBreak::Report);
        match allocate_core(method, pool, votes, qualified, &mut state, &mut NoSteps) {
            Ok(seats) if covers(&seats) => return Ok(pool),
            Ok(_) => {}
            Err(SeatError::Tie { decided, .. }) if covers(&decided) => return Ok(pool),
            Err(SeatError::Tie { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    Err(SeatError::LevellingImpossible { limit })
}

/// Where a threshold is measured when seats are allocated in several districts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ThresholdScope {
    /// On the national sum of each party's votes (Poland, Turkey); `Ballots(n)` is the national
    /// number of ballots.
    National,
    /// In each district on its own votes (Spain); `Ballots(_)` uses each district's `ballots`.
    PerDistrict,
}

/// One multi-member district: its seats and the votes of every party (same party order in
/// every district; 0 where a party did not stand).
#[derive(Debug, Clone, Copy)]
pub struct DistrictVotes<'a> {
    pub seats: u32,
    pub votes: &'a [u64],
    /// All ballots cast in the district, for a per-district threshold on ballots.
    pub ballots: Option<u64>,
}

/// Seats per district and in total.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DistrictsAllocation {
    pub districts: Vec<Allocation>,
    pub total: Vec<u32>,
    /// National scope: passed the national threshold. Per-district scope: passed it in at
    /// least one district.
    pub qualified: Vec<bool>,
}

/// Allocates each district's seats by `method`, after a national or per-district threshold.
/// One lot generator (if any) serves all districts, in order.
pub fn allocate_districts(
    method: &Method,
    districts: &[DistrictVotes],
    threshold: Option<&Threshold>,
    scope: ThresholdScope,
    ties: TieBreak,
) -> Result<DistrictsAllocation, SeatError> {
    let Some(first) = districts.first() else {
        return Err(SeatError::NoParties);
    };
    let n = first.votes.len();
    let in_d = |d: usize| {
        move |e: SeatError| SeatError::InDistrict {
            district: d,
            source: Box::new(e),
        }
    };
    let mut national = vec![0u64; n];
    for (d, dist) in districts.iter().enumerate() {
        if dist.votes.len() != n {
            return Err(in_d(d)(SeatError::LengthMismatch {
                what: "the district's votes",
                expected: n,
                got: dist.votes.len(),
            }));
        }
        for (acc, v) in national.iter_mut().zip(dist.votes) {
            *acc = acc.checked_add(*v).ok_or(SeatError::VotesOverflow)?;
        }
    }
    let national_q = match scope {
        ThresholdScope::National => Some(threshold::qualify(&national, None, threshold)?),
        ThresholdScope::PerDistrict => None,
    };
    let mut state = TieState::new(ties);
    let mut out = Vec::with_capacity(districts.len());
    let mut total = vec![0u32; n];
    let mut any_q = vec![false; n];
    for (d, dist) in districts.iter().enumerate() {
        let qualified = match &national_q {
            Some(q) => q.clone(),
            None => {
                let listed = threshold::total(dist.votes).map_err(in_d(d))?;
                let ballots = match threshold.map(|t| t.base) {
                    Some(ThresholdBase::Ballots(_)) => Some(
                        dist.ballots
                            .ok_or(SeatError::DistrictBallotsMissing { district: d })?,
                    ),
                    _ => None,
                };
                threshold::qualify_on(dist.votes, listed, ballots, None, threshold)
                    .map_err(in_d(d))?
            }
        };
        let seats = allocate_core(
            method,
            dist.seats,
            dist.votes,
            &qualified,
            &mut state,
            &mut NoSteps,
        )
        .map_err(in_d(d))?;
        for i in 0..n {
            total[i] = total[i].saturating_add(seats[i]);
            any_q[i] |= qualified[i];
        }
        out.push(Allocation {
            seats,
            qualified,
            lots: state.take_lots(),
        });
    }
    Ok(DistrictsAllocation {
        districts: out,
        total,
        qualified: national_q.unwrap_or(any_q),
    })
}
