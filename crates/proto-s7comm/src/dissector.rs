//! The S7 dissector of one flow: TPKT framing with resynchronisation, COTP (connection
//! set-up, data TPDUs reassembled under a cap, disconnects and errors), S7comm jobs paired
//! with their acks by PDU reference, user data, and S7comm-plus identification.
use crate::anomaly::S7Anomaly;
use crate::cotp::{rack_slot, tpkt, Kind, Tpdu, Tpkt, MIN_TPKT};
use crate::names::{self, error_class_name, function_name};
use crate::record::{CotpEvent, JobEvent, OpenJob, PlusEvent, Status, UserDataEvent};
use crate::s7::{self, Facts};
use crate::{plus, userdata};
use otsentry_core::{AppProto, CounterKind, Direction, Dissector, PduSink, ProtocolCounts, SectionLayout, StreamCx, Tally, Timestamp};
use std::collections::VecDeque;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct S7Config {
    /// Largest S7comm PDU reassembled from data TPDUs (a PDU is at most 960 bytes on
    /// S7-400; 8 KiB leaves room for the extended PDU sizes of newer CPUs).
    pub max_pdu: usize,
    /// Jobs awaiting their ack; beyond, the oldest is reported unanswered.
    pub max_open_jobs: usize,
}

impl Default for S7Config {
    fn default() -> Self {
        S7Config { max_pdu: 8192, max_open_jobs: 256 }
    }
}

/// Acks held for a job that may come late, at most this many and this long (after a
/// capture gap, the client's side is delivered when its next data arrives).
const ORPHANS: usize = 32;
const ORPHAN_WAIT_NS: i64 = 10_000_000_000;

#[derive(Debug, Default)]
pub struct S7Dissector {
    cfg: S7Config,
    /// S7comm and S7comm-plus PDUs since the last `publish`.
    pdus: u64,
    plus_pdus: u64,
    /// Data TPDUs of an S7comm PDU in progress, per direction.
    partial: [Vec<u8>; 2],
    /// Per direction: data TPDUs up to the next end of PDU continue one that is not
    /// reassembled (S7comm-plus, or an S7comm PDU dropped at the cap).
    continuing: [bool; 2],
    /// Per direction: a gap was seen and no TPKT header has been found since.
    after_gap: [bool; 2],
    open: VecDeque<OpenJob>,
    /// Acks whose job has not been seen yet: after a capture gap the client's side can be
    /// delivered later than the server's, so the job may still come.
    orphans: VecDeque<(OpenJob, Response)>,
    reported: u64,
    /// Rack and slot from the connection request's called TSAP.
    rack_slot: Option<(u8, u8)>,
    /// A user data follow-up request was seen: the next response continues a data unit.
    follow_up: bool,
    /// Counts merged into the summary when the flow ends; jobs and acks apart.
    functions: Tally<u8>,
    jobs: Tally<u8>,
    acks: Tally<u8>,
    userdata: Tally<GroupSub>,
    plus_functions: Tally<u16>,
}

/// A user data function group and sub-function, counted as `<group>.<sub-function>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct GroupSub(u8, u8);

impl std::fmt::Display for GroupSub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.0, self.1)
    }
}

/// The summary's `protocols.s7comm`.
pub static SECTION: SectionLayout = SectionLayout {
    name: "s7comm",
    counters: &[
        ("pdus", CounterKind::Count),
        ("functions", CounterKind::Codes),
        ("function_names", CounterKind::Names("functions")),
        // The same PDUs split: jobs, and acks with data, by function code.
        ("function_requests", CounterKind::Codes),
        ("function_responses", CounterKind::Codes),
        // User-data PDUs by function group and sub-function (`"4.1"`), and their names,
        // `group.subfunction` (`"cpu_functions.read_szl"`).
        ("userdata", CounterKind::Codes),
        ("userdata_names", CounterKind::Names("userdata")),
        ("anomalies", CounterKind::Count),
    ],
    headline: "pdus",
};

/// The summary's `protocols.s7comm_plus`.
pub static PLUS_SECTION: SectionLayout = SectionLayout {
    name: "s7comm_plus",
    counters: &[
        ("pdus", CounterKind::Count),
        ("functions", CounterKind::Codes),
        ("function_names", CounterKind::Names("functions")),
        ("anomalies", CounterKind::Count),
    ],
    headline: "pdus",
};

