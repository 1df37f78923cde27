//! The node's current certificate and key, shared with its running TLS configs.

use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use rustls::SignatureScheme;
use rustls::client::ResolvesClientCert;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls_pki_types::CertificateDer;

use super::provider;
use super::shared_cell::SharedCell;
use crate::cert_info::NodeCertInfo;
use crate::error::{Result, SecretsError};
use crate::node_credentials::NodeCredentials;

/// One set of credentials, ready for rustls.
struct Current {
    certified: Arc<CertifiedKey>,
    cert_der: CertificateDer<'static>,
    info: NodeCertInfo,
    renew_at: SystemTime,
}

impl Current {
    fn new(creds: &NodeCredentials) -> Result<Self> {
        let certified = CertifiedKey::from_der(
            vec![creds.cert_der().clone()],
            creds.private_key_der(),
            &provider(),
        )?;
        Ok(Current {
            certified: Arc::new(certified),
            cert_der: creds.cert_der().clone(),
            info: creds.info().clone(),
            renew_at: creds.renew_at(),
        })
    }
}

/// A shared cell holding the node's current certificate and key: the live TLS configs
/// ([`live_server_config`](super::live_server_config), [`live_client_config`](super::live_client_config),
/// ...) present what it holds at every handshake, so [`LiveCredentials::replace`] (a renewed
/// certificate, or a new role) applies to the next handshake of every config built from it,
/// without rebuilding them. Connections already open keep the certificate they were opened
/// with. Clones share the cell.
///
/// It is the rustls certificate resolver of those configs ([`ResolvesServerCert`],
/// [`ResolvesClientCert`]), for a rustls config of your own too.
///
/// ```
/// use swarm_secrets::tls::LiveCredentials;
/// use swarm_secrets::{
///     CertPolicy, ClusterCa, ClusterId, NodeCredentials, NodeId, NodeKey, Role, SecretsError,
/// };
/// let ca = ClusterCa::generate(ClusterId::new("prod")?, CertPolicy::default())?;
/// let node = NodeId::new("node-1")?;
/// let key = NodeKey::generate()?;
/// let worker = ca.issue(&key.csr_der()?, &node, Role::Worker)?;
/// let live = LiveCredentials::new(&NodeCredentials::new(&key, &worker.cert_der, ca.cert_der())?)?;
///
/// // Promoted: the same node gets a manager certificate (here with a new key).
/// let key = NodeKey::generate()?;
/// let manager = ca.issue(&key.csr_der()?, &node, Role::Manager)?;
/// live.replace(&NodeCredentials::new(&key, &manager.cert_der, ca.cert_der())?)?;
/// assert_eq!(live.info().role, Role::Manager);
///
/// // Another node's credentials are refused.
/// let other = ca.issue(&key.csr_der()?, &NodeId::new("node-2")?, Role::Worker)?;
/// let other = NodeCredentials::new(&key, &other.cert_der, ca.cert_der())?;
/// assert!(matches!(
///     live.replace(&other),
///     Err(SecretsError::ReplacementForOtherNode { .. })
/// ));
/// # Ok::<(), SecretsError>(())
/// ```
#[derive(Clone)]
pub struct LiveCredentials {
    current: SharedCell<Current>,
}

impl LiveCredentials {
    /// A cell holding `creds`. Fails ([`SecretsError::Tls`]) if rustls cannot load the key or
    /// the key is not the certificate's.
    pub fn new(creds: &NodeCredentials) -> Result<Self> {
        Ok(LiveCredentials {
            current: SharedCell::new(Current::new(creds)?),
        })
    }

    /// Makes `creds` the credentials of every later handshake. They must be for the same node
    /// and cluster ([`SecretsError::ReplacementForOtherNode`],
    /// [`SecretsError::ReplacementForOtherCluster`] otherwise; the current credentials stay);
    /// the role may differ (a promotion or demotion).
    pub fn replace(&self, creds: &NodeCredentials) -> Result<()> {
        let next = Current::new(creds)?;
        self.current.replace_if(next, |current, offered| {
            if offered.info.cluster_id != current.info.cluster_id {
                return Err(SecretsError::ReplacementForOtherCluster {
                    what: "credentials",
                    current: current.info.cluster_id.clone(),
                    offered: offered.info.cluster_id.clone(),
                });
            }
            if offered.info.node_id != current.info.node_id {
                return Err(SecretsError::ReplacementForOtherNode {
                    current: current.info.node_id.clone(),
                    offered: offered.info.node_id.clone(),
                });
            }
            Ok(())
        })
    }

    /// What the current certificate says: node id, role, cluster, validity.
    pub fn info(&self) -> NodeCertInfo {
        self.current.get().info.clone()
    }

    /// When to renew the current certificate (see [`NodeCredentials::renew_at`]).
    pub fn renew_at(&self) -> SystemTime {
        self.current.get().renew_at
    }

    /// Whether the current certificate should be renewed at `now`.
    pub fn needs_renewal(&self, now: SystemTime) -> bool {
        now >= self.renew_at()
    }

    /// The current certificate (DER).
    pub fn cert_der(&self) -> CertificateDer<'static> {
        self.current.get().cert_der.clone()
    }

    fn certified_key(&self) -> Arc<CertifiedKey> {
        self.current.get().certified.clone()
    }
}

impl ResolvesServerCert for LiveCredentials {
    fn resolve(&self, _client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.certified_key())
    }
}

impl ResolvesClientCert for LiveCredentials {
    fn resolve(
        &self,
        _root_hint_subjects: &[&[u8]],
        _sigschemes: &[SignatureScheme],
    ) -> Option<Arc<CertifiedKey>> {
        Some(self.certified_key())
    }

    fn has_certs(&self) -> bool {
        true
    }
}

impl fmt::Debug for LiveCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let current = self.current.get();
        f.debug_struct("LiveCredentials")
            .field("info", &current.info)
            .field("renew_at", &current.renew_at)
            .field("key", &"[REDACTED]")
            .finish()
    }
}
