//! Risk-limiting audits (`tamga::rla`): the published vectors of `../shared/data/audit/
//! vectors.toml` reproduced exactly; the risk of every method measured by simulation on
//! outcomes that are wrong by a small margin (the reported winner truly lost by 0.5 %); and
//! the workload on honest elections against the closed forms.

use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;
use tamga::rla::audit::{
    ComparisonTest, Decision, PollingTest, Schedule, simulate_comparison, simulate_macro,
    simulate_polling,
};
use tamga::rla::batch::{Batch, ContestAssertion, MacroPlan};
use tamga::rla::bravo::{bravo_asn, bravo_sample_size};
use tamga::rla::comparison::{Discrepancies, km_sample_size};
use tamga::rla::{Assertion, plurality, sampler};

use crate::common::shared;

fn vectors() -> toml::Table {
    let text = std::fs::read_to_string(shared("audit/vectors.toml")).unwrap();
    text.parse().unwrap()
}

fn entries<'a>(t: &'a toml::Table, key: &str) -> &'a [toml::Value] {
    let v = t[key].as_array().unwrap();
    assert!(!v.is_empty(), "no [[{key}]] entries");
    v
}

fn f(v: &toml::Value, k: &str) -> f64 {
    match &v[k] {
        toml::Value::Float(x) => *x,
        toml::Value::Integer(i) => *i as f64,
        other => panic!("{k}: {other:?}"),
    }
}

fn ints(v: &toml::Value) -> Vec<u64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_integer().unwrap() as u64)
        .collect()
}

#[test]
fn sampler_reproduces_colorado_rla() {
    let t = vectors();
    for e in entries(&t, "prng") {
        let expected = ints(&e["expected"]);
        let got = sampler::draw(
            e["seed"].as_str().unwrap(),
            e["low"].as_integer().unwrap() as u64,
            e["high"].as_integer().unwrap() as u64,
            expected.len() as u64,
            e["replacement"].as_bool().unwrap(),
        )
        .unwrap();
        assert_eq!(got, expected);
    }
}

#[test]
fn bravo_sample_sizes_and_asn_reproduce_arlo() {
    let t = vectors();
    for e in entries(&t, "bravo_sample_size") {
        let got = bravo_sample_size(
            f(e, "alpha"),
            f(e, "winner_share"),
            f(e, "loser_share"),
            f(e, "stop_probability"),
        );
        assert_eq!(
            got,
            Some(e["expected"].as_integer().unwrap() as u64),
            "{e:?}"
        );
    }
    for e in entries(&t, "bravo_asn") {
        let mut tally = ints(&e["tally"]);
        let n: u64 = tally.iter().sum();
        tally.sort_unstable_by(|a, b| b.cmp(a));
        let got = bravo_asn(
            f(e, "alpha"),
            tally[0] as f64 / n as f64,
            tally[1] as f64 / n as f64,
        );
        assert_eq!(
            got,
            Some(e["expected"].as_integer().unwrap() as u64),
            "{e:?}"
        );
    }
}

#[test]
fn kaplan_markov_sample_sizes_reproduce_rlacalc() {
    let t = vectors();
    for e in entries(&t, "comparison_sample_size") {
        let margins: Vec<f64> = e["diluted_margin"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_float().unwrap())
            .collect();
        let expected = ints(&e["expected"]);
        let d = Discrepancies {
            o1: e.get("o1").map_or(0.0, |x| x.as_integer().unwrap() as f64),
            o2: e.get("o2").map_or(0.0, |x| x.as_integer().unwrap() as f64),
            u1: e.get("u1").map_or(0.0, |x| x.as_integer().unwrap() as f64),
            u2: e.get("u2").map_or(0.0, |x| x.as_integer().unwrap() as f64),
        };
        for (m, want) in margins.iter().zip(&expected) {
            let got = km_sample_size(f(e, "alpha"), f(e, "gamma"), *m, d);
            assert_eq!(got, Some(*want), "margin {m} in {e:?}");
        }
    }
}

const ALPHA: f64 = 0.05;
const AUDITS: u64 = 10_000;

