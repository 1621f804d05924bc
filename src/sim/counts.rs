//! What a run produces, per station and per district: the counts (truth, count, protocols),
//! district results, what fraud did and what voters' and auditors' checks found, and the
//! per-thread [`Workspace`] that holds them.

use super::machine::{Lockstep, VotingMachine};
use crate::distr::BinomialTable;
use crate::electorate::Electorate;

/// What fraud did in a run: ground truth for the summary and the package's `truth/`, never
/// shown to a detector.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FraudTrace {
    /// Stations where at least one fraud model acted.
    pub stations_hit: u32,
    pub flipped: u64,
    pub dropped: u64,
    pub stuffed: u64,
    /// Ballot entries rewritten after close.
    pub rewritten: u64,
    /// Ledgers rewritten or truncated after close.
    pub ledgers_tampered: u32,
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
    }
}

/// What voters' own checks found in a run — observations a detector may read: whether some
/// voter who checked a receipt or a control code saw something other than their vote (a voter
/// knows their own choice; the simulator plays each check), and how many checks were made.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Checks {
    /// Whether some voter who looked up their receipt found it altered or missing.
    pub receipt_complaint: bool,
    /// Whether some voter who checked their control code found another choice beside it.
    pub control_code_complaint: bool,
    /// Receipts and control codes checked (expected count, the cost).
    pub receipts_checked: u64,
    pub control_codes_checked: u64,
    /// Whether some voter who looked at their printed paper record (VVPAT) found it wrong or
    /// missing and complained.
    #[serde(default)]
    pub vvpat_complaint: bool,
    /// Printed records looked at (expected count, the cost).
    #[serde(default)]
    pub vvpat_looked: u64,
}

impl Checks {
    fn add(&mut self, o: &Checks) {
        self.receipt_complaint |= o.receipt_complaint;
        self.control_code_complaint |= o.control_code_complaint;
        self.receipts_checked += o.receipts_checked;
        self.control_codes_checked += o.control_codes_checked;
        self.vvpat_complaint |= o.vvpat_complaint;
        self.vvpat_looked += o.vvpat_looked;
    }
}

/// A machine's ledger as published when it is not the file the machine sealed at close (it was
/// rewritten or truncated afterwards), with the head published for it. Ledgers published as
/// sealed are not carried: they verify clean by construction (tested in `ledger`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublishedLedger {
    pub station: u32,
    pub bytes: Vec<u8>,
    /// The head published for this machine, if heads are published (what an audit checks the
    /// file against).
    pub head: Option<crate::ledger::PublishedHead>,
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
    pub(super) fn reset(&mut self, e: &Electorate) {
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

/// Reusable buffers for one thread, and what the last run produced. The simulator fills it;
/// outside [`crate::sim`] it is read through two views that keep the truth apart from what is
/// published: [`Workspace::published`] (all a detector may see) and [`Workspace::truth`].
#[derive(Default)]
pub struct Workspace {
    /// What was in the ballot boxes and machines, as counted at each station.
    pub(super) counts: StationCounts,
    /// What voters chose (intent): the truth fraud is measured against.
    pub(super) truth: StationCounts,
    /// Station protocols as written by the commissions (after protocol-level fraud).
    pub(super) reported: StationCounts,
    /// District results from the reported protocols (as district commissions publish them).
    pub(super) districts: Vec<DistrictResult>,
    /// District results from the truth.
    pub(super) truth_districts: Vec<DistrictResult>,
    pub(super) trace: FraudTrace,
    pub(super) checks: Checks,
    /// Ledgers published other than as sealed, in station order.
    pub(super) ledgers: Vec<PublishedLedger>,
    /// The paper record: what an auditor would find in each station's sealed boxes (paper
    /// ballots, stuffed ones included, and the records printing machines printed); empty unless
    /// the run keeps it (`Context::paper_record`) on the ballot or hybrid path.
    pub(super) paper: StationCounts,
    /// The current station's printed records as they differ from its machine's.
    pub(super) trail: PaperTrail,
    /// Appeal of every district candidate in this run, flat by district.
    pub(super) appeal: Vec<f64>,
    pub(super) appeal_offset: Vec<usize>,
    /// The current station's list preferences: shares on the ballot path, unnormalised
    /// weights on the station path (its multinomials normalise as they go).
    pub(super) pref: Vec<f64>,
    pub(super) list_cum: Vec<u64>,
    pub(super) free_cum: Vec<u64>,
    pub(super) targeted: Vec<bool>,
    pub(super) machine: VotingMachine,
    /// The hybrid path's machines waiting to be hashed together at the end of the run.
    pub(super) lockstep: Lockstep,
    /// Scratch space of the station path.
    pub(super) station: StationScratch,
    /// Workspaces of the blocks of stations in [`super::run_election_split`].
    pub(super) parts: Vec<Workspace>,
    /// The station and hybrid paths' honest draws of the current run.
    pub(super) honest: super::station::HonestDraws,
}

/// What a run publishes and what observers and voters see — everything a detector may read,
/// and nothing of the truth (no intent, no trace of what fraud did).
#[derive(Clone, Copy)]
pub struct Published<'a> {
    /// Station protocols as published.
    pub protocols: &'a StationCounts,
    /// The count at each station as an observer present at the count sees it (ballot boxes and
    /// machines' totals, before commissions write the protocol).
    pub observed: &'a StationCounts,
    /// District results as district commissions publish them.
    pub districts: &'a [DistrictResult],
    /// Ledgers published other than as sealed at close.
    pub ledgers: &'a [PublishedLedger],
    /// What voters' checks of receipts, control codes and printed records found.
    pub checks: &'a Checks,
    /// The paper record an audit reads (ballot boxes and printed records), when the run kept
    /// one; stations whose voters left no paper (machines that do not print) have fewer papers
    /// than ballots.
    pub paper: Option<&'a StationCounts>,
}

