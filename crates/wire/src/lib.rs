//! L2-L4 decoding into borrowed packet views.
//!
//! etherparse's lax slicing does the header work; this crate adds the link types of
//! capture files, tunnel peeling (GRE, ERSPAN II/III, VXLAN), checksum checks that count
//! instead of drop, IPv4 defragmentation under a memory cap, and a [`DecodeStop`] that
//! says where and why decoding ended.
#![forbid(unsafe_code)]
#![deny(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic))]

mod checksum;
mod decode;
mod defrag;
mod fast;
mod tunnel;

pub use decode::{decode, decode_general, decode_into, decode_transport};
pub use fast::ipv4_pair;

pub use defrag::{DefragConfig, DefragEvent, DefragStats, Defragmenter, Inserted};

use otsentry_core::{IpProto, Layer};
use std::fmt;
use std::net::IpAddr;

/// Link types this crate decodes (LINKTYPE_* values of pcap and pcapng).
pub mod linktype {
    pub const NULL: u32 = 0;
    pub const ETHERNET: u32 = 1;
    pub const RAW_12: u32 = 12;
    pub const RAW_14: u32 = 14;
    pub const RAW: u32 = 101;
    pub const LOOP: u32 = 108;
    pub const LINUX_SLL: u32 = 113;
    pub const IPV4: u32 = 228;
    pub const IPV6: u32 = 229;
    pub const LINUX_SLL2: u32 = 276;
}

/// Most tunnel layers peeled from one frame; deeper nesting is an anomaly.
pub const MAX_TUNNEL_DEPTH: u8 = 3;

/// The tunnel a packet arrived in (the outermost one, when nested).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TunnelKind {
    Gre,
    ErspanI,
    ErspanII,
    ErspanIII,
    Vxlan,
}

/// IP layer of the innermost packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpInfo<'a> {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub proto: IpProto,
    pub ttl: u8,
    /// Offset of the IP header in the frame.
    pub offset: usize,
    /// Set when this packet is one fragment of a larger datagram.
    pub fragment: Option<Fragment>,
    /// The IP payload (for a fragment, this fragment's part).
    pub payload: &'a [u8],
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fragment {
    pub id: u32,
    /// Byte offset of this fragment in the datagram's payload.
    pub offset: u32,
    pub more: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TcpInfo<'a> {
    pub src_port: u16,
    pub dst_port: u16,
    pub seq: u32,
    pub ack: u32,
    /// FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10, URG 0x20, ECE 0x40, CWR 0x80.
    pub flags: u8,
    pub window: u16,
    pub payload: &'a [u8],
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UdpInfo<'a> {
    pub src_port: u16,
    pub dst_port: u16,
    pub payload: &'a [u8],
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport<'a> {
    None,
    Tcp(TcpInfo<'a>),
    Udp(UdpInfo<'a>),
    Icmp,
    /// Another IP protocol; the payload is in [`IpInfo::payload`].
    Other,
}

/// An ARP packet over Ethernet for IPv4 (the only kind that binds an IP to a MAC).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArpInfo {
    /// 1 request, 2 reply (other values kept).
    pub operation: u16,
    pub sender_mac: [u8; 6],
    pub sender_ip: std::net::Ipv4Addr,
    pub target_mac: [u8; 6],
    pub target_ip: std::net::Ipv4Addr,
}

/// Which checksums were found wrong. Counted, never a reason to drop.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ChecksumErrors {
    pub ipv4: bool,
    pub tcp: bool,
    pub udp: bool,
}

/// A decoded frame, borrowing the capture buffer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Packet<'a> {
    /// VLAN ids, outermost first (up to three).
    pub vlan: [u16; 3],
    pub vlan_count: u8,
    pub tunnel: Option<TunnelKind>,
    pub tunnel_depth: u8,
    pub ip: Option<IpInfo<'a>>,
    pub transport: Transport<'a>,
    pub checksum: ChecksumErrors,
    /// The frame is shorter than it was on the wire (capture snap length).
    pub snaplen_cut: bool,
    /// Where and why decoding stopped early, if it did.
    pub stop: Option<DecodeStop>,
    /// Set for an Ethernet/IPv4 ARP packet.
    pub arp: Option<ArpInfo>,
    /// The Ethernet addresses (of the innermost Ethernet frame, as with VLAN tags).
    pub macs: Option<Macs>,
}

/// An Ethernet frame's source and destination MACs, each as a 48-bit number (the
/// first octet highest): compared on every TCP packet by the engine's watches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Macs {
    pub src: u64,
    pub dst: u64,
}

