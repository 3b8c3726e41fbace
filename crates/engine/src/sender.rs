//! Who sends in an address's name. A TCP session's packets from one side keep their TTL
//! and source MAC; a third party that injects into the session (a forged report, a
//! forged reset) or takes the address over (a masquerading outstation or master)
//! sends from another stack (another TTL) or another NIC. Two facts become `sender`
//! events: a session whose side changed mid-way (once per session), and a session
//! side that opens, or sends again after a lull, with another TTL or MAC than the
//! address's usual one (the fingerprint that sent the most of its packets).
use otsentry_core::{CapMap, MemoryBudget, MemoryKind};
use otsentry_core::{FieldAccess, FieldDef, FieldId, FieldType as T, FieldValue, Schema};
use serde::Serialize;
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
    PATH => FieldDef::one("sender.path", T::Str),
);

/// The `sender` event's fields: `sender.scope` is `session` (a side of one TCP session
/// changed mid-way) or `host` (a session's side differs from the address's usual);
/// `sender.changed` is `ttl`, `mac` or `ttl_and_mac`; `sender.path` is `second_path` when
/// the new MAC already forwards for other addresses and the TTL is the same or a hop or
/// two lower (a routed copy of the traffic, a second gateway, or the host's second
/// interface behind a router), else `unexplained`.
pub(crate) static SENDER_SCHEMA: Schema = Schema { event_type: "sender", fields: &FIELDS, groups: &[], keys: &[] };

/// What identifies a sender on the wire: its source MAC (when the link has one) and TTL,
/// packed in one word (MAC in the low 48 bits, TTL above it, then a has-MAC bit and a
/// present bit) because it is compared on every TCP packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Print(u64);

const HAS_MAC: u64 = 1 << 56;
const PRESENT: u64 = 1 << 57;

impl Print {
    /// From a MAC as a 48-bit word (see `otsentry_wire::Macs`) and a TTL.
    #[inline]
    pub(crate) fn new(mac: Option<u64>, ttl: u8) -> Print {
        let mac_bits = mac.map_or(0, |m| (m & 0xFFFF_FFFF_FFFF) | HAS_MAC);
        Print(PRESENT | mac_bits | u64::from(ttl) << 48)
    }

    #[cfg(test)]
    fn from_parts(mac: Option<[u8; 6]>, ttl: u8) -> Print {
        Print::new(mac.map(otsentry_wire::mac_word), ttl)
    }

    fn ttl(self) -> u8 {
        (self.0 >> 48) as u8
    }

    fn mac(self) -> Option<[u8; 6]> {
        (self.0 & HAS_MAC != 0).then(|| otsentry_wire::mac_bytes(self.0))
    }

    /// What differs from `usual`; `None` when nothing does.
    fn change(&self, usual: &Print) -> Option<&'static str> {
        let mac = matches!((self.mac(), usual.mac()), (Some(a), Some(b)) if a != b);
        match (self.ttl() != usual.ttl(), mac) {
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
    pub(crate) path: &'static str,
}

/// How much lower a TTL a second path through routers may show: none where the two
/// paths cross as many routers (two gateways of one site, seen on one SPAN port).
const SECOND_PATH_HOPS: std::ops::RangeInclusive<u8> = 0..=2;

impl SenderEvent {
    fn new(scope: &'static str, changed: &'static str, usual: &Print, now: &Print, forwarder: bool) -> SenderEvent {
        let new_mac = matches!(changed, "mac" | "ttl_and_mac");
        let routed = new_mac && forwarder && SECOND_PATH_HOPS.contains(&usual.ttl().wrapping_sub(now.ttl()));
        SenderEvent {
            scope,
            changed,
            path: if routed { "second_path" } else { "unexplained" },
            expected_ttl: usual.ttl(),
            ttl: now.ttl(),
            expected_mac: usual.mac().as_ref().map(crate::l2::mac),
            mac: now.mac().as_ref().map(crate::l2::mac),
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
            PATH => FieldValue::Str(self.path),
            _ => return None,
        })
    }
}

/// Per TCP session: each side's first fingerprint (0 before it sends) and the time it
/// last sent, and whether a change was raised. Checked on every TCP packet, so flat:
/// a side is one word compared with one word.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct SenderWatch {
    first: [u64; 2],
    /// Packet time in units of 2^30 ns (about a second).
    last: [u32; 2],
    reported: bool,
}

/// A side silent this many units (about ten seconds) that sends again is compared with
/// its address's usual fingerprint again: an impostor often writes into a long session
/// after a lull.
const RESUMED: u32 = 10;

/// What one packet told: whether it opened its side of the session (or resumed it
/// after a lull), and whether the side changed mid-way (the first such change only).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Seen {
    pub(crate) opened: bool,
    pub(crate) changed: bool,
}

