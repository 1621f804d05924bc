//! Election packages: one simulated election written the way an election commission would
//! publish it (ballot ledgers, published heads, station protocols, aggregates, voters' receipts)
//! plus the ground truth kept apart, and the audit that checks such a package.
//!
//! **Owns**: the package's data model ([`Manifest`], [`StationProtocol`], [`HeldReceipt`]), the
//! text formats of its files (`docs/package-format.md`: `manifest.json`, `protocols.csv`,
//! `aggregates.csv`, `receipts.csv`, `truth/*.csv`; ledgers and `heads.txt` are the ledger
//! module's formats), [`simulate`] (one ballot-level election to a package) and [`audit`].
//! **Never**: opens, names or renames files — every function takes `Read`/`Write` or text and
//! the caller (the CLI) maps them to paths; never reads a clock or the environment; never panics
//! on bad input (a malformed package yields findings, not errors).

mod audit;
mod election;
mod formats;
pub mod paper;
pub mod rla;

pub use audit::{
    AuditFinding, AuditInput, AuditReport, CHECKS, Checked, LedgerNames, MAX_HEADS_BYTES,
    MAX_HEADS_LINE_BYTES, MAX_HEADS_LINES, MAX_LISTED_PER_CODE, MAX_WHAT_BYTES, OpenFile,
    TURNOUT_FIRST_LINE, audit, check_of, ledger_file_name, parse_ledger_name,
};
pub use election::{
    ELECTION_FIRST_LINE, ElectionDistrict, ElectionManifest, ElectionStation, MAX_ELECTION_BYTES,
};
pub use formats::{
    AggregateKey, CsvProblem, MAX_INDEPENDENTS, MAX_LINE_BYTES, MAX_PROBLEMS_LISTED, MAX_RECEIPTS,
    MAX_STATIONS, ParsedProtocols, Problems, ProofLine, ReceiptLine, aggregate, for_each_aggregate,
    parse_aggregates, parse_protocols, parse_protocols_within, parse_receipts, read_proofs,
    read_receipts, write_aggregates, write_machines, write_proofs, write_protocols, write_receipts,
    write_trace, write_truth_receipts,
};

use std::io::{self, Write};

use rand::Rng;

use serde::{Deserialize, Serialize};

use crate::electorate::Electorate;
use ed25519_dalek::SigningKey;

use crate::ledger::merkle::{Frontier, Tree, leaf_hash, verify_inclusion};
use crate::ledger::note::{Checkpoint, derive_signing_key, heads_origin, sign_note};
use crate::ledger::{
    BallotChoice, EntryHash, LedgerError, MachineLog, PublishedHead, PublishedHeads, ReceiptCode,
    receipt_code, to_hex, verify, write_ledger,
};
use crate::model::Scenario;
use crate::rng::{Purpose, stream, threshold};
use crate::sim::LedgerMode;
use crate::sim::{Checks, Context, FraudPlan, FraudTrace, Workspace, run_election};

/// The `format` field of every package manifest.
pub const PACKAGE_FORMAT: &str = "tamga-package";
/// Version of the package layout described in `docs/package-format.md`.
pub const PACKAGE_VERSION: u32 = 2;
/// Entries between two checkpoints a machine signs (and one at close).
pub const CHECKPOINT_INTERVAL: u64 = 128;
/// The run index a package simulates (its random streams are those of Monte Carlo run 0).
pub const PACKAGE_RUN: u64 = 0;

/// `manifest.json`: what the package is and how it was made. No clock: the same inputs give
/// the same bytes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Always [`PACKAGE_FORMAT`].
    pub format: String,
    /// Package layout version ([`PACKAGE_VERSION`]).
    pub format_version: u32,
    /// tamga version that wrote the package.
    pub tamga_version: String,
    /// Scenario name.
    pub scenario: String,
    /// SHA-256 of the scenario file (hex): what the package was simulated from.
    pub scenario_digest: String,
    /// SHA-256 of `election.txt` (hex): the election id every ledger's genesis, published head
    /// and checkpoint is bound to.
    pub election_id: String,
    /// Master seed.
    pub seed: u64,
    /// Variant simulated.
    pub variant: String,
    /// Run index whose random streams were used.
    pub run: u64,
    /// Share of electronic voters who keep and check their receipt.
    pub receipt_rate: f64,
    /// Party ids in list order (the `choice` of list rows).
    pub parties: Vec<String>,
    /// Region names in index order (the `region` column).
    pub regions: Vec<String>,
    /// Totals of the package.
    pub counts: Counts,
}

