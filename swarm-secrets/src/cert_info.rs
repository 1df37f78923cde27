//! The node identity carried by a certificate the cluster CA issued.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use x509_parser::prelude::{FromDer, X509Certificate};

use crate::error::{Result, SecretsError};
use crate::limits::MAX_CERT_BYTES;
use crate::node_id::{ClusterId, NodeId, Role};

/// What a node certificate says: CN = node id, OU = role, O = cluster id, and its validity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeCertInfo {
    /// The node's id (subject CN).
    pub node_id: NodeId,
    /// The node's role (subject OU).
    pub role: Role,
    /// The cluster (subject O).
    pub cluster_id: ClusterId,
    /// Start of validity.
    pub not_before: SystemTime,
    /// End of validity.
    pub not_after: SystemTime,
}

fn single<'a, I>(mut it: I, name: &str) -> Result<String>
where
    I: Iterator<Item = &'a x509_parser::x509::AttributeTypeAndValue<'a>>,
{
    let first = it
        .next()
        .ok_or_else(|| SecretsError::Certificate(format!("subject has no {name}")))?;
    if it.next().is_some() {
        return Err(SecretsError::Certificate(format!(
            "subject has more than one {name}"
        )));
    }
    first
        .as_str()
        .map(str::to_owned)
        .map_err(|e| SecretsError::Certificate(format!("subject {name} is not a string: {e}")))
}

pub(crate) fn unix_to_system_time(secs: i64) -> SystemTime {
    if secs >= 0 {
        UNIX_EPOCH + Duration::from_secs(secs.unsigned_abs())
    } else {
        UNIX_EPOCH - Duration::from_secs(secs.unsigned_abs())
    }
}

pub(crate) fn parse_x509(der: &[u8]) -> Result<X509Certificate<'_>> {
    if der.len() > MAX_CERT_BYTES {
        return Err(SecretsError::TooLarge {
            what: "certificate",
            len_bytes: der.len(),
            limit_bytes: MAX_CERT_BYTES,
        });
    }
    let (rest, cert) = X509Certificate::from_der(der)
        .map_err(|e| SecretsError::Certificate(format!("cannot parse: {e}")))?;
    if !rest.is_empty() {
        return Err(SecretsError::Certificate(
            "trailing bytes after the certificate".into(),
        ));
    }
    Ok(cert)
}

impl NodeCertInfo {
    /// Parses a DER certificate. This reads the identity; it does not check the signature or
    /// the validity period (the TLS verifiers and [`crate::NodeCredentials::new`] do).
    pub fn parse(cert_der: &[u8]) -> Result<Self> {
        let cert = parse_x509(cert_der)?;
        if cert.is_ca() {
            return Err(SecretsError::Certificate(
                "a CA certificate is not a node certificate".into(),
            ));
        }
        let subject = cert.subject();
        let cn = single(subject.iter_common_name(), "common name (node id)")?;
        let ou = single(
            subject.iter_organizational_unit(),
            "organizational unit (role)",
        )?;
        let o = single(subject.iter_organization(), "organization (cluster id)")?;
        Ok(NodeCertInfo {
            node_id: NodeId::new(cn)?,
            role: Role::from_ou(&ou)?,
            cluster_id: ClusterId::new(o)?,
            not_before: unix_to_system_time(cert.validity().not_before.timestamp()),
            not_after: unix_to_system_time(cert.validity().not_after.timestamp()),
        })
    }

    /// The certificate's lifetime.
    pub fn lifetime(&self) -> Duration {
        self.not_after
            .duration_since(self.not_before)
            .unwrap_or(Duration::ZERO)
    }
}
