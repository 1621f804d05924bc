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
use crate::fraud::{
    FraudKind, StationFacts, klimek_intensity, move_share, round_up_share, turnout_round_up,
};
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
    /// Which stations each fraud model may target.
    pub plan: &'a FraudPlan,
    /// Whether heads are published at close (a rewritten ledger is then checked against them).
    pub heads_published: bool,
    /// Probability that an electronic voter checks their receipt / control code.
    pub receipt_rate: f64,
    pub control_code_rate: f64,
}

/// Static eligibility of stations for each fraud model of a variant (area, kind, region,
/// strongholds); the per-run share-of-stations draw happens on election day.
#[derive(Clone, Debug, Default)]
pub struct FraudPlan {
    /// `eligible[j][station]` for fraud model `j`.
    pub eligible: Vec<Vec<bool>>,
}

impl FraudPlan {
    pub fn new(model: &Model, e: &Electorate) -> FraudPlan {
        let eligible = model
            .fraud
            .iter()
            .map(|f| {
                let strong = if f.target.strongholds {
                    e.strongholds(f.beneficiary as usize)
                } else {
                    vec![false; e.stations.len()]
                };
                e.stations
                    .iter()
                    .enumerate()
                    .map(|(i, st)| {
                        f.target.eligible(&StationFacts {
                            region: st.region,
                            urban: st.urban,
                            evoting: st.evoting,
                            stronghold: strong[i],
                        })
                    })
                    .collect()
            })
            .collect();
        FraudPlan { eligible }
    }
}

/// What fraud did in a run and what voters' checks found (ground truth for the summary and the
/// receipt / control-code detectors).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FraudTrace {
    /// Stations where at least one fraud model acted.
    pub stations_hit: u32,
    pub flipped: u64,
    pub dropped: u64,
    pub stuffed: u64,
    /// Ballot entries rewritten after close.
    pub rewritten: u64,
    /// Ledgers rewritten after close, and how many of them `verify` found findings in.
    pub ledgers_tampered: u32,
    pub ledgers_with_findings: u32,
    /// Whether some voter holding an altered receipt checked it.
    pub receipt_caught: bool,
    /// Whether some voter whose recorded choice differs from theirs checked the control code.
    pub control_code_caught: bool,
    /// Expected receipts and control codes checked (cost).
    pub receipts_checked: u64,
    pub control_codes_checked: u64,
}