/// Why a `manifest.json` is not a package manifest ([`Manifest::parse`]).
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// Not JSON, or not the manifest's fields.
    #[error("{0}")]
    Json(serde_json::Error),
    #[error("format is {}, expected \"{PACKAGE_FORMAT}\"", crate::text::echo_quoted(.found))]
    Format { found: String },
    #[error("format_version {found} is not supported (this tamga reads {PACKAGE_VERSION})")]
    Version { found: u32 },
    #[error("scenario_digest or election_id is not 64 lowercase hex digits")]
    Digest,
    #[error(
        "it lists {found} parties; a scenario has at most {}",
        crate::scenario::MAX_PARTIES
    )]
    Parties { found: usize },
}

/// Counts recorded in the manifest.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Polling stations (protocols).
    pub stations: u64,
    /// Districts.
    pub districts: u64,
    /// Voting machines (ledger files).
    pub machines: u64,
    /// Registered voters.
    pub registered: u64,
    /// Ballots issued.
    pub issued: u64,
    /// Ballots cast on machines.
    pub electronic: u64,
    /// Receipts held by checking voters (lines of `receipts.csv`).
    pub receipts: u64,
}

impl Manifest {
    /// Parses `manifest.json`; the error says what is wrong.
    pub fn parse(text: &str) -> Result<Manifest, ManifestError> {
        let m: Manifest = serde_json::from_str(text).map_err(ManifestError::Json)?;
        if m.format != PACKAGE_FORMAT {
            return Err(ManifestError::Format { found: m.format });
        }
        if m.format_version != PACKAGE_VERSION {
            return Err(ManifestError::Version {
                found: m.format_version,
            });
        }
        if m.election_id().is_none() || hex32(&m.scenario_digest).is_none() {
            return Err(ManifestError::Digest);
        }
        if m.parties.len() > crate::scenario::MAX_PARTIES {
            return Err(ManifestError::Parties {
                found: m.parties.len(),
            });
        }
        Ok(m)
    }

    /// The manifest as written: pretty JSON with a final newline.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        s
    }

    /// The election id (SHA-256 of `election.txt`), if well-formed.
    pub fn election_id(&self) -> Option<[u8; 32]> {
        hex32(&self.election_id)
    }
}

/// 64 lowercase hex digits as 32 bytes.
fn hex32(d: &str) -> Option<[u8; 32]> {
    if d.len() != 64
        || !d
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return None;
    }
    EntryHash::from_hex(d).map(|h| h.0)
}

/// Counts of one part of a protocol: list votes per party and invalid list ballots, district
/// candidate votes per candidate and invalid district ballots.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProtocolCounts {
    /// Votes per party, in list order.
    pub list: Vec<u64>,
    /// Ballots without a valid list vote.
    pub list_invalid: u64,
    /// Votes per district candidate (empty when the station has no district).
    pub candidates: Vec<u64>,
    /// Ballots without a valid district vote.
    pub district_invalid: u64,
}

/// One polling station's protocol as the commission reports it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StationProtocol {
    /// Station number (index in the electorate; the ledger genesis's station).
    pub station: u32,
    /// Region index.
    pub region: u32,
    /// District index, if the system has a district tier.
    pub district: Option<u32>,
    /// Registered voters.
    pub registered: u64,
    /// Ballots issued (voters who turned out).
    pub issued: u64,
    /// Voting machines at the station (0 or 1).
    pub machines: u32,
    /// Ballots cast on the machine.
    pub electronic: u64,
    /// All ballots counted: paper plus machine.
    pub total: ProtocolCounts,
    /// The machine's part of `total` (its printed totals), when the station has a machine.
    pub machine: Option<ProtocolCounts>,
}

/// A receipt held by a voter who checks: where they voted and the code they took home. (The
/// entry is ground truth: a voter does not know it.)
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeldReceipt {
    /// Station.
    pub station: u32,
    /// Machine within the station.
    pub machine: u32,
    /// Ballot entry the receipt was printed for.
    pub entry: u64,
    /// The code.
    pub code: ReceiptCode,
}

/// A machine as it was sealed: for `truth/machines.csv`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MachineRecord {
    /// What was published for it (`heads.txt`).
    pub head: PublishedHead,
    /// The launch code announced at poll opening.
    pub launch_code: [u8; 16],
    /// The head of the honest ledger sealed at close.
    pub honest_head: EntryHash,
    /// Whether the published ledger is a rewritten one (ledger fraud).
    pub rewritten: bool,
}

