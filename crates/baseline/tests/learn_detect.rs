//! Learning and checking through the observer calls a dissector makes: what passes,
//! what is raised (once, then counted), what each finding says; and baseline files
//! that cannot be used, named by line and field.
use otsentry_baseline::{to_text, Baseline, BaselineErrors, BaselineFile, Detector, Kind, Learner, Settings, Vendors};
use otsentry_core::{AppProto, FunctionClass, Observer, Space, SpaceNames, Timestamp};
use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;

/// A protocol as its crate would register it, named `modbus` with one table per unit
/// (the baseline crate knows no protocol: the registry gives them).
static SPACES: SpaceNames = SpaceNames {
    prefix: "modbus",
    name: |[unit, _, _]| format!("unit{unit}/holding_registers"),
    parse: |rest| rest.strip_suffix("/holding_registers")?.strip_prefix("unit")?.parse().ok().map(|u| [u, 3, 0]),
    example: "modbus/unitN/holding_registers",
};
const MODBUS: AppProto = AppProto::new(1, "modbus").with_spaces(&SPACES);
const HOLDING: Space = Space { proto: MODBUS, parts: [1, 3, 0] };

fn parse(path: &Path, text: &str) -> Result<BaselineFile, BaselineErrors> {
    otsentry_baseline::parse(path, text, &[MODBUS])
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn at(ms: i64) -> Timestamp {
    Timestamp(1_700_000_000_000_000_000 + ms * 1_000_000)
}

/// The HMI polls registers 0-9 every second for `polls` seconds and writes `writes`
/// to register 16 meanwhile; register 20 gets 1 or 2 (three times).
fn learned(polls: i64, writes: &[f64]) -> Baseline {
    let mut l = Learner::new();
    let pair = (ip("10.0.0.1"), ip("10.0.0.2"), MODBUS);
    for s in 0..polls {
        let mut r = l.request(pair, at(s * 1000), Some(FunctionClass::Read));
        r.function(3, "read_holding_registers");
        r.range(HOLDING, 0, 10, false);
    }
    for (i, v) in writes.iter().enumerate() {
        let mut r = l.request(pair, at(i as i64 * 1000 + 500), Some(FunctionClass::Write));
        r.function(6, "write_single_register");
        r.range(HOLDING, 16, 1, true);
        r.value(HOLDING, 16, *v);
    }
    for v in [1.0, 2.0, 1.0] {
        let mut r = l.request(pair, at(700), Some(FunctionClass::Write));
        r.function(6, "write_single_register");
        r.range(HOLDING, 20, 1, true);
        r.value(HOLDING, 20, v);
    }
    l.response(ip("10.0.0.2")).identity("firmware", "V1.2");
    Baseline::new(l.finish(&Vendors::default()))
}

fn write(d: &mut Detector, slot: u32, ms: i64, address: u32, v: f64) {
    let mut r = d.request(slot, at(ms));
    r.function(6, "write_single_register");
    r.range(HOLDING, address, 1, true);
    r.value(HOLDING, address, v);
}

fn kinds(d: &mut Detector) -> Vec<(Kind, String, String)> {
    d.drain().map(|f| (f.kind, f.expected, f.seen)).collect()
}

#[test]
fn values_inside_the_learned_range_pass_and_outside_are_raised_once_with_the_range() {
    let writes: Vec<f64> = (0..30).map(|i| 40.0 + f64::from(i % 21)).collect();
    let b = Arc::new(learned(30, &writes));
    let mut d = Detector::new(b, Settings::default());
    let slot = d.slot((ip("10.0.0.1"), ip("10.0.0.2"), MODBUS));
    // 40-60 learned; a tenth of the span on each side passes.
    for v in [40.0, 50.0, 60.0, 61.9, 38.1] {
        write(&mut d, slot, 100, 16, v);
    }
    assert_eq!(kinds(&mut d), vec![]);
    write(&mut d, slot, 200, 16, 65535.0);
    write(&mut d, slot, 300, 16, 70.0);
    let found = kinds(&mut d);
    assert_eq!(found.len(), 1, "raised once per address: {found:?}");
    assert_eq!(found[0].0, Kind::Value);
    assert!(found[0].1.contains("40..60 (30 samples)"), "{found:?}");
    assert!(found[0].2.ends_with("65535"), "{found:?}");
    assert_eq!(d.counts(), vec![("value", 2)], "the second is counted");
}

#[test]
fn few_samples_pass_only_the_values_seen_and_the_margin_is_a_setting() {
    let b = Arc::new(learned(30, &[40.0, 60.0]));
    let mut d = Detector::new(b.clone(), Settings::default());
    let slot = d.slot((ip("10.0.0.1"), ip("10.0.0.2"), MODBUS));
    write(&mut d, slot, 100, 20, 2.0);
    assert_eq!(kinds(&mut d), vec![]);
    // Three samples of register 20: 1 and 2 only; 1.5 lies between them but was never written.
    write(&mut d, slot, 100, 20, 1.5);
    let found = kinds(&mut d);
    assert_eq!(found.len(), 1);
    assert!(found[0].1.contains("one of 1, 2 (3 samples)"), "{found:?}");
    // With min_samples 2, register 16's two samples make a range 40..60.
    let mut d = Detector::new(b.clone(), Settings { min_samples: 2, ..Settings::default() });
    let slot = d.slot((ip("10.0.0.1"), ip("10.0.0.2"), MODBUS));
    write(&mut d, slot, 100, 16, 50.0);
    assert_eq!(kinds(&mut d), vec![]);
    // Margin 0: 61 is out; margin 0.1: in.
    let mut d = Detector::new(b, Settings { min_samples: 2, margin: 0.0, ..Settings::default() });
    let slot = d.slot((ip("10.0.0.1"), ip("10.0.0.2"), MODBUS));
    write(&mut d, slot, 100, 16, 61.0);
    assert_eq!(kinds(&mut d).len(), 1);
}

#[test]
fn new_functions_ranges_pairs_and_identities_say_what_was_expected() {
    let b = Arc::new(learned(30, &[50.0; 12]));
    let mut d = Detector::new(b, Settings::default());
    let slot = d.slot((ip("10.0.0.1"), ip("10.0.0.2"), MODBUS));
    {
        let mut r = d.request(slot, at(0));
        r.function(16, "write_multiple_registers");
    }
    {
        let mut r = d.request(slot, at(10));
        r.function(3, "read_holding_registers");
        r.range(HOLDING, 5, 3, false); // inside 0-9
        r.range(HOLDING, 8, 5, false); // 8-12: beyond
    }
    let found = kinds(&mut d);
    assert_eq!(found[0].0, Kind::NewFunction);
    assert!(found[0].1.contains("read_holding_registers (3)") && found[0].2 == "write_multiple_registers (16)", "{found:?}");
    assert_eq!((found[1].0, found[1].2.as_str()), (Kind::Range, "modbus/unit1/holding_registers 8-12"));
    assert_eq!(found[1].1, "modbus/unit1/holding_registers 0-9");
    // A client the baseline does not know: a new pair, judged by what any client wrote.
    let stranger = d.slot((ip("10.9.9.9"), ip("10.0.0.2"), MODBUS));
    write(&mut d, stranger, 20, 16, 50.0);
    write(&mut d, stranger, 30, 16, 9999.0);
    let found = kinds(&mut d);
    assert_eq!(found.iter().map(|f| f.0).collect::<Vec<_>>(), vec![Kind::NewPair, Kind::Value], "{found:?}");
    assert!(found[0].1.contains("10.0.0.1") && found[1].1.contains("written by other clients"), "{found:?}");
    // The PLC's firmware.
    d.response(ip("10.0.0.2")).identity("firmware", "V1.2");
    assert_eq!(kinds(&mut d), vec![]);
    d.response(ip("10.0.0.2")).identity("firmware", "V9.9");
    assert_eq!(kinds(&mut d), vec![(Kind::Identity, "firmware V1.2".into(), "firmware V9.9".into())]);
    d.host(ip("10.0.0.1"));
    d.host(ip("10.7.7.7"));
    d.host(ip("10.7.7.7"));
    assert_eq!(kinds(&mut d).iter().map(|f| f.0).collect::<Vec<_>>(), vec![Kind::NewAsset]);
}

#[test]
fn a_poll_that_stops_and_a_burst_are_raised_and_jitter_is_not() {
    let b = Arc::new(learned(60, &[]));
    let p = &b.file.pairs[0];
    assert_eq!((p.period_ms, p.max_gap_ms), (Some(1000.0), Some(1000.0)), "{p:?}");
    let mut d = Detector::new(b, Settings::default());
    let slot = d.slot((ip("10.0.0.1"), ip("10.0.0.2"), MODBUS));
    let poll = |d: &mut Detector, ms: i64| {
        let mut r = d.request(slot, at(ms));
        r.function(3, "read_holding_registers");
        r.range(HOLDING, 0, 10, false);
    };
    // Polls a second apart, give or take 300 ms; time moves on between them.
    for (i, jitter) in [0, 300, -300, 200, -100].iter().enumerate() {
        let ms = i as i64 * 1000 + jitter;
        poll(&mut d, ms);
        d.tick(at(ms + 10));
    }
    assert_eq!(kinds(&mut d), vec![]);
    // Silent: three times the longest learned silence, and at least two seconds (the
    // last poll was at 3.9 s; time is looked at once a second).
    d.tick(at(5500));
    d.tick(at(6900));
    assert_eq!(kinds(&mut d), vec![]);
    d.tick(at(8000));
    let found = kinds(&mut d);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].0, Kind::PollStopped);
    assert!(found[0].2.starts_with("none for 4.1 s"), "{found:?}");
    // Thirty requests within a second: at most 4 were learned (the three writes at
    // 0.7 s and a poll), so 3 x 4 + 10 pass.
    for i in 0..30 {
        poll(&mut d, 10_000 + i * 10);
    }
    let found = kinds(&mut d);
    assert_eq!(found.iter().map(|f| f.0).collect::<Vec<_>>(), vec![Kind::Burst]);
    assert_eq!(found[0].1, "at most 4 requests within one second");
}

