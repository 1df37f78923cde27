//! The one AEAD this crate uses (AES-256-GCM from ring) and HKDF helpers.
//!
//! AES-256-GCM is hardware accelerated on every server CPU this library targets (AES-NI/PCLMUL,
//! ARMv8 crypto extensions) and is what ring optimises most; ChaCha20-Poly1305 would be the pick
//! for CPUs without AES instructions. The algorithm byte in every format keeps the door open.

use ring::aead::{self, Aad, LessSafeKey, Nonce, UnboundKey};
use ring::hkdf;
use ring::rand::{SecureRandom, SystemRandom};
use zeroize::Zeroizing;

use crate::error::{Result, SecretsError};

/// Key length of AES-256-GCM.
pub(crate) const KEY_LEN: usize = 32;
/// Nonce length of AES-256-GCM.
pub(crate) const NONCE_LEN: usize = 12;
/// Tag length of AES-256-GCM.
pub(crate) const TAG_LEN: usize = 16;
/// Algorithm byte for AES-256-GCM in the sealed formats.
pub(crate) const ALG_AES_256_GCM: u8 = 1;

/// An AEAD key: the raw bytes (zeroized on drop) and ring's expanded key.
///
/// ring does not wipe its expanded AES key schedule on drop; the raw key bytes we own are wiped.
pub(crate) struct AeadKey {
    raw: Zeroizing<[u8; KEY_LEN]>,
    key: LessSafeKey,
}

impl AeadKey {
    pub(crate) fn from_raw(raw: Zeroizing<[u8; KEY_LEN]>) -> Result<Self> {
        let unbound = UnboundKey::new(&aead::AES_256_GCM, raw.as_slice())
            .map_err(|_| SecretsError::Crypto("AES-256-GCM key of the wrong length"))?;
        Ok(AeadKey {
            raw,
            key: LessSafeKey::new(unbound),
        })
    }

    pub(crate) fn generate(rng: &SystemRandom) -> Result<Self> {
        let mut raw = Zeroizing::new([0u8; KEY_LEN]);
        rng.fill(raw.as_mut_slice())
            .map_err(|_| SecretsError::Rng)?;
        AeadKey::from_raw(raw)
    }

    pub(crate) fn raw(&self) -> &[u8; KEY_LEN] {
        &self.raw
    }

    /// Encrypts `buf[start..]` in place and appends the tag.
    pub(crate) fn seal_in_vec(
        &self,
        nonce: [u8; NONCE_LEN],
        aad: &[u8],
        buf: &mut Vec<u8>,
        start: usize,
    ) -> Result<()> {
        let tag = self
            .key
            .seal_in_place_separate_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad),
                &mut buf[start..],
            )
            .map_err(|_| SecretsError::Crypto("AES-256-GCM seal failed"))?;
        buf.extend_from_slice(tag.as_ref());
        Ok(())
    }

    /// Decrypts `ciphertext || tag` in place; returns the plaintext length.
    pub(crate) fn open_in_place(
        &self,
        nonce: [u8; NONCE_LEN],
        aad: &[u8],
        buf: &mut [u8],
        what: &'static str,
    ) -> Result<usize> {
        self.key
            .open_in_place(Nonce::assume_unique_for_key(nonce), Aad::from(aad), buf)
            .map(|pt| pt.len())
            .map_err(|_| SecretsError::DecryptionFailed { what })
    }
}

pub(crate) fn random_nonce(rng: &SystemRandom) -> Result<[u8; NONCE_LEN]> {
    let mut nonce = [0u8; NONCE_LEN];
    rng.fill(&mut nonce).map_err(|_| SecretsError::Rng)?;
    Ok(nonce)
}

struct OkmLen(usize);

impl hkdf::KeyType for OkmLen {
    fn len(&self) -> usize {
        self.0
    }
}

/// HKDF-SHA256 expand of `N` bytes with one `info` label from an extracted PRK.
pub(crate) fn hkdf_expand<const N: usize>(
    prk: &hkdf::Prk,
    info: &[&[u8]],
) -> Result<Zeroizing<[u8; N]>> {
    let mut out = Zeroizing::new([0u8; N]);
    prk.expand(info, OkmLen(N))
        .and_then(|okm| okm.fill(out.as_mut_slice()))
        .map_err(|_| SecretsError::Crypto("HKDF output length out of range"))?;
    Ok(out)
}

/// HKDF-SHA256 extract.
pub(crate) fn hkdf_extract(salt: &[u8], ikm: &[u8]) -> hkdf::Prk {
    hkdf::Salt::new(hkdf::HKDF_SHA256, salt).extract(ikm)
}