/// What fraud did in a package's election, and what checks found (`truth/fraud.csv`).
#[derive(Clone, Debug)]
pub struct RunTrace {
    pub fraud: FraudTrace,
    pub checks: Checks,
    /// Ledgers published other than as sealed in which an audit finds something.
    pub ledgers_with_findings: u32,
}

/// One simulated election, everything but the ledger bytes (streamed to the caller's sink).
#[derive(Clone, Debug)]
pub struct Package {
    /// `manifest.json`.
    pub manifest: Manifest,
    /// Protocols as reported, by station.
    pub protocols: Vec<StationProtocol>,
    /// Totals as published (`aggregates.csv`): the sums of the protocols, unless a tabulation
    /// fraud altered them.
    pub aggregates: Vec<(AggregateKey, u64)>,
    /// What voters chose, by station (no machine part; `machines` and `electronic` are 0).
    pub truth: Vec<StationProtocol>,
    /// What fraud did, and what the audit of rewritten ledgers and voters' checks found
    /// (`truth/fraud.csv`).
    pub trace: RunTrace,
    /// `heads.txt`.
    pub heads: PublishedHeads,
    /// Receipts of the voters who check, by station then entry.
    pub receipts: Vec<HeldReceipt>,
    /// Every machine, by station.
    pub machines: Vec<MachineRecord>,
    /// The paper record (`paper/`), kept apart from what is published.
    pub paper: paper::PaperRecord,
    /// With VVPAT (`[vvpat]`): the printed records that do not read as their ledger entry
    /// (`paper/vvpat.csv`); `None` without.
    pub vvpat: Option<Vec<rla::Misprint>>,
    /// The rules the outcome is declared by (`rules.json`).
    pub rules: paper::Rules,
    /// `election.txt`: the canonical election manifest (its SHA-256 is the election id).
    pub election_text: String,
    /// `heads.note`: the commission's signed checkpoint of the log of machine heads.
    pub heads_note: String,
    /// (station, machine, signed checkpoints): `checkpoints/station-NNNNN-mM.notes`.
    pub checkpoints: Vec<(u32, u32, String)>,
    /// `proofs.csv`: the checking voters' receipts with inclusion proofs.
    pub proofs: Vec<ReceiptProof>,
}

impl Package {
    /// The files of the transparency log besides ledgers and `heads.txt`: `election.txt`,
    /// `heads.note`, `checkpoints/…` and `proofs.csv` (name relative to the package, bytes).
    pub fn log_files(&self) -> Vec<(String, Vec<u8>)> {
        let mut out = vec![
            (
                "election.txt".to_string(),
                self.election_text.clone().into_bytes(),
            ),
            (
                "heads.note".to_string(),
                self.heads_note.clone().into_bytes(),
            ),
        ];
        for (s, m, notes) in &self.checkpoints {
            out.push((checkpoints_file_name(*s, *m), notes.clone().into_bytes()));
        }
        out.push((
            "proofs.csv".to_string(),
            write_proofs(&self.proofs).into_bytes(),
        ));
        out
    }
}

/// The package-relative name of a machine's checkpoints: `checkpoints/station-NNNNN-mM.notes`.
pub fn checkpoints_file_name(station: u32, machine: u32) -> String {
    format!("checkpoints/station-{station:05}-m{machine}.notes")
}

/// Why a package could not be simulated.
#[derive(Debug, thiserror::Error)]
pub enum SimulateError {
    /// No such variant.
    #[error("there is no variant `{name}`; the scenario has: {available}")]
    UnknownVariant {
        /// Requested.
        name: String,
        /// Comma-separated names.
        available: String,
    },
    /// The receipt rate is not a probability.
    #[error("the receipt rate must be between 0 and 1, got {0}")]
    ReceiptRate(f64),
    /// Writing a ledger failed.
    #[error("writing the ledger of station {station}: {source}")]
    Ledger {
        /// Station.
        station: u32,
        /// Cause.
        #[source]
        source: LedgerError,
    },
    /// The ledger written does not reproduce the machine's sealed head (an engine bug).
    #[error(
        "the ledger written for station {0} does not reproduce the machine's head; this is a bug in tamga"
    )]
    HeadDiffers(u32),
    /// Opening a ledger sink failed.
    #[error("cannot create the ledger of station {station}: {source}")]
    Open {
        /// Station.
        station: u32,
        /// Cause.
        #[source]
        source: io::Error,
    },
    /// The heads could not be assembled (an engine bug).
    #[error("cannot assemble the published heads: {0}")]
    Heads(String),
}

