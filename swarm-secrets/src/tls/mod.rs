//! Mutual TLS between cluster nodes with rustls (ring, TLS 1.3 only, ECDSA signatures).
//!
//! [`server_config`] and [`client_config`] both require a certificate from the cluster CA on
//! the other side. The verifiers wrap rustls' WebPKI verifiers (chain, validity period, key
//! usage, signature, server name) and then also require the peer's certificate to carry a node
//! identity of this cluster (CN = node id, OU = role, O = cluster id) whose node id is not on
//! the [`RevocationList`](crate::RevocationList). Session resumption is disabled on both sides so the verifiers (and
//! the revocation check) run at every handshake. After the handshake, [`peer_identity`] gives
//! the caller the peer's verified `(NodeId, Role)` to authorise each call by role;
//! [`authorize`] also re-checks the revocation list and the allowed roles at call time, for
//! long-lived connections.
//!
//! A node renews its certificate, changes role, and during a root CA rotation trusts two roots
//! then only the new one, all without rebuilding its configs or dropping its connections:
//! [`live_server_config`], [`live_server_config_accepting_joins`] and [`live_client_config`]
//! read a [`LiveCredentials`] and a [`LiveTrust`] at every handshake, and
//! [`LiveCredentials::replace`] / [`LiveTrust::replace`] apply to the next handshake. Open
//! connections are never cut by a replace; re-checking them (revocation, role) is the caller's,
//! with [`authorize`] per call. The fixed [`server_config`], [`client_config`] and
//! [`server_config_accepting_joins`] are live configs over cells nobody replaces.
//!
//! A node that is joining has no certificate and no CA yet: it downloads the root CA with
//! [`ca_fetch_client_config`] (accepts any server certificate; nothing received is trusted),
//! checks it against its join token with [`ClusterTrust::for_join`], then presents the token and
//! a CSR over [`join_client_config`] to a manager serving [`server_config_accepting_joins`].
//!
//! Clients name a server by [`role_server_name`] (`swarm-manager`: any manager) or
//! [`node_server_name`] (one node): both are DNS names in every node certificate.

use std::sync::Arc;

use rustls::client::Resumption;
use rustls::server::NoServerSessionStorage;
use rustls::{ClientConfig, CommonState, ServerConfig};
use rustls_pki_types::{CertificateDer, ServerName};

use crate::cert_info::NodeCertInfo;
use crate::error::{Result, SecretsError};
use crate::node_credentials::NodeCredentials;
use crate::node_id::{NodeId, Role};

/// The handshake-signature methods of every server and client certificate verifier of this
/// crate: verified with the certificate's key, by [`crypto_provider`]'s ECDSA algorithms (what
/// rustls' WebPKI verifiers do with that provider). Only the certificate checks differ.
macro_rules! verify_handshake_signatures {
    () => {
        fn verify_tls12_signature(
            &self,
            message: &[u8],
            cert: &rustls_pki_types::CertificateDer<'_>,
            dss: &rustls::DigitallySignedStruct,
        ) -> std::result::Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
            // Unreachable with the TLS 1.3-only configs of this crate; verified all the same.
            rustls::crypto::verify_tls12_signature(
                message,
                cert,
                dss,
                &super::crypto_provider::ECDSA_SIGNATURES,
            )
        }

        fn verify_tls13_signature(
            &self,
            message: &[u8],
            cert: &rustls_pki_types::CertificateDer<'_>,
            dss: &rustls::DigitallySignedStruct,
        ) -> std::result::Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
            rustls::crypto::verify_tls13_signature(
                message,
                cert,
                dss,
                &super::crypto_provider::ECDSA_SIGNATURES,
            )
        }

        fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
            super::crypto_provider::ECDSA_SIGNATURES.supported_schemes()
        }
    };
}

mod ca_fetch_verifier;
mod client_verifier;
mod crypto_provider;
mod live_credentials;
mod live_trust;
mod peer_identity;
mod server_verifier;
mod shared_cell;
mod trust;
#[cfg(test)]
mod trust_tests;
mod verified_certs;

pub use client_verifier::ClusterClientCertVerifier;
pub use live_credentials::LiveCredentials;
pub use live_trust::LiveTrust;
pub use peer_identity::PeerIdentity;
pub use server_verifier::ClusterServerCertVerifier;
pub use trust::ClusterTrust;
pub use verified_certs::MAX_VERIFIED_CERTS;

