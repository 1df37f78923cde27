//! Envelope encryption: a key-encryption key (KEK) derived from the unlock key wraps
//! data-encryption keys (DEKs) that seal the data.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

use ring::hmac;
use ring::rand::SystemRandom;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::aead_key::{
    ALG_AES_256_GCM, AeadKey, KEY_LEN, NONCE_LEN, TAG_LEN, hkdf_expand, hkdf_extract, random_nonce,
};
use crate::constant_time::constant_time_eq;
use crate::error::{Result, SecretsError};
use crate::limits::{
    MAX_ASSOCIATED_DATA_BYTES, MAX_EXPORTED_KEYRING_BYTES, MAX_KEYRING_DEKS,
    MAX_KEYRING_PLAINTEXT_BYTES,
};
use crate::sealed_blob::{SEALED_BLOB_HEADER_BYTES, SEALED_BLOB_VERSION, SealedBlob};
use crate::secret_bytes::SecretBytes;
use crate::unlock_key::UnlockKey;

/// Format version of an exported keyring (2 added the epoch; version 1 exports still load, at
/// epoch 0).
pub const EXPORTED_KEYRING_VERSION: u8 = 2;
/// The first exported keyring format, without an epoch: read as epoch 0.
const EXPORTED_KEYRING_VERSION_1: u8 = 1;
/// Seals by one keyring instance under one DEK after which [`Keyring::needs_dek_rotation`] says
/// to rotate (keeps the nonce-collision bound described on [`Keyring`] tiny).
pub const DEK_ROTATION_SEALS: u64 = 1 << 30;

const KEK_SALT: &[u8] = b"swarm-secrets/kek/v1";
const DEK_WRAP_AAD: &[u8] = b"swarm-secrets/dek/v1";
const KCV_LEN: usize = 16;
const MAC_LEN: usize = 32;

/// The KEK and what else is derived from the unlock key.
struct Kek {
    aead: AeadKey,
    kcv: Zeroizing<[u8; KCV_LEN]>,
    mac: hmac::Key,
}

impl Kek {
    /// HKDF-SHA256 over the 256-bit unlock key. The unlock key is already uniformly random, so a
    /// password hash is not needed; HKDF gives independent keys for wrapping, key check and MAC.
    fn derive(unlock: &UnlockKey) -> Result<Self> {
        let prk = hkdf_extract(KEK_SALT, unlock.expose_bytes());
        let wrap = hkdf_expand::<KEY_LEN>(&prk, &[b"wrap"])?;
        let kcv = hkdf_expand::<KCV_LEN>(&prk, &[b"key-check"])?;
        let mac = hkdf_expand::<MAC_LEN>(&prk, &[b"mac"])?;
        Ok(Kek {
            aead: AeadKey::from_raw(wrap)?,
            kcv,
            mac: hmac::Key::new(hmac::HMAC_SHA256, mac.as_slice()),
        })
    }
}

/// A DEK in memory, with this instance's nonce sequence: a random 96-bit starting point drawn
/// when the DEK is created or unwrapped, XORed with a per-instance seal counter.
struct Dek {
    key: AeadKey,
    nonce_base: [u8; NONCE_LEN],
    seals: AtomicU64,
}

impl Dek {
    fn new(key: AeadKey, rng: &SystemRandom) -> Result<Self> {
        Ok(Dek {
            key,
            nonce_base: random_nonce(rng)?,
            seals: AtomicU64::new(0),
        })
    }

    /// The next nonce: distinct for every seal of this instance (the counter never repeats),
    /// and unpredictable across instances (the base is random).
    fn next_nonce(&self) -> [u8; NONCE_LEN] {
        let count = self.seals.fetch_add(1, Ordering::Relaxed);
        let mut nonce = self.nonce_base;
        for (n, c) in nonce[NONCE_LEN - 8..].iter_mut().zip(count.to_be_bytes()) {
            *n ^= c;
        }
        nonce
    }
}

#[derive(Clone, Serialize, Deserialize)]
struct WrappedDek {
    id: u32,
    nonce: [u8; NONCE_LEN],
    wrapped: Vec<u8>,
}

