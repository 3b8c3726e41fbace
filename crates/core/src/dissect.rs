//! The dissector interface: how protocol crates are found on a flow and fed its bytes.
//!
//! A protocol crate provides a content [`Probe`] and a [`Dissector`]. The engine picks the
//! protocol from the configured [`PortMap`] and the probes, then hands the dissector the
//! reassembled stream (TCP) or each datagram (UDP) with direction, time and gaps. The
//! dissector reports borrowed [`PduEvent`]s and anomalies through a [`PduSink`]; rules
//! read the events by field name, sinks serialise them.
use crate::field::FieldAccess;
use crate::flow::{Direction, IpProto};
use crate::proto::AppProto;
use crate::sections::ProtocolCounts;
use crate::time::Timestamp;
use serde::Serialize;

/// What a content probe concluded from the first bytes of one direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProbeResult {
    /// The bytes are this protocol. `dir` says which way they travel, when the content
    /// tells (a request shape, a direction bit); it places a midstream flow's client.
    Match {
        proto: AppProto,
        dir: Option<Direction>,
    },
    NoMatch,
    /// Too few bytes to say.
    NeedMore,
}

/// A content probe: looks at the first bytes a direction carried.
pub type Probe = fn(&[u8]) -> ProbeResult;

/// What a protocol crate tells the engine about itself, registered once in the engine's
/// protocol list: dispatch by port and by content, the rules' field table, the policy's
/// class table, the summary's sections and the protocol names configuration reads are
/// built from the registered descriptors.
#[derive(Clone, Copy, Debug)]
pub struct Descriptor {
    /// The protocol its dissector is started for.
    pub proto: AppProto,
    /// The other protocols its dissector may report (its family: one port and framing).
    pub also: &'static [AppProto],
    /// Server ports it is expected on by default (a site's `--app-port` overrides).
    pub ports: &'static [(IpProto, u16)],
    /// Tells it from the first bytes of a direction, on any port.
    pub probe: Probe,
    /// A looser probe for a port configured for it (framing alone decides), if any.
    pub probe_on_port: Option<Probe>,
    /// The event types it raises, with the fields rules may read.
    pub schemas: &'static [&'static crate::field::Schema],
    /// Each of its functions with its policy class.
    pub classes: fn() -> Vec<crate::class::ClassRow>,
    /// Most bytes of a partial PDU held for more before they are dropped as a gap.
    pub max_pdu: usize,
    /// Its sections of the summary's `protocols`, one per protocol of `protos`.
    pub summary: &'static [&'static crate::sections::SectionLayout],
    /// A table per record type it writes, for the SQL stores (ClickHouse).
    pub tables: &'static [crate::table::Table],
    /// The migrations its tables arrive in, if not one of the engine's (a protocol
    /// registered after a database was set up gets a step of its own).
    pub migrations: &'static [crate::table::Migration],
    /// Its files of the default rule pack: name and YAML text.
    pub rules: &'static [(&'static str, &'static str)],
    /// Suricata's app-layer event names for its anomalies, each with ours, for `otsentry
    /// rules import` (the same name, or Suricata's for one of ours).
    pub suricata_events: &'static [(&'static str, &'static str)],
    /// The settings its dissector reads (`--app-setting NAME.KEY=N`, `app-setting:`).
    pub settings: &'static [SettingDef],
}

/// A number a protocol's dissector may be given, and the values it takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SettingDef {
    pub key: &'static str,
    pub min: u64,
    pub max: u64,
    pub help: &'static str,
}

impl Descriptor {
    /// Every protocol its dissector may report, `proto` first.
    pub fn protos(&self) -> impl Iterator<Item = AppProto> + '_ {
        std::iter::once(self.proto).chain(self.also.iter().copied())
    }

    /// The name `otsentry policy classes` lists its functions under.
    pub fn name(&self) -> &'static str {
        self.proto.name()
    }
}

