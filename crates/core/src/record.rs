use crate::dissect::PduEvent;
use crate::flow::IpProto;
use crate::time::Timestamp;
use serde::Serialize;
use std::net::IpAddr;
use std::sync::Arc;

/// The fields every EVE line carries before its event-specific object, in Suricata's order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EventHeader {
    pub timestamp: Timestamp,
    pub flow_id: Option<u64>,
    /// 1-based record number within the capture file being replayed.
    pub pcap_cnt: Option<u64>,
    pub src_ip: Option<IpAddr>,
    pub src_port: Option<u16>,
    pub dest_ip: Option<IpAddr>,
    pub dest_port: Option<u16>,
    pub proto: Option<IpProto>,
    /// The flow's application protocol, once detected.
    pub app_proto: Option<&'static str>,
    /// VLAN ids, outermost first.
    pub vlan: Vlans,
    pub community_id: Option<String>,
    /// The capture the record was read from, as the user named it (Suricata's field).
    pub pcap_filename: Option<Arc<str>>,
}

/// Up to three VLAN ids, outermost first, kept inline (every record has a header).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Vlans {
    ids: [u16; 3],
    len: u8,
}

impl Vlans {
    /// The first three of `ids` (decoding stops at three tags).
    pub fn from_slice(ids: &[u16]) -> Vlans {
        let mut v = Vlans::default();
        for (slot, id) in v.ids.iter_mut().zip(ids) {
            *slot = *id;
            v.len += 1;
        }
        v
    }

    pub fn as_slice(&self) -> &[u16] {
        self.ids.get(..usize::from(self.len)).unwrap_or_default()
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl Serialize for Vlans {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.as_slice().serialize(s)
    }
}

/// Anything a sink can write as one EVE line: the common header, then `event_type`'s
/// body under a key of the same name, then an optional second object (a flow's `tcp`).
/// An alert's evidence: the pcap holding its flow's packets before it (its own last)
/// and some after; `frame` is the alerting packet's frame number in that file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Evidence {
    pub pcap: String,
    pub first_pcap_cnt: u64,
    pub frame: u64,
}

pub trait Record {
    type Body: Serialize + ?Sized;
    type Extra: Serialize + ?Sized;
    fn event_type(&self) -> &'static str;
    fn header(&self) -> &EventHeader;
    fn body(&self) -> &Self::Body;
    fn extra(&self) -> Option<(&'static str, &Self::Extra)> {
        None
    }
    /// An alert's evidence pcap (written after the event id is taken: where evidence
    /// is kept does not change which alert it is).
    fn evidence(&self) -> Option<&Evidence> {
        None
    }
}

/// A protocol event borrowed from a stream, framed by the header of its flow and packet.
pub struct Framed<'e, E: ?Sized> {
    pub header: &'e EventHeader,
    pub event: &'e E,
}

impl<E: PduEvent + ?Sized> Record for Framed<'_, E> {
    type Body = E::Body;
    type Extra = ();
    fn event_type(&self) -> &'static str {
        self.event.event_type()
    }
    fn header(&self) -> &EventHeader {
        self.header
    }
    fn body(&self) -> &E::Body {
        self.event.body()
    }
}

/// Opens the JSON object of a record body whose fields are chosen as it is written.
/// Fields go through `serialize_field` with our static names, which the sink copies
/// without an escaping scan. The count is a hint JSON ignores; it must not be 0, which
/// would make serde_json close the object at once.
pub fn open_object<S: serde::Serializer>(s: S) -> Result<S::SerializeStruct, S::Error> {
    s.serialize_struct("record", 1)
}
