//! Monte Carlo: many runs of every variant, in parallel, deterministically.
//!
//! A run is identified by its index; everything it draws comes from streams keyed by
//! `(seed, purpose, run, station)` (see [`crate::rng`]), never by the thread that executes it, and
//! results are collected in `(variant, run)` order. So the same seed gives identical outcomes
//! whatever the thread count, and any contiguous block of run indices can be computed on its own
//! (sharding, see [`crate::shard`]). Variants share geography streams and run streams: their
//! comparison is paired.
//!
//! The thread pool is the caller's (`rayon::ThreadPool::install`); this module reads no clock or
//! environment. Progress is reported through a callback; a stop flag ends work early — between
//! runs, and inside a run every [`crate::sim::STOP_EVERY`] stations — in which case the result
//! says so and must not be written as complete.

use crate::detect::{Evidence, HasReadings, PvtEstimate, Readings, readings};
use crate::electorate::Electorate;
use crate::model::{Scenario, SimPath};
use crate::sim::station::{self, HonestDraws};
use crate::sim::{Context, FraudPlan, FraudTrace, LedgerMode, Stop, Workspace};
use crate::tabulation::{Tally, tabulate};
use rayon::prelude::*;
use std::ops::Range;
use std::sync::atomic::{AtomicBool, Ordering};

/// National totals and seats of one run.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RunOutcome {
    pub run: u32,
    pub registered: u64,
    /// Ballots cast electronically, as the protocols publish them.
    pub electronic: u64,
    /// The published result and its seats (its fields sit beside these in a part file).
    #[serde(flatten)]
    pub reported: Tally,
    /// What voters chose, and the seats that would follow from it.
    pub truth: Tally,
    /// What fraud did in this run.
    pub trace: FraudTrace,
    /// Each detector's reading.
    pub detectors: Readings,
    /// The parallel vote tabulation's estimate, if there is one.
    pub pvt: Option<PvtEstimate>,
}

impl RunOutcome {
    /// Valid list votes in all, as published.
    pub fn valid_list_votes(&self) -> u64 {
        self.reported.valid_total()
    }
    /// Ballots issued over registered voters, as published.
    pub fn turnout(&self) -> f64 {
        self.reported.ballots as f64 / self.registered.max(1) as f64
    }
    /// Share of valid list votes per party, as published.
    pub fn list_shares(&self) -> Vec<f64> {
        let v = self.valid_list_votes().max(1) as f64;
        self.reported
            .list_votes
            .iter()
            .map(|&x| x as f64 / v)
            .collect()
    }
}

impl HasReadings for RunOutcome {
    fn readings(&self) -> &Readings {
        &self.detectors
    }
}

/// One polling station's counts in a run, as its protocol publishes them (after any fraud at the
/// station; fraud on aggregates above the station does not show here).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StationTally {
    pub registered: u64,
    /// Ballots issued (voters who turned out).
    pub issued: u64,
    /// List ballots found: valid + invalid.
    pub ballots: u64,
    /// List votes of the party followed, by default the run's leader (see
    /// [`RunStations::leader`]).
    pub leader: u64,
    /// The station's protocol differs from what its voters chose (ballots issued or list
    /// votes): fraud acted here. Known only in a simulation, for marking such stations.
    pub touched: bool,
}

/// One run re-simulated down to its stations: what the Monte Carlo loop aggregates away.
#[derive(Clone, Debug, PartialEq)]
pub struct RunStations {
    pub outcome: RunOutcome,
    /// The party whose list votes [`StationTally::leader`] counts: the one asked for
    /// ([`Simulator::run_stations_following`]), else the party with the most list votes
    /// nationally in this run (the lowest index on a tie).
    pub leader: usize,
    /// Per station, in station order.
    pub stations: Vec<StationTally>,
}

/// A scenario's variants ready to simulate: each variant's electorate (geography and
/// calibration) and fraud plan, built once; runs them one at a time, split over threads, or
/// all in parallel.
pub struct Simulator<'a> {
    pub scenario: &'a Scenario,
    pub seed: u64,
    pub electorates: Vec<Electorate>,
    /// Which stations each variant's fraud models may target.
    pub plans: Vec<FraudPlan>,
    /// Variants whose runs share their honest draws, in order of their first member: on the
    /// station and hybrid paths, variants that differ only in fraud models draw each run's
    /// honest counts once ([`crate::sim::station::HonestDraws`]); every other variant is a
    /// group of its own.
    pub groups: Vec<Vec<usize>>,
}

impl<'a> Simulator<'a> {
    /// Builds each variant's geography and calibration (in parallel, deterministic).
    pub fn new(scenario: &'a Scenario, seed: u64) -> Self {
        let n = scenario.parties.len();
        let electorates: Vec<Electorate> = scenario
            .variants
            .par_iter()
            .map(|v| Electorate::build(&v.model, n, seed))
            .collect();
        let plans = scenario
            .variants
            .iter()
            .zip(&electorates)
            .map(|(v, e)| FraudPlan::new(&v.model, e))
            .collect();
        let groups = honest_groups(scenario);
        Simulator {
            scenario,
            seed,
            electorates,
            plans,
            groups,
        }
    }

