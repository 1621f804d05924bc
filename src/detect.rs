//! Detectors: what an auditor, an observer or a voter would see, and whether it reveals fraud.
//!
//! Each detector reads only what its owner could see — published protocols and aggregates,
//! ledgers and published heads, a receipt or a control code, the count at an observed station —
//! never the truth. Two kinds:
//!
//! - **deterministic** detectors fire or not (a broken chain, a head that differs from the
//!   published one, an aggregate that is not the sum of its protocols, a protocol that differs
//!   from the count an observer saw, a voter whose receipt or control code does not match);
//! - **calibrated** detectors compute a statistic (higher = more suspicious); their threshold is
//!   set on the honest baseline variant's runs at the stated false-alarm rate by
//!   [`crate::summary`], never from a textbook critical value.
//!
//! Sources: receipts and published heads — REFERENCES §2 (ElectionGuard 2.1 §3.4.4; the escape
//! probability (1 − p)^k); Sailau's control code — OSCE/ODIHR 2004; parallel vote tabulation —
//! the ratio estimator of a simple random sample of stations (Cochran, *Sampling Techniques*,
//! 3rd ed., §6.3); integer percentages — Kobak, Shpilkin & Pshenichnikov (2016); turnout–share
//! slope — Myagkov, Ordeshook & Shakin (2009); last-digit test — Beber & Scacco (2012);
//! second-digit Benford (2BL) — Mebane (2006); the extreme-fraud corner and the model fit —
//! Klimek et al. (2012). Pure functions; no I/O.

use crate::election::{Workspace, district_protocol_sums};
use crate::electorate::Electorate;
use crate::forensics::stats::digits::digit_stats;
use crate::forensics::stats::fingerprint::turnout_share_slope;
use crate::forensics::stats::integer::integer_test;
use crate::forensics::stats::klimek::{FitEffort, fit as klimek_fit, share_of_stations_at_least};
use crate::forensics::stats::stations::{
    OverRegistered, StationCounts as ForensicStation, filter_stations, leader_of,
};
use crate::rng::{Purpose, stream, stream_key};
use crate::scenario::DetectorSettings;
use rand::Rng;
use serde::{Deserialize, Serialize};

/// Whether a detector fires by itself or is calibrated on honest runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DetectorKind {
    Deterministic,
    Calibrated,
}

/// A detector's name, kind and what its cost counts.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct DetectorInfo {
    pub name: &'static str,
    pub kind: DetectorKind,
    pub cost_unit: &'static str,
    pub description: &'static str,
}

/// Every detector, in the order of [`crate::tabulation::RunOutcome::detectors`].
pub const DETECTORS: [DetectorInfo; 12] = [
    DetectorInfo {
        name: "ledger_audit",
        kind: DetectorKind::Deterministic,
        cost_unit: "ledgers verified",
        description: "verifies every machine's hash chain, close record and (when published) head",
    },
    DetectorInfo {
        name: "receipts",
        kind: DetectorKind::Deterministic,
        cost_unit: "receipts checked",
        description: "electronic voters look their receipt up in the published ledger",
    },
    DetectorInfo {
        name: "control_codes",
        kind: DetectorKind::Deterministic,
        cost_unit: "control codes checked",
        description: "Sailau: voters check the choice printed beside their code (also lets a vote buyer verify a vote)",
    },
    DetectorInfo {
        name: "reconciliation",
        kind: DetectorKind::Deterministic,
        cost_unit: "protocols summed",
        description: "published aggregates against the sum of published station protocols",
    },
    DetectorInfo {
        name: "pvt_protocols",
        kind: DetectorKind::Deterministic,
        cost_unit: "stations observed",
        description: "observers' counts at sampled stations against those stations' protocols",
    },
    DetectorInfo {
        name: "pvt_quick_count",
        kind: DetectorKind::Calibrated,
        cost_unit: "stations observed",
        description: "|official leader share − quick-count estimate| in standard errors",
    },
    DetectorInfo {
        name: "integer_percent",
        kind: DetectorKind::Calibrated,
        cost_unit: "protocols analysed",
        description: "excess of whole-percent turnout or leader share (z-score, exact binomial null)",
    },
    DetectorInfo {
        name: "turnout_share_slope",
        kind: DetectorKind::Calibrated,
        cost_unit: "protocols analysed",
        description: "slope of leader votes / registered on turnout across stations",
    },
    DetectorInfo {
        name: "last_digit",
        kind: DetectorKind::Calibrated,
        cost_unit: "protocols analysed",
        description: "Pearson X² of the last digit of the leader's station counts",
    },
    DetectorInfo {
        name: "second_digit",
        kind: DetectorKind::Calibrated,
        cost_unit: "protocols analysed",
        description: "Pearson X² of the second digit of the leader's station counts against Benford (2BL)",
    },
    DetectorInfo {
        name: "extreme_corner",
        kind: DetectorKind::Calibrated,
        cost_unit: "protocols analysed",
        description: "share of stations with turnout ≥ 95 % and leader share ≥ 95 %",
    },
    DetectorInfo {
        name: "klimek_fit",
        kind: DetectorKind::Calibrated,
        cost_unit: "protocols analysed",
        description: "f_i + f_e of a coarse Klimek model fit to the leader-share histogram",
    },
];

/// The effort of the per-run Klimek fit: one replicate, one draw set, a short Nelder–Mead. The
/// detector needs a statistic that moves with fraud, not the parameters to two decimals. By
/// count of simulated station histograms (a 130-point grid, then up to 2 × 40 evaluations),
/// the full fit of `tamga forensics` (`FitEffort::FULL`: 8 replicates × 2 draw sets × up to
/// 2 × 120) does ≈ 28× the work.
pub const DETECTOR_FIT: FitEffort = FitEffort {
    replicates: 1,
    draw_sets: 1,
    max_evaluations: 40,
};

