//! The station-level fast path: an honest run's station counts drawn directly from their
//! distributions instead of ballot by ballot.
//!
//! For a station with `n` registered voters, turnout probability `t` and list preferences `p`
//! (the ballot path's `t` and `p`: [`Electorate::station_turnout`] and
//! [`Electorate::station_preferences`] on the same streams, up to the last bits of `exp`), the
//! ballot path's voters are independent and identically distributed, so the counts it produces
//! have closed-form distributions, which this module samples exactly ([`crate::distr::binomial`]: Bernoulli
//! trials, inversion or Hörmann's BTRS by size; for the two fixed probabilities, the invalid
//! rate and loyalty, a [`crate::distr::BinomialTable`]'s inversion from the mode; multinomials as sequential
//! binomials with a categorical tail; [`crate::distr::thin`] for spoiled ballots):
//!
//! - ballots issued ~ Binomial(n, t); electronic ~ Binomial(issued, uptake) at e-enabled
//!   stations (0 elsewhere); paper = issued − electronic;
//! - voters by list party: electronic ~ Multinomial(electronic, p), paper ~ Multinomial(paper, p);
//! - for each party's paper voters, spoiled list ballots ~ Binomial(paper voters, invalid rate)
//!   and, independently, spoiled district ballots ~ Binomial(paper voters, invalid rate):
//!   electronic ballots are never invalid (a touch screen offers only valid choices);
//!   truth and count differ from the ballot path in one unread detail only: the ballot path
//!   leaves `truth.electronic` (and, without a district tier, `truth.district_invalid`) at zero;
//! - each party's valid district ballots: Binomial(·, loyalty) go to the party's nominee if it
//!   has one, the rest join the pool that is split Multinomial(pool, appeal) over the district's
//!   candidates (the mixture `station_round1` in `ballot.rs` draws voter by voter);
//! - at a station without a district tier, the machine's ballots carry "no candidate" and the
//!   commission counts them as invalid district ballots, as on the ballot path.
//!
//! Runoffs are drawn as district counts ([`super::districts`]): returning voters, transfers to a
//! same-party finalist, the split by appeal and spoiled ballots are binomials of round-1 totals,
//! the same distribution as the ballot path draws voter by voter.
//!
//! Fraud whose effect is a change of counts is drawn from the exact distribution of what it
//! does to a station's counts ([`count_level`]), after the honest draw (which becomes the
//! station's truth), with the ballot path's targeting (the same `Fraud` stream draws, so
//! variants stay paired): pressure moves Binomial(valid list votes of each other party, share)
//! to the beneficiary; stuffing adds Binomial(non-voters, rate) ballots and carousel voting
//! Binomial(registered, rate), for the beneficiary and its nominee (through the machine at an
//! e-enabled station when `via_machine`); then commissions' protocol fraud
//! ([`super::tamper::protocol_fraud`]) and district and regional tabulation fraud act on the
//! counts exactly as on the ballot path. Fraud inside voting machines (flipped or dropped
//! votes, rewritten or truncated ledgers) needs ballots: [`applies`] says no for a variant
//! with such a model and [`crate::montecarlo`] runs it ballot by ballot. This path never builds
//! a ballot, a machine or a hash chain: no ledger is published other than as sealed, so the
//! ledger audit, receipt and control-code detectors read what they would on the ballot path
//! without machine fraud (nothing found; checks costed from the electronic count). Voter-level draws
//! come from the station's `VoterChoice` stream (turnout included) and the district's `Runoff`
//! stream (index stations + district), so results do not depend on station order or thread
//! count, but they are not the ballot path's draw for draw. Station noise comes from the ballot
//! path's `StationTurnout` and `StationPreference` streams, through this module's [`exp`]
//! instead of `f64::exp`: the same normals, equal to the ballot path's `t` and `p` up to an ulp
//! or so.
//!
//! The hybrid path ([`run_hybrid`], the default) is this path with the machines put back: at an
//! e-enabled station the electronic voters are counted as above (Binomial(issued, uptake)) but
//! not split by party; instead each of them chooses a list (by the station's preferences) and
//! a district candidate (loyalty, else appeal) on the station's voter stream and votes on the
//! station's [`super::VotingMachine`], which hash-chains the ballot — with pressure, dropped
//! and flipped votes, voters' checks, ballots stuffed through the machine and ledgers tampered
//! with after close exactly as `ballot.rs` does them (its `machine_fraud`, `open_machine` and
//! `cast_electronic`). The voters being independent, the electronic and paper parts are
//! independent given the station's turnout and preferences, so the counts have the ballot
//! path's distribution. Paper stations are drawn exactly as on the station path, draw for draw.
//!
//! Both paths make two passes over the stations: [`draw_honest`] draws every station's honest
//! counts (and keeps each machine station's voter stream and preferences), [`run_from`] casts
//! the machines' ballots and applies every fraud. Nothing in the first pass depends on fraud,
//! so variants that differ only in their fraud models ([`honest_key`]) share it: the Monte
//! Carlo loop draws each run's honest counts once for all of them ([`HonestDraws`]).
//! The first pass also runs each machine as its voters leave it with no fraud (ballots cast,
//! chain hashed); the second pass replays those totals wherever its variant's fraud does not
//! act on the machine (no pressure, flip or drop there, no ledger tampering, no stuffing
//! through it) and casts the electronic ballots again only where it does.
//! No I/O, no panics.

