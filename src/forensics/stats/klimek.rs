//! The Klimek fraud model: a polling-station simulator and its fit to observed results.
//!
//! Source: Klimek, Yegorov, Hanel & Thurner, "Statistical detection of systematic election
//! irregularities", *PNAS* 109(41):16469–16473, 2012, and its fitting program
//! `ElectionFitter.m` as ported to R by Mebane & Egami (Election Forensics Toolkit,
//! `ComputeKlimekModel`), whose estimation choices are followed here and named below.
//!
//! Owns: [`simulate_stations`] (electorates + parameters + rng → per-station counts; callable on
//! its own, and the one implementation the fraud and detector work reuse), the fair-part
//! estimates ([`estimate_fair_part`]) and the fit of (f_i, f_e, α) ([`fit`]). Never does: I/O,
//! clocks, global randomness; every random number comes from the caller's generator or from
//! streams derived from the caller's seed ([`crate::rng::analysis_stream`]).
//!
//! The model, per station i with electorate N_i:
//! - fair part: turnout T_i ~ Normal(τ, σ_τ) and leader share S_i ~ Normal(ν, σ_ν), each truncated
//!   to [0, 1] (drawn by inversion, one uniform each);
//! - with probability f_i incremental fraud, x_i ~ |Normal(0, θ)| truncated to [0, 1]; with
//!   probability f_e extreme fraud, x_i = 1 − |Normal(0, 0.075)| (0.075 is Klimek's fixed width
//!   of the extreme cluster); otherwise x_i = 0;
//! - a share x_i of the non-voters is stuffed for the leader, and a share x_i^α of the
//!   opposition's votes is moved to the leader. In counts (as the fitter does): fair ballots
//!   B = round(N·T), fair leader votes W = round(B·S), stuffed = floor(x·(N − B)),
//!   moved = round(x^α·(B − W)); reported issued = valid = B + stuffed, leader = W + stuffed + moved.
//!   (Invalid ballots are not modelled.)
//!
//! Fair-part estimates (the fitter's `Estimate`): on histograms with 1 %-wide bins centred on
//! whole percentages, τ and ν are the modes — here the leftmost peak of the 5-bin smoothed
//! histogram that reaches half its maximum (so an extreme-fraud spike at 100 % is never taken for
//! the fair peak), refined by a parabola through the three bins around it; σ_ν is the RMS of
//! S − ν over stations left of the share mode; σ_τ the RMS of T − τ over stations left of both
//! modes (the fitter's choice: the least frauded corner); θ = (mean of (S − ν)² over stations
//! right of the share mode)^{1/4}, the fitter's estimate of the incremental-fraud width.
//!
//! Fit: minimise the distance between the simulated and the observed leader-share histograms
//! (unweighted, the same 1 % bins), Klimek's criterion Σ_b ((sim_b − obs_b)/(obs_b + 1))², over
//! f_i ∈ [0, 1], f_e ∈ [0, 1 − f_i], α ∈ [0.1, 10]. Each replicate fixes one set of random draws
//! per station (common random numbers, so the criterion changes only through the parameters),
//! searches a coarse grid, then refines the two best grid points with Nelder–Mead. Replicates
//! with independent streams give the mean and standard deviation that the report shows as the
//! fit's uncertainty. Stations are the base-filtered ones (registered ≥ 100, as Klimek et al.).

use rand::Rng;
use rand::RngExt;
use rayon::prelude::*;

use super::stations::StationFigures;
use crate::rng::{AnalysisPurpose, analysis_stream};
use crate::stats::{Histogram, TruncatedNormal};

/// Width of the extreme-fraud cluster below 100 % (Klimek et al. fix it at 0.075).
pub const EXTREME_SD: f64 = 0.075;

/// Number of bins of the share and turnout histograms used for estimates and the fit: 1 % bins
/// centred on whole percentages 0 % … 100 %.
pub const FIT_BINS: usize = 101;

/// Fair (unfrauded) part of the model.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct FairPart {
    /// τ: mean turnout (fraction).
    pub turnout_mean: f64,
    /// σ_τ.
    pub turnout_sd: f64,
    /// ν: mean leader share (fraction of ballots).
    pub share_mean: f64,
    /// σ_ν.
    pub share_sd: f64,
}

/// All parameters of the Klimek model.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct KlimekParams {
    pub fair: FairPart,
    /// θ: width of the incremental-fraud intensity |Normal(0, θ)|.
    pub incremental_sd: f64,
    /// Width of the extreme-fraud intensity 1 − |Normal(0, ·)|; [`EXTREME_SD`] in the paper.
    pub extreme_sd: f64,
    /// f_i: probability that a station has incremental fraud.
    pub f_incremental: f64,
    /// f_e: probability that a station has extreme fraud.
    pub f_extreme: f64,
    /// α: the opposition's votes moved are a share x^α of them.
    pub alpha: f64,
}

