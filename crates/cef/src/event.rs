//! An EVE record as a CEF event: alerts (the default), and by choice anomalies and the
//! sensor's stats (its health). Fields are read with the sink layer's reader, in one
//! pass over the line, never by building the record again.
use crate::cef::{cef_severity, CefEvent};
use otsentry_core::{Severity, Timestamp};
use otsentry_sink::reader::{Fields, Paths};
use std::borrow::Cow;

/// The labels of the six custom strings, in order: rule id, ATT&CK technique ids,
/// ATT&CK tactics, zones (source to destination), the protocol function, Community ID.
pub const CUSTOM_LABELS: [&str; 6] = ["ruleId", "mitreTechniqueIds", "mitreTactics", "zones", "protocolFunction", "communityId"];

const CUSTOM_KEYS: [(&str, &str); 6] =
    [("cs1", "cs1Label"), ("cs2", "cs2Label"), ("cs3", "cs3Label"), ("cs4", "cs4Label"), ("cs5", "cs5Label"), ("cs6", "cs6Label")];

/// The fields read, by slot.
const FIXED: &[&[&str]] = &[
    &["event_type"],
    &["timestamp"],
    &["src_ip"],
    &["src_port"],
    &["dest_ip"],
    &["dest_port"],
    &["proto"],
    &["app_proto"],
    &["host"],
    &["event_id"],
    &["community_id"],
    &["alert", "action"],
    &["alert", "category"],
    &["alert", "detail"],
    &["alert", "signature_id"],
    &["alert", "signature"],
    &["alert", "metadata", "severity"],
    &["alert", "metadata", "rule_id"],
    &["alert", "metadata", "mitre_technique_id"],
    &["alert", "metadata", "mitre_tactic_name"],
    &["alert", "metadata", "mitre_technique_name"],
    &["segmentation", "src_zone"],
    &["segmentation", "dst_zone"],
    &["arp", "sender_mac"],
    &["arp", "target_mac"],
    &["anomaly", "type"],
    &["anomaly", "event"],
    &["anomaly", "reason"],
    &["anomaly", "layer"],
    &["stats", "uptime"],
    &["stats", "capture", "kernel_packets"],
    &["stats", "capture", "kernel_drops"],
    &["stats", "decoder", "pkts"],
    &["asset", "change"],
    &["asset", "field"],
    &["asset", "old"],
    &["asset", "new"],
    &["asset", "macs"],
    &["asset", "roles"],
    &["asset", "vendor"],
];

const EVENT_TYPE: usize = 0;
const TIMESTAMP: usize = 1;
const SRC_IP: usize = 2;
const SRC_PORT: usize = 3;
const DEST_IP: usize = 4;
const DEST_PORT: usize = 5;
const PROTO: usize = 6;
const APP_PROTO: usize = 7;
const HOST: usize = 8;
const EVENT_ID: usize = 9;
const COMMUNITY_ID: usize = 10;
const ACTION: usize = 11;
const CATEGORY: usize = 12;
const DETAIL: usize = 13;
const SIGNATURE_ID: usize = 14;
const SIGNATURE: usize = 15;
const SEVERITY: usize = 16;
const RULE_ID: usize = 17;
const TECHNIQUE_IDS: usize = 18;
const TACTICS: usize = 19;
const TECHNIQUE_NAMES: usize = 20;
const SRC_ZONE: usize = 21;
const DST_ZONE: usize = 22;
const SENDER_MAC: usize = 23;
const TARGET_MAC: usize = 24;
const ANOMALY_TYPE: usize = 25;
const ANOMALY_EVENT: usize = 26;
const ANOMALY_REASON: usize = 27;
const ANOMALY_LAYER: usize = 28;
const UPTIME: usize = 29;
const KERNEL_PACKETS: usize = 30;
const KERNEL_DROPS: usize = 31;
const DECODED: usize = 32;
const ASSET_CHANGE: usize = 33;
const ASSET_FIELD: usize = 34;
const ASSET_OLD: usize = 35;
const ASSET_NEW: usize = 36;
const ASSET_MACS: usize = 37;
const ASSET_ROLES: usize = 38;
const ASSET_VENDOR: usize = 39;

