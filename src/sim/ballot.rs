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

use super::context::Context;
use super::counts::{Checks, FraudTrace, PaperTrail, Workspace, record_paper};
use super::districts::{draw_appeals, finish_districts};
use super::machine::{Ballot, INVALID_DISTRICT, LedgerMode, VotingMachine};
use super::tamper::{LedgerTamper, protocol_fraud, rewrite_ledger};
use crate::distr::{binomial_rand_distr, cumulative, pick};
use crate::fraud::FraudKind;
use crate::ledger::Genesis;
use crate::model::{OnComplaint, RiggedPrint};
use crate::rng::{Purpose, stream, threshold};
use rand::Rng;

/// Simulates round 1 at every station and the runoffs; results land in `ws`.
/// `on_machine` sees each e-enabled station's machine after its polls close (its chain sealed).
pub fn run_election(
    ctx: Context<'_>,
    run: u64,
    ws: &mut Workspace,
    on_machine: &mut dyn FnMut(usize, &VotingMachine),
) {
    run_election_until(ctx, run, ws, on_machine, &|| false);
}

/// Stations simulated between two looks at a stop flag ([`Stop`]).
pub const STOP_EVERY: usize = 256;

/// Whether to stop a run early (e.g. Ctrl-C was pressed), asked every [`STOP_EVERY`] stations.
pub type Stop<'a> = &'a (dyn Fn() -> bool + Sync);

/// [`run_election`] asking `stop` every [`STOP_EVERY`] stations; `false` when it said to stop
/// (what is in `ws` is then partial and must not be used).
pub fn run_election_until(
    ctx: Context<'_>,
    run: u64,
    ws: &mut Workspace,
    on_machine: &mut dyn FnMut(usize, &VotingMachine),
    stop: Stop<'_>,
) -> bool {
    let e = ctx.electorate;
    ws.reset(e);
    ws.reset_paper(e, ctx.paper_record);
    draw_appeals(ctx, run, ws);
    for i in 0..e.stations.len() {
        if i.is_multiple_of(STOP_EVERY) && stop() {
            return false;
        }
        station_round1(ctx, run, i, ws);
        if e.stations[i].evoting {
            on_machine(i, &ws.machine);
        }
    }
    // protocols: the count, then what commissions changed
    ws.reported.clone_from(&ws.counts);
    for i in 0..e.stations.len() {
        protocol_fraud(ctx, run, i, ws);
    }
    finish_districts(ctx, run, ws, false, false);
    true
}

/// [`run_election`] without a machine callback, with the stations split into `parts`
/// contiguous blocks simulated in parallel on the current rayon pool, each in its own
/// workspace, then summed. Every station draws from its own streams, so the result is the same
/// whatever `parts` (for one huge election on a many-core machine; each block keeps full-size
/// count arrays, so memory grows with `parts`).
pub fn run_election_split(ctx: Context<'_>, run: u64, ws: &mut Workspace, parts: usize) {
    run_election_split_until(ctx, run, ws, parts, &|| false);
}

/// [`run_election_split`] asking `stop` every [`STOP_EVERY`] stations of each block; `false`
/// when it said to stop (`ws` is then partial).
pub fn run_election_split_until(
    ctx: Context<'_>,
    run: u64,
    ws: &mut Workspace,
    parts: usize,
    stop: Stop<'_>,
) -> bool {
    use rayon::prelude::*;
    let e = ctx.electorate;
    let n = e.stations.len();
    let parts = parts.clamp(1, n.max(1));
    if parts == 1 {
        return run_election_until(ctx, run, ws, &mut |_, _| {}, stop);
    }
    ws.reset(e);
    ws.reset_paper(e, ctx.paper_record);
    draw_appeals(ctx, run, ws);
    let mut blocks = std::mem::take(&mut ws.parts);
    blocks.truncate(parts);
    blocks.resize_with(parts, Workspace::default);
    let size = n.div_ceil(parts);
    let finished = blocks.par_iter_mut().enumerate().all(|(j, b)| {
        b.reset(e);
        b.reset_paper(e, ctx.paper_record);
        draw_appeals(ctx, run, b);
        for i in j * size..((j + 1) * size).min(n) {
            if (i - j * size).is_multiple_of(STOP_EVERY) && stop() {
                return false;
            }
            station_round1(ctx, run, i, b);
        }
        true
    });
    if !finished {
        ws.parts = blocks;
        return false;
    }
    for b in &blocks {
        ws.add_block(b);
    }
    ws.parts = blocks;
    ws.reported.clone_from(&ws.counts);
    for i in 0..n {
        protocol_fraud(ctx, run, i, ws);
    }
    finish_districts(ctx, run, ws, false, true);
    true
}

