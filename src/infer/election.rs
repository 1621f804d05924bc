//! tamga's own simulator as the model ABC fits: the honest hypothesis's electorate, built once,
//! plus candidate fraud mechanisms whose intensities are the parameters; each simulation is one
//! election on the station path ([`crate::sim::station`]: counts drawn from their exact
//! distributions, count-level fraud drawn as counts) and its tabulation. Detectors are not run:
//! inference reads only the published totals and seats, and the truth for what fraud did.
//!
//! Summary statistics are the observed ones: national turnout, list shares, list seats and
//! district seats per party; with station results ([`super::stations`]) national turnout and
//! shares and the station summaries (histogram cells, integer-percentage excess, corners; the
//! floor of their scale is one station's share or `share_tolerance`, whichever is larger). The distance is a root mean square over
//! groups (turnout, shares, list seats, district seats, and the three station groups; each
//! group counts once whatever its size) of each statistic's difference from the observed value
//! in units of its scale: the run-to-run standard deviation under the honest hypothesis (a
//! pilot of [`PILOT_RUNS`] elections) combined with a floor (`share_tolerance`,
//! `seat_tolerance` of `[inference]`) for what the honest model cannot be expected to match
//! exactly. A distance of 1 is a typical honest-noise miss.

use super::abc::{AbcModel, Draw};
use crate::electorate::Electorate;
use crate::fraud::FraudModel;
use crate::model::{Model, Parameter, Reported, Scenario, StatisticGroup};
use crate::sim::{Context, FraudPlan, LedgerMode, Workspace};
use crate::tabulation::{Tally, tabulate};
use rayon::prelude::*;

/// Honest elections simulated to measure each statistic's run-to-run spread.
pub const PILOT_RUNS: u64 = 24;

/// Run index of the pilot's honest elections (far from the ABC's keys, which start at 2³²).
const PILOT_BASE: u64 = 0xFFFF_0000_0000_0000;

/// A summary statistic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Statistic {
    Turnout,
    Share(usize),
    ListSeats(usize),
    /// Party index; the party count means independents.
    DistrictSeats(usize),
    /// Share of stations in one cell of the turnout × share histogram (row-major, turnout
    /// rows), see [`super::stations`].
    Cell(usize),
    /// Integer-percentage excess as a share of the stations tested.
    IntegerExcess,
    /// Share of stations in one of [`super::stations::CORNERS`].
    Corner(usize),
}

impl Statistic {
    /// Its group in the distance.
    fn group(self) -> usize {
        match self {
            Statistic::Turnout => 0,
            Statistic::Share(_) => 1,
            Statistic::ListSeats(_) => 2,
            Statistic::DistrictSeats(_) => 3,
            Statistic::Cell(_) => 4,
            Statistic::IntegerExcess => 5,
            Statistic::Corner(_) => 6,
        }
    }

    /// Whether it is read from station results (see [`super::stations`]).
    pub fn is_station(self) -> bool {
        self.group() >= 4
    }

    /// Its value in a tally, or for a station statistic in the election's station summaries
    /// (in [`super::stations::station_statistics`] order; empty without station data).
    pub fn of(self, t: &Tally, registered: u64, stations: &[f64]) -> f64 {
        let station = |i: usize| stations.get(i).copied().unwrap_or(0.0);
        let bins = super::stations::BINS * super::stations::BINS;
        match self {
            Statistic::Turnout => t.ballots as f64 / registered.max(1) as f64,
            Statistic::Share(p) => {
                t.list_votes.get(p).copied().unwrap_or(0) as f64 / t.valid_total().max(1) as f64
            }
            Statistic::ListSeats(p) => t.list_seats.get(p).copied().unwrap_or(0) as f64,
            Statistic::DistrictSeats(p) => t.district_seats.get(p).copied().unwrap_or(0) as f64,
            Statistic::Cell(c) => station(c),
            Statistic::IntegerExcess => station(bins),
            Statistic::Corner(c) => station(bins + 1 + c),
        }
    }

    /// A name for outputs (`turnout`, `share.otan`, `list_seats.otan`,
    /// `district_seats.independent`).
    pub fn name(self, scenario: &Scenario) -> String {
        let party = |p: usize| {
            scenario
                .parties
                .get(p)
                .map_or("independent".to_string(), |x| x.id.clone())
        };
        match self {
            Statistic::Turnout => "turnout".into(),
            Statistic::Share(p) => format!("share.{}", party(p)),
            Statistic::ListSeats(p) => format!("list_seats.{}", party(p)),
            Statistic::DistrictSeats(p) => format!("district_seats.{}", party(p)),
            Statistic::Cell(c) => {
                let b = super::stations::BINS;
                format!("stations.turnout_q{}.share_q{}", c / b + 1, c % b + 1)
            }
            Statistic::IntegerExcess => "stations.integer_excess".into(),
            Statistic::Corner(c) => {
                let (t, s) = super::stations::CORNERS[c];
                format!("stations.corner_{:.0}_{:.0}", 100.0 * t, 100.0 * s)
            }
        }
    }

