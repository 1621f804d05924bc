//! Deterministic random streams: one seed determines everything.
//!
//! Every random draw in tamga comes from a stream named by `(seed, purpose, run, index)` — the
//! index is usually a station or a district. Streams are [`rand_xoshiro::Xoshiro256PlusPlus`] generators (a
//! portable, named generator: its output for a given state is fixed by its specification, unlike
//! `StdRng`), seeded through a SplitMix64 chain over the four key parts. So:
//!
//! - the same seed gives the same draws whatever the thread count or the order runs are executed
//!   in, and whatever machine a shard runs on;
//! - **the variant is deliberately not part of the key**: every variant of a scenario sees the
//!   same streams, so comparisons between variants are paired (common random numbers);
//! - each purpose has its own stream, so enabling a model that draws more for one purpose does
//!   not shift the draws of another (who turns out does not depend on how preferences are drawn).
//!
//! A second, smaller scheme serves analyses of a fixed data set (`tamga forensics`, and a run's
//! Klimek fit, whose seed is itself a [`stream_key`]): [`analysis_stream`]`(seed, purpose,
//! index)`, with the [`AnalysisPurpose`] codes. It has no run part, and its key is folded
//! differently; both are part of the reproducibility contract, pinned by the tests below.
//!
//! This module never reads a clock, the environment or a global generator.

use rand::SeedableRng;
pub use rand_xoshiro::Xoshiro256PlusPlus as StreamRng;

/// What a stream is used for. The numeric codes are part of the reproducibility contract:
/// changing one changes every result for every seed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u64)]
pub enum Purpose {
    /// Fixed geography: station sizes, district boundaries, e-enabled stations, nominations.
    Geography = 1,
    /// Calibration draws (fixed replicates used to match target turnout and shares).
    Calibration = 2,
    /// Station-level turnout deviation.
    StationTurnout = 3,
    /// Station-level preference deviations.
    StationPreference = 4,
    /// Each registered voter's decision to turn out.
    VoterTurnout = 5,
    /// Each voter's ballot: paper or electronic, list and district choices, spoiling.
    VoterChoice = 6,
    /// District candidates' personal appeal in a run.
    CandidateAppeal = 7,
    /// Runoff (second round) ballots.
    Runoff = 8,
    /// Lots drawn to resolve ties that decide a seat.
    Lot = 9,
    /// Launch codes of voting machines.
    LaunchCode = 10,
    /// Fraud: which stations are targeted, and each fraudulent act.
    Fraud = 11,
    /// Voters checking receipts and control codes.
    Checks = 12,
    /// The stations a parallel vote tabulation observes.
    Pvt = 13,
    /// Which electronic voters keep their receipt in an election package (`tamga simulate`).
    Receipt = 14,
    /// The random draws of a run's Klimek model fit (the `klimek_fit` detector).
    KlimekFit = 15,
    /// The samples of a run's risk-limiting audits (the `rla_*` detectors).
    Audit = 16,
}

const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

/// SplitMix64 finaliser (Steele, Lea, Flood 2014): a bijective avalanche mix of 64 bits.
#[inline]
pub fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The 64-bit key of a stream: the four parts folded through [`mix64`] one after another.
pub fn stream_key(seed: u64, purpose: Purpose, run: u64, index: u64) -> u64 {
    RunStreams::new(seed, purpose, run).key(index)
}

/// The streams of one `(seed, purpose, run)` for many indices: the first three parts of the key
/// folded once, so that each [`RunStreams::stream`] only folds the index. Gives exactly the
/// generators of [`stream`].
#[derive(Clone, Copy, Debug)]
pub struct RunStreams(u64);

impl RunStreams {
    pub fn new(seed: u64, purpose: Purpose, run: u64) -> Self {
        let mut k = mix64(seed.wrapping_add(GOLDEN));
        k = mix64(k ^ (purpose as u64).wrapping_mul(GOLDEN));
        RunStreams(mix64(
            k ^ run.wrapping_add(1).wrapping_mul(0xD1B5_4A32_D192_ED03),
        ))
    }

