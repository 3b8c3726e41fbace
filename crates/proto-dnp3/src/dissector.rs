//! The DNP3 dissector of one flow: link frames (with resynchronisation), transport
//! reassembly per (source, destination, direction), application fragments, anomaly
//! events and one `dnp3` record per fragment.
use crate::anomaly::Dnp3Anomaly;
use crate::app::{function_name, iin_name_iter, is_response, parse_fragment_into, Fragment, ObjectHeader};
use crate::link::{link, BadLink, Link, LinkFrame};
use crate::points::{Point, Value};
use otsentry_core::{
    AppProto, Capped, CounterKind, Direction, Dissector, PduEvent, PduSink, ProtocolCounts, SectionLayout, StreamCx, Tally, Timestamp,
};
use serde::ser::{SerializeStruct, Serializer};
use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dnp3Config {
    /// Largest reassembled fragment (Suricata's default: 63 segments of 255 bytes).
    pub max_fragment: usize,
    pub max_objects: usize,
    /// Most points walked in one fragment (beyond: `too_many_points`).
    pub max_points: usize,
}

impl Default for Dnp3Config {
    fn default() -> Self {
        Dnp3Config { max_fragment: 63 * 255, max_objects: 2048, max_points: 16384 }
    }
}

/// Fragments in progress per flow (one per source, destination and direction).
const MAX_PARTIAL: usize = 16;

#[derive(Debug)]
struct Reassembly {
    source: u16,
    destination: u16,
    dir: Direction,
    next_seq: u8,
    buf: Vec<u8>,
}

#[derive(Debug, Default)]
pub struct Dnp3Dissector {
    cfg: Dnp3Config,
    /// Link frames and application fragments since the last `publish`.
    link_frames: u64,
    fragments: u64,
    partial: Vec<Reassembly>,
    /// Fragments reported so far in this flow.
    reported: u64,
    /// Application sequence numbers of master requests still awaiting a response, and
    /// when each came (nanoseconds).
    unreplied: std::collections::VecDeque<(u8, i64)>,
    /// Whether `flooded` was raised since the requests were last all answered.
    flooded: bool,
    /// Requests in a row, each within `BURST_GAP_NS` of the one before, with no
    /// response between them; and when the last of them came.
    burst: (u32, i64),
    /// The link source addresses the master side used, up to `PROBED_SOURCES`.
    master_sources: Vec<u16>,
    /// Fragments by function code, merged into the summary when the flow ends, and
    /// the same split into requests and responses.
    functions: Tally<u8>,
    requests: Tally<u8>,
    responses: Tally<u8>,
    /// A frame's user data, reused from frame to frame.
    scratch: Vec<u8>,
    /// The parsed fragment, its lists reused from fragment to fragment.
    parsed: Option<Box<Fragment>>,
    /// Select-before-operate on this session.
    selects: crate::control::SelectWatch,
    /// When a master request was last marked `master_seen` (`None`: never).
    master_marked: Option<i64>,
}

/// The summary's `protocols.dnp3`.
pub static SECTION: SectionLayout = SectionLayout {
    name: "dnp3",
    counters: &[
        ("link_frames", CounterKind::Count),
        ("fragments", CounterKind::Count),
        // Application fragments by function code.
        ("functions", CounterKind::Codes),
        ("function_names", CounterKind::Names("functions")),
        // The same fragments split: requests (a master's), and responses (solicited,
        // unsolicited and authentication responses, 0x81 to 0x83), by code.
        ("function_requests", CounterKind::Codes),
        ("function_responses", CounterKind::Codes),
        ("anomalies", CounterKind::Count),
    ],
    headline: "fragments",
};

/// How often a session's master requests are marked `master_seen`.
const MASTER_MARK_NS: i64 = 60_000_000_000;

