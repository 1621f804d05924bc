//! Verification of a ledger file: every finding, each with its entry index and byte offset.
//!
//! Owns the rules of `docs/ledger-format.md` §5: framing, sequence numbers, every
//! link of the chain, the close record against a recount, and — when given — the published head
//! and voters' receipts. Never stops at the first problem (only a framing error ends reading,
//! since nothing after it can be located), never panics on any input, and holds one record at a
//! time: memory is bounded by [`MAX_FINDINGS`] and the largest close record, not by the ledger's
//! length.
//!
//! Links are checked against the *stored* previous hash, so that each tampered place is reported
//! where it is (an in-place edit breaks the link into that entry; an edit whose hash was
//! recomputed breaks the link out of it). Independently the chain is *recomputed* from the
//! genesis along the records as they stand; the published head and the receipts are compared
//! with that recomputation (RFC 9162 §2.1.4's consistency idea: a trusted later hash vouches for
//! everything before it). While the two agree — the honest case — each entry is hashed once.
//!
//! Each stored link depends only on stored bytes, so links are independent of each other: ballot
//! records lying in the read buffer are checked [`LANES`] at a time with one lockstep compression
//! (`super::lanes`). When all of them are in sequence, their links hold and the two chains agree,
//! only counting is left; otherwise each goes through the one-record path with its precomputed
//! link, so findings and their order are exactly those of checking one record at a time.

use std::io::{self, Read};

use serde::Serialize;

use super::chain::{Genesis, Totals};
use super::file::{BALLOT_RECORD_LEN, BufferedBallot};
use super::file::{LedgerReader, ReadError, Record, write_ledger};
use super::hash::{BALLOT_BODY_LEN, EntryHash, Seq, ballot_hash, entry_hash, to_hex};
use super::heads::PublishedHead;
use super::lanes::{Backend, BallotTail, LANES};
use super::merkle::ChunkTree;
use super::receipt::{ReceiptCode, receipt_code};
use super::{BallotChoice, CANDIDATE_NONE, FORMAT_VERSION, LIST_NONE, TAG_BALLOT, TAG_GENESIS};

/// At most this many per-entry findings are kept in a report; further ones are only counted
/// ([`VerifyReport::findings_omitted`]). Findings about the whole ledger (head, ballot count,
/// receipts) are always kept.
pub const MAX_FINDINGS: usize = 1000;

/// Which total of a close record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum TotalColumn {
    /// Votes for list `i`.
    List(u8),
    /// Ballots with no valid list vote.
    ListNone,
    /// Votes for district candidate `i`.
    Candidate(u16),
    /// Ballots with no valid candidate vote.
    CandidateNone,
}

impl std::fmt::Display for TotalColumn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TotalColumn::List(i) => write!(f, "list {i}"),
            TotalColumn::ListNone => f.write_str("ballots without a valid list vote"),
            TotalColumn::Candidate(c) => write!(f, "candidate {c}"),
            TotalColumn::CandidateNone => f.write_str("ballots without a valid candidate vote"),
        }
    }
}

/// `last complete entry: #2`, or that there is none.
fn last_complete(after: Option<Seq>) -> String {
    match after {
        Some(s) => format!("last complete entry: #{}", s.0),
        None => "no complete entry".to_string(),
    }
}

