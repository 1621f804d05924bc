//! Bad scenarios: each mutation of the tutorial scenario must be reported with its path in the
//! file, all problems at once, and `tamga check` must exit 2 with the list on stderr.

use crate::common::TUTORIAL;
use tamga::scenario::{ScenarioError, parse};

/// Applies `(find, replace)` edits to the tutorial scenario; each `find` must occur.
pub(crate) fn mutate(edits: &[(&str, &str)]) -> String {
    let mut s = TUTORIAL.to_string();
    for (find, replace) in edits {
        assert!(s.contains(find), "fixture edit not applicable: {find}");
        s = s.replacen(find, replace, 1);
    }
    s
}

/// Parses and returns `path: message` lines of every problem (fails if the text is valid).
fn problems(text: &str) -> Vec<String> {
    match parse(text, "test.toml") {
        Ok(_) => panic!("scenario unexpectedly valid"),
        Err(ScenarioError::Invalid { problems, .. }) => problems
            .iter()
            .map(|p| format!("{}: {}", p.path, p.message))
            .collect(),
        Err(e) => vec![e.to_string()],
    }
}

fn assert_reports(text: &str, expected_path: &str, expected_words: &str) {
    let ps = problems(text);
    assert!(
        ps.iter()
            .any(|p| p.starts_with(expected_path) && p.contains(expected_words)),
        "expected a problem at `{expected_path}` mentioning `{expected_words}`, got:\n{}",
        ps.join("\n")
    );
}

#[test]
fn tutorial_is_valid() {
    let s = parse(TUTORIAL, "tutorial.toml").expect("tutorial is valid");
    assert_eq!(s.parties.len(), 3);
    assert_eq!(s.variants.len(), 2);
}

#[test]
fn unknown_key_with_suggestion() {
    let text = mutate(&[("station_sd = 0.3", "staton_sd = 0.3")]);
    let err = parse(&text, "t").unwrap_err().to_string();
    assert!(err.contains("turnout.staton_sd: unknown key"), "{err}");
    assert!(err.contains("did you mean `station_sd`"), "{err}");
}

#[test]
fn wrong_type() {
    assert_reports(
        &mutate(&[("seats = 20", "seats = \"twenty\"")]),
        "system.list.seats",
        "expected a whole number, found a string",
    );
}

#[test]
fn out_of_range_turnout() {
    assert_reports(
        &mutate(&[("urban = 0.55", "urban = 1.7")]),
        "turnout.urban",
        "out of range",
    );
}

#[test]
fn shares_that_do_not_sum() {
    assert_reports(
        &mutate(&[(
            "urban = { blue = 0.40, green = 0.35, red = 0.25 }",
            "urban = { blue = 0.40, green = 0.35, red = 0.35 }",
        )]),
        "preferences.urban",
        "add up to 1.1",
    );
}

#[test]
fn missing_party_share() {
    assert_reports(
        &mutate(&[(
            "rural = { blue = 0.50, green = 0.15, red = 0.35 }",
            "rural = { blue = 0.65, red = 0.35 }",
        )]),
        "preferences.rural.green",
        "missing share",
    );
}

#[test]
fn unknown_party_id_in_shares() {
    assert_reports(
        &mutate(&[(
            "preference_shift = { green = 0.3 }",
            "preference_shift = { purple = 0.3 }",
        )]),
        "region[0].preference_shift.purple",
        "not a party id",
    );
}

#[test]
fn reported_district_seats_do_not_add_up() {
    assert_reports(
        &mutate(&[
            (
                "district_seats = { blue = 3, red = 1 }",
                "district_seats = { blue = 4, red = 1 }",
            ),
            (
                "total_seats = { blue = 12, green = 5, red = 7 }",
                "total_seats = { blue = 13, green = 5, red = 7 }",
            ),
        ]),
        "reported.district_seats",
        "add up to 5, but the regions have 4 districts",
    );
}

#[test]
fn reported_round1_seats_and_runoffs() {
    let district = "district_seats = { blue = 3, red = 1 }";
    // more round-1 winners than district seats
    assert_reports(
        &mutate(&[(
            district,
            "district_seats = { blue = 3, red = 1 }\nround1_seats = { red = 2 }",
        )]),
        "reported.round1_seats.red",
        "2 won in round 1, but only 1 district seats",
    );
    // round-1 seats and runoffs that do not cover the districts
    assert_reports(
        &mutate(&[(
            district,
            "district_seats = { blue = 3, red = 1 }\nround1_seats = { blue = 2 }\nrunoffs = 1",
        )]),
        "reported.runoffs",
        "2 districts won in round 1 and 1 runoffs make 3, but the regions have 4 districts",
    );
    // consistent figures are accepted
    let ok = mutate(&[(
        district,
        "district_seats = { blue = 3, red = 1 }\nround1_seats = { blue = 2, red = 1 }\nrunoffs = 1",
    )]);
    assert!(parse(&ok, "test.toml").is_ok());
}

