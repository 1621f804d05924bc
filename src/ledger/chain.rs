//! The running chain of one voting machine, in memory: genesis, one entry per ballot, close.
//!
//! Owns the head hash, the next sequence number and the running totals of one machine; never
//! writes bytes anywhere ([`super::LedgerWriter`] streams them) and never allocates per ballot:
//! [`Chain::append`] validates the choice, hashes one stack block and bumps two counters;
//! [`append_lanes`] does the same for several machines' chains at once with one lockstep
//! compression (`super::lanes`), with heads identical to appending to each chain in turn.

use super::hash::{
    EntryHash, GENESIS_BODY_LEN, Seq, close_hash, digest, genesis_body, genesis_hash, words,
};
use super::heads::PublishedHead;
use super::lanes::{Backend, BallotTail};
use super::{CANDIDATE_NONE, FORMAT_VERSION, LIST_NONE, LedgerError};

/// What the genesis entry binds a machine's chain to (`docs/ledger-format.md` §2.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Genesis {
    /// The election: 32 bytes, e.g. the scenario digest.
    pub election_id: [u8; 32],
    /// Polling-station number.
    pub station: u32,
    /// Machine number within the station.
    pub machine: u32,
    /// Unpredictable code announced at poll opening, so that no alternative history can be
    /// computed before the polls open.
    pub launch_code: [u8; 16],
}

impl Genesis {
    /// Draws a launch code from the caller's random stream (16 bytes, two `next_u64` draws,
    /// big-endian), so that launch codes are reproducible from the scenario seed.
    pub fn draw_launch_code<R: rand::Rng + ?Sized>(rng: &mut R) -> [u8; 16] {
        let mut code = [0u8; 16];
        code[..8].copy_from_slice(&rng.next_u64().to_be_bytes());
        code[8..].copy_from_slice(&rng.next_u64().to_be_bytes());
        code
    }
}

/// One ballot's choices as the machine records them. [`LIST_NONE`] and [`CANDIDATE_NONE`] mark a
/// blank or invalid list vote / district-candidate vote.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub struct BallotChoice {
    /// Index of the party list voted for, `0..n_lists`, or [`LIST_NONE`].
    pub list: u8,
    /// Index of the district candidate voted for, `0..n_candidates`, or [`CANDIDATE_NONE`].
    pub district: u16,
}

impl BallotChoice {
    /// A blank ballot: no list vote and no candidate vote.
    pub const BLANK: BallotChoice = BallotChoice {
        list: LIST_NONE,
        district: CANDIDATE_NONE,
    };

    /// A ballot with both choices.
    pub const fn new(list: u8, district: u16) -> BallotChoice {
        BallotChoice { list, district }
    }
}

impl std::fmt::Display for BallotChoice {
    /// `list 1, candidate 9`; `no list vote` / `no candidate vote` for the reserved values.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.list {
            LIST_NONE => f.write_str("no list vote")?,
            l => write!(f, "list {l}")?,
        }
        match self.district {
            CANDIDATE_NONE => f.write_str(", no candidate vote"),
            c => write!(f, ", candidate {c}"),
        }
    }
}

/// A machine's totals: votes per list and per district candidate, plus the ballots with no
/// valid choice on each part.
#[derive(Clone, Debug, PartialEq, Eq, Default, serde::Serialize)]
pub struct Totals {
    /// Votes per list, indexed by list (`n_lists` entries).
    pub lists: Vec<u64>,
    /// Ballots whose list choice was [`LIST_NONE`].
    pub list_none: u64,
    /// Votes per district candidate (`n_candidates` entries).
    pub candidates: Vec<u64>,
    /// Ballots whose candidate choice was [`CANDIDATE_NONE`].
    pub candidate_none: u64,
}

impl Totals {
    /// All-zero totals for a ballot of this shape.
    pub fn zero(n_lists: u8, n_candidates: u16) -> Totals {
        Totals {
            lists: vec![0; n_lists as usize],
            list_none: 0,
            candidates: vec![0; n_candidates as usize],
            candidate_none: 0,
        }
    }
}

/// Bytes of a close body before its totals: n_ballots u64, n_lists u8, n_candidates u16.
pub(crate) const CLOSE_FIXED_LEN: usize = 8 + 1 + 2;

/// Length of a close body for a ballot of this shape.
pub(crate) const fn close_body_len(n_lists: u8, n_candidates: u16) -> usize {
    CLOSE_FIXED_LEN + 8 * (n_lists as usize + 1) + 8 * (n_candidates as usize + 1)
}

