//! The electorate: regions ▸ districts ▸ polling stations ▸ registered voters, and the
//! station-level turnout and preference model.
//!
//! [`Electorate::build`] turns a validated [`Model`] into fixed geography — station sizes,
//! urban/rural and e-enabled stations, district boundaries, candidate slates — drawn from the
//! `Geography` stream of the seed, so every run and every variant of a scenario shares it. It
//! also solves the calibration constants: a common logit shift of turnout and per-party log
//! shifts of preferences so that the *expected* national turnout and list shares equal the
//! targets (when the scenario asks for calibration). Expectations over station noise are taken
//! with Gauss–Hermite quadrature (turnout) and a fixed antithetic sample (preferences), so the
//! solution is deterministic.
//!
//! Per run, [`Electorate::station_turnout`] and [`Electorate::station_preferences`] draw a
//! station's deviations. This module does no I/O and takes all randomness from `rng` streams.

use crate::model::{Appeal, Model, Tilt};
use crate::rng::{Purpose, StreamRng, stream};
use rand_distr::{Distribution, StandardNormal};

/// Run index used for streams that do not depend on the run (geography, calibration).
pub const FIXED_RUN: u64 = u64::MAX;

/// A polling station. Stations of a district are contiguous in [`Electorate::stations`].
#[derive(Clone, Copy, Debug)]
pub struct PollingStation {
    pub region: u32,
    /// Global district index, or `None` when the system has no district tier.
    pub district: Option<u32>,
    pub n_registered: u32,
    pub urban: bool,
    pub evoting: bool,
}

/// A candidate in a single-member district.
#[derive(Clone, Copy, Debug)]
pub struct Candidate {
    /// Nominating party, or `None` for an independent.
    pub party: Option<u8>,
    pub appeal: Appeal,
}

#[derive(Clone, Debug)]
pub struct District {
    pub region: u32,
    /// First station index and number of stations (contiguous).
    pub first_station: u32,
    pub n_stations: u32,
    pub candidates: Vec<Candidate>,
    /// For each party, the index of its nominee here, if any.
    pub nominee: Vec<Option<u16>>,
}

/// Fixed geography and calibrated model of one variant.
#[derive(Clone, Debug)]
pub struct Electorate {
    pub n_parties: usize,
    pub stations: Vec<PollingStation>,
    pub districts: Vec<District>,
    /// Per (region, urban) group: mean turnout logit including the calibration shift.
    group_turnout_logit: Vec<f64>,
    /// Per (region, urban) group × party: mean log weight including calibration shifts.
    group_pref_log: Vec<f64>,
    turnout_sd: f64,
    pref_sd: f64,
    /// Per region: its tilt ([`Tilt`]), if any.
    tilt: Vec<Option<Tilt>>,
    /// Offset of each station's district candidate block in flat per-station arrays.
    pub candidate_offset: Vec<u32>,
    pub n_candidate_slots: usize,
}

fn logit(p: f64) -> f64 {
    (p / (1.0 - p)).ln()
}

pub fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// A group's list preferences in [`Electorate::calibrate`]'s preference loop: its log weights
/// `log_base` plus the calibration shifts `cal`, over the fixed sample of station deviations
/// `z` (`samples` rows of one deviation per party).
struct Sample<'a> {
    log_base: &'a [f64],
    cal: &'a [f64],
    z: &'a [f64],
    samples: usize,
}

impl Sample<'_> {
    /// Adds to `achieved` the expected list votes of `voters` voters, with `tilt` (party, shift)
    /// added to one party's log weight; `w` is scratch of one weight per party.
    fn add_expected(
        &self,
        voters: f64,
        tilt: Option<(usize, f64)>,
        w: &mut [f64],
        achieved: &mut [f64],
    ) {
        let k = self.log_base.len();
        for z in self.z.chunks_exact(k).take(self.samples) {
            let mut sum = 0.0;
            for p in 0..k {
                let mut log_w = self.log_base[p] + self.cal[p] + z[p];
                if let Some((q, shift)) = tilt
                    && q == p
                {
                    log_w += shift;
                }
                w[p] = log_w.exp();
                sum += w[p];
            }
            let scale = voters / (sum * self.samples as f64);
            for (a, &wp) in achieved.iter_mut().zip(w.iter()) {
                *a += wp * scale;
            }
        }
    }
}

