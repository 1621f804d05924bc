//! The published-heads file: one line per machine with its ballot count and head, as announced at
//! close (the trusted later hash of REFERENCES.md §2 / RFC 9162's signed tree head, without the
//! signature).
//!
//! Owns the text format (`docs/ledger-format.md` §6) and its strict parser, which
//! reports every bad line with its number. Never reads or writes files itself.
//!
//! ```text
//! tamga-heads 1 <election id: 64 lowercase hex>
//! <station> <machine> <n_ballots> <head: 64 lowercase hex>
//! ```
//! ASCII, `\n` line ends (the last line too), fields separated by one space, decimals without
//! leading zeros, lines sorted by (station, machine) strictly ascending.

use std::fmt::Write as _;

use super::hash::{EntryHash, to_hex};

/// The first word and version on the first line of a heads file.
pub const HEADS_FIRST_LINE: &str = "tamga-heads 1";

/// What was published for one machine at close.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PublishedHead {
    /// The election the ledger must be bound to.
    pub election_id: [u8; 32],
    /// Polling station.
    pub station: u32,
    /// Machine within the station.
    pub machine: u32,
    /// Ballot entries in the ledger.
    pub n_ballots: u64,
    /// Hash of the close entry.
    pub head: EntryHash,
}

/// A whole heads file: one election, heads sorted by (station, machine).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublishedHeads {
    /// The election all heads belong to.
    pub election_id: [u8; 32],
    heads: Vec<PublishedHead>,
}

/// A heads file that does not follow the format; lists every problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the published-heads file is malformed: {}", .problems.iter().map(|(l, m)| format!("line {l}: {m}")).collect::<Vec<_>>().join("; "))]
pub struct HeadsError {
    /// (1-based line number, what is wrong) for each problem, in file order.
    pub problems: Vec<(usize, String)>,
}

impl PublishedHeads {
    /// Builds the heads of one election; errors if an entry belongs to another election or a
    /// (station, machine) appears twice.
    pub fn new(
        election_id: [u8; 32],
        heads: impl IntoIterator<Item = PublishedHead>,
    ) -> Result<PublishedHeads, HeadsError> {
        let mut heads: Vec<PublishedHead> = heads.into_iter().collect();
        heads.sort_by_key(|h| (h.station, h.machine));
        let mut problems = vec![];
        for (i, h) in heads.iter().enumerate() {
            if h.election_id != election_id {
                problems.push((
                    0,
                    format!(
                        "station {} machine {} belongs to election {}, not {}",
                        h.station,
                        h.machine,
                        to_hex(&h.election_id),
                        to_hex(&election_id)
                    ),
                ));
            }
            if i > 0 && (heads[i - 1].station, heads[i - 1].machine) == (h.station, h.machine) {
                problems.push((
                    0,
                    format!("station {} machine {} appears twice", h.station, h.machine),
                ));
            }
        }
        if problems.is_empty() {
            Ok(PublishedHeads { election_id, heads })
        } else {
            Err(HeadsError { problems })
        }
    }

    /// The heads, sorted by (station, machine).
    pub fn heads(&self) -> &[PublishedHead] {
        &self.heads
    }

    /// The head published for a machine, if any.
    pub fn get(&self, station: u32, machine: u32) -> Option<&PublishedHead> {
        self.heads
            .binary_search_by_key(&(station, machine), |h| (h.station, h.machine))
            .ok()
            .map(|i| &self.heads[i])
    }

    /// The file's text.
    pub fn to_text(&self) -> String {
        let mut s = format!("{HEADS_FIRST_LINE} {}\n", to_hex(&self.election_id));
        for h in &self.heads {
            let _ = writeln!(s, "{} {} {} {}", h.station, h.machine, h.n_ballots, h.head);
        }
        s
    }

