//! The CSV files of an election package: writers and strict, problem-collecting readers.
//!
//! Owns the layouts of `protocols.csv`, `aggregates.csv`, `receipts.csv` and the `truth/` files
//! (`docs/package-format.md`) and [`aggregate`], the one definition of "published totals = sums
//! of station protocols" used both to write `aggregates.csv` and to audit it. Readers never stop
//! at the first bad line and never panic: every malformed line becomes a [`CsvProblem`].

use std::collections::BTreeMap;
use std::io::{self, Read, Write};

use super::{HeldReceipt, MachineRecord, ProtocolCounts, StationProtocol};
use crate::ledger::ReceiptCode;
use crate::text::{LineLimit, echo, echo_quoted};

/// One malformed line of a package CSV file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CsvProblem {
    /// 1-based line number (0 when the problem concerns the file as a whole).
    pub line: u64,
    /// Station the line belongs to, when known.
    pub station: Option<u32>,
    /// What is wrong.
    pub message: String,
}

fn problem(line: u64, station: Option<u32>, message: impl Into<String>) -> CsvProblem {
    CsvProblem {
        line,
        station,
        message: message.into(),
    }
}

/// Longest line (one CSV record, quoted line breaks included) read from a package CSV file;
/// a longer one is a problem and the rest of the file is not read. The package's own lines are
/// a few dozen bytes.
pub const MAX_LINE_BYTES: usize = 65_536;
/// Problems listed per file; the rest are counted ([`Problems::omitted`]).
pub const MAX_PROBLEMS_LISTED: usize = 100;
/// Most distinct stations read from `protocols.csv` (the rows of further stations are problems).
pub const MAX_STATIONS: usize = 1_000_000;
/// Most receipts read from `receipts.csv` (further rows are one problem, not read).
pub const MAX_RECEIPTS: usize = 10_000_000;
/// Most vote counts (a party's or candidate's count at one station, total or machine) kept from
/// `protocols.csv`: 64 Mi counts, 512 MiB. Every station's protocol holds a count per manifest
/// party and per candidate index up to its highest, whatever its rows say, so a file of one row
/// per station could otherwise make `16 bytes × parties × stations` out of a few bytes a
/// station. A national package (a million stations, a dozen parties and candidates) needs about
/// a third of it; the stations beyond it are a problem and are not checked.
pub const MAX_PROTOCOL_COUNTS: usize = 64 << 20;
/// Independent candidates a district can have at most (`[candidates.independents] max` of the
/// scenario format): a candidate index is below the number of parties plus this.
pub const MAX_INDEPENDENTS: usize = 50;

/// The problems of one file: the first [`MAX_PROBLEMS_LISTED`] listed, the rest counted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Problems {
    /// Problems in file order.
    pub listed: Vec<CsvProblem>,
    /// Problems beyond the listed ones.
    pub omitted: u64,
}

impl Problems {
    fn push(&mut self, p: CsvProblem) {
        self.push_with(|| p);
    }

    /// As `push`, but listed first whatever was listed before (a problem that explains the
    /// others, such as the part of a file that was not read).
    fn push_first(&mut self, p: CsvProblem) {
        self.listed.insert(0, p);
        if self.listed.len() > MAX_PROBLEMS_LISTED {
            self.listed.pop();
            self.omitted += 1;
        }
    }

    /// As `push`, building the problem only if it is listed (a problem per party per station
    /// can be hundreds of millions of them).
    fn push_with(&mut self, p: impl FnOnce() -> CsvProblem) {
        if self.listed.len() < MAX_PROBLEMS_LISTED {
            self.listed.push(p());
        } else {
            self.omitted += 1;
        }
    }
}

