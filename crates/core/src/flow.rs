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
    pub fn reverse(self) -> Self {
        match self {
            Direction::ToServer => Direction::ToClient,
            Direction::ToClient => Direction::ToServer,
        }
    }
}

/// A conversation's canonical key: both directions of a 5-tuple (plus VLAN) map to the
/// same key, `lo` being the smaller endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FlowKey {
    pub proto: IpProto,
    pub lo: SocketAddr,
    pub hi: SocketAddr,
    pub vlan: u16,
}

impl FlowKey {
    /// The key of a packet from `src` to `dst`, and whether `src` is the `lo` side.
    pub fn new(proto: IpProto, src: SocketAddr, dst: SocketAddr, vlan: u16) -> (FlowKey, bool) {
        if src <= dst {
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
        assert_ne!(k1, k3, "VLAN separates flows");
    }
}
