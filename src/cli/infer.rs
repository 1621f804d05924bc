//! `tamga infer SCENARIO --hypothesis VARIANT --fraud MODEL[,MODEL…]`: which fraud mechanisms,
//! and how much of each, reproduce the scenario's reported result under an honest hypothesis
//! ([`tamga::infer`]). Prints the reading, posterior intervals, what fraud did and the
//! predictive checks (or the JSON document with `--json`); `--out FILE.json` also writes the
//! JSON and the page beside it (`FILE.html`), both or neither. Owns the progress bar (simulations against the budget, with an ETA) and the
//! clock; Ctrl-C stops after the batch in progress and writes nothing. With `--checkpoint FILE`
//! it reads FILE when it exists and continues from it, and replaces it after every generation
//! ([`tamga::infer::checkpoint`]); Ctrl-C then leaves FILE as the last generation left it.

use super::progress::{hold_exit, stop_flag};
use anyhow::bail;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use tamga::infer::election::Observed;
use tamga::infer::{InferError, Request, Status, infer_with};
use tamga::scenario::ScenarioError;

#[derive(clap::Args)]
pub struct Args {
    /// The scenario file (TOML) with an [inference] section (not with --from-stations).
    #[arg(
        required_unless_present = "from_stations",
        conflicts_with = "from_stations"
    )]
    pub scenario: Option<PathBuf>,
    /// Fit a station-results CSV (plain or gzip) with no scenario: the honest hypothesis is
    /// fitted to the file's clean part (the honest component of a mixture in each region's
    /// logit turnout and leader's share, with its bootstrap uncertainty added to the ballots
    /// added and the votes moved, and both widened to bounds where the file does not identify
    /// its honest level or the leader's honest share), the candidates are [inference]
    /// mechanisms for the file's leader, and the file's turnout, shares and station summaries
    /// are the observed data.
    #[arg(long, value_name = "STATIONS.csv", conflicts_with = "observed")]
    pub from_stations: Option<PathBuf>,
    /// With --from-stations: also write the fitted scenario to FILE.toml (to read, edit, and
    /// run again with `tamga infer FILE.toml --observed STATIONS.csv`).
    #[arg(long, value_name = "FILE.toml", requires = "from_stations")]
    pub write_scenario: Option<PathBuf>,
    /// With --from-stations: fit every region whole. By default each region whose smaller and
    /// larger stations (fewer registered voters than the region's median, and the others) differ
    /// in opposite directions — one half's turnout higher, its leader's share lower, a
    /// difference fraud for the leader does not make — is fitted as two regions, for an honest
    /// level that differs between kinds of place inside a region (towns and villages).
    #[arg(long, requires = "from_stations")]
    pub no_size_split: bool,
    /// The honest variant the fraud acts on (default: [inference] hypothesis).
    #[arg(long)]
    pub hypothesis: Option<String>,
    /// Candidate models, comma-separated: a mechanism of [inference], several joined by `+`
    /// (acting together), or `none` (no fraud). Default: each mechanism alone.
    #[arg(long, value_delimiter = ',')]
    pub fraud: Vec<String>,
    /// What to fit: `reported` (the scenario's [reported] turnout, list shares and seats), or a
    /// station-results CSV (plain or gzip, the format of `tamga forensics`) whose national
    /// turnout, shares and station summaries are fitted.
    #[arg(long, default_value = "reported", value_name = "reported|STATIONS.csv")]
    pub observed: String,
    /// The most simulated elections.
    #[arg(long, default_value_t = 4000, value_parser = clap::value_parser!(u64).range(2..=10_000_000))]
    pub budget: u64,
    /// Particles per generation.
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u64).range(20..=100_000))]
    pub particles: u64,
    /// Seed (default: the scenario's montecarlo.seed); the same seed gives the same result at
    /// any thread count.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Worker threads (default: all cores).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub threads: Option<u64>,
    /// Print the result as one JSON document on stdout instead of text.
    #[arg(long)]
    pub json: bool,
    /// Also write the JSON document to FILE and the page (self-contained HTML) beside it with
    /// the extension `.html`, both or neither.
    #[arg(long, value_name = "FILE.json")]
    pub out: Option<PathBuf>,
    /// Keep the inference's state in FILE, written whole or not at all after every complete
    /// generation, and continue from it when FILE exists: a run stopped by Ctrl-C, a killed
    /// job or the end of its --budget is taken up again by the same command (a larger --budget
    /// extends it), with the result of an uninterrupted run, byte for byte. A checkpoint of
    /// other arguments or files is refused, naming what differs.
    #[arg(long, value_name = "FILE", conflicts_with = "calibrate")]
    pub checkpoint: Option<PathBuf>,
    /// Fit a synthetic election with known fraud instead of the reported result, e.g.
    /// `stuffing.rate=0.3,protocols.share=0.1`: the report sets the truth beside the posterior.
    #[arg(long, value_name = "MECHANISM.PARAMETER=VALUE,…")]
    pub synthetic: Option<String>,
    /// Check calibration instead (Talts et al. 2018): N synthetic elections drawn from the
    /// first model's prior, each inferred with --particles and --budget; prints each parameter's
    /// and derived quantity's 90 % coverage and the p-value of a χ² test of uniform ranks.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(10..=100_000))]
    pub calibrate: Option<u64>,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    super::run::thread_pool(args.threads.map(|t| t as usize))?.install(|| run_inner(&args))
}

