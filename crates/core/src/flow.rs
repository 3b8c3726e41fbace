use std::net::SocketAddr;

/// IP protocol number, kept open: a monitor must see every value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IpProto(pub u8);

impl IpProto {
    pub const ICMP: IpProto = IpProto(1);
    pub const TCP: IpProto = IpProto(6);
    pub const UDP: IpProto = IpProto(17);
    pub const GRE: IpProto = IpProto(47);
    pub const ICMPV6: IpProto = IpProto(58);
    pub const SCTP: IpProto = IpProto(132);

    /// The name Suricata writes in EVE's `proto` field; other numbers print as digits.
    pub fn eve_name(self) -> Option<&'static str> {
        Some(match self.0 {
            1 => "ICMP",
            2 => "IGMP",
            6 => "TCP",
            17 => "UDP",
            47 => "GRE",
            58 => "IPv6-ICMP",
            132 => "SCTP",
            _ => return None,
        })
    }
}

/// Which way a packet travels within its conversation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    ToServer,
    ToClient,
}

impl Direction {
    /// Index in per-direction arrays: 0 to the server, 1 to the client.
    pub fn index(self) -> usize {
        match self {
            Direction::ToServer => 0,
            Direction::ToClient => 1,
        }
    }

    pub fn reverse(self) -> Self {
        match self {
            Direction::ToServer => Direction::ToClient,
            Direction::ToClient => Direction::ToServer,
        }
    }
}

/// A conversation's canonical key: both directions of a 5-tuple (plus VLAN) map to the
/// same key, `lo` being the smaller endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct FlowKey {
    pub proto: IpProto,
    pub lo: SocketAddr,
    pub hi: SocketAddr,
    pub vlan: u16,
}

/// Hashes the key as one machine word, mixed from its parts (the derived form feeds
/// each field of each socket address to the hasher separately; this runs per packet).
/// The table's hasher is seeded, so the word's own collisions are not predictable.
impl std::hash::Hash for FlowKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        fn mix(x: u64) -> u64 {
            (x ^ (x >> 29)).wrapping_mul(0xBF58_476D_1CE4_E5B9)
        }
        let mut h =
            u64::from(self.proto.0) << 48 | u64::from(self.vlan) << 32 | u64::from(self.lo.port()) << 16 | u64::from(self.hi.port());
        for addr in [self.lo, self.hi] {
            match addr {
                SocketAddr::V4(a) => h = mix(h ^ u64::from(a.ip().to_bits())),
                SocketAddr::V6(a) => {
                    let bits = a.ip().to_bits();
                    h = mix(mix(h ^ bits as u64) ^ (bits >> 64) as u64);
                }
            }
        }
        state.write_u64(h);
    }
}

impl FlowKey {
    /// The key of a packet from `src` to `dst`, and whether `src` is the `lo` side.
    #[inline]
    pub fn new(proto: IpProto, src: SocketAddr, dst: SocketAddr, vlan: u16) -> (FlowKey, bool) {
        // The same order as `SocketAddr`'s, computed from integers for IPv4 (per packet).
        let src_first = match (src, dst) {
            (SocketAddr::V4(s), SocketAddr::V4(d)) => (s.ip().to_bits(), s.port()) <= (d.ip().to_bits(), d.port()),
            _ => src <= dst,
        };
        if src_first {
            (FlowKey { proto, lo: src, hi: dst, vlan }, true)
        } else {
            (FlowKey { proto, lo: dst, hi: src, vlan }, false)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_directions_share_a_key() {
        let a: SocketAddr = "10.0.0.2:502".parse().unwrap();
        let b: SocketAddr = "10.0.0.1:40000".parse().unwrap();
        let (k1, lo1) = FlowKey::new(IpProto::TCP, a, b, 7);
        let (k2, lo2) = FlowKey::new(IpProto::TCP, b, a, 7);
        assert_eq!(k1, k2);
        assert_ne!(lo1, lo2);
        assert_eq!(k1.lo, b);
        let (k3, _) = FlowKey::new(IpProto::TCP, a, b, 8);
        // The integer order agrees with SocketAddr's.
        let c: SocketAddr = "10.0.0.1:502".parse().unwrap();
        assert_eq!(FlowKey::new(IpProto::TCP, c, b, 0).0.lo, c.min(b));
        assert_eq!(FlowKey::new(IpProto::TCP, a, c, 0).0.lo, a.min(c));
        assert_ne!(k1, k3, "VLAN separates flows");
    }
}
