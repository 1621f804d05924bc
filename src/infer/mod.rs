//! Simulation-based inference: how much fraud, of which kind, explains a reported result.
//!
//! Given an honest hypothesis (a variant of the scenario), candidate fraud mechanisms with
//! uniform priors on their intensities (`[inference]`, read by [`crate::scenario`]) and the
//! observed result (the scenario's `[reported]` figures and seats), [`infer`] runs tamga's own
//! simulator backwards: ABC-SMC with model choice ([`abc`]) over elections simulated on the
//! station path ([`election`]), then the local-linear regression adjustment ([`posterior`]) of
//! the parameters and of what fraud did (votes added and moved, turnout added, seats moved per
//! party and tier), fresh posterior predictive elections, and a plain-words reading. When the
//! closest simulated elections stay further than [`REPRODUCE_LIMIT`] from the observed result,
//! the result says so and gives no posterior. [`calibration`] checks the whole procedure by
//! simulation-based calibration (Talts et al. 2018). [`infer_with`] continues from a
//! [`checkpoint`] and saves one after every generation, with the same result. Method and
//! assumptions: `docs/inference.md`.
//!
//! Deterministic for a seed whatever the thread count; no I/O, no clock.

pub mod abc;
pub mod calibration;
pub mod checkpoint;
pub mod election;
pub mod honest;
pub mod page;
pub mod posterior;
pub mod stations;
mod text;

use crate::model::Scenario;
use crate::rng::{AnalysisPurpose, analysis_stream, unit};
use abc::{AbcResult, Generation, Settings, Stop};
use election::{ElectionModel, Observed, derived_names};
use posterior::{Interval, adjust};
use rayon::prelude::*;
use std::sync::atomic::AtomicBool;

/// Version of the JSON document [`Report`] (`format = "tamga-infer"`).
pub const REPORT_VERSION: u32 = 1;
/// The largest final tolerance (root mean square of scaled misses, see [`election`]) at which
/// the observed result counts as reproduced; beyond it no posterior is reported.
pub const REPRODUCE_LIMIT: f64 = 3.0;
/// When the last population's tolerance is above [`REPRODUCE_LIMIT`], its particles within the
/// limit are the posterior at the limit ([`abc::AbcResult::cut_at`]) if their effective sample
/// size is at least this share of `--particles`.
pub const MIN_CUT_ESS: f64 = 0.25;
/// Fresh elections simulated from the posterior for the predictive checks.
pub const PREDICTIVE_RUNS: usize = 100;
/// A mechanism is supported at a posterior probability of at least this…
pub const SUPPORTED: f64 = 0.1;
/// …and excluded below this.
pub const EXCLUDED: f64 = 0.01;

/// Why an inference cannot run.
#[derive(Debug, thiserror::Error)]
pub enum InferError {
    #[error("the scenario has no [inference] section")]
    NoInference,
    #[error("there is no variant `{name}` (the scenario has: {known})")]
    UnknownVariant { name: String, known: String },
    #[error("variant `{name}` has fraud models; the hypothesis must be honest voting")]
    HypothesisHasFraud { name: String },
    #[error(
        "there is no mechanism `{name}` in [inference] (it has: {known}, and `none` for no fraud)"
    )]
    UnknownMechanism { name: String, known: String },
    #[error("no candidate model was given")]
    NoModels,
    #[error("model `{name}` is listed twice")]
    DuplicateModel { name: String },
    #[error("the scenario's [reported] section has no turnout, list votes or seats to fit")]
    NoObserved,
    #[error(
        "a budget of {budget} simulations cannot fill even one generation of {particles} particles"
    )]
    Budget { budget: u64, particles: usize },
    #[error("synthetic truth `{spec}`: {problem}")]
    Synthetic { spec: String, problem: String },
    /// The checkpoint to continue from is refused (the message names no file: the caller's does).
    #[error("the checkpoint {0}")]
    Checkpoint(#[from] checkpoint::CheckpointError),
}

/// A known fraud to plant in a synthetic election (`--synthetic`): mechanisms and the value of
/// each of their parameters with a prior.
#[derive(Clone, Debug, PartialEq)]
pub struct Synthetic {
    pub set: Vec<usize>,
    pub theta: Vec<f64>,
}

impl Synthetic {
    /// Parses `mechanism.parameter=value,…`; every parameter with a prior of each named
    /// mechanism must be given, inside the values the parameter takes.
    pub fn parse(scenario: &Scenario, spec: &str) -> Result<Synthetic, InferError> {
        use crate::text::echo;
        let err = |problem: String| InferError::Synthetic {
            spec: echo(spec),
            problem,
        };
        let inf = scenario.inference.as_ref().ok_or(InferError::NoInference)?;
        let mut given: Vec<(usize, crate::model::Parameter, f64)> = Vec::new();
        for item in spec.split(',').map(str::trim).filter(|x| !x.is_empty()) {
            let (lhs, value) = item
                .split_once('=')
                .ok_or_else(|| err(format!("`{}` is not mechanism.parameter=value", echo(item))))?;
            let (mech, param) = lhs
                .trim()
                .split_once('.')
                .ok_or_else(|| err(format!("`{}` is not mechanism.parameter", echo(lhs))))?;
            let mi = inf.mechanism(mech).ok_or_else(|| {
                err(format!(
                    "there is no mechanism `{}` (it has: {})",
                    echo(mech),
                    inf.names()
                ))
            })?;
            let pr = inf.mechanisms[mi]
                .priors
                .iter()
                .find(|p| p.parameter.key() == param)
                .ok_or_else(|| err(format!("`{mech}` has no prior on `{}`", echo(param))))?;
            let v: f64 = value
                .trim()
                .parse()
                .map_err(|_| err(format!("`{}` is not a number", echo(value))))?;
            let (lo, hi) = pr.parameter.range();
            if !(lo..=hi).contains(&v) {
                return Err(err(format!("{lhs} = {v} is outside {lo}–{hi}")));
            }
            given.push((mi, pr.parameter, v));
        }
        let mut set: Vec<usize> = Vec::new();
        for &(mi, _, _) in &given {
            if !set.contains(&mi) {
                set.push(mi);
            }
        }
        if set.is_empty() {
            return Err(err("names no parameter".into()));
        }
        let mut theta = Vec::new();
        for &mi in &set {
            for pr in &inf.mechanisms[mi].priors {
                let v = given
                    .iter()
                    .find(|g| g.0 == mi && g.1 == pr.parameter)
                    .ok_or_else(|| {
                        err(format!(
                            "give {}.{} too",
                            inf.mechanisms[mi].name,
                            pr.parameter.key()
                        ))
                    })?;
                theta.push(v.2);
            }
        }
        Ok(Synthetic { set, theta })
    }
}

