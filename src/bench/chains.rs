//! One election with every voting machine's ledger written and verified, as an auditor would
//! verify a whole election: the India-scale job of `docs/BENCHMARKS.md`
//! (`tamga bench --chains SCENARIO`).
//!
//! **Owns**: the pipeline and its timing. The ballot-level election day runs on the calling
//! thread with machines that keep their ballots unhashed ([`LedgerMode::LogOnly`]); each closed
//! machine's ballots are copied into a block, and every block of machines goes to one of
//! `threads` workers, which write the block's ledger files in memory with the chains advanced
//! in lockstep ([`ledger::write_many`]: ingest), optionally build each ledger's Merkle tree and
//! its roots at the checkpoint sizes, and verify every ledger against its published head (and
//! those roots) in lockstep ([`ledger::verify_many`]). Memory is bounded by the blocks in flight,
//! not by the ballots: at most `2 × threads + 1` blocks exist at a time and each worker keeps
//! one block's ledger files.
//! **Never**: writes files, signs checkpoints (their Ed25519 cost is measured on a sample, see
//! [`ChainsReport::signatures`]) or changes what the election produces.

use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use serde::Serialize;

use super::thread_cpu_seconds;
use crate::ledger::note::{
    Checkpoint, derive_signing_key, machine_origin, open_checkpoint, sign_note,
};
use crate::ledger::{
    self, BallotChoice, Genesis, LedgerCheck, MachineBallots, PublishedHead, TreeRoot,
};
use crate::model::SimPath;
use crate::montecarlo::Simulator;
use crate::sim::station::{HonestDraws, draw_honest_with};
use crate::sim::{LedgerMode, VotingMachine, Workspace, run_election};

/// How [`chained_election`] runs.
#[derive(Clone, Copy, Debug)]
pub struct ChainsSettings {
    /// Workers writing and verifying ledgers (the election day itself runs on the calling
    /// thread beside them).
    pub threads: usize,
    /// Machines per block handed to a worker.
    pub block: usize,
    /// Also build each ledger's Merkle tree at ingest and check its roots at every checkpoint
    /// size (every `interval` entries and at close) in verification, as `tamga simulate` and
    /// `tamga audit` do.
    pub tree: Option<u64>,
    /// Checkpoints signed and opened (Ed25519) on one thread to measure their cost; 0: none.
    pub signature_sample: usize,
    /// How the election day runs: [`SimPath::Hybrid`] (the default path of `tamga run`: each
    /// station's electronic voters drawn, then cast one by one on its machine) or
    /// [`SimPath::Ballot`] (every registered voter decided one by one, the reference). A variant
    /// with fraud models runs on the ballot path either way (the hybrid path's machines are
    /// its honest draws); [`ChainsReport::path`] says which ran. The station path draws no
    /// ballots, so it runs as the hybrid path.
    pub path: SimPath,
}

/// What [`chained_election`] did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ChainsReport {
    /// The path the election day ran on (`"hybrid"` or `"ballot"`).
    pub path: &'static str,
    /// Ledgers written and verified.
    pub ledgers: u64,
    /// Ballot entries in them.
    pub ballots: u64,
    /// Bytes of ledger files written and read.
    pub bytes: u64,
    /// Ledgers whose verification reported any finding (0 for an honest election).
    pub with_findings: u64,
    /// Tree roots checked against the roots computed at ingest (the checkpoints' roots).
    pub roots_checked: u64,
    /// Roots that differed (0 for an honest election).
    pub roots_differing: u64,
    /// Checkpoints an election package would sign for these ledgers (every `interval` entries
    /// — [`ChainsSettings::tree`]'s, else the package's — and at close).
    pub checkpoints: u64,
    /// Wall seconds from the start of election day to the last ledger verified.
    pub wall: f64,
    /// CPU seconds of the election-day thread (simulating, copying ballots into blocks).
    pub cpu_simulate: f64,
    /// CPU seconds of the workers writing ledgers (and trees).
    pub cpu_ingest: f64,
    /// CPU seconds of the workers verifying ledgers.
    pub cpu_verify: f64,
    /// The Ed25519 sample, if one was asked for.
    pub signatures: Option<SignatureSample>,
}

/// Checkpoints signed and opened on one thread.
#[derive(Clone, Debug, Default, Serialize)]
pub struct SignatureSample {
    /// Checkpoints signed and opened.
    pub notes: u64,
    /// CPU seconds per signature (deriving nothing: the key is made once).
    pub sign_seconds: f64,
    /// CPU seconds per signature check (`open_checkpoint`).
    pub open_seconds: f64,
}

