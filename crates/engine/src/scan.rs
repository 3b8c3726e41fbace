//! Scans seen from the network: per source, the distinct hosts and ports it tried and
//! failed to reach (a reset to its SYN, a half-open handshake it abandoned) and the
//! hosts it pinged, within a window. Each failed attempt and each ping to a new host is
//! a `scan` event carrying the counts, for rules to set the bar.
use otsentry_core::{CapMap, MemoryBudget, MemoryKind};
use otsentry_core::{FieldAccess, FieldDef, FieldId, FieldType as T, FieldValue, Schema};
use serde::Serialize;
use std::net::IpAddr;

/// How long a source's attempts are counted together.
const WINDOW_NS: i64 = 60 * 1_000_000_000;
/// Targets remembered per source and window (a scan is plain long before this).
const MAX_TARGETS: usize = 1024;
/// Sources tracked at most; past it the table starts afresh (counted).
const MAX_SOURCES: usize = 65_536;

otsentry_core::field_table!(FIELDS:
    KIND => FieldDef::one("scan.kind", T::Str),
    REASON => FieldDef::one("scan.reason", T::Str),
    PORT => FieldDef::one("scan.port", T::Uint),
    DISTINCT_HOSTS => FieldDef::one("scan.distinct_hosts", T::Uint),
    DISTINCT_PORTS => FieldDef::one("scan.distinct_ports", T::Uint),
);

/// The `scan` event's fields: `scan.distinct_ports` counts the ports of this target
/// host the source failed to reach in the last minute, `scan.distinct_hosts` the hosts.
pub(crate) static SCAN_SCHEMA: Schema = Schema { event_type: "scan", fields: &FIELDS, groups: &[], keys: &[] };

/// Why an attempt counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Reason {
    /// The target reset the connection before the handshake completed (a closed port).
    Refused,
    /// The source reset it after the target's SYN-ACK (a half-open probe of an open port).
    HalfOpen,
    /// An ICMP echo request.
    Echo,
    /// An ARP request for an address (how a scanner on the segment sweeps it first).
    ArpRequest,
}

impl Reason {
    fn as_str(self) -> &'static str {
        match self {
            Reason::Refused => "refused",
            Reason::HalfOpen => "half_open",
            Reason::Echo => "echo",
            Reason::ArpRequest => "arp_request",
        }
    }

    /// What kind of sweep the attempt belongs to: counted apart from the others.
    fn kind(self) -> &'static str {
        match self {
            Reason::Refused | Reason::HalfOpen => "tcp",
            Reason::Echo => "icmp",
            Reason::ArpRequest => "arp",
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct ScanEvent {
    pub(crate) kind: &'static str,
    pub(crate) reason: Reason,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) port: Option<u16>,
    pub(crate) distinct_hosts: u64,
    pub(crate) distinct_ports: u64,
}

impl FieldAccess for ScanEvent {
    fn schema(&self) -> &'static Schema {
        &SCAN_SCHEMA
    }
    fn value(&self, id: FieldId, _elem: usize) -> Option<FieldValue<'_>> {
        Some(match id.0 {
            KIND => FieldValue::Str(self.kind),
            REASON => FieldValue::Str(self.reason.as_str()),
            PORT => FieldValue::U64(u64::from(self.port?)),
            DISTINCT_HOSTS => FieldValue::U64(self.distinct_hosts),
            DISTINCT_PORTS => FieldValue::U64(self.distinct_ports),
            _ => return None,
        })
    }
}

