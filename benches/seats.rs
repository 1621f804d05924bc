//! Seat allocation on the default (no steps) path, as the Monte Carlo loop calls it: D'Hondt
//! for a 598-seat house among 20 parties, and the Kazakhstan 2004 list tier (Hare, 10 seats,
//! 7 % of valid votes, 10 lists). A baseline measured in the same run — sorting 20 `u64`s —
//! lets figures from noisy machines be compared as ratios. See `docs/BENCHMARKS.md`.

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::Duration;
use tamga::seats::{
    Method, MixedInput, Overhang, Ratio, Threshold, TieBreak, allocate, allocate_explained, mmp,
};

/// 20 parties, a realistic long tail (about 46 million votes).
const VOTES_20: [u64; 20] = [
    11_955_434, 11_422_885, 6_852_206, 5_373_235, 4_807_296, 4_786_134, 3_916_349, 2_270_906,
    1_013_250, 983_437, 542_862, 381_521, 254_210, 202_034, 152_203, 131_118, 98_213, 74_009,
    45_301, 22_118,
];

/// Kazakhstan 2004, list tier (CEC counts).
const KZ_2004: [u64; 10] = [
    2_883_706, 572_672, 541_239, 336_177, 163_824, 94_140, 82_523, 36_379, 26_287, 20_826,
];

fn seats(c: &mut Criterion) {
    let mut g = c.benchmark_group("seats");
    g.measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1));

    g.bench_function("baseline_sort_20_u64", |b| {
        b.iter(|| {
            let mut v = black_box(VOTES_20);
            v.sort_unstable();
            black_box(v)
        })
    });

    g.bench_function("dhondt_598_seats_20_parties", |b| {
        b.iter(|| {
            allocate(
                &Method::DHondt,
                598,
                black_box(&VOTES_20),
                None,
                TieBreak::Report,
            )
        })
    });

    g.bench_function("sainte_lague_598_seats_20_parties", |b| {
        b.iter(|| {
            allocate(
                &Method::SainteLague,
                598,
                black_box(&VOTES_20),
                None,
                TieBreak::Report,
            )
        })
    });

    let kz = Threshold::on_listed_votes(Ratio { num: 7, den: 100 });
    g.bench_function("kz2004_list_hare_10_seats_7pct", |b| {
        b.iter(|| {
            allocate(
                &Method::Hare,
                10,
                black_box(&KZ_2004),
                Some(&kz),
                TieBreak::Report,
            )
        })
    });

    // For contrast: the explained path (every seat recorded) — not what the loop calls.
    g.bench_function("dhondt_598_seats_20_parties_explained", |b| {
        b.iter(|| {
            allocate_explained(
                &Method::DHondt,
                598,
                black_box(&VOTES_20),
                None,
                TieBreak::Report,
            )
        })
    });

    // New Zealand 2014 MMP (Sainte-Laguë, 120 seats, 5 % or 1 electorate, overhang kept).
    let nz_votes = [
        16689, 10961, 5113, 95598, 1730, 639, 257359, 34094, 604535, 31849, 1131501, 208300, 872,
        1096, 5286,
    ];
    let nz_ds = [1, 0, 0, 0, 0, 0, 0, 0, 27, 1, 41, 0, 0, 0, 1];
    let input = MixedInput {
        method: Method::SainteLague,
        seats: 120,
        party_votes: &nz_votes,
        district_seats: &nz_ds,
        other_district_seats: 0,
        threshold: Some(Threshold {
            or_district_seats: Some(1),
            ..Threshold::on_listed_votes(Ratio { num: 5, den: 100 })
        }),
    };
    g.bench_function("nz2014_mmp_120_seats", |b| {
        b.iter(|| mmp(black_box(&input), Overhang::Keep, TieBreak::Report))
    });
    g.finish();
}

criterion_group!(benches, seats);
criterion_main!(benches);