/// The planted truth of a synthetic election beside its posterior.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct TruthReport {
    pub model: String,
    pub parameters: Vec<TruthValue>,
    pub derived: Vec<TruthValue>,
}

/// One true value and whether the 90 % interval of its posterior (model-averaged for derived
/// quantities; of the true model for parameters) contains it.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct TruthValue {
    pub name: String,
    pub value: f64,
    pub covered90: Option<bool>,
}

/// What to infer, as given on the command line.
#[derive(Clone, Debug)]
pub struct Request {
    /// The honest variant.
    pub hypothesis: String,
    /// Candidate models: mechanism names joined by `+`, or `none`.
    pub models: Vec<String>,
    pub particles: usize,
    pub budget: u64,
    pub seed: u64,
    /// The standard deviation of the honest ballots the hypothesis expects, when the hypothesis
    /// was fitted to the observed data (`--from-stations`: [`honest::HonestFit::honest_ballots_sd`]);
    /// 0 for a given hypothesis. The ballots added (and the turnout added, the votes in
    /// question) are drawn with this uncertainty added ([`honest_uncertainty`]).
    pub honest_ballots_sd: f64,
    /// The standard deviation of the leader's honest votes the fitted hypothesis expects
    /// ([`honest::HonestFit::honest_leader_votes_sd`]); 0 for a given hypothesis. Added to the
    /// votes moved and the votes in question ([`honest_uncertainty`]).
    pub honest_moved_sd: f64,
    /// How many fewer and how many more honest ballots than the fitted hypothesis expects its
    /// file does not tell apart from it ([`honest::HonestFit::honest_ballots_range`]); `[0, 0]`
    /// for a given hypothesis. The intervals of the ballots added (and the turnout added, the
    /// votes in question) are widened by them ([`unidentified`]).
    pub honest_ballots_unidentified: [f64; 2],
    /// How many fewer and more of the leader's honest votes than the fitted hypothesis expects
    /// its file does not tell apart from it ([`honest::HonestFit::honest_leader_votes_range`]);
    /// `[0, 0]` for a given hypothesis. The intervals of the votes moved and the votes in
    /// question are widened by them ([`unidentified`]).
    pub honest_moved_unidentified: [f64; 2],
    /// The ABC's perturbation kernel ([`abc::Kernel`]): `Covariance` for a hypothesis fitted
    /// to a station file (`--from-stations`), whose candidates' parameters trade off.
    pub kernel: abc::Kernel,
}

/// The hypothesis's variant index and each model's mechanism indices.
pub fn resolve(scenario: &Scenario, r: &Request) -> Result<(usize, Vec<Vec<usize>>), InferError> {
    let inf = scenario.inference.as_ref().ok_or(InferError::NoInference)?;
    let h = scenario
        .variants
        .iter()
        .position(|v| v.name == r.hypothesis)
        .ok_or_else(|| InferError::UnknownVariant {
            name: r.hypothesis.clone(),
            known: scenario.variant_names(),
        })?;
    if !scenario.variants[h].is_honest() {
        return Err(InferError::HypothesisHasFraud {
            name: r.hypothesis.clone(),
        });
    }
    if r.models.is_empty() {
        return Err(InferError::NoModels);
    }
    let mut models: Vec<Vec<usize>> = Vec::new();
    for name in &r.models {
        let set: Vec<usize> = if name == crate::scenario::NO_FRAUD {
            Vec::new()
        } else {
            name.split('+')
                .map(|m| {
                    inf.mechanism(m.trim())
                        .ok_or_else(|| InferError::UnknownMechanism {
                            name: m.trim().to_string(),
                            known: inf.names(),
                        })
                })
                .collect::<Result<_, _>>()?
        };
        if models.contains(&set) {
            return Err(InferError::DuplicateModel { name: name.clone() });
        }
        models.push(set);
    }
    Ok((h, models))
}

/// A posterior summary of one named quantity.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Quantity {
    pub name: String,
    #[serde(flatten)]
    pub interval: Interval,
}

impl Quantity {
    /// Whether a table shows it: a per-party seat change that stays at zero is left out.
    pub fn shown(&self) -> bool {
        let i = &self.interval;
        let zero = [i.median, i.lo90, i.hi90].iter().all(|v| v.abs() < 0.5);
        !(zero && self.name.contains("seats_moved."))
    }
}

/// One parameter's prior and posterior.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct ParameterPosterior {
    pub name: String,
    pub prior: (f64, f64),
    /// `None` when the model has no particle left.
    pub posterior: Option<Interval>,
}