#[derive(Clone, Serialize, Deserialize)]
struct ExportedBody {
    version: u8,
    algorithm: u8,
    kcv: [u8; KCV_LEN],
    active: u32,
    next_id: u32,
    deks: Vec<WrappedDek>,
    /// Bumped by every change of the key set or of the unlock key; covered by the MAC.
    epoch: u64,
}

/// The body of a version 1 export: [`ExportedBody`] without the epoch.
#[derive(Deserialize)]
struct ExportedBodyV1 {
    version: u8,
    algorithm: u8,
    kcv: [u8; KCV_LEN],
    active: u32,
    next_id: u32,
    deks: Vec<WrappedDek>,
}

struct Unlocked {
    kek: Kek,
    deks: BTreeMap<u32, Dek>,
    wrapped: Vec<WrappedDek>,
    active: u32,
    next_id: u32,
    epoch: u64,
}

enum State {
    Locked { body: ExportedBody, bytes: Vec<u8> },
    Unlocked(Box<Unlocked>),
}

/// A keyring of data-encryption keys wrapped by a key-encryption key derived from an
/// [`UnlockKey`].
///
/// * `seal` uses the active DEK (AES-256-GCM) with a 96-bit nonce = a random starting point
///   drawn from ring's `SystemRandom` each time the DEK is loaded into memory, XORed with a
///   counter of this instance's seals. Why: every manager of a cluster seals with the same
///   replicated DEK, so a pure counter would need coordination and crash-safe persistence
///   across managers (a repeated (key, nonce) pair is fatal for GCM); fully random nonces
///   are safe but cost a system call per seal and their birthday bound counts every message
///   under the key (2^32 in total per NIST SP 800-38D). Here nonces of one instance never
///   repeat, and two instances (k loads of the key, n seals each) collide with probability
///   below k^2 * 2n / 2^96: for a million loads of 2^30 seals each, about 2^-25. A process
///   that `fork`s must not seal in both parent and child with the same unlocked keyring.
///   [`Keyring::needs_dek_rotation`] says when an instance sealed [`DEK_ROTATION_SEALS`].
/// * `open` checks the associated data (e.g. object id and version): a blob moved to another
///   object fails.
/// * [`Keyring::rotate_dek`]: new writes use a new DEK; old blobs open until re-encrypted with
///   [`Keyring::reencrypt`] and the old DEK is [retired](Keyring::retire_dek).
/// * [`Keyring::rotate_unlock_key`] re-wraps the DEKs under a new KEK without touching data.
/// * [`Keyring::export`] gives the wrapped DEKs as bytes for a store to persist (authenticated
///   with an HMAC under a KEK-derived key); [`Keyring::from_exported`] loads them locked.
/// * A locked keyring refuses `seal`/`open` with [`SecretsError::Locked`]; a wrong key in
///   [`Keyring::unlock`] fails with [`SecretsError::WrongUnlockKey`].
/// * Every [`rotate_dek`](Keyring::rotate_dek), [`retire_dek`](Keyring::retire_dek) and
///   [`rotate_unlock_key`](Keyring::rotate_unlock_key) bumps the keyring's
///   [epoch](Keyring::epoch), a counter under the export's MAC. An older export still unlocks
///   with the same unlock key (it is a valid keyring, only stale) and would bring retired keys
///   back: a caller that keeps the last epoch it saw somewhere an attacker cannot roll back
///   loads with [`Keyring::unlock_with_min_epoch`], which refuses it
///   ([`SecretsError::StaleKeyring`]).
///
/// # What is authenticated
///
/// [`Keyring::from_exported`] checks only the format. Until [`Keyring::unlock`] verifies the
/// HMAC over the whole export, nothing in it is authenticated: the format version, algorithm,
/// key check value, DEK ids, active DEK id, next DEK id, epoch, nonces and wrapped keys could
/// all have been written by anyone who can write the stored bytes. So, on a locked keyring,
/// [`Keyring::active_key_id`], [`Keyring::key_ids`] and `Debug` report these unauthenticated
/// values (to display, never to decide on), and [`Keyring::epoch`] refuses with
/// [`SecretsError::Locked`]. Unlock compares the key check value (in constant time) before
/// the MAC, so a tampered key check value reads as [`SecretsError::WrongUnlockKey`]; any other
/// tampered byte as [`SecretsError::DecryptionFailed`]. Once unlocked, every value is
/// authenticated (or was set by this instance).
///
/// ```
/// use swarm_secrets::{Keyring, UnlockKey};
/// let key = UnlockKey::generate()?;
/// let ring = Keyring::create(&key)?;
/// let blob = ring.seal(b"db-password", b"secret/abc@v1")?;
/// assert_eq!(ring.open(&blob, b"secret/abc@v1")?.expose_secret(), b"db-password");
/// assert!(ring.open(&blob, b"secret/xyz@v1").is_err());
///
/// let stored = ring.export()?;
/// let mut loaded = Keyring::from_exported(&stored)?;
/// assert!(loaded.open(&blob, b"secret/abc@v1").is_err()); // locked
/// loaded.unlock(&key)?;
/// assert_eq!(loaded.open(&blob, b"secret/abc@v1")?.expose_secret(), b"db-password");
/// # Ok::<(), swarm_secrets::SecretsError>(())
/// ```
pub struct Keyring {
    state: State,
    rng: SystemRandom,
}

