//! DNP3 records compared by meaning with Zeek's dnp3.log for the same shared captures:
//! every response's function and IIN exactly, and every request function Zeek logged.
use otsentry_pcapgen::shared::{self, zeek_log};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

mod common;

fn dnp3_records(path: &Path) -> Vec<Value> {
    common::eve(path).into_iter().filter(|l| l["event_type"] == "dnp3").collect()
}

/// Zeek's numeric IIN (IIN1 in the high byte) from our bit names.
fn zeek_iin(names: &Value) -> u64 {
    let bit_of = |name: &str| (0..16).find(|&i| otsentry_proto_dnp3::app::iin_names(1 << i) == [name]);
    let bits: u64 = names.as_array().map(|a| a.iter().filter_map(|n| n.as_str().and_then(bit_of)).map(|i| 1u64 << i).sum()).unwrap_or(0);
    (bits & 0xFF) << 8 | bits >> 8
}

type Counts = BTreeMap<(String, u64), u64>;

fn zeek(path: &Path) -> (Counts, Counts) {
    let (mut requests, mut responses) = (Counts::new(), Counts::new());
    for row in zeek_log(path) {
        if row["fc_request"] != "-" {
            // Zeek abbreviates two names.
            let name = match row["fc_request"].as_str() {
                "STOP_APPL" => "STOP_APPLICATION",
                "START_APPL" => "START_APPLICATION",
                other => other,
            };
            *requests.entry((name.to_string(), 0)).or_default() += 1;
        }
        if row["fc_reply"] != "-" {
            *responses.entry((row["fc_reply"].clone(), row["iin"].parse().expect("iin"))).or_default() += 1;
        }
    }
    (requests, responses)
}

#[test]
fn zeek_dnp3_logs_are_reproduced() {
    let Some(dir) = shared::pcaps_dir() else {
        return;
    };
    let logs: Vec<_> = std::fs::read_dir(dir.join("dnp3/zeek"))
        .expect("dnp3/zeek")
        .chain(std::fs::read_dir(dir.join("dnp3/icsnpp")).expect("dnp3/icsnpp"))
        .map(|e| e.expect("entry").path())
        .filter(|p| p.to_string_lossy().ends_with(".zeek-dnp3.log"))
        .collect();
    assert!(logs.len() >= 8, "{logs:?}");
    for log in logs {
        let pcap = Path::new(log.to_str().unwrap().trim_end_matches(".zeek-dnp3.log")).to_path_buf();
        let (z_req, z_resp) = zeek(&log);
        let (mut o_req, mut o_resp) = (Counts::new(), Counts::new());
        for r in dnp3_records(&pcap) {
            let d = &r["dnp3"];
            let name = d["application"]["function_name"].as_str().unwrap().to_ascii_uppercase();
            if d["type"] != "request" {
                *o_resp.entry((name, zeek_iin(&d["iin"]["indicators"]))).or_default() += 1;
            } else {
                *o_req.entry((name, 0)).or_default() += 1;
            }
        }
        let name = pcap.file_name().unwrap().to_string_lossy().into_owned();
        // Zeek keeps one pending request per connection, so a request followed by another
        // before its reply (a confirm, a repeated command) can go unlogged: every function
        // Zeek logged, we saw at least as often.
        for (k, n) in &z_req {
            assert!(o_req.get(k).copied().unwrap_or(0) >= *n, "{name}: request {k:?}: Zeek {n}, ours {:?}", o_req.get(k));
        }
        assert_eq!(o_resp, z_resp, "{name}: responses and IIN");
        eprintln!("{name}: {} requests, {} responses as Zeek logged them", z_req.values().sum::<u64>(), z_resp.values().sum::<u64>());
    }
}

fn title(snake: &str) -> String {
    snake.split('_').map(|w| w.get(..1).unwrap_or("").to_ascii_uppercase() + w.get(1..).unwrap_or("")).collect::<Vec<_>>().join(" ")
}

