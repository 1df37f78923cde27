//! A logs stream as a client reads it: the leader's subscription read until its end.

use crate::manager::logbroker::{LogEnd, LogMessage, LogSubscriptionId, MAX_LOG_MESSAGES_PER_READ};
use crate::node::control::Control;
use crate::node::error::NodeError;
use crate::node::wire::{ControlReply, LogCall};
use futures::Stream;
use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

/// Most messages one read asks the leader for.
pub const LOG_READ_BATCH: usize = 512;

const _: () = assert!(LOG_READ_BATCH <= MAX_LOG_MESSAGES_PER_READ);

/// The messages of a logs request ([`Control::service_logs`], [`Control::task_logs`],
/// [`Control::logs`]), in the order the leader received them (per task, the order of its
/// output).
///
/// Not following, the stream ends once every node that runs a selected task has sent its
/// part; when a node could not (it is down, or silent past the leader's timeout) it ends with
/// [`NodeError::IncompleteLogs`] naming why, after the messages that came. Following, it
/// goes on, with the output of tasks started later, until it is dropped. Any other error
/// (the leader changed, a manager is unreachable) is the stream's last item. Dropping the
/// stream cancels the subscription on the leader (in the background).
pub struct LogMessages {
    subscription: LogSubscriptionId,
    inner: Pin<Box<dyn Stream<Item = Result<LogMessage, NodeError>> + Send>>,
    _cancel: CancelOnDrop,
}

impl std::fmt::Debug for LogMessages {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogMessages")
            .field("subscription", &self.subscription)
            .finish_non_exhaustive()
    }
}

impl LogMessages {
    pub(crate) fn new(control: Control, subscription: LogSubscriptionId) -> Self {
        let ended = Arc::new(AtomicBool::new(false));
        let reader = Reader {
            control: control.clone(),
            subscription: subscription.clone(),
            buffered: VecDeque::new(),
            end: None,
            finished: false,
            ended: ended.clone(),
        };
        LogMessages {
            subscription: subscription.clone(),
            inner: Box::pin(futures::stream::unfold(reader, Reader::step)),
            _cancel: CancelOnDrop {
                control,
                subscription,
                ended,
            },
        }
    }

    /// The subscription on the leader.
    pub fn subscription(&self) -> &LogSubscriptionId {
        &self.subscription
    }
}

impl Stream for LogMessages {
    type Item = Result<LogMessage, NodeError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}

/// The reading side: reads batches from the leader and hands out their messages.
struct Reader {
    control: Control,
    subscription: LogSubscriptionId,
    buffered: VecDeque<LogMessage>,
    end: Option<LogEnd>,
    finished: bool,
    /// Set once the leader said the subscription ended (nothing to cancel then).
    ended: Arc<AtomicBool>,
}

impl Reader {
    async fn step(mut self) -> Option<(Result<LogMessage, NodeError>, Reader)> {
        loop {
            if let Some(message) = self.buffered.pop_front() {
                return Some((Ok(message), self));
            }
            if self.finished {
                return None;
            }
            if let Some(end) = self.end.take() {
                self.finished = true;
                if end.is_complete() {
                    return None;
                }
                let reasons = end.incomplete;
                return Some((Err(NodeError::IncompleteLogs { reasons }), self));
            }
            let read = self
                .control
                .log_call(LogCall::Next {
                    subscription: self.subscription.clone(),
                    max: LOG_READ_BATCH as u32,
                })
                .await;
            match read {
                Ok(ControlReply::Logs(batch)) => {
                    self.buffered.extend(batch.messages);
                    if let Some(end) = batch.end {
                        self.ended.store(true, Ordering::Relaxed);
                        self.end = Some(end);
                    }
                }
                Ok(other) => {
                    self.finished = true;
                    let e = NodeError::Protocol {
                        peer: "the leader".into(),
                        detail: format!("unexpected answer {other:?}"),
                    };
                    return Some((Err(e), self));
                }
                Err(e) => {
                    self.finished = true;
                    return Some((Err(e), self));
                }
            }
        }
    }
}

/// Cancels the subscription when the stream is dropped before its end.
struct CancelOnDrop {
    control: Control,
    subscription: LogSubscriptionId,
    ended: Arc<AtomicBool>,
}

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        if self.ended.load(Ordering::Relaxed) {
            return;
        }
        // Best effort: without a runtime, the leader drops the subscription once it has not
        // been read for its idle timeout.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let control = self.control.clone();
            let subscription = self.subscription.clone();
            runtime.spawn(async move {
                let _ = control.log_call(LogCall::Cancel { subscription }).await;
            });
        }
    }
}
