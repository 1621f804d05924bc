//! Voter receipts: the short code a voter takes home, derived from their ballot entry's hash.
//!
//! Owns the code's definition and its text form; never stores who holds which code. The code is
//! the first [`RECEIPT_BITS`] = 40 bits of the entry hash (big-endian), written as
//! [`RECEIPT_LEN`] = 8 Crockford base32 characters, shown as `XXXX-XXXX`. A receipt is checked by
//! recomputing the chain and looking for a ballot entry whose hash starts with those 40 bits
//! ([`super::verify_with_receipts`]); a receipt for entry `j` thus vouches for every entry before
//! `j` as well (ElectionGuard 2.1 §3.4.4 chains confirmation codes the same way).
//!
//! Collision odds (`docs/ledger-format.md` §4): for a ledger of `n` ballots, a random
//! code matches some entry with probability ≈ n / 2^40 (1e4 ballots: 9.1e-9), and two entries of
//! one ledger share a code with probability ≈ n² / 2^41 (1e4 ballots: 4.5e-5). Forging an
//! altered ledger that still matches one chosen receipt costs ≈ 2^40 SHA-256 evaluations: beyond
//! a polling-station official on election night, not beyond a determined attacker with GPUs.

use std::fmt;
use std::str::FromStr;

use super::hash::EntryHash;

/// Bits of the entry hash kept in a receipt code.
pub const RECEIPT_BITS: u32 = 40;
/// Characters in a receipt code (5 bits each).
pub const RECEIPT_LEN: usize = 8;
const _: () = assert!(RECEIPT_LEN as u32 * 5 == RECEIPT_BITS);

/// Crockford's base32 alphabet (no I, L, O, U).
const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A voter's receipt code: the first 40 bits of their entry hash. Invariant: the value is below
/// 2^40.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ReceiptCode(u64);

impl ReceiptCode {
    /// The 40-bit value.
    pub fn value(self) -> u64 {
        self.0
    }

    /// From a 40-bit value; `None` if it has more bits.
    pub fn from_value(v: u64) -> Option<ReceiptCode> {
        (v < 1 << RECEIPT_BITS).then_some(ReceiptCode(v))
    }

    /// The 8 Crockford characters without separator.
    pub fn chars(self) -> [u8; RECEIPT_LEN] {
        let mut out = [0u8; RECEIPT_LEN];
        for (i, c) in out.iter_mut().enumerate() {
            let shift = 5 * (RECEIPT_LEN - 1 - i);
            *c = CROCKFORD[((self.0 >> shift) & 31) as usize];
        }
        out
    }

    /// Does this code belong to that entry hash?
    pub fn matches(self, h: &EntryHash) -> bool {
        receipt_code(h) == self
    }
}

/// The receipt code of an entry hash: its first 40 bits, big-endian.
#[inline]
pub fn receipt_code(h: &EntryHash) -> ReceiptCode {
    let b = &h.0;
    ReceiptCode(
        (b[0] as u64) << 32
            | (b[1] as u64) << 24
            | (b[2] as u64) << 16
            | (b[3] as u64) << 8
            | b[4] as u64,
    )
}

impl fmt::Display for ReceiptCode {
    /// `XXXX-XXXX`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = self.chars();
        let s = std::str::from_utf8(&c).expect("alphabet is ASCII");
        write!(f, "{}-{}", &s[..4], &s[4..])
    }
}

impl fmt::Debug for ReceiptCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ReceiptCode({self})")
    }
}

/// Why a text is not a receipt code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReceiptParseError {
    /// Wrong number of code characters (hyphens not counted).
    #[error("a receipt code has {RECEIPT_LEN} characters (hyphens ignored), found {found}")]
    Length {
        /// Characters found.
        found: usize,
    },
    /// A character outside Crockford's base32.
    #[error(
        "receipt code character {} at position {position} is not Crockford base32 (0-9, A-Z without U)",
        crate::text::echo_quoted(&.ch.to_string())
    )]
    Character {
        /// The character.
        ch: char,
        /// Its position in the text, from 0.
        position: usize,
    },
}

impl FromStr for ReceiptCode {
    type Err = ReceiptParseError;

    /// Accepts either case, ignores hyphens, and reads O as 0 and I, L as 1 (Crockford's rules).
    fn from_str(s: &str) -> Result<ReceiptCode, ReceiptParseError> {
        let mut v: u64 = 0;
        let mut n = 0usize;
        for (position, ch) in s.chars().enumerate() {
            if ch == '-' {
                continue;
            }
            let d = match ch.to_ascii_uppercase() {
                'O' => 0,
                'I' | 'L' => 1,
                u => match CROCKFORD.iter().position(|&a| a as char == u) {
                    Some(d) => d as u64,
                    None => return Err(ReceiptParseError::Character { ch, position }),
                },
            };
            n += 1;
            if n <= RECEIPT_LEN {
                v = v << 5 | d;
            }
        }
        if n != RECEIPT_LEN {
            return Err(ReceiptParseError::Length { found: n });
        }
        Ok(ReceiptCode(v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_is_first_40_bits_in_crockford() {
        let mut h = EntryHash([0xff; 32]);
        h.0[..5].copy_from_slice(&[0x00, 0x44, 0x32, 0x14, 0xc7]);
        let c = receipt_code(&h);
        assert_eq!(c.value(), 0x00_4432_14c7);
        // 0x00443214c7 = 00000 00001 00010 00011 00100 00101 00110 00111
        assert_eq!(c.to_string(), "0123-4567");
        assert_eq!(
            receipt_code(&EntryHash([0xff; 32])).to_string(),
            "ZZZZ-ZZZZ"
        );
    }

    #[test]
    fn parse_round_trip_and_aliases() {
        let c = ReceiptCode::from_value(0x12_3456_789a).unwrap();
        assert_eq!(c.to_string().parse::<ReceiptCode>().unwrap(), c);
        let plain: String = c.to_string().replace('-', "").to_lowercase();
        assert_eq!(plain.parse::<ReceiptCode>().unwrap(), c);
        assert_eq!(
            "OOOO-IIIL".parse::<ReceiptCode>().unwrap(),
            "0000-1111".parse().unwrap()
        );
        assert_eq!(
            "ABC".parse::<ReceiptCode>(),
            Err(ReceiptParseError::Length { found: 3 })
        );
        assert_eq!(
            "ABCD-EFGU".parse::<ReceiptCode>(),
            Err(ReceiptParseError::Character {
                ch: 'U',
                position: 8
            })
        );
        assert_eq!(ReceiptCode::from_value(1 << 40), None);
    }
}
