//! Fraud models: each a transformation at one layer of the election, with its targeting.
//!
//! | layer | model | what it changes |
//! |---|---|---|
//! | voters | `pressure` | a targeted voter votes for the beneficiary instead of their choice (list ballot) |
//! | voters | `carousel` | extra real ballots for the beneficiary (a share of the registered), issued to the same people again |
//! | station | `stuffing` | ballots for the beneficiary on behalf of a share of the non-voters, into the paper box or through the voting machine before close |
//! | station | `protocol` | between count and protocol, a share of the other lists' votes is written down for the beneficiary |
//! | station | `rounding` | the protocol's beneficiary share is rounded up to the next whole percent by taking votes from the others; with `of = "turnout"`, the turnout is rounded up with ballots added for the beneficiary |
//! | station | `klimek` | Klimek et al. (PNAS 2012): with probability f_i incremental fraud x ~ \|N(0, θ)\|, with f_e extreme fraud x = 1 − \|N(0, 0.075)\|; a share x of non-voters is stuffed and a share x^α of the other lists' votes moved to the beneficiary; with `turnout_bias` κ > 0 both probabilities are multiplied by exp(κz − κ²/2), z the station's turnout before fraud as a standard score of its region's honest turnout ([`klimek_turnout_weight`]) |
//! | machine | `flip` | the machine records the beneficiary instead of another list with probability `share` |
//! | machine | `drop` | the machine silently drops a ballot for another list with probability `share` (the voter still gets a receipt) |
//! | ledger | `ledger_rewrite` | after close, `entries` ballot entries for other lists are rewritten for the beneficiary, the chain recomputed (or not), and the machine totals and protocol changed to match; with `forge_head` the published head is replaced too |
//! | ledger | `ledger_truncate` | after close, the last `entries` ballot entries are cut off (resealed with a fresh close, or not) and the protocol changed to match |
//! | tabulation | `aggregate` | regional aggregates move a share of the other lists' votes to the beneficiary (`level = "region"`), or district commissions' totals move a share of the other candidates' votes to the beneficiary's nominee (`level = "district"`, round 1 and runoff); station protocols stay honest |
//!
//! Targeting: a share of eligible stations (drawn per run from the `Fraud` stream, so paired
//! across variants), restricted by area (urban/rural), station kind (paper/e-enabled), regions
//! and the beneficiary's strongholds (stations whose expected honest share for it is above its
//! expected national share). Constants and defaults are explained in `docs/fraud-models.md`.
//!
//! Pure functions on counts; no I/O.

use crate::rng::unit;

/// Where a fraud applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Area {
    All,
    Urban,
    Rural,
}

/// Which stations by equipment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StationKind {
    All,
    Paper,
    Electronic,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Target {
    /// Share of eligible stations targeted.
    pub stations: f64,
    pub area: Area,
    pub station_kind: StationKind,
    /// Region indices, or all regions.
    pub regions: Option<Vec<u32>>,
    pub strongholds: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub enum FraudKind {
    Pressure {
        share: f64,
    },
    Carousel {
        rate: f64,
    },
    Stuffing {
        rate: f64,
        via_machine: bool,
    },
    Protocol {
        share: f64,
    },
    /// Round the beneficiary's share (or, with `turnout`, the turnout) up to a whole percent.
    Rounding {
        turnout: bool,
    },
    Klimek {
        incremental: f64,
        extreme: f64,
        alpha: f64,
        theta: f64,
        /// κ ≥ 0: fraud likelier where turnout is already high ([`klimek_turnout_weight`]);
        /// 0 is Klimek et al.'s model, every station alike.
        turnout_bias: f64,
    },
    Flip {
        share: f64,
    },
    Drop {
        share: f64,
    },
    LedgerRewrite {
        entries: u32,
        recompute: bool,
        forge_head: bool,
    },
    LedgerTruncate {
        entries: u32,
        reseal: bool,
    },
    Aggregate {
        share: f64,
        level: AggregateLevel,
    },
}

/// Which published totals an `aggregate` fraud alters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AggregateLevel {
    /// Regional (territorial) list totals: the party-list result.
    Region,
    /// District commissions' candidate totals: the single-member result.
    District,
}

