//! Reading `[inference]`: the candidate fraud mechanisms of `tamga infer`.
//!
//! Each `[[inference.mechanism]]` is a `[[fraud]]` entry with a `name`, in which any of the
//! numeric parameters `share`, `rate`, `incremental`, `extreme`, `alpha`, `theta` and `stations`
//! may be a range `[lo, hi]` instead of a number: a uniform prior on it. The entry is validated by
//! the fraud reader with each range replaced by its lower end, so the rules (and messages) are
//! the same as for `[[fraud]]`; the ranges are checked here (inside the parameter's values, and
//! with mass: `lo < hi`, and for Klimek's shares of stations room for incremental + extreme ≤ 1).

use super::reader::{Node, Problems};
use crate::fraud::FraudKind;
use crate::model::{
    Inference, Mechanism, Parameter, Party, Prior, Region, SEAT_TOLERANCE, SHARE_TOLERANCE,
    StatisticGroup, Variant,
};

/// The name of the honest model on `tamga infer --fraud`; no mechanism may take it.
pub const NO_FRAUD: &str = "none";

/// Reads the `[inference]` table.
pub(super) fn inference(
    n: &Node<'_>,
    parties: &[Party],
    regions: Option<&[Region]>,
    p: &mut Problems,
) -> Inference {
    let hypothesis = n.opt_str("hypothesis", p).map(str::to_string);
    let share_tolerance = n
        .f64_in("share_tolerance", 1e-6, 1.0, false, p)
        .unwrap_or(SHARE_TOLERANCE);
    let seat_tolerance = n
        .f64_in("seat_tolerance", 1e-3, 1000.0, false, p)
        .unwrap_or(SEAT_TOLERANCE);
    let mut statistics = Vec::new();
    match n.raw_table().get("statistics") {
        None => statistics = StatisticGroup::ALL.to_vec(),
        Some(toml::Value::Array(a)) => {
            for v in a {
                match StatisticGroup::ALL
                    .iter()
                    .find(|g| Some(g.key()) == v.as_str())
                {
                    Some(g) if !statistics.contains(g) => statistics.push(*g),
                    _ => p.push(
                        &n.path_of("statistics"),
                        format!("`{v}` is not a group of statistics, or is repeated"),
                        "use some of \"turnout\", \"shares\", \"list_seats\", \"district_seats\"",
                    ),
                }
            }
            if a.is_empty() {
                p.push(
                    &n.path_of("statistics"),
                    "is empty",
                    "compare at least one group, or leave it out for all",
                );
            }
        }
        Some(_) => p.push(
            &n.path_of("statistics"),
            "expected an array of names",
            "e.g. statistics = [\"turnout\", \"shares\"]",
        ),
    }
    n.allow(&["statistics"]);
    let mut mechanisms: Vec<Mechanism> = Vec::new();
    for m in n.tables("mechanism", p) {
        let name = m.req_str("name", p).unwrap_or("").to_string();
        if !name.is_empty() && !super::build::is_identifier(&name) {
            p.push(
                &m.path_of("name"),
                format!("`{name}` is not a simple name"),
                "use letters, digits, '-' and '_' only",
            );
        } else if name == NO_FRAUD {
            p.push(
                &m.path_of("name"),
                "`none` names the honest model on `tamga infer --fraud`",
                "give the mechanism another name",
            );
        } else if mechanisms.iter().any(|x| x.name == name) {
            p.push(
                &m.path_of("name"),
                format!("mechanism `{name}` is defined twice"),
                "give each mechanism its own name",
            );
        }
        if let Some(mech) = mechanism(&m, name, parties, regions, p) {
            mechanisms.push(mech);
        }
    }
    if mechanisms.is_empty() && !n.has("mechanism") {
        p.push(
            &n.path_of("mechanism"),
            "no candidate mechanism",
            "add [[inference.mechanism]] entries: a fraud model with ranges as priors",
        );
    }
    n.finish(p);
    Inference {
        hypothesis,
        mechanisms,
        statistics,
        share_tolerance,
        seat_tolerance,
    }
}

