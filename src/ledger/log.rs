//! A voting machine's transparency log: its hash chain, the Merkle tree over its entries, and the
//! checkpoints it signs as it records — each time the log reaches a multiple of the checkpoint
//! interval, and at close (`docs/ledger-format.md` §9–10).
//!
//! **Owns**: [`MachineLog`] and its chunked tree. **Never**: allocates per ballot (a
//! checkpoint allocates its note; the tree is fixed-size).
//!
//! Speed: the chain is a latency bound — each ballot's compression needs the previous one's
//! result. The tree's node hashes do not depend on the chain, so they wait in a chunk of
//! [`CHUNK`] leaves and are hashed [`LANES`] at a time in lockstep (`lanes.rs`), at the SHA
//! unit's throughput rather than its latency (`docs/BENCHMARKS.md` §Transparency log).

use ed25519_dalek::SigningKey;

use super::LedgerError;
use super::chain::{BallotChoice, Chain, Closed, Genesis};
use super::hash::EntryHash;
use super::lanes::{Backend, LANES};
use super::merkle::Frontier;
use super::note::{Checkpoint, machine_origin, sign_note};

/// Levels of a chunk's perfect subtree: a chunk holds `2^CHUNK_LEVELS` leaves.
const CHUNK_LEVELS: usize = 8;
/// Leaves a chunk holds before its subtree joins the frontier.
const CHUNK: usize = 1 << CHUNK_LEVELS;
/// Leaves between passes that hash the pairs ready (so each level's pairs come in fours).
const PASS: usize = 2 * LANES;

/// Where level `k`'s nodes start in [`ChunkTree::nodes`] (level 0, the leaves, at 0; each level
/// half the one below).
const fn level_at(k: usize) -> usize {
    2 * CHUNK - ((2 * CHUNK) >> k)
}

/// The running Merkle tree of a log: the perfect subtrees of the finished chunks in a
/// [`Frontier`], and the current chunk's leaves and every node hashed so far, level by level.
/// A node is hashed once, when both its children are: in lockstep fours as a log grows, and the
/// rest (the top of a chunk, or what a root needs) one or two at a time. Fixed size: no
/// allocation per leaf.
#[derive(Clone)]
struct ChunkTree {
    backend: Backend,
    chunks: Frontier,
    /// Leaves in the current chunk.
    n: usize,
    /// Nodes hashed at each level of the current chunk (level 0: unused, the leaves are `n`).
    made: [usize; CHUNK_LEVELS + 1],
    nodes: [EntryHash; 2 * CHUNK],
}

impl ChunkTree {
    fn new() -> ChunkTree {
        ChunkTree {
            backend: Backend::detect(),
            chunks: Frontier::new(),
            n: 0,
            made: [0; CHUNK_LEVELS + 1],
            nodes: [EntryHash::ZERO; 2 * CHUNK],
        }
    }

    /// Leaves so far.
    fn size(&self) -> u64 {
        self.chunks.size() + self.n as u64
    }

    /// Adds a leaf (an entry hash, `merkle` module docs).
    #[inline]
    fn push_leaf(&mut self, h: EntryHash) {
        self.nodes[self.n] = h;
        self.n += 1;
        if self.n.is_multiple_of(PASS) {
            self.hash_ready(false);
        }
        if self.n == CHUNK {
            self.hash_ready(true);
            self.chunks
                .push_perfect(CHUNK_LEVELS, self.nodes[level_at(CHUNK_LEVELS)]);
            self.n = 0;
            self.made = [0; CHUNK_LEVELS + 1];
        }
    }

    /// Hashes, level by level, the pairs whose children are both hashed: in lockstep fours
    /// only, or (`all`) every one.
    fn hash_ready(&mut self, all: bool) {
        let mut below = self.n;
        for k in 1..=CHUNK_LEVELS {
            let ready = below / 2;
            let mut m = self.made[k];
            while ready - m >= LANES {
                self.hash_pairs::<LANES>(k, m);
                m += LANES;
            }
            if all {
                if ready - m >= 2 {
                    self.hash_pairs::<2>(k, m);
                    m += 2;
                }
                if ready > m {
                    self.hash_pairs::<1>(k, m);
                    m += 1;
                }
            }
            self.made[k] = m;
            below = m;
        }
    }

    /// Hashes level `k`'s nodes `m..m + N` from their children at level `k − 1`, in lockstep.
    #[inline]
    fn hash_pairs<const N: usize>(&mut self, k: usize, m: usize) {
        let (below, above) = self.nodes.split_at_mut(level_at(k));
        let children = &below[level_at(k - 1) + 2 * m..];
        let left: [&[u8; 32]; N] = core::array::from_fn(|i| &children[2 * i].0);
        let right: [&[u8; 32]; N] = core::array::from_fn(|i| &children[2 * i + 1].0);
        let out = self.backend.node_hashes(left, right);
        for (o, h) in above[m..m + N].iter_mut().zip(out) {
            *o = EntryHash(h);
        }
    }

    /// The root of the tree so far.
    fn root(&mut self) -> EntryHash {
        self.hash_ready(true);
        // the chunk's perfect subtrees, largest first, beside the finished chunks'
        let mut peaks = *self.chunks.peaks();
        let mut start = 0;
        for k in (0..CHUNK_LEVELS).rev() {
            if self.n >> k & 1 == 1 {
                peaks[k] = self.nodes[level_at(k) + (start >> k)];
                start += 1 << k;
            }
        }
        Frontier::from_peaks(self.size(), peaks).root()
    }
}

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

    fn h(i: u64) -> EntryHash {
        use sha2::{Digest, Sha256};
        EntryHash(Sha256::digest(i.to_be_bytes()).into())
    }

    /// The chunked tree equals the stored tree at every size (across chunk boundaries, with roots
    /// taken mid-chunk and not), whatever the backend.
    #[test]
    fn chunked_tree_equals_the_stored_tree_at_every_size() {
        let leaves: Vec<EntryHash> = (0..3 * CHUNK as u64 + 77).map(h).collect();
        let tree = Tree::from_leaf_hashes(leaves.clone());
        for backend in [Backend::PORTABLE, Backend::detect()] {
            for every in [1, 7, 128] {
                let mut t = ChunkTree::new();
                t.backend = backend;
                assert_eq!(t.clone().root(), tree.root_at(0).unwrap());
                for (i, l) in leaves.iter().enumerate() {
                    t.push_leaf(*l);
                    let size = i as u64 + 1;
                    assert_eq!(t.size(), size);
                    // a root at some sizes (hashing what it needs), the lockstep passes at others
                    if size.is_multiple_of(every) || i < 40 {
                        assert_eq!(t.root(), tree.root_at(size).unwrap(), "{i}");
                    }
                }
                assert_eq!(t.root(), tree.root_at(leaves.len() as u64).unwrap());
            }
        }
    }

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
