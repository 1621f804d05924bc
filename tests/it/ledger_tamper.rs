//! The ledger-level tamper table (`docs/ledger-format.md` §5.1): one test per kind of
//! tampering, each named after it, each asserting which findings catch it — and, for the
//! tamperings a chain cannot catch by itself, that the ledger alone verifies clean and only the
//! published head or a later voter's receipt reveals them.

use sha2::{Digest, Sha256};
use tamga::ledger::{
    BALLOT_RECORD_LEN, BallotChoice, CANDIDATE_NONE, Closed, Finding, GENESIS_RECORD_LEN, Genesis,
    HEADER_LEN, LIST_NONE, LedgerWriter, PublishedHead, ReceiptCode, Seq, TotalColumn,
    VerifyReport, close_record_len, receipt_code, verify, verify_with_receipts,
};

const N_LISTS: u8 = 4;
const N_CANDIDATES: u16 = 3;
const N: usize = 40;

fn genesis() -> Genesis {
    Genesis {
        election_id: [0x20; 32],
        station: 412,
        machine: 1,
        launch_code: *b"opening-08:00-42",
    }
}

fn choice(i: usize) -> BallotChoice {
    match i % 7 {
        6 => BallotChoice::new(LIST_NONE, CANDIDATE_NONE),
        k => BallotChoice::new(
            (k % N_LISTS as usize) as u8,
            (k % N_CANDIDATES as usize) as u16,
        ),
    }
}

/// An honest machine's day: the ledger file, what it published, and every voter's receipt.
struct Day {
    file: Vec<u8>,
    closed: Closed,
    receipts: Vec<ReceiptCode>,
}

fn run_day(g: &Genesis, ballots: impl IntoIterator<Item = BallotChoice>) -> Day {
    let mut file = vec![];
    let mut w = LedgerWriter::create(&mut file, g, N_LISTS, N_CANDIDATES).unwrap();
    let mut receipts = vec![];
    for c in ballots {
        receipts.push(receipt_code(&w.append(c).unwrap()));
    }
    let (closed, _) = w.finish().unwrap();
    Day {
        file,
        closed,
        receipts,
    }
}

fn honest() -> Day {
    run_day(&genesis(), (0..N).map(choice))
}

fn head(d: &Day) -> PublishedHead {
    d.closed.published_head()
}

/// Byte offset of ballot record `j` (1-based, as its seq).
fn ballot_at(j: usize) -> usize {
    HEADER_LEN + GENESIS_RECORD_LEN + (j - 1) * BALLOT_RECORD_LEN
}

fn close_at() -> usize {
    ballot_at(N + 1)
}

fn ballot_record(file: &[u8], j: usize) -> Vec<u8> {
    file[ballot_at(j)..ballot_at(j) + BALLOT_RECORD_LEN].to_vec()
}

/// Stored hash of the record ending at `end`.
fn stored_hash_before(file: &[u8], end: usize) -> [u8; 32] {
    file[end - 32..end].try_into().unwrap()
}

/// Recomputes a record's stored hash over the given previous hash, as a forger would.
fn rehash(record: &mut [u8], prev: &[u8; 32]) -> [u8; 32] {
    let n = record.len();
    let mut h = Sha256::new();
    h.update([record[0]]);
    h.update(prev);
    h.update(&record[1..n - 32]);
    let d: [u8; 32] = h.finalize().into();
    record[n - 32..].copy_from_slice(&d);
    d
}

fn check(file: &[u8], published: Option<&PublishedHead>) -> VerifyReport {
    verify(file, published).unwrap()
}

fn has(rep: &VerifyReport, pred: impl Fn(&Finding) -> bool) -> bool {
    rep.findings.iter().any(pred)
}

#[test]
fn honest_ledger_is_clean() {
    let d = honest();
    let rep = verify_with_receipts(&d.file[..], Some(&head(&d)), &d.receipts).unwrap();
    assert!(rep.is_clean(), "{:?}", rep.findings);
    assert_eq!(rep.receipts_found, N);
}

