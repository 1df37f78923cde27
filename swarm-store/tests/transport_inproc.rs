//! The in-process network: delivery, crashes, partitions and seeded faults, all under tokio's
//! paused clock.

#![allow(clippy::unwrap_used)] // test helpers fail loudly on setup errors

use bytes::Bytes;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use swarm_store::testkit::inproc::{
    DEFAULT_INPROC_CALL_TIMEOUT, InProcConfig, InProcNetwork, LinkFaults, TraceKind,
};
use swarm_store::testkit::transport_conformance::{
    SuiteHandler, TransportHarness, run_transport_suite,
};
use swarm_store::transport::{MAX_FRAME_BYTES, MemberId, RpcHandler, Transport, TransportError};
use tokio::time::Instant;

const A: MemberId = MemberId(1);
const B: MemberId = MemberId(2);
const C: MemberId = MemberId(3);

/// Answers `"<from>:<request>"` and counts its invocations.
#[derive(Clone, Default)]
struct Echo {
    calls: Arc<AtomicUsize>,
}

impl RpcHandler for Echo {
    async fn handle(&self, from: MemberId, request: Bytes) -> Result<Bytes, String> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if request.as_ref() == b"fail" {
            return Err("asked to fail".to_owned());
        }
        Ok(Bytes::from(format!(
            "{}:{}",
            from.0,
            String::from_utf8_lossy(&request)
        )))
    }
}

/// Sleeps, then records that it finished.
#[derive(Clone, Default)]
struct Slow {
    finished: Arc<AtomicUsize>,
    sleep: Duration,
}

impl RpcHandler for Slow {
    async fn handle(&self, _from: MemberId, request: Bytes) -> Result<Bytes, String> {
        tokio::time::sleep(self.sleep).await;
        self.finished.fetch_add(1, Ordering::SeqCst);
        Ok(request)
    }
}

fn b(s: &'static str) -> Bytes {
    Bytes::from_static(s.as_bytes())
}

#[tokio::test(start_paused = true)]
async fn round_trip_names_the_sender() {
    let net = InProcNetwork::new(1);
    net.register(B, Echo::default());
    let a = net.endpoint(A);
    assert_eq!(a.call(B, b("hi")).await.unwrap(), "1:hi");
    assert_eq!(a.local(), A);
    assert!(net.is_running(B));
    assert!(!net.is_running(A));
    assert_eq!(net.stats().delivered, 1);
}

#[tokio::test(start_paused = true)]
async fn handler_errors_come_back_as_remote() {
    let net = InProcNetwork::new(1);
    net.register(B, Echo::default());
    let err = net.endpoint(A).call(B, b("fail")).await.unwrap_err();
    assert!(
        matches!(&err, TransportError::Remote { peer, detail } if *peer == B && detail == "asked to fail"),
        "{err:?}"
    );
    assert!(!err.is_retryable());
}

#[tokio::test(start_paused = true)]
async fn unregistered_and_crashed_members_are_unreachable_and_restart_works() {
    let net = InProcNetwork::new(1);
    let a = net.endpoint(A);
    let err = a.call(B, b("x")).await.unwrap_err();
    assert!(matches!(err, TransportError::Unreachable { peer, .. } if peer == B));
    assert!(err.is_retryable());

    let echo = Echo::default();
    net.register(B, echo.clone());
    let b_old = net.endpoint(B);
    net.register(A, Echo::default());
    assert!(b_old.call(A, b("x")).await.is_ok());

    net.crash(B);
    assert!(!net.is_running(B));
    assert!(matches!(
        a.call(B, b("x")).await,
        Err(TransportError::Unreachable { .. })
    ));
    // Leftovers of the crashed incarnation cannot send.
    assert!(matches!(
        b_old.call(A, b("x")).await,
        Err(TransportError::Shutdown)
    ));

    net.register(B, echo.clone());
    let b_new = net.endpoint(B);
    assert_eq!(a.call(B, b("again")).await.unwrap(), "1:again");
    assert_eq!(b_new.call(A, b("y")).await.unwrap(), "2:y");
    assert_eq!(net.stats().unreachable, 2);
}

#[tokio::test(start_paused = true)]
async fn crash_aborts_work_in_progress_and_the_caller_times_out() {
    let net = InProcNetwork::new(1);
    let slow = Slow {
        sleep: Duration::from_millis(100),
        ..Slow::default()
    };
    net.register(B, slow.clone());
    let a = net.endpoint(A);
    let started = Instant::now();
    let call = tokio::spawn(async move { a.call(B, b("x")).await });
    tokio::time::sleep(Duration::from_millis(50)).await;
    net.crash(B);
    let result = call.await.unwrap();
    assert!(
        matches!(result, Err(TransportError::Timeout(p)) if p == B),
        "{result:?}"
    );
    assert_eq!(started.elapsed(), DEFAULT_INPROC_CALL_TIMEOUT);
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        slow.finished.load(Ordering::SeqCst),
        0,
        "crashed handler kept running"
    );
}