/// Turns EVE lines into CEF events; made once per sink (the protocols' function
/// fields are found under each record type's own key: `modbus.function_name`, ...).
pub struct EveToCef {
    paths: Paths,
    fields: Fields,
    /// The record types whose object may hold a function, by slot (two slots each:
    /// `function_name`, then `function`).
    protocols: Vec<&'static str>,
    /// The sensor's name, for a line that names none.
    host: String,
}

impl EveToCef {
    /// `record_types`: every record type (the protocols among them are looked up by
    /// the line's `app_proto`).
    pub fn new(record_types: &[&'static str], host: &str) -> EveToCef {
        let mut paths: Vec<Vec<&str>> = FIXED.iter().map(|p| p.to_vec()).collect();
        for t in record_types {
            paths.push(vec![t, "function_name"]);
            paths.push(vec![t, "function"]);
        }
        EveToCef {
            paths: Paths::new(paths.iter().map(|p| p.iter().copied())),
            fields: Fields::default(),
            protocols: record_types.to_vec(),
            host: host.to_string(),
        }
    }

    /// `line` as a CEF event, or why not (a line that is not JSON, a record type that
    /// has no CEF form).
    pub fn event(&mut self, line: &[u8]) -> Result<CefEvent, String> {
        self.fields.read(&self.paths, line).map_err(|at| format!("not a JSON object (at byte {at})"))?;
        let f = &self.fields;
        let text = |i: usize| f.text(line, i).unwrap_or(Cow::Borrowed(""));
        let list = |i: usize| f.strings(line, i).join(",");
        let mut ext: Vec<(&'static str, String)> = Vec::new();
        let mut put = |k: &'static str, value: String| {
            if !value.is_empty() {
                ext.push((k, value));
            }
        };
        let rt = f.text(line, TIMESTAMP).and_then(|t| Timestamp::parse_rfc3339(&t));
        put("rt", rt.map_or(String::new(), |t| t.as_nanos().div_euclid(1_000_000).to_string()));
        put("src", text(SRC_IP).into_owned());
        put("spt", text(SRC_PORT).into_owned());
        put("dst", text(DEST_IP).into_owned());
        put("dpt", text(DEST_PORT).into_owned());
        put("smac", text(SENDER_MAC).into_owned());
        put("dmac", text(TARGET_MAC).into_owned());
        put("proto", text(PROTO).into_owned());
        let app = text(APP_PROTO);
        put("app", app.to_string());
        let event_type = text(EVENT_TYPE);
        let (signature_id, name, severity) = match &*event_type {
            "alert" => {
                put("act", text(ACTION).into_owned());
                put("cat", text(CATEGORY).into_owned());
                put("msg", text(DETAIL).into_owned());
                let severity = f
                    .strings(line, SEVERITY)
                    .first()
                    .and_then(|s| Severity::from_name(s))
                    .map_or(cef_severity(Severity::Medium), cef_severity);
                (text(SIGNATURE_ID).into_owned(), text(SIGNATURE).into_owned(), severity)
            }
            "anomaly" => {
                put("cat", text(ANOMALY_TYPE).into_owned());
                put(
                    "msg",
                    [text(ANOMALY_LAYER), text(ANOMALY_REASON)].iter().filter(|t| !t.is_empty()).cloned().collect::<Vec<_>>().join(": "),
                );
                let event = text(ANOMALY_EVENT).into_owned();
                (event.clone(), format!("Anomaly: {event}"), cef_severity(Severity::Low))
            }
            "stats" => {
                put("cat", "health".to_string());
                put(
                    "msg",
                    format!(
                        "uptime={} packets={} kernel_packets={} kernel_drops={}",
                        text(UPTIME),
                        text(DECODED),
                        text(KERNEL_PACKETS),
                        text(KERNEL_DROPS)
                    ),
                );
                ("otsentry.stats".to_string(), "Sensor statistics".to_string(), cef_severity(Severity::Info))
            }
            "asset" => {
                put("cat", "asset".to_string());
                put("smac", f.strings(line, ASSET_MACS).first().map_or(String::new(), |m| m.to_string()));
                let change = text(ASSET_CHANGE).into_owned();
                let field = text(ASSET_FIELD);
                let about = format!("roles={} vendor={}", list(ASSET_ROLES), text(ASSET_VENDOR));
                let msg = if field.is_empty() {
                    about
                } else {
                    let (old, new) = (text(ASSET_OLD), text(ASSET_NEW));
                    let or_none = |v: &str| if v.is_empty() { "(none)".to_string() } else { v.to_string() };
                    format!("{field}: {} -> {}; {about}", or_none(&old), or_none(&new))
                };
                put("msg", msg);
                // What a device says of itself, or the MAC it sends from, changing is worth a look.
                let severity = if matches!(&*change, "identity" | "mac" | "vendor") { Severity::Low } else { Severity::Info };
                let name = if field.is_empty() { format!("Asset {change}") } else { format!("Asset {change}: {field}") };
                (format!("otsentry.asset.{change}"), name, cef_severity(severity))
            }
            other => return Err(format!("a {other:?} record has no CEF form (alert, anomaly, stats, asset)")),
        };
        let host = f.text(line, HOST).filter(|h| !h.is_empty()).map_or_else(|| self.host.clone(), Cow::into_owned);
        put("dvchost", host);
        put("externalId", text(EVENT_ID).into_owned());
        let zones = match (f.text(line, SRC_ZONE), f.text(line, DST_ZONE)) {
            (Some(s), Some(d)) => format!("{s} -> {d}"),
            _ => String::new(),
        };
        let function = self.protocols.iter().position(|p| *p == app).map_or(String::new(), |n| {
            let slot = FIXED.len() + 2 * n;
            f.text(line, slot).or_else(|| f.text(line, slot + 1)).map_or(String::new(), Cow::into_owned)
        });
        let values = [list(RULE_ID), list(TECHNIQUE_IDS), list(TACTICS), zones, function, text(COMMUNITY_ID).into_owned()];
        for ((value, label), (key, label_key)) in values.into_iter().zip(CUSTOM_LABELS).zip(CUSTOM_KEYS) {
            if !value.is_empty() {
                put(key, value);
                put(label_key, label.to_string());
            }
        }
        let names = list(TECHNIQUE_NAMES);
        if !names.is_empty() {
            put("flexString1", names);
            put("flexString1Label", "mitreTechniqueNames".to_string());
        }
        Ok(CefEvent { signature_id, name, severity, extension: ext })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cef::{format, tests::parse};

    const TYPES: &[&str] = &["alert", "anomaly", "flow", "modbus", "dnp3", "stats", "segmentation"];

    #[test]
    fn an_eve_alert_becomes_a_cef_event_with_every_key() {
        let line = br#"{"timestamp":"2026-01-15T08:00:00.120000+00:00","flow_id":5,"pcap_cnt":13,"event_type":"alert","src_ip":"10.10.9.99","src_port":50500,"dest_ip":"10.10.2.10","dest_port":502,"proto":"TCP","app_proto":"modbus","community_id":"1:Lrra=","alert":{"action":"allowed","gid":1,"signature_id":4100011,"rev":1,"signature":"Modbus: write | from a laptop","category":"Impair Process Control","severity":1,"metadata":{"mitre_technique_id":["T0855","T0836"],"mitre_technique_name":["Unauthorized Command Message","Modify Parameter"],"mitre_tactic_name":["Impair Process Control"],"severity":["high"],"rule_id":["modbus.write.unauthorized_source"]},"detail":"function=6 (write_single_register)\nsecond"},"segmentation":{"src_zone":"it","dst_zone":"cell-a"},"modbus":{"function":6,"function_name":"write_single_register"},"host":"s1","event_id":"979b0942-be12-80c0-b491-1d730d8b2819"}"#;
        let e = EveToCef::new(TYPES, "fallback").event(line).unwrap();
        let (header, ext) = parse(&format("otsentry", "otsentry", "0.1.0", &e, 8192));
        assert_eq!(header, ["0", "otsentry", "otsentry", "0.1.0", "4100011", "Modbus: write | from a laptop", "8"]);
        let get = |k: &str| ext.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str());
        assert_eq!(get("rt"), Some("1768464000120"));
        assert_eq!((get("src"), get("spt"), get("dst"), get("dpt")), (Some("10.10.9.99"), Some("50500"), Some("10.10.2.10"), Some("502")));
        assert_eq!((get("proto"), get("app"), get("act")), (Some("TCP"), Some("modbus"), Some("allowed")));
        assert_eq!(get("msg"), Some("function=6 (write_single_register)\nsecond"));
        assert_eq!((get("dvchost"), get("externalId")), (Some("s1"), Some("979b0942-be12-80c0-b491-1d730d8b2819")));
        assert_eq!((get("cs1"), get("cs1Label")), (Some("modbus.write.unauthorized_source"), Some("ruleId")));
        assert_eq!((get("cs2"), get("cs3")), (Some("T0855,T0836"), Some("Impair Process Control")));
        assert_eq!((get("cs4"), get("cs4Label")), (Some("it -> cell-a"), Some("zones")));
        assert_eq!((get("cs5"), get("cs5Label")), (Some("write_single_register"), Some("protocolFunction")));
        assert_eq!((get("cs6"), get("cs6Label")), (Some("1:Lrra="), Some("communityId")));
        assert_eq!(get("flexString1"), Some("Unauthorized Command Message,Modify Parameter"));
        assert_eq!(get("smac"), None, "no MACs in a Modbus alert");
    }

    #[test]
    fn anomalies_and_stats_have_a_form_and_other_records_do_not() {
        let mut to = EveToCef::new(TYPES, "sensor-9");
        let anomaly = br#"{"timestamp":"2026-01-15T08:00:00+00:00","event_type":"anomaly","anomaly":{"type":"decode","event":"decoder.ipv4.trunc_pkt","layer":"ipv4","offset":14,"reason":"needs 20 bytes, 12 present"},"event_id":"f922f0d5-52ff-8913-b288-f38c61a977be"}"#;
        let e = to.event(anomaly).unwrap();
        assert_eq!((e.signature_id.as_str(), e.severity), ("decoder.ipv4.trunc_pkt", 3));
        let get = |k: &str| e.extension.iter().find(|(key, _)| *key == k).map(|(_, v)| v.as_str());
        assert_eq!((get("cat"), get("msg"), get("dvchost")), (Some("decode"), Some("ipv4: needs 20 bytes, 12 present"), Some("sensor-9")));
        let stats = br#"{"timestamp":"2026-01-15T08:00:00+00:00","event_type":"stats","stats":{"uptime":4,"capture":{"kernel_packets":33,"kernel_drops":2},"decoder":{"pkts":33}},"event_id":"f922f0d5-52ff-8913-b288-f38c61a977be"}"#;
        let e = to.event(stats).unwrap();
        assert_eq!(e.severity, 1);
        assert!(e.extension.contains(&("msg", "uptime=4 packets=33 kernel_packets=33 kernel_drops=2".to_string())), "{e:?}");
        assert!(to.event(br#"{"event_type":"flow"}"#).unwrap_err().contains("\"flow\" record has no CEF form"));
        let asset = br#"{"timestamp":"2026-01-15T08:00:00.24+00:00","event_type":"asset","src_ip":"10.40.2.20","asset":{"ip":"10.40.2.20","change":"identity","field":"firmware","old":"V2.8.3","new":"V2.9.0","macs":["02:00:00:00:00:01"],"roles":["plc"],"identity":{"firmware":"V2.9.0"}},"event_id":"f922f0d5-52ff-8913-b288-f38c61a977be"}"#;
        let e = to.event(asset).unwrap();
        assert_eq!((e.signature_id.as_str(), e.name.as_str(), e.severity), ("otsentry.asset.identity", "Asset identity: firmware", 3));
        let ext: std::collections::BTreeMap<_, _> = e.extension.iter().cloned().collect();
        assert_eq!(ext["msg"], "firmware: V2.8.3 -> V2.9.0; roles=plc vendor=");
        assert_eq!((ext["src"].as_str(), ext["smac"].as_str(), ext["cat"].as_str()), ("10.40.2.20", "02:00:00:00:00:01", "asset"));
        assert!(to.event(b"not json").unwrap_err().contains("at byte 0"));
    }
}
