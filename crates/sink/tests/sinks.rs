//! The sink layer under trouble: a sink that blocks, sinks that fail with retriable and
//! permanent errors, a full disk, rotation and reopening. Packet processing (here, the
//! caller of `Outputs::write`) goes on; the counters say what happened.
use otsentry_core::{Anomaly, EventHeader, IpProto, Layer, SinkCounts, Timestamp};
use otsentry_sink::{Batch, FileOptions, FileSink, OnFull, OutputOptions, Outputs, RecordSink, SinkError, SinkOptions, TypeSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

fn anomaly(n: u64) -> Anomaly {
    otsentry_sink::install_test_types();
    let header = EventHeader {
        timestamp: Timestamp::from_secs_nanos(1_259_098_029, 534_255_000),
        pcap_cnt: Some(n),
        src_ip: Some("10.0.0.1".parse().unwrap()),
        src_port: Some(40000),
        dest_ip: Some("10.0.0.2".parse().unwrap()),
        dest_port: Some(502),
        proto: Some(IpProto::TCP),
        vlan: otsentry_core::Vlans::from_slice(&[100]),
        pcap_filename: Some("in \"quoted\".pcap".into()),
        ..Default::default()
    };
    Anomaly::decode(header, "decoder.tcp.pkt_too_small", Layer::Tcp, 34, "needs 20 bytes, 8 present".into())
}

/// Small batches (one record each), quick retries.
fn opts(sink: SinkOptions) -> OutputOptions {
    otsentry_sink::install_test_types();
    OutputOptions { batch_bytes: 1, sink, ..Default::default() }
}

fn quick(retries: u32, on_full: OnFull) -> SinkOptions {
    SinkOptions {
        queue: 1,
        retries,
        backoff: Duration::from_millis(1),
        max_backoff: Duration::from_millis(4),
        on_full,
        idle_tick: Duration::from_millis(10),
    }
}

fn scratch(name: &str) -> PathBuf {
    otsentry_sink::install_test_types();
    let d = std::env::temp_dir().join(format!("otsentry-sinks-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn one(counts: Vec<SinkCounts>) -> SinkCounts {
    assert_eq!(counts.len(), 1);
    counts.into_iter().next().unwrap()
}

#[test]
fn lines_keep_suricatas_layout() {
    let (mut out, captured) = Outputs::memory();
    out.write(&anomaly(7));
    let c = one(out.finish());
    assert_eq!((c.accepted, c.written, c.dropped, c.batches), (1, 1, 0, 1));
    let text = String::from_utf8(captured.bytes()).unwrap();
    assert_eq!(
        text,
        concat!(
            r#"{"timestamp":"2009-11-24T21:27:09.534255+00:00","pcap_cnt":7,"event_type":"anomaly","vlan":[100],"#,
            r#""src_ip":"10.0.0.1","src_port":40000,"dest_ip":"10.0.0.2","dest_port":502,"proto":"TCP","#,
            r#""pcap_filename":"in \"quoted\".pcap","#,
            r#""anomaly":{"type":"decode","event":"decoder.tcp.pkt_too_small","layer":"tcp","offset":34,"reason":"needs 20 bytes, 8 present"},"#,
            // Pinned: a build that computed another id for the same record would double
            // every record a SIEM already holds when a capture is ingested again.
            r#""event_id":"b1a578c3-17bf-8282-9b20-5fde0ff6972b"}"#,
            "\n"
        )
    );
}

/// The event id of `record` as a sensor named `host` writes it.
fn event_id(host: &str, record: &Anomaly) -> String {
    let (sink, captured) = otsentry_sink::MemorySink::new();
    let mut out = Outputs::new(OutputOptions { host: host.to_string(), ..Default::default() });
    out.add(Box::new(sink)).unwrap();
    out.write(record);
    out.finish();
    let line: serde_json::Value = serde_json::from_slice(&captured.bytes()).unwrap();
    assert_eq!(line["host"].as_str(), (!host.is_empty()).then_some(host));
    line["event_id"].as_str().unwrap().to_string()
}

#[test]
fn a_record_is_named_by_its_sensor_and_its_content_and_not_by_its_capture_s_name() {
    let a = anomaly(7);
    let id = event_id("sensor-1", &a);
    // A version 8 UUID, the same every time the record is written again.
    assert_eq!(id.len(), 36);
    assert_eq!((&id[14..15], &id[8..9]), ("8", "-"));
    assert!(matches!(&id[19..20], "8" | "9" | "a" | "b"), "{id}");
    assert_eq!(event_id("sensor-1", &a), id);
    // The same capture under another name: the same record.
    let mut moved = anomaly(7);
    moved.header.pcap_filename = Some("elsewhere/other.pcap".into());
    assert_eq!(event_id("sensor-1", &moved), id);
    // Another sensor, another packet, another field: another record.
    assert_ne!(event_id("sensor-2", &a), id);
    assert_ne!(event_id("sensor-1", &anomaly(8)), id);
    let mut other = anomaly(7);
    other.body.offset += 1;
    assert_ne!(event_id("sensor-1", &other), id);
}

#[test]
fn only_the_chosen_types_are_written() {
    let (sink, captured) = otsentry_sink::MemorySink::new();
    let mut out = Outputs::new(OutputOptions { types: TypeSet::of(&["alert", "flow"]), ..Default::default() });
    out.add(Box::new(sink)).unwrap();
    assert!(out.wants("alert") && !out.wants("anomaly"));
    out.write(&anomaly(1));
    let c = one(out.finish());
    assert_eq!((c.accepted, captured.bytes().len()), (0, 0));
    // Without a sink nothing is wanted, so nothing is built.
    assert!(!Outputs::new(OutputOptions::default()).wants("alert"));
}

#[test]
fn each_sink_gets_the_types_it_chose() {
    let (all, all_got) = otsentry_sink::MemorySink::new();
    let (alerts, alerts_got) = otsentry_sink::MemorySink::new();
    let mut out = Outputs::new(OutputOptions::default());
    out.add_for(Box::new(alerts), TypeSet::of(&["alert"])).unwrap();
    assert!(out.wants("alert") && !out.wants("anomaly"));
    out.add_for(Box::new(all), TypeSet::ALL).unwrap();
    assert!(out.wants("anomaly"));
    for n in 0..3 {
        out.write(&anomaly(n));
    }
    let counts = out.finish();
    // The alerts-only sink was handed no batch at all: none held an alert.
    assert_eq!((counts[0].accepted, counts[0].batches, alerts_got.bytes().len()), (0, 0, 0));
    assert_eq!((counts[1].accepted, counts[1].written), (3, 3));
    assert_eq!(all_got.bytes().iter().filter(|&&b| b == b'\n').count(), 3);
}

/// An anomaly whose body refuses to serialise.
struct Unserialisable(Anomaly);

struct Refuses;

impl serde::Serialize for Refuses {
    fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        Err(serde::ser::Error::custom("refused"))
    }
}

impl otsentry_core::Record for Unserialisable {
    type Body = Refuses;
    type Extra = ();
    fn event_type(&self) -> &'static str {
        "anomaly"
    }
    fn header(&self) -> &EventHeader {
        &self.0.header
    }
    fn body(&self) -> &Refuses {
        &Refuses
    }
}

#[test]
fn a_record_that_cannot_be_serialised_is_left_out_whole_and_counted() {
    let (mut out, captured) = Outputs::memory();
    out.write(&anomaly(1));
    out.write(&Unserialisable(anomaly(2)));
    out.write(&anomaly(3));
    let c = one(out.finish());
    assert_eq!((c.accepted, c.written, c.unencodable), (2, 2, 1));
    let text = String::from_utf8(captured.bytes()).unwrap();
    // No half line of the refused record between the other two.
    assert_eq!(text.lines().count(), 2, "{text}");
    assert!(text.lines().all(|l| serde_json::from_str::<serde_json::Value>(l).is_ok()), "{text}");
}

/// Blocks each write until the test lets it through.
struct Gate(Arc<Barrier>, Arc<Mutex<u64>>);

impl RecordSink for Gate {
    fn name(&self) -> String {
        "gate".into()
    }
    fn write(&mut self, batch: &Batch) -> Result<(), SinkError> {
        self.0.wait();
        *self.1.lock().unwrap() += batch.records() as u64;
        Ok(())
    }
}

#[test]
fn a_blocked_sink_holds_replay_back_and_drops_nothing() {
    let gate = Arc::new(Barrier::new(2));
    let seen = Arc::new(Mutex::new(0));
    let mut out = Outputs::new(opts(quick(0, OnFull::Wait)));
    out.add(Box::new(Gate(gate.clone(), seen.clone()))).unwrap();
    let opener = {
        let gate = gate.clone();
        std::thread::spawn(move || {
            for _ in 0..20 {
                std::thread::sleep(Duration::from_millis(2));
                gate.wait();
            }
        })
    };
    for n in 0..20 {
        out.write(&anomaly(n));
    }
    let c = one(out.finish());
    opener.join().unwrap();
    assert_eq!((c.accepted, c.written, c.dropped), (20, 20, 0));
    assert!(c.waited > 0, "a queue of one must have been full: {c:?}");
    assert_eq!(*seen.lock().unwrap(), 20);
}

#[test]
fn a_blocked_sink_on_a_live_sensor_costs_drops_not_a_stall() {
    let gate = Arc::new(Barrier::new(2));
    let mut out = Outputs::new(opts(quick(0, OnFull::Drop)));
    out.add(Box::new(Gate(gate.clone(), Arc::new(Mutex::new(0))))).unwrap();
    // The sink takes the first batch and blocks on it; one more fits the queue.
    for n in 0..50 {
        out.write(&anomaly(n));
    }
    let c = out.counts().remove(0);
    assert!(c.dropped >= 48 && (1..=2).contains(&c.accepted) && c.waited == 0, "{c:?}");
    // Let the held batches through (one or two, as the sink's thread was quick).
    let held = c.accepted;
    let opener = std::thread::spawn(move || {
        for _ in 0..held {
            gate.wait();
        }
    });
    let c = one(out.finish());
    opener.join().unwrap();
    assert_eq!(c.accepted + c.dropped, 50, "{c:?}");
    assert_eq!(c.written, c.accepted, "{c:?}");
}

/// Fails the first `fail` writes with `error`, then succeeds.
struct Flaky {
    fail: u32,
    calls: Arc<AtomicU32>,
    error: SinkError,
}

impl RecordSink for Flaky {
    fn name(&self) -> String {
        "flaky".into()
    }
    fn write(&mut self, _batch: &Batch) -> Result<(), SinkError> {
        let n = self.calls.fetch_add(1, Ordering::Relaxed);
        if n < self.fail {
            Err(self.error.clone())
        } else {
            Ok(())
        }
    }
}

fn flaky(fail: u32, error: SinkError, retries: u32, records: u64) -> (SinkCounts, u32) {
    let calls = Arc::new(AtomicU32::new(0));
    let mut out = Outputs::new(opts(quick(retries, OnFull::Wait)));
    out.add(Box::new(Flaky { fail, calls: calls.clone(), error })).unwrap();
    for n in 0..records {
        out.write(&anomaly(n));
    }
    (one(out.finish()), calls.load(Ordering::Relaxed))
}

#[test]
fn retriable_errors_are_retried_until_they_pass() {
    let (c, calls) = flaky(3, SinkError::Retriable("connection refused".into()), 5, 4);
    assert_eq!((c.written, c.dropped, c.retried, calls), (4, 0, 3, 7), "{c:?}");
    assert!(c.last_error.unwrap().contains("connection refused"));
}

#[test]
fn retriable_errors_that_outlast_the_retries_drop_the_batch_and_say_so() {
    let (c, calls) = flaky(u32::MAX, SinkError::Retriable("timed out".into()), 2, 3);
    assert_eq!((c.accepted, c.written, c.dropped, c.retried, calls), (3, 0, 3, 6, 9), "{c:?}");
    assert!(c.last_error.unwrap().contains("timed out"));
}

#[test]
fn permanent_errors_are_not_retried() {
    let (c, calls) = flaky(1, SinkError::Permanent("schema mismatch".into()), 5, 3);
    assert_eq!((c.written, c.dropped, c.retried, calls), (2, 1, 0, 3), "{c:?}");
    assert!(c.last_error.unwrap().contains("schema mismatch"));
}

#[test]
fn a_full_disk_is_retried_then_counted_and_processing_goes_on() {
    // /dev/full: every write fails with ENOSPC, as on a full file system.
    let sink = FileSink::create(Path::new("/dev/full"), FileOptions::default()).unwrap();
    let mut out = Outputs::new(opts(quick(2, OnFull::Wait)));
    out.add(Box::new(sink)).unwrap();
    for n in 0..5 {
        out.write(&anomaly(n));
    }
    let c = one(out.finish());
    assert_eq!((c.accepted, c.written, c.dropped, c.retried), (5, 0, 5, 10), "{c:?}");
    let e = c.last_error.unwrap();
    assert!(e.contains("/dev/full") && e.contains("No space left"), "{e}");
}

/// A 64 KiB tmpfs, unmounted when dropped; `None` where mounting is not allowed.
struct SmallDisk(PathBuf);

impl SmallDisk {
    fn mount(dir: &Path) -> Option<SmallDisk> {
        let ok = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=64k", "tmpfs"])
            .arg(dir)
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| SmallDisk(dir.to_path_buf()))
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn a_batch_that_half_fits_a_full_disk_leaves_only_whole_lines() {
    let dir = scratch("small-disk");
    let Some(disk) = SmallDisk::mount(&dir) else {
        eprintln!("SKIPPED a_batch_that_half_fits_a_full_disk_leaves_only_whole_lines: cannot mount a tmpfs here (needs root)");
        return;
    };
    let path = disk.0.join("eve.json");
    let sink = FileSink::create(&path, FileOptions::default()).unwrap();
    // Batches of about 10 KiB: the seventh does not fit 64 KiB.
    let mut out = Outputs::new(OutputOptions { batch_bytes: 10 << 10, sink: quick(1, OnFull::Wait), ..Default::default() });
    out.add(Box::new(sink)).unwrap();
    for n in 0..2000 {
        out.write(&anomaly(n));
    }
    let c = one(out.finish());
    let text = std::fs::read_to_string(&path).unwrap();
    let lines = text.lines().count() as u64;
    assert!(c.dropped > 0 && c.written > 0, "{c:?}");
    assert_eq!((lines, c.written + c.dropped), (c.written, 2000), "{c:?}");
    assert!(text.ends_with('\n'));
    for line in text.lines() {
        serde_json::from_str::<serde_json::Value>(line).unwrap();
    }
    drop(disk);
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < Duration::from_secs(20), "waited too long for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn rotation_by_size_keeps_every_line_once_in_order() {
    let dir = scratch("rotate-size");
    let path = dir.join("eve.json");
    let sink = FileSink::create(&path, FileOptions { rotate_bytes: Some(4096), ..Default::default() }).unwrap();
    let mut out = Outputs::new(OutputOptions { batch_bytes: 1024, sink: quick(0, OnFull::Wait), ..Default::default() });
    out.add(Box::new(sink)).unwrap();
    for n in 1..=200 {
        out.write(&anomaly(n));
    }
    let c = one(out.finish());
    assert!(c.rotated == 0 && c.written == 200, "{c:?}");
    let mut files: Vec<(u32, PathBuf)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter_map(|p| p.extension().and_then(|e| e.to_str()?.parse().ok()).map(|n| (n, p)))
        .collect();
    files.sort();
    assert!(files.len() >= 5, "{files:?}");
    files.push((u32::MAX, path));
    let mut counts = Vec::new();
    for (_, f) in &files {
        let text = std::fs::read_to_string(f).unwrap();
        // A file holds whole batches and stays under the limit.
        assert!(text.len() <= 4096 + 1100, "{}: {} bytes", f.display(), text.len());
        for line in text.lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            counts.push(v["pcap_cnt"].as_u64().unwrap());
        }
    }
    assert_eq!(counts, (1..=200).collect::<Vec<u64>>());
}

#[test]
fn rotation_by_age_happens_while_idle() {
    let dir = scratch("rotate-age");
    let path = dir.join("eve.json");
    let sink = FileSink::create(&path, FileOptions { rotate_every: Some(Duration::from_millis(50)), ..Default::default() }).unwrap();
    let mut out = Outputs::new(opts(quick(0, OnFull::Wait)));
    out.add(Box::new(sink)).unwrap();
    out.write(&anomaly(1));
    let aside = dir.join("eve.json.1");
    wait_for("the rotation", || aside.exists());
    out.write(&anomaly(2));
    let c = one(out.finish());
    assert!(c.rotated >= 1, "{c:?}");
    assert!(std::fs::read_to_string(&aside).unwrap().contains("\"pcap_cnt\":1,"));
    assert!(std::fs::read_to_string(&path).unwrap().contains("\"pcap_cnt\":2,"));
}

#[test]
fn reopening_follows_a_file_moved_away() {
    let dir = scratch("reopen");
    let path = dir.join("eve.json");
    let moved = dir.join("eve.json.moved");
    let mut out = Outputs::new(opts(quick(0, OnFull::Wait)));
    out.add(Box::new(FileSink::create(&path, FileOptions::default()).unwrap())).unwrap();
    out.write(&anomaly(1));
    wait_for("the first line", || std::fs::metadata(&path).is_ok_and(|m| m.len() > 0));
    // What logrotate does before it signals.
    std::fs::rename(&path, &moved).unwrap();
    out.reopen();
    wait_for("the reopen", || out.counts()[0].reopened == 1);
    out.write(&anomaly(2));
    let c = one(out.finish());
    assert_eq!((c.written, c.reopened), (2, 1), "{c:?}");
    let old = std::fs::read_to_string(&moved).unwrap();
    let new = std::fs::read_to_string(&path).unwrap();
    assert!(old.contains("\"pcap_cnt\":1,") && !old.contains("\"pcap_cnt\":2,"), "{old}");
    assert!(new.contains("\"pcap_cnt\":2,") && !new.contains("\"pcap_cnt\":1,"), "{new}");
}

/// Panics on its first batch: a bug in a sink must not take the pipeline with it.
struct Broken;

impl RecordSink for Broken {
    fn name(&self) -> String {
        "broken".into()
    }
    fn write(&mut self, _batch: &Batch) -> Result<(), SinkError> {
        panic!("a bug in a sink")
    }
}

#[test]
fn a_sink_that_panics_loses_its_records_loudly_and_the_others_go_on() {
    let (good, captured) = otsentry_sink::MemorySink::new();
    let mut out = Outputs::new(opts(quick(0, OnFull::Wait)));
    out.add(Box::new(Broken)).unwrap();
    out.add(Box::new(good)).unwrap();
    for n in 0..10 {
        out.write(&anomaly(n));
    }
    let counts = out.finish();
    let (broken, good) = (&counts[0], &counts[1]);
    // Queued or refused, every record it was given is counted lost.
    assert_eq!((broken.written, broken.dropped), (0, 10), "{broken:?}");
    assert!(broken.last_error.as_deref().unwrap().contains("panicked"), "{broken:?}");
    assert_eq!((good.written, good.dropped), (10, 0), "{good:?}");
    assert_eq!(String::from_utf8(captured.bytes()).unwrap().lines().count(), 10);
}

#[test]
fn fsync_after_each_batch_and_by_interval_write_every_line() {
    use otsentry_sink::Fsync;
    for (name, fsync) in [("fsync-batch", Fsync::Batch), ("fsync-every", Fsync::Every(Duration::from_millis(20)))] {
        let dir = scratch(name);
        let path = dir.join("eve.json");
        let sink = FileSink::create(&path, FileOptions { fsync, ..Default::default() }).unwrap();
        let mut out = Outputs::new(opts(quick(0, OnFull::Wait)));
        out.add(Box::new(sink)).unwrap();
        for n in 1..=5 {
            out.write(&anomaly(n));
        }
        // The interval sync runs on the sink's idle ticks; give it a few.
        std::thread::sleep(Duration::from_millis(60));
        let c = one(out.finish());
        assert_eq!((c.written, c.dropped, c.last_error.clone()), (5, 0, None), "{name}: {c:?}");
        assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 5, "{name}");
    }
    // A sync that cannot happen is an error the counters show: /dev/full takes no data.
    let sink = FileSink::create(Path::new("/dev/full"), FileOptions { fsync: Fsync::Batch, ..Default::default() }).unwrap();
    let mut out = Outputs::new(opts(quick(0, OnFull::Wait)));
    out.add(Box::new(sink)).unwrap();
    out.write(&anomaly(1));
    let c = one(out.finish());
    assert_eq!((c.written, c.dropped), (0, 1), "{c:?}");
}

