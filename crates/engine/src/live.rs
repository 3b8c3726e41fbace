//! Sense's source: live interfaces read without blocking into the one pipeline, which is
//! ticked on the monotonic clock whether or not packets arrive (idle flows end, batches
//! flush, the baseline's poll sweep runs, rule windows age) and writes a `stats` record
//! on its interval. Packet timestamps still stamp records.
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
}

impl Default for LiveSettings {
    fn default() -> Self {
        LiveSettings { tick: Duration::from_millis(250), stats_every: Some(Duration::from_secs(30)) }
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
        let mut counted = 0u64;
        let mut bytes = vec![0u64; captures.len()];
        let mut report = LiveReport::default();
        tracing::info!(interfaces = captures.len(), tick_ms = tick.as_millis() as u64, "capture started");
        loop {
            if control.stop.load(Ordering::Relaxed) {
                break;
            }
            let mut got = 0usize;
            for (c, b) in captures.iter_mut().zip(bytes.iter_mut()) {
                for _ in 0..BURST {
                    let Some(frame) = c.next_frame() else { break };
                    counted += 1;
                    *b += frame.data.len() as u64;
                    self.frame(&frame, counted);
                    got += 1;
                }
            }
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
            if captures.iter().all(|c| c.failure().is_some()) {
                break;
            }
            if got == 0 {
                wait(captures, next_tick.saturating_duration_since(Instant::now()).max(Duration::from_millis(1)));
            }
        }
        // What the kernel already accepted is analysed, not lost with the stop.
        let mut drained = 0u64;
        for (c, b) in captures.iter_mut().zip(bytes.iter_mut()) {
            while drained < DRAIN_AT_STOP {
                let Some(frame) = c.next_frame() else { break };
                counted += 1;
                drained += 1;
                *b += frame.data.len() as u64;
                self.frame(&frame, counted);
            }
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
            if let Some(e) = c.failure() {
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

fn capture_counts(captures: &mut [LiveCapture]) -> CaptureCounts {
    captures.iter_mut().map(LiveCapture::counters).fold(CaptureCounts::default(), |a, c| CaptureCounts {
        kernel_packets: a.kernel_packets + c.received,
        kernel_drops: a.kernel_drops + c.kernel_drops,
        kernel_ifdrops: a.kernel_ifdrops + c.if_drops,
    })
}
