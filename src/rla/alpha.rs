//! The ALPHA betting martingale (P. B. Stark 2023, "ALPHA: Audit that learns from previously
//! hand-audited ballots", Ann. Appl. Stat. 17(1)): a test of "the mean of an assorter
//! `x ∈ [0, u]` over the ballots is at most `μ = ½`". After draw `j` the statistic is
//! `T_j = T_{j−1} · (x_j·η_j/μ_j + (u − x_j)(u − η_j)/(u − μ_j)) / u`, where `η_j` is a bet on
//! the mean fixed before draw `j` — here the paper's truncated shrinkage estimator
//! `η_j = min(u(1 − 10⁻⁹), max((d·η₀ + S_{j−1})/(d + j − 1), μ_j + (η₀ − μ)/(2√(d + j − 1))))`
//! from the prior guess `η₀` (the reported mean) and the sum `S_{j−1}` of the values seen — and
//! `μ_j` is the null mean of what is left: `½` with replacement, `(N/2 − S_{j−1})/(N − j + 1)`
//! without. By Ville's inequality `P = min(1, 1/max_j T_j)` is a valid P-value at any stopping
//! time. For ballot polling `x` is the assorter of the paper ballot; for comparison it is the
//! comparison assorter of the overstatement (see [`super::comparison`]).

/// The ALPHA test of one assertion, updated one draw at a time.
#[derive(Clone, Debug)]
pub struct Alpha {
    u: f64,
    eta0: f64,
    d: f64,
    population: Option<f64>,
    sum: f64,
    draws: u64,
    log_t: f64,
    max_log_t: f64,
    /// The null mean of what is left became negative: the assertion holds whatever remains.
    proven: bool,
}

/// The shrinkage weight `d` used throughout (Stark 2023 uses 10 to 1,000; SHANGRLA's default).
pub const ALPHA_D: f64 = 100.0;

impl Alpha {
    /// A test of an assorter bounded by `u` with prior guess `eta0` (> ½ for the test to have
    /// power), sampling with replacement (`population = None`) or without from `N` ballots.
    pub fn new(u: f64, eta0: f64, population: Option<u64>) -> Alpha {
        Alpha {
            u,
            eta0: eta0.min(u * (1.0 - 1e-9)),
            d: ALPHA_D,
            population: population.map(|n| n as f64),
            sum: 0.0,
            draws: 0,
            log_t: 0.0,
            max_log_t: 0.0,
            proven: false,
        }
    }

    /// Takes the assorter value of the next draw.
    pub fn observe(&mut self, x: f64) {
        if self.proven {
            return;
        }
        let j = self.draws as f64 + 1.0;
        let mu = match self.population {
            None => 0.5,
            Some(n) => {
                if j > n {
                    return;
                }
                (n * 0.5 - self.sum) / (n - j + 1.0)
            }
        };
        self.draws += 1;
        self.sum += x;
        if mu <= 0.0 {
            self.proven = true;
            self.max_log_t = f64::INFINITY;
            return;
        }
        let u = self.u;
        if mu >= u {
            self.log_t = f64::NEG_INFINITY;
            return;
        }
        let dj = self.d + j - 1.0;
        let shrunk = (self.d * self.eta0 + self.sum - x) / dj;
        let floor = mu + (self.eta0 - 0.5) / (2.0 * dj.sqrt());
        let eta = shrunk.max(floor).min(u * (1.0 - 1e-9));
        let factor = (x * eta / mu + (u - x) * (u - eta) / (u - mu)) / u;
        self.log_t += factor.ln();
        if self.log_t > self.max_log_t {
            self.max_log_t = self.log_t;
        }
    }

    /// Draws taken.
    pub fn draws(&self) -> u64 {
        self.draws
    }

    /// `min(1, 1/max T)`.
    pub fn p_value(&self) -> f64 {
        (-self.max_log_t).exp().min(1.0)
    }

    /// `T` now (1 before any draw).
    pub fn statistic(&self) -> f64 {
        self.log_t.exp()
    }
}

/// ALPHA with replacement (`μ = ½`) for several assertions over the same draws, as [`Alpha`]
/// defines it, keeping only whether each statistic has reached `1/α` (then its P-value is at
/// most α for good). Built for audits simulated draw by draw: the shrinkage estimator's
/// denominators are shared by the assertions, and the statistic is kept as a product (no
/// logarithm per draw), rescaled exactly when it becomes tiny.
#[derive(Clone, Debug)]
pub struct AlphaSet {
    lanes: Vec<Lane>,
    draws: u64,
    open: usize,
}