/// What to simulate.
#[derive(Clone, Copy, Debug)]
pub struct Spec<'a> {
    /// The scenario.
    pub scenario: &'a Scenario,
    /// Variant name (`None`: the first variant).
    pub variant: Option<&'a str>,
    /// Master seed.
    pub seed: u64,
    /// Share of electronic voters who keep and check their receipt.
    pub receipt_rate: f64,
}

/// Simulates one ballot-level election (run [`PACKAGE_RUN`]) and streams each e-enabled
/// station's ledger into the sink `open_ledger(station, machine)` returns (one at a time; wrap
/// files in a `BufWriter`). Receipt entries are recomputed by replaying each machine's ballot
/// log through the ledger writer's chain, and the writer's head is checked against the machine's.
pub fn simulate<W: Write>(
    spec: Spec<'_>,
    open_ledger: &mut dyn FnMut(u32, u32) -> io::Result<W>,
) -> Result<Package, SimulateError> {
    let sc = spec.scenario;
    if !(0.0..=1.0).contains(&spec.receipt_rate) {
        return Err(SimulateError::ReceiptRate(spec.receipt_rate));
    }
    let found = match spec.variant {
        None => sc.variants.first(),
        Some(name) => sc.variant(name),
    };
    let variant = found.ok_or_else(|| SimulateError::UnknownVariant {
        name: spec.variant.unwrap_or("(first)").to_string(),
        available: sc.variant_names(),
    })?;
    let model = &variant.model;
    let parties: Vec<String> = sc.parties.iter().map(|p| p.id.clone()).collect();
    let n_parties = sc.parties.len();
    let electorate = Electorate::build(model, n_parties, spec.seed);
    let election = election_manifest(model, &electorate, &parties, spec.seed);
    let election_text = election.to_text().map_err(|e| {
        SimulateError::Heads(format!("the election manifest cannot be written: {e}"))
    })?;
    let election_id = ElectionManifest::election_id(election_text.as_bytes());
    let plan = FraudPlan::new(model, &electorate);
    let detectors = &sc.detectors;
    let ctx = Context {
        model,
        electorate: &electorate,
        seed: spec.seed,
        ledger: LedgerMode::ChainAndLog,
        election_id,
        plan: &plan,
        heads_published: detectors.heads_published,
        receipt_rate: detectors.receipt_check_rate,
        control_code_rate: detectors.control_code_rate,
        // machines that print a record: the run keeps the paper (boxes and printed records)
        paper_record: model.vvpat.is_some(),
    };
    let run = PACKAGE_RUN;
    let receipt_thr = threshold(spec.receipt_rate);
    let heads_published = detectors.heads_published;
    let mut ws = Workspace::default();
    let mut failure: Option<SimulateError> = None;
    let mut machine_parts: Vec<Option<ProtocolCounts>> = vec![None; electorate.stations.len()];
    let mut machines: Vec<MachineRecord> = Vec::new();
    let mut receipts: Vec<HeldReceipt> = Vec::new();
    let mut checkpoints: Vec<(u32, u32, String)> = Vec::new();
    let mut proofs: Vec<ReceiptProof> = Vec::new();
    // printing machines' published ledger entries as (list, candidate) categories, for
    // `paper/vvpat.csv`
    let printing = |i: usize| model.vvpat.is_some_and(|v| v.prints(i));
    let mut printed_entries: Vec<(u32, u32, Entries)> = Vec::new();
    run_election(ctx, run, &mut ws, &mut |i, m| {
        if failure.is_some() {
            return;
        }
        let Some(sealed) = &m.closed else {
            return;
        };
        let station = sealed.genesis.station;
        let machine = sealed.genesis.machine;
        let wrap = |source| SimulateError::Ledger { station, source };
        let result = (|| -> Result<(), SimulateError> {
            // the voters' receipts and the machine's signed checkpoints: replay the ballot log
            // through a fresh log (chain, tree, checkpoints), keeping every entry hash for the
            // receipts' inclusion proofs
            let key = machine_key(spec.seed, station, machine);
            let mut log = MachineLog::open(
                &sealed.genesis,
                sealed.n_lists,
                sealed.n_candidates,
                CHECKPOINT_INTERVAL,
                key,
            );
            let mut entries: Vec<EntryHash> = Vec::with_capacity(m.log.len() + 2);
            entries.push(log.chain().genesis_hash());
            let first_receipt = receipts.len();
            let mut rng = stream(spec.seed, Purpose::Receipt, run, i as u64);
            for (j, b) in m.log.iter().enumerate() {
                let h = log
                    .append(BallotChoice::new(b.list, b.district))
                    .map_err(wrap)?;
                entries.push(h);
                if rng.next_u64() < receipt_thr {
                    receipts.push(HeldReceipt {
                        station,
                        machine,
                        entry: j as u64 + 1,
                        code: receipt_code(&h),
                    });
                }
            }
            let (closed, notes) = log.close();
            if closed.head != sealed.head {
                return Err(SimulateError::HeadDiffers(station));
            }
            entries.push(closed.head);
            let tree = Tree::from_entries(&entries);
            let size = tree.size();
            for r in &receipts[first_receipt..] {
                proofs.push(ReceiptProof {
                    station,
                    machine,
                    code: r.code,
                    entry: r.entry,
                    entry_hash: entries[r.entry as usize],
                    size,
                    path: tree.inclusion_proof(r.entry, size).unwrap_or_default(),
                });
            }
            checkpoints.push((station, machine, notes));
            let mut w = open_ledger(station, machine)
                .map_err(|source| SimulateError::Open { station, source })?;
            let (totals, head) = match &m.rewritten {
                None => {
                    let written = write_ledger(
                        &mut w,
                        &sealed.genesis,
                        sealed.n_lists,
                        sealed.n_candidates,
                        m.log.iter().map(|b| BallotChoice::new(b.list, b.district)),
                    )
                    .map_err(wrap)?;
                    let head = written.published_head();
                    (written.totals, head)
                }
                Some(bytes) => {
                    // a ledger fraud: the forged file is what is published; the head is the
                    // one announced at close if heads are published then (and not forged
                    // too), else the forged ledger's own
                    w.write_all(bytes)
                        .and_then(|_| w.flush())
                        .map_err(|e| wrap(LedgerError::Io(e)))?;
                    let forged =
                        verify(bytes.as_slice(), None).map_err(|e| wrap(LedgerError::Io(e)))?;
                    let mut head = closed.published_head();
                    if !heads_published || m.head_forged {
                        head.n_ballots = forged.n_ballots;
                        head.head = forged.stored_head.unwrap_or(closed.head);
                    }
                    (forged.recounted, head)
                }
            };
            if printing(i) {
                let n_cand = electorate.stations[i]
                    .district
                    .map_or(0, |d| electorate.districts[d as usize].candidates.len());
                let entries = published_entries(m, n_parties, n_cand).map_err(wrap)?;
                printed_entries.push((station, machine, entries));
            }
            machines.push(MachineRecord {
                head,
                launch_code: sealed.genesis.launch_code,
                honest_head: closed.head,
                rewritten: m.rewritten.is_some(),
            });
            machine_parts[i] = Some(ProtocolCounts {
                list: totals.lists,
                list_invalid: totals.list_none,
                candidates: totals.candidates,
                district_invalid: totals.candidate_none,
            });
            Ok(())
        })();
        if let Err(e) = result {
            failure = Some(e);
        }
    });
    if let Some(e) = failure {
        return Err(e);
    }
    let station_protocol = |i: usize, counts: &crate::sim::StationCounts| {
        let st = &electorate.stations[i];
        let list_row = counts.list_of(i);
        let n_cand = st
            .district
            .map_or(0, |d| electorate.districts[d as usize].candidates.len());
        let off = electorate.candidate_offset[i] as usize;
        StationProtocol {
            station: i as u32,
            region: st.region,
            district: st.district,
            registered: st.n_registered as u64,
            issued: counts.issued[i] as u64,
            machines: u32::from(st.evoting),
            electronic: counts.electronic[i] as u64,
            total: ProtocolCounts {
                list: list_row[..n_parties].iter().map(|&v| v as u64).collect(),
                list_invalid: list_row[n_parties] as u64,
                candidates: counts.district[off..off + n_cand]
                    .iter()
                    .map(|&v| v as u64)
                    .collect(),
                district_invalid: if st.district.is_some() {
                    counts.district_invalid[i] as u64
                } else {
                    0
                },
            },
            machine: None,
        }
    };
    let mut protocols = Vec::with_capacity(electorate.stations.len());
    let mut truth = Vec::with_capacity(electorate.stations.len());
    for (i, st) in electorate.stations.iter().enumerate() {
        let mut machine = machine_parts[i].take();
        if let (Some(m), None) = (&mut machine, st.district) {
            // no district tier: the machine's "no candidate" count is not a district vote
            m.district_invalid = 0;
            m.candidates.clear();
        }
        protocols.push(StationProtocol {
            machine,
            ..station_protocol(i, ws.published().protocols)
        });
        // what voters chose: no machine part, and electronic voting is not part of the truth
        truth.push(StationProtocol {
            machines: 0,
            electronic: 0,
            ..station_protocol(i, ws.truth().counts)
        });
    }
    let misprints = match ws.published().paper {
        Some(paper) => printed_entries
            .iter()
            .flat_map(|(station, machine, entries)| {
                let delta = printed_delta(
                    &electorate,
                    *station as usize,
                    paper,
                    ws.published().observed,
                );
                paper::misprints_of(*station, *machine, entries, &delta)
            })
            .collect(),
        None => Vec::new(),
    };
    let mut aggregates = aggregate(&parties, &protocols);
    tabulation_fraud(model, &electorate, &parties, &mut aggregates);
    let heads = PublishedHeads::new(election_id, machines.iter().map(|m| m.head))
        .map_err(|e| SimulateError::Heads(e.to_string()))?;
    let heads_note = sign_heads(&heads, &commission_key(spec.seed));
    let manifest = Manifest {
        format: PACKAGE_FORMAT.into(),
        format_version: PACKAGE_VERSION,
        tamga_version: crate::VERSION.into(),
        scenario: sc.meta.name.clone(),
        scenario_digest: sc.digest.clone(),
        election_id: to_hex(&election_id),
        seed: spec.seed,
        variant: variant.name.clone(),
        run,
        receipt_rate: spec.receipt_rate,
        parties: parties.clone(),
        regions: model.regions.iter().map(|r| r.name.clone()).collect(),
        counts: Counts {
            stations: protocols.len() as u64,
            districts: electorate.districts.len() as u64,
            machines: machines.len() as u64,
            registered: protocols.iter().map(|p| p.registered).sum(),
            issued: protocols.iter().map(|p| p.issued).sum(),
            electronic: protocols.iter().map(|p| p.electronic).sum(),
            receipts: receipts.len() as u64,
        },
    };
    Ok(Package {
        manifest,
        truth,
        protocols,
        aggregates,
        trace: RunTrace {
            fraud: ws.truth().trace.clone(),
            checks: ws.published().checks.clone(),
            ledgers_with_findings: crate::detect::ledger_findings(ws.published().ledgers),
        },
        heads,
        receipts,
        machines,
        // with VVPAT the boxes and what the machines printed; else every machine is taken to
        // print what it recorded
        paper: paper::paper_record(
            &electorate,
            ws.published().paper.unwrap_or(ws.published().observed),
        ),
        vvpat: model.vvpat.is_some().then_some(misprints),
        rules: paper::Rules::of(&model.system),
        election_text,
        heads_note,
        checkpoints,
        proofs,
    })
}

