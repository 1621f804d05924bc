//! Highest-averages (divisor) methods: D'Hondt, Sainte-Laguë, modified Sainte-Laguë, Imperiali.
//! Source: Balinski & Young, *Fair Representation* (2001), app. A; Pukelsheim, *Proportional
//! Representation* (2nd ed., 2017), ch. 4 (jump-and-step algorithm).
//!
//! Owns the seat-by-seat award of the highest quotient `votes / divisor(seats so far)`, with
//! exact comparisons `v_i·D_j ≷ v_j·D_i` in `u128`. Never floats, never picks among equal
//! quotients by position: a group of equal quotients either all get seats or the tie is decided
//! by [`TieState`].
//!
//! Fast path (no recording): a *jump* first gives every party the number of its quotients that
//! are ≥ a trial divisor λ₀ ≈ V/S, computed in closed form. If those counts add up to fewer than
//! S seats, λ₀ lies strictly above the S-th largest quotient, so every quotient counted is
//! strictly above the boundary and belongs to every possible outcome; the remaining (≈ n) seats
//! are then *stepped* one by one. The explained path steps every seat from zero so that seats
//! are listed in order; the two are checked equal by a property test.

use super::explain::{Frac, Reason, Recorder, Step};
use super::tie::{TieState, award_by_lot};
use super::{Method, SeatError};

/// Scaled integer divisors: `D(0) = d0`, `D(s) = a·s + b` for `s ≥ 1`; the actual divisor is
/// `D(s) / scale`. Strictly increasing by construction (validated for the modified first
/// divisor).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Divisors {
    d0: u64,
    a: u64,
    b: u64,
    scale: u64,
}

impl Divisors {
    /// The divisors of a divisor method; `None` for the largest-remainder methods.
    pub(crate) fn of(m: &Method) -> Option<Divisors> {
        Some(match m {
            Method::DHondt => Divisors {
                d0: 1,
                a: 1,
                b: 1,
                scale: 1,
            },
            Method::SainteLague => Divisors {
                d0: 1,
                a: 2,
                b: 1,
                scale: 1,
            },
            // f = n/d: divisors n/d, 3, 5, … = (n, 3d, 5d, …)/d.
            Method::ModifiedSainteLague { first_divisor: f } => Divisors {
                d0: f.num,
                a: 2 * f.den,
                b: f.den,
                scale: f.den,
            },
            Method::Imperiali => Divisors {
                d0: 2,
                a: 1,
                b: 2,
                scale: 1,
            },
            Method::Hare | Method::Droop => return None,
        })
    }

    #[inline(always)]
    fn d(&self, s: u32) -> u64 {
        if s == 0 {
            self.d0
        } else {
            self.a * u64::from(s) + self.b
        }
    }

    fn quotient(&self, v: u64, s: u32) -> Frac {
        Frac {
            num: u128::from(v) * u128::from(self.scale),
            den: u128::from(self.d(s)),
        }
    }

    /// Number of quotients `v / D(s)` that are ≥ `p / q`, i.e. of `s` with `v·q ≥ p·D(s)`.
    fn count_at_least(&self, v: u64, p: u128, q: u128) -> u128 {
        let vq = u128::from(v) * q;
        if vq < p * u128::from(self.d0) {
            return 0;
        }
        let pb = p * u128::from(self.b);
        let t = if vq < pb {
            0
        } else {
            (vq - pb) / (p * u128::from(self.a))
        };
        1 + t
    }
}

/// The jump: seats certainly won (strictly above the boundary). Returns seats given.
///
/// Trial divisors λ = V / (a·h) for effective house sizes h = S (enough for D'Hondt and
/// Imperiali, whose counts are at most the quota), then S − ⌈n/2⌉ − 1 (Sainte-Laguë-type
/// divisors count at most quota + ½ per party, so the sum is below S), then S − n − 1 and
/// halvings as a fallback. The first λ whose counts add up to fewer than S seats is used;
/// the certificate, not the heuristic, makes it correct.
fn jump(
    div: Divisors,
    house: u32,
    votes: &[u64],
    qualified: &[bool],
    total: u64,
    seats: &mut [u32],
) -> u32 {
    let s = u64::from(house);
    let n = qualified.iter().filter(|&&q| q).count() as u64;
    let trials = [
        s,
        s.saturating_sub(n.div_ceil(2) + 1),
        s.saturating_sub(n + 1),
        s / 2,
        s / 4,
        s / 8,
    ];
    let p = u128::from(total);
    for h in trials {
        if h == 0 {
            break;
        }
        let q = u128::from(div.a) * u128::from(h);
        let mut sum: u128 = 0;
        for (v, ok) in votes.iter().zip(qualified) {
            if *ok {
                sum += div.count_at_least(*v, p, q);
            }
        }
        if sum < u128::from(house) {
            for ((st, v), ok) in seats.iter_mut().zip(votes).zip(qualified) {
                if *ok {
                    // < house ≤ u32::MAX, so the cast is exact.
                    *st = div.count_at_least(*v, p, q) as u32;
                }
            }
            return sum as u32;
        }
    }
    0
}

