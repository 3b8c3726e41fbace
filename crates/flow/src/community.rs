//! Community ID v1 (Corelight's specification): a flow hash that Zeek, Suricata and
//! tshark compute alike, so a SOC can pivot between tools on one flow.
use otsentry_core::IpProto;
use std::net::IpAddr;

/// ICMPv4 request/response pairs that hash as one conversation.
const ICMP4_PAIRS: &[(u8, u8)] = &[(8, 0), (13, 14), (15, 16), (10, 9), (17, 18)];
/// ICMPv6 request/response pairs.
const ICMP6_PAIRS: &[(u8, u8)] = &[(128, 129), (133, 134), (135, 136), (130, 131), (139, 140), (144, 145)];

fn counterpart(pairs: &[(u8, u8)], t: u8) -> Option<u8> {
    pairs.iter().find_map(|&(a, b)| {
        if a == t {
            Some(b)
        } else if b == t {
            Some(a)
        } else {
            None
        }
    })
}

fn addr_bytes(ip: &IpAddr) -> Vec<u8> {
    match ip {
        IpAddr::V4(a) => a.octets().to_vec(),
        IpAddr::V6(a) => a.octets().to_vec(),
    }
}

/// The `1:<base64 sha1>` Community ID of a packet from `src` to `dst`.
///
/// `src_port`/`dst_port` are the transport ports for TCP, UDP and SCTP, and the ICMP type
/// and code for ICMP; `None` for protocols without ports.
pub fn community_id(seed: u16, proto: IpProto, src: IpAddr, dst: IpAddr, ports: Option<(u16, u16)>) -> String {
    let (mut sport, mut dport) = ports.unwrap_or((0, 0));
    let mut one_way = false;
    let icmp_pairs = match proto {
        IpProto::ICMP => Some(ICMP4_PAIRS),
        IpProto::ICMPV6 => Some(ICMP6_PAIRS),
        _ => None,
    };
    if let (Some(pairs), Some((t, _code))) = (icmp_pairs, ports) {
        let t8 = u8::try_from(t).unwrap_or(u8::MAX);
        match counterpart(pairs, t8) {
            Some(other) => dport = u16::from(other),
            None => one_way = true,
        }
        sport = t;
    }
    let (a, b) = (addr_bytes(&src), addr_bytes(&dst));
    let keep = one_way || a < b || (a == b && sport < dport);
    let (a, b, sport, dport) = if keep { (a, b, sport, dport) } else { (b, a, dport, sport) };
    let mut h = sha1_smol::Sha1::new();
    h.update(&seed.to_be_bytes());
    h.update(&a);
    h.update(&b);
    h.update(&[proto.0, 0]);
    if ports.is_some() {
        h.update(&sport.to_be_bytes());
        h.update(&dport.to_be_bytes());
    }
    format!("1:{}", base64(&h.digest().bytes()))
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let sym = |i: u32| char::from(ALPHABET.get((i & 63) as usize).copied().unwrap_or(b'A'));
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = |i: usize| u32::from(chunk.get(i).copied().unwrap_or(0));
        let n = (b(0) << 16) | (b(1) << 8) | b(2);
        out.push(sym(n >> 18));
        out.push(sym(n >> 12));
        out.push(if chunk.len() > 1 { sym(n >> 6) } else { '=' });
        out.push(if chunk.len() > 2 { sym(n) } else { '=' });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn specification_example() {
        // The example in the Community ID specification's README.
        let id = community_id(0, IpProto::TCP, ip("128.232.110.120"), ip("66.35.250.204"), Some((34855, 80)));
        assert_eq!(id, "1:LQU9qZlK+B5F3KDmev6m5PMibrg=");
    }

    #[test]
    fn reference_values() {
        // Computed with the specification's reference algorithm (Python hashlib).
        assert_eq!(community_id(0, IpProto::UDP, ip("192.168.1.52"), ip("8.8.8.8"), Some((54585, 53))), "1:d/FP5EW3wiY1vCndhwleRRKHowQ=");
        assert_eq!(
            community_id(0, IpProto::TCP, ip("fe80::200:86ff:fe05:80da"), ip("fe80::260:97ff:fe07:69ea"), Some((1, 2))),
            "1:JETlgBm4LXP5CwobPGu4IYZF5Hs="
        );
    }

    #[test]
    fn icmp_echo_and_reply_share_an_id_one_way_types_do_not_flip() {
        let req = community_id(0, IpProto::ICMP, ip("10.0.0.1"), ip("10.0.0.2"), Some((8, 0)));
        let rep = community_id(0, IpProto::ICMP, ip("10.0.0.2"), ip("10.0.0.1"), Some((0, 0)));
        assert_eq!(req, rep);
        // Destination unreachable (3) is one-way: direction matters.
        let a = community_id(0, IpProto::ICMP, ip("10.0.0.1"), ip("10.0.0.2"), Some((3, 1)));
        let b = community_id(0, IpProto::ICMP, ip("10.0.0.2"), ip("10.0.0.1"), Some((3, 1)));
        assert_ne!(a, b);
    }

    #[test]
    fn seed_changes_the_id() {
        let a = community_id(0, IpProto::TCP, ip("10.0.0.1"), ip("10.0.0.2"), Some((1, 502)));
        let b = community_id(1, IpProto::TCP, ip("10.0.0.1"), ip("10.0.0.2"), Some((1, 502)));
        assert_ne!(a, b);
    }

    #[test]
    fn base64_padding() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
    }

    proptest! {
        #[test]
        fn both_directions_hash_alike(a in any::<[u8; 4]>(), b in any::<[u8; 4]>(), p in any::<u16>(), q in any::<u16>(), udp in any::<bool>()) {
            let proto = if udp { IpProto::UDP } else { IpProto::TCP };
            let (x, y) = (IpAddr::from(a), IpAddr::from(b));
            prop_assert_eq!(community_id(0, proto, x, y, Some((p, q))), community_id(0, proto, y, x, Some((q, p))));
        }
    }
}
