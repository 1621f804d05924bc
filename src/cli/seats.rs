//! `tamga seats`: reads a votes CSV, allocates seats with the library ([`tamga::seats`]) and
//! prints a table, the steps (`--explain`) or one JSON document (`--json`). Owns argument
//! checking and rendering only; never computes seats itself. Values are parsed here rather than
//! by clap so that every bad value is reported as one line (exit 2) naming the option.

use anyhow::{Context, Result, anyhow, bail};
use serde_json::{Value, json};
use std::fmt::Write as _;
use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;
use tamga::seats::{
    self, Allocation, Explanation, Lot, Method, MixedAllocation, MixedInput, Overhang, Ratio,
    Reason, SeatError, Step, Threshold, ThresholdBase, TieBreak,
};

/// The options, boxed so that this subcommand does not bloat the binary's command enum.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    inner: Box<SeatsArgs>,
}

#[derive(clap::Args)]
struct SeatsArgs {
    /// Method: dhondt, sainte_lague, modified_sainte_lague, imperiali, hare, droop.
    #[arg(long, value_name = "METHOD")]
    method: String,
    /// Seats to allocate. With --mmp: the base house size, district seats included. With
    /// --parallel: the size of the list tier.
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    seats: String,
    /// Legal threshold as a share: 7%, 0.07 or 7/100. A party qualifies with votes ≥ share × base.
    #[arg(long, value_name = "SHARE", allow_hyphen_values = true)]
    threshold: Option<String>,
    /// What the threshold share is taken of: `valid` (the listed votes; default) or a number of
    /// ballots (e.g. all ballots cast).
    #[arg(long, value_name = "valid|N", allow_hyphen_values = true)]
    threshold_base: Option<String>,
    /// Threshold alternative: a party that won at least N district seats also qualifies
    /// (needs --mmp or --parallel).
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    or_district_seats: Option<String>,
    /// First divisor of modified_sainte_lague (default 1.4).
    #[arg(long, value_name = "F", allow_hyphen_values = true)]
    first_divisor: Option<String>,
    /// Compensatory mixed system (MMP): read `district_seats`; list seats top up each party's
    /// proportional entitlement.
    #[arg(long)]
    mmp: bool,
    /// Parallel mixed system: read `district_seats`; totals are list seats + district seats.
    #[arg(long)]
    parallel: bool,
    /// With --mmp: `keep` overhang seats (house grows; New Zealand, default) or `level` (enlarge
    /// the house until no overhang remains).
    #[arg(long, value_name = "keep|level")]
    overhang: Option<String>,
    /// With --mmp or --parallel: district seats won by independents or parties not in the file.
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    other_district_seats: Option<String>,
    /// Decide a tie for a seat by a lot seeded with SEED (recorded in the output) instead of
    /// stopping with an error.
    #[arg(long, value_name = "SEED", allow_hyphen_values = true)]
    lot: Option<String>,
    /// Also show the steps: threshold, quota or divisors, and who got each seat and why.
    #[arg(long)]
    explain: bool,
    /// Print the result as one JSON document on stdout.
    #[arg(long)]
    json: bool,
    /// CSV with a header naming `party` and `votes` (and `district_seats` for --mmp/--parallel);
    /// `-` reads standard input.
    #[arg(value_name = "VOTES.csv")]
    votes: PathBuf,
}

#[derive(Clone, Copy, PartialEq)]
enum System {
    List,
    Parallel,
    Mmp(Overhang),
}

fn whole<T: std::str::FromStr>(opt: &str, s: &str, what: &str) -> Result<T> {
    let t = s.trim();
    if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
        bail!("{opt}: \"{s}\" is not a whole number; give {what}");
    }
    t.parse()
        .map_err(|_| anyhow!("{opt}: \"{s}\" is too large; give {what}"))
}

fn names(parties: &[String], idx: &[usize]) -> String {
    let v: Vec<&str> = idx.iter().map(|&i| parties[i].as_str()).collect();
    match v.len() {
        0 => String::new(),
        1 => v[0].to_string(),
        n => format!("{} and {}", v[..n - 1].join(", "), v[n - 1]),
    }
}

