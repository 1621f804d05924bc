//! `tamga bench`: tally and verification throughput on this machine, each beside the rate of the
//! operation that bounds it — one SHA-256 compression per ballot — measured in the same process.
//!
//! **Owns**: the workloads ([`sha256_chain`] and [`sha256_chain_lanes`], [`ingest`] and
//! [`ingest_lockstep`], [`ledger_file`] + [`verify_file`], and a whole run through
//! [`Simulator::run_one`]), their timing ([`measure`]: the median of
//! repetitions on the calling thread, in wall time and in the thread's CPU time) and the result
//! data model ([`BenchReport`]). Rates are per CPU second of the measuring thread where the
//! platform reports it, so that other processes competing for the cores slow the wall clock but
//! not the figures; wall times are reported beside them.
//! **Never**: writes files, parses arguments or prints (the command line does), or runs in the
//! core: this is, with `files`, the one library module that reads the clock, and no simulation code
//! calls it.
//!
//! The workloads mirror what the engine does per electronic ballot: [`ingest`] samples a choice
//! from a seeded generator and appends it to a [`Chain`] (validate, one compression, two counter
//! bumps); [`verify_file`] streams an in-memory ledger file through [`crate::ledger::verify`]
//! against its published head. The SHA-256 reference is a *dependent* chain — each hash is part
//! of the next 44-byte message, as in a ledger — so it is a single-stream latency bound, not a
//! multi-buffer throughput figure; it is taken through sha2's `compress256` and through this
//! crate's own kernel with one lane, and the faster of the two is the reference. The lockstep
//! figures advance [`LANES`] independent chains at once (`ledger::lanes`): what the verifier
//! does with one ledger's stored links, and what a machine-parallel ingest can do. The
//! criterion benches in `benches/ledger.rs` and `benches/engine.rs` measure the same paths with
//! statistics; this command is the quick, self-contained figure for a user's own machine.

mod chains;
pub use chains::{ChainsReport, ChainsSettings, SignatureSample, chained_election};

use crate::ledger::{
    Backend, BallotChoice, Chain, Closed, Genesis, LANES, PublishedHead, SHA256_IV, VerifyReport,
    append_lanes, verify, write_ledger,
};
use crate::montecarlo::RunOutcome;
use crate::montecarlo::Simulator;
use crate::rng::{Purpose, StreamRng, stream};
use crate::sim::Workspace;
use rand::Rng;
use serde::Serialize;
use std::hint::black_box;
use std::time::Instant;

/// Length of each message in the reference chain: as a ledger ballot entry (tag, previous hash,
/// sequence number, 3 bytes of choices).
pub const CHAIN_MESSAGE_LEN: usize = 44;

/// `n` dependent SHA-256 hashes of 44-byte messages `0x42 ‖ h_{i−1} ‖ i ‖ 000000`, each one
/// compression of a padded block; returns the last hash (`start` if `n = 0`).
pub fn sha256_chain(start: [u8; 32], n: u64) -> [u8; 32] {
    let mut block = [0u8; 64];
    block[0] = 0x42;
    block[CHAIN_MESSAGE_LEN] = 0x80;
    block[56..64].copy_from_slice(&((CHAIN_MESSAGE_LEN as u64) * 8).to_be_bytes());
    let mut h = start;
    for i in 0..n {
        block[1..33].copy_from_slice(&h);
        block[33..41].copy_from_slice(&(i + 1).to_be_bytes());
        let mut state = SHA256_IV;
        sha2::block_api::compress256(&mut state, &[block]);
        for (o, w) in h.chunks_exact_mut(4).zip(state) {
            o.copy_from_slice(&w.to_be_bytes());
        }
    }
    h
}

