//! IPv4 defragmentation: in order, out of order, overlapping (agreeing and conflicting),
//! oversize, over the caps, and expiry on packet time.
use otsentry_core::Timestamp;
use otsentry_pcapgen::*;
use otsentry_wire::{decode, decode_transport, linktype, DecodeOptions, DefragConfig, DefragEvent, Defragmenter, Transport};
use std::net::{IpAddr, Ipv4Addr};

const SRC: Ipv4Addr = Ipv4Addr::new(10, 1, 1, 1);
const DST: Ipv4Addr = Ipv4Addr::new(10, 1, 1, 2);

/// A UDP/20000 datagram carrying `n` payload bytes, cut into IPv4 fragments of `step` bytes.
fn datagram(n: usize) -> Vec<u8> {
    let payload: Vec<u8> = (0..n).map(|i| (i % 251) as u8).collect();
    udp(IpAddr::V4(SRC), IpAddr::V4(DST), 20000, 20000, &payload)
}

fn fragments(udp_bytes: &[u8], step: usize, id: u16) -> Vec<Vec<u8>> {
    udp_bytes
        .chunks(step)
        .enumerate()
        .map(|(i, chunk)| {
            let offset = (i * step) as u16;
            let more = offset as usize + chunk.len() < udp_bytes.len();
            ipv4(SRC, DST, PROTO_UDP, id, Frag { offset, more }, chunk)
        })
        .collect()
}

/// Feed fragments in the given order; return the reassembled UDP payload length and events.
fn feed(d: &mut Defragmenter, frags: &[Vec<u8>], order: &[usize]) -> (Option<usize>, Vec<DefragEvent>) {
    let opts = DecodeOptions::default();
    let mut done = None;
    let mut events = Vec::new();
    for (n, &i) in order.iter().enumerate() {
        let p = decode(linktype::RAW, &frags[i], frags[i].len() as u32, &opts);
        let ip = p.ip.expect("ip");
        assert!(ip.fragment.is_some());
        assert_eq!(p.transport, Transport::None, "a fragment has no transport header to read");
        let r = d.insert(Timestamp(n as i64), &ip);
        events.extend(r.event);
        if let Some(dg) = r.datagram {
            let whole = decode_transport(&dg, &opts);
            assert!(!whole.checksum.udp, "reassembled UDP checksum verifies");
            let Transport::Udp(u) = whole.transport else { panic!("not UDP") };
            assert_eq!(u.payload, &datagram(u.payload.len())[8..], "bytes in their places");
            done = Some(u.payload.len());
        }
    }
    (done, events)
}

#[test]
fn in_order_and_every_permutation_of_four() {
    let dg = datagram(100);
    let frags = fragments(&dg, 32, 7); // 108 bytes: 32+32+32+12
    assert_eq!(frags.len(), 4);
    let mut perms = Vec::new();
    permute(&mut vec![0, 1, 2, 3], 0, &mut perms);
    assert_eq!(perms.len(), 24);
    for order in perms {
        let mut d = Defragmenter::new(DefragConfig::default());
        let (done, events) = feed(&mut d, &frags, &order);
        assert_eq!(done, Some(100), "order {order:?}");
        assert!(events.is_empty());
        assert_eq!((d.pending(), d.buffered()), (0, 0), "nothing left behind");
    }
}

fn permute(v: &mut Vec<usize>, k: usize, out: &mut Vec<Vec<usize>>) {
    if k == v.len() {
        out.push(v.clone());
        return;
    }
    for i in k..v.len() {
        v.swap(k, i);
        permute(v, k + 1, out);
        v.swap(k, i);
    }
}

#[test]
fn agreeing_overlap_is_a_retransmission() {
    let dg = datagram(100);
    let mut frags = fragments(&dg, 32, 8);
    // An extra copy of bytes 16..48, identical to the originals.
    frags.push(ipv4(SRC, DST, PROTO_UDP, 8, Frag { offset: 16, more: true }, &dg[16..48]));
    let mut d = Defragmenter::new(DefragConfig::default());
    let (done, events) = feed(&mut d, &frags, &[0, 4, 1, 2, 3]);
    assert_eq!(done, Some(100));
    assert!(events.is_empty());
    // The copy overlaps fragment 0, and fragment 1 then overlaps the copy.
    assert_eq!((d.stats.overlaps, d.stats.conflicts), (2, 0));
}

