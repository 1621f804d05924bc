//! `tamga rla PACKAGE --seed SEED [--risk-limit 5%] [--method M] [--json]`: a risk-limiting
//! audit of an election package's paper record (exit 0 every contest confirmed, 1 not
//! confirmed — escalation needed, outcome wrong, or the paper record does not account for the
//! protocols — 2 unusable input). Owns only the file-system edge (reading the package's files,
//! regular files only, within size limits) and the rendering; the audit is
//! [`tamga::package::rla::audit_paper`]. Never reads `truth/`.

use anyhow::{Context, bail};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::audit::open_regular;
use tamga::package::paper::{Rules, read_paper_ballots, read_paper_manifest};
use tamga::package::rla::{MachineCvrs, RlaInput, RlaReport, audit_paper, read_misprints};
use tamga::package::{Manifest, parse_aggregates, parse_protocols};
use tamga::rla::{Decision, Method, RiskLimit};

/// Largest package text file read (protocols of ~100,000 stations fit).
pub const MAX_FILE_BYTES: u64 = 512 << 20;

#[derive(clap::Args)]
pub struct Args {
    /// The election package (written by `tamga simulate`).
    pub package: PathBuf,
    /// The public random seed (e.g. 20 digits from dice rolled in public after the results
    /// are published); the sample is Rivest's SHA-256 sampler on it.
    #[arg(long)]
    pub seed: Option<String>,
    /// Risk limit, strictly between 0 and 100 %: `5%` or `0.05`.
    #[arg(long, default_value = "5%")]
    pub risk_limit: String,
    /// Audit method: bravo or alpha-polling (ballot polling), kaplan-markov, alpha-comparison
    /// or one-audit (ballot-level comparison: the machines' ledger entries are the cast-vote
    /// records, hand-marked papers take their station's mean), macro (batch comparison,
    /// stations as batches).
    #[arg(long, default_value = "bravo")]
    pub method: String,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

fn read_text(dir: &Path, rel: &str, what: &str) -> anyhow::Result<Option<String>> {
    let path = dir.join(rel);
    let Some(f) = open_regular(&path).with_context(|| format!("cannot read {}", path.display()))?
    else {
        return Ok(None);
    };
    let mut bytes = Vec::new();
    f.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read {}", path.display()))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        bail!(
            "{} ({what}) is larger than {MAX_FILE_BYTES} bytes",
            path.display()
        );
    }
    String::from_utf8(bytes)
        .map(Some)
        .with_context(|| format!("{} ({what}) is not UTF-8 text", path.display()))
}