fn run_inner(args: &Args) -> anyhow::Result<ExitCode> {
    // (clap's `requires` is not enforced beside the positional SCENARIO it conflicts with)
    if args.from_stations.is_none() {
        if args.no_size_split {
            bail!(
                "--no-size-split is about the regions of a station file: give --from-stations STATIONS.csv"
            );
        }
        if args.write_scenario.is_some() {
            bail!(
                "--write-scenario writes the scenario fitted to a station file: give --from-stations STATIONS.csv"
            );
        }
    }
    let (scenario, show, fitted, beside) = match (&args.scenario, &args.from_stations) {
        (_, Some(path)) => {
            let (scenario, data, beside) = fitted_scenario(path, args)?;
            (scenario, path.display().to_string(), Some(data), beside)
        }
        (Some(path), None) => {
            let show = path.display().to_string();
            let source = std::fs::read_to_string(path).map_err(|source| ScenarioError::Io {
                path: show.clone(),
                source,
            })?;
            (tamga::scenario::parse(&source, &show)?, show, None, None)
        }
        (None, None) => bail!("give a SCENARIO, or --from-stations STATIONS.csv"),
    };
    let Some(inf) = &scenario.inference else {
        bail!(
            "{show} has no [inference] section; add one with the candidate mechanisms and their priors (docs/inference.md)"
        );
    };
    let hypothesis = match (&args.hypothesis, &inf.hypothesis) {
        (Some(h), _) | (None, Some(h)) => h.clone(),
        (None, None) => bail!(
            "{show}: no hypothesis; give --hypothesis VARIANT (one of: {}) or [inference] hypothesis",
            scenario.variant_names()
        ),
    };
    let models = if args.fraud.is_empty() {
        inf.mechanisms.iter().map(|m| m.name.clone()).collect()
    } else {
        args.fraud.clone()
    };
    let (
        honest_ballots_sd,
        honest_moved_sd,
        honest_ballots_unidentified,
        honest_moved_unidentified,
    ) = fitted.as_ref().map_or((0.0, 0.0, [0.0; 2], [0.0; 2]), |f| {
        (
            f.2.honest_ballots_sd,
            f.2.honest_leader_votes_sd,
            f.2.honest_ballots_range,
            f.2.honest_leader_votes_range,
        )
    });
    // a fitted hypothesis's candidates are fitted to station summaries, where their parameters
    // trade off: the multivariate kernel
    let kernel = if fitted.is_some() {
        tamga::infer::abc::Kernel::Covariance
    } else {
        tamga::infer::abc::Kernel::Axes
    };
    let (observed, observed_name) = if let Some((data, name, _)) = fitted {
        let h = scenario
            .variants
            .iter()
            .position(|v| v.name == hypothesis)
            .ok_or_else(|| anyhow::anyhow!("{show}: the fitted scenario has no `{hypothesis}`"))?;
        let observed = Observed::stations(&scenario, h, &data, &inf.statistics)
            .map_err(|e| anyhow::anyhow!("--from-stations {show}: {e}"))?
            .with_binomial_scales();
        (observed, name)
    } else if args.observed == "reported" {
        let Some(reported) = &scenario.reported else {
            bail!("{show} has no [reported] section: there is no observed result to fit");
        };
        let Some(observed) = Observed::reported(&scenario, reported, &inf.statistics) else {
            bail!(
                "{show}: [reported] has none of the statistics [inference] compares (turnout, list votes, seats)"
            );
        };
        (observed, "reported".to_string())
    } else {
        observed_stations(&scenario, &hypothesis, &args.observed, &inf.statistics)?
    };
    if let Some(path) = &args.out {
        if page_path(path) == *path {
            bail!(
                "--out {}: the page is written beside the JSON as FILE.html; give the JSON a name such as infer.json",
                path.display()
            );
        }
        super::run::ensure_writable_dir(directory_of(path, "--out")?)?;
    }
    let resume = match &args.checkpoint {
        Some(path) => read_checkpoint(path, args.out.as_deref(), args.particles)?,
        None => None,
    };
    let request = Request {
        hypothesis,
        models,
        particles: args.particles as usize,
        budget: args.budget,
        seed: args.seed.unwrap_or(scenario.montecarlo.seed),
        honest_ballots_sd,
        honest_moved_sd,
        honest_ballots_unidentified,
        honest_moved_unidentified,
        kernel,
    };
    tamga::infer::resolve(&scenario, &request).map_err(|e| anyhow::anyhow!("{show}: {e}"))?;

    let stop = stop_flag();
    let terminal = std::io::stderr().is_terminal();
    let bar = ProgressBar::with_draw_target(
        Some(args.budget),
        if terminal {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        },
    );
    if let Ok(style) = ProgressStyle::with_template(
        "[{bar:20}] {pos}/{len} elections (budget) · ETA {eta} · {wide_msg}",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    if let Some(c) = &resume {
        // the bar starts at the simulations the checkpoint counts against the budget
        bar.set_position(c.state.simulations);
        bar.reset_eta();
    }
    bar.set_message("building the electorate and the pilot");
    let t0 = std::time::Instant::now();
    let synthetic = match &args.synthetic {
        Some(spec) => Some(
            tamga::infer::Synthetic::parse(&scenario, spec)
                .map_err(|e| anyhow::anyhow!("--synthetic: {e}"))?,
        ),
        None => None,
    };
    if let Some(n) = args.calibrate {
        return calibrate(&scenario, &request, observed, n);
    }
    let observed_name = if synthetic.is_some() {
        format!("synthetic ({observed_name})")
    } else {
        observed_name
    };
    // the last checkpoint in place (generations, simulations), and why one could not be written
    let mut saved: Option<(usize, u64)> = resume
        .as_ref()
        .map(|c| (c.state.generations.len(), c.state.simulations));
    let mut save_error: Option<std::io::Error> = None;
    let mut save = |st: &tamga::infer::abc::State, bytes: &[u8]| {
        let Some(path) = &args.checkpoint else {
            return;
        };
        let _hold = hold_exit();
        match tamga::files::write_atomic(path, bytes) {
            Ok(()) => saved = Some((st.generations.len(), st.simulations)),
            Err(e) => {
                save_error = Some(e);
                stop.store(true, std::sync::atomic::Ordering::Relaxed);
            }
        }
    };
    let mut announce = args.checkpoint.as_ref().filter(|_| resume.is_some());
    let checkpoints = args
        .checkpoint
        .as_ref()
        .map(|_| tamga::infer::checkpoint::Checkpointing {
            from: resume,
            save: &mut save,
        });
    let mut report = infer_with(
        &scenario,
        &request,
        observed,
        &observed_name,
        synthetic.as_ref(),
        stop,
        &mut |sims: u64, gens: &[tamga::infer::abc::Generation]| {
            // the first call of a continued run: the checkpoint was accepted
            if let Some(path) = announce.take() {
                bar.suspend(|| {
                    eprintln!(
                        "continuing from the checkpoint {}: {}, {sims} simulated elections",
                        path.display(),
                        count_of(gens.len(), "complete generation")
                    )
                });
            }
            bar.set_position(sims);
            let eps = gens.last().map_or(f64::INFINITY, |g| g.epsilon);
            bar.set_message(format!("generation {} · tolerance {eps:.3}", gens.len()));
        },
        checkpoints,
    )
    .map_err(|e| match (e, &args.checkpoint) {
        (InferError::Checkpoint(c), Some(path)) => {
            anyhow::anyhow!("--checkpoint {}: {c}; {}", path.display(), c.remedy())
        }
        (e, _) => anyhow::anyhow!("{show}: {e}"),
    })?;
    bar.finish_and_clear();
    if let (Some(e), Some(path)) = (save_error, &args.checkpoint) {
        bail!(
            "--checkpoint {}: cannot write it: {e}; nothing written; give a checkpoint file you can write",
            path.display()
        );
    }
    if stop.load(std::sync::atomic::Ordering::Relaxed) {
        match (saved, &args.checkpoint) {
            (Some((generations, simulations)), Some(path)) => bail!(
                "interrupted: nothing written but the checkpoint {} ({}, {simulations} simulated elections); run the same command again to continue",
                path.display(),
                count_of(generations, "generation")
            ),
            _ => bail!("interrupted: nothing written"),
        }
    }
    if let Some(b) = beside {
        report.set_beside(b);
    }
    let json = report.to_json();
    if let Some(path) = &args.out {
        let _hold = hold_exit();
        let page = tamga::infer::page::render(&report);
        let html = page_path(path);
        tamga::files::write_all_or_none(&[(path, json.as_bytes()), (&html, page.as_bytes())])
            .map_err(|e| anyhow::anyhow!("{e}: {}; nothing written; check --out", e.source))?;
    }
    if args.json {
        print!("{json}");
    } else {
        print!("{}", report.to_text());
    }
    if terminal {
        eprintln!(
            "{} simulated elections in {:.1} s",
            report.simulations,
            t0.elapsed().as_secs_f64()
        );
    }
    Ok(match report.status {
        Status::Posterior => ExitCode::SUCCESS,
        _ => ExitCode::from(1),
    })
}

/// `--checkpoint FILE`: the checkpoint to continue from when FILE exists (read and checked
/// for integrity here; whether it is this inference's is checked once the model is built), or
/// `None` to start afresh. Refuses a FILE that is the JSON or page of `--out`, whose directory
/// does not exist, or that is larger than a checkpoint of `particles` can be (read no further).
fn read_checkpoint(
    path: &std::path::Path,
    out: Option<&std::path::Path>,
    particles: u64,
) -> anyhow::Result<Option<tamga::infer::checkpoint::Checkpoint>> {
    let show = path.display();
    if let Some(out) = out
        && (same_place(path, out) || same_place(path, &page_path(out)))
    {
        bail!("--checkpoint {show}: that is where --out writes; give the checkpoint its own file");
    }
    directory_of(path, "--checkpoint")?;
    let mut file = match super::audit::open_regular(path) {
        Ok(Some(f)) => f,
        Ok(None) => return Ok(None),
        Err(e) => bail!("--checkpoint {show}: {e}; give a checkpoint file (or a new name)"),
    };
    // a particle takes 16 bytes a number; a MiB is more numbers than any scenario's summaries
    let limit = (particles + 1).saturating_mul(1 << 20);
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut std::io::Read::take(&mut file, limit + 1), &mut bytes)
        .map_err(|e| anyhow::anyhow!("--checkpoint {show}: cannot read it: {e}"))?;
    if bytes.len() as u64 > limit {
        bail!(
            "--checkpoint {show}: it is larger than a checkpoint of {particles} particles can be ({limit} bytes); give another checkpoint file (or delete this one) to start afresh"
        );
    }
    let c = tamga::infer::checkpoint::Checkpoint::from_json(&bytes)
        .map_err(|e| anyhow::anyhow!("--checkpoint {show}: {e}; {}", e.remedy()))?;
    Ok(Some(c))
}

