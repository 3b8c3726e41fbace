//! The streaming reader: a capture read front to back from any byte stream (a pipe,
//! stdin, a gzip or zip decompressor), through a buffer that holds at most one record
//! or block beyond what has been handed out.
use crate::format::{Opened, Parser, Refusal, Step};
use crate::{Damage, FrameSource, RawFrame};
use std::io::{self, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Bytes asked of the stream per read.
const CHUNK: usize = 256 * 1024;

/// Why a stream could not be opened as a capture.
#[derive(Debug)]
pub(crate) enum StreamOpenError {
    Io(io::Error),
    Refused(Refusal),
}

/// Counts the bytes read through it, for progress on a stream whose source size is known
/// (a compressed file: its bytes, not the decompressed ones).
pub(crate) struct Counted<R> {
    pub(crate) inner: R,
    pub(crate) read: Arc<AtomicU64>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// The bytes at hand: `buf[lo..hi]`, starting at capture offset `base`. The buffer is
/// zeroed once when it grows, never per read, and compacted only when a record would run
/// past its end.
struct Window {
    buf: Vec<u8>,
    lo: usize,
    hi: usize,
    base: u64,
    eof: bool,
}

impl Window {
    fn bytes(&self) -> &[u8] {
        self.buf.get(self.lo..self.hi).unwrap_or_default()
    }

    /// Drops what lies before capture offset `keep`, then reads until `need` bytes from
    /// there are at hand or the stream ends. Each read takes what the source has (a pipe
    /// hands over what was written), up to the free space.
    fn fill(&mut self, src: &mut dyn Read, keep: u64, need: usize) -> io::Result<()> {
        let drop = usize::try_from(keep.saturating_sub(self.base)).unwrap_or(usize::MAX).min(self.hi - self.lo);
        self.lo += drop;
        self.base += drop as u64;
        if self.lo + need > self.buf.len() {
            self.buf.copy_within(self.lo..self.hi, 0);
            self.hi -= self.lo;
            self.lo = 0;
            if need > self.buf.len() {
                self.buf.resize(need.max(CHUNK), 0);
            }
        }
        while self.hi - self.lo < need && !self.eof {
            match src.read(self.buf.get_mut(self.hi..).unwrap_or_default()) {
                Ok(0) => self.eof = true,
                Ok(n) => self.hi += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

/// pcap/pcapng from a byte stream.
pub struct StreamReader {
    src: Box<dyn Read + Send>,
    window: Window,
    parser: Parser,
    /// Source bytes read so far and the source's size, when known.
    read: Arc<AtomicU64>,
    total: u64,
}

impl StreamReader {
    /// Reads the capture's header from `src`. `read` and `total` describe progress.
    pub(crate) fn open(mut src: Box<dyn Read + Send>, read: Arc<AtomicU64>, total: u64) -> Result<Self, StreamOpenError> {
        let mut window = Window { buf: vec![0; CHUNK], lo: 0, hi: 0, base: 0, eof: false };
        let mut need = 24;
        let parser = loop {
            window.fill(&mut src, 0, need).map_err(StreamOpenError::Io)?;
            match Parser::open(window.bytes(), window.eof).map_err(StreamOpenError::Refused)? {
                Opened::Ready(p) => break p,
                // Opening is retried from the start with more bytes; each pass asks for more.
                Opened::NeedMore(n) => need = n.max(window.hi - window.lo + 1),
            }
        };
        Ok(StreamReader { src, window, parser, read, total })
    }
}

impl FrameSource for StreamReader {
    fn next_frame(&mut self) -> Result<Option<RawFrame<'_>>, Damage> {
        loop {
            let step = self.parser.step(self.window.bytes(), self.window.base, self.window.eof);
            match step {
                Step::Frame { ts, linktype, origlen, data } => {
                    let w = &self.window;
                    let (start, end) = ((data.start - w.base) as usize, (data.end - w.base) as usize);
                    return Ok(Some(RawFrame { ts, linktype, origlen, data: w.bytes().get(start..end).unwrap_or_default() }));
                }
                Step::NeedMore(n) => {
                    if let Err(e) = self.window.fill(&mut self.src, self.parser.pos(), n) {
                        return Err(self.parser.damage(format!("cannot read further: {e}")));
                    }
                }
                Step::End => return Ok(None),
                Step::Damage(d) => return Err(d),
            }
        }
    }

    fn progress(&self) -> (u64, u64) {
        (self.read.load(Ordering::Relaxed), self.total)
    }
}
