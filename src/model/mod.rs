//! The validated scenario: parties, Monte Carlo settings, the reported result, detector
//! settings and one [`Model`] per variant — the types every later stage reads. Built only by
//! [`crate::scenario`] (which reads and validates the file); nothing here parses or does I/O.

use crate::fraud::FraudModel;
use crate::seats::{DistrictRule, Method, Threshold};

mod inference;
pub use inference::{
    Inference, Mechanism, Parameter, Prior, SEAT_TOLERANCE, SHARE_TOLERANCE, StatisticGroup,
};

/// The scenario format version this build reads.
pub const FORMAT_VERSION: u64 = 1;

/// A validated scenario: metadata, parties, Monte Carlo settings, the real reported result (if
/// known) and one [`Model`] per variant.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// SHA-256 of the scenario file's bytes, hex: the scenario's identity in every output.
    pub digest: String,
    pub meta: Meta,
    pub parties: Vec<Party>,
    pub montecarlo: MonteCarlo,
    pub reported: Option<Reported>,
    /// At least one; a file without `[[variant]]` has one variant named `base`.
    pub variants: Vec<Variant>,
    /// The safeguards every run is audited with.
    pub detectors: DetectorSettings,
    /// Candidate fraud mechanisms for `tamga infer` (`[inference]`), if the file has them.
    pub inference: Option<Inference>,
}

#[derive(Clone, Debug)]
pub struct Meta {
    pub name: String,
    pub country: String,
    pub date: String,
    pub description: String,
}

/// A party or list on the ballot. Index in [`Scenario::parties`] is the party index everywhere.
#[derive(Clone, Debug)]
pub struct Party {
    /// Short identifier used as key in the file and in output columns.
    pub id: String,
    pub name: String,
}

/// The most runs per variant a scenario (`[montecarlo] runs`), `tamga run --runs` or a part
/// file (`runs_total`) may ask for.
pub const MAX_RUNS: u32 = 1_000_000;

#[derive(Clone, Copy, Debug)]
pub struct MonteCarlo {
    pub runs: u32,
    pub seed: u64,
    /// How honest runs are simulated (`[montecarlo] path`, `tamga run --path`).
    pub path: SimPath,
}

/// How a run is simulated: every ballot, station counts drawn directly, or both
/// (see [`crate::sim::station`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SimPath {
    /// Ballot by ballot, every electronic ballot hash-chained (the reference).
    Ballot,
    /// Station counts drawn from their exact distributions; variants with fraud inside
    /// machines still run ballot by ballot.
    Station,
    /// The station path for paper ballots, ballot by ballot on the machines: every electronic
    /// ballot hash-chained, every fraud model as on the ballot path (the default).
    #[default]
    Hybrid,
}

impl SimPath {
    /// The name used in scenario files, on the command line and in summaries.
    pub fn name(self) -> &'static str {
        match self {
            SimPath::Ballot => "ballot",
            SimPath::Station => "station",
            SimPath::Hybrid => "hybrid",
        }
    }

    /// Parses `"ballot"`, `"station"` or `"hybrid"`.
    pub fn from_name(s: &str) -> Option<SimPath> {
        match s {
            "ballot" => Some(SimPath::Ballot),
            "station" => Some(SimPath::Station),
            "hybrid" => Some(SimPath::Hybrid),
            _ => None,
        }
    }
}

/// The officially reported result, to compare simulations against. All optional parts are
/// compared only when present.
#[derive(Clone, Debug, Default)]
pub struct Reported {
    pub registered: Option<u64>,
    pub ballots: Option<u64>,
    pub turnout: Option<f64>,
    /// Valid list votes per party (party index order).
    pub list_votes: Option<Vec<u64>>,
    pub invalid: Option<u64>,
    pub list_seats: Option<Vec<u32>>,
    /// District seats per party plus a last entry for independents.
    pub district_seats: Option<Vec<u32>>,
    /// District seats won in round 1 (more than half the votes, no runoff), per party plus a
    /// last entry for independents.
    pub round1_seats: Option<Vec<u32>>,
    /// Districts that went to a runoff.
    pub runoffs: Option<u32>,
    /// Total seats per party plus a last entry for independents.
    pub total_seats: Option<Vec<u32>>,
    /// `reported.stations`: the path of the real station results (a CSV that `tamga
    /// forensics` reads, plain or gzip), as written in the scenario — relative to the scenario
    /// file's directory unless absolute. Read by the commands, not here (the model does no I/O).
    pub stations: Option<String>,
}

impl Reported {
    /// Reported list shares of valid votes, if list votes are given.
    pub fn list_shares(&self) -> Option<Vec<f64>> {
        let v = self.list_votes.as_ref()?;
        let total: u64 = v.iter().sum();
        (total > 0).then(|| v.iter().map(|&x| x as f64 / total as f64).collect())
    }
}

#[derive(Clone, Debug)]
pub struct Variant {
    pub name: String,
    pub description: String,
    /// For a variant with fraud: the honest variant it is compared with (calibration of
    /// statistical detectors, false alarms). Defaults to the first variant without fraud.
    pub baseline: Option<String>,
    /// The variant whose overrides this one starts from, if any.
    pub extends: Option<String>,
    pub model: Model,
}

