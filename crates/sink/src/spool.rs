//! A durable spool of batches: append-only segment files in one directory, each batch
//! framed with its length and CRC-32 and forced to disk before it counts as kept, read
//! back oldest first. A sink that cannot deliver spools; when it can again it drains
//! the spool in order and acknowledges each batch, and a run that stops during an
//! outage leaves the spool to the next run on the same directory.
//!
//! On disk: `NNNNNNNNNNNNNNNNNNNN.seg` (the segment's number, so names sort in order),
//! frames of `magic (4) | length (4, little-endian) | crc32 of the bytes (4) | bytes`,
//! and `cursor` (the first unacknowledged frame: segment number and offset, with a
//! CRC-32 of its own), replaced atomically. A frame cut short by a crash at the end of
//! the newest segment is cut off at open and counted as `torn`; a damaged frame
//! elsewhere ends its segment's reading and is counted as `corrupt` with where it was.
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

const MAGIC: [u8; 4] = *b"OTSP";
const HEADER: usize = 12;
/// A new segment is started past this size.
const SEGMENT_BYTES: u64 = 16 << 20;

#[derive(Debug, thiserror::Error)]
pub enum SpoolError {
    #[error("spool {}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    /// The cap would be exceeded: the batch was not kept.
    #[error("spool {}: full ({held} of {cap} bytes held); the batch was not spooled", dir.display())]
    Full { dir: PathBuf, held: u64, cap: u64 },
}

/// What the spool holds and what it found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SpoolCounts {
    /// Batches and bytes held (spooled, not yet acknowledged).
    pub batches: u64,
    pub bytes: u64,
    pub spooled: u64,
    pub drained: u64,
    /// Batches refused because the spool was full.
    pub refused: u64,
    /// A frame cut short at the end of the newest segment (a crash while writing it).
    pub torn: u64,
    /// Damaged frames (with the segment and offset of the last one).
    pub corrupt: u64,
    pub last_corrupt: Option<String>,
}

/// One segment: its number, and the frames in it (offset and length of each body).
#[derive(Debug)]
struct Segment {
    number: u64,
    frames: std::collections::VecDeque<(u64, u32)>,
    size: u64,
    /// Damaged: nothing is appended after the damage (it would not be read back).
    sealed: bool,
}

#[derive(Debug)]
pub struct Spool {
    dir: PathBuf,
    cap: u64,
    segments: std::collections::VecDeque<Segment>,
    writer: Option<File>,
    counts: SpoolCounts,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> SpoolError + '_ {
    move |source| SpoolError::Io { path: path.to_path_buf(), source }
}

fn segment_path(dir: &Path, number: u64) -> PathBuf {
    dir.join(format!("{number:020}.seg"))
}

/// The cursor's bytes: segment number, offset, and their CRC-32.
fn cursor_bytes(segment: u64, offset: u64) -> [u8; 20] {
    let mut b = [0u8; 20];
    b[..8].copy_from_slice(&segment.to_le_bytes());
    b[8..16].copy_from_slice(&offset.to_le_bytes());
    let crc = crc32fast::hash(&b[..16]);
    b[16..].copy_from_slice(&crc.to_le_bytes());
    b
}

fn read_cursor(dir: &Path) -> Option<(u64, u64)> {
    let b = std::fs::read(dir.join("cursor")).ok()?;
    let (body, crc) = (b.get(..16)?, b.get(16..20)?);
    if crc32fast::hash(body).to_le_bytes() != crc {
        return None;
    }
    let word = |r: std::ops::Range<usize>| body.get(r).and_then(|s| <[u8; 8]>::try_from(s).ok()).map(u64::from_le_bytes);
    Some((word(0..8)?, word(8..16)?))
}

