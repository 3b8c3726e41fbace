//! A live sensor's counters for Prometheus (`/metrics`) and its health for a load
//! balancer or a monitoring check (`/health`), read from the view the pipeline publishes
//! each second.
#![forbid(unsafe_code)]
#![deny(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic))]

mod render;
mod serve;

pub use render::{render, CONTENT_TYPE};
pub use serve::{bind, serve, MetricsError};
