//! The meta file: vote, purge point and committed position, replaced atomically as a whole.
//!
//! ```text
//! magic "SWSTMETA" | body_len u32 LE | crc32c(body) u32 LE | body
//! body = version u8 | flags u8 | purged term u64 | purged index u64
//!        | committed term u64 | committed index u64 | vote_len u32 | vote
//! ```

use super::files::{corrupt, io_error, replace_file};
use crate::storage::error::StorageError;
use crate::storage::record::LogPosition;
use std::path::Path;

/// The meta file's name inside the log directory.
pub(crate) const META_FILE: &str = "meta";
const META_MAGIC: [u8; 8] = *b"SWSTMETA";
const META_VERSION: u8 = 1;
const FLAG_VOTE: u8 = 1;
const FLAG_PURGED: u8 = 2;
const FLAG_COMMITTED: u8 = 4;
/// The largest vote the meta file holds; a vote is a few dozen bytes.
pub(crate) const MAX_VOTE_BYTES: usize = 64 << 10;
const FIXED_BODY_BYTES: usize = 2 + 16 + 16 + 4;

/// What the meta file holds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Meta {
    pub(crate) vote: Option<Vec<u8>>,
    pub(crate) last_purged: Option<LogPosition>,
    pub(crate) committed: Option<LogPosition>,
}

impl Meta {
    fn encode(&self) -> Vec<u8> {
        let vote = self.vote.as_deref().unwrap_or_default();
        let mut body = Vec::with_capacity(FIXED_BODY_BYTES + vote.len());
        let mut flags = 0;
        if self.vote.is_some() {
            flags |= FLAG_VOTE;
        }
        if self.last_purged.is_some() {
            flags |= FLAG_PURGED;
        }
        if self.committed.is_some() {
            flags |= FLAG_COMMITTED;
        }
        body.push(META_VERSION);
        body.push(flags);
        for pos in [self.last_purged, self.committed] {
            let pos = pos.unwrap_or(LogPosition { term: 0, index: 0 });
            body.extend_from_slice(&pos.term.to_le_bytes());
            body.extend_from_slice(&pos.index.to_le_bytes());
        }
        let vote_len = u32::try_from(vote.len()).unwrap_or(u32::MAX);
        body.extend_from_slice(&vote_len.to_le_bytes());
        body.extend_from_slice(vote);
        let body_len = u32::try_from(body.len()).unwrap_or(u32::MAX);
        let mut out = Vec::with_capacity(16 + body.len());
        out.extend_from_slice(&META_MAGIC);
        out.extend_from_slice(&body_len.to_le_bytes());
        out.extend_from_slice(&crc32c::crc32c(&body).to_le_bytes());
        out.extend_from_slice(&body);
        out
    }

    fn decode(path: &Path, bytes: &[u8]) -> Result<Meta, StorageError> {
        if bytes.len() < 16 || bytes[..8] != META_MAGIC {
            return Err(corrupt(path, "meta file has no valid header"));
        }
        let word = |at: usize| -> u32 {
            let mut b = [0; 4];
            b.copy_from_slice(&bytes[at..at + 4]);
            u32::from_le_bytes(b)
        };
        let body_len = word(8) as usize;
        let body = &bytes[16..];
        if body.len() != body_len {
            return Err(corrupt(
                path,
                format!("meta body is {} bytes, header says {body_len}", body.len()),
            ));
        }
        if crc32c::crc32c(body) != word(12) {
            return Err(corrupt(path, "meta checksum mismatch"));
        }
        if body.len() < FIXED_BODY_BYTES || body[0] != META_VERSION {
            return Err(corrupt(
                path,
                "meta body has an unknown version or is too short",
            ));
        }
        let long = |at: usize| -> u64 {
            let mut b = [0; 8];
            b.copy_from_slice(&body[at..at + 8]);
            u64::from_le_bytes(b)
        };
        let flags = body[1];
        let position = |at: usize, flag: u8| {
            (flags & flag != 0).then(|| LogPosition {
                term: long(at),
                index: long(at + 8),
            })
        };
        let mut vote_len_bytes = [0; 4];
        vote_len_bytes.copy_from_slice(&body[34..38]);
        let vote_len = u32::from_le_bytes(vote_len_bytes) as usize;
        let vote = &body[FIXED_BODY_BYTES..];
        if vote.len() != vote_len {
            return Err(corrupt(path, "meta vote length does not match"));
        }
        Ok(Meta {
            vote: (flags & FLAG_VOTE != 0).then(|| vote.to_vec()),
            last_purged: position(2, FLAG_PURGED),
            committed: position(18, FLAG_COMMITTED),
        })
    }

    /// Reads the meta file of `dir`; a missing file is the empty meta of a new log.
    pub(crate) fn load(dir: &Path) -> Result<Meta, StorageError> {
        let path = dir.join(META_FILE);
        match std::fs::read(&path) {
            Ok(bytes) => Meta::decode(&path, &bytes),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Meta::default()),
            Err(e) => Err(io_error(&path, e)),
        }
    }

    /// Durably replaces the meta file of `dir`.
    pub(crate) fn store(&self, dir: &Path) -> Result<(), StorageError> {
        replace_file(dir, META_FILE, &[&self.encode()])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_damage() {
        let meta = Meta {
            vote: Some(b"vote".to_vec()),
            last_purged: Some(LogPosition { term: 2, index: 9 }),
            committed: None,
        };
        let bytes = meta.encode();
        let path = Path::new("meta");
        assert_eq!(Meta::decode(path, &bytes).expect("decodes"), meta);
        assert_eq!(
            Meta::decode(path, &Meta::default().encode()).expect("decodes"),
            Meta::default()
        );
        for i in 0..bytes.len() {
            let mut bad = bytes.clone();
            bad[i] ^= 1;
            assert!(Meta::decode(path, &bad).is_err(), "flip at {i} undetected");
        }
    }
}
