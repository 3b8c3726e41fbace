//! Packet layers, built byte by byte with correct lengths and checksums unless a test
//! asks for them to be wrong.
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

pub const ETH_IPV4: u16 = 0x0800;
pub const ETH_IPV6: u16 = 0x86dd;
pub const ETH_VLAN: u16 = 0x8100;
pub const ETH_QINQ: u16 = 0x88a8;
pub const PROTO_TCP: u8 = 6;
pub const PROTO_UDP: u8 = 17;
pub const PROTO_GRE: u8 = 47;

pub const FIN: u8 = 0x01;
pub const SYN: u8 = 0x02;
pub const RST: u8 = 0x04;
pub const PSH: u8 = 0x08;
pub const ACK: u8 = 0x10;

pub const CLIENT_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x01];
pub const SERVER_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x02];

fn ones_complement(mut acc: u32, bytes: &[u8]) -> u32 {
    for pair in bytes.chunks(2) {
        let word = u16::from_be_bytes([pair[0], *pair.get(1).unwrap_or(&0)]);
        acc += u32::from(word);
    }
    acc
}

fn finish(mut acc: u32) -> u16 {
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    !(acc as u16)
}

/// Internet checksum of `bytes`.
pub fn checksum(bytes: &[u8]) -> u16 {
    finish(ones_complement(0, bytes))
}

fn pseudo_sum(src: IpAddr, dst: IpAddr, proto: u8, len: usize) -> u32 {
    let mut acc = u32::from(proto) + (len as u32 & 0xffff) + (len as u32 >> 16);
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            acc = ones_complement(acc, &s.octets());
            ones_complement(acc, &d.octets())
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            acc = ones_complement(acc, &s.octets());
            ones_complement(acc, &d.octets())
        }
        _ => panic!("mixed address families"),
    }
}

