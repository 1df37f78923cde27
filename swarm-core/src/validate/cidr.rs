//! IPv4 and IPv6 subnets in CIDR notation, without a crate.

use std::net::IpAddr;

/// A parsed `address/prefix`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Parses `10.0.0.0/24` or `fd00::/64`; host bits may be set (as Go's `ParseCIDR`).
    pub(crate) fn parse(text: &str) -> Option<Cidr> {
        let (addr, prefix) = text.split_once('/')?;
        let addr: IpAddr = addr.parse().ok()?;
        if prefix.is_empty() || !prefix.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let prefix: u8 = prefix.parse().ok()?;
        if prefix > bits(addr) {
            return None;
        }
        Some(Cidr { addr, prefix })
    }

    /// Whether `ip` is inside this subnet.
    pub(crate) fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = mask(self.prefix, 32);
                (u128::from(u32::from(net)) & mask) == (u128::from(u32::from(ip)) & mask)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = mask(self.prefix, 128);
                (u128::from(net) & mask) == (u128::from(ip) & mask)
            }
            _ => false,
        }
    }

    /// Whether every address of `other` is inside this subnet.
    pub(crate) fn contains_subnet(&self, other: &Cidr) -> bool {
        other.prefix >= self.prefix && self.contains(other.addr)
    }

    /// Whether the two subnets share an address.
    pub(crate) fn overlaps(&self, other: &Cidr) -> bool {
        self.contains_subnet(other) || other.contains_subnet(self)
    }
}

fn bits(addr: IpAddr) -> u8 {
    match addr {
        IpAddr::V4(_) => 32,
        IpAddr::V6(_) => 128,
    }
}

/// The mask of the first `prefix` bits of a `width`-bit address, in the low bits of a u128.
fn mask(prefix: u8, width: u8) -> u128 {
    if prefix == 0 {
        return 0;
    }
    let all: u128 = u128::MAX >> (128 - u32::from(width));
    let host_bits = u32::from(width - prefix);
    (all >> host_bits) << host_bits
}
