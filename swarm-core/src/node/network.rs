//! How nodes reach each other: TCP with mutual TLS (production), or an in-process network with
//! seeded faults (tests and simulations, cargo feature `testkit`).
//!
//! Both carry the same calls through the same handler and authorise them the same way: the
//! caller's certificate goes through the same peer identifier. Over TCP the certificate comes
//! from the TLS handshake; in process, every node registers the certificate it holds with the
//! [`InProcNodes`] directory, which hands it to the receiving side with each call (a node
//! without one is anonymous, as a TLS client without a certificate).

use crate::model::NodeId;
use crate::node::error::NodeError;
use crate::node::manager_core::resolve;
use bytes::Bytes;
use std::sync::Arc;
use std::time::Duration;
use swarm_store::MemberId;
use swarm_store::transport::tcp::{PeerAddress, PeerIdentifier, TcpServer, TcpTransport};
use swarm_store::transport::{Transport, TransportError};

#[cfg(feature = "testkit")]
pub use inproc::InProcNodes;
#[cfg(feature = "testkit")]
pub(crate) use inproc::MemoryDisk;

/// How a node reaches the others.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub enum NodeNetwork {
    /// TCP with mutual TLS: a manager listens on its listen address.
    #[default]
    Tcp,
    /// An in-process network with seeded faults: every node of a test or simulation shares
    /// one [`InProcNodes`]; a node is addressed by its advertise address (which must be set).
    #[cfg(feature = "testkit")]
    InProc(InProcNodes),
}

/// A node's sending side: calls addressed by the ids its peer identifier gives.
pub(crate) enum Link {
    Tcp(TcpTransport),
    #[cfg(feature = "testkit")]
    InProc(inproc::InProcLink),
}

impl Link {
    /// Points `id` at the node `node` reachable at `addr`.
    pub(crate) async fn set_peer(
        &self,
        id: MemberId,
        addr: &str,
        node: &NodeId,
    ) -> Result<(), NodeError> {
        match self {
            Link::Tcp(t) => {
                let socket = resolve(addr).await.ok_or_else(|| NodeError::Config {
                    field: "managers",
                    reason: format!("{addr} does not resolve"),
                })?;
                let peer =
                    PeerAddress::new(socket, node.as_str()).map_err(|e| NodeError::Config {
                        field: "managers",
                        reason: e.to_string(),
                    })?;
                t.set_peer(id, peer);
                Ok(())
            }
            #[cfg(feature = "testkit")]
            Link::InProc(l) => {
                l.set_peer(id, addr);
                Ok(())
            }
        }
    }

    /// Forgets `id`.
    pub(crate) fn remove_peer(&self, id: MemberId) {
        match self {
            Link::Tcp(t) => t.remove_peer(id),
            #[cfg(feature = "testkit")]
            Link::InProc(l) => l.remove_peer(id),
        }
    }

    /// Whether `id` has an address.
    pub(crate) fn has_peer(&self, id: MemberId) -> bool {
        match self {
            Link::Tcp(t) => t.peers().contains_key(&id),
            #[cfg(feature = "testkit")]
            Link::InProc(l) => l.has_peer(id),
        }
    }

    /// Closes open connections whose peer is no longer accepted.
    pub(crate) fn recheck_peers(&self) {
        match self {
            Link::Tcp(t) => t.recheck_peers(),
            #[cfg(feature = "testkit")]
            Link::InProc(_) => {}
        }
    }
}

impl Link {
    /// One node call to `id` (the node at `addr`, named in errors), within `timeout`: encode,
    /// send, decode the answer.
    pub(crate) async fn call_node(
        &self,
        id: MemberId,
        addr: &str,
        call: &crate::node::wire::NodeCall,
        timeout: Duration,
    ) -> Result<crate::node::wire::NodeReply, NodeError> {
        let protocol = |detail: String| NodeError::Protocol {
            peer: addr.to_owned(),
            detail,
        };
        let request = crate::node::wire::encode_call(call).map_err(|e| protocol(e.to_string()))?;
        let bytes = self
            .call_within(id, request, timeout)
            .await
            .map_err(|source| NodeError::Transport {
                peer: addr.to_owned(),
                source,
            })?;
        crate::node::wire::decode_reply(&bytes).map_err(|e| protocol(e.to_string()))
    }
}

impl Transport for Link {
    async fn call(&self, to: MemberId, request: Bytes) -> Result<Bytes, TransportError> {
        match self {
            Link::Tcp(t) => t.call(to, request).await,
            #[cfg(feature = "testkit")]
            Link::InProc(l) => l.call(to, request, None).await,
        }
    }

    async fn call_within(
        &self,
        to: MemberId,
        request: Bytes,
        timeout: Duration,
    ) -> Result<Bytes, TransportError> {
        match self {
            Link::Tcp(t) => t.call_within(to, request, timeout).await,
            #[cfg(feature = "testkit")]
            Link::InProc(l) => l.call(to, request, Some(timeout)).await,
        }
    }
}

