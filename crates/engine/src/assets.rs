//! The asset book (issue 33's `asset` records; not yet wired into the pipeline): what
//! each address has shown of itself (the MACs it sent from, the roles its conversations
//! give it, what it said of itself) and the change each observation makes: its first
//! sighting, a MAC, role or identity value it did not have (with the old value). A
//! record is written per change, so a SIEM keeps the history; the book is capped like
//! the other detection state (the oldest address gives way, counted).
use otsentry_core::{EventHeader, MemoryBudget, MemoryKind, Record, Timestamp};
use serde::ser::SerializeStruct;
use serde::Serialize;
use std::collections::BTreeMap;
use std::net::IpAddr;

/// Addresses followed at most.
pub(crate) const MAX_ASSETS: usize = 65_536;
/// MACs kept per address (a host behind a router shows the router's; a few more are
/// a failover pair or a spoof, and the record says so).
const MAX_MACS: usize = 8;

/// A role an asset's conversations give it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum AssetRole {
    /// Reads, writes or operates a server of an OT protocol.
    Master,
    /// Transfers programs (logic downloads and uploads).
    Engineering,
    /// Serves Modbus or S7 (a PLC).
    Plc,
    /// Serves DNP3 (an outstation).
    Outstation,
}

impl AssetRole {
    pub(crate) fn name(self) -> &'static str {
        match self {
            AssetRole::Master => "master",
            AssetRole::Engineering => "engineering",
            AssetRole::Plc => "plc",
            AssetRole::Outstation => "outstation",
        }
    }
}

/// What one address has shown.
#[derive(Clone, Debug)]
pub(crate) struct AssetState {
    macs: Vec<[u8; 6]>,
    roles: Vec<AssetRole>,
    identity: BTreeMap<&'static str, String>,
    first_seen: Timestamp,
    last_seen: Timestamp,
}

impl AssetState {
    fn new(ts: Timestamp) -> AssetState {
        AssetState { macs: Vec::new(), roles: Vec::new(), identity: BTreeMap::new(), first_seen: ts, last_seen: ts }
    }
}

/// What an observation changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Change {
    /// Seen for the first time.
    New,
    /// A MAC it had not sent from (the first it had, if any).
    Mac { old: Option<[u8; 6]>, new: [u8; 6] },
    /// A role it did not have (the ones it had).
    Role { old: Vec<AssetRole>, new: AssetRole },
    /// An identity attribute with another value (or a first one).
    Identity { attribute: &'static str, old: Option<String>, new: String },
}

/// Every address's state.
pub(crate) struct AssetBook {
    assets: otsentry_core::CapMap<IpAddr, AssetState>,
}

/// What an asset state costs in the detection share, before its strings.
const ASSET_BYTES: usize = 160;

impl AssetBook {
    pub(crate) fn new(memory: MemoryBudget) -> AssetBook {
        AssetBook { assets: otsentry_core::CapMap::new(MAX_ASSETS, memory, MemoryKind::Detection, ASSET_BYTES) }
    }

    /// A packet from `ip` through `mac` at `ts`: its first sighting, or a MAC it had not
    /// shown, else nothing.
    pub(crate) fn host(&mut self, ip: IpAddr, mac: Option<[u8; 6]>, ts: Timestamp) -> Option<Change> {
        if let Some(a) = self.assets.get_mut(&ip) {
            a.last_seen = ts;
            let mac = mac.filter(|m| !a.macs.contains(m))?;
            let old = a.macs.first().copied();
            if a.macs.len() < MAX_MACS {
                a.macs.push(mac);
            }
            return Some(Change::Mac { old, new: mac });
        }
        let state =
            AssetState { macs: mac.into_iter().collect(), roles: Vec::new(), identity: BTreeMap::new(), first_seen: ts, last_seen: ts };
        self.assets.insert(ip, state);
        Some(Change::New)
    }

