//! Ballot-level comparison on a package (`kaplan-markov`, `alpha-comparison`): the machines'
//! ledger entries are cast-vote records (CVRs), each linked to the record its machine printed
//! (the entry's machine and number are on the paper), and the hand-marked paper ballots, which
//! have no CVR, get their station's reported mean as theirs (ONEAudit: Stark 2023, "Overstatement-
//! net-equivalent risk-limiting audit"; the station protocol minus its machines' entries is the
//! hand-marked papers' reported count). Every CVR population is valid for the test as long as the
//! margin is the one of that population, so the margin of each assertion is the CVR population's,
//! not the published totals'; an assertion whose CVR margin is not positive cannot be confirmed.
//!
//! A station's container is read in this order: its machines' printed records (machines in
//! order, entries in order), then its hand-marked papers, the piles of `paper/ballots.csv` less
//! the printed records of each choice, then phantoms up to the protocol's ballots (score 0).
//! `paper/vvpat.csv` lists the printed records that do not read as their entry; every other
//! printed record reads as its entry.

use super::{
    Contest, ContestAudit, Discrepancy, Draw, MAX_LISTED_DRAWS, RlaError, RlaInput, finish,
    polling_first_round, station_discrepancies,
};
use crate::rla::audit::{Decision, Schedule, escalate, first_round, round_end};
use crate::rla::comparison::{
    AlphaComparison, ComparisonBet, KaplanMarkov, SUPER_SIMPLE_GAMMA, growth, growth_optimal,
    kaplan_markov_bet,
};
use crate::rla::{Method, Sampler};

/// One machine's ledger: per entry (in order), the recorded list and candidate (`None`: no
/// valid vote).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MachineCvrs {
    pub station: u32,
    pub machine: u32,
    pub entries: Vec<(Option<usize>, Option<usize>)>,
}

/// A printed record that does not read as its ledger entry (`paper/vvpat.csv`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Misprint {
    pub station: u32,
    pub machine: u32,
    /// Entry number in the machine's ledger, from 1.
    pub entry: u64,
    pub list: Option<usize>,
    pub candidate: Option<usize>,
}

/// Reads `paper/vvpat.csv`: `station,machine,entry,list,candidate`, list a party id or
/// `invalid`, candidate an index or `invalid`.
pub fn read_misprints(text: &str, parties: &[String]) -> Result<Vec<Misprint>, String> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if n == 0 {
            if line != "station,machine,entry,list,candidate" {
                return Err(format!(
                    "paper/vvpat.csv line 1: expected the header \
                     `station,machine,entry,list,candidate`, found `{}`",
                    crate::text::echo(line)
                ));
            }
            continue;
        }
        if line.is_empty() {
            continue;
        }
        let bad = |what: &str| {
            format!(
                "paper/vvpat.csv line {}: {what} in `{}`",
                n + 1,
                crate::text::echo(line)
            )
        };
        let f: Vec<&str> = line.split(',').collect();
        if f.len() != 5 {
            return Err(bad("expected 5 fields"));
        }
        let num = |s: &str, what: &str| s.parse::<u64>().map_err(|_| bad(what));
        let list = match f[3] {
            "invalid" => None,
            id => Some(
                parties
                    .iter()
                    .position(|p| p == id)
                    .ok_or_else(|| bad("unknown party"))?,
            ),
        };
        let candidate = match f[4] {
            "invalid" => None,
            c => Some(num(c, "candidate is not an index")? as usize),
        };
        let entry = num(f[2], "entry is not a number")?;
        if entry == 0 {
            return Err(bad("entries are numbered from 1"));
        }
        out.push(Misprint {
            station: u32::try_from(num(f[0], "station is not a number")?)
                .map_err(|_| bad("station out of range"))?,
            machine: u32::try_from(num(f[1], "machine is not a number")?)
                .map_err(|_| bad("machine out of range"))?,
            entry,
            list,
            candidate,
        });
    }
    Ok(out)
}

