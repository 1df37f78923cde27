//! Task output: a bounded ring buffer of chunks served as a stream.

use bytes::Bytes;
use futures::stream::{self, Stream, StreamExt};
use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::SystemTime;
use tokio::sync::broadcast;

/// Default cap on the output a controller keeps per task: 1 MiB. Older output is dropped first.
pub const DEFAULT_LOG_BUFFER_BYTES: usize = 1024 * 1024;

/// Largest chunk recorded at once; longer reads are split.
pub const MAX_LOG_CHUNK_BYTES: usize = 16 * 1024;

/// Chunks a slow follower may lag behind before it misses output (the gap is counted in
/// [`LogBuffer::dropped_bytes`] only for the buffer; a lagging follower just skips ahead).
pub const LOG_FOLLOW_CHANNEL_CAPACITY: usize = 1024;

/// Which output stream a chunk came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogStreamKind {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

/// A piece of task output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogChunk {
    /// Where it came from.
    pub stream: LogStreamKind,
    /// When it was read.
    pub timestamp: SystemTime,
    /// The bytes (not necessarily whole lines).
    pub data: Bytes,
}

/// What [`Controller::logs`](crate::runtime::Controller::logs) returns.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LogOptions {
    /// Keep the stream open and yield new output until the task's output ends.
    pub follow: bool,
    /// Only the last `tail_bytes` bytes of the buffered output (`None`: all of it).
    pub tail_bytes: Option<usize>,
}

/// A stream of log chunks. It ends when the buffered output has been yielded (or, when
/// following, when the task's output is closed).
pub type LogStream = Pin<Box<dyn Stream<Item = LogChunk> + Send + 'static>>;

/// Collects text from a finite log stream (convenience for tests and tools; lossy UTF-8).
pub async fn collect_text(mut stream: LogStream) -> String {
    let mut out = Vec::new();
    while let Some(chunk) = stream.next().await {
        out.extend_from_slice(&chunk.data);
    }
    String::from_utf8_lossy(&out).into_owned()
}

struct Inner {
    chunks: VecDeque<LogChunk>,
    bytes: usize,
    dropped_bytes: u64,
    /// The live followers' channel, made by the first follower: a channel holds
    /// [`LOG_FOLLOW_CHANNEL_CAPACITY`] slots from its creation (about 100 KiB), which a
    /// task nobody follows (most of them) never needs.
    follow: Option<broadcast::Sender<LogChunk>>,
    /// Whether [`LogBuffer::close`] was called (no follower is taken on after it).
    closed: bool,
}

/// A bounded, shareable ring buffer of output chunks with live followers. Adapters may reuse it.
///
/// ```
/// use swarm_core::runtime::{LogBuffer, LogStreamKind};
///
/// let logs = LogBuffer::new(8);
/// logs.push(LogStreamKind::Stdout, b"0123456789");
/// assert_eq!(logs.snapshot_bytes(), b"23456789");
/// assert_eq!(logs.dropped_bytes(), 2);
/// ```
#[derive(Clone)]
pub struct LogBuffer {
    cap_bytes: usize,
    inner: Arc<Mutex<Inner>>,
}

impl std::fmt::Debug for LogBuffer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let g = self.lock();
        f.debug_struct("LogBuffer")
            .field("cap_bytes", &self.cap_bytes)
            .field("bytes", &g.bytes)
            .field("dropped_bytes", &g.dropped_bytes)
            .finish()
    }
}

