//! The election fingerprint and the descriptive fraud statistics that need no model.
//!
//! Sources:
//! - Fingerprint (2-D histogram of stations over turnout × leader share, 1 % × 1 % bins),
//!   cumulative leader votes against turnout, and the log vote rate ν = ln((N − W)/W) with its
//!   skewness (≈ 0) and kurtosis (≈ 3) in fair elections: Klimek, Yegorov, Hanel & Thurner,
//!   *PNAS* 109(41), 2012. N is the station's electorate (registered), W the leader's votes.
//! - Turnout–share slope: Myagkov, Ordeshook & Shakin, *The Forensics of Election Fraud: Russia
//!   and Ukraine*, Cambridge UP, 2009: OLS across stations of leader votes / registered on
//!   turnout; a slope above 1 means the leader gains more votes than turnout adds voters.
//! - Stations at ≥ 95 % turnout and ≥ 95 % share: the extreme-fraud corner of the fingerprint
//!   (Klimek et al. report 3.27 % for Russia 2011 over all stations).
//! - The 0.1 %-resolution histograms make the integer-percentage spikes of Kobak, Shpilkin &
//!   Pshenichnikov (*Ann. Appl. Stat.* 10(1), 2016) visible; bins centred on whole percentages
//!   are marked.
//!
//! Owns: pure computations on base-filtered stations. Never does: I/O, randomness.

use super::klimek::{FIT_BINS, percent_bin};
use super::stations::StationFigures;
use crate::stats::{LinearFit, Moments, moments, ols};

/// Bins of the fine histograms: 0.1 % wide, centred on 0.0 %, 0.1 %, …, 100.0 %.
pub const FINE_BINS: usize = 1001;

/// The fine bin of 100·a/b %, rounded to one decimal half-to-even exactly (integer arithmetic),
/// so that a bin centred on a whole percentage holds exactly the stations the integer test
/// counts as integer. `b` > 0, `a` ≤ `b`.
pub fn fine_bin(a: u64, b: u64) -> usize {
    let (a, b) = (a as u128, b as u128);
    let q = 1000 * a / b;
    let r = 1000 * a % b;
    let k = if 2 * r > b || (2 * r == b && q % 2 == 1) {
        q + 1
    } else {
        q
    };
    (k as usize).min(FINE_BINS - 1)
}

/// The fingerprint and descriptive statistics of one election.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Fingerprint {
    /// Stations analysed (base-filtered).
    pub stations: usize,
    /// `heatmap[t][s]`: stations with turnout in 1 % bin t and share in 1 % bin s (bins centred
    /// on whole percentages, [`FIT_BINS`] each way).
    pub heatmap: Vec<Vec<u32>>,
    /// Turnout and share histograms at 0.1 % ([`FINE_BINS`] bins; bin k is centred on k/10 %).
    pub turnout_fine: Vec<u32>,
    pub share_fine: Vec<u32>,
    /// Cumulative votes against turnout: entry t sums stations with turnout bin ≤ t (1 % bins).
    pub cumulative_leader: Vec<u64>,
    pub cumulative_others: Vec<u64>,
    /// Leader votes / registered regressed on turnout (base stations).
    pub slope: LinearFit,
    /// The same over all consistent stations, including those with registered < 100: how
    /// Myagkov et al. computed the published slopes (Russia 2011: 1.13; Poland 2020: 0.29).
    pub slope_all_stations: LinearFit,
    /// Moments of ν = ln((registered − leader)/leader) over stations with 0 < leader < registered.
    pub log_vote_rate: Moments,
    /// Stations with turnout ≥ 95 % and share ≥ 95 %: count and fraction.
    pub count_95_95: usize,
    pub share_95_95: f64,
    /// The same fraction over all consistent stations (as Klimek et al.: 3.27 % for Russia 2011).
    pub share_95_95_all_stations: f64,
    /// Number of consistent stations (see [`super::stations::StationSets`]).
    pub all_stations: usize,
    /// National turnout Σ issued / Σ registered and leader share Σ leader / Σ ballots.
    pub national_turnout: f64,
    pub national_share: f64,
}

/// The turnout–share slope of Myagkov et al. (2009): OLS across stations of leader votes /
/// registered on turnout (issued / registered). Above 1: the leader gains more votes than
/// turnout adds voters (stuffing).
pub fn turnout_share_slope(stations: &[StationFigures]) -> LinearFit {
    let x: Vec<f64> = stations.iter().map(|c| c.turnout()).collect();
    let y: Vec<f64> = stations
        .iter()
        .map(|c| c.leader as f64 / c.registered as f64)
        .collect();
    ols_unless_constant(&x, &y)
}

/// OLS of y on x, undefined (NaN fields) when x does not vary at all: identical values would
/// otherwise leave a rounding-noise variance and a meaningless slope.
fn ols_unless_constant(x: &[f64], y: &[f64]) -> LinearFit {
    let fit = ols(x, y);
    if x.iter().all(|v| *v == x[0]) {
        LinearFit {
            slope: f64::NAN,
            intercept: f64::NAN,
            slope_se: f64::NAN,
            r_squared: f64::NAN,
            ..fit
        }
    } else {
        fit
    }
}