/// One detector's reading in one run: `value` is 0/1 for a deterministic detector and the
/// statistic for a calibrated one; `None` when the detector does not apply (e.g. station
/// results are not published, nobody checks receipts).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Reading {
    pub value: Option<f64>,
    pub cost: f64,
}

/// A quick count's estimate of the leader's national share.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct PvtEstimate {
    pub leader: u8,
    pub estimate: f64,
    pub se: f64,
}

/// What tabulation hands the detectors.
pub struct Published<'a> {
    /// Per region: the sum of its published station protocols (valid list votes per party).
    pub region_protocol_sums: &'a [Vec<u64>],
    /// Per region: the published aggregate.
    pub region_aggregates: &'a [Vec<u64>],
    /// The published national valid list votes.
    pub national: &'a [u64],
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
    ws: &Workspace,
    sample: &[usize],
    n_stations: usize,
    leader: usize,
) -> PvtEstimate {
    let k = ws.counts.n_parties;
    let (mut ys, mut xs) = (Vec::new(), Vec::new());
    for &i in sample {
        let row = ws.counts.list_of(i);
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
fn district_totals_differ(electorate: &Electorate, ws: &Workspace) -> bool {
    ws.districts
        .iter()
        .enumerate()
        .any(|(d, result)| district_protocol_sums(electorate, &ws.reported, d) != result.round1)
}

/// Every detector's reading for a run, in [`DETECTORS`] order, and the quick count if any.
pub fn readings(
    settings: &DetectorSettings,
    electorate: &Electorate,
    ws: &Workspace,
    published: &Published<'_>,
    seed: u64,
    run: u64,
) -> (Vec<Reading>, Option<PvtEstimate>) {
    let k = electorate.n_parties;
    let n_st = electorate.stations.len();
    let pub_ok = settings.station_results_published;
    let t = &ws.trace;
    let machines = electorate.stations.iter().filter(|s| s.evoting).count() as f64;
    let leader = leader_of(&published.national[..k]);
    let fired = |b: bool| Some(if b { 1.0 } else { 0.0 });
    let mut out = Vec::with_capacity(DETECTORS.len());
    // ledger audit
    out.push(Reading {
        value: (machines > 0.0).then_some(if t.ledgers_with_findings > 0 {
            1.0
        } else {
            0.0
        }),
        cost: machines,
    });
    out.push(Reading {
        value: (settings.receipt_check_rate > 0.0 && machines > 0.0)
            .then_some(())
            .and(fired(t.receipt_caught)),
        cost: t.receipts_checked as f64,
    });
    out.push(Reading {
        value: (settings.control_code_rate > 0.0 && machines > 0.0)
            .then_some(())
            .and(fired(t.control_code_caught)),
        cost: t.control_codes_checked as f64,
    });
    out.push(Reading {
        value: pub_ok.then_some(()).and(fired(
            published.region_aggregates != published.region_protocol_sums
                || district_totals_differ(electorate, ws),
        )),
        cost: n_st as f64,
    });
    // parallel vote tabulation
    let k_pvt = settings.pvt_stations as usize;
    let mut pvt = None;
    if k_pvt > 1 {
        let sample = pvt_sample(n_st, k_pvt, seed, run);
        let mismatch = sample
            .iter()
            .any(|&i| ws.counts.list_of(i) != ws.reported.list_of(i));
        out.push(Reading {
            value: pub_ok.then_some(()).and(fired(mismatch)),
            cost: sample.len() as f64,
        });
        let est = quick_count(ws, &sample, n_st, leader);
        let total: u64 = published.national.iter().sum();
        let official = published.national[leader] as f64 / total.max(1) as f64;
        let z = if est.se > 0.0 {
            (official - est.estimate).abs() / est.se
        } else {
            0.0
        };
        out.push(Reading {
            value: Some(z),
            cost: sample.len() as f64,
        });
        pvt = Some(est);
    } else {
        out.push(Reading {
            value: None,
            cost: 0.0,
        });
        out.push(Reading {
            value: None,
            cost: 0.0,
        });
    }
    // forensics on published station protocols
    if pub_ok {
        // every station registers at least one voter and a leader's votes are part of the
        // ballots, so the filter keeps the stations with a ballot found; unlike `tamga
        // forensics`, stations with more ballots issued than registered voters are kept
        let sets = filter_stations(
            (0..n_st).map(|i| {
                let row = ws.reported.list_of(i);
                ForensicStation {
                    station_idx: i,
                    registered: electorate.stations[i].n_registered as u64,
                    issued: ws.reported.issued[i] as u64,
                    ballots: row.iter().map(|&v| v as u64).sum(),
                    leader: row[leader] as u64,
                }
            }),
            OverRegistered::Keep,
        );
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
                        klimek_fit(&base, DETECTOR_FIT, key).ok()
                    })
                    .flatten()
                    .map(|f| f.f_incremental.mean + f.f_extreme.mean)
                    .filter(|v| v.is_finite())
            },
        );
        let slope = turnout_share_slope(&stations);
        let digits = digit_stats(stations.iter().map(|s| s.leader));
        let corner = share_of_stations_at_least(&stations, 0.95, 0.95);
        for v in [
            integer.either.z,
            slope.slope,
            digits.last_digit_chi2,
            digits.second_digit_chi2,
            corner,
        ] {
            out.push(Reading {
                value: v.is_finite().then_some(v),
                cost,
            });
        }
        out.push(Reading {
            value: fit,
            cost: if fit.is_some() {
                base.len() as f64
            } else {
                0.0
            },
        });
    } else {
        for _ in 0..6 {
            out.push(Reading {
                value: None,
                cost: 0.0,
            });
        }
    }
    (out, pvt)
}
