//! Conversations above single packets: the flow table, TCP reassembly and Community ID.
#![forbid(unsafe_code)]
#![deny(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic))]

mod community;
mod stream;
mod table;

pub use community::community_id;
pub use stream::{Budget, Delivery, GapReason, Stream, StreamConfig, StreamStats};
pub use table::{EndReason, Flow, FlowConfig, FlowRef, FlowTable, Lookup, TableStats, TcpConn, TcpState, ACK, FIN, RST, SYN};
