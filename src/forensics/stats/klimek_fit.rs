//! The fit of the Klimek model to the two-dimensional turnout × share distribution, with station
//! bootstrap intervals, distinct optima, bound flags, goodness of fit and the votes the fitted
//! model moves or adds.
//!
//! Source of the model: Klimek, Yegorov, Hanel & Thurner, *PNAS* 109(41):16469–16473, 2012 (see
//! [`super::klimek`], whose simulator it fits). The estimation here is this project's own: the
//! published fitter matches 1-D share histograms after fixing the fair part at the share mode,
//! which is biased when fraud moves the mode and blind to the 2-D shape (issue 17 in the
//! project's tracker; docs/forensics.md).
//!
//! **Likelihood.** Stations are binned on a [`GRID`] × [`GRID`] grid of 2 % × 2 % cells over
//! (turnout, share), each spread over its four nearest cells by the same cloud-in-cell weights
//! as the model's pseudo-stations ([`smoothed_cells`]). Under the model a station falls in cell b with probability
//! p_b = w_0·F_b + w_i·I_b + w_e·E_b + w_u/[`GRID`]², where F is the fair part (truncated
//! normals in T and S, independent: its cell masses are exact differences of normal CDFs), I and
//! E the incremental- and extreme-fraud parts and the last term a uniform background for
//! stations the model cannot place (its weight w_u is reported: a goodness-of-fit measure). The
//! fit maximises the multinomial log-likelihood Σ_b n_b ln p_b over all eight model parameters
//! jointly: the fair part (τ, σ_τ, ν, σ_ν), θ and α by Nelder–Mead (multi-start), the mixture
//! weights for each of those by a projected Newton method (the likelihood is concave in the
//! weights). f_i = w_i/(1 − w_u), f_e = w_e/(1 − w_u).
//!
//! I and E come from pseudo-stations: fixed standard normals (z_T, z_S, z_x) per pseudo-station
//! (common random numbers; randomised quasi-Monte Carlo points, see `Pseudo::draw`), turned into T = τ + σ_τ z_T, S = ν + σ_ν z_S, x = θ|z_x| (incremental)
//! or x = 1 − 0.075|z_x| (extreme); where a truncation to [0, 1] binds, the points go through
//! the truncated normal's inverse CDF instead (none is dropped: dropping draws as they crossed
//! a bound made the likelihood jump, and the jumps moved f_e and θ by more than their sampling
//! error), and the frauded (T', S') of the model (continuous form of
//! [`super::klimek::StationDraws::realise`]) are spread over the cells by linear (cloud-in-cell)
//! weights — so the likelihood moves smoothly with the parameters; the fair part's cell masses
//! are widened by the same smoothing's variance (h²/6), so that fair part, fraud parts and the
//! (equally smoothed) observed stations are all binned alike.
//! Station sizes do not enter the likelihood: the model's fair part has no sampling noise beyond
//! the rounding of counts, which is well inside a cell for stations of ≥ 100 voters.
//!
//! **Uncertainty.** Parametric bootstrap: B replicates, each simulating the fitted model with
//! tamga's own simulator ([`super::klimek::simulate_stations`]: the real station sizes, counts rounded as the
//! model says) and drawing fresh pseudo-stations (so the interval includes the simulation error
//! of the likelihood), and fitted by the point fit's own procedure: the same starting rules
//! applied to the replicate's stations ([`starts`]; from the start of every competing optimum)
//! and the same search with the same effort ([`search`]). Starting the refits at the estimate
//! itself — the bootstrap's truth — made them scatter up to 2.5 times less than the point fit
//! does from the data's starts (the simulated likelihood is rough, and a search ends nearer
//! where it began), and the intervals too narrow (docs/forensics.md). The reported estimate is bias-corrected, 2θ̂ − mean(θ*), and the interval is the
//! basic bootstrap interval [2θ̂ − q₉₅(θ*), 2θ̂ − q₅(θ*)] (nominal 90 %), both kept within the
//! parameter's bounds; the standard error is the refits' standard deviation. The raw
//! maximum-likelihood value is reported beside it. A parametric bootstrap answers "how precise
//! is the fit if the model is right": where the model misfits (the goodness-of-fit warnings),
//! the intervals are too narrow for the data and say so only through that warning.
//!
//! **Distinct optima.** Every start is polished; solutions that differ in (f_i, f_e, α, ν, τ) by
//! more than [`distinct`]'s tolerances are kept apart and reported each with its deviance gap
//! 2(ℓ_best − ℓ) and the share of bootstrap replicates that land on it — never averaged.
//!
//! Streams: the point fit's pseudo-stations draw from `analysis_stream(seed, KlimekFit, 0)`,
//! bootstrap replicate b from `analysis_stream(seed, KlimekFit, 1 + b)`, the misfit null from
//! `analysis_stream(seed, KlimekImplied, 1)`; results are collected in index order.

use rand::RngExt;
use rayon::prelude::*;

use super::klimek::{
    EXTREME_SD, FairPart, KlimekError, KlimekParams, percent_histogram, share_of_stations_at_least,
    simulate_figures,
};
use super::stations::StationFigures;
use crate::rng::{AnalysisPurpose, StreamRng, analysis_stream};
use crate::stats::{halton, mean_sd, normal_cdf, normal_quantile_fast, quantile_sorted};

/// Cells per axis of the likelihood grid (2 % wide).
pub const GRID: usize = 50;
const CELLS: usize = GRID * GRID;

/// Nominal coverage of the reported intervals.
pub const COVERAGE: f64 = 0.90;

/// Search bounds of the six parameters the outer search moves (τ, σ_τ, ν, σ_ν, θ, α).
pub const BOUNDS: [(f64, f64); 6] = [
    (0.0, 1.0),
    (0.005, 0.5),
    (0.0, 1.0),
    (0.005, 0.5),
    (0.01, 2.0),
    (0.1, 10.0),
];
/// Names of those parameters, as reported.
pub const NAMES: [&str; 6] = [
    "turnout_mean",
    "turnout_sd",
    "share_mean",
    "share_sd",
    "incremental_sd",
    "alpha",
];

/// How much work a fit does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct FitEffort {
    /// Bootstrap replicates behind the intervals (0: a point estimate only).
    pub replicates: usize,
    /// Starting points of the search (distinct optima are looked for among them).
    pub starts: usize,
    /// Pseudo-stations per fraud component (incremental; the extreme one gets a quarter).
    pub pseudo_stations: usize,
    /// Likelihood evaluations per search (the point fit's and each bootstrap refit's alike).
    pub max_evaluations: usize,
}

impl FitEffort {
    /// The command line's setting: 40 bootstrap replicates (the intervals' quantile ranks
    /// (B + 1)q keep their nominal coverage at any B; coverage was measured at 30), all 7
    /// starts.
    pub const FULL: FitEffort = FitEffort {
        replicates: 40,
        starts: 7,
        pseudo_stations: 20_000,
        max_evaluations: 600,
    };
    /// The per-run detector of `tamga run` ([`detector_value`]): the same likelihood, one start,
    /// no bootstrap, the fewest pseudo-stations [`fit`] allows and a short search — a statistic
    /// that moves with fraud (its cost on a Kazakhstan-size run: docs/BENCHMARKS.md).
    pub const DETECTOR: FitEffort = FitEffort {
        replicates: 0,
        starts: 1,
        pseudo_stations: 1_000,
        max_evaluations: 30,
    };
}

/// A parameter's estimate with its bootstrap interval.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct ParamEstimate {
    /// The point estimate: the fit's raw estimate corrected for the bias its bootstrap shows
    /// (2·raw − mean of the refits; the raw one without a bootstrap), within the bounds.
    pub estimate: f64,
    /// The maximum-likelihood estimate itself.
    pub raw: f64,
    /// Standard deviation over bootstrap refits (NaN without a bootstrap).
    pub se: f64,
    /// The 90 % basic bootstrap interval (NaN without a bootstrap).
    pub lo: f64,
    pub hi: f64,
    /// "lower" or "upper" when the estimate sits at a search bound.
    pub at_bound: Option<&'static str>,
}

