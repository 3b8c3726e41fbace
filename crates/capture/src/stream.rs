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

/// pcap/pcapng from a byte stream.
pub struct StreamReader {
    src: Box<dyn Read + Send>,
    buf: Vec<u8>,
    /// Capture offset of `buf[0]`.
    base: u64,
    eof: bool,
    parser: Parser,
    /// Source bytes read so far and the source's size, when known.
    read: Arc<AtomicU64>,
    total: u64,
}

impl StreamReader {
    /// Reads the capture's header from `src`. `read` and `total` describe progress.
    pub(crate) fn open(src: Box<dyn Read + Send>, read: Arc<AtomicU64>, total: u64) -> Result<Self, StreamOpenError> {
        let mut buf = Vec::with_capacity(CHUNK);
        let mut src = src;
        let mut eof = false;
        let mut need = 24;
        let parser = loop {
            if !eof && buf.len() < need {
                eof = fill_to(&mut src, &mut buf, need).map_err(StreamOpenError::Io)?;
            }
            match Parser::open(&buf, eof).map_err(StreamOpenError::Refused)? {
                Opened::Ready(p) => break p,
                Opened::NeedMore(n) => need = n.max(buf.len() + 1),
            }
        };
        Ok(StreamReader { src, buf, base: 0, eof, parser, read, total })
    }

    /// Makes at least `need` bytes from the parser's position available, or reaches EOF.
    fn fill(&mut self, need: usize) -> io::Result<()> {
        let skip = usize::try_from(self.parser.pos().saturating_sub(self.base)).unwrap_or(usize::MAX).min(self.buf.len());
        self.buf.drain(..skip);
        self.base += skip as u64;
        self.eof = fill_to(&mut self.src, &mut self.buf, need)?;
        Ok(())
    }
}

/// Reads until `buf` holds `need` bytes; `true` when the stream ended first.
fn fill_to(src: &mut dyn Read, buf: &mut Vec<u8>, need: usize) -> io::Result<bool> {
    while buf.len() < need {
        let start = buf.len();
        buf.resize(start + CHUNK.max(need - start), 0);
        let n = loop {
            match src.read(buf.get_mut(start..).unwrap_or_default()) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                other => break other,
            }
        };
        let n = match n {
            Ok(n) => n,
            Err(e) => {
                buf.truncate(start);
                return Err(e);
            }
        };
        buf.truncate(start + n);
        if n == 0 {
            return Ok(true);
        }
    }
    Ok(false)
}

impl FrameSource for StreamReader {
    fn next_frame(&mut self) -> Result<Option<RawFrame<'_>>, Damage> {
        loop {
            match self.parser.step(&self.buf, self.base, self.eof) {
                Step::Frame { ts, linktype, origlen, data } => {
                    let (start, end) = ((data.start - self.base) as usize, (data.end - self.base) as usize);
                    return Ok(Some(RawFrame { ts, linktype, origlen, data: self.buf.get(start..end).unwrap_or_default() }));
                }
                Step::NeedMore(n) => {
                    if let Err(e) = self.fill(n) {
                        return Err(self.parser.fail(format!("cannot read further: {e}")));
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
