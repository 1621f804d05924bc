//! `tamga infer --checkpoint`: a run stopped by its budget, by Ctrl-C or by a kill and taken up
//! again gives the uninterrupted run's text, JSON and page byte for byte, on the scenario path
//! and with `--from-stations`; a checkpoint of other arguments or files, or a truncated or
//! corrupt one, is refused by name and left as it was.

use crate::common::{BIN, TUTORIAL, root, tamga};
use crate::infer::INFERENCE;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

/// The tutorial with candidate mechanisms, written to `dir`.
fn scenario(dir: &Path) -> PathBuf {
    let path = dir.join("t.toml");
    std::fs::write(&path, format!("{TUTORIAL}{INFERENCE}")).unwrap();
    path
}

fn stations() -> PathBuf {
    root().join("scenarios/tutorial-fraud-stations.csv")
}

/// `tamga infer` with `args` and the options every run here shares.
fn infer(args: &[&str], extra: &[&Path]) -> Output {
    let mut cmd = tamga();
    cmd.arg("infer").args(args);
    for p in extra {
        cmd.arg(p);
    }
    cmd.output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// What a run printed and wrote: its stdout, and the JSON and page of `--out`.
fn result(o: &Output, out: &Path) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    (
        o.stdout.clone(),
        std::fs::read(out).expect("JSON written"),
        std::fs::read(out.with_extension("html")).expect("page written"),
    )
}

/// The generations and simulations a checkpoint holds.
fn held(path: &Path) -> (usize, u64) {
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let body = &v["body"];
    (
        body["generations"].as_array().unwrap().len(),
        body["simulations"].as_u64().unwrap(),
    )
}

/// A run ended by a small budget and continued under the full one, in steps, gives the text,
/// JSON and page of the straight run; each step starts where the checkpoint stands.
fn continued_in_steps_is_the_straight_run(source: &[&str], steps: &[&str], full: &str, kind: &str) {
    let dir = tempfile::tempdir().unwrap();
    let common = ["--particles", "60", "--threads", "1"];
    let straight_out = dir.path().join("straight.json");
    let args: Vec<&str> = [source, &common, &["--budget", full, "--out"]].concat();
    let o = infer(&args, &[&straight_out]);
    assert!(o.status.code().is_some_and(|c| c < 2), "{}", stderr(&o));
    let straight = result(&o, &straight_out);
    let ck = dir.path().join("ck.json");
    let mut before = (0, 0);
    for (i, budget) in steps.iter().enumerate() {
        let args: Vec<&str> = [source, &common, &["--budget", budget, "--checkpoint"]].concat();
        let o = infer(&args, &[&ck]);
        assert!(o.status.code().is_some_and(|c| c < 2), "{}", stderr(&o));
        let now = held(&ck);
        assert!(
            now.0 > before.0,
            "{kind}, step {i}: {now:?} after {before:?}"
        );
        if i > 0 {
            assert!(
                stderr(&o).contains(&format!(
                    "continuing from the checkpoint {}: {} complete generation{}, {} simulated elections",
                    ck.display(),
                    before.0,
                    if before.0 == 1 { "" } else { "s" },
                    before.1
                )),
                "{}",
                stderr(&o)
            );
        }
        before = now;
    }
    // the last step: the full budget, at another thread count
    let resumed_out = dir.path().join("resumed.json");
    let args: Vec<&str> = [
        source,
        &["--particles", "60", "--threads", "2", "--budget", full],
        &["--checkpoint", ck.to_str().unwrap(), "--out"],
    ]
    .concat();
    let o = infer(&args, &[&resumed_out]);
    assert!(
        stderr(&o).contains("continuing from the checkpoint"),
        "{}",
        stderr(&o)
    );
    let resumed = result(&o, &resumed_out);
    assert!(straight.0 == resumed.0, "{kind}: the text differs");
    assert!(straight.1 == resumed.1, "{kind}: the JSON differs");
    assert!(straight.2 == resumed.2, "{kind}: the page differs");
    // and a finished run's checkpoint gives the same result again (as JSON)
    let json_args: Vec<&str> = [
        source,
        &common,
        &[
            "--budget",
            full,
            "--json",
            "--checkpoint",
            ck.to_str().unwrap(),
        ],
    ]
    .concat();
    let again = infer(&json_args, &[]);
    assert!(again.stdout == straight.1, "{kind}: again");
}