/// A parameter out of its domain.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum KlimekError {
    #[error("Klimek parameter `{name}` = {value} is outside {range}; choose a value in that range")]
    OutOfRange {
        name: &'static str,
        value: f64,
        range: &'static str,
    },
    #[error("f_i + f_e = {0} exceeds 1; the two fraud probabilities must sum to at most 1")]
    FractionsAboveOne(f64),
    #[error(
        "too few stations to fit the Klimek model ({0}); the fit needs at least 100 stations with registered ≥ 100"
    )]
    TooFewStations(usize),
}

impl KlimekParams {
    /// Checks every parameter's domain.
    pub fn validate(&self) -> Result<(), KlimekError> {
        let unit = |name, value: f64| {
            if (0.0..=1.0).contains(&value) {
                Ok(())
            } else {
                Err(KlimekError::OutOfRange {
                    name,
                    value,
                    range: "[0, 1]",
                })
            }
        };
        let positive = |name, value: f64| {
            if value > 0.0 && value.is_finite() {
                Ok(())
            } else {
                Err(KlimekError::OutOfRange {
                    name,
                    value,
                    range: "(0, ∞)",
                })
            }
        };
        let nonneg = |name, value: f64| {
            if value >= 0.0 && value.is_finite() {
                Ok(())
            } else {
                Err(KlimekError::OutOfRange {
                    name,
                    value,
                    range: "[0, ∞)",
                })
            }
        };
        unit("turnout_mean", self.fair.turnout_mean)?;
        unit("share_mean", self.fair.share_mean)?;
        nonneg("turnout_sd", self.fair.turnout_sd)?;
        nonneg("share_sd", self.fair.share_sd)?;
        positive("incremental_sd", self.incremental_sd)?;
        positive("extreme_sd", self.extreme_sd)?;
        unit("f_incremental", self.f_incremental)?;
        unit("f_extreme", self.f_extreme)?;
        positive("alpha", self.alpha)?;
        if self.f_incremental + self.f_extreme > 1.0 + 1e-12 {
            return Err(KlimekError::FractionsAboveOne(
                self.f_incremental + self.f_extreme,
            ));
        }
        Ok(())
    }
}

/// Which fraud, if any, a simulated station received.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum StationFraud {
    None,
    Incremental,
    Extreme,
}

/// One simulated station's protocol (the truth about its fraud kept apart in `fraud`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SimulatedStation {
    pub registered: u64,
    /// Reported ballots issued (fair + stuffed).
    pub issued: u64,
    /// Reported valid ballots (= issued; invalid ballots are not modelled).
    pub valid: u64,
    /// Reported votes of the winner.
    pub winner: u64,
    pub fraud: StationFraud,
}

impl SimulatedStation {
    /// As [`StationFigures`] (the same type real stations use), for the same analyses.
    pub fn counts(&self, station_idx: usize) -> StationFigures {
        StationFigures {
            station_idx,
            registered: self.registered,
            issued: self.issued,
            ballots: self.valid,
            leader: self.winner,
        }
    }
}

/// The four truncated normals of a parameter set, with their CDF bounds computed once.
#[derive(Debug, Clone, Copy)]
pub struct Samplers {
    turnout: TruncatedNormal,
    share: TruncatedNormal,
    incremental: TruncatedNormal,
    extreme: TruncatedNormal,
}

impl Samplers {
    pub fn new(fair: &FairPart, incremental_sd: f64, extreme_sd: f64) -> Self {
        Samplers {
            turnout: TruncatedNormal::new(fair.turnout_mean, fair.turnout_sd, 0.0, 1.0),
            share: TruncatedNormal::new(fair.share_mean, fair.share_sd, 0.0, 1.0),
            incremental: TruncatedNormal::new(0.0, incremental_sd, 0.0, 1.0),
            extreme: TruncatedNormal::new(0.0, extreme_sd, 0.0, 1.0),
        }
    }
}

/// The random draws of one station, before f_i, f_e, α are applied: a station's fate for any
/// (f_i, f_e, α) follows from these deterministically (common random numbers).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StationDraws {
    /// Fair turnout T.
    pub turnout: f64,
    /// Fair leader share S.
    pub share: f64,
    /// Uniform deciding the fraud kind: extreme if < f_e, incremental if < f_e + f_i.
    pub kind: f64,
    /// Uniforms behind the incremental and the extreme intensity (turned into x only when used).
    pub u_incremental: f64,
    pub u_extreme: f64,
}

impl StationDraws {
    /// Draws one station: exactly five uniforms, in the order of the fields.
    pub fn draw(rng: &mut impl Rng, samplers: &Samplers) -> Self {
        let u: [f64; 5] = [
            rng.random(),
            rng.random(),
            rng.random(),
            rng.random(),
            rng.random(),
        ];
        StationDraws {
            turnout: samplers.turnout.at(u[0]),
            share: samplers.share.at(u[1]),
            kind: u[2],
            u_incremental: u[3],
            u_extreme: u[4],
        }
    }