fn rng(seed: u64) -> Xoshiro256PlusPlus {
    Xoshiro256PlusPlus::seed_from_u64(seed)
}

/// Wilson score interval at z = 3 (two-sided ≈ 99.7 %).
fn wilson(k: u64, n: u64) -> (f64, f64) {
    let (k, n, z) = (k as f64, n as f64, 3.0);
    let p = k / n;
    let c = (p + z * z / (2.0 * n)) / (1.0 + z * z / n);
    let h = z / (1.0 + z * z / n) * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt();
    (c - h, c + h)
}

/// The measured confirmation rate is consistent with ≤ α: the lower end of its interval is
/// below α. (A method whose risk exceeds α by a fraction of a point fails.)
fn assert_risk(name: &str, confirmed: u64) {
    let (lo, hi) = wilson(confirmed, AUDITS);
    eprintln!(
        "{name}: {confirmed}/{AUDITS} wrong outcomes confirmed ({:.4}, interval {lo:.4}–{hi:.4})",
        confirmed as f64 / AUDITS as f64
    );
    assert!(
        lo <= ALPHA,
        "{name}: risk {lo:.4}–{hi:.4} exceeds the limit {ALPHA}"
    );
}

/// Reported 50.5 % : 48.5 % (the rest invalid, 1 %); on paper the winner has
/// 49.25 % and the loser 49.75 %: the reported winner truly lost by 0.5 %.
const N: u64 = 20_000;
const REPORTED: [u64; 3] = [10_100, 9_700, 200];
const PAPER: [u64; 3] = [9_850, 9_950, 200];

/// The same shares on 100 times the papers, for the polling audits: BRAVO's planned first
/// round at these shares (40,479 draws at 90 % power) is more than the 20,000 papers, and an
/// eighth of it more than a quarter of them, so on `N` papers every polling audit would go
/// straight to a full hand count and confirm nothing, whatever its test.
fn polling_scale(x: [u64; 3]) -> [u64; 3] {
    x.map(|c| c * 100)
}

#[test]
fn polling_risk_is_within_the_limit_when_the_winner_lost_by_half_a_point() {
    assert_eq!(REPORTED.iter().sum::<u64>(), N);
    let (reported, paper) = (polling_scale(REPORTED), polling_scale(PAPER));
    let assertions = plurality(&reported, 0);
    let first = bravo_sample_size(ALPHA, 0.505, 0.485, 0.9).unwrap();
    for (name, make) in [
        (
            "bravo",
            PollingTest::bravo as fn(&Assertion, &[u64]) -> PollingTest,
        ),
        ("alpha-polling", PollingTest::alpha),
    ] {
        let mut r = rng(1);
        let (mut confirmed, mut sampled) = (0u64, 0u64);
        for _ in 0..AUDITS {
            let o = simulate_polling(
                &assertions,
                &reported,
                &paper,
                make,
                ALPHA,
                Schedule::doubling(first / 8),
                &mut r,
            );
            confirmed += u64::from(o.decision == Decision::Confirmed);
            sampled += u64::from(o.examined > 0);
        }
        // the audits drew papers: a risk measured on audits that never sample is no measure
        assert_eq!(sampled, AUDITS, "{name}: some audit drew no paper");
        assert_risk(name, confirmed);
    }
}

