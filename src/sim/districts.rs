//! Deciding districts: round-1 totals from the protocols (and, for the truth, from voters'
//! choices), district-level tabulation fraud on the published totals, and second rounds —
//! ballot by ballot ([`second_round_ballots`]) or drawn as district counts
//! ([`second_round_counts`], the station path's) — side by side.

use super::context::Context;
use super::counts::{
    DistrictResult, Runoff, StationCounts, Workspace, district_protocol_sums, district_stations,
};
use crate::distr::binomial;
use crate::rng::{Purpose, StreamRng, stream, threshold};
use rand::Rng;
use rand_distr::{Distribution, StandardNormal};

/// District results from the reported protocols and from the truth, into `ws`. With
/// `aggregate_runoffs` the second rounds are drawn as district counts
/// ([`second_round_counts`]) rather than ballot by ballot. With `parallel` the districts
/// are decided in parallel on the current rayon pool (one run split over threads); each draws
/// from its own streams, so the result is the same. A district whose truth counts equal its
/// protocols (every district of an honest run) takes the protocols' result instead of being
/// decided again: the same inputs and streams would give the same result.
pub(crate) fn finish_districts(
    ctx: Context<'_>,
    run: u64,
    ws: &mut Workspace,
    aggregate_runoffs: bool,
    parallel: bool,
) {
    let Workspace {
        reported,
        truth,
        districts,
        truth_districts,
        appeal,
        appeal_offset,
        ..
    } = ws;
    let appeals = Appeals {
        appeal,
        offset: appeal_offset,
    };
    let how = Decide {
        ctx,
        run,
        appeals: &appeals,
        aggregate_runoffs,
        parallel,
    };
    how.districts(reported, None, true, districts);
    // district-level tabulation fraud alters published totals, never the truth: with it, equal
    // counts no longer mean equal results
    let altered = ctx.model.fraud.iter().any(|f| {
        matches!(
            f.kind,
            crate::fraud::FraudKind::Aggregate {
                level: crate::fraud::AggregateLevel::District,
                ..
            }
        )
    });
    let same = (!altered).then_some((&*reported, districts.as_slice()));
    how.districts(truth, same, false, truth_districts);
}

pub(crate) fn draw_appeals(ctx: Context<'_>, run: u64, ws: &mut Workspace) {
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

/// The per-run appeal of every district candidate.
struct Appeals<'a> {
    appeal: &'a [f64],
    offset: &'a [usize],
}

/// How a run's districts are decided ([`finish_districts`]).
struct Decide<'a> {
    ctx: Context<'a>,
    run: u64,
    appeals: &'a Appeals<'a>,
    aggregate_runoffs: bool,
    parallel: bool,
}

