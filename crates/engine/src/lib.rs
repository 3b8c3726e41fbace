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

/// The registered protocols, in the order their probes are tried. A protocol is its
/// crate plus one line here.
pub static PROTOCOLS: [&otsentry_core::Descriptor; 3] =
    [&otsentry_proto_modbus::DESCRIPTOR, &otsentry_proto_dnp3::DESCRIPTOR, &otsentry_proto_s7comm::DESCRIPTOR];

/// The event types the engine raises itself (anomalies are built into the rules).
const ENGINE_SCHEMAS: [&otsentry_core::Schema; 7] = [
    &health::HEALTH_SCHEMA,
    &l2::ARP_SCHEMA,
    &segment::SEGMENT_SCHEMA,
    &baseline::BASELINE_SCHEMA,
    &scan::SCAN_SCHEMA,
    &relay::RELAY_SCHEMA,
    &sender::SENDER_SCHEMA,
];

/// The event types rules can read: the engine's own, then every registered protocol's.
pub static SCHEMAS: std::sync::LazyLock<Vec<&'static otsentry_core::Schema>> =
    std::sync::LazyLock::new(|| ENGINE_SCHEMAS.into_iter().chain(PROTOCOLS.iter().flat_map(|d| d.schemas.iter().copied())).collect());

/// Every registered protocol's functions with their policy class (`otsentry policy
/// classes`).
pub fn class_tables() -> Vec<(&'static str, Vec<otsentry_core::ClassRow>)> {
    PROTOCOLS.iter().map(|d| (d.name, (d.classes)())).collect()
}

/// The registered protocols' default server ports.
pub fn default_ports() -> otsentry_core::PortMap {
    otsentry_core::PortMap::of(&PROTOCOLS)
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