/// The library error, with party names where it has indices.
fn seat_error(e: SeatError, parties: &[String]) -> anyhow::Error {
    match e {
        SeatError::Tie {
            parties: tied,
            seats,
            decided,
        } => {
            let before: u64 = decided.iter().map(|&s| u64::from(s)).sum();
            anyhow!(
                "tie: {} have equal claims to the last {seats} seat(s) ({before} seat(s) decided \
                 before the tie); the method cannot decide it — rerun with --lot SEED to draw \
                 lots (recorded in the output), or check the votes",
                names(parties, &tied)
            )
        }
        e => anyhow!(e),
    }
}

pub fn run(args: Args) -> Result<ExitCode> {
    let args = *args.inner;
    // Arguments, resolved and checked.
    let mut method: Method = args
        .method
        .parse()
        .map_err(|e: SeatError| anyhow!("--method: {e}"))?;
    if let Some(f) = &args.first_divisor {
        let Method::ModifiedSainteLague { .. } = method else {
            bail!("--first-divisor applies only to --method modified_sainte_lague; drop it");
        };
        let first_divisor = Ratio::parse(f).map_err(|e| anyhow!("--first-divisor: {e}"))?;
        method = Method::ModifiedSainteLague { first_divisor };
    }
    let house: u32 = whole(
        "--seats",
        &args.seats,
        "the number of seats, e.g. --seats 120",
    )?;
    if args.explain && house > seats::MAX_EXPLAINED_SEATS {
        bail!(
            "--explain shows at most {} seats, one step each, not --seats {house}; drop \
             --explain (allocating without it has no such limit)",
            seats::MAX_EXPLAINED_SEATS
        );
    }
    if args.mmp && args.parallel {
        bail!("--mmp and --parallel are two different systems; give one of them");
    }
    let system = if args.mmp {
        System::Mmp(match args.overhang.as_deref().map(str::trim) {
            None | Some("keep") => Overhang::Keep,
            Some("level") => Overhang::Level,
            Some(o) => bail!("--overhang: \"{o}\" is not keep or level; give one of them"),
        })
    } else if args.parallel {
        System::Parallel
    } else {
        System::List
    };
    if args.overhang.is_some() && !args.mmp {
        bail!("--overhang applies only with --mmp; drop it or add --mmp");
    }
    let mixed = system != System::List;
    for (given, opt) in [
        (args.or_district_seats.is_some(), "--or-district-seats"),
        (
            args.other_district_seats.is_some(),
            "--other-district-seats",
        ),
    ] {
        if given && !mixed {
            bail!(
                "{opt} needs district seats: add --mmp or --parallel and a district_seats column"
            );
        }
    }
    let threshold = match &args.threshold {
        None => {
            if args.threshold_base.is_some() || args.or_district_seats.is_some() {
                bail!("--threshold-base and --or-district-seats qualify a --threshold; add one");
            }
            None
        }
        Some(t) => {
            let share = Ratio::parse(t).map_err(|e| anyhow!("--threshold: {e}"))?;
            if !share.at_most_one() {
                bail!(
                    "--threshold: {t} is more than 100%; give a share such as 7% or 0.07 \
                     (a bare 7 means 700%)"
                );
            }
            let base = match args.threshold_base.as_deref().map(str::trim) {
                None | Some("valid") | Some("listed") => ThresholdBase::ListedVotes,
                Some(b) => ThresholdBase::Ballots(whole(
                    "--threshold-base",
                    b,
                    "`valid` or a number of ballots, e.g. --threshold-base 4893204",
                )?),
            };
            let or_district_seats = match &args.or_district_seats {
                None => None,
                Some(s) => Some(whole(
                    "--or-district-seats",
                    s,
                    "a number of district seats, e.g. --or-district-seats 1",
                )?),
            };
            Some(Threshold {
                share,
                base,
                or_district_seats,
            })
        }
    };
    let other: u32 = match &args.other_district_seats {
        None => 0,
        Some(s) => whole("--other-district-seats", s, "a number of seats")?,
    };
    let ties = match &args.lot {
        None => TieBreak::Report,
        Some(s) => TieBreak::Lot {
            seed: whole("--lot", s, "a seed, a whole number such as --lot 2024")?,
        },
    };

    // Input.
    let shown = args.votes.display().to_string();
    let bytes = if shown == "-" {
        let mut b = Vec::new();
        std::io::stdin()
            .read_to_end(&mut b)
            .context("cannot read standard input")?;
        b
    } else {
        std::fs::read(&args.votes)
            .map_err(|e| anyhow!("cannot read {shown}: {e}; check the path to the votes CSV"))?
    };
    let table = seats::csv::read_votes(&bytes[..], mixed).map_err(|e| anyhow!("{shown}: {e}"))?;
    let parties = &table.parties;

    // Allocation and output.
    let mut out = String::new();
    match system {
        System::List => {
            let (alloc, ex) = if args.explain {
                let (r, ex) = seats::allocate_explained(
                    &method,
                    house,
                    &table.votes,
                    threshold.as_ref(),
                    ties,
                );
                if let Err(e) = r {
                    // Show how far it got, then the error.
                    if !args.json {
                        eprint!("{}", explanation_text(&ex, parties, &table.votes));
                    }
                    return Err(seat_error(e, parties));
                }
                (r.map_err(|e| seat_error(e, parties))?, Some(ex))
            } else {
                let a = seats::allocate(&method, house, &table.votes, threshold.as_ref(), ties)
                    .map_err(|e| seat_error(e, parties))?;
                (a, None)
            };
            if args.json {
                let doc = list_json(
                    &method,
                    house,
                    threshold.as_ref(),
                    ties,
                    &table.votes,
                    parties,
                    &alloc,
                    ex.as_ref(),
                );
                out = serde_json::to_string_pretty(&doc)?;
                out.push('\n');
            } else {
                header(&mut out, &method, house, threshold.as_ref(), &table.votes);
                list_table(&mut out, parties, &table.votes, &alloc);
                lots_text(&mut out, parties, &alloc.lots);
                if let Some(ex) = &ex {
                    out.push_str(&explanation_text(ex, parties, &table.votes));
                }
            }
        }
        System::Parallel | System::Mmp(_) => {
            let ds = table.district_seats.as_deref().unwrap_or(&[]);
            let input = MixedInput {
                method,
                seats: house,
                party_votes: &table.votes,
                district_seats: ds,
                other_district_seats: other,
                threshold,
            };
            let r = match system {
                System::Mmp(o) => seats::mmp(&input, o, ties),
                _ => seats::parallel(&input, ties),
            }
            .map_err(|e| seat_error(e, parties))?;
            // The list (or entitlement) allocation again, step by step, for --explain.
            let ex = if args.explain {
                let pool = r.entitlement.iter().sum();
                let (again, ex) = seats::allocate_among_explained(
                    &method,
                    pool,
                    &table.votes,
                    r.qualified.clone(),
                    ties,
                );
                if let Err(e @ SeatError::TooManyToExplain { .. }) = again {
                    return Err(seat_error(e, parties));
                }
                Some(ex)
            } else {
                None
            };
            if args.json {
                let doc = mixed_json(&input, system, ties, parties, &r, ex.as_ref());
                out = serde_json::to_string_pretty(&doc)?;
                out.push('\n');
            } else {
                header(
                    &mut out,
                    &method,
                    house,
                    input.threshold.as_ref(),
                    &table.votes,
                );
                mixed_table(&mut out, system, parties, &table.votes, &r);
                lots_text(&mut out, parties, &r.lots);
                if let Some(ex) = &ex {
                    out.push_str(&explanation_text(ex, parties, &table.votes));
                }
            }
        }
    }
    print!("{out}");
    Ok(ExitCode::SUCCESS)
}