/// Whether the data favour a model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Supported,
    Weak,
    Excluded,
}

/// One candidate model's result.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct ModelResult {
    pub name: String,
    /// Whether the posterior is regression-adjusted (see [`Adjusted::adjusted`]); if not, it
    /// is the accepted particles as they are (wider, conservative).
    pub adjusted: bool,
    pub probability: f64,
    pub verdict: Verdict,
    pub particles: usize,
    pub ess: f64,
    pub parameters: Vec<ParameterPosterior>,
}

/// A posterior predictive check of one statistic.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Predictive {
    pub statistic: String,
    pub observed: f64,
    #[serde(flatten)]
    pub simulated: Interval,
    /// Share of predictive elections below the observed value (ties half).
    pub rank: f64,
    pub inside90: bool,
}

/// The outcome of an inference.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The observed result is reproduced; the posterior is reported.
    Posterior,
    /// No candidate comes within [`REPRODUCE_LIMIT`]: no posterior.
    NotReproduced,
    /// Stopped before the first generation was complete, or by the stop flag.
    Interrupted,
}

/// Where a result came from.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Provenance {
    pub tamga: String,
    pub scenario: String,
    pub digest: String,
    pub hypothesis: String,
    pub observed: String,
    pub seed: u64,
    pub particles: usize,
    pub budget: u64,
    pub path: String,
    /// The spread of the honest ballots of a hypothesis fitted to the observed file, added to
    /// the ballots added (`--from-stations`; [`Request::honest_ballots_sd`]); absent when 0.
    #[serde(skip_serializing_if = "is_zero")]
    pub honest_ballots_sd: f64,
    /// The spread of the leader's honest votes of a hypothesis fitted to the observed file,
    /// added to the votes moved ([`Request::honest_moved_sd`]); absent when 0.
    #[serde(skip_serializing_if = "is_zero")]
    pub honest_moved_sd: f64,
    /// How many fewer and more honest ballots the observed file does not tell apart from the
    /// fitted hypothesis ([`Request::honest_ballots_unidentified`]); absent when both are 0.
    #[serde(skip_serializing_if = "both_zero")]
    pub honest_ballots_unidentified: [f64; 2],
    /// How many fewer and more of the leader's honest votes the observed file does not tell
    /// apart from the fitted hypothesis ([`Request::honest_moved_unidentified`]); absent when
    /// both are 0.
    #[serde(skip_serializing_if = "both_zero")]
    pub honest_moved_unidentified: [f64; 2],
    /// The ABC's perturbation kernel ([`Request::kernel`]); absent for the default (`axes`).
    #[serde(skip_serializing_if = "is_axes")]
    pub kernel: abc::Kernel,
}

fn is_axes(k: &abc::Kernel) -> bool {
    *k == abc::Kernel::Axes
}

fn is_zero(x: &f64) -> bool {
    *x == 0.0
}

fn both_zero(x: &[f64; 2]) -> bool {
    x.iter().all(is_zero)
}

/// Everything `tamga infer` reports.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Report {
    pub format: String,
    pub version: u32,
    pub provenance: Provenance,
    pub status: Status,
    pub stop: Stop,
    pub simulations: u64,
    /// Final tolerance (scaled root mean square miss of the population's worst particle).
    pub epsilon: f64,
    /// When the last generation's tolerance was above the limit and its particles within the
    /// limit were kept as the posterior ([`abc::AbcResult::cut_at`]); absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cut: Option<abc::Cut>,
    pub reproduce_limit: f64,
    /// Acceptance rate of the last generation.
    pub acceptance: f64,
    /// Effective sample size of the final population.
    pub ess: f64,
    pub generations: Vec<Generation>,
    pub models: Vec<ModelResult>,
    /// Model-averaged posterior of what fraud did (empty without a posterior).
    pub derived: Vec<Quantity>,
    pub predictive: Vec<Predictive>,
    pub statistic_scales: Vec<(String, f64)>,
    /// With station results: the leader and the histogram's edges the station summaries use.
    pub station_summaries: Option<stations::StationSpec>,
    /// With `--synthetic`: the planted fraud beside its posterior.
    pub truth: Option<TruthReport>,
    /// With a station file: `tamga forensics`' estimates on the same file ([`Report::set_beside`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub beside: Option<Beside>,
    pub reading: Vec<String>,
}

/// `tamga forensics`' two estimates of the votes in question on the station file an inference
/// fitted, computed as `tamga forensics FILE --seed SEED` computes them (the same numbers), to
/// set beside the inference's: each rests on its own model (`docs/forensics.md`).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Beside {
    /// The seed of `tamga forensics` (its default, [`crate::forensics::DEFAULT_SEED`]).
    pub seed: u64,
    /// The Klimek fit's votes in question (stuffed plus moved), with its 90 % station-bootstrap
    /// interval; `None` when the fit is undefined for the file (`klimek_undefined` says why).
    pub klimek: Option<BesideEstimate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub klimek_undefined: Option<String>,
    /// Shpilkin's clean-peak anomalous leader votes, with its 90 % station-bootstrap interval;
    /// `None` when undefined (no votes for others at or below the turnout peak).
    pub clean_peak: Option<BesideEstimate>,
}

/// One of [`Beside`]'s estimates.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct BesideEstimate {
    pub value: f64,
    pub lo90: f64,
    pub hi90: f64,
}