impl LogBuffer {
    /// An empty buffer keeping at most `cap_bytes` bytes.
    pub fn new(cap_bytes: usize) -> Self {
        LogBuffer {
            cap_bytes,
            inner: Arc::new(Mutex::new(Inner {
                chunks: VecDeque::new(),
                bytes: 0,
                dropped_bytes: 0,
                follow: None,
                closed: false,
            })),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding this lock cannot leave `Inner` inconsistent in a way that matters
        // for logs, so a poisoned lock is used as is.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The cap in bytes.
    pub fn cap_bytes(&self) -> usize {
        self.cap_bytes
    }

    /// Appends output, dropping the oldest bytes beyond the cap.
    pub fn push(&self, stream: LogStreamKind, data: &[u8]) {
        for piece in data.chunks(MAX_LOG_CHUNK_BYTES) {
            self.push_one(stream, piece);
        }
    }

    fn push_one(&self, stream: LogStreamKind, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        let chunk = LogChunk {
            stream,
            timestamp: crate::clock::now(),
            data: Bytes::copy_from_slice(data),
        };
        let mut g = self.lock();
        if let Some(tx) = &g.follow {
            // No receiver is fine.
            let _ = tx.send(chunk.clone());
        }
        g.bytes += chunk.data.len();
        g.chunks.push_back(chunk);
        while g.bytes > self.cap_bytes {
            let excess = g.bytes - self.cap_bytes;
            let Some(front) = g.chunks.front_mut() else {
                break;
            };
            if front.data.len() <= excess {
                let n = front.data.len();
                g.chunks.pop_front();
                g.bytes -= n;
                g.dropped_bytes += n as u64;
            } else {
                let _ = front.data.split_to(excess);
                g.bytes -= excess;
                g.dropped_bytes += excess as u64;
            }
        }
    }

    /// Marks the output as finished: followers' streams end after the buffered output.
    pub fn close(&self) {
        let mut g = self.lock();
        g.closed = true;
        // Dropping the sender ends every follower's stream once it read what was sent.
        g.follow = None;
    }

    /// `true` once [`LogBuffer::close`] was called.
    pub fn is_closed(&self) -> bool {
        self.lock().closed
    }

    /// Bytes currently buffered (at most the cap).
    pub fn len_bytes(&self) -> usize {
        self.lock().bytes
    }

    /// Bytes dropped so far because of the cap.
    pub fn dropped_bytes(&self) -> u64 {
        self.lock().dropped_bytes
    }

    /// All buffered bytes, concatenated.
    pub fn snapshot_bytes(&self) -> Vec<u8> {
        let g = self.lock();
        let mut out = Vec::with_capacity(g.bytes);
        for c in &g.chunks {
            out.extend_from_slice(&c.data);
        }
        out
    }

    /// The buffered output (optionally only its tail) followed, if `options.follow`, by new
    /// output until [`LogBuffer::close`].
    pub fn stream(&self, options: LogOptions) -> LogStream {
        let mut g = self.lock();
        let mut chunks: Vec<LogChunk> = g.chunks.iter().cloned().collect();
        if let Some(tail) = options.tail_bytes {
            let mut keep = 0usize;
            let mut start = chunks.len();
            while start > 0 && keep < tail {
                start -= 1;
                keep += chunks[start].data.len();
            }
            chunks.drain(..start);
            if keep > tail {
                if let Some(first) = chunks.first_mut() {
                    let _ = first.data.split_to(keep - tail);
                }
            }
        }
        // Subscribing under the lock: no chunk is lost or duplicated between snapshot and live.
        let live = if options.follow && !g.closed {
            let tx = g
                .follow
                .get_or_insert_with(|| broadcast::channel(LOG_FOLLOW_CHANNEL_CAPACITY).0);
            Some(tx.subscribe())
        } else {
            None
        };
        drop(g);
        let buffered = stream::iter(chunks);
        match live {
            None => Box::pin(buffered),
            Some(rx) => {
                let live = stream::unfold(rx, |mut rx| async move {
                    loop {
                        match rx.recv().await {
                            Ok(chunk) => return Some((chunk, rx)),
                            Err(broadcast::error::RecvError::Lagged(_)) => continue,
                            Err(broadcast::error::RecvError::Closed) => return None,
                        }
                    }
                });
                Box::pin(buffered.chain(live))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_and_tail() {
        let b = LogBuffer::new(10);
        b.push(LogStreamKind::Stdout, b"hello ");
        b.push(LogStreamKind::Stderr, b"world!!");
        assert_eq!(b.len_bytes(), 10);
        assert_eq!(b.snapshot_bytes(), b"lo world!!");
        assert_eq!(b.dropped_bytes(), 3);
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let tail = rt.block_on(collect_text(b.stream(LogOptions {
            follow: false,
            tail_bytes: Some(4),
        })));
        assert_eq!(tail, "ld!!");
    }

    #[tokio::test]
    async fn follow_ends_on_close() {
        let b = LogBuffer::new(100);
        b.push(LogStreamKind::Stdout, b"a");
        let s = b.stream(LogOptions {
            follow: true,
            tail_bytes: None,
        });
        b.push(LogStreamKind::Stdout, b"b");
        b.close();
        assert_eq!(collect_text(s).await, "ab");
    }

    #[tokio::test]
    async fn every_follower_gets_what_follows_its_start_and_none_after_close() {
        let b = LogBuffer::new(100);
        b.push(LogStreamKind::Stdout, b"a");
        let follow = LogOptions {
            follow: true,
            tail_bytes: None,
        };
        let first = b.stream(follow);
        b.push(LogStreamKind::Stdout, b"b");
        let second = b.stream(follow);
        b.push(LogStreamKind::Stdout, b"c");
        assert!(!b.is_closed());
        b.close();
        assert!(b.is_closed());
        assert_eq!(collect_text(first).await, "abc");
        assert_eq!(collect_text(second).await, "abc");
        // Following a closed buffer gives what it holds, then ends.
        b.push(LogStreamKind::Stdout, b"d");
        assert_eq!(collect_text(b.stream(follow)).await, "abcd");
    }
}
