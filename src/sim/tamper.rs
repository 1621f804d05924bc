//! Fraud after the count: a machine's ledger rewritten or truncated after close
//! ([`rewrite_ledger`]) and commissions' changes to station protocols ([`protocol_fraud`]).

use super::context::Context;
use super::counts::{PublishedLedger, Workspace};
use crate::fraud::{
    FraudKind, klimek_biased, klimek_intensity, klimek_turnout_weight, move_share, round_up_share,
    turnout_round_up,
};
use crate::rng::{Purpose, StreamRng, stream};
use rand::Rng;

/// A change to a machine's ledger after close.
#[derive(Clone, Copy, Debug)]
pub(super) enum LedgerTamper {
    /// The first `entries` ballots for other lists become the beneficiary's.
    Rewrite {
        entries: u32,
        recompute: bool,
        forge_head: bool,
        ben: usize,
    },
    /// The last `entries` ballots are cut off.
    Truncate { entries: u32, reseal: bool },
}

/// Tampers with a machine's ledger after close (see [`LedgerTamper`]) and changes the machine's
/// totals in the station count to match. The tampered file is verified the way an auditor would
/// — against the head published at close when heads are published, or against the forger's own
/// head when the published head was forged too — and voters holding receipts of changed or
/// removed entries check them with the receipt rate.
pub(super) fn rewrite_ledger(
    ctx: Context<'_>,
    ws: &mut Workspace,
    i: usize,
    tamper: LedgerTamper,
    receipt_thr: u64,
    crng: &mut StreamRng,
) {
    use crate::ledger::{
        BALLOT_RECORD_LEN, BallotChoice, GENESIS_RECORD_LEN, HEADER_LEN, RECORD_PREFIX_LEN,
        write_ledger,
    };
    let Some(closed) = ws.machine.closed.clone() else {
        return;
    };
    let log = &ws.machine.log;
    let k = ctx.electorate.n_parties;
    let w = k + 1;
    let n_cand = ws.machine.district.len() - 1;
    let honest: Vec<BallotChoice> = log
        .iter()
        .map(|b| BallotChoice::new(b.list, b.district))
        .collect();
    let write = |choices: &[BallotChoice]| -> Option<(Vec<u8>, crate::ledger::Closed)> {
        let mut out = Vec::new();
        write_ledger(
            &mut out,
            &closed.genesis,
            k as u8,
            n_cand as u16,
            choices.iter().copied(),
        )
        .ok()
        .map(|c| (out, c))
    };
    // the tampered bytes, the head the forger would publish, and how many receipts no longer
    // match what is published
    let (bytes, forged_head, affected, forge) = match tamper {
        LedgerTamper::Rewrite {
            entries,
            recompute,
            forge_head,
            ben,
        } => {
            let positions: Vec<usize> = log
                .iter()
                .enumerate()
                .filter(|(_, b)| b.list as usize != ben)
                .map(|(p, _)| p)
                .take(entries as usize)
                .collect();
            let Some(&first) = positions.first() else {
                return;
            };
            ws.trace.rewritten += positions.len() as u64;
            for &p in &positions {
                let from = log[p].list as usize;
                ws.counts.list[i * w + from] -= 1;
                ws.counts.list[i * w + ben] += 1;
            }
            let mut choices = honest.clone();
            for &p in &positions {
                choices[p].list = ben as u8;
            }
            if recompute {
                let Some((bytes, c)) = write(&choices) else {
                    return;
                };
                // every entry from the first change on has a new hash
                (bytes, c.published_head(), log.len() - first, forge_head)
            } else {
                // the honest file with the choice bytes edited in place, every hash kept: only
                // the changed entries' receipts would show it
                let Some((mut bytes, c)) = write(&honest) else {
                    return;
                };
                for &p in &positions {
                    let off =
                        HEADER_LEN + GENESIS_RECORD_LEN + p * BALLOT_RECORD_LEN + RECORD_PREFIX_LEN; // the list byte opens the ballot body
                    if let Some(byte) = bytes.get_mut(off) {
                        *byte = ben as u8;
                    }
                }
                (bytes, c.published_head(), positions.len(), false)
            }
        }
        LedgerTamper::Truncate { entries, reseal } => {
            let cut = (entries as usize).min(log.len());
            if cut == 0 {
                return;
            }
            let keep = log.len() - cut;
            ws.trace.rewritten += cut as u64;
            for b in &log[keep..] {
                ws.counts.list[i * w + (b.list as usize).min(k)] -= 1;
            }
            let (bytes, head) = if reseal {
                let Some((bytes, c)) = write(&honest[..keep]) else {
                    return;
                };
                (bytes, c.published_head())
            } else {
                let Some((mut bytes, c)) = write(&honest) else {
                    return;
                };
                bytes.truncate(HEADER_LEN + GENESIS_RECORD_LEN + keep * BALLOT_RECORD_LEN);
                (bytes, c.published_head())
            };
            (bytes, head, cut, false)
        }
    };
    ws.trace.ledgers_tampered += 1;
    // the head published for this machine: the forger's when it was forged too, else the one
    // announced at close (when heads are published at all)
    let head = if forge {
        Some(forged_head)
    } else {
        ctx.heads_published.then(|| closed.published_head())
    };
    ws.ledgers.push(PublishedLedger {
        station: i as u32,
        bytes: bytes.clone(),
        head,
    });
    for _ in 0..affected {
        if crng.next_u64() < receipt_thr {
            ws.checks.receipt_complaint = true;
            break;
        }
    }
    // what is published from now on (an election package writes these bytes)
    ws.machine.rewritten = Some(bytes);
    ws.machine.head_forged = forge;
}

