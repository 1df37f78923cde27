//! The async runtime of the store's Raft group: tokio, with openraft's randomness (election
//! timeouts, the tick's first phase, snapshot transfer ids) seedable per member, so a
//! simulation replays exactly.
//!
//! openraft draws every random number it needs through [`AsyncRuntime::thread_rng`]. This
//! runtime answers from a seeded [`SplitMix64`] when the calling task runs under a seed
//! ([`StoreRuntime::seeded`]) and from the OS-seeded [`rand::rngs::ThreadRng`] otherwise, which
//! is what production gets (members that shared a seed would time out in lockstep and split
//! their votes).
//!
//! The seed is a task-local value, so several members on one thread (a simulation) each keep
//! their own sequence. A task spawned through this runtime (openraft spawns its core, tick,
//! replication and snapshot tasks through it) inherits a seed derived from its parent's, and
//! the parent's seed advances, as every draw advances it: the sequences depend only on the seed
//! and on the order of spawns and draws, which a single-threaded runtime on a paused clock
//! keeps fixed. Tasks spawned with `tokio::spawn` directly carry no seed; openraft never draws
//! from them.
//!
//! The other runtime primitives are tokio's, except the watch channel: tokio's wakes its
//! waiters in an order drawn from tokio's own RNG (seedable only with `tokio_unstable`), so
//! the store's runtime uses a watch that wakes them in registration order
//! ([`watch::FifoWatch`]). openraft's selects are biased (argument order) already. Blocking
//! work ([`StoreRuntime::run_blocking`]) runs inline under a seed: on tokio's blocking pool a
//! real thread's timing would decide where its result lands among other work due at the same
//! virtual instant.

#![allow(deprecated)] // openraft re-exports its tokio runtime under a deprecated path

pub(crate) mod watch;

use crate::rng::SplitMix64;
use openraft::async_runtime::{Select2, Select3, Select4};
use openraft::{AsyncRuntime, OptionalSend};
use std::cell::Cell;
use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::time::Duration;

/// The runtime every call is delegated to, except spawning and randomness.
type Inner = openraft::impls::TokioRuntime;

/// Additive constant of the seed handed to a spawned task (the golden ratio's fraction).
const SPAWN_GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;
/// Additive constant of a seed's successor after a draw or a spawn (sqrt(2)'s fraction).
const ADVANCE_GAMMA: u64 = 0x6A09_E667_F3BC_C908;

tokio::task_local! {
    /// The current task's seed; absent outside a seeded scope.
    static RAFT_SEED: Cell<u64>;
}

/// splitmix64's output function applied to `seed + gamma`: a bijection, so distinct seeds stay
/// distinct, and two gammas give unrelated sequences.
fn mix(seed: u64, gamma: u64) -> u64 {
    let mut z = seed.wrapping_add(gamma);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Takes the current task's seed and advances it; `None` outside a seeded scope.
fn take_seed() -> Option<u64> {
    RAFT_SEED
        .try_with(|cell| {
            let seed = cell.get();
            cell.set(mix(seed, ADVANCE_GAMMA));
            seed
        })
        .ok()
}

/// The store's openraft runtime: tokio with seedable randomness (see the module docs).
#[derive(Debug)]
pub(crate) struct StoreRuntime {
    inner: Inner,
}

impl StoreRuntime {
    /// Runs `future` with openraft's randomness seeded by `seed` (for the tasks it spawns through
    /// this runtime too); with `None` it runs `future` as is, on OS entropy.
    pub(crate) async fn seeded<F: Future>(seed: Option<u64>, future: F) -> F::Output {
        match seed {
            Some(seed) => RAFT_SEED.scope(Cell::new(seed), future).await,
            None => future.await,
        }
    }

    /// Runs blocking work: on tokio's blocking pool normally; inline on the calling task under a
    /// seed (a simulation), where a pool thread's real timing would decide where the result
    /// lands among the other work due at the same virtual instant. A panic in `f` becomes an
    /// error either way.
    pub(crate) async fn run_blocking<F, T>(f: F) -> Result<T, io::Error>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        if RAFT_SEED.try_with(|_| ()).is_ok() {
            return std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
                .map_err(|_| io::Error::other("blocking work panicked"));
        }
        tokio::task::spawn_blocking(f)
            .await
            .map_err(io::Error::other)
    }

    /// Runs CPU-heavy background work (encoding a snapshot) on a thread of its own at a lower
    /// priority ([`crate::background::run_low_priority`]), so the threads serving clients keep
    /// the processor when both want it; inline under a seed, like [`Self::run_blocking`].
    pub(crate) async fn run_background<F, T>(name: &str, f: F) -> Result<T, io::Error>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        if RAFT_SEED.try_with(|_| ()).is_ok() {
            return Self::run_blocking(f).await;
        }
        crate::background::run_low_priority(name, f).await
    }

    /// 64 random bits: from the task's seed in a seeded scope, from OS entropy otherwise.
    pub(crate) fn random_u64() -> u64 {
        rand::Rng::next_u64(&mut Self::thread_rng())
    }
}