/// Open requests beyond which a flow is flooded (Suricata's default).
const FLOOD_REQUESTS: usize = 32;
/// A master waits for each answer: requests this close together, with none between,
/// were not paced by answers.
const BURST_GAP_NS: i64 = 100_000_000;
/// Requests in such a row that make a burst.
const BURST_REQUESTS: u32 = 4;
/// A master keeps one link address: this many in one session probe which addresses
/// an outstation answers to.
const PROBED_SOURCES: usize = 5;

/// One application fragment as an event.
pub struct FragmentEvent<'a> {
    pub tx_id: u64,
    pub source: u16,
    pub destination: u16,
    /// From the link DIR bit: whether the master sent it.
    pub from_master: bool,
    /// Link control byte of the frame that completed the fragment.
    pub link_control: u8,
    pub fragment: &'a Fragment,
    /// The reassembled fragment, from which points are decoded when written.
    pub bytes: &'a [u8],
    /// A master request that is the session's first, or its first for a minute: counting
    /// masters per outstation then costs a lookup a minute per session, not per request.
    pub master_seen: bool,
    /// A solicited response's time from its request (same sequence number), in
    /// microseconds; not in the record (a report's conversations use it).
    pub response_time_us: Option<i64>,
}

impl FragmentEvent<'_> {
    pub fn kind(&self) -> &'static str {
        match self.fragment.function {
            0x82 => "unsolicited_response",
            f if is_response(f) => "response",
            _ => "request",
        }
    }
}

struct Bits(u8, [(&'static str, u8); 5]);

impl Serialize for Bits {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = otsentry_core::open_object(s)?;
        for (name, mask) in self.1 {
            if name == "function_code" || name == "sequence" {
                m.serialize_field(name, &(self.0 & mask))?;
            } else {
                m.serialize_field(name, &(self.0 & mask != 0))?;
            }
        }
        m.end()
    }
}

struct Application<'e, 'a>(&'e FragmentEvent<'a>);

impl Serialize for Application<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let f = self.0.fragment;
        let mut m = otsentry_core::open_object(s)?;
        let control = [("fir", 0x80), ("fin", 0x40), ("con", 0x20), ("uns", 0x10), ("sequence", 0x0F)];
        m.serialize_field("control", &Bits(f.control, control))?;
        m.serialize_field("function_code", &f.function)?;
        m.serialize_field("function_name", function_name(f.function))?;
        let objects = Capped::new(f.objects.iter().map(|o| Object(o, self.0.bytes)));
        m.serialize_field("objects", &objects)?;
        if objects.left_out() > 0 {
            m.serialize_field("objects_omitted", &objects.left_out())?;
        }
        m.serialize_field("complete", &f.problem.is_none())?;
        m.end()
    }
}

struct Object<'e>(&'e ObjectHeader, &'e [u8]);

impl Serialize for Object<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let o = self.0;
        let mut m = otsentry_core::open_object(s)?;
        m.serialize_field("group", &o.group)?;
        m.serialize_field("variation", &o.variation)?;
        m.serialize_field("qualifier", &o.qualifier)?;
        m.serialize_field("prefix_code", &o.prefix_code())?;
        m.serialize_field("range_code", &o.range_code())?;
        if let Some((start, stop)) = o.range {
            m.serialize_field("start", &start)?;
            m.serialize_field("stop", &stop)?;
        }
        m.serialize_field("count", &o.count)?;
        if !o.data.is_empty() {
            let points = Capped::new(o.points(self.1).map_while(Result::ok).map(PointFields));
            m.serialize_field("points", &points)?;
            if points.left_out() > 0 {
                m.serialize_field("points_omitted", &points.left_out())?;
            }
        }
        m.end()
    }
}

struct PointFields<'a>(Point<'a>);

