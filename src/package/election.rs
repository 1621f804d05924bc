//! `election.txt`: the canonical election manifest whose SHA-256 is the election id every ledger
//! genesis, published head and checkpoint is bound to (as ElectionGuard binds its manifest into
//! the base hash). It names what an auditor must hold fixed — parties, regions, districts and
//! their candidates, stations with region, district and machines, each machine's and the
//! commission's public key, the ballot shape and the checkpoint interval — so relabelling parties
//! or moving a station to another district changes the id, and every signature and ledger then
//! disagrees with it. Byte by byte in `docs/package-format.md` §election.txt.
//!
//! **Owns**: the text (written by [`ElectionManifest::to_text`], read strictly by
//! [`ElectionManifest::parse`], which lists every problem with its line) and
//! [`ElectionManifest::election_id`]. **Never**: panics on any text; holds more than the
//! declared counts allow (each is capped before anything is allocated).

use std::fmt::Write as _;

use sha2::{Digest, Sha256};

use crate::ledger::{EntryHash, to_hex};
use crate::text::echo_quoted;

/// First line of `election.txt`.
pub const ELECTION_FIRST_LINE: &str = "tamga-election 1";
/// Largest `election.txt` read (a 1,000,000-station election with a machine each is ≈ 120 MB).
pub const MAX_ELECTION_BYTES: u64 = 256 << 20;
/// Most stations, machines or districts declared.
pub const MAX_ELECTION_ITEMS: u64 = 2_000_000;
/// Most parties (a ballot has at most 255 lists).
pub const MAX_PARTIES: u64 = 255;
/// Most candidates in one district (a ballot has at most 65,535).
pub const MAX_DISTRICT_CANDIDATES: usize = 65_535;

/// A district: its region and its candidates' labels in ballot order (a party id, or
/// `independent`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ElectionDistrict {
    pub region: u32,
    pub candidates: Vec<String>,
}

/// A station: region, district (if the system has a district tier), voting machines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ElectionStation {
    pub region: u32,
    pub district: Option<u32>,
    pub machines: u32,
}

/// The canonical election manifest.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ElectionManifest {
    /// Party ids in list order (list index `i` is `parties[i]`).
    pub parties: Vec<String>,
    /// Region names in index order.
    pub regions: Vec<String>,
    /// Districts by index.
    pub districts: Vec<ElectionDistrict>,
    /// Stations by number.
    pub stations: Vec<ElectionStation>,
    /// (station, machine, Ed25519 public key), sorted.
    pub machines: Vec<(u32, u32, [u8; 32])>,
    /// The commission's Ed25519 public key (signs the log of machine heads).
    pub commission: [u8; 32],
    /// A machine signs a checkpoint each time its log reaches a multiple of this many entries,
    /// and at close.
    pub checkpoint_interval: u64,
}

/// A region name as `election.txt` writes it: characters outside printable ASCII (spaces
/// included) as `_`, an empty name as `_`.
pub fn region_name(r: &str) -> String {
    let name: String = r
        .chars()
        .map(|c| if c.is_ascii_graphic() { c } else { '_' })
        .collect();
    if name.is_empty() { "_".into() } else { name }
}

fn token_ok(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_graphic())
}

