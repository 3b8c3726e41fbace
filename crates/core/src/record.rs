use crate::field::{FieldAccess, FieldValue};
use crate::flow::IpProto;
use crate::time::Timestamp;
use serde::Serialize;
use std::net::IpAddr;

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
    /// VLAN ids, outermost first.
    pub vlan: Vec<u16>,
    pub community_id: Option<String>,
}

impl FieldAccess for EventHeader {
    fn field(&self, name: &str) -> Option<FieldValue<'_>> {
        match name {
            "src_ip" => self.src_ip.map(FieldValue::Ip),
            "dest_ip" => self.dest_ip.map(FieldValue::Ip),
            "src_port" => self.src_port.map(|p| FieldValue::U64(u64::from(p))),
            "dest_port" => self.dest_port.map(|p| FieldValue::U64(u64::from(p))),
            "proto" => self.proto.map(|p| FieldValue::U64(u64::from(p.0))),
            "flow_id" => self.flow_id.map(FieldValue::U64),
            "community_id" => self.community_id.as_deref().map(FieldValue::Str),
            _ => None,
        }
    }
}

/// Anything a sink can write as one EVE line: the common header, then `event_type`'s
/// body under a key of the same name.
pub trait Record {
    type Body: Serialize;
    fn event_type(&self) -> &'static str;
    fn header(&self) -> &EventHeader;
    fn body(&self) -> &Self::Body;
}
