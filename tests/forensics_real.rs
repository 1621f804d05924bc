//! Known answers from real elections (`../shared/data/elections`): the published numbers the
//! forensics must reproduce (REFERENCES.md §1). These tests FAIL, loudly, when the shared data is
//! missing: a reproduction that silently skips proves nothing.

use tamga::forensics::integer::integer_test;
use tamga::forensics::results::{ElectionResults, base_stations, read_results, select_leader};

fn load(name: &str) -> ElectionResults {
    let path = format!(
        "{}/../shared/data/elections/{name}.csv.gz",
        env!("CARGO_MANIFEST_DIR")
    );
    let file = std::fs::File::open(&path).unwrap_or_else(|e| {
        panic!(
            "MISSING SHARED DATA: cannot open {path} ({e}). These tests reproduce published \
             numbers from the real election files and must not pass without them; check out \
             ../shared/data next to the project."
        )
    });
    read_results(file).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Kobak et al. (2016): 17,803 integer stations against 16,800 expected, excess 1,003 (±10).
#[test]
fn integer_excess_russia_2011() {
    let r = load("russia-2011-duma");
    assert_eq!(r.stations.len(), 95_225);
    let leader = select_leader(&r, Some("ЕДИНАЯ РОССИЯ")).unwrap();
    let (stations, _) = base_stations(&r, leader);
    let t = integer_test(&stations);
    assert!((t.either.excess - 1003.0).abs() <= 10.0, "{:?}", t.either);
    assert!(
        (t.either.expected - 16_800.0).abs() <= 10.0,
        "{:?}",
        t.either
    );
    assert!(t.either.z > 5.0, "{:?}", t.either);
}

/// Kobak et al. (2016): ≈ 1,161 excess integer stations in 2012 (±10).
#[test]
fn integer_excess_russia_2012() {
    let r = load("russia-2012-president");
    let leader = select_leader(&r, Some("Путин")).unwrap();
    let (stations, _) = base_stations(&r, leader);
    let t = integer_test(&stations);
    assert!((t.either.excess - 1161.0).abs() <= 10.0, "{:?}", t.either);
}

/// Poland 2020 runoff, the control: excess ≈ 130 on ≈ 5,060 expected (data README), i.e. small
/// next to its own null (|z| < 3), unlike Russia (z ≈ 9–10).
#[test]
fn integer_excess_poland_2020_is_small() {
    let r = load("poland-2020-president-r2");
    let leader = select_leader(&r, Some("DUDA")).unwrap();
    let (stations, _) = base_stations(&r, leader);
    let t = integer_test(&stations);
    assert!((t.either.expected - 5060.0).abs() <= 30.0, "{:?}", t.either);
    assert!((t.either.excess - 130.0).abs() <= 30.0, "{:?}", t.either);
    assert!(t.either.z.abs() < 3.0, "{:?}", t.either);
}
