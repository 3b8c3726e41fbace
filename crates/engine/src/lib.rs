//! The pipeline: capture → decode → (flows, dissectors, rules: later) → sinks.
#![forbid(unsafe_code)]
#![deny(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic))]

mod replay;

pub use replay::{EngineError, FileReport, Replay, ReplayOptions};
