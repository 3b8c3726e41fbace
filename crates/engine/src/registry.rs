//! The protocol registry: every protocol crate's descriptor, registered once, and what
//! is built from the list (the rules' event schemas, the policy's class tables, the
//! default ports; the probes read it directly).
use crate::{baseline, health, l2, relay, scan, segment, sender};

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

/// `sources` compiled with `sets` as their variables file (a given variables file is
/// never replaced: a run with one has no warm-up).
pub fn rules_with(
    sources: &otsentry_rules::Sources,
    sets: &crate::roles::InferredSets,
) -> Result<std::sync::Arc<otsentry_rules::RuleSet>, otsentry_rules::RuleErrors> {
    let vars = otsentry_rules::RuleSource { file: "<host sets inferred from the warm-up>".into(), text: sets.to_vars_yaml() };
    let s = otsentry_rules::Sources { vars: Some(vars), ..sources.clone() };
    otsentry_rules::RuleSet::load(&s, &SCHEMAS).map(std::sync::Arc::new)
}
