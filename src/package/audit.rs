//! `audit`: checks an election package and lists every finding, each with what is wrong, where
//! (file, line, station, machine, entry, byte) and what it means.
//!
//! Owns the audit rules of `docs/package-format.md` §"What audit checks". Never opens files:
//! the caller hands in an opener for package-relative names (`heads.txt`,
//! `ledgers/station-00012-m0.tgl`, …) and the list of ledger file names; never reads `truth/`;
//! holds one ledger at a time (each is verified as a stream by [`crate::ledger`]); never stops at
//! the first finding and never panics on any input.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::io::{self, BufReader, Read};

use serde::Serialize;

use super::election::{ElectionManifest, MAX_ELECTION_BYTES, region_name};
use super::formats::{
    AggregateKey, Problems, ReceiptLine, aggregate, for_each_aggregate, parse_protocols_within,
    read_receipts,
};
use super::formats::{ProofLine, read_proofs};
use super::{Manifest, ProtocolCounts, StationProtocol};
use super::{checkpoints_file_name, heads_checkpoint};
use crate::ledger::merkle::{Tree, verify_consistency};
use crate::ledger::note::{
    Checkpoint, MAX_NOTE_BYTES, NoteError, heads_origin, machine_origin, open_checkpoint,
    split_notes,
};
use crate::ledger::{
    EntryHash, Finding, PublishedHead, PublishedHeads, ReceiptCode, TotalColumn, VerifyReport,
    verify_log, verify_log_with_leaves,
};
use crate::text::{LineLimit, echo_max};

/// Findings of one code listed at most; the rest are counted in [`AuditReport::omitted`].
pub const MAX_LISTED_PER_CODE: usize = 100;
/// Longest sentence (`what`) of a finding, in bytes: longer ones (which can only come from
/// echoed input) are cut with an ellipsis and their length.
pub const MAX_WHAT_BYTES: usize = 1024;
/// Largest `heads.txt` read, in bytes (a head line is under 100 bytes).
pub const MAX_HEADS_BYTES: u64 = 128 << 20;
/// Most lines of `heads.txt` (one per machine, plus the first).
pub const MAX_HEADS_LINES: usize = 1_000_001;
/// Longest line of `heads.txt` read.
pub const MAX_HEADS_LINE_BYTES: usize = 256;

/// One thing wrong with a package.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AuditFinding {
    /// The numbered check that found it, `C1` … `C9` ([`check_of`]; `docs/package-format.md`
    /// §"What audit checks").
    pub check: &'static str,
    /// Stable identifier of the kind of finding, e.g. `ledger.broken-link` (the table in
    /// `docs/package-format.md`).
    pub code: &'static str,
    /// Package-relative file the finding is about.
    pub file: String,
    /// 1-based line in a text file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// Polling station.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub station: Option<u32>,
    /// Machine within the station.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub machine: Option<u32>,
    /// Ledger entry (record position; 0 = genesis).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entry: Option<u64>,
    /// Last entry of a run of like findings (`entry` … `last_entry`), e.g. every entry after a
    /// deleted one carrying a shifted sequence number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_entry: Option<u64>,
    /// Byte offset in a ledger file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    /// What is wrong.
    pub what: String,
    /// What it means for the election.
    pub meaning: &'static str,
}

impl AuditFinding {
    fn new(code: &'static str, file: &str, what: impl Into<String>, meaning: &'static str) -> Self {
        AuditFinding {
            check: check_of(code),
            code,
            file: file.to_string(),
            line: None,
            station: None,
            machine: None,
            entry: None,
            last_entry: None,
            offset: None,
            what: what.into(),
            meaning,
        }
    }
    fn line(mut self, line: u64) -> Self {
        self.line = (line > 0).then_some(line);
        self
    }
    fn station(mut self, station: u32) -> Self {
        self.station = Some(station);
        self
    }
    fn machine(mut self, station: u32, machine: u32) -> Self {
        self.station = Some(station);
        self.machine = Some(machine);
        self
    }

    /// Where, in words: `station 12 machine 0, entry 5 (byte 330), ledgers/…`.
    pub fn location(&self) -> String {
        let mut parts = Vec::new();
        match (self.station, self.machine) {
            (Some(s), Some(m)) => parts.push(format!("station {s} machine {m}")),
            (Some(s), None) => parts.push(format!("station {s}")),
            _ => {}
        }
        match (self.entry, self.last_entry, self.offset) {
            (Some(e), Some(l), Some(o)) => parts.push(format!("entries {e}–{l} (from byte {o})")),
            (Some(e), Some(l), None) => parts.push(format!("entries {e}–{l}")),
            (Some(e), None, Some(o)) => parts.push(format!("entry {e} (byte {o})")),
            (Some(e), None, None) => parts.push(format!("entry {e}")),
            (None, _, Some(o)) => parts.push(format!("byte {o}")),
            _ => {}
        }
        match self.line {
            Some(l) => parts.push(format!("{} line {l}", self.file)),
            None => parts.push(self.file.clone()),
        }
        parts.join(", ")
    }
}

/// The numbered checks of the audit: (id, one-line statement). Stable: a new check gets a new
/// number, a number is never reused.
pub const CHECKS: [(&str, &str); 9] = [
    (
        "C1",
        "heads.txt parses and is published for the manifest's election id",
    ),
    (
        "C2",
        "every station protocol parses and its arithmetic holds",
    ),
    (
        "C3",
        "every published aggregate is the sum of the station protocols, none missing or extra",
    ),
    (
        "C4",
        "every ledger verifies (framing, sequence, links, genesis, close, published head, receipts) and belongs to its file's election, station and machine",
    ),
    (
        "C5",
        "every part is present, readable and within limits, and the manifest's counts are what the package holds",
    ),
    (
        "C6",
        "every ledger's count and recount equal its station protocol's machine part, district votes included",
    ),
    (
        "C7",
        "election.txt hashes to the election id, and parties, stations, districts, machines and ballot shapes are as it says",
    ),
    (
        "C8",
        "heads, checkpoints and receipts' proofs are signed by the keys in election.txt and match the ledgers' Merkle trees",
    ),
    (
        "C9",
        "the package agrees with every independently obtained checkpoint and heads file (--heads)",
    ),
];

/// The numbered check a finding code belongs to.
pub fn check_of(code: &str) -> &'static str {
    match code {
        "heads.malformed" | "heads.election-mismatch" => "C1",
        "heads.signature" | "heads.root-mismatch" => "C8",
        "ledger.protocol-count" | "ledger.protocol-totals" | "ledger.protocol-district" => "C6",
        "ledger.missing" | "ledger.unexpected" | "ledger.no-published-head" => "C5",
        "receipt.not-found" => "C4",
        "receipt.malformed" | "receipt.unknown-machine" => "C5",
        c if c.starts_with("protocol.") => "C2",
        c if c.starts_with("aggregate.") => "C3",
        c if c.starts_with("ledger.") || c.starts_with("genesis.") => "C4",
        c if c.starts_with("election.") => "C7",
        c if c.starts_with("checkpoint.") || c.starts_with("proof.") => "C8",
        c if c.starts_with("witness.") => "C9",
        _ => "C5",
    }
}

/// What the audit looked at.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Checked {
    /// Ledger files verified.
    pub ledgers: u64,
    /// Ballot entries in them.
    pub ballots: u64,
    /// Published heads read.
    pub heads: u64,
    /// Receipts checked.
    pub receipts: u64,
    /// Station protocols checked.
    pub protocols: u64,
    /// Aggregate lines checked.
    pub aggregates: u64,
}

/// The result of an audit.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct AuditReport {
    /// Every finding, in order: manifest, heads, protocols, aggregates, receipts, ledgers (by
    /// file name), then missing ledgers.
    pub findings: Vec<AuditFinding>,
    /// Findings counted but not listed: per-entry ledger findings beyond the ledger verifier's
    /// cap, and findings of a code beyond the first [`MAX_LISTED_PER_CODE`] (see [`omitted`]).
    ///
    /// [`omitted`]: AuditReport::omitted
    pub findings_omitted: u64,
    /// Per code, the findings beyond the first [`MAX_LISTED_PER_CODE`] (and the lines of a
    /// file's problems beyond its reader's cap), counted but not listed.
    pub omitted: BTreeMap<&'static str, u64>,
    /// What was checked.
    pub checked: Checked,
    /// Which conclusions rest on data the package itself carries, and which on independent
    /// evidence (`--heads`).
    pub basis: Vec<String>,
}

impl AuditReport {
    /// No findings at all.
    pub fn is_clean(&self) -> bool {
        self.findings.is_empty() && self.findings_omitted == 0
    }
}

/// Opens a package-relative file (`heads.txt`, `ledgers/station-00012-m0.tgl`): `Ok(None)` when
/// it does not exist.
pub type OpenFile<'a> = dyn FnMut(&str) -> io::Result<Option<Box<dyn Read>>> + 'a;

