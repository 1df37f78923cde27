//! The keys file's content and its byte format (pure: no I/O).

use std::fmt;
use swarm_secrets::limits::MAX_EXPORTED_KEYRING_BYTES;
use swarm_secrets::{UNLOCK_KEY_BYTES, UnlockKey};
use zeroize::Zeroizing;

/// The first bytes of a keys file.
const MAGIC: &[u8; 8] = b"SWMKEYS\0";
/// The keys file format version.
const FORMAT_VERSION: u8 = 1;
const MODE_KEY_ON_DISK: u8 = 0;
const MODE_AUTOLOCK: u8 = 1;
/// Magic, version, mode.
const HEADER_BYTES: usize = MAGIC.len() + 1 + 1;

/// The largest keys file accepted: header, an unlock key, the export's length and the
/// largest keyring export swarm-secrets reads (16 KiB). Read whole; nothing larger is read.
pub const MAX_KEYS_FILE_BYTES: usize =
    HEADER_BYTES + UNLOCK_KEY_BYTES + 4 + MAX_EXPORTED_KEYRING_BYTES;

/// How the keyring's key encryption key is protected.
#[derive(Clone, PartialEq, Eq)]
pub enum KeyProtection {
    /// Autolock off: the unlock key is stored in the keys file, next to the data (SwarmKit
    /// keeps its raft DEK unencrypted in the TLS key's headers the same way). It protects a
    /// copy of the WAL or the snapshots taken without the keys file.
    KeyOnDisk(UnlockKey),
    /// Autolock on: the unlock key is never written; the operator gives it at every start.
    Autolock,
}

impl fmt::Debug for KeyProtection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyProtection::KeyOnDisk(_) => f.write_str("KeyOnDisk([REDACTED])"),
            KeyProtection::Autolock => f.write_str("Autolock"),
        }
    }
}

/// What a manager's keys file holds: the keyring export (its data encryption keys wrapped by
/// the key encryption key, under the keyring's MAC) and how that key is protected.
///
/// Format: `"SWMKEYS\0" | version (1) | mode (0: key on disk, 1: autolock) | [unlock key (32
/// bytes), key on disk only] | export length (u32 BE) | export`. Nothing but the keyring
/// export's MAC authenticates it: a changed byte makes unlocking fail (a wrong key, or a
/// corrupt keyring), never opens data with another key.
#[derive(Clone, PartialEq, Eq)]
pub struct KeysFile {
    /// How the key encryption key is protected.
    pub protection: KeyProtection,
    /// The keyring as [`swarm_secrets::Keyring::export`] wrote it.
    pub keyring_export: Vec<u8>,
}

impl fmt::Debug for KeysFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeysFile")
            .field("protection", &self.protection)
            .field("keyring_export_bytes", &self.keyring_export.len())
            .finish()
    }
}

impl KeysFile {
    /// The file's bytes (wiped when dropped: they may hold the unlock key).
    pub fn encode(&self) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(Vec::with_capacity(
            HEADER_BYTES + UNLOCK_KEY_BYTES + 4 + self.keyring_export.len(),
        ));
        out.extend_from_slice(MAGIC);
        out.push(FORMAT_VERSION);
        match &self.protection {
            KeyProtection::KeyOnDisk(key) => {
                out.push(MODE_KEY_ON_DISK);
                out.extend_from_slice(key.expose_bytes());
            }
            KeyProtection::Autolock => out.push(MODE_AUTOLOCK),
        }
        // The export is at most MAX_EXPORTED_KEYRING_BYTES (checked by `decode`, and by
        // swarm-secrets when it is loaded), far below u32::MAX.
        let len = u32::try_from(self.keyring_export.len()).unwrap_or(u32::MAX);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&self.keyring_export);
        out
    }

    /// Reads a keys file's bytes; the error says what is wrong (the caller names the file).
    pub fn decode(bytes: &[u8]) -> Result<KeysFile, String> {
        if bytes.len() > MAX_KEYS_FILE_BYTES {
            return Err(format!(
                "{} bytes, above the limit of {MAX_KEYS_FILE_BYTES}",
                bytes.len()
            ));
        }
        if bytes.len() < HEADER_BYTES || &bytes[..MAGIC.len()] != MAGIC {
            return Err("not a keys file (bad magic)".to_owned());
        }
        let version = bytes[MAGIC.len()];
        if version != FORMAT_VERSION {
            return Err(format!("unknown keys file version {version}"));
        }
        let mut at = HEADER_BYTES;
        let protection = match bytes[MAGIC.len() + 1] {
            MODE_KEY_ON_DISK => {
                let raw = bytes
                    .get(at..at + UNLOCK_KEY_BYTES)
                    .ok_or("the stored unlock key is cut off")?;
                at += UNLOCK_KEY_BYTES;
                let mut key = Zeroizing::new([0u8; UNLOCK_KEY_BYTES]);
                key.copy_from_slice(raw);
                KeyProtection::KeyOnDisk(UnlockKey::from_bytes(key))
            }
            MODE_AUTOLOCK => KeyProtection::Autolock,
            mode => return Err(format!("unknown protection mode {mode}")),
        };
        let len: [u8; 4] = bytes
            .get(at..at + 4)
            .and_then(|b| b.try_into().ok())
            .ok_or("the keyring length is cut off")?;
        at += 4;
        let len = u32::from_be_bytes(len) as usize;
        if len > MAX_EXPORTED_KEYRING_BYTES {
            return Err(format!(
                "keyring of {len} bytes, above the limit of {MAX_EXPORTED_KEYRING_BYTES}"
            ));
        }
        if bytes.len() != at + len {
            return Err(format!(
                "{} bytes after the header, the keyring length says {len}",
                bytes.len() - at
            ));
        }
        Ok(KeysFile {
            protection,
            keyring_export: bytes[at..].to_vec(),
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn round_trips_both_modes_and_refuses_damage() {
        let key = UnlockKey::generate().unwrap();
        for protection in [
            KeyProtection::KeyOnDisk(key.clone()),
            KeyProtection::Autolock,
        ] {
            let file = KeysFile {
                protection,
                keyring_export: vec![9; 300],
            };
            let bytes = file.encode();
            assert_eq!(KeysFile::decode(&bytes).unwrap(), file);
            assert!(bytes.len() <= MAX_KEYS_FILE_BYTES);
            assert!(KeysFile::decode(&bytes[..bytes.len() - 1]).is_err());
            let mut longer = bytes.to_vec();
            longer.push(0);
            assert!(KeysFile::decode(&longer).is_err());
            for at in [0, MAGIC.len(), MAGIC.len() + 1] {
                let mut bad = bytes.to_vec();
                bad[at] ^= 0x80;
                assert!(KeysFile::decode(&bad).is_err(), "byte {at}");
            }
        }
        assert!(KeysFile::decode(&[]).is_err());
        assert!(
            KeysFile::decode(&vec![0; MAX_KEYS_FILE_BYTES + 1])
                .unwrap_err()
                .contains("limit")
        );
        let shown = format!(
            "{:?}",
            KeysFile {
                protection: KeyProtection::KeyOnDisk(key.clone()),
                keyring_export: vec![],
            }
        );
        assert!(!shown.contains(&key.expose_human_readable()[9..]));
        assert!(shown.contains("REDACTED"));
    }
}
