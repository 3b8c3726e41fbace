//! Golden end-to-end tests: each `fixtures/<case>/input.pcap` (rebuilt byte for byte by
//! our builder) replays to exactly `expected.jsonl` and `expected-summary.json`.
//! Bless new expectations with `OTSENTRY_BLESS=1` after reading the diff.
use otsentry_capture::{Input, Location};
use otsentry_engine::{Pipeline, PipelineOptions, RuleSet};
use otsentry_pcapgen::fixtures;
use otsentry_sink::Outputs;
use std::path::Path;

fn run(case: &str) -> (String, String) {
    run_with(case, PipelineOptions::default())
}

fn run_with(case: &str, opts: PipelineOptions) -> (String, String) {
    let input = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures").join(case).join("input.pcap");
    let (outputs, captured) = Outputs::memory();
    let mut replay = Pipeline::new(opts, Some(outputs));
    // Named as a user in the repository's top directory would name it, so that
    // `pcap_filename` is the same on every machine.
    let input = Input { name: format!("fixtures/{case}/input.pcap"), location: Location::File(input) };
    let report = replay.run_input(&input, &mut |_, _| {}).expect("replay");
    assert!(report.damage.is_none());
    let mut summary = replay.finish(0.0);
    let eve = captured.bytes();
    summary.elapsed_s = 0.0;
    summary.packets_per_sec = 0.0;
    let summary = serde_json::to_string_pretty(&summary).expect("json") + "\n";
    (String::from_utf8(eve).expect("utf-8"), summary)
}

#[test]
fn fixtures_are_reproducible_and_replay_to_their_golden_output() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures");
    let bless = std::env::var("OTSENTRY_BLESS").is_ok_and(|v| v == "1");
    for case in fixtures::CASES {
        let dir = root.join(case);
        let committed = std::fs::read(dir.join("input.pcap")).expect("committed fixture (run gen-fixtures)");
        assert!(fixtures::build(case).expect("known case") == committed, "{case}: builder output differs from the committed input.pcap");
        let (eve, summary) = run(case);
        for (name, got) in [("expected.jsonl", &eve), ("expected-summary.json", &summary)] {
            let path = dir.join(name);
            if bless {
                std::fs::write(&path, got).expect("bless");
                continue;
            }
            let want = std::fs::read_to_string(&path).unwrap_or_else(|_| panic!("{}: missing (bless it)", path.display()));
            assert!(&want == got, "{case}/{name} differs:\n--- want\n{want}\n--- got\n{got}");
        }
    }
}

/// The built-in pack's alert lines on `case`, exactly.
fn golden_alerts(case: &str) {
    golden_lines(case, None, &["alert"], "expected-alerts.jsonl");
}

