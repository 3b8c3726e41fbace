//! The asset book behind `asset` records: what each address has shown of itself (the
//! MACs it sent from, the roles its conversations give it, what it said of itself, the
//! vendor of a MAC that serves it alone) and the change each sighting makes: its first
//! sighting, a MAC, role, identity value or vendor it did not have (with the old value).
//! A record is written per change, so a SIEM keeps the history; the book is capped like
//! the other detection state (the oldest address gives way, counted).
use otsentry_baseline::{Role, Vendors};
use otsentry_core::{EventHeader, MemoryBudget, MemoryKind, Record, Timestamp};
use otsentry_sink::Outputs;
use serde::ser::SerializeStruct;
use serde::Serialize;
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;

/// Addresses followed at most.
pub(crate) const MAX_ASSETS: usize = 65_536;
/// MACs kept per address (a host behind a router shows the router's; a few more are
/// a failover pair or a spoof, and the record says so).
const MAX_MACS: usize = 8;

/// What one address has shown.
#[derive(Clone, Debug)]
pub(crate) struct AssetState {
    macs: Vec<[u8; 6]>,
    roles: Vec<Role>,
    identity: BTreeMap<&'static str, String>,
    /// The vendor of a MAC that serves this address alone, and that MAC.
    vendor: Option<(Arc<str>, [u8; 6])>,
    /// Its last record's time and its number among the records of that time: records
    /// are ordered by their version (see [`AssetBook::version`]).
    stamp: (Timestamp, u64),
    /// MACs past [`MAX_MACS`] it sent from, counted.
    macs_omitted: u64,
    /// It sent a packet: an asset (an address only sent to is none, though a request
    /// may give it a role before it answers).
    sent: bool,
    first_seen: Timestamp,
    last_seen: Timestamp,
}

impl AssetState {
    fn new(ts: Timestamp) -> AssetState {
        AssetState {
            macs: Vec::new(),
            roles: Vec::new(),
            identity: BTreeMap::new(),
            vendor: None,
            macs_omitted: 0,
            stamp: (Timestamp(i64::MIN), 0),
            sent: false,
            first_seen: ts,
            last_seen: ts,
        }
    }

    fn vendor_name(&self) -> Option<String> {
        self.vendor.as_ref().map(|v| v.0.to_string())
    }
}

/// What the traffic showed of an address (owned: a worker of several sends it to the
/// cross stage).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Sighting {
    /// It sent a packet through `mac` (`None`: the link shows none).
    Host { ip: IpAddr, mac: Option<[u8; 6]> },
    /// A packet went to it: its last sighting, if it is an asset (an address that
    /// only receives, as a scan's targets do, is none).
    Seen { ip: IpAddr },
    /// Its conversation gave it `role`.
    Role { ip: IpAddr, role: Role },
    /// It said its `attribute` is `value`.
    Identity { ip: IpAddr, attribute: &'static str, value: Box<str> },
}

/// What an observation changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Change {
    /// Seen for the first time.
    New,
    /// A MAC it had not sent from (the first it had, if any).
    Mac { old: Option<[u8; 6]>, new: [u8; 6] },
    /// A role it did not have (the ones it had).
    Role { old: Vec<Role>, new: Role },
    /// An identity attribute with another value (or a first one).
    Identity { attribute: &'static str, old: Option<String>, new: String },
    /// The vendor its MAC prefix names: another MAC's, or none once its MAC turns out
    /// to serve other addresses too (a router's).
    Vendor { old: Option<String>, new: Option<String> },
}

/// Every address's state.
pub(crate) struct AssetBook {
    assets: otsentry_core::CapMap<IpAddr, AssetState>,
    /// The address each MAC served first; `None` once it serves another (a router's,
    /// whose vendor says nothing of the hosts behind it).
    mac_owner: otsentry_core::CapMap<[u8; 6], Option<IpAddr>>,
    vendors: Option<Arc<Vendors>>,
}

/// What an asset state costs in the detection share, before its strings.
const ASSET_BYTES: usize = 160;
const MAC_BYTES: usize = 48;

