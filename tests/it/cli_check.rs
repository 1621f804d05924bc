//! `tamga check` and the scenario reader's messages on input a user gets wrong: a syntax error
//! keeps its caret diagram (cut around the place on a long line), `--json` gives JSON whatever
//! the failure, a bare date gets a hint, a value one letter off gets a "did you mean", and no
//! problem is reported that is only a consequence of another (a NaN share is not also
//! "missing", an unknown fraud kind does not make its keys "unknown", no parties gives no list
//! of nothing); reported figures of a tier the system lacks are refused.

use crate::common::{TUTORIAL, tamga};
use crate::scenario_check::mutate as edit;
use tamga::scenario::{MAX_SCENARIO_BYTES, ScenarioError, parse};

/// Every problem as `path: message — hint`.
fn problems(text: &str) -> Vec<String> {
    match parse(text, "t.toml") {
        Ok(_) => panic!("scenario unexpectedly valid"),
        Err(ScenarioError::Invalid { problems, .. }) => {
            problems.iter().map(|p| p.to_string()).collect()
        }
        Err(e) => panic!("not a list of problems: {e}"),
    }
}

#[test]
fn syntax_error_keeps_its_caret_under_the_place() {
    let text = edit(&[("seats = 20", "seats = = 20")]);
    let err = parse(&text, "t.toml").unwrap_err();
    let ScenarioError::Syntax { line, column, .. } = &err else {
        panic!("{err}")
    };
    let shown = err.to_string();
    let lines: Vec<&str> = shown.lines().collect();
    assert_eq!(lines.len(), 4, "{shown}");
    assert!(lines[0].starts_with(&format!(
        "t.toml is not valid TOML at line {line}, column {column}"
    )));
    let source_line = TUTORIAL.lines().position(|l| l == "seats = 20").unwrap() + 1;
    assert_eq!(*line, source_line);
    assert_eq!(lines[2], format!("{source_line} | seats = = 20"));
    // the caret sits under the second `=`
    let bar = lines[2].find('|').unwrap();
    let caret = lines[3].find('^').unwrap();
    assert_eq!(&lines[2][caret..caret + 1], "=");
    assert_eq!(caret - bar - 2, column - 1);
}

#[test]
fn syntax_error_on_a_10kb_line_is_cut_around_the_place() {
    let long = "x".repeat(10_000);
    let text = edit(&[("[election]", &format!("[election]\nnote = \"{long}\" = 3"))]);
    let err = parse(&text, "t.toml").unwrap_err().to_string();
    assert!(err.len() < 600, "{} bytes: {err}", err.len());
    assert!(err.contains("column 10011"), "{err}");
    assert!(
        err.contains("a line of 10013 bytes, cut around the place"),
        "{err}"
    );
    let lines: Vec<&str> = err.lines().collect();
    let caret = lines[3].find('^').unwrap();
    // the caret is under the stray `=` after the closing quote
    let excerpt: Vec<char> = lines[2].chars().collect();
    let bar = lines[2].find('|').unwrap();
    let caret_chars = lines[3][..caret].chars().count();
    assert_eq!(excerpt[caret_chars - 1], ' ', "{err}");
    assert_eq!(excerpt[caret_chars], '=', "{err}");
    assert!(bar < caret);
}

#[test]
fn check_json_gives_json_for_text_that_is_not_toml() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.toml");
    std::fs::write(&path, edit(&[("seats = 20", "seats = = 20")])).unwrap();
    let out = tamga()
        .arg("check")
        .arg("--json")
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {:?}", out.stdout));
    assert_eq!(doc["valid"], false);
    let p = &doc["problems"][0];
    assert!(
        p["message"].as_str().unwrap().contains("not valid TOML"),
        "{doc}"
    );
    assert!(p["line"].as_u64().unwrap() > 1);
    assert_eq!(p["column"], 9);

    // a file that cannot be read at all: JSON too
    let out = tamga()
        .arg("check")
        .arg("--json")
        .arg(dir.path().join("absent.toml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["valid"], false);
    assert!(
        doc["problems"][0]["message"]
            .as_str()
            .unwrap()
            .contains("absent.toml")
    );
}

#[test]
fn scenario_that_is_a_directory_or_too_large_is_refused_before_reading() {
    let dir = tempfile::tempdir().unwrap();
    let out = tamga().arg("check").arg(dir.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("it is a directory"), "{err}");

    let big = dir.path().join("big.toml");
    let f = std::fs::File::create(&big).unwrap();
    f.set_len(MAX_SCENARIO_BYTES + 1).unwrap(); // sparse: no disk used
    let out = tamga().arg("check").arg(&big).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("larger than 16777216 bytes"), "{err}");
}

#[test]
fn bare_date_gets_a_hint_to_quote_it() {
    let ps = problems(&edit(&[("[election]", "[election]\ndate = 2004-09-19")]));
    assert!(
        ps.iter().any(
            |p| p.starts_with("election.date: expected a string, found a date")
                && p.contains("date = \"2004-09-19\"")
        ),
        "{ps:#?}"
    );
}

#[test]
fn nan_share_is_one_problem_not_also_missing() {
    let ps = problems(&edit(&[("urban = { blue = 0.40", "urban = { blue = nan")]));
    assert_eq!(ps.len(), 1, "{ps:#?}");
    assert!(ps[0].starts_with("preferences.urban.blue: must be a finite number"));
    // a share that is really missing is still reported
    let ps = problems(&edit(&[("urban = { blue = 0.40, ", "urban = { ")]));
    assert!(
        ps.iter().any(|p| p.contains("blue: missing share")),
        "{ps:#?}"
    );
}

