//! An IPv4 address with its subnet's prefix length (`10.0.1.5/24`), as the allocator writes a
//! task's address on a network.

use std::fmt;
use std::net::Ipv4Addr;

/// Longest prefix a bridge network can use: a /31 or /32 leaves no address for both a gateway
/// and a task.
pub(crate) const MAX_BRIDGE_PREFIX_LEN: u8 = 30;

/// An IPv4 address and the prefix length of its subnet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Ipv4Cidr {
    address: Ipv4Addr,
    prefix_len: u8,
}

impl Ipv4Cidr {
    /// Parses `a.b.c.d/n` (`n` from 0 to 32). The reason of an error is a sentence for
    /// [`DockerError::InvalidSpec`](crate::DockerError::InvalidSpec).
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        let not_cidr = || format!("{text:?} is not an IPv4 address in CIDR form (10.0.1.5/24)");
        let (addr, len) = text.split_once('/').ok_or_else(not_cidr)?;
        if addr.parse::<std::net::Ipv6Addr>().is_ok() {
            return Err(format!(
                "{text:?} is an IPv6 address: this adapter gives tasks IPv4 addresses only"
            ));
        }
        let address: Ipv4Addr = addr.parse().map_err(|_| not_cidr())?;
        // `u8::from_str` accepts a leading `+`; a prefix length is digits only.
        if len.is_empty() || !len.bytes().all(|b| b.is_ascii_digit()) {
            return Err(not_cidr());
        }
        let prefix_len: u8 = len.parse().map_err(|_| not_cidr())?;
        if prefix_len > 32 {
            return Err(format!("{text:?}: prefix length {prefix_len} exceeds 32"));
        }
        Ok(Ipv4Cidr {
            address,
            prefix_len,
        })
    }

    /// The address.
    pub(crate) fn address(&self) -> Ipv4Addr {
        self.address
    }

    /// The prefix length.
    pub(crate) fn prefix_len(&self) -> u8 {
        self.prefix_len
    }

    fn mask(&self) -> u32 {
        // `checked_shl` is `None` for a shift by 32 (prefix 0): no network bits.
        u32::MAX
            .checked_shl(32 - u32::from(self.prefix_len))
            .unwrap_or(0)
    }

    /// The subnet's network address (host bits cleared).
    pub(crate) fn network(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.address) & self.mask())
    }

    /// The subnet's broadcast address (host bits set).
    pub(crate) fn broadcast(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.address) | !self.mask())
    }

    /// The subnet itself: the network address with the prefix length.
    pub(crate) fn subnet(&self) -> Ipv4Cidr {
        Ipv4Cidr {
            address: self.network(),
            prefix_len: self.prefix_len,
        }
    }

    /// The first host address of the subnet (network address + 1). Meaningful for prefixes up
    /// to [`MAX_BRIDGE_PREFIX_LEN`].
    pub(crate) fn first_host(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.network()).saturating_add(1))
    }

    /// The last host address of the subnet (broadcast address - 1). Meaningful for prefixes up
    /// to [`MAX_BRIDGE_PREFIX_LEN`].
    pub(crate) fn last_host(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.broadcast()).saturating_sub(1))
    }
}

impl fmt::Display for Ipv4Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.address, self.prefix_len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subnet_gateway_and_bounds() {
        let c = Ipv4Cidr::parse("10.0.1.5/24").unwrap();
        assert_eq!(c.address(), Ipv4Addr::new(10, 0, 1, 5));
        assert_eq!(c.subnet().to_string(), "10.0.1.0/24");
        assert_eq!(c.first_host(), Ipv4Addr::new(10, 0, 1, 1));
        assert_eq!(c.last_host(), Ipv4Addr::new(10, 0, 1, 254));
        assert_eq!(c.broadcast(), Ipv4Addr::new(10, 0, 1, 255));
        let c = Ipv4Cidr::parse("172.20.77.130/20").unwrap();
        assert_eq!(c.subnet().to_string(), "172.20.64.0/20");
        assert_eq!(c.broadcast(), Ipv4Addr::new(172, 20, 79, 255));
        let c = Ipv4Cidr::parse("1.2.3.4/0").unwrap();
        assert_eq!(c.subnet().to_string(), "0.0.0.0/0");
        let c = Ipv4Cidr::parse("1.2.3.4/32").unwrap();
        assert_eq!(c.subnet().to_string(), "1.2.3.4/32");
    }

    #[test]
    fn malformed_addresses_are_refused() {
        for bad in [
            "10.0.1.5",
            "10.0.1/24",
            "10.0.1.5/",
            "10.0.1.5/+8",
            "10.0.1.5/33",
            "10.0.1.256/24",
            "web/24",
            "",
        ] {
            assert!(Ipv4Cidr::parse(bad).is_err(), "{bad:?} accepted");
        }
        let e = Ipv4Cidr::parse("fd00::5/64").unwrap_err();
        assert!(e.contains("IPv6"), "{e}");
    }
}
