//! Detection rules: YAML files compiled against the event schemas the dissectors
//! publish, checked per event by typed field ids, with thresholds, suppression windows,
//! named host sets and a site's tuning kept apart from the pack.
//!
//! A rule file is a list of rules:
//!
//! ```yaml
//! - id: modbus.diagnostic.force_listen_only
//!   sid: 4100001
//!   name: "Modbus: force listen-only mode"
//!   description: The device stops answering until restarted.
//!   severity: high
//!   category: Inhibit Response Function
//!   attack: [T0814]
//!   match:
//!     modbus.function: 8
//!     modbus.subfunction: 4
//! ```
#![forbid(unsafe_code)]
#![deny(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic))]

mod attack;
mod compile;
mod content;
mod detect;
mod error;
mod import;
mod index;
mod pack;
mod rule;
mod spec;
mod value;

pub use compile::{Listing, RuleSet, RuleSource, Sources, HEALTH_CATEGORY};
pub use detect::{DeferredGate, DetectCounts, Detector, Hit, Subject, MAX_STATE};
pub use error::{RuleError, RuleErrors};
pub use import::{import_suricata, ImportNote, Imported};
pub use pack::{default_pack, read_dir, read_file};
