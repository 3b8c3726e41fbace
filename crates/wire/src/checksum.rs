//! Internet checksums (RFC 1071), computed only to count errors: offloaded checksums on
//! SPAN ports and loopback captures are wrong, and the packet is still analysed.
use std::net::IpAddr;

fn sum(mut acc: u64, bytes: &[u8]) -> u64 {
    let mut words = bytes.chunks_exact(2);
    for w in &mut words {
        if let [a, b] = w {
            acc += u64::from(u16::from_be_bytes([*a, *b]));
        }
    }
    if let [last] = words.remainder() {
        acc += u64::from(*last) << 8;
    }
    acc
}

fn fold(mut acc: u64) -> u16 {
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    u16::try_from(acc).unwrap_or(0xffff)
}

/// True when an IPv4 header (checksum field included) sums to all ones.
pub(crate) fn ipv4_header_ok(header: &[u8]) -> bool {
    fold(sum(0, header)) == 0xffff
}

/// True when a TCP or UDP segment (checksum field included) checks against its pseudo-header.
pub(crate) fn transport_ok(src: IpAddr, dst: IpAddr, proto: u8, segment: &[u8]) -> bool {
    let len = segment.len() as u64;
    let mut acc = u64::from(proto) + (len & 0xffff) + (len >> 16);
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            acc = sum(acc, &s.octets());
            acc = sum(acc, &d.octets());
        }
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
