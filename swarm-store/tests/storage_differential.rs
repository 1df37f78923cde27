//! Differential test: random operations on `DiskLogStorage` (tiny segments, tiny cache, random
//! restarts) and on `MemLogStorage` must give the same answers. Seeded; a failure prints the
//! seed, and `SWARM_DIFF_SEED=<n>` replays it.

use swarm_store::storage::disk::{DiskLogOptions, DiskLogStorage, MIN_SEGMENT_BYTES};
use swarm_store::storage::{LogPosition, LogRecord, LogStorage, MemLogStorage, StorageError};

/// Seeds per run.
const SEEDS: u64 = 8;
/// Operations per seed.
const OPS: usize = 250;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

fn options() -> DiskLogOptions {
    DiskLogOptions::default()
        .with_segment_bytes(MIN_SEGMENT_BYTES)
        .with_cache_bytes(2048)
}

fn kind<T>(r: &Result<T, StorageError>) -> &'static str {
    match r {
        Ok(_) => "ok",
        Err(StorageError::Contract(_)) => "contract",
        Err(_) => "other error",
    }
}

async fn run(seed: u64) -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let mut disk = DiskLogStorage::open(dir.path(), options()).map_err(|e| e.to_string())?;
    let mem = MemLogStorage::new();
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let mut term = 1;
    let mut tickets = Vec::new();
    for op in 0..OPS {
        let state = mem.state().await.map_err(|e| e.to_string())?;
        let last = state.last.map_or(0, |p| p.index);
        let purged = state.last_purged.map_or(0, |p| p.index);
        let ctx = |what: &str| format!("seed {seed} op {op} ({what})");
        match rng.below(100) {
            0..=49 => {
                // Mostly valid appends, sometimes off by a little.
                let start = match rng.below(10) {
                    0 => last + 2,
                    1 => last.saturating_sub(1),
                    _ => last + 1,
                };
                let n = 1 + rng.below(12);
                let records: Vec<LogRecord> = (start..start + n)
                    .map(|i| LogRecord {
                        index: i,
                        term,
                        payload: vec![(i ^ term) as u8; rng.below(400) as usize].into(),
                    })
                    .collect();
                let a = disk.append(records.clone()).await;
                let b = mem.append(records).await;
                if kind(&a) != kind(&b) {
                    return Err(format!("{}: disk {a:?} mem {b:?}", ctx("append")));
                }
                if let Ok(t) = a {
                    tickets.push(t);
                }
            }
            50..=59 => {
                let at = purged + rng.below(last.saturating_sub(purged) + 3);
                disk.truncate(at)
                    .await
                    .map_err(|e| format!("{}: {e}", ctx("truncate")))?;
                mem.truncate(at).await.map_err(|e| e.to_string())?;
                term += 1;
            }
            60..=65 => {
                let at = purged + rng.below(last.saturating_sub(purged) + 4);
                let p = LogPosition { term, index: at };
                // Sometimes against the contract (a purge that would leave a hole before the
                // first entry, when the log does not start at 1): both must refuse it alike.
                let a = disk.purge(p).await;
                let b = mem.purge(p).await;
                if kind(&a) != kind(&b) || matches!(kind(&a), "other error") {
                    return Err(format!("{}: disk {a:?} mem {b:?}", ctx("purge")));
                }
            }
            66..=70 => {
                let vote = rng.next().to_le_bytes();
                disk.save_vote(&vote)
                    .await
                    .map_err(|e| format!("{}: {e}", ctx("vote")))?;
                mem.save_vote(&vote).await.map_err(|e| e.to_string())?;
            }
            71..=75 => {
                // Restart. Dropping the last handle drains the writer, so tickets still
                // pending at the drop resolve Ok; half the time they are awaited before.
                let await_first = rng.below(2) == 0;
                if await_first {
                    for t in tickets.drain(..) {
                        t.await.map_err(|e| format!("{}: {e}", ctx("ticket")))?;
                    }
                }
                drop(disk);
                for t in tickets.drain(..) {
                    t.await
                        .map_err(|e| format!("{}: {e}", ctx("ticket after drop")))?;
                }
                disk = DiskLogStorage::open(dir.path(), options())
                    .map_err(|e| format!("{}: {e}", ctx("reopen")))?;
            }
            _ => {
                let from = rng.below(last + 3);
                let to = from + rng.below(40);
                let a = disk
                    .read(from..=to)
                    .await
                    .map_err(|e| format!("{}: {e}", ctx("read")))?;
                let b = mem.read(from..=to).await.map_err(|e| e.to_string())?;
                if a != b {
                    return Err(format!("{}: read({from}..={to}) differs", ctx("read")));
                }
            }
        }
        let a = disk.state().await.map_err(|e| e.to_string())?;
        let b = mem.state().await.map_err(|e| e.to_string())?;
        if a != b {
            return Err(format!("{}: state disk {a:?} mem {b:?}", ctx("state")));
        }
        let a = disk.read_vote().await.map_err(|e| e.to_string())?;
        let b = mem.read_vote().await.map_err(|e| e.to_string())?;
        if a != b {
            return Err(format!("{}: vote differs", ctx("vote")));
        }
    }
    for t in tickets {
        t.await.map_err(|e| e.to_string())?;
    }
    let a = disk.read(0..=u64::MAX).await.map_err(|e| e.to_string())?;
    let b = mem.read(0..=u64::MAX).await.map_err(|e| e.to_string())?;
    if a != b {
        return Err(format!("seed {seed}: final logs differ"));
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disk_and_memory_storage_agree() {
    let base: u64 = std::env::var("SWARM_DIFF_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(7, |d| d.as_secs())
        });
    let seeds = if std::env::var("SWARM_DIFF_SEED").is_ok() {
        1
    } else {
        SEEDS
    };
    for seed in base..base + seeds {
        if let Err(e) = run(seed).await {
            panic!("{e}\nreplay with SWARM_DIFF_SEED={seed}");
        }
    }
}
