//! Zero-copy reader for pcap and pcapng files, memory-mapped.
//!
//! It follows libpcap's reading rules (record caps, truncation to the snapshot length,
//! the blocks it delivers) so that both readers give the same records; a test holds
//! that on every shared capture.
use crate::{CaptureError, Damage, FrameSource, LinkType, RawFrame};
use otsentry_core::Timestamp;
use std::path::Path;

/// libpcap's MAXIMUM_SNAPLEN: a larger record length means a corrupt file.
const MAX_SNAPLEN: u32 = 262_144;
/// libpcap refuses pcapng blocks above this size.
const MAX_BLOCK: u32 = 16 * 1024 * 1024;
const PCAP_RECORD_HEADER: usize = 16;

enum Bytes {
    Map(memmap2::Mmap),
    Empty,
}

impl Bytes {
    fn as_slice(&self) -> &[u8] {
        match self {
            Bytes::Map(m) => m,
            Bytes::Empty => &[],
        }
    }
}

#[derive(Clone, Copy)]
struct Endian {
    big: bool,
}

impl Endian {
    fn u16(self, b: &[u8], at: usize) -> Option<u16> {
        let a: [u8; 2] = b.get(at..at + 2)?.try_into().ok()?;
        Some(if self.big { u16::from_be_bytes(a) } else { u16::from_le_bytes(a) })
    }
    fn u32(self, b: &[u8], at: usize) -> Option<u32> {
        let a: [u8; 4] = b.get(at..at + 4)?.try_into().ok()?;
        Some(if self.big { u32::from_be_bytes(a) } else { u32::from_le_bytes(a) })
    }
}

#[derive(Clone, Copy)]
struct Interface {
    linktype: LinkType,
    snapshot: u32,
    /// Timestamp units per second (`if_tsresol`).
    units_per_sec: u64,
    offset_secs: i64,
}

enum Format {
    Pcap { endian: Endian, nanos: bool, linktype: LinkType, snapshot: u32 },
    Pcapng { endian: Endian, interfaces: Vec<Interface> },
}

/// Memory-mapped pcap/pcapng reader.
pub struct MmapReader {
    bytes: Bytes,
    pos: usize,
    records: u64,
    format: Format,
    failed: bool,
}

/// libpcap's rule: a zero or oversized snapshot length means "the maximum".
fn effective_snapshot(snaplen: u32) -> u32 {
    if snaplen == 0 || snaplen > MAX_SNAPLEN {
        MAX_SNAPLEN
    } else {
        snaplen
    }
}

fn not_capture(path: &Path, reason: impl Into<String>) -> CaptureError {
    CaptureError::NotACapture { path: path.into(), reason: reason.into() }
}

impl MmapReader {
    pub fn open(path: &Path) -> Result<Self, CaptureError> {
        let file = std::fs::File::open(path).map_err(|source| CaptureError::Open { path: path.into(), source })?;
        let len = file.metadata().map_err(|source| CaptureError::Open { path: path.into(), source })?.len();
        let bytes = if len == 0 {
            Bytes::Empty
        } else {
            // SAFETY: the map is read-only and private to this reader. If another process
            // truncates the file while we read, the kernel raises SIGBUS; that is the
            // documented cost of zero-copy replay (use `--reader libpcap` on files that
            // are still being written).
            #[allow(unsafe_code)]
            let map = unsafe { memmap2::Mmap::map(&file) };
            let map = map.map_err(|source| CaptureError::Open { path: path.into(), source })?;
            // Read front to back: ask the kernel for aggressive read-ahead (advice only;
            // failing to take it changes nothing).
            let _ = map.advise(memmap2::Advice::Sequential);
            Bytes::Map(map)
        };
        let data = bytes.as_slice();
        let magic = data.get(0..4).ok_or_else(|| not_capture(path, format!("file is {len} bytes, shorter than any capture header")))?;
        let format = match magic {
            [0xd4, 0xc3, 0xb2, 0xa1] => Self::pcap_header(path, data, Endian { big: false }, false)?,
            [0xa1, 0xb2, 0xc3, 0xd4] => Self::pcap_header(path, data, Endian { big: true }, false)?,
            [0x4d, 0x3c, 0xb2, 0xa1] => Self::pcap_header(path, data, Endian { big: false }, true)?,
            [0xa1, 0xb2, 0x3c, 0x4d] => Self::pcap_header(path, data, Endian { big: true }, true)?,
            [0x0a, 0x0d, 0x0d, 0x0a] => Self::pcapng_first_section(path, data)?,
            other => return Err(not_capture(path, format!("unknown magic number {:02x?}", other))),
        };
        let pos = match format {
            Format::Pcap { .. } => 24,
            Format::Pcapng { .. } => 0,
        };
        let mut reader = MmapReader { bytes, pos, records: 0, format, failed: false };
        if let Format::Pcapng { .. } = reader.format {
            // libpcap reads the first section and its interfaces at open time, so a file
            // whose first blocks are broken is "not a capture" there too.
            reader.check_pcapng_open(path)?;
        }
        Ok(reader)
    }