impl Macs {
    pub fn from_bytes(src: [u8; 6], dst: [u8; 6]) -> Macs {
        Macs { src: mac_word(src), dst: mac_word(dst) }
    }
}

/// A MAC's six octets as a 48-bit number.
#[inline]
pub fn mac_word([a, b, c, d, e, f]: [u8; 6]) -> u64 {
    u64::from_be_bytes([0, 0, a, b, c, d, e, f])
}

/// A 48-bit number's six octets.
pub fn mac_bytes(word: u64) -> [u8; 6] {
    let [_, _, a, b, c, d, e, f] = word.to_be_bytes();
    [a, b, c, d, e, f]
}

impl Packet<'_> {
    pub fn vlans(&self) -> &[u16] {
        self.vlan.get(..usize::from(self.vlan_count)).unwrap_or_default()
    }

    /// A packet with nothing decoded yet.
    pub fn empty() -> Self {
        Packet {
            vlan: [0; 3],
            vlan_count: 0,
            tunnel: None,
            tunnel_depth: 0,
            ip: None,
            transport: Transport::None,
            checksum: ChecksumErrors::default(),
            snaplen_cut: false,
            stop: None,
            arp: None,
            macs: None,
        }
    }
}

/// Where decoding ended early, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeStop {
    pub layer: Layer,
    /// Byte offset in the frame where the failing layer starts.
    pub offset: usize,
    pub kind: StopKind,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StopKind {
    /// A header or payload needs more bytes than the frame has.
    Truncated {
        required: usize,
        available: usize,
    },
    /// A header field holds an impossible value (etherparse's description).
    Malformed(etherparse::err::packet::SliceError),
    /// The IP header's length says more bytes follow than were captured on the wire.
    IpLengthExceedsFrame {
        ip_len: usize,
        available: usize,
    },
    /// A GRE or ERSPAN header we cannot decode.
    BadTunnel(&'static str),
    TooManyTunnels,
    /// The link-layer header is shorter than its fixed size.
    ShortLinkHeader {
        required: usize,
        available: usize,
    },
    /// A frame of a link type this decoder does not know.
    UnsupportedLinkType(u32),
}

impl DecodeStop {
    /// Suricata-style event name.
    pub fn event(&self) -> &'static str {
        use Layer::*;
        match (&self.kind, self.layer) {
            (StopKind::TooManyTunnels, _) => "decoder.tunnel.too_deep",
            (StopKind::BadTunnel(_), _) => "decoder.tunnel.malformed",
            (StopKind::UnsupportedLinkType(_), _) => "decoder.link.unsupported",
            (StopKind::ShortLinkHeader { .. }, _) | (_, Link) => "decoder.link.pkt_too_small",
            (_, Vlan) => "decoder.vlan.header_too_small",
            (StopKind::Malformed(_), Ipv4) => "decoder.ipv4.malformed",
            (StopKind::Malformed(_), Ipv6) => "decoder.ipv6.malformed",
            (_, Ipv4) => "decoder.ipv4.trunc_pkt",
            (_, Ipv6) => "decoder.ipv6.trunc_pkt",
            (StopKind::Malformed(_), Tcp) => "decoder.tcp.invalid_header",
            (_, Tcp) => "decoder.tcp.pkt_too_small",
            (_, Udp) => "decoder.udp.pkt_too_small",
            (_, Icmp) => "decoder.icmp.pkt_too_small",
            (_, Tunnel) => "decoder.tunnel.malformed",
            _ => "decoder.malformed",
        }
    }
}

impl fmt::Display for StopKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StopKind::Truncated { required, available } => write!(f, "needs {required} bytes, {available} present"),
            StopKind::Malformed(e) => write!(f, "{e}"),
            StopKind::IpLengthExceedsFrame { ip_len, available } => {
                write!(f, "IP length says {ip_len} bytes, frame holds {available}")
            }
            StopKind::BadTunnel(why) => write!(f, "{why}"),
            StopKind::TooManyTunnels => write!(f, "more than {MAX_TUNNEL_DEPTH} nested tunnels"),
            StopKind::ShortLinkHeader { required, available } => {
                write!(f, "link header needs {required} bytes, {available} present")
            }
            StopKind::UnsupportedLinkType(lt) => write!(f, "link type {lt} is not decoded"),
        }
    }
}

/// Decoding options.
#[derive(Clone, Copy, Debug)]
pub struct DecodeOptions {
    /// Verify IPv4, TCP and UDP checksums (counted in [`ChecksumErrors`]).
    pub verify_checksums: bool,
    /// UDP destination port that carries VXLAN.
    pub vxlan_port: u16,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        DecodeOptions { verify_checksums: true, vxlan_port: 4789 }
    }
}
