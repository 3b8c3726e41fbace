//! Siemens S7comm and S7comm-plus over ISO-on-TCP (RFC 1006): TPKT and COTP framing with
//! resynchronisation and reassembly, S7comm jobs with their variable items, block
//! transfers, PI services and PLC control paired with their acks, user data with SZL
//! decoding, and S7comm-plus identification; content detection for the engine.
#![forbid(unsafe_code)]
#![deny(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic))]

mod anomaly;
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
pub mod space;
pub mod table;
pub mod userdata;
pub mod values;

pub use anomaly::S7Anomaly;
pub use dissector::{S7Config, S7Dissector, PLUS_SECTION, SECTION};
pub use fields::{COTP_SCHEMA, S7_PLUS_SCHEMA, S7_SCHEMA};
pub use probe::probe;
pub use record::{CotpEvent, JobEvent, PlusEvent, Status, UserDataEvent};

/// S7comm and S7comm-plus (one dissector on ISO-on-TCP) as the engine registers them.
pub static DESCRIPTOR: otsentry_core::Descriptor = otsentry_core::Descriptor {
    proto: S7COMM,
    also: &[S7COMM_PLUS],
    ports: &[(otsentry_core::IpProto::TCP, 102)],
    probe,
    probe_on_port: None,
    schemas: &[&S7_SCHEMA, &S7_PLUS_SCHEMA, &COTP_SCHEMA],
    classes: class::class_table,
    // A TPKT may announce up to 65,535 bytes.
    max_pdu: 65_535,
    summary: &[&SECTION, &PLUS_SECTION],
    tables: &table::TABLES,
    migrations: &[],
    rules: &[("s7comm.yaml", include_str!("../../../rules/s7comm.yaml"))],
    // Suricata has no S7 app-layer parser.
    suricata_events: &[],
    settings: &[],
};

/// S7comm, and S7comm-plus (the same dissector, on the same port and framing).
pub const S7COMM: otsentry_core::AppProto = otsentry_core::AppProto::new(3, "s7comm").with_spaces(&space::SPACES);
pub const S7COMM_PLUS: otsentry_core::AppProto = otsentry_core::AppProto::new(4, "s7comm_plus").in_family_of(S7COMM);

impl otsentry_core::Registered for S7Dissector {
    const DESCRIPTOR: &'static otsentry_core::Descriptor = &DESCRIPTOR;
    fn start(_settings: &otsentry_core::Settings) -> Self {
        S7Dissector::new(S7Config::default())
    }
}

/// TPKT header length.
pub const TPKT_LEN: usize = 4;