/// Encodes a close body: n_ballots u64 ‖ n_lists u8 ‖ n_candidates u16 ‖ lists[..] u64 ‖
/// list_none u64 ‖ candidates[..] u64 ‖ candidate_none u64, all big-endian.
pub(crate) fn close_body(n_ballots: u64, totals: &Totals) -> Vec<u8> {
    let n_lists = totals.lists.len();
    let n_cand = totals.candidates.len();
    debug_assert!(n_lists <= u8::MAX as usize && n_cand <= u16::MAX as usize);
    let mut b = Vec::with_capacity(close_body_len(n_lists as u8, n_cand as u16));
    b.extend_from_slice(&n_ballots.to_be_bytes());
    b.push(n_lists as u8);
    b.extend_from_slice(&(n_cand as u16).to_be_bytes());
    for &v in totals.lists.iter().chain([&totals.list_none]) {
        b.extend_from_slice(&v.to_be_bytes());
    }
    for &v in totals.candidates.iter().chain([&totals.candidate_none]) {
        b.extend_from_slice(&v.to_be_bytes());
    }
    b
}

/// The running hash chain of one voting machine (no I/O).
///
/// ```
/// use tamga::ledger::{BallotChoice, Chain, Genesis};
/// let g = Genesis { election_id: [7; 32], station: 12, machine: 1, launch_code: [9; 16] };
/// let mut chain = Chain::open(&g, 3, 2);
/// let h1 = chain.append(BallotChoice::new(0, 1)).unwrap();
/// let _receipt = tamga::ledger::receipt_code(&h1);
/// let closed = chain.close();
/// assert_eq!(closed.n_ballots, 1);
/// assert_eq!(closed.totals.lists, vec![1, 0, 0]);
/// ```
#[derive(Clone, Debug)]
pub struct Chain {
    genesis: Genesis,
    n_lists: u8,
    n_candidates: u16,
    genesis_body: [u8; GENESIS_BODY_LEN],
    genesis_hash: EntryHash,
    /// The head hash as the eight big-endian words of its digest: the form the compression
    /// returns and the next block takes, so that appending never reloads it at another width.
    head: [u32; 8],
    n_ballots: u64,
    /// `n_lists + 1` counters; the last one counts [`LIST_NONE`].
    list_counts: Vec<u64>,
    /// `n_candidates + 1` counters; the last one counts [`CANDIDATE_NONE`].
    candidate_counts: Vec<u64>,
}

impl Chain {
    /// Opens a machine's chain: computes the genesis entry for a ballot with `n_lists` party lists
    /// and `n_candidates` district candidates.
    pub fn open(g: &Genesis, n_lists: u8, n_candidates: u16) -> Chain {
        let body = genesis_body(
            FORMAT_VERSION,
            &g.election_id,
            g.station,
            g.machine,
            &g.launch_code,
            n_lists,
            n_candidates,
        );
        let h0 = genesis_hash(&body);
        Chain {
            genesis: *g,
            n_lists,
            n_candidates,
            genesis_body: body,
            genesis_hash: h0,
            head: words(&h0),
            n_ballots: 0,
            list_counts: vec![0; n_lists as usize + 1],
            candidate_counts: vec![0; n_candidates as usize + 1],
        }
    }

    /// Appends one ballot and returns its entry hash (from which the voter's receipt is derived).
    /// One SHA-256 compression, no allocation. Errors if a choice is out of range; the chain is
    /// then unchanged.
    #[inline]
    pub fn append(&mut self, c: BallotChoice) -> Result<EntryHash, LedgerError> {
        let seq = Seq(self.n_ballots + 1);
        let (li, ci) = self.indices(seq, c)?;
        // the block is built in registers from the head's words (`Backend::ballot_states`)
        let tail = BallotTail {
            seq: seq.0,
            list: c.list,
            candidate: c.district,
        };
        let ([head], [hash]) = Backend::detect().ballot_states(&[self.head], &[tail]);
        self.head = head;
        self.n_ballots = seq.0;
        self.list_counts[li] += 1;
        self.candidate_counts[ci] += 1;
        Ok(EntryHash(hash))
    }

    /// The next ballot's counter indices, without appending: the caller hashes its entry (the
    /// previous hash [`Chain::head_words`], seq `n_ballots + 1` and the choice) with
    /// [`super::lanes::Backend::ballot_states`], possibly beside other chains, and calls
    /// [`Chain::commit`] with the result. Errors if the choice is out of range.
    #[inline]
    pub(crate) fn next_indices(&self, c: BallotChoice) -> Result<(usize, usize), LedgerError> {
        self.indices(Seq(self.n_ballots + 1), c)
    }