/// A block of closed machines: each one's genesis, ballot shape and ballots.
#[derive(Default)]
struct Block {
    machines: Vec<(Genesis, u8, u16, usize, usize)>,
    ballots: Vec<BallotChoice>,
}

/// What a worker adds up.
#[derive(Default)]
struct Tally {
    ledgers: u64,
    ballots: u64,
    bytes: u64,
    with_findings: u64,
    roots_checked: u64,
    roots_differing: u64,
    checkpoints: u64,
    cpu_ingest: f64,
    cpu_verify: f64,
}

/// The checkpoint sizes of a log of `entries` entries: every multiple of `interval`, and the
/// close.
fn checkpoint_sizes(entries: u64, interval: u64, out: &mut Vec<u64>) {
    out.clear();
    let interval = interval.max(1);
    out.extend((1..=entries / interval).map(|k| k * interval));
    if out.last() != Some(&entries) {
        out.push(entries);
    }
}

fn cpu() -> f64 {
    thread_cpu_seconds().unwrap_or(0.0)
}

/// Writes and verifies one block's ledgers.
fn work(block: &Block, settings: &ChainsSettings, files: &mut Vec<Vec<u8>>, t: &mut Tally) {
    let c0 = cpu();
    let machines: Vec<MachineBallots<'_>> = block
        .machines
        .iter()
        .map(
            |&(genesis, n_lists, n_candidates, from, to)| MachineBallots {
                genesis,
                n_lists,
                n_candidates,
                ballots: &block.ballots[from..to],
            },
        )
        .collect();
    let sealed = match ledger::write_many(&machines, files) {
        Ok(s) => s,
        Err(_) => {
            // an engine bug (a machine recorded a choice off its ballot): every ledger counts
            // as one with findings
            t.with_findings += machines.len() as u64;
            return;
        }
    };
    let heads: Vec<PublishedHead> = sealed.iter().map(|c| c.published_head()).collect();
    // the tree's roots at the checkpoint sizes, as the machines would sign them
    let mut sizes: Vec<Vec<u64>> = Vec::new();
    let mut signed: Vec<Vec<TreeRoot>> = Vec::new();
    let interval = settings
        .tree
        .unwrap_or(crate::package::CHECKPOINT_INTERVAL)
        .max(1);
    for (closed, f) in sealed.iter().zip(files.iter()) {
        let entries = closed.n_ballots + 2;
        t.checkpoints += entries / interval + u64::from(!entries.is_multiple_of(interval));
        if settings.tree.is_some() {
            let mut s = Vec::new();
            checkpoint_sizes(entries, interval, &mut s);
            signed.push(ledger::tree_roots(f, &s));
            sizes.push(s);
        }
    }
    let c1 = cpu();
    let checks: Vec<LedgerCheck<'_>> = files
        .iter()
        .zip(&heads)
        .enumerate()
        .map(|(k, (f, h))| LedgerCheck {
            bytes: f,
            head: Some(h),
            receipts: &[],
            tree_sizes: sizes.get(k).map(|s| &s[..]),
        })
        .collect();
    let reports = ledger::verify_many(&checks);
    for (k, r) in reports.iter().enumerate() {
        t.ledgers += 1;
        t.ballots += r.n_ballots;
        t.bytes += r.bytes;
        t.with_findings += u64::from(!r.is_clean());
        if let Some(want) = signed.get(k) {
            t.roots_checked += want.len() as u64;
            t.roots_differing += want
                .iter()
                .filter(|w| !r.tree_roots.iter().any(|g| g == *w))
                .count() as u64;
        }
    }
    let c2 = cpu();
    t.cpu_ingest += c1 - c0;
    t.cpu_verify += c2 - c1;
}

