//! Ledger throughput: appending ballots to an in-memory chain (one SHA-256 compression each),
//! the same on `LANES` machines' chains in lockstep (`append_lanes`), streaming them to a file,
//! and verifying a ledger file held in memory — beside the plain SHA-256 of a 44-byte message
//! through the `Digest` API (the alternative the chain avoids) and the bare one-block
//! compression, one chain through sha2 and `LANES` independent chains through the lockstep
//! kernel. Figures and the OpenSSL comparison are in docs/BENCHMARKS.md §Ledger.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sha2::{Digest, Sha256};
use tamga::ledger::{
    Backend, BallotChoice, Chain, Genesis, LANES, LedgerWriter, SHA256_IV, append_lanes, verify,
    write_ledger,
};

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

/// A SHA-256 state as its digest bytes.
fn words_be(state: &[u32; 8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (o, w) in out.chunks_exact_mut(4).zip(state) {
        o.copy_from_slice(&w.to_be_bytes());
    }
    out
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

    // The transparency log: chain + Merkle tree (one leaf compression and, amortised, one
    // two-block node per entry) + an Ed25519 checkpoint every CHECKPOINT_INTERVAL entries and at
    // close (docs/ledger-format.md §9–10). Compare with append_chain (docs/BENCHMARKS.md).
    group.bench_function("append_log", |b| {
        let key = tamga::ledger::note::derive_signing_key(1, "machine", 1, 1);
        b.iter(|| {
            let mut log = tamga::ledger::MachineLog::open(
                &g,
                10,
                7,
                tamga::package::CHECKPOINT_INTERVAL,
                key.clone(),
            );
            for i in 0..BATCH {
                black_box(log.append(choice(i)).unwrap());
            }
            log.close()
        })
    });

    // The same with a checkpoint every 1,024 entries (the cost of a longer interval:
    // docs/ledger-format.md §10, "Choosing the interval").
    group.bench_function("append_log_interval_1024", |b| {
        let key = tamga::ledger::note::derive_signing_key(1, "machine", 1, 1);
        b.iter(|| {
            let mut log = tamga::ledger::MachineLog::open(&g, 10, 7, 1024, key.clone());
            for i in 0..BATCH {
                black_box(log.append(choice(i)).unwrap());
            }
            log.close()
        })
    });

    // The same with only the closing checkpoint: the chain and the tree alone.
    group.bench_function("append_log_close_only", |b| {
        let key = tamga::ledger::note::derive_signing_key(1, "machine", 1, 1);
        b.iter(|| {
            let mut log = tamga::ledger::MachineLog::open(&g, 10, 7, u64::MAX, key.clone());
            for i in 0..BATCH {
                black_box(log.append(choice(i)).unwrap());
            }
            log.close()
        })
    });

    // One checkpoint note: body, Ed25519 signature, base64 (the per-checkpoint cost append_log
    // pays every CHECKPOINT_INTERVAL entries).
    group.bench_function("sign_checkpoint", |b| {
        let key = tamga::ledger::note::derive_signing_key(1, "machine", 1, 1);
        let origin = tamga::ledger::note::machine_origin(&g.election_id, 1, 1);
        let c = tamga::ledger::note::Checkpoint {
            origin: origin.clone(),
            size: 1000,
            root: tamga::ledger::EntryHash([3; 32]),
            head: Some(tamga::ledger::EntryHash([4; 32])),
        };
        b.iter(|| {
            (0..BATCH / tamga::package::CHECKPOINT_INTERVAL)
                .map(|_| tamga::ledger::note::sign_note(&c.body(), &origin, &key).len())
                .sum::<usize>()
        })
    });

    // BATCH ballots in all: BATCH / LANES on each of LANES machines, one lockstep compression
    // per step.
    group.bench_function("append_lanes", |b| {
        let gs: [Genesis; LANES] = core::array::from_fn(|i| Genesis {
            machine: i as u32 + 1,
            ..g
        });
        b.iter(|| {
            let mut chains = gs.each_ref().map(|g| Chain::open(g, 10, 7));
            let mut choices = [BallotChoice::BLANK; LANES];
            for i in 0..BATCH / LANES as u64 {
                for (l, c) in choices.iter_mut().enumerate() {
                    *c = choice(i * LANES as u64 + l as u64);
                }
                black_box(append_lanes(chains.each_mut(), choices).unwrap());
            }
            chains.map(Chain::close)
        })
    });

    // The bare compression of a dependent chain of ballot-shaped blocks: one chain through
    // sha2 (the single-stream bound), then LANES chains through the lockstep kernel.
    let mut block = [0u8; 64];
    block[0] = 0x42;
    block[44] = 0x80;
    block[56..64].copy_from_slice(&(44u64 * 8).to_be_bytes());
    group.bench_function("compress_chain_sha2", |b| {
        b.iter(|| {
            let mut state = SHA256_IV;
            let mut blk = block;
            for i in 0..BATCH {
                blk[1..33].copy_from_slice(&words_be(&state));
                blk[33..41].copy_from_slice(&i.to_be_bytes());
                state = SHA256_IV;
                sha2::block_api::compress256(&mut state, &[blk]);
            }
            state
        })
    });
    let backend = Backend::detect();
    group.bench_function(
        format!("compress_chains_lockstep_{}", backend.name()),
        |b| {
            b.iter(|| {
                let mut states = [SHA256_IV; LANES];
                let mut blocks = [block; LANES];
                for i in 0..BATCH / LANES as u64 {
                    for (blk, state) in blocks.iter_mut().zip(&states) {
                        blk[1..33].copy_from_slice(&words_be(state));
                        blk[33..41].copy_from_slice(&i.to_be_bytes());
                    }
                    states = [SHA256_IV; LANES];
                    backend.compress(&mut states, &blocks);
                }
                states
            })
        },
    );

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
