use crate::checksum;
use crate::tunnel::{self, Inner};
use crate::{linktype, DecodeOptions, DecodeStop, Fragment, IpInfo, Packet, StopKind, TcpInfo, Transport, UdpInfo, MAX_TUNNEL_DEPTH};
use etherparse::{err, EtherType, LaxNetSlice, LaxSlicedPacket, TransportSlice};
use otsentry_core::{IpProto, Layer};
use std::net::IpAddr;

/// Where the network-layer decode starts after the link header.
enum Start<'a> {
    Ethernet(&'a [u8]),
    Ip(&'a [u8]),
    EtherType(u16, &'a [u8]),
    /// A link header that does not carry IP (a non-IP BSD address family).
    NotIp,
}

/// Decode one captured frame of `link` type. Never fails: problems land in
/// [`Packet::stop`], and whatever decoded before them is kept.
pub fn decode<'a>(link: u32, frame: &'a [u8], origlen: u32, opts: &DecodeOptions) -> Packet<'a> {
    let mut pkt = Packet::empty();
    decode_into(link, frame, origlen, opts, &mut pkt);
    pkt
}

/// [`decode`] into a [`Packet`] the caller owns (which must be fresh from
/// [`Packet::empty`]), saving a copy of the whole view per packet.
#[inline(always)]
pub fn decode_into<'a>(link: u32, frame: &'a [u8], origlen: u32, opts: &DecodeOptions, pkt: &mut Packet<'a>) {
    pkt.snaplen_cut = (frame.len() as u64) < u64::from(origlen);
    if !crate::fast::decode(link, frame, opts, pkt) {
        general(link, frame, opts, pkt);
    }
}

/// [`decode`] without the hand-written fast path, for tests that hold the two equal.
#[doc(hidden)]
pub fn decode_general<'a>(link: u32, frame: &'a [u8], origlen: u32, opts: &DecodeOptions) -> Packet<'a> {
    let mut pkt = Packet::empty();
    pkt.snaplen_cut = (frame.len() as u64) < u64::from(origlen);
    general(link, frame, opts, &mut pkt);
    pkt
}

fn general<'a>(link: u32, frame: &'a [u8], opts: &DecodeOptions, pkt: &mut Packet<'a>) {
    match link_start(link, frame) {
        Ok(start) => decode_from(frame, start, opts, pkt, 0),
        Err(kind) => pkt.stop = Some(DecodeStop { layer: otsentry_core::Layer::Link, offset: 0, kind }),
    }
}

fn need(frame: &[u8], n: usize) -> Result<&[u8], StopKind> {
    frame.get(n..).ok_or(StopKind::ShortLinkHeader { required: n, available: frame.len() })
}

fn bsd_family(family: u32, rest: &[u8]) -> Start<'_> {
    match family {
        2 => Start::Ip(rest),
        // AF_INET6 differs between BSDs (24, 28, 30) and Linux (10).
        10 | 24 | 28 | 30 => Start::Ip(rest),
        _ => Start::NotIp,
    }
}

fn link_start(link: u32, frame: &[u8]) -> Result<Start<'_>, StopKind> {
    Ok(match link {
        linktype::ETHERNET => Start::Ethernet(frame),
        linktype::RAW_12 | linktype::RAW_14 | linktype::RAW | linktype::IPV4 | linktype::IPV6 => Start::Ip(frame),
        linktype::NULL => {
            let rest = need(frame, 4)?;
            let raw: [u8; 4] = frame.get(..4).and_then(|b| b.try_into().ok()).unwrap_or_default();
            // Host byte order of the capturing machine: the family is small, so the
            // non-zero end tells the order.
            let family = if raw[0] == 0 && raw[1] == 0 { u32::from_be_bytes(raw) } else { u32::from_le_bytes(raw) };
            bsd_family(family, rest)
        }
        linktype::LOOP => {
            let rest = need(frame, 4)?;
            let raw: [u8; 4] = frame.get(..4).and_then(|b| b.try_into().ok()).unwrap_or_default();
            bsd_family(u32::from_be_bytes(raw), rest)
        }
        linktype::LINUX_SLL => {
            let rest = need(frame, 16)?;
            let proto = be16(frame, 14);
            Start::EtherType(proto, rest)
        }
        linktype::LINUX_SLL2 => {
            let rest = need(frame, 20)?;
            let proto = be16(frame, 0);
            Start::EtherType(proto, rest)
        }
        other => return Err(StopKind::UnsupportedLinkType(other)),
    })
}

/// Big-endian u16 at `at`, or 0 past the end (callers have checked lengths).
fn be16(bytes: &[u8], at: usize) -> u16 {
    bytes.get(at..at + 2).and_then(|b| b.try_into().ok()).map_or(0, u16::from_be_bytes)
}