/// One thing wrong with a ledger. `entry` is the record's position in the file (0 = the first
/// record after the header), `offset` the byte offset where the record starts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, thiserror::Error)]
pub enum Finding {
    /// The file does not start with the ledger magic; nothing else was read.
    #[error("not a tamga ledger: the file starts with bytes {} (hex), not TAMGALDG", to_hex(.found))]
    BadMagic {
        /// The first bytes (zero-padded).
        found: [u8; 8],
    },
    /// The header's format version is not supported; nothing else was read.
    #[error("ledger format version {found} is not supported (expected {FORMAT_VERSION})")]
    UnsupportedVersion {
        /// Version in the header.
        found: u16,
    },
    /// The file ends inside the header or a record.
    #[error(
        "truncated: the {what} at byte {offset} needs {expected} bytes, only {found} remain ({})", last_complete(*.after)
    )]
    Truncated {
        /// Where the incomplete header or record starts.
        offset: u64,
        /// What was being read.
        what: &'static str,
        /// Bytes it needs.
        expected: u64,
        /// Bytes that were left.
        found: u64,
        /// Position of the last complete record, if any.
        after: Option<Seq>,
    },
    /// The file ends at a record boundary without a close record.
    #[error(
        "the ledger ends at byte {offset} without a close record ({})", last_complete(*.after)
    )]
    MissingClose {
        /// End of the file.
        offset: u64,
        /// Position of the last complete record, if any.
        after: Option<Seq>,
    },
    /// A record starts with an unknown tag; nothing after it could be read.
    #[error(
        "unknown record tag 0x{tag:02x} at byte {offset} (entry {entry}); the rest of the file cannot be read"
    )]
    UnknownTag {
        /// Position the record would have.
        entry: Seq,
        /// Where it starts.
        offset: u64,
        /// The byte found.
        tag: u8,
    },
    /// Bytes after the close record.
    #[error("{len} bytes of trailing data after the close record, from byte {offset}")]
    TrailingData {
        /// Where they start.
        offset: u64,
        /// How many.
        len: u64,
    },
    /// The first record is not a genesis record.
    #[error("the first record (byte {offset}) is not a genesis record (tag 0x{tag:02x})")]
    MissingGenesis {
        /// Where the first record starts.
        offset: u64,
        /// Its tag.
        tag: u8,
    },
    /// A genesis record after the first record.
    #[error("entry {entry} at byte {offset} is a second genesis record")]
    UnexpectedGenesis {
        /// Its position.
        entry: Seq,
        /// Where it starts.
        offset: u64,
    },
    /// The genesis record hashes a different format version than the header declares.
    #[error("the genesis record declares format version {genesis}, the header {header}")]
    GenesisVersionMismatch {
        /// Version in the header.
        header: u16,
        /// Version in the genesis body.
        genesis: u16,
    },
    /// A record's stored sequence number is not its position.
    #[error(
        "entry {entry} at byte {offset} carries sequence number {found} (deleted, inserted or reordered entries)"
    )]
    SequenceMismatch {
        /// Its position.
        entry: Seq,
        /// Where it starts.
        offset: u64,
        /// Its stored sequence number.
        found: Seq,
    },
    /// A record's stored hash is not SHA-256(tag ‖ stored hash of the record before ‖ stored seq
    /// ‖ body): this record was altered, or the one before it was altered and rehashed.
    #[error(
        "broken link at entry {entry} (byte {offset}): its hash does not match its content and the previous hash"
    )]
    BrokenLink {
        /// Its position.
        entry: Seq,
        /// Where it starts.
        offset: u64,
    },
    /// A ballot names a list or candidate that does not exist on this ballot.
    #[error("entry {entry} at byte {offset}: the choice ({choice}) is not on the ballot")]
    ChoiceOutOfRange {
        /// Its position.
        entry: Seq,
        /// Where it starts.
        offset: u64,
        /// The recorded choice.
        choice: BallotChoice,
    },
    /// The close record's ballot shape differs from the genesis record's.
    #[error(
        "the close record at byte {offset} has {close_lists} lists and {close_candidates} candidates, the genesis {genesis_lists} and {genesis_candidates}"
    )]
    CloseShapeMismatch {
        /// Where the close record starts.
        offset: u64,
        /// Lists in the genesis.
        genesis_lists: u8,
        /// Candidates in the genesis.
        genesis_candidates: u16,
        /// Lists in the close.
        close_lists: u8,
        /// Candidates in the close.
        close_candidates: u16,
    },
    /// The close record commits a ballot count that differs from the ballot records present.
    #[error(
        "the close record at byte {offset} commits {recorded} ballots, the ledger holds {counted}"
    )]
    CloseCountMismatch {
        /// Where the close record starts.
        offset: u64,
        /// Count in the close record.
        recorded: u64,
        /// Ballot records read.
        counted: u64,
    },
    /// A total in the close record differs from the recount of the ballot records.
    #[error(
        "the close record at byte {offset} commits {recorded} for {column}, the ballots recount to {recounted}"
    )]
    CloseTotalsMismatch {
        /// Where the close record starts.
        offset: u64,
        /// Which total.
        column: TotalColumn,
        /// Total in the close record.
        recorded: u64,
        /// Recount.
        recounted: u64,
    },
    /// The genesis names another election than the published head.
    #[error("the ledger belongs to election {}, the published head to {}", to_hex(.found), to_hex(.published))]
    ElectionMismatch {
        /// Published election id.
        published: [u8; 32],
        /// Election id in the genesis.
        found: [u8; 32],
    },
    /// The genesis names another station or machine than the published head.
    #[error("the ledger is station {} machine {}, the published head is for station {} machine {}", .found.0, .found.1, .published.0, .published.1)]
    MachineMismatch {
        /// Published (station, machine).
        published: (u32, u32),
        /// (station, machine) in the genesis.
        found: (u32, u32),
    },
    /// The number of ballot records differs from the published count.
    #[error("the ledger holds {found} ballots, {published} were published")]
    PublishedCountMismatch {
        /// Published ballot count.
        published: u64,
        /// Ballot records read.
        found: u64,
    },
    /// The recomputed head differs from the published head (or there is no close to compare).
    #[error("the recomputed head {} differs from the published head {published}", .computed.map(|h| h.to_hex()).unwrap_or_else(|| "(none: no close record)".into()))]
    HeadMismatch {
        /// Published head.
        published: EntryHash,
        /// Head recomputed from the genesis along the records, if a close record was read.
        computed: Option<EntryHash>,
    },
    /// No ballot entry of the recomputed chain has this receipt code.
    #[error("receipt {receipt} matches no ballot entry of the recomputed chain")]
    ReceiptNotFound {
        /// The receipt.
        receipt: ReceiptCode,
    },
}

impl Finding {
    /// Byte offset the finding points at, if it points at one.
    pub fn offset(&self) -> Option<u64> {
        use Finding::*;
        match self {
            Truncated { offset, .. }
            | MissingClose { offset, .. }
            | UnknownTag { offset, .. }
            | TrailingData { offset, .. }
            | MissingGenesis { offset, .. }
            | UnexpectedGenesis { offset, .. }
            | SequenceMismatch { offset, .. }
            | BrokenLink { offset, .. }
            | ChoiceOutOfRange { offset, .. }
            | CloseShapeMismatch { offset, .. }
            | CloseCountMismatch { offset, .. }
            | CloseTotalsMismatch { offset, .. } => Some(*offset),
            BadMagic { .. } | UnsupportedVersion { .. } => Some(0),
            _ => None,
        }
    }
}

