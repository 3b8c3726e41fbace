use crate::{CaptureError, Damage, FrameSource, LinkType, MmapReader, RawFrame};
use otsentry_core::Timestamp;
use std::path::{Path, PathBuf};

/// libpcap's offline reader: the reference for what a capture file contains.
pub struct LibpcapReader {
    cap: pcap::Capture<pcap::Offline>,
    path: PathBuf,
    linktype: LinkType,
    records: u64,
    size: u64,
    done: bool,
}

impl LibpcapReader {
    pub fn open(path: &Path) -> Result<Self, CaptureError> {
        let meta = std::fs::metadata(path).map_err(|source| CaptureError::Open { path: path.into(), source })?;
        let cap = pcap::Capture::from_file_with_precision(path, pcap::Precision::Nano)
            .map_err(|e| CaptureError::NotACapture { path: path.into(), reason: e.to_string() })?;
        let linktype = LinkType(u32::try_from(cap.get_datalink().0).unwrap_or(u32::MAX));
        if !linktype.is_supported() {
            return Err(CaptureError::UnsupportedLinkType { path: path.into(), linktype: linktype.0 });
        }
        Ok(LibpcapReader { cap, path: path.into(), linktype, records: 0, size: meta.len(), done: false })
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
            Err(d) => return d.offset,
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
                Err(Damage { record: *records + 1, offset: damage_offset(path, *size), reason: e.to_string() })
            }
        }
    }

    fn progress(&self) -> (u64, u64) {
        // libpcap hides its file position, so no progress can be shown.
        (0, self.size)
    }
}