impl FraudKind {
    pub fn name(&self) -> &'static str {
        match self {
            FraudKind::Pressure { .. } => "pressure",
            FraudKind::Carousel { .. } => "carousel",
            FraudKind::Stuffing { .. } => "stuffing",
            FraudKind::Protocol { .. } => "protocol",
            FraudKind::Rounding { .. } => "rounding",
            FraudKind::Klimek { .. } => "klimek",
            FraudKind::Flip { .. } => "flip",
            FraudKind::Drop { .. } => "drop",
            FraudKind::LedgerRewrite { .. } => "ledger_rewrite",
            FraudKind::LedgerTruncate { .. } => "ledger_truncate",
            FraudKind::Aggregate { .. } => "aggregate",
        }
    }
}

/// One fraud model of a variant.
#[derive(Clone, Debug, PartialEq)]
pub struct FraudModel {
    pub kind: FraudKind,
    /// Party index the fraud favours.
    pub beneficiary: u8,
    pub target: Target,
}

/// What a station looks like to the targeting rule.
#[derive(Clone, Copy, Debug)]
pub struct StationFacts {
    pub region: u32,
    pub urban: bool,
    pub evoting: bool,
    /// Whether the beneficiary's expected honest share here is above its national one.
    pub stronghold: bool,
}

impl Target {
    /// Whether a station is eligible (before the share-of-stations draw).
    pub fn eligible(&self, s: &StationFacts) -> bool {
        let area = match self.area {
            Area::All => true,
            Area::Urban => s.urban,
            Area::Rural => !s.urban,
        };
        let kind = match self.station_kind {
            StationKind::All => true,
            StationKind::Paper => !s.evoting,
            StationKind::Electronic => s.evoting,
        };
        let region = self.regions.as_ref().is_none_or(|r| r.contains(&s.region));
        area && kind && region && (!self.strongholds || s.stronghold)
    }
}

/// Region-level tabulation fraud on one region's published list totals (`list`: valid votes
/// per party): for every `aggregate` model with `level = "region"` whose regions include
/// `region` (scenario order), `round(share × others)` of the other lists' votes move to the
/// beneficiary ([`move_share`]). The Monte Carlo loop ([`crate::tabulation`]) and election
/// packages ([`crate::package`]) both alter aggregates here. Returns the votes moved.
pub fn alter_region_totals(frauds: &[FraudModel], region: u32, list: &mut [u64]) -> u64 {
    alter_totals(
        frauds,
        AggregateLevel::Region,
        region,
        |p| Some(p as usize),
        list,
    )
}

/// District-level tabulation fraud on one district's published totals: for every
/// `aggregate` model with `level = "district"` whose regions include `region` (scenario order),
/// `round(share × others)` of the other slots' votes move to the slot of the beneficiary's
/// nominee (`slot_of(party)`; no nominee, nothing moves). `votes` are round-1 candidate totals or
/// a runoff's two finalists. Returns the votes moved.
pub fn alter_district_totals(
    frauds: &[FraudModel],
    region: u32,
    slot_of: impl Fn(u8) -> Option<usize>,
    votes: &mut [u64],
) -> u64 {
    alter_totals(frauds, AggregateLevel::District, region, slot_of, votes)
}

