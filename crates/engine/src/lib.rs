//! The pipeline: capture → decode → flows and reassembly → protocol detection (dissectors
//! and rules) → alerts and sinks.
#![forbid(unsafe_code)]
#![deny(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic))]

mod alerting;
mod apps;
mod assets;
mod baseline;
mod baselining;
mod budget;
mod charge;
mod cross;
mod deferral;
mod detect;
mod driver;
mod events;
mod evidence;
mod fanout;
mod flows;
mod health;
mod inventory;
mod l2;
mod live;
mod options;
mod pipeline;
mod registry;
mod relay;
mod replay;
mod roles;
mod runner;
mod scan;
mod segment;
mod sender;
mod worker;
mod workers;

pub use alerting::AlertHook;
pub use events::AppConfig;
pub use evidence::{EvidenceConfig, EvidenceStore};
pub use fanout::{FanoutView, WorkerSource};
pub use otsentry_policy::Policy;

pub use health::{HealthEvent, HealthSettings};
pub use live::{LiveControl, LiveSettings, ReportHook};
pub use options::{Detection, LearnedHook, LiveLearning, PipelineOptions, Warmup};
/// What sense opens: the interfaces, through the engine.
pub use otsentry_capture::{Interfaces, LiveError, LiveOptions};
pub use otsentry_core::LiveView;
pub use otsentry_rules::RuleSet;
pub use pipeline::Pipeline;
pub use registry::{
    app_protos, class_tables, default_pack, default_ports, descriptors, install, load_baseline, load_policy, parse_app_setting,
    parse_baseline, parse_policy, proto_named, protocol_counts, protocols, read_baseline, record_types, rules_with, schemas,
    suricata_events, Protocol, RegistryError,
};
pub use replay::{EngineError, FileReport};
pub use roles::InferredSets;
pub use runner::Runner;