impl Keyring {
    /// A new unlocked keyring with one fresh DEK, protected by `unlock_key`.
    pub fn create(unlock_key: &UnlockKey) -> Result<Self> {
        let rng = SystemRandom::new();
        let kek = Kek::derive(unlock_key)?;
        let mut unlocked = Unlocked {
            kek,
            deks: BTreeMap::new(),
            wrapped: Vec::new(),
            active: 0,
            next_id: 1,
            epoch: 0,
        };
        unlocked.add_dek(&rng)?;
        Ok(Keyring {
            state: State::Unlocked(Box::new(unlocked)),
            rng,
        })
    }

    /// Loads an exported keyring, locked. Only the format is checked here; the key check and
    /// the MAC are checked by [`Keyring::unlock`].
    pub fn from_exported(bytes: &[u8]) -> Result<Self> {
        let body = parse_exported(bytes)?;
        Ok(Keyring {
            state: State::Locked {
                body,
                bytes: bytes.to_vec(),
            },
            rng: SystemRandom::new(),
        })
    }

    /// Unlocks with `unlock_key`: checks the key, the MAC over the whole keyring, and unwraps
    /// every DEK. Unlocking an unlocked keyring checks the key against it and changes nothing.
    ///
    /// This accepts an export of any epoch: [`Keyring::unlock_with_min_epoch`] also refuses
    /// an older copy.
    pub fn unlock(&mut self, unlock_key: &UnlockKey) -> Result<()> {
        self.unlock_with_min_epoch(unlock_key, 0).map(|_| ())
    }

