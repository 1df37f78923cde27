//! The cluster CA: certificate contents, expiry, renewal time, role change, bad CSRs.
#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

use std::time::{Duration, SystemTime};

use swarm_secrets::limits::{DEFAULT_NODE_CERT_VALIDITY, MAX_CSR_BYTES};
use swarm_secrets::{
    CertPolicy, ClusterCa, ClusterId, NodeCertInfo, NodeCredentials, NodeId, NodeKey, Role,
    SecretsError, renewal_time,
};
use x509_parser::prelude::{FromDer, X509Certificate};

fn ca() -> ClusterCa {
    ClusterCa::generate(ClusterId::new("prod-1").unwrap(), CertPolicy::default()).unwrap()
}

#[test]
fn node_certificate_carries_node_id_role_and_cluster() {
    let ca = ca();
    let key = NodeKey::generate().unwrap();
    let before = SystemTime::now();
    let issued = ca
        .issue(
            &key.csr_der().unwrap(),
            &NodeId::new("node-42").unwrap(),
            Role::Manager,
        )
        .unwrap();
    let (_, cert) = X509Certificate::from_der(&issued.cert_der).unwrap();
    let subject = cert.subject();
    assert_eq!(
        subject.iter_common_name().next().unwrap().as_str().unwrap(),
        "node-42"
    );
    assert_eq!(
        subject
            .iter_organizational_unit()
            .next()
            .unwrap()
            .as_str()
            .unwrap(),
        "swarm-manager"
    );
    assert_eq!(
        subject
            .iter_organization()
            .next()
            .unwrap()
            .as_str()
            .unwrap(),
        "prod-1"
    );
    assert!(!cert.is_ca());
    // Signed by the CA.
    let (_, ca_cert) = X509Certificate::from_der(ca.cert_der()).unwrap();
    cert.verify_signature(Some(ca_cert.public_key())).unwrap();
    assert!(ca_cert.is_ca());

    // Default expiry: 90 days from now.
    let info = &issued.info;
    let expected_end = before + DEFAULT_NODE_CERT_VALIDITY;
    let diff = info
        .not_after
        .duration_since(expected_end)
        .unwrap_or_else(|e| e.duration());
    assert!(diff < Duration::from_secs(120), "{diff:?}");
    assert!(info.not_before <= before);

    // Renewal between 50% and 80% of the lifetime.
    let life = info.lifetime();
    assert!(issued.renew_at >= info.not_before + life / 2 - Duration::from_secs(1));
    assert!(issued.renew_at <= info.not_before + life * 4 / 5 + Duration::from_secs(1));
}

#[test]
fn renewal_times_are_spread_over_50_to_80_percent() {
    let ca = ca();
    let key = NodeKey::generate().unwrap();
    let csr = key.csr_der().unwrap();
    let mut fractions = Vec::new();
    for i in 0..40 {
        let issued = ca
            .issue(&csr, &NodeId::new(format!("n{i}")).unwrap(), Role::Worker)
            .unwrap();
        let life = issued.info.lifetime().as_secs_f64();
        let at = issued
            .renew_at
            .duration_since(issued.info.not_before)
            .unwrap()
            .as_secs_f64();
        fractions.push(at / life);
    }
    assert!(
        fractions.iter().all(|f| (0.499..=0.801).contains(f)),
        "{fractions:?}"
    );
    let min = fractions.iter().cloned().fold(f64::MAX, f64::min);
    let max = fractions.iter().cloned().fold(f64::MIN, f64::max);
    assert!(max - min > 0.05, "not random: {fractions:?}");
    // The pure function clamps.
    let t0 = SystemTime::UNIX_EPOCH;
    let t1 = t0 + Duration::from_secs(100);
    assert_eq!(renewal_time(t0, t1, 0), t0 + Duration::from_secs(50));
    assert_eq!(renewal_time(t0, t1, 650), t0 + Duration::from_secs(65));
}

#[test]
fn role_change_issues_a_new_certificate_for_the_same_key() {
    let ca = ca();
    let key = NodeKey::generate().unwrap();
    let id = NodeId::new("node-7").unwrap();
    let as_worker = ca
        .issue(&key.csr_der().unwrap(), &id, Role::Worker)
        .unwrap();
    let creds = NodeCredentials::new(&key, &as_worker.cert_der, ca.cert_der()).unwrap();
    assert_eq!(creds.info().role, Role::Worker);
    // Promotion: the node sends a new CSR and gets a manager certificate.
    let promoted = ca
        .issue(&key.csr_der().unwrap(), &id, Role::Manager)
        .unwrap();
    let creds = NodeCredentials::new(&key, &promoted.cert_der, ca.cert_der()).unwrap();
    assert_eq!(creds.info().role, Role::Manager);
    assert_eq!(creds.info().node_id, id);
    assert_ne!(as_worker.cert_der, promoted.cert_der);
    assert!(!creds.needs_renewal(SystemTime::now()));
    assert!(creds.needs_renewal(creds.renew_at()));
}

#[test]
fn credentials_check_key_and_issuer() {
    let ca = ca();
    let other_ca = ca_other();
    let key = NodeKey::generate().unwrap();
    let other_key = NodeKey::generate().unwrap();
    let issued = ca
        .issue(
            &key.csr_der().unwrap(),
            &NodeId::new("n").unwrap(),
            Role::Worker,
        )
        .unwrap();
    assert!(NodeCredentials::new(&other_key, &issued.cert_der, ca.cert_der()).is_err());
    assert!(NodeCredentials::new(&key, &issued.cert_der, other_ca.cert_der()).is_err());
    // The key survives persistence.
    let restored = NodeKey::from_pkcs8_der(&key.to_pkcs8_der()).unwrap();
    assert!(NodeCredentials::new(&restored, &issued.cert_der, ca.cert_der()).is_ok());
    let printed = format!("{key:?} {restored:?} {ca:?}");
    assert!(printed.contains("REDACTED"));
}

