//! The record-sink interface: a destination for batches of serialised records, run by
//! [`crate::Outputs`] on its own thread behind a bounded queue.
use crate::batch::Batch;
use std::io;
use std::time::Instant;

/// Why a sink could not take a batch, and whether trying again may help.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SinkError {
    /// The same batch may succeed later (a full disk, a refused connection, a timeout).
    #[error("{0} (retriable)")]
    Retriable(String),
    /// Trying again cannot help this batch (a bad path, a rejected schema).
    #[error("{0}")]
    Permanent(String),
    /// The destination went away for good (its reader closed the pipe): nothing more is
    /// written to it.
    #[error("{0} (closed)")]
    Closed(String),
}

impl SinkError {
    /// Classifies an I/O error of `what` (a file or stream named for the message).
    pub fn io(what: &str, e: &io::Error) -> SinkError {
        // ENOSPC and EDQUOT: space may be freed; EIO: NFS and USB disks come back.
        const ENOSPC: i32 = 28;
        const EDQUOT: i32 = 122;
        const EIO: i32 = 5;
        let retriable = matches!(e.raw_os_error(), Some(ENOSPC | EDQUOT | EIO))
            || matches!(
                e.kind(),
                io::ErrorKind::Interrupted
                    | io::ErrorKind::WouldBlock
                    | io::ErrorKind::TimedOut
                    | io::ErrorKind::StorageFull
                    | io::ErrorKind::ConnectionRefused
                    | io::ErrorKind::ConnectionReset
                    | io::ErrorKind::ConnectionAborted
                    | io::ErrorKind::NotConnected
            );
        let text = format!("{what}: {e}");
        if retriable {
            SinkError::Retriable(text)
        } else {
            SinkError::Permanent(text)
        }
    }
}

/// A destination for records. Each call gets a whole batch, which either lands whole or
/// not at all: a sink that wrote part of a failed batch takes it back (or, if it cannot,
/// reports the error as permanent so the batch is not written twice).
pub trait RecordSink: Send {
    /// The sink as the summary names it (`eve:PATH`, `stdout`).
    fn name(&self) -> String;

    fn write(&mut self, batch: &Batch) -> Result<(), SinkError>;

    /// Make what was written durable or visible (end of run, or the queue ran dry).
    fn flush(&mut self) -> Result<(), SinkError> {
        Ok(())
    }

    /// Reopen the destination (SIGHUP, after logrotate moved the file).
    fn reopen(&mut self) -> Result<(), SinkError> {
        Ok(())
    }

    /// Called when the queue has been idle for a while, and before each batch: time-based
    /// work (rotation by age, fsync by interval). Returns what happened, for counting.
    fn tick(&mut self, _now: Instant) -> Result<Tick, SinkError> {
        Ok(Tick::Nothing)
    }

    /// The batch size this sink wants at least (a database wants few large inserts):
    /// the outputs' batches grow to the largest any of their sinks asks for. 0: any.
    fn batch_bytes(&self) -> usize {
        0
    }

    /// Batches queued behind the one taken are joined to it up to this many bytes, so a
    /// sink that falls behind writes fewer, larger batches (a database insert each).
    /// 0 (the default): one batch at a time.
    fn coalesce_bytes(&self) -> usize {
        0
    }

    /// Records left out of the batches written since the last call, each with why: a
    /// record the destination cannot hold (a value too large for its column) must not
    /// take the rest of its batch down with it.
    fn take_refused(&mut self) -> Vec<Refused> {
        Vec::new()
    }

    /// A sink behind a spool: where the pipeline keeps a batch when the queue is full
    /// and it may not wait ([`crate::OnFull::Drop`]).
    fn overflow(&self) -> Option<crate::spool::Overflow> {
        None
    }

    /// A sink behind a spool: what the spool holds and did (for the summary).
    fn spool_state(&self) -> Option<otsentry_core::SpoolState> {
        None
    }
}

/// A record a sink left out of a batch it wrote otherwise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub event_type: &'static str,
    pub line: Vec<u8>,
    pub reason: String,
}

/// What a [`RecordSink::tick`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tick {
    Nothing,
    Rotated,
}