/// Ethernet II with zero or more 802.1Q/802.1ad tags (outermost first).
pub fn ethernet(dst: [u8; 6], src: [u8; 6], vlans: &[u16], ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = Vec::with_capacity(14 + 4 * vlans.len() + payload.len());
    f.extend_from_slice(&dst);
    f.extend_from_slice(&src);
    for (i, vid) in vlans.iter().enumerate() {
        // QinQ: the outer tag of a stack uses the service TPID.
        let tpid = if vlans.len() > 1 && i == 0 { ETH_QINQ } else { ETH_VLAN };
        f.extend_from_slice(&tpid.to_be_bytes());
        f.extend_from_slice(&(vid & 0x0fff).to_be_bytes());
    }
    f.extend_from_slice(&ethertype.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

/// Ethernet carrying an IP packet (the version nibble picks the ethertype).
pub fn eth_ip(ip: &[u8]) -> Vec<u8> {
    let ethertype = if ip.first().map(|b| b >> 4) == Some(6) { ETH_IPV6 } else { ETH_IPV4 };
    ethernet(SERVER_MAC, CLIENT_MAC, &[], ethertype, ip)
}

/// IPv4 fragmentation fields.
#[derive(Clone, Copy, Debug, Default)]
pub struct Frag {
    /// Offset in bytes (a multiple of 8 on the wire).
    pub offset: u16,
    pub more: bool,
}

/// An IPv4 header (no options) and payload with a correct header checksum.
pub fn ipv4(src: Ipv4Addr, dst: Ipv4Addr, proto: u8, id: u16, frag: Frag, payload: &[u8]) -> Vec<u8> {
    let total = 20 + payload.len();
    let mut p = Vec::with_capacity(total);
    p.push(0x45); // version 4, IHL 5
    p.push(0);
    p.extend_from_slice(&(total as u16).to_be_bytes());
    p.extend_from_slice(&id.to_be_bytes());
    let flags_off = (frag.offset / 8) | if frag.more { 0x2000 } else { 0 };
    p.extend_from_slice(&flags_off.to_be_bytes());
    p.push(64); // TTL
    p.push(proto);
    p.extend_from_slice(&[0, 0]);
    p.extend_from_slice(&src.octets());
    p.extend_from_slice(&dst.octets());
    let c = checksum(&p);
    p[10..12].copy_from_slice(&c.to_be_bytes());
    p.extend_from_slice(payload);
    p
}

/// An IPv4 packet with its TTL set to `ttl` (header checksum recomputed): another
/// sender's stack on the same address.
pub fn with_ttl(ip: &[u8], ttl: u8) -> Vec<u8> {
    let mut p = ip.to_vec();
    if p.len() >= 20 && p[0] >> 4 == 4 {
        p[8] = ttl;
        p[10..12].copy_from_slice(&[0, 0]);
        let c = checksum(&p[..usize::from(p[0] & 0x0F) * 4]);
        p[10..12].copy_from_slice(&c.to_be_bytes());
    }
    p
}

/// An IPv6 header and payload.
pub fn ipv6(src: std::net::Ipv6Addr, dst: std::net::Ipv6Addr, next: u8, payload: &[u8]) -> Vec<u8> {
    let mut p = Vec::with_capacity(40 + payload.len());
    p.extend_from_slice(&[0x60, 0, 0, 0]);
    p.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    p.push(next);
    p.push(64);
    p.extend_from_slice(&src.octets());
    p.extend_from_slice(&dst.octets());
    p.extend_from_slice(payload);
    p
}

/// An IP packet of either family around a transport segment.
pub fn ip(src: IpAddr, dst: IpAddr, proto: u8, id: u16, segment: &[u8]) -> Vec<u8> {
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => ipv4(s, d, proto, id, Frag::default(), segment),
        (IpAddr::V6(s), IpAddr::V6(d)) => ipv6(s, d, proto, segment),
        _ => panic!("mixed address families"),
    }
}

/// TCP header fields.
#[derive(Clone, Copy, Debug)]
pub struct Tcp {
    pub src_port: u16,
    pub dst_port: u16,
    pub seq: u32,
    pub ack: u32,
    pub flags: u8,
    pub window: u16,
}

/// A TCP segment (20-byte header) with a correct checksum for `src`/`dst`.
pub fn tcp(src: IpAddr, dst: IpAddr, t: &Tcp, payload: &[u8]) -> Vec<u8> {
    let mut s = Vec::with_capacity(20 + payload.len());
    s.extend_from_slice(&t.src_port.to_be_bytes());
    s.extend_from_slice(&t.dst_port.to_be_bytes());
    s.extend_from_slice(&t.seq.to_be_bytes());
    s.extend_from_slice(&t.ack.to_be_bytes());
    s.push(5 << 4); // data offset: 5 words
    s.push(t.flags);
    s.extend_from_slice(&t.window.to_be_bytes());
    s.extend_from_slice(&[0, 0, 0, 0]); // checksum, urgent pointer
    s.extend_from_slice(payload);
    let c = finish(ones_complement(pseudo_sum(src, dst, PROTO_TCP, s.len()), &s));
    s[16..18].copy_from_slice(&c.to_be_bytes());
    s
}

/// A UDP datagram with a correct checksum.
pub fn udp(src: IpAddr, dst: IpAddr, src_port: u16, dst_port: u16, payload: &[u8]) -> Vec<u8> {
    let len = 8 + payload.len();
    let mut s = Vec::with_capacity(len);
    s.extend_from_slice(&src_port.to_be_bytes());
    s.extend_from_slice(&dst_port.to_be_bytes());
    s.extend_from_slice(&(len as u16).to_be_bytes());
    s.extend_from_slice(&[0, 0]);
    s.extend_from_slice(payload);
    let mut c = finish(ones_complement(pseudo_sum(src, dst, PROTO_UDP, len), &s));
    if c == 0 {
        c = 0xffff;
    }
    s[6..8].copy_from_slice(&c.to_be_bytes());
    s
}

/// A whole IPv4/IPv6 UDP packet.
pub fn ip_udp(src: SocketAddr, dst: SocketAddr, payload: &[u8]) -> Vec<u8> {
    ip(src.ip(), dst.ip(), PROTO_UDP, 1, &udp(src.ip(), dst.ip(), src.port(), dst.port(), payload))
}

/// GRE (RFC 2784/2890) with optional key and sequence number.
pub fn gre(proto: u16, key: Option<u32>, seq: Option<u32>, payload: &[u8]) -> Vec<u8> {
    let flags = if key.is_some() { 0x2000u16 } else { 0 } | if seq.is_some() { 0x1000 } else { 0 };
    let mut g = Vec::new();
    g.extend_from_slice(&flags.to_be_bytes());
    g.extend_from_slice(&proto.to_be_bytes());
    if let Some(k) = key {
        g.extend_from_slice(&k.to_be_bytes());
    }
    if let Some(s) = seq {
        g.extend_from_slice(&s.to_be_bytes());
    }
    g.extend_from_slice(payload);
    g
}

/// ERSPAN type II header (version 1) and the mirrored frame.
pub fn erspan2(vlan: u16, session: u16, frame: &[u8]) -> Vec<u8> {
    let mut e = Vec::new();
    e.extend_from_slice(&((1u16 << 12) | (vlan & 0x0fff)).to_be_bytes());
    e.extend_from_slice(&(session & 0x03ff).to_be_bytes());
    e.extend_from_slice(&[0, 0, 0, 0]); // reserved, index
    e.extend_from_slice(frame);
    e
}

/// ERSPAN type III header (version 2), optionally with the platform subheader.
pub fn erspan3(vlan: u16, session: u16, platform_subheader: bool, frame: &[u8]) -> Vec<u8> {
    let mut e = Vec::new();
    e.extend_from_slice(&((2u16 << 12) | (vlan & 0x0fff)).to_be_bytes());
    e.extend_from_slice(&(session & 0x03ff).to_be_bytes());
    e.extend_from_slice(&0x0102_0304u32.to_be_bytes()); // timestamp
    e.extend_from_slice(&[0, 0]); // SGT
    e.push(0); // P=0, FT=0 (Ethernet), upper hardware id bits
    e.push(if platform_subheader { 0x01 } else { 0x00 });
    if platform_subheader {
        e.extend_from_slice(&[0x08, 0, 0, 0, 0, 0, 0, 0]);
    }
    e.extend_from_slice(frame);
    e
}

/// VXLAN header (valid-VNI flag set) and the inner Ethernet frame.
pub fn vxlan(vni: u32, frame: &[u8]) -> Vec<u8> {
    let mut v = vec![0x08, 0, 0, 0];
    v.extend_from_slice(&((vni & 0x00ff_ffff) << 8).to_be_bytes());
    v.extend_from_slice(frame);
    v
}

/// BSD loopback (LINKTYPE_NULL): address family in little-endian host order.
pub fn null_link(family: u32, payload: &[u8]) -> Vec<u8> {
    let mut f = family.to_le_bytes().to_vec();
    f.extend_from_slice(payload);
    f
}

/// OpenBSD loopback (LINKTYPE_LOOP): address family in network order.
pub fn loop_link(family: u32, payload: &[u8]) -> Vec<u8> {
    let mut f = family.to_be_bytes().to_vec();
    f.extend_from_slice(payload);
    f
}

/// Linux cooked capture v1 (16-byte header).
pub fn sll(protocol: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = Vec::new();
    f.extend_from_slice(&0u16.to_be_bytes()); // packet type: to us
    f.extend_from_slice(&1u16.to_be_bytes()); // ARPHRD_ETHER
    f.extend_from_slice(&6u16.to_be_bytes());
    f.extend_from_slice(&CLIENT_MAC);
    f.extend_from_slice(&[0, 0]);
    f.extend_from_slice(&protocol.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

/// Linux cooked capture v2 (20-byte header).
pub fn sll2(protocol: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = Vec::new();
    f.extend_from_slice(&protocol.to_be_bytes());
    f.extend_from_slice(&[0, 0]); // reserved
    f.extend_from_slice(&3u32.to_be_bytes()); // interface index
    f.extend_from_slice(&1u16.to_be_bytes()); // ARPHRD_ETHER
    f.push(0); // packet type
    f.push(6);
    f.extend_from_slice(&CLIENT_MAC);
    f.extend_from_slice(&[0, 0]);
    f.extend_from_slice(payload);
    f
}

/// One TCP connection's two sequence spaces, for writing conversations segment by segment.
#[derive(Clone, Debug)]
pub struct TcpConversation {
    pub client: SocketAddr,
    pub server: SocketAddr,
    pub client_seq: u32,
    pub server_seq: u32,
    ip_id: u16,
}

impl TcpConversation {
    pub fn new(client: SocketAddr, server: SocketAddr) -> Self {
        TcpConversation { client, server, client_seq: 1000, server_seq: 5000, ip_id: 1 }
    }

    fn segment(&mut self, from_client: bool, flags: u8, payload: &[u8]) -> Vec<u8> {
        let (src, dst) = if from_client { (self.client, self.server) } else { (self.server, self.client) };
        let (seq, ack) = if from_client { (self.client_seq, self.server_seq) } else { (self.server_seq, self.client_seq) };
        let t = Tcp { src_port: src.port(), dst_port: dst.port(), seq, ack, flags, window: 8192 };
        let advance = payload.len() as u32 + u32::from(flags & (SYN | FIN) != 0);
        if from_client {
            self.client_seq = self.client_seq.wrapping_add(advance);
        } else {
            self.server_seq = self.server_seq.wrapping_add(advance);
        }
        self.ip_id = self.ip_id.wrapping_add(1);
        ip(src.ip(), dst.ip(), PROTO_TCP, self.ip_id, &tcp(src.ip(), dst.ip(), &t, payload))
    }

    /// SYN, SYN-ACK, ACK as IP packets.
    pub fn handshake(&mut self) -> Vec<Vec<u8>> {
        let syn = self.segment(true, SYN, &[]);
        let syn_ack = self.segment(false, SYN | ACK, &[]);
        let ack = self.segment(true, ACK, &[]);
        vec![syn, syn_ack, ack]
    }

    pub fn client_sends(&mut self, payload: &[u8]) -> Vec<u8> {
        self.segment(true, PSH | ACK, payload)
    }

    pub fn server_sends(&mut self, payload: &[u8]) -> Vec<u8> {
        self.segment(false, PSH | ACK, payload)
    }

    /// A client segment at `offset` bytes past the client's next sequence number, sent
    /// without moving it: for out-of-order, overlapping and lost segments.
    pub fn client_at(&mut self, offset: u32, payload: &[u8]) -> Vec<u8> {
        let saved = self.client_seq;
        self.client_seq = saved.wrapping_add(offset);
        let p = self.segment(true, PSH | ACK, payload);
        self.client_seq = saved;
        p
    }

    /// Move the client's next sequence number on by `n` (after sending around it).
    pub fn client_skip(&mut self, n: u32) {
        self.client_seq = self.client_seq.wrapping_add(n);
    }

    /// A bare ACK from the client, acknowledging everything the server has sent.
    pub fn client_acks(&mut self) -> Vec<u8> {
        self.segment(true, ACK, &[])
    }

    /// A bare ACK from the server, acknowledging everything the client has sent.
    pub fn server_acks(&mut self) -> Vec<u8> {
        self.segment(false, ACK, &[])
    }

    /// The server refusing the connection (a closed port).
    pub fn reset_from_server(&mut self) -> Vec<u8> {
        self.segment(false, RST | ACK, &[])
    }

    /// The client abandoning the connection.
    pub fn reset_from_client(&mut self) -> Vec<u8> {
        self.segment(true, RST, &[])
    }

    /// FIN from the client, FIN-ACK from the server, final ACK.
    pub fn close(&mut self) -> Vec<Vec<u8>> {
        let fin = self.segment(true, FIN | ACK, &[]);
        let fin_ack = self.segment(false, FIN | ACK, &[]);
        let ack = self.segment(true, ACK, &[]);
        vec![fin, fin_ack, ack]
    }
}

/// An Ethernet/IPv4 ARP frame (request 1, reply 2) from `sender_mac`, to broadcast for a
/// request and to `target_mac` for a reply.
pub fn arp(operation: u16, sender_mac: [u8; 6], sender_ip: Ipv4Addr, target_mac: [u8; 6], target_ip: Ipv4Addr) -> Vec<u8> {
    let mut a = vec![0x00, 0x01, 0x08, 0x00, 6, 4]; // Ethernet, IPv4, address sizes
    a.extend_from_slice(&operation.to_be_bytes());
    a.extend_from_slice(&sender_mac);
    a.extend_from_slice(&sender_ip.octets());
    a.extend_from_slice(&target_mac);
    a.extend_from_slice(&target_ip.octets());
    let dst = if operation == 1 { [0xff; 6] } else { target_mac };
    ethernet(dst, sender_mac, &[], 0x0806, &a)
}
