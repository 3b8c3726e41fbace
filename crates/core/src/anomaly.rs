use crate::field::{FieldAccess, FieldValue};
use crate::record::{EventHeader, Record};
use serde::Serialize;

/// The layer at which decoding stopped or a problem was seen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
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

impl FieldAccess for Anomaly {
    fn field(&self, name: &str) -> Option<FieldValue<'_>> {
        Some(match name {
            "anomaly.event" => FieldValue::Str(self.body.event),
            "anomaly.layer" => FieldValue::Str(self.body.layer.as_str()),
            "anomaly.offset" => FieldValue::U64(self.body.offset as u64),
            "anomaly.reason" => FieldValue::Str(&self.body.reason),
            other => return self.header.field(other),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_readable_by_name() {
        let h = EventHeader { src_port: Some(502), ..Default::default() };
        let a = Anomaly::decode(h, "decoder.ipv4.trunc_pkt", Layer::Ipv4, 14, "short".into());
        assert_eq!(a.field("anomaly.event"), Some(FieldValue::Str("decoder.ipv4.trunc_pkt")));
        assert_eq!(a.field("anomaly.offset"), Some(FieldValue::U64(14)));
        assert_eq!(a.field("src_port"), Some(FieldValue::U64(502)));
        assert_eq!(a.field("dest_port"), None);
        assert_eq!(a.field("no.such.field"), None);
    }
}
