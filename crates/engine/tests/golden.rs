//! Golden end-to-end tests: each `fixtures/<case>/input.pcap` (rebuilt byte for byte by
//! our builder) replays to exactly `expected.jsonl` and `expected-summary.json`.
//! Bless new expectations with `OTSENTRY_BLESS=1` after reading the diff.
use otsentry_capture::{Input, Location};
use otsentry_engine::{Replay, ReplayOptions, RuleSet, SCHEMAS};
use otsentry_pcapgen::fixtures;
use otsentry_sink::Outputs;
use std::path::Path;

fn run(case: &str) -> (String, String) {
    run_with(case, ReplayOptions::default())
}

fn run_with(case: &str, opts: ReplayOptions) -> (String, String) {
    let input = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures").join(case).join("input.pcap");
    let (outputs, captured) = Outputs::memory();
    let mut replay = Replay::new(opts, Some(outputs));
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
    let sources = otsentry_rules::Sources { rules: otsentry_rules::default_pack(), ..Default::default() };
    let rules = std::sync::Arc::new(RuleSet::load(&sources, &SCHEMAS).expect("pack"));
    let (eve, _) = run_with(case, ReplayOptions { rules, ..Default::default() });
    let alerts: String = eve.lines().filter(|l| l.contains(r#""event_type":"alert""#)).map(|l| format!("{l}\n")).collect();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures").join(case).join("expected-alerts.jsonl");
    if std::env::var("OTSENTRY_BLESS").is_ok_and(|v| v == "1") {
        std::fs::write(&path, &alerts).expect("bless");
        return;
    }
    let want = std::fs::read_to_string(&path).unwrap_or_else(|_| panic!("{}: missing (bless it)", path.display()));
    assert!(want == alerts, "{case} alerts differ:\n--- want\n{want}\n--- got\n{alerts}");
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
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/network/expected-alerts.jsonl"))
        .expect("golden");
    let rules: Vec<String> = text
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).expect("json")["alert"]["metadata"]["rule_id"][0]
                .as_str()
                .unwrap_or("")
                .to_string()
        })
        .collect();
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