#[test]
fn icsnpp_control_and_object_logs_are_reproduced() {
    let Some(dir) = shared::pcaps_dir() else {
        return;
    };
    let base = dir.join("dnp3/icsnpp/dnp3_example.pcap");
    let records = dnp3_records(&base);

    // Control relay output blocks: function, index, trip/close, operation, count, times
    // and (on responses) status.
    type Crob = (String, u64, String, String, u64, u64, u64, String);
    let mut theirs: BTreeMap<Crob, u64> = BTreeMap::new();
    for r in zeek_log(&dir.join("dnp3/icsnpp/dnp3_example.pcap.icsnpp-dnp3_control.log")) {
        let n = |k: &str| r[k].parse::<u64>().expect(k);
        let key = (
            r["function_code"].clone(),
            n("index_number"),
            r["trip_control_code"].clone(),
            r["operation_type"].clone(),
            n("execute_count"),
            n("on_time"),
            n("off_time"),
            r["status_code"].clone(),
        );
        *theirs.entry(key).or_default() += 1;
    }
    let mut ours: BTreeMap<Crob, u64> = BTreeMap::new();
    for rec in &records {
        let d = &rec["dnp3"];
        let function = d["application"]["function_name"].as_str().unwrap().to_ascii_uppercase();
        for c in d["crob"].as_array().into_iter().flatten() {
            let status = match (d["type"] != "request", c["status"].as_u64()) {
                (true, Some(0)) => "Success".to_string(),
                (true, Some(s)) => s.to_string(),
                _ => "-".to_string(),
            };
            let key = (
                function.clone(),
                c["index"].as_u64().unwrap(),
                title(c["trip_close"].as_str().unwrap()),
                title(c["operation"].as_str().unwrap()),
                c["count"].as_u64().unwrap(),
                c["on_time_ms"].as_u64().unwrap(),
                c["off_time_ms"].as_u64().unwrap(),
                status,
            );
            *ours.entry(key).or_default() += 1;
        }
    }
    assert_eq!(theirs.values().sum::<u64>(), 534);
    assert_eq!(ours, theirs, "control relay output blocks");

    // Object headers: function, count and range; class polls by their class.
    type Object = (String, String, u64, String, String);
    let mut theirs: BTreeMap<Object, u64> = BTreeMap::new();
    for r in zeek_log(&dir.join("dnp3/icsnpp/dnp3_example.pcap.icsnpp-dnp3_objects.log")) {
        let class = r["object_type"].strip_suffix(" Data").filter(|t| t.starts_with("Class")).unwrap_or("-").to_string();
        let count = r["object_count"].parse::<u64>().unwrap_or(0);
        let key = (r["function_code"].clone(), class, count, r["range_low"].clone(), r["range_high"].clone());
        *theirs.entry(key).or_default() += 1;
    }
    let mut ours: BTreeMap<Object, u64> = BTreeMap::new();
    for rec in &records {
        let d = &rec["dnp3"];
        let function = d["application"]["function_name"].as_str().unwrap().to_ascii_uppercase();
        if !matches!(function.as_str(), "READ" | "RESPONSE") {
            continue; // ICSNPP's objects log covers reads and responses only
        }
        for o in d["application"]["objects"].as_array().into_iter().flatten() {
            let (group, variation) = (o["group"].as_u64().unwrap(), o["variation"].as_u64().unwrap());
            if group == 12 {
                continue; // control blocks are ICSNPP's control log, compared above
            }
            let class = if group == 60 { format!("Class {}", variation - 1) } else { "-".into() };
            let (low, high) = match (o["start"].as_u64(), o["stop"].as_u64()) {
                (Some(a), Some(b)) => (a.to_string(), b.to_string()),
                _ => ("-".into(), "-".into()),
            };
            let count = if group == 60 { 0 } else { o["count"].as_u64().unwrap() };
            *ours.entry((function.clone(), class, count, low, high)).or_default() += 1;
        }
    }
    assert_eq!(theirs.values().sum::<u64>(), 503);
    assert_eq!(ours, theirs, "object headers");
}

