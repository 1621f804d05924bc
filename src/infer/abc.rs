//! Sequential Monte Carlo approximate Bayesian computation with model choice, over any simulator.
//!
//! The algorithm is population Monte Carlo ABC (Beaumont, Cornuet, Marin & Robert 2009,
//! *Biometrika* 96:983) with the model-choice extension of Toni, Welch, Strelkowa, Ipsen &
//! Stumpf (2009, *J. R. Soc. Interface* 6:187) and the adaptive tolerance of Del Moral, Doucet &
//! Jasra (2012, *Stat. Comput.* 22:1009) in its common quantile form:
//!
//! 1. generation 0: `particles` draws from the prior (model uniform, parameters uniform in their
//!    ranges), each simulated; all kept with equal weight;
//! 2. generation t: the tolerance ε_t is the `quantile` of the previous generation's distances;
//!    proposals pick a model by its current posterior probability, a particle of that model by
//!    weight, and move each parameter by a normal kernel truncated to the prior's range with
//!    variance twice the model's weighted variance (Beaumont et al.; or all parameters together,
//!    [`Kernel::Covariance`]); a proposal is kept when its
//!    distance is ≤ ε_t, until `particles` are kept; weights are prior ÷ the proposal's mixture
//!    density (Toni et al., eq. 3 with the model kernel the identity), normalised;
//! 3. stop when the budget of simulations would be exceeded (the unfinished generation is
//!    dropped, or kept with [`Settings::keep_partial`] when it has a quarter of its particles),
//!    when a generation's acceptance rate falls below `min_acceptance` (further
//!    generations cost more than they gain), when the tolerance no longer falls, or after
//!    `max_generations`.
//!
//! Determinism: proposal k of generation t draws from its own stream `(seed, t, k)`, and the
//! simulation of it is keyed by the same pair; proposals are simulated in parallel in batches and
//! kept in index order, so the result does not depend on the thread count. A run continued from
//! the [`State`] an earlier one reached after a generation ([`run_from`]) gives the result of the
//! uninterrupted run: the state is everything a generation reads besides the streams. No I/O,
//! no clock.

use crate::rng::{AnalysisPurpose, analysis_stream, unit};
use crate::stats::{TruncatedNormal, normal_pdf, quantile};
use rayon::prelude::*;
use std::sync::atomic::{AtomicBool, Ordering};

/// A model the ABC can fit: named parameter ranges (uniform priors) and a simulator.
pub trait AbcModel: Sync {
    /// Per-thread scratch space reused between simulations.
    type Scratch: Send + Default;
    /// The candidate models: each a list of parameter ranges `(lo, hi)` with `lo < hi`.
    fn spaces(&self) -> &[Vec<(f64, f64)>];
    /// Whether `theta` is in the support of model `m`'s prior (beyond the box: e.g. Klimek's
    /// incremental + extreme ≤ 1).
    fn admissible(&self, _m: usize, _theta: &[f64]) -> bool {
        true
    }
    /// Simulates model `m` at `theta`; `key` identifies the simulation (its random streams).
    fn simulate(&self, m: usize, theta: &[f64], key: u64, scratch: &mut Self::Scratch) -> Draw;
    /// The distance of simulated summaries from the observed ones.
    fn distance(&self, summaries: &[f64]) -> f64;
}

/// What one simulation gives: summary statistics (compared with the observed ones) and derived
/// quantities (what the fraud did, e.g. votes added; reported, never compared).
#[derive(Clone, Debug, PartialEq)]
pub struct Draw {
    pub summaries: Vec<f64>,
    pub derived: Vec<f64>,
}

/// One particle of a population.
#[derive(Clone, Debug, PartialEq)]
pub struct Particle {
    pub model: usize,
    pub theta: Vec<f64>,
    pub draw: Draw,
    pub distance: f64,
    /// Normalised over the whole population.
    pub weight: f64,
}

/// How hard to try.
#[derive(Clone, Copy, Debug)]
pub struct Settings {
    /// Particles per generation.
    pub particles: usize,
    /// The most simulations in all.
    pub budget: u64,
    /// The quantile of the previous distances that sets the next tolerance.
    pub quantile: f64,
    /// Stop after a generation that kept fewer than this share of its proposals.
    pub min_acceptance: f64,
    pub max_generations: usize,
    pub seed: u64,
    /// The perturbation kernel.
    pub kernel: Kernel,
    /// Keep the generation the budget ended in, when it has at least a quarter of its particles
    /// (its accepted proposals are as valid as a full population's, only fewer), instead of
    /// dropping it.
    pub keep_partial: bool,
}

