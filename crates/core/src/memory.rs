//! The global memory budget (`--memory-cap`): the state traffic can make the sensor keep
//! is charged to one budget per kind, each a fixed share of the cap and shared by every
//! worker. A store that finds its kind at its limit makes the oldest state of that kind
//! give way (and counts it) before it keeps anything new, so hostile traffic can fill a
//! kind but never the machine.
//!
//! Charges are atomic counters touched only when a store grows or shrinks (a flow made
//! or ended, a buffer grown or emptied), never per packet for steady state.
use serde::Serialize;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

/// What is charged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MemoryKind {
    /// Flow table entries: each flow at a fixed size (its slot, index entry and
    /// per-flow state, dissector included).
    Flows,
    /// TCP out-of-order bytes held for reassembly.
    Reassembly,
    /// Partial PDUs, pending transactions, fragments in progress, probe buffers.
    AppBuffers,
    /// Threshold and suppression windows, scan sources, sender fingerprints, ARP
    /// bindings, baseline conversations.
    Detection,
    /// Frames queued for workers and records batched for outputs.
    Outputs,
    /// Per-flow rings of recent packets kept for evidence.
    Evidence,
}

impl MemoryKind {
    pub const ALL: [MemoryKind; 6] = [
        MemoryKind::Flows,
        MemoryKind::Reassembly,
        MemoryKind::AppBuffers,
        MemoryKind::Detection,
        MemoryKind::Outputs,
        MemoryKind::Evidence,
    ];

    pub fn name(self) -> &'static str {
        match self {
            MemoryKind::Flows => "flows",
            MemoryKind::Reassembly => "reassembly",
            MemoryKind::AppBuffers => "app_buffers",
            MemoryKind::Detection => "detection",
            MemoryKind::Outputs => "outputs",
            MemoryKind::Evidence => "evidence",
        }
    }

    /// Thousandths of the cap. Flows are the most numerous state; reassembly and
    /// evidence hold whole packets; the rest are small per entry.
    fn share(self) -> u64 {
        match self {
            MemoryKind::Flows => 400,
            MemoryKind::Reassembly => 200,
            MemoryKind::AppBuffers => 120,
            MemoryKind::Detection => 100,
            MemoryKind::Outputs => 100,
            MemoryKind::Evidence => 80,
        }
    }
}

/// The smallest cap accepted: below it the per-kind shares cannot hold a busy plant.
pub const MIN_MEMORY_CAP: u64 = 64 << 20;

#[derive(Debug, Default)]
struct Kind {
    limit: u64,
    used: AtomicU64,
    peak: AtomicU64,
    given_way: AtomicU64,
}

#[derive(Debug)]
struct Inner {
    cap: u64,
    kinds: [Kind; 6],
}

/// The budget, shared (cloned) by every store and worker of a run.
#[derive(Clone, Debug)]
pub struct MemoryBudget(Arc<Inner>);

impl Default for MemoryBudget {
    /// Without a cap: every kind unlimited (library users and tests that set none).
    fn default() -> Self {
        MemoryBudget::with_limits(0, |_| u64::MAX)
    }
}

impl MemoryBudget {
    /// A cap of `cap` bytes split into the kinds' shares.
    pub fn new(cap: u64) -> MemoryBudget {
        MemoryBudget::with_limits(cap, |k| cap / 1000 * k.share())
    }

    fn with_limits(cap: u64, limit: impl Fn(MemoryKind) -> u64) -> MemoryBudget {
        let kinds = MemoryKind::ALL.map(|k| Kind { limit: limit(k), ..Kind::default() });
        MemoryBudget(Arc::new(Inner { cap, kinds }))
    }

    /// The cap (0: none).
    pub fn cap(&self) -> u64 {
        self.0.cap
    }

    fn kind(&self, k: MemoryKind) -> &Kind {
        let [flows, reassembly, app, detection, outputs, evidence] = &self.0.kinds;
        match k {
            MemoryKind::Flows => flows,
            MemoryKind::Reassembly => reassembly,
            MemoryKind::AppBuffers => app,
            MemoryKind::Detection => detection,
            MemoryKind::Outputs => outputs,
            MemoryKind::Evidence => evidence,
        }
    }

    pub fn limit(&self, k: MemoryKind) -> u64 {
        self.kind(k).limit
    }

    pub fn used(&self, k: MemoryKind) -> u64 {
        self.kind(k).used.load(Relaxed)
    }

    /// Charge `n` bytes if they fit under the kind's limit.
    pub fn try_charge(&self, k: MemoryKind, n: u64) -> bool {
        let kind = self.kind(k);
        let before = kind.used.fetch_add(n, Relaxed);
        if before.saturating_add(n) > kind.limit {
            kind.used.fetch_sub(n, Relaxed);
            return false;
        }
        kind.peak.fetch_max(before + n, Relaxed);
        true
    }

