//! `otsentry sense` on a virtual network against `otsentry replay` of the same frames:
//! our fixtures and a selection of the shared captures (Modbus, DNP3 over TCP and UDP,
//! S7comm and S7comm-plus; Ethernet, null, raw-IP and SLL captures, the others turned
//! into Ethernet) are rewritten into addresses of the test network, sent by tcpreplay
//! from one namespace and captured in the other, then stopped with SIGTERM. The packets
//! counted equal those sent, the kernel dropped none, and per-protocol PDU counts,
//! function histograms and the alerts of rules that do not depend on timing equal the
//! replay's.
mod live;

use live::{replay_summary, scratch, Net, Sensor};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// Relative to `../shared/pcaps`.
const SHARED: &[&str] = &[
    "modbus/suricata-verify/modbus.pcap",
    "modbus/plant1/Plant1_ModbusTCP.pcap",
    "modbus/icsnpp/modbus_example.pcap",
    "dnp3/zeek/dnp3_udp_read.pcap",
    "dnp3/suricata-verify/dnp3-flood.pcap",
    "dnp3/opendnp3-conformance/6.1.2.dump.pcap",
    "dnp3/icsnpp/dnp3_example.pcap",
    "s7comm/icsnpp/snap7.pcap",
    "s7comm-plus/icsnpp/s7comm_plus.pcap",
];

const FIXTURES: &[&str] = &["fixtures/demo/input.pcap", "fixtures/network/input.pcap", "fixtures/streams/input.pcap"];

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The capture with its IPv4 addresses moved into 10.99.0.0/16 (host bits kept) and,
/// when it is not Ethernet, given an Ethernet header (tcprewrite's user link layer: its
/// `--dlt=enet` leaves the EtherType 0 from these link types).
fn rewritten(capture: &Path, dir: &Path) -> PathBuf {
    let stem = capture.file_stem().unwrap().to_string_lossy().into_owned();
    let linktype = {
        let mut source = otsentry_capture::open(capture, otsentry_capture::ReaderKind::Mmap).unwrap();
        source.next_frame().unwrap().unwrap().linktype
    };
    let run = |c: &mut Command| {
        let o = c.output().unwrap();
        assert!(o.status.success(), "{c:?}: {}", String::from_utf8_lossy(&o.stderr));
    };
    let mut input = capture.to_path_buf();
    if linktype == otsentry_capture::LinkType::IPV4 {
        // tcprewrite reads raw IP only under its older link type.
        let raw = dir.join(format!("{stem}.raw.pcap"));
        run(Command::new("editcap").args(["-T", "rawip"]).arg(&input).arg(&raw));
        input = raw;
    }
    if linktype != otsentry_capture::LinkType::ETHERNET {
        let eth = dir.join(format!("{stem}.enet.pcap"));
        let header = "02,00,00,00,00,02,02,00,00,00,00,01,08,00";
        run(Command::new("tcprewrite")
            .args(["--dlt=user", "--user-dlt=1", &format!("--user-dlink={header}"), "-i"])
            .arg(&input)
            .arg("-o")
            .arg(&eth));
        input = eth;
    }
    let out = dir.join(format!("{stem}.sent.pcap"));
    run(Command::new("tcprewrite").arg("--pnat=0.0.0.0/0:10.99.0.0/16").arg("-i").arg(&input).arg("-o").arg(&out));
    out
}

/// The rules whose alerts do not depend on the time between packets: no threshold, no
/// suppression window, and no event that is itself a count over time (scans, senders,
/// relays, ARP, the baseline, bursts).
fn timing_free_rules() -> Vec<String> {
    let mut ids = Vec::new();
    for entry in std::fs::read_dir(workspace().join("rules")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "yaml") {
            continue;
        }
        let rules: Vec<serde_yaml_ng::Value> = serde_yaml_ng::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        for r in rules {
            let text = serde_yaml_ng::to_string(&r).unwrap();
            let timed = r.get("threshold").is_some()
                || r.get("suppress").is_some()
                || ["scan.", "sender.", "relay.", "arp.", "baseline.", "burst", "flood"].iter().any(|w| text.contains(w));
            if !timed {
                ids.push(r["id"].as_str().unwrap().to_string());
            }
        }
    }
    assert!(ids.len() > 20, "too few rules left to compare: {ids:?}");
    ids
}