    /// Whether it is a seat count.
    fn is_seats(self) -> bool {
        matches!(self, Statistic::ListSeats(_) | Statistic::DistrictSeats(_))
    }
}

/// The observed data as summary statistics.
#[derive(Clone, Debug, PartialEq)]
pub struct Observed {
    pub statistics: Vec<Statistic>,
    pub values: Vec<f64>,
    /// With station data: how simulated stations are summarised.
    pub stations: Option<super::stations::StationSpec>,
}

impl Observed {
    /// The same observation with the station cells' and corners' scales at least binomial
    /// ([`super::stations::StationSpec::binomial_scales`]): for a file whose honest model was
    /// fitted to it (`--from-stations`).
    pub fn with_binomial_scales(mut self) -> Observed {
        if let Some(spec) = self.stations.as_mut() {
            spec.binomial_scales = true;
        }
        self
    }

    /// The scenario's `[reported]` result: turnout (given, or ballots ÷ registered), list shares,
    /// list seats and district seats, each when present and in `groups`. `None` when none is.
    pub fn reported(
        scenario: &Scenario,
        r: &Reported,
        groups: &[StatisticGroup],
    ) -> Option<Observed> {
        let k = scenario.parties.len();
        let mut statistics = Vec::new();
        let mut values = Vec::new();
        let turnout = r.turnout.or_else(|| {
            r.ballots
                .zip(r.registered)
                .map(|(b, n)| b as f64 / n.max(1) as f64)
        });
        let turnout = turnout.filter(|_| groups.contains(&StatisticGroup::Turnout));
        if let Some(t) = turnout {
            statistics.push(Statistic::Turnout);
            values.push(t);
        }
        if let Some(shares) = r
            .list_shares()
            .filter(|_| groups.contains(&StatisticGroup::Shares))
        {
            for (p, s) in shares.into_iter().enumerate() {
                statistics.push(Statistic::Share(p));
                values.push(s);
            }
        }
        let has_list = scenario.variants[0].model.system.list.is_some()
            && groups.contains(&StatisticGroup::ListSeats);
        if let (Some(seats), true) = (&r.list_seats, has_list) {
            for p in 0..k {
                statistics.push(Statistic::ListSeats(p));
                values.push(seats.get(p).copied().unwrap_or(0) as f64);
            }
        }
        let has_districts = scenario.variants[0].model.system.districts.is_some()
            && groups.contains(&StatisticGroup::DistrictSeats);
        if let (Some(seats), true) = (&r.district_seats, has_districts) {
            for p in 0..=k {
                statistics.push(Statistic::DistrictSeats(p));
                values.push(seats.get(p).copied().unwrap_or(0) as f64);
            }
        }
        (!statistics.is_empty()).then_some(Observed {
            statistics,
            values,
            stations: None,
        })
    }

    /// The statistics of a simulated tally and its station summaries, in this order.
    pub fn of(&self, t: &Tally, registered: u64, stations: &[f64]) -> Vec<f64> {
        self.statistics
            .iter()
            .map(|s| s.of(t, registered, stations))
            .collect()
    }
}

/// One candidate model: a set of mechanisms (none: the honest hypothesis itself).
#[derive(Clone, Debug)]
pub struct Candidate {
    pub name: String,
    /// The fraud models, parameters with a prior at their lower ends.
    pub frauds: Vec<FraudModel>,
    /// Per parameter: which fraud model, which parameter, and a label
    /// (`mechanism.parameter`).
    pub parameters: Vec<(usize, Parameter, String)>,
    pub space: Vec<(f64, f64)>,
    plan: FraudPlan,
}