fn share(v: u64, total: u64) -> String {
    if total == 0 {
        return "-".into();
    }
    format!("{:.2}%", v as f64 * 100.0 / total as f64)
}

fn header(out: &mut String, m: &Method, house: u32, t: Option<&Threshold>, votes: &[u64]) {
    let total: u64 = votes.iter().fold(0u64, |a, &v| a.saturating_add(v));
    let _ = write!(out, "{m}, {house} seats, {total} listed votes");
    if let Some(t) = t {
        let base = match t.base {
            ThresholdBase::ListedVotes => "the listed votes".to_string(),
            ThresholdBase::Ballots(b) => format!("{b} ballots"),
        };
        let _ = write!(out, ", threshold {} of {base}", t.share.percent());
        if let Some(n) = t.or_district_seats {
            let _ = write!(out, " or {n} district seat(s)");
        }
    }
    out.push('\n');
}

fn width(parties: &[String]) -> usize {
    parties
        .iter()
        .map(|p| p.chars().count())
        .max()
        .unwrap_or(5)
        .max(5)
}

fn pad(s: &str, w: usize) -> String {
    let n = s.chars().count();
    format!("{s}{}", " ".repeat(w.saturating_sub(n)))
}

fn list_table(out: &mut String, parties: &[String], votes: &[u64], a: &Allocation) {
    let w = width(parties);
    let total: u64 = votes.iter().fold(0u64, |x, &v| x.saturating_add(v));
    let _ = writeln!(
        out,
        "{}  {:>12}  {:>7}  {:>5}",
        pad("party", w),
        "votes",
        "share",
        "seats"
    );
    for i in 0..parties.len() {
        let note = if a.qualified[i] {
            ""
        } else {
            "  below threshold"
        };
        let _ = writeln!(
            out,
            "{}  {:>12}  {:>7}  {:>5}{note}",
            pad(&parties[i], w),
            votes[i],
            share(votes[i], total),
            a.seats[i]
        );
    }
    let _ = writeln!(
        out,
        "{}  {:>12}  {:>7}  {:>5}",
        pad("total", w),
        total,
        "",
        a.seats.iter().map(|&s| u64::from(s)).sum::<u64>()
    );
}

