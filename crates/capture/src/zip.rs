//! Just enough of the zip format to read the captures public OT datasets ship in: the
//! central directory (with zip64), and members stored or deflated. Members are read
//! straight from the archive file, so none is unpacked to disk.
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;

const EOCD: u32 = 0x0605_4b50;
const ZIP64_LOCATOR: u32 = 0x0706_4b50;
const ZIP64_EOCD: u32 = 0x0606_4b50;
const CENTRAL: u32 = 0x0201_4b50;
const LOCAL: u32 = 0x0403_4b50;
/// The end record is 22 bytes plus a comment of at most 65,535.
const TAIL: u64 = 22 + 65_535;
/// A central directory larger than this is not one we trust.
const MAX_DIRECTORY: u64 = 64 << 20;

/// How a member's bytes are stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Method {
    Stored,
    Deflated,
    Other(u16),
}

/// One member of an archive, as its central directory describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ZipMember {
    pub name: String,
    pub(crate) method: Method,
    pub(crate) encrypted: bool,
    pub(crate) header_offset: u64,
    pub(crate) compressed: u64,
    pub uncompressed: u64,
}

impl ZipMember {
    pub fn is_directory(&self) -> bool {
        self.name.ends_with('/')
    }

    /// Why this member cannot be read, if it cannot.
    pub(crate) fn unreadable(&self) -> Option<String> {
        if self.encrypted {
            return Some("encrypted".into());
        }
        match self.method {
            Method::Stored | Method::Deflated => None,
            Method::Other(m) => Some(format!("compression method {m} (only stored and deflated are read)")),
        }
    }
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}
fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}
fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

fn bad(reason: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, reason.into())
}

/// The members of the archive at `path`, in directory order.
pub(crate) fn members(path: &Path) -> io::Result<Vec<ZipMember>> {
    let mut file = File::open(path)?;
    let size = file.metadata()?.len();
    let tail_start = size.saturating_sub(TAIL);
    let mut tail = Vec::new();
    file.seek(SeekFrom::Start(tail_start))?;
    file.by_ref().take(TAIL).read_to_end(&mut tail)?;
    let at = (0..tail.len().saturating_sub(21))
        .rev()
        .find(|&i| u32_at(&tail, i) == Some(EOCD))
        .ok_or_else(|| bad("no end of central directory record (not a zip archive, or a truncated one)"))?;
    let eocd = tail.get(at..).unwrap_or_default();
    let field = |o| u16_at(eocd, o).map(u64::from).ok_or_else(|| bad("short end record"));
    let (mut entries, mut dir_size, mut dir_offset) =
        (field(10)?, u32_at(eocd, 12).map(u64::from).unwrap_or(0), u32_at(eocd, 16).map(u64::from).unwrap_or(0));
    if entries == 0xffff || dir_size == 0xffff_ffff || dir_offset == 0xffff_ffff {
        // zip64: a locator sits just before the end record and points at the real one.
        let locator_at = (tail_start + at as u64).checked_sub(20).ok_or_else(|| bad("zip64 locator missing"))?;
        let mut locator = [0u8; 20];
        file.seek(SeekFrom::Start(locator_at))?;
        file.read_exact(&mut locator)?;
        if u32_at(&locator, 0) != Some(ZIP64_LOCATOR) {
            return Err(bad("zip64 locator missing"));
        }
        let record_at = u64_at(&locator, 8).unwrap_or(0);
        let mut record = [0u8; 56];
        file.seek(SeekFrom::Start(record_at))?;
        file.read_exact(&mut record)?;
        if u32_at(&record, 0) != Some(ZIP64_EOCD) {
            return Err(bad("zip64 end of central directory record missing"));
        }
        entries = u64_at(&record, 32).unwrap_or(0);
        dir_size = u64_at(&record, 40).unwrap_or(0);
        dir_offset = u64_at(&record, 48).unwrap_or(0);
    }
    if dir_size > MAX_DIRECTORY || dir_offset.saturating_add(dir_size) > size {
        return Err(bad(format!("central directory of {dir_size} bytes at {dir_offset} lies outside the {size}-byte file")));
    }
    let mut dir = Vec::new();
    file.seek(SeekFrom::Start(dir_offset))?;
    file.take(dir_size).read_to_end(&mut dir)?;
    let mut out = Vec::new();
    let mut pos = 0usize;
    while out.len() as u64 != entries {
        out.push(central_entry(&dir, &mut pos).ok_or_else(|| bad(format!("central directory entry {} is malformed", out.len() + 1)))?);
    }
    Ok(out)
}

