//! Hex vectors for each function's request and response (a comment per field), and the
//! dissector over whole streams: pairing, checks, every split point, garbage and gaps.
use otsentry_core::{Direction, Dissector, PduEvent, PduSink, Pending, ProtocolCounts, StreamCx, Timestamp};
use otsentry_proto_modbus::function::Function;
use otsentry_proto_modbus::ModbusAnomaly;
use otsentry_proto_modbus::{parse_request, parse_response, ModbusConfig, ModbusDissector, Request, Response};
use serde_json::Value;

#[derive(Default)]
struct Sink {
    records: Vec<Value>,
    anomalies: Vec<(&'static str, u64)>,
    counts: ProtocolCounts,
}

impl PduSink for Sink {
    fn pdu<E: PduEvent>(&mut self, _cx: &StreamCx, e: &E) {
        self.records.push(serde_json::to_value(e.body()).unwrap());
    }
    fn counts(&mut self) -> &mut ProtocolCounts {
        &mut self.counts
    }
    fn anomaly(&mut self, _cx: &StreamCx, event: &'static str, offset: u64, _reason: std::fmt::Arguments<'_>) {
        self.anomalies.push((event, offset));
    }
}

fn cx(dir: Direction, ms: u32, offset: u64) -> StreamCx {
    StreamCx { ts: Timestamp::from_secs_nanos(0, ms * 1_000_000), dir, offset }
}

/// An ADU around a PDU: MBAP with transaction `tid`, protocol 0, computed length, unit.
fn adu(tid: u16, unit: u8, pdu: &[u8]) -> Vec<u8> {
    let mut a = tid.to_be_bytes().to_vec();
    a.extend_from_slice(&[0, 0]);
    a.extend_from_slice(&(pdu.len() as u16 + 1).to_be_bytes());
    a.push(unit);
    a.extend_from_slice(pdu);
    a
}

#[test]
fn read_requests_and_responses() {
    let req = [
        0x03, // function: read holding registers
        0x00, 0x6B, // starting address 107
        0x00, 0x03, // quantity 3
    ];
    assert_eq!(parse_request(&req), (Request::Read { function: Function(3), address: 107, quantity: 3 }, vec![]));
    let resp = [
        0x03, // function
        0x06, // byte count
        0x02, 0x2B, 0x00, 0x00, 0x00, 0x64, // registers 555, 0, 100
    ];
    assert_eq!(parse_response(&resp), (Response::Read { function: Function(3), data: &resp[2..] }, vec![]));
    let coils = [
        0x01, // read coils
        0x00, 0x13, // address 19
        0x07, 0xD1, // quantity 2001: one over the limit
    ];
    let (r, issues) = parse_request(&coils);
    assert_eq!(r, Request::Read { function: Function(1), address: 19, quantity: 2001 });
    assert_eq!(issues[0].event, ModbusAnomaly::InvalidValue);
}

#[test]
fn single_writes() {
    let coil = [
        0x05, // write single coil
        0x00, 0xAC, // address 172
        0xFF, 0x00, // ON
    ];
    assert_eq!(parse_request(&coil).1, vec![]);
    let bad = [0x05, 0x00, 0xAC, 0x12, 0x34]; // value neither 0x0000 nor 0xFF00
    assert_eq!(parse_request(&bad).1[0].event, ModbusAnomaly::InvalidValue);
    let reg = [
        0x06, // write single register
        0x00, 0x01, // address 1
        0x00, 0x03, // value 3
    ];
    assert_eq!(parse_request(&reg).0, Request::WriteSingle { function: Function(6), address: 1, value: 3 });
    assert_eq!(parse_response(&reg).0, Response::WriteSingle { function: Function(6), address: 1, value: 3 });
}

#[test]
fn multiple_writes() {
    let coils = [
        0x0F, // write multiple coils
        0x00, 0x13, // address 19
        0x00, 0x0A, // quantity 10
        0x02, // byte count
        0xCD, 0x01, // coil bits
    ];
    assert_eq!(
        parse_request(&coils),
        (Request::WriteMultiple { function: Function(15), address: 19, quantity: 10, values: &coils[6..] }, vec![])
    );
    let regs = [
        0x10, // write multiple registers
        0x00, 0x01, // address 1
        0x00, 0x02, // quantity 2
        0x04, // byte count
        0x00, 0x0A, 0x01, 0x02, // values 10, 258
    ];
    assert_eq!(parse_request(&regs).1, vec![]);
    let short = [0x10, 0x00, 0x01, 0x00, 0x02, 0x04, 0x00, 0x0A]; // 2 of 4 value bytes
    let issues = parse_request(&short).1;
    assert!(issues.iter().any(|i| i.event == ModbusAnomaly::InvalidLength), "{issues:?}");
    let echo = [
        0x10, // function
        0x00, 0x01, // address
        0x00, 0x02, // quantity
    ];
    assert_eq!(parse_response(&echo).0, Response::WriteMultiple { function: Function(16), address: 1, quantity: 2 });
}

#[test]
fn mask_write_read_write_fifo() {
    let mask = [
        0x16, // mask write register
        0x00, 0x04, // address 4
        0x00, 0xF2, // AND mask
        0x00, 0x25, // OR mask
    ];
    assert_eq!(parse_request(&mask).0, Request::MaskWrite { address: 4, and_mask: 0xF2, or_mask: 0x25 });
    let rw = [
        0x17, // read/write multiple registers
        0x00, 0x03, // read address 3
        0x00, 0x06, // read quantity 6
        0x00, 0x0E, // write address 14
        0x00, 0x03, // write quantity 3
        0x06, // byte count
        0x00, 0xFF, 0x00, 0xFF, 0x00, 0xFF, // values
    ];
    let (r, issues) = parse_request(&rw);
    assert_eq!(issues, vec![]);
    assert!(matches!(r, Request::ReadWrite { read_address: 3, read_quantity: 6, write_address: 14, write_quantity: 3, .. }));
    let fifo = [
        0x18, // read FIFO queue
        0x04, 0xDE, // FIFO pointer address 1246
    ];
    assert_eq!(parse_request(&fifo).0, Request::ReadFifo { address: 1246 });
    let fifo_resp = [
        0x18, // function
        0x00, 0x06, // byte count
        0x00, 0x02, // FIFO count
        0x01, 0xB8, 0x12, 0x84, // two registers
    ];
    assert!(matches!(parse_response(&fifo_resp).0, Response::ReadFifo { count: 2, .. }));
}

#[test]
fn diagnostics_and_no_data_functions() {
    let diag = [
        0x08, // diagnostics
        0x00, 0x04, // sub-function: force listen only mode
        0x00, 0x00, // data
    ];
    assert_eq!(parse_request(&diag).0, Request::Diagnostic { sub: 4, data: &[0, 0] });
    for code in [7u8, 11, 12, 17] {
        assert_eq!(parse_request(&[code]), (Request::Plain { function: Function(code) }, vec![]), "function {code}");
        assert_eq!(parse_request(&[code, 0]).1[0].event, ModbusAnomaly::InvalidLength, "function {code} takes no data");
    }
    let status = [
        0x07, // read exception status
        0x6D, // outputs
    ];
    assert_eq!(parse_response(&status), (Response::ExceptionStatus { status: 0x6D }, vec![]));
    let counter = [
        0x0B, // get comm event counter
        0xFF, 0xFF, // status: busy
        0x01, 0x08, // event count 264
    ];
    assert_eq!(parse_response(&counter), (Response::CommEventCounter { status: 0xFFFF, event_count: 264 }, vec![]));
    let log = [
        0x0C, // get comm event log
        0x08, // byte count
        0x00, 0x00, // status
        0x01, 0x08, // event count
        0x01, 0x21, // message count
        0x20, 0x00, // two events
    ];
    assert_eq!(
        parse_response(&log),
        (Response::CommEventLog { status: 0, event_count: 264, message_count: 289, events: &[0x20, 0x00] }, vec![])
    );
    let id = [
        0x11, // report server id
        0x03, // byte count
        0x42, // server id
        0xFF, // run indicator: on
        0x01, // device-specific
    ];
    assert_eq!(parse_response(&id), (Response::ServerId { data: &[0x42, 0xFF, 0x01] }, vec![]));
}

#[test]
fn file_records() {
    let read = [
        0x14, // read file record
        0x0E, // byte count
        0x06, 0x00, 0x04, 0x00, 0x01, 0x00, 0x02, // reference type 6, file 4, record 1, length 2
        0x06, 0x00, 0x03, 0x00, 0x09, 0x00, 0x02, // reference type 6, file 3, record 9, length 2
    ];
    let (r, issues) = parse_request(&read);
    assert_eq!(issues, vec![]);
    let Request::FileRecords { data, .. } = r else { panic!("{r:?}") };
    let recs: Vec<(u16, u16, u16)> = otsentry_proto_modbus::file_records(data, false).map(|f| (f.file, f.record, f.length)).collect();
    assert_eq!(recs, vec![(4, 1, 2), (3, 9, 2)]);
    let write = [
        0x15, // write file record
        0x0D, // byte count
        0x06, 0x00, 0x04, 0x00, 0x07, 0x00, 0x03, // reference type 6, file 4, record 7, length 3
        0x06, 0xAF, 0x04, 0xBE, 0x10, 0x0D, // three registers of record data
    ];
    let (r, issues) = parse_request(&write);
    assert_eq!(issues, vec![]);
    let Request::FileRecords { data, .. } = r else { panic!("{r:?}") };
    let rec = otsentry_proto_modbus::file_records(data, true).next().unwrap();
    assert_eq!((rec.file, rec.record, rec.length, rec.data.len()), (4, 7, 3, 6));
    let resp = [
        0x14, // read file record
        0x0C, // response data length
        0x05, 0x06, 0x0D, 0xFE, 0x00, 0x20, // sub-response: length 5, reference 6, two registers
        0x05, 0x06, 0x33, 0xCD, 0x00, 0x40, // sub-response
    ];
    assert_eq!(parse_response(&resp), (Response::FileRecords { function: Function(20), data: &resp[2..] }, vec![]));
    let mut broken = read.to_vec();
    broken[1] = 0x0D; // byte count one short
    assert!(parse_request(&broken).1.iter().any(|i| i.event == ModbusAnomaly::InvalidLength));
}

#[test]
fn device_identification() {
    let req = [
        0x2B, // encapsulated interface transport
        0x0E, // MEI: read device identification
        0x01, // basic
        0x00, // from object 0
    ];
    assert_eq!(parse_request(&req).0, Request::Mei { mei_type: 14, read_device_id: Some((1, 0)), data: &[1, 0] });
    let resp = [
        0x2B, 0x0E, // function, MEI type
        0x01, // read device id code: basic
        0x01, // conformity level
        0x00, // more follows: no
        0x00, // next object id
        0x03, // number of objects
        0x00, 0x04, b'A', b'c', b'm', b'e', // VendorName "Acme"
        0x01, 0x02, b'P', b'1', // ProductCode "P1"
        0x02, 0x03, b'1', b'.', b'0', // MajorMinorRevision "1.0"
    ];
    let (r, issues) = parse_response(&resp);
    assert_eq!(issues, vec![]);
    let Response::DeviceId(d) = r else { panic!("not a device id: {r:?}") };
    let objects: Vec<(u8, &[u8])> = d.objects().collect();
    assert_eq!(objects, vec![(0, &b"Acme"[..]), (1, &b"P1"[..]), (2, &b"1.0"[..])]);
    let mut truncated = resp.to_vec();
    truncated.truncate(resp.len() - 2);
    assert_eq!(parse_response(&truncated).1[0].event, ModbusAnomaly::InvalidLength);
}

#[test]
fn umas_and_exceptions() {
    let stop = [
        0x5A, // UMAS
        0x01, // session
        0x41, // stop PLC
        0xFF, 0x00, // payload
    ];
    assert_eq!(parse_request(&stop).0, Request::Umas { session: 1, code: 0x41, data: &[0xFF, 0x00] });
    let ok = [0x5A, 0x01, 0xFE]; // UMAS, session, OK
    assert_eq!(parse_response(&ok).0, Response::Umas { session: 1, status: 0xFE, data: &[] });
    let exc = [
        0x83, // read holding registers | exception bit
        0x02, // illegal data address
    ];
    assert_eq!(parse_response(&exc), (Response::Exception { function: Function(3), code: 2 }, vec![]));
    assert_eq!(parse_response(&[0x83, 0x09]).1[0].event, ModbusAnomaly::InvalidExceptionCode);
    assert_eq!(parse_request(&[0x41, 1, 2]).0, Request::Other { function: Function(0x41), data: &[1, 2] }, "user-defined kept raw");
}

/// A client stream and a server stream of three transactions.
fn conversation() -> (Vec<u8>, Vec<u8>) {
    let mut req = adu(1, 1, &[0x03, 0x00, 0x00, 0x00, 0x02]);
    req.extend(adu(2, 1, &[0x06, 0x00, 0x10, 0x00, 0xFF]));
    req.extend(adu(3, 2, &[0x5A, 0x00, 0x41]));
    let mut resp = adu(1, 1, &[0x03, 0x04, 0x00, 0x2A, 0x00, 0x2B]);
    resp.extend(adu(2, 1, &[0x06, 0x00, 0x10, 0x00, 0xFF]));
    resp.extend(adu(3, 2, &[0xDA, 0x01])); // UMAS exception: illegal function
    (req, resp)
}

/// The ADUs counted so far (published as a flow's periodic stats are).
fn pdus(d: &mut ModbusDissector, sink: &mut Sink) -> u64 {
    d.publish(&mut sink.counts);
    sink.counts.get("modbus").map_or(0, |s| s.count("pdus"))
}

fn run_split(req: &[u8], resp: &[u8], i: usize, j: usize) -> Sink {
    let mut d = ModbusDissector::new(ModbusConfig::default());
    let mut sink = Sink::default();
    let mut p = Pending::default();
    for (lo, hi) in [(0, i), (i, j), (j, req.len())] {
        p.feed(&mut d, &cx(Direction::ToServer, 0, lo as u64), &req[lo..hi], 4096, &mut sink);
    }
    let mut q = Pending::default();
    q.feed(&mut d, &cx(Direction::ToClient, 5, 0), resp, 4096, &mut sink);
    d.publish(&mut sink.counts);
    sink
}

#[test]
fn every_split_point_of_a_three_adu_stream_gives_the_same_transactions() {
    let (req, resp) = conversation();
    let whole = run_split(&req, &resp, req.len(), req.len());
    assert_eq!(whole.records.len(), 3);
    assert!(whole.anomalies.is_empty(), "{:?}", whole.anomalies);
    assert_eq!(whole.records[0]["response_values"], serde_json::json!([42, 43]));
    assert_eq!(whole.records[1]["values"], serde_json::json!([255]));
    assert_eq!(whole.records[2]["umas"]["function_name"], "stop_plc");
    assert_eq!(whole.records[2]["exception"]["name"], "illegal_function");
    assert_eq!(whole.records[0]["response_time_us"], 5000);
    assert_eq!(whole.counts.get("modbus").unwrap().count("pdus"), 6);
    for i in 0..=req.len() {
        for j in i..=req.len() {
            let s = run_split(&req, &resp, i, j);
            assert_eq!(s.records, whole.records, "split {i},{j}");
            assert!(s.anomalies.is_empty(), "split {i},{j}: {:?}", s.anomalies);
        }
    }
}

#[test]
fn garbage_is_skipped_and_counted_then_parsing_resumes() {
    let (req, _) = conversation();
    let mut stream = vec![0xDE, 0xAD, 0xBE, 0xEF, 0x01, 0x02, 0x03, 0x04, 0x05];
    stream.extend_from_slice(&req);
    let mut d = ModbusDissector::new(ModbusConfig::default());
    let mut sink = Sink::default();
    let used = d.parse(&cx(Direction::ToServer, 0, 0), &stream, &mut sink);
    assert_eq!(used, stream.len());
    assert!(sink.anomalies.iter().any(|&(e, off)| e == "modbus.resync" && off == 0), "{:?}", sink.anomalies);
    assert_eq!(pdus(&mut d, &mut sink), 3, "all three requests parsed after the garbage");
}

#[test]
fn an_oversized_length_cannot_swallow_the_requests_behind_it() {
    let mut stream = vec![0x00, 0x07, 0x00, 0x00, 0x01, 0x00, 0x01, 0x03]; // length 256: a 262-byte ADU
    let (req, _) = conversation();
    stream.extend_from_slice(&req);
    let mut d = ModbusDissector::new(ModbusConfig::default());
    let mut sink = Sink::default();
    // The 262 bytes never all arrive: the three requests inside must not wait for them.
    let used = d.parse(&cx(Direction::ToServer, 0, 0), &stream, &mut sink);
    assert_eq!(used, stream.len());
    assert_eq!(sink.anomalies.first(), Some(&("modbus.invalid_length", 4)), "{:?}", sink.anomalies);
    assert_eq!(pdus(&mut d, &mut sink), 4, "the cut request and the three behind it");
    d.finish(Timestamp::default(), &mut sink);
    assert!(sink.records.iter().any(|r| r["umas"]["function_name"] == "stop_plc"), "the PLC stop is seen");
}

#[test]
fn an_oversized_adu_a_device_accepts_is_dissected() {
    // A UMAS stop padded with zeros to the length field 255 Modicon PLCs use: 261 bytes.
    let mut pdu = vec![0x5A, 0x00, 0x41];
    pdu.resize(254, 0x00);
    let stream = adu(9, 1, &pdu);
    assert_eq!(stream.len(), 261);
    let mut d = ModbusDissector::new(ModbusConfig::default());
    let mut sink = Sink::default();
    // Every split point: the ADU is taken whole once its last byte is there.
    for cut in [1, 7, 8, 100, 260] {
        let mut p = Pending::default();
        p.feed(&mut d, &cx(Direction::ToServer, 0, 0), &stream[..cut], 4096, &mut sink);
        assert_eq!(pdus(&mut d, &mut sink), 0, "cut at {cut}");
    }
    let used = d.parse(&cx(Direction::ToServer, 0, 0), &stream, &mut sink);
    assert_eq!(used, 261);
    assert_eq!(sink.anomalies, vec![("modbus.pdu_too_long", 4)]);
    d.finish(Timestamp::default(), &mut sink);
    assert_eq!(sink.records.len(), 1);
    assert_eq!(sink.records[0]["umas"]["function_name"], "stop_plc");
    // Over the largest ADU dissected: refused, and the search for a header starts inside.
    let mut huge = vec![0x00, 0x08, 0x00, 0x00, 0x04, 0x00, 0x01, 0x03];
    huge.extend_from_slice(&adu(10, 1, &[0x5A, 0x00, 0x41]));
    let (mut d, mut sink) = (ModbusDissector::new(ModbusConfig::default()), Sink::default());
    let used = d.parse(&cx(Direction::ToServer, 0, 0), &huge, &mut sink);
    assert_eq!(used, huge.len());
    assert_eq!(sink.anomalies.first(), Some(&("modbus.pdu_too_long", 0)));
    assert_eq!(pdus(&mut d, &mut sink), 1, "the stop behind the refused header");
}

#[test]
fn a_forged_length_on_a_fixed_size_request_cannot_hide_the_next_one() {
    // A read of one register whose length field (40) also covers a UMAS stop, then padding.
    let mut forged = vec![
        0x00, 0x01, // transaction 1
        0x00, 0x00, // protocol 0
        0x00, 0x28, // length 40: unit, 5-byte read, and 34 more bytes
        0x01, // unit 1
        0x03, 0x00, 0x00, 0x00, 0x01, // read holding register 0, quantity 1
    ];
    forged.extend_from_slice(&adu(2, 1, &[0x5A, 0x00, 0x41])); // hidden: UMAS stop (10 bytes)
    forged.resize(6 + 40, 0x00); // padding to the forged length
    forged.extend_from_slice(&adu(3, 1, &[0x03, 0x00, 0x00, 0x00, 0x01]));
    let mut d = ModbusDissector::new(ModbusConfig::default());
    let mut sink = Sink::default();
    let used = d.parse(&cx(Direction::ToServer, 0, 0), &forged, &mut sink);
    assert_eq!(used, forged.len());
    assert_eq!(sink.anomalies.first(), Some(&("modbus.invalid_length", 4)), "{:?}", sink.anomalies);
    d.finish(Timestamp::default(), &mut sink);
    let umas: Vec<_> = sink.records.iter().filter(|r| r["umas"]["function_name"] == "stop_plc").collect();
    assert_eq!(umas.len(), 1, "the hidden stop is a request of its own: {:?}", sink.records);
    assert_eq!(pdus(&mut d, &mut sink), 3, "read, stop, read after the padding (padding resynchronised)");
    // Padding that frames as nothing stays part of an ADU whose function leaves its length open.
    let mut padded = vec![0x5A, 0x00, 0x41];
    padded.resize(40, 0x00);
    let (mut d, mut sink) = (ModbusDissector::new(ModbusConfig::default()), Sink::default());
    d.parse(&cx(Direction::ToServer, 0, 0), &adu(4, 1, &padded), &mut sink);
    assert!(sink.anomalies.is_empty(), "{:?}", sink.anomalies);
    assert_eq!(pdus(&mut d, &mut sink), 1);
}

#[test]
fn after_a_gap_parsing_waits_for_a_plausible_header() {
    let (req, _) = conversation();
    let mut d = ModbusDissector::new(ModbusConfig::default());
    let mut sink = Sink::default();
    d.gap(&cx(Direction::ToServer, 0, 100), 50, &mut sink);
    // Resume in the middle of the first ADU: its tail must not be read as a header.
    let used = d.parse(&cx(Direction::ToServer, 0, 100), &req[5..], &mut sink);
    assert_eq!(used, req.len() - 5);
    assert_eq!(pdus(&mut d, &mut sink), 2, "the two whole ADUs after the cut: {:?}", sink.anomalies);
    assert!(sink.anomalies.iter().any(|a| a.0 == "modbus.resync"));
}

#[test]
fn mismatches_unsolicited_and_flooding() {
    let mut d = ModbusDissector::new(ModbusConfig { max_open: 4 });
    let mut sink = Sink::default();
    let up = |d: &mut ModbusDissector, sink: &mut Sink, a: Vec<u8>| d.parse(&cx(Direction::ToServer, 0, 0), &a, sink);
    let down = |d: &mut ModbusDissector, sink: &mut Sink, a: Vec<u8>| d.parse(&cx(Direction::ToClient, 1, 0), &a, sink);
    // A read of 2 registers answered with 3: value_mismatch.
    up(&mut d, &mut sink, adu(1, 1, &[0x03, 0x00, 0x00, 0x00, 0x02]));
    down(&mut d, &mut sink, adu(1, 1, &[0x03, 0x06, 0, 1, 0, 2, 0, 3]));
    // A response nobody asked for, now that the flow is in step.
    down(&mut d, &mut sink, adu(9, 1, &[0x06, 0x00, 0x01, 0x00, 0x01]));
    // Five requests with no answers against a cap of four.
    for tid in 10..15 {
        up(&mut d, &mut sink, adu(tid, 1, &[0x03, 0x00, 0x00, 0x00, 0x01]));
    }
    let events: Vec<&str> = sink.anomalies.iter().map(|a| a.0).collect();
    assert_eq!(events, vec!["modbus.value_mismatch", "modbus.unsolicited_response", "modbus.flooded"]);
    d.finish(Timestamp::default(), &mut sink);
    let statuses: Vec<&str> = sink.records.iter().map(|r| r["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, vec!["complete", "unsolicited", "unanswered", "unanswered", "unanswered", "unanswered", "unanswered"]);
}

#[test]
fn the_remaining_response_shapes() {
    let inputs = [
        0x02, // read discrete inputs
        0x00, 0xC4, // address 196
        0x00, 0x16, // quantity 22
    ];
    assert_eq!(parse_request(&inputs), (Request::Read { function: Function(2), address: 196, quantity: 22 }, vec![]));
    let input_regs = [
        0x04, // read input registers
        0x00, 0x08, // address 8
        0x00, 0x01, // quantity 1
    ];
    assert_eq!(parse_request(&input_regs).0, Request::Read { function: Function(4), address: 8, quantity: 1 });
    let diag = [
        0x08, // diagnostics
        0x00, 0x00, // sub-function: return query data
        0xA5, 0x37, // echoed data
    ];
    assert_eq!(parse_response(&diag), (Response::Diagnostic { sub: 0, data: &[0xA5, 0x37] }, vec![]));
    let mask = [
        0x16, // mask write register, echoed
        0x00, 0x04, // address 4
        0x00, 0xF2, // AND mask
        0x00, 0x25, // OR mask
    ];
    assert_eq!(parse_response(&mask), (Response::MaskWrite { address: 4, and_mask: 0xF2, or_mask: 0x25 }, vec![]));
    let rw = [
        0x17, // read/write multiple registers
        0x0C, // byte count: 6 registers
        0x00, 0xFE, 0x0A, 0xCD, 0x00, 0x01, 0x00, 0x03, 0x00, 0x0D, 0x00, 0xFF, // registers
    ];
    assert_eq!(parse_response(&rw), (Response::Read { function: Function(23), data: &rw[2..] }, vec![]));
    let write_file = [
        0x15, // write file record, echoed
        0x0D, // byte count
        0x06, 0x00, 0x04, 0x00, 0x07, 0x00, 0x03, // reference type 6, file 4, record 7, length 3
        0x06, 0xAF, 0x04, 0xBE, 0x10, 0x0D, // record data
    ];
    assert_eq!(parse_response(&write_file), (Response::FileRecords { function: Function(21), data: &write_file[2..] }, vec![]));
    let single_coil = [
        0x05, // write single coil, echoed
        0x00, 0xAC, // address 172
        0xFF, 0x00, // ON
    ];
    assert_eq!(parse_response(&single_coil).0, Response::WriteSingle { function: Function(5), address: 172, value: 0xFF00 });
    let coils_echo = [
        0x0F, // write multiple coils, echoed
        0x00, 0x13, // address 19
        0x00, 0x0A, // quantity 10
    ];
    assert_eq!(parse_response(&coils_echo).0, Response::WriteMultiple { function: Function(15), address: 19, quantity: 10 });
}
