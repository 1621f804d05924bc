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
//! This module does no I/O and never allocates per ballot (the log grows by amortised pushes
//! into a buffer reused between stations).

use crate::ledger::{BallotChoice, CANDIDATE_NONE, Chain, Closed, Genesis, LIST_NONE};

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
        self.keep_log = mode == LedgerMode::ChainAndLog;
        self.chain = (mode != LedgerMode::Off)
            .then(|| Chain::open(genesis, n_parties as u8, n_candidates as u16));
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
            && chain.append(BallotChoice::new(b.list, b.district)).is_err()
        {
            self.ledger_errors += 1;
        }
        if self.keep_log {
            self.log.push(b);
        }
    }

    /// Closes the polls: seals the chain (its head is then in [`VotingMachine::closed`]).
    pub fn close(&mut self) {
        self.closed = self.chain.take().map(Chain::close);
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
