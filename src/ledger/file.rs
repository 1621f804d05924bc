//! The ledger file: a header, then one record per entry, streamed.
//!
//! Owns the file layout of `docs/ledger-format.md` §3: the 10-byte header
//! ([`MAGIC`] ‖ version u16 BE) and records `tag u8 ‖ seq u64 BE ‖ body ‖ hash[32]` whose body
//! length follows from the tag (and, for the close record, from its own shape fields). Never
//! judges whether a ledger is honest — that is [`super::verify`] — and never opens files: it
//! reads any `Read` and writes any `Write` (give it a `BufWriter`, or a `Vec<u8>` handed to
//! [`crate::files::write_atomic`]). Memory does not grow with the ledger's length: the reader holds
//! one record at a time.

use std::io::{self, BufRead, BufReader, Read, Write};

use super::BallotChoice;
use super::chain::{CLOSE_FIXED_LEN, Chain, Closed, Genesis, Totals, close_body_len};
use super::hash::{BALLOT_BODY_LEN, EntryHash, GENESIS_BODY_LEN, Seq};
use super::{FORMAT_VERSION, LedgerError, MAGIC, TAG_BALLOT, TAG_CLOSE, TAG_GENESIS};

/// Bytes of the file header: magic (8) and format version (u16 BE).
pub const HEADER_LEN: usize = MAGIC.len() + 2;
/// Bytes of a record before its body: tag u8, seq u64 BE.
pub const RECORD_PREFIX_LEN: usize = 1 + 8;
/// Bytes of a genesis record (102).
pub const GENESIS_RECORD_LEN: usize = RECORD_PREFIX_LEN + GENESIS_BODY_LEN + 32;
/// Bytes of a ballot record (44).
pub const BALLOT_RECORD_LEN: usize = RECORD_PREFIX_LEN + BALLOT_BODY_LEN + 32;

/// Bytes of the close record of a ballot with this shape.
pub const fn close_record_len(n_lists: u8, n_candidates: u16) -> usize {
    RECORD_PREFIX_LEN + close_body_len(n_lists, n_candidates) + 32
}

/// Read buffer of [`LedgerReader`].
const READ_BUFFER: usize = 1 << 16;

/// One record as stored in a ledger file (not yet verified).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Record {
    /// The genesis record.
    Genesis {
        /// Stored sequence number (0 when honest).
        seq: Seq,
        /// Format version hashed into the genesis.
        version: u16,
        /// Election id, station, machine and launch code.
        genesis: Genesis,
        /// Party lists on the ballot.
        n_lists: u8,
        /// District candidates on the ballot.
        n_candidates: u16,
        /// Stored entry hash.
        hash: EntryHash,
    },
    /// A ballot record.
    Ballot {
        /// Stored sequence number.
        seq: Seq,
        /// The recorded choices.
        choice: BallotChoice,
        /// Stored entry hash.
        hash: EntryHash,
    },
    /// The close record.
    Close {
        /// Stored sequence number.
        seq: Seq,
        /// Ballot count the machine committed to.
        n_ballots: u64,
        /// Totals the machine committed to (their shape is the close record's own).
        totals: Totals,
        /// Stored entry hash: the head.
        hash: EntryHash,
    },
}

impl Record {
    /// The record's domain tag.
    pub fn tag(&self) -> u8 {
        match self {
            Record::Genesis { .. } => TAG_GENESIS,
            Record::Ballot { .. } => TAG_BALLOT,
            Record::Close { .. } => TAG_CLOSE,
        }
    }

    /// Stored sequence number.
    pub fn seq(&self) -> Seq {
        match self {
            Record::Genesis { seq, .. }
            | Record::Ballot { seq, .. }
            | Record::Close { seq, .. } => *seq,
        }
    }

    /// Stored entry hash.
    pub fn hash(&self) -> EntryHash {
        match self {
            Record::Genesis { hash, .. }
            | Record::Ballot { hash, .. }
            | Record::Close { hash, .. } => *hash,
        }
    }
}