    /// The key of stream `index`.
    #[inline]
    pub fn key(self, index: u64) -> u64 {
        mix64(self.0 ^ index.wrapping_add(1).wrapping_mul(0xABC9_8388_FB8F_AC03))
    }

    /// The generator of stream `index`: [`stream`]`(seed, purpose, run, index)`.
    #[inline]
    pub fn stream(self, index: u64) -> StreamRng {
        from_key(self.key(index))
    }
}

/// The generator for `(seed, purpose, run, index)`. Its 256-bit state is expanded from the key
/// by SplitMix64, as the xoshiro authors recommend.
pub fn stream(seed: u64, purpose: Purpose, run: u64, index: u64) -> StreamRng {
    from_key(stream_key(seed, purpose, run, index))
}

#[inline]
fn from_key(key: u64) -> StreamRng {
    let mut bytes = [0u8; 32];
    let mut s = key;
    for chunk in bytes.chunks_exact_mut(8) {
        s = s.wrapping_add(GOLDEN);
        chunk.copy_from_slice(&mix64(s).to_le_bytes());
    }
    StreamRng::from_seed(bytes)
}

/// What a stream of an analysis is used for ([`analysis_stream`]). The numeric codes are part of
/// the reproducibility contract of `tamga forensics` and of the `klimek_fit` detector.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u64)]
pub enum AnalysisPurpose {
    /// Replicate fits of the Klimek model (index = replicate).
    KlimekFit = 1,
    /// The simulation of the fitted Klimek model that gives its implied totals.
    KlimekImplied = 2,
    /// Clean simulations that calibrate the digit tests (index = simulation).
    DigitNull = 3,
    /// `tamga infer`: the ABC proposals (index = generation and proposal, `infer::abc::key`).
    InferProposal = 4,
    /// `tamga infer`'s calibration: the true parameters of each synthetic election (index =
    /// replicate).
    InferTruth = 5,
    /// `tamga infer --from-stations`: the bootstrap resamples of the honest model's fit (index
    /// = replicate).
    InferHonestFit = 6,
}

/// The generator of an analysis for `(seed, purpose, index)`: Xoshiro256++ seeded by SplitMix64
/// from a SplitMix64 fold of the three parts, so streams for different purposes or indices
/// never coincide and a task's stream does not depend on which thread runs it.
pub fn analysis_stream(seed: u64, purpose: AnalysisPurpose, index: u64) -> StreamRng {
    let mut z = seed;
    for v in [purpose as u64, index] {
        z = splitmix64(z ^ splitmix64(v.wrapping_add(GOLDEN)));
    }
    from_key(z)
}

/// One SplitMix64 step from state `z`: the output after adding the golden gamma.
#[inline]
fn splitmix64(z: u64) -> u64 {
    mix64(z.wrapping_add(GOLDEN))
}

