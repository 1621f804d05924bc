//! The integer-percentage test of Kobak, Shpilkin & Pshenichnikov, "Integer percentages as
//! electoral falsification fingerprints", *Annals of Applied Statistics* 10(1), 2016.
//!
//! Owns: the definition of an "integer" station and the exact binomial null. Never does: I/O or
//! sampling — the null is computed exactly from the binomial pmf, so the result has no Monte
//! Carlo error and needs no random stream.
//!
//! Definition (data README): a station is integer in turnout if 100·issued/registered lies
//! within 0.05 of a whole number, integer in share if 100·leader/(valid+invalid) does. The
//! comparison is exact in integers: with r = 100·a mod b, the distance to the nearest whole
//! percentage is min(r, b−r)/b, and the station is integer iff 20·min(r, b−r) ≤ b. The bound is
//! inclusive because rounding the percentage to one decimal with round-half-to-even maps
//! both k − 0.05 and k + 0.05 to k.0.
//!
//! Filters: registered ≥ 100 (the base filter), turnout ≤ 99 % and share ≤ 99 % (above that
//! 100 % itself is a whole number that a fair station reaches easily).
//!
//! Null: independently per station, issued ~ Binomial(registered, observed turnout) and
//! leader ~ Binomial(valid+invalid, observed share). For station i, p_T = P(turnout integer),
//! p_S = P(share integer), p_E = 1 − (1−p_T)(1−p_S); expected count = Σ p, and the count of a sum
//! of independent Bernoulli indicators has standard deviation sqrt(Σ p(1−p)). Excess =
//! observed − expected, z = excess / sd. Kobak et al. obtained the expectation by simulation;
//! the exact sum is its limit.

use super::stations::StationFigures;

/// Percentages strictly above this (in %) are excluded from the integer test.
pub const MAX_PERCENT: u64 = 99;

/// Tail width of the binomial window in standard deviations; the neglected mass is < 1e-22.
const TAIL_SD: f64 = 10.0;

/// Is 100·a/b within 0.05 of a whole number? (`b` > 0; exact integer arithmetic.)
pub fn is_integer_percent(a: u64, b: u64) -> bool {
    let r = (100 * a as u128) % b as u128;
    let d = r.min(b as u128 - r);
    20 * d <= b as u128
}

/// P(100·X/n is integer) for X ~ Binomial(n, p).
///
/// Sums the pmf over the integer counts of the window mean ± [`TAIL_SD`] standard deviations
/// (the mass outside it is below 1e-22). The pmf is walked outwards from the mode by its ratio
/// recurrence P(k + 1)/P(k) = (n − k)/(k + 1) · p/(1 − p), starting from 1 at the mode, and the
/// integer part is divided by the whole window's sum: no log-gamma, no modulo per count (the
/// integer counts are enumerated percent by percent, [`integer_counts`]). Agrees with exact
/// rational sums to ≈ 1e-15 (tested). [`integer_test`] runs the same walk with a table of
/// reciprocals instead of a division per count.
pub fn integer_probability(n: u64, p: f64) -> f64 {
    walk(n, p, |k| 1.0 / k as f64)
}

/// Reciprocals 1/k, k = 0..=`RECIPROCALS_UP_TO`, for the walk in [`integer_test`]; larger
/// sizes divide.
const RECIPROCALS_UP_TO: u64 = 1 << 20;

/// 1/k for k = 0..=n (entry 0 is unused).
fn reciprocals(n: u64) -> Vec<f64> {
    (0..=n).map(|k| 1.0 / k as f64).collect()
}