    /// Charge `n` bytes even over the limit (what is already held, such as the packet
    /// in hand); the caller makes older state give way next.
    pub fn charge(&self, k: MemoryKind, n: u64) {
        let kind = self.kind(k);
        let now = kind.used.fetch_add(n, Relaxed).saturating_add(n);
        kind.peak.fetch_max(now, Relaxed);
    }

    pub fn release(&self, k: MemoryKind, n: u64) {
        // Never below zero, whatever a caller's bookkeeping did.
        let _ = self.kind(k).used.fetch_update(Relaxed, Relaxed, |u| Some(u.saturating_sub(n)));
    }

    /// Whether the kind holds more than its limit.
    pub fn over(&self, k: MemoryKind) -> bool {
        let kind = self.kind(k);
        kind.used.load(Relaxed) > kind.limit
    }

    /// `n` items of the kind gave way to newer state.
    pub fn gave_way(&self, k: MemoryKind, n: u64) {
        self.kind(k).given_way.fetch_add(n, Relaxed);
    }

    /// Entries of `entry_size` bytes the kind's `part` thousandths hold (at least `min`):
    /// for stores that cap by count.
    pub fn entries(&self, k: MemoryKind, part: u64, entry_size: usize, min: usize) -> usize {
        let bytes = self.limit(k) / 1000 * part.min(1000);
        usize::try_from(bytes / entry_size.max(1) as u64).unwrap_or(usize::MAX).max(min)
    }

    /// The counters as the summary and stats show them.
    pub fn counts(&self) -> MemoryCounts {
        if self.0.cap == 0 {
            return MemoryCounts::default();
        }
        let kinds = MemoryKind::ALL
            .iter()
            .map(|&k| {
                let kind = self.kind(k);
                KindCounts {
                    kind: k.name(),
                    limit: kind.limit,
                    used: kind.used.load(Relaxed),
                    peak: kind.peak.load(Relaxed),
                    given_way: kind.given_way.load(Relaxed),
                }
            })
            .collect();
        MemoryCounts { cap: self.0.cap, kinds }
    }
}

/// The budget in the summary: the cap and each kind's limit, use, peak and the items
/// that gave way (flows evicted, buffers shed, windows forgotten, packets not kept).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct MemoryCounts {
    pub cap: u64,
    pub kinds: Vec<KindCounts>,
}

impl MemoryCounts {
    pub fn is_empty(&self) -> bool {
        self.cap == 0
    }

    /// The kind's counters, if the budget is on.
    pub fn kind(&self, k: MemoryKind) -> Option<&KindCounts> {
        self.kinds.iter().find(|c| c.kind == k.name())
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct KindCounts {
    pub kind: &'static str,
    pub limit: u64,
    pub used: u64,
    pub peak: u64,
    pub given_way: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kind_refuses_past_its_share_and_counts_what_gave_way() {
        let b = MemoryBudget::new(1_000_000);
        assert_eq!(b.limit(MemoryKind::Flows), 400_000);
        assert!(b.try_charge(MemoryKind::Flows, 399_000));
        assert!(!b.try_charge(MemoryKind::Flows, 2_000));
        assert_eq!(b.used(MemoryKind::Flows), 399_000);
        b.charge(MemoryKind::Flows, 2_000);
        assert!(b.over(MemoryKind::Flows));
        b.release(MemoryKind::Flows, 2_000);
        b.gave_way(MemoryKind::Flows, 1);
        let c = b.counts();
        let flows = c.kind(MemoryKind::Flows).unwrap();
        assert_eq!((flows.used, flows.peak, flows.given_way), (399_000, 401_000, 1));
        // Other kinds are untouched: each has its own share.
        assert!(b.try_charge(MemoryKind::Reassembly, 200_000));
        b.release(MemoryKind::Reassembly, u64::MAX);
        assert_eq!(b.used(MemoryKind::Reassembly), 0);
    }

    #[test]
    fn clones_share_one_budget_and_no_cap_means_no_limit() {
        let b = MemoryBudget::new(10_000);
        let c = b.clone();
        assert!(b.try_charge(MemoryKind::Detection, 1_000));
        assert!(!c.try_charge(MemoryKind::Detection, 1));
        let none = MemoryBudget::default();
        assert!(none.try_charge(MemoryKind::Flows, u64::MAX / 2));
        assert!(none.counts().is_empty());
        assert_eq!(MemoryBudget::new(1 << 30).entries(MemoryKind::Detection, 500, 100, 10), (1 << 30) / 1000 * 100 / 1000 * 500 / 100);
    }
}