fn central_entry(dir: &[u8], pos: &mut usize) -> Option<ZipMember> {
    let e = dir.get(*pos..)?;
    if u32_at(e, 0)? != CENTRAL {
        return None;
    }
    let (flags, method) = (u16_at(e, 8)?, u16_at(e, 10)?);
    let (mut compressed, mut uncompressed) = (u64::from(u32_at(e, 20)?), u64::from(u32_at(e, 24)?));
    let (name_len, extra_len, comment_len) = (usize::from(u16_at(e, 28)?), usize::from(u16_at(e, 30)?), usize::from(u16_at(e, 32)?));
    let mut header_offset = u64::from(u32_at(e, 42)?);
    let name = String::from_utf8_lossy(e.get(46..46 + name_len)?).into_owned();
    let extra = e.get(46 + name_len..46 + name_len + extra_len)?;
    // The zip64 extra field holds, in order, the sizes and offset that overflowed.
    let mut x = 0;
    while let (Some(id), Some(len)) = (u16_at(extra, x), u16_at(extra, x + 2)) {
        let body = extra.get(x + 4..x + 4 + usize::from(len))?;
        if id == 1 {
            let mut f = 0;
            for v in [&mut uncompressed, &mut compressed, &mut header_offset] {
                if *v == 0xffff_ffff {
                    *v = u64_at(body, f)?;
                    f += 8;
                }
            }
        }
        x += 4 + usize::from(len);
    }
    *pos += 46 + name_len + extra_len + comment_len;
    let method = match method {
        0 => Method::Stored,
        8 => Method::Deflated,
        m => Method::Other(m),
    };
    Some(ZipMember { name, method, encrypted: flags & 1 != 0, header_offset, compressed, uncompressed })
}

/// The decompressed bytes of `member`, read from the archive at `path` as they are needed.
pub(crate) fn open_member(path: &Path, member: &ZipMember) -> io::Result<Box<dyn Read + Send>> {
    open_member_counted(path, member, |r| Box::new(r))
}

/// As [`open_member`], with the compressed bytes passed through `wrap` (to count them).
pub(crate) fn open_member_counted(
    path: &Path,
    member: &ZipMember,
    wrap: impl FnOnce(io::Take<File>) -> Box<dyn Read + Send>,
) -> io::Result<Box<dyn Read + Send>> {
    if let Some(why) = member.unreadable() {
        return Err(io::Error::new(io::ErrorKind::Unsupported, why));
    }
    let mut file = File::open(path)?;
    let mut local = [0u8; 30];
    file.seek(SeekFrom::Start(member.header_offset))?;
    file.read_exact(&mut local)?;
    if u32_at(&local, 0) != Some(LOCAL) {
        return Err(bad(format!("{}: local header missing", member.name)));
    }
    let skip = 30 + u64::from(u16_at(&local, 26).unwrap_or(0)) + u64::from(u16_at(&local, 28).unwrap_or(0));
    file.seek(SeekFrom::Start(member.header_offset + skip))?;
    let compressed = wrap(file.take(member.compressed));
    Ok(match member.method {
        Method::Deflated => Box::new(flate2::read::DeflateDecoder::new(compressed)),
        _ => compressed,
    })
}