fn anomaly<S: PduSink>(sink: &mut S, cx: &StreamCx, event: S7Anomaly, offset: u64, reason: std::fmt::Arguments<'_>) {
    let section = if event.plus() { &PLUS_SECTION } else { &SECTION };
    sink.counts().section(section).add("anomalies", 1);
    sink.anomaly(cx, event.name(), offset, reason);
}

/// Whether a TPKT plausibly starts at the head of `b`: version 3, reserved 0, a length
/// that holds a COTP header whose length indicator fits.
fn plausible(b: &[u8]) -> bool {
    match b {
        [3, 0, hi, lo, li, code, ..] => {
            let len = usize::from(u16::from_be_bytes([*hi, *lo]));
            len >= MIN_TPKT && usize::from(*li) + 5 <= len && matches!(code & 0xF0, 0xE0 | 0xD0 | 0x80 | 0xC0 | 0xF0 | 0x70)
        }
        [3] | [3, 0] | [3, 0, _] | [3, 0, _, _] | [3, 0, _, _, _] => true,
        _ => false,
    }
}

/// Where a TPKT whose length claims more than the S7comm PDU it carries really ends, when
/// the bytes it would swallow start another TPKT: a stack that reads the S7comm header's
/// lengths takes them as the next packet, so they are dissected as one. Only a data TPDU
/// that starts and ends a PDU (`whole`) holds the S7comm header to measure by.
fn hidden_tpkt(packet: &[u8], whole: bool) -> Option<usize> {
    let &[_, _, _, _, li, code, eot, 0x32, rosctr, _, _, _, _, p0, p1, d0, d1, ..] = packet else { return None };
    if !whole || code & 0xF0 != 0xF0 || li != 2 || eot & 0x80 == 0 {
        return None;
    }
    let header = if matches!(rosctr, 2 | 3) { 12 } else { 10 };
    let s7_len = header + usize::from(u16::from_be_bytes([p0, p1])) + usize::from(u16::from_be_bytes([d0, d1]));
    let end = crate::TPKT_LEN + 3 + s7_len;
    packet.get(end..).filter(|after| after.len() >= 6 && plausible(after)).map(|_| end)
}

impl S7Dissector {
    pub fn new(cfg: S7Config) -> Self {
        S7Dissector { cfg, ..Default::default() }
    }

    fn tpdu<S: PduSink>(&mut self, cx: &StreamCx, tpdu: &[u8], at: u64, sink: &mut S) {
        let t = match Tpdu::parse(tpdu) {
            Ok(t) => t,
            Err(why) => return anomaly(sink, cx, S7Anomaly::CotpLength, at + 4, format_args!("{why}")),
        };
        match t.kind {
            Kind::Data => self.data(cx, &t, at, sink),
            Kind::ConnectionRequest | Kind::ConnectionConfirm => {
                let c = t.connection();
                if t.kind == Kind::ConnectionRequest {
                    self.rack_slot = c.and_then(|c| c.called_tsap).and_then(rack_slot).map(|(_, r, s)| (r, s));
                }
                sink.pdu(cx, &CotpEvent { kind: t.kind, fixed: t.fixed, connection: c });
            }
            Kind::DisconnectRequest | Kind::DisconnectConfirm | Kind::Error => {
                sink.pdu(cx, &CotpEvent { kind: t.kind, fixed: t.fixed, connection: None });
            }
            Kind::Unknown(code) => anomaly(sink, cx, S7Anomaly::CotpUnknownType, at + 5, format_args!("COTP TPDU code 0x{code:02X}")),
            _ => {}
        }
    }

