//! Shpilkin's clean-peak estimate of anomalous leader votes, with a station-bootstrap interval.
//!
//! Source: S. Shpilkin's estimates of the 2011–2012 Russian elections, as described by Kobak,
//! Shpilkin & Pshenichnikov ("Statistical fingerprints of electoral fraud?", *Significance*
//! 13(4), 2016, and *Ann. Appl. Stat.* 10(1), 2016) and implemented in Kalinin & Mebane's
//! Election Forensics Toolkit. This module's rule, stated so it can be checked:
//!
//! 1. Bin the stations by turnout in 1 % bins; the **clean peak** T₀ is the bin holding the most
//!    registered voters (after a 5-bin moving average, so one spiky bin cannot be the peak).
//! 2. The **baseline** is the stations with turnout at or below T₀: the leader's votes per vote
//!    for anyone else there, R = Σ leader / Σ others.
//! 3. Above T₀, the other candidates' votes are taken as genuine and the leader's are expected at
//!    R × others; the **anomalous votes** are Σ_{T > T₀} (leader − R · others), summed per bin
//!    (bins where the leader is below the baseline count negatively).
//!
//! Assumptions (the estimate is only as good as they are): the others' votes are not tampered
//! with; without fraud the leader's ratio to the others would not rise with turnout; stations
//! at or below the turnout peak are clean. An election where the leader's supporters simply
//! turn out more gets a positive estimate without any fraud.
//!
//! The interval: `replicates` station-bootstrap resamples (the peak is re-found in each), 5 %
//! and 95 % percentiles; replicate b draws from `analysis_stream(seed, KlimekImplied, 1000 + b)`.

use rand::RngExt;
use rayon::prelude::*;

use super::stations::StationFigures;
use crate::rng::{AnalysisPurpose, analysis_stream};
use crate::stats::{mean_sd, quantile_sorted};

const BINS: usize = 101;

/// The estimate with its interval.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct CleanPeak {
    /// The turnout peak T₀ (centre of its 1 % bin).
    pub peak_turnout: f64,
    /// R: the leader's votes per other vote at or below the peak.
    pub baseline_ratio: f64,
    /// Anomalous leader votes (point estimate), and as a share of the leader's votes.
    pub votes: f64,
    pub share_of_leader_votes: f64,
    /// Bootstrap standard error and 5 %/95 % percentiles of `votes` (NaN without replicates).
    pub se: f64,
    pub lo: f64,
    pub hi: f64,
    pub replicates: usize,
}

fn bin(c: &StationFigures) -> usize {
    ((c.turnout() * 100.0 + 0.5) as usize).min(BINS - 1)
}

/// (peak, ratio, anomalous votes) of stations given as per-bin sums, or None when undefined.
fn estimate(reg: &[f64], leader: &[f64], others: &[f64]) -> Option<(usize, f64, f64)> {
    let smooth: Vec<f64> = (0..BINS)
        .map(|i| {
            reg[i.saturating_sub(2)..=(i + 2).min(BINS - 1)]
                .iter()
                .sum()
        })
        .collect();
    // the smoothed maximum; on a tie the bin with more voters itself, then the lower one
    let peak = (0..BINS).max_by(|&a, &b| {
        smooth[a]
            .total_cmp(&smooth[b])
            .then(reg[a].total_cmp(&reg[b]))
            .then(b.cmp(&a))
    })?;
    let (l0, o0): (f64, f64) = (leader[..=peak].iter().sum(), others[..=peak].iter().sum());
    if o0 <= 0.0 || smooth[peak] <= 0.0 {
        return None;
    }
    let r = l0 / o0;
    let v = (peak + 1..BINS).map(|t| leader[t] - r * others[t]).sum();
    Some((peak, r, v))
}

fn sums(stations: impl Iterator<Item = StationFigures>) -> [Vec<f64>; 3] {
    let mut s = [vec![0.0; BINS], vec![0.0; BINS], vec![0.0; BINS]];
    for c in stations {
        let b = bin(&c);
        s[0][b] += c.registered as f64;
        s[1][b] += c.leader as f64;
        s[2][b] += (c.ballots - c.leader) as f64;
    }
    s
}

/// Shpilkin's estimate on `stations`, or None when undefined (no votes for anyone but the
/// leader at or below the turnout peak, or no stations).
pub fn clean_peak(stations: &[StationFigures], replicates: usize, seed: u64) -> Option<CleanPeak> {
    if stations.is_empty() {
        return None;
    }
    let [reg, leader, others] = sums(stations.iter().copied());
    let (peak, r, v) = estimate(&reg, &leader, &others)?;
    let n = stations.len();
    let reps: Vec<f64> = (0..replicates)
        .into_par_iter()
        .filter_map(|b| {
            let mut rng = analysis_stream(seed, AnalysisPurpose::KlimekImplied, 1000 + b as u64);
            let [reg, leader, others] = sums((0..n).map(|_| stations[rng.random_range(0..n)]));
            estimate(&reg, &leader, &others).map(|e| e.2)
        })
        .collect();
    let (se, lo, hi) = if reps.is_empty() {
        (f64::NAN, f64::NAN, f64::NAN)
    } else {
        let mut s = reps.clone();
        s.sort_by(f64::total_cmp);
        (
            mean_sd(&reps).1,
            quantile_sorted(&s, 0.05),
            quantile_sorted(&s, 0.95),
        )
    };
    let total_leader: f64 = leader.iter().sum();
    Some(CleanPeak {
        peak_turnout: peak as f64 / 100.0,
        baseline_ratio: r,
        votes: v,
        share_of_leader_votes: v / total_leader,
        se,
        lo,
        hi,
        replicates: reps.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn st(i: usize, registered: u64, issued: u64, leader: u64) -> StationFigures {
        StationFigures {
            station_idx: i,
            registered,
            issued,
            ballots: issued,
            leader,
        }
    }

    #[test]
    fn stuffing_above_the_peak_is_counted() {
        // clean stations at 50 % turnout, leader 40 %; 10 stations stuffed with 200 ballots each
        let mut v: Vec<StationFigures> = (0..200).map(|i| st(i, 1000, 500, 200)).collect();
        v.extend((0..10).map(|i| st(200 + i, 1000, 700, 400)));
        let e = clean_peak(&v, 50, 1).unwrap();
        assert!((e.peak_turnout - 0.5).abs() < 1e-9);
        assert!((e.baseline_ratio - 200.0 / 300.0).abs() < 1e-12);
        // others stay 300 per stuffed station: expected leader 200, observed 400
        assert!((e.votes - 2000.0).abs() < 1e-6, "{e:?}");
        assert!(e.lo <= e.votes && e.votes <= e.hi, "{e:?}");
    }

    #[test]
    fn a_flat_leader_ratio_gives_nothing() {
        let v: Vec<StationFigures> = (0..300)
            .map(|i| {
                let issued = 400 + (i as u64 % 30) * 10;
                st(i, 1000, issued, issued * 2 / 5)
            })
            .collect();
        let e = clean_peak(&v, 0, 1).unwrap();
        assert!(e.votes.abs() < 0.01 * 300.0 * 200.0, "{e:?}");
        assert!(e.se.is_nan());
    }

    #[test]
    fn only_the_leader_has_votes_is_undefined() {
        let v: Vec<StationFigures> = (0..10).map(|i| st(i, 100, 100, 100)).collect();
        assert!(clean_peak(&v, 10, 1).is_none());
    }
}
