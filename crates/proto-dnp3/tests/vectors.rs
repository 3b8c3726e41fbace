//! Hex vectors for each DNP3 layer, a comment per field, and every split point of a
//! multi-frame stream.
use otsentry_core::{Direction, Dissector as _, PduEvent, PduSink, Pending, ProtocolCounts, StreamCx, Timestamp};
use otsentry_proto_dnp3::app::{parse_fragment, Fragment};
use otsentry_proto_dnp3::link::{link, BadLink, Link};
use otsentry_proto_dnp3::points::Value;
use otsentry_proto_dnp3::{crc16, Dnp3Config, Dnp3Dissector};
use serde_json::{json, Value as Json};

#[derive(Default)]
struct Sink {
    counts: ProtocolCounts,
    records: Vec<Json>,
    events: Vec<&'static str>,
    /// What rules read from each record: the fields that are set.
    fields: Vec<Vec<String>>,
}

impl Sink {
    /// A counter of the summary's `dnp3` section.
    fn n(&self, counter: &str) -> u64 {
        self.counts.get("dnp3").map_or(0, |s| s.count(counter))
    }
}

impl PduSink for Sink {
    fn pdu<E: PduEvent>(&mut self, _cx: &StreamCx, e: &E) {
        self.records.push(serde_json::to_value(e.body()).expect("record serialises"));
        let names = [
            "dnp3.function",
            "dnp3.function_name",
            "dnp3.src",
            "dnp3.dst",
            "dnp3.iin",
            "dnp3.from_master",
            "dnp3.crob.index",
            "dnp3.crob.operation",
        ];
        self.fields.push(names.iter().filter_map(|&n| e.field(n).map(|v| format!("{n}={v:?}"))).collect());
    }
    fn counts(&mut self) -> &mut ProtocolCounts {
        &mut self.counts
    }
    fn anomaly(&mut self, _cx: &StreamCx, event: &'static str, _offset: u64, _reason: std::fmt::Arguments<'_>) {
        self.events.push(event);
    }
}

/// Feed `chunks` of one direction through the engine's pending buffer.
fn feed(chunks: &[&[u8]], dir: Direction) -> Sink {
    let mut d = Dnp3Dissector::new(Dnp3Config::default());
    let mut sink = Sink::default();
    let mut pending = Pending::default();
    let mut offset = 0;
    for c in chunks {
        let cx = StreamCx { ts: Timestamp::default(), dir, offset };
        pending.feed(&mut d, &cx, c, 4096, &mut sink);
        offset += c.len() as u64;
    }
    d.publish(&mut sink.counts);
    sink
}

#[test]
fn link_layer_header_and_blocks() {
    let frame = [
        0x05, 0x64, // start
        0x0B, // length: control + addresses (5) + 6 user bytes
        0xC4, // control: DIR (from master), PRM, function 4 (unconfirmed user data)
        0x0A, 0x00, // destination 10
        0x01, 0x00, // source 1
        0xAC, 0xD1, // header CRC (CRC-16/DNP of the 8 bytes above)
        0xC0, 0xC1, 0x01, 0x3C, 0x01, 0x06, // user data: transport, application (read class 0)
        0xF9, 0x73, // block CRC
    ];
    assert_eq!(crc16(&frame[..8]).to_le_bytes(), [frame[8], frame[9]], "header CRC");
    assert_eq!(crc16(&frame[10..16]).to_le_bytes(), [frame[16], frame[17]], "block CRC");
    let Link::Frame(f) = link(&frame) else { panic!("frames") };
    assert_eq!((f.length, f.destination, f.source, f.wire_len), (11, 10, 1, 18));
    assert!(f.control.dir() && f.control.prm() && f.control.carries_user_data());
    assert_eq!((f.control.function(), f.user_data(), f.bad_block), (4, frame[10..16].to_vec(), None));
    // One byte short of the last block CRC: need more.
    assert_eq!(link(&frame[..17]), Link::NeedMore);
    // A corrupted header CRC and a length below 5.
    let mut bad = frame;
    bad[9] ^= 0xFF;
    assert!(matches!(link(&bad), Link::Bad(BadLink::HeaderCrc { .. })));
    let mut short = [0x05, 0x64, 0x04, 0xC4, 0x0A, 0x00, 0x01, 0x00, 0, 0];
    let c = crc16(&short[..8]).to_le_bytes();
    short[8..].copy_from_slice(&c);
    assert_eq!(link(&short), Link::Bad(BadLink::LengthTooSmall(4)));
    // A corrupted data byte: the frame still frames, its data block is flagged.
    let mut data = frame;
    data[12] ^= 0x01;
    let Link::Frame(f) = link(&data) else { panic!("frames") };
    assert_eq!((f.bad_block, f.user_data().len()), (Some(0), 0));
    let s = feed(&[&data], Direction::ToServer);
    assert_eq!((s.n("link_frames"), s.n("fragments"), s.events.as_slice()), (1, 0, &["dnp3.bad_transport_crc"][..]));
}