/// Nodes and weights of 20-point Gauss–Hermite quadrature (probabilists' form, weights sum 1),
/// computed once by the Golub–Welsch-free recurrence below.
fn gauss_hermite() -> &'static [(f64, f64)] {
    use std::sync::OnceLock;
    static NODES: OnceLock<Vec<(f64, f64)>> = OnceLock::new();
    NODES.get_or_init(|| {
        // Physicists' Hermite roots by Newton iteration (Numerical Recipes §4.6 `gauher`),
        // then mapped to the standard normal: z = √2·x, w = w_phys / √π.
        let n = 20usize;
        let mut out = Vec::with_capacity(n);
        let pim4 = std::f64::consts::PI.powf(-0.25);
        let m = n.div_ceil(2);
        let mut z = 0.0f64;
        let mut roots = vec![(0.0, 0.0); n];
        for i in 0..m {
            z = match i {
                0 => {
                    (2.0 * n as f64 + 1.0).sqrt() - 1.85575 * (2.0 * n as f64 + 1.0).powf(-0.16667)
                }
                1 => z - 1.14 * (n as f64).powf(0.426) / z,
                2 => 1.86 * z - 0.86 * roots[0].0,
                3 => 1.91 * z - 0.91 * roots[1].0,
                _ => 2.0 * z - roots[i - 2].0,
            };
            let mut pp = 0.0;
            for _ in 0..100 {
                let mut p1 = pim4;
                let mut p2 = 0.0;
                for j in 0..n {
                    let p3 = p2;
                    p2 = p1;
                    p1 = z * (2.0 / (j as f64 + 1.0)).sqrt() * p2
                        - ((j as f64) / (j as f64 + 1.0)).sqrt() * p3;
                }
                pp = (2.0 * n as f64).sqrt() * p2;
                let z1 = z;
                z = z1 - p1 / pp;
                if (z - z1).abs() < 1e-14 {
                    break;
                }
            }
            let w = 2.0 / (pp * pp);
            roots[i] = (z, w);
            roots[n - 1 - i] = (-z, w);
        }
        let sqrt_pi = std::f64::consts::PI.sqrt();
        for (x, w) in roots {
            out.push((std::f64::consts::SQRT_2 * x, w / sqrt_pi));
        }
        out
    })
}

/// E[sigmoid(mu + sd·Z)] for Z standard normal.
pub fn expected_sigmoid(mu: f64, sd: f64) -> f64 {
    if sd == 0.0 {
        return sigmoid(mu);
    }
    gauss_hermite()
        .iter()
        .map(|&(z, w)| w * sigmoid(mu + sd * z))
        .sum()
}

/// Splits `total` into `weights.len()` whole parts proportional to `weights` (largest
/// remainder; ties by index), each at least `min`.
fn apportion(total: u64, weights: &[f64], min: u64) -> Vec<u64> {
    let n = weights.len() as u64;
    debug_assert!(total >= n * min);
    let free = total - n * min;
    let sum: f64 = weights.iter().sum();
    let mut parts: Vec<u64> = Vec::with_capacity(weights.len());
    let mut rem: Vec<(f64, usize)> = Vec::with_capacity(weights.len());
    let mut given = 0u64;
    for (i, w) in weights.iter().enumerate() {
        let exact = free as f64 * w / sum;
        let floor = exact.floor() as u64;
        parts.push(floor);
        given += floor;
        rem.push((exact - floor as f64, i));
    }
    // the float floors may overshoot by rounding; take back from the largest parts
    while given > free {
        let (i, _) = parts
            .iter()
            .enumerate()
            .max_by_key(|(_, v)| **v)
            .expect("non-empty");
        parts[i] -= 1;
        given -= 1;
    }
    rem.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    for (_, i) in rem.iter().cycle().take((free - given) as usize) {
        parts[*i] += 1;
    }
    parts.iter().map(|p| p + min).collect()
}

