//! Ballots and the voting machine: the seam between election day and the ballot ledger.
//!
//! A [`Ballot`] is what one voter cast: a list choice and a district choice, each possibly
//! invalid. Paper ballots are counted by the station commission; electronic ballots go through a
//! [`VotingMachine`], which keeps its own tally (the machine's totals, later compared with the
//! station protocol by an audit) and — unless the ledger is off — appends every ballot to its
//! hash-chained ledger ([`crate::ledger::Chain`]: one SHA-256 compression per ballot, no
//! allocation). At close the chain is sealed and its head is what the machine publishes.
//! With [`LedgerMode::ChainAndLog`] the machine also keeps the ballot sequence, so that an
//! election package can write the ledger file afterwards.
//!
//! A machine whose head nobody reads before the run ends (no ledger fraud, no package) may
//! [`VotingMachine::defer_hashing`]: it keeps the ballots and, at close, hands its chain and
//! ballots to a [`Lockstep`] batch, which hashes several machines' chains at once through the
//! four-lane kernel ([`crate::ledger::append_lanes`]) — the same entries and heads as
//! appending each ballot when cast, in about 0.56 of the time.
//!
//! This module does no I/O and never allocates per ballot (the log grows by amortised pushes
//! into a buffer reused between stations).

use crate::ledger::{
    BallotChoice, CANDIDATE_NONE, Chain, Closed, EntryHash, Genesis, LANES, LIST_NONE, append_lanes,
};

/// Marker for an invalid (spoiled or blank) list choice.
pub const INVALID_LIST: u8 = LIST_NONE;
/// Marker for an invalid (spoiled or blank) district choice, or no district tier.
pub const INVALID_DISTRICT: u16 = CANDIDATE_NONE;

/// One voter's ballot: the list party index and the district candidate index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ballot {
    pub list: u8,
    pub district: u16,
}

/// What voting machines do with the ballots they record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum LedgerMode {
    /// Count only.
    Off,
    /// Count and hash-chain every ballot (the default for Monte Carlo runs).
    #[default]
    Chain,
    /// Count, hash-chain and keep the ballot sequence (for writing election packages).
    ChainAndLog,
    /// Count and keep the ballot sequence, hash nothing: whoever reads the closed machine
    /// chains its ballots (e.g. many machines at once with `ledger::write_many`, as
    /// `bench::chained_election` does); [`VotingMachine::closed`] stays `None`.
    LogOnly,
}

/// A station's voting machine. Buffers are reused between stations.
#[derive(Clone, Debug, Default)]
pub struct VotingMachine {
    /// Ballots recorded.
    pub n_ballots: u32,
    /// Votes per list party; last slot counts invalid list choices.
    pub list: Vec<u32>,
    /// Votes per district candidate; last slot counts invalid district choices.
    pub district: Vec<u32>,
    /// The running chain while the polls are open.
    chain: Option<Chain>,
    /// The sealed chain after [`VotingMachine::close`].
    pub closed: Option<Closed>,
    /// The ballots in order (only with [`LedgerMode::ChainAndLog`]).
    pub log: Vec<Ballot>,
    keep_log: bool,
    /// Ballots the chain refused (a choice out of range; zero unless the engine has a bug).
    pub ledger_errors: u32,
    /// The ledger file as published after a ledger-rewrite fraud (the machine's honest ledger is
    /// `log` under `closed`); `None` when nobody rewrote it. Election packages publish these
    /// bytes instead of the honest ledger.
    pub rewritten: Option<Vec<u8>>,
    /// Whether the head published for this machine was replaced by the forger's.
    pub head_forged: bool,
    /// Ballots go to `log` and are hashed at close (see [`VotingMachine::defer_hashing`]).
    deferred: bool,
    /// What the machine's ledger is bound to, unless the ledger is off.
    genesis: Option<Genesis>,
}

