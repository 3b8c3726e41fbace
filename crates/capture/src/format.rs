//! pcap and pcapng parsing over a window of bytes, shared by the memory-mapped reader
//! (the window is the whole file) and the streaming reader (a buffer it refills).
//!
//! It follows libpcap's reading rules (the header versions it accepts, swapped length
//! fields of old versions, record caps, truncation to the snapshot length, the blocks it
//! delivers) so that our readers and libpcap give the same records; tests hold that on
//! every shared capture and on corrupted headers our builder writes.
use crate::{Damage, LinkType};
use otsentry_core::Timestamp;
use std::ops::Range;

/// libpcap's MAXIMUM_SNAPLEN: a larger record length means a corrupt file.
pub(crate) const MAX_SNAPLEN: u32 = 262_144;
/// libpcap refuses pcapng blocks above this size.
pub(crate) const MAX_BLOCK: u32 = 16 * 1024 * 1024;
/// libpcap's BT_SHB_INSANE_MAX: the largest section header block it reads.
const MAX_SECTION_HEADER: u32 = 1024 * 1024;
const PCAPNG_SHB: u32 = 0x0a0d_0d0a;

/// Why a file cannot be read at all (nothing was delivered).
#[derive(Debug)]
pub(crate) enum Refusal {
    NotACapture(String),
    UnsupportedLinkType(u32),
}

/// What the bytes at the current position hold.
pub(crate) enum Step {
    /// A record, now behind the position: its captured bytes are at `data`, offsets from
    /// the start of the capture.
    Frame {
        ts: Timestamp,
        linktype: LinkType,
        origlen: u32,
        data: Range<u64>,
    },
    /// At least this many bytes from [`Parser::pos`] on are needed (never at EOF).
    NeedMore(usize),
    End,
    Damage(Damage),
}

/// Which capture format a file's first bytes announce.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CaptureFormat {
    Pcap,
    Pcapng,
}

/// What a capture's magic number says: the format, and for pcap how its records are laid
/// out. The one table of magic numbers.
#[derive(Clone, Copy)]
enum Magic {
    Pcap { endian: Endian, nanos: bool, record_header: usize },
    Pcapng,
}

fn magic(head: &[u8]) -> Option<Magic> {
    let pcap = |big, nanos, record_header| Some(Magic::Pcap { endian: Endian { big }, nanos, record_header });
    match head.get(0..4)? {
        [0xd4, 0xc3, 0xb2, 0xa1] => pcap(false, false, 16),
        [0xa1, 0xb2, 0xc3, 0xd4] => pcap(true, false, 16),
        [0x4d, 0x3c, 0xb2, 0xa1] => pcap(false, true, 16),
        [0xa1, 0xb2, 0x3c, 0x4d] => pcap(true, true, 16),
        // Alexey Kuznetzov's patched format: 8 more bytes per record header.
        [0x34, 0xcd, 0xb2, 0xa1] => pcap(false, false, 24),
        [0xa1, 0xb2, 0xcd, 0x34] => pcap(true, false, 24),
        [0x0a, 0x0d, 0x0d, 0x0a] => Some(Magic::Pcapng),
        _ => None,
    }
}

