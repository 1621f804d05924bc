//! An honest hypothesis fitted to a station-results file's clean part (`tamga infer
//! --from-stations STATIONS.csv`): for published station results with no scenario (Russia 2011's
//! ≈ 95,000 stations), the scenario is derived from the file itself — its regions, their stations
//! and registered voters, its parties — with the honest turnout and share model fitted to the
//! stations the fraud is assumed not to have touched, and candidate mechanisms for the file's
//! leader in `[inference]`.
//!
//! The fit (each step stated so it can be checked; `docs/inference.md`):
//!
//! 1. **Stations** are those of the one station filter of `tamga forensics` (base stations:
//!    consistent protocols, registered ≥ 100). Station turnout is taken on the logit scale,
//!    x = logit(issued ÷ registered), clamped half a voter inside 0 and 1.
//! 2. **Each region's honest turnout** is its lowest substantial turnout peak: the lowest mode
//!    of a Gaussian kernel density of its stations' x holding at least [`PEAK_SHARE`] of them
//!    (Silverman's bandwidth, then twice the bandwidth of the spread below the mode,
//!    [`kernel_mode`]) — Shpilkin's clean-peak assumption applied per region: fraud that adds
//!    ballots moves stations up, away from the peak, so the peak is where the honest stations
//!    are, and when fraud moved most of them, the honest ones left are the lower peak. A region
//!    with fewer than [`MIN_REGION_STATIONS`] base stations takes the national mode.
//! 3. **The clean part** of a region is its stations at or below its mode. The spread of honest
//!    turnout (`turnout.station_sd`) is the root mean square of the clean stations' distances
//!    below their region's mode (the lower half of a symmetric distribution), less the binomial
//!    noise of each station's count (1 ÷ (n t (1 − t)) on the logit scale).
//! 4. **Each region's honest shares** are its clean stations' list votes (a region with fewer
//!    than [`MIN_REGION_STATIONS`] clean stations takes the national clean shares), written as
//!    national shares and per-region log shifts; spoiled ballots the clean stations' rate. The
//!    spread of preferences (`preferences.station_sd`) is read from the two largest parties'
//!    log vote ratio at clean stations: its variance within regions, less the multinomial noise
//!    (1 ÷ v₁ + 1 ÷ v₂), is twice the model's per-party variance.
//! 5. **Station sizes** (`stations.log_sd`): the within-region standard deviation of the log of
//!    registered voters, over all stations of the file.
//!
//! Every region of the file becomes a region of the scenario with all of the file's stations
//! and registered voters (so the file matches it, [`super::stations`]), all urban, all paper.
//! The seat system is a placeholder (a national list of [`PLACEHOLDER_SEATS`] seats, Hare,
//! no threshold): a station file says nothing about seats, so seats are not compared and the
//! seats-moved quantities describe this placeholder only.

use crate::forensics::read::ElectionResults;
use crate::forensics::stats::stations::{filter_stations, leader_of};
use std::fmt::Write;

/// Base stations a region needs for its own turnout mode (and clean stations for its own shares).
pub const MIN_REGION_STATIONS: usize = 20;
/// Seed of a fitted scenario's `[montecarlo]` when `--seed` is not given.
pub const DEFAULT_SEED: u64 = 2011;
/// Seats of the placeholder list tier of a fitted scenario.
pub const PLACEHOLDER_SEATS: u32 = 100;
/// The least share of a region's stations in a turnout peak's basin for the peak to be taken as
/// the honest one when a lower-turnout peak than the highest exists ([`kernel_mode`]).
pub const PEAK_SHARE: f64 = 0.08;
/// Grid points on which a kernel density is searched for its mode.
const GRID: usize = 400;
/// The largest region shift the scenario format accepts.
const MAX_SHIFT: f64 = 10.0;

/// Why no honest model can be fitted to a file.
#[derive(Debug, thiserror::Error)]
pub enum FitError {
    #[error(
        "no station has ballots and at least 100 registered voters (the station filter of `tamga forensics`): there is no clean part to fit"
    )]
    NoStations,
    #[error(
        "the stations at or below their region's turnout peak have no valid votes: there are no shares to fit"
    )]
    NoVotes,
    #[error("the fitted scenario is not valid: {0}")]
    Scenario(String),
}

