//! Inline appends on the disk log: written and synced on the calling thread when the writer is
//! idle, queued behind the writer's group when it is busy, in order either way.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use swarm_store::storage::disk::{DiskLogOptions, DiskLogStorage};
use swarm_store::storage::{AppendTicket, LogRecord, LogStorage};

fn record(index: u64) -> LogRecord {
    LogRecord {
        index,
        term: 1,
        payload: vec![index as u8; 64].into(),
    }
}

fn resolved(ticket: &mut AppendTicket) -> bool {
    let mut cx = Context::from_waker(Waker::noop());
    matches!(Pin::new(ticket).poll(&mut cx), Poll::Ready(Ok(())))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_inline_append_on_an_idle_log_is_durable_when_it_returns() {
    let dir = tempfile::tempdir().expect("tmp");
    let log = DiskLogStorage::open(dir.path(), DiskLogOptions::default()).expect("open");
    for i in 1..=20 {
        let mut ticket = log.append_inline(vec![record(i)]).await.expect("append");
        assert!(resolved(&mut ticket), "append {i}: the writer was idle");
        assert_eq!(log.stats().syncs, i, "one sync per inline append");
    }
    drop(log);
    let log = DiskLogStorage::open(dir.path(), DiskLogOptions::default()).expect("reopen");
    let got = log.read(1..=20).await.expect("read");
    assert_eq!(got.len(), 20);
    assert!(
        got.iter()
            .zip(1..)
            .all(|(r, i)| r.index == i && r.payload[0] == i as u8)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inline_appends_behind_queued_ones_stay_in_order() {
    let dir = tempfile::tempdir().expect("tmp");
    let log = DiskLogStorage::open(dir.path(), DiskLogOptions::default()).expect("open");
    let (tx, rx) = std::sync::mpsc::channel::<u64>();
    let mut next = 1;
    for round in 0..200u64 {
        // A queued append keeps the writer busy for a moment; the inline one right behind it
        // must either wait its turn in the queue or find the writer idle: never overtake.
        for inline in [false, true] {
            let records = vec![record(next), record(next + 1)];
            let ticket = if inline || round % 7 == 0 {
                log.append_inline(records).await
            } else {
                log.append(records).await
            }
            .expect("append");
            let tx = tx.clone();
            let first = next;
            if ticket
                .try_on_durable(move |r| {
                    r.expect("durable");
                    let _ = tx.send(first);
                })
                .is_err()
            {
                panic!("disk tickets take callbacks");
            }
            next += 2;
        }
    }
    drop(tx);
    let order: Vec<u64> = rx.iter().collect();
    let want: Vec<u64> = (0..400).map(|k| 1 + 2 * k).collect();
    assert_eq!(order, want, "durability reported out of order");
    drop(log);
    let log = DiskLogStorage::open(dir.path(), DiskLogOptions::default()).expect("reopen");
    assert_eq!(log.read(1..=800).await.expect("read").len(), 800);
}