/// The refutation rule (`Schedule::refuting`, 1/1,000): BRAVO's statistic is the likelihood
/// ratio of the reported shares to a tie, so on papers that are as reported its inverse is a
/// martingale and Ville's inequality bounds the share of audits sent to a full hand count by it
/// at 1/1,000; on papers where the reported winner lost by fourteen points it ends nearly every
/// audit after its first round. (A statistic read upside down, or the rule applied to
/// confirmed assertions, fails one half or the other.)
#[test]
fn bravo_refutes_a_wrong_outcome_at_once_and_a_right_one_almost_never() {
    let reported = polling_scale(REPORTED);
    let assertions = plurality(&reported, 0);
    // the first round as in the risk test above
    let first = bravo_sample_size(ALPHA, 0.505, 0.485, 0.9).unwrap();
    let wrong = polling_scale([8_500, 11_300, 200]);
    for (paper, seed) in [(reported, 3), (wrong, 4)] {
        let mut r = rng(seed);
        let (mut refuted, mut at_once) = (0u64, 0u64);
        for _ in 0..AUDITS {
            let o = simulate_polling(
                &assertions,
                &reported,
                &paper,
                PollingTest::bravo,
                ALPHA,
                Schedule::doubling(first / 8).refuting(true),
                &mut r,
            );
            if o.refuted {
                assert_eq!(o.decision, Decision::FullHandCount);
                refuted += 1;
                at_once += u64::from(o.rounds == 1);
            }
        }
        let (lo, hi) = wilson(refuted, AUDITS);
        eprintln!(
            "papers {paper:?}: {refuted}/{AUDITS} refuted ({lo:.4}–{hi:.4}), {at_once} after one round"
        );
        if paper == reported {
            assert!(
                lo <= 1e-3,
                "a right outcome refuted in {lo:.4}–{hi:.4} of audits"
            );
        } else {
            assert!(
                at_once as f64 >= 0.99 * AUDITS as f64,
                "a wrong outcome refuted after one round in {at_once} of {AUDITS} audits"
            );
        }
    }
}

/// The CVRs say 50.5 : 48.5; on paper 200 CVR-winner ballots are for the loser (two-vote
/// overstatements) and 100 are blank (one-vote): paper 49 : 49.5, the winner lost by 0.5 %.
fn comparison_pairs() -> Vec<u64> {
    let k = 3;
    let mut pairs = vec![0u64; k * k];
    pairs[0] = REPORTED[0] - 300; // CVR winner, paper winner
    pairs[1] = 200; // CVR winner, paper loser
    pairs[2] = 100; // CVR winner, paper blank
    pairs[k + 1] = REPORTED[1];
    pairs[2 * k + 2] = REPORTED[2];
    pairs
}

#[test]
fn comparison_risk_is_within_the_limit_when_the_winner_lost_by_half_a_point() {
    let pairs = comparison_pairs();
    let (mut cvr, mut paper) = ([0u64; 3], [0u64; 3]);
    for (i, &c) in pairs.iter().enumerate() {
        cvr[i / 3] += c;
        paper[i % 3] += c;
    }
    assert_eq!(cvr, REPORTED);
    assert!(
        paper[0] < paper[1],
        "{paper:?}: the reported winner must have lost"
    );
    assert_eq!(paper[1] - paper[0], N / 200, "lost by 0.5 %");
    let assertions = plurality(&REPORTED, 0);
    let first = km_sample_size(ALPHA, 1.03905, 0.02, Discrepancies::default()).unwrap();
    for (name, make) in [
        (
            "kaplan-markov",
            ComparisonTest::kaplan_markov as fn(&Assertion, &[u64]) -> ComparisonTest,
        ),
        ("alpha-comparison", ComparisonTest::alpha),
    ] {
        let mut r = rng(2);
        let (mut confirmed, mut sampled) = (0u64, 0u64);
        for _ in 0..AUDITS {
            let o = simulate_comparison(
                &assertions,
                &pairs,
                make,
                ALPHA,
                Schedule::doubling(first),
                &mut r,
            );
            confirmed += u64::from(o.decision == Decision::Confirmed);
            sampled += u64::from(o.examined > 0);
        }
        assert_eq!(sampled, AUDITS, "{name}: some audit drew no ballot");
        assert_risk(name, confirmed);
    }
}