/// What the caller found at `ledgers/`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LedgerNames {
    /// The file names in the directory.
    Listed(Vec<String>),
    /// There is no `ledgers/`.
    Missing,
    /// `ledgers/` exists but is not a directory that can be listed: why (a finding).
    Unusable(String),
}

/// What the audit reads besides the files it opens itself.
pub struct AuditInput<'a> {
    /// The parsed `manifest.json`.
    pub manifest: &'a Manifest,
    /// What is in `ledgers/`.
    pub ledger_names: LedgerNames,
    /// Opens a package-relative file: `Ok(None)` when it does not exist.
    pub open: &'a mut OpenFile<'a>,
    /// Independently obtained evidence (`tamga audit --heads FILE…`): (name, text) of signed
    /// checkpoints (machine logs' or the commission's log of heads) or heads files.
    pub witnesses: Vec<(String, String)>,
}

/// Largest checkpoints file of one machine read (a checkpoint note is under 400 bytes).
pub const MAX_CHECKPOINTS_BYTES: u64 = 64 << 20;
/// Most checkpoints of one machine read.
pub const MAX_CHECKPOINTS: usize = 200_000;

/// A checkpoint whose signature verified, and where it came from.
struct Signed {
    cp: Checkpoint,
    /// `None`: the package's own; `Some(name)`: a witness file.
    witness: Option<String>,
}

/// The file name of a machine's ledger inside `ledgers/`.
pub fn ledger_file_name(station: u32, machine: u32) -> String {
    format!("station-{station:05}-m{machine}.tgl")
}

/// `station-NNNNN-mM.tgl` → (station, machine); `None` for any name [`ledger_file_name`] does
/// not write (`station-12-m0.tgl`, `station-00012-m00.tgl`, …).
pub fn parse_ledger_name(name: &str) -> Option<(u32, u32)> {
    let rest = name.strip_prefix("station-")?.strip_suffix(".tgl")?;
    let (s, m) = rest.split_once("-m")?;
    let station: u32 = s.parse().ok()?;
    let machine: u32 = m.parse().ok()?;
    (ledger_file_name(station, machine) == name).then_some((station, machine))
}

const HEADS: &str = "heads.txt";
const PROTOCOLS: &str = "protocols.csv";
const AGGREGATES: &str = "aggregates.csv";
const RECEIPTS: &str = "receipts.csv";
const ELECTION: &str = "election.txt";
const HEADS_NOTE: &str = "heads.note";
const PROOFS: &str = "proofs.csv";

const M_MISSING_FILE: &str =
    "a required part of the package is absent: whatever it should show cannot be checked";
const M_UNREADABLE: &str = "the file could not be read, so nothing in it could be checked";
const M_TOO_LARGE: &str = "the file is larger than any package of this format holds (or than tamga reads): nothing in it was checked";

/// The finding for a package file that exists but cannot be read.
fn unreadable(file: &str, e: &dyn std::fmt::Display) -> AuditFinding {
    AuditFinding::new(
        "package.unreadable-file",
        file,
        format!("cannot read {file}: {e}"),
        M_UNREADABLE,
    )
}

struct Auditor<'a, 'o> {
    rep: AuditReport,
    /// Findings listed so far, per code.
    listed: BTreeMap<&'static str, usize>,
    open: &'o mut OpenFile<'o>,
    manifest: &'a Manifest,
    election: Option<ElectionManifest>,
    /// Witnesses' verified machine checkpoints, by (station, machine).
    witness_checkpoints: BTreeMap<(u32, u32), Vec<Signed>>,
    /// Observers' counts of the voters they saw vote on a machine: (file, count), by (station,
    /// machine).
    witness_turnout: BTreeMap<(u32, u32), Vec<(String, u64)>>,
    /// Receipts' proofs by (station, machine).
    proofs: BTreeMap<(u32, u32), Vec<ProofLine>>,
}

impl Auditor<'_, '_> {
    fn push(&mut self, mut f: AuditFinding) {
        let n = self.listed.entry(f.code).or_insert(0);
        if *n >= MAX_LISTED_PER_CODE {
            self.omit(f.code, 1);
            return;
        }
        *n += 1;
        if f.what.len() > MAX_WHAT_BYTES {
            f.what = echo_max(&f.what, MAX_WHAT_BYTES);
        }
        self.rep.findings.push(f);
    }

    /// Counts `n` findings of `code` that are not listed.
    fn omit(&mut self, code: &'static str, n: u64) {
        if n > 0 {
            *self.rep.omitted.entry(code).or_insert(0) += n;
            self.rep.findings_omitted += n;
        }
    }

    /// Opens a file, reporting it missing or unreadable.
    fn open_required(&mut self, name: &str) -> Option<Box<dyn Read>> {
        match (self.open)(name) {
            Ok(Some(r)) => Some(r),
            Ok(None) => {
                self.push(AuditFinding::new(
                    "package.missing-file",
                    name,
                    format!("{name} is missing"),
                    M_MISSING_FILE,
                ));
                None
            }
            Err(e) => {
                self.push(unreadable(name, &e));
                None
            }
        }
    }

    /// Reads a whole text file of at most `max` bytes, `max_lines` lines and lines of
    /// `max_line` bytes; a larger one is a `package.file-too-large` finding.
    fn read_text(
        &mut self,
        name: &str,
        max: u64,
        max_lines: usize,
        max_line: usize,
    ) -> Option<String> {
        let r = self.open_required(name)?;
        let mut limited = LineLimit::new(r, max_line);
        let mut s = String::new();
        let read = (&mut limited).take(max + 1).read_to_string(&mut s);
        let lines = s.bytes().filter(|&b| b == b'\n').count();
        let too_large = if limited.exceeded() {
            Some(crate::text::line_too_long(lines as u64 + 1, max_line))
        } else if s.len() as u64 > max {
            Some(format!("{name} is larger than {max} bytes"))
        } else if lines > max_lines {
            Some(format!("{name} has more than {max_lines} lines"))
        } else {
            None
        };
        if let Some(why) = too_large {
            self.push(AuditFinding::new(
                "package.file-too-large",
                name,
                format!("{why}, the limit of what tamga reads for it; it is not checked"),
                M_TOO_LARGE,
            ));
            return None;
        }
        match read {
            Ok(_) => Some(s),
            Err(e) => {
                self.push(unreadable(name, &e));
                None
            }
        }
    }

    fn csv_problems(
        &mut self,
        file: &str,
        code: &'static str,
        meaning: &'static str,
        ps: Problems,
    ) {
        for p in ps.listed {
            let mut f = AuditFinding::new(code, file, p.message, meaning).line(p.line);
            f.station = p.station;
            self.push(f);
        }
        self.omit(code, ps.omitted);
    }
}