/// [`integer_probability`] with `inv(k)` = 1/k.
#[inline]
fn walk(n: u64, p: f64, inv: impl Fn(u64) -> f64) -> f64 {
    if n == 0 || p.is_nan() || p <= 0.0 || p >= 1.0 {
        // all mass on 0 or n: 0 % and 100 % are whole
        return 1.0;
    }
    let nf = n as f64;
    let mean = nf * p;
    let sd = (mean * (1.0 - p)).sqrt();
    let half = (TAIL_SD * sd).ceil() + 3.0;
    // casts truncate toward zero and saturate: for these the floor (negatives go to 0)
    let lo = (mean - half) as u64;
    let hi = ((mean + half).ceil() as u64).min(n);
    let mode = (((n + 1) as f64 * p) as u64).clamp(lo, hi);
    let odds = p / (1.0 - p);
    let inv_odds = (1.0 - p) / p;

    let (m_mode, (a_mode, b_mode)) = percent_at(n, mode);
    let mut total = 1.0;
    let mut whole = if (a_mode..=b_mode).contains(&mode) {
        1.0
    } else {
        0.0
    };
    // upwards: P(k) = P(k − 1) · (n − k + 1)/k · odds, over stretches of counts that are all
    // integer or all not
    let (mut m, mut a, mut b) = (m_mode, a_mode, b_mode);
    let mut v = 1.0;
    let mut k = mode + 1;
    let up = |from: u64, to: u64, v: &mut f64| {
        let mut num = (n - from + 1) as f64;
        let mut s = 0.0;
        for k in from..to {
            *v *= num * inv(k) * odds;
            num -= 1.0;
            s += *v;
        }
        s
    };
    while k <= hi {
        if k > b {
            m += 1;
            (a, b) = integer_counts(n, m);
            continue;
        }
        let end = a.min(hi + 1);
        if k < end {
            total += up(k, end, &mut v);
            k = end;
        }
        let end = (b + 1).min(hi + 1);
        if k < end {
            let s = up(k, end, &mut v);
            total += s;
            whole += s;
            k = end;
        }
    }
    // downwards: P(k) = P(k + 1) · (k + 1)/(n − k) / odds; `k` is one above the next count
    let (mut m, mut a, mut b) = (m_mode, a_mode, b_mode);
    let mut v = 1.0;
    let mut k = mode;
    let down = |from: u64, to: u64, v: &mut f64| {
        // counts from − 1 down to `to`
        let mut num = from as f64;
        let mut s = 0.0;
        for j in n - from + 1..=n - to {
            *v *= num * inv(j) * inv_odds;
            num -= 1.0;
            s += *v;
        }
        s
    };
    while k > lo {
        if k <= a {
            // the next count k − 1 is below this percent's integer counts
            m -= 1;
            (a, b) = integer_counts(n, m);
            continue;
        }
        let end = (b + 1).max(lo);
        if k > end {
            total += down(k, end, &mut v);
            k = end;
        }
        let end = a.max(lo);
        if k > end {
            let s = down(k, end, &mut v);
            total += s;
            whole += s;
            k = end;
        }
    }
    (whole / total).min(1.0)
}

/// The counts k whose percentage 100·k/n is within 0.05 of `m` %: `(first, last)`, empty when
/// first > last. From 20·|100·k − m·n| ≤ n: (20m − 1)·n ≤ 2000·k ≤ (20m + 1)·n.
#[inline]
fn integer_counts(n: u64, m: u64) -> (u64, u64) {
    if n < 1 << 40 {
        // m ≤ 101 here, so (20m + 1)·n < 2^52: 64-bit arithmetic, division by a constant
        let lo = (20 * m * n).saturating_sub(n).div_ceil(2000);
        let hi = (20 * m + 1) * n / 2000;
        return (lo, hi);
    }
    let n = n as u128;
    let lo = (20 * m as u128 * n).saturating_sub(n).div_ceil(2000);
    let hi = (20 * m as u128 + 1) * n / 2000;
    (lo as u64, hi as u64)
}

/// The whole percent `m` nearest to 100·k/n (k ≤ n), and [`integer_counts`] of it: k is
/// integer iff first ≤ k ≤ last.
fn percent_at(n: u64, k: u64) -> (u64, (u64, u64)) {
    let m = ((200 * k as u128 + n as u128) / (2 * n as u128)) as u64;
    (m, integer_counts(n, m))
}

/// Observed versus expected integer stations for one quantity.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct IntegerCount {
    pub observed: u64,
    pub expected: f64,
    /// Standard deviation of the count under the null, sqrt(Σ p(1−p)).
    pub sd: f64,
    /// observed − expected.
    pub excess: f64,
    /// excess / sd.
    pub z: f64,
}

impl IntegerCount {
    fn new(observed: u64, expected: f64, var: f64) -> Self {
        let sd = var.sqrt();
        let excess = observed as f64 - expected;
        IntegerCount {
            observed,
            expected,
            sd,
            excess,
            z: if sd > 0.0 { excess / sd } else { f64::NAN },
        }
    }
}

/// The integer-percentage test.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct IntegerTest {
    /// Stations tested (after the base filter and the 99 % rule).
    pub stations: usize,
    /// Stations removed by the 99 % rule: turnout above it, then (of the rest) share above it.
    pub removed_turnout_above_99: usize,
    pub removed_share_above_99: usize,
    pub turnout: IntegerCount,
    pub share: IntegerCount,
    /// Integer in turnout or share (the headline number of Kobak et al.).
    pub either: IntegerCount,
}