/// How a proposal moves a particle's parameters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kernel {
    /// Each parameter on its own: a normal truncated to its prior range, with variance twice the
    /// model's weighted variance of it (Beaumont et al. 2009). The model is drawn again when a
    /// move is not admissible.
    #[default]
    Axes,
    /// All parameters together: a multivariate normal with twice the model's weighted covariance
    /// matrix (the multivariate form of Beaumont et al.'s kernel; Filippi, Barnes, Cornebise &
    /// Stumpf 2013, *Stat. Appl. Genet. Mol. Biol.* 12:87), moves outside the prior's support
    /// drawn again within the model, and its density divided by the share of the kernels' mass
    /// inside the support. Follows a ridge of parameters that trade off (stuffing's rate and its
    /// share of stations), where moves along each axis alone are mostly rejected.
    Covariance,
}

impl Settings {
    /// Defaults for `particles` and `budget`: the median as next tolerance, stop below 3 %
    /// acceptance or after 30 generations.
    pub fn new(particles: usize, budget: u64, seed: u64) -> Settings {
        Settings {
            particles,
            budget,
            quantile: 0.5,
            min_acceptance: 0.03,
            max_generations: 30,
            seed,
            kernel: Kernel::Axes,
            keep_partial: false,
        }
    }
}

/// One finished generation.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Generation {
    /// The tolerance (infinite for generation 0, written as null in JSON).
    pub epsilon: f64,
    /// Proposals looked at until the population was full (simulated ones beyond it are in
    /// `simulated`).
    pub proposed: u64,
    pub simulated: u64,
    pub acceptance: f64,
    /// Posterior probability of each model after this generation.
    pub model_probabilities: Vec<f64>,
    /// Effective sample size of the population, (Σw)² / Σw².
    pub ess: f64,
}

/// Why the sequence stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stop {
    /// The next generation would have exceeded the budget of simulations.
    Budget,
    /// The last generation kept fewer proposals than `min_acceptance`.
    Acceptance,
    /// The tolerance stopped falling (distances tied at their minimum).
    Tolerance,
    Generations,
    /// The stop flag was raised.
    Interrupted,
}

/// The outcome: the last full population and the history.
#[derive(Clone, Debug)]
pub struct AbcResult {
    pub population: Vec<Particle>,
    pub generations: Vec<Generation>,
    pub simulations: u64,
    pub stop: Stop,
    /// The last population cut at a smaller tolerance ([`AbcResult::cut_at`]).
    pub cut: Option<Cut>,
}

/// The last population restricted to the particles within a smaller tolerance than its own.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Cut {
    /// The last generation's tolerance…
    pub from: f64,
    /// …and the one the population was cut at.
    pub to: f64,
    /// Particles kept, of how many, and their effective sample size.
    pub kept: usize,
    pub of: usize,
    pub ess: f64,
}

impl AbcResult {
    /// The tolerance of the last population (after a cut, the cut's).
    pub fn epsilon(&self) -> f64 {
        if let Some(c) = self.cut {
            return c.to;
        }
        self.generations.last().map_or(f64::INFINITY, |g| g.epsilon)
    }

    /// Restricts the last population to its particles within `to` (< its tolerance), weights
    /// renormalised, when their effective sample size is at least `min_ess`; returns whether it
    /// did. The weights of a population at tolerance ε are prior ÷ proposal density, the same at
    /// any smaller tolerance: the particles within `to` are a weighted sample of the ABC
    /// posterior at `to` (rejection applied to the last generation once more), only fewer.
    pub fn cut_at(&mut self, to: f64, min_ess: f64) -> bool {
        let from = self.epsilon();
        if self.cut.is_some() || self.population.is_empty() || from <= to {
            return false;
        }
        let kept: Vec<Particle> = self
            .population
            .iter()
            .filter(|x| x.distance <= to)
            .cloned()
            .collect();
        let total: f64 = kept.iter().map(|x| x.weight).sum();
        let e = ess(kept.iter().map(|x| x.weight));
        if kept.is_empty() || total <= 0.0 || e < min_ess {
            return false;
        }
        self.cut = Some(Cut {
            from,
            to,
            kept: kept.len(),
            of: self.population.len(),
            ess: e,
        });
        self.population = kept
            .into_iter()
            .map(|x| Particle {
                weight: x.weight / total,
                ..x
            })
            .collect();
        true
    }
}

/// Posterior model probabilities of a population (sums of its weights by model).
pub fn model_probabilities(pop: &[Particle], n_models: usize) -> Vec<f64> {
    let mut p = vec![0.0; n_models];
    for x in pop {
        p[x.model] += x.weight;
    }
    p
}

