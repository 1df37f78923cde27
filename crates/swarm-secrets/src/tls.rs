//! Mutual TLS between cluster nodes with rustls (ring provider, TLS 1.3 only).
//!
//! [`server_config`] and [`client_config`] both require a certificate from the cluster CA on
//! the other side. The verifiers wrap rustls' WebPKI verifiers (chain, validity period, key
//! usage, signature, server name) and then also require the peer's certificate to carry a node
//! identity of this cluster (CN = node id, OU = role, O = cluster id) whose node id is not on
//! the [`RevocationList`]. Session resumption is disabled on both sides so the verifiers (and
//! the revocation check) run at every handshake. After the handshake, [`peer_identity`] gives
//! the caller the peer's verified `(NodeId, Role)` to authorise each call by role;
//! [`authorize`] also re-checks the revocation list and the allowed roles at call time, for
//! long-lived connections.
//!
//! Clients name a server by [`role_server_name`] (`swarm-manager`: any manager) or
//! [`node_server_name`] (one node): both are DNS names in every node certificate.

use std::fmt;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{Resumption, WebPkiServerVerifier};
use rustls::crypto::CryptoProvider;
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::{NoServerSessionStorage, WebPkiClientVerifier};
use rustls::{
    CertificateError, ClientConfig, CommonState, DigitallySignedStruct, DistinguishedName,
    RootCertStore, ServerConfig, SignatureScheme,
};
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};

use crate::cert_info::{NodeCertInfo, parse_x509};
use crate::error::{Result, SecretsError};
use crate::join_token::JoinToken;
use crate::node_credentials::NodeCredentials;
use crate::node_id::{ClusterId, NodeId, Role};
use crate::revocation::RevocationList;

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// What a node trusts: the cluster root CA, the cluster id and the revocation list.
#[derive(Clone)]
pub struct ClusterTrust {
    ca_cert: CertificateDer<'static>,
    roots: Arc<RootCertStore>,
    cluster_id: ClusterId,
    revocations: RevocationList,
}

impl ClusterTrust {
    /// Trust the CA certificate `ca_cert_der` for cluster `cluster_id`, refusing the node ids
    /// in `revocations` (shared: later revocations apply to later handshakes).
    pub fn new(
        ca_cert_der: &[u8],
        cluster_id: ClusterId,
        revocations: RevocationList,
    ) -> Result<Self> {
        let ca_cert = CertificateDer::from(ca_cert_der.to_vec());
        let mut roots = RootCertStore::empty();
        roots
            .add(ca_cert.clone())
            .map_err(|e| SecretsError::Certificate(format!("root CA not usable: {e}")))?;
        Ok(ClusterTrust {
            ca_cert,
            roots: Arc::new(roots),
            cluster_id,
            revocations,
        })
    }

    /// Trust for a node that is joining: checks the downloaded root CA certificate against the
    /// digest pinned in its join token (constant time) before trusting it, and takes the
    /// cluster id from the CA certificate's organization.
    pub fn for_join(
        token: &JoinToken,
        downloaded_ca_cert_der: &[u8],
        revocations: RevocationList,
    ) -> Result<Self> {
        token.verify_ca(downloaded_ca_cert_der)?;
        let ca = parse_x509(downloaded_ca_cert_der)?;
        if !ca.is_ca() {
            return Err(SecretsError::Certificate(
                "root is not a CA certificate".into(),
            ));
        }
        let cluster = ca
            .subject()
            .iter_organization()
            .next()
            .and_then(|o| o.as_str().ok())
            .ok_or_else(|| {
                SecretsError::Certificate("root CA names no cluster (organization)".into())
            })?;
        ClusterTrust::new(
            downloaded_ca_cert_der,
            ClusterId::new(cluster)?,
            revocations,
        )
    }

    /// The trusted root CA certificate.
    pub fn ca_cert_der(&self) -> &CertificateDer<'static> {
        &self.ca_cert
    }

    /// The cluster id every peer certificate must carry.
    pub fn cluster_id(&self) -> &ClusterId {
        &self.cluster_id
    }

    /// The shared revocation list.
    pub fn revocations(&self) -> &RevocationList {
        &self.revocations
    }

    /// Checks the identity in an already chain-verified certificate.
    fn check_identity(
        &self,
        end_entity: &CertificateDer<'_>,
    ) -> Result<PeerIdentity, rustls::Error> {
        let info = NodeCertInfo::parse(end_entity).map_err(|e| {
            tracing::warn!(error = %e, "TLS peer refused: certificate carries no node identity");
            rustls::Error::InvalidCertificate(CertificateError::BadEncoding)
        })?;
        if info.cluster_id != self.cluster_id {
            tracing::warn!(
                node_id = %info.node_id,
                peer_cluster = %info.cluster_id,
                cluster = %self.cluster_id,
                "TLS peer refused: certificate of another cluster"
            );
            return Err(rustls::Error::InvalidCertificate(
                CertificateError::ApplicationVerificationFailure,
            ));
        }
        if self.revocations.is_revoked(&info.node_id) {
            tracing::warn!(node_id = %info.node_id, role = %info.role, "TLS peer refused: node is revoked");
            return Err(rustls::Error::InvalidCertificate(CertificateError::Revoked));
        }
        Ok(PeerIdentity {
            node_id: info.node_id,
            role: info.role,
            cluster_id: info.cluster_id,
        })
    }
}

