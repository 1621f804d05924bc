//! From a parsed TOML document to a validated [`Scenario`], collecting every problem.
//!
//! Each section has its own function; each reads its keys through [`Node`] and checks ranges,
//! sums and cross-references (party ids, district counts, seat totals). Variants are merged into
//! the base document and validated with the same functions; their problems carry a
//! `variant[i]` prefix.

use super::reader::{Node, Problem, Problems, choice_hint, number_map};
use crate::model::*;
use crate::seats::{DistrictRule, Method, Threshold};
use crate::seats::{Ratio, ThresholdBase};
use crate::text::echo;

/// Top-level tables a variant may override.
const MODEL_KEYS: &[&str] = &[
    "system",
    "region",
    "stations",
    "turnout",
    "preferences",
    "ballots",
    "candidates",
    "runoff",
    "fraud",
    "vvpat",
];

/// Party indices are stored in one byte in ballots and ledgers, with room for markers.
pub const MAX_PARTIES: usize = 250;
/// Tolerance on shares that must sum to one.
const SUM_TOLERANCE: f64 = 1e-3;

pub(super) fn build(doc: &toml::Table, digest: String) -> Result<Scenario, Vec<Problem>> {
    let mut p = Problems::default();
    let root = Node::new("", doc);

    match root.req_u64("format", &mut p) {
        Some(FORMAT_VERSION) | None => {}
        Some(v) => p.push(
            "format",
            format!("format version {v} is not supported"),
            format!("this tamga reads format {FORMAT_VERSION}; see docs/scenario-format.md"),
        ),
    }
    let meta = meta(&root, &mut p);
    let parties = parties(&root, &mut p);
    let montecarlo = montecarlo(&root, &mut p);
    let reported = root
        .opt_table("reported", &mut p)
        .map(|n| reported(&n, &parties, &mut p));
    let base = model(&root, &parties, reported.as_ref(), &mut p);
    let detectors = super::detectors::detectors(&root, &mut p);
    let inference = root.opt_table("inference", &mut p).map(|n| {
        let regions = base.as_ref().map(|m| m.regions.as_slice());
        super::inference::inference(&n, &parties, regions, &mut p)
    });
    let variant_nodes = root.tables("variant", &mut p);
    root.finish(&mut p);

    let mut variants = Vec::new();
    if variant_nodes.is_empty() {
        if let Some(model) = base {
            variants.push(Variant {
                name: "base".into(),
                description: "the scenario as written".into(),
                baseline: None,
                extends: None,
                model,
            });
        }
    } else {
        // a set: a variant repeats every problem of the base, and there may be many
        let base_problems: std::collections::BTreeSet<Problem> = p.0.iter().cloned().collect();
        let mut seen_names: std::collections::HashSet<String> = std::collections::HashSet::new();
        let mut base_doc = doc.clone();
        base_doc.remove("variant");
        let mut merged_docs: Vec<(String, toml::Table)> = Vec::new();
        for vnode in &variant_nodes {
            let name = vnode.req_str("name", &mut p).unwrap_or("").to_string();
            let description = vnode
                .opt_str("description", &mut p)
                .unwrap_or("")
                .to_string();
            let baseline = vnode.opt_str("baseline", &mut p).map(str::to_string);
            let extends = vnode.opt_str("extends", &mut p).map(str::to_string);
            if name.is_empty() && vnode.has("name") {
                p.push(
                    &vnode.path_of("name"),
                    "is empty",
                    "give the variant a name",
                );
            } else if !name.is_empty() && !is_identifier(&name) {
                p.push(
                    &vnode.path_of("name"),
                    format!("`{name}` is not a simple name"),
                    "use letters, digits, '-' and '_' only",
                );
            }
            if !seen_names.insert(name.clone()) && !name.is_empty() {
                p.push(
                    &vnode.path_of("name"),
                    format!("variant `{name}` is defined twice"),
                    "give each variant its own name",
                );
            }
            // the overrides of the variant this one extends (defined earlier), then its own
            let mut merged = match vnode.opt_str("extends", &mut p) {
                None => base_doc.clone(),
                Some(parent) => match merged_docs.iter().find(|(n, _)| n == parent) {
                    Some((_, doc)) => doc.clone(),
                    None => {
                        p.push(
                            &vnode.path_of("extends"),
                            format!("there is no variant `{parent}` defined before this one"),
                            "extend a variant defined earlier in the file",
                        );
                        base_doc.clone()
                    }
                },
            };
            let overrides = vnode.raw_table();
            for (key, value) in overrides {
                if matches!(
                    key.as_str(),
                    "name" | "description" | "baseline" | "extends"
                ) {
                    continue;
                }
                if !MODEL_KEYS.contains(&key.as_str()) {
                    p.push(
                        &vnode.path_of(key),
                        "cannot be overridden by a variant",
                        format!("a variant may override: {}", MODEL_KEYS.join(", ")),
                    );
                    continue;
                }
                merge_into(&mut merged, key, value);
            }
            merged_docs.push((name.clone(), merged.clone()));
            let mroot = Node::new("", &merged);
            let mut vp = Problems::default();
            let model = model(&mroot, &parties, reported.as_ref(), &mut vp);
            for prob in vp.0 {
                if !base_problems.contains(&prob) {
                    p.0.push(Problem {
                        path: format!("{} ({name}): {}", vnode.path, prob.path),
                        ..prob
                    });
                }
            }
            if let Some(model) = model {
                variants.push(Variant {
                    name,
                    description,
                    baseline,
                    extends,
                    model,
                });
            }
        }
    }

    for (i, v) in variants.iter().enumerate() {
        if let Some(b) = &v.baseline {
            match variants.iter().find(|x| &x.name == b) {
                None => p.push(
                    &format!("variant[{i}].baseline"),
                    format!("there is no variant `{b}`"),
                    "name an honest variant defined in this file",
                ),
                Some(x) if !x.is_honest() => p.push(
                    &format!("variant[{i}].baseline"),
                    format!("variant `{b}` has fraud models"),
                    "the baseline must be an honest variant (no [[fraud]])",
                ),
                _ => {}
            }
        }
    }
    if let Some(inf) = &inference {
        super::inference::check_hypothesis(inf, &variants, &mut p);
    }
    if !p.is_empty() {
        return Err(p.0);
    }
    Ok(Scenario {
        digest,
        meta,
        parties,
        montecarlo,
        reported,
        variants,
        detectors,
        inference,
    })
}

