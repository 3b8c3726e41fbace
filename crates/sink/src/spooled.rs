//! A sink behind a durable spool: a batch the sink cannot take now (a retriable error)
//! is kept in the spool instead, and the spool is drained, oldest first, before any new
//! batch goes to the sink, so the order holds and nothing accepted is lost. A spool
//! left by an earlier run is drained the same way.
use crate::batch::Batch;
use crate::sink::{RecordSink, SinkError, Tick};
use crate::spool::{Spool, SpoolCounts};
use std::time::Instant;

pub struct Spooled<S: RecordSink> {
    inner: S,
    spool: Spool,
    /// Frames whose checksum held but that are not batches (another build's spool).
    unreadable: u64,
    /// Spooled batches the sink refused for good when they were drained (they are not
    /// kept at the head of the spool, where they would stop every later one).
    refused: u64,
}

impl<S: RecordSink> Spooled<S> {
    pub fn new(inner: S, spool: Spool) -> Self {
        Spooled { inner, spool, unreadable: 0, refused: 0 }
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
                        self.refused += 1;
                        tracing::error!(sink = %self.inner.name(), error = %e, records = batch.records(), "a spooled batch was refused for good");
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
