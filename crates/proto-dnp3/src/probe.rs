//! Is this DNP3? The start bytes 0x05 0x64, a length of at least 5, and a link header
//! whose CRC verifies: two bytes of magic and sixteen of checksum make chance matches
//! negligible on any port.
use crate::{crc16, LINK_HEADER_LEN};
use otsentry_core::{Direction, ProbeResult};

/// Control byte: DIR set means the frame comes from the master.
const DIR: u8 = 0x80;

pub fn probe(data: &[u8]) -> ProbeResult {
    let start = data.get(..2);
    if start.is_some_and(|s| s != [0x05, 0x64]) || data.first().is_some_and(|&b| b != 0x05) {
        return ProbeResult::NoMatch;
    }
    let Some(header) = data.get(..LINK_HEADER_LEN) else {
        return ProbeResult::NeedMore;
    };
    let (fields, crc) = header.split_at(8);
    let len = fields.get(2).copied().unwrap_or(0);
    if len < 5 || crc16(fields).to_le_bytes() != crc {
        return ProbeResult::NoMatch;
    }
    // The master is the TCP client (or the UDP side that polls).
    let dir = match fields.get(3) {
        Some(c) if c & DIR != 0 => Direction::ToServer,
        _ => Direction::ToClient,
    };
    ProbeResult::Match { proto: crate::DNP3, dir: Some(dir) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(control: u8) -> Vec<u8> {
        let mut f = vec![
            0x05, 0x64, // start
            0x05, // length: header only
            control, 0x01, 0x00, // destination 1
            0x00, 0x04, // source 1024
        ];
        let crc = crc16(&f).to_le_bytes();
        f.extend_from_slice(&crc);
        f
    }

    #[test]
    fn the_dir_bit_gives_the_direction() {
        assert_eq!(probe(&frame(0xC9)), ProbeResult::Match { proto: crate::DNP3, dir: Some(Direction::ToServer) });
        assert_eq!(probe(&frame(0x0B)), ProbeResult::Match { proto: crate::DNP3, dir: Some(Direction::ToClient) });
    }

    #[test]
    fn short_prefixes_need_more_and_bad_crcs_do_not_match() {
        let f = frame(0xC9);
        for n in 0..f.len() {
            assert_eq!(probe(&f[..n]), ProbeResult::NeedMore, "prefix {n}");
        }
        let mut bad = f.clone();
        bad[9] ^= 1;
        assert_eq!(probe(&bad), ProbeResult::NoMatch);
        assert_eq!(probe(b"\x05\x65"), ProbeResult::NoMatch);
        assert_eq!(probe(b"GET /"), ProbeResult::NoMatch);
    }
}
