//! The `alert` record in Suricata's shape: what a rule is (built once per rule when rules
//! load), and one owned alert per match, with the protocol object of the event that
//! matched beside it.
use crate::record::{EventHeader, Evidence, Record};
use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;
use std::sync::Arc;

/// A rule's severity, as rule files name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 5] = [Severity::Info, Severity::Low, Severity::Medium, Severity::High, Severity::Critical];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    pub fn from_name(name: &str) -> Option<Severity> {
        Severity::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// Suricata's numeric severity, as SIEM parsers read it (1 is the most severe).
    pub fn suricata(self) -> u8 {
        match self {
            Severity::Critical | Severity::High => 1,
            Severity::Medium => 2,
            Severity::Low => 3,
            Severity::Info => 4,
        }
    }
}

/// An ATT&CK for ICS technique a rule is tagged with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Technique {
    pub id: &'static str,
    pub name: &'static str,
    pub tactics: &'static [&'static str],
}

/// What every alert of one rule says about the rule: built when rules load.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlertInfo {
    pub rule_id: Arc<str>,
    pub sid: u64,
    pub rev: u32,
    pub signature: Arc<str>,
    pub category: Arc<str>,
    pub severity: Severity,
    pub techniques: Vec<Technique>,
}

/// One alert: owned, as it outlives the packet on its way to the outputs.
#[derive(Clone, Debug)]
pub struct Alert {
    pub header: EventHeader,
    pub alert: AlertBody,
    /// The matched event's type and its EVE object, serialised when the alert was raised.
    pub app: Option<(&'static str, Box<serde_json::value::RawValue>)>,
    /// The evidence pcap written for it, if any.
    pub evidence: Option<Evidence>,
}

/// The `alert` object: the rule, and what matched.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlertBody {
    pub info: Arc<AlertInfo>,
    /// What in the event made the rule match, in words (`NAME.function=41`).
    pub detail: String,
}

impl Serialize for AlertBody {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let a = self;
        let i = &*a.info;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("action", "allowed")?;
        m.serialize_entry("gid", &1)?;
        m.serialize_entry("signature_id", &i.sid)?;
        m.serialize_entry("rev", &i.rev)?;
        m.serialize_entry("signature", &*i.signature)?;
        m.serialize_entry("category", &*i.category)?;
        m.serialize_entry("severity", &i.severity.suricata())?;
        m.serialize_entry("metadata", &Metadata(i))?;
        m.serialize_entry("detail", &a.detail)?;
        m.end()
    }
}

/// Suricata's metadata: a map of arrays.
struct Metadata<'a>(&'a AlertInfo);

impl Serialize for Metadata<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let i = self.0;
        let mut m = s.serialize_map(None)?;
        let ids: Vec<_> = i.techniques.iter().map(|t| t.id).collect();
        let names: Vec<_> = i.techniques.iter().map(|t| t.name).collect();
        let mut tactics: Vec<&str> = i.techniques.iter().flat_map(|t| t.tactics.iter().copied()).collect();
        tactics.sort_unstable();
        tactics.dedup();
        m.serialize_entry("mitre_technique_id", &ids)?;
        m.serialize_entry("mitre_technique_name", &names)?;
        m.serialize_entry("mitre_tactic_name", &tactics)?;
        m.serialize_entry("severity", &[i.severity.as_str()])?;
        m.serialize_entry("rule_id", &[&*i.rule_id])?;
        m.end()
    }
}

impl Record for Alert {
    type Body = AlertBody;
    type Extra = serde_json::value::RawValue;
    fn event_type(&self) -> &'static str {
        "alert"
    }
    fn header(&self) -> &EventHeader {
        &self.header
    }
    fn body(&self) -> &AlertBody {
        &self.alert
    }
    fn extra(&self) -> Option<(&'static str, &serde_json::value::RawValue)> {
        self.app.as_ref().map(|(k, v)| (*k, &**v))
    }
    fn evidence(&self) -> Option<&Evidence> {
        self.evidence.as_ref()
    }
}
