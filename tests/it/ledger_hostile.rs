//! Hostile input for the ledger verifier: property tests that damage honest ledgers at random
//! (byte flips, truncation, garbage, deleted, duplicated and swapped records, several at once)
//! and a bounded random-input stress run of the fuzz harness.
//!
//! Properties: `verify` never panics; against the published head a damaged ledger is never
//! clean; without the head it is never clean either, except for the damage the format documents
//! as undetectable without it (none of the mutations here is such a damage, since they do not
//! recompute hashes — so both are asserted). The harness `tamga::ledger::fuzz_check` is the
//! one the `cargo fuzz` target runs (`fuzz/`, see `docs/fuzzing.md`).

use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use tamga::ledger::{
    BALLOT_RECORD_LEN, BallotChoice, CANDIDATE_NONE, GENESIS_RECORD_LEN, Genesis, HEADER_LEN,
    LIST_NONE, PublishedHead, fuzz_check, verify, write_ledger,
};

/// An honest ledger, its published head, and its record boundaries (header first).
struct Honest {
    file: Vec<u8>,
    head: PublishedHead,
    records: Vec<std::ops::Range<usize>>,
}

fn honest(n_lists: u8, n_candidates: u16, picks: &[(u8, u16)], station: u32) -> Honest {
    let g = Genesis {
        election_id: [9; 32],
        station,
        machine: 1,
        launch_code: [station as u8; 16],
    };
    let ballots: Vec<BallotChoice> = picks
        .iter()
        .map(|&(l, c)| {
            let list = if n_lists == 0 || l == LIST_NONE {
                LIST_NONE
            } else {
                l % n_lists
            };
            let cand = if n_candidates == 0 || c == CANDIDATE_NONE {
                CANDIDATE_NONE
            } else {
                c % n_candidates
            };
            BallotChoice::new(list, cand)
        })
        .collect();
    let mut file = vec![];
    let closed = write_ledger(&mut file, &g, n_lists, n_candidates, ballots).unwrap();
    let mut records = vec![0..HEADER_LEN, HEADER_LEN..HEADER_LEN + GENESIS_RECORD_LEN];
    let mut at = HEADER_LEN + GENESIS_RECORD_LEN;
    for _ in 0..picks.len() {
        records.push(at..at + BALLOT_RECORD_LEN);
        at += BALLOT_RECORD_LEN;
    }
    records.push(at..file.len());
    Honest {
        file,
        head: closed.published_head(),
        records,
    }
}

#[derive(Debug, Clone)]
enum Damage {
    Flip { pos: usize, mask: u8 },
    Truncate { at: usize },
    Append { garbage: Vec<u8> },
    Delete { rec: usize },
    Duplicate { rec: usize },
    Swap { a: usize, b: usize },
}

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        (any::<usize>(), 1u8..=255).prop_map(|(pos, mask)| Damage::Flip { pos, mask }),
        any::<usize>().prop_map(|at| Damage::Truncate { at }),
        prop::collection::vec(any::<u8>(), 1..200).prop_map(|garbage| Damage::Append { garbage }),
        any::<usize>().prop_map(|rec| Damage::Delete { rec }),
        any::<usize>().prop_map(|rec| Damage::Duplicate { rec }),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Damage::Swap { a, b }),
    ]
}

