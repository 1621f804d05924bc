//! Checkpoints of `tamga infer`: where an ABC run stands after a complete generation
//! ([`abc::State`]), with the fingerprint of everything that decides its result, as bytes — and
//! the checks a run makes before it continues from them.
//!
//! **Owns**: the checkpoint format (`"format": "tamga-infer-checkpoint"`, one JSON document:
//! the format, its version, the tamga version, a SHA-256 of the body and the body — the
//! fingerprint, the budget, the simulations so far, the generations and the last population,
//! every floating-point number as the 16 hexadecimal digits of its bit pattern, so that it comes
//! back exactly, infinities and NaNs included); the fingerprint ([`Fingerprint`]: the scenario's
//! digest, the hypothesis, the candidate models, a digest of the observed statistics, the seed, the particles and the ABC's settings); and [`Checkpoint::continue_as`],
//! which refuses a checkpoint of another inference (naming what differs), one that used more
//! simulations than the budget, and one whose state is not a run's.
//!
//! **Never**: opens or names files (the command line reads them and writes them atomically with
//! `files::write_atomic`), or reads a clock. Because proposals draw from streams keyed by
//! `(seed, generation, k)` and the state holds everything else a generation reads, a run
//! continued from a checkpoint gives the result of the uninterrupted run, byte for byte
//! (`tests/it/infer_resume.rs`).

use super::abc::{self, AbcResult, Draw, Generation, Kernel, Particle, Settings, State};
use super::election::{ElectionModel, derived_names};
use super::{Request, Synthetic};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::sync::atomic::AtomicBool;

/// The `format` field of every checkpoint.
pub const CHECKPOINT_FORMAT: &str = "tamga-infer-checkpoint";
/// Version of the checkpoint layout.
pub const CHECKPOINT_VERSION: u32 = 1;

/// Why a checkpoint cannot be continued from. Messages name no command-line flag and no file:
/// the command line puts both in front ([`CheckpointError::remedy`] says what to do).
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    #[error("is not a complete tamga infer checkpoint: it is truncated or corrupt ({0})")]
    Unreadable(String),
    #[error("is not a tamga infer checkpoint (its format is {0})")]
    NotCheckpoint(String),
    #[error(
        "was written by tamga {tamga} in checkpoint format {version}; this is tamga {} (format {CHECKPOINT_VERSION}), whose results may differ",
        crate::VERSION
    )]
    Version { tamga: String, version: String },
    #[error("is corrupt: its content does not match its SHA-256")]
    Checksum,
    #[error("is corrupt: {0}")]
    Corrupt(String),
    #[error("was written for another inference: {0}")]
    Mismatch(String),
    #[error("has used {used} simulations already, more than the budget of {budget}")]
    OverBudget { used: u64, budget: u64 },
    #[error(
        "ended within its budget of {was} simulations, whose last batch was cut short; a run under another budget would have simulated that batch whole"
    )]
    BudgetCut { was: u64 },
}

impl CheckpointError {
    /// What to do about it, in words that name no flag.
    pub fn remedy(&self) -> String {
        match self {
            CheckpointError::Mismatch(_) => "continue it with the arguments and files that wrote it, or give another checkpoint file (or delete this one) to start afresh".into(),
            CheckpointError::OverBudget { used, .. } => format!(
                "give a budget of at least {used} to continue it, or another checkpoint file to start afresh"
            ),
            CheckpointError::BudgetCut { was } => format!(
                "continue it with the budget {was}, or give another checkpoint file (or delete this one) to start afresh"
            ),
            CheckpointError::Version { .. } => {
                "continue it with the tamga that wrote it, or delete it to start afresh".into()
            }
            _ => "delete it (or give another checkpoint file) to start afresh".into(),
        }
    }
}

/// Floating-point numbers as the 16 hexadecimal digits of each one's bit pattern, one after
/// the other: exact, and NaN and the infinities too (JSON has no words for them).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Bits(String);

impl Bits {
    pub fn of(xs: &[f64]) -> Bits {
        let mut s = String::with_capacity(16 * xs.len());
        for x in xs {
            s.push_str(&format!("{:016x}", x.to_bits()));
        }
        Bits(s)
    }

    pub fn one(x: f64) -> Bits {
        Bits::of(&[x])
    }

