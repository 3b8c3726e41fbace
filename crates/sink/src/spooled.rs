//! A sink behind a durable spool: a batch the sink cannot take now (a retriable error)
//! is kept in the spool instead, and the spool is drained, oldest first, before any new
//! batch goes to the sink, so the order holds and nothing accepted is lost. A spool
//! left by an earlier run is drained the same way. A batch the sink refuses for good
//! (a schema or data error) goes to `dead-letter.jsonl` in the spool's directory, one
//! line per record with the reason, forced to disk.
use crate::batch::Batch;
use crate::sink::{RecordSink, SinkError, Tick};
use crate::spool::{Spool, SpoolCounts};
use std::io::Write;
use std::time::Instant;

/// The dead-letter file's name, in the spool's directory.
pub const DEAD_LETTER: &str = "dead-letter.jsonl";

pub struct Spooled<S: RecordSink> {
    inner: S,
    spool: Spool,
    /// Frames whose checksum held but that are not batches (another build's spool).
    unreadable: u64,
    /// Spooled batches the sink refused for good when they were drained (they are not
    /// kept at the head of the spool, where they would stop every later one).
    refused: u64,
    dead_lettered: u64,
}

impl<S: RecordSink> Spooled<S> {
    pub fn new(inner: S, spool: Spool) -> Self {
        Spooled { inner, spool, unreadable: 0, refused: 0, dead_lettered: 0 }
    }

    /// Spooled batches the sink refused for good.
    pub fn refused(&self) -> u64 {
        self.refused
    }

    pub fn unreadable(&self) -> u64 {
        self.unreadable
    }

    pub fn spool(&self) -> &SpoolCounts {
        self.spool.counts()
    }

    /// Delivers spooled batches in order until the spool is empty or the sink refuses
    /// again (then it stays as it is, for the next try).
    fn drain(&mut self) -> Result<(), SinkError> {
        let fail = |e: crate::spool::SpoolError| SinkError::Retriable(e.to_string());
        while let Some(bytes) = self.spool.peek().map_err(fail)? {
            match Batch::from_spooled(&bytes) {
                Some(batch) => match self.inner.write(&batch) {
                    Ok(()) => {}
                    Err(SinkError::Retriable(_)) => return Ok(()),
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
            self.spool.ack().map_err(fail)?;
        }
        Ok(())
    }

    /// Appends `batch`'s records to the dead-letter file with why the sink refused them.
    fn dead_letter(&mut self, batch: &Batch, why: &SinkError) -> Result<(), SinkError> {
        let path = self.spool.dir().join(DEAD_LETTER);
        let sink = self.inner.name();
        tracing::error!(sink = %sink, error = %why, records = batch.records(), file = %path.display(), "records refused for good: dead-lettered");
        let mut text = Vec::with_capacity(batch.len_bytes() + batch.records() * 96);
        let meta = |k: &str, v: &str| format!("\"{k}\":{}", serde_json::to_string(v).unwrap_or_default());
        for (ty, line) in batch.lines() {
            text.extend_from_slice(
                format!("{{{},{},{},\"record\":", meta("sink", &sink), meta("reason", &why.to_string()), meta("event_type", ty)).as_bytes(),
            );
            text.extend_from_slice(line);
            text.extend_from_slice(b"}\n");
        }
        let write = || -> std::io::Result<()> {
            let mut f = std::fs::OpenOptions::new().create(true).append(true).open(&path)?;
            f.write_all(&text)?;
            f.sync_data()
        };
        write().map_err(|e| SinkError::Retriable(format!("{}: {e}", path.display())))?;
        self.dead_lettered += batch.records() as u64;
        Ok(())
    }

    /// Records written to the dead-letter file.
    pub fn dead_lettered(&self) -> u64 {
        self.dead_lettered
    }

    /// Keeps `batch` in the spool (a full spool is a retriable error: the worker
    /// retries and then counts the batch as dropped).
    fn keep(&mut self, batch: &Batch) -> Result<(), SinkError> {
        self.spool.push(&batch.to_spooled()).map_err(|e| SinkError::Retriable(e.to_string()))
    }
}

impl<S: RecordSink> RecordSink for Spooled<S> {
    fn name(&self) -> String {
        self.inner.name()
    }

    fn write(&mut self, batch: &Batch) -> Result<(), SinkError> {
        self.drain()?;
        if !self.spool.is_empty() {
            // Still down: behind the others, in order.
            return self.keep(batch);
        }
        match self.inner.write(batch) {
            Err(SinkError::Retriable(e)) => {
                tracing::warn!(sink = %self.inner.name(), error = %e, "sink down: spooling");
                self.keep(batch)
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
}