/// Runs run `run` of variant `variant` ballot by ballot and writes and verifies every voting
/// machine's ledger (see the module docs).
pub fn chained_election(
    sim: &Simulator,
    variant: usize,
    run: u64,
    settings: ChainsSettings,
) -> ChainsReport {
    let threads = settings.threads.max(1);
    let block_len = settings.block.max(1);
    let ctx = sim.context(variant, LedgerMode::LogOnly);
    let path = if ctx.model.fraud.is_empty() && settings.path != SimPath::Ballot {
        SimPath::Hybrid
    } else {
        SimPath::Ballot
    };
    let t0 = Instant::now();
    let (to_work, work_rx): (SyncSender<Block>, Receiver<Block>) = sync_channel(2 * threads);
    let (to_reuse, reuse_rx) = sync_channel::<Block>(2 * threads + 1);
    let work_rx = Arc::new(Mutex::new(work_rx));
    let mut report = ChainsReport::default();
    let mut first: Vec<(Genesis, u8, u16, Vec<BallotChoice>)> = Vec::new();
    let tallies: Vec<Tally> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                let rx = Arc::clone(&work_rx);
                let back = to_reuse.clone();
                let settings = &settings;
                s.spawn(move || {
                    let mut t = Tally::default();
                    let mut files = Vec::new();
                    loop {
                        let got = rx.lock().map(|r| r.recv());
                        let Ok(Ok(block)) = got else { break };
                        work(&block, settings, &mut files, &mut t);
                        let _ = back.try_send(block);
                    }
                    t
                })
            })
            .collect();
        drop(to_reuse);
        let c0 = cpu();
        let mut ws = Workspace::default();
        let mut cur = Block::default();
        let mut on_closed = |_: usize, m: &VotingMachine| {
            let Some(g) = m.genesis() else { return };
            let from = cur.ballots.len();
            cur.ballots
                .extend(m.log.iter().map(|b| BallotChoice::new(b.list, b.district)));
            let shape = ((m.list.len() - 1) as u8, (m.district.len() - 1) as u16);
            cur.machines
                .push((*g, shape.0, shape.1, from, cur.ballots.len()));
            if first.len() < settings.signature_sample {
                first.push((*g, shape.0, shape.1, cur.ballots[from..].to_vec()));
            }
            if cur.machines.len() == block_len {
                let mut next = reuse_rx.try_recv().unwrap_or_default();
                next.machines.clear();
                next.ballots.clear();
                let full = std::mem::replace(&mut cur, next);
                let _ = to_work.send(full);
            }
        };
        if path == SimPath::Ballot {
            run_election(ctx, run, &mut ws, &mut on_closed);
        } else {
            let mut honest = HonestDraws::default();
            draw_honest_with(
                ctx,
                run,
                &mut ws,
                true,
                &|| false,
                &mut honest,
                &mut on_closed,
            );
        }
        if !cur.machines.is_empty() {
            let _ = to_work.send(cur);
        }
        drop(to_work);
        report.cpu_simulate = cpu() - c0;
        workers
            .into_iter()
            .map(|w| w.join().unwrap_or_default())
            .collect()
    });
    report.wall = t0.elapsed().as_secs_f64();
    report.path = path.name();
    for t in &tallies {
        report.ledgers += t.ledgers;
        report.ballots += t.ballots;
        report.bytes += t.bytes;
        report.with_findings += t.with_findings;
        report.roots_checked += t.roots_checked;
        report.roots_differing += t.roots_differing;
        report.checkpoints += t.checkpoints;
        report.cpu_ingest += t.cpu_ingest;
        report.cpu_verify += t.cpu_verify;
    }
    if settings.signature_sample > 0 {
        let interval = settings.tree.unwrap_or(crate::package::CHECKPOINT_INTERVAL);
        report.signatures = Some(sign_sample(sim.seed, &first, interval));
    }
    report
}

