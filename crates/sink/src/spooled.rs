//! A sink behind a durable spool: a batch the sink cannot take now (a retriable error)
//! is kept in the spool instead, and the spool is drained, oldest first, before any new
//! batch goes to the sink, so the order holds and nothing accepted is lost. A spool
//! left by an earlier run is drained the same way. A batch the sink refuses for good
//! (a schema or data error) goes to `dead-letter.jsonl` in the spool's directory, one
//! line per record with the reason, forced to disk.
use crate::batch::Batch;
use crate::sink::{RecordSink, Refused, SinkError, Tick};
use crate::spool::{Overflow, Spool, SpoolCounts, SpoolError};
use std::io::Write;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// Waits before the sink is tried again after it failed: doubled each time, to a
/// ceiling, so an outage costs one attempt per interval rather than one per batch.
const FIRST_RETRY: Duration = Duration::from_millis(100);
const LAST_RETRY: Duration = Duration::from_secs(5);

/// The dead-letter file's name, in the spool's directory.
pub const DEAD_LETTER: &str = "dead-letter.jsonl";

pub struct Spooled<S: RecordSink> {
    inner: S,
    /// Shared with the pipeline's end of the sink, which keeps batches here when the
    /// queue is full (see [`Overflow`]); each use holds it only for the file work.
    spool: Arc<Mutex<Spool>>,
    dir: std::path::PathBuf,
    /// Frames whose checksum held but that are not batches (another build's spool).
    unreadable: u64,
    /// Spooled batches the sink refused for good when they were drained (they are not
    /// kept at the head of the spool, where they would stop every later one).
    refused: u64,
    dead_lettered: u64,
    /// Batches held when the spool was opened (an earlier run's).
    inherited: u64,
    /// While the sink is down: no attempt before this, and the wait after the next failure.
    retry_at: Option<Instant>,
    wait: Duration,
    first_retry: Duration,
    last_retry: Duration,
}

impl<S: RecordSink> Spooled<S> {
    pub fn new(inner: S, spool: Spool) -> Self {
        let inherited = spool.counts().batches;
        if inherited > 0 {
            tracing::warn!(spool = %spool.dir().display(), batches = inherited, bytes = spool.counts().bytes, "the spool holds batches of an earlier run: they are delivered first");
        }
        Spooled {
            inner,
            dir: spool.dir().to_path_buf(),
            spool: Arc::new(Mutex::new(spool)),
            unreadable: 0,
            refused: 0,
            dead_lettered: 0,
            inherited,
            retry_at: None,
            wait: FIRST_RETRY,
            first_retry: FIRST_RETRY,
            last_retry: LAST_RETRY,
        }
    }

    /// The wait after the sink's first failure, doubled up to `last` (default 100 ms to 5 s).
    pub fn with_retry(mut self, first: Duration, last: Duration) -> Self {
        (self.first_retry, self.last_retry, self.wait) = (first, last, first);
        self
    }

    /// Whether the sink may be tried now (it is up, or its wait is over).
    fn may_try(&self) -> bool {
        self.retry_at.is_none_or(|t| Instant::now() >= t)
    }

    fn failed(&mut self) {
        self.retry_at = Some(Instant::now() + self.wait);
        self.wait = (self.wait * 2).min(self.last_retry);
    }

    fn succeeded(&mut self) {
        if self.retry_at.take().is_some() {
            tracing::info!(sink = %self.inner.name(), held = self.lock().counts().batches, "sink back: draining the spool");
        }
        self.wait = self.first_retry;
    }

    /// Spooled batches the sink refused for good.
    pub fn refused(&self) -> u64 {
        self.refused
    }

    pub fn spool(&self) -> SpoolCounts {
        self.lock().counts().clone()
    }

    fn lock(&self) -> MutexGuard<'_, Spool> {
        // A panic while holding it leaves the spool's files as they were: still usable.
        self.spool.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Delivers spooled batches in order until the spool is empty or the sink refuses
    /// again (then it stays as it is, for the next try).
    fn drain(&mut self) -> Result<(), SinkError> {
        let fail = |e: SpoolError| SinkError::Retriable(e.to_string());
        if self.lock().is_empty() || !self.may_try() {
            return Ok(());
        }
        loop {
            // The lock is not held while the sink writes.
            let next = self.lock().peek();
            let Some(bytes) = next.map_err(fail)? else { break };
            match Batch::from_spooled(&bytes) {
                Some(batch) => match self.inner.write(&batch) {
                    Ok(()) => {
                        self.succeeded();
                        self.dead_letter_refused()?;
                    }
                    Err(SinkError::Retriable(_)) => {
                        self.failed();
                        return Ok(());
                    }
                    Err(e) => {
                        // Kept in the spool unless it reached the dead-letter file.
                        self.dead_letter(&batch, &e)?;
                        self.refused += 1;
                    }
                },
                None => {
                    self.unreadable += 1;
                    tracing::error!("spool: a frame that is not a batch (another build's?) was skipped");
                }
            }
            self.lock().ack().map_err(fail)?;
        }
        Ok(())
    }