#[test]
fn a_run_continued_after_its_budget_is_the_straight_run_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let path = scenario(dir.path());
    let source = [path.to_str().unwrap(), "--fraud", "none,stuffing"];
    continued_in_steps_is_the_straight_run(&source, &["300", "700"], "2000", "scenario");
}

#[test]
fn a_fit_from_stations_continued_is_the_straight_run_byte_for_byte() {
    let csv = stations();
    let source = ["--from-stations", csv.to_str().unwrap()];
    continued_in_steps_is_the_straight_run(&source, &["300", "700", "1200"], "3000", "stations");
}

/// The arguments of a run long enough to be interrupted (≈ 3 s at one thread; its first
/// generation is written after ≈ 0.05 s).
fn long_run(scenario: &Path) -> Vec<String> {
    [
        "infer",
        scenario.to_str().unwrap(),
        "--fraud",
        "none,stuffing",
        "--particles",
        "800",
        "--budget",
        "200000",
        "--threads",
        "1",
        "--json",
    ]
    .map(String::from)
    .to_vec()
}

/// Ctrl-C (SIGINT) and a kill that cannot be caught (SIGKILL, a job killed or out of time)
/// once the first generation is written: the checkpoint stays whole, and the same command run
/// again finishes with the straight run's JSON.
#[cfg(unix)]
#[test]
fn an_interrupted_or_killed_run_continues_to_the_straight_result() {
    let dir = tempfile::tempdir().unwrap();
    let path = scenario(dir.path());
    let straight = tamga().args(long_run(&path)).output().unwrap();
    assert_eq!(straight.status.code(), Some(0), "{}", stderr(&straight));
    for signal in [libc::SIGINT, libc::SIGKILL] {
        let ck = dir.path().join(format!("ck-{signal}.json"));
        let mut child = std::process::Command::new(BIN)
            .args(long_run(&path))
            .arg("--checkpoint")
            .arg(&ck)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let t = Instant::now();
        while !ck.exists() {
            assert!(t.elapsed() < Duration::from_secs(60), "no checkpoint");
            std::thread::sleep(Duration::from_millis(5));
        }
        assert!(child.try_wait().unwrap().is_none(), "finished too early");
        // SAFETY: signalling our own child.
        unsafe { libc::kill(child.id() as libc::pid_t, signal) };
        let o = child.wait_with_output().unwrap();
        assert!(o.stdout.is_empty(), "an interrupted run prints no result");
        if signal == libc::SIGINT {
            assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
            let (g, s) = held(&ck);
            assert!(
                stderr(&o).contains(&format!(
                    "interrupted: nothing written but the checkpoint {} ({g} generation{}, {s} simulated elections); run the same command again to continue",
                    ck.display(),
                    if g == 1 { "" } else { "s" }
                )),
                "{}",
                stderr(&o)
            );
        }
        let (g, _) = held(&ck);
        assert!(g >= 1);
        let resumed = tamga()
            .args(long_run(&path))
            .arg("--checkpoint")
            .arg(&ck)
            .output()
            .unwrap();
        assert_eq!(resumed.status.code(), Some(0), "{}", stderr(&resumed));
        assert!(stderr(&resumed).contains("continuing from the checkpoint"));
        assert!(
            resumed.stdout == straight.stdout,
            "signal {signal}: the JSON differs"
        );
    }
}

/// `tamga infer SCENARIO --fraud FRAUD` with `args`.
fn infer_on(scenario: &Path, fraud: &str, args: &[&str]) -> Output {
    let s = scenario.to_str().unwrap();
    infer(&[&[s, "--fraud", fraud], args].concat(), &[])
}

/// A checkpoint of the tutorial with no fraud and stuffing, 60 particles, a budget of 800.
fn checkpoint_of(dir: &Path, path: &Path) -> PathBuf {
    let ck = dir.join("ck.json");
    let c = ck.to_str().unwrap();
    let args = ["--particles", "60", "--budget", "800", "--checkpoint", c];
    let o = infer_on(path, "none,stuffing", &args);
    assert!(o.status.code().is_some_and(|c| c < 2), "{}", stderr(&o));
    ck
}

/// A refused run: exit 2, no panic, the checkpoint named and left as it was, and `says` in the
/// message.
fn refused(o: &Output, ck: &Path, bytes: &[u8], says: &[&str]) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        err.contains(&format!("--checkpoint {}: ", ck.display())),
        "{err}"
    );
    for s in says {
        assert!(err.contains(s), "{err} does not say {s}");
    }
    assert!(
        std::fs::read(ck).unwrap_or_default() == bytes,
        "{err}: the checkpoint changed"
    );
    assert!(o.stdout.is_empty());
}