/// What both runs must agree on.
fn comparable(summary: &Value, rules: &[String]) -> Value {
    let p = &summary["protocols"];
    let alerts: BTreeMap<&str, &Value> =
        summary["alerts"]["by_rule"].as_object().unwrap().iter().filter(|(k, _)| rules.contains(k)).map(|(k, v)| (k.as_str(), v)).collect();
    serde_json::json!({
        "modbus": [p["modbus"]["pdus"], p["modbus"]["functions"], p["modbus"]["exceptions"]],
        "dnp3": [p["dnp3"]["link_frames"], p["dnp3"]["fragments"], p["dnp3"]["functions"]],
        "s7comm": [p["s7comm"]["pdus"], p["s7comm"]["functions"], p["s7comm"]["userdata"]],
        "s7comm_plus": [p["s7comm_plus"]["pdus"], p["s7comm_plus"]["functions"]],
        "app_protocols": summary["streams"]["app_protocols"],
        "decode_errors": summary["decode_errors"],
        "alerts": alerts,
    })
}

#[test]
fn sense_sees_what_tcpreplay_sent_as_replay_does() {
    let Some(net) = Net::new("r", &["tcpreplay", "tcprewrite", "editcap"]) else { return };
    // The captures' addresses are moved into this network, the sender's (the sensor's
    // end has none: the kernel there answers nothing).
    net.exec(&net.peer, &["ip", "addr", "add", "10.99.255.254/16", "dev", live::PEER_IF]);
    let mut captures: Vec<PathBuf> = FIXTURES.iter().map(|f| workspace().join(f)).collect();
    match otsentry_pcapgen::shared::pcaps_dir() {
        Some(dir) => captures.extend(SHARED.iter().map(|c| dir.join(c))),
        None => eprintln!("the shared captures are missing: only our fixtures are sent"),
    }
    let rules = timing_free_rules();
    let dir = scratch("replay");
    let mut compared = 0;
    for capture in &captures {
        let sendable = rewritten(capture, &dir);
        // One pipeline; two workers behind one reader; two workers each on its own
        // handle in a kernel fanout group: each gives the replay's counts and alerts.
        for design in DESIGNS {
            compare_live(&net, &dir, capture, &sendable, design, &rules);
        }
        compared += 1;
    }
    assert_eq!(compared, captures.len());
    // Captures with several address pairs spread over both workers in both designs
    // (a capture of one pair goes to one worker).
    assert!(PAIRS_SPREAD.load(std::sync::atomic::Ordering::Relaxed) >= 6, "{PAIRS_SPREAD:?} runs spread over both workers");
}

/// Two-worker runs whose frames went to both workers.
static PAIRS_SPREAD: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// The capture designs sense is tested with.
const DESIGNS: [&[&str]; 3] = [&["--workers", "1"], &["--workers", "2"], &["--workers", "2", "--fanout"]];

/// Sends `sendable` to a sensor run with `design`'s flags; its summary must match the
/// replay's on what does not depend on timing.
fn compare_live(net: &Net, dir: &Path, capture: &Path, sendable: &Path, design: &[&str], rules: &[String]) {
    {
        let mut args = vec!["--stats-interval", "1s"];
        args.extend_from_slice(design);
        let sensor = Sensor::start(net, dir, &args);
        let sent = net.tcpreplay(sendable);
        // Everything sent has been read once the sensor counted it all in a stats record.
        sensor.wait_for(Duration::from_secs(30), |s| {
            s.records().iter().rev().find(|r| r["event_type"] == "stats").is_some_and(|r| r["stats"]["decoder"]["pkts"] == sent)
        });
        let live = sensor.stop();
        let name = format!("{} ({})", capture.display(), design.join(" "));
        assert_eq!(live["packets"], sent, "{name}: packets counted and sent");
        assert_eq!(live["capture"]["kernel_packets"], sent, "{name}: the kernel's count");
        assert_eq!(live["capture"]["kernel_drops"], 0, "{name}: kernel drops");
        assert_eq!(live["capture"]["kernel_ifdrops"], 0, "{name}: interface drops");
        assert_eq!(live["sensor"]["worker_drops"].as_u64().unwrap_or(0), 0, "{name}: frames a full worker queue dropped");
        if design.contains(&"2") {
            // Both workers took part, and between them handled every frame.
            let shares: Vec<u64> = live["sensor"]["worker_packets"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap()).collect();
            assert_eq!((shares.len(), shares.iter().sum::<u64>()), (2, sent), "{name}: {shares:?}");
            PAIRS_SPREAD.fetch_add(u64::from(shares.iter().all(|&n| n > 0)), std::sync::atomic::Ordering::Relaxed);
        }
        let replayed = replay_summary(sendable, dir, &[]);
        assert_eq!(replayed["packets"], sent, "{name}: replay reads what was sent");
        assert_eq!(comparable(&live, rules), comparable(&replayed, rules), "{name}: sense and replay differ");
    }
}

