//! A task's output cut into log messages, one per line, and the lines a request keeps of the
//! output so far (`--since`, `--tail`).

use crate::manager::logbroker::{LogContext, LogMessage, LogRequest, MAX_LOG_LINE_BYTES};
use crate::runtime::{LogChunk, LogStreamKind};
use std::time::SystemTime;

/// A line being assembled: when its first piece was read, and its bytes so far.
#[derive(Debug)]
struct Partial {
    timestamp: SystemTime,
    bytes: Vec<u8>,
}

/// Cuts a task's output chunks into lines, each stream on its own (a line of stdout is never
/// mixed with stderr). A line carries the time its first piece was read; a line longer than
/// [`MAX_LOG_LINE_BYTES`] becomes several messages, so a partial line never holds more than
/// that plus one chunk.
///
/// ```
/// use std::time::SystemTime;
/// use swarm_core::agent::LogLineSplitter;
/// use swarm_core::manager::logbroker::LogContext;
/// use swarm_core::runtime::{LogChunk, LogStreamKind};
///
/// let context = LogContext { node: "n1".into(), service: "s1".into(), task: "t1".into() };
/// let mut lines = LogLineSplitter::new(context);
/// let chunk = |data: &'static [u8]| LogChunk {
///     stream: LogStreamKind::Stdout,
///     timestamp: SystemTime::now(),
///     data: data.into(),
/// };
/// let first = lines.push(&chunk(b"hello\nwor"));
/// assert_eq!(first.len(), 1);
/// assert_eq!(first[0].text(), "hello");
/// assert!(lines.push(&chunk(b"ld")).is_empty());
/// let rest = lines.finish();
/// assert_eq!(rest[0].text(), "world");
/// ```
#[derive(Debug)]
pub struct LogLineSplitter {
    context: LogContext,
    stdout: Option<Partial>,
    stderr: Option<Partial>,
}

impl LogLineSplitter {
    /// A splitter for the task `context` names.
    pub fn new(context: LogContext) -> Self {
        LogLineSplitter {
            context,
            stdout: None,
            stderr: None,
        }
    }

    /// Adds a chunk; returns the lines it completed (and the pieces of an over-long line).
    pub fn push(&mut self, chunk: &LogChunk) -> Vec<LogMessage> {
        let mut out = Vec::new();
        let context = &self.context;
        let slot = match chunk.stream {
            LogStreamKind::Stdout => &mut self.stdout,
            LogStreamKind::Stderr => &mut self.stderr,
        };
        let mut rest: &[u8] = &chunk.data;
        while let Some(pos) = rest.iter().position(|&b| b == b'\n') {
            let (timestamp, mut bytes) = match slot.take() {
                Some(p) => (p.timestamp, p.bytes),
                None => (chunk.timestamp, Vec::new()),
            };
            bytes.extend_from_slice(&rest[..pos]);
            emit(&mut out, context, chunk.stream, timestamp, bytes);
            rest = &rest[pos + 1..];
        }
        if !rest.is_empty() {
            let partial = slot.get_or_insert_with(|| Partial {
                timestamp: chunk.timestamp,
                bytes: Vec::new(),
            });
            partial.bytes.extend_from_slice(rest);
            if partial.bytes.len() > MAX_LOG_LINE_BYTES {
                let keep = partial
                    .bytes
                    .split_off(partial.bytes.len() - partial.bytes.len() % MAX_LOG_LINE_BYTES);
                let full = std::mem::replace(&mut partial.bytes, keep);
                emit(&mut out, context, chunk.stream, partial.timestamp, full);
                partial.timestamp = chunk.timestamp;
                if partial.bytes.is_empty() {
                    *slot = None;
                }
            }
        }
        out
    }

    /// The partial lines left at the end of the output (stdout's first).
    pub fn finish(&mut self) -> Vec<LogMessage> {
        let mut out = Vec::new();
        for (stream, slot) in [
            (LogStreamKind::Stdout, &mut self.stdout),
            (LogStreamKind::Stderr, &mut self.stderr),
        ] {
            if let Some(p) = slot.take() {
                emit(&mut out, &self.context, stream, p.timestamp, p.bytes);
            }
        }
        out
    }
}

/// Appends `bytes` as one message, or several of at most [`MAX_LOG_LINE_BYTES`].
fn emit(
    out: &mut Vec<LogMessage>,
    context: &LogContext,
    stream: LogStreamKind,
    timestamp: SystemTime,
    bytes: Vec<u8>,
) {
    let message = |line: Vec<u8>| LogMessage {
        context: context.clone(),
        stream,
        timestamp,
        line,
    };
    if bytes.len() <= MAX_LOG_LINE_BYTES {
        out.push(message(bytes));
    } else {
        out.extend(
            bytes
                .chunks(MAX_LOG_LINE_BYTES)
                .map(|c| message(c.to_vec())),
        );
    }
}

