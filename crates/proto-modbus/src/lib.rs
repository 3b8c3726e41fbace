//! Modbus/TCP: MBAP framing with resynchronisation, every public function typed in both
//! directions (diagnostics, MEI device identification, Schneider UMAS), request/response
//! pairing with checks, Suricata's anomaly events and one EVE `modbus` record per
//! transaction. Parsers borrow from the stream; only pending requests are owned.
#![forbid(unsafe_code)]
#![deny(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic))]

mod anomaly;
pub mod class;
mod dissector;
mod fields;
mod frame;
pub mod function;
#[doc(hidden)]
pub mod fuzzing;
mod pdu;
mod probe;
mod record;
pub mod space;
pub mod table;

pub use anomaly::ModbusAnomaly;
pub use dissector::{ModbusConfig, ModbusDissector, SECTION};
pub use fields::MODBUS_SCHEMA;
pub use frame::{frame, BadReason, Framed, Mbap};
pub use pdu::{file_records, parse_request, parse_response, DeviceId, FileRecord, Issue, Request, Response};
pub use probe::{probe, probe_framing};
pub use record::{RequestInfo, Status, Transaction};

/// Modbus/TCP as the engine registers it.
pub static DESCRIPTOR: otsentry_core::Descriptor = otsentry_core::Descriptor {
    proto: MODBUS,
    also: &[],
    ports: &[(otsentry_core::IpProto::TCP, 502)],
    probe,
    // On a Modbus port, MBAP framing alone decides (a device's own function codes and
    // lengths a strict probe would refuse).
    probe_on_port: Some(probe_framing),
    schemas: &[&MODBUS_SCHEMA],
    classes: class::class_table,
    // A whole ADU is at most 260 bytes; a device's longer ones are dissected too.
    max_pdu: 4096,
    summary: &[&SECTION],
    tables: &table::TABLES,
    migrations: &[],
    rules: &[("modbus.yaml", include_str!("../../../rules/modbus.yaml"))],
    // Suricata's app-layer events, and ours (the same names but where noted).
    suricata_events: &[
        ("modbus.invalid_protocol_id", "modbus.invalid_protocol_id"),
        ("modbus.unsolicited_response", "modbus.unsolicited_response"),
        ("modbus.invalid_length", "modbus.invalid_length"),
        ("modbus.invalid_unit_identifier", "modbus.invalid_unit_identifier"),
        ("modbus.invalid_function_code", "modbus.invalid_function_code"),
        ("modbus.invalid_value", "modbus.invalid_value"),
        ("modbus.invalid_exception_code", "modbus.invalid_exception_code"),
        ("modbus.value_mismatch", "modbus.value_mismatch"),
        ("modbus.flooded", "modbus.flooded"),
    ],
    settings: &[],
};

/// Modbus/TCP.
pub const MODBUS: otsentry_core::AppProto = otsentry_core::AppProto::new(1, "modbus").with_spaces(&space::SPACES);

impl otsentry_core::Registered for ModbusDissector {
    const DESCRIPTOR: &'static otsentry_core::Descriptor = &DESCRIPTOR;
    fn start(_settings: &otsentry_core::Settings) -> Self {
        ModbusDissector::new(ModbusConfig::default())
    }
}

/// MBAP header length, unit identifier included.
pub const MBAP_LEN: usize = 7;
/// The specification's largest ADU (MBAP header plus a 253-byte PDU).
pub const MAX_ADU: usize = 260;
/// The largest ADU dissected: real devices send and accept more than the standard
/// (Modicon PLCs use a length field of 255, a 261-byte ADU), so a frame a device takes is a
/// frame the rules see, flagged `pdu_too_long`. Beyond this no device is known to go; such
/// a length is refused and the search for the next header starts inside it.
pub const MAX_LENIENT_ADU: usize = 1024;