use super::ballot::{
    BallotFraud, CheckRates, STOP_EVERY, Stop, cast_electronic, machine_fraud, open_machine,
    open_trail,
};
use super::context::Context;
use super::counts::{StationCounts, Workspace, paper_as_counted, record_paper};
use super::districts::{draw_appeals, finish_districts};
use super::machine::{Ballot, INVALID_DISTRICT, VotingMachine};
use super::tamper::{LedgerTamper, protocol_fraud, rewrite_ledger};
use crate::distr::{binomial, cumulative, exp, multinomial, pick, thin_with};
use crate::electorate::Electorate;
use crate::fraud::FraudKind;
use crate::model::{Model, Scenario, SimPath};
use crate::rng::{Purpose, RunStreams, StreamRng, stream, threshold};
use rand::Rng;

/// Whether a fraud model's effect is a change of counts this path draws (everything but what
/// happens inside voting machines and their ledgers).
pub fn count_level(kind: &FraudKind) -> bool {
    !matches!(
        kind,
        FraudKind::Flip { .. }
            | FraudKind::Drop { .. }
            | FraudKind::LedgerRewrite { .. }
            | FraudKind::LedgerTruncate { .. }
    )
}

/// Whether a variant's runs take the station-level path under `path`: those whose fraud models
/// (if any) are all [`count_level`].
pub fn applies(path: SimPath, model: &Model) -> bool {
    path == SimPath::Station && model.fraud.iter().all(|f| count_level(&f.kind))
}

/// What the summary's `provenance.path` says: `"ballot"`, `"hybrid"`, `"station"`, or
/// `"station+ballot"` when the station path was asked for but some variants (those with fraud
/// inside machines) ran ballot by ballot.
pub fn path_name(scenario: &Scenario) -> &'static str {
    let path = scenario.montecarlo.path;
    if path != SimPath::Station {
        return path.name();
    }
    let n_station = scenario
        .variants
        .iter()
        .filter(|v| applies(path, &v.model))
        .count();
    if n_station == 0 {
        "ballot"
    } else if n_station == scenario.variants.len() {
        "station"
    } else {
        "station+ballot"
    }
}

/// The three per-station streams of a run, their `(seed, purpose, run)` part folded once: the
/// same generators as [`stream`]`(seed, purpose, run, station)`, which the ballot path uses.
struct StationStreams {
    turnout: RunStreams,
    preference: RunStreams,
    voter_choice: RunStreams,
}

impl StationStreams {
    fn new(seed: u64, run: u64) -> Self {
        StationStreams {
            turnout: RunStreams::new(seed, Purpose::StationTurnout, run),
            preference: RunStreams::new(seed, Purpose::StationPreference, run),
            voter_choice: RunStreams::new(seed, Purpose::VoterChoice, run),
        }
    }
}

/// Simulates a run at station level; results land in `ws` exactly where
/// [`super::ballot::run_election`] puts them, so tabulation and detectors work unchanged.
pub fn run_election(ctx: Context<'_>, run: u64, ws: &mut Workspace) {
    run_counts(ctx, run, ws, false, &|| false);
}

/// Simulates a run on the hybrid path: the station path, except that at each e-enabled
/// station the electronic voters vote ballot by ballot on the station's machine (see
/// [`machine_part`]), so that every electronic ballot is hash-chained and fraud inside
/// machines acts as on the ballot path.
pub fn run_hybrid(ctx: Context<'_>, run: u64, ws: &mut Workspace) {
    run_counts(ctx, run, ws, true, &|| false);
}

