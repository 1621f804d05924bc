//! Reading `tamga forensics`' input: the station-results data model, the CSV reader, and the
//! leader chosen by name.
//!
//! Owns: the station-results CSV format of `DESIGN.md` (`region,commission,station,registered,
//! issued,valid,invalid,<one column per option>`, UTF-8, plain or gzip detected by its magic
//! bytes 1f 8b), its validation into [`ElectionResults`], [`select_leader`], and the reduction of
//! the file's stations to [`StationFigures`] for the statistics. Never does: open files (the
//! caller passes any `io::Read`), print, or judge the data — untidy but well-formed rows (e.g.
//! more ballots found than issued, which postal voting produces in Poland) are kept and left to
//! the one station filter ([`filter_stations`]), which says what it excludes.

use std::cell::Cell;
use std::io::{self, BufRead, BufReader, Read};
use std::rc::Rc;

use super::stats::stations::{Filtered, StationFigures, StationSets, filter_stations, leader_of};
use crate::text::{LineLimit, echo, echo_max};

/// Most bytes of CSV text read (after decompression): 512 MiB, fifty times the largest real
/// file tamga has been given (Russia 2012: 95,000 stations in 10 MB).
pub const MAX_TEXT_BYTES: u64 = 512 << 20;
/// A gzip file may expand at most this many times its compressed size (counted as the data is
/// read, plus [`GZIP_SLACK_BYTES`]): station results compress 4–10-fold.
pub const MAX_GZIP_RATIO: u64 = 100;
/// Decompressed bytes allowed beyond [`MAX_GZIP_RATIO`] × compressed (tiny files).
pub const GZIP_SLACK_BYTES: u64 = 1 << 20;
/// Most station rows read.
pub const MAX_STATIONS: usize = 2_000_000;
/// Most option (party or candidate) columns.
pub const MAX_OPTIONS: usize = 1_000;
/// Most vote cells (stations × options) held.
pub const MAX_VOTE_CELLS: u64 = 50_000_000;
/// Longest row (one CSV record) in bytes.
pub const MAX_ROW_BYTES: usize = 1 << 20;

/// Largest count accepted in any column (10⁹: no polling station has a billion voters). The cap
/// keeps every sum and product in the analyses far from u64 overflow.
pub const MAX_COUNT: u64 = 1_000_000_000;

/// The fixed leading columns of the station-results CSV, in order.
pub const FIXED_COLUMNS: [&str; 7] = [
    "region",
    "commission",
    "station",
    "registered",
    "issued",
    "valid",
    "invalid",
];

/// One polling station's protocol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StationResult {
    pub region: String,
    pub commission: String,
    pub station: String,
    /// Registered voters (the electorate N).
    pub registered: u64,
    /// Ballots issued (early + at the station + outside): the turnout numerator.
    pub issued: u64,
    pub valid: u64,
    pub invalid: u64,
    /// Votes per option, in the order of [`ElectionResults::options`].
    pub votes: Vec<u64>,
}

impl StationResult {
    /// Ballots found in the boxes: valid + invalid (the share denominator of Kobak et al.).
    pub fn ballots(&self) -> u64 {
        self.valid + self.invalid
    }
}

/// The results of one election, station by station.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElectionResults {
    /// Option (party or candidate) names, as in the header.
    pub options: Vec<String>,
    pub stations: Vec<StationResult>,
}

impl ElectionResults {
    /// Every station reduced to the numbers the statistics use, with `leader`'s votes, in file
    /// order.
    pub fn station_counts(&self, leader: usize) -> impl Iterator<Item = StationFigures> + '_ {
        self.stations
            .iter()
            .enumerate()
            .map(move |(station_idx, s)| StationFigures {
                station_idx,
                registered: s.registered,
                issued: s.issued,
                ballots: s.ballots(),
                leader: s.votes[leader],
            })
    }

    /// Total votes of each option over all stations.
    pub fn option_totals(&self) -> Vec<u64> {
        let mut t = vec![0u64; self.options.len()];
        for s in &self.stations {
            for (acc, v) in t.iter_mut().zip(&s.votes) {
                *acc += v;
            }
        }
        t
    }
}

