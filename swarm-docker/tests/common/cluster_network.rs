//! A cluster network for a test: a unique name and id and a /24 that no network of the engine
//! (nor another test of this process) uses, and the attachments its tasks get.

use bollard::Docker;
use std::collections::HashSet;
use std::net::Ipv4Addr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;
use swarm_core::model::NetworkAttachment;
use swarm_docker::local_network_name;

/// The test subnets are `10.<A>.<B>.0/24` with `A` from this value on.
const FIRST_SECOND_OCTET: u32 = 160;
/// How many values of `A` the tests use (`10.160.0.0` to `10.223.255.255`).
const SECOND_OCTETS: u32 = 64;
/// Number of candidate /24 subnets.
const CANDIDATES: u32 = SECOND_OCTETS * 256;

/// A cluster network as the allocator would describe it to a task.
#[derive(Clone, Debug)]
pub struct ClusterNet {
    /// The cluster network's id.
    pub id: String,
    /// The cluster network's name.
    pub name: String,
    /// The first three octets of its /24.
    prefix: [u8; 3],
}

impl ClusterNet {
    /// A fresh network whose /24 overlaps no network of the engine and no other test network
    /// of this process (test processes of other runs start their search elsewhere).
    pub async fn free(docker: &Docker, what: &str) -> ClusterNet {
        static TAKEN: Mutex<Vec<[u8; 3]>> = Mutex::new(Vec::new());
        static N: AtomicU64 = AtomicU64::new(0);
        let used = engine_subnets(docker).await;
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let start = (std::process::id().wrapping_mul(7919) ^ nanos) % CANDIDATES;
        let mut taken = TAKEN.lock().unwrap_or_else(|p| p.into_inner());
        let prefix = (0..CANDIDATES)
            .map(|i| (start + i) % CANDIDATES)
            .map(|c| {
                let a = (FIRST_SECOND_OCTET + c / 256) as u8;
                [10, a, (c % 256) as u8]
            })
            .find(|p| {
                let net = u32::from(Ipv4Addr::new(p[0], p[1], p[2], 0));
                !taken.contains(p) && used.iter().all(|&(u, len)| !overlaps(net, 24, u, len))
            })
            .expect("a free /24 from 10.160.0.0 to 10.223.255.255 for the test network");
        taken.push(prefix);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let name = format!("t{what}-{}-{nanos:x}-{n}", std::process::id());
        ClusterNet {
            id: format!("netid-{name}"),
            name,
            prefix,
        }
    }

    /// The name of its local network on the engine.
    pub fn local_name(&self) -> String {
        local_network_name(&self.name)
    }

    /// The address `.host` of its subnet.
    pub fn ip(&self, host: u8) -> String {
        let [a, b, c] = self.prefix;
        format!("{a}.{b}.{c}.{host}")
    }

    /// Its subnet, `a.b.c.0/24`.
    pub fn subnet(&self) -> String {
        format!("{}/24", self.ip(0))
    }

    /// Another /24 (the next one): for a same-named network with another subnet.
    pub fn other_subnet(&self) -> String {
        let [a, b, c] = self.prefix;
        format!("{a}.{b}.{}.0/24", c.wrapping_add(1))
    }

    /// A task's attachment with the address `.host` and `aliases`.
    pub fn attach(&self, host: u8, aliases: &[&str]) -> NetworkAttachment {
        NetworkAttachment {
            network_id: self.id.as_str().into(),
            network_name: self.name.clone(),
            addresses: vec![format!("{}/24", self.ip(host))],
            aliases: aliases.iter().map(|a| (*a).to_owned()).collect(),
        }
    }
}

/// The IPv4 subnets of the engine's networks, as (network address, prefix length).
async fn engine_subnets(docker: &Docker) -> HashSet<(u32, u8)> {
    let networks = docker
        .list_networks(None::<bollard::query_parameters::ListNetworksOptions>)
        .await
        .expect("list networks");
    networks
        .into_iter()
        .filter_map(|n| n.ipam.and_then(|i| i.config))
        .flatten()
        .filter_map(|c| c.subnet)
        .filter_map(|s| {
            let (addr, len) = s.split_once('/')?;
            Some((u32::from(addr.parse::<Ipv4Addr>().ok()?), len.parse().ok()?))
        })
        .collect()
}

/// Whether two IPv4 subnets share an address.
fn overlaps(a: u32, a_len: u8, b: u32, b_len: u8) -> bool {
    let len = u32::from(a_len.min(b_len));
    let mask = u32::MAX.checked_shl(32 - len).unwrap_or(0);
    a & mask == b & mask
}