/// A sink that joins queued batches (as the ClickHouse sink does), held until released.
struct Joining {
    release: Arc<std::sync::atomic::AtomicBool>,
    writes: Arc<Mutex<Vec<Vec<u64>>>>,
}

impl RecordSink for Joining {
    fn name(&self) -> String {
        "joining".into()
    }
    fn write(&mut self, batch: &Batch) -> Result<(), SinkError> {
        while !self.release.load(std::sync::atomic::Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(1));
        }
        let counts =
            batch.lines().map(|(_, l)| serde_json::from_slice::<serde_json::Value>(l).unwrap()["pcap_cnt"].as_u64().unwrap()).collect();
        self.writes.lock().unwrap().push(counts);
        Ok(())
    }
    fn coalesce_bytes(&self) -> usize {
        1 << 20
    }
}

#[test]
fn a_sink_that_falls_behind_gets_the_queued_batches_joined_in_order() {
    let release = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writes = Arc::new(Mutex::new(Vec::new()));
    let mut out = Outputs::new(opts(SinkOptions { queue: 8, ..quick(0, OnFull::Wait) }));
    out.add(Box::new(Joining { release: release.clone(), writes: writes.clone() })).unwrap();
    // The first batch holds the sink; the next eight wait in its queue.
    for n in 0..9 {
        out.write(&anomaly(n));
    }
    std::thread::sleep(Duration::from_millis(50));
    release.store(true, std::sync::atomic::Ordering::SeqCst);
    let c = one(out.finish());
    assert_eq!((c.accepted, c.written, c.dropped), (9, 9, 0));
    let writes = writes.lock().unwrap();
    assert_eq!(writes.concat(), (0..9).collect::<Vec<_>>(), "every record once, in order");
    assert!(writes.len() < 9, "the queued batches were not joined: {writes:?}");
    assert_eq!(c.batches as usize, writes.len());
}

/// A sink that asks for batches of at least a MiB and notes each one's size.
struct Big(Arc<Mutex<Vec<usize>>>);

impl RecordSink for Big {
    fn name(&self) -> String {
        "big".into()
    }
    fn write(&mut self, batch: &Batch) -> Result<(), SinkError> {
        self.0.lock().unwrap().push(batch.records());
        Ok(())
    }
    fn batch_bytes(&self) -> usize {
        1 << 20
    }
}

#[test]
fn a_sink_that_wants_larger_batches_gets_them() {
    let sizes = Arc::new(Mutex::new(Vec::new()));
    // 64 KiB batches by default; the sink asks for a MiB.
    let mut out = Outputs::new(OutputOptions { batch_bytes: 64 << 10, batch_delay: Duration::from_secs(60), ..Default::default() });
    out.add(Box::new(Big(sizes.clone()))).unwrap();
    for n in 0..1000 {
        out.write(&anomaly(n));
    }
    let c = one(out.finish());
    assert_eq!(c.written, 1000);
    // About 250 bytes a record: all of them fit one MiB batch, not four 64 KiB ones.
    assert_eq!(*sizes.lock().unwrap(), vec![1000]);
}