/// Why a ledger file could not be read further. Every variant but `Io` names the byte offset.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The underlying reader failed.
    #[error("reading the ledger failed: {0}")]
    Io(#[from] io::Error),
    /// The file does not start with the ledger magic.
    #[error("not a tamga ledger: the file starts with {found:02x?}, expected \"TAMGALDG\"")]
    BadMagic {
        /// The first eight bytes.
        found: [u8; 8],
    },
    /// The header names a format version this build does not read.
    #[error(
        "ledger format version {found} is not supported (this build reads version {FORMAT_VERSION})"
    )]
    UnsupportedVersion {
        /// The version in the header.
        found: u16,
    },
    /// The file ends inside the header or a record.
    #[error(
        "the ledger is truncated: the {what} at byte {offset} needs {expected} bytes, only {found} remain"
    )]
    Truncated {
        /// Byte offset where the incomplete header or record starts.
        offset: u64,
        /// "header", "genesis record", "ballot record" or "close record".
        what: &'static str,
        /// Bytes it needs.
        expected: u64,
        /// Bytes left in the file.
        found: u64,
    },
    /// A record starts with a byte that is no entry tag; nothing after it can be framed.
    #[error(
        "unknown record tag 0x{tag:02x} at byte {offset} (expected 0x47 genesis, 0x42 ballot or 0x43 close)"
    )]
    UnknownTag {
        /// Byte offset of the record.
        offset: u64,
        /// The byte found.
        tag: u8,
    },
}

/// A ballot record read in place from the buffer: stored sequence number, body, stored hash.
pub(crate) type BufferedBallot = (Seq, [u8; BALLOT_BODY_LEN], EntryHash);

/// Streams the records of a ledger file, one at a time.
pub struct LedgerReader<R: Read> {
    r: BufReader<R>,
    /// Offset of the next unread byte.
    offset: u64,
    /// Offset of the record last returned.
    record_offset: u64,
    /// Body bytes of the record last returned (capacity grows to the largest close body once).
    body: Vec<u8>,
    /// Set after an error: nothing more is read.
    stopped: bool,
}