/// Effective sample size of weights.
pub fn ess(weights: impl Iterator<Item = f64>) -> f64 {
    let (s, s2) = weights.fold((0.0, 0.0), |(s, s2), w| (s + w, s2 + w * w));
    if s2 > 0.0 { s * s / s2 } else { 0.0 }
}

/// The stream index of proposal `k` of generation `t` (also its simulation key).
pub fn key(t: usize, k: u64) -> u64 {
    ((t as u64 + 1) << 32) | (k & 0xFFFF_FFFF)
}

/// Per model: the perturbation kernel's standard deviations (twice the weighted variance,
/// floored at 1 % of the range so a collapsed model can still move).
fn kernel_sds<M: AbcModel>(abc: &M, pop: &[Particle]) -> Vec<Vec<f64>> {
    abc.spaces()
        .iter()
        .enumerate()
        .map(|(m, space)| {
            let members: Vec<&Particle> = pop.iter().filter(|x| x.model == m).collect();
            let wsum: f64 = members.iter().map(|x| x.weight).sum();
            space
                .iter()
                .enumerate()
                .map(|(d, &(lo, hi))| {
                    let floor = 0.01 * (hi - lo);
                    if wsum <= 0.0 {
                        return floor;
                    }
                    let mean = members.iter().map(|x| x.weight * x.theta[d]).sum::<f64>() / wsum;
                    let var = members
                        .iter()
                        .map(|x| x.weight * (x.theta[d] - mean).powi(2))
                        .sum::<f64>()
                        / wsum;
                    (2.0 * var).sqrt().max(floor)
                })
                .collect()
        })
        .collect()
}

/// One model's multivariate kernel ([`Kernel::Covariance`]): the lower Cholesky factor of its
/// covariance (row-major, d × d) and the log of its normal density's constant times the share of
/// the kernels' mass inside the prior's support.
#[derive(Clone, Debug)]
struct Mvn {
    chol: Vec<f64>,
    log_norm: f64,
}

/// Quasi-random standard normal points per particle for the support share of [`Mvn`].
const SUPPORT_POINTS: usize = 64;

/// Lower Cholesky factor of a symmetric positive-definite `d × d` matrix (row-major); `None`
/// when it is not positive definite.
fn cholesky(a: &[f64], d: usize) -> Option<Vec<f64>> {
    let mut l = vec![0.0; d * d];
    for i in 0..d {
        for j in 0..=i {
            let s: f64 = (0..j).map(|k| l[i * d + k] * l[j * d + k]).sum();
            if i == j {
                let v = a[i * d + i] - s;
                if v <= 0.0 || !v.is_finite() {
                    return None;
                }
                l[i * d + i] = v.sqrt();
            } else {
                l[i * d + j] = (a[i * d + j] - s) / l[j * d + j];
            }
        }
    }
    Some(l)
}

/// `centre + L z`.
fn mvn_point(centre: &[f64], chol: &[f64], z: &[f64]) -> Vec<f64> {
    let d = centre.len();
    (0..d)
        .map(|i| centre[i] + (0..=i).map(|k| chol[i * d + k] * z[k]).sum::<f64>())
        .collect()
}

fn in_support<M: AbcModel>(abc: &M, m: usize, theta: &[f64]) -> bool {
    theta
        .iter()
        .zip(&abc.spaces()[m])
        .all(|(v, &(lo, hi))| (lo..=hi).contains(v))
        && abc.admissible(m, theta)
}