/// One region's fit (in the comments of the scenario written).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct RegionFit {
    pub name: String,
    pub stations: usize,
    pub registered: u64,
    /// Base stations, and those at or below the region's turnout mode.
    pub base: usize,
    pub clean: usize,
    /// Honest turnout (the mode) and the leader's honest share of valid votes.
    pub turnout: f64,
    pub leader_share: f64,
    /// Whether the turnout mode, and the shares, are the national ones (too few stations).
    pub national_turnout: bool,
    pub national_shares: bool,
}

/// The fitted honest model, and the scenario text that carries it.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct HonestFit {
    /// The file's leader (its largest option), by column.
    pub leader: usize,
    pub national_turnout: f64,
    pub turnout_sd: f64,
    pub preference_sd: f64,
    pub log_size_sd: f64,
    pub invalid_rate: f64,
    /// National clean shares of valid votes, per column.
    pub shares: Vec<f64>,
    pub regions: Vec<RegionFit>,
    /// The scenario (TOML): parties, regions, the honest model as variant `honest`, and the
    /// candidate mechanisms for the leader in `[inference]`.
    #[serde(skip)]
    pub scenario: String,
}

fn logit(t: f64) -> f64 {
    (t / (1.0 - t)).ln()
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// A station's turnout on the logit scale, half a voter inside 0 and 1.
fn logit_turnout(issued: u64, registered: u64) -> f64 {
    let n = registered.max(1) as f64;
    let t = (issued as f64).clamp(0.5, n - 0.5) / n;
    logit(t.clamp(1e-9, 1.0 - 1e-9))
}

/// The mode of `xs` robust to values moved upwards: the *lowest* peak of a Gaussian kernel
/// density with Silverman's bandwidth whose basin (between the density's minima on either side)
/// holds at least [`PEAK_SHARE`] of the values — when fraud moved most stations, the honest ones
/// left form a lower peak than the moved ones — then twice again with the bandwidth from the
/// spread *below* that mode (the root mean square distance of the values under it), so that a
/// cluster of stations moved to high turnout does not widen the kernel and drag the mode
/// towards it (`None` when `xs` is empty).
pub fn kernel_mode(xs: &[f64]) -> Option<f64> {
    let n = xs.len() as f64;
    let mut mode = density_mode(xs, None)?;
    for _ in 0..2 {
        let below: Vec<f64> = xs
            .iter()
            .filter(|&&x| x <= mode)
            .map(|x| (x - mode).powi(2))
            .collect();
        if below.len() < 2 {
            break;
        }
        let spread = (below.iter().sum::<f64>() / below.len() as f64).sqrt();
        if spread <= 0.0 {
            break;
        }
        mode = density_mode(xs, Some(0.9 * spread * n.powf(-0.2)))?;
    }
    Some(mode)
}

/// The mode of a Gaussian kernel density of `xs` with bandwidth `h` (Silverman's when `None`),
/// searched on a grid between the smallest and largest value.
fn density_mode(xs: &[f64], h: Option<f64>) -> Option<f64> {
    let n = xs.len();
    if n == 0 {
        return None;
    }
    let (lo, hi) = xs
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
            (a.min(x), b.max(x))
        });
    if hi - lo < 1e-12 {
        return Some(lo);
    }
    let h = h.unwrap_or_else(|| {
        let (_, sd) = crate::stats::mean_sd(xs);
        let iqr = crate::stats::quantile(xs, 0.75) - crate::stats::quantile(xs, 0.25);
        let spread = if iqr > 0.0 { sd.min(iqr / 1.34) } else { sd };
        0.9 * spread * (n as f64).powf(-0.2)
    });
    let h = h.max((hi - lo) / GRID as f64);
    let at = |g: usize| lo + (hi - lo) * g as f64 / GRID as f64;
    let density: Vec<f64> = (0..=GRID)
        .map(|g| {
            xs.iter()
                .map(|&x| (-0.5 * ((x - at(g)) / h).powi(2)).exp())
                .sum()
        })
        .collect();
    // the lowest peak holding at least PEAK_SHARE of the values in its basin (between the
    // density's minima on either side); the highest peak when none does
    let mut best = 0;
    for g in 1..=GRID {
        if density[g] > density[best] {
            best = g;
        }
    }
    let mut g = 0;
    while g <= GRID {
        let peak =
            (g == 0 || density[g] >= density[g - 1]) && (g == GRID || density[g] > density[g + 1]);
        if peak {
            let mut left = g;
            while left > 0 && density[left - 1] <= density[left] {
                left -= 1;
            }
            let mut right = g;
            while right < GRID && density[right + 1] <= density[right] {
                right += 1;
            }
            let (a, b) = (at(left), at(right));
            let inside = xs.iter().filter(|&&x| x >= a && x <= b).count();
            if inside as f64 >= PEAK_SHARE * n as f64 {
                return Some(at(g));
            }
            g = right.max(g + 1);
        } else {
            g += 1;
        }
    }
    Some(at(best))
}

