//! Many machines' ledgers at once: written ([`write_many`]) and verified ([`verify_many`]) with
//! their chains advanced in lockstep, one ballot of each of [`LANES`] machines per four-lane
//! SHA-256 compression (`lanes.rs`), and each ledger's Merkle tree hashed level by level, four
//! nodes at a time.
//!
//! **Owns**: the lockstep ingest of whole ledger files kept in memory, and the lockstep verifier
//! over such files. **Never**: reports anything [`super::verify`] would not — a ledger is
//! reported either from the lockstep pass, when that pass finds nothing wrong with it (and the
//! report of a clean ledger is fully determined by its bytes), or, at the first thing the pass
//! does not expect, by the one-at-a-time verifier ([`super::verify_log`] /
//! [`super::verify_with_receipts`]) on that ledger alone; so every report is the one-at-a-time
//! verifier's, finding for finding (tested on clean and tampered ledgers). Opens no file.
//!
//! Why across machines: a machine writing its ledger has no stored hashes to check against, so
//! its chain is strictly sequential — one compression waits for the previous — and only
//! *other machines'* chains can fill the SHA unit's idle time (as `sim::machine::Lockstep` does
//! for the hybrid path). The verifier can check one ledger's stored links four at a time
//! (`verify.rs`), but walking four ledgers at once keeps every lane busy through short ledgers
//! and leaves only the lockstep kernel and byte comparisons on the hot path.

use super::chain::{Chain, Closed, Genesis, Totals, close_body_len};
use super::file::{BALLOT_RECORD_LEN, GENESIS_RECORD_LEN, HEADER_LEN, RECORD_PREFIX_LEN};
use super::hash::{BALLOT_BODY_LEN, EntryHash, GENESIS_BODY_LEN, Seq, close_hash, genesis_hash};
use super::heads::PublishedHead;
use super::lanes::{Backend, BallotTail, LANES};
use super::merkle::node_hash;
use super::receipt::{ReceiptCode, receipt_code};
use super::verify::{GenesisInfo, TreeRoot, VerifyReport, verify_log, verify_with_receipts};
use super::{
    BallotChoice, CANDIDATE_NONE, FORMAT_VERSION, LIST_NONE, LedgerError, MAGIC, TAG_BALLOT,
    TAG_CLOSE, TAG_GENESIS,
};

/// One machine's ballots to write as a ledger file.
#[derive(Clone, Copy, Debug)]
pub struct MachineBallots<'a> {
    /// What the chain is bound to.
    pub genesis: Genesis,
    /// Party lists on the ballot.
    pub n_lists: u8,
    /// District candidates on the ballot.
    pub n_candidates: u16,
    /// The ballots in the order cast.
    pub ballots: &'a [BallotChoice],
}