    /// Simulates and tabulates run `run` of variant `variant_idx` using `ws` as scratch space.
    pub fn run_one(&self, variant_idx: usize, run: u32, ws: &mut Workspace) -> RunOutcome {
        self.run_one_split(variant_idx, run, ws, 1)
    }

    /// [`Simulator::run_one`] with a ballot-level election day split into `parts` blocks of
    /// stations run in parallel ([`crate::sim::run_election_split`]); same result.
    pub fn run_one_split(
        &self,
        variant_idx: usize,
        run: u32,
        ws: &mut Workspace,
        parts: usize,
    ) -> RunOutcome {
        self.election_day(variant_idx, run, ws, parts, &|| false);
        self.outcome(variant_idx, run, ws)
    }

    /// [`Simulator::run_one_split`] asking `stop` every [`crate::sim::STOP_EVERY`] stations
    /// of election day (so one long run stops promptly); `None` when it said to stop.
    pub fn run_one_until(
        &self,
        variant_idx: usize,
        run: u32,
        ws: &mut Workspace,
        parts: usize,
        stop: Stop<'_>,
    ) -> Option<RunOutcome> {
        if !self.election_day(variant_idx, run, ws, parts, stop) {
            return None;
        }
        Some(self.outcome(variant_idx, run, ws))
    }

    /// Simulates election day of a run into `ws` on the scenario's path; `false` if `stop` said
    /// to stop (`ws` is then partial).
    fn election_day(
        &self,
        variant_idx: usize,
        run: u32,
        ws: &mut Workspace,
        parts: usize,
        stop: Stop<'_>,
    ) -> bool {
        let model = &self.scenario.variants[variant_idx].model;
        let ctx = self.context(variant_idx, LedgerMode::Chain);
        let run = run as u64;
        let path = self.scenario.montecarlo.path;
        if path == SimPath::Hybrid {
            crate::sim::station::run_until(ctx, run, ws, true, stop)
        } else if crate::sim::station::applies(path, model) {
            crate::sim::station::run_until(ctx, run, ws, false, stop)
        } else {
            crate::sim::run_election_split_until(ctx, run, ws, parts, stop)
        }
    }

    /// Tabulates and reads the election day in `ws` (run `run` of variant `variant_idx`).
    fn outcome(&self, variant_idx: usize, run: u32, ws: &mut Workspace) -> RunOutcome {
        let model = &self.scenario.variants[variant_idx].model;
        let electorate = &self.electorates[variant_idx];
        let run = run as u64;
        let t = tabulate(model, electorate, self.seed, run, ws);
        let evidence = Evidence {
            published: ws.published(),
            region_protocol_sums: &t.region_protocol_sums,
            region_aggregates: &t.region_aggregates,
            national: &t.reported.list_votes,
            system: &model.system,
        };
        let (detectors, pvt) = readings(
            &self.scenario.detectors,
            electorate,
            &evidence,
            self.seed,
            run,
        );
        RunOutcome {
            run: run as u32,
            registered: electorate.n_registered(),
            electronic: t.electronic,
            reported: t.reported,
            truth: t.truth,
            trace: ws.truth().trace.clone(),
            detectors,
            pvt,
        }
    }

