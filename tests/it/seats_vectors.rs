//! Every case in `../shared/data/apportionment/vectors.toml` (textbook and real elections,
//! ties that must be reported, the New Zealand 2014 MMP overhang) against the library. The file
//! is required: the test fails, loudly, when it is missing.

use crate::common::shared;
use serde::Deserialize;
use tamga::seats::{
    Method, MixedInput, Overhang, Ratio, SeatError, Threshold, ThresholdBase, TieBreak, allocate,
    allocate_explained, mmp,
};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    case: Vec<Case>,
    tie_case: Vec<TieCase>,
    mmp_case: Vec<MmpCase>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    method: String,
    seats: u32,
    votes: Vec<u64>,
    expected: Vec<u32>,
    threshold: Option<String>,
    threshold_base: Option<u64>,
    parties: Option<Vec<String>>,
    #[allow(dead_code)]
    source: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TieCase {
    name: String,
    method: String,
    seats: u32,
    votes: Vec<u64>,
    expected: String,
    #[allow(dead_code)]
    source: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MmpCase {
    name: String,
    method: String,
    base_seats: u32,
    threshold: String,
    threshold_alternative: String,
    parties: Vec<String>,
    party_votes: Vec<u64>,
    electorate_seats: Vec<u32>,
    expected_total: Vec<u32>,
    expected_house_size: u32,
    #[allow(dead_code)]
    source: String,
}

fn load() -> File {
    let path = shared("apportionment/vectors.toml");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    toml::from_str(&text).unwrap_or_else(|e| panic!("{} does not parse: {e}", path.display()))
}

fn threshold(share: Option<&str>, base: Option<u64>) -> Option<Threshold> {
    share.map(|s| Threshold {
        share: Ratio::parse(s).expect("threshold in vectors parses"),
        base: base.map_or(ThresholdBase::ListedVotes, ThresholdBase::Ballots),
        or_district_seats: None,
    })
}

#[test]
fn the_vectors_file_has_every_kind_of_case() {
    let f = load();
    assert!(f.case.len() >= 30, "only {} cases", f.case.len());
    assert!(f.tie_case.len() >= 3);
    assert!(!f.mmp_case.is_empty());
}

#[test]
fn every_case_gives_the_expected_seats_on_both_paths() {
    let f = load();
    let mut failures = Vec::new();
    for c in &f.case {
        let method: Method = c.method.parse().expect("method name in vectors");
        if let Some(p) = &c.parties {
            assert_eq!(p.len(), c.votes.len(), "{}: parties vs votes", c.name);
        }
        let t = threshold(c.threshold.as_deref(), c.threshold_base);
        let fast = allocate(&method, c.seats, &c.votes, t.as_ref(), TieBreak::Report);
        let (explained, ex) =
            allocate_explained(&method, c.seats, &c.votes, t.as_ref(), TieBreak::Report);
        match (&fast, &explained) {
            (Ok(a), Ok(b)) if a.seats == c.expected && b.seats == c.expected => {
                assert!(
                    a.lots.is_empty(),
                    "{}: a lot was drawn under Report",
                    c.name
                );
                assert_eq!(a, b, "{}", c.name);
                let seat_steps = ex
                    .steps
                    .iter()
                    .filter(|s| matches!(s, tamga::seats::Step::Seat { .. }))
                    .count();
                if method.is_divisor() {
                    assert_eq!(seat_steps as u32, c.seats, "{}: one step per seat", c.name);
                }
            }
            _ => failures.push(format!(
                "{}: expected {:?}, fast {:?}, explained {:?}",
                c.name,
                c.expected,
                fast.map(|a| a.seats),
                explained.map(|a| a.seats)
            )),
        }
    }
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_tie_case_is_reported_and_a_seeded_lot_settles_it_reproducibly() {
    let f = load();
    for c in &f.tie_case {
        assert_eq!(c.expected, "tie", "{}: unknown expectation", c.name);
        let method: Method = c.method.parse().expect("method name in vectors");
        let r = allocate(&method, c.seats, &c.votes, None, TieBreak::Report);
        let Err(SeatError::Tie {
            parties,
            seats,
            decided,
        }) = r
        else {
            panic!("{}: expected a reported tie, got {r:?}", c.name);
        };
        assert!(seats >= 1 && (seats as usize) < parties.len(), "{}", c.name);
        let decided_total: u32 = decided.iter().sum();
        assert_eq!(
            decided_total + seats,
            c.seats,
            "{}: decided + tied = house",
            c.name
        );
        for seed in [0u64, 7, 1 << 40] {
            let lot = allocate(&method, c.seats, &c.votes, None, TieBreak::Lot { seed })
                .unwrap_or_else(|e| panic!("{}: lot failed: {e}", c.name));
            assert_eq!(lot.seats.iter().sum::<u32>(), c.seats, "{}", c.name);
            assert_eq!(lot.lots.len(), 1, "{}: one lot recorded", c.name);
            let l = &lot.lots[0];
            assert_eq!((l.seed, &l.among, l.seats), (seed, &parties, seats));
            for (i, (&s, &d)) in lot.seats.iter().zip(&decided).enumerate() {
                let won = u32::from(l.winners.contains(&i));
                assert_eq!(s, d + won, "{}: party {i}", c.name);
            }
            let again = allocate(&method, c.seats, &c.votes, None, TieBreak::Lot { seed });
            assert_eq!(
                again.as_ref().ok(),
                Some(&lot),
                "{}: same seed, same lot",
                c.name
            );
        }
    }
}

#[test]
fn the_mmp_case_reproduces_total_seats_and_overhang() {
    let f = load();
    for c in &f.mmp_case {
        let method: Method = c.method.parse().expect("method name in vectors");
        assert!(
            c.threshold_alternative.starts_with("won >="),
            "{}: unknown alternative {:?}",
            c.name,
            c.threshold_alternative
        );
        let n_seats: u32 = c
            .threshold_alternative
            .split_whitespace()
            .find_map(|w| w.parse().ok())
            .expect("a number of district seats in the alternative");
        assert_eq!(c.parties.len(), c.party_votes.len());
        let input = MixedInput {
            method,
            seats: c.base_seats,
            party_votes: &c.party_votes,
            district_seats: &c.electorate_seats,
            other_district_seats: 0,
            threshold: Some(Threshold {
                share: Ratio::parse(&c.threshold).expect("threshold"),
                base: ThresholdBase::ListedVotes,
                or_district_seats: Some(n_seats),
            }),
        };
        let r = mmp(&input, Overhang::Keep, TieBreak::Report)
            .unwrap_or_else(|e| panic!("{}: {e}", c.name));
        assert_eq!(r.total, c.expected_total, "{}", c.name);
        assert_eq!(r.house, c.expected_house_size, "{}", c.name);
        assert_eq!(
            r.overhang.iter().sum::<u32>(),
            c.expected_house_size - c.base_seats,
            "{}: overhang = growth of the house",
            c.name
        );
        for i in 0..c.parties.len() {
            assert_eq!(r.total[i], r.district[i] + r.list[i], "{}", c.parties[i]);
        }
    }
}
