//! File output at the edge of the program: whole-or-nothing writes.
//!
//! Every output file tamga writes goes through this module, the one place that writes files:
//!
//! - [`write_atomic`] writes one file: the bytes go to a temporary file in the same directory,
//!   are flushed to disk and renamed over the target, so a crash or Ctrl-C leaves either the old
//!   file or the new one, never a half-written one.
//! - [`write_all_or_none`] writes a set of files (`tamga run`'s `summary.json`, `runs.csv` and
//!   `report.html`) so that afterwards either every file of the set is new or none is: see its
//!   documentation for the steps and what a crash between them leaves.
//!
//! The core never calls this module; the command line does (directly or through
//! [`crate::output`]). Nothing here reads a clock or the environment or handles signals: a
//! caller that must not be killed half-way through a set holds its signal handler off around
//! the call (the CLI does).

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Writes `bytes` to `path` atomically (temporary file in the same directory, fsync, rename).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_atomic_with(path, |w| w.write_all(bytes))
}

/// Like [`write_atomic`], but the content is produced by `fill` writing into a buffered sink.
pub fn write_atomic_with(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    let mut tmp = fresh_beside(path, "tmp")?;
    let result = (|| {
        let mut w = io::BufWriter::new(&mut tmp.1);
        fill(&mut w)?;
        w.flush()?;
        drop(w);
        tmp.1.sync_all()
    })();
    match result.and_then(|_| fs::rename(&tmp.0, path)) {
        Ok(()) => Ok(()),
        Err(e) => {
            let _ = fs::remove_file(&tmp.0);
            Err(e)
        }
    }
}

/// Why a file, or a set of files, was not written: the file concerned and the cause.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {}", path.display())]
pub struct WriteError {
    /// The file that could not be written (or put in place).
    pub path: PathBuf,
    #[source]
    pub source: io::Error,
}

/// Writes every `(path, bytes)` of `files` so that afterwards either all of them hold their new
/// bytes or none does (each path then holds what it held before, or is still absent).
///
/// The steps, in order:
///
/// 1. every new content is written to a hidden temporary file beside its target
///    (`.NAME.tmp-PID-N`) and flushed to disk; no target has been touched yet;
/// 2. every target that exists is kept as a hidden backup (`.NAME.old-PID-N`, a hard link, or
///    a copy where the file system has none), still without touching the target;
/// 3. the temporaries are renamed over their targets, one by one (each rename is atomic);
/// 4. the backups are removed and the directories synced.
///
/// A failure in steps 1–2 removes the temporaries and backups made so far: no target changed. A
/// failure in step 3 (say a target is a directory) puts back the backup of every target already
/// replaced, removes the new file of every target that did not exist, and removes the remaining
/// temporaries: again no target changed. The error names the file that failed.
///
/// The renames of step 3 take microseconds, but a process killed in between (SIGKILL, power
/// loss) leaves the targets renamed so far new and the rest old, with the hidden temporaries
/// and backups beside them (the backups hold the old files). Catchable signals must be held off
/// by the caller for the duration of the call; the command line does so for SIGINT and SIGTERM.
pub fn write_all_or_none(files: &[(&Path, &[u8])]) -> Result<(), WriteError> {
    write_set(files, &mut |from, to| fs::rename(from, to))
}

