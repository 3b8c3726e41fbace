//! The captures committed under `fixtures/<case>/input.pcap`, rebuilt byte for byte by
//! `cargo run -p otsentry-pcapgen --bin gen-fixtures` and checked by the golden tests.
use crate::ot::*;
use crate::packet::*;
use crate::writer::PcapWriter;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// Every fixture case, by directory name.
pub const CASES: &[&str] = &["demo", "decode-anomalies", "tunnels", "streams", "network", "segmentation", "trust"];

/// 2026-01-15T08:00:00Z.
const T0: u64 = 1_768_464_000_000_000_000;
const MS: u64 = 1_000_000;

pub fn build(case: &str) -> Option<Vec<u8>> {
    Some(match case {
        "demo" => demo(),
        "decode-anomalies" => decode_anomalies(),
        "tunnels" => tunnels(),
        "streams" => streams(),
        "network" => crate::network::network(),
        "segmentation" => crate::segmentation::segmentation(),
        "trust" => crate::trust::fixture(),
        _ => return None,
    })
}

fn sa(s: &str) -> SocketAddr {
    s.parse().unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)))
}

fn v4(s: &str) -> Ipv4Addr {
    s.parse().unwrap_or(Ipv4Addr::UNSPECIFIED)
}

/// Frames in time order, 10 ms apart, as one Ethernet pcap.
struct Timeline {
    w: PcapWriter,
    t: u64,
}

impl Timeline {
    fn new() -> Self {
        Timeline { w: PcapWriter::with_options(1, 65_535, true, false), t: T0 }
    }
    fn frame(&mut self, f: &[u8]) {
        self.w.packet(self.t, f);
        self.t += 10 * MS;
    }
    fn ip(&mut self, vlan: &[u16], ip: &[u8]) {
        let ethertype = if ip.first().map(|b| b >> 4) == Some(6) { ETH_IPV6 } else { ETH_IPV4 };
        self.frame(&ethernet(SERVER_MAC, CLIENT_MAC, vlan, ethertype, ip));
    }
    fn all(&mut self, vlan: &[u16], ips: Vec<Vec<u8>>) {
        for p in ips {
            self.ip(vlan, &p);
        }
    }
}

/// A small plant: HMI polling a PLC over Modbus, a laptop writing a register, an
/// engineering station stopping an S7 PLC, DNP3 over TCP and fragmented UDP, and two
/// decode anomalies (a cut TCP header and a conflicting fragment overlap).
fn demo() -> Vec<u8> {
    let mut tl = Timeline::new();
    let mut hmi = TcpConversation::new(sa("10.10.1.50:49152"), sa("10.10.2.10:502"));
    tl.all(&[10], hmi.handshake());
    for tid in 1..=3u16 {
        // FC 3 read holding registers 0..10; response with 10 registers.
        tl.ip(&[10], &hmi.client_sends(&modbus_adu(tid, 1, &[0x03, 0x00, 0x00, 0x00, 0x0a])));
        let mut resp = vec![0x03, 20];
        resp.extend((0..20u8).map(|i| i.wrapping_mul(tid as u8)));
        tl.ip(&[10], &hmi.server_sends(&modbus_adu(tid, 1, &resp)));
    }
    let mut laptop = TcpConversation::new(sa("10.10.9.99:50500"), sa("10.10.2.10:502"));
    tl.all(&[10], laptop.handshake());
    // FC 6 write single register 0x0010 := 0x00FF, echoed back.
    let write = modbus_adu(0x77, 1, &[0x06, 0x00, 0x10, 0x00, 0xff]);
    tl.ip(&[10], &laptop.client_sends(&write));
    tl.ip(&[10], &laptop.server_sends(&write));
    tl.all(&[10], laptop.close());

    let mut eng = TcpConversation::new(sa("10.10.9.99:50501"), sa("10.10.2.20:102"));
    tl.all(&[], eng.handshake());
    tl.ip(&[], &eng.client_sends(&s7_plc_stop(0x0100)));
    tl.ip(&[], &eng.server_sends(&tpkt_cotp(&s7_pdu(3, 0x0100, &[0x29], &[]))));

    let mut master = TcpConversation::new(sa("10.10.1.60:20001"), sa("10.10.3.5:20000"));
    tl.all(&[], master.handshake());
    // DNP3 read class 0 (object 60 var 1, all), and a null response.
    tl.ip(&[], &master.client_sends(&dnp3_frame(0xc4, 10, 1, &[0xc0, 0xc0, 0x01, 0x3c, 0x01, 0x06])));
    tl.ip(&[], &master.server_sends(&dnp3_frame(0x44, 1, 10, &[0xc0, 0xc0, 0x81, 0x00, 0x00])));

    // DNP3 over UDP, large enough to fragment: two fragments, reassembled.
    let (m, o) = (sa("10.10.1.60:20000"), sa("10.10.3.6:20000"));
    let big: Vec<u8> = dnp3_frame(0xc4, 11, 1, &[0xc0, 0xc1, 0x02, 0x50, 0x01, 0x00, 0x07, 0x07, 0x00]).repeat(80);
    let dgram = udp(m.ip(), o.ip(), m.port(), o.port(), &big);
    let split = 1480;
    if let (IpAddr::V4(s), IpAddr::V4(d)) = (m.ip(), o.ip()) {
        tl.ip(&[], &ipv4(s, d, PROTO_UDP, 0x4242, Frag { offset: 0, more: true }, &dgram[..split]));
        tl.ip(&[], &ipv4(s, d, PROTO_UDP, 0x4242, Frag { offset: split as u16, more: false }, &dgram[split..]));
    }

    // A frame whose TCP header is cut at 12 bytes, though captured whole.
    let cut = hmi.client_sends(&modbus_adu(4, 1, &[0x03, 0x00, 0x00, 0x00, 0x0a]));
    let mut short = cut[..20 + 12].to_vec();
    short[2..4].copy_from_slice(&32u16.to_be_bytes());
    short[10..12].copy_from_slice(&[0, 0]);
    let sum = checksum(&short[..20]);
    short[10..12].copy_from_slice(&sum.to_be_bytes());
    tl.ip(&[10], &short);

    // Overlapping fragments that disagree: a classic IDS evasion.
    overlap_conflict(&mut tl, v4("10.10.9.99"), v4("10.10.3.6"), 0x5151);
    tl.w.into_bytes()
}