impl Beside {
    /// Runs `tamga forensics`' analysis of `results` with `seed` (its default options, but for
    /// the digit tests' null, which the two estimates do not read) and keeps its two estimates
    /// of the votes in question.
    pub fn of(
        results: &crate::forensics::read::ElectionResults,
        seed: u64,
    ) -> Result<Beside, crate::forensics::ForensicsError> {
        let options = crate::forensics::AnalysisOptions {
            seed,
            digit_null_simulations: 1,
            ..Default::default()
        };
        let f = crate::forensics::analyse(results, &options, |_| {})?;
        Ok(Beside {
            seed,
            klimek: f.klimek.as_ref().map(|k| BesideEstimate {
                value: k.votes.total.estimate,
                lo90: k.votes.total.lo,
                hi90: k.votes.total.hi,
            }),
            klimek_undefined: f.klimek_undefined.clone(),
            clean_peak: f.clean_peak.map(|c| BesideEstimate {
                value: c.votes,
                lo90: c.lo,
                hi90: c.hi,
            }),
        })
    }

    /// The reading's line.
    fn line(&self) -> String {
        let est = |e: &BesideEstimate| {
            let to = if e.lo90 < 0.0 { " to " } else { "–" };
            format!(
                "{} (90 %: {}{to}{})",
                count(e.value),
                count(e.lo90),
                count(e.hi90)
            )
        };
        let klimek = match (&self.klimek, &self.klimek_undefined) {
            (Some(k), _) => format!(
                "the Klimek fit's votes in question {} (model-based: one national fair cluster, regional differences read as fraud)",
                est(k)
            ),
            (None, Some(why)) => format!("no Klimek fit ({why})"),
            (None, None) => "no Klimek fit".to_string(),
        };
        let peak = match &self.clean_peak {
            Some(c) => format!(
                "Shpilkin's clean-peak anomalous leader votes {} (the stations at or below the national turnout peak clean, the others' votes genuine)",
                est(c)
            ),
            None => "no clean-peak estimate (no votes for others at or below the turnout peak)"
                .to_string(),
        };
        format!(
            "Beside it, `tamga forensics` on the same file (seed {}): {klimek}; {peak}.",
            self.seed
        )
    }
}

impl Report {
    /// Sets `tamga forensics`' estimates beside the inference's, and says them in the reading.
    pub fn set_beside(&mut self, beside: Beside) {
        // after the inference's own votes in question (and the warning on them) when it has
        // them, else last
        let at = self
            .reading
            .iter()
            .position(|l| l.starts_with("Votes in question"))
            .map_or(self.reading.len(), |i| {
                let next = self.reading.get(i + 1);
                i + 1 + usize::from(next.is_some_and(|l| l.starts_with(KLIMEK_LOW)))
            });
        self.reading.insert(at, beside.line());
        self.beside = Some(beside);
    }
}

/// Regression-adjusted posterior sample of one model: per parameter and per derived quantity,
/// the adjusted values of its particles, with their kernel weights.
pub struct Adjusted {
    pub theta: Vec<Vec<f64>>,
    pub derived: Vec<Vec<f64>>,
    pub weights: Vec<f64>,
    /// False when the adjustment was not used: it would have put more than
    /// [`ADJUSTMENT_LIMIT`] of some parameter's values outside its prior range (a sign that the
    /// accepted summaries are too far from the observed ones for a linear correction).
    pub adjusted: bool,
}

/// The largest share of a parameter's adjusted values outside its prior range at which the
/// regression adjustment is kept (see [`Adjusted::adjusted`]).
pub const ADJUSTMENT_LIMIT: f64 = 0.1;

/// The adjusted posterior of model `m` (empty weights when it has no particle).
pub fn adjusted(em: &ElectionModel<'_>, r: &AbcResult, m: usize) -> Adjusted {
    let members: Vec<&abc::Particle> = r.population.iter().filter(|x| x.model == m).collect();
    let max_d = r
        .population
        .iter()
        .map(|x| x.distance)
        .fold(0.0f64, f64::max);
    let eps = if r.epsilon().is_finite() {
        r.epsilon()
    } else {
        max_d
    }
    .max(1e-12)
        * 1.0001;
    let weights: Vec<f64> = members
        .iter()
        .map(|x| x.weight * (1.0 - (x.distance / eps).powi(2)).max(0.0))
        .collect();
    let xs: Vec<Vec<f64>> = members
        .iter()
        .map(|x| em.scaled(&x.draw.summaries))
        .collect();
    let space = &em.candidates[m].space;
    let raw_theta: Vec<Vec<f64>> = (0..space.len())
        .map(|d| members.iter().map(|x| x.theta[d]).collect())
        .collect();
    let n_derived = members.first().map_or(0, |x| x.draw.derived.len());
    let raw_derived: Vec<Vec<f64>> = (0..n_derived)
        .map(|j| members.iter().map(|x| x.draw.derived[j]).collect())
        .collect();
    let total: f64 = weights.iter().sum();
    let mut theta = Vec::new();
    let mut usable = true;
    for (d, y) in raw_theta.iter().enumerate() {
        let (lo, hi) = space[d];
        let adj = adjust(y, &xs, &weights);
        let outside: f64 = adj
            .iter()
            .zip(&weights)
            .filter(|(v, _)| **v < lo || **v > hi)
            .map(|(_, w)| w)
            .sum();
        if total > 0.0 && outside / total > ADJUSTMENT_LIMIT {
            usable = false;
        }
        theta.push(adj.into_iter().map(|v| v.clamp(lo, hi)).collect());
    }
    if !usable {
        return Adjusted {
            theta: raw_theta,
            derived: raw_derived,
            weights,
            adjusted: false,
        };
    }
    let derived = raw_derived
        .iter()
        .map(|y| adjust(y, &xs, &weights))
        .collect();
    Adjusted {
        theta,
        derived,
        weights,
        adjusted: true,
    }
}

