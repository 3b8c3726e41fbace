//! Suricata's own verification tests for its Modbus and DNP3 keywords (suricata-verify,
//! beside the shared captures): each rule file is converted by `otsentry rules import`,
//! the capture replayed with the converted rules, and every check of the test's YAML
//! (a filter's fields and how many events it must select) evaluated on our EVE output.
//! Where Suricata names a field differently, `holds` says how ours is read.
use otsentry_pcapgen::shared::pcaps_dir;
use serde_json::Value as Json;
use serde_yaml_ng::Value as Yaml;
use std::path::{Path, PathBuf};
use std::process::Command;

fn otsentry(args: &[&str]) -> std::process::Output {
    let out = Command::new(env!("CARGO_BIN_EXE_otsentry")).args(args).output().expect("run otsentry");
    assert!(out.status.success(), "otsentry {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out
}

fn temp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("otsentry-verify-{}-{name}", std::process::id()))
}

/// Suricata's Modbus function names (sawp's) and their codes.
fn modbus_code(name: &str) -> Option<u64> {
    let names = [
        ("RdCoils", 1),
        ("RdDiscreteInputs", 2),
        ("RdHoldRegs", 3),
        ("RdInputRegs", 4),
        ("WrSingleCoil", 5),
        ("WrSingleReg", 6),
        ("RdExcStatus", 7),
        ("Diagnostic", 8),
        ("GetCommEventCtr", 11),
        ("GetCommEventLog", 12),
        ("WrMultCoils", 15),
        ("WrMultRegs", 16),
        ("ReportServerID", 17),
        ("RdFileRec", 20),
        ("WrFileRec", 21),
        ("MaskWrReg", 22),
        ("RdWrMultRegs", 23),
        ("RdFIFOQueue", 24),
        ("MEI", 43),
    ];
    names.iter().find(|(n, _)| *n == name).map(|&(_, c)| c)
}

/// The value at a dotted path with `[i]` indexes.
fn at<'a>(ev: &'a Json, path: &str) -> Option<&'a Json> {
    path.split('.').try_fold(ev, |v, part| match part.split_once('[') {
        Some((name, idx)) => v.get(name)?.get(idx.trim_end_matches(']').parse::<usize>().ok()?),
        None => v.get(part),
    })
}

fn same(ours: &Json, want: &Yaml) -> bool {
    match want {
        Yaml::Bool(b) => ours.as_bool() == Some(*b),
        Yaml::Number(n) => match (ours.as_f64(), n.as_f64()) {
            (Some(a), Some(b)) => a == b,
            _ => false,
        },
        Yaml::String(s) => ours.as_str() == Some(s.as_str()),
        _ => false,
    }
}

/// A TCP segment as tshark reads it: (frame, source port, seq, payload length, ack).
type Segment = (u64, u16, u64, u64, u64);

fn segments(pcap: &Path) -> Vec<Segment> {
    let out = Command::new("tshark")
        .args(["-n", "-r"])
        .arg(pcap)
        .args([
            "-Y",
            "tcp",
            "-T",
            "fields",
            "-e",
            "frame.number",
            "-e",
            "tcp.srcport",
            "-e",
            "tcp.seq_raw",
            "-e",
            "tcp.len",
            "-e",
            "tcp.ack_raw",
        ])
        .output()
        .expect("run tshark (scripts/deps installs it)");
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let c: Vec<u64> = l.split('\t').map(|f| f.parse().unwrap_or(0)).collect();
            (c[0], c[1] as u16, c[2], c[3], c[4])
        })
        .collect()
}

/// Suricata parses a TCP payload once the receiver acknowledges it, and inspects a
/// direction's transactions on that direction's packets: its alert names the first
/// packet our way after the acknowledgement. Ours names the packet that carried the
/// data. `frame` holds for our event when it is that packet.
fn suricata_frame(tcp: &[Segment], ours: u64, frame: u64) -> bool {
    let Some(&(_, port, seq, len, _)) = tcp.iter().find(|s| s.0 == ours) else { return false };
    let end = seq.wrapping_add(len) as u32;
    let acked = |s: &&Segment| s.1 != port && s.0 > ours && (s.4 as u32).wrapping_sub(end) < 1 << 31;
    let Some(ack) = tcp.iter().find(acked) else { return false };
    tcp.iter().find(|s| s.1 == port && s.0 > ack.0).is_some_and(|s| s.0 == frame)
}

