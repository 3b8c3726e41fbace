//! The segmentation policy on the flow stage: each flow's two zones, resolved once, and
//! one `segmentation` event per (client, server, protocol, function class) that crosses
//! zones without a conduit. Rules turn the events into alerts (`rules/policy.yaml`),
//! raised at a conversation's first sighting; its counts and first and last sightings
//! go out at the end of the run, as one `segmentation` record each and in the summary.
use otsentry_core::{EventHeader, FieldAccess, FieldDef, FieldId, FieldType as T, FieldValue, FunctionClass, Record, Schema, Timestamp};
use otsentry_policy::{skips_levels, Decision, Policy, Service, ZoneId};
use serde::Serialize;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

/// Conversations remembered at most; past it each new one is raised once per flow and
/// counted in `dropped`.
const MAX_CONVERSATIONS: usize = 65_536;

otsentry_core::field_table!(FIELDS:
    SRC_ZONE => FieldDef::one("segmentation.src_zone", T::Str),
    DST_ZONE => FieldDef::one("segmentation.dst_zone", T::Str),
    SRC_LEVEL => FieldDef::one("segmentation.src_level", T::Str),
    DST_LEVEL => FieldDef::one("segmentation.dst_level", T::Str),
    PROTOCOL => FieldDef::one("segmentation.protocol", T::Str),
    FUNCTION_CLASS => FieldDef::one("segmentation.function_class", T::Str),
    SKIPS_LEVELS => FieldDef::one("segmentation.skips_levels", T::Bool),
    OT => FieldDef::one("segmentation.ot", T::Bool),
);

/// A conversation across zones that no conduit allows. `src` is the side that opened it.
pub(crate) static SEGMENT_SCHEMA: Schema = Schema { event_type: "segmentation", fields: &FIELDS, groups: &[], keys: &[] };

#[derive(Clone, Debug, Serialize)]
pub(crate) struct SegmentEvent {
    pub(crate) src_zone: String,
    pub(crate) src_level: String,
    pub(crate) dst_zone: String,
    pub(crate) dst_level: String,
    pub(crate) protocol: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) function_class: Option<&'static str>,
    /// OT traffic from level 4 or 5 straight into level 0 or 1.
    pub(crate) skips_levels: bool,
    /// Whether a dissector decodes the protocol.
    pub(crate) ot: bool,
}

impl FieldAccess for SegmentEvent {
    fn schema(&self) -> &'static Schema {
        &SEGMENT_SCHEMA
    }
    fn value(&self, id: FieldId, _elem: usize) -> Option<FieldValue<'_>> {
        Some(match id.0 {
            SRC_ZONE => FieldValue::Str(&self.src_zone),
            DST_ZONE => FieldValue::Str(&self.dst_zone),
            SRC_LEVEL => FieldValue::Str(&self.src_level),
            DST_LEVEL => FieldValue::Str(&self.dst_level),
            PROTOCOL => FieldValue::Str(&self.protocol),
            FUNCTION_CLASS => FieldValue::Str(self.function_class?),
            SKIPS_LEVELS => FieldValue::Bool(self.skips_levels),
            OT => FieldValue::Bool(self.ot),
            _ => return None,
        })
    }
}

/// A flow's zones and which checks it already made (one bit per function class, and
/// one for the protocol alone), so each is decided once per flow.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct FlowZones {
    zones: Option<(ZoneId, ZoneId)>,
    checked: u8,
    /// Of the checked, those the policy forbids (only these are counted further).
    denied: u8,
}

impl FlowZones {
    /// Forget the zones (the flow's client and server were swapped).
    pub(crate) fn reset(&mut self) {
        *self = FlowZones::default();
    }

    /// Whether `class` still has to go to [`Segmentation::check`]: not yet decided for
    /// this flow, or forbidden (and so counted). The per-packet test, kept tiny.
    #[inline]
    pub(crate) fn needs(&self, class: Option<FunctionClass>) -> bool {
        let b = bit(class);
        self.checked & b == 0 || self.denied & b != 0
    }
}

/// Counts of one forbidden conversation, and its zones.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Sighting {
    pub(crate) count: u64,
    pub(crate) first: Timestamp,
    pub(crate) last: Timestamp,
    pub(crate) zones: (ZoneId, ZoneId),
}

type Key = (IpAddr, IpAddr, Service, Option<FunctionClass>);

/// The run's policy and what it has forbidden so far.
pub(crate) struct Segmentation {
    policy: Arc<Policy>,
    seen: HashMap<Key, Sighting>,
    /// Per conduit, the conversations (and function classes) it allowed.
    used: Vec<u64>,
    /// Conversations not remembered because the table was full.
    pub(crate) dropped: u64,
}

fn bit(class: Option<FunctionClass>) -> u8 {
    // Seven classes below, the conversation itself on top.
    const _: () = assert!(FunctionClass::ALL.len() < 8);
    class.map_or(1 << 7, |c| 1 << (c as u8))
}

impl Segmentation {
    pub(crate) fn new(policy: Arc<Policy>) -> Self {
        let used = vec![0; policy.conduits.len()];
        Segmentation { policy, seen: HashMap::new(), used, dropped: 0 }
    }

