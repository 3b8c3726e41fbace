//! The kernel-fanout design: each worker reads its own capture handles (the kernel
//! splits the frames by address pair among the workers' handles), so no thread copies
//! frames to another. The workers' frames are placed in capture order by their
//! timestamps; the calling thread keeps the clock (ticks, the warm-up, reloads) and
//! reads the workers' capture counters through a [`FanoutView`], which stands in for
//! the source a single reader would have.
use crate::pipeline::Pipeline;
use crate::worker::{apply_marker, end_worker, Ends, Msg, Report, WorkerEnd};
use otsentry_capture::{Next, Source};
use otsentry_core::{CaptureCounts, InputCounts};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, TryRecvError};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A worker's own capture handles (every interface, joined to its fanout groups).
pub type WorkerSource = Box<dyn Source + Send>;

/// Frames read between looks at the worker's messages.
const BURST: u64 = 64;
/// Frames already in the kernel's buffers a worker reads after a stop request, at most.
const DRAIN_AT_STOP: u64 = 4_000_000;
/// A worker with nothing to read has seen everything stamped earlier than this long ago
/// (frames still in the kernel's buffer are older than the clock by less).
const IDLE_GRACE_NS: u64 = 200_000_000;
/// Between a worker's publications of its capture counters.
const PUBLISH_EVERY: Duration = Duration::from_millis(100);

/// The wall clock in nanoseconds (positions markers among timestamped frames).
pub(crate) fn now_ns() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

/// What one worker's handles counted, as last published.
#[derive(Debug, Default, Clone)]
struct Published {
    counters: CaptureCounts,
    inputs: Vec<InputCounts>,
    failures: Vec<String>,
    out_of_order: u64,
    outages: (u64, u64),
    max_frame: Option<u32>,
    ended: bool,
}

/// What the workers and the calling thread share.
#[derive(Debug)]
pub(crate) struct Shared {
    stop: AtomicBool,
    /// Workers that drained their buffers after the stop.
    drained: AtomicUsize,
    workers: Vec<Mutex<Published>>,
}

impl Shared {
    pub(crate) fn new(n: usize) -> Shared {
        Shared { stop: AtomicBool::new(false), drained: AtomicUsize::new(0), workers: (0..n).map(|_| Mutex::default()).collect() }
    }

    fn each(&self) -> Vec<Published> {
        self.workers.iter().filter_map(|w| w.lock().ok().map(|p| p.clone())).collect()
    }
}

fn publish(shared: &Shared, w: usize, source: &mut dyn Source, ended: bool) {
    let p = Published {
        counters: source.counters(),
        inputs: source.inputs(),
        failures: source.failures(),
        out_of_order: source.out_of_order(),
        outages: source.outages(),
        max_frame: source.max_frame(),
        ended,
    };
    if let Some(slot) = shared.workers.get(w) {
        if let Ok(mut s) = slot.lock() {
            *s = p;
        }
    }
}

/// A fanout worker's loop: its frames into its pipeline, the clock's markers between
/// bursts, a report after each.
pub(crate) fn work(mut p: Pipeline, w: usize, rx: &Receiver<Msg>, ends: &Ends, mut source: WorkerSource, shared: &Shared) -> WorkerEnd {
    p.set_max_frame(source.max_frame());
    let (mut counted, mut done, mut stopped, mut ended) = (0u64, 0u64, false, false);
    let mut next_publish = Instant::now();
    loop {
        match rx.try_recv() {
            Ok(Msg::Mark(seq, m)) => {
                apply_marker(&mut p, seq, m, ends);
                done = done.max(seq);
                let _ = ends.reports.send(Report { worker: w, items: p.take_deferred(), done });
                continue;
            }
            Ok(Msg::Frames(_)) | Err(TryRecvError::Empty) => {}
            Err(TryRecvError::Disconnected) => break,
        }
        if shared.stop.load(Ordering::Relaxed) && !stopped {
            source.stop();
            read(&mut p, source.as_mut(), &mut counted, &mut done, DRAIN_AT_STOP);
            stopped = true;
            publish(shared, w, source.as_mut(), true);
            shared.drained.fetch_add(1, Ordering::Release);
        }
        let got = if stopped || ended {
            0
        } else {
            let (got, end) = read(&mut p, source.as_mut(), &mut counted, &mut done, BURST);
            ended = end;
            got
        };
        if got == 0 {
            done = done.max(now_ns().saturating_sub(IDLE_GRACE_NS));
        }
        let _ = ends.reports.send(Report { worker: w, items: p.take_deferred(), done });
        if !stopped && Instant::now() >= next_publish {
            publish(shared, w, source.as_mut(), ended);
            next_publish = Instant::now() + PUBLISH_EVERY;
        }
        if got < BURST {
            if stopped || ended {
                // Nothing left to read: wait for the clock's markers or the end.
                match rx.recv_timeout(Duration::from_millis(50)) {
                    Ok(Msg::Mark(seq, m)) => {
                        apply_marker(&mut p, seq, m, ends);
                        done = done.max(seq);
                    }
                    Ok(Msg::Frames(_)) | Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                    Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
                }
            } else {
                source.wait(Duration::from_millis(10));
            }
        }
    }
    end_worker(p, w, ends)
}