    /// `ip` took `role` in a conversation at `ts`.
    pub(crate) fn role(&mut self, ip: IpAddr, role: AssetRole, ts: Timestamp) -> Option<Change> {
        let a = self.assets.get_or_insert_with(ip, || AssetState::new(ts));
        a.last_seen = ts;
        if a.roles.contains(&role) {
            return None;
        }
        let old = a.roles.clone();
        a.roles.push(role);
        a.roles.sort();
        Some(Change::Role { old, new: role })
    }

    /// `ip` said `attribute` is `value` at `ts`.
    pub(crate) fn identity(&mut self, ip: IpAddr, attribute: &'static str, value: &str, ts: Timestamp) -> Option<Change> {
        let value = value.trim();
        if value.is_empty() {
            return None;
        }
        let a = self.assets.get_or_insert_with(ip, || AssetState::new(ts));
        a.last_seen = ts;
        if a.identity.get(attribute).is_some_and(|v| v == value) {
            return None;
        }
        let old = a.identity.insert(attribute, value.to_string());
        let grown = a.identity.values().map(String::len).sum::<usize>() + ASSET_BYTES;
        self.assets.resize(&ip, grown);
        Some(Change::Identity { attribute, old, new: value.to_string() })
    }

    pub(crate) fn get(&self, ip: &IpAddr) -> Option<&AssetState> {
        self.assets.get(ip)
    }

    /// Every address, for a snapshot.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&IpAddr, &AssetState)> {
        self.assets.iter()
    }
}

/// An `asset` record: the address, what changed (`new`, `mac`, `role`, `identity` or
/// `snapshot`), the old and new values, and the asset as it is now.
pub(crate) struct AssetRecord<'a> {
    pub(crate) header: EventHeader,
    pub(crate) body: AssetBody<'a>,
}

pub(crate) struct AssetBody<'a> {
    pub(crate) ip: IpAddr,
    /// `None` for a snapshot.
    pub(crate) change: Option<&'a Change>,
    pub(crate) state: &'a AssetState,
}

fn mac_text(m: &[u8; 6]) -> String {
    format!("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", m[0], m[1], m[2], m[3], m[4], m[5])
}

impl Serialize for AssetBody<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut o = otsentry_core::open_object(s)?;
        o.serialize_field("ip", &self.ip)?;
        let (change, field, old, new): (&str, Option<String>, Option<String>, Option<String>) = match self.change {
            None => ("snapshot", None, None, None),
            Some(Change::New) => ("new", None, None, None),
            Some(Change::Mac { old, new }) => ("mac", Some("mac".into()), old.as_ref().map(mac_text), Some(mac_text(new))),
            Some(Change::Role { old, new }) => {
                let names = |r: &[AssetRole]| r.iter().map(|x| x.name()).collect::<Vec<_>>().join(",");
                ("role", Some("role".into()), Some(names(old)).filter(|t| !t.is_empty()), Some(names(&[*new])))
            }
            Some(Change::Identity { attribute, old, new }) => ("identity", Some((*attribute).to_string()), old.clone(), Some(new.clone())),
        };
        o.serialize_field("change", change)?;
        if let Some(f) = field {
            o.serialize_field("field", &f)?;
            o.serialize_field("old", &old)?;
            o.serialize_field("new", &new)?;
        }
        o.serialize_field("macs", &self.state.macs.iter().map(mac_text).collect::<Vec<_>>())?;
        o.serialize_field("roles", &self.state.roles)?;
        o.serialize_field("identity", &self.state.identity)?;
        o.serialize_field("first_seen", &self.state.first_seen.rfc3339_micros().to_string())?;
        o.serialize_field("last_seen", &self.state.last_seen.rfc3339_micros().to_string())?;
        o.end()
    }
}