    fn data<S: PduSink>(&mut self, cx: &StreamCx, t: &Tpdu<'_>, at: u64, sink: &mut S) {
        let side = cx.dir.index();
        if self.continuing.get(side) == Some(&true) {
            // The rest of a PDU not reassembled, up to its last data TPDU.
            if let (true, Some(c)) = (t.eot(), self.continuing.get_mut(side)) {
                *c = false;
            }
            return;
        }
        let held = self.partial.get(side).map_or(0, Vec::len);
        let first = t.payload.first().copied();
        if held == 0 && first.is_none() {
            return; // some stacks send an empty data TPDU ahead of each PDU
        }
        if held == 0 && first != Some(0x32) {
            if first == Some(0x72) {
                self.plus(cx, t.payload, at, sink);
            } else {
                anomaly(
                    sink,
                    cx,
                    S7Anomaly::UnknownProtocol,
                    at + 7,
                    format_args!("data TPDU payload starts 0x{:02X}", first.unwrap_or(0)),
                );
            }
            // S7comm-plus PDUs are identified by their first TPDU, not reassembled.
            if let (false, Some(c)) = (t.eot(), self.continuing.get_mut(side)) {
                *c = true;
            }
            return;
        }
        if !t.eot() {
            let Some(buf) = self.partial.get_mut(side) else { return };
            buf.extend_from_slice(t.payload);
            if buf.len() > self.cfg.max_pdu {
                let len = buf.len();
                buf.clear();
                if let Some(c) = self.continuing.get_mut(side) {
                    *c = true;
                }
                anomaly(
                    sink,
                    cx,
                    S7Anomaly::ReassemblyOverflow,
                    at,
                    format_args!("S7comm PDU over {} bytes ({len}) across data TPDUs dropped", self.cfg.max_pdu),
                );
            }
            return;
        }
        if held == 0 {
            return self.s7(cx, t.payload, at, sink);
        }
        let mut pdu = std::mem::take(self.partial.get_mut(side).map_or(&mut Vec::new(), |b| b));
        pdu.extend_from_slice(t.payload);
        self.s7(cx, &pdu, at, sink);
        pdu.clear();
        if let Some(b) = self.partial.get_mut(side) {
            *b = pdu; // keep the allocation
        }
    }

    fn plus<S: PduSink>(&mut self, cx: &StreamCx, payload: &[u8], at: u64, sink: &mut S) {
        self.plus_pdus += 1;
        match plus::parse(payload) {
            Ok(p) => {
                if let Some(f) = p.function {
                    self.plus_functions.add(f);
                }
                self.reported += 1;
                sink.pdu(cx, &PlusEvent { tx_id: self.reported, pdu: &p });
            }
            Err(why) => anomaly(sink, cx, S7Anomaly::PlusMalformed, at + 7, format_args!("{why}")),
        }
    }

