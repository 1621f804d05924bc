//! Assertions in the SHANGRLA sense (Stark 2020, "Sets of half-average nulls generate
//! risk-limiting audits: SHANGRLA"): each is a claim about vote shares written as "the mean of an
//! *assorter* over all ballots exceeds ½"; a reported outcome is right if every one of its
//! assertions holds. Every claim here is linear in the vote counts, `Σ_ballots g(b) > 0`, and
//! becomes an assorter `a(b) = (g(b) + c) / (2c)` with `c = −min g` (so `a ≥ 0`), whose upper
//! bound is `(max g + c) / (2c)`.
//!
//! A contest's ballots fall into categories: choice `0…k−1` (a party or a candidate) and `k`, no
//! valid vote. The assertions for the rules in [`crate::seats`]:
//! - plurality: the winner beats every other candidate (`[w] − [l] > 0`);
//! - absolute majority (Kazakhstan's districts): elected in round 1 ⇔ the winner has more than
//!   half the valid votes (`[w] − ½[valid] > 0`); a runoff ⇔ both finalists beat every other
//!   candidate and the leader has less than half;
//! - a list threshold "≥ f of the base": each qualifying party's share `> f` (strict: when the
//!   share is exactly `f` the audit cannot confirm — conservative), each other party's `< f`;
//! - largest remainder (Hare quota over the qualifying lists, `S` seats, reported seats `a`):
//!   for every ordered pair of qualifying parties `i ≠ j` with `aᵢ ≥ 1`, `i`'s last seat has a
//!   higher priority than `j`'s next one, `S·vᵢ/V_q − (aᵢ − 1) > S·vⱼ/V_q − aⱼ`, i.e.
//!   `S(vᵢ − vⱼ) − (aᵢ − aⱼ − 1)·V_q > 0` (Blom, Stark, Stuckey, Teague, Vukcevic 2021,
//!   "Auditing Hamiltonian elections"). Largest remainder gives the `S` largest of the
//!   priorities `S·vᵢ/V_q − (k − 1)`, `k ≥ 1`; these pairwise claims say the reported seats are
//!   exactly such a top `S`, so with the qualifying set right (the threshold assertions) they
//!   imply the reported allocation.

use serde::Serialize;

use crate::seats::{DistrictOutcome, Ratio};

/// What an assertion claims, for reports.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "claim", rename_all = "snake_case")]
pub enum Claim {
    /// `winner` has more votes than `loser`.
    Beats { winner: usize, loser: usize },
    /// `choice`'s share of the base is more than `num/den`.
    ShareAbove { choice: usize, num: u64, den: u64 },
    /// `choice`'s share of the base is less than `num/den`.
    ShareBelow { choice: usize, num: u64, den: u64 },
    /// Largest remainder: `first`'s `first_seats`-th seat comes before `second`'s
    /// `(second_seats + 1)`-th.
    SeatOrder {
        first: usize,
        first_seats: u32,
        second: usize,
        second_seats: u32,
    },
}

impl Claim {
    /// A one-line description with choices named by `name`.
    pub fn describe(&self, name: &dyn Fn(usize) -> String) -> String {
        match *self {
            Claim::Beats { winner, loser } => format!("{} beats {}", name(winner), name(loser)),
            Claim::ShareAbove { choice, num, den } => {
                format!("{} has more than {}", name(choice), percent(num, den))
            }
            Claim::ShareBelow { choice, num, den } => {
                format!("{} has less than {}", name(choice), percent(num, den))
            }
            Claim::SeatOrder {
                first,
                first_seats,
                second,
                second_seats,
            } => format!(
                "{}'s seat {} comes before {}'s seat {}",
                name(first),
                first_seats,
                name(second),
                second_seats + 1
            ),
        }
    }
}

fn percent(num: u64, den: u64) -> String {
    format!("{}%", 100.0 * num as f64 / den.max(1) as f64)
}

/// What a share is measured against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Base {
    /// Ballots with a valid vote in the contest.
    Valid,
    /// All ballots, valid or not.
    AllBallots,
}