/// How seats after the jump are awarded: [`step`], or [`step_linear`] in tests.
type Stepper<R> = fn(
    Divisors,
    u32,
    &[u64],
    &[bool],
    &mut [u32],
    u32,
    &mut TieState,
    &mut R,
) -> Result<(), SeatError>;

pub(crate) fn allocate<R: Recorder>(
    div: Divisors,
    house: u32,
    votes: &[u64],
    qualified: &[bool],
    total: u64,
    ties: &mut TieState,
    rec: &mut R,
) -> Result<Vec<u32>, SeatError> {
    allocate_with(div, house, votes, qualified, total, ties, rec, step::<R>)
}

/// [`allocate`] with the scan of every party per seat it used before, for the property test.
#[cfg(test)]
pub(crate) fn allocate_linear<R: Recorder>(
    div: Divisors,
    house: u32,
    votes: &[u64],
    qualified: &[bool],
    total: u64,
    ties: &mut TieState,
    rec: &mut R,
) -> Result<Vec<u32>, SeatError> {
    allocate_with(
        div,
        house,
        votes,
        qualified,
        total,
        ties,
        rec,
        step_linear::<R>,
    )
}

#[allow(clippy::too_many_arguments)]
fn allocate_with<R: Recorder>(
    div: Divisors,
    house: u32,
    votes: &[u64],
    qualified: &[bool],
    total: u64,
    ties: &mut TieState,
    rec: &mut R,
    stepper: Stepper<R>,
) -> Result<Vec<u32>, SeatError> {
    let n = votes.len();
    let mut seats = vec![0u32; n];
    let mut given = 0u32;
    if R::ON {
        rec.divisors(
            (0..3)
                .map(|s| Frac {
                    num: u128::from(div.d(s)),
                    den: u128::from(div.scale),
                })
                .collect(),
        );
    } else {
        given = jump(div, house, votes, qualified, total, &mut seats);
    }
    stepper(div, house, votes, qualified, &mut seats, given, ties, rec)?;
    Ok(seats)
}

/// A party's next quotient `votes / D(seats)` in the heap of [`step`]; ordered by exact
/// cross-multiplication (`u128`), then by party (only to make the order total: a group of equal
/// quotients is always taken from the heap whole).
#[derive(Clone, Copy, Debug)]
struct Next {
    v: u64,
    d: u64,
    party: usize,
}

impl Next {
    fn cmp_quotient(&self, o: &Next) -> std::cmp::Ordering {
        (u128::from(self.v) * u128::from(o.d)).cmp(&(u128::from(o.v) * u128::from(self.d)))
    }
}

