//! Sharding a Monte Carlo across machines: which block of run indices a shard computes, the
//! part file it leaves behind, and merging parts back into the outcomes of an unsharded run.
//!
//! **Owns**: the split of `0..runs_total` into `N` contiguous blocks ([`Shard::block`]), the
//! shard index taken from a scheduler's environment ([`Shard::from_scheduler`], given a lookup
//! function rather than reading the environment itself), the part file format ([`Part`],
//! `"format": "tamga-part"`), and the checks of [`merge`]: same tamga version, scenario digest,
//! seed, run count and variants in every part, every outcome of the scenario's shape and within
//! its invariants ([`check_outcome`]), and every run covered exactly once; with
//! [`merge_verified`], a sample of every part's runs simulated again and compared.
//!
//! **Never**: opens or names files (the command line reads and writes them), runs the engine
//! except to verify a sample ([`merge_verified`]), or builds the summary. Because every run draws only from streams keyed by its index
//! (`crate::rng`), the outcomes of a block do not depend on which machine or thread computed
//! them, so merged outcomes equal the outcomes of one unsharded run and the summary built from
//! them is byte-identical.
//!
//! Shards are numbered **from 1**: `--shard 1/3`, `--shard 2/3`, `--shard 3/3`, as in the part
//! file names `part-1-of-3.json`. Shard `K` of `N` covers runs
//! `⌊(K−1)·R/N⌋ .. ⌊K·R/N⌋` of `R`: blocks differ in size by at most one, and a shard of more
//! shards than runs may be empty (its part covers no run and merges as such).

use crate::model::Scenario;
use crate::montecarlo::RunOutcome;
use crate::scenario::ScenarioError;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::ops::Range;

/// The `format` field of every part file.
pub const PART_FORMAT: &str = "tamga-part";
/// Version of the part file layout (2: every outcome carries the `rla_alpha` reading, 17
/// detectors; version 1 had 16).
pub const PART_FORMAT_VERSION: u32 = 2;

/// One shard: number `k` (from 1) of `n`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    pub k: u32,
    pub n: u32,
}

/// Why a shard specification is not usable. Messages name no command-line flag; all but
/// [`ShardError::Syntax`]'s begin with the shard as `shard K/N` or `shard auto/N`, so the command
/// line can name its flag in their place.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum ShardError {
    #[error("a shard is K/N with 1 ≤ K ≤ N (shards are numbered from 1), or auto/N, not `{0}`")]
    Syntax(String),
    #[error("shard {k}/{n}: K must be between 1 and N = {n} (shards are numbered from 1)")]
    OutOfRange { k: u64, n: u32 },
    #[error("shard auto/N: N must be at least 1")]
    NoShards,
    #[error(
        "shard auto/{n}: neither SLURM_ARRAY_TASK_ID nor JOB_COMPLETION_INDEX is set; give the shard as K/N"
    )]
    NoScheduler { n: u32 },
    #[error(
        "shard auto/{n}: both SLURM_ARRAY_TASK_ID and JOB_COMPLETION_INDEX are set; give the shard as K/N"
    )]
    Ambiguous { n: u32 },
    #[error("shard auto/{n}: {var} = `{value}` is not a non-negative integer")]
    BadVariable {
        n: u32,
        var: &'static str,
        value: String,
    },
    #[error(
        "shard auto/{n}: the Slurm job array has {count} tasks but N = {n}; make them equal (e.g. sbatch --array=1-{n})"
    )]
    CountMismatch { n: u32, count: u64 },
}

/// A parsed shard specification (`tamga run --shard`): explicit `K/N` or `auto/N`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShardSpec {
    Explicit(Shard),
    Auto { n: u32 },
}

impl ShardSpec {
    /// Parses `K/N` (1 ≤ K ≤ N) or `auto/N`.
    pub fn parse(s: &str) -> Result<ShardSpec, ShardError> {
        let syntax = || ShardError::Syntax(s.to_string());
        let (k, n) = s.trim().split_once('/').ok_or_else(syntax)?;
        let n: u32 = n.trim().parse().map_err(|_| syntax())?;
        if k.trim().eq_ignore_ascii_case("auto") {
            if n == 0 {
                return Err(ShardError::NoShards);
            }
            return Ok(ShardSpec::Auto { n });
        }
        let k: u64 = k.trim().parse().map_err(|_| syntax())?;
        Ok(ShardSpec::Explicit(Shard::new(k, n)?))
    }

    /// The shard, looking up the scheduler's variables through `var` when the spec is `auto/N`.
    pub fn resolve(self, var: impl Fn(&str) -> Option<String>) -> Result<Shard, ShardError> {
        match self {
            ShardSpec::Explicit(s) => Ok(s),
            ShardSpec::Auto { n } => Shard::from_scheduler(n, var),
        }
    }
}

impl Shard {
    /// Shard `k` (from 1) of `n`, validated.
    pub fn new(k: u64, n: u32) -> Result<Shard, ShardError> {
        if n == 0 || k == 0 || k > n as u64 {
            return Err(ShardError::OutOfRange { k, n });
        }
        Ok(Shard { k: k as u32, n })
    }