/// Per model: the multivariate kernel of [`Kernel::Covariance`], twice the weighted covariance
/// of its particles with each variance floored at (1 % of the range)², and the share of the
/// kernels' mass inside the support (quasi-Monte Carlo, [`SUPPORT_POINTS`] Halton points per
/// particle, so deterministic).
fn kernel_mvns<M: AbcModel>(abc: &M, pop: &[Particle]) -> Vec<Mvn> {
    const BASES: [u64; 12] = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37];
    abc.spaces()
        .iter()
        .enumerate()
        .map(|(m, space)| {
            let d = space.len();
            let members: Vec<&Particle> = pop.iter().filter(|x| x.model == m).collect();
            let wsum: f64 = members.iter().map(|x| x.weight).sum();
            let mean: Vec<f64> = (0..d)
                .map(|i| members.iter().map(|x| x.weight * x.theta[i]).sum::<f64>() / wsum)
                .collect();
            let mut cov = vec![0.0; d * d];
            for i in 0..d {
                for j in 0..d {
                    cov[i * d + j] = if wsum > 0.0 {
                        2.0 * members
                            .iter()
                            .map(|x| x.weight * (x.theta[i] - mean[i]) * (x.theta[j] - mean[j]))
                            .sum::<f64>()
                            / wsum
                    } else {
                        0.0
                    };
                }
            }
            for (i, &(lo, hi)) in space.iter().enumerate() {
                let floor = (0.01 * (hi - lo)).powi(2);
                cov[i * d + i] = cov[i * d + i].max(floor);
            }
            let chol = cholesky(&cov, d).unwrap_or_else(|| {
                // collinear particles: the axes' variances alone
                let diag: Vec<f64> = (0..d * d)
                    .map(|k| if k % (d + 1) == 0 { cov[k] } else { 0.0 })
                    .collect();
                cholesky(&diag, d).unwrap_or_else(|| vec![1.0; d * d])
            });
            let zs: Vec<Vec<f64>> = (1..=SUPPORT_POINTS as u64)
                .map(|i| {
                    (0..d)
                        .map(|k| {
                            crate::stats::normal_quantile(crate::stats::halton(
                                i,
                                BASES[k % BASES.len()],
                            ))
                        })
                        .collect()
                })
                .collect();
            let inside: f64 = if wsum > 0.0 {
                members
                    .iter()
                    .map(|x| {
                        let hits = zs
                            .iter()
                            .filter(|z| in_support(abc, m, &mvn_point(&x.theta, &chol, z)))
                            .count();
                        x.weight * hits as f64 / SUPPORT_POINTS as f64
                    })
                    .sum::<f64>()
                    / wsum
            } else {
                1.0
            };
            let log_det: f64 = (0..d).map(|i| chol[i * d + i].ln()).sum();
            let log_norm = 0.5 * d as f64 * (2.0 * std::f64::consts::PI).ln()
                + log_det
                + inside.max(1.0 / SUPPORT_POINTS as f64).ln();
            Mvn { chol, log_norm }
        })
        .collect()
}

/// Density of the multivariate kernel `k` centred at `centre` at `theta` (inside the support).
fn mvn_density(theta: &[f64], centre: &[f64], k: &Mvn) -> f64 {
    let d = theta.len();
    // forward substitution: L y = theta − centre
    let mut y = vec![0.0; d];
    for i in 0..d {
        let s: f64 = (0..i).map(|j| k.chol[i * d + j] * y[j]).sum();
        y[i] = (theta[i] - centre[i] - s) / k.chol[i * d + i];
    }
    (-0.5 * y.iter().map(|v| v * v).sum::<f64>() - k.log_norm).exp()
}

/// Density of the truncated-normal kernel centred at `centre` at `theta`.
fn kernel_density(theta: &[f64], centre: &[f64], sds: &[f64], space: &[(f64, f64)]) -> f64 {
    let mut d = 1.0;
    for i in 0..theta.len() {
        let (lo, hi) = space[i];
        let s = sds[i];
        let mass = crate::stats::normal_cdf((hi - centre[i]) / s)
            - crate::stats::normal_cdf((lo - centre[i]) / s);
        d *= normal_pdf((theta[i] - centre[i]) / s) / (s * mass.max(1e-300));
    }
    d
}

fn prior_density(space: &[(f64, f64)]) -> f64 {
    space.iter().map(|&(lo, hi)| 1.0 / (hi - lo)).product()
}

/// The previous generation, as proposals see it.
#[derive(Clone, Copy)]
struct Previous<'p> {
    pop: &'p [Particle],
    /// Model probabilities.
    probs: &'p [f64],
    /// Kernel standard deviations per model and parameter.
    sds: &'p [Vec<f64>],
    /// The multivariate kernels per model, with [`Kernel::Covariance`].
    mvns: Option<&'p [Mvn]>,
}