/// The derived quantities' names, in [`ElectionModel::derived`] order.
pub fn derived_names(scenario: &Scenario) -> Vec<String> {
    let mut out: Vec<String> = [
        "votes_added",
        "turnout_added",
        "votes_moved",
        "seats_moved",
        "votes_in_question",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let ids: Vec<&str> = scenario.parties.iter().map(|p| p.id.as_str()).collect();
    for tier in ["list", "district", "total"] {
        for id in &ids {
            out.push(format!("{tier}_seats_moved.{id}"));
        }
        if tier != "list" {
            out.push(format!("{tier}_seats_moved.independent"));
        }
    }
    out
}

/// What fraud did in one election: reported minus truth.
fn derived(reported: &Tally, truth: &Tally, registered: u64, k: usize) -> Vec<f64> {
    let added = reported.ballots as f64 - truth.ballots as f64;
    let moved: u64 = truth
        .list_votes
        .iter()
        .zip(&reported.list_votes)
        .map(|(&t, &r)| t.saturating_sub(r))
        .sum();
    let diff = |r: &[u32], t: &[u32], p: usize| {
        r.get(p).copied().unwrap_or(0) as f64 - t.get(p).copied().unwrap_or(0) as f64
    };
    let seats_moved: f64 = (0..=k)
        .map(|p| diff(&reported.total_seats, &truth.total_seats, p).max(0.0))
        .sum();
    let mut out = vec![
        added,
        added / registered.max(1) as f64,
        moved as f64,
        seats_moved,
        added + moved as f64,
    ];
    for p in 0..k {
        out.push(diff(&reported.list_seats, &truth.list_seats, p));
    }
    for p in 0..=k {
        out.push(diff(&reported.district_seats, &truth.district_seats, p));
    }
    for p in 0..=k {
        out.push(diff(&reported.total_seats, &truth.total_seats, p));
    }
    out
}

/// The candidate made of mechanisms `set` (indices into `scenario.inference`; empty: honest)
/// acting on the hypothesis's electorate.
pub fn candidate(
    scenario: &Scenario,
    hypothesis: usize,
    electorate: &Electorate,
    set: &[usize],
) -> Candidate {
    let mechanisms = scenario
        .inference
        .as_ref()
        .map_or(&[][..], |i| i.mechanisms.as_slice());
    let mut frauds = Vec::new();
    let mut parameters = Vec::new();
    let mut space = Vec::new();
    for &mi in set {
        let m = &mechanisms[mi];
        for pr in &m.priors {
            parameters.push((
                frauds.len(),
                pr.parameter,
                format!("{}.{}", m.name, pr.parameter.key()),
            ));
            space.push((pr.lo, pr.hi));
        }
        frauds.push(m.fraud.clone());
    }
    let mut model = scenario.variants[hypothesis].model.clone();
    model.fraud = frauds.clone();
    let plan = FraudPlan::new(&model, electorate);
    let name = if set.is_empty() {
        crate::scenario::NO_FRAUD.to_string()
    } else {
        set.iter()
            .map(|&mi| mechanisms[mi].name.as_str())
            .collect::<Vec<_>>()
            .join("+")
    };
    Candidate {
        name,
        frauds,
        parameters,
        space,
        plan,
    }
}

/// The honest hypothesis with candidate mechanisms, ready to simulate.
pub struct ElectionModel<'a> {
    pub scenario: &'a Scenario,
    pub hypothesis: usize,
    pub electorate: Electorate,
    pub seed: u64,
    pub candidates: Vec<Candidate>,
    spaces: Vec<Vec<(f64, f64)>>,
    pub observed: Observed,
    /// Scale of each statistic (see the module's documentation).
    pub scales: Vec<f64>,
    /// Weight of each statistic's squared scaled difference: 1 / (groups × its group's size)
    /// (the station histogram's cells are one group, the integer excess one, the corners one).
    weights: Vec<f64>,
}

