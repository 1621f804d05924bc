//! The Klimek fraud model: a polling-station simulator.
//!
//! Source: Klimek, Yegorov, Hanel & Thurner, "Statistical detection of systematic election
//! irregularities", *PNAS* 109(41):16469–16473, 2012, and its fitting program
//! `ElectionFitter.m` as ported to R by Mebane & Egami (Election Forensics Toolkit,
//! `ComputeKlimekModel`), whose count rounding is followed here.
//!
//! Owns: [`simulate_stations`] (electorates + parameters + rng → per-station counts; callable on
//! its own, and the one implementation the fraud and detector work reuse). The fit of the model
//! to observed stations is [`super::klimek_fit`] (re-exported here as [`fit`]). Never does: I/O,
//! clocks, global randomness; every random number comes from the caller's generator.
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

use rand::Rng;
use rand::RngExt;

pub use super::klimek_fit::{FitEffort, KlimekFit, fit};

use super::stations::StationFigures;
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
    #[error("the Klimek model cannot be fitted: {0}")]
    Undefined(String),
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

/// [`simulate_stations`] as [`StationFigures`], keeping stations with at least one ballot (the
/// ones the statistics can read).
pub fn simulate_figures(
    electorates: &[u64],
    params: &KlimekParams,
    rng: &mut impl Rng,
) -> Result<Vec<StationFigures>, KlimekError> {
    Ok(simulate_stations(electorates, params, rng)?
        .iter()
        .enumerate()
        .filter(|(_, s)| s.valid > 0)
        .map(|(i, s)| s.counts(i))
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

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_xoshiro::Xoshiro256PlusPlus;

    /// A fair part like a calm election's, with the given fraud (shared by the fit's tests).
    pub(in crate::forensics::stats) fn params(fi: f64, fe: f64, alpha: f64) -> KlimekParams {
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
}