    /// The head hash as the eight words of its final state.
    #[inline]
    pub(crate) fn head_words(&self) -> &[u32; 8] {
        &self.head
    }

    /// Adds a ballot whose choice was validated to counter indices `(li, ci)` and whose entry
    /// hash (as words) is `h`.
    #[inline]
    pub(crate) fn commit(&mut self, (li, ci): (usize, usize), h: [u32; 8]) {
        self.head = h;
        self.n_ballots += 1;
        self.list_counts[li] += 1;
        self.candidate_counts[ci] += 1;
    }

    /// Counter indices of a choice, or the error naming what is out of range.
    #[inline]
    fn indices(&self, seq: Seq, c: BallotChoice) -> Result<(usize, usize), LedgerError> {
        let li = if c.list == LIST_NONE {
            self.n_lists as usize
        } else if c.list < self.n_lists {
            c.list as usize
        } else {
            return Err(LedgerError::ListOutOfRange {
                seq,
                list: c.list,
                n_lists: self.n_lists,
            });
        };
        let ci = if c.district == CANDIDATE_NONE {
            self.n_candidates as usize
        } else if c.district < self.n_candidates {
            c.district as usize
        } else {
            return Err(LedgerError::CandidateOutOfRange {
                seq,
                candidate: c.district,
                n_candidates: self.n_candidates,
            });
        };
        Ok((li, ci))
    }

    /// Hash of the last entry so far (the genesis hash before any ballot).
    pub fn head(&self) -> EntryHash {
        digest(self.head)
    }

    /// Hash of the genesis entry.
    pub fn genesis_hash(&self) -> EntryHash {
        self.genesis_hash
    }

    /// Ballots appended so far.
    pub fn n_ballots(&self) -> u64 {
        self.n_ballots
    }

    /// What this chain is bound to.
    pub fn genesis(&self) -> &Genesis {
        &self.genesis
    }

    /// Party lists on this machine's ballot.
    pub fn n_lists(&self) -> u8 {
        self.n_lists
    }

    /// District candidates on this machine's ballot.
    pub fn n_candidates(&self) -> u16 {
        self.n_candidates
    }

    pub(crate) fn genesis_body(&self) -> &[u8; GENESIS_BODY_LEN] {
        &self.genesis_body
    }

    /// Running totals so far.
    pub fn totals(&self) -> Totals {
        let (&list_none, lists) = self.list_counts.split_last().expect("n_lists + 1 ≥ 1");
        let (&candidate_none, candidates) = self
            .candidate_counts
            .split_last()
            .expect("n_candidates + 1 ≥ 1");
        Totals {
            lists: lists.to_vec(),
            list_none,
            candidates: candidates.to_vec(),
            candidate_none,
        }
    }

    /// Seals the chain with the close entry committing the ballot count and totals. Its hash is
    /// the head to publish.
    pub fn close(self) -> Closed {
        let totals = self.totals();
        let body = close_body(self.n_ballots, &totals);
        let seq = Seq(self.n_ballots + 1);
        let last = self.head();
        let head = close_hash(&last, seq, &body);
        Closed {
            genesis: self.genesis,
            n_lists: self.n_lists,
            n_candidates: self.n_candidates,
            genesis_hash: self.genesis_hash,
            last_ballot_hash: last,
            n_ballots: self.n_ballots,
            totals,
            head,
            close_body: body,
        }
    }
}

/// Appends `choices[i]` to `chains[i]` for every lane `i` — one ballot on each of `N` machines —
/// with one lockstep compression of the `N` entry blocks (SHA-NI where the CPU has it, see
/// [`super::Backend`]). Returns the `N` entry hashes; each chain ends exactly as after
/// [`Chain::append`] of its choice. No allocation.
///
/// All or nothing: if any choice is out of range, the error of the first such lane is returned
/// and no chain changes (append the others one by one with [`Chain::append`] if wanted).
///
/// ```
/// use tamga::ledger::{BallotChoice, Chain, Genesis, append_lanes};
/// let g = |machine| Genesis { election_id: [7; 32], station: 12, machine, launch_code: [9; 16] };
/// let mut chains = [Chain::open(&g(1), 3, 2), Chain::open(&g(2), 3, 2)];
/// let mut one = chains[1].clone();
/// let choices = [BallotChoice::new(0, 1), BallotChoice::BLANK];
/// let [_, h] = append_lanes(chains.each_mut(), choices).unwrap();
/// assert_eq!(h, one.append(BallotChoice::BLANK).unwrap());
/// ```
#[inline]
pub fn append_lanes<const N: usize>(
    chains: [&mut Chain; N],
    choices: [BallotChoice; N],
) -> Result<[EntryHash; N], LedgerError> {
    append_lanes_with(Backend::detect(), chains, choices)
}