/// What a genesis record says.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct GenesisInfo {
    /// Format version hashed into the genesis.
    pub version: u16,
    /// Election id.
    pub election_id: EntryHash,
    /// Station.
    pub station: u32,
    /// Machine.
    pub machine: u32,
    /// Launch code.
    pub launch_code: [u8; 16],
    /// Party lists on the ballot.
    pub n_lists: u8,
    /// District candidates on the ballot.
    pub n_candidates: u16,
    /// Stored genesis hash.
    pub hash: EntryHash,
}

impl GenesisInfo {
    /// The genesis fields as the producing API takes them.
    pub fn genesis(&self) -> Genesis {
        Genesis {
            election_id: self.election_id.0,
            station: self.station,
            machine: self.machine,
            launch_code: self.launch_code,
        }
    }
}

/// The result of verifying one ledger.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    /// Findings in file order (per-entry findings capped at [`MAX_FINDINGS`]), then those about
    /// the published head, then receipts not found.
    pub findings: Vec<Finding>,
    /// Per-entry findings beyond [`MAX_FINDINGS`], counted but not kept.
    pub findings_omitted: u64,
    /// The genesis record, if the first record is one.
    pub genesis: Option<GenesisInfo>,
    /// Records read (complete ones).
    pub n_records: u64,
    /// Ballot records read.
    pub n_ballots: u64,
    /// The recount of the ballot records (shape of the genesis; empty without one).
    pub recounted: Totals,
    /// Stored hash of the close record, if one was read.
    pub stored_head: Option<EntryHash>,
    /// Head recomputed from the genesis along the records, if a close record was read.
    pub computed_head: Option<EntryHash>,
    /// Receipts given / found in the recomputed chain.
    pub receipts_checked: usize,
    /// Receipts found.
    pub receipts_found: usize,
    /// Bytes read.
    pub bytes: u64,
    /// With [`verify_log`]: the Merkle tree over the recomputed entry hashes at each requested
    /// size the ledger reaches, in size order.
    pub tree_roots: Vec<TreeRoot>,
    /// With [`verify_log`]: the size and root of the tree over every complete record.
    pub tree: Option<(u64, EntryHash)>,
}

/// The ledger's Merkle tree (leaves: the recomputed entry hashes, `docs/ledger-format.md` §9) at
/// one size.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct TreeRoot {
    /// Leaves (entries).
    pub size: u64,
    /// Root.
    pub root: EntryHash,
    /// The recomputed hash of the last entry in the tree (the chain head at that size).
    pub last: EntryHash,
}

/// The tree built alongside verification and the sizes at which its root is wanted.
struct TreeWatch {
    tree: ChunkTree,
    sizes: Vec<u64>,
    next: usize,
    /// Every leaf, when kept ([`verify_log_with_leaves`]).
    leaves: Option<Vec<EntryHash>>,
}

impl VerifyReport {
    /// No findings at all.
    pub fn is_clean(&self) -> bool {
        self.findings.is_empty() && self.findings_omitted == 0
    }

    fn push(&mut self, f: Finding) {
        if self.findings.len() < MAX_FINDINGS {
            self.findings.push(f);
        } else {
            self.findings_omitted += 1;
        }
    }
}

