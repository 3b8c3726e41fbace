//! The protocol registry: every protocol crate's dissector, registered once, and what
//! is built from the list (dispatch, the probes, the rules' event schemas, the policy's
//! class tables, the default ports, the summary's sections, protocol names).
use crate::apps::{Parse, Parser};
use crate::{baseline, health, l2, relay, scan, segment, sender};
use otsentry_core::{AppProto, Descriptor, Registered, Settings};
use std::sync::OnceLock;

/// A registered protocol: its descriptor, and how a flow's dissector starts.
#[derive(Clone, Copy)]
pub struct Protocol {
    pub descriptor: &'static Descriptor,
    start: fn(&Settings) -> Box<dyn Parse>,
}

impl std::fmt::Debug for Protocol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Protocol").field("name", &self.descriptor.name()).finish()
    }
}

impl Protocol {
    /// The protocol whose dissector is `D`.
    pub const fn of<D: Registered>() -> Protocol {
        Protocol { descriptor: D::DESCRIPTOR, start: start::<D> }
    }

    /// A flow's dissector, started with the run's `settings`.
    pub(crate) fn parser(&self, settings: &Settings) -> Parser {
        Parser::new((self.start)(settings), self.descriptor.max_pdu)
    }
}

fn start<D: Registered>(settings: &Settings) -> Box<dyn Parse> {
    Box::new(D::start(settings))
}

/// The protocols otsentry ships, in the order their probes are tried. A protocol is its
/// crate plus one line here.
const BUILT_IN: [Protocol; 3] = [
    Protocol::of::<otsentry_proto_modbus::ModbusDissector>(),
    Protocol::of::<otsentry_proto_dnp3::Dnp3Dissector>(),
    Protocol::of::<otsentry_proto_s7comm::S7Dissector>(),
];

static REGISTERED: OnceLock<Vec<Protocol>> = OnceLock::new();

/// Why protocols could not be registered.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum RegistryError {
    #[error("the protocol registry is already in use: register protocols before anything reads it")]
    AlreadyInUse,
    #[error("protocol {0:?} shares its id or name with another registered protocol")]
    Duplicate(&'static str),
}

/// Registers `extra` after the built-in protocols: a build of otsentry with a protocol of
/// its own calls this first, with one line (`install(&[Protocol::of::<MyDissector>()])`).
pub fn install(extra: &[Protocol]) -> Result<(), RegistryError> {
    let all: Vec<AppProto> = BUILT_IN.iter().chain(extra).flat_map(|p| p.descriptor.protos()).collect();
    for (i, p) in all.iter().enumerate() {
        if all.iter().skip(i + 1).any(|q| q.id() == p.id() || q.name() == p.name()) {
            return Err(RegistryError::Duplicate(p.name()));
        }
    }
    let mut fresh = false;
    REGISTERED.get_or_init(|| {
        fresh = true;
        registered(extra)
    });
    fresh.then_some(()).ok_or(RegistryError::AlreadyInUse)
}

/// The registered protocols (the built-in ones unless `install` added more first).
pub fn protocols() -> &'static [Protocol] {
    REGISTERED.get_or_init(|| registered(&[]))
}

/// The built-in protocols and `extra`, with the record types the sinks will meet
/// installed for them.
fn registered(extra: &[Protocol]) -> Vec<Protocol> {
    let list: Vec<Protocol> = BUILT_IN.iter().chain(extra).copied().collect();
    let types = |ps: &[Protocol]| -> Vec<&'static str> {
        let mut v: Vec<&'static str> = Vec::new();
        for t in ps.iter().flat_map(|p| p.descriptor.schemas.iter().map(|s| s.event_type)) {
            if !v.contains(&t) {
                v.push(t);
            }
        }
        v
    };
    // The built-in order first, so a spool written by any build reads back (`asset`
    // came last).
    let all: Vec<&'static str> = ["alert", "anomaly", "flow"]
        .into_iter()
        .chain(types(&BUILT_IN))
        .chain(["segmentation", "stats", "asset"])
        .chain(types(extra))
        .collect();
    if let Err(e) = otsentry_sink::install_types(all) {
        tracing::error!(installed = ?e.0, "record types were installed before the protocol registry");
    }
    list
}