/// Runs the inference. `observed_name` says where the observed data came from (provenance);
/// `progress(simulations done, generations so far)` is called from this thread.
///
/// With `synthetic`, the observed values are replaced by those of one election simulated with
/// that known fraud (the statistics stay those of `observed`), and the report sets the truth
/// beside the posterior.
pub fn infer(
    scenario: &Scenario,
    request: &Request,
    observed: Observed,
    observed_name: &str,
    synthetic: Option<&Synthetic>,
    stop: &AtomicBool,
    progress: &mut dyn FnMut(u64, &[Generation]),
) -> Result<Report, InferError> {
    infer_with(
        scenario,
        request,
        observed,
        observed_name,
        synthetic,
        stop,
        progress,
        None,
    )
}

/// [`infer`], continuing from a checkpoint and saving one after every generation when
/// `checkpoints` is given ([`checkpoint`]); the result is the same.
#[allow(clippy::too_many_arguments)]
pub fn infer_with(
    scenario: &Scenario,
    request: &Request,
    observed: Observed,
    observed_name: &str,
    synthetic: Option<&Synthetic>,
    stop: &AtomicBool,
    progress: &mut dyn FnMut(u64, &[Generation]),
    checkpoints: Option<checkpoint::Checkpointing<'_>>,
) -> Result<Report, InferError> {
    let (h, models) = resolve(scenario, request)?;
    if request.budget < request.particles as u64 {
        return Err(InferError::Budget {
            budget: request.budget,
            particles: request.particles,
        });
    }
    let mut em = ElectionModel::new(scenario, h, &models, observed, request.seed);
    let planted = synthetic.map(|syn| {
        let c = election::candidate(scenario, h, &em.electorate, &syn.set);
        let mut ws = crate::sim::Workspace::default();
        let draw = em.simulate_candidate(&c, &syn.theta, abc::key(0xFFFD, 0), &mut ws);
        em.observed.values = draw.summaries.clone();
        (c, syn.theta.clone(), draw)
    });
    let settings = Settings {
        kernel: request.kernel,
        keep_partial: request.kernel == abc::Kernel::Covariance,
        ..Settings::new(request.particles, request.budget, request.seed)
    };
    let mut r = match checkpoints {
        None => abc::run(&em, &settings, stop, progress),
        Some(c) => c.run(
            request,
            &em,
            observed_name,
            synthetic,
            &settings,
            stop,
            progress,
        )?,
    };
    if r.epsilon() > REPRODUCE_LIMIT && r.stop != Stop::Interrupted {
        r.cut_at(REPRODUCE_LIMIT, MIN_CUT_ESS * request.particles as f64);
    }
    let mut rep = report(scenario, request, observed_name, &em, &r);
    if let Some((c, theta, draw)) = planted {
        let model = rep.models.iter().find(|m| m.name == c.name);
        rep.truth = Some(TruthReport {
            model: c.name.clone(),
            parameters: c
                .parameters
                .iter()
                .zip(&theta)
                .map(|((_, _, label), &value)| TruthValue {
                    name: label.clone(),
                    value,
                    covered90: model
                        .and_then(|m| m.parameters.iter().find(|p| &p.name == label))
                        .and_then(|p| p.posterior)
                        .map(|i| i.contains90(value)),
                })
                .collect(),
            derived: derived_names(scenario)
                .into_iter()
                .zip(&draw.derived)
                .map(|(name, &value)| TruthValue {
                    covered90: rep
                        .derived
                        .iter()
                        .find(|q| q.name == name)
                        .map(|q| q.interval.contains90(value)),
                    name,
                    value,
                })
                .collect(),
        });
        rep.reading = reading(&rep);
    }
    Ok(rep)
}

/// Adds the fitted hypothesis's own uncertainty to a model-averaged sample of derived
/// quantity `name`: the ballots added, the turnout added (over `registered`) and the votes in
/// question each get the same draw of N(0, `honest_ballots_sd`²) per sample member (the i-th
/// member the i-th draw of a stream keyed by the seed) — with the honest level fitted, not
/// known, every ballot it may be off by is a ballot added or not; the votes moved and the
/// votes in question each get the same draw of N(0, `honest_moved_sd`²) from a second stream —
/// every vote the leader's honest share may be off by is a vote moved or not. None of them is
/// negative: a sum below 0 counts as 0. Other quantities, and every quantity when both spreads
/// are 0, are left as they are.
fn honest_uncertainty(name: &str, vals: &mut [f64], request: &Request, registered: u64) {
    use rand_distr::{Distribution, StandardNormal};
    let ballots = match name {
        "votes_added" | "votes_in_question" => request.honest_ballots_sd,
        "turnout_added" => request.honest_ballots_sd / registered.max(1) as f64,
        _ => 0.0,
    };
    let moved = match name {
        "votes_moved" | "votes_in_question" => request.honest_moved_sd,
        _ => 0.0,
    };
    if ballots <= 0.0 && moved <= 0.0 {
        return;
    }
    let stream = |k: u64| {
        crate::rng::analysis_stream(request.seed, crate::rng::AnalysisPurpose::InferHonestFit, k)
    };
    let (mut rb, mut rm) = (stream(u64::MAX), stream(u64::MAX - 1));
    // what fraud added or moved is not negative
    for v in vals.iter_mut() {
        let zb: f64 = StandardNormal.sample(&mut rb);
        let zm: f64 = StandardNormal.sample(&mut rm);
        *v = (*v + ballots * zb + moved * zm).max(0.0);
    }
}