/// A proposal of generation `t` (`None` when no admissible move was found).
fn propose<M: AbcModel>(
    abc: &M,
    t: usize,
    k: u64,
    seed: u64,
    prev: Option<Previous<'_>>,
) -> Option<(usize, Vec<f64>)> {
    let mut rng = analysis_stream(seed, AnalysisPurpose::InferProposal, key(t, k));
    let spaces = abc.spaces();
    if let Some(Previous {
        pop,
        probs,
        mvns: Some(mvns),
        ..
    }) = prev
    {
        // the model once, then moves within it until one is in the support
        use rand_distr::{Distribution, StandardNormal};
        let m = pick(probs, unit(&mut rng));
        let members: Vec<&Particle> = pop.iter().filter(|x| x.model == m).collect();
        let ws: Vec<f64> = members.iter().map(|x| x.weight).collect();
        for _ in 0..100 {
            let j = pick(&ws, unit(&mut rng));
            let z: Vec<f64> = (0..spaces[m].len())
                .map(|_| StandardNormal.sample(&mut rng))
                .collect();
            let theta = mvn_point(&members[j].theta, &mvns[m].chol, &z);
            if in_support(abc, m, &theta) {
                return Some((m, theta));
            }
        }
        return None;
    }
    for _ in 0..100 {
        let (m, theta): (usize, Vec<f64>) = match prev {
            None => {
                let m = ((unit(&mut rng) * spaces.len() as f64) as usize).min(spaces.len() - 1);
                let theta = spaces[m]
                    .iter()
                    .map(|&(lo, hi)| lo + unit(&mut rng) * (hi - lo))
                    .collect();
                (m, theta)
            }
            Some(Previous {
                pop, probs, sds, ..
            }) => {
                let m = pick(probs, unit(&mut rng));
                let members: Vec<&Particle> = pop.iter().filter(|x| x.model == m).collect();
                let ws: Vec<f64> = members.iter().map(|x| x.weight).collect();
                let j = pick(&ws, unit(&mut rng));
                let theta = spaces[m]
                    .iter()
                    .enumerate()
                    .map(|(d, &(lo, hi))| {
                        TruncatedNormal::new(members[j].theta[d], sds[m][d], lo, hi)
                            .at(unit(&mut rng))
                    })
                    .collect();
                (m, theta)
            }
        };
        if abc.admissible(m, &theta) {
            return Some((m, theta));
        }
    }
    None
}

/// Index drawn from non-negative weights with uniform `u` (the last positive one on rounding).
fn pick(weights: &[f64], u: f64) -> usize {
    let total: f64 = weights.iter().sum();
    let mut acc = 0.0;
    let mut last = 0;
    for (i, &w) in weights.iter().enumerate() {
        if w > 0.0 {
            last = i;
            acc += w / total;
            if u < acc {
                return i;
            }
        }
    }
    last
}

/// Where a run stands after a complete generation: everything it needs to continue
/// ([`run_from`]), and what a checkpoint of `tamga infer` stores ([`super::checkpoint`]).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct State {
    /// The last generation's particles (a full population).
    pub population: Vec<Particle>,
    pub generations: Vec<Generation>,
    /// Simulations so far: the sum of the generations' `simulated`.
    pub simulations: u64,
    /// Whether the budget cut a batch of these generations short (`remaining` below the
    /// particles). Then the same generations under a larger budget would have counted a whole
    /// batch: the state continues only under the budget it was made with.
    pub budget_cut: bool,
}

impl State {
    /// Whether `run_from` can continue from this state under `s` with `abc`: a full population
    /// of particles of `abc`'s models inside their priors' supports, with finite non-negative
    /// weights that sum to more than zero, distances within the last tolerance, summaries and
    /// derived quantities of one length each; at least one and at most `max_generations`
    /// generations with one model probability per model; simulations the sum of theirs. The
    /// error says what is wrong (a state read from a file that was edited).
    pub fn check<M: AbcModel>(&self, abc: &M, s: &Settings) -> Result<(), String> {
        let spaces = abc.spaces();
        let n = s.particles.max(2);
        let Some(last) = self.generations.last() else {
            return Err("it holds no generation".into());
        };
        if self.generations.len() > s.max_generations {
            return Err(format!(
                "it holds {} generations, more than the {} a run makes",
                self.generations.len(),
                s.max_generations
            ));
        }
        let mut sum = 0u64;
        for (t, g) in self.generations.iter().enumerate() {
            if g.model_probabilities.len() != spaces.len() {
                return Err(format!(
                    "generation {t} has {} model probabilities for {} models",
                    g.model_probabilities.len(),
                    spaces.len()
                ));
            }
            if g.proposed > g.simulated {
                return Err(format!(
                    "generation {t} looked at {} proposals of {} simulated",
                    g.proposed, g.simulated
                ));
            }
            sum = sum.saturating_add(g.simulated);
        }
        if sum != self.simulations {
            return Err(format!(
                "its generations simulated {sum} elections, but it counts {}",
                self.simulations
            ));
        }
        if self.population.len() != n {
            return Err(format!(
                "its population has {} particles, not {n}",
                self.population.len()
            ));
        }
        let first = &self.population[0].draw;
        let mut total = 0.0;
        for (i, x) in self.population.iter().enumerate() {
            let space = spaces.get(x.model).ok_or_else(|| {
                format!("particle {i} is of model {}, of {}", x.model, spaces.len())
            })?;
            if x.theta.len() != space.len() || !in_support(abc, x.model, &x.theta) {
                return Err(format!(
                    "particle {i}'s parameters are not in model {}'s prior",
                    x.model
                ));
            }
            if x.draw.summaries.len() != first.summaries.len()
                || x.draw.derived.len() != first.derived.len()
            {
                return Err(format!(
                    "particle {i} has another number of summaries or derived quantities than particle 0"
                ));
            }
            if !(x.weight.is_finite() && x.weight >= 0.0) {
                return Err(format!("particle {i}'s weight is {}", x.weight));
            }
            if x.distance.is_nan() || x.distance > last.epsilon {
                return Err(format!(
                    "particle {i}'s distance {} is not within the tolerance {}",
                    x.distance, last.epsilon
                ));
            }
            total += x.weight;
        }
        if !(total > 0.0 && total.is_finite()) {
            return Err(format!("its weights sum to {total}"));
        }
        Ok(())
    }
}