impl Spool {
    /// Opens (creating) the spool in `dir`, holding at most `cap` bytes of batches.
    pub fn open(dir: &Path, cap: u64) -> Result<Spool, SpoolError> {
        // The spool holds what crossed the wire: its owner's alone.
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir).map_err(io(dir))?;
        let mut numbers: Vec<u64> = std::fs::read_dir(dir)
            .map_err(io(dir))?
            .filter_map(|e| e.ok())
            .filter_map(|e| e.file_name().to_str()?.strip_suffix(".seg")?.parse().ok())
            .collect();
        numbers.sort_unstable();
        let cursor = read_cursor(dir);
        let mut spool = Spool { dir: dir.to_path_buf(), cap, segments: Default::default(), writer: None, counts: SpoolCounts::default() };
        let last = numbers.last().copied();
        for number in numbers {
            let mut seg = spool.scan(number, Some(number) == last)?;
            // Frames before the cursor were delivered and acknowledged.
            if let Some((at_seg, at_off)) = cursor {
                if number < at_seg {
                    std::fs::remove_file(segment_path(dir, number)).map_err(io(dir))?;
                    continue;
                }
                if number == at_seg {
                    seg.frames.retain(|&(off, _)| off >= at_off);
                }
            }
            spool.counts.batches += seg.frames.len() as u64;
            spool.counts.bytes += seg.frames.iter().map(|f| u64::from(f.1)).sum::<u64>();
            spool.segments.push_back(seg);
        }
        Ok(spool)
    }

    /// Reads the frames of segment `number`; the newest is cut back to its last whole frame.
    fn scan(&mut self, number: u64, newest: bool) -> Result<Segment, SpoolError> {
        let path = segment_path(&self.dir, number);
        let bytes = std::fs::read(&path).map_err(io(&path))?;
        let mut frames = std::collections::VecDeque::new();
        let mut at = 0usize;
        let mut sealed = false;
        while at < bytes.len() {
            let header = bytes.get(at..at + HEADER);
            let len = header.and_then(|h| h.get(4..8)).and_then(|l| <[u8; 4]>::try_from(l).ok()).map(u32::from_le_bytes);
            let body = len.and_then(|l| bytes.get(at + HEADER..at + HEADER + l as usize));
            match (header, len, body) {
                (Some(h), Some(len), Some(body)) if h.get(..4) == Some(&MAGIC[..]) => {
                    let crc = h.get(8..12).and_then(|c| <[u8; 4]>::try_from(c).ok()).map(u32::from_le_bytes);
                    if crc != Some(crc32fast::hash(body)) {
                        self.corrupt(&path, at);
                        sealed = true;
                        break;
                    }
                    frames.push_back((at as u64, len));
                    at += HEADER + len as usize;
                }
                // Cut short: at the end of the newest segment, a write a crash interrupted.
                (_, _, None) if newest && header.is_none_or(|h| h.get(..4) == Some(&MAGIC[..])) => {
                    self.counts.torn += 1;
                    let f = OpenOptions::new().write(true).open(&path).map_err(io(&path))?;
                    f.set_len(at as u64).map_err(io(&path))?;
                    f.sync_all().map_err(io(&path))?;
                    break;
                }
                _ => {
                    self.corrupt(&path, at);
                    sealed = true;
                    break;
                }
            }
        }
        Ok(Segment { number, frames, size: at as u64, sealed })
    }

    fn corrupt(&mut self, path: &Path, at: usize) {
        self.counts.corrupt += 1;
        self.counts.last_corrupt = Some(format!("{} at byte {at}", path.display()));
        tracing::error!(segment = %path.display(), offset = at, "spool: a damaged frame; the rest of the segment is not read");
    }

    /// The spool's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn counts(&self) -> &SpoolCounts {
        &self.counts
    }

    pub fn is_empty(&self) -> bool {
        self.counts.batches == 0
    }

    /// Keeps `batch` on disk (written and forced to it) after the ones held.
    pub fn push(&mut self, batch: &[u8]) -> Result<(), SpoolError> {
        let len = u32::try_from(batch.len()).unwrap_or(u32::MAX);
        if self.counts.bytes + u64::from(len) > self.cap {
            self.counts.refused += 1;
            return Err(SpoolError::Full { dir: self.dir.clone(), held: self.counts.bytes, cap: self.cap });
        }
        let full = |s: &Segment| s.size >= SEGMENT_BYTES || s.sealed;
        if self.writer.is_none() || self.segments.back().is_none_or(full) {
            let number = match self.segments.back() {
                Some(s) if !full(s) => s.number,
                Some(s) => s.number + 1,
                None => 1,
            };
            let path = segment_path(&self.dir, number);
            let f = OpenOptions::new().create(true).append(true).mode(0o600).open(&path).map_err(io(&path))?;
            if self.segments.back().is_none_or(|s| s.number != number) {
                self.segments.push_back(Segment { number, frames: Default::default(), size: 0, sealed: false });
                // The new file's name must be durable too.
                File::open(&self.dir).and_then(|d| d.sync_all()).map_err(io(&self.dir))?;
            }
            self.writer = Some(f);
        }
        let (Some(seg), Some(f)) = (self.segments.back_mut(), self.writer.as_mut()) else { return Ok(()) };
        let path = segment_path(&self.dir, seg.number);
        let mut frame = Vec::with_capacity(HEADER + batch.len());
        frame.extend_from_slice(&MAGIC);
        frame.extend_from_slice(&len.to_le_bytes());
        frame.extend_from_slice(&crc32fast::hash(batch).to_le_bytes());
        frame.extend_from_slice(batch);
        if let Err(e) = f.write_all(&frame).and_then(|()| f.sync_data()) {
            // Whatever part reached the file is cut off again: the segment stays whole.
            let _ = f.set_len(seg.size);
            return Err(SpoolError::Io { path, source: e });
        }
        seg.frames.push_back((seg.size, len));
        seg.size += frame.len() as u64;
        self.counts.batches += 1;
        self.counts.bytes += u64::from(len);
        self.counts.spooled += 1;
        Ok(())
    }

    /// The oldest batch held, if any (it stays held until [`Spool::ack`]).
    pub fn peek(&mut self) -> Result<Option<Vec<u8>>, SpoolError> {
        let Some((seg, (off, len))) = self.segments.iter().find_map(|s| s.frames.front().map(|f| (s.number, *f))) else {
            return Ok(None);
        };
        let path = segment_path(&self.dir, seg);
        let mut f = File::open(&path).map_err(io(&path))?;
        f.seek(SeekFrom::Start(off + HEADER as u64)).map_err(io(&path))?;
        let mut body = vec![0u8; len as usize];
        f.read_exact(&mut body).map_err(io(&path))?;
        Ok(Some(body))
    }

    /// The oldest batch was delivered: forget it (durably), and its segment once empty.
    pub fn ack(&mut self) -> Result<(), SpoolError> {
        while self.segments.front().is_some_and(|s| s.frames.is_empty() && self.segments.len() > 1) {
            self.drop_front()?;
        }
        let Some(seg) = self.segments.front_mut() else { return Ok(()) };
        let Some((_, len)) = seg.frames.pop_front() else { return Ok(()) };
        self.counts.batches -= 1;
        self.counts.bytes -= u64::from(len);
        self.counts.drained += 1;
        let (number, next) = (seg.number, seg.frames.front().map_or(seg.size, |f| f.0));
        let tmp = self.dir.join("cursor.tmp");
        std::fs::write(&tmp, cursor_bytes(number, next)).map_err(io(&tmp))?;
        File::open(&tmp).and_then(|f| f.sync_all()).map_err(io(&tmp))?;
        std::fs::rename(&tmp, self.dir.join("cursor")).map_err(io(&self.dir))?;
        if self.segments.front().is_some_and(|s| s.frames.is_empty()) && self.segments.len() > 1 {
            self.drop_front()?;
        }
        Ok(())
    }

    fn drop_front(&mut self) -> Result<(), SpoolError> {
        if let Some(s) = self.segments.pop_front() {
            let path = segment_path(&self.dir, s.number);
            std::fs::remove_file(&path).map_err(io(&path))?;
        }
        Ok(())
    }
}

