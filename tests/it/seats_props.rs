//! Properties of seat allocation over random inputs: seats add up to the house, divisor methods
//! are house-monotone, Hare stays within quota, a party below the threshold gets nothing,
//! permuting the parties permutes the result, the fast path agrees with the explained path, and
//! a seeded lot always completes the allocation.

// Parallel vectors indexed by party read more clearly as index loops here.
#![allow(clippy::needless_range_loop)]

use proptest::prelude::*;
use tamga::seats::{
    Method, Ratio, SeatError, Threshold, ThresholdBase, TieBreak, allocate, allocate_explained,
};

const R: TieBreak = TieBreak::Report;

fn methods() -> Vec<Method> {
    vec![
        Method::DHondt,
        Method::SainteLague,
        Method::modified_sainte_lague(),
        Method::ModifiedSainteLague {
            first_divisor: Ratio { num: 6, den: 5 },
        },
        Method::Imperiali,
        Method::Hare,
        Method::Droop,
    ]
}

fn method() -> impl Strategy<Value = Method> {
    prop::sample::select(methods())
}

fn divisor_method() -> impl Strategy<Value = Method> {
    prop::sample::select(
        methods()
            .into_iter()
            .filter(Method::is_divisor)
            .collect::<Vec<_>>(),
    )
}

/// Votes with a mix of sizes; ties are possible but rare.
fn votes() -> impl Strategy<Value = Vec<u64>> {
    prop::collection::vec(
        prop_oneof![3 => 1u64..2_000_000, 1 => 0u64..50, 1 => Just(0u64)],
        1..12,
    )
}

/// Many parties on few distinct values: ties everywhere.
fn tie_heavy_votes() -> impl Strategy<Value = Vec<u64>> {
    prop::collection::vec(prop::sample::select(vec![0u64, 1, 2, 3, 4, 6, 12]), 1..16)
}

/// Errors that random inputs may legitimately produce (and that are tested elsewhere).
fn acceptable(e: &SeatError) -> bool {
    matches!(
        e,
        SeatError::Tie { .. }
            | SeatError::NoVotes
            | SeatError::NoQualifiedParty
            | SeatError::QuotaLeavesTooManySeats { .. }
    )
}

