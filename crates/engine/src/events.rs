//! What the flow stage's events carry and where they go: the outputs and counters
//! ([`Out`]), and the flow and packet an event is about ([`EventCtx`]).
use crate::alerting::Alerting;
use otsentry_core::{
    Anomaly, AnomalyBody, AnomalyKind, AppProto, Direction, EventHeader, FieldAccess, FlowKey, IpProto, Layer, Record, Summary, Timestamp,
    Vlans,
};
use otsentry_flow::community_id;
use otsentry_rules::Subject;
use otsentry_sink::Outputs;
use serde::Serialize;
use std::net::SocketAddr;
use std::sync::Arc;

/// The dissectors' settings (Suricata's `app-layer.protocols.*`), carried with the
/// outputs to where flows start their dissectors.
pub type AppConfig = otsentry_core::Settings;

/// Where the flow stage writes: the outputs (if any) and the run's counters. Output
/// never fails here: the sinks count their own errors.
pub(crate) struct Out<'a> {
    pub(crate) outputs: Option<&'a mut Outputs>,
    pub(crate) summary: &'a mut Summary,
    /// The input being read, named in every record.
    pub(crate) input: Option<&'a Arc<str>>,
    pub(crate) alerting: &'a mut Alerting,
    pub(crate) apps: &'a AppConfig,
    /// The segmentation policy's state, if a policy is loaded.
    pub(crate) segmentation: Option<&'a mut crate::segment::Segmentation>,
    /// Learning or checking a baseline, if asked to.
    pub(crate) baseline: Option<&'a mut crate::baselining::Baselining>,
    /// Clients watched while the warm-up infers the host sets.
    pub(crate) roles: Option<&'a mut crate::roles::RoleWatch>,
    /// Keeps flows' recent packets and writes alerts' evidence, if asked to.
    pub(crate) evidence: Option<&'a mut crate::evidence::Keeper>,
    /// The asset book, when the outputs take `asset` records.
    pub(crate) inventory: Option<&'a mut crate::assets::Inventory>,
    /// A lean learner beside the baseline stage, for a sensor's periodic report.
    pub(crate) report: Option<&'a mut otsentry_baseline::Learner>,
}

impl Out<'_> {
    /// Whether the outputs take records of `event_type` (skip building the others).
    #[inline]
    pub(crate) fn wants(&self, event_type: &str) -> bool {
        self.outputs.as_ref().is_some_and(|o| o.wants(event_type))
    }

    pub(crate) fn write<R: Record>(&mut self, record: &R) {
        if let Some(o) = self.outputs.as_mut() {
            o.write(record);
        }
    }

    /// Checks an event against the rules; alerts go to EVE with `header()`'s header and
    /// `body` (the event's EVE object) beside them.
    pub(crate) fn detect<'s, E: FieldAccess + ?Sized, B: Serialize + ?Sized>(
        &mut self,
        subject: &dyn Fn() -> Subject<'s>,
        event: &E,
        body: Option<(&'static str, &B)>,
        header: &mut dyn FnMut() -> EventHeader,
    ) {
        let Out { outputs, summary, alerting, evidence, .. } = self;
        alerting.check(subject, event, body, header, summary, evidence.as_deref_mut(), &mut |alert| {
            if let Some(o) = outputs.as_mut() {
                o.write(alert);
            }
        });
    }
}

/// What an event needs to know about its flow and packet.
#[derive(Clone, Copy)]
pub(crate) struct EventCtx<'p> {
    pub(crate) flow_id: u64,
    pub(crate) key: FlowKey,
    pub(crate) client_is_lo: bool,
    pub(crate) icmp: Option<(bool, u8, u8)>,
    pub(crate) app: Option<AppProto>,
    pub(crate) ts: Timestamp,
    pub(crate) pcap_cnt: Option<u64>,
    pub(crate) vlans: &'p [u16],
    pub(crate) input: Option<&'p Arc<str>>,
}

impl<'p> EventCtx<'p> {
    pub(crate) fn client(&self) -> SocketAddr {
        if self.client_is_lo {
            self.key.lo
        } else {
            self.key.hi
        }
    }

    pub(crate) fn server(&self) -> SocketAddr {
        if self.client_is_lo {
            self.key.hi
        } else {
            self.key.lo
        }
    }