/// Merges `value` into `doc[key]`: tables key by key (recursively), anything else replaced.
fn merge_into(doc: &mut toml::Table, key: &str, value: &toml::Value) {
    match (doc.get_mut(key), value) {
        (Some(toml::Value::Table(existing)), toml::Value::Table(over)) => {
            for (k, v) in over {
                merge_into(existing, k, v);
            }
        }
        _ => {
            doc.insert(key.to_string(), value.clone());
        }
    }
}

pub(super) fn is_identifier(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn meta(root: &Node<'_>, p: &mut Problems) -> Meta {
    let Some(n) = root.req_table("election", p) else {
        return Meta {
            name: String::new(),
            country: String::new(),
            date: String::new(),
            description: String::new(),
        };
    };
    let m = Meta {
        name: n.req_str("name", p).unwrap_or("").to_string(),
        country: n.opt_str("country", p).unwrap_or("").to_string(),
        date: n.opt_str("date", p).unwrap_or("").to_string(),
        description: n.opt_str("description", p).unwrap_or("").to_string(),
    };
    n.finish(p);
    m
}

fn parties(root: &Node<'_>, p: &mut Problems) -> Vec<Party> {
    let nodes = root.tables("party", p);
    if nodes.is_empty() {
        p.push(
            "party",
            "no parties",
            "add at least one [[party]] with an id and a name",
        );
    }
    if nodes.len() > MAX_PARTIES {
        p.push(
            "party",
            format!(
                "{} parties; at most {MAX_PARTIES} are supported",
                nodes.len()
            ),
            "merge small lists into an `others` party",
        );
    }
    let mut out: Vec<Party> = Vec::new();
    for n in nodes {
        let id = n.req_str("id", p).unwrap_or("").to_string();
        let name = n.opt_str("name", p).unwrap_or(&id).to_string();
        if n.has("id") && !is_identifier(&id) {
            p.push(
                &n.path_of("id"),
                format!("`{id}` is not a simple identifier"),
                "use letters, digits, '-' and '_' only; put the full name in `name`",
            );
        }
        if id == "independent" {
            p.push(
                &n.path_of("id"),
                "`independent` is reserved for independent candidates",
                "choose another id",
            );
        }
        if out.iter().any(|q| q.id == id) && !id.is_empty() {
            p.push(
                &n.path_of("id"),
                format!("party id `{id}` is used twice"),
                "give each party its own id",
            );
        }
        n.finish(p);
        out.push(Party { id, name });
    }
    out
}

fn montecarlo(root: &Node<'_>, p: &mut Problems) -> MonteCarlo {
    let mut mc = MonteCarlo {
        runs: 100,
        seed: 1,
        path: SimPath::default(),
    };
    if let Some(n) = root.opt_table("montecarlo", p) {
        if let Some(r) = n.u64_in("runs", 1, crate::model::MAX_RUNS as u64, false, p) {
            mc.runs = r as u32;
        }
        if let Some(s) = n.opt_u64("seed", p) {
            mc.seed = s;
        }
        if let Some(s) = n.opt_str("path", p) {
            match SimPath::from_name(s) {
                Some(path) => mc.path = path,
                None => p.push(
                    &n.path_of("path"),
                    format!("unknown path `{s}`"),
                    "use \"hybrid\" (the default), \"ballot\" (every ballot) or \"station\" (station counts drawn directly)",
                ),
            }
        }
        n.finish(p);
    }
    mc
}

/// A party's entry in a `{ party_id = value }` table.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Given {
    /// The party has no entry.
    Absent,
    /// The entry is not a finite number (a problem already recorded).
    Invalid,
    Value(f64),
}