    /// The context of one variant's runs.
    pub fn context(&self, variant_idx: usize, ledger: LedgerMode) -> Context<'_> {
        Context::new(
            self.scenario,
            variant_idx,
            &self.electorates[variant_idx],
            &self.plans[variant_idx],
            self.seed,
            ledger,
        )
    }

    /// Re-simulates run `run` of variant `variant_idx` and keeps its published per-station counts
    /// (the station protocols, what an observer sees). The run draws from the same streams as in
    /// [`Self::run_all`], so its outcome is identical to the one the Monte Carlo loop produced.
    /// The leader is the party with most reported list votes nationally. `None` if there is no
    /// such variant.
    pub fn run_stations(&self, variant_idx: usize, run: u32) -> Option<RunStations> {
        self.run_stations_following(variant_idx, run, None)
    }

    /// [`Simulator::run_stations`] counting the list votes of party `follow` (a party index)
    /// at each station instead of the run's leader's, so that a report can follow the party its
    /// overview follows; `None` (or an index out of range) follows the run's leader.
    pub fn run_stations_following(
        &self,
        variant_idx: usize,
        run: u32,
        follow: Option<usize>,
    ) -> Option<RunStations> {
        let electorate = self.electorates.get(variant_idx)?;
        let mut ws = Workspace::default();
        // the report asks for one run per variant, in parallel: split each run's stations over
        // the threads the variants leave (same result; each block holds full-size counts)
        let n_variants = self.scenario.variants.len().max(1);
        let parts = (rayon::current_num_threads() / n_variants).clamp(1, 8);
        let outcome = self.run_one_split(variant_idx, run, &mut ws, parts);
        let leader = follow
            .filter(|&p| p < outcome.reported.list_votes.len())
            .unwrap_or_else(|| {
                crate::forensics::stats::stations::leader_of(&outcome.reported.list_votes)
            });
        let stations = electorate
            .stations
            .iter()
            .enumerate()
            .map(|(i, st)| {
                let protocols = ws.published().protocols;
                let truth = ws.truth().counts;
                let list = protocols.list_of(i);
                StationTally {
                    registered: st.n_registered as u64,
                    issued: protocols.issued[i] as u64,
                    ballots: list.iter().map(|&x| x as u64).sum(),
                    leader: list.get(leader).copied().unwrap_or(0) as u64,
                    touched: truth.issued[i] != protocols.issued[i] || truth.list_of(i) != list,
                }
            })
            .collect();
        Some(RunStations {
            outcome,
            leader,
            stations,
        })
    }

    /// Runs `runs` of every variant on the current rayon pool. Returns outcomes per variant in
    /// run order, or `None` if `stop` was raised before all runs finished.
    pub fn run_all(
        &self,
        runs: Range<u32>,
        stop: &AtomicBool,
        progress: &(dyn Fn() + Sync),
    ) -> Option<Vec<Vec<RunOutcome>>> {
        self.run_all_observed(runs, stop, &|_, _| progress())
    }

    /// Like [`Simulator::run_all`], but `observe` sees each outcome with its variant's index as
    /// its run finishes (in completion order, from worker threads), e.g. to count ballots and
    /// name the variant for a progress display.
    pub fn run_all_observed(
        &self,
        runs: Range<u32>,
        stop: &AtomicBool,
        observe: &(dyn Fn(usize, &RunOutcome) + Sync),
    ) -> Option<Vec<Vec<RunOutcome>>> {
        let n_variants = self.scenario.variants.len();
        let groups = &self.groups;
        let jobs: Vec<(usize, u32)> = (0..groups.len())
            .flat_map(|g| runs.clone().map(move |r| (g, r)))
            .collect();
        // fewer jobs than threads (one huge election): split each run's stations instead
        let parts = (rayon::current_num_threads() / jobs.len().max(1)).clamp(1, 8);
        let outcomes: Vec<Option<Vec<RunOutcome>>> = jobs
            .par_iter()
            .map_init(
                || (Workspace::default(), HonestDraws::default()),
                |(ws, honest), &(g, r)| {
                    let stopped = || stop.load(Ordering::Relaxed);
                    if stopped() {
                        return None;
                    }
                    let members = &groups[g];
                    if let [v] = members[..] {
                        let o = self.run_one_until(v, r, ws, parts, &stopped)?;
                        observe(v, &o);
                        return Some(vec![o]);
                    }
                    self.run_group(members, r, ws, honest, &stopped, observe)
                },
            )
            .collect();
        let mut per_variant: Vec<Vec<RunOutcome>> = vec![Vec::new(); n_variants];
        for ((g, _), o) in jobs.iter().zip(outcomes) {
            for (&v, o) in groups[*g].iter().zip(o?) {
                per_variant[v].push(o);
            }
        }
        Some(per_variant)
    }

    /// Run `run` of every variant of a group ([`Simulator::groups`]): the honest draws once,
    /// then each variant's fraud from them; outcomes in the group's order, or `None` if
    /// `stop` said to stop.
    fn run_group(
        &self,
        members: &[usize],
        run: u32,
        ws: &mut Workspace,
        honest: &mut HonestDraws,
        stop: Stop<'_>,
        observe: &(dyn Fn(usize, &RunOutcome) + Sync),
    ) -> Option<Vec<RunOutcome>> {
        let machines = self.scenario.montecarlo.path == SimPath::Hybrid;
        let first = self.context(members[0], LedgerMode::Chain);
        if !station::draw_honest(first, run as u64, ws, machines, stop, honest) {
            return None;
        }
        let mut out = Vec::with_capacity(members.len());
        for &v in members {
            let ctx = self.context(v, LedgerMode::Chain);
            if !station::run_from(ctx, run as u64, ws, honest, stop) {
                return None;
            }
            let o = self.outcome(v, run, ws);
            observe(v, &o);
            out.push(o);
        }
        Some(out)
    }
}

/// The variants whose runs can share their honest draws (see [`Simulator::groups`]).
fn honest_groups(scenario: &Scenario) -> Vec<Vec<usize>> {
    let path = scenario.montecarlo.path;
    // a variant on the ballot path shares nothing; the others by their honest model
    let keys: Vec<Option<String>> = scenario
        .variants
        .iter()
        .map(|v| {
            let m = &v.model;
            (path == SimPath::Hybrid || station::applies(path, m)).then(|| station::honest_key(m))
        })
        .collect();
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for (v, key) in keys.iter().enumerate() {
        let joins = key
            .as_ref()
            .and_then(|k| groups.iter().position(|g| keys[g[0]].as_ref() == Some(k)));
        match joins {
            Some(g) => groups[g].push(v),
            None => groups.push(vec![v]),
        }
    }
    groups
}