impl ElectionManifest {
    /// The text: `\n`-terminated lines, fields separated by one space, decimals canonical,
    /// keys 64 lowercase hex. Names (party ids, region names) must be printable ASCII without
    /// spaces; the writer refuses others rather than escape them.
    pub fn to_text(&self) -> Result<String, String> {
        let mut s = String::new();
        let _ = writeln!(s, "{ELECTION_FIRST_LINE}");
        let _ = writeln!(s, "parties {}", self.parties.len());
        for (i, p) in self.parties.iter().enumerate() {
            if !token_ok(p) || p == "independent" || p == "invalid" {
                return Err(format!("party id {} cannot be written", echo_quoted(p)));
            }
            let _ = writeln!(s, "party {i} {p}");
        }
        let _ = writeln!(s, "regions {}", self.regions.len());
        for (i, r) in self.regions.iter().enumerate() {
            let _ = writeln!(s, "region {i} {}", region_name(r));
        }
        let _ = writeln!(s, "districts {}", self.districts.len());
        for (i, d) in self.districts.iter().enumerate() {
            let _ = write!(s, "district {i} {} {}", d.region, d.candidates.len());
            for c in &d.candidates {
                let _ = write!(s, " {c}");
            }
            s.push('\n');
        }
        let _ = writeln!(s, "stations {}", self.stations.len());
        for (i, st) in self.stations.iter().enumerate() {
            let d = st.district.map_or("-".to_string(), |d| d.to_string());
            let _ = writeln!(s, "station {i} {} {d} {}", st.region, st.machines);
        }
        let _ = writeln!(s, "machines {}", self.machines.len());
        for (st, m, key) in &self.machines {
            let _ = writeln!(s, "machine {st} {m} {}", to_hex(key));
        }
        let _ = writeln!(s, "commission {}", to_hex(&self.commission));
        let _ = writeln!(s, "checkpoint-interval {}", self.checkpoint_interval);
        Ok(s)
    }

    /// The election id of a manifest text: SHA-256 of its bytes.
    pub fn election_id(text: &[u8]) -> [u8; 32] {
        Sha256::digest(text).into()
    }

    /// The number of list choices and candidates a machine at `station` must have on its ballot.
    pub fn ballot_shape(&self, station: u32) -> Option<(u8, u16)> {
        let st = self.stations.get(station as usize)?;
        let n_cand = match st.district {
            None => 0,
            Some(d) => self.districts.get(d as usize)?.candidates.len(),
        };
        Some((
            u8::try_from(self.parties.len()).ok()?,
            u16::try_from(n_cand).ok()?,
        ))
    }

    /// A machine's public key.
    pub fn machine_key(&self, station: u32, machine: u32) -> Option<[u8; 32]> {
        self.machines
            .binary_search_by_key(&(station, machine), |m| (m.0, m.1))
            .ok()
            .map(|i| self.machines[i].2)
    }