/// One station's papers of a contest in audit order.
struct StationPapers {
    /// Printed records: (CVR category, paper category, machine, entry).
    records: Vec<(usize, usize, u32, u64)>,
    /// Hand-marked piles (category, papers).
    hand: Vec<(usize, u64)>,
    /// Hand-marked papers and phantoms: the papers without a CVR.
    without_cvr: u64,
    /// Per assertion, the reported mean of the papers without a CVR.
    hand_mean: Vec<f64>,
    /// Per category, the reported share of the papers without a CVR (the protocol less the
    /// entries).
    shares: Vec<f64>,
}

/// The category of an entry's choice in a contest with `n` choices (`n`: no valid vote).
fn category(choice: Option<usize>, n: usize, what: &str) -> Result<usize, String> {
    match choice {
        None => Ok(n),
        Some(c) if c < n => Ok(c),
        Some(c) => Err(format!(
            "{what} records choice {c}, which the contest does not have"
        )),
    }
}

/// The comparison audit of contest `c`; `machines` sorted by (station, machine), `misprints` by
/// (station, machine, entry).
pub(super) fn compare(
    c: &Contest,
    is_list: bool,
    machines: &[MachineCvrs],
    misprints: &[Misprint],
    input: &RlaInput<'_>,
) -> Result<ContestAudit, RlaError> {
    let (protocols, seed, method) = (input.protocols, input.seed, input.method);
    let alpha = input.risk_limit.get();
    let unusable = RlaError::Unusable;
    let width = c.reported.len();
    let none = width - 1;
    let mut stations = Vec::with_capacity(c.stations.len());
    let mut ends = Vec::with_capacity(c.stations.len());
    let mut total = 0u64;
    let mut sums = vec![0.0f64; c.assertions.len()];
    for (s, (i, prot, paper)) in c.stations.iter().enumerate() {
        let st = protocols[*i].station;
        let mut records = Vec::new();
        let mut cvr = vec![0u64; width];
        let mut printed = vec![0u64; width];
        let first = machines.partition_point(|m| m.station < st);
        for m in machines[first..].iter().take_while(|m| m.station == st) {
            for (e, &(list, cand)) in m.entries.iter().enumerate() {
                let entry = e as u64 + 1;
                let place = format!("station {st} machine {} entry {entry}", m.machine);
                let pick = |l: Option<usize>, k: Option<usize>| if is_list { l } else { k };
                let x = category(pick(list, cand), none, &place).map_err(unusable)?;
                let y = match misprints.binary_search_by_key(&(st, m.machine, entry), |p| {
                    (p.station, p.machine, p.entry)
                }) {
                    Ok(j) => category(
                        pick(misprints[j].list, misprints[j].candidate),
                        none,
                        &format!("paper/vvpat.csv for {place}"),
                    )
                    .map_err(unusable)?,
                    Err(_) => x,
                };
                cvr[x] += 1;
                printed[y] += 1;
                records.push((x, y, m.machine, entry));
            }
        }
        // hand-marked piles: the container's piles less the printed records of each choice
        let mut left = printed.clone();
        let mut hand = Vec::new();
        for &(ch, p) in &c.piles[s] {
            let take = p.min(left[ch]);
            left[ch] -= take;
            if p > take {
                hand.push((ch, p - take));
            }
        }
        if let Some(ch) = left.iter().position(|&x| x > 0) {
            return Err(unusable(format!(
                "station {st}'s {} container holds fewer papers of `{}` than its machines \
                 printed; the paper record does not hold the printed records (audit it by \
                 polling: bravo)",
                c.name,
                c.names.get(ch).map_or("invalid", String::as_str)
            )));
        }
        let papers: u64 = paper.iter().sum();
        let n_records = records.len() as u64;
        let without_cvr = papers.max(prot.iter().sum()) - n_records;
        // the papers without a CVR get the station's reported mean: protocol less entries
        let mut h: Vec<u64> = prot
            .iter()
            .zip(&cvr)
            .map(|(a, b)| a.saturating_sub(*b))
            .collect();
        let hs: u64 = h.iter().sum();
        if hs < without_cvr {
            h[none] += without_cvr - hs;
        }
        let hs: u64 = h.iter().sum();
        let hand_mean: Vec<f64> = c
            .assertions
            .iter()
            .map(|a| {
                if hs == 0 {
                    0.0
                } else {
                    h.iter()
                        .zip(&a.values)
                        .map(|(&n, v)| n as f64 * v)
                        .sum::<f64>()
                        / hs as f64
                }
            })
            .collect();
        for ((sum, a), m) in sums.iter_mut().zip(&c.assertions).zip(&hand_mean) {
            *sum += records.iter().map(|r| a.values[r.0]).sum::<f64>() + without_cvr as f64 * m;
        }
        total += n_records + without_cvr;
        ends.push(total);
        let shares = h
            .iter()
            .map(|&n| if hs == 0 { 0.0 } else { n as f64 / hs as f64 })
            .collect();
        stations.push(StationPapers {
            records,
            hand,
            without_cvr,
            hand_mean,
            shares,
        });
    }
    // the tests, on the CVR population's margins
    enum Test {
        Km(KaplanMarkov),
        Alpha(AlphaComparison),
        Bet(ComparisonBet),
        Unconfirmable,
    }
    let margins: Vec<f64> = sums
        .iter()
        .map(|s| 2.0 * s / total.max(1) as f64 - 1.0)
        .collect();
    // each test, and (ONEAudit's bets) its expected log growth per paper
    let (mut tests, drifts): (Vec<Test>, Vec<f64>) = c
        .assertions
        .iter()
        .zip(&margins)
        .enumerate()
        .map(|(k, (a, &v))| {
            if v <= 0.0 || !v.is_finite() {
                (Test::Unconfirmable, 0.0)
            } else if method == Method::KaplanMarkov {
                (
                    Test::Km(KaplanMarkov::new(a.upper, v, SUPER_SIMPLE_GAMMA)),
                    0.0,
                )
            } else if method == Method::OneAudit {
                // the plan's values of `B − ½` do not depend on the bet
                let points = planned_points(&stations, a, k, &ComparisonBet::new(a.upper, v, 0.0));
                let cap = kaplan_markov_bet(a.upper, v, SUPER_SIMPLE_GAMMA);
                let lambda = growth_optimal(&points, cap);
                let drift = growth(&points, lambda) / total.max(1) as f64;
                (Test::Bet(ComparisonBet::new(a.upper, v, lambda)), drift)
            } else {
                (Test::Alpha(AlphaComparison::new(a.upper, v, None)), 0.0)
            }
        })
        .unzip();
    let p_of = |t: &Test| match t {
        Test::Km(k) => k.p_value(),
        Test::Alpha(a) => a.p_value(),
        Test::Bet(b) => b.p_value(),
        Test::Unconfirmable => 1.0,
    };
    // an assertion that cannot be confirmed does not say the outcome is wrong: its margin is
    // not positive on the CVRs, and escalation finds out
    let stat_of = |t: &Test| match t {
        Test::Km(k) => k.statistic(),
        Test::Alpha(a) => a.statistic(),
        Test::Bet(b) => b.statistic(),
        Test::Unconfirmable => f64::INFINITY,
    };
    // first round: no discrepancies at the smallest margin (rlacalc's zero-error size)
    let m = c
        .assertions
        .iter()
        .zip(&margins)
        .map(|(a, v)| v / a.upper)
        .fold(f64::INFINITY, f64::min);
    // and at least the polling audit's first round: the papers without a CVR, most of them
    // in a mixed election, vary about their station's mean as polled papers do
    let polled = polling_first_round(c, alpha);
    let first = if method == Method::OneAudit {
        // where the bets' expected log statistics reach ln(1/α), as the Monte Carlo plans
        first_round(drifts.iter().copied(), alpha).unwrap_or(u64::MAX)
    } else if m > 0.0 && m.is_finite() && polled.is_finite() {
        let zero_error = (alpha.ln() / (1.0 - m / (2.0 * SUPER_SIMPLE_GAMMA)).ln()).ceil();
        zero_error.max(polled.ceil()) as u64
    } else {
        u64::MAX
    };
    let mut sampler = Sampler::new(&format!("{seed}/{}", c.name));
    let (mut drawn, mut sample, mut discrepancies) = (0u64, Vec::new(), Vec::new());
    // with a CVR for every paper the statistic falls only on overstatements; papers that take
    // their station's mean differ from it on an honest count too
    let schedule = Schedule::doubling(first).refuting(stations.iter().all(|s| s.without_cvr == 0));
    let outcome = escalate(schedule, alpha, total, |n| {
        while drawn < n {
            let x = sampler.next_in(1, total).unwrap_or(1);
            let s = ends.partition_point(|&e| e < x);
            let pos = x - if s == 0 { 0 } else { ends[s - 1] };
            let sp = &stations[s];
            let st = protocols[c.stations[s].0].station;
            let n_rec = sp.records.len() as u64;
            // per assertion: (CVR value, paper value)
            let mut observe = |cvr: &dyn Fn(usize) -> f64, paper: &dyn Fn(usize) -> f64| {
                for (k, t) in tests.iter_mut().enumerate() {
                    let omega = cvr(k) - paper(k);
                    match t {
                        Test::Km(t) => t.observe(omega),
                        Test::Alpha(t) => t.observe(omega),
                        Test::Bet(t) => t.observe(omega),
                        Test::Unconfirmable => {}
                    }
                }
            };
            if pos <= n_rec {
                let (xc, yc, machine, entry) = sp.records[(pos - 1) as usize];
                observe(&|k| c.assertions[k].values[xc], &|k| {
                    c.assertions[k].values[yc]
                });
                if xc != yc && discrepancies.len() < MAX_LISTED_DRAWS {
                    let name = |i: usize| c.names.get(i).cloned().unwrap_or("invalid".into());
                    discrepancies.push(Discrepancy {
                        station: st,
                        contest: c.name.clone(),
                        choice: format!(
                            "machine {machine} entry {entry}: recorded {}, printed {}",
                            name(xc),
                            name(yc)
                        ),
                        protocol: 1,
                        paper: 0,
                    });
                }
            } else {
                let mut left = pos - n_rec;
                let mut cat = None;
                for &(ch, p) in &sp.hand {
                    if left <= p {
                        cat = Some(ch);
                        break;
                    }
                    left -= p;
                }
                observe(&|k| sp.hand_mean[k], &|k| {
                    cat.map_or(0.0, |ch| c.assertions[k].values[ch])
                });
            }
            if sample.len() < MAX_LISTED_DRAWS {
                sample.push(Draw {
                    station: st,
                    paper: pos,
                });
            }
            drawn += 1;
        }
        round_end(tests.iter().map(|t| (p_of(t), stat_of(t))), alpha)
    });
    debug_assert!(stations.iter().all(|s| s.without_cvr <= total));
    if outcome.decision == Decision::FullHandCount {
        discrepancies.clear();
        station_discrepancies(c, protocols, &mut discrepancies);
    }
    let ps: Vec<f64> = tests.iter().map(p_of).collect();
    Ok(finish(c, outcome, total, discrepancies, sample, &ps))
}

