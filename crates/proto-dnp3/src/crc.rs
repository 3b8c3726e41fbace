//! CRC-16/DNP: polynomial 0x3D65, reflected, initial 0, final XOR 0xFFFF; sent low byte
//! first after the link header and after every 16-byte data block.

const TABLE: [u16; 256] = table();

// Indices are below 256 by construction: a loop bound, and a `u8`.
#[allow(clippy::indexing_slicing)]
const fn table() -> [u16; 256] {
    let mut t = [0u16; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u16;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 { (c >> 1) ^ 0xA6BC } else { c >> 1 };
            k += 1;
        }
        t[i] = c;
        i += 1;
    }
    t
}

#[allow(clippy::indexing_slicing)]
pub fn crc16(data: &[u8]) -> u16 {
    let crc = data.iter().fold(0u16, |crc, &b| (crc >> 8) ^ TABLE[usize::from((crc ^ u16::from(b)) as u8)]);
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalogue_check_value() {
        assert_eq!(crc16(b"123456789"), 0xEA82);
    }

    #[test]
    fn a_link_header_seen_on_the_wire() {
        // From a public DNP3 capture: start, length 11, control 0xC4 (DIR, PRM,
        // unconfirmed user data), destination 5, source 100; CRC 0x366F low byte first.
        let header = [0x05, 0x64, 0x0B, 0xC4, 0x05, 0x00, 0x64, 0x00];
        assert_eq!(crc16(&header).to_le_bytes(), [0x6F, 0x36]);
    }
}