/// Moments of ν, undefined (NaN) when ν does not vary at all (see [`ols_unless_constant`]).
fn moments_unless_constant(xs: &[f64]) -> Moments {
    let m = moments(xs);
    if xs.iter().all(|v| *v == xs[0]) {
        Moments {
            sd: if xs.is_empty() { f64::NAN } else { 0.0 },
            skewness: f64::NAN,
            kurtosis: f64::NAN,
            ..m
        }
    } else {
        m
    }
}

/// Computes the fingerprint of base-filtered `stations`; `all` (all consistent stations) serves
/// the two comparisons with published numbers computed without the size filter.
pub fn fingerprint(stations: &[StationFigures], all: &[StationFigures]) -> Fingerprint {
    let mut heatmap = vec![vec![0u32; FIT_BINS]; FIT_BINS];
    let mut turnout_fine = vec![0u32; FINE_BINS];
    let mut share_fine = vec![0u32; FINE_BINS];
    let mut leader_by_t = vec![0u64; FIT_BINS];
    let mut others_by_t = vec![0u64; FIT_BINS];
    let mut x = Vec::with_capacity(stations.len());
    let mut y = Vec::with_capacity(stations.len());
    let mut nu = Vec::with_capacity(stations.len());
    let mut count_95 = 0;
    let (mut reg, mut iss, mut bal, mut lead) = (0u64, 0u64, 0u64, 0u64);
    for c in stations {
        let t = c.turnout();
        let s = c.share();
        let tb = percent_bin(t);
        heatmap[tb][percent_bin(s)] += 1;
        turnout_fine[fine_bin(c.issued, c.registered)] += 1;
        share_fine[fine_bin(c.leader, c.ballots)] += 1;
        leader_by_t[tb] += c.leader;
        others_by_t[tb] += c.ballots - c.leader;
        x.push(t);
        y.push(c.leader as f64 / c.registered as f64);
        if c.leader > 0 && c.leader < c.registered {
            nu.push(((c.registered - c.leader) as f64 / c.leader as f64).ln());
        }
        if t >= 0.95 && s >= 0.95 {
            count_95 += 1;
        }
        reg += c.registered;
        iss += c.issued;
        bal += c.ballots;
        lead += c.leader;
    }
    let cumsum = |v: &[u64]| {
        let mut acc = 0;
        v.iter()
            .map(|x| {
                acc += x;
                acc
            })
            .collect::<Vec<u64>>()
    };
    Fingerprint {
        stations: stations.len(),
        heatmap,
        turnout_fine,
        share_fine,
        cumulative_leader: cumsum(&leader_by_t),
        cumulative_others: cumsum(&others_by_t),
        slope: ols_unless_constant(&x, &y),
        slope_all_stations: turnout_share_slope(all),
        share_95_95_all_stations: super::klimek::share_of_stations_at_least(all, 0.95, 0.95),
        all_stations: all.len(),
        log_vote_rate: moments_unless_constant(&nu),
        count_95_95: count_95,
        share_95_95: if stations.is_empty() {
            f64::NAN
        } else {
            count_95 as f64 / stations.len() as f64
        },
        national_turnout: iss as f64 / reg as f64,
        national_share: lead as f64 / bal as f64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn st(registered: u64, issued: u64, ballots: u64, leader: u64) -> StationFigures {
        StationFigures {
            station_idx: 0,
            registered,
            issued,
            ballots,
            leader,
        }
    }

    #[test]
    fn fine_bins_agree_with_the_integer_definition() {
        use super::super::integer::is_integer_percent;
        for b in [101u64, 150, 997, 2000, 2001] {
            for a in 0..=b {
                let on_integer = fine_bin(a, b).is_multiple_of(10);
                assert_eq!(on_integer, is_integer_percent(a, b), "{a}/{b}");
            }
        }
    }

    #[test]
    fn slope_of_pure_stuffing_is_one() {
        // Every extra voter votes for the leader: W/R = 0.2 + (T − 0.4), slope 1.
        let s: Vec<StationFigures> = (0..50)
            .map(|i| {
                let issued = 400 + 10 * i;
                st(1000, issued, issued, 200 + 10 * i)
            })
            .collect();
        let f = fingerprint(&s, &s);
        assert!((f.slope.slope - 1.0).abs() < 1e-12);
        assert_eq!(turnout_share_slope(&s), f.slope);
        assert_eq!(f.stations, 50);
        assert_eq!(
            *f.cumulative_leader.last().unwrap(),
            (0..50).map(|i| 200 + 10 * i).sum::<u64>()
        );
        assert_eq!(f.count_95_95, 0);
    }

    #[test]
    fn corner_and_heatmap() {
        let s = [st(1000, 990, 990, 985), st(1000, 500, 500, 250)];
        let f = fingerprint(&s, &s);
        assert_eq!(f.count_95_95, 1);
        assert_eq!(f.heatmap[99][99], 1);
        assert_eq!(f.heatmap[50][50], 1);
        assert_eq!(f.turnout_fine[500], 1);
    }
}