/// One assertion: its claim and its assorter's value on each ballot category.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Assertion {
    pub claim: Claim,
    /// The assorter per category: choices, then the last entry for no valid vote.
    pub values: Vec<f64>,
    /// The assorter's upper bound (its largest value).
    pub upper: f64,
}

impl Assertion {
    /// From the linear form `g` (one coefficient per category; `Σ g > 0` is the claim).
    pub fn from_linear(claim: Claim, g: &[f64]) -> Assertion {
        let min = g.iter().copied().fold(f64::INFINITY, f64::min);
        let c = if min < 0.0 { -min } else { 1.0 };
        let values: Vec<f64> = g.iter().map(|&x| (x + c) / (2.0 * c)).collect();
        let upper = values.iter().copied().fold(0.0, f64::max);
        Assertion {
            claim,
            values,
            upper,
        }
    }

    /// `winner` beats `loser` among `n_choices` choices.
    pub fn beats(winner: usize, loser: usize, n_choices: usize) -> Assertion {
        let mut g = vec![0.0; n_choices + 1];
        g[winner] = 1.0;
        g[loser] = -1.0;
        Assertion::from_linear(Claim::Beats { winner, loser }, &g)
    }

    /// `choice`'s share of `base` is above (`above`) or below `share`.
    pub fn share(choice: usize, share: Ratio, base: Base, n_choices: usize, above: bool) -> Self {
        let f = share.num as f64 / share.den as f64;
        let sign = if above { 1.0 } else { -1.0 };
        let mut g = vec![-f * sign; n_choices + 1];
        g[choice] = (1.0 - f) * sign;
        if base == Base::Valid {
            g[n_choices] = 0.0;
        }
        let (num, den) = (share.num, share.den);
        let claim = if above {
            Claim::ShareAbove { choice, num, den }
        } else {
            Claim::ShareBelow { choice, num, den }
        };
        Assertion::from_linear(claim, &g)
    }

    /// The assorter's mean over ballots with these per-category counts (0 with no ballots).
    pub fn mean(&self, counts: &[u64]) -> f64 {
        let n: u64 = counts.iter().sum();
        if n == 0 {
            return 0.0;
        }
        let s: f64 = counts
            .iter()
            .zip(&self.values)
            .map(|(&c, &v)| c as f64 * v)
            .sum();
        s / n as f64
    }

    /// The assorter margin `2·mean − 1` (positive when the claim holds).
    pub fn margin(&self, counts: &[u64]) -> f64 {
        2.0 * self.mean(counts) - 1.0
    }

    /// Whether the claim holds for these counts.
    pub fn holds(&self, counts: &[u64]) -> bool {
        // Exact in integers would need the rational g; the assorter mean is within 1e-12 of it
        // for any realistic count, and a margin that small is a tie for every purpose here.
        self.margin(counts) > 1e-12
    }
}

/// A plurality winner's assertions: `winner` beats each other choice. `votes` has one entry
/// per choice and a last entry for no valid vote.
pub fn plurality(votes: &[u64], winner: usize) -> Vec<Assertion> {
    let k = votes.len().saturating_sub(1);
    (0..k)
        .filter(|&l| l != winner)
        .map(|l| Assertion::beats(winner, l, k))
        .collect()
}

/// The assertions of an absolute-majority district's round-1 decision (see the module docs).
pub fn majority_rule(votes: &[u64], outcome: DistrictOutcome) -> Vec<Assertion> {
    let k = votes.len().saturating_sub(1);
    let half = Ratio { num: 1, den: 2 };
    match outcome {
        DistrictOutcome::Elected(w) => vec![Assertion::share(w, half, Base::Valid, k, true)],
        DistrictOutcome::Runoff(a, b) => {
            let mut out = Vec::new();
            for f in [a, b] {
                for l in (0..k).filter(|&l| l != a && l != b) {
                    out.push(Assertion::beats(f, l, k));
                }
            }
            let leader = if votes[b] > votes[a] { b } else { a };
            out.push(Assertion::share(leader, half, Base::Valid, k, false));
            out
        }
    }
}

