//! The baseline file: what was learned, in a stable order (assets by address, pairs by
//! client, server and protocol, their entries by code, space and address), so that two
//! learning runs over the same traffic write the same bytes and a diff reads as what
//! changed.
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeMap;
use std::net::IpAddr;

/// The format this crate writes and reads.
pub const FORMAT: u32 = 1;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaselineFile {
    /// Format version ([`FORMAT`]).
    pub otsentry_baseline: u32,
    pub learned: Learned,
    pub assets: Vec<Asset>,
    pub pairs: Vec<Pair>,
}

/// What the baseline was learned from.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Learned {
    /// Captures, as they were named.
    pub captures: Vec<String>,
    /// First and last packet (RFC 3339, UTC, microseconds: they sort as text).
    pub from: Option<String>,
    pub to: Option<String>,
    pub requests: u64,
    /// Sightings and requests of addresses and conversations past the learner's cap
    /// (a flood of spoofed sources), not learned.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub not_followed: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Asset {
    pub ip: IpAddr,
    /// MAC addresses its packets came from (a router's, for an address behind one).
    #[serde(default)]
    pub macs: Vec<Mac>,
    /// From the first MAC's OUI (Wireshark's `manuf` file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor: Option<String>,
    /// Inferred from behaviour: `master` (reads, writes, commands), `engineering`
    /// (transfers programs), `plc` or `outstation` (serves).
    #[serde(default)]
    pub roles: Vec<Role>,
    /// What the device said of itself (Modbus MEI 43/14, S7 SZL 0x0011/0x001C, DNP3
    /// group 0): vendor, product, model, firmware, hardware, serial, name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub identity: BTreeMap<String, String>,
    pub first_seen: String,
    pub last_seen: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Master,
    Engineering,
    Plc,
    Outstation,
}

impl Role {
    pub fn name(self) -> &'static str {
        match self {
            Role::Master => "master",
            Role::Engineering => "engineering",
            Role::Plc => "plc",
            Role::Outstation => "outstation",
        }
    }

    /// What serving `protocol` makes an asset: an outstation of a protocol with masters
    /// (DNP3), else a PLC.
    pub fn of_server(protocol: otsentry_core::AppProto) -> Role {
        if protocol.masters() {
            Role::Outstation
        } else {
            Role::Plc
        }
    }

    /// What a request of `class` makes its client: a master if it reads, writes or
    /// operates, an engineering station if it moves programs; identifying or diagnosing
    /// a device is something HMIs and inventory tools do too (no role).
    pub fn of_client(class: otsentry_core::FunctionClass) -> Option<Role> {
        use otsentry_core::FunctionClass::{Control, Program, Read, Write};
        match class {
            Read | Write | Control => Some(Role::Master),
            Program => Some(Role::Engineering),
            _ => None,
        }
    }
}

/// A MAC address, written `02:00:00:00:00:10`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Mac(pub [u8; 6]);

impl std::fmt::Display for Mac {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let [a, b, c, d, e, g] = self.0;
        write!(f, "{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{g:02x}")
    }
}

impl Serialize for Mac {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Mac {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        let mut mac = [0u8; 6];
        let mut parts = text.split([':', '-']);
        for byte in &mut mac {
            *byte = parts
                .next()
                .filter(|p| p.len() == 2)
                .and_then(|p| u8::from_str_radix(p, 16).ok())
                .ok_or_else(|| serde::de::Error::custom(format!("{text:?} is not a MAC address")))?;
        }
        if parts.next().is_some() {
            return Err(serde::de::Error::custom(format!("{text:?} is not a MAC address")));
        }
        Ok(Mac(mac))
    }
}

/// A conversation: a client's requests to a server over one protocol.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pair {
    pub client: IpAddr,
    pub server: IpAddr,
    #[serde(deserialize_with = "crate::space::read_protocol")]
    pub protocol: otsentry_core::AppProto,
    pub requests: u64,
    pub first_seen: String,
    pub last_seen: String,
    /// The polling period of its most frequent request (median interval) and its
    /// spread (95th percentile of the distance from it), when it repeats.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jitter_ms: Option<f64>,
    /// The longest silence between two of its requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_gap_ms: Option<f64>,
    /// The most requests seen within one second.
    pub max_per_second: u32,
    pub functions: Vec<Function>,
    #[serde(default)]
    pub ranges: Vec<Range>,
    #[serde(default)]
    pub values: Vec<Values>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Function {
    /// The protocol's code, with a sub-function folded in where one matters.
    pub code: u32,
    pub name: String,
    pub count: u64,
}

/// Addresses `start..=end` of `space` that `function` read or wrote.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Range {
    pub function: u32,
    pub space: SpaceName,
    pub start: u32,
    pub end: u32,
    pub write: bool,
    pub count: u64,
}

/// What was written at one address: how often, the lowest and highest value, and the
/// values themselves while there were few of them.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Values {
    pub space: SpaceName,
    pub address: u32,
    pub samples: u64,
    pub min: f64,
    pub max: f64,
    /// Every distinct value, up to [`crate::SET_MAX`]; absent when there were more.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set: Option<Vec<f64>>,
}

/// A data space, kept as its parsed value and written as its name (see `space.rs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SpaceName(pub otsentry_core::Space);

impl Default for SpaceName {
    fn default() -> Self {
        // Never written: a range or value read from a file always names its space.
        SpaceName(otsentry_core::Space { proto: otsentry_core::AppProto::new(0, "none"), parts: [0; 3] })
    }
}

impl Serialize for SpaceName {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&crate::space::name(self.0))
    }
}

impl<'de> Deserialize<'de> for SpaceName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        crate::space::parse(&text).map(SpaceName).map_err(serde::de::Error::custom)
    }
}