impl fmt::Debug for ClusterTrust {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClusterTrust")
            .field("cluster_id", &self.cluster_id)
            .field("revoked_nodes", &self.revocations.len())
            .finish_non_exhaustive()
    }
}

/// The verified identity of a TLS peer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerIdentity {
    /// The peer's node id.
    pub node_id: NodeId,
    /// The peer's role.
    pub role: Role,
    /// The peer's cluster.
    pub cluster_id: ClusterId,
}

impl PeerIdentity {
    /// The `(node id, role)` pair to authorise a call with.
    pub fn node_and_role(&self) -> (&NodeId, Role) {
        (&self.node_id, self.role)
    }
}

impl From<PeerIdentity> for (NodeId, Role) {
    fn from(p: PeerIdentity) -> Self {
        (p.node_id, p.role)
    }
}

/// Verifies client certificates: WebPKI against the cluster CA, then cluster id and revocation.
pub struct ClusterClientCertVerifier {
    inner: Arc<dyn ClientCertVerifier>,
    trust: ClusterTrust,
    mandatory: bool,
}

impl ClusterClientCertVerifier {
    /// A verifier requiring (or, with `mandatory = false`, accepting the absence of) a client
    /// certificate from the cluster CA.
    pub fn new(trust: &ClusterTrust, mandatory: bool) -> Result<Self> {
        let mut builder =
            WebPkiClientVerifier::builder_with_provider(trust.roots.clone(), provider());
        if !mandatory {
            builder = builder.allow_unauthenticated();
        }
        let inner = builder
            .build()
            .map_err(|e| SecretsError::Certificate(format!("client verifier: {e}")))?;
        Ok(ClusterClientCertVerifier {
            inner,
            trust: trust.clone(),
            mandatory,
        })
    }
}

impl fmt::Debug for ClusterClientCertVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClusterClientCertVerifier")
            .field("trust", &self.trust)
            .field("mandatory", &self.mandatory)
            .finish()
    }
}

impl ClientCertVerifier for ClusterClientCertVerifier {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        self.mandatory
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        self.inner.root_hint_subjects()
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        self.inner
            .verify_client_cert(end_entity, intermediates, now)
            .inspect_err(|e| log_chain_failure("client", end_entity, e))?;
        self.trust.check_identity(end_entity)?;
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// Verifies server certificates: WebPKI against the cluster CA (including the server name),
/// then cluster id, revocation, and — when the name asked for is a role — that role.
pub struct ClusterServerCertVerifier {
    inner: Arc<WebPkiServerVerifier>,
    trust: ClusterTrust,
}

impl ClusterServerCertVerifier {
    /// A verifier for servers of the cluster.
    pub fn new(trust: &ClusterTrust) -> Result<Self> {
        let inner = WebPkiServerVerifier::builder_with_provider(trust.roots.clone(), provider())
            .build()
            .map_err(|e| SecretsError::Certificate(format!("server verifier: {e}")))?;
        Ok(ClusterServerCertVerifier {
            inner,
            trust: trust.clone(),
        })
    }
}

impl fmt::Debug for ClusterServerCertVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClusterServerCertVerifier")
            .field("trust", &self.trust)
            .finish()
    }
}