    fn pcap_header(path: &Path, data: &[u8], endian: Endian, nanos: bool) -> Result<Format, CaptureError> {
        let short = || not_capture(path, format!("truncated pcap file header: {} of 24 bytes", data.len()));
        let major = endian.u16(data, 4).ok_or_else(short)?;
        let snaplen = endian.u32(data, 16).ok_or_else(short)?;
        let network = endian.u32(data, 20).ok_or_else(short)?;
        if major != 2 {
            return Err(not_capture(path, format!("pcap version {major} is not 2")));
        }
        // The upper bits carry FCS information, not the link type.
        let linktype = LinkType(network & 0x0fff_ffff);
        if !linktype.is_supported() {
            return Err(CaptureError::UnsupportedLinkType { path: path.into(), linktype: linktype.0 });
        }
        Ok(Format::Pcap { endian, nanos, linktype, snapshot: effective_snapshot(snaplen) })
    }

    fn pcapng_first_section(path: &Path, data: &[u8]) -> Result<Format, CaptureError> {
        let endian = match data.get(8..12) {
            Some([0x1a, 0x2b, 0x3c, 0x4d]) => Endian { big: true },
            Some([0x4d, 0x3c, 0x2b, 0x1a]) => Endian { big: false },
            _ => return Err(not_capture(path, "pcapng section header without a byte-order magic")),
        };
        Ok(Format::Pcapng { endian, interfaces: Vec::new() })
    }

    /// Reads blocks up to the first packet without consuming it, so that a file with no
    /// usable interface is refused at open, as libpcap does.
    fn check_pcapng_open(&mut self, path: &Path) -> Result<(), CaptureError> {
        loop {
            let data = self.bytes.as_slice();
            let Some((btype, total, endian)) = self.block_at(self.pos) else {
                return Err(not_capture(path, "truncated or invalid block before the first packet"));
            };
            let body = data.get(self.pos + 8..self.pos + total - 4).unwrap_or_default();
            match btype {
                0x0a0d_0d0a => self.section_header(endian),
                1 => {
                    let iface = Self::interface(endian, body).ok_or_else(|| not_capture(path, "malformed interface description block"))?;
                    if !iface.linktype.is_supported() {
                        return Err(CaptureError::UnsupportedLinkType { path: path.into(), linktype: iface.linktype.0 });
                    }
                    if let Format::Pcapng { interfaces, .. } = &mut self.format {
                        interfaces.push(iface);
                    }
                }
                // Packets end the header part; other blocks before them are skipped.
                2 | 3 | 6 => break,
                _ => {}
            }
            self.pos += total;
            if let Format::Pcapng { interfaces, .. } = &self.format {
                if !interfaces.is_empty() && self.block_at(self.pos).map(|b| b.0) != Some(1) {
                    break;
                }
            }
        }
        let has_iface = matches!(&self.format, Format::Pcapng { interfaces, .. } if !interfaces.is_empty());
        if !has_iface {
            return Err(not_capture(path, "pcapng file has no interface description block"));
        }
        Ok(())
    }

    fn section_header(&mut self, endian: Endian) {
        self.format = Format::Pcapng { endian, interfaces: Vec::new() };
    }

    /// Block type, total length and the section's byte order, if a whole, well-formed
    /// block starts at `pos`.
    fn block_at(&self, pos: usize) -> Option<(u32, usize, Endian)> {
        let data = self.bytes.as_slice();
        let mut endian = match &self.format {
            Format::Pcapng { endian, .. } => *endian,
            Format::Pcap { .. } => return None,
        };
        let btype = endian.u32(data, pos)?;
        if btype == 0x0a0d_0d0a {
            // A new section may switch byte order.
            endian = match data.get(pos + 8..pos + 12)? {
                [0x1a, 0x2b, 0x3c, 0x4d] => Endian { big: true },
                [0x4d, 0x3c, 0x2b, 0x1a] => Endian { big: false },
                _ => return None,
            };
        }
        let total = endian.u32(data, pos + 4)?;
        if total < 12 || total % 4 != 0 || total > MAX_BLOCK {
            return None;
        }
        let total = usize::try_from(total).ok()?;
        data.get(pos..pos + total)?;
        Some((btype, total, endian))
    }

