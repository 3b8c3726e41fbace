//! Rewrites one of our captures the ways a device's stack still accepts: TCP payloads
//! cut into several segments (sent in reverse order when asked), IPv4 packets cut into
//! two fragments, Ethernet frames padded with a trailer. What the device receives is
//! unchanged, so every alert of the original must still fire on the rewrite.
use crate::packet::{ipv4, tcp, with_ttl, Frag, Tcp, PROTO_TCP};
use crate::writer::PcapWriter;
use std::net::{IpAddr, Ipv4Addr};

/// How to rewrite; `seed` chooses the cut points.
#[derive(Clone, Copy, Debug)]
pub struct Reshape {
    pub seed: u64,
    /// Cut TCP payloads of two bytes or more into two or three segments.
    pub split: bool,
    /// Send the pieces (segments or fragments) last first.
    pub reverse: bool,
    /// Cut IPv4 packets that carry no cut TCP payload into two fragments.
    pub fragment: bool,
    /// Trailer bytes after each IPv4 packet in its Ethernet frame.
    pub pad: usize,
}

struct Rng(u64);

impl Rng {
    /// A number in 1..n (n at least 2).
    fn cut(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        1 + (self.0 % (n as u64 - 1)) as usize
    }
}

/// `pcap` (as our writer writes it: little-endian, nanosecond stamps, Ethernet) rewritten
/// by `how`. Frames that are not untagged IPv4 pass unchanged.
pub fn reshape(pcap: &[u8], how: Reshape) -> Vec<u8> {
    let mut w = PcapWriter::with_options(1, 65_535, true, false);
    let mut rng = Rng(how.seed | 1);
    let mut at = 24;
    while let Some(rec) = pcap.get(at..at + 16) {
        let u = |i: usize| u32::from_le_bytes([rec[i], rec[i + 1], rec[i + 2], rec[i + 3]]);
        let ts = u64::from(u(0)) * 1_000_000_000 + u64::from(u(4));
        let len = u(8) as usize;
        let Some(frame) = pcap.get(at + 16..at + 16 + len) else { break };
        at += 16 + len;
        for (i, f) in pieces(frame, how, &mut rng).into_iter().enumerate() {
            w.packet(ts + i as u64, &f);
        }
    }
    w.into_bytes()
}

fn pieces(frame: &[u8], how: Reshape, rng: &mut Rng) -> Vec<Vec<u8>> {
    let (Some(eth), Some(ip)) = (frame.get(..14), frame.get(14..)) else { return vec![frame.to_vec()] };
    if eth[12..14] != [0x08, 0x00] || ip.first() != Some(&0x45) {
        return vec![frame.to_vec()];
    }
    let total = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
    let (Some(body), ttl, proto, id) = (ip.get(20..total), ip[8], ip[9], u16::from_be_bytes([ip[4], ip[5]])) else {
        return vec![frame.to_vec()];
    };
    if u16::from_be_bytes([ip[6], ip[7]]) & 0x3FFF != 0 {
        return vec![frame.to_vec()]; // already a fragment
    }
    let src = Ipv4Addr::new(ip[12], ip[13], ip[14], ip[15]);
    let dst = Ipv4Addr::new(ip[16], ip[17], ip[18], ip[19]);
    let mut packets: Vec<Vec<u8>> = Vec::new();
    let data_at = body.get(12).map_or(20, |b| usize::from(b >> 4) * 4);
    match (proto, body.get(data_at..)) {
        (PROTO_TCP, Some(payload)) if how.split && payload.len() >= 2 && data_at == 20 => {
            let seq = u32::from_be_bytes([body[4], body[5], body[6], body[7]]);
            let t = Tcp {
                src_port: u16::from_be_bytes([body[0], body[1]]),
                dst_port: u16::from_be_bytes([body[2], body[3]]),
                seq,
                ack: u32::from_be_bytes([body[8], body[9], body[10], body[11]]),
                flags: body[13],
                window: u16::from_be_bytes([body[14], body[15]]),
            };
            let mut cuts = vec![0, rng.cut(payload.len()), payload.len()];
            if payload.len() >= 3 {
                cuts.push(rng.cut(payload.len()));
            }
            cuts.sort_unstable();
            cuts.dedup();
            for pair in cuts.windows(2) {
                let (a, b) = (pair[0], pair[1]);
                let piece = Tcp { seq: seq.wrapping_add(a as u32), ..t };
                let segment = tcp(IpAddr::V4(src), IpAddr::V4(dst), &piece, &payload[a..b]);
                packets.push(with_ttl(&ipv4(src, dst, PROTO_TCP, id, Frag::default(), &segment), ttl));
            }
        }
        _ if how.fragment && body.len() >= 16 => {
            let cut = 8 * rng.cut(body.len() / 8); // leaves at least 8 bytes to the second
            let first = ipv4(src, dst, proto, id, Frag { offset: 0, more: true }, &body[..cut]);
            let second = ipv4(src, dst, proto, id, Frag { offset: cut as u16, more: false }, &body[cut..]);
            packets = vec![with_ttl(&first, ttl), with_ttl(&second, ttl)];
        }
        _ => packets.push(ip[..total].to_vec()),
    }
    if how.reverse {
        packets.reverse();
    }
    packets
        .into_iter()
        .map(|p| {
            let mut f = eth.to_vec();
            f.extend_from_slice(&p);
            f.resize(f.len() + how.pad, 0);
            f
        })
        .collect()
}