/// Runs ABC-SMC from the prior: [`run_from`] with no state and no checkpoints.
pub fn run<M: AbcModel>(
    abc: &M,
    s: &Settings,
    stop: &AtomicBool,
    progress: &mut dyn FnMut(u64, &[Generation]),
) -> AbcResult {
    run_from(abc, s, None, stop, progress, &mut |_| {})
}

/// Runs ABC-SMC, from the prior or from `from` (a state an earlier run with the same model and
/// settings passed to `on_generation`; checked with [`State::check`] by the caller). The result
/// is the one an uninterrupted run would give: proposals are keyed by `(generation, k)` and the
/// state holds everything else a generation reads, the simulations counted against the budget
/// included. `on_generation` is called after every full generation with the state to continue
/// from; `progress(simulations, generations)` after every batch (and first, with the state's
/// count, when continuing), from this thread; `stop` ends the run after the batch in progress.
pub fn run_from<M: AbcModel>(
    abc: &M,
    s: &Settings,
    from: Option<State>,
    stop: &AtomicBool,
    progress: &mut dyn FnMut(u64, &[Generation]),
    on_generation: &mut dyn FnMut(&State),
) -> AbcResult {
    let n_models = abc.spaces().len();
    let n = s.particles.max(2);
    let mut st = from.unwrap_or_default();
    if !st.generations.is_empty() {
        progress(st.simulations, &st.generations);
    }
    let mut epsilon = st.generations.last().map_or(f64::INFINITY, |g| g.epsilon);
    let outcome = loop {
        let t = st.generations.len();
        // how the last generation ended: with fewer particles than a population (the budget
        // ended in it), or with too low an acceptance
        if let Some(g) = st.generations.last() {
            if st.population.len() < n {
                break Stop::Budget;
            }
            if t > 1 && g.acceptance < s.min_acceptance {
                break Stop::Acceptance;
            }
        }
        if t >= s.max_generations {
            break Stop::Generations;
        }
        if t > 0 {
            let d: Vec<f64> = st.population.iter().map(|x| x.distance).collect();
            let next = quantile(&d, s.quantile);
            if next >= epsilon || !next.is_finite() {
                break Stop::Tolerance;
            }
            epsilon = next;
        }
        let population = &st.population;
        let probs = model_probabilities(population, n_models);
        let sds = kernel_sds(abc, population);
        let mvns = (s.kernel == Kernel::Covariance && t > 0).then(|| kernel_mvns(abc, population));
        let prev = (t > 0).then_some(Previous {
            pop: population,
            probs: &probs,
            sds: &sds,
            mvns: mvns.as_deref(),
        });
        let mut kept: Vec<Particle> = Vec::with_capacity(n);
        let mut proposed = 0u64;
        let mut simulated = 0u64;
        let mut next_k = 0u64;
        let mut out_of_budget = false;
        let mut cut = false;
        while kept.len() < n {
            if stop.load(Ordering::Relaxed) {
                break;
            }
            let remaining = s.budget.saturating_sub(st.simulations);
            if remaining == 0 {
                out_of_budget = true;
                break;
            }
            let batch = (n as u64).min(remaining);
            cut |= batch < n as u64;
            let ks: Vec<u64> = (next_k..next_k + batch).collect();
            next_k += batch;
            let results: Vec<Option<Particle>> = ks
                .par_iter()
                .map_init(M::Scratch::default, |scratch, &k| {
                    let (m, theta) = propose(abc, t, k, s.seed, prev)?;
                    let draw = abc.simulate(m, &theta, key(t, k), scratch);
                    let distance = abc.distance(&draw.summaries);
                    Some(Particle {
                        model: m,
                        theta,
                        draw,
                        distance,
                        weight: 1.0,
                    })
                })
                .collect();
            st.simulations += batch;
            simulated += batch;
            for r in results {
                if kept.len() >= n {
                    break;
                }
                proposed += 1;
                if let Some(x) = r.filter(|x| x.distance <= epsilon) {
                    kept.push(x);
                }
            }
            progress(st.simulations, &st.generations);
        }
        let partial = out_of_budget && s.keep_partial && t > 0 && 4 * kept.len() >= n;
        if kept.len() < n && !partial {
            break if out_of_budget {
                Stop::Budget
            } else {
                Stop::Interrupted
            };
        }
        // importance weights: prior ÷ proposal density (Toni et al. 2009)
        if t > 0 {
            let spaces = abc.spaces();
            for x in kept.iter_mut() {
                let space = &spaces[x.model];
                let q: f64 = population
                    .iter()
                    .filter(|y| y.model == x.model)
                    .map(|y| {
                        y.weight
                            * match &mvns {
                                Some(k) => mvn_density(&x.theta, &y.theta, &k[x.model]),
                                None => kernel_density(&x.theta, &y.theta, &sds[x.model], space),
                            }
                    })
                    .sum();
                x.weight = prior_density(space) / n_models as f64 / q.max(1e-300);
            }
        }
        let total: f64 = kept.iter().map(|x| x.weight).sum();
        for x in kept.iter_mut() {
            x.weight /= total;
        }
        let full = kept.len() == n;
        let acceptance = kept.len() as f64 / proposed.max(1) as f64;
        st.population = kept;
        st.generations.push(Generation {
            epsilon,
            proposed,
            simulated,
            acceptance,
            model_probabilities: model_probabilities(&st.population, n_models),
            ess: ess(st.population.iter().map(|x| x.weight)),
        });
        if full {
            st.budget_cut |= cut;
            on_generation(&st);
        }
    };
    AbcResult {
        population: st.population,
        generations: st.generations,
        simulations: st.simulations,
        stop: outcome,
        cut: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU64;

    /// Two models of one and two parameters; a simulation is the parameters' sum plus noise
    /// drawn from the simulation's key, and the observed sum is 0.6. Counts its simulations.
    struct Toy {
        spaces: Vec<Vec<(f64, f64)>>,
        calls: AtomicU64,
    }

    impl Toy {
        fn new() -> Toy {
            Toy {
                spaces: vec![vec![(0.0, 1.0)], vec![(0.0, 1.0), (0.0, 0.5)]],
                calls: AtomicU64::new(0),
            }
        }
    }

    impl AbcModel for Toy {
        type Scratch = ();
        fn spaces(&self) -> &[Vec<(f64, f64)>] {
            &self.spaces
        }
        fn simulate(&self, m: usize, theta: &[f64], key: u64, _: &mut ()) -> Draw {
            self.calls.fetch_add(1, Ordering::Relaxed);
            let mut rng = analysis_stream(7, AnalysisPurpose::InferProposal, key ^ 0xABCD);
            let noise = 0.05 * (unit(&mut rng) - 0.5);
            let s: f64 = theta.iter().sum::<f64>() + noise;
            Draw {
                summaries: vec![s, m as f64],
                derived: vec![s * 100.0],
            }
        }
        fn distance(&self, summaries: &[f64]) -> f64 {
            (summaries[0] - 0.6).abs()
        }
    }

    fn settings(kernel: Kernel, keep_partial: bool, budget: u64) -> Settings {
        Settings {
            kernel,
            keep_partial,
            ..Settings::new(40, budget, 11)
        }
    }

    /// A run and the state after each of its full generations.
    fn straight(abc: &Toy, s: &Settings) -> (AbcResult, Vec<State>) {
        let mut states = Vec::new();
        let r = run_from(
            abc,
            s,
            None,
            &AtomicBool::new(false),
            &mut |_, _| {},
            &mut |st| states.push(st.clone()),
        );
        (r, states)
    }

    fn same(a: &AbcResult, b: &AbcResult) -> bool {
        a.population == b.population
            && a.generations == b.generations
            && a.simulations == b.simulations
            && a.stop == b.stop
    }

    #[test]
    fn continuing_from_any_generation_gives_the_uninterrupted_run() {
        let mut stops = Vec::new();
        for (kernel, keep_partial, budget) in [
            (Kernel::Axes, false, 1500),
            (Kernel::Axes, true, 1500),
            (Kernel::Covariance, false, 1500),
            (Kernel::Covariance, true, 1500),
            (Kernel::Axes, false, 40_000),
            (Kernel::Covariance, true, 40_000),
        ] {
            let s = settings(kernel, keep_partial, budget);
            let toy = Toy::new();
            let (whole, states) = straight(&toy, &s);
            assert!(
                states.len() >= 3,
                "{kernel:?}: {} generations",
                states.len()
            );
            stops.push(whole.stop);
            // the states are the run's own, generation by generation
            for (t, st) in states.iter().enumerate() {
                assert_eq!(st.generations[..], whole.generations[..=t]);
                st.check(&toy, &s).expect("a run's state passes its check");
            }
            for st in &states {
                let toy = Toy::new();
                let mut first = None;
                let r = run_from(
                    &toy,
                    &s,
                    Some(st.clone()),
                    &AtomicBool::new(false),
                    &mut |sims, _| {
                        first.get_or_insert(sims);
                    },
                    &mut |_| {},
                );
                assert!(same(&r, &whole), "{kernel:?} from {}", st.generations.len());
                // only what was left is simulated, and progress starts at the state's count
                assert_eq!(
                    toy.calls.load(Ordering::Relaxed),
                    whole.simulations - st.simulations
                );
                assert_eq!(first, Some(st.simulations));
            }
        }
        // runs that ended with the budget and with a low acceptance, each continued
        assert!(stops.contains(&Stop::Budget) && stops.contains(&Stop::Acceptance));
    }

    #[test]
    fn a_state_of_a_smaller_budget_continues_into_the_larger_budgets_run() {
        for kernel in [Kernel::Axes, Kernel::Covariance] {
            let big = settings(kernel, true, 3000);
            let (whole, _) = straight(&Toy::new(), &big);
            let mut tried = 0;
            for budget in (200..1500).step_by(97) {
                let (_, states) = straight(&Toy::new(), &settings(kernel, true, budget));
                let Some(last) = states.last().filter(|st| !st.budget_cut) else {
                    continue;
                };
                tried += 1;
                let r = run_from(
                    &Toy::new(),
                    &big,
                    Some(last.clone()),
                    &AtomicBool::new(false),
                    &mut |_, _| {},
                    &mut |_| {},
                );
                assert!(same(&r, &whole), "{kernel:?}, budget {budget}");
            }
            assert!(tried >= 5, "{tried}");
        }
    }

    /// A generation filled in a batch the budget cut short counts only that batch: the same
    /// state under a larger budget gives another result than the larger budget's own run, which
    /// is why such a state is marked (and a checkpoint of it continues only under its budget).
    #[test]
    fn a_state_whose_batch_the_budget_cut_is_marked() {
        let big = settings(Kernel::Axes, false, 4000);
        let (whole, _) = straight(&Toy::new(), &big);
        let mut found = 0;
        for budget in 41..400 {
            let s = settings(Kernel::Axes, false, budget);
            let (_, states) = straight(&Toy::new(), &s);
            for st in states.iter().filter(|st| st.budget_cut) {
                found += 1;
                assert_eq!(st.simulations, budget, "cut only when the budget ran out");
                let r = run_from(
                    &Toy::new(),
                    &big,
                    Some(st.clone()),
                    &AtomicBool::new(false),
                    &mut |_, _| {},
                    &mut |_| {},
                );
                assert!(!same(&r, &whole), "budget {budget}");
            }
            for st in states.iter().filter(|st| !st.budget_cut) {
                let full: u64 = st.generations.iter().map(|g| g.simulated % 40).sum();
                assert_eq!(full, 0, "whole batches only");
            }
        }
        assert!(found > 0);
    }

    #[test]
    fn states_a_run_does_not_make_are_refused_without_panicking() {
        let toy = Toy::new();
        let s = settings(Kernel::Axes, false, 1500);
        let (_, states) = straight(&toy, &s);
        let good = states[1].clone();
        type Edit = fn(&mut State);
        let edits: [(&str, Edit); 12] = [
            ("no generation", |st| st.generations.clear()),
            ("particles", |st| {
                st.population.pop();
            }),
            ("model", |st| st.population[3].model = 2),
            ("prior", |st| st.population[3].theta[0] = 1.5),
            ("prior", |st| st.population[3].theta.push(0.1)),
            ("weight", |st| st.population[3].weight = f64::NAN),
            ("weights sum", |st| {
                st.population.iter_mut().for_each(|x| x.weight = 0.0)
            }),
            ("tolerance", |st| st.population[3].distance = 9.0),
            ("summaries", |st| {
                st.population[3].draw.summaries.pop();
            }),
            ("counts", |st| st.simulations += 1),
            ("model probabilities", |st| {
                st.generations[0].model_probabilities.push(0.0)
            }),
            ("proposals", |st| {
                st.generations[1].proposed = st.generations[1].simulated + 1
            }),
        ];
        for (what, edit) in edits {
            let mut st = good.clone();
            edit(&mut st);
            assert!(st.check(&toy, &s).is_err(), "{what} accepted");
        }
        let mut many = good.clone();
        many.generations = vec![good.generations[0].clone(); 31];
        assert!(many.check(&toy, &s).is_err());
        assert_eq!(good.check(&toy, &s), Ok(()));
    }
}