/// The most null probabilities [`integer_test`] keeps per thread (16 bytes each, ≈ 20 MiB in
/// all); later ones are computed every time.
const MEMO_ENTRIES: usize = 1 << 20;

thread_local! {
    /// [`integer_test`]'s null probabilities P(100·X/n integer), X ~ Binomial(n, k/n), by
    /// `n << 32 | k`, kept across calls: a Monte Carlo loop tests the same stations run after
    /// run, and most (registered, issued) and (ballots, leader) pairs come back (≈ 90 % over
    /// Kazakhstan's 10 variants × 100 runs). A value is the walk's result for its key, so the
    /// test gives the same bits with or without it.
    static MEMO: std::cell::RefCell<std::collections::HashMap<u64, f64, PackedKey>> =
        const { std::cell::RefCell::new(std::collections::HashMap::with_hasher(PackedKey)) };
}

/// Hashes a packed `n << 32 | k` key with SplitMix64's finaliser (the keys are not chosen by
/// anyone, so no protection against chosen collisions is needed).
#[derive(Clone, Copy, Default)]
struct PackedKey;

impl std::hash::BuildHasher for PackedKey {
    type Hasher = KeyHasher;
    fn build_hasher(&self) -> KeyHasher {
        KeyHasher(0)
    }
}

struct KeyHasher(u64);

impl std::hash::Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(self.0 << 8 | b as u64);
        }
    }
    fn write_u64(&mut self, x: u64) {
        let mut z = x ^ (x >> 30);
        z = z.wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z ^= z >> 27;
        z = z.wrapping_mul(0x94d0_49bb_1331_11eb);
        self.0 = z ^ (z >> 31);
    }
}

/// Stations per block of [`integer_test`]: blocks are tallied in parallel and their sums added
/// in block order, so the result does not depend on the thread count.
const BLOCK: usize = 1024;

/// Runs the test on base-filtered stations (see [`super::stations::filter_stations`]), in blocks
/// of stations on the current rayon pool. Null probabilities are memoised per thread across
/// calls (`MEMO`): the same bits as computing each, several times faster when called run
/// after run on the same stations.
pub fn integer_test(stations: &[StationFigures]) -> IntegerTest {
    use rayon::prelude::*;
    let largest = stations
        .iter()
        .map(|s| s.registered.max(s.ballots))
        .max()
        .unwrap_or(0);
    let inv = reciprocals(largest.min(RECIPROCALS_UP_TO));
    let probability = |n: u64, k: u64| {
        let p = k as f64 / n as f64;
        let compute = || {
            if n < inv.len() as u64 {
                walk(n, p, |k| inv[k as usize])
            } else {
                integer_probability(n, p)
            }
        };
        if n >= 1 << 32 {
            return compute();
        }
        let key = n << 32 | k;
        MEMO.with_borrow_mut(|memo| {
            if let Some(&v) = memo.get(&key) {
                return v;
            }
            let v = compute();
            if memo.len() < MEMO_ENTRIES {
                memo.insert(key, v);
            }
            v
        })
    };
    let blocks: Vec<Tally> = stations
        .par_chunks(BLOCK)
        .map(|block| Tally::of(block, &probability))
        .collect();
    let t = blocks.into_iter().fold(Tally::default(), Tally::add);
    IntegerTest {
        stations: t.n,
        removed_turnout_above_99: t.removed_t,
        removed_share_above_99: t.removed_s,
        turnout: IntegerCount::new(t.observed[0], t.expected[0], t.var[0]),
        share: IntegerCount::new(t.observed[1], t.expected[1], t.var[1]),
        either: IntegerCount::new(t.observed[2], t.expected[2], t.var[2]),
    }
}

/// Counts and null sums of a block of stations: turnout, share, either.
#[derive(Clone, Copy, Default)]
struct Tally {
    n: usize,
    removed_t: usize,
    removed_s: usize,
    observed: [u64; 3],
    expected: [f64; 3],
    var: [f64; 3],
}

