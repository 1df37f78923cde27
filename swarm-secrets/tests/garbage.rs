//! Arbitrary bytes and text at every parser: an error, never a panic.
#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

use proptest::prelude::*;
use swarm_secrets::{
    CertPolicy, ClusterCa, ClusterId, JoinToken, Keyring, NodeCertInfo, NodeId, NodeKey, Role,
    SealedBlob, SealedDelivery, UnlockKey, pem,
};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn parsers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600), text in ".{0,120}") {
        let _ = SealedBlob::from_bytes(bytes.clone());
        let _ = SealedDelivery::from_bytes(&bytes);
        let _ = Keyring::from_exported(&bytes);
        let _ = NodeCertInfo::parse(&bytes);
        let _ = NodeKey::from_pkcs8_der(&bytes);
        let _ = pem::certificate_from_pem(&bytes);
        let _ = JoinToken::parse(&text);
        let _ = UnlockKey::parse(&text);
        let _ = NodeId::new(text.clone());
        let _ = ClusterId::new(text);
    }

    #[test]
    fn tokens_with_one_changed_character_are_rejected(pos in 9usize..85, c in "[0-9a-z]") {
        let ca = ClusterCa::generate(ClusterId::new("c").unwrap(), CertPolicy::default()).unwrap();
        let tokens = swarm_secrets::JoinTokens::generate(ca.digest()).unwrap();
        let text = tokens.token(Role::Worker).expose();
        let mut chars: Vec<char> = text.chars().collect();
        prop_assume!(chars[pos] != '-');
        let new = c.chars().next().unwrap();
        prop_assume!(chars[pos] != new);
        chars[pos] = new;
        let changed: String = chars.into_iter().collect();
        prop_assert!(tokens.verify_text(&changed).is_err());
    }

    #[test]
    fn csrs_with_a_flipped_bit_are_rejected_or_bind_the_same_key(bit in any::<usize>()) {
        let ca = ClusterCa::generate(ClusterId::new("c").unwrap(), CertPolicy::default()).unwrap();
        let key = NodeKey::generate().unwrap();
        let mut csr = key.csr_der().unwrap();
        let bit = bit % (csr.len() * 8);
        csr[bit / 8] ^= 1 << (bit % 8);
        // Either the CA refuses the request, or (a flip in an unsigned, ignored part such as
        // the signature's DER padding) the certificate still binds exactly this node's key.
        if let Ok(issued) = ca.issue(&csr, &NodeId::new("n").unwrap(), Role::Worker) {
            prop_assert!(swarm_secrets::NodeCredentials::new(&key, &issued.cert_der, ca.cert_der()).is_ok());
        }
    }
}