impl Serialize for PointFields<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = otsentry_core::open_object(s)?;
        let mut result = Ok(());
        self.0.fields(&mut |name, value| {
            if result.is_ok() {
                result = match value {
                    Value::U(v) => m.serialize_field(name, &v),
                    Value::I(v) => m.serialize_field(name, &v),
                    Value::F(v) => m.serialize_field(name, &v),
                    Value::Text(t) => m.serialize_field(name, &String::from_utf8_lossy(t)),
                    Value::Hex(b) => m.serialize_field(name, &otsentry_core::Hex(b)),
                };
            }
        });
        result?;
        m.end()
    }
}

/// Internal indications by name (Suricata's `iin.indicators`).
struct Iin(u16);

impl Serialize for Iin {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = otsentry_core::open_object(s)?;
        m.serialize_field("indicators", &Capped::new(iin_name_iter(self.0)))?;
        m.end()
    }
}

/// A control relay output block, its keys in the order EVE has always had them.
struct CrobFields<'a>(&'a crate::app::Crob);

impl Serialize for CrobFields<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let c = self.0;
        let mut m = otsentry_core::open_object(s)?;
        m.serialize_field("count", &c.count)?;
        m.serialize_field("index", &c.index)?;
        m.serialize_field("off_time_ms", &c.off_time_ms)?;
        m.serialize_field("on_time_ms", &c.on_time_ms)?;
        m.serialize_field("operation", c.operation())?;
        m.serialize_field("status", &c.status)?;
        m.serialize_field("trip_close", c.trip_close())?;
        m.end()
    }
}

/// An analog output block (group 41).
struct AnalogOutputFields<'a>(&'a crate::app::AnalogOutput);

impl Serialize for AnalogOutputFields<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let a = self.0;
        let mut m = otsentry_core::open_object(s)?;
        m.serialize_field("index", &a.index)?;
        m.serialize_field("status", &a.status)?;
        m.serialize_field("value", &a.value)?;
        m.end()
    }
}

impl Serialize for FragmentEvent<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let f = self.fragment;
        let mut m = otsentry_core::open_object(s)?;
        m.serialize_field("tx_id", &self.tx_id)?;
        m.serialize_field("type", self.kind())?;
        m.serialize_field("direction", if self.from_master { "master" } else { "outstation" })?;
        m.serialize_field("src", &self.source)?;
        m.serialize_field("dst", &self.destination)?;
        let link = [("dir", 0x80), ("pri", 0x40), ("fcb", 0x20), ("fcv", 0x10), ("function_code", 0x0F)];
        m.serialize_field("control", &Bits(self.link_control, link))?;
        m.serialize_field("application", &Application(self))?;
        if let Some(iin) = f.iin {
            m.serialize_field("iin", &Iin(iin))?;
        }
        if !f.crobs.is_empty() {
            let crobs = Capped::new(f.crobs.iter().map(CrobFields));
            m.serialize_field("crob", &crobs)?;
            if crobs.left_out() > 0 {
                m.serialize_field("crob_omitted", &crobs.left_out())?;
            }
        }
        if !f.analog_outputs.is_empty() {
            let aos = Capped::new(f.analog_outputs.iter().map(AnalogOutputFields));
            m.serialize_field("analog_output", &aos)?;
            if aos.left_out() > 0 {
                m.serialize_field("analog_output_omitted", &aos.left_out())?;
            }
        }
        m.end()
    }
}

impl<'a> PduEvent for FragmentEvent<'a> {
    type Body = FragmentEvent<'a>;
    fn event_type(&self) -> &'static str {
        "dnp3"
    }
    fn body(&self) -> &FragmentEvent<'a> {
        self
    }
    /// Requests only: a response (solicited, unsolicited, authentication) is the
    /// outstation's side of a conversation whose requests are judged.
    fn function_class(&self) -> Option<otsentry_core::FunctionClass> {
        (!(0x81..=0x83).contains(&self.fragment.function)).then(|| crate::class::function_class(self.fragment.function))
    }
    fn observe(&self, o: &mut dyn otsentry_core::Observer) {
        observe(self, o);
    }
    fn identifies(&self) -> bool {
        !self.from_master && self.fragment.objects.iter().any(|h| h.group == 0)
    }
    fn response_time_us(&self) -> Option<i64> {
        self.response_time_us
    }
}