/// Reads a `{ party_id = value }` table into party order; unknown ids are problems.
fn party_values(
    n: &Node<'_>,
    parties: &[Party],
    extra: Option<&str>,
    p: &mut Problems,
) -> Vec<Given> {
    let mut out = vec![Given::Absent; parties.len() + usize::from(extra.is_some())];
    let index: std::collections::HashMap<&str, usize> = parties
        .iter()
        .enumerate()
        .map(|(i, q)| (q.id.as_str(), i))
        .collect();
    for (key, v) in number_map(n, p) {
        let given = v.map_or(Given::Invalid, Given::Value);
        if let Some(&i) = index.get(key.as_str()) {
            out[i] = given;
        } else if Some(key.as_str()) == extra {
            out[parties.len()] = given;
        } else if !parties.is_empty() {
            // (with no parties at all, the one problem `party: no parties` says it)
            p.push(
                &n.path_of(&key),
                format!("`{}` is not a party id", echo(&key)),
                party_hint(&key, parties, extra),
            );
        }
    }
    out
}

/// The hint for a party id that is not one: the nearest id, then every id (and `extra`).
fn party_hint(id: &str, parties: &[Party], extra: Option<&str>) -> String {
    let ids: Vec<&str> = parties.iter().map(|q| q.id.as_str()).chain(extra).collect();
    choice_hint(id, &ids, "the party ids")
}

fn counts(
    n: &Node<'_>,
    parties: &[Party],
    extra: Option<&str>,
    p: &mut Problems,
) -> Option<Vec<u64>> {
    let vals = party_values(n, parties, extra, p);
    let mut out = Vec::with_capacity(vals.len());
    let mut ok = true;
    for (i, v) in vals.iter().enumerate() {
        let v = match *v {
            Given::Value(v) => v,
            Given::Absent => 0.0,
            Given::Invalid => {
                ok = false;
                continue;
            }
        };
        if v < 0.0 || v.fract() != 0.0 {
            let id = parties
                .get(i)
                .map(|q| q.id.as_str())
                .unwrap_or("independent");
            p.push(
                &n.path_of(id),
                format!("{v} is not a whole count"),
                "use a whole number of zero or more",
            );
            ok = false;
        }
        out.push(v as u64);
    }
    ok.then_some(out)
}

/// `reported.stations`: a non-empty path, kept as written (the commands resolve and read it).
fn stations_path(n: &Node<'_>, p: &mut Problems) -> Option<String> {
    let s = n.opt_str("stations", p)?;
    if s.trim().is_empty() {
        p.push(
            &n.path_of("stations"),
            "an empty path".to_string(),
            "give the station-results CSV (plain or .gz) relative to the scenario file, or \
             remove the key",
        );
        return None;
    }
    Some(s.to_string())
}

