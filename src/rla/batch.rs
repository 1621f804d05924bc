//! Batch-level comparison with MACRO (P. B. Stark 2008, "A sharper discrepancy measure for
//! post-election audits", Ann. Appl. Stat. 2(3)) and the Kaplan–Markov P-value for
//! sampling batches with probability proportional to an error bound (Stark 2009,
//! "Risk-limiting postelection audits: conservative P-values from common probability
//! inequalities", IEEE TIFS 4(4)). A batch is a polling station's box: its protocol is the
//! reported count, the hand count of its papers the audited one.
//!
//! For assertion `a` with reported total margin `V_a = Σ_ballots (2a − 1)` and batch `p` with
//! reported counts `r_p` and hand counts `h_p`: the batch's overstatement of the margin is
//! `Σ_cat (r_p − h_p)(2a − 1)` and its largest possible one, when every one of its `b_p` papers
//! scores 0, `Σ_cat r_p (2a − 1) + b_p`. MACRO takes, per batch, the largest relative
//! overstatement `e_p = max_a overstatement/V_a` and bound `u_p = max_a bound/V_a` over all
//! assertions of all contests on the batch's ballots, `U = Σ u_p`; batches are drawn with
//! replacement with probability `u_p/U`; the taint of a draw is `t = e_p/u_p ≤ 1` and
//! `P = Π_j (1 − 1/U)/(1 − t_j)`. If every outcome were wrong, `Σ_p e_p ≥ 1`, so `E[t] ≥ 1/U`
//! and `1/P` has mean ≤ 1: the P-value is valid (Markov's inequality on a product of
//! independent terms). With `U ≤ 1` no set of errors can change an outcome.

use super::assertion::Assertion;

/// An assertion of one contest, with the contest's index.
#[derive(Clone, Debug)]
pub struct ContestAssertion<'a> {
    pub contest: usize,
    pub assertion: &'a Assertion,
}

impl<'a> ContestAssertion<'a> {
    /// Every assertion of every contest, each with its contest's index (in `contests` order).
    pub fn all(contests: impl IntoIterator<Item = &'a [Assertion]>) -> Vec<Self> {
        contests
            .into_iter()
            .enumerate()
            .flat_map(|(contest, list)| {
                list.iter()
                    .map(move |assertion| ContestAssertion { contest, assertion })
            })
            .collect()
    }
}

/// One batch's reported counts per contest it holds.
#[derive(Clone, Debug)]
pub struct Batch {
    /// Papers in the batch (the ballot manifest's count).
    pub papers: u64,
    /// `(contest, per-category reported counts)` for each contest on its ballots.
    pub reported: Vec<(usize, Vec<u64>)>,
}

/// A planned MACRO audit: every batch's error bound and the sampling weights.
#[derive(Clone, Debug)]
pub struct MacroPlan {
    /// `V_a`, per assertion.
    margins: Vec<f64>,
    /// `u_p`, per batch.
    bounds: Vec<f64>,
    /// Running sums of `u_p` (for drawing).
    cumulative: Vec<f64>,
    total: f64,
    /// The assertions of each contest (indices into the plan's assertions).
    by_contest: Vec<Vec<usize>>,
}