    /// [`Keyring::unlock`], refusing an export whose authenticated [epoch](Keyring::epoch) is
    /// below `min_epoch` with [`SecretsError::StaleKeyring`] (the keyring stays locked, or
    /// unchanged if it was unlocked). Returns the epoch.
    ///
    /// Keep the epoch after every rotation or retirement where the stored export cannot roll
    /// it back (e.g. in the replicated state, or with the unlock key), and pass it here: an
    /// older export, which still unlocks with the same key and would bring retired keys
    /// back, is refused.
    ///
    /// ```
    /// use swarm_secrets::{Keyring, SecretsError, UnlockKey};
    /// let key = UnlockKey::generate()?;
    /// let mut ring = Keyring::create(&key)?;
    /// let old_export = ring.export()?;
    /// ring.rotate_dek()?;
    /// ring.retire_dek(1)?;
    /// let min_epoch = ring.epoch()?; // kept where the stored export cannot roll it back
    /// let mut stale = Keyring::from_exported(&old_export)?;
    /// assert!(matches!(
    ///     stale.unlock_with_min_epoch(&key, min_epoch),
    ///     Err(SecretsError::StaleKeyring { .. })
    /// ));
    /// let mut current = Keyring::from_exported(&ring.export()?)?;
    /// assert_eq!(current.unlock_with_min_epoch(&key, min_epoch)?, min_epoch);
    /// # Ok::<(), swarm_secrets::SecretsError>(())
    /// ```
    pub fn unlock_with_min_epoch(&mut self, unlock_key: &UnlockKey, min_epoch: u64) -> Result<u64> {
        let kek = Kek::derive(unlock_key)?;
        let (body, bytes) = match &self.state {
            State::Unlocked(u) => {
                if !constant_time_eq(u.kek.kcv.as_slice(), kek.kcv.as_slice(), &self.rng)? {
                    return Err(SecretsError::WrongUnlockKey);
                }
                check_epoch(u.epoch, min_epoch)?;
                return Ok(u.epoch);
            }
            State::Locked { body, bytes } => (body, bytes),
        };
        if !constant_time_eq(&body.kcv, kek.kcv.as_slice(), &self.rng)? {
            return Err(SecretsError::WrongUnlockKey);
        }
        let (signed, tag) = bytes.split_at(bytes.len() - MAC_LEN);
        hmac::verify(&kek.mac, signed, tag)
            .map_err(|_| SecretsError::DecryptionFailed { what: "keyring" })?;
        // From here on the body is authenticated.
        check_epoch(body.epoch, min_epoch)?;
        let mut deks = BTreeMap::new();
        for w in &body.deks {
            let raw = unwrap_dek(&kek, w)?;
            deks.insert(w.id, Dek::new(AeadKey::from_raw(raw)?, &self.rng)?);
        }
        if !deks.contains_key(&body.active) {
            return Err(SecretsError::malformed(
                "keyring",
                format!("active key id {} has no wrapped key", body.active),
            ));
        }
        let epoch = body.epoch;
        let unlocked = Unlocked {
            kek,
            deks,
            wrapped: body.deks.clone(),
            active: body.active,
            next_id: body.next_id,
            epoch,
        };
        self.state = State::Unlocked(Box::new(unlocked));
        Ok(epoch)
    }

    /// Locks: the KEK and the DEKs are dropped (their raw bytes wiped); the wrapped keys stay so
    /// the keyring can still be exported and unlocked again.
    pub fn lock(&mut self) -> Result<()> {
        if let State::Unlocked(u) = &self.state {
            let bytes = u.export()?;
            let body = parse_exported(&bytes)?;
            self.state = State::Locked { body, bytes };
        }
        Ok(())
    }

    /// Whether the keyring is locked.
    pub fn is_locked(&self) -> bool {
        matches!(self.state, State::Locked { .. })
    }

    fn unlocked(&self) -> Result<&Unlocked> {
        match &self.state {
            State::Unlocked(u) => Ok(u),
            State::Locked { .. } => Err(SecretsError::Locked),
        }
    }

    fn unlocked_mut(&mut self) -> Result<&mut Unlocked> {
        match &mut self.state {
            State::Unlocked(u) => Ok(u),
            State::Locked { .. } => Err(SecretsError::Locked),
        }
    }

    /// The wrapped DEKs as bytes, for a store to persist. Works locked or unlocked.
    pub fn export(&self) -> Result<Vec<u8>> {
        match &self.state {
            State::Locked { bytes, .. } => Ok(bytes.clone()),
            State::Unlocked(u) => u.export(),
        }
    }

    /// The keyring's epoch: 0 when created, bumped by every DEK rotation, DEK retirement and
    /// unlock key rotation, and carried under the export's MAC. Authenticated only: a locked
    /// keyring refuses with [`SecretsError::Locked`]. See [`Keyring::unlock_with_min_epoch`].
    pub fn epoch(&self) -> Result<u64> {
        Ok(self.unlocked()?.epoch)
    }

    /// The id of the DEK new seals use. On a locked keyring this is read from the export
    /// without authentication (see "What is authenticated" on [`Keyring`]): display it,
    /// never decide on it.
    pub fn active_key_id(&self) -> u32 {
        match &self.state {
            State::Locked { body, .. } => body.active,
            State::Unlocked(u) => u.active,
        }
    }

    /// The ids of every DEK held, oldest first. On a locked keyring these are read from the
    /// export without authentication, like [`Keyring::active_key_id`].
    pub fn key_ids(&self) -> Vec<u32> {
        match &self.state {
            State::Locked { body, .. } => body.deks.iter().map(|w| w.id).collect(),
            State::Unlocked(u) => u.deks.keys().copied().collect(),
        }
    }

