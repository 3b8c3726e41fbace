//! The pipeline: capture → decode → flows and reassembly → protocol detection (dissectors
//! and rules) → alerts and sinks.
#![forbid(unsafe_code)]
#![deny(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic))]

mod alerting;
mod apps;
mod baseline;
mod baselining;
mod detect;
mod events;
mod flows;
mod health;
mod l2;
mod live;
mod pipeline;
mod relay;
mod replay;
mod roles;
mod scan;
mod segment;
mod sender;

pub use alerting::AlertHook;
pub use events::AppConfig;
pub use otsentry_policy::Policy;
pub use otsentry_proto_dnp3::Dnp3Config;

/// The event types rules can read: every dissector's schema (anomalies are built in).
pub static SCHEMAS: [&otsentry_core::Schema; 12] = [
    &health::HEALTH_SCHEMA,
    &l2::ARP_SCHEMA,
    &segment::SEGMENT_SCHEMA,
    &baseline::BASELINE_SCHEMA,
    &scan::SCAN_SCHEMA,
    &relay::RELAY_SCHEMA,
    &sender::SENDER_SCHEMA,
    &otsentry_proto_modbus::MODBUS_SCHEMA,
    &otsentry_proto_dnp3::DNP3_SCHEMA,
    &otsentry_proto_s7comm::S7_SCHEMA,
    &otsentry_proto_s7comm::S7_PLUS_SCHEMA,
    &otsentry_proto_s7comm::COTP_SCHEMA,
];
/// Every protocol's functions with their policy class (`otsentry policy classes`).
pub fn class_tables() -> [(&'static str, Vec<otsentry_core::ClassRow>); 3] {
    [
        ("modbus", otsentry_proto_modbus::class::class_table()),
        ("dnp3", otsentry_proto_dnp3::class::class_table()),
        ("s7comm", otsentry_proto_s7comm::class::class_table()),
    ]
}

pub use health::{HealthEvent, HealthSettings};
pub use live::{LiveControl, LiveSettings};
/// What sense opens: the interfaces, through the engine.
pub use otsentry_capture::{Interfaces, LiveError, LiveOptions};
pub use otsentry_core::LiveView;
pub use otsentry_rules::RuleSet;
pub use pipeline::{Detection, Pipeline, PipelineOptions, Warmup};
pub use replay::{EngineError, FileReport};
pub use roles::{rules_with, InferredSets};
