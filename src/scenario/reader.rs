//! A checked walk over a parsed TOML document that collects *every* problem.
//!
//! serde stops at the first error; a scenario author wants all of them at once. [`Node`] wraps a
//! TOML table with its path in the file (`region[3]`, `preferences.urban`) and remembers which
//! keys were read; typed getters record a [`Problem`] instead of failing, and [`Node::finish`]
//! reports every key nobody read as unknown (with a "did you mean" hint). This module only reads
//! values; what they mean is decided in `build.rs`.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::fmt;

/// One thing wrong with a scenario, with its place in the file and what to do about it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Problem {
    /// Where: a dotted path with array indices, e.g. `region[3].stations`.
    pub path: String,
    /// What is wrong.
    pub message: String,
    /// What to do (may be empty).
    pub hint: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)?;
        if !self.hint.is_empty() {
            write!(f, " — {}", self.hint)?;
        }
        Ok(())
    }
}

/// A list of problems found so far.
#[derive(Default, Debug)]
pub struct Problems(pub Vec<Problem>);

/// Longest path, message and hint of a problem, in bytes: longer ones (which can only come from
/// echoed input, such as a 10 KB key or value) are cut with an ellipsis and their length.
pub const MAX_PATH_BYTES: usize = 200;
/// See [`MAX_PATH_BYTES`].
pub const MAX_MESSAGE_BYTES: usize = 400;
/// See [`MAX_PATH_BYTES`] (a hint may list every allowed value).
pub const MAX_HINT_BYTES: usize = 2000;

impl Problems {
    /// Records a problem; input echoed in it is cut and its control characters escaped
    /// ([`crate::text::echo_max`]).
    pub fn push(&mut self, path: &str, message: impl Into<String>, hint: impl Into<String>) {
        let cut = |s: &str, max: usize| {
            if s.len() > max || s.chars().any(char::is_control) {
                crate::text::echo_max(s, max)
            } else {
                s.to_string()
            }
        };
        self.0.push(Problem {
            path: cut(path, MAX_PATH_BYTES),
            message: cut(&message.into(), MAX_MESSAGE_BYTES),
            hint: cut(&hint.into(), MAX_HINT_BYTES),
        });
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
}

/// Joins a parent path and a key.
pub fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_string()
    } else {
        format!("{parent}.{key}")
    }
}

fn type_name(v: &toml::Value) -> &'static str {
    match v {
        toml::Value::String(_) => "a string",
        toml::Value::Integer(_) => "an integer",
        toml::Value::Float(_) => "a number",
        toml::Value::Boolean(_) => "a boolean",
        toml::Value::Datetime(_) => "a date",
        toml::Value::Array(_) => "an array",
        toml::Value::Table(_) => "a table",
    }
}

/// A table being read, with its path and the keys read so far.
pub struct Node<'a> {
    pub path: String,
    table: &'a toml::Table,
    /// Keys asked for so far (whether present or not).
    used: RefCell<BTreeSet<String>>,
}

impl<'a> Node<'a> {
    pub fn new(path: impl Into<String>, table: &'a toml::Table) -> Self {
        Node {
            path: path.into(),
            table,
            used: RefCell::new(BTreeSet::new()),
        }
    }

    pub fn path_of(&self, key: &str) -> String {
        join(&self.path, key)
    }

