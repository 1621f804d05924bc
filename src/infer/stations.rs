//! Published station-level results as the observed data (`tamga infer --observed STATIONS.csv`):
//! the file (read by [`crate::forensics::read`]) matched to the scenario, and the station
//! summaries ABC compares beside the national turnout and shares.
//!
//! The station summaries, computed the same way on the file and on every simulated election's
//! published protocols (stations through the one station filter of `tamga forensics`, the
//! leader being the file's largest party):
//!
//! - the **turnout × share histogram**: the share of base stations in each cell of a
//!   [`BINS`] × [`BINS`] grid whose edges are the quartiles of the file's station turnout and
//!   leader share (so each row and column holds a quarter of the observed stations, and fraud
//!   that moves stations towards high turnout and high share moves mass across cells);
//! - the **integer-percentage excess**: stations whose turnout or leader share is a whole
//!   percentage, beyond the number expected by chance (Kobak et al.'s test,
//!   [`crate::forensics::stats::integer`]), as a share of the stations tested;
//! - the **corner counts**: the share of stations with turnout and leader share both at least
//!   80 %, and both at least 95 % ([`CORNERS`]).
//!
//! Matching: every option column must name a party of the scenario (its id or its name,
//! ignoring case), and every party must have a column; every region of the file must be a
//! region of the hypothesis with as many stations as the scenario gives it, and registered
//! voters within [`REGISTERED_TOLERANCE`] of the scenario's. A mismatch is an error that names
//! the column, party or region.

use super::election::{Observed, Statistic};
use crate::electorate::Electorate;
use crate::forensics::read::ElectionResults;
use crate::forensics::stats::integer::integer_test;
use crate::forensics::stats::klimek::share_of_stations_at_least;
use crate::forensics::stats::stations::{StationFigures, filter_stations, leader_of};
use crate::model::{Scenario, StatisticGroup};
use crate::sim::StationCounts;
use crate::text::echo;

/// Rows and columns of the turnout × share histogram.
pub const BINS: usize = 4;
/// The corners counted: (turnout, share) both at least these.
pub const CORNERS: [(f64, f64); 2] = [(0.8, 0.8), (0.95, 0.95)];
/// Largest relative difference between a region's registered voters in the file and in the
/// scenario.
pub const REGISTERED_TOLERANCE: f64 = 0.1;

/// Why a station file does not fit the scenario.
#[derive(Debug, thiserror::Error)]
pub enum StationsError {
    #[error(
        "option column `{column}` (column {position}) is no party of the scenario (its parties: {parties}); name each column by a party id or name"
    )]
    UnknownOption {
        column: String,
        position: usize,
        parties: String,
    },
    #[error(
        "option columns `{first}` and `{second}` both name party `{party}`; give each party one column"
    )]
    TwoColumns {
        first: String,
        second: String,
        party: String,
    },
    #[error("party `{party}` of the scenario has no column; add a column `{party}` of its votes")]
    MissingParty { party: String },
    #[error(
        "region `{region}` (in {stations} rows of the file) is not a region of variant `{variant}` (its regions: {known}); the file's `region` column must name the scenario's regions"
    )]
    UnknownRegion {
        region: String,
        stations: usize,
        variant: String,
        known: String,
    },
    #[error(
        "region `{region}`: the file has {file} stations, variant `{variant}` has {scenario}; the simulated stations must be the file's"
    )]
    StationCount {
        region: String,
        file: usize,
        scenario: u32,
        variant: String,
    },
    #[error(
        "region `{region}`: the file registers {file} voters, variant `{variant}` {scenario} (more than {pct} % apart); correct the scenario's region or the file"
    )]
    Registered {
        region: String,
        file: u64,
        scenario: u64,
        variant: String,
        pct: f64,
    },
    #[error(
        "no station has ballots and registered voters (the station filter of `tamga forensics` removes them all): there is nothing to compare"
    )]
    NoStations,
}

/// How simulated stations are summarised: the leader and the histogram's edges, fixed by the
/// observed file (in the JSON report as `station_summaries`).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct StationSpec {
    /// Party index of the leader (the file's largest party).
    pub leader: usize,
    /// Its id.
    pub leader_id: String,
    /// Inner edges of the turnout bins ([`BINS`] − 1 of them).
    pub turnout_edges: Vec<f64>,
    /// Inner edges of the leader-share bins.
    pub share_edges: Vec<f64>,
    /// Stations in the file (before the filter): the floor of a station statistic's scale is
    /// one station in this many.
    pub stations: usize,
    /// Whether each cell's and corner's scale is at least the binomial spread of the file's own
    /// share of stations there (set for an honest model fitted to the file,
    /// [`Observed::with_binomial_scales`]; see [`super::election::ElectionModel::new`]).
    #[serde(skip)]
    pub binomial_scales: bool,
}

