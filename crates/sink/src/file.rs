//! Sinks that write JSON lines to a file (rotated by size and age, reopened on SIGHUP,
//! fsync as configured), to any stream (stdout), or to memory (tests, embedding).
use crate::batch::Batch;
use crate::sink::{RecordSink, SinkError, Tick};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// When written data is forced to disk.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Fsync {
    /// Left to the kernel (Suricata's behaviour).
    #[default]
    Never,
    /// After every batch.
    Batch,
    /// At most this long after a write.
    Every(Duration),
}

/// How an EVE file is rotated and synced.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FileOptions {
    /// Rotate before a batch would take the file past this size.
    pub rotate_bytes: Option<u64>,
    /// Rotate a non-empty file this long after it was opened.
    pub rotate_every: Option<Duration>,
    pub fsync: Fsync,
}

/// An EVE file. Rotation renames it to `PATH.N` (N one past the highest present) and
/// starts a new one; reopening appends to whatever is at `PATH` then (logrotate's
/// `create` or a fresh file).
pub struct FileSink {
    path: PathBuf,
    file: File,
    /// Bytes in the current file (a failed batch is cut back to this).
    len: u64,
    opened: Instant,
    /// Written since the last fsync.
    dirty: bool,
    synced: Instant,
    opts: FileOptions,
}

impl FileSink {
    /// Creates (or empties) the file at `path`.
    pub fn create(path: &Path, opts: FileOptions) -> std::io::Result<FileSink> {
        let file = File::create(path)?;
        let now = Instant::now();
        Ok(FileSink { path: path.to_path_buf(), file, len: 0, opened: now, dirty: false, synced: now, opts })
    }

    fn err(&self, e: &std::io::Error) -> SinkError {
        SinkError::io(&self.path.display().to_string(), e)
    }

    fn sync(&mut self) -> Result<(), SinkError> {
        if self.dirty {
            self.file.sync_data().map_err(|e| self.err(&e))?;
            self.dirty = false;
            self.synced = Instant::now();
        }
        Ok(())
    }

    /// After `e` with `done` bytes of a batch written: all or nothing, so the part that
    /// landed is cut off and a retry does not double it. If that fails too, the error is
    /// permanent (a retry would double lines).
    fn cut(&mut self, done: usize, e: &std::io::Error) -> SinkError {
        if done == 0 {
            return self.err(e);
        }
        match self.file.set_len(self.len) {
            Ok(()) => self.err(e),
            Err(cut) => SinkError::Permanent(format!("{}: {e}; cutting the partial batch failed too: {cut}", self.path.display())),
        }
    }

    /// Moves the current file aside and starts an empty one.
    fn rotate(&mut self) -> Result<(), SinkError> {
        if self.opts.fsync != Fsync::Never {
            self.sync()?;
        }
        let mut n = 1u32;
        let aside = loop {
            let mut name = self.path.clone().into_os_string();
            name.push(format!(".{n}"));
            let candidate = PathBuf::from(name);
            if !candidate.exists() {
                break candidate;
            }
            n += 1;
        };
        std::fs::rename(&self.path, &aside).map_err(|e| self.err(&e))?;
        self.file = File::create(&self.path).map_err(|e| self.err(&e))?;
        self.len = 0;
        self.opened = Instant::now();
        Ok(())
    }
}

impl RecordSink for FileSink {
    fn name(&self) -> String {
        format!("eve:{}", self.path.display())
    }

    fn write(&mut self, batch: &Batch) -> Result<(), SinkError> {
        let bytes = batch.bytes();
        if let Some(max) = self.opts.rotate_bytes {
            if self.len > 0 && self.len + bytes.len() as u64 > max {
                self.rotate()?;
            }
        }
        let mut done = 0;
        while done < bytes.len() {
            match self.file.write(bytes.get(done..).unwrap_or_default()) {
                Ok(0) => return Err(self.cut(done, &std::io::Error::from(std::io::ErrorKind::WriteZero))),
                Ok(n) => done += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.cut(done, &e)),
            }
        }
        self.len += bytes.len() as u64;
        self.dirty = true;
        if self.opts.fsync == Fsync::Batch {
            self.sync()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), SinkError> {
        match self.opts.fsync {
            Fsync::Never => Ok(()),
            _ => self.sync(),
        }
    }

    fn reopen(&mut self) -> Result<(), SinkError> {
        let file = OpenOptions::new().create(true).append(true).open(&self.path).map_err(|e| self.err(&e))?;
        self.len = file.metadata().map_err(|e| self.err(&e))?.len();
        self.file = file;
        self.opened = Instant::now();
        Ok(())
    }

    fn tick(&mut self, now: Instant) -> Result<Tick, SinkError> {
        if let Fsync::Every(d) = self.opts.fsync {
            if self.dirty && now.duration_since(self.synced) >= d {
                self.sync()?;
            }
        }
        if let Some(every) = self.opts.rotate_every {
            if self.len > 0 && now.duration_since(self.opened) >= every {
                self.rotate()?;
                return Ok(Tick::Rotated);
            }
        }
        Ok(Tick::Nothing)
    }
}

/// Any stream, flushed after each batch (stdout, a pipe).
pub struct StreamSink<W: Write + Send> {
    name: String,
    out: W,
}

impl<W: Write + Send> StreamSink<W> {
    pub fn new(name: &str, out: W) -> Self {
        StreamSink { name: name.to_string(), out }
    }
}

impl<W: Write + Send> RecordSink for StreamSink<W> {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn write(&mut self, batch: &Batch) -> Result<(), SinkError> {
        // A stream cannot take back half a batch: any error is final for it.
        let r = self.out.write_all(batch.bytes()).and_then(|()| self.out.flush());
        r.map_err(|e| {
            let text = format!("{}: {e}", self.name);
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                SinkError::Closed(text)
            } else {
                SinkError::Permanent(text)
            }
        })
    }
}

/// Lines kept in memory, readable while and after the run.
#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    /// Everything written so far.
    pub fn bytes(&self) -> Vec<u8> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

/// A sink into memory, read through its [`Captured`].
pub struct MemorySink(Captured);

impl MemorySink {
    pub fn new() -> (MemorySink, Captured) {
        let c = Captured::default();
        (MemorySink(c.clone()), c)
    }
}

impl RecordSink for MemorySink {
    fn name(&self) -> String {
        "memory".to_string()
    }

    fn write(&mut self, batch: &Batch) -> Result<(), SinkError> {
        self.0 .0.lock().unwrap_or_else(PoisonError::into_inner).extend_from_slice(batch.bytes());
        Ok(())
    }
}
