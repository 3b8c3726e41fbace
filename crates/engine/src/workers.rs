//! Several workers behind one reader. The reader decodes each frame far enough to peel
//! its tunnels, hashes the address pair (the same for both directions) to a worker, and
//! copies the frame into that worker's batch: the one copy (worker 0 runs on the
//! reader's own thread and takes its frames as they are read). A worker owns a whole
//! pipeline (flows, dissectors, rules, policy, baseline, its outputs' batches) for the
//! pairs it gets; frames without an address pair (ARP and other non-IP) go to worker 0,
//! which owns the ARP table. What spans pairs has one owner, the cross stage
//! ([`crate::cross`]), on the reader's thread, fed in capture order.
//!
//! Time is the reader's: flow sweeps, the baseline's tick, a live sensor's clock and the
//! warm-up's end are markers every worker gets at the same point of the capture, so the
//! results do not depend on how many workers there are.
use crate::cross::CrossStage;
use crate::driver::Driven;
use crate::health::HealthEvent;
use crate::options::{Detection, PipelineOptions};
use crate::pipeline::Pipeline;
use crate::worker::{apply_marker, end_worker, work, Ends, FrameBatch, Marker, Msg, Report, Slot, WorkerEnd};
use otsentry_capture::{RawFrame, ReaderKind};
use otsentry_core::{SinkCounts, StatsRecord, Summary, Timestamp};
use otsentry_sink::Outputs;
use otsentry_wire::{decode_into, DecodeOptions, Packet};
use std::sync::atomic::Ordering;
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// Frames handed out per round (each worker gets its share as one batch).
const ROUND_FRAMES: usize = 512;
/// Batches queued ahead of each worker (replay waits when they are queued).
const QUEUE: usize = 16;
/// Live: batches a worker may have queued, and their frames' bytes at most. A burst a
/// worker cannot take at once waits here (as in the kernel's buffer with one worker);
/// beyond either, its frames are dropped and counted.
const LIVE_QUEUE: usize = 4096;
const LIVE_QUEUE_BYTES: usize = 64 << 20;
/// Packet-time between flow sweeps: the flow stage's own pace with one worker.
use crate::flows::SWEEP_EVERY_NS;

struct Worker {
    runs: Runs,
    /// The worker's counters as of its last publish, with the publish's number.
    slot: Arc<Mutex<(u64, Summary)>>,
    /// Frame bytes queued for it and not yet handled (live).
    queued: Arc<std::sync::atomic::AtomicUsize>,
}

/// Where a worker's pipeline runs.
enum Runs {
    Thread {
        tx: SyncSender<Msg>,
        thread: JoinHandle<WorkerEnd>,
    },
    /// On the reader's thread, its frames handled as they are read (no copy): with one
    /// worker per core, the reader is not one thread too many. It gets a smaller share of
    /// the pairs, as reading is its work too.
    Inline {
        p: Box<Pipeline>,
        ends: Ends,
    },
}

/// The reader's own worker does this much of a threaded worker's share: the rest of
/// its time reads, hashes and copies for the others. Measured with callgrind on the
/// benchmark capture: reading and handing over cost about 430 instructions a frame; the
/// pipeline about 2,200 without records written (0.67 shares two threads evenly) and
/// about 9,900 writing every record (0.92).
fn inline_weight(writes_records: bool) -> f64 {
    if writes_records {
        0.92
    } else {
        0.67
    }
}
/// Hash buckets the workers' shares are dealt in.
const BUCKETS: usize = 256;