/// Per-ballot fraud thresholds active at a station: (threshold, beneficiary), 0 when inactive.
#[derive(Default)]
pub(super) struct BallotFraud {
    pub(super) pressure: (u64, usize),
    flip: (u64, usize),
    drop: (u64, usize),
}

impl BallotFraud {
    /// No model acts on this station's electronic ballots.
    pub(super) fn is_none(&self) -> bool {
        self.pressure.0 == 0 && self.flip.0 == 0 && self.drop.0 == 0
    }
}

/// The per-ballot fraud of the models targeted at station `i` (the last of a kind wins), and
/// the ledger tampering after close, if any (machine models act only at e-enabled stations).
pub(super) fn machine_fraud(
    ctx: Context<'_>,
    i: usize,
    targeted: &[bool],
) -> (BallotFraud, Option<LedgerTamper>) {
    let evoting = ctx.electorate.stations[i].evoting;
    let mut bf = BallotFraud::default();
    let mut ledger_rewrite = None;
    for (j, f) in ctx.model.fraud.iter().enumerate() {
        if !targeted[j] {
            continue;
        }
        let b = f.beneficiary as usize;
        match f.kind {
            FraudKind::Pressure { share } => bf.pressure = (threshold(share), b),
            FraudKind::Flip { share } if evoting => bf.flip = (threshold(share), b),
            FraudKind::Drop { share } if evoting => bf.drop = (threshold(share), b),
            FraudKind::LedgerRewrite {
                entries,
                recompute,
                forge_head,
            } if evoting => {
                ledger_rewrite = Some(LedgerTamper::Rewrite {
                    entries,
                    recompute,
                    forge_head,
                    ben: b,
                });
            }
            FraudKind::LedgerTruncate { entries, reseal } if evoting => {
                ledger_rewrite = Some(LedgerTamper::Truncate { entries, reseal });
            }
            _ => {}
        }
    }
    (bf, ledger_rewrite)
}

/// Opens station `i`'s machine (off at a paper station) for its `n_cand` district candidates,
/// its chain bound to the station's launch code; the ballot log is kept when the ledger will
/// be tampered with after close.
pub(super) fn open_machine(
    ctx: Context<'_>,
    run: u64,
    i: usize,
    n_cand: usize,
    tamper: bool,
    ws: &mut Workspace,
) {
    let mut launch = stream(ctx.seed, Purpose::LaunchCode, run, i as u64);
    let genesis = Genesis {
        election_id: ctx.election_id,
        station: i as u32,
        machine: 0,
        launch_code: Genesis::draw_launch_code(&mut launch),
    };
    let mode = match (ctx.electorate.stations[i].evoting, tamper) {
        (false, _) => LedgerMode::Off,
        (true, true) => LedgerMode::ChainAndLog,
        (true, false) => ctx.ledger,
    };
    ws.machine
        .open(ctx.electorate.n_parties, n_cand, mode, &genesis);
    open_trail(ctx, i, n_cand, ws);
}

/// Sets up station `i`'s paper trail for a machine just opened: whether it prints, and its
/// voters' look and complaint thresholds.
pub(super) fn open_trail(ctx: Context<'_>, i: usize, n_cand: usize, ws: &mut Workspace) {
    let t = &mut ws.trail;
    let evoting = ctx.electorate.stations[i].evoting;
    let vvpat = ctx.model.vvpat.filter(|v| evoting && v.prints(i));
    t.prints = vvpat.is_some();
    t.list.clear();
    t.district.clear();
    if let Some(v) = vvpat {
        t.look_rate = v.look_rate;
        t.look = threshold(v.look_rate);
        t.complain = threshold(v.complain_rate);
        t.recast = v.on_complaint == OnComplaint::Recast;
        t.chosen = v.rigged_prints == RiggedPrint::Chosen;
        t.list.resize(ctx.electorate.n_parties + 1, 0);
        t.district.resize(n_cand + 1, 0);
    }
}

/// Thresholds of a voter checking a receipt and a control code.
#[derive(Clone, Copy)]
pub(super) struct CheckRates {
    pub(super) receipt: u64,
    pub(super) code: u64,
}

