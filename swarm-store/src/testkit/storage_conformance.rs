//! Conformance suites for [`LogStorage`] and [`SnapshotStore`] implementations.
//!
//! Each suite checks every numbered rule of its trait's contract and panics with the rule's
//! number and what went wrong at the first violation, so it is meant to run inside a test. A
//! suite takes a factory that opens storage: [`Open::Fresh`] asks for a new, empty storage;
//! [`Open::Reopen`] hands back a storage the suite is done with and asks for the same storage
//! opened again, as after a restart (a disk implementation drops the handle and opens the same
//! directory; an in-memory one returns a clone).
//!
//! ```
//! use swarm_store::testkit::storage_conformance::{Open, run_log_storage_suite};
//! use swarm_store::storage::{MemLogStorage, StorageError};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! run_log_storage_suite(|open: Open<MemLogStorage>| async move {
//!     Ok::<_, StorageError>(match open {
//!         Open::Fresh => MemLogStorage::new(),
//!         Open::Reopen(same) => same,
//!     })
//! })
//! .await;
//! # }
//! ```

use crate::storage::SnapshotStore;
use crate::storage::StorageError;
use crate::storage::{AppendTicket, LogStorage};
use crate::storage::{LogPosition, LogRecord, LogState, StoredSnapshot};
use bytes::Bytes;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

/// What a suite asks its factory for.
#[derive(Debug)]
pub enum Open<S> {
    /// A new, empty storage.
    Fresh,
    /// The same storage again, as after a restart. The suite no longer uses the value it
    /// hands over.
    Reopen(S),
}

/// Records appended by the many-records check.
const MANY_RECORDS: u64 = 1500;
/// Records per append call in the many-records check.
const MANY_BATCH: u64 = 50;

fn ok<T>(result: Result<T, StorageError>, what: &str) -> T {
    match result {
        Ok(value) => value,
        Err(e) => panic!("storage conformance: {what} failed: {e}"),
    }
}

fn pos(term: u64, index: u64) -> LogPosition {
    LogPosition { term, index }
}

/// A payload whose bytes depend on the position, with varied sizes (some empty, some large).
pub fn test_payload(index: u64, term: u64) -> Bytes {
    let len = match index % 97 {
        0 => 0,
        1 => 70_000,
        n => ((n * 37 + term * 11) % 700) as usize,
    };
    let mut state =
        index.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ term.wrapping_mul(0xD1B5_4A32_D192_ED03) | 1;
    let mut out = Vec::with_capacity(len);
    while out.len() < len {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.push(state as u8);
    }
    out.into()
}

fn rec(index: u64, term: u64) -> LogRecord {
    LogRecord {
        index,
        term,
        payload: test_payload(index, term),
    }
}

fn recs(indices: std::ops::RangeInclusive<u64>, term: u64) -> Vec<LogRecord> {
    indices.map(|i| rec(i, term)).collect()
}

fn poll_now(ticket: &mut AppendTicket) -> Poll<Result<(), StorageError>> {
    let mut cx = Context::from_waker(Waker::noop());
    Pin::new(ticket).poll(&mut cx)
}

async fn fresh<S, F, Fut>(open: &mut F) -> S
where
    S: LogStorage,
    F: FnMut(Open<S>) -> Fut,
    Fut: Future<Output = Result<S, StorageError>>,
{
    let log = ok(open(Open::Fresh).await, "opening a fresh log");
    let state = ok(log.state().await, "state of a fresh log");
    assert_eq!(state, LogState::default(), "a fresh log must be empty");
    log
}

async fn reopen<S, F, Fut>(open: &mut F, log: S) -> S
where
    S: LogStorage,
    F: FnMut(Open<S>) -> Fut,
    Fut: Future<Output = Result<S, StorageError>>,
{
    ok(open(Open::Reopen(log)).await, "reopening the log")
}

async fn append_durable<S: LogStorage>(log: &S, records: Vec<LogRecord>, what: &str) {
    let ticket = ok(log.append(records).await, what);
    ok(ticket.await, what);
}