/// `N` independent dependent chains of [`sha256_chain`]'s shape advanced in lockstep, `steps`
/// hashes each, one `N`-lane compression per step with `backend`; returns each lane's last hash
/// (lane `i` equals `sha256_chain(starts[i], steps)`).
pub fn sha256_chain_lanes<const N: usize>(
    backend: Backend,
    starts: [[u8; 32]; N],
    steps: u64,
) -> [[u8; 32]; N] {
    let mut blocks = [[0u8; 64]; N];
    for b in &mut blocks {
        b[0] = 0x42;
        b[CHAIN_MESSAGE_LEN] = 0x80;
        b[56..64].copy_from_slice(&((CHAIN_MESSAGE_LEN as u64) * 8).to_be_bytes());
    }
    // Each chain's hash is kept as the state words the compression returns (as `ledger::Chain`
    // keeps its head) and written into the next block word by word.
    let mut states = [[0u32; 8]; N];
    for (state, start) in states.iter_mut().zip(&starts) {
        for (w, b) in state.iter_mut().zip(start.chunks_exact(4)) {
            *w = u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
        }
    }
    for i in 0..steps {
        for (b, state) in blocks.iter_mut().zip(&states) {
            for (o, w) in b[1..33].chunks_exact_mut(4).zip(state) {
                o.copy_from_slice(&w.to_be_bytes());
            }
            b[33..41].copy_from_slice(&(i + 1).to_be_bytes());
        }
        states = [SHA256_IV; N];
        backend.compress(&mut states, &blocks);
    }
    let mut out = [[0u8; 32]; N];
    for (h, state) in out.iter_mut().zip(&states) {
        for (o, w) in h.chunks_exact_mut(4).zip(state) {
            o.copy_from_slice(&w.to_be_bytes());
        }
    }
    out
}

/// A fixed genesis for the ledger workloads (machine 1).
pub fn bench_genesis() -> Genesis {
    bench_genesis_of(0)
}

/// The genesis of lane `lane`'s machine (number `lane + 1`) in the lockstep workloads.
fn bench_genesis_of(lane: usize) -> Genesis {
    Genesis {
        election_id: [0x7a; 32],
        station: 1,
        machine: lane as u32 + 1,
        launch_code: [0x5c; 16],
    }
}

/// One ballot from one 64-bit draw `x`: the list from its low 32 bits, the candidate from its high
/// 32 bits, each mapped onto `0..n` by a multiply-high (D. Lemire, "Fast random integer generation
/// in an interval", ACM TOMACS 29(1), 2019, without the rejection step: the bias is at most
/// `n / 2³²` per value — below 1.6·10⁻⁵ even for 65 534 candidates — which a throughput
/// workload does not care about). No branch. `n_lists` and `n_candidates` must be at least 1.
#[inline]
pub fn draw_ballot(x: u64, n_lists: u8, n_candidates: u16) -> BallotChoice {
    let list = ((x & 0xffff_ffff) * n_lists as u64) >> 32;
    let candidate = ((x >> 32) * n_candidates as u64) >> 32;
    BallotChoice::new(list as u8, candidate as u16)
}

/// The seeded generator of machine `lane`'s bench ballots (lane 0 for the one-chain workloads).
fn ballot_stream(seed: u64, lane: usize) -> StreamRng {
    stream(seed, Purpose::VoterChoice, 0, lane as u64)
}

/// `n` ballots drawn from a seeded generator: a list in `0..n_lists` and a candidate in
/// `0..n_candidates` (both at least 1), one draw each ([`draw_ballot`]).
pub fn ballots(
    seed: u64,
    n: u64,
    n_lists: u8,
    n_candidates: u16,
) -> impl Iterator<Item = BallotChoice> {
    let mut rng = ballot_stream(seed, 0);
    let (l, c) = (n_lists.max(1), n_candidates.max(1));
    (0..n).map(move |_| draw_ballot(rng.next_u64(), l, c))
}

/// Ledger ingest: samples `n` ballots and appends each to a [`Chain`] (hash and count); returns
/// the sealed chain.
pub fn ingest(seed: u64, n: u64, n_lists: u8, n_candidates: u16) -> Closed {
    let (l, c) = (n_lists.max(1), n_candidates.max(1));
    let mut chain = Chain::open(&bench_genesis_of(0), l, c);
    let mut rng = ballot_stream(seed, 0);
    for _ in 0..n {
        // in range by construction; an error would only shorten the chain
        let _ = chain.append(draw_ballot(rng.next_u64(), l, c));
    }
    chain.close()
}

