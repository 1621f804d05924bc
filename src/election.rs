//! Election day, ballot by ballot: turnout, paper and electronic ballots, runoffs.
//!
//! For one run of one variant, every registered voter at every polling station turns out or
//! not; a voter who turns out casts a list ballot and (where there is a district tier) a district
//! ballot — on paper, or at an e-enabled station possibly on the [`VotingMachine`]. Paper
//! ballots may be spoiled; electronic ones cannot (a touch screen offers only valid choices).
//! The district choice follows the list choice with probability `loyalty` when the voter's
//! party has a nominee, and otherwise goes to a candidate with probability proportional to
//! personal appeal. Districts without a majority winner hold a second round between the top two:
//! each round-1 voter returns with probability `runoff.turnout_ratio`; supporters of a finalist
//! vote for them again; supporters of an eliminated candidate transfer to a finalist of the same
//! party with probability `party_transfer`, else between the finalists by appeal.
//!
//! Each station draws from its own streams (turnout noise, preference noise, voters' turnout,
//! voters' choices, runoff), so the result does not depend on the order stations are visited.
//! No allocation happens per ballot: buffers live in [`Workspace`] and are reused.

use crate::electorate::Electorate;
use crate::ledger::Genesis;
use crate::machine::{Ballot, INVALID_DISTRICT, LedgerMode, VotingMachine};
use crate::rng::{Purpose, StreamRng, stream, threshold};
use crate::scenario::Model;
use rand::Rng;
use rand_distr::{Distribution, StandardNormal};

/// What one run needs to know: the model, its electorate, the seed, what voting machines do
/// with ballots, and the election id their ledgers are bound to.
#[derive(Clone, Copy)]
pub struct Context<'a> {
    pub model: &'a Model,
    pub electorate: &'a Electorate,
    pub seed: u64,
    pub ledger: LedgerMode,
    pub election_id: [u8; 32],
}

/// Per-station counts of round 1 as counted at the station (flat arrays).
#[derive(Clone, Debug, Default)]
pub struct StationCounts {
    pub n_parties: usize,
    /// Ballots issued (voters who turned out), per station.
    pub issued: Vec<u32>,
    /// Ballots cast electronically, per station.
    pub electronic: Vec<u32>,
    /// Station × (parties + 1): list votes, last column invalid list ballots.
    pub list: Vec<u32>,
    /// District candidate votes, flat at `Electorate::candidate_offset[station]`.
    pub district: Vec<u32>,
    /// Invalid district ballots, per station.
    pub district_invalid: Vec<u32>,
}

impl StationCounts {
    fn reset(&mut self, e: &Electorate) {
        let n = e.stations.len();
        self.n_parties = e.n_parties;
        for (v, len) in [
            (&mut self.issued, n),
            (&mut self.electronic, n),
            (&mut self.list, n * (e.n_parties + 1)),
            (&mut self.district, e.n_candidate_slots),
            (&mut self.district_invalid, n),
        ] {
            v.clear();
            v.resize(len, 0);
        }
    }

    /// List votes of a station (parties, then invalid).
    pub fn list_of(&self, station_idx: usize) -> &[u32] {
        let w = self.n_parties + 1;
        &self.list[station_idx * w..(station_idx + 1) * w]
    }
}

/// A district's second round.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Runoff {
    pub finalists: [u16; 2],
    pub votes: [u64; 2],
    pub invalid: u64,
    pub ballots: u64,
}

/// A district's result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DistrictResult {
    /// Round-1 votes per candidate.
    pub round1: Vec<u64>,
    pub runoff: Option<Runoff>,
    /// Index of the elected candidate.
    pub winner: u16,
    /// Whether a lot decided the winner or a runoff place.
    pub by_lot: bool,
}

/// Reusable buffers for one thread.
#[derive(Default)]
pub struct Workspace {
    pub counts: StationCounts,
    pub districts: Vec<DistrictResult>,
    /// Appeal of every district candidate in this run, flat by district.
    appeal: Vec<f64>,
    appeal_offset: Vec<usize>,
    pref: Vec<f64>,
    list_cum: Vec<u64>,
    free_cum: Vec<u64>,
    machine: VotingMachine,
}

