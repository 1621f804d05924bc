//! The paper record in the model (VVPAT: what a flipped, dropped, stuffed or falsified vote
//! leaves on paper) and the audit detectors of the Monte Carlo matrix (`src/detect/rla.rs`).

use crate::common::{on_threads, run, scenario};
use tamga::detect::{AuditReading, Detector};
use tamga::montecarlo::Simulator;
use tamga::sim::{LedgerMode, StationCounts, Workspace};

/// The fraud tutorial with audits at 5 %, all of the capital's stations e-enabled, and
/// `variants` appended (each extends `honest`).
fn tutorial_with(extra_base: &str, variants: &str) -> tamga::model::Scenario {
    let text = std::fs::read_to_string(scenario("tutorial-fraud.toml")).expect("bundled");
    let text = text.replace("evoting = 0.5 ", "evoting = 1.0 ").replace(
        "pvt_stations = 20",
        &format!("pvt_stations = 20\nrla_risk_limit = 0.05\n{extra_base}"),
    );
    let text = format!("{text}\n{variants}");
    tamga::scenario::parse(&text, "test").expect("valid")
}

/// Runs `run` of variant `v` on the hybrid path and hands the workspace to `f`.
fn day<T>(s: &tamga::model::Scenario, v: usize, f: impl FnOnce(&Workspace) -> T) -> T {
    let sim = Simulator::new(s, 7);
    let ctx = sim.context(v, LedgerMode::Chain);
    let mut ws = Workspace::default();
    tamga::sim::station::run_hybrid(ctx, 3, &mut ws);
    f(&ws)
}

fn list_totals(c: &StationCounts) -> Vec<u64> {
    let w = c.n_parties + 1;
    let mut t = vec![0u64; w];
    for row in c.list.chunks_exact(w) {
        for (a, b) in t.iter_mut().zip(row) {
            *a += u64::from(*b);
        }
    }
    t
}

const FLIP: &str = r#"
[[variant.fraud]]
kind = "flip"
beneficiary = "red"
share = 0.3
"#;

fn variant(name: &str, vvpat: &str, fraud: &str) -> String {
    format!(
        "[[variant]]\nname = \"{name}\"\nextends = \"honest\"\nbaseline = \"honest\"\n{vvpat}\n{fraud}\n"
    )
}

#[test]
fn without_vvpat_the_machines_votes_leave_no_paper() {
    let s = tutorial_with("", "");
    day(&s, 0, |ws| {
        let p = ws.published();
        let paper = p.paper.expect("kept when audits are on");
        let (count, on_paper) = (list_totals(p.observed), list_totals(paper));
        let electronic: u64 = p.observed.electronic.iter().map(|&x| u64::from(x)).sum();
        assert!(electronic > 0);
        assert_eq!(
            count.iter().sum::<u64>() - electronic,
            on_paper.iter().sum::<u64>()
        );
        assert!(paper.electronic.iter().all(|&x| x == 0));
    });
}

#[test]
fn the_paper_record_is_kept_only_when_audits_are_on() {
    let text = std::fs::read_to_string(scenario("tutorial-fraud.toml")).expect("bundled");
    let s = tamga::scenario::parse(&text, "test").expect("valid");
    day(&s, 0, |ws| assert!(ws.published().paper.is_none()));
}

#[test]
fn a_flip_printed_as_chosen_leaves_the_truth_on_paper_and_as_recorded_the_flip() {
    let chosen = "vvpat = { look_rate = 1.0, complain_rate = 1.0, rigged_prints = \"chosen\" }";
    let recorded = "vvpat = { look_rate = 0.0, rigged_prints = \"recorded\" }";
    let vs = variant("chosen", chosen, FLIP) + &variant("recorded", recorded, FLIP);
    let s = tutorial_with("", &vs);
    let names: Vec<&str> = s.variants.iter().map(|v| v.name.as_str()).collect();
    let (ci, ri) = (
        names.iter().position(|&n| n == "chosen").unwrap(),
        names.iter().position(|&n| n == "recorded").unwrap(),
    );
    day(&s, ci, |ws| {
        let (p, t) = (ws.published(), ws.truth());
        assert!(t.trace.flipped > 0, "the machines flipped votes");
        // the voter saw their own choice: nothing to complain about, and the paper is the truth
        assert!(!p.checks.vvpat_complaint);
        assert_eq!(p.paper.unwrap().list, t.counts.list);
        assert_ne!(p.observed.list, t.counts.list);
    });
    day(&s, ri, |ws| {
        let (p, t) = (ws.published(), ws.truth());
        assert!(t.trace.flipped > 0);
        // the printed record shows the flip: paper and machine agree, both off the truth
        assert_eq!(p.paper.unwrap().list, p.observed.list);
        assert_ne!(p.observed.list, t.counts.list);
    });
}

