//! The Merkle tree over a machine's entries, hashed as RFC 6962 / RFC 9162 §2.1 hash them:
//! `leaf = SHA-256(0x00 ‖ input)`, `node = SHA-256(0x01 ‖ left ‖ right)`, the tree over `n`
//! leaves split at the largest power of two below `n`, the empty tree's hash `SHA-256("")`.
//!
//! **Owns**: tree hashes ([`leaf_hash`], [`node_hash`], [`root_of_leaf_hashes`]), the compact
//! running tree a machine keeps while it records ([`Frontier`]: one hash per set bit of the
//! size), the same with its nodes hashed four at a time in lockstep ([`ChunkTree`]: a machine's
//! log and the verifier), the stored tree that answers proofs ([`Tree`]), inclusion proofs (RFC
//! 9162 §2.1.3) and consistency proofs (§2.1.4) with their verification. **Never**: allocates per
//! appended leaf in [`Frontier`] or [`ChunkTree`], panics on a proof of any shape, or reads
//! anything but its arguments.
//!
//! In a ledger the leaf hash of entry `j` is its entry hash `h_j` itself
//! (`docs/ledger-format.md` §9): the entry's hashed input starts with its tag byte (0x47, 0x42 or
//! 0x43), never [`NODE_PREFIX`], so leaves and nodes are domain-separated as RFC 6962's 0x00 and
//! 0x01 separate them, without a second hash per entry. A node is two SHA-256 blocks.

use sha2::{Digest, Sha256};

use super::SHA256_IV;
use super::hash::{EntryHash, digest};
use super::lanes::{Backend, LANES};

/// Domain prefix of a leaf hash (RFC 6962 §2.1).
pub const LEAF_PREFIX: u8 = 0x00;
/// Domain prefix of an interior node hash (RFC 6962 §2.1).
pub const NODE_PREFIX: u8 = 0x01;

/// Longest proof accepted: a tree of at most 2^64 leaves needs at most 64 hashes (a consistency
/// proof at most 2·64); anything longer is refused before any hashing.
pub const MAX_PROOF_HASHES: usize = 130;

/// The hash of the empty tree: SHA-256 of no bytes.
pub fn empty_root() -> EntryHash {
    EntryHash(Sha256::digest([]).into())
}

/// `SHA-256(0x00 ‖ input)`.
pub fn leaf_hash(input: &[u8]) -> EntryHash {
    let mut h = Sha256::new();
    h.update([LEAF_PREFIX]);
    h.update(input);
    EntryHash(h.finalize().into())
}

/// `SHA-256(0x01 ‖ left ‖ right)`: two compressions, of blocks built in registers where the
/// CPU has SHA-NI (`lanes::Backend::node_hashes`), else of stack blocks.
#[inline]
pub fn node_hash(left: &EntryHash, right: &EntryHash) -> EntryHash {
    let [h] = super::lanes::Backend::detect().node_hashes([&left.0], [&right.0]);
    EntryHash(h)
}

/// [`node_hash`] with sha2's kernel on stack blocks (the portable path).
#[inline]
pub(crate) fn node_hash_portable(left: &EntryHash, right: &EntryHash) -> EntryHash {
    let blocks = node_blocks(left, right);
    let mut state = SHA256_IV;
    sha2::block_api::compress256(&mut state, &blocks);
    digest(state)
}

/// The two padded SHA-256 blocks of `0x01 ‖ left ‖ right` (65 bytes).
#[inline]
pub(crate) fn node_blocks(left: &EntryHash, right: &EntryHash) -> [[u8; 64]; 2] {
    let mut blocks = [[0u8; 64]; 2];
    blocks[0][0] = NODE_PREFIX;
    blocks[0][1..33].copy_from_slice(&left.0);
    blocks[0][33..64].copy_from_slice(&right.0[..31]);
    blocks[1][0] = right.0[31];
    blocks[1][1] = 0x80;
    blocks[1][56..64].copy_from_slice(&(65u64 * 8).to_be_bytes());
    blocks
}

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
pub(crate) struct ChunkTree {
    backend: Backend,
    chunks: Frontier,
    /// Leaves in the current chunk.
    n: usize,
    /// Nodes hashed at each level of the current chunk (level 0: unused, the leaves are `n`).
    made: [usize; CHUNK_LEVELS + 1],
    nodes: [EntryHash; 2 * CHUNK],
}