fn reported(n: &Node<'_>, parties: &[Party], p: &mut Problems) -> Reported {
    let mut r = Reported {
        registered: n.opt_u64("registered", p),
        ballots: n.opt_u64("ballots", p),
        turnout: n.f64_in("turnout", 0.0, 1.0, false, p),
        invalid: n.opt_u64("invalid", p),
        stations: stations_path(n, p),
        ..Reported::default()
    };
    if r.turnout.is_none()
        && let (Some(reg), Some(b)) = (r.registered, r.ballots)
        && reg > 0
    {
        r.turnout = Some(b as f64 / reg as f64);
    }
    if let (Some(reg), Some(b)) = (r.registered, r.ballots)
        && b > reg
    {
        p.push(
            &n.path_of("ballots"),
            format!("{b} ballots exceed {reg} registered voters"),
            "check both figures",
        );
    }
    if let Some(t) = n.opt_table("list_votes", p) {
        r.list_votes = counts(&t, parties, None, p);
        t.finish(p);
    }
    let seats = |key: &str, extra: Option<&str>, p: &mut Problems| {
        n.opt_table(key, p).and_then(|t| {
            let c = counts(&t, parties, extra, p);
            t.finish(p);
            c.map(|v| v.into_iter().map(|x| x as u32).collect::<Vec<u32>>())
        })
    };
    r.list_seats = seats("list_seats", None, p);
    r.district_seats = seats("district_seats", Some("independent"), p);
    r.round1_seats = seats("round1_seats", Some("independent"), p);
    r.total_seats = seats("total_seats", Some("independent"), p);
    r.runoffs = n
        .opt_u64("runoffs", p)
        .and_then(|x| match u32::try_from(x) {
            Ok(x) => Some(x),
            Err(_) => {
                p.push(
                    &n.path_of("runoffs"),
                    format!("{x} runoffs is more than any system has districts"),
                    "give the number of districts that went to a second round",
                );
                None
            }
        });
    if let (Some(r1), Some(d)) = (&r.round1_seats, &r.district_seats) {
        let ids = parties.iter().map(|q| q.id.as_str()).chain(["independent"]);
        for ((id, &won), &seats) in ids.zip(r1).zip(d) {
            if won > seats {
                p.push(
                    &n.path_of(&format!("round1_seats.{id}")),
                    format!("{won} won in round 1, but only {seats} district seats in all"),
                    "round-1 winners are part of the district seats: make them at most those",
                );
            }
        }
    }
    if let (Some(l), Some(d), Some(t)) = (&r.list_seats, &r.district_seats, &r.total_seats) {
        for (i, party) in parties.iter().enumerate() {
            if l[i] + d[i] != t[i] {
                p.push(
                    &n.path_of(&format!("total_seats.{}", party.id)),
                    format!(
                        "{} total seats, but list {} + district {} = {}",
                        t[i],
                        l[i],
                        d[i],
                        l[i] + d[i]
                    ),
                    "make total seats the sum of list and district seats",
                );
            }
        }
    }
    n.finish(p);
    r
}

/// Reported figures of a tier the system does not have (`reported.district_seats` under a
/// list-only system) are problems: they could be compared with nothing.
fn tier_figures(r: &Reported, has_list: bool, has_districts: bool, p: &mut Problems) {
    let mut given = Vec::new();
    if !has_districts {
        for (key, present) in [
            ("district_seats", r.district_seats.is_some()),
            ("round1_seats", r.round1_seats.is_some()),
            ("runoffs", r.runoffs.is_some()),
        ] {
            if present {
                given.push((key, "district", "[system.districts]"));
            }
        }
    }
    if !has_list && r.list_seats.is_some() {
        given.push(("list_seats", "list", "[system.list]"));
    }
    for (key, tier, section) in given {
        p.push(
            &format!("reported.{key}"),
            format!("the system has no {tier} tier, so there is nothing to compare these with"),
            format!("remove reported.{key}, or add {section} if the election had that tier"),
        );
    }
}

/// Reads every model section from `root` (the base document or a variant merged into it).
fn model(
    root: &Node<'_>,
    parties: &[Party],
    reported: Option<&Reported>,
    p: &mut Problems,
) -> Option<Model> {
    let before = p.len();
    let system = system(root, p);
    let regions = regions(root, parties, p);
    let stations = stations(root, p);
    let turnout = turnout(root, reported, p);
    let preferences = preferences(root, parties, reported, p);
    // the model-level tilt is the default of every region without its own
    let mut regions = regions;
    if let (Some(regs), Some(Some(t))) = (&mut regions, preferences.as_ref().map(|m| m.tilt)) {
        for r in regs.iter_mut().filter(|r| r.tilt.is_none()) {
            r.tilt = Some(t);
        }
    }
    let ballots = ballots(root, p);
    let candidates = candidates(root, parties, p);
    let runoff = runoff(root, p);
    let fraud = super::fraud::frauds(root, parties, regions.as_deref(), p);
    let vvpat = vvpat(root, p);

    if let (Some(sys), Some(regs)) = (&system, &regions) {
        let n_districts: u64 = regs.iter().map(|r| r.districts as u64).sum();
        match (&sys.districts, n_districts) {
            (Some(_), 0) => p.push(
                "region",
                "the system has a district tier but no region has districts",
                "give regions `districts = N`",
            ),
            (None, d) if d > 0 => p.push(
                "system",
                format!("regions have {d} districts but the system has no district tier"),
                "add [system.districts] or set districts = 0",
            ),
            _ => {}
        }
        if let Some(r) = reported {
            // whether the file has the tier (a tier with problems of its own is still there)
            let has = |tier: &str| {
                root.raw_table()
                    .get("system")
                    .and_then(|s| s.as_table())
                    .is_some_and(|t| t.contains_key(tier))
            };
            tier_figures(r, has("list"), has("districts"), p);
        }
        if let (Some(r), Some(_)) = (reported, &sys.districts)
            && let (Some(r1), Some(runoffs)) = (&r.round1_seats, r.runoffs)
        {
            let won: u64 = r1.iter().map(|&x| x as u64).sum();
            if won + runoffs as u64 != n_districts {
                p.push(
                    "reported.runoffs",
                    format!(
                        "{won} districts won in round 1 and {runoffs} runoffs make {}, but the \
                         regions have {n_districts} districts",
                        won + runoffs as u64
                    ),
                    "every district is decided in round 1 or goes to a runoff: make them add up",
                );
            }
        }
        if let (Some(r), Some(_)) = (reported, &sys.districts)
            && let Some(ds) = &r.district_seats
        {
            let sum: u64 = ds.iter().map(|&x| x as u64).sum();
            if sum != n_districts {
                p.push(
                    "reported.district_seats",
                    format!("add up to {sum}, but the regions have {n_districts} districts"),
                    "make the reported district seats sum to the number of districts",
                );
            }
        }
        if let (Some(r), Some(list)) = (reported, &sys.list)
            && let Some(ls) = &r.list_seats
        {
            let sum: u64 = ls.iter().map(|&x| x as u64).sum();
            if sum != list.seats as u64 {
                p.push(
                    "reported.list_seats",
                    format!(
                        "add up to {sum}, but the list tier has {} seats",
                        list.seats
                    ),
                    "make the reported list seats sum to system.list.seats",
                );
            }
        }
        if let Some(r) = reported
            && let Some(reg) = r.registered
        {
            let total: u64 = regs.iter().map(|r| r.registered).sum();
            let rel = (total as f64 - reg as f64).abs() / reg.max(1) as f64;
            if rel > 0.05 {
                p.push(
                    "region",
                    format!(
                        "regions register {total} voters, {:.1}% away from reported.registered = {reg}",
                        rel * 100.0
                    ),
                    "make the regions' registered voters add up to the reported electorate",
                );
            }
        }
    }
    if p.len() > before {
        return None;
    }
    Some(Model {
        system: system?,
        regions: regions?,
        stations: stations?,
        turnout: turnout?,
        preferences: preferences?,
        ballots: ballots?,
        candidates: candidates?,
        runoff: runoff?,
        fraud,
        vvpat,
    })
}

