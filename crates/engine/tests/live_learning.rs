//! Learning on the wire (`PipelineOptions::learn_for`): the first seconds of traffic are
//! learned, the learner goes to the hook (which writes the file in the binary), and the
//! traffic after is checked against what was learned, also across a reload that names
//! no baseline file.
use otsentry_engine::{Detection, LiveLearning, Pipeline, PipelineOptions};
use otsentry_pcapgen::ot::modbus_adu;
use otsentry_pcapgen::session::{Capture, MS};
use std::sync::{Arc, Mutex};

const HMI: &str = "10.1.0.10:40000";
const PLC: &str = "10.1.0.20:502";

/// The HMI reads holding registers every 200 ms for `seconds`, from `start_ms`.
fn polls(c: &mut Capture, client: &str, seconds: u64) {
    let mut conn = c.connect(client, PLC);
    for tid in 0..(seconds * 5) as u16 {
        c.client(&mut conn, &modbus_adu(tid, 1, &[0x03, 0x00, 0x00, 0x00, 0x04]));
        c.server(&mut conn, &modbus_adu(tid, 1, &[0x03, 0x08, 0, 1, 0, 2, 0, 3, 0, 4]));
        c.wait(180);
    }
}

fn write(path: &std::path::Path, c: Capture) {
    std::fs::write(path, c.into_bytes()).unwrap();
}

#[test]
fn the_first_seconds_are_learned_then_checked_and_a_reload_keeps_what_was_learned() {
    let dir = std::env::temp_dir().join(format!("otsentry-live-learning-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // Eight seconds of polling: five learned, three checked (nothing new in them).
    let mut routine = Capture::new();
    polls(&mut routine, HMI, 8);
    let t = routine.t;
    write(&dir.join("routine.pcap"), routine);
    // Then a write from the HMI and a read from a laptop: a new function, a new pair.
    let mut attack = Capture::new();
    attack.t = t + 1000 * MS;
    let mut hmi = attack.connect("10.1.0.10:40001", PLC);
    attack.client(&mut hmi, &modbus_adu(1, 1, &[0x06, 0x00, 0x10, 0x00, 0xff]));
    polls(&mut attack, "10.1.0.99:50000", 1);
    write(&dir.join("attack.pcap"), attack);

    let handed: Arc<Mutex<Option<(usize, usize)>>> = Arc::default();
    let seen = handed.clone();
    let learned = move |learner: otsentry_baseline::Learner| {
        let file = learner.finish(&otsentry_baseline::Vendors::default());
        *seen.lock().unwrap() = Some((file.pairs.len(), file.learned.requests as usize));
        Some(Arc::new(otsentry_baseline::Baseline::new(file)))
    };
    let opts = PipelineOptions {
        learn: Some(otsentry_baseline::BaselineFile::default()),
        learn_for: Some(LiveLearning { duration_ns: 5_000_000_000, learned: Arc::new(Mutex::new(learned)) }),
        ..Default::default()
    };
    let rules = opts.rules.clone();
    let mut p = Pipeline::new(opts, None);
    p.run_file(&dir.join("routine.pcap"), &mut |_, _| {}).unwrap();
    let (pairs, requests) = handed.lock().unwrap().expect("the learner was handed over after five seconds");
    assert_eq!(pairs, 1, "the HMI's poll of the PLC was learned");
    assert!((20..=30).contains(&requests), "about five seconds of polls were learned, not eight: {requests}");
    // A reload that names no baseline (rules only) keeps the learned one.
    p.reload(Detection { rules, sources: None, policy: None, baseline: None });
    p.run_file(&dir.join("attack.pcap"), &mut |_, _| {}).unwrap();
    let s = p.finish(0.0);
    let departures = &s.baseline;
    assert_eq!(departures.get("new_function").copied(), Some(1), "{departures:?}");
    assert_eq!(departures.get("new_pair").copied().map(|n| n >= 1), Some(true), "{departures:?}");
    assert_eq!(departures.get("new_asset").copied().map(|n| n >= 1), Some(true), "{departures:?}");
    assert!(!departures.contains_key("range") && !departures.contains_key("burst"), "the checked routine raised nothing: {departures:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