async fn expect_records<S: LogStorage>(
    log: &S,
    range: std::ops::RangeInclusive<u64>,
    want: &[LogRecord],
    rule: &str,
) {
    let got = ok(log.read(range.clone()).await, rule);
    let got_ids: Vec<(u64, u64)> = got.iter().map(|r| (r.index, r.term)).collect();
    let want_ids: Vec<(u64, u64)> = want.iter().map(|r| (r.index, r.term)).collect();
    assert_eq!(
        got_ids, want_ids,
        "{rule}: read({range:?}) returned the wrong records"
    );
    for (g, w) in got.iter().zip(want) {
        assert!(
            g.payload == w.payload,
            "{rule}: record {} has the wrong payload ({} bytes, want {})",
            g.index,
            g.payload.len(),
            w.payload.len()
        );
    }
}

fn expect_contract<T>(result: Result<T, StorageError>, rule: &str) {
    match result {
        Err(StorageError::Contract(_)) => {}
        Err(e) => panic!("{rule}: expected StorageError::Contract, got {e}"),
        Ok(_) => panic!("{rule}: expected StorageError::Contract, the call succeeded"),
    }
}

/// Runs every check of the [`LogStorage`] contract against storage made by `open`.
///
/// # Panics
/// At the first violation, naming the rule.
pub async fn run_log_storage_suite<S, F, Fut>(open: F)
where
    S: LogStorage,
    F: FnMut(Open<S>) -> Fut,
    Fut: Future<Output = Result<S, StorageError>>,
{
    let mut h = open;
    check_order(&mut h).await;
    check_visibility_and_durability(&mut h).await;
    check_durable_callbacks(&mut h).await;
    check_inline_appends(&mut h).await;
    check_truncate(&mut h).await;
    check_purge(&mut h).await;
    check_vote(&mut h).await;
    check_committed(&mut h).await;
    check_reads(&mut h).await;
    check_many_records(&mut h).await;
}

async fn check_order<S, F, Fut>(h: &mut F)
where
    S: LogStorage,
    F: FnMut(Open<S>) -> Fut,
    Fut: Future<Output = Result<S, StorageError>>,
{
    let rule = "rule 1 (order)";
    let log = fresh(h).await;
    append_durable(&log, recs(1..=3, 1), rule).await;
    expect_contract(
        log.append(vec![rec(5, 1)]).await,
        &format!("{rule}: gap after 3"),
    );
    expect_contract(
        log.append(vec![rec(3, 1)]).await,
        &format!("{rule}: index 3 again"),
    );
    expect_contract(
        log.append(vec![rec(2, 1)]).await,
        &format!("{rule}: index below last"),
    );
    expect_contract(
        log.append(vec![rec(4, 1), rec(6, 1)]).await,
        &format!("{rule}: gap inside a batch"),
    );
    expect_contract(
        log.append(vec![rec(4, 1), rec(4, 1)]).await,
        &format!("{rule}: repeat inside a batch"),
    );
    assert_eq!(
        ok(log.state().await, rule).last,
        Some(pos(1, 3)),
        "{rule}: a rejected append changed the log"
    );
    expect_records(&log, 1..=10, &recs(1..=3, 1), rule).await;
    append_durable(&log, Vec::new(), &format!("{rule}: empty append")).await;
    append_durable(&log, recs(4..=5, 2), rule).await;
    let mut want = recs(1..=3, 1);
    want.extend(recs(4..=5, 2));
    expect_records(&log, 1..=10, &want, rule).await;
    let log = reopen(h, log).await;
    expect_contract(
        log.append(vec![rec(7, 2)]).await,
        &format!("{rule}: gap after a restart"),
    );
    append_durable(&log, vec![rec(6, 2)], rule).await;
    drop(log);

    // A log may start at any index (Raft layers start at 0 or 1).
    let log = fresh(h).await;
    append_durable(&log, recs(0..=1, 0), &format!("{rule}: start at index 0")).await;
    assert_eq!(ok(log.state().await, rule).last, Some(pos(0, 1)), "{rule}");
    drop(log);

    // The end of the index space is an error, not an overflow.
    let log = fresh(h).await;
    append_durable(&log, vec![rec(u64::MAX - 1, 1)], rule).await;
    expect_contract(
        log.append(vec![rec(u64::MAX, 1)]).await,
        &format!("{rule}: index u64::MAX"),
    );
    ok(log.purge(pos(1, u64::MAX)).await, rule);
    expect_contract(
        log.append(vec![rec(u64::MAX, 1)]).await,
        &format!("{rule}: index u64::MAX after a purge"),
    );
}