/// One mechanism: its priors read and replaced by their midpoints, then the fraud model read.
fn mechanism(
    m: &Node<'_>,
    name: String,
    parties: &[Party],
    regions: Option<&[Region]>,
    p: &mut Problems,
) -> Option<Mechanism> {
    let mut table = m.raw_table().clone();
    table.remove("name");
    let mut priors = Vec::new();
    let mut ok = true;
    for parameter in Parameter::ALL {
        let key = parameter.key();
        let Some(toml::Value::Array(a)) = table.get(key) else {
            continue;
        };
        let nums: Vec<f64> = a
            .iter()
            .filter_map(|v| match v {
                toml::Value::Float(x) => Some(*x),
                toml::Value::Integer(i) => Some(*i as f64),
                _ => None,
            })
            .collect();
        let (lo_ok, hi_ok) = parameter.range();
        let path = m.path_of(key);
        match nums[..] {
            [lo, hi] if nums.len() == a.len() => {
                if !(lo >= lo_ok && hi <= hi_ok) {
                    p.push(
                        &path,
                        format!("prior [{lo}, {hi}] reaches outside the values `{key}` takes"),
                        format!("keep both ends between {lo_ok} and {hi_ok}"),
                    );
                    ok = false;
                } else if lo >= hi {
                    p.push(
                        &path,
                        format!("prior [{lo}, {hi}] has no mass"),
                        "give the lower end first and make it smaller than the upper; a fixed value is written as a number",
                    );
                    ok = false;
                } else {
                    table.insert(key.to_string(), toml::Value::Float(lo));
                    priors.push(Prior { parameter, lo, hi });
                }
            }
            _ => {
                p.push(
                    &path,
                    "expected a number or a prior range [lo, hi] of two numbers",
                    format!("e.g. {key} = [0.0, 0.5]"),
                );
                ok = false;
            }
        }
        if !ok {
            table.remove(key);
        }
    }
    // Klimek: incremental + extreme ≤ 1 must leave room (the lower ends are in the table now)
    let lower = |key: &str, default: f64| match table.get(key) {
        Some(toml::Value::Float(x)) => *x,
        Some(toml::Value::Integer(i)) => *i as f64,
        _ => default,
    };
    let klimek = table.get("kind").and_then(|v| v.as_str()) == Some("klimek");
    let has_share_prior = priors
        .iter()
        .any(|x| matches!(x.parameter, Parameter::Incremental | Parameter::Extreme));
    if klimek && has_share_prior {
        let (fi, fe) = (lower("incremental", 0.0), lower("extreme", 0.0));
        if fi + fe >= 1.0 {
            p.push(
                &m.path,
                format!("incremental ≥ {fi} and extreme ≥ {fe}: the prior has no mass where their sum is ≤ 1"),
                "lower the priors' lower ends",
            );
            return None;
        }
    }
    let node = Node::new(m.path.clone(), &table);
    let fraud = super::fraud::one(&node, parties, regions, p);
    node.finish(p);
    let fraud = fraud?;
    if matches!(
        fraud.kind,
        FraudKind::Flip { .. }
            | FraudKind::Drop { .. }
            | FraudKind::LedgerRewrite { .. }
            | FraudKind::LedgerTruncate { .. }
    ) {
        p.push(
            &m.path_of("kind"),
            format!(
                "`{}` acts inside voting machines; inference simulates station counts",
                fraud.kind.name()
            ),
            "use a count-level model: pressure, carousel, stuffing, protocol, rounding, klimek or aggregate",
        );
        return None;
    }
    (ok && !name.is_empty()).then_some(Mechanism {
        name,
        fraud,
        priors,
    })
}

/// The default hypothesis must name an honest variant.
pub(super) fn check_hypothesis(inf: &Inference, variants: &[Variant], p: &mut Problems) {
    let Some(h) = &inf.hypothesis else { return };
    match variants.iter().find(|v| &v.name == h) {
        None => p.push(
            "inference.hypothesis",
            format!("there is no variant `{h}`"),
            "name an honest variant defined in this file",
        ),
        Some(v) if !v.is_honest() => p.push(
            "inference.hypothesis",
            format!("variant `{h}` has fraud models"),
            "the hypothesis is honest voting: name a variant without [[fraud]]",
        ),
        _ => {}
    }
}
