//! Where a peer listens and the name its certificate carries.

use super::member_names::{NodeIdError, check_node_id};
use rustls_pki_types::{InvalidDnsNameError, ServerName};
use std::net::SocketAddr;

/// Where a member listens, and the name its certificate must carry for TLS server
/// verification.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerAddress {
    /// The socket address to connect to.
    pub addr: SocketAddr,
    /// The name checked against the server certificate's subject alternative names.
    pub server_name: ServerName<'static>,
}

/// A name [`PeerAddress::with_dns_name`] refused: it is not a valid DNS name.
#[derive(Debug, thiserror::Error)]
#[error("server_name {name:?} is not a valid DNS name: {source}")]
pub struct InvalidServerName {
    /// The name given.
    pub name: String,
    /// Why rustls refused it.
    #[source]
    pub source: InvalidDnsNameError,
}

impl PeerAddress {
    /// A peer at `addr` running as node `node_id`: its certificate must carry that node id as a
    /// DNS name, as every certificate of swarm-secrets' cluster CA does (CN and DNS name = node
    /// id). Refuses what is not a node id (upper case included: node ids are lowercase).
    ///
    /// ```
    /// use swarm_store::transport::tcp::PeerAddress;
    /// let addr = "10.0.0.2:4242".parse().unwrap();
    /// assert!(PeerAddress::new(addr, "k3v8x2").is_ok());
    /// assert!(PeerAddress::new(addr, "Node-2").is_err());
    /// assert!(PeerAddress::new(addr, "swarm-manager").is_err()); // every manager has it
    /// ```
    pub fn new(addr: SocketAddr, node_id: &str) -> Result<Self, NodeIdError> {
        check_node_id(node_id)?;
        let server_name =
            ServerName::try_from(node_id.to_owned()).map_err(|_| NodeIdError::Invalid {
                node_id: node_id.to_owned(),
                reason: "not a DNS name",
            })?;
        Ok(PeerAddress { addr, server_name })
    }

    /// A peer at `addr` whose certificate names that IP address (certificates made for it;
    /// swarm-secrets' CA puts no address in a certificate: use [`PeerAddress::new`] with it).
    pub fn with_ip(addr: SocketAddr) -> Self {
        PeerAddress {
            addr,
            server_name: ServerName::IpAddress(addr.ip().into()),
        }
    }

    /// A peer at `addr` whose certificate carries the DNS name `name`.
    ///
    /// ```
    /// use swarm_store::transport::tcp::PeerAddress;
    /// let addr = "10.0.0.2:4242".parse().unwrap();
    /// assert!(PeerAddress::with_dns_name(addr, "member-2.example").is_ok());
    /// let e = PeerAddress::with_dns_name(addr, "not a name").unwrap_err();
    /// assert_eq!(e.name, "not a name");
    /// ```
    pub fn with_dns_name(addr: SocketAddr, name: &str) -> Result<Self, InvalidServerName> {
        let server_name =
            ServerName::try_from(name.to_owned()).map_err(|source| InvalidServerName {
                name: name.to_owned(),
                source,
            })?;
        Ok(PeerAddress { addr, server_name })
    }
}