    /// Parses a heads file strictly, reporting every malformed line.
    pub fn parse(text: &str) -> Result<PublishedHeads, HeadsError> {
        let mut problems: Vec<(usize, String)> = vec![];
        if text.is_empty() {
            return Err(HeadsError {
                problems: vec![(
                    1,
                    format!("empty file; expected `{HEADS_FIRST_LINE} <election id hex>`"),
                )],
            });
        }
        if !text.ends_with('\n') {
            problems.push((
                text.lines().count(),
                "the last line does not end with \\n (the file may be truncated)".into(),
            ));
        }
        let mut lines = text
            .split_terminator('\n')
            .enumerate()
            .map(|(i, l)| (i + 1, l));
        let mut election_id = None;
        if let Some((n, first)) = lines.next() {
            match first.strip_prefix(HEADS_FIRST_LINE).and_then(|r| r.strip_prefix(' ')) {
                Some(hex) => match parse_lower_hex32(hex) {
                    Some(id) => election_id = Some(id),
                    None => problems.push((n, "the election id is not 64 lowercase hex digits".into())),
                },
                None => problems.push((
                    n,
                    format!("expected `{HEADS_FIRST_LINE} <election id hex>` (unknown format or version)"),
                )),
            }
        }
        let mut heads: Vec<PublishedHead> = vec![];
        for (n, line) in lines {
            match parse_head_line(line) {
                Ok((station, machine, n_ballots, head)) => {
                    if let Some(prev) = heads.last()
                        && (prev.station, prev.machine) >= (station, machine)
                    {
                        problems.push((
                            n,
                            format!(
                                "station {station} machine {machine} is not after station {} machine {} (lines must be sorted, no duplicates)",
                                prev.station, prev.machine
                            ),
                        ));
                    }
                    heads.push(PublishedHead {
                        election_id: election_id.unwrap_or([0; 32]),
                        station,
                        machine,
                        n_ballots,
                        head,
                    });
                }
                Err(m) => problems.push((n, m)),
            }
        }
        match election_id {
            Some(election_id) if problems.is_empty() => Ok(PublishedHeads { election_id, heads }),
            _ => Err(HeadsError { problems }),
        }
    }
}

fn parse_lower_hex32(s: &str) -> Option<[u8; 32]> {
    if s.bytes().any(|b| b.is_ascii_uppercase()) {
        return None;
    }
    EntryHash::from_hex(s).map(|h| h.0)
}

/// A decimal without sign, leading zeros or other characters.
fn parse_decimal<T: std::str::FromStr>(s: &str, what: &str) -> Result<T, String> {
    let canonical =
        !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'));
    if !canonical {
        return Err(format!(
            "{what} {} is not a decimal number without leading zeros",
            crate::text::echo_quoted(s)
        ));
    }
    s.parse()
        .map_err(|_| format!("{what} {} is out of range", crate::text::echo(s)))
}

fn parse_head_line(line: &str) -> Result<(u32, u32, u64, EntryHash), String> {
    let fields: Vec<&str> = line.split(' ').collect();
    if fields.len() != 4 {
        return Err(format!(
            "expected `<station> <machine> <n_ballots> <head hex>` separated by single spaces, found {} fields",
            fields.len()
        ));
    }
    let station = parse_decimal(fields[0], "station")?;
    let machine = parse_decimal(fields[1], "machine")?;
    let n_ballots = parse_decimal(fields[2], "ballot count")?;
    let head = parse_lower_hex32(fields[3])
        .map(EntryHash)
        .ok_or_else(|| "the head is not 64 lowercase hex digits".to_string())?;
    Ok((station, machine, n_ballots, head))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(station: u32, machine: u32) -> PublishedHead {
        PublishedHead {
            election_id: [0xab; 32],
            station,
            machine,
            n_ballots: 10 + station as u64,
            head: EntryHash([station as u8; 32]),
        }
    }

    #[test]
    fn round_trip_sorted() {
        let h = PublishedHeads::new([0xab; 32], [head(2, 1), head(1, 2), head(1, 1)]).unwrap();
        let text = h.to_text();
        assert!(text.starts_with("tamga-heads 1 abab"));
        assert_eq!(
            text.lines()
                .nth(1)
                .unwrap()
                .split(' ')
                .take(2)
                .collect::<Vec<_>>(),
            ["1", "1"]
        );
        assert_eq!(PublishedHeads::parse(&text).unwrap(), h);
        assert_eq!(h.get(1, 2).unwrap().n_ballots, 11);
        assert!(h.get(3, 1).is_none());
    }

    #[test]
    fn reports_every_bad_line() {
        let good = PublishedHeads::new([0xab; 32], [head(1, 1), head(2, 1)])
            .unwrap()
            .to_text();
        let mut lines: Vec<String> = good.lines().map(String::from).collect();
        lines[1] = lines[1].replacen("1 1 11", "1 01 11", 1);
        lines.push(lines[2].clone());
        lines.push("x".into());
        let bad = lines.join("\n");
        let e = PublishedHeads::parse(&bad).unwrap_err();
        let at: Vec<usize> = e.problems.iter().map(|p| p.0).collect();
        assert_eq!(at, vec![5, 2, 4, 5], "{e}");
    }

    #[test]
    fn rejects_wrong_first_line_and_duplicates() {
        assert!(PublishedHeads::parse("tamga-heads 2 00\n").is_err());
        assert!(PublishedHeads::parse("").is_err());
        assert!(PublishedHeads::new([0xab; 32], [head(1, 1), head(1, 1)]).is_err());
    }
}