/// A TOML basic string.
fn quoted(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// Fits the honest model to `results` (see the module's documentation) and writes it as a
/// scenario named after `label` (the file's name) with seed `seed`.
pub fn fit(results: &ElectionResults, label: &str, seed: u64) -> Result<HonestFit, FitError> {
    let k = results.options.len();
    let leader = leader_of(&results.option_totals());
    // regions in order of first appearance, by trimmed name ignoring case (as the matching does)
    let mut keys: Vec<String> = Vec::new();
    let mut names: Vec<String> = Vec::new();
    let mut region_of = Vec::with_capacity(results.stations.len());
    for s in &results.stations {
        let key = s.region.trim().to_lowercase();
        let r = match keys.iter().position(|x| *x == key) {
            Some(r) => r,
            None => {
                keys.push(key);
                names.push(s.region.trim().to_string());
                keys.len() - 1
            }
        };
        region_of.push(r);
    }
    let n_regions = names.len();
    let sets = filter_stations(results.station_counts(leader));
    if sets.base.is_empty() {
        return Err(FitError::NoStations);
    }
    // 2. turnout modes
    let mut xs_of: Vec<Vec<f64>> = vec![Vec::new(); n_regions];
    let all: Vec<f64> = sets
        .base
        .iter()
        .map(|c| logit_turnout(c.issued, c.registered))
        .collect();
    for (c, &x) in sets.base.iter().zip(&all) {
        xs_of[region_of[c.station_idx]].push(x);
    }
    let national_mode = kernel_mode(&all).ok_or(FitError::NoStations)?;
    let modes: Vec<(f64, bool)> = xs_of
        .iter()
        .map(|xs| match kernel_mode(xs) {
            Some(m) if xs.len() >= MIN_REGION_STATIONS => (m, false),
            _ => (national_mode, true),
        })
        .collect();
    // 3. clean stations, turnout spread
    let mut clean_of: Vec<Vec<usize>> = vec![Vec::new(); n_regions];
    let (mut d2, mut noise, mut n_clean) = (0.0, 0.0, 0usize);
    for (c, &x) in sets.base.iter().zip(&all) {
        let r = region_of[c.station_idx];
        if x <= modes[r].0 {
            clean_of[r].push(c.station_idx);
            let t = sigmoid(x);
            d2 += (x - modes[r].0).powi(2);
            noise += 1.0 / (c.registered as f64 * t * (1.0 - t));
            n_clean += 1;
        }
    }
    let turnout_sd = if n_clean > 0 {
        ((d2 - noise) / n_clean as f64).max(0.0).sqrt().min(5.0)
    } else {
        0.0
    };
    // 4. shares
    let votes_of = |ids: &[usize]| -> (Vec<u64>, u64, u64) {
        let mut v = vec![0u64; k];
        let (mut invalid, mut ballots) = (0u64, 0u64);
        for &i in ids {
            let s = &results.stations[i];
            for (a, b) in v.iter_mut().zip(&s.votes) {
                *a += b;
            }
            invalid += s.invalid;
            ballots += s.ballots();
        }
        (v, invalid, ballots)
    };
    let all_clean: Vec<usize> = clean_of.iter().flatten().copied().collect();
    let (national_votes, invalid, ballots) = votes_of(&all_clean);
    let national_total: u64 = national_votes.iter().sum();
    if national_total == 0 {
        return Err(FitError::NoVotes);
    }
    let shares: Vec<f64> = national_votes
        .iter()
        .map(|&v| v as f64 / national_total as f64)
        .collect();
    let invalid_rate = invalid as f64 / ballots.max(1) as f64;
    let region_shares: Vec<(Vec<f64>, bool)> = clean_of
        .iter()
        .map(|ids| {
            let (v, _, _) = votes_of(ids);
            let total: u64 = v.iter().sum();
            if ids.len() < MIN_REGION_STATIONS || total == 0 {
                (shares.clone(), true)
            } else {
                (v.iter().map(|&x| x as f64 / total as f64).collect(), false)
            }
        })
        .collect();
    // preference spread from the two largest parties' log ratio within regions
    let mut order: Vec<usize> = (0..k).collect();
    order.sort_by(|&a, &b| national_votes[b].cmp(&national_votes[a]).then(a.cmp(&b)));
    let preference_sd = if k >= 2 {
        let (a, b) = (order[0], order[1]);
        let (mut ss, mut nz, mut n) = (0.0, 0.0, 0usize);
        for ids in &clean_of {
            let ys: Vec<(f64, f64)> = ids
                .iter()
                .map(|&i| &results.stations[i])
                .filter(|s| s.votes[a] >= 5 && s.votes[b] >= 5)
                .map(|s| {
                    let (va, vb) = (s.votes[a] as f64, s.votes[b] as f64);
                    ((va / vb).ln(), 1.0 / va + 1.0 / vb)
                })
                .collect();
            if ys.len() < 2 {
                continue;
            }
            let mean = ys.iter().map(|y| y.0).sum::<f64>() / ys.len() as f64;
            ss += ys.iter().map(|y| (y.0 - mean).powi(2)).sum::<f64>();
            nz += ys.iter().map(|y| y.1).sum::<f64>();
            n += ys.len() - 1;
        }
        if n > 0 {
            ((ss - nz) / n as f64 / 2.0).max(0.0).sqrt().min(5.0)
        } else {
            0.0
        }
    } else {
        0.0
    };
    // 5. station sizes, registered and stations per region
    let mut logs: Vec<Vec<f64>> = vec![Vec::new(); n_regions];
    let mut stations = vec![0usize; n_regions];
    let mut registered = vec![0u64; n_regions];
    for (s, &r) in results.stations.iter().zip(&region_of) {
        stations[r] += 1;
        registered[r] += s.registered;
        logs[r].push((s.registered.max(1) as f64).ln());
    }
    let (mut ss, mut n) = (0.0, 0usize);
    for l in &logs {
        if l.len() >= 2 {
            let m = l.iter().sum::<f64>() / l.len() as f64;
            ss += l.iter().map(|x| (x - m).powi(2)).sum::<f64>();
            n += l.len() - 1;
        }
    }
    let log_size_sd = if n > 0 {
        (ss / n as f64).sqrt().min(3.0)
    } else {
        0.0
    };

    let regions: Vec<RegionFit> = (0..n_regions)
        .map(|r| RegionFit {
            name: names[r].clone(),
            stations: stations[r],
            registered: registered[r],
            base: xs_of[r].len(),
            clean: clean_of[r].len(),
            turnout: sigmoid(modes[r].0),
            leader_share: region_shares[r].0[leader],
            national_turnout: modes[r].1,
            national_shares: region_shares[r].1,
        })
        .collect();
    let mut fit = HonestFit {
        leader,
        national_turnout: sigmoid(national_mode),
        turnout_sd,
        preference_sd,
        log_size_sd,
        invalid_rate,
        shares,
        regions,
        scenario: String::new(),
    };
    fit.scenario = fit.to_toml(results, label, seed, &modes, national_mode, &region_shares);
    crate::scenario::parse(&fit.scenario, label).map_err(|e| FitError::Scenario(e.to_string()))?;
    Ok(fit)
}

/// The party id of option column `c`: `p1`, `p2`, … in column order.
pub fn party_id(c: usize) -> String {
    format!("p{}", c + 1)
}

impl HonestFit {
    fn to_toml(
        &self,
        results: &ElectionResults,
        label: &str,
        seed: u64,
        modes: &[(f64, bool)],
        national_mode: f64,
        region_shares: &[(Vec<f64>, bool)],
    ) -> String {
        let mut s = String::new();
        let leader = party_id(self.leader);
        let _ = writeln!(
            s,
            "# The honest model fitted to the clean part of {label} by `tamga infer --from-stations`\n\
             # (src/infer/honest.rs; docs/inference.md). Each region's honest turnout is its lowest\n\
             # substantial turnout peak, its shares those of its stations at or below that turnout.\n\
             # The seat system is a placeholder: a station file says nothing about seats.\n\
             format = 1\n\n[election]\nname = {}\ndescription = \"honest model fitted to a station-results file's clean part\"\n",
            quoted(&format!("{label} (fitted honest model)"))
        );
        for (c, name) in results.options.iter().enumerate() {
            let _ = writeln!(
                s,
                "[[party]]\nid = \"{}\"\nname = {}\n",
                party_id(c),
                quoted(name.trim())
            );
        }
        let _ = writeln!(
            s,
            "[system.list]\nseats = {PLACEHOLDER_SEATS}\nmethod = \"hare\"\n\n[stations]\nlog_sd = {}\n",
            self.log_size_sd
        );
        for (r, reg) in self.regions.iter().enumerate() {
            let _ = writeln!(
                s,
                "# {} of {} stations at or below the turnout peak {:.1} %{}; leader's clean share {:.1} %{}",
                reg.clean,
                reg.base,
                100.0 * reg.turnout,
                if reg.national_turnout {
                    " (national: too few stations)"
                } else {
                    ""
                },
                100.0 * reg.leader_share,
                if reg.national_shares {
                    " (national)"
                } else {
                    ""
                }
            );
            let shift = (modes[r].0 - national_mode).clamp(-MAX_SHIFT, MAX_SHIFT);
            let prefs: Vec<String> = (0..self.shares.len())
                .filter(|&p| self.shares[p] > 0.0)
                .map(|p| {
                    let q = region_shares[r].0[p];
                    let d = if q > 0.0 {
                        (q / self.shares[p]).ln().clamp(-MAX_SHIFT, MAX_SHIFT)
                    } else {
                        -MAX_SHIFT
                    };
                    format!("{} = {d}", party_id(p))
                })
                .collect();
            let _ = writeln!(
                s,
                "[[region]]\nname = {}\nregistered = {}\nstations = {}\nurban = 1.0\nturnout_shift = {shift}\npreference_shift = {{ {} }}\n",
                quoted(&reg.name),
                reg.registered.max(reg.stations as u64).max(1),
                reg.stations,
                prefs.join(", ")
            );
        }
        let t = self.national_turnout;
        let shares: Vec<String> = self
            .shares
            .iter()
            .enumerate()
            .map(|(p, &q)| format!("{} = {q}", party_id(p)))
            .collect();
        let _ = writeln!(
            s,
            "[turnout]\nurban = {t}\nrural = {t}\nstation_sd = {}\n\n[preferences]\nurban = {{ {sh} }}\nrural = {{ {sh} }}\nstation_sd = {}\n\n[ballots]\ninvalid_rate = {}\n\n[montecarlo]\nruns = 10\nseed = {seed}\npath = \"station\"\n\n[[variant]]\nname = \"honest\"\ndescription = \"the fitted honest model\"\n",
            self.turnout_sd,
            self.preference_sd,
            self.invalid_rate,
            sh = shares.join(", ")
        );
        let _ = writeln!(
            s,
            "# Candidate mechanisms, all for the file's leader ({}). Station statistics and national\n\
             # turnout and shares are compared; a miss of half a point in a share weighs as one unit.\n\
             [inference]\nhypothesis = \"honest\"\nstatistics = [\"turnout\", \"shares\"]\nshare_tolerance = 0.005\n\n\
             [[inference.mechanism]]\nname = \"stuffing\"\nkind = \"stuffing\"\nbeneficiary = \"{leader}\"\nrate = [0.0, 0.9]\nstations = [0.01, 1.0]\n\n\
             [[inference.mechanism]]\nname = \"protocols\"\nkind = \"protocol\"\nbeneficiary = \"{leader}\"\nshare = [0.0, 0.6]\nstations = [0.01, 1.0]\n\n\
             [[inference.mechanism]]\nname = \"klimek\"\nkind = \"klimek\"\nbeneficiary = \"{leader}\"\nincremental = [0.0, 0.9]\nextreme = [0.0, 0.1]\n\n\
             [[inference.mechanism]]\nname = \"rounding\"\nkind = \"rounding\"\nbeneficiary = \"{leader}\"\nstations = [0.0, 0.1]",
            quoted(results.options[self.leader].trim())
        );
        s
    }
}
