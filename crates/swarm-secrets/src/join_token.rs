//! Join tokens in SwarmKit's format: `SWMTKN-1-<digest of the root CA>-<128-bit secret>`.

use std::fmt;

use ring::digest;
use ring::rand::{SecureRandom, SystemRandom};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::aead_key::constant_time_eq;
use crate::encoding::{base36_decode, base36_encode};
use crate::error::{Result, SecretsError};
use crate::node_id::Role;

/// Prefix of a join token, as in SwarmKit.
pub const JOIN_TOKEN_PREFIX: &str = "SWMTKN-1-";
const DIGEST_BYTES: usize = 32;
const SECRET_BYTES: usize = 16;
/// Base36 width of the CA digest (SHA-256), as SwarmKit pads it.
const DIGEST_CHARS: usize = 50;
/// Base36 width of the 128-bit secret, as SwarmKit pads it.
const SECRET_CHARS: usize = 25;
const EXPORTED_TOKENS_BYTES: usize = DIGEST_BYTES + 2 * SECRET_BYTES;

/// SHA-256 of the root CA certificate (DER), as carried in join tokens.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CaDigest([u8; DIGEST_BYTES]);

impl CaDigest {
    /// The digest of a DER-encoded CA certificate.
    pub fn of_certificate(ca_cert_der: &[u8]) -> Self {
        let d = digest::digest(&digest::SHA256, ca_cert_der);
        let mut out = [0u8; DIGEST_BYTES];
        out.copy_from_slice(d.as_ref());
        CaDigest(out)
    }

    /// The digest bytes.
    pub fn as_bytes(&self) -> &[u8; DIGEST_BYTES] {
        &self.0
    }

    /// Checks in constant time that `ca_cert_der` has this digest.
    pub fn verify(&self, ca_cert_der: &[u8]) -> Result<()> {
        let other = CaDigest::of_certificate(ca_cert_der);
        if constant_time_eq(&self.0, &other.0, &SystemRandom::new())? {
            Ok(())
        } else {
            Err(SecretsError::CaDigestMismatch)
        }
    }
}

impl fmt::Debug for CaDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CaDigest(sha256:")?;
        for b in &self.0[..8] {
            write!(f, "{b:02x}")?;
        }
        write!(f, "...)")
    }
}

/// A join token as a joining node holds it. The secret part is wiped on drop and redacted in
/// `Debug`; [`JoinToken::expose`] renders the full token.
///
/// ```
/// use swarm_secrets::{CaDigest, JoinToken, JoinTokens, Role};
/// let ca_der = b"stand-in for the CA certificate DER";
/// let tokens = JoinTokens::generate(CaDigest::of_certificate(ca_der))?;
/// let text = tokens.token(Role::Worker).expose();
/// let token = JoinToken::parse(&text)?;
/// token.verify_ca(ca_der)?; // the joining node checks the CA it downloaded
/// assert_eq!(tokens.verify(&token)?, Role::Worker); // the manager checks the token
/// # Ok::<(), swarm_secrets::SecretsError>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct JoinToken {
    ca_digest: CaDigest,
    secret: Zeroizing<[u8; SECRET_BYTES]>,
}

impl JoinToken {
    /// Parses `SWMTKN-1-<50 base36 chars>-<25 base36 chars>` (whitespace around is ignored).
    pub fn parse(text: &str) -> Result<Self> {
        const FIELD: &str = "join token";
        let text = text.trim();
        let body = text.strip_prefix(JOIN_TOKEN_PREFIX).ok_or_else(|| {
            SecretsError::invalid(FIELD, format!("must start with {JOIN_TOKEN_PREFIX}"))
        })?;
        let (digest, secret) = body
            .split_once('-')
            .ok_or_else(|| SecretsError::invalid(FIELD, "missing '-' between digest and secret"))?;
        if digest.len() != DIGEST_CHARS || secret.len() != SECRET_CHARS {
            return Err(SecretsError::invalid(
                FIELD,
                format!(
                    "digest and secret must be {DIGEST_CHARS} and {SECRET_CHARS} base36 characters, got {} and {}",
                    digest.len(),
                    secret.len()
                ),
            ));
        }
        let digest = base36_decode::<DIGEST_BYTES>(digest)
            .ok_or_else(|| SecretsError::invalid(FIELD, "CA digest is not base36 of 256 bits"))?;
        let secret = base36_decode::<SECRET_BYTES>(secret)
            .ok_or_else(|| SecretsError::invalid(FIELD, "secret is not base36 of 128 bits"))?;
        Ok(JoinToken {
            ca_digest: CaDigest(*digest),
            secret,
        })
    }

