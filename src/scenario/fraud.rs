//! Reading `[[fraud]]` from a scenario: the fraud models a variant applies. Validation only;
//! what the models do is in `crate::fraud` and `crate::sim`.

use super::reader::{Node, Problems, choice_hint};
use crate::fraud::{
    AggregateLevel, Area, FraudKind, FraudModel, MAX_TURNOUT_BIAS, StationKind, Target,
};
use crate::model::{Party, Region};

const KINDS: &str = "pressure, carousel, stuffing, protocol, rounding, klimek, flip, drop, ledger_rewrite, ledger_truncate, aggregate";

/// Reads the `fraud` array of a (merged) model document.
pub(super) fn frauds(
    root: &Node<'_>,
    parties: &[Party],
    regions: Option<&[Region]>,
    p: &mut Problems,
) -> Vec<FraudModel> {
    let mut out = Vec::new();
    for n in root.tables("fraud", p) {
        if let Some(f) = one(&n, parties, regions, p) {
            out.push(f);
        }
        n.finish(p);
    }
    out
}

fn share(n: &Node<'_>, key: &str, default: Option<f64>, p: &mut Problems) -> Option<f64> {
    match n.f64_in(key, 0.0, 1.0, default.is_none(), p) {
        Some(v) => Some(v),
        None if n.has(key) => None,
        None => default,
    }
}

pub(super) fn one(
    n: &Node<'_>,
    parties: &[Party],
    regions: Option<&[Region]>,
    p: &mut Problems,
) -> Option<FraudModel> {
    let kind_name = n.req_str("kind", p)?;
    let beneficiary = match n.req_str("beneficiary", p) {
        Some(id) => match parties.iter().position(|q| q.id == id) {
            Some(i) => Some(i as u8),
            None => {
                let ids: Vec<&str> = parties.iter().map(|q| q.id.as_str()).collect();
                p.push(
                    &n.path_of("beneficiary"),
                    format!(
                        "`{}` is not a party id: name the party the fraud favours",
                        crate::text::echo(id)
                    ),
                    choice_hint(id, &ids, "the party ids"),
                );
                None
            }
        },
        None => None,
    };
    let kind = match kind_name {
        "pressure" => share(n, "share", None, p).map(|share| FraudKind::Pressure { share }),
        "carousel" => share(n, "rate", None, p).map(|rate| FraudKind::Carousel { rate }),
        "stuffing" => {
            let rate = share(n, "rate", None, p);
            let via_machine = match n.opt_str("channel", p) {
                None | Some("paper") => Some(false),
                Some("machine") => Some(true),
                Some(other) => {
                    p.push(
                        &n.path_of("channel"),
                        format!("`{other}` is not a stuffing channel"),
                        "use \"paper\" (ballot box) or \"machine\" (through the voting machine before close)",
                    );
                    None
                }
            };
            rate.zip(via_machine)
                .map(|(rate, via_machine)| FraudKind::Stuffing { rate, via_machine })
        }
        "protocol" => share(n, "share", None, p).map(|share| FraudKind::Protocol { share }),
        "rounding" => match n.opt_str("of", p) {
            None | Some("share") => Some(FraudKind::Rounding { turnout: false }),
            Some("turnout") => Some(FraudKind::Rounding { turnout: true }),
            Some(other) => {
                p.push(
                    &n.path_of("of"),
                    format!("`{other}` cannot be rounded"),
                    "use \"share\" (the beneficiary's share) or \"turnout\"",
                );
                None
            }
        },
        "klimek" => {
            let fi = share(n, "incremental", None, p);
            let fe = share(n, "extreme", Some(0.0), p);
            let alpha = n.f64_in("alpha", 0.1, 10.0, false, p).or(Some(1.0));
            let theta = n.f64_in("theta", 0.0, 1.0, false, p).or(Some(0.1));
            let bias = n
                .f64_in("turnout_bias", 0.0, MAX_TURNOUT_BIAS, false, p)
                .or(Some(0.0));
            match (fi, fe, alpha, theta, bias) {
                (Some(fi), Some(fe), Some(alpha), Some(theta), Some(turnout_bias)) => {
                    if fi + fe > 1.0 {
                        p.push(
                            &n.path,
                            format!("incremental {fi} + extreme {fe} exceed 1"),
                            "they are shares of stations",
                        );
                        None
                    } else {
                        Some(FraudKind::Klimek {
                            incremental: fi,
                            extreme: fe,
                            alpha,
                            theta,
                            turnout_bias,
                        })
                    }
                }
                _ => None,
            }
        }
        "flip" => share(n, "share", None, p).map(|share| FraudKind::Flip { share }),
        "drop" => share(n, "share", None, p).map(|share| FraudKind::Drop { share }),
        "ledger_rewrite" => {
            let entries = n.u64_in("entries", 1, 1_000_000, true, p);
            let recompute = n.opt_bool("recompute", p).unwrap_or(true);
            let forge_head = n.opt_bool("forge_head", p).unwrap_or(false);
            if forge_head && !recompute {
                p.push(
                    &n.path_of("forge_head"),
                    "a forged head only matches a recomputed chain",
                    "set recompute = true, or drop forge_head",
                );
            }
            entries.map(|e| FraudKind::LedgerRewrite {
                entries: e as u32,
                recompute,
                forge_head,
            })
        }
        "ledger_truncate" => {
            let entries = n.u64_in("entries", 1, 1_000_000, true, p);
            let reseal = n.opt_bool("reseal", p).unwrap_or(true);
            entries.map(|e| FraudKind::LedgerTruncate {
                entries: e as u32,
                reseal,
            })
        }
        "aggregate" => {
            let share = share(n, "share", None, p);
            let level = match n.opt_str("level", p) {
                None | Some("region") => Some(AggregateLevel::Region),
                Some("district") => Some(AggregateLevel::District),
                Some(other) => {
                    p.push(
                        &n.path_of("level"),
                        format!("`{other}` is not a tabulation level"),
                        "use \"region\" (territorial list totals) or \"district\" (district commissions' candidate totals)",
                    );
                    None
                }
            };
            share
                .zip(level)
                .map(|(share, level)| FraudKind::Aggregate { share, level })
        }
        other => {
            let kinds: Vec<&str> = KINDS.split(", ").collect();
            p.push(
                &n.path_of("kind"),
                format!("`{}` is not a fraud model", crate::text::echo(other)),
                choice_hint(other, &kinds, "the fraud models"),
            );
            // which keys belong here depends on the kind: none is "unknown" under a kind
            // that is not one
            n.allow(&n.keys());
            None
        }
    };
    let target = target(n, regions, p)?;
    Some(FraudModel {
        kind: kind?,
        beneficiary: beneficiary?,
        target,
    })
}