/// Tabulation fraud at `level` on one unit's totals (see [`alter_region_totals`] and
/// [`alter_district_totals`]).
fn alter_totals(
    frauds: &[FraudModel],
    level: AggregateLevel,
    region: u32,
    slot_of: impl Fn(u8) -> Option<usize>,
    votes: &mut [u64],
) -> u64 {
    let mut moved = 0u64;
    for f in frauds {
        let FraudKind::Aggregate { share, level: l } = f.kind else {
            continue;
        };
        if l != level
            || !f
                .target
                .regions
                .as_ref()
                .is_none_or(|r| r.contains(&region))
        {
            continue;
        }
        let Some(slot) = slot_of(f.beneficiary).filter(|&c| c < votes.len()) else {
            continue;
        };
        let mut row: Vec<u32> = votes
            .iter()
            .map(|&v| v.min(u32::MAX as u64) as u32)
            .collect();
        moved += move_share(&mut row, slot, share) as u64;
        for (v, r) in votes.iter_mut().zip(&row) {
            *v = *r as u64;
        }
    }
    moved
}

/// Votes of every list but the beneficiary's.
fn others_total(row: &[u32], beneficiary: usize) -> u64 {
    row.iter()
        .enumerate()
        .filter(|(i, _)| *i != beneficiary)
        .map(|(_, v)| *v as u64)
        .sum()
}

/// Moves `round(share × others)` votes from the other lists to the beneficiary, taking from each
/// list in proportion (largest remainder, ties to the lower index). `row` holds valid votes per
/// party. Returns the number of votes moved.
pub fn move_share(row: &mut [u32], beneficiary: usize, share: f64) -> u32 {
    let others = others_total(row, beneficiary);
    let target = ((others as f64) * share.clamp(0.0, 1.0)).round() as u64;
    move_votes(row, beneficiary, target.min(others) as u32)
}

/// Moves exactly `n` votes (at most the others' total) to the beneficiary, proportionally.
pub fn move_votes(row: &mut [u32], beneficiary: usize, n: u32) -> u32 {
    let others = others_total(row, beneficiary);
    if others == 0 || n == 0 {
        return 0;
    }
    let n = (n as u64).min(others);
    let mut taken = vec![0u64; row.len()];
    let mut rem: Vec<(u64, usize)> = Vec::new();
    let mut total = 0u64;
    for (i, &v) in row.iter().enumerate() {
        if i == beneficiary {
            continue;
        }
        let exact = n * v as u64;
        taken[i] = exact / others;
        total += taken[i];
        rem.push((exact % others, i));
    }
    rem.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for (_, i) in rem {
        if total == n {
            break;
        }
        if taken[i] < row[i] as u64 {
            taken[i] += 1;
            total += 1;
        }
    }
    for (i, t) in taken.iter().enumerate() {
        row[i] -= *t as u32;
    }
    row[beneficiary] += total as u32;
    total as u32
}

/// Rounds the beneficiary's share of `ballots` up to the next whole percent (if it is not one
/// already) by moving votes from the others. Returns the votes moved.
pub fn round_up_share(row: &mut [u32], beneficiary: usize, ballots: u64) -> u32 {
    if ballots == 0 {
        return 0;
    }
    let v = row[beneficiary] as u64;
    let pct_x100 = v * 10_000 / ballots; // hundredths of a percent
    if pct_x100.is_multiple_of(100) {
        return 0;
    }
    let next = pct_x100 / 100 + 1;
    let needed = (next * ballots).div_ceil(100).saturating_sub(v);
    move_votes(row, beneficiary, needed as u32)
}

/// Draws the Klimek fraud intensity x for one station with the same model as the forensics
/// fit ([`crate::forensics::stats::klimek`]): extreme with probability `f_e` (x = 1 − |N(0, 0.075)|
/// truncated to [0, 1]), else incremental with probability `f_i` (x = |N(0, θ)| truncated to
/// [0, 1]), else 0 — two uniforms, mapped through the truncated normals' inverse CDFs.
pub fn klimek_intensity(
    rng: &mut impl rand::Rng,
    incremental: f64,
    extreme: f64,
    theta: f64,
) -> f64 {
    use crate::forensics::stats::klimek::EXTREME_SD;
    use crate::stats::TruncatedNormal;
    let u = unit(rng);
    let v = unit(rng);
    if u < extreme {
        1.0 - TruncatedNormal::new(0.0, EXTREME_SD, 0.0, 1.0).at(v)
    } else if u < extreme + incremental {
        TruncatedNormal::new(0.0, theta, 0.0, 1.0).at(v)
    } else {
        0.0
    }
}

