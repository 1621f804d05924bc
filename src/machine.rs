//! Ballots and the voting machine: the seam between election day and the ballot ledger.
//!
//! A [`Ballot`] is what one voter cast: a list choice and a district choice, each possibly
//! invalid. Paper ballots are counted by the station commission; electronic ballots go through a
//! [`VotingMachine`], which keeps its own tally (the machine's totals, later compared with the
//! station protocol by an audit). The ballot ledger hooks in here: every ballot a machine
//! records goes through [`VotingMachine::record`], and nowhere else.
//!
//! This module never allocates per ballot and does no I/O.

/// Marker for an invalid (spoiled or blank) list choice.
pub const INVALID_LIST: u8 = u8::MAX;
/// Marker for an invalid (spoiled or blank) district choice, or no district tier.
pub const INVALID_DISTRICT: u16 = u16::MAX;

/// One voter's ballot: the list party index and the district candidate index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ballot {
    pub list: u8,
    pub district: u16,
}

/// A station's voting machine: counts what it records. Buffers are reused between stations.
#[derive(Clone, Debug, Default)]
pub struct VotingMachine {
    /// Ballots recorded.
    pub n_ballots: u32,
    /// Votes per list party; last slot counts invalid list choices.
    pub list: Vec<u32>,
    /// Votes per district candidate; last slot counts invalid district choices.
    pub district: Vec<u32>,
}

impl VotingMachine {
    /// Resets the machine for a station with `n_parties` lists and `n_candidates` candidates.
    pub fn open(&mut self, n_parties: usize, n_candidates: usize) {
        self.n_ballots = 0;
        self.list.clear();
        self.list.resize(n_parties + 1, 0);
        self.district.clear();
        self.district.resize(n_candidates + 1, 0);
    }

    /// Records one ballot.
    #[inline]
    pub fn record(&mut self, b: Ballot) {
        self.n_ballots += 1;
        let li = (b.list as usize).min(self.list.len() - 1);
        self.list[li] += 1;
        let di = (b.district as usize).min(self.district.len() - 1);
        self.district[di] += 1;
    }
}