impl ParamEstimate {
    /// From the fit's raw estimate and the parametric-bootstrap refits: the bias-corrected
    /// estimate 2θ̂ − mean(θ*), the basic interval [2θ̂ − q₉₅(θ*), 2θ̂ − q₅(θ*)], both kept within
    /// `bounds`, and the refits' standard deviation.
    fn of(raw: f64, reps: &[f64], bounds: Option<(f64, f64)>) -> Self {
        let (lo_b, hi_b) = bounds.unwrap_or((f64::NEG_INFINITY, f64::INFINITY));
        let clamp = |x: f64| x.clamp(lo_b, hi_b);
        let (estimate, se, lo, hi) = if reps.is_empty() {
            (raw, f64::NAN, f64::NAN, f64::NAN)
        } else {
            let mut s = reps.to_vec();
            s.sort_by(f64::total_cmp);
            let a = (1.0 - COVERAGE) / 2.0;
            let (mean, sd) = mean_sd(reps);
            (
                clamp(2.0 * raw - mean),
                sd,
                clamp(2.0 * raw - bootstrap_quantile(&s, 1.0 - a)),
                clamp(2.0 * raw - bootstrap_quantile(&s, a)),
            )
        };
        let at_bound = bounds
            .filter(|b| (b.1 - b.0).is_finite())
            .and_then(|(l, h)| {
                let tol = 1e-3 * (h - l);
                if raw <= l + tol {
                    Some("lower")
                } else if raw >= h - tol {
                    Some("upper")
                } else {
                    None
                }
            });
        ParamEstimate {
            estimate,
            raw,
            se,
            lo: lo.min(estimate),
            hi: hi.max(estimate),
            at_bound,
        }
    }

    /// Whether the interval contains `x` (false without a bootstrap).
    pub fn covers(&self, x: f64) -> bool {
        self.lo <= x && x <= self.hi
    }
}

/// Quantile `q` of B sorted bootstrap values at rank (B + 1)·q (1-based, interpolated; the
/// ends beyond it): the interval between ranks (B + 1)·a and (B + 1)·(1 − a) holds a further
/// draw with probability 1 − 2a, whereas the usual (B − 1)·q + 1 ranks give 84 % instead of
/// 90 % at B = 30 and 88 % at B = 100 — part of the intervals' measured under-coverage.
fn bootstrap_quantile(sorted: &[f64], q: f64) -> f64 {
    let b = sorted.len();
    let h = (b + 1) as f64 * q;
    if h <= 1.0 {
        return sorted[0];
    }
    if h >= b as f64 {
        return sorted[b - 1];
    }
    let k = h.floor() as usize;
    sorted[k - 1] + (h - k as f64) * (sorted[k] - sorted[k - 1])
}

/// One local optimum of the likelihood.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Solution {
    pub params: KlimekParams,
    /// Share of stations the model cannot place (the background weight w_u).
    pub unplaced: f64,
    /// 2 (ℓ_best − ℓ): 0 for the best solution.
    pub deviance_gap: f64,
    /// Share of bootstrap replicates whose refit lands nearest this solution.
    pub bootstrap_share: f64,
}

/// Votes the fitted model adds (stuffed ballots) and moves (from the opposition), in expectation
/// over the model on the analysed stations' electorates.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct ModelVotes {
    pub stuffed: ParamEstimate,
    pub moved: ParamEstimate,
    pub total: ParamEstimate,
    /// `total` as a share of the leader's observed votes.
    pub share_of_leader_votes: ParamEstimate,
}

/// How well the fitted model describes the stations.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct GoodnessOfFit {
    /// Stations at turnout ≥ 95 % and share ≥ 95 %: observed share, and the model's (with its
    /// bootstrap interval).
    pub corner_observed: f64,
    pub corner_model: ParamEstimate,
    /// Half the L1 distance between the observed and the model's 2-D cell shares: the share of
    /// stations that would have to move cell for the two to agree.
    pub misfit: f64,
    /// The same distance for samples of the same size drawn from the fitted model itself (mean
    /// and 99th percentile over 19 samples): what sampling noise alone gives.
    pub misfit_null_mean: f64,
    pub misfit_null_q99: f64,
    /// Plain-words warnings; empty when the model describes the data.
    pub warnings: Vec<String>,
    /// Observed and model-expected stations per 2 % × 2 % cell, `[turnout][share]`.
    pub observed_cells: Vec<Vec<u32>>,
    pub model_cells: Vec<Vec<f64>>,
}

/// The fitted model and what it implies.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct KlimekFit {
    pub stations: usize,
    pub effort: FitEffort,
    /// The point estimate's parameters.
    pub params: KlimekParams,
    pub f_incremental: ParamEstimate,
    pub f_extreme: ParamEstimate,
    pub alpha: ParamEstimate,
    pub turnout_mean: ParamEstimate,
    pub turnout_sd: ParamEstimate,
    pub share_mean: ParamEstimate,
    pub share_sd: ParamEstimate,
    pub incremental_sd: ParamEstimate,
    pub unplaced: ParamEstimate,
    /// False when almost no station is frauded in the fit (f_i + f_e < 0.01): α then acts on
    /// too few stations to be estimated.
    pub alpha_identified: bool,
    /// Distinct local optima, best first (the first is the point estimate).
    pub solutions: Vec<Solution>,
    /// Bootstrap replicates done.
    pub bootstrap: usize,
    pub votes: ModelVotes,
    pub fit: GoodnessOfFit,
    /// National turnout (Σ issued / Σ registered) and leader share the fitted model implies on
    /// the real sizes (one simulation), and the observed ones.
    pub implied_turnout: f64,
    pub implied_share: f64,
    pub observed_turnout: f64,
    pub observed_share: f64,
    /// Observed and fitted (one simulation) leader-share histograms, 1 % bins.
    pub observed_histogram: Vec<u64>,
    pub fitted_histogram: Vec<u64>,
}

/// Optima within this deviance gap of the best compete: the bootstrap refits from each of them
/// and the reading calls them solutions the data does not decide between.
pub const COMPETING_GAP: f64 = 10.0;

/// Below this f_i + f_e, α is reported as not identified.
pub const ALPHA_UNIDENTIFIED_BELOW: f64 = 0.01;

#[inline]
fn cell_of(x: f64) -> usize {
    ((x * GRID as f64) as i64).clamp(0, GRID as i64 - 1) as usize
}

/// Stations per 2 % × 2 % cell, index `turnout_cell * GRID + share_cell`.
pub fn cell_counts(stations: &[StationFigures]) -> Vec<u32> {
    let mut c = vec![0u32; CELLS];
    for s in stations {
        c[cell_of(s.turnout()) * GRID + cell_of(s.share())] += 1;
    }
    c
}

/// Stations per cell spread by the same cloud-in-cell weights as the model's pseudo-stations
/// (index `turnout_cell * GRID + share_cell`; each station adds 1 in all): what the likelihood
/// reads, so that data and model are binned alike. Counting each station whole in its cell
/// (as [`cell_counts`] does) left a mismatch the fit absorbed into its parameters — a share
/// k/B of a small station sits on a cell boundary, and the model's smoothed cells are wider
/// than exact ones — a bias the parametric bootstrap did not reproduce.
pub fn smoothed_cells(stations: &[StationFigures]) -> Vec<f64> {
    let mut c = vec![0.0f64; CELLS];
    for st in stations {
        deposit_one(&mut c, st.turnout(), st.share(), 1.0);
    }
    c
}

/// Adds `weight` at (t, s) by cloud-in-cell weights.
#[inline]
fn deposit_one(cells: &mut [f64], t: f64, s: f64, weight: f64) {
    let (i0, a) = split(t);
    let (j0, b) = split(s);
    let i1 = (i0 + 1).min(GRID - 1);
    let j1 = (j0 + 1).min(GRID - 1);
    cells[i0 * GRID + j0] += weight * (1.0 - a) * (1.0 - b);
    cells[i0 * GRID + j1] += weight * (1.0 - a) * b;
    cells[i1 * GRID + j0] += weight * a * (1.0 - b);
    cells[i1 * GRID + j1] += weight * a * b;
}

/// Fixed points of the pseudo-stations: the uniforms and the standard normals they give.
struct Pseudo {
    /// (z_T, z_S, |z_x|, ln|z_x|) of the incremental pseudo-stations.
    inc: Vec<[f64; 4]>,
    /// (z_T, z_S, x, ln x) of the extreme ones (x = 1 − 0.075|z| is fixed).
    ext: Vec<[f64; 4]>,
    /// The uniforms (u_T, u_S, u_x) behind `inc` (z_T = Φ⁻¹(u_T), |z_x| = Φ⁻¹(½ + ½u_x)) and
    /// (u_T, u_S) behind `ext`: where a truncation to [0, 1] binds, the draws are mapped
    /// through the truncated distribution's inverse CDF instead of being dropped.
    inc_u: Vec<[f64; 3]>,
    ext_u: Vec<[f64; 2]>,
}