/// Signs and opens the checkpoints of the first machines' logs — their real roots and heads,
/// one note per checkpoint size — as a package's machines sign them and its audit opens them.
fn sign_sample(
    seed: u64,
    machines: &[(Genesis, u8, u16, Vec<BallotChoice>)],
    interval: u64,
) -> SignatureSample {
    let mut notes = Vec::new();
    let mut files = Vec::new();
    let mut sizes = Vec::new();
    let mut sign = 0.0;
    for (g, n_lists, n_candidates, ballots) in machines {
        let m = [MachineBallots {
            genesis: *g,
            n_lists: *n_lists,
            n_candidates: *n_candidates,
            ballots,
        }];
        if ledger::write_many(&m, &mut files).is_err() {
            continue;
        }
        checkpoint_sizes(ballots.len() as u64 + 2, interval, &mut sizes);
        let roots = ledger::tree_roots(&files[0], &sizes);
        let key = derive_signing_key(seed, "machine", g.station, g.machine);
        let origin = machine_origin(&g.election_id, g.station, g.machine);
        let c0 = cpu();
        for r in &roots {
            let c = Checkpoint {
                origin: origin.clone(),
                size: r.size,
                root: r.root,
                head: Some(r.last),
            };
            notes.push((
                sign_note(&c.body(), &origin, &key),
                origin.clone(),
                key.verifying_key(),
            ));
        }
        sign += cpu() - c0;
    }
    let c0 = cpu();
    let opened = notes
        .iter()
        .filter(|(n, o, k)| open_checkpoint(n, o, k.as_bytes()).is_ok())
        .count();
    let open = cpu() - c0;
    let n = notes.len().max(1) as f64;
    SignatureSample {
        notes: opened as u64,
        sign_seconds: sign / n,
        open_seconds: open / n,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every machine of the tutorial's run is written and verified clean, whatever the threads
    /// and blocks; its ballots are those the machines recorded with chains built as cast, and
    /// every checkpoint root computed at ingest is the verifier's.
    #[test]
    fn every_machine_of_a_run_is_written_and_verified_clean() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/tutorial.toml");
        let scenario = crate::scenario::load(&path).expect("the tutorial loads");
        let sim = Simulator::new(&scenario, 11);
        // the machines as the ballot path closes them, chains built ballot by ballot
        let (mut machines, mut ballots) = (0u64, 0u64);
        let mut ws = Workspace::default();
        run_election(
            sim.context(0, LedgerMode::Chain),
            3,
            &mut ws,
            &mut |_, m| {
                if let Some(c) = &m.closed {
                    machines += 1;
                    ballots += c.n_ballots;
                }
            },
        );
        assert!(machines > 5 && ballots > 1000, "{machines} {ballots}");
        let mut seen = Vec::new();
        for (threads, block, tree) in [(1, 1000, None), (2, 3, Some(16)), (3, 1, Some(1))] {
            let settings = ChainsSettings {
                threads,
                block,
                tree,
                signature_sample: 2,
                path: SimPath::Ballot,
            };
            let r = chained_election(&sim, 0, 3, settings);
            assert_eq!((r.ledgers, r.ballots), (machines, ballots));
            assert_eq!(r.with_findings, 0);
            assert_eq!(r.roots_differing, 0);
            if tree.is_some() {
                assert_eq!(r.roots_checked, r.checkpoints);
                assert!(r.checkpoints > machines);
            } else {
                assert_eq!(r.roots_checked, 0);
            }
            let s = r.signatures.expect("a sample was asked for");
            assert!(s.notes >= 2, "{s:?}");
            seen.push(r.bytes);
        }
        assert!(seen.iter().all(|&b| b == seen[0] && b > 44 * ballots));
    }

    /// On the hybrid path the machines are those of the run's honest draws (what `tamga run`
    /// chains on its default path): the same machines and ballots, every ledger clean, whatever
    /// the threads and blocks; a variant with fraud models runs on the ballot path.
    #[test]
    fn the_hybrid_election_day_chains_the_machines_of_the_honest_draws() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/tutorial.toml");
        let scenario = crate::scenario::load(&path).expect("the tutorial loads");
        let sim = Simulator::new(&scenario, 11);
        let honest_variant = (0..scenario.variants.len())
            .find(|&v| sim.context(v, LedgerMode::Chain).model.fraud.is_empty())
            .expect("the tutorial has an honest variant");
        let mut ws = Workspace::default();
        let mut honest = HonestDraws::default();
        let (mut machines, mut ballots) = (0u64, 0u64);
        let ctx = sim.context(honest_variant, LedgerMode::LogOnly);
        let done = draw_honest_with(
            ctx,
            3,
            &mut ws,
            true,
            &|| false,
            &mut honest,
            &mut |_, m| {
                machines += 1;
                ballots += m.log.len() as u64;
                assert_eq!(m.log.len() as u32, m.n_ballots);
            },
        );
        assert!(
            done && machines > 5 && ballots > 1000,
            "{machines} {ballots}"
        );
        for (threads, block) in [(1, 1000), (2, 3)] {
            let settings = ChainsSettings {
                threads,
                block,
                tree: Some(16),
                signature_sample: 0,
                path: SimPath::Hybrid,
            };
            let r = chained_election(&sim, honest_variant, 3, settings);
            assert_eq!(r.path, "hybrid");
            assert_eq!((r.ledgers, r.ballots), (machines, ballots));
            assert_eq!((r.with_findings, r.roots_differing), (0, 0));
            assert_eq!(r.roots_checked, r.checkpoints);
        }
        if let Some(fraud) = (0..scenario.variants.len())
            .find(|&v| !sim.context(v, LedgerMode::Chain).model.fraud.is_empty())
        {
            let settings = ChainsSettings {
                threads: 2,
                block: 8,
                tree: None,
                signature_sample: 0,
                path: SimPath::Hybrid,
            };
            assert_eq!(chained_election(&sim, fraud, 3, settings).path, "ballot");
        }
    }

    #[test]
    fn checkpoint_sizes_are_the_multiples_and_the_close() {
        let mut s = Vec::new();
        checkpoint_sizes(300, 128, &mut s);
        assert_eq!(s, [128, 256, 300]);
        checkpoint_sizes(256, 128, &mut s);
        assert_eq!(s, [128, 256]);
        checkpoint_sizes(2, 128, &mut s);
        assert_eq!(s, [2]);
    }
}
