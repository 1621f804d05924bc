//! Per-run readings of every detector from what a run publishes ([`Evidence`]).

use super::{Detector, Reading, Readings};
use crate::electorate::Electorate;
use crate::forensics::stats::digits::digit_stats;
use crate::forensics::stats::fingerprint::turnout_share_slope;
use crate::forensics::stats::integer::integer_test;
use crate::forensics::stats::klimek::{FitEffort, share_of_stations_at_least};
use crate::forensics::stats::klimek_fit::detector_value as klimek_detector;
use crate::forensics::stats::stations::{StationFigures, filter_stations, leader_of};
use crate::ledger::verify;
use crate::model::DetectorSettings;
use crate::rng::{Purpose, stream, stream_key};
use crate::sim::Published;
use crate::sim::counts::{PublishedLedger, StationCounts, district_protocol_sums};
use rand::Rng;
use serde::{Deserialize, Serialize};

/// The effort of the per-run Klimek fit: the same 2-D likelihood fit as `tamga forensics`,
/// with one start, no bootstrap and fewer pseudo-stations ([`FitEffort::DETECTOR`]).
pub const DETECTOR_FIT: FitEffort = FitEffort::DETECTOR;

/// Each station's figures in published `protocols` (registered from the electorate, issued,
/// ballots found and the votes of party `leader`), in station order: what `tamga forensics`
/// reads from a results file.
pub fn published_figures<'a>(
    electorate: &'a Electorate,
    protocols: &'a StationCounts,
    leader: usize,
) -> impl Iterator<Item = StationFigures> + 'a {
    (0..electorate.stations.len()).map(move |i| {
        let row = protocols.list_of(i);
        StationFigures {
            station_idx: i,
            registered: electorate.stations[i].n_registered as u64,
            issued: protocols.issued[i] as u64,
            ballots: row.iter().map(|&v| v as u64).sum(),
            leader: row[leader] as u64,
        }
    })
}

/// A quick count's estimate of the leader's national share.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct PvtEstimate {
    pub leader: u8,
    pub estimate: f64,
    pub se: f64,
}

/// Everything a detector may see in a run: what stations, machines and voters' checks
/// published ([`Published`]) and what tabulation published above the stations.
#[derive(Clone, Copy)]
pub struct Evidence<'a> {
    pub published: Published<'a>,
    /// Per region: the sum of its published station protocols (valid list votes per party).
    pub region_protocol_sums: &'a [Vec<u64>],
    /// Per region: the published aggregate.
    pub region_aggregates: &'a [Vec<u64>],
    /// The published national valid list votes.
    pub national: &'a [u64],
    /// The electoral system the outcome was declared by (what an audit checks).
    pub system: &'a crate::model::ElectoralSystem,
}

/// Simple random sample of `k` station indices without replacement (partial Fisher–Yates).
pub fn pvt_sample(n: usize, k: usize, seed: u64, run: u64) -> Vec<usize> {
    let mut rng = stream(seed, Purpose::Pvt, run, 0);
    let mut idx: Vec<usize> = (0..n).collect();
    let k = k.min(n);
    for i in 0..k {
        let j = i + (rng.next_u64() % (n - i) as u64) as usize;
        idx.swap(i, j);
    }
    idx.truncate(k);
    idx.sort_unstable();
    idx
}

/// The ratio estimator of the leader's share from the counts at sampled stations, with its
/// standard error including the finite-population correction (Cochran §6.3).
pub fn quick_count(
    observed: &StationCounts,
    sample: &[usize],
    n_stations: usize,
    leader: usize,
) -> PvtEstimate {
    let k = observed.n_parties;
    let (mut ys, mut xs) = (Vec::new(), Vec::new());
    for &i in sample {
        let row = observed.list_of(i);
        ys.push(row[leader] as f64);
        xs.push(row[..k].iter().map(|&v| v as f64).sum::<f64>());
    }
    let n = ys.len() as f64;
    let (sy, sx): (f64, f64) = (ys.iter().sum(), xs.iter().sum());
    let r = if sx > 0.0 { sy / sx } else { 0.0 };
    let xbar = sx / n.max(1.0);
    let s2 = ys
        .iter()
        .zip(&xs)
        .map(|(y, x)| (y - r * x).powi(2))
        .sum::<f64>()
        / (n - 1.0).max(1.0);
    let fpc = 1.0 - n / n_stations.max(1) as f64;
    let se = (fpc * s2 / (n.max(1.0) * xbar * xbar)).sqrt();
    PvtEstimate {
        leader: leader as u8,
        estimate: r,
        se,
    }
}

/// Whether any district's published round-1 totals differ from the sum of its stations'
/// published protocols (candidate votes). Runoff protocols per station are not modelled, so a
/// runoff total cannot be reconciled here.
fn district_totals_differ(electorate: &Electorate, published: &Published<'_>) -> bool {
    published.districts.iter().enumerate().any(|(d, result)| {
        district_protocol_sums(electorate, published.protocols, d) != result.round1
    })
}

