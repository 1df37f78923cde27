//! Join tokens in SwarmKit's format: `SWMTKN-1-<digest of the root CA>-<128-bit secret>`.

use std::fmt;

use zeroize::Zeroizing;

use crate::ca_digest::{CaDigest, DIGEST_BYTES};
use crate::constant_time::fixed_time_eq;
use crate::encoding::{base36_decode, base36_encode};
use crate::error::{Result, SecretsError};

/// Prefix of a join token, as in SwarmKit.
pub const JOIN_TOKEN_PREFIX: &str = "SWMTKN-1-";
/// Length of a join token's secret (128 bits).
pub(crate) const SECRET_BYTES: usize = 16;
/// Base36 width of the CA digest (SHA-256), as SwarmKit pads it.
const DIGEST_CHARS: usize = 50;
/// Base36 width of the 128-bit secret, as SwarmKit pads it.
const SECRET_CHARS: usize = 25;

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
///
/// `==` compares the secret in constant time (the CA digest is public).
#[derive(Clone)]
pub struct JoinToken {
    pub(crate) ca_digest: CaDigest,
    pub(crate) secret: Zeroizing<[u8; SECRET_BYTES]>,
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

impl PartialEq for JoinToken {
    fn eq(&self, other: &Self) -> bool {
        let secret = fixed_time_eq(&self.secret, &other.secret);
        (self.ca_digest == other.ca_digest) & secret
    }
}

impl Eq for JoinToken {}

impl fmt::Debug for JoinToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinToken")
            .field("ca_digest", &self.ca_digest)
            .field("secret", &"[REDACTED]")
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::join_tokens::JoinTokens;
    use crate::node_id::Role;

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