#[test]
fn modify_in_place() {
    let d = honest();
    let mut f = d.file.clone();
    f[ballot_at(17) + 9] = 3; // ballot 17's list choice
    let rep = check(&f, None);
    assert_eq!(
        rep.findings[0],
        Finding::BrokenLink {
            entry: Seq(17),
            offset: ballot_at(17) as u64
        }
    );
    // Ballot 17 was list 2: the recount no longer matches the close for lists 2 and 3.
    let columns: Vec<_> = rep.findings[1..]
        .iter()
        .map(|x| match x {
            Finding::CloseTotalsMismatch { column, .. } => *column,
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(columns, vec![TotalColumn::List(2), TotalColumn::List(3)]);
    let rep = check(&f, Some(&head(&d)));
    assert!(has(&rep, |f| matches!(f, Finding::HeadMismatch { .. })));
}

#[test]
fn modify_in_place_and_rehash_that_entry() {
    let d = honest();
    let mut f = d.file.clone();
    let prev = stored_hash_before(&f, ballot_at(17));
    let at = ballot_at(17);
    f[at + 9] = 3;
    rehash(&mut f[at..at + BALLOT_RECORD_LEN], &prev);
    let rep = check(&f, None);
    // The edited entry's own link holds; the link out of it breaks.
    assert!(!has(&rep, |x| matches!(
        x,
        Finding::BrokenLink { entry: Seq(17), .. }
    )));
    assert!(has(&rep, |x| *x
        == Finding::BrokenLink {
            entry: Seq(18),
            offset: ballot_at(18) as u64
        }));
}

#[test]
fn delete_entry() {
    let d = honest();
    let mut f = d.file.clone();
    f.drain(ballot_at(10)..ballot_at(11));
    let rep = check(&f, None);
    // Ballot 11 now sits at position 10: wrong seq and its link (to ballot 10's hash) is gone.
    assert!(has(&rep, |x| *x
        == Finding::SequenceMismatch {
            entry: Seq(10),
            offset: ballot_at(10) as u64,
            found: Seq(11)
        }));
    assert!(has(&rep, |x| matches!(
        x,
        Finding::BrokenLink { entry: Seq(10), .. }
    )));
    assert!(has(&rep, |x| *x
        == Finding::CloseCountMismatch {
            offset: (close_at() - BALLOT_RECORD_LEN) as u64,
            recorded: N as u64,
            counted: N as u64 - 1
        }));
    // Exactly one broken link: after the gap the stored links hold again.
    let broken = rep
        .findings
        .iter()
        .filter(|x| matches!(x, Finding::BrokenLink { .. }));
    assert_eq!(broken.count(), 1);
}

#[test]
fn insert_entry() {
    let d = honest();
    let mut f = d.file.clone();
    // A forged ballot correctly chained onto ballot 20, inserted after it.
    let prev = stored_hash_before(&f, ballot_at(21));
    let mut forged = ballot_record(&f, 20);
    forged[1..9].copy_from_slice(&21u64.to_be_bytes());
    forged[9] = 0;
    rehash(&mut forged, &prev);
    let at = ballot_at(21);
    f.splice(at..at, forged);
    let rep = check(&f, None);
    // The forged record itself checks out; the one after it does not.
    assert!(!has(&rep, |x| matches!(
        x,
        Finding::BrokenLink { entry: Seq(21), .. }
    )));
    assert!(has(&rep, |x| matches!(
        x,
        Finding::BrokenLink { entry: Seq(22), .. }
    )));
    assert!(has(&rep, |x| matches!(
        x,
        Finding::SequenceMismatch {
            entry: Seq(22),
            found: Seq(21),
            ..
        }
    )));
    assert!(has(&rep, |x| matches!(
        x,
        Finding::CloseCountMismatch {
            recorded: 40,
            counted: 41,
            ..
        }
    )));
}

#[test]
fn duplicate_entry() {
    let d = honest();
    let mut f = d.file.clone();
    let rec = ballot_record(&f, 5);
    let at = ballot_at(6);
    f.splice(at..at, rec);
    let rep = check(&f, None);
    assert!(has(&rep, |x| matches!(
        x,
        Finding::SequenceMismatch {
            entry: Seq(6),
            found: Seq(5),
            ..
        }
    )));
    assert!(has(&rep, |x| matches!(
        x,
        Finding::BrokenLink { entry: Seq(6), .. }
    )));
    assert!(has(&rep, |x| matches!(
        x,
        Finding::CloseCountMismatch { .. }
    )));
}

#[test]
fn reorder_entries() {
    let d = honest();
    let mut f = d.file.clone();
    let (a, b) = (ballot_record(&f, 8), ballot_record(&f, 9));
    f[ballot_at(8)..ballot_at(9)].copy_from_slice(&b);
    f[ballot_at(9)..ballot_at(10)].copy_from_slice(&a);
    let rep = check(&f, Some(&head(&d)));
    for (entry, found) in [(8, 9), (9, 8)] {
        assert!(has(
            &rep,
            |x| matches!(x, Finding::SequenceMismatch { entry: e, found: s, .. }
            if *e == Seq(entry) && *s == Seq(found))
        ));
    }
    for entry in [8, 9, 10] {
        assert!(
            has(
                &rep,
                |x| matches!(x, Finding::BrokenLink { entry: e, .. } if *e == Seq(entry))
            ),
            "{:?}",
            rep.findings
        );
    }
    // Same multiset of ballots: totals still add up, but the head does not.
    assert!(!has(&rep, |x| matches!(
        x,
        Finding::CloseTotalsMismatch { .. }
    )));
    assert!(has(&rep, |x| matches!(x, Finding::HeadMismatch { .. })));
}

#[test]
fn truncate_tail() {
    let d = honest();
    // At a record boundary (close and last 5 ballots gone) …
    let f = &d.file[..ballot_at(N - 4)];
    let rep = check(f, None);
    assert_eq!(
        rep.findings,
        vec![Finding::MissingClose {
            offset: ballot_at(N - 4) as u64,
            after: Some(Seq(N as u64 - 5))
        }]
    );
    let rep = check(f, Some(&head(&d)));
    assert!(has(&rep, |x| *x
        == Finding::HeadMismatch {
            published: d.closed.head,
            computed: None
        }));
    assert!(has(&rep, |x| matches!(
        x,
        Finding::PublishedCountMismatch {
            published: 40,
            found: 35
        }
    )));
    // … and inside a record.
    let cut = ballot_at(N - 4) + 20;
    let rep = check(&d.file[..cut], None);
    assert_eq!(
        rep.findings,
        vec![Finding::Truncated {
            offset: ballot_at(N - 4) as u64,
            what: "ballot record",
            expected: BALLOT_RECORD_LEN as u64,
            found: 20,
            after: Some(Seq(N as u64 - 5))
        }]
    );
}

#[test]
fn truncate_and_reseal_with_fresh_close() {
    let d = honest();
    // The forger drops the last 6 ballots and closes the chain anew: consistent by itself.
    let g = genesis();
    let resealed = run_day(&g, (0..N - 6).map(choice));
    assert!(check(&resealed.file, None).is_clean());
    let rep = check(&resealed.file, Some(&head(&d)));
    assert!(has(&rep, |x| matches!(x, Finding::HeadMismatch { .. })));
    assert!(has(&rep, |x| matches!(
        x,
        Finding::PublishedCountMismatch {
            published: 40,
            found: 34
        }
    )));
    // Receipts of the dropped voters are not found; earlier ones still are.
    let rep = verify_with_receipts(&resealed.file[..], None, &d.receipts[N - 6..]).unwrap();
    assert_eq!(
        rep.findings
            .iter()
            .filter(|x| matches!(x, Finding::ReceiptNotFound { .. }))
            .count(),
        6
    );
    assert!(
        verify_with_receipts(&resealed.file[..], None, &d.receipts[..N - 6])
            .unwrap()
            .is_clean()
    );
}

#[test]
fn rewrite_from_entry_i_and_recompute() {
    let d = honest();
    const I: usize = 25;
    // Ballots I.. are flipped to list 0, every later hash, the totals and the close recomputed.
    let forged = run_day(
        &genesis(),
        (0..N).map(|k| {
            if k + 1 >= I {
                BallotChoice::new(0, 0)
            } else {
                choice(k)
            }
        }),
    );
    assert_ne!(forged.file, d.file);
    // The ledger alone cannot tell.
    assert!(check(&forged.file, None).is_clean());
    // The published head can.
    let rep = check(&forged.file, Some(&head(&d)));
    assert_eq!(
        rep.findings,
        vec![Finding::HeadMismatch {
            published: d.closed.head,
            computed: Some(forged.closed.head)
        }]
    );
    // So can any receipt of a voter at or after I — but none before I.
    let later = d.receipts[I - 1 + 7];
    let rep = verify_with_receipts(&forged.file[..], None, &[later]).unwrap();
    assert_eq!(
        rep.findings,
        vec![Finding::ReceiptNotFound { receipt: later }]
    );
    let rep = verify_with_receipts(&forged.file[..], None, &d.receipts[..I - 1]).unwrap();
    assert!(
        rep.is_clean(),
        "receipts before the rewrite must still match"
    );
}

#[test]
fn forged_head() {
    let d = honest();
    // An honest ledger checked against a falsified published head.
    let mut fake = head(&d);
    fake.head.0[31] ^= 0x80;
    let rep = check(&d.file, Some(&fake));
    assert_eq!(
        rep.findings,
        vec![Finding::HeadMismatch {
            published: fake.head,
            computed: Some(d.closed.head)
        }]
    );
    // A rewritten ledger with a head forged to match it: only a voter's receipt catches that.
    let forged = run_day(&genesis(), (0..N).map(|_| BallotChoice::new(1, 1)));
    let forged_head = forged.closed.published_head();
    assert!(check(&forged.file, Some(&forged_head)).is_clean());
    let rep =
        verify_with_receipts(&forged.file[..], Some(&forged_head), &d.receipts[30..31]).unwrap();
    assert_eq!(
        rep.findings,
        vec![Finding::ReceiptNotFound {
            receipt: d.receipts[30]
        }]
    );
}

#[test]
fn close_totals_altered_and_rehashed() {
    let d = honest();
    let mut f = d.file.clone();
    let at = close_at();
    let len = close_record_len(N_LISTS, N_CANDIDATES);
    assert_eq!(at + len, f.len());
    // Move 5 votes from list 1 to list 0 in the close record and rehash it.
    let list0 = at + 9 + 11;
    let read = |f: &[u8], o: usize| u64::from_be_bytes(f[o..o + 8].try_into().unwrap());
    let (l0, l1) = (read(&f, list0), read(&f, list0 + 8));
    f[list0..list0 + 8].copy_from_slice(&(l0 + 5).to_be_bytes());
    f[list0 + 8..list0 + 16].copy_from_slice(&(l1 - 5).to_be_bytes());
    let prev = stored_hash_before(&f, at);
    rehash(&mut f[at..], &prev);
    let rep = check(&f, Some(&head(&d)));
    assert!(!has(&rep, |x| matches!(x, Finding::BrokenLink { .. })));
    assert!(has(
        &rep,
        |x| matches!(x, Finding::CloseTotalsMismatch { column, recorded, recounted, .. }
        if *column == TotalColumn::List(0) && *recorded == l0 + 5 && *recounted == l0)
    ));
    assert!(has(&rep, |x| matches!(x, Finding::HeadMismatch { .. })));
}

#[test]
fn append_garbage() {
    let d = honest();
    let mut f = d.file.clone();
    f.extend_from_slice(b"\x42garbage");
    let rep = check(&f, Some(&head(&d)));
    assert_eq!(
        rep.findings,
        vec![Finding::TrailingData {
            offset: d.file.len() as u64,
            len: 8
        }]
    );
}

#[test]
fn ledger_of_another_machine_substituted() {
    let d = honest();
    let mut other_g = genesis();
    other_g.machine = 2;
    let other = run_day(&other_g, (0..N).map(choice));
    let rep = check(&other.file, Some(&head(&d)));
    assert!(has(&rep, |x| *x
        == Finding::MachineMismatch {
            published: (412, 1),
            found: (412, 2)
        }));
    assert!(has(&rep, |x| matches!(x, Finding::HeadMismatch { .. })));
}

#[test]
fn genesis_replaced_with_another_launch_code() {
    let d = honest();
    // A whole alternative history computed with a different launch code (e.g. prepared before
    // the real code was announced): consistent, but not the published chain.
    let mut g = genesis();
    g.launch_code = *b"precomputed-fake";
    let alt = run_day(&g, (0..N).map(choice));
    assert!(check(&alt.file, None).is_clean());
    let rep = check(&alt.file, Some(&head(&d)));
    assert_eq!(rep.findings.len(), 1);
    assert!(matches!(rep.findings[0], Finding::HeadMismatch { .. }));
    // Every voter's receipt fails against it.
    let rep = verify_with_receipts(&alt.file[..], None, &d.receipts).unwrap();
    assert_eq!(rep.receipts_found, 0);
}

#[test]
fn stored_hash_overwritten() {
    let d = honest();
    let mut f = d.file.clone();
    let end = ballot_at(12) + BALLOT_RECORD_LEN;
    f[end - 1] ^= 0xff;
    let rep = check(&f, None);
    // Ballot 12's link fails, and ballot 13's (which chains onto the altered stored value).
    let broken: Vec<Seq> = rep
        .findings
        .iter()
        .filter_map(|x| match x {
            Finding::BrokenLink { entry, .. } => Some(*entry),
            _ => None,
        })
        .collect();
    assert_eq!(broken, vec![Seq(12), Seq(13)]);
    // The content is intact, so the recomputed chain still reaches the published head.
    assert!(!has(&check(&f, Some(&head(&d))), |x| matches!(
        x,
        Finding::HeadMismatch { .. }
    )));
}
