//! tamga — an electronic-voting simulation engine.
//!
//! The library simulates elections ballot by ballot (voters, polling stations, paper and
//! electronic voting, voting machines with hash-chained ballot logs, commissions, tabulation and
//! seat allocation) and runs many of them in parallel from a scenario file. The command-line tool
//! in `src/main.rs` is a thin layer over this public API.
//!
//! The core (everything but [`io`] and the readers/writers named as such) does no I/O, reads no
//! clock or environment, and takes its randomness as an argument. See `ARCHITECTURE.md`.

// Index loops over several parallel arrays read better than zipped iterators here.
#![allow(clippy::needless_range_loop)]

pub mod bench;
pub mod detect;
pub mod detection;
pub mod election;
pub mod electorate;
pub mod fastpath;
pub mod forensics;
pub mod fraud;
pub mod io;
pub mod ledger;
pub mod machine;
pub mod montecarlo;
pub mod package;
pub mod report;
pub mod rng;
pub mod scenario;
pub mod seats;
pub mod shard;
pub mod stats;
pub mod summary;
pub mod svg;
pub mod tabulation;

/// The version of tamga recorded in every output's provenance.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