/// Samples an index from cumulative 64-bit thresholds (last entry is `u64::MAX`).
#[inline]
fn categorical(cum: &[u64], r: u64) -> usize {
    let mut i = 0;
    while i + 1 < cum.len() && r >= cum[i] {
        i += 1;
    }
    i
}

/// Fills `cum` with cumulative thresholds for probabilities `p` (need not be normalised).
fn cumulative(p: impl Iterator<Item = f64> + Clone, cum: &mut Vec<u64>) {
    let total: f64 = p.clone().sum();
    cum.clear();
    let mut acc = 0.0;
    for x in p {
        acc += x;
        cum.push(threshold(acc / total));
    }
    if let Some(last) = cum.last_mut() {
        *last = u64::MAX;
    }
}

/// Simulates round 1 at every station and the runoffs; results land in `ws`.
/// `on_machine` sees each e-enabled station's machine after its polls close (its chain sealed).
pub fn run_election(
    ctx: Context<'_>,
    run: u64,
    ws: &mut Workspace,
    on_machine: &mut dyn FnMut(usize, &VotingMachine),
) {
    let e = ctx.electorate;
    ws.counts.reset(e);
    draw_appeals(ctx, run, ws);
    for i in 0..e.stations.len() {
        station_round1(ctx, run, i, ws);
        if e.stations[i].evoting {
            on_machine(i, &ws.machine);
        }
    }
    decide_districts(ctx, run, ws);
}

fn draw_appeals(ctx: Context<'_>, run: u64, ws: &mut Workspace) {
    ws.appeal.clear();
    ws.appeal_offset.clear();
    for (d, district) in ctx.electorate.districts.iter().enumerate() {
        ws.appeal_offset.push(ws.appeal.len());
        let mut rng = stream(ctx.seed, Purpose::CandidateAppeal, run, d as u64);
        for c in &district.candidates {
            let z: f64 = StandardNormal.sample(&mut rng);
            ws.appeal
                .push(c.appeal.median * (c.appeal.log_sd * z).exp());
        }
    }
}

fn station_round1(ctx: Context<'_>, run: u64, i: usize, ws: &mut Workspace) {
    let e = ctx.electorate;
    let st = e.stations[i];
    let seed = ctx.seed;
    let k = e.n_parties;
    let mut noise = stream(seed, Purpose::StationTurnout, run, i as u64);
    let t = e.station_turnout(i, &mut noise);
    let mut noise = stream(seed, Purpose::StationPreference, run, i as u64);
    ws.pref.resize(k, 0.0);
    e.station_preferences(i, &mut noise, &mut ws.pref);
    cumulative(ws.pref.iter().copied(), &mut ws.list_cum);

    let district = st.district.map(|d| &e.districts[d as usize]);
    let n_cand = district.map_or(0, |d| d.candidates.len());
    if let Some(d) = st.district {
        let off = ws.appeal_offset[d as usize];
        cumulative(
            ws.appeal[off..off + n_cand].iter().copied(),
            &mut ws.free_cum,
        );
    }
    let mut launch = stream(seed, Purpose::LaunchCode, run, i as u64);
    let genesis = Genesis {
        election_id: ctx.election_id,
        station: i as u32,
        machine: 0,
        launch_code: Genesis::draw_launch_code(&mut launch),
    };
    let mode = if st.evoting {
        ctx.ledger
    } else {
        LedgerMode::Off
    };
    ws.machine.open(k, n_cand, mode, &genesis);

    let b = &ctx.model.ballots;
    let turnout_thr = threshold(t);
    let e_thr = if st.evoting {
        threshold(b.evoting_uptake)
    } else {
        0
    };
    let invalid_thr = threshold(b.invalid_rate);
    let loyal_thr = threshold(ctx.model.candidates.loyalty);

    let mut trng = stream(seed, Purpose::VoterTurnout, run, i as u64);
    let mut crng = stream(seed, Purpose::VoterChoice, run, i as u64);
    let w = k + 1;
    let list_row = &mut ws.counts.list[i * w..(i + 1) * w];
    let c_off = e.candidate_offset[i] as usize;
    let dist_row = &mut ws.counts.district[c_off..c_off + n_cand];
    let mut issued = 0u32;
    let mut electronic = 0u32;
    let mut district_invalid = 0u32;
    for _ in 0..st.n_registered {
        if trng.next_u64() >= turnout_thr {
            continue;
        }
        issued += 1;
        let is_electronic = crng.next_u64() < e_thr;
        let party = categorical(&ws.list_cum, crng.next_u64());
        let spoil_list = crng.next_u64() < invalid_thr;
        let mut cand = INVALID_DISTRICT;
        let mut spoil_district = false;
        if let Some(d) = district {
            let loyal = crng.next_u64() < loyal_thr;
            let free = categorical(&ws.free_cum, crng.next_u64());
            cand = match (loyal, d.nominee[party]) {
                (true, Some(c)) => c,
                _ => free as u16,
            };
            spoil_district = crng.next_u64() < invalid_thr;
        }
        if is_electronic {
            ws.machine.record(Ballot {
                list: party as u8,
                district: cand,
            });
            electronic += 1;
            continue;
        }
        if spoil_list {
            list_row[k] += 1;
        } else {
            list_row[party] += 1;
        }
        if district.is_some() {
            if spoil_district {
                district_invalid += 1;
            } else {
                dist_row[cand as usize] += 1;
            }
        }
    }
    ws.machine.close();
    // the commission adds the machine's totals to the paper count
    if electronic > 0 {
        for (p, v) in ws.machine.list.iter().enumerate() {
            let slot = if p < k { p } else { k };
            list_row[slot] += v;
        }
        for (c, v) in ws.machine.district.iter().enumerate() {
            if c < n_cand {
                dist_row[c] += v;
            } else {
                district_invalid += v;
            }
        }
    }
    ws.counts.issued[i] = issued;
    ws.counts.electronic[i] = electronic;
    ws.counts.district_invalid[i] = district_invalid;
}