impl Dnp3Dissector {
    pub fn new(cfg: Dnp3Config) -> Self {
        Dnp3Dissector { cfg, ..Default::default() }
    }

    fn anomaly<S: PduSink>(sink: &mut S, cx: &StreamCx, event: Dnp3Anomaly, offset: u64, reason: std::fmt::Arguments<'_>) {
        sink.counts().section(&SECTION).add("anomalies", 1);
        sink.anomaly(cx, event.name(), offset, reason);
    }

    fn frame<S: PduSink>(&mut self, cx: &StreamCx, f: &LinkFrame<'_>, at: u64, sink: &mut S) {
        self.link_frames += 1;
        for (addr, which) in [(f.destination, "destination"), (f.source, "source")] {
            if (0xFFF0..=0xFFFB).contains(&addr) {
                Self::anomaly(sink, cx, Dnp3Anomaly::ReservedAddress, at + 4, format_args!("{which} address 0x{addr:04X} is reserved"));
            }
        }
        if let Some(block) = f.bad_block {
            // Suricata names a user-data block CRC failure a transport CRC error.
            Self::anomaly(
                sink,
                cx,
                Dnp3Anomaly::BadTransportCrc,
                at,
                format_args!("data block {block} CRC does not verify; frame data dropped"),
            );
            return;
        }
        if !f.control.carries_user_data() || f.blocks.is_empty() {
            return;
        }
        let mut data = std::mem::take(&mut self.scratch);
        data.clear();
        f.user_data_into(&mut data);
        self.transport(cx, f, &data, at, sink);
        self.scratch = data;
    }

    fn transport<S: PduSink>(&mut self, cx: &StreamCx, f: &LinkFrame<'_>, data: &[u8], at: u64, sink: &mut S) {
        let Some((&th, payload)) = data.split_first() else { return };
        let (fin, fir, seq) = (th & 0x80 != 0, th & 0x40 != 0, th & 0x3F);
        let key = (f.source, f.destination, cx.dir);
        let slot = self.partial.iter().position(|r| (r.source, r.destination, r.dir) == key);
        let bad_seq = Dnp3Anomaly::BadTransportSeq;
        if fir {
            if let Some(i) = slot {
                let old = self.partial.swap_remove(i);
                if !old.buf.is_empty() {
                    Self::anomaly(
                        sink,
                        cx,
                        bad_seq,
                        at,
                        format_args!("new first segment before the last one of a {}-byte fragment", old.buf.len()),
                    );
                }
            }
            // A whole fragment in one segment: nothing to hold.
            if fin {
                if payload.len() > self.cfg.max_fragment {
                    return Self::anomaly(
                        sink,
                        cx,
                        Dnp3Anomaly::TooLongReassembly,
                        at,
                        format_args!("fragment over {} bytes ({}) dropped", self.cfg.max_fragment, payload.len()),
                    );
                }
                return self.fragment(cx, f, payload, at, sink);
            }
            if self.partial.len() >= MAX_PARTIAL {
                // Many address pairs mid-fragment at once: give up the oldest.
                let old = self.partial.remove(0);
                Self::anomaly(
                    sink,
                    cx,
                    Dnp3Anomaly::ReassemblyOverflow,
                    at,
                    format_args!(
                        "more than {MAX_PARTIAL} fragments in progress; {} bytes of {}→{} dropped",
                        old.buf.len(),
                        old.source,
                        old.destination
                    ),
                );
            }
            self.partial.push(Reassembly { source: f.source, destination: f.destination, dir: cx.dir, next_seq: seq, buf: Vec::new() });
        } else {
            match slot {
                None => {
                    Self::anomaly(sink, cx, bad_seq, at, format_args!("transport segment {seq} without a first segment"));
                    return;
                }
                Some(i) if self.partial.get(i).is_some_and(|r| r.next_seq != seq) => {
                    let r = self.partial.swap_remove(i);
                    Self::anomaly(sink, cx, bad_seq, at, format_args!("transport sequence {seq}, expected {}", r.next_seq));
                    return;
                }
                Some(_) => {}
            }
        }
        let Some(r) = self.partial.iter_mut().find(|r| (r.source, r.destination, r.dir) == key) else { return };
        r.buf.extend_from_slice(payload);
        r.next_seq = (seq + 1) & 0x3F;
        if r.buf.len() > self.cfg.max_fragment {
            let len = r.buf.len();
            self.partial.retain(|r| (r.source, r.destination, r.dir) != key);
            Self::anomaly(
                sink,
                cx,
                Dnp3Anomaly::TooLongReassembly,
                at,
                format_args!("fragment over {} bytes ({len}) dropped", self.cfg.max_fragment),
            );
            return;
        }
        if !fin {
            return;
        }
        let Some(i) = self.partial.iter().position(|r| (r.source, r.destination, r.dir) == key) else { return };
        let done = self.partial.swap_remove(i);
        self.fragment(cx, f, &done.buf, at, sink);
    }

