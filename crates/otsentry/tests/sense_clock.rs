//! A live sensor keeps time when the network is silent, and reports while it runs: on a
//! virtual network (see `live/mod.rs`), with no packet after the last one sent, a batch
//! reaches the EVE file within two seconds, a learned poll that stops raises the
//! baseline's alert and a closed connection's flow ends on its timeout; `stats` records
//! come at their interval with counters that grow with the traffic, and a stop under
//! load writes a summary that holds what the last stats did and every record the file
//! holds.
mod live;

use live::{scratch, Net, Sensor};
use otsentry_pcapgen::ot::modbus_adu;
use otsentry_pcapgen::session::Capture;
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

/// A Modbus client polling a server every half second, ten times, and a second client
/// that reads once and closes its connection.
fn polling_capture() -> Vec<u8> {
    let mut c = Capture::new();
    let mut poll = c.connect("10.99.1.10:49152", "10.99.2.10:502");
    for tid in 1..=10u16 {
        c.client(&mut poll, &modbus_adu(tid, 1, &[0x03, 0x00, 0x00, 0x00, 0x02]));
        c.server(&mut poll, &modbus_adu(tid, 1, &[0x03, 0x04, 0x00, 0x01, 0x00, 0x02]));
        c.wait(480);
    }
    let mut once = c.connect("10.99.1.11:40000", "10.99.2.10:502");
    c.client(&mut once, &modbus_adu(1, 1, &[0x03, 0x00, 0x00, 0x00, 0x01]));
    c.server(&mut once, &modbus_adu(1, 1, &[0x03, 0x02, 0x00, 0x07]));
    for p in once.close() {
        c.ip(&p);
    }
    c.into_bytes()
}

fn of_type<'a>(records: &'a [Value], ty: &str) -> Vec<&'a Value> {
    records.iter().filter(|r| r["event_type"] == ty).collect()
}

fn has_rule(records: &[Value], rule: &str) -> bool {
    of_type(records, "alert").iter().any(|a| a["alert"]["metadata"]["rule_id"][0] == rule)
}

#[test]
fn with_the_network_silent_batches_flush_polls_stop_and_flows_expire() {
    let Some(net) = Net::new("c", &["tcpreplay"]) else { return };
    let dir = scratch("clock");
    let capture = dir.join("poll.pcap");
    std::fs::write(&capture, polling_capture()).unwrap();
    let baseline = dir.join("baseline.json");
    let learned = Command::new(env!("CARGO_BIN_EXE_otsentry")).arg("learn").arg(&capture).arg("--out").arg(&baseline).output().unwrap();
    assert!(learned.status.success(), "{}", String::from_utf8_lossy(&learned.stderr));

    let sensor = Sensor::start(&net, &dir, &["--baseline", &baseline.display().to_string(), "--stats-interval", "0"]);
    // At the capture's own pace (five seconds): the poll is learned as it was.
    let o = net.exec(&net.peer, &["tcpreplay", "-i", live::PEER_IF, &capture.display().to_string()]);
    let sent = live::sent(&String::from_utf8_lossy(&o.stdout)).unwrap();
    // Every transaction's record, with no packet after the last: the batch's age alone.
    let took = sensor.wait_for(Duration::from_secs(2), |s| of_type(&s.records(), "modbus").len() == 11);
    eprintln!("the last transactions reached the EVE file {took:?} after tcpreplay returned");
    // Learned silences of about half a second: stopped after the 2 s floor.
    sensor.wait_for(Duration::from_secs(15), |s| has_rule(&s.records(), "baseline.poll.stopped"));
    // The closed connection ends on the closed-TCP timeout (30 s of silence).
    sensor.wait_for(Duration::from_secs(45), |s| {
        of_type(&s.records(), "flow").iter().any(|f| f["flow"]["reason"] == "timeout" && f["src_port"] == 40000)
    });
    let summary = sensor.stop();
    assert_eq!(summary["packets"], sent, "no packet arrived but those sent");
    assert_eq!(summary["streams"]["flows_timed_out"], 1);
}

/// The `stats` records so far.
fn stats(sensor: &Sensor) -> Vec<Value> {
    of_type(&sensor.records(), "stats").into_iter().cloned().collect()
}