/// N pipelines behind one reader.
pub(crate) struct Pool {
    /// The workers read their own capture handles (kernel fanout): time is the clock's.
    reads_own: bool,
    workers: Vec<Worker>,
    /// The worker of each hash bucket.
    buckets: Vec<u8>,
    reports: Receiver<Report>,
    spare: Receiver<FrameBatch>,
    cross: CrossStage,
    filling: Vec<FrameBatch>,
    in_round: usize,
    /// The next capture position (frames and markers).
    seq: u64,
    next_sweep: i64,
    baseline_tick: Option<i64>,
    /// The warm-up, when it ends by time: its length, its end once the first frame set it.
    warmup: Option<(i64, Option<i64>)>,
    warmup_sources: Option<Arc<otsentry_rules::Sources>>,
    inferred: Option<crate::roles::InferredSets>,
    decode: DecodeOptions,
    reader: ReaderKind,
    /// Whether a full queue drops (live) rather than waits (replay).
    drop_when_full: bool,
    /// Frame bytes each live worker's queue may hold: half the memory budget's outputs
    /// share split among the workers, at most LIVE_QUEUE_BYTES.
    queue_bytes: usize,
    memory: otsentry_core::MemoryBudget,
    summary: Summary,
    bytes_in: u64,
    /// Snapshots asked for so far.
    published: u64,
}

/// How long the reader waits for every worker's warm-up watch.
const WARMUP_WAIT: std::time::Duration = std::time::Duration::from_secs(10);
/// How long a snapshot waits for the workers' counters.
const PUBLISH_WAIT: std::time::Duration = std::time::Duration::from_millis(100);

impl Pool {
    /// `n` workers over `opts`; each gets a fork of `outputs` (the cross stage keeps the
    /// original). `--max-flows` is divided among them. `live`: a full worker queue
    /// drops the batch (counted) instead of waiting.
    pub(crate) fn new(opts: PipelineOptions, outputs: Option<Outputs>, n: usize, live: bool, hook: bool) -> std::io::Result<Pool> {
        Pool::start(opts, outputs, n, live, hook, None)
    }

    /// As [`Pool::new`] for a live run whose workers read their own capture handles, one
    /// source each (joined in a kernel fanout group): no reader thread hands frames
    /// over; the calling thread keeps time, health and statistics through the view.
    pub(crate) fn fanout(
        opts: PipelineOptions,
        outputs: Option<Outputs>,
        sources: Vec<crate::fanout::WorkerSource>,
        hook: bool,
    ) -> std::io::Result<(Pool, crate::fanout::FanoutView)> {
        let shared = Arc::new(crate::fanout::Shared::new(sources.len()));
        let n = sources.len();
        let pool = Pool::start(opts, outputs, n, true, hook, Some((sources, shared.clone())))?;
        Ok((pool, crate::fanout::FanoutView::new(shared)))
    }

