//! PEM in and out, for certificates and keys kept in files.
//!
//! Certificates are parsed with `rustls-pki-types`' `PemObject` (rustls-pemfile is
//! unmaintained). Private keys are parsed here, because `PemObject` leaves the base64 text and
//! the decoded key in buffers it frees without wiping: every buffer that holds key material
//! while a key is read or written here is a `Zeroizing` one, sized up front so it never
//! reallocates (a reallocation would leave a copy behind). Writing is a small RFC 7468 encoder
//! whose output for a certificate is byte for byte Go's `pem.Encode` (the form
//! [`crate::CaDigest`] hashes).

use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use zeroize::Zeroizing;

use crate::encoding::{base64_decode, base64_encode};
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

/// The PKCS#8 private key in a PEM document (the first `PRIVATE KEY` section; text around it
/// is ignored), wiped on drop, as are the buffers used to decode it.
pub fn private_key_from_pem(pem: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
    const WHAT: &str = "PEM private key";
    const BEGIN: &[u8] = b"-----BEGIN PRIVATE KEY-----";
    const END: &[u8] = b"-----END PRIVATE KEY-----";
    let begin = find_line_start(pem, BEGIN)
        .ok_or_else(|| SecretsError::malformed(WHAT, "no -----BEGIN PRIVATE KEY----- line"))?;
    let body = &pem[begin + BEGIN.len()..];
    let end = find_line_start(body, END)
        .ok_or_else(|| SecretsError::malformed(WHAT, "no -----END PRIVATE KEY----- line"))?;
    let body = &body[..end];
    let mut text = Zeroizing::new(String::with_capacity(body.len()));
    let mut padding = 0usize;
    for &c in body {
        match c {
            b' ' | b'\t' | b'\r' | b'\n' => {}
            b'=' => padding += 1,
            c if c.is_ascii_alphanumeric() || c == b'+' || c == b'/' => {
                if padding > 0 {
                    return Err(SecretsError::malformed(WHAT, "base64 after '=' padding"));
                }
                text.push(char::from(c));
            }
            _ => return Err(SecretsError::malformed(WHAT, "not base64")),
        }
    }
    if padding > 2 || (text.len() + padding) % 4 != 0 {
        return Err(SecretsError::malformed(WHAT, "base64 of the wrong length"));
    }
    let der = base64_decode(&text).ok_or_else(|| SecretsError::malformed(WHAT, "not base64"))?;
    if der.is_empty() {
        return Err(SecretsError::malformed(WHAT, "empty key"));
    }
    Ok(der)
}

/// Where `marker` starts a line of `text` (at the start or right after a line feed).
fn find_line_start(text: &[u8], marker: &[u8]) -> Option<usize> {
    text.windows(marker.len())
        .enumerate()
        .find(|&(i, w)| w == marker && (i == 0 || text[i - 1] == b'\n'))
        .map(|(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls_pki_types::PrivatePkcs8KeyDer;

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

    #[test]
    fn private_keys_are_read_like_other_pem_readers_read_them() {
        let key = crate::NodeKey::generate().unwrap().to_pkcs8_der();
        let pem = private_key_to_pem(&key);
        // CRLF line ends, text around the section and another section before it.
        let crlf = pem.replace('\n', "\r\n");
        let wrapped = format!(
            "explanatory text\n{}{}trailing\n",
            certificate_to_pem(b"not a key"),
            crlf
        );
        for text in [pem.as_str(), crlf.as_str(), wrapped.as_str()] {
            assert_eq!(
                *private_key_from_pem(text.as_bytes()).unwrap(),
                *key,
                "{text}"
            );
            let theirs = PrivatePkcs8KeyDer::from_pem_slice(text.as_bytes()).unwrap();
            assert_eq!(theirs.secret_pkcs8_der(), key.as_slice());
        }
        // One line of base64, no line breaks: accepted too.
        let one_line: String = pem
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect::<Vec<_>>()
            .concat();
        let single =
            format!("-----BEGIN PRIVATE KEY-----\n{one_line}\n-----END PRIVATE KEY-----\n");
        assert_eq!(*private_key_from_pem(single.as_bytes()).unwrap(), *key);
        for bad in [
            "",
            "-----BEGIN PRIVATE KEY-----\nAAAA\n",
            "-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n",
            "-----BEGIN PRIVATE KEY-----\nAA=A\n-----END PRIVATE KEY-----\n",
            "-----BEGIN PRIVATE KEY-----\nAAA\n-----END PRIVATE KEY-----\n",
            "-----BEGIN PRIVATE KEY-----\nAA==\n==\n-----END PRIVATE KEY-----\n",
            "-----BEGIN PRIVATE KEY-----\nA*AA\n-----END PRIVATE KEY-----\n",
            "x-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        ] {
            assert!(private_key_from_pem(bad.as_bytes()).is_err(), "{bad:?}");
        }
    }
}
