//! The outputs of a Monte Carlo: `summary.json`, `runs.csv`, `report.html` and
//! `fingerprints.csv`, built together and written as one set.
//!
//! **Owns**: what `tamga run` (and `tamga merge`, so that a merged result is byte-identical to
//! an unsharded run) leaves in its output directory. [`RunOutputs::build`] makes all four
//! files as bytes — including the report's re-simulation of one representative run per
//! variant — before anything is written; [`RunOutputs::write`] then hands them to
//! [`crate::files::write_all_or_none`], so afterwards the directory holds either all four new
//! files or none of them.
//!
//! **Never**: reads a clock or the environment, or handles signals (the command line holds its
//! Ctrl-C handler off while the set is written). A new output file is one more field here, one
//! more entry in [`RunOutputs::files`], and one more line in the command's help.

use crate::files::{WriteError, write_all_or_none};
use crate::model::Scenario;
use crate::montecarlo::RunOutcome;
use crate::montecarlo::Simulator;
use crate::report::{ReportOptions, RunReport, representative_fingerprints_with};
use crate::summary::{Summary, runs_csv};
use std::path::{Path, PathBuf};

/// The summary's file name: the distributions of every metric per variant, as JSON.
pub const SUMMARY_JSON: &str = "summary.json";
/// The runs' file name: one CSV row per run and variant.
pub const RUNS_CSV: &str = "runs.csv";
/// The report's file name: one self-contained HTML page with charts.
pub const REPORT_HTML: &str = "report.html";
/// The fingerprint maps' cells, which the report links: one CSV row per cell holding stations.
pub const FINGERPRINTS_CSV: &str = "fingerprints.csv";

/// Every output of a Monte Carlo, as the bytes to be written.
#[derive(Debug)]
pub struct RunOutputs {
    /// The summary behind `summary.json` (the command line prints it, too).
    pub summary: Summary,
    /// `summary.json`: [`Summary::to_json`].
    pub summary_json: String,
    /// `runs.csv`: [`runs_csv`].
    pub runs_csv: Vec<u8>,
    /// `report.html`: [`crate::report::render`].
    pub report_html: String,
    /// `fingerprints.csv`: [`RunReport::fingerprints_csv`].
    pub fingerprints_csv: Vec<u8>,
}

impl RunOutputs {
    /// Builds all outputs of runs `0..` of every variant of `scenario` (`outcomes` per variant,
    /// in run order, as returned by [`Simulator::run_all`]); `source` is the scenario file's text
    /// (the report quotes it). The report re-simulates one representative run per variant on
    /// the caller's rayon pool. Pure: the same arguments give the same bytes.
    pub fn build(
        scenario: &Scenario,
        source: &str,
        seed: u64,
        outcomes: &[Vec<RunOutcome>],
    ) -> RunOutputs {
        Self::build_with(scenario, source, seed, outcomes, ReportOptions::default())
    }

    /// [`RunOutputs::build`] with the report's options.
    pub fn build_with(
        scenario: &Scenario,
        source: &str,
        seed: u64,
        outcomes: &[Vec<RunOutcome>],
        options: ReportOptions,
    ) -> RunOutputs {
        let summary = Summary::build(scenario, seed, 0, outcomes);
        let prepared = Simulator::new(scenario, seed);
        // every view of the page follows the party the overview follows
        let options = ReportOptions {
            follow: options.follow.or_else(|| {
                let id = &summary.leader.as_ref()?.id;
                scenario.parties.iter().position(|p| &p.id == id)
            }),
            ..options
        };
        let fingerprints = representative_fingerprints_with(&prepared, outcomes, options.clone());
        let report = RunReport::build(&summary, outcomes, fingerprints, source)
            .with_options(&summary, &options);
        RunOutputs {
            summary_json: summary.to_json(),
            runs_csv: runs_csv(scenario, outcomes),
            report_html: crate::report::render(&report),
            fingerprints_csv: report.fingerprints_csv(),
            summary,
        }
    }

    /// The files, as `(file name, bytes)`, in the order they are written.
    pub fn files(&self) -> [(&'static str, &[u8]); 4] {
        [
            (SUMMARY_JSON, self.summary_json.as_bytes()),
            (RUNS_CSV, &self.runs_csv),
            (FINGERPRINTS_CSV, &self.fingerprints_csv),
            (REPORT_HTML, self.report_html.as_bytes()),
        ]
    }

    /// Writes every file into the existing directory `dir`, all or none (see
    /// [`write_all_or_none`]); returns their paths in the order of [`RunOutputs::files`].
    pub fn write(&self, dir: &Path) -> Result<Vec<PathBuf>, WriteError> {
        let files = self.files();
        let paths: Vec<PathBuf> = files.iter().map(|(name, _)| dir.join(name)).collect();
        let set: Vec<(&Path, &[u8])> = paths
            .iter()
            .zip(&files)
            .map(|(p, (_, bytes))| (p.as_path(), *bytes))
            .collect();
        write_all_or_none(&set)?;
        Ok(paths)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::files::tests::listing;

    fn tutorial(runs: u32) -> RunOutputs {
        let source = include_str!("../../scenarios/tutorial.toml");
        let scenario = crate::scenario::parse(source, "tutorial.toml").unwrap();
        let stop = std::sync::atomic::AtomicBool::new(false);
        let outcomes = Simulator::new(&scenario, 7)
            .run_all(0..runs, &stop, &|| {})
            .unwrap();
        RunOutputs::build(&scenario, source, 7, &outcomes)
    }

    #[test]
    fn writes_the_four_files_it_built() {
        let outputs = tutorial(2);
        let dir = tempfile::tempdir().unwrap();
        let paths = outputs.write(dir.path()).unwrap();
        assert_eq!(
            listing(dir.path()),
            [
                "fingerprints.csv",
                "report.html",
                "runs.csv",
                "summary.json"
            ]
        );
        for (path, (name, bytes)) in paths.iter().zip(outputs.files()) {
            assert_eq!(path, &dir.path().join(name));
            assert_eq!(std::fs::read(path).unwrap(), bytes);
        }
        assert!(outputs.report_html.starts_with("<!DOCTYPE html>"));
    }

    #[test]
    fn a_file_that_cannot_be_written_leaves_no_new_file() {
        let outputs = tutorial(2);
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(SUMMARY_JSON), "old").unwrap();
        // a directory where the report should go: the last rename fails, after the summary,
        // the runs and the cells were put in place
        std::fs::create_dir(dir.path().join(REPORT_HTML)).unwrap();
        let err = outputs.write(dir.path()).unwrap_err();
        assert_eq!(err.path, dir.path().join(REPORT_HTML));
        assert_eq!(listing(dir.path()), ["report.html", "summary.json"]);
        assert_eq!(
            std::fs::read_to_string(dir.path().join(SUMMARY_JSON)).unwrap(),
            "old"
        );
        assert!(dir.path().join(REPORT_HTML).is_dir());
    }
}
