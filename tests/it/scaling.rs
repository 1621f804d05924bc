//! No quadratic path in `check` and `seats`: eight times the input must take less than 24 times
//! as long (best of 3 runs of the real binary each, so that one slow run on a busy machine does
//! not decide). A linear path takes about eight times as long, a quadratic one 64 times: the
//! wide gap keeps a loaded machine from failing a linear path (four times the input against ten
//! times the time failed once at 10.2× under load) while a quadratic one still fails by far —
//! before the fixes, `check` with 200,000 unknown keys and `seats --explain` with 100,000
//! parties each took more than a minute. Measured numbers are in docs/BENCHMARKS.md.

use crate::common::{BIN, tutorial};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

fn best_of_3(args: &[&str], file: &Path) -> Duration {
    (0..3)
        .map(|_| {
            let started = Instant::now();
            let out = Command::new(BIN).args(args).arg(file).output().unwrap();
            let took = started.elapsed();
            // the command ran to its end (2: the scenario has problems, as intended)
            assert!(matches!(out.status.code(), Some(0 | 2)), "{out:?}");
            took
        })
        .min()
        .unwrap()
}

fn at_most_linear(what: &str, small: Duration, large: Duration) {
    eprintln!("{what}: {small:?} for n, {large:?} for 8n");
    assert!(
        large < small * 24,
        "{what}: 8× the input took {:.1}× as long ({small:?} → {large:?})",
        large.as_secs_f64() / small.as_secs_f64()
    );
}

#[test]
fn check_with_8x_the_unknown_keys_takes_less_than_24x_the_time() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(tutorial()).unwrap();
    let file = |n: usize| {
        let path = dir.path().join(format!("keys-{n}.toml"));
        let keys: String = (0..n).map(|i| format!("bogus_{i} = 1\n")).collect();
        std::fs::write(&path, keys + &text).unwrap();
        path
    };
    let (small, large) = (file(12_500), file(100_000));
    at_most_linear(
        "check, unknown keys",
        best_of_3(&["check"], &small),
        best_of_3(&["check"], &large),
    );
}

#[test]
fn seats_explained_with_8x_the_parties_takes_less_than_24x_the_time() {
    let dir = tempfile::tempdir().unwrap();
    let file = |n: u64| {
        let path = dir.path().join(format!("parties-{n}.csv"));
        let rows: String = (0..n)
            .map(|i| format!("p{i},{}\n", 1_000 + (i * 7_919) % 1_000_003))
            .collect();
        std::fs::write(&path, format!("party,votes\n{rows}")).unwrap();
        path
    };
    let (small, large) = (file(12_500), file(100_000));
    for method in ["dhondt", "sainte_lague", "hare"] {
        let args = [
            "seats",
            "--method",
            method,
            "--seats",
            "100000",
            "--explain",
            "--lot",
            "1",
        ];
        at_most_linear(
            &format!("seats --explain --method {method}"),
            best_of_3(&args, &small),
            best_of_3(&args, &large),
        );
    }
}