/// A machine's ledger entries as (list, candidate) categories.
type Entries = Vec<(usize, usize)>;

/// A machine's published ledger entries as (list, candidate) categories, no valid vote being
/// `n_parties` and `n_cand`: its ballots as recorded, or the rewritten ledger's.
fn published_entries(
    m: &crate::sim::VotingMachine,
    n_parties: usize,
    n_cand: usize,
) -> Result<Entries, LedgerError> {
    let cat = |list: u8, district: u16| {
        (
            usize::from(list).min(n_parties),
            usize::from(district).min(n_cand),
        )
    };
    let Some(bytes) = &m.rewritten else {
        return Ok(m.log.iter().map(|b| cat(b.list, b.district)).collect());
    };
    let unreadable = |e: crate::ledger::ReadError| {
        LedgerError::Io(io::Error::new(io::ErrorKind::InvalidData, e.to_string()))
    };
    let mut r = crate::ledger::LedgerReader::new(bytes.as_slice()).map_err(unreadable)?;
    let mut out = Vec::new();
    while let Some(rec) = r.next_record().map_err(unreadable)? {
        if let crate::ledger::Record::Ballot { choice, .. } = rec {
            out.push(cat(choice.list, choice.district));
        }
    }
    Ok(out)
}

/// Station `i`'s printed records less its machine's published record, per category: its paper
/// less its count (the count holds the hand-marked papers and the machine's record, the paper
/// the same papers and what the machine printed).
fn printed_delta(
    e: &Electorate,
    i: usize,
    paper: &crate::sim::StationCounts,
    count: &crate::sim::StationCounts,
) -> paper::PrintedDelta {
    let diff = |a: &[u32], b: &[u32]| -> Vec<i64> {
        a.iter()
            .zip(b)
            .map(|(&x, &y)| i64::from(x) - i64::from(y))
            .collect()
    };
    let list = diff(paper.list_of(i), count.list_of(i));
    let district = match e.stations[i].district {
        None => Vec::new(),
        Some(d) => {
            let n = e.districts[d as usize].candidates.len();
            let off = e.candidate_offset[i] as usize;
            let mut v = diff(&paper.district[off..off + n], &count.district[off..off + n]);
            v.push(i64::from(paper.district_invalid[i]) - i64::from(count.district_invalid[i]));
            v
        }
    };
    paper::PrintedDelta { list, district }
}