impl Pseudo {
    /// Randomised quasi-Monte Carlo: the Halton points in bases 2, 3, 5, each coordinate shifted
    /// modulo 1 by a uniform from `rng` (Cranley–Patterson rotation), mapped to normals by the
    /// inverse CDF (half-normal for the intensities). Integration error falls nearly as 1/m
    /// instead of 1/√m, which matters: with m = 10,000 independent draws the approximation error
    /// of the log-likelihood moved the fit's optimum by more than its standard error.
    fn draw(m: usize, rng: &mut StreamRng) -> Self {
        let mut shift = || -> [f64; 3] { [rng.random(), rng.random(), rng.random()] };
        // (uniforms, normals): u_x is kept as the uniform of the half-normal, ½ + ½·v
        let points = |n: usize, sh: [f64; 3]| -> Vec<([f64; 3], [f64; 3])> {
            (1..=n as u64)
                .map(|i| {
                    let u = [halton(i, 2), halton(i, 3), halton(i, 5)];
                    let v: [f64; 3] =
                        std::array::from_fn(|k| (u[k] + sh[k]).fract().clamp(1e-15, 1.0 - 1e-15));
                    let z = normal_quantile_fast;
                    (v, [z(v[0]), z(v[1]), z(0.5 + 0.5 * v[2])])
                })
                .collect()
        };
        let inc_points = points(m, shift());
        let ext_points = points(m.div_ceil(4), shift());
        let inc = inc_points
            .iter()
            .map(|&(_, [zt, zs, zx])| [zt, zs, zx, zx.ln()])
            .collect();
        let ext = ext_points
            .iter()
            .map(|&(_, [zt, zs, zx])| {
                let x = (1.0 - EXTREME_SD * zx).max(1e-12);
                [zt, zs, x, x.ln()]
            })
            .collect();
        Pseudo {
            inc,
            ext,
            inc_u: inc_points.iter().map(|p| p.0).collect(),
            ext_u: ext_points.iter().map(|p| [p.0[0], p.0[1]]).collect(),
        }
    }
}

/// The six outer parameters, in [`NAMES`] order.
type Phi = [f64; 6];

/// Mixture weights (w_i, w_e, w_u); w_0 = 1 − their sum.
type Weights = [f64; 3];

fn project(p: Phi) -> Phi {
    std::array::from_fn(|k| p[k].clamp(BOUNDS[k].0, BOUNDS[k].1))
}

/// What one component contributes, per station of that component.
#[derive(Clone, Copy, Default)]
struct ComponentExtras {
    /// Mean stuffed ballots and moved votes per registered voter.
    stuffed: f64,
    moved: f64,
    /// Share of the component's stations at T ≥ 95 % and S ≥ 95 %.
    corner: f64,
}

/// The model's cell probabilities of each component at φ: [fair, incremental, extreme].
struct Components {
    cells: [Vec<f64>; 3],
    extras: [ComponentExtras; 3],
}

/// Cell masses of the fair part in one dimension: Normal(mean, sd) truncated to [0, 1], widened
/// by the variance h²/6 that the cloud-in-cell deposit adds to the fraud components (h = one
/// 2 % cell), so that fair and frauded stations are smoothed alike and the likelihood cannot
/// tell them apart by width alone.
fn truncated_cell_masses(mean: f64, sd: f64) -> Vec<f64> {
    let h = 1.0 / GRID as f64;
    let sd = (sd * sd + h * h / 6.0).sqrt();
    let cdf: Vec<f64> = (0..=GRID)
        .map(|k| normal_cdf((k as f64 / GRID as f64 - mean) / sd))
        .collect();
    let z = cdf[GRID] - cdf[0];
    if z <= 1e-300 {
        // all mass beyond [0, 1]: the nearest cell takes it
        let mut m = vec![0.0; GRID];
        m[cell_of(mean.clamp(0.0, 1.0))] = 1.0;
        return m;
    }
    (0..GRID).map(|k| (cdf[k + 1] - cdf[k]) / z).collect()
}

fn components(phi: &Phi, pseudo: &Pseudo, extras: bool) -> Components {
    let [tau, s_tau, nu, s_nu, theta, alpha] = *phi;
    let pt = truncated_cell_masses(tau, s_tau);
    let ps = truncated_cell_masses(nu, s_nu);
    let mut fair = vec![0.0; CELLS];
    for (t, a) in pt.iter().enumerate() {
        for (s, b) in ps.iter().enumerate() {
            fair[t * GRID + s] = a * b;
        }
    }
    let mut fair_extras = ComponentExtras::default();
    if extras {
        let tail = |m: f64, sd: f64| {
            let z = normal_cdf((1.0 - m) / sd) - normal_cdf(-m / sd);
            if z <= 1e-300 {
                f64::from(m >= 0.95)
            } else {
                (normal_cdf((1.0 - m) / sd) - normal_cdf((0.95 - m) / sd)) / z
            }
        };
        fair_extras.corner = tail(tau, s_tau) * tail(nu, s_nu);
    }
    let ln_theta = theta.ln();
    let (mt, ms) = (Truncation::new(tau, s_tau), Truncation::new(nu, s_nu));
    // the incremental intensity |N(0, θ)| truncated to [0, 1]: u_x ↦ Φ⁻¹(½ + u_x(Φ(1/θ) − ½))
    let cx = normal_cdf(1.0 / theta) - 0.5;
    let x_identity = 0.5 - cx < TRUNCATION_NEGLIGIBLE;
    let inc = deposit(
        pseudo.inc.iter().zip(&pseudo.inc_u).map(|(p, u)| {
            let (zx, ln_zx) = if x_identity {
                (p[2], p[3])
            } else {
                let z = normal_quantile_fast(0.5 + u[2] * cx).max(1e-300);
                (z, z.ln())
            };
            (
                mt.at(p[0], u[0]),
                ms.at(p[1], u[1]),
                (theta * zx).min(1.0),
                ln_theta + ln_zx,
            )
        }),
        alpha,
        extras,
    );
    let ext = deposit(
        pseudo
            .ext
            .iter()
            .zip(&pseudo.ext_u)
            .map(|(p, u)| (mt.at(p[0], u[0]), ms.at(p[1], u[1]), p[2], p[3])),
        alpha,
        extras,
    );
    Components {
        cells: [fair, inc.0, ext.0],
        extras: [fair_extras, inc.1, ext.1],
    }
}

/// Mass beyond [0, 1] below which a truncation is ignored (the draws used as they are).
const TRUNCATION_NEGLIGIBLE: f64 = 1e-12;

/// A fair-part normal N(mean, sd) truncated to [0, 1], applied to a pseudo-station's (z, u):
/// mean + sd·z where the truncation is negligible, else mean + sd·Φ⁻¹(Φ(a) + u(Φ(b) − Φ(a)))
/// (a, b the standardised bounds) — no draw is dropped, so the likelihood is continuous in the
/// parameters (dropping draws made it jump as they crossed the bounds).
struct Truncation {
    mean: f64,
    sd: f64,
    /// Φ(a) and Φ(b) − Φ(a); `None` when the truncation is negligible.
    map: Option<(f64, f64)>,
}

impl Truncation {
    fn new(mean: f64, sd: f64) -> Self {
        let lo = normal_cdf(-mean / sd);
        let hi = normal_cdf((1.0 - mean) / sd);
        let map = (lo > TRUNCATION_NEGLIGIBLE || 1.0 - hi > TRUNCATION_NEGLIGIBLE)
            .then_some((lo, (hi - lo).max(0.0)));
        Truncation { mean, sd, map }
    }

    #[inline]
    fn at(&self, z: f64, u: f64) -> f64 {
        let z = match self.map {
            None => z,
            Some((lo, width)) => normal_quantile_fast((lo + u * width).clamp(1e-300, 1.0 - 1e-16)),
        };
        (self.mean + self.sd * z).clamp(0.0, 1.0)
    }
}

