//! Packet sources: capture files (pcap and pcapng) through a zero-copy memory-mapped
//! reader or through libpcap, the reference. Both hand out [`RawFrame`]s that borrow the
//! reader's buffer until the next call, so decoding runs synchronously on them.
#![deny(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic))]

mod file;
mod libpcap;

pub use file::MmapReader;
pub use libpcap::LibpcapReader;

use otsentry_core::Timestamp;
use std::path::{Path, PathBuf};

/// A pcap/pcapng link-layer type (LINKTYPE_*), kept open.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LinkType(pub u32);

impl LinkType {
    pub const NULL: LinkType = LinkType(0);
    pub const ETHERNET: LinkType = LinkType(1);
    pub const RAW_DLT12: LinkType = LinkType(12);
    pub const RAW_DLT14: LinkType = LinkType(14);
    pub const RAW: LinkType = LinkType(101);
    pub const LOOP: LinkType = LinkType(108);
    pub const LINUX_SLL: LinkType = LinkType(113);
    pub const IPV4: LinkType = LinkType(228);
    pub const IPV6: LinkType = LinkType(229);
    pub const LINUX_SLL2: LinkType = LinkType(276);

    pub fn is_supported(self) -> bool {
        matches!(self.0, 0 | 1 | 12 | 14 | 101 | 108 | 113 | 228 | 229 | 276)
    }
}

/// One record of a capture, borrowed from the reader until its next call.
#[derive(Clone, Copy, Debug)]
pub struct RawFrame<'a> {
    pub ts: Timestamp,
    pub linktype: LinkType,
    /// Length on the wire; `data.len()` is the captured length.
    pub origlen: u32,
    pub data: &'a [u8],
}

/// Where and why a capture file stops being readable. Records before it were delivered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Damage {
    /// 1-based number of the record that could not be read.
    pub record: u64,
    /// Byte offset of that record in the file.
    pub offset: u64,
    pub reason: String,
}

/// Opening a capture failed; nothing was read.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    #[error("{path}: cannot open: {source}")]
    Open { path: PathBuf, source: std::io::Error },
    #[error("{path}: not a pcap or pcapng capture: {reason}")]
    NotACapture { path: PathBuf, reason: String },
    #[error("{path}: unsupported link type {linktype}")]
    UnsupportedLinkType { path: PathBuf, linktype: u32 },
}

/// Which implementation reads capture files.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ReaderKind {
    /// Our memory-mapped pcap/pcapng reader (default: fastest, exact offsets).
    #[default]
    Mmap,
    /// libpcap through the `pcap` crate, the reference implementation.
    Libpcap,
}

/// A sequential source of frames.
pub trait FrameSource {
    /// The next frame, `Ok(None)` at a clean end, or `Err` at damage (after which the
    /// source yields nothing more).
    fn next_frame(&mut self) -> Result<Option<RawFrame<'_>>, Damage>;
    /// Bytes of the file consumed so far and in all, for progress display.
    fn progress(&self) -> (u64, u64);
}

/// Open `path` with the chosen reader.
pub fn open(path: &Path, kind: ReaderKind) -> Result<Box<dyn FrameSource>, CaptureError> {
    Ok(match kind {
        ReaderKind::Mmap => Box::new(MmapReader::open(path)?),
        ReaderKind::Libpcap => Box::new(LibpcapReader::open(path)?),
    })
}