    fn fragment<S: PduSink>(&mut self, cx: &StreamCx, f: &LinkFrame<'_>, frag: &[u8], at: u64, sink: &mut S) {
        // Boxed, so lending it out while `self` is borrowed moves a pointer, not the lists.
        let mut parsed = self.parsed.take().unwrap_or_default();
        self.fragment_parsed(cx, f, frag, at, sink, &mut parsed);
        self.parsed = Some(parsed);
    }

    fn fragment_parsed<S: PduSink>(&mut self, cx: &StreamCx, f: &LinkFrame<'_>, frag: &[u8], at: u64, sink: &mut S, parsed: &mut Fragment) {
        let parsed = match parse_fragment_into(frag, self.cfg.max_objects, self.cfg.max_points, parsed) {
            Ok(()) => &*parsed,
            Err(why) => {
                Self::anomaly(sink, cx, Dnp3Anomaly::Malformed, at, format_args!("application fragment of {} bytes: {why}", frag.len()));
                return;
            }
        };
        self.fragments += 1;
        self.functions.add(parsed.function);
        match parsed.function {
            0x81..=0x83 => self.responses.add(parsed.function),
            _ => self.requests.add(parsed.function),
        }
        if function_name(parsed.function) == "reserved" {
            Self::anomaly(
                sink,
                cx,
                Dnp3Anomaly::ReservedFunction,
                at,
                format_args!("application function 0x{:02X} is reserved", parsed.function),
            );
        }
        if let Some((event, reason)) = &parsed.problem {
            Self::anomaly(sink, cx, *event, at, format_args!("{reason}"));
        }
        let response_time_us = self.track_requests(cx, parsed, f.control.dir(), at, sink);
        if let Some(finding) = self.selects.fragment(parsed, f.control.dir(), cx.ts.as_nanos()) {
            control_anomaly(sink, cx, at, &finding);
        }
        if f.control.dir() {
            self.track_master_source(cx, f.source, at, sink);
        }
        let now = cx.ts.as_nanos();
        let master_seen = f.control.dir()
            && !is_response(parsed.function)
            && self.master_marked.is_none_or(|t| now.saturating_sub(t) >= MASTER_MARK_NS || now < t);
        if master_seen {
            self.master_marked = Some(now);
        }
        self.reported += 1;
        let e = FragmentEvent {
            master_seen,
            tx_id: self.reported,
            source: f.source,
            destination: f.destination,
            from_master: f.control.dir(),
            link_control: f.control.0,
            fragment: parsed,
            bytes: frag,
            response_time_us,
        };
        sink.pdu(cx, &e);
    }
}