impl PartialEq for Next {
    fn eq(&self, o: &Next) -> bool {
        self.cmp(o) == std::cmp::Ordering::Equal
    }
}
impl Eq for Next {}
impl PartialOrd for Next {
    fn partial_cmp(&self, o: &Next) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Next {
    fn cmp(&self, o: &Next) -> std::cmp::Ordering {
        self.cmp_quotient(o).then(o.party.cmp(&self.party))
    }
}

/// Awards seats `given + 1 ..= house` one by one to the highest quotient, from a max-heap of
/// every qualified party's next quotient: O((n + S) log n) instead of a scan of every party per
/// seat. Each round takes the whole group of quotients equal to the highest (exact
/// cross-multiplication) off the heap: one party gets its seat; a group no larger than the
/// seats left all get one (in the documented order: more votes first, then the party listed
/// first); a larger group goes to the tie rule for every remaining seat. Same seats, steps and
/// ties as the scan it replaces ([`step_linear`], compared by a property test).
#[allow(clippy::too_many_arguments)]
fn step<R: Recorder>(
    div: Divisors,
    house: u32,
    votes: &[u64],
    qualified: &[bool],
    seats: &mut [u32],
    mut given: u32,
    ties: &mut TieState,
    rec: &mut R,
) -> Result<(), SeatError> {
    if given >= house {
        return Ok(());
    }
    let next = |i: usize, s: &[u32]| Next {
        v: votes[i],
        d: div.d(s[i]),
        party: i,
    };
    let mut heap: std::collections::BinaryHeap<Next> = (0..votes.len())
        .filter(|&i| qualified[i])
        .map(|i| next(i, seats))
        .collect();
    let mut group: Vec<usize> = Vec::new();
    while given < house {
        let Some(top) = heap.pop() else {
            // no qualified party: callers never get here (they refuse such input first)
            break;
        };
        group.clear();
        group.push(top.party);
        while let Some(n) = heap.peek() {
            if n.cmp_quotient(&top) != std::cmp::Ordering::Equal {
                break;
            }
            group.push(n.party);
            heap.pop();
        }
        let remaining = house - given;
        if group.len() == 1 {
            let best = top.party;
            given += 1;
            rec.step(|| Step::Seat {
                seat: given,
                party: best,
                value: div.quotient(votes[best], seats[best]),
                reason: Reason::HighestQuotient,
            });
            seats[best] += 1;
            heap.push(next(best, seats));
            continue;
        }
        group.sort_unstable();
        if group.len() as u64 <= u64::from(remaining) {
            let mut order = group.clone();
            if R::ON {
                order.sort_by(|&x, &y| votes[y].cmp(&votes[x]).then(x.cmp(&y)));
            }
            for &i in &order {
                given += 1;
                rec.step(|| Step::Seat {
                    seat: given,
                    party: i,
                    value: div.quotient(votes[i], seats[i]),
                    reason: Reason::TiedAllSeated {
                        with: group.iter().copied().filter(|&j| j != i).collect(),
                    },
                });
                seats[i] += 1;
                heap.push(next(i, seats));
            }
        } else {
            // decides every remaining seat (or fails)
            award_by_lot(
                ties,
                std::mem::take(&mut group),
                remaining,
                seats,
                &mut given,
                |i, s| div.quotient(votes[i], s[i]),
                rec,
            )?;
        }
    }
    Ok(())
}

/// The seat-by-seat step as it was before [`step`] kept a heap: a scan of every party per seat
/// (O(n) per seat). Kept as the reference the property test compares [`step`] with.
#[cfg(test)]
#[allow(clippy::too_many_arguments)]
pub(crate) fn step_linear<R: Recorder>(
    div: Divisors,
    house: u32,
    votes: &[u64],
    qualified: &[bool],
    seats: &mut [u32],
    mut given: u32,
    ties: &mut TieState,
    rec: &mut R,
) -> Result<(), SeatError> {
    let n = votes.len();
    while given < house {
        // The highest quotient (first found; equality handled below, never by position).
        let mut best = usize::MAX;
        let (mut bv, mut bd) = (0u128, 1u128);
        for i in 0..n {
            if !qualified[i] {
                continue;
            }
            let (v, d) = (u128::from(votes[i]), u128::from(div.d(seats[i])));
            if best == usize::MAX || v * bd > bv * d {
                best = i;
                (bv, bd) = (v, d);
            }
        }
        let equal = |i: usize, s: &[u32]| {
            qualified[i] && u128::from(votes[i]) * bd == bv * u128::from(div.d(s[i]))
        };
        let e = (0..n).filter(|&i| equal(i, seats)).count();
        let remaining = house - given;
        if e == 1 {
            given += 1;
            rec.step(|| Step::Seat {
                seat: given,
                party: best,
                value: div.quotient(votes[best], seats[best]),
                reason: Reason::HighestQuotient,
            });
            seats[best] += 1;
            continue;
        }
        let group: Vec<usize> = (0..n).filter(|&i| equal(i, seats)).collect();
        if e as u64 <= u64::from(remaining) {
            // Every tied party gets a seat: the tie decides nothing. Documented order for the
            // record: more votes first, then the party listed first.
            let mut order = group.clone();
            if R::ON {
                order.sort_by(|&x, &y| votes[y].cmp(&votes[x]).then(x.cmp(&y)));
            }
            for &i in &order {
                given += 1;
                rec.step(|| Step::Seat {
                    seat: given,
                    party: i,
                    value: div.quotient(votes[i], seats[i]),
                    reason: Reason::TiedAllSeated {
                        with: group.iter().copied().filter(|&j| j != i).collect(),
                    },
                });
                seats[i] += 1;
            }
        } else {
            award_by_lot(
                ties,
                group,
                remaining,
                seats,
                &mut given,
                |i, s| div.quotient(votes[i], s[i]),
                rec,
            )?;
        }
    }
    Ok(())
}
