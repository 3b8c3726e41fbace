//! Decoding of every supported link type, VLAN stacks, IPv6, tunnels and malformed
//! frames, on packets our own builder writes.
use otsentry_core::{IpProto, Layer};
use otsentry_pcapgen::*;
use otsentry_wire::{decode, linktype, DecodeOptions, Packet, StopKind, Transport, TunnelKind};
use std::net::{IpAddr, SocketAddr};

fn client() -> SocketAddr {
    "192.168.10.5:40001".parse().unwrap()
}
fn server() -> SocketAddr {
    "192.168.20.7:502".parse().unwrap()
}

/// A Modbus read-holding-registers request inside TCP/IPv4.
fn modbus_ip() -> Vec<u8> {
    let (c, s) = (client(), server());
    let adu = [0x00, 0x01, 0x00, 0x00, 0x00, 0x06, 0x01, 0x03, 0x00, 0x00, 0x00, 0x0a];
    let t = Tcp { src_port: c.port(), dst_port: s.port(), seq: 1, ack: 1, flags: PSH | ACK, window: 512 };
    ip(c.ip(), s.ip(), PROTO_TCP, 7, &tcp(c.ip(), s.ip(), &t, &adu))
}

fn dec(link: u32, frame: &[u8]) -> Packet<'_> {
    decode(link, frame, frame.len() as u32, &DecodeOptions::default())
}

fn assert_modbus(p: &Packet<'_>) {
    assert_eq!(p.stop, None);
    let ip = p.ip.expect("ip layer");
    assert_eq!((ip.src, ip.dst, ip.proto), (client().ip(), server().ip(), IpProto::TCP));
    let Transport::Tcp(t) = p.transport else { panic!("not TCP: {:?}", p.transport) };
    assert_eq!((t.src_port, t.dst_port, t.flags), (40001, 502, PSH | ACK));
    assert_eq!(t.payload.len(), 12);
    assert_eq!(p.checksum, Default::default(), "builder checksums verify");
}

#[test]
fn every_link_type_reaches_the_tcp_payload() {
    let ipkt = modbus_ip();
    let cases: Vec<(u32, Vec<u8>)> = vec![
        (linktype::ETHERNET, eth_ip(&ipkt)),
        (linktype::NULL, null_link(2, &ipkt)),
        (
            linktype::NULL,
            null_link(2, &ipkt)
                .iter()
                .rev()
                .skip(ipkt.len())
                .copied()
                .collect::<Vec<_>>()
                .into_iter()
                .chain(ipkt.iter().copied())
                .collect(),
        ),
        (linktype::LOOP, loop_link(2, &ipkt)),
        (linktype::RAW, ipkt.clone()),
        (linktype::RAW_12, ipkt.clone()),
        (linktype::RAW_14, ipkt.clone()),
        (linktype::IPV4, ipkt.clone()),
        (linktype::LINUX_SLL, sll(ETH_IPV4, &ipkt)),
        (linktype::LINUX_SLL2, sll2(ETH_IPV4, &ipkt)),
    ];
    for (link, frame) in &cases {
        let p = dec(*link, frame);
        assert_modbus(&p);
    }
}

#[test]
fn ipv6_over_several_link_types() {
    let (c, s): (IpAddr, IpAddr) = ("fd00::5".parse().unwrap(), "fd00::7".parse().unwrap());
    let t = Tcp { src_port: 40001, dst_port: 20000, seq: 9, ack: 0, flags: SYN, window: 1024 };
    let pkt = ip(c, s, PROTO_TCP, 0, &tcp(c, s, &t, &[]));
    for (link, frame) in [
        (linktype::IPV6, pkt.clone()),
        (linktype::RAW, pkt.clone()),
        (linktype::ETHERNET, eth_ip(&pkt)),
        (linktype::NULL, null_link(30, &pkt)),
        (linktype::LOOP, loop_link(24, &pkt)),
        (linktype::LINUX_SLL2, sll2(ETH_IPV6, &pkt)),
    ] {
        let p = dec(link, &frame);
        assert_eq!(p.stop, None, "link {link}");
        let ip = p.ip.unwrap();
        assert_eq!((ip.src, ip.dst), (c, s));
        assert!(matches!(p.transport, Transport::Tcp(t) if t.dst_port == 20000 && t.flags == SYN));
        assert!(!p.checksum.tcp);
    }
}

#[test]
fn vlan_and_qinq_ids_are_kept_outermost_first() {
    let ipkt = modbus_ip();
    let one = ethernet(SERVER_MAC, CLIENT_MAC, &[100], ETH_IPV4, &ipkt);
    let p = dec(linktype::ETHERNET, &one);
    assert_modbus(&p);
    assert_eq!(p.vlans(), &[100]);
    let two = ethernet(SERVER_MAC, CLIENT_MAC, &[300, 42], ETH_IPV4, &ipkt);
    let p = dec(linktype::ETHERNET, &two);
    assert_modbus(&p);
    assert_eq!(p.vlans(), &[300, 42]);
}

