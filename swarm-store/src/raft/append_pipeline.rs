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
}

impl<S, Send> AppendPipeline<S, Send>
where
    S: Stream<Item = AppendEntriesRequest<C>> + Unpin,
    Send: FnMut(AppendEntriesRequest<C>) -> AppendCall,
{
    /// Sends each request of `input` with `send`, keeping at most `limit` (at least one)
    /// unanswered.
    pub(crate) fn new(input: S, send: Send, limit: usize) -> Self {
        AppendPipeline {
            input: Some(input),
            send,
            in_flight: FuturesOrdered::new(),
            limit: limit.max(1),
            finished: false,
            matched: None,
        }
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
                    let prev = request.prev_log_id;
                    let last = request.entries.last().map(|entry| entry.log_id).or(prev);
                    let call = (this.send)(request);
                    this.in_flight.push_back(Sent { prev, last, call });
                }
                Poll::Ready(None) => this.input = None,
                Poll::Pending => break,
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
                }
                Poll::Ready(item)
            }
            // Nothing in flight: done if openraft has nothing more to send, else its stream
            // registered the wake-up.
            Poll::Ready(None) if this.input.is_none() => {
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

    /// Requests covering `(prev, last]`, one entry each (`prev` None: the first entry).
    fn request(prev: Option<u64>, index: u64) -> AppendEntriesRequest<C> {
        AppendEntriesRequest {
            vote: Vote::new_committed(1, 1),
            prev_log_id: prev.map(|p| log_id(1, p)),
            entries: vec![batch_entry(1, index)],
            leader_commit: None,
        }
    }

    /// A pipeline whose sends are recorded and answered by the test through oneshots.
    #[allow(clippy::type_complexity)]
    fn harness(
        limit: usize,
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
        (tx, sent, AppendPipeline::new(rx, send, limit))
    }

    fn poll(p: &mut (impl Stream<Item = AppendOutcome> + Unpin)) -> Poll<Option<AppendOutcome>> {
        p.poll_next_unpin(&mut Context::from_waker(futures::task::noop_waker_ref()))
    }

    #[test]
    fn requests_go_out_before_earlier_ones_are_answered_up_to_the_limit() {
        let (tx, sent, mut pipeline) = harness(2);
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
        let (tx, sent, mut pipeline) = harness(4);
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
        let (tx, sent, mut pipeline) = harness(4);
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
        let (tx, sent, mut pipeline) = harness(4);
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

    #[test]
    fn the_stream_ends_when_openraft_stops_and_every_answer_is_in() {
        let (tx, sent, mut pipeline) = harness(4);
        tx.unbounded_send(request(Some(1), 2)).unwrap();
        drop(tx);
        assert!(poll(&mut pipeline).is_pending());
        let (_, first) = sent.lock().unwrap().remove(0);
        first.send(Ok(AppendEntriesResponse::Success)).unwrap();
        assert!(matches!(poll(&mut pipeline), Poll::Ready(Some(Ok(Ok(_))))));
        assert!(matches!(poll(&mut pipeline), Poll::Ready(None)));
    }
}