#[test]
fn a_checkpoint_of_other_arguments_or_files_is_refused_naming_what_differs() {
    let dir = tempfile::tempdir().unwrap();
    let path = scenario(dir.path());
    let ck = checkpoint_of(dir.path(), &path);
    let bytes = std::fs::read(&ck).unwrap();
    let (_, used) = held(&ck);
    let c = ck.to_str().unwrap();
    // 60 particles, the budget 2000 and the checkpoint, after `extra`
    let with = |extra: &[&str]| -> Vec<String> {
        let base = ["--budget", "2000", "--checkpoint", c];
        let particles = if extra.contains(&"--particles") {
            &[][..]
        } else {
            &["--particles", "60"][..]
        };
        [extra, particles, &base]
            .concat()
            .iter()
            .map(|x| x.to_string())
            .collect()
    };
    let remedy = "continue it with the arguments and files that wrote it, or give another checkpoint file (or delete this one) to start afresh";
    let synthetic = ["--synthetic", "stuffing.rate=0.1"];
    let cases: [(&str, Vec<String>, Vec<&str>); 5] = [
        (
            "none,stuffing",
            with(&["--seed", "7"]),
            vec![
                "was written for another inference: the seed is 42 there and 7 here",
                remedy,
            ],
        ),
        (
            "stuffing",
            with(&[]),
            vec!["the candidate models are `none,stuffing` there and `stuffing` here"],
        ),
        (
            "none,stuffing",
            with(&synthetic),
            vec!["the observed data are `reported` there and `synthetic (reported)` here"],
        ),
        (
            "none,pressure",
            with(&[]),
            vec!["the candidate models are `none,stuffing` there and `none,pressure` here"],
        ),
        (
            "none,stuffing",
            with(&["--particles", "80"]),
            vec!["the particles are 60 there and 80 here"],
        ),
    ];
    for (fraud, args, says) in &cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        refused(&infer_on(&path, fraud, &args), &ck, &bytes, says);
    }
    // the scenario edited (another seed in [montecarlo]; the run's --seed is the same)
    let edited = dir.path().join("edited.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let changed = text.replacen("seed = ", "seed = 1", 1);
    assert_ne!(changed, text);
    std::fs::write(&edited, changed).unwrap();
    let o = infer_on(&edited, "none,stuffing", &["--seed", "42"]);
    assert!(
        o.status.code().is_some_and(|c| c < 2),
        "the edited scenario runs: {}",
        stderr(&o)
    );
    let args: Vec<String> = with(&["--seed", "42"]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = infer_on(&edited, "none,stuffing", &args);
    refused(&o, &ck, &bytes, &["the scenario is `Tutorial` (digest"]);
    // a budget below what the checkpoint used
    let small = (used - 1).to_string();
    let args = ["--particles", "60", "--budget", &small, "--checkpoint", c];
    let says = format!(
        "has used {used} simulations already, more than the budget of {small}; give a budget of at least {used}"
    );
    refused(
        &infer_on(&path, "none,stuffing", &args),
        &ck,
        &bytes,
        &[&says],
    );
    // the checkpoint where --out writes
    let o = infer_on(&path, "none,stuffing", &["--checkpoint", c, "--out", c]);
    refused(&o, &ck, &bytes, &["that is where --out writes"]);
    // … named another way: through `..` back into its directory
    let d = ck.parent().unwrap();
    let other = d
        .join("..")
        .join(d.file_name().unwrap())
        .join(ck.file_name().unwrap());
    let o = infer_on(
        &path,
        "none,stuffing",
        &["--checkpoint", c, "--out", other.to_str().unwrap()],
    );
    refused(&o, &ck, &bytes, &["that is where --out writes"]);
}

#[test]
fn a_truncated_or_corrupt_checkpoint_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let path = scenario(dir.path());
    let good = std::fs::read(checkpoint_of(dir.path(), &path)).unwrap();
    let continue_from = |ck: &Path| {
        let args = ["--particles", "60", "--budget", "2000", "--checkpoint"];
        infer_on(
            &path,
            "none,stuffing",
            &[&args[..], &[ck.to_str().unwrap()]].concat(),
        )
    };
    // larger than 60 particles' checkpoint can be (a sparse file): refused without reading it
    let huge = dir.path().join("huge.json");
    std::fs::File::create(&huge)
        .unwrap()
        .set_len(62 << 20)
        .unwrap();
    let o = continue_from(&huge);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains(&format!(
            "--checkpoint {}: it is larger than a checkpoint of 60 particles can be",
            huge.display()
        )),
        "{}",
        stderr(&o)
    );
    let at = good.len() / 2;
    let mut flipped = good.clone();
    // a digit of the population's numbers, which the SHA-256 covers
    let digit = (at..good.len())
        .find(|&i| good[i].is_ascii_digit())
        .unwrap();
    flipped[digit] = if good[digit] == b'0' { b'1' } else { b'0' };
    let report = infer_on(
        &path,
        "none,stuffing",
        &["--particles", "60", "--budget", "300", "--json"],
    )
    .stdout;
    let cases: [(&str, Vec<u8>, &str); 5] = [
        (
            "truncated.json",
            good[..at].to_vec(),
            "is not a complete tamga infer checkpoint: it is truncated or corrupt (EOF while parsing",
        ),
        ("empty.json", Vec::new(), "it is truncated or corrupt"),
        (
            "flipped.json",
            flipped,
            "is corrupt: its content does not match its SHA-256",
        ),
        (
            "report.json",
            report,
            "is not a tamga infer checkpoint (its format is `tamga-infer`)",
        ),
        (
            "text.json",
            b"not json at all".to_vec(),
            "it is truncated or corrupt",
        ),
    ];
    for (name, bytes, says) in cases {
        let ck = dir.path().join(name);
        std::fs::write(&ck, &bytes).unwrap();
        let remedy = "delete it (or give another checkpoint file) to start afresh";
        refused(&continue_from(&ck), &ck, &bytes, &[says, remedy]);
    }
    // a directory is no checkpoint
    let o = continue_from(dir.path());
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("it is a directory, not a regular file"),
        "{}",
        stderr(&o)
    );
}

