//! A region's tilt (`[[region]] tilt = { party, slope }`): within the region, the logit of the
//! party's station share moves by `slope` per unit of the station's logit turnout, on the
//! ballot path and the station path alike; a region without one shows no such slope; and
//! calibration to reported shares still meets them when the tilted party's share is
//! correlated with turnout.

use tamga::model::{Scenario, SimPath};
use tamga::montecarlo::Simulator;
use tamga::scenario;

/// Two regions of 2,000 stations of 500 voters: `tilted` (with `tilt`, a TOML inline table, or
/// none when empty) and `flat` (never); turnout 60 % (logit sd 0.5), two parties at 50 %.
fn scenario(tilt: &str, extra: &str) -> Scenario {
    let tilt_line = if tilt.is_empty() {
        String::new()
    } else {
        format!("tilt = {tilt}\n")
    };
    let text = format!(
        "format = 1\n[election]\nname = \"tilt\"\n\
         [[party]]\nid = \"a\"\nname = \"A\"\n[[party]]\nid = \"b\"\nname = \"B\"\n\
         [system.list]\nseats = 10\nmethod = \"hare\"\n\
         [stations]\nlog_sd = 0.0\n\
         [[region]]\nname = \"tilted\"\nregistered = 1000000\nstations = 2000\nurban = 1.0\n{tilt_line}\
         [[region]]\nname = \"flat\"\nregistered = 1000000\nstations = 2000\nurban = 1.0\n\
         [turnout]\nurban = 0.6\nrural = 0.6\nstation_sd = 0.5\n\
         [preferences]\nurban = {{ a = 0.5, b = 0.5 }}\nrural = {{ a = 0.5, b = 0.5 }}\nstation_sd = 0.2\n{extra}\
         [montecarlo]\nruns = 1\nseed = 7\n[[variant]]\nname = \"honest\"\n"
    );
    scenario::parse(&text, "tilt.toml").expect("valid scenario")
}

fn logit(p: f64) -> f64 {
    (p / (1.0 - p)).ln()
}

/// Per region: the least-squares slope of logit(party a's share) on logit(turnout) over the
/// region's stations, and its standard error.
fn slopes(s: &Scenario, path: SimPath) -> Vec<(f64, f64)> {
    let mut s = s.clone();
    s.montecarlo.path = path;
    let sim = Simulator::new(&s, 11);
    let rs = sim.run_stations_following(0, 0, Some(0)).expect("variant");
    let e = &sim.electorates[0];
    (0..2)
        .map(|r| {
            let pts: Vec<(f64, f64)> = rs
                .stations
                .iter()
                .zip(&e.stations)
                .filter(|(t, st)| {
                    st.region == r
                        && t.ballots > t.leader
                        && t.leader > 0
                        && t.issued < t.registered
                })
                .map(|(t, _)| {
                    (
                        logit(t.issued as f64 / t.registered as f64),
                        logit(t.leader as f64 / t.ballots as f64),
                    )
                })
                .collect();
            let n = pts.len() as f64;
            let mx = pts.iter().map(|p| p.0).sum::<f64>() / n;
            let my = pts.iter().map(|p| p.1).sum::<f64>() / n;
            let sxx: f64 = pts.iter().map(|p| (p.0 - mx).powi(2)).sum();
            let sxy: f64 = pts.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
            let b = sxy / sxx;
            let resid: f64 = pts
                .iter()
                .map(|p| (p.1 - my - b * (p.0 - mx)).powi(2))
                .sum::<f64>()
                / (n - 2.0);
            (b, (resid / sxx).sqrt())
        })
        .collect()
}

/// The tilted region's slope is `slope` and the flat region's 0, within four standard errors
/// (plus the 2 % by which the binomial noise in a station's observed turnout flattens it: at
/// 500 voters and 60 % its logit variance is 1/120 against the 0.25 of the station spread).
fn assert_slopes(tilt: &str, slope: f64) {
    assert_region_slopes(&scenario(tilt, ""), [slope, 0.0]);
}

fn assert_region_slopes(s: &Scenario, want: [f64; 2]) {
    for path in [SimPath::Ballot, SimPath::Station] {
        let got = slopes(s, path);
        for (r, want) in want.into_iter().enumerate() {
            let (b, se) = got[r];
            assert!(
                (b - want).abs() < 4.0 * se + 0.02 * want.abs(),
                "{path:?}, region {r}: slope {b:.3} (se {se:.3}), want {want}"
            );
        }
    }
}

#[test]
fn tilted_region_shows_its_slope_on_both_paths() {
    assert_slopes("{ party = \"a\", slope = -1.0 }", -1.0);
    assert_slopes("{ party = \"a\", slope = 0.5 }", 0.5);
}

/// `[preferences] tilt` is the tilt of every region without its own.
#[test]
fn the_model_level_tilt_is_the_default_of_regions_without_their_own() {
    let s = scenario(
        "{ party = \"a\", slope = 0.5 }",
        "tilt = { party = \"a\", slope = -1.0 }\n",
    );
    assert_region_slopes(&s, [0.5, -1.0]);
}

#[test]
fn without_a_tilt_no_region_has_a_slope() {
    assert_slopes("", 0.0);
}

/// With a tilt of −1 the tilted party's share is lower where turnout is higher, so its share
/// of the votes is about 2.5 points below its share of the stations; calibration to reported
/// shares takes that into account (without it the simulated share misses by about 1.3 points
/// nationally).
#[test]
fn calibration_to_reported_shares_holds_with_a_tilt() {
    let reported = "calibrate_to_reported = true\n\
                    [reported]\nregistered = 2000000\nballots = 1200000\nlist_votes = { a = 660000, b = 540000 }\n";
    let s = scenario("{ party = \"a\", slope = -1.0 }", reported);
    let mut s = s.clone();
    s.montecarlo.path = SimPath::Station;
    let sim = Simulator::new(&s, 3);
    let mut ws = tamga::sim::Workspace::default();
    let n = 4;
    let share: f64 = (0..n)
        .map(|r| sim.run_one(0, r, &mut ws).list_shares()[0])
        .sum::<f64>()
        / n as f64;
    assert!(
        (share - 0.55).abs() < 0.003,
        "simulated share of a {share:.4}, reported 0.55"
    );
}
