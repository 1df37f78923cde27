//! The meta file: vote, purge point and committed position.
//!
//! It holds two copies of the same record, in two fixed-size slots, and every update overwrites
//! both in place, one after the other, each followed by `fdatasync`:
//!
//! ```text
//! file = slot 0 | slot 1                       (META_SLOT_BYTES each, allocated when created)
//! slot = magic "SWSTMET2" | seq u64 LE | body_len u32 LE | crc32c(seq | body) u32 LE | body
//! body = version u8 | flags u8 | purged term u64 | purged index u64
//!        | committed term u64 | committed index u64 | vote_len u32 | vote
//! ```
//!
//! Writing over allocated bytes changes no file metadata, so each `fdatasync` is a plain data
//! flush: no journal commit, no rename, no directory sync, which on ext4 would wait behind
//! whatever other files (a snapshot being written) the journal must flush first. Loading takes
//! the valid slot with the highest sequence number. An update returns only after both slots
//! hold it, so damage to any one slot (a write torn by a crash, which was never acknowledged,
//! or later decay) never loses an acknowledged update; both damaged is
//! [`StorageError::Corrupt`].
//!
//! The file was once written whole (`magic "SWSTMETA" | body_len | crc | body`, replaced by
//! rename); such a file is read and rewritten in the slotted form when the log opens. Binaries
//! older than the slotted form cannot read it (they report the meta file corrupt): a log
//! directory cannot be downgraded across this change.
//!
//! Every update writes slot 0 then slot 1; opening rewrites a slot that is damaged or older
//! than the other before the log goes on, so each update starts with both slots whole.

use super::files::{corrupt, io_error, replace_file};
use crate::storage::error::StorageError;
use crate::storage::record::LogPosition;
use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// The meta file's name inside the log directory.
pub(crate) const META_FILE: &str = "meta";
/// The magic of the whole-file form written before the slots.
const LEGACY_META_MAGIC: [u8; 8] = *b"SWSTMETA";
/// The magic that starts each slot.
const SLOT_MAGIC: [u8; 8] = *b"SWSTMET2";
/// Magic, sequence number, body length, checksum.
const SLOT_HEADER_BYTES: usize = 24;
const META_VERSION: u8 = 1;
const FLAG_VOTE: u8 = 1;
const FLAG_PURGED: u8 = 2;
const FLAG_COMMITTED: u8 = 4;
/// The largest vote the meta file holds; a vote is a few dozen bytes.
pub(crate) const MAX_VOTE_BYTES: usize = 64 << 10;
const FIXED_BODY_BYTES: usize = 2 + 16 + 16 + 4;
/// The size of one slot: room for the largest record, rounded up to whole 4 KiB pages.
pub(crate) const META_SLOT_BYTES: usize =
    (SLOT_HEADER_BYTES + FIXED_BODY_BYTES + MAX_VOTE_BYTES).div_ceil(4096) * 4096;
/// The slots, in the order every update writes them.
const SLOTS: usize = 2;

/// What the meta file holds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Meta {
    pub(crate) vote: Option<Vec<u8>>,
    pub(crate) last_purged: Option<LogPosition>,
    pub(crate) committed: Option<LogPosition>,
}

impl Meta {
    fn encode_body(&self) -> Vec<u8> {
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
        body
    }

    /// One slot holding this record as update number `seq` (not padded).
    fn encode_slot(&self, seq: u64) -> Vec<u8> {
        let body = self.encode_body();
        let body_len = u32::try_from(body.len()).unwrap_or(u32::MAX);
        let crc = crc32c::crc32c_append(crc32c::crc32c(&seq.to_le_bytes()), &body);
        let mut out = Vec::with_capacity(SLOT_HEADER_BYTES + body.len());
        out.extend_from_slice(&SLOT_MAGIC);
        out.extend_from_slice(&seq.to_le_bytes());
        out.extend_from_slice(&body_len.to_le_bytes());
        out.extend_from_slice(&crc.to_le_bytes());
        out.extend_from_slice(&body);
        out
    }

