//! A conformance suite for [`Transport`] implementations.
//!
//! [`run_transport_suite`] checks each rule of the [`Transport`] contract against an
//! implementation set up by a [`TransportHarness`], and panics naming the rule at the first
//! violation, so it is meant to run inside a test. Both transports of this crate run it; run it
//! on your own.
//!
//! ```
//! use swarm_store::testkit::transport_conformance::{SuiteHandler, TransportHarness, run_transport_suite};
//! use swarm_store::testkit::inproc::{InProcNetwork, InProcTransport};
//! use swarm_store::transport::MemberId;
//!
//! struct Harness(InProcNetwork);
//!
//! impl TransportHarness for Harness {
//!     type Transport = InProcTransport;
//!     async fn serve(&mut self, member: MemberId, handler: SuiteHandler) {
//!         self.0.register(member, handler);
//!     }
//!     async fn stop(&mut self, member: MemberId) {
//!         self.0.crash(member);
//!     }
//!     async fn transport(&mut self, member: MemberId) -> InProcTransport {
//!         self.0.endpoint(member)
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! run_transport_suite(Harness(InProcNetwork::new(1))).await;
//! # }
//! ```

use crate::transport::{MAX_FRAME_BYTES, MemberId, RpcHandler, Transport, TransportError};
use bytes::Bytes;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// Concurrent calls in the pipelining check.
pub const SUITE_CONCURRENT_CALLS: usize = 200;
/// Attempts (100 ms apart) the suite allows a transport to reach a restarted member.
pub const SUITE_RECONNECT_ATTEMPTS: usize = 100;

/// What the suite needs from the implementation under test: members that serve a handler, can
/// be stopped and served again, and transports to call them.
pub trait TransportHarness {
    /// The transport under test.
    type Transport: Transport;

    /// Starts serving `handler` as `member` (again, after [`stop`](Self::stop)), reachable by
    /// every transport the harness made or will make.
    fn serve(&mut self, member: MemberId, handler: SuiteHandler) -> impl Future<Output = ()>;

    /// Stops serving `member`, as if its process died.
    fn stop(&mut self, member: MemberId) -> impl Future<Output = ()>;

    /// A transport through which `member` calls the others.
    fn transport(&mut self, member: MemberId) -> impl Future<Output = Self::Transport>;
}

/// The handler the suite serves. Requests are UTF-8 commands:
/// - `echo:<text>` answers `<caller id>:<text>`;
/// - `sleep:<ms>:<text>` sleeps, then answers like `echo`;
/// - `fail:<text>` fails with `<text>`;
/// - `huge` answers more than [`MAX_FRAME_BYTES`].
#[derive(Clone, Debug, Default)]
pub struct SuiteHandler {
    calls: Arc<AtomicUsize>,
    running: Arc<AtomicUsize>,
    max_running: Arc<AtomicUsize>,
}

impl SuiteHandler {
    /// A fresh handler.
    pub fn new() -> Self {
        Self::default()
    }

    /// Requests handled so far.
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    /// The most requests handled at once so far.
    pub fn max_concurrent(&self) -> usize {
        self.max_running.load(Ordering::SeqCst)
    }
}

impl RpcHandler for SuiteHandler {
    async fn handle(&self, from: MemberId, request: Bytes) -> Result<Bytes, String> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_running.fetch_max(now, Ordering::SeqCst);
        let text = String::from_utf8_lossy(&request).into_owned();
        let result = if let Some(rest) = text.strip_prefix("echo:") {
            Ok(Bytes::from(format!("{}:{rest}", from.0)))
        } else if let Some(rest) = text.strip_prefix("sleep:") {
            let (ms, rest) = rest.split_once(':').unwrap_or((rest, ""));
            tokio::time::sleep(Duration::from_millis(ms.parse().unwrap_or(0))).await;
            Ok(Bytes::from(format!("{}:{rest}", from.0)))
        } else if let Some(rest) = text.strip_prefix("fail:") {
            Err(rest.to_owned())
        } else if text == "huge" {
            Ok(Bytes::from(vec![0u8; MAX_FRAME_BYTES + 1]))
        } else {
            Err(format!("unknown suite command {text:?}"))
        };
        self.running.fetch_sub(1, Ordering::SeqCst);
        result
    }
}

fn rule(number: u32, text: &str, detail: impl std::fmt::Display) -> ! {
    panic!("transport conformance rule {number} ({text}) violated: {detail}")
}

