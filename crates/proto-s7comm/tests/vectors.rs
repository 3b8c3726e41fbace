//! Hex vectors through the S7 dissector, a comment per field; every split point of a
//! multi-TPKT stream; reassembly across data TPDUs; malformed inputs raise their events;
//! arbitrary input never panics.
use otsentry_core::{Direction, Dissector, PduEvent, PduSink, Pending, ProtocolCounts, StreamCx, Timestamp};
use otsentry_pcapgen::ot::{s7_pdu, tpkt_cotp};
use otsentry_proto_s7comm::{S7Config, S7Dissector};
use proptest::prelude::*;
use serde_json::Value;

#[derive(Default)]
struct Sink {
    counts: ProtocolCounts,
    records: Vec<(&'static str, Value)>,
    events: Vec<(&'static str, String)>,
    /// What rules read from each event: the fields that are set, by name.
    fields: Vec<Vec<(&'static str, String)>>,
}

/// The field names rules may use on S7 events.
const FIELDS: [&str; 16] = [
    "s7comm.rosctr",
    "s7comm.function",
    "s7comm.function_name",
    "s7comm.pdu_ref",
    "s7comm.block_type",
    "s7comm.block_number",
    "s7comm.pi_service",
    "s7comm.item_count",
    "s7comm.item.area",
    "s7comm.item.db",
    "s7comm.error_class",
    "s7comm.userdata.function_group_name",
    "s7comm.userdata.subfunction_name",
    "s7comm.szl_id",
    "cotp.type",
    "cotp.slot",
];

impl Sink {
    /// A counter of the summary's `section`.
    fn n(&self, section: &str, counter: &str) -> u64 {
        self.counts.get(section).map_or(0, |s| s.count(counter))
    }
}

impl PduSink for Sink {
    fn pdu<E: PduEvent>(&mut self, _cx: &StreamCx, e: &E) {
        self.records.push((e.event_type(), serde_json::to_value(e.body()).expect("record serialises")));
        self.fields.push(FIELDS.iter().filter_map(|&n| e.field(n).map(|v| (n, format!("{v:?}")))).collect());
    }
    fn counts(&mut self) -> &mut ProtocolCounts {
        &mut self.counts
    }
    fn anomaly(&mut self, _cx: &StreamCx, event: &'static str, _offset: u64, reason: std::fmt::Arguments<'_>) {
        self.events.push((event, reason.to_string()));
    }
}

/// Feed chunks, each with its direction, through the engine's pending buffers.
fn feed(chunks: &[(Direction, &[u8])]) -> Sink {
    let mut d = S7Dissector::new(S7Config::default());
    let mut sink = Sink::default();
    let mut pending = [Pending::default(), Pending::default()];
    let mut offsets = [0u64; 2];
    for (dir, c) in chunks {
        let i = dir.index();
        let cx = StreamCx { ts: Timestamp::default(), dir: *dir, offset: offsets[i] };
        pending[i].feed(&mut d, &cx, c, 65_535, &mut sink);
        offsets[i] += c.len() as u64;
    }
    d.finish(Timestamp::default(), &mut sink);
    sink
}

const CONNECT: [u8; 22] = [
    0x03, 0x00, 0x00, 0x16, // TPKT version 3, length 22
    0x11, 0xE0, // COTP length 17, connection request
    0x00, 0x00, 0x00, 0x01, 0x00, // destination reference, source reference 1, class 0
    0xC1, 0x02, 0x01, 0x00, // calling TSAP 0x0100
    0xC2, 0x02, 0x03, 0x02, // called TSAP: S7 basic (3), rack 0, slot 2
    0xC0, 0x01, 0x0A, // TPDU size 1024
];

#[test]
fn a_session_with_connection_setup_read_and_write() {
    let setup = [
        0x03, 0x00, 0x00, 0x19, // TPKT, length 25
        0x02, 0xF0, 0x80, // COTP DT, EOT, TPDU 0
        0x32, 0x01, 0x00, 0x00, // S7comm, job, reserved
        0x00, 0x00, // PDU reference 0
        0x00, 0x08, 0x00, 0x00, // parameter 8, data 0
        0xF0, 0x00, // setup communication, reserved
        0x00, 0x01, 0x00, 0x01, // max AmQ calling 1, called 1
        0x01, 0xE0, // PDU length 480
    ];
    let setup_ack = tpkt_cotp(&s7_pdu(3, 0, &[0xF0, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0xF0], &[]));
    let write = tpkt_cotp(&s7_pdu(
        1,
        0x0100,
        &[
            0x05, 0x01, // write var, one item
            0x12, 0x0A, 0x10, // specification, 10 bytes, S7ANY
            0x01, 0x00, 0x01, // bit × 1
            0x00, 0x00, 0x82, // no DB, outputs
            0x00, 0x00, 0x0B, // address 1.3
        ],
        &[0x00, 0x03, 0x00, 0x01, 0x01], // reserved, bit size, 1 bit, value 1
    ));
    let write_ack = tpkt_cotp(&s7_pdu(3, 0x0100, &[0x05, 0x01], &[0xFF]));
    let s = feed(&[
        (Direction::ToServer, &CONNECT),
        (Direction::ToServer, &setup),
        (Direction::ToClient, &setup_ack),
        (Direction::ToServer, &write),
        (Direction::ToClient, &write_ack),
    ]);
    assert_eq!(s.events, vec![]);
    assert_eq!(
        (
            s.n("s7comm", "pdus"),
            s.counts.get("s7comm").unwrap().codes("functions").unwrap().get("240"),
            s.counts.get("s7comm").unwrap().codes("functions").unwrap().get("5")
        ),
        (4, Some(&2), Some(&2))
    );
    let kinds: Vec<&str> = s.records.iter().map(|r| r.0).collect();
    assert_eq!(kinds, ["cotp", "s7comm", "s7comm"]);
    let cotp = &s.records[0].1;
    assert_eq!(
        (cotp["type"].as_str(), cotp["rack"].as_u64(), cotp["slot"].as_u64(), cotp["tpdu_size"].as_u64()),
        (Some("CR"), Some(0), Some(2), Some(1024))
    );
    let setup = &s.records[1].1;
    assert_eq!((setup["request"]["pdu_length"].as_u64(), setup["response"]["pdu_length"].as_u64()), (Some(480), Some(240)));
    assert_eq!(setup["error_class_name"], "no_error");
    // An ack-data refusing a read: error class 0x85 (supplies), code 0x04.
    let read = tpkt_cotp(&s7_pdu(1, 9, &[0x04, 0x01, 0x12, 0x0A, 0x10, 0x02, 0x00, 0x01, 0x00, 0x01, 0x84, 0x00, 0x00, 0x00], &[]));
    let mut refusal = s7_pdu(3, 9, &[0x04, 0x00], &[]);
    refusal[10..12].copy_from_slice(&[0x85, 0x04]); // error class, error code
    let r = feed(&[(Direction::ToServer, &read), (Direction::ToClient, &tpkt_cotp(&refusal))]);
    let j = &r.records[0].1;
    assert_eq!(
        (j["error_class"].as_u64(), j["error_class_name"].as_str(), j["error_code"].as_u64()),
        (Some(0x85), Some("supplies"), Some(4))
    );
    let w = &s.records[2].1;
    assert_eq!(w["function_name"], "write_var");
    assert_eq!(w["request"]["items"][0]["area"], "outputs");
    assert_eq!(w["request"]["items"][0]["address"], "1.3");
    assert_eq!(w["request"]["data_items"][0]["data"], "01");
    assert_eq!(w["request"]["data_items"][0]["values"], serde_json::json!([1]));
    assert_eq!(w["response"]["data_items"][0]["return_code_name"], "success");
    assert_eq!((w["rack"].as_u64(), w["slot"].as_u64()), (Some(0), Some(2)));
}

#[test]
fn values_read_by_the_items_transport_size() {
    let write = tpkt_cotp(&s7_pdu(
        1,
        7,
        &[
            0x05, 0x01, // write var, one item
            0x12, 0x0A, 0x10, // specification, 10 bytes, S7ANY
            0x04, 0x00, 0x02, // word × 2
            0x00, 0x01, 0x84, // DB 1, data blocks
            0x00, 0x00, 0x50, // address 10.0
        ],
        &[0x00, 0x04, 0x00, 0x20, 0x7F, 0xFF, 0x00, 0x2A], // reserved, word size, 32 bits, 32767, 42
    ));
    let read = tpkt_cotp(&s7_pdu(
        1,
        8,
        &[
            0x04, 0x01, // read var, one item
            0x12, 0x0A, 0x10, // specification, 10 bytes, S7ANY
            0x08, 0x00, 0x01, // real × 1
            0x00, 0x01, 0x84, // DB 1, data blocks
            0x00, 0x00, 0x20, // address 4.0
        ],
        &[],
    ));
    // Ack data: success, real size (octets), 4 bytes, 100.5 (0x42C90000).
    let value = tpkt_cotp(&s7_pdu(3, 8, &[0x04, 0x01], &[0xFF, 0x07, 0x00, 0x04, 0x42, 0xC9, 0x00, 0x00]));
    let s = feed(&[(Direction::ToServer, &write), (Direction::ToServer, &read), (Direction::ToClient, &value)]);
    let read = s.records.iter().map(|r| &r.1).find(|r| r["function_name"] == "read_var").expect("read record");
    assert_eq!(read["response"]["data_items"][0]["data"], "42c90000");
    assert_eq!(read["response"]["data_items"][0]["value_type"], "real");
    assert_eq!(read["response"]["data_items"][0]["values"], serde_json::json!([100.5]));
    // The write is unanswered: its record comes at the end, its two words as two values.
    let write = s.records.iter().map(|r| &r.1).find(|r| r["function_name"] == "write_var").expect("write record");
    assert_eq!(write["status"], "unanswered");
    assert_eq!(write["request"]["data_items"][0]["value_type"], "word");
    assert_eq!(write["request"]["data_items"][0]["values"], serde_json::json!([32767, 42]));
}

#[test]
fn rules_read_the_fields_by_name() {
    let write = tpkt_cotp(&s7_pdu(
        1,
        0x0100,
        &[0x05, 0x01, 0x12, 0x0A, 0x10, 0x01, 0x00, 0x01, 0x00, 0x07, 0x84, 0x00, 0x00, 0x0B],
        &[0x00, 0x03, 0x00, 0x01, 0x01],
    ));
    let ack = tpkt_cotp(&s7_pdu(3, 0x0100, &[0x05, 0x01], &[0xFF]));
    let szl =
        tpkt_cotp(&s7_pdu(7, 2, &[0x00, 0x01, 0x12, 0x04, 0x11, 0x44, 0x01, 0x00], &[0xFF, 0x09, 0x00, 0x04, 0x00, 0x11, 0x00, 0x00]));
    let s =
        feed(&[(Direction::ToServer, &CONNECT), (Direction::ToServer, &write), (Direction::ToClient, &ack), (Direction::ToServer, &szl)]);
    let get = |i: usize, name: &str| s.fields[i].iter().find(|f| f.0 == name).map(|f| f.1.as_str());
    assert_eq!((get(0, "cotp.type"), get(0, "cotp.slot")), (Some("Str(\"CR\")"), Some("U64(2)")));
    assert_eq!(get(1, "s7comm.function_name"), Some("Str(\"write_var\")"));
    assert_eq!((get(1, "s7comm.item.area"), get(1, "s7comm.item.db")), (Some("Str(\"data_blocks\")"), Some("U64(7)")));
    assert_eq!((get(1, "s7comm.item_count"), get(1, "s7comm.error_class")), (Some("U64(1)"), Some("U64(0)")));
    assert_eq!(get(2, "s7comm.userdata.subfunction_name"), Some("Str(\"read_szl\")"));
    assert_eq!(get(2, "s7comm.szl_id"), Some("U64(17)"));
    assert_eq!(get(2, "s7comm.function"), None, "user data has no job function");
}

#[test]
fn disconnects_and_cotp_errors_are_events() {
    let dr = [
        0x03, 0x00, 0x00, 0x0B, // TPKT, length 11
        0x06, 0x80, // COTP length 6, disconnect request
        0x00, 0x01, 0x00, 0x02, // destination and source references
        0x80, // reason: normal
    ];
    let er = [
        0x03, 0x00, 0x00, 0x0A, // TPKT, length 10
        0x05, 0x70, // COTP length 5, error
        0x00, 0x01, // destination reference
        0x02, // cause: invalid parameter code
        0x00,
    ];
    let s = feed(&[(Direction::ToServer, &[&dr[..], &er].concat())]);
    let kinds: Vec<(&str, Option<u64>)> = s.records.iter().map(|r| (r.0, r.1["reason"].as_u64())).collect();
    assert_eq!(kinds, [("cotp", Some(0x80)), ("cotp", Some(2))]);
    assert_eq!((s.records[0].1["type"].as_str(), s.records[1].1["type"].as_str()), (Some("DR"), Some("ER")));
}

#[test]
fn a_pdu_split_over_two_data_tpdus_is_reassembled() {
    let pdu = s7_pdu(1, 7, &[0x29, 0, 0, 0, 0, 0, 9, b'P', b'_', b'P', b'R', b'O', b'G', b'R', b'A', b'M'], &[]);
    let (a, b) = pdu.split_at(12);
    let mut first = vec![0x03, 0x00, 0x00, (7 + a.len()) as u8, 0x02, 0xF0, 0x00]; // DT, no EOT, TPDU 0
    first.extend_from_slice(a);
    let mut second = vec![0x03, 0x00, 0x00, (7 + b.len()) as u8, 0x02, 0xF0, 0x81]; // DT, EOT, TPDU 1
    second.extend_from_slice(b);
    let s = feed(&[(Direction::ToServer, &[first.as_slice(), &second].concat())]);
    assert_eq!((s.n("s7comm", "pdus"), s.events.len()), (1, 0));
    assert_eq!(s.records[0].1["request"]["pi_service"], "P_PROGRAM");
    assert_eq!(s.records[0].1["status"], "unanswered");
    // Endless continuation: the cap drops it, counted.
    let mut flood = Vec::new();
    for _ in 0..100 {
        flood.extend_from_slice(&[0x03, 0x00, 0x00, 107, 0x02, 0xF0, 0x00]);
        flood.extend_from_slice(&[0x32; 100]);
    }
    flood.extend_from_slice(&[0x03, 0x00, 0x00, 17, 0x02, 0xF0, 0x80]); // its last data TPDU
    flood.extend_from_slice(&[0x32; 10]);
    let s = feed(&[(Direction::ToServer, &flood)]);
    let events: Vec<&str> = s.events.iter().map(|e| e.0).collect();
    assert_eq!((events, s.n("s7comm", "pdus")), (vec!["s7comm.reassembly_overflow"], 0), "the rest up to the end is skipped");
    // An empty data TPDU without EOT ahead of a PDU (libnodave sends one) is nothing.
    let stop = otsentry_pcapgen::ot::s7_plc_stop(3);
    let s = feed(&[(Direction::ToServer, &[&[0x03, 0x00, 0x00, 0x07, 0x02, 0xF0, 0x00][..], &stop].concat())]);
    assert_eq!((s.n("s7comm", "pdus"), s.events.len()), (1, 0));
    // An S7comm-plus PDU over two data TPDUs: identified by the first, the second skipped.
    let mut plus = vec![0x03, 0x00, 0x00, 20, 0x02, 0xF0, 0x00]; // DT, no EOT
    plus.extend_from_slice(&[0x72, 0x01, 0x00, 0x20, 0x31, 0x00, 0x00, 0x05, 0x4C, 0x00, 0x00, 0x00, 0x02]);
    plus.extend_from_slice(&[0x03, 0x00, 0x00, 12, 0x02, 0xF0, 0x81, 0x99, 0x98, 0x97, 0x96, 0x95]); // DT, EOT: the rest
    let s = feed(&[(Direction::ToServer, &plus)]);
    assert_eq!((s.n("s7comm_plus", "pdus"), s.events.len()), (1, 0));
    assert_eq!(s.records[0].1["function_name"], "get_multi_variables");
}

#[test]
fn every_split_of_a_multi_tpkt_stream_gives_the_same_records() {
    let read = tpkt_cotp(&s7_pdu(1, 1, &[0x04, 0x01, 0x12, 0x0A, 0x10, 0x02, 0x00, 0x04, 0x00, 0x01, 0x84, 0x00, 0x00, 0x50], &[]));
    let szl =
        tpkt_cotp(&s7_pdu(7, 2, &[0x00, 0x01, 0x12, 0x04, 0x11, 0x44, 0x01, 0x00], &[0xFF, 0x09, 0x00, 0x04, 0x00, 0x11, 0x00, 0x00]));
    let stream = [&CONNECT[..], &read, &szl].concat();
    let whole = feed(&[(Direction::ToServer, &stream)]);
    assert_eq!((whole.records.len(), whole.events.len(), whole.n("s7comm", "pdus")), (3, 0, 2));
    let mut splits = 0;
    for i in 1..stream.len() {
        for j in i..stream.len() {
            let parts = [(Direction::ToServer, &stream[..i]), (Direction::ToServer, &stream[i..j]), (Direction::ToServer, &stream[j..])];
            let s = feed(&parts);
            assert_eq!((&s.records, &s.events), (&whole.records, &whole.events), "split at {i}, {j}");
            splits += 1;
        }
    }
    assert!(splits > 2000, "{splits}");
}

#[test]
fn malformed_inputs_raise_their_events_and_parsing_resumes() {
    let stop = otsentry_pcapgen::ot::s7_plc_stop(9);
    let events = |chunks: &[u8]| -> Vec<&'static str> { feed(&[(Direction::ToServer, chunks)]).events.into_iter().map(|e| e.0).collect() };
    // Garbage, then a good PDU: the garbage is skipped and reported, the PDU still read.
    let s = feed(&[(Direction::ToServer, &[&[0x99, 0x98, 0x97][..], &stop].concat())]);
    assert_eq!(s.events.iter().map(|e| e.0).collect::<Vec<_>>(), ["s7comm.bad_tpkt_version", "s7comm.resync"]);
    assert_eq!(s.events[1].1, "3 bytes skipped to the next TPKT header");
    assert_eq!(s.n("s7comm", "pdus"), 1);
    // A TPKT length below 7.
    assert_eq!(events(&[&[0x03, 0x00, 0x00, 0x05][..], &stop].concat())[0], "s7comm.bad_tpkt_length");
    // A COTP length indicator past the TPKT.
    assert_eq!(events(&[0x03, 0x00, 0x00, 0x08, 0x09, 0xF0, 0x80, 0x32]), ["s7comm.cotp_length"]);
    // Declared parameter and data lengths that disagree with the PDU (and so the one item
    // the read announces is missing).
    let mut short = s7_pdu(1, 3, &[0x04, 0x01], &[]);
    short[7] = 0x20; // parameter length 32
    assert_eq!(events(&tpkt_cotp(&short)), ["s7comm.length_mismatch", "s7comm.item_count_mismatch"]);
    // A setup communication parameter cut short, and a read value longer than the data.
    assert_eq!(events(&tpkt_cotp(&s7_pdu(1, 1, &[0xF0, 0x00, 0x00, 0x01], &[]))), ["s7comm.param_overrun"]);
    assert_eq!(events(&tpkt_cotp(&s7_pdu(3, 1, &[0x04, 0x01], &[0xFF, 0x04, 0x00, 0x40, 0x01]))), ["s7comm.data_overrun"]);
    // An unknown ROSCTR and an unknown function.
    assert_eq!(events(&tpkt_cotp(&s7_pdu(5, 1, &[], &[]))), ["s7comm.unknown_rosctr"]);
    assert_eq!(events(&tpkt_cotp(&s7_pdu(1, 1, &[0x77], &[]))), ["s7comm.unknown_function"]);
    // Two items announced, one present.
    let one_item = s7_pdu(1, 4, &[0x04, 0x02, 0x12, 0x0A, 0x10, 0x02, 0x00, 0x01, 0x00, 0x01, 0x84, 0x00, 0x00, 0x00], &[]);
    assert_eq!(events(&tpkt_cotp(&one_item)), ["s7comm.item_count_mismatch"]);
    // A data TPDU that is neither S7comm nor S7comm-plus.
    assert_eq!(events(&tpkt_cotp(&[0x45, 0x00])), ["s7comm.unknown_protocol"]);
}

#[test]
fn after_a_gap_parsing_resumes_at_the_next_tpkt() {
    let stop = otsentry_pcapgen::ot::s7_plc_stop(5);
    let mut d = S7Dissector::new(S7Config::default());
    let mut sink = Sink::default();
    let mut pending = Pending::default();
    let cx = |offset| StreamCx { ts: Timestamp::default(), dir: Direction::ToServer, offset };
    pending.feed(&mut d, &cx(0), &stop[..10], 65_535, &mut sink);
    pending.gap(&mut d, &cx(10), 40, &mut sink);
    // The middle of a lost PDU, then a whole one.
    let resumed = [&stop[15..], &stop[..]].concat();
    pending.feed(&mut d, &cx(50), &resumed, 65_535, &mut sink);
    d.finish(Timestamp::default(), &mut sink);
    let events: Vec<&str> = sink.events.iter().map(|e| e.0).collect();
    assert_eq!(events, ["s7comm.resync"], "the resumed bytes are skipped, not read as a bad TPKT");
    assert_eq!(sink.events[0].1, format!("{} bytes skipped to the next TPKT header", stop.len() - 15));
    assert_eq!(sink.n("s7comm", "pdus"), 1);
}

#[test]
fn an_ack_seen_before_its_job_is_paired_or_reported_unmatched() {
    let job = otsentry_pcapgen::ot::s7_plc_stop(6);
    let ack = tpkt_cotp(&s7_pdu(2, 6, &[], &[])); // an ack without parameter
    let at = |secs| StreamCx { ts: Timestamp::from_secs_nanos(secs, 0), dir: Direction::ToServer, offset: 0 };
    let run = |job_at: i64| {
        let mut d = S7Dissector::new(S7Config::default());
        let mut sink = Sink::default();
        d.parse(&StreamCx { dir: Direction::ToClient, ..at(100) }, &ack, &mut sink);
        d.parse(&at(job_at), &job, &mut sink);
        d.finish(Timestamp::from_secs_nanos(200, 0), &mut sink);
        sink.records.iter().map(|r| r.1["status"].as_str().unwrap_or("").to_string()).collect::<Vec<_>>()
    };
    // Delivered a second late (a capture gap on the client's side): one complete job.
    assert_eq!(run(101), ["complete"]);
    // Never within the wait: the ack alone, then the job alone.
    assert_eq!(run(150), ["unmatched", "unanswered"]);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]
    #[test]
    fn arbitrary_bytes_never_panic(data in prop::collection::vec(any::<u8>(), 0..600), to_client in any::<bool>()) {
        let dir = if to_client { Direction::ToClient } else { Direction::ToServer };
        let mut d = S7Dissector::new(S7Config::default());
        let mut sink = Sink::default();
        let used = d.parse(&StreamCx { ts: Timestamp::default(), dir, offset: 0 }, &data, &mut sink);
        prop_assert!(used <= data.len());
        d.finish(Timestamp::default(), &mut sink);
    }

    #[test]
    fn valid_tpkts_around_random_pdus_never_panic(
        pdus in prop::collection::vec((1u8..8, prop::collection::vec(any::<u8>(), 0..60), prop::collection::vec(any::<u8>(), 0..60)), 1..6),
    ) {
        let stream: Vec<u8> = pdus.iter().flat_map(|(rosctr, p, d)| tpkt_cotp(&s7_pdu(*rosctr, 1, p, d))).collect();
        let s = feed(&[(Direction::ToServer, &stream)]);
        prop_assert_eq!(s.n("s7comm", "pdus"), pdus.len() as u64);
    }
}

#[test]
fn a_forged_tpkt_length_cannot_hide_the_packet_behind_it() {
    // A read of DB1 whose TPKT length also covers a PLC stop and four bytes of padding.
    let read = tpkt_cotp(&s7_pdu(1, 2, &[0x04, 0x01, 0x12, 0x0A, 0x10, 0x02, 0x00, 0x01, 0x00, 0x01, 0x84, 0x00, 0x00, 0x00], &[]));
    let stop = otsentry_pcapgen::ot::s7_plc_stop(3);
    let mut forged = read.clone();
    forged.extend_from_slice(&stop);
    forged.extend_from_slice(&[0, 0, 0, 0]);
    let total = u16::try_from(forged.len()).expect("short");
    forged[2..4].copy_from_slice(&total.to_be_bytes()); // TPKT length: all of it
    let s = feed(&[(Direction::ToServer, &forged)]);
    assert_eq!(s.events.first().map(|e| e.0), Some("s7comm.bad_tpkt_length"), "{:?}", s.events);
    assert_eq!(s.n("s7comm", "pdus"), 2, "the read and the hidden stop");
    assert!(s.records.iter().any(|(_, r)| r["function_name"] == "plc_stop" || r.to_string().contains("plc_stop")), "{:?}", s.records);
    // Every split point gives the same PDUs.
    for cut in 1..forged.len() {
        let s = feed(&[(Direction::ToServer, &forged[..cut]), (Direction::ToServer, &forged[cut..])]);
        assert_eq!(s.n("s7comm", "pdus"), 2, "cut at {cut}");
    }
    // A TPKT that only pads its PDU (nothing framing as a TPKT after it) stays whole.
    let mut padded = read.clone();
    padded.extend_from_slice(&[0; 8]);
    let total = u16::try_from(padded.len()).expect("short");
    padded[2..4].copy_from_slice(&total.to_be_bytes());
    let s = feed(&[(Direction::ToServer, &padded)]);
    assert_eq!(s.events.iter().map(|e| e.0).collect::<Vec<_>>(), ["s7comm.length_mismatch"]);
}