    /// Appends `batch`'s records to the dead-letter file with why the sink refused them.
    fn dead_letter(&mut self, batch: &Batch, why: &SinkError) -> Result<(), SinkError> {
        let why = why.to_string();
        self.dead_letter_lines(batch.lines().map(|(ty, line)| (ty, line, why.as_str())))
    }

    /// Dead-letters the records the sink left out of a batch it wrote.
    fn dead_letter_refused(&mut self) -> Result<(), SinkError> {
        let refused: Vec<Refused> = self.inner.take_refused();
        if refused.is_empty() {
            return Ok(());
        }
        self.dead_letter_lines(refused.iter().map(|r| (r.event_type, r.line.as_slice(), r.reason.as_str())))
    }

    fn dead_letter_lines<'l>(&mut self, lines: impl Iterator<Item = (&'l str, &'l [u8], &'l str)>) -> Result<(), SinkError> {
        let path = self.dir.join(DEAD_LETTER);
        let sink = self.inner.name();
        let meta = |k: &str, v: &str| format!("\"{k}\":{}", serde_json::to_string(v).unwrap_or_default());
        let mut text = Vec::new();
        let mut n = 0u64;
        let mut first_reason = String::new();
        for (ty, line, why) in lines {
            if first_reason.is_empty() {
                first_reason = why.to_string();
            }
            text.extend_from_slice(
                format!("{{{},{},{},\"record\":", meta("sink", &sink), meta("reason", why), meta("event_type", ty)).as_bytes(),
            );
            text.extend_from_slice(line);
            text.extend_from_slice(b"}\n");
            n += 1;
        }
        tracing::error!(sink = %sink, error = %first_reason, records = n, file = %path.display(), "records refused for good: dead-lettered");
        let write = || -> std::io::Result<()> {
            let mut f =
                std::os::unix::fs::OpenOptionsExt::mode(std::fs::OpenOptions::new().create(true).append(true), 0o600).open(&path)?;
            f.write_all(&text)?;
            f.sync_data()
        };
        write().map_err(|e| SinkError::Retriable(format!("{}: {e}", path.display())))?;
        self.dead_lettered += n;
        Ok(())
    }

    /// Records written to the dead-letter file.
    pub fn dead_lettered(&self) -> u64 {
        self.dead_lettered
    }

    /// Keeps `batch` in the spool (a full spool is a retriable error: the worker
    /// retries and then counts the batch as dropped).
    fn keep(&mut self, batch: &Batch) -> Result<(), SinkError> {
        self.lock().push(&batch.to_spooled()).map_err(|e| SinkError::Retriable(e.to_string()))
    }
}

impl<S: RecordSink> RecordSink for Spooled<S> {
    fn name(&self) -> String {
        self.inner.name()
    }

    fn write(&mut self, batch: &Batch) -> Result<(), SinkError> {
        self.drain()?;
        if !self.lock().is_empty() || !self.may_try() {
            // Still down: behind the others, in order.
            return self.keep(batch);
        }
        match self.inner.write(batch) {
            Err(SinkError::Retriable(e)) => {
                tracing::warn!(sink = %self.inner.name(), error = %e, spool = %self.dir.display(), "sink down: spooling");
                self.failed();
                self.keep(batch)
            }
            Ok(()) => {
                self.succeeded();
                self.dead_letter_refused()
            }
            // Refused for good: kept in the dead-letter file, and still reported (the
            // worker counts the batch as not delivered).
            Err(e @ SinkError::Permanent(_)) => {
                self.dead_letter(batch, &e)?;
                Err(e)
            }
            other => other,
        }
    }

    fn flush(&mut self) -> Result<(), SinkError> {
        // One more try at the end of a run, whatever the wait.
        self.retry_at = None;
        self.drain()?;
        self.inner.flush()
    }

    fn reopen(&mut self) -> Result<(), SinkError> {
        self.inner.reopen()
    }

    fn tick(&mut self, now: Instant) -> Result<Tick, SinkError> {
        self.drain()?;
        self.inner.tick(now)
    }

    fn batch_bytes(&self) -> usize {
        self.inner.batch_bytes()
    }

    fn coalesce_bytes(&self) -> usize {
        self.inner.coalesce_bytes()
    }

    fn overflow(&self) -> Option<Overflow> {
        Some(Overflow(self.spool.clone()))
    }

    fn spool_state(&self) -> Option<otsentry_core::SpoolState> {
        let spool = self.lock();
        let c = spool.counts();
        Some(otsentry_core::SpoolState {
            dir: self.dir.display().to_string(),
            pending_batches: c.batches,
            pending_bytes: c.bytes,
            inherited_batches: self.inherited,
            spooled: c.spooled,
            drained: c.drained,
            full: c.refused,
            torn: c.torn,
            corrupt: c.corrupt,
            refused: self.refused,
            dead_lettered: self.dead_lettered,
            unreadable: self.unreadable,
        })
    }
}