    fn start(
        mut opts: PipelineOptions,
        outputs: Option<Outputs>,
        n: usize,
        live: bool,
        hook: bool,
        fanout: Option<(Vec<crate::fanout::WorkerSource>, Arc<crate::fanout::Shared>)>,
    ) -> std::io::Result<Pool> {
        let n = n.max(1);
        let reads_own = fanout.is_some();
        opts.flow.max_flows = (opts.flow.max_flows / n).max(1);
        let (report_tx, reports) = mpsc::channel();
        let (spare_tx, spare) = mpsc::channel();
        let mut first = Pipeline::worker(opts.clone(), outputs.as_ref().map(Outputs::fork), hook, !reads_own);
        let hosts = first.take_hosts();
        let mut pipelines = vec![first];
        for _ in 1..n {
            let mut p = Pipeline::worker(opts.clone(), outputs.as_ref().map(Outputs::fork), hook, !reads_own);
            p.take_hosts();
            pipelines.push(p);
        }
        let mut workers = Vec::with_capacity(n);
        let (mut sources, shared) = match fanout {
            Some((sources, shared)) => (sources.into_iter().map(Some).collect(), Some(shared)),
            None => (Vec::new(), None),
        };
        let inline = !reads_own;
        for (w, p) in pipelines.into_iter().enumerate() {
            let (tx, rx) = mpsc::sync_channel(if live { LIVE_QUEUE } else { QUEUE });
            let slot = Arc::new(Mutex::new((0, Summary::default())));
            let queued = Arc::new(std::sync::atomic::AtomicUsize::new(0));
            let ends = Ends { reports: report_tx.clone(), spare: spare_tx.clone(), slot: slot.clone(), queued: queued.clone() };
            if inline && w == 0 {
                workers.push(Worker { runs: Runs::Inline { p: Box::new(p), ends }, slot, queued });
                continue;
            }
            let own = sources.get_mut(w).and_then(Option::take).zip(shared.clone());
            let thread = std::thread::Builder::new().name(format!("worker {w}")).spawn(move || match own {
                Some((source, shared)) => crate::fanout::work(p, w, &rx, &ends, source, &shared),
                None => work(p, w, &rx, &ends),
            })?;
            workers.push(Worker { runs: Runs::Thread { tx, thread }, slot, queued });
        }
        let alerting = crate::alerting::Alerting::new(opts.rules.clone(), opts.memory.clone());
        // Flow records stand for the records written per conversation and per PDU.
        let weight0 = inline_weight(outputs.as_ref().is_some_and(|o| o.wants("flow")));
        let cross = CrossStage::new(alerting, hosts, outputs, n, opts.memory.clone(), opts.vendors.clone());
        let warmup = opts.warmup.as_ref().and_then(|w| w.duration_ns).map(|d| (d, None));
        Ok(Pool {
            reads_own,
            workers,
            buckets: deal(n, if inline { weight0 } else { 1.0 }),
            reports,
            spare,
            cross,
            filling: (0..n).map(|_| FrameBatch::default()).collect(),
            in_round: 0,
            seq: 1,
            next_sweep: i64::MIN,
            baseline_tick: (opts.baseline.is_some() || opts.learn.is_some()).then_some(i64::MIN),
            warmup,
            warmup_sources: opts.warmup.as_ref().and_then(|w| w.sources.clone()),
            inferred: None,
            decode: DecodeOptions { verify_checksums: false, ..opts.decode },
            reader: opts.reader,
            drop_when_full: live,
            queue_bytes: LIVE_QUEUE_BYTES
                .min(usize::try_from(opts.memory.limit(otsentry_core::MemoryKind::Outputs) / 2 / n as u64).unwrap_or(usize::MAX)),
            memory: opts.memory.clone(),
            summary: Summary::default(),
            bytes_in: 0,
            published: 0,
        })
    }

    pub(crate) fn on_alert(&mut self, hook: crate::alerting::AlertHook) {
        self.cross.alerting().set_hook(hook);
    }

    pub(crate) fn reopen_flags(&self) -> Vec<Arc<std::sync::atomic::AtomicBool>> {
        self.cross.outputs().map(Outputs::reopen_flags).unwrap_or_default()
    }

    pub(crate) fn outputs_closed(&self) -> bool {
        self.cross.outputs().is_some_and(Outputs::all_closed)
    }

    pub(crate) fn set_inferred(&mut self, sets: crate::roles::InferredSets) {
        self.inferred = Some(sets);
    }

    /// The worker a frame goes to (the address pair's hash, the same both ways), and
    /// whether the frame reaches the flow stage (a whole IP packet the decoder accepts).
    fn worker_of(&self, frame: &RawFrame<'_>) -> (usize, bool) {
        let bucket = |h: u64| usize::from(self.buckets.get((h % BUCKETS as u64) as usize).copied().unwrap_or(0));
        // Plain IPv4, nearly all of it, without a full decode; the rest decoded.
        if let Some((a, b, whole)) = otsentry_wire::ipv4_pair(frame.linktype.0, frame.data, self.decode.vxlan_port) {
            return (bucket(pair_hash(u64::from(a), u64::from(b))), whole);
        }
        let mut pkt = Packet::empty();
        decode_into(frame.linktype.0, frame.data, frame.origlen, &self.decode, &mut pkt);
        let Some(ip) = pkt.ip else { return (0, false) };
        let reaches_flows = ip.fragment.is_none() && (pkt.stop.is_none() || pkt.snaplen_cut);
        (bucket(pair_hash(fold(ip.src), fold(ip.dst))), reaches_flows)
    }

