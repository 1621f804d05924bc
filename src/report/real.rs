//! The real station results a scenario references (`[reported] stations = "FILE"`), drawn on
//! the axes of the simulated fingerprints.
//!
//! **Owns**: [`RealStations`], the file's stations with each scenario party's column, and the
//! real fingerprint ([`RealStations::fingerprint`]: the same computation, cells and station
//! filter as a simulated run's, for the party the report follows) and the real figures per
//! region ([`RealStations::regions`], when the file's regions are the scenario's). **Never**:
//! reads the file or checks it against the scenario — the command does both (with the forensics
//! reader and the matching `tamga infer --observed` uses) and hands the result here.

use super::model::{RegionFigures, RunFingerprint};
use crate::forensics::read::ElectionResults;
use crate::forensics::stats::stations::{StationFigures, filter_stations};
use crate::model::Party;
use serde::Serialize;

/// Real station results matched to the scenario's parties.
#[derive(Clone, Debug)]
pub struct RealStations {
    /// The file as the scenario names it (`[reported] stations`).
    pub file: String,
    pub results: ElectionResults,
    /// Per scenario party (in party order), its option column in `results`.
    pub columns: Vec<usize>,
}

/// The real fingerprint as the report shows it.
#[derive(Clone, Debug, Serialize)]
pub struct RealFingerprint {
    /// The file as the scenario names it.
    pub file: String,
    /// Rows in the file (the map holds the consistent ones).
    pub stations_in_file: usize,
    /// The map, on the simulated maps' cells; `run` is 0 and nothing is marked touched.
    pub map: RunFingerprint,
}

impl RealStations {
    /// Matches the file's option columns to `parties` by id or name, ignoring case and
    /// surrounding blanks (the rule of `tamga infer --observed`, whose matching the command
    /// runs first and whose errors it reports); `None` if some party has no column.
    pub fn new(file: &str, results: ElectionResults, parties: &[Party]) -> Option<RealStations> {
        let columns = parties
            .iter()
            .map(|p| {
                results.options.iter().position(|o| {
                    let o = o.trim().to_lowercase();
                    o == p.id.to_lowercase() || o == p.name.to_lowercase()
                })
            })
            .collect::<Option<Vec<usize>>>()?;
        Some(RealStations {
            file: file.to_string(),
            results,
            columns,
        })
    }

    /// Every station with party `party`'s votes, in file order (`station_idx` is the row).
    fn figures(&self, party: usize) -> impl Iterator<Item = StationFigures> + '_ {
        let col = self.columns.get(party).copied().unwrap_or(0);
        self.results.station_counts(col)
    }

    /// The fingerprint of party `party` (a scenario party index; its name `name`) through the
    /// one station filter, in 0.1 % cells too when `fine`.
    pub fn fingerprint(&self, party: usize, name: &str, fine: bool) -> RealFingerprint {
        let consistent = filter_stations(self.figures(party)).consistent;
        let none = |_: usize| false;
        let map = RunFingerprint::from_stations(0, name.to_string(), consistent.clone(), &none);
        RealFingerprint {
            file: self.file.clone(),
            stations_in_file: self.results.stations.len(),
            map: if fine {
                map.with_fine_stations(consistent, &none)
            } else {
                map
            },
        }
    }

    /// The real figures of party `party` per region, in the order of `regions`, when every
    /// station's region is one of them (by name, ignoring case); `None` otherwise.
    pub fn regions(&self, party: usize, regions: &[String]) -> Option<Vec<RegionFigures>> {
        let keys: Vec<String> = regions.iter().map(|r| r.trim().to_lowercase()).collect();
        let of_station: Vec<usize> = self
            .results
            .stations
            .iter()
            .map(|s| {
                let k = s.region.trim().to_lowercase();
                keys.iter().position(|r| *r == k)
            })
            .collect::<Option<_>>()?;
        let mut out: Vec<RegionFigures> = regions
            .iter()
            .map(|name| RegionFigures {
                name: name.clone(),
                ..RegionFigures::default()
            })
            .collect();
        for (c, &r) in self.figures(party).zip(&of_station) {
            let f = &mut out[r];
            f.stations += 1;
            f.registered += c.registered;
            f.issued += c.issued;
            f.ballots += c.ballots;
            f.leader += c.leader;
        }
        for c in filter_stations(self.figures(party)).consistent {
            if c.turnout() >= 0.95 && c.share() >= 0.95 {
                out[of_station[c.station_idx]].corner_95 += 1;
            }
        }
        Some(out)
    }
}
