//! `tamga audit DIR`: verifies an election package and lists every finding (exit 0 clean,
//! 1 findings, 2 unusable input). Owns only the file-system edge — reading the manifest, listing
//! `ledgers/`, opening package files by relative name — and the rendering of the report; the
//! checks are [`tamga::package::audit`]. Never reads `truth/`.

use anyhow::{Context, bail};
use std::fs;
use std::io::{self, Read};
use std::path::PathBuf;
use std::process::ExitCode;
use tamga::package::{AuditInput, Manifest, audit};

#[derive(clap::Args)]
pub struct Args {
    /// The package directory (made by `tamga simulate`).
    pub dir: PathBuf,
    /// Print the report as one JSON document on stdout.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let dir = &args.dir;
    if !dir.is_dir() {
        bail!(
            "{} is not a directory; give the directory `tamga simulate --out` wrote",
            dir.display()
        );
    }
    let manifest_path = dir.join("manifest.json");
    let text = match fs::read_to_string(&manifest_path) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => bail!(
            "{} has no manifest.json, so it is not an election package (make one with `tamga simulate`)",
            dir.display()
        ),
        Err(e) => {
            return Err(e).with_context(|| format!("cannot read {}", manifest_path.display()));
        }
    };
    let manifest = Manifest::parse(&text).map_err(|e| {
        anyhow::anyhow!(
            "{} is not a tamga package manifest: {e}",
            manifest_path.display()
        )
    })?;
    let ledger_names = match fs::read_dir(dir.join("ledgers")) {
        Ok(entries) => {
            let mut names = Vec::new();
            for e in entries {
                let e = e.with_context(|| format!("cannot list {}/ledgers", dir.display()))?;
                names.push(e.file_name().to_string_lossy().into_owned());
            }
            Some(names)
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(e).with_context(|| format!("cannot list {}/ledgers", dir.display())),
    };
    let base = dir.clone();
    let mut open = move |rel: &str| -> io::Result<Option<Box<dyn Read>>> {
        match fs::File::open(base.join(rel)) {
            Ok(f) => Ok(Some(Box::new(f))),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    };
    let report = audit(AuditInput {
        manifest: &manifest,
        ledger_names,
        open: &mut open,
    });
    let c = &report.checked;
    let checked = format!(
        "{} ledgers ({} ballots), {} published heads, {} receipts, {} protocols, {} aggregate lines",
        c.ledgers, c.ballots, c.heads, c.receipts, c.protocols, c.aggregates
    );
    if args.json {
        let doc = serde_json::json!({
            "format": "tamga-audit",
            "package": dir.display().to_string(),
            "scenario_digest": manifest.scenario_digest,
            "clean": report.is_clean(),
            "findings": report.findings,
            "findings_omitted": report.findings_omitted,
            "checked": report.checked,
        });
        println!("{doc}");
    } else if report.is_clean() {
        println!("audit {}: clean — checked {checked}", dir.display());
    } else {
        for f in &report.findings {
            println!(
                "{}: {}\n  {}\n  means: {}",
                f.code,
                f.location(),
                f.what,
                f.meaning
            );
        }
        let omitted = if report.findings_omitted > 0 {
            format!(
                " (and {} more per-entry ledger findings not listed)",
                report.findings_omitted
            )
        } else {
            String::new()
        };
        println!(
            "audit {}: {} finding(s){omitted} — checked {checked}",
            dir.display(),
            report.findings.len()
        );
    }
    Ok(if report.is_clean() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
