//! Siemens S7comm and S7comm-plus over ISO-on-TCP (RFC 1006): content detection (the
//! dissector comes next).
#![forbid(unsafe_code)]
#![deny(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic))]

mod probe;

pub use probe::probe;

/// TPKT header length.
pub const TPKT_LEN: usize = 4;