/// `n` and `what`, plural unless `n` is 1.
fn count_of(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// The directory the file `path` of option `flag` goes in (`.` for a bare name), which must
/// exist.
fn directory_of<'p>(path: &'p std::path::Path, flag: &str) -> anyhow::Result<&'p std::path::Path> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => std::path::Path::new("."),
    };
    if !dir.is_dir() {
        bail!(
            "{flag} {}: {} is not a directory; give a file in an existing directory",
            path.display(),
            dir.display()
        );
    }
    Ok(dir)
}

/// Whether `a` and `b` name the same file: the same path, or the same name in the same
/// directory once the directories are resolved (`ck.json` and `./ck.json`, `d/../d/ck.json`,
/// a linked directory).
fn same_place(a: &std::path::Path, b: &std::path::Path) -> bool {
    let place = |p: &std::path::Path| {
        let dir = match p.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => std::path::Path::new("."),
        };
        Some(dir.canonicalize().ok()?.join(p.file_name()?))
    };
    a == b || matches!((place(a), place(b)), (Some(x), Some(y)) if x == y)
}

/// The page's path beside the JSON of `--out`: the same name with the extension `.html`.
fn page_path(json: &std::path::Path) -> PathBuf {
    json.with_extension("html")
}

/// Reads a station-results file (plain or gzip); `flag` names the option in messages.
fn read_stations(
    path: &std::path::Path,
    flag: &str,
    hint: &str,
) -> anyhow::Result<tamga::forensics::read::ElectionResults> {
    let show = tamga::text::echo(&path.display().to_string());
    let file = match super::audit::open_regular(path) {
        Ok(Some(f)) => f,
        Ok(None) => bail!("{flag} {show}: no such file; {hint}"),
        Err(e) => bail!("{flag} {show}: {e}; give a station-results file (plain CSV or gzip)"),
    };
    tamga::forensics::read::read_results(file).map_err(|e| anyhow::anyhow!("{flag} {show}: {e}"))
}