    fn s7<S: PduSink>(&mut self, cx: &StreamCx, bytes: &[u8], at: u64, sink: &mut S) {
        self.pdus += 1;
        // Acks whose job did not come within the wait are reported as they are.
        while self.orphans.front().is_some_and(|(_, r)| cx.ts.as_nanos() - r.ts.as_nanos() > ORPHAN_WAIT_NS) {
            if let Some((job, resp)) = self.orphans.pop_front() {
                self.emit(cx, &job, Some(&resp), Status::Unmatched, sink);
            }
        }
        let (pdu, mut issues) = match s7::parse(bytes) {
            Ok(p) => p,
            Err(why) => return anomaly(sink, cx, S7Anomaly::Malformed, at + 7, format_args!("{why}")),
        };
        let h = pdu.header;
        let function = pdu.param.first().copied();
        if let (1 | 3, Some(f)) = (h.rosctr, function) {
            self.functions.add(f);
            if h.rosctr == 1 {
                self.jobs.add(f);
            } else {
                self.acks.add(f);
            }
            if function_name(f) == "unknown" {
                issues.in_param(0, S7Anomaly::UnknownFunction, otsentry_core::detail!("function 0x{:02X}", f));
            }
        }
        match (h.rosctr, function) {
            (1, Some(f)) => {
                let facts = s7::facts(f, true, pdu.param, pdu.data, &mut issues);
                let job = OpenJob { dir: cx.dir, pdu_ref: h.pdu_ref, function: f, ts: cx.ts, facts };
                let arrived = JobEvent {
                    tx_id: 0,
                    job: &job,
                    response_rosctr: None,
                    response: None,
                    error: None,
                    response_time_us: None,
                    status: Status::Request,
                    rack_slot: self.rack_slot,
                };
                sink.request(cx, &arrived);
                // An ack without parameter names no function: the reference alone pairs it.
                let pairs = |(o, r): &(OpenJob, Response)| o.pdu_ref == h.pdu_ref && (o.function == f || r.rosctr == 2);
                if let Some(i) = self.orphans.iter().position(pairs) {
                    if let Some((_, resp)) = self.orphans.remove(i) {
                        self.emit(cx, &job, Some(&resp), Status::Complete, sink);
                    }
                } else {
                    if self.open.len() >= self.cfg.max_open_jobs {
                        if let Some(old) = self.open.pop_front() {
                            self.emit(cx, &old, None, Status::Unanswered, sink);
                        }
                    }
                    self.open.push_back(job);
                }
            }
            (2 | 3, _) => {
                let f = function.unwrap_or(0);
                let facts = function.map(|f| s7::facts(f, false, pdu.param, pdu.data, &mut issues)).unwrap_or_default();
                let mut resp = Response { ts: cx.ts, rosctr: h.rosctr, error: h.error, facts };
                match self.open.iter().position(|j| j.pdu_ref == h.pdu_ref) {
                    Some(i) => {
                        let job = self.open.remove(i);
                        if let Some(job) = job {
                            s7::lay_out(&mut resp.facts.data_items, &job.facts.items);
                            self.emit(cx, &job, Some(&resp), Status::Complete, sink);
                        }
                    }
                    None => {
                        if self.orphans.len() >= ORPHANS {
                            if let Some((job, resp)) = self.orphans.pop_front() {
                                self.emit(cx, &job, Some(&resp), Status::Unmatched, sink);
                            }
                        }
                        let job = OpenJob { dir: cx.dir.reverse(), pdu_ref: h.pdu_ref, function: f, ts: cx.ts, facts: Facts::default() };
                        self.orphans.push_back((job, resp));
                    }
                }
            }
            (7, _) => {
                if let Some(u) = userdata::parse(pdu.param, pdu.data, self.follow_up, &mut issues) {
                    match u.kind {
                        "request" => self.follow_up = u.continuation,
                        "response" => self.follow_up = false,
                        _ => {}
                    }
                    self.userdata.add(GroupSub(u.function_group, u.subfunction));
                    self.reported += 1;
                    sink.pdu(cx, &UserDataEvent { tx_id: self.reported, pdu_ref: h.pdu_ref, userdata: &u });
                }
            }
            _ => {}
        }
        for i in issues.list {
            anomaly(sink, cx, i.event, at + 7 + i.offset as u64, format_args!("{}", i.reason));
        }
    }

    fn emit<S: PduSink>(&mut self, cx: &StreamCx, job: &OpenJob, resp: Option<&Response>, status: Status, sink: &mut S) {
        self.reported += 1;
        let e = JobEvent {
            tx_id: self.reported,
            job,
            response_rosctr: resp.map(|r| r.rosctr),
            response: resp.map(|r| &r.facts),
            error: resp.and_then(|r| r.error).map(|(c, e)| (c, error_class_name(c), e)),
            // Not known when the ack was seen first.
            response_time_us: resp.filter(|r| r.ts >= job.ts).map(|r| ((r.ts.as_nanos() - job.ts.as_nanos()) / 1000) as u64),
            status,
            rack_slot: self.rack_slot,
        };
        // A job reads as its sender's: source is who sent the job.
        sink.pdu(&StreamCx { dir: job.dir, ..*cx }, &e);
    }

    /// Skip from `at` to the next plausible TPKT; report the bytes skipped.
    fn resync<S: PduSink>(&mut self, cx: &StreamCx, data: &[u8], at: usize, sink: &mut S) -> usize {
        let from = at + 1;
        let next = (from..data.len()).find(|&i| data.get(i..).is_some_and(plausible)).unwrap_or(data.len());
        let skipped = next - at;
        anomaly(sink, cx, S7Anomaly::Resync, cx.offset + at as u64, format_args!("{skipped} bytes skipped to the next TPKT header"));
        next
    }
}

#[derive(Debug)]
pub(crate) struct Response {
    ts: Timestamp,
    rosctr: u8,
    error: Option<(u8, u8)>,
    facts: Facts,
}

impl Dissector for S7Dissector {
    fn proto(&self) -> AppProto {
        crate::S7COMM
    }