/// ONEAudit's plan for assertion `k` (assorter `a`; `bet` gives `B − ½` of an overstatement):
/// the papers as `(weight, B − ½)` points if they read as reported — printed records as their
/// entries (no overstatement), each station's hand-marked papers in the reported shares of its
/// papers without a CVR (overstatement: the station's mean less the paper's value), its
/// phantoms as phantoms (known from the manifest before any paper is drawn; value 0).
fn planned_points(
    stations: &[StationPapers],
    a: &crate::rla::Assertion,
    k: usize,
    bet: &ComparisonBet,
) -> Vec<(f64, f64)> {
    let mut points = Vec::new();
    for sp in stations {
        let mean = sp.hand_mean[k];
        if !sp.records.is_empty() {
            points.push((sp.records.len() as f64, bet.centred(0.0)));
        }
        let in_box: u64 = sp.hand.iter().map(|&(_, n)| n).sum();
        if in_box > 0 {
            for (share, x) in sp.shares.iter().zip(&a.values) {
                if *share > 0.0 {
                    points.push((in_box as f64 * share, bet.centred(mean - x)));
                }
            }
        }
        let phantoms = sp.without_cvr.saturating_sub(in_box);
        if phantoms > 0 {
            points.push((phantoms as f64, bet.centred(mean)));
        }
    }
    points
}

