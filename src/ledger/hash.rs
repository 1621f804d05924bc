//! Entry hashes: the canonical fixed-width hashed input of each entry kind and the SHA-256 calls
//! that digest it.
//!
//! Owns the exact bytes that are hashed (`docs/ledger-format.md` §2.1); never reads
//! or writes files and never allocates per ballot. A ballot entry is hashed with one call to the
//! SHA-256 compression function on a block prepared on the stack (FIPS 180-4 §5.1.1 padding for
//! a 44-byte message), which is byte-for-byte the SHA-256 of those 44 bytes — a known-answer
//! test checks it against the streaming hasher for every field pattern.

use sha2::{Digest, Sha256};
use std::fmt;

use super::lanes::SHA256_IV;
use super::{TAG_BALLOT, TAG_CLOSE, TAG_GENESIS};

/// A SHA-256 entry hash: `h_j` in `docs/ledger-format.md`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct EntryHash(pub [u8; 32]);

impl EntryHash {
    /// The all-zero value that stands for `h_{−1}`, the "previous hash" of the genesis entry.
    pub const ZERO: EntryHash = EntryHash([0; 32]);

    /// Lowercase hexadecimal, 64 characters.
    pub fn to_hex(&self) -> String {
        to_hex(&self.0)
    }

    /// Parses 64 hexadecimal digits (either case). `None` for anything else.
    pub fn from_hex(s: &str) -> Option<EntryHash> {
        let b = s.as_bytes();
        if b.len() != 64 {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, pair) in b.chunks_exact(2).enumerate() {
            out[i] = (hex_val(pair[0])? << 4) | hex_val(pair[1])?;
        }
        Some(EntryHash(out))
    }
}

impl fmt::Display for EntryHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for EntryHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EntryHash({})", self.to_hex())
    }
}

/// Position of an entry in its chain. Invariant: 0 is the genesis entry, `1..=n` are the `n`
/// ballots in casting order, `n + 1` is the close entry.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Default, serde::Serialize)]
#[serde(transparent)]
pub struct Seq(pub u64);

impl fmt::Display for Seq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// Bytes of a genesis body: version u16, election id 32, station u32, machine u32, launch code 16,
/// n_lists u8, n_candidates u16.
pub(crate) const GENESIS_BODY_LEN: usize = 2 + 32 + 4 + 4 + 16 + 1 + 2;
/// Bytes of a ballot body: list u8, district candidate u16.
pub(crate) const BALLOT_BODY_LEN: usize = 3;
/// Bytes of the hashed input common to every entry before its body: tag, previous hash, seq.
pub(crate) const HASH_PREFIX_LEN: usize = 1 + 32 + 8;
/// Bytes of a ballot entry's hashed input (44): one SHA-256 block.
pub const BALLOT_HASH_INPUT_LEN: usize = HASH_PREFIX_LEN + BALLOT_BODY_LEN;
/// Longest message that SHA-256 pads into a single 64-byte block.
const ONE_BLOCK_MAX: usize = 55;
const _: () = assert!(BALLOT_HASH_INPUT_LEN <= ONE_BLOCK_MAX);

/// Encodes a ballot body: list u8, district candidate u16 big-endian.
#[inline]
pub(crate) fn ballot_body(list: u8, candidate: u16) -> [u8; BALLOT_BODY_LEN] {
    let c = candidate.to_be_bytes();
    [list, c[0], c[1]]
}

/// The padded SHA-256 block of a ballot entry's 44-byte hashed input:
/// 0x42 ‖ prev ‖ seq u64 BE ‖ list u8 ‖ candidate u16 BE ‖ 0x80 ‖ zeros ‖ bit length u64 BE.
#[inline]
pub(crate) fn ballot_block(prev: &EntryHash, seq: Seq, body: [u8; BALLOT_BODY_LEN]) -> [u8; 64] {
    let mut block = [0u8; 64];
    block[0] = TAG_BALLOT;
    block[1..33].copy_from_slice(&prev.0);
    block[33..41].copy_from_slice(&seq.0.to_be_bytes());
    block[41..44].copy_from_slice(&body);
    block[BALLOT_HASH_INPUT_LEN] = 0x80;
    block[56..64].copy_from_slice(&((BALLOT_HASH_INPUT_LEN as u64) * 8).to_be_bytes());
    block
}