/// A generation filled by a batch the budget cut short (the tutorial at seed 3: budget 171,
/// found by trying budgets upwards): its checkpoint continues under its own budget, to that
/// budget's result, and is refused under a larger one, whose uninterrupted run would have
/// simulated the whole batch.
#[test]
fn a_checkpoint_whose_last_batch_the_budget_cut_continues_only_under_its_budget() {
    use crate::infer::{observed, request, tutorial_inference};
    use std::sync::atomic::AtomicBool;
    use tamga::infer::checkpoint::{Checkpoint, CheckpointError, Checkpointing};
    use tamga::infer::{InferError, Report, Request, infer_with};
    let s = tutorial_inference();
    let stop = AtomicBool::new(false);
    let run =
        |req: &Request, from: Option<Checkpoint>| -> (Result<Report, InferError>, Vec<Vec<u8>>) {
            let mut saved = Vec::new();
            let mut save = |_: &tamga::infer::abc::State, bytes: &[u8]| saved.push(bytes.to_vec());
            let r = infer_with(
                &s,
                req,
                observed(&s),
                "reported",
                None,
                &stop,
                &mut |_, _| {},
                Some(Checkpointing {
                    from,
                    save: &mut save,
                }),
            );
            (r, saved)
        };
    for budget in 61..1000 {
        let mut req = request(&["none", "stuffing"], 3);
        req.budget = budget;
        let (report, saved) = run(&req, None);
        let report = report.expect("runs").to_json();
        let Some(ck) = saved
            .last()
            .map(|b| Checkpoint::from_json(b).expect("reads back"))
            .filter(|c| c.state.budget_cut)
        else {
            continue;
        };
        assert_eq!(ck.state.simulations, budget, "the budget ran out");
        // under its own budget: the same result
        let (again, _) = run(&req, Some(ck.clone()));
        assert_eq!(again.expect("continues").to_json(), report);
        // under a larger one: refused, saying which budget it takes
        req.budget = budget + 500;
        let (larger, saved) = run(&req, Some(ck));
        let e = larger.expect_err("refused");
        assert!(
            matches!(&e, InferError::Checkpoint(CheckpointError::BudgetCut { was }) if *was == budget),
            "{e}"
        );
        assert!(
            e.to_string()
                .contains(&format!("its budget of {budget} simulations")),
            "{e}"
        );
        assert!(saved.is_empty(), "nothing written");
        return;
    }
    panic!("no budget up to 1000 cut a batch that filled a generation");
}
