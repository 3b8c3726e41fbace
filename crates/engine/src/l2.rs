//! What ARP says about the link: which MAC each IPv4 address lives behind, when that
//! changes, and when two MACs answer for one address at once (an on-path attacker
//! poisoning caches). Each ARP packet becomes an `arp` event for the rules.
use otsentry_core::{CapMap, MemoryBudget, MemoryKind};
use otsentry_core::{FieldAccess, FieldDef, FieldId, FieldType as T, FieldValue, Schema};
use otsentry_wire::ArpInfo;
use serde::Serialize;
use std::net::Ipv4Addr;

/// Bindings kept at most; past it the table starts afresh (counted).
const MAX_BINDINGS: usize = 65_536;
/// A previous MAC seen this recently still answers: two MACs claim the address.
const CONFLICT_NS: i64 = 60 * 1_000_000_000;

otsentry_core::field_table!(FIELDS:
    OPERATION => FieldDef::one("arp.operation", T::Uint),
    OPERATION_NAME => FieldDef::one("arp.operation_name", T::Str),
    SENDER_MAC => FieldDef::one("arp.sender_mac", T::Str),
    TARGET_MAC => FieldDef::one("arp.target_mac", T::Str),
    GRATUITOUS => FieldDef::one("arp.gratuitous", T::Bool),
    MAC_CHANGED => FieldDef::one("arp.mac_changed", T::Bool),
    PREVIOUS_MAC => FieldDef::one("arp.previous_mac", T::Str),
    CONFLICT => FieldDef::one("arp.conflict", T::Bool),
    SECONDS_SINCE_PREVIOUS => FieldDef::one("arp.seconds_since_previous", T::Uint),
);

/// The `arp` event's fields. `arp.mac_changed`: the sender's address was last seen
/// behind another MAC; `arp.conflict`: that other MAC was seen within the last minute.
pub(crate) static ARP_SCHEMA: Schema = Schema { event_type: "arp", fields: &FIELDS, groups: &[], keys: &[] };

/// One ARP packet, with what the binding table made of it.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct ArpEvent {
    pub(crate) operation: u16,
    pub(crate) operation_name: &'static str,
    pub(crate) sender_mac: String,
    pub(crate) sender_ip: Ipv4Addr,
    pub(crate) target_mac: String,
    pub(crate) target_ip: Ipv4Addr,
    pub(crate) gratuitous: bool,
    pub(crate) mac_changed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) previous_mac: Option<String>,
    pub(crate) conflict: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) seconds_since_previous: Option<u64>,
}

pub(crate) fn mac(m: &[u8; 6]) -> String {
    let [a, b, c, d, e, f] = *m;
    format!("{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{f:02x}")
}

impl FieldAccess for ArpEvent {
    fn schema(&self) -> &'static Schema {
        &ARP_SCHEMA
    }
    fn value(&self, id: FieldId, _elem: usize) -> Option<FieldValue<'_>> {
        Some(match id.0 {
            OPERATION => FieldValue::U64(u64::from(self.operation)),
            OPERATION_NAME => FieldValue::Str(self.operation_name),
            SENDER_MAC => FieldValue::Str(&self.sender_mac),
            TARGET_MAC => FieldValue::Str(&self.target_mac),
            GRATUITOUS => FieldValue::Bool(self.gratuitous),
            MAC_CHANGED => FieldValue::Bool(self.mac_changed),
            PREVIOUS_MAC => FieldValue::Str(self.previous_mac.as_deref()?),
            CONFLICT => FieldValue::Bool(self.conflict),
            SECONDS_SINCE_PREVIOUS => FieldValue::U64(self.seconds_since_previous?),
            _ => return None,
        })
    }
}

#[derive(Clone, Copy, Debug)]
struct Binding {
    mac: [u8; 6],
    last_seen: i64,
}

/// IPv4 address → the MAC it was last seen behind.
/// Charged to the memory budget's detection share; the oldest binding gives way at the cap.
#[derive(Debug)]
pub(crate) struct ArpTable {
    bindings: CapMap<Ipv4Addr, Binding>,
}

impl Default for ArpTable {
    fn default() -> Self {
        ArpTable::with_memory(MemoryBudget::default())
    }
}

impl ArpTable {
    pub(crate) fn with_memory(memory: MemoryBudget) -> Self {
        ArpTable { bindings: CapMap::new(MAX_BINDINGS, memory, MemoryKind::Detection, 64) }
    }

    /// Bindings forgotten to make room.
    pub(crate) fn dropped(&self) -> u64 {
        self.bindings.dropped
    }

    /// Learns from one packet at `now` (ns) and says what it means.
    pub(crate) fn observe(&mut self, now: i64, a: &ArpInfo) -> ArpEvent {
        let gratuitous = a.sender_ip == a.target_ip;
        let mut event = ArpEvent {
            operation: a.operation,
            operation_name: match a.operation {
                1 => "request",
                2 => "reply",
                _ => "other",
            },
            sender_mac: mac(&a.sender_mac),
            sender_ip: a.sender_ip,
            target_mac: mac(&a.target_mac),
            target_ip: a.target_ip,
            gratuitous,
            mac_changed: false,
            previous_mac: None,
            conflict: false,
            seconds_since_previous: None,
        };
        // A probe (sender 0.0.0.0) claims nothing.
        if a.sender_ip.is_unspecified() {
            return event;
        }
        if let Some(prev) = self.bindings.get(&a.sender_ip) {
            let age = now.saturating_sub(prev.last_seen);
            event.seconds_since_previous = u64::try_from(age / 1_000_000_000).ok();
            if prev.mac != a.sender_mac {
                event.mac_changed = true;
                event.previous_mac = Some(mac(&prev.mac));
                event.conflict = (0..=CONFLICT_NS).contains(&age);
            }
        }
        self.bindings.insert(a.sender_ip, Binding { mac: a.sender_mac, last_seen: now });
        event
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(mac: u8, ip: &str) -> ArpInfo {
        let ip = ip.parse().unwrap();
        ArpInfo {
            operation: 2,
            sender_mac: [2, 0, 0, 0, 0, mac],
            sender_ip: ip,
            target_mac: [2, 0, 0, 0, 0, 0xEE],
            target_ip: "10.0.0.9".parse().unwrap(),
        }
    }

    #[test]
    fn a_second_mac_for_an_address_is_a_change_and_soon_after_a_conflict() {
        assert_eq!(ARP_SCHEMA.lint(), Ok(()));
        let mut t = ArpTable::default();
        let s = 1_000_000_000;
        assert!(!t.observe(0, &reply(1, "10.0.0.1")).mac_changed);
        assert!(!t.observe(5 * s, &reply(1, "10.0.0.1")).mac_changed, "a renewal from the same MAC");
        let e = t.observe(6 * s, &reply(2, "10.0.0.1"));
        assert!(e.mac_changed && e.conflict);
        assert_eq!((e.previous_mac.as_deref(), e.seconds_since_previous), (Some("02:00:00:00:00:01"), Some(1)));
        let later = t.observe(3600 * s, &reply(3, "10.0.0.1"));
        assert!(later.mac_changed && !later.conflict, "an address moved after an hour: a change, no conflict");
        let probe = ArpInfo { sender_ip: Ipv4Addr::UNSPECIFIED, ..reply(4, "10.0.0.1") };
        assert!(!t.observe(3601 * s, &probe).mac_changed);
    }
}
