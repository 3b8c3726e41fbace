//! EVE JSON lines in Suricata's layout: the common header, `event_type`, then an object
//! named after the event type. One writer for every record type.
use otsentry_core::{EventHeader, Record};
use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;
use std::io::{self, Write};

/// The record types EVE carries, for `--eve-types`.
pub const EVE_TYPES: [&str; 8] = ["alert", "anomaly", "flow", "modbus", "dnp3", "s7comm", "s7comm_plus", "cotp"];

/// Writes one JSON object per line to any `Write` (a buffered file or stdout), of every
/// record type or of the chosen ones.
pub struct EveWriter<W: Write> {
    out: W,
    written: u64,
    /// Record types to write (`None`: all).
    types: Option<Vec<&'static str>>,
}

struct Line<'r, R: Record>(&'r R);

fn entries<M: SerializeMap>(map: &mut M, h: &EventHeader, event_type: &str) -> Result<(), M::Error> {
    map.serialize_entry("timestamp", &h.timestamp)?;
    if let Some(id) = h.flow_id {
        map.serialize_entry("flow_id", &id)?;
    }
    if let Some(n) = h.pcap_cnt {
        map.serialize_entry("pcap_cnt", &n)?;
    }
    map.serialize_entry("event_type", event_type)?;
    if !h.vlan.is_empty() {
        map.serialize_entry("vlan", &h.vlan)?;
    }
    if let Some(ip) = h.src_ip {
        map.serialize_entry("src_ip", &ip)?;
    }
    if let Some(p) = h.src_port {
        map.serialize_entry("src_port", &p)?;
    }
    if let Some(ip) = h.dest_ip {
        map.serialize_entry("dest_ip", &ip)?;
    }
    if let Some(p) = h.dest_port {
        map.serialize_entry("dest_port", &p)?;
    }
    if let Some(proto) = h.proto {
        match proto.eve_name() {
            Some(name) => map.serialize_entry("proto", name)?,
            None => map.serialize_entry("proto", &proto.0.to_string())?,
        }
    }
    if let Some(app) = h.app_proto {
        map.serialize_entry("app_proto", app)?;
    }
    if let Some(cid) = &h.community_id {
        map.serialize_entry("community_id", cid)?;
    }
    if let Some(name) = &h.pcap_filename {
        map.serialize_entry("pcap_filename", &**name)?;
    }
    Ok(())
}

impl<R: Record> Serialize for Line<'_, R> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        entries(&mut map, self.0.header(), self.0.event_type())?;
        map.serialize_entry(self.0.event_type(), self.0.body())?;
        if let Some((key, extra)) = self.0.extra() {
            map.serialize_entry(key, extra)?;
        }
        map.end()
    }
}

impl<W: Write> EveWriter<W> {
    pub fn new(out: W) -> Self {
        EveWriter { out, written: 0, types: None }
    }

    /// Only records of these types (names from [`EVE_TYPES`]; others are ignored).
    pub fn with_types(mut self, types: &[&str]) -> Self {
        self.types = Some(EVE_TYPES.iter().copied().filter(|t| types.contains(t)).collect());
        self
    }

    /// Whether records of `event_type` are written: callers skip building the others.
    #[inline]
    pub fn wants(&self, event_type: &str) -> bool {
        self.types.as_ref().is_none_or(|t| t.contains(&event_type))
    }

    pub fn write<R: Record>(&mut self, record: &R) -> io::Result<()> {
        if !self.wants(record.event_type()) {
            return Ok(());
        }
        serde_json::to_writer(&mut self.out, &Line(record))?;
        self.out.write_all(b"\n")?;
        self.written += 1;
        Ok(())
    }