async fn check_visibility_and_durability<S, F, Fut>(h: &mut F)
where
    S: LogStorage,
    F: FnMut(Open<S>) -> Fut,
    Fut: Future<Output = Result<S, StorageError>>,
{
    let rule2 = "rule 2 (visibility)";
    let rule3 = "rule 3 (durability)";
    let log = fresh(h).await;
    let mut tickets = Vec::new();
    let mut want = Vec::new();
    for batch in 0..20u64 {
        let first = batch * 5 + 1;
        let records = recs(first..=first + 4, 1 + batch / 10);
        want.extend(records.iter().cloned());
        tickets.push(ok(log.append(records).await, rule2));
        // Visible before the ticket resolves.
        let state = ok(log.state().await, rule2);
        assert_eq!(
            state.last,
            want.last().map(LogRecord::position),
            "{rule2}: state() lags an append"
        );
        expect_records(&log, first..=first + 4, &want[want.len() - 5..], rule2).await;
    }
    expect_records(&log, 1..=100, &want, rule2).await;
    // Tickets resolve in call order: once the last one is Ok, all earlier ones are resolved.
    let mut last = tickets.pop().unwrap_or_else(|| AppendTicket::ready(Ok(())));
    ok((&mut last).await, rule3);
    for (i, ticket) in tickets.iter_mut().enumerate() {
        match poll_now(ticket) {
            Poll::Ready(Ok(())) => {}
            Poll::Ready(Err(e)) => panic!("{rule3}: ticket {i} failed: {e}"),
            Poll::Pending => {
                panic!("{rule3}: ticket {i} still pending after a later ticket resolved")
            }
        }
    }
    let log = reopen(h, log).await;
    expect_records(&log, 0..=200, &want, rule3).await;
    assert_eq!(
        ok(log.state().await, rule3),
        LogState {
            last_purged: None,
            last: Some(pos(2, 100))
        },
        "{rule3}: state after a restart"
    );
    // Appending after a restart continues the log; the records survive another restart.
    append_durable(&log, recs(101..=101, 3), rule3).await;
    want.push(rec(101, 3));
    let log = reopen(h, log).await;
    expect_records(&log, 0..=200, &want, rule3).await;
}

/// Rule 3 through callbacks: a callback registered on each ticket before the next append runs
/// once, with `Ok`, in call order; a ticket that takes no callback is handed back intact.
async fn check_durable_callbacks<S, F, Fut>(h: &mut F)
where
    S: LogStorage,
    F: FnMut(Open<S>) -> Fut,
    Fut: Future<Output = Result<S, StorageError>>,
{
    let rule3 = "rule 3 (durability callbacks run in call order)";
    let log = fresh(h).await;
    let (tx, rx) = std::sync::mpsc::channel::<(u64, bool)>();
    let mut awaited = Vec::new();
    for batch in 0..40u64 {
        let first = batch * 3 + 1;
        let ticket = ok(log.append(recs(first..=first + 2, 1)).await, rule3);
        let tx = tx.clone();
        if let Err((ticket, callback)) = ticket.try_on_durable(move |r| {
            let _ = tx.send((batch, r.is_ok()));
        }) {
            // This storage's tickets take no callback: await them in order instead.
            awaited.push((ticket, callback));
        }
    }
    drop(tx);
    for (ticket, callback) in awaited {
        callback(ticket.await);
    }
    // Every callback has run or will run once the storage syncs: wait for all of them.
    let seen: Vec<(u64, bool)> = rx.iter().collect();
    let want: Vec<(u64, bool)> = (0..40).map(|b| (b, true)).collect();
    assert_eq!(
        seen, want,
        "{rule3}: callbacks out of order, missing or failed"
    );
    let log = reopen(h, log).await;
    let want_records = recs(1..=120, 1);
    expect_records(&log, 1..=120, &want_records, rule3).await;
}