fn mixed_table(
    out: &mut String,
    system: System,
    parties: &[String],
    votes: &[u64],
    r: &MixedAllocation,
) {
    let w = width(parties);
    let total: u64 = votes.iter().fold(0u64, |x, &v| x.saturating_add(v));
    let mmp = matches!(system, System::Mmp(_));
    let _ = write!(
        out,
        "{}  {:>12}  {:>7}  {:>8}  {:>4}  {:>5}",
        pad("party", w),
        "votes",
        "share",
        "district",
        "list",
        "total"
    );
    out.push_str(if mmp { "  entitled  overhang\n" } else { "\n" });
    for i in 0..parties.len() {
        let _ = write!(
            out,
            "{}  {:>12}  {:>7}  {:>8}  {:>4}  {:>5}",
            pad(&parties[i], w),
            votes[i],
            share(votes[i], total),
            r.district[i],
            r.list[i],
            r.total[i]
        );
        if mmp {
            let _ = write!(out, "  {:>8}  {:>8}", r.entitlement[i], r.overhang[i]);
        }
        out.push_str(if r.qualified[i] {
            "\n"
        } else {
            "  below threshold\n"
        });
    }
    let sum = |v: &[u32]| v.iter().map(|&s| u64::from(s)).sum::<u64>();
    let _ = writeln!(
        out,
        "{}  {:>12}  {:>7}  {:>8}  {:>4}  {:>5}",
        pad("total", w),
        total,
        "",
        sum(&r.district),
        sum(&r.list),
        sum(&r.total)
    );
    let other = u64::from(r.house) - sum(&r.total);
    if other > 0 {
        let _ = writeln!(out, "district seats outside the listed parties: {other}");
    }
    let _ = writeln!(out, "house: {} seats", r.house);
}

fn lots_text(out: &mut String, parties: &[String], lots: &[Lot]) {
    for l in lots {
        let _ = writeln!(
            out,
            "lot (seed {}): {} tied for {} seat(s); won by {}",
            l.seed,
            names(parties, &l.among),
            l.seats,
            names(parties, &l.winners)
        );
    }
}

fn explanation_text(ex: &Explanation, parties: &[String], votes: &[u64]) -> String {
    let mut out = String::from("\nsteps:\n");
    let w = width(parties);
    if let Some(t) = &ex.threshold {
        let n_q = ex.qualified.iter().filter(|&&q| q).count();
        let _ = writeln!(
            out,
            "  threshold {} of {} = {} votes{}; {n_q} of {} parties qualify",
            t.share.percent(),
            t.base,
            t.required,
            t.or_district_seats
                .map(|n| format!(" (or {n} district seat(s))"))
                .unwrap_or_default(),
            parties.len()
        );
    }
    if let Some(q) = &ex.quota {
        let _ = writeln!(
            out,
            "  quota {q} votes per seat (exactly {}/{}; over the qualified parties' votes)",
            q.num, q.den
        );
    }
    if !ex.divisors.is_empty() {
        let d: Vec<String> = ex.divisors.iter().map(|d| d.to_string()).collect();
        let _ = writeln!(out, "  divisors {}, …", d.join(", "));
    }
    for s in &ex.steps {
        match s {
            Step::WholeQuotas {
                party,
                whole,
                remainder,
            } => {
                let _ = writeln!(
                    out,
                    "  {}  {:>12} votes = {whole} whole quota(s) + remainder {remainder}",
                    pad(&parties[*party], w),
                    votes[*party]
                );
            }
            Step::Seat {
                seat,
                party,
                value,
                reason,
            } => {
                let (what, why) = match reason {
                    Reason::HighestQuotient => ("quotient", "highest quotient".to_string()),
                    Reason::LargestRemainder => ("remainder", "largest remainder".to_string()),
                    Reason::TiedAllSeated { with } => (
                        if ex.quota.is_some() {
                            "remainder"
                        } else {
                            "quotient"
                        },
                        format!("tied with {}, all of them seated", names(parties, with)),
                    ),
                    Reason::Lot => ("value", "won the lot".to_string()),
                };
                let _ = writeln!(
                    out,
                    "  seat {seat:>4}  {}  {what} {value}  ({why})",
                    pad(&parties[*party], w)
                );
            }
            Step::Lot {
                among,
                seats,
                winners,
            } => {
                let _ = writeln!(
                    out,
                    "  lot among {} for {seats} seat(s): won by {}",
                    names(parties, among),
                    names(parties, winners)
                );
            }
        }
    }
    out
}