/// Commission-level fraud on station protocols (`ws.reported`, a copy of the count).
pub(super) fn protocol_fraud(ctx: Context<'_>, run: u64, i: usize, ws: &mut Workspace) {
    if ctx.model.fraud.is_empty() {
        return;
    }
    let e = ctx.electorate;
    let st = &e.stations[i];
    let k = e.n_parties;
    let w = k + 1;
    // a second stream for protocol-level draws, so they do not shift election-day draws
    let mut rng = stream(ctx.seed, Purpose::Fraud, run, (e.stations.len() + i) as u64);
    let mut frng = stream(ctx.seed, Purpose::Fraud, run, i as u64);
    ctx.targeted(i, &mut frng, &mut ws.targeted);
    for (j, f) in ctx.model.fraud.iter().enumerate() {
        if !ws.targeted[j] {
            continue;
        }
        let ben = f.beneficiary as usize;
        let issued = ws.reported.issued[i];
        let row = &mut ws.reported.list[i * w..(i + 1) * w];
        match f.kind {
            FraudKind::Protocol { share } => {
                move_share(&mut row[..k], ben, share);
            }
            FraudKind::Rounding { turnout: false } => {
                let ballots: u64 = row.iter().map(|&v| v as u64).sum();
                round_up_share(&mut row[..k], ben, ballots);
            }
            FraudKind::Rounding { turnout: true } => {
                // ballots written in for the beneficiary until turnout is a whole percent
                let add = turnout_round_up(issued as u64, st.n_registered as u64) as u32;
                row[ben] += add;
                ws.reported.issued[i] += add;
                ws.trace.stuffed += add as u64;
            }
            FraudKind::Klimek {
                incremental,
                extreme,
                alpha,
                theta,
                turnout_bias,
            } => {
                let (mean, sd) = e.turnout_logit(i);
                let w = klimek_turnout_weight(
                    turnout_bias,
                    issued as u64,
                    st.n_registered as u64,
                    mean,
                    sd,
                );
                let (incremental, extreme) = klimek_biased(incremental, extreme, w);
                let x = klimek_intensity(&mut rng, incremental, extreme, theta);
                if x > 0.0 {
                    // the counts of the forensics simulator: floor(x·non-voters) stuffed,
                    // round(x^α·opposition) moved
                    let opposition: u64 = (0..k).filter(|&p| p != ben).map(|p| row[p] as u64).sum();
                    let (stuffed, moved) = crate::forensics::stats::klimek::fraud_counts(
                        st.n_registered.saturating_sub(issued) as u64,
                        opposition,
                        x,
                        (alpha * x.ln()).exp(),
                    );
                    let stuffed = stuffed as u32;
                    row[ben] += stuffed;
                    ws.reported.issued[i] += stuffed;
                    ws.trace.stuffed += stuffed as u64;
                    crate::fraud::move_votes(&mut row[..k], ben, moved as u32);
                    if let Some(d) = st.district {
                        let dist = &e.districts[d as usize];
                        match dist.nominee[ben] {
                            Some(c) => {
                                ws.reported.district[e.candidate_offset[i] as usize + c as usize] +=
                                    stuffed
                            }
                            None => ws.reported.district_invalid[i] += stuffed,
                        }
                    }
                }
            }
            _ => {}
        }
    }
}