/// [`run_election`] (`hybrid` false) or [`run_hybrid`] (true) asking `stop` every
/// [`STOP_EVERY`] stations; `false` when it said to stop (`ws` is then partial).
pub fn run_until(
    ctx: Context<'_>,
    run: u64,
    ws: &mut Workspace,
    hybrid: bool,
    stop: Stop<'_>,
) -> bool {
    run_counts(ctx, run, ws, hybrid, stop)
}

fn run_counts(
    ctx: Context<'_>,
    run: u64,
    ws: &mut Workspace,
    machines: bool,
    stop: Stop<'_>,
) -> bool {
    let mut honest = std::mem::take(&mut ws.honest);
    let done = draw_honest(ctx, run, ws, machines, stop, &mut honest)
        && run_from(ctx, run, ws, &honest, stop);
    ws.honest = honest;
    done
}

/// A run's honest draws at every station, before any fraud: the counts [`station`] draws (on
/// the hybrid path the paper part and the number of electronic voters), and at each e-enabled
/// station on the hybrid path its voter stream where the machine part goes on and its list
/// preferences. They depend on the run, the seed and the variant's honest model only (every
/// stream is keyed by `(seed, purpose, run, station)`), so variants that differ only in their
/// fraud models draw them once per run ([`draw_honest`]) and each applies its fraud from them
/// ([`run_from`]): the same result as [`run_until`], draw for draw.
#[derive(Default)]
pub struct HonestDraws {
    counts: StationCounts,
    /// The voter stream after [`station`], per e-enabled station in station order (hybrid).
    voters: Vec<StreamRng>,
    /// Station preference weights, `n_parties` per e-enabled station in station order.
    pref: Vec<f64>,
    appeal: Vec<f64>,
    appeal_offset: Vec<usize>,
    /// Each e-enabled station's machine as its voters leave it when no fraud touches it (hybrid):
    /// ballots, list totals (`n_parties + 1` each) and district totals (from `district_at`);
    /// its chain is hashed once, by [`draw_honest`].
    machine_ballots: Vec<u32>,
    machine_list: Vec<u32>,
    machine_district: Vec<u32>,
    district_at: Vec<usize>,
    receipts: u64,
    codes: u64,
    machines: bool,
    run: u64,
    stations: usize,
    /// Casts again the ballots of machines no fraud touches instead of replaying them (tests).
    #[cfg(test)]
    no_replay: bool,
}

/// Every part of a model but its fraud, as text: two variants draw the same honest run
/// ([`HonestDraws`]) when their keys are equal — equal in everything but their fraud models,
/// their electorates are equal too, being built from the model and the seed (the Debug text of
/// an `f64` round-trips, so equal text is equal values).
pub fn honest_key(m: &Model) -> String {
    let honest = Model {
        fraud: Vec::new(),
        ..m.clone()
    };
    format!("{honest:?}")
}

/// Draws run `run`'s honest counts at every station into `out` (see [`HonestDraws`]), on the
/// hybrid path (`machines`) or the station path; `false` if `stop` said to stop.
pub fn draw_honest(
    ctx: Context<'_>,
    run: u64,
    ws: &mut Workspace,
    machines: bool,
    stop: Stop<'_>,
    out: &mut HonestDraws,
) -> bool {
    draw_honest_with(ctx, run, ws, machines, stop, out, &mut |_, _| {})
}

