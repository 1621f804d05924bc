//! The hash-chained ballot ledger of one voting machine: entry encoding, chaining, sealing, the
//! ledger file, verification, receipts and published heads.
//!
//! **Owns**: the byte format specified in `docs/ledger-format.md` (tags, canonical fixed-width
//! encodings, the file layout, the receipt code, the published-heads file) and everything that
//! computes or checks it. **Never**: decides who votes or what (the engine does), opens or names
//! files (callers hand in `Read`/`Write`; paths live at the edge), reads a clock, or uses serde
//! for anything that is hashed.
//!
//! # Design
//!
//! Each machine's log is a hash chain `h_j = SHA-256(tag ‖ h_{j−1} ‖ j ‖ body_j)` (REFERENCES.md
//! §2): a genesis entry (`j = 0`, `h_{−1}` = 32 zero bytes) binds the election id, station,
//! machine, ballot shape and the launch code announced at poll opening, so that no alternative
//! history can be precomputed; one entry per ballot; a close entry commits the ballot count and the
//! machine's totals, and its hash — the **head** — is published at close. This follows the
//! per-device chaining of ballot confirmation codes in ElectionGuard 2.1 §3.4.4, and RFC 9162
//! (Certificate Transparency) §2.1.1's use of distinct prefix bytes to domain-separate the
//! kinds of hashed objects: [`TAG_GENESIS`], [`TAG_BALLOT`] and [`TAG_CLOSE`] are never reused.
//!
//! A ballot entry's hashed input is 44 bytes, so it fits in one SHA-256 block (≤ 55 bytes of
//! message) and costs exactly one compression; [`Chain::append`] prepares that block on the stack
//! and calls the compression function directly (no allocation, no hasher state machine).
//!
//! What a chain can and cannot show is stated in `docs/ledger-format.md` §5.1: an in-place change, deletion, insertion or reordering of entries is found from the
//! ledger alone; a rewrite that recomputes every later hash (including the close) or a
//! truncation sealed with a fresh close is found only against the published head or a later
//! voter's receipt; stuffing by the machine itself is never found by hashing.

mod chain;
mod file;
mod hash;
mod heads;
mod lanes;
mod log;
mod many;
pub mod merkle;
pub mod note;
mod receipt;
mod verify;

pub use chain::{BallotChoice, Chain, Closed, Genesis, Totals, append_lanes};
pub use file::{
    BALLOT_RECORD_LEN, GENESIS_RECORD_LEN, HEADER_LEN, LedgerReader, LedgerWriter,
    RECORD_PREFIX_LEN, ReadError, Record, close_record_len, write_ledger,
};
pub use hash::{BALLOT_HASH_INPUT_LEN, EntryHash, Seq, to_hex};
pub use heads::{HEADS_FIRST_LINE, HeadsError, PublishedHead, PublishedHeads};
pub use lanes::{Backend, LANES, SHA256_IV, compress_lanes};
pub use log::MachineLog;
pub use many::{LedgerCheck, MachineBallots, tree_roots, verify_many, write_many};
pub use receipt::{RECEIPT_BITS, RECEIPT_LEN, ReceiptCode, ReceiptParseError, receipt_code};
pub use verify::{
    Finding, GenesisInfo, MAX_FINDINGS, TotalColumn, TreeRoot, VerifyReport, fuzz_check, verify,
    verify_log, verify_log_with_leaves, verify_with_receipts,
};

/// Version of the ledger format described in `docs/ledger-format.md`. Written in the file header
/// and hashed into the genesis entry.
pub const FORMAT_VERSION: u16 = 1;

/// The eight bytes every ledger file starts with.
pub const MAGIC: [u8; 8] = *b"TAMGALDG";

/// Domain tag of the genesis entry (ASCII `G`).
pub const TAG_GENESIS: u8 = 0x47;
/// Domain tag of a ballot entry (ASCII `B`).
pub const TAG_BALLOT: u8 = 0x42;
/// Domain tag of the close entry (ASCII `C`).
pub const TAG_CLOSE: u8 = 0x43;

/// Reserved list choice: no valid list vote (blank or invalid ballot).
pub const LIST_NONE: u8 = u8::MAX;
/// Reserved district-candidate choice: no valid candidate vote (blank or invalid ballot).
pub const CANDIDATE_NONE: u16 = u16::MAX;

/// Errors of the ledger's producing API ([`Chain`], [`LedgerWriter`]).
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// A ballot named a list that does not exist on this ballot.
    #[error(
        "ballot {seq}: list choice {list} is out of range (the ballot has {n_lists} lists; use LIST_NONE = 255 for a blank or invalid list vote)"
    )]
    ListOutOfRange {
        /// Sequence number the ballot would have had.
        seq: Seq,
        /// The offending choice.
        list: u8,
        /// Lists on this ballot.
        n_lists: u8,
    },
    /// A ballot named a district candidate that does not exist.
    #[error(
        "ballot {seq}: district candidate {candidate} is out of range (the district has {n_candidates} candidates; use CANDIDATE_NONE = 65535 for a blank or invalid candidate vote)"
    )]
    CandidateOutOfRange {
        /// Sequence number the ballot would have had.
        seq: Seq,
        /// The offending choice.
        candidate: u16,
        /// Candidates in this district.
        n_candidates: u16,
    },
    /// Writing the ledger failed.
    #[error("writing the ledger failed: {0}")]
    Io(#[from] std::io::Error),
}
