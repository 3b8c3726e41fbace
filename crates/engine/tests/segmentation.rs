//! The segmentation policy on builder captures: each decision of a conduit (protocol,
//! function class, initiator), default deny, IT services, the unknown zone, VLAN-scoped
//! zones, and one event per conversation with its count in the summary.
use otsentry_engine::default_pack;
use otsentry_engine::{Pipeline, PipelineOptions, RuleSet};
use otsentry_pcapgen::session::*;
use otsentry_rules::Sources;
use std::sync::Arc;

const POLICY: &str = "\
zones:
  - name: enterprise
    level: 4
    networks: [10.50.0.0/16]
  - name: scada
    level: 2
    networks: [10.51.0.0/16]
  - name: cell
    level: 1
    networks: [10.52.0.0/16]
  - name: cell-b
    level: 1
    networks: [10.53.0.0/16]
    vlans: [200]
conduits:
  - from: scada
    to: cell
    protocols: [modbus]
    functions: [read]
  - from: scada
    to: cell-b
    protocols: [modbus]
    initiator: either
";

/// The summary of a replay of `pcap` under the policy, with the default rule pack.
fn run(name: &str, pcap: Vec<u8>) -> otsentry_core::Summary {
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("segmentation-{name}.pcap"));
    std::fs::write(&path, pcap).unwrap();
    let rules = Arc::new(RuleSet::load(&Sources { rules: default_pack(), vars: None, tuning: None }, otsentry_engine::schemas()).unwrap());
    let policy = Arc::new(otsentry_engine::parse_policy(std::path::Path::new("p.yaml"), POLICY).unwrap());
    let mut replay = Pipeline::new(PipelineOptions { rules, policy: Some(policy), ..Default::default() }, None);
    replay.run_file(&path, &mut |_, _| {}).unwrap();
    replay.finish(1.0)
}

fn capture(f: impl FnOnce(&mut Capture)) -> Vec<u8> {
    let mut c = Capture::new();
    f(&mut c);
    c.into_bytes()
}

const READ: &[u8] = &[0x03, 0x00, 0x00, 0x00, 0x02];
const WRITE: &[u8] = &[0x06, 0x00, 0x01, 0x00, 0x2A];

fn forbidden(s: &otsentry_core::Summary) -> Vec<(String, String, String, Option<&'static str>, u64)> {
    s.segmentation
        .conversations
        .iter()
        .map(|f| (f.src_zone.clone(), f.dest_zone.clone(), f.protocol.clone(), f.function_class, f.count))
        .collect()
}

#[test]
fn a_conduit_allows_its_class_and_nothing_else_once_per_conversation() {
    let s = run(
        "classes",
        capture(|c| {
            c.modbus("10.51.0.5:50001", "10.52.0.2:502", &[(READ, None), (WRITE, None), (WRITE, None), (READ, None), (WRITE, None)])
        }),
    );
    assert_eq!(forbidden(&s), vec![("scada".into(), "cell".into(), "modbus".into(), Some("write"), 3)]);
    assert_eq!(s.alerts.by_rule.get("policy.segmentation.ot"), Some(&1), "{:?}", s.alerts.by_rule);
    let f = &s.segmentation.conversations[0];
    assert!(f.first_seen < f.last_seen);
    // The read conduit was used (the protocol, then its reads); the cell-b one was not.
    assert_eq!(s.segmentation.conduits_used, vec![2, 0]);
}

#[test]
fn only_the_initiator_side_may_open_the_conversation() {
    // The cell's PLC polling the scada host: the conduit runs the other way.
    let s = run("initiator", capture(|c| c.modbus("10.52.0.2:50002", "10.51.0.5:502", &[(READ, None)])));
    // The conduit's protocol from the wrong side: one alert for the conversation; its
    // reads are counted beside it (what a conduit for it would have to allow).
    let found: Vec<_> = forbidden(&s).iter().map(|f| (f.0.clone(), f.1.clone(), f.3)).collect();
    assert_eq!(found, vec![("cell".into(), "scada".into(), None), ("cell".into(), "scada".into(), Some("read"))]);
    assert_eq!(s.alerts.by_rule.get("policy.segmentation.ot"), Some(&1));
    // `initiator: either` lets the cell-b side open it too.
    let s = run(
        "either",
        capture(|c| {
            c.vlan = vec![200];
            c.modbus("10.53.0.2:50003", "10.51.0.5:502", &[(READ, None)]);
        }),
    );
    assert_eq!(forbidden(&s), vec![], "no conduit needed");
}

#[test]
fn default_deny_covers_it_services_and_the_unknown_zone() {
    let s = run(
        "it",
        capture(|c| {
            let mut ssh = c.connect("10.50.0.5:50010", "10.52.0.9:22");
            c.client(&mut ssh, b"SSH-2.0-x\r\n");
            let mut web = c.connect("192.168.7.7:50011", "10.51.0.9:443");
            c.client(&mut web, b"\x16\x03\x01");
        }),
    );
    let found = forbidden(&s);
    // Counted per packet of the conversation: handshake and data.
    assert!(found.iter().any(|f| f.0 == "enterprise" && f.1 == "cell" && f.2 == "ssh" && f.3.is_none() && f.4 >= 4), "{found:?}");
    assert!(found.iter().any(|f| f.0 == "unknown" && f.1 == "scada" && f.2 == "https"), "{found:?}");
    assert_eq!(s.alerts.by_rule.get("policy.segmentation.it_service"), Some(&2), "{:?}", s.alerts.by_rule);
}

#[test]
fn enterprise_into_the_cell_is_critical_and_a_same_zone_poll_is_not_checked() {
    let s = run("skip", capture(|c| c.modbus("10.50.0.5:50020", "10.52.0.2:502", &[(READ, None)])));
    assert_eq!(s.alerts.by_rule.get("policy.segmentation.skip_levels"), Some(&1), "{:?}", s.alerts.by_rule);
    assert_eq!(s.alerts.by_severity.get("critical"), Some(&1));
    assert!(!s.alerts.by_rule.contains_key("policy.segmentation.ot"));
    let s = run("same", capture(|c| c.modbus("10.52.0.7:50021", "10.52.0.2:502", &[(WRITE, None)])));
    assert_eq!(forbidden(&s), vec![]);
}

#[test]
fn a_vlan_scoped_zone_holds_only_its_vlan() {
    // 10.53/16 is cell-b only on VLAN 200; untagged it is in no zone.
    let untagged = run("vlan-none", capture(|c| c.modbus("10.51.0.5:50030", "10.53.0.2:502", &[(WRITE, None)])));
    let found = forbidden(&untagged);
    assert!(found.iter().any(|f| f.1 == "unknown"), "{found:?}");
    let tagged = run(
        "vlan-200",
        capture(|c| {
            c.vlan = vec![200];
            c.modbus("10.51.0.5:50031", "10.53.0.2:502", &[(WRITE, None)]);
        }),
    );
    assert_eq!(forbidden(&tagged), vec![], "scada to cell-b allows modbus");
}