/// Widens the interval of derived quantity `name` by what the fitted hypothesis's file does
/// not identify ([`Request::honest_ballots_unidentified`]): the ballots added, the turnout
/// added (over `registered`) and the votes in question are reported over every honest level
/// the file does not tell apart from the fitted one — `more` honest ballots would leave that
/// many fewer added, `fewer` that many more — so each end of the 50 % and 90 % intervals moves
/// out by the whole range (bounds, as for a partially identified quantity; none below 0). The
/// median stays the fitted level's. Other quantities are left as they are.
fn unidentified(name: &str, i: Interval, request: &Request, registered: u64) -> Interval {
    let per = match name {
        "votes_added" | "votes_in_question" => 1.0,
        "turnout_added" => 1.0 / registered.max(1) as f64,
        _ => 0.0,
    };
    // the leader's honest votes: more of them leave fewer moved, fewer leave more
    let moved = match name {
        "votes_moved" | "votes_in_question" => 1.0,
        _ => 0.0,
    };
    if per == 0.0 && moved == 0.0 {
        return i;
    }
    let [fewer, more] = request.honest_ballots_unidentified;
    let [fewer_l, more_l] = request.honest_moved_unidentified;
    let (down, up) = (more * per + more_l * moved, fewer * per + fewer_l * moved);
    Interval {
        median: i.median,
        lo50: (i.lo50 - down).max(0.0),
        hi50: i.hi50 + up,
        lo90: (i.lo90 - down).max(0.0),
        hi90: i.hi90 + up,
    }
}

/// Builds the report of a finished ABC run.
fn report(
    scenario: &Scenario,
    request: &Request,
    observed_name: &str,
    em: &ElectionModel<'_>,
    r: &AbcResult,
) -> Report {
    let n_models = em.candidates.len();
    let names = derived_names(scenario);
    let status = if r.population.is_empty() {
        Status::Interrupted
    } else if r.epsilon() > REPRODUCE_LIMIT {
        Status::NotReproduced
    } else {
        Status::Posterior
    };
    let probs = abc::model_probabilities(&r.population, n_models);
    let adj: Vec<Adjusted> = (0..n_models).map(|m| adjusted(em, r, m)).collect();
    let models: Vec<ModelResult> = em
        .candidates
        .iter()
        .enumerate()
        .map(|(m, c)| {
            let members = r.population.iter().filter(|x| x.model == m);
            let p = probs[m];
            ModelResult {
                name: c.name.clone(),
                adjusted: adj[m].adjusted,
                probability: p,
                verdict: if p >= SUPPORTED {
                    Verdict::Supported
                } else if p < EXCLUDED {
                    Verdict::Excluded
                } else {
                    Verdict::Weak
                },
                particles: members.clone().count(),
                ess: abc::ess(members.map(|x| x.weight)),
                parameters: c
                    .parameters
                    .iter()
                    .enumerate()
                    .map(|(d, (_, _, label))| ParameterPosterior {
                        name: label.clone(),
                        prior: c.space[d],
                        posterior: (status == Status::Posterior
                            && adj[m].weights.iter().any(|&w| w > 0.0))
                        .then(|| Interval::of(&adj[m].theta[d], &adj[m].weights)),
                    })
                    .collect(),
            }
        })
        .collect();
    // model-averaged derived quantities
    let mut derived = Vec::new();
    if status == Status::Posterior {
        for (j, name) in names.iter().enumerate() {
            let mut vals = Vec::new();
            let mut ws = Vec::new();
            for (m, a) in adj.iter().enumerate() {
                let total: f64 = a.weights.iter().sum();
                if total <= 0.0 {
                    continue;
                }
                vals.extend_from_slice(&a.derived[j]);
                ws.extend(a.weights.iter().map(|w| w / total * probs[m]));
            }
            let registered = em.electorate.n_registered();
            honest_uncertainty(name, &mut vals, request, registered);
            derived.push(Quantity {
                name: name.clone(),
                interval: unidentified(name, Interval::of(&vals, &ws), request, registered),
            });
        }
    }
    let predictive = if r.population.is_empty() {
        Vec::new()
    } else {
        predictive(scenario, em, r, &adj)
    };
    let last = r.generations.last();
    let mut rep = Report {
        format: "tamga-infer".into(),
        version: REPORT_VERSION,
        provenance: Provenance {
            tamga: crate::VERSION.into(),
            scenario: scenario.meta.name.clone(),
            digest: scenario.digest.clone(),
            hypothesis: request.hypothesis.clone(),
            observed: observed_name.into(),
            seed: request.seed,
            particles: request.particles,
            budget: request.budget,
            path: "station".into(),
            honest_ballots_sd: request.honest_ballots_sd,
            honest_moved_sd: request.honest_moved_sd,
            honest_ballots_unidentified: request.honest_ballots_unidentified,
            honest_moved_unidentified: request.honest_moved_unidentified,
            kernel: request.kernel,
        },
        status,
        stop: r.stop,
        simulations: r.simulations,
        epsilon: r.epsilon(),
        cut: r.cut,
        reproduce_limit: REPRODUCE_LIMIT,
        acceptance: last.map_or(0.0, |g| g.acceptance),
        ess: r.cut.map_or(last.map_or(0.0, |g| g.ess), |c| c.ess),
        generations: r.generations.clone(),
        models,
        derived,
        predictive,
        truth: None,
        beside: None,
        station_summaries: em.observed.stations.clone(),
        statistic_scales: em
            .observed
            .statistics
            .iter()
            .zip(&em.scales)
            .map(|(s, &v)| (s.name(scenario), v))
            .collect(),
        reading: Vec::new(),
    };
    rep.reading = reading(&rep);
    rep
}