/// Offset of `part` inside `whole` (both from the same buffer).
fn offset_in(whole: &[u8], part: &[u8]) -> usize {
    (part.as_ptr() as usize).saturating_sub(whole.as_ptr() as usize)
}

fn map_layer(layer: err::Layer) -> Layer {
    use err::Layer as L;
    match layer {
        L::LinuxSllHeader | L::Ethernet2Header | L::EtherPayload => Layer::Link,
        L::VlanHeader | L::MacsecHeader | L::MacsecPacket => Layer::Vlan,
        L::Ipv4Header | L::Ipv4Packet | L::IpAuthHeader => Layer::Ipv4,
        L::Ipv6Header
        | L::Ipv6Packet
        | L::Ipv6ExtHeader
        | L::Ipv6HopByHopHeader
        | L::Ipv6DestOptionsHeader
        | L::Ipv6RouteHeader
        | L::Ipv6FragHeader => Layer::Ipv6,
        L::UdpHeader | L::UdpPayload => Layer::Udp,
        L::TcpHeader => Layer::Tcp,
        L::Icmpv4 | L::Icmpv4Timestamp | L::Icmpv4TimestampReply | L::Icmpv6 => Layer::Icmp,
        _ => Layer::Link,
    }
}

fn ip_layer(start: &[u8]) -> Layer {
    if start.first().map(|b| b >> 4) == Some(6) {
        Layer::Ipv6
    } else {
        Layer::Ipv4
    }
}

fn decode_from<'a>(frame: &'a [u8], start: Start<'a>, opts: &DecodeOptions, pkt: &mut Packet<'a>, depth: u8) {
    let (sliced, base) = match start {
        Start::NotIp => return,
        Start::Ethernet(s) => match LaxSlicedPacket::from_ethernet(s) {
            Ok(p) => (p, s),
            Err(e) => {
                let kind = StopKind::Truncated { required: e.required_len, available: e.len };
                pkt.stop = Some(DecodeStop { layer: Layer::Link, offset: offset_in(frame, s), kind });
                return;
            }
        },
        Start::Ip(s) => match LaxSlicedPacket::from_ip(s) {
            Ok(p) => (p, s),
            Err(e) => {
                let kind = match e {
                    err::ip::LaxHeaderSliceError::Len(l) => StopKind::Truncated { required: l.required_len, available: l.len },
                    err::ip::LaxHeaderSliceError::Content(c) => StopKind::Malformed(err::packet::SliceError::Ip(c)),
                };
                pkt.stop = Some(DecodeStop { layer: ip_layer(s), offset: offset_in(frame, s), kind });
                return;
            }
        },
        Start::EtherType(t, s) => (LaxSlicedPacket::from_ether_type(EtherType(t), s), s),
    };

    if let Some(etherparse::LinkSlice::Ethernet2(e)) = &sliced.link {
        pkt.macs = Some(crate::Macs::from_bytes(e.source(), e.destination()));
    }
    // A tunnelled frame's own VLAN tags replace the outer ones.
    let mut vlans = sliced.vlan_ids().into_iter().map(|v| v.value());
    if vlans.len() > 0 {
        pkt.vlan_count = 0;
    }
    for (slot, id) in pkt.vlan.iter_mut().zip(&mut vlans) {
        *slot = id;
        pkt.vlan_count += 1;
    }

    if let Some((e, layer)) = &sliced.stop_err {
        let (offset, kind) = match e {
            err::packet::SliceError::Len(l) => {
                (offset_in(frame, base) + l.layer_start_offset, StopKind::Truncated { required: l.required_len, available: l.len })
            }
            other => (stop_offset(frame, base, &sliced), StopKind::Malformed(other.clone())),
        };
        // etherparse names the IP layer before it knows the version: the nibble tells.
        let layer = match layer {
            err::Layer::IpHeader => ip_layer(frame.get(offset..).unwrap_or_default()),
            other => map_layer(*other),
        };
        pkt.stop = Some(DecodeStop { layer, offset, kind });
    }

    let Some(ip) = ip_info(frame, &sliced, opts, pkt) else {
        return;
    };
    pkt.ip = Some(ip);
    pkt.transport = match &sliced.transport {
        Some(TransportSlice::Tcp(t)) => tcp_info(t.slice(), t.payload()),
        Some(TransportSlice::Udp(u)) => {
            Transport::Udp(UdpInfo { src_port: u.source_port(), dst_port: u.destination_port(), payload: u.payload() })
        }
        Some(TransportSlice::Icmpv4(_) | TransportSlice::Icmpv6(_)) => Transport::Icmp,
        _ if ip.fragment.is_some() || pkt.stop.is_some() => Transport::None,
        _ => Transport::Other,
    };
    if opts.verify_checksums && ip.fragment.is_none() && !pkt.snaplen_cut && pkt.stop.is_none() {
        let transport = pkt.transport;
        check_transport(&ip, &transport, pkt);
    }
    if pkt.stop.is_none() && ip.fragment.is_none() {
        peel(frame, &ip, opts, pkt, depth);
    }
}

