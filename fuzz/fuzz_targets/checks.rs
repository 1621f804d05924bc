//! The checks of the fuzz targets, one function per target, each taking the fuzzer's bytes: the
//! targets call them, and the integration tests replay the committed corpora through them
//! (`tests/it/hostile_inputs.rs`, included there by path), so every input the fuzzer kept stays
//! a regression test. Each must never panic; the assertions are the invariants named in its
//! target's documentation.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{self, Cursor, Read};

use super::pack;

/// Fuzz target: arbitrary text as a scenario file. `scenario::parse` must return a scenario or
/// problems — never panic — and every problem must render, within a bounded length per input
/// byte (echoes are cut, see `crate::text`).
pub fn scenario(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(e) = tamga::scenario::parse(text, "fuzz.toml") {
        let shown = e.to_string();
        assert!(!shown.is_empty());
    }
}

/// Fuzz target: arbitrary bytes as the `seats` command's votes CSV (first byte: whether the
/// `district_seats` column is required). A table that reads is then allocated by D'Hondt and
/// Hare with a seat count from the input, as `tamga seats` would: never a panic.
pub fn seats_csv(data: &[u8]) {
    use tamga::seats::{Method, TieBreak, csv::read_votes};
    let Some((&flags, body)) = data.split_first() else {
        return;
    };
    let Ok(table) = read_votes(body, flags & 1 == 1) else {
        return;
    };
    let seats = u32::from(flags >> 1) + 1;
    for name in ["dhondt", "hare"] {
        let method: Method = name.parse().expect("a known method");
        let _ = tamga::seats::allocate(&method, seats, &table.votes, None, TieBreak::Report);
    }
}

/// Fuzz target: arbitrary bytes as the `forensics` command's station-results CSV (plain or
/// gzip). A table that reads is then filtered to stations with the default leader, as the
/// command does before its statistics: never a panic, never unbounded memory.
pub fn forensics_csv(data: &[u8]) {
    use tamga::forensics::read::{read_results, select_leader, station_sets};
    let Ok(results) = read_results(data) else {
        return;
    };
    let _ = results.option_totals();
    if let Ok(leader) = select_leader(&results, None) {
        let _ = station_sets(&results, leader);
    }
}

/// Fuzz target: arbitrary bytes as a package's `protocols.csv` (for three parties): parsing
/// lists problems, never panics, and keeps at most the documented number of them.
pub fn protocols_csv(data: &[u8]) {
    use tamga::package::{MAX_PROBLEMS_LISTED, aggregate, parse_protocols};
    let parties = ["A".to_string(), "B".to_string(), "C".to_string()];
    let parsed = parse_protocols(data, &parties);
    assert!(parsed.problems.len() <= MAX_PROBLEMS_LISTED);
    assert_eq!(parsed.protocols.len(), parsed.lines.len());
    let _ = aggregate(&parties, &parsed.protocols);
}

/// Fuzz target: arbitrary bytes as a package's `aggregates.csv`: never a panic, problems capped.
pub fn aggregates_csv(data: &[u8]) {
    use tamga::package::{MAX_PROBLEMS_LISTED, parse_aggregates};
    let (_, problems) = parse_aggregates(data);
    assert!(problems.len() <= MAX_PROBLEMS_LISTED);
}

/// Fuzz target: arbitrary bytes as a package's `receipts.csv`: never a panic, problems capped,
/// at most `MAX_RECEIPTS` receipts kept.
pub fn receipts_csv(data: &[u8]) {
    use tamga::package::{MAX_PROBLEMS_LISTED, MAX_RECEIPTS, read_receipts};
    let (receipts, problems) = read_receipts(data);
    assert!(problems.listed.len() <= MAX_PROBLEMS_LISTED);
    assert!(receipts.len() <= MAX_RECEIPTS);
}

/// Fuzz target: arbitrary text as a package's `heads.txt`: parsing gives heads or problems,
/// never a panic; heads that parse print back to text that parses to the same heads.
pub fn heads(data: &[u8]) {
    use tamga::ledger::PublishedHeads;
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(heads) = PublishedHeads::parse(text) {
        let again = PublishedHeads::parse(&heads.to_text()).expect("printed heads parse");
        assert_eq!(again.heads(), heads.heads());
    }
}