/// Every record type the outputs may carry: the engine's and the registered protocols'.
pub fn record_types() -> &'static [&'static str] {
    protocols();
    otsentry_sink::record_types()
}

pub fn descriptors() -> impl Iterator<Item = &'static Descriptor> {
    protocols().iter().map(|p| p.descriptor)
}

/// Every protocol a registered dissector may report (S7comm-plus beside S7comm).
pub fn app_protos() -> impl Iterator<Item = AppProto> {
    descriptors().flat_map(Descriptor::protos)
}

/// The protocol EVE and configuration call `name`.
pub fn proto_named(name: &str) -> Option<AppProto> {
    app_protos().find(|p| p.name() == name)
}

/// A flow's dissector for `app`, if a registered protocol decodes it.
pub(crate) fn parser_for(app: AppProto, settings: &Settings) -> Option<Parser> {
    protocols().iter().find(|p| p.descriptor.proto.same_family(app)).map(|p| p.parser(settings))
}

/// The policy at `path`, its conduits naming the registered protocols.
pub fn load_policy(path: &std::path::Path) -> Result<otsentry_policy::Policy, otsentry_policy::PolicyErrors> {
    otsentry_policy::load(path, &app_protos().collect::<Vec<_>>())
}

/// Policy `text` (named `path` in errors), its conduits naming the registered protocols.
pub fn parse_policy(path: &std::path::Path, text: &str) -> Result<otsentry_policy::Policy, otsentry_policy::PolicyErrors> {
    otsentry_policy::parse(path, text, &app_protos().collect::<Vec<_>>())
}

/// The baseline at `path`, read against the registered protocols and indexed.
pub fn load_baseline(path: &std::path::Path) -> Result<otsentry_baseline::Baseline, otsentry_baseline::BaselineErrors> {
    otsentry_baseline::load(path, &app_protos().collect::<Vec<_>>())
}

/// The baseline file at `path`, as written.
pub fn read_baseline(path: &std::path::Path) -> Result<otsentry_baseline::BaselineFile, otsentry_baseline::BaselineErrors> {
    otsentry_baseline::read(path, &app_protos().collect::<Vec<_>>())
}

/// Baseline `text` (named `path` in errors).
pub fn parse_baseline(path: &std::path::Path, text: &str) -> Result<otsentry_baseline::BaselineFile, otsentry_baseline::BaselineErrors> {
    otsentry_baseline::parse(path, text, &app_protos().collect::<Vec<_>>())
}

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
pub fn schemas() -> &'static [&'static otsentry_core::Schema] {
    static SCHEMAS: OnceLock<Vec<&'static otsentry_core::Schema>> = OnceLock::new();
    SCHEMAS.get_or_init(|| ENGINE_SCHEMAS.into_iter().chain(descriptors().flat_map(|d| d.schemas.iter().copied())).collect())
}

/// Every registered protocol's functions with their policy class (`otsentry policy
/// classes`).
pub fn class_tables() -> Vec<(&'static str, Vec<otsentry_core::ClassRow>)> {
    descriptors().map(|d| (d.name(), (d.classes)())).collect()
}

/// The registered protocols' default server ports.
pub fn default_ports() -> otsentry_core::PortMap {
    otsentry_core::PortMap::of(&descriptors().collect::<Vec<_>>())
}

/// The summary's `protocols`, a section per registered protocol at zero.
pub fn protocol_counts() -> otsentry_core::ProtocolCounts {
    otsentry_core::ProtocolCounts::of(descriptors().flat_map(|d| d.summary.iter().copied()))
}

/// The default rule pack: the registered protocols' files, then the engine's own.
pub fn default_pack() -> Vec<otsentry_rules::RuleSource> {
    otsentry_rules::default_pack(descriptors().flat_map(|d| d.rules.iter()))
}

