//! The validated `[inference]` section: the candidate fraud mechanisms `tamga infer` may fit, each
//! a fraud model with uniform priors on some of its intensities and targeting shares. Built only
//! by [`crate::scenario`]; the inference itself is in `crate::infer`.

use crate::fraud::{FraudKind, FraudModel};

/// Candidate fraud mechanisms and the defaults of an inference.
#[derive(Clone, Debug)]
pub struct Inference {
    /// The honest hypothesis `tamga infer` uses when `--hypothesis` is not given.
    pub hypothesis: Option<String>,
    /// In file order; names are unique and never `none` (the honest model's name).
    pub mechanisms: Vec<Mechanism>,
    /// Which groups of statistics are compared (default: all the observed result has).
    pub statistics: Vec<StatisticGroup>,
    /// The miss in turnout or a share (a fraction) that counts as one unit of distance beside
    /// honest run-to-run noise: what the hypothesis cannot be expected to match.
    pub share_tolerance: f64,
    /// The same for a seat count.
    pub seat_tolerance: f64,
}

/// Default of [`Inference::share_tolerance`]: 0.2 percentage points (published percentages
/// are rounded to 0.01–0.1 points).
pub const SHARE_TOLERANCE: f64 = 0.002;
/// Default of [`Inference::seat_tolerance`]: half a seat.
pub const SEAT_TOLERANCE: f64 = 0.5;

/// A group of summary statistics (`[inference] statistics`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatisticGroup {
    Turnout,
    Shares,
    ListSeats,
    DistrictSeats,
}

impl StatisticGroup {
    pub const ALL: [StatisticGroup; 4] = [
        StatisticGroup::Turnout,
        StatisticGroup::Shares,
        StatisticGroup::ListSeats,
        StatisticGroup::DistrictSeats,
    ];

    /// The name in a scenario file.
    pub fn key(self) -> &'static str {
        match self {
            StatisticGroup::Turnout => "turnout",
            StatisticGroup::Shares => "shares",
            StatisticGroup::ListSeats => "list_seats",
            StatisticGroup::DistrictSeats => "district_seats",
        }
    }
}

impl Inference {
    /// The mechanism called `name`.
    pub fn mechanism(&self, name: &str) -> Option<usize> {
        self.mechanisms.iter().position(|m| m.name == name)
    }

    /// The mechanisms' names, comma-separated (for messages).
    pub fn names(&self) -> String {
        self.mechanisms
            .iter()
            .map(|m| m.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// One candidate mechanism: a fraud model whose parameters with a prior are drawn, the others
/// fixed as written.
#[derive(Clone, Debug)]
pub struct Mechanism {
    pub name: String,
    /// The fraud model, each parameter with a prior set to its prior's lower end.
    pub fraud: FraudModel,
    /// The parameters drawn, in a fixed order (the order of [`Parameter::ALL`]).
    pub priors: Vec<Prior>,
}

/// A uniform prior on one parameter, on `[lo, hi]` with `lo < hi`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Prior {
    pub parameter: Parameter,
    pub lo: f64,
    pub hi: f64,
}

/// A numeric parameter of a fraud model that may have a prior.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Parameter {
    /// `share` (pressure, protocol, aggregate).
    Share,
    /// `rate` (stuffing, carousel).
    Rate,
    /// `incremental` (Klimek f_i).
    Incremental,
    /// `extreme` (Klimek f_e).
    Extreme,
    /// `alpha` (Klimek).
    Alpha,
    /// `theta` (Klimek).
    Theta,
    /// `turnout_bias` (Klimek κ: fraud likelier where turnout is already high).
    TurnoutBias,
    /// `stations`: the share of eligible stations targeted (any model).
    Stations,
}

impl Parameter {
    /// Every parameter, in the order priors are kept.
    pub const ALL: [Parameter; 8] = [
        Parameter::Share,
        Parameter::Rate,
        Parameter::Incremental,
        Parameter::Extreme,
        Parameter::Alpha,
        Parameter::Theta,
        Parameter::TurnoutBias,
        Parameter::Stations,
    ];

    /// The key in a scenario file.
    pub fn key(self) -> &'static str {
        match self {
            Parameter::Share => "share",
            Parameter::Rate => "rate",
            Parameter::Incremental => "incremental",
            Parameter::Extreme => "extreme",
            Parameter::Alpha => "alpha",
            Parameter::Theta => "theta",
            Parameter::TurnoutBias => "turnout_bias",
            Parameter::Stations => "stations",
        }
    }

    /// The values the parameter may take.
    pub fn range(self) -> (f64, f64) {
        match self {
            Parameter::Alpha => (0.1, 10.0),
            Parameter::TurnoutBias => (0.0, crate::fraud::MAX_TURNOUT_BIAS),
            _ => (0.0, 1.0),
        }
    }

    /// Whether a fraud model of this kind has the parameter.
    pub fn belongs_to(self, kind: &FraudKind) -> bool {
        match self {
            Parameter::Stations => true,
            Parameter::Share => matches!(
                kind,
                FraudKind::Pressure { .. }
                    | FraudKind::Protocol { .. }
                    | FraudKind::Aggregate { .. }
                    | FraudKind::Flip { .. }
                    | FraudKind::Drop { .. }
            ),
            Parameter::Rate => matches!(
                kind,
                FraudKind::Stuffing { .. } | FraudKind::Carousel { .. }
            ),
            Parameter::Incremental
            | Parameter::Extreme
            | Parameter::Alpha
            | Parameter::Theta
            | Parameter::TurnoutBias => matches!(kind, FraudKind::Klimek { .. }),
        }
    }

    /// Sets the parameter of `f` to `v` (nothing when the model has no such parameter).
    pub fn set(self, f: &mut FraudModel, v: f64) {
        if self == Parameter::Stations {
            f.target.stations = v;
            return;
        }
        match (self, &mut f.kind) {
            (
                Parameter::Share,
                FraudKind::Pressure { share }
                | FraudKind::Protocol { share }
                | FraudKind::Aggregate { share, .. }
                | FraudKind::Flip { share }
                | FraudKind::Drop { share },
            ) => *share = v,
            (Parameter::Rate, FraudKind::Stuffing { rate, .. } | FraudKind::Carousel { rate }) => {
                *rate = v
            }
            (Parameter::Incremental, FraudKind::Klimek { incremental, .. }) => *incremental = v,
            (Parameter::Extreme, FraudKind::Klimek { extreme, .. }) => *extreme = v,
            (Parameter::Alpha, FraudKind::Klimek { alpha, .. }) => *alpha = v,
            (Parameter::Theta, FraudKind::Klimek { theta, .. }) => *theta = v,
            (Parameter::TurnoutBias, FraudKind::Klimek { turnout_bias, .. }) => *turnout_bias = v,
            _ => {}
        }
    }
}
