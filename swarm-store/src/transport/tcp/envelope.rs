//! The frame payload: a postcard-encoded envelope `{request_id, kind, body}`.

use crate::transport::MAX_FRAME_BYTES;
use bytes::Bytes;
use serde::{Deserialize, Serialize};

/// What a frame carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Kind {
    /// A request for the handler; `body` is the request.
    Request,
    /// The handler's response; `body` is the response.
    Response,
    /// The handler failed; `body` is its UTF-8 message.
    Failed,
    /// The response was larger than [`MAX_FRAME_BYTES`]; `body` is its size as a postcard `u64`.
    TooLarge,
}

#[derive(Serialize, Deserialize)]
struct Wire<'a> {
    request_id: u64,
    kind: Kind,
    #[serde(borrow)]
    body: RawBytes<'a>,
}

/// A byte string serialized with `serialize_bytes` (one copy) rather than as a sequence of
/// `u8` (one call per byte); postcard writes both the same way: a varint length and the bytes.
struct RawBytes<'a>(&'a [u8]);

impl Serialize for RawBytes<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(self.0)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for RawBytes<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        <&'de [u8]>::deserialize(deserializer).map(RawBytes)
    }
}

/// A decoded envelope; `body` shares the frame's buffer.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Envelope {
    pub(crate) request_id: u64,
    pub(crate) kind: Kind,
    pub(crate) body: Bytes,
}

/// Why a frame could not be made or read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum EnvelopeError {
    /// The encoded envelope would exceed [`MAX_FRAME_BYTES`].
    #[error("envelope of {0} bytes exceeds the frame limit")]
    TooLarge(usize),
    /// The bytes are not an envelope.
    #[error("undecodable envelope: {0}")]
    Malformed(String),
}

/// The most bytes the envelope adds around its body: two varints of at most 10 bytes and a
/// one-byte kind.
pub(crate) const ENVELOPE_OVERHEAD_BYTES: usize = 21;

/// Encodes an envelope into one frame payload.
pub(crate) fn encode(request_id: u64, kind: Kind, body: &[u8]) -> Result<Bytes, EnvelopeError> {
    if body.len() + ENVELOPE_OVERHEAD_BYTES > MAX_FRAME_BYTES {
        let exact = postcard::experimental::serialized_size(&Wire {
            request_id,
            kind,
            body: RawBytes(body),
        })
        .map_err(|e| EnvelopeError::Malformed(e.to_string()))?;
        if exact > MAX_FRAME_BYTES {
            return Err(EnvelopeError::TooLarge(exact));
        }
    }
    let out = Vec::with_capacity(body.len() + ENVELOPE_OVERHEAD_BYTES);
    let out = postcard::to_extend(
        &Wire {
            request_id,
            kind,
            body: RawBytes(body),
        },
        out,
    )
    .map_err(|e| EnvelopeError::Malformed(e.to_string()))?;
    Ok(Bytes::from(out))
}

/// Decodes one frame payload; trailing bytes are an error.
pub(crate) fn decode(frame: Bytes) -> Result<Envelope, EnvelopeError> {
    let (wire, rest) = postcard::take_from_bytes::<Wire<'_>>(&frame)
        .map_err(|e| EnvelopeError::Malformed(e.to_string()))?;
    if !rest.is_empty() {
        return Err(EnvelopeError::Malformed(format!(
            "{} trailing bytes after the envelope",
            rest.len()
        )));
    }
    Ok(Envelope {
        request_id: wire.request_id,
        kind: wire.kind,
        body: frame.slice_ref(wire.body.0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_shares_the_buffer() {
        let frame = encode(u64::MAX, Kind::Response, b"hello").unwrap();
        assert!(frame.len() <= 5 + ENVELOPE_OVERHEAD_BYTES);
        let env = decode(frame).unwrap();
        assert_eq!(env.request_id, u64::MAX);
        assert_eq!(env.kind, Kind::Response);
        assert_eq!(&env.body[..], b"hello");
    }

    #[test]
    fn body_is_written_as_postcard_bytes() {
        // request_id 5, kind Response (1), body: varint length 3 then the bytes.
        let frame = encode(5, Kind::Response, b"abc").unwrap();
        assert_eq!(&frame[..], &[5, 1, 3, b'a', b'b', b'c']);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for bytes in [
            &b""[..],
            &[0xff; 3][..],
            &[0x01, 0x09, 0x05, b'a'][..],
            &[0x01, 0x00, 0xff, 0xff, 0xff, 0xff, 0x0f][..],
        ] {
            assert!(decode(Bytes::copy_from_slice(bytes)).is_err(), "{bytes:?}");
        }
        let mut frame = encode(1, Kind::Request, b"x").unwrap().to_vec();
        frame.push(0);
        assert!(matches!(
            decode(Bytes::from(frame)),
            Err(EnvelopeError::Malformed(_))
        ));
    }

    #[test]
    fn oversized_body_is_refused() {
        let body = vec![0u8; MAX_FRAME_BYTES];
        assert!(matches!(
            encode(1, Kind::Request, &body),
            Err(EnvelopeError::TooLarge(n)) if n > MAX_FRAME_BYTES
        ));
        let body = vec![0u8; MAX_FRAME_BYTES - ENVELOPE_OVERHEAD_BYTES];
        assert!(encode(1, Kind::Request, &body).is_ok());
    }
}