/// Offset of the first layer that did not decode: after the deepest one that did.
fn stop_offset(frame: &[u8], base: &[u8], sliced: &LaxSlicedPacket<'_>) -> usize {
    if let Some(p) = sliced.net.as_ref().and_then(|n| n.ip_payload_ref()) {
        return offset_in(frame, p.payload);
    }
    if let Some(etherparse::LaxLinkExtSlice::Vlan(v)) = sliced.link_exts.last() {
        return offset_in(frame, v.payload().payload);
    }
    if let Some(etherparse::LinkSlice::Ethernet2(e)) = &sliced.link {
        return offset_in(frame, e.payload().payload);
    }
    offset_in(frame, base)
}

fn ip_info<'a>(frame: &'a [u8], sliced: &LaxSlicedPacket<'a>, opts: &DecodeOptions, pkt: &mut Packet<'a>) -> Option<IpInfo<'a>> {
    let (info, incomplete, ip_len) = match sliced.net.as_ref()? {
        LaxNetSlice::Ipv4(v4) => {
            let h = v4.header();
            let hb = h.slice();
            let flags_frag = be16(hb, 6);
            let more = flags_frag & 0x2000 != 0;
            let frag_off = u32::from(flags_frag & 0x1fff) * 8;
            let fragment = (more || frag_off > 0).then(|| Fragment { id: u32::from(h.identification()), offset: frag_off, more });
            if opts.verify_checksums && !checksum::ipv4_header_ok(hb) {
                pkt.checksum.ipv4 = true;
            }
            let p = v4.payload();
            let info = IpInfo {
                src: IpAddr::V4(h.source_addr()),
                dst: IpAddr::V4(h.destination_addr()),
                proto: IpProto(p.ip_number.0),
                ttl: h.ttl(),
                offset: offset_in(frame, hb),
                fragment,
                payload: p.payload,
            };
            (info, p.incomplete, usize::from(h.total_len()))
        }
        LaxNetSlice::Ipv6(v6) => {
            let h = v6.header();
            let p = v6.payload();
            let fragment = v6.extensions().clone().into_iter().find_map(|ext| match ext {
                etherparse::Ipv6ExtensionSlice::Fragment(f) if f.is_fragmenting_payload() => {
                    Some(Fragment { id: f.identification(), offset: u32::from(f.fragment_offset().value()) * 8, more: f.more_fragments() })
                }
                _ => None,
            });
            let info = IpInfo {
                src: IpAddr::V6(h.source_addr()),
                dst: IpAddr::V6(h.destination_addr()),
                proto: IpProto(p.ip_number.0),
                ttl: h.hop_limit(),
                offset: offset_in(frame, h.slice()),
                fragment,
                payload: p.payload,
            };
            (info, p.incomplete, 40 + usize::from(h.payload_length()))
        }
        LaxNetSlice::Arp(a) => {
            pkt.arp = arp_info(a);
            return None;
        }
    };
    if incomplete && pkt.stop.is_none() {
        let layer = if info.src.is_ipv4() { Layer::Ipv4 } else { Layer::Ipv6 };
        let available = frame.len().saturating_sub(info.offset);
        pkt.stop = Some(DecodeStop { layer, offset: info.offset, kind: StopKind::IpLengthExceedsFrame { ip_len, available } });
    }
    Some(info)
}

/// Ethernet (6-byte) and IPv4 (4-byte) addresses only: what binds an IP to a MAC.
fn arp_info(a: &etherparse::ArpPacketSlice<'_>) -> Option<crate::ArpInfo> {
    let mac = |b: &[u8]| <[u8; 6]>::try_from(b).ok();
    let ip = |b: &[u8]| <[u8; 4]>::try_from(b).ok().map(std::net::Ipv4Addr::from);
    Some(crate::ArpInfo {
        operation: a.operation().0,
        sender_mac: mac(a.sender_hw_addr())?,
        sender_ip: ip(a.sender_protocol_addr())?,
        target_mac: mac(a.target_hw_addr())?,
        target_ip: ip(a.target_protocol_addr())?,
    })
}