/// [`draw_honest`], calling `closed(station, machine)` as each machine closes (on the
/// hybrid path), as `sim::ballot::run_election` does: with [`LedgerMode::LogOnly`] the closed
/// machine holds its voters' ballots in order, unhashed, for a caller that chains them itself
/// (`bench::chained_election`).
///
/// [`LedgerMode::LogOnly`]: super::LedgerMode::LogOnly
pub fn draw_honest_with(
    ctx: Context<'_>,
    run: u64,
    ws: &mut Workspace,
    machines: bool,
    stop: Stop<'_>,
    out: &mut HonestDraws,
    closed: &mut dyn FnMut(usize, &VotingMachine),
) -> bool {
    let e = ctx.electorate;
    let k = e.n_parties;
    ws.counts.reset(e);
    ws.station.invalid.prepare(ctx.model.ballots.invalid_rate);
    ws.station.loyalty.prepare(ctx.model.candidates.loyalty);
    draw_appeals(ctx, run, ws);
    let (mut receipts, mut codes) = (0u64, 0u64);
    let streams = StationStreams::new(ctx.seed, run);
    out.voters.clear();
    out.pref.clear();
    out.machine_ballots.clear();
    out.machine_list.clear();
    out.machine_district.clear();
    out.district_at.clear();
    out.district_at.push(0);
    ws.lockstep.clear();
    for i in 0..e.stations.len() {
        if i.is_multiple_of(STOP_EVERY) && stop() {
            return false;
        }
        let on_machine = machines && e.stations[i].evoting;
        let rng = station(ctx, &streams, i, ws, on_machine);
        let electronic = ws.counts.electronic[i] as f64;
        receipts += crate::stats::round_u64(ctx.receipt_rate * electronic);
        codes += crate::stats::round_u64(ctx.control_code_rate * electronic);
        if on_machine {
            out.voters.push(rng.clone());
            out.pref.extend_from_slice(&ws.pref[..k]);
            honest_machine(ctx, run, i, rng, ws, out);
            closed(i, &ws.machine);
        }
    }
    ws.lockstep.flush();
    std::mem::swap(&mut out.counts, &mut ws.counts);
    std::mem::swap(&mut out.appeal, &mut ws.appeal);
    std::mem::swap(&mut out.appeal_offset, &mut ws.appeal_offset);
    out.receipts = receipts;
    out.codes = codes;
    out.machines = machines;
    out.run = run;
    out.stations = e.stations.len();
    true
}

/// Finishes run `run` of the variant of `ctx` from its honest draws (made by [`draw_honest`]
/// for this run with a variant of the same honest model, see [`honest_key`]): the machines'
/// ballots, every fraud, protocols and districts, into `ws`; `false` if `stop` said to stop.
pub fn run_from(
    ctx: Context<'_>,
    run: u64,
    ws: &mut Workspace,
    honest: &HonestDraws,
    stop: Stop<'_>,
) -> bool {
    let e = ctx.electorate;
    let k = e.n_parties;
    debug_assert!(honest.run == run && honest.stations == e.stations.len());
    let machines = honest.machines;
    ws.reset(e);
    // the paper record is kept on the hybrid path only (the station path draws no machine)
    ws.reset_paper(e, ctx.paper_record && machines);
    ws.counts.clone_from(&honest.counts);
    ws.appeal.clone_from(&honest.appeal);
    ws.appeal_offset.clone_from(&honest.appeal_offset);
    let fraud = !ctx.model.fraud.is_empty();
    ws.lockstep.clear();
    let mut m = 0;
    for i in 0..e.stations.len() {
        if i.is_multiple_of(STOP_EVERY) && stop() {
            return false;
        }
        let on_machine = machines && e.stations[i].evoting;
        if !fraud && !on_machine {
            continue;
        }
        let mut frng = stream(ctx.seed, Purpose::Fraud, run, i as u64);
        ctx.targeted(i, &mut frng, &mut ws.targeted);
        let machine = on_machine.then(|| {
            let fraud_here = machine_fraud(ctx, i, &ws.targeted);
            let (bf, t) = &fraud_here;
            let touched = !bf.is_none() || t.is_some() || stuffs_machine(ctx, &ws.targeted);
            #[cfg(test)]
            let touched = touched || honest.no_replay;
            let mut tamper = None;
            if touched {
                let mut rng = honest.voters[m].clone();
                ws.pref.clear();
                ws.pref.extend_from_slice(&honest.pref[m * k..(m + 1) * k]);
                let mut crng = stream(ctx.seed, Purpose::Checks, run, i as u64);
                let streams = (&mut rng, &mut frng, &mut crng);
                let t = machine_part(ctx, run, i, fraud_here, streams, ws);
                tamper = t.map(|t| (t, crng));
            } else {
                // as its voters left it in the honest draws, hashed there
                replay_machine(ctx, i, m, honest, ws);
            }
            m += 1;
            tamper
        });
        if fraud {
            keep_truth(e, i, ws);
            if on_machine {
                add_machine_truth(e, i, ws);
            }
            station_fraud(ctx, i, &mut frng, ws, on_machine);
        }
        if let Some(tamper) = machine {
            close_machine(ctx, i, tamper, ws);
        }
    }
    ws.lockstep.flush();
    ws.checks.receipts_checked = honest.receipts;
    ws.checks.control_codes_checked = honest.codes;
    paper_as_counted(e, ws);
    if !fraud {
        ws.truth.clone_from(&ws.counts);
    }
    ws.reported.clone_from(&ws.counts);
    if fraud {
        for i in 0..e.stations.len() {
            protocol_fraud(ctx, run, i, ws);
        }
    }
    finish_districts(ctx, run, ws, true, false);
    true
}