#[derive(Debug, Default)]
struct Attempts {
    start: i64,
    /// (host, port, kind) of each target; port 0 for pings and ARP.
    targets: Vec<(IpAddr, u16, &'static str)>,
}

/// Failed attempts per source, charged to the memory budget's detection share (a
/// source's targets as they grow); the oldest source gives way at the cap.
#[derive(Debug)]
pub(crate) struct ScanTracker {
    sources: CapMap<IpAddr, Attempts>,
}

impl Default for ScanTracker {
    fn default() -> Self {
        ScanTracker::with_memory(MemoryBudget::default())
    }
}

/// A source's entry before its targets: key, window start, list header, table overhead.
const SOURCE_BYTES: usize = 96;

impl ScanTracker {
    pub(crate) fn with_memory(memory: MemoryBudget) -> Self {
        ScanTracker { sources: CapMap::new(MAX_SOURCES, memory, MemoryKind::Detection, SOURCE_BYTES) }
    }

    /// Sources forgotten to make room.
    pub(crate) fn dropped(&self) -> u64 {
        self.sources.dropped
    }

    /// Records one attempt from `src` to `dst` (`port` 0 for a ping or ARP) and says what the
    /// source's window now holds; `None` for a repeat of a target already counted.
    pub(crate) fn attempt(&mut self, now: i64, src: IpAddr, dst: IpAddr, port: u16, reason: Reason) -> Option<ScanEvent> {
        let a = self.sources.get_or_insert_with(src, || Attempts { start: now, targets: Vec::new() });
        let before = a.targets.capacity();
        if now.saturating_sub(a.start) > WINDOW_NS || now < a.start {
            *a = Attempts { start: now, targets: Vec::new() };
        }
        let kind = reason.kind();
        if a.targets.contains(&(dst, port, kind)) || a.targets.len() >= MAX_TARGETS {
            return None;
        }
        a.targets.push((dst, port, kind));
        // Charged as the list's allocation changes (it doubles, or a new window starts).
        let grown = (a.targets.capacity() != before).then(|| a.targets.capacity() * std::mem::size_of::<(IpAddr, u16, &str)>());
        let tcp = kind == "tcp";
        let distinct_ports = if tcp { a.targets.iter().filter(|(h, _, k)| *h == dst && *k == kind).count() as u64 } else { 0 };
        let mut hosts: Vec<IpAddr> = a.targets.iter().filter(|(_, _, k)| *k == kind).map(|(h, _, _)| *h).collect();
        hosts.sort_unstable();
        hosts.dedup();
        let event = ScanEvent { kind, reason, port: tcp.then_some(port), distinct_hosts: hosts.len() as u64, distinct_ports };
        if let Some(bytes) = grown {
            self.sources.resize(&src, SOURCE_BYTES + bytes);
        }
        Some(event)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn failed_ports_and_hosts_are_counted_per_source_in_a_window() {
        assert_eq!(SCAN_SCHEMA.lint(), Ok(()));
        let mut t = ScanTracker::default();
        let (a, plc) = (ip("10.0.9.9"), ip("10.0.0.2"));
        for port in 1..=5 {
            t.attempt(0, a, plc, port, Reason::Refused);
        }
        assert!(t.attempt(0, a, plc, 5, Reason::Refused).is_none(), "a repeat counts once");
        let e = t.attempt(1, a, ip("10.0.0.3"), 502, Reason::HalfOpen).unwrap();
        assert_eq!((e.distinct_ports, e.distinct_hosts), (1, 2));
        let e = t.attempt(2, a, plc, 6, Reason::Refused).unwrap();
        assert_eq!((e.distinct_ports, e.distinct_hosts), (6, 2));
        let ping = t.attempt(3, a, ip("10.0.0.7"), 0, Reason::Echo).unwrap();
        assert_eq!((ping.kind, ping.distinct_hosts, ping.distinct_ports), ("icmp", 1, 0), "pings count apart");
        let arp = t.attempt(4, a, ip("10.0.0.7"), 0, Reason::ArpRequest).unwrap();
        assert_eq!((arp.kind, arp.distinct_hosts), ("arp", 1), "ARP requests count apart from pings");
        let later = t.attempt(WINDOW_NS + 10, a, plc, 7, Reason::Refused).unwrap();
        assert_eq!(later.distinct_ports, 1, "a new window");
    }
}
