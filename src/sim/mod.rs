//! Election day: one run of one variant, from the electorate to station protocols and district
//! results, with every fraud that acts on voters, machines, ballot boxes, ledgers and
//! protocols. Two paths fill the same [`Workspace`]:
//!
//! - [`ballot`] — every voter turns out or not and casts a list and a district ballot, on paper
//!   or on a [`machine`] that hash-chains it; fraud acts ballot by ballot;
//! - [`station`] — each station's counts drawn from their exact distributions (`path =
//!   "station"`), never building a ballot or a chain; and the hybrid path (`path = "hybrid"`,
//!   the default): the same for paper ballots, with the electronic voters of e-enabled stations
//!   voting ballot by ballot on hash-chained machines.
//!
//! Then [`tamper`] (ledgers rewritten after close, commissions' changes to protocols) and
//! [`districts`] (round-1 totals, district-level tabulation fraud, runoffs).
//!
//! [`counts`] holds what a run produces, in four layers kept apart: the truth (what voters
//! chose), the count (what is in the boxes and machines), the protocols (after commissions'
//! fraud) and, from [`crate::tabulation`] on, the published aggregates. The workspace's fields
//! are private to this module; it hands out two views: [`Workspace::published`] (all a detector
//! may see) and [`Workspace::truth`] (intent, the truth's districts and what fraud did, which
//! tabulation, the summary and packages read).
//!
//! Above `electorate`, `fraud`, `model`, `ledger`, `distr`, `rng`; nothing here does I/O.

pub mod ballot;
pub mod context;
pub mod counts;
pub mod districts;
pub mod machine;
pub mod station;
pub mod tamper;

pub use ballot::{
    STOP_EVERY, Stop, run_election, run_election_split, run_election_split_until,
    run_election_until,
};
pub use context::{Context, FraudPlan};
pub use counts::{
    Checks, DistrictResult, FraudTrace, Published, PublishedLedger, Runoff, StationCounts, Truth,
    Workspace,
};
pub use machine::{Ballot, LedgerMode, VotingMachine};