/// Runs every check against the harness's implementation; panics at the first violation.
///
/// Members 1 (the caller), 2 and 3 (servers) and 9 (never started) are used.
pub async fn run_transport_suite<H: TransportHarness>(mut harness: H) {
    let caller = MemberId(1);
    let server = MemberId(2);
    let other = MemberId(3);
    let handler = SuiteHandler::new();
    harness.serve(server, handler.clone()).await;
    harness.serve(other, SuiteHandler::new()).await;
    let t = harness.transport(caller).await;

    // 1. A call returns the handler's response, and the handler learns who called.
    match t.call(server, Bytes::from_static(b"echo:hello")).await {
        Ok(r) if r == "1:hello" => {}
        other => rule(
            1,
            "a call returns the handler's response",
            format!("{other:?}"),
        ),
    }

    // 2. Never another call's response, with calls in flight at once (pipelining).
    let calls = (0..SUITE_CONCURRENT_CALLS).map(|i| {
        let t = &t;
        async move {
            let target = if i % 5 == 0 { other } else { server };
            let request = format!("sleep:{}:{i}", (i * 7) % 11);
            let reply = t.call(target, Bytes::from(request)).await;
            (i, reply)
        }
    });
    for (i, reply) in futures::future::join_all(calls).await {
        match reply {
            Ok(r) if r == format!("1:{i}") => {}
            other => rule(
                2,
                "a call never returns another call's response",
                format!("call {i} got {other:?}"),
            ),
        }
    }
    if handler.max_concurrent() < 2 {
        rule(
            3,
            "calls to one member may be in flight at once",
            "the handler never saw two requests at once",
        );
    }

    // 4. Handler errors come back as Remote, naming the peer; not retryable.
    match t.call(server, Bytes::from_static(b"fail:no way")).await {
        Err(e @ TransportError::Remote { .. }) => {
            if let TransportError::Remote { peer, detail } = &e {
                if *peer != server || detail != "no way" || e.is_retryable() {
                    rule(4, "handler errors come back as Remote", format!("{e:?}"));
                }
            }
        }
        other => rule(
            4,
            "handler errors come back as Remote",
            format!("{other:?}"),
        ),
    }

    // 5. Oversized requests are refused before the handler sees them; oversized responses fail
    //    the call; the transport keeps working.
    let before = handler.calls();
    match t
        .call(server, Bytes::from(vec![b'x'; MAX_FRAME_BYTES + 1]))
        .await
    {
        Err(TransportError::FrameTooLarge { .. }) => {}
        other => rule(
            5,
            "requests over MAX_FRAME_BYTES fail with FrameTooLarge",
            format!("{:?}", other.map(|b| b.len())),
        ),
    }
    if handler.calls() != before {
        rule(
            5,
            "an oversized request is not delivered",
            "the handler ran",
        );
    }
    match t.call(server, Bytes::from_static(b"huge")).await {
        Err(TransportError::FrameTooLarge { .. }) => {}
        other => rule(
            5,
            "responses over MAX_FRAME_BYTES fail with FrameTooLarge",
            format!("{:?}", other.map(|b| b.len())),
        ),
    }
    match t.call(server, Bytes::from_static(b"echo:after")).await {
        Ok(r) if r == "1:after" => {}
        other => rule(
            5,
            "the transport works after refusing a frame",
            format!("{other:?}"),
        ),
    }

    // 6. A member that never started: an error, no panic.
    if let Ok(r) = t.call(MemberId(9), Bytes::from_static(b"echo:x")).await {
        rule(
            6,
            "calls to an unknown member fail",
            format!("answered {r:?}"),
        );
    }

    // 7. A stopped member: a retryable error; others are unaffected.
    harness.stop(server).await;
    match t.call(server, Bytes::from_static(b"echo:down")).await {
        Err(e) if e.is_retryable() => {}
        other => rule(
            7,
            "calls to a stopped member fail retryably",
            format!("{other:?}"),
        ),
    }
    match t.call(other, Bytes::from_static(b"echo:still")).await {
        Ok(r) if r == "1:still" => {}
        other => rule(7, "other members stay reachable", format!("{other:?}")),
    }

    // 8. Served again, it is reachable again (the transport reconnects).
    harness.serve(server, SuiteHandler::new()).await;
    let mut last = None;
    for _ in 0..SUITE_RECONNECT_ATTEMPTS {
        match t.call(server, Bytes::from_static(b"echo:back")).await {
            Ok(r) if r == "1:back" => return,
            Ok(r) => rule(8, "a restarted member answers", format!("{r:?}")),
            Err(e) if e.is_retryable() => last = Some(e),
            Err(e) => rule(8, "a restarted member answers", e),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    rule(
        8,
        "a restarted member becomes reachable again",
        format!("still failing: {last:?}"),
    );
}