    /// The next position in capture order: a count of frames and markers from the
    /// reader; the clock's nanoseconds when the workers read for themselves (their
    /// frames are placed by their timestamps).
    fn next_seq(&mut self) -> u64 {
        if self.reads_own {
            return crate::fanout::now_ns().max(self.seq);
        }
        let s = self.seq;
        self.seq += 1;
        s
    }

    /// The warm-up by the sensor's clock, from the first tick (the workers read for
    /// themselves: no frame passes here).
    fn clock_warmup(&mut self, now: Timestamp) {
        let Some((length, end)) = self.warmup.as_mut() else { return };
        let end = *end.get_or_insert(now.as_nanos().saturating_add(*length));
        if now.as_nanos() >= end {
            self.warmup = None;
            self.end_warmup();
        }
    }

    /// Hands every worker its share of the round (an empty share still says how far
    /// the capture got), then applies what the workers reported.
    fn dispatch(&mut self) {
        let upto = self.seq - 1;
        for w in 0..self.workers.len() {
            if let Some(Worker { runs: Runs::Inline { p, ends }, .. }) = self.workers.get_mut(w) {
                let _ = ends.reports.send(Report { worker: w, items: p.take_deferred(), done: upto });
                continue;
            }
            let Some(batch) = self.filling.get_mut(w) else { continue };
            let spare = self.spare.try_recv().unwrap_or_default();
            let mut batch = std::mem::replace(batch, spare);
            batch.upto = upto;
            let frames = batch.slots.len() as u64;
            if !self.send(w, Msg::Frames(batch)) {
                self.summary.sensor.worker_drops += frames;
            }
        }
        self.in_round = 0;
        self.collect();
    }

    /// Sends to worker `w`: waits on a full queue in replay; drops in live (false).
    fn send(&mut self, w: usize, msg: Msg) -> bool {
        let Some(worker) = self.workers.get_mut(w) else { return false };
        let tx = match &mut worker.runs {
            Runs::Thread { tx, .. } => tx,
            Runs::Inline { p, ends } => {
                // Only markers come here: the reader's own frames are handled as read.
                if let Msg::Mark(seq, m) = msg {
                    apply_marker(p, seq, m, ends);
                    let _ = ends.reports.send(Report { worker: w, items: p.take_deferred(), done: seq });
                }
                return true;
            }
        };
        if !self.drop_when_full {
            return tx.send(msg).is_ok();
        }
        if let Msg::Frames(b) = &msg {
            let bytes = b.bytes.len();
            if bytes > 0 && worker.queued.load(Ordering::Relaxed) + bytes > self.queue_bytes {
                self.memory.gave_way(otsentry_core::MemoryKind::Outputs, 1);
                return false;
            }
            worker.queued.fetch_add(bytes, Ordering::Relaxed);
        }
        match tx.try_send(msg) {
            Ok(()) => true,
            Err(TrySendError::Full(Msg::Frames(b))) => {
                worker.queued.fetch_sub(b.bytes.len(), Ordering::Relaxed);
                false
            }
            // Markers are rare and carry state every worker must see: wait for room.
            Err(TrySendError::Full(m)) => tx.send(m).is_ok(),
            Err(TrySendError::Disconnected(_)) => false,
        }
    }

    /// A marker to every worker, after the frames before it.
    fn mark(&mut self, make: &dyn Fn() -> Marker) {
        if self.in_round > 0 || self.filling.iter().any(|b| !b.slots.is_empty()) {
            self.dispatch();
        }
        let seq = self.next_seq();
        for w in 0..self.workers.len() {
            self.send(w, Msg::Mark(seq, make()));
        }
    }

