//! The zero-copy reader: a regular capture file, memory-mapped; records borrow the map.
use crate::format::{Parser, Step};
use crate::{CaptureError, Damage, FrameSource, RawFrame};
use std::path::Path;

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

/// Memory-mapped pcap/pcapng reader. Pages behind the read position are handed back to
/// the kernel as it goes, so resident memory stays flat whatever the file's size.
pub struct MmapReader {
    bytes: Bytes,
    parser: Parser,
    /// Bytes at the start of the map already handed back.
    released: usize,
}

/// Hand back pages once this far behind the read position (a multiple of every page size).
const RELEASE_EVERY: usize = 1 << 20;

impl MmapReader {
    pub fn open(path: &Path) -> Result<Self, CaptureError> {
        let file = std::fs::File::open(path).map_err(|e| CaptureError::open(path.display(), e))?;
        let meta = file.metadata().map_err(|e| CaptureError::open(path.display(), e))?;
        if meta.is_dir() {
            return Err(CaptureError::open(path.display(), std::io::ErrorKind::IsADirectory.into()));
        }
        let bytes = if meta.len() == 0 {
            Bytes::Empty
        } else {
            // SAFETY: the map is read-only and private to this reader. If another process
            // truncates the file while we read, the kernel raises SIGBUS; that is the
            // documented cost of zero-copy replay (use `--reader libpcap` on files that
            // are still being written).
            #[allow(unsafe_code)]
            let map = unsafe { memmap2::Mmap::map(&file) };
            let map = map.map_err(|e| CaptureError::open(path.display(), e))?;
            // Read front to back: ask the kernel for aggressive read-ahead (advice only;
            // failing to take it changes nothing).
            let _ = map.advise(memmap2::Advice::Sequential);
            Bytes::Map(map)
        };
        let parser = Parser::open_whole(bytes.as_slice()).map_err(|r| CaptureError::refused(path.display(), r))?;
        Ok(MmapReader { bytes, parser, released: 0 })
    }
}

impl MmapReader {
    /// Hands the pages more than one step behind `pos` back to the kernel.
    #[cold]
    fn release_behind(&mut self, pos: usize) {
        let Bytes::Map(map) = &self.bytes else { return };
        let upto = (pos - RELEASE_EVERY) / RELEASE_EVERY * RELEASE_EVERY;
        if upto <= self.released || upto > map.len() {
            return;
        }
        // SAFETY: the range lies inside the map and starts on a page boundary (a
        // multiple of 1 MiB). The map is a private, read-only file mapping: dropping its
        // pages only makes a later access read the file again, and nothing reads them
        // any more (a frame borrows the map until the next call, and the read position
        // has passed them). Advice only: failing to take it changes nothing.
        #[allow(unsafe_code)]
        let _ = unsafe { map.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, self.released, upto - self.released) };
        self.released = upto;
    }
}

impl FrameSource for MmapReader {
    #[inline]
    fn next_frame(&mut self) -> Result<Option<RawFrame<'_>>, Damage> {
        let pos = usize::try_from(self.parser.pos()).unwrap_or(usize::MAX);
        if pos >= self.released + 2 * RELEASE_EVERY {
            self.release_behind(pos);
        }
        let data = self.bytes.as_slice();
        match self.parser.step(data, 0, true) {
            Step::Frame { ts, linktype, origlen, data: range } => {
                let bytes = data.get(range.start as usize..range.end as usize).unwrap_or_default();
                Ok(Some(RawFrame { ts, linktype, origlen, data: bytes }))
            }
            Step::End | Step::NeedMore(_) => Ok(None),
            Step::Damage(d) => Err(d),
        }
    }

    fn progress(&self) -> (u64, u64) {
        (self.parser.pos(), self.bytes.as_slice().len() as u64)
    }
}
