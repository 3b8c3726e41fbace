//! Detection without a variables file or a baseline: the host sets the rules name are
//! inferred from a first pass over the capture, so process changes by hosts that never
//! polled raise a high alert naming them, while the routine traffic raises nothing of
//! medium or above, and an attacker present from the first packet is still judged.
use otsentry_pcapgen::routine::{build, CASES, INTRUDER};
use std::process::Command;

/// Alerts of medium and above: (rule id, source address, severity).
fn loud(case: &str, extra: &[&str]) -> Vec<(String, String, String)> {
    let dir = std::env::temp_dir().join(format!("otsentry-ootb-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pcap = dir.join(format!("{case}.pcap"));
    std::fs::write(&pcap, build(case)).unwrap();
    let eve = dir.join(format!("{case}.json"));
    let out = Command::new(env!("CARGO_BIN_EXE_otsentry"))
        .args(["replay", "-q", "--eve"])
        .arg(&eve)
        .args(["--eve-types", "alert"])
        .args(extra)
        .arg(&pcap)
        .output()
        .unwrap();
    assert!(out.status.success(), "{case}: {}", String::from_utf8_lossy(&out.stderr));
    std::fs::read_to_string(&eve)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .map(|a| {
            let s = |v: &serde_json::Value| v.as_str().unwrap_or("").to_string();
            (s(&a["alert"]["metadata"]["rule_id"][0]), s(&a["src_ip"]), s(&a["alert"]["metadata"]["severity"][0]))
        })
        .filter(|(_, _, sev)| matches!(sev.as_str(), "medium" | "high" | "critical"))
        .collect()
}

#[test]
fn routine_traffic_alone_raises_nothing_of_medium_or_above() {
    assert!(CASES.contains(&"routine"));
    assert_eq!(loud("routine", &[]), vec![]);
}

#[test]
fn each_attack_after_routine_traffic_raises_a_high_alert_naming_its_host() {
    for (case, rule) in [
        ("register-writes", "modbus.write.unauthorized_source"),
        ("write-flood", "modbus.write.unauthorized_source"),
        ("s7-flag-writes", "s7comm.write.unauthorized_source"),
        ("second-master", "dnp3.control.unauthorized_master"),
        ("attacker-first", "modbus.write.unauthorized_source"),
    ] {
        let got = loud(case, &[]);
        let hit = got.iter().find(|(r, _, _)| r == rule);
        assert!(hit.is_some_and(|(_, src, sev)| src == INTRUDER && sev == "high"), "{case}: no high {rule} from {INTRUDER}: {got:?}");
        assert!(got.iter().all(|(_, src, _)| src == INTRUDER), "{case}: an alert about a routine host: {got:?}");
        // Without the warm-up these rules stay quiet: the inference is what finds them.
        let quiet = loud(case, &["--warmup", "off"]);
        assert!(!quiet.iter().any(|(r, _, _)| r == rule), "{case}: {rule} without inference: {quiet:?}");
    }
}