/// The truth of a run: what voters chose, the districts it decides, and what fraud did.
#[derive(Clone, Copy)]
pub struct Truth<'a> {
    pub counts: &'a StationCounts,
    pub districts: &'a [DistrictResult],
    pub trace: &'a FraudTrace,
}

impl Workspace {
    /// What the last run published (see [`Published`]).
    pub fn published(&self) -> Published<'_> {
        Published {
            protocols: &self.reported,
            observed: &self.counts,
            districts: &self.districts,
            ledgers: &self.ledgers,
            checks: &self.checks,
            paper: (!self.paper.issued.is_empty()).then_some(&self.paper),
        }
    }

    /// The truth of the last run (see [`Truth`]).
    pub fn truth(&self) -> Truth<'_> {
        Truth {
            counts: &self.truth,
            districts: &self.truth_districts,
            trace: &self.trace,
        }
    }

    /// Clears what a run produces before the next one (counts sized for `e`).
    pub(super) fn reset(&mut self, e: &Electorate) {
        self.counts.reset(e);
        self.truth.reset(e);
        self.trace = FraudTrace::default();
        self.checks = Checks::default();
        self.ledgers.clear();
        self.paper.issued.clear();
    }

    /// Sizes the paper record for `e` when the run keeps one (after [`Workspace::reset`]).
    pub(super) fn reset_paper(&mut self, e: &Electorate, keep: bool) {
        if keep {
            self.paper.reset(e);
        }
    }

    /// Adds what another block of stations of the same run produced (blocks fill disjoint
    /// stations; blocks are added in station order, so ledgers stay in station order).
    pub(super) fn add_block(&mut self, b: &Workspace) {
        self.counts.add(&b.counts);
        self.truth.add(&b.truth);
        self.trace.add(&b.trace);
        self.checks.add(&b.checks);
        self.paper.add(&b.paper);
        self.ledgers.extend(b.ledgers.iter().cloned());
    }
}

/// A station's printed records as they differ from its machine's record (paper minus record),
/// and the thresholds of voters' looks at them; see `ballot::cast_electronic`.
#[derive(Clone, Debug, Default)]
pub struct PaperTrail {
    /// Whether the station's machine prints.
    pub(super) prints: bool,
    pub(super) look_rate: f64,
    pub(super) look: u64,
    pub(super) complain: u64,
    pub(super) recast: bool,
    /// A rigged machine prints what the voter chose (else what it recorded).
    pub(super) chosen: bool,
    /// Per list choice (parties, then invalid) and per district candidate (then invalid).
    pub(super) list: Vec<i64>,
    pub(super) district: Vec<i64>,
}

