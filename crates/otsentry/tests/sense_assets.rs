//! A live sensor's asset records and report, on a virtual network (see `live/mod.rs`):
//! the identities fixture sent by tcpreplay gives each device's first sighting, roles,
//! identity and the S7 PLC's firmware update as they happen; a `snapshot` of every asset
//! comes at `--asset-interval`; the HTML report is rewritten at `--report-interval` with
//! every asset and identity, and once more at the stop.
mod live;

use live::{scratch, Net, Sensor};
use serde_json::Value;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

fn assets(records: &[Value], change: &str) -> Vec<Value> {
    records.iter().filter(|r| r["event_type"] == "asset" && r["asset"]["change"] == change).map(|r| r["asset"].clone()).collect()
}

#[test]
fn a_sensor_records_assets_as_they_change_snapshots_them_and_rewrites_its_report() {
    let Some(net) = Net::new("a", &["tcpreplay", "tcprewrite"]) else { return };
    let dir = scratch("assets");
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/report/identities.pcap");
    let capture = dir.join("identities.sent.pcap");
    let o = Command::new("tcprewrite")
        .arg("--pnat=10.40.0.0/16:10.99.0.0/16")
        .arg("-i")
        .arg(&fixture)
        .arg("-o")
        .arg(&capture)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let report = dir.join("report.html");
    let r = report.display().to_string();
    let sensor =
        Sensor::start(&net, &dir, &["--asset-interval", "10s", "--report", &r, "--report-interval", "10s", "--stats-interval", "0"]);
    let o = net.exec(&net.peer, &["tcpreplay", "-i", live::PEER_IF, &capture.display().to_string()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));

    // Changes as they happen (the batch reaches the file within two seconds).
    sensor.wait_for(Duration::from_secs(5), |s| {
        assets(&s.records(), "identity").iter().any(|a| a["field"] == "firmware" && a["new"] == "V2.9.0")
    });
    let records = sensor.records();
    let new: Vec<String> = assets(&records, "new").iter().map(|a| a["ip"].as_str().unwrap().to_string()).collect();
    assert_eq!(new.len(), 6, "every address that sent, once: {new:?}");
    let update = assets(&records, "identity").into_iter().find(|a| a["field"] == "firmware" && a["new"] == "V2.9.0").unwrap();
    assert_eq!((update["ip"].as_str(), update["old"].as_str()), (Some("10.99.2.20"), Some("V2.8.3")));

    // The snapshot: every asset, as it is now.
    sensor.wait_for(Duration::from_secs(15), |s| assets(&s.records(), "snapshot").len() >= 6);
    let snapshot = assets(&sensor.records(), "snapshot");
    let mut ips: Vec<&str> = snapshot.iter().take(6).map(|a| a["ip"].as_str().unwrap()).collect();
    ips.sort_unstable();
    let mut want: Vec<&str> = new.iter().map(String::as_str).collect();
    want.sort_unstable();
    assert_eq!(ips, want);
    let plc = snapshot.iter().find(|a| a["ip"] == "10.99.2.20").unwrap();
    assert_eq!((plc["roles"][0].as_str(), plc["identity"]["firmware"].as_str()), (Some("plc"), Some("V2.9.0")));

    // The report, rewritten while the sensor runs.
    sensor.wait_for(Duration::from_secs(15), |_| std::fs::read_to_string(&report).is_ok_and(|t| t.contains("V2.9.0")));
    let page = std::fs::read_to_string(&report).unwrap();
    for ip in &want {
        assert!(page.contains(&format!("\"{ip}\"")), "{ip} not in the report");
    }
    assert!(page.contains("6ES7 516-3AN01-0AB0") && page.contains(live::SENSOR_IF), "the order number and the interface");
    let written = std::fs::metadata(&report).unwrap().modified().unwrap();
    let summary = sensor_stop(sensor);
    assert_eq!(summary["streams"]["assets_dropped"], Value::Null, "nothing dropped: the counter is left out");
    assert!(std::fs::metadata(&report).unwrap().modified().unwrap() > written, "written again at the stop");
}

fn sensor_stop(sensor: Sensor) -> Value {
    let log = sensor.log();
    let summary = sensor.stop();
    assert!(log.contains("report written"), "{log}");
    summary
}