/// Whether our event meets one of a filter's `key: value` pairs.
fn holds(ev: &Json, key: &str, want: &Yaml, linktype: u32, tcp: &[Segment]) -> bool {
    let text = want.as_str().unwrap_or_default();
    let function = at(ev, "modbus.function").and_then(Json::as_u64);
    let status = at(ev, "modbus.status").and_then(Json::as_str).unwrap_or_default();
    // Suricata's `request`/`response` objects exist when that side was seen.
    // (Our alerts are raised on the request's arrival, so they read it whole.)
    let alert = at(ev, "event_type").and_then(Json::as_str) == Some("alert");
    let side_seen = match key.split('.').nth(1) {
        _ if !key.starts_with("modbus.") || alert => true,
        Some("request") => status != "unsolicited",
        Some("response") => !matches!(status, "request" | "unanswered"),
        _ => true,
    };
    if !side_seen {
        return false;
    }
    match key {
        "pcap_cnt" if alert => {
            let ours = at(ev, "pcap_cnt").and_then(Json::as_u64).unwrap_or(0);
            want.as_u64().is_some_and(|frame| frame == ours || suricata_frame(tcp, ours, frame))
        }
        // Suricata logs a Modbus transaction's request and response apart; ours is one
        // object with the function, its access and table.
        "modbus.request.access_type" | "modbus.response.access_type" => {
            let mut parts = text.split(" | ");
            let access = parts.next().unwrap_or_default().to_ascii_lowercase();
            let table = parts.next().map(|t| match t {
                "COILS" => "coils",
                "DISCRETES" => "discrete_inputs",
                "HOLDING" => "holding_registers",
                _ => "input_registers",
            });
            let ours = at(ev, "modbus.access").and_then(Json::as_str).unwrap_or_default();
            ours.split('_').any(|a| a == access) && table.is_none_or(|t| at(ev, "modbus.data_type").and_then(Json::as_str) == Some(t))
        }
        "modbus.request.category" | "modbus.response.category" => {
            assert_eq!(text, "PUBLIC_ASSIGNED", "only this category is checked upstream");
            function.is_some_and(|f| matches!(f, 1..=24 | 43))
        }
        "modbus.request.function_code" | "modbus.response.function_code" => function.is_some() && function == modbus_code(text),
        // Suricata's transaction number in the flow; ours counts from 1 the same way.
        "modbus.id" => at(ev, "modbus.tx_id").is_some_and(|v| same(v, want)),
        // IIN belong to responses: ours sit on the DNP3 object itself.
        k if k.starts_with("dnp3.response.") || k.starts_with("dnp3.request.") => {
            let rest = k.split_once('.').and_then(|(_, r)| r.split_once('.')).map_or("", |(_, r)| r);
            at(ev, &format!("dnp3.{rest}")).is_some_and(|v| same(v, want))
        }
        // Our records carry no link type; it is the capture's.
        "packet_info.linktype_name" => text == "EN10MB" && linktype == 1,
        k => at(ev, k).is_some_and(|v| same(v, want)),
    }
}

fn linktype(pcap: &Path) -> u32 {
    let head = std::fs::read(pcap).unwrap();
    u32::from_le_bytes(head[20..24].try_into().unwrap())
}