    fn interface(endian: Endian, body: &[u8]) -> Option<Interface> {
        let linktype = LinkType(u32::from(endian.u16(body, 0)?));
        let snaplen = endian.u32(body, 4)?;
        let mut iface = Interface { linktype, snapshot: effective_snapshot(snaplen), units_per_sec: 1_000_000, offset_secs: 0 };
        let mut at = 8;
        while let (Some(code), Some(len)) = (endian.u16(body, at), endian.u16(body, at + 2)) {
            let len = usize::from(len);
            let value = body.get(at + 4..at + 4 + len)?;
            match (code, value) {
                (0, _) => break,
                (9, [res]) => {
                    let exp = u32::from(res & 0x7f);
                    iface.units_per_sec = if res & 0x80 == 0 { 10u64.checked_pow(exp)? } else { 2u64.checked_pow(exp)? };
                }
                (14, v) => iface.offset_secs = i64::from_le_bytes(v.try_into().ok()?),
                _ => {}
            }
            at += 4 + len.div_ceil(4) * 4;
        }
        Some(iface)
    }

    fn damage(&mut self, reason: String) -> Damage {
        self.failed = true;
        Damage { record: self.records + 1, offset: self.pos as u64, reason }
    }

    fn next_pcap(&mut self, endian: Endian, nanos: bool, linktype: LinkType, snapshot: u32) -> Result<Option<RawFrame<'_>>, Damage> {
        let data = self.bytes.as_slice();
        let remaining = data.len().saturating_sub(self.pos);
        if remaining == 0 {
            return Ok(None);
        }
        let Some(header) = data.get(self.pos..self.pos + PCAP_RECORD_HEADER).and_then(|h| <&[u8; 16]>::try_from(h).ok()) else {
            return Err(self.damage(format!("truncated record header: {remaining} of {PCAP_RECORD_HEADER} bytes")));
        };
        let field = |w: [u8; 4]| if endian.big { u32::from_be_bytes(w) } else { u32::from_le_bytes(w) };
        let [a0, a1, a2, a3, b0, b1, b2, b3, c0, c1, c2, c3, d0, d1, d2, d3] = *header;
        let (secs, frac) = (field([a0, a1, a2, a3]), field([b0, b1, b2, b3]));
        let (caplen, origlen) = (field([c0, c1, c2, c3]), field([d0, d1, d2, d3]));
        if caplen > MAX_SNAPLEN {
            return Err(self.damage(format!("record length {caplen} is bigger than the maximum of {MAX_SNAPLEN}")));
        }
        let start = self.pos + PCAP_RECORD_HEADER;
        let on_disk = caplen as usize;
        if data.len() - start < on_disk {
            let got = data.len() - start;
            return Err(self.damage(format!("truncated record: {got} of {caplen} captured bytes")));
        }
        // libpcap keeps only the snapshot length of an over-long record.
        let kept = on_disk.min(snapshot as usize);
        self.pos = start + on_disk;
        self.records += 1;
        let nanos_part = if nanos { frac } else { frac.saturating_mul(1000) };
        let ts = Timestamp::from_secs_nanos(i64::from(secs), nanos_part);
        let frame_data = self.bytes.as_slice().get(start..start + kept).unwrap_or_default();
        Ok(Some(RawFrame { ts, linktype, origlen, data: frame_data }))
    }

    fn next_pcapng(&mut self) -> Result<Option<RawFrame<'_>>, Damage> {
        loop {
            let data = self.bytes.as_slice();
            let remaining = data.len().saturating_sub(self.pos);
            if remaining == 0 {
                return Ok(None);
            }
            let Some((btype, total, endian)) = self.block_at(self.pos) else {
                let reason = match self.peek_block_len() {
                    Some(len) if len as usize > remaining => {
                        format!("truncated block: {remaining} of {len} bytes")
                    }
                    Some(len) => format!("invalid block length {len}"),
                    None => format!("truncated block header: {remaining} bytes"),
                };
                return Err(self.damage(reason));
            };
            let body_start = self.pos + 8;
            let body_end = self.pos + total - 4;
            let block_pos = self.pos;
            let body = data.get(body_start..body_end).unwrap_or_default();
            let packet = match btype {
                0x0a0d_0d0a => {
                    self.section_header(endian);
                    None
                }
                1 => match Self::interface(endian, body) {
                    Some(iface) => {
                        if let Format::Pcapng { interfaces, .. } = &mut self.format {
                            interfaces.push(iface);
                        }
                        None
                    }
                    None => return Err(self.damage("malformed interface description block".into())),
                },
                // Enhanced packet block.
                6 => match packet_fields(endian, body, endian.u32(body, 0)) {
                    Ok(p) => Some(p),
                    Err(reason) => return Err(self.damage(reason)),
                },
                // Obsolete packet block: 16-bit interface id and drop count.
                2 => match packet_fields(endian, body, endian.u16(body, 0).map(u32::from)) {
                    Ok(p) => Some(p),
                    Err(reason) => return Err(self.damage(reason)),
                },
                // Simple packet block: interface 0, no timestamp, data up to the block end.
                3 => {
                    let origlen = endian.u32(body, 0).unwrap_or(0);
                    let snap = self.iface(0).map(|i| i.snapshot).unwrap_or(MAX_SNAPLEN);
                    let caplen = origlen.min(snap).min(u32::try_from(body.len().saturating_sub(4)).unwrap_or(0));
                    Some((0, 0, caplen, origlen, 4))
                }
                _ => None,
            };
            self.pos = block_pos + total;
            let Some((iface_id, ts_units, caplen, origlen, data_off)) = packet else {
                continue;
            };
            let Some(iface) = self.iface(iface_id) else {
                self.pos = block_pos;
                return Err(self.damage(format!("packet on interface {iface_id}, which no interface block describes")));
            };
            let kept = caplen.min(iface.snapshot) as usize;
            let start = body_start + data_off;
            let ts = pcapng_timestamp(ts_units, iface);
            self.records += 1;
            let frame_data = self.bytes.as_slice().get(start..start + kept).unwrap_or_default();
            return Ok(Some(RawFrame { ts, linktype: iface.linktype, origlen, data: frame_data }));
        }
    }

    fn peek_block_len(&self) -> Option<u32> {
        match &self.format {
            Format::Pcapng { endian, .. } => endian.u32(self.bytes.as_slice(), self.pos + 4),
            Format::Pcap { .. } => None,
        }
    }

    fn iface(&self, id: u32) -> Option<Interface> {
        match &self.format {
            Format::Pcapng { interfaces, .. } => interfaces.get(id as usize).copied(),
            Format::Pcap { .. } => None,
        }
    }
}