impl AssetBook {
    pub(crate) fn new(memory: MemoryBudget, vendors: Option<Arc<Vendors>>) -> AssetBook {
        AssetBook {
            assets: otsentry_core::CapMap::new(MAX_ASSETS, memory.clone(), MemoryKind::Detection, ASSET_BYTES),
            mac_owner: otsentry_core::CapMap::new(MAX_ASSETS, memory, MemoryKind::Detection, MAC_BYTES),
            vendors,
        }
    }

    /// What `s` at `ts` changes, added to `changes` (with the address each is about);
    /// whether it changed the book (an address not yet an asset may take a role or an
    /// identity with no record: its first sighting's record shows them).
    pub(crate) fn apply(&mut self, s: &Sighting, ts: Timestamp, changes: &mut Vec<(IpAddr, Change)>) -> bool {
        let before = changes.len();
        let (ip, change) = match s {
            Sighting::Host { ip, mac } => {
                self.host(*ip, *mac, ts, changes);
                return changes.len() > before;
            }
            Sighting::Seen { ip } => {
                if let Some(a) = self.assets.get_mut(ip) {
                    a.last_seen = ts;
                }
                return false;
            }
            Sighting::Role { ip, role } => (ip, self.role(*ip, *role, ts)),
            Sighting::Identity { ip, attribute, value } => (ip, self.identity(*ip, attribute, value, ts)),
        };
        let Some(change) = change else { return false };
        if self.assets.get(ip).is_some_and(|a| a.sent) {
            changes.push((*ip, change));
        }
        true
    }

    /// A packet from `ip` through `mac` at `ts`: its first sighting, or a MAC it had not
    /// shown (and the vendors that changes).
    fn host(&mut self, ip: IpAddr, mac: Option<[u8; 6]>, ts: Timestamp, changes: &mut Vec<(IpAddr, Change)>) {
        let a = self.assets.get_or_insert_with(ip, || AssetState::new(ts));
        let fresh = !a.sent;
        a.sent = true;
        a.last_seen = ts;
        if fresh {
            a.first_seen = ts;
            changes.push((ip, Change::New));
        }
        let Some(mac) = mac.filter(|m| !a.macs.contains(m)) else { return };
        if a.macs.len() >= MAX_MACS {
            // Frames with ever new MACs (a flood, or fuzzing) make no record each.
            a.macs_omitted += 1;
            return;
        }
        let old = a.macs.first().copied();
        a.macs.push(mac);
        // A MAC other addresses send from too is a router's: hosts behind it show it and
        // the next hop's, which says nothing of them (kept, not recorded).
        let alone = self.mac_owner.get(&mac).is_none_or(|owner| *owner == Some(ip));
        if !fresh && alone {
            changes.push((ip, Change::Mac { old, new: mac }));
        }
        self.own_mac(ip, mac, fresh, changes);
    }

    /// `ip` sent through `mac`: the MAC's first address may take its vendor; a second
    /// address makes it a shared MAC, and the first gives its vendor back.
    fn own_mac(&mut self, ip: IpAddr, mac: [u8; 6], fresh: bool, changes: &mut Vec<(IpAddr, Change)>) {
        match self.mac_owner.get(&mac).copied() {
            None => {
                self.mac_owner.insert(mac, Some(ip));
                let Some(name) = self.vendors.as_ref().and_then(|v| v.of(mac)) else { return };
                let Some(a) = self.assets.get_mut(&ip) else { return };
                if a.vendor.as_ref().is_some_and(|v| *v.0 == *name) {
                    return;
                }
                let old = a.vendor_name();
                a.vendor = Some((Arc::from(name), mac));
                // A first sighting's record shows its vendor already.
                if !fresh {
                    changes.push((ip, Change::Vendor { old, new: Some(name.to_string()) }));
                }
            }
            Some(Some(first)) if first != ip => {
                self.mac_owner.insert(mac, None);
                let Some(a) = self.assets.get_mut(&first) else { return };
                if a.vendor.as_ref().is_some_and(|v| v.1 == mac) {
                    let old = a.vendor.take().map(|v| v.0.to_string());
                    changes.push((first, Change::Vendor { old, new: None }));
                }
            }
            Some(_) => {}
        }
    }

