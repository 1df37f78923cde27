//! A network's subnets: the ones its spec names, or one carved from the cluster's address pool.

use crate::model::{IpamConfig, NetworkSpec};
use crate::validate::cidr::Cidr;
use std::net::{IpAddr, Ipv4Addr};

/// The pool networks without a subnet of their own take one from (Docker's default address
/// pool; the cluster object has no pool setting yet).
pub const DEFAULT_ADDRESS_POOL: (Ipv4Addr, u8) = (Ipv4Addr::new(10, 0, 0, 0), 8);

/// The prefix length of each subnet carved from [`DEFAULT_ADDRESS_POOL`]: /24, 254 addresses
/// each, 65,536 of them. Finding a free one looks at most at every one of them, against every
/// subnet in use.
pub const DEFAULT_SUBNET_PREFIX: u8 = 24;

/// The subnets (with their gateways) `spec` gets: its own IPAM configs, each with a gateway
/// (the subnet's first address after its own when unset), or, when it names none, the first
/// /[`DEFAULT_SUBNET_PREFIX`] of [`DEFAULT_ADDRESS_POOL`] that overlaps no subnet of `taken`
/// (the subnets of the other networks). `Err` says why there is none (the pool is used up, or
/// a stored subnet does not parse).
///
/// ```
/// use swarm_core::manager::allocator::network_ipam;
/// use swarm_core::model::NetworkSpec;
///
/// let taken = vec!["10.0.0.0/24".to_owned()];
/// let ipam = network_ipam(&NetworkSpec::new("nd-net"), &taken).unwrap();
/// assert_eq!(ipam[0].subnet, "10.0.1.0/24");
/// assert_eq!(ipam[0].gateway.as_deref(), Some("10.0.1.1"));
/// ```
pub fn network_ipam(spec: &NetworkSpec, taken: &[String]) -> Result<Vec<IpamConfig>, String> {
    if !spec.ipam.configs.is_empty() {
        return spec
            .ipam
            .configs
            .iter()
            .map(|config| {
                let subnet = Cidr::parse(&config.subnet)
                    .ok_or_else(|| format!("subnet {:?} is not a subnet", config.subnet))?;
                Ok(IpamConfig {
                    subnet: config.subnet.clone(),
                    range: config.range.clone(),
                    gateway: match &config.gateway {
                        Some(g) => Some(g.clone()),
                        None => Some(first_host(&subnet)?.to_string()),
                    },
                })
            })
            .collect();
    }
    let taken: Vec<Cidr> = taken.iter().filter_map(|s| Cidr::parse(s)).collect();
    let (pool_addr, pool_prefix) = DEFAULT_ADDRESS_POOL;
    let exhausted = || {
        format!(
            "the address pool {pool_addr}/{pool_prefix} has no free /{DEFAULT_SUBNET_PREFIX} subnet"
        )
    };
    let pool = Cidr::new(IpAddr::V4(pool_addr), pool_prefix).ok_or_else(exhausted)?;
    let count = 1u128 << (DEFAULT_SUBNET_PREFIX - pool_prefix);
    let step = 1u128 << (32 - DEFAULT_SUBNET_PREFIX);
    for i in 0..count {
        let Some(first) = pool.addr_at(i * step) else {
            break;
        };
        let Some(candidate) = Cidr::new(first, DEFAULT_SUBNET_PREFIX) else {
            break;
        };
        if taken.iter().all(|t| !t.overlaps(&candidate)) {
            return Ok(vec![IpamConfig {
                subnet: candidate.to_string(),
                range: None,
                gateway: Some(first_host(&candidate)?.to_string()),
            }]);
        }
    }
    Err(exhausted())
}

/// The subnets `configs` hold, as text (for the `taken` list of [`network_ipam`]).
pub(crate) fn subnets_of(configs: &[IpamConfig]) -> impl Iterator<Item = String> + '_ {
    configs.iter().map(|c| c.subnet.clone())
}

fn first_host(subnet: &Cidr) -> Result<IpAddr, String> {
    subnet
        .addr_at(1)
        .ok_or_else(|| format!("subnet {subnet} has no address for a gateway"))
}