impl VotingMachine {
    /// Resets the machine for a station with `n_parties` lists and `n_candidates` candidates,
    /// opening a chain bound to `genesis` unless `mode` is [`LedgerMode::Off`].
    pub fn open(
        &mut self,
        n_parties: usize,
        n_candidates: usize,
        mode: LedgerMode,
        genesis: &Genesis,
    ) {
        self.n_ballots = 0;
        self.ledger_errors = 0;
        self.rewritten = None;
        self.head_forged = false;
        self.list.clear();
        self.list.resize(n_parties + 1, 0);
        self.district.clear();
        self.district.resize(n_candidates + 1, 0);
        self.closed = None;
        self.log.clear();
        self.deferred = false;
        self.keep_log = matches!(mode, LedgerMode::ChainAndLog | LedgerMode::LogOnly);
        self.chain = matches!(mode, LedgerMode::Chain | LedgerMode::ChainAndLog)
            .then(|| Chain::open(genesis, n_parties as u8, n_candidates as u16));
        self.genesis = (mode != LedgerMode::Off).then_some(*genesis);
    }

    /// What the machine's ledger is bound to (`None` with the ledger off).
    pub fn genesis(&self) -> Option<&Genesis> {
        self.genesis.as_ref()
    }

    /// Opens the machine with the totals of a machine already run and hashed elsewhere (the same
    /// ballots, see `station::HonestDraws`): no chain, nothing to hash at close.
    pub(super) fn open_as(&mut self, n_ballots: u32, list: &[u32], district: &[u32]) {
        self.n_ballots = n_ballots;
        self.ledger_errors = 0;
        self.rewritten = None;
        self.head_forged = false;
        self.list.clear();
        self.list.extend_from_slice(list);
        self.district.clear();
        self.district.extend_from_slice(district);
        self.closed = None;
        self.log.clear();
        self.deferred = false;
        self.keep_log = false;
        self.chain = None;
        self.genesis = None;
    }

    /// Records one ballot.
    #[inline]
    pub fn record(&mut self, b: Ballot) {
        self.n_ballots += 1;
        let li = (b.list as usize).min(self.list.len() - 1);
        self.list[li] += 1;
        let di = (b.district as usize).min(self.district.len() - 1);
        self.district[di] += 1;
        if let Some(chain) = &mut self.chain
            && !self.deferred
            && chain.append(BallotChoice::new(b.list, b.district)).is_err()
        {
            self.ledger_errors += 1;
        }
        if self.keep_log || self.deferred {
            self.log.push(b);
        }
    }

    /// From now on keeps each ballot in `log` and hashes it at close — all at once in
    /// [`VotingMachine::close`], or beside other machines' ballots in
    /// [`VotingMachine::close_into`] — instead of when it is cast. For a machine whose running
    /// head nobody reads; a no-op without a chain or when the log is kept anyway.
    pub fn defer_hashing(&mut self) {
        self.deferred = self.chain.is_some() && !self.keep_log;
    }

    /// Closes the polls: seals the chain (its head is then in [`VotingMachine::closed`]).
    pub fn close(&mut self) {
        if self.deferred
            && let Some(chain) = &mut self.chain
        {
            for b in self.log.drain(..) {
                if chain.append(BallotChoice::new(b.list, b.district)).is_err() {
                    self.ledger_errors += 1;
                }
            }
            self.deferred = false;
        }
        self.closed = self.chain.take().map(Chain::close);
    }

    /// Closes the polls, leaving the hashing of a deferred chain (see
    /// [`VotingMachine::defer_hashing`]) to `batch`: [`VotingMachine::closed`] stays `None` and
    /// the head will be in the batch after [`Lockstep::flush`]. Without deferral, as
    /// [`VotingMachine::close`].
    pub fn close_into(&mut self, batch: &mut Lockstep) {
        match self.chain.take() {
            Some(chain) if self.deferred => {
                batch.push(chain, &self.log);
                self.log.clear();
                self.deferred = false;
                self.closed = None;
            }
            chain => {
                self.chain = chain;
                self.close();
            }
        }
    }
}