    /// The numbers; `what` names them in the error.
    pub fn floats(&self, what: &str) -> Result<Vec<f64>, CheckpointError> {
        let bad = || CheckpointError::Corrupt(format!("{what} is not a list of bit patterns"));
        let b = self.0.as_bytes();
        if !b.len().is_multiple_of(16) {
            return Err(bad());
        }
        b.chunks(16)
            .map(|c| {
                let s = std::str::from_utf8(c).map_err(|_| bad())?;
                if !s.bytes().all(|x| x.is_ascii_hexdigit()) {
                    return Err(bad());
                }
                u64::from_str_radix(s, 16)
                    .map(f64::from_bits)
                    .map_err(|_| bad())
            })
            .collect()
    }

    /// The one number.
    pub fn float(&self, what: &str) -> Result<f64, CheckpointError> {
        match self.floats(what)?[..] {
            [x] => Ok(x),
            _ => Err(CheckpointError::Corrupt(format!(
                "{what} is not one number"
            ))),
        }
    }
}

/// Everything besides the budget that decides an inference's result: a run continues from a
/// checkpoint only when its fingerprint is the checkpoint's (the tamga version is checked
/// beside it).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Fingerprint {
    pub scenario: String,
    /// The scenario's digest (SHA-256 of its text; with `--from-stations`, of the fitted one).
    pub digest: String,
    pub hypothesis: String,
    pub models: Vec<String>,
    /// Where the observed data came from (the report's `provenance.observed`).
    pub observed: String,
    /// SHA-256 of the observed statistics' names and values and the station summaries'
    /// specification ([`observed_digest`]).
    pub observed_digest: String,
    /// The planted fraud of a synthetic election: its mechanisms and their values.
    pub synthetic: Option<(Vec<usize>, Bits)>,
    pub seed: u64,
    pub particles: usize,
    pub kernel: Kernel,
    pub keep_partial: bool,
    pub quantile: Bits,
    pub min_acceptance: Bits,
    pub max_generations: usize,
    /// The fitted hypothesis's spreads and unidentified ranges ([`Request`]'s `honest_*`).
    pub honest: Bits,
}

/// The fingerprint of an inference of `em` (observed data as fitted, synthetic fraud planted)
/// under `settings`.
pub fn fingerprint(
    request: &Request,
    em: &ElectionModel<'_>,
    observed_name: &str,
    synthetic: Option<&Synthetic>,
    settings: &Settings,
) -> Fingerprint {
    let [bf, bm] = request.honest_ballots_unidentified;
    let [mf, mm] = request.honest_moved_unidentified;
    Fingerprint {
        scenario: em.scenario.meta.name.clone(),
        digest: em.scenario.digest.clone(),
        hypothesis: request.hypothesis.clone(),
        models: em.candidates.iter().map(|c| c.name.clone()).collect(),
        observed: observed_name.to_string(),
        observed_digest: observed_digest(em),
        synthetic: synthetic.map(|s| (s.set.clone(), Bits::of(&s.theta))),
        seed: settings.seed,
        particles: settings.particles,
        kernel: settings.kernel,
        keep_partial: settings.keep_partial,
        quantile: Bits::one(settings.quantile),
        min_acceptance: Bits::one(settings.min_acceptance),
        max_generations: settings.max_generations,
        honest: Bits::of(&[
            request.honest_ballots_sd,
            request.honest_moved_sd,
            bf,
            bm,
            mf,
            mm,
        ]),
    }
}

