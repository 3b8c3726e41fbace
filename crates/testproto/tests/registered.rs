//! A protocol registered with one line appears everywhere a built-in one does: dispatch
//! by port, by content and by a configured port; its records in EVE, the summary and a
//! ClickHouse table of its own (a new migration, both server generations); its fields for
//! rules and its pack file's rule alerting; its classes in `policy classes` and a policy
//! decision on it; a baseline learning it and reading it back. The binary under test is
//! `src/main.rs`: `otsentry::main_with` and the registration line, nothing else.
use otsentry_pcapgen::clickhouse::{Generation, TestServer};
use otsentry_pcapgen::session::Capture;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn otsentry() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_otsentry-testproto"));
    c.env_remove("OTSENTRY_CLICKHOUSE_PASSWORD");
    c
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("otsentry-testproto-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs the build; its stdout, failing with its stderr unless it exits 0.
fn ok(cmd: &mut Command) -> String {
    let out = cmd.output().expect("run the build");
    assert!(out.status.success(), "{cmd:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn message(function: u8, address: u16, value: Option<u16>) -> Vec<u8> {
    let mut body = address.to_be_bytes().to_vec();
    if let Some(v) = value {
        body.extend(v.to_be_bytes());
    }
    [&[b'T', b'Y', function, body.len() as u8][..], &body].concat()
}

/// A read and a write on the default port, a write on another port (found by content),
/// and a message of a function the strict probe refuses on port 47100.
fn capture(dir: &Path, write_address: u16) -> PathBuf {
    let mut c = Capture::new();
    let mut on_port = c.connect("10.1.0.5:40000", "10.2.0.10:47000");
    c.client(&mut on_port, &message(1, 5, None));
    c.server(&mut on_port, &message(0x81, 5, Some(42)));
    c.wait(100);
    c.client(&mut on_port, &message(2, write_address, Some(7)));
    c.server(&mut on_port, &message(0x82, write_address, Some(7)));
    let mut by_content = c.connect("10.1.0.6:40001", "10.2.0.11:47555");
    c.client(&mut by_content, &message(1, 5, None));
    c.server(&mut by_content, &message(0x81, 5, Some(42)));
    let mut configured = c.connect("10.1.0.7:40002", "10.2.0.12:47100");
    c.client(&mut configured, &message(3, 9, None));
    let path = dir.join(format!("toy-{write_address}.pcap"));
    std::fs::write(&path, c.into_bytes()).unwrap();
    path
}

fn lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

fn replay(dir: &Path, pcap: &Path, extra: &[&str]) -> (Vec<Value>, Value) {
    let (eve, summary) = (dir.join("eve.json"), dir.join("summary.json"));
    let _ = std::fs::remove_file(&eve);
    ok(otsentry().arg("replay").arg("-q").arg("--eve").arg(&eve).arg("--summary-json").arg(&summary).args(extra).arg(pcap));
    (lines(&eve), serde_json::from_str(&std::fs::read_to_string(&summary).unwrap()).unwrap())
}

#[test]
fn dispatch_records_summary_and_its_pack_rule() {
    let dir = scratch("replay");
    let pcap = capture(&dir, 5);
    let (eve, summary) = replay(&dir, &pcap, &[]);
    let toy: Vec<&Value> = eve.iter().filter(|r| r["event_type"] == "toyproto").collect();
    // Answers travel to the client: their source is the server's port.
    let on = |port: u64| toy.iter().filter(|r| r["dest_port"] == port || r["src_port"] == port).count();
    assert_eq!((on(47000), on(47555), on(47100)), (4, 2, 0), "by port and by content; the strict probe refuses function 3");
    let write = toy.iter().find(|r| r["toyproto"]["function"] == 2).expect("the write's record");
    assert_eq!(
        (&write["toyproto"]["function_name"], &write["toyproto"]["value"], &write["app_proto"]),
        (&"write".into(), &7.into(), &"toyproto".into())
    );
    let flows: Vec<&Value> = eve.iter().filter(|r| r["event_type"] == "flow" && r["app_proto"] == "toyproto").collect();
    assert_eq!(flows.len(), 2);
    let alerts: Vec<(&Value, &Value)> =
        eve.iter().filter(|r| r["event_type"] == "alert").map(|a| (&a["alert"]["signature_id"], &a["dest_port"])).collect();
    // Its pack file's rule on the write; the engine's rule on an OT protocol off its port.
    assert_eq!(alerts, [(&4990001.into(), &47000.into()), (&4400007.into(), &47555.into())]);
    let section = &summary["protocols"]["toyproto"];
    assert_eq!((&section["pdus"], &section["functions"]["2"], &section["function_names"]["2"]), (&6.into(), &2.into(), &"write".into()));
    let text = std::fs::read_to_string(dir.join("summary.json")).unwrap();
    let at = |section: &str| text.find(&format!("\"{section}\":{{\"")).unwrap_or_else(|| panic!("no {section} section"));
    let order = ["modbus", "dnp3", "s7comm", "s7comm_plus", "toyproto"].map(at);
    assert!(order.windows(2).all(|w| w[0] < w[1]), "the built-in sections keep their place: {order:?}");
    assert_eq!(summary["streams"]["app_protocols"]["toyproto"], 2);
}

#[test]
fn the_config_files_port_and_setting_keys_take_it() {
    let dir = scratch("config");
    let pcap = capture(&dir, 5);
    let config = dir.join("otsentry.yaml");
    std::fs::write(&config, "replay:\n  app-port: [toyproto=47100]\n").unwrap();
    let (eve, _) = replay(&dir, &pcap, &["--config", config.to_str().unwrap()]);
    let configured: Vec<&Value> = eve.iter().filter(|r| r["event_type"] == "toyproto" && r["dest_port"] == 47100).collect();
    assert_eq!(configured.len(), 1, "on its configured port the framing alone decides");
    assert_eq!(configured[0]["toyproto"]["function_name"], "unknown");
    // Its setting, from the same file: a 4-byte body over a maximum of 2.
    std::fs::write(&config, "replay:\n  app-setting: [toyproto.max-len=2]\n").unwrap();
    let (eve, _) = replay(&dir, &pcap, &["--config", config.to_str().unwrap()]);
    let long: Vec<&Value> = eve.iter().filter(|r| r["event_type"] == "anomaly" && r["anomaly"]["event"] == "toyproto.too_long").collect();
    assert_eq!(long.len(), 4, "every message with a value: two answers to reads, the write and its answer");
    std::fs::write(&config, "replay:\n  app-setting: [toyproto.max-length=2]\n").unwrap();
    let out = otsentry().args(["replay", "-q", "--config", config.to_str().unwrap(), pcap.to_str().unwrap()]).output().unwrap();
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("toyproto takes max-len"));
    std::fs::write(&config, "replay:\n  app-port: [toyprot=47100]\n").unwrap();
    let out = otsentry().args(["replay", "-q", "--config", config.to_str().unwrap(), pcap.to_str().unwrap()]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("toyproto"), "the error lists the registered protocols");
}

#[test]
fn rules_fields_and_policy_classes_list_it_and_a_policy_decides_on_it() {
    let fields = ok(otsentry().args(["rules", "fields"]));
    assert!(fields.lines().any(|l| l.contains("toyproto.function")), "{fields}");
    let classes = ok(otsentry().args(["policy", "classes"]));
    let toy: Vec<&str> = classes.lines().filter(|l| l.contains("toyproto")).collect();
    assert!(toy.iter().any(|l| l.contains("read")) && toy.iter().any(|l| l.contains("write")), "{classes}");
    let dir = scratch("policy");
    let pcap = capture(&dir, 5);
    let policy = dir.join("policy.yaml");
    std::fs::write(
        &policy,
        "zones:\n  - name: hmi\n    level: 2\n    networks: [10.1.0.0/16]\n  - name: cell\n    level: 1\n    networks: [10.2.0.0/16]\n\
         conduits:\n  - from: hmi\n    to: cell\n    protocols: [toyproto]\n    functions: [read]\n",
    )
    .unwrap();
    let (_, summary) = replay(&dir, &pcap, &["--policy", policy.to_str().unwrap()]);
    let forbidden = summary["segmentation"]["conversations"].as_array().unwrap();
    let writes: Vec<&Value> = forbidden.iter().filter(|c| c["protocol"] == "toyproto").collect();
    assert_eq!(writes.len(), 1, "{forbidden:?}");
    assert_eq!((&writes[0]["function_class"], &writes[0]["dest_ip"]), (&"write".into(), &"10.2.0.10".into()));
}

#[test]
fn a_baseline_learns_it_and_reads_it_back() {
    let dir = scratch("baseline");
    let learned = dir.join("baseline.json");
    ok(otsentry().args(["learn", "--out", learned.to_str().unwrap(), capture(&dir, 5).to_str().unwrap()]));
    let text = std::fs::read_to_string(&learned).unwrap();
    let file: Value = serde_json::from_str(&text).unwrap();
    let pair = file["pairs"].as_array().unwrap().iter().find(|p| p["server"] == "10.2.0.10").expect("the pair on the default port");
    assert_eq!(pair["protocol"], "toyproto");
    assert!(pair["ranges"].as_array().unwrap().iter().any(|r| r["space"] == "toy/bank0"), "{pair}");
    // A write far from what was learned: the baseline reads back and departs.
    let (_, summary) = replay(&dir, &capture(&dir, 950), &["--baseline", learned.to_str().unwrap()]);
    let departures: u64 = summary["baseline"].as_object().unwrap().values().map(|n| n.as_u64().unwrap()).sum();
    assert!(departures > 0, "{}", summary["baseline"]);
}

#[test]
fn its_records_land_in_a_table_of_its_own_through_a_new_migration_on_both_generations() {
    for generation in [Generation::Legacy, Generation::Current] {
        let dir = scratch(&format!("clickhouse-{generation:?}"));
        let Some(s) = TestServer::start(generation, &dir.join("server")) else { continue };
        let url = format!("{}/otsentry", s.url());
        ok(otsentry().args(["clickhouse", "init", "--clickhouse", &url]));
        let applied = s.query("SELECT version FROM otsentry.schema_migrations ORDER BY version FORMAT TSV").unwrap();
        assert_eq!(applied.split_whitespace().collect::<Vec<_>>(), ["1", "2", "3", "900"], "{generation:?}");
        ok(otsentry().args(["clickhouse", "init", "--clickhouse", &url]));
        let again = s.query("SELECT count() FROM otsentry.schema_migrations FORMAT TSV").unwrap();
        assert_eq!(again.trim(), "4", "a second init applies nothing");
        let pcap = capture(&dir, 5);
        ok(otsentry().args(["replay", "-q", "--clickhouse", &url, pcap.to_str().unwrap()]));
        let rows = s
            .query("SELECT function_name, address, value FROM otsentry.toyproto WHERE function_name = 'write' ORDER BY response FORMAT TSV")
            .unwrap();
        assert_eq!(rows.trim(), "write\t5\t7\nwrite\t5\t7", "{generation:?}");
    }
}