impl Dnp3Dissector {
    /// Pair master requests with responses by application sequence number; raise
    /// `dnp3.flooded` once when more than 32 are open at a time, and
    /// `dnp3.request_burst` when four come in a row unanswered, each within 100 ms.
    /// Returns a response's time from its request, in microseconds.
    fn track_requests<S: PduSink>(&mut self, cx: &StreamCx, f: &Fragment, from_master: bool, at: u64, sink: &mut S) -> Option<i64> {
        let seq = f.control & 0x0F;
        let now = cx.ts.as_nanos();
        let mut answered = None;
        match f.function {
            // Confirms and the no-response functions expect no answer.
            0x00 | 0x06 | 0x08 | 0x0A | 0x0C => {}
            0x81 => {
                if let Some(i) = self.unreplied.iter().position(|&(s, _)| s == seq) {
                    answered = self.unreplied.remove(i).map(|(_, asked)| now.saturating_sub(asked) / 1000).filter(|us| *us >= 0);
                }
                if self.unreplied.is_empty() {
                    self.flooded = false;
                }
                self.burst = (0, 0);
            }
            code if from_master && !is_response(code) => {
                if self.unreplied.len() >= 4 * FLOOD_REQUESTS {
                    self.unreplied.pop_front(); // bounded: the oldest is taken as lost
                }
                self.unreplied.push_back((seq, now));
                let (n, last) = self.burst;
                let n = if n > 0 && now.saturating_sub(last) <= BURST_GAP_NS { n + 1 } else { 1 };
                self.burst = (n, now);
                if n == BURST_REQUESTS {
                    Self::anomaly(
                        sink,
                        cx,
                        Dnp3Anomaly::RequestBurst,
                        at,
                        format_args!("{n} requests within {} ms of each other, none answered", BURST_GAP_NS / 1_000_000),
                    );
                }
                if self.unreplied.len() > FLOOD_REQUESTS && !self.flooded {
                    self.flooded = true;
                    Self::anomaly(
                        sink,
                        cx,
                        Dnp3Anomaly::Flooded,
                        at,
                        format_args!("more than {FLOOD_REQUESTS} requests without a response"),
                    );
                }
            }
            _ => {}
        }
        answered
    }
}

impl Dnp3Dissector {
    /// Raise `dnp3.link_address_scan` once when the master side has used
    /// `PROBED_SOURCES` link source addresses in this session.
    fn track_master_source<S: PduSink>(&mut self, cx: &StreamCx, source: u16, at: u64, sink: &mut S) {
        if self.master_sources.len() >= PROBED_SOURCES || self.master_sources.contains(&source) {
            return;
        }
        self.master_sources.push(source);
        if self.master_sources.len() == PROBED_SOURCES {
            Self::anomaly(
                sink,
                cx,
                Dnp3Anomaly::LinkAddressScan,
                at,
                format_args!("requests from {PROBED_SOURCES} link source addresses in one session"),
            );
        }
    }
}

impl Dissector for Dnp3Dissector {
    fn proto(&self) -> AppProto {
        crate::DNP3
    }

    fn parse<S: PduSink>(&mut self, cx: &StreamCx, data: &[u8], sink: &mut S) -> usize {
        let mut at = 0usize;
        while let Some(rest) = data.get(at..).filter(|r| !r.is_empty()) {
            match link(rest) {
                Link::NeedMore => break,
                Link::Frame(f) => {
                    self.frame(cx, &f, cx.offset + at as u64, sink);
                    at += f.wire_len;
                }
                Link::Bad(bad) => {
                    if bad != BadLink::NoStart {
                        Self::anomaly(sink, cx, bad.event(), cx.offset + at as u64, format_args!("{bad}"));
                    }
                    // Scan for the next 0x0564 (a lone trailing 0x05 may start one).
                    let from = at + 1;
                    let next = data
                        .get(from..)
                        .and_then(|r| r.windows(2).position(|w| w == [0x05, 0x64]))
                        .map_or_else(|| if data.last() == Some(&0x05) { data.len() - 1 } else { data.len() }, |p| from + p);
                    let skipped = next - at;
                    Self::anomaly(
                        sink,
                        cx,
                        Dnp3Anomaly::Resync,
                        cx.offset + at as u64,
                        format_args!("{skipped} bytes skipped to the next link frame start"),
                    );
                    at = next.max(from);
                }
            }
        }
        at
    }