/// Audits a package. Every finding is listed; the report is clean only if there is none.
pub fn audit(input: AuditInput<'_>) -> AuditReport {
    let manifest = input.manifest;
    let mut a = Auditor {
        rep: AuditReport::default(),
        listed: BTreeMap::new(),
        open: input.open,
        manifest,
        election: None,
        witness_checkpoints: BTreeMap::new(),
        witness_turnout: BTreeMap::new(),
        proofs: BTreeMap::new(),
    };
    let election_id = manifest.election_id().unwrap_or([0; 32]);
    check_election(&mut a, election_id);

    // published heads
    let heads_text = a.read_text(
        HEADS,
        MAX_HEADS_BYTES,
        MAX_HEADS_LINES,
        MAX_HEADS_LINE_BYTES,
    );
    let heads: Option<PublishedHeads> = heads_text.and_then(|text| {
        match PublishedHeads::parse(&text) {
            Ok(h) => Some(h),
            Err(e) => {
                for (line, msg) in e.problems {
                    a.push(
                        AuditFinding::new(
                            "heads.malformed",
                            HEADS,
                            msg,
                            "the published heads cannot be read, so no ledger can be compared with what was announced at close",
                        )
                        .line(line as u64),
                    );
                }
                None
            }
        }
    });
    if let Some(h) = &heads {
        a.rep.checked.heads = h.heads().len() as u64;
        if h.election_id != election_id {
            a.push(
                AuditFinding::new(
                    "heads.election-mismatch",
                    HEADS,
                    format!(
                        "the heads are published for election {}, the manifest's election id is {}",
                        crate::ledger::to_hex(&h.election_id),
                        a.manifest.election_id
                    ),
                    "the published heads belong to another election (or the manifest was altered)",
                )
                .line(1),
            );
        }
    }

    check_heads_note(&mut a, heads.as_ref(), election_id);
    read_witnesses(&mut a, &input.witnesses, heads.as_ref(), election_id);

    // protocols
    let parties = &manifest.parties;
    let mut protocols: Vec<StationProtocol> = Vec::new();
    let mut protocol_lines: Vec<u64> = Vec::new();
    let have_protocols;
    let mut more_stations = false;
    if let Some(r) = a.open_required(PROTOCOLS) {
        have_protocols = true;
        let declared = usize::try_from(manifest.counts.stations).unwrap_or(usize::MAX);
        let parsed = parse_protocols_within(BufReader::new(r), parties, declared);
        more_stations = parsed.more_stations;
        a.csv_problems(
            PROTOCOLS,
            "protocol.malformed",
            "a station protocol cannot be read as published: its numbers cannot be checked or were tampered with",
            Problems {
                listed: parsed.problems,
                omitted: parsed.problems_omitted,
            },
        );
        protocols = parsed.protocols;
        protocol_lines = parsed.lines;
    } else {
        have_protocols = false;
    }
    a.rep.checked.protocols = protocols.len() as u64;
    for (p, &line) in protocols.iter().zip(&protocol_lines) {
        check_protocol(&mut a, p, line);
    }
    if have_protocols {
        check_stations_bound(&mut a, &protocols, &protocol_lines);
    }
    let by_station: BTreeMap<u32, usize> = protocols
        .iter()
        .enumerate()
        .map(|(i, p)| (p.station, i))
        .collect();

    // aggregates
    if let Some(r) = a.open_required(AGGREGATES) {
        // without protocols every total would be "unexpected": the missing file says it all
        check_aggregates(&mut a, parties, have_protocols.then_some(&protocols[..]), r);
    }

    // receipts
    let mut receipts: BTreeMap<(u32, u32), Vec<ReceiptLine>> = BTreeMap::new();
    let mut have_receipts = false;
    if let Some(r) = a.open_required(RECEIPTS) {
        have_receipts = true;
        let (rows, problems) = read_receipts(BufReader::new(r));
        a.csv_problems(
            RECEIPTS,
            "receipt.malformed",
            "a voter's receipt cannot be read, so it cannot vouch for the ledger",
            problems,
        );
        a.rep.checked.receipts = rows.len() as u64;
        for row in rows {
            receipts
                .entry((row.station, row.machine))
                .or_default()
                .push(row);
        }
    }

    // receipts' inclusion proofs
    if let Some(r) = a.open_required(PROOFS) {
        let (rows, problems) = read_proofs(BufReader::new(r));
        a.csv_problems(
            PROOFS,
            "proof.malformed",
            "a receipt's inclusion proof cannot be read, so it cannot vouch for the ledger",
            problems,
        );
        for row in rows {
            a.proofs
                .entry((row.proof.station, row.proof.machine))
                .or_default()
                .push(row);
        }
    }

    // ledgers, one at a time
    let mut seen: BTreeSet<(u32, u32)> = BTreeSet::new();
    match &input.ledger_names {
        LedgerNames::Missing => a.push(AuditFinding::new(
            "package.missing-file",
            "ledgers/",
            "the ledgers/ directory is missing",
            M_MISSING_FILE,
        )),
        LedgerNames::Unusable(why) => a.push(AuditFinding::new(
            "package.unreadable-file",
            "ledgers/",
            format!("cannot list ledgers/: {why}"),
            M_UNREADABLE,
        )),
        LedgerNames::Listed(names) => {
            let mut names = names.clone();
            names.sort();
            for name in names {
                let file = format!("ledgers/{name}");
                let Some((station, machine)) = parse_ledger_name(&name) else {
                    a.push(AuditFinding::new(
                        "package.unexpected-file",
                        &file,
                        format!("{file} is not named station-NNNNN-mM.tgl"),
                        "a file the package format does not define: it is ignored, but someone put it there",
                    ));
                    continue;
                };
                seen.insert((station, machine));
                let lines = receipts.remove(&(station, machine)).unwrap_or_default();
                // without protocols.csv (already a finding) there is nothing to compare with
                let protocol =
                    have_protocols.then(|| by_station.get(&station).map(|&i| &protocols[i]));
                audit_ledger(
                    &mut a,
                    &file,
                    station,
                    machine,
                    heads.as_ref(),
                    election_id,
                    &lines,
                    protocol,
                );
            }
        }
    }

    // what should have a ledger but has none
    let mut expected: BTreeMap<(u32, u32), &'static str> = BTreeMap::new();
    if let Some(h) = &heads {
        for ph in h.heads() {
            expected.insert((ph.station, ph.machine), "a head is published for it");
        }
    }
    for p in &protocols {
        for m in 0..p.machines.min(16) {
            expected
                .entry((p.station, m))
                .or_insert("the station protocol records a machine");
        }
    }
    for ((station, machine), why) in expected {
        if !seen.contains(&(station, machine)) {
            a.push(
                AuditFinding::new(
                    "ledger.missing",
                    &format!("ledgers/{}", ledger_file_name(station, machine)),
                    format!("no ledger for station {station} machine {machine}, but {why}"),
                    "the machine's ballot record was withheld or deleted: none of its ballots can be verified",
                )
                .machine(station, machine),
            );
        }
    }
    let left: Vec<ProofLine> = std::mem::take(&mut a.proofs)
        .into_values()
        .flatten()
        .collect();
    for l in left {
        a.push(
            AuditFinding::new(
                "proof.unknown-machine",
                PROOFS,
                format!("a proof names station {} machine {}, which has no ledger", l.proof.station, l.proof.machine),
                "a voter's proof from a machine whose ledger is not in the package: their ballot cannot be found",
            )
            .line(l.line)
            .machine(l.proof.station, l.proof.machine),
        );
    }
    for ((station, machine), lines) in receipts {
        for l in lines {
            a.push(
                AuditFinding::new(
                    "receipt.unknown-machine",
                    RECEIPTS,
                    format!("receipt {} names station {station} machine {machine}, which has no ledger", l.code),
                    "a voter holds a receipt from a machine whose ledger is not in the package: their ballot cannot be found",
                )
                .line(l.line)
                .machine(station, machine),
            );
        }
    }

    // manifest counts
    let m = &manifest.counts;
    let n_receipts = a.rep.checked.receipts;
    let total = |count: fn(&_) -> u64| protocols.iter().map(count).fold(0u64, u64::saturating_add);
    let found = [
        (
            "stations",
            m.stations,
            protocols.len() as u64 + u64::from(more_stations),
        ),
        (
            "districts",
            m.districts,
            protocols
                .iter()
                .filter_map(|p| p.district)
                .collect::<BTreeSet<u32>>()
                .len() as u64,
        ),
        ("machines", m.machines, seen.len() as u64),
        ("registered", m.registered, total(|p| p.registered)),
        ("issued", m.issued, total(|p| p.issued)),
        ("electronic", m.electronic, total(|p| p.electronic)),
        ("receipts", m.receipts, n_receipts),
    ];
    let have_ledgers = matches!(input.ledger_names, LedgerNames::Listed(_));
    let present = |what: &str| match what {
        "machines" => have_ledgers,
        "receipts" => have_receipts,
        _ => have_protocols,
    };
    for (what, declared, counted) in found {
        // a missing file is already a finding; its counts would only repeat it
        if declared != counted && present(what) {
            a.push(AuditFinding::new(
                "manifest.count-mismatch",
                "manifest.json",
                if what == "stations" && more_stations {
                    format!("the manifest declares {declared} stations, protocols.csv holds more")
                } else {
                    format!("the manifest declares {declared} {what}, the package holds {counted}")
                },
                "parts of the package were added or removed after it was written (or the manifest was edited)",
            ));
        }
    }
    a.rep.basis = basis(&a, &input.witnesses);
    a.rep
}

/// What the audit's conclusions rest on.
fn basis(a: &Auditor<'_, '_>, witnesses: &[(String, String)]) -> Vec<String> {
    let mut b = vec![
        "package-internal: election.txt (the keys), heads.txt, heads.note, checkpoints/ and proofs.csv come from the package; they are checked against each other, against the election id in manifest.json (also from the package) and against the ledgers. A publisher who replaced election.txt and re-signed everything with keys of its own is caught only against an election id or checkpoints obtained independently (--heads).".to_string(),
        "independent of the signatures: protocols against ledgers, aggregates against protocols, chains against their own links hold whoever published them.".to_string(),
    ];
    if witnesses.is_empty() {
        b.push("no independent evidence given: to rule out a rewritten package, pass checkpoints or heads recorded by observers with --heads FILE…".to_string());
    } else {
        let machines = a.witness_checkpoints.len();
        b.push(format!(
            "independent: {} witness file(s) given; the ledgers of {machines} machine(s) were checked against checkpoints recorded outside the package",
            witnesses.len()
        ));
    }
    b
}

fn sum(v: &[u64]) -> u64 {
    v.iter().fold(0u64, |a, &b| a.saturating_add(b))
}

