//! A voting machine's transparency log: its hash chain, the Merkle tree over its entries, and the
//! checkpoints it signs as it records — each time the log reaches a multiple of the checkpoint
//! interval, and at close (`docs/ledger-format.md` §9–10).
//!
//! **Owns**: [`MachineLog`] and its chunked tree. **Never**: allocates per ballot (a
//! checkpoint allocates its note; the tree is fixed-size).
//!
//! Speed: the chain is a latency bound — each ballot's compression needs the previous one's
//! result. The tree's node hashes do not depend on the chain, so they wait in a chunk of leaves
//! and are hashed four at a time in lockstep ([`ChunkTree`]), at the SHA unit's throughput
//! rather than its latency (`docs/BENCHMARKS.md` §Transparency log).

use ed25519_dalek::SigningKey;

use super::LedgerError;
use super::chain::{BallotChoice, Chain, Closed, Genesis};
use super::hash::EntryHash;
use super::merkle::ChunkTree;
use super::note::{Checkpoint, machine_origin, sign_note};

/// The chain, the tree and the signed checkpoints of one machine.
pub struct MachineLog {
    chain: Chain,
    tree: ChunkTree,
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
            tree: ChunkTree::new(),
            interval: interval.max(1),
            origin: machine_origin(&g.election_id, g.station, g.machine),
            key,
            notes: String::new(),
            chain,
        };
        let h0 = log.chain.genesis_hash();
        log.add(h0, false);
        log
    }

    #[inline]
    fn add(&mut self, h: EntryHash, close: bool) {
        self.tree.push_leaf(h);
        if close || self.tree.size().is_multiple_of(self.interval) {
            self.checkpoint(&h);
        }
    }

    fn checkpoint(&mut self, head: &EntryHash) {
        let c = Checkpoint {
            origin: self.origin.clone(),
            size: self.tree.size(),
            root: self.tree.root(),
            head: Some(*head),
        };
        let note = sign_note(&c.body(), &self.origin, &self.key);
        self.notes.push_str(&note);
    }

    /// Appends a ballot (chain and tree); signs a checkpoint if the log reached the interval.
    #[inline]
    pub fn append(&mut self, c: BallotChoice) -> Result<EntryHash, LedgerError> {
        let h = self.chain.append(c)?;
        self.add(h, false);
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
        self.add(closed.head, true);
        (closed, self.notes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::merkle::Tree;

    /// A log's entries equal a plain chain's, and its checkpoints' roots the stored tree's.
    #[test]
    fn machine_log_chain_and_closing_root_match_plain_chain_and_tree() {
        let g = Genesis {
            election_id: [3; 32],
            station: 4,
            machine: 1,
            launch_code: [5; 16],
        };
        let key = crate::ledger::note::derive_signing_key(1, "machine", 4, 1);
        let mut log = MachineLog::open(&g, 4, 3, 16, key);
        let mut chain = Chain::open(&g, 4, 3);
        let mut entries = vec![chain.genesis_hash()];
        for i in 0..300u64 {
            let c = BallotChoice::new((i % 4) as u8, (i % 3) as u16);
            let a = log.append(c).unwrap();
            assert_eq!(a, chain.append(c).unwrap());
            entries.push(a);
        }
        assert!(log.append(BallotChoice::new(9, 0)).is_err());
        let (closed, notes) = log.close();
        assert_eq!(closed, chain.close());
        entries.push(closed.head);
        let tree = Tree::from_entries(&entries);
        let bodies: Vec<Checkpoint> = crate::ledger::note::split_notes(&notes, 100)
            .unwrap()
            .iter()
            .map(|n| Checkpoint::parse_body(&n[..n.find("\n\n").unwrap() + 1]).unwrap())
            .collect();
        assert_eq!(bodies.len(), 302 / 16 + 1);
        for c in &bodies {
            assert_eq!(Some(c.root), tree.root_at(c.size), "size {}", c.size);
            assert_eq!(c.head, Some(entries[c.size as usize - 1]));
        }
    }
}