impl<'a> Record for AssetRecord<'a> {
    type Body = AssetBody<'a>;
    type Extra = ();
    fn event_type(&self) -> &'static str {
        "asset"
    }
    fn header(&self) -> &EventHeader {
        &self.header
    }
    fn body(&self) -> &AssetBody<'a> {
        &self.body
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: i64) -> Timestamp {
        Timestamp::from_secs_nanos(1_768_464_000 + ms / 1000, ((ms % 1000) * 1_000_000) as u32)
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn a_first_sighting_then_only_what_changes() {
        let mut book = AssetBook::new(MemoryBudget::new(1 << 30));
        let plc = ip("10.40.2.20");
        let mac = [2, 0, 0, 0, 0, 0x20];
        assert_eq!(book.host(plc, Some(mac), at(0)), Some(Change::New));
        assert_eq!(book.host(plc, Some(mac), at(10)), None, "the same MAC again is nothing new");
        assert_eq!(book.role(plc, AssetRole::Plc, at(20)), Some(Change::Role { old: vec![], new: AssetRole::Plc }));
        assert_eq!(book.role(plc, AssetRole::Plc, at(30)), None);
        assert_eq!(
            book.identity(plc, "model", "6ES7 516-3AN01-0AB0 ", at(40)),
            Some(Change::Identity { attribute: "model", old: None, new: "6ES7 516-3AN01-0AB0".into() })
        );
        assert_eq!(book.identity(plc, "model", "6ES7 516-3AN01-0AB0", at(50)), None);
        // A firmware update, and a second MAC (a spoof, or a replaced card).
        assert_eq!(
            book.identity(plc, "firmware", "V2.8.3", at(60)).and_then(|_| book.identity(plc, "firmware", "V2.9.0", at(70))),
            Some(Change::Identity { attribute: "firmware", old: Some("V2.8.3".into()), new: "V2.9.0".into() })
        );
        let other = [2, 0, 0, 0, 0, 0x66];
        assert_eq!(book.host(plc, Some(other), at(80)), Some(Change::Mac { old: Some(mac), new: other }));
        let state = book.get(&plc).unwrap();
        assert_eq!((state.macs.len(), state.first_seen, state.last_seen), (2, at(0), at(80)));
        assert_eq!(book.identity(plc, "name", "  ", at(90)), None, "empty values say nothing");
    }

    #[test]
    fn the_record_body_names_the_change_and_the_asset() {
        let mut book = AssetBook::new(MemoryBudget::new(1 << 30));
        let rtu = ip("10.40.2.30");
        book.host(rtu, Some([2, 0, 0, 0, 0, 0x30]), at(0));
        book.role(rtu, AssetRole::Outstation, at(5));
        let change = book.identity(rtu, "vendor", "Acme RTU Co", at(10)).unwrap();
        let body = AssetBody { ip: rtu, change: Some(&change), state: book.get(&rtu).unwrap() };
        let v: serde_json::Value = serde_json::to_value(&body).unwrap();
        assert_eq!(v["change"], "identity");
        assert_eq!((v["field"].as_str(), v["old"].is_null(), v["new"].as_str()), (Some("vendor"), true, Some("Acme RTU Co")));
        assert_eq!(v["macs"], serde_json::json!(["02:00:00:00:00:30"]));
        assert_eq!(v["roles"], serde_json::json!(["outstation"]));
        assert_eq!(v["identity"]["vendor"], "Acme RTU Co");
        assert_eq!(v["first_seen"], "2026-01-15T08:00:00.000000+00:00");
        let snapshot = serde_json::to_value(AssetBody { ip: rtu, change: None, state: book.get(&rtu).unwrap() }).unwrap();
        assert_eq!((snapshot["change"].as_str(), snapshot.get("field")), (Some("snapshot"), None));
    }

    #[test]
    fn the_book_is_capped() {
        let mut book = AssetBook::new(MemoryBudget::new(64 << 20));
        for i in 0..(MAX_ASSETS as u32 + 10) {
            book.host(IpAddr::from(std::net::Ipv4Addr::from(0x0A00_0000 + i)), None, at(0));
        }
        assert!(book.iter().count() <= MAX_ASSETS);
    }
}
