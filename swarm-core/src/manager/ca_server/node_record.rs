//! What joining and init share: the advertised address rule, the certificate issue and the
//! new node record.

use crate::model::{
    ManagerStatus, Meta, Node, NodeAvailability, NodeDescription, NodeId, NodeMembership, NodeRole,
    NodeSpec, NodeState, NodeStatus, Reachability, Version,
};
use crate::validate::is_dns_name;
use std::time::{Duration, SystemTime};
use swarm_secrets::limits::CERT_BACKDATE;
use swarm_secrets::{CaDigest, ClusterCa, IssuedCertificate, SecretsError};

/// Longest advertised address: a 253-character DNS name or a bracketed IPv6 address, a colon
/// and a 5-digit port.
pub const MAX_ADVERTISE_ADDR_CHARS: usize = 253 + 1 + 5;

/// Checks a `host:port` address: a non-empty host (a DNS name, an IPv4 address or a bracketed
/// IPv6 address) and a port from 1 to 65535. Returns why not.
pub(crate) fn check_advertise_addr(addr: &str) -> Result<(), String> {
    if addr.len() > MAX_ADVERTISE_ADDR_CHARS {
        return Err(format!(
            "{} characters is above the maximum of {MAX_ADVERTISE_ADDR_CHARS}",
            addr.len()
        ));
    }
    let (host, port) = addr
        .rsplit_once(':')
        .ok_or_else(|| format!("{addr:?} is not host:port"))?;
    match port.parse::<u16>() {
        Ok(p) if p > 0 => {}
        _ => return Err(format!("{addr:?} has no port from 1 to 65535")),
    }
    let host_ok = match host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        Some(v6) => v6.parse::<std::net::Ipv6Addr>().is_ok(),
        None => !host.is_empty() && is_dns_name(host),
    };
    if host_ok {
        Ok(())
    } else {
        Err(format!("{addr:?} has no valid host"))
    }
}

/// Issues a certificate for `node` with `role` from a CSR, valid from `now` minus the
/// clock-skew backdate for `validity`: the validity comes from the cluster object, the time
/// from the caller. The caller has authorised the request (a join token checked, or the
/// node's own certificate and its record for a renewal).
pub(crate) fn issue_node_certificate(
    ca: &ClusterCa,
    csr_der: &[u8],
    node: &NodeId,
    role: NodeRole,
    validity: Duration,
    now: SystemTime,
) -> Result<IssuedCertificate, SecretsError> {
    let cert_id = swarm_secrets::NodeId::try_from(node)?;
    let not_before = now
        .checked_sub(CERT_BACKDATE)
        .ok_or_else(|| SecretsError::InvalidInput {
            field: "now",
            reason: "before the clock-skew backdate after 1970".to_owned(),
        })?;
    let not_after = now
        .checked_add(validity)
        .ok_or_else(|| SecretsError::InvalidInput {
            field: "now",
            reason: "past the clock's range".to_owned(),
        })?;
    ca.issue_with_validity(csr_der, &cert_id, role.into(), not_before, not_after)
}

/// What a new node record needs.
pub(crate) struct NewNode<'a> {
    pub(crate) id: NodeId,
    pub(crate) role: NodeRole,
    pub(crate) availability: NodeAvailability,
    pub(crate) description: Option<NodeDescription>,
    pub(crate) advertise_addr: &'a str,
    pub(crate) observed_addr: &'a str,
    pub(crate) raft_id: Option<u64>,
    pub(crate) leader: bool,
    pub(crate) certificate_not_after: SystemTime,
    pub(crate) certificate_root: CaDigest,
}

/// The record of a node admitted at `now`: accepted, status unknown until its first heartbeat
/// (ready for the founding manager, which is its own first heartbeat), manager status for a
/// Raft member.
pub(crate) fn new_node_record(n: NewNode<'_>, now: SystemTime) -> Node {
    Node {
        id: n.id,
        meta: Meta::new(Version(0), now),
        spec: NodeSpec {
            name: String::new(),
            labels: Default::default(),
            role: n.role,
            availability: n.availability,
            membership: NodeMembership::Accepted,
        },
        description: n.description,
        status: NodeStatus {
            state: if n.leader {
                NodeState::Ready
            } else {
                NodeState::Unknown
            },
            message: String::new(),
            addr: n.observed_addr.to_owned(),
        },
        manager_status: n.raft_id.map(|raft_id| ManagerStatus {
            raft_id,
            leader: n.leader,
            reachability: if n.leader {
                Reachability::Reachable
            } else {
                Reachability::Unknown
            },
            addr: n.advertise_addr.to_owned(),
        }),
        advertise_addr: n.advertise_addr.to_owned(),
        certificate_not_after: Some(n.certificate_not_after),
        certificate_root: Some(n.certificate_root),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advertise_addresses_are_host_and_port() {
        for ok in [
            "10.0.0.1:2377",
            "manager-1.example:2377",
            "[::1]:2377",
            "localhost:1",
        ] {
            assert_eq!(check_advertise_addr(ok), Ok(()), "{ok}");
        }
        for (bad, why) in [
            ("", "not host:port"),
            ("10.0.0.1", "not host:port"),
            ("10.0.0.1:0", "no port"),
            ("10.0.0.1:70000", "no port"),
            ("10.0.0.1:x", "no port"),
            (":2377", "no valid host"),
            ("bad host:2377", "no valid host"),
            ("[not-v6]:2377", "no valid host"),
        ] {
            let e = check_advertise_addr(bad).unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
        let long = format!("{}:2377", "a".repeat(MAX_ADVERTISE_ADDR_CHARS));
        assert!(check_advertise_addr(&long).unwrap_err().contains("maximum"));
    }
}