#[tokio::test(start_paused = true)]
async fn slow_handler_times_out_at_the_configured_timeout() {
    let timeout = Duration::from_millis(80);
    let net = InProcNetwork::with_config(
        1,
        InProcConfig {
            call_timeout: timeout,
        },
    );
    net.register(
        B,
        Slow {
            sleep: Duration::from_millis(200),
            ..Slow::default()
        },
    );
    let a = net.endpoint(A);
    let started = Instant::now();
    assert!(matches!(
        a.call(B, b("x")).await,
        Err(TransportError::Timeout(_))
    ));
    assert_eq!(started.elapsed(), timeout);
    let started = Instant::now();
    assert!(
        a.call_with_timeout(B, b("x"), Duration::from_millis(300))
            .await
            .is_ok()
    );
    assert_eq!(started.elapsed(), Duration::from_millis(200));
}

/// The store hands each call its caller's deadline (`call_within`): it replaces the network's
/// default per-call timeout both ways, so a slow forwarded write gets all of its request
/// deadline and no more.
#[tokio::test(start_paused = true)]
async fn call_within_uses_the_callers_timeout_not_the_default() {
    let net = InProcNetwork::with_config(
        1,
        InProcConfig {
            call_timeout: Duration::from_millis(50),
        },
    );
    net.register(
        B,
        Slow {
            sleep: Duration::from_millis(700),
            ..Slow::default()
        },
    );
    let a = Arc::new(net.endpoint(A));
    // Longer than the default: the slow answer arrives.
    let started = Instant::now();
    let answer = a.call_within(B, b("x"), Duration::from_secs(3)).await;
    assert_eq!(answer.unwrap(), "x");
    assert_eq!(started.elapsed(), Duration::from_millis(700));
    // Shorter than the handler (through an `Arc`, as the store holds it): a timeout, at the
    // caller's deadline.
    let started = Instant::now();
    let answer = a.call_within(B, b("x"), Duration::from_millis(300)).await;
    assert!(
        matches!(answer, Err(TransportError::Timeout(p)) if p == B),
        "{answer:?}"
    );
    assert_eq!(started.elapsed(), Duration::from_millis(300));
    // A plain call still uses the configured default.
    let started = Instant::now();
    assert!(a.call(B, b("x")).await.is_err());
    assert_eq!(started.elapsed(), Duration::from_millis(50));
}

/// The default per-call timeout is never shorter than the store's default request deadline.
#[test]
fn default_call_timeout_covers_the_default_request_deadline() {
    let store = swarm_store::StoreConfig::new(A, "a");
    assert!(DEFAULT_INPROC_CALL_TIMEOUT >= Duration::from_millis(store.request_timeout_ms));
    assert!(
        DEFAULT_INPROC_CALL_TIMEOUT
            >= Duration::from_millis(store.fast_failover().request_timeout_ms)
    );
}

/// One trace event, with its time relative to the start of the run.
type Event = (Duration, MemberId, MemberId, usize, u64, TraceKind);

/// 40 calls over a lossy, slow, duplicating link, traced.
async fn traced_run(seed: u64) -> Vec<Event> {
    let start = Instant::now();
    let net = InProcNetwork::new(seed);
    net.enable_trace();
    net.register(B, Echo::default());
    net.set_default_faults(
        LinkFaults::none()
            .with_drop_probability(0.3)
            .with_delay(Duration::from_millis(1), Duration::from_millis(9))
            .with_duplicate_probability(0.3),
    )
    .unwrap();
    let a = net.endpoint(A);
    for i in 0..40u32 {
        let _ = a
            .call_within(B, Bytes::from(i.to_string()), Duration::from_millis(50))
            .await;
    }
    let (events, missed) = net.trace();
    assert_eq!(missed, 0);
    events
        .into_iter()
        .map(|e| (e.at - start, e.from, e.to, e.bytes, e.digest, e.kind))
        .collect()
}

/// The trace records every message's fate, and is the same for the same seed.
#[tokio::test(start_paused = true)]
async fn trace_records_each_message_and_replays_with_the_seed() {
    let first = traced_run(5).await;
    let count = |k: fn(&TraceKind) -> bool| first.iter().filter(|e| k(&e.5)).count();
    let sent = count(|k| matches!(k, TraceKind::Sent { .. }));
    let lost = count(|k| *k == TraceKind::Lost);
    // Every call's request is either sent or lost; losses include lost responses.
    assert!(sent + lost >= 40, "{sent} sent, {lost} lost");
    assert!(sent > 0 && lost > 0);
    assert!(count(|k| *k == TraceKind::Delivered) > 0);
    assert!(count(|k| matches!(k, TraceKind::Answered { .. })) > 0);
    assert!(count(|k| matches!(k, TraceKind::Duplicated { .. })) > 0);
    assert_eq!(first, traced_run(5).await);
    assert_ne!(first, traced_run(6).await);
}