/// The pipeline's way into a sink's spool: a batch the full queue cannot take is kept
/// there instead of dropped (a live sensor cannot wait), and reaches the sink with the
/// other spooled batches (before those still queued: rows need no order).
#[derive(Clone)]
pub struct Overflow(pub(crate) Arc<Mutex<Spool>>);

impl Overflow {
    pub fn keep(&self, batch: &crate::Batch) -> Result<(), SpoolError> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).push(&batch.to_spooled())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(name: &str) -> PathBuf {
        crate::install_test_types();
        let d = std::env::temp_dir().join(format!("otsentry-spool-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    fn drain(s: &mut Spool) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        while let Some(b) = s.peek().unwrap() {
            out.push(b);
            s.ack().unwrap();
        }
        out
    }

    #[test]
    fn batches_come_back_in_order_across_reopening_and_acknowledged_ones_do_not() {
        let d = dir("order");
        let mut s = Spool::open(&d, 1 << 20).unwrap();
        for i in 0..5u8 {
            s.push(&[i; 100]).unwrap();
        }
        assert_eq!(s.peek().unwrap(), Some(vec![0; 100]));
        s.ack().unwrap();
        drop(s);
        // A new run on the same directory: the four not acknowledged, in order.
        let mut s = Spool::open(&d, 1 << 20).unwrap();
        assert_eq!((s.counts().batches, s.counts().bytes), (4, 400));
        s.push(&[9; 10]).unwrap();
        let got = drain(&mut s);
        assert_eq!(got, vec![vec![1; 100], vec![2; 100], vec![3; 100], vec![4; 100], vec![9; 10]]);
        assert!(s.is_empty());
        drop(s);
        assert!(Spool::open(&d, 1 << 20).unwrap().is_empty(), "nothing comes back once drained");
        std::fs::remove_dir_all(&d).unwrap();
    }

    /// The spool holds captured traffic: its directory is 0700 and its files 0600,
    /// whatever the umask.
    #[test]
    fn the_spool_is_its_owners_alone() {
        use std::os::unix::fs::PermissionsExt;
        let d = dir("modes");
        let mut s = Spool::open(&d, 1 << 20).unwrap();
        s.push(&[1; 10]).unwrap();
        assert_eq!(std::fs::metadata(&d).unwrap().permissions().mode() & 0o777, 0o700);
        let files: Vec<_> = std::fs::read_dir(&d).unwrap().map(|e| e.unwrap().path()).filter(|p| p.is_file()).collect();
        assert!(!files.is_empty());
        for f in files {
            assert_eq!(std::fs::metadata(&f).unwrap().permissions().mode() & 0o777, 0o600, "{}", f.display());
        }
        drop(s);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_frame_cut_by_a_crash_is_cut_off_and_counted_and_the_rest_is_kept() {
        let d = dir("torn");
        let mut s = Spool::open(&d, 1 << 20).unwrap();
        s.push(b"first").unwrap();
        s.push(b"second").unwrap();
        drop(s);
        // The crash: half of a third frame reached the disk.
        let seg = segment_path(&d, 1);
        let mut f = OpenOptions::new().append(true).open(&seg).unwrap();
        f.write_all(&MAGIC).unwrap();
        f.write_all(&100u32.to_le_bytes()).unwrap();
        f.write_all(b"half").unwrap();
        drop(f);
        let mut s = Spool::open(&d, 1 << 20).unwrap();
        assert_eq!((s.counts().torn, s.counts().batches), (1, 2));
        s.push(b"third").unwrap();
        assert_eq!(drain(&mut s), vec![b"first".to_vec(), b"second".to_vec(), b"third".to_vec()]);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_damaged_frame_is_counted_with_where_it_is_and_new_batches_go_to_a_new_segment() {
        let d = dir("corrupt");
        let mut s = Spool::open(&d, 1 << 20).unwrap();
        for b in [&b"one"[..], b"two", b"three"] {
            s.push(b).unwrap();
        }
        drop(s);
        // A bit flips in the second frame's body.
        let seg = segment_path(&d, 1);
        let mut bytes = std::fs::read(&seg).unwrap();
        bytes[HEADER + 3 + HEADER] ^= 0x40;
        std::fs::write(&seg, &bytes).unwrap();
        let mut s = Spool::open(&d, 1 << 20).unwrap();
        assert_eq!((s.counts().corrupt, s.counts().batches), (1, 1));
        assert!(s.counts().last_corrupt.as_deref().unwrap().ends_with(&format!("at byte {}", HEADER + 3)));
        s.push(b"four").unwrap();
        assert!(segment_path(&d, 2).is_file(), "not appended after the damage");
        assert_eq!(drain(&mut s), vec![b"one".to_vec(), b"four".to_vec()]);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_full_spool_refuses_loudly_and_counts_it() {
        let d = dir("full");
        let mut s = Spool::open(&d, 250).unwrap();
        s.push(&[1; 100]).unwrap();
        s.push(&[2; 100]).unwrap();
        let e = s.push(&[3; 100]).unwrap_err();
        assert!(e.to_string().contains("full (200 of 250 bytes held)"), "{e}");
        assert_eq!(s.counts().refused, 1);
        s.ack().unwrap();
        s.push(&[3; 100]).unwrap();
        assert_eq!(drain(&mut s).len(), 2);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_damaged_cursor_redelivers_rather_than_loses() {
        let d = dir("cursor");
        let mut s = Spool::open(&d, 1 << 20).unwrap();
        s.push(b"a").unwrap();
        s.push(b"b").unwrap();
        s.ack().unwrap();
        drop(s);
        std::fs::write(d.join("cursor"), b"garbage").unwrap();
        // At least once: "a" comes back (the sink's ids make it harmless), "b" is not lost.
        let mut s = Spool::open(&d, 1 << 20).unwrap();
        assert_eq!(drain(&mut s), vec![b"a".to_vec(), b"b".to_vec()]);
        std::fs::remove_dir_all(&d).unwrap();
    }
}