    /// Incremental intensity x ~ |Normal(0, θ)| on [0, 1].
    pub fn x_incremental(&self, samplers: &Samplers) -> f64 {
        samplers.incremental.at(self.u_incremental)
    }

    /// Extreme intensity x = 1 − |Normal(0, 0.075)| on [0, 1].
    pub fn x_extreme(&self, samplers: &Samplers) -> f64 {
        1.0 - samplers.extreme.at(self.u_extreme)
    }

    /// Fair ballots B = round(N·T) and fair leader votes W = round(B·S).
    fn fair_counts(&self, registered: u64) -> (u64, u64) {
        let n = registered as f64;
        let ballots = (n * self.turnout).round().min(n) as u64;
        let winner = (ballots as f64 * self.share).round().min(ballots as f64) as u64;
        (ballots, winner)
    }

    /// The station's reported counts under fraud probabilities and α.
    pub fn realise(
        &self,
        registered: u64,
        samplers: &Samplers,
        f_incremental: f64,
        f_extreme: f64,
        alpha: f64,
    ) -> SimulatedStation {
        let (ballots, winner) = self.fair_counts(registered);
        let (fraud, x) = if self.kind < f_extreme {
            (StationFraud::Extreme, self.x_extreme(samplers))
        } else if self.kind < f_extreme + f_incremental {
            (StationFraud::Incremental, self.x_incremental(samplers))
        } else {
            (StationFraud::None, 0.0)
        };
        let (stuffed, moved) = if x > 0.0 {
            fraud_counts(
                registered - ballots,
                ballots - winner,
                x,
                (alpha * x.ln()).exp(),
            )
        } else {
            (0, 0)
        };
        SimulatedStation {
            registered,
            issued: ballots + stuffed,
            valid: ballots + stuffed,
            winner: winner + stuffed + moved,
            fraud,
        }
    }
}

/// Ballots stuffed from the non-voters and votes moved from the opposition at intensity x
/// (`x_alpha` = x^α, computed by the caller as exp(α·ln x) so that the fit's fast path and
/// [`StationDraws::realise`] agree bit for bit).
#[inline]
pub fn fraud_counts(non_voters: u64, opposition: u64, x: f64, x_alpha: f64) -> (u64, u64) {
    // counts are at most `read::MAX_COUNT` (10⁹; the engine's are 32-bit), far below 2⁶³,
    // so signed conversions (one instruction each) give the same values as unsigned ones; the
    // cast truncates: the floor of a non-negative value, without `floor`'s library call
    let stuffed = (x * non_voters as i64 as f64) as i64 as u64;
    let moved = crate::stats::round_u64(x_alpha * opposition as i64 as f64).min(opposition);
    (stuffed.min(non_voters), moved)
}

/// Bin of a fraction in the 1 %-bins centred on whole percentages ([`FIT_BINS`] bins).
#[inline]
pub fn percent_bin(x: f64) -> usize {
    // the cast truncates toward zero and saturates: the floor, negatives (and NaN) to 0
    (((x + 0.005) * 100.0) as i64).clamp(0, FIT_BINS as i64 - 1) as usize
}

/// Simulates the Klimek model on stations of the given electorates (N_i), in order.
/// Each station consumes exactly five uniforms from `rng`, so station i's draws do not depend on
/// the parameters f_i, f_e, α.
pub fn simulate_stations(
    electorates: &[u64],
    params: &KlimekParams,
    rng: &mut impl Rng,
) -> Result<Vec<SimulatedStation>, KlimekError> {
    params.validate()?;
    let samplers = Samplers::new(&params.fair, params.incremental_sd, params.extreme_sd);
    Ok(electorates
        .iter()
        .map(|&n| {
            StationDraws::draw(rng, &samplers).realise(
                n,
                &samplers,
                params.f_incremental,
                params.f_extreme,
                params.alpha,
            )
        })
        .collect())
}

/// Share of stations with turnout ≥ `t` and share ≥ `s` (both fractions).
pub fn share_of_stations_at_least(stations: &[StationFigures], t: f64, s: f64) -> f64 {
    if stations.is_empty() {
        return f64::NAN;
    }
    let k = stations
        .iter()
        .filter(|c| c.turnout() >= t && c.share() >= s)
        .count();
    k as f64 / stations.len() as f64
}

/// Histogram with [`FIT_BINS`] 1 % bins centred on whole percentages.
pub fn percent_histogram(values: impl Iterator<Item = f64>) -> Histogram {
    let mut h = Histogram::new(-0.005, 1.005, FIT_BINS);
    for v in values {
        if v.is_nan() {
            h.above += 1;
        } else {
            h.counts[percent_bin(v)] += 1;
        }
    }
    h
}

