//! Reading `[detectors]` from a scenario: the safeguards every run is audited with. Validation
//! only; what the detectors see is in `crate::detect`.

use super::reader::{Node, Problems};
use crate::model::DetectorSettings;

/// Reads the `[detectors]` table (defaults where it or a key is absent).
pub(super) fn detectors(root: &Node<'_>, p: &mut Problems) -> DetectorSettings {
    let mut d = DetectorSettings::default();
    let Some(n) = root.opt_table("detectors", p) else {
        return d;
    };
    if let Some(v) = n.f64_in("false_alarm_rate", 0.001, 0.5, false, p) {
        d.false_alarm_rate = v;
    }
    if let Some(v) = n.opt_bool("station_results_published", p) {
        d.station_results_published = v;
    }
    if let Some(v) = n.opt_bool("heads_published", p) {
        d.heads_published = v;
    }
    if let Some(v) = n.f64_in("receipt_check_rate", 0.0, 1.0, false, p) {
        d.receipt_check_rate = v;
    }
    if let Some(v) = n.f64_in("control_code_rate", 0.0, 1.0, false, p) {
        d.control_code_rate = v;
    }
    if let Some(v) = n.u64_in("pvt_stations", 0, 1_000_000, false, p) {
        d.pvt_stations = v as u32;
    }
    if let Some(v) = n.opt_bool("klimek_fit", p) {
        d.klimek_fit = v;
    }
    d.rla_risk_limit = n.f64_in("rla_risk_limit", 0.0001, 0.5, false, p);
    n.finish(p);
    d
}