impl Variant {
    pub fn is_honest(&self) -> bool {
        self.model.fraud.is_empty()
    }
}

/// Everything about an election that a variant may change.
#[derive(Clone, Debug)]
pub struct Model {
    pub system: ElectoralSystem,
    pub regions: Vec<Region>,
    pub stations: StationSizes,
    pub turnout: TurnoutModel,
    pub preferences: PreferenceModel,
    pub ballots: BallotModel,
    pub candidates: CandidateModel,
    pub runoff: RunoffModel,
    /// Fraud models applied in this variant (empty: honest).
    pub fraud: Vec<FraudModel>,
    /// The voter-verified paper record machines print, if they print one (`[vvpat]`).
    pub vvpat: Option<Vvpat>,
}

/// Voting machines that print a voter-verified paper record (VVPAT): each electronic ballot
/// leaves a paper the voter may look at before it drops into a sealed box
/// (`docs/scenario-format.md`, `[vvpat]`; `docs/fraud-models.md`, "The paper record").
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Vvpat {
    /// Share of e-enabled stations whose machine prints (the others leave no paper).
    pub print_share: f64,
    /// Share of electronic voters who look at their printed record.
    pub look_rate: f64,
    /// Probability that a voter who sees a wrong record (or none) complains.
    pub complain_rate: f64,
    /// What a complaint does.
    pub on_complaint: OnComplaint,
    /// What a machine that flips or drops a vote prints.
    pub rigged_prints: RiggedPrint,
}

/// What a voter's complaint about their printed record triggers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnComplaint {
    /// The complaint is noted (a detector reads it); the vote stands as recorded.
    Note,
    /// The record is voided and the voter votes again, and this time the vote is recorded and
    /// printed as cast (the complaint is noted too).
    Recast,
}

/// What a rigged machine prints when it flips or drops a vote.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RiggedPrint {
    /// What it recorded (a flipped choice; nothing for a dropped vote): paper and ledger agree,
    /// and a voter who looks sees the change.
    Recorded,
    /// What the voter chose: the voter sees nothing wrong, and the paper disagrees with the
    /// ledger.
    Chosen,
}

impl Vvpat {
    /// Whether e-enabled station `i`'s machine prints: a fixed, evenly spread `print_share`
    /// of stations (station `i` prints when the fractional part of `i·φ⁻¹` is below the share;
    /// no random stream, so printing is the same in every run and variant).
    pub fn prints(&self, i: usize) -> bool {
        const PHI_INV: f64 = 0.618_033_988_749_894_9;
        self.print_share >= 1.0 || (i as f64 * PHI_INV).fract() < self.print_share
    }
}

/// The electoral system: a national list tier, a single-member district tier, or both
/// (a parallel mixed system such as Kazakhstan 2004).
#[derive(Clone, Debug)]
pub struct ElectoralSystem {
    pub list: Option<ListTier>,
    pub districts: Option<DistrictTier>,
}

#[derive(Clone, Debug)]
pub struct ListTier {
    pub seats: u32,
    pub method: Method,
    pub threshold: Option<Threshold>,
    /// When true the threshold is measured on all ballots cast (valid + invalid), else on
    /// valid list votes.
    pub threshold_on_ballots: bool,
}

#[derive(Clone, Debug)]
pub struct DistrictTier {
    pub rule: DistrictRule,
}

#[derive(Clone, Debug)]
pub struct Region {
    pub name: String,
    pub registered: u64,
    pub districts: u32,
    pub stations: u32,
    /// Share of the region's registered voters at urban stations.
    pub urban: f64,
    /// Share of the region's stations that are e-enabled (urban stations first).
    pub evoting: f64,
    /// Logit-scale turnout shift of this region.
    pub turnout_shift: f64,
    /// Log-scale preference shift per party (party index order; 0 when not given).
    pub preference_shift: Vec<f64>,
    /// The region's tilt: one party's station log weight moved with the station's turnout
    /// deviation (`None`: station turnout and preferences independent).
    pub tilt: Option<Tilt>,
}

/// A within-region tilt: `party`'s station log weight gets `slope` × (the station's turnout
/// logit − its group's mean), so that the logit of its share moves by about `slope` per unit
/// of logit turnout across the region's stations.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tilt {
    /// Party index.
    pub party: usize,
    pub slope: f64,
}

/// How registered voters are spread over stations.
#[derive(Clone, Debug)]
pub struct StationSizes {
    /// Standard deviation of log station size around the mean.
    pub log_sd: f64,
    /// Mean urban station size ÷ mean rural station size.
    pub urban_size_ratio: f64,
}

#[derive(Clone, Debug)]
pub struct TurnoutModel {
    pub urban: f64,
    pub rural: f64,
    /// Logit-scale standard deviation of station deviations.
    pub station_sd: f64,
    /// When set, a common logit shift is solved so that expected national turnout equals it.
    pub target: Option<f64>,
}