/// SHA-256 (hexadecimal) of what the ABC compares: each observed statistic's name and value,
/// and the specification of the station summaries (leader, bin edges). (The statistics' scales
/// follow from these, the scenario and the seed.)
pub fn observed_digest(em: &ElectionModel<'_>) -> String {
    let mut h = Sha256::new();
    let o = &em.observed;
    for (s, v) in o.statistics.iter().zip(&o.values) {
        h.update(s.name(em.scenario).as_bytes());
        h.update([0]);
        h.update(v.to_bits().to_le_bytes());
    }
    if let Some(spec) = &o.stations {
        h.update(serde_json::to_string(spec).unwrap_or_default().as_bytes());
    }
    hex(&h.finalize())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Fingerprint {
    /// What differs between the fingerprint a checkpoint was written with (`self`) and
    /// `here`'s, in words (empty when nothing does).
    pub fn differences(&self, here: &Fingerprint) -> Vec<String> {
        let mut out = Vec::new();
        let short = |d: &str| d.chars().take(12).collect::<String>();
        if self.scenario != here.scenario || self.digest != here.digest {
            out.push(format!(
                "the scenario is `{}` (digest {}…) there and `{}` (digest {}…) here",
                self.scenario,
                short(&self.digest),
                here.scenario,
                short(&here.digest)
            ));
        }
        if self.hypothesis != here.hypothesis {
            out.push(format!(
                "the hypothesis is `{}` there and `{}` here",
                self.hypothesis, here.hypothesis
            ));
        }
        if self.models != here.models {
            out.push(format!(
                "the candidate models are `{}` there and `{}` here",
                self.models.join(","),
                here.models.join(",")
            ));
        }
        if self.observed != here.observed {
            out.push(format!(
                "the observed data are `{}` there and `{}` here",
                self.observed, here.observed
            ));
        } else if self.observed_digest != here.observed_digest {
            out.push(format!(
                "the observed data `{}` differ (digest {}… there, {}… here)",
                self.observed,
                short(&self.observed_digest),
                short(&here.observed_digest)
            ));
        }
        if self.synthetic != here.synthetic {
            out.push("the synthetic election's planted fraud differs".into());
        }
        if self.seed != here.seed {
            out.push(format!(
                "the seed is {} there and {} here",
                self.seed, here.seed
            ));
        }
        if self.particles != here.particles {
            out.push(format!(
                "the particles are {} there and {} here",
                self.particles, here.particles
            ));
        }
        if self.kernel != here.kernel || self.keep_partial != here.keep_partial {
            out.push(format!(
                "the kernel is {:?} there and {:?} here",
                self.kernel, here.kernel
            ));
        }
        if self.quantile != here.quantile
            || self.min_acceptance != here.min_acceptance
            || self.max_generations != here.max_generations
        {
            out.push(
                "the ABC's tolerance quantile, acceptance floor or generation limit differ".into(),
            );
        }
        if self.honest != here.honest {
            out.push("the fitted hypothesis's honest spreads or unidentified ranges differ".into());
        }
        out
    }
}

/// A checkpoint as read: the fingerprint and budget it was written with, and the state.
#[derive(Clone, Debug, PartialEq)]
pub struct Checkpoint {
    pub fingerprint: Fingerprint,
    pub budget: u64,
    pub state: State,
}

#[derive(Serialize, Deserialize)]
struct Body {
    fingerprint: Fingerprint,
    budget: u64,
    simulations: u64,
    budget_cut: bool,
    generations: Vec<GenerationRecord>,
    population: Vec<ParticleRecord>,
}

#[derive(Serialize, Deserialize)]
struct GenerationRecord {
    epsilon: Bits,
    proposed: u64,
    simulated: u64,
    acceptance: Bits,
    model_probabilities: Bits,
    ess: Bits,
}

#[derive(Serialize, Deserialize)]
struct ParticleRecord {
    model: usize,
    theta: Bits,
    summaries: Bits,
    derived: Bits,
    distance: Bits,
    weight: Bits,
}

#[derive(Deserialize)]
struct Header {
    #[serde(default)]
    format: serde_json::Value,
    #[serde(default)]
    format_version: serde_json::Value,
    #[serde(default)]
    tamga: serde_json::Value,
}

#[derive(Deserialize)]
struct Whole {
    sha256: String,
    body: Body,
}

/// The bytes of a checkpoint of `state`, reached under `fingerprint` and `budget`: one line of
/// JSON.
pub fn to_json(fingerprint: &Fingerprint, budget: u64, state: &State) -> String {
    let body = Body {
        fingerprint: fingerprint.clone(),
        budget,
        simulations: state.simulations,
        budget_cut: state.budget_cut,
        generations: state
            .generations
            .iter()
            .map(|g| GenerationRecord {
                epsilon: Bits::one(g.epsilon),
                proposed: g.proposed,
                simulated: g.simulated,
                acceptance: Bits::one(g.acceptance),
                model_probabilities: Bits::of(&g.model_probabilities),
                ess: Bits::one(g.ess),
            })
            .collect(),
        population: state
            .population
            .iter()
            .map(|x| ParticleRecord {
                model: x.model,
                theta: Bits::of(&x.theta),
                summaries: Bits::of(&x.draw.summaries),
                derived: Bits::of(&x.draw.derived),
                distance: Bits::one(x.distance),
                weight: Bits::one(x.weight),
            })
            .collect(),
    };
    let body = serde_json::to_string(&body).expect("a checkpoint serialises");
    let sha = hex(&Sha256::digest(body.as_bytes()));
    format!(
        "{{\"format\":\"{CHECKPOINT_FORMAT}\",\"format_version\":{CHECKPOINT_VERSION},\"tamga\":\"{}\",\"sha256\":\"{sha}\",\"body\":{body}}}\n",
        crate::VERSION
    )
}

impl Checkpoint {
    /// Reads a checkpoint written by [`to_json`]: refuses (never panics on) anything else — a
    /// truncated or edited file, another format or tamga version.
    pub fn from_json(bytes: &[u8]) -> Result<Checkpoint, CheckpointError> {
        let unreadable = |e: serde_json::Error| CheckpointError::Unreadable(e.to_string());
        let header: Header = serde_json::from_slice(bytes).map_err(unreadable)?;
        if header.format != CHECKPOINT_FORMAT {
            return Err(CheckpointError::NotCheckpoint(match header.format {
                serde_json::Value::Null => "missing".into(),
                serde_json::Value::String(s) => format!("`{}`", crate::text::echo(&s)),
                v => crate::text::echo(&v.to_string()),
            }));
        }
        if header.format_version != CHECKPOINT_VERSION || header.tamga != crate::VERSION {
            let show = |v: &serde_json::Value| match v {
                serde_json::Value::String(s) => crate::text::echo(s),
                v => crate::text::echo(&v.to_string()),
            };
            return Err(CheckpointError::Version {
                tamga: show(&header.tamga),
                version: show(&header.format_version),
            });
        }
        let whole: Whole = serde_json::from_slice(bytes).map_err(unreadable)?;
        let again = serde_json::to_string(&whole.body).map_err(unreadable)?;
        if hex(&Sha256::digest(again.as_bytes())) != whole.sha256 {
            return Err(CheckpointError::Checksum);
        }
        let b = whole.body;
        let generations = b
            .generations
            .iter()
            .enumerate()
            .map(|(t, g)| {
                let what = |f: &str| format!("generation {t}'s {f}");
                Ok(Generation {
                    epsilon: g.epsilon.float(&what("tolerance"))?,
                    proposed: g.proposed,
                    simulated: g.simulated,
                    acceptance: g.acceptance.float(&what("acceptance"))?,
                    model_probabilities: g
                        .model_probabilities
                        .floats(&what("model probabilities"))?,
                    ess: g.ess.float(&what("effective sample size"))?,
                })
            })
            .collect::<Result<Vec<_>, CheckpointError>>()?;
        let population = b
            .population
            .iter()
            .enumerate()
            .map(|(i, x)| {
                let what = |f: &str| format!("particle {i}'s {f}");
                Ok(Particle {
                    model: x.model,
                    theta: x.theta.floats(&what("parameters"))?,
                    draw: Draw {
                        summaries: x.summaries.floats(&what("summaries"))?,
                        derived: x.derived.floats(&what("derived quantities"))?,
                    },
                    distance: x.distance.float(&what("distance"))?,
                    weight: x.weight.float(&what("weight"))?,
                })
            })
            .collect::<Result<Vec<_>, CheckpointError>>()?;
        Ok(Checkpoint {
            fingerprint: b.fingerprint,
            budget: b.budget,
            state: State {
                population,
                generations,
                simulations: b.simulations,
                budget_cut: b.budget_cut,
            },
        })
    }

    /// The state to continue from, for an inference of `em` under `settings` with fingerprint
    /// `here`: refused when the fingerprints differ, when the checkpoint used more simulations
    /// than `settings.budget`, when its last batch was cut short by another budget than this
    /// one, or when its state is not one a run of `em` makes ([`State::check`], and summaries
    /// and derived quantities of `em`'s lengths).
    pub fn continue_as(
        self,
        here: &Fingerprint,
        em: &ElectionModel<'_>,
        settings: &Settings,
    ) -> Result<State, CheckpointError> {
        let diff = self.fingerprint.differences(here);
        if !diff.is_empty() {
            return Err(CheckpointError::Mismatch(diff.join("; ")));
        }
        let st = self.state;
        if st.simulations > settings.budget {
            return Err(CheckpointError::OverBudget {
                used: st.simulations,
                budget: settings.budget,
            });
        }
        if st.budget_cut && self.budget != settings.budget {
            return Err(CheckpointError::BudgetCut { was: self.budget });
        }
        st.check(em, settings).map_err(CheckpointError::Corrupt)?;
        let (n_summaries, n_derived) = (em.observed.values.len(), derived_names(em.scenario).len());
        if let Some(x) = st.population.first()
            && (x.draw.summaries.len() != n_summaries || x.draw.derived.len() != n_derived)
        {
            return Err(CheckpointError::Corrupt(format!(
                "its particles have {} summaries and {} derived quantities, not {n_summaries} and {n_derived}",
                x.draw.summaries.len(),
                x.draw.derived.len()
            )));
        }
        Ok(st)
    }
}

/// Checkpoints for [`super::infer_with`]: the one to continue from, and where new ones go.
pub struct Checkpointing<'a> {
    /// The checkpoint to continue from (read by the caller), if any.
    pub from: Option<Checkpoint>,
    /// Called after every full generation with the state and the bytes of its checkpoint
    /// ([`to_json`]); to stop the run when they cannot be written, raise the stop flag.
    pub save: &'a mut dyn FnMut(&State, &[u8]),
}

