//! Numeric options given negative, fractional or absurd values: a clear message naming the
//! option and what to give (exit 2), never clap's "unexpected argument '-0'".

use crate::common::{tamga, tutorial};

/// Runs `tamga ARGS` and returns stderr, requiring exit 2 and no output file.
fn refused(args: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let o = tamga().args(args).arg("--out").arg(&out).output().unwrap();
    assert_eq!(o.status.code(), Some(2), "{args:?}");
    assert!(!out.exists(), "{args:?} wrote {}", out.display());
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(!err.contains("unexpected argument"), "{args:?}: {err}");
    err
}

#[test]
fn negative_receipt_rate_is_a_share_out_of_range() {
    let t = tutorial();
    let t = t.to_str().unwrap();
    for rate in ["-0.1", "-1", "1.5", "nan"] {
        let err = refused(&["simulate", t, "--receipt-rate", rate]);
        assert!(
            err.contains("--receipt-rate must be between 0 and 1")
                && err.to_lowercase().contains(rate),
            "{rate}: {err}"
        );
    }
}

#[test]
fn negative_and_fractional_counts_say_what_is_expected() {
    let t = tutorial();
    let t = t.to_str().unwrap();
    for (args, option, why) in [
        (vec!["run", t, "--runs", "-5"], "--runs", "negative"),
        (
            vec!["run", t, "--runs", "2.5"],
            "--runs",
            "not a whole number",
        ),
        (vec!["run", t, "--seed", "-1"], "--seed", "negative"),
        (vec!["run", t, "--threads", "-2"], "--threads", "negative"),
        (
            vec!["run", t, "--runs", "99999999999"],
            "--runs",
            "too large",
        ),
        (vec!["simulate", t, "--seed", "-3"], "--seed", "negative"),
        (
            vec!["merge", "part.json", "--verify", "-1"],
            "--verify",
            "negative",
        ),
    ] {
        let err = refused(&args);
        assert!(err.contains(option) && err.contains(why), "{args:?}: {err}");
    }
}
