//! DNP3 records compared by meaning with Zeek's dnp3.log for the same shared captures:
//! every response's function and IIN exactly, and every request function Zeek logged.
use otsentry_engine::{Replay, ReplayOptions};
use otsentry_pcapgen::shared::{self, zeek_log};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

fn dnp3_records(path: &Path) -> Vec<Value> {
    let mut run: Replay<Vec<u8>> = Replay::new(ReplayOptions::default(), Some(otsentry_sink::EveWriter::new(Vec::new())));
    run.run_file(path, &mut |_, _| {}).expect("replay");
    let (_, eve) = run.finish_with_output(1.0).expect("finish");
    let text = String::from_utf8(eve.expect("writer").into_inner()).expect("utf-8");
    text.lines().map(|l| serde_json::from_str::<Value>(l).expect("json")).filter(|l| l["event_type"] == "dnp3").collect()
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
            let name = d["function_name"].as_str().unwrap().to_ascii_uppercase();
            if d["type"] == "response" {
                *o_resp.entry((name, zeek_iin(&d["iin"]))).or_default() += 1;
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
        let function = d["function_name"].as_str().unwrap().to_ascii_uppercase();
        for c in d["crob"].as_array().into_iter().flatten() {
            let status = match (d["type"].as_str(), c["status"].as_u64()) {
                (Some("response"), Some(0)) => "Success".to_string(),
                (Some("response"), Some(s)) => s.to_string(),
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
        let function = d["function_name"].as_str().unwrap().to_ascii_uppercase();
        if !matches!(function.as_str(), "READ" | "RESPONSE") {
            continue; // ICSNPP's objects log covers reads and responses only
        }
        for o in d["objects"].as_array().into_iter().flatten() {
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