/// Which protocol is expected on which server port: the registered protocols' defaults,
/// and a site's overrides on top.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PortMap {
    entries: Vec<(IpProto, u16, AppProto)>,
}

impl PortMap {
    /// The default ports of `protocols`.
    pub fn of(protocols: &[&Descriptor]) -> PortMap {
        PortMap { entries: protocols.iter().flat_map(|d| d.ports.iter().map(|&(t, p)| (t, p, d.proto))).collect() }
    }

    /// Expect `proto` on `port` (replacing what was expected there).
    pub fn set(&mut self, transport: IpProto, port: u16, proto: AppProto) {
        self.entries.retain(|&(t, p, _)| (t, p) != (transport, port));
        self.entries.push((transport, port, proto));
    }

    pub fn get(&self, transport: IpProto, port: u16) -> Option<AppProto> {
        self.entries.iter().find(|&&(t, p, _)| (t, p) == (transport, port)).map(|&(_, _, a)| a)
    }
}

/// Where a delivery sits: time of the packet that completed it, its direction, and the
/// stream offset of its first byte (datagrams count from 0 each).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StreamCx {
    pub ts: Timestamp,
    pub dir: Direction,
    pub offset: u64,
}

/// A protocol event borrowed from the stream: readable by field name, serialisable as
/// the body of an EVE line named `event_type`.
pub trait PduEvent: FieldAccess {
    type Body: Serialize + ?Sized;
    fn event_type(&self) -> &'static str;
    fn body(&self) -> &Self::Body;
    /// What the request does, for a segmentation policy; `None` for events that are not
    /// a request of a function (a lone response, a connection setup).
    fn function_class(&self) -> Option<crate::class::FunctionClass> {
        None
    }
    /// Tells `observer` what a learned baseline keeps of this event: for a request,
    /// its function, ranges and written values; for a response, the server's identity.
    fn observe(&self, _observer: &mut dyn crate::observe::Observer) {}
    /// Whether this event (not a request) may carry the server's identity, so that
    /// the many that cannot skip [`PduEvent::observe`].
    fn identifies(&self) -> bool {
        false
    }
    /// For an event that closes a transaction: the time from its request to its
    /// answer, in microseconds (a report's response times).
    fn response_time_us(&self) -> Option<i64> {
        None
    }
}

/// Where a dissector's output goes.
pub trait PduSink {
    /// A record: a transaction, or a message that stands alone.
    fn pdu<E: PduEvent>(&mut self, cx: &StreamCx, event: &E);
    /// A request as it arrives, for detection only: its record follows with its answer
    /// through [`PduSink::pdu`], so a PLC stop is seen before (and whether or not) the
    /// PLC answers.
    fn request<E: PduEvent>(&mut self, _cx: &StreamCx, _event: &E) {}
    /// The run's per-protocol counters (`pdus`, `functions`, ... of the summary).
    fn counts(&mut self) -> &mut ProtocolCounts;
    /// An application-layer anomaly: `event` is a dotted name such as
    /// `PROTOCOL.invalid_length`; `offset` is the stream offset of the problem; `reason` is
    /// formatted only if something reads it (a record or alert written, a rule on it).
    fn anomaly(&mut self, cx: &StreamCx, event: &'static str, offset: u64, reason: std::fmt::Arguments<'_>);
}

/// A protocol's parser state for one flow.
pub trait Dissector {
    fn proto(&self) -> AppProto;

    /// Parse whole PDUs from the start of `data` and return how many bytes they took.
    /// Bytes left over (a partial PDU: "need more") are offered again, with more after
    /// them, on the next call.
    fn parse<S: PduSink>(&mut self, cx: &StreamCx, data: &[u8], sink: &mut S) -> usize;

    /// `len` bytes before `cx.offset` were never seen: drop partial state and resynchronise.
    fn gap<S: PduSink>(&mut self, cx: &StreamCx, len: u64, sink: &mut S);

