//! One Kazakhstan-scale ballot-level run (≈ 8.66 M registered, ≈ 4.9 M ballots, 9,620
//! stations), on one thread, the same run on the station-level fast path, election day alone on
//! each path (no tabulation or detectors), the ballot-level run on a 2-thread pool as
//! `tamga run --runs 1 --threads 2` runs it (its stations split in two blocks), beside a baseline
//! measured in the same process: drawing one 64-bit random number per registered voter from the
//! same generator. The ratio of the two is what docs/BENCHMARKS.md records (these machines are
//! noisy; ratios travel better than times).
//!
//! `rla_detectors`: what the risk-limiting audit detectors add to a Monte Carlo run (issue 15's
//! must-hold, at most 20 %): the same Monte Carlo job (`Simulator::run_all`, six runs of each of
//! `kazakhstan-2004-vvpat.toml`'s six variants, on a one-thread pool: CPU time) with and without
//! `rla_risk_limit`; the ratio of the two is the detectors' share.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rand::Rng;
use std::hint::black_box;
use tamga::model::SimPath;
use tamga::montecarlo::Simulator;
use tamga::sim::LedgerMode;
use tamga::sim::{Workspace, run_election};

fn kazakhstan_run(c: &mut Criterion) {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/kazakhstan-2004.toml"
    );
    let mut scenario = tamga::scenario::load(std::path::Path::new(path)).expect("valid scenario");
    scenario.variants.retain(|v| v.name == "official");
    let prepared = Simulator::new(&scenario, 2004);
    let mut station_scenario = scenario.clone();
    station_scenario.montecarlo.path = SimPath::Station;
    let station = Simulator::new(&station_scenario, 2004);
    let mut ws = Workspace::default();
    let ballots = prepared.run_one(0, 0, &mut ws).reported.ballots;
    let registered = prepared.electorates[0].n_registered();

    let mut g = c.benchmark_group("kazakhstan");
    g.sample_size(10);
    g.throughput(Throughput::Elements(ballots));
    let mut run = 0u32;
    g.bench_function("ballot_level_run", |b| {
        b.iter(|| {
            run += 1;
            black_box(prepared.run_one(0, run, &mut ws))
        })
    });
    g.throughput(Throughput::Elements(ballots));
    g.bench_function("station_level_run", |b| {
        b.iter(|| {
            run += 1;
            black_box(station.run_one(0, run, &mut ws))
        })
    });
    // one run on two threads, as `Simulator::run_all_observed` does when there are fewer runs than
    // threads: the run's stations in two blocks (`election::run_election_split`)
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .expect("a 2-thread pool");
    g.bench_function("ballot_level_run_2_threads", |b| {
        pool.install(|| {
            let parts = rayon::current_num_threads();
            b.iter(|| {
                run += 1;
                black_box(prepared.run_one_split(0, run, &mut ws, parts))
            })
        })
    });
    // election day alone (no tabulation or detectors): what the fast path replaces
    let ctx = prepared.context(0, LedgerMode::Chain);
    g.bench_function("ballot_level_election_day", |b| {
        b.iter(|| {
            run += 1;
            run_election(ctx, run as u64, &mut ws, &mut |_, _| {});
            black_box(ws.published().observed.issued.len())
        })
    });
    let ctx = station.context(0, LedgerMode::Chain);
    g.bench_function("station_level_election_day", |b| {
        b.iter(|| {
            run += 1;
            tamga::sim::station::run_election(ctx, run as u64, &mut ws);
            black_box(ws.published().observed.issued.len())
        })
    });
    g.throughput(Throughput::Elements(registered));
    g.bench_function("baseline_one_draw_per_registered_voter", |b| {
        let mut rng = tamga::rng::stream(1, tamga::rng::Purpose::VoterTurnout, 0, 0);
        b.iter(|| {
            let mut acc = 0u64;
            for _ in 0..registered {
                acc ^= rng.next_u64();
            }
            black_box(acc)
        })
    });
    g.finish();
}

fn rla_detectors(c: &mut Criterion) {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/kazakhstan-2004-vvpat.toml"
    );
    let audited = tamga::scenario::load(std::path::Path::new(path)).expect("valid scenario");
    assert!(audited.detectors.rla_risk_limit.is_some());
    let mut plain = audited.clone();
    plain.detectors.rla_risk_limit = None;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("a 1-thread pool");
    let stop = std::sync::atomic::AtomicBool::new(false);
    let mut g = c.benchmark_group("rla_detectors");
    g.sample_size(10);
    for (name, scenario) in [
        ("job_without_audits", &plain),
        ("job_with_audits", &audited),
    ] {
        let sim = Simulator::new(scenario, 2004);
        g.bench_function(name, |b| {
            pool.install(|| b.iter(|| black_box(sim.run_all(0..6, &stop, &|| {}))))
        });
    }
    g.finish();
}

criterion_group!(benches, kazakhstan_run, rla_detectors);
criterion_main!(benches);