/// Cloud-in-cell deposit of frauded pseudo-stations (T, S, x, ln x) on the 1 % grid, summed
/// into 2 % cells and normalised.
fn deposit(
    points: impl Iterator<Item = (f64, f64, f64, f64)>,
    alpha: f64,
    extras: bool,
) -> (Vec<f64>, ComponentExtras) {
    let mut cells = vec![0.0f64; CELLS];
    let (mut kept, mut stuffed, mut moved, mut corner) = (0usize, 0.0, 0.0, 0usize);
    for (t, s, x, ln_x) in points {
        let xa = (alpha * ln_x).exp();
        let add = x * (1.0 - t);
        let mv = xa * (1.0 - s) * t;
        let t2 = t + add;
        if t2 <= 0.0 {
            continue;
        }
        let s2 = (t * s + add + mv) / t2;
        kept += 1;
        if extras {
            stuffed += add;
            moved += mv;
            corner += usize::from(t2 >= 0.95 && s2 >= 0.95);
        }
        deposit_one(&mut cells, t2, s2, 1.0);
    }
    if kept == 0 {
        return (vec![0.0; CELLS], ComponentExtras::default());
    }
    let w = 1.0 / kept as f64;
    for c in cells.iter_mut() {
        *c *= w;
    }
    let k = kept as f64;
    (
        cells,
        ComponentExtras {
            stuffed: stuffed / k,
            moved: moved / k,
            corner: corner as f64 / k,
        },
    )
}

/// Lower cell index and linear weight of the upper one for a value in [0, 1] (cells centred on
/// 1 %, 3 %, …; clamped at the edges, so mass is kept).
#[inline]
fn split(v: f64) -> (usize, f64) {
    let u = v * GRID as f64 - 0.5;
    if u <= 0.0 {
        return (0, 0.0);
    }
    let i = u as usize;
    if i >= GRID - 1 {
        return (GRID - 1, 0.0);
    }
    (i, u - i as f64)
}

/// The observed occupied cells.
struct Observed {
    cells: Vec<usize>,
    counts: Vec<f64>,
    n: f64,
}

impl Observed {
    /// From whole counts per cell ([`cell_counts`]); the fit itself reads [`observed`].
    #[allow(dead_code)]
    fn of(counts: &[u32]) -> Self {
        Self::of_weights(&counts.iter().map(|&c| f64::from(c)).collect::<Vec<f64>>())
    }

    /// From (possibly fractional) cell weights, e.g. [`smoothed_cells`].
    fn of_weights(counts: &[f64]) -> Self {
        let cells: Vec<usize> = (0..CELLS).filter(|&b| counts[b] > 0.0).collect();
        let c = cells.iter().map(|&b| counts[b]).collect();
        Observed {
            cells,
            counts: c,
            n: counts.iter().sum(),
        }
    }
}

/// Log-likelihood Σ n_b ln p_b at weights `w`, with the per-cell component values `d`
/// (fair, inc, ext, uniform) of the occupied cells.
fn loglik(obs: &Observed, d: &[[f64; 4]], w: &Weights) -> f64 {
    let w0 = 1.0 - w[0] - w[1] - w[2];
    let mut l = 0.0;
    for (k, v) in d.iter().enumerate() {
        let p = w0 * v[0] + w[0] * v[1] + w[1] * v[2] + w[2] * v[3];
        l += obs.counts[k] * p.max(1e-300).ln();
    }
    l
}

/// Maximises the log-likelihood over the mixture weights (concave): projected Newton with
/// backtracking, from `start`.
/// Stops when a step gains at most `tol` in log-likelihood.
fn best_weights(obs: &Observed, d: &[[f64; 4]], start: Weights, tol: f64) -> (Weights, f64) {
    // an interior start: a weight left at exactly 0 by the previous point is nudged back in, so
    // that neither method is stuck on a face of the simplex
    let mut w = start.map(|x| x.max(1e-4));
    if w.iter().sum::<f64>() > 0.9 {
        w = [0.2, 0.02, 1e-3];
    }
    let mut l = loglik(obs, d, &w);
    for _ in 0..60 {
        let w0 = 1.0 - w[0] - w[1] - w[2];
        let mut g = [0.0; 3];
        let mut h = [[0.0; 3]; 3];
        for (k, v) in d.iter().enumerate() {
            let p = (w0 * v[0] + w[0] * v[1] + w[1] * v[2] + w[2] * v[3]).max(1e-300);
            let dv = [v[1] - v[0], v[2] - v[0], v[3] - v[0]];
            let n = obs.counts[k];
            for a in 0..3 {
                g[a] += n * dv[a] / p;
                for b in 0..3 {
                    h[a][b] += n * dv[a] * dv[b] / (p * p);
                }
            }
        }
        let Some((dir, t_max)) = newton_step(&w, &g, &h, obs.n) else {
            break;
        };
        let mut t = t_max;
        let mut improved = false;
        for _ in 0..40 {
            let cand: Weights = std::array::from_fn(|a| (w[a] + t * dir[a]).max(0.0));
            let lc = loglik(obs, d, &cand);
            if lc >= l {
                let gain = lc - l;
                w = cand;
                l = lc;
                improved = gain > tol;
                break;
            }
            t *= 0.5;
        }
        if !improved {
            // an EM step: monotone, stays inside the simplex, and moves where Newton stalls
            let w0 = 1.0 - w[0] - w[1] - w[2];
            let mut acc = [0.0; 4];
            for (k, v) in d.iter().enumerate() {
                let terms = [w0 * v[0], w[0] * v[1], w[1] * v[2], w[2] * v[3]];
                let p = terms.iter().sum::<f64>().max(1e-300);
                for (a, t) in acc.iter_mut().zip(terms) {
                    *a += obs.counts[k] * t / p;
                }
            }
            let em: Weights = std::array::from_fn(|a| acc[a + 1] / obs.n);
            let le = loglik(obs, d, &em);
            let gain = le - l;
            if gain > 0.0 {
                w = em;
                l = le;
            }
            if gain <= tol {
                break;
            }
        }
    }
    (w, l)
}

/// The projected Newton step from weights `w` with gradient `g` and negated Hessian `h` (of a
/// log-likelihood over `n` stations): the direction over the weights free to move (the scaled
/// gradient where the system is singular or gives no ascent) and the longest step along it
/// that stays in the simplex; `None` when no weight can move.
fn newton_step(w: &Weights, g: &[f64; 3], h: &[[f64; 3]; 3], n: f64) -> Option<([f64; 3], f64)> {
    let free: Vec<usize> = (0..3).filter(|&a| w[a] > 0.0 || g[a] > 0.0).collect();
    if free.is_empty() {
        return None;
    }
    let mut dir = [0.0; 3];
    let sol = solve(&free, h, g);
    for (i, &a) in free.iter().enumerate() {
        dir[a] = sol[i];
    }
    // ascent direction check: fall back to the gradient when the system is singular
    if !dir.iter().all(|x| x.is_finite())
        || dir.iter().zip(g).map(|(a, b)| a * b).sum::<f64>() <= 0.0
    {
        let scale = 1.0 / (n * 10.0);
        for &a in &free {
            dir[a] = g[a] * scale;
        }
    }
    let mut t_max: f64 = 1.0;
    for a in 0..3 {
        if dir[a] < 0.0 {
            t_max = t_max.min(w[a] / -dir[a]);
        }
    }
    let sd: f64 = dir.iter().sum();
    if sd > 0.0 {
        t_max = t_max.min((1.0 - w.iter().sum::<f64>()) / sd);
    }
    Some((dir, t_max))
}

/// One pass over the occupied cells at `w`: the log-likelihood, its gradient in (w_i, w_e, w_u)
/// (w_0 = 1 − their sum) and the negated Hessian.
fn pass(obs: &Observed, d: &[[f64; 4]], w: &Weights) -> (f64, [f64; 3], [[f64; 3]; 3]) {
    let w0 = 1.0 - w[0] - w[1] - w[2];
    let (mut l, mut g, mut h) = (0.0, [0.0; 3], [[0.0; 3]; 3]);
    for (k, v) in d.iter().enumerate() {
        let p = (w0 * v[0] + w[0] * v[1] + w[1] * v[2] + w[2] * v[3]).max(1e-300);
        let n = obs.counts[k];
        l += n * p.ln();
        let r = 1.0 / p;
        let dv = [(v[1] - v[0]) * r, (v[2] - v[0]) * r, (v[3] - v[0]) * r];
        for a in 0..3 {
            g[a] += n * dv[a];
            for b in a..3 {
                h[a][b] += n * dv[a] * dv[b];
            }
        }
    }
    for a in 0..3 {
        for b in 0..a {
            h[a][b] = h[b][a];
        }
    }
    (l, g, h)
}