    /// The shard number from a scheduler, looked up through `var` (the command line passes
    /// `std::env::var`):
    ///
    /// * Kubernetes Indexed Job: `JOB_COMPLETION_INDEX` counts from 0, so `K = index + 1`;
    /// * Slurm job array: `K = SLURM_ARRAY_TASK_ID − SLURM_ARRAY_TASK_MIN + 1`, so `--array=0-3`
    ///   and `--array=1-4` both give shards 1..4 (without `SLURM_ARRAY_TASK_MIN`, the task id is
    ///   taken as `K`); if `SLURM_ARRAY_TASK_COUNT` is set it must equal `n`.
    ///
    /// Exactly one of the two must be set.
    pub fn from_scheduler(
        n: u32,
        var: impl Fn(&str) -> Option<String>,
    ) -> Result<Shard, ShardError> {
        let num = |name: &'static str| -> Result<Option<u64>, ShardError> {
            match var(name) {
                None => Ok(None),
                Some(v) => v
                    .trim()
                    .parse::<u64>()
                    .map(Some)
                    .map_err(|_| ShardError::BadVariable {
                        n,
                        var: name,
                        value: v,
                    }),
            }
        };
        let slurm = num("SLURM_ARRAY_TASK_ID")?;
        let k8s = num("JOB_COMPLETION_INDEX")?;
        let k = match (slurm, k8s) {
            (Some(_), Some(_)) => return Err(ShardError::Ambiguous { n }),
            (None, None) => return Err(ShardError::NoScheduler { n }),
            (None, Some(index)) => index.saturating_add(1),
            (Some(id), None) => {
                if let Some(count) = num("SLURM_ARRAY_TASK_COUNT")?
                    && count != n as u64
                {
                    return Err(ShardError::CountMismatch { n, count });
                }
                match num("SLURM_ARRAY_TASK_MIN")? {
                    // below the minimum cannot happen in Slurm; 0 is then rejected as out of range
                    Some(min) => id.checked_sub(min).map_or(0, |d| d.saturating_add(1)),
                    None => id,
                }
            }
        };
        Shard::new(k, n)
    }

    /// The run indices of this shard among `0..runs_total`: the `k`-th of `n` contiguous blocks
    /// whose sizes differ by at most one.
    pub fn block(self, runs_total: u32) -> Range<u32> {
        let at = |i: u32| (i as u64 * runs_total as u64 / self.n as u64) as u32;
        at(self.k - 1)..at(self.k)
    }

    /// The part file name this shard writes: `part-K-of-N.json`.
    pub fn file_name(self) -> String {
        format!("part-{}-of-{}.json", self.k, self.n)
    }
}

/// Run indices `start..end`, as written in a part file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunRange {
    pub start: u32,
    pub end: u32,
}

/// What one shard computed: enough to check it against the other parts and to rebuild the
/// scenario (its source text is included, so `tamga merge` needs no scenario path).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Part {
    /// Always [`PART_FORMAT`].
    pub format: String,
    pub format_version: u32,
    pub tamga_version: String,
    /// The scenario's name (`[meta] name`), for people reading the file.
    pub scenario: String,
    /// SHA-256 of the scenario file's bytes, hex; equals the digest of `scenario_source`.
    pub scenario_digest: String,
    /// The scenario file, verbatim.
    pub scenario_source: String,
    pub seed: u64,
    /// Runs per variant in the whole (unsharded) Monte Carlo.
    pub runs_total: u32,
    pub shard: Shard,
    /// The run indices this part covers.
    pub runs: RunRange,
    /// The variants that were run, in scenario order.
    pub variants: Vec<String>,
    /// The simulation path the shard ran with (`tamga run --path` may override the file's);
    /// `"ballot"` in parts written before the field existed.
    #[serde(default = "ballot_path")]
    pub path: String,
    /// Per variant (in `variants` order), the outcomes of runs `runs.start..runs.end` in order.
    pub outcomes: Vec<Vec<RunOutcome>>,
}

fn ballot_path() -> String {
    crate::model::SimPath::Ballot.name().to_string()
}

impl Part {
    /// A part for the outcomes of `shard`'s block, which `outcomes` must hold (per variant of
    /// `scenario`, in run order). `source` is the scenario file's text.
    pub fn new(
        scenario: &Scenario,
        source: &str,
        seed: u64,
        runs_total: u32,
        shard: Shard,
        outcomes: Vec<Vec<RunOutcome>>,
    ) -> Part {
        let r = shard.block(runs_total);
        Part {
            format: PART_FORMAT.to_string(),
            format_version: PART_FORMAT_VERSION,
            tamga_version: crate::VERSION.to_string(),
            scenario: scenario.meta.name.clone(),
            scenario_digest: scenario.digest.clone(),
            scenario_source: source.to_string(),
            seed,
            runs_total,
            shard,
            runs: RunRange {
                start: r.start,
                end: r.end,
            },
            variants: scenario.variants.iter().map(|v| v.name.clone()).collect(),
            path: scenario.montecarlo.path.name().to_string(),
            outcomes,
        }
    }

