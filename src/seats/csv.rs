//! The votes table read by `tamga seats`: CSV with a header row naming at least `party` and
//! `votes` (and `district_seats` for mixed systems), one row per party; other columns are
//! ignored. Reads from any `io::Read` (never opens files) and reports the first bad cell with
//! its line and column.

use std::collections::HashMap;
use std::io::Read;

/// Parties in file order with their votes and, if asked for, district seats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoteTable {
    pub parties: Vec<String>,
    pub votes: Vec<u64>,
    pub district_seats: Option<Vec<u32>>,
}

/// A problem in the votes CSV. Lines are 1-based and count the header.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CsvError {
    #[error(
        "line {line}: cannot read the CSV ({message}); save it as UTF-8 text with \
         comma-separated columns and the same number of cells on every line"
    )]
    Malformed { line: u64, message: String },
    #[error(
        "the header has no `{column}` column (found: {found}); the first line must name the \
         columns, at least `party` and `votes`{extra}"
    )]
    MissingColumn {
        column: &'static str,
        found: String,
        extra: &'static str,
    },
    #[error("the header names column `{column}` twice; keep one")]
    DuplicateColumn { column: String },
    #[error("the file has no party rows; add one row per party below the header")]
    Empty,
    #[error(
        "line {line}, column `{column}`: \"{value}\" is {problem}; write a whole number ≥ 0 \
         without separators, e.g. 12345"
    )]
    BadNumber {
        line: u64,
        column: &'static str,
        value: String,
        problem: &'static str,
    },
    #[error("line {line}, column `party`: the party name is empty; give every row a name")]
    EmptyParty { line: u64 },
    #[error(
        "line {line}, column `party`: \"{name}\" already appears on line {first_line}; merge \
         the two rows or give them different names"
    )]
    DuplicateParty {
        line: u64,
        name: String,
        first_line: u64,
    },
}

fn number<T: std::str::FromStr>(s: &str, line: u64, column: &'static str) -> Result<T, CsvError> {
    let bad = |problem| CsvError::BadNumber {
        line,
        column,
        value: s.to_string(),
        problem,
    };
    if s.is_empty() {
        return Err(bad("empty"));
    }
    if s.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse().map_err(|_| bad("too large"));
    }
    let rest = s.strip_prefix('-').unwrap_or("");
    if !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return Err(bad("negative"));
    }
    if s.contains('.') && s.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return Err(bad("not a whole number"));
    }
    Err(bad("not a number"))
}