use ca_fetch_verifier::CaFetchServerVerifier;
use crypto_provider::provider;

/// The rustls crypto provider every config of this crate is built with: ring's cipher suites,
/// key exchange groups and key loading, ECDSA signature verification, ring's random source.
/// Use it to build a rustls config of your own that agrees with this crate's.
pub fn crypto_provider() -> Arc<rustls::crypto::CryptoProvider> {
    provider()
}

/// Logs a refused certificate with the node id it claims (not verified: the chain failed).
fn log_chain_failure(side: &str, end_entity: &CertificateDer<'_>, error: &rustls::Error) {
    let claimed = NodeCertInfo::parse(end_entity)
        .map(|i| i.node_id.to_string())
        .unwrap_or_else(|_| "<none>".to_string());
    tracing::warn!(%side, claimed_node_id = %claimed, %error, "TLS peer certificate refused");
}

fn build_live_server_config(
    creds: &LiveCredentials,
    trust: &LiveTrust,
    client_cert_mandatory: bool,
) -> Result<Arc<ServerConfig>> {
    let mut config = ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .with_client_cert_verifier(Arc::new(ClusterClientCertVerifier::live(
            trust,
            client_cert_mandatory,
        )))
        .with_cert_resolver(Arc::new(creds.clone()));
    // Full handshakes only: the client verifier and the revocation check run every time.
    config.session_storage = Arc::new(NoServerSessionStorage {});
    config.send_tls13_tickets = 0;
    Ok(Arc::new(config))
}

/// A server config presenting `creds` and requiring a client certificate of this cluster.
/// Both are fixed; [`live_server_config`] reads them at every handshake instead.
pub fn server_config(creds: &NodeCredentials, trust: &ClusterTrust) -> Result<Arc<ServerConfig>> {
    live_server_config(
        &LiveCredentials::new(creds)?,
        &LiveTrust::new(trust.clone()),
    )
}

/// A server config for a manager's join endpoint: a client certificate of this cluster is
/// verified when presented, but a joining node without one may connect. [`peer_identity`]
/// then fails with [`SecretsError::NoPeerCertificate`]; such a peer may only present a join
/// token and a CSR. Both arguments are fixed; [`live_server_config_accepting_joins`] reads
/// them at every handshake instead.
pub fn server_config_accepting_joins(
    creds: &NodeCredentials,
    trust: &ClusterTrust,
) -> Result<Arc<ServerConfig>> {
    live_server_config_accepting_joins(
        &LiveCredentials::new(creds)?,
        &LiveTrust::new(trust.clone()),
    )
}

/// A client config presenting `creds` and requiring a server certificate of this cluster.
/// Both are fixed; [`live_client_config`] reads them at every handshake instead.
pub fn client_config(creds: &NodeCredentials, trust: &ClusterTrust) -> Result<Arc<ClientConfig>> {
    live_client_config(
        &LiveCredentials::new(creds)?,
        &LiveTrust::new(trust.clone()),
    )
}

/// [`server_config`] reading the node's certificate from `creds` and what it trusts from
/// `trust` at every handshake: after [`LiveCredentials::replace`] or [`LiveTrust::replace`],
/// the next handshake presents the new certificate and verifies the client against the new
/// roots (then cluster id and revocation, as always), while connections already open carry
/// on untouched (re-checking them is the caller's: [`authorize`] per call).
///
/// ```
/// use swarm_secrets::tls::{self, ClusterTrust, LiveCredentials, LiveTrust};
/// use swarm_secrets::{CertPolicy, ClusterCa, ClusterId, NodeCredentials, NodeId, NodeKey};
/// use swarm_secrets::{RevocationList, Role};
/// let cluster = ClusterId::new("prod")?;
/// let ca = ClusterCa::generate(cluster.clone(), CertPolicy::default())?;
/// let trust = LiveTrust::new(ClusterTrust::new(ca.cert_der(), cluster, RevocationList::new())?);
/// let node = NodeId::new("manager-1")?;
/// let issue = || -> swarm_secrets::Result<NodeCredentials> {
///     let key = NodeKey::generate()?;
///     let issued = ca.issue(&key.csr_der()?, &node, Role::Manager)?;
///     NodeCredentials::new(&key, &issued.cert_der, ca.cert_der())
/// };
/// let creds = LiveCredentials::new(&issue()?)?;
/// let config = tls::live_server_config(&creds, &trust)?; // handed to the listener once
/// // Later, on renewal: the listener keeps `config`; its next handshake presents the new
/// // certificate.
/// creds.replace(&issue()?)?;
/// # let _ = config;
/// # Ok::<(), swarm_secrets::SecretsError>(())
/// ```
pub fn live_server_config(creds: &LiveCredentials, trust: &LiveTrust) -> Result<Arc<ServerConfig>> {
    build_live_server_config(creds, trust, true)
}