/// Reads a CSV with a header row: checks the header against `header`, and hands every data row
/// that has `n_fields` fields with its line number to `row` (which returns `false` to stop).
/// Unreadable lines, lines over [`MAX_LINE_BYTES`], a wrong header, rows of the wrong width
/// and an empty file become problems. Holds one row at a time.
fn data_rows<R: Read>(
    r: R,
    header: &[&str],
    n_fields: usize,
    problems: &mut Problems,
    mut row: impl FnMut(u64, &csv::StringRecord, &mut Problems) -> bool,
) {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(LineLimit::csv(r, MAX_LINE_BYTES));
    let mut rec = csv::StringRecord::new();
    let mut first = true;
    loop {
        match rdr.read_record(&mut rec) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                let io = matches!(e.kind(), csv::ErrorKind::Io(_));
                let message = if rdr.get_ref().exceeded() {
                    match e.kind() {
                        csv::ErrorKind::Io(io) => io.to_string(),
                        _ => format!("unreadable line: {}", echo(&e.to_string())),
                    }
                } else {
                    format!("unreadable line: {}", echo(&e.to_string()))
                };
                problems.push(problem(line, None, message));
                if io || rdr.get_ref().exceeded() {
                    break;
                }
                continue;
            }
        }
        let line = rec.position().map_or(0, |p| p.line());
        if first {
            first = false;
            if rec.iter().ne(header.iter().copied()) {
                problems.push(problem(
                    line,
                    None,
                    format!("the header must be `{}`", header.join(",")),
                ));
            }
            continue;
        }
        if rec.len() != n_fields {
            problems.push(problem(
                line,
                None,
                format!("{} fields, expected {n_fields}", rec.len()),
            ));
            continue;
        }
        if !row(line, &rec, problems) {
            break;
        }
    }
    if first && problems.listed.is_empty() {
        problems.push(problem(0, None, "the file is empty"));
    }
}

/// Header of `protocols.csv`.
pub const PROTOCOLS_HEADER: [&str; 6] =
    ["station", "region", "district", "item", "choice", "votes"];
/// Header of `aggregates.csv`.
pub const AGGREGATES_HEADER: [&str; 5] = ["level", "unit", "item", "choice", "votes"];
/// Header of `receipts.csv`.
pub const RECEIPTS_HEADER: [&str; 3] = ["station", "machine", "receipt"];

/// The `choice` of invalid-ballot rows.
pub const INVALID: &str = "invalid";

fn csv_err(e: csv::Error) -> io::Error {
    io::Error::other(e.to_string())
}

/// Writes `protocols.csv` (long format: one row per number; see `docs/package-format.md`).
pub fn write_protocols<W: Write>(
    w: W,
    parties: &[String],
    protocols: &[StationProtocol],
) -> io::Result<()> {
    let mut out = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(w);
    out.write_record(PROTOCOLS_HEADER).map_err(csv_err)?;
    for p in protocols {
        let st = p.station.to_string();
        let reg = p.region.to_string();
        let dist = p.district.map(|d| d.to_string()).unwrap_or_default();
        let mut row = |item: &str, choice: &str, v: u64| {
            out.write_record([&st, &reg, &dist, item, choice, &v.to_string()])
        };
        row("registered", "", p.registered).map_err(csv_err)?;
        row("issued", "", p.issued).map_err(csv_err)?;
        row("machines", "", p.machines as u64).map_err(csv_err)?;
        row("electronic", "", p.electronic).map_err(csv_err)?;
        let mut tally = |prefix: &str, t: &ProtocolCounts| -> Result<(), csv::Error> {
            for (party, v) in parties.iter().zip(&t.list) {
                row(&format!("{prefix}list"), party, *v)?;
            }
            row(&format!("{prefix}list"), INVALID, t.list_invalid)?;
            if p.district.is_some() {
                for (c, v) in t.candidates.iter().enumerate() {
                    row(&format!("{prefix}candidate"), &c.to_string(), *v)?;
                }
                row(&format!("{prefix}candidate"), INVALID, t.district_invalid)?;
            }
            Ok(())
        };
        tally("", &p.total).map_err(csv_err)?;
        if let Some(m) = &p.machine {
            tally("machine-", m).map_err(csv_err)?;
        }
    }
    out.flush()
}

/// Station protocols read from `protocols.csv`.
#[derive(Clone, Debug, Default)]
pub struct ParsedProtocols {
    /// Protocols by station number.
    pub protocols: Vec<StationProtocol>,
    /// First line of each protocol (same order).
    pub lines: Vec<u64>,
    /// Malformed lines and missing rows (the first [`MAX_PROBLEMS_LISTED`]).
    pub problems: Vec<CsvProblem>,
    /// Problems beyond the listed ones, counted.
    pub problems_omitted: u64,
    /// Rows of stations beyond the limit were found (and not read).
    pub more_stations: bool,
}

