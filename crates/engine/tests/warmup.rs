//! A sensor's warm-up: the host sets the rules name are inferred from the first traffic,
//! the rules rebuilt with them, and what comes after is judged (the replay's first pass
//! is the binary's and is tested there).
use otsentry_engine::default_pack;
use otsentry_engine::{Pipeline, PipelineOptions, RuleSet, Warmup};
use otsentry_pcapgen::routine::{build, HMI, INTRUDER, MASTER};
use otsentry_rules::Sources;
use std::sync::{Arc, Mutex};

fn run(case: &str, warmup_s: i64) -> (Vec<(String, String)>, otsentry_core::Summary) {
    let sources = Sources { rules: default_pack(), ..Default::default() };
    let rules = Arc::new(RuleSet::load(&sources, otsentry_engine::schemas()).expect("pack"));
    let warmup = Warmup { duration_ns: Some(warmup_s * 1_000_000_000), sources: Some(Arc::new(sources)) };
    let mut run = Pipeline::new(PipelineOptions { rules, warmup: Some(warmup), ..Default::default() }, None);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    run.on_alert(Box::new(move |a: &otsentry_core::Alert| {
        let src = a.header.src_ip.map(|ip| ip.to_string()).unwrap_or_default();
        sink.lock().unwrap().push((a.alert.info.rule_id.to_string(), src));
    }));
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("warmup-{case}-{warmup_s}.pcap"));
    std::fs::write(&path, build(case)).unwrap();
    run.run_file(&path, &mut |_, _| {}).expect("replay");
    let summary = run.finish(1.0);
    let alerts = std::mem::take(&mut *seen.lock().unwrap());
    (alerts, summary)
}

#[test]
fn after_the_warm_up_a_host_outside_the_inferred_sets_is_judged() {
    let (alerts, summary) = run("register-writes", 30);
    assert!(alerts.contains(&("modbus.write.unauthorized_source".to_string(), INTRUDER.to_string())), "{alerts:?}");
    assert!(!alerts.iter().any(|(_, src)| src == HMI || src == MASTER), "routine hosts: {alerts:?}");
    assert_eq!(summary.alerts.inferred.get("HMI"), Some(&2), "both HMIs polled and wrote");
    assert_eq!(summary.alerts.dormant, 0, "the rules rebuilt with the sets wait for nothing");
}

#[test]
fn before_the_warm_up_ends_the_rules_that_need_the_sets_wait() {
    // A warm-up longer than the capture: the write is not judged, and the summary says why.
    let (alerts, summary) = run("register-writes", 3600);
    assert!(!alerts.iter().any(|(r, _)| r == "modbus.write.unauthorized_source"), "{alerts:?}");
    assert!(summary.alerts.dormant >= 3 && summary.alerts.waiting_for.contains(&"HMI".to_string()), "{:?}", summary.alerts);
}