#[test]
fn reported_list_seats_do_not_add_up() {
    assert_reports(
        &mutate(&[(
            "list_seats = { blue = 9, green = 5, red = 6 }",
            "list_seats = { blue = 9, green = 5, red = 7 }",
        )]),
        "reported.list_seats",
        "add up to 21",
    );
}

#[test]
fn totals_inconsistent_with_tiers() {
    assert_reports(
        &mutate(&[(
            "total_seats = { blue = 12, green = 5, red = 7 }",
            "total_seats = { blue = 11, green = 5, red = 7 }",
        )]),
        "reported.total_seats.blue",
        "list 9 + district 3 = 12",
    );
}

#[test]
fn more_districts_than_stations() {
    assert_reports(
        &mutate(&[(
            "districts = 2\nstations = 20",
            "districts = 30\nstations = 20",
        )]),
        "region[0].districts",
        "30 districts but only 20 stations",
    );
}

#[test]
fn more_stations_than_voters() {
    assert_reports(
        &mutate(&[(
            "registered = 25000\ndistricts = 2\nstations = 20\nurban = 1.0\nevoting = 0.5                 #",
            "registered = 10\ndistricts = 2\nstations = 20\nurban = 1.0\nevoting = 0.5                 #",
        )]),
        "region[0].stations",
        "20 stations for 10 registered voters",
    );
}

#[test]
fn unknown_method() {
    assert_reports(
        &mutate(&[("method = \"dhondt\"", "method = \"borda\"")]),
        "system.list.method",
        "borda",
    );
}

#[test]
fn bad_threshold() {
    assert_reports(
        &mutate(&[("threshold = \"5%\"", "threshold = \"150%\"")]),
        "system.list.threshold",
        "",
    );
}

#[test]
fn duplicate_party_id() {
    assert_reports(
        &mutate(&[("id = \"green\"", "id = \"blue\"")]),
        "party[1].id",
        "used twice",
    );
}

#[test]
fn duplicate_variant_name() {
    assert_reports(
        &mutate(&[("name = \"green-surge\"", "name = \"honest\"")]),
        "variant[1].name",
        "defined twice",
    );
}

#[test]
fn problem_inside_a_variant_is_prefixed() {
    assert_reports(
        &mutate(&[(
            "preference_shift = { green = 0.8 }",
            "preference_shift = { green = 80 }",
        )]),
        "variant[1] (green-surge): region[0].preference_shift.green",
        "out of range",
    );
}

#[test]
fn variant_cannot_override_parties() {
    let text = format!("{TUTORIAL}\n[[variant]]\nname = \"x\"\nmontecarlo = {{ runs = 3 }}\n");
    assert_reports(&text, "variant[2].montecarlo", "cannot be overridden");
}

#[test]
fn calibration_without_reported_figures() {
    let text = mutate(&[(
        "station_sd = 0.3\n",
        "station_sd = 0.3\ncalibrate_to_reported = true\n",
    )])
    .replace("ballots = 36000\n", "");
    assert_reports(
        &text,
        "turnout.calibrate_to_reported",
        "no reported turnout",
    );
}

#[test]
fn unsupported_format_version() {
    assert_reports(
        &mutate(&[("format = 1", "format = 7")]),
        "format",
        "not supported",
    );
}

#[test]
fn negative_count() {
    assert_reports(
        &mutate(&[("registered = 35000", "registered = -35000")]),
        "region[1].registered",
        "negative",
    );
}

#[test]
fn every_problem_is_listed_at_once() {
    let text = mutate(&[
        ("station_sd = 0.3", "staton_sd = 0.3"),
        ("seats = 20", "seats = 0"),
        ("urban = 0.55", "urban = 2"),
        ("id = \"green\"", "id = \"blue\""),
    ]);
    let ps = problems(&text);
    for want in [
        "turnout.staton_sd",
        "system.list.seats",
        "turnout.urban",
        "party[1].id",
    ] {
        assert!(
            ps.iter().any(|p| p.starts_with(want)),
            "missing {want} in {ps:#?}"
        );
    }
}

