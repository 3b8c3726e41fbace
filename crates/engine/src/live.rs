//! Sense's driver: a live source read into the one pipeline, which is ticked on the
//! monotonic clock whether or not packets arrive (idle flows end, batches flush, the
//! baseline's poll sweep runs, rule windows age) and writes a `stats` record on its
//! interval. Packet timestamps still stamp records.
use crate::driver::Driven;
use crate::health::{HealthSettings, HealthWatch};
use crate::options::Detection;
use crate::pipeline::Pipeline;
use otsentry_capture::{Next, Source};
use otsentry_core::{StatsBody, StatsRecord, Timestamp};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

/// How a live run keeps time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LiveSettings {
    /// Between ticks (at most a second, so a batch reaches its sink within two).
    pub tick: Duration,
    /// Between `stats` records; `None` for none.
    pub stats_every: Option<Duration>,
    /// Between snapshots of every asset (`asset` records, `change: snapshot`); `None`
    /// for none.
    pub assets_every: Option<Duration>,
    /// Between calls of the control's report hook (and one at the stop); `None` for none.
    pub report_every: Option<Duration>,
    /// When the sensor reports itself unwell.
    pub health: HealthSettings,
}

impl Default for LiveSettings {
    fn default() -> Self {
        LiveSettings {
            tick: Duration::from_millis(250),
            stats_every: Some(Duration::from_secs(30)),
            assets_every: Some(Duration::from_secs(3600)),
            report_every: None,
            health: HealthSettings::default(),
        }
    }
}

/// What another thread sees of a live run and hands it: the stop request (a signal
/// handler sets it), the records not yet written as of the last tick (what a hard stop
/// would lose), the ticks so far (a watchdog's sign of life), and a reloaded detection
/// (or why it could not be built) waiting to be swapped in.
#[derive(Clone, Debug, Default)]
pub struct LiveControl {
    pub stop: Arc<AtomicBool>,
    pub unwritten: Arc<AtomicU64>,
    pub ticks: Arc<AtomicU64>,
    reload: Arc<ReloadSlot>,
    /// Where the run publishes its counters and problems each second, when something
    /// (a metrics endpoint) reads them.
    pub view: Option<Arc<Mutex<otsentry_core::LiveView>>>,
    /// Handed what the report learner has learned and the counters, every
    /// `report_every` and at the stop (a pipeline with `report_learner` only).
    pub report: Option<Arc<Mutex<ReportHook>>>,
}

/// What a live run hands its report hook: the learner's copy and the run's counters.
pub struct ReportHook(pub Box<dyn FnMut(otsentry_baseline::Learner, otsentry_core::Summary) + Send>);

impl std::fmt::Debug for ReportHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ReportHook")
    }
}

/// A reload waiting to be swapped in: a flag looked at between bursts, and the reload.
type ReloadSlot = (AtomicBool, Mutex<Option<Result<Detection, String>>>);

impl LiveControl {
    /// Hands the run a reload built on another thread; it is swapped in between two
    /// packets (a later one replaces one not yet taken).
    pub fn offer_reload(&self, reload: Result<Detection, String>) {
        let (pending, slot) = &*self.reload;
        if let Ok(mut s) = slot.lock() {
            *s = Some(reload);
            pending.store(true, Ordering::Release);
        }
    }

    fn take_reload(&self) -> Option<Result<Detection, String>> {
        let (pending, slot) = &*self.reload;
        if !pending.swap(false, Ordering::Acquire) {
            return None;
        }
        slot.lock().ok().and_then(|mut s| s.take())
    }
}

/// The source's interface outages and reopenings, into the summary.
fn note_outages(summary: &mut otsentry_core::Summary, source: &dyn Source) {
    (summary.sensor.interface_outages, summary.sensor.interface_reopened) = source.outages();
}

/// Between looks at the sensor's health.
const HEALTH_EVERY: Duration = Duration::from_secs(1);
/// Frames handed on between looks at the clock and the stop request.
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
    /// Reads `source` until `control.stop` is set or the source ends (every interface
    /// failed); then what its buffers already hold. Returns why inputs stopped
    /// delivering during the run (the others went on); the caller ends the run with
    /// `finish`.
    pub fn run_live(&mut self, source: &mut dyn Source, settings: LiveSettings, control: &LiveControl) -> Vec<String> {
        run_live(self, source, settings, control)
    }
}