impl Serialize for EntryHash {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl Serialize for ReceiptCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Verifies a ledger file; compares it with its published head when one is given. Returns every
/// finding; `Err` only when reading fails (never for bad content).
pub fn verify<R: Read>(r: R, expected: Option<&PublishedHead>) -> io::Result<VerifyReport> {
    verify_with_receipts(r, expected, &[])
}

/// Like [`verify`], and also checks voters' receipts for this machine: each must be the code of
/// a ballot entry of the chain recomputed from the genesis.
pub fn verify_with_receipts<R: Read>(
    r: R,
    expected: Option<&PublishedHead>,
    receipts: &[ReceiptCode],
) -> io::Result<VerifyReport> {
    let mut v = Verifier::new(receipts);
    v.run(r)?;
    v.compare_published(expected);
    Ok(v.finish())
}

/// Like [`verify_with_receipts`], and also builds the ledger's Merkle tree over the recomputed
/// entry hashes (`docs/ledger-format.md` §9): its root at each of `sizes` the ledger reaches
/// ([`VerifyReport::tree_roots`], to compare with signed checkpoints) and over every complete
/// record ([`VerifyReport::tree`]). Memory: one hash per bit of the size, plus `sizes`.
pub fn verify_log<R: Read>(
    r: R,
    expected: Option<&PublishedHead>,
    receipts: &[ReceiptCode],
    sizes: &[u64],
) -> io::Result<VerifyReport> {
    Ok(verify_tree(r, expected, receipts, sizes, false)?.0)
}

/// Like [`verify_log`], and also returns every recomputed entry hash (the tree's leaves), from
/// which consistency proofs between any two sizes are made ([`super::merkle::Tree`]). Memory:
/// 32 bytes an entry read — less than the ledger file, whose records are at least 44 bytes.
pub fn verify_log_with_leaves<R: Read>(
    r: R,
    expected: Option<&PublishedHead>,
    receipts: &[ReceiptCode],
    sizes: &[u64],
) -> io::Result<(VerifyReport, Vec<EntryHash>)> {
    verify_tree(r, expected, receipts, sizes, true)
}

fn verify_tree<R: Read>(
    r: R,
    expected: Option<&PublishedHead>,
    receipts: &[ReceiptCode],
    sizes: &[u64],
    keep_leaves: bool,
) -> io::Result<(VerifyReport, Vec<EntryHash>)> {
    let mut v = Verifier::new(receipts);
    let mut sizes = sizes.to_vec();
    sizes.sort_unstable();
    sizes.dedup();
    v.tree = Some(TreeWatch {
        tree: ChunkTree::new(),
        sizes,
        next: 0,
        leaves: keep_leaves.then(Vec::new),
    });
    v.run(r)?;
    v.compare_published(expected);
    let mut leaves = Vec::new();
    if let Some(t) = &mut v.tree {
        v.rep.tree = Some((t.tree.size(), t.tree.root()));
        leaves = t.leaves.take().unwrap_or_default();
    }
    Ok((v.finish(), leaves))
}

/// Running state of one verification.
struct Verifier {
    rep: VerifyReport,
    /// Position of the next record.
    pos: u64,
    /// Stored hash of the previous record (`ZERO` before the first).
    stored_prev: EntryHash,
    /// Recomputed hash of the previous record.
    computed_prev: EntryHash,
    /// Counters (`n + 1` each, the last for the reserved "none" value) while a shape is known.
    list_counts: Vec<u64>,
    candidate_counts: Vec<u64>,
    /// Receipt codes sorted, deduplicated, with "found" flags.
    receipts: Vec<(ReceiptCode, bool)>,
    /// Compression kernel of the lockstep path; `None` checks one record at a time (tests
    /// compare the two).
    lockstep: Option<Backend>,
    /// The Merkle tree over the recomputed entries, with [`verify_log`].
    tree: Option<TreeWatch>,
}

impl Verifier {
    fn new(receipts: &[ReceiptCode]) -> Verifier {
        let mut r: Vec<(ReceiptCode, bool)> = receipts.iter().map(|&c| (c, false)).collect();
        r.sort_unstable();
        r.dedup();
        Verifier {
            rep: VerifyReport {
                receipts_checked: r.len(),
                ..VerifyReport::default()
            },
            pos: 0,
            stored_prev: EntryHash::ZERO,
            computed_prev: EntryHash::ZERO,
            list_counts: vec![],
            candidate_counts: vec![],
            receipts: r,
            lockstep: Some(Backend::detect()),
            tree: None,
        }
    }

    /// Adds a recomputed entry hash to the tree, recording the root at a wanted size.
    #[inline]
    fn tree_push(&mut self, computed: &EntryHash) {
        let Some(t) = &mut self.tree else {
            return;
        };
        t.tree.push_leaf(*computed);
        if let Some(l) = &mut t.leaves {
            l.push(*computed);
        }
        let size = t.tree.size();
        while t.next < t.sizes.len() && t.sizes[t.next] <= size {
            if t.sizes[t.next] == size {
                self.rep.tree_roots.push(TreeRoot {
                    size,
                    root: t.tree.root(),
                    last: *computed,
                });
            }
            t.next += 1;
        }
    }

    fn after(&self) -> Option<Seq> {
        self.pos.checked_sub(1).map(Seq)
    }

    fn run<R: Read>(&mut self, r: R) -> io::Result<()> {
        let mut reader = match LedgerReader::new(r) {
            Ok(rd) => rd,
            Err(e) => return self.read_error(e),
        };
        loop {
            // Hot path: complete ballot records already in the read buffer, checked in place,
            // LANES at a time while there are that many, then one at a time.
            loop {
                if let Some(backend) = self.lockstep
                    && let Some((offset, recs)) = reader.ballots_in_buffer::<LANES>()?
                {
                    self.ballots(backend, offset, &recs);
                } else if let Some((seq, body, stored)) = reader.next_ballot_in_buffer()? {
                    self.ballot(reader.record_offset(), seq, body, stored);
                } else {
                    break;
                }
            }
            let rec = match reader.next_record() {
                Ok(Some(rec)) => rec,
                Ok(None) => {
                    self.rep.bytes = reader.offset();
                    let (offset, after) = (reader.offset(), self.after());
                    self.rep.push(Finding::MissingClose { offset, after });
                    return Ok(());
                }
                Err(e) => {
                    self.rep.bytes = reader.offset();
                    return self.read_error(e);
                }
            };
            let offset = reader.record_offset();
            if let Record::Ballot { seq, choice, hash } = rec {
                let c = choice.district.to_be_bytes();
                self.ballot(offset, seq, [choice.list, c[0], c[1]], hash);
                continue;
            }
            let entry = Seq(self.pos);
            let (tag, seq, stored) = (rec.tag(), rec.seq(), rec.hash());
            let body = reader.last_body();
            self.check_seq(entry, offset, seq);
            let link = entry_hash(tag, &self.stored_prev, seq, body);
            let computed = if self.computed_prev == self.stored_prev && seq == entry {
                link
            } else {
                entry_hash(tag, &self.computed_prev, entry, body)
            };
            self.link(entry, offset, link, stored, computed);
            self.first_record(offset, tag);
            match rec {
                Record::Genesis {
                    version,
                    genesis,
                    n_lists,
                    n_candidates,
                    hash,
                    ..
                } => {
                    if self.pos == 0 {
                        if version != FORMAT_VERSION {
                            self.rep.push(Finding::GenesisVersionMismatch {
                                header: FORMAT_VERSION,
                                genesis: version,
                            });
                        }
                        self.rep.genesis = Some(GenesisInfo {
                            version,
                            election_id: EntryHash(genesis.election_id),
                            station: genesis.station,
                            machine: genesis.machine,
                            launch_code: genesis.launch_code,
                            n_lists,
                            n_candidates,
                            hash,
                        });
                        self.list_counts = vec![0; n_lists as usize + 1];
                        self.candidate_counts = vec![0; n_candidates as usize + 1];
                    } else {
                        self.rep.push(Finding::UnexpectedGenesis { entry, offset });
                    }
                    self.pos += 1;
                }
                Record::Close {
                    n_ballots, totals, ..
                } => {
                    self.rep.stored_head = Some(stored);
                    self.rep.computed_head = Some(computed);
                    self.check_close(offset, n_ballots, &totals);
                    self.pos += 1;
                    let trailing_at = reader.offset();
                    let len = reader.drain()?;
                    self.rep.bytes = reader.offset();
                    if len > 0 {
                        self.rep.push(Finding::TrailingData {
                            offset: trailing_at,
                            len,
                        });
                    }
                    return Ok(());
                }
                Record::Ballot { .. } => unreachable!("handled above"),
            }
        }
    }