/// The padded block of a ballot entry whose previous hash is given as the eight big-endian words
/// of its digest (`words(prev)`): the same bytes as [`ballot_block`], written word by word so
/// that a chain can keep its head in the form the compression function returns it.
#[inline]
pub(crate) fn ballot_block_words(
    prev: &[u32; 8],
    seq: Seq,
    body: [u8; BALLOT_BODY_LEN],
) -> [u8; 64] {
    let mut block = [0u8; 64];
    block[0] = TAG_BALLOT;
    for (o, w) in block[1..33].chunks_exact_mut(4).zip(prev) {
        o.copy_from_slice(&w.to_be_bytes());
    }
    block[33..41].copy_from_slice(&seq.0.to_be_bytes());
    block[41..44].copy_from_slice(&body);
    block[BALLOT_HASH_INPUT_LEN] = 0x80;
    block[56..64].copy_from_slice(&((BALLOT_HASH_INPUT_LEN as u64) * 8).to_be_bytes());
    block
}

/// The eight big-endian words of a hash (inverse of [`digest`]).
#[inline]
pub(crate) fn words(h: &EntryHash) -> [u32; 8] {
    core::array::from_fn(|i| {
        u32::from_be_bytes([h.0[4 * i], h.0[4 * i + 1], h.0[4 * i + 2], h.0[4 * i + 3]])
    })
}

/// The final state of one ballot block compressed from the IV (sha2's kernel): the entry hash
/// as words.
#[inline]
pub(crate) fn ballot_state(block: &[u8; 64]) -> [u32; 8] {
    let mut state = SHA256_IV;
    sha2::block_api::compress256(&mut state, core::slice::from_ref(block));
    state
}

/// The digest of a final SHA-256 state: its words big-endian.
#[inline]
pub(crate) fn digest(state: [u32; 8]) -> EntryHash {
    let mut out = [0u8; 32];
    for (o, w) in out.chunks_exact_mut(4).zip(state) {
        o.copy_from_slice(&w.to_be_bytes());
    }
    EntryHash(out)
}

/// `h_j` of a ballot entry: SHA-256(0x42 ‖ prev ‖ seq u64 BE ‖ list u8 ‖ candidate u16 BE),
/// computed as one compression of a stack block.
#[inline]
pub(crate) fn ballot_hash(prev: &EntryHash, seq: Seq, body: [u8; BALLOT_BODY_LEN]) -> EntryHash {
    digest(ballot_state(&ballot_block(prev, seq, body)))
}

/// The genesis body, as hashed and as stored in the file.
pub(crate) fn genesis_body(
    version: u16,
    election_id: &[u8; 32],
    station: u32,
    machine: u32,
    launch_code: &[u8; 16],
    n_lists: u8,
    n_candidates: u16,
) -> [u8; GENESIS_BODY_LEN] {
    let mut b = [0u8; GENESIS_BODY_LEN];
    b[0..2].copy_from_slice(&version.to_be_bytes());
    b[2..34].copy_from_slice(election_id);
    b[34..38].copy_from_slice(&station.to_be_bytes());
    b[38..42].copy_from_slice(&machine.to_be_bytes());
    b[42..58].copy_from_slice(launch_code);
    b[58] = n_lists;
    b[59..61].copy_from_slice(&n_candidates.to_be_bytes());
    b
}

/// `h_j` of any entry with a body of any length: SHA-256(tag ‖ prev ‖ seq u64 BE ‖ body).
pub(crate) fn entry_hash(tag: u8, prev: &EntryHash, seq: Seq, body: &[u8]) -> EntryHash {
    let mut h = Sha256::new();
    h.update([tag]);
    h.update(prev.0);
    h.update(seq.0.to_be_bytes());
    h.update(body);
    EntryHash(h.finalize().into())
}

/// `h_0`: the genesis hash (previous hash = [`EntryHash::ZERO`], seq 0).
pub(crate) fn genesis_hash(body: &[u8; GENESIS_BODY_LEN]) -> EntryHash {
    entry_hash(TAG_GENESIS, &EntryHash::ZERO, Seq(0), body)
}

/// `h_{n+1}`: the close hash (the head).
pub(crate) fn close_hash(prev: &EntryHash, seq: Seq, body: &[u8]) -> EntryHash {
    entry_hash(TAG_CLOSE, prev, seq, body)
}