    /// Reads the text strictly; every problem with its 1-based line.
    pub fn parse(text: &str) -> Result<ElectionManifest, Vec<(u64, String)>> {
        let mut p = Parser {
            lines: text.split_terminator('\n').enumerate(),
            problems: Vec::new(),
            line: 0,
        };
        if !text.ends_with('\n') {
            return Err(vec![(
                1,
                "the file is empty or does not end with a newline".into(),
            )]);
        }
        let mut m = ElectionManifest::default();
        match p.next() {
            Some(l) if l == ELECTION_FIRST_LINE => {}
            _ => {
                return Err(vec![(
                    1,
                    format!("the first line must be `{ELECTION_FIRST_LINE}`"),
                )]);
            }
        }
        let Some(n) = p.count("parties", MAX_PARTIES) else {
            return Err(p.problems);
        };
        for i in 0..n {
            let Some(f) = p.fields("party", 2) else {
                return Err(p.problems);
            };
            p.index(&f[0], i);
            m.parties.push(f[1].clone());
        }
        let Some(n) = p.count("regions", MAX_ELECTION_ITEMS) else {
            return Err(p.problems);
        };
        for i in 0..n {
            let Some(f) = p.fields("region", 2) else {
                return Err(p.problems);
            };
            p.index(&f[0], i);
            m.regions.push(f[1].clone());
        }
        let Some(n) = p.count("districts", MAX_ELECTION_ITEMS) else {
            return Err(p.problems);
        };
        for i in 0..n {
            let Some(l) = p.next() else {
                p.problem("the file ends before every district is listed".into());
                return Err(p.problems);
            };
            let f: Vec<&str> = l.split(' ').collect();
            let ok = f.len() >= 4 && f[0] == "district";
            let n_cand = if ok { p.decimal::<usize>(f[3]) } else { None };
            match n_cand {
                Some(c) if c <= MAX_DISTRICT_CANDIDATES && f.len() == 4 + c => {
                    p.index(f[1], i);
                    let region = p.decimal::<u32>(f[2]).unwrap_or(0);
                    m.districts.push(ElectionDistrict {
                        region,
                        candidates: f[4..].iter().map(|s| s.to_string()).collect(),
                    });
                }
                _ => {
                    p.problem(
                        "expected `district <index> <region> <n> <candidate>…` with n candidates"
                            .into(),
                    );
                    return Err(p.problems);
                }
            }
        }
        let Some(n) = p.count("stations", MAX_ELECTION_ITEMS) else {
            return Err(p.problems);
        };
        for i in 0..n {
            let Some(f) = p.fields("station", 4) else {
                return Err(p.problems);
            };
            p.index(&f[0], i);
            let region = p.decimal::<u32>(&f[1]).unwrap_or(0);
            let district = if f[2] == "-" {
                None
            } else {
                p.decimal::<u32>(&f[2])
            };
            let machines = p.decimal::<u32>(&f[3]).unwrap_or(0);
            m.stations.push(ElectionStation {
                region,
                district,
                machines,
            });
        }
        let Some(n) = p.count("machines", MAX_ELECTION_ITEMS) else {
            return Err(p.problems);
        };
        for _ in 0..n {
            let Some(f) = p.fields("machine", 3) else {
                return Err(p.problems);
            };
            let station = p.decimal::<u32>(&f[0]).unwrap_or(0);
            let machine = p.decimal::<u32>(&f[1]).unwrap_or(0);
            let key = p.key(&f[2]);
            if let Some(last) = m.machines.last()
                && (last.0, last.1) >= (station, machine)
            {
                p.problem("machines must be sorted by station then machine, no duplicates".into());
            }
            m.machines.push((station, machine, key));
        }
        let Some(f) = p.fields("commission", 1) else {
            return Err(p.problems);
        };
        m.commission = p.key(&f[0]);
        let Some(f) = p.fields("checkpoint-interval", 1) else {
            return Err(p.problems);
        };
        m.checkpoint_interval = p.decimal::<u64>(&f[0]).unwrap_or(0);
        if m.checkpoint_interval == 0 {
            p.problem("the checkpoint interval must be at least 1".into());
        }
        if p.next().is_some() {
            p.problem("lines after `checkpoint-interval`".into());
        }
        // cross references
        for (i, d) in m.districts.iter().enumerate() {
            if d.region as usize >= m.regions.len() {
                p.problems.push((
                    0,
                    format!("district {i}: region {} is not listed", d.region),
                ));
            }
        }
        for (i, s) in m.stations.iter().enumerate() {
            if s.region as usize >= m.regions.len()
                || s.district.is_some_and(|d| d as usize >= m.districts.len())
            {
                p.problems.push((
                    0,
                    format!("station {i}: its region or district is not listed"),
                ));
            }
        }
        if p.problems.is_empty() {
            Ok(m)
        } else {
            Err(p.problems)
        }
    }
}

struct Parser<'a, I: Iterator<Item = (usize, &'a str)>> {
    lines: I,
    problems: Vec<(u64, String)>,
    line: u64,
}