impl FraudTrace {
    /// Adds the trace of another block of stations of the same run.
    fn add(&mut self, o: &FraudTrace) {
        self.stations_hit += o.stations_hit;
        self.flipped += o.flipped;
        self.dropped += o.dropped;
        self.stuffed += o.stuffed;
        self.rewritten += o.rewritten;
        self.ledgers_tampered += o.ledgers_tampered;
        self.ledgers_with_findings += o.ledgers_with_findings;
        self.receipt_caught |= o.receipt_caught;
        self.control_code_caught |= o.control_code_caught;
        self.receipts_checked += o.receipts_checked;
        self.control_codes_checked += o.control_codes_checked;
    }
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
    pub(crate) fn reset(&mut self, e: &Electorate) {
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

    /// Adds `other` element by element (blocks of stations simulated apart fill disjoint
    /// entries, so the sum is the union).
    fn add(&mut self, other: &StationCounts) {
        for (a, b) in [
            (&mut self.issued, &other.issued),
            (&mut self.electronic, &other.electronic),
            (&mut self.list, &other.list),
            (&mut self.district, &other.district),
            (&mut self.district_invalid, &other.district_invalid),
        ] {
            for (x, y) in a.iter_mut().zip(b) {
                *x += y;
            }
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
    /// What was in the ballot boxes and machines, as counted at each station.
    pub counts: StationCounts,
    /// What voters chose (intent): the truth fraud is measured against.
    pub truth: StationCounts,
    /// Station protocols as written by the commissions (after protocol-level fraud).
    pub reported: StationCounts,
    /// District results from the reported protocols.
    pub districts: Vec<DistrictResult>,
    /// District results from the truth.
    pub truth_districts: Vec<DistrictResult>,
    pub trace: FraudTrace,
    /// Appeal of every district candidate in this run, flat by district.
    pub(crate) appeal: Vec<f64>,
    pub(crate) appeal_offset: Vec<usize>,
    /// The current station's list preferences: shares on the ballot path, unnormalised
    /// weights on the station path (its multinomials normalise as they go).
    pub(crate) pref: Vec<f64>,
    list_cum: Vec<u64>,
    free_cum: Vec<u64>,
    targeted: Vec<bool>,
    machine: VotingMachine,
    /// Scratch space of the station-level fast path.
    pub(crate) fast: crate::fastpath::Scratch,
    /// Workspaces of the blocks of stations in [`run_election_split`].
    parts: Vec<Workspace>,
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
    ws.truth.reset(e);
    ws.trace = FraudTrace::default();
    draw_appeals(ctx, run, ws);
    for i in 0..e.stations.len() {
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
}

/// [`run_election`] without a machine callback, with the stations split into `parts`
/// contiguous blocks simulated in parallel on the current rayon pool, each in its own
/// workspace, then summed. Every station draws from its own streams, so the result is the same
/// whatever `parts` (for one huge election on a many-core machine; each block keeps full-size
/// count arrays, so memory grows with `parts`).
pub fn run_election_split(ctx: Context<'_>, run: u64, ws: &mut Workspace, parts: usize) {
    use rayon::prelude::*;
    let e = ctx.electorate;
    let n = e.stations.len();
    let parts = parts.clamp(1, n.max(1));
    if parts == 1 {
        return run_election(ctx, run, ws, &mut |_, _| {});
    }
    ws.counts.reset(e);
    ws.truth.reset(e);
    ws.trace = FraudTrace::default();
    draw_appeals(ctx, run, ws);
    let mut blocks = std::mem::take(&mut ws.parts);
    blocks.truncate(parts);
    blocks.resize_with(parts, Workspace::default);
    let size = n.div_ceil(parts);
    blocks.par_iter_mut().enumerate().for_each(|(j, b)| {
        b.counts.reset(e);
        b.truth.reset(e);
        b.trace = FraudTrace::default();
        draw_appeals(ctx, run, b);
        for i in j * size..((j + 1) * size).min(n) {
            station_round1(ctx, run, i, b);
        }
    });
    for b in &blocks {
        ws.counts.add(&b.counts);
        ws.truth.add(&b.truth);
        ws.trace.add(&b.trace);
    }
    ws.parts = blocks;
    ws.reported.clone_from(&ws.counts);
    for i in 0..n {
        protocol_fraud(ctx, run, i, ws);
    }
    finish_districts(ctx, run, ws, false, true);
}

/// District results from the reported protocols and from the truth, into `ws`. With
/// `aggregate_runoffs` the second rounds are drawn as district counts
/// ([`crate::fastpath::second_round`]) rather than ballot by ballot. With `parallel` the districts
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

/// Which fraud models act at station `i` in this run: one uniform draw per model from the
/// station's `Fraud` stream (drawn for every model, so targeting of one model does not shift
/// another's), compared with the model's share of eligible stations.
fn targeted(ctx: Context<'_>, i: usize, frng: &mut StreamRng, out: &mut Vec<bool>) {
    out.clear();
    for (j, f) in ctx.model.fraud.iter().enumerate() {
        let u = crate::rng::unit(frng);
        out.push(ctx.plan.eligible[j][i] && u < f.target.stations);
    }
}

/// Per-ballot fraud thresholds active at a station.
#[derive(Default)]
struct BallotFraud {
    pressure: (u64, usize),
    flip: (u64, usize),
    drop: (u64, usize),
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

    // fraud at this station
    let mut frng = stream(seed, Purpose::Fraud, run, i as u64);
    targeted(ctx, i, &mut frng, &mut ws.targeted);
    let mut bf = BallotFraud::default();
    let mut ledger_rewrite = None;
    for (j, f) in ctx.model.fraud.iter().enumerate() {
        if !ws.targeted[j] {
            continue;
        }
        let b = f.beneficiary as usize;
        match f.kind {
            FraudKind::Pressure { share } => bf.pressure = (threshold(share), b),
            FraudKind::Flip { share } if st.evoting => bf.flip = (threshold(share), b),
            FraudKind::Drop { share } if st.evoting => bf.drop = (threshold(share), b),
            FraudKind::LedgerRewrite {
                entries,
                recompute,
                forge_head,
            } if st.evoting => {
                ledger_rewrite = Some(LedgerTamper::Rewrite {
                    entries,
                    recompute,
                    forge_head,
                    ben: b,
                });
            }
            FraudKind::LedgerTruncate { entries, reseal } if st.evoting => {
                ledger_rewrite = Some(LedgerTamper::Truncate { entries, reseal });
            }
            _ => {}
        }
    }
    if ws.targeted.iter().any(|&x| x) {
        ws.trace.stations_hit += 1;
    }

    let mut launch = stream(seed, Purpose::LaunchCode, run, i as u64);
    let genesis = Genesis {
        election_id: ctx.election_id,
        station: i as u32,
        machine: 0,
        launch_code: Genesis::draw_launch_code(&mut launch),
    };
    let mode = match (st.evoting, ledger_rewrite.is_some()) {
        (false, _) => LedgerMode::Off,
        (true, true) => LedgerMode::ChainAndLog,
        (true, false) => ctx.ledger,
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
    let mut crng = stream(seed, Purpose::Checks, run, i as u64);
    let receipt_thr = threshold(ctx.receipt_rate);
    let code_thr = threshold(ctx.control_code_rate);

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
            let party = categorical(&ws.list_cum, vrng.next_u64());
            let spoil_list = vrng.next_u64() < invalid_thr && !is_electronic;
            let mut cand = INVALID_DISTRICT;
            let mut spoil_district = false;
            if let Some(d) = district {
                let loyal = vrng.next_u64() < loyal_thr;
                let free = categorical(&ws.free_cum, vrng.next_u64());
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
                if bf.drop.0 > 0 && cast != bf.drop.1 && frng.next_u64() < bf.drop.0 {
                    // dropped: the voter still gets a (fake) receipt and code
                    ws.trace.dropped += 1;
                    if crng.next_u64() < receipt_thr || crng.next_u64() < code_thr {
                        ws.trace.receipt_caught = true;
                    }
                    continue;
                }
                let mut recorded = cast;
                if bf.flip.0 > 0 && cast != bf.flip.1 && frng.next_u64() < bf.flip.0 {
                    recorded = bf.flip.1;
                    ws.trace.flipped += 1;
                    if crng.next_u64() < code_thr {
                        ws.trace.control_code_caught = true;
                    }
                }
                ws.machine.record(Ballot {
                    list: recorded as u8,
                    district: cand,
                });
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
    ws.trace.receipts_checked += crate::stats::round_u64(ctx.receipt_rate * electronic as f64);
    ws.trace.control_codes_checked +=
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
                binomial(&mut frng, st.n_registered.saturating_sub(issued), rate)
            }
            FraudKind::Carousel { rate } => binomial(&mut frng, st.n_registered, rate),
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
    if let Some(tamper) = ledger_rewrite {
        rewrite_ledger(ctx, ws, i, tamper, receipt_thr, &mut crng);
    }
    ws.counts.issued[i] = issued;
    ws.counts.electronic[i] = electronic;
    ws.counts.district_invalid[i] = district_invalid;
}

/// Binomial(n, p) with the exact sampler of `rand_distr` (n ≤ 2^32).
fn binomial(rng: &mut StreamRng, n: u32, p: f64) -> u32 {
    if n == 0 || p <= 0.0 {
        return 0;
    }
    rand_distr::Binomial::new(n as u64, p.min(1.0))
        .map(|b| b.sample(rng) as u32)
        .unwrap_or(0)
}

/// A change to a machine's ledger after close.
#[derive(Clone, Copy, Debug)]
enum LedgerTamper {
    /// The first `entries` ballots for other lists become the beneficiary's.
    Rewrite {
        entries: u32,
        recompute: bool,
        forge_head: bool,
        ben: usize,
    },
    /// The last `entries` ballots are cut off.
    Truncate { entries: u32, reseal: bool },
}

/// Tampers with a machine's ledger after close (see [`LedgerTamper`]) and changes the machine's
/// totals in the station count to match. The tampered file is verified the way an auditor would
/// — against the head published at close when heads are published, or against the forger's own
/// head when the published head was forged too — and voters holding receipts of changed or
/// removed entries check them with the receipt rate.
fn rewrite_ledger(
    ctx: Context<'_>,
    ws: &mut Workspace,
    i: usize,
    tamper: LedgerTamper,
    receipt_thr: u64,
    crng: &mut StreamRng,
) {
    use crate::ledger::{
        BALLOT_RECORD_LEN, BallotChoice, GENESIS_RECORD_LEN, HEADER_LEN, RECORD_PREFIX_LEN, verify,
        write_ledger,
    };
    let Some(closed) = ws.machine.closed.clone() else {
        return;
    };
    let log = &ws.machine.log;
    let k = ctx.electorate.n_parties;
    let w = k + 1;
    let n_cand = ws.machine.district.len() - 1;
    let honest: Vec<BallotChoice> = log
        .iter()
        .map(|b| BallotChoice::new(b.list, b.district))
        .collect();
    let write = |choices: &[BallotChoice]| -> Option<(Vec<u8>, crate::ledger::Closed)> {
        let mut out = Vec::new();
        write_ledger(
            &mut out,
            &closed.genesis,
            k as u8,
            n_cand as u16,
            choices.iter().copied(),
        )
        .ok()
        .map(|c| (out, c))
    };
    // the tampered bytes, the head the forger would publish, and how many receipts no longer
    // match what is published
    let (bytes, forged_head, affected, forge) = match tamper {
        LedgerTamper::Rewrite {
            entries,
            recompute,
            forge_head,
            ben,
        } => {
            let positions: Vec<usize> = log
                .iter()
                .enumerate()
                .filter(|(_, b)| b.list as usize != ben)
                .map(|(p, _)| p)
                .take(entries as usize)
                .collect();
            let Some(&first) = positions.first() else {
                return;
            };
            ws.trace.rewritten += positions.len() as u64;
            for &p in &positions {
                let from = log[p].list as usize;
                ws.counts.list[i * w + from] -= 1;
                ws.counts.list[i * w + ben] += 1;
            }
            let mut choices = honest.clone();
            for &p in &positions {
                choices[p].list = ben as u8;
            }
            if recompute {
                let Some((bytes, c)) = write(&choices) else {
                    return;
                };
                // every entry from the first change on has a new hash
                (bytes, c.published_head(), log.len() - first, forge_head)
            } else {
                // the honest file with the choice bytes edited in place, every hash kept: only
                // the changed entries' receipts would show it
                let Some((mut bytes, c)) = write(&honest) else {
                    return;
                };
                for &p in &positions {
                    let off =
                        HEADER_LEN + GENESIS_RECORD_LEN + p * BALLOT_RECORD_LEN + RECORD_PREFIX_LEN; // the list byte opens the ballot body
                    if let Some(byte) = bytes.get_mut(off) {
                        *byte = ben as u8;
                    }
                }
                (bytes, c.published_head(), positions.len(), false)
            }
        }
        LedgerTamper::Truncate { entries, reseal } => {
            let cut = (entries as usize).min(log.len());
            if cut == 0 {
                return;
            }
            let keep = log.len() - cut;
            ws.trace.rewritten += cut as u64;
            for b in &log[keep..] {
                ws.counts.list[i * w + (b.list as usize).min(k)] -= 1;
            }
            let (bytes, head) = if reseal {
                let Some((bytes, c)) = write(&honest[..keep]) else {
                    return;
                };
                (bytes, c.published_head())
            } else {
                let Some((mut bytes, c)) = write(&honest) else {
                    return;
                };
                bytes.truncate(HEADER_LEN + GENESIS_RECORD_LEN + keep * BALLOT_RECORD_LEN);
                (bytes, c.published_head())
            };
            (bytes, head, cut, false)
        }
    };
    ws.trace.ledgers_tampered += 1;
    let at_close = closed.published_head();
    let expected = if forge {
        Some(&forged_head)
    } else {
        ctx.heads_published.then_some(&at_close)
    };
    if let Ok(report) = verify(bytes.as_slice(), expected)
        && !report.is_clean()
    {
        ws.trace.ledgers_with_findings += 1;
    }
    for _ in 0..affected {
        if crng.next_u64() < receipt_thr {
            ws.trace.receipt_caught = true;
            break;
        }
    }
    // what is published from now on (an election package writes these bytes)
    ws.machine.rewritten = Some(bytes);
    ws.machine.head_forged = forge;
}

/// Commission-level fraud on station protocols (`ws.reported`, a copy of the count).
fn protocol_fraud(ctx: Context<'_>, run: u64, i: usize, ws: &mut Workspace) {
    if ctx.model.fraud.is_empty() {
        return;
    }
    let e = ctx.electorate;
    let st = &e.stations[i];
    let k = e.n_parties;
    let w = k + 1;
    // a second stream for protocol-level draws, so they do not shift election-day draws
    let mut rng = stream(ctx.seed, Purpose::Fraud, run, (e.stations.len() + i) as u64);
    let mut frng = stream(ctx.seed, Purpose::Fraud, run, i as u64);
    targeted(ctx, i, &mut frng, &mut ws.targeted);
    for (j, f) in ctx.model.fraud.iter().enumerate() {
        if !ws.targeted[j] {
            continue;
        }
        let ben = f.beneficiary as usize;
        let issued = ws.reported.issued[i];
        let row = &mut ws.reported.list[i * w..(i + 1) * w];
        match f.kind {
            FraudKind::Protocol { share } => {
                move_share(&mut row[..k], ben, share);
            }
            FraudKind::Rounding { turnout: false } => {
                let ballots: u64 = row.iter().map(|&v| v as u64).sum();
                round_up_share(&mut row[..k], ben, ballots);
            }
            FraudKind::Rounding { turnout: true } => {
                // ballots written in for the beneficiary until turnout is a whole percent
                let add = turnout_round_up(issued as u64, st.n_registered as u64) as u32;
                row[ben] += add;
                ws.reported.issued[i] += add;
                ws.trace.stuffed += add as u64;
            }
            FraudKind::Klimek {
                incremental,
                extreme,
                alpha,
                theta,
            } => {
                let x = klimek_intensity(&mut rng, incremental, extreme, theta);
                if x > 0.0 {
                    // the counts of the forensics simulator: floor(x·non-voters) stuffed,
                    // round(x^α·opposition) moved
                    let opposition: u64 = (0..k).filter(|&p| p != ben).map(|p| row[p] as u64).sum();
                    let (stuffed, moved) = crate::forensics::stats::klimek::fraud_counts(
                        st.n_registered.saturating_sub(issued) as u64,
                        opposition,
                        x,
                        (alpha * x.ln()).exp(),
                    );
                    let stuffed = stuffed as u32;
                    row[ben] += stuffed;
                    ws.reported.issued[i] += stuffed;
                    ws.trace.stuffed += stuffed as u64;
                    crate::fraud::move_votes(&mut row[..k], ben, moved as u32);
                    if let Some(d) = st.district {
                        let dist = &e.districts[d as usize];
                        match dist.nominee[ben] {
                            Some(c) => {
                                ws.reported.district[e.candidate_offset[i] as usize + c as usize] +=
                                    stuffed
                            }
                            None => ws.reported.district_invalid[i] += stuffed,
                        }
                    }
                }
            }
            _ => {}
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
        let (first, n_cand) = (district.first_station as usize, district.candidates.len());
        (first..first + district.n_stations as usize).all(|i| {
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
                    crate::fastpath::second_round(ctx, run, d, finalists, counts, pair)
                } else {
                    second_round(ctx, run, d, finalists, counts, appeals)
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

/// District `d`'s candidate votes summed over its stations' counts in `counts`: its round-1
/// totals before any tabulation fraud.
pub(crate) fn district_protocol_sums(e: &Electorate, counts: &StationCounts, d: usize) -> Vec<u64> {
    let district = &e.districts[d];
    let n_cand = district.candidates.len();
    let mut sums = vec![0u64; n_cand];
    let first = district.first_station as usize;
    for i in first..first + district.n_stations as usize {
        let off = e.candidate_offset[i] as usize;
        for (t, v) in sums.iter_mut().zip(&counts.district[off..off + n_cand]) {
            *t += *v as u64;
        }
    }
    sums
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
    let first = district.first_station as usize;
    for i in first..first + district.n_stations as usize {
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
