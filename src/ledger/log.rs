//! A voting machine's transparency log: its hash chain, the Merkle tree over its entries, and the
//! checkpoints it signs as it records — each time the log reaches a multiple of the checkpoint
//! interval, and at close (`docs/ledger-format.md` §9–10).
//!
//! **Owns**: [`MachineLog`] and its pipelined tree. **Never**: allocates per ballot (a
//! checkpoint allocates its note; the tree is fixed-size).
//!
//! Speed: the chain is a latency bound — each ballot's compression needs the previous one's
//! result, so the SHA unit idles between them. The tree's node hashes do not depend on the
//! chain's next step, so each ballot's chain block is compressed in lockstep beside up to
//! [`TREE_LANES`] pending node blocks (`lanes.rs`): the tree's work fills the chain's idle time
//! (`docs/BENCHMARKS.md` §Transparency log).

use ed25519_dalek::SigningKey;

use super::LedgerError;
use super::chain::{BallotChoice, Chain, Closed, Genesis};
use super::hash::{EntryHash, digest as digest_of};
use super::lanes::{Backend, BallotTail, BlockWords, SHA256_IV};
use super::merkle::Frontier;
use super::note::{Checkpoint, machine_origin, sign_note};

/// Node blocks compressed beside each ballot's chain block: always this many lanes (idle ones
/// compress a dummy block), so the step's kernel call never varies. A ballot needs two node
/// blocks on average, so two lanes keep up (checkpoints drain what is left).
const TREE_LANES: usize = 2;
/// Node jobs the pipelined tree holds (ring). Jobs arrive at one per entry on average and at most
/// three per step, and each step advances two, so few are pending; a fuller ring is drained
/// before the next entry.
const QUEUE: usize = 64;

/// One interior node being hashed: its two padded blocks as message words (built in registers and
/// stored whole, `Backend::node_words`), the state after the blocks done so far, the level of its
/// children (leaves are level 0) and how many blocks are done (0 or 1).
#[derive(Clone, Copy)]
struct Job {
    words: [BlockWords; 2],
    state: [u32; 8],
    level: u8,
    stage: u8,
}

const IDLE: Job = Job {
    words: [[[0; 4]; 4]; 2],
    state: SHA256_IV,
    level: 0,
    stage: 0,
};

/// The running Merkle tree of a log, hashed in a pipeline: an arriving node waits at its level
/// for its right sibling; a pair becomes a job in a FIFO whose first [`TREE_LANES`] jobs advance
/// one block per step. All jobs take two steps, so they finish in FIFO order and the nodes of a
/// level arrive in index order. After [`LaneTree::drain`], `pending` holds exactly the peaks of
/// the tree of `size` leaves — the state of a [`Frontier`].
#[derive(Clone)]
struct LaneTree {
    backend: Backend,
    size: u64,
    pending: [EntryHash; 64],
    /// Bit `k`: `pending[k]` holds a node waiting for its right sibling.
    has: u64,
    jobs: [Job; QUEUE],
    head: usize,
    len: usize,
}

impl LaneTree {
    fn new() -> LaneTree {
        LaneTree {
            backend: Backend::detect(),
            size: 0,
            pending: [EntryHash::ZERO; 64],
            has: 0,
            jobs: [IDLE; QUEUE],
            head: 0,
            len: 0,
        }
    }

    /// A finished node (or leaf, level 0) at `level`.
    #[inline]
    fn arrive(&mut self, level: u8, h: EntryHash) {
        let bit = 1u64 << level;
        if self.has & bit == 0 {
            self.pending[level as usize] = h;
            self.has |= bit;
            return;
        }
        self.has &= !bit;
        let j = &mut self.jobs[(self.head + self.len) % QUEUE];
        self.backend
            .node_words(&self.pending[level as usize].0, &h.0, &mut j.words);
        j.state = SHA256_IV;
        j.level = level;
        j.stage = 0;
        self.len += 1;
    }

    /// Adds a leaf (an entry hash, `merkle` module docs).
    #[inline]
    fn push_leaf(&mut self, h: EntryHash) {
        self.size += 1;
        self.arrive(0, h);
    }