    /// Checks `N` consecutive ballot records starting at byte `offset`: their `N` stored links
    /// in one lockstep compression, then either only the counting (all in sequence, all links
    /// holding, both chains agreeing — the honest case) or each record through
    /// [`Self::ballot_linked`], which reports exactly what checking them one by one reports.
    #[inline]
    fn ballots<const N: usize>(
        &mut self,
        backend: Backend,
        offset: u64,
        recs: &[BufferedBallot; N],
    ) {
        // the blocks are built in registers (`Backend::ballot_states_from_bytes`)
        let mut prevs = [[0u8; 32]; N];
        let mut tails = [BallotTail::default(); N];
        let mut prev = &self.stored_prev;
        for ((p, t), (seq, body, stored)) in prevs.iter_mut().zip(&mut tails).zip(recs) {
            *p = prev.0;
            *t = BallotTail {
                seq: seq.0,
                list: body[0],
                candidate: u16::from_be_bytes([body[1], body[2]]),
            };
            prev = stored;
        }
        let mut links = [EntryHash::ZERO; N];
        for (l, d) in links
            .iter_mut()
            .zip(backend.ballot_states_from_bytes(&prevs, &tails).1)
        {
            *l = EntryHash(d);
        }
        let record_offset = |k: usize| offset + (k * BALLOT_RECORD_LEN) as u64;
        let in_step = self.pos > 0
            && self.computed_prev == self.stored_prev
            && recs
                .iter()
                .zip(&links)
                .enumerate()
                .all(|(k, ((seq, _, stored), link))| {
                    seq.0 == self.pos + k as u64 && link == stored
                });
        let Some(&(_, _, last)) = recs.last() else {
            return;
        };
        if !in_step {
            for (k, (&(seq, body, stored), link)) in recs.iter().zip(links).enumerate() {
                self.ballot_linked(record_offset(k), seq, body, stored, link);
            }
            return;
        }
        for (k, (_, body, stored)) in recs.iter().enumerate() {
            let choice = BallotChoice::new(body[0], u16::from_be_bytes([body[1], body[2]]));
            self.count(Seq(self.pos + k as u64), record_offset(k), choice);
            self.receipt(stored);
            self.tree_push(stored);
        }
        self.rep.n_records += N as u64;
        self.rep.n_ballots += N as u64;
        self.pos += N as u64;
        self.stored_prev = last;
        self.computed_prev = last;
    }

    /// Marks a receipt found if `computed` (a ballot entry of the recomputed chain) has its code.
    #[inline]
    fn receipt(&mut self, computed: &EntryHash) {
        if !self.receipts.is_empty() {
            let code = receipt_code(computed);
            if let Ok(i) = self.receipts.binary_search_by_key(&code, |r| r.0) {
                self.receipts[i].1 = true;
            }
        }
    }

    /// Checks a ballot record: sequence, link, recomputed chain, choice, receipts.
    #[inline]
    fn ballot(&mut self, offset: u64, seq: Seq, body: [u8; BALLOT_BODY_LEN], stored: EntryHash) {
        let link = ballot_hash(&self.stored_prev, seq, body);
        self.ballot_linked(offset, seq, body, stored, link);
    }

    /// [`Self::ballot`] given the record's link, SHA-256 of (stored previous hash, stored seq,
    /// body).
    #[inline]
    fn ballot_linked(
        &mut self,
        offset: u64,
        seq: Seq,
        body: [u8; BALLOT_BODY_LEN],
        stored: EntryHash,
        link: EntryHash,
    ) {
        let entry = Seq(self.pos);
        self.check_seq(entry, offset, seq);
        let computed = if self.computed_prev == self.stored_prev && seq == entry {
            link
        } else {
            ballot_hash(&self.computed_prev, entry, body)
        };
        self.link(entry, offset, link, stored, computed);
        self.first_record(offset, TAG_BALLOT);
        self.rep.n_ballots += 1;
        let choice = BallotChoice::new(body[0], u16::from_be_bytes([body[1], body[2]]));
        self.count(entry, offset, choice);
        self.receipt(&computed);
        self.pos += 1;
    }

