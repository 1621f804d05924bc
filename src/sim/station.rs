//! The station-level fast path: an honest run's station counts drawn directly from their
//! distributions instead of ballot by ballot.
//!
//! For a station with `n` registered voters, turnout probability `t` and list preferences `p`
//! (the ballot path's `t` and `p`: [`Electorate::station_turnout`] and
//! [`Electorate::station_preferences`] on the same streams, up to the last bits of `exp`), the
//! ballot path's voters are independent and identically distributed, so the counts it produces
//! have closed-form distributions, which this module samples exactly ([`crate::distr::binomial`]: Bernoulli
//! trials, inversion or Hörmann's BTRS by size; for the two fixed probabilities, the invalid
//! rate and loyalty, a [`crate::distr::BinomialTable`]'s inversion from the mode; multinomials as sequential
//! binomials with a categorical tail; [`crate::distr::thin`] for spoiled ballots):
//!
//! - ballots issued ~ Binomial(n, t); electronic ~ Binomial(issued, uptake) at e-enabled
//!   stations (0 elsewhere); paper = issued − electronic;
//! - voters by list party: electronic ~ Multinomial(electronic, p), paper ~ Multinomial(paper, p);
//! - for each party's paper voters, spoiled list ballots ~ Binomial(paper voters, invalid rate)
//!   and, independently, spoiled district ballots ~ Binomial(paper voters, invalid rate):
//!   electronic ballots are never invalid (a touch screen offers only valid choices);
//!   truth and count differ from the ballot path in one unread detail only: the ballot path
//!   leaves `truth.electronic` (and, without a district tier, `truth.district_invalid`) at zero;
//! - each party's valid district ballots: Binomial(·, loyalty) go to the party's nominee if it
//!   has one, the rest join the pool that is split Multinomial(pool, appeal) over the district's
//!   candidates (the mixture `station_round1` in `ballot.rs` draws voter by voter);
//! - at a station without a district tier, the machine's ballots carry "no candidate" and the
//!   commission counts them as invalid district ballots, as on the ballot path.
//!
//! Runoffs are drawn as district counts ([`super::districts`]): returning voters, transfers to a
//! same-party finalist, the split by appeal and spoiled ballots are binomials of round-1 totals,
//! the same distribution as the ballot path draws voter by voter.
//!
//! Truth, count and reported protocols coincide (no fraud). Variants with fraud models are not
//! handled here: [`applies`] says no and [`crate::montecarlo`] runs them ballot by ballot. The
//! fast path never builds a ballot, a machine or a hash chain, so it cannot feed a ledger audit;
//! on an honest run the ledger audit, receipt and control-code detectors read what they would on
//! the ballot path (nothing found; checks costed from the electronic count). Voter-level draws
//! come from the station's `VoterChoice` stream (turnout included) and the district's `Runoff`
//! stream (index stations + district), so results do not depend on station order or thread
//! count, but they are not the ballot path's draw for draw. Station noise comes from the ballot
//! path's `StationTurnout` and `StationPreference` streams, through this module's [`exp`]
//! instead of `f64::exp`: the same normals, equal to the ballot path's `t` and `p` up to an ulp
//! or so. No I/O, no panics.

use super::context::Context;
use super::counts::Workspace;
use super::districts::{draw_appeals, finish_districts};
use crate::distr::{binomial, exp, multinomial, thin_with};
use crate::electorate::Electorate;
use crate::model::{Model, Scenario, SimPath};
use crate::rng::{Purpose, RunStreams};

/// Whether a variant's runs take the station-level path under `path`: only honest variants do.
pub fn applies(path: SimPath, model: &Model) -> bool {
    path == SimPath::Station && model.fraud.is_empty()
}

/// What the summary's `provenance.path` says: `"ballot"`, `"station"`, or `"station+ballot"`
/// when the station path was asked for but some variants (those with fraud) ran ballot by ballot.
pub fn path_name(scenario: &Scenario) -> &'static str {
    let path = scenario.montecarlo.path;
    let n_station = scenario
        .variants
        .iter()
        .filter(|v| applies(path, &v.model))
        .count();
    if n_station == 0 {
        "ballot"
    } else if n_station == scenario.variants.len() {
        "station"
    } else {
        "station+ballot"
    }
}

/// The three per-station streams of a run, their `(seed, purpose, run)` part folded once: the
/// same generators as [`stream`]`(seed, purpose, run, station)`, which the ballot path uses.
struct StationStreams {
    turnout: RunStreams,
    preference: RunStreams,
    voter_choice: RunStreams,
}

impl StationStreams {
    fn new(seed: u64, run: u64) -> Self {
        StationStreams {
            turnout: RunStreams::new(seed, Purpose::StationTurnout, run),
            preference: RunStreams::new(seed, Purpose::StationPreference, run),
            voter_choice: RunStreams::new(seed, Purpose::VoterChoice, run),
        }
    }
}

