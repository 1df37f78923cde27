//! Mapping a peer's TLS certificate to its member id.

use super::member_names::MemberNames;
use crate::transport::MemberId;
use rustls_pki_types::CertificateDer;
use std::sync::Arc;

/// Maps the end-entity certificate a peer presented (already verified by rustls against the
/// caller's trust roots) to the member it belongs to, or refuses the peer, saying why.
///
/// The transport calls it on both sides: the server learns who a client is (the `from` given to
/// the [`RpcHandler`](crate::transport::RpcHandler)), and the client checks that the server it
/// reached is the member it meant to call. It is called again on every open connection every
/// [`TcpConfig::peer_recheck_interval`](super::TcpConfig::peer_recheck_interval) (and on
/// [`TcpServer::recheck_peers`](super::TcpServer::recheck_peers)): an identifier that consults
/// a revocation list cuts a revoked peer's open connections that way.
pub type PeerIdentifier =
    Arc<dyn Fn(&CertificateDer<'_>) -> Result<MemberId, PeerRefused> + Send + Sync>;

/// Why a [`PeerIdentifier`] refused a certificate; the transport logs it, reports it to the
/// calling side in [`TransportError::Auth`](crate::transport::TransportError::Auth), and a
/// server sends it to the refused client before closing.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct PeerRefused {
    /// What the certificate lacks.
    pub reason: String,
}

impl PeerRefused {
    /// A refusal saying `reason`.
    pub fn new(reason: impl Into<String>) -> Self {
        PeerRefused {
            reason: reason.into(),
        }
    }
}

/// The organizational unit (OU) of a manager's certificate from swarm-secrets' cluster CA (as
/// SwarmKit's): store members are managers.
pub const MANAGER_ROLE_OU: &str = "swarm-manager";

/// A [`PeerIdentifier`] for certificates of a SwarmKit-style cluster CA (swarm-secrets'
/// `ClusterCa`): the subject's common name (CN) is the node id, its organizational unit (OU)
/// the role. It accepts a certificate with exactly one CN and one OU, whose OU is `role_ou`
/// and whose CN is a node id `names` maps to a member; a CN with upper case is refused (node
/// ids are lowercase; TLS name matching ignores case, so one spelling only is accepted). The
/// table is read at every call, so changing it changes who is accepted (open connections
/// included, at their next check).
///
/// The chain, validity and cluster of the certificate are the TLS configuration's to check
/// (swarm-secrets' `tls::server_config`/`client_config` check them, and the revocation list,
/// at every handshake); to also re-check revocation on open connections, wrap swarm-secrets'
/// `ClusterTrust::authorize_certificate` in an identifier of your own (see the crate README).
///
/// ```
/// use swarm_store::MemberId;
/// use swarm_store::transport::tcp::{MANAGER_ROLE_OU, MemberNames, node_id_identifier};
/// use rustls_pki_types::CertificateDer;
/// let names = MemberNames::new();
/// names.insert(MemberId(2), "k3v8x2")?;
/// let identify = node_id_identifier(names, MANAGER_ROLE_OU);
/// // Not a certificate: refused, no panic.
/// assert!(identify(&CertificateDer::from(vec![1, 2, 3])).is_err());
/// # Ok::<(), swarm_store::transport::tcp::NodeIdError>(())
/// ```
pub fn node_id_identifier(names: MemberNames, role_ou: &str) -> PeerIdentifier {
    let role_ou = role_ou.to_owned();
    Arc::new(move |cert: &CertificateDer<'_>| {
        let (node_id, ou) = subject_node_id_and_role(cert)?;
        if ou != role_ou {
            return Err(PeerRefused::new(format!(
                "the certificate of node {node_id:?} has role {ou:?}; a store member needs {role_ou:?}"
            )));
        }
        if node_id.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(PeerRefused::new(format!(
                "the certificate's node id {node_id:?} has upper case; node ids are lowercase"
            )));
        }
        names.member(&node_id).ok_or_else(|| {
            PeerRefused::new(format!(
                "node {node_id:?} is not a member this store knows (add it to the member names)"
            ))
        })
    })
}

/// [`node_id_identifier`] requiring [`MANAGER_ROLE_OU`]: the identifier for members that run
/// with certificates of swarm-secrets' cluster CA.
pub fn manager_identifier(names: MemberNames) -> PeerIdentifier {
    node_id_identifier(names, MANAGER_ROLE_OU)
}

/// The subject's only common name and only organizational unit.
fn subject_node_id_and_role(cert: &CertificateDer<'_>) -> Result<(String, String), PeerRefused> {
    let (_, parsed) = x509_parser::parse_x509_certificate(cert.as_ref())
        .map_err(|e| PeerRefused::new(format!("unreadable certificate: {e}")))?;
    let subject = parsed.subject();
    let only = |mut values: Vec<String>, what: &str| -> Result<String, PeerRefused> {
        match (values.pop(), values.is_empty()) {
            (Some(value), true) => Ok(value),
            (None, _) => Err(PeerRefused::new(format!(
                "the certificate's subject has no {what}"
            ))),
            (Some(_), false) => Err(PeerRefused::new(format!(
                "the certificate's subject has several {what}s"
            ))),
        }
    };
    let text = |a: &x509_parser::x509::AttributeTypeAndValue<'_>| {
        a.as_str()
            .map(str::to_owned)
            .map_err(|e| PeerRefused::new(format!("a subject attribute is not text: {e}")))
    };
    let cns = subject
        .iter_common_name()
        .map(text)
        .collect::<Result<Vec<_>, _>>()?;
    let ous = subject
        .iter_organizational_unit()
        .map(text)
        .collect::<Result<Vec<_>, _>>()?;
    Ok((
        only(cns, "common name (node id)")?,
        only(ous, "organizational unit (role)")?,
    ))
}