/// A machine's simulated signing key, from the simulation seed (`ledger::note`).
pub fn machine_key(seed: u64, station: u32, machine: u32) -> SigningKey {
    derive_signing_key(seed, "machine", station, machine)
}

/// The commission's simulated signing key, from the simulation seed.
pub fn commission_key(seed: u64) -> SigningKey {
    derive_signing_key(seed, "commission", 0, 0)
}

/// The commission's signed checkpoint of the log of machine heads: the Merkle tree whose leaf
/// inputs are `heads.txt`'s machine lines (without their `\n`), in file order.
pub fn sign_heads(heads: &PublishedHeads, key: &SigningKey) -> String {
    let c = heads_checkpoint(heads);
    sign_note(&c.body(), &c.origin, key)
}

/// The checkpoint of the log of machine heads (unsigned).
pub fn heads_checkpoint(heads: &PublishedHeads) -> Checkpoint {
    let text = heads.to_text();
    let mut f = Frontier::new();
    for line in text.lines().skip(1) {
        f.push(leaf_hash(line.as_bytes()));
    }
    Checkpoint {
        origin: heads_origin(&heads.election_id),
        size: f.size(),
        root: f.root(),
        head: None,
    }
}

/// The canonical election manifest of one electorate: parties, regions, districts with their
/// candidates, stations, each e-enabled station's machine 0 with its public key, the
/// commission's key, the checkpoint interval.
fn election_manifest(
    model: &crate::model::Model,
    electorate: &Electorate,
    parties: &[String],
    seed: u64,
) -> ElectionManifest {
    let label = |c: &crate::electorate::Candidate| {
        c.party
            .and_then(|p| parties.get(p as usize).cloned())
            .unwrap_or_else(|| "independent".to_string())
    };
    ElectionManifest {
        parties: parties.to_vec(),
        regions: model.regions.iter().map(|r| r.name.clone()).collect(),
        districts: electorate
            .districts
            .iter()
            .map(|d| ElectionDistrict {
                region: d.region,
                candidates: d.candidates.iter().map(label).collect(),
            })
            .collect(),
        stations: electorate
            .stations
            .iter()
            .map(|s| ElectionStation {
                region: s.region,
                district: s.district,
                machines: u32::from(s.evoting),
            })
            .collect(),
        machines: electorate
            .stations
            .iter()
            .enumerate()
            .filter(|(_, s)| s.evoting)
            .map(|(i, _)| {
                let k = machine_key(seed, i as u32, 0);
                (i as u32, 0, k.verifying_key().to_bytes())
            })
            .collect(),
        commission: commission_key(seed).verifying_key().to_bytes(),
        checkpoint_interval: CHECKPOINT_INTERVAL,
    }
}