/// Applies damage; record-level damage works on the original record boundaries (records
/// 1.. are entries; the header, record 0, is only ever hit by byte-level damage).
fn apply(h: &Honest, file: &[u8], d: &Damage) -> Vec<u8> {
    let mut f = file.to_vec();
    let entries = h.records.len() - 1;
    let pieces = |f: &[u8]| -> Option<Vec<Vec<u8>>> {
        // Only when the file still has the original layout.
        (f.len() == h.file.len()).then(|| h.records.iter().map(|r| f[r.clone()].to_vec()).collect())
    };
    match d {
        Damage::Flip { pos, mask } => {
            if !f.is_empty() {
                let p = pos % f.len();
                f[p] ^= mask;
            }
        }
        Damage::Truncate { at } => {
            if !f.is_empty() {
                f.truncate(at % f.len());
            }
        }
        Damage::Append { garbage } => f.extend_from_slice(garbage),
        Damage::Delete { rec } => {
            if let Some(mut p) = pieces(&f) {
                p.remove(1 + rec % entries);
                f = p.concat();
            }
        }
        Damage::Duplicate { rec } => {
            if let Some(mut p) = pieces(&f) {
                let i = 1 + rec % entries;
                let copy = p[i].clone();
                p.insert(i, copy);
                f = p.concat();
            }
        }
        Damage::Swap { a, b } => {
            if let Some(mut p) = pieces(&f) {
                p.swap(1 + a % entries, 1 + b % entries);
                f = p.concat();
            }
        }
    }
    f
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 600, ..ProptestConfig::default() })]

    #[test]
    fn damaged_ledger_is_never_clean_and_never_panics(
        n_lists in 0u8..12,
        n_candidates in 0u16..6,
        picks in prop::collection::vec((any::<u8>(), any::<u16>()), 0..40),
        damages in prop::collection::vec(damage(), 1..4),
    ) {
        let h = honest(n_lists, n_candidates, &picks, 7);
        let mut f = h.file.clone();
        for d in &damages {
            f = apply(&h, &f, d);
        }
        fuzz_check(&f);
        let with_head = verify(&f[..], Some(&h.head)).unwrap();
        let alone = verify(&f[..], None).unwrap();
        if f == h.file {
            prop_assert!(with_head.is_clean() && alone.is_clean());
        } else {
            prop_assert!(!with_head.is_clean(), "damage {:?} went unnoticed against the head", damages);
            prop_assert!(!alone.is_clean(), "damage {:?} went unnoticed without the head", damages);
            for finding in with_head.findings.iter() {
                if let Some(o) = finding.offset() {
                    prop_assert!(o <= f.len() as u64);
                }
            }
        }
    }

    #[test]
    fn honest_ledgers_verify_clean(
        n_lists in 0u8..=255,
        n_candidates in 0u16..300,
        picks in prop::collection::vec((any::<u8>(), any::<u16>()), 0..30),
    ) {
        let h = honest(n_lists, n_candidates, &picks, 3);
        fuzz_check(&h.file);
        let rep = verify(&h.file[..], Some(&h.head)).unwrap();
        prop_assert!(rep.is_clean(), "{:?}", rep.findings);
        prop_assert_eq!(rep.n_ballots, picks.len() as u64);
    }
}

/// Bounded stress run of the fuzz harness on random and half-random input, for when
/// `cargo fuzz` (nightly) is not at hand; see docs/fuzzing.md. Deterministic: fixed seed and count.
#[test]
fn random_input_stress_of_fuzz_harness() {
    const ITERATIONS: usize = 20_000;
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(0x7a39a);
    let base = honest(5, 4, &[(1, 2), (255, 65535), (4, 0), (0, 3)], 11);
    for i in 0..ITERATIONS {
        let data: Vec<u8> = match i % 3 {
            // Pure noise, sometimes behind a valid header.
            0 => {
                let len = (rng.next_u64() % 600) as usize;
                let mut d: Vec<u8> = (0..len).map(|_| rng.next_u64() as u8).collect();
                if rng.next_u64() % 2 == 0 && d.len() >= HEADER_LEN {
                    d[..HEADER_LEN].copy_from_slice(&base.file[..HEADER_LEN]);
                }
                d
            }
            // A valid ledger with a few random bytes overwritten.
            1 => {
                let mut d = base.file.clone();
                for _ in 0..1 + rng.next_u64() % 4 {
                    let p = (rng.next_u64() as usize) % d.len();
                    d[p] = rng.next_u64() as u8;
                }
                d
            }
            // A valid prefix followed by noise.
            _ => {
                let cut = (rng.next_u64() as usize) % base.file.len();
                let mut d = base.file[..cut].to_vec();
                d.extend((0..rng.next_u64() % 100).map(|_| rng.next_u64() as u8));
                d
            }
        };
        fuzz_check(&data);
        if data != base.file {
            assert!(
                !verify(&data[..], Some(&base.head)).unwrap().is_clean(),
                "iteration {i}"
            );
        }
    }
}