/// `0, 3–7, 9`: sorted indices as ranges.
fn ranges(v: &[usize]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < v.len() {
        let mut j = i;
        while j + 1 < v.len() && v[j + 1] == v[j] + 1 {
            j += 1;
        }
        out.push(if i == j {
            v[i].to_string()
        } else {
            format!("{}–{}", v[i], v[j])
        });
        i = j + 1;
    }
    out.join(", ")
}

#[derive(Default)]
struct TallyBuilder {
    list: BTreeMap<usize, u64>,
    list_invalid: Option<u64>,
    candidates: BTreeMap<u16, u64>,
    district_invalid: Option<u64>,
    seen: bool,
}

impl TallyBuilder {
    /// The counts `finish` makes: one per party, one per candidate index up to the highest.
    fn counts(&self, n_parties: usize) -> usize {
        n_parties
            + self
                .candidates
                .keys()
                .next_back()
                .map_or(0, |&c| c as usize + 1)
    }

    fn finish(
        self,
        n_parties: usize,
        district: bool,
        station: u32,
        line: u64,
        what: &str,
        problems: &mut Problems,
    ) -> ProtocolCounts {
        // one problem per part of a station, naming every missing row (the indices are
        // bounded by the manifest's parties and the independents' cap)
        let mut missing: Vec<String> = Vec::new();
        let mut list = vec![0; n_parties];
        let mut absent: Vec<usize> = Vec::new();
        for (p, slot) in list.iter_mut().enumerate() {
            match self.list.get(&p) {
                Some(v) => *slot = *v,
                None => absent.push(p),
            }
        }
        if !absent.is_empty() {
            missing.push(format!(
                "`{what}list` for party index(es) {}",
                ranges(&absent)
            ));
        }
        if self.list_invalid.is_none() {
            missing.push(format!("`{what}list,invalid`"));
        }
        let n_cand = self
            .candidates
            .keys()
            .next_back()
            .map_or(0, |&c| c as usize + 1);
        let mut candidates = vec![0; n_cand];
        absent.clear();
        for (c, slot) in candidates.iter_mut().enumerate() {
            match self.candidates.get(&(c as u16)) {
                Some(v) => *slot = *v,
                None => absent.push(c),
            }
        }
        if !absent.is_empty() {
            missing.push(format!(
                "`{what}candidate` for candidate(s) {}",
                ranges(&absent)
            ));
        }
        if district && self.district_invalid.is_none() {
            missing.push(format!("`{what}candidate,invalid`"));
        }
        if !missing.is_empty() {
            problems.push(problem(
                line,
                Some(station),
                format!("station {station}: missing rows: {}", missing.join("; ")),
            ));
        }
        ProtocolCounts {
            list,
            list_invalid: self.list_invalid.unwrap_or(0),
            candidates,
            district_invalid: self.district_invalid.unwrap_or(0),
        }
    }
}

#[derive(Default)]
struct ProtocolBuilder {
    line: u64,
    region: u32,
    district: Option<u32>,
    registered: Option<u64>,
    issued: Option<u64>,
    machines: Option<u64>,
    electronic: Option<u64>,
    total: TallyBuilder,
    machine: TallyBuilder,
}

fn set_once(
    slot: &mut Option<u64>,
    v: u64,
    line: u64,
    station: u32,
    what: &str,
    problems: &mut Problems,
) {
    if slot.is_some() {
        problems.push(problem(
            line,
            Some(station),
            format!("station {station}: a second `{what}` row"),
        ));
    } else {
        *slot = Some(v);
    }
}

/// Reads `protocols.csv`, collecting every problem. `parties` are the manifest's party ids.
pub fn parse_protocols<R: Read>(r: R, parties: &[String]) -> ParsedProtocols {
    parse_protocols_within(r, parties, MAX_STATIONS)
}