#[derive(Clone, Debug)]
struct Lane {
    values: Vec<f64>,
    u: f64,
    inv_u: f64,
    inv_rest: f64,
    eta0: f64,
    sum: f64,
    /// The statistic is `t · s` for a scale `s` (1 until the first rescaling) …
    t: f64,
    /// … and it has reached `1/α` when `t ≥ target = 1/(α s)`.
    target: f64,
    done: bool,
    /// Draws taken into this test (see [`AlphaSet::advance_over`]).
    seen: u64,
}

/// What draw number `j` (from 1) contributes to the shrinkage estimator whatever the test:
/// `1/(d + j − 1)` and `½/√(d + j − 1)`.
#[inline]
fn step(j: u64) -> [f64; 2] {
    let dj = ALPHA_D + j as f64 - 1.0;
    [1.0 / dj, 0.5 / dj.sqrt()]
}

impl Lane {
    /// Takes draw number `j` (from 1), a paper in `category`; whether the statistic reached
    /// `1/α` with it.
    #[inline]
    fn take(&mut self, j: u64, category: usize) -> bool {
        self.take_step(step(j), category)
    }

    /// [`Lane::take`] with the draw's [`step`].
    #[inline]
    fn take_step(&mut self, [inv_dj, half_root]: [f64; 2], category: usize) -> bool {
        let x = self.values[category];
        let u = self.u;
        let shrunk = (ALPHA_D * self.eta0 + self.sum) * inv_dj;
        let floor = 0.5 + (self.eta0 - 0.5) * half_root;
        let eta = shrunk.max(floor).min(u * (1.0 - 1e-9));
        self.sum += x;
        self.t *= (2.0 * x * eta + (u - x) * (u - eta) * self.inv_rest) * self.inv_u;
        if self.t >= self.target {
            self.done = true;
        } else if self.t < RESCALE_BELOW {
            self.target /= self.t;
            self.t = 1.0;
        }
        self.done
    }
}

/// A lane's constants for [`AlphaSet::advance`]'s loop.
struct Run {
    u: f64,
    inv_u: f64,
    inv_rest: f64,
    prior: f64,
    lift: f64,
    cap: f64,
}

impl Run {
    /// `Lane::take_step`'s arithmetic over the draws `categories` (the first of them draw number
    /// `first`) from the running `(sum, t, target)`: the state after them, the draws taken and
    /// whether the statistic reached its target (no draw is taken past it). Its state passed by
    /// value, so that the loop keeps it in registers; the draw's [`step`] is computed in the
    /// loop (cheaper than reading it from a table of a million draws), the floor only when the
    /// estimate could fall below it.
    #[inline(always)]
    fn over(
        &self,
        values: &[f64],
        categories: impl Iterator<Item = usize>,
        first: u64,
        (mut sum, mut t, mut target): (f64, f64, f64),
    ) -> ((f64, f64, f64), u64, bool) {
        let Run {
            u,
            inv_u,
            inv_rest,
            prior,
            lift,
            cap,
        } = *self;
        // the floor falls with the draws when the prior is above ½: above its value at the
        // first draw here, the estimate is the bet without it
        let ceiling = if lift >= 0.0 {
            0.5 + lift * step(first)[1]
        } else {
            f64::INFINITY
        };
        let mut j = first;
        for c in categories {
            let dj = ALPHA_D + j as f64 - 1.0;
            j += 1;
            let x = values[c];
            let shrunk = (prior + sum) * (1.0 / dj);
            let eta = if shrunk >= ceiling {
                shrunk.min(cap)
            } else {
                let floor = 0.5 + lift * (0.5 / dj.sqrt());
                shrunk.max(floor).min(cap)
            };
            sum += x;
            t *= (2.0 * x * eta + (u - x) * (u - eta) * inv_rest) * inv_u;
            if t >= target {
                return ((sum, t, target), j - first, true);
            } else if t < RESCALE_BELOW {
                target /= t;
                t = 1.0;
            }
        }
        ((sum, t, target), j - first, false)
    }
}