/// 2,000 stations of 100 ballots, reported 51 : 48 (1 invalid) each; in 350 of them the
/// protocol moved 10 of the loser's votes to the winner: on paper the winner lost by 0.5 %.
#[test]
fn macro_risk_is_within_the_limit_when_the_winner_lost_by_half_a_point() {
    let reported = vec![51u64, 48, 1];
    // 2,000 batches: MACRO's first round here is about 100 batches, and on 200 (as this test
    // once had) that is more than a quarter of them, so every audit went straight to a full
    // hand count and the risk measured nothing
    let falsified: usize = 350;
    let batches: Vec<Batch> = (0..2_000)
        .map(|_| Batch {
            papers: 100,
            reported: vec![(0, reported.clone())],
        })
        .collect();
    let hand: Vec<Vec<Vec<u64>>> = (0..2_000)
        .map(|p| {
            if p < falsified {
                vec![vec![41, 58, 1]]
            } else {
                vec![reported.clone()]
            }
        })
        .collect();
    let total: Vec<u64> = (0..3).map(|c| hand.iter().map(|h| h[0][c]).sum()).collect();
    assert!(
        total[1] > total[0] && total[1] - total[0] == 1_000,
        "{total:?}"
    );
    let assertions = plurality(&[102_000, 96_000, 2_000], 0);
    let ca: Vec<ContestAssertion<'_>> = assertions
        .iter()
        .map(|a| ContestAssertion {
            contest: 0,
            assertion: a,
        })
        .collect();
    let plan = MacroPlan::new(&ca, &batches);
    let taints: Vec<f64> = (0..batches.len())
        .map(|p| plan.taint(&ca, p, &batches[p], &hand[p]))
        .collect();
    let first = plan.sample_size(ALPHA).unwrap();
    let mut r = rng(3);
    let (mut confirmed, mut sampled) = (0u64, 0u64);
    for _ in 0..AUDITS {
        let o = simulate_macro(&plan, &taints, ALPHA, Schedule::doubling(first), &mut r);
        confirmed += u64::from(o.decision == Decision::Confirmed);
        sampled += u64::from(o.examined > 0);
    }
    eprintln!("macro: first round {first} batches of 2,000, {sampled} audits sampled");
    assert_eq!(sampled, AUDITS, "macro: some audit drew no batch");
    assert_risk("macro", confirmed);
}

/// On an honest election the mean number of ballots BRAVO examines (sequentially, stopping as
/// soon as the risk limit is met) agrees with the ASN formula; with no discrepancies the
/// Kaplan–Markov and MACRO audits stop exactly at their closed-form sample sizes.
#[test]
fn honest_workload_matches_the_closed_forms() {
    // BRAVO, 600:400 at α = 10 % (ASN 119 in the vectors).
    let tally = [600u64, 400, 0];
    let a = &plurality(&tally, 0)[0];
    let asn = bravo_asn(0.1, 0.6, 0.4).unwrap() as f64;
    let mut r = rng(4);
    let mut sizes = Vec::with_capacity(AUDITS as usize);
    for _ in 0..AUDITS {
        let mut t = PollingTest::bravo(a, &tally);
        let mut n = 0u64;
        while t.p_value() > 0.1 {
            let c = usize::from(tamga::rng::unit(&mut r) >= 0.6);
            t.observe(c, a.values[c]);
            n += 1;
        }
        sizes.push(n as f64);
    }
    let (mean, sd) = tamga::stats::mean_sd(&sizes);
    let se = sd / (AUDITS as f64).sqrt();
    eprintln!("BRAVO mean sample {mean:.1} ± {se:.1}, ASN {asn}");
    assert!((mean - asn).abs() <= 4.0 * se + 1.0, "{mean} vs {asn}");

    // Kaplan–Markov with no discrepancies: ⌈ln α / ln(1 − m/(2γ))⌉, within one ballot of
    // rlacalc's linearised size.
    let m: f64 = 0.05;
    let mut t = ComparisonTest::kaplan_markov(
        &Assertion::beats(0, 1, 2),
        &[5_250, 4_750, 0], // margin 5 %
    );
    let mut n = 0;
    while t.p_value() > 0.1 {
        t.observe(0.0);
        n += 1;
    }
    let exact = ((0.1f64).ln() / (1.0 - m / (2.0 * 1.03905)).ln()).ceil() as u64;
    assert_eq!(n, exact);
    let linear = km_sample_size(0.1, 1.03905, m, Discrepancies::default()).unwrap();
    assert!(linear.abs_diff(exact) <= 2, "{linear} vs {exact}");
}