/// A station file as `--from-stations` fits it (its regions split where they differ by station
/// size), its name, and the honest model fitted to it.
type FittedFile = (
    tamga::forensics::read::ElectionResults,
    String,
    tamga::infer::honest::HonestFit,
);

/// `--from-stations STATIONS.csv`: the honest model fitted to the file's clean part as a
/// scenario (written to `--write-scenario` when given), the file, its name and the fit; and
/// `tamga forensics`' estimates on the file as read, to set beside the result ([`tamga::infer::Beside`]).
fn fitted_scenario(
    path: &std::path::Path,
    args: &Args,
) -> anyhow::Result<(
    tamga::model::Scenario,
    FittedFile,
    Option<tamga::infer::Beside>,
)> {
    let data = read_stations(
        path,
        "--from-stations",
        "give a station-results CSV (plain or gzip)",
    )?;
    // `tamga forensics`' two estimates on the file as read, to set beside the result
    eprintln!(
        "running tamga forensics' Klimek fit and clean peak on the file, to set beside the result"
    );
    let beside = match tamga::infer::Beside::of(&data, tamga::forensics::DEFAULT_SEED) {
        Ok(b) => Some(b),
        Err(e) => {
            eprintln!(
                "tamga forensics cannot analyse the file ({e}): nothing set beside the result"
            );
            None
        }
    };
    let name = path.file_name().map_or(path.display().to_string(), |n| {
        n.to_string_lossy().into_owned()
    });
    // the fitted scenario's name (and so the provenance) says when its regions were split
    let (data, label, note) = if args.no_size_split {
        (data, name.clone(), String::new())
    } else {
        let split = tamga::infer::honest::split_by_size(&data);
        let (n, of) = (split.split(), split.regions.len());
        eprintln!(
            "regions split by station size: {n} of {of} (those whose smaller stations' turnout and leader's share differ from the larger ones' in opposite directions; --no-size-split fits every region whole)"
        );
        let label = if n > 0 {
            format!("{name}, {n} of {of} regions split by station size")
        } else {
            name.clone()
        };
        let note = split.note();
        (split.results, label, note)
    };
    let seed = args.seed.unwrap_or(tamga::infer::honest::DEFAULT_SEED);
    let mut fit = tamga::infer::honest::fit(&data, &label, seed)
        .map_err(|e| anyhow::anyhow!("--from-stations {}: {e}", path.display()))?;
    // which regions were split, and why, at the end of the written scenario's header
    if let Some(at) = fit.scenario.find("\nformat = ") {
        fit.scenario.insert_str(at + 1, &note);
    }
    if let Some(out) = &args.write_scenario {
        if out.extension().is_none_or(|e| e != "toml") {
            bail!(
                "--write-scenario {}: give the scenario a name ending in .toml",
                out.display()
            );
        }
        tamga::files::write_atomic(out, fit.scenario.as_bytes()).map_err(|e| {
            anyhow::anyhow!("--write-scenario {}: {e}; nothing written", out.display())
        })?;
    }
    let scenario = tamga::scenario::parse(&fit.scenario, &name)?;
    Ok((scenario, (data, name, fit), beside))
}

