//! The server-certificate "verifier" of the one connection that downloads the root CA: it
//! cannot check the chain (the CA is what is being downloaded), so it accepts any certificate
//! and checks only that the server holds the key of the certificate it presented.

use std::sync::Arc;

use rustls::DigitallySignedStruct;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};

/// Accepts ANY server certificate chain (no chain, validity period, key usage or name check)
/// while still verifying the handshake signature with the presented certificate's key, with
/// the signature algorithms of [`crypto_provider`](super::crypto_provider).
///
/// It authenticates nothing: whoever answers (a manager, or anyone in between) passes. It
/// exists only for [`ca_fetch_client_config`](super::ca_fetch_client_config); see there.
#[derive(Debug)]
pub(super) struct CaFetchServerVerifier {
    provider: Arc<CryptoProvider>,
}

impl CaFetchServerVerifier {
    pub(super) fn new(provider: Arc<CryptoProvider>) -> Self {
        CaFetchServerVerifier { provider }
    }
}

impl ServerCertVerifier for CaFetchServerVerifier {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        // Deliberately nothing: the caller checks what it downloads against its join token.
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        // Unreachable with the TLS 1.3-only config; verified all the same.
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}
