//! Tabulation: station protocols ▸ district ▸ region ▸ national, and the seats that follow.
//!
//! Sums are exact integers. List seats come from the scenario's list tier through
//! [`crate::seats::allocate`] (threshold measured on valid list votes or on all ballots, as the
//! scenario says); district seats go to each district's winner (round 1 or runoff); totals are
//! per party plus independents. A tie that decides a list seat is resolved by an explicit seeded
//! lot from the run's `Lot` stream and counted in [`Tally::lots`]. No I/O.

use crate::electorate::Electorate;
use crate::fraud::alter_region_totals;
use crate::model::{ListTier, Model};
use crate::rng::{Purpose, stream_key};
use crate::seats::{SeatError, Threshold, ThresholdBase, TieBreak, allocate};
use crate::sim::{DistrictResult, StationCounts, Workspace};

/// Sums station counts into national list totals.
pub fn national_list(counts: &StationCounts) -> (Vec<u64>, u64) {
    let k = counts.n_parties;
    let mut votes = vec![0u64; k + 1];
    for row in counts.list.chunks_exact(k + 1) {
        for (t, v) in votes.iter_mut().zip(row) {
            *t += *v as u64;
        }
    }
    let invalid = votes.pop().unwrap_or(0);
    (votes, invalid)
}

/// A list tier's threshold, if it has one, with `ballots` the ballots cast where the threshold
/// counts them.
pub fn list_threshold(tier: &ListTier, ballots: u64) -> Option<Threshold> {
    tier.threshold.as_ref().map(|t| Threshold {
        share: t.share,
        base: if tier.threshold_on_ballots {
            ThresholdBase::Ballots(ballots)
        } else {
            ThresholdBase::ListedVotes
        },
        or_district_seats: None,
    })
}

/// Allocates a list tier's seats from national valid list votes. `ballots` is the number of
/// ballots cast, the threshold base when the tier measures its threshold on all ballots. A tie
/// that decides a seat is resolved by a lot seeded with `lot_seed`. Returns the seats and the
/// number of lots drawn.
pub fn list_tier_seats(
    tier: &ListTier,
    list_votes: &[u64],
    ballots: u64,
    lot_seed: u64,
) -> Result<(Vec<u32>, u32), SeatError> {
    let threshold = list_threshold(tier, ballots);
    let a = allocate(
        &tier.method,
        tier.seats,
        list_votes,
        threshold.as_ref(),
        TieBreak::Lot { seed: lot_seed },
    )?;
    Ok((a.seats, a.lots.len() as u32))
}

/// Seats and totals of one result (the truth, or the reported result).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Tally {
    pub ballots: u64,
    pub list_votes: Vec<u64>,
    pub list_invalid: u64,
    pub list_seats: Vec<u32>,
    pub district_seats: Vec<u32>,
    /// District seats won in round 1 (no runoff), per party, then independents.
    pub round1_seats: Vec<u32>,
    pub total_seats: Vec<u32>,
    pub runoffs: u32,
    pub lots: u32,
    pub unallocated_list_seats: u32,
}

impl Tally {
    /// Valid list votes in all.
    pub fn valid_total(&self) -> u64 {
        self.list_votes.iter().sum()
    }
}