/// The location of the fair peak of a histogram: the leftmost local maximum of the 5-bin
/// moving average that reaches half the global maximum, refined by a parabola.
pub fn fair_mode(h: &Histogram) -> f64 {
    let c = &h.counts;
    let k = c.len();
    let smooth: Vec<f64> = (0..k)
        .map(|i| {
            let lo = i.saturating_sub(2);
            let hi = (i + 2).min(k - 1);
            c[lo..=hi].iter().sum::<u64>() as f64 / (hi - lo + 1) as f64
        })
        .collect();
    let max = smooth.iter().cloned().fold(0.0, f64::max);
    let mut peak = 0;
    for i in 0..k {
        let left = if i > 0 {
            smooth[i - 1]
        } else {
            f64::NEG_INFINITY
        };
        let right = if i + 1 < k {
            smooth[i + 1]
        } else {
            f64::NEG_INFINITY
        };
        if smooth[i] >= 0.5 * max && smooth[i] >= left && smooth[i] >= right {
            peak = i;
            break;
        }
    }
    let mut x = h.centre(peak);
    if peak > 0 && peak + 1 < k {
        let (a, b, cc) = (smooth[peak - 1], smooth[peak], smooth[peak + 1]);
        let denom = a - 2.0 * b + cc;
        if denom < 0.0 {
            x += 0.5 * (a - cc) / denom * h.width();
        }
    }
    x.clamp(0.0, 1.0)
}

/// Fair-part estimates and θ from observed stations.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct FairEstimate {
    pub fair: FairPart,
    /// θ, the incremental-fraud width.
    pub incremental_sd: f64,
}

/// Estimates τ, σ_τ, ν, σ_ν and θ from the left (unfrauded) halves of the observed turnout
/// and share distributions (see the module docs for each choice and its source).
pub fn estimate_fair_part(stations: &[StationFigures]) -> FairEstimate {
    let ht = percent_histogram(stations.iter().map(|c| c.turnout()));
    let hs = percent_histogram(stations.iter().map(|c| c.share()));
    let tau = fair_mode(&ht);
    let nu = fair_mode(&hs);
    let rms = |xs: &mut dyn Iterator<Item = f64>| {
        let (mut s, mut n) = (0.0, 0usize);
        for x in xs {
            s += x * x;
            n += 1;
        }
        if n == 0 { 0.0 } else { (s / n as f64).sqrt() }
    };
    let share_sd = rms(&mut stations
        .iter()
        .map(|c| c.share())
        .filter(|s| *s < nu)
        .map(|s| s - nu));
    let turnout_sd = rms(&mut stations
        .iter()
        .filter(|c| c.share() < nu && c.turnout() < tau)
        .map(|c| c.turnout() - tau));
    let right = rms(&mut stations
        .iter()
        .map(|c| c.share())
        .filter(|s| *s > nu)
        .map(|s| s - nu));
    FairEstimate {
        fair: FairPart {
            turnout_mean: tau,
            turnout_sd,
            share_mean: nu,
            share_sd,
        },
        incremental_sd: right.sqrt().max(1e-6),
    }
}

/// How much work a fit does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct FitEffort {
    /// Independent replicate fits (different random streams); their spread is the reported
    /// uncertainty.
    pub replicates: usize,
    /// Independent simulations of all stations per replicate; the criterion compares their
    /// average histogram with the observed one (more sets, less simulation noise).
    pub draw_sets: usize,
    /// Nelder–Mead evaluations per start.
    pub max_evaluations: usize,
}

impl FitEffort {
    /// The setting the command line uses.
    pub const FULL: FitEffort = FitEffort {
        replicates: 8,
        draw_sets: 2,
        max_evaluations: 120,
    };
}

/// One replicate's optimum.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct FitPoint {
    pub f_incremental: f64,
    pub f_extreme: f64,
    pub alpha: f64,
    /// Klimek's histogram distance at the optimum.
    pub distance: f64,
}

/// Mean and standard deviation over replicates.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Estimate {
    pub mean: f64,
    pub sd: f64,
}

impl Estimate {
    fn of(xs: impl Iterator<Item = f64>) -> Self {
        let v: Vec<f64> = xs.collect();
        let (mean, sd) = crate::stats::mean_sd(&v);
        Estimate { mean, sd }
    }
}

/// The fitted model and what it implies.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct KlimekFit {
    pub stations: usize,
    pub fair: FairEstimate,
    pub f_incremental: Estimate,
    pub f_extreme: Estimate,
    pub alpha: Estimate,
    pub replicates: Vec<FitPoint>,
    /// The parameters at the replicate means.
    pub params: KlimekParams,
    /// National turnout (Σ issued / Σ registered) the fitted model implies, on the real sizes.
    pub implied_turnout: f64,
    /// National leader share (Σ leader / Σ ballots) the fitted model implies.
    pub implied_share: f64,
    /// The observed national turnout and share over the same stations.
    pub observed_turnout: f64,
    pub observed_share: f64,
    /// Share of stations with T ≥ 95 % and S ≥ 95 %: simulated under the fit, and observed.
    pub implied_share_95_95: f64,
    pub observed_share_95_95: f64,
    /// Observed and fitted (mean over a simulation) leader-share histograms, [`FIT_BINS`] bins.
    pub observed_histogram: Vec<u64>,
    pub fitted_histogram: Vec<u64>,
}

