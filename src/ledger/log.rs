//! A voting machine's transparency log: its hash chain, the Merkle tree over its entries, and the
//! checkpoints it signs as it records — each time the log reaches a multiple of the checkpoint
//! interval, and at close (`docs/ledger-format.md` §9–10).
//!
//! **Owns**: [`MachineLog`]. **Never**: allocates per ballot (a checkpoint allocates its note;
//! the tree is a fixed-size [`Frontier`]).

use ed25519_dalek::SigningKey;

use super::LedgerError;
use super::chain::{BallotChoice, Chain, Closed, Genesis};
use super::hash::EntryHash;
use super::merkle::Frontier;
use super::note::{Checkpoint, machine_origin, sign_note};

/// The chain, the tree and the signed checkpoints of one machine.
pub struct MachineLog {
    chain: Chain,
    frontier: Frontier,
    interval: u64,
    origin: String,
    key: SigningKey,
    notes: String,
}

impl MachineLog {
    /// Opens the log: the genesis entry is leaf 0. `interval` ≥ 1 entries between checkpoints.
    pub fn open(
        g: &Genesis,
        n_lists: u8,
        n_candidates: u16,
        interval: u64,
        key: SigningKey,
    ) -> MachineLog {
        let chain = Chain::open(g, n_lists, n_candidates);
        let mut log = MachineLog {
            frontier: Frontier::new(),
            interval: interval.max(1),
            origin: machine_origin(&g.election_id, g.station, g.machine),
            key,
            notes: String::new(),
            chain,
        };
        let h0 = log.chain.genesis_hash();
        log.add(&h0, false);
        log
    }

    #[inline]
    fn add(&mut self, h: &EntryHash, close: bool) {
        self.frontier.push_entry(h);
        if close || self.frontier.size().is_multiple_of(self.interval) {
            self.checkpoint(h);
        }
    }

    fn checkpoint(&mut self, head: &EntryHash) {
        let c = Checkpoint {
            origin: self.origin.clone(),
            size: self.frontier.size(),
            root: self.frontier.root(),
            head: Some(*head),
        };
        let note = sign_note(&c.body(), &self.origin, &self.key);
        self.notes.push_str(&note);
    }

    /// Appends a ballot (chain and tree); signs a checkpoint if the log reached the interval.
    #[inline]
    pub fn append(&mut self, c: BallotChoice) -> Result<EntryHash, LedgerError> {
        let h = self.chain.append(c)?;
        self.add(&h, false);
        Ok(h)
    }

    /// The chain so far.
    pub fn chain(&self) -> &Chain {
        &self.chain
    }

    /// Seals the chain, adds the close entry to the tree and signs the closing checkpoint.
    /// Returns the sealed chain and every signed checkpoint, oldest first (one file's text).
    pub fn close(mut self) -> (Closed, String) {
        let closed = self.chain.clone().close();
        self.add(&closed.head, true);
        (closed, self.notes)
    }
}
