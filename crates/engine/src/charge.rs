//! The flow stage's part of the memory budget above the flow table: each flow's
//! dissector (charged with flows) and its application buffers (partial PDUs, pending
//! transactions, fragments in progress, probe bytes). When application buffers pass
//! their limit, the flows that began holding earliest shed theirs, in that order: a
//! queue popped from the front, so the work per packet is constant however many flows
//! hold buffers.
use otsentry_core::{MemoryBudget, MemoryKind};
use otsentry_flow::FlowRef;
use std::collections::VecDeque;

/// What a flow is charged beyond its table slot, as last reported.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Charged {
    pub(crate) dissector: u32,
    pub(crate) app: u32,
    /// Whether the flow is in the holders' queue.
    pub(crate) queued: bool,
    /// Whether it is in the queue of flows holding out-of-order TCP bytes.
    pub(crate) stream_queued: bool,
}

/// Flows holding application buffers, in the order they began to.
#[derive(Debug, Default)]
pub(crate) struct Holders {
    queue: VecDeque<(FlowRef, u64)>,
}

impl Holders {
    pub(crate) fn push(&mut self, r: FlowRef, flow_id: u64) {
        self.queue.push_back((r, flow_id));
    }

    pub(crate) fn pop(&mut self) -> Option<(FlowRef, u64)> {
        self.queue.pop_front()
    }

    /// Entries of flows that ended stay until popped; once they outnumber the live
    /// flows twice over, the queue keeps only those `live` says still hold (at a
    /// sweep, never per packet).
    pub(crate) fn compact(&mut self, flows: usize, mut live: impl FnMut(FlowRef, u64) -> bool) {
        if self.queue.len() > 2 * flows + 1024 {
            self.queue.retain(|&(r, id)| live(r, id));
        }
    }
}

/// Bring a flow's charges to what it holds now; true when application buffers are over
/// their limit (some flow must shed).
pub(crate) fn settle(memory: &MemoryBudget, charged: &mut Charged, dissector: usize, app: usize) -> bool {
    move_charge(memory, MemoryKind::Flows, &mut charged.dissector, dissector);
    move_charge(memory, MemoryKind::AppBuffers, &mut charged.app, app);
    memory.over(MemoryKind::AppBuffers)
}

fn move_charge(memory: &MemoryBudget, kind: MemoryKind, charged: &mut u32, now: usize) {
    let now = u32::try_from(now).unwrap_or(u32::MAX);
    match now.cmp(charged) {
        std::cmp::Ordering::Greater => memory.charge(kind, u64::from(now - *charged)),
        std::cmp::Ordering::Less => memory.release(kind, u64::from(*charged - now)),
        std::cmp::Ordering::Equal => return,
    }
    *charged = now;
}

/// A flow ended: everything it was charged goes back.
pub(crate) fn release(memory: &MemoryBudget, charged: &mut Charged) {
    settle(memory, charged, 0, 0);
}