/// Klimek's histogram distance Σ ((sim − obs)/(obs + 1))².
pub fn histogram_distance(sim: &[u64], obs: &[u64]) -> f64 {
    sim.iter()
        .zip(obs)
        .map(|(s, o)| {
            let d = (*s as f64 - *o as f64) / (*o as f64 + 1.0);
            d * d
        })
        .sum()
}

/// The fit's criterion on one set of draws, arranged for speed: stations sorted by their
/// fraud-kind uniform, so extreme, incremental and fair stations are a prefix, a middle and a
/// suffix; the fair suffix's histogram comes from checkpointed suffix histograms. Counts follow
/// [`StationDraws::realise`] exactly (`same_histogram_as_realise` pins this).
struct DrawSet {
    /// Per station, sorted by `kind`.
    stations: Vec<Simulator>,
    /// suffix[c] = histogram of fair shares of stations c·CHUNK.. (one extra empty entry).
    suffix: Vec<[u64; FIT_BINS]>,
}

#[derive(Clone, Copy)]
struct Simulator {
    kind: f64,
    ballots: u64,
    winner: u64,
    non_voters: u64,
    opposition: u64,
    x_inc: f64,
    ln_x_inc: f64,
    x_ext: f64,
    ln_x_ext: f64,
    fair_bin: u8,
}

const CHUNK: usize = 512;

impl DrawSet {
    fn new(registered: &[u64], draws: &[StationDraws], samplers: &Samplers) -> Self {
        let mut stations: Vec<Simulator> = draws
            .iter()
            .zip(registered)
            .map(|(d, &n)| {
                let (ballots, winner) = d.fair_counts(n);
                let x_inc = d.x_incremental(samplers);
                let x_ext = d.x_extreme(samplers);
                Simulator {
                    kind: d.kind,
                    ballots,
                    winner,
                    non_voters: n - ballots,
                    opposition: ballots - winner,
                    x_inc,
                    ln_x_inc: x_inc.ln(),
                    x_ext,
                    ln_x_ext: x_ext.ln(),
                    fair_bin: if ballots > 0 {
                        percent_bin(winner as f64 / ballots as f64) as u8
                    } else {
                        u8::MAX
                    },
                }
            })
            .collect();
        stations.sort_by(|a, b| a.kind.total_cmp(&b.kind));
        let chunks = stations.len().div_ceil(CHUNK);
        let mut suffix = vec![[0u64; FIT_BINS]; chunks + 1];
        for c in (0..chunks).rev() {
            let mut h = suffix[c + 1];
            for p in &stations[c * CHUNK..((c + 1) * CHUNK).min(stations.len())] {
                if p.fair_bin != u8::MAX {
                    h[p.fair_bin as usize] += 1;
                }
            }
            suffix[c] = h;
        }
        DrawSet { stations, suffix }
    }

    /// Adds the simulated share histogram at (f_i, f_e, α) to `h`.
    fn add_histogram(&self, fi: f64, fe: f64, alpha: f64, h: &mut [u64; FIT_BINS]) {
        let st = &self.stations;
        let k_e = st.partition_point(|p| p.kind < fe);
        let k_f = st.partition_point(|p| p.kind < fe + fi);
        let bin = |p: &Simulator, x: f64, ln_x: f64| {
            let (stuffed, moved) =
                fraud_counts(p.non_voters, p.opposition, x, (alpha * ln_x).exp());
            let valid = p.ballots + stuffed;
            // counts are far below 2⁶³ (see `fraud_counts`): signed conversions, the same values
            (valid > 0).then(|| {
                percent_bin((p.winner + stuffed + moved) as i64 as f64 / valid as i64 as f64)
            })
        };
        // four histograms taken in turn, so that stations landing in one bin one after another
        // do not wait on each other's increment in memory
        let mut lanes = [[0u32; FIT_BINS]; 4];
        let frauded = st[..k_e]
            .iter()
            .map(|p| bin(p, p.x_ext, p.ln_x_ext))
            .chain(st[k_e..k_f].iter().map(|p| bin(p, p.x_inc, p.ln_x_inc)));
        for (i, b) in frauded.enumerate() {
            if let Some(b) = b {
                lanes[i % 4][b] += 1;
            }
        }
        for lane in &lanes {
            for (a, &b) in h.iter_mut().zip(lane) {
                *a += u64::from(b);
            }
        }
        let c = k_f.div_ceil(CHUNK);
        for p in &st[k_f..(c * CHUNK).min(st.len())] {
            if p.fair_bin != u8::MAX {
                h[p.fair_bin as usize] += 1;
            }
        }
        for (a, b) in h.iter_mut().zip(&self.suffix[c]) {
            *a += b;
        }
    }
}