fn system(root: &Node<'_>, p: &mut Problems) -> Option<ElectoralSystem> {
    let n = root.req_table("system", p)?;
    let list = n.opt_table("list", p).and_then(|l| {
        let seats = l.u64_in("seats", 1, 10_000, true, p);
        let method = l
            .req_str("method", p)
            .and_then(|m| match m.parse::<Method>() {
                Ok(m) => Some(m),
                Err(e) => {
                    p.push(&l.path_of("method"), e.to_string(), "");
                    None
                }
            });
        let threshold_on_ballots = match l.opt_str("threshold_base", p) {
            None | Some("valid") => Some(false),
            Some("ballots") => Some(true),
            Some(other) => {
                p.push(
                    &l.path_of("threshold_base"),
                    format!("`{other}` is not a threshold base"),
                    "use \"valid\" (valid list votes) or \"ballots\" (all ballots cast)",
                );
                None
            }
        };
        let threshold = match l.opt_text("threshold", p) {
            None => Some(None),
            Some(t) => match Ratio::parse(&t) {
                Ok(r) if r.num <= r.den => Some(Some(Threshold {
                    share: r,
                    base: ThresholdBase::ListedVotes,
                    or_district_seats: None,
                })),
                Ok(_) => {
                    p.push(
                        &l.path_of("threshold"),
                        format!("{t} is above 100%"),
                        "use a share such as \"7%\" or 0.07",
                    );
                    None
                }
                Err(e) => {
                    p.push(
                        &l.path_of("threshold"),
                        e.to_string(),
                        "use a share such as \"7%\" or 0.07",
                    );
                    None
                }
            },
        };
        l.finish(p);
        Some(ListTier {
            seats: seats? as u32,
            method: method?,
            threshold: threshold?,
            threshold_on_ballots: threshold_on_ballots?,
        })
    });
    let districts = n.opt_table("districts", p).and_then(|d| {
        let rule = match d.req_str("rule", p) {
            Some("absolute_majority") => Some(DistrictRule::AbsoluteMajority),
            Some("plurality") => Some(DistrictRule::Plurality),
            Some(other) => {
                p.push(
                    &d.path_of("rule"),
                    format!("`{other}` is not a district rule"),
                    "use \"absolute_majority\" (with a top-two runoff) or \"plurality\"",
                );
                None
            }
            None => None,
        };
        d.finish(p);
        Some(DistrictTier { rule: rule? })
    });
    if !n.has("list") && !n.has("districts") {
        p.push(
            &n.path,
            "no tier",
            "add [system.list] and/or [system.districts]",
        );
    }
    n.finish(p);
    Some(ElectoralSystem { list, districts })
}

