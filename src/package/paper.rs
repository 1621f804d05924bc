//! The paper record of an election package, kept apart from the published record: what is in
//! each station's sealed ballot boxes, as an auditor would read it by hand, plus the rules the
//! outcome was declared by (`docs/package-format.md`, "Paper record"; `docs/rla.md`).
//!
//! Kazakhstan's voters (like the scenarios') get two papers: a list ballot and a district
//! ballot. A station's papers of one contest are its **container** (`list` or `district`):
//! paper ballots, stuffed ones included, and the voter-verified paper records (VVPAT) its
//! machine printed, which show what the machine recorded. After the count the commission
//! sorts a container's papers into piles by choice; `paper/ballots.csv` lists the piles in
//! order, so paper `k` of a container (from 1) is the `k`-th when the piles are stacked as
//! listed. Protocol and aggregate fraud change what is published, never the papers.
//!
//! Files: `paper/manifest.csv` (`station,container,papers`, the ballot manifest),
//! `paper/ballots.csv` (`station,container,choice,papers`), `rules.json`.
//! **Never** opens files: writers take `Write`, the reader takes text.

use std::io::{self, Write};

use serde::{Deserialize, Serialize};

use crate::electorate::Electorate;
use crate::model::ElectoralSystem;
use crate::seats::{DistrictRule, Ratio};
use crate::sim::StationCounts;

/// One station's papers: per-choice counts, the last entry for papers without a valid vote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PaperStation {
    /// Station number.
    pub station: u32,
    /// District, if the system has a district tier.
    pub district: Option<u32>,
    /// List papers per party, then invalid.
    pub list: Vec<u64>,
    /// District papers per candidate, then invalid (empty without a district).
    pub candidates: Vec<u64>,
}

/// Every station's papers, by station.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PaperRecord {
    pub stations: Vec<PaperStation>,
}

/// The paper record of a run from the counts in its boxes and machines (the simulator's
/// count layer, `sim::Published::observed`).
pub fn paper_record(e: &Electorate, counts: &StationCounts) -> PaperRecord {
    let stations = e
        .stations
        .iter()
        .enumerate()
        .map(|(i, st)| {
            let candidates = match st.district {
                None => Vec::new(),
                Some(d) => {
                    let n = e.districts[d as usize].candidates.len();
                    let off = e.candidate_offset[i] as usize;
                    let mut v: Vec<u64> = counts.district[off..off + n]
                        .iter()
                        .map(|&x| u64::from(x))
                        .collect();
                    v.push(u64::from(counts.district_invalid[i]));
                    v
                }
            };
            PaperStation {
                station: i as u32,
                district: st.district,
                list: counts.list_of(i).iter().map(|&x| u64::from(x)).collect(),
                candidates,
            }
        })
        .collect();
    PaperRecord { stations }
}

/// The rules the outcome is declared by (`rules.json`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rules {
    /// The list tier, if any.
    pub list: Option<ListRules>,
    /// The district rule (`plurality` or `absolute_majority`), if there is a district tier.
    pub districts: Option<String>,
}

/// A list tier's rules.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListRules {
    pub seats: u32,
    /// A `seats::Method` name.
    pub method: String,
    /// Threshold share as `[num, den]`, if any.
    pub threshold: Option<[u64; 2]>,
    /// `valid` (valid list votes) or `ballots` (all ballots).
    pub threshold_base: String,
}

impl Rules {
    /// The rules of a scenario's system.
    pub fn of(system: &ElectoralSystem) -> Rules {
        Rules {
            list: system.list.as_ref().map(|t| ListRules {
                seats: t.seats,
                method: t.method.name().to_string(),
                threshold: t.threshold.as_ref().map(|th| [th.share.num, th.share.den]),
                threshold_base: if t.threshold_on_ballots {
                    "ballots"
                } else {
                    "valid"
                }
                .to_string(),
            }),
            districts: system.districts.as_ref().map(|d| {
                match d.rule {
                    DistrictRule::Plurality => "plurality",
                    DistrictRule::AbsoluteMajority => "absolute_majority",
                }
                .to_string()
            }),
        }
    }

    /// The threshold as a ratio.
    pub fn threshold(&self) -> Option<Ratio> {
        let [num, den] = self.list.as_ref()?.threshold?;
        Some(Ratio { num, den })
    }

    /// `rules.json` as written.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        s
    }
}

