//! One Kazakhstan-scale ballot-level run (≈ 8.66 M registered, ≈ 4.9 M ballots, 9,620
//! stations), on one thread, beside a baseline measured in the same process: drawing one
//! 64-bit random number per registered voter from the same generator. The ratio of the two is
//! what docs/BENCHMARKS.md records (these machines are noisy; ratios travel better than times).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rand::Rng;
use std::hint::black_box;
use tamga::election::Workspace;
use tamga::montecarlo::Prepared;

fn kazakhstan_run(c: &mut Criterion) {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/kazakhstan-2004.toml"
    );
    let mut scenario = tamga::scenario::load(std::path::Path::new(path)).expect("valid scenario");
    scenario.variants.retain(|v| v.name == "official");
    let prepared = Prepared::new(&scenario, 2004);
    let mut ws = Workspace::default();
    let ballots = prepared.run_one(0, 0, &mut ws).ballots;
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

criterion_group!(benches, kazakhstan_run);
criterion_main!(benches);