#[test]
fn toml_syntax_error_names_the_file() {
    let err = parse("format = 1\n[election\n", "broken.toml")
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("broken.toml is not valid TOML"), "{err}");
}

const FRAUD_VARIANT: &str = r#"
[[variant]]
name = "fraud"
extends = "honest"
[[variant.fraud]]
kind = "stuffing"
beneficiary = "red"
rate = 0.2
"#;

#[test]
fn fraud_variant_is_valid_and_compared_with_the_variant_it_extends() {
    let s = parse(&format!("{TUTORIAL}{FRAUD_VARIANT}"), "t").unwrap();
    let i = s.variants.iter().position(|v| v.name == "fraud").unwrap();
    assert!(!s.variants[i].is_honest());
    assert_eq!(s.baseline_of(i), Some(0));
}

#[test]
fn unknown_fraud_kind() {
    let text = format!(
        "{TUTORIAL}{}",
        FRAUD_VARIANT.replace("\"stuffing\"", "\"bribery\"")
    );
    assert_reports(
        &text,
        "variant[2] (fraud): fraud[0].kind",
        "not a fraud model",
    );
}

#[test]
fn klimek_turnout_bias_out_of_range_is_named() {
    let klimek = FRAUD_VARIANT.replace(
        "kind = \"stuffing\"\nbeneficiary = \"red\"\nrate = 0.2",
        "kind = \"klimek\"\nbeneficiary = \"red\"\nincremental = 0.3\nturnout_bias = 7.5",
    );
    assert!(
        klimek.contains("turnout_bias"),
        "fixture edit not applicable"
    );
    assert_reports(
        &format!("{TUTORIAL}{klimek}"),
        "variant[2] (fraud): fraud[0].turnout_bias",
        "out of range",
    );
    let fine = klimek.replace("7.5", "2.5");
    let s = parse(&format!("{TUTORIAL}{fine}"), "t").expect("turnout_bias 2.5 is valid");
    let v = s.variants.iter().find(|v| v.name == "fraud").unwrap();
    assert!(matches!(
        v.model.fraud[0].kind,
        tamga::fraud::FraudKind::Klimek { turnout_bias, .. } if turnout_bias == 2.5
    ));
}

#[test]
fn fraud_beneficiary_must_be_a_party() {
    let text = format!(
        "{TUTORIAL}{}",
        FRAUD_VARIANT.replace("\"red\"", "\"purple\"")
    );
    assert_reports(
        &text,
        "variant[2] (fraud): fraud[0].beneficiary",
        "not a party id",
    );
}

#[test]
fn baseline_must_be_honest() {
    let text = format!(
        "{TUTORIAL}{FRAUD_VARIANT}\n[[variant]]\nname = \"other\"\nbaseline = \"fraud\"\n[[variant.fraud]]\nkind = \"pressure\"\nbeneficiary = \"blue\"\nshare = 0.1\n"
    );
    assert_reports(&text, "variant[3].baseline", "has fraud models");
}

#[test]
fn extends_must_name_an_earlier_variant() {
    let text = format!(
        "{TUTORIAL}{}",
        FRAUD_VARIANT.replace("extends = \"honest\"", "extends = \"later\"")
    );
    assert_reports(
        &text,
        "variant[2].extends",
        "no variant `later` defined before",
    );
}

#[test]
fn region_tilt_must_name_a_party() {
    let text = mutate(&[(
        "preference_shift = { green = 0.3 }\n",
        "preference_shift = { green = 0.3 }\ntilt = { party = \"grene\", slope = -0.5 }\n",
    )]);
    assert_reports(&text, "region[0].tilt.party", "`grene` is not a party id");
}

#[test]
fn region_tilt_slope_out_of_range() {
    let text = mutate(&[(
        "preference_shift = { green = 0.3 }\n",
        "preference_shift = { green = 0.3 }\ntilt = { party = \"green\", slope = 7.5 }\n",
    )]);
    assert_reports(&text, "region[0].tilt.slope", "7.5 is out of range");
    let text = mutate(&[(
        "preference_shift = { green = 0.3 }\n",
        "preference_shift = { green = 0.3 }\ntilt = { party = \"green\" }\n",
    )]);
    assert_reports(&text, "region[0].tilt", "slope");
    let text = mutate(&[(
        "station_sd = 0.2\n",
        "station_sd = 0.2\ntilt = { party = \"purple\", slope = 1.0 }\n",
    )]);
    assert_reports(
        &text,
        "preferences.tilt.party",
        "`purple` is not a party id",
    );
}