fn check_protocol(a: &mut Auditor<'_, '_>, p: &StationProtocol, line: u64) {
    let s = p.station;
    let bad = |a: &mut Auditor<'_, '_>, code: &'static str, what: String, meaning: &'static str| {
        a.push(
            AuditFinding::new(code, PROTOCOLS, what, meaning)
                .line(line)
                .station(s),
        );
    };
    if p.issued > p.registered {
        bad(
            a,
            "protocol.issued-exceeds-registered",
            format!(
                "station {s}: {} ballots issued to {} registered voters",
                p.issued, p.registered
            ),
            "more ballots than voters: ballot stuffing or a falsified protocol",
        );
    }
    if p.electronic > p.issued {
        bad(
            a,
            "protocol.electronic-exceeds-issued",
            format!(
                "station {s}: {} electronic ballots but only {} issued",
                p.electronic, p.issued
            ),
            "the machine recorded more ballots than voters signed for: machine stuffing or a falsified protocol",
        );
    }
    let found = sum(&p.total.list).saturating_add(p.total.list_invalid);
    if found != p.issued {
        bad(
            a,
            "protocol.list-sum",
            format!(
                "station {s}: list votes {} + invalid {} = {found}, but {} ballots issued",
                sum(&p.total.list),
                p.total.list_invalid,
                p.issued
            ),
            "the list ballots counted do not add up to the ballots issued: a vote count was altered",
        );
    }
    if p.district.is_some() {
        let found = sum(&p.total.candidates).saturating_add(p.total.district_invalid);
        if found != p.issued {
            bad(
                a,
                "protocol.candidate-sum",
                format!(
                    "station {s}: candidate votes {} + invalid {} = {found}, but {} ballots issued",
                    sum(&p.total.candidates),
                    p.total.district_invalid,
                    p.issued
                ),
                "the district ballots counted do not add up to the ballots issued: a vote count was altered",
            );
        }
    }
    match &p.machine {
        None if p.electronic > 0 => bad(
            a,
            "protocol.electronic-without-machine",
            format!(
                "station {s}: {} electronic ballots but no machine",
                p.electronic
            ),
            "electronic ballots are reported where no machine (and no ledger) exists to vouch for them",
        ),
        None => {}
        Some(m) => {
            let found = sum(&m.list).saturating_add(m.list_invalid);
            if found != p.electronic {
                bad(
                    a,
                    "protocol.machine-list-sum",
                    format!(
                        "station {s}: the machine's list votes add up to {found}, but {} electronic ballots",
                        p.electronic
                    ),
                    "the machine's printed totals do not add up to its ballots: one of them was altered",
                );
            }
            if p.district.is_some() {
                let found = sum(&m.candidates).saturating_add(m.district_invalid);
                if found != p.electronic {
                    bad(
                        a,
                        "protocol.machine-candidate-sum",
                        format!(
                            "station {s}: the machine's candidate votes add up to {found}, but {} electronic ballots",
                            p.electronic
                        ),
                        "the machine's printed totals do not add up to its ballots: one of them was altered",
                    );
                }
            }
            let pairs = p
                .total
                .list
                .iter()
                .zip(&m.list)
                .enumerate()
                .map(|(i, (t, e))| {
                    (
                        format!(
                            "list {}",
                            a.manifest.parties.get(i).map_or("?", |s| s.as_str())
                        ),
                        *t,
                        *e,
                    )
                });
            let pairs: Vec<(String, u64, u64)> = pairs
                .chain([(
                    "list invalid".to_string(),
                    p.total.list_invalid,
                    m.list_invalid,
                )])
                .chain(
                    (0..m.candidates.len().max(p.total.candidates.len())).map(|c| {
                        (
                            format!("candidate {c}"),
                            p.total.candidates.get(c).copied().unwrap_or(0),
                            m.candidates.get(c).copied().unwrap_or(0),
                        )
                    }),
                )
                .collect();
            for (what, total, machine) in pairs {
                if machine > total {
                    bad(
                        a,
                        "protocol.machine-exceeds-total",
                        format!(
                            "station {s}: {what}: the machine counted {machine}, the whole station only {total}"
                        ),
                        "the station total is smaller than its electronic part: paper votes were taken away or the total was altered",
                    );
                }
            }
        }
    }
}

/// Streams `aggregates.csv` against the sums of the protocols (`None`: no protocols to sum;
/// only the file's own problems are reported). Keeps the published values of expected keys
/// only, so memory is bounded by the protocols, not by the file.
fn check_aggregates(
    a: &mut Auditor<'_, '_>,
    parties: &[String],
    protocols: Option<&[StationProtocol]>,
    r: Box<dyn Read>,
) {
    let expected: BTreeMap<AggregateKey, u64> = protocols
        .map(|p| aggregate(parties, p).into_iter().collect())
        .unwrap_or_default();
    // expected key → (published value, line)
    let mut published: BTreeMap<&AggregateKey, (u64, u64)> = BTreeMap::new();
    let mut duplicates: Vec<AuditFinding> = Vec::new();
    // (line, finding) of mismatched and unexpected totals, listed in file order
    let mut wrong: Vec<(u64, AuditFinding)> = Vec::new();
    let mut unexpected_unlisted = 0u64;
    let mut unexpected_listed = 0usize;
    let mut rows = 0u64;
    let problems = for_each_aggregate(BufReader::new(r), |k, v, line| {
        rows += 1;
        if protocols.is_none() {
            return;
        }
        let Some((key, e)) = expected.get_key_value(&k) else {
            if unexpected_listed < MAX_LISTED_PER_CODE {
                unexpected_listed += 1;
                wrong.push((
                    line,
                    AuditFinding::new(
                        "aggregate.unexpected",
                        AGGREGATES,
                        format!(
                            "{} = {v} is published but no station protocol contributes to it",
                            echo_key(&k)
                        ),
                        "a total without protocols behind it: invented at tabulation",
                    )
                    .line(line),
                ));
            } else {
                unexpected_unlisted += 1;
            }
            return;
        };
        if let Some((_, first)) = published.get(key) {
            duplicates.push(
                AuditFinding::new(
                    "aggregate.duplicate",
                    AGGREGATES,
                    format!("{key} is published twice (first on line {first})"),
                    "two different totals published for the same thing: at least one is false",
                )
                .line(line),
            );
            return;
        }
        published.insert(key, (v, line));
        if v != *e {
            wrong.push((line, AuditFinding::new(
                "aggregate.mismatch",
                AGGREGATES,
                format!("{key}: published {v}, the station protocols add up to {e}"),
                "the published total is not the sum of the station protocols: votes were added or removed during tabulation",
            ).line(line)));
        }
    });
    a.csv_problems(
        AGGREGATES,
        "aggregate.malformed",
        "a published total cannot be read: it cannot be reconciled with the station protocols",
        problems,
    );
    a.rep.checked.aggregates = rows;
    for f in duplicates {
        a.push(f);
    }
    wrong.sort_by_key(|(line, _)| *line);
    for (_, f) in wrong {
        a.push(f);
    }
    a.omit("aggregate.unexpected", unexpected_unlisted);
    if protocols.is_none() {
        return;
    }
    for (k, e) in &expected {
        if !published.contains_key(k) {
            a.push(AuditFinding::new(
                "aggregate.missing",
                AGGREGATES,
                format!("{k} is not published (the protocols add up to {e})"),
                "a total that should be published is absent: it cannot be checked",
            ));
        }
    }
}

/// A published key from the file, for a message: each field echoed.
fn echo_key(k: &AggregateKey) -> String {
    use crate::text::echo;
    AggregateKey {
        level: echo(&k.level),
        unit: echo(&k.unit),
        item: echo(&k.item),
        choice: echo(&k.choice),
    }
    .to_string()
}