/// The generator [`StoreRuntime::thread_rng`] hands out.
pub(crate) enum StoreRng {
    /// Under a seed: a generator seeded from the task's seed.
    Seeded(SplitMix64),
    /// Production: the OS-seeded thread generator.
    Os(rand::rngs::ThreadRng),
}

impl rand::TryRng for StoreRng {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        Ok(match self {
            // The high half: splitmix64's best bits.
            StoreRng::Seeded(r) => (r.next_u64() >> 32) as u32,
            StoreRng::Os(r) => rand::Rng::next_u32(r),
        })
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        Ok(match self {
            StoreRng::Seeded(r) => r.next_u64(),
            StoreRng::Os(r) => rand::Rng::next_u64(r),
        })
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        match self {
            StoreRng::Seeded(r) => {
                for chunk in dst.chunks_mut(8) {
                    let bytes = r.next_u64().to_le_bytes();
                    chunk.copy_from_slice(&bytes[..chunk.len()]);
                }
            }
            StoreRng::Os(r) => rand::Rng::fill_bytes(r, dst),
        }
        Ok(())
    }
}

impl AsyncRuntime for StoreRuntime {
    type JoinError = <Inner as AsyncRuntime>::JoinError;
    type JoinHandle<T: OptionalSend + 'static> = <Inner as AsyncRuntime>::JoinHandle<T>;
    type Sleep = <Inner as AsyncRuntime>::Sleep;
    type Instant = <Inner as AsyncRuntime>::Instant;
    type TimeoutError = <Inner as AsyncRuntime>::TimeoutError;
    type Timeout<R, T: Future<Output = R> + OptionalSend> = <Inner as AsyncRuntime>::Timeout<R, T>;
    type ThreadLocalRng = StoreRng;

    fn spawn<T>(future: T) -> Self::JoinHandle<T::Output>
    where
        T: Future + OptionalSend + 'static,
        T::Output: OptionalSend + 'static,
    {
        match take_seed() {
            Some(seed) => Inner::spawn(RAFT_SEED.scope(Cell::new(mix(seed, SPAWN_GAMMA)), future)),
            None => Inner::spawn(future),
        }
    }

    fn sleep(duration: Duration) -> Self::Sleep {
        Inner::sleep(duration)
    }

    fn sleep_until(deadline: Self::Instant) -> Self::Sleep {
        Inner::sleep_until(deadline)
    }

    fn timeout<R, F: Future<Output = R> + OptionalSend>(
        duration: Duration,
        future: F,
    ) -> Self::Timeout<R, F> {
        Inner::timeout(duration, future)
    }

    fn timeout_at<R, F: Future<Output = R> + OptionalSend>(
        deadline: Self::Instant,
        future: F,
    ) -> Self::Timeout<R, F> {
        Inner::timeout_at(deadline, future)
    }

    fn select2<A, B>(
        a: A,
        b: B,
    ) -> impl Future<Output = Select2<A::Output, B::Output>> + OptionalSend
    where
        A: Future + OptionalSend,
        B: Future + OptionalSend,
    {
        // Biased (argument order), as openraft's default: no randomness in the choice.
        Inner::select2(a, b)
    }

    fn select3<A, B, C>(
        a: A,
        b: B,
        c: C,
    ) -> impl Future<Output = Select3<A::Output, B::Output, C::Output>> + OptionalSend
    where
        A: Future + OptionalSend,
        B: Future + OptionalSend,
        C: Future + OptionalSend,
    {
        Inner::select3(a, b, c)
    }

    fn select4<A, B, C, D>(
        a: A,
        b: B,
        c: C,
        d: D,
    ) -> impl Future<Output = Select4<A::Output, B::Output, C::Output, D::Output>> + OptionalSend
    where
        A: Future + OptionalSend,
        B: Future + OptionalSend,
        C: Future + OptionalSend,
        D: Future + OptionalSend,
    {
        Inner::select4(a, b, c, d)
    }

