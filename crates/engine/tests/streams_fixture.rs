//! The `streams` fixture by meaning (its golden file pins the exact lines): what each of
//! its conversations must show after reassembly and detection.
use otsentry_engine::{Pipeline, PipelineOptions};
use otsentry_sink::Outputs;
use serde_json::Value;
use std::path::Path;

fn lines() -> Vec<Value> {
    let input = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/streams/input.pcap");
    let (outputs, captured) = Outputs::memory();
    let mut replay = Pipeline::new(PipelineOptions::default(), Some(outputs));
    replay.run_file(&input, &mut |_, _| {}).expect("replay");
    replay.finish(0.0);
    let text = String::from_utf8(captured.bytes()).expect("utf-8");
    text.lines().map(|l| serde_json::from_str(l).expect("json")).collect()
}

fn flow(lines: &[Value], client_port: u64) -> &Value {
    lines.iter().find(|l| l["event_type"] == "flow" && l["src_port"] == client_port).expect("flow by client port")
}

fn anomalies(lines: &[Value]) -> Vec<(&str, u64)> {
    let mut v: Vec<(&str, u64)> = lines
        .iter()
        .filter(|l| l["event_type"] == "anomaly")
        .map(|l| (l["anomaly"]["event"].as_str().unwrap(), l["anomaly"]["offset"].as_u64().unwrap()))
        .collect();
    v.sort();
    v
}

#[test]
fn split_reordered_overlapping_and_lost_segments() {
    let l = lines();
    let f = flow(&l, 49200);
    assert_eq!(f["app_proto"], "modbus", "found through a request split inside its header");
    assert_eq!(f["tcp"]["state"], "closed");
    assert_eq!((f["tcp"]["gaps"].as_u64(), f["tcp"]["missed_bytes"].as_u64()), (Some(1), Some(12)), "request 4 (12 bytes) lost");
    assert_eq!(f["tcp"]["overlap_conflicts"], 1);
    // Requests are 12 bytes: the conflict is in request 3 (offset 24..36), the gap is request 4.
    let a = anomalies(&l);
    assert!(a.contains(&("stream.reassembly_overlap_different_data", 30)), "{a:?}");
    assert!(a.contains(&("stream.reassembly_seq_gap", 36)), "{a:?}");
}

#[test]
fn midstream_pickups_get_their_client_from_port_or_content() {
    let l = lines();
    // Response first on 5020: the content makes 5020 the server.
    let odd = flow(&l, 40100);
    assert_eq!((odd["dest_port"].as_u64(), odd["tcp"]["midstream"].as_bool()), (Some(5020), Some(true)));
    assert_eq!((odd["flow"]["pkts_toserver"].as_u64(), odd["flow"]["pkts_toclient"].as_u64()), (Some(1), Some(2)));
    // Outstation first on 20000: the port makes it the server.
    let dnp = flow(&l, 40200);
    assert_eq!((dnp["dest_port"].as_u64(), dnp["app_proto"].as_str()), (Some(20000), Some("dnp3")));
}

#[test]
fn detection_events_for_odd_ports() {
    let l = lines();
    let ev: Vec<&Value> = l.iter().filter(|x| x["event_type"] == "anomaly" && x["anomaly"]["type"] == "applayer").collect();
    assert_eq!(ev.len(), 2);
    let unexpected_port = ev.iter().find(|x| x["anomaly"]["event"] == "applayer.ot_protocol_unexpected_port").expect("event");
    assert_eq!((unexpected_port["src_port"].as_u64(), unexpected_port["app_proto"].as_str()), (Some(5020), Some("modbus")));
    let not_modbus = ev.iter().find(|x| x["anomaly"]["event"] == "applayer.ot_port_unexpected_protocol").expect("event");
    assert_eq!((not_modbus["src_port"].as_u64(), not_modbus["dest_port"].as_u64()), (Some(40300), Some(502)));
    assert!(flow(&l, 40300).get("app_proto").is_none());
}

#[test]
fn ipv6_and_a_fragmented_segment_are_flows_too() {
    let l = lines();
    assert_eq!(flow(&l, 40400)["app_proto"], "s7comm");
    assert_eq!(flow(&l, 40400)["src_ip"], "fd00:20::14");
    let frag = flow(&l, 40500);
    assert_eq!((frag["app_proto"].as_str(), frag["vlan"][0].as_u64()), (Some("modbus"), Some(9)));
}