/// A link frame from source 1 to 10 (or back, by the DIR bit) around `user` data.
fn frame(control: u8, user: &[u8]) -> Vec<u8> {
    let (dst, src) = if control & 0x80 != 0 { (10, 1) } else { (1, 10) };
    otsentry_pcapgen::ot::dnp3_frame(control, dst, src, user)
}

#[test]
fn rules_read_the_fields_by_name() {
    let operate = [
        0xC0, // transport: FIR, FIN, sequence 0
        0xC0, 0x05, // application: FIR, FIN, sequence 0; direct operate
        0x0C, 0x01, 0x17, 0x01, 0x03, // g12v1, one CROB at index 3
        0x41, 0x01, 0xE8, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // close, pulse on, 1000 ms
    ];
    let s = feed(&[&frame(0xC4, &operate)], Direction::ToServer);
    let expected = [
        "dnp3.function=U64(5)",
        "dnp3.function_name=Str(\"direct_operate\")",
        "dnp3.src=U64(1)",
        "dnp3.dst=U64(10)",
        "dnp3.from_master=Bool(true)",
        "dnp3.crob.index=U64(3)",
        "dnp3.crob.operation=Str(\"pulse_on\")",
    ];
    assert_eq!(s.fields, vec![expected.map(String::from).to_vec()]);
}

#[test]
fn transport_layer_segments() {
    let app = [0xC2, 0x81, 0x00, 0x00]; // response seq 2, no IIN bits
    let one = frame(0x44, &[&[0xC7][..], &app].concat()); // transport: FIN, FIR, sequence 7
    let s = feed(&[&one], Direction::ToClient);
    assert_eq!((s.n("fragments"), s.events.len()), (1, 0));
    // FIR with sequence 63, then FIN with sequence 0: the sequence wraps.
    let mut wrap = frame(0x44, &[&[0x7F][..], &app[..2]].concat()); // FIR, seq 63
    wrap.extend(frame(0x44, &[&[0x80][..], &app[2..]].concat())); // FIN, seq 0
    let s = feed(&[&wrap], Direction::ToClient);
    assert_eq!((s.n("link_frames"), s.n("fragments"), s.events.len()), (2, 1, 0));
    // A middle segment without a first one.
    let orphan = frame(0x44, &[&[0x03][..], &app].concat()); // neither FIR nor FIN, seq 3
    let s = feed(&[&orphan], Direction::ToClient);
    assert_eq!((s.n("fragments"), s.events.as_slice()), (0, &["dnp3.bad_transport_seq"][..]));
}