/// Why a station-results file could not be read. Rows are numbered as lines of the file
/// (the header is row 1), so `row 5` is the fifth line a text editor shows.
#[derive(Debug, thiserror::Error)]
pub enum ResultsError {
    #[error(
        "cannot read the data: {0}; check that the file is readable and, if gzip, not truncated"
    )]
    Io(#[from] std::io::Error),
    #[error("row {row}: the text is not valid UTF-8; re-save the file as UTF-8")]
    NotUtf8 { row: u64 },
    #[error("the file is empty; expected a header row `{}` followed by one row per station", FIXED_COLUMNS.join(","))]
    Empty,
    #[error(
        "row 1 (header), column {position}: expected `{expected}` but found `{found}`; the header must start with `{}` followed by one column per party or candidate",
        FIXED_COLUMNS.join(",")
    )]
    BadHeader {
        position: usize,
        expected: &'static str,
        found: String,
    },
    #[error(
        "row 1 (header): no party or candidate columns after `invalid`; add one column of votes per option"
    )]
    NoOptions,
    #[error(
        "row 1 (header), column {position}: option name is empty; give every option column a name"
    )]
    EmptyOptionName { position: usize },
    #[error(
        "row 1 (header), column {position}: option `{name}` appears twice; option names must be unique"
    )]
    DuplicateOption { position: usize, name: String },
    #[error(
        "row {row}: {found} fields but the header has {expected}; every row needs one value per column (check for a stray comma or an unquoted name)"
    )]
    FieldCount {
        row: u64,
        expected: usize,
        found: usize,
    },
    #[error(
        "row {row}, column `{column}`: `{value}` is not a whole number of votes (0 or more); correct the value or remove the row"
    )]
    BadNumber {
        row: u64,
        column: String,
        value: String,
    },
    #[error(
        "row {row}, column `{column}`: {value} is implausibly large (the limit is 1,000,000,000); correct the value or remove the row"
    )]
    TooLarge {
        row: u64,
        column: String,
        value: u64,
    },
    #[error("no station rows after the header; the file needs one row per polling station")]
    NoStations,
    #[error(
        "the gzip data expands more than {MAX_GZIP_RATIO}-fold ({decompressed} bytes from the first {compressed} compressed bytes); station results compress 4–10-fold, so this is not a results file (or it is a decompression bomb); decompress it yourself and check what it holds"
    )]
    GzipRatio { compressed: u64, decompressed: u64 },
    #[error(
        "the data is larger than {MAX_TEXT_BYTES} bytes of text (the limit for station results); split the file, e.g. by region, and analyse the parts"
    )]
    TextTooLarge,
    #[error(
        "row {row}: more than {MAX_STATIONS} station rows (the limit); split the file, e.g. by region, and analyse the parts"
    )]
    TooManyStations { row: u64 },
    #[error(
        "row 1 (header): {found} option columns, more than the limit of {MAX_OPTIONS}; keep the parties or candidates you need"
    )]
    TooManyOptions { found: usize },
    #[error(
        "row {row}: {stations} stations × {options} options is more than {MAX_VOTE_CELLS} vote counts (the limit); keep fewer option columns or split the file"
    )]
    TooManyCells {
        row: u64,
        stations: usize,
        options: usize,
    },
    #[error(
        "row {row} is longer than {MAX_ROW_BYTES} bytes (the limit for one row); this is not a station-results table (check the delimiter is a comma and quotes are closed)"
    )]
    RowTooLong { row: u64 },
}

/// Which read limit stopped the input (carried inside an `io::Error`).
#[derive(Debug, Clone, Copy)]
enum Limit {
    Ratio { compressed: u64, decompressed: u64 },
    Text,
}

impl std::fmt::Display for Limit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self:?}")
    }
}

impl std::error::Error for Limit {}

