//! `tamga check SCENARIO`: validate a scenario and list every problem (exit 2 when invalid).

use anyhow::Context;
use std::path::PathBuf;
use std::process::ExitCode;
use tamga::scenario::{self, ScenarioError};

#[derive(clap::Args)]
pub struct Args {
    /// The scenario file (TOML).
    pub scenario: PathBuf,
    /// Print the result as one JSON document on stdout.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match scenario::load(&args.scenario) {
        Ok(s) => {
            // the real station results it names must be readable and match its parties
            if let Err(e) = super::real_stations::load(&s, args.scenario.parent()) {
                let message = super::render_error(&e);
                if args.json {
                    let doc = serde_json::json!({
                        "valid": false,
                        "problems": [{
                            "path": "reported.stations", "message": message,
                            "hint": "correct the file or the path (relative to the scenario file)",
                        }],
                    });
                    println!("{doc}");
                } else {
                    eprintln!("{}: 1 problem(s)", args.scenario.display());
                    eprintln!("  {message}");
                }
                return Ok(ExitCode::from(2));
            }
            if args.json {
                let doc = serde_json::json!({
                    "valid": true,
                    "scenario": s.meta.name,
                    "digest": s.digest,
                    "variants": s.variants.iter().map(|v| &v.name).collect::<Vec<_>>(),
                    "problems": [],
                });
                println!("{doc}");
            } else {
                println!(
                    "{}: valid — {} ({} parties, {} variant(s): {})",
                    args.scenario.display(),
                    s.meta.name,
                    s.parties.len(),
                    s.variants.len(),
                    s.variant_names()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(ScenarioError::Invalid { path, problems }) => {
            if args.json {
                let doc = serde_json::json!({
                    "valid": false,
                    "problems": problems.iter().map(|p| serde_json::json!({
                        "path": p.path, "message": p.message, "hint": p.hint,
                    })).collect::<Vec<_>>(),
                });
                println!("{doc}");
            } else {
                eprintln!("{path}: {} problem(s)", problems.len());
                for p in &problems {
                    eprintln!("  {p}");
                }
            }
            Ok(ExitCode::from(2))
        }
        Err(e) if args.json => {
            // not TOML, unreadable or too large: still one JSON document, with one problem
            let mut problem = serde_json::json!({
                "path": "", "message": e.to_string(), "hint": "",
            });
            if let ScenarioError::Syntax {
                line,
                column,
                message,
                ..
            } = &e
            {
                problem["message"] = format!("not valid TOML: {message}").into();
                problem["line"] = (*line).into();
                problem["column"] = (*column).into();
            }
            let doc = serde_json::json!({ "valid": false, "problems": [problem] });
            println!("{doc}");
            eprintln!("tamga: the scenario cannot be checked: {e}");
            Ok(ExitCode::from(2))
        }
        Err(e) => Err(e).context("the scenario cannot be checked"),
    }
}
