//! The frames that make up nearly all control-network traffic, decoded by hand:
//! Ethernet with up to two VLAN tags (or raw IPv4), an unfragmented IPv4 packet whose
//! lengths agree with the frame, and a well-formed TCP or UDP header. Anything else
//! (IPv6, fragments, tunnels, truncation, odd lengths) returns `false` and takes the
//! general etherparse path, which gives the same [`Packet`] for the frames handled here
//! (a property test holds the two paths to that).
use crate::{checksum, linktype, DecodeOptions, IpInfo, Packet, TcpInfo, Transport, UdpInfo};
use otsentry_core::IpProto;
use std::net::{IpAddr, Ipv4Addr};

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

/// A fixed-size view: after this one check, constant indexes cannot fail.
fn view<const N: usize>(b: &[u8]) -> Option<&[u8; N]> {
    b.get(..N)?.try_into().ok()
}

const VLAN_8021Q: u16 = 0x8100;
const VLAN_QINQ: u16 = 0x88A8;

/// Where the IPv4 header of an Ethernet frame (up to two VLAN tags, their ids into
/// `vlan`) or a raw IPv4 frame starts; `None` for anything else.
fn ipv4_at(link: u32, frame: &[u8], vlan: &mut [u16; 3], vlan_count: &mut u8) -> Option<usize> {
    match link {
        linktype::ETHERNET => {
            let mut at = 14;
            let mut ethertype = be16(frame, 12)?;
            while ethertype == VLAN_8021Q || ethertype == VLAN_QINQ {
                let slot = vlan.get_mut(usize::from(*vlan_count)).filter(|_| *vlan_count < 2)?;
                *slot = be16(frame, at)? & 0x0FFF;
                *vlan_count += 1;
                ethertype = be16(frame, at + 2)?;
                at += 4;
            }
            (ethertype == 0x0800).then_some(at)
        }
        linktype::RAW | linktype::RAW_12 | linktype::RAW_14 | linktype::IPV4 => Some(0),
        _ => None,
    }
}

/// Fill `pkt` from `frame` if it is the common case; `false` leaves `pkt` untouched.
pub(crate) fn decode<'a>(link: u32, frame: &'a [u8], opts: &DecodeOptions, pkt: &mut Packet<'a>) -> bool {
    decode_opt(link, frame, opts, pkt).is_some()
}

