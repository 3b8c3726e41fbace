use crate::field::{FieldAccess, FieldDef, FieldId, FieldType, FieldValue, Schema};
use crate::record::{EventHeader, Record};
use serde::Serialize;

/// The layer at which decoding stopped or a problem was seen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Layer {
    Capture,
    Link,
    Vlan,
    Tunnel,
    Ipv4,
    Ipv6,
    Fragment,
    Tcp,
    Udp,
    Icmp,
    Stream,
    App,
}

impl Layer {
    pub fn as_str(self) -> &'static str {
        match self {
            Layer::Capture => "capture",
            Layer::Link => "link",
            Layer::Vlan => "vlan",
            Layer::Tunnel => "tunnel",
            Layer::Ipv4 => "ipv4",
            Layer::Ipv6 => "ipv6",
            Layer::Fragment => "fragment",
            Layer::Tcp => "tcp",
            Layer::Udp => "udp",
            Layer::Icmp => "icmp",
            Layer::Stream => "stream",
            Layer::App => "app",
        }
    }
}

/// Suricata's anomaly `type`: where in the engine the problem was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum AnomalyKind {
    Decode,
    Stream,
    Applayer,
}

/// An `anomaly` event: a packet or stream that is malformed, truncated or odd.
///
/// An anomaly record: owned (a `String` reason) where it outlives the packet buffer, or
/// with a [`LazyReason`] where it is raised and judged in one go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Anomaly<R = String> {
    pub header: EventHeader,
    pub body: AnomalyBody<R>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AnomalyBody<R = String> {
    #[serde(rename = "type")]
    pub kind: AnomalyKind,
    /// Dotted event name, e.g. `decoder.ipv4.trunc_pkt`.
    pub event: &'static str,
    pub layer: Layer,
    /// Byte offset of the problem within the captured frame (or stream, for streams).
    pub offset: usize,
    /// Why, in words, with the numbers that matter.
    pub reason: R,
}

/// An anomaly's reason as text.
pub trait ReasonText: Serialize {
    fn text(&self) -> &str;
}

impl ReasonText for String {
    fn text(&self) -> &str {
        self
    }
}

/// A reason formatted only when something reads it: a record or an alert written (into
/// the output, without a string of its own), or a rule on `anomaly.reason`. Most
/// anomalies of a malformed flood are counted and judged, and never written.
pub struct LazyReason<'a> {
    args: std::fmt::Arguments<'a>,
    text: std::cell::OnceCell<String>,
}

impl<'a> LazyReason<'a> {
    pub fn new(args: std::fmt::Arguments<'a>) -> Self {
        LazyReason { args, text: std::cell::OnceCell::new() }
    }

    /// Whether it was formatted (for tests of the laziness).
    pub fn formatted(&self) -> bool {
        self.text.get().is_some()
    }
}

impl ReasonText for LazyReason<'_> {
    fn text(&self) -> &str {
        self.text.get_or_init(|| self.args.to_string())
    }
}

impl Serialize for LazyReason<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.text.get() {
            Some(t) => s.serialize_str(t),
            None => s.collect_str(&self.args),
        }
    }
}

impl std::fmt::Debug for LazyReason<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.args.to_string())
    }
}

impl Anomaly {
    pub fn new(header: EventHeader, kind: AnomalyKind, event: &'static str, layer: Layer, offset: usize, reason: String) -> Self {
        Anomaly { header, body: AnomalyBody { kind, event, layer, offset, reason } }
    }

    pub fn decode(header: EventHeader, event: &'static str, layer: Layer, offset: usize, reason: String) -> Self {
        Anomaly { header, body: AnomalyBody { kind: AnomalyKind::Decode, event, layer, offset, reason } }
    }
}

impl<R: ReasonText> Record for Anomaly<R> {
    type Body = AnomalyBody<R>;
    type Extra = ();
    fn event_type(&self) -> &'static str {
        "anomaly"
    }
    fn header(&self) -> &EventHeader {
        &self.header
    }
    fn body(&self) -> &AnomalyBody<R> {
        &self.body
    }
}

impl AnomalyKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AnomalyKind::Decode => "decode",
            AnomalyKind::Stream => "stream",
            AnomalyKind::Applayer => "applayer",
        }
    }
}

crate::field_table!(FIELDS:
    EVENT => FieldDef::one("anomaly.event", FieldType::Str),
    KIND => FieldDef::one("anomaly.type", FieldType::Str),
    LAYER => FieldDef::one("anomaly.layer", FieldType::Str),
    OFFSET => FieldDef::one("anomaly.offset", FieldType::Uint),
    REASON => FieldDef::one("anomaly.reason", FieldType::Str),
);

/// What rules can read from an anomaly (`anomaly.event: NAME.*`).
pub static ANOMALY_SCHEMA: Schema = Schema { event_type: "anomaly", fields: &FIELDS, groups: &[], keys: &[] };

impl<R: ReasonText> FieldAccess for AnomalyBody<R> {
    fn schema(&self) -> &'static Schema {
        &ANOMALY_SCHEMA
    }
    fn value(&self, id: FieldId, _elem: usize) -> Option<FieldValue<'_>> {
        Some(match id.0 {
            EVENT => FieldValue::Str(self.event),
            KIND => FieldValue::Str(self.kind.as_str()),
            LAYER => FieldValue::Str(self.layer.as_str()),
            OFFSET => FieldValue::U64(self.offset as u64),
            REASON => FieldValue::Str(self.reason.text()),
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_readable_by_name() {
        assert_eq!(ANOMALY_SCHEMA.lint(), Ok(()));
        let a = Anomaly::decode(EventHeader::default(), "decoder.ipv4.trunc_pkt", Layer::Ipv4, 14, "short".into());
        assert_eq!(a.body.field("anomaly.event"), Some(FieldValue::Str("decoder.ipv4.trunc_pkt")));
        assert_eq!(a.body.field("anomaly.type"), Some(FieldValue::Str("decode")));
        assert_eq!(a.body.field("anomaly.layer"), Some(FieldValue::Str("ipv4")));
        assert_eq!(a.body.field("anomaly.offset"), Some(FieldValue::U64(14)));
        assert_eq!(a.body.field("anomaly.reason"), Some(FieldValue::Str("short")));
        assert_eq!(a.body.field("no.such.field"), None);
        let n = 3;
        let (kind, event, layer, offset) = (a.body.kind, a.body.event, a.body.layer, a.body.offset);
        // As the engine uses it: raised, judged and written within one call.
        fn check(lazy: AnomalyBody<LazyReason<'_>>) {
            assert!(!lazy.reason.formatted());
            assert_eq!(serde_json::to_value(&lazy).unwrap()["reason"], "3 bytes over", "written without formatting first");
            assert!(!lazy.reason.formatted());
            assert_eq!(lazy.field("anomaly.reason"), Some(FieldValue::Str("3 bytes over")));
            assert!(lazy.reason.formatted(), "a rule reading it formats it once");
        }
        check(AnomalyBody { kind, event, layer, offset, reason: LazyReason::new(format_args!("{n} bytes over")) });
    }
}