/// The honest machine of e-enabled station `i` (no fraud model acts): its voters' ballots on
/// the machine from their stream `rng`, the chain left to `ws.lockstep`, its totals kept in
/// `out` for the variants whose fraud leaves this machine alone ([`replay_machine`]).
fn honest_machine(
    ctx: Context<'_>,
    run: u64,
    i: usize,
    mut rng: StreamRng,
    ws: &mut Workspace,
    out: &mut HonestDraws,
) {
    // with no model acting, the fraud and check streams are never drawn from
    let (mut idle_f, mut idle_c) = (rng.clone(), rng.clone());
    let none = (BallotFraud::default(), None);
    let streams = (&mut rng, &mut idle_f, &mut idle_c);
    let tamper = machine_part(ctx, run, i, none, streams, ws);
    debug_assert!(tamper.is_none());
    ws.machine.close_into(&mut ws.lockstep);
    let m = &ws.machine;
    out.machine_ballots.push(m.n_ballots);
    out.machine_list.extend_from_slice(&m.list);
    out.machine_district.extend_from_slice(&m.district);
    out.district_at.push(out.machine_district.len());
}

/// Station `i`'s machine (the `m`-th e-enabled station) as [`honest_machine`] left it, for a
/// variant whose fraud does not touch it: the same totals and voters' choices, the same paper
/// trail; its chain was hashed with the honest draws.
fn replay_machine(ctx: Context<'_>, i: usize, m: usize, honest: &HonestDraws, ws: &mut Workspace) {
    let k = ctx.electorate.n_parties;
    let list = &honest.machine_list[m * (k + 1)..(m + 1) * (k + 1)];
    let district = &honest.machine_district[honest.district_at[m]..honest.district_at[m + 1]];
    let n_cand = district.len() - 1;
    ws.machine
        .open_as(honest.machine_ballots[m], list, district);
    open_trail(ctx, i, n_cand, ws);
    let s = &mut ws.station;
    s.truth_list.clear();
    s.truth_list.extend_from_slice(&list[..k]);
    s.truth_cand.clear();
    s.truth_cand.extend_from_slice(&district[..n_cand]);
}

/// Whether a model targeted at an e-enabled station stuffs ballots through its machine.
fn stuffs_machine(ctx: Context<'_>, targeted: &[bool]) -> bool {
    ctx.model.fraud.iter().zip(targeted).any(|(f, &t)| {
        t && matches!(
            f.kind,
            FraudKind::Stuffing {
                via_machine: true,
                ..
            }
        )
    })
}

/// The machine part of e-enabled station `i` on the hybrid path, ballot by ballot as on the
/// ballot path: the station's `electronic` voters (drawn by [`station`]) each choose a list by
/// the station's preferences and a district candidate (the nominee of their party with
/// probability `loyalty`, else by appeal), on `rng`; pressure, dropped and flipped votes act
/// on the `Fraud` stream `frng` and voters' checks on the `Checks` stream, as in
/// `station_round1`; each ballot is recorded on the opened machine (hash-chained). What the
/// voters chose is kept in the scratch space for the truth. `bf` and `tamper` are the machine
/// fraud of the models targeted here ([`machine_fraud`]); returns `tamper`, the ledger
/// tampering to apply after close, if any.
fn machine_part(
    ctx: Context<'_>,
    run: u64,
    i: usize,
    (bf, tamper): (BallotFraud, Option<LedgerTamper>),
    (rng, frng, crng): (&mut StreamRng, &mut StreamRng, &mut StreamRng),
    ws: &mut Workspace,
) -> Option<LedgerTamper> {
    let e = ctx.electorate;
    let st = e.stations[i];
    let k = e.n_parties;
    let district = st.district.map(|d| &e.districts[d as usize]);
    let n_cand = district.map_or(0, |d| d.candidates.len());
    open_machine(ctx, run, i, n_cand, tamper.is_some(), ws);
    if tamper.is_none() {
        // nothing reads this machine's head before the run ends: hash beside other machines
        ws.machine.defer_hashing();
    }
    cumulative(ws.pref.iter().copied(), &mut ws.list_cum);
    if let Some(d) = st.district {
        let off = ws.appeal_offset[d as usize];
        let appeal = ws.appeal[off..off + n_cand].iter().copied();
        cumulative(appeal, &mut ws.free_cum);
    }
    let loyal_thr = threshold(ctx.model.candidates.loyalty);
    let rates = CheckRates {
        receipt: threshold(ctx.receipt_rate),
        code: threshold(ctx.control_code_rate),
    };
    let s = &mut ws.station;
    s.truth_list.clear();
    s.truth_list.resize(k, 0);
    s.truth_cand.clear();
    s.truth_cand.resize(n_cand, 0);
    for _ in 0..ws.counts.electronic[i] {
        let party = pick(&ws.list_cum, rng.next_u64());
        let mut cand = INVALID_DISTRICT;
        if let Some(d) = district {
            let loyal = rng.next_u64() < loyal_thr;
            let free = pick(&ws.free_cum, rng.next_u64());
            cand = match (loyal, d.nominee[party]) {
                (true, Some(c)) => c,
                _ => free as u16,
            };
            s.truth_cand[cand as usize] += 1;
        }
        s.truth_list[party] += 1;
        let mut cast = party;
        if bf.pressure.0 > 0 && party != bf.pressure.1 && frng.next_u64() < bf.pressure.0 {
            cast = bf.pressure.1;
        }
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
        cast_electronic(out, &bf, ballot, frng, crng, rates);
    }
    tamper
}