/// Counts the bytes read through it into a shared counter.
struct Counting<R> {
    inner: R,
    count: Rc<Cell<u64>>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.set(self.count.get() + n as u64);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Counting<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.inner.fill_buf()
    }
    fn consume(&mut self, amt: usize) {
        self.count.set(self.count.get() + amt as u64);
        self.inner.consume(amt);
    }
}

/// Fails once more than [`MAX_TEXT_BYTES`] have been read, or (with `compressed`) more than
/// [`MAX_GZIP_RATIO`] × the compressed bytes read so far + [`GZIP_SLACK_BYTES`].
struct Capped<R> {
    inner: R,
    read: u64,
    compressed: Option<Rc<Cell<u64>>>,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        if self.read > MAX_TEXT_BYTES {
            return Err(io::Error::new(io::ErrorKind::InvalidData, Limit::Text));
        }
        if let Some(c) = &self.compressed {
            let compressed = c.get();
            if self.read > compressed.saturating_mul(MAX_GZIP_RATIO) + GZIP_SLACK_BYTES {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    Limit::Ratio {
                        compressed,
                        decompressed: self.read,
                    },
                ));
            }
        }
        Ok(n)
    }
}

/// The limit an I/O error stands for, if it is one.
fn limit_error(e: io::Error) -> ResultsError {
    match e.get_ref().and_then(|i| i.downcast_ref::<Limit>()) {
        Some(Limit::Ratio {
            compressed,
            decompressed,
        }) => ResultsError::GzipRatio {
            compressed: *compressed,
            decompressed: *decompressed,
        },
        Some(Limit::Text) => ResultsError::TextTooLarge,
        None => ResultsError::Io(e),
    }
}

/// Reads station results from CSV bytes, gzip-compressed or not (detected by the magic bytes,
/// not the file name).
///
/// Bounded: at most [`MAX_TEXT_BYTES`] of text, a gzip expanding at most [`MAX_GZIP_RATIO`]-fold,
/// rows of at most [`MAX_ROW_BYTES`], [`MAX_STATIONS`] rows, [`MAX_OPTIONS`] options and
/// [`MAX_VOTE_CELLS`] vote counts; each limit is a [`ResultsError`] that names it, checked as
/// the data streams in (before it is held).
pub fn read_results(reader: impl Read) -> Result<ElectionResults, ResultsError> {
    let count = Rc::new(Cell::new(0u64));
    let mut buf = BufReader::with_capacity(
        1 << 16,
        Counting {
            inner: reader,
            count: count.clone(),
        },
    );
    let head = buf.fill_buf()?;
    if head.is_empty() {
        return Err(ResultsError::Empty);
    }
    if head.starts_with(&[0x1f, 0x8b]) {
        read_csv(BufReader::with_capacity(
            1 << 16,
            Capped {
                inner: flate2::bufread::MultiGzDecoder::new(buf),
                read: 0,
                compressed: Some(count),
            },
        ))
    } else {
        read_csv(Capped {
            inner: buf,
            read: 0,
            compressed: None,
        })
    }
}