impl Tally {
    /// `probability(n, k)`: P(100·X/n integer) for X ~ Binomial(n, k/n).
    fn of(stations: &[StationFigures], probability: &impl Fn(u64, u64) -> f64) -> Tally {
        let mut t = Tally::default();
        for s in stations {
            if 100 * s.issued > MAX_PERCENT * s.registered {
                t.removed_t += 1;
                continue;
            }
            if 100 * s.leader > MAX_PERCENT * s.ballots {
                t.removed_s += 1;
                continue;
            }
            t.n += 1;
            let it = is_integer_percent(s.issued, s.registered);
            let is = is_integer_percent(s.leader, s.ballots);
            // the observed turnout and share, s.turnout() and s.share()
            let pt = probability(s.registered, s.issued);
            let ps = probability(s.ballots, s.leader);
            let pe = 1.0 - (1.0 - pt) * (1.0 - ps);
            for (j, (hit, p)) in [(it, pt), (is, ps), (it || is, pe)].into_iter().enumerate() {
                t.observed[j] += u64::from(hit);
                t.expected[j] += p;
                t.var[j] += p * (1.0 - p);
            }
        }
        t
    }

    fn add(mut self, o: Tally) -> Tally {
        self.n += o.n;
        self.removed_t += o.removed_t;
        self.removed_s += o.removed_s;
        for j in 0..3 {
            self.observed[j] += o.observed[j];
            self.expected[j] += o.expected[j];
            self.var[j] += o.var[j];
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_definition_is_exact_and_inclusive() {
        assert!(is_integer_percent(500, 1000)); // 50.0
        assert!(is_integer_percent(1, 2000)); // 0.05 — the boundary counts
        assert!(!is_integer_percent(3, 2000)); // 0.15
        assert!(is_integer_percent(1999, 2000)); // 99.95
        assert!(!is_integer_percent(1, 1000)); // 0.1
        assert!(is_integer_percent(0, 7));
        // 1/3 = 33.33… is not; 2/3 = 66.67 is not.
        assert!(!is_integer_percent(1, 3) && !is_integer_percent(2, 3));
    }

    #[test]
    fn null_probability_matches_brute_force() {
        for &(n, p) in &[(150u64, 0.41), (1234, 0.62), (2500, 0.05)] {
            let brute: f64 = (0..=n)
                .filter(|k| is_integer_percent(*k, n))
                .map(|k| crate::stats::binomial_pmf(n, p, k))
                .sum();
            assert!((integer_probability(n, p) - brute).abs() < 1e-12, "n={n}");
        }
        // n = 2000: k = 20m and k = 20m ± 1 (exactly ±0.05 %) are integer, 3 counts in 20, and
        // the binomial spreads evenly over them, so the probability is 0.15.
        let p = integer_probability(2000, 0.5);
        assert!((p - 0.15).abs() < 1e-6, "{p}");
    }

    #[test]
    fn null_probability_matches_exact_rational_sums() {
        // Σ C(n, k) p^k (1 − p)^(n − k) over every integer k, in exact rational arithmetic
        // (Python's `fractions.Fraction` of the f64 p and `math.comb`), rounded to f64 once
        for (n, p, exact) in [
            (150u64, 0.41, 0.3333333333333333),
            (937, 0.41, 0.10606929583350558),
            (1321, 0.62, 0.09430755041923453),
            (1395, 0.003, 0.015212445421274182),
            (1432, 0.5, 0.11480175854208549),
            (2500, 0.05, 0.12538016959886147),
            (4999, 0.9993, 0.32087956897380526),
        ] {
            let inv = reciprocals(n);
            for got in [integer_probability(n, p), walk(n, p, |k| inv[k as usize])] {
                assert!(
                    (got - exact).abs() < 1e-14 * exact,
                    "n={n} p={p}: {got} vs {exact}"
                );
            }
        }
    }

    #[test]
    fn null_probability_matches_the_pmf_window_over_many_sizes() {
        // against the log-gamma pmf over a ±12 sd window, every count tested by modulo: sizes
        // with and without factors of 100, skewed p. The reference's log-gamma loses ≈ 1e-12
        // (relative) at n ≈ 1,000 and ≈ 1e-9 at n = 10⁶ (the exact sums above side with the
        // walk), hence the tolerance growing with n.
        for n in (100u64..3000)
            .step_by(37)
            .chain([10_000, 123_457, 1_000_000])
        {
            for p in [0.003, 0.05, 0.31, 0.5, 0.62, 0.97, 0.9993] {
                let (lo, w) = crate::stats::binomial_pmf_window(n, p, 12.0);
                let want: f64 = w
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| is_integer_percent(lo + *i as u64, n))
                    .map(|(_, v)| v)
                    .sum();
                let got = integer_probability(n, p);
                let tol = 5e-15 * n as f64 + 2e-12;
                assert!(
                    (got - want).abs() <= tol * want,
                    "n={n} p={p}: {got} vs {want}"
                );
            }
        }
        assert_eq!(integer_probability(500, 0.0), 1.0);
        assert_eq!(integer_probability(500, 1.0), 1.0);
    }

    #[test]
    fn integer_counts_enumerate_exactly_the_integer_counts() {
        for n in [1u64, 7, 100, 101, 937, 2000, 2001, 19_999] {
            let mut listed = Vec::new();
            for m in 0..=100 {
                let (a, b) = integer_counts(n, m);
                listed.extend(a..=b.min(n));
            }
            let want: Vec<u64> = (0..=n).filter(|&k| is_integer_percent(k, n)).collect();
            assert_eq!(listed, want, "n={n}");
            for k in (0..=n).step_by((n as usize / 50).max(1)) {
                let (m, (a, b)) = percent_at(n, k);
                assert!(m <= 100);
                assert_eq!(
                    (a..=b).contains(&k),
                    is_integer_percent(k, n),
                    "n={n} k={k}"
                );
            }
        }
    }

    #[test]
    fn blocks_give_the_same_result_at_any_thread_count() {
        // 5,000 stations (five blocks), tallied on 1 and on 3 threads: identical bits
        let stations: Vec<StationFigures> = (0..5000u64)
            .map(|i| {
                let registered = 100 + (i * 7919) % 2900;
                let issued = registered * (30 + i % 60) / 100;
                StationFigures {
                    station_idx: i as usize,
                    registered,
                    issued,
                    ballots: issued,
                    leader: issued * (20 + (i * 31) % 70) / 100,
                }
            })
            .collect();
        let on = |threads| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("pool");
            pool.install(|| integer_test(&stations))
        };
        let (one, three) = (on(1), on(3));
        assert_eq!(one, three);
        assert_eq!(one.either.z.to_bits(), three.either.z.to_bits());
        assert_eq!(
            one.stations + one.removed_share_above_99 + one.removed_turnout_above_99,
            5000
        );
    }