#[test]
fn a_learned_file_reads_back_and_extends() {
    let b = learned(30, &[50.0, 55.0]);
    let text = to_text(&b.file);
    let again = parse(Path::new("b.json"), &text).unwrap();
    assert_eq!(again, b.file);
    assert_eq!(to_text(&again), text, "stable");
    // Extending with more of the same widens register 16's range and adds requests.
    let mut l = Learner::from_file(again);
    let pair = (ip("10.0.0.1"), ip("10.0.0.2"), MODBUS);
    let mut r = l.request(pair, at(99_000), Some(FunctionClass::Write));
    r.function(6, "write_single_register");
    r.range(HOLDING, 16, 1, true);
    r.value(HOLDING, 16, 70.0);
    drop(r);
    let file = l.finish(&Vendors::default());
    let v = file.pairs[0].values.iter().find(|v| v.address == 16).unwrap();
    assert_eq!((v.samples, v.min, v.max), (3, 50.0, 70.0));
    assert_eq!(file.pairs[0].requests, b.file.pairs[0].requests + 1);
}

#[test]
fn a_bad_baseline_file_names_its_line_and_field() {
    let text = to_text(&learned(5, &[50.0]).file);
    let e = |t: &str| parse(Path::new("b.json"), t).unwrap_err().to_string();
    let bad = text.replacen("\"modbus/unit1/holding_registers\"", "\"modbus/unit1/bits\"", 1);
    let line = bad.lines().position(|l| l.contains("modbus/unit1/bits")).unwrap() + 1;
    let msg = e(&bad);
    assert!(msg.starts_with(&format!("b.json:{line}:")), "{msg}");
    assert!(msg.contains(": pairs[0].ranges[0].space: "), "{msg}");
    assert!(msg.contains("\"modbus/unit1/bits\" is not a data space"), "{msg}");
    let msg = e(&text.replacen("\"10.0.0.1\"", "\"10.0.0.300\"", 1));
    assert!(msg.contains(": assets[0].ip: invalid IP address syntax"), "{msg}");
    let msg = e(&text.replacen("\"requests\"", "\"requets\"", 1));
    assert!(msg.contains("unknown key `requets` (did you mean `requests`?)"), "{msg}");
    let msg = e(&text.replacen("\"otsentry_baseline\": 1", "\"otsentry_baseline\": 7", 1));
    assert!(msg.starts_with("b.json:2:"), "{msg}");
    assert!(msg.ends_with(": otsentry_baseline: format 7 is not one this build reads (1)"), "{msg}");
    assert!(e("{").starts_with("b.json:1:"), "{}", e("{"));
}