impl Electorate {
    /// Builds the fixed geography and calibrates the model. Deterministic in `seed`.
    pub fn build(model: &Model, n_parties: usize, seed: u64) -> Electorate {
        let mut stations = Vec::new();
        let mut districts = Vec::new();
        let has_districts = model.system.districts.is_some();
        for (r_idx, region) in model.regions.iter().enumerate() {
            let mut rng = stream(seed, Purpose::Geography, FIXED_RUN, r_idx as u64);
            let v = region.registered;
            let s = region.stations as u64;
            let v_urban = (v as f64 * region.urban).round() as u64;
            let v_rural = v - v_urban;
            let s_urban = if v_urban == 0 {
                0
            } else if v_rural == 0 {
                s
            } else {
                let k = model.stations.urban_size_ratio;
                let b = (v_urban as f64 / k + v_rural as f64) / s as f64;
                ((v_urban as f64 / (k * b)).round() as u64).clamp(1, s - 1)
            };
            let s_urban = s_urban.clamp(s.saturating_sub(v_rural), v_urban);
            let s_rural = s - s_urban;
            let mut sizes = Vec::with_capacity(s as usize);
            for (n, voters) in [(s_urban, v_urban), (s_rural, v_rural)] {
                if n == 0 {
                    continue;
                }
                let weights: Vec<f64> = (0..n)
                    .map(|_| {
                        let z: f64 = StandardNormal.sample(&mut rng);
                        (model.stations.log_sd * z).exp()
                    })
                    .collect();
                sizes.extend(apportion(voters, &weights, 1));
            }
            // e-enabled stations: drawn among urban stations first, then rural
            let n_e = ((s as f64) * region.evoting).round() as u64;
            let mut order: Vec<u64> = (0..s).collect();
            shuffle(&mut order[..s_urban as usize], &mut rng);
            shuffle(&mut order[s_urban as usize..], &mut rng);
            let mut evoting = vec![false; s as usize];
            for &j in order.iter().take(n_e as usize) {
                evoting[j as usize] = true;
            }
            // districts: contiguous blocks of stations with about equal registered voters
            let n_d = if has_districts {
                region.districts as u64
            } else {
                0
            };
            let district_of = split_contiguous(&sizes, n_d);
            let first_district = districts.len() as u32;
            let first_station = stations.len() as u32;
            for (j, &size) in sizes.iter().enumerate() {
                stations.push(PollingStation {
                    region: r_idx as u32,
                    district: district_of.as_ref().map(|d| first_district + d[j]),
                    n_registered: size as u32,
                    urban: (j as u64) < s_urban,
                    evoting: evoting[j],
                });
            }
            if let Some(d) = &district_of {
                for di in 0..n_d as u32 {
                    let first = d.iter().position(|&x| x == di).expect("non-empty district");
                    let count = d.iter().filter(|&&x| x == di).count();
                    let (candidates, nominee) = slate(model, n_parties, &mut rng);
                    districts.push(District {
                        region: r_idx as u32,
                        first_station: first_station + first as u32,
                        n_stations: count as u32,
                        candidates,
                        nominee,
                    });
                }
            }
        }
        let mut candidate_offset = Vec::with_capacity(stations.len());
        let mut slots = 0usize;
        for st in &stations {
            candidate_offset.push(slots as u32);
            if let Some(d) = st.district {
                slots += districts[d as usize].candidates.len();
            }
        }
        let mut e = Electorate {
            n_parties,
            stations,
            districts,
            group_turnout_logit: Vec::new(),
            group_pref_log: Vec::new(),
            turnout_sd: model.turnout.station_sd,
            pref_sd: model.preferences.station_sd,
            tilt: model.regions.iter().map(|r| r.tilt).collect(),
            candidate_offset,
            n_candidate_slots: slots,
        };
        e.calibrate(model, seed);
        e
    }

    fn group(&self, st: &PollingStation) -> usize {
        st.region as usize * 2 + usize::from(st.urban)
    }

