//! The ClickHouse sink: each batch's records sorted into their tables' RowBinary rows and
//! sent as one INSERT per table. Repeats are harmless (the tables keep one row per
//! `event_id`), so a batch that failed half-way is sent again whole. A record its columns
//! cannot hold is left out of the insert and handed back ([`RecordSink::take_refused`]:
//! the spool dead-letters it), so it does not take its batch down with it.
use crate::rows::RowEncoder;
use crate::schema::{ident, Layout, TableColumns};
use crate::server::{Failure, Server};
use bytes::Bytes;
use otsentry_sink::{Batch, RecordSink, Refused, SinkError};
use std::sync::{Arc, Mutex};

pub struct ClickHouseSink {
    server: Server,
    /// Each table's layout as found on the server, in the catalog's order; checked again
    /// after the server was unreachable at start.
    layouts: Option<Vec<Layout>>,
    /// Each table's column list for its INSERT, per layout, and its row encoder.
    columns: Vec<[String; 2]>,
    encoders: Vec<RowEncoder>,
    /// The server's catalog's tables, which the per-table lists follow.
    tables: Vec<&'static crate::schema::Table>,
    /// Records left out of written batches (a value their column cannot hold).
    refused: Vec<Refused>,
    chunks: Chunks,
}

/// Why the sink could not start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StartError {
    /// The server did not answer (the caller may start anyway and spool).
    #[error("{0}")]
    Unreachable(String),
    /// Credentials or tables are wrong: waiting will not help.
    #[error("{0}")]
    Config(String),
}

fn to_sink(f: Failure) -> SinkError {
    match f {
        // Credentials can be mended while the records wait.
        Failure::Transient(t) | Failure::Credentials(t) => SinkError::Retriable(t),
        Failure::Refused(t) => SinkError::Permanent(t),
    }
}

impl ClickHouseSink {
    /// A sink for `server`; nothing is sent until [`ClickHouseSink::check`] or the
    /// first batch.
    pub fn new(server: Server) -> ClickHouseSink {
        let tables = server.catalog().tables().to_vec();
        let columns = tables
            .iter()
            .map(|t| {
                let list = |layout| t.server_columns(layout).iter().map(|(n, _)| ident(n)).collect::<Vec<_>>().join(",");
                [list(Layout::Legacy), list(Layout::Current)]
            })
            .collect();
        let encoders = tables.iter().copied().map(RowEncoder::new).collect();
        ClickHouseSink { server, tables, layouts: None, columns, encoders, refused: Vec::new(), chunks: Chunks::default() }
    }

    /// Connects and checks the server's tables (the first batch does it otherwise).
    pub fn check(&mut self) -> Result<(), StartError> {
        match self.server.check_tables() {
            Ok(layouts) => {
                let version = self.server.version().unwrap_or_default();
                tracing::info!(sink = %self.server.settings().name(), version = %version, "ClickHouse tables checked");
                self.layouts = Some(layouts);
                Ok(())
            }
            Err(Failure::Transient(t)) => Err(StartError::Unreachable(t)),
            Err(Failure::Credentials(t) | Failure::Refused(t)) => Err(StartError::Config(t)),
        }
    }

    fn layouts(&mut self) -> Result<&[Layout], SinkError> {
        if self.layouts.is_none() {
            let layouts = self.server.check_tables().map_err(to_sink)?;
            tracing::info!(sink = %self.server.settings().name(), "ClickHouse reachable, tables checked");
            self.layouts = Some(layouts);
        }
        Ok(self.layouts.as_deref().unwrap_or_default())
    }

    fn failed(&mut self, e: SinkError) -> SinkError {
        // A table changed under us is checked again before the next try.
        if matches!(e, SinkError::Permanent(_)) {
            self.layouts = None;
        }
        e
    }
}

impl RecordSink for ClickHouseSink {
    fn name(&self) -> String {
        self.server.settings().name()
    }

    fn batch_bytes(&self) -> usize {
        BATCH_BYTES
    }

    fn coalesce_bytes(&self) -> usize {
        COALESCE_BYTES
    }