#[tokio::test(start_paused = true)]
async fn two_way_partition_blocks_both_directions_until_healed() {
    let net = InProcNetwork::new(1);
    let (ea, eb) = (Echo::default(), Echo::default());
    net.register(A, ea.clone());
    net.register(B, eb.clone());
    net.register(C, Echo::default());
    let (a, bb) = (net.endpoint(A), net.endpoint(B));
    net.partition(A, B);
    assert!(net.is_blocked(A, B) && net.is_blocked(B, A));
    assert!(matches!(
        a.call(B, b("x")).await,
        Err(TransportError::Timeout(_))
    ));
    assert!(matches!(
        bb.call(A, b("x")).await,
        Err(TransportError::Timeout(_))
    ));
    assert_eq!(ea.calls.load(Ordering::SeqCst), 0);
    assert_eq!(eb.calls.load(Ordering::SeqCst), 0);
    // Others are unaffected.
    assert!(a.call(C, b("x")).await.is_ok());
    net.heal_link(A, B);
    assert!(a.call(B, b("x")).await.is_ok());
    assert!(bb.call(A, b("x")).await.is_ok());
}

#[tokio::test(start_paused = true)]
async fn one_way_partition_loses_requests_one_way_and_responses_the_other() {
    let net = InProcNetwork::new(1);
    let (ea, eb) = (Echo::default(), Echo::default());
    net.register(A, ea.clone());
    net.register(B, eb.clone());
    let (a, bb) = (net.endpoint(A), net.endpoint(B));
    net.partition_one_way(A, B);
    // A's request never arrives.
    assert!(matches!(
        a.call(B, b("x")).await,
        Err(TransportError::Timeout(_))
    ));
    assert_eq!(eb.calls.load(Ordering::SeqCst), 0);
    // B's request arrives and is handled, but the answer (A -> B) is lost.
    assert!(matches!(
        bb.call(A, b("x")).await,
        Err(TransportError::Timeout(_))
    ));
    assert_eq!(ea.calls.load(Ordering::SeqCst), 1);
    net.heal();
    assert!(a.call(B, b("x")).await.is_ok());
}

#[tokio::test(start_paused = true)]
async fn isolation_split_and_heal() {
    let net = InProcNetwork::new(1);
    for m in [A, B, C] {
        net.register(m, Echo::default());
    }
    let (a, c) = (net.endpoint(A), net.endpoint(C));
    net.isolate(C);
    assert!(c.call(A, b("x")).await.is_err());
    assert!(a.call(C, b("x")).await.is_err());
    assert!(a.call(B, b("x")).await.is_ok());
    net.rejoin(C);
    assert!(a.call(C, b("x")).await.is_ok());

    net.split(&[&[A], &[B, C]]);
    assert!(a.call(B, b("x")).await.is_err());
    assert!(a.call(C, b("x")).await.is_err());
    assert!(c.call(B, b("x")).await.is_ok());
    net.heal();
    assert!(a.call(B, b("x")).await.is_ok());
}

/// Runs 300 calls over a lossy, delaying link and records each outcome and its duration.
async fn lossy_run(seed: u64) -> Vec<(bool, Duration)> {
    let net = InProcNetwork::with_config(
        seed,
        InProcConfig {
            call_timeout: Duration::from_millis(100),
        },
    );
    net.register(B, Echo::default());
    let faults = LinkFaults::none()
        .with_drop_probability(0.3)
        .with_delay(Duration::from_millis(1), Duration::from_millis(10));
    net.set_default_faults(faults).unwrap();
    let a = net.endpoint(A);
    let mut outcomes = Vec::new();
    for i in 0..300 {
        let started = Instant::now();
        let ok = a.call(B, Bytes::from(format!("{i}"))).await.is_ok();
        outcomes.push((ok, started.elapsed()));
    }
    outcomes
}

#[tokio::test(start_paused = true)]
async fn drops_and_delays_are_deterministic_per_seed() {
    let first = lossy_run(7).await;
    let again = lossy_run(7).await;
    let other = lossy_run(8).await;
    assert_eq!(first, again, "same seed, different outcomes");
    assert_ne!(first, other, "different seeds, same outcomes");
    let delivered = first.iter().filter(|(ok, _)| *ok).count();
    // Each call survives two 30% drops with probability 0.49.
    assert!((90..=210).contains(&delivered), "{delivered} of 300");
    for (ok, took) in &first {
        if *ok {
            // Request and response each delayed 1..=10 ms.
            assert!(
                *took >= Duration::from_millis(2) && *took <= Duration::from_millis(20),
                "{took:?}"
            );
        } else {
            assert_eq!(*took, Duration::from_millis(100));
        }
    }
}