    /// One UDP datagram: by default, PDUs from its start; a remainder is malformed.
    fn datagram<S: PduSink>(&mut self, cx: &StreamCx, data: &[u8], sink: &mut S) {
        let used = self.parse(cx, data, sink);
        if used < data.len() {
            let offset = cx.offset + used as u64;
            sink.anomaly(cx, "applayer.datagram_trailing_bytes", offset, format_args!("{} bytes after the last PDU", data.len() - used));
        }
    }

    /// The flow ended: report what is still open (transactions without a response).
    fn finish<S: PduSink>(&mut self, _ts: Timestamp, _sink: &mut S) {}
    /// Counts kept per flow so far, merged into the run's (and started again): called
    /// for periodic stats while the flow lives, and by `finish`.
    fn publish(&mut self, _counts: &mut ProtocolCounts) {}

    /// Heap bytes held for PDUs in progress and transactions awaiting an answer: what the
    /// memory budget charges to application buffers.
    fn held(&self) -> usize {
        0
    }

    /// The memory budget needs room: drop PDUs in progress and transactions awaiting an
    /// answer (a later answer reads as one to a request before the capture); returns how
    /// many were dropped.
    fn shed(&mut self) -> u64 {
        0
    }
}

/// A protocol's dissector as the engine registers it: its descriptor, and how a flow's
/// dissector starts from the run's settings. The engine's registration line names the
/// type: `Protocol::of::<TheDissector>()`.
pub trait Registered: Dissector + Send + Sized + 'static {
    const DESCRIPTOR: &'static Descriptor;
    fn start(settings: &Settings) -> Self;
}

/// Protocol settings from the command line or the configuration file
/// (`app-layer.protocols.NAME.KEY`), by protocol and key; a dissector reads its
/// own and keeps its defaults for the rest.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Settings {
    values: Vec<(&'static str, &'static str, u64)>,
}

impl Settings {
    pub fn set(&mut self, proto: &'static str, key: &'static str, value: u64) {
        self.values.retain(|&(p, k, _)| (p, k) != (proto, key));
        self.values.push((proto, key, value));
    }

    pub fn get(&self, proto: &str, key: &str) -> Option<u64> {
        self.values.iter().find(|&&(p, k, _)| (p, k) == (proto, key)).map(|&(_, _, v)| v)
    }
}

/// Per-direction holding area for a partial PDU, so dissectors only ever see whole ones
/// from the start of a slice. When nothing is pending the delivered slice is passed
/// through untouched; only a trailing partial PDU is copied.
#[derive(Clone, Debug, Default)]
pub struct Pending {
    buf: Vec<u8>,
    /// Stream offset of `buf[0]`.
    offset: u64,
    /// Bytes dropped because a dissector held more than the cap without progress.
    pub dropped: u64,
}

impl Pending {
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Feed the next delivered bytes (at `cx.offset`) to `d`. A dissector that keeps
    /// more than `cap` bytes without consuming any loses them, as a counted gap.
    pub fn feed<D: Dissector, S: PduSink>(&mut self, d: &mut D, cx: &StreamCx, data: &[u8], cap: usize, sink: &mut S) {
        if self.buf.is_empty() {
            let used = d.parse(cx, data, sink).min(data.len());
            self.offset = cx.offset + used as u64;
            self.buf.extend_from_slice(data.get(used..).unwrap_or_default());
        } else {
            self.buf.extend_from_slice(data);
            let at = StreamCx { offset: self.offset, ..*cx };
            let used = d.parse(&at, &self.buf, sink).min(self.buf.len());
            self.buf.drain(..used);
            self.offset += used as u64;
            if self.buf.is_empty() && self.buf.capacity() > 4096 {
                // A large PDU passed: its buffer goes back rather than stay charged.
                self.buf = Vec::new();
            }
        }
        if self.buf.len() > cap {
            let len = self.buf.len() as u64;
            let at = StreamCx { offset: self.offset, ..*cx };
            sink.anomaly(&at, "applayer.pdu_too_large", self.offset, format_args!("{len} bytes held without a whole PDU (cap {cap})"));
            self.dropped += len;
            self.offset += len;
            self.buf.clear();
            d.gap(&StreamCx { offset: self.offset, ..*cx }, len, sink);
        }
    }

