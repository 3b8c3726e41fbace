//! One worker of several: what it is handed in capture order (frame batches and
//! markers), what it reports back (its deferred cross-pair work and how far it got),
//! and its loop behind a reader. The pool ([`crate::workers`]) starts workers; the
//! fanout design ([`crate::fanout`]) runs the same pipeline on a worker's own handles.
use crate::deferral::Item;
use crate::options::Detection;
use crate::pipeline::Pipeline;
use otsentry_capture::{LinkType, RawFrame};
use otsentry_core::{Summary, Timestamp};
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, Sender};
use std::sync::{Arc, Mutex};

/// One frame in a batch: where its bytes are, and what the pipeline needs besides.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Slot {
    pub(crate) at: u32,
    pub(crate) len: u32,
    pub(crate) origlen: u32,
    pub(crate) ts: Timestamp,
    pub(crate) linktype: u32,
    pub(crate) pcap_cnt: u64,
    pub(crate) seq: u64,
}

/// A worker's share of one round: its frames' bytes copied end to end.
#[derive(Debug, Default)]
pub(crate) struct FrameBatch {
    pub(crate) bytes: Vec<u8>,
    pub(crate) slots: Vec<Slot>,
    /// The capture position this round ends at (a worker with no frames in it has still
    /// handled everything up to there).
    pub(crate) upto: u64,
}

/// What a worker is handed, in capture order.
pub(crate) enum Msg {
    Frames(FrameBatch),
    Mark(u64, Marker),
}

pub(crate) enum Marker {
    /// Flows idle at this packet time end (packet time, from the reader).
    Sweep(Timestamp),
    /// The baseline looks for polls that stopped.
    BaselineTick(Timestamp),
    /// A live sensor's clock.
    Tick(Timestamp),
    Input(Arc<str>),
    Flush,
    WarmupEnd,
    WarmedUp(crate::roles::InferredSets, Option<Arc<otsentry_rules::RuleSet>>),
    Reload(Box<Detection>),
    MaxFrame(Option<u32>),
    /// Publish the counters so far into the worker's slot (periodic stats), numbered.
    Publish(u64),
}

/// What a worker reports after each message: its deferred items, and how far it got.
pub(crate) struct Report {
    pub(crate) worker: usize,
    pub(crate) items: Vec<(u64, Item)>,
    pub(crate) done: u64,
}

/// A worker's end of the run.
pub(crate) struct WorkerEnd {
    pub(crate) summary: Summary,
    pub(crate) roles: Option<crate::roles::RoleWatch>,
}

/// A worker's ends of what it shares with the reader.
pub(crate) struct Ends {
    pub(crate) reports: Sender<Report>,
    pub(crate) spare: Sender<FrameBatch>,
    pub(crate) slot: Arc<Mutex<(u64, Summary)>>,
    pub(crate) queued: Arc<std::sync::atomic::AtomicUsize>,
}

/// A worker's loop: each message in order, a report after each.
pub(crate) fn work(mut p: Pipeline, w: usize, rx: &Receiver<Msg>, ends: &Ends) -> WorkerEnd {
    for msg in rx {
        let done = match msg {
            Msg::Frames(mut b) => {
                for s in &b.slots {
                    let Some(data) = b.bytes.get(s.at as usize..(s.at as usize + s.len as usize)) else { continue };
                    p.set_seq(s.seq);
                    let frame = RawFrame { ts: s.ts, linktype: LinkType(s.linktype), origlen: s.origlen, data };
                    p.frame(&frame, s.pcap_cnt);
                }
                let done = b.upto;
                ends.queued.fetch_sub(b.bytes.len().min(ends.queued.load(Ordering::Relaxed)), Ordering::Relaxed);
                b.bytes.clear();
                b.slots.clear();
                let _ = ends.spare.send(b);
                done
            }
            Msg::Mark(seq, m) => {
                apply_marker(&mut p, seq, m, ends);
                seq
            }
        };
        let _ = ends.reports.send(Report { worker: w, items: p.take_deferred(), done });
    }
    end_worker(p, w, ends)
}

/// A marker, at capture position `seq`.
pub(crate) fn apply_marker(p: &mut Pipeline, seq: u64, m: Marker, ends: &Ends) {
    p.set_seq(seq);
    match m {
        Marker::Sweep(now) => p.sweep(now),
        Marker::BaselineTick(now) => p.baseline_tick(now),
        Marker::Tick(now) => p.tick(now),
        Marker::Input(name) => p.set_input(&name),
        Marker::Flush => p.flush_outputs(),
        Marker::WarmupEnd => p.end_warmup(),
        Marker::WarmedUp(sets, rules) => p.warmed_up(sets, rules),
        Marker::Reload(d) => p.reload(*d),
        Marker::MaxFrame(max) => p.set_max_frame(max),
        Marker::Publish(generation) => {
            let s = p.snapshot(0.0);
            if let Ok(mut published) = ends.slot.lock() {
                *published = (generation, s);
            }
        }
    }
}

/// A worker's end: flows still open end now, and what that defers is reported before
/// the worker's counters are handed back.
pub(crate) fn end_worker(mut p: Pipeline, w: usize, ends: &Ends) -> WorkerEnd {
    p.end_flows();
    let _ = ends.reports.send(Report { worker: w, items: p.take_deferred(), done: u64::MAX });
    let roles = p.take_roles();
    let (summary, _) = p.finish_learning(0.0);
    WorkerEnd { summary, roles }
}