/// Adds the choices of station `i`'s electronic voters (kept by [`machine_part`]) to its
/// truth, which [`keep_truth`] filled with the paper part.
fn add_machine_truth(e: &Electorate, i: usize, ws: &mut Workspace) {
    let w = e.n_parties + 1;
    let s = &ws.station;
    for (t, v) in ws.truth.list[i * w..].iter_mut().zip(&s.truth_list) {
        *t += v;
    }
    let (from, to) = station_candidates(e, i);
    for (t, v) in ws.truth.district[from..to].iter_mut().zip(&s.truth_cand) {
        *t += v;
    }
}

/// Closes station `i`'s machine and adds its totals to the count (as the commission does on
/// the ballot path), then tampers with its ledger if a model says so.
fn close_machine(
    ctx: Context<'_>,
    i: usize,
    tamper: Option<(LedgerTamper, StreamRng)>,
    ws: &mut Workspace,
) {
    let e = ctx.electorate;
    let k = e.n_parties;
    let w = k + 1;
    if tamper.is_some() {
        ws.machine.close();
    } else {
        ws.machine.close_into(&mut ws.lockstep);
    }
    let (from, to) = station_candidates(e, i);
    let n_cand = to - from;
    for (p, v) in ws.machine.list.iter().enumerate() {
        ws.counts.list[i * w + p.min(k)] += v;
    }
    for (c, v) in ws.machine.district.iter().enumerate() {
        if c < n_cand {
            ws.counts.district[from + c] += v;
        } else {
            ws.counts.district_invalid[i] += v;
        }
    }
    record_paper(e, i, ws);
    if let Some((tamper, mut crng)) = tamper {
        rewrite_ledger(ctx, ws, i, tamper, threshold(ctx.receipt_rate), &mut crng);
    }
}

/// Copies station `i`'s honest counts, just drawn, into the truth.
fn keep_truth(e: &Electorate, i: usize, ws: &mut Workspace) {
    let w = e.n_parties + 1;
    let (c, t) = (&ws.counts, &mut ws.truth);
    t.issued[i] = c.issued[i];
    t.electronic[i] = c.electronic[i];
    t.district_invalid[i] = c.district_invalid[i];
    t.list[i * w..(i + 1) * w].copy_from_slice(&c.list[i * w..(i + 1) * w]);
    let (from, to) = station_candidates(e, i);
    t.district[from..to].copy_from_slice(&c.district[from..to]);
}

/// The range of station `i`'s district candidates in the flat district arrays.
fn station_candidates(e: &Electorate, i: usize) -> (usize, usize) {
    let n_cand = e.stations[i]
        .district
        .map_or(0, |d| e.districts[d as usize].candidates.len());
    let off = e.candidate_offset[i] as usize;
    (off, off + n_cand)
}