fn fields(f: &Fragment, bytes: &[u8], object: usize) -> Vec<Vec<(&'static str, String)>> {
    f.objects[object]
        .points(bytes)
        .map(|p| {
            let mut out = Vec::new();
            p.expect("point").fields(&mut |name, v: Value<'_>| out.push((name, format!("{v:?}"))));
            out
        })
        .collect()
}

fn field<'f>(point: &'f [(&'static str, String)], name: &str) -> &'f str {
    point.iter().find(|(n, _)| *n == name).map_or("absent", |(_, v)| v.as_str())
}

#[test]
fn application_layer_points() {
    let resp = [
        0xE3, // application control: FIR, FIN, CON, sequence 3
        0x81, // response
        0x02,
        0x00, // IIN1: class 1 events; IIN2: none
        0x01,
        0x02,
        0x00,
        0x03,
        0x04, // g1v2 binary input with flags, 8-bit start 3, stop 4
        0x81, // point 3: online, state 1
        0x02, // point 4: restart, state 0
        0x14,
        0x01,
        0x17,
        0x01, // g20v1 counter, 8-bit count of 1 with 8-bit index prefix
        0x09, // index 9
        0x01,
        0x2C,
        0x01,
        0x00,
        0x00, // online, count 300
        0x1E,
        0x05,
        0x00,
        0x00,
        0x00, // g30v5 analog float with flags, start 0 stop 0
        0x21,
        0x00,
        0x00,
        0x20,
        0x41, // online + over range, 10.0
        0x20,
        0x07,
        0x28,
        0x01,
        0x00, // g32v7 analog event float with time, 16-bit count 1, 16-bit index
        0x02,
        0x00, // index 2
        0x01,
        0x00,
        0x00,
        0xC0,
        0x3F, // online, 1.5
        0x8B,
        0xA5,
        0x5C,
        0x58,
        0x34,
        0x01, // time 1,324,332,393,867 ms
        0x03,
        0x01,
        0x00,
        0x00,
        0x03,        // g3v1 double-bit packed, start 0 stop 3
        0b1110_0100, // points 0..3: 0, 1, 2, 3
        0x50,
        0x01,
        0x00,
        0x07,
        0x07, // g80v1 IIN bit 7 (device restart)
        0x00, // bit clear
    ];
    let f = parse_fragment(&resp, 64, 64).expect("parses");
    assert_eq!((f.function, f.iin, f.objects.len(), f.points, f.problem), (0x81, Some(0x0002), 6, 10, None));
    let bin = fields(&f, &resp, 0);
    assert_eq!((field(&bin[0], "index"), field(&bin[0], "online"), field(&bin[0], "state")), ("U(3)", "U(1)", "U(1)"));
    assert_eq!((field(&bin[1], "index"), field(&bin[1], "restart"), field(&bin[1], "state")), ("U(4)", "U(1)", "U(0)"));
    let counter = fields(&f, &resp, 1);
    assert_eq!((field(&counter[0], "index"), field(&counter[0], "prefix"), field(&counter[0], "count")), ("U(9)", "U(9)", "U(300)"));
    let analog = fields(&f, &resp, 2);
    assert_eq!((field(&analog[0], "over_range"), field(&analog[0], "value")), ("U(1)", "F(10.0)"));
    let event = fields(&f, &resp, 3);
    assert_eq!((field(&event[0], "index"), field(&event[0], "value")), ("U(2)", "F(1.5)"));
    assert_eq!(field(&event[0], "timestamp"), "U(1324332393867)");
    let double: Vec<_> = fields(&f, &resp, 4).iter().map(|p| field(p, "state").to_string()).collect();
    assert_eq!(double, ["U(0)", "U(1)", "U(2)", "U(3)"]);
    assert_eq!(fields(&f, &resp, 5), vec![vec![("index", "U(7)".to_string()), ("prefix", "U(0)".into()), ("state", "U(0)".into())]]);
}

#[test]
fn control_and_file_objects() {
    let select = [
        0xC0, 0x03, // select, sequence 0
        0x0C, 0x01, 0x17, 0x01, // g12v1 CROB, 8-bit count 1, 8-bit index prefix
        0x04, // index 4
        0x81, // control code: trip (0x80) + pulse on (0x01)
        0x02, // count 2
        0x64, 0x00, 0x00, 0x00, // on 100 ms
        0xC8, 0x00, 0x00, 0x00, // off 200 ms
        0x00, // status: success
        0x29, 0x02, 0x17, 0x01, // g41v2 analog output 16-bit, 8-bit count 1, 8-bit index
        0x01, // index 1
        0x9C, 0xFF, // -100
        0x00, // status
    ];
    let f = parse_fragment(&select, 64, 64).expect("parses");
    let c = f.crobs[0];
    assert_eq!((c.index, c.operation(), c.trip_close(), c.count, c.on_time_ms, c.off_time_ms), (4, "pulse_on", "trip", 2, 100, 200));
    let crob = fields(&f, &select, 0);
    assert_eq!((field(&crob[0], "op_type"), field(&crob[0], "tcc"), field(&crob[0], "status_code")), ("U(1)", "U(2)", "U(0)"));
    assert_eq!((f.analog_outputs[0].index, f.analog_outputs[0].value), (1, -100.0));
    let mut open = vec![
        0xCE, 0x19, // open file, sequence 14
        0x46, 0x03, 0x5B, 0x01, // g70v3 file command, 8-bit count 1, 16-bit size prefix
        0x1E, 0x00, // object size 30
        0x1A, 0x00, // filename offset 26
        0x04, 0x00, // filename size 4
        0, 0, 0, 0, 0, 0, // created
        0xA4, 0x01, // permissions 0644
        0, 0, 0, 0, // authentication key
        0, 0, 0, 0, // file size
        0x01, 0x00, // mode: read
        0x00, 0x04, // maximum block size 1024
        0x04, 0x00, // request id 4
    ];
    open.extend_from_slice(b"a.db");
    let f = parse_fragment(&open, 64, 64).expect("parses");
    let file = fields(&f, &open, 0);
    assert_eq!(
        (field(&file[0], "size"), field(&file[0], "maximum_block_size"), field(&file[0], "filename")),
        ("U(30)", "U(1024)", "Text([97, 46, 100, 98])")
    );
    // A READ names points by index prefix only: no values follow.
    let read = [0xC1, 0x01, 0x01, 0x02, 0x17, 0x02, 0x05, 0x07]; // read g1v2, count 2: indexes 5 and 7
    let f = parse_fragment(&read, 64, 64).expect("parses");
    let idx: Vec<_> = fields(&f, &read, 0).iter().map(|p| field(p, "index").to_string()).collect();
    assert_eq!((idx, f.problem), (vec!["U(5)".to_string(), "U(7)".into()], None));
}

#[test]
fn caps_on_points_and_objects() {
    let mut many = vec![0xC0, 0x81, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x09]; // g1v2, 10 points
    many.extend([0x01; 10]);
    let f = parse_fragment(&many, 64, 8).expect("parses");
    assert_eq!(f.problem.map(|p| p.0.name()), Some("dnp3.too_many_points"));
    let read: Vec<u8> = [0xC0, 0x01].into_iter().chain((0..5).flat_map(|_| [0x3C, 0x02, 0x06])).collect(); // 5 class polls
    let f = parse_fragment(&read, 4, 64).expect("parses");
    assert_eq!((f.objects.len(), f.problem.map(|p| p.0.name())), (4, Some("dnp3.too_many_objects")));
}

#[test]
fn every_split_of_a_multi_frame_stream_gives_the_same_records() {
    // A read, then a response in two transport segments, then a link status frame.
    let mut stream = frame(0xC4, &[0xC0, 0xC1, 0x01, 0x3C, 0x01, 0x06]);
    let mut app = vec![0xC1, 0x81, 0x00, 0x00, 0x1E, 0x02, 0x00, 0x00, 0x09];
    app.extend((0..10).flat_map(|i| [0x01, i, 0x00]));
    let (a, b) = app.split_at(20);
    let response = [frame(0x44, &[&[0x40][..], a].concat()), frame(0x44, &[&[0x81][..], b].concat())].concat();
    let status = frame(0x49, &[]); // request link status
    stream.extend_from_slice(&response);
    stream.extend_from_slice(&status);
    let whole = feed(&[&stream], Direction::ToServer);
    assert_eq!((whole.n("link_frames"), whole.records.len(), whole.events.len()), (4, 2, 0));
    assert_eq!(
        whole.records[1]["application"]["objects"][0]["points"][9],
        json!({"index": 9, "prefix": 0, "flags": 1, "online": 1,
        "restart": 0, "comm_lost": 0, "remote_forced": 0, "local_forced": 0, "over_range": 0, "reference_err": 0, "reserved0": 0, "value": 9})
    );
    let mut splits = 0;
    for i in 1..stream.len() {
        for j in i..stream.len() {
            let s = feed(&[&stream[..i], &stream[i..j], &stream[j..]], Direction::ToServer);
            assert_eq!((&s.records, &s.events, s.n("link_frames")), (&whole.records, &whole.events, 4), "split at {i}, {j}");
            splits += 1;
        }
    }
    assert!(splits > 3000, "{splits}");
}

/// Found by fuzzing (fuzz/corpus/dnp3_app/crash-packed-points-beyond-cap): 1,024 packed
/// binary inputs against a cap of 256 points. The walk stops at the cap, and so must the
/// points a record reports, though all 128 packed bytes were taken.
#[test]
fn packed_points_past_the_cap_are_not_reported() {
    let mut resp = vec![
        0xC0, 0x81, 0x00, 0x00, // response, no IIN
        0x01, 0x01, 0x01, // g1v1 packed binary inputs, 16-bit start and stop
        0x00, 0x00, 0xFF, 0x03, // 0 to 1023
    ];
    resp.extend([0xAA; 128]);
    let f = parse_fragment(&resp, 64, 256).expect("parses");
    assert_eq!(f.problem.as_ref().map(|p| p.0.name()), Some("dnp3.too_many_points"));
    assert_eq!((f.objects[0].count, f.objects[0].walked, f.objects[0].points(&resp).count()), (1024, 256, 256));
}

/// Found by fuzzing (fuzz/corpus/dnp3_app/crash-full-32-bit-range): a 32-bit range from 0
/// to 0xFFFFFFFF names 2^32 points, one more than a u32 holds. The count saturates and
/// the walk stops at the points cap.
#[test]
fn a_full_32_bit_range_does_not_overflow_the_count() {
    let mut resp = vec![
        0xC0, 0x81, 0x00, 0x00, // response, no IIN
        0x3C, 0x01, 0x02, // g60v1 (class 0, no data), 32-bit start and stop
        0x00, 0x00, 0x00, 0x00, // start 0
        0xFF, 0xFF, 0xFF, 0xFF, // stop 0xFFFFFFFF
    ];
    resp.extend([0x00; 4]);
    let f = parse_fragment(&resp, 64, 256).expect("parses");
    assert_eq!(f.objects[0].count, u32::MAX);
    assert_eq!(f.problem.as_ref().map(|p| p.0.name()), Some("dnp3.too_many_points"));
}
