//! The fuzz harness, shared by the cargo-fuzz target and the corpus replay test.

use crate::{Dnp3Config, Dnp3Dissector};
use otsentry_core::harness::{conversation, SerializingSink};

/// Feed `data` to one flow's dissector in chunks: each chunk's first byte picks the
/// direction (bit 0), a gap before it (bit 1), a datagram rather than stream bytes
/// (bit 2) and its length (the rest, at most 31).
/// Returns the link frames and fragments seen.
pub fn run(data: &[u8]) -> (u64, u64) {
    let mut d = Dnp3Dissector::new(Dnp3Config { max_fragment: 2048, max_objects: 64, max_points: 256 });
    let mut sink = SerializingSink::default();
    conversation(&mut d, data, true, 1024, &mut sink);
    let c = sink.counts.get("dnp3").expect("finish publishes the section");
    let (frames, fragments) = (c.count("link_frames"), c.count("fragments"));
    assert!(fragments <= frames);
    (frames, fragments)
}

/// The link layer alone: scan `data` for frames as the dissector does. Returns the frames
/// that framed; every frame's wire length lies within what was left.
pub fn link_layer(data: &[u8]) -> usize {
    let mut frames = 0;
    let mut rest = data;
    while !rest.is_empty() {
        let advance = match crate::link::link(rest) {
            crate::link::Link::Frame(f) => {
                assert!(f.wire_len >= crate::LINK_HEADER_LEN && f.wire_len <= rest.len());
                assert!(f.user_data().len() <= usize::from(f.length).saturating_sub(5));
                frames += 1;
                f.wire_len
            }
            crate::link::Link::NeedMore => break,
            crate::link::Link::Bad(_) => 1,
        };
        rest = rest.get(advance..).unwrap_or_default();
    }
    frames
}

/// The application layer alone: `data` is one reassembled fragment. Every point of every
/// object is decoded and the record written. Returns the points walked.
pub fn application(data: &[u8]) -> usize {
    let Ok(f) = crate::app::parse_fragment(data, 64, 256) else { return 0 };
    let mut points = 0;
    for o in &f.objects {
        assert!(o.data.end <= data.len() && o.data.start <= o.data.end);
        for p in o.points(data).map_while(Result::ok) {
            p.fields(&mut |_, _| {});
            points += 1;
        }
    }
    assert!(points <= f.points.max(256));
    let e = crate::FragmentEvent {
        tx_id: 1,
        source: 1,
        destination: 10,
        from_master: true,
        link_control: 0xC4,
        fragment: &f,
        bytes: data,
        master_seen: true,
        response_time_us: None,
    };
    let _ = serde_json::to_vec(&e);
    points
}
