//! The joining node's check of the root CA it downloaded.

use crate::manager::ca_server::join_error::JoinError;
use swarm_secrets::{JoinToken, SecretsError};

/// The joining node's side, before it trusts anything a manager sent: parses its join token
/// and checks that the root CA certificate downloaded from `manager` is the one the token pins
/// (SHA-256 of its canonical PEM, compared in constant time).
///
/// Contract: returns the parsed token only when the CA matches; a malformed token is
/// [`JoinError::MalformedToken`], a CA that does not match is
/// [`JoinError::DownloadedCaMismatch`] naming `manager` (the token belongs to another cluster
/// than the one reached). Pure: no clock, no randomness.
///
/// ```
/// use swarm_core::manager::ca_server::{JoinError, verify_downloaded_ca};
/// use swarm_secrets::{CaDigest, JoinTokens, Role};
///
/// let ours = b"stand-in for our CA certificate";
/// let tokens = JoinTokens::generate(CaDigest::of_certificate(ours))?;
/// let token = tokens.token(Role::Worker).expose();
/// assert!(verify_downloaded_ca(&token, ours, "10.0.0.1:2377").is_ok());
/// let err = verify_downloaded_ca(&token, b"another CA", "10.0.0.9:2377").unwrap_err();
/// assert!(matches!(err, JoinError::DownloadedCaMismatch { .. }));
/// # Ok::<(), swarm_secrets::SecretsError>(())
/// ```
pub fn verify_downloaded_ca(
    token: &str,
    ca_cert_der: &[u8],
    manager: &str,
) -> Result<JoinToken, JoinError> {
    let token = JoinToken::parse(token).map_err(|e| JoinError::MalformedToken {
        reason: e.to_string(),
    })?;
    match token.verify_ca(ca_cert_der) {
        Ok(()) => Ok(token),
        Err(SecretsError::CaDigestMismatch) => Err(JoinError::DownloadedCaMismatch {
            manager: manager.to_owned(),
        }),
        Err(source) => Err(JoinError::Crypto { source }),
    }
}
