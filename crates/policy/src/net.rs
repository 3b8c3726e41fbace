//! Address prefixes (`10.1.0.0/16`, `fd00::/8`, a lone address).
use std::net::IpAddr;

/// An address prefix, kept as the masked address and its length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Network {
    pub addr: IpAddr,
    pub len: u8,
}

fn bits(ip: IpAddr) -> (u128, u8) {
    match ip {
        IpAddr::V4(v4) => (u128::from(u32::from(v4)), 32),
        IpAddr::V6(v6) => (u128::from(v6), 128),
    }
}

fn mask(len: u8, width: u8) -> u128 {
    if len == 0 {
        0
    } else {
        let all = if width == 32 { u128::from(u32::MAX) } else { u128::MAX };
        all & !((1u128 << (width - len)) - 1)
    }
}

/// `ip`'s first `len` bits, and whether it is IPv6: the key of a prefix table.
pub(crate) fn prefix_key(ip: IpAddr, len: u8) -> Option<(bool, u128)> {
    let (value, width) = bits(ip);
    (len <= width).then(|| (width == 128, value & mask(len, width)))
}

impl Network {
    /// Parses `ADDR/LEN` or `ADDR`; host bits must be zero (a typo otherwise).
    pub fn parse(text: &str) -> Result<Network, String> {
        let (addr, len) = match text.split_once('/') {
            Some((a, l)) => (a, Some(l)),
            None => (text, None),
        };
        let addr: IpAddr = addr.trim().parse().map_err(|_| format!("{text:?} is not an address or prefix (10.1.0.0/16, fd00::/8)"))?;
        let width = if addr.is_ipv4() { 32 } else { 128 };
        let len = match len {
            Some(l) => {
                l.trim().parse::<u8>().ok().filter(|&l| l <= width).ok_or_else(|| format!("{text:?}: prefix length must be 0-{width}"))?
            }
            None => width,
        };
        let (value, _) = bits(addr);
        if value & !mask(len, width) != 0 {
            return Err(format!("{text:?} has host bits set (did you mean {}/{len}?)", Network::masked(addr, len).addr));
        }
        Ok(Network { addr, len })
    }

    fn masked(addr: IpAddr, len: u8) -> Network {
        let (value, width) = bits(addr);
        let v = value & mask(len, width);
        let addr = if width == 32 {
            IpAddr::V4(std::net::Ipv4Addr::from(u32::try_from(v).unwrap_or(0)))
        } else {
            IpAddr::V6(std::net::Ipv6Addr::from(v))
        };
        Network { addr, len }
    }

    /// Family (IPv6?), first and last address as numbers.
    pub(crate) fn range(&self) -> (bool, u128, u128) {
        let (value, width) = bits(self.addr);
        let m = mask(self.len, width);
        let all = if width == 32 { u128::from(u32::MAX) } else { u128::MAX };
        (width == 128, value & m, (value & m) | (all & !m))
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let (net, width) = bits(self.addr);
        let (value, w) = bits(ip);
        w == width && value & mask(self.len, width) == net
    }

    /// Whether the two prefixes share an address.
    pub fn overlaps(&self, other: &Network) -> bool {
        let shorter = if self.len <= other.len { self } else { other };
        let longer = if self.len <= other.len { other } else { self };
        shorter.contains(longer.addr)
    }
}

impl std::fmt::Display for Network {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.addr, self.len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_parse_contain_and_overlap() {
        let n = Network::parse("10.1.0.0/16").unwrap();
        assert!(n.contains("10.1.200.3".parse().unwrap()) && !n.contains("10.2.0.1".parse().unwrap()));
        assert!(!n.contains("::1".parse().unwrap()));
        let host = Network::parse("10.1.2.3").unwrap();
        assert_eq!(host.len, 32);
        assert!(n.overlaps(&host) && host.overlaps(&n));
        assert!(!n.overlaps(&Network::parse("10.2.0.0/16").unwrap()));
        assert!(Network::parse("0.0.0.0/0").unwrap().contains("8.8.8.8".parse().unwrap()));
        assert!(Network::parse("fd00::/8").unwrap().contains("fd12::1".parse().unwrap()));
        assert!(Network::parse("10.1.0.1/16").unwrap_err().contains("did you mean 10.1.0.0/16"));
        assert!(Network::parse("10.1.0.0/33").is_err());
        assert!(Network::parse("plant").is_err());
    }
}
