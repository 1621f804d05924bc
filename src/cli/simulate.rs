//! `tamga simulate SCENARIO --out DIR`: one ballot-level election written as an election package
//! (`docs/package-format.md`). Owns only the file-system edge: where each part of the package
//! goes, and that the package appears whole or not at all (everything is written into a hidden
//! sibling directory that is renamed into place at the end, and removed on any failure or
//! interrupt). Ctrl-C and SIGTERM stop it like `tamga run` ([`super::progress`]): the first
//! stops the work at the next machine's ledger or file, the temporary directory is removed and
//! the command exits 2 with nothing written; the exit of a second one waits for that cleanup
//! (the temporary directory exists only under [`hold_exit`]). Never overwrites a non-empty DIR.

use anyhow::{Context, bail};
use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

use super::progress::{hold_exit, stop_flag};
use tamga::package::{
    self, Package, Spec, ledger_file_name, write_aggregates, write_machines, write_protocols,
    write_receipts, write_trace, write_truth_receipts,
};

#[derive(clap::Args)]
pub struct Args {
    /// The scenario file (TOML).
    pub scenario: PathBuf,
    /// Variant to simulate (default: the scenario's first variant).
    #[arg(long)]
    pub variant: Option<String>,
    /// Master seed (default: the scenario's montecarlo.seed).
    #[arg(long, allow_negative_numbers = true, value_parser = super::args::whole::<u64>)]
    pub seed: Option<u64>,
    /// Directory to create for the package (must not exist or be empty).
    #[arg(long)]
    pub out: PathBuf,
    /// Share of electronic voters who keep and check their receipt (0 to 1; default: the
    /// scenario's `[detectors] receipt_check_rate`).
    #[arg(long, allow_negative_numbers = true)]
    pub receipt_rate: Option<f64>,
    /// Print the manifest as one JSON document on stdout.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let scenario = tamga::scenario::load(&args.scenario)?;
    let receipt_rate = args
        .receipt_rate
        .unwrap_or(scenario.detectors.receipt_check_rate);
    if !(0.0..=1.0).contains(&receipt_rate) {
        bail!("--receipt-rate must be between 0 and 1 (a share of voters), got {receipt_rate}");
    }
    let seed = args.seed.unwrap_or(scenario.montecarlo.seed);
    let out = &args.out;
    let out_exists = match fs::read_dir(out) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                bail!(
                    "{} already exists and is not empty; choose another --out directory or remove it first",
                    out.display()
                );
            }
            true
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => false,
        Err(_) if out.exists() => bail!(
            "{} exists and is not a directory; choose another --out directory",
            out.display()
        ),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", out.display())),
    };
    let Some(name) = out.file_name() else {
        bail!(
            "--out {} does not name a directory to create; give a path such as pkg/",
            out.display()
        );
    };
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&parent)
        .with_context(|| format!("cannot create directory {}", parent.display()))?;
    let stop = stop_flag();
    let tmp = parent.join(format!(
        ".{}.tmp-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    if tmp.exists() {
        fs::remove_dir_all(&tmp)
            .with_context(|| format!("cannot remove stale {}", tmp.display()))?;
    }
    fs::create_dir(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
    let spec = Spec {
        scenario: &scenario,
        variant: args.variant.as_deref(),
        seed,
        receipt_rate,
    };
    // The election runs on a worker thread; this thread watches the stop flag, so a Ctrl-C or
    // SIGTERM during a long election removes the temporary directory at once (a second one
    // waits for that: `hold_exit`) instead of waiting for the election to end.
    let result = std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::channel();
        let tmp_ref = &tmp;
        scope.spawn(move || {
            let _ = tx.send(write_package(tmp_ref, spec, stop));
        });
        loop {
            match rx.recv_timeout(std::time::Duration::from_millis(20)) {
                Ok(r) => break r,
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                    break Err(anyhow::anyhow!("the simulation stopped unexpectedly"));
                }
            }
            if stop.load(Ordering::SeqCst) {
                let _hold = hold_exit();
                remove_tmp(&tmp);
                eprintln!("error: interrupted; nothing was written");
                std::process::exit(2);
            }
        }
    });
    // from here until the temporary directory is renamed or removed, a second Ctrl-C waits
    let _hold = hold_exit();
    let pkg = match result {
        Ok(p) if !stop.load(Ordering::SeqCst) => p,
        Ok(_) => {
            remove_tmp(&tmp);
            bail!("interrupted; nothing was written");
        }
        Err(e) => {
            remove_tmp(&tmp);
            if stop.load(Ordering::SeqCst) {
                bail!("interrupted; nothing was written");
            }
            return Err(e);
        }
    };
    let moved = (|| -> io::Result<()> {
        if out_exists {
            fs::remove_dir(out)?;
        }
        fs::rename(&tmp, out)
    })();
    if let Err(e) = moved {
        let _ = fs::remove_dir_all(&tmp);
        return Err(e).with_context(|| format!("cannot move the package into {}", out.display()));
    }
    if args.json {
        print!("{}", pkg.manifest.to_json());
    } else {
        let c = &pkg.manifest.counts;
        println!(
            "wrote election package {}: variant {}, seed {}, {} stations, {} machines, {} ballots ({} electronic), {} receipts",
            out.display(),
            pkg.manifest.variant,
            seed,
            c.stations,
            c.machines,
            c.issued,
            c.electronic,
            c.receipts
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Removes the temporary package directory. The worker may still be creating the ledger it had
/// started when the stop flag was raised (it checks the flag before each one), so a removal that
/// finds the directory not yet empty is retried.
fn remove_tmp(tmp: &Path) {
    for _ in 0..50 {
        if fs::remove_dir_all(tmp).is_ok() || !tmp.exists() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// Writes every part of the package into `dir` (an empty directory); stops with an error as soon
/// as `stop` is raised (checked before each ledger and each file).
fn write_package(dir: &Path, spec: Spec<'_>, stop: &AtomicBool) -> anyhow::Result<Package> {
    let interrupted = || io::Error::new(io::ErrorKind::Interrupted, "interrupted");
    let check = || -> anyhow::Result<()> {
        if stop.load(Ordering::SeqCst) {
            bail!("interrupted");
        }
        Ok(())
    };
    let ledgers = dir.join("ledgers");
    let truth = dir.join("truth");
    for d in [&ledgers, &truth] {
        fs::create_dir(d).with_context(|| format!("cannot create {}", d.display()))?;
    }
    let pkg = package::simulate(spec, &mut |station, machine| {
        if stop.load(Ordering::SeqCst) {
            return Err(interrupted());
        }
        fs::File::create(ledgers.join(ledger_file_name(station, machine))).map(BufWriter::new)
    })?;
    let parties = &pkg.manifest.parties;
    check()?;
    write_file(&dir.join("manifest.json"), |w| {
        w.write_all(pkg.manifest.to_json().as_bytes())
    })?;
    check()?;
    write_file(&dir.join("heads.txt"), |w| {
        w.write_all(pkg.heads.to_text().as_bytes())
    })?;
    check()?;
    write_file(&dir.join("protocols.csv"), |w| {
        write_protocols(w, parties, &pkg.protocols)
    })?;
    check()?;
    write_file(&dir.join("aggregates.csv"), |w| {
        write_aggregates(w, &pkg.aggregates)
    })?;
    check()?;
    write_file(&dir.join("receipts.csv"), |w| {
        write_receipts(w, &pkg.receipts)
    })?;
    check()?;
    write_file(&truth.join("protocols.csv"), |w| {
        write_protocols(w, parties, &pkg.truth)
    })?;
    check()?;
    write_file(&truth.join("receipts.csv"), |w| {
        write_truth_receipts(w, &pkg.receipts)
    })?;
    check()?;
    write_file(&truth.join("machines.csv"), |w| {
        write_machines(w, &pkg.machines)
    })?;
    check()?;
    write_file(&truth.join("fraud.csv"), |w| write_trace(w, &pkg.trace))?;
    check()?;
    // the paper record, kept apart from the published record (`tamga rla` reads it)
    let paper = dir.join("paper");
    fs::create_dir(&paper).with_context(|| format!("cannot create {}", paper.display()))?;
    write_file(&paper.join("manifest.csv"), |w| {
        package::paper::write_paper_manifest(w, &pkg.paper)
    })?;
    write_file(&paper.join("ballots.csv"), |w| {
        package::paper::write_paper_ballots(w, parties, &pkg.paper)
    })?;
    if let Some(misprints) = &pkg.vvpat {
        write_file(&paper.join("vvpat.csv"), |w| {
            package::paper::write_misprints(w, parties, misprints)
        })?;
    }
    write_file(&dir.join("rules.json"), |w| {
        w.write_all(pkg.rules.to_json().as_bytes())
    })?;
    fs::create_dir(dir.join("checkpoints")).context("cannot create checkpoints/")?;
    for (name, bytes) in pkg.log_files() {
        check()?;
        write_file(&dir.join(name), |w| w.write_all(&bytes))?;
    }
    Ok(pkg)
}

fn write_file(
    path: &Path,
    fill: impl FnOnce(&mut BufWriter<fs::File>) -> io::Result<()>,
) -> anyhow::Result<()> {
    let f = fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut w = BufWriter::new(f);
    fill(&mut w)
        .and_then(|_| w.flush())
        .with_context(|| format!("cannot write {}", path.display()))
}
