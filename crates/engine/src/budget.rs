//! Making room under the memory budget, for the flow stage: the flows that began
//! holding application buffers or out-of-order bytes first give theirs up, oldest first
//! (the queues of `charge.rs`), each a constant amount of work.
use crate::events::Out;
use crate::flows::{event_ctx, on_delivery, shed_flow, FlowStage};
use otsentry_core::{Direction, MemoryKind, Timestamp};
use otsentry_flow::Flow;

impl FlowStage {
    /// The flows that began holding out-of-order bytes first skip their holes and
    /// deliver what they hold, until the reassembly share is four fifths full: the
    /// oldest give way before a new stream must skip its own.
    #[cold]
    pub(crate) fn streams_give_way(&mut self, now: Timestamp, out: &mut Out<'_>) {
        let low = self.memory.limit(MemoryKind::Reassembly) / 10 * 8;
        while self.memory.used(MemoryKind::Reassembly) > low {
            let Some((r, id)) = self.stream_holders.pop() else { break };
            let Some((flow, budget)) = self.table.get_with_budget(r).filter(|(f, _)| f.id == id) else { continue };
            flow.user.charged().stream_queued = false;
            let vlan = [flow.key.vlan];
            let vlans: &[u16] = if flow.key.vlan != 0 { &vlan } else { &[] };
            let ctx = event_ctx(flow, now, None, vlans, out.input);
            let Flow { tcp, user, .. } = flow;
            let Some(conn) = tcp.as_mut() else { continue };
            let mut gave = false;
            for (s, stream) in conn.streams.iter_mut().enumerate().filter(|(_, s)| s.held_bytes() > 0) {
                let dir = if s == 0 { Direction::ToServer } else { Direction::ToClient };
                stream.give_way(budget, &mut |d| on_delivery(user, &ctx, dir, d, out));
                gave = true;
            }
            if gave {
                self.memory.gave_way(MemoryKind::Reassembly, 1);
            }
        }
    }

    #[cold]
    pub(crate) fn shed_oldest(&mut self, now: Timestamp, out: &mut Out<'_>) {
        while self.memory.over(MemoryKind::AppBuffers) {
            let Some((r, id)) = self.holders.pop() else { break };
            let Some(flow) = self.table.get_mut(r).filter(|f| f.id == id) else { continue };
            flow.user.charged().queued = false;
            if flow.user.charged().app == 0 {
                continue;
            }
            shed_flow(flow, now, out);
            let (dissector, app) = flow.user.holdings();
            crate::charge::settle(&self.memory, flow.user.charged(), dissector, app);
            self.memory.gave_way(MemoryKind::AppBuffers, 1);
            if app > 0 {
                flow.user.charged().queued = true;
                self.holders.push(r, id);
            }
        }
    }
}