    /// The CA digest the token pins.
    pub fn ca_digest(&self) -> CaDigest {
        self.ca_digest
    }

    /// Checks that a downloaded root CA certificate is the one this token pins. A joining node
    /// must do this before trusting the CA.
    pub fn verify_ca(&self, ca_cert_der: &[u8]) -> Result<()> {
        self.ca_digest.verify(ca_cert_der)
    }

    /// The full token text (secret included): show it only to an operator.
    pub fn expose(&self) -> Zeroizing<String> {
        let mut s = Zeroizing::new(String::from(JOIN_TOKEN_PREFIX));
        s.push_str(&base36_encode(&self.ca_digest.0, DIGEST_CHARS));
        s.push('-');
        s.push_str(&base36_encode(self.secret.as_slice(), SECRET_CHARS));
        s
    }
}

impl fmt::Debug for JoinToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinToken")
            .field("ca_digest", &self.ca_digest)
            .field("secret", &"[REDACTED]")
            .finish()
    }
}

/// The manager side: the current worker and manager tokens of a cluster.
///
/// [`JoinTokens::verify`] compares in constant time against the current secrets only, so a
/// [rotated](JoinTokens::rotate) token stops working at once, and a token for another CA is
/// rejected.
#[derive(Clone, PartialEq, Eq)]
pub struct JoinTokens {
    ca_digest: CaDigest,
    worker: Zeroizing<[u8; SECRET_BYTES]>,
    manager: Zeroizing<[u8; SECRET_BYTES]>,
}

fn random_secret() -> Result<Zeroizing<[u8; SECRET_BYTES]>> {
    let mut s = Zeroizing::new([0u8; SECRET_BYTES]);
    SystemRandom::new()
        .fill(s.as_mut_slice())
        .map_err(|_| SecretsError::Rng)?;
    Ok(s)
}

impl JoinTokens {
    /// Fresh worker and manager secrets for the CA with `ca_digest`.
    pub fn generate(ca_digest: CaDigest) -> Result<Self> {
        Ok(JoinTokens {
            ca_digest,
            worker: random_secret()?,
            manager: random_secret()?,
        })
    }

    /// The current token for `role`.
    pub fn token(&self, role: Role) -> JoinToken {
        let secret = match role {
            Role::Worker => self.worker.clone(),
            Role::Manager => self.manager.clone(),
        };
        JoinToken {
            ca_digest: self.ca_digest,
            secret,
        }
    }

    /// Replaces the secret for `role`: the old token is rejected from now on.
    pub fn rotate(&mut self, role: Role) -> Result<()> {
        let fresh = random_secret()?;
        match role {
            Role::Worker => self.worker = fresh,
            Role::Manager => self.manager = fresh,
        }
        Ok(())
    }

    /// Pins a new root CA (after a CA rotation); tokens naming the old CA are rejected.
    pub fn set_ca_digest(&mut self, ca_digest: CaDigest) {
        self.ca_digest = ca_digest;
    }

    /// The CA digest the tokens pin.
    pub fn ca_digest(&self) -> CaDigest {
        self.ca_digest
    }