#[cfg(test)]
mod tests {
    use super::super::{ManifestRow, Pile, Rules, audit_paper};
    use super::*;
    use crate::package::AggregateKey;
    use crate::package::{ProtocolCounts, StationProtocol};
    use crate::rla::RiskLimit;

    /// Ten stations of 1,000 papers, 300 of them printed by a machine whose records match its
    /// entries (180 for candidate 0, 117 for 1, 3 invalid); each protocol reports 600 : 390
    /// with 10 invalid, and the hand-marked papers hold `hand` (candidate 0, 1, invalid).
    struct Election {
        protocols: Vec<StationProtocol>,
        aggregates: Vec<(AggregateKey, u64)>,
        manifest: Vec<ManifestRow>,
        piles: Vec<Pile>,
        machines: Vec<MachineCvrs>,
    }

    fn election(hand: [u64; 3]) -> Election {
        let machine = [180u64, 117, 3];
        let reported = [600u64, 390, 10];
        let (mut protocols, mut manifest, mut piles, mut machines) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for st in 0..10u32 {
            protocols.push(StationProtocol {
                station: st,
                district: Some(0),
                machines: 1,
                total: ProtocolCounts {
                    candidates: reported[..2].to_vec(),
                    district_invalid: reported[2],
                    ..Default::default()
                },
                ..Default::default()
            });
            manifest.push(ManifestRow {
                station: st,
                district: true,
                papers: 1000,
            });
            for c in 0..3 {
                piles.push(Pile {
                    station: st,
                    district: true,
                    choice: (c < 2).then_some(c),
                    papers: machine[c] + hand[c],
                });
            }
            let mut entries = Vec::new();
            for (c, &n) in machine.iter().enumerate() {
                entries.extend((0..n).map(|_| (None, (c < 2).then_some(c))));
            }
            machines.push(MachineCvrs {
                station: st,
                machine: 0,
                entries,
            });
        }
        let aggregates = ["0", "1", "invalid"]
            .iter()
            .zip(reported)
            .map(|(c, n)| {
                (
                    AggregateKey {
                        level: "district".into(),
                        unit: "0".into(),
                        item: "candidate".into(),
                        choice: c.to_string(),
                    },
                    10 * n,
                )
            })
            .collect();
        Election {
            protocols,
            aggregates,
            manifest,
            piles,
            machines,
        }
    }

