//! The statistics of election forensics: pure functions of station data (and, where they
//! simulate, of a caller's seed), shared by `tamga forensics`, the per-run detectors of
//! `tamga run` (`crate::detect`) and the fingerprint in its report (`crate::report`).
//!
//! - [`stations`]: [`stations::StationFigures`], the one station filter and the one leader rule;
//! - [`integer`]: integer-percentage peaks with the exact binomial null (Kobak, Shpilkin &
//!   Pshenichnikov, *Ann. Appl. Stat.* 10(1), 2016);
//! - [`klimek`]: the Klimek fraud model's station simulator (Klimek, Yegorov, Hanel & Thurner,
//!   *PNAS* 109(41), 2012), and [`klimek_fit`]: its 2-D likelihood fit with bootstrap intervals,
//!   distinct optima, goodness of fit and the votes it moved or added;
//! - [`shpilkin`]: Shpilkin's clean-peak estimate of anomalous votes;
//! - [`digits`]: second-digit Benford (Mebane), last digit (Beber & Scacco 2012), 0/5 share,
//!   each with a two-sided null matched to the election (a parametric bootstrap of its stations);
//! - [`fingerprint`]: the turnout × share fingerprint, cumulative votes against turnout, the
//!   log vote rate moments (Klimek et al.), the turnout–share slope (Myagkov, Ordeshook & Shakin
//!   2009) and the ≥ 95 % corner.
//!
//! Never does: read or write files, print, read a clock or the environment, or draw from a
//! global generator — every random task draws from [`crate::rng::analysis_stream`]. Imports only
//! [`crate::rng`] and [`crate::stats`].

pub mod digits;
pub mod fingerprint;
pub mod integer;
pub mod klimek;
pub mod klimek_fit;
pub mod shpilkin;
pub mod stations;