    /// The part as compact JSON (one line, for size: parts of long runs are large) with a
    /// trailing newline.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string(self).expect("a part serialises");
        s.push('\n');
        s
    }

    /// [`Part::to_json`], checked: every outcome is read back from its JSON and must come back
    /// equal, so that a merge reproduces the unsharded summary exactly. Fails
    /// ([`PartError::NotExact`], naming the variant and run) on a value JSON cannot carry, such
    /// as a non-finite floating-point number.
    pub fn to_json_checked(&self) -> Result<String, PartError> {
        for (v, runs) in self.outcomes.iter().enumerate() {
            for o in runs {
                let back = serde_json::to_string(o)
                    .ok()
                    .and_then(|j| serde_json::from_str::<RunOutcome>(&j).ok());
                if back.as_ref() != Some(o) {
                    return Err(PartError::NotExact {
                        run: o.run,
                        variant: self.variants.get(v).map_or("?", |s| s.as_str()).to_string(),
                    });
                }
            }
        }
        Ok(self.to_json())
    }

    /// Reads a part from JSON bytes; rejects other formats and versions. The bytes are read
    /// twice — once for the format fields alone, skipping the rest without storing it, then
    /// straight into the part — never as a generic JSON tree, which takes several times the
    /// memory of the outcomes it holds.
    pub fn from_json(bytes: &[u8]) -> Result<Part, PartError> {
        Part::from_readers(bytes, bytes)
    }

    /// [`Part::from_json`] from a reader, read twice: `first` and `second` must read the same
    /// bytes (the file opened twice). Holds only the part, never the file's bytes.
    pub fn from_readers<R: std::io::Read>(first: R, second: R) -> Result<Part, PartError> {
        #[derive(Deserialize)]
        struct Header {
            #[serde(default)]
            format: serde_json::Value,
            #[serde(default)]
            format_version: serde_json::Value,
        }
        let header: Header = match serde_json::from_reader(first) {
            Ok(h) => h,
            Err(e) if e.is_syntax() || e.is_eof() || e.is_io() => {
                return Err(PartError::NotJson(e));
            }
            // JSON, but not an object
            Err(_) => return Err(PartError::NotAPart),
        };
        if header.format.as_str() != Some(PART_FORMAT) {
            return Err(PartError::NotAPart);
        }
        let version = header.format_version.as_u64();
        if version != Some(PART_FORMAT_VERSION as u64) {
            return Err(PartError::Version {
                found: version.map_or("(none)".to_string(), |x| x.to_string()),
            });
        }
        serde_json::from_reader(second).map_err(|e| {
            // the document is JSON (its header was read), so characters left over can only be
            // the elements of a fixed-length array (a run's detector readings) beyond its length
            if e.to_string().starts_with("trailing characters") {
                PartError::LongArray {
                    line: e.line(),
                    column: e.column(),
                }
            } else {
                PartError::Invalid(e)
            }
        })
    }

    /// Parties in the part's outcomes (those of its first outcome; 0 if it has none): for
    /// [`check_outcomes_fit`] before the scenario is read.
    pub fn parties(&self) -> usize {
        self.outcomes
            .iter()
            .flatten()
            .next()
            .map_or(0, |o| o.reported.list_votes.len())
    }
}

/// Memory the outcomes of one `tamga run` or `tamga merge` may take, in bytes (1 GiB): with the
/// rest of the command that keeps it under 2 GiB. Checked before anything is sized by runs ×
/// variants ([`check_outcomes_fit`]).
pub const MAX_OUTCOMES_BYTES: u64 = 1 << 30;

/// Bytes one run's outcome takes while a run or merge holds every outcome and builds its
/// outputs, for a scenario of `parties` parties: two copies of the outcome itself (the parallel
/// collection and the per-variant lists), the vectors of its two tallies (five of parties + 1
/// counts each, with the allocator's overhead), and the summary's values and runs.csv row.
/// Measured: the maximum resident memory of `tamga run` of a 3-party scenario grows by 1.69 KB
/// per run between 100,000 and 200,000 runs; this gives 2,512 bytes for 3 parties (the outcome
/// has grown since that measurement: it gave 2.27 KB then), and the resource
/// test `hostile_inputs::outcome_memory_estimate_bounds_what_a_run_takes` checks it against the
/// measured growth.
pub fn outcome_bytes(parties: usize) -> u64 {
    let p = parties as u64 + 1;
    2 * std::mem::size_of::<RunOutcome>() as u64 + 2 * 5 * (32 + 8 * p) + 64 * p
}

/// Too many outcomes for memory ([`check_outcomes_fit`]).
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "{runs} runs × {variants} variant(s) would hold {outcomes} run outcomes of ≈ {per} bytes \
     ({parties} parties) in memory, ≈ {need_mib} MiB, more than the {limit_mib} MiB tamga \
     allows them; give at most {max_runs} runs for these variants (--runs), or fewer variants \
     (--variant NAME,…)"
)]
pub struct TooManyOutcomes {
    pub runs: u32,
    pub variants: usize,
    pub parties: usize,
    pub outcomes: u64,
    pub per: u64,
    pub need_mib: u64,
    pub limit_mib: u64,
    pub max_runs: u64,
}