impl Seen {
    /// Whether anything needs a closer look.
    #[inline]
    pub(crate) fn any(self) -> bool {
        self.opened || self.changed
    }
}

impl SenderWatch {
    /// The fingerprint direction `dir` opened with.
    pub(crate) fn first(&self, dir: usize) -> Option<Print> {
        self.first.get(dir).copied().filter(|&p| p != 0).map(Print)
    }

    /// A packet to the client (`to_client`) or the server with fingerprint `now`, at
    /// packet time `ts_ns`.
    #[inline]
    pub(crate) fn packet(&mut self, to_client: bool, now: Print, ts_ns: i64) -> Seen {
        let i = usize::from(to_client);
        let (Some(first), Some(last)) = (self.first.get_mut(i), self.last.get_mut(i)) else {
            return Seen { opened: false, changed: false };
        };
        let t = (ts_ns >> 30) as u32;
        let resumed = t.wrapping_sub(*last) >= RESUMED;
        *last = t;
        if *first == now.0 {
            return Seen { opened: resumed, changed: false };
        }
        if *first == 0 {
            *first = now.0;
            return Seen { opened: true, changed: false };
        }
        if self.reported {
            return Seen { opened: resumed, changed: false };
        }
        let changed = now.change(&Print(*first)).is_some();
        self.reported |= changed;
        Seen { opened: resumed, changed }
    }
}

/// The host table's part of one sender observation (a session side opened, changed or
/// earned credit): the events it raises. One pipeline calls it as it goes; with several
/// workers, the cross stage does, in capture order.
#[allow(clippy::too_many_arguments)]
pub(crate) fn host_check(
    hosts: &mut HostTable,
    seen: Seen,
    credit: bool,
    print: Print,
    src: IpAddr,
    own: bool,
    first: Option<Print>,
) -> [Option<SenderEvent>; 2] {
    if seen.changed || credit {
        hosts.sent_for(print, src);
    }
    let opened = (seen.opened && own).then(|| hosts.opened(src, print)).flatten();
    let changed = if seen.changed { session_event(first, &print, hosts) } else { None };
    if credit {
        hosts.credit(src, print, CREDIT_EVERY);
    }
    [opened, changed]
}

/// The session event for a side that opened with `first` and now sends with `now`.
pub(crate) fn session_event(first: Option<Print>, now: &Print, hosts: &HostTable) -> Option<SenderEvent> {
    let first = first?;
    now.change(&first).map(|c| SenderEvent::new("session", c, &first, now, hosts.forwards(now)))
}

/// Per address: the fingerprints its sessions showed, weighed by the packets sent with
/// each. An impostor's sessions are short (a forged reset, a few forged reports) while
/// the device keeps talking, so the heaviest fingerprint is the device's even where
/// impostor sessions outnumber its own; a replaced device overtakes in time.
/// Both tables are charged to the memory budget's detection share; the oldest entry
/// gives way at the cap.
#[derive(Debug)]
pub(crate) struct HostTable {
    hosts: CapMap<IpAddr, Vec<(Print, u64)>>,
    /// Per source MAC (48-bit word): the first address it sent for, and whether it has
    /// sent for another since (a router, a firewall, a layer-3 switch).
    macs: CapMap<u64, (IpAddr, bool)>,
}

impl Default for HostTable {
    fn default() -> Self {
        HostTable::with_memory(MemoryBudget::default())
    }
}

impl HostTable {
    pub(crate) fn with_memory(memory: MemoryBudget) -> Self {
        // An address with its few fingerprints; a MAC with its first address.
        let host = 96 + PRINTS * std::mem::size_of::<(Print, u64)>();
        HostTable {
            hosts: CapMap::new(MAX_HOSTS, memory.clone(), MemoryKind::Detection, host),
            macs: CapMap::new(MAX_HOSTS, memory, MemoryKind::Detection, 64),
        }
    }

    /// Addresses and MACs forgotten to make room.
    pub(crate) fn dropped(&self) -> u64 {
        self.hosts.dropped + self.macs.dropped
    }

    /// A session side opened by `ip` with `now`: the event when it is not the
    /// address's usual (heaviest) fingerprint.
    pub(crate) fn opened(&mut self, ip: IpAddr, now: Print) -> Option<SenderEvent> {
        self.sent_for(now, ip);
        let forwarder = self.forwards(&now);
        let prints = self.hosts.get_or_insert_with(ip, Vec::new);
        let usual = prints.iter().max_by_key(|(_, n)| *n).map(|(p, _)| *p);
        let event = usual.and_then(|u| now.change(&u).map(|c| SenderEvent::new("host", c, &u, &now, forwarder)));
        self.credit(ip, now, 1);
        event
    }