    /// The underlying table (for merging variant overrides).
    pub fn raw_table(&self) -> &'a toml::Table {
        self.table
    }

    pub fn has(&self, key: &str) -> bool {
        self.used.borrow_mut().insert(key.to_string());
        self.table.contains_key(key)
    }

    /// Looks a key up and records it as known (present or not), so that [`Node::finish`] can
    /// tell unknown keys from known ones and suggest the nearest known key.
    fn raw(&self, key: &str) -> Option<&'a toml::Value> {
        self.used.borrow_mut().insert(key.to_string());
        self.table.get(key)
    }

    fn missing(&self, key: &str, what: &str, p: &mut Problems) {
        p.push(
            &self.path_of(key),
            format!("missing {what}"),
            format!("add `{key} = …` to {}", self.describe()),
        );
    }

    fn describe(&self) -> String {
        if self.path.is_empty() {
            "the top level of the file".to_string()
        } else {
            format!("[{}]", self.path)
        }
    }

    fn wrong(&self, key: &str, v: &toml::Value, want: &str, p: &mut Problems) {
        // TOML reads an unquoted 2004-09-19 as a date, which no scenario key takes
        let hint = match v {
            toml::Value::Datetime(d) => {
                format!(
                    "TOML reads an unquoted date as a date: write it in quotes, `{key} = \"{d}\"`"
                )
            }
            _ => String::new(),
        };
        p.push(
            &self.path_of(key),
            format!("expected {want}, found {}", type_name(v)),
            hint,
        );
    }

    /// Marks keys as known without reading them (e.g. a variant's `name`).
    pub fn allow(&self, keys: &[&str]) {
        for k in keys {
            self.used.borrow_mut().insert((*k).to_string());
        }
    }

    pub fn opt_f64(&self, key: &str, p: &mut Problems) -> Option<f64> {
        match self.raw(key)? {
            toml::Value::Float(f) if f.is_finite() => Some(*f),
            toml::Value::Float(_) => {
                p.push(&self.path_of(key), "must be a finite number", "");
                None
            }
            toml::Value::Integer(i) => Some(*i as f64),
            v => {
                self.wrong(key, v, "a number", p);
                None
            }
        }
    }

    pub fn req_f64(&self, key: &str, p: &mut Problems) -> Option<f64> {
        if !self.has(key) {
            self.missing(key, "number", p);
            return None;
        }
        self.opt_f64(key, p)
    }

    /// A number in `[lo, hi]`; records a problem (with `hint`) when outside.
    pub fn f64_in(
        &self,
        key: &str,
        lo: f64,
        hi: f64,
        required: bool,
        p: &mut Problems,
    ) -> Option<f64> {
        let v = if required {
            self.req_f64(key, p)?
        } else {
            self.opt_f64(key, p)?
        };
        if v < lo || v > hi {
            p.push(
                &self.path_of(key),
                format!("{v} is out of range"),
                format!("use a value between {lo} and {hi}"),
            );
            return None;
        }
        Some(v)
    }

    pub fn opt_u64(&self, key: &str, p: &mut Problems) -> Option<u64> {
        match self.raw(key)? {
            toml::Value::Integer(i) if *i >= 0 => Some(*i as u64),
            toml::Value::Integer(i) => {
                p.push(
                    &self.path_of(key),
                    format!("{i} is negative"),
                    "use a count of zero or more",
                );
                None
            }
            v => {
                self.wrong(key, v, "a whole number", p);
                None
            }
        }
    }

    pub fn req_u64(&self, key: &str, p: &mut Problems) -> Option<u64> {
        if !self.has(key) {
            self.missing(key, "whole number", p);
            return None;
        }
        self.opt_u64(key, p)
    }

    /// A whole number in `[lo, hi]`.
    pub fn u64_in(
        &self,
        key: &str,
        lo: u64,
        hi: u64,
        required: bool,
        p: &mut Problems,
    ) -> Option<u64> {
        let v = if required {
            self.req_u64(key, p)?
        } else {
            self.opt_u64(key, p)?
        };
        if v < lo || v > hi {
            p.push(
                &self.path_of(key),
                format!("{v} is out of range"),
                format!("use a whole number between {lo} and {hi}"),
            );
            return None;
        }
        Some(v)
    }

    pub fn opt_bool(&self, key: &str, p: &mut Problems) -> Option<bool> {
        match self.raw(key)? {
            toml::Value::Boolean(b) => Some(*b),
            v => {
                self.wrong(key, v, "true or false", p);
                None
            }
        }
    }

    pub fn opt_str(&self, key: &str, p: &mut Problems) -> Option<&'a str> {
        match self.raw(key)? {
            toml::Value::String(s) => Some(s.as_str()),
            v => {
                self.wrong(key, v, "a string", p);
                None
            }
        }
    }

    pub fn req_str(&self, key: &str, p: &mut Problems) -> Option<&'a str> {
        if !self.has(key) {
            self.missing(key, "string", p);
            return None;
        }
        self.opt_str(key, p)
    }

    /// A string or a number, returned as text (for shares written `"7%"` or `0.07`).
    pub fn opt_text(&self, key: &str, p: &mut Problems) -> Option<String> {
        match self.raw(key)? {
            toml::Value::String(s) => Some(s.clone()),
            toml::Value::Float(f) => Some(f.to_string()),
            toml::Value::Integer(i) => Some(i.to_string()),
            v => {
                self.wrong(key, v, "a share such as \"7%\" or 0.07", p);
                None
            }
        }
    }

    pub fn opt_table(&self, key: &str, p: &mut Problems) -> Option<Node<'a>> {
        match self.raw(key)? {
            toml::Value::Table(t) => Some(Node::new(self.path_of(key), t)),
            v => {
                self.wrong(key, v, "a table", p);
                None
            }
        }
    }

    pub fn req_table(&self, key: &str, p: &mut Problems) -> Option<Node<'a>> {
        if !self.has(key) {
            p.push(
                &self.path_of(key),
                "missing table",
                format!("add a [{}] section", self.path_of(key)),
            );
            return None;
        }
        self.opt_table(key, p)
    }

    /// An array of tables (`[[key]]`); each element gets the path `key[i]`.
    pub fn tables(&self, key: &str, p: &mut Problems) -> Vec<Node<'a>> {
        let Some(v) = self.raw(key) else {
            return Vec::new();
        };
        let toml::Value::Array(items) = v else {
            self.wrong(key, v, "an array of tables ([[...]])", p);
            return Vec::new();
        };
        let mut out = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let path = format!("{}[{i}]", self.path_of(key));
            match item {
                toml::Value::Table(t) => out.push(Node::new(path, t)),
                other => p.push(
                    &path,
                    format!("expected a table, found {}", type_name(other)),
                    "",
                ),
            }
        }
        out
    }

    /// The keys of this table in file order (TOML tables keep insertion order here).
    pub fn keys(&self) -> Vec<&'a str> {
        self.table.keys().map(|k| k.as_str()).collect()
    }

    /// Reports every key that was never read as unknown.
    pub fn finish(&self, p: &mut Problems) {
        let used = self.used.borrow();
        let known: Vec<&String> = used.iter().collect();
        for key in self.table.keys() {
            if used.contains(key) {
                continue;
            }
            let hint = match closest(key, &known) {
                Some(k) => format!("did you mean `{k}`?"),
                None => "remove it, or check docs/scenario-format.md for the keys allowed here"
                    .to_string(),
            };
            p.push(&self.path_of(key), "unknown key", hint);
        }
    }
}