/// [`parse_protocols`] holding at most `max_stations` stations (at most [`MAX_STATIONS`]): the
/// audit passes the manifest's declared count, so memory is bounded by the package's declared
/// shape (stations × (parties + independents)), not by the file. Rows of further stations are
/// problems and set [`ParsedProtocols::more_stations`].
pub fn parse_protocols_within<R: Read>(
    r: R,
    parties: &[String],
    max_stations: usize,
) -> ParsedProtocols {
    let max_stations = max_stations.min(MAX_STATIONS);
    let mut more_stations = false;
    let mut problems = Problems::default();
    let mut stations: BTreeMap<u32, ProtocolBuilder> = BTreeMap::new();
    let n_candidates = parties.len() + MAX_INDEPENDENTS;
    // one lookup per row, not a walk over the parties (a manifest may list many)
    let party_index: std::collections::HashMap<&str, usize> = parties
        .iter()
        .enumerate()
        .rev()
        .map(|(i, p)| (p.as_str(), i))
        .collect();
    let known_parties = echo(&parties.join(", "));
    data_rows(
        r,
        &PROTOCOLS_HEADER,
        6,
        &mut problems,
        |line, rec, problems| {
            let Ok(station) = rec[0].parse::<u32>() else {
                problems.push(problem(
                    line,
                    None,
                    format!("station {} is not a number", echo_quoted(&rec[0])),
                ));
                return true;
            };
            let bad = |what: &str, v: &str| {
                problem(
                    line,
                    Some(station),
                    format!("{what} {} is not a number", echo_quoted(v)),
                )
            };
            let Ok(region) = rec[1].parse::<u32>() else {
                problems.push(bad("region", &rec[1]));
                return true;
            };
            let district = if rec[2].is_empty() {
                None
            } else {
                match rec[2].parse::<u32>() {
                    Ok(d) => Some(d),
                    Err(_) => {
                        problems.push(bad("district", &rec[2]));
                        return true;
                    }
                }
            };
            let Ok(votes) = rec[5].parse::<u64>() else {
                problems.push(bad("votes", &rec[5]));
                return true;
            };
            if stations.len() >= max_stations && !stations.contains_key(&station) {
                more_stations = true;
                problems.push(problem(
                    line,
                    Some(station),
                    format!(
                        "station {station}: more than {max_stations} stations (the manifest's count, at most {MAX_STATIONS}); its rows are not read"
                    ),
                ));
                return true;
            }
            let b = stations.entry(station).or_insert_with(|| ProtocolBuilder {
                line,
                region,
                district,
                ..ProtocolBuilder::default()
            });
            if (b.region, b.district) != (region, district) {
                problems.push(problem(
                    line,
                    Some(station),
                    format!(
                        "station {station}: region/district differ from its first row (line {})",
                        b.line
                    ),
                ));
                return true;
            }
            let (item, choice) = (&rec[3], &rec[4]);
            let scalar = matches!(item, "registered" | "issued" | "machines" | "electronic");
            if scalar {
                if !choice.is_empty() {
                    problems.push(problem(
                        line,
                        Some(station),
                        format!("`{item}` rows have an empty choice"),
                    ));
                    return true;
                }
                let slot = match item {
                    "registered" => &mut b.registered,
                    "issued" => &mut b.issued,
                    "machines" => &mut b.machines,
                    _ => &mut b.electronic,
                };
                set_once(slot, votes, line, station, item, problems);
                return true;
            }
            let (t, kind) = match item {
                "list" => (&mut b.total, "list"),
                "candidate" => (&mut b.total, "candidate"),
                "machine-list" => (&mut b.machine, "list"),
                "machine-candidate" => (&mut b.machine, "candidate"),
                _ => {
                    problems.push(problem(
                        line,
                        Some(station),
                        format!("unknown item {}", echo_quoted(item)),
                    ));
                    return true;
                }
            };
            t.seen = true;
            let dup = |problems: &mut Problems| {
                problems.push(problem(
                    line,
                    Some(station),
                    format!("station {station}: a second `{item},{}` row", echo(choice)),
                ))
            };
            match (kind, choice) {
            ("list", INVALID) => set_once(
                &mut t.list_invalid,
                votes,
                line,
                station,
                item,
                problems,
            ),
            ("list", party) => match party_index.get(party).copied() {
                Some(i) => {
                    if t.list.insert(i, votes).is_some() {
                        dup(problems);
                    }
                }
                None => problems.push(problem(
                    line,
                    Some(station),
                    format!(
                        "unknown party {} (the manifest lists {known_parties})",
                        echo_quoted(party),
                    ),
                )),
            },
            (_, INVALID) => set_once(
                &mut t.district_invalid,
                votes,
                line,
                station,
                item,
                problems,
            ),
            (_, c) => match c.parse::<u16>() {
                Ok(i) if usize::from(i) >= n_candidates => problems.push(problem(
                    line,
                    Some(station),
                    format!(
                        "candidate {i} is beyond the last candidate a district can have ({} parties + {MAX_INDEPENDENTS} independents: indices 0–{})",
                        parties.len(),
                        n_candidates - 1
                    ),
                )),
                Ok(c) => {
                    if t.candidates.insert(c, votes).is_some() {
                        dup(problems);
                    }
                }
                _ => problems.push(problem(
                    line,
                    Some(station),
                    format!("candidate {} is not a candidate index", echo_quoted(c)),
                )),
            },
        }
            true
        },
    );
    let mut out = ParsedProtocols::default();
    let mut counts = 0usize;
    let mut stations = stations.into_iter();
    while let Some((station, b)) = stations.next() {
        let with_machine = b.machine.seen || b.machines.is_some_and(|m| m > 0);
        counts += b.total.counts(parties.len())
            + if with_machine {
                b.machine.counts(parties.len())
            } else {
                0
            };
        if counts > MAX_PROTOCOL_COUNTS {
            let rest = 1 + stations.len();
            problems.push_first(problem(
                b.line,
                Some(station),
                format!(
                    "station {station} and the {} after it are not read: their protocols would \
                     hold more than {MAX_PROTOCOL_COUNTS} vote counts ({} parties, and \
                     candidates, per station), the limit of what tamga reads from one package",
                    rest - 1,
                    parties.len()
                ),
            ));
            break;
        }
        let mut need = |v: Option<u64>, what: &str| {
            v.unwrap_or_else(|| {
                problems.push(problem(
                    b.line,
                    Some(station),
                    format!("station {station}: no `{what}` row"),
                ));
                0
            })
        };
        let registered = need(b.registered, "registered");
        let issued = need(b.issued, "issued");
        let machines = need(b.machines, "machines");
        let electronic = need(b.electronic, "electronic");
        let has_district = b.district.is_some();
        let total = b.total.finish(
            parties.len(),
            has_district,
            station,
            b.line,
            "",
            &mut problems,
        );
        let machine = (machines > 0 || b.machine.seen).then(|| {
            b.machine.finish(
                parties.len(),
                has_district,
                station,
                b.line,
                "machine-",
                &mut problems,
            )
        });
        out.lines.push(b.line);
        out.protocols.push(StationProtocol {
            station,
            region: b.region,
            district: b.district,
            registered,
            issued,
            machines: u32::try_from(machines).unwrap_or(u32::MAX),
            electronic,
            total,
            machine,
        });
    }
    out.problems = problems.listed;
    out.problems_omitted = problems.omitted;
    out.more_stations = more_stations;
    out
}