/// Fresh elections from the posterior (adjusted parameters, drawn by kernel weight), each
/// statistic's predictive interval beside the observed value.
fn predictive(
    scenario: &Scenario,
    em: &ElectionModel<'_>,
    r: &AbcResult,
    adj: &[Adjusted],
) -> Vec<Predictive> {
    // every particle with its model, adjusted parameters and weight (kernel weight × P(model))
    let probs = abc::model_probabilities(&r.population, em.candidates.len());
    let mut pool: Vec<(usize, Vec<f64>, f64)> = Vec::new();
    for (m, a) in adj.iter().enumerate() {
        let total: f64 = a.weights.iter().sum();
        let members: Vec<&abc::Particle> = r.population.iter().filter(|x| x.model == m).collect();
        for (i, x) in members.iter().enumerate() {
            let theta: Vec<f64> = (0..x.theta.len()).map(|d| a.theta[d][i]).collect();
            let w = if total > 0.0 {
                a.weights[i] / total * probs[m]
            } else {
                x.weight
            };
            pool.push((m, theta, w));
        }
    }
    let ws: Vec<f64> = pool.iter().map(|x| x.2).collect();
    let total: f64 = ws.iter().sum();
    let sims: Vec<Vec<f64>> = (0..PREDICTIVE_RUNS as u64)
        .into_par_iter()
        .map_init(crate::sim::Workspace::default, |scratch, i| {
            let mut rng =
                analysis_stream(em.seed, AnalysisPurpose::InferProposal, abc::key(0xFFFF, i));
            let u = unit(&mut rng) * total;
            let mut acc = 0.0;
            let mut j = pool.len() - 1;
            for (k, w) in ws.iter().enumerate() {
                acc += w;
                if u < acc {
                    j = k;
                    break;
                }
            }
            let (m, theta, _) = &pool[j];
            abc::AbcModel::simulate(em, *m, theta, abc::key(0xFFFF, i), scratch).summaries
        })
        .collect();
    let ones = vec![1.0; sims.len()];
    em.observed
        .statistics
        .iter()
        .enumerate()
        .map(|(j, s)| {
            let vals: Vec<f64> = sims.iter().map(|x| x[j]).collect();
            let simulated = Interval::of(&vals, &ones);
            let observed = em.observed.values[j];
            Predictive {
                statistic: s.name(scenario),
                observed,
                simulated,
                rank: posterior::rank(&vals, &ones, observed),
                inside90: simulated.contains90(observed),
            }
        })
        .collect()
}

fn pct(x: f64) -> String {
    format!("{:.1} %", 100.0 * x)
}

fn count(x: f64) -> String {
    let r = x.round();
    if r.abs() >= 1e6 {
        format!("{:.2} M", r / 1e6)
    } else if r.abs() >= 1e4 {
        format!("{:.0} k", r / 1e3)
    } else {
        format!("{r:.0}")
    }
}

/// The start of the reading's warning when most of a station-file fit's posterior is
/// Klimek-type fraud ([`klimek_probability`]): what the pipeline's synthetic check measured.
pub const KLIMEK_LOW: &str = "Most of the posterior is Klimek-type fraud (many stations moved a little), which the honest model fitted to a station file partly takes for honest spread: in the synthetic check of docs/inference.md (\"A candidate whose fraud follows turnout\") the 90 % intervals contained the truth in 18 of 24 files, the misses below it;";

/// The posterior probability of the models with a Klimek-type mechanism (a parameter
/// `….incremental`, which only Klimek's model has).
fn klimek_probability(r: &Report) -> f64 {
    r.models
        .iter()
        .filter(|m| {
            m.parameters
                .iter()
                .any(|p| p.name.ends_with(".incremental"))
        })
        .map(|m| m.probability)
        .sum()
}