#[test]
fn no_parties_gives_no_empty_list_of_ids() {
    let mut text = TUTORIAL.to_string();
    for (id, name) in [("blue", "Blue"), ("green", "Green"), ("red", "Red")] {
        let party = format!("[[party]]\nid = \"{id}\"\nname = \"{name} Party\"\n");
        assert!(
            text.contains(&party),
            "fixture edit not applicable: {party}"
        );
        text = text.replacen(&party, "", 1);
    }
    let ps = problems(&text);
    assert!(
        ps.iter().any(|p| p.starts_with("party: no parties")),
        "{ps:#?}"
    );
    for p in &ps {
        assert!(!p.trim_end().ends_with("use one of:"), "{p}");
        assert!(
            !p.contains("is not a party id"),
            "a consequence of no parties: {p}"
        );
        assert!(
            !p.contains("shares add up"),
            "a consequence of no parties: {p}"
        );
    }
}

#[test]
fn did_you_mean_for_values() {
    let ps = problems(&edit(&[("urban = { blue = 0.40", "urban = { Blue = 0.40")]));
    assert!(
        ps.iter().any(
            |p| p.starts_with("preferences.urban.Blue: `Blue` is not a party id")
                && p.contains("did you mean `blue`?")
        ),
        "{ps:#?}"
    );
    let fraud = "\n[[fraud]]\nkind = \"stufing\"\nbeneficiary = \"Red\"\nrate = 0.1\n";
    let ps = problems(&(TUTORIAL.replacen("[[variant]]", &format!("{fraud}\n[[variant]]"), 1)));
    assert!(
        ps.iter()
            .any(|p| p.contains("`stufing` is not a fraud model")
                && p.contains("did you mean `stuffing`?")),
        "{ps:#?}"
    );
    assert!(
        ps.iter()
            .any(|p| p.contains("`Red` is not a party id") && p.contains("`red`")),
        "{ps:#?}"
    );
    // far from every choice: the list, no guess
    let ps = problems(&edit(&[(
        "urban = { blue = 0.40",
        "urban = { zzzzzzzz = 0.40",
    )]));
    assert!(
        ps.iter().any(|p| p.contains("`zzzzzzzz` is not a party id")
            && p.contains("use one of: blue, green, red")
            && !p.contains("did you mean")),
        "{ps:#?}"
    );
}

#[test]
fn unknown_fraud_kind_does_not_make_its_keys_unknown() {
    let fraud = "\n[[fraud]]\nkind = \"stufing\"\nbeneficiary = \"red\"\nrate = 0.1\nchannel = \"ballot\"\n";
    let ps = problems(&TUTORIAL.replacen("[[variant]]", &format!("{fraud}\n[[variant]]"), 1));
    assert_eq!(ps.len(), 1, "{ps:#?}");
    assert!(ps[0].contains("is not a fraud model"), "{ps:#?}");
}

#[test]
fn reported_figures_of_a_missing_tier_are_refused() {
    // a list-only tutorial: no district tier, no districts, no district candidates
    let text = edit(&[
        ("[system.districts]\nrule = \"plurality\"\n", ""),
        (
            "districts = 2\nstations = 20",
            "districts = 0\nstations = 20",
        ),
        (
            "districts = 2\nstations = 40",
            "districts = 0\nstations = 40",
        ),
        (
            "list_seats = { blue = 9, green = 5, red = 6 }\ndistrict_seats = { blue = 3, red = 1 }\ntotal_seats = { blue = 12, green = 5, red = 7 }\n",
            "list_seats = { blue = 9, green = 5, red = 6 }\ndistrict_seats = { blue = 3, red = 1 }\n",
        ),
    ]);
    let ps = problems(&text);
    assert!(
        ps.iter()
            .any(|p| p.starts_with("reported.district_seats: the system has no district tier")),
        "{ps:#?}"
    );
    assert!(
        !ps.iter().any(|p| p.starts_with("reported.list_seats")),
        "{ps:#?}"
    );
}

#[test]
fn long_keys_and_values_are_cut_in_problems() {
    let key = "k".repeat(10_000);
    let ps = problems(&edit(&[("[election]", &format!("[election]\n{key} = 1"))]));
    for p in &ps {
        assert!(p.len() < 800, "{} bytes: {}", p.len(), &p[..200]);
    }
    assert!(
        ps.iter()
            .any(|p| p.contains("(10009 bytes)") || p.contains("(10000 bytes)")),
        "{ps:#?}"
    );
    let value = "v".repeat(10_000);
    let ps = problems(&edit(&[(
        "urban = { blue = 0.40",
        &format!("urban = {{ {value} = 0.40"),
    )]));
    for p in &ps {
        assert!(p.len() < 800, "{} bytes", p.len());
    }
}

/// A reader that goes away (`tamga check … | head -c0`) ends tamga by SIGPIPE, as it does other
/// Unix tools: never a `println!` panic (exit 101, "failed printing to stdout").
#[cfg(unix)]
#[test]
fn a_closed_stdout_ends_tamga_quietly_not_with_a_panic() {
    use std::os::unix::process::ExitStatusExt;
    use std::process::{Command, Stdio};
    // a pipe whose read end is closed before tamga starts
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = Command::new(crate::common::BIN)
        .arg("check")
        .arg(crate::common::tutorial())
        .stdout(Stdio::from(writer))
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(
        out.status.signal(),
        Some(libc::SIGPIPE),
        "{:?}: {err}",
        out.status
    );
}