/// The number of station statistics.
pub const N_STATION_STATISTICS: usize = BINS * BINS + 1 + CORNERS.len();

/// The station statistics, in [`StationSpec::summaries`] order.
pub fn station_statistics() -> Vec<Statistic> {
    (0..BINS * BINS)
        .map(Statistic::Cell)
        .chain([Statistic::IntegerExcess])
        .chain((0..CORNERS.len()).map(Statistic::Corner))
        .collect()
}

fn bin(edges: &[f64], x: f64) -> usize {
    edges.iter().filter(|&&e| x >= e).count()
}

impl StationSpec {
    /// The station summaries of `stations` (in [`station_statistics`] order).
    pub fn summaries(&self, stations: impl IntoIterator<Item = StationFigures>) -> Vec<f64> {
        let sets = filter_stations(stations);
        let mut out = vec![0.0; N_STATION_STATISTICS];
        let n = sets.base.len();
        if n > 0 {
            for s in &sets.base {
                let c = bin(&self.turnout_edges, s.turnout()) * BINS
                    + bin(&self.share_edges, s.share());
                out[c] += 1.0 / n as f64;
            }
            let integer = integer_test(&sets.base);
            if integer.stations > 0 {
                out[BINS * BINS] = integer.either.excess / integer.stations as f64;
            }
        }
        for (i, &(t, s)) in CORNERS.iter().enumerate() {
            let v = share_of_stations_at_least(&sets.consistent, t, s);
            out[BINS * BINS + 1 + i] = if v.is_finite() { v } else { 0.0 };
        }
        out
    }

    /// The summaries of a simulated election's published protocols.
    pub fn simulated(&self, electorate: &Electorate, protocols: &StationCounts) -> Vec<f64> {
        self.summaries(crate::detect::published_figures(
            electorate,
            protocols,
            self.leader,
        ))
    }
}

/// Per option column of `results`, the scenario's party index.
fn party_columns(
    scenario: &Scenario,
    results: &ElectionResults,
) -> Result<Vec<usize>, StationsError> {
    let parties = &scenario.parties;
    let mut of_column = Vec::with_capacity(results.options.len());
    let mut seen: Vec<Option<usize>> = vec![None; parties.len()];
    for (c, name) in results.options.iter().enumerate() {
        let key = name.trim().to_lowercase();
        let p = parties
            .iter()
            .position(|p| p.id.to_lowercase() == key || p.name.to_lowercase() == key)
            .ok_or_else(|| StationsError::UnknownOption {
                column: echo(name),
                position: crate::forensics::read::FIXED_COLUMNS.len() + c + 1,
                parties: parties
                    .iter()
                    .map(|p| format!("{} ({})", p.id, p.name))
                    .collect::<Vec<_>>()
                    .join(", "),
            })?;
        if let Some(first) = seen[p] {
            return Err(StationsError::TwoColumns {
                first: echo(&results.options[first]),
                second: echo(name),
                party: parties[p].id.clone(),
            });
        }
        seen[p] = Some(c);
        of_column.push(p);
    }
    if let Some(p) = seen.iter().position(Option::is_none) {
        return Err(StationsError::MissingParty {
            party: parties[p].id.clone(),
        });
    }
    Ok(of_column)
}

