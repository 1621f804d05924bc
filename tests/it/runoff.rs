//! A two-round district: votes of the eliminated candidate's supporters transfer by appeal and
//! can overturn the round-1 order.

use crate::common::run;

const SCENARIO: &str = r#"
format = 1
[election]
name = "one district"
[[party]]
id = "a"
[[party]]
id = "b"
[[party]]
id = "c"
[system.districts]
rule = "absolute_majority"
[[region]]
name = "only"
registered = 20000
districts = 1
stations = 10
urban = 0.0
[turnout]
urban = 0.5
rural = 0.5
[preferences]
urban = { a = 0.45, b = 0.35, c = 0.20 }
rural = { a = 0.45, b = 0.35, c = 0.20 }
[candidates]
loyalty = 1.0
[candidates.party.a]
appeal_median = 1.0
[candidates.party.b]
appeal_median = 9.0
[candidates.party.c]
appeal_median = 1.0
[runoff]
turnout_ratio = 1.0
"#;

#[test]
fn eliminated_supporters_transfer_and_decide_the_runoff() {
    let s = tamga::scenario::parse(SCENARIO, "inline").unwrap();
    let out = run(&s, 5, 0..20);
    for o in &out[0] {
        // round 1: a ≈ 45%, b ≈ 35%: always a runoff; c's voters go 9:1 to b, who then wins
        // with ≈ 53% (a ≈ 47%)
        assert_eq!(o.reported.runoffs, 1, "run {}", o.run);
        assert_eq!(o.reported.district_seats, vec![0, 1, 0, 0], "run {}", o.run);
    }
}