/// Round-1 totals per district, winners or runoffs, and the runoff ballots.
fn decide_districts(ctx: Context<'_>, run: u64, ws: &mut Workspace) {
    use crate::seats::{DistrictOutcome, DistrictRule};
    let e = ctx.electorate;
    ws.districts.clear();
    let Some(tier) = &ctx.model.system.districts else {
        return;
    };
    for (d, district) in e.districts.iter().enumerate() {
        let n_cand = district.candidates.len();
        let mut round1 = vec![0u64; n_cand];
        let first = district.first_station as usize;
        for i in first..first + district.n_stations as usize {
            let off = e.candidate_offset[i] as usize;
            for (c, v) in ws.counts.district[off..off + n_cand].iter().enumerate() {
                round1[c] += *v as u64;
            }
        }
        let lot_seed = crate::rng::stream_key(ctx.seed, Purpose::Lot, run, d as u64);
        let (outcome, by_lot) = decide(tier.rule, &round1, lot_seed);
        let result = match outcome {
            DistrictOutcome::Elected(w) => DistrictResult {
                round1,
                runoff: None,
                winner: w as u16,
                by_lot,
            },
            DistrictOutcome::Runoff(a, b) => {
                let runoff = second_round(ctx, run, d, [a as u16, b as u16], ws);
                let final_seed = crate::rng::stream_key(
                    ctx.seed,
                    Purpose::Lot,
                    run,
                    (e.districts.len() + d) as u64,
                );
                let (second, lot2) = decide(DistrictRule::Plurality, &runoff.votes, final_seed);
                let w = match second {
                    DistrictOutcome::Elected(w) => w.min(1),
                    DistrictOutcome::Runoff(w, _) => w.min(1),
                };
                DistrictResult {
                    round1,
                    winner: runoff.finalists[w],
                    runoff: Some(runoff),
                    by_lot: by_lot || lot2,
                }
            }
        };
        ws.districts.push(result);
    }
}

/// Decides a district by `rule`, drawing a seeded lot for a tie that decides a place. A district
/// where nobody got a vote is one big tie. Returns the outcome and whether a lot was drawn.
fn decide(
    rule: crate::seats::DistrictRule,
    votes: &[u64],
    lot_seed: u64,
) -> (crate::seats::DistrictOutcome, bool) {
    use crate::seats::{DistrictOutcome, TieBreak, single_member_detailed};
    let ties = TieBreak::Lot { seed: lot_seed };
    let decided = if votes.iter().all(|&v| v == 0) {
        let ones = vec![1u64; votes.len()];
        single_member_detailed(rule, &ones, ties)
    } else {
        single_member_detailed(rule, votes, ties)
    };
    match decided {
        Ok(d) => (d.outcome, !d.lots.is_empty()),
        // unreachable for a district with at least one candidate and a vote (or none at all);
        // fall back to the first candidate rather than abort the whole Monte Carlo
        Err(_) => (DistrictOutcome::Elected(0), true),
    }
}

