//! Election forensics: fraud fingerprints in real polling-station results (`tamga forensics`),
//! and the statistics behind them that `tamga run` reuses.
//!
//! Two halves, and the split is the import rule:
//! - [`stats`] — the statistics: pure functions of station data (and, where they simulate, of a
//!   caller's seed), used by `tamga forensics`, the per-run detectors (`crate::detect`) and the
//!   report's fingerprint (`crate::report`). [`stats::stations`] holds the one station filter
//!   and the one leader rule; [`stats::integer`], [`stats::klimek`], [`stats::digits`] and
//!   [`stats::fingerprint`] the analyses.
//! - the command: [`read`] (the station-results CSV reader and the leader chosen by name),
//!   [`analyse`] (this file: every analysis in order, with its options and errors), and the
//!   renderings [`report`] (the report data model, text and JSON) and [`html`] (the page), each
//!   a pure function returning a string.
//!
//! Imports only [`crate::rng`], [`crate::stats`] and [`crate::svg`] — never the simulation,
//! detectors, summary or `tamga run`'s report, which import it. Never does: file or terminal
//! I/O, clocks, environment, global randomness. [`analyse`] takes the seed; every random task
//! draws from [`crate::rng::analysis_stream`]`(seed, purpose, index)` and results are collected
//! in index order, so the same seed gives byte-identical reports whatever the thread count.
//! Timing is observed by the caller through the `on_stage` callback.

pub mod html;
pub mod read;
pub mod reading;
pub mod report;
pub mod stats;

pub use report::Report;
use stats::stations::Filtered;
use stats::{digits, fingerprint, integer, klimek, shpilkin};

/// The seed used when the caller gives none (any fixed value works; this one is the date of the
/// 2012 Russian presidential election).
pub const DEFAULT_SEED: u64 = 20_120_304;

/// Simulations behind the digit tests' null by default: the two-sided calibrated p-value's
/// resolution is 2/(n+1) ≈ 0.01; beyond every simulation a moment-matched tail takes over.
pub const DEFAULT_DIGIT_NULL_SIMULATIONS: usize = 200;

/// What to analyse and how hard to work.
#[derive(Debug, Clone, PartialEq)]
pub struct AnalysisOptions {
    /// Substring of the leader's name; `None` takes the option with the largest total.
    pub leader: Option<String>,
    pub seed: u64,
    pub fit: klimek::FitEffort,
    pub digit_null_simulations: usize,
}

impl Default for AnalysisOptions {
    fn default() -> Self {
        AnalysisOptions {
            leader: None,
            seed: DEFAULT_SEED,
            fit: klimek::FitEffort::FULL,
            digit_null_simulations: DEFAULT_DIGIT_NULL_SIMULATIONS,
        }
    }
}

/// Stages of [`analyse`], announced to the caller's `on_stage` callback as each one finishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Fingerprint,
    IntegerTest,
    KlimekFit,
    DigitNull,
}

/// Why an analysis could not be done.
#[derive(Debug, thiserror::Error)]
pub enum ForensicsError {
    #[error(transparent)]
    Leader(#[from] read::LeaderError),
    #[error(transparent)]
    Klimek(#[from] klimek::KlimekError),
    #[error(
        "no station is left after the filters ({}); the analyses need stations with registered ≥ 100, at least one ballot and turnout ≤ 100 %",
        removed_by_rule(.filters)
    )]
    NoStations {
        /// What each filter removed (all stations, between them).
        filters: Vec<Filtered>,
    },
}

/// The filters that removed anything, as `rule: count` joined by commas.
fn removed_by_rule(filters: &[Filtered]) -> String {
    let removed: Vec<String> = filters
        .iter()
        .filter(|f| f.removed > 0)
        .map(|f| format!("{}: {}", f.rule, f.removed))
        .collect();
    removed.join(", ")
}

/// Runs every analysis on `results` (see the module docs); `on_stage` is called after each stage.
pub fn analyse(
    results: &read::ElectionResults,
    options: &AnalysisOptions,
    mut on_stage: impl FnMut(Stage),
) -> Result<Report, ForensicsError> {
    let leader = read::select_leader(results, options.leader.as_deref())?;
    let sets = read::station_sets(results, leader);
    if sets.base.is_empty() {
        return Err(ForensicsError::NoStations {
            filters: sets.filters,
        });
    }
    let fingerprint = fingerprint::fingerprint(&sets.base, &sets.consistent);
    on_stage(Stage::Fingerprint);
    let integer = integer::integer_test(&sets.base);
    on_stage(Stage::IntegerTest);
    let (klimek, klimek_undefined) = match klimek::fit(&sets.base, options.fit, options.seed) {
        Ok(f) => (Some(f), None),
        Err(klimek::KlimekError::Undefined(why)) => (None, Some(why)),
        Err(e) => return Err(e.into()),
    };
    let clean_peak = shpilkin::clean_peak(
        &sets.base,
        SHPILKIN_REPLICATES.min(2 * options.fit.replicates),
        options.seed,
    );
    on_stage(Stage::KlimekFit);
    let digits = digits::digit_tests(&sets.base, options.digit_null_simulations, options.seed);
    on_stage(Stage::DigitNull);
    let mut report = Report {
        reading: reading::Reading::default(),
        tool: format!("tamga {} forensics", crate::VERSION),
        seed: options.seed,
        options: results.options.clone(),
        leader: results.options[leader].clone(),
        leader_query: options.leader.clone(),
        option_totals: results.option_totals(),
        stations_read: results.stations.len(),
        filters: sets.filters,
        stations_analysed: sets.base.len(),
        fit_effort: options.fit,
        fingerprint,
        integer,
        klimek,
        klimek_undefined,
        clean_peak,
        digits,
    };
    report.reading = reading::read(&report);
    Ok(report)
}

/// Station-bootstrap replicates behind the interval of Shpilkin's estimate (at most; twice the
/// Klimek replicates when fewer).
pub const SHPILKIN_REPLICATES: usize = 200;