/// [`best_weights`] for the per-run detector: the same maximum, reached with one pass over the
/// cells per Newton step (value, gradient and Hessian together) and stopped once a step
/// predicts or gains at most `tol`.
fn best_weights_quick(obs: &Observed, d: &[[f64; 4]], start: Weights, tol: f64) -> (Weights, f64) {
    let mut w = start.map(|x| x.max(1e-4));
    if w.iter().sum::<f64>() > 0.9 {
        w = [0.2, 0.02, 1e-3];
    }
    let (mut l, mut g, mut h) = pass(obs, d, &w);
    for _ in 0..60 {
        let Some((dir, t_max)) = newton_step(&w, &g, &h, obs.n) else {
            break;
        };
        // the step's predicted gain (g·H⁻¹g / 2 for a Newton step)
        if 0.5 * dir.iter().zip(&g).map(|(a, b)| a * b).sum::<f64>() <= tol {
            break;
        }
        let mut t = t_max;
        let mut gain = f64::NAN;
        for _ in 0..40 {
            let cand: Weights = std::array::from_fn(|a| (w[a] + t * dir[a]).max(0.0));
            let (lc, gc, hc) = pass(obs, d, &cand);
            if lc >= l {
                gain = lc - l;
                (w, l, g, h) = (cand, lc, gc, hc);
                break;
            }
            t *= 0.5;
        }
        if gain.is_nan() || gain <= tol {
            break;
        }
    }
    (w, l)
}

/// Solves H_ff x = g_f for the free indices (H is the negated Hessian, positive semi-definite).
fn solve(free: &[usize], h: &[[f64; 3]; 3], g: &[f64; 3]) -> Vec<f64> {
    let k = free.len();
    let mut m: Vec<Vec<f64>> = free
        .iter()
        .map(|&a| {
            let mut row: Vec<f64> = free.iter().map(|&b| h[a][b]).collect();
            row.push(g[a]);
            row
        })
        .collect();
    for c in 0..k {
        let piv = (c..k)
            .max_by(|&a, &b| m[a][c].abs().total_cmp(&m[b][c].abs()))
            .unwrap_or(c);
        m.swap(c, piv);
        let p = m[c][c];
        if p.abs() < 1e-300 {
            return vec![f64::NAN; k];
        }
        for r in 0..k {
            if r != c {
                let f = m[r][c] / p;
                for j in c..=k {
                    m[r][j] -= f * m[c][j];
                }
            }
        }
    }
    (0..k).map(|i| m[i][k] / m[i][i]).collect()
}

/// The likelihood of a sample as a function of φ, with warm-started weights.
struct Problem<'a> {
    obs: Observed,
    pseudo: &'a Pseudo,
    weights: std::cell::Cell<Weights>,
    /// The weights' convergence tolerance in log-likelihood ([`EXACT_GAIN`] but for the
    /// per-run detector).
    gain_tol: f64,
}

/// The mixture weights (w_i, w_e, w_u) every search of [`fit`] starts from.
const START_WEIGHTS: Weights = [0.1, 0.01, 1e-3];

/// The weights' convergence tolerance of every fit but the per-run detector's.
const EXACT_GAIN: f64 = 1e-6;
/// The per-run detector's: a thousandth of a unit of log-likelihood, far below the differences
/// its search acts on.
const DETECTOR_GAIN: f64 = 1e-3;

/// A point of the search: φ, the best weights there and the log-likelihood.
#[derive(Debug, Clone, Copy)]
struct Point {
    phi: Phi,
    w: Weights,
    loglik: f64,
}

impl Problem<'_> {
    fn occupied(&self, c: &Components) -> Vec<[f64; 4]> {
        let u = 1.0 / CELLS as f64;
        self.obs
            .cells
            .iter()
            .map(|&b| [c.cells[0][b], c.cells[1][b], c.cells[2][b], u])
            .collect()
    }

    fn eval(&self, phi: Phi) -> Point {
        let phi = project(phi);
        let c = components(&phi, self.pseudo, false);
        let d = self.occupied(&c);
        let (w, l) = if self.gain_tol > EXACT_GAIN {
            best_weights_quick(&self.obs, &d, self.weights.get(), self.gain_tol)
        } else {
            best_weights(&self.obs, &d, self.weights.get(), self.gain_tol)
        };
        self.weights.set(w);
        Point { phi, w, loglik: l }
    }
}

/// One search from `start`, the same for the point fit and every bootstrap refit (so that the
/// refits reproduce the point fit's own optimisation error): Nelder–Mead with `max_eval`
/// evaluations, restarted from its own result with half the step and half the evaluations
/// until a restart gains less than [`RESTART_GAIN`] in ℓ, at most `restarts` times (three for the
/// fit and its refits, one for the per-run detector).
fn search(pb: &Problem, start: Phi, max_eval: usize, restarts: usize) -> Point {
    let mut p = nelder_mead(pb, start, STEP, max_eval);
    for _ in 0..restarts {
        pb.weights.set(p.w);
        let q = nelder_mead(pb, p.phi, STEP.map(|x| x * 0.5), max_eval / 2);
        let gain = q.loglik - p.loglik;
        if gain > 0.0 {
            p = q;
        }
        if gain < RESTART_GAIN {
            break;
        }
    }
    p
}

/// A restart of [`search`] that gains less than this in ℓ ends it.
const RESTART_GAIN: f64 = 0.5;

/// Nelder–Mead (coefficients 1, 2, 0.5, 0.5) maximising the log-likelihood from `start`.
fn nelder_mead(pb: &Problem, start: Phi, step: Phi, max_eval: usize) -> Point {
    let mut evals = 0;
    let mut f = |p: Phi| {
        evals += 1;
        pb.eval(p)
    };
    let mut simplex: Vec<Point> = vec![f(start)];
    for i in 0..6 {
        let mut p = start;
        p[i] += step[i];
        if project(p) == project(start) {
            p[i] = start[i] - step[i];
        }
        simplex.push(f(p));
    }
    let mut n_eval = 7;
    while n_eval < max_eval {
        simplex.sort_by(|a, b| b.loglik.total_cmp(&a.loglik));
        let worst = simplex[6];
        let centroid: Phi =
            std::array::from_fn(|j| simplex[..6].iter().map(|s| s.phi[j]).sum::<f64>() / 6.0);
        let along = |t: f64| -> Phi {
            std::array::from_fn(|j| centroid[j] + t * (worst.phi[j] - centroid[j]))
        };
        let r = f(along(-1.0));
        n_eval += 1;
        if r.loglik > simplex[0].loglik {
            let e = f(along(-2.0));
            n_eval += 1;
            simplex[6] = if e.loglik > r.loglik { e } else { r };
        } else if r.loglik > simplex[5].loglik {
            simplex[6] = r;
        } else {
            let c = f(along(0.5));
            n_eval += 1;
            if c.loglik > worst.loglik {
                simplex[6] = c;
            } else {
                let best = simplex[0].phi;
                for s in simplex.iter_mut().skip(1) {
                    *s = f(std::array::from_fn(|j| {
                        best[j] + 0.5 * (s.phi[j] - best[j])
                    }));
                    n_eval += 1;
                }
            }
        }
        let hi = simplex
            .iter()
            .map(|s| s.loglik)
            .fold(f64::NEG_INFINITY, f64::max);
        let lo = simplex
            .iter()
            .map(|s| s.loglik)
            .fold(f64::INFINITY, f64::min);
        let spread = simplex
            .iter()
            .map(|s| {
                (0..6)
                    .map(|j| (s.phi[j] - simplex[0].phi[j]).abs() / (BOUNDS[j].1 - BOUNDS[j].0))
                    .fold(0.0, f64::max)
            })
            .fold(0.0, f64::max);
        if hi - lo < 1e-4 || spread < 1e-5 {
            break;
        }
    }
    let _ = evals;
    simplex.sort_by(|a, b| b.loglik.total_cmp(&a.loglik));
    simplex[0]
}

/// The reported fraud fractions of a point: (f_i, f_e) relative to the placed stations.
fn fractions(w: &Weights) -> (f64, f64) {
    let placed = (1.0 - w[2]).max(1e-12);
    ((w[0] / placed).min(1.0), (w[1] / placed).min(1.0))
}