/// `--observed STATIONS.csv`: the file read and matched to the scenario under `hypothesis`;
/// its name for the provenance.
fn observed_stations(
    scenario: &tamga::model::Scenario,
    hypothesis: &str,
    path: &str,
    groups: &[tamga::model::StatisticGroup],
) -> anyhow::Result<(Observed, String)> {
    let show = tamga::text::echo(path);
    let data = read_stations(
        std::path::Path::new(path),
        "--observed",
        "give `reported` or a station-results CSV (plain or gzip)",
    )?;
    let h = scenario
        .variants
        .iter()
        .position(|v| v.name == hypothesis)
        .ok_or_else(|| {
            anyhow::anyhow!(
                "there is no variant `{hypothesis}` (the scenario has: {})",
                scenario.variant_names()
            )
        })?;
    let observed = Observed::stations(scenario, h, &data, groups)
        .map_err(|e| anyhow::anyhow!("--observed {show}: {e}"))?;
    let name = std::path::Path::new(path)
        .file_name()
        .map_or(path.to_string(), |n| n.to_string_lossy().into_owned());
    Ok((observed, name))
}

/// `--calibrate N`: simulation-based calibration of the first model.
fn calibrate(
    scenario: &tamga::model::Scenario,
    request: &Request,
    observed: Observed,
    n: u64,
) -> anyhow::Result<ExitCode> {
    use tamga::infer::abc::Settings;
    use tamga::infer::election::{ElectionModel, derived_names};
    let (h, models) = tamga::infer::resolve(scenario, request)?;
    let models = vec![models[0].clone()];
    let mut em = ElectionModel::new(scenario, h, &models, observed, request.seed);
    let names = derived_names(scenario);
    let derived: Vec<(usize, String)> = ["votes_added", "votes_moved", "seats_moved"]
        .iter()
        .filter_map(|d| Some((names.iter().position(|x| x == d)?, d.to_string())))
        .collect();
    let settings = Settings::new(request.particles, request.budget, request.seed);
    let t0 = std::time::Instant::now();
    let cal =
        tamga::infer::calibration::sbc(&mut em, 0, &settings, n, &derived, &[1.0]).swap_remove(0);
    println!(
        "calibration of `{}` under `{}`: {n} synthetic elections, {} particles, budget {} each ({:.1} s)",
        em.candidates[0].name,
        request.hypothesis,
        request.particles,
        request.budget,
        t0.elapsed().as_secs_f64()
    );
    println!(
        "{:<32} {:>14} {:>18}  ranks per tenth (lowest first)",
        "quantity", "90 % coverage", "rank χ² p (10 bins)"
    );
    for c in &cal {
        let tenths = c
            .rank_counts(10)
            .iter()
            .map(|n| n.to_string())
            .collect::<Vec<_>>()
            .join(" ");
        println!(
            "{:<32} {:>14.3} {:>18.3}  {tenths}",
            c.name,
            c.coverage(),
            c.uniformity_p(10)
        );
    }
    println!(
        "(uniform ranks: a calibrated posterior; piled at both ends: over-confident intervals; piled in the middle: intervals wider than the truth's spread needs)"
    );
    Ok(ExitCode::SUCCESS)
}
