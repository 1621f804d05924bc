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
pub use build::MAX_PARTIES;
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
    /// Not TOML: where (1-based line and column, in characters), what, and the line with a
    /// caret under the place (cut around it when long; control characters shown as `�`).
    #[error("{path} is not valid TOML at line {line}, column {column}: {message}{diagram}")]
    Syntax {
        path: String,
        line: usize,
        column: usize,
        message: String,
        diagram: String,
    },
    /// Larger than [`MAX_SCENARIO_BYTES`].
    #[error(
        "{path} is larger than {MAX_SCENARIO_BYTES} bytes, the limit for a scenario file (a \
         country's scenario is a few tens of kilobytes); is it the right file?"
    )]
    TooLarge { path: String },
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

/// Largest scenario file [`load`] reads, in bytes.
pub const MAX_SCENARIO_BYTES: u64 = 16 << 20;

/// Characters of the offending line shown in a syntax error at most: a longer line is cut
/// around the place of the error.
const DIAGRAM_CHARS: usize = 80;

/// Parses and validates scenario text. `origin` names the text in messages (usually its path).
pub fn parse(text: &str, origin: &str) -> Result<Scenario, ScenarioError> {
    let doc: toml::Table = toml::from_str(text).map_err(|e| syntax_error(text, origin, &e))?;
    let digest = crate::ledger::to_hex(&Sha256::digest(text.as_bytes()));
    build::build(&doc, digest).map_err(|problems| ScenarioError::Invalid {
        path: origin.to_string(),
        problems,
    })
}

/// The error for text that is not TOML: line, column, the parser's message (on one line, cut)
/// and the line with a caret under the place.
fn syntax_error(text: &str, origin: &str, e: &toml::de::Error) -> ScenarioError {
    let message = crate::text::echo_max(&e.message().trim().replace('\n', "; "), 400);
    let at = e.span().map_or(text.len(), |s| s.start).min(text.len());
    let mut at_char = at;
    while !text.is_char_boundary(at_char) {
        at_char -= 1;
    }
    let line_start = text[..at_char].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[at_char..]
        .find('\n')
        .map_or(text.len(), |i| at_char + i);
    let line_no = text[..line_start].bytes().filter(|&b| b == b'\n').count() + 1;
    let shown: Vec<char> = text[line_start..line_end]
        .trim_end_matches('\r')
        .chars()
        .map(|c| match c {
            '\t' => ' ',
            c if c.is_control() => '\u{fffd}',
            c => c,
        })
        .collect();
    let col = text[line_start..at_char].chars().count();
    let from = if shown.len() > DIAGRAM_CHARS {
        col.saturating_sub(DIAGRAM_CHARS / 2)
            .min(shown.len() - DIAGRAM_CHARS)
    } else {
        0
    };
    let to = (from + DIAGRAM_CHARS).min(shown.len());
    let mut excerpt: String = shown[from..to].iter().collect();
    let mut caret = col - from;
    if from > 0 {
        excerpt.insert(0, '…');
        caret += 1;
    }
    if to < shown.len() {
        excerpt.push('…');
    }
    let note = if from > 0 || to < shown.len() {
        format!(
            " (a line of {} bytes, cut around the place)",
            line_end - line_start
        )
    } else {
        String::new()
    };
    let number = line_no.to_string();
    let pad = " ".repeat(number.len());
    let diagram = format!(
        "\n{pad} |\n{number} | {excerpt}\n{pad} | {}^{note}",
        " ".repeat(caret)
    );
    ScenarioError::Syntax {
        path: origin.to_string(),
        line: line_no,
        column: col + 1,
        message,
        diagram,
    }
}

/// Reads and validates a scenario file: a regular file of at most [`MAX_SCENARIO_BYTES`].
pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
    parse(&read_source(path)?, &path.display().to_string())
}

/// A scenario file's text: a regular file of at most [`MAX_SCENARIO_BYTES`] of UTF-8.
pub fn read_source(path: &Path) -> Result<String, ScenarioError> {
    use std::io::Read;
    let shown = path.display().to_string();
    let io = |source| ScenarioError::Io {
        path: shown.clone(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(io)?;
    if !meta.is_file() {
        let what = if meta.is_dir() {
            "a directory"
        } else {
            "not a regular file (a pipe or a device?)"
        };
        return Err(io(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("it is {what}; give the path of a scenario file (.toml)"),
        )));
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_SCENARIO_BYTES + 1).read_to_end(&mut bytes))
        .map_err(io)?;
    if bytes.len() as u64 > MAX_SCENARIO_BYTES {
        return Err(ScenarioError::TooLarge { path: shown });
    }
    String::from_utf8(bytes).map_err(|e| {
        io(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "it is not UTF-8 text (byte {} is not); save it as UTF-8",
                e.utf8_error().valid_up_to()
            ),
        ))
    })
}