/// One `event_type: dnp3` check of a suricata-verify test: how many records match, and
/// the fields they must carry (Suricata's paths and YAML values).
struct Check {
    count: usize,
    fields: Vec<(String, Value)>,
}

/// The checks of a `*.suricata-test.yaml` whose filter selects `event_type: dnp3`. The
/// files are flat `key: value` maps under `- filter:`, so a line reader suffices.
fn dnp3_checks(text: &str) -> Vec<Check> {
    let mut checks: Vec<Check> = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.starts_with("- filter:") {
            checks.push(Check { count: 0, fields: Vec::new() });
        } else if let (Some(c), Some((k, v))) = (checks.last_mut(), line.split_once(": ")) {
            let value = match v {
                "true" | "false" => Value::Bool(v == "true"),
                "''" => Value::from(""),
                _ => v.parse::<i64>().map(Value::from).or_else(|_| v.parse::<f64>().map(Value::from)).unwrap_or_else(|_| Value::from(v)),
            };
            match k {
                "count" => c.count = v.parse().expect("count"),
                "requires" | "min-version" => {}
                _ => c.fields.push((k.to_string(), value)),
            }
        }
    }
    checks.retain(|c| c.fields.iter().any(|(k, v)| k == "event_type" && v == "dnp3"));
    checks
}

/// A JSON value by a Suricata-style path (`a.b[2].c`).
fn at<'v>(mut v: &'v Value, path: &str) -> Option<&'v Value> {
    for part in path.split('.') {
        let (name, index) = match part.split_once('[') {
            Some((n, i)) => (n, Some(i.trim_end_matches(']').parse::<usize>().ok()?)),
            None => (part, None),
        };
        v = v.get(name)?;
        if let Some(i) = index {
            v = v.get(i)?;
        }
    }
    Some(v)
}

/// The field-mapping table: Suricata's EVE path → the value in our record.
fn mapped(rec: &Value, path: &str) -> Option<Value> {
    // Suricata writes a transaction's endpoints as the flow's client and server, also on
    // responses; ours are the packet's source and destination.
    let from_server = rec["dnp3"]["type"] != "request";
    let swapped = |ours: &str, theirs: &str| if from_server { theirs.to_string() } else { ours.to_string() };
    let ours = match path {
        "src_ip" => swapped("src_ip", "dest_ip"),
        "dest_ip" => swapped("dest_ip", "src_ip"),
        "src_port" => swapped("src_port", "dest_port"),
        "dest_port" => swapped("dest_port", "src_port"),
        _ => path.to_string(),
    };
    if let Some(v) = at(rec, &ours) {
        // Suricata's g2v1 point is one field `state`: the whole flags byte.
        let object = path.split(".points[").next().unwrap_or(path);
        if path.ends_with("].state") && at(rec, &format!("{object}.group")) == Some(&Value::from(2)) {
            return at(rec, &path.replace("].state", "].flags")).cloned();
        }
        return Some(v.clone());
    }
    // Suricata writes start and stop as 0 for qualifiers without a range; we leave them out.
    if path.ends_with("].start") || path.ends_with("].stop") {
        let object = path.rsplit_once('.').map_or(path, |(o, _)| o);
        return at(rec, &format!("{object}.range_code")).filter(|c| c.as_u64() > Some(5)).map(|_| Value::from(0));
    }
    None
}