/// An electronic voter's ballot `b` (its list vote after any pressure) on the machine: dropped
/// or flipped by machine fraud, else recorded as cast; a voter checking the receipt or control
/// code of a dropped ballot, or the code of a flipped one, complains.
#[inline]
pub(super) fn cast_electronic(
    (machine, trace, found, trail): (
        &mut VotingMachine,
        &mut FraudTrace,
        &mut Checks,
        &mut PaperTrail,
    ),
    bf: &BallotFraud,
    b: Ballot,
    frng: &mut crate::rng::StreamRng,
    crng: &mut crate::rng::StreamRng,
    checks: CheckRates,
) {
    let cast = b.list as usize;
    if bf.drop.0 > 0 && cast != bf.drop.1 && frng.next_u64() < bf.drop.0 {
        // a printing machine prints the voter's choice, or nothing (which a voter who looks
        // notices, and may have voided and cast again)
        let recast = trail.prints && !trail.chosen && noticed(trail, found, crng);
        if !recast {
            // the vote is not recorded: a voter who checks the receipt or the code finds nothing
            trace.dropped += 1;
            if crng.next_u64() < checks.receipt || crng.next_u64() < checks.code {
                found.receipt_complaint = true;
            }
            if trail.prints && trail.chosen {
                let l = cast.min(trail.list.len() - 1);
                trail.list[l] += 1;
                let d = (b.district as usize).min(trail.district.len() - 1);
                trail.district[d] += 1;
            }
            return;
        }
    } else if bf.flip.0 > 0 && cast != bf.flip.1 && frng.next_u64() < bf.flip.0 {
        let recast = trail.prints && !trail.chosen && noticed(trail, found, crng);
        if !recast {
            let recorded = bf.flip.1;
            trace.flipped += 1;
            if crng.next_u64() < checks.code {
                found.control_code_complaint = true;
            }
            if trail.prints && trail.chosen {
                trail.list[cast] += 1;
                trail.list[recorded] -= 1;
            }
            machine.record(Ballot {
                list: recorded as u8,
                district: b.district,
            });
            return;
        }
    }
    machine.record(b);
}

/// Whether a voter who was shown a wrong printed record (or none) looks, notices and
/// complains, and the complaint voids the record for a new vote (noting the complaint).
#[inline]
fn noticed(trail: &PaperTrail, found: &mut Checks, crng: &mut crate::rng::StreamRng) -> bool {
    if crng.next_u64() < trail.look && crng.next_u64() < trail.complain {
        found.vvpat_complaint = true;
        trail.recast
    } else {
        false
    }
}