    /// The event's sender and receiver, as rules see them.
    pub(crate) fn subject(&self, dir: Direction, ts: Timestamp) -> Subject<'p> {
        let (src, dst) = match dir {
            Direction::ToServer => (self.client(), self.server()),
            Direction::ToClient => (self.server(), self.client()),
        };
        let ports = matches!(self.key.proto, IpProto::TCP | IpProto::UDP | IpProto::SCTP);
        Subject {
            ts,
            src: src.ip(),
            dst: dst.ip(),
            src_port: ports.then_some(src.port()),
            dst_port: ports.then_some(dst.port()),
            vlan: self.vlans,
            to_server: dir == Direction::ToServer,
            flow_id: self.flow_id,
        }
    }

    /// Checks the flow's conversation against the segmentation policy; a first forbidden
    /// one goes to the rules as a `segmentation` event, from the side that opened it.
    pub(crate) fn segmentation(
        &self,
        out: &mut Out<'_>,
        zones: &mut crate::segment::FlowZones,
        service: otsentry_policy::Service,
        class: Option<otsentry_core::FunctionClass>,
    ) {
        let Some(seg) = out.segmentation.as_deref_mut() else { return };
        let (client, server) = (self.client().ip(), self.server().ip());
        let vlan = self.key.vlan;
        if let Some(event) = seg.check(zones, client, server, vlan, service, class, self.ts) {
            let dir = Direction::ToServer;
            out.detect(&|| self.subject(dir, self.ts), &event, Some(("segmentation", &event)), &mut || self.header(dir));
        }
    }

    /// The same flow and packet, at another time.
    pub(crate) fn at(&self, ts: Timestamp) -> Self {
        EventCtx { ts, ..*self }
    }

    pub(crate) fn community_id(&self) -> String {
        let k = &self.key;
        match self.icmp {
            Some((lo_first, t, c)) => {
                let (src, dst) = if lo_first { (k.lo, k.hi) } else { (k.hi, k.lo) };
                community_id(0, k.proto, src.ip(), dst.ip(), Some((u16::from(t), u16::from(c))))
            }
            None => {
                let ports = matches!(k.proto, IpProto::TCP | IpProto::UDP | IpProto::SCTP).then_some((k.lo.port(), k.hi.port()));
                community_id(0, k.proto, k.lo.ip(), k.hi.ip(), ports)
            }
        }
    }

    /// The header of an event travelling in `dir`.
    pub(crate) fn header(&self, dir: Direction) -> EventHeader {
        EventHeader { community_id: Some(self.community_id()), ..self.header_without_id(dir) }
    }

    /// [`EventCtx::header`] without the Community ID (for callers that cache it).
    pub(crate) fn header_without_id(&self, dir: Direction) -> EventHeader {
        EventHeader { pcap_filename: self.input.cloned(), ..self.record_header(dir) }
    }

    /// The header of a protocol record: neither Community ID nor capture name (its
    /// flow record carries both), built without touching the capture name's count.
    pub(crate) fn record_header(&self, dir: Direction) -> EventHeader {
        let (src, dst) = match dir {
            Direction::ToServer => (self.client(), self.server()),
            Direction::ToClient => (self.server(), self.client()),
        };
        let ports = matches!(self.key.proto, IpProto::TCP | IpProto::UDP | IpProto::SCTP);
        EventHeader {
            timestamp: self.ts,
            flow_id: Some(self.flow_id),
            pcap_cnt: self.pcap_cnt,
            src_ip: Some(src.ip()),
            src_port: ports.then_some(src.port()),
            dest_ip: Some(dst.ip()),
            dest_port: ports.then_some(dst.port()),
            proto: Some(self.key.proto),
            app_proto: self.app.map(AppProto::name),
            vlan: Vlans::from_slice(self.vlans),
            community_id: None,
            pcap_filename: None,
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn anomaly(
        &self,
        out: &mut Out<'_>,
        dir: Direction,
        kind: AnomalyKind,
        event: &'static str,
        layer: Layer,
        offset: u64,
        reason: std::fmt::Arguments<'_>,
    ) {
        count_anomaly(out.summary, event);
        let offset = usize::try_from(offset).unwrap_or(usize::MAX);
        // The reason is formatted only if a rule reads it or a record or alert is written.
        let body = AnomalyBody { kind, event, layer, offset, reason: otsentry_core::LazyReason::new(reason) };
        out.detect(&|| self.subject(dir, self.ts), &body, Some(("anomaly", &body)), &mut || self.header(dir));
        if out.wants("anomaly") {
            out.write(&Anomaly { header: self.header(dir), body });
        }
    }
}

/// One more anomaly of `event` in the summary (a string key made only the first time).
pub(crate) fn count_anomaly(summary: &mut Summary, event: &'static str) {
    match summary.decode.anomalies.get_mut(event) {
        Some(n) => *n += 1,
        None => {
            summary.decode.anomalies.insert(event.to_string(), 1);
        }
    }
}