    /// `ip` took `role` in a conversation at `ts`.
    fn role(&mut self, ip: IpAddr, role: Role, ts: Timestamp) -> Option<Change> {
        let a = self.assets.get_or_insert_with(ip, || AssetState::new(ts));
        // Only a change moves the last sighting: a worker of several sends on only the
        // changes its own book sees, and the run's book must end the same.
        if a.roles.contains(&role) {
            return None;
        }
        a.last_seen = a.last_seen.max(ts);
        let old = a.roles.clone();
        a.roles.push(role);
        a.roles.sort();
        Some(Change::Role { old, new: role })
    }

    /// `ip` said `attribute` is `value` at `ts`.
    fn identity(&mut self, ip: IpAddr, attribute: &'static str, value: &str, ts: Timestamp) -> Option<Change> {
        let value = value.trim();
        if value.is_empty() {
            return None;
        }
        let a = self.assets.get_or_insert_with(ip, || AssetState::new(ts));
        if a.identity.get(attribute).is_some_and(|v| v == value) {
            return None;
        }
        a.last_seen = a.last_seen.max(ts);
        let old = a.identity.insert(attribute, value.to_string());
        let grown = a.identity.values().map(String::len).sum::<usize>() + ASSET_BYTES;
        self.assets.resize(&ip, grown);
        Some(Change::Identity { attribute, old, new: value.to_string() })
    }

    /// The version of `ip`'s next record, at `ts`: its time in microseconds, times 64,
    /// plus its number among the asset's records of that microsecond, so that a store
    /// keeping the latest record per asset (ClickHouse's `asset_state`) orders the
    /// several records one packet may cause.
    pub(crate) fn version(&mut self, ip: &IpAddr, ts: Timestamp) -> u64 {
        let Some(a) = self.assets.get_mut(ip) else { return 0 };
        a.stamp = if a.stamp.0 == ts { (ts, a.stamp.1 + 1) } else { (ts, 0) };
        let micros = u64::try_from(ts.as_nanos() / 1000).unwrap_or(0);
        micros.saturating_mul(64).saturating_add(a.stamp.1.min(63))
    }

    pub(crate) fn get(&self, ip: &IpAddr) -> Option<&AssetState> {
        self.assets.get(ip)
    }

    /// Every asset in address order, for a snapshot.
    pub(crate) fn addresses(&self) -> Vec<IpAddr> {
        let mut all: Vec<IpAddr> = self.assets.iter().filter(|(_, a)| a.sent).map(|(ip, _)| *ip).collect();
        all.sort_unstable();
        all
    }

    /// Addresses no longer followed (the cap).
    pub(crate) fn dropped(&self) -> u64 {
        self.assets.dropped
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
    /// Orders the asset's records ([`AssetBook::version`]).
    pub(crate) version: u64,
    /// `None` for a snapshot.
    pub(crate) change: Option<&'a Change>,
    pub(crate) state: &'a AssetState,
}

impl Serialize for AssetBody<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut o = otsentry_core::open_object(s)?;
        o.serialize_field("ip", &self.ip)?;
        let (change, field, old, new): (&str, Option<String>, Option<String>, Option<String>) = match self.change {
            None => ("snapshot", None, None, None),
            Some(Change::New) => ("new", None, None, None),
            Some(Change::Mac { old, new }) => ("mac", Some("mac".into()), old.as_ref().map(crate::l2::mac), Some(crate::l2::mac(new))),
            Some(Change::Role { old, new }) => {
                let names = |r: &[Role]| r.iter().map(|x| x.name()).collect::<Vec<_>>().join(",");
                ("role", Some("role".into()), Some(names(old)).filter(|t| !t.is_empty()), Some(names(&[*new])))
            }
            Some(Change::Identity { attribute, old, new }) => ("identity", Some((*attribute).to_string()), old.clone(), Some(new.clone())),
            Some(Change::Vendor { old, new }) => ("vendor", Some("vendor".into()), old.clone(), new.clone()),
        };
        o.serialize_field("change", change)?;
        if let Some(f) = field {
            o.serialize_field("field", &f)?;
            o.serialize_field("old", &old)?;
            o.serialize_field("new", &new)?;
        }
        o.serialize_field("macs", &self.state.macs.iter().map(crate::l2::mac).collect::<Vec<_>>())?;
        if self.state.macs_omitted > 0 {
            o.serialize_field("macs_omitted", &self.state.macs_omitted)?;
        }
        if let Some((vendor, _)) = &self.state.vendor {
            o.serialize_field("vendor", &**vendor)?;
        }
        o.serialize_field("roles", &self.state.roles)?;
        o.serialize_field("identity", &self.state.identity)?;
        o.serialize_field("first_seen", &self.state.first_seen.rfc3339_micros().to_string())?;
        o.serialize_field("last_seen", &self.state.last_seen.rfc3339_micros().to_string())?;
        o.serialize_field("version", &self.version)?;
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

// The run's book as the pipeline holds it; the stage that feeds it is `inventory.rs`.

/// The book and the changes of the sighting being applied.
pub(crate) struct Inventory {
    book: AssetBook,
    changes: Vec<(IpAddr, Change)>,
}

impl Inventory {
    pub(crate) fn new(memory: &MemoryBudget, vendors: Option<Arc<otsentry_baseline::Vendors>>) -> Inventory {
        Inventory { book: AssetBook::new(memory.clone(), vendors), changes: Vec::new() }
    }