/// Simulates an honest run at station level; results land in `ws` exactly where
/// [`super::ballot::run_election`] puts them, so tabulation and detectors work unchanged.
pub fn run_election(ctx: Context<'_>, run: u64, ws: &mut Workspace) {
    let e = ctx.electorate;
    ws.reset(e);
    ws.station.invalid.prepare(ctx.model.ballots.invalid_rate);
    ws.station.loyalty.prepare(ctx.model.candidates.loyalty);
    draw_appeals(ctx, run, ws);
    let (mut receipts, mut codes) = (0u64, 0u64);
    let streams = StationStreams::new(ctx.seed, run);
    for i in 0..e.stations.len() {
        station(ctx, &streams, i, ws);
        let electronic = ws.counts.electronic[i] as f64;
        receipts += crate::stats::round_u64(ctx.receipt_rate * electronic);
        codes += crate::stats::round_u64(ctx.control_code_rate * electronic);
    }
    ws.checks.receipts_checked = receipts;
    ws.checks.control_codes_checked = codes;
    ws.truth.clone_from(&ws.counts);
    ws.reported.clone_from(&ws.counts);
    finish_districts(ctx, run, ws, true, false);
}

/// Draws station `i`'s counts into `ws.counts`.
fn station(ctx: Context<'_>, streams: &StationStreams, i: usize, ws: &mut Workspace) {
    let e: &Electorate = ctx.electorate;
    let st = e.stations[i];
    let k = e.n_parties;
    let mut noise = streams.turnout.stream(i as u64);
    let t = e.station_turnout_with(i, &mut noise, exp);
    let mut noise = streams.preference.stream(i as u64);
    ws.pref.resize(k, 0.0);
    // weights, not shares: the multinomials normalise as they go
    e.station_weights_with(i, &mut noise, &mut ws.pref, exp);

    let b = &ctx.model.ballots;
    // one stream for every voter-level draw (the ballot path's `VoterTurnout` stream would
    // serve one draw here, and setting up a stream costs about as much as a small binomial)
    let mut rng = streams.voter_choice.stream(i as u64);
    let issued = binomial(&mut rng, st.n_registered, t);
    let uptake = if st.evoting { b.evoting_uptake } else { 0.0 };
    let electronic = binomial(&mut rng, issued, uptake);
    let paper = issued - electronic;
    let r = b.invalid_rate;

    let s = &mut ws.station;
    s.by_party_e.resize(k, 0);
    s.by_party_p.resize(k, 0);
    multinomial(&mut rng, electronic, &ws.pref, &mut s.by_party_e);
    multinomial(&mut rng, paper, &ws.pref, &mut s.by_party_p);

    let w = k + 1;
    let list_row = &mut ws.counts.list[i * w..(i + 1) * w];
    let mut district_invalid = 0u32;
    // paper ballots only: each spoiled (list, and independently district) with rate r
    s.spoiled_list.resize(k, 0);
    s.spoiled_district.resize(k, 0);
    thin_with(
        &mut rng,
        &s.by_party_p,
        r,
        |rng, n| s.invalid.draw(rng, n),
        &mut s.spoiled_list,
        &mut s.left,
    );
    for p in 0..k {
        let spoiled = s.spoiled_list[p];
        list_row[p] = s.by_party_e[p] + s.by_party_p[p] - spoiled;
        list_row[k] += spoiled;
    }
    match st.district {
        None => {
            // the machine records "no candidate" on every ballot; the commission counts those
            // as invalid district ballots (as `station_round1` does)
            district_invalid = electronic;
        }
        Some(d) => {
            let district = &e.districts[d as usize];
            let n_cand = district.candidates.len();
            let off = ws.appeal_offset[d as usize];
            s.appeal.clear();
            s.appeal.extend_from_slice(&ws.appeal[off..off + n_cand]);
            s.free.resize(n_cand, 0);
            let c_off = e.candidate_offset[i] as usize;
            let dist_row = &mut ws.counts.district[c_off..c_off + n_cand];
            let mut pool = 0u32;
            thin_with(
                &mut rng,
                &s.by_party_p,
                r,
                |rng, n| s.invalid.draw(rng, n),
                &mut s.spoiled_district,
                &mut s.left,
            );
            for p in 0..k {
                let (ev, pv) = (s.by_party_e[p], s.by_party_p[p]);
                let spoiled_district = s.spoiled_district[p];
                district_invalid += spoiled_district;
                let valid = ev + pv - spoiled_district;
                match district.nominee[p] {
                    Some(c) => {
                        let loyal = s.loyalty.draw(&mut rng, valid);
                        dist_row[c as usize] += loyal;
                        pool += valid - loyal;
                    }
                    None => pool += valid,
                }
            }
            multinomial(&mut rng, pool, &s.appeal, &mut s.free);
            for (v, f) in dist_row.iter_mut().zip(&s.free) {
                *v += f;
            }
        }
    }
    ws.counts.issued[i] = issued;
    ws.counts.electronic[i] = electronic;
    ws.counts.district_invalid[i] = district_invalid;
}