/// The largest `turnout_bias` a scenario may give: at κ = 5 a station one standard deviation
/// above its region's turnout is e⁵ ≈ 150 times as likely to be touched as an average one.
pub const MAX_TURNOUT_BIAS: f64 = 5.0;

/// The factor by which Klimek's probabilities `f_i` and `f_e` are multiplied at a station with
/// `turnout_bias` κ: `exp(κz − κ²/2)`, where `z = (logit t − mean) ÷ sd` is the standard score of
/// the station's turnout before fraud `t = issued ÷ registered` (kept within half a voter of 0
/// and 1) in its region's honest turnout, normal on the logit scale with `mean` and `sd`. Its
/// mean over honest stations is 1 (`E[exp(κz)] = exp(κ²/2)` for a standard normal z), so `f_i`
/// and `f_e` stay the shares of stations expected to be touched, before the clamp of
/// [`klimek_biased`]; it only moves the fraud towards stations of high turnout. 1 for κ = 0.
pub fn klimek_turnout_weight(kappa: f64, issued: u64, registered: u64, mean: f64, sd: f64) -> f64 {
    if kappa <= 0.0 || registered == 0 || sd <= 0.0 {
        return 1.0;
    }
    let reg = registered as f64;
    let t = (issued as f64).clamp(0.5, (reg - 0.5).max(0.5)) / reg;
    let z = ((t / (1.0 - t)).ln() - mean) / sd;
    (kappa * z - kappa * kappa / 2.0).exp()
}

/// Klimek's `(f_i, f_e)` at a station whose [`klimek_turnout_weight`] is `w`: each multiplied
/// by it, `f_e` at most 1 and `f_i` at most what `f_e` leaves. Unchanged for `w = 1`.
pub fn klimek_biased(incremental: f64, extreme: f64, w: f64) -> (f64, f64) {
    if w == 1.0 {
        return (incremental, extreme);
    }
    let fe = (extreme * w).min(1.0);
    ((incremental * w).min(1.0 - fe), fe)
}