    /// Heap bytes held (what the memory budget charges).
    pub fn held(&self) -> usize {
        self.buf.capacity()
    }

    /// The memory budget needs room: the partial PDU held is dropped as a gap (counted in
    /// `dropped`), its buffer freed; returns the bytes dropped.
    pub fn shed<D: Dissector, S: PduSink>(&mut self, d: &mut D, cx: &StreamCx, sink: &mut S) -> u64 {
        let len = self.buf.len() as u64;
        self.buf = Vec::new();
        if len > 0 {
            self.dropped += len;
            self.offset += len;
            d.gap(&StreamCx { offset: self.offset, ..*cx }, len, sink);
        }
        len
    }

    /// Bytes are missing: what was pending can never complete.
    pub fn gap<D: Dissector, S: PduSink>(&mut self, d: &mut D, cx: &StreamCx, len: u64, sink: &mut S) {
        self.dropped += self.buf.len() as u64;
        self.buf.clear();
        self.offset = cx.offset;
        d.gap(cx, len, sink);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::field::{FieldDef, FieldId, FieldType, FieldValue, Schema};

    /// A toy protocol: one length byte, then that many bytes.
    #[derive(Default)]
    struct Prefixed {
        gaps: u64,
    }

    struct Msg<'a> {
        body: &'a [u8],
    }

    static TOY: Schema = Schema { event_type: "toy", fields: &[FieldDef::one("toy.body", FieldType::Bytes)], groups: &[], keys: &[] };

