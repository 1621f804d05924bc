//! `tamga audit DIR`: verifies an election package and lists every finding (exit 0 clean,
//! 1 findings, 2 unusable input). Owns only the file-system edge — reading the manifest, listing
//! `ledgers/`, opening package files by relative name — and the rendering of the report; the
//! checks are [`tamga::package::audit`]. Never reads `truth/`. Opens only regular files
//! ([`open_regular`], also used by `forensics`): a FIFO, device, socket or directory where a
//! file is expected is refused without blocking on it or reading it.

use anyhow::{Context, bail};
use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use tamga::package::{AuditInput, LedgerNames, Manifest, audit};

/// Largest `manifest.json` read (a manifest is a few kilobytes: 250 parties at most).
pub const MAX_MANIFEST_BYTES: u64 = 1 << 20;

/// Opens `path` for reading if it is a regular file (symlinks followed): `Ok(None)` if it does
/// not exist, an error of kind `InvalidInput` saying what it is if it is not a regular file.
/// The file is opened without blocking (`O_NONBLOCK`, so a FIFO without a writer does not hang
/// the open) and its type checked on the open handle, so nothing can be swapped in between.
pub fn open_regular(path: &Path) -> io::Result<Option<fs::File>> {
    let mut options = fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let f = match options.open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let meta = f.metadata()?;
    if !meta.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("it is {}, not a regular file", file_kind(&meta)),
        ));
    }
    Ok(Some(f))
}

/// What a non-regular file is, in words.
fn file_kind(meta: &fs::Metadata) -> &'static str {
    if meta.is_dir() {
        return "a directory";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let t = meta.file_type();
        if t.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if t.is_char_device() {
            return "a character device";
        }
        if t.is_block_device() {
            return "a block device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    "a special file"
}

#[derive(clap::Args)]
pub struct Args {
    /// The package directory (made by `tamga simulate`).
    pub dir: PathBuf,
    /// Print the report as one JSON document on stdout.
    #[arg(long)]
    pub json: bool,
    /// Independently obtained evidence to check the package against: files of signed checkpoints
    /// (a machine's or the commission's, as witnesses recorded them), heads files (as on the
    /// poll tapes) or observers' turnout files (`tamga-turnout 1`). Each at most 64 MiB.
    #[arg(long = "heads", value_name = "FILE", num_args = 1..)]
    pub heads: Vec<PathBuf>,
}

/// Largest witness file read by `--heads`.
const MAX_WITNESS_BYTES: u64 = 64 << 20;

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let dir = &args.dir;
    if !dir.is_dir() {
        bail!(
            "{} is not a directory; give the directory `tamga simulate --out` wrote",
            dir.display()
        );
    }
    let manifest_path = dir.join("manifest.json");
    let file = match open_regular(&manifest_path) {
        Ok(Some(f)) => f,
        Ok(None) => bail!(
            "{} has no manifest.json, so it is not an election package (make one with `tamga simulate`)",
            dir.display()
        ),
        Err(e) => {
            return Err(e).with_context(|| format!("cannot read {}", manifest_path.display()));
        }
    };
    let mut bytes = Vec::new();
    file.take(MAX_MANIFEST_BYTES + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read {}", manifest_path.display()))?;
    if bytes.len() as u64 > MAX_MANIFEST_BYTES {
        bail!(
            "{} is larger than {MAX_MANIFEST_BYTES} bytes, the limit for a manifest (a real one is a few kilobytes); it is not a tamga package manifest",
            manifest_path.display()
        );
    }
    let text = String::from_utf8(bytes).map_err(|_| {
        anyhow::anyhow!(
            "{} is not a tamga package manifest: it is not UTF-8 text",
            manifest_path.display()
        )
    })?;
    let manifest = Manifest::parse(&text).map_err(|e| {
        anyhow::anyhow!(
            "{} is not a tamga package manifest: {}",
            manifest_path.display(),
            tamga::text::echo_max(&e.to_string(), 512)
        )
    })?;
    let ledger_names = match fs::read_dir(dir.join("ledgers")) {
        Ok(entries) => {
            let mut names = Vec::new();
            let mut failed = None;
            for e in entries {
                match e {
                    Ok(e) => names.push(e.file_name().to_string_lossy().into_owned()),
                    Err(e) => {
                        failed = Some(e.to_string());
                        break;
                    }
                }
            }
            match failed {
                None => LedgerNames::Listed(names),
                Some(why) => LedgerNames::Unusable(why),
            }
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => LedgerNames::Missing,
        Err(_) if dir.join("ledgers").exists() && !dir.join("ledgers").is_dir() => {
            LedgerNames::Unusable("it is not a directory".into())
        }
        Err(e) => LedgerNames::Unusable(e.to_string()),
    };
    let base = dir.clone();
    let mut open = move |rel: &str| -> io::Result<Option<Box<dyn Read>>> {
        Ok(open_regular(&base.join(rel))?.map(|f| Box::new(f) as Box<dyn Read>))
    };
    let mut witnesses = Vec::new();
    for path in &args.heads {
        let file = open_regular(path)
            .with_context(|| format!("cannot read --heads {}", path.display()))?
            .with_context(|| format!("--heads {} does not exist", path.display()))?;
        let mut bytes = Vec::new();
        file.take(MAX_WITNESS_BYTES + 1)
            .read_to_end(&mut bytes)
            .with_context(|| format!("cannot read --heads {}", path.display()))?;
        if bytes.len() as u64 > MAX_WITNESS_BYTES {
            bail!(
                "--heads {} is larger than {MAX_WITNESS_BYTES} bytes; give the checkpoints or heads of one election",
                path.display()
            );
        }
        let text = String::from_utf8(bytes)
            .map_err(|_| anyhow::anyhow!("--heads {} is not UTF-8 text", path.display()))?;
        witnesses.push((path.display().to_string(), text));
    }
    let report = audit(AuditInput {
        manifest: &manifest,
        ledger_names,
        open: &mut open,
        witnesses,
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
            "election_id": manifest.election_id,
            "basis": report.basis,
            "clean": report.is_clean(),
            "findings": report.findings,
            "findings_omitted": report.findings_omitted,
            "omitted": report.omitted,
            "checked": report.checked,
        });
        println!("{doc}");
    } else if report.is_clean() {
        println!("audit {}: clean — checked {checked}", dir.display());
    } else {
        for f in &report.findings {
            println!(
                "{} {}: {}\n  {}\n  means: {}",
                f.check,
                f.code,
                f.location(),
                f.what,
                f.meaning
            );
        }
        let by_code: u64 = report.omitted.values().sum();
        for (code, n) in &report.omitted {
            println!(
                "… and {n} more {code} finding(s) not listed (the first {} of each kind are)",
                tamga::package::MAX_LISTED_PER_CODE
            );
        }
        let per_entry = report.findings_omitted.saturating_sub(by_code);
        let omitted = if report.findings_omitted > 0 {
            let mut s = format!(" (and {} more not listed", report.findings_omitted);
            if per_entry > 0 {
                s.push_str(&format!(", {per_entry} of them per-entry ledger findings"));
            }
            s.push(')');
            s
        } else {
            String::new()
        };
        println!(
            "audit {}: {} finding(s){omitted} — checked {checked}",
            dir.display(),
            report.findings.len()
        );
    }
    if !args.json {
        for b in &report.basis {
            println!("  basis — {b}");
        }
    }
    Ok(if report.is_clean() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