    /// The warm-up ends here: every worker sends its watch at the marker, and nothing
    /// after it is handed out until the rules rebuilt with the merged sets follow it, so
    /// every later frame meets them in every worker (the reader waits for the workers
    /// once, as long as their queues take to reach the marker; bounded).
    fn end_warmup(&mut self) {
        self.mark(&|| Marker::WarmupEnd);
        let until = std::time::Instant::now() + WARMUP_WAIT;
        while !self.cross.has_roles() {
            let left = until.saturating_duration_since(std::time::Instant::now());
            match self.reports.recv_timeout(left) {
                Ok(r) => self.cross.offer(r.worker, r.items, r.done),
                Err(_) => {
                    tracing::warn!("warm-up: not every worker answered in time; the rebuilt rules follow when they do");
                    return;
                }
            }
        }
        self.collect();
    }

    /// What the workers reported so far, into the cross stage; a finished warm-up's
    /// sets back to the workers.
    fn collect(&mut self) {
        while let Ok(r) = self.reports.try_recv() {
            self.cross.offer(r.worker, r.items, r.done);
        }
        if let Some(watch) = self.cross.take_roles() {
            self.warmed_up(watch.sets());
        }
    }

    fn warmed_up(&mut self, sets: crate::roles::InferredSets) {
        let rules = crate::pipeline::warmed_up_rules(self.warmup_sources.as_deref(), &sets);
        if let Some(r) = &rules {
            self.cross.alerting().replace_rules(r.clone());
        }
        self.inferred = Some(sets.clone());
        self.mark(&|| Marker::WarmedUp(sets.clone(), rules.clone()));
    }

    /// Ends the run: every worker's pipeline finished, the cross stage last (it holds
    /// the outputs the workers' were forked from); the counters merged.
    pub(crate) fn finish(mut self, elapsed_s: f64) -> (Summary, Option<crate::roles::InferredSets>) {
        self.dispatch();
        let Pool { workers, reports, mut cross, mut summary, inferred, .. } = self;
        let mut roles: Option<crate::roles::RoleWatch> = None;
        let mut ends = Vec::new();
        for (i, w) in workers.into_iter().enumerate() {
            match w.runs {
                Runs::Thread { tx, thread } => {
                    drop(tx);
                    ends.push(thread.join());
                }
                Runs::Inline { p, ends: e } => ends.push(Ok(end_worker(*p, i, &e))),
            }
        }
        while let Ok(r) = reports.try_recv() {
            cross.offer(r.worker, r.items, r.done);
        }
        cross.drain();
        let mut packets = Vec::new();
        for end in ends {
            match end {
                Ok(mut e) => {
                    // The sinks are shared: their counts come from the cross stage's end.
                    e.summary.outputs.clear();
                    packets.push(e.summary.packets);
                    summary.merge(&e.summary);
                    if let Some(r) = e.roles {
                        roles.get_or_insert_with(Default::default).merge(r);
                    }
                }
                Err(_) => tracing::error!("a worker panicked: its counters are lost"),
            }
        }
        let (cross_summary, sinks) = cross.finish();
        summary.merge(&cross_summary);
        summary.sensor.worker_packets = packets;
        // The sinks are shared: the last end's counts are everyone's.
        summary.outputs = sinks;
        let inferred = inferred.or_else(|| roles.map(|r| r.sets()));
        if let Some(sets) = &inferred {
            for (name, hosts) in sets.named() {
                summary.alerts.inferred.insert(name.to_string(), hosts.len() as u64);
            }
        }
        summary.finish(elapsed_s);
        (summary, inferred)
    }
}

/// The pair's hash, the same whichever address sent: the two words combined in order,
/// then mixed (splitmix64's finaliser) so that every bit of both reaches the low bits a
/// worker is chosen by.
fn pair_hash(a: u64, b: u64) -> u64 {
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    let mut h = lo ^ hi.rotate_left(32) ^ 0x9E37_79B9_7F4A_7C15;
    h ^= h >> 33;
    h = h.wrapping_mul(0xFF51_AFD7_ED55_8CCD);
    h ^= h >> 33;
    h = h.wrapping_mul(0xC4CE_B9FE_1A85_EC53);
    h ^= h >> 33;
    h
}