fn overlap_conflict(tl: &mut Timeline, s: Ipv4Addr, d: Ipv4Addr, id: u16) {
    let dgram = udp(IpAddr::V4(s), IpAddr::V4(d), 20000, 20000, &[0x11; 40]);
    tl.ip(&[], &ipv4(s, d, PROTO_UDP, id, Frag { offset: 0, more: true }, &dgram[..24]));
    tl.ip(&[], &ipv4(s, d, PROTO_UDP, id, Frag { offset: 16, more: true }, &[0x22; 16]));
    tl.ip(&[], &ipv4(s, d, PROTO_UDP, id, Frag { offset: 24, more: false }, &dgram[24..]));
}

/// One frame per decode anomaly the wire layer reports.
fn decode_anomalies() -> Vec<u8> {
    let mut tl = Timeline::new();
    let (c, s) = (sa("192.168.1.10:40000"), sa("192.168.1.20:502"));
    let good = {
        let t = Tcp { src_port: c.port(), dst_port: s.port(), seq: 1, ack: 1, flags: PSH | ACK, window: 100 };
        ip(c.ip(), s.ip(), PROTO_TCP, 1, &tcp(c.ip(), s.ip(), &t, &modbus_adu(1, 1, &[0x01, 0, 0, 0, 8])))
    };
    // 1. Ethernet header shorter than 14 bytes.
    tl.frame(&eth_ip(&good)[..9]);
    // 2. IPv4 header cut after 12 bytes.
    tl.frame(&eth_ip(&good)[..14 + 12]);
    // 3. IPv4 total length beyond the frame.
    let mut long = good.clone();
    long[2..4].copy_from_slice(&300u16.to_be_bytes());
    long[10..12].copy_from_slice(&[0, 0]);
    let c4 = checksum(&long[..20]);
    long[10..12].copy_from_slice(&c4.to_be_bytes());
    tl.ip(&[], &long);
    // 4. TCP data offset of 2 words.
    let mut bad_off = good.clone();
    bad_off[32] = 0x20;
    tl.ip(&[], &bad_off);
    // 5. IPv4 header length field of 3 words.
    let mut bad_ihl = good.clone();
    bad_ihl[0] = 0x43;
    tl.ip(&[], &bad_ihl);
    // 6. GRE with the deprecated routing bit.
    tl.ip(&[], &ipv4(v4("10.0.0.1"), v4("10.0.0.2"), PROTO_GRE, 2, Frag::default(), &[0x40, 0x00, 0x65, 0x58]));
    // 7. VXLAN without its valid-VNI flag.
    tl.ip(&[], &ip_udp(sa("10.0.0.1:5000"), sa("10.0.0.2:4789"), &[0u8; 8]));
    // 8. Four GRE layers: one more than we peel.
    let mut nested = good.clone();
    for _ in 0..4 {
        nested = ipv4(v4("10.0.0.1"), v4("10.0.0.2"), PROTO_GRE, 3, Frag::default(), &gre(0x0800, None, None, &nested));
    }
    tl.ip(&[], &nested);
    // 9. A fragment ending past the largest IPv4 datagram.
    tl.ip(&[], &ipv4(v4("10.0.0.1"), v4("10.0.0.2"), PROTO_UDP, 4, Frag { offset: 65_520, more: false }, &[0u8; 64]));
    // 10. Conflicting overlap.
    overlap_conflict(&mut tl, v4("10.0.0.1"), v4("10.0.0.2"), 5);
    // 11. Bad IPv4 and TCP checksums: counted, not reported by default.
    let mut bad_sum = good.clone();
    bad_sum[10] ^= 0x55;
    let last = bad_sum.len() - 1;
    bad_sum[last] ^= 0x01;
    tl.ip(&[], &bad_sum);
    // 12. A reassembled datagram whose TCP header is too short.
    let seg = [0u8; 12];
    tl.ip(&[], &ipv4(v4("10.0.0.1"), v4("10.0.0.2"), PROTO_TCP, 6, Frag { offset: 0, more: true }, &seg[..8]));
    tl.ip(&[], &ipv4(v4("10.0.0.1"), v4("10.0.0.2"), PROTO_TCP, 6, Frag { offset: 8, more: false }, &seg[8..]));
    tl.w.into_bytes()
}

