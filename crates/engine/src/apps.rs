//! The hand-off from flows to protocol dissectors: which dissector a detected protocol
//! gets, and the sink through which its events reach the EVE output and the summary.
use crate::events::{AppConfig, EventCtx, Out};
use otsentry_core::{
    AnomalyKind, AppProto, Dissector, EventHeader, Framed, Layer, PduEvent, PduSink, Pending, ProtocolCounts, StreamCx, Timestamp,
};
use otsentry_proto_dnp3::Dnp3Dissector;
use otsentry_proto_modbus::{ModbusConfig, ModbusDissector};
use otsentry_proto_s7comm::{S7Config, S7Dissector};

/// Bytes a dissector may hold without completing a PDU before they are dropped as a gap
/// (the largest PDUs we parse are Modbus's 260 bytes and DNP3's 292-byte link frames).
const PENDING_CAP: usize = 4096;
/// A TPKT may announce up to 65,535 bytes.
const PENDING_CAP_S7: usize = 65_535;

/// A flow's dissector.
#[derive(Debug)]
pub(crate) enum Parser {
    Modbus(Box<ModbusDissector>),
    Dnp3(Box<Dnp3Dissector>),
    S7(Box<S7Dissector>),
}

impl Parser {
    /// The dissector for `proto`, if one exists yet.
    pub(crate) fn for_proto(proto: AppProto, cfg: &AppConfig) -> Option<Parser> {
        match proto {
            AppProto::Modbus => Some(Parser::Modbus(Box::new(ModbusDissector::new(ModbusConfig::default())))),
            AppProto::Dnp3 => Some(Parser::Dnp3(Box::new(Dnp3Dissector::new(cfg.dnp3)))),
            AppProto::S7comm | AppProto::S7commPlus => Some(Parser::S7(Box::new(S7Dissector::new(S7Config::default())))),
        }
    }

    pub(crate) fn stream<S: PduSink>(&mut self, pending: &mut Pending, cx: &StreamCx, data: &[u8], sink: &mut S) {
        match self {
            Parser::Modbus(d) => pending.feed(d.as_mut(), cx, data, PENDING_CAP, sink),
            Parser::Dnp3(d) => pending.feed(d.as_mut(), cx, data, PENDING_CAP, sink),
            Parser::S7(d) => pending.feed(d.as_mut(), cx, data, PENDING_CAP_S7, sink),
        }
    }

    /// Bytes of one delivery: a datagram, or stream bytes through the direction's pending
    /// buffer.
    pub(crate) fn deliver<S: PduSink>(&mut self, pending: Option<&mut Pending>, cx: &StreamCx, data: &[u8], datagram: bool, sink: &mut S) {
        match pending {
            Some(p) if !datagram => self.stream(p, cx, data, sink),
            _ => self.datagram(cx, data, sink),
        }
    }

    pub(crate) fn gap<S: PduSink>(&mut self, pending: &mut Pending, cx: &StreamCx, len: u64, sink: &mut S) {
        match self {
            Parser::Modbus(d) => pending.gap(d.as_mut(), cx, len, sink),
            Parser::Dnp3(d) => pending.gap(d.as_mut(), cx, len, sink),
            Parser::S7(d) => pending.gap(d.as_mut(), cx, len, sink),
        }
    }

    pub(crate) fn datagram<S: PduSink>(&mut self, cx: &StreamCx, data: &[u8], sink: &mut S) {
        match self {
            Parser::Modbus(d) => d.datagram(cx, data, sink),
            Parser::Dnp3(d) => d.datagram(cx, data, sink),
            Parser::S7(d) => d.datagram(cx, data, sink),
        }
    }

    /// Counts so far into the summary's (the flow goes on).
    pub(crate) fn publish(&mut self, counts: &mut ProtocolCounts) {
        match self {
            Parser::Modbus(d) => d.publish(counts),
            Parser::Dnp3(d) => d.publish(counts),
            Parser::S7(d) => d.publish(counts),
        }
    }

    pub(crate) fn finish<S: PduSink>(&mut self, ts: Timestamp, sink: &mut S) {
        match self {
            Parser::Modbus(d) => d.finish(ts, sink),
            Parser::Dnp3(d) => d.finish(ts, sink),
            Parser::S7(d) => d.finish(ts, sink),
        }
    }
}

/// Carries a dissector's output to the run's outputs, with the flow's header.
pub(crate) struct AppSink<'c, 'o, 'w> {
    pub(crate) ctx: &'c EventCtx<'c>,
    pub(crate) out: &'o mut Out<'w>,
    /// The flow's Community ID, computed on the first event that needs it.
    pub(crate) community_id: &'o mut Option<String>,
    /// The flow's zones, for the segmentation policy.
    pub(crate) zones: &'o mut crate::segment::FlowZones,
    /// The flow's conversation in the baseline detector, once it made a request.
    pub(crate) baseline_slot: &'o mut Option<u32>,
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
        let AppSink { ctx, out, community_id, zones, baseline_slot } = self;
        let subject = || ctx.subject(cx.dir, cx.ts);
        out.detect(&subject, event, Some((event.event_type(), event.body())), &mut || header(ctx, community_id, cx));
        if out.segmentation.is_none() && out.baseline.is_none() && out.roles.is_none() {
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
            crate::baseline::event(out, ctx, baseline_slot, (cx.ts, app), event, class);
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

    fn anomaly(&mut self, cx: &StreamCx, event: &'static str, offset: u64, reason: String) {
        let ctx = self.ctx.at(cx.ts);
        ctx.anomaly(self.out, cx.dir, AnomalyKind::Applayer, event, Layer::App, offset, reason);
    }
}
