//! Unit tests of the audit building blocks; the published vectors and the risk simulations are
//! in `tests/it/rla.rs`.

use super::audit::*;
use super::comparison::*;
use super::*;

#[test]
fn escalation_rounds_and_full_count() {
    let s = Schedule::doubling(10);
    let mut seen = Vec::new();
    let o = escalate(s, 0.05, 1000, |n| {
        seen.push(n);
        1.0
    });
    assert_eq!(seen, vec![10, 20, 40, 80]);
    assert_eq!(o.decision, Decision::FullHandCount);
    assert_eq!(o.examined, 80);
    let o = escalate(s, 0.05, 80, |n| if n >= 20 { 0.01 } else { 0.5 });
    assert_eq!(
        (o.decision, o.rounds, o.examined),
        (Decision::Confirmed, 2, 20)
    );
    // A round that would examine more than a quarter of the population is a full hand count.
    let o = escalate(s, 0.05, 60, |_| 0.5);
    assert_eq!((o.decision, o.examined), (Decision::FullHandCount, 10));
}

#[test]
fn a_round_whose_sample_refutes_the_outcome_escalates_at_once() {
    let s = Schedule::doubling(10).refuting(true);
    let end = |least: f64| RoundEnd {
        p_value: 1.0,
        least,
    };
    // refuted at the second round's end: no third round
    let o = escalate(s, 0.05, 1000, |n| end(if n >= 20 { 1e-4 } else { 0.5 }));
    assert_eq!(
        (o.decision, o.rounds, o.examined, o.refuted),
        (Decision::FullHandCount, 2, 20, true)
    );
    // at the bound it refutes, above it not; a P-value alone never does
    let o = escalate(s, 0.05, 1000, |_| end(REFUTE_BELOW));
    assert_eq!((o.rounds, o.refuted), (1, true));
    let o = escalate(s, 0.05, 1000, |_| end(REFUTE_BELOW * 1.01));
    assert_eq!((o.rounds, o.refuted), (4, false));
    let o = escalate(s, 0.05, 1000, |_| 1.0);
    assert_eq!((o.rounds, o.refuted), (4, false));
    // a schedule without the rule (the default)
    let o = escalate(Schedule::doubling(10), 0.05, 1000, |_| end(1e-300));
    assert_eq!((o.rounds, o.refuted), (4, false));
    // the round's end: the largest P-value, the least statistic of the assertions not confirmed
    let e = round_end([(0.01, 1e-9), (0.3, 0.2), (0.5, 0.4)].into_iter(), 0.05);
    assert_eq!((e.p_value, e.least), (0.5, 0.2));
    let e = round_end([(0.01, 1e-9)].into_iter(), 0.05);
    assert_eq!((e.p_value, e.least), (0.01, f64::INFINITY));
}

#[test]
fn kaplan_markov_matches_the_super_simple_formula() {
    let a = Assertion::beats(0, 1, 2);
    let reported = [550u64, 450, 0];
    let v = a.margin(&reported);
    let mut t = KaplanMarkov::new(a.upper, v, SUPER_SIMPLE_GAMMA);
    let g = SUPER_SIMPLE_GAMMA;
    // One one-vote overstatement (CVR winner, paper blank), then 30 clean ballots (so the
    // running minimum is the last value).
    t.observe(a.values[0] - a.values[2]);
    for _ in 0..30 {
        t.observe(0.0);
    }
    let want = (1.0 - v / (2.0 * g)).powi(31) / (1.0 - 1.0 / (2.0 * g));
    assert!((t.p_value() - want).abs() < 1e-12, "{} {want}", t.p_value());
}

#[test]
fn kaplan_markov_is_the_fixed_bet_at_its_own_bet() {
    // `Π (1 + λ(B − ½))` with `λ = 2(2 − v/u)/(2γ − v/u)` is Kaplan–Markov's `1/P`, draw by
    // draw, for plurality pairs (u = 1) and a list assertion's wider assorter
    for (u, v) in [(1.0, 0.04), (1.0, 0.3), (1.7, 0.12)] {
        let lambda = kaplan_markov_bet(u, v, SUPER_SIMPLE_GAMMA);
        assert!(lambda > 0.0 && lambda < 2.0, "{lambda}");
        let mut km = KaplanMarkov::new(u, v, SUPER_SIMPLE_GAMMA);
        let mut bet = ComparisonBet::new(u, v, lambda);
        for (i, omega) in [0.0, 0.5, 0.0, -0.5, 1.0, 0.0, -1.0, 0.0]
            .iter()
            .enumerate()
        {
            let omega = omega * u;
            km.observe(omega);
            bet.observe(omega);
            let (a, b) = (km.statistic(), bet.statistic());
            assert!(
                (a - b).abs() <= 1e-12 * a,
                "u {u} v {v} draw {i}: {a} against {b}"
            );
            assert!((km.p_value() - bet.p_value()).abs() <= 1e-12, "draw {i}");
        }
    }
    // no bet: the statistic stays 1
    let mut none = ComparisonBet::new(1.0, 0.1, 0.0);
    none.observe(1.0);
    assert_eq!(none.statistic(), 1.0);
}

#[test]
fn risk_limit_parsing() {
    assert_eq!(RiskLimit::parse("5%").unwrap().get(), 0.05);
    assert_eq!(RiskLimit::parse("0.1").unwrap().get(), 0.1);
    for bad in ["0", "1", "100%", "-5%", "x", ""] {
        assert!(RiskLimit::parse(bad).is_err(), "{bad}");
    }
    for m in METHODS {
        assert_eq!(m.name().parse::<Method>().unwrap(), m);
    }
    assert!("nope".parse::<Method>().is_err());
}

#[test]
fn alpha_without_replacement_proves_a_counted_majority() {
    // Sampling all of a small population without replacement: once more than half the
    // assorter mass is seen, the null is impossible and the P-value is 0.
    let mut t = alpha::Alpha::new(1.0, 0.7, Some(10));
    for _ in 0..6 {
        t.observe(1.0);
    }
    assert_eq!(t.p_value(), 0.0);
}