fn ca_other() -> ClusterCa {
    ClusterCa::generate(ClusterId::new("prod-1").unwrap(), CertPolicy::default()).unwrap()
}

#[test]
fn bad_csrs_and_policies_are_rejected_with_clear_errors() {
    let ca = ca();
    let id = NodeId::new("n").unwrap();
    let e = ca.issue(b"not a csr", &id, Role::Worker).unwrap_err();
    assert!(matches!(e, SecretsError::CsrRejected(_)), "{e}");
    let mut csr = NodeKey::generate().unwrap().csr_der().unwrap();
    let last = csr.len() - 1;
    csr[last] ^= 0x01; // breaks the signature
    assert!(matches!(
        ca.issue(&csr, &id, Role::Worker),
        Err(SecretsError::CsrRejected(_))
    ));
    let e = ca
        .issue(&vec![0u8; MAX_CSR_BYTES + 1], &id, Role::Worker)
        .unwrap_err();
    assert!(matches!(e, SecretsError::TooLarge { .. }));
    let e = CertPolicy::new(Duration::from_secs(60)).unwrap_err();
    assert!(e.to_string().contains("node certificate validity"), "{e}");
    let now = SystemTime::now();
    let csr = NodeKey::generate().unwrap().csr_der().unwrap();
    assert!(
        ca.issue_with_validity(&csr, &id, Role::Worker, now, now)
            .is_err()
    );
}

#[test]
fn ca_survives_persistence_and_rejects_a_mismatched_key() {
    let ca = ca();
    let restored = ClusterCa::from_parts(
        ClusterId::new("prod-1").unwrap(),
        ca.cert_der(),
        &ca.key_pkcs8_der(),
        CertPolicy::default(),
    )
    .unwrap();
    assert_eq!(restored.digest(), ca.digest());
    let key = NodeKey::generate().unwrap();
    let issued = restored
        .issue(
            &key.csr_der().unwrap(),
            &NodeId::new("n").unwrap(),
            Role::Worker,
        )
        .unwrap();
    NodeCredentials::new(&key, &issued.cert_der, ca.cert_der()).unwrap();
    assert_eq!(
        NodeCertInfo::parse(&issued.cert_der)
            .unwrap()
            .cluster_id
            .as_str(),
        "prod-1"
    );

    let other = ca_other();
    let e = ClusterCa::from_parts(
        ClusterId::new("prod-1").unwrap(),
        ca.cert_der(),
        &other.key_pkcs8_der(),
        CertPolicy::default(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("does not match"), "{e}");
    // A node certificate is not a CA.
    assert!(
        ClusterCa::from_parts(
            ClusterId::new("prod-1").unwrap(),
            &issued.cert_der,
            &ca.key_pkcs8_der(),
            CertPolicy::default()
        )
        .is_err()
    );
    assert!(NodeCertInfo::parse(ca.cert_der()).is_err());
}

/// Issue 12, item 4: a policy longer than the root's lifetime, or explicit bounds past what a
/// certificate can carry, is a typed error naming the field, never a panic on overflow.
#[test]
fn item4_a_long_lifetime_or_a_far_not_after_is_a_typed_error_not_a_panic() {
    use swarm_secrets::limits::ROOT_CA_VALIDITY;
    const YEAR: Duration = Duration::from_secs(365 * 24 * 60 * 60);
    let field_of = |e: SecretsError| match e {
        SecretsError::InvalidInput { field, .. } => field,
        other => panic!("expected InvalidInput, got {other}"),
    };
    // The policy: bounded by the root's lifetime.
    for too_long in [
        ROOT_CA_VALIDITY + Duration::from_secs(1),
        10_000 * YEAR,
        Duration::MAX,
    ] {
        let e = CertPolicy::new(too_long).unwrap_err();
        assert_eq!(field_of(e), "node certificate validity");
    }
    let longest = CertPolicy::new(ROOT_CA_VALIDITY).unwrap();
    let ca = ClusterCa::generate(ClusterId::new("prod-1").unwrap(), longest).unwrap();
    let csr = NodeKey::generate().unwrap().csr_der().unwrap();
    let id = NodeId::new("n").unwrap();
    let issued = ca.issue(&csr, &id, Role::Worker).unwrap();
    assert!(issued.info.lifetime() <= ROOT_CA_VALIDITY + Duration::from_secs(2 * 60 * 60));

    // Explicit bounds: a far not_after (past year 9999, or past SystemTime's range) and a
    // lifetime longer than the root's are refused with the field named.
    let now = SystemTime::now();
    let e = ca
        .issue_with_validity(&csr, &id, Role::Worker, now, now + 10_000 * YEAR)
        .unwrap_err();
    assert_eq!(field_of(e), "not_after");
    let e = ca
        .issue_with_validity(&csr, &id, Role::Worker, now, now + ROOT_CA_VALIDITY + YEAR)
        .unwrap_err();
    assert_eq!(field_of(e), "not_after");
    let far = now + 8_000 * YEAR;
    let e = ca
        .issue_with_validity(&csr, &id, Role::Worker, far, far + YEAR)
        .unwrap_err();
    assert_eq!(field_of(e), "not_before");
}