/// Writes each machine's whole ledger file into `out[i]` (cleared first; `out` is resized to
/// `machines.len()`, its buffers reused) — byte for byte what [`super::write_ledger`] writes —
/// and returns each sealed chain, in order. The chains advance [`LANES`] machines at a time,
/// one ballot of each per lockstep compression; each lane takes the next machine when its own
/// ends, and the last few machines finish one by one.
///
/// Errors as [`super::write_ledger`] does on the first machine (in order) with a choice out of
/// range; `out` is then partly written.
pub fn write_many(
    machines: &[MachineBallots<'_>],
    out: &mut Vec<Vec<u8>>,
) -> Result<Vec<Closed>, LedgerError> {
    write_many_with(Backend::detect(), machines, out)
}

pub(crate) fn write_many_with(
    backend: Backend,
    machines: &[MachineBallots<'_>],
    out: &mut Vec<Vec<u8>>,
) -> Result<Vec<Closed>, LedgerError> {
    out.resize_with(machines.len(), Vec::new);
    let mut chains: Vec<Chain> = Vec::with_capacity(machines.len());
    for (m, o) in machines.iter().zip(out.iter_mut()) {
        let chain = Chain::open(&m.genesis, m.n_lists, m.n_candidates);
        o.clear();
        o.reserve(
            HEADER_LEN
                + GENESIS_RECORD_LEN
                + m.ballots.len() * BALLOT_RECORD_LEN
                + RECORD_PREFIX_LEN
                + close_body_len(m.n_lists, m.n_candidates)
                + 32,
        );
        o.extend_from_slice(&MAGIC);
        o.extend_from_slice(&FORMAT_VERSION.to_be_bytes());
        o.push(TAG_GENESIS);
        o.extend_from_slice(&0u64.to_be_bytes());
        o.extend_from_slice(chain.genesis_body());
        o.extend_from_slice(&chain.genesis_hash().0);
        chains.push(chain);
    }
    // lane → (machine, next ballot), the next ballot usize::MAX on an idle lane
    const IDLE: (usize, usize) = (0, usize::MAX);
    let mut lanes = [IDLE; LANES];
    let mut next = 0;
    let start = |next: &mut usize| -> Option<(usize, usize)> {
        while *next < machines.len() {
            let m = *next;
            *next += 1;
            if !machines[m].ballots.is_empty() {
                return Some((m, 0));
            }
        }
        None
    };
    let mut active = 0;
    for lane in lanes.iter_mut() {
        let Some(l) = start(&mut next) else { break };
        (*lane, active) = (l, active + 1);
    }
    let mut failed = false;
    'walk: while active == LANES {
        let mut prev = [[0u32; 8]; LANES];
        let mut tails = [BallotTail::default(); LANES];
        let mut counters = [(0, 0); LANES];
        for lane in 0..LANES {
            let (m, j) = lanes[lane];
            let c = machines[m].ballots[j];
            match chains[m].next_indices(c) {
                Ok(idx) => counters[lane] = idx,
                Err(_) => {
                    failed = true;
                    break 'walk;
                }
            }
            // field by field: the kernel reads them at these widths
            tails[lane].seq = chains[m].n_ballots() + 1;
            tails[lane].list = c.list;
            tails[lane].candidate = c.district;
            prev[lane] = *chains[m].head_words();
        }
        let (states, hashes) = backend.ballot_states(&prev, &tails);
        for lane in 0..LANES {
            let (m, j) = lanes[lane];
            chains[m].commit(counters[lane], states[lane]);
            let c = machines[m].ballots[j];
            push_ballot_record(&mut out[m], tails[lane].seq, c, &hashes[lane]);
            lanes[lane].1 += 1;
            if lanes[lane].1 == machines[m].ballots.len() {
                match start(&mut next) {
                    Some(l) => lanes[lane] = l,
                    None => {
                        active -= 1;
                        lanes[lane] = IDLE;
                    }
                }
            }
        }
    }
    if !failed {
        // the last few machines (fewer than a lane's width), one by one
        for &(m, from) in lanes.iter().filter(|l| l.1 != usize::MAX) {
            for &c in &machines[m].ballots[from..] {
                match chains[m].append(c) {
                    Ok(h) => push_ballot_record(&mut out[m], chains[m].n_ballots(), c, &h.0),
                    Err(_) => failed = true,
                }
            }
        }
    }
    if failed {
        // the error of the first machine in order with a refused ballot (the lanes may have
        // met a later machine's first), as writing them one by one reports it
        for m in machines {
            let mut chain = Chain::open(&m.genesis, m.n_lists, m.n_candidates);
            for &c in m.ballots {
                chain.append(c)?;
            }
        }
        unreachable!("a refused ballot is refused again");
    }
    let mut sealed = Vec::with_capacity(chains.len());
    for (chain, o) in chains.into_iter().zip(out.iter_mut()) {
        let closed = chain.close();
        o.push(TAG_CLOSE);
        o.extend_from_slice(&closed.close_seq().0.to_be_bytes());
        o.extend_from_slice(closed.close_body());
        o.extend_from_slice(&closed.head.0);
        sealed.push(closed);
    }
    Ok(sealed)
}

/// Appends a ballot record (`docs/ledger-format.md` §3): tag, seq, list, candidate, hash. Its
/// first twelve bytes go as one 8-byte and one 4-byte word, the hash as the 32 bytes the kernel
/// stored, so that no copy reads bytes written at another width.
#[inline]
fn push_ballot_record(o: &mut Vec<u8>, seq: u64, c: BallotChoice, h: &[u8; 32]) {
    let a = (u64::from(TAG_BALLOT) << 56) | (seq >> 8);
    let b = ((seq as u32) << 24) | (u32::from(c.list) << 16) | u32::from(c.district);
    o.extend_from_slice(&a.to_be_bytes());
    o.extend_from_slice(&b.to_be_bytes());
    o.extend_from_slice(h);
}
const _: () = assert!(BALLOT_RECORD_LEN == 8 + 4 + 32);

/// One ledger file to verify, with what it is checked against.
#[derive(Clone, Copy, Debug)]
pub struct LedgerCheck<'a> {
    /// The whole file.
    pub bytes: &'a [u8],
    /// Its published head, if any.
    pub head: Option<&'a PublishedHead>,
    /// Voters' receipts for this machine.
    pub receipts: &'a [ReceiptCode],
    /// `None`: as [`super::verify_with_receipts`]. `Some(sizes)`: as [`super::verify_log`]
    /// with these sizes (the tree's root at each, and over every record).
    pub tree_sizes: Option<&'a [u64]>,
}

impl LedgerCheck<'_> {
    /// The one-at-a-time verifier's report on this ledger.
    fn reference(&self) -> VerifyReport {
        let r = match self.tree_sizes {
            None => verify_with_receipts(self.bytes, self.head, self.receipts),
            Some(sizes) => verify_log(self.bytes, self.head, self.receipts, sizes),
        };
        r.expect("reading a slice cannot fail")
    }
}