/// Checks that the file's stations are the hypothesis's: the same regions, as many stations in
/// each, registered voters close.
fn check_regions(
    scenario: &Scenario,
    hypothesis: usize,
    results: &ElectionResults,
) -> Result<(), StationsError> {
    let variant = &scenario.variants[hypothesis];
    let regions = &variant.model.regions;
    let mut counts = vec![(0usize, 0u64); regions.len()];
    let mut unknown: Vec<(String, usize)> = Vec::new();
    for s in &results.stations {
        let key = s.region.trim().to_lowercase();
        match regions.iter().position(|r| r.name.to_lowercase() == key) {
            Some(r) => {
                counts[r].0 += 1;
                counts[r].1 += s.registered;
            }
            None => match unknown.iter_mut().find(|u| u.0 == s.region) {
                Some(u) => u.1 += 1,
                None => unknown.push((s.region.clone(), 1)),
            },
        }
    }
    if let Some((region, stations)) = unknown.into_iter().next() {
        return Err(StationsError::UnknownRegion {
            region: echo(&region),
            stations,
            variant: variant.name.clone(),
            known: regions
                .iter()
                .map(|r| r.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    for (r, &(n, registered)) in regions.iter().zip(&counts) {
        if n != r.stations as usize {
            return Err(StationsError::StationCount {
                region: r.name.clone(),
                file: n,
                scenario: r.stations,
                variant: variant.name.clone(),
            });
        }
        let gap = (registered as f64 - r.registered as f64).abs() / (r.registered.max(1) as f64);
        if gap > REGISTERED_TOLERANCE {
            return Err(StationsError::Registered {
                region: r.name.clone(),
                file: registered,
                scenario: r.registered,
                variant: variant.name.clone(),
                pct: 100.0 * REGISTERED_TOLERANCE,
            });
        }
    }
    Ok(())
}

impl Observed {
    /// Station results as the observed data under hypothesis `hypothesis`: national turnout
    /// and list shares (each when in `groups`; a station file has no seats) and the station
    /// summaries (always).
    pub fn stations(
        scenario: &Scenario,
        hypothesis: usize,
        results: &ElectionResults,
        groups: &[StatisticGroup],
    ) -> Result<Observed, StationsError> {
        let columns = party_columns(scenario, results)?;
        check_regions(scenario, hypothesis, results)?;
        let k = scenario.parties.len();
        // per station: votes by party index
        let votes = |s: &crate::forensics::read::StationResult| {
            let mut v = vec![0u64; k];
            for (c, &p) in columns.iter().enumerate() {
                v[p] = s.votes[c];
            }
            v
        };
        let mut totals = vec![0u64; k];
        let (mut registered, mut issued) = (0u64, 0u64);
        for s in &results.stations {
            for (t, v) in totals.iter_mut().zip(votes(s)) {
                *t += v;
            }
            registered += s.registered;
            issued += s.issued;
        }
        let leader = leader_of(&totals);
        let figures: Vec<StationFigures> = results
            .stations
            .iter()
            .enumerate()
            .map(|(i, s)| StationFigures {
                station_idx: i,
                registered: s.registered,
                issued: s.issued,
                ballots: s.ballots(),
                leader: votes(s)[leader],
            })
            .collect();
        let base = filter_stations(figures.iter().copied()).base;
        if base.is_empty() {
            return Err(StationsError::NoStations);
        }
        let edges = |xs: Vec<f64>| -> Vec<f64> {
            (1..BINS)
                .map(|i| crate::stats::quantile(&xs, i as f64 / BINS as f64))
                .collect()
        };
        let spec = StationSpec {
            leader,
            leader_id: scenario.parties[leader].id.clone(),
            turnout_edges: edges(base.iter().map(StationFigures::turnout).collect()),
            share_edges: edges(base.iter().map(StationFigures::share).collect()),
            stations: results.stations.len(),
            binomial_scales: false,
        };
        let mut statistics = Vec::new();
        let mut values = Vec::new();
        if groups.contains(&StatisticGroup::Turnout) {
            statistics.push(Statistic::Turnout);
            values.push(issued as f64 / registered.max(1) as f64);
        }
        if groups.contains(&StatisticGroup::Shares) {
            let valid: u64 = totals.iter().sum();
            for (p, &t) in totals.iter().enumerate() {
                statistics.push(Statistic::Share(p));
                values.push(t as f64 / valid.max(1) as f64);
            }
        }
        statistics.extend(station_statistics());
        values.extend(spec.summaries(figures));
        Ok(Observed {
            statistics,
            values,
            stations: Some(spec),
        })
    }
}

/// A simulated election's published protocols as a station-results CSV (the format `tamga
/// forensics` reads): region name, district number (or the region) as commission, station
/// number, registered, issued, valid, invalid, then one column per party id.
pub fn protocols_csv(
    scenario: &Scenario,
    hypothesis: usize,
    electorate: &Electorate,
    protocols: &StationCounts,
) -> String {
    use std::fmt::Write;
    let regions = &scenario.variants[hypothesis].model.regions;
    let mut s = String::from("region,commission,station,registered,issued,valid,invalid");
    for p in &scenario.parties {
        s.push(',');
        s.push_str(&field(&p.id));
    }
    s.push('\n');
    let k = scenario.parties.len();
    for (i, st) in electorate.stations.iter().enumerate() {
        let row = protocols.list_of(i);
        let valid: u64 = row[..k].iter().map(|&v| v as u64).sum();
        let region = field(
            regions
                .get(st.region as usize)
                .map_or("", |r| r.name.as_str()),
        );
        let commission = st
            .district
            .map_or(region.clone(), |d| format!("district {}", d + 1));
        let _ = write!(
            s,
            "{region},{commission},{},{},{},{valid},{}",
            i + 1,
            st.n_registered,
            protocols.issued[i],
            row[k]
        );
        for v in &row[..k] {
            let _ = write!(s, ",{v}");
        }
        s.push('\n');
    }
    s
}

/// A CSV field, quoted when it holds a comma, a quote or a line break.
fn field(x: &str) -> String {
    if x.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", x.replace('"', "\"\""))
    } else {
        x.to_string()
    }
}