fn read_csv(reader: impl Read) -> Result<ElectionResults, ResultsError> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(LineLimit::csv(reader, MAX_ROW_BYTES));
    let mut record = csv::ByteRecord::new();
    let map_err = |e: csv::Error, long: bool| -> ResultsError {
        let row = e.position().map(|p| p.line()).unwrap_or(0);
        match e.into_kind() {
            csv::ErrorKind::Io(_) if long => ResultsError::RowTooLong { row: row.max(1) },
            csv::ErrorKind::Io(io) => limit_error(io),
            csv::ErrorKind::Utf8 { .. } => ResultsError::NotUtf8 { row },
            other => ResultsError::Io(std::io::Error::other(format!("{other:?}"))),
        }
    };
    macro_rules! next {
        () => {
            match rdr.read_byte_record(&mut record) {
                Ok(more) => more,
                Err(e) => {
                    let long = rdr.get_ref().exceeded();
                    return Err(map_err(e, long));
                }
            }
        };
    }
    if !next!() {
        return Err(ResultsError::Empty);
    }
    let header = to_strings(&record, 1)?;
    for (i, expected) in FIXED_COLUMNS.iter().enumerate() {
        let found = header.get(i).map(|s| s.trim()).unwrap_or("");
        let found = found.trim_start_matches('\u{feff}');
        if !found.eq_ignore_ascii_case(expected) {
            return Err(ResultsError::BadHeader {
                position: i + 1,
                expected,
                found: echo(found),
            });
        }
    }
    if header.len() <= FIXED_COLUMNS.len() {
        return Err(ResultsError::NoOptions);
    }
    if header.len() - FIXED_COLUMNS.len() > MAX_OPTIONS {
        return Err(ResultsError::TooManyOptions {
            found: header.len() - FIXED_COLUMNS.len(),
        });
    }
    let options: Vec<String> = header[FIXED_COLUMNS.len()..]
        .iter()
        .map(|s| s.trim().to_string())
        .collect();
    for (i, name) in options.iter().enumerate() {
        let position = FIXED_COLUMNS.len() + i + 1;
        if name.is_empty() {
            return Err(ResultsError::EmptyOptionName { position });
        }
        if options[..i].contains(name) {
            return Err(ResultsError::DuplicateOption {
                position,
                name: echo(name),
            });
        }
    }
    let n_cols = header.len();
    let mut stations = Vec::new();
    while next!() {
        let row = record.position().map(|p| p.line()).unwrap_or(0);
        if record.len() == 1 && record.get(0).is_some_and(|f| f.is_empty()) {
            continue; // a blank line
        }
        if stations.len() >= MAX_STATIONS {
            return Err(ResultsError::TooManyStations { row });
        }
        if (stations.len() as u64 + 1) * options.len() as u64 > MAX_VOTE_CELLS {
            return Err(ResultsError::TooManyCells {
                row,
                stations: stations.len() + 1,
                options: options.len(),
            });
        }
        if record.len() != n_cols {
            return Err(ResultsError::FieldCount {
                row,
                expected: n_cols,
                found: record.len(),
            });
        }
        let text = |i: usize| -> Result<String, ResultsError> {
            std::str::from_utf8(&record[i])
                .map(|s| s.to_string())
                .map_err(|_| ResultsError::NotUtf8 { row })
        };
        let number = |i: usize| -> Result<u64, ResultsError> {
            let raw = &record[i];
            let s = std::str::from_utf8(raw).map_err(|_| ResultsError::NotUtf8 { row })?;
            let v = s
                .trim()
                .parse::<u64>()
                .map_err(|_| ResultsError::BadNumber {
                    row,
                    column: echo(header[i].trim()),
                    value: echo(s),
                })?;
            if v > MAX_COUNT {
                return Err(ResultsError::TooLarge {
                    row,
                    column: echo(header[i].trim()),
                    value: v,
                });
            }
            Ok(v)
        };
        let mut votes = Vec::with_capacity(options.len());
        for i in FIXED_COLUMNS.len()..n_cols {
            votes.push(number(i)?);
        }
        stations.push(StationResult {
            region: text(0)?,
            commission: text(1)?,
            station: text(2)?,
            registered: number(3)?,
            issued: number(4)?,
            valid: number(5)?,
            invalid: number(6)?,
            votes,
        });
    }
    if stations.is_empty() {
        return Err(ResultsError::NoStations);
    }
    Ok(ElectionResults { options, stations })
}

fn to_strings(record: &csv::ByteRecord, row: u64) -> Result<Vec<String>, ResultsError> {
    record
        .iter()
        .map(|f| {
            std::str::from_utf8(f)
                .map(str::to_string)
                .map_err(|_| ResultsError::NotUtf8 { row })
        })
        .collect()
}