/// Voter- and station-level fraud on station `i`'s counts, drawn as counts (see the module
/// doc): which models act was decided by the ballot path's draws on the station's `Fraud`
/// stream `frng` (in `ws.targeted`); the rest of that stream draws what they do. With
/// `on_machine` (the hybrid path at an e-enabled station) the counts are the paper part only,
/// pressure on electronic voters has acted ballot by ballot, and ballots stuffed through the
/// machine are recorded on it.
fn station_fraud(
    ctx: Context<'_>,
    i: usize,
    frng: &mut StreamRng,
    ws: &mut Workspace,
    on_machine: bool,
) {
    let e = ctx.electorate;
    let st = e.stations[i];
    let k = e.n_parties;
    let w = k + 1;
    if !ws.targeted.iter().any(|&x| x) {
        return;
    }
    ws.trace.stations_hit += 1;
    let fraud = &ctx.model.fraud;
    let acting = |j: usize| ws.targeted[j];
    // pressure: on the ballot path the last targeted pressure model sets the one threshold
    let pressure =
        (0..fraud.len())
            .rev()
            .filter(|&j| acting(j))
            .find_map(|j| match fraud[j].kind {
                FraudKind::Pressure { share } => Some((share, fraud[j].beneficiary as usize)),
                _ => None,
            });
    let row = &mut ws.counts.list[i * w..(i + 1) * w];
    if let Some((share, b)) = pressure {
        for p in 0..k {
            if p != b {
                let moved = binomial(frng, row[p], share);
                row[p] -= moved;
                row[b] += moved;
            }
        }
    }
    // stuffing and carousel voting, in scenario order, each on the issued count so far
    let district = st.district.map(|d| &e.districts[d as usize]);
    let (c_off, _) = station_candidates(e, i);
    let mut issued = ws.counts.issued[i];
    for (j, f) in fraud.iter().enumerate() {
        if !ws.targeted[j] {
            continue;
        }
        let (extra, via_machine) = match f.kind {
            FraudKind::Stuffing { rate, via_machine } => (
                binomial(frng, st.n_registered.saturating_sub(issued), rate),
                via_machine && st.evoting,
            ),
            FraudKind::Carousel { rate } => (binomial(frng, st.n_registered, rate), false),
            _ => continue,
        };
        let ben = f.beneficiary as usize;
        ws.trace.stuffed += extra as u64;
        issued += extra;
        let nominee = district.and_then(|d| d.nominee[ben]);
        if via_machine {
            ws.counts.electronic[i] += extra;
        }
        if via_machine && on_machine {
            let district = nominee.unwrap_or(INVALID_DISTRICT);
            for _ in 0..extra {
                ws.machine.record(Ballot {
                    list: ben as u8,
                    district,
                });
            }
            continue;
        }
        ws.counts.list[i * w + ben] += extra;
        match (district.is_some(), nominee) {
            (true, Some(c)) => ws.counts.district[c_off + c as usize] += extra,
            // no nominee: a blank district ballot; a machine records "no candidate" even where
            // there is no district tier, which the commission counts as invalid
            (true, None) => ws.counts.district_invalid[i] += extra,
            (false, _) if via_machine => ws.counts.district_invalid[i] += extra,
            (false, _) => {}
        }
    }
    ws.counts.issued[i] = issued;
}