impl ChunkTree {
    pub(crate) fn new() -> ChunkTree {
        ChunkTree {
            backend: Backend::detect(),
            chunks: Frontier::new(),
            n: 0,
            made: [0; CHUNK_LEVELS + 1],
            nodes: [EntryHash::ZERO; 2 * CHUNK],
        }
    }

    /// Leaves so far.
    pub(crate) fn size(&self) -> u64 {
        self.chunks.size() + self.n as u64
    }

    /// Adds a leaf (an entry hash, `merkle` module docs).
    #[inline]
    pub(crate) fn push_leaf(&mut self, h: EntryHash) {
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
    pub(crate) fn root(&mut self) -> EntryHash {
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

/// The largest power of two strictly below `n` (`n ≥ 2`).
fn split(n: u64) -> u64 {
    1 << (63 - (n - 1).leading_zeros())
}

/// The root over leaf hashes (RFC 6962's MTH, the leaves already hashed).
pub fn root_of_leaf_hashes(leaves: &[EntryHash]) -> EntryHash {
    let mut f = Frontier::new();
    for l in leaves {
        f.push(*l);
    }
    f.root()
}

/// The running tree of an append-only log: the roots of its perfect subtrees, largest first (one
/// per set bit of the size). Appending costs one leaf's merges, amortised one node; the root is
/// folded from the subtrees right to left. Fixed size: never allocates.
#[derive(Clone, Debug)]
pub struct Frontier {
    size: u64,
    /// `peaks[k]` is the root of the perfect subtree of `2^k` leaves when bit `k` of `size` is
    /// set.
    peaks: [EntryHash; 64],
}

impl Default for Frontier {
    fn default() -> Frontier {
        Frontier::new()
    }
}

impl Frontier {
    /// The empty tree.
    pub fn new() -> Frontier {
        Frontier {
            size: 0,
            peaks: [EntryHash::ZERO; 64],
        }
    }

    /// Leaves so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Appends a leaf hash.
    #[inline]
    pub fn push(&mut self, leaf: EntryHash) {
        self.push_perfect(0, leaf);
    }

    /// Appends a ledger entry: its entry hash is its leaf hash (module docs).
    #[inline]
    pub fn push_entry(&mut self, entry: &EntryHash) {
        self.push(*entry);
    }

    /// A frontier from its size and the roots of its perfect subtrees (`peaks[k]` read where bit
    /// `k` of `size` is set).
    pub(crate) fn from_peaks(size: u64, peaks: [EntryHash; 64]) -> Frontier {
        Frontier { size, peaks }
    }

    /// Appends a perfect subtree of `2^level` leaves given by its root; the size must be a
    /// multiple of `2^level` (the subtree starts where a perfect subtree of that size can).
    pub(crate) fn push_perfect(&mut self, level: usize, root: EntryHash) {
        debug_assert!(self.size.trailing_zeros() as usize >= level);
        let mut h = root;
        let mut k = level;
        while self.size >> k & 1 == 1 {
            h = node_hash(&self.peaks[k], &h);
            k += 1;
        }
        self.peaks[k] = h;
        self.size += 1 << level;
    }

    /// The roots of its perfect subtrees (see [`Frontier::from_peaks`]).
    pub(crate) fn peaks(&self) -> &[EntryHash; 64] {
        &self.peaks
    }

    /// The root of the tree so far.
    pub fn root(&self) -> EntryHash {
        if self.size == 0 {
            return empty_root();
        }
        let mut acc: Option<EntryHash> = None;
        for k in 0..64 {
            if self.size >> k & 1 == 1 {
                acc = Some(match acc {
                    None => self.peaks[k],
                    Some(right) => node_hash(&self.peaks[k], &right),
                });
            }
        }
        acc.unwrap_or_else(empty_root)
    }
}

/// A whole tree kept level by level (leaf hashes, then each level's complete pairs): answers
/// the root of any prefix and proofs between any sizes. About two hashes per leaf.
#[derive(Clone, Debug, Default)]
pub struct Tree {
    levels: Vec<Vec<EntryHash>>,
}

impl Tree {
    /// The tree over these leaf hashes.
    pub fn from_leaf_hashes(leaves: Vec<EntryHash>) -> Tree {
        let mut levels = vec![leaves];
        while let Some(last) = levels.last()
            && last.len() >= 2
        {
            let next: Vec<EntryHash> = last
                .chunks_exact(2)
                .map(|p| node_hash(&p[0], &p[1]))
                .collect();
            levels.push(next);
        }
        Tree { levels }
    }

    /// The tree over a ledger's entry hashes (each its own leaf hash, module docs).
    pub fn from_entries(entries: &[EntryHash]) -> Tree {
        Tree::from_leaf_hashes(entries.to_vec())
    }

    /// Leaves.
    pub fn size(&self) -> u64 {
        self.levels.first().map_or(0, |l| l.len() as u64)
    }

    /// MTH of leaves `a..b` (`a < b ≤ size`, `a` a multiple of the largest power of two ≤
    /// `b − a`, as every range of the RFC's recursions is).
    fn range(&self, a: u64, b: u64) -> EntryHash {
        let n = b - a;
        if n.is_power_of_two() {
            let k = n.trailing_zeros() as usize;
            return self.levels[k][(a >> k) as usize];
        }
        let k = split(n);
        node_hash(&self.range(a, a + k), &self.range(a + k, b))
    }

    /// The root of the first `n` leaves (`None` if `n` exceeds the tree).
    pub fn root_at(&self, n: u64) -> Option<EntryHash> {
        match n {
            0 => Some(empty_root()),
            n if n <= self.size() => Some(self.range(0, n)),
            _ => None,
        }
    }

    /// The audit path of leaf `index` in the tree of the first `size` leaves (RFC 9162
    /// §2.1.3.1), deepest first; `None` unless `index < size ≤ self.size()`.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Option<Vec<EntryHash>> {
        if index >= size || size > self.size() {
            return None;
        }
        let mut out = Vec::new();
        self.path(index, 0, size, &mut out);
        Some(out)
    }

    fn path(&self, m: u64, a: u64, b: u64, out: &mut Vec<EntryHash>) {
        if b - a == 1 {
            return;
        }
        let k = split(b - a);
        if m < a + k {
            self.path(m, a, a + k, out);
            out.push(self.range(a + k, b));
        } else {
            self.path(m, a + k, b, out);
            out.push(self.range(a, a + k));
        }
    }

    /// The consistency proof from the tree of the first `old` leaves to that of the first `new`
    /// (RFC 9162 §2.1.4.1); empty when `old` is 0 or equals `new`; `None` unless
    /// `old ≤ new ≤ self.size()`.
    pub fn consistency_proof(&self, old: u64, new: u64) -> Option<Vec<EntryHash>> {
        if old > new || new > self.size() {
            return None;
        }
        let mut out = Vec::new();
        if old > 0 && old < new {
            self.subproof(old, 0, new, true, &mut out);
        }
        Some(out)
    }

    fn subproof(&self, m: u64, a: u64, b: u64, whole: bool, out: &mut Vec<EntryHash>) {
        let n = b - a;
        if m == n {
            if !whole {
                out.push(self.range(a, b));
            }
            return;
        }
        let k = split(n);
        if m <= k {
            self.subproof(m, a, a + k, whole, out);
            out.push(self.range(a + k, b));
        } else {
            self.subproof(m - k, a + k, b, false, out);
            out.push(self.range(a, a + k));
        }
    }
}

/// Why a proof does not verify.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// The leaf index is not below the tree size, or the sizes are out of order.
    #[error("the proof's positions do not fit the tree sizes")]
    Range,
    /// The proof has the wrong number of hashes for its positions.
    #[error("the proof has the wrong number of hashes")]
    Length,
    /// The proof's hashes do not lead to the expected root(s).
    #[error("the proof does not lead to the published root")]
    Mismatch,
}

/// Checks an inclusion proof (RFC 9162 §2.1.3.2): leaf hash `leaf` at `index` in a tree of
/// `size` leaves whose root is `root`.
pub fn verify_inclusion(
    leaf: &EntryHash,
    index: u64,
    size: u64,
    proof: &[EntryHash],
    root: &EntryHash,
) -> Result<(), ProofError> {
    if index >= size {
        return Err(ProofError::Range);
    }
    if proof.len() > MAX_PROOF_HASHES {
        return Err(ProofError::Length);
    }
    let (mut f, mut s) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if s == 0 {
            return Err(ProofError::Length);
        }
        if f & 1 == 1 || f == s {
            r = node_hash(p, &r);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    if s != 0 {
        return Err(ProofError::Length);
    }
    if r != *root {
        return Err(ProofError::Mismatch);
    }
    Ok(())
}

/// Checks a consistency proof (RFC 9162 §2.1.4.2): the tree of `old` leaves with root
/// `old_root` is a prefix of the tree of `new` leaves with root `new_root`. Equal sizes need an
/// empty proof and equal roots; `old = 0` an empty proof (the empty tree is a prefix of all).
pub fn verify_consistency(
    old: u64,
    new: u64,
    old_root: &EntryHash,
    new_root: &EntryHash,
    proof: &[EntryHash],
) -> Result<(), ProofError> {
    if old > new {
        return Err(ProofError::Range);
    }
    if proof.len() > MAX_PROOF_HASHES {
        return Err(ProofError::Length);
    }
    if old == new || old == 0 {
        if !proof.is_empty() {
            return Err(ProofError::Length);
        }
        return if old == 0 || old_root == new_root {
            Ok(())
        } else {
            Err(ProofError::Mismatch)
        };
    }
    let mut path: Vec<EntryHash> = Vec::with_capacity(proof.len() + 1);
    if old.is_power_of_two() {
        path.push(*old_root);
    }
    path.extend_from_slice(proof);
    let Some((first, rest)) = path.split_first() else {
        return Err(ProofError::Length);
    };
    let (mut f, mut s) = (old - 1, new - 1);
    while f & 1 == 1 {
        f >>= 1;
        s >>= 1;
    }
    let (mut fr, mut sr) = (*first, *first);
    for c in rest {
        if s == 0 {
            return Err(ProofError::Length);
        }
        if f & 1 == 1 || f == s {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        f >>= 1;
        s >>= 1;
    }
    if s != 0 {
        return Err(ProofError::Length);
    }
    if fr != *old_root || sr != *new_root {
        return Err(ProofError::Mismatch);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(i: u64) -> EntryHash {
        EntryHash(Sha256::digest(i.to_be_bytes()).into())
    }

    #[test]
    fn fast_node_equals_streaming_sha256() {
        for i in 0..50 {
            let (a, b) = (h(i), h(i + 1000));
            let mut s = Sha256::new();
            s.update([NODE_PREFIX]);
            s.update(a.0);
            s.update(b.0);
            assert_eq!(node_hash(&a, &b).0, <[u8; 32]>::from(s.finalize()));
        }
    }

    #[test]
    fn frontier_root_equals_stored_tree_root_at_every_size() {
        let leaves: Vec<EntryHash> = (0..300).map(h).collect();
        let tree = Tree::from_leaf_hashes(leaves.clone());
        let mut f = Frontier::new();
        assert_eq!(f.root(), tree.root_at(0).unwrap());
        for (i, l) in leaves.iter().enumerate() {
            f.push(*l);
            assert_eq!(
                f.root(),
                tree.root_at(i as u64 + 1).unwrap(),
                "size {}",
                i + 1
            );
        }
    }

    #[test]
    fn malformed_proofs_are_errors_not_panics() {
        let tree = Tree::from_leaf_hashes((0..10).map(h).collect());
        let root = tree.root_at(10).unwrap();
        let p = tree.inclusion_proof(3, 10).unwrap();
        let leaf = tree.levels[0][3];
        assert_eq!(verify_inclusion(&leaf, 3, 10, &p, &root), Ok(()));
        assert_eq!(
            verify_inclusion(&leaf, 10, 10, &p, &root),
            Err(ProofError::Range)
        );
        assert_eq!(
            verify_inclusion(&leaf, 3, 10, &p[1..], &root),
            Err(ProofError::Length)
        );
        let long = vec![root; MAX_PROOF_HASHES + 1];
        assert_eq!(
            verify_inclusion(&leaf, 3, u64::MAX, &long, &root),
            Err(ProofError::Length)
        );
        assert_eq!(
            verify_consistency(u64::MAX - 1, u64::MAX, &root, &root, &long),
            Err(ProofError::Length)
        );
        assert_eq!(
            verify_consistency(5, 4, &root, &root, &[]),
            Err(ProofError::Range)
        );
        assert!(tree.inclusion_proof(10, 10).is_none());
        assert!(tree.consistency_proof(3, 11).is_none());
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
}