fn same(a: &Value, b: &Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

#[test]
fn suricata_verify_dnp3_eve_checks_are_reproduced() {
    let Some(dir) = shared::pcaps_dir() else {
        return;
    };
    let mut checked = 0;
    for (pcap, tests) in [
        ("dnp3/suricata-verify/dnp3-eve.pcap", 1),
        ("dnp3/suricata-verify/dnp3-flood.pcap", 1),
        ("dnp3/zeek/dnp3_file_read.pcap", 1),
        ("dnp3/zeek/dnp3_select_operate.pcap", 1),
        ("dnp3/zeek/dnp3_write.pcap", 1),
    ] {
        let path = dir.join(pcap);
        let text = std::fs::read_to_string(format!("{}.suricata-test.yaml", path.display())).expect("test.yaml");
        let checks = dnp3_checks(&text);
        assert!(checks.len() >= tests, "{pcap}: {} dnp3 checks", checks.len());
        let records = dnp3_records(&path);
        // Suricata keeps no transaction for an application confirm.
        let records: Vec<&Value> = records.iter().filter(|r| r["dnp3"]["application"]["function_code"] != 0).collect();
        for check in checks {
            let wanted =
                |r: &&Value| check.fields.iter().filter(|(k, _)| k != "pcap_cnt").all(|(k, v)| mapped(r, k).is_some_and(|o| same(&o, v)));
            let matching: Vec<&Value> = records.iter().copied().filter(wanted).collect();
            match check.fields.iter().find(|(k, _)| k == "pcap_cnt").and_then(|(_, v)| v.as_u64()) {
                // Suricata logs a transaction at the packet that acknowledges its data, so
                // our record (at the data) is the latest match at or shortly before it.
                Some(theirs) => {
                    let ours = matching.iter().filter_map(|r| r["pcap_cnt"].as_u64()).filter(|&p| p <= theirs).max();
                    assert!(ours.is_some_and(|p| theirs - p <= 3), "{pcap}: no record for pcap_cnt {theirs}: {:?}", check.fields);
                }
                None => assert_eq!(matching.len(), check.count, "{pcap}: {:?}", check.fields),
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 72, "dnp3 checks compared");
}

#[test]
fn malformed_flood_and_oversized_captures_raise_their_events() {
    let Some(dir) = shared::pcaps_dir() else {
        return;
    };
    for (pcap, expected) in [
        // 33 selects, never answered: flooded once (Suricata's sid 2270000), and a burst
        // (they come milliseconds apart).
        ("dnp3/suricata-verify/dnp3-flood.pcap", vec![("dnp3.flooded", 1), ("dnp3.request_burst", 1)]),
        // 65 full transport segments: the fragment passes 63 × 255 bytes (sid 2270007).
        ("dnp3/suricata-verify/dnp3-too-long-reassembly-request.pcap", vec![("dnp3.too_long_reassembly", 1)]),
        // 197 operates with broken object data (tshark flags 195 frames malformed): each
        // is reported, by a truncated or reserved field or an object of unknown size.
        ("dnp3/openics/DNP3-Malformed.pcap", vec![("dnp3.malformed", 184), ("dnp3.unknown_object", 13)]),
        ("dnp3/iti-fwtest/direct_operate_crob_malform_but_good_crc.pcap", vec![("dnp3.malformed", 1)]),
        // A write of 65,536 empty virtual-terminal blocks (indexes 0–65535; tshark calls it
        // malformed): more points than the 16,384 one fragment may carry.
        ("dnp3/iti-fwtest/write_vto_empty_string.pcap", vec![("dnp3.too_many_points", 1)]),
        // Crafted to overflow Zeek's buffer: frames fine, nothing to report.
        ("dnp3/zeek/dnp3-flowbuffer-overflow-assert.pcap", vec![]),
    ] {
        let mut got: BTreeMap<String, u64> = BTreeMap::new();
        for r in common::eve(&dir.join(pcap)).iter().filter(|r| r["event_type"] == "anomaly") {
            *got.entry(r["anomaly"]["event"].as_str().unwrap_or_default().to_string()).or_default() += 1;
        }
        let expected: BTreeMap<String, u64> = expected.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        assert_eq!(got, expected, "{pcap}");
    }
}
