//! Who sends in an address's name. A TCP session's packets from one side keep their TTL
//! and source MAC; a third party that injects into the session (a forged report, a
//! forged reset) or takes the address over (a masquerading outstation or master)
//! sends from another stack (another TTL) or another NIC. Two facts become `sender`
//! events: a session whose side changed mid-way (once per session), and a session
//! whose side differs from what most of that address's sessions showed (its usual
//! TTL and MAC, learned per address from the first packet of each session side).
use otsentry_core::{FieldAccess, FieldDef, FieldId, FieldType as T, FieldValue, Schema};
use otsentry_wire::Macs;
use serde::Serialize;
use std::collections::HashMap;
use std::net::IpAddr;

/// Addresses remembered at most; past it the table starts afresh (counted).
const MAX_HOSTS: usize = 65_536;
/// Fingerprints kept per address (a device, its replacement, an impostor, a relay).
const PRINTS: usize = 4;
/// Weights are halved past this, so that a replacement overtakes within hours.
const WEIGHT_CAP: u64 = 1 << 16;
/// A session side credits its address every this many packets.
pub(crate) const CREDIT_EVERY: u64 = 64;

otsentry_core::field_table!(FIELDS:
    SCOPE => FieldDef::one("sender.scope", T::Str),
    CHANGED => FieldDef::one("sender.changed", T::Str),
    EXPECTED_TTL => FieldDef::one("sender.expected_ttl", T::Uint),
    TTL => FieldDef::one("sender.ttl", T::Uint),
    EXPECTED_MAC => FieldDef::one("sender.expected_mac", T::Str),
    MAC => FieldDef::one("sender.mac", T::Str),
);

/// The `sender` event's fields: `sender.scope` is `session` (a side of one TCP session
/// changed mid-way) or `host` (a session's side differs from the address's usual);
/// `sender.changed` is `ttl`, `mac` or `ttl_and_mac`.
pub(crate) static SENDER_SCHEMA: Schema = Schema { event_type: "sender", fields: &FIELDS, groups: &[], keys: &[] };

/// What identifies a sender on the wire: its source MAC (when the link has one) and TTL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Print {
    mac: Option<[u8; 6]>,
    ttl: u8,
}

impl Print {
    pub(crate) fn new(macs: Option<Macs>, ttl: u8) -> Print {
        Print { mac: macs.map(|m| m.src), ttl }
    }

    /// What differs from `usual`; `None` when nothing does.
    fn change(&self, usual: &Print) -> Option<&'static str> {
        let mac = matches!((self.mac, usual.mac), (Some(a), Some(b)) if a != b);
        match (self.ttl != usual.ttl, mac) {
            (true, true) => Some("ttl_and_mac"),
            (true, false) => Some("ttl"),
            (false, true) => Some("mac"),
            (false, false) => None,
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct SenderEvent {
    pub(crate) scope: &'static str,
    pub(crate) changed: &'static str,
    pub(crate) expected_ttl: u8,
    pub(crate) ttl: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) expected_mac: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) mac: Option<String>,
}

impl SenderEvent {
    fn new(scope: &'static str, changed: &'static str, usual: &Print, now: &Print) -> SenderEvent {
        SenderEvent {
            scope,
            changed,
            expected_ttl: usual.ttl,
            ttl: now.ttl,
            expected_mac: usual.mac.as_ref().map(crate::l2::mac),
            mac: now.mac.as_ref().map(crate::l2::mac),
        }
    }
}

impl FieldAccess for SenderEvent {
    fn schema(&self) -> &'static Schema {
        &SENDER_SCHEMA
    }
    fn value(&self, id: FieldId, _elem: usize) -> Option<FieldValue<'_>> {
        Some(match id.0 {
            SCOPE => FieldValue::Str(self.scope),
            CHANGED => FieldValue::Str(self.changed),
            EXPECTED_TTL => FieldValue::U64(u64::from(self.expected_ttl)),
            TTL => FieldValue::U64(u64::from(self.ttl)),
            EXPECTED_MAC => FieldValue::Str(self.expected_mac.as_deref()?),
            MAC => FieldValue::Str(self.mac.as_deref()?),
            _ => return None,
        })
    }
}

/// Per TCP session: each side's first fingerprint and when it last sent, and whether
/// a change was raised.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct SenderWatch {
    first: [Option<Print>; 2],
    last_ns: [i64; 2],
    reported: bool,
}

/// A side silent this long that sends again is compared with its address's usual
/// fingerprint again: an impostor often writes into a long session after a lull.
const RESUMED_NS: i64 = 10 * 1_000_000_000;

/// What one packet told: whether it opened its side of the session (or resumed it
/// after a lull), and the event if the side changed mid-way.
pub(crate) struct Seen {
    pub(crate) opened: bool,
    pub(crate) event: Option<SenderEvent>,
}

impl SenderWatch {
    /// The fingerprint direction `dir` opened with.
    pub(crate) fn first(&self, dir: usize) -> Option<Print> {
        self.first.get(dir).copied().flatten()
    }

