//! PEM in and out, for certificates and keys kept in files.
//!
//! Parsing uses `rustls-pki-types`' `PemObject` (rustls-pemfile is unmaintained); writing is a
//! small RFC 7468 encoder.

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivatePkcs8KeyDer};
use zeroize::Zeroizing;

use crate::encoding::base64_encode;
use crate::error::{Result, SecretsError};

const PEM_LINE_CHARS: usize = 64;

fn encode(label: &str, der: &[u8]) -> Zeroizing<String> {
    let body = base64_encode(der);
    let mut padded = Zeroizing::new(String::with_capacity(body.len() + 3));
    padded.push_str(&body);
    while padded.len() % 4 != 0 {
        padded.push('=');
    }
    let mut out = Zeroizing::new(String::with_capacity(padded.len() + padded.len() / 64 + 64));
    out.push_str("-----BEGIN ");
    out.push_str(label);
    out.push_str("-----\n");
    for line in padded.as_bytes().chunks(PEM_LINE_CHARS) {
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push('\n');
    }
    out.push_str("-----END ");
    out.push_str(label);
    out.push_str("-----\n");
    out
}

/// A DER certificate as PEM (`CERTIFICATE`).
pub fn certificate_to_pem(cert_der: &[u8]) -> String {
    encode("CERTIFICATE", cert_der).to_string()
}

/// The first certificate in a PEM document.
pub fn certificate_from_pem(pem: &[u8]) -> Result<CertificateDer<'static>> {
    CertificateDer::from_pem_slice(pem)
        .map_err(|e| SecretsError::malformed("PEM certificate", e.to_string()))
}

/// A PKCS#8 private key as PEM (`PRIVATE KEY`), wiped on drop.
pub fn private_key_to_pem(pkcs8_der: &[u8]) -> Zeroizing<String> {
    encode("PRIVATE KEY", pkcs8_der)
}

/// The PKCS#8 private key in a PEM document, wiped on drop.
pub fn private_key_from_pem(pem: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
    let key = PrivatePkcs8KeyDer::from_pem_slice(pem)
        .map_err(|e| SecretsError::malformed("PEM private key", e.to_string()))?;
    Ok(Zeroizing::new(key.secret_pkcs8_der().to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificate_and_key_round_trip() {
        let ca = crate::ClusterCa::generate(
            crate::ClusterId::new("c").unwrap(),
            crate::CertPolicy::default(),
        )
        .unwrap();
        let pem = certificate_to_pem(ca.cert_der());
        assert!(pem.starts_with("-----BEGIN CERTIFICATE-----\n"));
        assert!(pem.lines().all(|l| l.len() <= 64));
        assert_eq!(
            &certificate_from_pem(pem.as_bytes()).unwrap(),
            ca.cert_der()
        );
        let key = ca.key_pkcs8_der();
        let key_pem = private_key_to_pem(&key);
        assert_eq!(*private_key_from_pem(key_pem.as_bytes()).unwrap(), *key);
        assert!(certificate_from_pem(b"garbage").is_err());
        assert!(private_key_from_pem(pem.as_bytes()).is_err());
    }
}
