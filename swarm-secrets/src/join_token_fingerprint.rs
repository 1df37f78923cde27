//! A one-way fingerprint of a join token, so a cluster can remember tokens it rotated away
//! without keeping their secrets.

use std::fmt;

use ring::digest;
use serde::{Deserialize, Serialize};

use crate::join_token::JoinToken;

/// Length of a fingerprint (SHA-256).
const FINGERPRINT_BYTES: usize = 32;
/// Domain separation: a fingerprint is never equal to another SHA-256 this crate computes.
const DOMAIN: &[u8] = b"swarm join token fingerprint v1\0";

/// SHA-256 over a domain tag, the token's CA digest and its secret.
///
/// A cluster keeps the fingerprints of the tokens it rotated away, so a joining node that
/// presents one can be told "this token was rotated" instead of "wrong token", while the
/// rotated secret itself is forgotten. The secret is 128 random bits, so the fingerprint does
/// not let anyone recover it. Two tokens have equal fingerprints exactly when they are equal
/// (same CA digest and secret), up to SHA-256 collisions.
///
/// ```
/// use swarm_secrets::{CaDigest, JoinTokens, Role};
/// let mut tokens = JoinTokens::generate(CaDigest::of_certificate(b"ca"))?;
/// let old = tokens.token(Role::Worker);
/// let remembered = old.fingerprint();
/// tokens.rotate(Role::Worker)?;
/// assert!(tokens.verify(&old).is_err());
/// assert_eq!(old.fingerprint(), remembered);
/// assert_ne!(tokens.token(Role::Worker).fingerprint(), remembered);
/// # Ok::<(), swarm_secrets::SecretsError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct JoinTokenFingerprint([u8; FINGERPRINT_BYTES]);

impl JoinTokenFingerprint {
    /// The fingerprint bytes.
    pub fn as_bytes(&self) -> &[u8; FINGERPRINT_BYTES] {
        &self.0
    }
}

impl JoinToken {
    /// This token's [`JoinTokenFingerprint`].
    pub fn fingerprint(&self) -> JoinTokenFingerprint {
        let mut ctx = digest::Context::new(&digest::SHA256);
        ctx.update(DOMAIN);
        ctx.update(self.ca_digest.as_bytes());
        ctx.update(self.secret.as_slice());
        let mut out = [0u8; FINGERPRINT_BYTES];
        out.copy_from_slice(ctx.finish().as_ref());
        JoinTokenFingerprint(out)
    }
}

impl fmt::Debug for JoinTokenFingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "JoinTokenFingerprint(sha256:")?;
        for b in &self.0[..8] {
            write!(f, "{b:02x}")?;
        }
        write!(f, "...)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ca_digest::CaDigest;
    use crate::join_tokens::JoinTokens;
    use crate::node_id::Role;

    #[test]
    fn equal_tokens_have_equal_fingerprints_and_others_differ() {
        let tokens = JoinTokens::generate(CaDigest::of_certificate(b"ca")).unwrap();
        let worker = tokens.token(Role::Worker);
        let manager = tokens.token(Role::Manager);
        let parsed = JoinToken::parse(&worker.expose()).unwrap();
        assert_eq!(worker.fingerprint(), parsed.fingerprint());
        assert_ne!(worker.fingerprint(), manager.fingerprint());

        // The same secret pinned to another CA is another token.
        let mut repinned = tokens.clone();
        repinned.set_ca_digest(CaDigest::of_certificate(b"another ca"));
        assert_ne!(
            repinned.token(Role::Worker).fingerprint(),
            worker.fingerprint()
        );
    }

    #[test]
    fn debug_shows_a_prefix_only_and_serde_round_trips() {
        let tokens = JoinTokens::generate(CaDigest::of_certificate(b"ca")).unwrap();
        let fp = tokens.token(Role::Manager).fingerprint();
        let shown = format!("{fp:?}");
        assert!(shown.starts_with("JoinTokenFingerprint(sha256:"), "{shown}");
        assert_eq!(shown.len(), "JoinTokenFingerprint(sha256:".len() + 16 + 4);
        let json = serde_json::to_string(&fp).unwrap();
        assert_eq!(
            serde_json::from_str::<JoinTokenFingerprint>(&json).unwrap(),
            fp
        );
        assert_eq!(fp.as_bytes().len(), 32);
    }
}