/// A manager's receiving side.
pub(crate) enum Listener {
    Tcp(TcpServer),
    #[cfg(feature = "testkit")]
    InProc(inproc::InProcListener),
}

impl Listener {
    /// Closes open connections whose peer is no longer accepted (over TCP; in process every
    /// call is identified anew).
    pub(crate) fn recheck_peers(&self) {
        match self {
            Listener::Tcp(s) => s.recheck_peers(),
            #[cfg(feature = "testkit")]
            Listener::InProc(_) => {}
        }
    }

    /// The TCP address, if any.
    pub(crate) fn local_addr(&self) -> Option<std::net::SocketAddr> {
        match self {
            Listener::Tcp(s) => Some(s.local_addr()),
            #[cfg(feature = "testkit")]
            Listener::InProc(_) => None,
        }
    }

    /// Stops serving.
    pub(crate) async fn shutdown(self) {
        match self {
            Listener::Tcp(s) => s.shutdown().await,
            #[cfg(feature = "testkit")]
            Listener::InProc(l) => l.shutdown(),
        }
    }
}

/// What building a link needs besides the network.
pub(crate) struct LinkParts<'a> {
    /// The caller's id on the TCP side (informational).
    pub(crate) local: MemberId,
    /// The TLS client configuration (TCP only).
    pub(crate) tls: Option<Arc<rustls::ClientConfig>>,
    /// Maps the server's certificate to the id it was called by.
    pub(crate) identify: PeerIdentifier,
    /// TCP settings.
    pub(crate) tcp: &'a swarm_store::transport::tcp::TcpConfig,
    /// This node's advertise address (its in-process address).
    #[cfg_attr(not(feature = "testkit"), allow(dead_code))]
    pub(crate) advertise: &'a str,
}

impl NodeNetwork {
    /// A sending side for a node.
    pub(crate) fn link(&self, parts: LinkParts<'_>) -> Result<Link, NodeError> {
        match self {
            NodeNetwork::Tcp => {
                let tls = parts.tls.ok_or_else(|| NodeError::Config {
                    field: "network",
                    reason: "a TCP link needs a TLS configuration".into(),
                })?;
                Ok(Link::Tcp(TcpTransport::new(
                    parts.local,
                    tls,
                    parts.identify,
                    parts.tcp.clone(),
                )))
            }
            #[cfg(feature = "testkit")]
            NodeNetwork::InProc(nodes) => {
                Ok(Link::InProc(nodes.link(parts.advertise, parts.identify)))
            }
        }
    }
}

#[cfg(feature = "testkit")]
mod inproc {
    use super::*;
    use crate::node::peers::ANONYMOUS_PEER;
    use rustls_pki_types::CertificateDer;
    use std::collections::BTreeMap;
    use std::collections::HashMap;
    use std::path::{Path, PathBuf};
    use std::sync::{Mutex, PoisonError, RwLock};
    use swarm_store::storage::MemSnapshotStore;
    use swarm_store::testkit::inproc::{InProcNetwork, InProcTransport};
    use swarm_store::testkit::{DiskFaults, FaultyLogStorage};
    use swarm_store::transport::RpcHandler;

    #[derive(Default)]
    struct Directory {
        by_addr: HashMap<String, MemberId>,
        certs: HashMap<MemberId, CertificateDer<'static>>,
    }

    /// A manager's Raft log (with its disk fault switch) and snapshots kept in memory across
    /// its restarts.
    pub(crate) type MemoryDisk = (FaultyLogStorage, MemSnapshotStore);

    /// The nodes of an in-process network: their addresses and the certificates they hold.
    /// Cheap to clone; every node of one test or simulation shares one.
    #[derive(Clone)]
    pub struct InProcNodes {
        net: InProcNetwork,
        dir: Arc<Mutex<Directory>>,
        /// With [`InProcNodes::with_memory_disks`]: each manager's Raft storage, by data
        /// directory.
        disks: Option<Arc<Mutex<BTreeMap<PathBuf, MemoryDisk>>>>,
    }

