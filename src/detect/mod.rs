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
//!
//! The truth stays out by construction: [`readings`] takes an [`Evidence`] — the run's
//! [`crate::sim::Published`] view (protocols, observers' counts, published district results
//! and ledgers, voters' checks) and the tabulated aggregates — and nothing that holds what
//! voters chose or what fraud did. `matrix.rs` turns readings over runs into calibrated
//! thresholds, false-alarm rates and power. To add a detector: a [`Detector`] variant, its
//! [`DETECTORS`] entry, and its reading in [`readings`].

mod matrix;
mod readings;
mod rla;

pub use matrix::{
    AuditFigures, Detection, DetectorSummary, FalseAlarm, HasReadings, Power, Rate, detection,
    threshold,
};
pub use readings::{
    DETECTOR_FIT, Evidence, PvtEstimate, ledger_findings, published_figures, pvt_sample,
    quick_count, readings,
};
pub use rla::AuditReading;

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

/// Every detector, in [`Detector`] order.
pub const DETECTORS: [DetectorInfo; 18] = [
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
        description: "f_i + f_e of the Klimek model fitted to the turnout × leader-share distribution (the likelihood of `tamga forensics`, one start, short search)",
    },
    DetectorInfo {
        name: "vvpat_complaints",
        kind: DetectorKind::Deterministic,
        cost_unit: "printed records looked at",
        description: "a voter who looked at the machine's printed record (VVPAT) found it wrong or missing and complained",
    },
    DetectorInfo {
        name: "rla_bravo",
        kind: DetectorKind::Deterministic,
        cost_unit: "ballots examined",
        description: "ballot-polling risk-limiting audit (BRAVO) of the paper: fires when a full hand count finds the outcome wrong",
    },
    DetectorInfo {
        name: "rla_macro",
        kind: DetectorKind::Deterministic,
        cost_unit: "ballots examined",
        description: "batch-comparison risk-limiting audit (MACRO) of station protocols against their papers: fires when a full hand count finds the outcome wrong",
    },
    DetectorInfo {
        name: "rla_comparison",
        kind: DetectorKind::Deterministic,
        cost_unit: "ballots examined",
        description: "ballot-level comparison audit of the paper against cast-vote records (machines' records where every ballot has one: Kaplan–Markov; else ONEAudit with station protocols' means): fires when a full hand count finds the outcome wrong",
    },
    DetectorInfo {
        name: "rla_alpha",
        kind: DetectorKind::Deterministic,
        cost_unit: "ballots examined",
        description: "ballot-polling risk-limiting audit with the ALPHA betting martingale of the paper: fires when a full hand count finds the outcome wrong",
    },
    DetectorInfo {
        name: "rla_alpha_comparison",
        kind: DetectorKind::Deterministic,
        cost_unit: "ballots examined",
        description: "ballot-level comparison audit with the ALPHA betting martingale (rla_comparison's cast-vote records and sample, its own rounds, its bet updated at each round's end): fires when a full hand count finds the outcome wrong",
    },
];

/// The detectors, in the order of [`DETECTORS`] and of every reading array.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Detector {
    LedgerAudit,
    Receipts,
    ControlCodes,
    Reconciliation,
    PvtProtocols,
    PvtQuickCount,
    IntegerPercent,
    TurnoutShareSlope,
    LastDigit,
    SecondDigit,
    ExtremeCorner,
    KlimekFit,
    VvpatComplaints,
    RlaBravo,
    RlaMacro,
    RlaComparison,
    RlaAlpha,
    RlaAlphaComparison,
}

impl Detector {
    /// Every detector, in order.
    pub const ALL: [Detector; 18] = [
        Detector::LedgerAudit,
        Detector::Receipts,
        Detector::ControlCodes,
        Detector::Reconciliation,
        Detector::PvtProtocols,
        Detector::PvtQuickCount,
        Detector::IntegerPercent,
        Detector::TurnoutShareSlope,
        Detector::LastDigit,
        Detector::SecondDigit,
        Detector::ExtremeCorner,
        Detector::KlimekFit,
        Detector::VvpatComplaints,
        Detector::RlaBravo,
        Detector::RlaMacro,
        Detector::RlaComparison,
        Detector::RlaAlpha,
        Detector::RlaAlphaComparison,
    ];

    /// Its name, kind, cost unit and description.
    pub fn info(self) -> &'static DetectorInfo {
        &DETECTORS[self as usize]
    }

    /// Whether the detector is a risk-limiting audit (its readings also say whether the reported
    /// outcome was wrong on the paper and was confirmed anyway: [`AuditReading`]).
    pub fn is_audit(self) -> bool {
        matches!(
            self,
            Detector::RlaBravo
                | Detector::RlaMacro
                | Detector::RlaComparison
                | Detector::RlaAlpha
                | Detector::RlaAlphaComparison
        )
    }

    /// The detector called `name` (as in [`DETECTORS`] and the outputs).
    pub fn from_name(name: &str) -> Option<Detector> {
        Detector::ALL.into_iter().find(|d| d.info().name == name)
    }
}

/// One detector's reading in one run: `value` is 0/1 for a deterministic detector and the
/// statistic for a calibrated one; `None` when the detector does not apply (e.g. station
/// results are not published, nobody checks receipts).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Reading {
    pub value: Option<f64>,
    pub cost: f64,
}

/// One run's readings, one per [`Detector`], indexed by it. Serialised as an array in
/// [`DETECTORS`] order; an array of another length does not deserialise.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Readings(pub [Reading; 18]);

impl Readings {
    /// A reading of nothing for every detector (`None`, no cost).
    pub const NONE: Readings = Readings([Reading::NONE; 18]);

    /// The readings with their detectors, in order.
    pub fn iter(&self) -> impl Iterator<Item = (Detector, &Reading)> {
        Detector::ALL.into_iter().zip(&self.0)
    }
}

impl std::ops::Index<Detector> for Readings {
    type Output = Reading;
    fn index(&self, d: Detector) -> &Reading {
        &self.0[d as usize]
    }
}

impl std::ops::IndexMut<Detector> for Readings {
    fn index_mut(&mut self, d: Detector) -> &mut Reading {
        &mut self.0[d as usize]
    }
}

impl Reading {
    /// No reading (the detector does not apply) and no cost.
    pub const NONE: Reading = Reading {
        value: None,
        cost: 0.0,
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detector_order_matches_the_table() {
        for (i, d) in Detector::ALL.into_iter().enumerate() {
            assert_eq!(d as usize, i);
            assert_eq!(Detector::from_name(DETECTORS[i].name), Some(d));
        }
        assert_eq!(Detector::from_name("no_such_detector"), None);
    }
}
