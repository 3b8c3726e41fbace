//! Sense's source: live interfaces read without blocking into the one pipeline, which is
//! ticked on the monotonic clock whether or not packets arrive (idle flows end, batches
//! flush, the baseline's poll sweep runs, rule windows age) and writes a `stats` record
//! on its interval. Packet timestamps still stamp records.
use crate::merge::Merge;
use crate::pipeline::Pipeline;
use otsentry_capture::{wait, LiveCapture, LiveError};
use otsentry_core::{CaptureCounts, InputCounts, StatsBody, StatsRecord, Timestamp};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

/// How a live run keeps time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LiveSettings {
    /// Between ticks (at most a second, so a batch reaches its sink within two).
    pub tick: Duration,
    /// Between `stats` records; `None` for none.
    pub stats_every: Option<Duration>,
    /// With several interfaces: how long a frame waits for the others to show a later
    /// one before it is handed on (at least the time the kernel may hold a block).
    pub merge_hold: Duration,
}

impl Default for LiveSettings {
    fn default() -> Self {
        LiveSettings {
            tick: Duration::from_millis(250),
            stats_every: Some(Duration::from_secs(30)),
            merge_hold: Duration::from_millis(400),
        }
    }
}

/// What another thread sees of a live run: the stop request (a signal handler sets it),
/// and the records not yet written as of the last tick (what a hard stop would lose).
#[derive(Clone, Debug, Default)]
pub struct LiveControl {
    pub stop: Arc<AtomicBool>,
    pub unwritten: Arc<AtomicU64>,
}

/// How a live run ended.
#[derive(Debug, Default)]
pub struct LiveReport {
    /// The kernel's counters, summed over the interfaces.
    pub capture: CaptureCounts,
    /// Interfaces whose capture failed during the run (the others went on).
    pub failures: Vec<LiveError>,
    pub stats_written: u64,
}

/// Frames taken from one interface before the next is looked at (and the clock).
const BURST: usize = 64;
/// Frames already in the kernel's buffers read after a stop request, at most.
const DRAIN_AT_STOP: u64 = 4_000_000;

/// The wall clock as the monotonic clock advances it from the run's start (a wall-clock
/// step does not make ticks jump or stall).
struct Clock {
    wall: i64,
    mono: Instant,
}

impl Clock {
    fn start() -> Clock {
        let wall = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX));
        Clock { wall, mono: Instant::now() }
    }

    fn at(&self, when: Instant) -> Timestamp {
        let since = i64::try_from(when.saturating_duration_since(self.mono).as_nanos()).unwrap_or(i64::MAX);
        Timestamp(self.wall.saturating_add(since))
    }
}

impl Pipeline {
    /// Reads `captures` until `control.stop` is set or every capture failed; then reads
    /// what their buffers already hold. The caller ends the run with `finish`.
    pub fn run_live(&mut self, captures: &mut [LiveCapture], settings: LiveSettings, control: &LiveControl) -> LiveReport {
        let clock = Clock::start();
        let tick = settings.tick.clamp(Duration::from_millis(10), Duration::from_secs(1));
        let mut next_tick = clock.mono + tick;
        let mut next_stats = settings.stats_every.map(|every| clock.mono + every);
        let max = captures.iter().map(LiveCapture::max_frame).try_fold(0u32, |m, f| f.map(|f| m.max(f)));
        self.set_max_frame(max);
        let mut reader = Reader { counted: 0, bytes: vec![0; captures.len()], merge: None };
        if captures.len() > 1 {
            reader.merge = Some(Merge::new(captures.len(), settings.merge_hold));
        }
        let mut report = LiveReport::default();
        tracing::info!(interfaces = captures.len(), tick_ms = tick.as_millis() as u64, "capture started");
        loop {
            if control.stop.load(Ordering::Relaxed) {
                break;
            }
            let got = reader.read(self, captures, BURST, false);
            let now = Instant::now();
            if now >= next_tick {
                self.tick(clock.at(now));
                control.unwritten.store(self.unwritten(), Ordering::Relaxed);
                next_tick = now + tick;
            }
            if let (Some(due), Some(every)) = (next_stats, settings.stats_every) {
                if now >= due {
                    self.write_stats(captures, &clock, now);
                    report.stats_written += 1;
                    next_stats = Some(due.max(now - every) + every);
                }
            }
            let failed = captures.iter().filter(|c| c.failure().is_some()).count();
            if failed > report.failures.len() {
                // Said when it happens; the others go on.
                for c in captures.iter() {
                    if let Some(e) = c.failure().filter(|e| !report.failures.contains(e)) {
                        tracing::warn!(interface = c.interface(), error = %e, "capture failed; the other interfaces go on");
                        report.failures.push(e.clone());
                    }
                }
            }
            if failed == captures.len() {
                break;
            }
            if got == 0 {
                // Frames waiting in the merge are looked at again soon.
                let holding = reader.merge.as_ref().is_some_and(|m| !m.is_empty());
                let limit = if holding { Duration::from_millis(20) } else { tick };
                let until_tick = next_tick.saturating_duration_since(Instant::now());
                wait(captures, until_tick.min(limit).max(Duration::from_millis(1)));
            }
        }
        // What the kernel already accepted is analysed, not lost with the stop.
        let before = reader.counted;
        while reader.counted - before < DRAIN_AT_STOP && reader.read(self, captures, BURST, true) > 0 {}
        let drained = reader.counted - before;
        let counted = reader.counted;
        let bytes = reader.bytes;
        if let Some(m) = &reader.merge {
            self.summary_mut().decode.merge_late = m.late;
        }
        self.tick(clock.at(Instant::now()));
        report.capture = capture_counts(captures);
        for (c, b) in captures.iter().zip(bytes) {
            self.summary_mut().inputs.push(InputCounts {
                name: c.interface().to_string(),
                container: "interface",
                packets: c.frames(),
                bytes: b,
                damage: c.failure().map(ToString::to_string),
            });
            if let Some(e) = c.failure().filter(|e| !report.failures.contains(e)) {
                report.failures.push(e.clone());
            }
        }
        self.summary_mut().capture = report.capture;
        tracing::info!(packets = counted, drained, kernel_drops = report.capture.kernel_drops, "capture stopped");
        report
    }

