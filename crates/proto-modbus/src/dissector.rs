//! The Modbus/TCP dissector of one flow: framing with resynchronisation, typed PDUs,
//! request/response pairing by (transaction id, unit id), checks of each response against
//! its request, anomaly events and one `modbus` record per transaction.
use crate::anomaly::ModbusAnomaly;
use crate::frame::{find_header, frame, hidden_split, plausible, Framed};
use crate::function::Function;
use crate::pdu::{parse_request, parse_response, Issue, Request, Response};
use crate::record::{RequestInfo, Status, Transaction};
use crate::{MAX_ADU, MBAP_LEN};
use otsentry_core::{detail, Detail};
use otsentry_core::{AppProto, CounterKind, Direction, Dissector, PduSink, ProtocolCounts, SectionLayout, StreamCx, Tally, Timestamp};
use std::collections::VecDeque;

/// Limits of one flow's dissector.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ModbusConfig {
    /// Requests awaiting a response; one more raises `flooded` and the oldest is given up.
    pub max_open: usize,
}

impl Default for ModbusConfig {
    fn default() -> Self {
        // Suricata's default request flood limit.
        ModbusConfig { max_open: 500 }
    }
}

/// Distinct unit ids on one connection that make a walk of them: a master behind a
/// gateway polls the few it knows.
const UNIT_WALK: u16 = 16;

/// The summary's `protocols.modbus`.
pub static SECTION: SectionLayout = SectionLayout {
    name: "modbus",
    counters: &[
        // Every ADU in either direction.
        ("pdus", CounterKind::Count),
        // ADUs by decimal function code, exception bit cleared.
        ("functions", CounterKind::Codes),
        ("function_names", CounterKind::Names("functions")),
        // The same ADUs split: requests, and responses (exceptions included), by code.
        ("function_requests", CounterKind::Codes),
        ("function_responses", CounterKind::Codes),
        ("exceptions", CounterKind::Count),
        ("anomalies", CounterKind::Count),
        // Transactions reported, and of them requests never answered and responses to
        // no request.
        ("transactions", CounterKind::Count),
        ("unanswered", CounterKind::Count),
        ("unsolicited", CounterKind::Count),
    ],
    headline: "transactions",
};

/// What a flow adds to the run's counters, handed over by `publish`.
#[derive(Debug, Default)]
struct Counted {
    pdus: u64,
    exceptions: u64,
    anomalies: u64,
    transactions: u64,
    unanswered: u64,
    unsolicited: u64,
}

#[derive(Debug, Default)]
pub struct ModbusDissector {
    counted: Counted,
    cfg: ModbusConfig,
    open: VecDeque<RequestInfo>,
    /// Per direction: after a gap, the first header must be plausible, not just framed.
    resyncing: [bool; 2],
    /// A response has been paired with its request: the flow is in step, and a response
    /// without a request is now unsolicited rather than an answer to a request sent
    /// before the capture (or a gap) began.
    in_step: bool,
    flooded: bool,
    /// Transactions reported so far (records are numbered from 1, as Suricata's `id`).
    reported: u64,
    /// ADUs per function code, added to the run's histogram when the flow ends (a
    /// string-keyed map per ADU would cost more than the parse). A flow uses few codes.
    functions: Tally<u8>,
    /// The same, requests and responses apart.
    requests: Tally<u8>,
    responses: Tally<u8>,
    /// Unit ids this connection addressed (a bit each), and how many.
    units: [u64; 4],
    units_addressed: u16,
}

impl ModbusDissector {
    pub fn new(cfg: ModbusConfig) -> Self {
        ModbusDissector { cfg, ..Default::default() }
    }

    fn anomaly<S: PduSink>(&mut self, sink: &mut S, cx: &StreamCx, event: ModbusAnomaly, offset: u64, reason: std::fmt::Arguments<'_>) {
        self.counted.anomalies += 1;
        sink.anomaly(cx, event.name(), offset, reason);
    }