    /// Seals `plaintext` bound to `associated_data` under the active DEK.
    pub fn seal(&self, plaintext: &[u8], associated_data: &[u8]) -> Result<SealedBlob> {
        let u = self.unlocked()?;
        check_len("plaintext", plaintext.len(), MAX_KEYRING_PLAINTEXT_BYTES)?;
        check_len(
            "associated data",
            associated_data.len(),
            MAX_ASSOCIATED_DATA_BYTES,
        )?;
        let dek = u
            .deks
            .get(&u.active)
            .ok_or(SecretsError::UnknownKey { key_id: u.active })?;
        let nonce = dek.next_nonce();
        let mut out = Vec::with_capacity(SEALED_BLOB_HEADER_BYTES + plaintext.len() + TAG_LEN);
        out.push(SEALED_BLOB_VERSION);
        out.push(ALG_AES_256_GCM);
        out.extend_from_slice(&u.active.to_be_bytes());
        out.extend_from_slice(&nonce);
        let mut header = [0u8; SEALED_BLOB_HEADER_BYTES];
        header.copy_from_slice(&out);
        out.extend_from_slice(plaintext);
        with_blob_aad(&header, associated_data, |aad| {
            dek.key
                .seal_in_vec(nonce, aad, &mut out, SEALED_BLOB_HEADER_BYTES)
        })?;
        Ok(SealedBlob::from_parts_unchecked(out))
    }

    /// Opens a blob sealed by this keyring with the same associated data.
    pub fn open(&self, blob: &SealedBlob, associated_data: &[u8]) -> Result<SecretBytes> {
        let u = self.unlocked()?;
        let key_id = blob.key_id();
        let dek = u
            .deks
            .get(&key_id)
            .ok_or(SecretsError::UnknownKey { key_id })?;
        let mut buf = SecretBytes::from(blob.ciphertext_and_tag().to_vec());
        let len = with_blob_aad(blob.header(), associated_data, |aad| {
            dek.key
                .open_in_place(blob.nonce(), aad, buf.as_mut_slice(), "sealed blob")
        })?;
        buf.truncate(len);
        Ok(buf)
    }

    /// Parses stored bytes as a [`SealedBlob`] and opens it.
    pub fn open_bytes(&self, bytes: &[u8], associated_data: &[u8]) -> Result<SecretBytes> {
        // Check the lock before parsing so a locked keyring always says so.
        self.unlocked()?;
        let blob = SealedBlob::from_bytes(bytes.to_vec())?;
        self.open(&blob, associated_data)
    }

    /// Re-seals `blob` under the active DEK if an older DEK sealed it; `None` if it is current.
    pub fn reencrypt(
        &self,
        blob: &SealedBlob,
        associated_data: &[u8],
    ) -> Result<Option<SealedBlob>> {
        if blob.key_id() == self.unlocked()?.active {
            return Ok(None);
        }
        let plaintext = self.open(blob, associated_data)?;
        self.seal(plaintext.expose_secret(), associated_data)
            .map(Some)
    }

    /// Adds a fresh DEK and makes it active, and bumps the [epoch](Keyring::epoch). Returns
    /// its id.
    pub fn rotate_dek(&mut self) -> Result<u32> {
        let rng = self.rng.clone();
        let u = self.unlocked_mut()?;
        if u.deks.len() >= MAX_KEYRING_DEKS {
            return Err(SecretsError::invalid(
                "keyring",
                format!(
                    "already holds {MAX_KEYRING_DEKS} keys: re-encrypt and retire old ones first"
                ),
            ));
        }
        let next_epoch = u.next_epoch()?;
        let id = u.add_dek(&rng)?;
        u.epoch = next_epoch;
        Ok(id)
    }

    /// Drops an old DEK after every blob it sealed was re-encrypted, and bumps the
    /// [epoch](Keyring::epoch) (so an export from before, which still holds the key, can be
    /// refused). The active DEK cannot be retired.
    pub fn retire_dek(&mut self, key_id: u32) -> Result<()> {
        let u = self.unlocked_mut()?;
        if key_id == u.active {
            return Err(SecretsError::invalid(
                "key id",
                format!("{key_id} is the active key"),
            ));
        }
        if !u.deks.contains_key(&key_id) {
            return Err(SecretsError::UnknownKey { key_id });
        }
        let next_epoch = u.next_epoch()?;
        u.deks.remove(&key_id);
        u.wrapped.retain(|w| w.id != key_id);
        u.epoch = next_epoch;
        Ok(())
    }

