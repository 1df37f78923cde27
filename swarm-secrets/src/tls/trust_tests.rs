//! The remembered chain checks of [`ClusterTrust::identify_certificate`].

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rustls_pki_types::UnixTime;

use super::ClusterTrust;
use crate::error::SecretsError;
use crate::node_id::{ClusterId, NodeId, Role};
use crate::{CertPolicy, ClusterCa, NodeKey, RevocationList};

fn at(t: SystemTime) -> UnixTime {
    UnixTime::since_unix_epoch(t.duration_since(UNIX_EPOCH).unwrap())
}

#[test]
fn a_chain_verified_once_is_remembered_while_time_cluster_and_revocation_are_checked_each_call() {
    let cluster = ClusterId::new("prod").unwrap();
    let ca = ClusterCa::generate(cluster.clone(), CertPolicy::default()).unwrap();
    let revocations = RevocationList::new();
    let trust = ClusterTrust::new(ca.cert_der(), cluster.clone(), revocations.clone()).unwrap();
    let csr = NodeKey::generate().unwrap().csr_der().unwrap();
    let now = SystemTime::now();
    let hour = Duration::from_secs(3_600);
    let issued = ca
        .issue_with_validity(
            &csr,
            &NodeId::new("m1").unwrap(),
            Role::Manager,
            now - hour,
            now + hour,
        )
        .unwrap();
    let cert = issued.cert_der.clone();

    let peer = trust.identify_certificate_at(&cert, at(now)).unwrap();
    assert_eq!(peer.node_id.as_str(), "m1");
    assert_eq!(trust.verified.len(), 1);
    // Again, and through a clone (same roots): the one entry serves.
    trust.identify_certificate_at(&cert, at(now)).unwrap();
    trust.clone().identify_certificate(&cert).unwrap();
    assert_eq!(trust.verified.len(), 1);

    // Outside the validity period the entry does not serve: the chain check refuses.
    for t in [now + 2 * hour, now - 2 * hour] {
        assert!(matches!(
            trust.identify_certificate_at(&cert, at(t)),
            Err(SecretsError::Certificate(_))
        ));
    }
    // Revocation is checked at every call, remembered or not.
    revocations.revoke(NodeId::new("m1").unwrap());
    assert!(matches!(
        trust.identify_certificate_at(&cert, at(now)),
        Err(SecretsError::Revoked(_))
    ));

    // A certificate of another CA is refused and never remembered.
    let other = ClusterCa::generate(cluster.clone(), CertPolicy::default()).unwrap();
    let foreign = other
        .issue(&csr, &NodeId::new("m2").unwrap(), Role::Manager)
        .unwrap();
    let foreign = foreign.cert_der;
    assert!(trust.identify_certificate(&foreign).is_err());
    assert_eq!(trust.verified.len(), 1);

    // Other roots (a rotation), other entries: the new trust checks chains afresh.
    let rotating = trust
        .clone()
        .with_additional_root(other.cert_der())
        .unwrap();
    assert_eq!(rotating.verified.len(), 0);
    rotating.identify_certificate(&foreign).unwrap();
    assert_eq!(rotating.verified.len(), 1);
    assert_eq!(trust.verified.len(), 1);
    // The trust of the other root alone does not know the first CA's certificate.
    let other_only = ClusterTrust::new(other.cert_der(), cluster, RevocationList::new()).unwrap();
    assert!(other_only.identify_certificate(&cert).is_err());
}
