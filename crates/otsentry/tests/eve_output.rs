//! The EVE output of `otsentry replay` as an operator runs it: SIGHUP after logrotate
//! moved the file, rotation by size, a full disk, and bad output settings.
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_otsentry"))
}

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("otsentry-eve-{}", std::process::id())).join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn demo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/demo/input.pcap")
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn lines(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < Duration::from_secs(30), "waited too long for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn finished(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Records of one replay of the demo capture.
fn demo_records() -> usize {
    demo_records_of(&[&demo()])
}

/// Records of one replay of these inputs (`-` for stdin, given the demo capture).
fn demo_records_of(inputs: &[&Path]) -> usize {
    let d = dir(&format!("demo-{}", inputs.len()));
    let eve = d.join("eve.json");
    let mut cmd = bin();
    cmd.args(["replay", "-q", "--eve", s(&eve)]).args(inputs);
    let o = cmd.stdin(std::fs::File::open(demo()).unwrap()).output().unwrap();
    assert!(o.status.success(), "{}", finished(&o));
    lines(&eve).len()
}

#[test]
fn sighup_reopens_the_eve_file_after_logrotate_moved_it() {
    let d = dir("sighup");
    let (eve, moved, summary) = (d.join("eve.json"), d.join("eve.json.moved"), d.join("summary.json"));
    // The demo capture, then stdin: the first input's records are written when it ends,
    // while the run waits for the second.
    let mut child = bin()
        .args(["replay", "-q", "--eve", s(&eve), "--summary-json", s(&summary), s(&demo()), "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for("the first input's records", || std::fs::metadata(&eve).is_ok_and(|m| m.len() > 0));
    std::fs::rename(&eve, &moved).unwrap();
    let hup = Command::new("kill").args(["-HUP", &child.id().to_string()]).status().unwrap();
    assert!(hup.success());
    wait_for("the reopened file", || eve.exists());
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(&std::fs::read(demo()).unwrap()).unwrap();
    drop(stdin);
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", finished(&o));
    let (before, after) = (lines(&moved), lines(&eve));
    // The first input's protocol records went to the moved file; the second input's and
    // every flow (flows end with the run) to the new one.
    assert!(!before.is_empty() && before.iter().all(|l| l["event_type"] != "flow"), "{before:?}");
    assert!(before.iter().all(|l| l["pcap_cnt"].is_u64()));
    assert_eq!(before.len() + after.len(), demo_records_of(&[&demo(), Path::new("-")]));
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&summary).unwrap()).unwrap();
    let out = &v["outputs"][0];
    assert_eq!(out["name"], format!("eve:{}", s(&eve)));
    assert_eq!((out["reopened"].as_u64(), out["dropped"].as_u64()), (Some(1), Some(0)), "{out}");
    assert_eq!(out["written"].as_u64(), Some((before.len() + after.len()) as u64));
}

#[test]
fn rotation_by_size_splits_the_records_without_losing_one() {
    let d = dir("rotate");
    let eve = d.join("eve.json");
    let o = bin().args(["replay", "-q", "--eve", s(&eve), "--eve-rotate-size", "8K", s(&demo()), s(&demo())]).output().unwrap();
    assert!(o.status.success(), "{}", finished(&o));
    let mut total = lines(&eve).len();
    let mut n = 1;
    while d.join(format!("eve.json.{n}")).exists() {
        total += lines(&d.join(format!("eve.json.{n}"))).len();
        n += 1;
    }
    assert!(n > 2, "expected several rotated files, found {}", n - 1);
    assert_eq!(total, demo_records_of(&[&demo(), &demo()]));
}

#[test]
fn a_full_disk_loses_records_loudly_and_the_run_goes_on_to_its_summary() {
    let d = dir("full");
    let summary = d.join("summary.json");
    let o = bin().args(["replay", "-q", "--eve", "/dev/full", "--summary-json", s(&summary), s(&demo())]).output().unwrap();
    let err = finished(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("eve:/dev/full") && err.contains("records not written") && err.contains("No space left"), "{err}");
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&summary).unwrap()).unwrap();
    // Every packet was processed; every record is accounted for as lost.
    assert_eq!(v["packets"], 33);
    let out = &v["outputs"][0];
    assert!(out["retried"].as_u64().unwrap() > 0, "{out}");
    assert_eq!(out["written"], 0);
    assert_eq!(out["dropped"].as_u64(), Some(demo_records() as u64));
}