#[test]
fn non_ip_link_traffic_is_not_an_error() {
    // An IEC 61850 GOOSE frame and an ARP request: no IP layer, no stop.
    let goose = ethernet([0x01, 0x0c, 0xcd, 1, 0, 1], CLIENT_MAC, &[], 0x88b8, &[0, 1, 0, 8, 0, 0, 0, 0]);
    let p = dec(linktype::ETHERNET, &goose);
    assert_eq!((p.ip, p.stop), (None, None));
    let unknown_family = null_link(7, &modbus_ip());
    let p = dec(linktype::NULL, &unknown_family);
    assert_eq!((p.ip, p.stop), (None, None));
}

#[test]
fn tunnels_are_peeled_to_the_inner_packet() {
    let inner_eth = ethernet(SERVER_MAC, CLIENT_MAC, &[], ETH_IPV4, &modbus_ip());
    let outer = |proto: u8, payload: &[u8]| {
        eth_ip(&ipv4("10.9.9.1".parse().unwrap(), "10.9.9.2".parse().unwrap(), proto, 99, Frag::default(), payload))
    };
    let cases = [
        (TunnelKind::Gre, outer(PROTO_GRE, &gre(0x6558, None, None, &inner_eth)), 0),
        (TunnelKind::Gre, outer(PROTO_GRE, &gre(0x0800, Some(77), None, &modbus_ip())), 0),
        (TunnelKind::ErspanI, outer(PROTO_GRE, &gre(0x88be, None, None, &inner_eth)), 0),
        (TunnelKind::ErspanII, outer(PROTO_GRE, &gre(0x88be, None, Some(5), &erspan2(12, 3, &inner_eth))), 12),
        (TunnelKind::ErspanIII, outer(PROTO_GRE, &gre(0x22eb, None, Some(6), &erspan3(13, 4, false, &inner_eth))), 13),
        (TunnelKind::ErspanIII, outer(PROTO_GRE, &gre(0x22eb, None, Some(7), &erspan3(0, 4, true, &inner_eth))), 0),
        (
            TunnelKind::Vxlan,
            outer(PROTO_UDP, &udp("10.9.9.1".parse().unwrap(), "10.9.9.2".parse().unwrap(), 51000, 4789, &vxlan(5001, &inner_eth))),
            0,
        ),
    ];
    for (kind, frame, vlan) in &cases {
        let p = dec(linktype::ETHERNET, frame);
        assert_modbus(&p);
        assert_eq!(p.tunnel, Some(*kind));
        assert_eq!(p.tunnel_depth, 1);
        let expected: &[u16] = if *vlan == 0 { &[] } else { std::slice::from_ref(vlan) };
        assert_eq!(p.vlans(), expected, "{kind:?}");
    }
}

