//! The pipeline: capture → decode → flows and reassembly → protocol detection (dissectors
//! and rules: next) → sinks.
#![forbid(unsafe_code)]
#![deny(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic))]

mod apps;
mod detect;
mod events;
mod flows;
mod replay;

pub use replay::{EngineError, FileReport, Replay, ReplayOptions};