/// The lines of `types` that `case` replays to with the built-in pack (and `policy`),
/// exactly as in `golden`; returns the summary.
fn golden_lines(case: &str, policy: Option<&str>, types: &[&str], golden: &str) -> serde_json::Value {
    let sources = otsentry_rules::Sources { rules: otsentry_engine::default_pack(), ..Default::default() };
    let rules = std::sync::Arc::new(RuleSet::load(&sources, otsentry_engine::schemas()).expect("pack"));
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures").join(case);
    let policy = policy.map(|p| std::sync::Arc::new(otsentry_engine::load_policy(&dir.join(p)).expect("policy")));
    let (eve, summary) = run_with(case, PipelineOptions { rules, policy, ..Default::default() });
    let lines: String =
        eve.lines().filter(|l| types.iter().any(|t| l.contains(&format!(r#""event_type":"{t}""#)))).map(|l| format!("{l}\n")).collect();
    let path = dir.join(golden);
    if std::env::var("OTSENTRY_BLESS").is_ok_and(|v| v == "1") {
        std::fs::write(&path, &lines).expect("bless");
    } else {
        let want = std::fs::read_to_string(&path).unwrap_or_else(|_| panic!("{}: missing (bless it)", path.display()));
        assert!(want == lines, "{case}/{golden} differs:\n--- want\n{want}\n--- got\n{lines}");
    }
    serde_json::from_str(&summary).expect("summary")
}

/// Each trust detection once; the S7comm-plus close, the routed second path and the
/// refused firmware and programming codes raise nothing above info of their own; the
/// padded and the hidden requests are seen.
#[test]
fn the_trust_fixture_raises_its_golden_alerts() {
    golden_alerts("trust");
    let ids = golden_rule_ids("trust");
    for want in [
        "modbus.umas.stop_plc",
        "s7comm.plc_stop",
        "network.sender.second_path",
        "modbus.scan.function_codes",
        "modbus.scan.unit_ids_addressed",
        "dnp3.control.failed",
        "dnp3.select.not_operated",
        "dnp3.operate.without_select",
        "dnp3.master.second",
    ] {
        assert!(ids.iter().any(|i| i == want), "{want} missing from {ids:?}");
    }
    assert_eq!(ids.iter().filter(|i| *i == "modbus.umas.stop_plc").count(), 2, "the padded stop and the hidden one");
    for never in ["s7comm_plus.delete_object", "network.sender.session_changed", "modbus.firmware.replacement", "modbus.program.modicon"] {
        assert!(!ids.iter().any(|i| i == never), "{never} raised: {ids:?}");
    }
}

/// The rule id of each alert in a fixture's golden alerts, in order.
fn golden_rule_ids(case: &str) -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures").join(case).join("expected-alerts.jsonl");
    let text = std::fs::read_to_string(path).expect("golden");
    let id = |l: &str| {
        serde_json::from_str::<serde_json::Value>(l).expect("json")["alert"]["metadata"]["rule_id"][0].as_str().map(str::to_string)
    };
    text.lines().map(|l| id(l).unwrap_or_default()).collect()
}

#[test]
fn the_demo_raises_its_golden_alerts() {
    golden_alerts("demo");
}

/// ARP spoofing, a relayed session, a port and a host scan raise their alerts (and
/// nothing else); a DHCP client's probes, a retransmission from the sender's own MAC
/// and an HMI polling 30 PLCs raise none.
#[test]
fn the_network_fixture_raises_its_golden_alerts() {
    golden_alerts("network");
    let rules = golden_rule_ids("network");
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/network/expected-alerts.jsonl"))
        .expect("golden");
    assert_eq!(
        rules,
        [
            "network.arp.spoofing",
            "network.arp.spoofing",
            "network.sender.session_changed",
            "network.relay.segments",
            "network.scan.ports",
            "network.scan.hosts"
        ]
    );
    // The negatives: nothing from the DHCP client, the retransmission or the busy HMI.
    for quiet in ["10.20.2.50", "10.20.1.11"] {
        assert!(!text.contains(quiet), "{quiet} raised an alert");
    }
}

/// The segmentation policy's decisions on the `segmentation` fixture (its traffic and
/// `policy.yaml` say why each is raised or not): the alerts and the end-of-run
/// `segmentation` records, exactly; then what they mean, spelled out.
#[test]
fn the_segmentation_fixture_raises_its_golden_policy_decisions() {
    let summary = golden_lines("segmentation", Some("policy.yaml"), &["alert", "segmentation"], "expected-policy.jsonl");
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/segmentation/expected-policy.jsonl"))
        .expect("golden");
    let lines: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).expect("json")).collect();
    let s = |v: &serde_json::Value, k: &str| v["segmentation"][k].as_str().unwrap_or("-").to_string();
    let decisions: Vec<String> = lines
        .iter()
        .filter(|l| l["event_type"] == "alert" && l["segmentation"].is_object())
        .map(|l| {
            let rule = l["alert"]["metadata"]["rule_id"][0].as_str().unwrap_or("").trim_start_matches("policy.segmentation.");
            format!("{rule} {}>{} {} {}", s(l, "src_zone"), s(l, "dst_zone"), s(l, "protocol"), s(l, "function_class"))
        })
        .collect();
    assert_eq!(
        decisions,
        [
            // Conduit 1 allows read, write and control: not diagnostic or identification.
            "ot scada>cell-a modbus diagnostic",
            "ot scada>cell-a modbus identification",
            "ot scada>cell-a dnp3 program",
            // Conduit 2: S7 reads and writes, no download.
            "ot scada>cell-a s7comm program",
            // Conduit 3: engineering may read, program, diagnose and identify.
            "ot engineering>cell-a s7comm write",
            "ot engineering>cell-a s7comm management",
            // Conduit 1 opened from its `to` side.
            "ot cell-a>scada modbus -",
            // Cell B's address untagged: outside every zone.
            "ot scada>outside modbus -",
            "skip_levels enterprise>cell-a modbus -",
            "it_service enterprise>cell-a ssh -",
            "it_service enterprise>dmz rdp -",
            // Conduit 6 is `initiator: to`: the DMZ may not open it.
            "it_service dmz>scada ssh -",
            "it_service outside>scada https -",
            "it_service enterprise>scada snmp -",
            "ot outside>scada modbus -",
        ]
    );
    // Levels travel with the zones; the enterprise into a cell is the one critical.
    let critical: Vec<&serde_json::Value> =
        lines.iter().filter(|l| l["segmentation"].is_object() && l["alert"]["metadata"]["severity"][0] == "critical").collect();
    assert_eq!(critical.len(), 1);
    assert_eq!((s(critical[0], "src_level"), s(critical[0], "dst_level")), ("4".into(), "1".into()));
    // Counted, not raised again: the second diagnostic and the second save configuration.
    let count = |src: &str, class: &str| {
        lines
            .iter()
            .find(|l| l["event_type"] == "segmentation" && l["src_ip"] == src && s(l, "function_class") == class)
            .map_or(0, |l| l["segmentation"]["count"].as_u64().unwrap_or(0))
    };
    assert_eq!((count("10.60.2.10", "diagnostic"), count("10.60.2.10", "program")), (2, 2));
    // Below a protocol no conduit allows, its functions are counted (a suggested conduit
    // would need them) but raise nothing of their own.
    assert_eq!(count("10.60.1.20", "read"), 1);
    // Allowed: cell B on its VLAN, HTTPS into the DMZ, SCADA's SSH to the DMZ; not
    // checked: inside cell A.
    let raised = |f: &dyn Fn(&serde_json::Value) -> bool| lines.iter().any(|l| l["segmentation"].is_object() && f(l));
    assert!(!raised(&|l| l["vlan"][0] == 200), "cell B on its VLAN");
    assert!(!raised(&|l| l["dest_ip"] == "10.60.5.5" && l["segmentation"]["protocol"] == "https"), "HTTPS into the DMZ");
    assert!(!raised(&|l| l["src_ip"] == "10.60.2.10" && l["dest_ip"] == "10.60.5.5"), "SCADA's SSH to the DMZ");
    assert!(!raised(&|l| l["src_ip"] == "10.60.1.20" && l["dest_ip"] == "10.60.1.30"), "inside cell A");
    // Every conduit carried traffic, in file order.
    let used: Vec<u64> = summary["segmentation"]["conduits_used"].as_array().expect("used").iter().filter_map(|n| n.as_u64()).collect();
    assert_eq!(used.len(), 6);
    assert!(used.iter().all(|&n| n > 0), "{used:?}");
}

/// The learned baseline on its fixture: learned from `learn.pcap` (an hour of a small
/// plant) to exactly `baseline.json`; `input.pcap` (twelve hours later) raises exactly
/// `expected-alerts.jsonl`: nothing in its first two quiet minutes (values inside the
/// learned ranges, polls within the learned jitter, a new time of day), then one of
/// each departure.
#[test]
fn the_baseline_fixture_learns_its_golden_file_and_raises_one_of_each_departure() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/baseline");
    let bless = std::env::var("OTSENTRY_BLESS").is_ok_and(|v| v == "1");
    for (name, built) in [("learn.pcap", otsentry_pcapgen::baseline::learn()), ("input.pcap", otsentry_pcapgen::baseline::check())] {
        assert!(std::fs::read(dir.join(name)).expect("committed (run gen-fixtures)") == built, "{name}: builder output differs");
    }
    let mut run = Pipeline::new(PipelineOptions { learn: Some(Default::default()), ..Default::default() }, None);
    let learn = Input { name: "fixtures/baseline/learn.pcap".into(), location: Location::File(dir.join("learn.pcap")) };
    run.run_input(&learn, &mut |_, _| {}).expect("replay");
    let file = run.finish_learning(0.0).1.expect("learning").finish(&otsentry_baseline::Vendors::default());
    let text = otsentry_baseline::to_text(&file);
    let golden = dir.join("baseline.json");
    if bless {
        std::fs::write(&golden, &text).expect("bless");
    }
    let want = std::fs::read_to_string(&golden).expect("golden baseline (bless it)");
    assert!(want == text, "baseline.json differs:\n--- want\n{want}\n--- got\n{text}");
    // The file reads back as written.
    assert_eq!(otsentry_engine::parse_baseline(&golden, &want).expect("parses"), file);

    let sources = otsentry_rules::Sources { rules: otsentry_engine::default_pack(), ..Default::default() };
    let rules = std::sync::Arc::new(RuleSet::load(&sources, otsentry_engine::schemas()).expect("pack"));
    let baseline = Some(std::sync::Arc::new(otsentry_baseline::Baseline::new(file)));
    let (eve, _) = run_with("baseline", PipelineOptions { rules, baseline, ..Default::default() });
    let alerts: String = eve.lines().filter(|l| l.contains(r#""event_type":"alert""#)).map(|l| format!("{l}\n")).collect();
    let path = dir.join("expected-alerts.jsonl");
    if bless {
        std::fs::write(&path, &alerts).expect("bless");
    }
    let want = std::fs::read_to_string(&path).expect("golden alerts (bless them)");
    assert!(want == alerts, "baseline alerts differ:\n--- want\n{want}\n--- got\n{alerts}");

    let lines: Vec<serde_json::Value> = alerts.lines().map(|l| serde_json::from_str(l).expect("json")).collect();
    let found: Vec<String> = lines
        .iter()
        .filter(|l| l["baseline"].is_object())
        .map(|l| format!("{} {}", l["alert"]["metadata"]["rule_id"][0].as_str().unwrap_or(""), l["src_ip"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(
        found,
        [
            "baseline.value 10.30.1.10",
            "baseline.asset.new 10.30.9.9",
            "baseline.pair.new 10.30.9.9",
            "baseline.value 10.30.9.9",
            "baseline.function.new 10.30.1.10",
            "baseline.range.read 10.30.1.10",
            "baseline.range.write 10.30.1.10",
            "baseline.identity 10.30.1.10",
            "baseline.value 10.30.3.5",
            "baseline.value 10.30.1.20",
            "baseline.burst 10.30.1.10",
            "baseline.poll.stopped 10.30.1.10",
        ]
    );
    // Both writes of 65535 carry the learned range of register 16: the HMI's own, and
    // (for the new host) what the HMI wrote.
    for l in lines.iter().filter(|l| l["baseline"]["kind"] == "value" && l["baseline"]["space"] == "modbus/unit1/holding_registers") {
        let b = &l["baseline"];
        assert_eq!(
            (b["learned_min"].as_f64(), b["learned_max"].as_f64(), b["value"].as_f64()),
            (Some(40.0), Some(60.0), Some(65535.0)),
            "{b}"
        );
        assert!(b["expected"].as_str().unwrap_or("").contains("40..60"), "{b}");
    }
    // The list above is every baseline alert: the first two minutes (setpoints 45 and
    // 58, polls with their jitter, twelve hours after learning) raised none.
    assert!(!lines.iter().any(|l| l["baseline"]["value"].as_f64().is_some_and(|v| v == 45.0 || v == 58.0)));
}

/// The per-function totals stay as they were, with requests and responses beside them
/// that add up to them, for every fixture.
#[test]
fn function_totals_split_into_requests_and_responses() {
    let mut dnp3_split = (0, 0);
    for case in otsentry_pcapgen::fixtures::CASES {
        let (_, summary) = run(case);
        let v: serde_json::Value = serde_json::from_str(&summary).unwrap();
        for proto in ["modbus", "dnp3", "s7comm"] {
            let p = &v["protocols"][proto];
            for (code, n) in p["functions"].as_object().unwrap() {
                let part = |k: &str| p[k][code].as_u64().unwrap_or(0);
                assert_eq!(part("function_requests") + part("function_responses"), n.as_u64().unwrap(), "{case} {proto} {code}");
            }
        }
        // DNP3 responses are the codes 0x81 to 0x83 (129 to 131), whichever way they go.
        let d = &v["protocols"]["dnp3"];
        let codes = |k: &str| d[k].as_object().unwrap().keys().map(|c| c.parse::<u32>().unwrap()).collect::<Vec<_>>();
        assert!(codes("function_responses").iter().all(|c| (129..=131).contains(c)), "{case} {d}");
        assert!(codes("function_requests").iter().all(|c| !(129..=131).contains(c)), "{case} {d}");
        dnp3_split.0 += codes("function_requests").len();
        dnp3_split.1 += codes("function_responses").len();
    }
    assert!(dnp3_split.0 > 0 && dnp3_split.1 > 0, "the fixtures hold DNP3 requests and responses: {dnp3_split:?}");
}

/// `asset` records of the identities fixture, exactly as in `fixtures/report/expected-assets.jsonl`:
/// each device's first sighting, the roles its conversations give it, each identity
/// attribute it states (MEI objects, SZL 0x0011/0x001C, DNP3 group 0), and the S7 PLC's
/// firmware update as a change with its old and new values.
#[test]
fn asset_records_say_what_each_device_showed_and_what_changed() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/report");
    let (outputs, captured) = Outputs::memory();
    let mut replay = Pipeline::new(PipelineOptions::default(), Some(outputs));
    let input = Input { name: "fixtures/report/identities.pcap".into(), location: Location::File(dir.join("identities.pcap")) };
    replay.run_input(&input, &mut |_, _| {}).expect("replay");
    replay.finish(0.0);
    let eve = String::from_utf8(captured.bytes()).expect("utf-8");
    let lines: String = eve.lines().filter(|l| l.contains(r#""event_type":"asset""#)).map(|l| format!("{l}\n")).collect();
    let path = dir.join("expected-assets.jsonl");
    if std::env::var("OTSENTRY_BLESS").is_ok_and(|v| v == "1") {
        std::fs::write(&path, &lines).expect("bless");
    }
    let want = std::fs::read_to_string(&path).unwrap_or_else(|_| panic!("{}: missing (bless it)", path.display()));
    assert!(want == lines, "expected-assets.jsonl differs:\n--- want\n{want}\n--- got\n{lines}");
    // What the golden file must say, whatever it was blessed with.
    let records: Vec<serde_json::Value> =
        lines.lines().map(|l| serde_json::from_str::<serde_json::Value>(l).expect("json")["asset"].clone()).collect();
    let find = |ip: &str, change: &str, field: Option<&str>| {
        records.iter().find(|r| r["ip"] == ip && r["change"] == change && field.is_none_or(|f| r["field"] == f)).cloned()
    };
    for (ip, role) in [("10.40.2.10", "plc"), ("10.40.2.20", "plc"), ("10.40.2.30", "outstation"), ("10.40.1.20", "master")] {
        assert!(find(ip, "new", None).is_some(), "{ip}: no first sighting");
        let r = find(ip, "role", None).unwrap_or_else(|| panic!("{ip}: no role"));
        assert_eq!(r["new"], role, "{ip}");
    }
    for (ip, field, value) in [
        ("10.40.2.10", "vendor", "Schneider Electric"),
        ("10.40.2.10", "product", "BMX P34 2020"),
        ("10.40.2.20", "model", "6ES7 516-3AN01-0AB0"),
        ("10.40.2.20", "serial", "S C-X4U123456789"),
        ("10.40.2.30", "vendor", "Acme RTU Co"),
        ("10.40.2.30", "serial", "SN-0042"),
    ] {
        let r = find(ip, "identity", Some(field)).unwrap_or_else(|| panic!("{ip}: no {field}"));
        assert_eq!((r["old"].clone(), r["new"].as_str()), (serde_json::Value::Null, Some(value)), "{ip} {field}");
    }
    let firmware: Vec<_> = records.iter().filter(|r| r["ip"] == "10.40.2.20" && r["field"] == "firmware").collect();
    assert_eq!(firmware.len(), 2, "a first value, then the update");
    assert_eq!((firmware[1]["old"].as_str(), firmware[1]["new"].as_str()), (Some("V2.8.3"), Some("V2.9.0")));
    assert_eq!(firmware[1]["identity"]["firmware"], "V2.9.0", "the record shows the asset as it is now");
    assert_eq!(records.iter().filter(|r| r["change"] == "new").count(), 6, "every address that sent, once");
}

/// A link without MACs (raw IP): each side of a flow is still an asset from its first
/// packet, the server as soon as it answers (a MAC-less side once looked unchanged and
/// waited for the ten-second refresh).
#[test]
fn raw_ip_hosts_are_assets_from_their_first_packet() {
    let mut c = otsentry_pcapgen::session::Capture::new();
    c.modbus("10.40.1.10:49152", "10.40.2.10:502", &[(&[0x03, 0x00, 0x00, 0x00, 0x01], Some(&[0x03, 0x02, 0x00, 0x07]))]);
    let ethernet = c.into_bytes();
    // The same packets without their Ethernet headers, as LINKTYPE_RAW (101).
    let mut raw = otsentry_pcapgen::writer::PcapWriter::with_options(101, 65_535, true, false);
    let mut at = 24;
    while let Some(header) = ethernet.get(at..at + 16) {
        let word = |i: usize| u32::from_le_bytes(header[i..i + 4].try_into().unwrap());
        let len = word(8) as usize;
        let ts = u64::from(word(0)) * 1_000_000_000 + u64::from(word(4));
        raw.packet(ts, &ethernet[at + 16 + 14..at + 16 + len]);
        at += 16 + len;
    }
    let dir = std::env::temp_dir().join(format!("otsentry-rawip-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("raw.pcap");
    std::fs::write(&path, raw.into_bytes()).unwrap();
    let (outputs, captured) = Outputs::memory();
    let mut replay = Pipeline::new(PipelineOptions::default(), Some(outputs));
    replay.run_input(&Input { name: "raw.pcap".into(), location: Location::File(path) }, &mut |_, _| {}).expect("replay");
    replay.finish(0.0);
    let records: Vec<serde_json::Value> = String::from_utf8(captured.bytes())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|r| r["event_type"] == "asset")
        .collect();
    let new: Vec<(&str, u64)> = records
        .iter()
        .filter(|r| r["asset"]["change"] == "new")
        .map(|r| (r["asset"]["ip"].as_str().unwrap(), r["pcap_cnt"].as_u64().unwrap()))
        .collect();
    assert_eq!(new, [("10.40.1.10", 1), ("10.40.2.10", 2)], "the client at its SYN, the server at its SYN-ACK");
    assert!(records.iter().all(|r| r["asset"]["macs"] == serde_json::json!([])));
    let _ = std::fs::remove_dir_all(&dir);
}
