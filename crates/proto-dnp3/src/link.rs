//! The link layer: 0x0564, length, control, destination, source, header CRC, then user
//! data in 16-byte blocks each followed by its CRC.
use crate::anomaly::Dnp3Anomaly;
use crate::{crc16, LINK_HEADER_LEN};

/// Link control byte, decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Control(pub u8);

impl Control {
    /// Set on frames from the master.
    pub fn dir(self) -> bool {
        self.0 & 0x80 != 0
    }
    /// Set on frames that start a link transaction (primary).
    pub fn prm(self) -> bool {
        self.0 & 0x40 != 0
    }
    pub fn function(self) -> u8 {
        self.0 & 0x0F
    }
    /// Whether the frame carries transport/application data (primary, user data).
    pub fn carries_user_data(self) -> bool {
        self.prm() && matches!(self.function(), 3 | 4)
    }
}

/// A link frame whose header framed, borrowed from the buffer it was found in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LinkFrame<'a> {
    pub length: u8,
    pub control: Control,
    pub destination: u16,
    pub source: u16,
    /// The data blocks, each followed by its CRC.
    pub blocks: &'a [u8],
    /// Index of the first data block whose CRC failed.
    pub bad_block: Option<usize>,
    /// Bytes the frame occupies on the wire.
    pub wire_len: usize,
}

impl LinkFrame<'_> {
    /// Append the user data (block CRCs removed) to `out`; nothing when a block CRC
    /// failed. A caller keeps one buffer, so a frame never allocates.
    pub fn user_data_into(&self, out: &mut Vec<u8>) {
        if self.bad_block.is_some() {
            return;
        }
        for block in self.blocks.chunks(18) {
            out.extend_from_slice(block.get(..block.len().saturating_sub(2)).unwrap_or_default());
        }
    }

    /// The user data as a new vector (tests and tools).
    pub fn user_data(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(usize::from(self.length).saturating_sub(5));
        self.user_data_into(&mut v);
        v
    }
}

/// What the bytes at the start of a buffer are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Link<'a> {
    Frame(LinkFrame<'a>),
    NeedMore,
    /// Not a frame start: no 0x0564, or the header CRC fails, or the length is below 5.
    Bad(BadLink),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BadLink {
    NoStart,
    HeaderCrc { expected: u16, found: u16 },
    LengthTooSmall(u8),
}

impl BadLink {
    /// Suricata's event name.
    pub fn event(self) -> Dnp3Anomaly {
        match self {
            BadLink::NoStart => Dnp3Anomaly::Resync,
            BadLink::HeaderCrc { .. } => Dnp3Anomaly::BadLinkCrc,
            BadLink::LengthTooSmall(_) => Dnp3Anomaly::LenTooSmall,
        }
    }
}

impl std::fmt::Display for BadLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BadLink::NoStart => write!(f, "no 0x0564 start"),
            BadLink::HeaderCrc { expected, found } => write!(f, "link header CRC 0x{found:04X}, computed 0x{expected:04X}"),
            BadLink::LengthTooSmall(l) => write!(f, "link length {l} is below the minimum of 5"),
        }
    }
}

/// Bytes a frame of link length `length` occupies: header, data and a CRC per block.
pub fn wire_len(length: u8) -> usize {
    let data = usize::from(length).saturating_sub(5);
    LINK_HEADER_LEN + data + 2 * data.div_ceil(16)
}

pub fn link(bytes: &[u8]) -> Link<'_> {
    let Some(h) = bytes.first_chunk::<10>() else {
        // Judge what is there: a wrong start byte needs no more data to be wrong.
        if bytes.first().is_some_and(|&b| b != 0x05) || bytes.get(1).is_some_and(|&b| b != 0x64) {
            return Link::Bad(BadLink::NoStart);
        }
        return Link::NeedMore;
    };
    let [s0, s1, length, control, d0, d1, r0, r1, c0, c1] = *h;
    if (s0, s1) != (0x05, 0x64) {
        return Link::Bad(BadLink::NoStart);
    }
    let expected = crc16(&[s0, s1, length, control, d0, d1, r0, r1]);
    let found = u16::from_le_bytes([c0, c1]);
    if expected != found {
        return Link::Bad(BadLink::HeaderCrc { expected, found });
    }
    if length < 5 {
        return Link::Bad(BadLink::LengthTooSmall(length));
    }
    let total = wire_len(length);
    let Some(blocks) = bytes.get(LINK_HEADER_LEN..total) else { return Link::NeedMore };
    let bad_block = blocks.chunks(18).position(|block| {
        let (payload, crc) = block.split_at(block.len().saturating_sub(2));
        crc.len() != 2 || crc16(payload).to_le_bytes() != crc
    });
    Link::Frame(LinkFrame {
        length,
        control: Control(control),
        destination: u16::from_le_bytes([d0, d1]),
        source: u16::from_le_bytes([r0, r1]),
        blocks,
        bad_block,
        wire_len: total,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(control: u8, dst: u16, src: u16, data: &[u8]) -> Vec<u8> {
        let mut f = vec![0x05, 0x64, (5 + data.len()) as u8, control];
        f.extend_from_slice(&dst.to_le_bytes());
        f.extend_from_slice(&src.to_le_bytes());
        let c = crc16(&f).to_le_bytes();
        f.extend_from_slice(&c);
        for b in data.chunks(16) {
            f.extend_from_slice(b);
            f.extend_from_slice(&crc16(b).to_le_bytes());
        }
        f
    }

    #[test]
    fn frames_with_zero_one_and_several_blocks() {
        for n in [0usize, 1, 15, 16, 17, 32, 250] {
            let data: Vec<u8> = (0..n).map(|i| i as u8).collect();
            let f = frame(0xC4, 1, 1024, &data);
            assert_eq!(wire_len(f[2]), f.len(), "{n} bytes");
            let Link::Frame(l) = link(&f) else { panic!("{n}") };
            assert_eq!((l.user_data(), l.bad_block, l.source, l.destination), (data, None, 1024, 1));
            assert!(l.control.dir() && l.control.prm() && l.control.carries_user_data());
            for cut in 2..f.len() {
                assert_eq!(link(&f[..cut]), Link::NeedMore, "{n} bytes cut at {cut}");
            }
        }
    }

    #[test]
    fn bad_crcs_and_lengths() {
        let mut f = frame(0x44, 1, 2, &[1, 2, 3]);
        f[9] ^= 1;
        assert!(matches!(link(&f), Link::Bad(BadLink::HeaderCrc { .. })));
        let mut g = frame(0x44, 1, 2, &[1, 2, 3]);
        let last = g.len() - 1;
        g[last] ^= 1;
        let Link::Frame(l) = link(&g) else { panic!() };
        assert_eq!((l.bad_block, l.user_data().len()), (Some(0), 0));
        let mut short = frame(0x44, 1, 2, &[]);
        short[2] = 4;
        let c = crc16(&short[..8]).to_le_bytes();
        short[8..10].copy_from_slice(&c);
        assert_eq!(link(&short), Link::Bad(BadLink::LengthTooSmall(4)));
        assert_eq!(link(b"\x05\x65"), Link::Bad(BadLink::NoStart));
    }
}