fn regions(root: &Node<'_>, parties: &[Party], p: &mut Problems) -> Option<Vec<Region>> {
    let nodes = root.tables("region", p);
    if nodes.is_empty() {
        p.push(
            "region",
            "no regions",
            "add at least one [[region]] with registered voters and stations",
        );
        return None;
    }
    let before = p.len();
    let mut out = Vec::new();
    let mut names: std::collections::HashSet<String> = std::collections::HashSet::new();
    for n in nodes {
        let name = n.req_str("name", p).unwrap_or("").to_string();
        if !names.insert(name.clone()) && !name.is_empty() {
            p.push(
                &n.path_of("name"),
                format!("region `{name}` appears twice"),
                "give each region its own name",
            );
        }
        let registered = n.u64_in("registered", 1, 2_000_000_000, true, p);
        let stations = n.u64_in("stations", 1, 5_000_000, true, p);
        let districts = n.u64_in("districts", 0, 100_000, false, p).unwrap_or(0);
        if let (Some(r), Some(s)) = (registered, stations)
            && s > r
        {
            p.push(
                &n.path_of("stations"),
                format!("{s} stations for {r} registered voters"),
                "every station needs at least one registered voter",
            );
        }
        if let Some(s) = stations
            && districts > s
        {
            p.push(
                &n.path_of("districts"),
                format!("{districts} districts but only {s} stations"),
                "every district needs at least one station",
            );
        }
        let urban = n.f64_in("urban", 0.0, 1.0, true, p);
        let evoting = n.f64_in("evoting", 0.0, 1.0, false, p).unwrap_or(0.0);
        let turnout_shift = n
            .f64_in("turnout_shift", -10.0, 10.0, false, p)
            .unwrap_or(0.0);
        let mut preference_shift = vec![0.0; parties.len()];
        if let Some(t) = n.opt_table("preference_shift", p) {
            for (i, v) in party_values(&t, parties, None, p).into_iter().enumerate() {
                if let Given::Value(v) = v {
                    if v.abs() > 10.0 {
                        p.push(
                            &t.path_of(&parties[i].id),
                            format!("{v} is out of range"),
                            "use a log-scale shift between -10 and 10",
                        );
                    }
                    preference_shift[i] = v;
                }
            }
            t.finish(p);
        }
        let tilt = n.opt_table("tilt", p).and_then(|t| tilt(&t, parties, p));
        n.finish(p);
        if let (Some(registered), Some(stations), Some(urban)) = (registered, stations, urban) {
            out.push(Region {
                name,
                registered,
                districts: districts as u32,
                stations: stations as u32,
                urban,
                evoting,
                turnout_shift,
                preference_shift,
                tilt,
            });
        }
    }
    (p.len() == before).then_some(out)
}

/// The largest |slope| of a region's tilt: 5 units of logit share per unit of logit turnout
/// is far beyond any real election's (Poland's and Russia's fitted tilts are within ±0.6).
const MAX_TILT: f64 = 5.0;

/// A region's `tilt = { party = "ID", slope = β }`.
fn tilt(n: &Node<'_>, parties: &[Party], p: &mut Problems) -> Option<Tilt> {
    let party = n.req_str("party", p).and_then(|id| {
        let i = parties.iter().position(|q| q.id == id);
        if i.is_none() {
            p.push(
                &n.path_of("party"),
                format!(
                    "`{}` is not a party id: name the party whose share tilts with turnout",
                    echo(id)
                ),
                party_hint(id, parties, None),
            );
        }
        i
    });
    let slope = n.f64_in("slope", -MAX_TILT, MAX_TILT, true, p);
    n.finish(p);
    Some(Tilt {
        party: party?,
        slope: slope?,
    })
}

fn stations(root: &Node<'_>, p: &mut Problems) -> Option<StationSizes> {
    let mut s = StationSizes {
        log_sd: 0.5,
        urban_size_ratio: 2.0,
    };
    if let Some(n) = root.opt_table("stations", p) {
        if let Some(v) = n.f64_in("log_sd", 0.0, 3.0, false, p) {
            s.log_sd = v;
        }
        if let Some(v) = n.f64_in("urban_size_ratio", 0.05, 50.0, false, p) {
            s.urban_size_ratio = v;
        }
        n.finish(p);
    }
    Some(s)
}

fn calibration_flag(n: &Node<'_>, p: &mut Problems) -> bool {
    n.opt_bool("calibrate_to_reported", p).unwrap_or(false)
}