    /// One lockstep compression: the ballot entry of `chain` (the previous hash's words and the
    /// entry's tail; if any) from the IV in lane 0, beside the next block of each of the first
    /// [`TREE_LANES`] jobs. Returns lane 0's final state and digest.
    #[inline]
    fn step(&mut self, chain: Option<(&[u32; 8], BallotTail)>) -> ([u32; 8], EntryHash) {
        let t = self.len.min(TREE_LANES);
        let mut states = [SHA256_IV; 1 + TREE_LANES];
        let mut words = [&IDLE.words[0]; 1 + TREE_LANES];
        for i in 0..t {
            let j = &self.jobs[(self.head + i) % QUEUE];
            states[1 + i] = j.state;
            words[1 + i] = &j.words[j.stage as usize];
        }
        let mut digest = EntryHash::ZERO;
        match chain {
            Some((prev, tail)) => {
                digest = EntryHash(self.backend.ballot_beside(prev, tail, &mut states, words));
            }
            None => {
                // lane 0 idle: only the jobs' lanes (a dummy in lane 2 when one job is left)
                let [_, rest @ ..] = &mut states;
                let [_, w @ ..] = words;
                if t > 0 {
                    self.backend.compress_words(rest, w);
                }
            }
        }
        // Jobs nearer the front are as far along as later ones, so the finished ones are a
        // prefix of the window.
        let mut done = [(0u8, EntryHash::ZERO); TREE_LANES];
        let mut n_done = 0;
        for i in 0..t {
            let j = &mut self.jobs[(self.head + i) % QUEUE];
            j.state = states[1 + i];
            if j.stage == 0 {
                j.stage = 1;
            } else {
                done[n_done] = (j.level, digest_of(j.state));
                n_done += 1;
            }
        }
        self.head = (self.head + n_done) % QUEUE;
        self.len -= n_done;
        for &(level, h) in &done[..n_done] {
            self.arrive(level + 1, h);
        }
        (states[0], digest)
    }

    /// Makes room for one step's new jobs.
    #[inline]
    fn reserve(&mut self) {
        while self.len + 1 + TREE_LANES > QUEUE {
            self.step(None);
        }
    }

    /// Finishes every pending job.
    fn drain(&mut self) {
        while self.len > 0 {
            self.step(None);
        }
    }

    /// The root of the tree so far.
    fn root(&mut self) -> EntryHash {
        self.drain();
        Frontier::from_peaks(self.size, self.pending).root()
    }
}

/// The chain, the tree and the signed checkpoints of one machine.
pub struct MachineLog {
    chain: Chain,
    tree: LaneTree,
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
            tree: LaneTree::new(),
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
        if close || self.tree.size.is_multiple_of(self.interval) {
            self.checkpoint(&h);
        }
    }

    fn checkpoint(&mut self, head: &EntryHash) {
        let c = Checkpoint {
            origin: self.origin.clone(),
            size: self.tree.size,
            root: self.tree.root(),
            head: Some(*head),
        };
        let note = sign_note(&c.body(), &self.origin, &self.key);
        self.notes.push_str(&note);
    }

    /// Appends a ballot (chain and tree); signs a checkpoint if the log reached the interval.
    /// The ballot's chain compression runs in lockstep beside pending tree hashes.
    #[inline]
    pub fn append(&mut self, c: BallotChoice) -> Result<EntryHash, LedgerError> {
        let idx = self.chain.next_indices(c)?;
        let tail = BallotTail {
            seq: self.chain.n_ballots() + 1,
            list: c.list,
            candidate: c.district,
        };
        self.tree.reserve();
        let (state, h) = self.tree.step(Some((self.chain.head_words(), tail)));
        self.chain.commit(idx, state);
        self.tree.push_leaf(h);
        if self.tree.size.is_multiple_of(self.interval) {
            self.checkpoint(&h);
        }
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

    /// The pipelined tree equals the stored tree at every size, with and without chain lanes and
    /// whatever the backend.
    #[test]
    fn pipelined_tree_equals_the_stored_tree_at_every_size() {
        let leaves: Vec<EntryHash> = (0..600).map(h).collect();
        let tree = Tree::from_leaf_hashes(leaves.clone());
        for backend in [Backend::PORTABLE, Backend::detect()] {
            for chain_lane in [false, true] {
                let mut t = LaneTree::new();
                t.backend = backend;
                assert_eq!(t.clone().root(), tree.root_at(0).unwrap());
                for (i, l) in leaves.iter().enumerate() {
                    if chain_lane {
                        t.reserve();
                        let prev = [(i as u32).wrapping_mul(0x0101_0107); 8];
                        let tail = BallotTail {
                            seq: i as u64 + 1,
                            list: i as u8,
                            candidate: (i as u16).wrapping_mul(3),
                        };
                        let got = t.step(Some((&prev, tail)));
                        let ([s], [d]) = Backend::PORTABLE.ballot_states(&[prev], &[tail]);
                        assert_eq!(got, (s, EntryHash(d)));
                    }
                    t.push_leaf(*l);
                    // the root (which drains) at some sizes, the pipeline left running at others
                    if i % 7 == 3 || i < 70 {
                        assert_eq!(t.root(), tree.root_at(i as u64 + 1).unwrap(), "{i}");
                    }
                }
                assert_eq!(t.root(), tree.root_at(600).unwrap());
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
