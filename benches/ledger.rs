//! Ledger throughput: appending ballots to an in-memory chain (one SHA-256 compression each),
//! streaming them to a file, and verifying a ledger file held in memory — beside the plain
//! SHA-256 of a 44-byte message through the `Digest` API, the alternative the chain avoids.
//! Figures and the OpenSSL comparison are in docs/BENCHMARKS.md §Ledger.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sha2::{Digest, Sha256};
use tamga::ledger::{BallotChoice, Chain, Genesis, LedgerWriter, verify, write_ledger};

const BATCH: u64 = 10_000;
const VERIFY_BALLOTS: u64 = 100_000;

fn genesis() -> Genesis {
    Genesis {
        election_id: [1; 32],
        station: 1,
        machine: 1,
        launch_code: [2; 16],
    }
}

fn choice(i: u64) -> BallotChoice {
    BallotChoice::new((i % 10) as u8, (i % 7) as u16)
}

fn bench(c: &mut Criterion) {
    let g = genesis();
    let mut group = c.benchmark_group("ledger");
    group.throughput(Throughput::Elements(BATCH));

    group.bench_function("append_chain", |b| {
        b.iter(|| {
            let mut chain = Chain::open(&g, 10, 7);
            for i in 0..BATCH {
                black_box(chain.append(choice(i)).unwrap());
            }
            chain.close()
        })
    });

    group.bench_function("append_writer_to_vec", |b| {
        let mut buf = Vec::with_capacity(64 * BATCH as usize);
        b.iter(|| {
            buf.clear();
            let mut w = LedgerWriter::create(&mut buf, &g, 10, 7).unwrap();
            for i in 0..BATCH {
                black_box(w.append(choice(i)).unwrap());
            }
            w.finish().unwrap().0
        })
    });

    // The same 44-byte hashed input through Sha256::new + update + finalize.
    group.bench_function("sha256_digest_44B", |b| {
        let mut input = [0u8; 44];
        input[0] = 0x42;
        b.iter(|| {
            for i in 0..BATCH {
                input[33..41].copy_from_slice(&i.to_be_bytes());
                let mut h = Sha256::new();
                h.update(black_box(&input));
                let out: [u8; 32] = h.finalize().into();
                input[1..33].copy_from_slice(&out);
            }
            input
        })
    });

    let mut file = vec![];
    let closed = write_ledger(&mut file, &g, 10, 7, (0..VERIFY_BALLOTS).map(choice)).unwrap();
    let head = closed.published_head();
    group.throughput(Throughput::Elements(VERIFY_BALLOTS));
    group.sample_size(30);
    group.bench_function("verify_in_memory", |b| {
        b.iter(|| {
            let rep = verify(black_box(&file[..]), Some(&head)).unwrap();
            assert!(rep.is_clean());
            rep.n_ballots
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