/// How list seats are apportioned, for the seat-order assertions.
#[derive(Clone, Copy, Debug)]
pub enum SeatRule {
    /// Largest remainder with the Hare quota over the qualifying lists.
    Hare,
    /// A divisor method: the divisor of a list's `k`-th seat (`k ≥ 1`).
    Divisor(fn(u32) -> f64),
    /// No seat-order assertions (a rule they are not written for: the seats are not audited).
    None,
}

/// The seat rule of a `seats::Method`: Hare and every divisor method; Droop's quota is rounded
/// down, which no linear assertion expresses, so it has none.
pub fn seat_rule(method: &crate::seats::Method) -> SeatRule {
    use crate::seats::Method as M;
    match method {
        M::Hare => SeatRule::Hare,
        M::DHondt => SeatRule::Divisor(f64::from),
        M::SainteLague => SeatRule::Divisor(|k| f64::from(2 * k - 1)),
        M::Imperiali => SeatRule::Divisor(|k| f64::from(k + 1)),
        M::ModifiedSainteLague { first_divisor } => {
            if *first_divisor == (Ratio { num: 7, den: 5 }) {
                SeatRule::Divisor(|k| if k == 1 { 1.4 } else { f64::from(2 * k - 1) })
            } else if *first_divisor == (Ratio { num: 6, den: 5 }) {
                SeatRule::Divisor(|k| if k == 1 { 1.2 } else { f64::from(2 * k - 1) })
            } else {
                SeatRule::None
            }
        }
        M::Droop => SeatRule::None,
    }
}