    /// Re-wraps every DEK under the KEK of `new_key`, and bumps the [epoch](Keyring::epoch).
    /// Sealed data is untouched; the old unlock key stops working for the exported keyring at
    /// once (an export from before still opens with the old key: refuse it by epoch).
    pub fn rotate_unlock_key(&mut self, new_key: &UnlockKey) -> Result<()> {
        let rng = self.rng.clone();
        let u = self.unlocked_mut()?;
        let next_epoch = u.next_epoch()?;
        let kek = Kek::derive(new_key)?;
        let mut wrapped = Vec::with_capacity(u.deks.len());
        for (&id, dek) in &u.deks {
            wrapped.push(wrap_dek(&kek, id, dek.key.raw(), &rng)?);
        }
        u.kek = kek;
        u.wrapped = wrapped;
        u.epoch = next_epoch;
        Ok(())
    }

    /// Whether this process sealed [`DEK_ROTATION_SEALS`] values under the active DEK.
    pub fn needs_dek_rotation(&self) -> bool {
        match &self.state {
            State::Unlocked(u) => u
                .deks
                .get(&u.active)
                .is_some_and(|d| d.seals.load(Ordering::Relaxed) >= DEK_ROTATION_SEALS),
            State::Locked { .. } => false,
        }
    }
}

impl Unlocked {
    /// The epoch after this one; refused (not wrapped) at `u64::MAX`.
    fn next_epoch(&self) -> Result<u64> {
        self.epoch
            .checked_add(1)
            .ok_or_else(|| SecretsError::invalid("keyring", "epochs exhausted"))
    }

    fn add_dek(&mut self, rng: &SystemRandom) -> Result<u32> {
        let id = self.next_id;
        self.next_id = self
            .next_id
            .checked_add(1)
            .ok_or_else(|| SecretsError::invalid("keyring", "key ids exhausted"))?;
        let key = AeadKey::generate(rng)?;
        self.wrapped.push(wrap_dek(&self.kek, id, key.raw(), rng)?);
        self.deks.insert(id, Dek::new(key, rng)?);
        self.active = id;
        Ok(id)
    }

    fn export(&self) -> Result<Vec<u8>> {
        let body = ExportedBody {
            version: EXPORTED_KEYRING_VERSION,
            algorithm: ALG_AES_256_GCM,
            kcv: *self.kek.kcv,
            active: self.active,
            next_id: self.next_id,
            deks: self.wrapped.clone(),
            epoch: self.epoch,
        };
        let mut bytes = postcard::to_stdvec(&body)
            .map_err(|e| SecretsError::malformed("keyring", e.to_string()))?;
        let tag = hmac::sign(&self.kek.mac, &bytes);
        bytes.extend_from_slice(tag.as_ref());
        Ok(bytes)
    }
}

