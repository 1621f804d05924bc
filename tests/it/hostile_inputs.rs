//! The binary on hostile inputs, under a memory limit (RLIMIT_AS, set in the child before it
//! runs) and a time limit (killed after it): every input gives exit 2 or a finding (exit 1),
//! never a panic (101), an abort (134), a kill or a hang. The inputs are made at test time in a
//! temporary directory: FIFOs, devices, sparse files, compression bombs, huge indices, many
//! bogus receipts, long cells. Unix only (FIFOs, setrlimit). Issue 20.

#![cfg(unix)]

use std::fs;
use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{BIN, tutorial};

/// Address space the child may use: 2 GiB (issue 20: no command above 2 GiB on ≤ 100 MB).
const MEMORY: u64 = 2 << 30;

struct Outcome {
    code: i32,
    stdout: String,
    stderr: String,
    secs: f64,
}

/// Makes the child start under [`MEMORY`] of address space.
fn limit_memory(cmd: &mut Command) {
    // SAFETY: the hook only calls setrlimit, which is async-signal-safe.
    unsafe {
        cmd.pre_exec(|| {
            let lim = libc::rlimit {
                rlim_cur: MEMORY as libc::rlim_t,
                rlim_max: MEMORY as libc::rlim_t,
            };
            if libc::setrlimit(libc::RLIMIT_AS, &lim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// Runs the binary with `args` under [`MEMORY`] and `limit` seconds; a timeout fails the test.
fn run_limited(args: &[&str], limit: u64) -> Outcome {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    limit_memory(&mut cmd);
    let start = Instant::now();
    let mut child = cmd.spawn().expect("spawn tamga");
    let out_pipe = child.stdout.take().unwrap();
    let err_pipe = child.stderr.take().unwrap();
    let read = |mut p: Box<dyn std::io::Read + Send>| {
        std::thread::spawn(move || {
            let mut v = Vec::new();
            let _ = p.read_to_end(&mut v);
            v
        })
    };
    let (out_t, err_t) = (read(Box::new(out_pipe)), read(Box::new(err_pipe)));
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > Duration::from_secs(limit) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("tamga {args:?} did not finish within {limit} s");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let secs = start.elapsed().as_secs_f64();
    let stdout = String::from_utf8_lossy(&out_t.join().unwrap()).into_owned();
    let stderr = String::from_utf8_lossy(&err_t.join().unwrap()).into_owned();
    let code = status.code().unwrap_or_else(|| {
        panic!("tamga {args:?} was killed by a signal ({status:?}); stderr: {stderr:.2000}")
    });
    Outcome {
        code,
        stdout,
        stderr,
        secs,
    }
}

/// Exit 2 with one short message, or exit 1 with a bounded report.
#[track_caller]
fn clean_refusal(o: &Outcome, allowed: &[i32]) {
    assert!(
        allowed.contains(&o.code),
        "exit {} (allowed {allowed:?}); stderr: {:.2000}",
        o.code,
        o.stderr
    );
    assert!(o.stderr.len() < 4096, "stderr is {} bytes", o.stderr.len());
    assert!(
        o.stdout.len() < 1 << 20,
        "stdout is {} bytes",
        o.stdout.len()
    );
    assert!(
        !o.stderr.contains('\0') && !o.stdout.contains('\0'),
        "a NUL printed raw"
    );
}

fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo");
}

/// A fresh honest tutorial package in `dir/name`.
fn package(dir: &Path, name: &str) -> PathBuf {
    let out = dir.join(name);
    let o = run_limited(
        &[
            "simulate",
            tutorial().to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
        60,
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    out
}

fn audit(pkg: &Path, json: bool) -> Outcome {
    let mut args = vec!["audit", pkg.to_str().unwrap()];
    if json {
        args.push("--json");
    }
    run_limited(&args, 60)
}

#[test]
fn audit_refuses_fifos_devices_and_directories_without_hanging() {
    let tmp = tempfile::tempdir().unwrap();
    // protocols.csv and a ledger as FIFOs: findings (exit 1)
    let p = package(tmp.path(), "fifo");
    fs::remove_file(p.join("protocols.csv")).unwrap();
    mkfifo(&p.join("protocols.csv"));
    let ledger = fs::read_dir(p.join("ledgers"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    fs::remove_file(&ledger).unwrap();
    mkfifo(&ledger);
    let o = audit(&p, false);
    clean_refusal(&o, &[1]);
    assert!(o.stdout.contains("FIFO"), "{}", o.stdout);
    // receipts.csv a symlink to /dev/zero, aggregates.csv a directory
    let p = package(tmp.path(), "dev");
    fs::remove_file(p.join("receipts.csv")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", p.join("receipts.csv")).unwrap();
    fs::remove_file(p.join("aggregates.csv")).unwrap();
    fs::create_dir(p.join("aggregates.csv")).unwrap();
    let o = audit(&p, false);
    clean_refusal(&o, &[1]);
    assert!(o.stdout.contains("character device"), "{}", o.stdout);
    // ledgers/ a file: a finding, not unusable input
    let p = package(tmp.path(), "ledgers-file");
    fs::remove_dir_all(p.join("ledgers")).unwrap();
    fs::write(p.join("ledgers"), "not a directory").unwrap();
    let o = audit(&p, false);
    clean_refusal(&o, &[1]);
    assert!(o.stdout.contains("cannot list ledgers/"), "{}", o.stdout);
    // manifest.json a FIFO: unusable input (exit 2)
    let p = package(tmp.path(), "manifest-fifo");
    fs::remove_file(p.join("manifest.json")).unwrap();
    mkfifo(&p.join("manifest.json"));
    clean_refusal(&audit(&p, false), &[2]);
}

#[test]
fn audit_reads_huge_files_within_its_limits() {
    let tmp = tempfile::tempdir().unwrap();
    let p = package(tmp.path(), "sparse");
    // 1 GiB sparse files (all NUL, no line break) as protocols.csv and receipts.csv
    for name in ["protocols.csv", "receipts.csv"] {
        let f = fs::File::create(p.join(name)).unwrap();
        f.set_len(1 << 30).unwrap();
    }
    // a 50 MB cell in aggregates.csv
    let mut agg = b"level,unit,item,choice,votes\nnational,,".to_vec();
    agg.extend(std::iter::repeat_n(b'x', 50 << 20));
    agg.extend(b",,1\n");
    fs::write(p.join("aggregates.csv"), agg).unwrap();
    let o = audit(&p, false);
    clean_refusal(&o, &[1]);
    assert!(o.stdout.contains("longer than 65536 bytes"), "{}", o.stdout);
}

#[test]
fn a_huge_candidate_index_is_one_finding_not_a_million() {
    let tmp = tempfile::tempdir().unwrap();
    let p = package(tmp.path(), "index");
    let mut f = fs::OpenOptions::new()
        .append(true)
        .open(p.join("protocols.csv"))
        .unwrap();
    f.write_all(b"0,0,0,candidate,65534,1\n").unwrap();
    // many bad rows: the findings are capped per kind and counted
    for i in 0..5000 {
        writeln!(f, "0,0,0,candidate,{},1", 60_000 + i % 5000).unwrap();
    }
    drop(f);
    for json in [false, true] {
        let o = audit(&p, json);
        clean_refusal(&o, &[1]);
        assert!(o.secs < 30.0);
        if json {
            let doc: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
            let listed = doc["findings"].as_array().unwrap().len();
            assert!(listed < 1000, "{listed} findings listed");
            assert!(doc["omitted"]["protocol.malformed"].as_u64().unwrap() > 4000);
        } else {
            assert!(
                o.stdout
                    .contains("more protocol.malformed finding(s) not listed")
            );
        }
    }
}

/// `n` receipts that match nothing, for station/machine of the package's first receipt.
fn bogus_receipts(pkg: &Path, n: usize) {
    let text = fs::read_to_string(pkg.join("receipts.csv")).unwrap();
    let first = text.lines().nth(1).expect("a receipt");
    let mut parts = first.split(',');
    let (st, m) = (parts.next().unwrap(), parts.next().unwrap());
    let mut out = String::from("station,machine,receipt\n");
    for i in 0..n as u64 {
        let mut b = [0u8; 32];
        b[..8].copy_from_slice(&i.to_le_bytes());
        b[31] = 0xa5;
        let code = tamga::ledger::receipt_code(&tamga::ledger::EntryHash(b));
        out.push_str(&format!("{st},{m},{code}\n"));
    }
    fs::write(pkg.join("receipts.csv"), out).unwrap();
}

#[test]
fn bogus_receipts_take_linear_time() {
    let tmp = tempfile::tempdir().unwrap();
    let mut secs = Vec::new();
    for n in [125_000, 250_000, 500_000] {
        let p = package(tmp.path(), &format!("receipts-{n}"));
        bogus_receipts(&p, n);
        let o = audit(&p, false);
        clean_refusal(&o, &[1]);
        assert!(o.stdout.contains("more receipt.not-found finding(s)"));
        secs.push(o.secs);
    }
    eprintln!("audit with 125k, 250k, 500k bogus receipts: {secs:?} s");
    // quadratic matching took > 60 s at 500,000; linear doubles (generous bound: × 3 + 1 s)
    assert!(secs[2] < secs[1] * 3.0 + 1.0, "{secs:?}");
    assert!(secs[2] < 30.0, "{secs:?}");
}

fn gzip_file(path: &Path, chunks: impl Iterator<Item = Vec<u8>>) {
    let f = fs::File::create(path).unwrap();
    let mut gz = flate2::write::GzEncoder::new(f, flate2::Compression::fast());
    for c in chunks {
        gz.write_all(&c).unwrap();
    }
    gz.finish().unwrap();
}

fn forensics(input: &Path) -> Outcome {
    run_limited(
        &[
            "forensics",
            input.to_str().unwrap(),
            "--replicates",
            "1",
            "--digit-sims",
            "1",
        ],
        60,
    )
}

#[test]
fn forensics_refuses_bombs_devices_and_long_headers() {
    let tmp = tempfile::tempdir().unwrap();
    // 512 MiB of zeros, gzip
    let zeros = tmp.path().join("zeros.csv.gz");
    gzip_file(&zeros, (0..512).map(|_| vec![0u8; 1 << 20]));
    let o = forensics(&zeros);
    clean_refusal(&o, &[2]);
    // 3 M rows of a valid table compressed far beyond any real file
    let rows = tmp.path().join("rows.csv.gz");
    let header = b"region,commission,station,registered,issued,valid,invalid,A,B\n".to_vec();
    let row = b"R,C,1,1000,600,590,10,300,290\n";
    gzip_file(
        &rows,
        std::iter::once(header).chain((0..300).map(|_| row.repeat(10_000))),
    );
    let o = forensics(&rows);
    clean_refusal(&o, &[2]);
    assert!(o.stderr.contains("100-fold"), "{}", o.stderr);
    // a 20 MB NUL-filled header
    let nul = tmp.path().join("nul.csv");
    fs::write(&nul, vec![0u8; 20 << 20]).unwrap();
    clean_refusal(&forensics(&nul), &[2]);
    let mut long = b"region,commission,".to_vec();
    long.extend(std::iter::repeat_n(b'\0', 100_000));
    long.extend(b",registered,issued,valid,invalid,A\n");
    fs::write(&nul, long).unwrap();
    let o = forensics(&nul);
    clean_refusal(&o, &[2]);
    assert!(o.stderr.contains("(100000 bytes)"), "{}", o.stderr);
    // a FIFO and a device
    let fifo = tmp.path().join("fifo.csv");
    mkfifo(&fifo);
    let o = forensics(&fifo);
    clean_refusal(&o, &[2]);
    assert!(o.stderr.contains("FIFO"), "{}", o.stderr);
    clean_refusal(&forensics(Path::new("/dev/zero")), &[2]);
}

#[test]
fn interrupted_simulate_leaves_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("pkg");
    let scenario = crate::common::scenario("kazakhstan-2004.toml");
    let mut child = Command::new(BIN)
        .args([
            "simulate",
            scenario.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    let status = child.wait().unwrap();
    let left: Vec<_> = fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    if status.code() == Some(0) {
        // finished before the signal: then the package is whole
        assert!(out.join("manifest.json").exists());
        assert_eq!(left.len(), 1, "{left:?}");
    } else {
        assert_eq!(status.code(), Some(2), "{status:?}");
        assert!(left.is_empty(), "left behind: {left:?}");
    }
}

/// The small scenario of the fuzz seeds (3 parties, 8 stations, 1,000 voters, one variant).
fn mini() -> PathBuf {
    crate::common::root().join("fuzz/seeds/scenario/mini.toml")
}

/// Runs the binary with `args` to the end and returns its exit code, the CPU time it used
/// (user + system, its own: `wait4`, not the other tests' children) and its peak resident
/// memory in bytes, as the kernel keeps it for its own program (`VmHWM` in /proc, read until
/// it exits; not `ru_maxrss`, which counts the moment between spawn and exec, when the child
/// still shares this test process's memory and that of every test running beside it).
fn measured(args: &[&str]) -> (i32, f64, u64) {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    // reaped by wait4 below, which also gives its own resource usage
    #[allow(clippy::zombie_processes)]
    let child = cmd.spawn().expect("spawn tamga");
    // the peak only grows: the last reading before the child exits is its peak (to 5 ms)
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak_kb = 0u64;
    while let Ok(text) = fs::read_to_string(&status_file) {
        if text
            .lines()
            .any(|l| l.starts_with("State:") && l.contains('Z'))
        {
            break;
        }
        if let Some(kb) = text
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        {
            peak_kb = peak_kb.max(kb);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let mut status = 0;
    // SAFETY: an all-zero rusage is valid; wait4 fills it for this child only.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waits for our own child, with valid pointers.
    let pid = unsafe { libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut usage) };
    assert_eq!(pid, child.id() as libc::pid_t, "wait4");
    assert!(
        libc::WIFEXITED(status),
        "tamga {args:?} died: status {status}"
    );
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 * 1e-6;
    (
        libc::WEXITSTATUS(status),
        secs(usage.ru_utime) + secs(usage.ru_stime),
        peak_kb * 1024,
    )
}

#[test]
fn run_refuses_runs_times_variants_beyond_memory_before_any_work() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let kz = crate::common::scenario("kazakhstan-2004.toml");
    // 1,000,000 runs is the scenario format's limit, but 10 variants of it need ≈ 40 GiB
    let o = run_limited(
        &[
            "run",
            kz.to_str().unwrap(),
            "--runs",
            "1000000",
            "--out",
            out.to_str().unwrap(),
        ],
        20,
    );
    clean_refusal(&o, &[2]);
    for words in ["1000000 runs × 10 variant(s)", "MiB", "--runs", "--variant"] {
        assert!(o.stderr.contains(words), "{words}: {}", o.stderr);
    }
    assert!(o.secs < 10.0, "{} s: refused after work", o.secs);
    assert!(!out.exists());
    // the way out it names works: at most that many runs is accepted (checked, not run: a
    // bad --out stops it right after the check)
    let max: u64 = o
        .stderr
        .split("give at most ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|s| s.parse().ok())
        .expect("the message names the largest run count");
    let blocker = tmp.path().join("file");
    fs::write(&blocker, "").unwrap();
    let o = run_limited(
        &[
            "run",
            kz.to_str().unwrap(),
            "--runs",
            &max.to_string(),
            "--out",
            blocker.join("sub").to_str().unwrap(),
        ],
        20,
    );
    clean_refusal(&o, &[2]);
    assert!(!o.stderr.contains("variant(s)"), "{}", o.stderr);
}

#[test]
fn outcome_memory_estimate_bounds_what_a_run_takes() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = mini();
    let rss = |runs: u32| {
        let out = tmp.path().join(format!("r{runs}"));
        let (code, _, rss) = measured(&[
            "run",
            scenario.to_str().unwrap(),
            "--path",
            "station",
            "--threads",
            "1",
            "--runs",
            &runs.to_string(),
            "--out",
            out.to_str().unwrap(),
        ]);
        assert_eq!(code, 0);
        rss
    };
    let (a, b) = (rss(20_000), rss(80_000));
    eprintln!("max RSS at 20,000 runs: {a} B, at 80,000: {b} B");
    let per_run = b.saturating_sub(a) as f64 / 60_000.0;
    let estimate = tamga::shard::outcome_bytes(3) as f64;
    eprintln!("memory per run of 3 parties: measured {per_run:.0} B, estimated {estimate} B");
    assert!(per_run <= estimate, "{per_run} > {estimate}");
    // and not so far above that it refuses what fits
    assert!(per_run >= estimate / 8.0, "{per_run} < {estimate} / 8");
}

#[test]
fn merge_streams_parts_and_refuses_what_is_not_one() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("merged");
    // a FIFO, a device, a 1 GiB sparse file of zeros, a directory of nothing
    let fifo = tmp.path().join("part-1-of-2.json");
    mkfifo(&fifo);
    let sparse = tmp.path().join("sparse.json");
    fs::File::create(&sparse).unwrap().set_len(1 << 30).unwrap();
    for (part, words) in [
        (fifo.as_path(), "FIFO"),
        (Path::new("/dev/zero"), "character device"),
        (sparse.as_path(), "not JSON"),
    ] {
        let o = run_limited(
            &[
                "merge",
                part.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
            ],
            30,
        );
        clean_refusal(&o, &[2]);
        assert!(o.stderr.contains(words), "{words}: {}", o.stderr);
        assert!(!out.exists());
    }
}

/// A tutorial package whose manifest lists 250 parties and whose protocols.csv has one
/// `registered` row for each of `stations` stations: every protocol would hold 250 list counts
/// and the district candidates' (16 bytes × 250 × stations).
fn wide_package(dir: &Path, stations: u32) -> PathBuf {
    let p = package(dir, "wide");
    let manifest = fs::read_to_string(p.join("manifest.json")).unwrap();
    let mut doc: serde_json::Value = serde_json::from_str(&manifest).unwrap();
    doc["parties"] = (0..250).map(|i| format!("p{i}")).collect::<Vec<_>>().into();
    // the declared shape says so too: stations held are capped by the manifest's count
    doc["counts"]["stations"] = stations.into();
    fs::write(p.join("manifest.json"), doc.to_string()).unwrap();
    let mut f = std::io::BufWriter::new(fs::File::create(p.join("protocols.csv")).unwrap());
    writeln!(f, "station,region,district,item,choice,votes").unwrap();
    for s in 0..stations {
        writeln!(f, "{s},0,0,registered,,100").unwrap();
        writeln!(f, "{s},0,0,candidate,299,1").unwrap();
    }
    f.flush().unwrap();
    p
}

#[test]
fn protocols_of_many_parties_and_stations_stay_within_the_count_limit() {
    let tmp = tempfile::tempdir().unwrap();
    // 1,000,000 stations × (250 parties + 300 candidates) × 8 bytes ≈ 4.4 GB unchecked
    let p = wide_package(tmp.path(), 1_000_000);
    let o = audit(&p, false);
    clean_refusal(&o, &[1]);
    assert!(o.stdout.contains("vote counts"), "{:.3000}", o.stdout);
    eprintln!("audit of 1,000,000 stations × 250 parties: {:.1} s", o.secs);
}

#[test]
fn a_manifest_of_more_parties_than_a_scenario_can_have_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let p = package(tmp.path(), "many");
    let manifest = fs::read_to_string(p.join("manifest.json")).unwrap();
    let mut doc: serde_json::Value = serde_json::from_str(&manifest).unwrap();
    doc["parties"] = (0..100_000)
        .map(|i| format!("p{i}"))
        .collect::<Vec<_>>()
        .into();
    fs::write(p.join("manifest.json"), doc.to_string()).unwrap();
    let o = audit(&p, false);
    clean_refusal(&o, &[2]);
    assert!(o.stderr.contains("100000 parties"), "{}", o.stderr);
}

/// The least CPU time of `reps` runs of `args` (the least is the run least disturbed by other
/// work on the machine).
fn least_cpu(args: &[&str], reps: usize) -> f64 {
    (0..reps)
        .map(|_| {
            let (code, secs, _) = measured(args);
            assert!(code <= 2, "tamga {args:?}: exit {code}");
            secs
        })
        .fold(f64::INFINITY, f64::min)
}

/// Doubling the input at most about doubles the CPU time: a quadratic path would give × 4. The
/// bound (× 3, plus 0.1 s for the start-up) is generous for a loaded machine; the least of three
/// runs is taken.
#[track_caller]
fn linear(what: &str, small: f64, large: f64) {
    eprintln!(
        "{what}: {small:.3} s, doubled {large:.3} s (× {:.2})",
        large / small
    );
    assert!(large < small * 3.0 + 0.1, "{what}: {small} s → {large} s");
}

#[test]
fn check_audit_and_seats_take_linear_time() {
    let tmp = tempfile::tempdir().unwrap();
    // check: a scenario with 25,000 / 50,000 unknown keys (the base-problem lookup was quadratic)
    let base = fs::read_to_string(mini()).unwrap();
    let mut cpu = Vec::new();
    for n in [25_000, 50_000] {
        let keys: String = (0..n).map(|i| format!("k{i} = 1\n")).collect();
        let path = tmp.path().join(format!("keys{n}.toml"));
        fs::write(
            &path,
            base.replace("[election]", &format!("[election]\n{keys}")),
        )
        .unwrap();
        // a variant, so that the base's problems are looked up for it
        let mut text = fs::read_to_string(&path).unwrap();
        text.push_str("\n[[variant]]\nname = \"other\"\n");
        fs::write(&path, text).unwrap();
        let (code, _, _) = measured(&["check", path.to_str().unwrap()]);
        assert_eq!(code, 2);
        cpu.push(least_cpu(&["check", path.to_str().unwrap()], 3));
    }
    linear("check, 25k → 50k unknown keys", cpu[0], cpu[1]);

    // seats: 50,000 / 100,000 parties, D'Hondt with --explain (was × 5.7 per doubling)
    let mut cpu = Vec::new();
    for n in [50_000u64, 100_000] {
        let path = tmp.path().join(format!("votes{n}.csv"));
        let mut f = std::io::BufWriter::new(fs::File::create(&path).unwrap());
        writeln!(f, "party,votes").unwrap();
        for i in 0..n {
            writeln!(f, "p{i},{}", 1000 + (i * 7_919) % 9_000_000).unwrap();
        }
        f.flush().unwrap();
        drop(f);
        let args = [
            "seats",
            "--method",
            "dhondt",
            "--seats",
            "100000",
            "--explain",
            path.to_str().unwrap(),
        ];
        cpu.push(least_cpu(&args, 3));
    }
    linear("seats --explain, 50k → 100k parties", cpu[0], cpu[1]);

    // audit: 125,000 / 250,000 bogus receipts (matching was quadratic)
    let mut cpu = Vec::new();
    for n in [125_000, 250_000] {
        let p = package(tmp.path(), &format!("linear-{n}"));
        bogus_receipts(&p, n);
        cpu.push(least_cpu(&["audit", p.to_str().unwrap()], 3));
    }
    linear("audit, 125k → 250k bogus receipts", cpu[0], cpu[1]);
}

// The fuzz targets' checks, shared with `fuzz/` (see `docs/fuzzing.md`).
#[path = "../../fuzz/fuzz_targets/checks.rs"]
mod checks;
#[allow(dead_code)]
#[path = "../../fuzz/fuzz_targets/pack.rs"]
mod pack;

/// Every input the fuzzers started from or kept (`fuzz/seeds/`, `fuzz/corpora/`) through its
/// target's checks: no panic, no broken invariant — so what fuzzing found stays tested without
/// a nightly toolchain.
#[test]
fn fuzz_corpora_replay_cleanly() {
    type Check = fn(&[u8]);
    let targets: [(&str, Check); 12] = [
        ("scenario", checks::scenario),
        ("seats_csv", checks::seats_csv),
        ("forensics_csv", checks::forensics_csv),
        ("protocols_csv", checks::protocols_csv),
        ("aggregates_csv", checks::aggregates_csv),
        ("receipts_csv", checks::receipts_csv),
        ("heads", checks::heads),
        ("merge_part", checks::merge_part),
        ("audit_package", checks::audit_package),
        ("vvpat_csv", checks::vvpat_csv),
        ("rla_package", checks::rla_package),
        ("honest_fit", checks::honest_fit),
    ];
    for (name, check) in targets {
        let mut inputs = 0;
        for dir in ["fuzz/seeds", "fuzz/corpora"] {
            let Ok(entries) = fs::read_dir(crate::common::root().join(dir).join(name)) else {
                continue;
            };
            for e in entries {
                let path = e.unwrap().path();
                let bytes = fs::read(&path).unwrap();
                let result = std::panic::catch_unwind(|| check(&bytes));
                assert!(result.is_ok(), "{name}: {} fails", path.display());
                inputs += 1;
            }
        }
        assert!(inputs > 0, "no inputs for {name}");
    }
}

/// Peak memory of `tamga audit PKG` (exit 1 or 2, never a crash) and its stdout's findings,
/// run once under the limits for the report and once measured.
fn audit_peak(pkg: &Path) -> (u64, String) {
    let o = audit(pkg, false);
    clean_refusal(&o, &[1, 2]);
    let (code, _, peak) = measured(&["audit", pkg.to_str().unwrap()]);
    assert!(code == 1 || code == 2, "exit {code}");
    (peak, o.stdout)
}

/// The first machine's checkpoints file of a package, and its station and machine.
fn first_checkpoints(pkg: &Path) -> (PathBuf, u32, u32) {
    let mut names: Vec<PathBuf> = fs::read_dir(pkg.join("checkpoints"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    let path = names.remove(0);
    let stem = path.file_stem().unwrap().to_str().unwrap().to_string();
    let (s, m) = stem
        .strip_prefix("station-")
        .unwrap()
        .split_once("-m")
        .unwrap();
    (path, s.parse().unwrap(), m.parse().unwrap())
}

/// The transparency log's files (issue 16) — proofs.csv, election.txt, heads.note and
/// checkpoints/*.notes — huge, repeated, garbage or declaring huge sizes: never a crash, and
/// memory a small multiple of what the file holds (sparse giants, refused by their size limit,
/// hardly any).
#[test]
fn transparency_log_files_stay_within_memory_of_their_size() {
    let tmp = tempfile::tempdir().unwrap();
    let base = package(tmp.path(), "base");
    let (code, _, base_peak) = measured(&["audit", base.to_str().unwrap()]);
    assert_eq!(code, 0);
    const MIB: u64 = 1 << 20;
    let within = |what: &str, peak: u64, held: u64| {
        eprintln!(
            "{what}: peak {} MiB (honest package {} MiB, hostile file {} MiB)",
            peak / MIB,
            base_peak / MIB,
            held / MIB
        );
        assert!(
            peak <= base_peak + 3 * held + 32 * MIB,
            "{what}: peak {peak} B, honest {base_peak} B, file {held} B"
        );
    };
    let sparse = |p: &Path| {
        let f = fs::File::create(p).unwrap();
        f.set_len(1 << 30).unwrap();
    };

    // 1 GiB sparse files: each refused by its size or line limit after reading a little
    for name in ["proofs.csv", "election.txt", "heads.note"] {
        let p = package(tmp.path(), &format!("sparse-{name}"));
        sparse(&p.join(name));
        let (peak, _) = audit_peak(&p);
        within(&format!("sparse {name}"), peak, 0);
    }
    let p = package(tmp.path(), "sparse-notes");
    sparse(&first_checkpoints(&p).0);
    let (peak, _) = audit_peak(&p);
    within("sparse checkpoints", peak, 0);

    // proofs.csv: 4,000 rows of the longest path accepted (130 hashes), huge positions
    let p = package(tmp.path(), "long-proofs");
    let mut f = std::io::BufWriter::new(fs::File::create(p.join("proofs.csv")).unwrap());
    writeln!(f, "station,machine,receipt,entry,entry_hash,size,path").unwrap();
    let hash = "ab".repeat(32);
    let path = vec![hash.as_str(); 130].join(".");
    for i in 0..4000u64 {
        writeln!(
            f,
            "0,0,0000-0000,{},{hash},{},{path}",
            u64::MAX - i,
            u64::MAX
        )
        .unwrap();
    }
    f.flush().unwrap();
    drop(f);
    let held = fs::metadata(p.join("proofs.csv")).unwrap().len();
    let (peak, _) = audit_peak(&p);
    within("long proofs", peak, held);

    // election.txt: 16 MiB of repeated station lines after the real ones
    let p = package(tmp.path(), "long-election");
    let mut text = fs::read_to_string(p.join("election.txt")).unwrap();
    while text.len() < 16 << 20 {
        text.push_str("station 0 0 0 0\n");
    }
    fs::write(p.join("election.txt"), &text).unwrap();
    let (peak, out) = audit_peak(&p);
    within("long election.txt", peak, text.len() as u64);
    assert!(out.contains("election."), "{out:.2000}");

    // checkpoints: 2 MiB of one validly signed note repeated, then a validly signed checkpoint
    // declaring 2^64 − 1 entries (simulated keys derive from the scenario's seed, 42)
    let p = package(tmp.path(), "many-notes");
    let (file, station, machine) = first_checkpoints(&p);
    let notes = fs::read_to_string(&file).unwrap();
    let first = &notes[..notes.find("\n\n").unwrap()];
    let first_note_end = notes[first.len() + 2..]
        .find('\n')
        .map(|i| first.len() + 2 + i + 1)
        .unwrap();
    let one = &notes[..first_note_end];
    let origin = one.lines().next().unwrap().to_string();
    let key = tamga::ledger::note::derive_signing_key(42, "machine", station, machine);
    let huge = tamga::ledger::note::Checkpoint {
        origin: origin.clone(),
        size: u64::MAX,
        root: tamga::ledger::EntryHash([7; 32]),
        head: Some(tamga::ledger::EntryHash([8; 32])),
    };
    let mut text = notes.clone();
    while text.len() < 2 << 20 {
        text.push_str(one);
    }
    text.push_str(&tamga::ledger::note::sign_note(&huge.body(), &origin, &key));
    fs::write(&file, &text).unwrap();
    let (peak, out) = audit_peak(&p);
    within("many checkpoints", peak, text.len() as u64);
    assert!(out.contains("checkpoint.beyond-ledger"), "{out:.3000}");

    // heads.note and checkpoints of garbage bytes
    let p = package(tmp.path(), "garbage");
    let garbage: Vec<u8> = (0..4000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    fs::write(p.join("heads.note"), &garbage).unwrap();
    let (file, _, _) = first_checkpoints(&p);
    fs::write(&file, garbage.repeat(256)).unwrap();
    let (peak, out) = audit_peak(&p);
    within("garbage notes", peak, 1 << 20);
    // not UTF-8: each file is one unreadable-file finding
    assert!(
        out.contains("package.unreadable-file: heads.note")
            && out.contains("package.unreadable-file: checkpoints/station-"),
        "{out:.3000}"
    );
}