/// Indices of the assertions of each contest, by contest number.
fn by_contest(assertions: &[ContestAssertion<'_>]) -> Vec<Vec<usize>> {
    let n = assertions.iter().map(|a| a.contest + 1).max().unwrap_or(0);
    let mut out = vec![Vec::new(); n];
    for (j, a) in assertions.iter().enumerate() {
        out[a.contest].push(j);
    }
    out
}

fn margin_of(a: &Assertion, counts: &[u64]) -> f64 {
    counts
        .iter()
        .zip(&a.values)
        .map(|(&c, &x)| c as f64 * (2.0 * x - 1.0))
        .sum()
}

impl MacroPlan {
    /// Plans the audit of `assertions` over `batches`. Assertions whose reported margin is not
    /// positive make every batch's bound infinite (nothing can confirm them).
    pub fn new(assertions: &[ContestAssertion<'_>], batches: &[Batch]) -> MacroPlan {
        let by_contest = by_contest(assertions);
        let of = |contest: usize| by_contest.get(contest).map_or(&[][..], Vec::as_slice);
        // `V_a` from each contest's reported totals (the margin is linear in the counts)
        let mut totals: Vec<Vec<u64>> = vec![Vec::new(); by_contest.len()];
        for b in batches {
            for (contest, counts) in &b.reported {
                let Some(t) = totals.get_mut(*contest) else {
                    continue;
                };
                if t.len() < counts.len() {
                    t.resize(counts.len(), 0);
                }
                for (t, &c) in t.iter_mut().zip(counts) {
                    *t += c;
                }
            }
        }
        let margins: Vec<f64> = assertions
            .iter()
            .map(|a| margin_of(a.assertion, &totals[a.contest]))
            .collect();
        // a batch's bound for assertion a is `Σ_cat r (2a − 1)/V_a + b/V_a`: the weights
        // `(2a − 1)/V_a` and `1/V_a` once per assertion (none when `V_a ≤ 0`: infinite bound)
        let weights: Vec<Option<(Vec<f64>, f64)>> = assertions
            .iter()
            .zip(&margins)
            .map(|(a, &v)| {
                (v > 0.0).then(|| {
                    let w = a.assertion.values.iter().map(|x| (2.0 * x - 1.0) / v);
                    (w.collect(), 1.0 / v)
                })
            })
            .collect();
        let mut bounds = Vec::with_capacity(batches.len());
        let mut cumulative = Vec::with_capacity(batches.len());
        let mut total = 0.0;
        let mut row: Vec<f64> = Vec::new();
        for b in batches {
            let papers = b.papers as f64;
            let mut u: f64 = 0.0;
            for (contest, counts) in &b.reported {
                row.clear();
                row.extend(counts.iter().map(|&c| c as f64));
                for &j in of(*contest) {
                    u = u.max(match &weights[j] {
                        Some((w, inv)) => {
                            row.iter().zip(w).map(|(c, w)| c * w).sum::<f64>() + papers * inv
                        }
                        None => f64::INFINITY,
                    });
                }
            }
            bounds.push(u);
            total += u;
            cumulative.push(total);
        }
        MacroPlan {
            margins,
            bounds,
            cumulative,
            total,
            by_contest,
        }
    }

    /// `U`, the total error bound (in units of the smallest margin).
    pub fn total_bound(&self) -> f64 {
        self.total
    }

    /// The batch drawn by a uniform number in [0, 1).
    pub fn pick(&self, unit: f64) -> usize {
        let target = unit * self.total;
        self.cumulative
            .partition_point(|&c| c <= target)
            .min(self.cumulative.len().saturating_sub(1))
    }

    /// The taint `e_p/u_p` of batch `p` given its hand counts per contest (the same contests
    /// in the same order as `batch.reported`).
    pub fn taint(
        &self,
        assertions: &[ContestAssertion<'_>],
        p: usize,
        batch: &Batch,
        hand: &[Vec<u64>],
    ) -> f64 {
        let mut e = f64::NEG_INFINITY;
        for ((contest, reported), counted) in batch.reported.iter().zip(hand) {
            for &j in self.by_contest.get(*contest).map_or(&[][..], Vec::as_slice) {
                let a = assertions[j].assertion;
                let over = margin_of(a, reported) - margin_of(a, counted);
                e = e.max(over / self.margins[j]);
            }
        }
        let u = self.bounds[p];
        if !e.is_finite() || !u.is_finite() || u <= 0.0 {
            return if e > 0.0 { 1.0 } else { 0.0 };
        }
        (e / u).min(1.0)
    }

    /// MACRO's sample size (batches) if no batch shows an overstatement: `⌈ln α / ln(1 − 1/U)⌉`
    /// (0 when `U ≤ 1`; `None` when some margin is not positive).
    pub fn sample_size(&self, alpha: f64) -> Option<u64> {
        sample_size(self.total, alpha)
    }
}

/// [`MacroPlan::sample_size`] for a total bound `total`.
pub fn sample_size(total: f64, alpha: f64) -> Option<u64> {
    if !total.is_finite() {
        return None;
    }
    if total <= 1.0 {
        return Some(0);
    }
    Some((alpha.ln() / (1.0 - 1.0 / total).ln()).ceil() as u64)
}

/// A lower bound of the part of the total error bound `U` of [`MacroPlan::new`] that the
/// batches holding one contest contribute, without a bound per batch: `assertions` are the
/// contest's, `totals` its reported counts summed over those batches, `papers` their papers
/// (`Σ b_p`). Every batch's bound for an assertion is at least 0 (its `Σ r(2a − 1) ≥ −Σ r ≥
/// −b_p`), so each batch's `u_p` is at least its bound for any one assertion `a` of the contest,
/// and their sum at least `(V_a + Σ b_p)/V_a`; infinite when some margin is not positive (as `U`
/// is), 0 when no batch holds a paper. The floors of contests on disjoint sets of batches add up
/// to a floor of `U`.
pub fn contest_bound_floor(assertions: &[Assertion], totals: &[u64], papers: u64) -> f64 {
    if papers == 0 {
        return 0.0;
    }
    let mut floor: f64 = 0.0;
    for a in assertions {
        let v = margin_of(a, totals);
        if v <= 0.0 {
            return f64::INFINITY;
        }
        floor = floor.max((v + papers as f64) / v);
    }
    floor
}

/// The Kaplan–Markov P-value of MACRO draws, one taint at a time.
#[derive(Clone, Debug)]
pub struct MacroTest {
    log_base: f64,
    log_p: f64,
    min_log_p: f64,
}

impl MacroTest {
    /// For a plan with total bound `U`.
    pub fn new(total_bound: f64) -> MacroTest {
        let (log_base, start) = if !total_bound.is_finite() {
            (0.0, 0.0)
        } else if total_bound <= 1.0 {
            (0.0, f64::NEG_INFINITY)
        } else {
            ((1.0 - 1.0 / total_bound).ln(), 0.0)
        };
        MacroTest {
            log_base,
            log_p: start,
            min_log_p: start,
        }
    }

    /// Takes the taint of the next drawn batch.
    pub fn observe(&mut self, taint: f64) {
        self.log_p += self.log_base - (1.0 - taint).ln();
        if self.log_p < self.min_log_p {
            self.min_log_p = self.log_p;
        }
    }

    /// The P-value (the smallest so far).
    pub fn p_value(&self) -> f64 {
        self.min_log_p.exp().min(1.0)
    }

    /// The statistic now, `1/Pₙ` (a test supermartingale; 1 before any draw).
    pub fn statistic(&self) -> f64 {
        (-self.log_p).exp()
    }
}