#[test]
fn conflicting_overlap_keeps_the_first_copy_and_reports() {
    let dg = datagram(100);
    let mut frags = fragments(&dg, 32, 9);
    let mut evil = dg[32..64].to_vec();
    evil.iter_mut().for_each(|b| *b ^= 0xff);
    frags.push(ipv4(SRC, DST, PROTO_UDP, 9, Frag { offset: 32, more: true }, &evil));
    let mut d = Defragmenter::new(DefragConfig::default());
    // Original first, then the conflicting copy: the original bytes survive (checked in feed).
    let (done, events) = feed(&mut d, &frags, &[0, 1, 4, 2, 3]);
    assert_eq!(done, Some(100));
    assert_eq!(events, vec![DefragEvent::OverlapConflict { offset: 32, len: 32 }]);
    assert_eq!(d.stats.conflicts, 1);
}

#[test]
fn oversize_and_caps_drop_and_count() {
    let mut d = Defragmenter::new(DefragConfig { max_bytes: 64, max_trains: 2, timeout_ns: 1_000 });
    let opts = DecodeOptions::default();
    let insert = |d: &mut Defragmenter, pkt: &[u8], ts: i64| {
        let p = decode(linktype::RAW, pkt, pkt.len() as u32, &opts);
        d.insert(Timestamp(ts), &p.ip.unwrap()).event
    };
    // Ends past 65515 bytes.
    let huge = ipv4(SRC, DST, PROTO_UDP, 1, Frag { offset: 65_528, more: false }, &[0u8; 16]);
    assert!(matches!(insert(&mut d, &huge, 0), Some(DefragEvent::TooLarge { .. })));
    // Memory cap: a first fragment of 48 bytes fits, a second one at offset 48 does not.
    let a = ipv4(SRC, DST, PROTO_UDP, 2, Frag { offset: 0, more: true }, &[1u8; 48]);
    let b = ipv4(SRC, DST, PROTO_UDP, 2, Frag { offset: 48, more: true }, &[1u8; 48]);
    assert_eq!(insert(&mut d, &a, 1), None);
    assert!(matches!(insert(&mut d, &b, 2), Some(DefragEvent::CapReached { .. })));
    assert!(d.buffered() <= 64, "stays under the memory cap: {}", d.buffered());
    // Train cap: two trains pending, a third is refused.
    let c = ipv4(SRC, DST, PROTO_UDP, 3, Frag { offset: 0, more: true }, &[1u8; 8]);
    let e = ipv4(SRC, DST, PROTO_UDP, 4, Frag { offset: 0, more: true }, &[1u8; 8]);
    assert_eq!(insert(&mut d, &c, 3), None);
    assert!(matches!(insert(&mut d, &e, 4), Some(DefragEvent::CapReached { .. })));
    assert_eq!(d.stats.dropped, 3);
    // Packet time passes the timeout: both trains expire and their fragments count as dropped.
    assert_eq!(insert(&mut d, &e, 10_000), None);
    assert_eq!(d.stats.expired_trains, 2);
    assert_eq!(d.pending(), 1);
}

#[test]
fn ipv6_fragments_are_reassembled_too() {
    let (s, d): (std::net::Ipv6Addr, std::net::Ipv6Addr) = ("fd00::1".parse().unwrap(), "fd00::2".parse().unwrap());
    let payload: Vec<u8> = (0..300u16).map(|i| i as u8).collect();
    let whole = udp(IpAddr::V6(s), IpAddr::V6(d), 20000, 20000, &payload);
    // Fragment extension header: next header UDP, offset in 8-byte units with M flag, id.
    let frag = |offset: usize, chunk: &[u8], more: bool| {
        let mut ext = vec![PROTO_UDP, 0];
        ext.extend_from_slice(&(((offset / 8) as u16) << 3 | u16::from(more)).to_be_bytes());
        ext.extend_from_slice(&0xdead_beefu32.to_be_bytes());
        ext.extend_from_slice(chunk);
        ipv6(s, d, 44, &ext)
    };
    let frags = [frag(0, &whole[..160], true), frag(160, &whole[160..], false)];
    let opts = DecodeOptions::default();
    let mut defrag = Defragmenter::new(DefragConfig::default());
    let mut got = None;
    for (i, f) in frags.iter().rev().enumerate() {
        let p = decode(linktype::IPV6, f, f.len() as u32, &opts);
        let ip = p.ip.unwrap();
        let fr = ip.fragment.expect("fragment header parsed");
        assert_eq!(fr.id, 0xdead_beef);
        assert_eq!(ip.proto.0, PROTO_UDP);
        if let Some(dg) = defrag.insert(Timestamp(i as i64), &ip).datagram {
            let w = decode_transport(&dg, &opts);
            assert!(!w.checksum.udp);
            if let Transport::Udp(u) = w.transport {
                got = Some(u.payload.to_vec());
            }
        }
    }
    assert_eq!(got.as_deref(), Some(&payload[..]));
}