/// Modbus/TCP as remote SPAN and cloud mirrors deliver it: GRE, ERSPAN II and III,
/// VXLAN, QinQ and IPv6. All of it decodes cleanly.
fn tunnels() -> Vec<u8> {
    let mut tl = Timeline::new();
    let mut conv = TcpConversation::new(sa("172.16.5.5:41000"), sa("172.16.6.6:502"));
    let mut packets = conv.handshake();
    packets.push(conv.client_sends(&modbus_adu(9, 1, &[0x01, 0x00, 0x00, 0x00, 0x10])));
    packets.push(conv.server_sends(&modbus_adu(9, 1, &[0x01, 0x02, 0xaa, 0x55])));
    let (outer_s, outer_d) = (v4("198.51.100.1"), v4("198.51.100.2"));
    for (i, p) in packets.iter().enumerate() {
        let inner = ethernet(SERVER_MAC, CLIENT_MAC, &[], ETH_IPV4, p);
        let wrapped = match i % 5 {
            0 => ipv4(outer_s, outer_d, PROTO_GRE, i as u16, Frag::default(), &gre(0x6558, Some(1), None, &inner)),
            1 => ipv4(outer_s, outer_d, PROTO_GRE, i as u16, Frag::default(), &gre(0x88be, None, Some(i as u32), &erspan2(20, 1, &inner))),
            2 => ipv4(
                outer_s,
                outer_d,
                PROTO_GRE,
                i as u16,
                Frag::default(),
                &gre(0x22eb, None, Some(i as u32), &erspan3(21, 2, true, &inner)),
            ),
            3 => ip_udp(SocketAddr::new(outer_s.into(), 49_000), SocketAddr::new(outer_d.into(), 4789), &vxlan(7000, &inner)),
            _ => {
                tl.frame(&ethernet(SERVER_MAC, CLIENT_MAC, &[100, 200], ETH_IPV4, p));
                continue;
            }
        };
        tl.ip(&[], &wrapped);
    }
    let (c6, s6): (IpAddr, IpAddr) = (
        "fd00:10::5".parse().unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
        "fd00:20::6".parse().unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
    );
    let t = Tcp { src_port: 41001, dst_port: 502, seq: 77, ack: 0, flags: SYN, window: 1024 };
    tl.ip(&[30], &ip(c6, s6, PROTO_TCP, 0, &tcp(c6, s6, &t, &[])));
    tl.w.into_bytes()
}