/// Converts `rules`, replays `pcap` with them (and `extra` flags), and checks every
/// filter of `test`.
fn verify(dir: &Path, pcap: &str, rules: &str, test: &str, extra: &[&str]) {
    let pcap = dir.join(pcap);
    let converted = temp(&format!("{rules}.yaml"));
    let rules_path = dir.join(rules).display().to_string();
    let out = otsentry(&["rules", "import", &rules_path, "--out", &converted.display().to_string()]);
    let report = String::from_utf8_lossy(&out.stderr);
    assert!(report.contains(" 0 skipped"), "{rules}: every rule converts: {report}");
    let mut args = vec!["replay", "-q", "--eve", "-", "--rules"];
    let converted_s = converted.display().to_string();
    let pcap_s = pcap.display().to_string();
    args.extend([converted_s.as_str(), pcap_s.as_str()]);
    args.extend(extra);
    let eve = String::from_utf8(otsentry(&args).stdout).unwrap();
    let events: Vec<Json> = eve.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let spec: Yaml = serde_yaml_ng::from_str(&std::fs::read_to_string(dir.join(test)).unwrap()).unwrap();
    let checks = spec["checks"].as_sequence().unwrap();
    assert!(!checks.is_empty());
    let link = linktype(&pcap);
    let tcp = segments(&pcap);
    for check in checks {
        let filter = &check["filter"];
        let want = filter["count"].as_u64().unwrap();
        let conds = filter["match"].as_mapping().unwrap();
        let got = events.iter().filter(|ev| conds.iter().all(|(k, v)| holds(ev, k.as_str().unwrap(), v, link, &tcp))).count() as u64;
        assert_eq!(got, want, "{test}: filter {conds:?}");
    }
    let _ = std::fs::remove_file(converted);
}

#[test]
fn modbus_keywords_reproduce_suricata_verify() {
    let Some(pcaps) = pcaps_dir() else { return };
    let dir = pcaps.join("modbus/suricata-verify");
    verify(&dir, "modbus.pcap", "modbus.pcap.suricata-test.rules", "modbus.pcap.suricata-test.yaml", &[]);
}

#[test]
fn dnp3_keywords_reproduce_suricata_verify() {
    let Some(pcaps) = pcaps_dir() else { return };
    let dir = pcaps.join("dnp3/suricata-verify");
    for t in ["dnp3_data-alert", "dnp3_func-alert", "dnp3_obj-alert", "ind-keyword"] {
        let rules = format!("dnp3-eve.pcap.suricata-{t}.test.rules");
        verify(&dir, "dnp3-eve.pcap", &rules, &format!("dnp3-eve.pcap.suricata-{t}.test.yaml"), &[]);
    }
    // Upstream's configuration for this test caps DNP3 objects at 7.
    let events = "dnp3-eve.pcap.suricata-max-objects.dnp3-events.rules";
    verify(&dir, "dnp3-eve.pcap", events, "dnp3-eve.pcap.suricata-max-objects.test.yaml", &["--dnp3-max-objects", "7"]);
    verify(&dir, "dnp3-flood.pcap", "dnp3-flood.pcap.suricata-test.rules", "dnp3-flood.pcap.suricata-test.yaml", &[]);
    let long = "dnp3-too-long-reassembly-request.pcap";
    verify(&dir, long, &format!("{long}.suricata-dnp3-events.rules"), &format!("{long}.suricata-test.yaml"), &[]);
}

#[test]
fn without_the_cap_no_fragment_has_too_many_objects() {
    // The negative of the max-objects test: the default cap (2048) leaves the capture alone.
    let Some(pcaps) = pcaps_dir() else { return };
    let dir = pcaps.join("dnp3/suricata-verify");
    let converted = temp("max-objects-default.yaml");
    let rules = dir.join("dnp3-eve.pcap.suricata-max-objects.dnp3-events.rules").display().to_string();
    otsentry(&["rules", "import", &rules, "--out", &converted.display().to_string()]);
    let pcap = dir.join("dnp3-eve.pcap").display().to_string();
    let eve =
        String::from_utf8(otsentry(&["replay", "-q", "--eve", "-", "--rules", &converted.display().to_string(), &pcap]).stdout).unwrap();
    assert!(!eve.contains("\"signature_id\":2270006"));
    let _ = std::fs::remove_file(converted);
}
