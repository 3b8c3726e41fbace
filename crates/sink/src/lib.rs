//! Where otsentry's records go. Depends on `otsentry-core` alone.
//!
//! The pipeline serialises each record once into a [`Batch`] ([`Outputs::write`]);
//! batches go to every [`RecordSink`], each on its own thread behind a bounded queue,
//! with retries for retriable errors and counters for what was written and dropped.
#![forbid(unsafe_code)]

mod batch;
mod encode;
mod file;
mod json;
mod outputs;
pub mod reader;
mod sink;
mod spool;
mod spooled;
mod types;
mod worker;

pub use batch::Batch;
pub use file::{Captured, FileOptions, FileSink, Fsync, MemorySink, StreamSink};
pub use outputs::{OutputOptions, Outputs};
pub use sink::{RecordSink, Refused, SinkError, Tick};
pub use spool::{Overflow, Spool, SpoolCounts, SpoolError};
pub use spooled::{Spooled, DEAD_LETTER};
pub use types::{install_test_types, install_types, record_types, type_index, TypeSet, TypesInstalled};
pub use worker::{OnFull, SinkOptions};