    #[test]
    fn memoised_probabilities_are_the_walks_bit_for_bit() {
        // one block of stations, tested cold (a fresh thread's empty memo) and warm: the
        // expected counts are the sums of the walk's own results, in station order
        let stations: Vec<StationFigures> = (0..900u64)
            .map(|i| {
                let registered = 100 + (i * 7919) % 2900;
                let issued = registered * (30 + i % 60) / 100;
                StationFigures {
                    station_idx: i as usize,
                    registered,
                    issued,
                    ballots: issued,
                    leader: issued * (20 + (i * 31) % 70) / 100,
                }
            })
            .collect();
        let cold = std::thread::scope(|s| s.spawn(|| integer_test(&stations)).join().unwrap());
        let warm = integer_test(&stations);
        let again = integer_test(&stations);
        assert_eq!(cold, warm);
        assert_eq!(warm, again);
        let (mut t, mut sh) = (0.0, 0.0);
        for st in &stations {
            if 100 * st.issued > MAX_PERCENT * st.registered
                || 100 * st.leader > MAX_PERCENT * st.ballots
            {
                continue;
            }
            t += integer_probability(st.registered, st.turnout());
            sh += integer_probability(st.ballots, st.share());
        }
        assert_eq!(warm.turnout.expected.to_bits(), t.to_bits());
        assert_eq!(warm.share.expected.to_bits(), sh.to_bits());
    }

    #[test]
    fn counts_filters_and_either() {
        let st = |registered, issued, ballots, leader| StationFigures {
            station_idx: 0,
            registered,
            issued,
            ballots,
            leader,
        };
        let t = integer_test(&[
            st(1000, 600, 600, 301), // turnout 60.0 integer, share 50.17 not
            st(1000, 995, 995, 500), // turnout 99.5 > 99: removed
            st(1000, 600, 600, 599), // share 99.83 > 99: removed
            st(1000, 614, 614, 307), // 61.4 and 50.0: share integer
        ]);
        assert_eq!(t.stations, 2);
        assert_eq!(
            (t.removed_turnout_above_99, t.removed_share_above_99),
            (1, 1)
        );
        assert_eq!(
            (t.turnout.observed, t.share.observed, t.either.observed),
            (1, 1, 2)
        );
        assert!(t.either.expected > 0.0 && t.either.expected < 1.0);
        assert!((t.either.excess - (2.0 - t.either.expected)).abs() < 1e-12);
    }
}
