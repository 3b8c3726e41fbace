//! Replaying a capture (a file, a zip, a directory) with the built-in rule pack, for
//! the tests that judge the pack on third-party captures.
use otsentry_core::Alert;
use otsentry_engine::default_pack;
use otsentry_engine::{Pipeline, PipelineOptions, RuleSet};
use otsentry_rules::Sources;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// Every alert the pack raises on `capture`, in order; each also counted once.
pub(crate) fn alerts(capture: &Path) -> Vec<Alert> {
    let rules =
        Arc::new(RuleSet::load(&Sources { rules: default_pack(), ..Default::default() }, otsentry_engine::schemas()).expect("pack"));
    let mut run: Pipeline = Pipeline::new(PipelineOptions { rules, ..Default::default() }, None);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    run.on_alert(Box::new(move |a: &Alert| sink.lock().expect("lock").push(a.clone())));
    for input in otsentry_capture::plan(&[capture.to_path_buf()], false).expect("plan").inputs {
        run.run_input(&input, &mut |_, _| {}).expect("replay");
    }
    let summary = run.finish(1.0);
    let alerts = std::mem::take(&mut *seen.lock().expect("lock"));
    assert_eq!(alerts.len() as u64, summary.alerts.total, "every alert counted once");
    alerts
}