impl Decide<'_> {
    /// Every district's result from `counts` into `out`, in district order. `same` holds counts
    /// already decided and their results: a district whose counts match there is copied. With
    /// `published` the totals are the district commissions' published ones, which
    /// district-level tabulation fraud ([`crate::fraud::alter_district_totals`]) may alter.
    fn districts(
        &self,
        counts: &StationCounts,
        same: Option<(&StationCounts, &[DistrictResult])>,
        published: bool,
        out: &mut Vec<DistrictResult>,
    ) {
        use rayon::prelude::*;
        out.clear();
        if self.ctx.model.system.districts.is_none() {
            return;
        }
        let one = |d: usize| match same {
            Some((other, results)) if self.same_counts(d, counts, other) => results[d].clone(),
            _ => self.district(d, counts, published),
        };
        let n = self.ctx.electorate.districts.len();
        if self.parallel {
            out.par_extend((0..n).into_par_iter().map(one));
        } else {
            out.extend((0..n).map(one));
        }
    }

    /// Whether district `d`'s candidate votes and invalid district ballots (all that deciding
    /// it reads) are the same in `a` and `b`.
    fn same_counts(&self, d: usize, a: &StationCounts, b: &StationCounts) -> bool {
        let e = self.ctx.electorate;
        let district = &e.districts[d];
        let n_cand = district.candidates.len();
        district_stations(e, d).all(|i| {
            let off = e.candidate_offset[i] as usize;
            a.district[off..off + n_cand] == b.district[off..off + n_cand]
                && a.district_invalid[i] == b.district_invalid[i]
        })
    }

    /// District `d`'s result: round 1, and the runoff if the rule calls for one; with
    /// `published`, after district-level tabulation fraud (in round 1 and in the runoff).
    fn district(&self, d: usize, counts: &StationCounts, published: bool) -> DistrictResult {
        use crate::fraud::alter_district_totals;
        use crate::seats::{DistrictOutcome, DistrictRule};
        let (ctx, run, appeals) = (self.ctx, self.run, self.appeals);
        let e = ctx.electorate;
        let tier = ctx
            .model
            .system
            .districts
            .as_ref()
            .expect("only called with a district tier");
        let district = &e.districts[d];
        let mut round1 = district_protocol_sums(e, counts, d);
        if published {
            let nominee = |p: u8| district.nominee.get(p as usize).copied().flatten();
            alter_district_totals(
                &ctx.model.fraud,
                district.region,
                |p| nominee(p).map(usize::from),
                &mut round1,
            );
        }
        let lot_seed = crate::rng::stream_key(ctx.seed, Purpose::Lot, run, d as u64);
        let (outcome, by_lot) = decide(tier.rule, &round1, lot_seed);
        match outcome {
            DistrictOutcome::Elected(w) => DistrictResult {
                round1,
                runoff: None,
                winner: w as u16,
                by_lot,
            },
            DistrictOutcome::Runoff(a, b) => {
                let finalists = [a as u16, b as u16];
                let mut runoff = if self.aggregate_runoffs {
                    let off = appeals.offset[d];
                    let pair = [appeals.appeal[off + a], appeals.appeal[off + b]];
                    second_round_counts(ctx, run, d, finalists, counts, pair)
                } else {
                    second_round_ballots(ctx, run, d, finalists, counts, appeals)
                };
                if published {
                    let slot = |p: u8| {
                        let nominee = district.nominee.get(p as usize).copied().flatten()?;
                        finalists.iter().position(|&f| f == nominee)
                    };
                    alter_district_totals(
                        &ctx.model.fraud,
                        district.region,
                        slot,
                        &mut runoff.votes,
                    );
                }
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
        }
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

fn second_round_ballots(
    ctx: Context<'_>,
    run: u64,
    d: usize,
    finalists: [u16; 2],
    counts: &StationCounts,
    appeals: &Appeals<'_>,
) -> Runoff {
    let e = ctx.electorate;
    let district = &e.districts[d];
    let r = &ctx.model.runoff;
    let off = appeals.offset[d];
    let a_app = appeals.appeal[off + finalists[0] as usize];
    let b_app = appeals.appeal[off + finalists[1] as usize];
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
    for i in district_stations(e, d) {
        let mut rng: StreamRng = stream(ctx.seed, Purpose::Runoff, run, i as u64);
        let c_off = e.candidate_offset[i] as usize;
        // round-1 district voters by choice, then round-1 spoilers (who choose by appeal)
        for c in 0..=n_cand {
            let n = if c < n_cand {
                counts.district[c_off + c]
            } else {
                counts.district_invalid[i]
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

/// A district's second round drawn as counts: the distribution [`second_round_ballots`] draws
/// voter by voter. `appeal` is the two finalists' appeal in this run.
fn second_round_counts(
    ctx: Context<'_>,
    run: u64,
    d: usize,
    finalists: [u16; 2],
    counts: &StationCounts,
    appeal: [f64; 2],
) -> Runoff {
    let e = ctx.electorate;
    let district = &e.districts[d];
    let r = &ctx.model.runoff;
    let invalid_rate = ctx.model.ballots.invalid_rate;
    let to_a_by_appeal = appeal[0] / (appeal[0] + appeal[1]);
    let n_cand = district.candidates.len();
    // round-1 totals: district votes per candidate, then invalid district ballots
    let mut round1 = vec![0u32; n_cand + 1];
    for i in district_stations(e, d) {
        let off = e.candidate_offset[i] as usize;
        for (t, v) in round1.iter_mut().zip(&counts.district[off..off + n_cand]) {
            *t += v;
        }
        round1[n_cand] += counts.district_invalid[i];
    }
    let party_of = |c: usize| district.candidates[c].party;
    let mut rng = stream(
        ctx.seed,
        Purpose::Runoff,
        run,
        (e.stations.len() + d) as u64,
    );
    let (mut a, mut b, mut ballots) = (0u32, 0u32, 0u64);
    for (c, &n) in round1.iter().enumerate() {
        let back = binomial(&mut rng, n, r.turnout_ratio);
        ballots += back as u64;
        if c == finalists[0] as usize {
            a += back;
            continue;
        }
        if c == finalists[1] as usize {
            b += back;
            continue;
        }
        let party = if c < n_cand { party_of(c) } else { None };
        let same = |f: u16| party.is_some() && party_of(f as usize) == party;
        let mut rest = back;
        if same(finalists[0]) || same(finalists[1]) {
            let moved = binomial(&mut rng, back, r.party_transfer);
            if same(finalists[0]) {
                a += moved;
            } else {
                b += moved;
            }
            rest -= moved;
        }
        let to_a = binomial(&mut rng, rest, to_a_by_appeal);
        a += to_a;
        b += rest - to_a;
    }
    let spoiled_a = binomial(&mut rng, a, invalid_rate);
    let spoiled_b = binomial(&mut rng, b, invalid_rate);
    Runoff {
        finalists,
        votes: [(a - spoiled_a) as u64, (b - spoiled_b) as u64],
        invalid: (spoiled_a + spoiled_b) as u64,
        ballots,
    }
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
}