#[allow(clippy::too_many_arguments)]
fn audit_ledger(
    a: &mut Auditor<'_, '_>,
    file: &str,
    station: u32,
    machine: u32,
    heads: Option<&PublishedHeads>,
    election_id: [u8; 32],
    lines: &[ReceiptLine],
    protocol: Option<Option<&StationProtocol>>,
) {
    let reader = match (a.open)(file) {
        Ok(Some(r)) => r,
        Ok(None) => {
            a.push(
                AuditFinding::new(
                    "package.missing-file",
                    file,
                    format!("{file} disappeared while the package was being audited"),
                    M_MISSING_FILE,
                )
                .machine(station, machine),
            );
            return;
        }
        Err(e) => {
            a.push(unreadable(file, &e).machine(station, machine));
            return;
        }
    };
    let head = heads.and_then(|h| h.get(station, machine));
    if heads.is_some() && head.is_none() {
        a.push(AuditFinding::new(
            "ledger.no-published-head",
            file,
            format!("no head is published for station {station} machine {machine}"),
            "nothing announced at close vouches for this ledger: a rewritten ledger could not be told from the original",
        ).machine(station, machine));
    }
    let codes: Vec<ReceiptCode> = lines.iter().map(|l| l.code).collect();
    let mut signed = read_checkpoints(a, station, machine);
    if let Some(w) = a.witness_checkpoints.get_mut(&(station, machine)) {
        signed.append(w);
    }
    let sizes: Vec<u64> = signed.iter().map(|s| s.cp.size).collect();
    // the leaves are kept only where a witness's checkpoint needs a consistency proof
    let keep = signed.iter().any(|s| s.witness.is_some());
    let reader = BufReader::new(reader);
    let verified = if keep {
        verify_log_with_leaves(reader, head, &codes, &sizes)
    } else {
        verify_log(reader, head, &codes, &sizes).map(|r| (r, Vec::new()))
    };
    let (rep, leaves): (VerifyReport, Vec<EntryHash>) = match verified {
        Ok(r) => r,
        Err(e) => {
            a.push(unreadable(file, &e).machine(station, machine));
            return;
        }
    };
    a.rep.checked.ledgers += 1;
    a.rep.checked.ballots += rep.n_ballots;
    a.rep.findings_omitted += rep.findings_omitted;
    // each code's receipt lines not yet matched to a finding, in file order
    let mut unmatched: HashMap<ReceiptCode, VecDeque<u64>> = HashMap::new();
    for l in lines {
        unmatched.entry(l.code).or_default().push_back(l.line);
    }
    let mut receipt_findings: Vec<AuditFinding> = Vec::new();
    // a run of consecutive sequence mismatches with the same shift (one deleted or inserted
    // entry shifts every later one) is one finding with a range: (index, shift, first offset)
    let mut seq_run: Option<(usize, u64, u64)> = None;
    for f in &rep.findings {
        if let Finding::SequenceMismatch {
            entry,
            offset,
            found,
        } = f
        {
            let shift = found.0.wrapping_sub(entry.0);
            if let Some((idx, run_shift, first_offset)) = seq_run
                && run_shift == shift
                && let Some(prev) = a.rep.findings.get_mut(idx)
                && prev.code == "ledger.sequence"
                && prev.file == file
                && prev.last_entry.or(prev.entry).map(|e| e + 1) == Some(entry.0)
            {
                let first = prev.entry.unwrap_or(entry.0);
                prev.last_entry = Some(entry.0);
                prev.what = format!(
                    "entries #{first}–#{} (bytes {first_offset}–{offset}) carry sequence numbers {} (deleted, inserted or reordered entries)",
                    entry.0,
                    describe_shift(shift)
                );
                continue;
            }
            seq_run = Some((a.rep.findings.len(), shift, *offset));
        }
        let (code, meaning) = ledger_meaning(f);
        let mut af =
            AuditFinding::new(code, file, f.to_string(), meaning).machine(station, machine);
        af.entry = ledger_entry(f);
        af.offset = f.offset();
        if let Finding::ReceiptNotFound { receipt } = f {
            if let Some(line) = unmatched.get_mut(receipt).and_then(VecDeque::pop_front) {
                af = af.line(line);
                af.file = RECEIPTS.to_string();
            }
            receipt_findings.push(af);
            continue;
        }
        a.push(af);
    }
    receipt_findings.sort_by_key(|f| f.line);
    for f in receipt_findings {
        a.push(f);
    }
    check_log(a, file, station, machine, &rep, &signed, head);
    check_consistency(a, file, (station, machine), &rep, &signed, leaves);
    check_turnout(a, file, (station, machine), rep.n_ballots);
    if let Some(g) = &rep.genesis {
        if let Some(e) = &a.election
            && let Some(shape) = e.ballot_shape(station)
            && shape != (g.n_lists, g.n_candidates)
        {
            a.push(AuditFinding::new(
                "election.ballot-shape",
                file,
                format!(
                    "the ledger's ballot has {} list(s) and {} candidate(s), election.txt gives station {station} {} and {}",
                    g.n_lists, g.n_candidates, shape.0, shape.1
                ),
                "the machine recorded another ballot than the election's: parties or the station's district were changed",
            ).machine(station, machine));
        }
        if g.election_id.0 != election_id {
            a.push(AuditFinding::new(
                "genesis.election-mismatch",
                file,
                format!("the genesis is bound to election {}, the manifest's election id is {}", g.election_id.to_hex(), a.manifest.election_id),
                "the ledger was made for another election (or a precomputed history was substituted)",
            ).machine(station, machine));
        }
        if (g.station, g.machine) != (station, machine) {
            a.push(AuditFinding::new(
                "genesis.station-mismatch",
                file,
                format!("the file is named for station {station} machine {machine}, its genesis says station {} machine {}", g.station, g.machine),
                "the ledger belongs to another machine: ledgers were swapped or renamed",
            ).machine(station, machine));
        }
    }
    // the machine's ledger against the station protocol's electronic part
    let Some(protocol) = protocol else {
        return;
    };
    let Some(p) = protocol else {
        a.push(
            AuditFinding::new(
                "ledger.unexpected",
                file,
                format!("there is no protocol for station {station}"),
                "a ledger for a station that reported nothing: its ballots are counted nowhere",
            )
            .machine(station, machine),
        );
        return;
    };
    if machine >= p.machines {
        a.push(AuditFinding::new(
            "ledger.unexpected",
            file,
            format!("station {station}'s protocol records {} machine(s), not machine {machine}", p.machines),
            "a ledger for a machine the station did not report: its ballots are counted nowhere",
        ).machine(station, machine));
        return;
    }
    if rep.genesis.is_none() {
        return; // nothing could be read: already reported
    }
    if rep.n_ballots != p.electronic {
        a.push(AuditFinding::new(
            "ledger.protocol-count",
            file,
            format!("the ledger holds {} ballots, the station protocol reports {} electronic ballots", rep.n_ballots, p.electronic),
            "the protocol's electronic count is not what the machine recorded: ballots were added to or removed from the count",
        ).machine(station, machine));
    }
    let empty = ProtocolCounts::default();
    let m = p.machine.as_ref().unwrap_or(&empty);
    let t = &rep.recounted;
    let mut cols: Vec<(TotalColumn, u64, u64)> = Vec::new();
    for i in 0..t.lists.len().max(m.list.len()) {
        cols.push((
            TotalColumn::List(i.min(254) as u8),
            t.lists.get(i).copied().unwrap_or(0),
            m.list.get(i).copied().unwrap_or(0),
        ));
    }
    cols.push((TotalColumn::ListNone, t.list_none, m.list_invalid));
    let n_candidates = rep.genesis.map_or(0, |g| g.n_candidates);
    if p.district.is_none() && n_candidates > 0 {
        a.push(AuditFinding::new(
            "ledger.protocol-district",
            file,
            format!("the ledger's ballot has {n_candidates} district candidate(s), the station protocol reports no district for station {station}"),
            "the station's district votes were taken out of the published count: the ledger records them, the protocol does not",
        ).machine(station, machine));
    }
    // the ledger's candidate votes are compared whenever its ballot has candidates: a protocol
    // that drops its district cannot drop them from the comparison
    if p.district.is_some() || n_candidates > 0 {
        for c in 0..t.candidates.len().max(m.candidates.len()) {
            cols.push((
                TotalColumn::Candidate(c.min(65534) as u16),
                t.candidates.get(c).copied().unwrap_or(0),
                m.candidates.get(c).copied().unwrap_or(0),
            ));
        }
        cols.push((
            TotalColumn::CandidateNone,
            t.candidate_none,
            m.district_invalid,
        ));
    }
    for (col, ledger, reported) in cols {
        if ledger != reported {
            let name = match col {
                TotalColumn::List(i) => format!(
                    "list {}",
                    a.manifest
                        .parties
                        .get(i as usize)
                        .map_or("?", |s| s.as_str())
                ),
                TotalColumn::ListNone => "list invalid".into(),
                TotalColumn::Candidate(c) => format!("candidate {c}"),
                TotalColumn::CandidateNone => "candidate invalid".into(),
            };
            a.push(AuditFinding::new(
                "ledger.protocol-totals",
                file,
                format!("{name}: the ledger's ballots count {ledger}, the station protocol's machine part reports {reported}"),
                "the protocol does not report what the machine recorded: the electronic result was altered between machine and protocol (or the ledger was)",
            ).machine(station, machine));
        }
    }
}

/// `1 higher than their position`, `2 lower than their position`.
fn describe_shift(shift: u64) -> String {
    let signed = shift as i64;
    if signed >= 0 {
        format!("{signed} higher than their position")
    } else {
        format!("{} lower than their position", signed.unsigned_abs())
    }
}

fn ledger_entry(f: &Finding) -> Option<u64> {
    use Finding::*;
    match f {
        Truncated { after, .. } | MissingClose { after, .. } => after.map(|s| s.0),
        UnknownTag { entry, .. }
        | UnexpectedGenesis { entry, .. }
        | SequenceMismatch { entry, .. }
        | BrokenLink { entry, .. }
        | ChoiceOutOfRange { entry, .. } => Some(entry.0),
        MissingGenesis { .. } => Some(0),
        _ => None,
    }
}