/// A voter's receipt with its inclusion proof in the machine's tree at close: checkable offline
/// against the machine's signed closing checkpoint (`proofs.csv`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceiptProof {
    pub station: u32,
    pub machine: u32,
    /// The receipt code (the first 40 bits of `entry_hash`).
    pub code: ReceiptCode,
    /// The ballot's entry (leaf index).
    pub entry: u64,
    /// The entry hash `h_entry` (the leaf input).
    pub entry_hash: EntryHash,
    /// Tree size of the checkpoint the proof leads to (the closing checkpoint's).
    pub size: u64,
    /// The audit path, deepest first.
    pub path: Vec<EntryHash>,
}

impl ReceiptProof {
    /// Checks the proof against a checkpoint root of its size: the code is the entry hash's and
    /// the path leads from the entry's leaf (its entry hash) to `root`.
    pub fn check(&self, root: &EntryHash) -> bool {
        self.code.matches(&self.entry_hash)
            && verify_inclusion(&self.entry_hash, self.entry, self.size, &self.path, root).is_ok()
    }
}

/// Tabulation-level fraud (`kind = "aggregate"`) on the published totals, by the rules
/// [`crate::tabulation`] applies too: in each region the list votes move toward the
/// beneficiary ([`crate::fraud::alter_region_totals`]), and the national list totals become the
/// sums of the altered regions; with `level = "district"` each eligible
/// district's candidate totals move toward the beneficiary's nominee
/// ([`crate::fraud::alter_district_totals`]).
fn tabulation_fraud(
    model: &crate::model::Model,
    electorate: &Electorate,
    parties: &[String],
    rows: &mut [(AggregateKey, u64)],
) {
    district_fraud(model, electorate, rows);
    use crate::fraud::{AggregateLevel, FraudKind};
    let region_level = |f: &crate::fraud::FraudModel| {
        matches!(
            f.kind,
            FraudKind::Aggregate {
                level: AggregateLevel::Region,
                ..
            }
        )
    };
    if !model.fraud.iter().any(region_level) {
        return;
    }
    let k = parties.len();
    // region → row index of each party's list total
    let mut regions: std::collections::BTreeMap<u32, Vec<usize>> = Default::default();
    let mut national: Vec<usize> = vec![usize::MAX; k];
    for (idx, (key, _)) in rows.iter().enumerate() {
        if key.item != "list" {
            continue;
        }
        let Some(p) = parties.iter().position(|q| *q == key.choice) else {
            continue;
        };
        match key.level.as_str() {
            "region" => {
                if let Ok(r) = key.unit.parse::<u32>() {
                    regions.entry(r).or_insert_with(|| vec![usize::MAX; k])[p] = idx;
                }
            }
            "national" => national[p] = idx,
            _ => {}
        }
    }
    let mut sums = vec![0u64; k];
    for (&r, idx) in &regions {
        let mut row: Vec<u64> = idx
            .iter()
            .map(|&i| rows.get(i).map_or(0, |x| x.1))
            .collect();
        crate::fraud::alter_region_totals(&model.fraud, r, &mut row);
        for (p, &i) in idx.iter().enumerate() {
            if let Some(x) = rows.get_mut(i) {
                x.1 = row[p];
            }
            sums[p] += row[p];
        }
    }
    for (p, &i) in national.iter().enumerate() {
        if let Some(x) = rows.get_mut(i) {
            x.1 = sums[p];
        }
    }
}

