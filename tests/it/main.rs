//! tamga's integration tests, as one binary (`cargo test --test it`; one module:
//! `cargo test --test it engine::`). Shared helpers (the binary, paths, loading and running a
//! scenario, golden files) are in `common`; unit tests live beside their code in `src/`.
//!
//! Every test runs as a thread of this one process: none may set an environment variable or
//! change the current directory (see `common`).

mod common;

mod browser;
mod cli_args;
mod cli_check;
mod cli_forensics;
mod cli_merge_checks;
mod cli_package;
mod cli_run;
mod cli_seats;
mod cli_shard;
mod engine;
mod forensics_fit;
mod forensics_real;
mod fraud;
mod hostile_inputs;
mod infer;
mod infer_resume;
mod klimek_support;
mod layers;
mod ledger_hostile;
mod ledger_merkle;
mod ledger_note;
mod ledger_tamper;
mod ledger_vectors;
mod package_audit;
mod report;
mod report_real;
mod rla;
mod rla_cli;
mod rla_detect;
mod rla_outputs;
mod runoff;
mod scaling;
mod scenario_check;
mod seats_props;
mod seats_vectors;
mod shard;
mod station_fraud;
mod station_hybrid;
mod station_path;
mod tampering_vectors;
mod tilt;