/// Reassembly and detection cases: a request split across segments, segments out of
/// order, a retransmission with different bytes, a segment lost by the SPAN port (then
/// acknowledged), midstream pickups from either side, Modbus on an unexpected port, an
/// OT port carrying something else, IPv6, VLANs and a fragmented TCP segment.
fn streams() -> Vec<u8> {
    let mut tl = Timeline::new();
    let read = |tid: u16| modbus_adu(tid, 1, &[0x03, 0x00, 0x00, 0x00, 0x02]);
    let answer = |tid: u16| modbus_adu(tid, 1, &[0x03, 0x04, 0x00, 0x2A, 0x00, 0x2B]);

    // 1. Handshake; request 1 split inside its MBAP header and again inside the PDU.
    let mut c = TcpConversation::new(sa("10.20.1.10:49200"), sa("10.20.2.10:502"));
    tl.all(&[], c.handshake());
    let r1 = read(1);
    tl.ip(&[], &c.client_sends(&r1[..3]));
    tl.ip(&[], &c.client_sends(&r1[3..9]));
    tl.ip(&[], &c.client_sends(&r1[9..]));
    tl.ip(&[], &c.server_sends(&answer(1)));
    // 2. Request 2 in two segments, the second first.
    let r2 = read(2);
    tl.ip(&[], &c.client_at(5, &r2[5..]));
    tl.ip(&[], &c.client_at(0, &r2[..5]));
    c.client_skip(r2.len() as u32);
    tl.ip(&[], &c.server_sends(&answer(2)));
    // 3. Request 3 sent ahead of a hole, then a "retransmission" over it whose register
    //    address differs from the copy already held: first copy wins.
    let r3 = read(3);
    tl.ip(&[], &c.client_at(6, &r3[6..]));
    let mut forged = r3.clone();
    forged[9] = 0x77;
    tl.ip(&[], &c.client_at(0, &forged));
    c.client_skip(r3.len() as u32);
    tl.ip(&[], &c.server_sends(&answer(3)));
    // 4. Request 4 lost by the SPAN port; the server acknowledges it; request 5 follows.
    c.client_skip(read(4).len() as u32);
    tl.ip(&[], &c.server_acks());
    tl.ip(&[], &c.client_sends(&read(5)));
    tl.all(&[], c.close());

    // 5. Picked up midstream on port 5020 with a response first: the content says the
    //    sender is the server, and Modbus on 5020 is unexpected.
    let mut odd = TcpConversation::new(sa("10.20.1.11:40100"), sa("10.20.2.11:5020"));
    tl.ip(&[7], &odd.server_sends(&answer(9)));
    tl.ip(&[7], &odd.client_sends(&read(10)));
    tl.ip(&[7], &odd.server_sends(&answer(10)));

    // 6. DNP3 picked up midstream from the outstation's side on port 20000.
    let mut dnp = TcpConversation::new(sa("10.20.1.12:40200"), sa("10.20.3.12:20000"));
    tl.ip(&[8], &dnp.server_sends(&dnp3_frame(0x44, 1, 10, &[0xc0, 0xc0, 0x82, 0x00, 0x00])));
    tl.ip(&[8], &dnp.client_sends(&dnp3_frame(0xc4, 10, 1, &[0xc0, 0xc0, 0x00])));

    // 7. Not Modbus on port 502.
    let mut web = TcpConversation::new(sa("10.20.1.13:40300"), sa("10.20.2.10:502"));
    tl.all(&[], web.handshake());
    for _ in 0..3 {
        tl.ip(&[], &web.client_sends(b"GET /status HTTP/1.1\r\nHost: plc\r\n\r\n"));
    }

    // 8. S7comm over IPv6 with a handshake.
    let mut s7 = TcpConversation::new(sa("[fd00:20::14]:40400"), sa("[fd00:30::14]:102"));
    tl.all(&[], s7.handshake());
    tl.ip(&[], &s7.client_sends(&s7_plc_stop(0x0200)));
    tl.ip(&[], &s7.server_sends(&tpkt_cotp(&s7_pdu(3, 0x0200, &[0x29], &[]))));

    // 9. A Modbus request whose TCP segment is split into two IPv4 fragments.
    let (cl, sv) = (sa("10.20.1.15:40500"), sa("10.20.2.10:502"));
    let seg = tcp(
        cl.ip(),
        sv.ip(),
        &Tcp { src_port: cl.port(), dst_port: sv.port(), seq: 7000, ack: 9000, flags: PSH | ACK, window: 512 },
        &read(11),
    );
    let (a, b) = seg.split_at(16);
    tl.ip(&[9], &ipv4(v4("10.20.1.15"), v4("10.20.2.10"), PROTO_TCP, 77, Frag { offset: 0, more: true }, a));
    tl.ip(&[9], &ipv4(v4("10.20.1.15"), v4("10.20.2.10"), PROTO_TCP, 77, Frag { offset: 16, more: false }, b));
    tl.w.into_bytes()
}