    fn write(&mut self, batch: &Batch) -> Result<(), SinkError> {
        let layouts = self.layouts()?.to_vec();
        // Each record's table, then one table at a time: rows stream to the server in
        // chunks while the rest are encoded.
        let mut records: Vec<(usize, &[u8])> = Vec::with_capacity(batch.records());
        let mut refused = Vec::new();
        for (ty, line) in batch.lines() {
            match self.tables.iter().position(|t| t.event_type == ty) {
                Some(i) => records.push((i, line)),
                None => refused.push(Refused {
                    event_type: ty,
                    line: line.to_vec(),
                    reason: format!("a record of type {ty:?}, which has no table"),
                }),
            }
        }
        // Stable: each table's rows keep the batch's order.
        records.sort_by_key(|r| r.0);
        // The server writes each table's insert while the next is encoded; the batch is
        // written when every one has landed.
        let mut landing = Vec::new();
        for group in records.chunk_by(|a, b| a.0 == b.0) {
            let (i, table) = (group[0].0, self.tables[group[0].0]);
            let columns = &self.columns[i][usize::from(layouts[i] == Layout::Current)];
            let mut inserting = self.server.start_insert(table.name, columns);
            let mut buf = self.chunks.take();
            let result = (|| {
                for &(_, line) in group {
                    // A record its columns cannot hold is left out (and reported), not its batch.
                    if let Err(reason) = self.encoders[i].encode(layouts[i], line, &mut buf) {
                        refused.push(Refused {
                            event_type: table.event_type,
                            line: line.to_vec(),
                            reason: format!("refused by {}: {reason}", self.server.settings().name()),
                        });
                        continue;
                    }
                    if buf.len() >= CHUNK {
                        let chunk = std::mem::replace(&mut buf, self.chunks.take());
                        self.server.send(&mut inserting, self.chunks.share(chunk)).map_err(to_sink)?;
                    }
                }
                if !buf.is_empty() {
                    self.server.send(&mut inserting, self.chunks.share(buf)).map_err(to_sink)?;
                }
                landing.push(self.server.finish(inserting));
                Ok(())
            })();
            if let Err(e) = result {
                return Err(self.failed(e));
            }
        }
        for l in landing {
            self.server.wait(l).map_err(|e| self.failed(to_sink(e)))?;
        }
        self.refused = refused;
        Ok(())
    }

    fn take_refused(&mut self) -> Vec<Refused> {
        std::mem::take(&mut self.refused)
    }
}

/// Each INSERT is a part the server writes and later merges: batches of thousands of
/// rows (still handed over at least once a second), and when the sink falls behind, the
/// batches queued for it go as one, up to the second size.
const BATCH_BYTES: usize = 8 << 20;
const COALESCE_BYTES: usize = 64 << 20;

/// Rows go to the server in chunks of about this many bytes.
const CHUNK: usize = 4 << 20;

/// The buffers rows are sent in, handed back once the connection is done with them: a
/// fresh buffer per chunk would cost a page fault per 4 KiB written.
#[derive(Clone, Default)]
struct Chunks(Arc<Mutex<Vec<Vec<u8>>>>);

/// Buffers kept for reuse: a few chunks are in flight at once.
const CHUNKS_KEPT: usize = 4;

impl Chunks {
    fn take(&self) -> Vec<u8> {
        let kept = self.0.lock().ok().and_then(|mut kept| kept.pop());
        kept.unwrap_or_else(|| Vec::with_capacity(CHUNK + (CHUNK >> 2)))
    }

    fn share(&self, buf: Vec<u8>) -> Bytes {
        Bytes::from_owner(Lent { buf, home: self.clone() })
    }
}

/// A chunk on its way to the server; dropped, its buffer goes back to its pool.
struct Lent {
    buf: Vec<u8>,
    home: Chunks,
}

impl AsRef<[u8]> for Lent {
    fn as_ref(&self) -> &[u8] {
        &self.buf
    }
}

impl Drop for Lent {
    fn drop(&mut self) {
        if let Ok(mut kept) = self.home.0.lock() {
            if kept.len() < CHUNKS_KEPT {
                let mut buf = std::mem::take(&mut self.buf);
                buf.clear();
                kept.push(buf);
            }
        }
    }
}
