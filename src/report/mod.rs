//! The report of `tamga run`: a data model of what people look at, and its renderings.
//!
//! - [`model`]: [`RunReport`], built from the [`crate::summary::Summary`], the run outcomes and
//!   one re-simulated representative run per variant; plain serialisable data.
//! - [`html`]: `report.html`, one self-contained page with inline SVG charts.
//! - [`overview`]: the page's first section, every variant at a glance.
//! - [`regions`]: every variant's representative run region by region.
//! - [`real`]: the real station results a scenario references, on the fingerprints' axes.
//! - [`rla`]: the risk-limiting audits' risk, power and workload (a scenario-wide table).
//!
//! Its charts are drawn with [`crate::svg`], the plotting primitives it shares with the
//! forensics page ([`crate::forensics::html`]).
//!
//! The summary's own renderings (JSON, CSV, terminal) stay in [`crate::summary`]. Never does:
//! I/O, clocks, environment or simulation — every rendering is a pure function from data to a
//! `String`, so the same seed gives byte-identical pages; writing files is the caller's business
//! (`tamga::files::write_atomic`).

pub mod html;
pub mod model;
pub mod overview;
pub mod real;
pub mod regions;
pub mod rla;

pub use html::render;
pub use model::{
    ReportOptions, RunFingerprint, RunReport, representative_fingerprints,
    representative_fingerprints_with, representative_run, representative_run_following,
};
pub use real::{RealFingerprint, RealStations};