    #[inline]
    fn check_seq(&mut self, entry: Seq, offset: u64, seq: Seq) {
        self.rep.n_records += 1;
        if seq != entry {
            self.rep.push(Finding::SequenceMismatch {
                entry,
                offset,
                found: seq,
            });
        }
    }

    /// Records the stored link's verdict and advances both chains.
    #[inline]
    fn link(
        &mut self,
        entry: Seq,
        offset: u64,
        link: EntryHash,
        stored: EntryHash,
        computed: EntryHash,
    ) {
        if link != stored {
            self.rep.push(Finding::BrokenLink { entry, offset });
        }
        self.stored_prev = stored;
        self.computed_prev = computed;
        self.tree_push(&computed);
    }

    /// At position 0, anything but a genesis is reported; counting then covers every choice.
    #[inline]
    fn first_record(&mut self, offset: u64, tag: u8) {
        if self.pos == 0 && tag != TAG_GENESIS {
            self.rep.push(Finding::MissingGenesis { offset, tag });
            self.list_counts = vec![0; u8::MAX as usize + 1];
            self.candidate_counts = vec![0; u16::MAX as usize + 1];
        }
    }

    /// Adds a ballot to the recount, or reports it out of range.
    #[inline]
    fn count(&mut self, entry: Seq, offset: u64, c: BallotChoice) {
        let n_lists = self.list_counts.len() - 1;
        let n_cand = self.candidate_counts.len() - 1;
        let li = if c.list == LIST_NONE {
            Some(n_lists)
        } else {
            ((c.list as usize) < n_lists).then_some(c.list as usize)
        };
        let ci = if c.district == CANDIDATE_NONE {
            Some(n_cand)
        } else {
            ((c.district as usize) < n_cand).then_some(c.district as usize)
        };
        match (li, ci) {
            (Some(li), Some(ci)) => {
                self.list_counts[li] += 1;
                self.candidate_counts[ci] += 1;
            }
            _ => self.rep.push(Finding::ChoiceOutOfRange {
                entry,
                offset,
                choice: c,
            }),
        }
    }

    fn recount(&self) -> Totals {
        match (
            self.list_counts.split_last(),
            self.candidate_counts.split_last(),
        ) {
            (Some((&list_none, lists)), Some((&candidate_none, candidates))) => Totals {
                lists: lists.to_vec(),
                list_none,
                candidates: candidates.to_vec(),
                candidate_none,
            },
            _ => Totals::default(),
        }
    }

    fn check_close(&mut self, offset: u64, n_ballots: u64, totals: &Totals) {
        if n_ballots != self.rep.n_ballots {
            self.rep.push(Finding::CloseCountMismatch {
                offset,
                recorded: n_ballots,
                counted: self.rep.n_ballots,
            });
        }
        let recount = self.recount();
        let shape = |t: &Totals| (t.lists.len(), t.candidates.len());
        if shape(&recount) != shape(totals) {
            let (gl, gc) = shape(&recount);
            self.rep.push(Finding::CloseShapeMismatch {
                offset,
                genesis_lists: gl.min(u8::MAX as usize) as u8,
                genesis_candidates: gc.min(u16::MAX as usize) as u16,
                close_lists: totals.lists.len() as u8,
                close_candidates: totals.candidates.len() as u16,
            });
            return;
        }
        let columns = (0..totals.lists.len())
            .map(|i| {
                (
                    TotalColumn::List(i as u8),
                    totals.lists[i],
                    recount.lists[i],
                )
            })
            .chain([(TotalColumn::ListNone, totals.list_none, recount.list_none)])
            .chain((0..totals.candidates.len()).map(|i| {
                (
                    TotalColumn::Candidate(i as u16),
                    totals.candidates[i],
                    recount.candidates[i],
                )
            }))
            .chain([(
                TotalColumn::CandidateNone,
                totals.candidate_none,
                recount.candidate_none,
            )]);
        for (column, recorded, recounted) in columns {
            if recorded != recounted {
                self.rep.push(Finding::CloseTotalsMismatch {
                    offset,
                    column,
                    recorded,
                    recounted,
                });
            }
        }
    }

    fn read_error(&mut self, e: ReadError) -> io::Result<()> {
        let f = match e {
            ReadError::Io(e) => return Err(e),
            ReadError::BadMagic { found } => Finding::BadMagic { found },
            ReadError::UnsupportedVersion { found } => Finding::UnsupportedVersion { found },
            ReadError::Truncated {
                offset,
                what,
                expected,
                found,
            } => Finding::Truncated {
                offset,
                what,
                expected,
                found,
                after: self.after(),
            },
            ReadError::UnknownTag { offset, tag } => Finding::UnknownTag {
                entry: Seq(self.pos),
                offset,
                tag,
            },
        };
        // A framing error is always kept: it explains why the rest was not read.
        self.rep.findings.push(f);
        Ok(())
    }

