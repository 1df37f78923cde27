//! Docker's `TLSInfo`: the trust root (PEM) and the raw subject and public key (base64 DER)
//! of the root CA certificate that issues the nodes' certificates, as dockerd reports them in
//! `GET /swarm` (`docker swarm ca` prints the trust root) and in each node's
//! `Description.TLSInfo` (`docker node inspect --pretty`).

use base64::Engine;
use serde_json::{Value, json};

/// The `TLSInfo` of the root CA certificate `root_der`; `None` when it is not X.509 DER.
pub(crate) fn tls_info(root_der: &[u8]) -> Option<Value> {
    let (_, cert) = x509_parser::parse_x509_certificate(root_der).ok()?;
    let b64 = base64::engine::general_purpose::STANDARD;
    Some(json!({
        "TrustRoot": swarm_secrets::pem::certificate_to_pem(root_der),
        "CertIssuerSubject": b64.encode(cert.tbs_certificate.subject.as_raw()),
        "CertIssuerPublicKey": b64.encode(cert.tbs_certificate.subject_pki.raw),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use swarm_secrets::{CertPolicy, ClusterCa, ClusterId};

    #[test]
    fn a_root_ca_gives_its_pem_subject_and_public_key() {
        let ca = ClusterCa::generate(ClusterId::new("cluster1").unwrap(), CertPolicy::default())
            .unwrap();
        let der: &[u8] = ca.cert_der();
        let info = tls_info(der).unwrap();
        let pem = info["TrustRoot"].as_str().unwrap();
        assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"), "{pem}");
        let back = swarm_secrets::pem::certificate_from_pem(pem.as_bytes()).unwrap();
        assert_eq!(back.as_ref(), der);
        let b64 = base64::engine::general_purpose::STANDARD;
        let subject = b64
            .decode(info["CertIssuerSubject"].as_str().unwrap())
            .unwrap();
        let key = b64
            .decode(info["CertIssuerPublicKey"].as_str().unwrap())
            .unwrap();
        // Both are DER SEQUENCEs found verbatim inside the certificate.
        for part in [&subject, &key] {
            assert_eq!(part[0], 0x30);
            assert!(
                der.windows(part.len()).any(|w| w == &part[..]),
                "not a part of the certificate"
            );
        }
        assert_ne!(subject, key);
        assert!(tls_info(b"not a certificate").is_none());
    }
}