    /// The ADU of `len` bytes at the head of `rest` (stream offset `at`), `split` when its
    /// length field claimed more; returns `len`.
    #[allow(clippy::too_many_arguments)]
    fn take<S: PduSink>(
        &mut self,
        cx: &StreamCx,
        rest: &[u8],
        header: crate::frame::Mbap,
        len: usize,
        split: bool,
        at: u64,
        sink: &mut S,
    ) -> usize {
        if split {
            self.anomaly(
                sink,
                cx,
                ModbusAnomaly::InvalidLength,
                at + 4,
                format_args!(
                    "length field {} but another MBAP header follows the {}-byte PDU: read as two ADUs",
                    header.length,
                    len - MBAP_LEN
                ),
            );
        } else if len > MAX_ADU {
            self.anomaly(
                sink,
                cx,
                ModbusAnomaly::PduTooLong,
                at + 4,
                format_args!("{len}-byte ADU, over the specification's {MAX_ADU}; dissected as devices accept it"),
            );
        }
        self.adu(cx, header, rest.get(MBAP_LEN..len).unwrap_or_default(), at, sink);
        len
    }

    /// One whole ADU at stream offset `at`.
    fn adu<S: PduSink>(&mut self, cx: &StreamCx, header: crate::frame::Mbap, pdu: &[u8], at: u64, sink: &mut S) {
        let raw = pdu.first().copied().unwrap_or(0);
        let function = Function(raw & 0x7F);
        self.counted.pdus += 1;
        self.functions.add(function.0);
        if (248..=254).contains(&header.unit_id) {
            self.anomaly(sink, cx, ModbusAnomaly::InvalidUnitIdentifier, at + 6, format_args!("unit id {} is reserved", header.unit_id));
        }
        if function.0 == 0 || function.category() == crate::function::Category::Reserved {
            self.anomaly(
                sink,
                cx,
                ModbusAnomaly::InvalidFunctionCode,
                at + MBAP_LEN as u64,
                format_args!("function code {} is reserved", function.0),
            );
        }
        let pdu_at = at + MBAP_LEN as u64;
        match !reads_as_request(cx.dir, raw) {
            false => {
                self.requests.add(function.0);
                let (req, issues) = parse_request(pdu);
                self.report(sink, cx, pdu_at, &issues);
                self.request(cx, header, raw, &req, sink);
            }
            true => {
                self.responses.add(function.0);
                let (resp, issues) = parse_response(pdu);
                if matches!(resp, Response::Exception { .. }) {
                    self.counted.exceptions += 1;
                }
                self.report(sink, cx, pdu_at, &issues);
                self.response(cx, header, function, &resp, pdu_at, sink);
            }
        }
    }

    fn report<S: PduSink>(&mut self, sink: &mut S, cx: &StreamCx, pdu_at: u64, issues: &[Issue]) {
        for i in issues {
            self.anomaly(sink, cx, i.event, pdu_at + i.offset as u64, format_args!("{}", i.reason));
        }
    }

    fn request<S: PduSink>(&mut self, cx: &StreamCx, header: crate::frame::Mbap, raw: u8, req: &Request<'_>, sink: &mut S) {
        let mut info = RequestInfo::from_request(cx.ts, header.transaction_id, header.unit_id, raw, req);
        let (word, bit) = (usize::from(header.unit_id >> 6), 1u64 << (header.unit_id & 63));
        if let Some(w) = self.units.get_mut(word).filter(|w| **w & bit == 0) {
            *w |= bit;
            self.units_addressed += 1;
            if self.units_addressed == UNIT_WALK {
                self.anomaly(
                    sink,
                    cx,
                    ModbusAnomaly::UnitIdScan,
                    cx.offset,
                    format_args!("{UNIT_WALK} distinct unit ids addressed on one connection"),
                );
            }
        }
        info.units_addressed = self.units_addressed;
        let arrived = Transaction {
            tx_id: 0,
            transaction_id: header.transaction_id,
            unit_id: header.unit_id,
            function: Function(raw & 0x7F),
            request: Some(&info),
            response: None,
            response_time_us: None,
            status: Status::Request,
        };
        sink.request(cx, &arrived);
        // A repeated (transaction, unit) replaces the older request, which is given up.
        if let Some(i) = self.open.iter().position(|o| (o.transaction_id, o.unit_id) == (header.transaction_id, header.unit_id)) {
            if let Some(old) = self.open.remove(i) {
                self.reported += 1;
                emit_unanswered(&old, self.reported, &mut self.counted, cx, sink);
            }
        }
        if self.open.len() >= self.cfg.max_open {
            if !self.flooded {
                let max_open = self.cfg.max_open;
                self.anomaly(
                    sink,
                    cx,
                    ModbusAnomaly::Flooded,
                    cx.offset,
                    format_args!("more than {max_open} requests awaiting a response"),
                );
                self.flooded = true;
            }
            if let Some(old) = self.open.pop_front() {
                self.reported += 1;
                emit_unanswered(&old, self.reported, &mut self.counted, cx, sink);
            }
        } else if self.open.len() < self.cfg.max_open / 2 {
            self.flooded = false;
        }
        self.open.push_back(info);
    }

