//! Election forensics: fraud fingerprints in real polling-station results (`tamga forensics`).
//!
//! Owns the statistics that look for fraud in published station protocols, each a pure function
//! of station data (and, where it simulates, of a caller's seed or generator), reused by the
//! fraud and detector work:
//! - [`results`]: the station-results CSV reader, leader selection and the stated filters;
//! - [`integer`]: integer-percentage peaks with the exact binomial null (Kobak, Shpilkin &
//!   Pshenichnikov, *Ann. Appl. Stat.* 10(1), 2016);
//! - [`klimek`]: the Klimek fraud model — station simulator and fit (Klimek, Yegorov, Hanel &
//!   Thurner, *PNAS* 109(41), 2012);
//! - [`digits`]: second-digit Benford (Mebane), last digit (Beber & Scacco 2012), 0/5 share,
//!   each with a null calibrated on clean simulations;
//! - [`fingerprint`]: the turnout × share fingerprint, cumulative votes against turnout, the
//!   log vote rate moments (Klimek et al.), the turnout–share slope (Myagkov, Ordeshook & Shakin
//!   2009) and the ≥ 95 % corner;
//! - [`report`] and [`html`]: the report data model and its renderings (text, JSON, HTML), each a
//!   pure function returning a string.
//!
//! Never does: file or terminal I/O, clocks, environment, global randomness. [`analyse`] takes
//! the seed; every random task draws from [`stream_rng`]`(seed, purpose, index)` and results are
//! collected in index order, so the same seed gives byte-identical reports whatever the thread
//! count. Timing is observed by the caller through the `on_stage` callback.

pub mod digits;
pub mod fingerprint;
pub mod html;
pub mod integer;
pub mod klimek;
pub mod report;
pub mod results;

use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;

pub use report::Report;

/// Stream purpose: replicate fits of the Klimek model (index = replicate).
pub const FIT_STREAM: u64 = 1;
/// Stream purpose: the simulation of the fitted model that gives its implied totals.
pub const IMPLIED_STREAM: u64 = 2;
/// Stream purpose: clean simulations that calibrate the digit tests (index = simulation).
pub const DIGIT_NULL_STREAM: u64 = 3;

/// The seed used when the caller gives none (any fixed value works; this one is the date of the
/// 2012 Russian presidential election).
pub const DEFAULT_SEED: u64 = 20_120_304;

/// Clean simulations behind the digit tests' null by default: the calibrated p-value's
/// resolution is 1/(n+1) ≈ 0.005, enough to place a result against the 1 % and 5 % levels.
pub const DEFAULT_DIGIT_NULL_SIMULATIONS: usize = 200;

/// The generator for (seed, purpose, index): Xoshiro256++ (portable, named) seeded from a
/// SplitMix64 mix of the three, so streams for different purposes or indices never coincide
/// and a task's stream does not depend on which thread runs it.
pub fn stream_rng(seed: u64, purpose: u64, index: u64) -> Xoshiro256PlusPlus {
    let mut z = seed;
    for v in [purpose, index] {
        z = splitmix64(z ^ splitmix64(v.wrapping_add(0x9e37_79b9_7f4a_7c15)));
    }
    Xoshiro256PlusPlus::seed_from_u64(z)
}

fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

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
    Leader(#[from] results::LeaderError),
    #[error(transparent)]
    Klimek(#[from] klimek::KlimekError),
    #[error(
        "no station is left after the filters ({0}); the analyses need stations with registered ≥ 100, at least one ballot and turnout ≤ 100 %"
    )]
    NoStations(String),
}

/// Runs every analysis on `results` (see the module docs); `on_stage` is called after each stage.
pub fn analyse(
    results: &results::ElectionResults,
    options: &AnalysisOptions,
    mut on_stage: impl FnMut(Stage),
) -> Result<Report, ForensicsError> {
    let leader = results::select_leader(results, options.leader.as_deref())?;
    let sets = results::station_sets(results, leader);
    if sets.base.is_empty() {
        let removed: Vec<String> = sets
            .filters
            .iter()
            .filter(|f| f.removed > 0)
            .map(|f| format!("{}: {}", f.rule, f.removed))
            .collect();
        return Err(ForensicsError::NoStations(removed.join(", ")));
    }
    let fingerprint = fingerprint::fingerprint(&sets.base, &sets.consistent);
    on_stage(Stage::Fingerprint);
    let integer = integer::integer_test(&sets.base);
    on_stage(Stage::IntegerTest);
    let klimek = klimek::fit(&sets.base, options.fit, options.seed)?;
    on_stage(Stage::KlimekFit);
    let electorates: Vec<u64> = sets.base.iter().map(|c| c.registered).collect();
    let pairs: Vec<(u64, u64)> = sets.base.iter().map(|c| (c.issued, c.leader)).collect();
    let digits = digits::digit_tests(
        &pairs,
        &electorates,
        &klimek.params,
        options.digit_null_simulations,
        options.seed,
    )?;
    on_stage(Stage::DigitNull);
    Ok(Report {
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
        digits,
    })
}