#[test]
fn a_voter_who_sees_the_flip_complains_and_recasts() {
    let all = "vvpat = { look_rate = 1.0, complain_rate = 1.0, on_complaint = \"recast\" }";
    let noted = "vvpat = { look_rate = 1.0, complain_rate = 1.0, on_complaint = \"note\" }";
    let vs = variant("recast", all, FLIP) + &variant("noted", noted, FLIP);
    let s = tutorial_with("", &vs);
    day(&s, 2, |ws| {
        let (p, t) = (ws.published(), ws.truth());
        assert!(p.checks.vvpat_complaint);
        assert_eq!(t.trace.flipped, 0, "every flip was seen and recast");
        assert_eq!(p.observed.list, t.counts.list);
        assert_eq!(p.paper.unwrap().list, t.counts.list);
    });
    day(&s, 3, |ws| {
        let (p, t) = (ws.published(), ws.truth());
        assert!(p.checks.vvpat_complaint);
        assert!(t.trace.flipped > 0, "noted, not undone");
    });
}

#[test]
fn stuffed_ballots_are_on_paper_and_falsified_protocols_are_not() {
    let vv = "vvpat = { look_rate = 0.5 }";
    let protocol = "[[variant.fraud]]\nkind = \"protocol\"\nbeneficiary = \"red\"\nshare = 0.3\nstations = 1.0\n";
    let vs = variant("protocols", vv, protocol);
    let s = tutorial_with("", &vs);
    // variant 1 is the tutorial's stuffing (no VVPAT: machines' votes leave no paper)
    day(&s, 1, |ws| {
        let (p, t) = (ws.published(), ws.truth());
        assert!(t.trace.stuffed > 0);
        let w = p.observed.n_parties + 1;
        let paper = p.paper.unwrap();
        for (i, _) in p.observed.issued.iter().enumerate() {
            if p.observed.electronic[i] == 0 {
                assert_eq!(
                    paper.list[i * w..(i + 1) * w],
                    p.observed.list[i * w..(i + 1) * w]
                );
            }
        }
    });
    day(&s, 2, |ws| {
        let p = ws.published();
        assert_eq!(p.paper.unwrap().list, p.observed.list);
        assert_ne!(p.protocols.list, p.observed.list);
    });
}

/// Every ballot electronic with a printed record: ballot-level comparison applies.
const ALL_MACHINES: &str = "[ballots]\ninvalid_rate = 0.02\nevoting_uptake = 1.0\n";

