//! A replication stream's AppendEntries, pipelined: each request goes out as openraft makes
//! it, up to `StoreConfig::max_appends_in_flight` unanswered, instead of one round trip at a
//! time.
//!
//! openraft's default (`stream_append_sequential`) waits for each response before it takes the
//! next request. After every commit the leader sends each follower an entry-less request
//! carrying the new commit index, so the entries of the next write waited behind that
//! request's round trip: one extra round trip per write at one write in flight.
//!
//! # Invariants
//! - Requests are sent in the order openraft made them, each created (and so given its
//!   transport request id and queued on the connection) before the next is taken; the
//!   transport writes a connection's requests in that order and the receiving member hands
//!   them to its Raft core in arrival order, so a follower sees them in order. Were one ever
//!   overtaken, the follower answers `Conflict` and openraft probes again: slower, not unsafe.
//! - Responses are yielded in request order, one per request.
//! - After an error, a conflict, a higher vote or a partial success the stream takes no more
//!   requests and ends once that response is yielded (openraft starts a new stream from what
//!   the follower acknowledged).
//! - An entry-less request that continues where the last one sent ended tells the follower only
//!   of a newer commit index. It is held for up to `StoreConfig::commit_notice_hold_ms`: a
//!   request with entries made meanwhile carries a commit index at least as new (openraft
//!   reads it when it makes each request), so the held one is dropped and the follower learns
//!   the commit with the next entries, one round trip fewer per write; otherwise it goes out
//!   when the hold ends (a millisecond tick later at most), or at once when openraft's stream
//!   ends. A follower thus learns of the last commit of a burst of writes up to that much
//!   later, and applies it as much later. A linearizable read on it does not wait for that under the
//!   `ReadIndex` policy: the leader confirms the read index with a heartbeat round, and the
//!   heartbeats carry the commit index. Under `Lease` it may.
//!
//! Measured (`store_bench --inflight 1 --no-reads`, with `--commit-notice-hold-ms 1` against
//! `0`; BENCHMARKS.md): on tmpfs 21–32 % less CPU per write and p50 0.142–0.147 against
//! 0.174–0.183 ms; no change at 64 and 256 in flight, where a request with entries follows
//! every commit anyway.
//! - A conflict at or below what this stream already reported matched is not reported: it
//!   means a request reached the follower before the one it follows (reordered, or
//!   duplicated and delivered late, as the fault-injecting network does), not that the
//!   follower lost entries. The stream ends there; openraft starts the next from the match,
//!   and a follower whose log really went back answers that one with the conflict.

use super::types::{C, LogId};
use futures::future::BoxFuture;
use futures::stream::{FuturesOrdered, Stream, StreamExt};
use openraft::errors::{NetworkError, RPCError};
use openraft::raft::{AppendEntriesRequest, AppendEntriesResponse, StreamAppendResult};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

/// One response of the stream: what openraft's replication reads.
pub(crate) type AppendOutcome = Result<StreamAppendResult<C>, RPCError<C>>;

/// A request's call to the follower: its answer, or why none came.
pub(crate) type AppendCall = BoxFuture<'static, Result<AppendEntriesResponse<C>, RPCError<C>>>;

/// A request sent and the log range it covered, `(prev, last]`.
struct Sent {
    prev: Option<LogId>,
    last: Option<LogId>,
    call: AppendCall,
}

impl Future for Sent {
    type Output = (
        Option<LogId>,
        Option<LogId>,
        Result<AppendEntriesResponse<C>, RPCError<C>>,
    );

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        this.call
            .as_mut()
            .poll(cx)
            .map(|result| (this.prev.take(), this.last.take(), result))
    }
}

