//! Siemens S7comm and S7comm-plus over ISO-on-TCP (RFC 1006): TPKT and COTP framing with
//! resynchronisation and reassembly, S7comm jobs with their variable items, block
//! transfers, PI services and PLC control paired with their acks, user data with SZL
//! decoding, and S7comm-plus identification; content detection for the engine.
#![forbid(unsafe_code)]
#![deny(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic))]

pub mod class;
pub mod cotp;
mod dissector;
mod fields;
#[doc(hidden)]
pub mod fuzzing;
pub mod names;
pub mod plus;
mod probe;
mod record;
pub mod s7;
pub mod userdata;
pub mod values;

pub use dissector::{S7Config, S7Dissector};
pub use fields::{COTP_SCHEMA, S7_PLUS_SCHEMA, S7_SCHEMA};
pub use probe::probe;
pub use record::{CotpEvent, JobEvent, PlusEvent, Status, UserDataEvent};

/// TPKT header length.
pub const TPKT_LEN: usize = 4;