fn turnout(root: &Node<'_>, reported: Option<&Reported>, p: &mut Problems) -> Option<TurnoutModel> {
    let n = root.req_table("turnout", p)?;
    let urban = n.f64_in("urban", 0.0, 1.0, true, p);
    let rural = n.f64_in("rural", 0.0, 1.0, true, p);
    let station_sd = n.f64_in("station_sd", 0.0, 5.0, false, p).unwrap_or(0.0);
    let calibrate = calibration_flag(&n, p);
    let target = if calibrate {
        match reported.and_then(|r| r.turnout) {
            Some(t) if t > 0.0 && t < 1.0 => Some(t),
            _ => {
                p.push(
                    &n.path_of("calibrate_to_reported"),
                    "there is no reported turnout strictly between 0 and 1 to calibrate to",
                    "give [reported] turnout, or registered and ballots",
                );
                None
            }
        }
    } else {
        None
    };
    n.finish(p);
    for (key, v) in [("urban", urban), ("rural", rural)] {
        if v == Some(0.0) || v == Some(1.0) {
            p.push(
                &n.path_of(key),
                "turnout of exactly 0 or 1 cannot vary between stations",
                "use a value strictly between 0 and 1",
            );
        }
    }
    if calibrate && target.is_none() {
        return None;
    }
    Some(TurnoutModel {
        urban: urban?,
        rural: rural?,
        station_sd,
        target,
    })
}

/// Reads a share vector over all parties; each must be present and ≥ 0, the sum 1.
fn share_vector(
    parent: &Node<'_>,
    key: &str,
    parties: &[Party],
    p: &mut Problems,
) -> Option<Vec<f64>> {
    let n = parent.req_table(key, p)?;
    let before = p.len();
    let vals = party_values(&n, parties, None, p);
    if parties.is_empty() {
        // `party: no parties` says it; there is no sum to check
        return None;
    }
    let mut out = Vec::with_capacity(parties.len());
    for (i, v) in vals.into_iter().enumerate() {
        match v {
            Given::Absent => p.push(
                &n.path_of(&parties[i].id),
                "missing share",
                format!("give every party a share in [{}] (0 is allowed)", n.path),
            ),
            Given::Invalid => {}
            Given::Value(v) if !(0.0..=1.0).contains(&v) => p.push(
                &n.path_of(&parties[i].id),
                format!("{v} is not a share"),
                "use a value between 0 and 1",
            ),
            Given::Value(v) => out.push(v),
        }
    }
    n.finish(p);
    if p.len() > before {
        return None;
    }
    let sum: f64 = out.iter().sum();
    if (sum - 1.0).abs() > SUM_TOLERANCE {
        p.push(
            &n.path,
            format!("shares add up to {sum:.4}, not 1"),
            "make the shares sum to 1 (within 0.001)",
        );
        return None;
    }
    Some(out.iter().map(|v| v / sum).collect())
}

fn preferences(
    root: &Node<'_>,
    parties: &[Party],
    reported: Option<&Reported>,
    p: &mut Problems,
) -> Option<PreferenceModel> {
    let n = root.req_table("preferences", p)?;
    let urban = share_vector(&n, "urban", parties, p);
    let rural = share_vector(&n, "rural", parties, p);
    let station_sd = n.f64_in("station_sd", 0.0, 5.0, false, p).unwrap_or(0.0);
    let calibrate = calibration_flag(&n, p);
    let tilt = n.opt_table("tilt", p).and_then(|t| tilt(&t, parties, p));
    let target = if calibrate {
        match reported.and_then(|r| r.list_shares()) {
            Some(s) => Some(s),
            None => {
                p.push(
                    &n.path_of("calibrate_to_reported"),
                    "there are no reported list votes to calibrate to",
                    "give [reported.list_votes]",
                );
                None
            }
        }
    } else {
        None
    };
    n.finish(p);
    if let (Some(u), Some(r)) = (&urban, &rural) {
        for (i, party) in parties.iter().enumerate() {
            if calibrate && u[i] == 0.0 && r[i] == 0.0 {
                let t = target.as_ref().map(|t| t[i]).unwrap_or(0.0);
                if t > 0.0 {
                    p.push(
                        &n.path_of(&format!("urban.{}", party.id)),
                        "a party with zero share everywhere cannot be calibrated to reported votes",
                        "give it a small positive share",
                    );
                }
            }
        }
    }
    if calibrate && target.is_none() {
        return None;
    }
    Some(PreferenceModel {
        urban: urban?,
        rural: rural?,
        station_sd,
        target,
        tilt,
    })
}

fn ballots(root: &Node<'_>, p: &mut Problems) -> Option<BallotModel> {
    let mut b = BallotModel {
        invalid_rate: 0.0,
        evoting_uptake: 0.0,
    };
    if let Some(n) = root.opt_table("ballots", p) {
        if let Some(v) = n.f64_in("invalid_rate", 0.0, 0.5, false, p) {
            b.invalid_rate = v;
        }
        if let Some(v) = n.f64_in("evoting_uptake", 0.0, 1.0, false, p) {
            b.evoting_uptake = v;
        }
        n.finish(p);
    }
    Some(b)
}

