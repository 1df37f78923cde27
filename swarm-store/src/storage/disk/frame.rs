//! The frame: how one record of the write-ahead log is laid out on disk.
//!
//! ```text
//! magic u32 LE | body_len u32 LE | crc32c(body_len LE ‖ body) u32 LE | body
//! body = kind u8 | a u64 LE | b u64 LE | payload
//! ```
//!
//! | kind | `a` | `b` | payload |
//! |------|-----|-----|---------|
//! | entry | index | term | the record payload, sealed by the cipher |
//! | truncate | first removed index | 0 | empty |
//! | committed | index | term | empty |
//! | committed-none | 0 | 0 | empty |
//! | group-start | group sequence number | bytes of the group after this frame | empty |
//!
//! Every write group (the records made durable by one `fdatasync`) starts with a group-start
//! frame, so recovery knows where each group ends (see `recovery`).
//!
//! Segments are preallocated with zeros, so zeros are what follows the last frame. Zeros never
//! decode as a frame: the magic is nonzero, and the checksum covers the length too (the CRC-32C
//! of four zero bytes and an empty body is not 0), so even a zeroed header after a valid magic
//! fails.

/// Marks the start of every frame ("SWAL" read as little-endian bytes).
pub(crate) const FRAME_MAGIC: [u8; 4] = *b"SWAL";
/// Magic, body length and checksum.
pub(crate) const FRAME_HEADER_BYTES: usize = 12;
/// Kind and the two integers every body starts with.
pub(crate) const BODY_FIXED_BYTES: usize = 17;
/// The largest body a frame may have; a larger length field is damage, not data.
pub(crate) const MAX_FRAME_BODY_BYTES: usize = 256 << 20;
/// The size of a group-start frame (it has no payload).
pub(crate) const GROUP_START_FRAME_BYTES: usize = FRAME_HEADER_BYTES + BODY_FIXED_BYTES;

/// What a frame holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FrameKind {
    /// A log record.
    Entry = 1,
    /// Removal of every record at or above an index.
    Truncate = 2,
    /// The committed position.
    Committed = 3,
    /// The committed position was cleared.
    CommittedNone = 4,
    /// The start of a write group.
    GroupStart = 5,
}

impl FrameKind {
    fn from_byte(byte: u8) -> Option<Self> {
        Some(match byte {
            1 => FrameKind::Entry,
            2 => FrameKind::Truncate,
            3 => FrameKind::Committed,
            4 => FrameKind::CommittedNone,
            5 => FrameKind::GroupStart,
            _ => return None,
        })
    }
}

/// A decoded frame borrowing its payload from the buffer it was read from.
#[derive(Debug)]
pub(crate) struct Frame<'a> {
    pub(crate) kind: FrameKind,
    pub(crate) a: u64,
    pub(crate) b: u64,
    pub(crate) payload: &'a [u8],
    /// Bytes the whole frame takes, header included.
    pub(crate) total_bytes: usize,
}

/// Why bytes at a position are not a frame.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum FrameError {
    /// The buffer ends before the frame does (a torn write, or the end of the data).
    Short,
    /// The magic, length or checksum does not match: torn or damaged.
    Damaged(String),
    /// The checksum matched but the body makes no sense: never a torn write.
    Malformed(String),
}

impl std::fmt::Display for FrameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FrameError::Short => f.write_str("frame cut short by the end of the file"),
            FrameError::Damaged(d) => write!(f, "damaged frame: {d}"),
            FrameError::Malformed(d) => write!(f, "malformed frame: {d}"),
        }
    }
}

/// The checksum stored in a frame header.
fn checksum(body_len: u32, body: &[u8]) -> u32 {
    crc32c::crc32c_append(crc32c::crc32c(&body_len.to_le_bytes()), body)
}

/// Bytes a frame with `payload_bytes` of payload takes.
pub(crate) fn frame_bytes(payload_bytes: usize) -> usize {
    FRAME_HEADER_BYTES + BODY_FIXED_BYTES + payload_bytes
}

/// Appends one frame to `out`. The caller keeps `payload` under [`MAX_FRAME_BODY_BYTES`].
pub(crate) fn encode_frame(out: &mut Vec<u8>, kind: FrameKind, a: u64, b: u64, payload: &[u8]) {
    let start = out.len();
    out.extend_from_slice(&FRAME_MAGIC);
    out.extend_from_slice(&[0; 8]); // length and checksum, filled below
    out.push(kind as u8);
    out.extend_from_slice(&a.to_le_bytes());
    out.extend_from_slice(&b.to_le_bytes());
    out.extend_from_slice(payload);
    write_header(out, start);
}

/// Fills in the length and checksum of the frame that starts at `start` and runs to the end of
/// `out` (used after patching a body in place).
pub(crate) fn write_header(out: &mut [u8], start: usize) {
    let body = &out[start + FRAME_HEADER_BYTES..];
    let body_len = u32::try_from(body.len()).unwrap_or(u32::MAX);
    let crc = checksum(body_len, body);
    out[start + 4..start + 8].copy_from_slice(&body_len.to_le_bytes());
    out[start + 8..start + 12].copy_from_slice(&crc.to_le_bytes());
}