struct Objective<'a> {
    sets: Vec<DrawSet>,
    observed: &'a [u64],
}

impl Objective<'_> {
    /// The simulated histogram, averaged over the draw sets (rounded to whole stations).
    fn histogram(&self, fi: f64, fe: f64, alpha: f64) -> Vec<u64> {
        let mut h = [0u64; FIT_BINS];
        for set in &self.sets {
            set.add_histogram(fi, fe, alpha, &mut h);
        }
        let k = self.sets.len() as u64;
        h.iter().map(|v| (v + k / 2) / k).collect()
    }

    /// The criterion at a point projected into the domain.
    fn eval(&self, p: [f64; 3]) -> (f64, [f64; 3]) {
        let q = project(p);
        (
            histogram_distance(&self.histogram(q[0], q[1], q[2]), self.observed),
            q,
        )
    }
}

const ALPHA_RANGE: (f64, f64) = (0.1, 10.0);

fn project(p: [f64; 3]) -> [f64; 3] {
    let fi = p[0].clamp(0.0, 1.0);
    let fe = p[1].clamp(0.0, 1.0 - fi);
    [fi, fe, p[2].clamp(ALPHA_RANGE.0, ALPHA_RANGE.1)]
}

/// Nelder–Mead (standard coefficients 1, 2, 0.5, 0.5) from `start` with initial steps `step`.
fn nelder_mead(obj: &Objective, start: [f64; 3], step: [f64; 3], max_eval: usize) -> FitPoint {
    let mut simplex: Vec<([f64; 3], f64)> = Vec::with_capacity(4);
    let mut evals = 0;
    let f = |p: [f64; 3], evals: &mut usize| {
        *evals += 1;
        let (v, q) = obj.eval(p);
        (q, v)
    };
    simplex.push(f(start, &mut evals));
    for i in 0..3 {
        let mut p = start;
        p[i] += step[i];
        if project(p) == project(start) {
            p[i] = start[i] - step[i];
        }
        simplex.push(f(p, &mut evals));
    }
    while evals < max_eval {
        simplex.sort_by(|a, b| a.1.total_cmp(&b.1));
        let worst = simplex[3];
        let centroid: [f64; 3] =
            std::array::from_fn(|j| simplex[..3].iter().map(|s| s.0[j]).sum::<f64>() / 3.0);
        let along = |t: f64| -> [f64; 3] {
            std::array::from_fn(|j| centroid[j] + t * (worst.0[j] - centroid[j]))
        };
        let r = f(along(-1.0), &mut evals);
        if r.1 < simplex[0].1 {
            let e = f(along(-2.0), &mut evals);
            simplex[3] = if e.1 < r.1 { e } else { r };
        } else if r.1 < simplex[2].1 {
            simplex[3] = r;
        } else {
            let c = f(along(0.5), &mut evals);
            if c.1 < worst.1 {
                simplex[3] = c;
            } else {
                let best = simplex[0].0;
                for s in simplex.iter_mut().skip(1) {
                    let p: [f64; 3] = std::array::from_fn(|j| best[j] + 0.5 * (s.0[j] - best[j]));
                    *s = f(p, &mut evals);
                }
            }
        }
        let spread = simplex
            .iter()
            .map(|s| (s.0[0] - simplex[0].0[0]).abs() + (s.0[1] - simplex[0].0[1]).abs())
            .fold(0.0, f64::max);
        let lo = simplex.iter().map(|s| s.1).fold(f64::INFINITY, f64::min);
        let hi = simplex
            .iter()
            .map(|s| s.1)
            .fold(f64::NEG_INFINITY, f64::max);
        if spread < 1e-4 || hi - lo <= 1e-9 * lo.abs() {
            break;
        }
    }
    simplex.sort_by(|a, b| a.1.total_cmp(&b.1));
    let (p, d) = simplex[0];
    FitPoint {
        f_incremental: p[0],
        f_extreme: p[1],
        alpha: p[2],
        distance: d,
    }
}

/// One replicate: fixed draws, coarse grid, Nelder–Mead from the two best grid points.
fn fit_replicate(
    registered: &[u64],
    observed: &[u64],
    est: &FairEstimate,
    effort: FitEffort,
    rng: &mut impl Rng,
) -> FitPoint {
    let obj = objective(registered, observed, est, effort.draw_sets, rng);
    const FI: [f64; 6] = [0.0, 0.2, 0.4, 0.6, 0.8, 1.0];
    const FE: [f64; 5] = [0.0, 0.01, 0.03, 0.06, 0.1];
    const AL: [f64; 5] = [0.5, 1.0, 2.0, 3.0, 5.0];
    let mut grid = Vec::new();
    for fi in FI {
        for fe in FE {
            if fi + fe > 1.0 {
                continue;
            }
            for al in AL {
                grid.push((obj.eval([fi, fe, al]).0, [fi, fe, al]));
            }
        }
    }
    grid.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut best: Option<FitPoint> = None;
    for (_, start) in grid.iter().take(2) {
        let p = nelder_mead(&obj, *start, [0.1, 0.01, 0.5], effort.max_evaluations);
        if best.is_none_or(|b| p.distance < b.distance) {
            best = Some(p);
        }
    }
    best.expect("the grid is never empty")
}

