//! The fuzz harness, shared by the cargo-fuzz target and the corpus replay test.

use crate::{ModbusConfig, ModbusDissector};
use otsentry_core::harness::{conversation, SerializingSink};

/// Feed `data` to one flow's dissector as a conversation: each chunk's first byte picks
/// the direction (bit 0), whether a gap precedes it (bit 1) and its length (the rest).
pub fn run(data: &[u8]) {
    let mut d = ModbusDissector::new(ModbusConfig { max_open: 8 });
    let mut sink = SerializingSink::default();
    conversation(&mut d, data, false, 1024, &mut sink);
    let counts = sink.counts.get("modbus").expect("finish publishes the section");
    assert!(counts.count("exceptions") <= counts.count("pdus"));
}