/// A uniform draw in [0, 1) with 53 bits of precision.
#[inline]
pub fn unit(rng: &mut impl rand::Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// A probability as a 64-bit threshold: `rng.next_u64() < threshold(p)` happens with
/// probability `p` (to within 2^-64). `p >= 1` maps to always, `p <= 0` (or NaN) to never.
#[inline]
pub fn threshold(p: f64) -> u64 {
    if p.is_nan() || p <= 0.0 {
        0
    } else if p >= 1.0 {
        u64::MAX
    } else {
        (p * 18_446_744_073_709_551_616.0) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn run_streams_are_the_streams() {
        for (seed, run) in [(0u64, 0u64), (2004, 17), (u64::MAX, u64::MAX)] {
            for purpose in [Purpose::Geography, Purpose::VoterChoice, Purpose::KlimekFit] {
                let rs = RunStreams::new(seed, purpose, run);
                for index in [0u64, 1, 9_619, u64::MAX] {
                    let (mut a, mut b) = (stream(seed, purpose, run, index), rs.stream(index));
                    for _ in 0..4 {
                        assert_eq!(a.next_u64(), b.next_u64());
                    }
                }
            }
        }
    }

    #[test]
    fn streams_are_pinned() {
        // Value-stability: these numbers are part of the reproducibility contract.
        let mut r = stream(2004, Purpose::VoterTurnout, 3, 17);
        let got: Vec<u64> = (0..3).map(|_| r.next_u64()).collect();
        assert_eq!(
            got,
            vec![
                13_540_577_794_844_952_101,
                3_057_906_805_245_963_832,
                4_993_021_156_247_660_834
            ]
        );
    }

    /// The forensics scheme as it was written before it moved here (`forensics::stream_rng`):
    /// Xoshiro256++'s own `seed_from_u64` over a hand-written SplitMix64 fold.
    fn analysis_stream_as_written(seed: u64, purpose: u64, index: u64) -> StreamRng {
        fn sm(mut z: u64) -> u64 {
            z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        }
        let mut z = seed;
        for v in [purpose, index] {
            z = sm(z ^ sm(v.wrapping_add(0x9e37_79b9_7f4a_7c15)));
        }
        StreamRng::seed_from_u64(z)
    }

    #[test]
    fn analysis_streams_are_the_old_forensic_streams() {
        use AnalysisPurpose::*;
        for seed in [0u64, 9, 20_120_304, u64::MAX] {
            for purpose in [KlimekFit, KlimekImplied, DigitNull] {
                for index in [0u64, 1, 7, u64::MAX] {
                    let mut a = analysis_stream(seed, purpose, index);
                    let mut b = analysis_stream_as_written(seed, purpose as u64, index);
                    for _ in 0..4 {
                        assert_eq!(a.next_u64(), b.next_u64());
                    }
                }
            }
        }
    }

    #[test]
    fn analysis_streams_are_pinned() {
        // Value-stability: these numbers are part of the reproducibility contract of
        // `tamga forensics` (default seed) and of the `klimek_fit` detector.
        let draws = |purpose, index| {
            let mut r = analysis_stream(20_120_304, purpose, index);
            (0..2).map(|_| r.next_u64()).collect::<Vec<u64>>()
        };
        assert_eq!(
            draws(AnalysisPurpose::KlimekFit, 0),
            vec![15_099_511_418_216_896_548, 5_335_059_173_773_644_831]
        );
        assert_eq!(
            draws(AnalysisPurpose::KlimekImplied, 0),
            vec![11_172_046_564_874_408_194, 1_890_091_491_402_466_290]
        );
        assert_eq!(
            draws(AnalysisPurpose::DigitNull, 5),
            vec![3_725_487_726_046_085_045, 2_082_781_519_107_451_169]
        );
    }

    #[test]
    fn key_parts_all_matter() {
        let base = stream_key(1, Purpose::VoterChoice, 2, 3);
        assert_ne!(base, stream_key(2, Purpose::VoterChoice, 2, 3));
        assert_ne!(base, stream_key(1, Purpose::VoterTurnout, 2, 3));
        assert_ne!(base, stream_key(1, Purpose::VoterChoice, 3, 3));
        assert_ne!(base, stream_key(1, Purpose::VoterChoice, 2, 4));
        // swapping run and index must not collide
        assert_ne!(
            stream_key(1, Purpose::VoterChoice, 2, 3),
            stream_key(1, Purpose::VoterChoice, 3, 2)
        );
    }

    #[test]
    fn threshold_edges() {
        assert_eq!(threshold(0.0), 0);
        assert_eq!(threshold(-1.0), 0);
        assert_eq!(threshold(f64::NAN), 0);
        assert_eq!(threshold(1.0), u64::MAX);
        assert_eq!(threshold(0.5), 1u64 << 63);
    }

    #[test]
    fn unit_is_in_range() {
        let mut r = stream(0, Purpose::Lot, 0, 0);
        for _ in 0..10_000 {
            let u = unit(&mut r);
            assert!((0.0..1.0).contains(&u));
        }
    }
}