/// Checks that `runs` × `variants` outcomes of `parties` parties fit in
/// [`MAX_OUTCOMES_BYTES`]; the error names the figures, the limit and the way out.
pub fn check_outcomes_fit(
    runs: u32,
    variants: usize,
    parties: usize,
) -> Result<(), TooManyOutcomes> {
    let per = outcome_bytes(parties);
    let outcomes = u64::from(runs).saturating_mul(variants as u64);
    let need = outcomes.saturating_mul(per);
    if need <= MAX_OUTCOMES_BYTES {
        return Ok(());
    }
    Err(TooManyOutcomes {
        runs,
        variants,
        parties,
        outcomes,
        per,
        need_mib: need >> 20,
        limit_mib: MAX_OUTCOMES_BYTES >> 20,
        max_runs: MAX_OUTCOMES_BYTES / per.saturating_mul(variants.max(1) as u64),
    })
}

/// Why a part cannot be written ([`Part::to_json_checked`]) or read ([`Part::from_json`]). The
/// reading errors are said of the file: their messages follow its name (`FILE is not JSON …`).
#[derive(Debug, thiserror::Error)]
pub enum PartError {
    #[error(
        "run {run} of variant `{variant}` does not survive the part file's JSON exactly \
         (a non-finite number?); run this scenario unsharded"
    )]
    NotExact { run: u32, variant: String },
    #[error("is not JSON ({0})")]
    NotJson(serde_json::Error),
    #[error("is not a tamga part file (its \"format\" is not \"{PART_FORMAT}\")")]
    NotAPart,
    #[error("has part format version {found}, this tamga reads version {PART_FORMAT_VERSION}")]
    Version {
        /// The version found, or `(none)`.
        found: String,
    },
    #[error(
        "is not a valid tamga part file (an array has more elements than expected, at line \
         {line} column {column})"
    )]
    LongArray { line: usize, column: usize },
    #[error("is not a valid tamga part file ({0})")]
    Invalid(serde_json::Error),
}

/// Why parts cannot be merged. Every message is one line that names the offending part.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("no part files to merge")]
    NoParts,
    #[error(
        "{part} was written by tamga {found}, but this is tamga {expected}; merge with the version that ran the shards"
    )]
    Version {
        part: String,
        found: String,
        expected: String,
    },
    #[error(
        "{part} has {what} {found}, but {first} has {expected}; all parts must come from the same scenario file, seed, run count and variants"
    )]
    Mismatch {
        part: String,
        first: String,
        what: &'static str,
        found: String,
        expected: String,
    },
    #[error("{part} is inconsistent: {problem}")]
    Inconsistent { part: String, problem: String },
    #[error("the parts cannot be merged in memory: {0}")]
    TooMany(TooManyOutcomes),
    #[error(
        "{part} and {other} both cover run {run}; every run must be in exactly one part (remove one of them)"
    )]
    Overlap {
        part: String,
        other: String,
        run: u32,
    },
    #[error(
        "no part covers runs {start}..{end} of 0..{total}{after}; run the missing shard(s) and merge again"
    )]
    Missing {
        start: u32,
        end: u32,
        total: u32,
        after: String,
    },
    #[error(
        "{part}, variant `{variant}`, run {run}: {field} {problem}; the part is corrupt or was edited — run its shard again (tamga run --shard) and merge"
    )]
    Outcome {
        part: String,
        variant: String,
        run: u32,
        /// The outcome's field as in the part file, e.g. `list_votes` or `truth.total_seats[2]`.
        field: String,
        problem: String,
    },
    #[error(
        "{part}, variant `{variant}`, run {run}: {field} is {found} in the part but {expected} when the run is simulated again (--verify); the part was edited, corrupted or computed by a different build — run its shard again (tamga run --shard) and merge"
    )]
    Differs {
        part: String,
        variant: String,
        run: u32,
        field: String,
        found: String,
        expected: String,
    },
    #[error("{part}: its scenario source does not parse: {source}")]
    Scenario {
        part: String,
        #[source]
        source: ScenarioError,
    },
}

/// Parts merged back together: the scenario (restricted to the variants that were run), the
/// seed, and the outcomes of every run per variant, in run order — what an unsharded run with
/// the same arguments produces.
#[derive(Debug)]
pub struct Merged {
    pub scenario: Scenario,
    /// The scenario file's text (identical in every part).
    pub source: String,
    pub seed: u64,
    pub outcomes: Vec<Vec<RunOutcome>>,
}

/// Checks that `parts` (each with a label for messages, usually its path) come from the same
/// tamga version (`this_version`), scenario, seed, run count and variants, that every outcome
/// has the scenario's shape and keeps its invariants ([`check_outcome`]), and that the parts
/// cover every run `0..runs_total` exactly once; returns the outcomes in run order.
pub fn merge(parts: Vec<(String, Part)>, this_version: &str) -> Result<Merged, MergeError> {
    merge_verified(parts, this_version, 0)
}