/// A protocol setting as `NAME.KEY=N` names it (`dnp3.max-objects=2048`), checked
/// against what the registered protocols' dissectors read.
pub fn parse_app_setting(spec: &str) -> Result<(&'static str, &'static str, u64), String> {
    let (name, value) = spec.split_once('=').ok_or_else(|| format!("{spec:?}: expected PROTO.KEY=N, e.g. dnp3.max-objects=2048"))?;
    let (proto, key) = name.trim().split_once('.').ok_or_else(|| format!("{name:?}: expected PROTO.KEY"))?;
    let d = descriptors().find(|d| d.name() == proto).ok_or_else(|| {
        let names: Vec<&str> = descriptors().map(|d| d.name()).collect();
        format!("{proto:?}: unknown protocol (one of {})", names.join(", "))
    })?;
    let def = d.settings.iter().find(|s| s.key == key).ok_or_else(|| match d.settings {
        [] => format!("{proto} takes no settings"),
        defs => format!("{key:?}: {proto} takes {}", defs.iter().map(|s| s.key).collect::<Vec<_>>().join(", ")),
    })?;
    let n = value.trim().parse::<u64>().ok().filter(|n| (def.min..=def.max).contains(n));
    let n = n.ok_or_else(|| format!("{proto}.{key}: {value:?} is not a number from {} to {}", def.min, def.max))?;
    Ok((d.name(), def.key, n))
}

/// The registered protocols' Suricata app-layer event names, each with ours (`otsentry
/// rules import`).
pub fn suricata_events() -> Vec<(&'static str, &'static str)> {
    descriptors().flat_map(|d| d.suricata_events.iter().copied()).collect()
}

/// `sources` compiled with `sets` as their variables file (a given variables file is
/// never replaced: a run with one has no warm-up).
pub fn rules_with(
    sources: &otsentry_rules::Sources,
    sets: &crate::roles::InferredSets,
) -> Result<std::sync::Arc<otsentry_rules::RuleSet>, otsentry_rules::RuleErrors> {
    let vars = otsentry_rules::RuleSource { file: "<host sets inferred from the warm-up>".into(), text: sets.to_vars_yaml() };
    let s = otsentry_rules::Sources { vars: Some(vars), ..sources.clone() };
    otsentry_rules::RuleSet::load(&s, schemas()).map(std::sync::Arc::new)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_names_are_unique_and_sections_match_the_protocols() {
        let protos: Vec<AppProto> = app_protos().collect();
        for (i, p) in protos.iter().enumerate() {
            assert!(protos.iter().skip(i + 1).all(|q| q.id() != p.id() && q.name() != p.name()), "{p:?}");
            assert_eq!(proto_named(p.name()), Some(*p));
        }
        for d in descriptors() {
            let sections: Vec<&str> = d.summary.iter().map(|s| s.name).collect();
            let names: Vec<&str> = d.protos().map(|p| p.name()).collect();
            assert_eq!(sections, names, "a summary section per protocol of {}", d.name());
        }
        assert_eq!(install(&[]), Err(RegistryError::AlreadyInUse), "read above, so already in use");
        assert_eq!(install(&[BUILT_IN[1]]), Err(RegistryError::Duplicate("dnp3")));
        assert_eq!(parse_app_setting("dnp3.max-objects=64"), Ok(("dnp3", "max-objects", 64)));
        assert!(parse_app_setting("dnp3.max-objects=0").unwrap_err().contains("from 1"));
        assert!(parse_app_setting("dnp3.nope=1").unwrap_err().contains("max-objects"));
        assert!(parse_app_setting("modbus.x=1").unwrap_err().contains("takes no settings"));
        assert!(parse_app_setting("dnp9.max-objects=1").unwrap_err().contains("unknown protocol"));
        let types = record_types();
        assert_eq!(&types[..4], ["alert", "anomaly", "flow", "modbus"], "the order spools were written in");
        assert_eq!(&types[types.len() - 3..], ["segmentation", "stats", "asset"]);
    }
}