/// Writes `paper/manifest.csv`: one row per container with papers.
pub fn write_paper_manifest<W: Write>(mut w: W, paper: &PaperRecord) -> io::Result<()> {
    writeln!(w, "station,container,papers")?;
    for s in &paper.stations {
        writeln!(w, "{},list,{}", s.station, s.list.iter().sum::<u64>())?;
        if s.district.is_some() {
            writeln!(
                w,
                "{},district,{}",
                s.station,
                s.candidates.iter().sum::<u64>()
            )?;
        }
    }
    w.flush()
}

/// Writes `paper/ballots.csv`: each container's piles in order (empty piles left out).
pub fn write_paper_ballots<W: Write>(
    mut w: W,
    parties: &[String],
    paper: &PaperRecord,
) -> io::Result<()> {
    writeln!(w, "station,container,choice,papers")?;
    for s in &paper.stations {
        let k = s.list.len().saturating_sub(1);
        for (c, &n) in s.list.iter().enumerate().filter(|x| *x.1 > 0) {
            let choice = if c == k {
                "invalid"
            } else {
                parties[c].as_str()
            };
            writeln!(w, "{},list,{},{}", s.station, choice, n)?;
        }
        let k = s.candidates.len().saturating_sub(1);
        for (c, &n) in s.candidates.iter().enumerate().filter(|x| *x.1 > 0) {
            if c == k {
                writeln!(w, "{},district,invalid,{}", s.station, n)?;
            } else {
                writeln!(w, "{},district,{},{}", s.station, c, n)?;
            }
        }
    }
    w.flush()
}

/// A problem in the paper record: which file, which line, what.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file} line {line}: {message}")]
pub struct PaperProblem {
    pub file: &'static str,
    pub line: u64,
    pub message: String,
}

/// One container of the ballot manifest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ManifestRow {
    pub station: u32,
    /// `false`: list, `true`: district.
    pub district: bool,
    pub papers: u64,
}

fn rows<'a>(
    file: &'static str,
    text: &'a str,
    header: &str,
) -> Result<impl Iterator<Item = (u64, Vec<&'a str>)>, PaperProblem> {
    let mut lines = text.lines();
    if lines.next() != Some(header) {
        return Err(PaperProblem {
            file,
            line: 1,
            message: format!("the header must be `{header}`"),
        });
    }
    Ok(lines
        .enumerate()
        .filter(|(_, l)| !l.is_empty())
        .map(|(i, l)| (i as u64 + 2, l.split(',').collect())))
}

fn number(file: &'static str, line: u64, what: &str, s: &str) -> Result<u64, PaperProblem> {
    s.parse().map_err(|_| PaperProblem {
        file,
        line,
        message: format!(
            "{what} `{}` is not a non-negative integer",
            crate::text::echo(s)
        ),
    })
}

fn container(file: &'static str, line: u64, s: &str) -> Result<bool, PaperProblem> {
    match s {
        "list" => Ok(false),
        "district" => Ok(true),
        _ => Err(PaperProblem {
            file,
            line,
            message: format!(
                "container `{}` is neither `list` nor `district`",
                crate::text::echo(s)
            ),
        }),
    }
}

/// Reads `paper/manifest.csv`.
pub fn read_paper_manifest(text: &str) -> Result<Vec<ManifestRow>, PaperProblem> {
    const F: &str = "paper/manifest.csv";
    let mut out = Vec::new();
    for (line, f) in rows(F, text, "station,container,papers")? {
        if f.len() != 3 {
            return Err(PaperProblem {
                file: F,
                line,
                message: format!("expected 3 fields, found {}", f.len()),
            });
        }
        out.push(ManifestRow {
            station: u32::try_from(number(F, line, "station", f[0])?).map_err(|_| {
                PaperProblem {
                    file: F,
                    line,
                    message: "station number too large".into(),
                }
            })?,
            district: container(F, line, f[1])?,
            papers: number(F, line, "papers", f[2])?,
        });
    }
    Ok(out)
}

/// One pile of `paper/ballots.csv`: `choice` is a party index or candidate index, `None` for
/// invalid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pile {
    pub station: u32,
    pub district: bool,
    pub choice: Option<usize>,
    pub papers: u64,
}