impl<'a> ElectionModel<'a> {
    /// Builds the hypothesis's electorate and the candidates' fraud plans, then measures the
    /// statistics' spread with a pilot of honest elections. `models` lists each candidate as
    /// mechanism indices into `scenario.inference` (empty: honest).
    pub fn new(
        scenario: &'a Scenario,
        hypothesis: usize,
        models: &[Vec<usize>],
        observed: Observed,
        seed: u64,
    ) -> ElectionModel<'a> {
        let base = &scenario.variants[hypothesis].model;
        let electorate = Electorate::build(base, scenario.parties.len(), seed);
        let candidates: Vec<Candidate> = models
            .iter()
            .map(|set| candidate(scenario, hypothesis, &electorate, set))
            .collect();
        let spaces = candidates.iter().map(|c| c.space.clone()).collect();
        let n_stats = observed.statistics.len();
        let mut groups = [0usize; 7];
        for s in &observed.statistics {
            groups[s.group()] += 1;
        }
        let n_groups = groups.iter().filter(|&&g| g > 0).count().max(1);
        let weights = observed
            .statistics
            .iter()
            .map(|s| 1.0 / (n_groups * groups[s.group()]) as f64)
            .collect();
        let mut me = ElectionModel {
            scenario,
            hypothesis,
            electorate,
            seed,
            candidates,
            spaces,
            observed,
            scales: vec![1.0; n_stats],
            weights,
        };
        // the honest hypothesis's run-to-run spread
        let honest = Candidate {
            name: String::new(),
            frauds: Vec::new(),
            parameters: Vec::new(),
            space: Vec::new(),
            plan: FraudPlan::default(),
        };
        let pilot: Vec<Vec<f64>> = (0..PILOT_RUNS)
            .into_par_iter()
            .map_init(Workspace::default, |ws, r| {
                me.simulate_candidate(&honest, &[], PILOT_BASE + r, ws)
                    .summaries
            })
            .collect();
        me.scales = (0..n_stats)
            .map(|j| {
                let xs: Vec<f64> = pilot.iter().map(|s| s[j]).collect();
                let (_, sd) = crate::stats::mean_sd(&xs);
                let station_floor = me
                    .observed
                    .stations
                    .as_ref()
                    .map_or(0.0, |s| 1.0 / s.stations.max(1) as f64);
                let floor = match &scenario.inference {
                    Some(inf) if me.observed.statistics[j].is_station() => {
                        station_floor.max(inf.share_tolerance)
                    }
                    None if me.observed.statistics[j].is_station() => {
                        station_floor.max(crate::model::SHARE_TOLERANCE)
                    }
                    Some(inf) if me.observed.statistics[j].is_seats() => inf.seat_tolerance,
                    Some(inf) => inf.share_tolerance,
                    None if me.observed.statistics[j].is_seats() => crate::model::SEAT_TOLERANCE,
                    None => crate::model::SHARE_TOLERANCE,
                };
                // with an honest model fitted to the file, a share of stations varies at least
                // binomially around the file's own value whatever fraud produced it: the
                // fitted honest runs put few stations in the cells and corners fraud fills, and
                // their spread alone undersizes those scales (docs/inference.md)
                let binomial = match (me.observed.statistics[j], &me.observed.stations) {
                    (Statistic::Cell(_) | Statistic::Corner(_), Some(spec))
                        if spec.binomial_scales =>
                    {
                        let p = me.observed.values[j].clamp(0.0, 1.0);
                        p * (1.0 - p) / spec.stations.max(1) as f64
                    }
                    _ => 0.0,
                };
                ((sd * sd).max(binomial) + floor * floor).sqrt()
            })
            .collect();
        me
    }

    /// One election of `c` at `theta` with run index `run`.
    pub fn simulate_candidate(
        &self,
        c: &Candidate,
        theta: &[f64],
        run: u64,
        ws: &mut Workspace,
    ) -> Draw {
        let (reported, truth) = self.election(c, theta, run, ws);
        let registered = self.electorate.n_registered();
        let stations = self.observed.stations.as_ref().map_or(Vec::new(), |spec| {
            spec.simulated(&self.electorate, ws.published().protocols)
        });
        Draw {
            summaries: self.observed.of(&reported, registered, &stations),
            derived: derived(&reported, &truth, registered, self.scenario.parties.len()),
        }
    }

    /// The reported and true tallies of one election of `c` at `theta`.
    pub fn election(
        &self,
        c: &Candidate,
        theta: &[f64],
        run: u64,
        ws: &mut Workspace,
    ) -> (Tally, Tally) {
        let mut model: Model = self.scenario.variants[self.hypothesis].model.clone();
        model.fraud = c.frauds.clone();
        for (&(f, parameter, _), &v) in c.parameters.iter().zip(theta) {
            parameter.set(&mut model.fraud[f], v);
        }
        let mut ctx = Context::new(
            self.scenario,
            self.hypothesis,
            &self.electorate,
            &c.plan,
            self.seed,
            LedgerMode::Off,
        );
        ctx.model = &model;
        crate::sim::station::run_election(ctx, run, ws);
        let t = tabulate(&model, &self.electorate, self.seed, run, ws);
        (t.reported, t.truth)
    }

    /// The scaled differences of simulated summaries from the observed ones.
    pub fn scaled(&self, summaries: &[f64]) -> Vec<f64> {
        summaries
            .iter()
            .zip(&self.observed.values)
            .zip(&self.scales)
            .map(|((s, o), sc)| (s - o) / sc)
            .collect()
    }
}

impl AbcModel for ElectionModel<'_> {
    type Scratch = Workspace;

    fn spaces(&self) -> &[Vec<(f64, f64)>] {
        &self.spaces
    }

    fn admissible(&self, m: usize, theta: &[f64]) -> bool {
        // Klimek: incremental + extreme are shares of stations
        let c = &self.candidates[m];
        let mut model_frauds = c.frauds.clone();
        for (&(f, parameter, _), &v) in c.parameters.iter().zip(theta) {
            parameter.set(&mut model_frauds[f], v);
        }
        model_frauds.iter().all(|f| match f.kind {
            crate::fraud::FraudKind::Klimek {
                incremental,
                extreme,
                ..
            } => incremental + extreme <= 1.0,
            _ => true,
        })
    }

    fn simulate(&self, m: usize, theta: &[f64], key: u64, ws: &mut Workspace) -> Draw {
        self.simulate_candidate(&self.candidates[m], theta, key, ws)
    }

    fn distance(&self, summaries: &[f64]) -> f64 {
        self.scaled(summaries)
            .iter()
            .zip(&self.weights)
            .map(|(z, w)| w * z * z)
            .sum::<f64>()
            .sqrt()
    }
}