    pub(crate) fn packet(&mut self, dir: usize, now: Print, ts_ns: i64) -> Seen {
        let (Some(slot), Some(last)) = (self.first.get_mut(dir), self.last_ns.get_mut(dir)) else {
            return Seen { opened: false, event: None };
        };
        let resumed = ts_ns.saturating_sub(std::mem::replace(last, ts_ns)) >= RESUMED_NS;
        let Some(first) = *slot else {
            *slot = Some(now);
            return Seen { opened: true, event: None };
        };
        let event = match now.change(&first) {
            Some(changed) if !self.reported => {
                self.reported = true;
                Some(SenderEvent::new("session", changed, &first, &now))
            }
            _ => None,
        };
        Seen { opened: resumed, event }
    }
}

/// Per address: the fingerprints its sessions showed, weighed by the packets sent with
/// each. An impostor's sessions are short (a forged reset, a few forged reports) while
/// the device keeps talking, so the heaviest fingerprint is the device's even where
/// impostor sessions outnumber its own; a replaced device overtakes in time.
#[derive(Debug, Default)]
pub(crate) struct HostTable {
    hosts: HashMap<IpAddr, Vec<(Print, u64)>>,
    pub(crate) dropped: u64,
}

impl HostTable {
    /// A session side opened by `ip` with `now`: the event when it is not the
    /// address's usual (heaviest) fingerprint.
    pub(crate) fn opened(&mut self, ip: IpAddr, now: Print) -> Option<SenderEvent> {
        if self.hosts.len() >= MAX_HOSTS && !self.hosts.contains_key(&ip) {
            self.dropped += self.hosts.len() as u64;
            self.hosts.clear();
        }
        let prints = self.hosts.entry(ip).or_default();
        let usual = prints.iter().max_by_key(|(_, n)| *n).map(|(p, _)| *p);
        let event = usual.and_then(|u| now.change(&u).map(|c| SenderEvent::new("host", c, &u, &now)));
        self.credit(ip, now, 1);
        event
    }

    /// `packets` more sent by `ip` with `now`.
    pub(crate) fn credit(&mut self, ip: IpAddr, now: Print, packets: u64) {
        let Some(prints) = self.hosts.get_mut(&ip) else { return };
        if let Some((_, n)) = prints.iter_mut().find(|(p, _)| *p == now) {
            *n = n.saturating_add(packets);
        } else if prints.len() < PRINTS {
            prints.push((now, packets));
        } else if let Some(least) = prints.iter_mut().min_by_key(|(_, n)| *n) {
            *least = (now, packets);
        }
        if prints.iter().any(|(_, n)| *n > WEIGHT_CAP) {
            prints.iter_mut().for_each(|(_, n)| *n /= 2);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn print(mac: u8, ttl: u8) -> Print {
        Print { mac: Some([0, 0, 0, 0, 0, mac]), ttl }
    }

    #[test]
    fn a_session_side_that_changes_is_raised_once() {
        const S: i64 = 1_000_000_000;
        let mut w = SenderWatch::default();
        assert!(w.packet(0, print(1, 128), 0).opened);
        assert!(w.packet(1, print(2, 128), 0).opened);
        let same = w.packet(0, print(1, 128), S);
        assert!(same.event.is_none() && !same.opened, "the same sender, soon after");
        let e = w.packet(1, print(2, 64), S).event.expect("another TTL");
        assert_eq!((e.scope, e.changed, e.expected_ttl, e.ttl), ("session", "ttl", 128, 64));
        assert!(w.packet(1, print(3, 64), 2 * S).event.is_none(), "once per session");
        assert!(w.packet(0, print(1, 128), 30 * S).opened, "a side that sends again after a lull is checked again");
    }

    #[test]
    fn a_host_is_compared_with_its_heaviest_fingerprint() {
        let mut h = HostTable::default();
        let ip: IpAddr = "10.0.0.2".parse().unwrap();
        assert!(h.opened(ip, print(1, 128)).is_none());
        h.credit(ip, print(1, 128), 640);
        // Impostor sessions outnumber the device's, but are short.
        for _ in 0..20 {
            let e = h.opened(ip, print(1, 64)).expect("another TTL");
            assert_eq!((e.scope, e.changed, e.expected_ttl, e.ttl), ("host", "ttl", 128, 64));
            h.credit(ip, print(1, 64), 3);
        }
        assert!(h.opened(ip, print(1, 128)).is_none());
        // A replacement that keeps talking overtakes.
        assert!(h.opened(ip, print(7, 128)).is_some());
        h.credit(ip, print(7, 128), 10_000);
        assert!(h.opened(ip, print(7, 128)).is_none());
        assert!(h.opened(ip, print(1, 128)).is_some());
        // Without a MAC (a raw IP link) only the TTL is compared.
        let raw: IpAddr = "10.0.0.3".parse().unwrap();
        h.opened(raw, Print { mac: None, ttl: 64 });
        assert!(h.opened(raw, print(1, 64)).is_none());
    }
}