/// Seats from national list totals and district results.
#[allow(clippy::too_many_arguments)]
fn seats_of(
    model: &Model,
    electorate: &Electorate,
    seed: u64,
    run: u64,
    list_votes: Vec<u64>,
    list_invalid: u64,
    ballots: u64,
    districts: &[DistrictResult],
) -> Tally {
    let k = electorate.n_parties;
    let mut lots = 0u32;
    let mut list_seats = vec![0u32; k];
    let mut unallocated_list_seats = 0u32;
    if let Some(tier) = &model.system.list {
        let lot = stream_key(seed, Purpose::Lot, run, u64::MAX);
        match list_tier_seats(tier, &list_votes, ballots, lot) {
            Ok((seats, n_lots)) => {
                list_seats = seats;
                lots += n_lots;
            }
            // no list passed the threshold (or nobody voted): the seats stay unallocated and
            // the outcome says so
            Err(_) => unallocated_list_seats = tier.seats,
        }
    }
    let mut district_seats = vec![0u32; k + 1];
    let mut round1_seats = vec![0u32; k + 1];
    let mut runoffs = 0u32;
    for (d, result) in districts.iter().enumerate() {
        let cand = electorate.districts[d].candidates[result.winner as usize];
        let who = cand.party.map_or(k, |p| p as usize);
        district_seats[who] += 1;
        if result.runoff.is_none() {
            round1_seats[who] += 1;
        }
        runoffs += u32::from(result.runoff.is_some());
        lots += u32::from(result.by_lot);
    }
    let mut total_seats = district_seats.clone();
    for p in 0..k {
        total_seats[p] += list_seats[p];
    }
    Tally {
        ballots,
        list_votes,
        list_invalid,
        list_seats,
        district_seats,
        round1_seats,
        total_seats,
        runoffs,
        lots,
        unallocated_list_seats,
    }
}

/// A run tabulated: the published result and the truth, with their seats, and the region
/// totals a reconciliation compares.
#[derive(Clone, Debug, PartialEq)]
pub struct Tabulated {
    /// The published result: aggregates after tabulation-level fraud, and its seats.
    pub reported: Tally,
    /// What voters chose, and the seats that would follow from it.
    pub truth: Tally,
    /// Ballots cast electronically, as the protocols publish them.
    pub electronic: u64,
    /// Per region: the sum of its published station protocols (valid list votes per party).
    pub region_protocol_sums: Vec<Vec<u64>>,
    /// Per region: the published aggregate (valid list votes per party).
    pub region_aggregates: Vec<Vec<u64>>,
}

/// Tabulates a run already simulated into `ws`: station protocols ▸ region aggregates (where
/// tabulation-level fraud acts, [`alter_region_totals`]) ▸ national; the truth from voters'
/// choices; seats for both.
pub fn tabulate(
    model: &Model,
    electorate: &Electorate,
    seed: u64,
    run: u64,
    ws: &Workspace,
) -> Tabulated {
    let k = electorate.n_parties;
    let published = ws.published();
    let truth = ws.truth();
    let n_regions = electorate
        .stations
        .iter()
        .map(|s| s.region as usize + 1)
        .max()
        .unwrap_or(0);
    // region sums of published protocols (valid list votes, then invalid)
    let mut sums = vec![vec![0u64; k + 1]; n_regions];
    for (i, st) in electorate.stations.iter().enumerate() {
        for (t, v) in sums[st.region as usize]
            .iter_mut()
            .zip(published.protocols.list_of(i))
        {
            *t += *v as u64;
        }
    }
    let mut aggregates = sums.clone();
    for (r, agg) in aggregates.iter_mut().enumerate() {
        alter_region_totals(&model.fraud, r as u32, &mut agg[..k]);
    }
    let mut list_votes = vec![0u64; k];
    let mut list_invalid = 0u64;
    for agg in &aggregates {
        for p in 0..k {
            list_votes[p] += agg[p];
        }
        list_invalid += agg[k];
    }
    let ballots: u64 = published.protocols.issued.iter().map(|&x| x as u64).sum();
    let electronic: u64 = published
        .protocols
        .electronic
        .iter()
        .map(|&x| x as u64)
        .sum();
    let reported = seats_of(
        model,
        electorate,
        seed,
        run,
        list_votes,
        list_invalid,
        ballots,
        published.districts,
    );
    let (truth_votes, truth_invalid) = national_list(truth.counts);
    let truth_ballots: u64 = truth.counts.issued.iter().map(|&x| x as u64).sum();
    let truth = seats_of(
        model,
        electorate,
        seed,
        run,
        truth_votes,
        truth_invalid,
        truth_ballots,
        truth.districts,
    );
    let strip =
        |rows: &[Vec<u64>]| -> Vec<Vec<u64>> { rows.iter().map(|r| r[..k].to_vec()).collect() };
    Tabulated {
        reported,
        truth,
        electronic,
        region_protocol_sums: strip(&sums),
        region_aggregates: strip(&aggregates),
    }
}
