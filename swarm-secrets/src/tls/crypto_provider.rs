//! The rustls crypto provider of this crate, assembled from ring's public building blocks.
//!
//! rustls 0.23 deprecates `rustls::crypto::ring::default_provider` (ring has no post-quantum key
//! exchange) but keeps ring's cipher suites, key exchange groups and key loading public, and
//! rustls-webpki keeps ring's signature verification algorithms public. This provider takes
//! them as they are, and narrows what the cluster does not use: signatures are ECDSA only (the
//! cluster CA and every node key are ECDSA P-256, so no peer of the cluster signs otherwise),
//! and private keys are loaded as ECDSA keys (a [`crate::NodeKey`] is one).

use std::sync::Arc;

use ring::rand::SecureRandom as _;
use rustls::SignatureScheme;
use rustls::crypto::{
    CryptoProvider, GetRandomFailed, KeyProvider, SecureRandom, WebPkiSupportedAlgorithms,
};
use rustls::sign::SigningKey;
use rustls_pki_types::PrivateKeyDer;
use webpki::ring as webpki_algs;
use zeroize::Zeroizing;

/// Signature verification for certificate chains and handshake signatures: ECDSA over P-256
/// and P-384 with SHA-256 or SHA-384 (for TLS 1.3 the curve follows from the scheme; TLS 1.2,
/// which this crate does not offer, would not fix it).
pub(super) static ECDSA_SIGNATURES: WebPkiSupportedAlgorithms = WebPkiSupportedAlgorithms {
    all: &[
        webpki_algs::ECDSA_P256_SHA256,
        webpki_algs::ECDSA_P256_SHA384,
        webpki_algs::ECDSA_P384_SHA256,
        webpki_algs::ECDSA_P384_SHA384,
    ],
    mapping: &[
        (
            SignatureScheme::ECDSA_NISTP384_SHA384,
            &[
                webpki_algs::ECDSA_P384_SHA384,
                webpki_algs::ECDSA_P256_SHA384,
            ],
        ),
        (
            SignatureScheme::ECDSA_NISTP256_SHA256,
            &[
                webpki_algs::ECDSA_P256_SHA256,
                webpki_algs::ECDSA_P384_SHA256,
            ],
        ),
    ],
};

/// Randomness and key loading through ring.
#[derive(Debug)]
struct Ring;

impl SecureRandom for Ring {
    fn fill(&self, buf: &mut [u8]) -> Result<(), GetRandomFailed> {
        ring::rand::SystemRandom::new()
            .fill(buf)
            .map_err(|_| GetRandomFailed)
    }
}

impl KeyProvider for Ring {
    fn load_private_key(
        &self,
        key_der: PrivateKeyDer<'static>,
    ) -> Result<Arc<dyn SigningKey>, rustls::Error> {
        // The DER copy is wiped once the signing key is made from it.
        rustls::crypto::ring::sign::any_ecdsa_type(&Zeroizing::new(key_der))
    }
}

/// ring's cipher suites and key exchange groups, ECDSA signatures, ring's randomness.
pub(super) fn provider() -> Arc<CryptoProvider> {
    Arc::new(CryptoProvider {
        cipher_suites: rustls::crypto::ring::DEFAULT_CIPHER_SUITES.to_vec(),
        kx_groups: rustls::crypto::ring::DEFAULT_KX_GROUPS.to_vec(),
        signature_verification_algorithms: ECDSA_SIGNATURES,
        secure_random: &Ring,
        key_provider: &Ring,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_is_consistent_and_random() {
        let p = provider();
        assert!(
            p.signature_verification_algorithms
                .mapping
                .iter()
                .all(|(_, algs)| {
                    algs.iter().all(|a| {
                        p.signature_verification_algorithms
                            .all
                            .iter()
                            .any(|b| std::ptr::addr_eq(*a, *b))
                    })
                })
        );
        assert!(!p.fips());
        let mut a = [0u8; 32];
        let mut b = [0u8; 32];
        p.secure_random.fill(&mut a).unwrap();
        p.secure_random.fill(&mut b).unwrap();
        assert_ne!(a, b);
    }
}
