//! Echoing input back in messages, and bounding what a reader will take in one line.
//!
//! **Owns**: the one rule for quoting a piece of input in an error or a finding ([`echo`],
//! [`echo_quoted`], [`echo_bytes`]: at most [`ECHO_MAX_BYTES`] bytes of it, cut at a character
//! boundary and followed by an ellipsis and the full length in bytes; control characters
//! escaped, never printed raw) and [`LineLimit`], a reader adapter that refuses a line longer
//! than a limit before anything downstream buffers it. Every reader of untrusted text (package
//! files, station results) uses both. **Never**: opens files, reads a clock or the environment;
//! uses no other module of the crate (it is the first layer).

use std::io::{self, Read};

/// Bytes of input quoted in a message at most; longer input is cut and its length given.
pub const ECHO_MAX_BYTES: usize = 64;

/// `s` for a message: control characters escaped (`\n`, `\0`, `\u{1b}`), cut after
/// [`ECHO_MAX_BYTES`] bytes with `…` and the full length (`abc… (52428800 bytes)`).
pub fn echo(s: &str) -> String {
    echo_max(s, ECHO_MAX_BYTES)
}

/// As [`echo`] with another limit: for whole messages that carry echoes of their own (a finding's
/// sentence), which are kept under a larger bound.
pub fn echo_max(s: &str, max: usize) -> String {
    let (head, cut) = head(s, max);
    let mut out = escape_controls(head);
    if cut {
        out.push_str(&format!("… ({} bytes)", s.len()));
    }
    out
}

/// `s` in double quotes for a message, escaped as Rust's `{:?}` does (quotes, backslashes and
/// control characters), cut as [`echo`] cuts: `"abc…" (52428800 bytes)`.
pub fn echo_quoted(s: &str) -> String {
    let (head, cut) = head(s, ECHO_MAX_BYTES);
    if cut {
        format!("\"{}…\" ({} bytes)", head.escape_debug(), s.len())
    } else {
        format!("{head:?}")
    }
}

/// Bytes that should be UTF-8 text, for a message: as [`echo`], with invalid UTF-8 shown as
/// U+FFFD.
pub fn echo_bytes(b: &[u8]) -> String {
    let keep = b.len().min(ECHO_MAX_BYTES);
    let mut out = escape_controls(&String::from_utf8_lossy(&b[..keep]));
    if keep < b.len() {
        out.push_str(&format!("… ({} bytes)", b.len()));
    }
    out
}

fn escape_controls(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 24);
    for c in s.chars() {
        if c.is_control() {
            out.extend(c.escape_debug());
        } else {
            out.push(c);
        }
    }
    out
}

/// The first `max` bytes of `s` at a character boundary, and whether it was cut.
fn head(s: &str, max: usize) -> (&str, bool) {
    if s.len() <= max {
        return (s, false);
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    (&s[..end], true)
}

/// A reader that fails with [`io::ErrorKind::InvalidData`] as soon as a line (bytes between two
/// `\n`; for [`LineLimit::csv`], between two `\n` outside double quotes, i.e. one CSV record)
/// grows past `max` bytes, so a CSV or text parser behind it never buffers more than that for
/// one line or record. The error message names the line and the limit; [`LineLimit::exceeded`] tells
/// the caller it was this limit (not the disk) that stopped the reading.
pub struct LineLimit<R> {
    inner: R,
    max: usize,
    run: usize,
    line: u64,
    exceeded: bool,
    csv: bool,
    quoted: bool,
}

impl<R: Read> LineLimit<R> {
    /// Wraps `inner`; lines may hold at most `max` bytes (not counting the `\n`).
    pub fn new(inner: R, max: usize) -> LineLimit<R> {
        LineLimit {
            inner,
            max,
            run: 0,
            line: 1,
            exceeded: false,
            csv: false,
            quoted: false,
        }
    }

    /// As [`LineLimit::new`], for CSV: a line break inside a quoted field does not end the
    /// record, so `max` bounds a whole record (and so every cell).
    pub fn csv(inner: R, max: usize) -> LineLimit<R> {
        LineLimit {
            csv: true,
            ..LineLimit::new(inner, max)
        }
    }

    /// Whether reading stopped at a line over the limit.
    pub fn exceeded(&self) -> bool {
        self.exceeded
    }
}

/// The message of [`LineLimit`]'s error for line `line`.
pub fn line_too_long(line: u64, max: usize) -> String {
    format!(
        "line {line} is longer than {max} bytes (the limit for one line); the rest of the file is not read"
    )
}

impl<R: Read> Read for LineLimit<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.exceeded {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                line_too_long(self.line, self.max),
            ));
        }
        let n = self.inner.read(buf)?;
        for (i, &b) in buf[..n].iter().enumerate() {
            if self.csv && b == b'"' {
                self.quoted = !self.quoted;
            }
            if b == b'\n' {
                self.line += 1;
            }
            if b == b'\n' && !self.quoted {
                self.run = 0;
            } else {
                self.run += 1;
                if self.run > self.max {
                    self.exceeded = true;
                    // hand over what came before this line's excess; the next call fails
                    if i > 0 {
                        return Ok(i);
                    }
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        line_too_long(self.line, self.max),
                    ));
                }
            }
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_input_is_echoed_as_is_and_controls_escaped() {
        assert_eq!(echo("abc"), "abc");
        assert_eq!(echo("a\0b\n"), "a\\0b\\n");
        assert_eq!(echo_quoted("x\"y"), "\"x\\\"y\"");
    }

    #[test]
    fn long_input_is_cut_with_its_length() {
        let s = "é".repeat(1000);
        let e = echo(&s);
        assert!(e.ends_with("… (2000 bytes)"), "{e}");
        assert!(e.len() < ECHO_MAX_BYTES + 32);
        let q = echo_quoted(&"\0".repeat(10_000));
        assert!(q.ends_with("…\" (10000 bytes)"), "{q}");
        assert!(!q.contains('\0'));
        let b = echo_bytes(&[0xff; 5000]);
        assert!(b.ends_with("… (5000 bytes)"), "{b}");
        assert_eq!(echo_bytes(b"ok"), "ok");
    }

    #[test]
    fn line_limit_stops_at_a_long_line() {
        let text = b"ab\ncd\n".to_vec();
        let mut out = Vec::new();
        LineLimit::new(&text[..], 2).read_to_end(&mut out).unwrap();
        assert_eq!(out, text);
        let long = [b"ok\n".as_slice(), &[b'x'; 100]].concat();
        let mut r = LineLimit::new(&long[..], 10);
        let mut out = Vec::new();
        let e = r.read_to_end(&mut out).unwrap_err();
        assert!(r.exceeded());
        assert!(
            e.to_string().contains("line 2 is longer than 10 bytes"),
            "{e}"
        );
        assert!(out.len() <= 3 + 10);
        // a quoted cell with line breaks is one record
        let cell = [b"a,\"".as_slice(), &b"x\n".repeat(20), b"\"\n"].concat();
        let mut out = Vec::new();
        assert!(LineLimit::new(&cell[..], 10).read_to_end(&mut out).is_ok());
        let mut out = Vec::new();
        assert!(LineLimit::csv(&cell[..], 10).read_to_end(&mut out).is_err());
    }
}
