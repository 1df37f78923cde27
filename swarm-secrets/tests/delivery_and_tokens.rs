//! Sealed delivery to one node, and join tokens.
#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

use proptest::prelude::*;
use swarm_secrets::{
    CaDigest, CertPolicy, ClusterCa, ClusterId, DeliveryBinding, JoinToken, JoinTokens, NodeId,
    NodeKey, NodeSealKey, Role, SealedDelivery, SecretsError, seal_for_node,
};

fn node(id: &str) -> NodeId {
    NodeId::new(id).unwrap()
}

#[test]
fn only_the_recipient_opens_and_only_for_its_binding() {
    let n1 = NodeSealKey::generate().unwrap();
    let n2 = NodeSealKey::generate().unwrap();
    let binding = DeliveryBinding::new(node("n1"), ["t2", "t1"], "secret/db@4").unwrap();
    assert_eq!(binding.task_ids(), ["t1", "t2"]);
    let sealed = seal_for_node(&n1.public_key(), &binding, b"password").unwrap();

    // Round trip over the wire encoding.
    let wire = sealed.to_bytes().unwrap();
    let received = SealedDelivery::from_bytes(&wire).unwrap();
    assert_eq!(
        n1.open(&received, &binding).unwrap().expose_secret(),
        b"password"
    );
    // Task order does not matter.
    let same = DeliveryBinding::new(node("n1"), ["t1", "t2"], "secret/db@4").unwrap();
    assert!(n1.open(&received, &same).is_ok());

    // Another node's key fails, even if it claims the binding.
    assert!(matches!(
        n2.open(&received, &binding),
        Err(SecretsError::DecryptionFailed { .. })
    ));
    // Another node id: a clear error naming both.
    let other = DeliveryBinding::new(node("n2"), ["t1", "t2"], "secret/db@4").unwrap();
    let e = n2.open(&received, &other).unwrap_err();
    assert!(matches!(e, SecretsError::WrongRecipient { .. }), "{e}");
    assert!(e.to_string().contains("n1") && e.to_string().contains("n2"));
    // Other tasks or another item.
    for b in [
        DeliveryBinding::new(node("n1"), ["t1"], "secret/db@4").unwrap(),
        DeliveryBinding::new(node("n1"), ["t1", "t2", "t3"], "secret/db@4").unwrap(),
        DeliveryBinding::new(node("n1"), ["t1", "t2"], "secret/db@5").unwrap(),
    ] {
        assert!(matches!(
            n1.open(&received, &b),
            Err(SecretsError::BindingMismatch(_))
        ));
    }
}

#[test]
fn node_key_survives_persistence() {
    let k = NodeSealKey::generate().unwrap();
    let restored = NodeSealKey::from_bytes(k.to_bytes());
    assert_eq!(k.public_key(), restored.public_key());
    let b = DeliveryBinding::new(node("n"), ["t"], "cfg/x@1").unwrap();
    let sealed = seal_for_node(&k.public_key(), &b, b"v").unwrap();
    assert_eq!(restored.open(&sealed, &b).unwrap().expose_secret(), b"v");
    let printed = format!("{k:?} {sealed:?}");
    assert!(printed.contains("REDACTED"));
    let raw = format!("{:?}", *k.to_bytes());
    assert!(!printed.contains(&raw[1..raw.len() - 1]));
}

#[test]
fn low_order_recipient_key_is_refused() {
    let b = DeliveryBinding::new(node("n"), ["t"], "i").unwrap();
    let zero = swarm_secrets::NodeSealPublicKey::from_bytes([0u8; 32]);
    assert!(seal_for_node(&zero, &b, b"x").is_err());
}