/// [`merge`], and then, for `verify > 0`, `verify` runs per variant of every part (evenly
/// spaced over its block, [`verify_sample`]; all of them if it has fewer) simulated again on the
/// current rayon pool and compared with the part's outcomes: a part whose outcome differs is
/// refused ([`MergeError::Differs`], naming the first field that differs). Runs are
/// deterministic, so an honest part always passes.
pub fn merge_verified(
    parts: Vec<(String, Part)>,
    this_version: &str,
    verify: u32,
) -> Result<Merged, MergeError> {
    let Some((first_label, first)) = parts.first() else {
        return Err(MergeError::NoParts);
    };
    let source = first.scenario_source.clone();
    for (label, p) in &parts {
        if p.tamga_version != this_version {
            return Err(MergeError::Version {
                part: label.clone(),
                found: p.tamga_version.clone(),
                expected: this_version.to_string(),
            });
        }
        let mismatch = |what, found: String, expected: String| MergeError::Mismatch {
            part: label.clone(),
            first: first_label.clone(),
            what,
            found,
            expected,
        };
        if p.scenario_digest != first.scenario_digest {
            return Err(mismatch(
                "scenario digest",
                short(&p.scenario_digest),
                short(&first.scenario_digest),
            ));
        }
        if p.seed != first.seed {
            return Err(mismatch("seed", p.seed.to_string(), first.seed.to_string()));
        }
        if p.runs_total != first.runs_total {
            return Err(mismatch(
                "runs total",
                p.runs_total.to_string(),
                first.runs_total.to_string(),
            ));
        }
        if p.variants != first.variants {
            return Err(mismatch(
                "variants",
                p.variants.join(","),
                first.variants.join(","),
            ));
        }
        if p.path != first.path {
            return Err(mismatch("path", p.path.clone(), first.path.clone()));
        }
        check_part(label, p)?;
    }

    let mut scenario =
        crate::scenario::parse(&first.scenario_source, first_label).map_err(|source| {
            MergeError::Scenario {
                part: first_label.clone(),
                source,
            }
        })?;
    if scenario.digest != first.scenario_digest {
        return Err(MergeError::Inconsistent {
            part: first_label.clone(),
            problem: "its scenario source does not have its scenario digest".into(),
        });
    }
    for name in &first.variants {
        if scenario.variant(name).is_none() {
            return Err(MergeError::Inconsistent {
                part: first_label.clone(),
                problem: format!("its scenario has no variant `{name}`"),
            });
        }
    }
    scenario
        .variants
        .retain(|v| first.variants.contains(&v.name));
    scenario.montecarlo.path =
        crate::model::SimPath::from_name(&first.path).ok_or_else(|| MergeError::Inconsistent {
            part: first_label.clone(),
            problem: format!("its path `{}` is not ballot, station or hybrid", first.path),
        })?;
    check_outcomes_fit(
        first.runs_total,
        first.variants.len(),
        scenario.parties.len(),
    )
    .map_err(MergeError::TooMany)?;
    let order: Vec<String> = scenario.variants.iter().map(|v| v.name.clone()).collect();
    if order != first.variants {
        return Err(MergeError::Inconsistent {
            part: first_label.clone(),
            problem: "its variants are not listed once each in scenario order".into(),
        });
    }
    for (label, p) in &parts {
        for (v, runs) in scenario.variants.iter().zip(&p.outcomes) {
            for o in runs {
                check_outcome(&scenario, v, o).map_err(|(field, problem)| MergeError::Outcome {
                    part: label.clone(),
                    variant: v.name.clone(),
                    run: o.run,
                    field,
                    problem,
                })?;
            }
        }
    }

    // coverage: sort by range, walk from run 0, skip empty parts
    let total = first.runs_total;
    let seed = first.seed;
    let n_variants = first.variants.len();
    let mut covering: Vec<(String, Part)> = parts
        .into_iter()
        .filter(|(_, p)| p.runs.start < p.runs.end)
        .collect();
    covering.sort_by_key(|(_, p)| (p.runs.start, p.runs.end));
    let mut cursor = 0u32;
    let mut prev: Option<String> = None;
    for (label, p) in &covering {
        if p.runs.start > cursor {
            return Err(MergeError::Missing {
                start: cursor,
                end: p.runs.start,
                total,
                after: after(&prev),
            });
        }
        if p.runs.start < cursor {
            return Err(MergeError::Overlap {
                part: label.clone(),
                other: prev.clone().unwrap_or_default(),
                run: p.runs.start,
            });
        }
        cursor = p.runs.end;
        prev = Some(label.clone());
    }
    if cursor < total {
        return Err(MergeError::Missing {
            start: cursor,
            end: total,
            total,
            after: after(&prev),
        });
    }

    if verify > 0 {
        verify_parts(&scenario, seed, &covering, verify)?;
    }
    let mut outcomes: Vec<Vec<RunOutcome>> = (0..n_variants)
        .map(|_| Vec::with_capacity(total as usize))
        .collect();
    for (_, p) in covering {
        for (all, part) in outcomes.iter_mut().zip(p.outcomes) {
            all.extend(part);
        }
    }
    Ok(Merged {
        scenario,
        source,
        seed,
        outcomes,
    })
}

