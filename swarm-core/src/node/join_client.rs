//! The joining node's side: download the root CA, check it against the token, then present
//! the token and a CSR (SwarmKit's `node/` join).

use crate::model::NodeDescription;
use crate::node::config::NodeConfig;
use crate::node::error::{NodeError, secrets};
use crate::node::manager_core::resolve;
use crate::node::network::{Link, LinkParts};
use crate::node::peers::{JOIN_TARGET, any_server_identifier, join_identifier};
use crate::node::wire::{JoinCall, NodeCall, NodeReply};
use std::sync::Arc;
use swarm_secrets::tls::ClusterTrust;
use swarm_secrets::{JoinToken, NodeKey, RevocationList, Role};
use swarm_store::transport::tcp::PeerAddress;

/// What a node gets for joining.
pub(crate) struct Admission {
    pub(crate) key: NodeKey,
    pub(crate) reply: NodeReply,
    pub(crate) trust: ClusterTrust,
}

/// A transport to the manager at `addr` for joining: over TCP named by the manager role (the
/// joining node does not know the manager's node id), in process by its address.
async fn join_link(
    config: &NodeConfig,
    advertise: &str,
    addr: &str,
    tls: Arc<rustls::ClientConfig>,
    identify: swarm_store::transport::tcp::PeerIdentifier,
) -> Result<Link, NodeError> {
    let link = config.network.link(LinkParts {
        local: JOIN_TARGET,
        tls: Some(tls),
        identify,
        tcp: &config.tcp,
        advertise,
    })?;
    match &link {
        Link::Tcp(t) => {
            let socket = resolve(addr).await.ok_or_else(|| NodeError::Config {
                field: "join address",
                reason: format!("{addr:?} does not resolve to an address"),
            })?;
            let name = Role::Manager.as_ou();
            let peer = PeerAddress::with_dns_name(socket, name).map_err(|e| NodeError::Config {
                field: "join address",
                reason: e.to_string(),
            })?;
            t.set_peer(JOIN_TARGET, peer);
        }
        #[cfg(feature = "testkit")]
        Link::InProc(l) => l.set_peer(JOIN_TARGET, addr),
    }
    Ok(link)
}

/// One call to the manager at `addr` over a transport made for joining.
async fn call_once(
    config: &NodeConfig,
    transport: &Link,
    addr: &str,
    call: &NodeCall,
) -> Result<NodeReply, NodeError> {
    transport
        .call_node(JOIN_TARGET, addr, call, config.tcp.call_timeout)
        .await
}

/// Joins through the manager at `addr` with `token`.
pub(crate) async fn join_cluster(
    config: &NodeConfig,
    addr: &str,
    token: &str,
    advertise_addr: &str,
    description: NodeDescription,
) -> Result<Admission, NodeError> {
    let refused = |reason: String| NodeError::JoinRefused {
        addr: addr.to_owned(),
        reason,
    };
    let parsed = JoinToken::parse(token).map_err(|e| refused(format!("the token: {e}")))?;

    // 1. The root CA, over TLS that checks nothing yet; trusted only if the token pins it.
    let fetch = join_link(
        config,
        advertise_addr,
        addr,
        swarm_secrets::tls::ca_fetch_client_config().map_err(secrets("the CA download"))?,
        any_server_identifier(),
    )
    .await?;
    let ca_cert_der = match call_once(config, &fetch, addr, &NodeCall::GetRootCa).await? {
        NodeReply::RootCa { cert_der } => cert_der,
        NodeReply::Refused(r) => return Err(refused(r.message)),
        other => return Err(refused(format!("unexpected answer {other:?}"))),
    };
    drop(fetch);
    let trust =
        ClusterTrust::for_join(&parsed, &ca_cert_der, RevocationList::new()).map_err(|e| {
            refused(format!(
                "the manager's root CA is not the one the token pins (another cluster, or a forged \
             manager): {e}"
            ))
        })?;

    // 2. The token and a CSR, to a manager the CA vouches for.
    let key = NodeKey::generate().map_err(secrets("a node key"))?;
    let csr_der = key.csr_der().map_err(secrets("a certificate request"))?;
    let transport = join_link(
        config,
        advertise_addr,
        addr,
        swarm_secrets::tls::join_client_config(&trust).map_err(secrets("the join connection"))?,
        join_identifier(trust.clone()),
    )
    .await?;
    let call = NodeCall::Join(JoinCall {
        token: token.to_owned(),
        csr_der,
        advertise_addr: advertise_addr.to_owned(),
        availability: config.availability,
        description: Some(description),
    });
    match call_once(config, &transport, addr, &call).await? {
        reply @ NodeReply::Joined { .. } => Ok(Admission { key, reply, trust }),
        NodeReply::Refused(r) => Err(refused(r.message)),
        other => Err(refused(format!("unexpected answer {other:?}"))),
    }
}