/// The list tier's assertions: the threshold crossings (`share` of `base`; every party) and the
/// seat order among the qualifying parties given the reported `seats` (largest remainder as in
/// the module docs; a divisor method `d`: for every ordered pair `i ≠ j` with `aᵢ ≥ 1`,
/// `vᵢ/d(aᵢ) > vⱼ/d(aⱼ + 1)`, i.e. `d(aⱼ + 1)·vᵢ − d(aᵢ)·vⱼ > 0` — the last quotient that won a
/// seat beats the first that did not). `votes`: one entry per party and a last one for no valid
/// list vote.
pub fn list_tier(
    votes: &[u64],
    qualifying: &[bool],
    seats: &[u32],
    threshold: Option<(Ratio, Base)>,
    rule: SeatRule,
) -> Vec<Assertion> {
    let k = votes.len().saturating_sub(1);
    let mut out = Vec::new();
    if let Some((share, base)) = threshold {
        for p in 0..k {
            out.push(Assertion::share(p, share, base, k, qualifying[p]));
        }
    }
    let pairs = || {
        (0..k)
            .filter(|&i| qualifying[i] && seats[i] >= 1)
            .flat_map(move |i| {
                (0..k)
                    .filter(move |&j| j != i && qualifying[j])
                    .map(move |j| (i, j))
            })
    };
    let order = |i: usize, j: usize| Claim::SeatOrder {
        first: i,
        first_seats: seats[i],
        second: j,
        second_seats: seats[j],
    };
    if let SeatRule::Divisor(d) = rule {
        for (i, j) in pairs() {
            let mut g = vec![0.0; k + 1];
            g[i] = d(seats[j] + 1);
            g[j] = -d(seats[i]);
            out.push(Assertion::from_linear(order(i, j), &g));
        }
    }
    if matches!(rule, SeatRule::Hare) {
        let total: u32 = seats.iter().sum();
        let s = f64::from(total);
        for i in (0..k).filter(|&i| qualifying[i] && seats[i] >= 1) {
            for j in (0..k).filter(|&j| j != i && qualifying[j]) {
                let kij = f64::from(seats[i]) - f64::from(seats[j]) - 1.0;
                let mut g = vec![0.0; k + 1];
                for q in (0..k).filter(|&q| qualifying[q]) {
                    g[q] = -kij;
                }
                g[i] += s;
                g[j] -= s;
                out.push(Assertion::from_linear(order(i, j), &g));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seats::{Method, Threshold, TieBreak, allocate};

    #[test]
    fn plurality_assorter_is_one_half_zero() {
        let a = Assertion::beats(0, 1, 3);
        assert_eq!(a.values, vec![1.0, 0.0, 0.5, 0.5]);
        assert_eq!(a.upper, 1.0);
        assert!((a.margin(&[60, 40, 0, 0]) - 0.2).abs() < 1e-12);
    }

    #[test]
    fn share_assorter_is_the_super_majority_one() {
        let f = Ratio { num: 7, den: 100 };
        let a = Assertion::share(1, f, Base::Valid, 3, true);
        assert!((a.values[1] - 1.0 / 0.14).abs() < 1e-12);
        assert_eq!(a.values[0], 0.0);
        assert_eq!(a.values[3], 0.5);
        assert!(a.holds(&[90, 8, 2, 50]) && !a.holds(&[93, 6, 1, 50]));
        let b = Assertion::share(1, f, Base::Valid, 3, false);
        assert!(b.holds(&[93, 6, 1, 50]) && !b.holds(&[90, 8, 2, 50]));
    }

    /// The assertions hold for the allocation `seats::allocate` gives (Hare and every divisor
    /// method) and at least one fails when one seat moves between two qualifying lists, over
    /// many random vote vectors.
    #[test]
    fn seat_assertions_characterise_the_allocation() {
        for method in [
            Method::Hare,
            Method::DHondt,
            Method::SainteLague,
            Method::modified_sainte_lague(),
            Method::Imperiali,
        ] {
            check_seat_assertions(method);
        }
    }

    fn check_seat_assertions(method: Method) {
        let mut state = 12345u64;
        let mut next = |m: u64| {
            state = crate::rng::mix64(state.wrapping_add(0x9E37_79B9_7F4A_7C15));
            state % m
        };
        let share = Ratio { num: 7, den: 100 };
        for _ in 0..300 {
            let k = 2 + next(5) as usize;
            let mut votes: Vec<u64> = (0..k).map(|_| 1 + next(10_000)).collect();
            votes.push(next(500));
            let total_seats = 1 + next(12) as u32;
            let listed = &votes[..k];
            let t = Threshold::on_listed_votes(share);
            let Ok(alloc) = allocate(&method, total_seats, listed, Some(&t), TieBreak::Report)
            else {
                continue;
            };
            let qualifying = alloc.qualified.clone();
            let a = list_tier(
                &votes,
                &qualifying,
                &alloc.seats,
                Some((share, Base::Valid)),
                seat_rule(&method),
            );
            let failed: Vec<_> = a.iter().filter(|x| !x.holds(&votes)).collect();
            assert!(
                failed.is_empty(),
                "{} {votes:?} {:?} {failed:?}",
                method.name(),
                alloc.seats
            );
            // Move one seat between two qualifying parties: some assertion must fail.
            let q: Vec<usize> = (0..k).filter(|&i| qualifying[i]).collect();
            if q.len() >= 2 {
                let (from, to) = (q[0], q[1]);
                for (x, y) in [(from, to), (to, from)] {
                    if alloc.seats[x] == 0 {
                        continue;
                    }
                    let mut wrong = alloc.seats.clone();
                    wrong[x] -= 1;
                    wrong[y] += 1;
                    let a = list_tier(&votes, &qualifying, &wrong, None, seat_rule(&method));
                    assert!(a.iter().any(|x| !x.holds(&votes)), "{votes:?} {wrong:?}");
                }
            }
        }
    }

    #[test]
    fn majority_rule_assertions() {
        let e = majority_rule(&[60, 30, 10, 5], DistrictOutcome::Elected(0));
        assert_eq!(e.len(), 1);
        assert!(e[0].holds(&[60, 30, 10, 5]) && !e[0].holds(&[45, 45, 10, 5]));
        let r = majority_rule(&[45, 35, 20, 5], DistrictOutcome::Runoff(0, 1));
        assert_eq!(r.len(), 3);
        assert!(r.iter().all(|a| a.holds(&[45, 35, 20, 5])));
        assert!(r.iter().any(|a| !a.holds(&[45, 20, 35, 5])));
        assert!(r.iter().any(|a| !a.holds(&[55, 30, 15, 5])));
    }
}