    fn response<S: PduSink>(
        &mut self,
        cx: &StreamCx,
        header: crate::frame::Mbap,
        function: Function,
        resp: &Response<'_>,
        pdu_at: u64,
        sink: &mut S,
    ) {
        let key = (header.transaction_id, header.unit_id);
        let found = self.open.iter().position(|o| (o.transaction_id, o.unit_id) == key).and_then(|i| self.open.remove(i));
        let Some(req) = found else {
            if self.in_step {
                self.anomaly(
                    sink,
                    cx,
                    ModbusAnomaly::UnsolicitedResponse,
                    pdu_at,
                    format_args!("response to transaction {} unit {} with no request awaiting it", key.0, key.1),
                );
            }
            self.reported += 1;
            self.counted.transactions += 1;
            self.counted.unsolicited += 1;
            let t = Transaction {
                tx_id: self.reported,
                transaction_id: key.0,
                unit_id: key.1,
                function,
                request: None,
                response: Some(resp),
                response_time_us: None,
                status: Status::Unsolicited,
            };
            sink.pdu(&StreamCx { dir: Direction::ToServer, ..*cx }, &t);
            return;
        };
        self.in_step = true;
        if let Some(reason) = mismatch(&req, function, resp) {
            self.anomaly(sink, cx, ModbusAnomaly::ValueMismatch, pdu_at, format_args!("{reason}"));
        }
        self.reported += 1;
        self.counted.transactions += 1;
        let t = Transaction {
            tx_id: self.reported,
            transaction_id: key.0,
            unit_id: key.1,
            function: Function(req.function & 0x7F),
            request: Some(&req),
            response: Some(resp),
            response_time_us: Some((cx.ts.as_nanos() - req.ts.as_nanos()) / 1000),
            status: Status::Complete,
        };
        // A transaction reads as the client's: source is the client.
        sink.pdu(&StreamCx { dir: Direction::ToServer, ..*cx }, &t);
    }
}

/// Whether a PDU whose function byte is `raw`, travelling `dir`, reads as a request. An
/// exception travelling to the server is a response all the same (a server that opened
/// the connection, or a mirrored path).
fn reads_as_request(dir: Direction, raw: u8) -> bool {
    dir == Direction::ToServer && raw & 0x80 == 0
}

/// [`reads_as_request`] for the ADU at the head of `adu` (none yet: a request).
fn is_request(cx: &StreamCx, adu: &[u8]) -> bool {
    reads_as_request(cx.dir, adu.get(MBAP_LEN).copied().unwrap_or(0))
}

fn emit_unanswered<S: PduSink>(req: &RequestInfo, tx_id: u64, counted: &mut Counted, cx: &StreamCx, sink: &mut S) {
    counted.transactions += 1;
    counted.unanswered += 1;
    let t = Transaction {
        tx_id,
        transaction_id: req.transaction_id,
        unit_id: req.unit_id,
        function: Function(req.function & 0x7F),
        request: Some(req),
        response: None,
        response_time_us: None,
        status: Status::Unanswered,
    };
    sink.pdu(&StreamCx { dir: Direction::ToServer, ..*cx }, &t);
}

/// How a response disagrees with its request, if it does.
fn mismatch(req: &RequestInfo, function: Function, resp: &Response<'_>) -> Option<Detail> {
    if function.0 != req.function & 0x7F {
        return Some(detail!("response function {} to a function {} request", function.0, req.function));
    }
    let q = req.quantity.unwrap_or(0);
    match *resp {
        Response::Read { data, .. } => {
            let expected = match function.0 {
                1 | 2 => usize::from(q.div_ceil(8)),
                3 | 4 | 23 => usize::from(q) * 2,
                _ => data.len(),
            };
            (data.len() != expected).then(|| detail!("{} data bytes for a quantity of {} (expected {})", data.len(), q, expected))
        }
        Response::WriteSingle { address, value, .. } => {
            let sent = (req.address, req.values.first().copied());
            (sent != (Some(address), Some(crate::record::single_value(function, value))))
                .then(|| detail!("echo of address {} value {} differs from the request", address, value))
        }
        Response::WriteMultiple { address, quantity, .. } => ((req.address, req.quantity) != (Some(address), Some(quantity)))
            .then(|| detail!("echo of address {} quantity {} differs from the request", address, quantity)),
        Response::MaskWrite { address, and_mask, or_mask } => ((req.address, req.masks) != (Some(address), Some((and_mask, or_mask))))
            .then(|| detail!("echo of address {} masks {:04X}/{:04X} differs from the request", address, and_mask, or_mask)),
        _ => None,
    }
}