/// Fuzz target: arbitrary bytes as a `tamga run --shard` part file given to `tamga merge`. A
/// part that reads is merged (alone, and beside itself, which must be refused as a double
/// cover) and, if the merge accepts it, summarised as `merge` does (summary.json, the terminal
/// table, runs.csv): never a panic. The seeds are real parts, so mutations reach the outcome
/// checks rather than stopping at the JSON syntax.
pub fn merge_part(data: &[u8]) {
    use tamga::shard::{Part, merge};
    use tamga::summary::{Summary, runs_csv};
    let Ok(part) = Part::from_json(data) else {
        return;
    };
    let twice = vec![
        ("a".to_string(), part.clone()),
        ("b".to_string(), part.clone()),
    ];
    let merged_twice = merge(twice, &part.tamga_version);
    let Ok(merged) = merge(vec![("a".to_string(), part.clone())], &part.tamga_version) else {
        return;
    };
    // a part covering runs cannot cover them twice
    if merged.outcomes.iter().any(|v| !v.is_empty()) {
        assert!(merged_twice.is_err(), "the same runs merged twice");
    }
    let summary = Summary::build(&merged.scenario, merged.seed, 0, &merged.outcomes);
    let _ = summary.to_json();
    let _ = summary.to_terminal(false);
    let _ = summary.to_terminal(true);
    let _ = runs_csv(&merged.scenario, &merged.outcomes);
}

/// Fuzz target: whole election packages, mutated with their structure kept (see `pack.rs`): one
/// file edited, dropped, copied over another, truncated or renamed at a time, starting from real
/// packages `tamga simulate` wrote (`fuzz/seeds/audit_package/`). The package is audited from
/// memory as `tamga audit` audits a directory. The audit must never panic, must list at most
/// `MAX_LISTED_PER_CODE` findings of a code with their sentences cut to `MAX_WHAT_BYTES` (plus
/// the ellipsis note), and is clean only if nothing was found.
pub fn audit_package(data: &[u8]) {
    use tamga::package::{
        AuditInput, LedgerNames, MAX_LISTED_PER_CODE, MAX_WHAT_BYTES, Manifest, audit,
    };
    let Some(files) = pack::parse(data) else {
        return;
    };
    let mut by_name: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    for f in files {
        by_name.insert(String::from_utf8_lossy(&f.name).into_owned(), f.data);
    }
    let Some(manifest) = by_name
        .get("manifest.json")
        .and_then(|m| std::str::from_utf8(m).ok())
        .and_then(|m| Manifest::parse(m).ok())
    else {
        return;
    };
    let ledgers: Vec<String> = by_name
        .keys()
        .filter_map(|n| n.strip_prefix("ledgers/").map(str::to_string))
        .collect();
    let ledger_names = if by_name.contains_key("ledgers") {
        LedgerNames::Unusable("it is not a directory".into())
    } else if ledgers.is_empty() {
        LedgerNames::Missing
    } else {
        LedgerNames::Listed(ledgers)
    };
    let mut open = |rel: &str| -> io::Result<Option<Box<dyn Read>>> {
        Ok(by_name
            .get(rel)
            .map(|d| Box::new(Cursor::new(d.clone())) as Box<dyn Read>))
    };
    let report = audit(AuditInput {
        manifest: &manifest,
        ledger_names,
        open: &mut open,
        witnesses: Vec::new(),
    });
    let mut per_code: BTreeMap<&str, usize> = BTreeMap::new();
    for f in &report.findings {
        *per_code.entry(f.code).or_default() += 1;
        assert!(
            f.what.len() <= MAX_WHAT_BYTES + 64,
            "{} bytes",
            f.what.len()
        );
        let _ = f.location();
    }
    assert!(per_code.values().all(|&n| n <= MAX_LISTED_PER_CODE));
    assert_eq!(
        report.is_clean(),
        report.findings.is_empty() && report.findings_omitted == 0
    );
}

