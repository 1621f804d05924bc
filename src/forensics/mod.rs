//! Election forensics: fraud fingerprints in real polling-station results.
//!
//! (module docs completed below as parts land)

pub mod digits;
pub mod fingerprint;
pub mod integer;
pub mod klimek;
pub mod results;

use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;

/// Stream purpose: replicate fits of the Klimek model (index = replicate).
pub const FIT_STREAM: u64 = 1;
/// Stream purpose: the simulation of the fitted model that gives its implied totals.
pub const IMPLIED_STREAM: u64 = 2;
/// Stream purpose: clean simulations that calibrate the digit tests (index = simulation).
pub const DIGIT_NULL_STREAM: u64 = 3;

/// The generator for (seed, purpose, index): Xoshiro256++ (portable, named) seeded from a
/// SplitMix64 mix of the three, so streams for different purposes or indices never coincide
/// and a task's stream does not depend on which thread runs it.
pub fn stream_rng(seed: u64, purpose: u64, index: u64) -> Xoshiro256PlusPlus {
    let mut z = seed;
    for v in [purpose, index] {
        z = splitmix64(z ^ splitmix64(v.wrapping_add(0x9e37_79b9_7f4a_7c15)));
    }
    Xoshiro256PlusPlus::seed_from_u64(z)
}

fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}