/// Whether `message` was read at or after the request's `since`.
pub fn is_since(message: &LogMessage, request: &LogRequest) -> bool {
    request.since.is_none_or(|since| message.timestamp >= since)
}

/// The lines `request` keeps of a task's output so far: those read at or after `since`, then
/// the last `tail` of them.
pub fn select_history(lines: Vec<LogMessage>, request: &LogRequest) -> Vec<LogMessage> {
    let mut kept: Vec<LogMessage> = lines.into_iter().filter(|m| is_since(m, request)).collect();
    if let Some(tail) = request.tail {
        let tail = usize::try_from(tail).unwrap_or(usize::MAX);
        let skip = kept.len().saturating_sub(tail);
        kept.drain(..skip);
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn at(ms: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_millis(ms)
    }

    fn chunk(stream: LogStreamKind, ms: u64, data: &[u8]) -> LogChunk {
        LogChunk {
            stream,
            timestamp: at(ms),
            data: bytes::Bytes::copy_from_slice(data),
        }
    }

    fn splitter() -> LogLineSplitter {
        LogLineSplitter::new(LogContext {
            node: "n".into(),
            service: "s".into(),
            task: "t".into(),
        })
    }

    fn texts(lines: &[LogMessage]) -> Vec<String> {
        lines.iter().map(|m| m.text().into_owned()).collect()
    }

    #[test]
    fn streams_are_cut_apart_and_a_line_keeps_the_time_of_its_first_piece() {
        let mut s = splitter();
        assert!(
            s.push(&chunk(LogStreamKind::Stdout, 1, b"out-a"))
                .is_empty()
        );
        let err = s.push(&chunk(LogStreamKind::Stderr, 2, b"err-a\nerr-b"));
        assert_eq!(texts(&err), ["err-a"]);
        assert_eq!(err[0].stream, LogStreamKind::Stderr);
        let out = s.push(&chunk(LogStreamKind::Stdout, 3, b"-end\n\nnext\n"));
        assert_eq!(texts(&out), ["out-a-end", "", "next"]);
        assert_eq!(out[0].timestamp, at(1));
        assert_eq!(out[2].timestamp, at(3));
        let rest = s.finish();
        assert_eq!(texts(&rest), ["err-b"]);
        assert_eq!(rest[0].timestamp, at(2));
        assert!(s.finish().is_empty());
    }

    #[test]
    fn an_over_long_line_becomes_pieces_of_the_largest_size() {
        let mut s = splitter();
        let long = vec![b'x'; MAX_LOG_LINE_BYTES + 10];
        let pieces = s.push(&chunk(LogStreamKind::Stdout, 1, &long));
        assert_eq!(pieces.len(), 1);
        assert_eq!(pieces[0].line.len(), MAX_LOG_LINE_BYTES);
        let end = s.push(&chunk(LogStreamKind::Stdout, 2, b"yz\n"));
        assert_eq!(end.len(), 1);
        assert_eq!(end[0].line.len(), 12);
        let mut whole = splitter();
        let mut line = vec![b'a'; 2 * MAX_LOG_LINE_BYTES + 1];
        line.push(b'\n');
        let cut = whole.push(&chunk(LogStreamKind::Stdout, 1, &line));
        let sizes: Vec<usize> = cut.iter().map(|m| m.line.len()).collect();
        assert_eq!(sizes, [MAX_LOG_LINE_BYTES, MAX_LOG_LINE_BYTES, 1]);
    }

    #[test]
    fn since_then_tail_select_the_history() {
        let mut s = splitter();
        let mut lines = Vec::new();
        for (ms, text) in [(1, "a\n"), (2, "b\n"), (3, "c\n"), (4, "d\n")] {
            lines.extend(s.push(&chunk(LogStreamKind::Stdout, ms, text.as_bytes())));
        }
        let all = LogRequest::default();
        assert_eq!(
            texts(&select_history(lines.clone(), &all)),
            ["a", "b", "c", "d"]
        );
        let tail = LogRequest {
            tail: Some(1),
            ..LogRequest::default()
        };
        assert_eq!(texts(&select_history(lines.clone(), &tail)), ["d"]);
        let since = LogRequest {
            since: Some(at(2)),
            tail: Some(2),
            ..LogRequest::default()
        };
        assert_eq!(texts(&select_history(lines.clone(), &since)), ["c", "d"]);
        let none = LogRequest {
            tail: Some(0),
            ..LogRequest::default()
        };
        assert!(select_history(lines, &none).is_empty());
    }
}