/// Whether two solutions are different answers (not the same optimum found twice).
fn distinct(a: &Point, b: &Point) -> bool {
    let (fa, ea) = fractions(&a.w);
    let (fb, eb) = fractions(&b.w);
    let frauded = (fa + ea).min(fb + eb) >= ALPHA_UNIDENTIFIED_BELOW;
    (fa - fb).abs() > 0.05
        || (ea - eb).abs() > 0.005
        || (a.phi[0] - b.phi[0]).abs() > 0.02
        || (a.phi[2] - b.phi[2]).abs() > 0.02
        || (frauded && (a.phi[5].ln() - b.phi[5].ln()).abs() > 0.4)
}

/// Starting points: fair locations from low quantiles of the observed turnout and share (the
/// fair part lies left of the fraud), widths from the spread below the median, and a spread of
/// fraud shapes.
fn starts(stations: &[StationFigures], k: usize) -> Vec<Phi> {
    let t = |c: &StationFigures| c.turnout();
    let s = |c: &StationFigures| c.share();
    let (mt, ms) = (
        leftmost_peak(stations.iter().map(t)),
        leftmost_peak(stations.iter().map(s)),
    );
    // widths from the side of each mode that fraud does not reach (Klimek's rule)
    let left_rms = |f: fn(&StationFigures) -> f64, m: f64| {
        let (mut a, mut k) = (0.0, 0usize);
        for c in stations {
            let d = f(c) - m;
            if d < 0.0 {
                a += d * d;
                k += 1;
            }
        }
        if k == 0 {
            0.05
        } else {
            (a / k as f64).sqrt().clamp(0.01, 0.3)
        }
    };
    let (lt, ls) = (left_rms(t, mt), left_rms(s, ms));
    let mut all = vec![
        [mt, lt, ms, ls, 0.6, 2.0],
        [mt, lt, ms, ls, 0.3, 1.0],
        [mt, lt, ms, ls, 0.9, 3.5],
    ];
    // the quantile starts only when asked for (the per-run detector takes one start, for every
    // run, and sorting the stations would cost it as much as five likelihood evaluations)
    if k > all.len() {
        let sorted = |f: fn(&StationFigures) -> f64| {
            let mut v: Vec<f64> = stations.iter().map(f).collect();
            v.sort_by(f64::total_cmp);
            v
        };
        let (vt, vs) = (sorted(t), sorted(s));
        let q = quantile_sorted;
        let sd = |v: &[f64]| (q(v, 0.5) - q(v, 0.16)).clamp(0.01, 0.3);
        let (st, ss) = (sd(&vt), sd(&vs));
        all.extend([
            [q(&vt, 0.3), st, q(&vs, 0.3), ss, 0.6, 2.0],
            [q(&vt, 0.4), st, q(&vs, 0.4), ss, 0.25, 1.0],
            [q(&vt, 0.5), st, q(&vs, 0.5), ss, 0.15, 3.0],
            [q(&vt, 0.1), st, q(&vs, 0.25), ss, 0.3, 5.0],
        ]);
    }
    all.iter()
        .take(k.clamp(1, all.len()))
        .map(|p| project(*p))
        .collect()
}

/// The leftmost peak of a 1 %-bin histogram, smoothed over 5 bins, that reaches half the
/// maximum (Klimek's fair mode, as a starting point only: fraud pulls it, the fit does not keep it).
fn leftmost_peak(values: impl Iterator<Item = f64>) -> f64 {
    let mut h = [0.0f64; 101];
    for v in values {
        h[((v * 100.0 + 0.5) as usize).min(100)] += 1.0;
    }
    let sm: Vec<f64> = (0..101)
        .map(|i: usize| {
            h[i.saturating_sub(2)..=(i + 2).min(100)]
                .iter()
                .sum::<f64>()
        })
        .collect();
    let max = sm.iter().cloned().fold(0.0, f64::max);
    (0..101)
        .find(|&i| {
            sm[i] >= 0.5 * max && (i == 0 || sm[i] >= sm[i - 1]) && (i == 100 || sm[i] >= sm[i + 1])
        })
        .unwrap_or(50) as f64
        / 100.0
}

const STEP: Phi = [0.05, 0.02, 0.05, 0.02, 0.1, 0.7];

/// What a fitted point implies: (f_i, f_e), votes per registered voter stuffed and moved, and
/// the share of stations at the ≥ 95 % corner.
#[derive(Clone, Copy)]
struct Implied {
    fi: f64,
    fe: f64,
    stuffed: f64,
    moved: f64,
    corner: f64,
}

fn implied(p: &Point, pseudo: &Pseudo) -> Implied {
    let c = components(&p.phi, pseudo, true);
    let (fi, fe) = fractions(&p.w);
    let f0 = 1.0 - fi - fe;
    let e = &c.extras;
    Implied {
        fi,
        fe,
        stuffed: fi * e[1].stuffed + fe * e[2].stuffed,
        moved: fi * e[1].moved + fe * e[2].moved,
        corner: f0 * e[0].corner + fi * e[1].corner + fe * e[2].corner,
    }
}

fn params_of(p: &Point) -> KlimekParams {
    let (fi, fe) = fractions(&p.w);
    KlimekParams {
        fair: FairPart {
            turnout_mean: p.phi[0],
            turnout_sd: p.phi[1],
            share_mean: p.phi[2],
            share_sd: p.phi[3],
        },
        incremental_sd: p.phi[4],
        extreme_sd: EXTREME_SD,
        f_incremental: fi,
        f_extreme: fe.min(1.0 - fi),
        alpha: p.phi[5],
    }
}

/// Why the model cannot be fitted to these stations.
pub fn undefined_reason(stations: &[StationFigures]) -> Option<String> {
    if stations.len() < 100 {
        return Some(format!(
            "too few stations ({}); the fit needs at least 100 stations with registered ≥ 100",
            stations.len()
        ));
    }
    let cells = cell_counts(stations);
    if cells.iter().filter(|&&c| c > 0).count() < 4 {
        return Some(
            "the stations occupy fewer than 4 cells of 2 % × 2 % in turnout and share: there is no distribution to fit (all stations alike, or all at one turnout and share)"
                .into(),
        );
    }
    None
}

/// What the likelihood reads: the stations' [`smoothed_cells`].
fn observed(stations: &[StationFigures]) -> Observed {
    Observed::of_weights(&smoothed_cells(stations))
}

