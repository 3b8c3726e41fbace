//! Packet sources: captures (pcap and pcapng) from files, pipes, stdin, gzip and zip,
//! through our readers (memory-mapped for files, streaming for the rest) or through
//! libpcap, the reference. All hand out [`RawFrame`]s that borrow the reader's buffer
//! until the next call, so decoding runs synchronously on them.
#![deny(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic))]

mod fanout;
mod file;
mod format;
mod input;
mod interfaces;
mod libpcap;
mod live;
mod merge;
mod source;
mod stream;
mod zip;

pub use file::MmapReader;
pub use format::CaptureFormat;
pub use input::{plan, Input, Location, Plan, Skipped};
pub use interfaces::Interfaces;
pub use libpcap::LibpcapReader;
pub use live::{wait, LiveCapture, LiveError, LiveOptions};
pub use source::{Next, Source};
pub use stream::StreamReader;
pub use zip::ZipMember;

use format::Refusal;
use std::io::{self, Read};
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use otsentry_core::Timestamp;
use std::path::Path;

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
    /// Byte offset of that record in the capture (decompressed), when the reader knows
    /// it (libpcap reading a stream does not).
    pub offset: Option<u64>,
    pub reason: String,
}

/// Opening a capture failed; nothing was read. Each message names the input and gives
/// one cause.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    #[error("{path}: {}", io_cause(cause))]
    Open { path: String, cause: io::Error },
    #[error("{path}: not a pcap or pcapng capture: {reason}")]
    NotACapture { path: String, reason: String },
    #[error("{path}: unsupported link type {linktype}")]
    UnsupportedLinkType { path: String, linktype: u32 },
    #[error("{path}: is a zip archive holding no capture ({detail})")]
    ZipWithoutCapture { path: String, detail: String },
    #[error("{path}: is a directory holding no capture ({skipped} other entries{})", if *recursive { "" } else { "; --recursive reads subdirectories" })]
    DirectoryWithoutCapture { path: String, skipped: usize, recursive: bool },
    #[error("{path}: is a zip archive, which is read from a file, not from a pipe (unzip it into the pipe)")]
    ZipOnStream { path: String },
    #[error("{path}: cannot read the zip archive: {reason}")]
    BadZip { path: String, reason: String },
}

/// An I/O error's cause, once, without the OS error number where a word says it.
pub(crate) fn io_cause(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::NotFound => "no such file or directory".into(),
        io::ErrorKind::PermissionDenied => "permission denied".into(),
        io::ErrorKind::IsADirectory => "is a directory".into(),
        _ => format!("cannot read: {e}"),
    }
}

impl CaptureError {
    pub(crate) fn open(path: impl std::fmt::Display, cause: io::Error) -> Self {
        CaptureError::Open { path: path.to_string(), cause }
    }

    pub(crate) fn refused(path: impl std::fmt::Display, r: Refusal) -> Self {
        match r {
            Refusal::NotACapture(reason) => CaptureError::NotACapture { path: path.to_string(), reason },
            Refusal::UnsupportedLinkType(linktype) => CaptureError::UnsupportedLinkType { path: path.to_string(), linktype },
        }
    }
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

/// Open the capture file at `path` with the chosen reader.
pub fn open(path: &Path, kind: ReaderKind) -> Result<Box<dyn FrameSource>, CaptureError> {
    open_input(&Input::file(path), kind)
}

/// Open one input of a [`Plan`] with the chosen reader: our reader memory-maps files and
/// streams the rest; libpcap opens files itself and is fed the rest through a pipe.
pub fn open_input(input: &Input, kind: ReaderKind) -> Result<Box<dyn FrameSource>, CaptureError> {
    if let Location::File(path) = &input.location {
        return Ok(match kind {
            ReaderKind::Mmap => Box::new(MmapReader::open(path)?),
            ReaderKind::Libpcap => Box::new(LibpcapReader::open(path)?),
        });
    }
    let name = &input.name;
    let read = Arc::new(AtomicU64::new(0));
    let (src, total) = stream_of(input, &read)?;
    match kind {
        ReaderKind::Mmap => match StreamReader::open(src, read, total) {
            Ok(r) => Ok(Box::new(r)),
            Err(stream::StreamOpenError::Io(e)) => Err(CaptureError::open(name, e)),
            Err(stream::StreamOpenError::Refused(r)) => Err(CaptureError::refused(name, r)),
        },
        ReaderKind::Libpcap => Ok(Box::new(LibpcapReader::from_stream(name, src)?)),
    }
}

/// The decompressed bytes of a non-file input, and the size of what is counted in `read`.
fn stream_of(input: &Input, read: &Arc<AtomicU64>) -> Result<(Box<dyn Read + Send>, u64), CaptureError> {
    let name = &input.name;
    // A file whose bytes are counted as read, and its size.
    let counted = |path: &Path| -> Result<(Box<dyn Read + Send>, u64), CaptureError> {
        let f = std::fs::File::open(path).map_err(|e| CaptureError::open(name, e))?;
        let size = f.metadata().map(|m| m.len()).unwrap_or(0);
        Ok((Box::new(stream::Counted { inner: f, read: read.clone() }), size))
    };
    Ok(match &input.location {
        // A file read front to back, as a stream.
        Location::File(path) => counted(path)?,
        Location::Gzip(path) => {
            let (f, size) = counted(path)?;
            (Box::new(flate2::read::MultiGzDecoder::new(f)), size)
        }
        // A pipe's size says nothing about what will come through it.
        Location::Stream(path) => (maybe_gunzip(name, counted(path)?.0)?, 0),
        Location::Stdin => (maybe_gunzip(name, Box::new(io::stdin()))?, 0),
        Location::ZipMember { archive, member, gzip } => {
            let read = read.clone();
            let src = zip::open_member_counted(archive, member, move |t| Box::new(stream::Counted { inner: t, read }))
                .map_err(|e| CaptureError::open(name, e))?;
            let src: Box<dyn Read + Send> = if *gzip { Box::new(flate2::read::MultiGzDecoder::new(src)) } else { src };
            (src, member.compressed)
        }
    })
}

/// A stream whose first bytes say gzip is decompressed; a zip cannot be read from one.
fn maybe_gunzip(name: &str, mut src: Box<dyn Read + Send>) -> Result<Box<dyn Read + Send>, CaptureError> {
    let head = input::read_head(&mut src, 4).map_err(|e| CaptureError::open(name, e))?;
    let gzip = head.starts_with(&[0x1f, 0x8b]);
    let zip = head.starts_with(&[0x50, 0x4b]);
    let whole: Box<dyn Read + Send> = Box::new(io::Cursor::new(head).chain(src));
    if zip {
        return Err(CaptureError::ZipOnStream { path: name.into() });
    }
    Ok(if gzip { Box::new(flate2::read::MultiGzDecoder::new(whole)) } else { whole })
}
