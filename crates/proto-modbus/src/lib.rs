//! Modbus/TCP: MBAP framing and content detection (the dissector comes next).
#![forbid(unsafe_code)]
#![deny(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic))]

mod probe;

pub use probe::probe;

/// MBAP header length, unit identifier included.
pub const MBAP_LEN: usize = 7;
/// The specification's largest ADU (MBAP header plus a 253-byte PDU).
pub const MAX_ADU: usize = 260;