fn station_round1(ctx: Context<'_>, run: u64, i: usize, ws: &mut Workspace) {
    let e = ctx.electorate;
    let st = e.stations[i];
    let seed = ctx.seed;
    let k = e.n_parties;
    let mut noise = stream(seed, Purpose::StationTurnout, run, i as u64);
    let (t, dev) = e.station_turnout(i, &mut noise);
    let mut noise = stream(seed, Purpose::StationPreference, run, i as u64);
    ws.pref.resize(k, 0.0);
    e.station_preferences(i, &mut noise, dev, &mut ws.pref);
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

    // fraud at this station
    let mut frng = stream(seed, Purpose::Fraud, run, i as u64);
    ctx.targeted(i, &mut frng, &mut ws.targeted);
    let (bf, ledger_rewrite) = machine_fraud(ctx, i, &ws.targeted);
    if ws.targeted.iter().any(|&x| x) {
        ws.trace.stations_hit += 1;
    }
    open_machine(ctx, run, i, n_cand, ledger_rewrite.is_some(), ws);

    let b = &ctx.model.ballots;
    let turnout_thr = threshold(t);
    let e_thr = if st.evoting {
        threshold(b.evoting_uptake)
    } else {
        0
    };
    let invalid_thr = threshold(b.invalid_rate);
    let loyal_thr = threshold(ctx.model.candidates.loyalty);
    let mut crng = stream(seed, Purpose::Checks, run, i as u64);
    let receipt_thr = threshold(ctx.receipt_rate);
    let code_thr = threshold(ctx.control_code_rate);
    let rates = CheckRates {
        receipt: receipt_thr,
        code: code_thr,
    };

    let mut trng = stream(seed, Purpose::VoterTurnout, run, i as u64);
    let mut vrng = stream(seed, Purpose::VoterChoice, run, i as u64);
    let w = k + 1;
    let c_off = e.candidate_offset[i] as usize;
    let mut issued = 0u32;
    let mut electronic = 0u32;
    let mut district_invalid = 0u32;
    let mut truth_district_invalid = 0u32;
    {
        let list_row = &mut ws.counts.list[i * w..(i + 1) * w];
        let truth_row = &mut ws.truth.list[i * w..(i + 1) * w];
        let dist_row = &mut ws.counts.district[c_off..c_off + n_cand];
        let truth_dist = &mut ws.truth.district[c_off..c_off + n_cand];
        for _ in 0..st.n_registered {
            if trng.next_u64() >= turnout_thr {
                continue;
            }
            issued += 1;
            let is_electronic = vrng.next_u64() < e_thr;
            let party = pick(&ws.list_cum, vrng.next_u64());
            let spoil_list = vrng.next_u64() < invalid_thr && !is_electronic;
            let mut cand = INVALID_DISTRICT;
            let mut spoil_district = false;
            if let Some(d) = district {
                let loyal = vrng.next_u64() < loyal_thr;
                let free = pick(&ws.free_cum, vrng.next_u64());
                cand = match (loyal, d.nominee[party]) {
                    (true, Some(c)) => c,
                    _ => free as u16,
                };
                spoil_district = vrng.next_u64() < invalid_thr && !is_electronic;
            }
            // the truth: what this voter chose
            truth_row[if spoil_list { k } else { party }] += 1;
            if district.is_some() {
                if spoil_district {
                    truth_district_invalid += 1;
                } else {
                    truth_dist[cand as usize] += 1;
                }
            }
            // voter-level fraud: pressure changes the list vote cast
            let mut cast = party;
            if bf.pressure.0 > 0 && party != bf.pressure.1 && frng.next_u64() < bf.pressure.0 {
                cast = bf.pressure.1;
            }
            if is_electronic {
                electronic += 1;
                let ballot = Ballot {
                    list: cast as u8,
                    district: cand,
                };
                let out = (
                    &mut ws.machine,
                    &mut ws.trace,
                    &mut ws.checks,
                    &mut ws.trail,
                );
                cast_electronic(out, &bf, ballot, &mut frng, &mut crng, rates);
                continue;
            }
            if spoil_list {
                list_row[k] += 1;
            } else {
                list_row[cast] += 1;
            }
            if district.is_some() {
                if spoil_district {
                    district_invalid += 1;
                } else {
                    dist_row[cand as usize] += 1;
                }
            }
        }
    }
    ws.truth.issued[i] = issued;
    ws.truth.district_invalid[i] = truth_district_invalid;
    ws.checks.receipts_checked += crate::stats::round_u64(ctx.receipt_rate * electronic as f64);
    ws.checks.control_codes_checked +=
        crate::stats::round_u64(ctx.control_code_rate * electronic as f64);

    // station-level fraud on the ballot boxes and machines
    let nominee_of = |b: usize| district.and_then(|d| d.nominee[b]);
    for (j, f) in ctx.model.fraud.iter().enumerate() {
        if !ws.targeted[j] {
            continue;
        }
        let ben = f.beneficiary as usize;
        let extra = match f.kind {
            FraudKind::Stuffing { rate, .. } => {
                binomial_rand_distr(&mut frng, st.n_registered.saturating_sub(issued), rate)
            }
            FraudKind::Carousel { rate } => binomial_rand_distr(&mut frng, st.n_registered, rate),
            _ => continue,
        };
        let via_machine = matches!(
            f.kind,
            FraudKind::Stuffing {
                via_machine: true,
                ..
            }
        ) && st.evoting;
        ws.trace.stuffed += extra as u64;
        issued += extra;
        let cand = nominee_of(ben).unwrap_or(INVALID_DISTRICT);
        if via_machine {
            electronic += extra;
            for _ in 0..extra {
                ws.machine.record(Ballot {
                    list: ben as u8,
                    district: cand,
                });
            }
        } else {
            ws.counts.list[i * w + ben] += extra;
            if district.is_some() {
                if cand == INVALID_DISTRICT {
                    district_invalid += extra;
                } else {
                    ws.counts.district[c_off + cand as usize] += extra;
                }
            }
        }
    }
    ws.machine.close();

    // the commission adds the machine's totals to the paper count
    if ws.machine.n_ballots > 0 {
        let list_row = &mut ws.counts.list[i * w..(i + 1) * w];
        for (p, v) in ws.machine.list.iter().enumerate() {
            list_row[p.min(k)] += v;
        }
        for (c, v) in ws.machine.district.iter().enumerate() {
            if c < n_cand {
                ws.counts.district[c_off + c] += v;
            } else {
                district_invalid += v;
            }
        }
    }
    ws.counts.issued[i] = issued;
    ws.counts.electronic[i] = electronic;
    ws.counts.district_invalid[i] = district_invalid;
    record_paper(e, i, ws);
    if let Some(tamper) = ledger_rewrite {
        rewrite_ledger(ctx, ws, i, tamper, receipt_thr, &mut crng);
    }
}