/// Up to `most` frames into the pipeline, each placed by its timestamp; how many, and
/// whether the source ended.
fn read(p: &mut Pipeline, source: &mut dyn Source, counted: &mut u64, done: &mut u64, most: u64) -> (u64, bool) {
    let mut got = 0;
    while got < most {
        match source.next() {
            Next::Frame(frame) => {
                let at = u64::try_from(frame.ts.as_nanos()).unwrap_or(0);
                *counted += 1;
                got += 1;
                p.set_seq(at);
                p.frame(&frame, *counted);
                *done = (*done).max(at);
            }
            Next::Idle => return (got, false),
            Next::End(_) => return (got, true),
        }
    }
    (got, false)
}

/// The calling thread's view of the workers' capture: no frames (the workers read
/// them), their counters summed, their interfaces' counts joined by name.
pub struct FanoutView {
    shared: std::sync::Arc<Shared>,
}

impl FanoutView {
    pub(crate) fn new(shared: std::sync::Arc<Shared>) -> FanoutView {
        FanoutView { shared }
    }
}

/// Longest wait for the workers to drain their buffers at a stop.
const STOP_WAIT: Duration = Duration::from_secs(30);

impl Source for FanoutView {
    fn next(&mut self) -> Next<'_> {
        let all = self.shared.each();
        let stopped = self.shared.stop.load(Ordering::Relaxed);
        if (stopped && self.shared.drained.load(Ordering::Acquire) >= all.len()) || (!all.is_empty() && all.iter().all(|p| p.ended)) {
            return Next::End(None);
        }
        Next::Idle
    }

    fn wait(&mut self, timeout: Duration) {
        std::thread::sleep(timeout.min(Duration::from_millis(50)));
    }

    /// Every worker drains what its buffers hold; returns once all have (or after a
    /// bound: a worker stuck on a full output still ends with the run).
    fn stop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        let until = Instant::now() + STOP_WAIT;
        while self.shared.drained.load(Ordering::Acquire) < self.shared.workers.len() && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    fn counters(&mut self) -> CaptureCounts {
        let mut c = CaptureCounts::default();
        for p in self.shared.each() {
            c += p.counters;
        }
        c
    }

    fn max_frame(&self) -> Option<u32> {
        self.shared.each().iter().find_map(|p| p.max_frame)
    }

    fn inputs(&self) -> Vec<InputCounts> {
        let mut joined: Vec<InputCounts> = Vec::new();
        for i in self.shared.each().into_iter().flat_map(|p| p.inputs) {
            match joined.iter_mut().find(|j| j.name == i.name) {
                Some(j) => {
                    j.packets += i.packets;
                    j.bytes += i.bytes;
                    if j.damage.is_none() {
                        j.damage = i.damage;
                    }
                }
                None => joined.push(i),
            }
        }
        joined
    }

    fn failures(&self) -> Vec<String> {
        let mut all: Vec<String> = self.shared.each().into_iter().flat_map(|p| p.failures).collect();
        all.sort();
        all.dedup();
        all
    }

    fn out_of_order(&self) -> u64 {
        self.shared.each().iter().map(|p| p.out_of_order).sum()
    }

    fn outages(&self) -> (u64, u64) {
        self.shared.each().iter().fold((0, 0), |(a, b), p| (a + p.outages.0, b + p.outages.1))
    }
}
