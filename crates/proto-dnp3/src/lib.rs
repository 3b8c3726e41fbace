//! DNP3 (IEEE 1815) over TCP and UDP: link frames with every CRC checked and
//! resynchronisation, transport reassembly per (source, destination, direction),
//! application fragments with function codes, IIN and object headers (control relay
//! output blocks and analog outputs decoded), Suricata's anomaly names and one EVE `dnp3`
//! record per fragment.
#![forbid(unsafe_code)]
#![deny(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic))]

mod anomaly;
pub mod app;
pub mod class;
mod control;
mod crc;
mod dissector;
mod fields;
#[doc(hidden)]
pub mod fuzzing;
pub mod link;
pub mod points;
mod probe;
pub mod space;
pub mod table;

pub use anomaly::Dnp3Anomaly;
pub use crc::crc16;
pub use dissector::{Dnp3Config, Dnp3Dissector, FragmentEvent, SECTION};
pub use fields::DNP3_SCHEMA;
pub use probe::probe;

/// DNP3 (over TCP and UDP) as the engine registers it.
pub static DESCRIPTOR: otsentry_core::Descriptor = otsentry_core::Descriptor {
    proto: DNP3,
    also: &[],
    ports: &[(otsentry_core::IpProto::TCP, 20000), (otsentry_core::IpProto::UDP, 20000)],
    probe,
    probe_on_port: None,
    schemas: &[&DNP3_SCHEMA],
    classes: class::class_table,
    // A link frame is at most 292 bytes.
    max_pdu: 4096,
    summary: &[&SECTION],
    tables: &table::TABLES,
    migrations: &[],
    rules: &[("dnp3.yaml", include_str!("../../../rules/dnp3.yaml"))],
    // Suricata's app-layer events, and ours (the same names but where noted).
    suricata_events: &[
        ("dnp3.max_points_per_object", "dnp3.too_many_points"),
        ("dnp3.flooded", "dnp3.flooded"),
        ("dnp3.len_too_small", "dnp3.len_too_small"),
        ("dnp3.bad_link_crc", "dnp3.bad_link_crc"),
        ("dnp3.bad_transport_crc", "dnp3.bad_transport_crc"),
        ("dnp3.unknown_object", "dnp3.unknown_object"),
        ("dnp3.too_many_points", "dnp3.too_many_points"),
        ("dnp3.too_many_objects", "dnp3.too_many_objects"),
        ("dnp3.too_long_reassembly", "dnp3.too_long_reassembly"),
    ],
    settings: &[otsentry_core::SettingDef {
        key: "max-objects",
        min: 1,
        max: u32::MAX as u64,
        help: "most object headers in one fragment (Suricata's max-objects); beyond, dnp3.too_many_objects",
    }],
};

/// DNP3.
pub const DNP3: otsentry_core::AppProto = otsentry_core::AppProto::new(2, "dnp3").with_masters().with_spaces(&space::SPACES);

impl otsentry_core::Registered for Dnp3Dissector {
    const DESCRIPTOR: &'static otsentry_core::Descriptor = &DESCRIPTOR;
    fn start(settings: &otsentry_core::Settings) -> Self {
        let mut cfg = Dnp3Config::default();
        if let Some(n) = settings.get(DNP3.name(), "max-objects") {
            cfg.max_objects = usize::try_from(n).unwrap_or(usize::MAX);
        }
        Dnp3Dissector::new(cfg)
    }
}

/// Link header length, its CRC included.
pub const LINK_HEADER_LEN: usize = 10;