/// [`append_lanes`] with a given compression kernel (tests force the portable one).
#[inline]
pub(crate) fn append_lanes_with<const N: usize>(
    backend: Backend,
    chains: [&mut Chain; N],
    choices: [BallotChoice; N],
) -> Result<[EntryHash; N], LedgerError> {
    // Plain indexed loops (see `hash::digests`).
    let mut indices = [(0, 0); N];
    let mut prev = [[0u32; 8]; N];
    let mut tails = [BallotTail::default(); N];
    for i in 0..N {
        indices[i] = chains[i].next_indices(choices[i])?;
        prev[i] = chains[i].head;
        // field by field: the kernel reads them at these widths
        tails[i].seq = chains[i].n_ballots + 1;
        tails[i].list = choices[i].list;
        tails[i].candidate = choices[i].district;
    }
    let (states, hashes) = backend.ballot_states(&prev, &tails);
    for i in 0..N {
        chains[i].commit(indices[i], states[i]);
    }
    Ok(hashes.map(EntryHash))
}

/// A sealed chain: what the machine prints on its poll tape at close.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Closed {
    /// What the chain was bound to.
    pub genesis: Genesis,
    /// Party lists on the ballot.
    pub n_lists: u8,
    /// District candidates on the ballot.
    pub n_candidates: u16,
    /// Hash of the genesis entry.
    pub genesis_hash: EntryHash,
    /// Hash of the last ballot entry (the genesis hash if there were no ballots).
    pub last_ballot_hash: EntryHash,
    /// Ballots in the chain.
    pub n_ballots: u64,
    /// The machine's totals, committed in the close entry.
    pub totals: Totals,
    /// Hash of the close entry: the head to publish.
    pub head: EntryHash,
    close_body: Vec<u8>,
}

impl Closed {
    /// Sequence number of the close entry (`n_ballots + 1`).
    pub fn close_seq(&self) -> Seq {
        Seq(self.n_ballots + 1)
    }

    /// The line this machine contributes to the published-heads file.
    pub fn published_head(&self) -> PublishedHead {
        PublishedHead {
            election_id: self.genesis.election_id,
            station: self.genesis.station,
            machine: self.genesis.machine,
            n_ballots: self.n_ballots,
            head: self.head,
        }
    }