    fn gap<S: PduSink>(&mut self, cx: &StreamCx, _len: u64, _sink: &mut S) {
        // Fragments in progress in this direction lost segments.
        self.partial.retain(|r| r.dir != cx.dir);
    }

    fn held(&self) -> usize {
        let partial: usize = self.partial.iter().map(|r| r.buf.capacity()).sum();
        partial
            + self.partial.capacity() * std::mem::size_of::<Reassembly>()
            + self.unreplied.capacity()
            + self.scratch.capacity()
            + self.parsed.as_ref().map_or(0, |_| std::mem::size_of::<Fragment>())
    }

    fn shed(&mut self) -> u64 {
        let lost = self.partial.len() as u64;
        self.partial = Vec::new();
        self.scratch = Vec::new();
        self.parsed = None;
        // Requests still awaited are forgotten: their answers are not counted as late.
        self.unreplied = std::collections::VecDeque::new();
        self.flooded = false;
        lost
    }

    fn publish(&mut self, counts: &mut ProtocolCounts) {
        let section = counts.section(&SECTION);
        section.add("link_frames", std::mem::take(&mut self.link_frames));
        section.add("fragments", std::mem::take(&mut self.fragments));
        section.drain_named("functions", &mut self.functions, function_name);
        section.drain("function_requests", &mut self.requests);
        section.drain("function_responses", &mut self.responses);
    }

    fn finish<S: PduSink>(&mut self, ts: Timestamp, sink: &mut S) {
        self.publish(sink.counts());
        // The session ended with a select accepted and never operated.
        if let Some(finding) = self.selects.take_stale(ts.as_nanos(), true) {
            control_anomaly(sink, &StreamCx { ts, dir: Direction::ToServer, offset: 0 }, 0, &finding);
        }
    }
}

fn control_anomaly<S: PduSink>(sink: &mut S, cx: &StreamCx, at: u64, finding: &crate::control::Finding) {
    use crate::control::Finding;
    match finding {
        Finding::NotOperated { age_ms } => Dnp3Dissector::anomaly(
            sink,
            cx,
            Dnp3Anomaly::SelectNotOperated,
            at,
            format_args!("a select the outstation accepted {age_ms} ms ago was never operated"),
        ),
        Finding::WithoutSelect { why } => Dnp3Dissector::anomaly(
            sink,
            cx,
            Dnp3Anomaly::OperateWithoutSelect,
            at,
            format_args!("operate on a session that selects first: {why}"),
        ),
    }
}