    /// Checks a conversation from `client` to `server` on `vlan` doing `class` (none:
    /// the protocol alone). Returns the event for the first sighting of a forbidden one.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn check(
        &mut self,
        flow: &mut FlowZones,
        client: IpAddr,
        server: IpAddr,
        vlan: u16,
        service: Service,
        class: Option<FunctionClass>,
        ts: Timestamp,
    ) -> Option<SegmentEvent> {
        let b = bit(class);
        if !flow.needs(class) {
            return None;
        }
        let p = &self.policy;
        let (cz, sz) = *flow.zones.get_or_insert_with(|| (p.zone_of(client, vlan), p.zone_of(server, vlan)));
        let first_in_flow = flow.checked & b == 0;
        flow.checked |= b;
        if first_in_flow {
            match if cz == sz { Decision::SameZone } else { p.decide(cz, sz, service, class) } {
                Decision::Denied => {}
                Decision::SameZone => return None,
                Decision::Allowed(i) => {
                    if let Some(n) = self.used.get_mut(i) {
                        *n += 1;
                    }
                    return None;
                }
            }
        }
        flow.denied |= b;
        // A protocol no conduit allows at all is one finding: its functions are counted
        // (what a suggested conduit would need) but raise nothing of their own.
        let quiet = class.is_some() && flow.denied & bit(None) != 0;
        let key = (client, server, service, class);
        if let Some(s) = self.seen.get_mut(&key) {
            s.count += 1;
            s.last = ts;
            return None;
        }
        if !first_in_flow {
            // Raised for this flow already while the table was full.
            return None;
        }
        if self.seen.len() >= MAX_CONVERSATIONS {
            self.dropped += 1;
        } else {
            self.seen.insert(key, Sighting { count: 1, first: ts, last: ts, zones: (cz, sz) });
        }
        if quiet {
            return None;
        }
        Some(self.event((cz, sz), service, class))
    }

    fn event(&self, (cz, sz): (ZoneId, ZoneId), service: Service, class: Option<FunctionClass>) -> SegmentEvent {
        let (c, s) = (self.policy.zone(cz), self.policy.zone(sz));
        let level = |z: &otsentry_policy::Zone| z.level.map_or_else(|| "none".to_string(), |l| l.name());
        SegmentEvent {
            src_zone: c.name.clone(),
            src_level: level(c),
            dst_zone: s.name.clone(),
            dst_level: level(s),
            protocol: service.name(),
            function_class: class.map(FunctionClass::as_str),
            skips_levels: service.is_ot() && skips_levels(c.level, s.level),
            ot: service.is_ot(),
        }
    }

    /// Every forbidden conversation as a `segmentation` record, in the summary's order:
    /// the alert was raised at its first sighting, these carry how often and until when.
    pub(crate) fn records(&self) -> impl Iterator<Item = SegmentRecord> + '_ {
        self.sorted().into_iter().map(|(&(src, dst, service, class), s)| SegmentRecord {
            header: EventHeader { timestamp: s.last, src_ip: Some(src), dest_ip: Some(dst), ..Default::default() },
            body: Conversation { event: self.event(s.zones, service, class), count: s.count, first_seen: s.first, last_seen: s.last },
        })
    }

    fn sorted(&self) -> Vec<(&Key, &Sighting)> {
        let mut all: Vec<(&Key, &Sighting)> = self.seen.iter().collect();
        all.sort_by(|a, b| a.0.cmp(b.0));
        all
    }

    /// Every forbidden conversation with its counts, in a stable order, for the summary.
    pub(crate) fn counts(&self) -> otsentry_core::SegmentationCounts {
        let name = |z: ZoneId| self.policy.zone(z).name.clone();
        let conversations = self
            .sorted()
            .into_iter()
            .map(|(&(src, dst, service, class), s)| otsentry_core::Forbidden {
                src_ip: src.to_string(),
                src_zone: name(s.zones.0),
                dest_ip: dst.to_string(),
                dest_zone: name(s.zones.1),
                protocol: service.name(),
                function_class: class.map(FunctionClass::as_str),
                count: s.count,
                first_seen: s.first,
                last_seen: s.last,
            })
            .collect();
        otsentry_core::SegmentationCounts { conversations, conduits_used: self.used.clone(), dropped: self.dropped }
    }
}

/// One forbidden conversation at the end of the run (`event_type: segmentation`): its
/// zones and levels as the alert had them, with its counts.
pub(crate) struct SegmentRecord {
    header: EventHeader,
    body: Conversation,
}

pub(crate) struct Conversation {
    event: SegmentEvent,
    /// Packets of the conversation for the protocol alone; requests for a function class.
    count: u64,
    first_seen: Timestamp,
    last_seen: Timestamp,
}

impl Serialize for Conversation {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let e = &self.event;
        let mut o = s.serialize_struct("segmentation", 11)?;
        o.serialize_field("src_zone", &e.src_zone)?;
        o.serialize_field("src_level", &e.src_level)?;
        o.serialize_field("dst_zone", &e.dst_zone)?;
        o.serialize_field("dst_level", &e.dst_level)?;
        o.serialize_field("protocol", &e.protocol)?;
        if let Some(class) = e.function_class {
            o.serialize_field("function_class", class)?;
        }
        o.serialize_field("skips_levels", &e.skips_levels)?;
        o.serialize_field("ot", &e.ot)?;
        o.serialize_field("count", &self.count)?;
        o.serialize_field("first_seen", &self.first_seen)?;
        o.serialize_field("last_seen", &self.last_seen)?;
        o.end()
    }
}

impl Record for SegmentRecord {
    type Body = Conversation;
    type Extra = ();
    fn event_type(&self) -> &'static str {
        "segmentation"
    }
    fn header(&self) -> &EventHeader {
        &self.header
    }
    fn body(&self) -> &Conversation {
        &self.body
    }
}