/// Draws station `i`'s counts into `ws.counts` and returns the station's voter stream. With
/// `on_machine` only the number of electronic voters is drawn, not their votes (the hybrid
/// path's [`machine_part`] casts them on the machine next, from the returned stream).
fn station(
    ctx: Context<'_>,
    streams: &StationStreams,
    i: usize,
    ws: &mut Workspace,
    on_machine: bool,
) -> StreamRng {
    let e: &Electorate = ctx.electorate;
    let st = e.stations[i];
    let k = e.n_parties;
    let mut noise = streams.turnout.stream(i as u64);
    let (t, dev) = e.station_turnout_with(i, &mut noise, exp);
    let mut noise = streams.preference.stream(i as u64);
    ws.pref.resize(k, 0.0);
    // weights, not shares: the multinomials normalise as they go
    e.station_weights_with(i, &mut noise, dev, &mut ws.pref, exp);

    let b = &ctx.model.ballots;
    // one stream for every voter-level draw (the ballot path's `VoterTurnout` stream would
    // serve one draw here, and setting up a stream costs about as much as a small binomial)
    let mut rng = streams.voter_choice.stream(i as u64);
    let issued = binomial(&mut rng, st.n_registered, t);
    let uptake = if st.evoting { b.evoting_uptake } else { 0.0 };
    let electronic = binomial(&mut rng, issued, uptake);
    let paper = issued - electronic;
    let r = b.invalid_rate;

    let s = &mut ws.station;
    s.by_party_e.resize(k, 0);
    s.by_party_p.resize(k, 0);
    let drawn_electronic = if on_machine { 0 } else { electronic };
    multinomial(&mut rng, drawn_electronic, &ws.pref, &mut s.by_party_e);
    multinomial(&mut rng, paper, &ws.pref, &mut s.by_party_p);

    let w = k + 1;
    let list_row = &mut ws.counts.list[i * w..(i + 1) * w];
    let mut district_invalid = 0u32;
    // paper ballots only: each spoiled (list, and independently district) with rate r
    s.spoiled_list.resize(k, 0);
    s.spoiled_district.resize(k, 0);
    thin_with(
        &mut rng,
        &s.by_party_p,
        r,
        |rng, n| s.invalid.draw(rng, n),
        &mut s.spoiled_list,
        &mut s.left,
    );
    for p in 0..k {
        let spoiled = s.spoiled_list[p];
        list_row[p] = s.by_party_e[p] + s.by_party_p[p] - spoiled;
        list_row[k] += spoiled;
    }
    match st.district {
        None => {
            // the machine records "no candidate" on every ballot; the commission counts those
            // as invalid district ballots (as `station_round1` does)
            district_invalid = drawn_electronic;
        }
        Some(d) => {
            let district = &e.districts[d as usize];
            let n_cand = district.candidates.len();
            let off = ws.appeal_offset[d as usize];
            s.appeal.clear();
            s.appeal.extend_from_slice(&ws.appeal[off..off + n_cand]);
            s.free.resize(n_cand, 0);
            let c_off = e.candidate_offset[i] as usize;
            let dist_row = &mut ws.counts.district[c_off..c_off + n_cand];
            let mut pool = 0u32;
            thin_with(
                &mut rng,
                &s.by_party_p,
                r,
                |rng, n| s.invalid.draw(rng, n),
                &mut s.spoiled_district,
                &mut s.left,
            );
            for p in 0..k {
                let (ev, pv) = (s.by_party_e[p], s.by_party_p[p]);
                let spoiled_district = s.spoiled_district[p];
                district_invalid += spoiled_district;
                let valid = ev + pv - spoiled_district;
                match district.nominee[p] {
                    Some(c) => {
                        let loyal = s.loyalty.draw(&mut rng, valid);
                        dist_row[c as usize] += loyal;
                        pool += valid - loyal;
                    }
                    None => pool += valid,
                }
            }
            multinomial(&mut rng, pool, &s.appeal, &mut s.free);
            for (v, f) in dist_row.iter_mut().zip(&s.free) {
                *v += f;
            }
        }
    }
    ws.counts.issued[i] = issued;
    ws.counts.electronic[i] = electronic;
    ws.counts.district_invalid[i] = district_invalid;
    rng
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{FraudPlan, LedgerMode};

    /// Everything a run leaves in the workspace that anyone reads.
    fn produced(ws: &Workspace) -> String {
        format!(
            "{:?}",
            (
                &ws.counts,
                &ws.truth,
                &ws.reported,
                &ws.paper,
                &ws.districts,
                &ws.truth_districts,
                &ws.trace,
                &ws.checks,
                &ws.ledgers,
            )
        )
    }

    #[test]
    fn machines_no_fraud_touches_replay_what_their_voters_cast() {
        // every Kazakhstan VVPAT variant (paper record kept, printing machines, flips, drops,
        // rewritten ledgers, stuffing): replaying the honest machines gives the run that
        // casting their ballots again gives
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/scenarios/kazakhstan-2004-vvpat.toml"
        );
        let s = crate::scenario::load(std::path::Path::new(path)).unwrap();
        let mut ws = Workspace::default();
        let mut replayed = 0;
        for (v, variant) in s.variants.iter().enumerate() {
            let e = Electorate::build(&variant.model, s.parties.len(), 5);
            let plan = FraudPlan::new(&variant.model, &e);
            let ctx = Context::new(&s, v, &e, &plan, 5, LedgerMode::Chain);
            assert!(ctx.paper_record);
            for run in 0..2 {
                let mut honest = HonestDraws::default();
                assert!(draw_honest(ctx, run, &mut ws, true, &|| false, &mut honest));
                assert!(run_from(ctx, run, &mut ws, &honest, &|| false));
                let with_replay = produced(&ws);
                honest.no_replay = true;
                assert!(run_from(ctx, run, &mut ws, &honest, &|| false));
                assert_eq!(with_replay, produced(&ws), "{} run {run}", variant.name);
                replayed += 1;
            }
        }
        assert!(replayed >= 10, "{replayed}");
    }
}