/// Why the leader could not be chosen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LeaderError {
    #[error("leader `{}` matches no option; the options are: {}", echo(query), echo_max(&options.join(" | "), 1024))]
    NoMatch { query: String, options: Vec<String> },
    #[error("leader `{}` is ambiguous, it matches: {}; give a longer part of one name", echo(query), echo_max(&matches.join(" | "), 1024))]
    Ambiguous { query: String, matches: Vec<String> },
}

/// The index of the leader: the option whose name contains `query` (case-insensitive; an exact
/// name wins over substrings), or, without a query, the option with the largest total
/// ([`leader_of`]: ties go to the earlier column, which is reported).
pub fn select_leader(results: &ElectionResults, query: Option<&str>) -> Result<usize, LeaderError> {
    match query {
        None => Ok(leader_of(&results.option_totals())),
        Some(q) => {
            let ql = q.trim().to_lowercase();
            if let Some(i) = results.options.iter().position(|o| o.to_lowercase() == ql) {
                return Ok(i);
            }
            let matches: Vec<usize> = results
                .options
                .iter()
                .enumerate()
                .filter(|(_, o)| o.to_lowercase().contains(&ql))
                .map(|(i, _)| i)
                .collect();
            match matches.as_slice() {
                [i] => Ok(*i),
                [] => Err(LeaderError::NoMatch {
                    query: q.to_string(),
                    options: results.options.clone(),
                }),
                many => Err(LeaderError::Ambiguous {
                    query: q.to_string(),
                    matches: many.iter().map(|i| results.options[*i].clone()).collect(),
                }),
            }
        }
    }
}

/// The file's stations through the one station filter, for the given leader: stations with
/// turnout above 100 % are dropped.
pub fn station_sets(results: &ElectionResults, leader: usize) -> StationSets {
    filter_stations(results.station_counts(leader))
}