fn pkts(stats: &Value) -> u64 {
    stats["stats"]["decoder"]["pkts"].as_u64().unwrap()
}

#[test]
fn stats_come_at_their_interval_and_the_summary_holds_them() {
    let Some(net) = Net::new("s", &["tcpreplay"]) else { return };
    let dir = scratch("stats");
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/demo/input.pcap");
    let sensor = Sensor::start(&net, &dir, &["--stats-interval", "1s"]);
    let first = net.tcpreplay(&demo);
    sensor.wait_for(Duration::from_secs(10), |s| stats(s).last().is_some_and(|r| pkts(r) == first));
    let after_first = stats(&sensor).last().cloned().unwrap();
    let s = &after_first["stats"];
    assert!(s["flow"]["active"].as_u64().unwrap() > 0, "the flows still live");
    assert_eq!(s["otsentry"]["protocols"]["s7comm"]["functions"]["41"], 2, "the PLC stops, counted while their flow lives");
    let second = net.tcpreplay(&demo);
    sensor.wait_for(Duration::from_secs(10), |s| stats(s).last().is_some_and(|r| pkts(r) == first + second));
    let seen = stats(&sensor);
    // One a second: uptimes step by one (a slow tick may make a step of two).
    for pair in seen.windows(2) {
        let (a, b) = (pair[0]["stats"]["uptime"].as_u64().unwrap(), pair[1]["stats"]["uptime"].as_u64().unwrap());
        assert!((1..=2).contains(&(b - a)), "stats {a} s then {b} s");
        assert!(pkts(&pair[1]) >= pkts(&pair[0]), "counters never fall");
    }
    let last = seen.last().unwrap();
    let s = &last["stats"];
    assert_eq!(s["capture"]["kernel_packets"], first + second);
    // The same segments again are retransmissions of the live TCP connections: no new PDU.
    assert_eq!(s["otsentry"]["protocols"]["s7comm"]["functions"]["41"], 2);
    assert_eq!(s["otsentry"]["alerts"]["by_severity"]["critical"], 1);

    // Under load: a stop while tcpreplay still sends.
    let big = dir.join("load.pcap");
    let mut w = std::fs::File::create(&big).unwrap();
    let plant = otsentry_pcapgen::bench::Plant { packets: 300_000, ..Default::default() };
    otsentry_pcapgen::bench::write_plant(&plant, &mut w).unwrap();
    let mut load = net
        .command(&net.peer, "tcpreplay")
        .args(["--mbps", "200", "-i", live::PEER_IF])
        .arg(&big)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    sensor.wait_for(Duration::from_secs(20), |s| stats(s).last().is_some_and(|r| pkts(r) > first + second + 1000));
    let summary = sensor.stop();
    let _ = load.kill();
    let _ = load.wait();
    let text = std::fs::read_to_string(dir.join("eve.json")).unwrap();
    let lines = text.lines().count() as u64;
    let records: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let last = of_type(&records, "stats").last().copied().cloned().unwrap();
    let (ls, total) = (&last["stats"], summary["packets"].as_u64().unwrap());
    assert!(total >= pkts(&last), "the summary ({total}) holds the last stats ({})", pkts(&last));
    for (what, field) in
        [("flows", "/flow/total"), ("alerts", "/otsentry/alerts/total"), ("modbus PDUs", "/otsentry/protocols/modbus/pdus")]
    {
        let at_stats = ls.pointer(field).unwrap().as_u64().unwrap();
        let at_end = match what {
            "flows" => summary["flows"].as_u64().unwrap(),
            "alerts" => summary["alerts"]["total"].as_u64().unwrap(),
            _ => summary["protocols"]["modbus"]["pdus"].as_u64().unwrap(),
        };
        assert!(at_end >= at_stats, "{what}: {at_end} at the end, {at_stats} at the last stats");
    }
    let kernel = &summary["capture"];
    assert!(total <= kernel["kernel_packets"].as_u64().unwrap() - kernel["kernel_drops"].as_u64().unwrap());
    let eve = summary["outputs"].as_array().unwrap().iter().find(|o| o["name"].as_str().unwrap().starts_with("eve:")).unwrap();
    assert_eq!(eve["written"].as_u64().unwrap(), lines, "every record the summary counts as written is in the file");
    assert_eq!(eve["dropped"], 0);
}