/// An EPB's or PB's fixed fields (their layouts differ only in the interface id's
/// width): interface, timestamp units, captured and original length, data offset.
fn packet_fields(endian: Endian, body: &[u8], iface: Option<u32>) -> Result<(u32, u64, u32, u32, usize), String> {
    const DATA_OFFSET: usize = 20;
    let fields = (|| Some((iface?, endian.u32(body, 4)?, endian.u32(body, 8)?, endian.u32(body, 12)?, endian.u32(body, 16)?)))();
    let Some((iface, hi, lo, caplen, origlen)) = fields else {
        return Err("packet block shorter than its fixed fields".into());
    };
    if caplen as usize > body.len().saturating_sub(DATA_OFFSET) {
        return Err(format!("packet block's captured length {caplen} exceeds the block"));
    }
    Ok((iface, (u64::from(hi) << 32) | u64::from(lo), caplen, origlen, DATA_OFFSET))
}

fn pcapng_timestamp(units: u64, iface: Interface) -> Timestamp {
    let per = u128::from(iface.units_per_sec.max(1));
    let nanos = u128::from(units) * 1_000_000_000 / per;
    let nanos = i64::try_from(nanos).unwrap_or(i64::MAX);
    Timestamp(nanos.saturating_add(iface.offset_secs.saturating_mul(1_000_000_000)))
}

impl FrameSource for MmapReader {
    fn next_frame(&mut self) -> Result<Option<RawFrame<'_>>, Damage> {
        if self.failed {
            return Ok(None);
        }
        match self.format {
            Format::Pcap { endian, nanos, linktype, snapshot } => self.next_pcap(endian, nanos, linktype, snapshot),
            Format::Pcapng { .. } => self.next_pcapng(),
        }
    }

    fn progress(&self) -> (u64, u64) {
        (self.pos as u64, self.bytes.as_slice().len() as u64)
    }
}