/// Reads the table. With `district_seats`, the `district_seats` column is required.
pub fn read_votes<R: Read>(reader: R, district_seats: bool) -> Result<VoteTable, CsvError> {
    let mut rdr = ::csv::ReaderBuilder::new()
        .trim(::csv::Trim::All)
        .from_reader(reader);
    let malformed = |e: ::csv::Error| CsvError::Malformed {
        line: e.position().map(|p| p.line()).unwrap_or(1),
        message: match e.kind() {
            ::csv::ErrorKind::UnequalLengths {
                expected_len, len, ..
            } => format!("{len} cells where the header has {expected_len}"),
            ::csv::ErrorKind::Utf8 { .. } => "it is not valid UTF-8".to_string(),
            _ => e.to_string(),
        },
    };
    let header = rdr.headers().map_err(malformed)?.clone();
    let names: Vec<String> = header
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').trim().to_ascii_lowercase())
        .collect();
    let mut seen = std::collections::HashSet::new();
    for a in &names {
        if !a.is_empty() && !seen.insert(a.as_str()) {
            return Err(CsvError::DuplicateColumn { column: a.clone() });
        }
    }
    let found = header.iter().collect::<Vec<_>>().join(", ");
    let col = |name: &'static str, extra: &'static str| {
        names
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| CsvError::MissingColumn {
                column: name,
                found: if found.is_empty() {
                    "nothing".to_string()
                } else {
                    found.clone()
                },
                extra,
            })
    };
    let party_col = col("party", "")?;
    let votes_col = col("votes", "")?;
    let ds_col = if district_seats {
        Some(col(
            "district_seats",
            ", and `district_seats` for a mixed system",
        )?)
    } else {
        None
    };
    let mut table = VoteTable {
        parties: Vec::new(),
        votes: Vec::new(),
        district_seats: ds_col.map(|_| Vec::new()),
    };
    let mut seen: HashMap<String, u64> = HashMap::new();
    for rec in rdr.records() {
        let rec = rec.map_err(malformed)?;
        let line = rec.position().map(|p| p.line()).unwrap_or(0);
        let cell = |c: usize| rec.get(c).unwrap_or("");
        let name = cell(party_col).to_string();
        if name.is_empty() {
            return Err(CsvError::EmptyParty { line });
        }
        if let Some(&first_line) = seen.get(&name) {
            return Err(CsvError::DuplicateParty {
                line,
                name,
                first_line,
            });
        }
        seen.insert(name.clone(), line);
        table.votes.push(number(cell(votes_col), line, "votes")?);
        if let (Some(c), Some(ds)) = (ds_col, table.district_seats.as_mut()) {
            ds.push(number(cell(c), line, "district_seats")?);
        }
        table.parties.push(name);
    }
    if table.parties.is_empty() {
        return Err(CsvError::Empty);
    }
    Ok(table)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(s: &str) -> Result<VoteTable, CsvError> {
        read_votes(s.as_bytes(), false)
    }

    #[test]
    fn reads_parties_in_order_ignoring_extra_columns() {
        let t = read("Party, Votes ,note\nA,10,x\nB , 20,\n").unwrap();
        assert_eq!(t.parties, ["A", "B"]);
        assert_eq!(t.votes, [10, 20]);
        let t = read_votes("party,votes,district_seats\nA,10,2\n".as_bytes(), true).unwrap();
        assert_eq!(t.district_seats, Some(vec![2]));
    }

    #[test]
    fn every_bad_cell_names_its_line_and_column() {
        let e = |s| read(s).unwrap_err();
        assert!(matches!(
            e("party,votes\nA,1\nB,-5\n"),
            CsvError::BadNumber {
                line: 3,
                column: "votes",
                problem: "negative",
                ..
            }
        ));
        assert!(matches!(
            e("party,votes\nA,1.5\n"),
            CsvError::BadNumber {
                line: 2,
                problem: "not a whole number",
                ..
            }
        ));
        assert!(matches!(
            e("party,votes\nA,many\n"),
            CsvError::BadNumber {
                line: 2,
                problem: "not a number",
                ..
            }
        ));
        assert!(matches!(
            e("party,votes\nA,\n"),
            CsvError::BadNumber {
                line: 2,
                problem: "empty",
                ..
            }
        ));
        assert!(matches!(
            e("party,votes\nA,99999999999999999999999\n"),
            CsvError::BadNumber {
                problem: "too large",
                ..
            }
        ));
        assert!(matches!(
            e("party,votes\nA,1\nB,2\nA,3\n"),
            CsvError::DuplicateParty {
                line: 4,
                first_line: 2,
                ..
            }
        ));
        assert!(matches!(
            e("party,votes\n,1\n"),
            CsvError::EmptyParty { line: 2 }
        ));
        assert!(matches!(
            e("name,votes\nA,1\n"),
            CsvError::MissingColumn {
                column: "party",
                ..
            }
        ));
        assert!(matches!(e("party,votes\n"), CsvError::Empty));
        assert!(matches!(e(""), CsvError::MissingColumn { .. }));
        assert!(matches!(
            e("party,votes\nA,1,2\n"),
            CsvError::Malformed { line: 2, .. }
        ));
        assert!(matches!(
            e("party,votes,Votes\nA,1,2\n"),
            CsvError::DuplicateColumn { .. }
        ));
        assert!(matches!(
            read_votes("party,votes\nA,1\n".as_bytes(), true).unwrap_err(),
            CsvError::MissingColumn {
                column: "district_seats",
                ..
            }
        ));
    }
}