#[tokio::test(start_paused = true)]
async fn per_link_faults_only_touch_that_link() {
    let net = InProcNetwork::new(3);
    net.register(B, Echo::default());
    net.register(C, Echo::default());
    net.set_link_faults(A, B, LinkFaults::none().with_drop_probability(1.0))
        .unwrap();
    let a = net.endpoint(A);
    assert!(matches!(
        a.call(B, b("x")).await,
        Err(TransportError::Timeout(_))
    ));
    assert!(a.call(C, b("x")).await.is_ok());
    net.clear_faults();
    assert!(a.call(B, b("x")).await.is_ok());
}

#[tokio::test(start_paused = true)]
async fn duplicated_requests_are_handled_twice_and_answered_once() {
    let net = InProcNetwork::new(5);
    let echo = Echo::default();
    net.register(B, echo.clone());
    net.set_default_faults(LinkFaults::none().with_duplicate_probability(1.0))
        .unwrap();
    let a = net.endpoint(A);
    for i in 0..10 {
        let reply = a.call(B, Bytes::from(format!("{i}"))).await.unwrap();
        assert_eq!(reply, format!("1:{i}"));
    }
    tokio::time::sleep(Duration::from_millis(10)).await;
    assert_eq!(echo.calls.load(Ordering::SeqCst), 20);
    let stats = net.stats();
    assert_eq!(stats.duplicated, 10);
    assert_eq!(stats.delivered, 20);
}

#[tokio::test(start_paused = true)]
async fn invalid_fault_settings_are_refused_with_the_field_name() {
    let net = InProcNetwork::new(1);
    let err = net
        .set_default_faults(LinkFaults::none().with_drop_probability(-0.1))
        .unwrap_err();
    assert!(err.contains("drop_probability"), "{err}");
    let err = net
        .set_link_faults(
            A,
            B,
            LinkFaults::none().with_delay(Duration::from_secs(2), Duration::from_secs(1)),
        )
        .unwrap_err();
    assert!(err.contains("delay_min"), "{err}");
    let err = net
        .set_default_faults(LinkFaults::none().with_duplicate_probability(f64::NAN))
        .unwrap_err();
    assert!(err.contains("duplicate_probability"), "{err}");
}

#[tokio::test(start_paused = true)]
async fn oversized_requests_are_refused() {
    let net = InProcNetwork::new(1);
    let echo = Echo::default();
    net.register(B, echo.clone());
    let big = Bytes::from(vec![0u8; MAX_FRAME_BYTES + 1]);
    let err = net.endpoint(A).call(B, big).await.unwrap_err();
    assert!(
        matches!(err, TransportError::FrameTooLarge { bytes, limit, .. } if bytes == MAX_FRAME_BYTES + 1 && limit == MAX_FRAME_BYTES)
    );
    assert_eq!(echo.calls.load(Ordering::SeqCst), 0);
}

#[tokio::test(start_paused = true)]
async fn arc_of_a_transport_is_a_transport() {
    async fn via<T: Transport>(t: &T) -> Result<Bytes, TransportError> {
        t.call(B, b("arc")).await
    }
    let net = InProcNetwork::new(1);
    net.register(B, Echo::default());
    let shared = Arc::new(net.endpoint(A));
    assert_eq!(via(&shared).await.unwrap(), "1:arc");
}

struct InProcHarness(InProcNetwork);

impl TransportHarness for InProcHarness {
    type Transport = swarm_store::testkit::inproc::InProcTransport;
    async fn serve(&mut self, member: MemberId, handler: SuiteHandler) {
        self.0.register(member, handler);
    }
    async fn stop(&mut self, member: MemberId) {
        self.0.crash(member);
    }
    async fn transport(&mut self, member: MemberId) -> Self::Transport {
        self.0.endpoint(member)
    }
}

#[tokio::test(start_paused = true)]
async fn passes_the_transport_conformance_suite() {
    run_transport_suite(InProcHarness(InProcNetwork::new(11))).await;
}

#[tokio::test(start_paused = true)]
async fn passes_the_conformance_suite_with_delays_and_duplicates() {
    let net = InProcNetwork::new(12);
    net.set_default_faults(
        LinkFaults::none()
            .with_delay(Duration::from_millis(1), Duration::from_millis(30))
            .with_duplicate_probability(0.2),
    )
    .unwrap();
    run_transport_suite(InProcHarness(net)).await;
}