/// [`write_all_or_none`] with the renames of step 3 made by `rename` (tests inject failures).
fn write_set(
    files: &[(&Path, &[u8])],
    rename: &mut dyn FnMut(&Path, &Path) -> io::Result<()>,
) -> Result<(), WriteError> {
    let error = |path: &Path, source| WriteError {
        path: path.to_path_buf(),
        source,
    };
    let remove_all = |paths: &mut dyn Iterator<Item = &PathBuf>| {
        for p in paths {
            let _ = fs::remove_file(p);
        }
    };
    // 1. the new contents, on disk beside their targets
    let mut temps: Vec<PathBuf> = Vec::with_capacity(files.len());
    for (path, bytes) in files {
        match write_temp(path, bytes) {
            Ok(t) => temps.push(t),
            Err(e) => {
                remove_all(&mut temps.iter());
                return Err(error(path, e));
            }
        }
    }
    // 2. the old contents, kept until the set is in place
    let mut backups: Vec<Option<PathBuf>> = Vec::with_capacity(files.len());
    for (path, _) in files {
        match backup(path) {
            Ok(b) => backups.push(b),
            Err(e) => {
                remove_all(&mut temps.iter());
                remove_all(&mut backups.iter().flatten());
                return Err(error(path, e));
            }
        }
    }
    // 3. the renames
    for (i, ((path, _), tmp)) in files.iter().zip(&temps).enumerate() {
        if let Err(e) = rename(tmp, path) {
            for ((done, _), old) in files[..i].iter().zip(&backups[..i]) {
                let restored = match old {
                    Some(old) => fs::rename(old, done),
                    None => fs::remove_file(done),
                };
                if restored.is_err() {
                    // cannot put the old file back: at least do not leave the new one
                    let _ = fs::remove_file(done);
                }
            }
            remove_all(&mut temps[i..].iter());
            remove_all(&mut backups[i..].iter().flatten());
            return Err(error(path, e));
        }
    }
    // 4. done: the backups go, the renames are made durable
    remove_all(&mut backups.iter().flatten());
    for (path, _) in files {
        sync_dir(&dir_of(path));
    }
    Ok(())
}

/// Writes `bytes` to a fresh hidden temporary file beside `target`, flushed to disk; returns
/// its path. Nothing is left behind on failure.
fn write_temp(target: &Path, bytes: &[u8]) -> io::Result<PathBuf> {
    let (tmp, mut f) = fresh_beside(target, "tmp")?;
    match f.write_all(bytes).and_then(|_| f.sync_all()) {
        Ok(()) => Ok(tmp),
        Err(e) => {
            drop(f);
            let _ = fs::remove_file(&tmp);
            Err(e)
        }
    }
}

/// Keeps the file at `target`, if there is one, under a fresh hidden name beside it (a hard
/// link, or a copy where links are not supported) and returns that name; `None` if `target`
/// does not exist or is a directory (which a rename cannot replace anyway).
fn backup(target: &Path) -> io::Result<Option<PathBuf>> {
    match fs::symlink_metadata(target) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
        Ok(m) if m.is_dir() => return Ok(None),
        Ok(_) => {}
    }
    let dir = dir_of(target);
    for attempt in 0u32..1000 {
        let candidate = dir.join(hidden_name(target, "old", attempt));
        match fs::hard_link(target, &candidate) {
            Ok(()) => return Ok(Some(candidate)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(_) => break,
        }
    }
    // no hard links here: a copy, flushed like the new contents
    let (copy, mut f) = fresh_beside(target, "old")?;
    let copied = fs::File::open(target)
        .and_then(|mut src| io::copy(&mut src, &mut f))
        .and_then(|_| f.sync_all());
    match copied {
        Ok(()) => Ok(Some(copy)),
        Err(e) => {
            drop(f);
            let _ = fs::remove_file(&copy);
            Err(e)
        }
    }
}

/// Syncs a directory so that renames in it survive a crash (best effort; not every platform
/// can open a directory).
fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

/// The directory `path` is in (`.` for a bare file name).
fn dir_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// `.NAME.TAG-PID-ATTEMPT`: a hidden name beside `target`.
fn hidden_name(target: &Path, tag: &str, attempt: u32) -> String {
    let stem = target
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    format!(".{stem}.{tag}-{}-{attempt}", std::process::id())
}