    /// `ip` sent from (or was sent to) the MAC in `print` (a session side opened, changed
    /// mid-way, or credited): a MAC seen serving two addresses forwards. A third party writing
    /// into sessions of two addresses becomes one too: its first change still alerts,
    /// and ARP spoofing and relayed segments still show it.
    pub(crate) fn sent_for(&mut self, print: Print, ip: IpAddr) {
        let Some(mac) = print.mac().map(otsentry_wire::mac_word) else { return };
        let (first, many) = self.macs.get_or_insert_with(mac, || (ip, false));
        *many |= *first != ip;
    }

    /// A MAC known (from this run, or from the baseline's assets) to send for more than one
    /// address.
    pub(crate) fn forwards(&self, print: &Print) -> bool {
        print.mac().map(otsentry_wire::mac_word).and_then(|m| self.macs.get(&m)).is_some_and(|&(_, many)| many)
    }

    /// MACs a baseline saw serving several addresses.
    pub(crate) fn known_forwarders(&mut self, macs: impl IntoIterator<Item = [u8; 6]>) {
        for mac in macs {
            self.macs.insert(otsentry_wire::mac_word(mac), (IpAddr::from([0, 0, 0, 0]), true));
        }
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
        Print::from_parts(Some([0, 0, 0, 0, 0, mac]), ttl)
    }

    #[test]
    fn a_session_side_that_changes_is_raised_once() {
        const S: i64 = 1 << 30;
        let mut w = SenderWatch::default();
        assert!(w.packet(false, print(1, 128), 0).opened);
        assert!(w.packet(true, print(2, 128), 0).opened);
        assert!(!w.packet(false, print(1, 128), S).any(), "the same sender, soon after");
        assert!(w.packet(true, print(2, 64), S).changed);
        let e = session_event(w.first(1), &print(2, 64), &HostTable::default()).expect("another TTL");
        assert_eq!((e.scope, e.changed, e.expected_ttl, e.ttl, e.path), ("session", "ttl", 128, 64, "unexplained"));
        assert!(!w.packet(true, print(3, 64), 2 * S).changed, "once per session");
        assert!(w.packet(false, print(1, 128), 30 * S).opened, "a side that sends again after a lull is checked again");
        let mut raw = SenderWatch::default();
        assert!(raw.packet(false, Print::from_parts(None, 64), 0).opened);
        assert!(raw.packet(false, Print::from_parts(None, 128), S).changed, "without a MAC the TTL still counts");
        let mut later = SenderWatch::default();
        later.packet(false, Print::from_parts(None, 64), 0);
        assert!(!later.packet(false, print(1, 64), S).changed, "a MAC where there was none is not a change");
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
        h.opened(raw, Print::from_parts(None, 64));
        assert!(h.opened(raw, print(1, 64)).is_none());
    }

    #[test]
    fn a_mac_that_forwards_for_others_with_a_lower_ttl_is_a_second_path() {
        let mut h = HostTable::default();
        let (plc, hmi, far): (IpAddr, IpAddr, IpAddr) =
            ("10.0.0.2".parse().unwrap(), "10.0.0.9".parse().unwrap(), "10.9.0.1".parse().unwrap());
        let router = 0xEE;
        h.opened(plc, print(1, 64));
        h.opened(hmi, print(2, 128));
        let mut w = SenderWatch::default();
        w.packet(false, print(1, 64), 0);
        w.packet(false, print(router, 63), 1 << 30);
        let new_mac = session_event(w.first(0), &print(router, 63), &h).expect("a change");
        assert_eq!(new_mac.path, "unexplained", "a MAC that forwards for nobody else still alerts");
        h.opened(far, print(router, 61)); // the router opens sessions for two other addresses
        assert_eq!(
            session_event(w.first(0), &print(router, 63), &h).expect("a change").path,
            "unexplained",
            "one address is not forwarding"
        );
        h.opened("10.9.0.2".parse().unwrap(), print(router, 61));
        assert_eq!(session_event(w.first(0), &print(router, 63), &h).expect("a change").path, "second_path");
        assert_eq!(
            session_event(w.first(0), &print(router, 60), &h).expect("a change").path,
            "unexplained",
            "four hops lower is not a second path"
        );
        assert_eq!(
            session_event(w.first(0), &print(router, 64), &h).expect("a change").path,
            "second_path",
            "as many hops through another router"
        );
        assert_eq!(
            session_event(w.first(0), &print(router, 65), &h).expect("a change").path,
            "unexplained",
            "a higher TTL is another stack"
        );
        let mut from_baseline = HostTable::default();
        from_baseline.known_forwarders([[0, 0, 0, 0, 0, router]]);
        assert_eq!(session_event(w.first(0), &print(router, 62), &from_baseline).expect("a change").path, "second_path");
    }
}