fn target(n: &Node<'_>, regions: Option<&[Region]>, p: &mut Problems) -> Option<Target> {
    let stations = share(n, "stations", Some(1.0), p)?;
    let area = match n.opt_str("area", p) {
        None | Some("all") => Area::All,
        Some("urban") => Area::Urban,
        Some("rural") => Area::Rural,
        Some(other) => {
            p.push(
                &n.path_of("area"),
                format!("`{other}` is not an area"),
                "use \"all\", \"urban\" or \"rural\"",
            );
            return None;
        }
    };
    let station_kind = match n.opt_str("station_kind", p) {
        None | Some("all") => StationKind::All,
        Some("paper") => StationKind::Paper,
        Some("electronic") => StationKind::Electronic,
        Some(other) => {
            p.push(
                &n.path_of("station_kind"),
                format!("`{other}` is not a station kind"),
                "use \"all\", \"paper\" (no voting machine) or \"electronic\" (e-enabled)",
            );
            return None;
        }
    };
    let strongholds = n.opt_bool("strongholds", p).unwrap_or(false);
    let mut region_idx = None;
    if n.has("regions") {
        let list = n.raw_table().get("regions");
        let names: Vec<String> = match list {
            Some(toml::Value::Array(a)) => a
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect(),
            _ => {
                p.push(
                    &n.path_of("regions"),
                    "expected an array of region names",
                    "",
                );
                return None;
            }
        };
        n.allow(&["regions"]);
        let mut idx = Vec::new();
        for name in names {
            match regions.and_then(|r| r.iter().position(|x| x.name == name)) {
                Some(i) => idx.push(i as u32),
                None => {
                    p.push(
                        &n.path_of("regions"),
                        format!("there is no region `{name}`"),
                        "use the names of [[region]] entries",
                    );
                    return None;
                }
            }
        }
        region_idx = Some(idx);
    }
    Some(Target {
        stations,
        area,
        station_kind,
        regions: region_idx,
        strongholds,
    })
}