fn read_u32(buf: &[u8], at: usize) -> u32 {
    let mut bytes = [0; 4];
    bytes.copy_from_slice(&buf[at..at + 4]);
    u32::from_le_bytes(bytes)
}

fn read_u64(buf: &[u8], at: usize) -> u64 {
    let mut bytes = [0; 8];
    bytes.copy_from_slice(&buf[at..at + 8]);
    u64::from_le_bytes(bytes)
}

/// Decodes the frame starting at `at` in `buf`.
pub(crate) fn decode_frame(buf: &[u8], at: usize) -> Result<Frame<'_>, FrameError> {
    let rest = buf.get(at..).unwrap_or_default();
    if rest.len() < FRAME_HEADER_BYTES {
        return Err(FrameError::Short);
    }
    if rest[..4] != FRAME_MAGIC {
        return Err(FrameError::Damaged("bad magic".into()));
    }
    let body_len = read_u32(rest, 4);
    let stored_crc = read_u32(rest, 8);
    let body_bytes = body_len as usize;
    if body_bytes > MAX_FRAME_BODY_BYTES {
        return Err(FrameError::Damaged(format!(
            "body length {body_len} exceeds the limit {MAX_FRAME_BODY_BYTES}"
        )));
    }
    let Some(body) = rest.get(FRAME_HEADER_BYTES..FRAME_HEADER_BYTES + body_bytes) else {
        return Err(FrameError::Short);
    };
    if checksum(body_len, body) != stored_crc {
        return Err(FrameError::Damaged("checksum mismatch".into()));
    }
    if body.len() < BODY_FIXED_BYTES {
        return Err(FrameError::Malformed(format!(
            "body of {} bytes is shorter than {BODY_FIXED_BYTES}",
            body.len()
        )));
    }
    let kind = FrameKind::from_byte(body[0])
        .ok_or_else(|| FrameError::Malformed(format!("unknown frame kind {}", body[0])))?;
    let payload = &body[BODY_FIXED_BYTES..];
    if kind != FrameKind::Entry && !payload.is_empty() {
        return Err(FrameError::Malformed(format!(
            "{kind:?} frame carries {} payload bytes",
            payload.len()
        )));
    }
    Ok(Frame {
        kind,
        a: read_u64(body, 1),
        b: read_u64(body, 9),
        payload,
        total_bytes: FRAME_HEADER_BYTES + body_bytes,
    })
}

/// The associated data binding a sealed payload to its position in the log.
pub(crate) fn entry_associated_data(index: u64, term: u64) -> [u8; 16] {
    let mut ad = [0; 16];
    ad[..8].copy_from_slice(&index.to_le_bytes());
    ad[8..].copy_from_slice(&term.to_le_bytes());
    ad
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_detects_damage() {
        let mut buf = Vec::new();
        encode_frame(&mut buf, FrameKind::Entry, 7, 3, b"hello");
        encode_frame(&mut buf, FrameKind::Truncate, 5, 0, b"");
        let first = decode_frame(&buf, 0).expect("first frame");
        assert_eq!(
            (first.kind, first.a, first.b, first.payload),
            (FrameKind::Entry, 7, 3, &b"hello"[..])
        );
        assert_eq!(first.total_bytes, frame_bytes(5));
        let second = decode_frame(&buf, first.total_bytes).expect("second frame");
        assert_eq!((second.kind, second.a), (FrameKind::Truncate, 5));
        for i in 0..first.total_bytes {
            let mut bad = buf.clone();
            bad[i] ^= 0x40;
            assert!(
                decode_frame(&bad, 0).is_err(),
                "flip at byte {i} undetected"
            );
        }
        assert_eq!(
            decode_frame(&buf[..first.total_bytes - 1], 0).unwrap_err(),
            FrameError::Short
        );
        assert_eq!(decode_frame(&[0u8; 5], 0).unwrap_err(), FrameError::Short);
    }

    #[test]
    fn zeros_never_decode_as_a_frame() {
        let zeros = [0u8; 4096];
        for at in 0..64 {
            assert!(matches!(
                decode_frame(&zeros, at),
                Err(FrameError::Damaged(_))
            ));
        }
        // Even with a valid magic, a zero length and checksum is damage, not an empty frame.
        let mut buf = zeros.to_vec();
        buf[..4].copy_from_slice(&FRAME_MAGIC);
        assert_ne!(checksum(0, &[]), 0);
        assert!(matches!(decode_frame(&buf, 0), Err(FrameError::Damaged(_))));
        // A frame whose end was zeroed (a torn write into preallocated space) is damaged.
        let mut buf = Vec::new();
        encode_frame(&mut buf, FrameKind::Entry, 9, 2, &[7; 100]);
        let len = buf.len();
        buf[len - 10..].fill(0);
        buf.extend_from_slice(&[0; 64]);
        assert!(matches!(decode_frame(&buf, 0), Err(FrameError::Damaged(_))));
    }
}