proptest! {
    #[test]
    fn seats_add_up_to_the_house(m in method(), v in votes(), house in 1u32..300) {
        match allocate(&m, house, &v, None, R) {
            Ok(a) => prop_assert_eq!(a.seats.iter().sum::<u32>(), house),
            Err(e) => prop_assert!(acceptable(&e), "{e:?}"),
        }
    }

    #[test]
    fn divisor_methods_are_house_monotone(m in divisor_method(), v in votes(), house in 1u32..300) {
        let a = allocate(&m, house, &v, None, R);
        let b = allocate(&m, house + 1, &v, None, R);
        prop_assume!(a.is_ok() && b.is_ok());
        let (a, b) = (a.unwrap(), b.unwrap());
        for i in 0..v.len() {
            prop_assert!(b.seats[i] >= a.seats[i], "party {i}: {:?} → {:?}", a.seats, b.seats);
        }
    }

    #[test]
    fn hare_stays_within_quota(v in votes(), house in 1u32..300) {
        let a = allocate(&Method::Hare, house, &v, None, R);
        prop_assume!(a.is_ok());
        let a = a.unwrap();
        let total: u128 = v.iter().map(|&x| u128::from(x)).sum();
        for (i, (&x, &s)) in v.iter().zip(&a.seats).enumerate() {
            // floor(q) ≤ s ≤ ceil(q), q = x·S/V, checked exactly.
            let xs = u128::from(x) * u128::from(house);
            let lower = xs / total;
            let upper = xs.div_ceil(total);
            prop_assert!(u128::from(s) >= lower && u128::from(s) <= upper,
                "party {i}: {s} seats, quota {xs}/{total}");
        }
    }

    #[test]
    fn a_party_below_the_threshold_gets_no_seat(
        m in method(), v in votes(), house in 1u32..300, pct in 0u64..=30, extra in 0u64..1_000_000,
        on_ballots in any::<bool>(),
    ) {
        let listed: u64 = v.iter().sum();
        let base = if on_ballots { ThresholdBase::Ballots(listed + extra) } else { ThresholdBase::ListedVotes };
        let t = Threshold { share: Ratio { num: pct, den: 100 }, base, or_district_seats: None };
        let base_n = match base { ThresholdBase::Ballots(b) => b, ThresholdBase::ListedVotes => listed };
        match allocate(&m, house, &v, Some(&t), R) {
            Ok(a) => {
                prop_assert_eq!(a.seats.iter().sum::<u32>(), house);
                for i in 0..v.len() {
                    let passes = u128::from(v[i]) * 100 >= u128::from(pct) * u128::from(base_n);
                    prop_assert_eq!(a.qualified[i], passes);
                    if !passes {
                        prop_assert_eq!(a.seats[i], 0, "party {} below threshold", i);
                    }
                }
            }
            Err(e) => prop_assert!(acceptable(&e), "{e:?}"),
        }
    }

    #[test]
    fn permuting_the_parties_permutes_the_result(
        m in method(),
        (v, perm) in prop_oneof![votes(), tie_heavy_votes()].prop_flat_map(|v| {
            let n = v.len();
            (Just(v), Just((0..n).collect::<Vec<usize>>()).prop_shuffle())
        }),
        house in 1u32..300,
    ) {
        // pv[j] = v[perm[j]]
        let pv: Vec<u64> = perm.iter().map(|&i| v[i]).collect();
        let a = allocate(&m, house, &v, None, R);
        let b = allocate(&m, house, &pv, None, R);
        match (a, b) {
            (Ok(a), Ok(b)) => {
                for (j, &i) in perm.iter().enumerate() {
                    prop_assert_eq!(b.seats[j], a.seats[i]);
                }
            }
            (Err(SeatError::Tie { parties: pa, seats: sa, decided: da }),
             Err(SeatError::Tie { parties: pb, seats: sb, decided: db })) => {
                prop_assert_eq!(sa, sb);
                let mut mapped: Vec<usize> = pb.iter().map(|&j| perm[j]).collect();
                mapped.sort_unstable();
                prop_assert_eq!(mapped, pa);
                for (j, &i) in perm.iter().enumerate() {
                    prop_assert_eq!(db[j], da[i]);
                }
            }
            (a, b) => prop_assert_eq!(a.err(), b.err()),
        }
    }

    #[test]
    fn fast_path_equals_explained_path(m in method(), v in votes(), house in 1u32..1500) {
        let fast = allocate(&m, house, &v, None, R);
        let (slow, _) = allocate_explained(&m, house, &v, None, R);
        prop_assert_eq!(fast, slow);
    }

    #[test]
    fn a_seeded_lot_always_completes_and_is_recorded(
        m in method(), v in votes(), house in 1u32..300, seed in any::<u64>(),
    ) {
        let lot = allocate(&m, house, &v, None, TieBreak::Lot { seed });
        match (allocate(&m, house, &v, None, R), lot) {
            (Ok(a), Ok(b)) => prop_assert_eq!(a, b),
            (Err(SeatError::Tie { parties, seats, decided }), Ok(b)) => {
                prop_assert_eq!(b.seats.iter().sum::<u32>(), house);
                prop_assert_eq!(b.lots.len(), 1);
                prop_assert_eq!(&b.lots[0].among, &parties);
                prop_assert_eq!(b.lots[0].seats, seats);
                for i in 0..v.len() {
                    let won = u32::from(b.lots[0].winners.contains(&i));
                    prop_assert_eq!(b.seats[i], decided[i] + won);
                }
            }
            (Err(e), Err(f)) => prop_assert_eq!(e, f),
            (a, b) => prop_assert!(false, "report {a:?} vs lot {b:?}"),
        }
    }

    /// Many parties on few distinct values: ties everywhere. The fast path (jump) and the
    /// step-by-step path must still agree exactly, including the reported tie.
    #[test]
    fn fast_and_explained_agree_when_ties_abound(
        m in method(),
        v in tie_heavy_votes(),
        house in 1u32..60,
    ) {
        let fast = allocate(&m, house, &v, None, R);
        let (slow, _) = allocate_explained(&m, house, &v, None, R);
        prop_assert_eq!(fast, slow);
    }
}