/// One published total: `level` is `national`, `region` or `district`; `unit` the region or
/// district number (empty for national); `item`, `choice` as in `protocols.csv`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AggregateKey {
    /// `national`, `region` or `district`.
    pub level: String,
    /// Region or district number; empty for national.
    pub unit: String,
    /// `registered`, `issued`, `electronic`, `list` or `candidate`.
    pub item: String,
    /// Party id, candidate index, `invalid`, or empty.
    pub choice: String,
}

impl std::fmt::Display for AggregateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.unit.is_empty() {
            write!(f, "{} {}", self.level, self.item)?;
        } else {
            write!(f, "{} {} {}", self.level, self.unit, self.item)?;
        }
        if !self.choice.is_empty() {
            write!(f, " {}", self.choice)?;
        }
        Ok(())
    }
}

/// The published totals implied by station protocols, in file order: national, then each
/// region, then each district (by number); per unit registered, issued, electronic, list votes
/// per party and invalid, and for districts candidate votes and invalid.
pub fn aggregate(parties: &[String], protocols: &[StationProtocol]) -> Vec<(AggregateKey, u64)> {
    #[derive(Default)]
    struct Sum {
        registered: u64,
        issued: u64,
        electronic: u64,
        list: Vec<u64>,
        list_invalid: u64,
        candidates: Vec<u64>,
        district_invalid: u64,
    }
    fn add(s: &mut Sum, p: &StationProtocol, candidates: bool) {
        s.registered = s.registered.saturating_add(p.registered);
        s.issued = s.issued.saturating_add(p.issued);
        s.electronic = s.electronic.saturating_add(p.electronic);
        if s.list.len() < p.total.list.len() {
            s.list.resize(p.total.list.len(), 0);
        }
        for (a, v) in s.list.iter_mut().zip(&p.total.list) {
            *a = a.saturating_add(*v);
        }
        s.list_invalid = s.list_invalid.saturating_add(p.total.list_invalid);
        if candidates {
            if s.candidates.len() < p.total.candidates.len() {
                s.candidates.resize(p.total.candidates.len(), 0);
            }
            for (a, v) in s.candidates.iter_mut().zip(&p.total.candidates) {
                *a = a.saturating_add(*v);
            }
            s.district_invalid = s.district_invalid.saturating_add(p.total.district_invalid);
        }
    }
    let mut national = Sum::default();
    let mut regions: BTreeMap<u32, Sum> = BTreeMap::new();
    let mut districts: BTreeMap<u32, Sum> = BTreeMap::new();
    for p in protocols {
        add(&mut national, p, false);
        add(regions.entry(p.region).or_default(), p, false);
        if let Some(d) = p.district {
            add(districts.entry(d).or_default(), p, true);
        }
    }
    let mut out = Vec::new();
    let mut emit = |level: &str, unit: String, s: &Sum, candidates: bool| {
        let key = |item: &str, choice: &str| AggregateKey {
            level: level.into(),
            unit: unit.clone(),
            item: item.into(),
            choice: choice.into(),
        };
        out.push((key("registered", ""), s.registered));
        out.push((key("issued", ""), s.issued));
        out.push((key("electronic", ""), s.electronic));
        for (i, party) in parties.iter().enumerate() {
            out.push((key("list", party), s.list.get(i).copied().unwrap_or(0)));
        }
        out.push((key("list", INVALID), s.list_invalid));
        if candidates {
            for (c, v) in s.candidates.iter().enumerate() {
                out.push((key("candidate", &c.to_string()), *v));
            }
            out.push((key("candidate", INVALID), s.district_invalid));
        }
    };
    emit("national", String::new(), &national, false);
    for (r, s) in &regions {
        emit("region", r.to_string(), s, false);
    }
    for (d, s) in &districts {
        emit("district", d.to_string(), s, true);
    }
    out
}