    pub fn written(&self) -> u64 {
        self.written
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    pub fn into_inner(self) -> W {
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use otsentry_core::{Anomaly, IpProto, Layer, Timestamp};

    #[test]
    fn writes_only_the_chosen_types() {
        let a = Anomaly::decode(EventHeader::default(), "decoder.tcp.pkt_too_small", Layer::Tcp, 34, "short".into());
        let mut w = EveWriter::new(Vec::new()).with_types(&["alert", "flow"]);
        assert!(w.wants("alert") && !w.wants("anomaly"));
        w.write(&a).unwrap();
        assert_eq!((w.written(), w.into_inner().len()), (0, 0));
        let mut all = EveWriter::new(Vec::new());
        all.write(&a).unwrap();
        assert_eq!(all.written(), 1);
    }

    #[test]
    fn writes_suricata_layout() {
        let header = EventHeader {
            timestamp: Timestamp::from_secs_nanos(1_259_098_029, 534_255_000),
            pcap_cnt: Some(7),
            src_ip: Some("10.0.0.1".parse().unwrap()),
            src_port: Some(40000),
            dest_ip: Some("10.0.0.2".parse().unwrap()),
            dest_port: Some(502),
            proto: Some(IpProto::TCP),
            vlan: vec![100],
            ..Default::default()
        };
        let a = Anomaly::decode(header, "decoder.tcp.pkt_too_small", Layer::Tcp, 34, "needs 20 bytes, 8 present".into());
        let mut w = EveWriter::new(Vec::new());
        w.write(&a).unwrap();
        let text = String::from_utf8(w.into_inner()).unwrap();
        assert_eq!(
            text,
            concat!(
                r#"{"timestamp":"2009-11-24T21:27:09.534255+00:00","pcap_cnt":7,"event_type":"anomaly","vlan":[100],"#,
                r#""src_ip":"10.0.0.1","src_port":40000,"dest_ip":"10.0.0.2","dest_port":502,"proto":"TCP","#,
                r#""anomaly":{"type":"decode","event":"decoder.tcp.pkt_too_small","layer":"tcp","offset":34,"reason":"needs 20 bytes, 8 present"}}"#,
                "\n"
            )
        );
    }

    /// A dissector's borrowed event, framed by its flow's header, is one EVE line.
    #[test]
    fn writes_a_framed_protocol_event() {
        use otsentry_core::{FieldAccess, FieldDef, FieldId, FieldType, FieldValue, Framed, PduEvent, Schema};
        #[derive(serde::Serialize)]
        struct Body<'a> {
            function: u8,
            #[serde(with = "serde_bytes_hex")]
            data: &'a [u8],
        }
        mod serde_bytes_hex {
            pub(super) fn serialize<S: serde::Serializer>(b: &&[u8], s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(&b.iter().map(|x| format!("{x:02x}")).collect::<String>())
            }
        }
        struct Write<'a>(Body<'a>);
        static TOY: Schema =
            Schema { event_type: "toy", fields: &[FieldDef::one("toy.function", FieldType::Uint)], groups: &[], keys: &[] };
        impl FieldAccess for Write<'_> {
            fn schema(&self) -> &'static Schema {
                &TOY
            }
            fn value(&self, id: FieldId, _elem: usize) -> Option<FieldValue<'_>> {
                (id.0 == 0).then_some(FieldValue::U64(u64::from(self.0.function)))
            }
        }
        impl<'a> PduEvent for Write<'a> {
            type Body = Body<'a>;
            fn event_type(&self) -> &'static str {
                "toy"
            }
            fn body(&self) -> &Body<'a> {
                &self.0
            }
        }
        let stream = [0x06u8, 0x00, 0x10];
        let event = Write(Body { function: 6, data: &stream[1..] });
        let header = EventHeader { flow_id: Some(42), app_proto: Some("modbus"), community_id: Some("1:x".into()), ..Default::default() };
        let framed = Framed { header: &header, event: &event };
        assert_eq!(framed.event.field("toy.function"), Some(FieldValue::U64(6)));
        let mut w = EveWriter::new(Vec::new());
        w.write(&framed).unwrap();
        let text = String::from_utf8(w.into_inner()).unwrap();
        assert_eq!(
            text,
            concat!(
                r#"{"timestamp":"1970-01-01T00:00:00.000000+00:00","flow_id":42,"event_type":"toy","app_proto":"modbus","#,
                r#""community_id":"1:x","toy":{"function":6,"data":"0010"}}"#,
                "\n"
            )
        );
    }
}