fn decode_opt<'a>(link: u32, frame: &'a [u8], opts: &DecodeOptions, pkt: &mut Packet<'a>) -> Option<()> {
    let mut vlan = [0u16; 3];
    let mut vlan_count = 0u8;
    let at = ipv4_at(link, frame, &mut vlan, &mut vlan_count)?;
    let macs = (link == linktype::ETHERNET).then(|| {
        // Destination then source: two big-endian 48-bit words (the link read found 14 bytes).
        let m = |i: usize| frame.get(i).copied().unwrap_or(0);
        let dst = crate::mac_word([m(0), m(1), m(2), m(3), m(4), m(5)]);
        let src = crate::mac_word([m(6), m(7), m(8), m(9), m(10), m(11)]);
        crate::Macs { src, dst }
    });
    let ip = frame.get(at..)?;
    let h: &[u8; 20] = view(ip)?;
    let header_len = usize::from(h[0] & 0x0F) * 4;
    let total_len = usize::from(u16::from_be_bytes([h[2], h[3]]));
    let frag = u16::from_be_bytes([h[6], h[7]]);
    if h[0] >> 4 != 4 || header_len < 20 || total_len < header_len || total_len > ip.len() || frag & 0x3FFF != 0 {
        return None;
    }
    let proto = h[9];
    let payload = ip.get(header_len..total_len)?;
    let transport = match proto {
        6 => {
            let t: &[u8; 20] = view(payload)?;
            let data_offset = usize::from(t[12] >> 4) * 4;
            if data_offset < 20 {
                return None;
            }
            Transport::Tcp(TcpInfo {
                src_port: u16::from_be_bytes([t[0], t[1]]),
                dst_port: u16::from_be_bytes([t[2], t[3]]),
                seq: u32::from_be_bytes([t[4], t[5], t[6], t[7]]),
                ack: u32::from_be_bytes([t[8], t[9], t[10], t[11]]),
                flags: t[13],
                window: u16::from_be_bytes([t[14], t[15]]),
                payload: payload.get(data_offset..)?,
            })
        }
        17 => {
            let u: &[u8; 8] = view(payload)?;
            let dst_port = u16::from_be_bytes([u[2], u[3]]);
            if usize::from(u16::from_be_bytes([u[4], u[5]])) != payload.len() || dst_port == opts.vxlan_port {
                return None;
            }
            Transport::Udp(UdpInfo { src_port: u16::from_be_bytes([u[0], u[1]]), dst_port, payload: payload.get(8..)? })
        }
        _ => return None,
    };
    let info = IpInfo {
        src: IpAddr::V4(Ipv4Addr::new(h[12], h[13], h[14], h[15])),
        dst: IpAddr::V4(Ipv4Addr::new(h[16], h[17], h[18], h[19])),
        proto: IpProto(proto),
        ttl: h[8],
        offset: at,
        fragment: None,
        payload,
    };
    if opts.verify_checksums {
        pkt.checksum.ipv4 = !if header_len == 20 { checksum::ipv4_header20_ok(h) } else { checksum::ipv4_header_ok(ip.get(..header_len)?) };
        if !pkt.snaplen_cut {
            match transport {
                Transport::Tcp(_) => pkt.checksum.tcp = !checksum::transport_ok(info.src, info.dst, 6, payload),
                // A zero UDP checksum over IPv4 means "not computed".
                _ if be16(payload, 6) == Some(0) => {}
                _ => pkt.checksum.udp = !checksum::transport_ok(info.src, info.dst, 17, payload),
            }
        }
    }
    pkt.vlan = vlan;
    pkt.vlan_count = vlan_count;
    pkt.macs = macs;
    pkt.ip = Some(info);
    pkt.transport = transport;
    Some(())
}

/// The address pair of a plain IPv4 frame (Ethernet with up to two VLAN tags, or raw
/// IPv4; no IP options; TCP, UDP or a fragment), read with no more than the checks that
/// make it certain: the two addresses as words, and whether the packet is whole (not a
/// fragment). `None` for anything else (IPv6, tunnels, damage, other links): the caller decodes those in full. The
/// cheap half of spreading frames over workers by address pair.
pub fn ipv4_pair(link: u32, frame: &[u8], vxlan_port: u16) -> Option<(u32, u32, bool)> {
    let at = ipv4_at(link, frame, &mut [0; 3], &mut 0)?;
    let ip = frame.get(at..)?;
    let h: &[u8; 20] = view(ip)?;
    let header_len = usize::from(h[0] & 0x0F) * 4;
    let total_len = usize::from(u16::from_be_bytes([h[2], h[3]]));
    // Options are rare and the decoder checks them: it reads those headers.
    if h[0] != 0x45 || total_len < header_len || total_len > ip.len() {
        return None;
    }
    let frag = u16::from_be_bytes([h[6], h[7]]) & 0x3FFF;
    let payload = ip.get(header_len..total_len)?;
    match h[9] {
        // GRE and ERSPAN carry another packet: its addresses are the pair.
        47 => return None,
        // A whole TCP or UDP packet's header as the decoder accepts it; anything else
        // the decoder reads itself.
        6 if frag == 0 => {
            let offset = usize::from(*payload.get(12)? >> 4) * 4;
            if offset < 20 || offset > payload.len() {
                return None;
            }
        }
        17 if frag == 0 => {
            let u: &[u8; 8] = view(payload)?;
            if usize::from(u16::from_be_bytes([u[4], u[5]])) != payload.len() || u16::from_be_bytes([u[2], u[3]]) == vxlan_port {
                return None;
            }
        }
        // A fragment's transport is read once it is reassembled.
        _ if frag != 0 => {}
        // ICMP and the rest: the decoder checks their headers (a short one stops it).
        _ => return None,
    }
    let src = u32::from_be_bytes([h[12], h[13], h[14], h[15]]);
    let dst = u32::from_be_bytes([h[16], h[17], h[18], h[19]]);
    Some((src, dst, frag == 0))
}

