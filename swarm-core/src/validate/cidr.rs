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

    /// The subnet of `prefix` bits holding `addr`, or `None` when `prefix` is longer than the
    /// address.
    pub(crate) fn new(addr: IpAddr, prefix: u8) -> Option<Cidr> {
        (prefix <= bits(addr)).then_some(Cidr { addr, prefix })
    }

    /// The prefix length.
    pub(crate) fn prefix(&self) -> u8 {
        self.prefix
    }

    /// How many addresses the subnet holds (`u128::MAX` for the whole IPv6 space, one short).
    pub(crate) fn size(&self) -> u128 {
        let host_bits = u32::from(bits(self.addr) - self.prefix);
        1u128.checked_shl(host_bits).unwrap_or(u128::MAX)
    }

    /// The address `offset` places after the subnet's first address (its host bits cleared),
    /// `None` past the subnet's end.
    pub(crate) fn addr_at(&self, offset: u128) -> Option<IpAddr> {
        if offset >= self.size() {
            return None;
        }
        let width = bits(self.addr);
        let first = to_u128(self.addr) & mask(self.prefix, width);
        let value = first.checked_add(offset)?;
        Some(match self.addr {
            IpAddr::V4(_) => IpAddr::V4(u32::try_from(value).ok()?.into()),
            IpAddr::V6(_) => IpAddr::V6(value.into()),
        })
    }

    /// Whether the subnet is IPv4 (it has a broadcast address).
    pub(crate) fn is_ipv4(&self) -> bool {
        self.addr.is_ipv4()
    }
}

impl std::fmt::Display for Cidr {
    /// The subnet's first address and prefix length: `10.0.1.0/24`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.addr_at(0) {
            Some(first) => write!(f, "{first}/{}", self.prefix),
            None => write!(f, "{}/{}", self.addr, self.prefix),
        }
    }
}

fn to_u128(addr: IpAddr) -> u128 {
    match addr {
        IpAddr::V4(a) => u128::from(u32::from(a)),
        IpAddr::V6(a) => u128::from(a),
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