/// The district half of [`tabulation_fraud`]: candidate totals of each district's rows.
fn district_fraud(
    model: &crate::model::Model,
    electorate: &Electorate,
    rows: &mut [(AggregateKey, u64)],
) {
    use crate::fraud::alter_district_totals;
    // district → (candidate index, row index)
    let mut by_district: std::collections::BTreeMap<u32, Vec<(usize, usize)>> = Default::default();
    for (idx, (key, _)) in rows.iter().enumerate() {
        if key.level != "district" || key.item != "candidate" {
            continue;
        }
        if let (Ok(d), Ok(c)) = (key.unit.parse::<u32>(), key.choice.parse::<usize>()) {
            by_district.entry(d).or_default().push((c, idx));
        }
    }
    for (d, slots) in by_district {
        let Some(district) = electorate.districts.get(d as usize) else {
            continue;
        };
        let n = district.candidates.len();
        let mut votes = vec![0u64; n];
        for &(c, i) in &slots {
            if c < n {
                votes[c] = rows[i].1;
            }
        }
        let nominee = |p: u8| district.nominee.get(p as usize).copied().flatten();
        let moved = alter_district_totals(
            &model.fraud,
            district.region,
            |p| nominee(p).map(usize::from),
            &mut votes,
        );
        if moved > 0 {
            for &(c, i) in &slots {
                if c < n {
                    rows[i].1 = votes[c];
                }
            }
        }
    }
}
