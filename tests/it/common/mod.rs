//! What every test module shares: where things are (the repository, the bundled scenarios, the
//! test data, the shared data checkout), the built binary, loading and running a scenario, and
//! the one golden-file check.
//!
//! All tests run as threads of one process: nothing here (or in a test) may set an environment
//! variable or change the current directory of the test process. Pass environment variables to
//! the child instead (`tamga().env(..)`), and give rayon work its own pool ([`on_threads`]).

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use tamga::model::Scenario;
use tamga::montecarlo::RunOutcome;
use tamga::montecarlo::Simulator;
use tamga::scenario;

/// The built `tamga` binary.
pub const BIN: &str = env!("CARGO_BIN_EXE_tamga");

/// The tutorial scenario's text (`scenarios/tutorial.toml`).
pub const TUTORIAL: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/scenarios/tutorial.toml"
));

/// The tutorial with a variant `district-commissions` of `honest` in which every district
/// commission's published candidate totals move 40 % of the other candidates' votes to `red`'s
/// nominee: the same fraud as the Monte Carlo loop and a package's audit see it.
pub fn tutorial_with_district_commissions() -> String {
    let mut text = TUTORIAL.to_string();
    text.push_str(
        r#"
[[variant]]
name = "district-commissions"
extends = "honest"
[[variant.fraud]]
kind = "aggregate"
level = "district"
beneficiary = "red"
share = 0.4
"#,
    );
    text
}

/// The repository root.
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A bundled scenario: `scenarios/<name>`.
pub fn scenario(name: &str) -> PathBuf {
    root().join("scenarios").join(name)
}

/// The tutorial scenario's path.
pub fn tutorial() -> PathBuf {
    scenario("tutorial.toml")
}

/// A file of the tests' own data: `tests/data/<rel>`.
pub fn data(rel: &str) -> PathBuf {
    root().join("tests/data").join(rel)
}

/// A file of the shared data checkout next to the project: `../shared/data/<rel>`. Its absence
/// FAILS the test: a reproduction that silently skips proves nothing.
pub fn shared(rel: &str) -> PathBuf {
    let path = root().join("../shared/data").join(rel);
    assert!(
        path.exists(),
        "MISSING SHARED DATA: {}; these tests reproduce published numbers from the real files \
         and must not pass without them; check out ../shared/data next to the project",
        path.display()
    );
    path
}

/// A real election's results: `../shared/data/elections/<name>.csv.gz` (see [`shared`]).
pub fn election(name: &str) -> PathBuf {
    shared(&format!("elections/{name}.csv.gz"))
}

/// The binary, ready for arguments.
pub fn tamga() -> assert_cmd::Command {
    assert_cmd::Command::new(BIN)
}

/// A bundled scenario, read and validated.
pub fn load(name: &str) -> Scenario {
    scenario::load(&scenario(name)).expect("bundled scenario is valid")
}

/// Runs `runs` of every variant of `s` with `seed` (outcomes by variant, then run).
pub fn run(s: &Scenario, seed: u64, runs: Range<u32>) -> Vec<Vec<RunOutcome>> {
    run_prepared(&Simulator::new(s, seed), runs)
}

/// Runs `runs` of every variant of a prepared scenario.
pub fn run_prepared(p: &Simulator, runs: Range<u32>) -> Vec<Vec<RunOutcome>> {
    let stop = AtomicBool::new(false);
    p.run_all(runs, &stop, &|| {}).expect("not stopped")
}

/// Runs `f` on a pool of its own with `threads` threads (rayon's global pool is shared by every
/// test of the process and cannot be resized).
pub fn on_threads<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("thread pool")
        .install(f)
}

/// Checks `got` against the golden file `tests/data/<rel>` byte for byte. With `TAMGA_BLESS=1`
/// in the environment it first writes `got` there: a change that alters the output on purpose
/// regenerates it (`TAMGA_BLESS=1 cargo test --test it`) and says why in the commit.
#[track_caller]
pub fn golden(rel: &str, got: impl AsRef<[u8]>) {
    let got = got.as_ref();
    let path = data(rel);
    if std::env::var_os("TAMGA_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().expect("in tests/data")).unwrap();
        std::fs::write(&path, got).unwrap();
    }
    let want = std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "golden file {} unreadable ({e}); TAMGA_BLESS=1 makes it",
            path.display()
        )
    });
    if got != want {
        let (got, want) = (String::from_utf8_lossy(got), String::from_utf8_lossy(&want));
        let line = got
            .lines()
            .zip(want.lines())
            .position(|(g, w)| g != w)
            .unwrap_or_else(|| got.lines().count().min(want.lines().count()));
        panic!(
            "output differs from {} (first at line {}):\n  want: {:?}\n  got:  {:?}\ndiff them to \
             see what changed; TAMGA_BLESS=1 regenerates it",
            path.display(),
            line + 1,
            want.lines().nth(line).unwrap_or("<end of file>"),
            got.lines().nth(line).unwrap_or("<end of output>"),
        );
    }
}