#[test]
fn two_interfaces_are_one_pipeline_and_frames_cut_by_the_snap_length_are_counted() {
    let Some(net) = Net::new("i", &["tcpreplay"]) else { return };
    let dir = scratch("two");
    let demo = workspace().join("fixtures/demo/input.pcap");
    let longer = {
        let mut source = otsentry_capture::open(&demo, otsentry_capture::ReaderKind::Mmap).unwrap();
        let mut n = 0u64;
        while let Some(f) = source.next_frame().unwrap() {
            n += u64::from(f.data.len() > 64);
        }
        n
    };
    assert!(longer > 0);
    let sensor = Sensor::start(&net, &dir, &["-i", "lo", "--snaplen", "64", "--stats-interval", "1s"]);
    let sent = net.tcpreplay(&demo);
    sensor.wait_for(Duration::from_secs(10), |s| {
        s.records().iter().any(|r| r["event_type"] == "stats" && r["stats"]["decoder"]["pkts"] == sent)
    });
    let live = sensor.stop();
    assert_eq!(live["packets"], sent);
    let inputs = live["inputs"].as_array().unwrap();
    let names: Vec<_> =
        inputs.iter().map(|i| (i["name"].as_str().unwrap(), i["container"].as_str().unwrap(), i["packets"].as_u64().unwrap())).collect();
    assert_eq!(names, [(live::SENSOR_IF, "interface", sent), ("lo", "interface", 0)]);
    assert_eq!(live["decode"]["snaplen_truncated"], longer, "every frame longer than 64 bytes was cut, and counted as such");
}

/// A SPAN session over two ports, one per direction: tcpreplay sends each side of every
/// conversation on its own veth pair (tcpprep splits them by server port), the sensor
/// captures both as one pipeline and hands frames on in time order, so it sees what
/// replay of the file sees: no response before its request, no gap.
#[test]
fn a_span_session_over_two_ports_is_seen_in_time_order() {
    let Some(net) = Net::new("t", &["tcpreplay", "tcprewrite", "tcpprep", "editcap"]) else { return };
    net.add_pair("ots2", "ots3");
    let dir = scratch("span2");
    let plant = dir.join("plant.pcap");
    let mut w = std::fs::File::create(&plant).unwrap();
    otsentry_pcapgen::bench::write_plant(&otsentry_pcapgen::bench::Plant { packets: 50_000, ..Default::default() }, &mut w).unwrap();
    let sendable = rewritten(&plant, &dir);
    let cache = dir.join("plant.cache");
    let o = Command::new("tcpprep")
        .arg("--port")
        .arg(format!("--pcap={}", sendable.display()))
        .arg(format!("--cachefile={}", cache.display()))
        .output()
        .unwrap();
    assert!(o.status.success(), "tcpprep: {}", String::from_utf8_lossy(&o.stderr));
    let sensor = Sensor::start(&net, &dir, &["-i", "ots2", "--stats-interval", "1s"]);
    let o = net.exec(
        &net.peer,
        &[
            "tcpreplay",
            "--topspeed",
            "-c",
            &cache.display().to_string(),
            "-i",
            live::PEER_IF,
            "-I",
            "ots3",
            &sendable.display().to_string(),
        ],
    );
    let sent = live::sent(&String::from_utf8_lossy(&o.stdout)).unwrap();
    sensor.wait_for(Duration::from_secs(30), |s| {
        s.records().iter().rev().find(|r| r["event_type"] == "stats").is_some_and(|r| r["stats"]["decoder"]["pkts"] == sent)
    });
    let live = sensor.stop();
    let replayed = replay_summary(&sendable, &dir, &[]);
    assert_eq!(live["packets"], sent);
    let per_port: Vec<u64> = live["inputs"].as_array().unwrap().iter().map(|i| i["packets"].as_u64().unwrap()).collect();
    assert!(per_port.iter().all(|&n| n > 10_000), "both ports carried a direction: {per_port:?}");
    let rules = timing_free_rules();
    assert_eq!(comparable(&live, &rules), comparable(&replayed, &rules));
    for (what, path) in [
        ("gaps", "/streams/gaps"),
        ("unsolicited Modbus responses", "/protocols/modbus/unsolicited"),
        ("midstream pickups", "/streams/tcp_midstream"),
    ] {
        assert_eq!(live.pointer(path), replayed.pointer(path), "{what}");
    }
    assert_eq!(live["decode"]["merge_late"], 0, "no frame came after a later one of the other port had gone on");
}