fn tcp_info<'a>(header: &'a [u8], payload: &'a [u8]) -> Transport<'a> {
    let u16_at = |i: usize| be16(header, i);
    let u32_at = |i: usize| header.get(i..i + 4).and_then(|b| b.try_into().ok()).map_or(0, u32::from_be_bytes);
    Transport::Tcp(TcpInfo {
        src_port: u16_at(0),
        dst_port: u16_at(2),
        seq: u32_at(4),
        ack: u32_at(8),
        flags: header.get(13).copied().unwrap_or(0),
        window: u16_at(14),
        payload,
    })
}

fn check_transport(ip: &IpInfo<'_>, transport: &Transport<'_>, pkt: &mut Packet<'_>) {
    match transport {
        Transport::Tcp(_) => pkt.checksum.tcp |= !checksum::transport_ok(ip.src, ip.dst, 6, ip.payload),
        Transport::Udp(_) => {
            // A zero UDP checksum over IPv4 means "not computed".
            let field = be16(ip.payload, 6);
            if !(ip.src.is_ipv4() && field == 0) {
                pkt.checksum.udp |= !checksum::transport_ok(ip.src, ip.dst, 17, ip.payload);
            }
        }
        _ => {}
    }
}

fn peel<'a>(frame: &'a [u8], ip: &IpInfo<'a>, opts: &DecodeOptions, pkt: &mut Packet<'a>, depth: u8) {
    let peeled = match pkt.transport {
        Transport::Udp(u) if u.dst_port == opts.vxlan_port => tunnel::vxlan(u.payload).map(Some),
        Transport::Other if ip.proto == IpProto::GRE => tunnel::gre(ip.payload),
        _ => return,
    };
    let peeled = match peeled {
        Ok(Some(p)) => p,
        Ok(None) => return,
        Err(why) => {
            let kind = StopKind::BadTunnel(why);
            pkt.stop = Some(DecodeStop { layer: Layer::Tunnel, offset: offset_in(frame, ip.payload), kind });
            return;
        }
    };
    if depth >= MAX_TUNNEL_DEPTH {
        pkt.stop = Some(DecodeStop { layer: Layer::Tunnel, offset: offset_in(frame, ip.payload), kind: StopKind::TooManyTunnels });
        return;
    }
    if pkt.tunnel.is_none() {
        pkt.tunnel = Some(peeled.kind);
    }
    pkt.tunnel_depth = depth + 1;
    // The inner packet replaces the outer one's addresses.
    pkt.ip = None;
    pkt.transport = Transport::None;
    pkt.vlan_count = 0;
    if peeled.vlan != 0 {
        pkt.vlan[0] = peeled.vlan;
        pkt.vlan_count = 1;
    }
    let start = match peeled.inner {
        Inner::Ethernet(s) => Start::Ethernet(s),
        Inner::Ip(s) => Start::Ip(s),
    };
    decode_from(frame, start, opts, pkt, depth + 1);
}

/// Decode the transport header of a reassembled datagram (`payload` is the whole IP
/// payload). Checksums are verified when asked, since fragments could not be.
pub fn decode_transport<'a>(ip: &IpInfo<'a>, opts: &DecodeOptions) -> Packet<'a> {
    let mut pkt = Packet::empty();
    pkt.ip = Some(*ip);
    let layer_stop = |layer, kind| Some(DecodeStop { layer, offset: 0, kind });
    pkt.transport = match ip.proto {
        IpProto::TCP => match etherparse::TcpSlice::from_slice(ip.payload) {
            Ok(t) => tcp_info(t.slice(), t.payload()),
            Err(err::tcp::HeaderSliceError::Len(l)) => {
                pkt.stop = layer_stop(Layer::Tcp, StopKind::Truncated { required: l.required_len, available: l.len });
                Transport::None
            }
            Err(err::tcp::HeaderSliceError::Content(c)) => {
                pkt.stop = layer_stop(Layer::Tcp, StopKind::Malformed(err::packet::SliceError::Tcp(c)));
                Transport::None
            }
        },
        IpProto::UDP => match etherparse::UdpSlice::from_slice(ip.payload) {
            Ok(u) => Transport::Udp(UdpInfo { src_port: u.source_port(), dst_port: u.destination_port(), payload: u.payload() }),
            Err(l) => {
                pkt.stop = layer_stop(Layer::Udp, StopKind::Truncated { required: l.required_len, available: l.len });
                Transport::None
            }
        },
        IpProto::ICMP | IpProto::ICMPV6 => Transport::Icmp,
        _ => Transport::Other,
    };
    if opts.verify_checksums && pkt.stop.is_none() {
        let transport = pkt.transport;
        check_transport(ip, &transport, &mut pkt);
    }
    pkt
}