fn second_round(
    ctx: Context<'_>,
    run: u64,
    d: usize,
    finalists: [u16; 2],
    ws: &mut Workspace,
) -> Runoff {
    let e = ctx.electorate;
    let district = &e.districts[d];
    let r = &ctx.model.runoff;
    let off = ws.appeal_offset[d];
    let a_app = ws.appeal[off + finalists[0] as usize];
    let b_app = ws.appeal[off + finalists[1] as usize];
    let to_a_by_appeal = threshold(a_app / (a_app + b_app));
    let return_thr = threshold(r.turnout_ratio);
    let transfer_thr = threshold(r.party_transfer);
    let invalid_thr = threshold(ctx.model.ballots.invalid_rate);
    let party_of = |c: u16| district.candidates[c as usize].party;
    let mut out = Runoff {
        finalists,
        votes: [0, 0],
        invalid: 0,
        ballots: 0,
    };
    let n_cand = district.candidates.len();
    let first = district.first_station as usize;
    for i in first..first + district.n_stations as usize {
        let mut rng: StreamRng = stream(ctx.seed, Purpose::Runoff, run, i as u64);
        let c_off = e.candidate_offset[i] as usize;
        // round-1 district voters by choice, then round-1 spoilers (who choose by appeal)
        for c in 0..=n_cand {
            let n = if c < n_cand {
                ws.counts.district[c_off + c]
            } else {
                ws.counts.district_invalid[i]
            };
            let party = if c < n_cand { party_of(c as u16) } else { None };
            let same_party = |f: u16| party.is_some() && party_of(f) == party;
            for _ in 0..n {
                if rng.next_u64() >= return_thr {
                    continue;
                }
                out.ballots += 1;
                let pick_a = if c == finalists[0] as usize {
                    true
                } else if c == finalists[1] as usize {
                    false
                } else if (same_party(finalists[0]) || same_party(finalists[1]))
                    && rng.next_u64() < transfer_thr
                {
                    same_party(finalists[0])
                } else {
                    rng.next_u64() < to_a_by_appeal
                };
                if rng.next_u64() < invalid_thr {
                    out.invalid += 1;
                } else {
                    out.votes[usize::from(!pick_a)] += 1;
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seats::{DistrictOutcome, DistrictRule};

    #[test]
    fn majority_in_round_one_elects() {
        assert_eq!(
            decide(DistrictRule::AbsoluteMajority, &[51, 30, 19], 1),
            (DistrictOutcome::Elected(0), false)
        );
    }

    #[test]
    fn exactly_half_is_not_a_majority() {
        assert_eq!(
            decide(DistrictRule::AbsoluteMajority, &[30, 50, 20], 1),
            (DistrictOutcome::Runoff(1, 0), false)
        );
    }

    #[test]
    fn tie_for_second_place_is_drawn_by_lot_deterministically() {
        let (a, lot_a) = decide(DistrictRule::AbsoluteMajority, &[40, 30, 30], 9);
        let (b, _) = decide(DistrictRule::AbsoluteMajority, &[40, 30, 30], 9);
        assert!(lot_a);
        assert_eq!(a, b);
        assert!(matches!(a, DistrictOutcome::Runoff(0, 1 | 2)));
    }

    #[test]
    fn district_without_votes_is_decided_by_lot() {
        let (o, lot) = decide(DistrictRule::Plurality, &[0, 0], 3);
        assert!(lot);
        assert!(matches!(o, DistrictOutcome::Elected(0 | 1)));
    }

    #[test]
    fn categorical_covers_all_mass() {
        let mut cum = Vec::new();
        cumulative([0.5, 0.0, 0.5].into_iter(), &mut cum);
        assert_eq!(categorical(&cum, 0), 0);
        assert_eq!(categorical(&cum, u64::MAX), 2);
        assert_eq!(categorical(&cum, 1u64 << 63), 2);
    }
}