/// Rules 1–3 through [`LogStorage::append_inline`] mixed with `append`: the same order checks,
/// records visible on return, callbacks in call order whichever call made each ticket, and
/// every acknowledged record back after a reopen; a truncation queued between them too.
async fn check_inline_appends<S, F, Fut>(h: &mut F)
where
    S: LogStorage,
    F: FnMut(Open<S>) -> Fut,
    Fut: Future<Output = Result<S, StorageError>>,
{
    let rule = "rules 1-3 (append_inline mixed with append)";
    let log = fresh(h).await;
    let (tx, rx) = std::sync::mpsc::channel::<(u64, bool)>();
    let mut awaited = Vec::new();
    for batch in 0..60u64 {
        let first = batch * 2 + 1;
        let records = recs(first..=first + 1, 1);
        // Runs of inline appends, runs of queued ones, and alternation.
        let inline = (batch / 5) % 2 == 0 || batch % 3 == 0;
        let ticket = if inline {
            ok(log.append_inline(records).await, rule)
        } else {
            ok(log.append(records).await, rule)
        };
        let state = ok(log.state().await, rule);
        assert_eq!(
            state.last,
            Some(pos(1, first + 1)),
            "{rule}: state() lags an append"
        );
        let tx = tx.clone();
        if let Err((ticket, callback)) = ticket.try_on_durable(move |r| {
            let _ = tx.send((batch, r.is_ok()));
        }) {
            awaited.push((ticket, callback));
        }
    }
    drop(tx);
    for (ticket, callback) in awaited {
        callback(ticket.await);
    }
    let seen: Vec<(u64, bool)> = rx.iter().collect();
    let want: Vec<(u64, bool)> = (0..60).map(|b| (b, true)).collect();
    assert_eq!(
        seen, want,
        "{rule}: callbacks out of order, missing or failed"
    );
    expect_contract(
        log.append_inline(vec![rec(200, 1)]).await,
        &format!("{rule}: an inline append with a gap"),
    );
    expect_contract(
        log.append_inline(vec![rec(120, 1)]).await,
        &format!("{rule}: an inline append below the last record"),
    );
    ok(log.truncate(100).await, rule);
    let ticket = ok(log.append_inline(recs(100..=101, 2)).await, rule);
    ok(ticket.await, rule);
    let log = reopen(h, log).await;
    let mut want_records = recs(1..=99, 1);
    want_records.extend(recs(100..=101, 2));
    expect_records(&log, 1..=130, &want_records, rule).await;
    let empty = ok(log.append_inline(Vec::new()).await, rule);
    ok(empty.await, &format!("{rule}: empty inline append"));
}