#[test]
fn audits_confirm_honest_runs_and_escalate_when_the_paper_contradicts_the_outcome() {
    let base = "[vvpat]\nlook_rate = 0.0\nrigged_prints = \"chosen\"\n";
    let protocol = "[[variant.fraud]]\nkind = \"protocol\"\nbeneficiary = \"red\"\nshare = 0.5\nstations = 1.0\n";
    let text = std::fs::read_to_string(scenario("tutorial-fraud.toml")).expect("bundled");
    let text = text
        .replace("evoting = 0.5 ", "evoting = 1.0 ")
        .replace("urban = 0.2\n", "urban = 0.2\nevoting = 1.0\n")
        .replace(
            "[ballots]\ninvalid_rate = 0.02\nevoting_uptake = 0.4\n",
            ALL_MACHINES,
        )
        .replace(
            "pvt_stations = 20",
            "pvt_stations = 20\nrla_risk_limit = 0.05",
        )
        .replace("[montecarlo]", &format!("{base}\n[montecarlo]"));
    let text = format!(
        "{text}\n{}{}",
        variant("hidden-flips", "", &FLIP.replace("0.3", "0.6")),
        variant("protocols", "", protocol)
    );
    let s = tamga::scenario::parse(&text, "test").expect("valid");
    let outcomes = run(&s, 11, 0..12);
    let read = |o: &tamga::montecarlo::RunOutcome, d: Detector| {
        AuditReading::of(o.detectors[d].value.expect("applies"))
    };
    for d in [
        Detector::RlaBravo,
        Detector::RlaMacro,
        Detector::RlaComparison,
        Detector::RlaAlpha,
        Detector::RlaAlphaComparison,
    ] {
        // honest: the published outcome is the paper's; never found wrong, so never fires
        for o in &outcomes[0] {
            let r = read(o, d);
            assert!(!r.wrong && !r.found, "{d:?}: {r:?}");
            assert!(o.detectors[d].cost > 0.0);
        }
        // falsified protocols: the published outcome is wrong on the paper, and a full hand
        // count finds it
        for o in &outcomes[3] {
            let r = read(o, d);
            assert!(r.wrong, "{d:?}: red's protocols change the outcome");
            assert!(r.found && !r.confirmed_wrong, "{d:?}: {r:?}");
        }
    }
    // flips printed as chosen that change some outcome: the machines' records are the
    // published outcome, the paper contradicts it; polling and comparison never confirm it here
    let flips = &outcomes[2];
    let wrong_runs = flips
        .iter()
        .filter(|o| read(o, Detector::RlaBravo).wrong)
        .count();
    assert!(wrong_runs > 0, "a 60 % flip changes some outcome");
    for o in flips {
        for d in [
            Detector::RlaBravo,
            Detector::RlaComparison,
            Detector::RlaAlpha,
            Detector::RlaAlphaComparison,
        ] {
            let r = read(o, d);
            assert_eq!(r.found, r.wrong, "{d:?}: {r:?}");
        }
    }
}

#[test]
fn audit_readings_are_the_same_at_one_and_two_threads() {
    let vs = variant("flips", "vvpat = { look_rate = 0.2 }", FLIP);
    let s = tutorial_with("", &vs);
    let a = on_threads(1, || run(&s, 5, 0..4));
    let b = on_threads(2, || run(&s, 5, 0..4));
    for (x, y) in a.iter().flatten().zip(b.iter().flatten()) {
        assert_eq!(x.detectors, y.detectors);
    }
    let any = a
        .iter()
        .flatten()
        .any(|o| o.detectors[Detector::RlaBravo].value.is_some());
    assert!(any);
}

#[test]
fn the_vvpat_scenario_is_kazakhstan_up_to_its_fraud_variants() {
    let kz = std::fs::read_to_string(scenario("kazakhstan-2004.toml")).expect("bundled");
    let vv = std::fs::read_to_string(scenario("kazakhstan-2004-vvpat.toml")).expect("bundled");
    let cut = "# Fraud variants for the 2004 allegations";
    let kz_head = &kz[..kz.find(cut).expect("marker")];
    let audits = "rla_risk_limit = 0.05";
    let vv_body: String = vv
        .lines()
        .skip_while(|l| !l.starts_with("# Kazakhstan, Majilis"))
        .filter(|l| !l.starts_with(audits))
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(vv_body.starts_with(kz_head), "the shared part drifted");
    let s = tamga::scenario::parse(&vv, "kazakhstan-2004-vvpat.toml").expect("valid");
    assert_eq!(s.detectors.rla_risk_limit, Some(0.05));
    let names: Vec<&str> = s.variants.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "official",
            "exit-poll",
            "vvpat",
            "vvpat-stuffing-and-machines",
            "vvpat-hidden-flips",
            "vvpat-protocols"
        ]
    );
    assert!(s.variants[2].model.vvpat.is_some() && s.variants[1].model.vvpat.is_none());
    let hidden = s.variants[4].model.vvpat.expect("inherited");
    assert_eq!(hidden.rigged_prints, tamga::model::RiggedPrint::Chosen);
    assert_eq!(
        hidden.look_rate, 0.5,
        "merged key by key with `vvpat`'s table"
    );
}