impl Dissector for ModbusDissector {
    fn proto(&self) -> AppProto {
        crate::MODBUS
    }

    fn parse<S: PduSink>(&mut self, cx: &StreamCx, data: &[u8], sink: &mut S) -> usize {
        let s = cx.dir.index();
        let mut at = 0usize;
        while let Some(rest) = data.get(at..).filter(|r| !r.is_empty()) {
            let strict = self.resyncing.get(s).copied().unwrap_or(false);
            if strict {
                match plausible(rest) {
                    None => break,
                    Some(true) => {}
                    Some(false) => {
                        at = self.skip(cx, data, at, at + 1, "no plausible MBAP header after a gap", sink);
                        continue;
                    }
                }
            }
            match frame(rest) {
                Framed::NeedMore => {
                    // An oversized length still waiting for its bytes must not hold back
                    // the requests already seen inside it.
                    let Some(header) = crate::frame::header(rest) else { break };
                    let declared = 6 + usize::from(header.length);
                    let Some(end) = hidden_split(rest, declared, is_request(cx, rest)) else { break };
                    at += self.take(cx, rest, header, end, true, cx.offset + at as u64, sink);
                }
                Framed::Adu { header, len, .. } => {
                    if let Some(r) = self.resyncing.get_mut(s) {
                        *r = false;
                    }
                    let split = hidden_split(rest, len, is_request(cx, rest));
                    at += self.take(cx, rest, header, split.unwrap_or(len), split.is_some(), cx.offset + at as u64, sink);
                }
                Framed::Bad { event, reason } => {
                    self.anomaly(sink, cx, event, cx.offset + at as u64, format_args!("{reason}"));
                    at = self.skip(cx, data, at, at + 1, "searching for the next MBAP header", sink);
                }
            }
        }
        at
    }

    fn gap<S: PduSink>(&mut self, _cx: &StreamCx, _len: u64, _sink: &mut S) {
        // Both directions may have lost their place: the next header must be plausible,
        // and answers to requests lost in the gap are not unsolicited.
        self.resyncing = [true, true];
        self.in_step = false;
    }

    fn held(&self) -> usize {
        self.open.capacity() * std::mem::size_of::<RequestInfo>()
    }

    fn shed(&mut self) -> u64 {
        let lost = self.open.len() as u64;
        self.open = VecDeque::new();
        // Answers to the dropped requests are not unsolicited.
        self.in_step = false;
        self.flooded = false;
        lost
    }

    fn publish(&mut self, counts: &mut ProtocolCounts) {
        let section = counts.section(&SECTION);
        let c = std::mem::take(&mut self.counted);
        for (name, n) in [
            ("pdus", c.pdus),
            ("exceptions", c.exceptions),
            ("anomalies", c.anomalies),
            ("transactions", c.transactions),
            ("unanswered", c.unanswered),
            ("unsolicited", c.unsolicited),
        ] {
            section.add(name, n);
        }
        section.drain_named("functions", &mut self.functions, |f| Function(f).name());
        section.drain("function_requests", &mut self.requests);
        section.drain("function_responses", &mut self.responses);
    }

    fn finish<S: PduSink>(&mut self, ts: Timestamp, sink: &mut S) {
        let cx = StreamCx { ts, dir: Direction::ToServer, offset: 0 };
        while let Some(req) = self.open.pop_front() {
            self.reported += 1;
            emit_unanswered(&req, self.reported, &mut self.counted, &cx, sink);
        }
        self.publish(sink.counts());
    }
}

impl ModbusDissector {
    /// Skip from `at` to the next plausible header at or after `from`; report the bytes
    /// skipped. Returns the new position (bytes that might start a header are kept).
    fn skip<S: PduSink>(&mut self, cx: &StreamCx, data: &[u8], at: usize, from: usize, why: &str, sink: &mut S) -> usize {
        let to = match find_header(data, from) {
            Ok(to) | Err(to) => to.max(from),
        };
        let skipped = to - at;
        self.anomaly(sink, cx, ModbusAnomaly::Resync, cx.offset + at as u64, format_args!("{skipped} bytes skipped, {why}"));
        if let Some(r) = self.resyncing.get_mut(cx.dir.index()) {
            *r = true;
        }
        to
    }
}