/// Below this the statistic is rescaled (exactly: the scale moves into the target).
const RESCALE_BELOW: f64 = 1e-200;

impl AlphaSet {
    /// One test per `(values, u, eta0)`: the assorter per category, its upper bound and the
    /// prior guess of its mean (the reported mean), at risk limit `alpha`.
    pub fn new<'a>(tests: impl Iterator<Item = (&'a [f64], f64, f64)>, alpha: f64) -> AlphaSet {
        let lanes: Vec<Lane> = tests
            .map(|(values, u, eta0)| Lane {
                values: values.to_vec(),
                u,
                inv_u: 1.0 / u,
                inv_rest: 1.0 / (u - 0.5),
                eta0: eta0.min(u * (1.0 - 1e-9)),
                sum: 0.0,
                t: 1.0,
                // an assorter bounded by ½ can never beat the null
                target: if u > 0.5 { 1.0 / alpha } else { f64::INFINITY },
                done: false,
                seen: 0,
            })
            .collect();
        AlphaSet {
            open: lanes.len(),
            lanes,
            draws: 0,
        }
    }

    /// Takes the next draw, a paper in `category`.
    #[inline]
    pub fn observe(&mut self, category: usize) {
        self.draws += 1;
        let draws = self.draws;
        for l in self.lanes.iter_mut() {
            if !l.done && l.take(draws, category) {
                self.open -= 1;
            }
            l.seen = draws;
        }
    }

    /// Test `k` over its next draws, whose categories are `categories` (`category(c)` of each),
    /// continuing where it stopped, and says whether it has reached `1/α` (then it stops taking draws, as
    /// [`AlphaSet::observe`] does: draws past that point are not looked at). The same arithmetic
    /// as `observe`, one test at a time: a caller that needs every test to have reached `1/α` can
    /// stop at the first that has not.
    pub fn advance_over<C: Copy>(
        &mut self,
        k: usize,
        categories: &[C],
        category: impl Fn(C) -> usize,
    ) -> bool {
        self.advance(k, categories.iter().map(|&c| category(c)))
    }

    /// [`AlphaSet::advance_over`] with the draws made as the test takes them: at most `n`
    /// draws, each `draw()` (the category of the next paper), and none past the one at which
    /// the test reaches `1/α`. For the test that draws papers no other has seen, with nothing
    /// kept: the draws cost no memory and are taken as they are made.
    pub fn advance_drawing(&mut self, k: usize, n: u64, mut draw: impl FnMut() -> usize) -> bool {
        self.advance(k, (0..n).map(|_| draw()))
    }

    /// Test `k` over the draws `categories` (see [`AlphaSet::advance_over`]).
    #[inline(always)]
    fn advance(&mut self, k: usize, categories: impl Iterator<Item = usize>) -> bool {
        let l = &mut self.lanes[k];
        if l.done {
            return true;
        }
        let run = Run {
            u: l.u,
            inv_u: l.inv_u,
            inv_rest: l.inv_rest,
            prior: ALPHA_D * l.eta0,
            lift: l.eta0 - 0.5,
            cap: l.u * (1.0 - 1e-9),
        };
        let ((sum, t, target), taken, done) =
            run.over(&l.values, categories, l.seen + 1, (l.sum, l.t, l.target));
        (l.sum, l.t, l.target, l.done) = (sum, t, target, done);
        l.seen += taken;
        if done {
            self.open -= 1;
        }
        self.draws = self.draws.max(l.seen);
        l.done
    }

    /// Whether test `k` has reached `1/α` at some draw so far.
    pub fn reached(&self, k: usize) -> bool {
        self.lanes[k].done
    }

    /// Draws test `k` has taken (up to the one at which it reached `1/α`).
    pub fn seen(&self, k: usize) -> u64 {
        self.lanes[k].seen
    }

    /// Whether every statistic has reached `1/α` at some draw so far.
    pub fn all_done(&self) -> bool {
        self.open == 0
    }

    /// Draws taken.
    pub fn draws(&self) -> u64 {
        self.draws
    }

    /// The expected logarithm of one draw's factor at the first draw, when the bet is the prior
    /// `eta0` and papers fall in the categories with `weights` (for planning a first round).
    pub fn planning_drift(values: &[f64], u: f64, eta0: f64, weights: &[f64]) -> f64 {
        let eta = eta0.min(u * (1.0 - 1e-9));
        let total: f64 = weights.iter().sum();
        if u <= 0.5 || total <= 0.0 {
            return 0.0;
        }
        values
            .iter()
            .zip(weights)
            .map(|(&x, &w)| w * ((2.0 * x * eta + (u - x) * (u - eta) / (u - 0.5)) / u).ln())
            .sum::<f64>()
            / total
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Purpose, stream, unit};

    #[test]
    fn the_set_reaches_the_limit_exactly_when_alpha_does() {
        let alpha = 0.05;
        let mut rng = stream(3, Purpose::Audit, 0, 0);
        // a plurality assorter (A 1, B 0, other ½) and a majority-like one bounded by 1.5
        let values: [&[f64]; 2] = [&[1.0, 0.0, 0.5], &[1.5, 0.0, 0.25]];
        for trial in 0..200 {
            let p_a = 0.45 + 0.002 * f64::from(trial % 50);
            let mut set = AlphaSet::new(values.iter().map(|v| (*v, v[0], 0.55)), alpha);
            let mut single: Vec<Alpha> = values
                .iter()
                .map(|v| Alpha::new(v[0], 0.55, None))
                .collect();
            for _ in 0..3000 {
                let r = unit(&mut rng);
                let c = if r < p_a {
                    0
                } else if r < 0.97 {
                    1
                } else {
                    2
                };
                set.observe(c);
                for (s, v) in single.iter_mut().zip(values) {
                    s.observe(v[c]);
                }
                let all = single.iter().all(|s| s.p_value() <= alpha);
                let near = single
                    .iter()
                    .any(|s| (s.p_value().ln() - alpha.ln()).abs() < 1e-9);
                if !near {
                    assert_eq!(set.all_done(), all, "trial {trial} draw {}", set.draws());
                }
            }
        }
    }

    #[test]
    fn advancing_over_draws_is_observing_them() {
        // one test taken draw by draw (`observe`) and over blocks of draws (`advance_over`):
        // the same statistic, bit for bit, and the same draw at which it reaches 1/α
        let values: &[f64] = &[1.3, 0.0, 0.4, 0.65, 0.0];
        let mut rng = stream(4, Purpose::Audit, 0, 0);
        for trial in 0..100u32 {
            let p_first = 0.25 + 0.004 * f64::from(trial);
            let draws: Vec<u8> = (0..20_000)
                .map(|_| {
                    let r = unit(&mut rng);
                    if r < p_first {
                        0
                    } else {
                        1 + ((r * 1e6) as u64 % 4) as u8
                    }
                })
                .collect();
            let tests = || AlphaSet::new(std::iter::once((values, 1.3, 0.52)), 0.05);
            let (mut one, mut blocks) = (tests(), tests());
            for &c in &draws {
                if one.all_done() {
                    break;
                }
                one.observe(usize::from(c));
            }
            for chunk in draws.chunks(97) {
                if blocks.advance_over(0, chunk, usize::from) {
                    break;
                }
            }
            let (a, b) = (&one.lanes[0], &blocks.lanes[0]);
            assert_eq!(
                (
                    a.done,
                    a.seen,
                    a.t.to_bits(),
                    a.sum.to_bits(),
                    a.target.to_bits()
                ),
                (
                    b.done,
                    b.seen,
                    b.t.to_bits(),
                    b.sum.to_bits(),
                    b.target.to_bits()
                ),
                "trial {trial}"
            );
        }
    }

    #[test]
    fn rescaling_keeps_the_statistic_exact() {
        // a long run of losing draws drives the product below the rescaling point, then winning
        // draws bring it back: the set must agree with the log-space ALPHA
        let v: &[f64] = &[100.0, 0.0];
        let mut set = AlphaSet::new(std::iter::once((v, 100.0, 99.0)), 0.05);
        let mut single = Alpha::new(100.0, 99.0, None);
        let mut seen_tiny = false;
        for i in 0..20_000 {
            let c = usize::from(i < 10_000);
            set.observe(c);
            single.observe(v[c]);
            seen_tiny |= set.lanes[0].target > 1e100;
            assert_eq!(set.all_done(), single.p_value() <= 0.05, "draw {i}");
        }
        assert!(seen_tiny && set.all_done());
    }
}