/// Counts the printed records voters looked at, and writes station `i`'s paper record (when the run keeps one) from its count: the count's rows
/// (paper ballots, stuffed ones included, and the machine's totals if any) with the machine's
/// part replaced by what it printed — its record corrected by `ws.trail` if it prints, nothing
/// if it does not. Called when the machine's totals have just been added, before anyone
/// tampers with its ledger (which changes the count, never the paper).
pub(super) fn record_paper(e: &Electorate, i: usize, ws: &mut Workspace) {
    if ws.trail.prints {
        let looked = ws.trail.look_rate * f64::from(ws.machine.n_ballots);
        ws.checks.vvpat_looked += crate::stats::round_u64(looked);
    }
    if ws.paper.issued.is_empty() {
        return;
    }
    let w = e.n_parties + 1;
    let (off, n_cand) = copy_count_to_paper(e, i, ws);
    let (c, p) = (&ws.counts, &mut ws.paper);
    p.electronic[i] = c.electronic[i];
    if !e.stations[i].evoting {
        return;
    }
    let m = &ws.machine;
    let t = &ws.trail;
    let adjust = |x: &mut u32, record: u32, delta: i64| {
        let printed = if t.prints {
            i64::from(record) + delta
        } else {
            0
        };
        *x = (i64::from(*x) - i64::from(record) + printed).max(0) as u32;
    };
    let k = e.n_parties;
    for p_idx in 0..w {
        let record = if p_idx < k {
            m.list.get(p_idx).copied().unwrap_or(0)
        } else {
            m.list.iter().skip(k).sum()
        };
        let delta = t.list.get(p_idx).copied().unwrap_or(0);
        adjust(&mut p.list[i * w + p_idx], record, delta);
    }
    for cand in 0..=n_cand {
        let record = if cand < n_cand {
            m.district.get(cand).copied().unwrap_or(0)
        } else {
            m.district.iter().skip(n_cand).sum()
        };
        let delta = t.district.get(cand).copied().unwrap_or(0);
        if cand < n_cand {
            adjust(&mut p.district[off + cand], record, delta);
        } else {
            adjust(&mut p.district_invalid[i], record, delta);
        }
    }
    let printed: i64 = t.list.iter().sum::<i64>() + i64::from(m.n_ballots);
    p.electronic[i] = if t.prints { printed.max(0) as u32 } else { 0 };
}

/// Copies station `i`'s count into the paper record unchanged (a station without a machine,
/// on the hybrid path, whose rows [`record_paper`] did not write).
pub(super) fn paper_as_counted(e: &Electorate, ws: &mut Workspace) {
    if ws.paper.issued.is_empty() {
        return;
    }
    for (i, st) in e.stations.iter().enumerate() {
        if st.evoting {
            continue;
        }
        copy_count_to_paper(e, i, ws);
    }
}

/// Copies station `i`'s list and district counts, invalid district ballots and issued ballots
/// from the count into the paper record; returns the station's candidate offset and count.
fn copy_count_to_paper(e: &Electorate, i: usize, ws: &mut Workspace) -> (usize, usize) {
    let w = e.n_parties + 1;
    let off = e.candidate_offset[i] as usize;
    let n_cand = e.stations[i]
        .district
        .map_or(0, |d| e.districts[d as usize].candidates.len());
    let (c, p) = (&ws.counts, &mut ws.paper);
    p.list[i * w..(i + 1) * w].copy_from_slice(&c.list[i * w..(i + 1) * w]);
    p.district[off..off + n_cand].copy_from_slice(&c.district[off..off + n_cand]);
    p.district_invalid[i] = c.district_invalid[i];
    p.issued[i] = c.issued[i];
    (off, n_cand)
}

/// The stations of district `d`, a contiguous range of station indices.
pub fn district_stations(e: &Electorate, d: usize) -> std::ops::Range<usize> {
    let district = &e.districts[d];
    let first = district.first_station as usize;
    first..first + district.n_stations as usize
}

/// District `d`'s candidate votes summed over its stations' counts in `counts`: its round-1
/// totals before any tabulation fraud.
pub fn district_protocol_sums(e: &Electorate, counts: &StationCounts, d: usize) -> Vec<u64> {
    let district = &e.districts[d];
    let n_cand = district.candidates.len();
    let mut sums = vec![0u64; n_cand];
    for i in district_stations(e, d) {
        let off = e.candidate_offset[i] as usize;
        for (t, v) in sums.iter_mut().zip(&counts.district[off..off + n_cand]) {
            *t += *v as u64;
        }
    }
    sums
}

/// Per-thread buffers of the station path (inside [`Workspace`]).
#[derive(Clone, Debug, Default)]
pub struct StationScratch {
    /// Electronic and paper voters per list party at the current station.
    pub(super) by_party_e: Vec<u32>,
    pub(super) by_party_p: Vec<u32>,
    /// Normalised appeals of the current station's district candidates.
    pub(super) appeal: Vec<f64>,
    /// Free (non-loyal) district ballots split by appeal.
    pub(super) free: Vec<u32>,
    /// Spoiled list and district ballots per party, and a working copy of counts.
    pub(super) spoiled_list: Vec<u32>,
    pub(super) spoiled_district: Vec<u32>,
    pub(super) left: Vec<u32>,
    /// The hybrid path's electronic voters' choices at the current station: per list party and
    /// per district candidate.
    pub(super) truth_list: Vec<u32>,
    pub(super) truth_cand: Vec<u32>,
    /// Binomials of the invalid rate and of loyalty, the station path's fixed probabilities.
    pub(super) invalid: BinomialTable,
    pub(super) loyalty: BinomialTable,
}
