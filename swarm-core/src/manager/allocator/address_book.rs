//! The addresses in use on each network, recomputed from the state at every call.

use crate::model::{IpamConfig, NetworkId};
use crate::validate::cidr::Cidr;
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

/// One subnet of a network: where addresses are handed out (the range, or the whole subnet).
#[derive(Clone, Debug)]
struct Pool {
    subnet: Cidr,
    range: Cidr,
}

/// The subnets of every allocated network and the addresses taken on them (gateways, virtual
/// IPs, the addresses of tasks that hold theirs).
#[derive(Clone, Debug, Default)]
pub(crate) struct AddressBook {
    pools: BTreeMap<NetworkId, Vec<Pool>>,
    used: BTreeMap<NetworkId, BTreeSet<IpAddr>>,
}

impl AddressBook {
    /// The networks' subnets, their gateways taken.
    pub(crate) fn new<'a>(
        networks: impl IntoIterator<Item = (&'a NetworkId, &'a Vec<IpamConfig>)>,
    ) -> AddressBook {
        let mut book = AddressBook::default();
        for (id, configs) in networks {
            let mut pools = Vec::new();
            for config in configs {
                let Some(subnet) = Cidr::parse(&config.subnet) else {
                    continue;
                };
                let range = config
                    .range
                    .as_deref()
                    .and_then(Cidr::parse)
                    .filter(|r| subnet.contains_subnet(r))
                    .unwrap_or(subnet);
                pools.push(Pool { subnet, range });
                if let Some(gateway) = config.gateway.as_deref().and_then(|g| g.parse().ok()) {
                    book.used.entry(id.clone()).or_default().insert(gateway);
                }
            }
            book.pools.insert(id.clone(), pools);
        }
        book
    }

    /// Whether the network has subnets.
    pub(crate) fn has_network(&self, network: &NetworkId) -> bool {
        self.pools.get(network).is_some_and(|p| !p.is_empty())
    }

    /// Marks `addr` (`10.0.1.5/24` or `10.0.1.5`) taken on `network`.
    pub(crate) fn take(&mut self, network: &NetworkId, addr: &str) {
        if let Some(ip) = parse_addr(addr) {
            self.used.entry(network.clone()).or_default().insert(ip);
        }
    }

    /// Frees `addr` on `network`.
    pub(crate) fn release(&mut self, network: &NetworkId, addr: &str) {
        if let (Some(ip), Some(used)) = (parse_addr(addr), self.used.get_mut(network)) {
            used.remove(&ip);
        }
    }

    /// Whether `addr` lies in one of the network's subnets.
    pub(crate) fn fits(&self, network: &NetworkId, addr: &str) -> bool {
        match (parse_addr(addr), self.pools.get(network)) {
            (Some(ip), Some(pools)) => pools.iter().any(|p| p.subnet.contains(ip)),
            _ => false,
        }
    }

    /// Takes the lowest free address of the network (not its subnet's own address, not an
    /// IPv4 broadcast address) and returns it with the subnet's prefix length (`10.0.1.2/24`);
    /// `None` when every address is taken. Looks at most at one address more than are taken,
    /// plus the two reserved ones, per subnet.
    pub(crate) fn claim(&mut self, network: &NetworkId) -> Option<String> {
        let pools = self.pools.get(network)?;
        let used = self.used.entry(network.clone()).or_default();
        for pool in pools {
            let subnet_first = pool.subnet.addr_at(0);
            let broadcast = pool
                .subnet
                .is_ipv4()
                .then(|| pool.subnet.addr_at(pool.subnet.size().saturating_sub(1)))
                .flatten();
            let mut offset: u128 = 0;
            while let Some(ip) = pool.range.addr_at(offset) {
                offset = offset.saturating_add(1);
                if Some(ip) == subnet_first || Some(ip) == broadcast || used.contains(&ip) {
                    continue;
                }
                used.insert(ip);
                return Some(format!("{ip}/{}", pool.subnet.prefix()));
            }
        }
        None
    }

    /// The network's subnets, for messages.
    pub(crate) fn subnets(&self, network: &NetworkId) -> String {
        self.pools
            .get(network)
            .map(|pools| {
                pools
                    .iter()
                    .map(|p| p.subnet.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default()
    }
}

/// The address of `10.0.1.5/24` or `10.0.1.5`.
pub(crate) fn parse_addr(addr: &str) -> Option<IpAddr> {
    addr.split_once('/').map_or(addr, |(ip, _)| ip).parse().ok()
}