impl Checkpointing<'_> {
    /// Runs the ABC of `em`, from the checkpoint when there is one (refused as
    /// [`Checkpoint::continue_as`] says), saving one after every full generation.
    #[allow(clippy::too_many_arguments)]
    pub fn run(
        self,
        request: &Request,
        em: &ElectionModel<'_>,
        observed_name: &str,
        synthetic: Option<&Synthetic>,
        settings: &Settings,
        stop: &AtomicBool,
        progress: &mut dyn FnMut(u64, &[Generation]),
    ) -> Result<AbcResult, CheckpointError> {
        let here = fingerprint(request, em, observed_name, synthetic, settings);
        let from = match self.from {
            Some(c) => Some(c.continue_as(&here, em, settings)?),
            None => None,
        };
        let save = self.save;
        Ok(abc::run_from(
            em,
            settings,
            from,
            stop,
            progress,
            &mut |st| save(st, to_json(&here, settings.budget, st).as_bytes()),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fingerprint() -> Fingerprint {
        Fingerprint {
            scenario: "Tutorial".into(),
            digest: "ab".repeat(32),
            hypothesis: "honest".into(),
            models: vec!["none".into(), "stuffing".into()],
            observed: "reported".into(),
            observed_digest: "cd".repeat(32),
            synthetic: None,
            seed: 42,
            particles: 2,
            kernel: Kernel::Axes,
            keep_partial: false,
            quantile: Bits::one(0.5),
            min_acceptance: Bits::one(0.03),
            max_generations: 30,
            honest: Bits::of(&[0.0; 6]),
        }
    }

    /// A state with the numbers JSON cannot write or writes inexactly: infinities, a NaN with a
    /// payload, −0, a subnormal, 0.1 + 0.2.
    fn state() -> State {
        let nan = f64::from_bits(0x7ff8_0000_dead_beef);
        let particle = |model: usize, weight: f64| Particle {
            model,
            theta: vec![0.1 + 0.2, -0.0],
            draw: Draw {
                summaries: vec![f64::MIN_POSITIVE / 3.0, nan, f64::NEG_INFINITY],
                derived: vec![1e300, -1e-300],
            },
            distance: f64::INFINITY,
            weight,
        };
        State {
            population: vec![particle(0, 0.25), particle(1, 0.75)],
            generations: vec![Generation {
                epsilon: f64::INFINITY,
                proposed: 2,
                simulated: 2,
                acceptance: 1.0,
                model_probabilities: vec![0.25, 0.75],
                ess: 1.6,
            }],
            simulations: 2,
            budget_cut: false,
        }
    }

    fn bits(st: &State) -> Vec<u64> {
        let mut out = Vec::new();
        for x in &st.population {
            out.extend(
                x.theta
                    .iter()
                    .chain(&x.draw.summaries)
                    .chain(&x.draw.derived)
                    .map(|v| v.to_bits()),
            );
            out.extend([x.distance.to_bits(), x.weight.to_bits()]);
        }
        for g in &st.generations {
            out.extend([g.epsilon.to_bits(), g.acceptance.to_bits(), g.ess.to_bits()]);
            out.extend(g.model_probabilities.iter().map(|v| v.to_bits()));
        }
        out
    }

    #[test]
    fn every_number_comes_back_exactly() {
        let (fp, st) = (fingerprint(), state());
        let json = to_json(&fp, 600, &st);
        let back = Checkpoint::from_json(json.as_bytes()).expect("reads back");
        assert_eq!(back.fingerprint, fp);
        assert_eq!(back.budget, 600);
        assert_eq!(bits(&back.state), bits(&st));
        assert_eq!(back.state.simulations, 2);
        assert_eq!(to_json(&back.fingerprint, 600, &back.state), json);
    }

    #[test]
    fn a_truncated_or_edited_checkpoint_is_refused() {
        let json = to_json(&fingerprint(), 600, &state());
        // every cut (the last byte is the newline, which JSON does not need)
        for len in 0..json.len() - 1 {
            match Checkpoint::from_json(&json.as_bytes()[..len]) {
                Err(CheckpointError::Unreadable(_)) => {}
                other => panic!("cut at {len}: {other:?}"),
            }
        }
        // a digit of a number changed
        let at = json.find("3fd3333333333334").expect("0.1 + 0.2");
        let mut edited = json.clone().into_bytes();
        edited[at] = b'4';
        assert_eq!(
            Checkpoint::from_json(&edited),
            Err(CheckpointError::Checksum)
        );
        // a count changed
        let edited = json.replace("\"proposed\":2", "\"proposed\":1");
        assert_eq!(
            Checkpoint::from_json(edited.as_bytes()),
            Err(CheckpointError::Checksum)
        );
        // another format, another version
        let other = json.replace(CHECKPOINT_FORMAT, "tamga-part");
        assert!(matches!(
            Checkpoint::from_json(other.as_bytes()),
            Err(CheckpointError::NotCheckpoint(f)) if f.contains("tamga-part")
        ));
        assert!(matches!(
            Checkpoint::from_json(b"{\"format\":\"tamga-infer\",\"version\":1}"),
            Err(CheckpointError::NotCheckpoint(_))
        ));
        let old = json.replace("\"format_version\":1", "\"format_version\":0");
        assert!(matches!(
            Checkpoint::from_json(old.as_bytes()),
            Err(CheckpointError::Version { .. })
        ));
        // bits that are not bits, with a checksum made to match
        let body_at = json.find("\"body\":").unwrap() + 7;
        let body = json[body_at..json.len() - 2].replace("3fd3333333333334", "3fd333333333333g");
        let forged = format!(
            "{{\"format\":\"{CHECKPOINT_FORMAT}\",\"format_version\":{CHECKPOINT_VERSION},\"tamga\":\"{}\",\"sha256\":\"{}\",\"body\":{body}}}",
            crate::VERSION,
            hex(&Sha256::digest(body.as_bytes()))
        );
        match Checkpoint::from_json(forged.as_bytes()) {
            Err(CheckpointError::Corrupt(m)) => {
                assert!(m.contains("particle 0's parameters"), "{m}")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn differences_name_what_differs() {
        let a = fingerprint();
        assert!(a.differences(&a).is_empty());
        type Edit = fn(&mut Fingerprint);
        let edits: [(Edit, &str); 9] = [
            (|f| f.digest = "ef".repeat(32), "scenario"),
            (|f| f.hypothesis = "exit-poll".into(), "hypothesis"),
            (
                |f| {
                    f.models.pop();
                },
                "candidate models",
            ),
            (|f| f.observed = "stations.csv".into(), "observed data are"),
            (
                |f| f.observed_digest = "00".into(),
                "observed data `reported` differ",
            ),
            (|f| f.seed = 7, "the seed is 42 there and 7 here"),
            (|f| f.particles = 3, "the particles are 2 there and 3 here"),
            (|f| f.kernel = Kernel::Covariance, "kernel"),
            (|f| f.honest = Bits::of(&[1.0; 6]), "honest spreads"),
        ];
        for (edit, says) in edits {
            let mut b = a.clone();
            edit(&mut b);
            let d = a.differences(&b);
            assert_eq!(d.len(), 1, "{d:?}");
            assert!(d[0].contains(says), "{d:?} does not say {says}");
        }
    }
}
