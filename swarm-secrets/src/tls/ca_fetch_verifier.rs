//! The server-certificate "verifier" of the one connection that downloads the root CA: it
//! cannot check the chain (the CA is what is being downloaded), so it accepts any certificate
//! and checks only that the server holds the key of the certificate it presented.

use rustls::client::danger::{ServerCertVerified, ServerCertVerifier};
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};

/// Accepts ANY server certificate chain (no chain, validity period, key usage or name check)
/// while still verifying the handshake signature with the presented certificate's key, with
/// the signature algorithms of [`crypto_provider`](super::crypto_provider).
///
/// It authenticates nothing: whoever answers (a manager, or anyone in between) passes. It
/// exists only for [`ca_fetch_client_config`](super::ca_fetch_client_config); see there.
#[derive(Debug)]
pub(super) struct CaFetchServerVerifier;

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

    verify_handshake_signatures!();
}
