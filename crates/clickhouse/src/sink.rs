//! The ClickHouse sink: each batch's records sorted into their tables' RowBinary rows and
//! sent as one INSERT per table. Repeats are harmless (the tables keep one row per
//! `event_id`), so a batch that failed half-way is sent again whole.
use crate::rows::encode_row;
use crate::schema::{ident, Layout, TABLES};
use crate::server::{Failure, Server};
use otsentry_sink::{Batch, RecordSink, SinkError};

pub struct ClickHouseSink {
    server: Server,
    /// Each table's layout as found on the server, in [`TABLES`] order; checked again
    /// after the server was unreachable at start.
    layouts: Option<Vec<Layout>>,
    /// Each table's column list for its INSERT, per layout.
    columns: Vec<[String; 2]>,
    rows: Vec<Vec<u8>>,
    counts: Vec<usize>,
    /// Rows sent per table.
    sent: Vec<u64>,
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
        ClickHouseSink::unchecked(server)
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

    fn unchecked(server: Server) -> ClickHouseSink {
        let columns = TABLES
            .iter()
            .map(|t| {
                let list = |layout| t.server_columns(layout).iter().map(|(n, _)| ident(n)).collect::<Vec<_>>().join(",");
                [list(Layout::Legacy), list(Layout::Current)]
            })
            .collect();
        ClickHouseSink {
            server,
            layouts: None,
            columns,
            rows: vec![Vec::new(); TABLES.len()],
            counts: vec![0; TABLES.len()],
            sent: vec![0; TABLES.len()],
        }
    }

    /// Rows sent per table name.
    pub fn sent(&self) -> impl Iterator<Item = (&'static str, u64)> + '_ {
        TABLES.iter().zip(&self.sent).map(|(t, n)| (t.name, *n))
    }

    fn layouts(&mut self) -> Result<&[Layout], SinkError> {
        if self.layouts.is_none() {
            let layouts = self.server.check_tables().map_err(to_sink)?;
            tracing::info!(sink = %self.server.settings().name(), "ClickHouse reachable, tables checked");
            self.layouts = Some(layouts);
        }
        Ok(self.layouts.as_deref().unwrap_or_default())
    }
}

impl RecordSink for ClickHouseSink {
    fn name(&self) -> String {
        self.server.settings().name()
    }

    fn write(&mut self, batch: &Batch) -> Result<(), SinkError> {
        let layouts = self.layouts()?.to_vec();
        for (rows, n) in self.rows.iter_mut().zip(&mut self.counts) {
            rows.clear();
            *n = 0;
        }
        for (ty, line) in batch.lines() {
            let Some(i) = TABLES.iter().position(|t| t.event_type == ty) else {
                return Err(SinkError::Permanent(format!("a record of type {ty:?}, which has no table")));
            };
            let line = std::str::from_utf8(line).map_err(|e| SinkError::Permanent(format!("a record that is not UTF-8: {e}")))?;
            encode_row(&TABLES[i], layouts[i], line, &mut self.rows[i])
                .map_err(|e| SinkError::Permanent(format!("a record refused by {}: {e}", self.server.settings().name())))?;
            self.counts[i] += 1;
        }
        for (i, table) in TABLES.iter().enumerate() {
            if self.counts[i] == 0 {
                continue;
            }
            let columns = &self.columns[i][usize::from(layouts[i] == Layout::Current)];
            let rows = bytes::Bytes::copy_from_slice(&self.rows[i]);
            match self.server.insert(table.name, columns, rows) {
                Ok(()) => self.sent[i] += self.counts[i] as u64,
                Err(f) => {
                    // A table changed under us is checked again before the next try.
                    if matches!(f, Failure::Refused(_)) {
                        self.layouts = None;
                    }
                    return Err(to_sink(f));
                }
            }
        }
        Ok(())
    }
}