/// A part's own consistency: range inside the total, and one outcome per run and variant with
/// the right run index.
fn check_part(label: &str, p: &Part) -> Result<(), MergeError> {
    let bad = |problem: String| MergeError::Inconsistent {
        part: label.to_string(),
        problem,
    };
    if p.runs_total == 0 || p.runs_total > crate::model::MAX_RUNS {
        return Err(bad(format!(
            "its runs total {} is not between 1 and {} (the most runs a scenario may have)",
            p.runs_total,
            crate::model::MAX_RUNS
        )));
    }
    if p.runs.start > p.runs.end || p.runs.end > p.runs_total {
        return Err(bad(format!(
            "its runs {}..{} are not inside 0..{}",
            p.runs.start, p.runs.end, p.runs_total
        )));
    }
    let digest = crate::ledger::to_hex(&Sha256::digest(p.scenario_source.as_bytes()));
    if digest != p.scenario_digest {
        return Err(bad(format!(
            "its scenario source has digest {}, not its scenario digest {}",
            short(&digest),
            short(&p.scenario_digest)
        )));
    }
    if p.outcomes.len() != p.variants.len() {
        return Err(bad(format!(
            "it lists {} variants but has outcomes for {}",
            p.variants.len(),
            p.outcomes.len()
        )));
    }
    for (name, runs) in p.variants.iter().zip(&p.outcomes) {
        let want = (p.runs.end - p.runs.start) as usize;
        if runs.len() != want {
            return Err(bad(format!(
                "variant `{name}` has {} outcomes for runs {}..{} ({want} runs)",
                runs.len(),
                p.runs.start,
                p.runs.end
            )));
        }
        for (o, r) in runs.iter().zip(p.runs.start..p.runs.end) {
            if o.run != r {
                return Err(bad(format!(
                    "variant `{name}`: the outcome for run {r} says it is run {}",
                    o.run
                )));
            }
        }
    }
    Ok(())
}

/// One outcome against its scenario and variant: every per-party array has the scenario's
/// party count (plus one, for independents, where district seats are counted), and the counts
/// keep the invariants every simulated run keeps:
///
/// * valid list votes plus invalid list ballots add up (without overflow) to at most the
///   ballots issued, and electronic ballots are at most the ballots issued;
/// * ballots issued are at most the registered voters — twice as many with a `carousel` model,
///   whose voters may each be issued one extra ballot (stuffing only fills in for non-voters);
/// * list seats add up to at most the list tier's seats (none without a list tier), district
///   seats to at most the number of districts (none without single-member districts), runoffs
///   at most the districts; round-1 district seats at most the district seats, and total seats
///   are district plus list seats.
///
/// The same for the truth. On failure, the field (as named in the part file) and the problem.
pub fn check_outcome(
    scenario: &Scenario,
    variant: &crate::model::Variant,
    o: &RunOutcome,
) -> Result<(), (String, String)> {
    use crate::fraud::FraudKind;
    let k = scenario.parties.len();
    let model = &variant.model;
    let list_tier = model.system.list.as_ref().map_or(0, |t| t.seats as u64);
    let districts: u64 = if model.system.districts.is_some() {
        model.regions.iter().map(|r| r.districts as u64).sum()
    } else {
        0
    };
    let carousel = model
        .fraud
        .iter()
        .any(|f| matches!(f.kind, FraudKind::Carousel { .. }));
    let registered_cap = if carousel {
        o.registered.saturating_mul(2)
    } else {
        o.registered
    };
    for (prefix, t) in [("", &o.reported), ("truth.", &o.truth)] {
        let field = |name: &str| format!("{prefix}{name}");
        let shapes: [(&str, usize, usize); 5] = [
            ("list_votes", t.list_votes.len(), k),
            ("list_seats", t.list_seats.len(), k),
            ("district_seats", t.district_seats.len(), k + 1),
            ("round1_seats", t.round1_seats.len(), k + 1),
            ("total_seats", t.total_seats.len(), k + 1),
        ];
        for (name, len, want) in shapes {
            if len != want {
                let what = if want == k {
                    format!("{k}, one per party")
                } else {
                    format!("{want}, one per party and one for independents")
                };
                return Err((
                    field(name),
                    format!("has {len} entries, but the scenario wants {what}"),
                ));
            }
        }
        let valid = t
            .list_votes
            .iter()
            .try_fold(0u64, |a, &x| a.checked_add(x))
            .and_then(|v| v.checked_add(t.list_invalid));
        let Some(cast) = valid else {
            return Err((
                field("list_votes"),
                "with list_invalid add up to more than 2^64 − 1".into(),
            ));
        };
        if cast > t.ballots {
            return Err((
                field("list_votes"),
                format!(
                    "with list_invalid add up to {cast}, more than the {} ballots issued",
                    t.ballots
                ),
            ));
        }
        if t.ballots > registered_cap {
            return Err((
                field("ballots"),
                format!(
                    "is {}, more than {} ({} registered{})",
                    t.ballots,
                    registered_cap,
                    o.registered,
                    if carousel {
                        ", twice with carousel voting"
                    } else {
                        ""
                    }
                ),
            ));
        }
        let sum = |v: &[u32]| v.iter().map(|&x| x as u64).sum::<u64>();
        let list = sum(&t.list_seats);
        if list > list_tier {
            return Err((
                field("list_seats"),
                format!("add up to {list}, but the list tier has {list_tier} seats"),
            ));
        }
        if t.unallocated_list_seats as u64 > list_tier {
            return Err((
                field("unallocated_list_seats"),
                format!(
                    "is {}, but the list tier has {list_tier} seats",
                    t.unallocated_list_seats
                ),
            ));
        }
        let district = sum(&t.district_seats);
        if district > districts {
            return Err((
                field("district_seats"),
                format!("add up to {district}, but there are {districts} single-member districts"),
            ));
        }
        if t.runoffs as u64 > districts {
            return Err((
                field("runoffs"),
                format!(
                    "is {}, but there are {districts} single-member districts",
                    t.runoffs
                ),
            ));
        }
        for i in 0..=k {
            let d = t.district_seats[i] as u64;
            if t.round1_seats[i] as u64 > d {
                return Err((
                    format!("{prefix}round1_seats[{i}]"),
                    format!("is {}, more than the {d} district seats", t.round1_seats[i]),
                ));
            }
            let want = d + t.list_seats.get(i).map_or(0, |&x| x as u64);
            if t.total_seats[i] as u64 != want {
                return Err((
                    format!("{prefix}total_seats[{i}]"),
                    format!(
                        "is {}, but district plus list seats are {want}",
                        t.total_seats[i]
                    ),
                ));
            }
        }
    }
    if o.electronic > o.reported.ballots {
        return Err((
            "electronic".into(),
            format!(
                "is {}, more than the {} ballots issued",
                o.electronic, o.reported.ballots
            ),
        ));
    }
    Ok(())
}