/// Verifies every ledger and returns one report each, in order: exactly the report
/// [`super::verify_with_receipts`] (or, with [`LedgerCheck::tree_sizes`], [`super::verify_log`])
/// gives for it. Ledgers are walked [`LANES`] at a time, one ballot record of each per lockstep
/// compression; a ledger in which the walk meets anything an honest ledger would not have is
/// handed to the one-at-a-time verifier, whose report is then the one returned.
///
/// Memory: the reports, plus about two hashes per entry of one ledger for its tree.
pub fn verify_many(ledgers: &[LedgerCheck<'_>]) -> Vec<VerifyReport> {
    verify_many_with(Backend::detect(), ledgers)
}

/// What the walk keeps about a ledger whose framing is as an honest ledger's.
struct Framed {
    genesis: GenesisInfo,
    /// Ballot records.
    n: usize,
    /// Offset of the close record.
    close_at: usize,
}

/// A lane's ledger in the walk.
#[derive(Clone, Copy)]
struct Walk {
    ledger: usize,
    /// Next ballot (0-based).
    j: usize,
    n: usize,
    /// Stored hash of the previous record.
    prev: EntryHash,
    n_lists: u8,
    n_candidates: u16,
}

impl Walk {
    /// Ballot record `j` of the ledger `bytes`: the tail of its link's hashed input (its stored
    /// seq and body; the link is SHA-256 of the stored previous hash and these), its stored hash,
    /// and the recount counters its choices go to — `None` unless it is a ballot record
    /// carrying seq `j + 1` with both choices on the ballot (or a record the framing did not
    /// provide).
    #[inline]
    fn record(&self, bytes: &[u8]) -> (BallotTail, EntryHash, Option<(usize, usize)>) {
        let at = HEADER_LEN + GENESIS_RECORD_LEN + self.j * BALLOT_RECORD_LEN;
        let Some(rec) = bytes.get(at..at + BALLOT_RECORD_LEN) else {
            return (BallotTail::default(), EntryHash::ZERO, None);
        };
        let seq = u64::from_be_bytes(rec[1..9].try_into().expect("8 bytes"));
        let body: [u8; BALLOT_BODY_LEN] = [rec[9], rec[10], rec[11]];
        let stored = EntryHash(rec[12..44].try_into().expect("32 bytes"));
        let tail = BallotTail {
            seq,
            list: body[0],
            candidate: u16::from_be_bytes([body[1], body[2]]),
        };
        let nl = self.n_lists as usize;
        let li = match body[0] {
            LIST_NONE => Some(nl),
            l if l < self.n_lists => Some(l as usize),
            _ => None,
        };
        let ci = match u16::from_be_bytes([body[1], body[2]]) {
            CANDIDATE_NONE => Some(nl + 1 + self.n_candidates as usize),
            c if c < self.n_candidates => Some(nl + 1 + c as usize),
            _ => None,
        };
        let in_sequence = rec[0] == TAG_BALLOT && seq == self.j as u64 + 1;
        let counters = li.zip(ci).filter(|_| in_sequence);
        (tail, stored, counters)
    }
}

pub(crate) fn verify_many_with(backend: Backend, ledgers: &[LedgerCheck<'_>]) -> Vec<VerifyReport> {
    verify_many_counted(backend, ledgers).0
}

/// [`verify_many_with`] and how many ledgers went to the one-at-a-time verifier.
fn verify_many_counted(
    backend: Backend,
    ledgers: &[LedgerCheck<'_>],
) -> (Vec<VerifyReport>, usize) {
    let mut handed_over = 0;
    let mut reports: Vec<Option<VerifyReport>> = vec![None; ledgers.len()];
    let framed: Vec<Option<Framed>> = ledgers.iter().map(|l| frame(l.bytes)).collect();
    // per ledger: its recount (n_lists + 1 then n_candidates + 1 counters) and whether the
    // walk gave up on it
    let mut counts: Vec<Vec<u64>> = vec![Vec::new(); ledgers.len()];
    let mut refused = vec![false; ledgers.len()];
    for (k, f) in framed.iter().enumerate() {
        match f {
            Some(f) => {
                counts[k] =
                    vec![0; f.genesis.n_lists as usize + f.genesis.n_candidates as usize + 2]
            }
            None => refused[k] = true,
        }
    }
    let walk_of = |k: usize| -> Walk {
        let f = framed[k].as_ref().expect("framed");
        Walk {
            ledger: k,
            j: 0,
            n: f.n,
            prev: f.genesis.hash,
            n_lists: f.genesis.n_lists,
            n_candidates: f.genesis.n_candidates,
        }
    };
    let mut next = 0;
    let start = |next: &mut usize| -> Option<Walk> {
        while *next < ledgers.len() {
            let k = *next;
            *next += 1;
            if framed[k].as_ref().is_some_and(|f| f.n > 0) {
                return Some(walk_of(k));
            }
        }
        None
    };
    let mut lanes: [Option<Walk>; LANES] = [None; LANES];
    let mut active = 0;
    for lane in lanes.iter_mut() {
        *lane = start(&mut next);
        active += usize::from(lane.is_some());
    }
    let mut count = |k: usize, (li, ci): (usize, usize)| {
        let c = &mut counts[k];
        c[li] += 1;
        c[ci] += 1;
    };
    while active == LANES {
        let mut prev = [[0u8; 32]; LANES];
        let mut tails = [BallotTail::default(); LANES];
        let mut stored = [EntryHash::ZERO; LANES];
        let mut counters = [None; LANES];
        for lane in 0..LANES {
            let w = lanes[lane].as_ref().expect("all lanes active");
            (tails[lane], stored[lane], counters[lane]) = w.record(ledgers[w.ledger].bytes);
            prev[lane] = w.prev.0;
        }
        let (_, hashes) = backend.ballot_states_from_bytes(&prev, &tails);
        for lane in 0..LANES {
            let w = lanes[lane].as_mut().expect("all lanes active");
            let linked = hashes[lane] == stored[lane].0;
            match counters[lane] {
                Some(c) if linked => count(w.ledger, c),
                _ => refused[w.ledger] = true,
            }
            w.prev = stored[lane];
            w.j += 1;
            if refused[w.ledger] || w.j == w.n {
                lanes[lane] = start(&mut next);
                if lanes[lane].is_none() {
                    active -= 1;
                }
            }
        }
    }
    // the last few ledgers' remaining ballots (fewer ledgers than lanes), one lane each
    for w in lanes.iter().flatten() {
        let mut w = *w;
        while w.j < w.n && !refused[w.ledger] {
            let (tail, stored, counters) = w.record(ledgers[w.ledger].bytes);
            let (_, hash) = backend.ballot_states_from_bytes(&[w.prev.0], &[tail]);
            match counters {
                Some(c) if hash[0] == stored.0 => count(w.ledger, c),
                _ => refused[w.ledger] = true,
            }
            w.prev = stored;
            w.j += 1;
        }
    }
    let mut tree = TreeLevels::default();
    for (k, l) in ledgers.iter().enumerate() {
        let clean = match (&framed[k], refused[k]) {
            (Some(f), false) => finish(backend, l, f, &counts[k], &mut tree),
            _ => None,
        };
        reports[k] = Some(clean.unwrap_or_else(|| {
            handed_over += 1;
            l.reference()
        }));
    }
    let reports = reports
        .into_iter()
        .map(|r| r.expect("every ledger reported"))
        .collect();
    (reports, handed_over)
}

/// The header and genesis record, and where the close record must start, when they are as in
/// an honest ledger (else `None`: the ledger goes to the one-at-a-time verifier).
fn frame(bytes: &[u8]) -> Option<Framed> {
    let head = bytes.get(..HEADER_LEN + GENESIS_RECORD_LEN)?;
    if head[..8] != MAGIC || head[8..10] != FORMAT_VERSION.to_be_bytes() {
        return None;
    }
    let g = &head[HEADER_LEN..];
    if g[0] != TAG_GENESIS || g[1..9] != [0; 8] {
        return None;
    }
    let body: &[u8; GENESIS_BODY_LEN] = g[9..9 + GENESIS_BODY_LEN].try_into().ok()?;
    let stored = EntryHash(g[9 + GENESIS_BODY_LEN..].try_into().ok()?);
    let version = u16::from_be_bytes([body[0], body[1]]);
    if version != FORMAT_VERSION || genesis_hash(body) != stored {
        return None;
    }
    let n_lists = body[58];
    let n_candidates = u16::from_be_bytes([body[59], body[60]]);
    let close_len = RECORD_PREFIX_LEN + close_body_len(n_lists, n_candidates) + 32;
    let rest = bytes.len() - HEADER_LEN - GENESIS_RECORD_LEN;
    let ballots_len = rest.checked_sub(close_len)?;
    if !ballots_len.is_multiple_of(BALLOT_RECORD_LEN) {
        return None;
    }
    let close_at = HEADER_LEN + GENESIS_RECORD_LEN + ballots_len;
    let genesis = GenesisInfo {
        version,
        election_id: EntryHash(body[2..34].try_into().ok()?),
        station: u32::from_be_bytes(body[34..38].try_into().ok()?),
        machine: u32::from_be_bytes(body[38..42].try_into().ok()?),
        launch_code: body[42..58].try_into().ok()?,
        n_lists,
        n_candidates,
        hash: stored,
    };
    Some(Framed {
        genesis,
        n: ballots_len / BALLOT_RECORD_LEN,
        close_at,
    })
}

/// The report of a ledger whose every ballot record the walk found in order, in range and
/// linked: checks the close record, the published head and the receipts, and builds the tree;
/// `None` at the first thing an honest ledger would not have.
fn finish(
    backend: Backend,
    l: &LedgerCheck<'_>,
    f: &Framed,
    counts: &[u64],
    tree: &mut TreeLevels,
) -> Option<VerifyReport> {
    let bytes = l.bytes;
    let g = &f.genesis;
    let n = f.n as u64;
    let last = if f.n == 0 {
        g.hash
    } else {
        let at = f.close_at - 32;
        EntryHash(bytes[at..f.close_at].try_into().ok()?)
    };
    let close = &bytes[f.close_at..];
    let body_len = close_body_len(g.n_lists, g.n_candidates);
    let seq = u64::from_be_bytes(close[1..9].try_into().ok()?);
    let body = &close[RECORD_PREFIX_LEN..RECORD_PREFIX_LEN + body_len];
    let stored = EntryHash(close[RECORD_PREFIX_LEN + body_len..].try_into().ok()?);
    if close[0] != TAG_CLOSE
        || seq != n + 1
        || u64::from_be_bytes(body[..8].try_into().ok()?) != n
        || body[8] != g.n_lists
        || u16::from_be_bytes([body[9], body[10]]) != g.n_candidates
    {
        return None;
    }
    // the committed totals against the recount (close body: the counters in the same order)
    let committed = body[11..]
        .chunks_exact(8)
        .map(|c| u64::from_be_bytes(c.try_into().expect("8 bytes")));
    if !committed.eq(counts.iter().copied()) {
        return None;
    }
    let head = close_hash(&last, Seq(seq), body);
    if head != stored {
        return None;
    }
    if let Some(p) = l.head
        && (p.election_id != g.election_id.0
            || (p.station, p.machine) != (g.station, g.machine)
            || p.n_ballots != n
            || p.head != head)
    {
        return None;
    }
    let ballot_hash_at = |j: usize| -> EntryHash {
        let at = HEADER_LEN + GENESIS_RECORD_LEN + j * BALLOT_RECORD_LEN + 12;
        EntryHash(bytes[at..at + 32].try_into().expect("32 bytes"))
    };
    let mut receipts: Vec<ReceiptCode> = l.receipts.to_vec();
    receipts.sort_unstable();
    receipts.dedup();
    if !receipts.is_empty() {
        let mut found = vec![false; receipts.len()];
        for j in 0..f.n {
            if let Ok(i) = receipts.binary_search(&receipt_code(&ballot_hash_at(j))) {
                found[i] = true;
            }
        }
        if found.contains(&false) {
            return None;
        }
    }
    let nl = g.n_lists as usize;
    let recounted = Totals {
        lists: counts[..nl].to_vec(),
        list_none: counts[nl],
        candidates: counts[nl + 1..counts.len() - 1].to_vec(),
        candidate_none: counts[counts.len() - 1],
    };
    let mut rep = VerifyReport {
        genesis: Some(*g),
        n_records: n + 2,
        n_ballots: n,
        recounted,
        stored_head: Some(stored),
        computed_head: Some(head),
        receipts_checked: receipts.len(),
        receipts_found: receipts.len(),
        bytes: bytes.len() as u64,
        ..VerifyReport::default()
    };
    if let Some(sizes) = l.tree_sizes {
        // the leaves are the stored entry hashes (the genesis's and the close's stored hashes
        // equal the computed ones, checked above), read in place
        let leaves = f.n + 2;
        let leaf = |i: usize| leaf_in(bytes, leaves, i);
        tree.build(backend, leaves, &leaf);
        let mut sizes = sizes.to_vec();
        sizes.sort_unstable();
        sizes.dedup();
        for s in sizes.into_iter().filter(|&s| s >= 1 && s <= leaves as u64) {
            rep.tree_roots.push(TreeRoot {
                size: s,
                root: tree.root(s, &leaf),
                last: EntryHash(*leaf(s as usize - 1)),
            });
        }
        rep.tree = Some((leaves as u64, tree.root(leaves as u64, &leaf)));
    }
    Some(rep)
}

/// The Merkle roots of a ledger file's tree (its stored entry hashes as leaves,
/// `docs/ledger-format.md` §9) at each of `sizes` the ledger reaches (sorted, deduplicated; 0
/// and sizes beyond the ledger skipped): what its machine signs in its checkpoints. Verifies
/// nothing; a file not framed as an honest ledger (header, genesis, whole ballot records, a
/// close record of the genesis's shape) has no roots. The tree is hashed four nodes at a time.
pub fn tree_roots(bytes: &[u8], sizes: &[u64]) -> Vec<TreeRoot> {
    let Some(f) = frame(bytes) else {
        return Vec::new();
    };
    let mut tree = TreeLevels::default();
    let leaves = f.n + 2;
    let leaf = |i: usize| leaf_in(bytes, leaves, i);
    tree.build(Backend::detect(), leaves, &leaf);
    let mut sizes = sizes.to_vec();
    sizes.sort_unstable();
    sizes.dedup();
    sizes
        .into_iter()
        .filter(|&s| s >= 1 && s <= leaves as u64)
        .map(|s| TreeRoot {
            size: s,
            root: tree.root(s, &leaf),
            last: EntryHash(*leaf(s as usize - 1)),
        })
        .collect()
}

/// Leaf `i` of a framed ledger file's tree of `leaves` entries (`docs/ledger-format.md` §9): the
/// stored hash that ends entry `i`'s record — the genesis record, a ballot record or, last, the
/// close record — read in place.
#[inline]
fn leaf_in(bytes: &[u8], leaves: usize, i: usize) -> &[u8; 32] {
    let at = match i {
        0 => HEADER_LEN + GENESIS_RECORD_LEN,
        i if i == leaves - 1 => bytes.len(),
        i => HEADER_LEN + GENESIS_RECORD_LEN + i * BALLOT_RECORD_LEN,
    };
    bytes[at - 32..at].try_into().expect("32 bytes")
}

/// A tree kept level by level above its leaves (each level's complete pairs), each level hashed
/// [`LANES`] nodes at a time; the leaves themselves are read where they are (a `leaf` function
/// given to [`TreeLevels::build`] and [`TreeLevels::root`]), never copied. Buffers reused
/// between trees.
#[derive(Default)]
struct TreeLevels {
    hashes: Vec<EntryHash>,
    /// Where each level above the leaves starts in `hashes`, and its length (`levels[0]` is
    /// level 1, the parents of the leaves).
    levels: Vec<(usize, usize)>,
}

impl TreeLevels {
    /// Builds the tree over `n` leaves, leaf `i` being `leaf(i)`.
    fn build<'a>(&mut self, backend: Backend, n: usize, leaf: &impl Fn(usize) -> &'a [u8; 32]) {
        self.hashes.clear();
        self.levels.clear();
        // level 1 from the leaves in place
        let pairs = n / 2;
        let mut p = 0;
        while p + LANES <= pairs {
            let left: [&[u8; 32]; LANES] = core::array::from_fn(|l| leaf(2 * (p + l)));
            let right: [&[u8; 32]; LANES] = core::array::from_fn(|l| leaf(2 * (p + l) + 1));
            for h in backend.node_hashes(left, right) {
                self.hashes.push(EntryHash(h));
            }
            p += LANES;
        }
        for q in p..pairs {
            let [h] = backend.node_hashes([leaf(2 * q)], [leaf(2 * q + 1)]);
            self.hashes.push(EntryHash(h));
        }
        if pairs == 0 {
            return;
        }
        self.levels.push((0, pairs));
        let (mut from, mut len) = (0, pairs);
        while len >= 2 {
            let pairs = len / 2;
            let to = self.hashes.len();
            let mut p = 0;
            while p + LANES <= pairs {
                let a = from + 2 * p;
                let pairs_here = &self.hashes[a..a + 2 * LANES];
                let left: [&[u8; 32]; LANES] = core::array::from_fn(|l| &pairs_here[2 * l].0);
                let right: [&[u8; 32]; LANES] = core::array::from_fn(|l| &pairs_here[2 * l + 1].0);
                for h in backend.node_hashes(left, right) {
                    self.hashes.push(EntryHash(h));
                }
                p += LANES;
            }
            for q in p..pairs {
                let a = from + 2 * q;
                let h = node_hash(&self.hashes[a], &self.hashes[a + 1]);
                self.hashes.push(h);
            }
            self.levels.push((to, pairs));
            (from, len) = (to, pairs);
        }
    }

    /// The root over the first `m` leaves (`1 ≤ m ≤` the leaves built over, `leaf` as given to
    /// [`TreeLevels::build`]): its perfect subtrees are whole nodes of the levels (a single leaf
    /// for the lowest bit), folded right to left (RFC 9162 §2.1.1).
    fn root<'a>(&self, m: u64, leaf: &impl Fn(usize) -> &'a [u8; 32]) -> EntryHash {
        let mut peaks = [EntryHash::ZERO; 64];
        let mut n_peaks = 0;
        let mut start = 0u64;
        for k in (0..64).rev() {
            if m >> k & 1 == 1 {
                peaks[n_peaks] = if k == 0 {
                    EntryHash(*leaf(start as usize))
                } else {
                    let (off, _) = self.levels[k - 1];
                    self.hashes[off + (start >> k) as usize]
                };
                n_peaks += 1;
                start += 1 << k;
            }
        }
        let mut acc = peaks[n_peaks - 1];
        for p in peaks[..n_peaks - 1].iter().rev() {
            acc = node_hash(p, &acc);
        }
        acc
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::merkle::Tree;
    use crate::ledger::{receipt_code, write_ledger};

    fn genesis(station: u32) -> Genesis {
        Genesis {
            election_id: [6; 32],
            station,
            machine: station % 3,
            launch_code: [station as u8; 16],
        }
    }

    /// Machine `s`'s ballots: `len` varied choices of a 4-list, 3-candidate ballot.
    fn ballots(s: u32, len: usize) -> Vec<BallotChoice> {
        (0..len as u32)
            .map(|j| {
                let l = (s * 5 + j * 7) % 5;
                BallotChoice::new(
                    if l == 4 { LIST_NONE } else { l as u8 },
                    match (s + j) % 4 {
                        3 => CANDIDATE_NONE,
                        c => c as u16,
                    },
                )
            })
            .collect()
    }

    fn backends() -> Vec<Backend> {
        let mut b = vec![Backend::PORTABLE];
        b.extend(Backend::sha_ni());
        b
    }

    /// Ledgers of these lengths written one at a time: bytes, sealed chains, ballots.
    fn one_at_a_time(lengths: &[usize]) -> (Vec<Vec<u8>>, Vec<Closed>, Vec<Vec<BallotChoice>>) {
        let mut files = vec![];
        let mut sealed = vec![];
        let mut all = vec![];
        for (s, &n) in lengths.iter().enumerate() {
            let b = ballots(s as u32, n);
            let mut out = vec![];
            sealed
                .push(write_ledger(&mut out, &genesis(s as u32), 4, 3, b.iter().copied()).unwrap());
            files.push(out);
            all.push(b);
        }
        (files, sealed, all)
    }

    /// Machine `s` of a 4-list, 3-candidate ballot casting `all[s]`.
    fn machines_of(all: &[Vec<BallotChoice>]) -> Vec<MachineBallots<'_>> {
        all.iter()
            .enumerate()
            .map(|(s, b)| MachineBallots {
                genesis: genesis(s as u32),
                n_lists: 4,
                n_candidates: 3,
                ballots: b,
            })
            .collect()
    }

    #[test]
    fn written_in_lockstep_as_one_at_a_time() {
        for lengths in [
            vec![],
            vec![0],
            vec![5],
            vec![3, 0, 9, 1, 1, 40, 2, 0, 7, 7, 7, 13],
            (0..30).map(|s| (s * 11) % 19).collect(),
        ] {
            let (files, sealed, all) = one_at_a_time(&lengths);
            let machines = machines_of(&all);
            for backend in backends() {
                let mut out = vec![vec![1, 2, 3]; 2];
                let got = write_many_with(backend, &machines, &mut out).unwrap();
                assert_eq!(got, sealed, "{lengths:?}");
                assert_eq!(out, files, "{lengths:?}");
            }
        }
    }

    #[test]
    fn a_refused_ballot_fails_as_writing_in_order_does() {
        let mut all: Vec<Vec<BallotChoice>> = (0..9).map(|s| ballots(s, 6 + s as usize)).collect();
        all[6][2] = BallotChoice::new(4, 0); // list 4 of 4
        all[2][5] = BallotChoice::new(0, 3); // candidate 3 of 3
        let machines = machines_of(&all);
        let want = write_ledger(&mut vec![], &genesis(2), 4, 3, all[2].iter().copied())
            .unwrap_err()
            .to_string();
        for backend in backends() {
            let got = write_many_with(backend, &machines, &mut vec![]).unwrap_err();
            assert_eq!(got.to_string(), want);
        }
    }

    /// `verify_many` on these ledgers (with and without trees) equals the one-at-a-time
    /// verifier on each.
    fn assert_same(files: &[Vec<u8>], heads: &[PublishedHead], receipts: &[Vec<ReceiptCode>]) {
        let sizes: Vec<Vec<u64>> = files
            .iter()
            .enumerate()
            .map(|(k, _)| vec![0, 1, 2, 3, 5, 8, 16, 17, 40, 41, 42, 1000, k as u64])
            .collect();
        for tree in [false, true] {
            let checks: Vec<LedgerCheck<'_>> = files
                .iter()
                .enumerate()
                .map(|(k, f)| LedgerCheck {
                    bytes: f,
                    head: heads.get(k),
                    receipts: receipts.get(k).map_or(&[], |r| r),
                    tree_sizes: tree.then(|| &sizes[k][..]),
                })
                .collect();
            let want: Vec<VerifyReport> = checks.iter().map(|c| c.reference()).collect();
            for backend in backends() {
                assert_eq!(verify_many_with(backend, &checks), want, "tree {tree}");
            }
        }
    }

    #[test]
    fn clean_ledgers_report_as_one_at_a_time_with_trees_and_receipts() {
        let lengths: Vec<usize> = (0..23).map(|s| (s * 7) % 45).collect();
        let (files, sealed, _) = one_at_a_time(&lengths);
        let heads: Vec<PublishedHead> = sealed.iter().map(Closed::published_head).collect();
        // receipts: every third ballot's code
        let receipts: Vec<Vec<ReceiptCode>> = files
            .iter()
            .map(|f| {
                let rep = crate::ledger::verify_log_with_leaves(&f[..], None, &[], &[])
                    .unwrap()
                    .1;
                rep[1..rep.len() - 1]
                    .iter()
                    .step_by(3)
                    .map(receipt_code)
                    .collect()
            })
            .collect();
        assert_same(&files, &heads, &receipts);
        assert_same(&files, &[], &[]);
        // the walk, not the one-at-a-time verifier, reports every clean ledger
        let checks: Vec<LedgerCheck<'_>> = files
            .iter()
            .zip(&heads)
            .zip(&receipts)
            .map(|((f, h), r)| LedgerCheck {
                bytes: f,
                head: Some(h),
                receipts: r,
                tree_sizes: Some(&[1, 7, 30]),
            })
            .collect();
        for backend in backends() {
            assert_eq!(verify_many_counted(backend, &checks).1, 0);
            let mut bad = files[9].clone();
            bad[HEADER_LEN + GENESIS_RECORD_LEN + 3 * BALLOT_RECORD_LEN + 10] ^= 4;
            let mut c = checks.clone();
            c[9].bytes = &bad;
            let (reports, handed_over) = verify_many_counted(backend, &c);
            assert_eq!(handed_over, 1);
            assert!(!reports[9].is_clean());
            assert!(
                reports
                    .iter()
                    .enumerate()
                    .all(|(k, r)| k == 9 || r.is_clean())
            );
        }
        // the tree's roots are the stored tree's
        let check = LedgerCheck {
            bytes: &files[4],
            head: None,
            receipts: &[],
            tree_sizes: Some(&[1, 2, 3, 13, 30]),
        };
        let rep = verify_many(&[check]).remove(0);
        let (_, leaves) =
            crate::ledger::verify_log_with_leaves(&files[4][..], None, &[], &[]).unwrap();
        let t = Tree::from_leaf_hashes(leaves);
        assert_eq!(rep.tree_roots.len(), 5);
        for r in &rep.tree_roots {
            assert_eq!(Some(r.root), t.root_at(r.size));
        }
        assert!(rep.is_clean());
    }

    #[test]
    fn tampered_ledgers_report_as_one_at_a_time() {
        let lengths = [9usize, 0, 14, 3, 21, 6, 1, 12];
        let (files, sealed, _) = one_at_a_time(&lengths);
        let heads: Vec<PublishedHead> = sealed.iter().map(Closed::published_head).collect();
        // each ledger of the batch tampered in turn, the others clean: every byte flipped,
        // every truncation, trailing bytes, a wrong head, a receipt that is not there
        for victim in [0usize, 2, 4, 6] {
            let f = &files[victim];
            for i in 0..f.len() {
                let mut bad = files.clone();
                bad[victim][i] ^= 0x01;
                assert_same(&bad, &heads, &[]);
            }
            for len in 0..f.len() {
                let mut bad = files.clone();
                bad[victim].truncate(len);
                assert_same(&bad, &heads, &[]);
            }
            let mut bad = files.clone();
            bad[victim].extend_from_slice(&[0x42; 50]);
            assert_same(&bad, &heads, &[]);
            let mut wrong = heads.clone();
            wrong[victim].head.0[3] ^= 0x10;
            assert_same(&files, &wrong, &[]);
            wrong = heads.clone();
            wrong[victim].n_ballots += 1;
            assert_same(&files, &wrong, &[]);
            let mut receipts = vec![vec![]; files.len()];
            receipts[victim] = vec![ReceiptCode::from_value(12345).unwrap()];
            assert_same(&files, &heads, &receipts);
        }
        // a ballot record moved, duplicated, removed
        let rec = |k: usize| HEADER_LEN + GENESIS_RECORD_LEN + k * BALLOT_RECORD_LEN;
        let f = &files[4];
        let mut bad = files.clone();
        bad[4] = [&f[..rec(5)], &f[rec(6)..]].concat();
        assert_same(&bad, &heads, &[]);
        bad[4] = [&f[..rec(6)], &f[rec(5)..]].concat();
        assert_same(&bad, &heads, &[]);
        let mut swapped = f.clone();
        swapped[rec(2)..rec(4)].copy_from_slice(&[&f[rec(3)..rec(4)], &f[rec(2)..rec(3)]].concat());
        bad[4] = swapped;
        assert_same(&bad, &heads, &[]);
        // a ledger of another shape whose records are all honest (re-encoded): clean, and the
        // walk must not confuse it with its neighbours
        let mut other = vec![];
        write_ledger(
            &mut other,
            &genesis(99),
            2,
            0,
            [BallotChoice::new(1, CANDIDATE_NONE); 5],
        )
        .unwrap();
        let mut mixed = files.clone();
        mixed.insert(3, other);
        assert_same(&mixed, &[], &[]);
    }
}