/// How many of the ledgers published other than as sealed an audit finds something in: each
/// verified against the head published for it (or, without one, on its own).
pub fn ledger_findings(ledgers: &[PublishedLedger]) -> u32 {
    ledgers
        .iter()
        .filter(|l| verify(l.bytes.as_slice(), l.head.as_ref()).is_ok_and(|r| !r.is_clean()))
        .count() as u32
}

/// Every detector's reading for a run, and the quick count if any.
pub fn readings(
    settings: &DetectorSettings,
    electorate: &Electorate,
    evidence: &Evidence<'_>,
    seed: u64,
    run: u64,
) -> (Readings, Option<PvtEstimate>) {
    let station = &evidence.published;
    let k = electorate.n_parties;
    let n_st = electorate.stations.len();
    let pub_ok = settings.station_results_published;
    let checks = station.checks;
    let machines = electorate.stations.iter().filter(|s| s.evoting).count() as f64;
    let leader = leader_of(&evidence.national[..k]);
    let fired = |b: bool| Some(if b { 1.0 } else { 0.0 });
    let mut out = Readings::NONE;
    out[Detector::LedgerAudit] = Reading {
        value: (machines > 0.0).then(|| {
            if ledger_findings(station.ledgers) > 0 {
                1.0
            } else {
                0.0
            }
        }),
        cost: machines,
    };
    out[Detector::Receipts] = Reading {
        value: (settings.receipt_check_rate > 0.0 && machines > 0.0)
            .then_some(())
            .and(fired(checks.receipt_complaint)),
        cost: checks.receipts_checked as f64,
    };
    out[Detector::ControlCodes] = Reading {
        value: (settings.control_code_rate > 0.0 && machines > 0.0)
            .then_some(())
            .and(fired(checks.control_code_complaint)),
        cost: checks.control_codes_checked as f64,
    };
    out[Detector::Reconciliation] = Reading {
        value: pub_ok.then_some(()).and(fired(
            evidence.region_aggregates != evidence.region_protocol_sums
                || district_totals_differ(electorate, station),
        )),
        cost: n_st as f64,
    };
    // parallel vote tabulation
    let k_pvt = settings.pvt_stations as usize;
    let mut pvt = None;
    if k_pvt > 1 {
        let sample = pvt_sample(n_st, k_pvt, seed, run);
        let mismatch = sample
            .iter()
            .any(|&i| station.observed.list_of(i) != station.protocols.list_of(i));
        out[Detector::PvtProtocols] = Reading {
            value: pub_ok.then_some(()).and(fired(mismatch)),
            cost: sample.len() as f64,
        };
        let est = quick_count(station.observed, &sample, n_st, leader);
        let total: u64 = evidence.national.iter().sum();
        let official = evidence.national[leader] as f64 / total.max(1) as f64;
        let z = if est.se > 0.0 {
            (official - est.estimate).abs() / est.se
        } else {
            0.0
        };
        out[Detector::PvtQuickCount] = Reading {
            value: Some(z),
            cost: sample.len() as f64,
        };
        pvt = Some(est);
    }
    // forensics on published station protocols
    if pub_ok {
        let protocols = station.protocols;
        // the stations `tamga forensics` would analyse in these protocols, by the same filter
        let sets = filter_stations(published_figures(electorate, protocols, leader));
        let (stations, base) = (sets.consistent, sets.base);
        let cost = stations.len() as f64;
        // the two costliest statistics of a run, independent of each other: side by side when a
        // thread is free (a run on its own, or a split run); the same values either way
        let (integer, fit) = rayon::join(
            || integer_test(&base),
            || {
                settings
                    .klimek_fit
                    .then(|| {
                        let key = stream_key(seed, Purpose::KlimekFit, run, 0);
                        klimek_detector(&base, DETECTOR_FIT, key)
                    })
                    .flatten()
            },
        );
        let slope = turnout_share_slope(&stations);
        let digits = digit_stats(stations.iter().map(|s| s.leader));
        let corner = share_of_stations_at_least(&stations, 0.95, 0.95);
        for (d, v) in [
            (Detector::IntegerPercent, integer.either.z),
            (Detector::TurnoutShareSlope, slope.slope),
            (Detector::LastDigit, digits.last_digit_chi2),
            (Detector::SecondDigit, digits.second_digit_chi2),
            (Detector::ExtremeCorner, corner),
        ] {
            out[d] = Reading {
                value: v.is_finite().then_some(v),
                cost,
            };
        }
        out[Detector::KlimekFit] = Reading {
            value: fit,
            cost: if fit.is_some() {
                base.len() as f64
            } else {
                0.0
            },
        };
    }
    super::rla::audit_readings(
        settings,
        evidence.system,
        electorate,
        evidence,
        seed,
        run,
        &mut out,
    );
    (out, pvt)
}
