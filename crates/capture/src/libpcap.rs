use crate::{CaptureError, Damage, FrameSource, LinkType, MmapReader, RawFrame};
use otsentry_core::Timestamp;
use std::io::Read;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

/// libpcap's offline reader: the reference for what a capture contains.
pub struct LibpcapReader {
    cap: pcap::Capture<pcap::Offline>,
    /// The file libpcap reads, when it is one (to locate damage); `None` for a stream.
    path: Option<PathBuf>,
    linktype: LinkType,
    records: u64,
    size: u64,
    done: bool,
}

fn refused(name: &str, e: pcap::Error) -> CaptureError {
    CaptureError::NotACapture { path: name.into(), reason: e.to_string() }
}

impl LibpcapReader {
    pub fn open(path: &Path) -> Result<Self, CaptureError> {
        let name = path.display().to_string();
        let meta = std::fs::metadata(path).map_err(|e| CaptureError::open(&name, e))?;
        if meta.is_dir() {
            return Err(CaptureError::open(&name, std::io::ErrorKind::IsADirectory.into()));
        }
        let cap = pcap::Capture::from_file_with_precision(path, pcap::Precision::Nano).map_err(|e| refused(&name, e))?;
        Self::with(cap, &name, Some(path.into()), meta.len())
    }

    /// libpcap reading `src` (decompressed, or a pipe's bytes) through a pipe that a
    /// thread fills: libpcap opens the pipe's read end by its /proc path, so the
    /// reference reads exactly the bytes our streaming reader reads.
    pub(crate) fn from_stream(name: &str, mut src: Box<dyn Read + Send>) -> Result<Self, CaptureError> {
        let (rx, mut tx) = std::io::pipe().map_err(|e| CaptureError::open(name, e))?;
        std::thread::Builder::new()
            .name("libpcap-feed".into())
            .spawn(move || {
                // Ends when the stream does, or when libpcap closes the pipe (EPIPE).
                let _ = std::io::copy(&mut src, &mut tx);
            })
            .map_err(|e| CaptureError::open(name, e))?;
        let fd_path = format!("/proc/self/fd/{}", rx.as_raw_fd());
        let cap = pcap::Capture::from_file_with_precision(&fd_path, pcap::Precision::Nano);
        drop(rx);
        Self::with(cap.map_err(|e| refused(name, e))?, name, None, 0)
    }

    fn with(cap: pcap::Capture<pcap::Offline>, name: &str, path: Option<PathBuf>, size: u64) -> Result<Self, CaptureError> {
        let linktype = LinkType(u32::try_from(cap.get_datalink().0).unwrap_or(u32::MAX));
        if !linktype.is_supported() {
            return Err(CaptureError::UnsupportedLinkType { path: name.into(), linktype: linktype.0 });
        }
        Ok(LibpcapReader { cap, path, linktype, records: 0, size, done: false })
    }
}

/// libpcap does not report file offsets; our reader walks the same records and knows
/// where the damage starts.
fn damage_offset(path: &Path, size: u64) -> u64 {
    let Ok(mut walker) = MmapReader::open(path) else {
        return 0;
    };
    loop {
        match walker.next_frame() {
            Ok(Some(_)) => continue,
            Ok(None) => return size,
            Err(d) => return d.offset.unwrap_or(0),
        }
    }
}

impl FrameSource for LibpcapReader {
    fn next_frame(&mut self) -> Result<Option<RawFrame<'_>>, Damage> {
        let LibpcapReader { cap, path, linktype, records, size, done } = self;
        if *done {
            return Ok(None);
        }
        match cap.next_packet() {
            Ok(p) => {
                *records += 1;
                let tv = p.header.ts;
                // With nanosecond precision libpcap puts nanoseconds in tv_usec.
                let ts = Timestamp::from_secs_nanos(tv.tv_sec, u32::try_from(tv.tv_usec).unwrap_or(0));
                Ok(Some(RawFrame { ts, linktype: *linktype, origlen: p.header.len, data: p.data }))
            }
            Err(pcap::Error::NoMorePackets) => {
                *done = true;
                Ok(None)
            }
            Err(e) => {
                *done = true;
                let offset = path.as_deref().map(|p| damage_offset(p, *size));
                Err(Damage { record: *records + 1, offset, reason: e.to_string() })
            }
        }
    }

    fn progress(&self) -> (u64, u64) {
        // libpcap hides its file position, so no progress can be shown.
        (0, self.size)
    }
}