proptest::proptest! {
    /// A baseline file cut short or with a byte overwritten: a baseline or an error
    /// naming a line of the file, never a panic.
    #[test]
    fn damaged_files_fail_cleanly(cut in 1usize..2000, at in 0usize..2000, byte in 0u8..128) {
        let text = to_text(&learned(3, &[50.0]).file);
        let mut bytes = text.as_bytes()[..cut.min(text.len())].to_vec();
        if let Some(b) = bytes.get_mut(at) {
            *b = byte;
        }
        let text = String::from_utf8_lossy(&bytes).into_owned();
        if let Err(e) = parse(Path::new("b.json"), &text) {
            proptest::prop_assert!(!e.0.is_empty());
            for e in &e.0 {
                proptest::prop_assert!(e.line <= text.lines().count() + 1, "{e}");
            }
        }
    }
}

#[test]
fn a_flood_of_new_pairs_and_hosts_is_raised_but_the_state_kept_is_bounded() {
    let b = Arc::new(learned(30, &[50.0]));
    let memory = otsentry_core::MemoryBudget::new(256 << 20);
    let mut d = Detector::with_memory(b, Settings::default(), memory.clone());
    let n: u32 = 70_000;
    for i in 0..n {
        let client = IpAddr::from([10, 9, (i >> 8) as u8, i as u8]);
        let client = if i >= 65_536 { IpAddr::from([10, 10, (i >> 8) as u8, i as u8]) } else { client };
        d.host(client);
        let slot = d.slot((client, ip("10.0.0.2"), MODBUS));
        // Past the cap a pair is raised but not followed: its requests check nothing.
        let _ = d.request(slot, at(i64::from(i)));
    }
    let raised = d.drain().filter(|f| f.kind == Kind::NewPair).count();
    assert_eq!(raised, n as usize, "every new pair is raised");
    assert_eq!(d.untracked_pairs(), u64::from(n) - 65_536);
    let detection = memory.counts().kind(otsentry_core::MemoryKind::Detection).cloned().unwrap();
    assert!(detection.peak <= detection.limit, "{detection:?}");
    assert!(detection.given_way > 0, "findings and hosts gave way at the cap: {detection:?}");
}