    fn decode_body(path: &Path, body: &[u8]) -> Result<Meta, StorageError> {
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

    /// Decodes one slot: its sequence number and record.
    fn decode_slot(path: &Path, slot: &[u8]) -> Result<(u64, Meta), StorageError> {
        if slot.len() < SLOT_HEADER_BYTES || slot[..8] != SLOT_MAGIC {
            return Err(corrupt(path, "meta slot has no valid header"));
        }
        let mut seq = [0; 8];
        seq.copy_from_slice(&slot[8..16]);
        let mut word = [0; 4];
        word.copy_from_slice(&slot[16..20]);
        let body_len = u32::from_le_bytes(word) as usize;
        word.copy_from_slice(&slot[20..24]);
        let crc = u32::from_le_bytes(word);
        let body = slot
            .get(SLOT_HEADER_BYTES..SLOT_HEADER_BYTES.saturating_add(body_len))
            .ok_or_else(|| corrupt(path, format!("meta slot body of {body_len} bytes overruns")))?;
        if crc32c::crc32c_append(crc32c::crc32c(&seq), body) != crc {
            return Err(corrupt(path, "meta slot checksum mismatch"));
        }
        Ok((u64::from_le_bytes(seq), Meta::decode_body(path, body)?))
    }

    /// Decodes the whole-file form written before the slots.
    fn decode_legacy(path: &Path, bytes: &[u8]) -> Result<Meta, StorageError> {
        if bytes.len() < 16 || bytes[..8] != LEGACY_META_MAGIC {
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
        Meta::decode_body(path, body)
    }

    /// The newest record among the slots of `bytes` (a slotted file), its sequence number, and
    /// the slots that do not hold it (left behind by a crash between the two writes of an
    /// update, or damaged).
    fn decode_slots(path: &Path, bytes: &[u8]) -> Result<(u64, Meta, Vec<usize>), StorageError> {
        if bytes.len() != SLOTS * META_SLOT_BYTES {
            return Err(corrupt(
                path,
                format!(
                    "meta file is {} bytes, not {} slots of {META_SLOT_BYTES}",
                    bytes.len(),
                    SLOTS
                ),
            ));
        }
        let mut newest: Option<(u64, Meta)> = None;
        let mut seqs = Vec::with_capacity(SLOTS);
        let mut errors = Vec::new();
        for slot in bytes.chunks(META_SLOT_BYTES) {
            match Meta::decode_slot(path, slot) {
                Ok((seq, meta)) => {
                    seqs.push(Some(seq));
                    if newest.as_ref().is_none_or(|(n, _)| seq > *n) {
                        newest = Some((seq, meta));
                    }
                }
                Err(e) => {
                    seqs.push(None);
                    errors.push(e.to_string());
                }
            }
        }
        match newest {
            Some((seq, meta)) => {
                if !errors.is_empty() {
                    tracing::warn!(path = %path.display(), errors = ?errors, "a meta slot is damaged; repairing it from the other");
                }
                let stale = (0..SLOTS).filter(|i| seqs[*i] != Some(seq)).collect();
                Ok((seq, meta, stale))
            }
            None => Err(corrupt(
                path,
                format!("both meta slots are damaged: {}", errors.join("; ")),
            )),
        }
    }
}

/// The open meta file of a log directory, which the log's writer updates.
#[derive(Debug)]
pub(crate) struct MetaFile {
    path: PathBuf,
    file: File,
    /// The sequence number of the record both slots hold.
    seq: u64,
}

impl MetaFile {
    /// Opens the meta file of `dir` and reads its newest record: creates it (empty: a new log)
    /// when missing, and rewrites a whole-file meta of the earlier form in slots.
    pub(crate) fn open(dir: &Path) -> Result<(MetaFile, Meta), StorageError> {
        let path = dir.join(META_FILE);
        let (seq, meta) = match std::fs::read(&path) {
            Ok(bytes) if bytes.starts_with(&LEGACY_META_MAGIC) => {
                let meta = Meta::decode_legacy(&path, &bytes)?;
                Self::create(dir, &meta)?;
                (1, meta)
            }
            Ok(bytes) => {
                let (seq, meta, stale) = Meta::decode_slots(&path, &bytes)?;
                if !stale.is_empty() {
                    // Every update overwrites slot 0 first: were slot 1 left stale or damaged,
                    // the next update could tear the only whole copy. Both slots must hold the
                    // newest record before the log goes on, and the repair writes only the
                    // slots that lack it, never the whole copy (a torn repair of that one
                    // could bring back an older record that recovery has already acted past).
                    let mut file = Self::open_rw(&path)?;
                    file.write_slots(&meta.encode_slot(seq), &stale)?;
                    file.seq = seq;
                    return Ok((file, meta));
                }
                (seq, meta)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let meta = Meta::default();
                Self::create(dir, &meta)?;
                (1, meta)
            }
            Err(e) => return Err(io_error(&path, e)),
        };
        let mut file = Self::open_rw(&path)?;
        file.seq = seq;
        Ok((file, meta))
    }

    fn open_rw(path: &Path) -> Result<MetaFile, StorageError> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .map_err(|e| io_error(path, e))?;
        Ok(MetaFile {
            path: path.to_path_buf(),
            file,
            seq: 0,
        })
    }

    /// Writes a new meta file holding `meta` as record 1 in both slots, zero-padded (so every
    /// later update overwrites allocated bytes), atomically and durably.
    fn create(dir: &Path, meta: &Meta) -> Result<(), StorageError> {
        let mut slot = meta.encode_slot(1);
        slot.resize(META_SLOT_BYTES, 0);
        replace_file(dir, META_FILE, &[&slot, &slot])
    }

    /// Durably stores `meta`: both slots in turn, each synced before the next is touched.
    pub(crate) fn store(&mut self, meta: &Meta) -> Result<(), StorageError> {
        let seq = self.seq + 1;
        let slot = meta.encode_slot(seq);
        if slot.len() > META_SLOT_BYTES {
            return Err(StorageError::Contract(format!(
                "a meta record of {} bytes does not fit a slot of {META_SLOT_BYTES}",
                slot.len()
            )));
        }
        self.write_slots(&slot, &(0..SLOTS).collect::<Vec<_>>())?;
        self.seq = seq;
        Ok(())
    }

    /// Writes `slot` into each of `slots` in turn, each synced before the next is touched.
    fn write_slots(&mut self, slot: &[u8], slots: &[usize]) -> Result<(), StorageError> {
        for i in slots {
            self.file
                .write_all_at(slot, (i * META_SLOT_BYTES) as u64)
                .and_then(|()| self.file.sync_data())
                .map_err(|e| io_error(&self.path, e))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_round_trip_and_reject_damage() {
        let meta = Meta {
            vote: Some(b"vote".to_vec()),
            last_purged: Some(LogPosition { term: 2, index: 9 }),
            committed: None,
        };
        let bytes = meta.encode_slot(7);
        let path = Path::new("meta");
        assert_eq!(Meta::decode_slot(path, &bytes).expect("decodes"), (7, meta));
        assert_eq!(
            Meta::decode_slot(path, &Meta::default().encode_slot(1)).expect("decodes"),
            (1, Meta::default())
        );
        for i in 0..bytes.len() {
            let mut bad = bytes.clone();
            bad[i] ^= 1;
            assert!(
                Meta::decode_slot(path, &bad).is_err(),
                "flip at {i} undetected"
            );
        }
    }

    fn file_bytes(dir: &Path) -> Vec<u8> {
        std::fs::read(dir.join(META_FILE)).expect("read")
    }

    #[test]
    fn updates_survive_reopening_and_the_loss_of_either_slot() {
        let dir = tempfile::tempdir().expect("tmp");
        let (mut file, meta) = MetaFile::open(dir.path()).expect("create");
        assert_eq!(meta, Meta::default());
        let mut latest = Meta::default();
        for n in 1..=5u64 {
            latest = Meta {
                vote: Some(format!("vote {n}").into_bytes()),
                last_purged: Some(LogPosition {
                    term: n,
                    index: n * 10,
                }),
                committed: Some(LogPosition {
                    term: n,
                    index: n * 20,
                }),
            };
            file.store(&latest).expect("store");
        }
        drop(file);
        let whole = file_bytes(dir.path());
        assert_eq!(whole.len(), SLOTS * META_SLOT_BYTES);
        let (_, reopened) = MetaFile::open(dir.path()).expect("reopen");
        assert_eq!(reopened, latest);
        for damaged in 0..SLOTS {
            let mut bytes = whole.clone();
            bytes[damaged * META_SLOT_BYTES + 30] ^= 0x5a;
            std::fs::write(dir.path().join(META_FILE), &bytes).expect("write");
            let (mut file, meta) = MetaFile::open(dir.path()).expect("one slot is enough");
            assert_eq!(meta, latest, "slot {damaged} damaged");
            // Opening repaired the damaged slot: both hold the record again, so the next
            // update (slot 0 first) can never tear the only whole copy.
            let (_, _, stale) =
                Meta::decode_slots(Path::new("meta"), &file_bytes(dir.path())).expect("decodes");
            assert!(stale.is_empty(), "slot {damaged} repaired");
            file.store(&latest).expect("store");
        }
        let mut bytes = whole.clone();
        for slot in 0..SLOTS {
            bytes[slot * META_SLOT_BYTES + 30] ^= 0x5a;
        }
        std::fs::write(dir.path().join(META_FILE), &bytes).expect("write");
        assert!(matches!(
            MetaFile::open(dir.path()),
            Err(StorageError::Corrupt { .. })
        ));
    }

    #[test]
    fn an_update_torn_after_its_first_slot_reads_as_either_whole_record() {
        let dir = tempfile::tempdir().expect("tmp");
        let (mut file, _) = MetaFile::open(dir.path()).expect("create");
        let old = Meta {
            vote: Some(b"old".to_vec()),
            ..Meta::default()
        };
        file.store(&old).expect("store");
        let new = Meta {
            vote: Some(b"new".to_vec()),
            ..Meta::default()
        };
        // A crash after slot 0 took the new record and before slot 1 did: the newer wins.
        let mut bytes = file_bytes(dir.path());
        let slot = new.encode_slot(3);
        bytes[..slot.len()].copy_from_slice(&slot);
        std::fs::write(dir.path().join(META_FILE), &bytes).expect("write");
        // Only slot 1 lacks the newest record: the repair writes that one and never rewrites
        // slot 0, the only whole copy.
        let (_, _, stale) = Meta::decode_slots(Path::new("meta"), &bytes).expect("decodes");
        assert_eq!(stale, vec![1]);
        assert_eq!(MetaFile::open(dir.path()).expect("open").1, new);
        let after = file_bytes(dir.path());
        assert_eq!(after[..META_SLOT_BYTES], bytes[..META_SLOT_BYTES]);
        assert_eq!(
            Meta::decode_slots(Path::new("meta"), &after).expect("decodes"),
            (3, new.clone(), vec![])
        );
        // A crash halfway through slot 0 while slot 1 still holds the old record: the old
        // record (the update never returned, so nothing acknowledged is lost), and the open
        // repairs slot 0 from it.
        let mut old_slot = old.encode_slot(2);
        old_slot.resize(META_SLOT_BYTES, 0);
        let mut bytes = old_slot.clone();
        bytes[..slot.len() / 2].copy_from_slice(&slot[..slot.len() / 2]);
        bytes.extend_from_slice(&old_slot);
        std::fs::write(dir.path().join(META_FILE), &bytes).expect("write");
        assert_eq!(MetaFile::open(dir.path()).expect("open").1, old);
        assert_eq!(
            Meta::decode_slots(Path::new("meta"), &file_bytes(dir.path())).expect("decodes"),
            (2, old, vec![])
        );
    }

    #[test]
    fn a_whole_file_meta_of_the_earlier_form_is_read_and_rewritten_in_slots() {
        let dir = tempfile::tempdir().expect("tmp");
        let meta = Meta {
            vote: Some(b"legacy vote".to_vec()),
            last_purged: Some(LogPosition { term: 3, index: 40 }),
            committed: Some(LogPosition { term: 3, index: 41 }),
        };
        let body = meta.encode_body();
        let mut legacy = LEGACY_META_MAGIC.to_vec();
        legacy.extend_from_slice(&(body.len() as u32).to_le_bytes());
        legacy.extend_from_slice(&crc32c::crc32c(&body).to_le_bytes());
        legacy.extend_from_slice(&body);
        std::fs::write(dir.path().join(META_FILE), &legacy).expect("write");
        let (_, read) = MetaFile::open(dir.path()).expect("open legacy");
        assert_eq!(read, meta);
        assert_eq!(file_bytes(dir.path()).len(), SLOTS * META_SLOT_BYTES);
        assert_eq!(MetaFile::open(dir.path()).expect("reopen").1, meta);
        legacy[20] ^= 1;
        std::fs::write(dir.path().join(META_FILE), &legacy).expect("write");
        assert!(matches!(
            MetaFile::open(dir.path()),
            Err(StorageError::Corrupt { .. })
        ));
    }
}
