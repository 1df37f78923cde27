//! The manager side of join tokens: the current worker and manager secrets.

use std::fmt;

use ring::rand::{SecureRandom, SystemRandom};
use zeroize::Zeroizing;

use crate::ca_digest::{CaDigest, DIGEST_BYTES};
use crate::constant_time::{constant_time_eq, fixed_time_eq};
use crate::error::{Result, SecretsError};
use crate::join_token::{JoinToken, SECRET_BYTES};
use crate::node_id::Role;

const EXPORTED_TOKENS_BYTES: usize = DIGEST_BYTES + 2 * SECRET_BYTES;

/// The manager side: the current worker and manager tokens of a cluster.
///
/// [`JoinTokens::verify`] compares in constant time against the current secrets only, so a
/// [rotated](JoinTokens::rotate) token stops working at once, and a token for another CA is
/// rejected.
///
/// `==` compares the secrets in constant time (the CA digest is public).
#[derive(Clone)]
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

impl PartialEq for JoinTokens {
    fn eq(&self, other: &Self) -> bool {
        // Both secrets are always compared: `&`, not `&&`.
        let worker = fixed_time_eq(&self.worker, &other.worker);
        let manager = fixed_time_eq(&self.manager, &other.manager);
        (self.ca_digest == other.ca_digest) & worker & manager
    }
}

impl Eq for JoinTokens {}

impl fmt::Debug for JoinTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinTokens")
            .field("ca_digest", &self.ca_digest)
            .field("worker", &"[REDACTED]")
            .field("manager", &"[REDACTED]")
            .finish()
    }
}
