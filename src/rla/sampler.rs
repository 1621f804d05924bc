//! Rivest's SHA-256 public-seed sampler, as ColoradoRLA and Arlo draw their samples: ticket `i`
//! (from 1) is the SHA-256 of the UTF-8 text `"{seed},{i}"`, read as a 256-bit big-endian
//! integer `x`; the draw in `low..=high` is `low + x mod (high − low + 1)`. Without replacement,
//! a draw equal to an earlier one is skipped (it still uses up its ticket). Anyone with the seed
//! can recompute the sample with another tool (R. L. Rivest, `sampler.py`, 2011; ColoradoRLA's
//! `PseudoRandomNumberGenerator`). Weighted draws (batches with probability proportional to a
//! bound, for MACRO) use the same ticket hash as a uniform number in [0, 1): its first 53 bits
//! over 2⁵³.
//!
//! Owns the sampler and nothing else; never reads a clock or global randomness.

use sha2::{Digest, Sha256};

/// Why a sample cannot be drawn.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SampleError {
    /// `low > high`.
    #[error("the range {low}..={high} is empty")]
    EmptyRange { low: u64, high: u64 },
    /// More distinct draws asked for than the range holds.
    #[error("cannot draw {wanted} distinct numbers from {low}..={high}")]
    TooMany { wanted: u64, low: u64, high: u64 },
}

/// The ticket stream of one public seed.
#[derive(Clone, Debug)]
pub struct Sampler {
    seed: String,
    ticket: u64,
    text: String,
}

impl Sampler {
    /// A sampler at ticket 1.
    pub fn new(seed: &str) -> Sampler {
        Sampler {
            seed: seed.to_string(),
            ticket: 0,
            text: String::with_capacity(seed.len() + 21),
        }
    }

    /// Tickets used so far.
    pub fn tickets(&self) -> u64 {
        self.ticket
    }

    fn next_hash(&mut self) -> [u8; 32] {
        use std::fmt::Write;
        self.ticket += 1;
        self.text.clear();
        self.text.push_str(&self.seed);
        // Writing to a String cannot fail.
        let _ = write!(self.text, ",{}", self.ticket);
        Sha256::digest(self.text.as_bytes()).into()
    }

    /// The next ticket's draw in `low..=high` (with replacement).
    pub fn next_in(&mut self, low: u64, high: u64) -> Result<u64, SampleError> {
        if low > high {
            return Err(SampleError::EmptyRange { low, high });
        }
        let m = u128::from(high - low) + 1;
        let h = self.next_hash();
        let r = h.iter().fold(0u128, |r, &b| (r * 256 + u128::from(b)) % m);
        // r < m ≤ 2^64, so it fits.
        Ok(low + r as u64)
    }

    /// The next ticket as a uniform number in [0, 1) (its hash's first 53 bits over 2⁵³).
    pub fn next_unit(&mut self) -> f64 {
        let h = self.next_hash();
        let mut top = [0u8; 8];
        top.copy_from_slice(&h[..8]);
        (u64::from_be_bytes(top) >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
}

/// The first `n` draws from `low..=high` for `seed`, with or without replacement, in order.
pub fn draw(
    seed: &str,
    low: u64,
    high: u64,
    n: u64,
    replacement: bool,
) -> Result<Vec<u64>, SampleError> {
    if low > high {
        return Err(SampleError::EmptyRange { low, high });
    }
    if !replacement && u128::from(n) > u128::from(high - low) + 1 {
        return Err(SampleError::TooMany {
            wanted: n,
            low,
            high,
        });
    }
    let mut s = Sampler::new(seed);
    let mut out = Vec::with_capacity(usize::try_from(n.min(1 << 20)).unwrap_or(0));
    let mut seen = std::collections::BTreeSet::new();
    while (out.len() as u64) < n {
        let x = s.next_in(low, high)?;
        if replacement || seen.insert(x) {
            out.push(x);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn with_replacement_keeps_repeats_and_without_skips_them() {
        // A range of 2 repeats quickly: with replacement the draws are the raw tickets.
        let raw = draw("7", 1, 2, 20, true).unwrap();
        assert!(raw.windows(2).any(|w| w[0] == w[1]));
        let distinct = draw("7", 1, 2, 2, false).unwrap();
        assert_eq!(distinct.len(), 2);
        assert_ne!(distinct[0], distinct[1]);
        assert_eq!(distinct[0], raw[0]);
        assert!(matches!(
            draw("7", 1, 2, 3, false),
            Err(SampleError::TooMany { .. })
        ));
        assert!(matches!(
            draw("7", 3, 2, 1, true),
            Err(SampleError::EmptyRange { .. })
        ));
    }

    #[test]
    fn units_lie_in_the_unit_interval_and_spread() {
        let mut s = Sampler::new("seed");
        let xs: Vec<f64> = (0..2000).map(|_| s.next_unit()).collect();
        assert!(xs.iter().all(|&x| (0.0..1.0).contains(&x)));
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        assert!((mean - 0.5).abs() < 0.03, "mean {mean}");
    }
}
