//! tamga — an electronic-voting simulation engine.
//!
//! The library simulates elections ballot by ballot (voters, polling stations, paper and
//! electronic voting, voting machines with hash-chained ballot logs, commissions, tabulation and
//! seat allocation) and runs many of them in parallel from a scenario file. The command-line tool
//! in `src/main.rs` is a thin layer over this public API.
//!
//! The core (everything but [`files`] and the readers/writers named as such) does no I/O, reads no
//! clock or environment, and takes its randomness as an argument. See `ARCHITECTURE.md`.
//!
//! # Layers
//!
//! The modules in the order data flows through them; a module uses only modules above it in
//! this list (checked by the `layers` test, which reads this list):
//!
//! 1. `text` — echoing input in messages, bounded lines
//! 2. `rng` — every random stream
//! 3. `stats` — numerical helpers
//! 4. `distr` — samplers
//! 5. `svg` — plotting primitives
//! 6. `files` — output files written atomically, one or a set
//! 7. `seats` — seat allocation
//! 8. `rla` — risk-limiting audits: sampler, methods, assertions, escalation
//! 9. `ledger` — hash-chained ballot ledgers
//! 10. `forensics` — statistics on station results, and the `forensics` command's reading and pages
//! 11. `fraud` — fraud models and the rules that apply them
//! 12. `model` — the validated scenario
//! 13. `scenario` — reading and validating scenario files
//! 14. `electorate` — geography and calibration
//! 15. `sim` — election day
//! 16. `tabulation` — protocols to national totals and seats
//! 17. `detect` — detectors' readings from what is published, and the detection matrix
//! 18. `montecarlo` — many runs in parallel
//! 19. `shard` — runs split across machines, and merged
//! 20. `summary` — distributions over runs
//! 21. `report` — `report.html`
//! 22. `package` — election packages: `simulate` and `audit`
//! 23. `output` — the run's output files, all or none
//! 24. `bench` — the `bench` workloads
//! 25. `infer` — simulation-based inference: which fraud, and how much, explains a result

// Index loops over several parallel arrays read better than zipped iterators here.
#![allow(clippy::needless_range_loop)]
// Unsafe code is allowed in two places only: the SHA-NI kernel (`ledger::lanes`) and the
// thread clock (`bench::thread_cpu_seconds`).
#![deny(unsafe_code)]

// Layer order: a module may use only modules listed before it (tested in tests/it/layers.rs).
pub mod bench;
pub mod detect;
pub mod distr;
pub mod electorate;
pub mod files;
pub mod forensics;
pub mod fraud;
pub mod infer;
pub mod ledger;
pub mod model;
pub mod montecarlo;
pub mod output;
pub mod package;
pub mod report;
pub mod rla;
pub mod rng;
pub mod scenario;
pub mod seats;
pub mod shard;
pub mod sim;
pub mod stats;
pub mod summary;
pub mod svg;
pub mod tabulation;
pub mod text;

/// The version of tamga recorded in every output's provenance.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