/// Fits the Klimek model to base-filtered stations (see the module docs).
pub fn fit(
    stations: &[StationFigures],
    effort: FitEffort,
    seed: u64,
) -> Result<KlimekFit, KlimekError> {
    if let Some(r) = undefined_reason(stations) {
        return Err(KlimekError::Undefined(r));
    }
    let counts = cell_counts(stations);
    let m = effort.pseudo_stations.max(1000);
    let pseudo = Pseudo::draw(m, &mut analysis_stream(seed, AnalysisPurpose::KlimekFit, 0));
    // every start searched (in parallel: each from the same weights, so the results do not
    // depend on the order or the threads); distinct optima kept, best first
    // (each optimum with the index of the start it was found from)
    let mut found: Vec<(Point, usize)> = starts(stations, effort.starts)
        .into_par_iter()
        .enumerate()
        .map(|(k, s)| {
            let pb = Problem {
                obs: observed(stations),
                pseudo: &pseudo,
                weights: std::cell::Cell::new(START_WEIGHTS),
                gain_tol: EXACT_GAIN,
            };
            (search(&pb, s, effort.max_evaluations, 3), k)
        })
        .collect();
    found.sort_by(|a, b| b.0.loglik.total_cmp(&a.0.loglik));
    let mut optima: Vec<(Point, usize)> = Vec::new();
    for (p, k) in found {
        if optima.iter().all(|(o, _)| distinct(o, &p)) {
            optima.push((p, k));
        }
    }
    optima.truncate(4);
    let (optima, found_from): (Vec<Point>, Vec<usize>) = optima.into_iter().unzip();
    let best = optima[0];

    // parametric bootstrap: each replicate is fitted by the point fit's own procedure — the
    // same starting rules applied to the replicate's stations, the same search and effort —
    // from the start of every competing optimum (deviance gap < 10); the best refit counts.
    // Refits started at the fitted values themselves (the bootstrap's truth) scattered up to
    // 2.5 times less than the fits from the data's own starts on the same model: the
    // simulated likelihood is rough, and a search ends nearer where it began.
    let competing: Vec<usize> = optima
        .iter()
        .zip(&found_from)
        .filter(|(o, _)| 2.0 * (best.loglik - o.loglik) < COMPETING_GAP)
        .map(|(_, &k)| k)
        .collect();
    let registered: Vec<u64> = stations.iter().map(|c| c.registered).collect();
    let best_params = params_of(&best);
    let reps: Vec<(Point, Implied, usize)> = (0..effort.replicates)
        .into_par_iter()
        .map(|b| {
            let mut rng = analysis_stream(seed, AnalysisPurpose::KlimekFit, 1 + b as u64);
            let replicate = simulate_figures(&registered, &best_params, &mut rng)
                .expect("fitted parameters are in their domain");
            let ps = Pseudo::draw(m, &mut rng);
            let rep_starts = starts(&replicate, effort.starts);
            let pb = Problem {
                obs: observed(&replicate),
                pseudo: &ps,
                weights: std::cell::Cell::new(START_WEIGHTS),
                gain_tol: EXACT_GAIN,
            };
            let mut out: Option<(Point, usize)> = None;
            for (k, &from) in competing.iter().enumerate() {
                pb.weights.set(START_WEIGHTS);
                let p = search(&pb, rep_starts[from], effort.max_evaluations, 3);
                if out.is_none_or(|(q, _)| p.loglik > q.loglik) {
                    out = Some((p, k));
                }
            }
            let (p, _) = out.expect("at least one optimum");
            // the optimum the refit lands nearest (by the `distinct` tolerances, then likelihood order)
            let k = optima.iter().position(|o| !distinct(o, &p)).unwrap_or(0);
            (p, implied(&p, &ps), k)
        })
        .collect();

    let imp = implied(&best, &pseudo);
    let col =
        |f: &dyn Fn(&(Point, Implied, usize)) -> f64| reps.iter().map(f).collect::<Vec<f64>>();
    let phi_est = |k: usize| ParamEstimate::of(best.phi[k], &col(&|r| r.0.phi[k]), Some(BOUNDS[k]));
    let fi = ParamEstimate::of(imp.fi, &col(&|r| r.1.fi), Some((0.0, 1.0)));
    let fe = ParamEstimate::of(imp.fe, &col(&|r| r.1.fe), Some((0.0, 1.0)));
    let total_registered: f64 = registered.iter().map(|&n| n as f64).sum();
    let leader_votes: f64 = stations.iter().map(|c| c.leader as f64).sum();
    let votes = |f: &dyn Fn(&Implied) -> f64| {
        ParamEstimate::of(
            total_registered * f(&imp),
            &col(&|r| total_registered * f(&r.1)),
            Some((0.0, f64::INFINITY)),
        )
    };
    let total = |i: &Implied| i.stuffed + i.moved;
    let model_votes = ModelVotes {
        stuffed: votes(&|i| i.stuffed),
        moved: votes(&|i| i.moved),
        total: votes(&total),
        share_of_leader_votes: ParamEstimate::of(
            total_registered * total(&imp) / leader_votes,
            &col(&|r| total_registered * total(&r.1) / leader_votes),
            Some((0.0, f64::INFINITY)),
        ),
    };
    let solutions = optima
        .iter()
        .enumerate()
        .map(|(k, o)| Solution {
            params: params_of(o),
            unplaced: o.w[2],
            deviance_gap: 2.0 * (best.loglik - o.loglik),
            bootstrap_share: if reps.is_empty() {
                f64::NAN
            } else {
                reps.iter().filter(|r| r.2 == k).count() as f64 / reps.len() as f64
            },
        })
        .collect();

    let params = params_of(&best);
    let goodness = goodness_of_fit(
        stations,
        &counts,
        &best,
        &pseudo,
        ParamEstimate::of(imp.corner, &col(&|r| r.1.corner), Some((0.0, 1.0))),
        seed,
    );

    // one simulation of the fitted model on the real sizes: implied totals and share histogram
    let mut rng = analysis_stream(seed, AnalysisPurpose::KlimekImplied, 0);
    let sim_counts = simulate_figures(&registered, &params, &mut rng)?;
    let totals = |xs: &[StationFigures]| {
        let (mut r, mut i, mut b, mut l) = (0u64, 0u64, 0u64, 0u64);
        for c in xs {
            r += c.registered;
            i += c.issued;
            b += c.ballots;
            l += c.leader;
        }
        (i as f64 / r as f64, l as f64 / b as f64)
    };
    let (it, is) = totals(&sim_counts);
    let (ot, os) = totals(stations);
    let alpha = phi_est(5);
    Ok(KlimekFit {
        stations: stations.len(),
        effort,
        params,
        f_incremental: fi,
        f_extreme: fe,
        alpha_identified: imp.fi + imp.fe >= ALPHA_UNIDENTIFIED_BELOW,
        alpha,
        turnout_mean: phi_est(0),
        turnout_sd: phi_est(1),
        share_mean: phi_est(2),
        share_sd: phi_est(3),
        incremental_sd: phi_est(4),
        // the parametric bootstrap simulates no background, so its refits say nothing about
        // this weight: the raw value, no interval
        unplaced: ParamEstimate::of(best.w[2], &[], Some((0.0, 1.0))),
        solutions,
        bootstrap: reps.len(),
        votes: model_votes,
        fit: goodness,
        implied_turnout: it,
        implied_share: is,
        observed_turnout: ot,
        observed_share: os,
        observed_histogram: percent_histogram(stations.iter().map(|c| c.share())).counts,
        fitted_histogram: percent_histogram(sim_counts.iter().map(|c| c.share())).counts,
    })
}

/// The profile log-likelihood at a parameter set's fair part, θ and α (the mixture weights at
/// their best, so `params`' f_i and f_e are not used), with `pseudo_stations` pseudo-stations
/// from `analysis_stream(seed, KlimekFit, 0)`: returns (log-likelihood, f_i, f_e). Lets a caller
/// compare published or true parameters with a fit on the same footing (same pseudo-stations).
pub fn profile_log_likelihood(
    stations: &[StationFigures],
    params: &KlimekParams,
    pseudo_stations: usize,
    seed: u64,
) -> (f64, f64, f64) {
    let pseudo = Pseudo::draw(
        pseudo_stations.max(1000),
        &mut analysis_stream(seed, AnalysisPurpose::KlimekFit, 0),
    );
    let pb = Problem {
        obs: observed(stations),
        pseudo: &pseudo,
        weights: std::cell::Cell::new([0.1, 0.01, 1e-3]),
        gain_tol: EXACT_GAIN,
    };
    let f = &params.fair;
    let p = pb.eval([
        f.turnout_mean,
        f.turnout_sd,
        f.share_mean,
        f.share_sd,
        params.incremental_sd,
        params.alpha,
    ]);
    let (fi, fe) = fractions(&p.w);
    (p.loglik, fi, fe)
}

/// The model's cell probabilities at a fitted point.
fn model_cells(p: &Point, pseudo: &Pseudo) -> Vec<f64> {
    let c = components(&p.phi, pseudo, false);
    let w0 = 1.0 - p.w[0] - p.w[1] - p.w[2];
    let u = 1.0 / CELLS as f64;
    (0..CELLS)
        .map(|b| w0 * c.cells[0][b] + p.w[0] * c.cells[1][b] + p.w[1] * c.cells[2][b] + p.w[2] * u)
        .collect()
}

