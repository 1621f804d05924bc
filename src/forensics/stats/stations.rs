//! Which stations a forensic statistic sees, and who "the leader" is: the two rules shared by
//! every user of the statistics — `tamga forensics` (through [`crate::forensics::read`]), the
//! per-run detectors of `tamga run` and the fingerprint in its report.
//!
//! Owns: [`StationFigures`] (one station reduced to the five numbers the statistics read), the one
//! station filter [`filter_stations`] with the rules it states ([`Filtered`]), and the one leader
//! rule [`leader_of`]. Never does: read files, simulate, or choose which of the two sets a
//! statistic runs on (each caller says so where it calls the statistic).
//!
//! Filters (Klimek et al., *PNAS* 109(41), 2012; Kobak, Shpilkin & Pshenichnikov, *Ann. Appl.
//! Stat.* 10(1), 2016): stations with fewer than [`MIN_REGISTERED`] registered voters are
//! dropped from the base set, because their percentages are too coarse (a station of 20 voters
//! has only 21 possible turnouts, all far from continuous).

/// Stations with fewer registered voters than this are left out of the base set
/// (Klimek et al. 2012 and Kobak et al. 2016 both use 100).
pub const MIN_REGISTERED: u64 = 100;

/// A count of stations removed by one stated filter.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Filtered {
    /// What the filter removes, in words.
    pub rule: String,
    /// Stations it removed (counted in order: a station removed by an earlier rule is not
    /// counted again).
    pub removed: usize,
}

/// One station reduced to the numbers the statistics use.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StationFigures {
    /// The station's index in its caller's list (for `tamga forensics`, in
    /// [`crate::forensics::read::ElectionResults::stations`]).
    pub station_idx: usize,
    pub registered: u64,
    pub issued: u64,
    /// valid + invalid.
    pub ballots: u64,
    pub leader: u64,
}

impl StationFigures {
    /// Turnout T = issued / registered.
    pub fn turnout(&self) -> f64 {
        self.issued as f64 / self.registered as f64
    }
    /// Leader's share S = leader / (valid + invalid).
    pub fn share(&self) -> f64 {
        self.leader as f64 / self.ballots as f64
    }
}

/// The stations the statistics use, with the count each rule removed, in order:
/// `consistent` keeps stations with at least one ballot found and at least one registered voter,
/// leader ≤ ballots found and turnout ≤ 100 % (issued ≤ registered: such a protocol is
/// inconsistent, and the papers drop it); `base` further requires registered ≥ [`MIN_REGISTERED`].
/// `tamga forensics` runs every analysis on `base`, except the two published comparisons that
/// the papers computed on all stations (the turnout–share slope and the ≥ 95 %/≥ 95 % share),
/// which it reports on both.
#[derive(Debug, Clone, PartialEq)]
pub struct StationSets {
    pub consistent: Vec<StationFigures>,
    pub base: Vec<StationFigures>,
    /// Removals by rule, in the order applied.
    pub filters: Vec<Filtered>,
}

/// The one station filter: splits `stations` (in their order) into [`StationSets`].
pub fn filter_stations(stations: impl IntoIterator<Item = StationFigures>) -> StationSets {
    let stations = stations.into_iter();
    let mut empty = 0;
    let mut over = 0;
    let mut leader_over = 0;
    let mut consistent = Vec::with_capacity(stations.size_hint().0);
    for c in stations {
        if c.ballots == 0 || c.registered == 0 {
            empty += 1;
        } else if c.issued > c.registered {
            over += 1;
        } else if c.leader > c.ballots {
            leader_over += 1;
        } else {
            consistent.push(c);
        }
    }
    let base: Vec<StationFigures> = consistent
        .iter()
        .filter(|c| c.registered >= MIN_REGISTERED)
        .copied()
        .collect();
    let filters = vec![
        Filtered {
            rule: "no ballots found or no registered voters".into(),
            removed: empty,
        },
        Filtered {
            rule: "turnout above 100 % (issued > registered)".into(),
            removed: over,
        },
        Filtered {
            rule: "leader's votes exceed ballots found".into(),
            removed: leader_over,
        },
        Filtered {
            rule: format!("registered < {MIN_REGISTERED}"),
            removed: consistent.len() - base.len(),
        },
    ];
    StationSets {
        consistent,
        base,
        filters,
    }
}

/// The one leader rule: the index of the largest of `totals` (votes per option or party), the
/// earliest index on a tie; 0 when `totals` is empty.
pub fn leader_of(totals: &[u64]) -> usize {
    let mut best = 0;
    for (i, &t) in totals.iter().enumerate() {
        if t > totals[best] {
            best = i;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn st(
        station_idx: usize,
        registered: u64,
        issued: u64,
        ballots: u64,
        leader: u64,
    ) -> StationFigures {
        StationFigures {
            station_idx,
            registered,
            issued,
            ballots,
            leader,
        }
    }

    #[test]
    fn each_rule_counts_what_it_removes() {
        let all = [
            st(0, 99, 60, 60, 30),
            st(1, 500, 0, 0, 0),
            st(2, 500, 501, 501, 1),
            st(3, 500, 400, 400, 200),
            st(4, 500, 400, 400, 401),
        ];
        let s = filter_stations(all);
        assert_eq!(s.consistent.len(), 2);
        assert_eq!(
            s.base.iter().map(|c| c.station_idx).collect::<Vec<_>>(),
            vec![3]
        );
        let removed = |s: &StationSets| s.filters.iter().map(|x| x.removed).collect::<Vec<_>>();
        assert_eq!(removed(&s), vec![1, 1, 1, 1]);
    }

    #[test]
    fn the_leader_is_the_largest_and_the_earliest_on_a_tie() {
        assert_eq!(leader_of(&[3, 7, 7, 1]), 1);
        assert_eq!(leader_of(&[9, 7]), 0);
        assert_eq!(leader_of(&[]), 0);
        // the rule `detect` wrote as max_by_key with a reversed index
        for totals in [vec![0u64, 0, 0], vec![1, 5, 5, 5], vec![2, 1], vec![4]] {
            let k = totals.len();
            let other = (0..k)
                .max_by_key(|&p| (totals[p], std::cmp::Reverse(p)))
                .unwrap_or(0);
            assert_eq!(leader_of(&totals), other);
        }
    }
}