/// Writes `aggregates.csv` from published totals (honestly: [`aggregate`] of the protocols).
pub fn write_aggregates<W: Write>(w: W, rows: &[(AggregateKey, u64)]) -> io::Result<()> {
    let mut out = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(w);
    out.write_record(AGGREGATES_HEADER).map_err(csv_err)?;
    for (k, v) in rows {
        out.write_record([&k.level, &k.unit, &k.item, &k.choice, &v.to_string()])
            .map_err(csv_err)?;
    }
    out.flush()
}

/// Reads `aggregates.csv`, handing each key with its value and line to `row` as it is read
/// (nothing is kept): the problems of the file.
pub fn for_each_aggregate<R: Read>(r: R, mut row: impl FnMut(AggregateKey, u64, u64)) -> Problems {
    let mut problems = Problems::default();
    data_rows(
        r,
        &AGGREGATES_HEADER,
        5,
        &mut problems,
        |line, rec, problems| {
            let Ok(v) = rec[4].parse::<u64>() else {
                problems.push(problem(
                    line,
                    None,
                    format!("votes {} is not a number", echo_quoted(&rec[4])),
                ));
                return true;
            };
            row(
                AggregateKey {
                    level: rec[0].into(),
                    unit: rec[1].into(),
                    item: rec[2].into(),
                    choice: rec[3].into(),
                },
                v,
                line,
            );
            true
        },
    );
    problems
}

/// Reads `aggregates.csv`: each key with its value and line, and the problems (at most
/// [`MAX_PROBLEMS_LISTED`]). The audit streams it instead ([`for_each_aggregate`]).
pub fn parse_aggregates<R: Read>(r: R) -> (Vec<(AggregateKey, u64, u64)>, Vec<CsvProblem>) {
    let mut rows = Vec::new();
    let problems = for_each_aggregate(r, |k, v, line| rows.push((k, v, line)));
    (rows, problems.listed)
}