    /// Checks a presented token; returns the role it grants.
    pub fn verify(&self, token: &JoinToken) -> Result<Role> {
        let rng = SystemRandom::new();
        if !constant_time_eq(&token.ca_digest.0, &self.ca_digest.0, &rng)? {
            return Err(SecretsError::TokenRejected(
                "it pins another root CA than this cluster's",
            ));
        }
        // Compare against both secrets whatever the outcome, so timing says nothing.
        let is_worker = constant_time_eq(token.secret.as_slice(), self.worker.as_slice(), &rng)?;
        let is_manager = constant_time_eq(token.secret.as_slice(), self.manager.as_slice(), &rng)?;
        match (is_worker, is_manager) {
            (true, _) => Ok(Role::Worker),
            (false, true) => Ok(Role::Manager),
            (false, false) => Err(SecretsError::TokenRejected(
                "not a current worker or manager token (rotated or forged)",
            )),
        }
    }

    /// The tokens as bytes for a store to persist (protect them, e.g. with a
    /// [`crate::Keyring`]): CA digest, worker secret, manager secret.
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(Vec::with_capacity(EXPORTED_TOKENS_BYTES));
        out.extend_from_slice(&self.ca_digest.0);
        out.extend_from_slice(self.worker.as_slice());
        out.extend_from_slice(self.manager.as_slice());
        out
    }

    /// Restores tokens saved with [`JoinTokens::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        if bytes.len() != EXPORTED_TOKENS_BYTES {
            return Err(SecretsError::malformed(
                "exported join tokens",
                format!("{} bytes, expected {EXPORTED_TOKENS_BYTES}", bytes.len()),
            ));
        }
        let mut digest = [0u8; DIGEST_BYTES];
        digest.copy_from_slice(&bytes[..DIGEST_BYTES]);
        let mut worker = Zeroizing::new([0u8; SECRET_BYTES]);
        worker.copy_from_slice(&bytes[DIGEST_BYTES..DIGEST_BYTES + SECRET_BYTES]);
        let mut manager = Zeroizing::new([0u8; SECRET_BYTES]);
        manager.copy_from_slice(&bytes[DIGEST_BYTES + SECRET_BYTES..]);
        Ok(JoinTokens {
            ca_digest: CaDigest(digest),
            worker,
            manager,
        })
    }

    /// Parses and checks a token given as text.
    pub fn verify_text(&self, token: &str) -> Result<Role> {
        self.verify(&JoinToken::parse(token)?)
    }
}

impl fmt::Debug for JoinTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinTokens")
            .field("ca_digest", &self.ca_digest)
            .field("worker", &"[REDACTED]")
            .field("manager", &"[REDACTED]")
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_text_has_swarmkit_shape() {
        let tokens = JoinTokens::generate(CaDigest::of_certificate(b"ca")).unwrap();
        let text = tokens.token(Role::Manager).expose();
        let parts: Vec<&str> = text.split('-').collect();
        assert_eq!(parts.len(), 4, "{}", text.as_str());
        assert_eq!((parts[0], parts[1]), ("SWMTKN", "1"));
        assert_eq!(parts[2].len(), 50);
        assert_eq!(parts[3].len(), 25);
        assert_eq!(tokens.verify_text(&text).unwrap(), Role::Manager);
    }

    #[test]
    fn parses_a_swarmkit_token() {
        let t =
            "SWMTKN-1-49nj1cmql0jkz5s954yi3oex3nedyz0fb0xx14ie39trti4wxv-8vxv8rssmk743ojnwacrr2e7c";
        let token = JoinToken::parse(t).unwrap();
        assert_eq!(token.expose().as_str(), t);
    }

    #[test]
    fn rejects_malformed_tokens_with_field_name() {
        for bad in [
            "",
            "SWMTKN-2-x-y",
            "SWMTKN-1-abc",
            "SWMTKN-1-49nj1cmql0jkz5s954yi3oex3nedyz0fb0xx14ie39trti4wxv-8vxv8rssmk743ojnwacrr2e7C",
            // 50 'z's overflow 256 bits.
            "SWMTKN-1-zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz-8vxv8rssmk743ojnwacrr2e7c",
        ] {
            let e = JoinToken::parse(bad).unwrap_err().to_string();
            assert!(e.contains("join token"), "{bad}: {e}");
        }
    }
}