/// Klimek's criterion at given (f_i, f_e, α) for `stations`, with the fair part and θ of `est`:
/// the simulated share histogram is averaged over `draw_sets` simulations drawn from
/// `analysis_stream(seed, AnalysisPurpose::KlimekFit, 0)`. The fit minimises this; it also lets
/// a caller compare published parameters with fitted ones on the same footing.
pub fn fit_distance(
    stations: &[StationFigures],
    est: &FairEstimate,
    point: [f64; 3],
    draw_sets: usize,
    seed: u64,
) -> f64 {
    let registered: Vec<u64> = stations.iter().map(|c| c.registered).collect();
    let observed = percent_histogram(stations.iter().map(|c| c.share())).counts;
    let mut rng = analysis_stream(seed, AnalysisPurpose::KlimekFit, 0);
    let obj = objective(&registered, &observed, est, draw_sets, &mut rng);
    obj.eval(point).0
}

fn objective<'a>(
    registered: &[u64],
    observed: &'a [u64],
    est: &FairEstimate,
    draw_sets: usize,
    rng: &mut impl Rng,
) -> Objective<'a> {
    let samplers = Samplers::new(&est.fair, est.incremental_sd, EXTREME_SD);
    let sets = (0..draw_sets.max(1))
        .map(|_| {
            let draws: Vec<StationDraws> = registered
                .iter()
                .map(|_| StationDraws::draw(rng, &samplers))
                .collect();
            DrawSet::new(registered, &draws, &samplers)
        })
        .collect();
    Objective { sets, observed }
}

/// Fits the Klimek model to base-filtered stations. Replicate r uses the stream
/// `analysis_stream(seed, AnalysisPurpose::KlimekFit, r)`, so the result is the same whatever the thread count.
pub fn fit(
    stations: &[StationFigures],
    effort: FitEffort,
    seed: u64,
) -> Result<KlimekFit, KlimekError> {
    fit_with_fair_part(stations, estimate_fair_part(stations), effort, seed)
}