    fn compare_published(&mut self, expected: Option<&PublishedHead>) {
        let Some(p) = expected else { return };
        if let Some(g) = &self.rep.genesis {
            if g.election_id.0 != p.election_id {
                self.rep.findings.push(Finding::ElectionMismatch {
                    published: p.election_id,
                    found: g.election_id.0,
                });
            }
            if (g.station, g.machine) != (p.station, p.machine) {
                self.rep.findings.push(Finding::MachineMismatch {
                    published: (p.station, p.machine),
                    found: (g.station, g.machine),
                });
            }
        }
        if self.rep.n_ballots != p.n_ballots {
            self.rep.findings.push(Finding::PublishedCountMismatch {
                published: p.n_ballots,
                found: self.rep.n_ballots,
            });
        }
        if self.rep.computed_head != Some(p.head) {
            self.rep.findings.push(Finding::HeadMismatch {
                published: p.head,
                computed: self.rep.computed_head,
            });
        }
    }

    fn finish(mut self) -> VerifyReport {
        self.rep.recounted = self.recount();
        for &(receipt, found) in &self.receipts {
            if found {
                self.rep.receipts_found += 1;
            } else {
                self.rep.findings.push(Finding::ReceiptNotFound { receipt });
            }
        }
        self.rep
    }
}

/// Checks the invariants of [`verify`] on arbitrary bytes, panicking if one fails: the harness
/// shared by the `cargo fuzz` target (`fuzz/fuzz_targets/verify_ledger.rs`) and the bounded
/// stress test. Invariants: no panic; every offset lies within the input; kept findings are
/// bounded; a clean ledger is canonical (re-encoding its genesis and ballots reproduces the input
/// byte for byte) and its stored and recomputed heads agree; against a head other than its own it
/// is never clean.
#[doc(hidden)]
pub fn fuzz_check(data: &[u8]) {
    let rep = verify(data, None).expect("reading a slice cannot fail");
    assert!(rep.bytes <= data.len() as u64);
    for f in &rep.findings {
        if let Some(o) = f.offset() {
            assert!(o <= data.len() as u64, "offset {o} beyond input: {f}");
        }
    }
    assert!(rep.findings.len() <= MAX_FINDINGS + 8);
    if !rep.is_clean() {
        return;
    }
    let g = rep.genesis.expect("a clean ledger has a genesis");
    assert_eq!(rep.stored_head, rep.computed_head);
    let mut reader = LedgerReader::new(data).expect("clean");
    let mut ballots = vec![];
    while let Some(rec) = reader.next_record().expect("clean") {
        if let Record::Ballot { choice, .. } = rec {
            ballots.push(choice);
        }
    }
    let mut again = vec![];
    let closed = write_ledger(&mut again, &g.genesis(), g.n_lists, g.n_candidates, ballots)
        .expect("a clean ledger's choices are in range");
    assert_eq!(again, data, "a clean ledger must be canonical");
    let mut published = closed.published_head();
    assert!(verify(data, Some(&published)).expect("slice").is_clean());
    published.head.0[0] ^= 1;
    assert!(!verify(data, Some(&published)).expect("slice").is_clean());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::receipt_code;

    fn honest(n: u64) -> (Vec<u8>, PublishedHead, Vec<ReceiptCode>) {
        let g = Genesis {
            election_id: [4; 32],
            station: 3,
            machine: 9,
            launch_code: [5; 16],
        };
        let mut out = vec![];
        let mut w = crate::ledger::LedgerWriter::create(&mut out, &g, 4, 3).unwrap();
        let mut receipts = vec![];
        for i in 0..n {
            let c = BallotChoice::new((i % 5) as u8 % 4, (i % 3) as u16);
            receipts.push(receipt_code(&w.append(c).unwrap()));
        }
        let (closed, _) = w.finish().unwrap();
        (out, closed.published_head(), receipts)
    }

    #[test]
    fn honest_ledger_is_clean_with_head_and_receipts() {
        let (bytes, head, receipts) = honest(50);
        let rep = verify_with_receipts(&bytes[..], Some(&head), &receipts).unwrap();
        assert!(rep.is_clean(), "{:?}", rep.findings);
        assert_eq!(rep.n_ballots, 50);
        assert_eq!(rep.receipts_found, 50);
        assert_eq!(rep.computed_head, Some(head.head));
        assert_eq!(rep.recounted.lists.iter().sum::<u64>(), 50);
    }

    /// Verifies with the given kernel (`None`: one record at a time), reading `chunk` bytes per
    /// `read` call so that the buffer holds every possible number of whole records.
    fn verify_by(
        bytes: &[u8],
        head: &PublishedHead,
        receipts: &[ReceiptCode],
        lockstep: Option<Backend>,
        chunk: usize,
    ) -> VerifyReport {
        struct Chunked<'a>(&'a [u8], usize);
        impl Read for Chunked<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let n = buf.len().min(self.1).min(self.0.len());
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let mut v = Verifier::new(receipts);
        v.lockstep = lockstep;
        v.run(Chunked(bytes, chunk)).unwrap();
        v.compare_published(Some(head));
        v.finish()
    }