    /// Applies `s` at `at` (its time, and the packet's number in `input`); a record per
    /// change goes to `outputs`.
    pub(crate) fn record(&mut self, s: &Sighting, at: At, input: Option<&Arc<str>>, outputs: Option<&mut Outputs>) {
        let (ts, pcap_cnt) = at;
        if !self.book.apply(s, ts, &mut self.changes) {
            return;
        }
        let Some(o) = outputs else {
            self.changes.clear();
            return;
        };
        for (ip, change) in self.changes.drain(..) {
            let version = self.book.version(&ip, ts);
            if let Some(state) = self.book.get(&ip) {
                let body = AssetBody { ip, version, change: Some(&change), state };
                o.write(&AssetRecord { header: EventHeader { pcap_cnt, ..header(ip, ts, input) }, body });
            }
        }
    }

    /// Applies `s` only to filter: whether it changed anything.
    pub(crate) fn filter(&mut self, s: &Sighting, ts: Timestamp) -> bool {
        let changed = self.book.apply(s, ts, &mut self.changes);
        self.changes.clear();
        changed
    }

    /// A `snapshot` record of every asset (a sensor's periodic one), in address order.
    pub(crate) fn snapshot(&mut self, now: Timestamp, outputs: &mut Outputs) {
        for ip in self.book.addresses() {
            let version = self.book.version(&ip, now);
            if let Some(state) = self.book.get(&ip) {
                outputs.write(&AssetRecord { header: header(ip, now, None), body: AssetBody { ip, version, change: None, state } });
            }
        }
    }

    /// Addresses the book's cap let go.
    pub(crate) fn dropped(&self) -> u64 {
        self.book.dropped()
    }
}

fn header(ip: IpAddr, ts: Timestamp, input: Option<&Arc<str>>) -> EventHeader {
    EventHeader { timestamp: ts, src_ip: Some(ip), pcap_filename: input.cloned(), ..EventHeader::default() }
}

/// When a sighting happened: the packet's time and its number in its input.
pub(crate) type At = (Timestamp, Option<u64>);

/// A sighting a worker of several sends to the cross stage.
#[derive(Debug)]
pub(crate) struct AssetItem {
    pub(crate) sighting: Sighting,
    pub(crate) at: At,
    pub(crate) input: Option<Arc<str>>,
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

    fn book() -> AssetBook {
        let manuf = "00:1B:1B\tSiemens\tSiemens AG\n00:0E:8C\tSiemensA\tSiemens AG A&D ET\n00:80:F4\tTelemech\tTelemecanique Electrique\n";
        AssetBook::new(MemoryBudget::new(1 << 30), Some(Arc::new(Vendors::parse(manuf, |_, _| true))))
    }