#[test]
fn binding_limits_name_the_field() {
    let e = DeliveryBinding::new(node("n"), [""], "i").unwrap_err();
    assert!(e.to_string().contains("task id"), "{e}");
    let e = DeliveryBinding::new(node("n"), ["t"], "x".repeat(1000)).unwrap_err();
    assert!(e.to_string().contains("item"), "{e}");
    let many: Vec<String> = (0..2000).map(|i| format!("t{i}")).collect();
    assert!(DeliveryBinding::new(node("n"), many, "i").is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn any_flipped_bit_or_truncation_of_a_delivery_is_an_error(data in proptest::collection::vec(any::<u8>(), 0..256), bit in any::<usize>(), cut in any::<usize>()) {
        let k = NodeSealKey::generate().unwrap();
        let b = DeliveryBinding::new(NodeId::new("n1").unwrap(), ["t1"], "secret/s@1").unwrap();
        let wire = seal_for_node(&k.public_key(), &b, &data).unwrap().to_bytes().unwrap();
        let mut flipped = wire.clone();
        let bit = bit % (flipped.len() * 8);
        flipped[bit / 8] ^= 1 << (bit % 8);
        let opened = SealedDelivery::from_bytes(&flipped).and_then(|d| k.open(&d, &b));
        prop_assert!(opened.is_err());
        let cut = cut % wire.len();
        prop_assert!(SealedDelivery::from_bytes(&wire[..cut]).and_then(|d| k.open(&d, &b)).is_err());
    }
}

#[test]
fn tokens_verify_rotate_and_pin_the_ca() {
    let ca = ClusterCa::generate(ClusterId::new("c1").unwrap(), CertPolicy::default()).unwrap();
    let mut tokens = JoinTokens::generate(ca.digest()).unwrap();
    let worker = JoinToken::parse(&tokens.token(Role::Worker).expose()).unwrap();
    let manager = JoinToken::parse(&tokens.token(Role::Manager).expose()).unwrap();
    assert_eq!(tokens.verify(&worker).unwrap(), Role::Worker);
    assert_eq!(tokens.verify(&manager).unwrap(), Role::Manager);

    // The joining node checks the CA it downloaded.
    worker.verify_ca(ca.cert_der()).unwrap();
    let other_ca =
        ClusterCa::generate(ClusterId::new("c1").unwrap(), CertPolicy::default()).unwrap();
    assert!(matches!(
        worker.verify_ca(other_ca.cert_der()),
        Err(SecretsError::CaDigestMismatch)
    ));

    // A token for another CA is rejected even with a valid secret.
    let mut foreign = tokens.clone();
    foreign.set_ca_digest(other_ca.digest());
    let foreign_token = foreign.token(Role::Worker);
    assert!(matches!(
        tokens.verify(&foreign_token),
        Err(SecretsError::TokenRejected(_))
    ));
    // and a CA refuses to issue when the cluster's tokens pin another CA.
    let key = NodeKey::generate().unwrap();
    assert!(
        other_ca
            .issue_for_join(
                &tokens,
                &worker,
                &key.csr_der().unwrap(),
                &NodeId::new("w1").unwrap()
            )
            .is_err()
    );

    // Rotation: the old worker token stops working at once; the manager token is unaffected.
    tokens.rotate(Role::Worker).unwrap();
    assert!(matches!(
        tokens.verify(&worker),
        Err(SecretsError::TokenRejected(_))
    ));
    assert_eq!(tokens.verify(&manager).unwrap(), Role::Manager);
    let fresh = tokens.token(Role::Worker);
    assert_eq!(tokens.verify(&fresh).unwrap(), Role::Worker);

    // Persistence round trip.
    let restored = JoinTokens::from_bytes(&tokens.to_bytes()).unwrap();
    assert_eq!(restored.verify(&fresh).unwrap(), Role::Worker);
    assert!(JoinTokens::from_bytes(&[0u8; 10]).is_err());

    // Debug redacts the secret.
    let text = fresh.expose();
    let secret_part = text.rsplit('-').next().unwrap();
    assert!(!format!("{tokens:?} {fresh:?}").contains(secret_part));

    // Issue for join: role from the token.
    let issued = ca
        .issue_for_join(
            &tokens,
            &fresh,
            &key.csr_der().unwrap(),
            &NodeId::new("w1").unwrap(),
        )
        .unwrap();
    assert_eq!(issued.info.role, Role::Worker);
    assert!(
        ca.issue_for_join(
            &tokens,
            &worker,
            &key.csr_der().unwrap(),
            &NodeId::new("w1").unwrap()
        )
        .is_err()
    );
    let _ = CaDigest::of_certificate(ca.cert_der());
}

#[test]
fn secrets_over_500_kib_are_refused_for_delivery() {
    use swarm_secrets::limits::MAX_SECRET_BYTES;
    let k = NodeSealKey::generate().unwrap();
    let b = DeliveryBinding::new(node("n"), ["t"], "secret/big@1").unwrap();
    let max = vec![7u8; MAX_SECRET_BYTES];
    let sealed = seal_for_node(&k.public_key(), &b, &max).unwrap();
    let wire = sealed.to_bytes().unwrap();
    let back = SealedDelivery::from_bytes(&wire).unwrap();
    assert_eq!(k.open(&back, &b).unwrap().len(), MAX_SECRET_BYTES);
    let e = seal_for_node(&k.public_key(), &b, &vec![7u8; MAX_SECRET_BYTES + 1]).unwrap_err();
    assert!(
        matches!(e, SecretsError::TooLarge { what: "secret", .. }),
        "{e}"
    );
    let z = k.open(&back, &b).unwrap().into_zeroizing();
    assert_eq!(z.len(), MAX_SECRET_BYTES);
}

/// Issue 12, item 8: the CA digest a join token pins is SHA-256 of the root certificate's
/// canonical PEM (as SwarmKit hashes the PEM it serves), computed from the DER alone.
#[test]
fn item8_the_token_ca_digest_is_sha256_of_the_canonical_pem() {
    let ca = ClusterCa::generate(ClusterId::new("c1").unwrap(), CertPolicy::default()).unwrap();
    let pem = swarm_secrets::pem::certificate_to_pem(ca.cert_der());
    // The canonical form, byte for byte what Go's pem.Encode writes for one certificate.
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----\n"));
    assert!(pem.ends_with("\n-----END CERTIFICATE-----\n"));
    assert!(pem.lines().all(|l| l.len() <= 64) && !pem.contains('\r'));
    let expected = ring::digest::digest(&ring::digest::SHA256, pem.as_bytes());
    assert_eq!(ca.digest().as_bytes().as_slice(), expected.as_ref());
    assert_eq!(CaDigest::of_certificate(ca.cert_der()), ca.digest());
    // The digest is of the DER's canonical PEM, never of the DER bytes themselves.
    let der_digest = ring::digest::digest(&ring::digest::SHA256, ca.cert_der());
    assert_ne!(ca.digest().as_bytes().as_slice(), der_digest.as_ref());
    // A token made from it checks the DER a joining node downloaded.
    let tokens = JoinTokens::generate(ca.digest()).unwrap();
    tokens.token(Role::Worker).verify_ca(ca.cert_der()).unwrap();
}

/// Issue 12, item 8: `==` on secrets is constant time (by construction, not observable here)
/// and still exact: it tells every differing secret or digest apart.
#[test]
fn item8_secret_equality_is_exact() {
    let ca = ClusterCa::generate(ClusterId::new("c1").unwrap(), CertPolicy::default()).unwrap();
    let tokens = JoinTokens::generate(ca.digest()).unwrap();
    assert_eq!(tokens, tokens.clone());
    assert_eq!(tokens, JoinTokens::from_bytes(&tokens.to_bytes()).unwrap());
    let mut rotated = tokens.clone();
    rotated.rotate(Role::Manager).unwrap();
    assert_ne!(tokens, rotated);
    let mut repinned = tokens.clone();
    repinned.set_ca_digest(CaDigest::of_certificate(b"another root"));
    assert_ne!(tokens, repinned);

    let worker = tokens.token(Role::Worker);
    assert_eq!(worker, JoinToken::parse(&worker.expose()).unwrap());
    assert_ne!(worker, tokens.token(Role::Manager));
    assert_ne!(worker, repinned.token(Role::Worker));

    let key = swarm_secrets::UnlockKey::generate().unwrap();
    let same = swarm_secrets::UnlockKey::parse(&key.expose_human_readable()).unwrap();
    assert_eq!(key, same);
    assert_ne!(key, swarm_secrets::UnlockKey::generate().unwrap());
}

#[test]
fn sealed_delivery_round_trips_through_serde_and_is_checked_when_read() {
    let k = NodeSealKey::generate().unwrap();
    let binding = DeliveryBinding::new(node("n1"), ["t2", "t1"], "secret/db@4").unwrap();
    let sealed = seal_for_node(&k.public_key(), &binding, b"password").unwrap();

    // Any serde format carries it (here JSON, as a store document would), and it still opens.
    let json = serde_json::to_value(&sealed).unwrap();
    let back: SealedDelivery = serde_json::from_value(json.clone()).unwrap();
    assert_eq!(back, sealed);
    assert_eq!(
        k.open(&back, &binding).unwrap().expose_secret(),
        b"password"
    );
    let binding_back: DeliveryBinding =
        serde_json::from_value(serde_json::to_value(&binding).unwrap()).unwrap();
    assert_eq!(binding_back, binding);

    // What from_bytes refuses, deserializing refuses too.
    let with = |pointer: &str, value: serde_json::Value| {
        let mut v = json.clone();
        *v.pointer_mut(pointer).unwrap() = value;
        serde_json::from_value::<SealedDelivery>(v)
            .unwrap_err()
            .to_string()
    };
    let e = with("/version", serde_json::json!(2));
    assert!(e.contains("version 2"), "{e}");
    let e = with("/binding/task_ids", serde_json::json!(["t2", "t1"]));
    assert!(e.contains("not sorted"), "{e}");
    let e = with("/binding/node_id", serde_json::json!("not a label"));
    assert!(e.contains("node id"), "{e}");
    let too_long = vec![0u8; swarm_secrets::limits::MAX_SECRET_BYTES + 17];
    let e = with("/ciphertext", serde_json::json!(too_long));
    assert!(e.contains("sealed delivery"), "{e}");
}