/// The plain-words reading of a report.
pub fn reading(r: &Report) -> Vec<String> {
    let h = &r.provenance.hypothesis;
    let mut out = Vec::new();
    match r.status {
        Status::Interrupted => {
            out.push("The inference stopped before its first generation was complete: there is no result.".into());
            return out;
        }
        Status::NotReproduced => {
            out.push(format!(
                "No candidate reproduces the observed result under the hypothesis `{h}`: after {} simulated elections the closest stay {:.1} scale units away (the limit is {:.0}). No posterior is reported: the mechanisms, their prior ranges or the hypothesis do not fit.",
                r.simulations, r.epsilon, r.reproduce_limit
            ));
            if !r.epsilon.is_finite() {
                out.push(
                    "The budget ended with only the first generation, drawn from the prior and accepted whole: there is no tolerance yet; give a larger --budget."
                        .into(),
                );
            } else if r.stop == abc::Stop::Budget {
                out.push(format!(
                    "The budget of simulations ended while the tolerance was still falling (acceptance {:.2} in the last generation): a larger --budget may reproduce it.",
                    r.acceptance
                ));
            }
        }
        Status::Posterior => {
            out.push(format!(
                "Under the hypothesis `{h}`, the candidates reproduce the observed result to within {:.2} scale units (1 = a typical honest run-to-run miss) after {} simulated elections.",
                r.epsilon, r.simulations
            ));
            if let Some(c) = r.cut {
                out.push(format!(
                    "The last generation's tolerance was {:.2}, above the limit; the posterior is its {} of {} particles within the limit (effective sample size {:.0}): fewer particles, so wider intervals.",
                    c.from, c.kept, c.of, c.ess
                ));
            }
        }
    }
    if r.status == Status::NotReproduced {
        // no posterior: the models' shares of the closest particles, for orientation only
        let shares: Vec<String> = r
            .models
            .iter()
            .map(|m| format!("`{}` {:.2}", m.name, m.probability))
            .collect();
        if !shares.is_empty() {
            out.push(format!(
                "Shares of the last generation's closest particles, for orientation only (not posterior probabilities, and no verdict on any mechanism): {}.",
                shares.join(", ")
            ));
        }
        return out;
    }
    for m in &r.models {
        let word = match m.verdict {
            Verdict::Supported => "supported",
            Verdict::Weak => "weakly supported",
            Verdict::Excluded => "excluded",
        };
        let mut line = format!(
            "`{}`: {word} (posterior probability {:.2})",
            m.name, m.probability
        );
        for p in &m.parameters {
            if let Some(i) = &p.posterior {
                line.push_str(&format!(
                    "; {} {:.3} (90 %: {:.3}–{:.3}, prior {}–{})",
                    p.name, i.median, i.lo90, i.hi90, p.prior.0, p.prior.1
                ));
            }
        }
        line.push('.');
        out.push(line);
    }
    let get = |n: &str| r.derived.iter().find(|q| q.name == n).map(|q| q.interval);
    if let (Some(a), Some(t), Some(mv), Some(s)) = (
        get("votes_added"),
        get("turnout_added"),
        get("votes_moved"),
        get("seats_moved"),
    ) {
        out.push(format!(
            "Fraud added {} ballots (90 %: {}–{}), {} points of turnout (90 %: {}–{}), and moved {} votes from other lists (90 %: {}–{}); it moved {:.0} seats (90 %: {:.0}–{:.0}).",
            count(a.median),
            count(a.lo90),
            count(a.hi90),
            pct(t.median).trim_end_matches(" %"),
            pct(t.lo90).trim_end_matches(" %"),
            pct(t.hi90).trim_end_matches(" %"),
            count(mv.median),
            count(mv.lo90),
            count(mv.hi90),
            s.median,
            s.lo90,
            s.hi90
        ));
        if let Some(q) = get("votes_in_question") {
            out.push(format!(
                "Votes in question (ballots added plus votes moved): {} (50 %: {}–{}; 90 %: {}–{}).",
                count(q.median),
                count(q.lo50),
                count(q.hi50),
                count(q.lo90),
                count(q.hi90)
            ));
            if r.provenance.honest_ballots_sd > 0.0 && klimek_probability(r) >= 0.5 {
                out.push(format!(
                    "{KLIMEK_LOW} so read the lower end, {}, as a bound on the votes in question, not the interval as an estimate.",
                    count(q.lo90)
                ));
            }
        }
        let [fewer, more] = r.provenance.honest_ballots_unidentified;
        if fewer > 0.0 || more > 0.0 {
            let why = match (fewer > 0.0, more > 0.0) {
                (true, true) => {
                    "the fitted mixture's honest and moved stations overlap or are the wrong way round, and most stations fell in its moved part"
                }
                (true, false) => {
                    "the fitted mixture's honest and moved stations overlap or are the wrong way round, so fraud that moved most stations looks like a higher honest turnout"
                }
                _ => {
                    "most stations fell in the fitted mixture's moved part, so the honest level rests on a minority of them and the file does not tell which cluster is honest"
                }
            };
            out.push(format!(
                "The station file does not identify how many of its ballots are honest ({why}): the ballots added are bounded, from {} to {}, not estimated; read the median {} as the fitted model's value only.",
                count(a.lo90),
                count(a.hi90),
                count(a.median)
            ));
        }
        if let Some(m) = r.derived.iter().find(|q| q.name == "votes_moved") {
            let [fewer, more] = r.provenance.honest_moved_unidentified;
            if fewer > 0.0 || more > 0.0 {
                let q = m.interval;
                out.push(format!(
                    "Nor does it identify the leader's honest share: the votes moved from other lists are bounded, from {} to {}, not estimated.",
                    count(q.lo90),
                    count(q.hi90)
                ));
            }
        }
        let gains: Vec<String> = r
            .derived
            .iter()
            .filter(|q| q.name.starts_with("total_seats_moved.") && q.interval.median.abs() >= 0.5)
            .map(|q| {
                format!(
                    "{} {:+.0} (90 %: {:+.0} to {:+.0})",
                    q.name.trim_start_matches("total_seats_moved."),
                    q.interval.median,
                    q.interval.lo90,
                    q.interval.hi90
                )
            })
            .collect();
        if !gains.is_empty() {
            out.push(format!("Seats gained or lost: {}.", gains.join(", ")));
        }
    }
    let off: Vec<&Predictive> = r.predictive.iter().filter(|p| !p.inside90).collect();
    if !off.is_empty() {
        out.push(format!(
            "Outside the posterior predictive 90 % range: {}.",
            off.iter()
                .map(|p| format!(
                    "{} (observed {:.4}, simulated {:.4}–{:.4})",
                    p.statistic, p.observed, p.simulated.lo90, p.simulated.hi90
                ))
                .collect::<Vec<_>>()
                .join("; ")
        ));
    }
    if let Some(t) = &r.truth {
        let missed: Vec<String> = t
            .parameters
            .iter()
            .chain(&t.derived)
            .filter(|v| v.covered90 == Some(false))
            .map(|v| format!("{} (true {})", v.name, v.value))
            .collect();
        out.push(format!(
            "Synthetic election with known fraud `{}`: {}.",
            t.model,
            if missed.is_empty() {
                "every 90 % interval contains the truth".to_string()
            } else {
                format!("90 % intervals missing the truth: {}", missed.join(", "))
            }
        ));
    }
    if r.models.len() > 1 {
        out.push("Model probabilities from ABC depend on the summary statistics compared (Robert et al. 2011): read them as which mechanisms can produce the figures compared, not as proof of one.".into());
    }
    out
}