async fn check_truncate<S, F, Fut>(h: &mut F)
where
    S: LogStorage,
    F: FnMut(Open<S>) -> Fut,
    Fut: Future<Output = Result<S, StorageError>>,
{
    let rule = "rule 4 (truncate)";
    let log = fresh(h).await;
    append_durable(&log, recs(1..=10, 1), rule).await;
    ok(log.truncate(6).await, rule);
    expect_records(&log, 1..=10, &recs(1..=5, 1), rule).await;
    assert_eq!(
        ok(log.state().await, rule).last,
        Some(pos(1, 5)),
        "{rule}: state after truncate"
    );
    expect_contract(
        log.append(vec![rec(7, 2)]).await,
        &format!("{rule}: append must follow the new last"),
    );
    append_durable(&log, recs(6..=8, 2), rule).await;
    ok(
        log.truncate(100).await,
        &format!("{rule}: truncate beyond the last record"),
    );
    let mut want = recs(1..=5, 1);
    want.extend(recs(6..=8, 2));
    expect_records(&log, 1..=20, &want, rule).await;
    let log = reopen(h, log).await;
    expect_records(&log, 1..=20, &want, &format!("{rule}: after a restart")).await;

    // Truncating records whose append is not durable yet.
    let ticket = ok(log.append(recs(9..=12, 3)).await, rule);
    ok(log.truncate(10).await, rule);
    ok(ticket.await, rule);
    want.push(rec(9, 3));
    expect_records(&log, 1..=20, &want, rule).await;
    let log = reopen(h, log).await;
    expect_records(
        &log,
        1..=20,
        &want,
        &format!("{rule}: truncated pending records came back"),
    )
    .await;

    // Truncating everything leaves an empty log that may restart anywhere.
    ok(log.truncate(1).await, rule);
    assert_eq!(
        ok(log.state().await, rule),
        LogState::default(),
        "{rule}: empty after truncate(first)"
    );
    let log = reopen(h, log).await;
    assert_eq!(
        ok(log.state().await, rule),
        LogState::default(),
        "{rule}: empty after a restart"
    );
    append_durable(&log, recs(3..=4, 4), rule).await;
    let log = reopen(h, log).await;
    expect_records(&log, 0..=20, &recs(3..=4, 4), rule).await;
}

async fn check_purge<S, F, Fut>(h: &mut F)
where
    S: LogStorage,
    F: FnMut(Open<S>) -> Fut,
    Fut: Future<Output = Result<S, StorageError>>,
{
    let rule = "rule 5 (purge)";
    // A log that starts at 5 cannot take a purge point of 2: entries 3 and 4 would be a hole.
    let log = fresh(h).await;
    append_durable(&log, recs(5..=6, 1), rule).await;
    expect_contract(log.purge(pos(1, 2)).await, rule);
    assert_eq!(
        ok(log.state().await, rule).last_purged,
        None,
        "{rule}: a refused purge changed the purge point"
    );
    ok(log.purge(pos(1, 4)).await, rule); // right before the first record: fine
    drop(log);
    let log = fresh(h).await;
    append_durable(&log, recs(1..=10, 1), rule).await;
    ok(log.purge(pos(1, 4)).await, rule);
    let state = LogState {
        last_purged: Some(pos(1, 4)),
        last: Some(pos(1, 10)),
    };
    assert_eq!(
        ok(log.state().await, rule),
        state,
        "{rule}: state after purge"
    );
    expect_records(&log, 1..=10, &recs(5..=10, 1), rule).await;
    let log = reopen(h, log).await;
    assert_eq!(
        ok(log.state().await, rule),
        state,
        "{rule}: state after a restart"
    );
    expect_records(&log, 1..=10, &recs(5..=10, 1), rule).await;
    // The purge point never moves back.
    ok(log.purge(pos(1, 2)).await, rule);
    assert_eq!(
        ok(log.state().await, rule),
        state,
        "{rule}: a lower purge moved the purge point back"
    );
    // Purging beyond the last record empties the log; appends continue after the purge point.
    ok(log.purge(pos(3, 20)).await, rule);
    let state = LogState {
        last_purged: Some(pos(3, 20)),
        last: Some(pos(3, 20)),
    };
    assert_eq!(
        ok(log.state().await, rule),
        state,
        "{rule}: purge beyond the last record"
    );
    expect_records(&log, 0..=30, &[], rule).await;
    expect_contract(
        log.append(vec![rec(11, 3)]).await,
        &format!("{rule}: append below the purge point"),
    );
    expect_contract(
        log.append(vec![rec(22, 3)]).await,
        &format!("{rule}: append with a gap after the purge point"),
    );
    let log = reopen(h, log).await;
    assert_eq!(
        ok(log.state().await, rule),
        state,
        "{rule}: empty purged log after a restart"
    );
    append_durable(&log, recs(21..=23, 3), rule).await;
    let log = reopen(h, log).await;
    assert_eq!(
        ok(log.state().await, rule),
        LogState {
            last_purged: Some(pos(3, 20)),
            last: Some(pos(3, 23))
        },
        "{rule}: state after appending past the purge point and restarting"
    );
    expect_records(&log, 0..=30, &recs(21..=23, 3), rule).await;
    // Purging exactly the last record.
    ok(log.purge(pos(3, 23)).await, rule);
    expect_records(&log, 0..=30, &[], rule).await;
    let log = reopen(h, log).await;
    assert_eq!(
        ok(log.state().await, rule),
        LogState {
            last_purged: Some(pos(3, 23)),
            last: Some(pos(3, 23))
        },
        "{rule}: purge of the last record after a restart"
    );
}