/// The stream of responses to pipelined requests; see the module docs.
pub(crate) struct AppendPipeline<S, Send> {
    /// openraft's requests; `None` once it ended or the pipeline stopped taking more.
    input: Option<S>,
    send: Send,
    in_flight: FuturesOrdered<Sent>,
    limit: usize,
    /// Set once a response ended the stream.
    finished: bool,
    /// The highest match reported so far (`Some(None)`: matched before the first entry).
    matched: Option<Option<LogId>>,
    /// Where the last request sent ended (`Some(None)`: before the first entry); `None`
    /// before the first.
    sent_up_to: Option<Option<LogId>>,
    /// How long a commit notice is held; zero sends it at once.
    hold: Duration,
    /// The commit notice held.
    held: Option<AppendEntriesRequest<C>>,
    /// When the held notice's hold ends. One timer for the stream's life, pushed later for
    /// each notice held: tokio extends a registered timer without waking its driver, where a
    /// new one would wake it for every write.
    hold_timer: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl<S, Send> AppendPipeline<S, Send>
where
    S: Stream<Item = AppendEntriesRequest<C>> + Unpin,
    Send: FnMut(AppendEntriesRequest<C>) -> AppendCall,
{
    /// Sends each request of `input` with `send`, keeping at most `limit` (at least one)
    /// unanswered, and holding a commit notice for up to `hold` (module docs). A non-zero
    /// `hold` needs a tokio runtime with its timer.
    pub(crate) fn new(input: S, send: Send, limit: usize, hold: Duration) -> Self {
        AppendPipeline {
            input: Some(input),
            send,
            in_flight: FuturesOrdered::new(),
            limit: limit.max(1),
            finished: false,
            matched: None,
            sent_up_to: None,
            hold,
            held: None,
            hold_timer: None,
        }
    }

    /// Holds `notice`: a newer notice replaces the one held and keeps its end; otherwise the
    /// hold starts now.
    fn hold_notice(&mut self, notice: AppendEntriesRequest<C>) {
        if self.held.replace(notice).is_none() {
            let until = tokio::time::Instant::now() + self.hold;
            match &mut self.hold_timer {
                Some(timer) => timer.as_mut().reset(until),
                None => self.hold_timer = Some(Box::pin(tokio::time::sleep_until(until))),
            }
        }
    }

    fn send_now(&mut self, request: AppendEntriesRequest<C>) {
        let prev = request.prev_log_id;
        let last = request.entries.last().map(|entry| entry.log_id).or(prev);
        self.sent_up_to = Some(last);
        let call = (self.send)(request);
        self.in_flight.push_back(Sent { prev, last, call });
    }

    /// Whether `request` only tells of a commit: no entries, and it continues where the last
    /// request sent ended.
    fn is_commit_notice(&self, request: &AppendEntriesRequest<C>) -> bool {
        request.entries.is_empty() && self.sent_up_to == Some(request.prev_log_id)
    }
}

/// What openraft reads for the response to a request covering `(prev, last]` (`None`: nothing,
/// the stream just ends), and whether the stream goes on after it. `matched` is the highest
/// match this stream reported so far.
fn outcome(
    prev: Option<LogId>,
    last: Option<LogId>,
    response: Result<AppendEntriesResponse<C>, RPCError<C>>,
    matched: Option<Option<LogId>>,
) -> (Option<AppendOutcome>, bool) {
    use openraft::raft::StreamAppendError;
    match response {
        Ok(AppendEntriesResponse::Success) => (Some(Ok(Ok(last))), true),
        Ok(AppendEntriesResponse::PartialSuccess(matched)) => {
            let complete = matched == last;
            (Some(Ok(Ok(matched))), complete)
        }
        // Overtaken, not lost: see the module docs.
        Ok(AppendEntriesResponse::Conflict) if matched.is_some_and(|m| prev <= m) => (None, false),
        Ok(AppendEntriesResponse::Conflict) => match prev {
            Some(prev) => (Some(Ok(Err(StreamAppendError::Conflict(prev)))), false),
            // Nothing precedes the log's start, so nothing there can conflict: the follower
            // answered nonsense. Treated as a broken exchange, not obeyed.
            None => (
                Some(Err(RPCError::Network(NetworkError::from_string(
                    "follower reported a conflict before the first log entry".to_owned(),
                )))),
                false,
            ),
        },
        Ok(AppendEntriesResponse::HigherVote(vote)) => {
            (Some(Ok(Err(StreamAppendError::HigherVote(vote)))), false)
        }
        Err(error) => (Some(Err(error)), false),
    }
}

impl<S, Send> Stream for AppendPipeline<S, Send>
where
    S: Stream<Item = AppendEntriesRequest<C>> + Unpin,
    Send: FnMut(AppendEntriesRequest<C>) -> AppendCall + Unpin,
{
    type Item = AppendOutcome;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<AppendOutcome>> {
        let this = &mut *self;
        if this.finished {
            return Poll::Ready(None);
        }
        // Take every request openraft has ready, up to the limit.
        while this.in_flight.len() < this.limit {
            let Some(input) = this.input.as_mut() else {
                break;
            };
            match input.poll_next_unpin(cx) {
                Poll::Ready(Some(request)) => {
                    if !this.hold.is_zero() && this.is_commit_notice(&request) {
                        this.hold_notice(request);
                        continue;
                    }
                    // Whatever it is, it carries a commit index at least as new.
                    this.held = None;
                    this.send_now(request);
                }
                Poll::Ready(None) => this.input = None,
                Poll::Pending => break,
            }
        }
        // A held notice goes out when its hold ends, or at once when openraft's stream ended.
        if this.in_flight.len() < this.limit {
            let due = this.held.is_some()
                && (this.input.is_none()
                    || this
                        .hold_timer
                        .as_mut()
                        .is_none_or(|timer| timer.as_mut().poll(cx).is_ready()));
            if due {
                if let Some(request) = this.held.take() {
                    this.send_now(request);
                }
            }
        }
        match this.in_flight.poll_next_unpin(cx) {
            Poll::Ready(Some((prev, last, response))) => {
                let (item, go_on) = outcome(prev, last, response, this.matched);
                if let Some(Ok(Ok(matching))) = &item {
                    this.matched = this.matched.max(Some(*matching));
                }
                if !go_on {
                    this.finished = true;
                    this.input = None;
                    this.in_flight = FuturesOrdered::new();
                    this.held = None;
                }
                Poll::Ready(item)
            }
            // Nothing in flight: done if openraft has nothing more to send, else its stream
            // registered the wake-up.
            Poll::Ready(None) if this.input.is_none() && this.held.is_none() => {
                this.finished = true;
                Poll::Ready(None)
            }
            Poll::Ready(None) | Poll::Pending => Poll::Pending,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::raft::test_entries::batch_entry;
    use crate::raft::types::{Vote, log_id};
    use futures::FutureExt;
    use futures::channel::{mpsc, oneshot};
    use std::sync::{Arc, Mutex};

    type Reply = Result<AppendEntriesResponse<C>, RPCError<C>>;

    /// The hold of these tests: `StoreConfig::commit_notice_hold_ms`'s default.
    const COMMIT_NOTICE_HOLD: Duration = Duration::from_millis(1);

    /// Requests covering `(prev, last]`, one entry each (`prev` None: the first entry).
    fn request(prev: Option<u64>, index: u64) -> AppendEntriesRequest<C> {
        AppendEntriesRequest {
            vote: Vote::new_committed(1, 1),
            prev_log_id: prev.map(|p| log_id(1, p)),
            entries: vec![batch_entry(1, index)],
            leader_commit: None,
        }
    }

    /// An entry-less request continuing at `prev`, carrying commit index `commit`.
    fn notice(prev: u64, commit: u64) -> AppendEntriesRequest<C> {
        AppendEntriesRequest {
            vote: Vote::new_committed(1, 1),
            prev_log_id: Some(log_id(1, prev)),
            entries: Vec::new(),
            leader_commit: Some(log_id(1, commit)),
        }
    }

    /// A pipeline whose sends are recorded and answered by the test through oneshots, holding
    /// commit notices for `hold` (zero: none).
    #[allow(clippy::type_complexity)]
    fn harness(
        limit: usize,
        hold: Duration,
    ) -> (
        mpsc::UnboundedSender<AppendEntriesRequest<C>>,
        Arc<Mutex<Vec<(Option<LogId>, oneshot::Sender<Reply>)>>>,
        AppendPipeline<
            mpsc::UnboundedReceiver<AppendEntriesRequest<C>>,
            impl FnMut(AppendEntriesRequest<C>) -> AppendCall + Unpin,
        >,
    ) {
        let (tx, rx) = mpsc::unbounded();
        let sent: Arc<Mutex<Vec<(Option<LogId>, oneshot::Sender<Reply>)>>> = Arc::default();
        let record = sent.clone();
        let send = move |req: AppendEntriesRequest<C>| {
            let (answer, answered) = oneshot::channel();
            record.lock().unwrap().push((req.prev_log_id, answer));
            async move {
                answered.await.unwrap_or_else(|_| {
                    Err(RPCError::Network(NetworkError::from_string("dropped")))
                })
            }
            .boxed()
        };
        (tx, sent, AppendPipeline::new(rx, send, limit, hold))
    }

    /// Answers every request sent and not yet answered with success.
    fn answer_all(sent: &Mutex<Vec<(Option<LogId>, oneshot::Sender<Reply>)>>) {
        let answers: Vec<_> = sent.lock().unwrap().drain(..).map(|(_, a)| a).collect();
        for answer in answers {
            answer.send(Ok(AppendEntriesResponse::Success)).unwrap();
        }
    }

    fn poll(p: &mut (impl Stream<Item = AppendOutcome> + Unpin)) -> Poll<Option<AppendOutcome>> {
        p.poll_next_unpin(&mut Context::from_waker(futures::task::noop_waker_ref()))
    }

    #[test]
    fn requests_go_out_before_earlier_ones_are_answered_up_to_the_limit() {
        let (tx, sent, mut pipeline) = harness(2, Duration::ZERO);
        for i in 1..=3 {
            tx.unbounded_send(request((i > 1).then(|| i - 1), i))
                .unwrap();
        }
        assert!(poll(&mut pipeline).is_pending());
        assert_eq!(
            sent.lock().unwrap().len(),
            2,
            "two sent, the third waits for a slot"
        );

        // Answered out of order: the second first. Nothing is yielded before the first.
        let second = sent.lock().unwrap().remove(1).1;
        second.send(Ok(AppendEntriesResponse::Success)).unwrap();
        assert!(poll(&mut pipeline).is_pending());
        let first = sent.lock().unwrap().remove(0).1;
        first.send(Ok(AppendEntriesResponse::Success)).unwrap();

        let Poll::Ready(Some(Ok(Ok(matched)))) = poll(&mut pipeline) else {
            panic!("the first response comes first");
        };
        assert_eq!(matched, Some(log_id(1, 1)));
        let Poll::Ready(Some(Ok(Ok(matched)))) = poll(&mut pipeline) else {
            panic!("then the second");
        };
        assert_eq!(matched, Some(log_id(1, 2)));
        assert_eq!(
            sent.lock().unwrap().len(),
            1,
            "the third went out once a slot freed"
        );
    }

    #[test]
    fn a_conflict_ends_the_stream_and_no_later_request_is_taken() {
        let (tx, sent, mut pipeline) = harness(4, Duration::ZERO);
        tx.unbounded_send(request(Some(4), 5)).unwrap();
        tx.unbounded_send(request(Some(5), 6)).unwrap();
        assert!(poll(&mut pipeline).is_pending());
        let (_, first) = sent.lock().unwrap().remove(0);
        first.send(Ok(AppendEntriesResponse::Conflict)).unwrap();
        let Poll::Ready(Some(Ok(Err(openraft::raft::StreamAppendError::Conflict(at))))) =
            poll(&mut pipeline)
        else {
            panic!("the conflict is reported at the request's prev_log_id");
        };
        assert_eq!(at, log_id(1, 4));
        assert!(
            tx.unbounded_send(request(Some(6), 7)).is_err(),
            "the pipeline let go of openraft's request stream"
        );
        assert!(matches!(poll(&mut pipeline), Poll::Ready(None)));
        assert_eq!(sent.lock().unwrap().len(), 1, "nothing more was sent");
    }

    /// Found by the fault-injecting network (`three_members_duplicating_links`): a request
    /// delivered before the one it follows got a conflict at the point the earlier one then
    /// matched, and openraft read that as the follower's log going back.
    #[test]
    fn a_conflict_below_a_reported_match_ends_the_stream_unreported() {
        let (tx, sent, mut pipeline) = harness(4, Duration::ZERO);
        tx.unbounded_send(request(Some(4), 5)).unwrap();
        tx.unbounded_send(request(Some(5), 6)).unwrap();
        assert!(poll(&mut pipeline).is_pending());
        let (_, first) = sent.lock().unwrap().remove(0);
        let (_, second) = sent.lock().unwrap().remove(0);
        second.send(Ok(AppendEntriesResponse::Conflict)).unwrap();
        first.send(Ok(AppendEntriesResponse::Success)).unwrap();
        let Poll::Ready(Some(Ok(Ok(matched)))) = poll(&mut pipeline) else {
            panic!("the first request's match is reported");
        };
        assert_eq!(matched, Some(log_id(1, 5)));
        assert!(
            matches!(poll(&mut pipeline), Poll::Ready(None)),
            "the overtaken request's conflict at 5 is not reported; the stream ends"
        );
    }

    #[test]
    fn a_conflict_before_the_first_entry_is_an_error_not_a_panic() {
        let (tx, sent, mut pipeline) = harness(4, Duration::ZERO);
        tx.unbounded_send(request(None, 1)).unwrap();
        assert!(poll(&mut pipeline).is_pending());
        let (_, first) = sent.lock().unwrap().remove(0);
        first.send(Ok(AppendEntriesResponse::Conflict)).unwrap();
        let Poll::Ready(Some(Err(RPCError::Network(error)))) = poll(&mut pipeline) else {
            panic!("a nonsensical conflict is a network error");
        };
        assert!(
            error.to_string().contains("before the first log entry"),
            "{error}"
        );
        assert!(matches!(poll(&mut pipeline), Poll::Ready(None)));
    }

    /// The request after a write's entries only tells the follower of the commit; the next
    /// write's entries, made within the hold, carry that commit instead.
    #[tokio::test(start_paused = true)]
    async fn a_commit_notice_followed_by_entries_within_the_hold_is_not_sent() {
        let (tx, sent, mut pipeline) = harness(4, COMMIT_NOTICE_HOLD);
        tx.unbounded_send(request(Some(4), 5)).unwrap();
        assert!(poll(&mut pipeline).is_pending());
        tx.unbounded_send(notice(5, 5)).unwrap();
        assert!(poll(&mut pipeline).is_pending());
        assert_eq!(sent.lock().unwrap().len(), 1, "the notice is held");
        tokio::time::advance(COMMIT_NOTICE_HOLD / 2).await;
        tx.unbounded_send(request(Some(5), 6)).unwrap();
        assert!(poll(&mut pipeline).is_pending());
        tokio::time::advance(COMMIT_NOTICE_HOLD * 2).await;
        assert!(poll(&mut pipeline).is_pending());
        let prevs: Vec<_> = sent.lock().unwrap().iter().map(|(p, _)| *p).collect();
        assert_eq!(
            prevs,
            [Some(log_id(1, 4)), Some(log_id(1, 5))],
            "the entries went out, the notice never did"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_commit_notice_goes_out_when_its_hold_ends() {
        let (tx, sent, mut pipeline) = harness(4, COMMIT_NOTICE_HOLD);
        tx.unbounded_send(request(Some(4), 5)).unwrap();
        assert!(poll(&mut pipeline).is_pending());
        tx.unbounded_send(notice(5, 4)).unwrap();
        assert!(poll(&mut pipeline).is_pending());
        // A newer notice replaces the held one and keeps its end.
        tokio::time::advance(COMMIT_NOTICE_HOLD / 2).await;
        tx.unbounded_send(notice(5, 5)).unwrap();
        assert!(poll(&mut pipeline).is_pending());
        assert_eq!(sent.lock().unwrap().len(), 1);
        tokio::time::advance(COMMIT_NOTICE_HOLD / 2).await;
        assert!(poll(&mut pipeline).is_pending());
        assert_eq!(
            sent.lock().unwrap().len(),
            2,
            "the notice went out at the hold's end"
        );
        // Its answer reports the same match as the request before it.
        answer_all(&sent);
        for _ in 0..2 {
            let Poll::Ready(Some(Ok(Ok(matched)))) = poll(&mut pipeline) else {
                panic!("both answered");
            };
            assert_eq!(matched, Some(log_id(1, 5)));
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_held_commit_notice_goes_out_at_once_when_openraft_ends_the_stream() {
        let (tx, sent, mut pipeline) = harness(4, COMMIT_NOTICE_HOLD);
        tx.unbounded_send(request(Some(4), 5)).unwrap();
        tx.unbounded_send(notice(5, 5)).unwrap();
        assert!(poll(&mut pipeline).is_pending());
        assert_eq!(sent.lock().unwrap().len(), 1);
        drop(tx);
        assert!(poll(&mut pipeline).is_pending());
        assert_eq!(
            sent.lock().unwrap().len(),
            2,
            "sent without waiting for the hold"
        );
        answer_all(&sent);
        assert!(matches!(poll(&mut pipeline), Poll::Ready(Some(Ok(Ok(_))))));
        assert!(matches!(poll(&mut pipeline), Poll::Ready(Some(Ok(Ok(_))))));
        assert!(matches!(poll(&mut pipeline), Poll::Ready(None)));
    }

    /// An entry-less request that does not continue where the last one ended is a probe: it
    /// goes out at once, and so does the first request of a stream.
    #[tokio::test(start_paused = true)]
    async fn an_entry_less_probe_is_not_held() {
        let (tx, sent, mut pipeline) = harness(4, COMMIT_NOTICE_HOLD);
        tx.unbounded_send(notice(7, 7)).unwrap();
        assert!(poll(&mut pipeline).is_pending());
        assert_eq!(sent.lock().unwrap().len(), 1, "the stream's first request");
        tx.unbounded_send(notice(3, 7)).unwrap();
        assert!(poll(&mut pipeline).is_pending());
        assert_eq!(sent.lock().unwrap().len(), 2, "a probe further back");
    }

    #[test]
    fn the_stream_ends_when_openraft_stops_and_every_answer_is_in() {
        let (tx, sent, mut pipeline) = harness(4, Duration::ZERO);
        tx.unbounded_send(request(Some(1), 2)).unwrap();
        drop(tx);
        assert!(poll(&mut pipeline).is_pending());
        let (_, first) = sent.lock().unwrap().remove(0);
        first.send(Ok(AppendEntriesResponse::Success)).unwrap();
        assert!(matches!(poll(&mut pipeline), Poll::Ready(Some(Ok(Ok(_))))));
        assert!(matches!(poll(&mut pipeline), Poll::Ready(None)));
    }
}
