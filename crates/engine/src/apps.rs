//! The hand-off from flows to protocol dissectors: which dissector a detected protocol
//! gets, and the sink through which its events reach the EVE output and the summary.
use crate::events::{EventCtx, Out};
use otsentry_core::{AnomalyKind, Dissector, EventHeader, Framed, Layer, PduEvent, PduSink, Pending, ProtocolCounts, StreamCx, Timestamp};

/// A flow's dissector, whichever protocol it is: the registry starts one per flow and
/// the flow stage reaches it through this (one call per delivery).
pub(crate) trait Parse: Send {
    /// Stream bytes through the direction's pending buffer (at most `cap` held). This
    /// and the other deliveries return what the dissector then holds (its `held`), so
    /// the memory budget costs no second dynamic call.
    fn stream(&mut self, pending: &mut Pending, cx: &StreamCx, data: &[u8], cap: usize, sink: &mut AppSink<'_, '_, '_>) -> usize;
    fn gap(&mut self, pending: &mut Pending, cx: &StreamCx, len: u64, sink: &mut AppSink<'_, '_, '_>) -> usize;
    fn datagram(&mut self, cx: &StreamCx, data: &[u8], sink: &mut AppSink<'_, '_, '_>) -> usize;
    /// Counts so far into the summary's (the flow goes on).
    fn publish(&mut self, counts: &mut ProtocolCounts);
    fn finish(&mut self, ts: Timestamp, sink: &mut AppSink<'_, '_, '_>);
    /// Drop the partial PDUs of both directions' pending buffers and the dissector's
    /// own; returns the PDUs lost.
    fn shed(&mut self, pending: &mut [Pending; 2], ts: Timestamp, sink: &mut AppSink<'_, '_, '_>) -> u64;
}

impl<D: Dissector + Send> Parse for D {
    fn stream(&mut self, pending: &mut Pending, cx: &StreamCx, data: &[u8], cap: usize, sink: &mut AppSink<'_, '_, '_>) -> usize {
        pending.feed(self, cx, data, cap, sink);
        Dissector::held(self)
    }
    fn gap(&mut self, pending: &mut Pending, cx: &StreamCx, len: u64, sink: &mut AppSink<'_, '_, '_>) -> usize {
        pending.gap(self, cx, len, sink);
        Dissector::held(self)
    }
    fn datagram(&mut self, cx: &StreamCx, data: &[u8], sink: &mut AppSink<'_, '_, '_>) -> usize {
        Dissector::datagram(self, cx, data, sink);
        Dissector::held(self)
    }
    fn publish(&mut self, counts: &mut ProtocolCounts) {
        Dissector::publish(self, counts);
    }
    fn finish(&mut self, ts: Timestamp, sink: &mut AppSink<'_, '_, '_>) {
        Dissector::finish(self, ts, sink);
    }
    fn shed(&mut self, pending: &mut [Pending; 2], ts: Timestamp, sink: &mut AppSink<'_, '_, '_>) -> u64 {
        let mut lost = 0;
        for (p, dir) in pending.iter_mut().zip([otsentry_core::Direction::ToServer, otsentry_core::Direction::ToClient]) {
            lost += u64::from(p.shed(self, &StreamCx { ts, dir, offset: 0 }, sink) > 0);
        }
        lost + Dissector::shed(self)
    }
}

/// A flow's dissector and the most bytes of a partial PDU it may hold.
pub(crate) struct Parser {
    dissector: Box<dyn Parse>,
    cap: usize,
    /// What the dissector held after its last delivery (for the memory budget), and
    /// whether that or a pending buffer's size changed since the flow was last charged.
    held: usize,
    changed: bool,
    /// The dissector's own size, charged with its flow.
    size: usize,
}

impl std::fmt::Debug for Parser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Parser").field("cap", &self.cap).finish_non_exhaustive()
    }
}

impl Parser {
    pub(crate) fn new(dissector: Box<dyn Parse>, cap: usize) -> Parser {
        let size = std::mem::size_of_val(&*dissector);
        // New: its own size is still to be charged.
        Parser { dissector, cap, held: 0, size, changed: true }
    }

    pub(crate) fn stream(&mut self, pending: &mut Pending, cx: &StreamCx, data: &[u8], sink: &mut AppSink<'_, '_, '_>) {
        let before = pending.held();
        let held = self.dissector.stream(pending, cx, data, self.cap, sink);
        self.note(held, before != pending.held());
    }

    fn note(&mut self, held: usize, pending_changed: bool) {
        self.changed |= pending_changed || held != self.held;
        self.held = held;
    }

    /// Whether what it holds changed since the last call (the flow's charge is due).
    pub(crate) fn take_changed(&mut self) -> bool {
        std::mem::take(&mut self.changed)
    }

    /// Heap bytes the dissector held after its last delivery.
    pub(crate) fn held(&self) -> usize {
        self.held
    }

    pub(crate) fn size(&self) -> usize {
        self.size
    }

    pub(crate) fn shed(&mut self, pending: &mut [Pending; 2], ts: Timestamp, sink: &mut AppSink<'_, '_, '_>) -> u64 {
        self.held = 0;
        self.dissector.shed(pending, ts, sink)
    }

    /// Bytes of one delivery: a datagram, or stream bytes through the direction's pending
    /// buffer.
    pub(crate) fn deliver(
        &mut self,
        pending: Option<&mut Pending>,
        cx: &StreamCx,
        data: &[u8],
        datagram: bool,
        sink: &mut AppSink<'_, '_, '_>,
    ) {
        match pending {
            Some(p) if !datagram => self.stream(p, cx, data, sink),
            _ => {
                let held = self.dissector.datagram(cx, data, sink);
                self.note(held, false);
            }
        }
    }

    pub(crate) fn gap(&mut self, pending: &mut Pending, cx: &StreamCx, len: u64, sink: &mut AppSink<'_, '_, '_>) {
        let before = pending.held();
        let held = self.dissector.gap(pending, cx, len, sink);
        self.note(held, before != pending.held());
    }

    /// Counts so far into the summary's (the flow goes on).
    pub(crate) fn publish(&mut self, counts: &mut ProtocolCounts) {
        self.dissector.publish(counts);
    }

    pub(crate) fn finish(&mut self, ts: Timestamp, sink: &mut AppSink<'_, '_, '_>) {
        self.dissector.finish(ts, sink);
    }
}

/// What a flow has told the stages that keep state across flows.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Marks {
    /// Its conversation in the baseline detector, once it made a request.
    pub(crate) baseline_slot: Option<u32>,
    pub(crate) assets: crate::inventory::FlowAssets,
}

/// Carries a dissector's output to the run's outputs, with the flow's header.
pub(crate) struct AppSink<'c, 'o, 'w> {
    pub(crate) ctx: &'c EventCtx<'c>,
    pub(crate) out: &'o mut Out<'w>,
    /// The flow's Community ID, computed on the first event that needs it.
    pub(crate) community_id: &'o mut Option<String>,
    /// The flow's zones, for the segmentation policy.
    pub(crate) zones: &'o mut crate::segment::FlowZones,
    /// The flow's conversation in the baseline detector, and what it told the asset book.
    pub(crate) marks: &'o mut Marks,
}

/// The header of an event of the flow at `cx`, its Community ID computed once per flow.
fn header(ctx: &EventCtx<'_>, community_id: &mut Option<String>, cx: &StreamCx) -> EventHeader {
    let cid = community_id.get_or_insert_with(|| ctx.community_id()).clone();
    EventHeader { timestamp: cx.ts, community_id: Some(cid), ..ctx.header_without_id(cx.dir) }
}

impl AppSink<'_, '_, '_> {
    /// Rules; then, for a request (an event with a function class: each request has
    /// one event with it, on arrival or as its record), the policy's class check; and
    /// the baseline, which learns or checks requests and reads identities in responses.
    fn detect<E: PduEvent>(&mut self, cx: &StreamCx, event: &E) {
        let AppSink { ctx, out, community_id, zones, marks } = self;
        let subject = || ctx.subject(cx.dir, cx.ts);
        out.detect(&subject, event, Some((event.event_type(), event.body())), &mut || header(ctx, community_id, cx));
        if out.segmentation.is_none() && out.baseline.is_none() && out.roles.is_none() && out.inventory.is_none() && out.report.is_none() {
            return;
        }
        // Requests only have a class, each reported once (on arrival, or as their record).
        let class = event.function_class();
        if let (Some(roles), Some(class), Some(app)) = (out.roles.as_deref_mut(), class, ctx.app) {
            roles.request(ctx.client().ip(), app, class, cx.ts);
        }
        if let (true, Some(class), Some(app)) = (out.segmentation.is_some(), class, ctx.app) {
            if zones.needs(Some(class)) {
                ctx.segmentation(out, zones, otsentry_policy::Service::App(app), Some(class));
            }
        }
        if let Some(app) = ctx.app {
            crate::baseline::event(out, ctx, &mut marks.baseline_slot, (cx.ts, app), event, class);
            if out.inventory.is_some() {
                match class {
                    Some(c) => crate::inventory::request(
                        out,
                        &mut marks.assets,
                        (ctx.client().ip(), ctx.server().ip()),
                        app,
                        c,
                        (cx.ts, ctx.pcap_cnt),
                    ),
                    None => crate::inventory::response(out, ctx.server().ip(), event, (cx.ts, ctx.pcap_cnt)),
                }
            }
        }
    }
}

impl PduSink for AppSink<'_, '_, '_> {
    fn request<E: PduEvent>(&mut self, cx: &StreamCx, event: &E) {
        self.detect(cx, event);
    }

    fn pdu<E: PduEvent>(&mut self, cx: &StreamCx, event: &E) {
        self.detect(cx, event);
        if !self.out.wants(event.event_type()) {
            return;
        }
        // A protocol record names neither its Community ID nor its capture: its flow
        // record (same flow_id) has both, and polls are most of the output.
        let header = EventHeader { timestamp: cx.ts, ..self.ctx.record_header(cx.dir) };
        self.out.write(&Framed { header: &header, event });
    }

    fn counts(&mut self) -> &mut ProtocolCounts {
        &mut self.out.summary.protocols
    }

    fn anomaly(&mut self, cx: &StreamCx, event: &'static str, offset: u64, reason: std::fmt::Arguments<'_>) {
        let ctx = self.ctx.at(cx.ts);
        ctx.anomaly(self.out, cx.dir, AnomalyKind::Applayer, event, Layer::App, offset, reason);
    }
}