fn goodness_of_fit(
    stations: &[StationFigures],
    counts: &[u32],
    best: &Point,
    pseudo: &Pseudo,
    corner_model: ParamEstimate,
    seed: u64,
) -> GoodnessOfFit {
    let p = model_cells(best, pseudo);
    let n: u64 = counts.iter().map(|&c| u64::from(c)).sum();
    let tv = |c: &[u32]| {
        0.5 * c
            .iter()
            .zip(&p)
            .map(|(&o, &q)| (f64::from(o) / n as f64 - q).abs())
            .sum::<f64>()
    };
    let misfit = tv(counts);
    // the null: samples of n stations from the fitted model itself
    let mut rng = analysis_stream(seed, AnalysisPurpose::KlimekImplied, 1);
    let mut cum = Vec::with_capacity(CELLS);
    let mut acc = 0.0;
    for q in &p {
        acc += q;
        cum.push(acc);
    }
    let mut null: Vec<f64> = (0..19)
        .map(|_| {
            let mut c = vec![0u32; CELLS];
            for _ in 0..n {
                let r: f64 = rng.random::<f64>() * acc;
                let k = cum.partition_point(|&x| x <= r).min(CELLS - 1);
                c[k] += 1;
            }
            tv(&c)
        })
        .collect();
    null.sort_by(f64::total_cmp);
    let (null_mean, _) = mean_sd(&null);
    let null_q99 = quantile_sorted(&null, 0.99);
    let corner_observed = share_of_stations_at_least(stations, 0.95, 0.95);
    let mut warnings = Vec::new();
    if misfit > null_q99 && misfit - null_mean > 0.02 {
        warnings.push(format!(
            "The model does not describe these stations in detail: {:.1} % of them would have to move to another 2 % × 2 % cell of turnout and share to match it, against {:.1} % from sampling noise alone. Read f_i, f_e and α as a rough summary, not as measurements.",
            100.0 * misfit,
            100.0 * null_mean
        ));
    }
    let corner_n = corner_observed * stations.len() as f64;
    let model_n = corner_model.estimate * stations.len() as f64;
    let spread = (model_n.max(1.0) + (corner_model.se * stations.len() as f64).powi(2)).sqrt();
    if (corner_n - model_n).abs() > 3.0 * spread
        && (corner_n - model_n).abs() > 0.25 * corner_n.max(model_n)
        && corner_n.max(model_n) >= 10.0
    {
        warnings.push(format!(
            "The model puts {:.2} % of stations at turnout ≥ 95 % and leader share ≥ 95 %, the data has {:.2} %: the fit does not reproduce the extreme corner, so its f_e is not a count of those stations.",
            100.0 * corner_model.estimate,
            100.0 * corner_observed
        ));
    }
    if best.w[2] > 0.01 {
        warnings.push(format!(
            "{:.1} % of stations fall where the model puts almost no probability (its uniform background took them).",
            100.0 * best.w[2]
        ));
    }
    let grid = |f: &dyn Fn(usize) -> f64| -> Vec<Vec<f64>> {
        (0..GRID)
            .map(|t| (0..GRID).map(|s| f(t * GRID + s)).collect())
            .collect()
    };
    GoodnessOfFit {
        corner_observed,
        corner_model,
        misfit,
        misfit_null_mean: null_mean,
        misfit_null_q99: null_q99,
        warnings,
        observed_cells: (0..GRID)
            .map(|t| counts[t * GRID..(t + 1) * GRID].to_vec())
            .collect(),
        model_cells: grid(&|b| p[b] * n as f64),
    }
}

/// The per-run Klimek detector of `tamga run`: f_i + f_e at the best point of the same
/// likelihood and search as [`fit`] (the same pseudo-stations' stream, starts and Nelder–Mead,
/// one polish), without what only a report needs — bootstrap, distinct optima, goodness of fit
/// and the implied simulation. `None` where the fit is undefined for the stations.
pub fn detector_value(stations: &[StationFigures], effort: FitEffort, seed: u64) -> Option<f64> {
    if undefined_reason(stations).is_some() {
        return None;
    }
    let pseudo = Pseudo::draw(
        effort.pseudo_stations.max(1000),
        &mut analysis_stream(seed, AnalysisPurpose::KlimekFit, 0),
    );
    let start_weights = [0.1, 0.01, 1e-3];
    let pb = Problem {
        obs: observed(stations),
        pseudo: &pseudo,
        weights: std::cell::Cell::new(start_weights),
        gain_tol: DETECTOR_GAIN,
    };
    let best = starts(stations, effort.starts)
        .into_iter()
        .map(|s| {
            pb.weights.set(start_weights);
            search(&pb, s, effort.max_evaluations, 1)
        })
        .max_by(|a, b| a.loglik.total_cmp(&b.loglik))?;
    let (fi, fe) = fractions(&best.w);
    Some(fi + fe).filter(|v| v.is_finite())
}

#[cfg(test)]
mod tests {
    use super::super::klimek::simulate_figures;
    use super::super::klimek::tests::params;
    use super::*;

    fn simulated(p: &KlimekParams, n: usize, seed: u64) -> Vec<StationFigures> {
        let sizes: Vec<u64> = (0..n as u64).map(|i| 300 + (i * 37) % 2500).collect();
        let mut rng = analysis_stream(seed, AnalysisPurpose::KlimekImplied, 9);
        simulate_figures(&sizes, p, &mut rng).unwrap()
    }

    #[test]
    fn weights_are_found_when_components_are_known() {
        // two disjoint components: the weights are the shares of the counts
        let mut counts = vec![0u32; CELLS];
        counts[0] = 300;
        counts[1] = 700;
        let obs = Observed::of(&counts);
        let u = 1.0 / CELLS as f64;
        let d = vec![[1.0, 0.0, 0.0, u], [0.0, 1.0, 0.0, u]];
        let (w, _) = best_weights(&obs, &d, [0.1, 0.1, 0.01], EXACT_GAIN);
        assert!((w[0] - 0.7).abs() < 1e-3, "{w:?}");
        assert!(w[1] < 1e-6 && w[2] < 1e-3, "{w:?}");
    }

    #[test]
    fn fit_recovers_known_parameters_without_a_bootstrap() {
        let truth = params(0.4, 0.03, 2.0);
        let st = simulated(&truth, 20_000, 5);
        let f = fit(
            &st,
            FitEffort {
                replicates: 0,
                starts: 2,
                ..FitEffort::FULL
            },
            11,
        )
        .unwrap();
        assert!(
            (f.share_mean.estimate - 0.4).abs() < 0.01,
            "{:?}",
            f.share_mean
        );
        assert!(
            (f.turnout_mean.estimate - 0.55).abs() < 0.01,
            "{:?}",
            f.turnout_mean
        );
        assert!(
            (f.f_extreme.estimate - 0.03).abs() < 0.006,
            "{:?}",
            f.f_extreme
        );
        assert!(
            (f.f_incremental.estimate - 0.4).abs() < 0.06,
            "{:?}",
            f.f_incremental
        );
        assert!(f.f_incremental.se.is_nan());
    }

    #[test]
    fn detector_finds_what_a_longer_search_finds() {
        // the per-run detector's short search lands near a longer one on data from the model,
        // and reads clean data as clean
        let truth = params(0.4, 0.03, 2.0);
        let st = simulated(&truth, 9_000, 5);
        // the short search ends near where a search with five times the pseudo-stations and
        // eight times the evaluations ends (one start each, both below the truth, 0.43; fewer
        // pseudo-stations, not fewer evaluations, make the difference: 0.32 against 0.38)
        let v = detector_value(&st, FitEffort::DETECTOR, 11).unwrap();
        let long = FitEffort {
            pseudo_stations: 5_000,
            max_evaluations: 250,
            ..FitEffort::DETECTOR
        };
        let w = detector_value(&st, long, 11).unwrap();
        assert!((v - w).abs() < 0.08 && (v - 0.43).abs() < 0.15, "{v} {w}");
        let clean = simulated(&params(0.0, 0.0, 2.0), 9_000, 6);
        let c = detector_value(&clean, FitEffort::DETECTOR, 11).unwrap();
        assert!(c < 0.05, "{c}");
        // and the quick weights agree with the exact ones at the same point
        let pseudo = Pseudo::draw(1000, &mut analysis_stream(3, AnalysisPurpose::KlimekFit, 0));
        let obs = Observed::of(&cell_counts(&st));
        let pb = |gain_tol| Problem {
            obs: Observed::of(&cell_counts(&st)),
            pseudo: &pseudo,
            weights: std::cell::Cell::new([0.1, 0.01, 1e-3]),
            gain_tol,
        };
        let phi = [0.55, 0.05, 0.4, 0.05, 0.3, 2.0];
        let (exact, quick) = (pb(EXACT_GAIN).eval(phi), pb(DETECTOR_GAIN).eval(phi));
        assert!(obs.n > 0.0 && (exact.loglik - quick.loglik).abs() < 0.01);
        for k in 0..3 {
            assert!(
                (exact.w[k] - quick.w[k]).abs() < 2e-3,
                "{exact:?} {quick:?}"
            );
        }
        assert_eq!(detector_value(&st[..50], FitEffort::DETECTOR, 11), None);
    }

    #[test]
    fn identical_stations_are_undefined() {
        let st: Vec<StationFigures> = (0..500)
            .map(|i| StationFigures {
                station_idx: i,
                registered: 1000,
                issued: 600,
                ballots: 600,
                leader: 300,
            })
            .collect();
        assert!(matches!(
            fit(&st, FitEffort::DETECTOR, 1),
            Err(KlimekError::Undefined(_))
        ));
    }
}