/// Creates a fresh hidden file beside `target`, named with `tag`.
fn fresh_beside(target: &Path, tag: &str) -> io::Result<(PathBuf, fs::File)> {
    let dir = dir_of(target);
    for attempt in 0u32..1000 {
        let candidate = dir.join(hidden_name(target, tag, attempt));
        match fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&candidate)
        {
            Ok(f) => return Ok((candidate, f)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::other(format!(
        "could not create a temporary file in {}",
        dir.display()
    )))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn writes_whole_file_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.json");
        write_atomic(&p, b"first").unwrap();
        write_atomic(&p, b"second").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"second");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn failed_fill_keeps_old_content() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.csv");
        write_atomic(&p, b"old").unwrap();
        let r = write_atomic_with(&p, |w| {
            w.write_all(b"partial")?;
            Err(io::Error::other("interrupted"))
        });
        assert!(r.is_err());
        assert_eq!(fs::read(&p).unwrap(), b"old");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    /// The names in `dir`, sorted (hidden temporaries and backups included).
    pub(crate) fn listing(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_set_is_written_whole_and_replaces_old_files() {
        let dir = tempfile::tempdir().unwrap();
        let [a, b, c] = ["a", "b", "c"].map(|n| dir.path().join(n));
        write_atomic(&b, b"old b").unwrap();
        write_all_or_none(&[(&a, b"new a"), (&b, b"new b"), (&c, b"new c")]).unwrap();
        assert_eq!(fs::read(&a).unwrap(), b"new a");
        assert_eq!(fs::read(&b).unwrap(), b"new b");
        assert_eq!(fs::read(&c).unwrap(), b"new c");
        assert_eq!(listing(dir.path()), ["a", "b", "c"]);
    }

    #[test]
    fn a_target_that_is_a_directory_leaves_no_new_file() {
        let dir = tempfile::tempdir().unwrap();
        let [a, b, c] = ["a", "b", "c"].map(|n| dir.path().join(n));
        write_atomic(&a, b"old a").unwrap();
        fs::create_dir(&c).unwrap();
        // a and b are renamed into place before c fails, and are then undone
        let err = write_all_or_none(&[(&a, b"new a"), (&b, b"new b"), (&c, b"new c")]).unwrap_err();
        assert_eq!(err.path, c);
        assert_eq!(fs::read(&a).unwrap(), b"old a");
        assert!(!b.exists());
        assert!(c.is_dir());
        assert_eq!(listing(dir.path()), ["a", "c"]);
    }

    #[test]
    fn a_failed_rename_puts_every_old_file_back() {
        let dir = tempfile::tempdir().unwrap();
        let [a, b, c] = ["a", "b", "c"].map(|n| dir.path().join(n));
        for p in [&a, &b, &c] {
            write_atomic(p, b"old").unwrap();
        }
        for fail_at in 0..3 {
            let mut n = 0;
            let err = write_set(
                &[(&a, b"new"), (&b, b"new"), (&c, b"new")],
                &mut |from, to| {
                    n += 1;
                    if n == fail_at + 1 {
                        Err(io::Error::other("injected"))
                    } else {
                        fs::rename(from, to)
                    }
                },
            )
            .unwrap_err();
            assert_eq!(err.path, [&a, &b, &c][fail_at].as_path());
            for p in [&a, &b, &c] {
                assert_eq!(fs::read(p).unwrap(), b"old", "failing at {fail_at}");
            }
            assert_eq!(listing(dir.path()), ["a", "b", "c"]);
        }
    }

    #[test]
    fn a_failed_temporary_touches_no_target() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a");
        let missing = dir.path().join("no-such-dir").join("b");
        write_atomic(&a, b"old a").unwrap();
        let err = write_all_or_none(&[(&a, b"new a"), (&missing, b"new b")]).unwrap_err();
        assert_eq!(err.path, missing);
        assert_eq!(
            err.to_string(),
            format!("cannot write {}", missing.display())
        );
        assert_eq!(fs::read(&a).unwrap(), b"old a");
        assert_eq!(listing(dir.path()), ["a"]);
    }
}
