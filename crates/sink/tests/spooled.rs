//! A sink behind the spool: batches it cannot take wait in the spool, in order, and
//! reach it once it takes them again, in the same run or the next; nothing is lost and
//! nothing delivered twice (but for a crash between delivering and acknowledging).
use otsentry_sink::{Batch, RecordSink, SinkError, Spool, Spooled};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A destination that is down while its flag says so (and refuses, for good, batches
/// holding `"n":13`).
#[derive(Clone, Default)]
struct Remote {
    down: Arc<AtomicBool>,
    /// While set, every write waits (a slow destination).
    hold: Arc<AtomicBool>,
    got: Arc<Mutex<Vec<String>>>,
}

impl RecordSink for Remote {
    fn name(&self) -> String {
        "remote".into()
    }
    fn write(&mut self, batch: &Batch) -> Result<(), SinkError> {
        while self.hold.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(1));
        }
        if self.down.load(Ordering::SeqCst) {
            return Err(SinkError::Retriable("connection refused".into()));
        }
        if batch.lines().any(|(_, l)| l == b"{\"n\":13}") {
            return Err(SinkError::Permanent("schema mismatch".into()));
        }
        let mut got = self.got.lock().unwrap();
        got.extend(batch.lines().map(|(ty, l)| format!("{ty} {}", String::from_utf8_lossy(l))));
        Ok(())
    }
}

fn batch(n: usize) -> Batch {
    otsentry_sink::install_test_types();
    let line = format!("{{\"n\":{n}}}");
    Batch::from_lines([("alert", line.as_str()), ("flow", "{}")])
}