/// Reads `source` into `run` (a pipeline or a pool of workers): see [`Pipeline::run_live`].
pub(crate) fn run_live<D: Driven>(run: &mut D, source: &mut dyn Source, settings: LiveSettings, control: &LiveControl) -> Vec<String> {
    {
        let clock = Clock::start();
        let tick = settings.tick.clamp(Duration::from_millis(10), Duration::from_secs(1));
        let mut next_tick = clock.mono + tick;
        let mut next_stats = settings.stats_every.map(|every| clock.mono + every);
        let mut next_assets = settings.assets_every.map(|every| clock.mono + every);
        let mut next_report = settings.report_every.map(|every| clock.mono + every);
        run.set_max_frame(source.max_frame());
        let mut counted = 0u64;
        let mut health = HealthWatch::new(settings.health, clock.mono);
        let mut next_health = clock.mono + HEALTH_EVERY;
        tracing::info!(tick_ms = tick.as_millis() as u64, "capture started");
        loop {
            if control.stop.load(Ordering::Relaxed) {
                break;
            }
            let (got, ended) = take(run, source, &mut counted, BURST as u64);
            let now = Instant::now();
            match control.take_reload() {
                Some(Ok(detection)) => run.reload(detection),
                Some(Err(why)) => run.reload_failed(&why, clock.at(now)),
                None => {}
            }
            if now >= next_tick {
                run.tick(clock.at(now));
                control.unwritten.store(run.unwritten(), Ordering::Relaxed);
                control.ticks.fetch_add(1, Ordering::Relaxed);
                next_tick = now + tick;
            }
            if now >= next_health {
                let outputs = run.output_counts();
                let inputs = source.inputs();
                for event in health.check(now, &inputs, source.counters(), &outputs) {
                    run.health(&event, clock.at(now));
                }
                if let Some(view) = &control.view {
                    let published = live_view(run, source, &clock, now, inputs, health.problems().to_vec());
                    if let Ok(mut v) = view.lock() {
                        *v = published;
                    }
                }
                next_health = now + HEALTH_EVERY;
            }
            if let (Some(due), Some(every)) = (next_stats, settings.stats_every) {
                if now >= due {
                    write_stats(run, source, &clock, now);
                    next_stats = Some(due.max(now - every) + every);
                }
            }
            if let (Some(due), Some(every)) = (next_assets, settings.assets_every) {
                if now >= due {
                    run.asset_snapshot(clock.at(now));
                    next_assets = Some(due.max(now - every) + every);
                }
            }
            if let (Some(due), Some(every)) = (next_report, settings.report_every) {
                if now >= due {
                    report(run, control, &clock, now);
                    next_report = Some(due.max(now - every) + every);
                }
            }
            if ended {
                break;
            }
            if got < BURST as u64 {
                source.wait(next_tick.saturating_duration_since(Instant::now()).max(Duration::from_millis(1)));
            }
        }
        // What the kernel already accepted is analysed, not lost with the stop.
        source.stop();
        let before = counted;
        take(run, source, &mut counted, DRAIN_AT_STOP);
        run.tick(clock.at(Instant::now()));
        if settings.report_every.is_some() {
            report(run, control, &clock, Instant::now());
        }
        let capture = source.counters();
        let summary = run.reader_summary();
        summary.inputs.extend(source.inputs());
        summary.capture = capture;
        summary.decode.merge_late = source.out_of_order();
        note_outages(summary, source);
        tracing::info!(packets = counted, drained = counted - before, kernel_drops = capture.kernel_drops, "capture stopped");
        source.failures()
    }
}

/// Up to `most` frames from `source` into the pipeline, numbered on from `counted`;
/// how many, and whether the source ended.
fn take<D: Driven>(run: &mut D, source: &mut dyn Source, counted: &mut u64, most: u64) -> (u64, bool) {
    {
        let mut got = 0;
        while got < most {
            match source.next() {
                Next::Frame(frame) => {
                    *counted += 1;
                    got += 1;
                    run.frame(&frame, *counted);
                }
                Next::Idle => return (got, false),
                Next::End(_) => return (got, true),
            }
        }
        (got, false)
    }
}

/// The run's counters now, each interface's, and what is wrong, for a metrics endpoint.
fn live_view<D: Driven>(
    run: &mut D,
    source: &mut dyn Source,
    clock: &Clock,
    now: Instant,
    inputs: Vec<otsentry_core::InputCounts>,
    problems: Vec<String>,
) -> otsentry_core::LiveView {
    let capture = source.counters();
    let uptime = now.saturating_duration_since(clock.mono);
    note_outages(run.reader_summary(), source);
    let summary = run.snapshot(uptime.as_secs_f64());
    otsentry_core::LiveView { stats: StatsBody::new(&summary, capture, uptime.as_secs()), inputs, problems }
}

/// The report learner's copy and the counters so far, to the control's report hook.
fn report<D: Driven>(run: &mut D, control: &LiveControl, clock: &Clock, now: Instant) {
    let (Some(hook), Some(learner)) = (control.report.as_ref(), run.report_learner()) else { return };
    let summary = run.snapshot(now.saturating_duration_since(clock.mono).as_secs_f64());
    if let Ok(mut hook) = hook.lock() {
        (hook.0)(learner, summary);
    }
}

/// A `stats` record of the run so far, to the outputs, and one log line.
fn write_stats<D: Driven>(run: &mut D, source: &mut dyn Source, clock: &Clock, now: Instant) {
    {
        let capture = source.counters();
        let uptime = now.saturating_duration_since(clock.mono);
        run.reader_summary().decode.merge_late = source.out_of_order();
        note_outages(run.reader_summary(), source);
        let mut summary = run.snapshot(uptime.as_secs_f64());
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
        run.write_stats(&StatsRecord::new(clock.at(now), body));
    }
}