/// Fills `buf` from `r` as far as the data goes; returns how many bytes were read (less than
/// `buf.len()` only at end of file).
fn read_full<R: Read>(r: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

impl<R: Read> LedgerReader<R> {
    /// Reads and checks the header.
    pub fn new(r: R) -> Result<LedgerReader<R>, ReadError> {
        let mut r = BufReader::with_capacity(READ_BUFFER, r);
        let mut header = [0u8; HEADER_LEN];
        let n = read_full(&mut r, &mut header)?;
        if n >= MAGIC.len() && header[..MAGIC.len()] != MAGIC {
            let mut found = [0u8; 8];
            found.copy_from_slice(&header[..8]);
            return Err(ReadError::BadMagic { found });
        }
        if n < HEADER_LEN {
            let m = n.min(MAGIC.len());
            if header[..m] != MAGIC[..m] {
                let mut found = [0u8; 8];
                found[..m].copy_from_slice(&header[..m]);
                return Err(ReadError::BadMagic { found });
            }
            return Err(ReadError::Truncated {
                offset: 0,
                what: "header",
                expected: HEADER_LEN as u64,
                found: n as u64,
            });
        }
        let version = u16::from_be_bytes([header[8], header[9]]);
        if version != FORMAT_VERSION {
            return Err(ReadError::UnsupportedVersion { found: version });
        }
        Ok(LedgerReader {
            r,
            offset: HEADER_LEN as u64,
            record_offset: HEADER_LEN as u64,
            body: Vec::with_capacity(close_body_len(0, 0)),
            stopped: false,
        })
    }

    /// Byte offset of the next unread byte.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Byte offset of the record last returned by [`Self::next_record`].
    pub fn record_offset(&self) -> u64 {
        self.record_offset
    }

    /// Body bytes of the record last returned, exactly as stored (and as hashed).
    pub fn last_body(&self) -> &[u8] {
        &self.body
    }

    /// The next record; `Ok(None)` at the end of the file (or after an error was returned).
    pub fn next_record(&mut self) -> Result<Option<Record>, ReadError> {
        if self.stopped {
            return Ok(None);
        }
        let result = self.read_record();
        if !matches!(result, Ok(Some(_))) {
            self.stopped = true;
        }
        result
    }

    /// Reads whatever is left and returns its length (used to measure trailing data).
    pub fn drain(&mut self) -> io::Result<u64> {
        self.stopped = true;
        let n = io::copy(&mut self.r, &mut io::sink())?;
        self.offset += n;
        Ok(n)
    }

    /// If the next record is a ballot record lying complete in the read buffer, consumes and
    /// returns it (seq, body, stored hash) without copying it through [`Record`]; otherwise
    /// returns `None` and leaves everything to [`Self::next_record`]. The verifier's hot path.
    #[inline]
    pub(crate) fn next_ballot_in_buffer(
        &mut self,
    ) -> io::Result<Option<(Seq, [u8; BALLOT_BODY_LEN], EntryHash)>> {
        if self.stopped {
            return Ok(None);
        }
        let buf = loop {
            match self.r.fill_buf() {
                Ok(b) => break b,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        };
        let Some(rec) = buf.first_chunk::<BALLOT_RECORD_LEN>() else {
            return Ok(None);
        };
        if rec[0] != TAG_BALLOT {
            return Ok(None);
        }
        let seq = Seq(u64::from_be_bytes(rec[1..9].try_into().expect("8 bytes")));
        let body = [rec[9], rec[10], rec[11]];
        let hash = EntryHash(rec[12..].try_into().expect("32 bytes"));
        self.r.consume(BALLOT_RECORD_LEN);
        self.record_offset = self.offset;
        self.offset += BALLOT_RECORD_LEN as u64;
        Ok(Some((seq, body, hash)))
    }

    /// If the next `N` records are ballot records lying complete in the read buffer, consumes
    /// and returns them with the offset of the first; otherwise returns `None`, consumes nothing
    /// and leaves everything to [`Self::next_ballot_in_buffer`] and [`Self::next_record`]. The
    /// verifier's lockstep path.
    #[inline]
    pub(crate) fn ballots_in_buffer<const N: usize>(
        &mut self,
    ) -> io::Result<Option<(u64, [BufferedBallot; N])>> {
        if self.stopped {
            return Ok(None);
        }
        let buf = loop {
            match self.r.fill_buf() {
                Ok(b) => break b,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        };
        let Some(recs) = buf.get(..N * BALLOT_RECORD_LEN) else {
            return Ok(None);
        };
        if recs
            .chunks_exact(BALLOT_RECORD_LEN)
            .any(|rec| rec[0] != TAG_BALLOT)
        {
            return Ok(None);
        }
        let mut out = [(Seq(0), [0u8; BALLOT_BODY_LEN], EntryHash::ZERO); N];
        for (o, rec) in out.iter_mut().zip(recs.chunks_exact(BALLOT_RECORD_LEN)) {
            let seq = Seq(u64::from_be_bytes(rec[1..9].try_into().expect("8 bytes")));
            let hash = EntryHash(rec[12..].try_into().expect("32 bytes"));
            *o = (seq, [rec[9], rec[10], rec[11]], hash);
        }
        let first = self.offset;
        self.r.consume(N * BALLOT_RECORD_LEN);
        self.offset += (N * BALLOT_RECORD_LEN) as u64;
        self.record_offset = self.offset - BALLOT_RECORD_LEN as u64;
        Ok(Some((first, out)))
    }

    fn truncated(&self, what: &'static str, expected: usize, found: usize) -> ReadError {
        ReadError::Truncated {
            offset: self.record_offset,
            what,
            expected: expected as u64,
            found: found as u64,
        }
    }

    fn read_record(&mut self) -> Result<Option<Record>, ReadError> {
        self.record_offset = self.offset;
        let mut prefix = [0u8; RECORD_PREFIX_LEN];
        let n = read_full(&mut self.r, &mut prefix)?;
        self.offset += n as u64;
        if n == 0 {
            return Ok(None);
        }
        let tag = prefix[0];
        let (what, fixed) = match tag {
            TAG_GENESIS => ("genesis record", GENESIS_RECORD_LEN),
            TAG_BALLOT => ("ballot record", BALLOT_RECORD_LEN),
            TAG_CLOSE => ("close record", RECORD_PREFIX_LEN + CLOSE_FIXED_LEN),
            _ => {
                return Err(ReadError::UnknownTag {
                    offset: self.record_offset,
                    tag,
                });
            }
        };
        if n < RECORD_PREFIX_LEN {
            return Err(self.truncated(what, fixed, n));
        }
        let seq = Seq(u64::from_be_bytes(
            prefix[1..9].try_into().expect("8 bytes"),
        ));
        match tag {
            TAG_BALLOT => {
                let mut rest = [0u8; BALLOT_BODY_LEN + 32];
                let k = read_full(&mut self.r, &mut rest)?;
                self.offset += k as u64;
                if k < rest.len() {
                    return Err(self.truncated(what, BALLOT_RECORD_LEN, RECORD_PREFIX_LEN + k));
                }
                self.body.clear();
                self.body.extend_from_slice(&rest[..BALLOT_BODY_LEN]);
                let choice = BallotChoice {
                    list: rest[0],
                    district: u16::from_be_bytes([rest[1], rest[2]]),
                };
                let hash = EntryHash(rest[BALLOT_BODY_LEN..].try_into().expect("32 bytes"));
                Ok(Some(Record::Ballot { seq, choice, hash }))
            }
            TAG_GENESIS => {
                let mut rest = [0u8; GENESIS_BODY_LEN + 32];
                let k = read_full(&mut self.r, &mut rest)?;
                self.offset += k as u64;
                if k < rest.len() {
                    return Err(self.truncated(what, GENESIS_RECORD_LEN, RECORD_PREFIX_LEN + k));
                }
                let b = &rest[..GENESIS_BODY_LEN];
                self.body.clear();
                self.body.extend_from_slice(b);
                let genesis = Genesis {
                    election_id: b[2..34].try_into().expect("32 bytes"),
                    station: u32::from_be_bytes(b[34..38].try_into().expect("4 bytes")),
                    machine: u32::from_be_bytes(b[38..42].try_into().expect("4 bytes")),
                    launch_code: b[42..58].try_into().expect("16 bytes"),
                };
                Ok(Some(Record::Genesis {
                    seq,
                    version: u16::from_be_bytes([b[0], b[1]]),
                    genesis,
                    n_lists: b[58],
                    n_candidates: u16::from_be_bytes([b[59], b[60]]),
                    hash: EntryHash(rest[GENESIS_BODY_LEN..].try_into().expect("32 bytes")),
                }))
            }
            _ => {
                let mut fixed_body = [0u8; CLOSE_FIXED_LEN];
                let k = read_full(&mut self.r, &mut fixed_body)?;
                self.offset += k as u64;
                if k < CLOSE_FIXED_LEN {
                    return Err(self.truncated(what, fixed, RECORD_PREFIX_LEN + k));
                }
                let n_ballots = u64::from_be_bytes(fixed_body[..8].try_into().expect("8 bytes"));
                let n_lists = fixed_body[8];
                let n_candidates = u16::from_be_bytes([fixed_body[9], fixed_body[10]]);
                let body_len = close_body_len(n_lists, n_candidates);
                let record_len = close_record_len(n_lists, n_candidates);
                self.body.clear();
                self.body.extend_from_slice(&fixed_body);
                self.body.resize(body_len + 32, 0);
                let k = read_full(&mut self.r, &mut self.body[CLOSE_FIXED_LEN..])?;
                self.offset += k as u64;
                if k < body_len + 32 - CLOSE_FIXED_LEN {
                    let found = RECORD_PREFIX_LEN + CLOSE_FIXED_LEN + k;
                    return Err(self.truncated(what, record_len, found));
                }
                let hash = EntryHash(self.body[body_len..].try_into().expect("32 bytes"));
                self.body.truncate(body_len);
                let mut words = self.body[CLOSE_FIXED_LEN..]
                    .chunks_exact(8)
                    .map(|c| u64::from_be_bytes(c.try_into().expect("8 bytes")));
                let lists: Vec<u64> = words.by_ref().take(n_lists as usize).collect();
                let list_none = words.next().expect("sized above");
                let candidates: Vec<u64> = words.by_ref().take(n_candidates as usize).collect();
                let candidate_none = words.next().expect("sized above");
                Ok(Some(Record::Close {
                    seq,
                    n_ballots,
                    totals: Totals {
                        lists,
                        list_none,
                        candidates,
                        candidate_none,
                    },
                    hash,
                }))
            }
        }
    }
}

/// Streams a machine's ledger to a file as ballots are appended: header and genesis at
/// [`LedgerWriter::create`], one 44-byte record per [`LedgerWriter::append`] (no allocation;
/// wrap `W` in a `BufWriter` for files), the close record at [`LedgerWriter::finish`].
pub struct LedgerWriter<W: Write> {
    w: W,
    chain: Chain,
}

impl<W: Write> LedgerWriter<W> {
    /// Opens the chain and writes the header and the genesis record.
    pub fn create(
        mut w: W,
        g: &Genesis,
        n_lists: u8,
        n_candidates: u16,
    ) -> Result<LedgerWriter<W>, LedgerError> {
        let chain = Chain::open(g, n_lists, n_candidates);
        let mut head = [0u8; HEADER_LEN + GENESIS_RECORD_LEN];
        head[..8].copy_from_slice(&MAGIC);
        head[8..10].copy_from_slice(&FORMAT_VERSION.to_be_bytes());
        let rec = &mut head[HEADER_LEN..];
        rec[0] = TAG_GENESIS;
        rec[1..9].copy_from_slice(&0u64.to_be_bytes());
        rec[9..9 + GENESIS_BODY_LEN].copy_from_slice(chain.genesis_body());
        rec[9 + GENESIS_BODY_LEN..].copy_from_slice(&chain.genesis_hash().0);
        w.write_all(&head)?;
        Ok(LedgerWriter { w, chain })
    }

    /// Appends a ballot to the chain and writes its record; returns its entry hash.
    #[inline]
    pub fn append(&mut self, c: BallotChoice) -> Result<EntryHash, LedgerError> {
        let h = self.chain.append(c)?;
        let mut rec = [0u8; BALLOT_RECORD_LEN];
        rec[0] = TAG_BALLOT;
        rec[1..9].copy_from_slice(&self.chain.n_ballots().to_be_bytes());
        rec[9] = c.list;
        rec[10..12].copy_from_slice(&c.district.to_be_bytes());
        rec[12..].copy_from_slice(&h.0);
        self.w.write_all(&rec)?;
        Ok(h)
    }

    /// The chain so far.
    pub fn chain(&self) -> &Chain {
        &self.chain
    }

    /// Writes the close record, flushes, and returns the sealed chain and the writer.
    pub fn finish(mut self) -> Result<(Closed, W), LedgerError> {
        let closed = self.chain.close();
        let seq = closed.close_seq();
        self.w.write_all(&[TAG_CLOSE])?;
        self.w.write_all(&seq.0.to_be_bytes())?;
        self.w.write_all(closed.close_body())?;
        self.w.write_all(&closed.head.0)?;
        self.w.flush()?;
        Ok((closed, self.w))
    }
}

/// Writes a whole ledger for these ballots to `w`; returns the sealed chain.
pub fn write_ledger<W: Write>(
    w: W,
    g: &Genesis,
    n_lists: u8,
    n_candidates: u16,
    ballots: impl IntoIterator<Item = BallotChoice>,
) -> Result<Closed, LedgerError> {
    let mut lw = LedgerWriter::create(w, g, n_lists, n_candidates)?;
    for c in ballots {
        lw.append(c)?;
    }
    Ok(lw.finish()?.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> (Vec<u8>, Closed) {
        let g = Genesis {
            election_id: [1; 32],
            station: 7,
            machine: 1,
            launch_code: [2; 16],
        };
        let mut out = vec![];
        let ballots = [
            BallotChoice::new(0, 1),
            BallotChoice::BLANK,
            BallotChoice::new(2, 0),
        ];
        let closed = write_ledger(&mut out, &g, 3, 2, ballots).unwrap();
        (out, closed)
    }

    #[test]
    fn file_length_is_header_plus_records() {
        let (bytes, _) = sample();
        assert_eq!(
            bytes.len(),
            HEADER_LEN + GENESIS_RECORD_LEN + 3 * BALLOT_RECORD_LEN + close_record_len(3, 2)
        );
        assert_eq!(BALLOT_RECORD_LEN, 44);
        assert_eq!(GENESIS_RECORD_LEN, 102);
    }

    #[test]
    fn reader_returns_what_writer_wrote() {
        let (bytes, closed) = sample();
        let mut r = LedgerReader::new(&bytes[..]).unwrap();
        let mut recs = vec![];
        while let Some(rec) = r.next_record().unwrap() {
            recs.push(rec);
        }
        assert_eq!(recs.len(), 5);
        assert!(matches!(
            recs[0],
            Record::Genesis {
                seq: Seq(0),
                n_lists: 3,
                n_candidates: 2,
                ..
            }
        ));
        assert_eq!(
            recs[2],
            Record::Ballot {
                seq: Seq(2),
                choice: BallotChoice::BLANK,
                hash: recs[2].hash()
            }
        );
        match &recs[4] {
            Record::Close {
                seq,
                n_ballots,
                totals,
                hash,
            } => {
                assert_eq!(*seq, Seq(4));
                assert_eq!(*n_ballots, 3);
                assert_eq!(totals, &closed.totals);
                assert_eq!(*hash, closed.head);
            }
            other => panic!("expected close, got {other:?}"),
        }
        assert_eq!(r.offset(), bytes.len() as u64);
    }

    #[test]
    fn truncation_anywhere_is_a_typed_error_with_offset() {
        let (bytes, _) = sample();
        for cut in 0..bytes.len() {
            let res = LedgerReader::new(&bytes[..cut]).and_then(|mut r| {
                while r.next_record()?.is_some() {}
                Ok(r.offset())
            });
            match res {
                Err(ReadError::Truncated {
                    offset,
                    found,
                    expected,
                    ..
                }) => {
                    assert!(offset as usize <= cut && found < expected, "cut {cut}");
                    assert_eq!(offset + found, cut as u64, "cut {cut}");
                }
                // Cuts at record boundaries read cleanly; the verifier reports the missing close.
                Ok(end) => assert_eq!(end, cut as u64),
                Err(e) => panic!("cut {cut}: unexpected {e}"),
            }
        }
    }

    #[test]
    fn bad_magic_and_version() {
        let (mut bytes, _) = sample();
        bytes[9] = 2;
        assert!(matches!(
            LedgerReader::new(&bytes[..]),
            Err(ReadError::UnsupportedVersion { found: 2 })
        ));
        bytes[0] = b'X';
        assert!(matches!(
            LedgerReader::new(&bytes[..]),
            Err(ReadError::BadMagic { .. })
        ));
        assert!(matches!(
            LedgerReader::new(&b"XY"[..]),
            Err(ReadError::BadMagic { .. })
        ));
    }
}