    /// Applies `s` and returns what changed.
    fn see(book: &mut AssetBook, s: Sighting, t: i64) -> Vec<(IpAddr, Change)> {
        let mut changes = Vec::new();
        let changed = book.apply(&s, at(t), &mut changes);
        assert_eq!(changed, !changes.is_empty());
        changes
    }

    fn host(ip: IpAddr, mac: [u8; 6]) -> Sighting {
        Sighting::Host { ip, mac: Some(mac) }
    }

    fn identity(ip: IpAddr, attribute: &'static str, value: &str) -> Sighting {
        Sighting::Identity { ip, attribute, value: value.into() }
    }

    #[test]
    fn a_first_sighting_then_only_what_changes() {
        let mut book = book();
        let plc = ip("10.40.2.20");
        let mac = [0x00, 0x1B, 0x1B, 0, 0, 0x20];
        assert_eq!(see(&mut book, host(plc, mac), 0), [(plc, Change::New)]);
        assert_eq!(see(&mut book, host(plc, mac), 10), [], "the same MAC again is nothing new");
        assert_eq!(book.get(&plc).and_then(AssetState::vendor_name).as_deref(), Some("Siemens AG"));
        let role = Sighting::Role { ip: plc, role: Role::Plc };
        assert_eq!(see(&mut book, role.clone(), 20), [(plc, Change::Role { old: vec![], new: Role::Plc })]);
        assert_eq!(see(&mut book, role, 30), []);
        let model = Change::Identity { attribute: "model", old: None, new: "6ES7 516-3AN01-0AB0".into() };
        assert_eq!(see(&mut book, identity(plc, "model", "6ES7 516-3AN01-0AB0 "), 40), [(plc, model)]);
        assert_eq!(see(&mut book, identity(plc, "model", "6ES7 516-3AN01-0AB0"), 50), []);
        // A firmware update, and a second MAC of another vendor (a replaced card, or a spoof).
        see(&mut book, identity(plc, "firmware", "V2.8.3"), 60);
        let update = Change::Identity { attribute: "firmware", old: Some("V2.8.3".into()), new: "V2.9.0".into() };
        assert_eq!(see(&mut book, identity(plc, "firmware", "V2.9.0"), 70), [(plc, update)]);
        let other = [0x00, 0x80, 0xF4, 0, 0, 0x66];
        assert_eq!(
            see(&mut book, host(plc, other), 80),
            [
                (plc, Change::Mac { old: Some(mac), new: other }),
                (plc, Change::Vendor { old: Some("Siemens AG".into()), new: Some("Telemecanique Electrique".into()) })
            ]
        );
        let state = book.get(&plc).unwrap();
        assert_eq!((state.macs.len(), state.first_seen, state.last_seen), (2, at(0), at(80)));
        assert_eq!(see(&mut book, identity(plc, "name", "  "), 90), [], "empty values say nothing");
    }

    #[test]
    fn an_address_that_only_receives_is_no_asset_until_it_sends() {
        let mut book = book();
        let target = ip("10.40.9.9");
        let mut changes = Vec::new();
        assert!(!book.apply(&Sighting::Seen { ip: target }, at(0), &mut changes));
        // A request gives the server its role before it answers: kept, not recorded.
        assert!(book.apply(&Sighting::Role { ip: target, role: Role::Outstation }, at(0), &mut changes));
        assert!(!book.apply(&Sighting::Role { ip: target, role: Role::Outstation }, at(5), &mut changes));
        assert_eq!(changes, []);
        assert!(book.addresses().is_empty(), "not in a snapshot");
        assert_eq!(see(&mut book, Sighting::Host { ip: target, mac: None }, 10), [(target, Change::New)]);
        let state = book.get(&target).unwrap();
        assert_eq!((state.roles.as_slice(), state.first_seen), ([Role::Outstation].as_slice(), at(10)));
        see(&mut book, Sighting::Seen { ip: target }, 20);
        assert_eq!(book.get(&target).map(|a| a.last_seen), Some(at(20)));
    }