/// The finding code and what it means for the election.
fn ledger_meaning(f: &Finding) -> (&'static str, &'static str) {
    use Finding::*;
    match f {
        BadMagic { .. } => (
            "ledger.bad-magic",
            "the file is not a tamga ledger (replaced or corrupted): none of the machine's ballots can be verified",
        ),
        UnsupportedVersion { .. } => (
            "ledger.unsupported-version",
            "the ledger claims a format this tamga does not know (corrupted or from another tool): not verified",
        ),
        Truncated { .. } => (
            "ledger.truncated",
            "the ledger was cut short: ballots after the cut are missing from the record",
        ),
        MissingClose { .. } => (
            "ledger.missing-close",
            "the ledger ends without its seal: the machine's tail (with its committed totals) was removed, or the machine never closed",
        ),
        UnknownTag { .. } => (
            "ledger.unknown-tag",
            "a record is corrupted or foreign bytes were inserted: nothing after it can be verified",
        ),
        TrailingData { .. } => (
            "ledger.trailing-data",
            "bytes were appended after the seal: they are not part of the chain",
        ),
        MissingGenesis { .. } => (
            "ledger.missing-genesis",
            "the ledger does not start with its genesis: its binding to election, station and launch code was removed",
        ),
        UnexpectedGenesis { .. } => (
            "ledger.unexpected-genesis",
            "a second genesis inside the ledger: another machine's history was spliced in",
        ),
        GenesisVersionMismatch { .. } => (
            "ledger.genesis-version",
            "the genesis was altered: the chain's binding cannot be trusted",
        ),
        SequenceMismatch { .. } => (
            "ledger.sequence",
            "entries were deleted, inserted or reordered at this point",
        ),
        BrokenLink { .. } => (
            "ledger.broken-link",
            "this entry (or the one before it) was altered after it was recorded",
        ),
        ChoiceOutOfRange { .. } => (
            "ledger.choice-out-of-range",
            "an entry records a choice that is not on the ballot: altered or corrupted",
        ),
        CloseShapeMismatch { .. } => (
            "ledger.close-shape",
            "the seal describes another ballot than the genesis: the close record was altered or swapped",
        ),
        CloseCountMismatch { .. } => (
            "ledger.close-count",
            "the seal commits a different number of ballots than the ledger holds: ballots were added or removed",
        ),
        CloseTotalsMismatch { .. } => (
            "ledger.close-totals",
            "the machine's sealed totals do not match its ballots: totals or ballots were altered",
        ),
        ElectionMismatch { .. } => (
            "ledger.election-mismatch",
            "the ledger belongs to another election than its published head",
        ),
        MachineMismatch { .. } => (
            "ledger.machine-mismatch",
            "the ledger belongs to another machine than its published head: ledgers were swapped",
        ),
        PublishedCountMismatch { .. } => (
            "ledger.published-count",
            "the ledger holds a different number of ballots than announced at close: ballots were added or removed after close",
        ),
        HeadMismatch { .. } => (
            "ledger.head-mismatch",
            "the ledger is not the one sealed at close: it changed after its head was published (or the published head was altered)",
        ),
        ReceiptNotFound { .. } => (
            "receipt.not-found",
            "a voter's receipt is not in the ledger: their ballot, or one before it, was altered or removed — or the receipt is forged",
        ),
    }
}

/// `election.txt`: its SHA-256 must be the manifest's election id; it must parse; its parties and
/// regions must be the manifest's.
fn check_election(a: &mut Auditor<'_, '_>, election_id: [u8; 32]) {
    let Some(text) = a.read_text(ELECTION, MAX_ELECTION_BYTES, usize::MAX, 1 << 20) else {
        return;
    };
    if ElectionManifest::election_id(text.as_bytes()) != election_id {
        a.push(AuditFinding::new(
            "election.id-mismatch",
            ELECTION,
            format!(
                "SHA-256 of election.txt is {}, the manifest's election id is {}",
                crate::ledger::to_hex(&ElectionManifest::election_id(text.as_bytes())),
                a.manifest.election_id
            ),
            "the election manifest was altered (parties, districts, stations or keys relabelled or moved): nothing bound to the election id vouches for it",
        ));
    }
    match ElectionManifest::parse(&text) {
        Ok(e) => {
            let regions: Vec<String> = a.manifest.regions.iter().map(|r| region_name(r)).collect();
            if e.parties != a.manifest.parties || e.regions != regions {
                a.push(AuditFinding::new(
                    "election.manifest-mismatch",
                    ELECTION,
                    "the parties or regions of election.txt differ from manifest.json's",
                    "the package's labels are not the election's: parties or regions were relabelled",
                ));
            }
            a.election = Some(e);
        }
        Err(problems) => {
            for (line, msg) in problems {
                a.push(
                    AuditFinding::new(
                        "election.malformed",
                        ELECTION,
                        msg,
                        "the election manifest cannot be read: stations, keys and ballots cannot be checked against it",
                    )
                    .line(line),
                );
            }
        }
    }
}

/// `heads.note`: the commission's signature over the log of machine heads, and its root over
/// `heads.txt`.
fn check_heads_note(
    a: &mut Auditor<'_, '_>,
    heads: Option<&PublishedHeads>,
    election_id: [u8; 32],
) {
    let Some(key) = a.election.as_ref().map(|e| e.commission) else {
        return;
    };
    let Some(text) = a.read_text(HEADS_NOTE, MAX_NOTE_BYTES as u64, 64, 1024) else {
        return;
    };
    let origin = heads_origin(&election_id);
    let cp = match open_checkpoint(&text, &origin, &key) {
        Ok(cp) => cp,
        Err(e) => {
            a.push(AuditFinding::new(
                "heads.signature",
                HEADS_NOTE,
                format!("the commission's checkpoint of the heads: {e}"),
                "the published heads are not signed by the commission named in election.txt: they may have been replaced",
            ));
            return;
        }
    };
    if let Some(h) = heads {
        let want = heads_checkpoint(h);
        if (want.size, want.root) != (cp.size, cp.root) {
            a.push(AuditFinding::new(
                "heads.root-mismatch",
                HEADS_NOTE,
                format!(
                    "the commission signed {} heads with root {}, heads.txt holds {} with root {}",
                    cp.size, cp.root, want.size, want.root
                ),
                "heads.txt is not the log of heads the commission signed: heads were added, removed or changed",
            ));
        }
    }
}

/// Reads the witnesses' files: heads files are compared with `heads.txt` at once; signed
/// checkpoints of the commission's log with `heads.note`; machines' checkpoints are verified and
/// kept for their ledger.
fn read_witnesses(
    a: &mut Auditor<'_, '_>,
    witnesses: &[(String, String)],
    heads: Option<&PublishedHeads>,
    election_id: [u8; 32],
) {
    const M_SIG: &str = "the witness's checkpoint is not signed by a key in election.txt: it cannot vouch for anything (or election.txt was replaced)";
    for (name, text) in witnesses {
        let file = format!("--heads {}", crate::text::echo(name));
        if text.starts_with(TURNOUT_FIRST_LINE) {
            read_turnout(a, name, &file, text, election_id);
            continue;
        }
        if text.starts_with(crate::ledger::HEADS_FIRST_LINE) {
            let theirs = match PublishedHeads::parse(text) {
                Ok(h) => h,
                Err(e) => {
                    a.push(AuditFinding::new(
                        "witness.malformed",
                        &file,
                        crate::text::echo_max(&e.to_string(), 512),
                        "the witness's heads cannot be read: they vouch for nothing",
                    ));
                    continue;
                }
            };
            for w in theirs.heads() {
                let ours = heads.and_then(|h| h.get(w.station, w.machine));
                if theirs.election_id != election_id
                    || ours.map(|o| (o.n_ballots, o.head)) != Some((w.n_ballots, w.head))
                {
                    a.push(AuditFinding::new(
                        "witness.head-mismatch",
                        &file,
                        format!(
                            "the witness recorded {} ballots and head {} for station {} machine {}; heads.txt has {}",
                            w.n_ballots,
                            w.head,
                            w.station,
                            w.machine,
                            ours.map_or("nothing".to_string(), |o| format!("{} ballots and head {}", o.n_ballots, o.head))
                        ),
                        "the heads announced at close (as an observer recorded them) are not the package's: the package was rewritten after close, or different heads were shown to different observers",
                    ).machine(w.station, w.machine));
                }
            }
            continue;
        }
        let Some(notes) = split_notes(text, MAX_CHECKPOINTS) else {
            a.push(AuditFinding::new(
                "witness.malformed",
                &file,
                "too many notes",
                "the witness file vouches for nothing",
            ));
            continue;
        };
        for note in notes {
            let origin_line = note.split('\n').next().unwrap_or("");
            let Some(e) = &a.election else {
                continue;
            };
            // which log: the commission's heads, or a machine's
            if origin_line == heads_origin(&election_id) {
                let key = e.commission;
                match open_checkpoint(note, origin_line, &key) {
                    Ok(cp) => {
                        if let Some(h) = heads {
                            let ours = heads_checkpoint(h);
                            if (ours.size, ours.root) != (cp.size, cp.root) {
                                a.push(AuditFinding::new(
                                    "witness.heads-mismatch",
                                    &file,
                                    format!("the witness holds the commission's signed log of {} heads with root {}; heads.txt gives {} with root {}", cp.size, cp.root, ours.size, ours.root),
                                    "the commission signed two different logs of heads: a split view, or heads changed after the witness recorded them",
                                ));
                            }
                        }
                    }
                    Err(err) => a.push(AuditFinding::new(
                        "witness.signature",
                        &file,
                        err.to_string(),
                        M_SIG,
                    )),
                }
                continue;
            }
            let found = e
                .machines
                .iter()
                .find(|(s, m, _)| machine_origin(&election_id, *s, *m) == origin_line)
                .copied();
            let Some((station, machine, key)) = found else {
                a.push(AuditFinding::new(
                    "witness.unknown-log",
                    &file,
                    format!("a checkpoint of log {}, which is no machine of this election", crate::text::echo(origin_line)),
                    "the witness's checkpoint belongs to another election or machine (or election.txt was replaced)",
                ));
                continue;
            };
            match open_checkpoint(note, origin_line, &key) {
                Ok(cp) => a
                    .witness_checkpoints
                    .entry((station, machine))
                    .or_default()
                    .push(Signed {
                        cp,
                        witness: Some(name.clone()),
                    }),
                Err(err) => a.push(
                    AuditFinding::new("witness.signature", &file, err.to_string(), M_SIG)
                        .machine(station, machine),
                ),
            }
        }
    }
}

