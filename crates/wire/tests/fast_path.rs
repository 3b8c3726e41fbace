//! The hand-written fast path must decode exactly as the general etherparse path does,
//! for the frames it accepts and for every corruption of them.
use otsentry_pcapgen::*;
use otsentry_wire::{decode, decode_general, linktype, DecodeOptions};
use proptest::prelude::*;
use std::net::SocketAddr;

fn frame(vlans: &[u16], udp_proto: bool, dport: u16, payload: &[u8], pad: usize) -> Vec<u8> {
    let c: SocketAddr = "10.1.2.3:40000".parse().unwrap();
    let s: SocketAddr = SocketAddr::new("10.9.8.7".parse().unwrap(), dport);
    let ip = if udp_proto {
        ip_udp(c, s, payload)
    } else {
        let t = Tcp { src_port: c.port(), dst_port: s.port(), seq: 77, ack: 99, flags: PSH | ACK, window: 1024 };
        ip(c.ip(), s.ip(), PROTO_TCP, 5, &tcp(c.ip(), s.ip(), &t, payload))
    };
    let mut f = ethernet(SERVER_MAC, CLIENT_MAC, vlans, ETH_IPV4, &ip);
    f.extend(std::iter::repeat_n(0u8, pad)); // Ethernet padding after the IP packet
    f
}

fn same(link: u32, f: &[u8], origlen: u32) {
    for verify_checksums in [true, false] {
        let opts = DecodeOptions { verify_checksums, ..Default::default() };
        assert_eq!(decode(link, f, origlen, &opts), decode_general(link, f, origlen, &opts), "frame {f:02x?}");
    }
}

#[test]
fn common_frames_decode_the_same_on_both_paths() {
    for vlans in [&[][..], &[7], &[7, 8], &[1, 2, 3]] {
        for udp in [false, true] {
            for dport in [502, 4789, 20000] {
                for pad in [0, 6] {
                    let f = frame(vlans, udp, dport, b"\x00\x01\x00\x00\x00\x06\x01\x03\x00\x00\x00\x02", pad);
                    same(linktype::ETHERNET, &f, f.len() as u32);
                    let raw = &f[14 + 4 * vlans.len()..];
                    same(linktype::RAW, raw, raw.len() as u32);
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]
    #[test]
    fn corrupted_frames_decode_the_same_on_both_paths(
        vlans in prop::collection::vec(0u16..4096, 0..3),
        udp in any::<bool>(),
        payload in prop::collection::vec(any::<u8>(), 0..40),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
        cut in any::<prop::sample::Index>(),
        cut_it in any::<bool>(),
        snap_short in any::<bool>(),
    ) {
        let mut f = frame(&vlans, udp, 502, &payload, 0);
        let wire_len = f.len() as u32;
        for (at, x) in flips {
            let i = at.index(f.len().min(80));
            f[i] ^= x;
        }
        if cut_it {
            f.truncate(cut.index(f.len() + 1));
        }
        let origlen = if snap_short { wire_len.max(f.len() as u32) } else { f.len() as u32 };
        same(linktype::ETHERNET, &f, origlen);
    }
}