#[test]
fn nested_tunnels_stop_at_the_depth_cap() {
    let mut frame = modbus_ip();
    for _ in 0..5 {
        frame =
            ipv4("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap(), PROTO_GRE, 1, Frag::default(), &gre(0x0800, None, None, &frame));
    }
    let p = dec(linktype::RAW, &frame);
    let stop = p.stop.expect("too deep");
    assert_eq!(stop.kind, StopKind::TooManyTunnels);
    assert_eq!(stop.event(), "decoder.tunnel.too_deep");
    // Three levels deep: at the fourth GRE header.
    // Four IPv4 and three GRE headers precede the GRE header that is one too many.
    assert_eq!(stop.offset, 4 * 20 + 3 * 4);
}

#[test]
fn malformed_frames_say_where_and_why() {
    let ipkt = modbus_ip();
    // Ethernet header cut short.
    let frame = eth_ip(&ipkt);
    let p = dec(linktype::ETHERNET, &frame[..10]);
    assert_eq!(p.stop.as_ref().map(|s| (s.layer, s.offset)), Some((Layer::Link, 0)));
    // IPv4 header cut after 12 bytes.
    let p = dec(linktype::ETHERNET, &frame[..14 + 12]);
    let s = p.stop.unwrap();
    assert_eq!((s.layer, s.offset, s.event()), (Layer::Ipv4, 14, "decoder.ipv4.trunc_pkt"));
    // TCP header cut after 8 bytes (IP length fixed up so only TCP is short).
    let mut short = ipv4("1.1.1.1".parse().unwrap(), "2.2.2.2".parse().unwrap(), PROTO_TCP, 1, Frag::default(), &[0u8; 8]);
    short[20..22].copy_from_slice(&502u16.to_be_bytes());
    let frame = eth_ip(&short);
    let s = dec(linktype::ETHERNET, &frame).stop.unwrap();
    assert_eq!((s.layer, s.offset), (Layer::Tcp, 34));
    assert!(matches!(s.kind, StopKind::Truncated { required: 20, available: 8 }), "{:?}", s.kind);
    // TCP data offset below 5 words.
    let mut bad = modbus_ip();
    bad[20 + 12] = 0x20;
    let s = dec(linktype::RAW, &bad).stop.unwrap();
    assert_eq!((s.layer, s.event()), (Layer::Tcp, "decoder.tcp.invalid_header"));
    // IP length claims more bytes than the wire frame has (and it was captured whole).
    let mut long = modbus_ip();
    long[2..4].copy_from_slice(&200u16.to_be_bytes());
    let p = dec(linktype::RAW, &long);
    assert!(matches!(p.stop.unwrap().kind, StopKind::IpLengthExceedsFrame { ip_len: 200, .. }));
    // The same, cut by a snap length: recorded but flagged as a capture cut.
    let full = eth_ip(&modbus_ip());
    let p = decode(linktype::ETHERNET, &full[..40], full.len() as u32, &DecodeOptions::default());
    assert!(p.snaplen_cut && p.stop.is_some());
    // A VXLAN header without its flag, and a GRE with the routing bit.
    let bad_vxlan = ip_udp("10.0.0.1:1".parse().unwrap(), "10.0.0.2:4789".parse().unwrap(), &[0u8; 8]);
    assert_eq!(dec(linktype::RAW, &bad_vxlan).stop.unwrap().layer, Layer::Tunnel);
    let bad_gre = ipv4("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap(), PROTO_GRE, 1, Frag::default(), &[0x40, 0, 0x08, 0]);
    assert_eq!(dec(linktype::RAW, &bad_gre).stop.unwrap().event(), "decoder.tunnel.malformed");
    // Unknown link type.
    assert!(matches!(dec(147, &full).stop.unwrap().kind, StopKind::UnsupportedLinkType(147)));
}

#[test]
fn bad_checksums_are_counted_not_dropped() {
    let mut p = modbus_ip();
    p[10] ^= 0xff; // IPv4 header checksum
    let last = p.len() - 1;
    p[last] ^= 0x01; // payload byte: TCP checksum no longer matches
    let d = dec(linktype::RAW, &p);
    assert!(d.checksum.ipv4 && d.checksum.tcp && !d.checksum.udp);
    assert!(matches!(d.transport, Transport::Tcp(t) if t.payload.len() == 12), "still decoded");
    let off = decode(linktype::RAW, &p, p.len() as u32, &DecodeOptions { verify_checksums: false, ..Default::default() });
    assert_eq!(off.checksum, Default::default());
    let mut u = ip_udp("10.0.0.1:20000".parse().unwrap(), "10.0.0.2:20000".parse().unwrap(), &[5, 100, 5]);
    u[20 + 6] ^= 0x10;
    assert!(dec(linktype::RAW, &u).checksum.udp);
    u[20 + 6..20 + 8].copy_from_slice(&[0, 0]); // zero: not computed over IPv4
    assert!(!dec(linktype::RAW, &u).checksum.udp);
}

proptest::proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(link in proptest::sample::select(vec![0u32, 1, 12, 14, 101, 108, 113, 228, 229, 276, 9999]), bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
        let p = decode(link, &bytes, bytes.len() as u32, &DecodeOptions::default());
        if let Some(s) = &p.stop {
            proptest::prop_assert!(s.offset <= bytes.len());
            let _ = (s.event(), s.kind.to_string());
        }
    }

    #[test]
    fn mutated_tunnelled_frames_never_panic(pos in 0usize..120, val in proptest::num::u8::ANY) {
        let inner = ethernet(SERVER_MAC, CLIENT_MAC, &[5], ETH_IPV4, &modbus_ip());
        let mut frame = eth_ip(&ipv4("10.9.9.1".parse().unwrap(), "10.9.9.2".parse().unwrap(), PROTO_GRE, 1, Frag::default(), &gre(0x22eb, None, Some(1), &erspan3(1, 1, true, &inner))));
        if let Some(b) = frame.get_mut(pos) { *b = val; }
        let _ = decode(linktype::ETHERNET, &frame, frame.len() as u32, &DecodeOptions::default());
    }
}

#[test]
fn arp_binds_an_ip_to_a_mac() {
    let (a, b) = ([0x02, 0, 0, 0, 0, 0x0A], [0x02, 0, 0, 0, 0, 0x0B]);
    let reply = arp(2, a, "10.0.0.1".parse().unwrap(), b, "10.0.0.2".parse().unwrap());
    let p = dec(linktype::ETHERNET, &reply);
    let info = p.arp.expect("an ARP packet");
    assert_eq!((info.operation, info.sender_mac, info.target_mac), (2, a, b));
    assert_eq!((info.sender_ip.to_string(), info.target_ip.to_string()), ("10.0.0.1".into(), "10.0.0.2".into()));
    assert!(p.ip.is_none() && p.stop.is_none());
    // Cut short: no binding, and the cut is reported.
    let p = dec(linktype::ETHERNET, &reply[..30]);
    assert!(p.arp.is_none() && p.stop.is_some());
}