/// Writes `receipts.csv`: `station,machine,receipt` for each receipt held by a checking voter.
pub fn write_receipts<W: Write>(w: W, receipts: &[HeldReceipt]) -> io::Result<()> {
    let mut out = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(w);
    out.write_record(RECEIPTS_HEADER).map_err(csv_err)?;
    for r in receipts {
        out.write_record([
            r.station.to_string(),
            r.machine.to_string(),
            r.code.to_string(),
        ])
        .map_err(csv_err)?;
    }
    out.flush()
}

/// A receipt read from `receipts.csv`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReceiptLine {
    /// Line in the file.
    pub line: u64,
    /// Station.
    pub station: u32,
    /// Machine.
    pub machine: u32,
    /// Code.
    pub code: ReceiptCode,
}

/// True (and a problem) once `rows` reached [`MAX_RECEIPTS`]: the rest is not read.
fn over_receipt_cap(rows: usize, line: u64, what: &str, problems: &mut Problems) -> bool {
    if rows < MAX_RECEIPTS {
        return false;
    }
    problems.push(problem(
        line,
        None,
        format!("more than {MAX_RECEIPTS} {what} (the limit of one package); the rest of the file is not read"),
    ));
    true
}

/// Reads `receipts.csv`: at most [`MAX_RECEIPTS`] receipts, and the problems.
pub fn read_receipts<R: Read>(r: R) -> (Vec<ReceiptLine>, Problems) {
    let mut rows = Vec::new();
    let mut problems = Problems::default();
    data_rows(
        r,
        &RECEIPTS_HEADER,
        3,
        &mut problems,
        |line, rec, problems| {
            if over_receipt_cap(rows.len(), line, "receipts", problems) {
                return false;
            }
            let (Ok(station), Ok(machine)) = (rec[0].parse::<u32>(), rec[1].parse::<u32>()) else {
                problems.push(problem(line, None, "station and machine must be numbers"));
                return true;
            };
            match rec[2].parse::<ReceiptCode>() {
                Ok(code) => rows.push(ReceiptLine {
                    line,
                    station,
                    machine,
                    code,
                }),
                Err(e) => problems.push(problem(
                    line,
                    Some(station),
                    format!("bad receipt code: {}", echo(&e.to_string())),
                )),
            }
            true
        },
    );
    (rows, problems)
}

/// Reads `receipts.csv` ([`read_receipts`], the listed problems only).
pub fn parse_receipts<R: Read>(r: R) -> (Vec<ReceiptLine>, Vec<CsvProblem>) {
    let (rows, problems) = read_receipts(r);
    (rows, problems.listed)
}

/// Writes `truth/receipts.csv`: `station,machine,entry,receipt`.
pub fn write_truth_receipts<W: Write>(w: W, receipts: &[HeldReceipt]) -> io::Result<()> {
    let mut out = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(w);
    out.write_record(["station", "machine", "entry", "receipt"])
        .map_err(csv_err)?;
    for r in receipts {
        out.write_record([
            r.station.to_string(),
            r.machine.to_string(),
            r.entry.to_string(),
            r.code.to_string(),
        ])
        .map_err(csv_err)?;
    }
    out.flush()
}

/// Writes `truth/machines.csv`:
/// `station,machine,ballots,launch_code,published_head,honest_head,rewritten`.
pub fn write_machines<W: Write>(w: W, machines: &[MachineRecord]) -> io::Result<()> {
    let mut out = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(w);
    out.write_record([
        "station",
        "machine",
        "ballots",
        "launch_code",
        "published_head",
        "honest_head",
        "rewritten",
    ])
    .map_err(csv_err)?;
    for m in machines {
        out.write_record([
            m.head.station.to_string(),
            m.head.machine.to_string(),
            m.head.n_ballots.to_string(),
            crate::ledger::to_hex(&m.launch_code),
            m.head.head.to_hex(),
            m.honest_head.to_hex(),
            m.rewritten.to_string(),
        ])
        .map_err(csv_err)?;
    }
    out.flush()
}