/// Each hash bucket's worker: worker 0 gets `weight0` of a full share (it also reads),
/// the others a full share each, dealt in turn so that neighbouring buckets differ.
fn deal(n: usize, weight0: f64) -> Vec<u8> {
    let total = weight0 + (n - 1) as f64;
    let first = ((BUCKETS as f64) * weight0 / total).round() as usize;
    let mut buckets = Vec::with_capacity(BUCKETS);
    let mut others = (1..n).cycle();
    let mut given0 = 0;
    for i in 0..BUCKETS {
        // Spread worker 0's buckets evenly among the others'.
        let due0 = (i + 1) * first / BUCKETS;
        let w = if given0 < due0 || n == 1 {
            given0 += 1;
            0
        } else {
            others.next().unwrap_or(0)
        };
        buckets.push(u8::try_from(w).unwrap_or(0));
    }
    buckets
}

/// An address as one word for hashing (IPv4 as its value, as the fast path reads it).
fn fold(ip: std::net::IpAddr) -> u64 {
    match ip {
        std::net::IpAddr::V4(v4) => u64::from(u32::from(v4)),
        std::net::IpAddr::V6(v6) => {
            let b = u128::from(v6);
            (b >> 64) as u64 ^ b as u64
        }
    }
}

impl Driven for Pool {
    fn frame(&mut self, frame: &RawFrame<'_>, pcap_cnt: u64) {
        let (w, reaches_flows) = self.worker_of(frame);
        let ts = frame.ts.as_nanos();
        if let Some((length, end)) = self.warmup.as_mut() {
            let end = *end.get_or_insert(ts.saturating_add(*length));
            if ts >= end {
                self.warmup = None;
                self.end_warmup();
            }
        }
        if reaches_flows && ts >= self.next_sweep {
            self.next_sweep = ts.saturating_add(SWEEP_EVERY_NS);
            self.mark(&|| Marker::Sweep(frame.ts));
        }
        let seq = self.next_seq();
        self.bytes_in += frame.data.len() as u64;
        if let Some(Worker { runs: Runs::Inline { p, .. }, .. }) = self.workers.get_mut(w) {
            p.set_seq(seq);
            p.frame(frame, pcap_cnt);
        } else if let Some(b) = self.filling.get_mut(w) {
            let at = b.bytes.len() as u32;
            b.bytes.extend_from_slice(frame.data);
            let slot =
                Slot { at, len: frame.data.len() as u32, origlen: frame.origlen, ts: frame.ts, linktype: frame.linktype.0, pcap_cnt, seq };
            b.slots.push(slot);
        }
        self.in_round += 1;
        if self.baseline_tick.is_some_and(|due| ts >= due) {
            self.baseline_tick = Some(ts.saturating_add(1_000_000_000));
            self.mark(&|| Marker::BaselineTick(frame.ts));
        }
        if self.in_round >= ROUND_FRAMES {
            self.dispatch();
        }
    }

    fn tick(&mut self, now: Timestamp) {
        if self.reads_own {
            self.clock_warmup(now);
        }
        self.mark(&|| Marker::Tick(now));
        self.cross.alerting().age(now);
        if let Some(o) = self.cross.outputs_mut() {
            o.tick_now();
        }
    }

    fn reload(&mut self, d: Detection) {
        self.cross.alerting().replace_rules(crate::pipeline::reloaded_rules(&d, self.inferred.as_ref()));
        self.mark(&|| Marker::Reload(Box::new(d.clone())));
    }

    fn reload_failed(&mut self, why: &str, now: Timestamp) {
        self.summary.sensor.reloads_failed += 1;
        tracing::error!(error = %why, "reload failed; the rules, policy and baseline in use stay");
        self.health(&HealthEvent::new("reload_failed", why.to_string()), now);
    }