/// Ballots a [`Lockstep`] queues before it hashes them (4 MiB of choices): large enough that
/// the lanes rarely run short of chains, small enough for any run's memory.
pub const FLUSH_AT: usize = 1 << 20;

/// Machines' chains closed with [`VotingMachine::close_into`], waiting to be hashed together:
/// [`Lockstep::flush`] appends their ballots [`LANES`] chains at a time, one ballot of each per
/// lockstep compression, and seals them. Buffers are reused between flushes.
#[derive(Clone, Debug, Default)]
pub struct Lockstep {
    chains: Vec<Chain>,
    /// Where each chain's ballots are in `ballots`.
    spans: Vec<(usize, usize)>,
    ballots: Vec<BallotChoice>,
    /// The heads sealed since the last [`Lockstep::clear`], in the order the chains were pushed.
    pub heads: Vec<EntryHash>,
    /// Ballots a chain refused (a choice out of range; zero unless the engine has a bug).
    pub ledger_errors: u32,
}

impl Lockstep {
    /// Queues `chain` with its ballots still to append.
    /// Once [`FLUSH_AT`] ballots wait, they are hashed (so memory stays bounded on a run of
    /// any size: India scale queues 641 M ballots).
    fn push(&mut self, chain: Chain, ballots: &[Ballot]) {
        let from = self.ballots.len();
        let choices = ballots
            .iter()
            .map(|b| BallotChoice::new(b.list, b.district));
        self.ballots.extend(choices);
        self.spans.push((from, self.ballots.len()));
        self.chains.push(chain);
        if self.ballots.len() >= FLUSH_AT {
            self.flush();
        }
    }

    /// Forgets what is queued and the heads sealed so far (before a run, or a run that stopped
    /// early).
    pub fn clear(&mut self) {
        self.chains.clear();
        self.spans.clear();
        self.ballots.clear();
        self.heads.clear();
        self.ledger_errors = 0;
    }