impl CaptureFormat {
    /// The format whose magic number `head` starts with, if any.
    pub fn sniff(head: &[u8]) -> Option<CaptureFormat> {
        Some(match magic(head)? {
            Magic::Pcap { .. } => CaptureFormat::Pcap,
            Magic::Pcapng => CaptureFormat::Pcapng,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            CaptureFormat::Pcap => "pcap",
            CaptureFormat::Pcapng => "pcapng",
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

/// How libpcap reads the length fields of a pcap record header: versions before 2.3
/// wrote captured and original length the other way round, 2.3 either way.
#[derive(Clone, Copy)]
enum Lengths {
    AsWritten,
    Swapped,
    MaybeSwapped,
}

#[derive(Clone, Copy)]
struct Interface {
    linktype: LinkType,
    snapshot: u32,
    /// Timestamp units per second (`if_tsresol`).
    units_per_sec: u64,
    offset_secs: i64,
}

/// How a pcap file's records are read, from its file header.
#[derive(Clone, Copy)]
struct PcapLayout {
    endian: Endian,
    nanos: bool,
    linktype: LinkType,
    snapshot: u32,
    lengths: Lengths,
    record_header: usize,
}

enum Format {
    Pcap(PcapLayout),
    Pcapng { endian: Endian, interfaces: Vec<Interface> },
}

/// The reading state of one capture: its format, where it is, how many records it gave.
pub(crate) struct Parser {
    format: Format,
    /// Offset of the current position from the start of the capture.
    pos: u64,
    records: u64,
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

/// Whole or not yet whole: what opening needs from the first bytes.
pub(crate) enum Opened {
    Ready(Parser),
    NeedMore(usize),
}

fn refuse(reason: impl Into<String>) -> Refusal {
    Refusal::NotACapture(reason.into())
}

impl Parser {
    /// Reads the file header from `head` (the capture's first bytes; `eof` when there are
    /// no more). A pcapng file is read up to its first interface, as libpcap does at open.
    pub(crate) fn open(head: &[u8], eof: bool) -> Result<Opened, Refusal> {
        let Some(first) = head.get(0..4) else {
            return if eof {
                Err(refuse(format!("{} bytes, shorter than any capture header", head.len())))
            } else {
                Ok(Opened::NeedMore(4))
            };
        };
        let format = match magic(head) {
            Some(Magic::Pcap { endian, nanos, record_header }) => pcap_header(head, eof, endian, nanos, record_header)?,
            Some(Magic::Pcapng) => match head.get(8..12) {
                Some([0x1a, 0x2b, 0x3c, 0x4d]) => Some(Format::Pcapng { endian: Endian { big: true }, interfaces: Vec::new() }),
                Some([0x4d, 0x3c, 0x2b, 0x1a]) => Some(Format::Pcapng { endian: Endian { big: false }, interfaces: Vec::new() }),
                Some(_) => return Err(refuse("pcapng section header without a byte-order magic")),
                None if eof => return Err(refuse(format!("truncated pcapng section header: {} bytes", head.len()))),
                None => None,
            },
            None => return Err(refuse(format!("unknown magic number {first:02x?}"))),
        };
        let Some(format) = format else {
            return Ok(Opened::NeedMore(24));
        };
        let pos = match format {
            Format::Pcap(_) => 24,
            Format::Pcapng { .. } => 0,
        };
        let mut parser = Parser { format, pos, records: 0, failed: false };
        if let Format::Pcapng { .. } = parser.format {
            if let Some(need) = parser.pcapng_open(head, eof)? {
                return Ok(Opened::NeedMore(need));
            }
        }
        Ok(Opened::Ready(parser))
    }

    /// As [`Parser::open`] for a capture whose bytes are all at hand (a mapped file).
    pub(crate) fn open_whole(bytes: &[u8]) -> Result<Parser, Refusal> {
        match Parser::open(bytes, true)? {
            Opened::Ready(p) => Ok(p),
            // At EOF every shortfall is a refusal; this is never reached.
            Opened::NeedMore(_) => Err(refuse("truncated capture header")),
        }
    }

    /// Offset of the next record from the start of the capture.
    pub(crate) fn pos(&self) -> u64 {
        self.pos
    }

    /// The next record, given `window`: capture bytes from offset `base` on (as many as
    /// are at hand, starting at or before [`Parser::pos`]; `eof` when no more will come).
    // Inlined into each reader's `next_frame`, where the window's constants fold: this is
    // the per-packet path (pcapng's blocks stay out of line).
    #[inline(always)]
    pub(crate) fn step(&mut self, window: &[u8], base: u64, eof: bool) -> Step {
        if self.failed {
            return Step::End;
        }
        let skip = usize::try_from(self.pos.saturating_sub(base)).unwrap_or(usize::MAX);
        let rest = window.get(skip..).unwrap_or_default();
        match self.format {
            Format::Pcap(layout) => self.next_pcap(rest, eof, layout),
            Format::Pcapng { .. } => self.next_pcapng(rest, eof),
        }
    }

    /// A record found at `start..start + len` of the current position: move past it.
    #[inline]
    fn frame(&mut self, ts: Timestamp, linktype: LinkType, origlen: u32, start: usize, len: usize, total: usize) -> Step {
        let data = self.pos + start as u64..self.pos + (start + len) as u64;
        self.pos += total as u64;
        self.records += 1;
        Step::Frame { ts, linktype, origlen, data }
    }

    /// Damage at the current position: a malformed record, or a read error of the
    /// underlying stream (a corrupt gzip member, say), as a truncated file is.
    #[cold]
    pub(crate) fn damage(&mut self, reason: String) -> Damage {
        self.failed = true;
        Damage { record: self.records + 1, offset: Some(self.pos), reason }
    }

    #[inline(always)]
    fn next_pcap(&mut self, rest: &[u8], eof: bool, layout: PcapLayout) -> Step {
        let PcapLayout { endian, nanos, linktype, snapshot, lengths, record_header } = layout;
        // The four header fields in one bounds check (Kuznetzov's 8 more bytes follow).
        let header = rest.get(..16).and_then(|h| <&[u8; 16]>::try_from(h).ok()).filter(|_| rest.len() >= record_header);
        let Some(&[a0, a1, a2, a3, b0, b1, b2, b3, c0, c1, c2, c3, d0, d1, d2, d3]) = header else {
            if rest.is_empty() {
                return if eof { Step::End } else { Step::NeedMore(record_header) };
            }
            if !eof {
                return Step::NeedMore(record_header);
            }
            return Step::Damage(self.damage(format!("truncated record header: {} of {record_header} bytes", rest.len())));
        };
        let field = |w: [u8; 4]| if endian.big { u32::from_be_bytes(w) } else { u32::from_le_bytes(w) };
        let (secs, frac, a, b) = (field([a0, a1, a2, a3]), field([b0, b1, b2, b3]), field([c0, c1, c2, c3]), field([d0, d1, d2, d3]));
        let (caplen, origlen) = match lengths {
            Lengths::AsWritten => (a, b),
            Lengths::MaybeSwapped if a <= b => (a, b),
            Lengths::Swapped | Lengths::MaybeSwapped => (b, a),
        };
        if caplen > MAX_SNAPLEN {
            return Step::Damage(self.damage(format!("record length {caplen} is bigger than the maximum of {MAX_SNAPLEN}")));
        }
        let on_disk = caplen as usize;
        let total = record_header + on_disk;
        if rest.len() < total {
            let got = rest.len() - record_header;
            if !eof {
                return Step::NeedMore(total);
            }
            return Step::Damage(self.damage(format!("truncated record: {got} of {caplen} captured bytes")));
        }
        // libpcap keeps only the snapshot length of an over-long record.
        let kept = on_disk.min(snapshot as usize);
        let nanos_part = if nanos { frac } else { frac.saturating_mul(1000) };
        let ts = Timestamp::from_secs_nanos(i64::from(secs), nanos_part);
        self.frame(ts, linktype, origlen, record_header, kept, total)
    }

    /// Reads blocks up to the first interface description, as libpcap does at open, so
    /// that a file with no usable interface is refused. `Some(n)`: `n` bytes are needed.
    fn pcapng_open(&mut self, head: &[u8], eof: bool) -> Result<Option<usize>, Refusal> {
        let mut at = 0usize;
        loop {
            let rest = head.get(at..).unwrap_or_default();
            let (btype, total, endian) = match self.block_at(rest) {
                Block::Whole(b, t, e) => (b, t, e),
                Block::NeedMore(n) if !eof => return Ok(Some(at + n)),
                Block::NeedMore(_) if at == 0 => return Err(refuse("truncated pcapng section header block")),
                Block::NeedMore(_) => return Err(refuse("the capture file has no Interface Description Blocks")),
                Block::Invalid(reason) => return Err(refuse(reason)),
            };
            let body = rest.get(8..total - 4).unwrap_or_default();
            match btype {
                PCAPNG_SHB => {
                    if let Some(reason) = section_version_problem(endian, body) {
                        return Err(refuse(reason));
                    }
                    self.format = Format::Pcapng { endian, interfaces: Vec::new() };
                }
                1 => {
                    let iface = interface(endian, body).ok_or_else(|| refuse("malformed interface description block"))?;
                    if !iface.linktype.is_supported() {
                        return Err(Refusal::UnsupportedLinkType(iface.linktype.0));
                    }
                    if let Format::Pcapng { interfaces, .. } = &mut self.format {
                        interfaces.push(iface);
                    }
                    // Like libpcap, open stops at the first interface; later blocks are read
                    // as records are.
                    self.pos = (at + total) as u64;
                    return Ok(None);
                }
                2 | 3 | 6 => return Err(refuse("the capture file has a packet block before any Interface Description Blocks")),
                _ => {}
            }
            at += total;
        }
    }

    /// Block type, total length and the section's byte order, if a whole, well-formed
    /// block starts `rest`.
    fn block_at(&self, rest: &[u8]) -> Block {
        let mut endian = match &self.format {
            Format::Pcapng { endian, .. } => *endian,
            Format::Pcap(_) => return Block::Invalid("not pcapng".into()),
        };
        let Some(btype) = endian.u32(rest, 0) else { return Block::NeedMore(12) };
        if btype == PCAPNG_SHB {
            // A new section may switch byte order.
            endian = match rest.get(8..12) {
                Some([0x1a, 0x2b, 0x3c, 0x4d]) => Endian { big: true },
                Some([0x4d, 0x3c, 0x2b, 0x1a]) => Endian { big: false },
                Some(_) => return Block::Invalid("section header block without a byte-order magic".into()),
                None => return Block::NeedMore(12),
            };
        }
        let Some(total) = endian.u32(rest, 4) else { return Block::NeedMore(12) };
        if btype == PCAPNG_SHB && !(28..=MAX_SECTION_HEADER).contains(&total) {
            return Block::Invalid(format!("section header block length {total} is outside 28..{MAX_SECTION_HEADER}"));
        }
        if total < 12 || total % 4 != 0 || total > MAX_BLOCK {
            return Block::Invalid(format!("invalid block length {total}"));
        }
        let total = total as usize;
        if rest.len() < total {
            return Block::NeedMore(total);
        }
        if endian.u32(rest, total - 4) != Some(total as u32) {
            return Block::Invalid("block total length in header and trailer don't match".into());
        }
        Block::Whole(btype, total, endian)
    }

    #[inline(never)]
    fn next_pcapng(&mut self, mut rest: &[u8], eof: bool) -> Step {
        loop {
            if rest.is_empty() {
                return if eof { Step::End } else { Step::NeedMore(12) };
            }
            let (btype, total, endian) = match self.block_at(rest) {
                Block::Whole(b, t, e) => (b, t, e),
                Block::NeedMore(n) if !eof => return Step::NeedMore(n),
                Block::NeedMore(n) => {
                    let remaining = rest.len();
                    let reason = match endian_len(&self.format, rest) {
                        Some(len) if len as usize > remaining => format!("truncated block: {remaining} of {len} bytes"),
                        _ => format!("truncated block header: {remaining} of {} bytes", n.min(12)),
                    };
                    return Step::Damage(self.damage(reason));
                }
                Block::Invalid(reason) => return Step::Damage(self.damage(reason)),
            };
            let body = rest.get(8..total - 4).unwrap_or_default();
            let packet = match btype {
                PCAPNG_SHB => {
                    if let Some(reason) = section_version_problem(endian, body) {
                        return Step::Damage(self.damage(reason));
                    }
                    self.format = Format::Pcapng { endian, interfaces: Vec::new() };
                    None
                }
                1 => match interface(endian, body) {
                    Some(iface) => {
                        if let Format::Pcapng { interfaces, .. } = &mut self.format {
                            interfaces.push(iface);
                        }
                        None
                    }
                    None => return Step::Damage(self.damage("malformed interface description block".into())),
                },
                // Enhanced packet block.
                6 => match packet_fields(endian, body, endian.u32(body, 0)) {
                    Ok(p) => Some(p),
                    Err(reason) => return Step::Damage(self.damage(reason)),
                },
                // Obsolete packet block: 16-bit interface id and drop count.
                2 => match packet_fields(endian, body, endian.u16(body, 0).map(u32::from)) {
                    Ok(p) => Some(p),
                    Err(reason) => return Step::Damage(self.damage(reason)),
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
            let Some((iface_id, ts_units, caplen, origlen, data_off)) = packet else {
                // A block that is not a packet is behind us whatever comes next.
                self.pos += total as u64;
                rest = rest.get(total..).unwrap_or_default();
                continue;
            };
            let Some(iface) = self.iface(iface_id) else {
                return Step::Damage(self.damage(format!("packet on interface {iface_id}, which no interface block describes")));
            };
            let kept = caplen.min(iface.snapshot) as usize;
            return self.frame(pcapng_timestamp(ts_units, iface), iface.linktype, origlen, 8 + data_off, kept, total);
        }
    }

    fn iface(&self, id: u32) -> Option<Interface> {
        match &self.format {
            Format::Pcapng { interfaces, .. } => interfaces.get(id as usize).copied(),
            Format::Pcap(_) => None,
        }
    }
}

enum Block {
    Whole(u32, usize, Endian),
    NeedMore(usize),
    Invalid(String),
}

/// The total length a block header at `rest` announces, in the section's byte order.
fn endian_len(format: &Format, rest: &[u8]) -> Option<u32> {
    match format {
        Format::Pcapng { endian, .. } => endian.u32(rest, 4),
        Format::Pcap(_) => None,
    }
}

/// The pcap file header, checked as libpcap checks it. `None`: more bytes are needed.
fn pcap_header(data: &[u8], eof: bool, endian: Endian, nanos: bool, record_header: usize) -> Result<Option<Format>, Refusal> {
    if data.len() < 24 {
        return if eof { Err(refuse(format!("truncated pcap file header: {} of 24 bytes", data.len()))) } else { Ok(None) };
    }
    let field16 = |at| endian.u16(data, at).unwrap_or_default();
    let field32 = |at| endian.u32(data, at).unwrap_or_default();
    let (major, minor, snaplen, network) = (field16(4), field16(6), field32(16), field32(20));
    if major < 2 {
        return Err(refuse(format!("archaic pcap savefile format (version {major}.{minor})")));
    }
    // libpcap reads 2.0 to 2.4, and 543.0 (DG/UX tcpdump).
    let lengths = match (major, minor) {
        (2, 0..=2) | (543, 0) => Lengths::Swapped,
        (2, 3) => Lengths::MaybeSwapped,
        (2, 4) => Lengths::AsWritten,
        _ => return Err(refuse(format!("unsupported pcap savefile version {major}.{minor}"))),
    };
    // The upper bits carry FCS and other link-type extensions, not the link type.
    let linktype = LinkType(network & 0x03ff_ffff);
    if !linktype.is_supported() {
        return Err(Refusal::UnsupportedLinkType(linktype.0));
    }
    Ok(Some(Format::Pcap(PcapLayout { endian, nanos, linktype, snapshot: effective_snapshot(snaplen), lengths, record_header })))
}

/// libpcap reads pcapng 1.0 (and 1.2, which some writers put in error).
fn section_version_problem(endian: Endian, body: &[u8]) -> Option<String> {
    let (major, minor) = (endian.u16(body, 4)?, endian.u16(body, 6)?);
    match (major, minor) {
        (1, 0) | (1, 2) => None,
        (1, _) => Some(format!("unsupported pcapng savefile version {major}.{minor}")),
        _ => Some(format!("unknown pcapng savefile major version number {major}")),
    }
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