async fn check_vote<S, F, Fut>(h: &mut F)
where
    S: LogStorage,
    F: FnMut(Open<S>) -> Fut,
    Fut: Future<Output = Result<S, StorageError>>,
{
    let rule = "rule 6 (vote)";
    let log = fresh(h).await;
    assert_eq!(
        ok(log.read_vote().await, rule),
        None,
        "{rule}: a fresh log has no vote"
    );
    ok(log.save_vote(b"term 1 for node a").await, rule);
    assert_eq!(
        ok(log.read_vote().await, rule).as_deref(),
        Some(&b"term 1 for node a"[..]),
        "{rule}"
    );
    ok(log.save_vote(b"term 2 for node b, committed").await, rule);
    let log = reopen(h, log).await;
    assert_eq!(
        ok(log.read_vote().await, rule).as_deref(),
        Some(&b"term 2 for node b, committed"[..]),
        "{rule}: the last saved vote after a restart"
    );
    ok(log.save_vote(b"").await, rule);
    let log = reopen(h, log).await;
    assert_eq!(
        ok(log.read_vote().await, rule).as_deref(),
        Some(&b""[..]),
        "{rule}: an empty vote is a vote"
    );
}

async fn check_committed<S, F, Fut>(h: &mut F)
where
    S: LogStorage,
    F: FnMut(Open<S>) -> Fut,
    Fut: Future<Output = Result<S, StorageError>>,
{
    let rule = "rule 7 (committed)";
    let log = fresh(h).await;
    assert_eq!(
        ok(log.read_committed().await, rule),
        None,
        "{rule}: a fresh log has no committed position"
    );
    append_durable(&log, recs(1..=5, 1), rule).await;
    ok(log.save_committed(Some(pos(1, 2))).await, rule);
    assert_eq!(
        ok(log.read_committed().await, rule),
        Some(pos(1, 2)),
        "{rule}"
    );
    ok(log.save_committed(Some(pos(1, 4))).await, rule);
    assert_eq!(
        ok(log.read_committed().await, rule),
        Some(pos(1, 4)),
        "{rule}"
    );
    append_durable(&log, recs(6..=6, 1), rule).await;
    ok(log.save_vote(b"v").await, rule);
    let log = reopen(h, log).await;
    let back = ok(log.read_committed().await, rule);
    assert!(
        [None, Some(pos(1, 2)), Some(pos(1, 4))].contains(&back),
        "{rule}: read back {back:?}, which was never saved"
    );
}

async fn check_reads<S, F, Fut>(h: &mut F)
where
    S: LogStorage,
    F: FnMut(Open<S>) -> Fut,
    Fut: Future<Output = Result<S, StorageError>>,
{
    let rule = "reads across purged ranges";
    let log = fresh(h).await;
    append_durable(&log, recs(1..=20, 2), rule).await;
    ok(log.purge(pos(2, 5)).await, rule);
    expect_records(&log, 0..=u64::MAX, &recs(6..=20, 2), rule).await;
    expect_records(&log, 3..=7, &recs(6..=7, 2), rule).await;
    expect_records(&log, 15..=30, &recs(15..=20, 2), rule).await;
    expect_records(&log, 21..=30, &[], rule).await;
    expect_records(&log, 1..=5, &[], rule).await;
    expect_records(&log, 6..=6, &recs(6..=6, 2), rule).await;
    let (start, end) = (10, 9);
    expect_records(&log, start..=end, &[], rule).await;
    let log = reopen(h, log).await;
    expect_records(&log, 0..=u64::MAX, &recs(6..=20, 2), rule).await;
    expect_records(&log, 3..=7, &recs(6..=7, 2), rule).await;
}