fn lots_json(parties: &[String], lots: &[Lot]) -> Value {
    let named = |idx: &[usize]| idx.iter().map(|&i| parties[i].clone()).collect::<Vec<_>>();
    lots.iter()
        .map(|l| {
            json!({
                "seed": l.seed,
                "seats": l.seats,
                "among": named(&l.among),
                "winners": named(&l.winners),
            })
        })
        .collect()
}

fn threshold_json(t: Option<&Threshold>) -> Value {
    match t {
        None => Value::Null,
        Some(t) => json!({
            "share": t.share.to_string(),
            "base": match t.base {
                ThresholdBase::ListedVotes => json!("valid"),
                ThresholdBase::Ballots(b) => json!(b),
            },
            "or_district_seats": t.or_district_seats,
        }),
    }
}

fn ties_json(t: TieBreak) -> Value {
    match t {
        TieBreak::Report => json!("report"),
        TieBreak::Lot { seed } => json!({ "lot": { "seed": seed } }),
    }
}

#[allow(clippy::too_many_arguments)]
fn list_json(
    m: &Method,
    house: u32,
    t: Option<&Threshold>,
    ties: TieBreak,
    votes: &[u64],
    parties: &[String],
    a: &Allocation,
    ex: Option<&Explanation>,
) -> Value {
    let rows: Vec<Value> = (0..parties.len())
        .map(|i| {
            json!({
                "party": parties[i],
                "votes": votes[i],
                "qualified": a.qualified[i],
                "seats": a.seats[i],
            })
        })
        .collect();
    let mut doc = json!({
        "system": "list",
        "method": m.name(),
        "method_detail": m.to_string(),
        "seats": house,
        "threshold": threshold_json(t),
        "ties": ties_json(ties),
        "parties": rows,
        "lots": lots_json(parties, &a.lots),
    });
    if let Some(ex) = ex {
        doc["explanation"] = json!(ex);
    }
    doc
}

fn mixed_json(
    input: &MixedInput,
    system: System,
    ties: TieBreak,
    parties: &[String],
    r: &MixedAllocation,
    ex: Option<&Explanation>,
) -> Value {
    let rows: Vec<Value> = (0..parties.len())
        .map(|i| {
            json!({
                "party": parties[i],
                "votes": input.party_votes[i],
                "qualified": r.qualified[i],
                "district_seats": r.district[i],
                "list_seats": r.list[i],
                "entitlement": r.entitlement[i],
                "overhang": r.overhang[i],
                "seats": r.total[i],
            })
        })
        .collect();
    let (name, overhang) = match system {
        System::Mmp(Overhang::Keep) => ("mmp", json!("keep")),
        System::Mmp(Overhang::Level) => ("mmp", json!("level")),
        _ => ("parallel", Value::Null),
    };
    let mut doc = json!({
        "system": name,
        "method": input.method.name(),
        "method_detail": input.method.to_string(),
        "seats": input.seats,
        "overhang_rule": overhang,
        "other_district_seats": input.other_district_seats,
        "threshold": threshold_json(input.threshold.as_ref()),
        "ties": ties_json(ties),
        "house": r.house,
        "parties": rows,
        "lots": lots_json(parties, &r.lots),
    });
    if let Some(ex) = ex {
        doc["explanation"] = json!(ex);
    }
    doc
}