/// Lowercase hex of any bytes.
pub fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::lanes::{Backend, BallotTail};

    fn reference_ballot_hash(prev: &EntryHash, seq: u64, list: u8, cand: u16) -> EntryHash {
        let mut msg = Vec::new();
        msg.push(TAG_BALLOT);
        msg.extend_from_slice(&prev.0);
        msg.extend_from_slice(&seq.to_be_bytes());
        msg.push(list);
        msg.extend_from_slice(&cand.to_be_bytes());
        assert_eq!(msg.len(), BALLOT_HASH_INPUT_LEN);
        EntryHash(Sha256::digest(&msg).into())
    }

    #[test]
    fn one_block_ballot_hash_equals_streaming_sha256() {
        let mut prev = EntryHash([0xa5; 32]);
        for (i, (seq, list, cand)) in [
            (0u64, 0u8, 0u16),
            (1, 255, 65535),
            (u64::MAX, 7, 0x0102),
            (0x0102030405060708, 0x80, 0x8000),
        ]
        .into_iter()
        .enumerate()
        {
            prev.0[i] ^= 0x5a;
            let fast = ballot_hash(&prev, Seq(seq), ballot_body(list, cand));
            assert_eq!(fast, reference_ballot_hash(&prev, seq, list, cand));
            assert_eq!(
                fast,
                entry_hash(
                    TAG_BALLOT,
                    &prev,
                    Seq(seq),
                    &[list, (cand >> 8) as u8, cand as u8]
                )
            );
        }
    }

    #[test]
    fn ballot_lanes_equal_ballot_hash_on_every_backend() {
        let mut backends = vec![Backend::PORTABLE];
        backends.extend(Backend::sha_ni());
        let fields: [(EntryHash, u64, [u8; 3]); 4] = [
            (EntryHash([0; 32]), 1, [0, 0, 0]),
            (EntryHash([0xff; 32]), u64::MAX, [255, 255, 255]),
            (EntryHash(core::array::from_fn(|i| i as u8)), 7, [3, 0, 9]),
            (EntryHash([0x5a; 32]), 1 << 40, [1, 2, 3]),
        ];
        let blocks = fields.map(|(p, s, b)| ballot_block(&p, Seq(s), b));
        for ((p, s, b), block) in fields.iter().zip(&blocks) {
            assert_eq!(*block, ballot_block_words(&words(p), Seq(*s), *b));
            assert_eq!(digest(words(p)), *p);
        }
        let prevs = fields.map(|(p, _, _)| p.0);
        let tails = fields.map(|(_, s, b)| BallotTail {
            seq: s,
            list: b[0],
            candidate: u16::from_be_bytes([b[1], b[2]]),
        });
        for backend in backends {
            let (_, got) = backend.ballot_states_from_bytes(&prevs, &tails);
            for ((p, s, b), h) in fields.iter().zip(got.map(EntryHash)) {
                assert_eq!(h, ballot_hash(p, Seq(*s), *b), "{}", backend.name());
                assert_eq!(
                    h,
                    reference_ballot_hash(p, *s, b[0], u16::from_be_bytes([b[1], b[2]]))
                );
            }
        }
    }

    #[test]
    fn sha256_known_answer_for_abc_through_compress() {
        // FIPS 180-4 example "abc": checks the IV and output order used by `ballot_hash`.
        let mut block = [0u8; 64];
        block[..3].copy_from_slice(b"abc");
        block[3] = 0x80;
        block[63] = 24;
        let mut state = SHA256_IV;
        sha2::block_api::compress256(&mut state, &[block]);
        assert_eq!(
            state,
            [
                0xba7816bf, 0x8f01cfea, 0x414140de, 0x5dae2223, 0xb00361a3, 0x96177a9c, 0xb410ff61,
                0xf20015ad
            ]
        );
    }

    #[test]
    fn hex_round_trip_and_rejects() {
        let h = EntryHash(core::array::from_fn(|i| i as u8 * 7));
        assert_eq!(EntryHash::from_hex(&h.to_hex()), Some(h));
        assert_eq!(EntryHash::from_hex(&h.to_hex().to_uppercase()), Some(h));
        assert_eq!(EntryHash::from_hex("00"), None);
        assert_eq!(EntryHash::from_hex(&"g".repeat(64)), None);
    }
}