    #[test]
    fn a_mac_that_serves_two_addresses_names_no_vendor() {
        let mut book = book();
        let router = [0x00, 0x0E, 0x8C, 0, 0, 1];
        let (a, b, c) = (ip("192.168.10.5"), ip("192.168.10.6"), ip("192.168.10.7"));
        assert_eq!(see(&mut book, host(a, router), 0), [(a, Change::New)]);
        assert_eq!(book.get(&a).and_then(AssetState::vendor_name).as_deref(), Some("Siemens AG A&D ET"));
        // A second address behind the same MAC: the first gives the vendor back.
        assert_eq!(
            see(&mut book, host(b, router), 10),
            [(b, Change::New), (a, Change::Vendor { old: Some("Siemens AG A&D ET".into()), new: None })]
        );
        assert_eq!(see(&mut book, host(c, router), 20), [(c, Change::New)]);
        // A host behind the router seen through the next hop's MAC too: no MAC record
        // once that MAC serves others.
        let hop = [0x00, 0x80, 0xF4, 0, 0, 2];
        see(&mut book, host(b, hop), 30);
        let withdrawn = Change::Vendor { old: Some("Telemecanique Electrique".into()), new: None };
        assert_eq!(see(&mut book, host(c, hop), 40), [(b, withdrawn)], "a shared MAC is kept, not recorded");
        assert_eq!(book.get(&c).map(|s| s.macs.len()), Some(2));
        for x in [a, b, c] {
            assert_eq!(book.get(&x).and_then(AssetState::vendor_name), None, "{x}");
        }
    }

    #[test]
    fn the_record_body_names_the_change_and_the_asset() {
        let mut book = book();
        let rtu = ip("10.40.2.30");
        see(&mut book, host(rtu, [0x00, 0x80, 0xF4, 0, 0, 0x30]), 0);
        see(&mut book, Sighting::Role { ip: rtu, role: Role::Outstation }, 5);
        let (_, change) = see(&mut book, identity(rtu, "vendor", "Acme RTU Co"), 10).remove(0);
        let body = AssetBody { ip: rtu, version: book.version(&rtu, at(10)), change: Some(&change), state: book.get(&rtu).unwrap() };
        let v: serde_json::Value = serde_json::to_value(&body).unwrap();
        assert_eq!(v["change"], "identity");
        assert_eq!((v["field"].as_str(), v["old"].is_null(), v["new"].as_str()), (Some("vendor"), true, Some("Acme RTU Co")));
        assert_eq!(v["macs"], serde_json::json!(["00:80:f4:00:00:30"]));
        assert_eq!(v["vendor"], "Telemecanique Electrique");
        assert_eq!(v["roles"], serde_json::json!(["outstation"]));
        assert_eq!(v["identity"]["vendor"], "Acme RTU Co");
        assert_eq!(v["first_seen"], "2026-01-15T08:00:00.000000+00:00");
        assert_eq!(v["version"], 1_768_464_000_010_000u64 * 64);
        let again = book.version(&rtu, at(10));
        assert_eq!(again, 1_768_464_000_010_000u64 * 64 + 1, "a second record of the same time comes after");
        let snapshot = serde_json::to_value(AssetBody { ip: rtu, version: 0, change: None, state: book.get(&rtu).unwrap() }).unwrap();
        assert_eq!((snapshot["change"].as_str(), snapshot.get("field")), (Some("snapshot"), None));
    }

    #[test]
    fn the_book_is_capped() {
        let mut book = AssetBook::new(MemoryBudget::new(64 << 20), None);
        for i in 0..(MAX_ASSETS as u32 + 10) {
            see(&mut book, Sighting::Host { ip: IpAddr::from(std::net::Ipv4Addr::from(0x0A00_0000 + i)), mac: None }, 0);
        }
        assert!(book.addresses().len() <= MAX_ASSETS);
        assert!(book.dropped() >= 10);
        // An address sending from ever new MACs makes a record for the first few only.
        let spoofed = ip("10.40.2.99");
        let records: usize = (0..100u8).map(|i| see(&mut book, host(spoofed, [2, 0, 0, 0, 1, i]), 1).len()).sum();
        assert_eq!(records, MAX_MACS, "the first sighting and {} more MACs", MAX_MACS - 1);
        assert_eq!(book.get(&spoofed).map(|a| (a.macs.len(), a.macs_omitted)), Some((MAX_MACS, 100 - MAX_MACS as u64)));
    }
}