    /// Hashes every queued chain's ballots and seals the chains; their heads are then added to
    /// [`Lockstep::heads`]. Each lane takes the next unfinished chain when its own ends; once
    /// fewer than [`LANES`] chains are left, they finish one by one.
    pub fn flush(&mut self) {
        // lane → (chain, next ballot, end), the next ballot usize::MAX on an idle lane; the next
        // chain to start
        const IDLE: (usize, usize, usize) = (0, usize::MAX, 0);
        let mut lanes = [IDLE; LANES];
        let mut next = 0;
        let mut active = 0;
        let spans = &self.spans;
        let start = |next: &mut usize| -> Option<(usize, usize, usize)> {
            while *next < spans.len() {
                let c = *next;
                *next += 1;
                let (from, to) = spans[c];
                if from < to {
                    return Some((c, from, to));
                }
            }
            None
        };
        while active < LANES {
            match start(&mut next) {
                Some(l) => {
                    lanes[active] = l;
                    active += 1;
                }
                None => break,
            }
        }
        while active == LANES {
            // plain loops, not `array::map` (see `ledger::append_lanes`)
            let mut idx = [0; LANES];
            let mut choices = [BallotChoice::BLANK; LANES];
            for lane in 0..LANES {
                idx[lane] = lanes[lane].0;
                choices[lane] = self.ballots[lanes[lane].1];
            }
            let Ok(chains) = self.chains.get_disjoint_mut(idx) else {
                unreachable!("lanes hold distinct chains")
            };
            if append_lanes(chains, choices).is_err() {
                // the refused ballot is skipped, as when appending one by one
                for (c, b) in idx.into_iter().zip(choices) {
                    if self.chains[c].append(b).is_err() {
                        self.ledger_errors += 1;
                    }
                }
            }
            for lane in 0..LANES {
                lanes[lane].1 += 1;
                if lanes[lane].1 == lanes[lane].2 {
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
        // the last few chains (fewer than a lane's width), one by one
        for &(c, from, to) in lanes.iter().filter(|l| l.1 != usize::MAX) {
            for &b in &self.ballots[from..to] {
                if self.chains[c].append(b).is_err() {
                    self.ledger_errors += 1;
                }
            }
        }
        debug_assert!(start(&mut next).is_none());
        self.heads
            .extend(self.chains.drain(..).map(|c| c.close().head));
        self.spans.clear();
        self.ballots.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn machine_totals_match_its_sealed_chain() {
        let g = Genesis {
            election_id: [7; 32],
            station: 3,
            machine: 0,
            launch_code: [1; 16],
        };
        let mut m = VotingMachine::default();
        m.open(3, 2, LedgerMode::ChainAndLog, &g);
        for (l, d) in [(0, 1), (2, 0), (0, INVALID_DISTRICT), (1, 1)] {
            m.record(Ballot {
                list: l,
                district: d,
            });
        }
        m.close();
        let closed = m.closed.as_ref().expect("sealed");
        assert_eq!(closed.n_ballots, 4);
        assert_eq!(m.log.len(), 4);
        assert_eq!(m.ledger_errors, 0);
        // the same ballots through a fresh chain give the same head
        let mut c = Chain::open(&g, 3, 2);
        for b in &m.log {
            c.append(BallotChoice::new(b.list, b.district)).unwrap();
        }
        assert_eq!(c.close().head, closed.head);
    }

    fn genesis(station: u32) -> Genesis {
        Genesis {
            election_id: [5; 32],
            station,
            machine: 0,
            launch_code: [station as u8; 16],
        }
    }

    /// Ballot `j` of station `s`: a varied but fixed choice, now and then out of range.
    fn ballot(s: u32, j: u32) -> Ballot {
        let list = ((s * 7 + j * 3) % 4) as u8;
        Ballot {
            list: if list == 3 { INVALID_LIST } else { list },
            district: match (s + j) % 3 {
                2 => INVALID_DISTRICT,
                d => d as u16,
            },
        }
    }

    #[test]
    fn lockstep_heads_equal_ballot_by_ballot_heads() {
        // stations of many lengths (empty ones, one ballot, shorter and longer than others),
        // fewer and more chains than lanes
        for lengths in [
            vec![],
            vec![3],
            vec![0, 0, 2],
            vec![5, 1, 0, 7, 2, 9, 0, 4, 1, 1, 30, 2],
            (0..40).map(|s| (s * 13) % 17).collect(),
        ] {
            let mut batch = Lockstep::default();
            let mut want = Vec::new();
            let mut m = VotingMachine::default();
            for (s, &n) in lengths.iter().enumerate() {
                let s = s as u32;
                // ballot by ballot
                m.open(3, 2, LedgerMode::Chain, &genesis(s));
                for j in 0..n {
                    m.record(ballot(s, j));
                }
                m.close();
                want.push(m.closed.as_ref().unwrap().head);
                let errors = m.ledger_errors;
                // deferred into the batch
                m.open(3, 2, LedgerMode::Chain, &genesis(s));
                m.defer_hashing();
                for j in 0..n {
                    m.record(ballot(s, j));
                }
                assert!(m.log.len() == n as usize);
                m.close_into(&mut batch);
                assert!(m.closed.is_none());
                assert_eq!(errors, 0);
            }
            batch.flush();
            assert_eq!(batch.heads, want, "lengths {lengths:?}");
            assert_eq!(batch.ledger_errors, 0);
        }
    }

    #[test]
    fn a_full_lockstep_hashes_what_it_holds_and_keeps_every_head() {
        // machines whose ballots add up to more than FLUSH_AT: the batch hashes on its own
        // when full, holds no more than FLUSH_AT ballots plus one machine's, and the heads of
        // every machine are there, in order, after the last flush
        let per_machine = (FLUSH_AT / 3) as u32 + 7;
        let mut batch = Lockstep::default();
        let mut want = Vec::new();
        let mut m = VotingMachine::default();
        for s in 0..5u32 {
            m.open(3, 2, LedgerMode::Chain, &genesis(s));
            for j in 0..per_machine {
                m.record(ballot(s, j));
            }
            m.close();
            want.push(m.closed.as_ref().unwrap().head);
            m.open(3, 2, LedgerMode::Chain, &genesis(s));
            m.defer_hashing();
            for j in 0..per_machine {
                m.record(ballot(s, j));
            }
            m.close_into(&mut batch);
            assert!(batch.ballots.len() < FLUSH_AT, "machine {s}");
        }
        assert_eq!(
            batch.heads.len(),
            3,
            "flushed once, after the third machine"
        );
        batch.flush();
        assert_eq!(batch.heads, want);
        batch.clear();
        assert!(batch.heads.is_empty());
    }

    #[test]
    fn a_deferred_machine_closed_alone_seals_the_same_chain() {
        let mut a = VotingMachine::default();
        let mut b = VotingMachine::default();
        a.open(3, 2, LedgerMode::Chain, &genesis(4));
        b.open(3, 2, LedgerMode::Chain, &genesis(4));
        b.defer_hashing();
        for j in 0..50 {
            a.record(ballot(4, j));
            b.record(ballot(4, j));
        }
        a.close();
        b.close();
        assert_eq!(a.closed, b.closed);
        assert_eq!((a.list.clone(), a.district.clone()), (b.list, b.district));
    }

    #[test]
    fn a_refused_ballot_is_counted_in_lockstep_as_one_by_one() {
        // a choice beyond the ballot (list 3 of 3) on one of four lanes
        let mut batch = Lockstep::default();
        let mut want = Vec::new();
        let mut m = VotingMachine::default();
        for s in 0..4u32 {
            let bad = |j: u32| s == 2 && j == 1;
            let b = |j| {
                if bad(j) {
                    Ballot {
                        list: 3,
                        district: 0,
                    }
                } else {
                    ballot(s, j)
                }
            };
            m.open(3, 2, LedgerMode::Chain, &genesis(s));
            (0..3).for_each(|j| m.record(b(j)));
            m.close();
            assert_eq!(m.ledger_errors, u32::from(s == 2));
            want.push(m.closed.as_ref().unwrap().head);
            m.open(3, 2, LedgerMode::Chain, &genesis(s));
            m.defer_hashing();
            (0..3).for_each(|j| m.record(b(j)));
            m.close_into(&mut batch);
        }
        batch.flush();
        assert_eq!(batch.heads, want);
        assert_eq!(batch.ledger_errors, 1);
    }

    #[test]
    fn log_only_keeps_the_ballots_unhashed_for_the_caller() {
        let mut chained = VotingMachine::default();
        let mut logged = VotingMachine::default();
        chained.open(3, 2, LedgerMode::Chain, &genesis(8));
        logged.open(3, 2, LedgerMode::LogOnly, &genesis(8));
        for j in 0..20 {
            chained.record(ballot(8, j));
            logged.record(ballot(8, j));
        }
        chained.close();
        logged.close();
        assert!(logged.closed.is_none());
        assert_eq!(logged.genesis(), Some(&genesis(8)));
        assert_eq!(logged.log.len(), 20);
        assert_eq!(
            (logged.list.clone(), logged.district.clone()),
            (chained.list.clone(), chained.district.clone())
        );
        // the caller's chain over the kept ballots seals the machine's head
        let mut c = Chain::open(&genesis(8), 3, 2);
        for b in &logged.log {
            c.append(BallotChoice::new(b.list, b.district)).unwrap();
        }
        assert_eq!(Some(c.close().head), chained.closed.map(|c| c.head));
    }

    #[test]
    fn ledger_off_keeps_no_chain() {
        let g = Genesis {
            election_id: [0; 32],
            station: 0,
            machine: 0,
            launch_code: [0; 16],
        };
        let mut m = VotingMachine::default();
        m.open(2, 0, LedgerMode::Off, &g);
        m.record(Ballot {
            list: 1,
            district: INVALID_DISTRICT,
        });
        m.close();
        assert!(m.closed.is_none());
        assert_eq!(m.list, vec![0, 1, 0]);
    }
}
