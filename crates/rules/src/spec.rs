//! The files as written: rules, variables and site tuning, before they are checked.
use serde::Deserialize;
use serde_yaml_ng::{Mapping, Value};
use std::collections::BTreeMap;

/// One rule as a rule file writes it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RuleSpec {
    pub(crate) id: String,
    pub(crate) sid: u64,
    #[serde(default = "one")]
    pub(crate) rev: u32,
    pub(crate) name: String,
    /// Why the rule exists, in one line.
    pub(crate) description: String,
    pub(crate) severity: String,
    pub(crate) category: String,
    pub(crate) attack: Vec<String>,
    #[serde(default)]
    pub(crate) references: Vec<String>,
    /// Where an imported rule came from (`suricata FILE line N`); an imported rule may
    /// leave `attack` empty, as its source said nothing about ATT&CK.
    pub(crate) origin: Option<String>,
    /// The event type the rule reads (`modbus`, `dnp3`, `s7comm`, `anomaly`, ...);
    /// inferred from the field names when left out.
    pub(crate) event: Option<String>,
    #[serde(rename = "match")]
    pub(crate) matches: Mapping,
    /// Conditions under which the rule stays quiet: one map, or a list of maps (any).
    #[serde(default)]
    pub(crate) unless: Option<Value>,
    pub(crate) threshold: Option<ThresholdSpec>,
    pub(crate) suppress: Option<SuppressSpec>,
    /// Fields to show in the alert's detail besides the ones matched.
    #[serde(default)]
    pub(crate) show: Vec<String>,
}

fn one() -> u32 {
    1
}

/// Alert when `count` matches (or distinct values of `distinct`) fall within `seconds`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ThresholdSpec {
    pub(crate) count: u32,
    pub(crate) seconds: u64,
    #[serde(default)]
    pub(crate) track: TrackSpec,
    pub(crate) distinct: Option<String>,
}

/// After an alert, stay quiet for `seconds` for the same tracked key.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SuppressSpec {
    pub(crate) seconds: u64,
    #[serde(default)]
    pub(crate) track: TrackSpec,
}

/// Named as Suricata's `track by_src`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
#[allow(clippy::enum_variant_names)]
pub(crate) enum TrackSpec {
    #[default]
    BySrc,
    ByDst,
    ByPair,
    ByFlow,
    ByRule,
}

/// A site's tuning: kept apart from the pack so an upgrade never overwrites it.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TuningSpec {
    #[serde(default)]
    pub(crate) disable: Vec<String>,
    #[serde(default)]
    pub(crate) modify: BTreeMap<String, ModifySpec>,
    #[serde(default)]
    pub(crate) suppress: Vec<SiteSuppressSpec>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ModifySpec {
    pub(crate) severity: Option<String>,
    pub(crate) threshold: Option<ThresholdSpec>,
    pub(crate) suppress: Option<SuppressSpec>,
}

/// Silence a rule entirely, or only for some sources or destinations.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SiteSuppressSpec {
    pub(crate) rule: String,
    pub(crate) src: Option<Value>,
    pub(crate) dst: Option<Value>,
}