/// Lockstep ingest: `N` machines' chains (machines 1..=N, each with its own generator), one
/// sampled ballot appended to each per step through [`append_lanes`] — one `N`-lane compression
/// per step; `n` ballots in all (the first `n mod N` machines get one more, appended alone).
/// Machine `i`'s sealed chain equals the one-chain [`ingest`] of its ballots.
pub fn ingest_lockstep<const N: usize>(
    seed: u64,
    n: u64,
    n_lists: u8,
    n_candidates: u16,
) -> [Closed; N] {
    let (l, c) = (n_lists.max(1), n_candidates.max(1));
    let mut chains: [Chain; N] = core::array::from_fn(|i| Chain::open(&bench_genesis_of(i), l, c));
    let mut rngs: [StreamRng; N] = core::array::from_fn(|i| ballot_stream(seed, i));
    let steps = n / N.max(1) as u64;
    let mut choices = [BallotChoice::BLANK; N];
    for _ in 0..steps {
        for (choice, rng) in choices.iter_mut().zip(&mut rngs) {
            *choice = draw_ballot(rng.next_u64(), l, c);
        }
        // in range by construction; an error would only shorten the chains
        let _ = append_lanes(chains.each_mut(), choices);
    }
    let rest = (n - steps * N as u64) as usize;
    for (chain, rng) in chains.iter_mut().zip(&mut rngs).take(rest) {
        let _ = chain.append(draw_ballot(rng.next_u64(), l, c));
    }
    chains.map(Chain::close)
}

/// An in-memory ledger file of `n` sampled ballots, and its published head.
pub fn ledger_file(seed: u64, n: u64, n_lists: u8, n_candidates: u16) -> (Vec<u8>, PublishedHead) {
    let (l, c) = (n_lists.max(1), n_candidates.max(1));
    let mut bytes = Vec::new();
    let closed = write_ledger(&mut bytes, &bench_genesis(), l, c, ballots(seed, n, l, c))
        .expect("writing to memory with in-range choices cannot fail");
    (bytes, closed.published_head())
}

/// Verifies an in-memory ledger file against its published head.
pub fn verify_file(bytes: &[u8], head: &PublishedHead) -> VerifyReport {
    verify(bytes, Some(head)).expect("reading from memory cannot fail")
}