/// [`server_config_accepting_joins`] reading the node's certificate from `creds` and what it
/// trusts from `trust` at every handshake, as [`live_server_config`] does.
pub fn live_server_config_accepting_joins(
    creds: &LiveCredentials,
    trust: &LiveTrust,
) -> Result<Arc<ServerConfig>> {
    build_live_server_config(creds, trust, false)
}

/// [`client_config`] reading the node's certificate from `creds` and what it trusts from
/// `trust` at every handshake, as [`live_server_config`] does: the next connection presents
/// the current certificate and verifies the server against the current roots.
pub fn live_client_config(creds: &LiveCredentials, trust: &LiveTrust) -> Result<Arc<ClientConfig>> {
    let mut config = ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(ClusterServerCertVerifier::live(trust)))
        .with_client_cert_resolver(Arc::new(creds.clone()));
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

/// A client config for ONE purpose: downloading the cluster's root CA certificate before the
/// node trusts anything. It presents no client certificate and **accepts any server
/// certificate** (no chain, validity, key usage or name check); the only thing it verifies is
/// the TLS 1.3 handshake signature, made with the key of the certificate the server presented
/// (ECDSA, by [`crypto_provider`]'s algorithms). TLS 1.3 only, no session resumption.
///
/// # Nothing received over it is trusted
///
/// The connection is encrypted but **not authenticated**: anyone on the path can answer it.
/// Every byte received over it — above all the CA certificate — must be treated as untrusted
/// until checked against the digest pinned in the join token, with [`ClusterTrust::for_join`]
/// (which calls [`crate::JoinToken::verify_ca`]). Send nothing secret over it: never the join
/// token, never a CSR. After the check, drop this connection and present the token on a new
/// one made with [`join_client_config`] and the checked trust.
///
/// ```no_run
/// use swarm_secrets::tls::{self, ClusterTrust};
/// use swarm_secrets::{JoinToken, RevocationList, Role, limits::MAX_CERT_BYTES};
/// use tokio::io::AsyncReadExt;
/// # async fn join(manager: std::net::SocketAddr, token_text: &str)
/// #     -> Result<(), Box<dyn std::error::Error>> {
/// let token = JoinToken::parse(token_text)?;
/// // 1. Download the root CA, trusting nothing yet (here the manager writes the CA's DER and
/// //    closes; the request that asks for it is the caller's protocol).
/// let tcp = tokio::net::TcpStream::connect(manager).await?;
/// let untrusted = tokio_rustls::TlsConnector::from(tls::ca_fetch_client_config()?)
///     .connect(tls::role_server_name(Role::Manager), tcp)
///     .await?;
/// let mut downloaded = Vec::new();
/// untrusted
///     .take(MAX_CERT_BYTES as u64)
///     .read_to_end(&mut downloaded)
///     .await?;
/// // 2. Trust it only if it is the CA the join token pins (refused otherwise).
/// let trust = ClusterTrust::for_join(&token, &downloaded, RevocationList::new())?;
/// // 3. Only now present the token and a CSR, to a manager verified against that CA.
/// let join = tls::join_client_config(&trust)?;
/// # let _ = join;
/// # Ok(())
/// # }
/// ```
pub fn ca_fetch_client_config() -> Result<Arc<ClientConfig>> {
    let mut config = ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(CaFetchServerVerifier))
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
/// `allowed_roles`. Refusals: [`SecretsError::Revoked`], [`SecretsError::RoleNotAllowed`],
/// [`SecretsError::Certificate`] for another cluster's peer.
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
        return Err(SecretsError::RoleNotAllowed {
            node_id: peer.node_id,
            role: peer.role,
            allowed: allowed_roles.to_vec(),
        });
    }
    Ok(peer)
}