/// Ballots to add so that `issued / registered` reaches the next whole percent (0 when it is
/// one already, or when that would exceed the register).
pub fn turnout_round_up(issued: u64, registered: u64) -> u64 {
    if registered == 0 {
        return 0;
    }
    let pct_x100 = issued * 10_000 / registered;
    if pct_x100.is_multiple_of(100) {
        return 0;
    }
    let next = pct_x100 / 100 + 1;
    let target = (next * registered).div_ceil(100);
    if target > registered {
        0
    } else {
        target - issued
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A station of `reg` voters whose turnout logit is `mean + sd·z`, as `issued`.
    fn issued_at(z: f64, mean: f64, sd: f64, reg: u64) -> u64 {
        let t = 1.0 / (1.0 + (-(mean + sd * z)).exp());
        (t * reg as f64).round() as u64
    }

    #[test]
    fn the_turnout_weight_is_one_without_bias_and_tilts_the_touched_stations_by_kappa() {
        let (mean, sd, reg) = (0.3, 0.4, 1_000_000u64);
        for z in [-3.0, -1.0, 0.0, 0.7, 2.5] {
            let issued = issued_at(z, mean, sd, reg);
            assert_eq!(klimek_turnout_weight(0.0, issued, reg, mean, sd), 1.0);
        }
        assert_eq!(klimek_biased(0.3, 0.05, 1.0), (0.3, 0.05));
        // rises with turnout; at z = κ/2 it is 1 (exp(κ·κ/2 − κ²/2))
        let w = |z: f64| klimek_turnout_weight(2.0, issued_at(z, mean, sd, reg), reg, mean, sd);
        assert!(w(-1.0) < w(0.0) && w(0.0) < w(1.0) && w(1.0) < w(2.0));
        assert!((w(1.0) - 1.0).abs() < 1e-3, "{}", w(1.0));
        // over honest stations (z standard normal, by the midpoint rule on a fine grid) the weight
        // averages 1, and the stations it touches have z with mean κ (an exponential tilt of
        // the normal): with a sign error or without the −κ²/2 both fail
        for kappa in [0.5, 1.0, 2.0, 3.0] {
            let (mut mass, mut first) = (0.0, 0.0);
            let h = 0.001;
            let mut z = -12.0 + h / 2.0;
            while z < 12.0 {
                let wz = klimek_turnout_weight(kappa, issued_at(z, mean, sd, reg), reg, mean, sd);
                let p = crate::stats::normal_pdf(z) * h;
                mass += p * wz;
                first += p * wz * z;
                z += h;
            }
            assert!((mass - 1.0).abs() < 1e-3, "κ {kappa}: mean weight {mass}");
            assert!(
                (first / mass - kappa).abs() < 1e-2,
                "κ {kappa}: mean z touched {}",
                first / mass
            );
        }
        // clamped: f_e at most 1, f_i at most what f_e leaves
        assert_eq!(klimek_biased(0.5, 0.2, 10.0), (0.0, 1.0));
        let (fi, fe) = klimek_biased(0.5, 0.05, 4.0);
        assert!(
            (fe - 0.2).abs() < 1e-12 && (fi - 0.8).abs() < 1e-12,
            "{fi} {fe}"
        );
        // an empty or full station, or no register, stays finite
        for issued in [0, reg] {
            assert!(klimek_turnout_weight(2.0, issued, reg, mean, sd).is_finite());
        }
        assert_eq!(klimek_turnout_weight(2.0, 0, 0, mean, sd), 1.0);
    }

    #[test]
    fn turnout_rounding_lands_on_a_whole_percent() {
        assert_eq!(turnout_round_up(4_321, 10_000), 79);
        assert_eq!(turnout_round_up(4_400, 10_000), 0);
        assert_eq!(turnout_round_up(995, 1_000), 5);
        // 1,234 of 1,777 = 69.44 %: 70 % needs ⌈1,243.9⌉ = 1,244
        assert_eq!(turnout_round_up(1_234, 1_777), 10);
    }

    #[test]
    fn move_share_keeps_the_total_and_takes_proportionally() {
        let mut row = vec![100, 300, 100];
        let moved = move_share(&mut row, 0, 0.5);
        assert_eq!(moved, 200);
        assert_eq!(row, vec![300, 150, 50]);
        assert_eq!(row.iter().sum::<u32>(), 500);
    }

    #[test]
    fn move_votes_never_takes_more_than_there_is() {
        let mut row = vec![5, 1, 0];
        assert_eq!(move_votes(&mut row, 0, 10), 1);
        assert_eq!(row, vec![6, 0, 0]);
    }

    #[test]
    fn rounding_lands_on_a_whole_percent() {
        let mut row = vec![4_321, 5_000, 679];
        let moved = round_up_share(&mut row, 0, 10_000);
        assert_eq!(row[0], 4_400);
        assert_eq!(moved, 79);
        assert_eq!(row.iter().sum::<u32>(), 10_000);
        // already whole: nothing moves
        assert_eq!(round_up_share(&mut row, 0, 10_000), 0);
    }

    #[test]
    fn targeting_rules() {
        let t = Target {
            stations: 1.0,
            area: Area::Rural,
            station_kind: StationKind::Paper,
            regions: Some(vec![2]),
            strongholds: true,
        };
        let s = StationFacts {
            region: 2,
            urban: false,
            evoting: false,
            stronghold: true,
        };
        assert!(t.eligible(&s));
        assert!(!t.eligible(&StationFacts { urban: true, ..s }));
        assert!(!t.eligible(&StationFacts { evoting: true, ..s }));
        assert!(!t.eligible(&StationFacts { region: 1, ..s }));
        assert!(!t.eligible(&StationFacts {
            stronghold: false,
            ..s
        }));
    }
}
