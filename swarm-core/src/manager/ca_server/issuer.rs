//! Which root issues node certificates now, and which roots a node it issues to must trust.

use crate::model::Cluster;
use swarm_secrets::{CaDigest, ClusterCa};

/// Checks that `issuing` is the root that issues now and that the join tokens pin the
/// current root (`tokens_digest`): outside a rotation both are the cluster's root; during a
/// rotation the tokens still pin the old root and `issuing` must be the new one. Returns what
/// is inconsistent.
pub(crate) fn check_issuer(
    cluster: &Cluster,
    tokens_digest: CaDigest,
    issuing: &ClusterCa,
) -> Result<(), String> {
    match &cluster.root_rotation {
        Some(rotation) => {
            if tokens_digest != rotation.old_root() {
                return Err(
                    "the join tokens pin another root CA than the one the rotation retires"
                        .to_owned(),
                );
            }
            if issuing.digest() != rotation.new_root() {
                return Err(
                    "a root rotation is in progress and the issuing CA given is not its new root (load it from the rotation's root CA record)"
                        .to_owned(),
                );
            }
            Ok(())
        }
        None if tokens_digest != issuing.digest() => {
            Err("the join tokens pin another root CA than the cluster CA".to_owned())
        }
        None => Ok(()),
    }
}

/// The root certificates (DER) a node that received a certificate from `issuing` must trust:
/// the issuing root, and during a rotation the old root first, then the new one.
pub(crate) fn roots_to_trust(cluster: &Cluster, issuing: &ClusterCa) -> Vec<Vec<u8>> {
    match &cluster.root_rotation {
        Some(rotation) => vec![
            rotation.old_root_cert_der.clone(),
            rotation.new_root_cert_der.clone(),
        ],
        None => vec![issuing.cert_der().to_vec()],
    }
}