/// [`fit`] with a fair part and θ given by the caller (e.g. to study the fit's sensitivity to the
/// fair-part estimates, or to fit a simulated election with its known fair part).
pub fn fit_with_fair_part(
    stations: &[StationFigures],
    est: FairEstimate,
    effort: FitEffort,
    seed: u64,
) -> Result<KlimekFit, KlimekError> {
    if stations.len() < 100 {
        return Err(KlimekError::TooFewStations(stations.len()));
    }
    let registered: Vec<u64> = stations.iter().map(|c| c.registered).collect();
    let observed = percent_histogram(stations.iter().map(|c| c.share())).counts;
    let replicates: Vec<FitPoint> = (0..effort.replicates.max(1))
        .into_par_iter()
        .map(|r| {
            let mut rng = analysis_stream(seed, AnalysisPurpose::KlimekFit, r as u64);
            fit_replicate(&registered, &observed, &est, effort, &mut rng)
        })
        .collect();
    let fi = Estimate::of(replicates.iter().map(|p| p.f_incremental));
    let fe = Estimate::of(replicates.iter().map(|p| p.f_extreme));
    let al = Estimate::of(replicates.iter().map(|p| p.alpha));
    let pr = project([fi.mean, fe.mean, al.mean]);
    let params = KlimekParams {
        fair: est.fair,
        incremental_sd: est.incremental_sd,
        extreme_sd: EXTREME_SD,
        f_incremental: pr[0],
        f_extreme: pr[1],
        alpha: pr[2],
    };
    let mut rng = analysis_stream(seed, AnalysisPurpose::KlimekImplied, 0);
    let sim = simulate_stations(&registered, &params, &mut rng)?;
    let sim_counts: Vec<StationFigures> =
        sim.iter().enumerate().map(|(i, s)| s.counts(i)).collect();
    let sim_valid: Vec<StationFigures> = sim_counts
        .iter()
        .filter(|c| c.ballots > 0)
        .copied()
        .collect();
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
    Ok(KlimekFit {
        stations: stations.len(),
        fair: est,
        f_incremental: fi,
        f_extreme: fe,
        alpha: al,
        replicates,
        params,
        implied_turnout: it,
        implied_share: is,
        observed_turnout: ot,
        observed_share: os,
        implied_share_95_95: share_of_stations_at_least(&sim_valid, 0.95, 0.95),
        observed_share_95_95: share_of_stations_at_least(stations, 0.95, 0.95),
        fitted_histogram: percent_histogram(sim_valid.iter().map(|c| c.share())).counts,
        observed_histogram: observed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_xoshiro::Xoshiro256PlusPlus;

    fn params(fi: f64, fe: f64, alpha: f64) -> KlimekParams {
        KlimekParams {
            fair: FairPart {
                turnout_mean: 0.55,
                turnout_sd: 0.08,
                share_mean: 0.4,
                share_sd: 0.07,
            },
            incremental_sd: 0.4,
            extreme_sd: EXTREME_SD,
            f_incremental: fi,
            f_extreme: fe,
            alpha,
        }
    }

    #[test]
    fn fair_simulation_is_consistent_and_centred() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
        let n = vec![1000u64; 20_000];
        let sim = simulate_stations(&n, &params(0.0, 0.0, 2.0), &mut rng).unwrap();
        assert!(
            sim.iter()
                .all(|s| s.winner <= s.valid && s.issued <= s.registered)
        );
        assert!(sim.iter().all(|s| s.fraud == StationFraud::None));
        let t: f64 = sim.iter().map(|s| s.issued as f64 / 1000.0).sum::<f64>() / 20_000.0;
        assert!((t - 0.55).abs() < 0.003, "{t}");
    }

    #[test]
    fn extreme_fraud_lands_near_100_percent() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(2);
        let n = vec![800u64; 10_000];
        let sim = simulate_stations(&n, &params(0.0, 1.0, 1.0), &mut rng).unwrap();
        let c: Vec<StationFigures> = sim.iter().enumerate().map(|(i, s)| s.counts(i)).collect();
        // x = 1 − |N(0, 0.075)|: P(x ≥ 0.9) ≈ 0.82, and then T and S are ≥ 0.9 too.
        let f = share_of_stations_at_least(&c, 0.9, 0.9);
        assert!(f > 0.75, "{f}");
    }

    #[test]
    fn same_draws_whatever_the_parameters() {
        let n = vec![500u64; 100];
        let a = simulate_stations(
            &n,
            &params(0.3, 0.05, 2.0),
            &mut Xoshiro256PlusPlus::seed_from_u64(3),
        )
        .unwrap();
        let b = simulate_stations(
            &n,
            &params(0.0, 0.0, 2.0),
            &mut Xoshiro256PlusPlus::seed_from_u64(3),
        )
        .unwrap();
        for (x, y) in a.iter().zip(&b) {
            if y.fraud == StationFraud::None && x.fraud == StationFraud::None {
                assert_eq!(x, y);
            }
            assert!(x.winner >= y.winner && x.issued >= y.issued);
        }
    }

    #[test]
    fn same_histogram_as_realise() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(6);
        let n: Vec<u64> = (0..5_000).map(|i| 100 + (i * 7919) % 3000).collect();
        let p = params(0.5, 0.04, 1.7);
        let sm = Samplers::new(&p.fair, p.incremental_sd, p.extreme_sd);
        let draws: Vec<StationDraws> = n
            .iter()
            .map(|_| StationDraws::draw(&mut rng, &sm))
            .collect();
        let set = DrawSet::new(&n, &draws, &sm);
        let mut fast = [0u64; FIT_BINS];
        set.add_histogram(0.5, 0.04, 1.7, &mut fast);
        let slow = percent_histogram(draws.iter().zip(&n).filter_map(|(d, &n)| {
            let s = d.realise(n, &sm, 0.5, 0.04, 1.7);
            (s.valid > 0).then(|| s.winner as f64 / s.valid as f64)
        }));
        assert_eq!(fast.to_vec(), slow.counts);
    }

    #[test]
    fn invalid_parameters_are_refused() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(4);
        assert!(matches!(
            simulate_stations(&[100], &params(0.7, 0.5, 2.0), &mut rng),
            Err(KlimekError::FractionsAboveOne(_))
        ));
        assert!(matches!(
            simulate_stations(&[100], &params(0.1, 0.0, -1.0), &mut rng),
            Err(KlimekError::OutOfRange { name: "alpha", .. })
        ));
    }

    #[test]
    fn fit_recovers_known_parameters() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(5);
        let n: Vec<u64> = (0..30_000).map(|i| 300 + (i * 37) % 2500).collect();
        let truth = params(0.4, 0.03, 2.0);
        let sim = simulate_stations(&n, &truth, &mut rng).unwrap();
        let c: Vec<StationFigures> = sim.iter().enumerate().map(|(i, s)| s.counts(i)).collect();
        let f = fit(
            &c,
            FitEffort {
                replicates: 2,
                draw_sets: 1,
                max_evaluations: 80,
            },
            11,
        )
        .unwrap();
        assert!((f.fair.fair.share_mean - 0.4).abs() < 0.02, "{:?}", f.fair);
        assert!((f.f_extreme.mean - 0.03).abs() < 0.01, "{:?}", f.f_extreme);
        assert!(
            (f.f_incremental.mean - 0.4).abs() < 0.15,
            "{:?}",
            f.f_incremental
        );
    }
}