fn appeal(n: &Node<'_>, p: &mut Problems) -> Appeal {
    Appeal {
        median: n.f64_in("appeal_median", 0.0, 1e6, false, p).unwrap_or(1.0),
        log_sd: n.f64_in("appeal_sd", 0.0, 5.0, false, p).unwrap_or(0.0),
    }
}

fn candidates(root: &Node<'_>, parties: &[Party], p: &mut Problems) -> Option<CandidateModel> {
    let mut c = CandidateModel {
        loyalty: 0.5,
        nominations: vec![
            Nomination {
                contest_share: 1.0,
                appeal: Appeal {
                    median: 1.0,
                    log_sd: 0.0
                },
            };
            parties.len()
        ],
        independents: Independents {
            min: 0,
            max: 0,
            appeal: Appeal {
                median: 1.0,
                log_sd: 0.0,
            },
        },
    };
    let Some(n) = root.opt_table("candidates", p) else {
        return Some(c);
    };
    if let Some(v) = n.f64_in("loyalty", 0.0, 1.0, false, p) {
        c.loyalty = v;
    }
    if let Some(t) = n.opt_table("party", p) {
        for key in t.keys() {
            let Some(sub) = t.opt_table(key, p) else {
                continue;
            };
            match parties.iter().position(|q| q.id == key) {
                None => p.push(
                    &sub.path,
                    format!("`{}` is not a party id", echo(key)),
                    party_hint(key, parties, None),
                ),
                Some(i) => {
                    c.nominations[i] = Nomination {
                        contest_share: sub
                            .f64_in("contest_share", 0.0, 1.0, false, p)
                            .unwrap_or(1.0),
                        appeal: appeal(&sub, p),
                    };
                }
            }
            sub.finish(p);
        }
        t.finish(p);
    }
    if let Some(t) = n.opt_table("independents", p) {
        let min = t.u64_in("min", 0, 50, false, p).unwrap_or(0) as u32;
        let max = t.u64_in("max", 0, 50, false, p).unwrap_or(min as u64) as u32;
        if min > max {
            p.push(
                &t.path_of("min"),
                format!("min {min} is above max {max}"),
                "make min ≤ max",
            );
        }
        c.independents = Independents {
            min,
            max,
            appeal: appeal(&t, p),
        };
        t.finish(p);
    }
    n.finish(p);
    Some(c)
}

/// Reads `[vvpat]`: absent, machines print no paper record.
fn vvpat(root: &Node<'_>, p: &mut Problems) -> Option<Vvpat> {
    let n = root.opt_table("vvpat", p)?;
    let mut v = Vvpat {
        print_share: 1.0,
        look_rate: 0.0,
        complain_rate: 0.0,
        on_complaint: OnComplaint::Note,
        rigged_prints: RiggedPrint::Recorded,
    };
    if let Some(x) = n.f64_in("print_share", 0.0, 1.0, false, p) {
        v.print_share = x;
    }
    if let Some(x) = n.f64_in("look_rate", 0.0, 1.0, false, p) {
        v.look_rate = x;
    }
    if let Some(x) = n.f64_in("complain_rate", 0.0, 1.0, false, p) {
        v.complain_rate = x;
    }
    if let Some(s) = n.opt_str("on_complaint", p) {
        match s {
            "note" => v.on_complaint = OnComplaint::Note,
            "recast" => v.on_complaint = OnComplaint::Recast,
            other => p.push(
                &n.path_of("on_complaint"),
                format!("`{}` is not a response to a complaint", echo(other)),
                choice_hint(other, &["note", "recast"], "responses"),
            ),
        }
    }
    if let Some(s) = n.opt_str("rigged_prints", p) {
        match s {
            "recorded" => v.rigged_prints = RiggedPrint::Recorded,
            "chosen" => v.rigged_prints = RiggedPrint::Chosen,
            other => p.push(
                &n.path_of("rigged_prints"),
                format!("`{}` is not what a rigged machine can print", echo(other)),
                choice_hint(other, &["recorded", "chosen"], "choices"),
            ),
        }
    }
    n.finish(p);
    Some(v)
}

fn runoff(root: &Node<'_>, p: &mut Problems) -> Option<RunoffModel> {
    let mut r = RunoffModel {
        turnout_ratio: 0.8,
        party_transfer: 0.8,
    };
    if let Some(n) = root.opt_table("runoff", p) {
        if let Some(v) = n.f64_in("turnout_ratio", 0.0, 1.0, false, p) {
            r.turnout_ratio = v;
        }
        if let Some(v) = n.f64_in("party_transfer", 0.0, 1.0, false, p) {
            r.party_transfer = v;
        }
        n.finish(p);
    }
    Some(r)
}