/// The base stations alone (see [`station_sets`]) with the filter counts.
pub fn base_stations(
    results: &ElectionResults,
    leader: usize,
) -> (Vec<StationFigures>, Vec<Filtered>) {
    let s = station_sets(results, leader);
    (s.base, s.filters)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "region,commission,station,registered,issued,valid,invalid,A,B b\n";

    #[test]
    fn reads_plain_and_gzip_alike() {
        let text = format!("{HEADER}R,C,1,1000,600,590,10,300,290\nR,C,2,500,250,250,0,100,150\n");
        let plain = read_results(text.as_bytes()).unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, text.as_bytes()).unwrap();
        let zipped = read_results(&gz.finish().unwrap()[..]).unwrap();
        assert_eq!(plain, zipped);
        assert_eq!(plain.options, vec!["A", "B b"]);
        assert_eq!(plain.stations[1].votes, vec![100, 150]);
        assert_eq!(plain.option_totals(), vec![400, 440]);
    }

    #[test]
    fn bad_number_names_row_and_column() {
        let text = format!("{HEADER}R,C,1,1000,600,590,10,300,290\nR,C,2,500,25x,250,0,100,150\n");
        let e = read_results(text.as_bytes()).unwrap_err();
        assert!(matches!(&e, ResultsError::BadNumber { row: 3, column, .. } if column == "issued"));
        assert!(e.to_string().contains("row 3, column `issued`"), "{e}");
    }

    #[test]
    fn negative_votes_and_wrong_field_count_are_rejected() {
        let neg = format!("{HEADER}R,C,1,1000,600,590,10,-3,290\n");
        assert!(matches!(
            read_results(neg.as_bytes()).unwrap_err(),
            ResultsError::BadNumber { row: 2, .. }
        ));
        let short = format!("{HEADER}R,C,1,1000,600,590,10,300\n");
        assert!(matches!(
            read_results(short.as_bytes()).unwrap_err(),
            ResultsError::FieldCount {
                row: 2,
                expected: 9,
                found: 8
            }
        ));
    }

    #[test]
    fn header_problems_are_named() {
        let e =
            read_results("region,commission,station,voters,issued,valid,invalid,A\n".as_bytes())
                .unwrap_err();
        assert!(matches!(e, ResultsError::BadHeader { position: 4, .. }));
        let e =
            read_results("region,commission,station,registered,issued,valid,invalid\n".as_bytes())
                .unwrap_err();
        assert!(matches!(e, ResultsError::NoOptions));
        assert!(matches!(
            read_results(HEADER.as_bytes()).unwrap_err(),
            ResultsError::NoStations
        ));
        assert!(matches!(
            read_results(&b""[..]).unwrap_err(),
            ResultsError::Empty
        ));
    }

    #[test]
    fn leader_by_substring_exact_or_largest() {
        let text = "region,commission,station,registered,issued,valid,invalid,Party,Party Two,Other\n\
                    R,C,1,1000,600,600,0,100,200,300\n";
        let r = read_results(text.as_bytes()).unwrap();
        assert_eq!(select_leader(&r, None), Ok(2));
        assert_eq!(select_leader(&r, Some("party")), Ok(0)); // exact wins
        assert_eq!(select_leader(&r, Some("two")), Ok(1));
        assert!(matches!(
            select_leader(&r, Some("art")),
            Err(LeaderError::Ambiguous { .. })
        ));
        assert!(matches!(
            select_leader(&r, Some("zzz")),
            Err(LeaderError::NoMatch { .. })
        ));
    }

    #[test]
    fn base_filter_counts_each_rule() {
        let text = format!(
            "{HEADER}R,C,1,99,60,60,0,30,30\nR,C,2,500,0,0,0,0,0\nR,C,3,500,501,501,0,1,2\nR,C,4,500,400,400,0,200,200\nR,C,5,500,400,400,0,401,0\n"
        );
        let r = read_results(text.as_bytes()).unwrap();
        let s = station_sets(&r, 0);
        assert_eq!(s.consistent.len(), 2);
        assert_eq!(s.base.len(), 1);
        assert_eq!(s.base[0].station_idx, 3);
        assert_eq!(
            s.filters.iter().map(|x| x.removed).collect::<Vec<_>>(),
            vec![1, 1, 1, 1]
        );
    }

    #[test]
    fn implausibly_large_counts_are_refused() {
        let text = format!("{HEADER}R,C,1,1000,600,590,10,300,99999999999\n");
        let e = read_results(text.as_bytes()).unwrap_err();
        assert!(matches!(&e, ResultsError::TooLarge { row: 2, column, .. } if column == "B b"));
    }

    proptest::proptest! {
        // Few cases: the integer test's exact null sums a binomial window of ~10⁵ terms per
        // station at a billion voters, which the second property hits on purpose.
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]

        /// Bad input never panics: arbitrary bytes give stations or a typed error.
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..400)) {
            let _ = read_results(&bytes[..]);
        }

        /// Any well-formed table, however inconsistent its numbers, goes through the filters and
        /// the model-free analyses without panicking, and the filters account for every station.
        #[test]
        fn any_numbers_survive_the_analyses(
            rows in proptest::collection::vec(
                proptest::collection::vec(
                    proptest::prop_oneof![0u64..3000, proptest::strategy::Just(MAX_COUNT), 0u64..=MAX_COUNT],
                    6,
                ),
                1..20,
            ),
        ) {
            let mut text = String::from(HEADER);
            for (i, r) in rows.iter().enumerate() {
                text.push_str(&format!("R,C,{i},{},{},{},{},{},{}\n", r[0], r[1], r[2], r[3], r[4], r[5]));
            }
            let res = read_results(text.as_bytes()).unwrap();
            for leader in 0..2 {
                let sets = station_sets(&res, leader);
                let removed: usize = sets.filters.iter().map(|f| f.removed).sum();
                proptest::prop_assert_eq!(sets.base.len() + removed, rows.len());
                let _ = crate::forensics::stats::integer::integer_test(&sets.base);
                let _ = crate::forensics::stats::fingerprint::fingerprint(&sets.base, &sets.consistent);
            }
        }
    }
}