/// CPU time consumed by the calling thread, in seconds, if the platform reports it
/// (`CLOCK_THREAD_CPUTIME_ID` on Unix).
#[allow(unsafe_code)] // one libc call; the only other unsafe code is the SHA-NI kernel
pub fn thread_cpu_seconds() -> Option<f64> {
    #[cfg(unix)]
    {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `ts` is a valid, writable timespec; the call writes only into it.
        let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
        if rc == 0 {
            return Some(ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9);
        }
        None
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// Median wall and thread-CPU seconds of a measurement.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Timing {
    pub wall: f64,
    /// `None` where the platform does not report thread CPU time.
    pub cpu: Option<f64>,
}

impl Timing {
    /// The time rates are computed from: the thread's CPU time where known (robust to other
    /// processes competing for the cores), else wall time.
    pub fn basis(&self) -> f64 {
        self.cpu.unwrap_or(self.wall)
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Times `f` `repeat` times (at least once) on the calling thread; returns the median wall and
/// CPU seconds and the last result.
pub fn measure<T>(repeat: u32, mut f: impl FnMut() -> T) -> (Timing, T) {
    let mut wall = Vec::new();
    let mut cpu = Vec::new();
    let mut last = None;
    for _ in 0..repeat.max(1) {
        let c0 = thread_cpu_seconds();
        let t = Instant::now();
        let out = black_box(f());
        wall.push(t.elapsed().as_secs_f64());
        if let (Some(a), Some(b)) = (c0, thread_cpu_seconds()) {
            cpu.push(b - a);
        }
        last = Some(out);
    }
    let cpu = (cpu.len() == wall.len()).then(|| median(cpu));
    let timing = Timing {
        wall: median(wall),
        cpu,
    };
    (timing, last.expect("at least one repetition"))
}

/// One measured rate and its ratio to the SHA-256 reference rate.
#[derive(Clone, Debug, Serialize)]
pub struct Throughput {
    /// What was counted: `hashes` or `ballots`.
    pub unit: &'static str,
    /// Items processed per repetition.
    pub items: u64,
    /// Median wall-clock seconds per repetition.
    pub wall_seconds: f64,
    /// Median CPU seconds of the measuring thread per repetition (absent where unknown).
    pub cpu_seconds: Option<f64>,
    /// Items per CPU second (per wall second where CPU time is unknown).
    pub per_second: f64,
    /// `per_second` ÷ the SHA-256 chain's hashes per second.
    pub ratio: f64,
}

impl Throughput {
    fn new(unit: &'static str, items: u64, t: Timing, reference: f64) -> Throughput {
        let per_second = items as f64 / t.basis().max(1e-9);
        Throughput {
            unit,
            items,
            wall_seconds: t.wall,
            cpu_seconds: t.cpu,
            per_second,
            ratio: if reference > 0.0 {
                per_second / reference
            } else {
                0.0
            },
        }
    }
}

/// What the whole-run measurement simulated (of its last repetition).
#[derive(Clone, Debug, Serialize)]
pub struct RunInfo {
    pub variant: String,
    pub registered: u64,
    pub ballots: u64,
    /// Ballots cast on voting machines, each hash-chained.
    pub electronic: u64,
    pub stations: usize,
}

/// All measurements.
#[derive(Clone, Debug, Serialize)]
pub struct BenchReport {
    pub format: &'static str,
    pub tamga_version: &'static str,
    /// Repetitions per measurement; each figure is the median.
    pub repeat: u32,
    /// The lockstep compression kernel: `sha-ni` or `portable`.
    pub backend: &'static str,
    /// Chains advanced in lockstep by the `*_lockstep` measurements and the verifier.
    pub lanes: usize,
    /// Which single-stream kernel gave (a): `sha2` or `tamga` (this crate's kernel, one lane).
    pub reference: &'static str,
    /// (a) SHA-256, one block per hash, dependent chain of 44-byte messages: the faster of
    /// [`Self::sha256_sha2`] and [`Self::sha256_one_lane`]. Every `ratio` is to this rate.
    pub sha256: Throughput,
    /// (a) through sha2's `compress256`.
    pub sha256_sha2: Throughput,
    /// (a) through this crate's kernel with one lane ([`Backend::detect`]).
    pub sha256_one_lane: Throughput,
    /// `lanes` dependent chains of (a)'s shape advanced in lockstep: hashes per second in all.
    pub sha256_lockstep: Throughput,
    /// (b) sample + hash + count: ballots appended to a `ledger::Chain`.
    pub ingest: Throughput,
    /// (b) on `lanes` machines' chains at once through `ledger::append_lanes`.
    pub ingest_lockstep: Throughput,
    /// (c) `ledger::verify` of an in-memory ledger file against its published head.
    pub verify: Throughput,
    /// (d) one whole ballot-level run (`Simulator::run_one`): all ballots, paper and electronic.
    pub run: Throughput,
    pub run_info: RunInfo,
}

/// Settings of a bench.
#[derive(Clone, Copy, Debug)]
pub struct BenchSettings {
    /// Ballots (and hashes) per repetition of (a)–(c).
    pub ballots: u64,
    /// Repetitions of each measurement.
    pub repeat: u32,
    /// Ballot shape of (b) and (c).
    pub n_lists: u8,
    pub n_candidates: u16,
}

/// Runs (a)–(d) on the calling thread. `variant` indexes `prepared`'s variants (checked by the
/// caller); `observe` is told the name of each stage as it starts.
pub fn run_bench(
    prepared: &Simulator,
    variant: usize,
    s: BenchSettings,
    observe: &mut dyn FnMut(&str),
) -> BenchReport {
    let repeat = s.repeat.max(1);
    let n = s.ballots.max(1);

    observe("SHA-256 chain");
    let backend = Backend::detect();
    // warm-up: wake the core up before the reference rate is taken
    black_box(sha256_chain([0; 32], n.min(500_000)));
    let (t_sha2, _) = measure(repeat, || sha256_chain([1; 32], n));
    let (t_one, _) = measure(repeat, || sha256_chain_lanes(backend, [[1; 32]], n));
    let steps = n / LANES as u64;
    let (t_lanes, _) = measure(repeat, || {
        sha256_chain_lanes::<LANES>(backend, [[1; 32]; LANES], steps)
    });
    let rate = |t: Timing| n as f64 / t.basis().max(1e-9);
    let (reference_name, reference) = if rate(t_one) > rate(t_sha2) {
        ("tamga", rate(t_one))
    } else {
        ("sha2", rate(t_sha2))
    };
    let sha256_sha2 = Throughput::new("hashes", n, t_sha2, reference);
    let sha256_one_lane = Throughput::new("hashes", n, t_one, reference);
    let sha256 = if reference_name == "tamga" {
        sha256_one_lane.clone()
    } else {
        sha256_sha2.clone()
    };
    let sha256_lockstep = Throughput::new("hashes", steps * LANES as u64, t_lanes, reference);

    observe("ledger ingest");
    let (t_ingest, _) = measure(repeat, || ingest(7, n, s.n_lists, s.n_candidates));
    let ingest = Throughput::new("ballots", n, t_ingest, reference);
    let (t_lockstep, _) = measure(repeat, || {
        ingest_lockstep::<LANES>(7, n, s.n_lists, s.n_candidates)
    });
    let ingest_lockstep = Throughput::new("ballots", n, t_lockstep, reference);

    observe("ledger verify");
    let (bytes, head) = ledger_file(7, n, s.n_lists, s.n_candidates);
    let (t_verify, report) = measure(repeat, || verify_file(&bytes, &head));
    debug_assert!(report.is_clean());
    let verify = Throughput::new("ballots", report.n_ballots, t_verify, reference);
    drop(bytes);

    observe("whole run");
    let mut ws = Workspace::default();
    let mut run = 0u32;
    let (t_run, outcome): (Timing, RunOutcome) = measure(repeat, || {
        run += 1;
        prepared.run_one(variant, run, &mut ws)
    });
    let electorate = &prepared.electorates[variant];
    let run_info = RunInfo {
        variant: prepared.scenario.variants[variant].name.clone(),
        registered: outcome.registered,
        ballots: outcome.reported.ballots,
        electronic: outcome.electronic,
        stations: electorate.stations.len(),
    };
    let run = Throughput::new("ballots", outcome.reported.ballots, t_run, reference);
    BenchReport {
        format: "tamga-bench",
        tamga_version: crate::VERSION,
        repeat,
        backend: backend.name(),
        lanes: LANES,
        reference: reference_name,
        sha256,
        sha256_sha2,
        sha256_one_lane,
        sha256_lockstep,
        ingest,
        ingest_lockstep,
        verify,
        run,
        run_info,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    #[test]
    fn chain_hash_is_sha256_of_the_44_byte_message() {
        let start = [3u8; 32];
        let mut msg = vec![0x42];
        msg.extend_from_slice(&start);
        msg.extend_from_slice(&1u64.to_be_bytes());
        msg.extend_from_slice(&[0, 0, 0]);
        assert_eq!(msg.len(), CHAIN_MESSAGE_LEN);
        let want: [u8; 32] = Sha256::digest(&msg).into();
        assert_eq!(sha256_chain(start, 1), want);
        // dependent: the second hash takes the first as its input
        let mut msg2 = vec![0x42];
        msg2.extend_from_slice(&want);
        msg2.extend_from_slice(&2u64.to_be_bytes());
        msg2.extend_from_slice(&[0, 0, 0]);
        let want2: [u8; 32] = Sha256::digest(&msg2).into();
        assert_eq!(sha256_chain(start, 2), want2);
        assert_eq!(sha256_chain(start, 0), start);
    }

    #[test]
    fn ingest_counts_every_ballot_and_verify_accepts_the_file() {
        let closed = ingest(1, 1000, 4, 3);
        assert_eq!(closed.n_ballots, 1000);
        assert_eq!(closed.totals.lists.iter().sum::<u64>(), 1000);
        assert_eq!(closed.totals.candidates.iter().sum::<u64>(), 1000);
        let (bytes, head) = ledger_file(1, 1000, 4, 3);
        // the same ballots, so the same head
        assert_eq!(head.head, closed.head);
        let report = verify_file(&bytes, &head);
        assert!(report.is_clean(), "{:?}", report.findings);
        assert_eq!(report.n_ballots, 1000);
        // and verification does notice a flipped byte
        let mut bad = bytes.clone();
        let last = bad.len() - 40;
        bad[last] ^= 1;
        assert!(!verify_file(&bad, &head).is_clean());
    }

    #[test]
    fn lockstep_chains_equal_single_chains_on_every_backend() {
        let starts: [[u8; 32]; 4] = core::array::from_fn(|i| [i as u8 * 9 + 1; 32]);
        let mut backends = vec![Backend::PORTABLE];
        backends.extend(Backend::sha_ni());
        for backend in backends {
            let got = sha256_chain_lanes(backend, starts, 5);
            for (s, h) in starts.iter().zip(got) {
                assert_eq!(h, sha256_chain(*s, 5), "{}", backend.name());
            }
            assert_eq!(sha256_chain_lanes(backend, [[3; 32]], 0), [[3; 32]]);
        }
    }

    #[test]
    fn lockstep_ingest_equals_one_chain_per_machine() {
        // 4 machines, 1003 ballots: 250 steps, then machines 1–3 get one more
        let lanes = ingest_lockstep::<4>(5, 1003, 7, 3);
        let counts: Vec<u64> = lanes.iter().map(|c| c.n_ballots).collect();
        assert_eq!(counts, [251, 251, 251, 250]);
        for (i, closed) in lanes.iter().enumerate() {
            let mut chain = Chain::open(&bench_genesis_of(i), 7, 3);
            let mut rng = ballot_stream(5, i);
            for _ in 0..closed.n_ballots {
                chain.append(draw_ballot(rng.next_u64(), 7, 3)).unwrap();
            }
            assert_eq!(&chain.close(), closed);
        }
        assert_eq!(lanes[0].head, ingest(5, 251, 7, 3).head);
    }

    #[test]
    fn one_draw_covers_both_ranges() {
        assert_eq!(draw_ballot(0, 7, 3), BallotChoice::new(0, 0));
        assert_eq!(draw_ballot(u64::MAX, 7, 3), BallotChoice::new(6, 2));
        assert_eq!(
            draw_ballot(u64::MAX, 254, 65534),
            BallotChoice::new(253, 65533)
        );
        let mut seen = [[false; 3]; 7];
        for b in ballots(3, 2000, 7, 3) {
            seen[b.list as usize][b.district as usize] = true;
        }
        assert!(
            seen.iter().flatten().all(|&s| s),
            "every (list, candidate) pair drawn"
        );
    }

    #[test]
    fn measure_reports_the_median() {
        let mut calls = 0;
        let (t, out) = measure(3, || {
            calls += 1;
            calls
        });
        assert_eq!(calls, 3);
        assert_eq!(out, 3);
        assert!(t.wall >= 0.0);
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), 2.5);
        let t = Timing {
            wall: 2.0,
            cpu: Some(0.5),
        };
        let r = Throughput::new("ballots", 100, t, 400.0);
        assert_eq!(r.per_second, 200.0);
        assert_eq!(r.ratio, 0.5);
    }
}