/// Every protocol's station as `election.txt` places it, and every station there reported.
fn check_stations_bound(a: &mut Auditor<'_, '_>, protocols: &[StationProtocol], lines: &[u64]) {
    let Some(e) = a.election.take() else {
        return;
    };
    const M: &str = "the station is reported elsewhere than the election manifest places it: it was moved to another region or district, or its machines changed";
    for (p, &line) in protocols.iter().zip(lines) {
        match e.stations.get(p.station as usize) {
            None => a.push(
                AuditFinding::new(
                    "election.station-mismatch",
                    PROTOCOLS,
                    format!("station {} is not in election.txt", p.station),
                    M,
                )
                .line(line)
                .station(p.station),
            ),
            Some(s) if (s.region, s.district, s.machines) != (p.region, p.district, p.machines) => {
                let d = |d: Option<u32>| d.map_or("none".to_string(), |d| d.to_string());
                a.push(
                    AuditFinding::new(
                        "election.station-mismatch",
                        PROTOCOLS,
                        format!(
                            "station {}: the protocol gives region {}, district {}, {} machine(s); election.txt region {}, district {}, {} machine(s)",
                            p.station, p.region, d(p.district), p.machines, s.region, d(s.district), s.machines
                        ),
                        M,
                    )
                    .line(line)
                    .station(p.station),
                );
            }
            Some(_) => {}
        }
    }
    let reported: BTreeSet<u32> = protocols.iter().map(|p| p.station).collect();
    for i in 0..e.stations.len() as u32 {
        if !reported.contains(&i) {
            a.push(
                AuditFinding::new(
                    "election.station-unreported",
                    PROTOCOLS,
                    format!("station {i} is in election.txt but has no protocol"),
                    "a station of the election reported nothing: its votes are missing from the count",
                )
                .station(i),
            );
        }
    }
    a.election = Some(e);
}

/// Reads a machine's signed checkpoints from the package (`checkpoints/…`), verifying each.
fn read_checkpoints(a: &mut Auditor<'_, '_>, station: u32, machine: u32) -> Vec<Signed> {
    let Some(key) = a.election.as_ref().map(|e| e.machine_key(station, machine)) else {
        return Vec::new(); // no election.txt: already a finding
    };
    let file = checkpoints_file_name(station, machine);
    let Some(key) = key else {
        a.push(AuditFinding::new(
            "election.unknown-machine",
            &file,
            format!("election.txt names no key for station {station} machine {machine}"),
            "a ledger from a machine the election does not know: its ballots are vouched for by no key",
        ).machine(station, machine));
        return Vec::new();
    };
    let Some(text) = a.read_text(&file, MAX_CHECKPOINTS_BYTES, usize::MAX, 1024) else {
        return Vec::new();
    };
    let origin = machine_origin(
        &a.manifest.election_id().unwrap_or([0; 32]),
        station,
        machine,
    );
    let Some(notes) = split_notes(&text, MAX_CHECKPOINTS) else {
        a.push(
            AuditFinding::new(
                "checkpoint.malformed",
                &file,
                format!("more than {MAX_CHECKPOINTS} checkpoints"),
                "the machine's checkpoints cannot be read",
            )
            .machine(station, machine),
        );
        return Vec::new();
    };
    let mut out = Vec::new();
    for note in notes {
        match open_checkpoint(note, &origin, &key) {
            Ok(cp) => out.push(Signed { cp, witness: None }),
            Err(e) => {
                let code = match e {
                    NoteError::Malformed(_) => "checkpoint.malformed",
                    _ => "checkpoint.signature",
                };
                a.push(AuditFinding::new(
                    code,
                    &file,
                    e.to_string(),
                    "a checkpoint is not the machine's (altered, forged or unreadable): it vouches for nothing",
                ).machine(station, machine));
            }
        }
    }
    if out.is_empty() {
        a.push(AuditFinding::new(
            "checkpoint.missing",
            &file,
            "no checkpoint signed by the machine",
            "nothing the machine signed vouches for this ledger: a rewritten ledger could not be told from the original",
        ).machine(station, machine));
    }
    out
}

/// The ledger's tree against every signed checkpoint (the package's and the witnesses'), the
/// closing checkpoint against the ledger and the published head, and the receipts' proofs.
fn check_log(
    a: &mut Auditor<'_, '_>,
    file: &str,
    station: u32,
    machine: u32,
    rep: &VerifyReport,
    signed: &[Signed],
    head: Option<&PublishedHead>,
) {
    let (tree_size, tree_root) = rep.tree.unwrap_or((0, EntryHash::ZERO));
    for s in signed {
        let (prefix, by) = match &s.witness {
            None => ("checkpoint", "the machine".to_string()),
            Some(w) => (
                "witness",
                format!("the machine (witness file {})", crate::text::echo(w)),
            ),
        };
        let code = |what: &'static str| -> &'static str {
            match (prefix, what) {
                ("checkpoint", "beyond") => "checkpoint.beyond-ledger",
                ("checkpoint", "root") => "checkpoint.root-mismatch",
                ("checkpoint", _) => "checkpoint.head-mismatch",
                (_, "beyond") => "witness.beyond-ledger",
                (_, "root") => "witness.root-mismatch",
                _ => "witness.head-mismatch",
            }
        };
        let at = rep.tree_roots.iter().find(|r| r.size == s.cp.size);
        match at {
            None => a.push(AuditFinding::new(
                code("beyond"),
                file,
                format!("{by} signed a checkpoint of {} entries; the ledger holds {tree_size} complete entries", s.cp.size),
                "entries the machine recorded and signed are missing from the ledger: it was truncated or rewritten shorter",
            ).machine(station, machine)),
            Some(r) if r.root != s.cp.root => a.push(AuditFinding::new(
                code("root"),
                file,
                format!("{by} signed root {} for its first {} entries; the ledger's first {} entries give {}", s.cp.root, s.cp.size, s.cp.size, r.root),
                "the ledger's entries up to this checkpoint are not those the machine signed: they were rewritten after it",
            ).machine(station, machine)),
            Some(r) if s.cp.head.is_some_and(|h| h != r.last) => a.push(AuditFinding::new(
                code("head"),
                file,
                format!("{by} signed chain head {} at {} entries; the ledger's recomputed chain has {}", s.cp.head.unwrap_or(EntryHash::ZERO), s.cp.size, r.last),
                "the chain at this checkpoint is not the one the machine signed",
            ).machine(station, machine)),
            Some(_) => {}
        }
    }
    // the package's last checkpoint is the machine's close: nothing after it, and it is the head
    // announced at close
    let last = signed
        .iter()
        .filter(|s| s.witness.is_none())
        .max_by_key(|s| s.cp.size);
    if let Some(last) = last {
        // the machine signs at every multiple of the election's interval below its close
        let interval = a.election.as_ref().map_or(0, |e| e.checkpoint_interval);
        if let Some(k_max) = last.cp.size.min(tree_size).checked_div(interval) {
            let have: BTreeSet<u64> = signed
                .iter()
                .filter(|s| s.witness.is_none())
                .map(|s| s.cp.size)
                .collect();
            let mut missing = (1..=k_max)
                .map(|k| k * interval)
                .filter(|n| *n < last.cp.size && !have.contains(n));
            if let Some(first) = missing.next() {
                let more = missing.count();
                a.push(AuditFinding::new(
                    "checkpoint.skipped",
                    file,
                    format!(
                        "the machine signed no checkpoint at {first} entries{}, though election.txt has it sign every {interval}",
                        if more > 0 { format!(" (nor at {more} more multiples)") } else { String::new() }
                    ),
                    "checkpoints the machine must have signed during the day are not in the package: removed, or the machine did not sign on schedule — the entries they would have fixed rest on the closing checkpoint alone",
                ).machine(station, machine));
            }
        }
        if tree_size > last.cp.size {
            a.push(AuditFinding::new(
                "checkpoint.unsigned-entries",
                file,
                format!("the ledger holds {tree_size} entries, the machine's last checkpoint (at close) {}", last.cp.size),
                "entries were added after the machine closed: nothing it signed vouches for them",
            ).machine(station, machine));
        }
        if let Some(h) = head
            && last.cp.head.is_some_and(|c| c != h.head)
        {
            a.push(AuditFinding::new(
                "checkpoint.published-head",
                file,
                format!("heads.txt announces head {}, the machine signed {} at close", h.head, last.cp.head.unwrap_or(EntryHash::ZERO)),
                "the head published for this machine is not the one it signed at close: the published head (and probably the ledger) was replaced",
            ).machine(station, machine));
        }
        let _ = tree_root;
    }
    // receipts' inclusion proofs, against the machine's signed checkpoints only
    let Some(proofs) = a.proofs.remove(&(station, machine)) else {
        return;
    };
    for l in proofs {
        let p = &l.proof;
        let root = signed
            .iter()
            .find(|s| s.cp.size == p.size)
            .map(|s| s.cp.root);
        let finding = match root {
            None => Some((
                "proof.no-checkpoint",
                format!(
                    "receipt {}: the proof is for a tree of {} entries, which no checkpoint of the machine has",
                    p.code, p.size
                ),
                "the proof cannot be checked against anything the machine signed",
            )),
            Some(root) if !p.check(&root) => Some((
                "proof.invalid",
                format!(
                    "receipt {}: the inclusion proof for entry {} does not lead to the machine's signed root",
                    p.code, p.entry
                ),
                "the voter's ballot is not in the log the machine signed (or the proof was altered)",
            )),
            Some(_) => None,
        };
        if let Some((code, what, meaning)) = finding {
            let mut f = AuditFinding::new(code, PROOFS, what, meaning)
                .line(l.line)
                .machine(station, machine);
            f.entry = Some(p.entry);
            a.push(f);
        }
    }
}