/// What a baseline learns of a DNP3 fragment: from the master, its function (the
/// application function code), each object header's group and index range on the
/// outstation it was sent to, and the values written (a CROB's control code, an analog
/// output's value); from an outstation, its device attributes (group 0).
fn observe(e: &FragmentEvent<'_>, o: &mut dyn otsentry_core::Observer) {
    let f = e.fragment;
    if !e.from_master {
        for h in f.objects.iter().filter(|h| h.group == 0) {
            for p in h.points(e.bytes).map_while(Result::ok) {
                let attribute = match p.variation {
                    252 => "vendor",
                    250 => "product",
                    242 => "firmware",
                    243 => "hardware",
                    248 => "serial",
                    247 => "name",
                    _ => continue,
                };
                // Data type (1: visible string), length, then the value.
                if let Some(value) = p.bytes.get(2..) {
                    o.identity(attribute, String::from_utf8_lossy(value).trim_end_matches('\0'));
                }
            }
        }
        return;
    }
    o.function(u32::from(f.function), crate::app::function_name(f.function));
    let write = (0x02..=0x06).contains(&f.function);
    let outstation = e.destination;
    for h in &f.objects {
        let space = crate::space::space(outstation, h.group);
        if h.count == 0 {
            // All points of the group (qualifier 6), or none: no range to learn.
            continue;
        }
        match h.range {
            Some((start, stop)) if stop >= start => o.range(space, start, stop - start + 1, write),
            // Index-prefixed objects: each point's index.
            _ => h.points(e.bytes).map_while(Result::ok).for_each(|p| o.range(space, p.index, 1, write)),
        }
    }
    if write {
        for c in &f.crobs {
            o.value(crate::space::space(outstation, 12), c.index, f64::from(c.control_code));
        }
        for a in &f.analog_outputs {
            o.value(crate::space::space(outstation, 41), a.index, a.value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::{AnalogOutput, Crob};

    fn observed(from_master: bool, fragment: &[u8]) -> Vec<String> {
        let f = crate::app::parse_fragment(fragment, 64, 64).unwrap();
        let e = FragmentEvent {
            tx_id: 1,
            source: 1,
            destination: 10,
            from_master,
            link_control: 0xC4,
            fragment: &f,
            bytes: fragment,
            master_seen: false,
            response_time_us: None,
        };
        let mut r = otsentry_core::harness::Recorder::default();
        e.observe(&mut r);
        r.calls
    }

    #[test]
    fn a_baseline_learns_requests_from_the_master_and_identity_from_the_outstation() {
        let operate = [
            0xC0, 0x05, // FIR|FIN, direct operate
            0x0C, 0x01, 0x17, 0x01, // g12v1, 8-bit count and index, one object
            0x03, 0x41, 0x01, // index 3, control code 0x41 (close, pulse on), count 1
            0x64, 0, 0, 0, 0x32, 0, 0, 0, 0x00, // on 100 ms, off 50 ms, status
        ];
        assert_eq!(observed(true, &operate), ["function 5 direct_operate", "range dnp3/10/g12 3+1 write=true", "value dnp3/10/g12 3 = 65"]);
        let attributes = [
            0xC0, 0x81, 0x00, 0x00, // FIR|FIN, response, IIN
            0x00, 0xFC, 0x00, 0x00, 0x00, // g0v252 (manufacturer's name), 8-bit start and stop 0
            0x01, 0x04, b'A', b'c', b'm', b'e', // visible string of 4
        ];
        assert_eq!(observed(false, &attributes), ["identity vendor Acme"]);
        // A read of all of a group's points names no range.
        assert_eq!(observed(true, &[0xC0, 0x01, 0x3C, 0x01, 0x06]), ["function 1 read"]);
    }

    /// The typed records write what the `serde_json::json!` maps they replaced wrote.
    #[test]
    fn typed_records_keep_the_old_keys_and_order() {
        let c = Crob { index: 3, control_code: 0x41, count: 1, on_time_ms: 100, off_time_ms: 50, status: 0 };
        let old = serde_json::json!({"index": c.index, "operation": c.operation(), "trip_close": c.trip_close(), "count": c.count,
            "on_time_ms": c.on_time_ms, "off_time_ms": c.off_time_ms, "status": c.status});
        assert_eq!(serde_json::to_string(&CrobFields(&c)).unwrap(), old.to_string());
        for value in [-100.0, 0.5, f64::NAN] {
            let a = AnalogOutput { index: 1, value, status: 2 };
            let old = serde_json::json!({"index": a.index, "value": a.value, "status": a.status});
            assert_eq!(serde_json::to_string(&AnalogOutputFields(&a)).unwrap(), old.to_string());
        }
        let old = serde_json::json!({ "indicators": crate::app::iin_names(0x0090) });
        assert_eq!(serde_json::to_string(&Iin(0x0090)).unwrap(), old.to_string());
    }
}