fn parse_exported(bytes: &[u8]) -> Result<ExportedBody> {
    const WHAT: &str = "exported keyring";
    check_len(WHAT, bytes.len(), MAX_EXPORTED_KEYRING_BYTES)?;
    if bytes.len() <= MAC_LEN {
        return Err(SecretsError::malformed(WHAT, "shorter than its MAC"));
    }
    let signed = &bytes[..bytes.len() - MAC_LEN];
    let malformed = |e: postcard::Error| SecretsError::malformed(WHAT, e.to_string());
    let (body, rest) = match bytes[0] {
        EXPORTED_KEYRING_VERSION => {
            postcard::take_from_bytes::<ExportedBody>(signed).map_err(malformed)?
        }
        EXPORTED_KEYRING_VERSION_1 => {
            let (v1, rest) =
                postcard::take_from_bytes::<ExportedBodyV1>(signed).map_err(malformed)?;
            let body = ExportedBody {
                version: v1.version,
                algorithm: v1.algorithm,
                kcv: v1.kcv,
                active: v1.active,
                next_id: v1.next_id,
                deks: v1.deks,
                epoch: 0,
            };
            (body, rest)
        }
        version => {
            return Err(SecretsError::UnsupportedVersion {
                what: WHAT,
                version,
            });
        }
    };
    if !rest.is_empty() {
        return Err(SecretsError::malformed(WHAT, "trailing bytes"));
    }
    if body.algorithm != ALG_AES_256_GCM {
        return Err(SecretsError::malformed(
            WHAT,
            format!("unknown algorithm {}", body.algorithm),
        ));
    }
    if body.deks.is_empty() || body.deks.len() > MAX_KEYRING_DEKS {
        return Err(SecretsError::malformed(
            WHAT,
            format!("{} keys, expected 1..={MAX_KEYRING_DEKS}", body.deks.len()),
        ));
    }
    let mut ids: Vec<u32> = body.deks.iter().map(|w| w.id).collect();
    ids.sort_unstable();
    if ids.windows(2).any(|w| w[0] == w[1]) {
        return Err(SecretsError::malformed(WHAT, "duplicate key ids"));
    }
    if ids.last().is_some_and(|&max| max >= body.next_id) {
        return Err(SecretsError::malformed(
            WHAT,
            "next key id is not above every key id",
        ));
    }
    Ok(body)
}

/// Refuses an authenticated epoch below the caller's minimum.
fn check_epoch(epoch: u64, min_epoch: u64) -> Result<()> {
    if epoch < min_epoch {
        return Err(SecretsError::StaleKeyring { epoch, min_epoch });
    }
    Ok(())
}

fn wrap_aad(id: u32) -> Vec<u8> {
    let mut aad = DEK_WRAP_AAD.to_vec();
    aad.extend_from_slice(&id.to_be_bytes());
    aad
}

fn wrap_dek(kek: &Kek, id: u32, raw: &[u8; KEY_LEN], rng: &SystemRandom) -> Result<WrappedDek> {
    let nonce = random_nonce(rng)?;
    let mut buf = raw.to_vec();
    kek.aead.seal_in_vec(nonce, &wrap_aad(id), &mut buf, 0)?;
    Ok(WrappedDek {
        id,
        nonce,
        wrapped: buf,
    })
}

fn unwrap_dek(kek: &Kek, w: &WrappedDek) -> Result<Zeroizing<[u8; KEY_LEN]>> {
    if w.wrapped.len() != KEY_LEN + TAG_LEN {
        return Err(SecretsError::malformed(
            "exported keyring",
            format!("wrapped key {} has {} bytes", w.id, w.wrapped.len()),
        ));
    }
    let mut buf = Zeroizing::new(w.wrapped.clone());
    let len = kek
        .aead
        .open_in_place(w.nonce, &wrap_aad(w.id), &mut buf, "wrapped key")?;
    let mut raw = Zeroizing::new([0u8; KEY_LEN]);
    raw.copy_from_slice(&buf[..len]);
    Ok(raw)
}

/// Associated data up to this size is assembled on the stack (no allocation per call).
const STACK_AAD_BYTES: usize = 256;

/// Runs `f` with `header || associated_data`, the AEAD's associated data.
fn with_blob_aad<R>(header: &[u8], associated_data: &[u8], f: impl FnOnce(&[u8]) -> R) -> R {
    let len = header.len() + associated_data.len();
    if len <= STACK_AAD_BYTES {
        let mut buf = [0u8; STACK_AAD_BYTES];
        buf[..header.len()].copy_from_slice(header);
        buf[header.len()..len].copy_from_slice(associated_data);
        f(&buf[..len])
    } else {
        let mut aad = Vec::with_capacity(len);
        aad.extend_from_slice(header);
        aad.extend_from_slice(associated_data);
        f(&aad)
    }
}

fn check_len(what: &'static str, len: usize, limit: usize) -> Result<()> {
    if len > limit {
        return Err(SecretsError::TooLarge {
            what,
            len_bytes: len,
            limit_bytes: limit,
        });
    }
    Ok(())
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keyring")
            .field("locked", &self.is_locked())
            .field("epoch", &self.epoch().ok())
            .field("active_key_id", &self.active_key_id())
            .field("key_ids", &self.key_ids())
            .finish_non_exhaustive()
    }
}