/// The runs `--verify n` re-simulates of a block: all of them if it has at most `n`, else `n`
/// evenly spaced ones, from its first run (`start + ⌊i·len/n⌋`, `i = 0..n`).
pub fn verify_sample(block: Range<u32>, n: u32) -> Vec<u32> {
    let len = block.end.saturating_sub(block.start) as u64;
    if len <= n as u64 {
        return block.collect();
    }
    (0..n as u64)
        .map(|i| block.start + (i * len / n as u64) as u32)
        .collect()
}

/// Re-simulates [`verify_sample`] of every part, every variant, and compares.
fn verify_parts(
    scenario: &Scenario,
    seed: u64,
    parts: &[(String, Part)],
    n: u32,
) -> Result<(), MergeError> {
    use rayon::prelude::*;
    let sim = crate::montecarlo::Simulator::new(scenario, seed);
    let mut jobs = Vec::new();
    for (pi, (_, p)) in parts.iter().enumerate() {
        for v in 0..scenario.variants.len() {
            for r in verify_sample(p.runs.start..p.runs.end, n) {
                jobs.push((pi, v, r));
            }
        }
    }
    let found: Vec<Option<MergeError>> = jobs
        .par_iter()
        .map_init(crate::sim::Workspace::default, |ws, &(pi, v, r)| {
            let (label, p) = &parts[pi];
            let stored = &p.outcomes[v][(r - p.runs.start) as usize];
            let again = sim.run_one(v, r, ws);
            if &again == stored {
                return None;
            }
            let (field, found, expected) = first_difference(stored, &again);
            Some(MergeError::Differs {
                part: label.clone(),
                variant: scenario.variants[v].name.clone(),
                run: r,
                field,
                found,
                expected,
            })
        })
        .collect();
    match found.into_iter().flatten().next() {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// The first field (in the part file's JSON, depth first) where two outcomes differ, with the
/// two values.
fn first_difference(stored: &RunOutcome, again: &RunOutcome) -> (String, String, String) {
    use serde_json::Value;
    fn walk(path: String, a: &Value, b: &Value) -> Option<(String, String, String)> {
        match (a, b) {
            (Value::Object(x), Value::Object(y)) => {
                for (key, va) in x {
                    let p = if path.is_empty() {
                        key.clone()
                    } else {
                        format!("{path}.{key}")
                    };
                    match y.get(key) {
                        Some(vb) => {
                            if let Some(d) = walk(p, va, vb) {
                                return Some(d);
                            }
                        }
                        None => return Some((p, va.to_string(), "(absent)".into())),
                    }
                }
                None
            }
            (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
                .iter()
                .zip(y)
                .enumerate()
                .find_map(|(i, (va, vb))| walk(format!("{path}[{i}]"), va, vb)),
            _ if a == b => None,
            _ => Some((path, a.to_string(), b.to_string())),
        }
    }
    let a = serde_json::to_value(stored).unwrap_or(Value::Null);
    let b = serde_json::to_value(again).unwrap_or(Value::Null);
    walk(String::new(), &a, &b).unwrap_or_else(|| ("the outcome".into(), "?".into(), "?".into()))
}

fn short(digest: &str) -> String {
    digest.chars().take(12).collect::<String>() + "…"
}

fn after(prev: &Option<String>) -> String {
    prev.as_ref()
        .map(|p| format!(" (the next part after {p} is missing)"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_tile_the_runs_and_differ_by_at_most_one() {
        for total in [0u32, 1, 2, 5, 7, 200, 1001] {
            for n in 1u32..=9 {
                let mut next = 0;
                let mut sizes = Vec::new();
                for k in 1..=n {
                    let b = Shard::new(k as u64, n).unwrap().block(total);
                    assert_eq!(b.start, next, "total {total} n {n} k {k}");
                    next = b.end;
                    sizes.push(b.len());
                }
                assert_eq!(next, total);
                let (lo, hi) = (sizes.iter().min().unwrap(), sizes.iter().max().unwrap());
                assert!(hi - lo <= 1, "{sizes:?}");
            }
        }
        assert_eq!(Shard { k: 2, n: 3 }.block(7), 2..4);
        assert_eq!(Shard { k: 3, n: 3 }.block(7), 4..7);
    }

    #[test]
    fn block_does_not_overflow_at_the_largest_counts() {
        let s = Shard {
            k: u32::MAX,
            n: u32::MAX,
        };
        assert_eq!(s.block(u32::MAX).end, u32::MAX);
    }

    #[test]
    fn parse_explicit_auto_and_errors() {
        assert_eq!(
            ShardSpec::parse("2/3"),
            Ok(ShardSpec::Explicit(Shard { k: 2, n: 3 }))
        );
        assert_eq!(ShardSpec::parse("auto/4"), Ok(ShardSpec::Auto { n: 4 }));
        assert_eq!(
            ShardSpec::parse("0/3"),
            Err(ShardError::OutOfRange { k: 0, n: 3 })
        );
        assert_eq!(
            ShardSpec::parse("4/3"),
            Err(ShardError::OutOfRange { k: 4, n: 3 })
        );
        assert_eq!(
            ShardSpec::parse("1/0"),
            Err(ShardError::OutOfRange { k: 1, n: 0 })
        );
        assert_eq!(ShardSpec::parse("auto/0"), Err(ShardError::NoShards));
        for bad in ["", "3", "a/b", "1/-2", "-1/2", "1/2/3", "1.5/2"] {
            assert!(
                matches!(ShardSpec::parse(bad), Err(ShardError::Syntax(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn messages_name_no_flag_and_begin_with_the_shard() {
        let all = [
            ShardError::Syntax("x".into()),
            ShardError::OutOfRange { k: 4, n: 3 },
            ShardError::NoShards,
            ShardError::NoScheduler { n: 3 },
            ShardError::Ambiguous { n: 3 },
            ShardError::BadVariable {
                n: 3,
                var: "JOB_COMPLETION_INDEX",
                value: "x".into(),
            },
            ShardError::CountMismatch { n: 3, count: 4 },
        ];
        for e in all {
            let m = e.to_string();
            assert!(!m.contains("--shard"), "{m}");
            // the command line swaps the leading `shard` for its flag's name
            assert!(
                matches!(e, ShardError::Syntax(_)) || m.starts_with("shard "),
                "{m}"
            );
        }
    }

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn scheduler_indices() {
        // Kubernetes counts from 0
        assert_eq!(
            Shard::from_scheduler(3, env(&[("JOB_COMPLETION_INDEX", "0")])),
            Ok(Shard { k: 1, n: 3 })
        );
        assert_eq!(
            Shard::from_scheduler(3, env(&[("JOB_COMPLETION_INDEX", "3")])),
            Err(ShardError::OutOfRange { k: 4, n: 3 })
        );
        // Slurm relative to the array's minimum
        let a0 = [
            ("SLURM_ARRAY_TASK_ID", "0"),
            ("SLURM_ARRAY_TASK_MIN", "0"),
            ("SLURM_ARRAY_TASK_COUNT", "3"),
        ];
        assert_eq!(Shard::from_scheduler(3, env(&a0)), Ok(Shard { k: 1, n: 3 }));
        let a1 = [("SLURM_ARRAY_TASK_ID", "3"), ("SLURM_ARRAY_TASK_MIN", "1")];
        assert_eq!(Shard::from_scheduler(3, env(&a1)), Ok(Shard { k: 3, n: 3 }));
        assert_eq!(
            Shard::from_scheduler(3, env(&[("SLURM_ARRAY_TASK_ID", "2")])),
            Ok(Shard { k: 2, n: 3 })
        );
        assert_eq!(
            Shard::from_scheduler(3, env(&[("SLURM_ARRAY_TASK_ID", "0")])),
            Err(ShardError::OutOfRange { k: 0, n: 3 })
        );
        let count = [
            ("SLURM_ARRAY_TASK_ID", "1"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
        ];
        assert_eq!(
            Shard::from_scheduler(3, env(&count)),
            Err(ShardError::CountMismatch { n: 3, count: 4 })
        );
        assert_eq!(
            Shard::from_scheduler(3, env(&[])),
            Err(ShardError::NoScheduler { n: 3 })
        );
        let both = [("SLURM_ARRAY_TASK_ID", "1"), ("JOB_COMPLETION_INDEX", "0")];
        assert_eq!(
            Shard::from_scheduler(3, env(&both)),
            Err(ShardError::Ambiguous { n: 3 })
        );
        assert!(matches!(
            Shard::from_scheduler(3, env(&[("JOB_COMPLETION_INDEX", "x")])),
            Err(ShardError::BadVariable { .. })
        ));
    }

    #[test]
    fn part_json_rejects_other_formats() {
        assert!(matches!(
            Part::from_json(b"not json"),
            Err(PartError::NotJson(_))
        ));
        let not_a_part = Part::from_json(br#"{"format":"tamga-summary"}"#).unwrap_err();
        assert!(matches!(not_a_part, PartError::NotAPart));
        assert!(not_a_part.to_string().contains("not a tamga part file"));
        let version = Part::from_json(br#"{"format":"tamga-part","format_version":99}"#);
        assert!(matches!(&version, Err(PartError::Version { found }) if found == "99"));
        assert!(version.unwrap_err().to_string().contains("version 99"));
        let current =
            format!(r#"{{"format":"tamga-part","format_version":{PART_FORMAT_VERSION}}}"#);
        let invalid = Part::from_json(current.as_bytes());
        assert!(matches!(invalid, Err(PartError::Invalid(_))));
    }
}