    fn calibrate(&mut self, model: &Model, seed: u64) {
        let n_groups = model.regions.len() * 2;
        let k = self.n_parties;
        // registered voters per group
        let mut reg = vec![0f64; n_groups];
        for st in &self.stations {
            reg[self.group(st)] += st.n_registered as f64;
        }
        let base_logit = |g: usize| {
            let region = &model.regions[g / 2];
            let t = if g % 2 == 1 {
                model.turnout.urban
            } else {
                model.turnout.rural
            };
            logit(t) + region.turnout_shift
        };
        let sd = model.turnout.station_sd;
        let expected_turnout = |c: f64| -> f64 {
            let total: f64 = reg.iter().sum();
            (0..n_groups)
                .map(|g| reg[g] * expected_sigmoid(base_logit(g) + c, sd))
                .sum::<f64>()
                / total
        };
        let mut shift = 0.0;
        if let Some(target) = model.turnout.target {
            let (mut lo, mut hi) = (-30.0, 30.0);
            for _ in 0..200 {
                let mid = 0.5 * (lo + hi);
                if expected_turnout(mid) < target {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            shift = 0.5 * (lo + hi);
        }
        self.group_turnout_logit = (0..n_groups).map(|g| base_logit(g) + shift).collect();
        let voters: Vec<f64> = (0..n_groups)
            .map(|g| reg[g] * expected_sigmoid(self.group_turnout_logit[g], sd))
            .collect();

        // preferences: log weights per group and party
        let mut base = vec![0f64; n_groups * k];
        for g in 0..n_groups {
            let region = &model.regions[g / 2];
            let shares = if g % 2 == 1 {
                &model.preferences.urban
            } else {
                &model.preferences.rural
            };
            for p in 0..k {
                base[g * k + p] = if shares[p] > 0.0 {
                    shares[p].ln() + region.preference_shift[p]
                } else {
                    f64::NEG_INFINITY
                };
            }
        }
        let mut cal = vec![0f64; k];
        if let Some(target) = &model.preferences.target {
            // fixed antithetic sample of station deviations, shared by all groups
            const PAIRS: usize = 256;
            let mut rng = stream(seed, Purpose::Calibration, FIXED_RUN, 0);
            let psd = model.preferences.station_sd;
            let mut z = Vec::with_capacity(PAIRS * 2 * k);
            for _ in 0..PAIRS {
                let draw: Vec<f64> = (0..k).map(|_| StandardNormal.sample(&mut rng)).collect();
                z.extend(draw.iter().map(|d| psd * d));
                z.extend(draw.iter().map(|d| -psd * d));
            }
            let samples = if psd == 0.0 { 1 } else { PAIRS * 2 };
            let mut achieved = vec![0f64; k];
            let mut w = vec![0f64; k];
            for _ in 0..500 {
                achieved.iter_mut().for_each(|a| *a = 0.0);
                for g in 0..n_groups {
                    if voters[g] == 0.0 {
                        continue;
                    }
                    let sample = Sample {
                        log_base: &base[g * k..(g + 1) * k],
                        cal: &cal,
                        z: &z,
                        samples,
                    };
                    if let Some(t) = model.regions[g / 2].tilt
                        && sd > 0.0
                    {
                        // the tilted party's weight moves with the station's turnout, so its
                        // expected share is taken jointly: over the turnout deviation by
                        // quadrature (each node weighted by its expected voters), over the
                        // party deviations by the sample
                        for &(zt, wt) in gauss_hermite() {
                            let dev = sd * zt;
                            let node_voters =
                                reg[g] * wt * sigmoid(self.group_turnout_logit[g] + dev);
                            let tilt = Some((t.party, t.slope * dev));
                            sample.add_expected(node_voters, tilt, &mut w, &mut achieved);
                        }
                    } else {
                        sample.add_expected(voters[g], None, &mut w, &mut achieved);
                    }
                }
                let total: f64 = achieved.iter().sum();
                let mut worst = 0f64;
                for p in 0..k {
                    let a = achieved[p] / total;
                    if a > 0.0 && target[p] > 0.0 {
                        let step = (target[p] / a).ln();
                        worst = worst.max(step.abs());
                        cal[p] += step;
                    }
                }
                if worst < 1e-10 {
                    break;
                }
            }
        }
        for g in 0..n_groups {
            for p in 0..k {
                base[g * k + p] += cal[p];
            }
        }
        self.group_pref_log = base;
    }

    /// The station's mean turnout logit and the logit-scale spread of station turnout around it
    /// (what [`Electorate::station_turnout`] draws from; for exports and outside baselines).
    pub fn turnout_logit(&self, station_idx: usize) -> (f64, f64) {
        let st = &self.stations[station_idx];
        (self.group_turnout_logit[self.group(st)], self.turnout_sd)
    }

    /// The log-scale spread of each party's station weight (what
    /// [`Electorate::station_preferences`] adds to the log of [`Electorate::expected_shares`]).
    pub fn preference_sd(&self) -> f64 {
        self.pref_sd
    }

    /// Draws the station's turnout probability for a run, and its turnout deviation (the
    /// station's turnout logit less its group's mean: what a region's tilt acts on, to be
    /// given to [`Electorate::station_preferences`]).
    pub fn station_turnout(&self, station_idx: usize, rng: &mut StreamRng) -> (f64, f64) {
        self.station_turnout_with(station_idx, rng, f64::exp)
    }

    /// [`Electorate::station_turnout`] with another `exp` (the station path's inlined one).
    #[inline]
    pub(crate) fn station_turnout_with(
        &self,
        station_idx: usize,
        rng: &mut StreamRng,
        exp: impl Fn(f64) -> f64,
    ) -> (f64, f64) {
        let st = &self.stations[station_idx];
        let mu = self.group_turnout_logit[self.group(st)];
        let z: f64 = if self.turnout_sd > 0.0 {
            StandardNormal.sample(rng)
        } else {
            0.0
        };
        let dev = self.turnout_sd * z;
        (1.0 / (1.0 + exp(-(mu + dev))), dev)
    }

    /// Draws the station's list preference shares for a run into `out` (length = parties);
    /// `turnout_dev` is the station's turnout deviation from [`Electorate::station_turnout`]
    /// (it matters only in a region with a tilt).
    pub fn station_preferences(
        &self,
        station_idx: usize,
        rng: &mut StreamRng,
        turnout_dev: f64,
        out: &mut [f64],
    ) {
        let sum = self.station_weights_with(station_idx, rng, turnout_dev, out, f64::exp);
        for o in out.iter_mut() {
            *o /= sum;
        }
    }

    /// The station's preference weights before normalisation (shares are weight / sum), the
    /// same draws as [`Electorate::station_preferences`], with another `exp` if wanted (the
    /// station path's inlined one); returns the sum.
    #[inline]
    pub(crate) fn station_weights_with(
        &self,
        station_idx: usize,
        rng: &mut StreamRng,
        turnout_dev: f64,
        out: &mut [f64],
        exp: impl Fn(f64) -> f64,
    ) -> f64 {
        let st = &self.stations[station_idx];
        let g = self.group(st);
        let k = self.n_parties;
        let tilt = self.tilt[st.region as usize];
        let mut sum = 0.0;
        for p in 0..k {
            let z: f64 = if self.pref_sd > 0.0 {
                StandardNormal.sample(rng)
            } else {
                0.0
            };
            let mut log_w = self.group_pref_log[g * k + p] + self.pref_sd * z;
            if let Some(t) = tilt
                && t.party == p
            {
                log_w += t.slope * turnout_dev;
            }
            let w = exp(log_w);
            out[p] = w;
            sum += w;
        }
        sum
    }

    /// Expected honest list shares at a station (no station noise): the softmax of its
    /// group's calibrated log weights.
    pub fn expected_shares(&self, station_idx: usize, out: &mut [f64]) {
        let g = self.group(&self.stations[station_idx]);
        let k = self.n_parties;
        let mut sum = 0.0;
        for p in 0..k {
            out[p] = self.group_pref_log[g * k + p].exp();
            sum += out[p];
        }
        for o in out.iter_mut() {
            *o /= sum;
        }
    }

    /// For each station, whether `party`'s expected honest share there is above its expected
    /// national share (weighted by expected voters): the party's strongholds.
    pub fn strongholds(&self, party: usize) -> Vec<bool> {
        let k = self.n_parties;
        let mut shares = vec![0.0; k];
        let mut per_station = Vec::with_capacity(self.stations.len());
        let (mut num, mut den) = (0.0, 0.0);
        for (i, st) in self.stations.iter().enumerate() {
            self.expected_shares(i, &mut shares);
            let voters = st.n_registered as f64
                * expected_sigmoid(self.group_turnout_logit[self.group(st)], self.turnout_sd);
            num += voters * shares[party];
            den += voters;
            per_station.push(shares[party]);
        }
        let national = if den > 0.0 { num / den } else { 0.0 };
        per_station.into_iter().map(|s| s > national).collect()
    }

    /// Total registered voters.
    pub fn n_registered(&self) -> u64 {
        self.stations.iter().map(|s| s.n_registered as u64).sum()
    }

    /// Expected national turnout and list shares under the calibrated model (for reports).
    pub fn expected_turnout(&self) -> f64 {
        let mut v = 0.0;
        let mut r = 0.0;
        for st in &self.stations {
            let t = expected_sigmoid(self.group_turnout_logit[self.group(st)], self.turnout_sd);
            v += t * st.n_registered as f64;
            r += st.n_registered as f64;
        }
        v / r
    }
}

/// Fisher–Yates shuffle with the stream (not `rand::seq`, so the order is pinned here).
fn shuffle(items: &mut [u64], rng: &mut StreamRng) {
    use rand::Rng;
    for i in (1..items.len()).rev() {
        let j = (rng.next_u64() % (i as u64 + 1)) as usize;
        items.swap(i, j);
    }
}

/// Assigns stations (in order) to `n_d` contiguous districts of about equal registered voters,
/// every district non-empty. `None` when there are no districts.
fn split_contiguous(sizes: &[u64], n_d: u64) -> Option<Vec<u32>> {
    if n_d == 0 {
        return None;
    }
    let total: u64 = sizes.iter().sum();
    let n = sizes.len() as u64;
    let mut out = Vec::with_capacity(sizes.len());
    let mut d = 0u64;
    let mut cum = 0u64;
    let mut in_current = 0u64;
    for (j, &size) in sizes.iter().enumerate() {
        let remaining_stations = n - j as u64;
        let remaining_districts = n_d - d;
        // move on when this district reached its share, unless it is empty or the last one;
        // and always when the remaining stations are just enough for the remaining districts
        let boundary = (d + 1) * total / n_d;
        let must_move = remaining_stations < remaining_districts;
        let want_move = in_current > 0 && d + 1 < n_d && cum + size / 2 > boundary;
        if (want_move || must_move) && in_current > 0 && d + 1 < n_d {
            d += 1;
            in_current = 0;
        }
        out.push(d as u32);
        cum += size;
        in_current += 1;
    }
    Some(out)
}

/// Draws a district's candidate slate: each party's nominee with its contest probability,
/// then independents; at least one candidate.
fn slate(
    model: &Model,
    n_parties: usize,
    rng: &mut StreamRng,
) -> (Vec<Candidate>, Vec<Option<u16>>) {
    let c = &model.candidates;
    let mut candidates = Vec::new();
    let mut nominee = vec![None; n_parties];
    for (p, nom) in c.nominations.iter().enumerate() {
        if crate::rng::unit(rng) < nom.contest_share {
            nominee[p] = Some(candidates.len() as u16);
            candidates.push(Candidate {
                party: Some(p as u8),
                appeal: nom.appeal,
            });
        }
    }
    let span = (c.independents.max - c.independents.min) as f64 + 1.0;
    let n_ind = c.independents.min + (crate::rng::unit(rng) * span) as u32;
    let n_ind = n_ind.min(c.independents.max);
    for _ in 0..n_ind {
        candidates.push(Candidate {
            party: None,
            appeal: c.independents.appeal,
        });
    }
    if candidates.is_empty() {
        candidates.push(Candidate {
            party: None,
            appeal: c.independents.appeal,
        });
    }
    (candidates, nominee)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gauss_hermite_integrates_moments() {
        let gh = gauss_hermite();
        let m0: f64 = gh.iter().map(|(_, w)| w).sum();
        let m2: f64 = gh.iter().map(|(z, w)| w * z * z).sum();
        let m4: f64 = gh.iter().map(|(z, w)| w * z.powi(4)).sum();
        assert!((m0 - 1.0).abs() < 1e-12, "{m0}");
        assert!((m2 - 1.0).abs() < 1e-10, "{m2}");
        assert!((m4 - 3.0).abs() < 1e-9, "{m4}");
    }

    #[test]
    fn apportion_is_exact_and_respects_minimum() {
        let parts = apportion(1000, &[1.0, 2.0, 3.0, 0.001], 1);
        assert_eq!(parts.iter().sum::<u64>(), 1000);
        assert!(parts.iter().all(|&p| p >= 1));
        assert_eq!(parts[3], 1);
    }

    #[test]
    fn districts_are_contiguous_and_non_empty() {
        let sizes = vec![5000, 10, 10, 10, 10, 10, 3000, 1];
        for n_d in 1..=8 {
            let d = split_contiguous(&sizes, n_d).unwrap();
            assert_eq!(d[0], 0);
            assert_eq!(*d.last().unwrap() as u64, n_d - 1, "n_d={n_d}: {d:?}");
            assert!(
                d.windows(2).all(|w| w[1] == w[0] || w[1] == w[0] + 1),
                "{d:?}"
            );
        }
    }
}