    fn is_panic(join_error: &Self::JoinError) -> bool {
        Inner::is_panic(join_error)
    }

    fn thread_rng() -> Self::ThreadLocalRng {
        match take_seed() {
            Some(seed) => StoreRng::Seeded(SplitMix64::new(seed)),
            None => StoreRng::Os(rand::rng()),
        }
    }

    type Mpsc = <Inner as AsyncRuntime>::Mpsc;
    /// Not tokio's watch: its waiters wake in an order drawn from tokio's unseeded RNG.
    type Watch = watch::FifoWatch;
    type Oneshot = <Inner as AsyncRuntime>::Oneshot;
    type Mutex<T: OptionalSend + 'static> = <Inner as AsyncRuntime>::Mutex<T>;

    fn new(threads: usize) -> Self {
        StoreRuntime {
            inner: Inner::new(threads),
        }
    }

    fn block_on<F, T>(&mut self, future: F) -> T
    where
        F: Future<Output = T>,
    {
        self.inner.block_on(future)
    }

    /// [`StoreRuntime::run_blocking`]: inline under a seed, on tokio's blocking pool otherwise.
    fn spawn_blocking<F, T>(f: F) -> impl Future<Output = Result<T, io::Error>> + Send
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        Self::run_blocking(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::RngExt;

    /// openraft's own conformance suite for `AsyncRuntime` implementations (spawn, sleep,
    /// timeouts, channels, watch, mutex, thread RNG, deterministic-simulation checks).
    #[test]
    fn openraft_runtime_conformance_suite_passes() {
        openraft::testing::runtime::Suite::<StoreRuntime>::test_all();
    }

    fn draws() -> Vec<u64> {
        (0..4)
            .map(|_| StoreRuntime::thread_rng().random_range(150..300))
            .collect()
    }

    async fn spawned_draw() -> u64 {
        StoreRuntime::spawn(async { StoreRuntime::random_u64() })
            .await
            .expect("the task does not panic")
    }

    #[tokio::test(flavor = "current_thread")]
    async fn same_seed_same_draws_in_tasks_too() {
        let a = StoreRuntime::seeded(Some(7), async { (draws(), spawned_draw().await) }).await;
        let b = StoreRuntime::seeded(Some(7), async { (draws(), spawned_draw().await) }).await;
        assert_eq!(a, b);
        let c = StoreRuntime::seeded(Some(8), async { (draws(), spawned_draw().await) }).await;
        assert_ne!(a, c);
        // Successive draws differ, and a child's sequence is not its parent's.
        assert!(a.0.windows(2).any(|w| w[0] != w[1]), "{a:?}");
        let parent_next = StoreRuntime::seeded(Some(7), async {
            let _ = draws();
            StoreRuntime::random_u64()
        })
        .await;
        assert_ne!(parent_next, a.1);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn unseeded_draws_come_from_the_os() {
        // Outside a seeded scope nothing panics and 64-bit draws do not repeat.
        let x: Vec<u64> = (0..4).map(|_| StoreRuntime::random_u64()).collect();
        assert!(x.windows(2).all(|w| w[0] != w[1]), "{x:?}");
        assert_ne!(spawned_draw().await, spawned_draw().await);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn blocking_work_runs_inline_only_under_a_seed() {
        let here = std::thread::current().id();
        let seeded = StoreRuntime::seeded(Some(1), async {
            StoreRuntime::run_blocking(|| std::thread::current().id()).await
        })
        .await
        .expect("no panic");
        assert_eq!(seeded, here);
        let pooled = StoreRuntime::run_blocking(|| std::thread::current().id())
            .await
            .expect("no panic");
        assert_ne!(pooled, here);
        for seed in [Some(1), None] {
            let panicked = StoreRuntime::seeded(seed, async {
                StoreRuntime::run_blocking(|| panic!("boom")).await
            })
            .await;
            assert!(panicked.is_err(), "{seed:?}");
        }
    }

    #[test]
    fn fill_bytes_fills_odd_lengths() {
        let mut r = StoreRng::Seeded(SplitMix64::new(1));
        let mut buf = [0u8; 13];
        rand::Rng::fill_bytes(&mut r, &mut buf);
        assert!(buf[8..].iter().any(|&b| b != 0));
    }
}