impl<'a, I: Iterator<Item = (usize, &'a str)>> Parser<'a, I> {
    fn next(&mut self) -> Option<&'a str> {
        let (i, l) = self.lines.next()?;
        self.line = i as u64 + 1;
        Some(l)
    }
    fn problem(&mut self, m: String) {
        if self.problems.len() < 100 {
            self.problems.push((self.line, m));
        }
    }
    fn decimal<T: std::str::FromStr>(&mut self, s: &str) -> Option<T> {
        let canonical = !s.is_empty()
            && s.bytes().all(|b| b.is_ascii_digit())
            && (s == "0" || !s.starts_with('0'));
        let v = canonical.then(|| s.parse().ok()).flatten();
        if v.is_none() {
            self.problem(format!(
                "{} is not a canonical decimal in range",
                echo_quoted(s)
            ));
        }
        v
    }
    fn key(&mut self, s: &str) -> [u8; 32] {
        match EntryHash::from_hex(s).filter(|_| !s.bytes().any(|b| b.is_ascii_uppercase())) {
            Some(h) => h.0,
            None => {
                self.problem("a key is not 64 lowercase hex digits".into());
                [0; 32]
            }
        }
    }
    fn index(&mut self, s: &str, want: u64) {
        if self.decimal::<u64>(s) != Some(want) {
            self.problem(format!("expected index {want}"));
        }
    }
    /// `<keyword> <count>` with count ≤ max.
    fn count(&mut self, keyword: &str, max: u64) -> Option<u64> {
        let f = self.fields(keyword, 1)?;
        let n = self.decimal::<u64>(&f[0])?;
        if n > max {
            self.problem(format!("more than {max} {keyword}"));
            return None;
        }
        Some(n)
    }
    /// A line `<keyword> f1 … fn` with exactly `n` printable fields.
    fn fields(&mut self, keyword: &str, n: usize) -> Option<Vec<String>> {
        let Some(l) = self.next() else {
            self.problem(format!("the file ends before `{keyword}`"));
            return None;
        };
        let f: Vec<&str> = l.split(' ').collect();
        if f.len() != n + 1 || f[0] != keyword || !f[1..].iter().all(|s| token_ok(s)) {
            self.problem(format!(
                "expected `{keyword}` and {n} field(s) separated by single spaces, found {}",
                echo_quoted(l)
            ));
            return None;
        }
        Some(f[1..].iter().map(|s| s.to_string()).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> ElectionManifest {
        ElectionManifest {
            parties: vec!["blue".into(), "red".into()],
            regions: vec!["North Kazakhstan".into()],
            districts: vec![ElectionDistrict {
                region: 0,
                candidates: vec!["blue".into(), "independent".into()],
            }],
            stations: vec![
                ElectionStation {
                    region: 0,
                    district: Some(0),
                    machines: 1,
                },
                ElectionStation {
                    region: 0,
                    district: None,
                    machines: 0,
                },
            ],
            machines: vec![(0, 0, [7; 32])],
            commission: [9; 32],
            checkpoint_interval: 128,
        }
    }

    #[test]
    fn round_trip_and_every_field_changes_the_id() {
        let m = sample();
        let text = m.to_text().unwrap();
        let mut read = m.clone();
        read.regions = m.regions.iter().map(|r| region_name(r)).collect();
        assert_eq!(ElectionManifest::parse(&text).unwrap(), read);
        assert!(text.contains("region 0 North_Kazakhstan\n"));
        let id = ElectionManifest::election_id(text.as_bytes());
        let mut moved = m.clone();
        moved.stations[1].district = Some(0);
        let mut relabelled = m.clone();
        relabelled.parties.swap(0, 1);
        for other in [moved, relabelled] {
            let t = other.to_text().unwrap();
            assert_ne!(ElectionManifest::election_id(t.as_bytes()), id);
        }
        assert_eq!(m.ballot_shape(0), Some((2, 2)));
        assert_eq!(m.ballot_shape(1), Some((2, 0)));
        assert_eq!(m.machine_key(0, 0), Some([7; 32]));
    }

    #[test]
    fn malformed_texts_are_problems_not_panics() {
        let text = sample().to_text().unwrap();
        for (from, to) in [
            ("parties 2", "parties 99999999999999999999"),
            ("station 1 0 - 0", "station 1 0 5 0"),
            (
                "district 0 0 2 blue independent",
                "district 0 0 3 blue independent",
            ),
            ("checkpoint-interval 128", "checkpoint-interval 0"),
            ("machines 1", "machines 2"),
            ("tamga-election 1", "tamga-election 2"),
        ] {
            let bad = text.replace(from, to);
            assert_ne!(bad, text);
            assert!(ElectionManifest::parse(&bad).is_err(), "{to}");
        }
        for n in 0..text.len() {
            if text.is_char_boundary(n) {
                let _ = ElectionManifest::parse(&text[..n]);
            }
        }
    }
}