    impl std::fmt::Debug for InProcNodes {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("InProcNodes").finish_non_exhaustive()
        }
    }

    impl InProcNodes {
        /// The nodes of `net`.
        pub fn new(net: InProcNetwork) -> Self {
            InProcNodes {
                net,
                dir: Arc::default(),
                disks: None,
            }
        }

        /// Keeps every manager's Raft log and snapshots in memory (by data directory, so a
        /// manager restarted on the same directory finds them) instead of in files. The
        /// disk log's writer thread would let real time decide when a write lands among work
        /// due at the same virtual instant; in memory a simulation replays exactly. The rest
        /// of the data directory (keys, node state) stays in files.
        pub fn with_memory_disks(mut self) -> Self {
            self.disks = Some(Arc::default());
            self
        }

        /// The in-memory Raft storage of the manager keeping its state in `data_dir`, made
        /// empty at first use; `None` unless [`InProcNodes::with_memory_disks`].
        pub(crate) fn memory_disk(&self, data_dir: &Path) -> Option<MemoryDisk> {
            let disks = self.disks.as_ref()?;
            let mut disks = disks.lock().unwrap_or_else(PoisonError::into_inner);
            Some(disks.entry(data_dir.to_path_buf()).or_default().clone())
        }

        /// The disk fault switch of the manager keeping its state in `data_dir` (its Raft
        /// log's, made empty at first use); `None` unless [`InProcNodes::with_memory_disks`].
        pub(crate) fn disk_faults(&self, data_dir: &Path) -> Option<DiskFaults> {
            self.memory_disk(data_dir)
                .map(|(log, _)| log.faults().clone())
        }

        /// The network, for faults (partitions, loss, delay) and crashes.
        pub fn network(&self) -> &InProcNetwork {
            &self.net
        }

        /// The network id of the node advertising `addr` (allocated at first use, in order,
        /// so a seeded simulation allocates the same ids).
        pub fn net_id(&self, addr: &str) -> MemberId {
            let mut dir = self.dir.lock().unwrap_or_else(PoisonError::into_inner);
            let next = MemberId(dir.by_addr.len() as u64 + 1);
            *dir.by_addr.entry(addr.to_owned()).or_insert(next)
        }

        /// Crashes the node advertising `addr`: its calls in flight are lost and it is
        /// unreachable until it starts again.
        pub fn crash(&self, addr: &str) {
            self.net.crash(self.net_id(addr));
        }

        pub(crate) fn set_certificate(&self, addr: &str, cert: CertificateDer<'static>) {
            let id = self.net_id(addr);
            self.dir
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .certs
                .insert(id, cert);
        }

        fn certificate(&self, id: MemberId) -> Option<CertificateDer<'static>> {
            self.dir
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .certs
                .get(&id)
                .cloned()
        }

        pub(crate) fn link(&self, addr: &str, identify: PeerIdentifier) -> InProcLink {
            InProcLink {
                nodes: self.clone(),
                endpoint: self.net.endpoint(self.net_id(addr)),
                identify,
                peers: RwLock::default(),
            }
        }

        /// Serves `handler` at `addr`, identifying each caller by its registered certificate.
        pub(crate) fn serve<H: RpcHandler>(
            &self,
            addr: &str,
            identify: PeerIdentifier,
            handler: H,
        ) -> InProcListener {
            let id = self.net_id(addr);
            self.net.register(
                id,
                Identified {
                    nodes: self.clone(),
                    identify,
                    inner: handler,
                },
            );
            InProcListener {
                nodes: self.clone(),
                id,
            }
        }
    }

    /// A handler seeing callers by the id their certificate maps to, as over TLS.
    struct Identified<H> {
        nodes: InProcNodes,
        identify: PeerIdentifier,
        inner: H,
    }

    impl<H: RpcHandler> RpcHandler for Identified<H> {
        async fn handle(&self, from: MemberId, request: Bytes) -> Result<Bytes, String> {
            let caller = match self.nodes.certificate(from) {
                None => ANONYMOUS_PEER,
                Some(cert) => (self.identify)(&cert).map_err(|e| e.to_string())?,
            };
            self.inner.handle(caller, request).await
        }
    }

    /// A manager served on the in-process network.
    pub(crate) struct InProcListener {
        nodes: InProcNodes,
        id: MemberId,
    }

    impl InProcListener {
        pub(crate) fn shutdown(self) {
            self.nodes.net.crash(self.id);
        }
    }

    /// A node's sending side on the in-process network.
    pub(crate) struct InProcLink {
        nodes: InProcNodes,
        endpoint: InProcTransport,
        identify: PeerIdentifier,
        peers: RwLock<HashMap<MemberId, String>>,
    }

    impl InProcLink {
        pub(crate) fn set_peer(&self, id: MemberId, addr: &str) {
            self.peers
                .write()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(id, addr.to_owned());
        }

        pub(crate) fn remove_peer(&self, id: MemberId) {
            self.peers
                .write()
                .unwrap_or_else(PoisonError::into_inner)
                .remove(&id);
        }

        pub(crate) fn has_peer(&self, id: MemberId) -> bool {
            self.peers
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .contains_key(&id)
        }

        pub(crate) async fn call(
            &self,
            to: MemberId,
            request: Bytes,
            timeout: Option<Duration>,
        ) -> Result<Bytes, TransportError> {
            let addr = self
                .peers
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .get(&to)
                .cloned()
                .ok_or(TransportError::UnknownPeer(to))?;
            let target = self.nodes.net_id(&addr);
            // The server's certificate is checked as a TLS client checks it.
            if let Some(cert) = self.nodes.certificate(target) {
                match (self.identify)(&cert) {
                    Ok(id) if id == to => {}
                    Ok(other) => {
                        return Err(TransportError::Auth {
                            peer: to,
                            detail: format!("the node at {addr} is {other}"),
                        });
                    }
                    Err(e) => {
                        return Err(TransportError::Auth {
                            peer: to,
                            detail: e.to_string(),
                        });
                    }
                }
            }
            match timeout {
                Some(t) => self.endpoint.call_with_timeout(target, request, t).await,
                None => self.endpoint.call(target, request).await,
            }
        }
    }
}
