//! No input panics the DNP3 dissector, and every pass over a stream makes progress.
use otsentry_core::{Direction, Dissector, PduEvent, PduSink, ProtocolCounts, StreamCx, Timestamp};
use otsentry_proto_dnp3::{crc16, Dnp3Config, Dnp3Dissector};
use proptest::prelude::*;

#[derive(Default)]
struct Sink {
    counts: ProtocolCounts,
    events: Vec<&'static str>,
}

impl Sink {
    /// A counter of the summary's `dnp3` section.
    fn n(&self, counter: &str) -> u64 {
        self.counts.get("dnp3").map_or(0, |s| s.count(counter))
    }
}

impl PduSink for Sink {
    fn pdu<E: PduEvent>(&mut self, _cx: &StreamCx, e: &E) {
        serde_json::to_vec(e.body()).expect("record serialises");
    }
    fn counts(&mut self) -> &mut ProtocolCounts {
        &mut self.counts
    }
    fn anomaly(&mut self, _cx: &StreamCx, event: &'static str, _offset: u64, _reason: std::fmt::Arguments<'_>) {
        self.events.push(event);
    }
}

/// A link frame from 1 to 10 around `user` data, CRCs computed.
fn frame(control: u8, user: &[u8]) -> Vec<u8> {
    otsentry_pcapgen::ot::dnp3_frame(control, 10, 1, user)
}

fn run(stream: &[u8], dir: Direction) -> Sink {
    let mut d = Dnp3Dissector::new(Dnp3Config::default());
    let mut sink = Sink::default();
    let mut at = 0;
    // Offer what is left until no progress, as the engine's pending buffer would.
    while at < stream.len() {
        let used = d.parse(&StreamCx { ts: Timestamp::default(), dir, offset: at as u64 }, &stream[at..], &mut sink);
        assert!(used <= stream.len() - at);
        if used == 0 {
            break;
        }
        at += used;
    }
    d.finish(Timestamp::default(), &mut sink);
    sink
}

#[test]
fn a_read_and_a_multi_segment_response() {
    // Read class 0: transport FIR|FIN seq 0, app FIR|FIN seq 1, read, g60v1 all.
    let read = frame(0xC4, &[0xC0, 0xC1, 0x01, 0x3C, 0x01, 0x06]);
    let s = run(&read, Direction::ToServer);
    assert_eq!((s.n("link_frames"), s.n("fragments")), (1, 1));
    assert_eq!(s.counts.get("dnp3").unwrap().codes("functions").unwrap().get("1"), Some(&1));
    // A response split over two transport segments (FIR then FIN).
    let mut app = vec![0xC1, 0x81, 0x00, 0x00, 0x1E, 0x02, 0x00, 0x00, 0x09];
    app.extend((0..10).flat_map(|i| [0x01, i, 0x00]));
    let (a, b) = app.split_at(20);
    let mut stream = frame(0x44, &[&[0x40][..], a].concat());
    stream.extend(frame(0x44, &[&[0x81][..], b].concat()));
    let s = run(&stream, Direction::ToClient);
    assert_eq!((s.n("link_frames"), s.n("fragments"), s.events.len()), (2, 1, 0));
    // Out of sequence: the second segment claims sequence 5.
    let mut bad = frame(0x44, &[&[0x40][..], a].concat());
    bad.extend(frame(0x44, &[&[0x85][..], b].concat()));
    let s = run(&bad, Direction::ToClient);
    assert_eq!((s.n("fragments"), s.events.as_slice()), (0, &["dnp3.bad_transport_seq"][..]));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]
    #[test]
    fn arbitrary_bytes_never_panic(data in prop::collection::vec(any::<u8>(), 0..700), to_client in any::<bool>()) {
        run(&data, if to_client { Direction::ToClient } else { Direction::ToServer });
    }

    #[test]
    fn valid_frames_with_random_user_data_never_panic(
        user in prop::collection::vec(prop::collection::vec(any::<u8>(), 1..250), 1..6),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..3),
    ) {
        let mut stream: Vec<u8> = user.iter().flat_map(|u| frame(0xC4, u)).collect();
        for (i, x) in flips {
            let at = i.index(stream.len());
            stream[at] ^= x;
        }
        let s = run(&stream, Direction::ToServer);
        prop_assert!(s.n("fragments") <= s.n("link_frames"));
    }
}

#[test]
fn fragments_in_progress_are_capped_per_flow() {
    // 20 address pairs each start a fragment (FIR without FIN): the oldest give way.
    let mut stream = Vec::new();
    for src in 0..20u16 {
        let mut f = vec![0x05, 0x64, 8, 0xC4, 0x01, 0x00];
        f.extend_from_slice(&(100 + src).to_le_bytes());
        let c = crc16(&f).to_le_bytes();
        f.extend_from_slice(&c);
        let user = [0x40, 0xC0, 0x01]; // transport FIR only, then two application bytes
        f.extend_from_slice(&user);
        f.extend_from_slice(&crc16(&user).to_le_bytes());
        stream.extend(f);
    }
    let s = run(&stream, Direction::ToServer);
    assert_eq!(s.n("link_frames"), 20);
    assert_eq!(s.events.iter().filter(|e| **e == "dnp3.reassembly_overflow").count(), 4);
}