/// Fuzz target: arbitrary bytes as a package's `paper/vvpat.csv` (the printed records that do
/// not read as their ledger entry, `read_misprints`) for a package of three parties: rows that
/// read name one of them (or `invalid`) and an entry from 1, and print back
/// (`write_misprints`) to text that reads to the same rows; never a panic.
pub fn vvpat_csv(data: &[u8]) {
    use tamga::package::paper::write_misprints;
    use tamga::package::rla::read_misprints;
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let parties: Vec<String> = ["blue", "green", "red"].map(String::from).to_vec();
    let Ok(rows) = read_misprints(text, &parties) else {
        return;
    };
    for r in &rows {
        assert!(r.entry >= 1);
        assert!(r.list.is_none_or(|p| p < parties.len()));
    }
    let mut printed = Vec::new();
    write_misprints(&mut printed, &parties, &rows).expect("writes to memory");
    let again = read_misprints(std::str::from_utf8(&printed).expect("UTF-8"), &parties)
        .expect("printed rows read");
    assert_eq!(again, rows);
}

/// Fuzz target: whole election packages (the `audit_package` container and mutator), read as
/// `tamga rla` reads them — the manifest, rules, protocols, aggregates, the ballot manifest and
/// papers, the misprinted records and the machines' ledgers as cast-vote records — and audited
/// with every method at a 10 % risk limit. A package `tamga rla` would refuse (a file missing or
/// unreadable) is skipped; on one it reads, `audit_paper` must return a report or an error,
/// never panic or hang: a report's contests examine no more than their population outside a full
/// hand count, list at most [`tamga::package::rla::MAX_LISTED_DRAWS`] draws, and the report is
/// confirmed exactly when nothing was found and every contest was.
pub fn rla_package(data: &[u8]) {
    use tamga::ledger::{CANDIDATE_NONE, LIST_NONE, LedgerReader, Record};
    use tamga::package::paper::{Rules, read_paper_ballots, read_paper_manifest};
    use tamga::package::rla::{
        MAX_LISTED_DRAWS, MachineCvrs, RlaInput, audit_paper, read_misprints,
    };
    use tamga::package::{Manifest, parse_aggregates, parse_protocols};
    use tamga::rla::{Decision, Method, RiskLimit};
    let Some(files) = pack::parse(data) else {
        return;
    };
    let mut by_name: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    for f in files {
        by_name.insert(String::from_utf8_lossy(&f.name).into_owned(), f.data);
    }
    let text = |rel: &str| by_name.get(rel).and_then(|d| std::str::from_utf8(d).ok());
    let Some(manifest) = text("manifest.json").and_then(|m| Manifest::parse(m).ok()) else {
        return;
    };
    let parties = &manifest.parties;
    let (Some(paper_manifest), Some(paper_ballots), Some(rules), Some(protocols), Some(aggs)) = (
        text("paper/manifest.csv"),
        text("paper/ballots.csv"),
        text("rules.json"),
        text("protocols.csv"),
        text("aggregates.csv"),
    ) else {
        return;
    };
    let Ok(rules) = serde_json::from_str::<Rules>(rules) else {
        return;
    };
    let parsed = parse_protocols(protocols.as_bytes(), parties);
    if !parsed.problems.is_empty() {
        return;
    }
    let (rows, problems) = parse_aggregates(aggs.as_bytes());
    if !problems.is_empty() {
        return;
    }
    let aggregates: Vec<_> = rows.into_iter().map(|(k, v, _)| (k, v)).collect();
    let (Ok(manifest_rows), Ok(piles)) = (
        read_paper_manifest(paper_manifest),
        read_paper_ballots(paper_ballots, parties),
    ) else {
        return;
    };
    let misprints = match text("paper/vvpat.csv") {
        Some(t) => match read_misprints(t, parties) {
            Ok(m) => m,
            Err(_) => return,
        },
        None => Vec::new(),
    };
    // the machines' ledgers as `tamga rla` lists them: `ledgers/station-NNNNN-mM.tgl`, in order
    let mut machines = Vec::new();
    for (name, bytes) in &by_name {
        let Some((station, machine)) = name
            .strip_prefix("ledgers/")
            .and_then(tamga::package::parse_ledger_name)
        else {
            continue;
        };
        let Ok(mut r) = LedgerReader::new(Cursor::new(bytes.as_slice())) else {
            return;
        };
        let mut entries = Vec::new();
        loop {
            match r.next_record() {
                Ok(Some(Record::Ballot { choice, .. })) => entries.push((
                    (choice.list != LIST_NONE).then_some(usize::from(choice.list)),
                    (choice.district != CANDIDATE_NONE).then_some(usize::from(choice.district)),
                )),
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(_) => return,
            }
        }
        machines.push(MachineCvrs {
            station,
            machine,
            entries,
        });
    }
    machines.sort_by_key(|m| (m.station, m.machine));
    let risk_limit = RiskLimit::parse("10%").expect("a valid risk limit");
    for method in [
        Method::Bravo,
        Method::AlphaPolling,
        Method::KaplanMarkov,
        Method::AlphaComparison,
        Method::OneAudit,
        Method::Macro,
    ] {
        let comparison = method.compares_ballots();
        let input = RlaInput {
            parties,
            protocols: &parsed.protocols,
            aggregates: &aggregates,
            rules: &rules,
            manifest: &manifest_rows,
            piles: &piles,
            seed: "31415926535897932384",
            risk_limit,
            method,
            machines: if comparison { &machines } else { &[] },
            misprints: if comparison { &misprints } else { &[] },
        };
        let Ok(report) = audit_paper(&input) else {
            continue;
        };
        for c in &report.contests {
            assert!(c.sample.len() <= MAX_LISTED_DRAWS, "{}", c.contest);
            if c.decision != Decision::FullHandCount {
                assert!(
                    c.examined <= c.population,
                    "{}: {} examined of {} without a full hand count",
                    c.contest,
                    c.examined,
                    c.population
                );
            }
        }
        let all = report.findings.is_empty()
            && report
                .contests
                .iter()
                .all(|c| c.decision == Decision::Confirmed);
        assert_eq!(report.confirmed, all);
        serde_json::to_string(&report).expect("the report serialises");
    }
}

