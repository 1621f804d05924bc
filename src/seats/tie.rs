//! Ties that decide a seat: reported as [`SeatError::Tie`], or decided by an explicit seeded
//! lot that is recorded in the result. Never by iteration order, and never by a global or
//! time-seeded generator.
//!
//! The lot is specified exactly so that anyone can reproduce it: the tied parties are sorted by
//! ascending index into `g`; a `Xoshiro256PlusPlus` generator is seeded with
//! `seed_from_u64(seed)` (SplitMix64 expansion, as in `rand_xoshiro` 0.8); for `i` in `0..k`
//! a draw `j = i + uniform(g.len() − i)` picks the `i`-th winner and swaps `g[i]` and `g[j]`
//! (a partial Fisher–Yates shuffle); the winners `g[..k]` are reported in ascending order.
//! `uniform(m)` takes `x = next_u64()` and returns `x mod m`, rejecting and redrawing any
//! `x ≥ m·⌊(2^64 − 1)/m⌋` so every outcome is equally likely. One generator serves a whole call
//! (e.g. all districts of [`super::allocate_districts`], in order).

use super::SeatError;
use super::explain::{Reason, Recorder, Step};
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::Serialize;

/// What to do when a tie decides a seat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TieBreak {
    /// Return [`SeatError::Tie`] naming the tied parties and the seats decided so far.
    Report,
    /// Draw lots with the documented procedure seeded from `seed`; record them in the result.
    Lot { seed: u64 },
}

/// A lot that was drawn: `seats` seats among the tied parties `among`, won by `winners`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Lot {
    pub seed: u64,
    pub among: Vec<usize>,
    pub seats: u32,
    pub winners: Vec<usize>,
}

/// Per-call tie state: the rule, the lazily created generator and the lots drawn.
pub(crate) struct TieState {
    mode: TieBreak,
    rng: Option<Xoshiro256PlusPlus>,
    lots: Vec<Lot>,
}

impl TieState {
    pub(crate) fn new(mode: TieBreak) -> TieState {
        TieState {
            mode,
            rng: None,
            lots: Vec::new(),
        }
    }

    pub(crate) fn into_lots(self) -> Vec<Lot> {
        self.lots
    }

    /// The lots drawn since the last call (for per-district results).
    pub(crate) fn take_lots(&mut self) -> Vec<Lot> {
        std::mem::take(&mut self.lots)
    }

    /// `group` (ascending) ties for `k < group.len()` seats. Either errors or gives the seats
    /// to `k` of them by lot, returning the winners in ascending order.
    pub(crate) fn decide(
        &mut self,
        group: Vec<usize>,
        k: u32,
        decided: &[u32],
    ) -> Result<Vec<usize>, SeatError> {
        let seed = match self.mode {
            TieBreak::Report => {
                return Err(SeatError::Tie {
                    parties: group,
                    seats: k,
                    decided: decided.to_vec(),
                });
            }
            TieBreak::Lot { seed } => seed,
        };
        let rng = self
            .rng
            .get_or_insert_with(|| Xoshiro256PlusPlus::seed_from_u64(seed));
        let winners = draw(rng, &group, k as usize);
        self.lots.push(Lot {
            seed,
            among: group,
            seats: k,
            winners: winners.clone(),
        });
        Ok(winners)
    }
}

/// `group` (ascending) ties for the last `remaining < group.len()` seats: reports the tie or
/// gives the seats by lot, recording the lot and the seats as steps. `value(party, seats)` is
/// the tied quotient or remainder, for the record.
#[allow(clippy::too_many_arguments)]
pub(crate) fn award_by_lot<R: Recorder>(
    ties: &mut TieState,
    group: Vec<usize>,
    remaining: u32,
    seats: &mut [u32],
    given: &mut u32,
    value: impl Fn(usize, &[u32]) -> super::Frac,
    rec: &mut R,
) -> Result<(), SeatError> {
    let among = if R::ON { group.clone() } else { Vec::new() };
    let winners = ties.decide(group, remaining, seats)?;
    rec.step(|| Step::Lot {
        among,
        seats: remaining,
        winners: winners.clone(),
    });
    for &w in &winners {
        let v = value(w, seats);
        seats[w] += 1;
        *given += 1;
        rec.step(|| Step::Seat {
            seat: *given,
            party: w,
            value: v,
            reason: Reason::Lot,
        });
    }
    Ok(())
}

fn uniform(rng: &mut Xoshiro256PlusPlus, m: u64) -> u64 {
    let zone = (u64::MAX / m) * m; // values in [zone, 2^64) are rejected
    loop {
        let x = rng.next_u64();
        if x < zone {
            return x % m;
        }
    }
}

fn draw(rng: &mut Xoshiro256PlusPlus, group: &[usize], k: usize) -> Vec<usize> {
    let mut g = group.to_vec();
    g.sort_unstable();
    for i in 0..k.min(g.len()) {
        let j = i + uniform(rng, (g.len() - i) as u64) as usize;
        g.swap(i, j);
    }
    let mut winners = g[..k.min(g.len())].to_vec();
    winners.sort_unstable();
    winners
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Value stability: these outcomes are part of the documented lot procedure; a change in
    /// the generator or the procedure breaks reproducibility of recorded lots.
    #[test]
    fn lot_outcomes_are_pinned_for_fixed_seeds() {
        let mut got = Vec::new();
        for seed in 0..6u64 {
            let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
            got.push(draw(&mut rng, &[0, 3, 4], 2));
        }
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(42);
        assert_eq!(rng.next_u64(), PINNED_FIRST_U64_SEED_42);
        assert_eq!(got, pinned_draws());
    }

    // Computed independently by a Python re-implementation of SplitMix64 seeding,
    // xoshiro256++ and the draw above (docs/seats.md, "Lots").
    const PINNED_FIRST_U64_SEED_42: u64 = 15021278609987233951;
    fn pinned_draws() -> Vec<Vec<usize>> {
        vec![
            vec![0, 4],
            vec![0, 4],
            vec![0, 3],
            vec![0, 3],
            vec![0, 3],
            vec![0, 3],
        ]
    }

    #[test]
    fn every_member_of_a_tie_can_win_a_lot() {
        let mut wins = [0u32; 3];
        for seed in 0..200u64 {
            let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
            for w in draw(&mut rng, &[5, 6, 7], 1) {
                wins[w - 5] += 1;
            }
        }
        assert!(wins.iter().all(|&w| w > 30), "{wins:?}");
    }
}
