//! Background threads at a lower priority, for work that must not take the processor from the
//! threads serving clients: encoding and writing snapshots.

use std::io;

/// How far below the store's other threads background work runs: a nice increment (Linux
/// applies it to the calling thread only). At +10 a busy background thread gets about a tenth
/// of a processor that a normal thread also wants, and all of an idle one.
pub(crate) const BACKGROUND_NICE_INCREMENT: i32 = 10;

/// Lowers the calling thread's priority by [`BACKGROUND_NICE_INCREMENT`]. Best effort: at the
/// normal priority background work is only less polite.
pub(crate) fn lower_this_thread_priority() {
    if let Err(e) = rustix::process::nice(BACKGROUND_NICE_INCREMENT) {
        tracing::debug!(error = %e, "cannot lower a background thread's priority");
    }
}

/// Runs `f` on a new thread named `swarm-store-{name}` at [`BACKGROUND_NICE_INCREMENT`] and
/// waits for its result without blocking the async worker. A panic in `f` becomes an error.
/// Each call spawns one thread: meant for rare, long jobs (one per snapshot), not for many
/// small ones.
pub(crate) async fn run_low_priority<F, T>(name: &str, f: F) -> Result<T, io::Error>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name(format!("swarm-store-{name}"))
        .spawn(move || {
            lower_this_thread_priority();
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
            // The caller may have stopped waiting; the result is then dropped.
            let _ = tx.send(result);
        })?;
    match rx.await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(_)) => Err(io::Error::other("background work panicked")),
        Err(_) => Err(io::Error::other("background thread ended without a result")),
    }
}

/// Drops `value` on a new thread named `swarm-store-{name}` at [`BACKGROUND_NICE_INCREMENT`]:
/// for large values whose freeing would hold up the caller (thousands of purged log records).
/// If no thread can be started, `value` is dropped here.
pub(crate) fn drop_in_background<T: Send + 'static>(name: &str, value: T) {
    let spawned = std::thread::Builder::new()
        .name(format!("swarm-store-{name}"))
        .spawn(move || {
            lower_this_thread_priority();
            drop(value);
        });
    // A thread that cannot start drops its closure, and `value` with it, right here.
    if let Err(e) = spawned {
        tracing::debug!(error = %e, "cannot start a thread to free memory; freed it here");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn runs_on_a_named_lower_priority_thread_and_reports_panics() {
        let (name, nice) = run_low_priority("probe", || {
            let name = std::thread::current().name().map(str::to_owned);
            // `nice(0)` reads the calling thread's value without changing it.
            (name, rustix::process::nice(0).ok())
        })
        .await
        .expect("the job runs");
        assert_eq!(name.as_deref(), Some("swarm-store-probe"));
        let base = rustix::process::nice(0).expect("reads this thread's nice value");
        if let Some(nice) = nice {
            // Lowering is refused only where the thread is already at the bottom.
            assert!(
                nice == (base + BACKGROUND_NICE_INCREMENT).min(19),
                "{nice} vs {base}"
            );
        }
        let err = run_low_priority("panics", || -> () { panic!("boom") })
            .await
            .expect_err("a panic is an error");
        assert!(err.to_string().contains("panicked"), "{err}");
    }

    #[test]
    fn a_value_dropped_in_the_background_is_dropped_on_a_named_thread() {
        struct Probe(std::sync::mpsc::Sender<Option<String>>);
        impl Drop for Probe {
            fn drop(&mut self) {
                let _ = self
                    .0
                    .send(std::thread::current().name().map(str::to_owned));
            }
        }
        let (tx, rx) = std::sync::mpsc::channel();
        drop_in_background("probe-drop", Probe(tx));
        let name = rx.recv().expect("dropped");
        assert_eq!(name.as_deref(), Some("swarm-store-probe-drop"));
    }
}
