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
/// Owned, because it outlives the packet buffer on its way to a sink.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Anomaly {
    pub header: EventHeader,
    pub body: AnomalyBody,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AnomalyBody {
    #[serde(rename = "type")]
    pub kind: AnomalyKind,
    /// Dotted event name, e.g. `decoder.ipv4.trunc_pkt`.
    pub event: &'static str,
    pub layer: Layer,
    /// Byte offset of the problem within the captured frame (or stream, for streams).
    pub offset: usize,
    /// Why, in words, with the numbers that matter.
    pub reason: String,
}

impl Anomaly {
    pub fn new(header: EventHeader, kind: AnomalyKind, event: &'static str, layer: Layer, offset: usize, reason: String) -> Self {
        Anomaly { header, body: AnomalyBody { kind, event, layer, offset, reason } }
    }

    pub fn decode(header: EventHeader, event: &'static str, layer: Layer, offset: usize, reason: String) -> Self {
        Anomaly { header, body: AnomalyBody { kind: AnomalyKind::Decode, event, layer, offset, reason } }
    }
}

impl Record for Anomaly {
    type Body = AnomalyBody;
    type Extra = ();
    fn event_type(&self) -> &'static str {
        "anomaly"
    }
    fn header(&self) -> &EventHeader {
        &self.header
    }
    fn body(&self) -> &AnomalyBody {
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

/// What rules can read from an anomaly (`anomaly.event: modbus.*`).
pub static ANOMALY_SCHEMA: Schema = Schema { event_type: "anomaly", fields: &FIELDS, groups: &[], keys: &[] };

impl FieldAccess for AnomalyBody {
    fn schema(&self) -> &'static Schema {
        &ANOMALY_SCHEMA
    }
    fn value(&self, id: FieldId, _elem: usize) -> Option<FieldValue<'_>> {
        Some(match id.0 {
            EVENT => FieldValue::Str(self.event),
            KIND => FieldValue::Str(self.kind.as_str()),
            LAYER => FieldValue::Str(self.layer.as_str()),
            OFFSET => FieldValue::U64(self.offset as u64),
            REASON => FieldValue::Str(&self.reason),
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
    }
}
