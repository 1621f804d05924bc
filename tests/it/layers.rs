//! The shape of the code, as a test ("tidy" checks in the spirit of rust-analyzer's): the
//! library's modules form the layers listed in `src/lib.rs`, and no module uses one below it in
//! that list; detectors cannot name the simulator's workspace or the truth.
//!
//! The checks read source text: `crate::name` paths outside comments name the module used.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The layer list from `src/lib.rs`'s `# Layers` section: lines `//! N. \`name\` — …`.
fn layers(lib_rs: &str) -> Vec<String> {
    lib_rs
        .lines()
        .filter_map(|l| l.strip_prefix("//! "))
        .filter_map(|l| {
            let (num, rest) = l.split_once(". `")?;
            num.trim().parse::<u32>().ok()?;
            Some(rest.split('`').next()?.to_string())
        })
        .collect()
}

/// Source text without comments (line comments and doc comments; string contents are kept,
/// which is harmless for `crate::` paths).
fn code_only(text: &str) -> String {
    text.lines()
        .map(|l| match l.find("//") {
            Some(i) => &l[..i],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every `crate::name` in `code`.
fn crate_paths(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        let after = &rest[i + "crate::".len()..];
        let name: String = after
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        // `$crate::` in macros and `super::crate` never occur; skip identifiers ending in crate
        let before = rest[..i].chars().last();
        if !before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$') {
            out.push(name);
        }
        rest = after;
    }
    out
}

/// The violations among `files` (path relative to `src/`, text) for the layer order `order`:
/// `(file, its module, the module above it that it uses)`.
fn upward_uses(order: &[String], files: &[(String, String)]) -> Vec<(String, String, String)> {
    let rank: BTreeMap<&str, usize> = order
        .iter()
        .enumerate()
        .map(|(i, m)| (m.as_str(), i))
        .collect();
    let mut bad = Vec::new();
    for (rel, text) in files {
        let top = rel
            .split('/')
            .next()
            .unwrap_or("")
            .trim_end_matches(".rs")
            .to_string();
        let Some(&own) = rank.get(top.as_str()) else {
            continue;
        };
        for used in crate_paths(&code_only(text)) {
            if let Some(&r) = rank.get(used.as_str())
                && r > own
            {
                bad.push((rel.clone(), top.clone(), used));
            }
        }
    }
    bad.sort();
    bad.dedup();
    bad
}

fn src_files(dir: &Path, root: &Path, out: &mut Vec<(String, String)>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("src/ is readable")
        .map(|e| e.expect("a directory entry").path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            src_files(&p, root, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            let rel = p
                .strip_prefix(root)
                .expect("under src/")
                .to_string_lossy()
                .replace('\\', "/");
            out.push((rel, std::fs::read_to_string(&p).expect("source is UTF-8")));
        }
    }
}

fn library() -> (Vec<String>, Vec<(String, String)>) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let lib = std::fs::read_to_string(root.join("lib.rs")).expect("src/lib.rs");
    let mut files = Vec::new();
    src_files(&root, &root, &mut files);
    (layers(&lib), files)
}

#[test]
fn every_library_module_is_in_the_layer_list_once() {
    let (order, files) = library();
    let lib = &files.iter().find(|(p, _)| p == "lib.rs").expect("lib.rs").1;
    let declared: Vec<String> = lib
        .lines()
        .filter_map(|l| l.trim().strip_prefix("pub mod "))
        .map(|l| l.trim_end_matches(';').to_string())
        .collect();
    let mut a = declared.clone();
    let mut b = order.clone();
    a.sort();
    b.sort();
    assert_eq!(
        a, b,
        "src/lib.rs: the `pub mod` lines and the `# Layers` list differ"
    );
    b.dedup();
    assert_eq!(b.len(), order.len(), "a module is listed twice in # Layers");
}

#[test]
fn no_module_uses_one_below_it_in_the_layer_list() {
    let (order, files) = library();
    let bad = upward_uses(&order, &files);
    assert!(
        bad.is_empty(),
        "modules using modules listed after them in src/lib.rs's # Layers (move the code, or \
         move the module in the list if the new order is the data's):\n{}",
        bad.iter()
            .map(|(f, m, u)| format!("  src/{f}: `{m}` uses `{u}`"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn the_layer_check_catches_an_upward_use() {
    let order: Vec<String> = ["rng", "sim", "report"].map(String::from).to_vec();
    let files = vec![
        ("rng.rs".to_string(), "use std::fmt;".to_string()),
        (
            "sim/ballot.rs".to_string(),
            "use crate::rng::stream;\n// crate::report in a comment is fine\nfn f() { crate::report::page(); }"
                .to_string(),
        ),
        ("report/mod.rs".to_string(), "use crate::sim::Workspace;".to_string()),
    ];
    assert_eq!(
        upward_uses(&order, &files),
        vec![(
            "sim/ballot.rs".to_string(),
            "sim".to_string(),
            "report".to_string()
        )]
    );
    assert_eq!(
        layers("//! 1. `rng` — streams\n//! 2. `sim` — day\n//! not a layer"),
        vec!["rng", "sim"]
    );
}

#[test]
fn detectors_cannot_name_the_workspace_or_the_truth() {
    let (_, files) = library();
    let mut bad = Vec::new();
    for (rel, text) in files.iter().filter(|(p, _)| p.starts_with("detect/")) {
        let code = code_only(text);
        for word in ["Workspace", "Truth", ".truth(", "FraudTrace", "trace"] {
            if code.contains(word) {
                bad.push(format!("src/{rel} names `{word}`"));
            }
        }
    }
    assert!(
        bad.is_empty(),
        "detectors read only `detect::Evidence` (what is published): {bad:?}"
    );
}
