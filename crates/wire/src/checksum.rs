//! Internet checksums (RFC 1071), computed only to count errors: offloaded checksums on
//! SPAN ports and loopback captures are wrong, and the packet is still analysed.
use std::net::IpAddr;

/// One's-complement sum of big-endian 16-bit words, added 64 bits at a time with
/// end-around carry: 2^64 and 2^32 are congruent to 1 modulo 0xFFFF, so folding the
/// 64-bit sum at the end gives the same result as summing 16-bit words.
fn sum(acc: u64, bytes: &[u8]) -> u64 {
    let mut words = bytes.chunks_exact(8);
    let mut acc = acc;
    for w in &mut words {
        if let Ok(w) = <[u8; 8]>::try_from(w) {
            acc = add(acc, u64::from_be_bytes(w));
        }
    }
    let mut rest = words.remainder();
    if let Some((w, r)) = rest.split_first_chunk::<4>() {
        acc = add(acc, u64::from(u32::from_be_bytes(*w)));
        rest = r;
    }
    if let Some((w, r)) = rest.split_first_chunk::<2>() {
        acc = add(acc, u64::from(u16::from_be_bytes(*w)));
        rest = r;
    }
    if let [last] = rest {
        acc = add(acc, u64::from(*last) << 8);
    }
    acc
}

/// Add with end-around carry (one's-complement addition in 64 bits).
fn add(acc: u64, x: u64) -> u64 {
    let (s, carry) = acc.overflowing_add(x);
    s + u64::from(carry)
}

fn fold(acc: u64) -> u16 {
    let mut acc = (acc >> 32) + (acc & 0xFFFF_FFFF);
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    u16::try_from(acc).unwrap_or(0xffff)
}

/// True when an IPv4 header (checksum field included) sums to all ones.
pub(crate) fn ipv4_header_ok(header: &[u8]) -> bool {
    fold(sum(0, header)) == 0xffff
}

/// [`ipv4_header_ok`] for the usual 20-byte header, unrolled.
pub(crate) fn ipv4_header20_ok(h: &[u8; 20]) -> bool {
    let w = |b: [u8; 4]| u64::from(u32::from_be_bytes(b));
    let [a0, a1, a2, a3, b0, b1, b2, b3, c0, c1, c2, c3, d0, d1, d2, d3, e0, e1, e2, e3] = *h;
    fold(w([a0, a1, a2, a3]) + w([b0, b1, b2, b3]) + w([c0, c1, c2, c3]) + w([d0, d1, d2, d3]) + w([e0, e1, e2, e3])) == 0xffff
}

/// True when a TCP or UDP segment (checksum field included) checks against its pseudo-header.
pub(crate) fn transport_ok(src: IpAddr, dst: IpAddr, proto: u8, segment: &[u8]) -> bool {
    let len = segment.len() as u64;
    let mut acc = u64::from(proto) + (len & 0xffff) + (len >> 16);
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => acc += u64::from(s.to_bits()) + u64::from(d.to_bits()),
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            acc = sum(acc, &s.octets());
            acc = sum(acc, &d.octets());
        }
        _ => return true,
    }
    fold(sum(acc, segment)) == 0xffff
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 1071's definition, 16 bits at a time.
    fn reference(bytes: &[u8]) -> u16 {
        let mut acc: u64 = 0;
        for pair in bytes.chunks(2) {
            acc += u64::from(pair[0]) << 8 | u64::from(*pair.get(1).unwrap_or(&0));
        }
        fold(acc)
    }

    #[test]
    fn the_unrolled_header_check_agrees() {
        let mut hdr: [u8; 20] =
            [0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7];
        for i in 0..40 {
            hdr[i % 20] = hdr[i % 20].wrapping_add((i as u8).wrapping_mul(37));
            assert_eq!(ipv4_header20_ok(&hdr), ipv4_header_ok(&hdr));
        }
        hdr[10] = 0;
        hdr[11] = 0;
        let c = !fold(sum(0, &hdr));
        hdr[10..12].copy_from_slice(&c.to_be_bytes());
        assert!(ipv4_header20_ok(&hdr));
    }

    #[test]
    fn word_at_a_time_sum_equals_the_definition_for_every_length() {
        let data: Vec<u8> = (0..300u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
        for n in 0..data.len() {
            for start in 0..3.min(data.len() - n) {
                let b = &data[start..start + n];
                assert_eq!(fold(sum(0, b)), reference(b), "len {n} start {start}");
            }
        }
    }

    #[test]
    fn rfc1071_example_header() {
        // A textbook IPv4 header with checksum 0xb861.
        let hdr = [0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7];
        assert!(ipv4_header_ok(&hdr));
        let mut bad = hdr;
        bad[11] ^= 1;
        assert!(!ipv4_header_ok(&bad));
    }
}