impl ServerCertVerifier for ClusterServerCertVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.inner
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
            .inspect_err(|e| log_chain_failure("server", end_entity, e))?;
        let peer = self.trust.check_identity(end_entity)?;
        if let ServerName::DnsName(name) = server_name {
            if let Ok(role) = Role::from_ou(name.as_ref()) {
                if role != peer.role {
                    return Err(rustls::Error::InvalidCertificate(
                        CertificateError::NotValidForName,
                    ));
                }
            }
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// Logs a refused certificate with the node id it claims (not verified: the chain failed).
fn log_chain_failure(side: &str, end_entity: &CertificateDer<'_>, error: &rustls::Error) {
    let claimed = NodeCertInfo::parse(end_entity)
        .map(|i| i.node_id.to_string())
        .unwrap_or_else(|_| "<none>".to_string());
    tracing::warn!(%side, claimed_node_id = %claimed, %error, "TLS peer certificate refused");
}

fn build_server_config(
    creds: &NodeCredentials,
    verifier: Arc<dyn ClientCertVerifier>,
) -> Result<Arc<ServerConfig>> {
    let mut config = ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .with_client_cert_verifier(verifier)
        .with_single_cert(vec![creds.cert_der().clone()], creds.private_key_der())?;
    // Full handshakes only: the client verifier and the revocation check run every time.
    config.session_storage = Arc::new(NoServerSessionStorage {});
    config.send_tls13_tickets = 0;
    Ok(Arc::new(config))
}

/// A server config presenting `creds` and requiring a client certificate of this cluster.
pub fn server_config(creds: &NodeCredentials, trust: &ClusterTrust) -> Result<Arc<ServerConfig>> {
    build_server_config(
        creds,
        Arc::new(ClusterClientCertVerifier::new(trust, true)?),
    )
}

/// A server config for a manager's join endpoint: a client certificate of this cluster is
/// verified when presented, but a joining node without one may connect. [`peer_identity`]
/// then fails with [`SecretsError::NoPeerCertificate`]; such a peer may only present a join
/// token and a CSR.
pub fn server_config_accepting_joins(
    creds: &NodeCredentials,
    trust: &ClusterTrust,
) -> Result<Arc<ServerConfig>> {
    build_server_config(
        creds,
        Arc::new(ClusterClientCertVerifier::new(trust, false)?),
    )
}

/// A client config presenting `creds` and requiring a server certificate of this cluster.
pub fn client_config(creds: &NodeCredentials, trust: &ClusterTrust) -> Result<Arc<ClientConfig>> {
    let mut config = ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(ClusterServerCertVerifier::new(trust)?))
        .with_client_auth_cert(vec![creds.cert_der().clone()], creds.private_key_der())?;
    config.resumption = Resumption::disabled();
    Ok(Arc::new(config))
}

/// A client config for a node that is joining and has no certificate yet: it verifies the
/// manager against the cluster CA in `trust`, whose certificate must first have been checked
/// against the join token with [`crate::JoinToken::verify_ca`].
pub fn join_client_config(trust: &ClusterTrust) -> Result<Arc<ClientConfig>> {
    let mut config = ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(ClusterServerCertVerifier::new(trust)?))
        .with_no_client_auth();
    config.resumption = Resumption::disabled();
    Ok(Arc::new(config))
}

/// The server name that reaches any node with `role` (e.g. `swarm-manager`).
pub fn role_server_name(role: Role) -> ServerName<'static> {
    ServerName::DnsName(
        rustls_pki_types::DnsName::try_from(role.as_ou())
            .expect("role OUs are fixed valid DNS names")
            .to_owned(),
    )
}

/// The server name that reaches exactly the node `node_id`.
pub fn node_server_name(node_id: &NodeId) -> Result<ServerName<'static>> {
    ServerName::try_from(node_id.as_str().to_owned())
        .map_err(|e| SecretsError::invalid("node id", format!("not a DNS name: {e}")))
}

/// The verified identity of the peer of a completed handshake (server or client side).
/// Works on `rustls::ServerConnection`/`ClientConnection` (they deref to `CommonState`), e.g.
/// `peer_identity(tls_stream.get_ref().1)` with tokio-rustls.
pub fn peer_identity(conn: &CommonState) -> Result<PeerIdentity> {
    let certs = conn
        .peer_certificates()
        .ok_or(SecretsError::NoPeerCertificate)?;
    let end_entity = certs.first().ok_or(SecretsError::NoPeerCertificate)?;
    let info = NodeCertInfo::parse(end_entity)?;
    Ok(PeerIdentity {
        node_id: info.node_id,
        role: info.role,
        cluster_id: info.cluster_id,
    })
}

/// Authorises one call on an established connection: the peer's verified identity, re-checked
/// against the revocation list now (it may have changed since the handshake), with a role in
/// `allowed_roles`.
pub fn authorize(
    conn: &CommonState,
    trust: &ClusterTrust,
    allowed_roles: &[Role],
) -> Result<PeerIdentity> {
    let peer = peer_identity(conn)?;
    if peer.cluster_id != trust.cluster_id {
        return Err(SecretsError::Certificate(format!(
            "peer belongs to cluster {}, not {}",
            peer.cluster_id, trust.cluster_id
        )));
    }
    if trust.revocations.is_revoked(&peer.node_id) {
        return Err(SecretsError::Revoked(peer.node_id));
    }
    if !allowed_roles.contains(&peer.role) {
        return Err(SecretsError::invalid(
            "peer role",
            format!(
                "node {} is a {}, this call needs one of {:?}",
                peer.node_id, peer.role, allowed_roles
            ),
        ));
    }
    Ok(peer)
}