    /// A `stats` record of the run so far, to the outputs, and one log line.
    fn write_stats(&mut self, captures: &mut [LiveCapture], clock: &Clock, now: Instant) {
        let capture = capture_counts(captures);
        let uptime = now.saturating_duration_since(clock.mono);
        let mut summary = self.snapshot(uptime.as_secs_f64());
        summary.capture = capture;
        let body = StatsBody::new(&summary, capture, uptime.as_secs());
        tracing::info!(
            uptime = body.uptime,
            packets = body.decoder.pkts,
            kernel_packets = capture.kernel_packets,
            kernel_drops = capture.kernel_drops,
            kernel_ifdrops = capture.kernel_ifdrops,
            flows_active = body.flow.active,
            alerts = body.otsentry.alerts.total,
            "stats"
        );
        self.write(&StatsRecord::new(clock.at(now), body));
    }
}

/// Frames from the captures into the pipeline: straight from the capture buffer with one
/// interface, through the timestamp merge with several.
struct Reader {
    counted: u64,
    bytes: Vec<u64>,
    merge: Option<Merge>,
}

impl Reader {
    /// Hands on what may go now (everything held, with `all`); the frames read.
    fn read(&mut self, pipeline: &mut Pipeline, captures: &mut [LiveCapture], burst: usize, all: bool) -> usize {
        let Some(merge) = self.merge.as_mut() else {
            let mut got = 0;
            for (c, b) in captures.iter_mut().zip(self.bytes.iter_mut()) {
                for _ in 0..burst {
                    let Some(frame) = c.next_frame() else { break };
                    self.counted += 1;
                    *b += frame.data.len() as u64;
                    pipeline.frame(&frame, self.counted);
                    got += 1;
                }
            }
            return got;
        };
        let now = Instant::now();
        let got: usize = captures.iter_mut().enumerate().map(|(i, c)| merge.take(i, c, burst, now)).sum();
        let live: Vec<bool> = captures.iter().map(|c| c.failure().is_none()).collect();
        while let Some((i, held)) = merge.pop(now, &live, all) {
            self.counted += 1;
            if let Some(b) = self.bytes.get_mut(i) {
                *b += held.frame().data.len() as u64;
            }
            pipeline.frame(&held.frame(), self.counted);
            merge.recycle(held);
        }
        got
    }
}

fn capture_counts(captures: &mut [LiveCapture]) -> CaptureCounts {
    captures.iter_mut().map(LiveCapture::counters).fold(CaptureCounts::default(), |a, c| CaptureCounts {
        kernel_packets: a.kernel_packets + c.received,
        kernel_drops: a.kernel_drops + c.kernel_drops,
        kernel_ifdrops: a.kernel_ifdrops + c.if_drops,
    })
}