    fn health(&mut self, event: &HealthEvent, now: Timestamp) {
        tracing::warn!(kind = event.kind, interface = event.interface.as_deref(), output = event.output.as_deref(), reason = %event.reason, "sensor health");
        self.cross.health(event, now);
    }

    fn snapshot(&mut self, elapsed_s: f64) -> Summary {
        self.published += 1;
        let generation = self.published;
        self.mark(&|| Marker::Publish(generation));
        // The workers answer once they reach the marker: a short, bounded wait (a worker
        // far behind leaves its previous counters in).
        let until = std::time::Instant::now() + PUBLISH_WAIT;
        while std::time::Instant::now() < until && self.workers.iter().any(|w| w.slot.lock().is_ok_and(|s| s.0 < generation)) {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        self.collect();
        let mut s = self.summary.clone();
        for w in &self.workers {
            if let Ok(p) = w.slot.lock() {
                s.merge(&p.1);
            }
        }
        s.merge(&self.cross.counts());
        s.outputs = self.output_counts();
        s.finish(elapsed_s);
        s
    }

    fn output_counts(&self) -> Vec<SinkCounts> {
        self.cross.output_counts()
    }

    fn unwritten(&self) -> u64 {
        self.cross.unwritten()
    }

    fn write_stats(&mut self, record: &StatsRecord) {
        if let Some(o) = self.cross.outputs_mut().filter(|o| o.wants("stats")) {
            o.write(record);
        }
    }

    fn asset_snapshot(&mut self, now: Timestamp) {
        self.cross.asset_snapshot(now);
    }

    /// Several workers' learners are not merged: a report runs one pipeline.
    fn report_learner(&self) -> Option<otsentry_baseline::Learner> {
        None
    }

    fn set_max_frame(&mut self, max: Option<u32>) {
        self.mark(&|| Marker::MaxFrame(max));
    }

    fn reader(&self) -> ReaderKind {
        self.reader
    }

    fn set_input(&mut self, name: &str) {
        let name: Arc<str> = Arc::from(name);
        self.mark(&|| Marker::Input(name.clone()));
    }

    fn reader_summary(&mut self) -> &mut Summary {
        &mut self.summary
    }

    fn bytes_in(&self) -> u64 {
        self.bytes_in
    }

    fn flush_outputs(&mut self) {
        self.mark(&|| Marker::Flush);
        if let Some(o) = self.cross.outputs_mut() {
            o.flush();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_dealt_by_weight_and_every_worker_gets_some() {
        for n in 1..=8usize {
            let weight = inline_weight(false);
            let b = deal(n, weight);
            assert_eq!(b.len(), BUCKETS);
            let count = |w: usize| b.iter().filter(|&&x| usize::from(x) == w).count();
            let first = count(0) as f64 / BUCKETS as f64;
            let want = weight / (weight + (n - 1) as f64);
            assert!((first - want).abs() < 0.01, "{n} workers: worker 0 has {first}, wants {want}");
            for w in 1..n {
                assert!(count(w).abs_diff(count(1)) <= 1, "{n} workers: {w} has {}, 1 has {}", count(w), count(1));
            }
        }
        assert!(deal(4, 1.0).iter().all(|&w| w < 4));
    }

    #[test]
    fn the_pair_hash_is_the_same_both_ways_and_spreads_neighbours() {
        assert_eq!(pair_hash(1, 2), pair_hash(2, 1));
        let b = deal(2, 1.0);
        let to = |x: u64| b[(pair_hash(0x0A1E_0909, x) % BUCKETS as u64) as usize];
        let ones = (0..64u64).filter(|i| to(0x0A1E_0264 + i) == 1).count();
        assert!((16..=48).contains(&ones), "{ones} of 64 neighbouring servers on worker 1");
    }
}