/// Reads a table of `name = number` pairs, in file order: `None` for a key whose value is not
/// a finite number (the problem is recorded), so that a caller can tell it from a missing key.
pub fn number_map(node: &Node<'_>, p: &mut Problems) -> Vec<(String, Option<f64>)> {
    node.keys()
        .into_iter()
        .map(|key| (key.to_string(), node.opt_f64(key, p)))
        .collect()
}

/// The hint for a value that is not one of `choices` (what the choices are is `what`, e.g.
/// "party ids"): the nearest choice first when one is near (`did you mean \`ndp\`?`; a
/// difference of case alone always is), then the list; with no choices at all, says so rather
/// than offering an empty list.
pub fn choice_hint(value: &str, choices: &[&str], what: &str) -> String {
    if choices.is_empty() {
        return format!("there are no {what} to choose from yet: define them first");
    }
    let list = choices.join(", ");
    let near = choices
        .iter()
        .find(|c| c.eq_ignore_ascii_case(value))
        .or_else(|| closest(value, choices));
    match near {
        Some(c) => format!("did you mean `{c}`? ({what}: {list})"),
        None => format!("use one of: {list}"),
    }
}

/// Input longer than this gets no "did you mean" (the edit distance costs its length times
/// each candidate's).
const MAX_SUGGEST_BYTES: usize = 256;

fn closest<'k, K: AsRef<str>>(key: &str, known: &'k [K]) -> Option<&'k K> {
    if key.len() > MAX_SUGGEST_BYTES {
        return None;
    }
    known
        .iter()
        .map(|k| (edit_distance(key, k.as_ref()), k.as_ref(), k))
        .filter(|(d, k, _)| *d <= 2.max(k.len() / 4) && *d < key.len().max(1))
        .min_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)))
        .map(|(_, _, k)| k)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut cur = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let sub = prev[j - 1] + usize::from(a[i - 1] != b[j - 1]);
            cur[j] = sub.min(prev[j] + 1).min(cur[j - 1] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collects_all_problems() {
        let t: toml::Table = toml::from_str("a = 'x'\nb = -3\nc = 2.5\nzz = 1").unwrap();
        let n = Node::new("", &t);
        let mut p = Problems::default();
        assert_eq!(n.req_f64("a", &mut p), None);
        assert_eq!(n.req_u64("b", &mut p), None);
        assert_eq!(n.f64_in("c", 0.0, 1.0, true, &mut p), None);
        assert_eq!(n.req_str("d", &mut p), None);
        n.finish(&mut p);
        let paths: Vec<&str> = p.0.iter().map(|x| x.path.as_str()).collect();
        assert_eq!(paths, vec!["a", "b", "c", "d", "zz"]);
    }

    #[test]
    fn suggests_near_key() {
        assert_eq!(edit_distance("turnuot", "turnout"), 2);
        let t: toml::Table = toml::from_str("turnuot = 1\nturnout = 2").unwrap();
        let n = Node::new("x", &t);
        let mut p = Problems::default();
        n.req_u64("turnout", &mut p);
        n.finish(&mut p);
        assert_eq!(p.0[0].path, "x.turnuot");
        assert!(p.0[0].hint.contains("turnout"), "{}", p.0[0].hint);
    }
}
