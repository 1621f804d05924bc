//! `[reported] stations = "FILE"`: the real station results a scenario references, read with
//! the forensics reader and matched to the scenario's parties as `tamga infer --observed` matches
//! them — for the report of `tamga run` and `tamga merge`, and checked by `tamga check`.

use std::path::Path;
use std::sync::Arc;
use tamga::infer::election::Observed;
use tamga::infer::stations::StationsError;
use tamga::model::Scenario;
use tamga::report::RealStations;

/// The station results `scenario` names in `[reported] stations`, read and matched; `Ok(None)`
/// when it names none. A relative path is taken from `dir` (the scenario file's directory; the
/// current directory when `None`, as for `tamga merge`, whose parts do not record where the
/// scenario file was). Every error names the key and the file, and says what to do.
pub fn load(scenario: &Scenario, dir: Option<&Path>) -> anyhow::Result<Option<Arc<RealStations>>> {
    let Some(rel) = scenario.reported.as_ref().and_then(|r| r.stations.as_ref()) else {
        return Ok(None);
    };
    let path = match dir {
        Some(d) => d.join(rel),
        None => Path::new(rel).to_path_buf(),
    };
    let key = format!(
        "reported.stations = \"{}\" ({})",
        tamga::text::echo(rel),
        tamga::text::echo(&path.display().to_string())
    );
    let file = match super::audit::open_regular(&path) {
        Ok(Some(f)) => f,
        Ok(None) => anyhow::bail!(
            "{key}: no such file; give the real station results (a CSV that `tamga forensics` \
             reads, plain or gzip) relative to the scenario file{}, or remove the key",
            if dir.is_none() {
                " (tamga merge takes it from the current directory: run it from the \
                 scenario's directory)"
            } else {
                ""
            }
        ),
        Err(e) => anyhow::bail!("{key}: {e}; give a station-results file (plain CSV or gzip)"),
    };
    let data =
        tamga::forensics::read::read_results(file).map_err(|e| anyhow::anyhow!("{key}: {e}"))?;
    // the matching of `tamga infer --observed`: its errors about parties hold here too; its
    // regions need not be the scenario's (the fingerprint needs no geography; the regional
    // view shows the real figures only when they are)
    match Observed::stations(scenario, 0, &data, &[]) {
        Ok(_)
        | Err(
            StationsError::UnknownRegion { .. }
            | StationsError::StationCount { .. }
            | StationsError::Registered { .. },
        ) => {}
        Err(e) => anyhow::bail!("{key}: {e}"),
    }
    let real = RealStations::new(rel, data, &scenario.parties)
        .ok_or_else(|| anyhow::anyhow!("{key}: some party of the scenario has no column"))?;
    if real.fingerprint(0, "", false).map.stations == 0 {
        anyhow::bail!(
            "{key}: no station has ballots and registered voters (the station filter of `tamga \
             forensics` removes them all): there is nothing to draw"
        );
    }
    Ok(Some(Arc::new(real)))
}