/// Reads `paper/ballots.csv`; list choices are party ids of `parties`.
pub fn read_paper_ballots(text: &str, parties: &[String]) -> Result<Vec<Pile>, PaperProblem> {
    const F: &str = "paper/ballots.csv";
    let mut out = Vec::new();
    for (line, f) in rows(F, text, "station,container,choice,papers")? {
        if f.len() != 4 {
            return Err(PaperProblem {
                file: F,
                line,
                message: format!("expected 4 fields, found {}", f.len()),
            });
        }
        let district = container(F, line, f[1])?;
        let choice = if f[2] == "invalid" {
            None
        } else if district {
            Some(number(F, line, "candidate", f[2])? as usize)
        } else {
            Some(
                parties
                    .iter()
                    .position(|p| p == f[2])
                    .ok_or_else(|| PaperProblem {
                        file: F,
                        line,
                        message: format!(
                            "party `{}` is not in manifest.json's parties",
                            crate::text::echo(f[2])
                        ),
                    })?,
            )
        };
        out.push(Pile {
            station: number(F, line, "station", f[0])? as u32,
            district,
            choice,
            papers: number(F, line, "papers", f[3])?,
        });
    }
    Ok(out)
}

/// A station's printed records as they differ from its machine's ledger, per category (list
/// choices then no valid vote; district candidates then no valid vote): printed minus recorded.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PrintedDelta {
    pub list: Vec<i64>,
    pub district: Vec<i64>,
}

/// The printed records of one machine that do not read as their ledger entry (`paper/vvpat.csv`
/// rows), given its ledger `entries` (recorded list and candidate category per entry, the last
/// category of each being no valid vote) and the station's `delta`. The simulation keeps how
/// many records of each choice were printed as another, not which ones: each recorded choice
/// printed as another gives its first entries (in ledger order) to the choices printed in its
/// place, in order. A printed record with no entry at all (a dropped vote printed as chosen)
/// is a paper without a ledger entry, in the piles and not in this list.
pub fn misprints_of(
    station: u32,
    machine: u32,
    entries: &[(usize, usize)],
    delta: &PrintedDelta,
) -> Vec<crate::package::rla::Misprint> {
    /// Per entry, the printed category when it differs for one contest.
    fn reassign(cats: impl Iterator<Item = usize>, delta: &[i64]) -> Vec<Option<usize>> {
        let mut deficit: Vec<i64> = delta.iter().map(|&d| (-d).max(0)).collect();
        let mut surplus: Vec<(usize, i64)> = delta
            .iter()
            .enumerate()
            .filter(|&(_, &d)| d > 0)
            .map(|(c, &d)| (c, d))
            .collect();
        surplus.reverse();
        cats.map(|c| {
            if deficit.get(c).copied().unwrap_or(0) == 0 {
                return None;
            }
            let (to, left) = surplus.last_mut()?;
            let to = *to;
            *left -= 1;
            if *left == 0 {
                surplus.pop();
            }
            deficit[c] -= 1;
            Some(to)
        })
        .collect()
    }
    let list = reassign(entries.iter().map(|e| e.0), &delta.list);
    let district = reassign(entries.iter().map(|e| e.1), &delta.district);
    let some = |c: usize, n: usize| (c < n).then_some(c);
    let (n_list, n_cand) = (
        delta.list.len().saturating_sub(1),
        delta.district.len().saturating_sub(1),
    );
    entries
        .iter()
        .enumerate()
        .filter(|(j, _)| list[*j].is_some() || district[*j].is_some())
        .map(|(j, &(l, d))| crate::package::rla::Misprint {
            station,
            machine,
            entry: j as u64 + 1,
            list: some(list[j].unwrap_or(l), n_list),
            candidate: some(district[j].unwrap_or(d), n_cand),
        })
        .collect()
}

/// Writes `paper/vvpat.csv`: the printed records that do not read as their ledger entry.
pub fn write_misprints<W: Write>(
    mut w: W,
    parties: &[String],
    misprints: &[crate::package::rla::Misprint],
) -> io::Result<()> {
    writeln!(w, "station,machine,entry,list,candidate")?;
    for m in misprints {
        let list = m.list.map_or("invalid", |p| parties[p].as_str());
        let cand = m
            .candidate
            .map_or_else(|| "invalid".to_string(), |c| c.to_string());
        writeln!(w, "{},{},{},{list},{cand}", m.station, m.machine, m.entry)?;
    }
    Ok(())
}
