//! Scenario files: the TOML format, its validation, and the validated [`Scenario`].
//!
//! Parse, then validate into a different type: the file is read as a TOML document, every value
//! is checked by `build.rs` through the problem-collecting walker in `reader.rs`, and only a
//! fully valid file becomes a [`Scenario`] (the types are in [`crate::model`]). Validation reports *every* problem with its path in
//! the file and a hint. A scenario's variants are named overrides of the base: each variant's
//! tables are merged into the base document (tables key by key, arrays replaced whole) and the
//! result is validated like a base. The format is specified in `docs/scenario-format.md`.
//!
//! This module reads text handed to it; only [`load`] touches the file system.

mod build;
mod detectors;
mod fraud;
mod inference;
pub use inference::NO_FRAUD;
pub mod reader;

use crate::model::Scenario;
pub use reader::{Problem, Problems};
use sha2::{Digest, Sha256};
use std::path::Path;

/// Why a scenario could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("cannot read scenario {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not valid TOML: {message}")]
    Syntax { path: String, message: String },
    #[error("{path} has {} problem(s):\n{}", problems.len(), render(problems))]
    Invalid {
        path: String,
        problems: Vec<Problem>,
    },
}

fn render(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|p| format!("  {p}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Parses and validates scenario text. `origin` names the text in messages (usually its path).
pub fn parse(text: &str, origin: &str) -> Result<Scenario, ScenarioError> {
    let doc: toml::Table = toml::from_str(text).map_err(|e| ScenarioError::Syntax {
        path: origin.to_string(),
        message: e.to_string().trim().replace('\n', " "),
    })?;
    let digest = crate::ledger::to_hex(&Sha256::digest(text.as_bytes()));
    build::build(&doc, digest).map_err(|problems| ScenarioError::Invalid {
        path: origin.to_string(),
        problems,
    })
}

/// Reads and validates a scenario file.
pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
    let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Io {
        path: path.display().to_string(),
        source,
    })?;
    parse(&text, &path.display().to_string())
}