/// Fuzz target: arbitrary bytes as a station-results file (plain or gzip) for `tamga infer
/// --from-stations`: a table that reads has its regions split by station size where their
/// halves differ in opposite directions (`infer::honest::split_by_size`, which keeps every
/// station and count) and is given to the honest fit (`infer::honest::fit`), as the command
/// does, which returns a fit or an error — never a panic — and a fit's figures are in range
/// (shares and turnout in [0, 1], ballots finite and not negative) and the scenario it writes
/// parses.
pub fn honest_fit(data: &[u8]) {
    use tamga::forensics::read::read_results;
    use tamga::infer::honest::{fit, split_by_size};
    let Ok(results) = read_results(data) else {
        return;
    };
    let split = split_by_size(&results);
    assert_eq!(split.results.stations.len(), results.stations.len());
    for (a, b) in results.stations.iter().zip(&split.results.stations) {
        assert_eq!(
            (a.registered, a.issued, &a.votes),
            (b.registered, b.issued, &b.votes)
        );
    }
    for r in &split.regions {
        assert!(
            !r.split || (r.turnout_z.is_finite() && r.share_z.is_finite()),
            "{r:?}"
        );
    }
    let Ok(f) = fit(&split.results, "fuzz", 1) else {
        return;
    };
    for (what, x) in [
        ("moved share", f.moved_share),
        ("national turnout", f.national_turnout),
        ("outlier share", f.outlier_share),
    ] {
        assert!((0.0..=1.0).contains(&x), "{what} {x}");
    }
    assert!(
        f.honest_ballots.is_finite() && f.honest_ballots >= 0.0,
        "honest ballots {}",
        f.honest_ballots
    );
    assert!(
        f.shares.iter().all(|s| (0.0..=1.0).contains(s)),
        "{:?}",
        f.shares
    );
    if let Err(e) = tamga::scenario::parse(&f.scenario, "fit.toml") {
        panic!("the written scenario does not parse: {e}\n{}", f.scenario);
    }
}