fn dir(name: &str) -> PathBuf {
    otsentry_sink::install_test_types();
    let d = std::env::temp_dir().join(format!("otsentry-spooled-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn want(range: std::ops::Range<usize>) -> Vec<String> {
    range.flat_map(|n| [format!("alert {{\"n\":{n}}}"), "flow {}".to_string()]).collect()
}

#[test]
fn an_outage_spools_and_the_return_drains_in_order_without_loss_or_doubles() {
    let d = dir("outage");
    let remote = Remote::default();
    let mut s = Spooled::new(remote.clone(), Spool::open(&d, 1 << 20).unwrap()).with_retry(Duration::ZERO, Duration::ZERO);
    s.write(&batch(0)).unwrap();
    remote.down.store(true, Ordering::SeqCst);
    for n in 1..5 {
        s.write(&batch(n)).unwrap(); // accepted: kept on disk
    }
    assert_eq!(s.spool().batches, 4);
    s.tick(Instant::now()).unwrap(); // still down: nothing moves
    assert_eq!(s.spool().batches, 4);
    remote.down.store(false, Ordering::SeqCst);
    // The next batch waits behind the spooled ones.
    s.write(&batch(5)).unwrap();
    assert_eq!(*remote.got.lock().unwrap(), want(0..6));
    assert_eq!((s.spool().batches, s.spool().spooled, s.spool().drained), (0, 4, 4));
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn a_run_that_ends_during_an_outage_leaves_its_spool_to_the_next() {
    let d = dir("restart");
    let down = Remote::default();
    down.down.store(true, Ordering::SeqCst);
    let mut s = Spooled::new(down.clone(), Spool::open(&d, 1 << 20).unwrap());
    for n in 0..3 {
        s.write(&batch(n)).unwrap();
    }
    drop(s); // the run ends (or is killed: every spooled batch was forced to disk)
    let up = Remote::default();
    let mut s = Spooled::new(up.clone(), Spool::open(&d, 1 << 20).unwrap());
    assert_eq!(s.spool().batches, 3, "the spool says what it holds");
    s.tick(Instant::now()).unwrap();
    s.write(&batch(3)).unwrap();
    assert_eq!(*up.got.lock().unwrap(), want(0..4));
    assert!(down.got.lock().unwrap().is_empty());
    drop(s);
    assert_eq!(Spool::open(&d, 1 << 20).unwrap().counts().batches, 0, "drained for good");
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn a_full_spool_is_a_retriable_error_not_a_silent_drop() {
    let d = dir("full");
    let remote = Remote::default();
    remote.down.store(true, Ordering::SeqCst);
    // Room for one spooled batch: its lines, count and two (end, type) entries.
    let one = batch(0).bytes().len() as u64 + 4 + 2 * 5;
    let mut s = Spooled::new(remote, Spool::open(&d, one).unwrap());
    s.write(&batch(0)).unwrap();
    let e = s.write(&batch(1)).unwrap_err();
    assert!(matches!(&e, SinkError::Retriable(m) if m.contains("full")), "{e}");
    assert_eq!(s.spool().refused, 1);
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn a_spooled_batch_refused_for_good_is_counted_and_does_not_stop_the_others() {
    let d = dir("refused");
    let remote = Remote::default();
    remote.down.store(true, Ordering::SeqCst);
    let mut s = Spooled::new(remote.clone(), Spool::open(&d, 1 << 20).unwrap()).with_retry(Duration::ZERO, Duration::ZERO);
    for n in [12, 13, 14] {
        s.write(&batch(n)).unwrap();
    }
    remote.down.store(false, Ordering::SeqCst);
    s.tick(Instant::now()).unwrap();
    assert_eq!(s.refused(), 1);
    assert_eq!(*remote.got.lock().unwrap(), [want(12..13), want(14..15)].concat());
    assert_eq!(s.spool().batches, 0);
    // Refused live, too: reported, and dead-lettered like the spooled one.
    let e = s.write(&batch(13)).unwrap_err();
    assert!(matches!(e, SinkError::Permanent(_)));
    assert_eq!(s.dead_lettered(), 4);
    let dead = std::fs::read_to_string(d.join(otsentry_sink::DEAD_LETTER)).unwrap();
    let lines: Vec<serde_json::Value> = dead.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 4, "{dead}");
    assert_eq!(lines[0]["reason"], "schema mismatch");
    assert_eq!((lines[0]["sink"].as_str(), lines[0]["event_type"].as_str()), (Some("remote"), Some("alert")));
    assert_eq!(lines[0]["record"]["n"], 13);
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn while_the_sink_is_down_it_is_tried_once_per_wait_not_per_batch() {
    let d = dir("backoff");
    let remote = Remote::default();
    remote.down.store(true, Ordering::SeqCst);
    let tries = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    struct Counting(Remote, Arc<std::sync::atomic::AtomicUsize>);
    impl RecordSink for Counting {
        fn name(&self) -> String {
            "counting".into()
        }
        fn write(&mut self, batch: &Batch) -> Result<(), SinkError> {
            self.1.fetch_add(1, Ordering::SeqCst);
            self.0.write(batch)
        }
    }
    let mut s = Spooled::new(Counting(remote.clone(), tries.clone()), Spool::open(&d, 1 << 20).unwrap())
        .with_retry(Duration::from_secs(60), Duration::from_secs(60));
    for n in 20..40 {
        s.write(&batch(n)).unwrap();
    }
    assert_eq!(tries.load(Ordering::SeqCst), 1, "one try, then the wait");
    assert_eq!(s.spool().batches, 20);
    // The end of a run tries once more regardless, and delivers everything in order.
    remote.down.store(false, Ordering::SeqCst);
    s.flush().unwrap();
    assert_eq!(*remote.got.lock().unwrap(), want(20..40));
    let state = s.spool_state().unwrap();
    assert_eq!((state.pending_batches, state.spooled, state.drained, state.inherited_batches), (0, 20, 20, 0));
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn a_full_queue_on_a_live_sensor_spools_instead_of_dropping() {
    use otsentry_sink::{OnFull, OutputOptions, Outputs, SinkOptions};
    let d = dir("overflow");
    let slow = Remote::default();
    slow.hold.store(true, Ordering::SeqCst);
    let sink = Spooled::new(slow.clone(), Spool::open(&d, 1 << 20).unwrap()).with_retry(Duration::ZERO, Duration::ZERO);
    let opts = OutputOptions {
        batch_bytes: 1,
        sink: SinkOptions { queue: 1, on_full: OnFull::Drop, idle_tick: Duration::from_millis(5), ..SinkOptions::default() },
        ..OutputOptions::default()
    };
    let mut out = Outputs::new(opts);
    out.add(Box::new(sink)).unwrap();
    // The sink holds the first batch, one more waits in the queue, the rest would be
    // dropped on a live sensor: they go to the spool.
    let header = otsentry_core::EventHeader { timestamp: otsentry_core::Timestamp::from_secs_nanos(1, 0), ..Default::default() };
    for n in 0..20u64 {
        let a = otsentry_core::Anomaly::new(
            header.clone(),
            otsentry_core::AnomalyKind::Decode,
            "test.overflow",
            otsentry_core::Layer::Ipv4,
            n as usize,
            "overflow test".into(),
        );
        out.write(&a);
    }
    let mid = out.counts().remove(0);
    assert!(mid.overflowed > 0 && mid.dropped == 0, "{mid:?}");
    slow.hold.store(false, Ordering::SeqCst);
    let c = out.finish().remove(0);
    assert_eq!((c.accepted, c.dropped), (20, 0), "{c:?}");
    assert_eq!(c.written + c.overflowed, 20, "{c:?}");
    let got = slow.got.lock().unwrap();
    let mut offsets: Vec<u64> = got
        .iter()
        .map(|l| serde_json::from_str::<serde_json::Value>(l.split_once(' ').unwrap().1).unwrap()["anomaly"]["offset"].as_u64().unwrap())
        .collect();
    offsets.sort();
    assert_eq!(offsets, (0..20).collect::<Vec<_>>(), "every record once");
    assert_eq!(c.spool.unwrap().pending_batches, 0);
    std::fs::remove_dir_all(&d).unwrap();
}