/// First line of an observers' turnout file (`--heads`), followed by the election id.
pub const TURNOUT_FIRST_LINE: &str = "tamga-turnout 1";
/// Most lines of a turnout file (one per machine).
const MAX_TURNOUT_LINES: usize = 2_000_001;

/// Parses an observers' turnout file (package-format.md, check C9): `tamga-turnout 1 <election
/// id>`, then `<station> <machine> <voters seen>` per machine, strictly (decimals without sign
/// or leading zeros, one space, `\n` after every line). A bad file is one `witness.malformed`
/// finding naming its line and vouches for nothing.
fn read_turnout(
    a: &mut Auditor<'_, '_>,
    name: &str,
    file: &str,
    text: &str,
    election_id: [u8; 32],
) {
    let parsed = parse_turnout(text, election_id);
    match parsed {
        Ok(rows) => {
            for (station, machine, seen) in rows {
                a.witness_turnout
                    .entry((station, machine))
                    .or_default()
                    .push((name.to_string(), seen));
            }
        }
        Err((line, why)) => a.push(
            AuditFinding::new(
                "witness.malformed",
                file,
                echo_max(&why, 512),
                "the observers' turnout cannot be read: it vouches for nothing",
            )
            .line(line),
        ),
    }
}

/// One line of a turnout file: station, machine, voters seen.
type TurnoutRow = (u32, u32, u64);

/// `(station, machine, voters seen)` per line, or the first bad line and why.
fn parse_turnout(text: &str, election_id: [u8; 32]) -> Result<Vec<TurnoutRow>, (u64, String)> {
    fn number<T: std::str::FromStr>(s: &str) -> Option<T> {
        let canonical = !s.is_empty()
            && s.bytes().all(|b| b.is_ascii_digit())
            && (s == "0" || !s.starts_with('0'));
        canonical.then(|| s.parse().ok()).flatten()
    }
    let Some(body) = text.strip_suffix('\n') else {
        return Err((1, "the last line does not end with a newline".into()));
    };
    let mut lines = body.split('\n');
    let first = lines.next().unwrap_or("");
    let want = format!(
        "{TURNOUT_FIRST_LINE} {}",
        crate::ledger::to_hex(&election_id)
    );
    if first != want {
        return Err((
            1,
            format!("the first line must be `{want}` (this election's id)"),
        ));
    }
    let mut rows: Vec<(u32, u32, u64)> = Vec::new();
    for (i, line) in lines.enumerate() {
        let n = i as u64 + 2;
        if i + 1 >= MAX_TURNOUT_LINES {
            return Err((n, format!("more than {MAX_TURNOUT_LINES} lines")));
        }
        let f: Vec<&str> = line.split(' ').collect();
        let row = match f.as_slice() {
            [s, m, c] => number::<u32>(s).zip(number::<u32>(m)).zip(number::<u64>(c)),
            _ => None,
        };
        let Some(((s, m), c)) = row else {
            return Err((
                n,
                "expected `<station> <machine> <voters seen>` (decimals, one space apart)".into(),
            ));
        };
        if rows.last().is_some_and(|&(ps, pm, _)| (ps, pm) >= (s, m)) {
            return Err((
                n,
                "lines must be sorted by station and machine, each once".into(),
            ));
        }
        rows.push((s, m, c));
    }
    Ok(rows)
}

/// The ledger's ballot count against the observers' counts of voters who used the machine
/// (`witness.turnout-mismatch`): more ballots than voters seen is stuffing through the machine,
/// fewer is ballots dropped by it — both invisible to hashing (ledger-format.md §5.1).
fn check_turnout(
    a: &mut Auditor<'_, '_>,
    file: &str,
    (station, machine): (u32, u32),
    ballots: u64,
) {
    let Some(seen) = a.witness_turnout.remove(&(station, machine)) else {
        return;
    };
    for (name, voters) in seen {
        if voters == ballots {
            continue;
        }
        let what = if ballots > voters {
            format!(
                "the ledger holds {ballots} ballots; observers (--heads {}) saw {voters} voters use the machine: {} more ballots than voters",
                crate::text::echo(&name),
                ballots - voters
            )
        } else {
            format!(
                "the ledger holds {ballots} ballots; observers (--heads {}) saw {voters} voters use the machine: {} ballots missing",
                crate::text::echo(&name),
                voters - ballots
            )
        };
        a.push(
            AuditFinding::new(
                "witness.turnout-mismatch",
                file,
                what,
                "the machine recorded another number of ballots than voters were seen to cast: ballots stuffed through it (more) or dropped by it (fewer) — hashing cannot show either",
            )
            .machine(station, machine),
        );
    }
}

/// Each witness checkpoint against the machine's signed closing checkpoint by a consistency
/// proof (RFC 9162 §2.1.4) made from the ledger's tree (`witness.inconsistent`): where the ledger
/// is what the machine signed at close, a witness checkpoint that the close does not extend
/// shows the machine signed two histories (a fork, a split view).
fn check_consistency(
    a: &mut Auditor<'_, '_>,
    file: &str,
    (station, machine): (u32, u32),
    rep: &VerifyReport,
    signed: &[Signed],
    leaves: Vec<EntryHash>,
) {
    let Some(close) = signed
        .iter()
        .filter(|s| s.witness.is_none())
        .max_by_key(|s| s.cp.size)
    else {
        return;
    };
    let n = close.cp.size;
    let ledger_is_the_close = rep
        .tree_roots
        .iter()
        .any(|r| r.size == n && r.root == close.cp.root);
    if !ledger_is_the_close || (leaves.len() as u64) < n {
        return; // the ledger is not what the machine signed: already a checkpoint finding
    }
    let mut leaves = leaves;
    leaves.truncate(n as usize);
    let tree = Tree::from_leaf_hashes(leaves);
    for w in signed.iter().filter(|s| s.witness.is_some()) {
        let m = w.cp.size;
        if m > n {
            continue; // past the close: witness.beyond-ledger or checkpoint.unsigned-entries
        }
        let proof = tree.consistency_proof(m, n).unwrap_or_default();
        if let Err(e) = verify_consistency(m, n, &w.cp.root, &close.cp.root, &proof) {
            a.push(AuditFinding::new(
                "witness.inconsistent",
                file,
                format!(
                    "the machine's checkpoint of {m} entries recorded by the witness (--heads {}) is not a prefix of its signed closing checkpoint of {n} entries: the consistency proof from the ledger fails ({e})",
                    crate::text::echo(w.witness.as_deref().unwrap_or(""))
                ),
                "the machine's key signed two histories that are not one append-only log: a fork shown to the witness, or a rewrite re-signed after it",
            )
            .machine(station, machine));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ledger_names_round_trip_and_reject_lookalikes() {
        assert_eq!(parse_ledger_name(&ledger_file_name(12, 0)), Some((12, 0)));
        assert_eq!(parse_ledger_name("station-00012-m0.tgl"), Some((12, 0)));
        assert_eq!(parse_ledger_name("station-12-m0.tgl"), None);
        assert_eq!(parse_ledger_name("station-00012-m00.tgl"), None);
        assert_eq!(parse_ledger_name("station-00012-m0.tgl.bak"), None);
        assert_eq!(parse_ledger_name("notes.txt"), None);
        assert_eq!(
            parse_ledger_name(&ledger_file_name(123456, 3)),
            Some((123456, 3))
        );
    }
}
