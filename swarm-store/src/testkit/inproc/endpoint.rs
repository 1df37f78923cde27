//! A member's sending side on the in-process network.

use super::InProcNetwork;
use super::trace::TraceKind;
use crate::transport::handler::SharedHandler;
use crate::transport::{MAX_FRAME_BYTES, MemberId, Transport, TransportError};
use bytes::Bytes;
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::time::Instant;

/// A member's endpoint on an [`InProcNetwork`]: implements [`Transport`].
#[derive(Clone)]
pub struct InProcTransport {
    net: InProcNetwork,
    local: MemberId,
    incarnation: u64,
}

impl std::fmt::Debug for InProcTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InProcTransport")
            .field("local", &self.local)
            .field("incarnation", &self.incarnation)
            .finish()
    }
}

type Reply = Result<Bytes, TransportError>;

impl InProcTransport {
    pub(super) fn new(net: InProcNetwork, local: MemberId, incarnation: u64) -> Self {
        InProcTransport {
            net,
            local,
            incarnation,
        }
    }

    /// The member this endpoint sends for.
    pub fn local(&self) -> MemberId {
        self.local
    }

    /// The network this endpoint belongs to.
    pub fn network(&self) -> &InProcNetwork {
        &self.net
    }

    /// Like [`Transport::call`] with an explicit timeout instead of the network's default.
    pub async fn call_with_timeout(
        &self,
        to: MemberId,
        request: Bytes,
        timeout: Duration,
    ) -> Result<Bytes, TransportError> {
        let deadline = Instant::now() + timeout;
        if request.len() > MAX_FRAME_BYTES {
            return Err(TransportError::FrameTooLarge {
                peer: to,
                bytes: request.len(),
                limit: MAX_FRAME_BYTES,
            });
        }
        let (reply_tx, reply_rx) = oneshot::channel::<Reply>();
        {
            let mut s = self.net.lock();
            if s.incarnation(self.local) != self.incarnation {
                return Err(TransportError::Shutdown);
            }
            let to_incarnation = s.incarnation(to);
            if s.handler(to, to_incarnation).is_none() {
                s.stats.unreachable += 1;
                return Err(TransportError::Unreachable {
                    peer: to,
                    detail: "member is not running".to_owned(),
                });
            }
            let fate = s.fate(self.local, to);
            let duplicate = s.duplicate(self.local, to);
            let sent = !fate.lost && s.has_delivery_room(to);
            let kind = if sent {
                TraceKind::Sent { delay: fate.delay }
            } else {
                TraceKind::Lost
            };
            s.record(self.local, to, &request, kind);
            if sent {
                let task = tokio::spawn(deliver(
                    self.net.clone(),
                    self.local,
                    to,
                    to_incarnation,
                    request.clone(),
                    fate.delay,
                    Some(reply_tx),
                ));
                s.track_delivery(to, task.abort_handle());
            }
            if let Some(delay) = duplicate {
                if s.has_delivery_room(to) {
                    s.record(self.local, to, &request, TraceKind::Duplicated { delay });
                    let task = tokio::spawn(deliver(
                        self.net.clone(),
                        self.local,
                        to,
                        to_incarnation,
                        request,
                        delay,
                        None,
                    ));
                    s.track_delivery(to, task.abort_handle());
                }
            }
        }
        match tokio::time::timeout_at(deadline, reply_rx).await {
            Ok(Ok(reply)) => reply,
            Ok(Err(_lost)) => {
                // The request or its response was lost: a real caller would only notice by
                // waiting in vain.
                tokio::time::sleep_until(deadline).await;
                Err(TransportError::Timeout(to))
            }
            Err(_elapsed) => Err(TransportError::Timeout(to)),
        }
    }
}

impl Transport for InProcTransport {
    async fn call(&self, to: MemberId, request: Bytes) -> Result<Bytes, TransportError> {
        let timeout = self.net.lock().config.call_timeout;
        self.call_with_timeout(to, request, timeout).await
    }

    /// The caller's `timeout` replaces [`InProcConfig::call_timeout`](super::InProcConfig)
    /// entirely (longer or shorter).
    async fn call_within(
        &self,
        to: MemberId,
        request: Bytes,
        timeout: Duration,
    ) -> Result<Bytes, TransportError> {
        self.call_with_timeout(to, request, timeout).await
    }
}

/// Carries one request to `to` after `delay`, runs its handler and carries the response back
/// (when `reply` is set; a duplicate delivery has none).
async fn deliver(
    net: InProcNetwork,
    from: MemberId,
    to: MemberId,
    to_incarnation: u64,
    request: Bytes,
    delay: Duration,
    reply: Option<oneshot::Sender<Reply>>,
) {
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let handler: SharedHandler = {
        let mut s = net.lock();
        // A partition that started while the request was in flight catches it too.
        if s.is_blocked(from, to) {
            s.stats.dropped += 1;
            s.record(from, to, &request, TraceKind::Lost);
            return;
        }
        match s.handler(to, to_incarnation) {
            Some(h) => {
                s.stats.delivered += 1;
                s.record(from, to, &request, TraceKind::Delivered);
                h
            }
            None => return,
        }
    };
    let result = handler.handle_boxed(from, request).await;
    let Some(reply) = reply else { return };
    let fate = {
        let mut s = net.lock();
        if s.handler(to, to_incarnation).is_none() {
            // Crashed while handling: the response dies with the process.
            return;
        }
        let fate = s.fate(to, from);
        let body = match &result {
            Ok(body) => body.as_ref(),
            Err(detail) => detail.as_bytes(),
        };
        let kind = if fate.lost {
            TraceKind::Lost
        } else {
            TraceKind::Answered { delay: fate.delay }
        };
        s.record(to, from, body, kind);
        fate
    };
    if fate.lost {
        return;
    }
    if !fate.delay.is_zero() {
        tokio::time::sleep(fate.delay).await;
    }
    let response = match result {
        Ok(body) if body.len() > MAX_FRAME_BYTES => Err(TransportError::FrameTooLarge {
            peer: to,
            bytes: body.len(),
            limit: MAX_FRAME_BYTES,
        }),
        Ok(body) => Ok(body),
        Err(detail) => Err(TransportError::Remote { peer: to, detail }),
    };
    // The caller may have given up already; nothing to do then.
    let _ = reply.send(response);
}
