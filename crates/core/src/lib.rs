//! The shared vocabulary of otsentry.
//!
//! Every other crate depends on this one and on nothing of each other's: capture, wire
//! decoding, protocol dissectors, rules and sinks meet only through these types.
#![forbid(unsafe_code)]
#![deny(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic))]

mod alert;
mod anomaly;
mod capmap;
mod capped;
mod class;
mod detail;
mod dissect;
mod field;
mod flow;
mod flowrec;
#[doc(hidden)]
pub mod harness;
mod hex;
mod memory;
mod merge;
mod observe;
mod position;
mod proto;
mod record;
mod sections;
mod stats;
mod summary;
mod table;
mod time;

pub use alert::{Alert, AlertBody, AlertInfo, Severity, Technique};
pub use anomaly::{Anomaly, AnomalyBody, AnomalyKind, Layer, LazyReason, ReasonText, ANOMALY_SCHEMA};
pub use capmap::CapMap;
pub use capped::{eve_max_items, set_eve_max_items, Capped, DEFAULT_EVE_MAX_ITEMS};
pub use class::{ClassRow, FunctionClass};
pub use detail::{Arg, Detail};
pub use dissect::{
    Descriptor, Dissector, PduEvent, PduSink, Pending, PortMap, Probe, ProbeResult, Registered, SettingDef, Settings, StreamCx,
};
pub use field::{FieldAccess, FieldDef, FieldId, FieldType, FieldValue, Known, Schema, Stage};
pub use flow::{Direction, FlowKey, IpProto};
pub use flowrec::{FlowBody, FlowRecord, TcpBody};
pub use hex::{hex, Hex};
pub use memory::{KindCounts, MemoryBudget, MemoryCounts, MemoryKind, MIN_MEMORY_CAP};
pub use observe::{Observer, Space, IDENTITY_ATTRIBUTES};
pub use position::{line_and_column, nearest};
pub use proto::{AppProto, SpaceNames};
pub use record::{open_object, EventHeader, Evidence, Framed, Record, Vlans};
pub use sections::{CodeCounts, CodeNames, CounterKind, ProtocolCounts, Section, SectionLayout, Tally};
pub use stats::{LiveView, StatsBody, StatsRecord};
pub use summary::{
    AlertCounts, CaptureCounts, DecodeCounts, EvidenceCounts, Forbidden, InputCounts, SegmentationCounts, SensorCounts, SinkCounts,
    SkippedInput, SpoolState, StreamCounts, Summary,
};
pub use table::{col, Column, ColumnKind, Migration, Table};
pub use time::Timestamp;