    fn parse<S: PduSink>(&mut self, cx: &StreamCx, data: &[u8], sink: &mut S) -> usize {
        let mut at = 0usize;
        let side = cx.dir.index();
        while let Some(rest) = data.get(at..).filter(|r| !r.is_empty()) {
            // After a gap the stream resumes anywhere: wait for a plausible header.
            if self.after_gap.get(side) == Some(&true) {
                if !plausible(rest) {
                    at = self.resync(cx, data, at, sink);
                    continue;
                }
                if rest.len() >= 6 {
                    if let Some(g) = self.after_gap.get_mut(side) {
                        *g = false;
                    }
                }
            }
            match tpkt(rest) {
                Tpkt::NeedMore => break,
                Tpkt::Packet { len, tpdu } => {
                    let whole = self.partial.get(side).is_some_and(Vec::is_empty) && self.continuing.get(side) == Some(&false);
                    let (len, tpdu) = match rest.get(..len).and_then(|p| hidden_tpkt(p, whole)) {
                        Some(end) => {
                            anomaly(
                                sink,
                                cx,
                                S7Anomaly::BadTpktLength,
                                cx.offset + at as u64 + 2,
                                format_args!("TPKT length {len} but another TPKT header follows the {end}-byte S7comm PDU: read as two"),
                            );
                            (end, rest.get(crate::TPKT_LEN..end).unwrap_or_default())
                        }
                        None => (len, tpdu),
                    };
                    self.tpdu(cx, tpdu, cx.offset + at as u64, sink);
                    at += len;
                }
                Tpkt::Bad(bad) => {
                    let event = match bad {
                        crate::cotp::BadTpkt::Version(_) => S7Anomaly::BadTpktVersion,
                        crate::cotp::BadTpkt::Length(_) => S7Anomaly::BadTpktLength,
                    };
                    anomaly(sink, cx, event, cx.offset + at as u64, format_args!("{bad}"));
                    at = self.resync(cx, data, at, sink);
                }
            }
        }
        at
    }

    fn gap<S: PduSink>(&mut self, cx: &StreamCx, _len: u64, _sink: &mut S) {
        // A PDU in progress lost a piece; what follows may start anywhere.
        let side = cx.dir.index();
        if let Some(p) = self.partial.get_mut(side) {
            p.clear();
        }
        if let (Some(c), Some(g)) = (self.continuing.get_mut(side), self.after_gap.get_mut(side)) {
            (*c, *g) = (false, true);
        }
    }

    fn held(&self) -> usize {
        let [a, b] = &self.partial;
        a.capacity()
            + b.capacity()
            + self.open.capacity() * std::mem::size_of::<OpenJob>()
            + self.orphans.capacity() * std::mem::size_of::<(OpenJob, Response)>()
    }

    fn shed(&mut self) -> u64 {
        let mut lost = (self.open.len() + self.orphans.len()) as u64;
        for (partial, continuing) in self.partial.iter_mut().zip(self.continuing.iter_mut()) {
            if !partial.is_empty() {
                // The rest of the PDU still comes: it continues one not reassembled.
                *continuing = true;
                lost += 1;
            }
            *partial = Vec::new();
        }
        self.open = VecDeque::new();
        self.orphans = VecDeque::new();
        lost
    }

    fn publish(&mut self, counts: &mut ProtocolCounts) {
        let s7 = counts.section(&SECTION);
        s7.add("pdus", std::mem::take(&mut self.pdus));
        s7.drain_named("functions", &mut self.functions, function_name);
        s7.drain("function_requests", &mut self.jobs);
        s7.drain("function_responses", &mut self.acks);
        s7.drain_named("userdata", &mut self.userdata, |GroupSub(group, sub)| {
            format!("{}.{}", names::function_group_name(group), names::subfunction_name(group, sub))
        });
        let plus = counts.section(&PLUS_SECTION);
        plus.add("pdus", std::mem::take(&mut self.plus_pdus));
        plus.drain_named("functions", &mut self.plus_functions, names::plus_function_name);
    }

    fn finish<S: PduSink>(&mut self, ts: Timestamp, sink: &mut S) {
        self.publish(sink.counts());
        let cx = StreamCx { ts, dir: Direction::ToServer, offset: 0 };
        while let Some(job) = self.open.pop_front() {
            self.emit(&cx, &job, None, Status::Unanswered, sink);
        }
        while let Some((job, resp)) = self.orphans.pop_front() {
            self.emit(&cx, &job, Some(&resp), Status::Unmatched, sink);
        }
    }
}