async fn check_many_records<S, F, Fut>(h: &mut F)
where
    S: LogStorage,
    F: FnMut(Open<S>) -> Fut,
    Fut: Future<Output = Result<S, StorageError>>,
{
    let rule = "many records (restart, purge, truncate)";
    let log = fresh(h).await;
    let mut tickets = Vec::new();
    for first in (1..=MANY_RECORDS).step_by(MANY_BATCH as usize) {
        tickets.push(ok(
            log.append(recs(first..=first + MANY_BATCH - 1, 1)).await,
            rule,
        ));
    }
    for t in tickets {
        ok(t.await, rule);
    }
    let all = recs(1..=MANY_RECORDS, 1);
    expect_records(&log, 1..=MANY_RECORDS, &all, rule).await;
    let log = reopen(h, log).await;
    expect_records(&log, 1..=MANY_RECORDS, &all, rule).await;
    let half = MANY_RECORDS / 2;
    ok(log.purge(pos(1, half)).await, rule);
    ok(log.truncate(MANY_RECORDS - 10).await, rule);
    append_durable(&log, recs(MANY_RECORDS - 10..=MANY_RECORDS + 100, 2), rule).await;
    let mut want = recs(half + 1..=MANY_RECORDS - 11, 1);
    want.extend(recs(MANY_RECORDS - 10..=MANY_RECORDS + 100, 2));
    expect_records(&log, 0..=u64::MAX, &want, rule).await;
    let log = reopen(h, log).await;
    expect_records(&log, 0..=u64::MAX, &want, rule).await;
    assert_eq!(
        ok(log.state().await, rule),
        LogState {
            last_purged: Some(pos(1, half)),
            last: Some(pos(2, MANY_RECORDS + 100))
        },
        "{rule}: state after a restart"
    );
}

/// Runs every check of the [`SnapshotStore`] contract against stores made by `open`.
///
/// # Panics
/// At the first violation.
pub async fn run_snapshot_store_suite<S, F, Fut>(mut open: F)
where
    S: SnapshotStore,
    F: FnMut(Open<S>) -> Fut,
    Fut: Future<Output = Result<S, StorageError>>,
{
    let what = "snapshot store";
    let store = ok(open(Open::Fresh).await, what);
    assert_eq!(
        ok(store.load().await, what),
        None,
        "{what}: a fresh store has no snapshot"
    );
    let first = StoredSnapshot {
        meta: Bytes::from_static(b"meta 1"),
        data: Bytes::from_static(b"data 1"),
    };
    ok(store.save(first.clone()).await, what);
    assert_eq!(
        ok(store.load().await, what),
        Some(first.clone()),
        "{what}: load returns what was saved"
    );
    let store = ok(open(Open::Reopen(store)).await, what);
    assert_eq!(
        ok(store.load().await, what),
        Some(first),
        "{what}: durable when save returned"
    );
    let big: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    let second = StoredSnapshot {
        meta: Bytes::from_static(b"meta 2"),
        data: big.into(),
    };
    ok(store.save(second.clone()).await, what);
    assert_eq!(
        ok(store.load().await, what),
        Some(second.clone()),
        "{what}: save replaces"
    );
    let store = ok(open(Open::Reopen(store)).await, what);
    assert_eq!(
        ok(store.load().await, what),
        Some(second),
        "{what}: the replacement is durable"
    );
    let empty = StoredSnapshot {
        meta: Bytes::new(),
        data: Bytes::new(),
    };
    ok(store.save(empty.clone()).await, what);
    let store = ok(open(Open::Reopen(store)).await, what);
    assert_eq!(
        ok(store.load().await, what),
        Some(empty),
        "{what}: empty meta and data round-trip"
    );
}