    impl FieldAccess for Msg<'_> {
        fn schema(&self) -> &'static Schema {
            &TOY
        }
        fn value(&self, id: FieldId, _elem: usize) -> Option<FieldValue<'_>> {
            (id.0 == 0).then_some(FieldValue::Bytes(self.body))
        }
    }

    impl PduEvent for Msg<'_> {
        type Body = [u8];
        fn event_type(&self) -> &'static str {
            "toy"
        }
        fn body(&self) -> &[u8] {
            self.body
        }
    }

    impl Dissector for Prefixed {
        fn proto(&self) -> AppProto {
            ALPHA
        }
        fn parse<S: PduSink>(&mut self, cx: &StreamCx, data: &[u8], sink: &mut S) -> usize {
            let mut at = 0;
            while let Some(&n) = data.get(at) {
                let Some(body) = data.get(at + 1..at + 1 + usize::from(n)) else { break };
                sink.pdu(cx, &Msg { body });
                at += 1 + usize::from(n);
            }
            at
        }
        fn gap<S: PduSink>(&mut self, _cx: &StreamCx, _len: u64, _sink: &mut S) {
            self.gaps += 1;
        }
    }

    #[derive(Default)]
    struct Collect {
        msgs: Vec<Vec<u8>>,
        anomalies: Vec<&'static str>,
        counts: ProtocolCounts,
    }

    impl PduSink for Collect {
        fn counts(&mut self) -> &mut ProtocolCounts {
            &mut self.counts
        }
        fn pdu<E: PduEvent>(&mut self, _cx: &StreamCx, e: &E) {
            if let Some(FieldValue::Bytes(b)) = e.field("toy.body") {
                self.msgs.push(b.to_vec());
            }
        }
        fn anomaly(&mut self, _cx: &StreamCx, event: &'static str, _offset: u64, _reason: std::fmt::Arguments<'_>) {
            self.anomalies.push(event);
        }
    }

    fn cx(offset: u64) -> StreamCx {
        StreamCx { ts: Timestamp::default(), dir: Direction::ToServer, offset }
    }

    #[test]
    fn every_split_of_three_messages_yields_the_same_messages() {
        let stream = [3, b'a', b'b', b'c', 0, 2, b'x', b'y'];
        for i in 0..=stream.len() {
            for j in i..=stream.len() {
                let (mut d, mut sink, mut p) = (Prefixed::default(), Collect::default(), Pending::default());
                for (lo, hi) in [(0, i), (i, j), (j, stream.len())] {
                    p.feed(&mut d, &cx(lo as u64), &stream[lo..hi], 64, &mut sink);
                }
                assert_eq!(sink.msgs, vec![b"abc".to_vec(), vec![], b"xy".to_vec()], "split {i},{j}");
                assert!(p.is_empty());
            }
        }
    }

    #[test]
    fn a_partial_pdu_over_the_cap_is_dropped_as_a_gap() {
        let (mut d, mut sink, mut p) = (Prefixed::default(), Collect::default(), Pending::default());
        p.feed(&mut d, &cx(0), &[200, 1, 2, 3, 4, 5, 6, 7, 8, 9], 8, &mut sink);
        assert_eq!(sink.anomalies, vec!["applayer.pdu_too_large"]);
        assert_eq!(p.dropped, 10);
        assert_eq!(d.gaps, 1);
        p.feed(&mut d, &cx(10), &[1, b'z'], 8, &mut sink);
        assert_eq!(sink.msgs.len(), 1, "parsing resumes after the drop");
    }

    #[test]
    fn a_gap_discards_the_pending_part() {
        let (mut d, mut sink, mut p) = (Prefixed::default(), Collect::default(), Pending::default());
        p.feed(&mut d, &cx(0), &[5, 1, 2], 64, &mut sink);
        assert_eq!(p.len(), 3);
        p.gap(&mut d, &cx(10), 7, &mut sink);
        assert!(p.is_empty());
        assert_eq!(p.dropped, 3);
        p.feed(&mut d, &cx(10), &[1, b'q'], 64, &mut sink);
        assert_eq!(sink.msgs.len(), 1);
    }

    const ALPHA: AppProto = AppProto::new(901, "alpha");
    const BETA: AppProto = AppProto::new(902, "beta").with_masters();
    const BETA_PLUS: AppProto = AppProto::new(903, "beta_plus").in_family_of(BETA);

    #[test]
    fn port_map_defaults_and_overrides() {
        fn probe(_: &[u8]) -> ProbeResult {
            ProbeResult::NoMatch
        }
        let d = |proto, ports| Descriptor {
            proto,
            also: &[],
            ports,
            probe,
            probe_on_port: None,
            schemas: &[],
            classes: Vec::new,
            max_pdu: 0,
            summary: &[],
            tables: &[],
            migrations: &[],
            rules: &[],
            suricata_events: &[],
            settings: &[],
        };
        let (alpha, beta) = (d(ALPHA, &[(IpProto::TCP, 502)]), d(BETA, &[(IpProto::TCP, 20000), (IpProto::UDP, 20000)]));
        let mut m = PortMap::of(&[&alpha, &beta]);
        assert_eq!(m.get(IpProto::TCP, 502), Some(ALPHA));
        assert_eq!(m.get(IpProto::UDP, 502), None);
        assert_eq!(m.get(IpProto::UDP, 20000), Some(BETA));
        m.set(IpProto::TCP, 5020, ALPHA);
        m.set(IpProto::TCP, 502, BETA);
        assert_eq!(m.get(IpProto::TCP, 5020), Some(ALPHA));
        assert_eq!(m.get(IpProto::TCP, 502), Some(BETA));
        assert_eq!(alpha.name(), "alpha");
        assert!(BETA.same_family(BETA_PLUS) && !ALPHA.same_family(BETA_PLUS) && BETA != BETA_PLUS);
        assert!(BETA.masters() && !ALPHA.masters());
        assert_eq!(serde_json::to_string(&BETA_PLUS).unwrap(), r#""beta_plus""#);
    }
}