#[cfg(test)]
mod pair_tests {
    use super::*;

    /// Bytes from hex digits, spaces ignored.
    fn unhex(text: &str) -> Vec<u8> {
        let digits: Vec<u8> = text.bytes().filter(u8::is_ascii_hexdigit).collect();
        digits.chunks(2).map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap()).collect()
    }

    /// Ethernet, one VLAN tag, IPv4, TCP: the vector the workers' hash reads.
    fn vlan_tcp() -> Vec<u8> {
        unhex(concat!(
            "020000000002 020000000001 8100",                   // destination, source MAC; 802.1Q
            "0064 0800",                                        // VLAN 100; IPv4
            "45 00 0028 0001 0000 40 06 0000",                  // version 4, IHL 5; total 40; not a fragment; TTL 64; TCP
            "0a1e0909 0a1e0264",                                // 10.30.9.9 -> 10.30.2.100
            "9c40 01f6 00000001 00000000 50 02 ffff 0000 0000", // ports 40000 -> 502; data offset 5
        ))
    }

    #[test]
    fn the_pair_of_a_tagged_tcp_frame_is_read_at_every_cut() {
        let f = vlan_tcp();
        assert_eq!(ipv4_pair(linktype::ETHERNET, &f, 4789), Some((0x0A1E_0909, 0x0A1E_0264, true)));
        // Any shorter frame is not certain: the decoder is asked instead.
        for cut in 0..f.len() {
            assert_eq!(ipv4_pair(linktype::ETHERNET, f.get(..cut).unwrap_or(&[]), 4789), None, "cut at {cut}");
        }
    }

    /// Found by the `ipv4_pair` fuzz target: a 4-byte ICMP header is truncated for the
    /// decoder (it needs 8), so the packet never reaches the flow stage; the cheap read
    /// must not call it whole.
    #[test]
    fn a_truncated_icmp_header_is_left_to_the_decoder() {
        let mut f = vlan_tcp();
        f[27] = 1; // ICMP
        let icmp = [0x08, 0x00, 0x00, 0x00]; // echo request, its header cut at 4 bytes
        f.truncate(38);
        f.extend_from_slice(&icmp);
        f[20..22].copy_from_slice(&24u16.to_be_bytes()); // total length: 20 + 4
        assert_eq!(ipv4_pair(linktype::ETHERNET, &f, 4789), None);
        // IP options (IHL 6) are the decoder's too.
        let mut opts = vlan_tcp();
        opts[18] = 0x46;
        assert_eq!(ipv4_pair(linktype::ETHERNET, &opts, 4789), None);
    }

    #[test]
    fn fragments_are_read_and_tunnels_left_to_the_decoder() {
        let mut f = vlan_tcp();
        f[24] = 0x20; // more fragments
        assert_eq!(ipv4_pair(linktype::ETHERNET, &f, 4789), Some((0x0A1E_0909, 0x0A1E_0264, false)));
        let mut gre = vlan_tcp();
        gre[27] = 47; // protocol GRE
        assert_eq!(ipv4_pair(linktype::ETHERNET, &gre, 4789), None);
        let mut short_tcp = vlan_tcp();
        short_tcp[50] = 0x40; // TCP data offset 4: the decoder flags it
        assert_eq!(ipv4_pair(linktype::ETHERNET, &short_tcp, 4789), None);
    }
}