#[derive(Clone, Debug)]
pub struct PreferenceModel {
    /// Mean list shares at urban stations (party order, sums to 1).
    pub urban: Vec<f64>,
    /// Mean list shares at rural stations (party order, sums to 1).
    pub rural: Vec<f64>,
    /// Log-scale standard deviation of station deviations per party.
    pub station_sd: f64,
    /// When set, per-party log shifts are solved so that expected national shares equal it.
    pub target: Option<Vec<f64>>,
    /// The tilt of every region that gives none of its own (`[preferences] tilt`; already
    /// copied into those [`Region::tilt`]s, which are what the simulation reads).
    pub tilt: Option<Tilt>,
}

#[derive(Clone, Debug)]
pub struct BallotModel {
    /// Probability that a paper ballot is spoiled (each of the list and district ballots).
    pub invalid_rate: f64,
    /// Probability that a voter at an e-enabled station votes electronically.
    pub evoting_uptake: f64,
}

/// District candidate slates and how voters choose among them.
#[derive(Clone, Debug)]
pub struct CandidateModel {
    /// Probability that a voter votes for their list party's nominee when it has one.
    pub loyalty: f64,
    /// Per party (party index order): share of districts contested and personal appeal.
    pub nominations: Vec<Nomination>,
    pub independents: Independents,
}

#[derive(Clone, Copy, Debug)]
pub struct Nomination {
    pub contest_share: f64,
    pub appeal: Appeal,
}

/// Personal appeal of a candidate, log-normal: median and log-scale sd, drawn per run.
#[derive(Clone, Copy, Debug)]
pub struct Appeal {
    pub median: f64,
    pub log_sd: f64,
}

#[derive(Clone, Copy, Debug)]
pub struct Independents {
    pub min: u32,
    pub max: u32,
    pub appeal: Appeal,
}

/// The second round in districts without a majority winner.
#[derive(Clone, Copy, Debug)]
pub struct RunoffModel {
    /// Probability that a round-1 voter votes again.
    pub turnout_ratio: f64,
    /// Probability that a supporter of an eliminated candidate votes for a finalist of their
    /// candidate's party when there is one.
    pub party_transfer: f64,
}

impl Scenario {
    pub fn party_index(&self, id: &str) -> Option<usize> {
        self.parties.iter().position(|p| p.id == id)
    }
    /// The scenario digest as 32 bytes: the election id voting machines' ledgers are bound to.
    pub fn digest_bytes(&self) -> [u8; 32] {
        let mut out = [0u8; 32];
        for (i, o) in out.iter_mut().enumerate() {
            *o = u8::from_str_radix(self.digest.get(2 * i..2 * i + 2).unwrap_or("00"), 16)
                .unwrap_or(0);
        }
        out
    }

    pub fn variant(&self, name: &str) -> Option<&Variant> {
        self.variants.iter().find(|v| v.name == name)
    }

    /// The variants' names, comma-separated (for messages that list what a scenario has).
    pub fn variant_names(&self) -> String {
        self.variants
            .iter()
            .map(|v| v.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Index of the honest variant a variant is compared with: itself when honest, else its
    /// `baseline`, else the first honest variant. `None` when there is no honest variant.
    pub fn baseline_of(&self, variant_idx: usize) -> Option<usize> {
        let v = &self.variants[variant_idx];
        if v.is_honest() {
            return Some(variant_idx);
        }
        let honest = |name: &String| {
            self.variants
                .iter()
                .position(|x| &x.name == name && x.is_honest())
        };
        match (&v.baseline, &v.extends) {
            (Some(name), _) => self.variants.iter().position(|x| &x.name == name),
            (None, Some(parent)) if honest(parent).is_some() => honest(parent),
            _ => self.variants.iter().position(Variant::is_honest),
        }
    }
}

/// Settings of the safeguards (detectors), shared by all variants.
#[derive(Clone, Debug)]
pub struct DetectorSettings {
    /// False-alarm rate at which statistical detectors are calibrated on honest runs.
    pub false_alarm_rate: f64,
    /// Whether station protocols are published (needed for reconciliation and forensics).
    pub station_results_published: bool,
    /// Whether each machine's head is published at close (before anyone could rewrite it).
    pub heads_published: bool,
    /// Probability that an electronic voter checks their receipt against the published ledger.
    pub receipt_check_rate: f64,
    /// Probability that an electronic voter checks their control code (Sailau).
    pub control_code_rate: f64,
    /// Stations observed by a parallel vote tabulation (0: none).
    pub pvt_stations: u32,
    /// Whether every run fits the Klimek model to its published protocols (the costliest
    /// detector: one coarse fit per run).
    pub klimek_fit: bool,
    /// The risk limit of the risk-limiting audits run on every run's paper record (`None`: no
    /// audits; the `rla_*` detectors do not apply).
    pub rla_risk_limit: Option<f64>,
}

impl Default for DetectorSettings {
    fn default() -> Self {
        DetectorSettings {
            false_alarm_rate: 0.05,
            station_results_published: true,
            heads_published: true,
            receipt_check_rate: 0.04,
            control_code_rate: 0.0,
            pvt_stations: 0,
            klimek_fit: true,
            rla_risk_limit: None,
        }
    }
}