fn need(dir: &Path, rel: &str, what: &str, hint: &str) -> anyhow::Result<String> {
    read_text(dir, rel, what)?
        .ok_or_else(|| anyhow::anyhow!("{} is missing: {what}; {hint}", dir.join(rel).display()))
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let Some(seed) = args.seed.as_deref().filter(|s| !s.trim().is_empty()) else {
        bail!(
            "no --seed: the sample must come from a public seed chosen after the results are \
             published (e.g. 20 digits from dice rolled in public); give it as --seed DIGITS"
        );
    };
    let risk_limit = RiskLimit::parse(&args.risk_limit).map_err(anyhow::Error::msg)?;
    let method: Method = args.method.parse().map_err(anyhow::Error::msg)?;
    let dir = &args.package;
    if !dir.is_dir() {
        bail!(
            "{} is not a directory; give an election package written by `tamga simulate`",
            dir.display()
        );
    }
    let written_by = "write the package again with this tamga's `tamga simulate`";
    let manifest = Manifest::parse(&need(
        dir,
        "manifest.json",
        "the package manifest",
        written_by,
    )?)
    .with_context(|| format!("{}", dir.join("manifest.json").display()))?;
    let no_paper = "this package has no paper record (an election without a paper trail, or a package \
                    written before paper records); a risk-limiting audit needs one";
    let paper_manifest = need(dir, "paper/manifest.csv", "the ballot manifest", no_paper)?;
    let paper_ballots = need(dir, "paper/ballots.csv", "the papers", no_paper)?;
    let rules_text = need(
        dir,
        "rules.json",
        "the rules the outcome is declared by",
        written_by,
    )?;
    let rules: Rules = serde_json::from_str(&rules_text)
        .with_context(|| format!("{} is not valid", dir.join("rules.json").display()))?;
    let parties = &manifest.parties;
    let protocols_text = need(dir, "protocols.csv", "the station protocols", written_by)?;
    let parsed = parse_protocols(protocols_text.as_bytes(), parties);
    if let Some(p) = parsed.problems.first() {
        bail!(
            "protocols.csv line {}: {} ({} problems; run `tamga audit` for all)",
            p.line,
            p.message,
            parsed.problems.len() as u64 + parsed.problems_omitted
        );
    }
    let aggregates_text = need(dir, "aggregates.csv", "the published totals", written_by)?;
    let (rows, problems) = parse_aggregates(aggregates_text.as_bytes());
    if let Some(p) = problems.first() {
        bail!("aggregates.csv line {}: {}", p.line, p.message);
    }
    let aggregates: Vec<_> = rows.into_iter().map(|(k, v, _)| (k, v)).collect();
    let manifest_rows = read_paper_manifest(&paper_manifest)?;
    let piles = read_paper_ballots(&paper_ballots, parties)?;
    let (machines, misprints) = if method.compares_ballots() {
        let misprints = match read_text(dir, "paper/vvpat.csv", "the misprinted records")? {
            Some(t) => read_misprints(&t, parties).map_err(anyhow::Error::msg)?,
            None => Vec::new(),
        };
        (read_cvrs(&dir.join("ledgers"))?, misprints)
    } else {
        (Vec::new(), Vec::new())
    };
    let report = audit_paper(&RlaInput {
        parties,
        protocols: &parsed.protocols,
        aggregates: &aggregates,
        rules: &rules,
        manifest: &manifest_rows,
        piles: &piles,
        seed,
        risk_limit,
        method,
        machines: &machines,
        misprints: &misprints,
    })?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", render(&report));
    }
    Ok(if report.confirmed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The machines' ledgers as cast-vote records: each ballot entry's list and candidate.
fn read_cvrs(dir: &Path) -> anyhow::Result<Vec<MachineCvrs>> {
    use tamga::ledger::{CANDIDATE_NONE, LIST_NONE, LedgerReader, Record};
    let mut out = Vec::new();
    let Ok(listing) = std::fs::read_dir(dir) else {
        return Ok(out); // no machines: every paper is hand-marked
    };
    let mut names: Vec<(u32, u32, PathBuf)> = Vec::new();
    for e in listing {
        let e = e.with_context(|| format!("cannot list {}", dir.display()))?;
        if let Some((st, m)) = e
            .file_name()
            .to_str()
            .and_then(tamga::package::parse_ledger_name)
        {
            names.push((st, m, e.path()));
        }
    }
    names.sort();
    for (station, machine, path) in names {
        let Some(f) =
            open_regular(&path).with_context(|| format!("cannot read {}", path.display()))?
        else {
            continue;
        };
        let mut r = LedgerReader::new(f.take(MAX_FILE_BYTES))
            .with_context(|| format!("{} is not a readable ledger", path.display()))?;
        let mut entries = Vec::new();
        while let Some(rec) = r
            .next_record()
            .with_context(|| format!("{} is not a readable ledger", path.display()))?
        {
            if let Record::Ballot { choice, .. } = rec {
                entries.push((
                    (choice.list != LIST_NONE).then_some(usize::from(choice.list)),
                    (choice.district != CANDIDATE_NONE).then_some(usize::from(choice.district)),
                ));
            }
        }
        out.push(MachineCvrs {
            station,
            machine,
            entries,
        });
    }
    Ok(out)
}

/// The report as text.
pub fn render(r: &RlaReport) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "risk-limiting audit: method {}, risk limit {}%, seed {}",
        r.method,
        r.risk_limit * 100.0,
        tamga::text::echo(&r.seed)
    );
    for f in &r.findings {
        let _ = writeln!(s, "FINDING {}: {}", f.place, f.what);
    }
    let unit = if r.method.samples_batches() {
        "batches"
    } else {
        "ballots"
    };
    for c in &r.contests {
        let worst = c.assertions.iter().map(|a| a.p_value).fold(0.0, f64::max);
        let decision = match c.decision {
            Decision::Confirmed => "confirmed",
            Decision::FullHandCount if c.refuted => {
                "full hand count (the sample favours the reported outcome being wrong, 1,000 to 1)"
            }
            Decision::FullHandCount => "full hand count",
        };
        let _ = writeln!(
            s,
            "{}: {} — {decision} after {} round(s), {} of {} {unit} examined, P = {:.4}",
            c.contest, c.reported_outcome, c.rounds, c.examined, c.population, worst
        );
        let open: Vec<_> = c
            .assertions
            .iter()
            .filter(|a| a.p_value > r.risk_limit)
            .collect();
        if open.len() > 10 {
            let _ = writeln!(
                s,
                "  {} assertions not confirmed; the 10 closest:",
                open.len()
            );
        }
        let mut open = open;
        open.sort_by(|a, b| a.margin.total_cmp(&b.margin));
        for a in open.iter().take(10) {
            let _ = writeln!(
                s,
                "  not confirmed: {} (margin {:.4}, P = {:.4})",
                a.claim, a.margin, a.p_value
            );
        }
        if let Some(h) = &c.hand_count {
            let _ = writeln!(
                s,
                "  hand count: {}{}",
                h.outcome,
                if h.same_as_reported {
                    " (as reported)"
                } else {
                    " — THE REPORTED OUTCOME IS WRONG"
                }
            );
        }
        for d in c.discrepancies.iter().take(20) {
            if d.choice.starts_with("machine ") {
                // a printed record against its cast-vote record
                let _ = writeln!(
                    s,
                    "  discrepancy at station {}, {}: {}",
                    d.station, d.contest, d.choice
                );
                continue;
            }
            let _ = writeln!(
                s,
                "  discrepancy at station {}, {} {}: protocol {}, paper {}",
                d.station, d.contest, d.choice, d.protocol, d.paper
            );
        }
        if c.discrepancies.len() > 20 {
            let _ = writeln!(
                s,
                "  … {} more discrepancies (see --json)",
                c.discrepancies.len() - 20
            );
        }
    }
    let _ = writeln!(
        s,
        "{}",
        if r.confirmed {
            "CONFIRMED: every contest's reported outcome stands at this risk limit"
        } else {
            "NOT CONFIRMED: see above"
        }
    );
    s
}