    /// The share of `n` audits (seeds 0..n) that confirm the reported outcome.
    fn confirmed(e: &Election, method: Method, n: u32) -> f64 {
        let rules = Rules {
            list: None,
            districts: Some("plurality".into()),
        };
        let mut k = 0;
        for seed in 0..n {
            let seed = seed.to_string();
            let r = audit_paper(&RlaInput {
                parties: &[],
                protocols: &e.protocols,
                aggregates: &e.aggregates,
                rules: &rules,
                manifest: &e.manifest,
                piles: &e.piles,
                seed: &seed,
                risk_limit: RiskLimit::new(0.05).expect("valid"),
                method,
                machines: &e.machines,
                misprints: &[],
            })
            .expect("usable");
            k += u32::from(r.contests[0].decision == Decision::Confirmed);
        }
        f64::from(k) / f64::from(n)
    }

    #[test]
    fn a_wrong_outcome_is_confirmed_at_most_at_the_risk_limit() {
        // on paper candidate 1 wins 4,960 : 4,940; the protocols' hand-marked counts say
        // 4,200 : 2,730 for candidate 0
        let wrong = election([314, 379, 7]);
        let honest = election([420, 273, 7]);
        for method in [
            Method::KaplanMarkov,
            Method::AlphaComparison,
            Method::OneAudit,
        ] {
            let risk = confirmed(&wrong, method, 10_000);
            assert!(risk <= 0.05, "{method}: confirmed {risk}");
            // and the audit has power: the honest election is confirmed in most audits
            let power = confirmed(&honest, method, 200);
            eprintln!("{method}: wrong outcome confirmed {risk}, honest confirmed {power}");
            assert!(power > 0.5, "{method}: confirmed {power} of honest audits");
        }
    }
}