    /// The lockstep path reports exactly what the one-record path reports, on every backend and
    /// however the reads split the file.
    fn assert_same_as_one_at_a_time(bytes: &[u8], head: &PublishedHead, receipts: &[ReceiptCode]) {
        let want = verify_by(bytes, head, receipts, None, usize::MAX);
        let mut backends = vec![Backend::PORTABLE];
        backends.extend(Backend::sha_ni());
        for backend in backends {
            for chunk in [usize::MAX, 1 << 16, 4096, 44 * 3 + 5, 97, 13] {
                let got = verify_by(bytes, head, receipts, Some(backend), chunk);
                assert_eq!(got, want, "{} chunk {chunk}", backend.name());
            }
        }
        assert_eq!(
            verify_with_receipts(bytes, Some(head), receipts).unwrap(),
            want
        );
    }

    #[test]
    fn lockstep_verify_equals_one_at_a_time_on_every_tampering() {
        use crate::ledger::file::{BALLOT_RECORD_LEN, GENESIS_RECORD_LEN, HEADER_LEN};
        let (bytes, head, receipts) = honest(23);
        let rec = |k: usize| HEADER_LEN + GENESIS_RECORD_LEN + k * BALLOT_RECORD_LEN;
        assert_same_as_one_at_a_time(&bytes, &head, &receipts);
        // every byte of the header, genesis, ballots and close flipped in turn
        for i in 0..bytes.len() {
            let mut bad = bytes.clone();
            bad[i] ^= 0x01;
            assert_same_as_one_at_a_time(&bad, &head, &receipts);
        }
        // an in-place edit with its hash recomputed (the link out of it breaks)
        let mut bad = bytes.clone();
        bad[rec(6) + 9] ^= 1;
        let prev = EntryHash(bad[rec(5) + 12..rec(6)].try_into().unwrap());
        let seq = Seq(u64::from_be_bytes(
            bad[rec(6) + 1..rec(6) + 9].try_into().unwrap(),
        ));
        let body = [bad[rec(6) + 9], bad[rec(6) + 10], bad[rec(6) + 11]];
        let h = ballot_hash(&prev, seq, body);
        bad[rec(6) + 12..rec(7)].copy_from_slice(&h.0);
        assert_same_as_one_at_a_time(&bad, &head, &receipts);
        // deleted, duplicated, swapped records; truncation at every length
        let cut = |a: usize, b: usize| [&bytes[..a], &bytes[b..]].concat();
        assert_same_as_one_at_a_time(&cut(rec(4), rec(5)), &head, &receipts);
        assert_same_as_one_at_a_time(&cut(rec(4), rec(9)), &head, &receipts);
        let dup = [&bytes[..rec(8)], &bytes[rec(7)..]].concat();
        assert_same_as_one_at_a_time(&dup, &head, &receipts);
        let mut swapped = bytes.clone();
        swapped[rec(10)..rec(12)]
            .copy_from_slice(&[&bytes[rec(11)..rec(12)], &bytes[rec(10)..rec(11)]].concat());
        assert_same_as_one_at_a_time(&swapped, &head, &receipts);
        for len in 0..bytes.len() {
            assert_same_as_one_at_a_time(&bytes[..len], &head, &receipts);
        }
        // out-of-range choices whose links were all recomputed: found while every link holds
        let mut bad = bytes.clone();
        bad[rec(9) + 9] = 9;
        bad[rec(14) + 11] = 200;
        for k in 0..23 {
            let prev = EntryHash(bad[rec(k) - 32..rec(k)].try_into().unwrap());
            let seq = Seq(k as u64 + 1);
            let body = [bad[rec(k) + 9], bad[rec(k) + 10], bad[rec(k) + 11]];
            let h = ballot_hash(&prev, seq, body);
            bad[rec(k) + 12..rec(k + 1)].copy_from_slice(&h.0);
        }
        let rep = verify_by(&bad, &head, &receipts, Some(Backend::detect()), usize::MAX);
        let out_of_range = rep
            .findings
            .iter()
            .filter(|f| matches!(f, Finding::ChoiceOutOfRange { .. }))
            .count();
        assert_eq!(out_of_range, 2, "{:?}", rep.findings);
        assert_same_as_one_at_a_time(&bad, &head, &receipts);
        // no genesis: the ballots start at position 0
        let headless = cut(HEADER_LEN, HEADER_LEN + GENESIS_RECORD_LEN);
        assert_same_as_one_at_a_time(&headless, &head, &receipts);
    }

    #[test]
    fn empty_ledger_is_clean() {
        let (bytes, head, _) = honest(0);
        assert!(verify(&bytes[..], Some(&head)).unwrap().is_clean());
    }

    #[test]
    fn findings_are_capped_but_counted() {
        let (mut bytes, head, _) = honest(3 * MAX_FINDINGS as u64);
        // Flip a body byte of every ballot record: one broken link each.
        let first = crate::ledger::file::HEADER_LEN + crate::ledger::file::GENESIS_RECORD_LEN;
        for k in 0..3 * MAX_FINDINGS {
            bytes[first + k * crate::ledger::file::BALLOT_RECORD_LEN + 10] ^= 0x01;
        }
        let rep = verify(&bytes[..], Some(&head)).unwrap();
        assert!(rep.findings.len() > MAX_FINDINGS - 1);
        assert!(rep.findings_omitted > 0);
        assert!(
            rep.findings
                .iter()
                .any(|f| matches!(f, Finding::HeadMismatch { .. }))
        );
    }
}