    pub(crate) fn close_body(&self) -> &[u8] {
        &self.close_body
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g() -> Genesis {
        Genesis {
            election_id: [1; 32],
            station: 5,
            machine: 2,
            launch_code: [3; 16],
        }
    }

    #[test]
    fn append_counts_and_chains() {
        let mut c = Chain::open(&g(), 2, 3);
        let h0 = c.head();
        let h1 = c.append(BallotChoice::new(1, 2)).unwrap();
        assert_ne!(h0, h1);
        let h2 = c.append(BallotChoice::BLANK).unwrap();
        assert_ne!(h1, h2);
        assert_eq!(c.n_ballots(), 2);
        let closed = c.close();
        assert_eq!(closed.totals.lists, vec![0, 1]);
        assert_eq!(closed.totals.list_none, 1);
        assert_eq!(closed.totals.candidates, vec![0, 0, 1]);
        assert_eq!(closed.totals.candidate_none, 1);
        assert_eq!(closed.last_ballot_hash, h2);
        assert_eq!(closed.close_seq(), Seq(3));
        assert_eq!(closed.close_body().len(), close_body_len(2, 3));
    }

    #[test]
    fn out_of_range_choice_is_an_error_and_leaves_chain_unchanged() {
        let mut c = Chain::open(&g(), 2, 3);
        let head = c.head();
        let e = c.append(BallotChoice::new(2, 0)).unwrap_err();
        assert!(
            matches!(
                e,
                LedgerError::ListOutOfRange {
                    list: 2,
                    n_lists: 2,
                    ..
                }
            ),
            "{e}"
        );
        let e = c.append(BallotChoice::new(0, 3)).unwrap_err();
        assert!(
            matches!(e, LedgerError::CandidateOutOfRange { candidate: 3, .. }),
            "{e}"
        );
        assert_eq!(c.head(), head);
        assert_eq!(c.n_ballots(), 0);
    }

    #[test]
    fn genesis_binds_every_field() {
        let base = Chain::open(&g(), 2, 3).genesis_hash();
        let mut variants = vec![];
        let mut x = g();
        x.election_id[31] ^= 1;
        variants.push(Chain::open(&x, 2, 3).genesis_hash());
        let mut x = g();
        x.station += 1;
        variants.push(Chain::open(&x, 2, 3).genesis_hash());
        let mut x = g();
        x.machine += 1;
        variants.push(Chain::open(&x, 2, 3).genesis_hash());
        let mut x = g();
        x.launch_code[0] ^= 1;
        variants.push(Chain::open(&x, 2, 3).genesis_hash());
        variants.push(Chain::open(&g(), 3, 3).genesis_hash());
        variants.push(Chain::open(&g(), 2, 4).genesis_hash());
        for v in variants {
            assert_ne!(v, base);
        }
    }

    fn machine(m: u32) -> Genesis {
        Genesis { machine: m, ..g() }
    }

    /// `append_lanes` on `N` chains ends with the heads, hashes, counts and closes of `N` chains
    /// appended one ballot at a time, on every backend.
    fn lanes_match_sequential<const N: usize>(choices: &[[BallotChoice; N]]) {
        let mut backends = vec![Backend::PORTABLE];
        backends.extend(Backend::sha_ni());
        for backend in backends {
            let mut lanes: [Chain; N] =
                core::array::from_fn(|i| Chain::open(&machine(i as u32), 4, 3));
            let mut seq: [Chain; N] = lanes.clone();
            for step in choices {
                let before: Vec<EntryHash> = lanes.iter().map(Chain::head).collect();
                let got = append_lanes_with(backend, lanes.each_mut(), *step);
                let valid = step.iter().all(|c| {
                    (c.list < 4 || c.list == LIST_NONE)
                        && (c.district < 3 || c.district == CANDIDATE_NONE)
                });
                match got {
                    Ok(hashes) => {
                        assert!(valid);
                        for ((chain, c), h) in seq.iter_mut().zip(step).zip(hashes) {
                            assert_eq!(chain.append(*c).unwrap(), h, "{}", backend.name());
                        }
                    }
                    Err(_) => {
                        assert!(!valid);
                        let after: Vec<EntryHash> = lanes.iter().map(Chain::head).collect();
                        assert_eq!(before, after, "all or nothing");
                    }
                }
            }
            for (a, b) in lanes.into_iter().zip(seq) {
                assert_eq!(a.head(), b.head());
                assert_eq!(a.close(), b.close());
            }
        }
    }

    #[test]
    fn append_lanes_equals_sequential_chains() {
        let c = |i: u64| BallotChoice::new((i % 5) as u8 % 4, (i % 4) as u16 % 3);
        let steps4: Vec<[BallotChoice; 4]> = (0..50u64)
            .map(|s| core::array::from_fn(|i| c(s * 7 + i as u64)))
            .collect();
        lanes_match_sequential(&steps4);
        let steps2: Vec<[BallotChoice; 2]> =
            (0..20u64).map(|s| [c(s), BallotChoice::BLANK]).collect();
        lanes_match_sequential(&steps2);
        lanes_match_sequential::<1>(&[[c(3)], [c(4)]]);
        // out-of-range choices in some lanes: nothing changes that step
        let bad = [
            [c(1), c(2), BallotChoice::new(4, 0), c(3)],
            [c(1), c(2), c(3), c(4)],
            [BallotChoice::new(0, 3), c(2), c(3), c(4)],
            [c(5), c(6), c(7), c(8)],
        ];
        lanes_match_sequential(&bad);
    }

    #[test]
    fn max_shape_lists_255_uses_none_as_255() {
        let mut c = Chain::open(&g(), u8::MAX, u16::MAX);
        c.append(BallotChoice::new(254, 65534)).unwrap();
        c.append(BallotChoice::new(255, 65535)).unwrap();
        let closed = c.close();
        assert_eq!(closed.totals.lists[254], 1);
        assert_eq!(closed.totals.list_none, 1);
        assert_eq!(closed.totals.candidates[65534], 1);
        assert_eq!(closed.totals.candidate_none, 1);
    }
}
