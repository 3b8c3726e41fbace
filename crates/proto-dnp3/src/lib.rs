//! DNP3 (IEEE 1815): link-layer CRCs and content detection (the dissector comes next).
#![forbid(unsafe_code)]
#![deny(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic))]

mod crc;
mod probe;

pub use crc::crc16;
pub use probe::probe;

/// Link header length, its CRC included.
pub const LINK_HEADER_LEN: usize = 10;
