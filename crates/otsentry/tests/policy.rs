//! `--policy` as an operator uses it: the demo capture against a zone file, and a bad
//! policy refused by replay, `rules check` and `config check` with its line.
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn otsentry(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_otsentry")).args(args).output().unwrap()
}

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("otsentry-policy-{}", std::process::id())).join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn demo() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/demo/input.pcap").display().to_string()
}

/// The demo's HMI polls its PLC (allowed: reads); the laptop at 10.10.9.99 is in no zone.
const POLICY: &str = "\
zones:
  - name: hmi
    level: 2
    networks: [10.10.1.0/24]
  - name: cell
    level: 1
    networks: [10.10.2.0/24, 10.10.3.0/24]
conduits:
  - from: hmi
    to: cell
    protocols: [modbus, dnp3]
    functions: [read]
";

#[test]
fn the_demo_against_a_zone_file() {
    let d = dir("demo");
    let policy = d.join("policy.yaml");
    std::fs::write(&policy, POLICY).unwrap();
    let o = otsentry(&["replay", "-q", "--policy", policy.to_str().unwrap(), "--summary-json", "-", &demo()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let found: Vec<(String, String, String, String)> = v["segmentation"]["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let s = |k: &str| f[k].as_str().unwrap_or("-").to_string();
            (s("src_ip"), s("dest_zone"), s("protocol"), s("function_class"))
        })
        .collect();
    // The laptop's write and S7 stop come from no zone; the HMI's write is not a read.
    assert!(found.contains(&("10.10.9.99".into(), "cell".into(), "modbus".into(), "-".into())), "{found:?}");
    assert!(found.contains(&("10.10.9.99".into(), "cell".into(), "s7comm".into(), "-".into())), "{found:?}");
    assert!(!found.iter().any(|f| f.0 == "10.10.1.50" && f.3 == "read"), "the HMI's reads are allowed: {found:?}");
    let by_rule = &v["alerts"]["by_rule"];
    assert!(by_rule["policy.segmentation.ot"].as_u64().unwrap_or(0) >= 2, "{by_rule}");
    // Without the policy the same run raises none of them.
    let o = otsentry(&["replay", "-q", "--summary-json", "-", &demo()]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(v["alerts"]["by_rule"].get("policy.segmentation.ot").is_none());
    assert_eq!(v["segmentation"]["conversations"], serde_json::json!([]));
}

#[test]
fn a_bad_policy_is_refused_with_its_line_everywhere() {
    let d = dir("bad");
    let policy = d.join("policy.yaml");
    std::fs::write(&policy, POLICY.replace("to: cell", "to: cel")).unwrap();
    let p = policy.to_str().unwrap();
    let want = format!("{p}:10:5: conduits[0].to: \"cel\" is not a zone");
    for args in [vec!["replay", "-q", "--policy", p, &demo()], vec!["rules", "check", "--policy", p]] {
        let o = otsentry(&args.iter().map(|s| s.as_ref()).collect::<Vec<&str>>());
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(&want), "{args:?}: {err}");
    }
    let config = d.join("otsentry.yaml");
    std::fs::write(&config, format!("replay:\n  policy: {p}\n")).unwrap();
    let o = otsentry(&["config", "check", config.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains(&want), "{err}");
    std::fs::write(&policy, POLICY).unwrap();
    let o = otsentry(&["rules", "check", "--policy", p]);
    assert!(o.status.success() && String::from_utf8_lossy(&o.stderr).contains("2 zones, 1 conduits ok"));
}

/// Plant 1's Modbus master and its thirteen PLCs (the addresses its Zeek conn log names).
fn plant1_zones(pcaps: &Path) -> String {
    let conn = otsentry_pcapgen::shared::zeek_log(&pcaps.join("modbus/plant1/Plant1_ModbusTCP.pcap.zeek-conn.log"));
    let mut plcs: Vec<String> = conn.iter().map(|c| c["id.resp_h"].clone()).collect();
    plcs.sort();
    plcs.dedup();
    assert_eq!(plcs.len(), 13, "{plcs:?}");
    format!(
        "zones:\n  - name: scada\n    level: 2\n    networks: [141.81.0.10/32]\n  - name: field\n    level: 1\n    networks: [{}]\n",
        plcs.iter().map(|p| format!("{p}/32")).collect::<Vec<_>>().join(", ")
    )
}

#[test]
fn check_and_suggest_on_plant1() {
    let Some(pcaps) = otsentry_pcapgen::shared::pcaps_dir() else { return };
    let capture = pcaps.join("modbus/plant1/Plant1_ModbusTCP.pcap");
    let capture = capture.to_str().unwrap();
    let d = dir("plant1");
    let zones = d.join("zones.yaml");
    std::fs::write(&zones, plant1_zones(&pcaps)).unwrap();
    // A draft that lets the master read: its coil and register writes are forbidden
    // (the capture holds 2,113 write-multiple-coils and 14 write-multiple-registers).
    let draft = d.join("draft.yaml");
    let text = std::fs::read_to_string(&zones).unwrap()
        + "conduits:\n  - from: scada\n    to: field\n    protocols: [modbus]\n    functions: [read]\n  - from: field\n    to: scada\n    protocols: [ssh]\n";
    std::fs::write(&draft, text).unwrap();
    let json = d.join("check.json");
    let o = otsentry(&["policy", "check", "--policy", draft.to_str().unwrap(), "--json", json.to_str().unwrap(), capture]);
    let table = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(o.status.code(), Some(3), "forbidden conversations found: {}", String::from_utf8_lossy(&o.stderr));
    let report = otsentry(&["policy", "check", "--exit-zero", "--policy", draft.to_str().unwrap(), capture]);
    assert!(report.status.success() && report.stdout == o.stdout, "--exit-zero: the same report, exit 0");
    assert!(table.contains("scada -> field:") && table.contains("unused conduit, line"), "{table}");
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let groups = v["forbidden"].as_array().unwrap();
    assert_eq!(groups.len(), 1, "{v}");
    let rows = groups[0]["conversations"].as_array().unwrap();
    assert!(rows.iter().all(|r| r["function_class"] == "write" && r["src_ip"] == "141.81.0.10"), "{v}");
    let writes: u64 = rows.iter().map(|r| r["count"].as_u64().unwrap()).sum();
    // Every write request, as tshark counts them (function 15 or 16 sent to port 502).
    let t = Command::new("tshark")
        .args(["-r", capture, "-Y", "mbtcp && tcp.dstport==502", "-T", "fields", "-e", "modbus.func_code"])
        .output()
        .expect("tshark (scripts/deps installs it)");
    let text = String::from_utf8_lossy(&t.stdout);
    let tshark = text.split(|c: char| c == ',' || c.is_whitespace()).filter(|f| *f == "15" || *f == "16").count() as u64;
    assert!(tshark > 2000, "tshark found {tshark}");
    assert_eq!(writes, tshark);
    assert_eq!(v["unused_conduits"][0]["from"], "field", "the ssh conduit carried nothing: {v}");
    // Suggested from the zones alone: one conduit, modbus from scada to field, with the
    // reads and writes it saw; and under it the capture raises no segmentation alert.
    let suggested = d.join("suggested.yaml");
    let o = otsentry(&["policy", "suggest", "--zones", zones.to_str().unwrap(), "--out", suggested.to_str().unwrap(), capture]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(&suggested).unwrap();
    assert_eq!(text.matches("  - from:").count(), 1, "{text}");
    assert!(
        text.contains(
            "  - from: \"scada\"\n    to: \"field\"\n    protocols: [\"modbus\"]\n    functions: [read, write]\n    initiator: from\n"
        ),
        "{text}"
    );
    let o = otsentry(&["replay", "-q", "--policy", suggested.to_str().unwrap(), "--summary-json", "-", capture]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["segmentation"]["conversations"], serde_json::json!([]), "{}", v["segmentation"]);
    let by_rule = v["alerts"]["by_rule"].as_object().unwrap();
    assert!(!by_rule.keys().any(|k| k.starts_with("policy.")), "{by_rule:?}");
}

/// tshark's count of the frames of `capture` that match `filter`, one per value of
/// `field` (a frame holding two S7 jobs counts twice) for which `keep` holds.
fn tshark_count(capture: &str, filter: &str, field: &str, keep: &dyn Fn(&str) -> bool) -> u64 {
    let t = Command::new("tshark")
        .args(["-r", capture, "-Y", filter, "-T", "fields", "-e", field])
        .output()
        .expect("tshark (scripts/deps installs it)");
    String::from_utf8_lossy(&t.stdout).split(|c: char| c == ',' || c.is_whitespace()).filter(|f| keep(f)).count() as u64
}

/// A draft letting `scada` only read `field` over `protocol`: `policy check` forbids
/// exactly the capture's `writes` (tshark's count), all from the master; `policy
/// suggest` from the zones alone proposes one conduit, reads and writes from scada;
/// and under it the capture raises no segmentation alert.
fn check_and_suggest(name: &str, capture: &Path, master: &str, field: &[String], protocol: &str, writes: u64) {
    let capture = capture.to_str().unwrap();
    let d = dir(name);
    let zones = d.join("zones.yaml");
    let nets = field.iter().map(|p| format!("{p}/32")).collect::<Vec<_>>().join(", ");
    let zone_text = format!(
        "zones:\n  - name: scada\n    level: 2\n    networks: [{master}/32]\n  - name: field\n    level: 1\n    networks: [{nets}]\n"
    );
    std::fs::write(&zones, &zone_text).unwrap();
    let draft = d.join("draft.yaml");
    std::fs::write(
        &draft,
        format!("{zone_text}conduits:\n  - from: scada\n    to: field\n    protocols: [{protocol}]\n    functions: [read]\n"),
    )
    .unwrap();
    let json = d.join("check.json");
    let o = otsentry(&["policy", "check", "--policy", draft.to_str().unwrap(), "--json", json.to_str().unwrap(), capture]);
    assert_eq!(o.status.code(), Some(3), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let groups = v["forbidden"].as_array().unwrap();
    assert_eq!(groups.len(), 1, "{v}");
    assert_eq!((groups[0]["src_zone"].as_str(), groups[0]["dest_zone"].as_str()), (Some("scada"), Some("field")), "{v}");
    let rows = groups[0]["conversations"].as_array().unwrap();
    assert!(rows.iter().all(|r| r["function_class"] == "write" && r["src_ip"] == master && r["protocol"] == protocol), "{v}");
    let counted: u64 = rows.iter().map(|r| r["count"].as_u64().unwrap()).sum();
    assert_eq!(counted, writes, "{name}: write requests, ours and tshark's");
    assert_eq!(v["unused_conduits"], serde_json::json!([]), "{v}");
    let suggested = d.join("suggested.yaml");
    let o = otsentry(&["policy", "suggest", "--zones", zones.to_str().unwrap(), "--out", suggested.to_str().unwrap(), capture]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(&suggested).unwrap();
    assert_eq!(text.matches("  - from:").count(), 1, "{text}");
    let want = format!(
        "  - from: \"scada\"\n    to: \"field\"\n    protocols: [\"{protocol}\"]\n    functions: [read, write]\n    initiator: from\n"
    );
    assert!(text.contains(&want), "{text}");
    let o = otsentry(&["replay", "-q", "--policy", suggested.to_str().unwrap(), "--summary-json", "-", capture]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["segmentation"]["conversations"], serde_json::json!([]), "{}", v["segmentation"]);
    let by_rule = v["alerts"]["by_rule"].as_object().unwrap();
    assert!(!by_rule.keys().any(|k| k.starts_with("policy.")), "{by_rule:?}");
}

/// Every address of `capture` other than `master`, as tshark lists them.
fn hosts_besides(capture: &Path, master: &str) -> Vec<String> {
    let t = Command::new("tshark")
        .args(["-r", capture.to_str().unwrap(), "-T", "fields", "-e", "ip.src", "-e", "ip.dst"])
        .output()
        .expect("tshark (scripts/deps installs it)");
    let mut hosts: Vec<String> =
        String::from_utf8_lossy(&t.stdout).split_whitespace().filter(|h| *h != master).map(str::to_string).collect();
    hosts.sort();
    hosts.dedup();
    hosts
}

#[test]
fn check_and_suggest_on_plant1_s7() {
    let Some(pcaps) = otsentry_pcapgen::shared::pcaps_dir() else { return };
    let capture = pcaps.join("s7comm/plant1/Plant1_S7comm.pcap");
    // S7 write-var jobs (a frame may carry two jobs).
    let writes = tshark_count(capture.to_str().unwrap(), "s7comm.header.rosctr == 1", "s7comm.param.func", &|f| f == "0x05");
    assert!(writes > 600, "tshark found {writes}");
    let field = hosts_besides(&capture, "141.81.0.10");
    assert_eq!(field.len(), 12, "{field:?}");
    check_and_suggest("plant1-s7", &capture, "141.81.0.10", &field, "s7comm", writes);
}

#[test]
fn check_and_suggest_on_a_dnp3_master_with_controls() {
    let Some(pcaps) = otsentry_pcapgen::shared::pcaps_dir() else { return };
    let capture = pcaps.join("dnp3/icsnpp/dnp3_example.pcap");
    // The master's select and operate requests (function 3 and 4: class write).
    let writes = tshark_count(capture.to_str().unwrap(), "dnp3.ctl.dir == 1", "dnp3.al.func", &|f| f == "3" || f == "4");
    assert!(writes > 250, "tshark found {writes}");
    check_and_suggest("icsnpp-dnp3", &capture, "10.10.20.5", &["10.10.20.8".to_string()], "dnp3", writes);
}

/// Routine DNP3 polling with unsolicited reporting enabled (function 20, control): the
/// narrowest conduit allows control and reads, and never restarts (management); a draft
/// that allows everything forbids nothing (exit 0).
#[test]
fn suggest_keeps_restarts_out_of_a_polling_conduit_and_check_exits_zero_when_clean() {
    use otsentry_pcapgen::trust::{dnp3_session, Step};
    let d = dir("dnp3-poll");
    let mut c = otsentry_pcapgen::session::Capture::new();
    let mut steps = vec![Step::Master(20, vec![0x3C, 0x02, 0x06, 0x3C, 0x03, 0x06]), Step::Answer(Vec::new())];
    for _ in 0..5 {
        steps.extend([Step::Master(1, vec![0x3C, 0x01, 0x06]), Step::Answer(Vec::new()), Step::Wait(1000)]);
    }
    dnp3_session(&mut c, "10.70.2.10:49200", "10.70.1.20:20000", &steps);
    let capture = d.join("poll.pcap");
    std::fs::write(&capture, c.into_bytes()).unwrap();
    let zones = d.join("zones.yaml");
    let zone_text = "zones:\n  - name: scada\n    level: 2\n    networks: [10.70.2.0/24]\n  - name: field\n    level: 1\n    networks: [10.70.1.0/24]\n";
    std::fs::write(&zones, zone_text).unwrap();
    let o = otsentry(&["policy", "suggest", "--zones", zones.to_str().unwrap(), capture.to_str().unwrap()]);
    let policy = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(policy.contains("functions: [read, control]") || policy.contains("functions: [control, read]"), "{policy}");
    assert!(!policy.contains("management"), "{policy}");
    let suggested = d.join("suggested.yaml");
    std::fs::write(&suggested, &policy).unwrap();
    let o = otsentry(&["policy", "check", "--policy", suggested.to_str().unwrap(), capture.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stdout));
}