#[test]
fn bad_output_settings_are_refused_naming_the_setting() {
    let d = dir("bad");
    for (flag, value, says) in [
        ("--eve-rotate-size", "0", "at least 1 byte"),
        ("--eve-rotate-size", "12Q", "expected a size"),
        ("--eve-rotate-interval", "1w", "expected a duration"),
        ("--eve-fsync", "sometimes", "never, or batch"),
    ] {
        let o = bin().args(["replay", "-q", "--eve", s(&d.join("e.json")), flag, value, s(&demo())]).output().unwrap();
        let err = finished(&o);
        assert_eq!(o.status.code(), Some(2), "{flag} {value}: {err}");
        assert!(err.contains(flag) && err.contains(says), "{flag} {value}: {err}");
    }
    let config = d.join("c.yaml");
    std::fs::write(&config, "replay:\n  eve: x.json\n  eve-fsync: often\n").unwrap();
    let o = bin().args(["config", "check", s(&config)]).output().unwrap();
    let err = finished(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("c.yaml:3:3: replay.eve-fsync: \"often\""), "{err}");
}

#[test]
fn long_lists_are_cut_at_eve_max_items_and_counted() {
    let d = dir("max-items");
    let (full, cut) = (d.join("full.json"), d.join("cut.json"));
    for (path, extra) in [(&full, None), (&cut, Some("3"))] {
        let mut cmd = bin();
        cmd.args(["replay", "-q", "--eve", s(path)]);
        if let Some(n) = extra {
            cmd.args(["--eve-max-items", n]);
        }
        let o = cmd.arg(demo()).output().unwrap();
        assert!(o.status.success(), "{}", finished(&o));
    }
    let (full, cut) = (lines(&full), lines(&cut));
    assert_eq!(full.len(), cut.len());
    let mut checked = 0;
    for (f, c) in full.iter().zip(&cut) {
        if f["event_type"] != "modbus" || !f["modbus"]["response_values"].is_array() {
            continue;
        }
        let (all, kept) = (f["modbus"]["response_values"].as_array().unwrap(), c["modbus"]["response_values"].as_array().unwrap());
        assert_eq!(kept[..], all[..all.len().min(3)]);
        let omitted = c["modbus"]["response_values_omitted"].as_u64().unwrap_or(0) as usize;
        assert_eq!(kept.len() + omitted, all.len(), "{c}");
        assert!(f["modbus"].get("response_values_omitted").is_none());
        checked += usize::from(omitted > 0);
    }
    assert!(checked >= 3, "the demo's reads of 10 registers are cut");
    let o = bin().args(["replay", "-q", "--eve-max-items", "0", s(&demo())]).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
}

/// The records of one replay of `input` (a path, or `-` fed the demo on stdin) by the
/// sensor `host`.
fn records(input: &Path, host: &str, name: &str) -> Vec<serde_json::Value> {
    let eve = dir(name).join("eve.json");
    let o = bin()
        // No warm-up: a file would get a first pass and standard input a 15-minute one,
        // and the records compared must come from the same rules.
        .args(["replay", "-q", "--warmup", "off", "--host", host, "--eve", s(&eve), s(input)])
        .stdin(std::fs::File::open(demo()).unwrap())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", finished(&o));
    lines(&eve)
}

fn ids<'a>(records: &'a [serde_json::Value], key: &str) -> std::collections::BTreeSet<&'a str> {
    records.iter().filter_map(|r| r[key].as_str()).collect()
}

#[test]
fn every_record_has_an_identity_that_replaying_the_capture_reproduces() {
    let first = records(&demo(), "sensor-a", "id-first");
    assert!(first.iter().all(|r| r["host"] == "sensor-a" && r["event_id"].is_string()), "every record: host and event_id");
    let events = ids(&first, "event_id");
    assert_eq!(events.len(), first.len(), "no two records share an id");
    // The same capture again, from stdin (no file name), by the same sensor: the same
    // records, the same ids, the same flow ids.
    let again = records(Path::new("-"), "sensor-a", "id-again");
    assert_eq!(ids(&again, "event_id"), events);
    let flows = |r: &[serde_json::Value]| r.iter().filter_map(|x| x["flow_id"].as_u64()).collect::<std::collections::BTreeSet<_>>();
    assert_eq!(flows(&again), flows(&first));
    // Another sensor seeing the same traffic: other ids throughout.
    let other = records(&demo(), "sensor-b", "id-other");
    assert!(ids(&other, "event_id").is_disjoint(&events));
    assert!(flows(&other).is_disjoint(&flows(&first)));
    // Another capture: its flows (other times) do not collide with the demo's, the
    // first flow of each included.
    let network = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/network/input.pcap");
    let net = records(&network, "sensor-a", "id-network");
    assert!(flows(&net).is_disjoint(&flows(&first)));
    assert!(ids(&net, "event_id").is_disjoint(&events));
    // A bad sensor name is refused.
    let o = bin().args(["replay", "-q", "--host", "two words", s(&demo())]).output().unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", finished(&o));
}