/// Writes `truth/fraud.csv`: `what,value`, one row per field of the run's fraud trace, then
/// what the audit of rewritten ledgers and voters' checks found.
pub fn write_trace<W: Write>(w: W, t: &super::RunTrace) -> io::Result<()> {
    let (c, findings) = (&t.checks, t.ledgers_with_findings);
    let t = &t.fraud;
    let mut out = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(w);
    out.write_record(["what", "value"]).map_err(csv_err)?;
    let rows: [(&str, String); 11] = [
        ("stations_hit", t.stations_hit.to_string()),
        ("flipped", t.flipped.to_string()),
        ("dropped", t.dropped.to_string()),
        ("stuffed", t.stuffed.to_string()),
        ("rewritten", t.rewritten.to_string()),
        ("ledgers_tampered", t.ledgers_tampered.to_string()),
        ("ledgers_with_findings", findings.to_string()),
        ("receipt_caught", c.receipt_complaint.to_string()),
        ("control_code_caught", c.control_code_complaint.to_string()),
        ("receipts_checked", c.receipts_checked.to_string()),
        ("control_codes_checked", c.control_codes_checked.to_string()),
    ];
    for (k, v) in rows {
        out.write_record([k, v.as_str()]).map_err(csv_err)?;
    }
    out.flush()
}

/// Header of `proofs.csv`.
pub const PROOFS_HEADER: [&str; 7] = [
    "station",
    "machine",
    "receipt",
    "entry",
    "entry_hash",
    "size",
    "path",
];

/// Writes `proofs.csv`: one row per checking voter's receipt with its inclusion proof (the path's
/// hashes in lowercase hex joined by `.`, deepest first).
pub fn write_proofs(proofs: &[super::ReceiptProof]) -> String {
    let mut s = PROOFS_HEADER.join(",");
    s.push('\n');
    for p in proofs {
        let path: Vec<String> = p.path.iter().map(|h| h.to_hex()).collect();
        s.push_str(&format!(
            "{},{},{},{},{},{},{}\n",
            p.station,
            p.machine,
            p.code,
            p.entry,
            p.entry_hash.to_hex(),
            p.size,
            path.join(".")
        ));
    }
    s
}

/// A proof read from `proofs.csv`, with its line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProofLine {
    pub line: u64,
    pub proof: super::ReceiptProof,
}

/// Reads `proofs.csv`: at most [`MAX_RECEIPTS`] rows, paths of at most
/// `ledger::merkle::MAX_PROOF_HASHES` hashes, and the problems.
pub fn read_proofs<R: Read>(r: R) -> (Vec<ProofLine>, Problems) {
    use crate::ledger::EntryHash;
    use crate::ledger::merkle::MAX_PROOF_HASHES;
    let mut rows = Vec::new();
    let mut problems = Problems::default();
    data_rows(
        r,
        &PROOFS_HEADER,
        7,
        &mut problems,
        |line, rec, problems| {
            if over_receipt_cap(rows.len(), line, "proofs", problems) {
                return false;
            }
            let hex = |s: &str| {
                EntryHash::from_hex(s).filter(|_| !s.bytes().any(|b| b.is_ascii_uppercase()))
            };
            let parsed = (|| {
                let station = rec[0].parse::<u32>().ok()?;
                let machine = rec[1].parse::<u32>().ok()?;
                let code = rec[2].parse::<ReceiptCode>().ok()?;
                let entry = rec[3].parse::<u64>().ok()?;
                let entry_hash = hex(&rec[4])?;
                let size = rec[5].parse::<u64>().ok()?;
                let path: Vec<EntryHash> = if rec[6].is_empty() {
                    Vec::new()
                } else {
                    let parts: Vec<&str> = rec[6].split('.').collect();
                    if parts.len() > MAX_PROOF_HASHES {
                        return None;
                    }
                    parts.into_iter().map(hex).collect::<Option<_>>()?
                };
                Some(super::ReceiptProof {
                    station,
                    machine,
                    code,
                    entry,
                    entry_hash,
                    size,
                    path,
                })
            })();
            match parsed {
            Some(proof) => rows.push(ProofLine { line, proof }),
            None => problems.push(problem(
                line,
                None,
                format!(
                    "expected {} (numbers, a receipt code, 64-hex hashes, at most {MAX_PROOF_HASHES} in the path)",
                    PROOFS_HEADER.join(",")
                ),
            )),
        }
            true
        },
    );
    (rows, problems)
}
